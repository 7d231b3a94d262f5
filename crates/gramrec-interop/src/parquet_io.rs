//! The Spark folder conventions both directions share: a `metadata/` folder
//! whose `part-00000` holds one JSON line, and Parquet folders of
//! `part-*.parquet` files with a `_SUCCESS` marker.

use std::fs::File;
use std::path::Path;

use arrow_array::RecordBatch;
use gramrec_core::{Error, Result};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

/// Every batch of one Parquet file; a damaged or truncated file is an error
/// naming it.
pub fn batches(path: &Path) -> Result<Vec<RecordBatch>> {
    let fail = |e: parquet::errors::ParquetError| {
        Error::input(path, None, format!("cannot read this Parquet file ({e}); is it truncated or damaged?"))
    };
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).map_err(fail)?.with_batch_size(64 * 1024).build();
    reader.map_err(fail)?.map(|b| b.map_err(|e| fail(e.into()))).collect()
}

/// The JSON of a saved Spark ML object's `metadata/part-00000`.
pub fn metadata(dir: &Path) -> Result<serde_json::Value> {
    let folder = dir.join("metadata");
    let part = std::fs::read_dir(&folder)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::input(
                dir,
                None,
                "no metadata/ folder: not a saved Spark ML model (ALSModel.save writes metadata/, userFactors/, itemFactors/)",
            ),
            _ => Error::io(&folder, e),
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("part-")))
        .min()
        .ok_or_else(|| Error::input(&folder, None, "no part-00000 file: the model was not saved completely"))?;
    let text = std::fs::read_to_string(&part).map_err(|e| Error::io(&part, e))?;
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    serde_json::from_str(line).map_err(|e| Error::input(&part, Some(1), format!("not Spark's metadata JSON: {e}")))
}

/// Rows per batch and row group written: memory holds one at a time.
pub const ROWS_PER_GROUP: usize = 128 * 1024;

/// Writes `batches` (one schema) as `dir/part-00000-…-c000.snappy.parquet`
/// (snappy, as Spark writes; a row group per batch) and the `_SUCCESS`
/// marker, creating `dir`. Batches are made one at a time, so memory holds
/// one row group, not the table.
pub fn write_folder(dir: &Path, mut batches: impl Iterator<Item = Result<RecordBatch>>) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let path = dir.join("part-00000-gramrec-c000.snappy.parquet");
    let fail = |e: parquet::errors::ParquetError| Error::io(&path, std::io::Error::other(e));
    let first = batches.next().ok_or_else(|| Error::Data(format!("{}: nothing to write", dir.display())))??;
    let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
    let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let mut writer = ArrowWriter::try_new(file, first.schema(), Some(props)).map_err(fail)?;
    writer.write(&first).map_err(fail)?;
    writer.flush().map_err(fail)?;
    for batch in batches {
        writer.write(&batch?).map_err(fail)?;
        writer.flush().map_err(fail)?;
    }
    writer.close().map_err(fail)?;
    write_success(dir)
}

/// Writes `text` as `dir/part-00000` and the `_SUCCESS` marker.
pub fn write_text_folder(dir: &Path, text: &str) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let path = dir.join("part-00000");
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
    write_success(dir)
}

fn write_success(dir: &Path) -> Result<()> {
    let path = dir.join("_SUCCESS");
    std::fs::write(&path, b"").map_err(|e| Error::io(&path, e))
}
