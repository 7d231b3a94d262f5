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
        }
    }
}
