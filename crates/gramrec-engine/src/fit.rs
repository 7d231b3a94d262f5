//! Fitting: interactions → training matrices → ALS on a backend → a
//! [`Fitted`] model, with validation, checkpoints and progress as options,
//! reported through typed [`FitEvent`]s.

use std::path::PathBuf;

use gramrec_als::{checkpoint, memory, DeviceNotice, IterationReport, TrainConfig, TrainEvent, Trained};
use gramrec_core::setting::set;
use gramrec_core::{Error, Method, ParamError, Result};
use gramrec_data::{Dataset, DatasetOptions, Interactions};
use gramrec_eval::{evaluate_known, Evaluation, Known, Metric};

/// Held-out interactions scored after every iteration (a learning curve).
#[derive(Debug, Clone, Copy)]
pub struct Validation<'a> {
    /// The held-out interactions.
    pub test: &'a Interactions,
    /// The figure the curve follows (its k for ranking metrics).
    pub metric: Metric,
}

/// Where and how often a run saves its state, so an interrupted run can
/// continue with the same result.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoints {
    /// The model directory; the state goes to its `checkpoint/` folder.
    pub dir: PathBuf,
    /// Save after every this many iterations (0: never).
    pub every: usize,
    /// Continue from the checkpoint there (refused if it was made from
    /// other data or settings).
    pub resume: bool,
}

/// How to fit, beyond the model's settings.
#[derive(Debug, Clone, Default)]
pub struct FitOptions<'a> {
    /// How the interactions become training matrices: duplicates, values of
    /// 0 or less, filters.
    pub data: DatasetOptions,
    /// Refuse, before training, work that needs more bytes than this.
    pub memory_limit: Option<u64>,
    /// Score held-out interactions after every iteration.
    pub validation: Option<Validation<'a>>,
    /// Save the run's state as it goes, or continue from it.
    pub checkpoints: Option<Checkpoints>,
}

/// What fitting reports as it goes.
#[derive(Debug)]
pub enum FitEvent<'a> {
    /// The training matrices are built: duplicates merged, filters applied
    /// (their counts are in `stats`). The memory check comes next.
    Built(&'a Dataset),
    /// Training continues from a checkpoint after this many iterations.
    Resumed(usize),
    /// The checks passed: training starts now.
    Training,
    /// Where training runs (again when a GPU run falls back to the CPU).
    Device(&'a DeviceNotice),
    /// An iteration ended.
    Iteration {
        /// Its figures: the objective, the time.
        report: &'a IterationReport,
        /// The held-out figures after it, when validating.
        validation: Option<&'a Evaluation>,
    },
}

/// A fitted model: the factors with the data they were fitted on, ready to
/// save ([`save`](Self::save)) or to score in memory ([`model`](Self::model)).
#[derive(Debug, Clone)]
pub struct Fitted {
    /// The training matrices (IDs, interactions, what was merged and filtered).
    pub data: Dataset,
    /// The factors and the run's figures.
    pub trained: Trained,
    /// The held-out figures after each iteration, when validating.
    pub validation: Vec<Evaluation>,
    /// The checkpoint folder's model directory, removed once the model is saved there.
    pub(crate) checkpoints: Option<PathBuf>,
}

/// Fits a model to `x` with the settings of `config`, telling `on_event`
/// what happens; an error from `on_event` stops the run (nothing is saved).
/// The settings (and the validation metric) are checked before any data is
/// touched, and the memory training needs before it starts.
pub fn fit(
    x: Interactions,
    config: &TrainConfig,
    options: &FitOptions<'_>,
    on_event: &mut dyn FnMut(FitEvent<'_>) -> Result<()>,
) -> Result<Fitted> {
    config.validate()?;
    if let (Method::Bayes, Some(c)) = (config.method, &options.checkpoints) {
        let why = format!("does not apply to {}: a sampler's state is more than its factors", set("method", "bayes"));
        if c.resume {
            return Err(ParamError::new("resume", why).into());
        }
        if c.every > 0 {
            return Err(ParamError::new("checkpoint_every", why).into());
        }
    }
    if let Some(v) = &options.validation {
        v.metric.check(config.params.kind)?;
    }
    let data = Dataset::build(x, &options.data)?;
    on_event(FitEvent::Built(&data))?;
    let threads =
        if config.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { config.threads };
    let needed = memory::training_estimate(&data, &config.params, config.method, threads);
    memory::check("training", needed, options.memory_limit)?;
    let checkpoints = options.checkpoints.as_ref();
    let start = match checkpoints {
        Some(c) if c.resume => {
            let start = checkpoint::read(&c.dir, &data, config)?;
            on_event(FitEvent::Resumed(start.iteration))?;
            Some(start)
        }
        _ => None,
    };
    let known = options.validation.map(|_| Known::from_dataset(&data));
    let mut validation = Vec::new();
    on_event(FitEvent::Training)?;
    let trained = gramrec_als::train_from(&data, config, start, &mut |event| match event {
        TrainEvent::Device(notice) => on_event(FitEvent::Device(&notice)),
        TrainEvent::Iteration(report, mut snapshot) => {
            let due = checkpoints
                .filter(|c| c.every > 0 && report.iteration % c.every == 0 && report.iteration < config.iterations);
            // The factors are fetched from the backend (a GPU read-back) once,
            // for the validation and the checkpoint both.
            let current = if known.is_some() || due.is_some() { Some(snapshot.model()?) } else { None };
            let scored = match (&options.validation, &known, &current) {
                (Some(v), Some(known), Some(current)) => {
                    let model = current.model(&data).map_err(Error::Scoring)?;
                    Some(evaluate_known(&model, known, v.test, v.metric.k())?)
                }
                _ => None,
            };
            on_event(FitEvent::Iteration { report, validation: scored.as_ref() })?;
            validation.extend(scored);
            if let (Some(c), Some(current)) = (due, &current) {
                checkpoint::write(&c.dir, &data, current, report.iteration)?;
            }
            Ok(())
        }
    })?;
    Ok(Fitted { data, trained, validation, checkpoints: checkpoints.map(|c| c.dir.clone()) })
}
