//! `train --auto`: a search over a model's settings on a validation split
//! carved from the training data, by successive halving within a budget.
//!
//! The defaults are trained and scored first, as they are; for explicit
//! data, Bayesian PMF (`method = bayes`) next, at full length, when the
//! budget can pay for it (else the search says what it would cost); then candidates
//! drawn from the search space (half, the same or twice the factors; λ, its
//! scaling and ν; α, the confidence curve and the unobserved weight α₀ of
//! implicit models) are trained for a few
//! iterations, the best third continue (warm, from where they stopped) to the
//! next rung's iterations, and so on; a candidate that did not improve since
//! its last rung stops there. Every (setting, iterations) pair scored is a
//! setting the caller may retrain. The best one wins if it beats the
//! defaults clearly (by more than two standard errors of the per-user
//! difference), else the defaults stay: the result is never worse on
//! validation than the defaults, and not changed for a gain within noise.
//! Brackets of fresh candidates follow one another until the budget is spent.
//!
//! Costs are counted in units of one training with the base settings, from
//! the multiply-adds each trial does — its iterations' solves and products,
//! and the scoring of every validation user against every item, which on a
//! wide catalogue outweighs a few iterations — counted from the data's
//! shape, not timed, so a search is the same for a seed on any machine. A
//! budget in seconds is converted once, from the defaults' measured
//! training time; the report gives the wall time against that training's.

use std::time::Instant;

use gramrec_als::driver::Start;
use gramrec_als::{TrainConfig, Trained};
use gramrec_core::{
    setting, Confidence, Error, Method, ModelKind, ModelParams, RegScaling, Result, Solver, MAX_FACTORS,
};
use gramrec_data::split::{assign, subset, SplitMode, SplitOptions};
use gramrec_data::{Dataset, DatasetOptions, Interactions};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::evaluate::{Known, Metric, MetricValues};
use crate::tune::score;

/// How much the search may do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Budget {
    /// This many trainings with the base settings (`10x`).
    Trainings(f64),
    /// About this many seconds (`90s`, `15m`), converted into trainings once
    /// from the defaults' time (so the search stays deterministic after it).
    Seconds(f64),
}

impl Budget {
    /// The default: ten trainings with the base settings.
    pub const DEFAULT: Self = Budget::Trainings(10.0);
}

impl std::str::FromStr for Budget {
    type Err = String;

    /// `10x`, `2.5x`, `90s`, `15m` or `1h`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let t = s.trim();
        let (number, unit) = t.split_at(t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len()));
        let value: f64 = number.trim().parse().map_err(|_| format!("'{s}' is not a budget such as 10x, 90s or 15m"))?;
        if !(value.is_finite() && value > 0.0) {
            return Err(format!("the budget must be a positive number, not '{s}'"));
        }
        match unit.to_ascii_lowercase().as_str() {
            "x" => Ok(Budget::Trainings(value)),
            "s" => Ok(Budget::Seconds(value)),
            "m" | "min" => Ok(Budget::Seconds(value * 60.0)),
            "h" => Ok(Budget::Seconds(value * 3600.0)),
            _ => Err(format!("'{s}': say how the budget counts: 10x (trainings), 90s, 15m or 1h")),
        }
    }
}

impl std::fmt::Display for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Budget::Trainings(x) => write!(f, "{x}x"),
            Budget::Seconds(s) => write!(f, "{s}s"),
        }
    }
}

/// How to search.
#[derive(Debug, Clone)]
pub struct AutoOptions {
    /// What the search may do.
    pub budget: Budget,
    /// Seed of the validation split, the user sample and the candidates.
    pub seed: u64,
    /// The figure that ranks settings.
    pub metric: Metric,
    /// Share of the training interactions held out for validation (per user
    /// for implicit models, at random for explicit ones).
    pub validation_fraction: f64,
    /// Beyond this many interactions the search runs on a seeded sample of
    /// the users holding about this many.
    pub sample_interactions: usize,
    /// How the search's training part becomes a dataset.
    pub data: DatasetOptions,
    /// Whether explicit data may be given Bayesian PMF (not when the winner
    /// must write checkpoints, which a sampler cannot resume from).
    pub bayes: bool,
}

