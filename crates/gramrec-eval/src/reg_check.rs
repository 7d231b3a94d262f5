//! `train`'s check of an implicit model's default λ on a validation split
//! (issue 35's "defaults that hold").
//!
//! The default λ (30, unscaled) suits rows of a hundred interactions; on a
//! sparse catalogue (a dozen items a user, a few users an item) it shrinks
//! every factor but the popularity direction to nothing, and the model is
//! the popularity ranking (BENCHMARKS.md: NDCG@10 0.022 where λ 3 gives
//! 0.24). No rule read from the data's shape placed λ well on every shape
//! measured, so `train` measures: it holds out a share of each user's
//! interactions, trains the default λ and λ times each of [`LADDER`] for the
//! first rung's iterations of `train --auto` (every setting at the same
//! iterations: like against like), scores them on the held-out users, and
//! keeps the default unless another λ beats it there by more than
//! [`MARGIN`] standard errors of the paired per-user difference — a strict
//! margin, as the best of four is flattered by the split's noise.

use std::time::Instant;

use gramrec_als::backend::settle;
use gramrec_als::driver::Start;
use gramrec_als::TrainConfig;
use gramrec_core::{Method, ModelKind, ModelParams, RegScaling, Result};
use gramrec_data::split::SplitMode;
use gramrec_data::Interactions;
use serde::Serialize;

use crate::auto::{holdouts, paired_margin, round3, rungs, sample_users, AutoOptions, Budget, Validation, Work};
use crate::evaluate::{Metric, MetricValues};

/// The factors the check multiplies the default λ by, smallest first.
pub const LADDER: [f32; 4] = [0.1, 1.0 / 3.0, 3.0, 10.0];

/// Standard errors of the paired per-user difference by which another λ
/// must beat the default on the validation split to replace it: the best
/// of four, each compared at 1.645 (a one-sided 5% test), would switch on
/// noise about one time in five; at 3 the four together switch less than
/// one time in a hundred, and the gains this check exists for measure tens
/// of standard errors (41 on the sparse lists of BENCHMARKS.md).
pub const MARGIN: f64 = 3.0;

/// The fewest held-out users the check decides on; with fewer it keeps the
/// default and says so.
pub const MIN_USERS: usize = 100;

/// One λ scored by the check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegTrial {
    /// λ.
    pub reg: f32,
    /// Its figure on the validation split (NDCG@10).
    pub value: f64,
    /// Standard errors by which it beats the default there (0 for the default).
    pub margin: f64,
}

/// The leader of the first iterations against the default, both trained to
/// the full count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FullRun {
    /// The leader's λ, figure and margin over the default.
    pub leader: RegTrial,
    /// The default's figure.
    pub default: f64,
    /// The iterations both were trained to.
    pub iterations: usize,
}

/// What the check found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegCheck {
    /// The default λ.
    pub default: f32,
    /// The λ to train with.
    pub chosen: f32,
    /// Every λ scored, smallest first; empty when the check could not run.
    pub tried: Vec<RegTrial>,
    /// The iterations each was trained for.
    pub iterations: usize,
    /// The leader after those iterations against the default, both trained
    /// on to the full count, when a λ led.
    pub full: Option<FullRun>,
    /// The held-out users scored.
    pub users: usize,
    /// The users the check ran on, when the data held more interactions
    /// than [`AutoOptions::sample_interactions`] and it ran on a sample.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<usize>,
    /// The check's wall time, in seconds.
    pub seconds: f64,
    /// Why the default was kept without a check, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

impl RegCheck {
    /// The check as one reason, for the log and `defaultsRead`: what was
    /// scored and why the chosen λ.
    pub fn reason(&self) -> String {
        if let Some(why) = &self.skipped {
            return format!("the default, not checked: {why}");
        }
        let metric = Metric::Ndcg(10);
        let line = self.tried.iter().map(|t| format!("{} {:.4}", t.reg, t.value)).collect::<Vec<_>>().join(", ");
        let sample = self.sample.map_or(String::new(), |n| format!(" (a sample of {n} users)"));
        let scored =
            format!("{metric} on {} held-out users{sample} after {} iterations, λ {line}", self.users, self.iterations);
        let full = self.full.map_or(String::new(), |f| {
            format!(
                "; after {} iterations λ {} {:.4}, the default {:.4}, {:.1} standard errors",
                f.iterations, f.leader.reg, f.leader.value, f.default, f.leader.margin
            )
        });
        match self.chosen != self.default {
            true => format!(
                "λ {} beat the default {} on validation by more than {MARGIN} standard errors ({scored}{full})",
                self.chosen, self.default
            ),
            false => {
                format!("the default held on validation, no λ beating it by {MARGIN} standard errors ({scored}{full})")
            }
        }
    }
}

