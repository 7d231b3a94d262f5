//! Reading interaction files: delimited text (any delimiter, detected),
//! JSON lines, baskets (one per line) and Parquet (a file or a folder of
//! parts, as Spark, Hive and pandas write them); text optionally
//! gzip-compressed, in any of the usual encodings, from a file or standard
//! input.
//!
//! Every record becomes (user, item, value): IDs are interned as they are
//! read, and a missing rating column means an implicit count of 1. Errors
//! name the file and the line (or, in Parquet, the row group and row).

mod baskets;
mod delimited;
mod jsonl;
mod parquet;
mod parquet_pages;
pub mod stream;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use gramrec_core::text::excerpt;
use gramrec_core::{named_enum, set, setting, Error, Result, Setting};

pub use self::parquet::{is_parquet, parquet_files, write_parts};
pub use jsonl::is_event_log;
pub use stream::{decompress, Encoding, MAX_LINE_BYTES};

use crate::index::IdIndex;

pub use gramrec_core::MAX_ID_BYTES;

/// The longest item name, link or image link accepted (64 KiB).
pub const MAX_DETAIL_BYTES: usize = 64 << 10;

/// A per-item text column read beside the interactions (a name, a link, an
/// image): the column given, else the first whose header is one of `known`,
/// else none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemField {
    /// The column, when given.
    pub column: Option<Column>,
    /// Normalised header names that identify it when no column is given.
    pub known: &'static [&'static str],
    /// A link: only `http(s)` and relative links are accepted, never
    /// `javascript:` (it will end up in an `href`).
    pub link: bool,
    /// What messages call it (`item_name`; the setting `item_name_col` names its column).
    pub role: &'static str,
}

/// Which column (or JSON field) holds a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// 0-based column position.
    Index(usize),
    /// Header name or JSON field name.
    Name(String),
}

impl FromStr for Column {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if s.is_empty() {
            return Err(Error::Argument("a column is a 0-based number or a name, not ''".into()));
        }
        Ok(s.parse().map(Column::Index).unwrap_or_else(|_| Column::Name(s.to_string())))
    }
}

/// The rating column: found automatically, a given column, or absent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RatingColumn {
    /// By header name if there is a header, else the third column if present.
    #[default]
    Auto,
    /// This column.
    Column(Column),
    /// No rating: every interaction counts 1.
    Absent,
}

impl FromStr for RatingColumn {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(RatingColumn::Absent),
            "auto" => Ok(RatingColumn::Auto),
            _ => s.parse().map(RatingColumn::Column),
        }
    }
}

/// Values of the value column mapped to weights: event types to strengths
/// (`--value-map view=1,cart=3,buy=5`). A value not in the map is a bad line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValueMap(Vec<(String, f32)>);

impl ValueMap {
    /// The weight of a value (trimmed), if mapped.
    pub fn get(&self, value: &str) -> Option<f32> {
        self.0.iter().find(|(k, _)| k == value).map(|&(_, w)| w)
    }

    /// The mapped values, for messages.
    fn keys(&self) -> String {
        self.0.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(", ")
    }
}

impl FromStr for ValueMap {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = |why: String| Error::Argument(format!("{} '{}': {why}", setting("value_map"), excerpt(s, 60)));
        let mut pairs: Vec<(String, f32)> = Vec::new();
        for entry in s.split(',') {
            let (k, w) = entry.split_once('=').ok_or_else(|| bad(format!("'{entry}' is not VALUE=WEIGHT")))?;
            let k = k.trim();
            let w: f32 = w
                .trim()
                .parse()
                .ok()
                .filter(|w: &f32| w.is_finite())
                .ok_or_else(|| bad(format!("the weight of '{k}' is not a finite number")))?;
            if k.is_empty() || pairs.iter().any(|(seen, _)| seen == k) {
                return Err(bad(format!("'{k}' is empty or mapped twice")));
            }
            pairs.push((k.to_string(), w));
        }
        Ok(ValueMap(pairs))
    }
}

/// Whether the first line is a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Header {
    /// A header if a column is chosen by name or the first rating is not a number.
    #[default]
    Auto,
    /// The first line is a header.
    Yes,
    /// The first line is data.
    No,
}

named_enum!(Header, "header" { Auto => "auto", Yes => "yes" | "true", No => "no" | "false" });

/// The file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// A folder or `PAR1` bytes are Parquet; `.jsonl`, `.json`, `.ndjson` or a
    /// first `{` are JSON lines; anything else is delimited text.
    #[default]
    Auto,
    /// Delimited text.
    Delimited,
    /// One JSON object per line.
    JsonLines,
    /// One basket per line: its items, delimited; the line (or `--basket-col`)
    /// is the "user", and every item counts 1.
    Baskets,
    /// Apache Parquet: a file, or a folder of parts and `key=value` partitions.
    Parquet,
}

named_enum!(Format, "format" {
    Auto => "auto",
    Delimited => "csv" | "tsv" | "delimited" | "text",
    JsonLines => "jsonl" | "json" | "ndjson",
    Baskets => "baskets",
    Parquet => "parquet",
});