impl AutoOptions {
    /// The share of the input held out for validation by default: small, so
    /// that the search trains on nearly what the winner is retrained on
    /// (docs/ALGORITHM.md).
    pub const VALIDATION_FRACTION: f64 = 0.1;

    /// Searches on at most this many interactions by default: on 2 cores a
    /// default training of 5M interactions takes about a minute.
    pub const SAMPLE_INTERACTIONS: usize = 5_000_000;

    /// A search within `budget` for `metric`, seeded by `seed`, building
    /// its datasets with `data`, on the default validation share and sample
    /// size (what `train --auto` and the Python package's `auto` run).
    pub fn new(budget: Budget, seed: u64, metric: Metric, data: DatasetOptions) -> Self {
        Self {
            budget,
            seed,
            metric,
            validation_fraction: Self::VALIDATION_FRACTION,
            sample_interactions: Self::SAMPLE_INTERACTIONS,
            data,
            bayes: true,
        }
    }
}

/// One setting scored on the validation split.
#[derive(Debug, Clone)]
pub struct Trial {
    /// The setting, with the iterations it was scored after.
    pub config: TrainConfig,
    /// Which candidate (0: the defaults).
    pub candidate: usize,
    /// The rung (0 for the defaults and the first rung).
    pub rung: usize,
    /// The metric on the validation split.
    pub score: f64,
}

/// Users kept when the search ran on a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Users searched on.
    pub users: usize,
    /// Users in the data.
    pub of: usize,
    /// Interactions searched on (before the validation split).
    pub interactions: usize,
}

/// What the search found.
#[derive(Debug, Clone)]
pub struct AutoResult {
    /// Every setting scored, in the order scored: the first is the settings
    /// as given.
    pub trials: Vec<Trial>,
    /// The winner's index in `trials`: the best on validation when it beats
    /// the first clearly, else the first.
    pub best: usize,
    /// The best on validation (index in `trials`).
    pub leader: usize,
    /// When the best on validation is not the first: by how many standard
    /// errors of the paired per-user (per-rating for RMSE and MAE)
    /// difference it beats the first. It wins when this exceeds 2.
    pub margin: Option<f64>,
    /// Set when the search ran on a sample of the users.
    pub sample: Option<Sample>,
    /// Interactions the search trained on, and validated on.
    pub split: (usize, usize),
    /// Work done, in trainings with the base settings.
    pub cost: f64,
    /// The budget in the same units.
    pub budget: f64,
    /// Wall time of the whole search.
    pub seconds: f64,
    /// Wall time of the first training (the settings as given, on the
    /// search's split): what the budget's `x` counts.
    pub training_seconds: f64,
}

/// A search's account, as `train --json` reports it (`auto`) and the
/// Python package's `auto` returns it: camelCase JSON.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoReport {
    /// The budget as given (`10x`, `90s`).
    pub budget: String,
    /// The budget in trainings with the first candidate's settings.
    pub budget_trainings: f64,
    /// Work done, in the same units.
    pub cost_trainings: f64,
    /// Wall time of the search.
    pub seconds: f64,
    /// Wall time of one training with the settings as given (on the
    /// search's split): `seconds` over it is the budget actually spent.
    pub training_seconds: f64,
    /// The metric that ranked the settings.
    pub metric: String,
    /// Interactions the search trained on and validated on.
    pub train_interactions: usize,
    /// Validation interactions.
    pub validation_interactions: usize,
    /// Users searched on, when the search ran on a sample of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampled_users: Option<usize>,
    /// Every setting scored, in the order scored; the first is the flags' own.
    pub trials: Vec<AutoTrial>,
    /// Index of the winner in `trials`.
    pub chosen: usize,
    /// Index of the best on validation (the winner when it beats the
    /// flags' settings by a clear margin).
    pub leader: usize,
    /// By how many standard errors of the paired per-user (per-rating)
    /// difference the best beats the flags' settings; absent when they are the best.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margin: Option<f64>,
}

