//! Delimited text: CSV (quoting-correct, through the `csv` crate) for
//! single-byte delimiters, and a plain splitter for multi-byte ones such as
//! MovieLens' `::`. Tab-separated files are read without quoting, as TSV
//! has no quoting convention and real exports carry stray quotes.

use std::io::BufRead;

use super::{
    normalise, Column, Header, LoadOptions, RatingColumn, Sink, ITEM_NAMES, RATING_NAMES, TIMESTAMP_NAMES, USER_NAMES,
};
use gramrec_core::Result;

/// Column positions, resolved against the header (or its absence).
struct Layout {
    user: usize,
    item: usize,
    rating: Option<usize>,
    timestamp: Option<usize>,
    needed: usize,
}

fn resolve(sink: &Sink<'_>, opts: &LoadOptions, first: &[&str], line: u64) -> Result<(Layout, bool)> {
    let by_name = |c: &Option<Column>| matches!(c, Some(Column::Name(_)));
    let rating_by_name = matches!(opts.rating, RatingColumn::Column(Column::Name(_)));
    let known = |field: &str| {
        let n = normalise(field);
        USER_NAMES.contains(&n.as_str()) || ITEM_NAMES.contains(&n.as_str())
    };
    let header = match opts.header {
        Header::Yes => true,
        Header::No => false,
        Header::Auto => {
            by_name(&opts.user)
                || by_name(&opts.item)
                || rating_by_name
                || first.iter().take(2).any(|f| known(f))
                || match &opts.rating {
                    RatingColumn::Column(Column::Index(i)) => {
                        first.get(*i).is_some_and(|f| f.trim().parse::<f32>().is_err())
                    }
                    RatingColumn::Auto => first.get(2).is_some_and(|f| f.trim().parse::<f32>().is_err()),
                    _ => false,
                }
        }
    };
    let find = |col: &Option<Column>, names: &[&str], default: usize, what: &str| -> Result<usize> {
        match col {
            Some(Column::Index(i)) => Ok(*i),
            Some(Column::Name(n)) => {
                if !header {
                    return Err(
                        sink.err(line, format!("--{what}-col '{n}' names a column, but the file has no header"))
                    );
                }
                first.iter().position(|f| f.trim() == n).ok_or_else(|| {
                    sink.err(line, format!("no column named '{n}' in the header ({})", first.join(", ")))
                })
            }
            None if header => {
                Ok(first.iter().position(|f| names.contains(&normalise(f.trim()).as_str())).unwrap_or(default))
            }
            None => Ok(default),
        }
    };
    let user = find(&opts.user, USER_NAMES, 0, "user")?;
    let item = find(&opts.item, ITEM_NAMES, 1, "item")?;
    let rating = match &opts.rating {
        RatingColumn::Absent => None,
        RatingColumn::Column(c) => Some(find(&Some(c.clone()), RATING_NAMES, 2, "rating")?),
        RatingColumn::Auto if header => first.iter().position(|f| RATING_NAMES.contains(&normalise(f.trim()).as_str())),
        RatingColumn::Auto => (first.len() > 2).then_some(2),
    };
    if user == item || Some(user) == rating || Some(item) == rating {
        return Err(sink.err(line, "the user, item and rating columns must be different columns"));
    }
    let timestamp = if opts.timestamps {
        let found = match &opts.timestamp {
            Some(c) => Some(find(&Some(c.clone()), TIMESTAMP_NAMES, 3, "timestamp")?),
            None if header => first.iter().position(|f| TIMESTAMP_NAMES.contains(&normalise(f.trim()).as_str())),
            None => (first.len() > 3).then_some(3),
        };
        Some(found.ok_or_else(|| sink.err(line, "no timestamp column found: name it with --timestamp-col"))?)
    } else {
        None
    };
    let needed = 1 + user.max(item).max(rating.unwrap_or(0)).max(timestamp.unwrap_or(0));
    Ok((Layout { user, item, rating, timestamp, needed }, header))
}

/// Handles one record's fields: the first record decides the layout.
struct Records<'s, 'p> {
    sink: &'s mut Sink<'p>,
    opts: &'s LoadOptions,
    layout: Option<Layout>,
}

