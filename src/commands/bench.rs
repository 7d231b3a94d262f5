//! `gramrec bench`: training speed on seeded synthetic data.

use std::time::Instant;

use anyhow::Result;
use gramrec_core::{ModelKind, RegScaling};
use gramrec_train::als::{self, half_iteration_flops, IterationReport, TrainConfig};
use gramrec_train::synth::{SynthSpec, Synthetic};
use serde_json::json;

use super::{default_reg, emit, emit_json};
use crate::cli::BenchArgs;
use crate::progress::Progress;

pub fn run(a: BenchArgs) -> Result<()> {
    let kind: ModelKind = a.kind.into();
    let log = Progress::lines(a.json);
    let start = Instant::now();
    let syn = Synthetic::generate(SynthSpec::new(a.users, a.items, a.nnz, kind, a.seed));
    let data = syn.dataset(|_| true)?;
    let gen_seconds = start.elapsed().as_secs_f64();
    log.log(format!(
        "synthetic {kind} data: {} users × {} items, {} interactions (generated in {gen_seconds:.1} s)",
        data.users.len(),
        data.items.len(),
        data.nnz()
    ));
    let params = gramrec_core::ModelParams {
        kind,
        factors: a.factors,
        reg: default_reg(kind),
        reg_scaling: if kind == ModelKind::Explicit {
            RegScaling::Count
        } else {
            RegScaling::None
        },
        alpha: 1.0,
        confidence: gramrec_core::Confidence::Linear,
        epsilon: 1.0,
        biases: true,
    };
    let config = TrainConfig {
        params,
        iterations: a.iterations,
        solver: a.solver,
        cg_steps: a.cg_steps,
        seed: a.seed,
        threads: a.threads,
    };
    let d = params.dim();
    let nnz = data.nnz();
    let (nu, ni) = (data.users.len(), data.items.len());
    let flops_users = half_iteration_flops(kind, a.solver, a.cg_steps, nu, ni, nnz, d);
    let flops_items = half_iteration_flops(kind, a.solver, a.cg_steps, ni, nu, nnz, d);
    let gflops = |flops: f64, secs: f64| flops / secs.max(1e-12) / 1e9;
    let row = |r: &IterationReport| {
        let build = r.users.build + r.items.build;
        let solve = r.users.solve + r.items.solve;
        (
            build,
            solve,
            gflops(flops_users.0 + flops_items.0, build),
            gflops(flops_users.1 + flops_items.1, solve),
        )
    };
    let progress = Progress::bar(a.iterations as u64, "bench", a.json);
    let model = als::train(&data, &config, &mut |r| {
        let (build, solve, gb, gs) = row(r);
        progress.log(format!(
            "iteration {:>2}: {:.3} s  (build {build:.3} s, {gb:.1} GFLOP/s; solve {solve:.3} s, {gs:.1} GFLOP/s)",
            r.iteration, r.seconds
        ));
        progress.step();
    })?;
    progress.finish();
    let mut secs: Vec<f64> = model.history.iter().map(|r| r.seconds).collect();
    secs.sort_by(f64::total_cmp);
    let median = secs.get(secs.len() / 2).copied().unwrap_or(0.0);
    let iterations: Vec<_> = model
        .history
        .iter()
        .map(|r| {
            let (build, solve, gb, gs) = row(r);
            json!({"iteration": r.iteration, "seconds": r.seconds, "buildSeconds": build, "solveSeconds": solve,
                   "buildGflops": gb, "solveGflops": gs, "loss": r.loss.total()})
        })
        .collect();
    if a.json {
        return emit_json(&json!({
            "device": model.device, "kind": kind.name(), "users": nu, "items": ni, "interactions": nnz,
            "factors": a.factors, "solver": a.solver.name(), "cgSteps": a.cg_steps,
            "medianSecondsPerIteration": median, "iterations": iterations,
        }));
    }
    emit(&format!(
        "{kind} ALS, {} factors, {} solver on {}: median {median:.3} s per iteration over {} iterations\n",
        a.factors, a.solver, model.device, a.iterations
    ))
}
