//! `train`'s check of an implicit model's default λ, α and factors on a
//! validation split (issue 35's "defaults that hold").
//!
//! The default λ (30, unscaled) suits rows of a hundred interactions; on a
//! sparse catalogue (a dozen items a user, a few users an item) it shrinks
//! every factor but the popularity direction to nothing, and the model is
//! the popularity ranking (BENCHMARKS.md: NDCG@10 0.022 where λ 3 gives
//! 0.24); heavy-tailed play counts want a larger λ and a larger α together.
//! No rule read from the data's shape placed them well on every shape
//! measured, so `train` measures: it holds out a share of each user's
//! interactions, trains the defaults to the full iterations, and walks a
//! line along each setting left open — λ first, then α through the λ
//! chosen, then a step to twice the factors — each step trained for [`WARM_ITERATIONS`] from its neighbour's
//! factors (ALS restarted from a nearby solution settles in a few
//! iterations, so every setting is judged near where it converges, not
//! after a few iterations from random factors, where a large λ lags and a
//! small one leads). A direction stops at its first step that does not
//! improve on the one before; a line's best replaces its start only when it
//! beats it by more than [`MARGIN`] standard errors of the paired per-user
//! difference, and what the lines chose is trained from scratch, as
//! `train` will train it, and must beat the defaults there too
//! ([`Confirmation`]). `train --auto` walks the same lines before it draws
//! candidates.

use std::rc::Rc;
use std::time::Instant;

use gramrec_als::backend::settle;
use gramrec_als::driver::{initial_factors, Start};
use gramrec_als::{TrainConfig, Trained};
use gramrec_core::{Method, ModelKind, ModelParams, RegScaling, Result};
use gramrec_data::split::SplitMode;
use gramrec_data::Interactions;
use serde::Serialize;

use crate::auto::{holdouts, paired_margin, round3, sample_users, AutoOptions, Budget, Validation, Work};
use crate::evaluate::{Metric, MetricValues};

/// The steps of the line along λ, as factors of its start: up, then down.
pub const REG_STEPS: [&[f32]; 2] = [&[3.0, 10.0], &[1.0 / 3.0, 0.1]];

/// The steps of the line along α, as factors of its start: up, then down
/// (a confidence of 1 + α·r needs α > 0, and the data this check exists
/// for wants more, not less).
pub const ALPHA_STEPS: [&[f32]; 2] = [&[3.0, 10.0], &[1.0 / 3.0]];

/// The steps of the line along the factors: twice as many (a step to
/// fewer would start from half of a model's columns, a poor start; the
/// random draws of `train --auto` try fewer).
pub const FACTOR_STEPS: [&[f32]; 2] = [&[2.0], &[]];

/// Iterations each step of a line trains, from its neighbour's factors: a
/// third of the default iterations, so a step costs a third of a training.
/// With it the lines chose the same λ and α on every split of
/// BENCHMARKS.md "The defaults checked along λ, α and the factors" — on the first
/// split, the best 64-factor test cell of play counts (λ 300 α 3) and one
/// within 0.001 of it on the citation-like lists (λ 3 α 10).
pub const WARM_ITERATIONS: usize = 5;

/// Standard errors of the paired per-user difference by which a line's
/// best must beat its start on the validation split to replace it: the
/// best of up to four, each compared at 1.645 (a one-sided 5% test), would
/// switch on noise about one time in five; at 3 the four together switch
/// less than one time in a hundred, and the gains this check exists for
/// measure tens of standard errors.
pub const MARGIN: f64 = 3.0;

/// The fewest held-out users the check decides on; with fewer it keeps the
/// defaults and says so.
pub const MIN_USERS: usize = 100;

/// A setting the check walks a line along.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Setting {
    /// λ (`--reg`).
    Reg,
    /// α, the confidence's scale (`--alpha`).
    Alpha,
    /// The latent factors (`--factors`).
    Factors,
}

