//! `gramrec train`.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use gramrec_als::output::factor_files;
use gramrec_als::{checkpoint, memory};
use gramrec_core::{Dtype, Error, Model, ModelKind};
use gramrec_data::Dataset;
use gramrec_eval::{evaluate_known, Known, Metric};
use gramrec_store::{refuse_overwriting, write_atomic, write_model, ITEMS_FILE, USERS_FILE};

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
    let read = a.run.als.read_defaults(&x);
    let kind = read.kind;
    for c in &read.choices {
        log.log(format!("--{} {}: {}", c.parameter, c.value, c.reason));
    }
    let mut config = a.run.als.config(kind, a.hyper.factors, a.hyper.iterations, a.hyper.reg, a.hyper.alpha)?;
    config.params.confidence = read.confidence;
    config.validate()?;
    let chosen = if a.auto { Some(super::auto::choose(&a, &x, &config, &log)?) } else { None };
    if let Some(c) = &chosen {
        config = c.config;
    }
    let data = Dataset::build(x, &a.run.data.options(kind))?;
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
    let threads =
        if config.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { config.threads };
    memory::check("training", memory::training_estimate(&data, &config.params, threads), crate::env::memory_limit()?)?;
    let p = config.params;
    log.log(format!(
        "training {kind} ALS: {}{}, {} solver",
        super::describe(&p, config.iterations),
        match kind {
            ModelKind::Explicit if p.biases => ", with biases",
            ModelKind::Explicit => ", no biases",
            ModelKind::Implicit => "",
        },
        config.solver.solver,
    ));
    let validation = a.validate.as_ref().map(|v| a.run.input_args.load(v, a.run.quiet)).transpose()?.map(|(x, _)| x);
    let metric = a.metric.unwrap_or(Metric::default_for(kind));
    let known = validation.as_ref().map(|_| Known::from_dataset(&data));
    let mut curve: Vec<ValidationPoint> = Vec::new();
    let start_from = if a.resume {
        let start = checkpoint::read(&a.run.out, &data, &config)?;
        log.log(format!("resuming after iteration {} of {}", start.iteration, config.iterations));
        Some(start)
    } else {
        None
    };
    let interrupted = stop_on_ctrl_c();
    let progress = Progress::bar(config.iterations as u64, "training", a.run.quiet);
    let start = Instant::now();
    let model =
        gramrec_als::train_from(&data, &config, start_from, &mut |line| progress.log(line), &mut |r, mut snapshot| {
            if interrupted.load(Ordering::SeqCst) {
                return Err(Error::Interrupted(r.iteration));
            }
            if a.checkpoint_every > 0 && r.iteration % a.checkpoint_every == 0 && r.iteration < config.iterations {
                checkpoint::write(&a.run.out, &data, &snapshot.model()?, r.iteration)?;
            }
            let mut line = format!(
                "iteration {:>3}/{}  loss {:.6e}  {:.3} s",
                r.iteration,
                config.iterations,
                r.loss.total(),
                r.seconds
            );
            if let (Some(valid), Some(known)) = (&validation, &known) {
                let files = factor_files(&data, &snapshot.model()?, Dtype::F32);
                let m = Model::new(files.0, files.1).map_err(Error::Scoring)?;
                let ev = evaluate_known(&m, known, valid, metric.k())?;
                let value = metric
                    .of(&ev)
                    .ok_or_else(|| Error::Argument(format!("--metric {metric} does not apply to {kind} models")))?;
                line.push_str(&format!("  {metric} {value:.4}"));
                curve.push(ValidationPoint { iteration: r.into(), validation: ev });
            }
            progress.log(line);
            progress.step();
            Ok(())
        })?;
    progress.finish();
    let train_seconds = start.elapsed().as_secs_f64();
    let mut files = factor_files(&data, &model, a.dtype);
    super::stamp_read_at(&mut files, read_at);
    if let Some(c) = &chosen {
        for f in [&mut files.0, &mut files.1] {
            f.meta.training.other.push(("auto".into(), c.note.clone()));
        }
    }
    if let Some(table) = &details {
        super::attach_details(&mut files.1, table, a.run.quiet);
    }
    write_model(&a.run.out, &files)?;
    checkpoint::remove(&a.run.out)?;
    if let Some(v) = &a.validate {
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
            defaults_read: read.choices.clone(),
            params: TrainingParams {
                model: p,
                iterations: config.iterations,
                solver: config.solver,
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
