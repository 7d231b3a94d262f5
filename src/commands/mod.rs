//! One module per subcommand, and what they share: reading input files and
//! turning flags into the libraries' option values (with the per-kind
//! defaults of gramrec-core, never numbers of their own).

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

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use gramrec_als::TrainConfig;
use gramrec_core::text::escape_controls;
use gramrec_core::{ModelKind, ModelParams, Recommendation};
use gramrec_data::load::{self, Interactions, LoadOptions};
use gramrec_data::{DatasetOptions, Duplicates};

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
            encoding: self.encoding,
            basket: self.basket_col.clone(),
            user: self.user_col.clone(),
            item: self.item_col.clone(),
            rating: self.rating_col.clone(),
            timestamp: self.timestamp_col.clone(),
            skip_invalid: self.skip_invalid,
            ..Default::default()
        }
    }

    /// Reads an interaction file; returns it with the seconds it took. How
    /// it was read (a detected delimiter, an encoding) is logged unless `quiet`.
    fn load(&self, path: &Path, quiet: bool) -> Result<(Interactions, f64)> {
        self.load_with(path, self.options(), quiet)
    }

    /// [`load`](Self::load) with adjusted options.
    fn load_with(&self, path: &Path, opts: LoadOptions, quiet: bool) -> Result<(Interactions, f64)> {
        let start = Instant::now();
        let x = load::load(path, &opts)?;
        if !quiet {
            for note in &x.notes {
                crate::progress::stderr_line(&format!("{}: {note}", path.display()));
            }
        }
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

    /// The training configuration for `kind`: core's defaults, with these
    /// flags and the searchable parameters given (`reg` None: the kind's default).
    fn config(
        &self,
        kind: ModelKind,
        factors: usize,
        iterations: usize,
        reg: Option<f32>,
        alpha: f32,
    ) -> Result<TrainConfig> {
        let defaults = ModelParams::for_kind(kind);
        let params = ModelParams {
            kind,
            factors,
            reg: reg.unwrap_or(defaults.reg),
            reg_scaling: self.reg_scaling.unwrap_or(defaults.reg_scaling),
            alpha,
            confidence: self.confidence,
            epsilon: self.epsilon,
            biases: !self.no_biases,
        };
        Ok(TrainConfig {
            params,
            iterations,
            solver: self.solver.options(),
            seed: self.seed,
            threads: self.device.threads,
            device: self.device.device,
            gpu: crate::env::gpu_options()?,
        })
    }
}

impl DataArgs {
    /// Dataset options, with the duplicate policy's per-kind default.
    fn options(&self, kind: ModelKind) -> DatasetOptions {
        DatasetOptions {
            duplicates: self.duplicates.unwrap_or(Duplicates::default_for(kind)),
            min_user_count: self.min_user_count,
            min_item_count: self.min_item_count,
            k_core: self.k_core,
        }
    }
}

/// Refuses 0 for a count flag such as `--k` (0 would silently do nothing).
fn at_least_one(flag: &str, n: usize) -> Result<(), gramrec_core::Error> {
    if n == 0 {
        return Err(gramrec_core::Error::Argument(format!("{flag} must be at least 1")));
    }
    Ok(())
}

/// Items as a numbered table, IDs escaped for the terminal.
fn items_table(items: &[Recommendation], score: &str) -> String {
    let ids: Vec<String> = items.iter().map(|r| escape_controls(&r.item).into_owned()).collect();
    let width = ids.iter().map(|id| id.chars().count()).max().unwrap_or(4).clamp(4, 60);
    let mut s = format!("{:>4}  {:<width$}  {score}\n", "rank", "item");
    for (n, (r, id)) in items.iter().zip(&ids).enumerate() {
        s.push_str(&format!("{:>4}  {id:<width$}  {:.4}\n", n + 1, r.score));
    }
    s
}