impl Setting {
    /// Its name in the CLI's flags and `defaultsRead` (`reg`, `alpha`, `factors`).
    pub fn name(self) -> &'static str {
        match self {
            Setting::Reg => "reg",
            Setting::Alpha => "alpha",
            Setting::Factors => "factors",
        }
    }

    /// Its symbol in the log (`λ`, `α`, `factors`).
    pub fn symbol(self) -> &'static str {
        match self {
            Setting::Reg => "λ",
            Setting::Alpha => "α",
            Setting::Factors => "factors",
        }
    }

    /// Its steps as text, for a log: `×3, ×10, then ×⅓, ×0.1`.
    pub fn describe_steps(self) -> String {
        let times = |f: &f32| match *f {
            f if (f - 1.0 / 3.0).abs() < 1e-6 => "×⅓".to_string(),
            f => format!("×{f}"),
        };
        let [up, down] = self.steps().map(|d| d.iter().map(times).collect::<Vec<_>>().join(", "));
        if down.is_empty() {
            up
        } else {
            format!("{up}, then {down}")
        }
    }

    fn steps(self) -> [&'static [f32]; 2] {
        match self {
            Setting::Reg => REG_STEPS,
            Setting::Alpha => ALPHA_STEPS,
            Setting::Factors => FACTOR_STEPS,
        }
    }

    fn get(self, p: &ModelParams) -> f32 {
        match self {
            Setting::Reg => p.reg,
            Setting::Alpha => p.alpha,
            Setting::Factors => p.factors as f32,
        }
    }

    fn set(self, p: ModelParams, value: f32) -> ModelParams {
        match self {
            Setting::Reg => ModelParams { reg: value, ..p },
            Setting::Alpha => ModelParams { alpha: value, ..p },
            Setting::Factors => ModelParams { factors: value as usize, ..p },
        }
    }
}

/// The settings a caller left open, which the check may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Open {
    /// λ was not given.
    pub reg: bool,
    /// α was not given.
    pub alpha: bool,
    /// The factors were not given.
    pub factors: bool,
}

/// One step of a line, scored.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// The setting's value.
    pub at: f32,
    /// Its figure on the validation split (NDCG@10).
    pub value: f64,
    /// Standard errors by which it beats the line's start there.
    pub margin: f64,
}

/// One line walked: from the value the previous lines left, each step
/// in the order trained.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    /// The setting walked.
    pub setting: Setting,
    /// The settings at the line's start: the defaults, or where the line
    /// before ended.
    pub start: Point,
    /// Its value at the line's start.
    pub from: f32,
    /// The start's figure on the validation split.
    pub value: f64,
    /// The value the line chose (`from` when no step beat it by [`MARGIN`]).
    pub chosen: f32,
    /// Every step scored, in the order trained.
    pub steps: Vec<Step>,
}

impl Line {
    /// The step that led the line by more than [`MARGIN`], if one did.
    pub fn leader(&self) -> Option<&Step> {
        self.steps.iter().find(|t| t.at == self.chosen && self.chosen != self.from)
    }

    /// What the line scored, for its reason: `(NDCG@10 on 943 held-out users:
    /// λ 30 0.1988 after 15 iterations; then 5 iterations each from the step
    /// before (a direction's first from the start), λ 90 0.1630, 10 0.1742)`.
    fn scored(&self, check: &DefaultCheck) -> String {
        let s = self.setting.symbol();
        let steps = self.steps.iter().map(|t| format!("{} {:.4}", t.at, t.value)).collect::<Vec<_>>().join(", ");
        let sample = check.sample.map_or(String::new(), |n| format!(" (a sample of {n} users)"));
        let start = match check.lines.first() == Some(self) {
            true => format!("after {} iterations", check.iterations),
            false => format!("where the line before ended, at {}", self.start),
        };
        let then = match self.steps.is_empty() {
            true => "no step within what the settings and the device allow".to_string(),
            false => format!(
                "then {} iterations each from the step before (a direction's first from the start), {s} {steps}",
                check.warm_iterations
            ),
        };
        format!(
            "({} on {} held-out users{sample}: {s} {} {:.4} {start}; {then})",
            Metric::Ndcg(10),
            check.users,
            self.from,
            self.value,
        )
    }
}

/// The settings the lines chose, trained from scratch for the full
/// iterations on the validation split — as `train` will train them — and
/// scored against the defaults: the lines' models are warm restarts, and a
/// setting can look better a few iterations after a restart than where it
/// converges (a large λ ranks well until it has shrunk every direction but
/// popularity).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Confirmation {
    /// The settings the lines chose.
    pub settings: Point,
    /// The figure on the validation split (NDCG@10).
    pub value: f64,
    /// Standard errors by which it beats the defaults there; the lines'
    /// choice stands only above [`MARGIN`].
    pub margin: f64,
}

