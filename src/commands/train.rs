//! `gramrec train`.

use std::time::Instant;

use anyhow::Result;
use gramrec_core::ModelKind;
use gramrec_train::als::{self, TrainConfig};
use gramrec_train::dataset::{Dataset, DatasetOptions, Duplicates};
use gramrec_train::output::{factor_files, write_model};
use serde_json::json;

use super::{emit_json, params_json};
use crate::cli::TrainArgs;
use crate::progress::Progress;

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
    let kind = a.als.kind(x.has_ratings);
    if !a.als.explicit && !a.als.implicit {
        log.log(match kind {
            ModelKind::Explicit => {
                "the file has ratings: training an explicit model (--implicit for feedback counts)"
            }
            ModelKind::Implicit => {
                "no rating column: training an implicit model with every interaction counting 1"
            }
        });
    }
    let opts = DatasetOptions {
        duplicates: a.data.duplicates.unwrap_or(match kind {
            ModelKind::Explicit => Duplicates::Last,
            ModelKind::Implicit => Duplicates::Sum,
        }),
        min_user_count: a.data.min_user_count,
        min_item_count: a.data.min_item_count,
        k_core: a.data.k_core,
    };
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
        params: a.als.params(kind),
        iterations: a.als.iterations,
        solver: a.als.solver,
        cg_steps: a.als.cg_steps,
        seed: a.als.seed,
        threads: a.als.threads,
    };
    config.validate()?;
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
    let progress = Progress::bar(config.iterations as u64, "training", a.quiet);
    let start = Instant::now();
    let model = als::train(&data, &config, &mut |r| {
        progress.log(format!(
            "iteration {:>3}/{}  loss {:.6e}  {:.3} s",
            r.iteration,
            config.iterations,
            r.loss.total(),
            r.seconds
        ));
        progress.step();
    })?;
    progress.finish();
    let train_seconds = start.elapsed().as_secs_f64();
    let files = factor_files(&data, &model, a.dtype);
    write_model(&a.out, &files)?;
    log.log(format!(
        "trained on {} in {train_seconds:.2} s; wrote {}",
        model.device,
        a.out.display()
    ));
    if a.json {
        let mut out = json!({
            "input": a.input,
            "out": a.out,
            "users": data.users.len(),
            "items": data.items.len(),
            "interactions": data.nnz(),
            "read": s.read,
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
        out["params"]
            .as_object_mut()
            .expect("an object")
            .extend(params_json(&p));
        emit_json(&out)?;
    }
    Ok(())
}
