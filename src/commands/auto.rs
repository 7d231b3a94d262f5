//! `train --auto`: gramrec-eval's settings search with a progress bar, a log
//! line per setting scored, and the validation table at the end.

use anyhow::Result;
use gramrec_als::TrainConfig;
use gramrec_core::ModelKind;
use gramrec_data::Interactions;
use gramrec_eval::auto::{search, AutoOptions, AutoReport, AutoResult, Budget, Event};
use gramrec_eval::Metric;

use crate::cli::TrainArgs;
use crate::progress::Progress;

/// Settings the table shows at most (the flags' own are always shown).
const TABLE_ROWS: usize = 10;
/// Progress-bar steps per training with the base settings.
const STEPS_PER_TRAINING: f64 = 100.0;

/// The winner of the search and what to record about it.
pub struct Chosen {
    /// The settings to train on all the data.
    pub config: TrainConfig,
    /// For `train --json`.
    pub report: AutoReport,
    /// For the model's metadata (`train.auto`).
    pub note: String,
}

/// Runs the search for `x` around `base` and returns the winner.
pub fn choose(a: &TrainArgs, x: &Interactions, base: &TrainConfig, log: &Progress) -> Result<Chosen> {
    let kind = base.params.kind;
    let metric = a.metric.unwrap_or(Metric::default_for(kind));
    let budget = a.budget.unwrap_or(Budget::DEFAULT);
    let mut opts = AutoOptions::new(budget, base.seed, metric, a.run.data.options(kind));
    log.log(format!("--auto: searching settings for {metric} on a validation split within a budget of {budget}"));
    if a.checkpoint_every > 0 && kind == ModelKind::Explicit {
        // A sampler cannot resume from a checkpoint: a Bayesian winner could not be trained.
        opts.bayes = false;
        log.log("--auto: not trying --method bayes: it writes no checkpoints (--checkpoint-every)");
    }
    let mut bar: Option<Progress> = None;
    let result = search(x, base, &opts, &mut |event| {
        match event {
            Event::Started { budget, race } => {
                if let Some((users, of)) = race {
                    log.log(format!(
                        "--auto: racing candidates on {users} of the {of} validation users (scoring all of them would \
                         cost more than a quarter of a training a setting); the fresh splits score them all"
                    ));
                }
                bar = Some(Progress::bar((budget * STEPS_PER_TRAINING).ceil() as u64, "searching", a.run.quiet));
            }
            Event::Walk { setting, warm } => {
                bar.as_ref().unwrap_or(log).log(format!(
                    "--auto: a line along {} from the flags' settings or what the lines before chose: {}, each {warm} \
                     iterations on from the step before, a direction stopping at a step that does not improve (as the \
                     budget pays)",
                    setting.symbol(),
                    setting.describe_steps()
                ));
            }
            Event::Bracket { candidates, planned } => {
                bar.as_ref().unwrap_or(log).log(format!(
                    "--auto: {candidates} new candidates by successive halving (planned work: {planned:.1} trainings)"
                ));
            }
            Event::Scored { trial, cost } => {
                let line = format!(
                    "  candidate {:>3}, rung {}: {}  {metric} {:.4}",
                    trial.candidate,
                    trial.rung,
                    trial.config.describe(),
                    trial.score
                );
                let out = bar.as_ref().unwrap_or(log);
                out.log(line);
                out.inc((cost * STEPS_PER_TRAINING).round() as u64);
            }
            Event::Confirmed { leader, fold, folds, leader_score, given_score, cost } => {
                let out = bar.as_ref().unwrap_or(log);
                if fold == 1 {
                    out.log(format!(
                        "--auto: confirming the best on validation, candidate {} after {} iterations ({metric} \
                         {:.4}), against the flags' settings on {folds} fresh validation split{}",
                        leader.candidate,
                        leader.config.iterations,
                        leader.score,
                        if folds == 1 { "" } else { "s" }
                    ));
                }
                out.log(format!(
                    "  fresh split {fold}: candidate {} {metric} {leader_score:.4}, the flags' settings {given_score:.4}",
                    leader.candidate
                ));
                out.inc((cost * STEPS_PER_TRAINING).round() as u64);
            }
            Event::Unaffordable { config, cost, spent, budget } => {
                bar.as_ref().unwrap_or(log).log(format!(
                    "--auto: not tried: {} (--method bayes): with its confirmation on a fresh split it costs {cost:.1} \
                     trainings and {:.1} of the budget are left (a --budget of {:.0}x or more includes it)",
                    config.describe(),
                    budget - spent,
                    (spent + cost).ceil(),
                ));
            }
        }
        Ok(())
    })?;
    if let Some(b) = &bar {
        b.finish();
    }
    if let Some(s) = result.sample {
        log.log(format!(
            "--auto: searched on a sample of {} of {} users ({} interactions): the input has more than {}",
            s.users,
            s.of,
            s.interactions,
            AutoOptions::SAMPLE_INTERACTIONS
        ));
    }
    for line in table(&result, metric) {
        log.log(line);
    }
    let best = &result.trials[result.best];
    let defaults = &result.trials[0];
    let unit = if kind == ModelKind::Implicit { "user" } else { "rating" };
    log.log(verdict(&result, metric, unit));
    log.log(format!(
        "--auto: chose {} ({metric} {:.4} on validation; the flags' settings {:.4}) in {:.1} s ({:.1}x the flags' \
         settings' training, {:.2} s), work {:.1} of {:.1} trainings",
        best.config.describe(),
        best.score,
        defaults.score,
        result.seconds,
        result.seconds / result.training_seconds.max(1e-9),
        result.training_seconds,
        result.cost,
        result.budget
    ));
    let note = format!(
        "{budget} budget, {} settings scored on {}+{} interactions, {metric} {:.4} on validation (the flags' settings {:.4})",
        result.trials.len(),
        result.split.0,
        result.split.1,
        best.score,
        defaults.score
    );
    let report = result.report(budget, metric);
    Ok(Chosen { config: best.config, report, note })
}

