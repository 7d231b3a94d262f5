//! The GPU backend against the CPU backend, on whatever adapter the machine
//! has (in CI: Mesa's lavapipe, installed by tests/run-all.sh). These tests
//! fail, rather than skip, when no adapter can be opened.
//!
//! Tolerances: one half-iteration from the same start agrees to 2e-4 of the
//! largest factor (f32 sums in a different order); whole trainings give
//! predictions within 1e-3 of the prediction scale and metrics within 0.5%.
//!
//! Compiled with the `gpu-tests` feature (tests/run-all.sh turns it on), so
//! that `cargo test` passes on a machine without any Vulkan driver.
#![cfg(feature = "gpu-tests")]

use gramrec_als::backend::gpu::GpuBackend;
use gramrec_als::backend::{Backend, CpuBackend, Problem, TopKTable};
use gramrec_als::driver::{global_mean, initial_factors, Start};
use gramrec_als::{Device, Fault, GpuOptions, GpuStorage, Method, TrainConfig, Trained};
use gramrec_core::{Confidence, Dtype, Model, ModelKind, ModelParams, RegScaling, Side, Solver, SolverOptions};
use gramrec_data::synth::{SynthSpec, Synthetic};
use gramrec_data::{Csr, Dataset};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// IDs for `n` rows: "0", "1", …
fn numbered(n: usize) -> Vec<String> {
    (0..n).map(|i| i.to_string()).collect()
}

fn params(kind: ModelKind, factors: usize, biases: bool) -> ModelParams {
    let reg = if kind == ModelKind::Explicit { 0.05 } else { 2.0 };
    ModelParams { factors, reg, alpha: 4.0, biases, ..ModelParams::for_kind(kind) }
}

fn solver(solver: Solver) -> SolverOptions {
    SolverOptions { solver, cg_steps: 3 }
}

/// An ALS problem on `data` (μ the mean rating for explicit models with biases).
fn als_problem(data: &Dataset, p: ModelParams, solver: Solver) -> Problem<'_> {
    Problem { method: Method::Als, data, params: p, solver: self::solver(solver), global_mean: global_mean(data, &p) }
}

fn software() -> GpuOptions {
    GpuOptions { allow_software: true, ..GpuOptions::default() }
}

/// Random data with the awkward cases: users and items without
/// interactions, one user who rated every item, one item every user rated.
fn awkward_data(users: usize, items: usize, per_user: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut u, mut i, mut v) = (Vec::new(), Vec::new(), Vec::new());
    let mut add = |user: usize, item: usize, rng: &mut ChaCha8Rng| {
        u.push(user as u32);
        i.push(item as u32);
        v.push(rng.random_range(1..=5) as f32);
    };
    for item in 0..items - 3 {
        add(0, item, &mut rng); // the long user row; the last 3 items stay empty
    }
    for user in 1..users - 2 {
        add(user, 0, &mut rng); // the long item row; the last 2 users stay empty
        for _ in 0..per_user {
            let item = rng.random_range(1..items - 3);
            add(user, item, &mut rng);
        }
    }
    with_empty_rows(users, items, &u, &i, &v)
}

/// A dataset over exactly `users` × `items` rows, keeping rows without
/// interactions (loading would filter them out).
fn with_empty_rows(users: usize, items: usize, u: &[u32], i: &[u32], v: &[f32]) -> Dataset {
    let by_user = Csr::from_triples(users, items, u, i, v);
    Dataset {
        users: (0..users).map(|k| format!("u{k}")).collect(),
        items: (0..items).map(|k| format!("i{k}")).collect(),
        by_item: by_user.transpose(),
        by_user,
        has_ratings: true,
        stats: Default::default(),
    }
}

fn max_abs(v: &[f32]) -> f32 {
    v.iter().fold(0.0f32, |m, x| m.max(x.abs()))
}

fn assert_close(what: &str, cpu: &[f32], gpu: &[f32], tol: f32) {
    assert_eq!(cpu.len(), gpu.len());
    let scale = max_abs(cpu).max(1e-6);
    let (k, worst) =
        cpu.iter().zip(gpu).map(|(a, b)| (a - b).abs()).enumerate().fold(
            (0, 0.0f32),
            |m, (k, d)| {
                if d > m.1 {
                    (k, d)
                } else {
                    m
                }
            },
        );
    assert!(worst <= tol * scale, "{what}: value {k} differs by {worst} (scale {scale}): {} vs {}", cpu[k], gpu[k]);
}

