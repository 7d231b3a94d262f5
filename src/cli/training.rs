//! The model, its solver and where it trains, and the commands that train
//! on a file: `train` and `tune`.

use std::path::PathBuf;

use clap::Args;
use gramrec_als::{Device, GpuOptions, GpuStorage, Method};
use gramrec_core::params::{DEFAULT_EPSILON, DEFAULT_REG_EXPONENT, DEFAULT_UNOBSERVED};
use gramrec_core::{Confidence, Dtype, RegScaling, Solver, SolverOptions};
use gramrec_data::split::SplitMode;
use gramrec_eval::auto::Budget;
use gramrec_eval::Metric;

use super::{long_help, named, parsed, DataArgs, DetailArgs, InputArgs};

/// The hyperparameters `tune` searches over, as single values.
#[derive(Args, Debug, Clone)]
pub struct HyperArgs {
    /// Number of latent factors [default: 64, implicit: checked on validation].
    #[arg(long, help_heading = "Model", long_help = long_help::FACTORS)]
    pub factors: Option<usize>,
    /// Full iterations (one user and one item half-iteration each) [default: 15].
    #[arg(long, help_heading = "Model")]
    pub iterations: Option<usize>,
    /// Regularisation λ [default: 0.1 explicit; 30 implicit, checked on validation].
    #[arg(long, help_heading = "Model", long_help = long_help::REG)]
    pub reg: Option<f32>,
    /// Confidence slope α of implicit models [default: 1, checked on validation].
    #[arg(long, help_heading = "Model", long_help = long_help::ALPHA)]
    pub alpha: Option<f32>,
}

/// The model and its solver, apart from the [`HyperArgs`].
#[derive(Args, Debug, Clone)]
pub struct AlsArgs {
    /// Explicit ratings: minimise squared error on observed ratings.
    #[arg(long, conflicts_with = "implicit", help_heading = "Model", long_help = long_help::EXPLICIT)]
    pub explicit: bool,
    /// Implicit feedback: weighted loss over all pairs with confidence 1 + α·r.
    #[arg(long, help_heading = "Model", long_help = long_help::IMPLICIT)]
    pub implicit: bool,
    /// How λ is scaled per row: count, none or frequency.
    #[arg(long, value_parser = named::<RegScaling>(), help_heading = "Model", long_help = long_help::REG_SCALING)]
    pub reg_scaling: Option<RegScaling>,
    /// The exponent ν of --reg-scaling frequency (0 = unscaled, 1 = proportional).
    #[arg(long, default_value_t = DEFAULT_REG_EXPONENT, help_heading = "Model")]
    pub reg_exponent: f32,
    /// The weight α₀ of an implicit model's unobserved pairs.
    #[arg(long, default_value_t = DEFAULT_UNOBSERVED, help_heading = "Model", long_help = long_help::UNOBSERVED)]
    pub unobserved: f32,
    /// Confidence curve of implicit models: linear (1 + α·r) or log (1 + α·ln(1 + r/ε)).
    #[arg(long, value_parser = named::<Confidence>(), help_heading = "Model", long_help = long_help::CONFIDENCE)]
    pub confidence: Option<Confidence>,
    /// ε of the log confidence curve.
    #[arg(long, default_value_t = DEFAULT_EPSILON, help_heading = "Model")]
    pub epsilon: f32,
    /// Explicit models without the global mean and user/item biases (Spark's model).
    #[arg(long, help_heading = "Model")]
    pub no_biases: bool,
    /// How the model is fitted: als, or bayes (Bayesian PMF: explicit ratings, nothing to tune).
    #[arg(
        long,
        default_value = "als",
        value_parser = named::<Method>(),
        help_heading = "Model",
        long_help = long_help::METHOD,
    )]
    pub method: Method,
    /// Sweeps of --method bayes averaged into the model, after the burn-in [default: 100].
    #[arg(long, help_heading = "Model")]
    pub samples: Option<usize>,
    /// Sweeps of --method bayes drawn first and not kept [default: 20].
    #[arg(long, help_heading = "Model")]
    pub burn_in: Option<usize>,
    #[command(flatten)]
    pub solver: SolverArgs,
    /// Seed of the initial factors: the same data and seed give the same model.
    #[arg(long, default_value_t = 42, help_heading = "Solver")]
    pub seed: u64,
    #[command(flatten)]
    pub device: DeviceArgs,
}

/// The per-row solver.
#[derive(Args, Debug, Clone)]
pub struct SolverArgs {
    /// Per-row solver: cg (conjugate gradient, faster) or cholesky (exact) [default: cg].
    #[arg(long, value_parser = named::<Solver>(), help_heading = "Solver", long_help = long_help::SOLVER)]
    pub solver: Option<Solver>,
    /// Conjugate-gradient steps per row and half-iteration [default: 3].
    #[arg(long, help_heading = "Solver")]
    pub cg_steps: Option<usize>,
}

