//! `gramrec tune`: grid search with k-fold cross-validation.

use std::time::Instant;

use anyhow::Result;
use gramrec_als::{backend, Method};
use gramrec_core::params::{DEFAULT_ALPHA, DEFAULT_ITERATIONS};
use gramrec_data::split::SplitMode;
use gramrec_engine::{fit, read_defaults, Error, FitOptions, Metric, ModelKind, SaveOptions, TrainConfig};
use gramrec_eval::tune::{check_folds, cross_validate, CrossValidation, Grid};
use gramrec_store::{refuse_overwriting, write_atomic, ITEMS_FILE, USERS_FILE};

use crate::cli::TuneArgs;
use crate::output::{emit, TuneResults, TuneSetting};
use crate::progress::Progress;

pub fn run(a: TuneArgs) -> Result<()> {
    let outputs: Vec<_> =
        [ITEMS_FILE, USERS_FILE].map(|f| a.run.out.join(f)).into_iter().chain(a.results.clone()).collect();
    refuse_overwriting(&outputs, &a.run.input)?;
    let or = |given: &[f32], default: Vec<f32>| if given.is_empty() { default } else { given.to_vec() };
    let grid = |kind| Grid {
        factors: a.factors.clone(),
        reg: or(&a.reg, Grid::default_regs(kind)),
        alpha: or(&a.alpha, vec![DEFAULT_ALPHA]),
        iterations: if a.iterations.is_empty() { vec![DEFAULT_ITERATIONS] } else { a.iterations.clone() },
    };
    // The flags are checked before a (perhaps large) file is read.
    let bayes = a.run.als.method == Method::Bayes;
    for (flag, given) in
        [("--reg", !a.reg.is_empty()), ("--alpha", !a.alpha.is_empty()), ("--iterations", !a.iterations.is_empty())]
    {
        if bayes && given {
            let why =
                "does not apply to --method bayes: it searches --factors alone (its --samples and --burn-in as given)";
            return Err(Error::Argument(format!("{flag} {why}")).into());
        }
    }
    let kinds: &[ModelKind] = if bayes { &[ModelKind::Explicit] } else { &[ModelKind::Explicit, ModelKind::Implicit] };
    for &kind in kinds {
        for setting in grid(kind).settings(&a.run.als.config(kind, Some(1), None, None, None)?) {
            setting.validate()?;
        }
    }
    check_folds(a.folds, usize::MAX).map_err(Error::from)?;
    let log = Progress::lines(a.run.quiet);
    let start = Instant::now();
    let read_at = super::unix_now();
    let (x, _, details) = a.run.load()?;
    let read = read_defaults(&x, a.run.als.asked());
    let kind = read.kind;
    for c in &read.choices {
        log.log(format!("--{} {}: {}", c.parameter, c.value, c.explain(super::flag_for)));
    }
    let metric = a.metric.unwrap_or(Metric::default_for(kind));
    let grid = grid(kind);
    let mut base = a.run.als.config(kind, Some(1), None, None, None)?;
    base.params.confidence = read.confidence;
    base.device = backend::settle(base.device, base.gpu, &mut |notice| log.log(notice.to_string()));
    let settings = grid.settings(&base);
    log.log(format!(
        "{} interactions; {} {kind} settings × {} folds ({}), ranked by {metric}",
        x.len(),
        settings.len(),
        a.folds,
        match a.mode {
            SplitMode::PerUser => "per user",
            _ => "random",
        }
    ));
    let cv =
        CrossValidation { folds: a.folds, mode: a.mode, seed: a.fold_seed, metric, data: a.run.data.options(kind) };
    let progress = Progress::bar((settings.len() * a.folds) as u64, "tuning", a.run.quiet);
    let results = cross_validate(&x, &settings, &cv, |c, fold, score| {
        progress.log(format!("{}  fold {}  {metric} {score:.4}", describe(c), fold + 1));
        progress.step();
    })?;
    progress.finish();
    let cv_seconds = start.elapsed().as_secs_f64();

    if let Some(path) = &a.results {
        let json_out = path.extension().is_some_and(|e| e == "json");
        write_atomic(path, |w| {
            if json_out {
                let settings = results
                    .iter()
                    .map(|r| TuneSetting {
                        method: r.config.method,
                        factors: r.config.params.factors,
                        reg: (r.config.method == Method::Als).then_some(r.config.params.reg),
                        alpha: r.config.params.alpha,
                        iterations: r.config.iterations,
                        metric: metric.to_string(),
                        mean: r.mean,
                        std: r.std,
                        folds: r.scores.clone(),
                    })
                    .collect();
                serde_json::to_writer_pretty(
                    &mut *w,
                    &TuneResults { metric: metric.to_string(), folds: a.folds, settings },
                )?;
                writeln!(w)
            } else {
                writeln!(w, "factors,reg,alpha,iterations,{metric}_mean,{metric}_std,folds,method")?;
                for r in &results {
                    let p = r.config.params;
                    let folds: Vec<String> = r.scores.iter().map(|s| format!("{s:.6}")).collect();
                    writeln!(
                        w,
                        "{},{},{},{},{:.6},{:.6},{},{}",
                        p.factors,
                        reg_column(&r.config),
                        p.alpha,
                        r.config.iterations,
                        r.mean,
                        r.std,
                        folds.join(" "),
                        r.config.method
                    )?;
                }
                Ok(())
            }
        })?;
    }

    let best = results.first().expect("the grid is never empty");
    let options = FitOptions { data: a.run.data.options(kind), ..Default::default() };
    let fitted = fit(x, &best.config, &options, &mut |_| Ok(()))?;
    let save = SaveOptions { details: details.as_ref(), read_at: Some(read_at), ..Default::default() };
    let saved = fitted.save(&a.run.out, &save)?;
    if let Some(table) = &details {
        super::log_details(table, saved.described.unwrap_or(0), &fitted.data.items, a.run.quiet);
    }
    let mut table = format!(
        "{:>8} {:>9} {:>6} {:>10}  {:>9} {:>8}\n",
        "factors",
        "reg",
        "alpha",
        "iterations",
        metric.to_string(),
        "± std"
    );
    for r in &results {
        let p = r.config.params;
        table.push_str(&format!(
            "{:>8} {:>9} {:>6} {:>10}  {:>9.4} {:>8.4}\n",
            p.factors,
            reg_column(&r.config),
            p.alpha,
            r.config.iterations,
            r.mean,
            r.std
        ));
    }
    table.push_str(&format!(
        "best: {} ({metric} {:.4} ± {:.4} over {} folds); retrained on all data into {} ({cv_seconds:.1} s cross-validating, {:.1} s in all)\n",
        describe(&best.config),
        best.mean,
        best.std,
        a.folds,
        a.run.out.display(),
        start.elapsed().as_secs_f64()
    ));
    emit(&table)
}

/// λ as the results show it: none for a Bayesian model, which has no λ.
fn reg_column(c: &TrainConfig) -> String {
    match c.method {
        Method::Als => c.params.reg.to_string(),
        Method::Bayes => String::new(),
    }
}

fn describe(c: &TrainConfig) -> String {
    let p = c.params;
    if c.method == Method::Bayes {
        return c.describe();
    }
    match p.kind {
        ModelKind::Implicit => {
            format!("factors {} reg {} alpha {} iterations {}", p.factors, p.reg, p.alpha, c.iterations)
        }
        ModelKind::Explicit => format!("factors {} reg {} iterations {}", p.factors, p.reg, c.iterations),
    }
}
