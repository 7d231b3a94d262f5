//! Parquet: a file, or a folder as Spark, Hive and pandas write them —
//! `part-*.parquet` files (in name order), `_SUCCESS`, `.crc` and other
//! hidden files ignored, and `key=value/` partition folders whose values can
//! be chosen as columns like the files' own.
//!
//! Columns are chosen by name as in CSV (`--user-col`, … or the usual names),
//! or by position in the schema. IDs may be any integer, float (integral
//! values read as integers, as Spark's `StringIndexer` writes them), string,
//! binary or dictionary column; values and timestamps any numeric, date,
//! timestamp or string column. A null is an empty field: an error naming the
//! file, row group and row, or skipped and counted with `--skip-invalid`.
//!
//! Row groups are decoded in parallel, a few per thread at a time, and their
//! rows are interned in file order: the IDs (and so the model) are the same
//! however many threads read them. Memory is bounded by what the file holds,
//! not by what it expands to: text columns are read as views into the
//! decoded dictionary or page (a value repeated in every row is held once),
//! batches stream from each row group instead of being collected, and a row
//! group whose columns declare more than [`MAX_ROW_GROUP_BYTES`] uncompressed
//! is refused before anything is decoded.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt16Type,
    UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, TimeUnit};
use gramrec_core::{Error, Result};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;

use super::{
    normalise, Column, Interactions, LoadOptions, RatingColumn, Sink, ITEM_NAMES, RATING_NAMES, TIMESTAMP_NAMES,
    USER_NAMES,
};

/// Rows per decoded batch.
const BATCH_ROWS: usize = 64 * 1024;

/// The most uncompressed bytes the columns read from one row group may
/// declare: about what decoding it may hold at once. Spark writes row groups
/// of 128 MB; a larger declaration is a file to rewrite, or a hostile one.
pub const MAX_ROW_GROUP_BYTES: i64 = 2 << 30;

/// Decoded batches waiting, per row group in flight.
const BATCHES_AHEAD: usize = 2;

/// The Parquet files of an input (a file, or a folder's parts).
pub fn parquet_files(root: &Path) -> Result<Vec<PathBuf>> {
    Ok(parts(root)?.into_iter().map(|p| p.path).collect())
}

/// Whether `path` is Parquet: a folder holding Parquet parts, a `.parquet`
/// file, or a file that starts with Parquet's magic bytes.
pub fn is_parquet(path: &Path) -> bool {
    if path.is_dir() {
        return parts(path).is_ok_and(|p| !p.is_empty());
    }
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")) || starts_with_magic(path)
}

fn starts_with_magic(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    File::open(path).and_then(|mut f| f.read_exact(&mut magic)).is_ok() && &magic == b"PAR1"
}

/// One Parquet file of an input, with the partition values of its folders.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    pub path: PathBuf,
    pub partitions: Vec<(String, String)>,
}

/// The Parquet files of `root` (itself, if it is a file), in path order.
pub(crate) fn parts(root: &Path) -> Result<Vec<Part>> {
    if !root.is_dir() {
        return Ok(vec![Part { path: root.to_path_buf(), partitions: Vec::new() }]);
    }
    let mut found = Vec::new();
    walk(root, &mut Vec::new(), &mut found, &mut Default::default())?;
    // A file reached along several paths is read once, along a path that is
    // not itself a link where there is one (so it keeps its partition folders).
    found.sort_by_cached_key(|(part, real)| (real.clone(), part.path.is_symlink(), part.path.clone()));
    found.dedup_by(|later, first| later.1 == first.1);
    let mut parts: Vec<Part> = found.into_iter().map(|(part, _)| part).collect();
    parts.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(parts)
}