/// Whether `config` is one the check applies to: implicit ALS with an
/// unscaled λ above 0 (explicit models scale λ by each row's count, which
/// holds across shapes, and Bayesian PMF has no λ).
pub fn applies(config: &TrainConfig) -> bool {
    let p = &config.params;
    config.method == Method::Als && p.kind == ModelKind::Implicit && p.reg > 0.0 && p.reg_scaling == RegScaling::None
}

/// Checks `config`'s λ on a validation split of `x` carved with `config`'s
/// seed (the same data and seed choose the same λ); the returned
/// [`RegCheck::chosen`] is the λ to train with. `between` is called after
/// every iteration of every training: an error it returns stops the check
/// (an interruption).
pub fn check_reg(
    x: &Interactions,
    config: &TrainConfig,
    opts: &AutoOptions,
    between: &mut dyn FnMut() -> Result<()>,
) -> Result<RegCheck> {
    let started = Instant::now();
    // `auto` looks for a GPU once, not at each training (the fit says what it finds).
    let config = &TrainConfig { device: settle(config.device, config.gpu, &mut |_| {}), ..*config };
    let iterations = rungs(config.iterations)[0].min(config.iterations);
    let mut check = RegCheck {
        default: config.params.reg,
        chosen: config.params.reg,
        tried: Vec::new(),
        iterations,
        full: None,
        users: 0,
        sample: None,
        seconds: 0.0,
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
    let mut regs: Vec<f32> = LADDER.iter().map(|m| round3(config.params.reg * m)).collect();
    regs.push(config.params.reg);
    regs.sort_by(f32::total_cmp);
    let with = |reg: f32, iterations: usize| TrainConfig {
        params: ModelParams { reg, ..config.params },
        iterations,
        ..*config
    };
    let mut scored = Vec::with_capacity(regs.len());
    for reg in regs {
        let (model, values, _) = v.run_checked(&with(reg, iterations), None, between)?;
        scored.push((reg, model, values));
    }
    let at = |reg: f32| scored.iter().position(|(r, ..)| *r == reg).expect("the default is scored");
    let base = at(config.params.reg);
    let trial = |(reg, _, s): &(f32, _, MetricValues), base: &MetricValues| RegTrial {
        reg: *reg,
        value: s.value,
        margin: paired_margin(&s.units, &base.units, &s.users, false),
    };
    check.tried = scored.iter().map(|s| trial(s, &scored[base].2)).collect();
    let leader = check.tried.iter().filter(|t| t.margin > MARGIN).max_by(|a, b| a.value.total_cmp(&b.value)).copied();
    // A λ that leads after a few iterations may not after all of them (a
    // small λ overfits as it goes): the leader and the default go on, warm,
    // to the full count, and the leader must win there too.
    if let Some(leader) = leader.filter(|_| iterations < config.iterations) {
        let mut full = Vec::with_capacity(2);
        for i in [at(leader.reg), base] {
            let (reg, model, _) = &scored[i];
            let start = Start { iteration: iterations, users: model.users.clone(), items: model.items.clone() };
            let (model, values, _) = v.run_checked(&with(*reg, config.iterations), Some(start), between)?;
            full.push((*reg, model, values));
        }
        let result = trial(&full[0], &full[1].2);
        check.full = Some(FullRun { leader: result, default: full[1].2.value, iterations: config.iterations });
        if result.margin > MARGIN {
            check.chosen = leader.reg;
        }
    } else if let Some(leader) = leader {
        check.chosen = leader.reg;
    }
    check.seconds = started.elapsed().as_secs_f64();
    Ok(check)
}

/// The options the check runs with for `config`: its seed, NDCG@10, the
/// data options given.
pub fn options(config: &TrainConfig, data: gramrec_data::DatasetOptions) -> AutoOptions {
    AutoOptions::new(Budget::Trainings(1.0), config.seed, Metric::Ndcg(10), data)
}