/// How to read an interaction file.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The format.
    pub format: Format,
    /// The delimiter (`,`, `\t`, `::`, …); `None` detects it.
    pub delimiter: Option<String>,
    /// Header handling.
    pub header: Header,
    /// The text encoding.
    pub encoding: Encoding,
    /// Baskets: the column holding the basket's ID (`None`: the line number).
    pub basket: Option<Column>,
    /// User column; `None` finds it by name or takes the first.
    pub user: Option<Column>,
    /// Item column; `None` finds it by name or takes the second.
    pub item: Option<Column>,
    /// Rating column.
    pub rating: RatingColumn,
    /// The rating column's values mapped to weights (event types).
    pub value_map: Option<ValueMap>,
    /// Read a timestamp per interaction (into [`Interactions::timestamp`]).
    pub timestamps: bool,
    /// A file of item aliases (two columns: alias, canonical ID, as
    /// Audioscrobbler's `artist_alias.txt`): every alias read is replaced by
    /// its canonical ID (one level, as Spark's tutorials apply it).
    pub item_alias: Option<PathBuf>,
    /// How timestamp text is written (strftime, e.g. `%d/%m/%Y %H:%M`), read
    /// as UTC; `None`: numbers and ISO 8601 dates with four-digit years.
    pub time_format: Option<String>,
    /// Timestamp column; `None` finds it by name (timestamp, time, ts,
    /// unixReviewTime…) or, without a header, takes the fourth column.
    pub timestamp: Option<Column>,
    /// Record each interaction's line number (into [`Interactions::line`]).
    pub record_lines: bool,
    /// Skip bad lines (counted by kind in [`Interactions::skipped`]) instead
    /// of stopping at the first.
    pub skip_invalid: bool,
    /// Per-item text columns to read (into [`Interactions::item_fields`]);
    /// none by default.
    pub item_fields: Vec<ItemField>,
    /// The file lists items, not interactions (an item details file such as
    /// MovieLens' `movies.csv`): only the item column (the first, unless
    /// named) and `item_fields` are read.
    pub items_only: bool,
}

/// Parsed, indexed interactions, in file order (duplicates not yet merged).
/// Cloned where one set trains several models (the Python package's `fit`
/// leaves its input as it was).
#[derive(Debug, Default, Clone)]
pub struct Interactions {
    /// User IDs.
    pub users: IdIndex,
    /// Item IDs.
    pub items: IdIndex,
    /// User index per interaction.
    pub user: Vec<u32>,
    /// Item index per interaction.
    pub item: Vec<u32>,
    /// Rating or count per interaction.
    pub value: Vec<f32>,
    /// Whether values came from a rating column (else all 1).
    pub has_ratings: bool,
    /// Seconds (or the file's own unit) per interaction, when asked for.
    pub timestamp: Vec<f64>,
    /// 1-based line on which each interaction starts (Parquet: its row,
    /// counted over the files in order), when asked for.
    pub line: Vec<u64>,
    /// Lines skipped by `skip_invalid`, by kind of problem.
    pub skipped: std::collections::BTreeMap<&'static str, u64>,
    /// Bytes of the file (or files) on disk; 0 for a pipe.
    pub bytes: u64,
    /// How the input was read, where it is worth a log line: the delimiter
    /// detected, an encoding other than UTF-8, the Parquet parts.
    pub notes: Vec<String>,
    /// One vector per [`LoadOptions::item_fields`] entry, by item index:
    /// each item's first non-empty value ("" for none; shorter when the
    /// last items have none).
    pub item_fields: Vec<Vec<String>>,
    /// Which of [`LoadOptions::item_fields`] were found in the file.
    pub item_fields_found: Vec<bool>,
    /// How a text input was laid out, as read (`None` for Parquet): what
    /// `split` needs to write records back in the input's own format.
    pub layout: Option<TextLayout>,
    /// The columns (or fields) the records came from, and how each was chosen.
    pub columns: Vec<ColumnChoice>,
    /// Whether the values are weights a [`ValueMap`] gave.
    pub value_mapped: bool,
    /// Why the values are strengths of feedback, when the caller knows it
    /// from where they came (a matrix given to an implicit-feedback API):
    /// the defaults then read them as implicit, and say this.
    pub strengths: Option<String>,
}

/// How a column was chosen: what the log says of it, and what decides
/// whether a guess is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChosenBy {
    /// Named by a flag (`--rating-col`).
    Flag,
    /// Found by its header or field name (`userId`, `rating`).
    Name,
    /// Taken by its position (the first column is the user…).
    Position,
}

/// A column the records came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnChoice {
    /// `user`, `item`, `rating` or `timestamp`.
    pub role: &'static str,
    /// Its header or field name, when it has one.
    pub name: Option<String>,
    /// Its 0-based position, when known.
    pub index: Option<usize>,
    /// How it was chosen.
    pub by: ChosenBy,
}

impl ColumnChoice {
    /// What the log calls it: `'userId'` or `column 2`.
    pub fn label(&self) -> String {
        match (&self.name, self.index) {
            (Some(n), _) => format!("'{n}'"),
            (None, Some(i)) => format!("column {i}"),
            (None, None) => "?".into(),
        }
    }

    /// One choice, chosen by `flag` when given, else by `name` when it is
    /// one of `known`, else by position.
    pub(crate) fn new(
        role: &'static str,
        name: Option<&str>,
        index: Option<usize>,
        flag: bool,
        known: &[&str],
    ) -> Self {
        let by = if flag {
            ChosenBy::Flag
        } else if name.is_some_and(|n| known.contains(&normalise(n.trim()).as_str())) {
            ChosenBy::Name
        } else {
            ChosenBy::Position
        };
        ColumnChoice { role, name: name.map(|n| n.trim().to_string()), index, by }
    }
}

