//! Reading interaction files: delimited text (CSV, TSV, any single-byte
//! delimiter, MovieLens `::`) and JSON lines, optionally gzip-compressed.
//!
//! Every record becomes (user, item, value): IDs are interned as they are
//! read, and a missing rating column means an implicit count of 1. Errors
//! name the file and the line.

mod delimited;
mod jsonl;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
#[cfg(test)]
use std::path::PathBuf;
use std::str::FromStr;

use flate2::read::MultiGzDecoder;

use crate::error::{Error, Result};
use crate::index::IdIndex;

/// Which column (or JSON field) holds a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// 0-based column position.
    Index(usize),
    /// Header name or JSON field name.
    Name(String),
}

impl FromStr for Column {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s.is_empty() {
            return Err("a column is a 0-based number or a name".into());
        }
        Ok(s.parse()
            .map(Column::Index)
            .unwrap_or_else(|_| Column::Name(s.to_string())))
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
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "none" => Ok(RatingColumn::Absent),
            "auto" => Ok(RatingColumn::Auto),
            _ => s.parse().map(RatingColumn::Column),
        }
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

impl FromStr for Header {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(Header::Auto),
            "yes" | "true" => Ok(Header::Yes),
            "no" | "false" => Ok(Header::No),
            _ => Err(format!("header must be auto, yes or no, not '{s}'")),
        }
    }
}

/// The file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// From the extension (`.jsonl`, `.json`, `.ndjson`) or the first byte.
    #[default]
    Auto,
    /// Delimited text.
    Delimited,
    /// One JSON object per line.
    JsonLines,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(Format::Auto),
            "csv" | "tsv" | "delimited" | "text" => Ok(Format::Delimited),
            "jsonl" | "json" | "ndjson" => Ok(Format::JsonLines),
            _ => Err(format!("format must be auto, csv or jsonl, not '{s}'")),
        }
    }
}

/// How to read an interaction file.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The format.
    pub format: Format,
    /// The delimiter (`,`, `\t`, `::`, …); `None` detects it.
    pub delimiter: Option<String>,
    /// Header handling.
    pub header: Header,
    /// User column; `None` finds it by name or takes the first.
    pub user: Option<Column>,
    /// Item column; `None` finds it by name or takes the second.
    pub item: Option<Column>,
    /// Rating column.
    pub rating: RatingColumn,
}

/// Parsed, indexed interactions, in file order (duplicates not yet merged).
#[derive(Debug, Default)]
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
    /// Bytes of the file on disk.
    pub bytes: u64,
}

impl Interactions {
    /// Number of interactions.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}

/// Normalised header names that are recognised without flags.
pub(crate) const USER_NAMES: &[&str] = &[
    "user",
    "userid",
    "reviewerid",
    "customerid",
    "visitorid",
    "uid",
    "username",
];
pub(crate) const ITEM_NAMES: &[&str] = &[
    "item",
    "itemid",
    "movieid",
    "asin",
    "productid",
    "trackid",
    "artistid",
    "songid",
    "iid",
    "artist",
    "track",
];
pub(crate) const RATING_NAMES: &[&str] = &[
    "rating",
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

/// Lower-case and drop `_`, `-` and spaces, so `userId` = `user_id` = `User ID`.
pub(crate) fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Receives records and interns them; shared by both parsers.
pub(crate) struct Sink<'a> {
    pub path: &'a Path,
    pub out: Interactions,
}

impl Sink<'_> {
    pub(crate) fn err(&self, line: u64, message: impl Into<String>) -> Error {
        Error::input(self.path, Some(line), message)
    }

    #[inline]
    pub(crate) fn push(&mut self, line: u64, user: &str, item: &str, value: f32) -> Result<()> {
        if user.is_empty() || item.is_empty() {
            return Err(self.err(
                line,
                format!("empty {} ID", if user.is_empty() { "user" } else { "item" }),
            ));
        }
        let u = self
            .out
            .users
            .intern(user)
            .ok_or_else(|| self.err(line, "more than 4,294,967,294 distinct users"))?;
        let i = self
            .out
            .items
            .intern(item)
            .ok_or_else(|| self.err(line, "more than 4,294,967,294 distinct items"))?;
        self.out.user.push(u);
        self.out.item.push(i);
        self.out.value.push(value);
        Ok(())
    }

