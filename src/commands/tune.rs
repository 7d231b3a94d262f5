//! `gramrec tune`: grid search with k-fold cross-validation.

use std::time::Instant;

use anyhow::Result;
use gramrec_core::ModelKind;
use gramrec_train::als::{self, TrainConfig};
use gramrec_train::dataset::Dataset;
use gramrec_train::eval::Metric;
use gramrec_train::fsutil::write_atomic;
use gramrec_train::output::{factor_files, write_model};
use gramrec_train::tune::{cross_validate, CrossValidation, Grid, SettingResult};
use serde_json::json;

use super::{default_reg, emit};
use crate::cli::TuneArgs;
use crate::progress::Progress;

/// The λ grid when none is given: around the measured default.
fn default_regs(kind: ModelKind) -> Vec<f32> {
    match kind {
        ModelKind::Explicit => vec![0.05, 0.1, 0.2, 0.5],
        ModelKind::Implicit => vec![5.0, 10.0, 30.0, 60.0],
    }
}

pub fn run(a: TuneArgs) -> Result<()> {
    let log = Progress::lines(a.quiet);
    let start = Instant::now();
    let (x, _) = a.input_args.load(&a.input)?;
    let kind = a.als.kind(x.has_ratings);
    let metric = a.metric.unwrap_or(Metric::default_for(kind));
    let grid = Grid {
        factors: a.factors.clone(),
        reg: if a.reg.is_empty() { default_regs(kind) } else { a.reg.clone() },
        alpha: a.alpha.clone(),
        iterations: a.iterations.clone(),
    };
    let base = TrainConfig {
        params: a.als.params(kind, 64, default_reg(kind), 1.0),
        iterations: 15,
        solver: a.als.solver,
        cg_steps: a.als.cg_steps,
        seed: a.als.seed,
        threads: a.als.threads,
        device: a.als.device.settle(&mut |line| log.log(line)),
    };
    let settings = grid.settings(&base);
    log.log(format!(
        "{} interactions; {} {kind} settings × {} folds ({}), ranked by {metric}",
        x.len(),
        settings.len(),
        a.folds,
        match a.mode {
            gramrec_train::split::SplitMode::PerUser => "per user",
            _ => "random",
        }
    ));
    let cv = CrossValidation { folds: a.folds, mode: a.mode, seed: a.fold_seed, metric, data: a.data.options(kind) };
    let progress = Progress::bar((settings.len() * a.folds) as u64, "tuning", a.quiet);
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
                let rows: Vec<_> = results.iter().map(|r| row_json(r, metric)).collect();
                writeln!(w, "{:#}", json!({"metric": metric.to_string(), "folds": a.folds, "settings": rows}))
            } else {
                writeln!(w, "factors,reg,alpha,iterations,{metric}_mean,{metric}_std,folds")?;
                for r in &results {
                    let p = r.config.params;
                    let folds: Vec<String> = r.scores.iter().map(|s| format!("{s:.6}")).collect();
                    writeln!(
                        w,
                        "{},{},{},{},{:.6},{:.6},{}",
                        p.factors,
                        p.reg,
                        p.alpha,
                        r.config.iterations,
                        r.mean,
                        r.std,
                        folds.join(" ")
                    )?;
                }
                Ok(())
            }
        })?;
    }

    let best = results.first().expect("the grid is never empty");
    let data = Dataset::build(x, &a.data.options(kind))?;
    let model = als::train(&data, &best.config, &mut |_, _| Ok(()))?;
    write_model(&a.out, &factor_files(&data, &model, gramrec_core::Dtype::F32))?;
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
            p.factors, p.reg, p.alpha, r.config.iterations, r.mean, r.std
        ));
    }
    table.push_str(&format!(
        "best: {} ({metric} {:.4} ± {:.4} over {} folds); retrained on all data into {} ({cv_seconds:.1} s cross-validating, {:.1} s in all)\n",
        describe(&best.config),
        best.mean,
        best.std,
        a.folds,
        a.out.display(),
        start.elapsed().as_secs_f64()
    ));
    emit(&table)
}

fn describe(c: &TrainConfig) -> String {
    let p = c.params;
    match p.kind {
        ModelKind::Implicit => {
            format!("factors {} reg {} alpha {} iterations {}", p.factors, p.reg, p.alpha, c.iterations)
        }
        ModelKind::Explicit => format!("factors {} reg {} iterations {}", p.factors, p.reg, c.iterations),
    }
}

fn row_json(r: &SettingResult, metric: Metric) -> serde_json::Value {
    let p = r.config.params;
    json!({"factors": p.factors, "reg": p.reg, "alpha": p.alpha, "iterations": r.config.iterations,
           "metric": metric.to_string(), "mean": r.mean, "std": r.std, "folds": r.scores})
}