/// Says which columns became user, item, rating and timestamp (a note), and
/// refuses a rating column guessed wrongly: one holding many distinct large
/// integers (IDs, not ratings or counts), or one taken by position in a
/// header-less file of more than three columns whose values are not a
/// rating scale. A column named by a flag is taken as given.
pub(crate) fn check_columns(
    path: &Path,
    out: &mut Interactions,
    columns_in_file: usize,
    opts: &LoadOptions,
) -> Result<()> {
    if opts.value_map.is_some() && !opts.items_only {
        if !out.has_ratings {
            return Err(Error::Argument(format!(
                "{}: {} maps the values of the value column, and there is none: name it with {}",
                path.display(),
                setting("value_map"),
                setting("rating_col")
            )));
        }
        out.value_mapped = true;
    }
    if out.columns.is_empty() {
        return Ok(());
    }
    let values = ValueSummary::of(&out.value);
    let describe = |c: &ColumnChoice| {
        let how = match c.by {
            ChosenBy::Flag => "given".to_string(),
            ChosenBy::Name => "by its name".to_string(),
            ChosenBy::Position if c.role == "rating" => {
                format!("by position: no header; its values {} look like a rating scale", values.range())
            }
            ChosenBy::Position if c.name.is_some() => "by position: no column name matched".to_string(),
            ChosenBy::Position => "by position: no header".to_string(),
        };
        format!("{} = {} ({how})", c.role, c.label())
    };
    // A mapped column's values are the map's weights, checked by the map.
    let guessed = |c: &&ColumnChoice| c.role == "rating" && c.by != ChosenBy::Flag && !out.value_mapped;
    if let Some(r) = out.columns.iter().find(guessed) {
        let at = r.index.map_or_else(|| r.label(), |i| i.to_string());
        let what = if r.name.is_some() { format!("the {} column", r.label()) } else { r.label() };
        let fix = format!(
            "name the value column with {} ({} to keep this one), or pass {} (every interaction counts 1)",
            setting("rating_col"),
            set("rating_col", at),
            set("rating_col", "none")
        );
        if values.looks_like_ids() {
            return Err(Error::input(
                path,
                None,
                format!(
                    "{what}, taken as the rating {}, holds {} distinct whole numbers from {}: IDs or codes, not \
                     ratings or counts; {fix}",
                    if r.by == ChosenBy::Name { "by its name" } else { "by position" },
                    values.distinct_text(),
                    values.range()
                ),
            ));
        }
        if r.by == ChosenBy::Position && columns_in_file > 3 && !values.rating_scale() {
            return Err(Error::input(
                path,
                None,
                format!(
                    "the file has no header and {columns_in_file} columns, and {what}, taken as the rating by \
                     position, holds {} distinct values from {}, not a rating scale; {fix}",
                    values.distinct_text(),
                    values.range()
                ),
            ));
        }
    }
    let said: Vec<String> = out.columns.iter().map(describe).collect();
    out.notes.push(format!("columns: {}", said.join(", ")));
    Ok(())
}

/// What a value column holds, for judging a guess about it.
#[derive(Debug, Clone, Copy)]
struct ValueSummary {
    /// Distinct values in the sample, counted up to [`ValueSummary::MAX_DISTINCT`].
    distinct: usize,
    min: f32,
    max: f32,
    /// Whether every value is a whole number.
    whole: bool,
    /// Share of values of magnitude 1,000 or more.
    large: f64,
}

impl ValueSummary {
    const MAX_DISTINCT: usize = 1000;
    /// Values whose distinct ones are counted: evenly spaced over the file
    /// (the range, which a rare outlier widens, is taken over every value).
    const SAMPLE: usize = 1 << 16;

    fn of(values: &[f32]) -> Self {
        let mut seen = rustc_hash::FxHashSet::default();
        for &v in values.iter().step_by(values.len().div_ceil(Self::SAMPLE).max(1)) {
            if seen.len() > Self::MAX_DISTINCT {
                break;
            }
            seen.insert(v.to_bits());
        }
        let (mut min, mut max, mut whole, mut large) = (f32::INFINITY, f32::NEG_INFINITY, true, 0usize);
        for &v in values {
            min = min.min(v);
            max = max.max(v);
            whole &= v.fract() == 0.0;
            large += usize::from(v.abs() >= 1000.0);
        }
        let large = large as f64 / values.len().max(1) as f64;
        ValueSummary { distinct: seen.len(), min, max, whole, large }
    }

    /// Many distinct large whole numbers: identifiers (a category ID, a
    /// timestamp), not ratings, nor counts (whose values are mostly small).
    fn looks_like_ids(&self) -> bool {
        self.whole && self.large >= 0.5 && self.distinct > 100
    }

    /// A few values in a small range, as every star or point scale has
    /// (1–5, 0.5–5 in halves, 0–10).
    fn rating_scale(&self) -> bool {
        self.distinct <= 11 && self.min >= -10.0 && self.max <= 10.0
    }

    fn range(&self) -> String {
        format!("{}–{}", self.min, self.max)
    }

    fn distinct_text(&self) -> String {
        if self.distinct > Self::MAX_DISTINCT {
            format!("more than {}", Self::MAX_DISTINCT)
        } else {
            self.distinct.to_string()
        }
    }
}

