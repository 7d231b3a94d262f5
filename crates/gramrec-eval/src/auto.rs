//! `train --auto`: a search over a model's settings on a validation split
//! carved from the training data, by successive halving within a budget,
//! and a confirmation of its leader on fresh splits.
//!
//! The defaults are trained and scored first, as they are; for explicit
//! data, Bayesian PMF (`method = bayes`) next, at full length, when the
//! budget can pay for it (else the search says what it would cost); then a
//! line along λ from the defaults, one along α through the λ it chose
//! (implicit models) and a step to twice the factors, walked as `train`'s
//! check of the defaults walks them (each step a few iterations on from the
//! one before: docs/ALGORITHM.md "The defaults, checked"); then candidates
//! drawn from the search space (half, the same or twice the factors; λ, its
//! scaling and ν; α, the confidence curve and the unobserved weight α₀ of
//! implicit models) are trained for a few
//! iterations, the best third continue (warm, from where they stopped) to the
//! next rung's iterations, and so on; a candidate that did not improve since
//! its last rung stops there. Brackets of fresh candidates follow one another
//! until the budget, less what a confirmation will cost, is spent.
//!
//! Every (setting, iterations) pair scored is a model the caller may
//! retrain; the best on validation is the leader. The best of many on one
//! split is flattered by that split's noise (the winner's curse), so the
//! leader is not judged there: it and the defaults are retrained from
//! scratch, each at its own iterations, on up to three fresh validation
//! splits, each disjoint from the first and from each other, and the leader
//! wins only if it beats the defaults there by more than
//! [`CONFIRM_MARGIN`] standard errors of the paired per-user (per-rating)
//! difference. The rule's error rates, measured by simulation, are in
//! docs/ALGORITHM.md.
//!
//! Costs are counted in units of one training with the base settings, from
//! the multiply-adds each trial does — its iterations' solves and products,
//! and the scoring of every validation user against every item, which on a
//! wide catalogue outweighs a few iterations — counted from the data's
//! shape, not timed, so a search is the same for a seed on any machine. A
//! budget in seconds is converted once, from the defaults' measured
//! training time; the report gives the wall time against that training's.

use std::time::Instant;

use std::collections::BTreeMap;
use std::rc::Rc;

use gramrec_als::driver::Start;
use gramrec_als::{TrainConfig, TrainEvent, Trained};
use gramrec_core::{
    setting, Confidence, Error, Method, ModelKind, ModelParams, RegScaling, Result, Solver, MAX_FACTORS,
};
use gramrec_data::split::{assign, subset, SplitMode, SplitOptions};
use gramrec_data::{Dataset, DatasetOptions, Interactions};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::default_check::{self, Setting, WARM_ITERATIONS};
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
    /// The winner's index in `trials`: the leader when its confirmation
    /// beats the first clearly, else the first.
    pub best: usize,
    /// The best on validation that beats the first there and whose
    /// confirmation the budget left pays for (else the best that beats it,
    /// unconfirmed); 0 when none beats the first.
    pub leader: usize,
    /// The best on validation, when the budget left could not confirm it
    /// and the leader is the best one it could.
    pub passed_over: Option<usize>,
    /// How the leader fared against the first on fresh splits (none when
    /// the first leads).
    pub confirmation: Option<Confirmation>,
    /// Set when the search ran on a sample of the users.
    pub sample: Option<Sample>,
    /// Set when candidates were raced on a sample of the validation users:
    /// how many, and of how many.
    pub race: Option<(usize, usize)>,
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

/// The leader against the first on fresh validation splits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Confirmation {
    /// Fresh splits both were retrained and scored on; 0 when the budget
    /// left could not pay for one or the data allows none (the first is kept).
    pub folds: usize,
    /// Fresh splits the data allows (up to three): 0 when every user has
    /// too few interactions to hold out more than the search's split.
    pub available: usize,
    /// The leader's metric over those splits' held-out units together.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leader_score: Option<f64>,
    /// The first's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_score: Option<f64>,
    /// By how many standard errors of the paired per-user (per-rating for
    /// RMSE and MAE) difference the leader beats the first there: it wins
    /// when this exceeds `needed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margin: Option<f64>,
    /// The margin the leader needs: [`CONFIRM_MARGIN`].
    pub needed: f64,
    /// What one more split costs, in trainings with the base settings.
    pub fold_cost: f64,
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
    /// Validation users the candidates were raced on, when a sample of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raced_users: Option<usize>,
    /// Every setting scored, in the order scored; the first is the flags' own.
    pub trials: Vec<AutoTrial>,
    /// Index of the winner in `trials`.
    pub chosen: usize,
    /// Index of the best on validation whose confirmation the budget paid
    /// for (else the best on validation, unconfirmed; 0 when the flags'
    /// settings lead): the winner when its confirmation beats them by a
    /// clear margin.
    pub leader: usize,
    /// The best on validation, when the budget left could not confirm it
    /// and `leader` is the best one it could.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_unconfirmed: Option<usize>,
    /// The leader against the flags' settings on fresh splits; absent when
    /// they lead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<Confirmation>,
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
            raced_users: self.race.map(|r| r.0),
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
            best_unconfirmed: self.passed_over,
            confirmation: self
                .confirmation
                .map(|c| Confirmation { margin: c.margin.map(|m| m.clamp(-f64::MAX, f64::MAX)), ..c }),
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
        /// When candidates are raced on a sample of the validation users:
        /// how many, and of how many (the fresh splits score them all).
        race: Option<(usize, usize)>,
    },
    /// A line along `setting` starts: its steps are scored as candidates,
    /// each trained `warm` iterations from the step before.
    Walk {
        /// The setting walked.
        setting: Setting,
        /// Iterations a step trains.
        warm: usize,
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
    /// The leader and the first, retrained on fresh split `fold` (from 1)
    /// of `folds`, and scored there; `cost` is what both took.
    Confirmed {
        /// The leader, as scored on the search's split.
        leader: &'a Trial,
        /// This split's number, from 1.
        fold: usize,
        /// Splits planned.
        folds: usize,
        /// The leader's metric on this split.
        leader_score: f64,
        /// The first's.
        given_score: f64,
        /// Their cost in units.
        cost: f64,
    },
    /// A setting the search would try at full fidelity (Bayesian PMF, for
    /// explicit data) and cannot pay for.
    Unaffordable {
        /// The setting.
        config: &'a TrainConfig,
        /// What it would cost, with its confirmation on one fresh split, in units.
        cost: f64,
        /// Units spent so far.
        spent: f64,
        /// The budget in units.
        budget: f64,
    },
}