/// Collects the Parquet files under `dir`, each with its canonical path.
/// Symbolic links are followed, but each real folder is walked once (`seen`
/// holds their canonical paths): a link back up the tree is no loop.
fn walk(
    dir: &Path,
    partitions: &mut Vec<(String, String)>,
    found: &mut Vec<(Part, PathBuf)>,
    seen: &mut std::collections::HashSet<PathBuf>,
) -> Result<()> {
    if !seen.insert(std::fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?) {
        return Ok(());
    }
    let mut entries: Vec<std::fs::DirEntry> =
        std::fs::read_dir(dir).and_then(|entries| entries.collect()).map_err(|e| Error::io(dir, e))?;
    // Real folders before links, so a folder is walked along its own path
    // (keeping its partition values) when it has one.
    entries.sort_by_cached_key(|e| (e.file_type().is_ok_and(|t| t.is_symlink()), e.file_name()));
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(['.', '_']) {
            continue; // _SUCCESS, _committed_*, .part-….crc, hidden files
        }
        let path = entry.path();
        if path.is_dir() {
            if let Some((key, value)) = name.split_once('=') {
                partitions.push((key.to_string(), unescape_partition(value)));
                walk(&path, partitions, found, seen)?;
                partitions.pop();
            } else {
                walk(&path, partitions, found, seen)?;
            }
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")) || starts_with_magic(&path) {
            let real = std::fs::canonicalize(&path).map_err(|e| Error::io(&path, e))?;
            found.push((Part { path, partitions: partitions.clone() }, real));
        }
    }
    Ok(())
}