impl SolverArgs {
    /// The solver as one value (the defaults where a flag was not given).
    pub fn options(&self) -> SolverOptions {
        let d = SolverOptions::DEFAULT;
        SolverOptions { solver: self.solver.unwrap_or(d.solver), cg_steps: self.cg_steps.unwrap_or(d.cg_steps) }
    }
}

/// Where training runs.
#[derive(Args, Debug, Clone)]
pub struct DeviceArgs {
    /// CPU threads (0 = one per core).
    #[arg(long, default_value_t = 0, help_heading = "Solver")]
    pub threads: usize,
    /// Where to train: auto, gpu or cpu.
    #[arg(
        long,
        default_value = "auto",
        value_parser = named::<Device>(),
        help_heading = "Solver",
        long_help = long_help::DEVICE,
    )]
    pub device: Device,
    /// How the GPU stores the factors: f32, or f16 (half the GPU memory).
    #[arg(
        long,
        default_value = "f32",
        value_parser = named::<GpuStorage>(),
        help_heading = "Solver",
        long_help = long_help::GPU_STORAGE,
    )]
    pub gpu_storage: GpuStorage,
}

impl DeviceArgs {
    /// How to use the GPU: the environment's settings (`env::gpu_options`)
    /// with the flags'.
    pub fn gpu_options(&self) -> gramrec_core::Result<GpuOptions> {
        Ok(GpuOptions { storage: self.gpu_storage, ..crate::env::gpu_options()? })
    }
}

/// What a training command reads and writes, and how it trains (`train`, `tune`).
#[derive(Args, Debug)]
pub struct TrainingArgs {
    /// Interactions: a file, a Parquet folder, or - for standard input; repeatable.
    #[arg(long, short, required = true, long_help = long_help::TRAINING_INPUT)]
    pub input: Vec<PathBuf>,
    /// Model directory to write (items.gramrec and users.gramrec).
    #[arg(long, short, default_value = "model", long_help = long_help::TRAINING_OUT)]
    pub out: PathBuf,
    /// No progress or log lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub input_args: InputArgs,
    #[command(flatten)]
    pub details: DetailArgs,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub als: AlsArgs,
}

/// `gramrec train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    pub run: TrainingArgs,
    /// Storage type of the factors: f32, f16 or i8 (per-row scale).
    #[arg(long, default_value = "f32", value_parser = named::<Dtype>())]
    pub dtype: Dtype,
    /// Save a resumable checkpoint (OUT/checkpoint/) every N iterations.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub checkpoint_every: usize,
    /// Continue from OUT/checkpoint/ (same data and settings): the result equals an uninterrupted run's.
    #[arg(long)]
    pub resume: bool,
    /// Held-out interactions to evaluate after every iteration.
    #[arg(long, long_help = long_help::VALIDATE)]
    pub validate: Option<PathBuf>,
    /// Validation metric [default: rmse for explicit models, ndcg@10 for implicit ones].
    #[arg(long, value_parser = parsed::<Metric>())]
    pub metric: Option<Metric>,
    /// Print one JSON object with counts, parameters and per-iteration figures on stdout (docs/JSON.md).
    #[arg(long)]
    pub json: bool,
    /// Search the settings first, by successive halving on a validation split.
    #[arg(long, conflicts_with = "resume", long_help = long_help::AUTO)]
    pub auto: bool,
    /// What --auto may spend before the final training: trainings (10x) or a time (15m).
    #[arg(long, requires = "auto", value_parser = parsed::<Budget>(), long_help = long_help::BUDGET)]
    pub budget: Option<Budget>,
    #[command(flatten)]
    pub hyper: HyperArgs,
}

/// `gramrec tune`.
#[derive(Args, Debug)]
pub struct TuneArgs {
    #[command(flatten)]
    pub run: TrainingArgs,
    /// Also write every setting's scores: CSV, or JSON when the name ends in .json (docs/JSON.md).
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Number of cross-validation folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// How folds are drawn: random or per-user.
    #[arg(long, default_value = "random", value_parser = named::<SplitMode>(), long_help = long_help::TUNE_MODE)]
    pub mode: SplitMode,
    /// Factor counts to try (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "16,32,64,128")]
    pub factors: Vec<usize>,
    /// Regularisation strengths to try [default: 0.05,0.1,0.2,0.5 explicit; 5,10,30,60 implicit].
    #[arg(long, value_delimiter = ',')]
    pub reg: Vec<f32>,
    /// Confidence slopes to try (implicit models) [default: 1].
    #[arg(long, value_delimiter = ',')]
    pub alpha: Vec<f32>,
    /// Iteration counts to try [default: 15].
    #[arg(long, value_delimiter = ',')]
    pub iterations: Vec<usize>,
    /// The figure that ranks settings [default: rmse explicit, ndcg@10 implicit].
    #[arg(long, value_parser = parsed::<Metric>(), long_help = long_help::TUNE_METRIC)]
    pub metric: Option<Metric>,
    /// Seed of the folds (the model seed is --seed).
    #[arg(long, default_value_t = 42)]
    pub fold_seed: u64,
}