/// One setting the search scored, in an [`AutoReport`].
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoTrial {
    /// The candidate (0: the flags' settings).
    pub candidate: usize,
    /// The successive-halving rung.
    pub rung: usize,
    /// ALS, or Bayesian PMF (whose `iterations` are its sweeps).
    pub method: Method,
    /// The setting.
    pub params: ModelParams,
    /// Iterations it was scored after.
    pub iterations: usize,
    /// The metric on the validation split.
    pub score: f64,
}

impl AutoResult {
    /// The account of this search, run with `budget` for `metric`.
    pub fn report(&self, budget: Budget, metric: Metric) -> AutoReport {
        AutoReport {
            budget: budget.to_string(),
            budget_trainings: self.budget,
            cost_trainings: self.cost,
            seconds: self.seconds,
            training_seconds: self.training_seconds,
            metric: metric.to_string(),
            train_interactions: self.split.0,
            validation_interactions: self.split.1,
            sampled_users: self.sample.map(|s| s.users),
            trials: self
                .trials
                .iter()
                .map(|t| AutoTrial {
                    candidate: t.candidate,
                    rung: t.rung,
                    method: t.config.method,
                    params: t.config.params,
                    iterations: t.config.iterations,
                    score: t.score,
                })
                .collect(),
            chosen: self.best,
            leader: self.leader,
            margin: self.margin.map(|m| if m.is_finite() { m } else { f64::MAX }),
        }
    }
}

/// What the search reports as it goes.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// The settings as given are trained: the search will do at most
    /// `budget` units of work (trainings with them), these included.
    Started {
        /// The budget in units.
        budget: f64,
    },
    /// A round of successive halving starts with `candidates` new candidates
    /// and `planned` units of work.
    Bracket {
        /// Candidates drawn.
        candidates: usize,
        /// Work planned.
        planned: f64,
    },
    /// One setting trained and scored; `cost` is what it took.
    Scored {
        /// The setting.
        trial: &'a Trial,
        /// Its cost in units.
        cost: f64,
    },
    /// A setting the search would try at full fidelity (Bayesian PMF, for
    /// explicit data) and cannot pay for.
    Unaffordable {
        /// The setting.
        config: &'a TrainConfig,
        /// What it would cost, in units.
        cost: f64,
        /// Units spent so far.
        spent: f64,
        /// The budget in units.
        budget: f64,
    },
}

/// Standard errors by which the best on validation must beat the settings
/// as given to replace them: a gain within the split's noise keeps them.
const CLEAR_MARGIN: f64 = 2.0;
/// Iterations of each rung, as fractions of the base iteration count: a
/// candidate that is still improving at the base count may go a third further.
const RUNGS: [f64; 3] = [0.2, 0.5, 4.0 / 3.0];
/// One in `ETA` candidates of a rung goes on to the next.
const ETA: usize = 3;
/// The most candidates of one bracket, whatever the budget.
const MAX_CANDIDATES: usize = 243;
/// Draws in a row that do not fit the budget's remainder before a bracket is
/// closed (a cheaper one may follow an expensive one).
const MAX_MISSES: usize = 8;
/// The most settings scored, whatever the budget.
const MAX_TRIALS: usize = 1000;

/// The iterations of each rung for a base of `iterations`.
fn rungs(iterations: usize) -> [usize; 3] {
    let mut out = [0; 3];
    let mut last = 0;
    for (o, f) in out.iter_mut().zip(RUNGS) {
        *o = ((iterations as f64 * f).round() as usize).max(last + 1);
        last = *o;
    }
    out
}

/// What one multiply-add of validation scoring costs in training's: the
/// scoring loop also keeps a top-k list per user, skips seen items and
/// ranks. Measured on the CPU backend (2 cores, a 5,500 × 17,000 sparse set:
/// 0.58 s for a default training's 6.1 G multiply-adds, 1.1 s for scoring's
/// 5.4 G), rounded.
const SCORE_WEIGHT: f64 = 2.0;

/// The work of training and scoring on the search's split, in
/// multiply-adds counted from its shape.
#[derive(Debug, Clone, Copy)]
struct Work {
    /// Users and items of the training split: the rows solved each iteration.
    rows: f64,
    /// Its interactions.
    nnz: f64,
    /// Scores one validation computes per factor: validation users × items
    /// for a ranking metric, the held-out ratings for RMSE and MAE.
    scores: f64,
    /// One training with the base settings: the unit of cost.
    unit: f64,
}

