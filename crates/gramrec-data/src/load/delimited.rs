//! Delimited text: CSV (quoting-correct, through the `csv` crate) for
//! single-byte delimiters, and a plain splitter for multi-byte ones such as
//! MovieLens' `::`. Tab-separated files are read without quoting, as TSV
//! has no quoting convention and real exports carry stray quotes.

use std::io::BufRead;

use super::{
    looks_like_time, normalise, Column, ColumnChoice, Header, LoadOptions, RatingColumn, Sink, Text, ITEM_NAMES,
    RATING_NAMES, TIMESTAMP_NAMES, USER_NAMES,
};
use gramrec_core::{set, setting, Result};

/// Column positions, resolved against the header (or its absence).
struct Layout {
    /// None for an items-only file.
    user: Option<usize>,
    item: usize,
    rating: Option<usize>,
    timestamp: Option<usize>,
    /// The item fields', where found.
    fields: Vec<Option<usize>>,
    needed: usize,
}

fn resolve(sink: &Sink<'_>, opts: &LoadOptions, first: &[&str], line: u64) -> Result<(Layout, bool)> {
    let by_name = |c: &Option<Column>| matches!(c, Some(Column::Name(_)));
    let rating_by_name = matches!(opts.rating, RatingColumn::Column(Column::Name(_)));
    let known = |field: &str| {
        let n = normalise(field);
        USER_NAMES.contains(&n.as_str()) || ITEM_NAMES.contains(&n.as_str())
    };
    // What a value looks like: a number, or a key of the value map.
    let is_value = |f: &str| match &opts.value_map {
        Some(map) => map.get(f.trim()).is_some(),
        None => f.trim().parse::<f32>().is_ok(),
    };
    let header = match opts.header {
        Header::Yes => true,
        Header::No => false,
        Header::Auto => {
            by_name(&opts.user)
                || by_name(&opts.item)
                || opts.item_fields.iter().any(|f| by_name(&f.column))
                || (opts.items_only
                    && first.iter().any(|f| opts.item_fields.iter().any(|k| k.known.contains(&normalise(f).as_str()))))
                || rating_by_name
                || first.iter().take(2).any(|f| known(f))
                || match &opts.rating {
                    RatingColumn::Column(Column::Index(i)) => first.get(*i).is_some_and(|f| !is_value(f)),
                    RatingColumn::Auto => first.get(2).is_some_and(|f| !is_value(f)),
                    _ => false,
                }
        }
    };
    let find = |col: &Option<Column>, names: &[&str], default: usize, what: &str| -> Result<usize> {
        match col {
            Some(Column::Index(i)) => Ok(*i),
            Some(Column::Name(n)) => {
                if !header {
                    return Err(sink.err(
                        line,
                        format!("{} '{n}' names a column, but the file has no header", super::column_setting(what)),
                    ));
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
    let user = if opts.items_only { None } else { Some(find(&opts.user, USER_NAMES, 0, "user")?) };
    let item = find(&opts.item, ITEM_NAMES, usize::from(!opts.items_only), "item")?;
    let fields = opts
        .item_fields
        .iter()
        .map(|f| match &f.column {
            Some(c) => find(&Some(c.clone()), f.known, 0, f.role).map(Some),
            None if header => Ok(first.iter().position(|h| f.known.contains(&normalise(h.trim()).as_str()))),
            None => Ok(None),
        })
        .collect::<Result<Vec<_>>>()?;
    let rating = match &opts.rating {
        _ if opts.items_only => None,
        RatingColumn::Absent => None,
        RatingColumn::Column(c) => Some(find(&Some(c.clone()), RATING_NAMES, 2, "rating")?),
        RatingColumn::Auto if header => first.iter().position(|f| RATING_NAMES.contains(&normalise(f.trim()).as_str())),
        RatingColumn::Auto => (first.len() > 2).then_some(2),
    };
    if user == Some(item) || (user.is_some() && user == rating) || Some(item) == rating {
        return Err(sink.err(line, "the user, item and rating columns must be different columns"));
    }
    let timestamp = if opts.timestamps {
        let found = match &opts.timestamp {
            Some(c) => Some(find(&Some(c.clone()), TIMESTAMP_NAMES, 3, "timestamp")?),
            None if header => first.iter().position(|f| TIMESTAMP_NAMES.contains(&normalise(f.trim()).as_str())),
            // No header: the fourth column by convention, else the last
            // other column, but only one whose first value looks like a time.
            None => std::iter::once(3).chain((0..first.len()).rev()).find(|&i| {
                Some(i) != user
                    && i != item
                    && Some(i) != rating
                    && first.get(i).is_some_and(|f| looks_like_time(f, opts.time_format.as_deref()))
            }),
        };
        Some(found.ok_or_else(|| sink.err(line, super::no_timestamp_column()))?)
    } else {
        None
    };
    let needed = 1 + [user, Some(item), rating, timestamp]
        .into_iter()
        .chain(fields.iter().copied())
        .flatten()
        .max()
        .unwrap_or(0);
    Ok((Layout { user, item, rating, timestamp, fields, needed }, header))
}

/// Which columns a layout took, and how (`header`: the header's names).
fn choices(opts: &LoadOptions, layout: &Layout, header: Option<&[&str]>) -> Vec<ColumnChoice> {
    let name = |i: usize| header.and_then(|h| h.get(i).copied());
    let mut chosen = vec![
        ColumnChoice::new("user", layout.user.and_then(name), layout.user, opts.user.is_some(), USER_NAMES),
        ColumnChoice::new("item", name(layout.item), Some(layout.item), opts.item.is_some(), ITEM_NAMES),
    ];
    if let Some(r) = layout.rating {
        let flag = matches!(opts.rating, RatingColumn::Column(_));
        chosen.push(ColumnChoice::new("rating", name(r), Some(r), flag, RATING_NAMES));
    }
    if let Some(t) = layout.timestamp {
        chosen.push(ColumnChoice::new("timestamp", name(t), Some(t), opts.timestamp.is_some(), TIMESTAMP_NAMES));
    }
    chosen
}

/// Handles one record's fields: the first record decides the layout.
struct Records<'s> {
    opts: &'s LoadOptions,
    layout: Option<Layout>,
}

impl Records<'_> {
    #[inline]
    fn record(&mut self, sink: &mut Sink<'_>, line: u64, fields: &[&str]) -> Result<()> {
        if fields.len() == 1 && fields[0].trim().is_empty() {
            return Ok(()); // blank line
        }
        if self.layout.is_none() {
            let (layout, header) = resolve(sink, self.opts, fields, line)?;
            if !self.opts.items_only {
                sink.out.columns = choices(self.opts, &layout, header.then_some(fields));
            }
            sink.layout().columns = fields.len();
            sink.out.has_ratings = layout.rating.is_some();
            sink.out.item_fields_found = layout.fields.iter().map(Option::is_some).collect();
            self.layout = Some(layout);
            if header {
                sink.layout().header_line = Some(line);
                return Ok(());
            }
        }
        let layout = self.layout.as_ref().expect("set above");
        if fields.len() < layout.needed {
            let message = format!("expected at least {} columns, found {}", layout.needed, fields.len());
            return Err(sink.reject(line, "too few columns", message));
        }
        let value = match layout.rating {
            Some(r) => sink.rating(line, fields[r])?,
            None => 1.0,
        };
        let time = layout.timestamp.map(|t| sink.timestamp(line, fields[t])).transpose()?;
        let i = fields[layout.item].trim();
        if layout.fields.is_empty() {
            return sink.push(line, fields[layout.user.expect("interactions have users")].trim(), i, value, time);
        }
        let details: Vec<&str> = layout.fields.iter().map(|f| f.map_or("", |at| fields[at])).collect();
        sink.check_details(line, &details)?;
        if let Some(u) = layout.user {
            sink.push(line, fields[u].trim(), i, value, time)?;
        }
        sink.details(line, i, &details)
    }
}

/// Reads delimited text: the delimiter given, or detected from the first
/// lines (`head`) and the file name.
pub(super) fn read(text: Text<'_>, opts: &LoadOptions, sink: &mut Sink<'_>) -> Result<()> {
    let (delim, quoting) = choose(text.name, text.head, opts, sink, Candidates::Columns)?;
    let mut recs = Records { opts, layout: None };
    for_each_record(text.reader, &delim, quoting, sink, |sink, line, fields| recs.record(sink, line, fields))
}

/// A delimiter between fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Delimiter {
    /// One byte: `,`, `\t`, `;`, `|`, …
    Byte(u8),
    /// Several: MovieLens' `::`.
    Text(String),
    /// Runs of spaces (Audioscrobbler's `user artist count`).
    Spaces,
}

impl Delimiter {
    /// What is written between two fields.
    fn as_text(&self) -> String {
        match self {
            Delimiter::Byte(b) => (*b as char).to_string(),
            Delimiter::Text(t) => t.clone(),
            Delimiter::Spaces => " ".into(),
        }
    }

    /// How the log names it.
    fn describe(&self) -> String {
        match self {
            Delimiter::Byte(b'\t') => "tab".into(),
            Delimiter::Byte(b) => format!("'{}'", *b as char),
            Delimiter::Text(t) => format!("'{t}'"),
            Delimiter::Spaces => "runs of spaces".into(),
        }
    }
}

/// Parses a delimiter option: one character, `tab`, `space`, or a short
/// string such as `::`.
pub(super) fn parse_delimiter(d: &str) -> Result<Delimiter> {
    match d {
        "\\t" | "tab" | "\t" => Ok(Delimiter::Byte(b'\t')),
        "space" | "spaces" | " " => Ok(Delimiter::Spaces),
        _ if d.len() == 1 => Ok(Delimiter::Byte(d.as_bytes()[0])),
        _ if !d.is_empty() && d.len() <= 4 => Ok(Delimiter::Text(d.to_string())),
        _ => Err(gramrec_core::Error::Argument(format!(
            "{} '{}' is not a delimiter (give one character, 'tab', 'space', or a short string like '::')",
            setting("delimiter"),
            gramrec_core::text::excerpt(d, 20)
        ))),
    }
}

/// What a detected delimiter must split a file into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Candidates {
    /// The same number of columns (two or more) on nearly every line.
    Columns,
    /// Baskets: items, as many as each line has (items may hold spaces).
    Items,
}