/// What the check found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultCheck {
    /// The defaults' λ, α and factors.
    pub default: Point,
    /// The defaults' figure on the validation split (NDCG@10).
    pub value: f64,
    /// The λ, α and factors to train with.
    pub chosen: Point,
    /// The lines' choice trained from scratch, when it differs from the defaults.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<Confirmation>,
    /// The lines walked, in order; empty when the check could not run.
    pub lines: Vec<Line>,
    /// The iterations the defaults were trained for.
    pub iterations: usize,
    /// The iterations each step trained from its neighbour.
    pub warm_iterations: usize,
    /// The held-out users scored.
    pub users: usize,
    /// The users the check ran on, when the data held more interactions
    /// than [`AutoOptions::sample_interactions`] and it ran on a sample.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<usize>,
    /// The check's wall time, in seconds.
    pub seconds: f64,
    /// The defaults' training on the validation split, in seconds: the
    /// unit `seconds` is best read in.
    pub training_seconds: f64,
    /// Why the defaults were kept without a check, when they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// λ, α and the factors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Point {
    /// λ.
    pub reg: f32,
    /// α.
    pub alpha: f32,
    /// The latent factors.
    pub factors: usize,
}

impl Point {
    fn of(p: &ModelParams) -> Self {
        Point { reg: p.reg, alpha: p.alpha, factors: p.factors }
    }
}

impl std::fmt::Display for Point {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "λ {}, α {}, {} factors", self.reg, self.alpha, self.factors)
    }
}

impl DefaultCheck {
    /// What the check cost, for the log, when it ran: `the check took
    /// 6.3 s, 6.0x the defaults' training on the validation split`.
    pub fn cost(&self) -> Option<String> {
        self.skipped.is_none().then(|| {
            format!(
                "the check took {:.1} s, {:.1}x the defaults' training on the validation split",
                self.seconds,
                self.seconds / self.training_seconds.max(1e-9)
            )
        })
    }

    /// The choice for `setting` with its reason, when the check looked at
    /// it: (value, reason).
    pub fn choice(&self, setting: Setting) -> Option<(f32, String)> {
        let value = match setting {
            Setting::Reg => self.chosen.reg,
            Setting::Alpha => self.chosen.alpha,
            Setting::Factors => self.chosen.factors as f32,
        };
        if let Some(why) = &self.skipped {
            return Some((value, format!("the default, not checked: {why}")));
        }
        let line = self.lines.iter().find(|l| l.setting == setting)?;
        let (s, from, scored) = (setting.symbol(), line.from, line.scored(self));
        let led =
            |t: &Step| format!("{s} {} led the line from {from} by {:.1} standard errors {scored}", t.at, t.margin);
        let reason = match (line.leader(), self.confirmation) {
            (None, _) => {
                format!("the default held on validation, no {s} beating {from} by {MARGIN} standard errors {scored}")
            }
            (Some(t), Some(c)) if c.margin > MARGIN => format!(
                "{}; {} trained from scratch scored {:.4} against {:.4} for {}, {:.1} standard errors",
                led(t),
                self.chosen,
                c.value,
                self.value,
                self.default,
                c.margin
            ),
            (Some(t), Some(c)) => format!(
                "{}, but {} trained from scratch scored {:.4} against {:.4} for {}, {:.1} standard errors, not \
                 more than {MARGIN}: {} stays",
                led(t),
                c.settings,
                c.value,
                self.value,
                self.default,
                c.margin,
                self.default
            ),
            (Some(t), None) => led(t),
        };
        Some((value, reason))
    }
}

/// What the check is about to do, for a log line before it starts (it
/// takes a few trainings' time): `checking λ 30, α 1 and 64 factors on a
/// validation split (10% of each user's interactions)`.
pub fn announce(config: &TrainConfig, settings: &[Setting], opts: &AutoOptions) -> String {
    let p = &config.params;
    let each: Vec<String> = settings
        .iter()
        .map(|s| match s {
            Setting::Reg => format!("λ {}", p.reg),
            Setting::Alpha => format!("α {}", p.alpha),
            Setting::Factors => format!("{} factors", p.factors),
        })
        .collect();
    let list = match each.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    let share = opts.validation_fraction * 100.0;
    format!("checking {list} on a validation split ({share:.0}% of each user's interactions held out)")
}