/// Solves each side once on both backends from the same start and compares
/// the factors and the objective. (From one start only: a few CG steps
/// amplify rounding differences, so sequences drift apart on rows whose
/// systems are ill-conditioned; whole trainings are compared below.)
fn compare_half_iterations(p: ModelParams, solver: Solver, data: &Dataset, options: GpuOptions) {
    const SEED: u64 = 4;
    let items = initial_factors(&data.items, &p, SEED);
    let users = initial_factors(&data.users, &p, SEED + 1);
    let problem = als_problem(data, p, solver);
    let label = format!("{} f={} biases={} {solver}", p.kind, p.factors, p.uses_biases());
    for side in [Side::Users, Side::Items] {
        let mut cpu = CpuBackend::new(problem, users.clone(), items.clone(), 2).unwrap();
        let mut gpu = GpuBackend::new(problem, &users, &items, options)
            .expect("no GPU adapter: apt-get install mesa-vulkan-drivers");
        cpu.solve(side).unwrap();
        gpu.solve(side).unwrap();
        let (cu, ci) = cpu.factors().unwrap();
        let (gu, gi) = gpu.factors().unwrap();
        assert_close(&format!("{label}, users after solving {side:?}"), &cu, &gu, 2e-4);
        assert_close(&format!("{label}, items after solving {side:?}"), &ci, &gi, 2e-4);
        let (a, b) = (cpu.loss().unwrap(), gpu.loss().unwrap());
        for (name, x, y) in [("data", a.data, b.data), ("regulariser", a.reg, b.reg)] {
            assert!((x - y).abs() <= 1e-4 * x.abs().max(1.0), "{label}: {name} term {x} on the CPU, {y} on the GPU");
        }
    }
}

#[test]
fn cholesky_kernels_match_the_cpu_in_one_batch_and_in_several() {
    let data = awkward_data(150, 90, 12, 1);
    for options in [software(), GpuOptions { batch_rows: Some(16), ..software() }] {
        compare_half_iterations(params(ModelKind::Explicit, 7, true), Solver::Cholesky, &data, options);
        compare_half_iterations(params(ModelKind::Implicit, 13, false), Solver::Cholesky, &data, options);
    }
    // More than one 64×64 tile per row matrix: 70 factors + bias.
    compare_half_iterations(params(ModelKind::Explicit, 70, true), Solver::Cholesky, &data, software());
}

#[test]
fn frequency_scaled_regularisation_and_the_unobserved_weight_match_the_cpu() {
    // λ·(n + α₀N)^ν: N is the other side's row count, different for each half.
    // (Explicit: λ·n^ν, with λ raised so that ν < 1 leaves the rows as well
    // conditioned as λ·n does in the other tests.)
    let data = awkward_data(150, 90, 12, 5);
    for (kind, reg, unobserved) in
        [(ModelKind::Implicit, 2.0, 0.1), (ModelKind::Implicit, 2.0, 2.5), (ModelKind::Explicit, 0.2, 0.1)]
    {
        let p = ModelParams {
            reg,
            reg_scaling: RegScaling::Frequency,
            reg_exponent: 0.6,
            unobserved,
            ..params(kind, 9, kind == ModelKind::Explicit)
        };
        for solver in [Solver::Cg, Solver::Cholesky] {
            compare_half_iterations(p, solver, &data, software());
        }
    }
}

#[test]
fn every_kernel_fits_webgpu_default_limits() {
    // What the least capable adapter offers: 128 MiB bindings, 8 storage
    // buffers per kernel, 16 KiB of workgroup memory, 256 threads.
    let data = awkward_data(150, 90, 12, 7);
    let webgpu = GpuOptions { webgpu_limits: true, ..software() };
    for (p, solver) in [
        (params(ModelKind::Implicit, 256, false), Solver::Cg),
        (params(ModelKind::Explicit, 256, true), Solver::Cg),
        (params(ModelKind::Explicit, 64, true), Solver::Cholesky),
    ] {
        compare_half_iterations(p, solver, &data, webgpu);
    }
}