/// The layout of a text input as the loader read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextLayout {
    /// Delimited text, JSON lines or baskets.
    pub format: Format,
    /// What separates fields, as written between them (`,`, a tab, `::`, or
    /// one space for runs of spaces); empty for JSON lines.
    pub delimiter: String,
    /// Whether fields may be quoted (RFC 4180).
    pub quoting: bool,
    /// The line of the header, when one was read.
    pub header_line: Option<u64>,
    /// Baskets: the column holding the basket ID (`None`: the line number is the ID).
    pub basket_column: Option<usize>,
    /// Records that span several lines (a quoted field holding a line end):
    /// (first line, number of lines), in file order.
    pub spans: Vec<(u64, u64)>,
    /// Whether the text was UTF-16 (its lines cannot be copied byte-wise).
    pub utf16: bool,
    /// Fields of the first line (the header, or the first record).
    pub columns: usize,
}

impl Interactions {
    /// Interactions given in memory, one entry per (user ID, item ID) and,
    /// for ratings or strengths, a value: a data frame's columns, or a
    /// sparse matrix's coordinates named by its row and column IDs. Without
    /// `values` every interaction counts 1 (implicit feedback). The rules of
    /// the file readers hold: IDs non-empty and at most [`MAX_ID_BYTES`],
    /// values finite and within ±[`MAX_VALUE`](gramrec_core::MAX_VALUE);
    /// an entry that breaks one is refused by its position.
    pub fn from_columns<U: AsRef<str>, I: AsRef<str>>(
        users: &[U],
        items: &[I],
        values: Option<&[f32]>,
    ) -> Result<Self> {
        let n = users.len();
        if items.len() != n || values.is_some_and(|v| v.len() != n) {
            let values = values.map_or(String::new(), |v| format!(", {} values", v.len()));
            return Err(Error::Data(format!("{n} users, {} items{values}: one of each per interaction", items.len())));
        }
        let mut x = Interactions { has_ratings: values.is_some(), ..Default::default() };
        let id = |index: &mut IdIndex, what: &str, k: usize, id: &str| -> Result<u32> {
            if id.is_empty() || id.len() > MAX_ID_BYTES {
                return Err(Error::Data(format!(
                    "interaction {k}: the {what} ID must have 1 to {MAX_ID_BYTES} bytes, not {}",
                    id.len()
                )));
            }
            index.intern(id).ok_or_else(|| Error::TooLarge(format!("more than 2³² − 1 distinct {what} IDs")))
        };
        for k in 0..n {
            let value = values.map_or(1.0, |v| v[k]);
            if !gramrec_core::valid_value(value) {
                return Err(Error::Data(format!(
                    "interaction {k}: the value {value} is not a finite number within ±{:e}",
                    gramrec_core::MAX_VALUE
                )));
            }
            let user = id(&mut x.users, "user", k, users[k].as_ref())?;
            let item = id(&mut x.items, "item", k, items[k].as_ref())?;
            x.user.push(user);
            x.item.push(item);
            x.value.push(value);
        }
        Ok(x)
    }

    /// Names the values' column, as a file's header names it: a data
    /// frame's column called `plays` or `count` holds strengths of feedback
    /// ([`strength_column`](Self::strength_column)), which the defaults
    /// read as implicit whatever the values.
    pub fn with_value_column(mut self, name: &str) -> Self {
        self.columns.retain(|c| c.role != "rating");
        self.columns.push(ColumnChoice {
            role: "rating",
            name: Some(name.to_string()),
            index: None,
            by: ChosenBy::Name,
        });
        self
    }

    /// Number of interactions.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// The name of the value column when that name, not a flag, chose it
    /// and says it holds strengths of feedback (`count`, `plays`, `weight`,
    /// `quantity`…), which are not ratings whatever their values.
    pub fn strength_column(&self) -> Option<&str> {
        self.columns
            .iter()
            .find(|c| c.role == "rating" && c.by == ChosenBy::Name)
            .and_then(|c| c.name.as_deref())
            .filter(|n| STRENGTH_NAMES.contains(&normalise(n).as_str()))
    }

    /// Adds another file's interactions after these (`train --input A
    /// --input B`: a base file and `serve`'s event log), their IDs interned
    /// into these indexes. Whether values are ratings stays this file's, so
    /// an event log with weights does not turn click data into ratings.
    /// Timestamps are kept only when both have them; line numbers (which
    /// would repeat) are dropped. Item fields fill the gaps of these.
    pub fn append(&mut self, other: Interactions) -> Result<()> {
        let too_many = |what: &str| Error::Data(format!("more than 4,294,967,294 distinct {what} over the inputs"));
        let users: Vec<u32> = (0..other.users.len() as u32)
            .map(|u| self.users.intern(other.users.id(u)).ok_or_else(|| too_many("users")))
            .collect::<Result<_>>()?;
        let items: Vec<u32> = (0..other.items.len() as u32)
            .map(|i| self.items.intern(other.items.id(i)).ok_or_else(|| too_many("items")))
            .collect::<Result<_>>()?;
        let timed = self.timestamp.len() == self.len() && other.timestamp.len() == other.len();
        self.user.extend(other.user.iter().map(|&u| users[u as usize]));
        self.item.extend(other.item.iter().map(|&i| items[i as usize]));
        self.value.extend_from_slice(&other.value);
        if timed {
            self.timestamp.extend_from_slice(&other.timestamp);
        } else {
            self.timestamp.clear();
        }
        self.line.clear();
        for (kind, n) in other.skipped {
            *self.skipped.entry(kind).or_default() += n;
        }
        self.bytes += other.bytes;
        self.notes.extend(other.notes);
        for (f, (mine, theirs)) in self.item_fields.iter_mut().zip(other.item_fields).enumerate() {
            for (j, value) in theirs.into_iter().enumerate().filter(|(_, v)| !v.is_empty()) {
                let i = items[j] as usize;
                if mine.len() <= i {
                    mine.resize(i + 1, String::new());
                }
                if mine[i].is_empty() {
                    mine[i] = value;
                }
            }
            self.item_fields_found[f] |= other.item_fields_found.get(f).copied().unwrap_or(false);
        }
        Ok(())
    }
}

