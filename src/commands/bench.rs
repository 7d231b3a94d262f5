//! `gramrec bench`: training speed on seeded synthetic data.

use std::time::Instant;

use anyhow::Result;
use gramrec_core::format::{FactorFile, Metadata, Side};
use gramrec_core::quant::Factors;
use gramrec_core::{ModelKind, RegScaling};
use gramrec_train::als::{self, half_iteration_flops, IterationReport, TrainConfig};
use gramrec_train::output::Model;
use gramrec_train::synth::{SynthSpec, Synthetic};
use gramrec_train::topn::for_all_users;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde_json::json;

use super::{default_reg, emit, emit_json};
use crate::cli::BenchArgs;
use crate::progress::Progress;

pub fn run(a: BenchArgs) -> Result<()> {
    if a.recommend_all {
        return recommend_all(&a);
    }
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
        reg_scaling: if kind == ModelKind::Explicit { RegScaling::Count } else { RegScaling::None },
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
        device: a.device,
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
        (build, solve, gflops(flops_users.0 + flops_items.0, build), gflops(flops_users.1 + flops_items.1, solve))
    };
    let progress = Progress::bar(a.iterations as u64, "bench", a.json);
    let model = als::train_from(&data, &config, None, &mut |line| progress.log(line), &mut |r, _| {
        let (build, solve, gb, gs) = row(r);
        progress.log(format!(
            "iteration {:>2}: {:.3} s  (build {build:.3} s, {gb:.1} GFLOP/s; solve {solve:.3} s, {gs:.1} GFLOP/s)",
            r.iteration, r.seconds
        ));
        progress.step();
        Ok(())
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

/// Times top-k for every user on random factors.
fn recommend_all(a: &BenchArgs) -> Result<()> {
    let params = gramrec_core::ModelParams {
        kind: ModelKind::Implicit,
        factors: a.factors,
        reg: 1.0,
        reg_scaling: RegScaling::None,
        alpha: 1.0,
        confidence: gramrec_core::Confidence::Linear,
        epsilon: 1.0,
        biases: false,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(a.seed);
    let mut file = |side, rows: usize| {
        let values: Vec<f32> = (0..rows * a.factors).map(|_| rng.sample::<f32, _>(StandardNormal)).collect();
        FactorFile {
            meta: Metadata { side, params, global_mean: 0.0, rating_min: 0.0, rating_max: 1.0, training: vec![] },
            ids: (0..rows).map(|i| i.to_string()).collect(),
            gram: (side == Side::Items).then(|| gramrec_core::linalg::gram_matrix(&values, a.factors)),
            factors: Factors::F32(values),
            biases: None,
            popularity: None,
        }
    };
    let (users, mut items) = (file(Side::Users, a.users), file(Side::Items, a.items));
    items.popularity = Some((0..a.items as u32).map(|i| a.items as u32 - i).collect());
    if let Some(path) = &a.write_items {
        gramrec_train::output::write_factor_file(path, &items)?;
    }
    let model = Model::from_files(users, items, std::path::Path::new("(random factors)"))?;
    let progress = Progress::bar(a.users as u64, "recommending", a.json);
    let start = Instant::now();
    let mut lists = 0usize;
    for_all_users(
        &model,
        a.k,
        &Default::default(),
        |_, recs| {
            lists += usize::from(recs.len() == a.k.min(a.items));
            Ok(())
        },
        |n| progress.inc(n as u64),
    )?;
    progress.finish();
    let seconds = start.elapsed().as_secs_f64();
    let gflops = 2.0 * a.users as f64 * a.items as f64 * a.factors as f64 / seconds / 1e9;
    if a.json {
        return emit_json(&json!({"users": a.users, "items": a.items, "factors": a.factors, "k": a.k,
            "seconds": seconds, "gflops": gflops, "threads": rayon::current_num_threads()}));
    }
    emit(&format!(
        "top {} for {} users × {} items × {} factors: {seconds:.1} s ({:.0} users/s, {gflops:.1} GFLOP/s), {lists} full lists\n",
        a.k, a.users, a.items, a.factors, a.users as f64 / seconds
    ))
}
