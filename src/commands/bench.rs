//! `gramrec bench`: training speed on seeded synthetic data.

use std::time::Instant;

use anyhow::Result;
use gramrec_als::driver::{half_iteration_flops, IterationReport};
use gramrec_als::{memory, TrainConfig, TrainEvent};
use gramrec_core::quant::Factors;
use gramrec_core::{FactorFile, Metadata, Model, ModelFiles, ModelKind, ModelParams, Side};
use gramrec_data::synth::{SynthSpec, Synthetic};
use gramrec_eval::topn::{for_all_users, open_scorer};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::cli::BenchArgs;
use crate::output::{emit, emit_json, BenchIteration, BenchReport, TopNBenchReport};
use crate::progress::Progress;

pub fn run(a: BenchArgs) -> Result<()> {
    if a.recommend_all {
        return recommend_all(&a);
    }
    let kind = a.kind;
    let log = Progress::lines(a.json);
    let start = Instant::now();
    let spec = SynthSpec::new(a.users, a.items, a.nnz, kind, a.seed);
    spec.validate()?;
    memory::check("generating the data", spec.memory_estimate(), crate::env::memory_limit()?)?;
    let syn = Synthetic::generate(spec);
    let data = syn.dataset(|_| true)?;
    let gen_seconds = start.elapsed().as_secs_f64();
    log.log(format!(
        "synthetic {kind} data: {} users × {} items, {} interactions (generated in {gen_seconds:.1} s)",
        data.users.len(),
        data.items.len(),
        data.nnz()
    ));
    let config = TrainConfig {
        params: ModelParams { factors: a.factors, ..ModelParams::for_kind(kind) },
        iterations: a.iterations,
        solver: a.solver.options(),
        seed: a.seed,
        threads: a.device.threads,
        device: a.device.device,
        gpu: a.device.gpu_options()?,
        ..TrainConfig::for_kind(kind)
    };
    let d = config.params.dim();
    let nnz = data.nnz();
    let (nu, ni) = (data.users.len(), data.items.len());
    let flops_users = half_iteration_flops(kind, config.solver, nu, ni, nnz, d);
    let flops_items = half_iteration_flops(kind, config.solver, ni, nu, nnz, d);
    let gflops = |flops: f64, secs: f64| flops / secs.max(1e-12) / 1e9;
    let row = |r: &IterationReport| {
        let build = r.users.build + r.items.build;
        let solve = r.users.solve + r.items.solve;
        BenchIteration {
            iteration: r.into(),
            build_seconds: build,
            solve_seconds: solve,
            build_gflops: gflops(flops_users.0 + flops_items.0, build),
            solve_gflops: gflops(flops_users.1 + flops_items.1, solve),
        }
    };
    let progress = Progress::bar(a.iterations as u64, "bench", a.json);
    let model = gramrec_als::train(&data, &config, &mut |event| {
        let r = match event {
            TrainEvent::Device(notice) => {
                progress.log(notice.to_string());
                return Ok(());
            }
            TrainEvent::Iteration(r, _) => r,
        };
        let b = row(r);
        progress.log(format!(
            "iteration {:>2}: {:.3} s  (build {:.3} s, {:.1} GFLOP/s; solve {:.3} s, {:.1} GFLOP/s)",
            r.iteration, r.seconds, b.build_seconds, b.build_gflops, b.solve_seconds, b.solve_gflops
        ));
        progress.step();
        Ok(())
    })?;
    progress.finish();
    let mut secs: Vec<f64> = model.history.iter().map(|r| r.seconds).collect();
    secs.sort_by(f64::total_cmp);
    let median = secs.get(secs.len() / 2).copied().unwrap_or(0.0);
    if a.json {
        return emit_json(&BenchReport {
            device: model.device.clone(),
            kind,
            users: nu,
            items: ni,
            interactions: nnz,
            factors: a.factors,
            solver: config.solver,
            median_seconds_per_iteration: median,
            iterations: model.history.iter().map(row).collect(),
        });
    }
    emit(&format!(
        "{kind} ALS, {} factors, {} solver on {}: median {median:.3} s per iteration over {} iterations\n",
        a.factors, config.solver.solver, model.device, a.iterations
    ))
}

/// Times top-k for every user on random factors.
fn recommend_all(a: &BenchArgs) -> Result<()> {
    super::at_least_one("--k", a.k)?;
    for (flag, n) in [("--users", a.users), ("--items", a.items), ("--factors", a.factors)] {
        super::at_least_one(flag, n)?;
    }
    if a.factors > gramrec_core::MAX_FACTORS {
        return Err(gramrec_core::Error::Argument(format!(
            "--factors must be between 1 and {}, not {}",
            gramrec_core::MAX_FACTORS,
            a.factors
        ))
        .into());
    }
    // Both sides' factors, twice (the files and the scoring panels).
    let bytes = (a.users as u64 + a.items as u64).saturating_mul(a.factors as u64).saturating_mul(8);
    memory::check("the random factors", bytes, crate::env::memory_limit()?)?;
    let params = ModelParams { factors: a.factors, reg: 1.0, ..ModelParams::for_kind(ModelKind::Implicit) };
    let mut rng = ChaCha8Rng::seed_from_u64(a.seed);
    let mut file = |side, rows: usize| {
        let values: Vec<f32> = (0..rows * a.factors).map(|_| rng.sample::<f32, _>(StandardNormal)).collect();
        FactorFile {
            meta: Metadata {
                side,
                params,
                global_mean: 0.0,
                rating_min: 0.0,
                rating_max: 1.0,
                training: Default::default(),
            },
            ids: (0..rows).map(|i| i.to_string()).collect(),
            gram: (side == Side::Items).then(|| gramrec_core::linalg::gram_matrix(&values, a.factors)),
            factors: Factors::F32(values),
            biases: None,
            popularity: None,
            info: None,
            seen: None,
            prior: None,
        }
    };
    let (users, mut items) = (file(Side::Users, a.users), file(Side::Items, a.items));
    items.popularity = Some((0..a.items as u32).map(|i| a.items as u32 - i).collect());
    if let Some(path) = &a.write_items {
        gramrec_store::write_factor_file(path, &items)?;
    }
    let model = Model::new(ModelFiles { users, items }).map_err(gramrec_core::Error::Scoring)?;
    let progress = Progress::bar(a.users as u64, "recommending", a.json);
    let seen = Default::default();
    let scorer = open_scorer(&model, a.k, &seen, a.device.device, a.device.gpu_options()?, &mut |m| progress.log(m))?;
    let device =
        scorer.as_ref().map_or_else(|| format!("cpu ({} threads)", rayon::current_num_threads()), |s| s.describe());
    let start = Instant::now();
    let mut lists = 0usize;
    for_all_users(
        &model,
        a.k,
        &seen,
        scorer.as_deref(),
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
        return emit_json(&TopNBenchReport {
            users: a.users,
            items: a.items,
            factors: a.factors,
            k: a.k,
            seconds,
            gflops,
            threads: rayon::current_num_threads(),
            device,
        });
    }
    emit(&format!(
        "top {} for {} users × {} items × {} factors on {device}: {seconds:.1} s ({:.0} users/s, {gflops:.1} GFLOP/s), \
         {lists} full lists\n",
        a.k, a.users, a.items, a.factors, a.users as f64 / seconds
    ))
}
