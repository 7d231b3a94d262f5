//! What the commands print for scripts: one JSON convention (camelCase
//! fields), built from these types and the libraries' own (`Evaluation`,
//! `Recommendations`, `ItemList`), documented in docs/JSON.md with a schema
//! per output in docs/schema/ that the tests check.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use gramrec_als::IterationReport;
use gramrec_core::{Dtype, Method, ModelParams, SolverOptions};
use gramrec_engine::{DefaultCheck, DefaultChoice};
use gramrec_eval::auto::AutoReport;
use gramrec_eval::Evaluation;
use serde::Serialize;

/// Writes to stdout; a closed pipe (`| head`) ends quietly.
pub fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// A value as one line of JSON on stdout.
pub fn emit_json(value: &impl Serialize) -> Result<()> {
    emit(&format!("{}\n", serde_json::to_string(value)?))
}

/// How a model was trained, beside its objective.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrainingParams {
    /// The objective.
    #[serde(flatten)]
    pub model: ModelParams,
    /// ALS or Bayesian PMF.
    pub method: Method,
    /// Iterations run (a Bayesian model's: its sweeps).
    pub iterations: usize,
    /// A Bayesian model's sweeps averaged into it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub samples: Option<usize>,
    /// A Bayesian model's sweeps drawn before those.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burn_in: Option<usize>,
    /// The solver and its steps.
    #[serde(flatten)]
    pub solver: SolverOptions,
    /// Seed of the initial factors.
    pub seed: u64,
    /// Storage type of the written factors.
    pub dtype: Dtype,
}

/// One iteration in `train --json` and `bench --json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Iteration {
    /// 1-based.
    pub iteration: usize,
    /// Wall time of both halves.
    pub seconds: f64,
    /// The objective afterwards.
    pub loss: f64,
}

impl From<&IterationReport> for Iteration {
    fn from(r: &IterationReport) -> Self {
        Self { iteration: r.iteration, seconds: r.seconds, loss: r.loss.total() }
    }
}

/// `train --json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrainReport {
    /// The interaction file.
    pub input: PathBuf,
    /// The model directory.
    pub out: PathBuf,
    /// Users trained on.
    pub users: usize,
    /// Items trained on.
    pub items: usize,
    /// Interactions trained on.
    pub interactions: usize,
    /// Interactions read from the file.
    pub read: usize,
    /// Bad lines skipped (`--skip-invalid`), by kind.
    pub skipped: BTreeMap<&'static str, u64>,
    /// Repeated (user, item) pairs merged.
    pub duplicates_merged: usize,
    /// Interactions removed by the count filters.
    pub filtered_out: usize,
    /// Implicit models: values of 0 counted as interactions (`--nonpositive interaction`).
    pub zeros_as_interactions: usize,
    /// Implicit models: values of 0 or less dropped (`--nonpositive`).
    pub nonpositive_dropped: usize,
    /// Seconds to read the file.
    pub load_seconds: f64,
    /// Its speed in MB (10⁶ bytes) per second.
    #[serde(rename = "loadMBps")]
    pub load_mbps: f64,
    /// What trained it.
    pub device: String,
    /// How it was trained.
    pub params: TrainingParams,
    /// The parameters the flags left open and the data decided.
    pub defaults_read: Vec<DefaultChoice>,
    /// The check of an implicit model's default λ, α and factors on
    /// validation, when it ran (any left open, no `--auto`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defaults_check: Option<DefaultCheck>,
    /// Seconds of training.
    pub train_seconds: f64,
    /// Each iteration.
    pub iterations: Vec<Iteration>,
    /// The search that chose the settings (`--auto`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto: Option<AutoReport>,
}

/// One point of the learning curve in `OUT/report.json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationPoint {
    /// The iteration and its objective.
    #[serde(flatten)]
    pub iteration: Iteration,
    /// The evaluation on the validation file.
    pub validation: Evaluation,
}