/// Hive escapes partition values with `%XX`.
fn unescape_partition(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&v[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where a chosen column comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// A column of the files, by its position in the schema.
    Field(usize),
    /// A partition key: the same value for every row of a part.
    Partition(String),
}

/// The columns an input's rows are read from.
#[derive(Debug, Clone)]
struct Layout {
    /// None for an items-only file.
    user: Option<Source>,
    item: Source,
    rating: Option<Source>,
    timestamp: Option<Source>,
    /// The item fields', where found.
    details: Vec<Option<Source>>,
}

impl Layout {
    fn fields(&self) -> Vec<usize> {
        let mut v: Vec<usize> = [self.user.as_ref(), Some(&self.item), self.rating.as_ref(), self.timestamp.as_ref()]
            .into_iter()
            .chain(self.details.iter().map(Option::as_ref))
            .flatten()
            .filter_map(|s| match s {
                Source::Field(i) => Some(*i),
                Source::Partition(_) => None,
            })
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

fn resolve(schema: &Schema, partitions: &[(String, String)], opts: &LoadOptions, path: &Path) -> Result<Layout> {
    let names: Vec<&str> =
        schema.fields().iter().map(|f| f.name().as_str()).chain(partitions.iter().map(|(k, _)| k.as_str())).collect();
    let source = |i: usize| -> Source {
        if i < schema.fields().len() {
            Source::Field(i)
        } else {
            Source::Partition(partitions[i - schema.fields().len()].0.clone())
        }
    };
    let find = |col: &Option<Column>, known: &[&str], default: Option<usize>, what: &str| -> Result<Option<Source>> {
        let at = match col {
            Some(Column::Index(i)) if *i < names.len() => Some(*i),
            Some(Column::Index(i)) => {
                return Err(Error::input(
                    path,
                    None,
                    format!("{} {i}: the file has {} columns", super::column_setting(what), names.len()),
                ))
            }
            Some(Column::Name(n)) => Some(names.iter().position(|f| f == n).ok_or_else(|| {
                Error::input(path, None, format!("no column named '{n}' (the columns are {})", names.join(", ")))
            })?),
            None => names.iter().position(|f| known.contains(&normalise(f).as_str())).or(default),
        };
        Ok(at.map(source))
    };
    let user = if opts.items_only { None } else { find(&opts.user, USER_NAMES, Some(0), "user")? };
    let second = if opts.items_only { 0 } else { 1.min(names.len().saturating_sub(1)) };
    let item = find(&opts.item, ITEM_NAMES, Some(second), "item")?.expect("a default");
    let details =
        opts.item_fields.iter().map(|f| find(&f.column, f.known, None, f.role)).collect::<Result<Vec<_>>>()?;
    let rating = match &opts.rating {
        _ if opts.items_only => None,
        RatingColumn::Absent => None,
        RatingColumn::Column(c) => find(&Some(c.clone()), RATING_NAMES, None, "rating")?,
        RatingColumn::Auto => find(&None, RATING_NAMES, None, "rating")?,
    };
    if user.as_ref() == Some(&item) || (user.is_some() && user == rating) || Some(&item) == rating.as_ref() {
        return Err(Error::input(path, None, "the user, item and rating columns must be different columns"));
    }
    let timestamp = if opts.timestamps {
        Some(
            find(&opts.timestamp, TIMESTAMP_NAMES, None, "timestamp")?
                .ok_or_else(|| Error::input(path, None, super::no_timestamp_column()))?,
        )
    } else {
        None
    };
    Ok(Layout { user, item, rating, timestamp, details })
}

/// A row group to read.
struct Task {
    part: usize,
    row_group: usize,
    /// Global 1-based number of its first row, over all parts.
    first_row: u64,
}

/// One part, opened.
struct Opened {
    part: Part,
    metadata: ArrowReaderMetadata,
    layout: Layout,
    mask: ProjectionMask,
    /// Schema positions of the projected columns, in projection order.
    projected: Vec<usize>,
}

/// Which columns a part's layout took, and how.
fn choices(o: &Opened, opts: &LoadOptions) -> Vec<super::ColumnChoice> {
    let schema = o.metadata.schema();
    let name = |s: &Source| match s {
        Source::Field(i) => schema.field(*i).name().clone(),
        Source::Partition(k) => k.clone(),
    };
    let l = &o.layout;
    [
        (l.user.as_ref(), "user", opts.user.is_some(), USER_NAMES),
        (Some(&l.item), "item", opts.item.is_some(), ITEM_NAMES),
        (l.rating.as_ref(), "rating", matches!(opts.rating, RatingColumn::Column(_)), RATING_NAMES),
        (l.timestamp.as_ref(), "timestamp", opts.timestamp.is_some(), TIMESTAMP_NAMES),
    ]
    .into_iter()
    .filter_map(|(s, role, flag, known)| s.map(|s| super::ColumnChoice::new(role, Some(&name(s)), None, flag, known)))
    .collect()
}

fn parquet_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::input(path, None, format!("not a readable Parquet file: {e}"))
}

/// Reads a Parquet file or folder.
pub(super) fn read(root: &Path, opts: &LoadOptions) -> Result<Interactions> {
    if root.as_os_str() == "-" {
        return Err(Error::Argument("Parquet cannot be read from standard input: give the file or folder".into()));
    }
    let parts = parts(root)?;
    if parts.is_empty() {
        return Err(Error::input(root, None, "no Parquet files in this folder"));
    }
    let mut opened = Vec::with_capacity(parts.len());
    let mut bytes = 0;
    for part in parts {
        let file = File::open(&part.path).map_err(|e| Error::io(&part.path, e))?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        bytes += len;
        let metadata =
            ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(|e| parquet_error(&part.path, e))?;
        let metadata = ArrowReaderMetadata::try_new(
            metadata.metadata().clone(),
            ArrowReaderOptions::new().with_schema(text_as_views(metadata.schema())),
        )
        .map_err(|e| parquet_error(&part.path, e))?;
        let layout = resolve(metadata.schema(), &part.partitions, opts, &part.path)?;
        let projected = layout.fields();
        let mask = ProjectionMask::roots(metadata.parquet_schema(), projected.iter().copied());
        check_ranges(&file, &metadata, &projected, len).map_err(|m| parquet_error(&part.path, m))?;
        opened.push(Opened { part, metadata, layout, mask, projected });
    }
    let mut tasks = Vec::new();
    let mut row = 1u64;
    for (p, o) in opened.iter().enumerate() {
        for (g, rg) in o.metadata.metadata().row_groups().iter().enumerate() {
            let declared: i64 = o.projected.iter().map(|&c| rg.column(c).uncompressed_size().max(0)).sum();
            if declared > MAX_ROW_GROUP_BYTES {
                return Err(Error::input(
                    &o.part.path,
                    None,
                    format!(
                        "row group {g}: the columns read declare {:.1} GiB uncompressed, more than the {} GiB \
                         decoded at once; write the file with smaller row groups (Spark: parquet.block.size)",
                        declared as f64 / (1u64 << 30) as f64,
                        MAX_ROW_GROUP_BYTES >> 30
                    ),
                ));
            }
            tasks.push(Task { part: p, row_group: g, first_row: row });
            row += rg.num_rows().max(0) as u64;
        }
    }
    let mut sink = Sink { path: root, out: Interactions { bytes, ..Default::default() }, opts };
    sink.out.has_ratings = opened[0].layout.rating.is_some();
    sink.out.item_fields_found = opened[0].layout.details.iter().map(Option::is_some).collect();
    if opened.len() > 1 {
        sink.out.notes.push(format!("Parquet: {} files, {} row groups, {} rows", opened.len(), tasks.len(), row - 1));
    }
    let window = rayon::current_num_threads().max(1) * 2;
    for group in tasks.chunks(window) {
        // One decoding thread per row group in flight, each a few batches
        // ahead of the interning, which takes them in file order.
        std::thread::scope(|scope| -> Result<()> {
            let streams: Vec<_> = group
                .iter()
                .map(|t| {
                    let (tx, rx) = std::sync::mpsc::sync_channel(BATCHES_AHEAD);
                    let o = &opened[t.part];
                    scope.spawn(move || decode(o, t, |b| tx.send(b).is_ok()));
                    rx
                })
                .collect();
            for (task, batches) in group.iter().zip(streams) {
                let o = &opened[task.part];
                let mut row = task.first_row;
                for b in batches {
                    let b = b?;
                    intern(&mut sink, o, task, &b, row)?;
                    row += b.num_rows() as u64;
                }
            }
            Ok(())
        })?;
    }
    super::no_records(&sink, "the Parquet data has no rows")?;
    if !opts.items_only {
        sink.out.columns = choices(&opened[0], opts);
    }
    super::check_columns(root, &mut sink.out, 0, opts)?;
    super::apply_aliases(&mut sink.out, opts)?;
    Ok(sink.out)
}

/// Checks that every column chunk read lies inside the file (`len` bytes),
/// and so do its pages, each of a bounded size: the decoder trusts the
/// footer's offsets (asserting on negative ones) and allocates each page's
/// declared size.
fn check_ranges(
    file: &File,
    metadata: &ArrowReaderMetadata,
    projected: &[usize],
    len: u64,
) -> std::result::Result<(), String> {
    for (g, rg) in metadata.metadata().row_groups().iter().enumerate() {
        for &c in projected {
            let Some(chunk) = rg.columns().get(c) else {
                return Err(format!("row group {g} lacks column {c}: a damaged file"));
            };
            let start = chunk.dictionary_page_offset().unwrap_or_else(|| chunk.data_page_offset());
            let size = chunk.compressed_size();
            if start < 0 || size < 0 || (start as u64).saturating_add(size as u64) > len {
                return Err(format!(
                    "row group {g}, column {}: the footer places it at bytes {start}..+{size}, outside the file's {len} bytes: \
                     a damaged or truncated file",
                    chunk.column_path()
                ));
            }
            super::parquet_pages::check_chunk(file, start as u64, size as u64)
                .map_err(|m| format!("row group {g}, column {}: {m}", chunk.column_path()))?;
        }
    }
    Ok(())
}

/// Decodes a row group's batches into `send`, until it refuses one (the
/// reader stopped) or the row group ends; an error is sent as the last item.
fn decode(o: &Opened, task: &Task, send: impl Fn(Result<RecordBatch>) -> bool) {
    let path = &o.part.path;
    let reader = File::open(path).map_err(|e| Error::io(path, e)).and_then(|file| {
        ParquetRecordBatchReaderBuilder::new_with_metadata(file, o.metadata.clone())
            .with_row_groups(vec![task.row_group])
            .with_projection(o.mask.clone())
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|e| parquet_error(path, e))
    });
    let reader = match reader {
        Ok(r) => r,
        Err(e) => {
            send(Err(e));
            return;
        }
    };
    for b in reader {
        let failed = b.is_err();
        if !send(b.map_err(|e| parquet_error(path, e))) || failed {
            return;
        }
    }
}

/// The schema to read with: every text and binary column as a view array
/// (Utf8View, BinaryView), whose rows point into the decoded dictionary or
/// page instead of copying their value: a value repeated over many rows is
/// held once, not once per row, and reading is no slower.
fn text_as_views(schema: &Schema) -> Arc<Schema> {
    let fields: Vec<arrow_schema::Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 => f.as_ref().clone().with_data_type(DataType::Utf8View),
            DataType::Binary | DataType::LargeBinary => f.as_ref().clone().with_data_type(DataType::BinaryView),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// A column of a batch, or a partition's constant.
enum Values<'a> {
    Array(&'a ArrayRef),
    Constant(&'a str),
}

fn values<'a>(o: &'a Opened, batch: &'a RecordBatch, source: &'a Source) -> Values<'a> {
    match source {
        Source::Field(i) => {
            let at = o.projected.iter().position(|p| p == i).expect("projected");
            Values::Array(batch.column(at))
        }
        Source::Partition(key) => {
            let v = o.part.partitions.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or("");
            Values::Constant(v)
        }
    }
}

/// What a cell of a batch holds.
enum Cell<'a> {
    Null,
    Text(&'a str),
    Number(f64),
}

/// The `row`th cell of `v`.
fn cell<'a>(v: &Values<'a>, row: usize) -> std::result::Result<Cell<'a>, String> {
    match v {
        Values::Constant(c) => Ok(Cell::Text(c)),
        Values::Array(a) => array_cell(Arc::as_ref(a), row),
    }
}