    #[inline]
    pub(crate) fn rating(&self, line: u64, text: &str) -> Result<f32> {
        let t = text.trim();
        match t.parse::<f32>() {
            Ok(v) if v.is_finite() => Ok(v),
            Ok(_) => Err(self.err(line, format!("rating '{t}' is not a finite number"))),
            Err(_) if t.is_empty() => Err(self.err(line, "empty rating")),
            Err(_) => Err(self.err(line, format!("rating '{:.40}' is not a number", t))),
        }
    }
}

/// Reads an interaction file.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Interactions> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut raw = BufReader::with_capacity(1 << 20, file);
    let head = raw.fill_buf().map_err(|e| Error::io(path, e))?;
    let gz = head.starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn BufRead> = if gz {
        Box::new(BufReader::with_capacity(1 << 20, MultiGzDecoder::new(raw)))
    } else {
        Box::new(raw)
    };
    let head = reader.fill_buf().map_err(|e| read_error(path, e))?;
    if head.starts_with(&gramrec_core::format::MAGIC) {
        return Err(Error::input(
            path,
            None,
            "this is a gramrec factor file, not interaction data",
        ));
    }
    if head.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    let head = reader.fill_buf().map_err(|e| read_error(path, e))?.to_vec();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name).to_string();
    let format = match opts.format {
        Format::Auto
            if [".jsonl", ".json", ".ndjson"]
                .iter()
                .any(|e| name.ends_with(e)) =>
        {
            Format::JsonLines
        }
        Format::Auto if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') => {
            Format::JsonLines
        }
        Format::Auto => Format::Delimited,
        f => f,
    };
    let mut sink = Sink {
        path,
        out: Interactions {
            bytes,
            ..Default::default()
        },
    };
    match format {
        Format::JsonLines => jsonl::read(reader, opts, &mut sink)?,
        _ => {
            let delim = match &opts.delimiter {
                Some(d) => {
                    parse_delimiter(d).map_err(|m| Error::Usage(format!("--delimiter: {m}")))?
                }
                None => sniff_delimiter(&name, &head),
            };
            delimited::read(reader, &delim, opts, &mut sink)?;
        }
    }
    if sink.out.is_empty() {
        return Err(Error::input(
            path,
            None,
            "no interactions found (the file is empty or holds only a header)",
        ));
    }
    Ok(sink.out)
}

/// A read failure: gzip damage is bad input, anything else an I/O error.
pub(crate) fn read_error(path: &Path, e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::InvalidInput
        | std::io::ErrorKind::InvalidData
        | std::io::ErrorKind::UnexpectedEof => Error::input(
            path,
            None,
            format!("cannot decompress: {e} (is the gzip file truncated or damaged?)"),
        ),
        _ => Error::io(path, e),
    }
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
        if reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| read_error(path, e))?
            == 0
        {
            return Ok(());
        }
        line += 1;
        each(line, &buf)?;
    }
}

/// Parses a delimiter option: one character, `\t`/`tab`, or `::`.
pub fn parse_delimiter(d: &str) -> std::result::Result<Vec<u8>, String> {
    let d = match d {
        "\\t" | "tab" | "\t" => "\t",
        "space" => " ",
        other => other,
    };
    if d.is_empty() || d.len() > 4 {
        return Err(format!(
            "'{d}' is not a delimiter (give one character, 'tab', or a short string like '::')"
        ));
    }
    Ok(d.as_bytes().to_vec())
}

/// Picks the delimiter from the extension, else from the first line.
fn sniff_delimiter(name: &str, head: &[u8]) -> Vec<u8> {
    if name.ends_with(".csv") {
        return b",".to_vec();
    }
    if name.ends_with(".tsv") {
        return b"\t".to_vec();
    }
    let first = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
    if first.windows(2).any(|w| w == b"::") {
        return b"::".to_vec();
    }
    for d in [b'\t', b',', b';', b'|'] {
        if first.contains(&d) {
            return vec![d];
        }
    }
    if first.contains(&b' ') {
        return b" ".to_vec();
    }
    b",".to_vec()
}

/// Reads a whole small stream, for tests.
#[cfg(test)]
pub(crate) fn load_bytes(name: &str, data: &[u8], opts: &LoadOptions) -> Result<Interactions> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, data).unwrap();
    load(&path, opts).map_err(|e| match e {
        Error::Input { line, message, .. } => Error::Input {
            path: PathBuf::from(name),
            line,
            message,
        },
        other => other,
    })
}

#[cfg(test)]
mod tests;