/// The delimiter and whether quotes are honoured: as given, else detected
/// (and noted). Quotes (RFC 4180) are honoured for `,`, `;` and `|`, and for
/// any other delimiter when the first lines hold a quoted field.
pub(super) fn choose(
    name: &str,
    head: &[u8],
    opts: &LoadOptions,
    sink: &mut Sink<'_>,
    kind: Candidates,
) -> Result<(Delimiter, bool)> {
    let lines = sample(head);
    let delim = match &opts.delimiter {
        Some(d) => parse_delimiter(d)?,
        None => {
            let d = detect(name, &lines, kind);
            let occurs = lines.iter().any(|l| count_fields(l, &d) > 1);
            if !occurs && kind == Candidates::Items && lines.iter().any(|l| l.trim_ascii().contains(&b' ')) {
                return Err(gramrec_core::Error::Argument(format!(
                    "{name}: no delimiter (comma, tab, ';', '|' or '::') in the first lines, but they hold spaces: \
                     pass {} if spaces separate the items, or {} if each line is one item",
                    set("delimiter", "space"),
                    set("delimiter", "','")
                )));
            }
            // Said when the extension would not have told, and never a
            // delimiter the lines do not hold.
            let expected = [(".csv", Delimiter::Byte(b',')), (".tsv", Delimiter::Byte(b'\t'))];
            if !occurs {
                sink.out.notes.push("delimiter: none in the first lines (one field a line)".into());
            } else if !expected.iter().any(|(ext, e)| name.ends_with(ext) && *e == d) {
                sink.out.notes.push(format!("delimiter: {} (detected)", d.describe()));
            }
            d
        }
    };
    let quoted = lines.iter().any(|l| {
        let l = String::from_utf8_lossy(l);
        let mut fields = Vec::new();
        split(&l, &delim, false, &mut fields);
        fields.iter().any(|f| f.trim_start().starts_with('"'))
    });
    let quoting = matches!(delim, Delimiter::Byte(b',' | b';' | b'|')) || quoted;
    let layout = sink.layout();
    layout.delimiter = delim.as_text();
    layout.quoting = quoting;
    Ok((delim, quoting))
}

