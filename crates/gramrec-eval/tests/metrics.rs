//! The figures a search ranks settings by (`metric_known`, scored a block of
//! users at a time) are `evaluate`'s (every item scored for one user at a
//! time).

use gramrec_als::{Device, TrainConfig};
use gramrec_core::{ModelKind, ModelParams};
use gramrec_data::split::{assign, subset, SplitMode, SplitOptions};
use gramrec_data::synth::{SynthSpec, Synthetic};
use gramrec_data::{Dataset, DatasetOptions};
use gramrec_eval::evaluate::metric_known;
use gramrec_eval::{evaluate_known, Known, Metric};

#[test]
fn a_search_ranks_by_the_figures_evaluate_reports() {
    let kind = ModelKind::Implicit;
    let x =
        Synthetic::generate(SynthSpec { rank: 5, ..SynthSpec::new(500, 300, 15_000, kind, 4) }).interactions(|_| true);
    let split = SplitOptions { mode: SplitMode::PerUser, test_fraction: 0.2, seed: 3, min_user_interactions: 2 };
    let held = assign(&x, &split).unwrap();
    let train = Dataset::build(subset(&x, |k| !held[k]), &DatasetOptions::default()).unwrap();
    let test = subset(&x, |k| held[k]);
    let config = TrainConfig {
        params: ModelParams { factors: 12, ..ModelParams::for_kind(kind) },
        iterations: 5,
        threads: 2,
        device: Device::Cpu,
        ..TrainConfig::for_kind(kind)
    };
    let model = gramrec_als::train(&train, &config, &mut |_| Ok(())).unwrap().model(&train).unwrap();
    let known = Known::from_dataset(&train);
    for k in [5, 10, 20] {
        let full = evaluate_known(&model, &known, &test, k).unwrap();
        for metric in [Metric::Ndcg(k), Metric::Precision(k), Metric::Recall(k), Metric::Map(k)] {
            let fast = metric_known(&model, &known, &test, metric).unwrap();
            let expected = metric.of(&full).unwrap();
            assert!((fast.value - expected).abs() < 1e-9, "{metric}: {} against evaluate's {expected}", fast.value);
            assert!(fast.units.len() > 400, "{metric}: one figure a user: {}", fast.units.len());
            assert!(fast.value > 0.05, "{metric}: the model ranks: {}", fast.value);
            // Each figure names its user, in the test data's user table, once.
            assert_eq!(fast.users.len(), fast.units.len());
            let mut users = fast.users.clone();
            users.sort_unstable();
            users.dedup();
            assert_eq!(users.len(), fast.units.len(), "{metric}: one figure a user");
            assert!(users.iter().all(|&u| test.user.contains(&u)), "{metric}: users of the test data");
        }
    }
    // RMSE's units are the ratings: each names the user it belongs to.
    let explicit = Synthetic::generate(SynthSpec::new(300, 200, 8_000, ModelKind::Explicit, 5)).interactions(|_| true);
    let held = assign(&explicit, &split).unwrap();
    let train = Dataset::build(subset(&explicit, |k| !held[k]), &DatasetOptions::default()).unwrap();
    let test = subset(&explicit, |k| held[k]);
    let config = TrainConfig { params: ModelParams::for_kind(ModelKind::Explicit), ..config };
    let model = gramrec_als::train(&train, &config, &mut |_| Ok(())).unwrap().model(&train).unwrap();
    let rmse = metric_known(&model, &Known::from_dataset(&train), &test, Metric::Rmse).unwrap();
    assert_eq!(rmse.units.len(), test.len(), "one squared error a held-out rating");
    let mut counted = std::collections::HashMap::<u32, usize>::new();
    for &u in &rmse.users {
        *counted.entry(u).or_default() += 1;
    }
    for (&u, &n) in &counted {
        assert_eq!(n, test.user.iter().filter(|&&t| t == u).count(), "user {u}: one unit per held-out rating");
    }
}
