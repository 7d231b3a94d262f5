//! ID lists: how the integer IDs (or row positions) of other tools map back
//! to the strings users know. Three forms are read, whichever a pipeline
//! has: a text file with one ID per line (line n is index n — what
//! `export --to implicit` and `--to npy` write), a Parquet table with an
//! integer `id` and a string `label` column (what `export --to spark` writes
//! for IDs that are not integers), and a saved Spark `StringIndexerModel`
//! folder (its labels, in index order).

use std::collections::HashMap;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use gramrec_core::{Error, Result};

use crate::parquet_io;

/// Index → original ID.
pub type IdMap = HashMap<i64, String>;

/// Reads an ID list in any of the module's three forms.
pub fn read(path: &Path) -> Result<IdMap> {
    if path.is_dir() {
        if path.join("metadata").is_dir() {
            return string_indexer(path);
        }
        return table(path);
    }
    if gramrec_data::load::is_parquet(path) {
        return table(path);
    }
    let text = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = std::str::from_utf8(&text).map_err(|_| Error::input(path, None, "an ID list must be UTF-8 text"))?;
    Ok(text.lines().enumerate().map(|(n, id)| (n as i64, id.to_string())).collect())
}

/// Writes `ids` one per line (line n is row n).
pub fn write_lines(path: &Path, ids: &[String]) -> Result<()> {
    refuse_line_breaks(ids, path)?;
    gramrec_store::write_atomic(path, |w| {
        for id in ids {
            w.write_all(id.as_bytes())?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })
}

/// IDs with line breaks cannot go in a one-per-line file.
fn refuse_line_breaks(ids: &[String], path: &Path) -> Result<()> {
    match ids.iter().find(|id| id.contains(['\n', '\r'])) {
        Some(id) => Err(Error::Data(format!(
            "{}: the ID '{}' holds a line break, which a one-per-line ID list cannot keep",
            path.display(),
            id.escape_debug()
        ))),
        None => Ok(()),
    }
}

/// A Parquet table with an integer `id` column and a string `label` column.
fn table(path: &Path) -> Result<IdMap> {
    let mut map = IdMap::new();
    for part in gramrec_data::load::parquet_files(path)? {
        for batch in parquet_io::batches(&part)? {
            let (ids, labels) = (column(&batch, "id", &part)?, column(&batch, "label", &part)?);
            let ids = integers(ids, &part, "id")?;
            let labels = labels.as_string_opt::<i32>().ok_or_else(|| {
                Error::input(&part, None, format!("column 'label' is {}, expected a string", labels.data_type()))
            })?;
            for (id, label) in ids.into_iter().zip(labels.iter()) {
                let label = label.ok_or_else(|| Error::input(&part, None, "column 'label' holds a null"))?;
                map.insert(id, label.to_string());
            }
        }
    }
    Ok(map)
}

/// A saved `StringIndexerModel`: `data/` holds `labelsArray` (Spark 3 and
/// later, one list per input column; the first is used) or `labels`.
fn string_indexer(dir: &Path) -> Result<IdMap> {
    let meta = parquet_io::metadata(dir)?;
    let class = meta.get("class").and_then(|c| c.as_str()).unwrap_or("");
    if !class.ends_with("StringIndexerModel") {
        return Err(Error::input(
            dir,
            None,
            format!("a Spark '{class}' folder is not an ID list (a StringIndexerModel, a text file or an id/label table is)"),
        ));
    }
    let mut labels: Vec<String> = Vec::new();
    for part in gramrec_data::load::parquet_files(&dir.join("data"))? {
        for batch in parquet_io::batches(&part)? {
            let (name, col) = match batch.column_by_name("labelsArray") {
                Some(c) => ("labelsArray", c.clone()),
                None => ("labels", column(&batch, "labels", &part)?.clone()),
            };
            if batch.num_rows() == 0 {
                continue;
            }
            let mut list = first_entry(&col, &part, name)?;
            if name == "labelsArray" {
                list = first_entry(&list, &part, name)?;
            }
            let strings = list.as_string_opt::<i32>().ok_or_else(|| wrong(&part, name, &col))?;
            for s in strings.iter() {
                let label = s.filter(|s| !s.is_empty()).ok_or_else(|| {
                    Error::input(&part, None, format!("label {} in '{name}' is null or empty", labels.len()))
                })?;
                labels.push(label.to_string());
            }
        }
    }
    Ok(labels.into_iter().enumerate().map(|(n, l)| (n as i64, l)).collect())
}

/// The first entry of a list column: what a StringIndexerModel's labels
/// (or its first input column's) are; an empty or null list is refused.
fn first_entry(col: &ArrayRef, part: &Path, name: &str) -> Result<ArrayRef> {
    let list = col.as_list_opt::<i32>().ok_or_else(|| wrong(part, name, col))?;
    if list.is_empty() || list.is_null(0) {
        return Err(Error::input(part, None, format!("column '{name}' is empty or null: the model holds no labels")));
    }
    Ok(list.value(0))
}

fn wrong(part: &Path, name: &str, col: &ArrayRef) -> Error {
    Error::input(
        part,
        None,
        format!("column '{name}' is {}, not the labels a StringIndexerModel writes", col.data_type()),
    )
}

/// The column `name` of a batch, or an error naming the file.
pub(crate) fn column<'a>(batch: &'a RecordBatch, name: &str, part: &Path) -> Result<&'a ArrayRef> {
    batch.column_by_name(name).ok_or_else(|| {
        let have: Vec<&str> = batch.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
        Error::input(part, None, format!("no column '{name}' (columns: {})", have.join(", ")))
    })
}