/// Why the winner won: the leader's confirmation on fresh splits, or why
/// there was none.
fn verdict(result: &AutoResult, metric: Metric, unit: &str) -> String {
    let leader = &result.trials[result.leader];
    let passed_over = result.passed_over.map(|b| {
        let t = &result.trials[b];
        format!(
            "; candidate {} leads on validation ({metric} {:.4}) but confirming it costs more than the budget left",
            t.candidate, t.score
        )
    });
    let Some(c) = result.confirmation else {
        return "--auto: no setting beat the flags' settings on validation: keeping them".into();
    };
    let (Some(led), Some(given), Some(margin)) = (c.leader_score, c.given_score, c.margin) else {
        let why = if c.available == 0 {
            "no fresh split can be carved from this data (its users have too few interactions)".to_string()
        } else if result.budget - result.cost < c.fold_cost {
            format!("the budget left cannot confirm it on a fresh split ({:.1} trainings)", c.fold_cost)
        } else {
            "no fresh split could be scored (their held-out users or items are unknown to the models)".to_string()
        };
        return format!(
            "--auto: candidate {} leads on validation but {why}: keeping the flags' settings",
            leader.candidate
        );
    };
    let won = result.best == result.leader;
    format!(
        "--auto: on the fresh splits candidate {} scores {metric} {led:.4} against the flags' settings' {given:.4}: \
         {margin:.1} standard errors of the per-{unit} difference, {} {}: {}{}",
        leader.candidate,
        if won { "over" } else { "not over" },
        c.needed,
        if won { "choosing it" } else { "within the noise, keeping the flags' settings" },
        passed_over.unwrap_or_default()
    )
}

/// The validation table: the best settings first, and the flags' own.
fn table(result: &AutoResult, metric: Metric) -> Vec<String> {
    let mut order: Vec<usize> = (0..result.trials.len()).collect();
    order.sort_by(|&a, &b| metric.best_first(result.trials[a].score, result.trials[b].score).then(a.cmp(&b)));
    let mut lines =
        vec![format!("--auto: validation {metric} of {} settings scored (best first):", result.trials.len())];
    for (rank, &i) in order.iter().enumerate() {
        if rank >= TABLE_ROWS && i != 0 {
            continue;
        }
        let t = &result.trials[i];
        let mark = if i == 0 { "  (the flags' settings)" } else { "" };
        lines.push(format!("  {:>3}. {:.4}  {}{mark}", rank + 1, t.score, t.config.describe()));
    }
    lines
}
