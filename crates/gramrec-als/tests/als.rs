//! ALS end to end on synthetic data with a planted low-rank structure.

use gramrec_als::backend::{Backend, CpuBackend, Problem};
use gramrec_als::driver::{global_mean, initial_factors};
use gramrec_als::{Device, Method, TrainConfig, TrainEvent};
use gramrec_core::{Dtype, Error, Model, ModelKind, ModelParams, Side, Solver, SolverOptions};
use gramrec_data::synth::{SynthSpec, Synthetic};

fn params(kind: ModelKind, factors: usize, reg: f32) -> ModelParams {
    ModelParams { factors, reg, alpha: 10.0, ..ModelParams::for_kind(kind) }
}

fn config(p: ModelParams, solver: Solver, iterations: usize) -> TrainConfig {
    TrainConfig {
        params: p,
        iterations,
        solver: SolverOptions { solver, cg_steps: 3 },
        seed: 3,
        threads: 2,
        device: Device::Cpu,
        ..TrainConfig::for_kind(p.kind)
    }
}

fn model(data: &gramrec_data::Dataset, t: &gramrec_als::Trained) -> Model {
    Model::new(t.files(data, Dtype::F32)).unwrap()
}

/// Holds out every 5th interaction.
fn held_out(k: usize) -> bool {
    k.is_multiple_of(5)
}

#[test]
fn objective_never_increases_between_exact_half_iterations() {
    for kind in [ModelKind::Explicit, ModelKind::Implicit] {
        let syn = Synthetic::generate(SynthSpec::new(150, 120, 3_000, kind, 11));
        let data = syn.dataset(|_| true).unwrap();
        let p = params(kind, 6, 0.05);
        const SEED: u64 = 1;
        let items = initial_factors(&data.items, &p, SEED);
        let users = initial_factors(&data.users, &p, SEED + 1);
        let problem = Problem {
            method: Method::Als,
            data: &data,
            params: p,
            solver: SolverOptions::cholesky(),
            global_mean: global_mean(&data, &p),
        };
        let mut b = CpuBackend::new(problem, users, items, 2).unwrap();
        let mut last = b.loss().unwrap().total();
        for half in 0..12 {
            b.solve(if half % 2 == 0 { Side::Users } else { Side::Items }).unwrap();
            let now = b.loss().unwrap().total();
            assert!(now <= last * (1.0 + 1e-5), "{kind}: objective rose from {last} to {now} at half-iteration {half}");
            last = now;
        }
    }
}

#[test]
fn the_objective_summed_while_solving_equals_the_objective_evaluated_afterwards() {
    for kind in [ModelKind::Explicit, ModelKind::Implicit] {
        for solver in [SolverOptions::cg(3), SolverOptions::cholesky()] {
            let syn = Synthetic::generate(SynthSpec::new(150, 120, 3_000, kind, 13));
            let data = syn.dataset(|_| true).unwrap();
            let p = ModelParams { unobserved: 0.5, ..params(kind, 6, 0.05) };
            const SEED: u64 = 2;
            let items = initial_factors(&data.items, &p, SEED);
            let users = initial_factors(&data.users, &p, SEED + 1);
            let problem =
                Problem { method: Method::Als, data: &data, params: p, solver, global_mean: global_mean(&data, &p) };
            let mut solved = CpuBackend::new(problem, users, items, 2).unwrap();
            solved.solve(Side::Users).unwrap();
            solved.solve(Side::Items).unwrap();
            let fused = solved.loss().unwrap();
            // A fresh backend on the same factors has solved nothing: it evaluates.
            let (users, items) = solved.factors().unwrap();
            let evaluated = CpuBackend::new(problem, users, items, 1).unwrap().loss().unwrap();
            // CG follows each prediction z·x through its steps in f32; the
            // evaluation computes them afresh: equal to f32 rounding.
            for (name, a, b) in [("data", fused.data, evaluated.data), ("regulariser", fused.reg, evaluated.reg)] {
                assert!((a - b).abs() <= 1e-6 * a.abs().max(1.0), "{kind} {}: {name} {a} vs {b}", solver.solver);
            }
            assert!(fused.reg > 0.0 && fused.data > 0.0);
        }
    }
}