impl Work {
    /// The work of the search on `v`, in trainings with `base`.
    fn new(v: &Validation, base: &TrainConfig, units_scored: usize) -> Self {
        let scores = match v.metric {
            Metric::Rmse | Metric::Mae => units_scored as f64,
            _ => units_scored as f64 * v.train.items.len() as f64,
        };
        let mut work = Work {
            rows: (v.train.users.len() + v.train.items.len()) as f64,
            nnz: v.train.nnz() as f64,
            scores,
            unit: 1.0,
        };
        work.unit = base.iterations as f64 * work.per_iteration(base);
        work
    }

    /// Multiply-adds of one iteration of `c`: every row's solve (CG steps
    /// on f × f systems, or a Cholesky factorisation) and its interactions'
    /// products with the other side's factors, both half-iterations.
    /// A Bayesian sweep builds and factors every row's matrix as Cholesky does.
    fn per_iteration(&self, c: &TrainConfig) -> f64 {
        let f = c.params.dim() as f64;
        let s = c.solver.cg_steps as f64;
        match (c.method, c.solver.solver) {
            (Method::Als, Solver::Cg) => self.rows * (1.0 + s) * f * f + 2.0 * (s + 1.0) * self.nnz * f,
            (Method::Bayes, _) | (_, Solver::Cholesky) => {
                self.rows * (f * f * f / 3.0 + 2.0 * f * f) + self.nnz * f * f
            }
        }
    }

    /// `iterations` more iterations of `c` and one validation of it, in trainings with the base settings.
    fn cost(&self, c: &TrainConfig, iterations: usize) -> f64 {
        let scoring = SCORE_WEIGHT * self.scores * c.params.dim() as f64;
        (iterations as f64 * self.per_iteration(c) + scoring) / self.unit
    }
}

/// What the search space's λ ranges are relative to: the data's mean row
/// lengths and row counts.
#[derive(Debug, Clone, Copy)]
struct Shape {
    users: f64,
    items: f64,
    per_user: f64,
    per_item: f64,
}

impl Shape {
    fn of(data: &Dataset) -> Self {
        let (users, items) = (data.users.len().max(1) as f64, data.items.len().max(1) as f64);
        let nnz = data.nnz().max(1) as f64;
        Shape { users, items, per_user: nnz / users, per_item: nnz / items }
    }
}

/// Draws a log-uniform value in [lo, hi].
fn log_uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f32 {
    (lo.ln() + rng.random::<f64>() * (hi / lo).ln()).exp() as f32
}

/// Rounds to 3 significant digits (what the table shows is what was trained).
fn round3(v: f32) -> f32 {
    if v == 0.0 {
        return 0.0;
    }
    let scale = 10f32.powi(2 - v.abs().log10().floor() as i32);
    (v * scale).round() / scale
}

/// The range of the shift λ a typical row of an implicit model gets (per α₀),
/// drawn log-uniformly: from well under the default's 30 to past the best
/// cells measured on play counts (docs/benchmarks-history.md, 2026-12-04) (λ 200 with α 1, 400 with
/// α 3), which the earlier 6–150 left out; MovieLens 100K and the many-items
/// set are best near 30.
const IMPLICIT_SHIFTS: (f64, f64) = (5.0, 500.0);

/// The range of an explicit model's λ per rating (ALS-WR's count scaling).
const EXPLICIT_PER_RATING: (f64, f64) = (0.03, 0.3);