/// Normalised header names that are recognised without flags.
pub(crate) const USER_NAMES: &[&str] = &["user", "userid", "reviewerid", "customerid", "visitorid", "uid", "username"];
pub(crate) const ITEM_NAMES: &[&str] =
    &["item", "itemid", "movieid", "asin", "productid", "trackid", "artistid", "songid", "iid", "artist", "track"];
pub(crate) const TIMESTAMP_NAMES: &[&str] =
    &["timestamp", "time", "ts", "unixreviewtime", "datetime", "date", "eventtime", "createdat"];
pub(crate) const RATING_NAMES: &[&str] = &[
    "rating",
    "bookrating",
    "overall",
    "score",
    "stars",
    "count",
    "plays",
    "playcount",
    "weight",
    "value",
    "quantity",
];
/// Of [`RATING_NAMES`], those that name a strength of feedback (how many,
/// how much), not a rating.
const STRENGTH_NAMES: &[&str] = &["count", "plays", "playcount", "weight", "value", "quantity"];

/// Lower-case and drop `_`, `-` and spaces, so `userId` = `user_id` = `User ID`.
pub(crate) fn normalise(name: &str) -> String {
    name.chars().filter(|c| !matches!(c, '_' | '-' | ' ')).flat_map(char::to_lowercase).collect()
}

/// Receives records and interns them; shared by both parsers.
pub(crate) struct Sink<'a> {
    pub path: &'a Path,
    pub out: Interactions,
    pub opts: &'a LoadOptions,
}