#[test]
fn explicit_rmse_on_held_out_pairs_is_near_the_noise_level() {
    // Rank 4 plus biases and noise σ = 0.5, ~150 ratings per user.
    let syn = Synthetic::generate(SynthSpec { rank: 4, ..SynthSpec::new(400, 300, 60_000, ModelKind::Explicit, 5) });
    let train = syn.dataset(|k| !held_out(k)).unwrap();
    for solver in [Solver::Cholesky, Solver::Cg] {
        let trained =
            gramrec_als::train(&train, &config(params(ModelKind::Explicit, 4, 0.02), solver, 12), &mut |_| Ok(()))
                .unwrap();
        let m = model(&train, &trained);
        let mut se = 0.0f64;
        let mut n = 0;
        for k in (0..syn.len()).filter(|&k| held_out(k)) {
            let (u, i) = (format!("u{}", syn.user[k]), format!("i{}", syn.item[k]));
            let (Some(x), Some(i)) = (m.user(&u), m.items.index_of(&i)) else {
                continue;
            };
            let pred = m.items.predict(&x, i).unwrap();
            se += ((pred - syn.value[k]) as f64).powi(2);
            n += 1;
        }
        let rmse = (se / n as f64).sqrt();
        let noise = syn.spec.noise as f64;
        assert!(n > 11_000);
        assert!(rmse <= 1.10 * noise, "{solver}: held-out RMSE {rmse:.4} is not within 10% of the noise {noise}");
    }
}

/// Share of users whose favourite unseen item (by the planted preference) is
/// in the model's top 10 among their unseen items.
fn planted_hit_rate(syn: &Synthetic, m: &Model, seen: &[Vec<usize>]) -> f64 {
    let mut hits = 0;
    let mut users = 0;
    for (u, seen) in seen.iter().enumerate() {
        let Some(x) = m.user(&format!("u{u}")) else {
            continue;
        };
        let unseen = |i: &usize| !seen.contains(i);
        let best = (0..syn.spec.items)
            .filter(unseen)
            .max_by(|&a, &b| syn.interaction_weight(u, a).total_cmp(&syn.interaction_weight(u, b)))
            .unwrap();
        let best_row = m.items.index_of(&format!("i{best}"));
        let exclude: Vec<usize> = seen.iter().filter_map(|i| m.items.index_of(&format!("i{i}"))).collect();
        let top = m.items.recommend(&x, 10, &exclude).unwrap();
        users += 1;
        if best_row.is_some_and(|b| top.iter().any(|r| m.items.index_of(&r.item) == Some(b))) {
            hits += 1;
        }
    }
    hits as f64 / users as f64
}

#[test]
fn implicit_planted_preferences_rank_in_the_top_10() {
    // Uniform popularity (skew 0), so only the planted preferences tell items
    // apart: a popularity ranking finds the favourite for ~4% of users.
    let syn = Synthetic::generate(SynthSpec { skew: 0.0, ..SynthSpec::new(500, 200, 25_000, ModelKind::Implicit, 9) });
    let data = syn.dataset(|_| true).unwrap();
    let mut seen = vec![Vec::new(); syn.spec.users];
    for k in 0..syn.len() {
        seen[syn.user[k] as usize].push(syn.item[k] as usize);
    }
    for solver in [Solver::Cholesky, Solver::Cg] {
        let mut p = params(ModelKind::Implicit, 8, 5.0);
        p.alpha = 5.0;
        let trained = gramrec_als::train(&data, &config(p, solver, 10), &mut |_| Ok(())).unwrap();
        let m = model(&data, &trained);
        let rate = planted_hit_rate(&syn, &m, &seen);
        // A random top 10 of ~150 unseen items would hit ~7% of users.
        assert!(rate >= 0.6, "{solver}: the planted favourite is in the top 10 for only {:.0}% of users", rate * 100.0);
    }
}

#[test]
fn a_model_in_memory_answers_as_its_files_do() {
    // Trained::model skips encoding the factor files; every answer must
    // still be the one the files give: known users, fold-in, similar items.
    for kind in [ModelKind::Explicit, ModelKind::Implicit] {
        let syn = Synthetic::generate(SynthSpec::new(120, 80, 2_400, kind, 4));
        let data = syn.dataset(|_| true).unwrap();
        let trained = gramrec_als::train(&data, &config(params(kind, 6, 0.1), Solver::Cg, 3), &mut |_| Ok(())).unwrap();
        let (memory, files) = (trained.model(&data).unwrap(), model(&data, &trained));
        assert_eq!(memory.user_ids(), files.user_ids());
        for u in 0..memory.user_count() {
            let exclude: Vec<usize> = memory.seen(u).unwrap().iter().map(|&i| i as usize).collect();
            assert_eq!(exclude, files.seen(u).unwrap().iter().map(|&i| i as usize).collect::<Vec<_>>());
            let top = |m: &Model| m.items.recommend(&m.user_at(u), 10, &exclude).unwrap();
            assert_eq!(top(&memory), top(&files), "{kind}: user {u}");
            let history = memory.training_history(u).unwrap();
            assert_eq!(memory.items.fold_in(&history).unwrap(), files.items.fold_in(&history).unwrap());
        }
        for i in 0..memory.items.len() {
            assert_eq!(memory.items.similar(i, 5), files.items.similar(i, 5), "{kind}: item {i}");
        }
        assert_eq!(memory.items.popular(10), files.items.popular(10));
    }
}