/// A candidate drawn from the search space around `base`. λ is drawn as the
/// shift a typical row gets and converted to the drawn scaling, so that every
/// scaling explores the same range of effective regularisation.
fn draw(base: &TrainConfig, shape: Shape, rng: &mut ChaCha8Rng) -> TrainConfig {
    let mut c = *base;
    let p = &mut c.params;
    let f = base.params.factors;
    p.factors = [(f / 2).max(1), f, (2 * f).min(MAX_FACTORS)][rng.random_range(0..3)];
    let frequency = rng.random_bool(0.5);
    p.reg_exponent = if frequency { round3(rng.random_range(0.25f32..=1.0)) } else { base.params.reg_exponent };
    match p.kind {
        ModelKind::Implicit => {
            p.alpha = round3(log_uniform(rng, 0.25, 8.0));
            if rng.random_bool(0.25) {
                p.confidence = match base.params.confidence {
                    Confidence::Linear => Confidence::Log,
                    Confidence::Log => Confidence::Linear,
                };
            }
            p.unobserved = if rng.random_bool(0.5) { 1.0 } else { round3(log_uniform(rng, 0.05, 1.0)) };
            // The objective divided by α₀ is Hu et al.'s with λ/α₀: draw that.
            let shift = log_uniform(rng, IMPLICIT_SHIFTS.0, IMPLICIT_SHIFTS.1) * p.unobserved;
            p.reg_scaling = if frequency { RegScaling::Frequency } else { RegScaling::None };
            p.reg = if frequency {
                let a0 = p.unobserved as f64;
                let typical = ((shape.per_user + a0 * shape.items) * (shape.per_item + a0 * shape.users)).sqrt();
                shift / typical.powf(p.reg_exponent as f64) as f32
            } else {
                shift
            };
        }
        ModelKind::Explicit => {
            // λ·n as ALS-WR, drawn per rating.
            let per = log_uniform(rng, EXPLICIT_PER_RATING.0, EXPLICIT_PER_RATING.1);
            p.reg_scaling = if frequency { RegScaling::Frequency } else { RegScaling::Count };
            p.reg = if frequency {
                let typical = (shape.per_user * shape.per_item).sqrt();
                per * typical.powf(1.0 - p.reg_exponent as f64) as f32
            } else {
                per
            };
        }
    }
    p.reg = round3(p.reg);
    c
}

/// The work successive halving does for these candidates (rung by rung, a
/// third going on, each continuing from the last rung's iterations).
fn planned(candidates: &[TrainConfig], base: &TrainConfig, work: &Work) -> f64 {
    if candidates.is_empty() {
        return 0.0;
    }
    let rungs = rungs(base.iterations);
    let mean =
        |iterations: usize| candidates.iter().map(|c| work.cost(c, iterations)).sum::<f64>() / candidates.len() as f64;
    let (mut n, mut done, mut total) = (candidates.len(), 0, 0.0);
    for r in rungs {
        total += n as f64 * mean(r - done);
        done = r;
        n = n.div_ceil(ETA);
    }
    total
}

/// A seeded sample of the users holding about `limit` interactions, when
/// `x` has more.
fn sample_users(x: &Interactions, limit: usize, seed: u64) -> Option<(Interactions, Sample)> {
    if x.len() <= limit {
        return None;
    }
    let share = limit as f64 / x.len() as f64;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_5a3d);
    let keep: Vec<bool> = (0..x.users.len()).map(|_| rng.random_bool(share)).collect();
    let kept = subset(x, |k| keep[x.user[k] as usize]);
    let users = keep.iter().filter(|&&k| k).count();
    let sample = Sample { users, of: x.users.len(), interactions: kept.len() };
    Some((kept, sample))
}

/// The split and bookkeeping every candidate is scored against.
struct Validation {
    train: Dataset,
    known: Known,
    test: Interactions,
    metric: Metric,
}

impl Validation {
    /// Trains `config` (continuing from `start`) and scores it; also the
    /// training's wall time in seconds.
    fn run(&self, config: &TrainConfig, start: Option<Start>) -> Result<(Trained, MetricValues, f64)> {
        let timer = Instant::now();
        let trained = gramrec_als::train_from(&self.train, config, start, &mut |_| Ok(()))?;
        let seconds = timer.elapsed().as_secs_f64();
        let s = score(&self.train, &trained, &self.known, &self.test, self.metric)?;
        Ok((trained, s, seconds))
    }

    /// Whether `a` beats `b`.
    fn better(&self, a: f64, b: f64) -> bool {
        self.metric.best_first(a, b) == std::cmp::Ordering::Less
    }
}

/// Every setting scored, and the per-unit values of the first and of the
/// best so far (what the winner is checked against the first with).
struct Board {
    trials: Vec<Trial>,
    first: Vec<f64>,
    leader: (usize, Vec<f64>),
}

