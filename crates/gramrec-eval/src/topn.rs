//! Top-N recommendations for every user of a model (Spark's
//! `recommendForAllUsers`), written as JSON lines or CSV.
//!
//! Users are scored in batches, on the CPU in parallel blocks by the blocked
//! kernel of [`gramrec_core::scoring`], or by a [`TopKScorer`] (the GPU's
//! top-k kernel), and written in user order as each batch completes, so
//! memory stays bounded by a batch and the output does not depend on the
//! thread count. The file appears only when complete.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use gramrec_als::backend::{open_gpu_top_k, TopKScorer, TopKTable};
use gramrec_als::{Device, GpuOptions};
use gramrec_core::{Error, Model, Recommendation, Result, UserVector};
use gramrec_store::write_atomic;
use rayon::prelude::*;
use serde::Serialize;

/// Users per parallel task: enough to reuse each tile of item factors.
pub(crate) const BLOCK: usize = 64;
/// Users per batch written before the next is scored (bounds memory).
const BATCH: usize = 16 * 1024;

/// The output format, from the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopNFormat {
    /// `{"user": …, "items": [{"item": …, "score": …}]}` per line.
    JsonLines,
    /// `user,rank,item,score` with a header; with `safe`, IDs a spreadsheet
    /// would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a
    /// carriage return) are written with a leading `'`.
    Csv {
        /// Neutralise formula-like IDs.
        safe: bool,
    },
}

impl TopNFormat {
    /// `.csv` or `.tsv` is CSV, anything else JSON lines.
    pub fn from_path(path: &Path, csv_safe: bool) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("csv") | Some("tsv") => TopNFormat::Csv { safe: csv_safe },
            _ => TopNFormat::JsonLines,
        }
    }
}