impl Sink<'_> {
    /// The layout being recorded (every text reader has one).
    pub(crate) fn layout(&mut self) -> &mut TextLayout {
        self.out.layout.get_or_insert_with(TextLayout::default)
    }

    pub(crate) fn err(&self, line: u64, message: impl Into<String>) -> Error {
        Error::input(self.path, Some(line), message)
    }

    /// A bad line: an error in strict mode, counted and skipped with
    /// `skip_invalid` (see [`tolerate`](Self::tolerate)).
    pub(crate) fn reject(&self, line: u64, kind: &'static str, message: impl Into<String>) -> Error {
        Error::Input { path: self.path.to_path_buf(), line: Some(line), message: message.into(), skippable: Some(kind) }
    }

    /// Passes a line's outcome through, counting instead of failing on a
    /// skippable problem when the options say so.
    pub(crate) fn tolerate(&mut self, outcome: Result<()>) -> Result<()> {
        match outcome {
            Err(Error::Input { skippable: Some(kind), .. }) if self.opts.skip_invalid => {
                *self.out.skipped.entry(kind).or_insert(0) += 1;
                Ok(())
            }
            other => other,
        }
    }

    /// The rating of a number cell (JSON, Parquet): itself, or its weight
    /// in the value map, looked up as the number's text (`3`, `0.5`).
    pub(crate) fn number_rating(&self, line: u64, n: f64) -> Result<f32> {
        match &self.opts.value_map {
            Some(_) => self.rating(line, &n.to_string()),
            None if gramrec_core::valid_value(n as f32) => Ok(n as f32),
            None => self.rating(line, &n.to_string()),
        }
    }

    /// Parses a timestamp, as seconds: with a time format, by it (UTC);
    /// else a number, or an ISO 8601 date or date-time in UTC with a
    /// four-digit year (`2024-05-01`, `2024-05-01T12:30:00Z`). A date with a
    /// two-digit year (`12-09-11`) is refused: which part is the year is a
    /// guess.
    pub(crate) fn timestamp(&self, line: u64, text: &str) -> Result<f64> {
        let t = text.trim();
        let parsed = match &self.opts.time_format {
            Some(format) => parse_with_format(t, format),
            None => t.parse::<f64>().ok().filter(|v| v.is_finite()).or_else(|| parse_iso8601(t)),
        };
        parsed.ok_or_else(|| {
            let message = match &self.opts.time_format {
                Some(format) => {
                    format!("timestamp '{}' does not match {} '{format}'", excerpt(t, 40), setting("time_format"))
                }
                None if short_year_date(t) => format!(
                    "timestamp '{}' has a two-digit year, and which part is the year is a guess: give the format \
                     with {} (e.g. '%d-%m-%y')",
                    excerpt(t, 40),
                    setting("time_format")
                ),
                None => format!(
                    "timestamp '{}' is neither a number nor an ISO 8601 date (other layouts: {})",
                    excerpt(t, 40),
                    setting("time_format")
                ),
            };
            self.reject(line, "bad timestamp", message)
        })
    }

    /// Refuses an empty or overlong ID.
    #[inline]
    fn check_id(&self, line: u64, what: &str, id: &str) -> Result<()> {
        if id.is_empty() {
            return Err(self.reject(line, "empty ID", format!("empty {what} ID")));
        }
        if id.len() > MAX_ID_BYTES {
            return Err(self.reject(
                line,
                "ID too long",
                format!(
                    "{what} ID of {} bytes, more than {} KiB ('{}'): is the column or the delimiter right?",
                    id.len(),
                    MAX_ID_BYTES >> 10,
                    excerpt(id, 40)
                ),
            ));
        }
        Ok(())
    }

    fn intern_item(&mut self, line: u64, item: &str) -> Result<u32> {
        self.out.items.intern(item).ok_or_else(|| self.err(line, "more than 4,294,967,294 distinct items"))
    }

    /// The item details of a record (values in [`LoadOptions::item_fields`]
    /// order), checked: call before [`push`](Self::push) so a bad value
    /// rejects the whole line.
    pub(crate) fn check_details(&self, line: u64, values: &[&str]) -> Result<()> {
        for (v, field) in values.iter().map(|v| v.trim()).zip(&self.opts.item_fields) {
            if v.len() > MAX_DETAIL_BYTES {
                return Err(self.reject(
                    line,
                    "detail too long",
                    format!(
                        "an item detail of {} bytes, more than {} KiB ('{}')",
                        v.len(),
                        MAX_DETAIL_BYTES >> 10,
                        excerpt(v, 40)
                    ),
                ));
            }
            if field.link && !v.is_empty() && !gramrec_core::text::is_safe_url(v) {
                return Err(self.reject(
                    line,
                    "unsafe link",
                    format!(
                        "the link '{}' is not http(s) or relative, or has control characters or outer spaces",
                        excerpt(v, 40)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Keeps the details of the item just pushed (or, for an items-only
    /// file, of `item`), where the item has none yet.
    pub(crate) fn details(&mut self, line: u64, item: &str, values: &[&str]) -> Result<()> {
        let i = if self.opts.items_only {
            self.check_id(line, "item", item)?;
            self.intern_item(line, item)?
        } else {
            *self.out.item.last().expect("called after push")
        } as usize;
        self.out.item_fields.resize(values.len(), Vec::new());
        for (column, v) in self.out.item_fields.iter_mut().zip(values.iter().map(|v| v.trim())) {
            if v.is_empty() {
                continue;
            }
            if column.len() <= i {
                column.resize(i + 1, String::new());
            }
            if column[i].is_empty() {
                column[i] = v.to_string();
            }
        }
        Ok(())
    }

    #[inline]
    pub(crate) fn push(&mut self, line: u64, user: &str, item: &str, value: f32, time: Option<f64>) -> Result<()> {
        self.check_id(line, "user", user)?;
        self.check_id(line, "item", item)?;
        let u = self.out.users.intern(user).ok_or_else(|| self.err(line, "more than 4,294,967,294 distinct users"))?;
        let i = self.intern_item(line, item)?;
        self.out.user.push(u);
        self.out.item.push(i);
        self.out.value.push(value);
        if let Some(t) = time {
            self.out.timestamp.push(t);
        }
        if self.opts.record_lines {
            self.out.line.push(line);
        }
        Ok(())
    }

    /// A rating's text as its value: a number within ±[`gramrec_core::MAX_VALUE`],
    /// or its weight in the value map.
    #[inline]
    pub(crate) fn rating(&self, line: u64, text: &str) -> Result<f32> {
        let t = text.trim();
        match t.parse::<f32>() {
            Ok(v) if self.opts.value_map.is_none() && gramrec_core::valid_value(v) => Ok(v),
            _ => self.rating_otherwise(line, t),
        }
    }

    /// [`rating`](Self::rating) off its common path: the value map, and the errors.
    #[cold]
    fn rating_otherwise(&self, line: u64, t: &str) -> Result<f32> {
        if let Some(map) = &self.opts.value_map {
            return map.get(t).ok_or_else(|| {
                self.reject(
                    line,
                    "value not in the value map",
                    format!("value '{}' is not in {} ({})", excerpt(t, 40), setting("value_map"), map.keys()),
                )
            });
        }
        match t.parse::<f32>() {
            Ok(v) if v.is_finite() => Err(self.reject(
                line,
                "rating too large",
                format!("rating '{}' is beyond ±{:e}: is the column right?", excerpt(t, 40), gramrec_core::MAX_VALUE),
            )),
            Ok(_) => Err(self.reject(
                line,
                "rating not finite",
                format!("rating '{}' is not a finite number", excerpt(t, 40)),
            )),
            Err(_) if t.is_empty() => Err(self.reject(line, "empty rating", "empty rating")),
            Err(_) => Err(self.reject(
                line,
                "rating not a number",
                format!("rating '{}' is not a number{}", excerpt(t, 40), number_hint(t)),
            )),
        }
    }
}

/// Reads an interaction file, a Parquet folder, or standard input (`-`).
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Interactions> {
    if opts.format == Format::Parquet || (opts.format == Format::Auto && is_parquet(path)) {
        return parquet::read(path, opts);
    }
    if path.is_dir() {
        return Err(Error::input(path, None, "is a folder, and holds no Parquet files"));
    }
    let (raw, bytes) = stream::open_raw(path)?;
    let shown = if path.as_os_str() == "-" { Path::new("standard input") } else { path };
    let reader = decompress(raw).map_err(|e| read_error(shown, e))?;
    load_reader(reader, shown, bytes, opts)
}

/// A text stream as the line readers take it: decoded to UTF-8, with the
/// file's lower-case name (no `.gz`) and its first bytes, from which the
/// delimiter is detected.
pub(super) struct Text<'a> {
    /// The lines.
    reader: Box<dyn BufRead>,
    /// The file's name, whose extension hints at the delimiter.
    name: &'a str,
    /// The first bytes, already read into `reader`'s buffer.
    head: &'a [u8],
}

/// Reads interactions from a decompressed byte stream (see [`decompress`]);
/// `path` names the source in messages and by its extension picks the
/// format, `bytes` is its size on disk for statistics.
pub fn load_reader(mut reader: Box<dyn BufRead>, path: &Path, bytes: u64, opts: &LoadOptions) -> Result<Interactions> {
    let head = reader.fill_buf().map_err(|e| read_error(path, e))?;
    if head.starts_with(&gramrec_core::format::MAGIC) {
        return Err(Error::input(path, None, "this is a gramrec factor file, not interaction data"));
    }
    let utf16 = head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) || opts.encoding == Encoding::Utf16;
    if let Some(what) = binary_kind(&head[..head.len().min(4096)]).filter(|_| !utf16) {
        return Err(Error::input(path, None, format!("this is {what}, not interaction text")));
    }
    let (mut text, observed) =
        stream::text(reader, opts.encoding, opts.skip_invalid).map_err(|e| read_error(path, e))?;
    let head = text.fill_buf().map_err(|e| read_error(path, e))?.to_vec();
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name).to_string();
    let format = match opts.format {
        Format::Auto if [".jsonl", ".json", ".ndjson"].iter().any(|e| name.ends_with(e)) => Format::JsonLines,
        Format::Auto if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') => Format::JsonLines,
        Format::Auto => Format::Delimited,
        f => f,
    };
    let layout = TextLayout { format, utf16, ..Default::default() };
    let mut sink = Sink { path, out: Interactions { bytes, layout: Some(layout), ..Default::default() }, opts };
    let text = Text { reader: text, name: &name, head: &head };
    match format {
        Format::JsonLines => jsonl::read(text, opts, &mut sink)?,
        Format::Baskets => baskets::read(text, opts, &mut sink)?,
        _ => delimited::read(text, opts, &mut sink)?,
    }
    let observed = observed.borrow();
    if observed.long_lines > 0 {
        *sink.out.skipped.entry("line too long").or_insert(0) += observed.long_lines;
    }
    sink.out.notes.splice(0..0, observed.notes.iter().cloned());
    no_records(&sink, "the file is empty or holds only a header")?;
    let columns = sink.out.layout.as_ref().map_or(0, |l| l.columns);
    check_columns(path, &mut sink.out, columns, opts)?;
    apply_aliases(&mut sink.out, opts)?;
    Ok(sink.out)
}

/// Replaces every item ID that `opts.item_alias` names as an alias by its
/// canonical ID, merging their item details; says how many it renamed.
pub(crate) fn apply_aliases(out: &mut Interactions, opts: &LoadOptions) -> Result<()> {
    let Some(path) = &opts.item_alias else { return Ok(()) };
    let table = load(
        path,
        &LoadOptions {
            encoding: opts.encoding,
            skip_invalid: opts.skip_invalid,
            user: Some(Column::Index(0)),
            item: Some(Column::Index(1)),
            rating: RatingColumn::Absent,
            ..Default::default()
        },
    )?;
    let mut canonical = rustc_hash::FxHashMap::default();
    for k in 0..table.len() {
        canonical.entry(table.users.id(table.user[k])).or_insert(table.items.id(table.item[k]));
    }
    let old = std::mem::take(&mut out.items);
    // Each old item index: its new index, and whether it was an alias.
    let map: Vec<(u32, bool)> = (0..old.len() as u32)
        .map(|i| {
            let id = old.id(i);
            let to = canonical.get(id).copied().unwrap_or(id);
            (out.items.intern(to).expect("no more IDs than before"), to != id)
        })
        .collect();
    let renamed_items = map.iter().filter(|m| m.1).count();
    let mut renamed = 0;
    for i in &mut out.item {
        let (to, alias) = map[*i as usize];
        renamed += usize::from(alias);
        *i = to;
    }
    for column in &mut out.item_fields {
        let mut merged = vec![String::new(); out.items.len()];
        for (i, value) in std::mem::take(column).into_iter().enumerate().filter(|(_, v)| !v.is_empty()) {
            let to = &mut merged[map[i].0 as usize];
            if to.is_empty() {
                *to = value;
            }
        }
        *column = merged;
    }
    out.notes.push(format!(
        "item aliases ({}): {} aliases read; {renamed_items} item IDs renamed to their canonical ID, in {renamed} records",
        path.display(),
        canonical.len()
    ));
    Ok(())
}

/// The error for an input without a single record.
pub(crate) fn no_records(sink: &Sink<'_>, why: &str) -> Result<()> {
    let (none, what) =
        if sink.opts.items_only { (sink.out.items.is_empty(), "items") } else { (sink.out.is_empty(), "interactions") };
    if none {
        return Err(Error::input(sink.path, None, format!("no {what} found ({why})")));
    }
    Ok(())
}

/// Seconds since 1970 of `text` read with a strftime `format` as UTC: a
/// date and time, or a date alone (midnight).
fn parse_with_format(text: &str, format: &str) -> Option<f64> {
    use chrono::{NaiveDate, NaiveDateTime};
    let at = NaiveDateTime::parse_from_str(text, format)
        .ok()
        .or_else(|| NaiveDate::parse_from_str(text, format).ok().and_then(|d| d.and_hms_opt(0, 0, 0)))?;
    let utc = at.and_utc();
    Some(utc.timestamp() as f64 + f64::from(utc.timestamp_subsec_nanos()) * 1e-9)
}

/// Whether `text` looks like a date whose year has two digits: three
/// groups of one or two digits (`12-09-11`, `1/2/99`).
fn short_year_date(text: &str) -> bool {
    let date = text.split([' ', 'T']).next().unwrap_or("");
    let groups: Vec<&str> = date.split(['-', '/', '.']).collect();
    groups.len() == 3 && groups.iter().all(|g| (1..=2).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether a field's text looks like a time: an ISO 8601 date, a number in
/// the range of Unix times in seconds to microseconds (1973 on), or text
/// that `format` reads. What a header-less file's timestamp column is
/// found by.
pub(crate) fn looks_like_time(text: &str, format: Option<&str>) -> bool {
    let t = text.trim();
    match format {
        Some(f) => parse_with_format(t, f).is_some(),
        None => parse_iso8601(t).is_some() || t.parse::<f64>().is_ok_and(|v| (1e8..1e17).contains(&v.abs())),
    }
}

/// Seconds since 1970 of `YYYY-MM-DD` with an optional `THH:MM[:SS[.fff]]`
/// (or a space for `T`) and an optional `Z`.
fn parse_iso8601(t: &str) -> Option<f64> {
    let t = t.strip_suffix('Z').unwrap_or(t);
    let (date, time) = match t.split_once(['T', ' ']) {
        Some((d, tm)) => (d, Some(tm)),
        None => (t, None),
    };
    let mut d = date.splitn(3, '-');
    let year = d.next().filter(|y| y.len() == 4)?;
    let (y, m, day): (i64, i64, i64) = (year.parse().ok()?, d.next()?.parse().ok()?, d.next()?.parse().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || date.len() < 8 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut secs = days as f64 * 86_400.0;
    if let Some(tm) = time {
        let mut parts = tm.splitn(3, ':');
        let h: f64 = parts.next()?.parse().ok()?;
        let mi: f64 = parts.next()?.parse().ok()?;
        let s: f64 = parts.next().map_or(Some(0.0), |s| s.parse().ok())?;
        if !(0.0..24.0).contains(&h) || !(0.0..60.0).contains(&mi) || !(0.0..61.0).contains(&s) {
            return None;
        }
        secs += h * 3600.0 + mi * 60.0 + s;
    }
    Some(secs)
}

/// What a number that does not parse looks like it is, for the message.
fn number_hint(t: &str) -> &'static str {
    if t.contains([',', '\'', '\u{a0}', ' ']) && t.chars().any(|c| c.is_ascii_digit()) {
        " (thousands separators and decimal commas are not read: clean the column first)"
    } else if t.contains(['$', '€', '£', '¥', '%']) {
        " (currency and percent signs are not read: clean the column first)"
    } else {
        ""
    }
}

/// A read failure: an overlong line or gzip damage is bad input, anything
/// else an I/O error.
pub(crate) fn read_error(path: &Path, e: std::io::Error) -> Error {
    if let Some(stream::LineTooLong(line)) = e.get_ref().and_then(|inner| inner.downcast_ref()) {
        return Error::input(
            path,
            Some(*line),
            format!(
                "the line is longer than {} MiB (is the delimiter or the file's format right?)",
                MAX_LINE_BYTES >> 20
            ),
        );
    }
    match e.kind() {
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof => {
            Error::input(path, None, format!("cannot decompress: {e} (is the gzip file truncated or damaged?)"))
        }
        _ => Error::io(path, e),
    }
}

/// The raw bytes of an input, decompressed: for copying its lines (split).
pub fn open(path: &Path) -> Result<Box<dyn BufRead>> {
    let (raw, _) = stream::open_raw(path)?;
    decompress(raw).map_err(|e| read_error(path, e))
}

/// Names a binary format by its first bytes (text never holds NUL bytes).
fn binary_kind(head: &[u8]) -> Option<&'static str> {
    const MAGIC: [(&[u8], &str); 6] = [
        (b"\x89PNG", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"PK\x03\x04", "a ZIP archive (unzip it first)"),
        (b"%PDF", "a PDF document"),
        (b"PAR1", "a gzip-compressed Parquet file (decompress it: Parquet compresses itself)"),
        (b"BZh", "a bzip2 file (decompress it first, or use gzip)"),
    ];
    MAGIC
        .iter()
        .find(|(m, _)| head.starts_with(m))
        .map(|(_, what)| *what)
        .or_else(|| head.contains(&0).then_some("a binary file"))
}

/// Calls `each(line number, line bytes)` for every line, the newline kept;
/// read errors are reported against `path`.
pub(crate) fn for_each_line(
    mut reader: Box<dyn BufRead>,
    path: &Path,
    mut each: impl FnMut(u64, &[u8]) -> Result<()>,
) -> Result<()> {
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf).map_err(|e| read_error(path, e))? == 0 {
            return Ok(());
        }
        line += 1;
        each(line, &buf)?;
    }
}

/// Reads a whole small stream, for tests.
/// The setting that names the column of `role` (`user` → `user_col`).
pub(crate) fn column_setting(role: &str) -> Setting {
    setting(format!("{role}_col"))
}

/// The error text for a timestamp column asked for and not found.
pub(crate) fn no_timestamp_column() -> String {
    format!("no timestamp column found: name it with {}", setting("timestamp_col"))
}

#[cfg(test)]
pub(crate) fn load_bytes(name: &str, data: &[u8], opts: &LoadOptions) -> Result<Interactions> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, data).unwrap();
    load(&path, opts).map_err(|e| match e {
        Error::Input { line, message, skippable, .. } => {
            Error::Input { path: PathBuf::from(name), line, message, skippable }
        }
        other => other,
    })
}

#[cfg(test)]
mod tests;