/// The settings of `config` the check walks when the caller left `open`
/// open: only implicit ALS has α; λ only unscaled and above 0 (explicit
/// models scale λ by each row's count, which holds across shapes, and
/// Bayesian PMF has neither).
pub fn settings(config: &TrainConfig, open: Open) -> Vec<Setting> {
    let p = &config.params;
    if config.method != Method::Als || p.kind != ModelKind::Implicit {
        return Vec::new();
    }
    let reg = open.reg && p.reg > 0.0 && p.reg_scaling == RegScaling::None;
    let alpha = open.alpha && p.alpha > 0.0;
    let walked = [(Setting::Reg, reg), (Setting::Alpha, alpha), (Setting::Factors, open.factors)];
    walked.into_iter().filter(|(_, on)| *on).map(|(s, _)| s).collect()
}

/// A model trained on the validation split, and its figures there.
pub(crate) struct Run {
    /// Its settings.
    pub(crate) config: TrainConfig,
    /// The model.
    pub(crate) model: Trained,
    /// Its figures on the split.
    pub(crate) values: MetricValues,
}

/// Checks `config`'s `settings` on a validation split of `x` carved with
/// `config`'s seed (the same data and seed choose the same); the returned
/// [`DefaultCheck::chosen`] is what to train with. `between` is called
/// after every iteration of every training: an error it returns stops the
/// check (an interruption).
pub fn check_defaults(
    x: &Interactions,
    config: &TrainConfig,
    settings: &[Setting],
    opts: &AutoOptions,
    between: &mut dyn FnMut() -> Result<()>,
) -> Result<DefaultCheck> {
    let started = Instant::now();
    // `auto` looks for a GPU once, not at each training (the fit says what it finds).
    let config = &TrainConfig { device: settle(config.device, config.gpu, &mut |_| {}), ..*config };
    let default = Point::of(&config.params);
    let mut check = DefaultCheck {
        default,
        value: 0.0,
        chosen: default,
        confirmation: None,
        lines: Vec::new(),
        iterations: config.iterations,
        warm_iterations: WARM_ITERATIONS.min(config.iterations),
        users: 0,
        sample: None,
        seconds: 0.0,
        training_seconds: 0.0,
        skipped: None,
    };
    // Beyond `opts.sample_interactions`, a seeded sample of the users, as `--auto` searches on.
    let sampled = sample_users(x, opts.sample_interactions, opts.seed);
    let x = sampled.as_ref().map_or(x, |(kept, _)| kept);
    check.sample = sampled.as_ref().map(|(_, s)| s.users);
    let folds = holdouts(x, opts, SplitMode::PerUser, 1)?;
    // Validation::new refuses only a split with nothing held out or left.
    let mut v = match folds.first().map(|f| Validation::new(x, f, opts)) {
        Some(Ok(v)) if v.units() >= MIN_USERS => v,
        _ => {
            check.skipped = Some(format!("fewer than {MIN_USERS} users with interactions to hold out for validation"));
            return Ok(check);
        }
    };
    let work = Work::new(&v, config);
    let raced = work.race_users(config, v.units());
    if raced < v.units() {
        v.keep_users(raced, opts.seed);
    }
    check.users = v.units();
    let (model, values, seconds) = v.run_checked(config, None, between)?;
    (check.value, check.training_seconds) = (values.value, seconds);
    let defaults = Rc::new(Run { config: *config, model, values });
    let mut here = Rc::clone(&defaults);
    let mut train = |config: &TrainConfig, start: Start| {
        v.run_checked(config, Some(start), between).map(|(model, values, _)| Some((model, values)))
    };
    for &setting in settings {
        let (line, best) = walk(&v, &here, setting, check.warm_iterations, &mut train)?;
        here = best.unwrap_or(here);
        check.lines.push(line);
    }
    // The lines' choice, trained as `train` will train it, must beat the defaults too.
    if !Rc::ptr_eq(&here, &defaults) {
        let config = TrainConfig { params: here.config.params, ..*config };
        let (_, values, _) = v.run_checked(&config, None, between)?;
        let lower = v.metric().lower_is_better();
        let margin = paired_margin(&values.units, &defaults.values.units, &values.users, lower);
        let chosen = Point::of(&config.params);
        check.confirmation =
            Some(Confirmation { settings: chosen, value: values.value, margin: margin.clamp(-f64::MAX, f64::MAX) });
        if margin > MARGIN {
            check.chosen = chosen;
        }
    }
    check.seconds = started.elapsed().as_secs_f64();
    Ok(check)
}