impl Board {
    fn record(&mut self, v: &Validation, trial: Trial, units: Vec<f64>) {
        if v.better(trial.score, self.trials[self.leader.0].score) {
            self.leader = (self.trials.len(), units);
        }
        self.trials.push(trial);
    }

    /// By how many standard errors the leader's per-unit values beat the
    /// first's, pair by pair (positive: better).
    fn margin(&self, v: &Validation) -> f64 {
        paired_margin(&self.leader.1, &self.first, v.metric.lower_is_better())
    }
}

/// By how many standard errors of their pairwise differences the values `a`
/// beat `b` (positive: better; lower values are better with `lower`); 0 when
/// they cannot be paired.
fn paired_margin(a: &[f64], b: &[f64], lower: bool) -> f64 {
    if a.len() != b.len() || a.len() < 2 {
        return 0.0;
    }
    let sign = if lower { -1.0 } else { 1.0 };
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| sign * (x - y)).collect();
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let se = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt();
    if se > 0.0 {
        mean / se
    } else if mean > 0.0 {
        f64::INFINITY
    } else {
        0.0
    }
}

/// A candidate still in the race: its best score so far and the model it
/// continues from.
struct Alive {
    candidate: usize,
    config: TrainConfig,
    score: f64,
    model: Trained,
}

/// Searches settings for `x` around `base` (the defaults, as the flags and
/// the data decided them). `on_event` sees the plan and every scored
/// setting; an error it returns stops the search (an interruption).
pub fn search(
    x: &Interactions,
    base: &TrainConfig,
    opts: &AutoOptions,
    on_event: &mut dyn FnMut(Event<'_>) -> Result<()>,
) -> Result<AutoResult> {
    base.validate()?;
    let started = Instant::now();
    let sampled = sample_users(x, opts.sample_interactions, opts.seed);
    let (x, sample) = sampled.as_ref().map_or((x, None), |(kept, s)| (kept, Some(*s)));
    let mode = match base.params.kind {
        ModelKind::Implicit => SplitMode::PerUser,
        ModelKind::Explicit => SplitMode::Random,
    };
    let split =
        SplitOptions { mode, test_fraction: opts.validation_fraction, seed: opts.seed, min_user_interactions: 2 };
    let held = assign(x, &split)?;
    let train = Dataset::build(subset(x, |k| !held[k]), &opts.data)?;
    let test = subset(x, |k| held[k]);
    if test.is_empty() || train.nnz() == 0 {
        return Err(Error::Data(format!(
            "{} needs a validation split, and {} interactions are too few to carve one",
            setting("auto"),
            x.len()
        )));
    }
    let v = Validation { known: Known::from_dataset(&train), train, test, metric: opts.metric };
    let split_sizes = (v.train.nnz(), v.test.len());

    // The defaults, as they are.
    let (_, first, training_seconds) = v.run(base, None)?;
    let work = Work::new(&v, base, first.units.len());
    let budget = match opts.budget {
        Budget::Trainings(t) => t,
        Budget::Seconds(s) => s / training_seconds.max(1e-3),
    };
    let start = Trial { config: *base, candidate: 0, rung: 0, score: first.value };
    let mut board = Board { trials: vec![start], first: first.units.clone(), leader: (0, first.units) };
    let mut spent = work.cost(base, base.iterations);

    on_event(Event::Started { budget })?;
    on_event(Event::Scored { trial: &board.trials[0], cost: spent })?;
    let mut next = 1;

    // Explicit data: Bayesian PMF with the base's factors, at full
    // fidelity (it has no λ to search and no rungs: a short chain is not
    // the model a long one gives), when the budget can pay for it.
    if opts.bayes && base.params.kind == ModelKind::Explicit && base.method == Method::Als {
        let bayes = TrainConfig { method: Method::Bayes, iterations: base.bayes.sweeps(), ..*base };
        let cost = work.cost(&bayes, bayes.iterations);
        if spent + cost <= budget {
            let (_, values, _) = v.run(&bayes, None)?;
            spent += cost;
            let trial = Trial { config: bayes, candidate: next, rung: 0, score: values.value };
            on_event(Event::Scored { trial: &trial, cost })?;
            board.record(&v, trial, values.units);
            next += 1;
        } else {
            on_event(Event::Unaffordable { config: &bayes, cost, spent, budget })?;
        }
    }

    // Brackets of candidates, each as many as the budget's remainder plans
    // for, until the budget is spent.
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let shape = Shape::of(&v.train);
    while board.trials.len() < MAX_TRIALS {
        let (mut candidates, mut misses) = (Vec::new(), 0);
        while candidates.len() < MAX_CANDIDATES && misses < MAX_MISSES {
            candidates.push(draw(base, shape, &mut rng));
            if planned(&candidates, base, &work) > budget - spent {
                candidates.pop();
                misses += 1;
            } else {
                misses = 0;
            }
        }
        if candidates.is_empty() {
            break;
        }
        on_event(Event::Bracket { candidates: candidates.len(), planned: planned(&candidates, base, &work) })?;
        let before = spent;
        let mut bracket = Bracket { v: &v, work: &work, base, budget, spent: &mut spent, board: &mut board };
        bracket.run(next, &candidates, on_event)?;
        next += candidates.len();
        if spent == before {
            break;
        }
    }
    let leader = board.leader.0;
    let margin = (leader != 0).then(|| board.margin(&v));
    let best = if margin.is_some_and(|m| m > CLEAR_MARGIN) { leader } else { 0 };
    Ok(AutoResult {
        trials: board.trials,
        best,
        leader,
        margin,
        sample,
        split: split_sizes,
        cost: spent,
        budget,
        seconds: started.elapsed().as_secs_f64(),
        training_seconds,
    })
}

/// One round of successive halving, charging its work to `spent`.
struct Bracket<'a> {
    v: &'a Validation,
    work: &'a Work,
    base: &'a TrainConfig,
    budget: f64,
    spent: &'a mut f64,
    board: &'a mut Board,
}

