//! JSON lines: one object per line, fields chosen by name. IDs may be
//! strings or numbers; the rating must be a number.

use std::io::{BufRead, Read};
use std::path::Path;

use serde_json::{Map, Value};

use super::{
    normalise, Column, LoadOptions, RatingColumn, Sink, Text, ITEM_NAMES, RATING_NAMES, TIMESTAMP_NAMES, USER_NAMES,
};
use gramrec_core::{Error, Result};

struct Fields {
    /// None for an items-only file.
    user: Option<String>,
    item: String,
    rating: Option<String>,
    timestamp: Option<String>,
    /// The item fields' names, where found.
    details: Vec<Option<String>>,
}

fn pick(obj: &Map<String, Value>, col: &Option<Column>, names: &[&str], what: &str) -> Result<Option<String>> {
    match col {
        Some(Column::Name(n)) => Ok(Some(n.clone())),
        Some(Column::Index(_)) => {
            Err(Error::Argument(format!("{} must be a field name for JSON lines input", super::column_setting(what))))
        }
        None => Ok(obj.keys().find(|k| names.contains(&normalise(k).as_str())).cloned()),
    }
}

fn id<'v>(sink: &Sink<'_>, line: u64, obj: &'v Map<String, Value>, field: &str) -> Result<std::borrow::Cow<'v, str>> {
    match obj.get(field) {
        Some(Value::String(s)) => Ok(s.as_str().into()),
        Some(Value::Number(n)) => Ok(n.to_string().into()),
        Some(other) => Err(sink.reject(
            line,
            "wrong field type",
            format!("field '{field}' must be a string or a number, not {}", kind(other)),
        )),
        None => Err(sink.reject(line, "missing field", format!("missing field '{field}'"))),
    }
}

/// How a numeric field is read and what its problems are called.
struct NumberField {
    /// The kind of problem for a value that is not a usable number.
    bad: &'static str,
    /// The kind of problem for a value of another JSON type.
    wrong_type: &'static str,
    /// What the field must be, for messages.
    expected: &'static str,
    /// Reads the field's text when it is a string.
    text: fn(&Sink<'_>, u64, &str) -> Result<f64>,
}

const RATING: NumberField = NumberField {
    bad: "rating not finite",
    wrong_type: "wrong field type",
    expected: "a number",
    text: |sink, line, s| sink.rating(line, s).map(f64::from),
};

const TIMESTAMP: NumberField = NumberField {
    bad: "bad timestamp",
    wrong_type: "bad timestamp",
    expected: "a number or a date",
    text: |sink, line, s| sink.timestamp(line, s),
};

/// The number in `field` of `obj`: a finite JSON number, or a string the
/// field's `text` reads.
fn number(sink: &Sink<'_>, line: u64, obj: &Map<String, Value>, field: &str, how: &NumberField) -> Result<f64> {
    match obj.get(field) {
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|v| v.is_finite())
            .ok_or_else(|| sink.reject(line, how.bad, format!("field '{field}' is not a finite number"))),
        Some(Value::String(s)) => (how.text)(sink, line, s),
        Some(other) => Err(sink.reject(
            line,
            how.wrong_type,
            format!("field '{field}' must be {}, not {}", how.expected, kind(other)),
        )),
        None => Err(sink.reject(line, "missing field", format!("missing field '{field}'"))),
    }
}

