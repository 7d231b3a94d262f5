//! Hyperparameter search: a grid of settings, each scored by k-fold
//! cross-validation (the folds built as [`crate::split`] builds holdouts).
//!
//! Work is shared across the grid where that is correct: the input is parsed
//! once, each fold's training CSR and its evaluation bookkeeping are built
//! once, and every setting reuses them.

use gramrec_als::{TrainConfig, Trained};
use gramrec_core::{setting, Error, Method, ModelKind, ModelParams, ParamError, Result};
use gramrec_data::split::{folds, subset, SplitMode};
use gramrec_data::{Dataset, DatasetOptions, Interactions};

use crate::evaluate::{metric_known, Known, Metric, MetricValues};

/// The most cross-validation folds: every fold's training set is built once
/// and kept for the whole grid.
pub const MAX_FOLDS: usize = 100;

/// The values to try; every combination is one setting.
#[derive(Debug, Clone)]
pub struct Grid {
    /// Factor counts.
    pub factors: Vec<usize>,
    /// Regularisation strengths.
    pub reg: Vec<f32>,
    /// Confidence slopes (implicit models; ignored by explicit ones).
    pub alpha: Vec<f32>,
    /// Iteration counts.
    pub iterations: Vec<usize>,
}

impl Grid {
    /// The λ values to try for a model kind when none are given: around the
    /// measured default (BENCHMARKS.md).
    pub fn default_regs(kind: ModelKind) -> Vec<f32> {
        match kind {
            ModelKind::Explicit => vec![0.05, 0.1, 0.2, 0.5],
            ModelKind::Implicit => vec![5.0, 10.0, 30.0, 60.0],
        }
    }

    /// Every setting: `base` with each combination of the grid's values. A
    /// Bayesian `base` (`method = bayes`) has no λ, α or iteration count to
    /// vary: its settings are the factor counts alone.
    pub fn settings(&self, base: &TrainConfig) -> Vec<TrainConfig> {
        if base.method == Method::Bayes {
            return self
                .factors
                .iter()
                .map(|&factors| TrainConfig { params: ModelParams { factors, ..base.params }, ..*base })
                .collect();
        }
        let implicit = base.params.kind == ModelKind::Implicit;
        let alphas = if implicit { self.alpha.clone() } else { vec![base.params.alpha] };
        let mut out = Vec::new();
        for &factors in &self.factors {
            for &reg in &self.reg {
                for &alpha in &alphas {
                    for &iterations in &self.iterations {
                        let mut c = *base;
                        c.params.factors = factors;
                        c.params.reg = reg;
                        c.params.alpha = alpha;
                        c.iterations = iterations;
                        out.push(c);
                    }
                }
            }
        }
        out
    }
}

/// How to cross-validate.
#[derive(Debug, Clone, Copy)]
pub struct CrossValidation {
    /// Number of folds.
    pub folds: usize,
    /// How folds are drawn (random or per-user).
    pub mode: SplitMode,
    /// Seed of the folds.
    pub seed: u64,
    /// The figure that ranks settings.
    pub metric: Metric,
    /// How each fold's training part becomes a dataset.
    pub data: DatasetOptions,
}

/// Whether `folds` folds can cross-validate `interactions` interactions
/// (`usize::MAX` checks the count alone, before any data is read).
pub fn check_folds(folds: usize, interactions: usize) -> Result<(), ParamError> {
    if (2..=MAX_FOLDS.min(interactions)).contains(&folds) {
        return Ok(());
    }
    let also = if interactions < MAX_FOLDS {
        format!(" (and at most the {interactions} interactions)")
    } else {
        String::new()
    };
    Err(ParamError::new("folds", format!("must be between 2 and {MAX_FOLDS}{also}, not {folds}")))
}

/// One setting's scores.
#[derive(Debug, Clone)]
pub struct SettingResult {
    /// The setting.
    pub config: TrainConfig,
    /// The metric on each fold.
    pub scores: Vec<f64>,
    /// Their mean.
    pub mean: f64,
    /// Their sample standard deviation.
    pub std: f64,
}

/// `metric` of a model trained on `train`, on the held-out `test`
/// interactions (`known`: what `train` holds).
pub(crate) fn score(
    train: &Dataset,
    trained: &Trained,
    known: &Known,
    test: &Interactions,
    metric: Metric,
) -> Result<MetricValues> {
    let model = trained.model(train).map_err(Error::Scoring)?;
    metric_known(&model, known, test, metric)
}

/// One fold, prepared once for the whole grid.
struct Fold {
    train: Dataset,
    known: Known,
    test: Interactions,
}

/// Scores every setting by cross-validation; results best first.
/// `progress` is called after each (setting, fold) training.
pub fn cross_validate(
    x: &Interactions,
    settings: &[TrainConfig],
    cv: &CrossValidation,
    mut progress: impl FnMut(&TrainConfig, usize, f64),
) -> Result<Vec<SettingResult>> {
    for c in settings {
        c.validate()?;
    }
    check_folds(cv.folds, x.len())?;
    let assignment = folds(x, cv.folds, cv.mode, cv.seed)?;
    let prepared: Vec<Fold> = (0..cv.folds as u32)
        .map(|f| {
            let train = Dataset::build(subset(x, |k| assignment[k] != f), &cv.data)?;
            let known = Known::from_dataset(&train);
            Ok(Fold { train, known, test: subset(x, |k| assignment[k] == f) })
        })
        .collect::<Result<_>>()?;
    let mut results = Vec::with_capacity(settings.len());
    for config in settings {
        let mut scores = Vec::with_capacity(cv.folds);
        for (f, fold) in prepared.iter().enumerate() {
            let trained = gramrec_als::train(&fold.train, config, &mut |_| Ok(()))?;
            let score = score(&fold.train, &trained, &fold.known, &fold.test, cv.metric)
                .map_err(|e| match e {
                    Error::Data(why) => Error::Data(format!("fold {}: {why}; use fewer {}", f + 1, setting("folds"))),
                    e => e,
                })?
                .value;
            progress(config, f, score);
            scores.push(score);
        }
        let n = scores.len() as f64;
        let mean = scores.iter().sum::<f64>() / n;
        let std = (scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
        results.push(SettingResult { config: *config, scores, mean, std });
    }
    results.sort_by(|a, b| cv.metric.best_first(a.mean, b.mean));
    Ok(results)
}