impl Bracket<'_> {
    /// Races `candidates`, numbered from `first`, through the rungs.
    fn run(
        &mut self,
        first: usize,
        candidates: &[TrainConfig],
        on_event: &mut dyn FnMut(Event<'_>) -> Result<()>,
    ) -> Result<()> {
        let v = self.v;
        let mut alive: Vec<Alive> = Vec::new();
        let mut entrants: Vec<(usize, TrainConfig, Option<Alive>)> =
            candidates.iter().enumerate().map(|(i, c)| (first + i, *c, None)).collect();
        for (rung, &iterations) in rungs(self.base.iterations).iter().enumerate() {
            let keep = entrants.len().div_ceil(ETA);
            for (candidate, config, previous) in entrants.drain(..) {
                let done = previous.as_ref().map_or(0, |p| p.config.iterations);
                let step = self.work.cost(&config, iterations - done);
                if *self.spent + step > self.budget + 1e-9 {
                    continue;
                }
                let start = previous.map(|p| Start { iteration: done, users: p.model.users, items: p.model.items });
                let config = TrainConfig { iterations, ..config };
                let (model, values, _) = v.run(&config, start)?;
                let score = values.value;
                *self.spent += step;
                let trial = Trial { config, candidate, rung, score };
                on_event(Event::Scored { trial: &trial, cost: step })?;
                self.board.record(v, trial, values.units);
                alive.push(Alive { candidate, config, score, model });
                // Only the candidates that may go on keep their factors.
                alive.sort_by(|a, b| v.metric.best_first(a.score, b.score).then(a.candidate.cmp(&b.candidate)));
                alive.truncate(keep);
            }
            // Those that improved on their last rung go on.
            for a in alive.drain(..) {
                let last = self.board.trials.iter().rev().find(|t| t.candidate == a.candidate && t.rung + 1 == rung);
                if last.is_none_or(|t| v.better(a.score, t.score)) {
                    entrants.push((a.candidate, a.config, Some(a)));
                }
            }
            if entrants.is_empty() {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s2b(s: &str) -> std::result::Result<Budget, String> {
        s.parse()
    }

    #[test]
    fn the_margin_counts_standard_errors_of_the_paired_difference() {
        // Differences 1, 3, 1, 3: mean 2, standard deviation 1.155, standard error 0.577.
        let (a, b) = ([2.0, 4.0, 2.0, 4.0], [1.0, 1.0, 1.0, 1.0]);
        assert!((paired_margin(&a, &b, false) - 2.0 / (4.0f64 / 3.0 / 4.0).sqrt()).abs() < 1e-12);
        assert!((paired_margin(&a, &b, true) + paired_margin(&a, &b, false)).abs() < 1e-12, "lower is better flips it");
        assert_eq!(paired_margin(&[2.0, 2.0], &[1.0, 1.0], false), f64::INFINITY, "a gain without noise");
        assert_eq!(paired_margin(&[1.0, 2.0], &[1.0], false), 0.0, "units that cannot be paired");
    }

    #[test]
    fn budgets_parse_with_their_unit() {
        assert_eq!(s2b("10x"), Ok(Budget::Trainings(10.0)));
        assert_eq!(s2b("2.5x"), Ok(Budget::Trainings(2.5)));
        assert_eq!(s2b("90s"), Ok(Budget::Seconds(90.0)));
        assert_eq!(s2b("15m"), Ok(Budget::Seconds(900.0)));
        assert_eq!(s2b("1h"), Ok(Budget::Seconds(3600.0)));
        assert!(s2b("10").unwrap_err().contains("say how"));
        assert!(s2b("-1x").unwrap_err().contains("positive"));
        assert!(s2b("fast").is_err());
    }

    #[test]
    fn rungs_grow_and_the_plan_counts_the_halving() {
        assert_eq!(rungs(15), [3, 8, 20]);
        assert_eq!(rungs(2), [1, 2, 3]);
        let base = TrainConfig::for_kind(ModelKind::Implicit);
        // Without interactions or scoring, a CG iteration's work grows as factors².
        let mut work = Work { rows: 1000.0, nnz: 0.0, scores: 0.0, unit: 1.0 };
        work.unit = base.iterations as f64 * work.per_iteration(&base);
        // Three 64-factor candidates: 3 × 3 iterations, 1 × 5 more, 1 × 12 more.
        let plan = planned(&[base; 3], &base, &work);
        assert!((plan - (9.0 + 5.0 + 12.0) / 15.0).abs() < 1e-12, "{plan}");
        let wide = TrainConfig { params: gramrec_core::ModelParams { factors: 128, ..base.params }, ..base };
        assert!((work.cost(&wide, 15) - 4.0).abs() < 1e-12);
        // Each validation is charged too: on a wide catalogue it outweighs a rung's iterations.
        let wide_catalogue = Work { scores: 5_000.0 * 20_000.0, ..work };
        let scoring = SCORE_WEIGHT * 5_000.0 * 20_000.0 * 64.0 / work.unit;
        assert!((wide_catalogue.cost(&base, 3) - (0.2 + scoring)).abs() < 1e-9);
        assert!(scoring > 0.2);
        assert!(planned(&[base; 3], &base, &wide_catalogue) > plan + 5.0 * scoring - 1e-9, "five validations");
    }

    #[test]
    fn draws_stay_in_the_space_and_follow_the_seed() {
        let base = TrainConfig::for_kind(ModelKind::Implicit);
        let shape = Shape { users: 1000.0, items: 2000.0, per_user: 50.0, per_item: 25.0 };
        let draws = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..50).map(|_| draw(&base, shape, &mut rng)).collect::<Vec<_>>()
        };
        let a = draws(3);
        assert_eq!(a, draws(3));
        assert_ne!(a, draws(4));
        for c in &a {
            c.validate().unwrap();
            assert!([32, 64, 128].contains(&c.params.factors));
            assert!((0.05..=1.0).contains(&c.params.unobserved));
            // A typical user's and item's shifts (geometric mean), over α₀,
            // stay in the drawn range whatever the scaling.
            let p = &c.params;
            let typical = (p.shift(50, 2000) * p.shift(25, 1000)).sqrt() / p.unobserved;
            let (lo, hi) = IMPLICIT_SHIFTS;
            assert!((lo * 0.99..=hi * 1.01).contains(&(typical as f64)), "{typical}: {c:?}");
        }
        assert!(a.iter().any(|c| c.params.reg_scaling == RegScaling::Frequency));
        assert!(a.iter().any(|c| c.params.confidence == Confidence::Log));
    }
}