/// The text of each item-detail field of `obj` ("" where absent or null).
fn detail_values<'v>(
    sink: &Sink<'_>,
    line: u64,
    obj: &'v Map<String, Value>,
    fields: &[Option<String>],
) -> Result<Vec<std::borrow::Cow<'v, str>>> {
    fields
        .iter()
        .map(|f| match f.as_deref().and_then(|f| obj.get(f).map(|v| (f, v))) {
            None | Some((_, Value::Null)) => Ok("".into()),
            Some((f, _)) => id(sink, line, obj, f),
        })
        .collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(super) fn read(text: Text<'_>, opts: &LoadOptions, sink: &mut Sink<'_>) -> Result<()> {
    let mut fields: Option<Fields> = None;
    let path = sink.path;
    super::for_each_line(text.reader, path, |line, buf| {
        let outcome = (|| -> Result<()> {
            if buf.iter().all(|b| b.is_ascii_whitespace()) {
                return Ok(());
            }
            let obj: Map<String, Value> = serde_json::from_slice(buf).map_err(|e| {
                sink.reject(
                    line,
                    "not a JSON object",
                    format!("not a JSON object: {}", e.to_string().split(" at line").next().unwrap_or("")),
                )
            })?;
            if fields.is_none() {
                let missing = |what: &str| {
                    sink.err(
                        line,
                        format!("cannot tell which field is the {what}: name it with {}", super::column_setting(what)),
                    )
                };
                let user = if opts.items_only {
                    None
                } else {
                    Some(pick(&obj, &opts.user, USER_NAMES, "user")?.ok_or_else(|| missing("user"))?)
                };
                let item = pick(&obj, &opts.item, ITEM_NAMES, "item")?.ok_or_else(|| missing("item"))?;
                let details = opts
                    .item_fields
                    .iter()
                    .map(|f| pick(&obj, &f.column, f.known, f.role))
                    .collect::<Result<Vec<_>>>()?;
                let rating = match &opts.rating {
                    _ if opts.items_only => None,
                    RatingColumn::Absent => None,
                    RatingColumn::Column(c) => pick(&obj, &Some(c.clone()), RATING_NAMES, "rating")?,
                    RatingColumn::Auto => pick(&obj, &None, RATING_NAMES, "rating")?,
                };
                let timestamp = if opts.timestamps {
                    let t = pick(&obj, &opts.timestamp, TIMESTAMP_NAMES, "timestamp")?;
                    Some(t.ok_or_else(|| missing("timestamp"))?)
                } else {
                    None
                };
                sink.out.has_ratings = rating.is_some();
                sink.out.item_fields_found = details.iter().map(Option::is_some).collect();
                if let Some(user) = &user {
                    let field = |role, name: &Option<String>, flag: bool, known: &[&str]| {
                        name.as_deref().map(|n| super::ColumnChoice::new(role, Some(n), None, flag, known))
                    };
                    sink.out.columns = [
                        field("user", &Some(user.clone()), opts.user.is_some(), USER_NAMES),
                        field("item", &Some(item.clone()), opts.item.is_some(), ITEM_NAMES),
                        field("rating", &rating, matches!(opts.rating, RatingColumn::Column(_)), RATING_NAMES),
                        field("timestamp", &timestamp, opts.timestamp.is_some(), TIMESTAMP_NAMES),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                }
                fields = Some(Fields { user, item, rating, timestamp, details });
            }
            let f = fields.as_ref().expect("set above");
            let item = id(sink, line, &obj, &f.item)?;
            let Some(user) = &f.user else {
                let details = detail_values(sink, line, &obj, &f.details)?;
                let details: Vec<&str> = details.iter().map(|d| d.as_ref()).collect();
                sink.check_details(line, &details)?;
                return sink.details(line, item.trim(), &details);
            };
            let user = id(sink, line, &obj, user)?;
            let value = match &f.rating {
                None => 1.0,
                Some(r) => {
                    let v = match obj.get(r.as_str()) {
                        Some(Value::Number(n)) if opts.value_map.is_some() => {
                            sink.number_rating(line, n.as_f64().unwrap_or(f64::NAN))?
                        }
                        _ => number(sink, line, &obj, r, &RATING)? as f32,
                    };
                    if !v.is_finite() {
                        let message = format!("field '{r}' is not a finite number (as 32-bit float)");
                        return Err(sink.reject(line, RATING.bad, message));
                    }
                    if !gramrec_core::valid_value(v) {
                        let message = format!("field '{r}' is beyond ±{:e}", gramrec_core::MAX_VALUE);
                        return Err(sink.reject(line, "rating too large", message));
                    }
                    v
                }
            };
            let time = f.timestamp.as_ref().map(|t| number(sink, line, &obj, t, &TIMESTAMP)).transpose()?;
            if f.details.is_empty() {
                return sink.push(line, user.trim(), item.trim(), value, time);
            }
            let details = detail_values(sink, line, &obj, &f.details)?;
            let details: Vec<&str> = details.iter().map(|d| d.as_ref()).collect();
            sink.check_details(line, &details)?;
            sink.push(line, user.trim(), item.trim(), value, time)?;
            sink.details(line, item.trim(), &details)
        })();
        sink.tolerate(outcome)
    })
}

/// Whether `path` is an event log (`serve`'s `events.jsonl`): JSON lines
/// whose first object has a user and an item and no field but those of
/// [`gramrec_core::format::EVENT_LOG_FIELDS`]. Such a file describes itself,
/// so the column flags of another input do not apply to it.
pub fn is_event_log(path: &Path) -> bool {
    let Ok(mut reader) = super::open(path) else { return false };
    let mut line = Vec::new();
    // The first non-blank line, read no further than 64 KiB.
    while line.iter().all(u8::is_ascii_whitespace) {
        line.clear();
        match std::io::Read::by_ref(&mut reader).take(64 << 10).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) => {}
        }
    }
    let Ok(obj) = serde_json::from_slice::<Map<String, Value>>(&line) else { return false };
    let known = gramrec_core::format::EVENT_LOG_FIELDS;
    obj.contains_key("user") && obj.contains_key("item") && obj.keys().all(|k| known.contains(&k.as_str()))
}
