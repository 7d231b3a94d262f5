//! One module per subcommand, and what they share: reading input files,
//! resolving model parameters, writing to stdout.

mod bench;
mod demo;
mod evaluate;
mod export;
mod generate;
mod inspect;
mod recommend;
mod similar;
mod split;
mod train;
mod tune;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use gramrec_core::{ItemModel, ModelKind, ModelParams, RegScaling};
use gramrec_train::dataset::{DatasetOptions, Duplicates};
use gramrec_train::load::{self, Interactions, LoadOptions};
use gramrec_train::output::{read_factor_file, ITEMS_FILE};

use crate::cli::{AlsArgs, Command, DataArgs, InputArgs};

/// Runs a subcommand.
pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Train(a) => train::run(a),
        Command::Evaluate(a) => evaluate::run(a),
        Command::Recommend(a) => recommend::run(a),
        Command::Similar(a) => similar::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Generate(a) => generate::run(a),
        Command::Split(a) => split::run(a),
        Command::Export(a) => export::run(a),
        Command::Tune(a) => tune::run(a),
    }
}

impl InputArgs {
    fn options(&self) -> LoadOptions {
        LoadOptions {
            format: self.format,
            delimiter: self.delimiter.clone(),
            header: self.header,
            user: self.user_col.clone(),
            item: self.item_col.clone(),
            rating: self.rating_col.clone(),
            timestamp: self.timestamp_col.clone(),
            skip_invalid: self.skip_invalid,
            ..Default::default()
        }
    }

    /// Reads an interaction file; returns it with the seconds it took.
    fn load(&self, path: &Path) -> Result<(Interactions, f64)> {
        self.load_with(path, self.options())
    }

    /// [`load`](Self::load) with adjusted options.
    fn load_with(&self, path: &Path, opts: LoadOptions) -> Result<(Interactions, f64)> {
        let start = Instant::now();
        let x = load::load(path, &opts)?;
        if !x.skipped.is_empty() {
            let total: u64 = x.skipped.values().sum();
            let kinds: Vec<String> = x.skipped.iter().map(|(kind, n)| format!("{n} {kind}")).collect();
            crate::progress::stderr_line(&format!(
                "{}: skipped {total} bad lines ({})",
                path.display(),
                kinds.join(", ")
            ));
        }
        Ok((x, start.elapsed().as_secs_f64()))
    }
}

/// Default λ per model kind: measured on MovieLens 100K (BENCHMARKS.md).
pub fn default_reg(kind: ModelKind) -> f32 {
    match kind {
        ModelKind::Explicit => 0.1,
        ModelKind::Implicit => 30.0,
    }
}

impl AlsArgs {
    /// The model kind: as asked, else explicit when the data has ratings.
    fn kind(&self, has_ratings: bool) -> ModelKind {
        if self.explicit {
            ModelKind::Explicit
        } else if self.implicit || !has_ratings {
            ModelKind::Implicit
        } else {
            ModelKind::Explicit
        }
    }

    /// The model parameters, with the searchable ones given.
    fn params(&self, kind: ModelKind, factors: usize, reg: f32, alpha: f32) -> ModelParams {
        ModelParams {
            kind,
            factors,
            reg,
            reg_scaling: self.reg_scaling.unwrap_or(match kind {
                ModelKind::Explicit => RegScaling::Count,
                ModelKind::Implicit => RegScaling::None,
            }),
            alpha,
            confidence: self.confidence,
            epsilon: self.epsilon,
            biases: !self.no_biases,
        }
    }
}

impl DataArgs {
    /// Dataset options, with the duplicate policy's per-kind default.
    fn options(&self, kind: ModelKind) -> DatasetOptions {
        DatasetOptions {
            duplicates: self.duplicates.unwrap_or(match kind {
                ModelKind::Explicit => Duplicates::Last,
                ModelKind::Implicit => Duplicates::Sum,
            }),
            min_user_count: self.min_user_count,
            min_item_count: self.min_item_count,
            k_core: self.k_core,
        }
    }
}

/// The item file of a model given as a directory or as the item file itself.
fn item_file_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(ITEMS_FILE)
    } else {
        path.to_path_buf()
    }
}

/// The item side of a model given as a directory or as the item file itself.
fn load_item_model(path: &Path) -> Result<ItemModel> {
    let file = item_file_path(path);
    let factors = read_factor_file(&file)?;
    ItemModel::new(factors).map_err(|e| gramrec_train::Error::Model { path: file, source: e }.into())
}

/// Writes to stdout; a closed pipe (`| head`) ends quietly.
fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// A JSON value on one line.
fn emit_json(v: &serde_json::Value) -> Result<()> {
    emit(&format!("{v}\n"))
}

/// A model's objective as JSON fields (for `train --json` and `inspect --json`).
fn params_json(p: &ModelParams) -> serde_json::Map<String, serde_json::Value> {
    let v = serde_json::json!({
        "kind": p.kind.name(),
        "factors": p.factors,
        "reg": p.reg,
        "regScaling": p.reg_scaling.name(),
        "alpha": p.alpha,
        "confidence": p.confidence.name(),
        "epsilon": p.epsilon,
        "biases": p.uses_biases(),
    });
    match v {
        serde_json::Value::Object(m) => m,
        _ => unreachable!("json! of an object literal"),
    }
}

/// Items as `[{"item", "score"}]`.
fn items_json(items: &[gramrec_core::Recommendation]) -> serde_json::Value {
    items.iter().map(|r| serde_json::json!({"item": r.item, "score": r.score})).collect()
}

/// Items as a numbered table.
fn items_table(items: &[gramrec_core::Recommendation], score: &str) -> String {
    let width = items.iter().map(|r| r.item.chars().count()).max().unwrap_or(4).max(4);
    let mut s = format!("{:>4}  {:<width$}  {score}\n", "rank", "item");
    for (n, r) in items.iter().enumerate() {
        s.push_str(&format!("{:>4}  {:<width$}  {:.4}\n", n + 1, r.item, r.score));
    }
    s
}