#[test]
fn conjugate_gradient_kernel_matches_the_cpu() {
    let data = awkward_data(150, 90, 12, 2);
    compare_half_iterations(params(ModelKind::Explicit, 9, true), Solver::Cg, &data, software());
    compare_half_iterations(params(ModelKind::Explicit, 5, false), Solver::Cg, &data, software());
    // More than 64 unknowns: each thread owns two elements; YᵀY spans two tiles.
    compare_half_iterations(params(ModelKind::Implicit, 65, false), Solver::Cg, &data, software());
    // More than 128 unknowns: interactions staged 8 at a time instead of 16.
    compare_half_iterations(params(ModelKind::Explicit, 130, true), Solver::Cg, &data, software());
    let log = ModelParams { confidence: Confidence::Log, epsilon: 0.5, ..params(ModelKind::Implicit, 11, false) };
    compare_half_iterations(log, Solver::Cg, &data, software());
}

#[test]
fn gram_kernel_sums_several_chunks() {
    // 3,000 items: YᵀY in three partial sums of at least 1,024 rows.
    let data = awkward_data(400, 3_000, 6, 3);
    compare_half_iterations(params(ModelKind::Implicit, 6, false), Solver::Cg, &data, software());
}

fn config(p: ModelParams, solver: Solver, iterations: usize, seed: u64, device: Device) -> TrainConfig {
    TrainConfig {
        params: p,
        iterations,
        solver: self::solver(solver),
        seed,
        threads: 2,
        device,
        ..TrainConfig::for_kind(p.kind)
    }
}

fn train(data: &Dataset, p: ModelParams, solver: Solver, device: Device) -> Trained {
    gramrec_als::train(data, &config(p, solver, 8, 7, device), &mut |_| Ok(())).unwrap()
}

fn model(data: &Dataset, t: &Trained) -> Model {
    Model::new(t.files(data, Dtype::F32)).unwrap()
}

/// Every user's predicted score for every item.
fn predictions(m: &Model, users: usize) -> Vec<f32> {
    let mut out = Vec::new();
    for u in 0..users {
        let x = m.user(&format!("u{u}")).unwrap();
        out.extend((0..m.items.len()).map(|i| m.items.predict(&x, i).unwrap()));
    }
    out
}

/// Held-out RMSE (explicit) or the share of held-out interactions in the
/// user's top 10 among unseen items (implicit).
fn held_out_metric(syn: &Synthetic, m: &Model, held_out: impl Fn(usize) -> bool) -> f64 {
    let mut seen = vec![Vec::new(); syn.spec.users];
    for k in (0..syn.len()).filter(|&k| !held_out(k)) {
        seen[syn.user[k] as usize].push(m.items.index_of(&format!("i{}", syn.item[k])).unwrap());
    }
    let (mut total, mut n) = (0.0f64, 0usize);
    for k in (0..syn.len()).filter(|&k| held_out(k)) {
        let (Some(x), Some(i)) = (m.user(&format!("u{}", syn.user[k])), m.items.index_of(&format!("i{}", syn.item[k])))
        else {
            continue;
        };
        n += 1;
        total += match syn.spec.kind {
            ModelKind::Explicit => ((m.items.predict(&x, i).unwrap() - syn.value[k]) as f64).powi(2),
            ModelKind::Implicit => {
                let top = m.items.recommend(&x, 10, &seen[syn.user[k] as usize]).unwrap();
                f64::from(top.iter().any(|r| m.items.index_of(&r.item) == Some(i)))
            }
        };
    }
    match syn.spec.kind {
        ModelKind::Explicit => (total / n as f64).sqrt(),
        ModelKind::Implicit => total / n as f64,
    }
}