/// The `row`th cell of an array of any supported type.
fn array_cell(a: &dyn Array, row: usize) -> std::result::Result<Cell<'_>, String> {
    if a.is_null(row) {
        return Ok(Cell::Null);
    }
    Ok(match a.data_type() {
        DataType::Utf8 => Cell::Text(a.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => Cell::Text(a.as_string::<i64>().value(row)),
        DataType::Utf8View => Cell::Text(a.as_string_view().value(row)),
        DataType::Binary => Cell::Text(utf8(a.as_binary::<i32>().value(row))?),
        DataType::LargeBinary => Cell::Text(utf8(a.as_binary::<i64>().value(row))?),
        DataType::BinaryView => Cell::Text(utf8(a.as_binary_view().value(row))?),
        DataType::Dictionary(_, _) => {
            let d = a.as_any_dictionary();
            return array_cell(d.values().as_ref(), key_at(d.keys(), row)?);
        }
        DataType::Int8 => Cell::Number(a.as_primitive::<Int8Type>().value(row) as f64),
        DataType::Int16 => Cell::Number(a.as_primitive::<Int16Type>().value(row) as f64),
        DataType::Int32 => Cell::Number(a.as_primitive::<Int32Type>().value(row) as f64),
        DataType::Int64 => Cell::Number(a.as_primitive::<Int64Type>().value(row) as f64),
        DataType::UInt8 => Cell::Number(a.as_primitive::<UInt8Type>().value(row) as f64),
        DataType::UInt16 => Cell::Number(a.as_primitive::<UInt16Type>().value(row) as f64),
        DataType::UInt32 => Cell::Number(a.as_primitive::<UInt32Type>().value(row) as f64),
        DataType::UInt64 => Cell::Number(a.as_primitive::<UInt64Type>().value(row) as f64),
        DataType::Float32 => Cell::Number(a.as_primitive::<Float32Type>().value(row) as f64),
        DataType::Float64 => Cell::Number(a.as_primitive::<Float64Type>().value(row)),
        DataType::Boolean => Cell::Number(f64::from(u8::from(a.as_boolean().value(row)))),
        DataType::Date32 => Cell::Number(a.as_primitive::<Date32Type>().value(row) as f64 * 86_400.0),
        DataType::Date64 => Cell::Number(a.as_primitive::<Date64Type>().value(row) as f64 / 1e3),
        DataType::Timestamp(unit, _) => Cell::Number(match unit {
            TimeUnit::Second => a.as_primitive::<TimestampSecondType>().value(row) as f64,
            TimeUnit::Millisecond => a.as_primitive::<TimestampMillisecondType>().value(row) as f64 / 1e3,
            TimeUnit::Microsecond => a.as_primitive::<TimestampMicrosecondType>().value(row) as f64 / 1e6,
            TimeUnit::Nanosecond => a.as_primitive::<TimestampNanosecondType>().value(row) as f64 / 1e9,
        }),
        other => return Err(format!("a column of type {other} cannot be read")),
    })
}

