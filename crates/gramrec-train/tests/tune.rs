//! Cross-validated grid search on synthetic data with a known best rank.

use gramrec_core::{Confidence, ModelKind, ModelParams, RegScaling, Solver};
use gramrec_train::als::TrainConfig;
use gramrec_train::backend::Device;
use gramrec_train::dataset::DatasetOptions;
use gramrec_train::eval::Metric;
use gramrec_train::load::Interactions;
use gramrec_train::split::SplitMode;
use gramrec_train::synth::{SynthSpec, Synthetic};
use gramrec_train::tune::{cross_validate, CrossValidation, Grid};

fn interactions(s: &Synthetic) -> Interactions {
    let mut x = Interactions { has_ratings: true, ..Default::default() };
    for u in 0..s.spec.users {
        x.users.intern(&format!("u{u}"));
    }
    for i in 0..s.spec.items {
        x.items.intern(&format!("i{i}"));
    }
    x.user = s.user.clone();
    x.item = s.item.clone();
    x.value = s.value.clone();
    x
}

#[test]
fn the_grid_finds_the_planted_rank() {
    let syn = Synthetic::generate(SynthSpec { rank: 4, ..SynthSpec::new(300, 200, 30_000, ModelKind::Explicit, 21) });
    let x = interactions(&syn);
    let base = TrainConfig {
        params: ModelParams {
            kind: ModelKind::Explicit,
            factors: 1,
            reg: 0.01,
            reg_scaling: RegScaling::Count,
            alpha: 1.0,
            confidence: Confidence::Linear,
            epsilon: 1.0,
            biases: true,
        },
        iterations: 10,
        solver: Solver::Cholesky,
        cg_steps: 3,
        seed: 1,
        threads: 2,
        device: Device::Cpu,
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