/// The first whole lines of `head` (at most 50), blank ones left out.
fn sample(head: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    if !head.ends_with(b"\n") && lines.len() > 1 {
        lines.pop(); // cut off by the end of the buffer
    }
    lines
        .into_iter()
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .take(50)
        .collect()
}

/// Fields of `line` split by `delim`, quotes respected: for detection only.
fn count_fields(line: &[u8], delim: &Delimiter) -> usize {
    let mut count = 1;
    let mut quoted = false;
    let mut i = 0;
    let mut in_spaces = false;
    let trimmed = if *delim == Delimiter::Spaces { line.trim_ascii() } else { line };
    while i < trimmed.len() {
        let b = trimmed[i];
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            match delim {
                Delimiter::Byte(d) if b == *d => count += 1,
                Delimiter::Text(t) if trimmed[i..].starts_with(t.as_bytes()) => {
                    count += 1;
                    i += t.len() - 1;
                }
                Delimiter::Spaces if b == b' ' => {
                    if !in_spaces {
                        count += 1;
                    }
                    in_spaces = true;
                    i += 1;
                    continue;
                }
                _ => {}
            }
        }
        in_spaces = false;
        i += 1;
    }
    count
}

/// The delimiter of a file: `.tsv` is tab-separated; otherwise the candidate
/// that splits the sample lines most consistently into the most columns
/// (for baskets: the first that appears), else a comma.
fn detect(name: &str, lines: &[&[u8]], kind: Candidates) -> Delimiter {
    if name.ends_with(".tsv") {
        return Delimiter::Byte(b'\t');
    }
    let candidates = [
        Delimiter::Text("::".into()),
        Delimiter::Byte(b'\t'),
        Delimiter::Byte(b','),
        Delimiter::Byte(b';'),
        Delimiter::Byte(b'|'),
        Delimiter::Spaces,
    ];
    if kind == Candidates::Items {
        let found = candidates[..5].iter().find(|d| lines.iter().any(|l| count_fields(l, d) > 1));
        return found.cloned().unwrap_or(Delimiter::Byte(b','));
    }
    // Runs of spaces are the last resort: names and titles hold spaces, so
    // a comma file of "i1,Blue cotton shirt" must not split on them.
    let (marks, spaces) = candidates.split_at(5);
    most_columns(lines, marks).or_else(|| most_columns(lines, spaces)).unwrap_or(Delimiter::Byte(b','))
}