/// The dictionary key at `row` (dictionary keys are integers).
fn key_at(keys: &dyn Array, row: usize) -> std::result::Result<usize, String> {
    let key = match keys.data_type() {
        DataType::Int8 => keys.as_primitive::<Int8Type>().value(row) as i64,
        DataType::Int16 => keys.as_primitive::<Int16Type>().value(row) as i64,
        DataType::Int32 => keys.as_primitive::<Int32Type>().value(row) as i64,
        DataType::Int64 => keys.as_primitive::<Int64Type>().value(row),
        DataType::UInt8 => keys.as_primitive::<UInt8Type>().value(row) as i64,
        DataType::UInt16 => keys.as_primitive::<UInt16Type>().value(row) as i64,
        DataType::UInt32 => keys.as_primitive::<UInt32Type>().value(row) as i64,
        DataType::UInt64 => keys.as_primitive::<UInt64Type>().value(row) as i64,
        other => return Err(format!("a dictionary with {other} keys cannot be read")),
    };
    usize::try_from(key).map_err(|_| "a negative dictionary key".to_string())
}

fn utf8(b: &[u8]) -> std::result::Result<&str, String> {
    std::str::from_utf8(b).map_err(|_| "a binary value that is not UTF-8 text".to_string())
}

/// Exact integer text for 64-bit integer columns (beyond 2⁵³ a float loses digits).
fn integer_text(v: &Values<'_>, row: usize, buf: &mut String) -> bool {
    let Values::Array(a) = v else { return false };
    buf.clear();
    match a.data_type() {
        DataType::Int64 => write!(buf, "{}", a.as_primitive::<Int64Type>().value(row)).is_ok(),
        DataType::UInt64 => write!(buf, "{}", a.as_primitive::<UInt64Type>().value(row)).is_ok(),
        _ => false,
    }
}