impl Records<'_, '_> {
    #[inline]
    fn record(&mut self, line: u64, fields: &[&str]) -> Result<()> {
        if fields.len() == 1 && fields[0].trim().is_empty() {
            return Ok(()); // blank line
        }
        if self.layout.is_none() {
            let (layout, header) = resolve(self.sink, self.opts, fields, line)?;
            self.sink.out.has_ratings = layout.rating.is_some();
            self.layout = Some(layout);
            if header {
                return Ok(());
            }
        }
        let layout = self.layout.as_ref().expect("set above");
        if fields.len() < layout.needed {
            let message = format!("expected at least {} columns, found {}", layout.needed, fields.len());
            return Err(self.sink.reject(line, "too few columns", message));
        }
        let value = match layout.rating {
            Some(r) => self.sink.rating(line, fields[r])?,
            None => 1.0,
        };
        let time = layout.timestamp.map(|t| self.sink.timestamp(line, fields[t])).transpose()?;
        let (u, i) = (fields[layout.user].trim(), fields[layout.item].trim());
        self.sink.push(line, u, i, value, time)
    }
}

pub(super) fn read(reader: Box<dyn BufRead>, delim: &[u8], opts: &LoadOptions, sink: &mut Sink<'_>) -> Result<()> {
    let path = sink.path;
    let mut recs = Records { sink, opts, layout: None };
    // One allocation for the field list, reused across lines of different lifetimes.
    let mut spare: Vec<&'static str> = Vec::with_capacity(8);
    if delim.len() == 1 && delim[0] != b' ' {
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(delim[0])
            .has_headers(false)
            .flexible(true)
            .quoting(delim[0] != b'\t')
            .from_reader(reader);
        let mut rec = csv::ByteRecord::new();
        loop {
            let line = rdr.position().line();
            match rdr.read_byte_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let outcome = Err(csv_error(recs.sink, line, e));
                    recs.sink.tolerate(outcome)?;
                    continue;
                }
            }
            let line = rec.position().map_or(line, |p| p.line());
            // Each field on its own: invalid fields can join into valid UTF-8.
            let mut fields = recycle(std::mem::take(&mut spare));
            let valid = rec.iter().try_for_each(|f| std::str::from_utf8(f).map(|f| fields.push(f)));
            let outcome = match valid {
                Ok(()) => recs.record(line, &fields),
                Err(_) => Err(recs.sink.reject(line, "invalid UTF-8", "the line is not valid UTF-8")),
            };
            recs.sink.tolerate(outcome)?;
            spare = recycle(fields);
        }
    } else {
        let delim = std::str::from_utf8(delim).expect("delimiters are UTF-8");
        super::for_each_line(reader, path, |line, buf| {
            let text = match std::str::from_utf8(buf) {
                Ok(t) => t,
                Err(_) => {
                    return recs.sink.tolerate(Err(recs.sink.reject(
                        line,
                        "invalid UTF-8",
                        "the line is not valid UTF-8",
                    )))
                }
            };
            let text = text.trim_end_matches(['\n', '\r']);
            let mut fields = recycle(std::mem::take(&mut spare));
            if delim == " " {
                fields.extend(text.split_whitespace());
                if fields.is_empty() {
                    fields.push("");
                }
            } else {
                fields.extend(text.split(delim));
            }
            let outcome = recs.record(line, &fields);
            recs.sink.tolerate(outcome)?;
            spare = recycle(fields);
            Ok(())
        })?;
    }
    Ok(())
}

/// Empties a vector of string slices and hands its allocation to a vector of
/// another lifetime (the in-place `collect` keeps the buffer).
fn recycle<'b>(mut v: Vec<&str>) -> Vec<&'b str> {
    v.clear();
    v.into_iter().map(|_| "").collect()
}

fn csv_error(sink: &Sink<'_>, line: u64, e: csv::Error) -> gramrec_core::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => super::read_error(sink.path, io),
        other => sink.reject(line.max(1), "malformed CSV", format!("{other:?}")),
    }
}