#[test]
fn result_does_not_depend_on_thread_count() {
    let syn = Synthetic::generate(SynthSpec::new(300, 200, 6_000, ModelKind::Implicit, 2));
    let data = syn.dataset(|_| true).unwrap();
    let run = |threads| {
        let c = TrainConfig { threads, ..config(params(ModelKind::Implicit, 8, 0.1), Solver::Cg, 3) };
        gramrec_als::train(&data, &c, &mut |_| Ok(())).unwrap()
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.users, two.users);
    assert_eq!(one.items, two.items);
    assert_eq!(one.history.last().unwrap().loss, two.history.last().unwrap().loss);
}

#[test]
fn invalid_parameters_are_refused_naming_the_setting() {
    let syn = Synthetic::generate(SynthSpec::new(20, 20, 100, ModelKind::Implicit, 2));
    let data = syn.dataset(|_| true).unwrap();
    let refused = |c: &TrainConfig| match gramrec_als::train(&data, c, &mut |_| Ok(())) {
        Err(Error::Parameter(p)) => (p.parameter, p.to_string()),
        other => panic!("{:?}", other.map(|_| ())),
    };
    let mut c = config(params(ModelKind::Implicit, 0, 0.1), Solver::Cg, 1);
    assert_eq!(refused(&c), ("factors", "`factors` must be between 1 and 1024, not 0".to_string()));
    c.params.factors = 4;
    c.params.reg_exponent = 3.0;
    c.params.reg_scaling = gramrec_core::RegScaling::Frequency;
    assert_eq!(refused(&c), ("reg_exponent", "`reg_exponent` must be between 0 and 2, not 3".to_string()));
}

#[test]
fn resuming_from_a_checkpoint_gives_the_uninterrupted_result() {
    use gramrec_als::checkpoint;
    let syn = Synthetic::generate(SynthSpec::new(300, 200, 6_000, ModelKind::Explicit, 4));
    let data = syn.dataset(|_| true).unwrap();
    for solver in [Solver::Cg, Solver::Cholesky] {
        let c = config(params(ModelKind::Explicit, 6, 0.1), solver, 6);
        let whole = gramrec_als::train(&data, &c, &mut |_| Ok(())).unwrap();
        let out = tempfile::tempdir().unwrap();
        let stopped = gramrec_als::train(&data, &c, &mut |event| {
            let TrainEvent::Iteration(r, mut snap) = event else { return Ok(()) };
            if r.iteration == 3 {
                checkpoint::write(out.path(), &data, &snap.model()?, 3)?;
            }
            if r.iteration == 4 {
                return Err(Error::Interrupted(4));
            }
            Ok(())
        });
        assert!(matches!(stopped, Err(Error::Interrupted(4))));
        let start = checkpoint::read(out.path(), &data, &c).unwrap();
        assert_eq!(start.iteration, 3);
        let resumed = gramrec_als::train_from(&data, &c, Some(start), &mut |_| Ok(())).unwrap();
        assert_eq!(resumed.history.len(), 3, "iterations 4, 5 and 6");
        assert_eq!(resumed.users, whole.users, "{solver}: user factors differ after resuming");
        assert_eq!(resumed.items, whole.items, "{solver}: item factors differ after resuming");

        // A checkpoint is refused for other settings or other data.
        let other = TrainConfig { seed: 99, ..c };
        assert!(checkpoint::read(out.path(), &data, &other)
            .unwrap_err()
            .to_string()
            .contains("other model or solver settings"));
        let fewer = syn.dataset(|k| k % 10 != 0).unwrap();
        assert!(checkpoint::read(out.path(), &fewer, &c).is_err());
    }
}