/// Appends a batch's rows to the interactions, in order.
fn intern(sink: &mut Sink<'_>, o: &Opened, task: &Task, batch: &RecordBatch, first_row: u64) -> Result<()> {
    let path = o.part.path.as_path();
    let user = o.layout.user.as_ref().map(|s| values(o, batch, s));
    let item = values(o, batch, &o.layout.item);
    let rating = o.layout.rating.as_ref().map(|s| values(o, batch, s));
    let time = o.layout.timestamp.as_ref().map(|s| values(o, batch, s));
    let details: Vec<Option<Values<'_>>> =
        o.layout.details.iter().map(|d| d.as_ref().map(|s| values(o, batch, s))).collect();
    let (mut ubuf, mut ibuf) = (String::new(), String::new());
    let mut dbufs = vec![String::new(); details.len()];
    let rows_before = first_row - task.first_row;
    for row in 0..batch.num_rows() {
        let line = first_row + row as u64;
        // Where the row is, for messages: made only when there is one.
        let at = || format!("row group {}, row {}", task.row_group, rows_before + row as u64);
        let reject = |kind: &'static str, message: String| Error::Input {
            path: path.to_path_buf(),
            line: None,
            message: format!("{}: {message}", at()),
            skippable: Some(kind),
        };
        let outcome = (|| -> Result<()> {
            let id = |v: &Values<'_>, buf: &mut String, what: &str| -> Result<()> {
                if integer_text(v, row, buf) {
                    return Ok(());
                }
                match cell(v, row).map_err(|m| reject("wrong field type", m))? {
                    Cell::Null => Err(reject("empty ID", format!("empty {what} ID"))),
                    Cell::Text(t) => {
                        buf.clear();
                        buf.push_str(t.trim());
                        Ok(())
                    }
                    Cell::Number(n) => {
                        buf.clear();
                        if n.fract() == 0.0 && n.abs() < 1e15 {
                            let _ = write!(buf, "{}", n as i64);
                        } else {
                            let _ = write!(buf, "{n}");
                        }
                        Ok(())
                    }
                }
            };
            if let Some(user) = &user {
                id(user, &mut ubuf, "user")?;
            }
            id(&item, &mut ibuf, "item")?;
            for (d, buf) in details.iter().zip(&mut dbufs) {
                buf.clear();
                match d {
                    Some(v) if !matches!(cell(v, row), Ok(Cell::Null)) => id(v, buf, "detail")?,
                    _ => {}
                }
            }
            let texts: Vec<&str> = dbufs.iter().map(String::as_str).collect();
            if user.is_none() {
                sink.check_details(line, &texts).map_err(|e| relocate(e, path, &at()))?;
                return sink.details(line, &ibuf, &texts).map_err(|e| relocate(e, path, &at()));
            }
            let value = match &rating {
                None => 1.0,
                Some(r) => match cell(r, row).map_err(|m| reject("wrong field type", m))? {
                    Cell::Null => return Err(reject("empty rating", "empty rating".into())),
                    Cell::Number(n) => sink.number_rating(line, n).map_err(|e| relocate(e, path, &at()))?,
                    Cell::Text(t) => sink.rating(line, t).map_err(|e| relocate(e, path, &at()))?,
                },
            };
            let time = match &time {
                None => None,
                Some(t) => Some(match cell(t, row).map_err(|m| reject("bad timestamp", m))? {
                    Cell::Null => return Err(reject("bad timestamp", "empty timestamp".into())),
                    Cell::Number(n) => n,
                    Cell::Text(s) => sink.timestamp(line, s).map_err(|e| relocate(e, path, &at()))?,
                }),
            };
            if ubuf.is_empty() || ibuf.is_empty() {
                let what = if ubuf.is_empty() { "user" } else { "item" };
                return Err(reject("empty ID", format!("empty {what} ID")));
            }
            if texts.is_empty() {
                return sink.push(line, &ubuf, &ibuf, value, time).map_err(|e| relocate(e, path, &at()));
            }
            sink.check_details(line, &texts).map_err(|e| relocate(e, path, &at()))?;
            sink.push(line, &ubuf, &ibuf, value, time).map_err(|e| relocate(e, path, &at()))?;
            sink.details(line, &ibuf, &texts).map_err(|e| relocate(e, path, &at()))
        })();
        sink.tolerate(outcome)?;
    }
    Ok(())
}