/// An integer column (int32, int64, or integral float64 as `StringIndexer`
/// writes indices), nulls refused.
pub(crate) fn integers(col: &ArrayRef, part: &Path, name: &str) -> Result<Vec<i64>> {
    if col.null_count() > 0 {
        return Err(Error::input(part, None, format!("column '{name}' holds nulls")));
    }
    Ok(match col.data_type() {
        DataType::Int32 => col.as_primitive::<Int32Type>().values().iter().map(|&v| i64::from(v)).collect(),
        DataType::Int64 => col.as_primitive::<Int64Type>().values().to_vec(),
        DataType::Float64 => col
            .as_primitive::<Float64Type>()
            .values()
            .iter()
            .map(|&v| {
                (v.fract() == 0.0 && v.abs() < 9.0e15).then_some(v as i64).ok_or_else(|| {
                    Error::input(part, None, format!("column '{name}' holds {v}, which is not an integer ID"))
                })
            })
            .collect::<Result<_>>()?,
        other => {
            return Err(Error::input(
                part,
                None,
                format!("column '{name}' is {other}, expected int as Spark writes IDs"),
            ))
        }
    })
}

/// The original IDs of rows whose tool-side IDs are `keys`: through `map`
/// when given (every key must be in it), else the integers as text.
pub fn resolve(keys: &[i64], map: Option<&IdMap>, what: &str, source: &Path) -> Result<Vec<String>> {
    match map {
        None => Ok(keys.iter().map(i64::to_string).collect()),
        Some(map) => keys
            .iter()
            .map(|k| {
                map.get(k).cloned().ok_or_else(|| {
                    Error::Data(format!(
                        "{}: {what} {k} is not in the ID list ({} entries); is it the list this model was trained with?",
                        source.display(),
                        map.len()
                    ))
                })
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A StringIndexerModel folder whose one `labelsArray` row is `row`:
    /// null (`None`), `[]` (`Some(None)`) or `[labels]`.
    fn indexer(dir: &Path, name: &str, row: Option<Option<Vec<Option<&str>>>>) -> std::path::PathBuf {
        use arrow_array::builder::{ListBuilder, StringBuilder};
        let model = dir.join(name);
        let meta = r#"{"class":"org.apache.spark.ml.feature.StringIndexerModel","paramMap":{}}"#;
        parquet_io::write_text_folder(&model.join("metadata"), meta).unwrap();
        let mut outer = ListBuilder::new(ListBuilder::new(StringBuilder::new()));
        match row {
            None => outer.append(false),
            Some(None) => outer.append(true),
            Some(Some(labels)) => {
                for l in labels {
                    outer.values().values().append_option(l);
                }
                outer.values().append(true);
                outer.append(true);
            }
        }
        let col: ArrayRef = std::sync::Arc::new(outer.finish());
        let batch = RecordBatch::try_from_iter([("labelsArray", col)]).unwrap();
        parquet_io::write_folder(&model.join("data"), std::iter::once(Ok(batch))).unwrap();
        model
    }

    #[test]
    fn a_string_indexer_without_labels_is_refused_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let good = indexer(dir.path(), "good", Some(Some(vec![Some("b"), Some("a")])));
        assert_eq!(read(&good).unwrap().get(&1).map(String::as_str), Some("a"));
        for (name, row, message) in [
            ("null", None, "column 'labelsArray' is empty or null"),
            ("empty", Some(None), "column 'labelsArray' is empty or null"),
            ("null-label", Some(Some(vec![Some("a"), None])), "label 1 in 'labelsArray' is null or empty"),
        ] {
            let e = read(&indexer(dir.path(), name, row)).unwrap_err().to_string();
            assert!(e.contains(message), "{name}: {e}");
        }
    }

    #[test]
    fn text_lists_map_lines_to_indices_and_refuse_line_breaks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ids.txt");
        write_lines(&path, &["b".into(), "a".into(), "ü".into()]).unwrap();
        let map = read(&path).unwrap();
        assert_eq!(resolve(&[2, 0], Some(&map), "user", &path).unwrap(), ["ü", "b"]);
        let err = resolve(&[3], Some(&map), "user", &path).unwrap_err().to_string();
        assert!(err.contains("user 3 is not in the ID list (3 entries)"), "{err}");
        assert!(write_lines(&path, &["a\nb".into()]).unwrap_err().to_string().contains("line break"));
        assert_eq!(resolve(&[7, -1], None, "item", &path).unwrap(), ["7", "-1"]);
    }
}