#[test]
fn whole_trainings_agree_with_the_cpu_for_both_kinds_and_solvers() {
    let held_out = |k: usize| k.is_multiple_of(5);
    for kind in [ModelKind::Explicit, ModelKind::Implicit] {
        let syn = Synthetic::generate(SynthSpec { rank: 4, ..SynthSpec::new(300, 200, 9_000, kind, 12) });
        let data = syn.dataset(|k| !held_out(k)).unwrap();
        let p = params(kind, 10, true);
        for solver in [Solver::Cholesky, Solver::Cg] {
            let cpu = model(&data, &train(&data, p, solver, Device::Cpu));
            let gpu_run = train(&data, p, solver, Device::Gpu);
            assert!(gpu_run.device.starts_with("gpu"), "trained on {}", gpu_run.device);
            let gpu = model(&data, &gpu_run);
            let label = format!("{kind} {solver}");
            // Three CG steps a row amplify rounding differences on ill-conditioned
            // rows (docs/GPU.md: worst 2.7e-3 over 12 seeds measured).
            let tol = if solver == Solver::Cg { 5e-3 } else { 1e-3 };
            assert_close(&label, &predictions(&cpu, 300), &predictions(&gpu, 300), tol);
            let (a, b) = (held_out_metric(&syn, &cpu, held_out), held_out_metric(&syn, &gpu, held_out));
            assert!((a - b).abs() <= 0.005 * a, "{label}: held-out metric {a} on the CPU, {b} on the GPU");
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_gpu_model() {
    let syn = Synthetic::generate(SynthSpec::new(200, 150, 4_000, ModelKind::Implicit, 13));
    let data = syn.dataset(|_| true).unwrap();
    let p = params(ModelKind::Implicit, 8, false);
    let a = train(&data, p, Solver::Cg, Device::Gpu);
    let b = train(&data, p, Solver::Cg, Device::Gpu);
    assert_eq!(a.users, b.users);
    assert_eq!(a.items, b.items);
}

#[test]
fn too_many_factors_and_a_lost_device_are_clear_errors() {
    let data = awkward_data(20, 15, 3, 5);
    let p = params(ModelKind::Implicit, 257, false);
    let problem = Problem { method: Method::Als, data: &data, params: p, solver: solver(Solver::Cg), global_mean: 0.0 };
    let (users, items) = (vec![0.0; 20 * 257], vec![0.1; 15 * 257]);
    let e = GpuBackend::new(problem, &users, &items, software()).err().unwrap().to_string();
    assert!(e.contains("at most 256 factors"), "{e}");

    let p = params(ModelKind::Implicit, 4, false);
    let problem = Problem { params: p, ..problem };
    let (users, items) = (vec![0.0; 20 * 4], vec![0.1; 15 * 4]);
    let options = GpuOptions { fault: Some(Fault::LoseDevice(2)), ..software() };
    let mut gpu = GpuBackend::new(problem, &users, &items, options).unwrap();
    gpu.solve(Side::Users).unwrap();
    let e = gpu.solve(Side::Items).unwrap_err().to_string();
    assert!(e.contains("device was lost"), "{e}");
}

#[test]
fn a_singular_system_names_the_row() {
    // λ = 0 and a user with one rating under 3 factors: not positive definite.
    let data = awkward_data(20, 15, 1, 6);
    let p = ModelParams { reg: 0.0, ..params(ModelKind::Explicit, 3, false) };
    let problem =
        Problem { method: Method::Als, data: &data, params: p, solver: solver(Solver::Cholesky), global_mean: 0.0 };
    const SEED: u64 = 1;
    let items = initial_factors(&numbered(15), &p, SEED);
    let mut gpu = GpuBackend::new(problem, &vec![0.0; 20 * 3], &items, software()).unwrap();
    let e = gpu.solve(Side::Users).unwrap_err().to_string();
    assert!(e.contains("solving user") && e.contains("not positive definite"), "{e}");
}

#[test]
fn more_rows_than_one_dispatch_dimension_holds() {
    // 70,000 users (more than 65,535 workgroups: a two-dimensional dispatch),
    // most without interactions: every one of them must be solved (here:
    // zeroed), wherever it lands in the grid.
    let users = 70_000;
    let u: Vec<u32> = (0..300).map(|k| k * 7).collect();
    let i: Vec<u32> = (0..300).map(|k| k % 11).collect();
    let data = with_empty_rows(users, 11, &u, &i, &[1.0; 300]);
    let p = params(ModelKind::Implicit, 4, false);
    let problem = Problem { method: Method::Als, data: &data, params: p, solver: solver(Solver::Cg), global_mean: 0.0 };
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    const SEED: u64 = 2;
    let start_users: Vec<f32> = (0..users * 4).map(|_| rng.random_range(0.5..1.0)).collect();
    let items = initial_factors(&numbered(11), &p, SEED);
    let mut cpu = CpuBackend::new(problem, start_users.clone(), items.clone(), 2).unwrap();
    let mut gpu = GpuBackend::new(problem, &start_users, &items, software()).unwrap();
    cpu.solve(Side::Users).unwrap();
    gpu.solve(Side::Users).unwrap();
    let (cu, _) = cpu.factors().unwrap();
    let (gu, _) = gpu.factors().unwrap();
    assert!(data.by_user.degree(users - 1) == 0 && cu[(users - 1) * 4..].iter().all(|&x| x == 0.0));
    let untouched = gu.iter().zip(&start_users).filter(|(g, s)| g == s).count();
    assert_eq!(untouched, 0, "{untouched} user factors were not solved");
    assert_close("70,000 users", &cu, &gu, 2e-4);
}

#[test]
fn resuming_on_the_gpu_gives_the_uninterrupted_result() {
    let syn = Synthetic::generate(SynthSpec::new(200, 150, 4_000, ModelKind::Explicit, 14));
    let data = syn.dataset(|_| true).unwrap();
    let config =
        |iterations| config(params(ModelKind::Explicit, 6, true), Solver::Cholesky, iterations, 2, Device::Gpu);
    let whole = gramrec_als::train(&data, &config(4), &mut |_| Ok(())).unwrap();
    let half = gramrec_als::train(&data, &config(2), &mut |_| Ok(())).unwrap();
    let start = Start { iteration: 2, users: half.users, items: half.items };
    let resumed = gramrec_als::train_from(&data, &config(4), Some(start), &mut |_| Ok(())).unwrap();
    assert_eq!(whole.users, resumed.users);
    assert_eq!(whole.items, resumed.items);
}

/// One user with `n` interactions (items repeat), 59 others with 5 each.
fn one_long_row(n: u32) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let (mut u, mut i, mut v) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..n {
        u.push(0);
        i.push(k % 40);
        v.push(rng.random_range(1..=5) as f32);
    }
    for user in 1..60u32 {
        for _ in 0..5 {
            u.push(user);
            i.push(rng.random_range(0..40));
            v.push(rng.random_range(1..=5) as f32);
        }
    }
    with_empty_rows(60, 40, &u, &i, &v)
}

#[test]
fn a_long_row_matches_the_cpu() {
    let data = one_long_row(2_000);
    compare_half_iterations(params(ModelKind::Implicit, 16, false), Solver::Cg, &data, software());
    compare_half_iterations(params(ModelKind::Explicit, 8, true), Solver::Cholesky, &data, software());
}

#[test]
fn a_row_of_a_hundred_thousand_is_solved_on_a_gpu_and_refused_by_lavapipe() {
    let data = one_long_row(100_000);
    let p = params(ModelKind::Implicit, 16, false);
    let software_driver = gramrec_als::backend::gpu::Gpu::open(software()).unwrap().is_software();
    if software_driver {
        // lavapipe would cut the kernels' loops short and return wrong factors.
        let problem =
            Problem { method: Method::Als, data: &data, params: p, solver: solver(Solver::Cg), global_mean: 0.0 };
        let (users, items) = (vec![0.0; 60 * 16], vec![0.1; 40 * 16]);
        let e = GpuBackend::new(problem, &users, &items, software()).err().unwrap().to_string();
        assert!(e.contains("stops shader loops after 65535 iterations") && e.contains("100000 interactions"), "{e}");
    } else {
        compare_half_iterations(p, Solver::Cg, &data, software());
    }
}

/// Both sides solved `halves` times from the same start with `options`: the
/// factors and the last objective.
fn gpu_run(
    p: ModelParams,
    solver: Solver,
    data: &Dataset,
    options: GpuOptions,
    halves: usize,
) -> (Vec<f32>, Vec<f32>, f64) {
    const SEED: u64 = 9;
    let items = initial_factors(&data.items, &p, SEED);
    let users = initial_factors(&data.users, &p, SEED + 1);
    let problem = als_problem(data, p, solver);
    let mut gpu = GpuBackend::new(problem, &users, &items, options).unwrap();
    for h in 0..halves {
        gpu.solve(if h % 2 == 0 { Side::Users } else { Side::Items }).unwrap();
    }
    let loss = gpu.loss().unwrap().total();
    let (u, i) = gpu.factors().unwrap();
    (u, i, loss)
}

#[test]
fn chunked_and_streamed_interactions_give_the_resident_result() {
    // 37 interactions per chunk divides neither side's data, and the long
    // user row (87 interactions) and the long item row (147) are each longer
    // than a chunk: they get chunks of their own.
    let data = awkward_data(150, 90, 12, 11);
    let chunked = GpuOptions { chunk_interactions: Some(37), ..software() };
    let streamed = GpuOptions { stream: true, ..chunked };
    for (p, solver) in [
        (params(ModelKind::Explicit, 7, true), Solver::Cholesky),
        (params(ModelKind::Implicit, 13, false), Solver::Cholesky),
        (params(ModelKind::Explicit, 9, true), Solver::Cg),
        (params(ModelKind::Implicit, 65, false), Solver::Cg),
    ] {
        let label = format!("{} {solver}", p.kind);
        let whole = gpu_run(p, solver, &data, software(), 4);
        for (name, options) in [("chunked", chunked), ("streamed", streamed)] {
            let cut = gpu_run(p, solver, &data, GpuOptions { batch_rows: Some(5), ..options }, 4);
            // Each row's arithmetic is the same wherever its chunk is: equal bits.
            assert_eq!(whole.0, cut.0, "{label}: user factors {name}");
            assert_eq!(whole.1, cut.1, "{label}: item factors {name}");
            // The objective's partial sums are grouped by chunk.
            assert!(
                (whole.2 - cut.2).abs() <= 1e-5 * whole.2.abs(),
                "{label}: objective {} vs {name} {}",
                whole.2,
                cut.2
            );
        }
        compare_half_iterations(p, solver, &data, chunked);
    }
    let backend = |options| {
        let p = params(ModelKind::Implicit, 4, false);
        let problem =
            Problem { method: Method::Als, data: &data, params: p, solver: solver(Solver::Cg), global_mean: 0.0 };
        let (users, items) = (vec![0.1; 150 * 4], vec![0.1; 90 * 4]);
        GpuBackend::new(problem, &users, &items, options).unwrap().summary()
    };
    let summary = backend(streamed);
    assert!(summary.contains("chunks") && summary.contains("streamed from host memory"), "{summary}");
    assert!(!backend(software()).contains("chunks"));
}

#[test]
fn a_memory_limit_streams_the_interactions_or_refuses_the_run() {
    let data = awkward_data(150, 90, 12, 12);
    let p = params(ModelKind::Implicit, 8, false);
    let problem = Problem { method: Method::Als, data: &data, params: p, solver: solver(Solver::Cg), global_mean: 0.0 };
    let (users, items) = (vec![0.1; 150 * 8], vec![0.1; 90 * 8]);
    let open = |options: GpuOptions| {
        let options = GpuOptions { chunk_interactions: Some(200), ..options };
        GpuBackend::new(problem, &users, &items, options)
    };
    let resident = open(software()).unwrap().memory();
    let streamed = open(GpuOptions { stream: true, ..software() }).unwrap().memory();
    assert!(streamed < resident, "streamed {streamed} B, resident {resident} B");
    let limited = |limit| open(GpuOptions { memory_limit: Some(limit), ..software() });
    let fits = limited(resident).unwrap().summary();
    assert!(!fits.contains("streamed"), "{fits}");
    let tight = limited(resident - 1).unwrap().summary();
    assert!(tight.contains("streamed from host memory"), "{tight}");
    assert_eq!(limited(streamed).unwrap().memory(), streamed);
    let e = limited(streamed - 1).err().unwrap().to_string();
    assert!(
        e.contains("streaming the interactions from host memory would need") && e.contains("`gpu_storage=f16`"),
        "{e}"
    );
}

/// Factors rounded to f16 and back, as `--gpu-storage f16` stores them.
fn rounded(v: &[f32]) -> Vec<f32> {
    v.iter().map(|&x| half::f16::from_f32(x).to_f32()).collect()
}

#[test]
fn f16_factor_storage_matches_the_cpu_within_f16_rounding() {
    // One half-iteration from the same (f16-representable) start: the GPU's
    // f32 arithmetic, then each stored value rounded to f16 (relative error
    // ≤ 2⁻¹¹ ≈ 4.9e-4).
    let data = awkward_data(150, 90, 12, 13);
    let half = GpuOptions { storage: GpuStorage::F16, ..software() };
    for (p, solver) in [
        (params(ModelKind::Explicit, 9, true), Solver::Cholesky),
        (params(ModelKind::Implicit, 13, false), Solver::Cg),
        (params(ModelKind::Explicit, 130, true), Solver::Cg),
    ] {
        const SEED: u64 = 4;
        let items = rounded(&initial_factors(&data.items, &p, SEED));
        let users = rounded(&initial_factors(&data.users, &p, SEED + 1));
        let problem = Problem {
            method: Method::Als,
            data: &data,
            params: p,
            solver: self::solver(solver),
            global_mean: global_mean(&data, &p),
        };
        let mut cpu = CpuBackend::new(problem, users.clone(), items.clone(), 2).unwrap();
        let mut gpu = GpuBackend::new(problem, &users, &items, half).unwrap();
        assert!(gpu.summary().contains("f16 factors"));
        cpu.solve(Side::Users).unwrap();
        gpu.solve(Side::Users).unwrap();
        let ((cu, ci), (gu, gi)) = (cpu.factors().unwrap(), gpu.factors().unwrap());
        assert_eq!(gu, rounded(&gu), "the GPU's factors are f16 values");
        assert_eq!(ci, gi, "the fixed side comes back as it went in");
        assert_close(&format!("{} {solver} f16", p.kind), &cu, &gu, 1e-3);
    }

    // Whole trainings: f16 storage against f32, held-out quality within 0.5%.
    for kind in [ModelKind::Explicit, ModelKind::Implicit] {
        let held_out = |k: usize| k.is_multiple_of(5);
        let syn = Synthetic::generate(SynthSpec { rank: 4, ..SynthSpec::new(300, 200, 9_000, kind, 15) });
        let data = syn.dataset(|k| !held_out(k)).unwrap();
        let p = params(kind, 10, true);
        let run = |storage| {
            let mut c = config(p, Solver::Cg, 8, 7, Device::Gpu);
            c.gpu = GpuOptions { storage, ..c.gpu };
            model(&data, &gramrec_als::train(&data, &c, &mut |_| Ok(())).unwrap())
        };
        let (full, half) = (run(GpuStorage::F32), run(GpuStorage::F16));
        assert_close(&format!("{kind} f16 predictions"), &predictions(&full, 300), &predictions(&half, 300), 2e-2);
        let (a, b) = (held_out_metric(&syn, &full, held_out), held_out_metric(&syn, &half, held_out));
        assert!((a - b).abs() <= 0.005 * a, "{kind}: held-out metric {a} with f32 factors, {b} with f16");
    }
}

/// The GPU's top k against the CPU's for every user: the same items in the
/// same order, except where two scores are within rounding of each other,
/// and the same scores within 1e-5 of the largest.
fn compare_top_k(m: &Model, data: &Dataset, k: usize, include_seen: bool) {
    use gramrec_als::backend::TopKScorer;
    let (rows, offsets) = m.items.scoring_terms();
    let f = m.items.meta().params.factors;
    let seen: Vec<Vec<usize>> = (0..data.users.len())
        .map(|u| {
            let (cols, _) = data.by_user.row(u);
            let ids = cols.iter().map(|&c| m.items.index_of(&data.items[c as usize]).unwrap());
            if include_seen {
                Vec::new()
            } else {
                ids.rev().collect() // any order
            }
        })
        .collect();
    let longest = seen.iter().map(Vec::len).max().unwrap();
    let table = TopKTable { items: &rows, factors: f, offsets, k, longest_seen: longest };
    let scorer = gramrec_als::backend::gpu::GpuTopK::new(table, software()).unwrap();
    let users: Vec<_> = (0..data.users.len()).map(|u| m.user(&data.users[u]).unwrap()).collect();
    let vectors: Vec<f32> = users.iter().flat_map(|x| x.0[..f].to_vec()).collect();
    let constants: Vec<f32> = users.iter().map(|x| m.items.user_constant(x).unwrap()).collect();
    let excludes: Vec<&[usize]> = seen.iter().map(Vec::as_slice).collect();
    let gpu = scorer.top_k(&vectors, &constants, &excludes).unwrap();
    let refs: Vec<_> = users.iter().collect();
    let cpu = m.items.recommend_block(&refs, k, &excludes).unwrap();
    let scale = cpu.iter().flatten().fold(0.0f32, |a, r| a.max(r.score.abs())).max(1e-6);
    let label = format!("{} k={k}", m.items.meta().params.kind);
    for (u, (g, c)) in gpu.iter().zip(&cpu).enumerate() {
        assert_eq!(g.len(), c.len(), "{label}: user {u}'s list");
        for (rank, ((gi, gs), cr)) in g.iter().zip(c).enumerate() {
            let ci = m.items.index_of(&cr.item).unwrap();
            let raw = m.items.predict(&users[u], ci).unwrap();
            assert!((gs - raw).abs() <= 1e-5 * scale, "{label}: user {u} rank {rank}: score {gs} vs {raw}");
            if *gi != ci {
                let other = m.items.predict(&users[u], *gi).unwrap();
                assert!((other - raw).abs() <= 1e-5 * scale, "{label}: user {u} rank {rank}: item {gi} vs {ci}");
            }
            assert!(!seen[u].contains(gi), "{label}: user {u} got a seen item");
        }
    }
}

#[test]
fn top_k_on_the_gpu_equals_the_cpu() {
    // 300 users and 200 items: neither a multiple of the 64-wide tiles.
    for kind in [ModelKind::Explicit, ModelKind::Implicit] {
        let syn = Synthetic::generate(SynthSpec { rank: 4, ..SynthSpec::new(300, 200, 9_000, kind, 16) });
        let data = syn.dataset(|_| true).unwrap();
        let m = model(&data, &train(&data, params(kind, 10, true), Solver::Cg, Device::Cpu));
        for (k, include_seen) in [(10, false), (1, false), (50, true), (128, false)] {
            compare_top_k(&m, &data, k, include_seen);
        }
    }
    // 2,000 items, 64 factors, top 128: lavapipe's loop limit splits the
    // items into ranges whose candidates are merged.
    let syn = Synthetic::generate(SynthSpec::new(100, 2_000, 6_000, ModelKind::Implicit, 17));
    let data = syn.dataset(|_| true).unwrap();
    let m = model(&data, &train(&data, params(ModelKind::Implicit, 64, false), Solver::Cg, Device::Cpu));
    compare_top_k(&m, &data, 128, false);
    let table = TopKTable { items: &[0.0; 8], factors: 4, offsets: None, k: 129, longest_seen: 0 };
    let e = gramrec_als::backend::gpu::GpuTopK::new(table, software()).err().unwrap();
    assert!(e.to_string().contains("at most 128 items per user"), "{e}");
}

/// Bayesian PMF's rows drawn on the GPU (`wgsl/cholesky.wgsl` with
/// `philox.wgsl`) against the CPU's: the same generator, keys, priors and τ,
/// so one sweep from the same start — rows without interactions drawn from
/// the prior alone included — agrees to f32 sums in another order and to
/// WGSL's log, sin and cos; whole chains give predictions and held-out RMSE
/// as close as whole ALS trainings do, and the same learned noise.
#[test]
fn bayes_draws_rows_on_the_gpu_as_on_the_cpu() {
    let bayes = |p: ModelParams, samples, burn_in, device| TrainConfig {
        method: Method::Bayes,
        bayes: gramrec_als::BayesOptions { samples, burn_in },
        ..config(p, Solver::Cholesky, 1, 3, device)
    };
    let run = |data: &Dataset, c: TrainConfig| gramrec_als::train(data, &c, &mut |_| Ok(())).unwrap();
    let data = awkward_data(60, 40, 12, 5);
    // 6 factors; 130 (threads with several elements each) under WebGPU's default limits.
    let webgpu = GpuOptions { webgpu_limits: true, ..software() };
    for (factors, options) in [(6, software()), (130, webgpu)] {
        let p = params(ModelKind::Explicit, factors, true);
        let cpu = run(&data, bayes(p, 1, 0, Device::Cpu));
        let gpu = run(&data, TrainConfig { gpu: options, ..bayes(p, 1, 0, Device::Gpu) });
        assert!(gpu.device.starts_with("gpu"), "drawn on {}", gpu.device);
        for (name, a, b) in [("users", &cpu.users, &gpu.users), ("items", &cpu.items, &gpu.items)] {
            let scale = a.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let worst = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
            assert!(worst <= 2e-4 * scale, "{factors} factors, {name}: one sweep differs by {worst} (of {scale})");
        }
        assert_eq!(data.by_user.degree(59), 0);
        let empty_user = &gpu.users[59 * p.dim()..60 * p.dim()];
        assert!(empty_user.iter().any(|&v| v != 0.0), "a user without ratings is drawn from the prior");
    }

    let held_out = |k: usize| k.is_multiple_of(5);
    let syn = Synthetic::generate(SynthSpec { rank: 4, ..SynthSpec::new(300, 200, 9_000, ModelKind::Explicit, 12) });
    let data = syn.dataset(|k| !held_out(k)).unwrap();
    let p = params(ModelKind::Explicit, 10, true);
    let (cpu_run, gpu_run) = (run(&data, bayes(p, 30, 10, Device::Cpu)), run(&data, bayes(p, 30, 10, Device::Gpu)));
    let (cpu, gpu) = (model(&data, &cpu_run), model(&data, &gpu_run));
    assert_close("bayes", &predictions(&cpu, 300), &predictions(&gpu, 300), 1e-3);
    let (a, b) = (held_out_metric(&syn, &cpu, held_out), held_out_metric(&syn, &gpu, held_out));
    assert!((a - b).abs() <= 0.005 * a, "held-out RMSE {a} on the CPU, {b} on the GPU");
    let (ta, tb) = (cpu_run.prior.unwrap().noise, gpu_run.prior.unwrap().noise);
    assert!((ta / tb - 1.0).abs() < 0.01, "noise precision {ta} on the CPU, {tb} on the GPU");
}
