//! Cross-validated grid search on synthetic data with a known best rank.

use gramrec_als::{Device, TrainConfig};
use gramrec_core::{ModelKind, ModelParams, SolverOptions};
use gramrec_data::split::SplitMode;
use gramrec_data::synth::{SynthSpec, Synthetic};
use gramrec_data::DatasetOptions;
use gramrec_eval::tune::{cross_validate, CrossValidation, Grid};
use gramrec_eval::Metric;

#[test]
fn the_grid_finds_the_planted_rank() {
    let syn = Synthetic::generate(SynthSpec { rank: 4, ..SynthSpec::new(300, 200, 30_000, ModelKind::Explicit, 21) });
    let x = syn.interactions(|_| true);
    let base = TrainConfig {
        params: ModelParams { factors: 1, reg: 0.01, ..ModelParams::for_kind(ModelKind::Explicit) },
        iterations: 10,
        solver: SolverOptions::cholesky(),
        seed: 1,
        threads: 2,
        device: Device::Cpu,
        ..TrainConfig::for_kind(ModelKind::Explicit)
    };
    let grid = Grid { factors: vec![1, 2, 4, 24], reg: vec![0.01], alpha: vec![1.0], iterations: vec![10] };
    let cv = CrossValidation {
        folds: 3,
        mode: SplitMode::Random,
        seed: 5,
        metric: Metric::Rmse,
        data: DatasetOptions::default(),
    };
    let mut calls = 0;
    let results = cross_validate(&x, &grid.settings(&base), &cv, |_, _, _| calls += 1).unwrap();
    assert_eq!(calls, 4 * 3, "every setting is trained on every fold");
    assert_eq!(
        results[0].config.params.factors,
        4,
        "ranking: {:?}",
        results.iter().map(|r| (r.config.params.factors, r.mean)).collect::<Vec<_>>()
    );
    assert!(results.windows(2).all(|w| w[0].mean <= w[1].mean), "results are sorted best (lowest RMSE) first");
    assert!(results.iter().all(|r| r.scores.len() == 3 && r.std >= 0.0));
}
