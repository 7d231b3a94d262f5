//! `gramrec train`.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use gramrec_core::Dtype;
use gramrec_core::ModelKind;
use gramrec_train::als::{self, TrainConfig};
use gramrec_train::dataset::Dataset;
use gramrec_train::eval::{evaluate_known, Known, Metric};
use gramrec_train::fsutil::write_atomic;
use gramrec_train::output::{factor_files, write_model, Model};
use gramrec_train::Error;
use gramrec_train::{checkpoint, memory};
use serde_json::json;

use super::{default_reg, emit_json, params_json};
use crate::cli::TrainArgs;
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
    let log = Progress::lines(a.quiet);
    let (x, load_seconds) = a.input_args.load(&a.input)?;
    let mb = x.bytes as f64 / 1e6;
    log.log(format!(
        "read {} interactions from {} ({mb:.1} MB) in {load_seconds:.2} s ({:.0} MB/s)",
        x.len(),
        a.input.display(),
        mb / load_seconds.max(1e-9)
    ));
    let skipped = x.skipped.clone();
    let kind = a.als.kind(x.has_ratings);
    if !a.als.explicit && !a.als.implicit {
        log.log(match kind {
            ModelKind::Explicit => "the file has ratings: training an explicit model (--implicit for feedback counts)",
            ModelKind::Implicit => "no rating column: training an implicit model with every interaction counting 1",
        });
    }
    let opts = a.data.options(kind);
    let data = Dataset::build(x, &opts)?;
    let s = data.stats;
    log.log(format!(
        "{} users × {} items, {} interactions ({} duplicates merged, {} filtered out)",
        data.users.len(),
        data.items.len(),
        data.nnz(),
        s.duplicates_merged,
        s.filtered_out
    ));
    let config = TrainConfig {
        params: a.als.params(kind, a.hyper.factors, a.hyper.reg.unwrap_or(default_reg(kind)), a.hyper.alpha),
        iterations: a.hyper.iterations,
        solver: a.als.solver,
        cg_steps: a.als.cg_steps,
        seed: a.als.seed,
        threads: a.als.threads,
        device: a.als.device,
    };
    config.validate()?;
    let threads =
        if config.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { config.threads };
    memory::check("training", memory::training_estimate(&data, &config, threads), memory::limit())?;
    let p = config.params;
    log.log(format!(
        "training {kind} ALS: {} factors, λ {} ({} scaling){}, {} iterations, {} solver",
        p.factors,
        p.reg,
        p.reg_scaling,
        match kind {
            ModelKind::Implicit => format!(", α {} ({} confidence)", p.alpha, p.confidence),
            ModelKind::Explicit if p.biases => ", with biases".to_string(),
            ModelKind::Explicit => ", no biases".to_string(),
        },
        config.iterations,
        config.solver,
    ));
    let validation = a.validate.as_ref().map(|v| a.input_args.load(v)).transpose()?.map(|(x, _)| x);
    let metric = a.metric.unwrap_or(Metric::default_for(kind));
    let known = validation.as_ref().map(|_| Known::from_dataset(&data));
    let mut curve: Vec<serde_json::Value> = Vec::new();
    let mut metric_values: Vec<f64> = Vec::new();
    let start_from = if a.resume {
        let start = checkpoint::read(&a.out, &data, &config)?;
        log.log(format!("resuming after iteration {} of {}", start.iteration, config.iterations));
        Some(start)
    } else {
        None
    };
    let interrupted = stop_on_ctrl_c();
    let progress = Progress::bar(config.iterations as u64, "training", a.quiet);
    let start = Instant::now();
    let model = als::train_from(&data, &config, start_from, &mut |line| progress.log(line), &mut |r, mut snapshot| {
        if interrupted.load(Ordering::SeqCst) {
            return Err(Error::Interrupted(r.iteration));
        }
        if a.checkpoint_every > 0 && r.iteration % a.checkpoint_every == 0 && r.iteration < config.iterations {
            checkpoint::write(&a.out, &data, &snapshot.model()?, r.iteration)?;
        }
        let mut line = format!(
            "iteration {:>3}/{}  loss {:.6e}  {:.3} s",
            r.iteration,
            config.iterations,
            r.loss.total(),
            r.seconds
        );
        let mut point = json!({"iteration": r.iteration, "seconds": r.seconds, "loss": r.loss.total()});
        if let (Some(valid), Some(known)) = (&validation, &known) {
            let files = factor_files(&data, &snapshot.model()?, Dtype::F32);
            let m = Model::from_files(files.0, files.1, &a.out)?;
            let ev = evaluate_known(&m, known, valid, metric.k())?;
            let value =
                metric.of(&ev).ok_or_else(|| Error::Usage(format!("{metric} does not apply to {kind} models")))?;
            line.push_str(&format!("  {metric} {value:.4}"));
            metric_values.push(value);
            point["validation"] = serde_json::to_value(&ev).map_err(|e| Error::Usage(e.to_string()))?;
        }
        progress.log(line);
        progress.step();
        curve.push(point);
        Ok(())
    })?;
    progress.finish();
    let train_seconds = start.elapsed().as_secs_f64();
    let files = factor_files(&data, &model, a.dtype);
    write_model(&a.out, &files)?;
    checkpoint::remove(&a.out)?;
    if let Some(v) = &a.validate {
        let report = json!({"input": a.input, "validation": v, "metric": metric.to_string(), "iterations": curve});
        write_atomic(&a.out.join("report.json"), |w| writeln!(w, "{report:#}"))?;
        let title = format!("{kind} ALS on {}: validation on {}", file_name(&a.input), file_name(v));
        let losses = model.history.iter().map(|r| r.loss.total()).collect();
        let svg = learning_curve(&title, &[("loss (objective)".into(), losses), (metric.to_string(), metric_values)]);
        write_atomic(&a.out.join("report.svg"), |w| w.write_all(svg.as_bytes()))?;
        log.log(format!("learning curve: {0}/report.json, {0}/report.svg", a.out.display()));
    }
    log.log(format!("trained on {} in {train_seconds:.2} s; wrote {}", model.device, a.out.display()));
    if a.json {
        let mut out = json!({
            "input": a.input,
            "out": a.out,
            "users": data.users.len(),
            "items": data.items.len(),
            "interactions": data.nnz(),
            "read": s.read,
            "skipped": skipped,
            "duplicatesMerged": s.duplicates_merged,
            "filteredOut": s.filtered_out,
            "loadSeconds": load_seconds,
            "loadMBps": mb / load_seconds.max(1e-9),
            "device": model.device,
            "params": {
                "iterations": config.iterations,
                "solver": config.solver.name(),
                "cgSteps": config.cg_steps,
                "seed": config.seed,
                "dtype": a.dtype.name(),
            },
            "trainSeconds": train_seconds,
            "iterations": model.history.iter().map(|r| json!({
                "iteration": r.iteration,
                "seconds": r.seconds,
                "loss": r.loss.total(),
            })).collect::<Vec<_>>(),
        });
        out["params"].as_object_mut().expect("an object").extend(params_json(&p));
        emit_json(&out)?;
    }
    Ok(())
}
