//! `gramrec train`.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use gramrec_engine::{
    check_defaults, fit, read_defaults, Checkpoints, Dataset, DefaultChoice, Error, FitEvent, FitOptions, Method,
    Metric, ModelKind, Open, SaveOptions, TrainConfig, Validation,
};
use gramrec_store::{refuse_overwriting, write_atomic, ITEMS_FILE, USERS_FILE};

use crate::cli::TrainArgs;
use crate::output::{emit_json, Iteration, TrainReport, TrainingParams, ValidationPoint, ValidationReport};
use crate::plot::learning_curve;
use crate::progress::Progress;

/// The first Ctrl-C sets the returned flag, so training stops after the
/// iteration in flight and writes nothing; a second one exits at once (the
/// atomic writes still leave no partial model).
fn stop_on_ctrl_c() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    let installed = ctrlc::set_handler(move || {
        if set.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        crate::progress::stderr_line("stopping after this iteration (Ctrl-C again to stop now)");
    });
    if let Err(e) = installed {
        crate::progress::stderr_line(&format!("warning: Ctrl-C will stop training abruptly ({e})"));
    }
    flag
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

pub fn run(a: TrainArgs) -> Result<()> {
    let outputs: Vec<_> = [ITEMS_FILE, USERS_FILE, "report.json", "report.svg"].map(|f| a.run.out.join(f)).into();
    let inputs: Vec<_> = a.run.input.iter().cloned().chain(a.validate.clone()).collect();
    refuse_overwriting(&outputs, &inputs)?;
    // The flags are checked before a (perhaps large) file is read.
    let (h, als) = (&a.hyper, &a.run.als);
    als.config(ModelKind::Explicit, h.factors, h.iterations, h.reg, h.alpha)?.validate()?;
    if a.auto && als.method == Method::Bayes {
        let why = "--auto tries --method bayes itself on ratings when its budget pays for it: drop --method bayes \
                   to search, or --auto to train Bayesian PMF";
        return Err(Error::Argument(why.into()).into());
    }
    let log = Progress::lines(a.run.quiet);
    let read_at = super::unix_now();
    let (x, load_seconds, details) = a.run.load()?;
    let mb = x.bytes as f64 / 1e6;
    log.log(format!(
        "read {} interactions from {} ({mb:.1} MB) in {load_seconds:.2} s ({:.0} MB/s)",
        x.len(),
        a.run.input.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" + "),
        mb / load_seconds.max(1e-9)
    ));
    let skipped = x.skipped.clone();
    let read = read_defaults(&x, a.run.als.asked());
    let kind = read.kind;
    for c in &read.choices {
        log.log(format!("--{} {}: {}", c.parameter, c.value, c.explain(super::flag_for)));
    }
    let mut config = a.run.als.config(kind, a.hyper.factors, a.hyper.iterations, a.hyper.reg, a.hyper.alpha)?;
    config.params.confidence = read.confidence;
    config.validate()?;
    let interrupted = stop_on_ctrl_c();
    let stop = || match interrupted.load(Ordering::SeqCst) {
        true => Err(Error::Interrupted(0)),
        false => Ok(()),
    };
    // An implicit model's default λ, α and factors, checked on validation (--auto searches them).
    let h = &a.hyper;
    let open = Open { reg: h.reg.is_none(), alpha: h.alpha.is_none(), factors: h.factors.is_none() };
    let checked = match a.auto {
        false => check_defaults(
            &x,
            &mut config,
            open,
            &a.run.data.options(kind),
            &mut |s| {
                log.log(s);
                Ok(())
            },
            &mut || stop(),
        )?,
        true => None,
    };
    if let Some((check, choices)) = &checked {
        for c in choices {
            log.log(format!("--{} {}: {} (--{} to skip the check)", c.parameter, c.value, c.reason, c.parameter));
        }
        if let Some(cost) = check.cost() {
            log.log(cost);
        }
    }
    let chosen = if a.auto { Some(super::auto::choose(&a, &x, &config, &log)?) } else { None };
    if let Some(c) = &chosen {
        config = c.config;
    }
    let validation = a.validate.as_ref().map(|v| a.run.input_args.load(v, a.run.quiet)).transpose()?.map(|(x, _)| x);
    let metric = a.metric.unwrap_or(Metric::default_for(kind));
    let options = FitOptions {
        data: a.run.data.options(kind),
        memory_limit: crate::env::memory_limit()?,
        validation: validation.as_ref().map(|test| Validation { test, metric }),
        checkpoints: Some(Checkpoints { dir: a.run.out.clone(), every: a.checkpoint_every, resume: a.resume }),
    };
    // The bar and the clock start with training, after the checks.
    let (mut progress, mut started) = (Progress::lines(true), Instant::now());
    let fitted = fit(x, &config, &options, &mut |event| {
        match event {
            FitEvent::Built(data) => log_built(&log, data, &a, &config),
            FitEvent::Resumed(iteration) => {
                log.log(format!("resuming after iteration {iteration} of {}", config.iterations));
            }
            FitEvent::Training => {
                progress = Progress::bar(config.iterations as u64, "training", a.run.quiet);
                started = Instant::now();
            }
            FitEvent::Device(notice) => progress.log(notice.to_string()),
            FitEvent::Iteration { report: r, validation } => {
                if interrupted.load(Ordering::SeqCst) {
                    return Err(Error::Interrupted(r.iteration));
                }
                let mut line = match config.method {
                    Method::Als => {
                        format!("iteration {:>3}/{}  loss {:.6e}", r.iteration, config.iterations, r.loss.total())
                    }
                    Method::Bayes => {
                        let phase = if r.iteration <= config.bayes.burn_in { "burn-in" } else { "sample" };
                        let sse = r.loss.data;
                        format!(
                            "sweep {:>3}/{} ({phase})  training squared error {sse:.6e}",
                            r.iteration, config.iterations
                        )
                    }
                };
                line.push_str(&format!("  {:.3} s", r.seconds));
                if let Some(value) = validation.and_then(|ev| metric.of(ev)) {
                    line.push_str(&format!("  {metric} {value:.4}"));
                }
                progress.log(line);
                progress.step();
            }
        }
        Ok(())
    })?;
    progress.finish();
    let train_seconds = started.elapsed().as_secs_f64();
    let (data, model) = (&fitted.data, &fitted.trained);
    let saved = fitted.save(
        &a.run.out,
        &SaveOptions {
            dtype: a.dtype,
            details: details.as_ref(),
            read_at: Some(read_at),
            notes: chosen.iter().map(|c| ("auto".to_string(), c.note.clone())).collect(),
        },
    )?;
    if let Some(table) = &details {
        super::log_details(table, saved.described.unwrap_or(0), &data.items, a.run.quiet);
    }
    if let Some(v) = &a.validate {
        let curve: Vec<ValidationPoint> = model
            .history
            .iter()
            .zip(&fitted.validation)
            .map(|(r, ev)| ValidationPoint { iteration: r.into(), validation: ev.clone() })
            .collect();
        let values: Vec<f64> = curve.iter().filter_map(|p| metric.of(&p.validation)).collect();
        let report = ValidationReport {
            input: a.run.input[0].clone(),
            validation: v.clone(),
            metric: metric.to_string(),
            iterations: curve,
        };
        write_atomic(&a.run.out.join("report.json"), |w| {
            serde_json::to_writer_pretty(&mut *w, &report)?;
            writeln!(w)
        })?;
        let title = format!("{kind} ALS on {}: validation on {}", file_name(&a.run.input[0]), file_name(v));
        let losses = model.history.iter().map(|r| r.loss.total()).collect();
        let svg = learning_curve(&title, &[("loss (objective)".into(), losses), (metric.to_string(), values)]);
        write_atomic(&a.run.out.join("report.svg"), |w| w.write_all(svg.as_bytes()))?;
        log.log(format!("learning curve: {0}/report.json, {0}/report.svg", a.run.out.display()));
        if let Some(warning) = report.iterations.last().and_then(|p| super::evaluate::below_baseline(&p.validation)) {
            log.log(warning);
        }
    }
    log.log(format!("trained on {} in {train_seconds:.2} s; wrote {}", model.device, a.run.out.display()));
    if a.json {
        let s = data.stats;
        let p = config.params;
        let bayes = (config.method == Method::Bayes).then_some(config.bayes);
        emit_json(&TrainReport {
            input: a.run.input[0].clone(),
            out: a.run.out.clone(),
            users: data.users.len(),
            items: data.items.len(),
            interactions: data.nnz(),
            read: s.read,
            skipped,
            duplicates_merged: s.duplicates_merged,
            filtered_out: s.filtered_out,
            zeros_as_interactions: s.zeros_as_interactions,
            nonpositive_dropped: s.nonpositive_dropped,
            load_seconds,
            load_mbps: mb / load_seconds.max(1e-9),
            device: model.device.clone(),
            defaults_read: read
                .choices
                .iter()
                .map(|c| DefaultChoice { reason: c.explain(super::flag_for), ..c.clone() })
                .chain(checked.iter().flat_map(|(_, choices)| choices.iter().cloned()))
                .collect(),
            defaults_check: checked.map(|(check, _)| check),
            params: TrainingParams {
                model: p,
                method: config.method,
                iterations: config.iterations,
                samples: bayes.map(|b| b.samples),
                burn_in: bayes.map(|b| b.burn_in),
                solver: model.config.solver,
                seed: config.seed,
                dtype: a.dtype,
            },
            train_seconds,
            iterations: model.history.iter().map(Iteration::from).collect(),
            auto: chosen.map(|c| c.report),
        })?;
    }
    Ok(())
}