/// Of `candidates`, the one that splits at least 80% of the lines into the
/// same number (≥ 2) of columns, the most columns winning.
fn most_columns(lines: &[&[u8]], candidates: &[Delimiter]) -> Option<Delimiter> {
    let mut best: Option<(usize, &Delimiter)> = None;
    for d in candidates {
        let counts: Vec<usize> = lines.iter().map(|l| count_fields(l, d)).collect();
        let mut freq = std::collections::BTreeMap::new();
        for &c in &counts {
            *freq.entry(c).or_insert(0usize) += 1;
        }
        let Some((&columns, &n)) = freq.iter().max_by_key(|(&c, &n)| (n, c)) else { continue };
        let consistent = columns >= 2 && n * 10 >= counts.len() * 8;
        if consistent && best.is_none_or(|(b, _)| columns > b) {
            best = Some((columns, d));
        }
    }
    best.map(|(_, d)| d.clone())
}

/// Calls `each(sink, line, fields)` for every record of `text`, fields
/// split by `delim` (quotes honoured when `quoting`), each field checked to
/// be UTF-8 on its own; bad records are rejected through the sink (so
/// `--skip-invalid` counts them).
pub(super) fn for_each_record(
    text: Box<dyn BufRead>,
    delim: &Delimiter,
    quoting: bool,
    sink: &mut Sink<'_>,
    mut each: impl FnMut(&mut Sink<'_>, u64, &[&str]) -> Result<()>,
) -> Result<()> {
    // One allocation for the field list, reused across lines of different lifetimes.
    let mut spare: Vec<&'static str> = Vec::with_capacity(8);
    if let Delimiter::Byte(d) = delim {
        // Records end at '\n' (a '\r' before it is trimmed with the field):
        // with CRLF terminators the reader would report each record at the
        // line before its own.
        let mut rdr = csv::ReaderBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .delimiter(*d)
            .has_headers(false)
            .flexible(true)
            .quoting(quoting)
            .from_reader(EndWithNewline { inner: text, last: b'\n', done: false });
        let mut rec = csv::ByteRecord::new();
        loop {
            let line = rdr.position().line();
            match rdr.read_byte_record(&mut rec) {
                Ok(false) => return Ok(()),
                Ok(true) => {}
                Err(e) => {
                    let outcome = Err(csv_error(sink, line, e));
                    sink.tolerate(outcome)?;
                    continue;
                }
            }
            // The record's first line, counted back from the line end that
            // closed it: the position the reader gives a record is taken
            // before the blank lines it skips on the way. (A quote left open
            // runs to the end of the file, with no line end to close it.)
            let end = rdr.position().line();
            // Only a read that went over more than one line can hold line ends.
            let inner = match end - line {
                0 | 1 => 0,
                _ => memchr::memchr_iter(b'\n', rec.as_slice()).count() as u64,
            };
            let line = (end - 1 - inner).max(line);
            if inner > 0 {
                sink.layout().spans.push((line, inner + 1));
            }
            // Each field on its own: invalid fields can join into valid UTF-8.
            let mut fields = recycle(std::mem::take(&mut spare));
            let valid = rec.iter().try_for_each(|f| std::str::from_utf8(f).map(|f| fields.push(f)));
            if let Some(last) = fields.last_mut() {
                *last = last.strip_suffix('\r').unwrap_or(last);
            }
            let outcome = match valid {
                Ok(()) => each(sink, line, &fields),
                Err(_) => Err(sink.reject(line, "invalid UTF-8", "the line is not valid UTF-8")),
            };
            sink.tolerate(outcome)?;
            spare = recycle(fields);
        }
    }
    let path = sink.path;
    let mut owned: Vec<String> = Vec::new();
    super::for_each_line(text, path, |line, buf| {
        let Ok(text) = std::str::from_utf8(buf) else {
            return sink.tolerate(Err(sink.reject(line, "invalid UTF-8", "the line is not valid UTF-8")));
        };
        let text = text.trim_end_matches(['\n', '\r']);
        split(text, delim, quoting, &mut owned);
        let fields: Vec<&str> = owned.iter().map(String::as_str).collect();
        let outcome = each(sink, line, &fields);
        sink.tolerate(outcome)
    })
}

/// A text that ends with a line end: a last line without one gets one, so
/// that every record read ends with its line and its first line can be
/// counted back from where the reader stands.
struct EndWithNewline {
    inner: Box<dyn BufRead>,
    /// The last byte passed on.
    last: u8,
    /// Whether the line end was added.
    done: bool,
}

impl std::io::Read for EndWithNewline {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let data = self.fill_buf()?;
            let n = data.len().min(buf.len());
            buf[..n].copy_from_slice(&data[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for EndWithNewline {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.done {
            return Ok(if self.last == b'\n' { &[] } else { b"\n" });
        }
        let data = self.inner.fill_buf()?;
        if data.is_empty() {
            self.done = true;
            return Ok(if self.last == b'\n' { &[] } else { b"\n" });
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        if self.done {
            self.last = b'\n';
            return;
        }
        if let Ok(data) = self.inner.fill_buf() {
            self.last = data[n - 1];
        }
        self.inner.consume(n);
    }
}

/// Splits one line by a multi-byte delimiter or runs of spaces into `out`,
/// a field starting with `"` running to its closing quote (`""` inside is one `"`).
fn split(line: &str, delim: &Delimiter, quoting: bool, out: &mut Vec<String>) {
    out.clear();
    let line = if *delim == Delimiter::Spaces { line.trim_matches(' ') } else { line };
    let mut rest = line;
    loop {
        let mut field = String::new();
        if quoting && rest.starts_with('"') {
            let mut chars = rest[1..].char_indices();
            let mut end = rest.len();
            while let Some((i, c)) = chars.next() {
                if c == '"' {
                    if rest[1 + i + 1..].starts_with('"') {
                        field.push('"');
                        chars.next();
                    } else {
                        end = 1 + i + 1;
                        break;
                    }
                } else {
                    field.push(c);
                }
            }
            rest = &rest[end..];
            // Anything up to the next delimiter belongs to the field.
            let next = next_delimiter(rest, delim);
            field.push_str(&rest[..next.map_or(rest.len(), |(at, _)| at)]);
            rest = next.map_or("", |(at, len)| &rest[at + len..]);
            out.push(field);
            if next.is_none() {
                return;
            }
            continue;
        }
        match next_delimiter(rest, delim) {
            Some((at, len)) => {
                field.push_str(&rest[..at]);
                out.push(field);
                rest = &rest[at + len..];
            }
            None => {
                field.push_str(rest);
                out.push(field);
                return;
            }
        }
    }
}

/// Where the next delimiter starts in `s`, and how long it is.
fn next_delimiter(s: &str, delim: &Delimiter) -> Option<(usize, usize)> {
    match delim {
        Delimiter::Byte(b) => s.bytes().position(|x| x == *b).map(|at| (at, 1)),
        Delimiter::Text(t) => s.find(t.as_str()).map(|at| (at, t.len())),
        Delimiter::Spaces => {
            let at = s.find(' ')?;
            let len = s[at..].bytes().take_while(|&b| b == b' ').count();
            Some((at, len))
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn detected(text: &str) -> Delimiter {
        detect("x.txt", &sample(text.as_bytes()), Candidates::Columns)
    }

    #[test]
    fn delimiters_are_detected_from_the_first_lines() {
        assert_eq!(detected("u,i,1\nv,j,2\n"), Delimiter::Byte(b','));
        assert_eq!(detected("\"43842\";\"0739432540\";\"0\"\n\"1\";\"2\";\"3\"\n"), Delimiter::Byte(b';'));
        assert_eq!(
            detected("u;i;4,5\nv;j;3,0\n"),
            Delimiter::Byte(b';'),
            "decimal commas do not make it comma-separated"
        );
        assert_eq!(detected("u|i|1\n"), Delimiter::Byte(b'|'));
        assert_eq!(detected("1::1193::5::978300760\n"), Delimiter::Text("::".into()));
        assert_eq!(detected("1000002 1 55\n1000002 1000006 33\n"), Delimiter::Spaces);
        assert_eq!(
            detected("item,name\ni0,Item number 0\ni3,Item number 3\ni6,Item number 6\n"),
            Delimiter::Byte(b','),
            "names with spaces do not make it space-separated"
        );
        assert_eq!(detected("196\t242\t3\t881250949\n"), Delimiter::Byte(b'\t'));
        assert_eq!(detected("only\n"), Delimiter::Byte(b','));
        assert_eq!(detect("x.tsv", &sample(b"a,b\tc\n"), Candidates::Columns), Delimiter::Byte(b'\t'));
        assert_eq!(detect("b.csv", &sample(b"milk\nbread,butter\n"), Candidates::Items), Delimiter::Byte(b','));
    }

    #[test]
    fn multi_byte_and_space_delimiters_honour_quotes() {
        let mut out = Vec::new();
        split("1::\"a::b\"::5", &Delimiter::Text("::".into()), true, &mut out);
        assert_eq!(out, ["1", "a::b", "5"]);
        split("  u1   \"Daft \"\"Punk\"\"\"  7 ", &Delimiter::Spaces, true, &mut out);
        assert_eq!(out, ["u1", "Daft \"Punk\"", "7"]);
        split("u\t\"x\"\t3", &Delimiter::Byte(b'\t'), false, &mut out);
        assert_eq!(out, ["u", "\"x\"", "3"], "without quoting, quotes are kept");
    }
}