/// Standard errors by which the leader must beat the settings as given on
/// the fresh splits to replace them: one-sided, a leader no better than them
/// wins one time in twenty (docs/ALGORITHM.md measures the rule).
pub const CONFIRM_MARGIN: f64 = 1.645;
/// The most fresh splits a leader is confirmed on: as many as the budget's
/// remainder pays for, up to this.
const MAX_CONFIRM_FOLDS: usize = 3;
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

/// What one multiply-add of validation scoring costs in training's, for
/// the metrics at k (precision, recall, MAP, NDCG): they score 64 users at
/// a time with the register-blocked kernel, which runs about twice as many
/// multiply-adds a second as training's memory-bound products. Measured on
/// the CPU backend (2 cores, 64 factors, 2026-12-07): 0.47 on a 5,500 ×
/// 17,000 sparse set (0.073 s for 2.1 G multiply-adds of scoring, 0.447 s
/// for a training's 6.1 G), 0.47 on 20,000 × 5,000 play counts, 0.42 on
/// 2,000 × 30,000; rounded up.
const SCORE_WEIGHT: f64 = 0.5;
/// The same for AUC and MPR, which score every item for one user at a time
/// and sort them, and for RMSE and MAE (whose scoring is small): measured
/// on the same sparse set before the blocked kernel (1.1 s for 5.4 G
/// multiply-adds against 0.58 s for 6.1 G), rounded.
const SCORE_WEIGHT_ONE_BY_ONE: f64 = 2.0;

/// What each trial costs besides its iterations and its scoring, in
/// multiply-adds per row and interaction of the split and per factor:
/// setting up the training, building the model it is scored as, the
/// scoring's bookkeeping. Measured on the CPU backend (2 cores, 64 factors,
/// 2026-12-07) as the wall time the multiply-adds did not account for:
/// about 16 ms a trial on MovieLens 100K (83k rows and interactions) and
/// 38 ms on a 2,000 × 30,000 set (292k), 1,300 and 1,460 multiply-adds'
/// time per entry, 20 and 23 per entry and factor; rounded.
const SETUP_OPS: f64 = 22.0;

/// The most a candidate's validation in the race may cost, in trainings
/// with the base settings: beyond it, the race scores a sample of the
/// validation users (a ranking metric scores every user against every item,
/// which on a wide catalogue costs more than a short training).
const RACE_SCORING: f64 = 0.25;
/// The fewest validation users a race is scored on (where there are more).
const RACE_USERS: usize = 2000;

/// The work of training and scoring on the search's split, in
/// multiply-adds counted from its shape.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Work {
    /// Users and items of the training split: the rows solved each iteration.
    rows: f64,
    /// Its interactions.
    nnz: f64,
    /// Scores one validation computes per factor: validation users × items
    /// for a ranking metric, the held-out ratings for RMSE and MAE.
    scores: f64,
    /// What a multiply-add of that scoring costs in training's.
    weight: f64,
    /// One training with the base settings: the unit of cost.
    unit: f64,
}

