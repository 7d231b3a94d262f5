//! Bayesian PMF (`method = bayes`) end to end on synthetic ratings with a
//! planted low-rank structure.

use gramrec_als::{BayesOptions, Device, Method, Start, TrainConfig, Trained};
use gramrec_core::{Dtype, Model, ModelKind, ModelParams};
use gramrec_data::synth::{SynthSpec, Synthetic};
use gramrec_data::Dataset;

fn config(factors: usize, samples: usize, threads: usize) -> TrainConfig {
    TrainConfig {
        params: ModelParams { factors, ..ModelParams::for_kind(ModelKind::Explicit) },
        method: Method::Bayes,
        bayes: BayesOptions { samples, burn_in: 15 },
        seed: 9,
        threads,
        device: Device::Cpu,
        ..TrainConfig::for_kind(ModelKind::Explicit)
    }
}

fn train(data: &Dataset, c: &TrainConfig) -> Trained {
    gramrec_als::train(data, c, &mut |_| Ok(())).unwrap()
}

/// Rank 4 plus biases and noise σ = 0.5, ~150 ratings per user.
fn planted() -> Synthetic {
    Synthetic::generate(SynthSpec { rank: 4, ..SynthSpec::new(400, 300, 60_000, ModelKind::Explicit, 5) })
}

#[test]
fn planted_ratings_are_recovered_with_nothing_tuned() {
    let syn = planted();
    let train_set = syn.dataset(|k| k % 5 != 0).unwrap();
    // Four times the planted rank: the learned prior keeps the extra factors small.
    let trained = train(&train_set, &config(16, 40, 2));
    assert_eq!(trained.history.len(), 55, "15 sweeps of burn-in and 40 samples");
    let m = Model::new(trained.files(&train_set, Dtype::F32)).unwrap();
    let (mut se, mut n) = (0.0f64, 0);
    for k in (0..syn.len()).filter(|k| k % 5 == 0) {
        let (u, i) = (format!("u{}", syn.user[k]), format!("i{}", syn.item[k]));
        let (Some(x), Some(i)) = (m.user(&u), m.items.index_of(&i)) else { continue };
        se += f64::from(m.items.predict(&x, i).unwrap() - syn.value[k]).powi(2);
        n += 1;
    }
    let (rmse, sigma) = ((se / n as f64).sqrt(), f64::from(syn.spec.noise));
    assert!(n > 11_000);
    assert!(rmse <= 1.10 * sigma, "held-out RMSE {rmse:.4} is not within 10% of the noise {sigma}");
    // The learned noise: τ = 1/σ² = 4, less what the factors fit of the noise.
    let prior = trained.prior.as_ref().expect("a Bayesian model keeps its prior");
    let tau = f64::from(prior.noise);
    assert!((3.6..4.8).contains(&tau), "noise precision {tau}, planted 4");
}

#[test]
fn the_model_does_not_depend_on_the_thread_count() {
    let syn = Synthetic::generate(SynthSpec::new(300, 200, 12_000, ModelKind::Explicit, 2));
    let data = syn.dataset(|_| true).unwrap();
    let one = train(&data, &config(8, 10, 1));
    let two = train(&data, &config(8, 10, 2));
    assert!(one.users.iter().zip(&two.users).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert!(one.items.iter().zip(&two.items).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert_eq!(one.prior, two.prior);
    let other_seed = train(&data, &TrainConfig { seed: 10, ..config(8, 10, 2) });
    assert_ne!(one.users, other_seed.users, "the seed keys the draws");
}

/// A visitor folded into a Bayesian model gets the mean of their row's
/// posterior under the learned prior, (Λ + τΣzzᵀ)x = Λμ + τΣtz, solved here
/// in f64 — from the files as from memory, and not ALS's λ solve.
#[test]
fn fold_in_solves_with_the_learned_prior() {
    let syn = Synthetic::generate(SynthSpec::new(200, 150, 8_000, ModelKind::Explicit, 4));
    let data = syn.dataset(|_| true).unwrap();
    let trained = train(&data, &config(6, 20, 2));
    let files = trained.files(&data, Dtype::F32);
    let bytes = files.items.to_bytes().unwrap();
    let from_file = gramrec_core::ItemModel::from_bytes(&bytes).unwrap();
    let in_memory = trained.model(&data).unwrap();
    let prior = trained.prior.clone().unwrap();
    assert_eq!(from_file.prior(), Some(&prior), "the PRIO section round-trips");

    let history: Vec<(usize, f32)> = [(3, 4.0), (17, 2.0), (40, 5.0), (41, 3.5), (99, 1.0)].into();
    let (f, d) = (6, 7);
    let item_rows = files.items.rows_with_biases();
    let tau = f64::from(prior.noise);
    let lambda: Vec<f64> = prior.users.precision.iter().map(|&v| f64::from(v)).collect();
    let mut a = lambda.clone();
    let mut b: Vec<f64> =
        (0..d).map(|i| (0..d).map(|j| lambda[i * d + j] * f64::from(prior.users.mean[j])).sum()).collect();
    for &(i, r) in &history {
        let y = &item_rows[i * d..(i + 1) * d];
        let mut z: Vec<f64> = y[..f].iter().map(|&v| f64::from(v)).collect();
        z.push(1.0);
        let t = f64::from(r) - f64::from(trained.global_mean) - f64::from(y[f]);
        for p in 0..d {
            b[p] += tau * t * z[p];
            for q in 0..d {
                a[p * d + q] += tau * z[p] * z[q];
            }
        }
    }
    // The fold-in's x solves them: the residual Λ*x − b is f32 rounding.
    let residual = |x: &[f32]| -> f64 {
        let r: f64 = (0..d).map(|p| ((0..d).map(|q| a[p * d + q] * f64::from(x[q])).sum::<f64>() - b[p]).powi(2)).sum();
        r.sqrt() / b.iter().map(|v| v * v).sum::<f64>().sqrt()
    };
    for (name, model) in [("file", &from_file), ("memory", &in_memory.items)] {
        let got = model.fold_in(&history).unwrap().0;
        assert!(residual(&got) < 1e-5, "{name}: relative residual {} of {got:?}", residual(&got));
    }
    let mut als_file = files.items.clone();
    als_file.prior = None;
    let als = gramrec_core::ItemModel::new(als_file).unwrap().fold_in(&history).unwrap().0;
    assert!(residual(&als) > 1e-2, "without the prior, fold-in solves ALS's equations, not these");
}

#[test]
fn bayes_is_refused_where_it_cannot_run() {
    let syn = Synthetic::generate(SynthSpec::new(50, 40, 600, ModelKind::Explicit, 1));
    let data = syn.dataset(|_| true).unwrap();
    let run = |c: TrainConfig, start: Option<Start>| gramrec_als::train_from(&data, &c, start, &mut |_| Ok(()));
    let implicit = TrainConfig { params: ModelParams::for_kind(ModelKind::Implicit), ..config(4, 5, 1) };
    let e = run(implicit, None).unwrap_err().to_string();
    assert!(e.contains("`method`") && e.contains("explicit"), "{e}");
    let e = run(TrainConfig { bayes: BayesOptions { samples: 0, burn_in: 1 }, ..config(4, 5, 1) }, None).unwrap_err();
    assert!(e.to_string().contains("`samples` must be between 1"), "{e}");
    let trained = train(&data, &config(4, 5, 1));
    let start = Start { iteration: 2, users: trained.users, items: trained.items };
    let e = run(config(4, 5, 1), Some(start)).unwrap_err().to_string();
    assert!(e.contains("checkpoint"), "{e}");
}