/// Trains one step of a line (`config` from `start`) and scores it on the
/// validation split, or says `None` to end the walk there (a search whose
/// budget cannot pay for it).
pub(crate) type TrainStep<'a> = dyn FnMut(&TrainConfig, Start) -> Result<Option<(Trained, MetricValues)>> + 'a;

/// Walks the line along `setting` from `start` on `v`: each direction's
/// steps in turn, each trained by `train` for `warm` iterations from the
/// step before (the first from `start`), until one does not improve on the
/// step before. Returns the line and its best step when that beats `start`
/// by more than [`MARGIN`].
pub(crate) fn walk(
    v: &Validation,
    start: &Rc<Run>,
    setting: Setting,
    warm: usize,
    train: &mut TrainStep<'_>,
) -> Result<(Line, Option<Rc<Run>>)> {
    let from = setting.get(&start.config.params);
    let lower = v.metric().lower_is_better();
    let at = Point::of(&start.config.params);
    let mut line = Line { setting, start: at, from, value: start.values.value, chosen: from, steps: Vec::new() };
    let mut best: Option<(Step, Rc<Run>)> = None;
    'walk: for direction in setting.steps() {
        let mut before = Rc::clone(start);
        for factor in direction {
            let at = round3(from * factor);
            let iterations = before.config.iterations;
            let config = TrainConfig { params: setting.set(before.config.params, at), ..before.config };
            // Beyond what the settings or the device allow (twice 600 factors), the direction ends.
            if config.validate().is_err() || config.params.factors > config.device.max_factors() {
                break;
            }
            let resume = restart(&before, v, &config, iterations - warm);
            let Some((model, values)) = train(&config, resume)? else {
                break 'walk;
            };
            let margin = paired_margin(&values.units, &start.values.units, &values.users, lower);
            // A gain without noise is an infinite margin; JSON has no infinity.
            let step = Step { at, value: values.value, margin: margin.clamp(-f64::MAX, f64::MAX) };
            line.steps.push(step);
            let improved = v.better(values.value, before.values.value);
            let trial = Rc::new(Run { config, model, values });
            if step.margin > MARGIN && best.as_ref().is_none_or(|(b, _)| v.better(step.value, b.value)) {
                best = Some((step, Rc::clone(&trial)));
            }
            if !improved {
                break;
            }
            before = trial;
        }
    }
    if let Some((step, _)) = &best {
        line.chosen = step.at;
    }
    Ok((line, best.map(|(_, t)| t)))
}

/// Where a step with `config` starts: its neighbour `before`'s factors
/// (columns beyond theirs, when `config` has more factors, left 0) plus
/// the seed's initial factors, after `iteration` iterations. A model whose
/// λ shrank every direction but one (popularity) to nothing stays in that
/// direction under ALS whatever λ it goes on with — each user's solve is a
/// combination of the item factors — so a step adds the small random
/// factors of a cold start, from which the directions the new setting
/// supports grow back; they also fill a larger model's new columns.
fn restart(before: &Run, v: &Validation, config: &TrainConfig, iteration: usize) -> Start {
    let (from, to) = (&before.config.params, &config.params);
    let items = &v.dataset().items;
    let resize = |rows: &[f32], seed: Vec<f32>| {
        let (d0, d1, shared) = (from.dim(), to.dim(), from.factors.min(to.factors));
        let mut out = seed;
        for (old, new) in rows.chunks_exact(d0).zip(out.chunks_exact_mut(d1)) {
            for (n, o) in new[..shared].iter_mut().zip(&old[..shared]) {
                *n += o;
            }
            // An explicit model's bias column, last on both sides.
            if to.uses_biases() && from.uses_biases() {
                new[d1 - 1] += old[d0 - 1];
            }
        }
        out
    };
    let users = resize(&before.model.users, vec![0.0; before.model.users.len() / from.dim() * to.dim()]);
    let items = resize(&before.model.items, initial_factors(items, to, config.seed));
    Start { iteration, users, items }
}

/// The options the check runs with for `config`: its seed, NDCG@10, the
/// data options given.
pub fn options(config: &TrainConfig, data: gramrec_data::DatasetOptions) -> AutoOptions {
    AutoOptions::new(Budget::Trainings(1.0), config.seed, Metric::Ndcg(10), data)
}
