//! Writing rules and itemsets, the format chosen by the output's extension:
//! `.jsonl`/`.json` (JSON lines, camelCase), `.csv` (the items of a side
//! joined by `|`), `.parquet` (string lists, as Spark's `associationRules`
//! and `freqItemsets` are), `.gramrec` (the rules file, rules only). Every
//! output is written to a temporary file and renamed.

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use gramrec_core::{Error, Result, RuleSet};
use serde::Serialize;

use crate::Itemset;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// JSON lines.
    JsonLines,
    /// CSV with a header.
    Csv,
    /// Parquet.
    Parquet,
    /// The binary rules file.
    RulesFile,
}

impl Output {
    /// The format of `path`, by extension.
    pub fn of(path: &Path) -> Result<Self> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        Ok(match ext.as_str() {
            "jsonl" | "json" | "ndjson" => Output::JsonLines,
            "csv" => Output::Csv,
            "parquet" => Output::Parquet,
            "gramrec" => Output::RulesFile,
            _ => {
                return Err(Error::Argument(format!(
                "{}: name the output .jsonl, .csv, .parquet or .gramrec (the rules file for the page and the server)",
                path.display()
            )))
            }
        })
    }
}

/// A frequent itemset with its items named.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemsetView<'a> {
    items: Vec<&'a str>,
    freq: u64,
}

/// Writes the rules of `set` to `path`.
pub fn write_rules(path: &Path, set: &RuleSet) -> Result<()> {
    let views = || set.rules.iter().map(|r| set.view(r));
    match Output::of(path)? {
        Output::RulesFile => {
            let bytes = set.to_bytes().map_err(|e| Error::io(path, e))?;
            gramrec_store::write_atomic(path, |w| w.write_all(&bytes))
        }
        Output::JsonLines => json_lines(path, views()),
        Output::Csv => gramrec_store::write_atomic(path, |w| {
            let mut csv = csv::Writer::from_writer(w);
            csv.write_record(["antecedent", "consequent", "confidence", "lift", "support"])?;
            for v in views() {
                let row =
                    [v.antecedent.join("|"), v.consequent.join("|"), num(v.confidence), num(v.lift), num(v.support)];
                csv.write_record(&row)?;
            }
            csv.flush()
        }),
        Output::Parquet => {
            let (mut ante, mut cons) = (lists(), lists());
            let (mut conf, mut lift, mut supp) = (Vec::new(), Vec::new(), Vec::new());
            for v in views() {
                append(&mut ante, &v.antecedent);
                append(&mut cons, &v.consequent);
                conf.push(v.confidence);
                lift.push(v.lift);
                supp.push(v.support);
            }
            let columns: Vec<(&str, ArrayRef)> = vec![
                ("antecedent", Arc::new(ante.finish())),
                ("consequent", Arc::new(cons.finish())),
                ("confidence", Arc::new(Float64Array::from(conf))),
                ("lift", Arc::new(Float64Array::from(lift))),
                ("support", Arc::new(Float64Array::from(supp))),
            ];
            parquet(path, columns)
        }
    }
}

/// Writes the frequent itemsets (item indices of `items`) to `path`.
pub fn write_itemsets(path: &Path, itemsets: &[Itemset], items: &[String]) -> Result<()> {
    let named = |s: &[u32]| s.iter().map(|&i| items[i as usize].as_str()).collect::<Vec<_>>();
    match Output::of(path)? {
        Output::RulesFile => Err(Error::Argument(format!(
            "{}: the rules file holds rules; write the itemsets as .jsonl, .csv or .parquet",
            path.display()
        ))),
        Output::JsonLines => json_lines(path, itemsets.iter().map(|(s, c)| ItemsetView { items: named(s), freq: *c })),
        Output::Csv => gramrec_store::write_atomic(path, |w| {
            let mut csv = csv::Writer::from_writer(w);
            csv.write_record(["items", "freq"])?;
            for (s, c) in itemsets {
                csv.write_record([named(s).join("|"), c.to_string()])?;
            }
            csv.flush()
        }),
        Output::Parquet => {
            let mut list = lists();
            for (s, _) in itemsets {
                let names: Vec<String> = named(s).into_iter().map(str::to_string).collect();
                append(&mut list, &names);
            }
            let freq = Int64Array::from(itemsets.iter().map(|(_, c)| *c as i64).collect::<Vec<_>>());
            parquet(path, vec![("items", Arc::new(list.finish())), ("freq", Arc::new(freq))])
        }
    }
}

fn json_lines<T: Serialize>(path: &Path, rows: impl Iterator<Item = T>) -> Result<()> {
    gramrec_store::write_atomic(path, |w| {
        for row in rows {
            serde_json::to_writer(&mut *w, &row)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })
}

/// A figure in CSV: the shortest text that reads back as the same f64.
fn num(v: f64) -> String {
    format!("{v}")
}

fn lists() -> ListBuilder<StringBuilder> {
    ListBuilder::new(StringBuilder::new())
}

fn append(list: &mut ListBuilder<StringBuilder>, values: &[String]) {
    for v in values {
        list.values().append_value(v);
    }
    list.append(true);
}

fn parquet(path: &Path, columns: Vec<(&str, ArrayRef)>) -> Result<()> {
    let batch = RecordBatch::try_from_iter(columns).map_err(|e| Error::Data(e.to_string()))?;
    gramrec_store::write_atomic(path, |w| {
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(w, batch.schema(), None).map_err(std::io::Error::other)?;
        writer.write(&batch).map_err(std::io::Error::other)?;
        writer.close().map_err(std::io::Error::other)?;
        Ok(())
    })
}