/// What training runs on: the matrices' size, what was merged and dropped,
/// and the settings.
fn log_built(log: &Progress, data: &Dataset, a: &TrainArgs, config: &TrainConfig) {
    let s = data.stats;
    log.log(format!(
        "{} users × {} items, {} interactions ({} duplicates merged, {} filtered out)",
        data.users.len(),
        data.items.len(),
        data.nnz(),
        s.duplicates_merged,
        s.filtered_out
    ));
    if s.zeros_as_interactions + s.nonpositive_dropped > 0 {
        log.log(format!(
            "values of 0 or less: {} zeros counted as interactions, {} dropped (--nonpositive {})",
            s.zeros_as_interactions, s.nonpositive_dropped, a.run.data.nonpositive
        ));
    }
    let p = config.params;
    let biases = match p.kind {
        ModelKind::Explicit if p.biases => ", with biases",
        ModelKind::Explicit => ", no biases",
        ModelKind::Implicit => "",
    };
    log.log(match config.method {
        Method::Als => format!(
            "training {} ALS: {}{biases}, {} solver",
            p.kind,
            p.describe(config.iterations),
            config.solver.solver
        ),
        Method::Bayes => format!(
            "training {} Bayesian PMF by Gibbs sampling: {} factors{biases}, the posterior mean of {} sweeps after a \
             burn-in of {} (priors and noise learned: no λ)",
            p.kind, p.factors, config.bayes.samples, config.bayes.burn_in
        ),
    });
}