impl Work {
    /// The work of the search on `v`, in trainings with `base`.
    pub(crate) fn new(v: &Validation, base: &TrainConfig) -> Self {
        let scores = v.units() as f64 * if v.metric.ranks() { v.train.items.len() as f64 } else { 1.0 };
        let weight = match v.metric {
            Metric::Precision(_) | Metric::Recall(_) | Metric::Map(_) | Metric::Ndcg(_) => SCORE_WEIGHT,
            _ => SCORE_WEIGHT_ONE_BY_ONE,
        };
        let mut work = Work {
            rows: (v.train.users.len() + v.train.items.len()) as f64,
            nnz: v.train.nnz() as f64,
            scores,
            weight,
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

    /// The validation users to race candidates on, of the `users` a ranking
    /// metric scores: all of them while one validation with the base
    /// settings costs at most [`RACE_SCORING`] of a training, else as many
    /// as that pays for, and never fewer than [`RACE_USERS`].
    pub(crate) fn race_users(&self, base: &TrainConfig, users: usize) -> usize {
        let per_user = self.weight * self.scores / users.max(1) as f64 * base.params.dim() as f64;
        let affordable = (RACE_SCORING * self.unit / per_user.max(1.0)) as usize;
        users.min(affordable.max(RACE_USERS))
    }

    /// `iterations` more iterations of `c` and one validation of it, in
    /// trainings with the base settings, with what every trial costs besides
    /// ([`SETUP_OPS`]).
    fn cost(&self, c: &TrainConfig, iterations: usize) -> f64 {
        let scoring = self.weight * self.scores * c.params.dim() as f64;
        let setup = SETUP_OPS * (self.rows + self.nnz) * c.params.dim() as f64;
        (iterations as f64 * self.per_iteration(c) + scoring + setup) / self.unit
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
pub(crate) fn round3(v: f32) -> f32 {
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

/// The settings `--auto` walks a line along before drawing candidates
/// (gramrec-eval's `default_check` walk): λ when the method has one, α for
/// implicit models, then the factors.
fn walkable(base: &TrainConfig) -> Vec<Setting> {
    let (p, als) = (&base.params, base.method == Method::Als);
    let walked = [
        (Setting::Reg, als && p.reg > 0.0),
        (Setting::Alpha, als && p.kind == ModelKind::Implicit && p.alpha > 0.0),
        (Setting::Factors, als),
    ];
    walked.into_iter().filter(|(_, on)| *on).map(|(s, _)| s).collect()
}

/// The most work successive halving can do for these candidates (rung by
/// rung, a third going on, each continuing from the last rung's
/// iterations): every candidate at the first rung, and at each later one the
/// dearest that may go on, so that whichever survive can finish.
fn planned(candidates: &[TrainConfig], base: &TrainConfig, work: &Work) -> f64 {
    let (mut n, mut done, mut total) = (candidates.len(), 0, 0.0);
    for r in rungs(base.iterations) {
        let mut costs: Vec<f64> = candidates.iter().map(|c| work.cost(c, r - done)).collect();
        costs.sort_by(|a, b| b.total_cmp(a));
        total += costs[..n].iter().sum::<f64>();
        done = r;
        n = n.div_ceil(ETA);
    }
    total
}

/// A seeded sample of the users holding about `limit` interactions, when
/// `x` has more.
pub(crate) fn sample_users(x: &Interactions, limit: usize, seed: u64) -> Option<(Interactions, Sample)> {
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

/// A split and the bookkeeping a setting is scored against on it.
pub(crate) struct Validation {
    train: Dataset,
    known: Known,
    test: Interactions,
    metric: Metric,
}

impl Validation {
    /// `x` split where `held` says: trains on the rest, scores on those.
    pub(crate) fn new(x: &Interactions, held: &[bool], opts: &AutoOptions) -> Result<Self> {
        let train = Dataset::build(subset(x, |k| !held[k]), &opts.data)?;
        let test = subset(x, |k| held[k]);
        if test.is_empty() || train.nnz() == 0 {
            return Err(Error::Data(format!(
                "{} needs a validation split, and {} interactions are too few to carve one",
                setting("auto"),
                x.len()
            )));
        }
        Ok(Validation { known: Known::from_dataset(&train), train, test, metric: opts.metric })
    }

    /// The units a validation scores, about: the users with held-out
    /// interactions for a ranking metric, the held-out ratings for RMSE and MAE.
    pub(crate) fn units(&self) -> usize {
        if self.metric.ranks() {
            self.users().len()
        } else {
            self.test.len()
        }
    }

    /// The users with held-out interactions.
    fn users(&self) -> Vec<u32> {
        let mut users = self.test.user.clone();
        users.sort_unstable();
        users.dedup();
        users
    }

    /// Keeps the held-out interactions of `n` of the users, drawn with `seed`.
    pub(crate) fn keep_users(&mut self, n: usize, seed: u64) {
        let mut users = self.users();
        users.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0x7ace_5eed));
        let mut kept = vec![false; self.test.users.len()];
        for &u in &users[..n.min(users.len())] {
            kept[u as usize] = true;
        }
        self.test = subset(&self.test, |k| kept[self.test.user[k] as usize]);
    }

    /// Trains `config` (continuing from `start`) and scores it; also the
    /// training's wall time in seconds.
    pub(crate) fn run(&self, config: &TrainConfig, start: Option<Start>) -> Result<(Trained, MetricValues, f64)> {
        self.run_checked(config, start, &mut || Ok(()))
    }

    /// [`run`](Self::run), calling `between` after every iteration: an
    /// error it returns stops the training (an interruption).
    pub(crate) fn run_checked(
        &self,
        config: &TrainConfig,
        start: Option<Start>,
        between: &mut dyn FnMut() -> Result<()>,
    ) -> Result<(Trained, MetricValues, f64)> {
        let timer = Instant::now();
        let trained = gramrec_als::train_from(&self.train, config, start, &mut |event| match event {
            TrainEvent::Iteration(..) => between(),
            TrainEvent::Device(_) => Ok(()),
        })?;
        let seconds = timer.elapsed().as_secs_f64();
        let s = score(&self.train, &trained, &self.known, &self.test, self.metric)?;
        Ok((trained, s, seconds))
    }

    /// The metric the split scores.
    pub(crate) fn metric(&self) -> Metric {
        self.metric
    }

    /// The training matrices the split trains on.
    pub(crate) fn dataset(&self) -> &Dataset {
        &self.train
    }

    /// Whether `a` beats `b`.
    pub(crate) fn better(&self, a: f64, b: f64) -> bool {
        self.metric.best_first(a, b) == std::cmp::Ordering::Less
    }
}

/// The search's split (`fold` 0) and the fresh ones a leader is confirmed
/// on: fold `n` holds out the validation share of `x` from what folds
/// 0..n did not hold out, with the seed plus `n`, so that every fold's
/// held-out units are disjoint from the others' and fold 0 is the split a
/// search without confirmation would use.
pub(crate) fn holdouts(x: &Interactions, opts: &AutoOptions, mode: SplitMode, folds: usize) -> Result<Vec<Vec<bool>>> {
    let mut out: Vec<Vec<bool>> = Vec::with_capacity(folds);
    let mut taken = vec![false; x.len()];
    for n in 0..folds {
        let left = 1.0 - n as f64 * opts.validation_fraction;
        if left <= opts.validation_fraction {
            break;
        }
        let rest: Vec<usize> = (0..x.len()).filter(|&k| !taken[k]).collect();
        let split = SplitOptions {
            mode,
            test_fraction: opts.validation_fraction / left,
            seed: opts.seed.wrapping_add(n as u64),
            min_user_interactions: 2,
        };
        let held = assign(&subset(x, |k| !taken[k]), &split)?;
        let mut fold = vec![false; x.len()];
        for (&k, _) in rest.iter().zip(&held).filter(|(_, &h)| h) {
            fold[k] = true;
            taken[k] = true;
        }
        if n > 0 && !fold.contains(&true) {
            break;
        }
        out.push(fold);
    }
    Ok(out)
}

/// The leader: the best on validation after the first (index 0) that beats
/// the first there and whose confirmation `affords` pays for; and the best
/// on validation, when it is another one, which the budget could not confirm.
fn leader(trials: &[Trial], v: &Validation, affords: impl Fn(&Trial) -> bool) -> (Option<usize>, Option<usize>) {
    let mut order: Vec<usize> = (1..trials.len()).filter(|&i| v.better(trials[i].score, trials[0].score)).collect();
    order.sort_by(|&a, &b| v.metric.best_first(trials[a].score, trials[b].score).then(a.cmp(&b)));
    let leader = order.iter().copied().find(|&i| affords(&trials[i]));
    (leader, order.first().copied().filter(|&b| Some(b) != leader))
}

/// By how many standard errors of their pairwise differences the values `a`
/// beat `b` (positive: better; lower values are better with `lower`); 0 when
/// they cannot be paired. `users` names each pair's user: a user's pairs
/// (one per split they were held out on, or one per rating) are not
/// independent, so the standard error is clustered by user — the variance
/// of the mean difference is C/(C − 1)·Σ_c S_c² / n², S_c the sum of user
/// c's deviations from the mean, C the users, n the pairs — which, when
/// every user has one pair, is the plain paired standard error.
pub(crate) fn paired_margin(a: &[f64], b: &[f64], users: &[u32], lower: bool) -> f64 {
    if a.len() != b.len() || a.len() != users.len() || a.len() < 2 {
        return 0.0;
    }
    let sign = if lower { -1.0 } else { 1.0 };
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| sign * (x - y)).collect();
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    // In user order, so that the same values give the same margin to the last bit.
    let mut sums: BTreeMap<u32, f64> = BTreeMap::new();
    for (&u, x) in users.iter().zip(&d) {
        *sums.entry(u).or_default() += x - mean;
    }
    let clusters = sums.len() as f64;
    if clusters < 2.0 {
        return 0.0;
    }
    let variance = clusters / (clusters - 1.0) * sums.values().map(|s| s * s).sum::<f64>() / (n * n);
    let se = variance.sqrt();
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
    let folds = holdouts(x, opts, mode, 1 + MAX_CONFIRM_FOLDS)?;
    let mut v = Validation::new(x, &folds[0], opts)?;
    let split_sizes = (v.train.nnz(), v.test.len());
    // A fresh split is scored on all its users; the race on as many as it pays for.
    let work = Work::new(&v, base);
    let (users, raced) = (v.units(), work.race_users(base, v.units()));
    let race = if raced < users && v.metric.ranks() {
        v.keep_users(raced, opts.seed);
        Some((v.units(), users))
    } else {
        None
    };
    let confirmation_work = work;
    let work = Work::new(&v, base);

    // The defaults, as they are.
    let (model, first, training_seconds) = v.run(base, None)?;
    let budget = match opts.budget {
        Budget::Trainings(t) => t,
        Budget::Seconds(s) => s / training_seconds.max(1e-3),
    };
    let mut trials = vec![Trial { config: *base, candidate: 0, rung: 0, score: first.value }];
    let mut spent = work.cost(base, base.iterations);
    let last_rung = rungs(base.iterations)[RUNGS.len() - 1];
    // What confirming `c`, trained to `iterations`, on one fresh split costs.
    let confirming = |c: &TrainConfig, iterations: usize| {
        confirmation_work.cost(base, base.iterations) + confirmation_work.cost(c, iterations)
    };

    on_event(Event::Started { budget, race })?;
    on_event(Event::Scored { trial: &trials[0], cost: spent })?;
    let mut next = 1;

    // Explicit data: Bayesian PMF with the base's factors, at full
    // fidelity (it has no λ to search and no rungs: a short chain is not
    // the model a long one gives), when the budget can pay for it and for
    // its confirmation.
    if opts.bayes && base.params.kind == ModelKind::Explicit && base.method == Method::Als {
        let bayes = TrainConfig { method: Method::Bayes, iterations: base.bayes.sweeps(), ..*base };
        let cost = work.cost(&bayes, bayes.iterations);
        let with_confirmation = cost + confirming(&bayes, bayes.iterations);
        if spent + with_confirmation <= budget {
            let (_, values, _) = v.run(&bayes, None)?;
            spent += cost;
            let trial = Trial { config: bayes, candidate: next, rung: 0, score: values.value };
            on_event(Event::Scored { trial: &trial, cost })?;
            trials.push(trial);
            next += 1;
        } else {
            on_event(Event::Unaffordable { config: &bayes, cost: with_confirmation, spent, budget })?;
        }
    }

    // Whichever confirmation comes last is set aside: the leader's so far,
    // or one of a candidate as dear as the base settings trained to the last
    // rung (none when there is no fresh split to confirm on).
    let reserve = |trials: &[Trial]| {
        let kept =
            leader(trials, &v, |_| true).0.map_or(0.0, |l| confirming(&trials[l].config, trials[l].config.iterations));
        if folds.len() > 1 {
            kept.max(confirming(base, last_rung))
        } else {
            0.0
        }
    };

    // Lines along λ, then α through the λ chosen, then the factors, walked
    // warm from the defaults as far as the budget pays.
    let warm = WARM_ITERATIONS.min(base.iterations);
    let mut here = Rc::new(default_check::Run { config: *base, model, values: first });
    for setting in walkable(base) {
        on_event(Event::Walk { setting, warm })?;
        let mut train = |config: &TrainConfig, start: Start| {
            let cost = work.cost(config, warm);
            if spent + cost + reserve(&trials) > budget + 1e-9 {
                return Ok(None);
            }
            let (model, values, _) = v.run(config, Some(start))?;
            spent += cost;
            let trial = Trial { config: *config, candidate: next, rung: 0, score: values.value };
            next += 1;
            on_event(Event::Scored { trial: &trial, cost })?;
            trials.push(trial);
            Ok(Some((model, values)))
        };
        let (_, best) = default_check::walk(&v, &here, setting, warm, &mut train)?;
        here = best.unwrap_or(here);
    }
    drop(here);

    // Brackets of candidates drawn from the whole space, each as many as
    // the budget's remainder plans for after setting aside the reserve,
    // until the budget is spent.
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let shape = Shape::of(&v.train);
    while trials.len() < MAX_TRIALS {
        let reserve = reserve(&trials);
        let (mut candidates, mut misses) = (Vec::new(), 0);
        while candidates.len() < MAX_CANDIDATES && misses < MAX_MISSES {
            candidates.push(draw(base, shape, &mut rng));
            if planned(&candidates, base, &work) + reserve > budget - spent {
                candidates.pop();
                misses += 1;
            } else {
                misses = 0;
            }
        }
        if candidates.is_empty() {
            break;
        }
        let planned = planned(&candidates, base, &work);
        on_event(Event::Bracket { candidates: candidates.len(), planned })?;
        let before = spent;
        let mut bracket =
            Bracket { v: &v, work: &work, base, ceiling: budget - reserve, spent: &mut spent, trials: &mut trials };
        bracket.run(next, &candidates, on_event)?;
        next += candidates.len();
        if spent == before {
            break;
        }
    }

    // The leader against the defaults on fresh splits: the best on
    // validation whose confirmation the remainder pays for.
    let (affordable, best_on_validation) =
        leader(&trials, &v, |t| confirming(&t.config, t.config.iterations) <= budget - spent + 1e-9);
    let leader = affordable.or(best_on_validation);
    let passed_over = best_on_validation.filter(|_| affordable.is_some());
    let confirmation = match leader {
        Some(l) => {
            let fold_cost = confirming(&trials[l].config, trials[l].config.iterations);
            let affordable = ((budget - spent) / fold_cost + 1e-9).floor().max(0.0) as usize;
            let fresh = &folds[1..folds.len().min(1 + affordable)];
            let c = confirm(x, opts, fresh, base, &trials[l], fold_cost, on_event)?;
            spent += fresh.len() as f64 * fold_cost;
            Some(Confirmation { available: folds.len() - 1, ..c })
        }
        None => None,
    };
    let best = match (leader, &confirmation) {
        (Some(l), Some(c)) if c.margin.is_some_and(|m| m > c.needed) => l,
        _ => 0,
    };
    Ok(AutoResult {
        trials,
        best,
        leader: leader.unwrap_or(0),
        passed_over,
        confirmation,
        sample,
        race,
        split: split_sizes,
        cost: spent,
        budget,
        seconds: started.elapsed().as_secs_f64(),
        training_seconds,
    })
}

/// Retrains `leader` and the `base` settings on each of the fresh `folds`
/// (each costing `fold_cost`) and measures by how much the leader beats
/// them there, unit by unit. A split neither can be scored on (its
/// held-out users or items unknown to the models) is left out.
fn confirm(
    x: &Interactions,
    opts: &AutoOptions,
    folds: &[Vec<bool>],
    base: &TrainConfig,
    leader: &Trial,
    fold_cost: f64,
    on_event: &mut dyn FnMut(Event<'_>) -> Result<()>,
) -> Result<Confirmation> {
    let n = folds.len();
    let (mut ours, mut theirs, mut users, mut used) = (Vec::new(), Vec::new(), Vec::new(), 0);
    for (i, held) in folds.iter().enumerate() {
        let scored =
            Validation::new(x, held, opts).and_then(|v| Ok((v.run(base, None)?.1, v.run(&leader.config, None)?.1)));
        let (given, led) = match scored {
            Ok(both) => both,
            Err(Error::Data(_)) => continue,
            Err(e) => return Err(e),
        };
        on_event(Event::Confirmed {
            leader,
            fold: i + 1,
            folds: n,
            leader_score: led.value,
            given_score: given.value,
            cost: fold_cost,
        })?;
        // The same model users in the same order on one split, whatever the setting.
        debug_assert_eq!(led.users, given.users);
        ours.extend(led.units);
        theirs.extend(given.units);
        users.extend(given.users);
        used += 1;
    }
    let pooled = |units: &[f64]| {
        let mean = units.iter().sum::<f64>() / units.len() as f64;
        if opts.metric == Metric::Rmse {
            mean.sqrt()
        } else {
            mean
        }
    };
    let scored = used > 0;
    Ok(Confirmation {
        folds: used,
        available: folds.len(),
        leader_score: scored.then(|| pooled(&ours)),
        given_score: scored.then(|| pooled(&theirs)),
        margin: scored.then(|| paired_margin(&ours, &theirs, &users, opts.metric.lower_is_better())),
        needed: CONFIRM_MARGIN,
        fold_cost,
    })
}

/// One round of successive halving, charging its work to `spent` and
/// keeping it under `ceiling`.
struct Bracket<'a> {
    v: &'a Validation,
    work: &'a Work,
    base: &'a TrainConfig,
    ceiling: f64,
    spent: &'a mut f64,
    trials: &'a mut Vec<Trial>,
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
                if *self.spent + step > self.ceiling + 1e-9 {
                    continue;
                }
                let start = previous.map(|p| Start { iteration: done, users: p.model.users, items: p.model.items });
                let config = TrainConfig { iterations, ..config };
                let (model, values, _) = v.run(&config, start)?;
                let score = values.value;
                *self.spent += step;
                let trial = Trial { config, candidate, rung, score };
                on_event(Event::Scored { trial: &trial, cost: step })?;
                self.trials.push(trial);
                alive.push(Alive { candidate, config, score, model });
                // Only the candidates that may go on keep their factors.
                alive.sort_by(|a, b| v.metric.best_first(a.score, b.score).then(a.candidate.cmp(&b.candidate)));
                alive.truncate(keep);
            }
            // Those that improved on their last rung go on.
            for a in alive.drain(..) {
                let last = self.trials.iter().rev().find(|t| t.candidate == a.candidate && t.rung + 1 == rung);
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
        let own = [0, 1, 2, 3];
        assert!((paired_margin(&a, &b, &own, false) - 2.0 / (4.0f64 / 3.0 / 4.0).sqrt()).abs() < 1e-12);
        assert!(
            (paired_margin(&a, &b, &own, true) + paired_margin(&a, &b, &own, false)).abs() < 1e-12,
            "lower is better flips it"
        );
        assert_eq!(paired_margin(&[2.0, 2.0], &[1.0, 1.0], &[0, 1], false), f64::INFINITY, "a gain without noise");
        assert_eq!(paired_margin(&[1.0, 2.0], &[1.0], &[0, 1], false), 0.0, "units that cannot be paired");
        assert_eq!(paired_margin(&a, &b, &[7; 4], false), 0.0, "one user says nothing of the spread");
    }

    #[test]
    fn a_user_seen_on_several_splits_counts_once_in_the_margin() {
        // 200 users, each with one difference repeated on 3 splits: as
        // independent units the margin would be √3 times too large (3 × 200
        // "units"); clustered by user it is the 200 users' margin.
        let per_user: Vec<f64> = (0..200).map(|u| ((u * 37 % 101) as f64 - 40.0) / 50.0).collect();
        let a: Vec<f64> = (0..3).flat_map(|_| per_user.iter().copied()).collect();
        let zeros = vec![0.0; a.len()];
        let users: Vec<u32> = (0..3).flat_map(|_| 0..200u32).collect();
        let alone: Vec<u32> = (0..a.len() as u32).collect();
        let once = paired_margin(&per_user, &zeros[..200], &(0..200).collect::<Vec<u32>>(), false);
        let clustered = paired_margin(&a, &zeros, &users, false);
        let naive = paired_margin(&a, &zeros, &alone, false);
        assert!(once > 1.0, "a positive mean difference: {once}");
        assert!((clustered / once - 1.0).abs() < 0.01, "clustered {clustered} against one split's {once}");
        assert!((naive / once - 3f64.sqrt()).abs() < 0.05, "as independent units {naive}: √3 too large");
    }

    /// One decision between the settings as given and `gains.len()`
    /// candidates whose true gains over them are `gains`, in standard
    /// deviations of a unit's difference: each candidate's per-unit
    /// differences on the search's split (`units` of them, sharing a part
    /// of their noise, as candidates scored on one split do), the leader the
    /// best there; it replaces the first when `rule` says so. Returns the
    /// chosen candidate.
    fn decide(rule: Rule, gains: &[f64], units: usize, rng: &mut ChaCha8Rng) -> Option<usize> {
        use rand_distr::{Distribution, StandardNormal};
        let mut normal = || -> f64 { StandardNormal.sample(rng) };
        let shared: Vec<f64> = (0..units).map(|_| normal()).collect();
        let split: Vec<Vec<f64>> =
            gains.iter().map(|g| shared.iter().map(|s| g + (0.5f64.sqrt()) * (s + normal())).collect()).collect();
        let mean = |d: &[f64]| d.iter().sum::<f64>() / d.len() as f64;
        let leader = (0..gains.len()).max_by(|&a, &b| mean(&split[a]).total_cmp(&mean(&split[b])))?;
        let zeros = vec![0.0; units];
        let margin = match rule {
            Rule::SameSplit => paired_margin(&split[leader], &zeros, &(0..units as u32).collect::<Vec<_>>(), false),
            Rule::Confirmed(folds) => {
                let fresh: Vec<f64> = (0..units * folds).map(|_| gains[leader] + normal()).collect();
                paired_margin(&fresh, &vec![0.0; fresh.len()], &(0..fresh.len() as u32).collect::<Vec<_>>(), false)
            }
        };
        let needed = if rule == Rule::SameSplit { 2.0 } else { CONFIRM_MARGIN };
        (margin > needed).then_some(leader)
    }

    /// How the leader is judged: by 2 standard errors on the split that
    /// chose it (the rule before confirmation), or by [`CONFIRM_MARGIN`] on
    /// this many fresh splits.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Rule {
        SameSplit,
        Confirmed(usize),
    }

    /// The share of `runs` decisions that switch to some candidate, and to
    /// the first (the one with a real gain, where there is one).
    fn rates(rule: Rule, gains: &[f64], units: usize, runs: usize) -> (f64, f64) {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let (mut any, mut first) = (0, 0);
        for _ in 0..runs {
            match decide(rule, gains, units, &mut rng) {
                Some(0) => (any, first) = (any + 1, first + 1),
                Some(_) => any += 1,
                None => {}
            }
        }
        (any as f64 / runs as f64, first as f64 / runs as f64)
    }

    /// The margin rule measured (docs/ALGORITHM.md "train --auto" gives the
    /// table this prints with `--nocapture`): 20 candidates, 400 units (users) a split.
    #[test]
    fn the_confirmation_rule_measured_by_simulation() {
        const UNITS: usize = 400;
        const RUNS: usize = 1000;
        let se = 1.0 / (UNITS as f64).sqrt();
        let null = [0.0; 20];
        let worse = [-se; 20];
        let real = |gain: f64| {
            let mut g = [0.0; 20];
            g[0] = gain * se;
            g
        };
        let rules = [Rule::SameSplit, Rule::Confirmed(1), Rule::Confirmed(3)];
        println!("| true gains (standard errors of one split) | 2 SE on the search's split | 1.645 SE on 1 fresh split | on 3 |");
        println!("| --- | --- | --- | --- |");
        let row = |name: &str, gains: &[f64], pick: fn((f64, f64)) -> f64| -> Vec<f64> {
            let r: Vec<f64> = rules.iter().map(|&rule| pick(rates(rule, gains, UNITS, RUNS))).collect();
            println!("| {name} | {:.1}% | {:.1}% | {:.1}% |", 100.0 * r[0], 100.0 * r[1], 100.0 * r[2]);
            r
        };
        let switched = |r: (f64, f64)| r.0;
        let found = |r: (f64, f64)| r.1;
        let null_rates = row("none better: switches", &null, switched);
        let worse_rates = row("all 1 SE worse: switches", &worse, switched);
        let mut power = Vec::new();
        for gain in [2.0, 3.0, 4.0] {
            power.push(row(&format!("one {gain} SE better: finds it"), &real(gain), found));
        }
        // The old rule switches often when none is better (the leader of 20
        // is flattered by its own split); the confirmed one as its margin says.
        assert!(null_rates[0] > 0.15, "{null_rates:?}");
        assert!(null_rates[1] < 0.08 && null_rates[2] < 0.08, "{null_rates:?}");
        assert!(worse_rates[1] < 0.01 && worse_rates[2] < 0.01, "{worse_rates:?}");
        // A real gain of 3 standard errors is found more often confirmed on 3 splits than by the old rule.
        assert!(power[1][2] > power[1][0] && power[1][2] > 0.6, "{power:?}");
    }

    #[test]
    fn fresh_splits_are_disjoint_and_the_first_is_the_search_split() {
        use gramrec_data::synth::{SynthSpec, Synthetic};
        for (kind, mode) in [(ModelKind::Implicit, SplitMode::PerUser), (ModelKind::Explicit, SplitMode::Random)] {
            let x = Synthetic::generate(SynthSpec::new(200, 80, 4000, kind, 3)).interactions(|_| true);
            let opts = AutoOptions::new(Budget::DEFAULT, 5, Metric::default_for(kind), DatasetOptions::default());
            let folds = holdouts(&x, &opts, mode, 4).unwrap();
            assert_eq!(folds.len(), 4, "{kind}");
            let split = SplitOptions { mode, test_fraction: 0.1, seed: 5, min_user_interactions: 2 };
            assert_eq!(folds[0], assign(&x, &split).unwrap(), "{kind}: the search's split is the one it always was");
            for k in 0..x.len() {
                assert!(folds.iter().filter(|f| f[k]).count() <= 1, "{kind}: interaction {k} held out twice");
            }
            for f in &folds {
                let share = f.iter().filter(|&&h| h).count() as f64 / x.len() as f64;
                assert!((0.08..0.12).contains(&share), "{kind}: each split holds out about a tenth: {share}");
            }
        }
        // Two interactions a user: the search's split takes one of each, and no fresh split is left.
        let x = Synthetic::generate(SynthSpec::new(200, 80, 4000, ModelKind::Implicit, 3)).interactions(|_| true);
        let mut seen = vec![0; x.users.len()];
        let firsts: Vec<bool> = x
            .user
            .iter()
            .map(|&u| {
                seen[u as usize] += 1;
                seen[u as usize] <= 2
            })
            .collect();
        let pairs = subset(&x, |k| firsts[k]);
        let opts = AutoOptions::new(Budget::DEFAULT, 5, Metric::Ndcg(10), DatasetOptions::default());
        assert_eq!(holdouts(&pairs, &opts, SplitMode::PerUser, 4).unwrap().len(), 1);
    }

    #[test]
    fn the_race_scores_a_sample_of_the_validation_users_when_scoring_them_all_is_dear() {
        use gramrec_data::synth::{SynthSpec, Synthetic};
        let kind = ModelKind::Implicit;
        let x = Synthetic::generate(SynthSpec::new(300, 100, 6000, kind, 3)).interactions(|_| true);
        let opts = AutoOptions::new(Budget::DEFAULT, 5, Metric::default_for(kind), DatasetOptions::default());
        let held = holdouts(&x, &opts, SplitMode::PerUser, 1).unwrap();
        let mut v = Validation::new(&x, &held[0], &opts).unwrap();
        let base = TrainConfig::for_kind(kind);
        let work = Work::new(&v, &base);
        let users = v.units();
        assert!(users > 250, "{users}");
        assert_eq!(work.race_users(&base, users), users, "fewer users than the floor: all of them");
        // 20,000 validation users on a catalogue whose scoring costs 0.9 trainings a validation.
        let dear = Work { scores: 20_000.0 * 5_000.0, unit: SCORE_WEIGHT * 20_000.0 * 5_000.0 * 64.0 / 0.9, ..work };
        let raced = dear.race_users(&base, 20_000);
        assert!((5_500..5_600).contains(&raced), "a quarter of a training's scoring: {raced}");
        let dearer = Work { unit: dear.unit / 10.0, ..dear };
        assert_eq!(dearer.race_users(&base, 20_000), RACE_USERS, "never fewer than the floor");
        // The sample keeps every held-out interaction of the users drawn, and follows the seed.
        let before = v.test.clone();
        v.keep_users(40, 1);
        let kept = v.users();
        assert_eq!(kept.len(), 40);
        let of_kept = (0..before.len()).filter(|&k| kept.binary_search(&before.user[k]).is_ok()).count();
        assert_eq!(v.test.len(), of_kept);
        let mut again = Validation::new(&x, &held[0], &opts).unwrap();
        again.keep_users(40, 1);
        assert_eq!(again.users(), kept);
        again = Validation::new(&x, &held[0], &opts).unwrap();
        again.keep_users(40, 2);
        assert_ne!(again.users(), kept);
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
        let mut work = Work { rows: 1000.0, nnz: 0.0, scores: 0.0, weight: SCORE_WEIGHT, unit: 1.0 };
        work.unit = base.iterations as f64 * work.per_iteration(&base);
        // Each trial's set-up, in trainings.
        let setup = SETUP_OPS * 1000.0 * 64.0 / work.unit;
        // Three 64-factor candidates: 3 × 3 iterations, 1 × 5 more, 1 × 12 more; five trials.
        let plan = planned(&[base; 3], &base, &work);
        assert!((plan - (9.0 + 5.0 + 12.0) / 15.0 - 5.0 * setup).abs() < 1e-12, "{plan}");
        let wide = TrainConfig { params: gramrec_core::ModelParams { factors: 128, ..base.params }, ..base };
        assert!((work.cost(&wide, 15) - 4.0 - 2.0 * setup).abs() < 1e-12);
        // Each validation is charged too: on a wide catalogue it outweighs a rung's iterations.
        let wide_catalogue = Work { scores: 5_000.0 * 20_000.0, ..work };
        let scoring = SCORE_WEIGHT * 5_000.0 * 20_000.0 * 64.0 / work.unit;
        assert!((wide_catalogue.cost(&base, 3) - (0.2 + scoring + setup)).abs() < 1e-9);
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