/// `OUT/report.json`, written by `train --validate`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationReport {
    /// The training file.
    pub input: PathBuf,
    /// The validation file.
    pub validation: PathBuf,
    /// The metric of the curve.
    pub metric: String,
    /// The curve.
    pub iterations: Vec<ValidationPoint>,
}

/// `inspect --json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InspectReport {
    /// The file.
    pub file: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// The format version it was written in.
    pub version: u32,
    /// `users` or `items`.
    pub side: &'static str,
    /// Rows (users or items).
    pub rows: usize,
    /// Storage type of the factors.
    pub dtype: Dtype,
    /// The objective.
    #[serde(flatten)]
    pub params: ModelParams,
    /// μ of explicit models with biases.
    pub global_mean: f32,
    /// The training ratings' range (predictions are clipped to it).
    pub rating_range: [f32; 2],
    /// The optional sections present.
    pub sections: Vec<&'static str>,
    /// Mean Euclidean norm of the rows' factors.
    pub mean_norm: f32,
    /// Largest norm.
    pub max_norm: f32,
    /// The first few IDs.
    pub first_ids: Vec<String>,
    /// Item files with details: how many items have a name, link or image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub described: Option<usize>,
    /// Which details the item file holds (`name`, `url`, `image`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub detail_fields: Vec<&'static str>,
    /// User files with seen items: the training interactions recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seen_interactions: Option<usize>,
    /// A Bayesian model's item file: the learned noise precision τ (its
    /// `prior` section holds the rest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise_precision: Option<f32>,
    /// How it was trained (`train.*` facts).
    pub training: BTreeMap<String, String>,
}

/// One timed iteration in `bench --json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BenchIteration {
    /// The iteration and its objective.
    #[serde(flatten)]
    pub iteration: Iteration,
    /// Seconds building the normal equations (both halves).
    pub build_seconds: f64,
    /// Seconds solving them.
    pub solve_seconds: f64,
    /// Rate of the build, in 10⁹ floating-point operations per second.
    pub build_gflops: f64,
    /// Rate of the solve.
    pub solve_gflops: f64,
}

/// `bench --json` (training).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BenchReport {
    /// What trained.
    pub device: String,
    /// Model kind.
    pub kind: gramrec_core::ModelKind,
    /// Users.
    pub users: usize,
    /// Items.
    pub items: usize,
    /// Interactions.
    pub interactions: usize,
    /// Latent factors.
    pub factors: usize,
    /// The solver.
    #[serde(flatten)]
    pub solver: SolverOptions,
    /// Median seconds per iteration.
    pub median_seconds_per_iteration: f64,
    /// Each iteration.
    pub iterations: Vec<BenchIteration>,
}

/// `bench --recommend-all --json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopNBenchReport {
    /// Users scored.
    pub users: usize,
    /// Items per user scored.
    pub items: usize,
    /// Latent factors.
    pub factors: usize,
    /// Items kept per user.
    pub k: usize,
    /// Seconds of scoring.
    pub seconds: f64,
    /// Rate, in 10⁹ floating-point operations per second.
    pub gflops: f64,
    /// CPU threads used.
    pub threads: usize,
    /// What scored: "cpu (2 threads)" or "gpu NVIDIA … (Vulkan)".
    pub device: String,
}

/// One setting in `tune --results FILE.json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TuneSetting {
    /// ALS or Bayesian PMF.
    pub method: Method,
    /// Latent factors.
    pub factors: usize,
    /// λ (absent for Bayesian PMF, which has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reg: Option<f32>,
    /// α.
    pub alpha: f32,
    /// Iterations.
    pub iterations: usize,
    /// The metric's name.
    pub metric: String,
    /// Its mean over the folds.
    pub mean: f64,
    /// Its sample standard deviation.
    pub std: f64,
    /// Its value on each fold.
    pub folds: Vec<f64>,
}

/// `tune --results FILE.json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TuneResults {
    /// The metric that ranks the settings.
    pub metric: String,
    /// Folds.
    pub folds: usize,
    /// Every setting, best first.
    pub settings: Vec<TuneSetting>,
}