/// The scorer `device` asks for, for lists of `k` over `model` (`seen` as
/// [`for_all_users`] takes it): none, meaning the CPU, for
/// [`Device::Cpu`]; the GPU's for [`Device::Gpu`], software adapters
/// included, failing if it cannot open; for [`Device::Auto`] the GPU's when
/// one opens (a software one only with `options.allow_software`), else the
/// CPU, saying why through `notice`.
pub fn open_scorer(
    model: &Model,
    k: usize,
    seen: &HashMap<usize, Vec<usize>>,
    device: Device,
    options: GpuOptions,
    notice: &mut dyn FnMut(String),
) -> Result<Option<Box<dyn TopKScorer>>> {
    if device == Device::Cpu {
        return Ok(None);
    }
    let options = GpuOptions { allow_software: options.allow_software || device == Device::Gpu, ..options };
    let (rows, offsets) = model.items.scoring_terms();
    let k = k.min(model.items.len()).max(1);
    let longest = seen.values().map(Vec::len).max().unwrap_or(0);
    let table =
        TopKTable { items: &rows, factors: model.items.meta().params.factors, offsets, k, longest_seen: longest };
    match open_gpu_top_k(table, options) {
        Ok(scorer) => {
            notice(format!("scoring on {}", scorer.describe()));
            Ok(Some(scorer))
        }
        Err(e) if device == Device::Auto => {
            notice(format!("{e}; scoring on the CPU"));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Computes the `k` best items of every user, excluding each user's `seen`
/// items (model item rows by user row), on the CPU or with `scorer`, and
/// hands them to `each` in user order.
pub fn for_all_users(
    model: &Model,
    k: usize,
    seen: &HashMap<usize, Vec<usize>>,
    scorer: Option<&dyn TopKScorer>,
    mut each: impl FnMut(usize, &[Recommendation]) -> Result<()>,
    mut progress: impl FnMut(usize),
) -> Result<()> {
    let n = model.user_count();
    let empty: Vec<usize> = Vec::new();
    let excluded = |u: &usize| seen.get(u).unwrap_or(&empty).as_slice();
    let batch = scorer.map_or(BATCH, |s| s.batch().clamp(1, BATCH));
    for start in (0..n).step_by(batch) {
        let end = (start + batch).min(n);
        let lists: Vec<Vec<Recommendation>> = match scorer {
            Some(scorer) => {
                let f = model.items.meta().params.factors;
                let users: Vec<UserVector> = (start..end).map(|u| model.user_at(u)).collect();
                let vectors: Vec<f32> = users.iter().flat_map(|x| x.0[..f].iter().copied()).collect();
                let constants = users
                    .iter()
                    .map(|x| model.items.user_constant(x))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(Error::Scoring)?;
                let excludes: Vec<&[usize]> = (start..end).map(|u| excluded(&u)).collect();
                let tops = scorer.top_k(&vectors, &constants, &excludes)?;
                tops.into_iter().map(|top| model.items.present_top(top)).collect()
            }
            None => (start..end)
                .collect::<Vec<_>>()
                .par_chunks(BLOCK)
                .map(|rows| {
                    let users: Vec<UserVector> = rows.iter().map(|&u| model.user_at(u)).collect();
                    let refs: Vec<&UserVector> = users.iter().collect();
                    let excludes: Vec<&[usize]> = rows.iter().map(excluded).collect();
                    model.items.recommend_block(&refs, k, &excludes).map_err(Error::Scoring)
                })
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .flatten()
                .collect(),
        };
        for (u, recs) in (start..end).zip(&lists) {
            each(u, recs)?;
        }
        progress(end - start);
    }
    Ok(())
}

/// Writes every user's top `k` to `path` in `format`, atomically
/// ([`for_all_users`] with `scorer`).
pub fn write_all_users(
    model: &Model,
    k: usize,
    seen: &HashMap<usize, Vec<usize>>,
    scorer: Option<&dyn TopKScorer>,
    path: &Path,
    format: TopNFormat,
    progress: impl FnMut(usize),
) -> Result<()> {
    let mut failure = None;
    write_atomic(path, |w| {
        if let TopNFormat::Csv { .. } = format {
            writeln!(w, "user,rank,item,score")?;
        }
        let written = for_all_users(
            model,
            k,
            seen,
            scorer,
            |u, recs| write_user(w, format, &model.user_ids()[u], recs).map_err(|e| Error::io(path, e)),
            progress,
        );
        written.map_err(|e| {
            let io = std::io::Error::other(e.to_string());
            failure = Some(e);
            io
        })
    })
    .map_err(|e| failure.take().unwrap_or(e))
}

/// One line of the JSON-lines output.
#[derive(Serialize)]
struct UserTopN<'a> {
    user: &'a str,
    items: &'a [Recommendation],
}

fn write_user(w: &mut dyn Write, format: TopNFormat, user: &str, recs: &[Recommendation]) -> std::io::Result<()> {
    match format {
        TopNFormat::JsonLines => {
            serde_json::to_writer(&mut *w, &UserTopN { user, items: recs })?;
            writeln!(w)
        }
        TopNFormat::Csv { safe } => {
            for (rank, r) in recs.iter().enumerate() {
                writeln!(w, "{},{},{},{}", csv_field(user, safe), rank + 1, csv_field(&r.item, safe), r.score)?;
            }
            Ok(())
        }
    }
}

/// Quotes a CSV field when it holds a comma, quote or line break; with
/// `safe`, a field a spreadsheet would evaluate gets a leading `'`.
fn csv_field(s: &str, safe: bool) -> std::borrow::Cow<'_, str> {
    let formula = safe && s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let s: std::borrow::Cow<'_, str> = if formula { format!("'{s}").into() } else { s.into() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("plain", false), "plain");
        assert_eq!(csv_field("a,b", false), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\"", false), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)", false), "=HYPERLINK(1)");
        assert_eq!(csv_field("=HYPERLINK(1)", true), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-2+3,x", true), "\"'-2+3,x\"");
        assert_eq!(csv_field("u-1", true), "u-1");
    }

    #[test]
    fn format_follows_the_extension() {
        assert_eq!(TopNFormat::from_path(Path::new("top.csv"), true), TopNFormat::Csv { safe: true });
        assert_eq!(TopNFormat::from_path(Path::new("top.jsonl"), true), TopNFormat::JsonLines);
    }
}