/// An error the sink made for a line, moved to the part's row.
fn relocate(e: Error, path: &Path, at: &str) -> Error {
    match e {
        Error::Input { message, skippable, .. } => {
            Error::Input { path: path.to_path_buf(), line: None, message: format!("{at}: {message}"), skippable }
        }
        other => other,
    }
}

/// Hands the rows of a Parquet input, in batches, to `output(k, batch)`
/// for the output `choose(row)` picks (by global 1-based row number;
/// `None`: the row goes nowhere), with the partition values as columns:
/// `split` of a Parquet input writes Parquet. Returns the schema.
pub fn write_parts(
    root: &Path,
    output: &mut dyn FnMut(usize, &RecordBatch) -> Result<()>,
    choose: impl Fn(u64) -> Option<usize>,
) -> Result<Arc<Schema>> {
    let parts = parts(root)?;
    let mut schema: Option<Arc<Schema>> = None;
    let mut row = 1u64;
    for part in &parts {
        let file = File::open(&part.path).map_err(|e| Error::io(&part.path, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| parquet_error(&part.path, e))?
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|e| parquet_error(&part.path, e))?;
        for batch in reader {
            let batch = with_partitions(batch.map_err(|e| parquet_error(&part.path, e))?, &part.partitions);
            match &schema {
                None => schema = Some(batch.schema()),
                Some(s) if s.fields() != batch.schema().fields() => {
                    return Err(Error::input(
                        &part.path,
                        None,
                        "the Parquet parts have different schemas; split them one by one",
                    ))
                }
                Some(_) => {}
            }
            let chosen: Vec<Option<usize>> = (0..batch.num_rows() as u64).map(|r| choose(row + r)).collect();
            let outputs = chosen.iter().flatten().copied().max().map_or(0, |m| m + 1);
            for k in 0..outputs {
                let keep: arrow_array::BooleanArray = chosen.iter().map(|&c| Some(c == Some(k))).collect();
                let picked = arrow_select::filter::filter_record_batch(&batch, &keep)
                    .map_err(|e| Error::input(&part.path, None, e.to_string()))?;
                if picked.num_rows() > 0 {
                    output(k, &picked)?;
                }
            }
            row += batch.num_rows() as u64;
        }
    }
    schema.ok_or_else(|| Error::input(root, None, "no Parquet rows to split"))
}

/// A batch with its part's partition values added as text columns.
fn with_partitions(batch: RecordBatch, partitions: &[(String, String)]) -> RecordBatch {
    if partitions.is_empty() {
        return batch;
    }
    let mut fields: Vec<Arc<arrow_schema::Field>> = batch.schema().fields().iter().cloned().collect();
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    for (k, v) in partitions {
        fields.push(Arc::new(arrow_schema::Field::new(k, DataType::Utf8, false)));
        columns.push(Arc::new(arrow_array::StringArray::from(vec![v.as_str(); batch.num_rows()])));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("columns of the batch's length")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_values_are_unescaped() {
        assert_eq!(unescape_partition("a%20b"), "a b");
        assert_eq!(unescape_partition("100%"), "100%");
        assert_eq!(unescape_partition("x%2Fy"), "x/y");
    }
}
