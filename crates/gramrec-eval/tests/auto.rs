//! `train --auto`'s search on synthetic data: within its budget, never worse
//! on validation than the settings it starts from, the same for a seed, and
//! on a user sample when the data is large.

use gramrec_als::{Device, Method, TrainConfig};
use gramrec_core::{Error, ModelKind, ModelParams};
use gramrec_data::synth::{SynthSpec, Synthetic};
use gramrec_data::DatasetOptions;
use gramrec_eval::auto::{search, AutoOptions, AutoResult, Budget, Event};
use gramrec_eval::default_check::Setting;
use gramrec_eval::Metric;

fn base(kind: ModelKind) -> TrainConfig {
    TrainConfig {
        params: ModelParams { factors: 8, ..ModelParams::for_kind(kind) },
        iterations: 6,
        threads: 2,
        device: Device::Cpu,
        ..TrainConfig::for_kind(kind)
    }
}

fn options(kind: ModelKind, budget: Budget, seed: u64) -> AutoOptions {
    AutoOptions {
        budget,
        seed,
        metric: Metric::default_for(kind),
        validation_fraction: 0.2,
        sample_interactions: AutoOptions::SAMPLE_INTERACTIONS,
        data: DatasetOptions::default(),
        bayes: true,
    }
}

fn run(kind: ModelKind, opts: &AutoOptions) -> (AutoResult, f64, usize) {
    let (result, budget, scored, _, _) = run_with(kind, opts);
    (result, budget, scored)
}

/// [`run`], with the cost of Bayesian PMF when the search could not pay
/// for it, and the steps of each line walked (the setting, the step's settings).
fn run_with(kind: ModelKind, opts: &AutoOptions) -> (AutoResult, f64, usize, Option<f64>, Vec<(Setting, TrainConfig)>) {
    let syn = Synthetic::generate(SynthSpec { rank: 6, ..SynthSpec::new(400, 150, 12_000, kind, 3) });
    let x = syn.interactions(|_| true);
    let (mut budget, mut scored, mut drawn, mut unaffordable) = (0.0, 0, 0, None);
    let (mut walking, mut walked) = (None, Vec::new());
    let result = search(&x, &base(kind), opts, &mut |e| {
        match e {
            Event::Started { budget: b, .. } => budget = b,
            Event::Walk { setting, warm } => {
                assert_eq!(warm, 5);
                walking = Some(setting);
            }
            Event::Bracket { candidates, planned } => {
                assert!(planned <= budget, "a bracket plans within the budget");
                drawn += candidates;
                walking = None;
            }
            Event::Scored { trial, .. } => {
                scored += 1;
                walked.extend(walking.map(|s| (s, trial.config)));
            }
            Event::Confirmed { leader, fold, folds, .. } => {
                assert!(leader.candidate > 0 && (1..=folds).contains(&fold), "fresh split {fold} of {folds}");
            }
            Event::Unaffordable { config, cost, spent, budget } => {
                assert_eq!(config.method, Method::Bayes);
                assert!(spent + cost > budget, "only what the budget cannot pay for");
                unaffordable = Some(cost);
            }
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(scored, result.trials.len(), "every trial is reported");
    let methods = result.trials.iter().filter(|t| t.config.method == Method::Bayes).count();
    let last = result.trials.iter().map(|t| t.candidate).max().unwrap();
    assert_eq!(last, drawn + methods + walked.len(), "every candidate raced");
    (result, budget, scored, unaffordable, walked)
}

#[test]
fn explicit_data_tries_bayesian_pmf_when_the_budget_pays_for_it() {
    let kind = ModelKind::Explicit;
    let (r, _, _, unaffordable, _) = run_with(kind, &options(kind, Budget::Trainings(6.0), 9));
    let cost = unaffordable.expect("a small budget says what Bayesian PMF would cost");
    assert!(cost > 6.0, "{cost}");
    assert!(r.trials.iter().all(|t| t.config.method == Method::Als));
    let (r, _, _, unaffordable, _) = run_with(kind, &options(kind, Budget::Trainings(cost + 3.0), 9));
    assert!(unaffordable.is_none());
    let bayes = &r.trials[1];
    assert_eq!(
        (bayes.config.method, bayes.candidate, bayes.rung),
        (Method::Bayes, 1, 0),
        "tried right after the start"
    );
    assert_eq!(bayes.config.iterations, base(kind).bayes.sweeps(), "at full length");
    assert_eq!(bayes.config.params, base(kind).params);
    assert!(r.cost <= cost + 3.0 + 1e-9);
    assert_eq!(r.report(Budget::Trainings(cost + 3.0), Metric::Rmse).trials[1].method, Method::Bayes);
    // Not when told (the CLI, when the winner must write checkpoints).
    let off = AutoOptions { bayes: false, ..options(kind, Budget::Trainings(cost + 3.0), 9) };
    let (r, _, _, unaffordable, _) = run_with(kind, &off);
    assert!(unaffordable.is_none() && r.trials.iter().all(|t| t.config.method == Method::Als));
    // Implicit data has no Bayesian model to try.
    let (r, _, _, unaffordable, _) =
        run_with(ModelKind::Implicit, &options(ModelKind::Implicit, Budget::Trainings(6.0), 9));
    assert!(unaffordable.is_none() && r.trials.iter().all(|t| t.config.method == Method::Als));
}

#[test]
fn the_search_keeps_its_budget_and_never_loses_to_its_start() {
    // On data this small each trial's set-up costs about half a training:
    // 30 trainings pay for the lines along λ and α and a bracket of drawn candidates.
    for kind in [ModelKind::Implicit, ModelKind::Explicit] {
        // Without Bayesian PMF, so that the line along λ comes right after the start on ratings too.
        let opts = AutoOptions { bayes: false, ..options(kind, Budget::Trainings(30.0), 9) };
        let (r, budget, _, _, walked) = run_with(kind, &opts);
        assert_eq!(budget, 30.0);
        assert!(r.cost <= 30.0 + 1e-9 && r.cost > 22.5, "{kind}: the budget is used, not exceeded: {}", r.cost);
        assert!(r.trials.len() > 3, "{kind}: {} trials", r.trials.len());
        let (start, best, leader) = (&r.trials[0], &r.trials[r.best], &r.trials[r.leader]);
        assert_eq!(start.config, base(kind), "the first trial is the settings as given");
        let lower = opts.metric.lower_is_better();
        let at_least = |a: f64, b: f64| if lower { a <= b } else { a >= b };
        assert!(at_least(best.score, start.score), "{kind}: never worse than the start");
        // The leader is the best on validation, or, when confirming that
        // one costs more than the budget left, the best one it can confirm.
        let top = &r.trials[r.passed_over.unwrap_or(r.leader)];
        for t in &r.trials {
            assert!(at_least(top.score, t.score), "{kind}: the best on validation");
            assert_eq!(t.config.params.kind, kind);
        }
        if let Some(p) = r.passed_over {
            assert!(r.leader != 0 && at_least(top.score, leader.score), "{kind}");
            assert!(
                r.trials[p].config.params.factors > leader.config.params.factors
                    || r.trials[p].config.iterations > leader.config.iterations,
                "{kind}: the one passed over is dearer"
            );
        }
        // The leader wins only by a clear margin on fresh splits, whose cost is in the budget.
        match r.confirmation {
            None => assert_eq!((r.leader, r.best), (0, 0)),
            Some(c) => {
                assert!(r.leader != 0 && (1..=3).contains(&c.folds), "{kind}: {c:?}");
                assert_eq!(r.best == r.leader, c.margin.is_some_and(|m| m > c.needed), "{kind}: {c:?}");
                assert_eq!(c.available, 3, "{kind}: the data allows three fresh splits");
                assert_eq!(c.margin.is_some(), c.folds > 0, "{kind}: {c:?}");
            }
        }
        // The planted structure leaves room to beat 8 factors by far more
        // than the noise: the leader is confirmed and chosen.
        if kind == ModelKind::Implicit {
            assert!(r.leader != 0 && r.best == r.leader, "{kind}: {:?}", r.confirmation);
        }
        // First a line along λ from the settings as given (× 3 first), then,
        // for implicit models, one along α through a setting of it; only
        // the line's setting changes along it, by the walk's factors.
        let lines: Vec<Setting> = walked.iter().map(|(s, _)| *s).collect();
        let reg_steps = lines.iter().filter(|&&s| s == Setting::Reg).count();
        assert!(reg_steps >= 2 && lines[..reg_steps].iter().all(|&s| s == Setting::Reg), "{kind}: {lines:?}");
        let (reg, alpha) = (start.config.params.reg, start.config.params.alpha);
        let near = |a: f32, b: f32| (a / b - 1.0).abs() < 0.01;
        assert!(near(walked[0].1.params.reg, 3.0 * reg), "{kind}: the first step is λ × 3: {:?}", walked[0]);
        for (_, c) in &walked[..reg_steps] {
            let times = c.params.reg / reg;
            assert!([3.0, 10.0, 1.0 / 3.0, 0.1].iter().any(|&t| near(times, t)), "{kind}: λ × {times}");
            assert_eq!(c.params, ModelParams { reg: c.params.reg, ..start.config.params }, "{kind}: only λ changes");
            assert_eq!(c.iterations, start.config.iterations, "{kind}: each step is a model of the full iterations");
        }
        let alpha_steps = lines.iter().filter(|&&s| s == Setting::Alpha).count();
        let (on_alpha, on_factors) = walked[reg_steps..].split_at(alpha_steps);
        match kind {
            ModelKind::Implicit => {
                assert!(alpha_steps >= 2, "{kind}: {lines:?}");
                let through = on_alpha[0].1.params.reg;
                assert!(through == reg || walked[..reg_steps].iter().any(|(_, c)| c.params.reg == through));
                for (_, c) in on_alpha {
                    let times = c.params.alpha / alpha;
                    assert!([3.0, 10.0, 1.0 / 3.0].iter().any(|&t| near(times, t)), "{kind}: α × {times}");
                    let same = ModelParams { alpha: c.params.alpha, reg: through, ..start.config.params };
                    assert_eq!(c.params, same, "{kind}: only α changes along it, through one λ");
                }
            }
            _ => assert_eq!(alpha_steps, 0, "{kind}: ratings have no α to walk"),
        }
        // Last, twice the factors through the λ and α chosen (when the budget pays for it).
        assert!(on_factors.len() <= 1 && on_factors.iter().all(|(s, _)| *s == Setting::Factors), "{lines:?}");
        for (_, c) in on_factors {
            assert_eq!(c.params.factors, 2 * start.config.params.factors, "{kind}");
            let mut chosen =
                walked[..reg_steps + alpha_steps].iter().map(|(_, w)| w.params).chain([start.config.params]);
            assert!(chosen.any(|p| p == ModelParams { factors: p.factors, ..c.params }), "{kind}: {c:?}");
        }
        // Successive halving: later rungs have fewer candidates, each continuing one of the rung before.
        let at = |rung| r.trials.iter().filter(|t| t.rung == rung && t.candidate > 0).count();
        assert!(at(1) < at(0) && at(2) <= at(1), "{kind}: {} {} {}", at(0), at(1), at(2));
        for t in r.trials.iter().filter(|t| t.rung > 0) {
            let before = r.trials.iter().find(|p| p.candidate == t.candidate && p.rung + 1 == t.rung).unwrap();
            assert!(before.config.iterations < t.config.iterations);
            assert_eq!(before.config.params, t.config.params);
        }
        let (again, _, _) = run(kind, &opts);
        let key = |r: &AutoResult| r.trials.iter().map(|t| (t.config, t.score.to_bits())).collect::<Vec<_>>();
        assert_eq!(key(&r), key(&again), "{kind}: the same seed gives the same search");
        let (other, _, _) = run(kind, &AutoOptions { seed: 10, ..opts.clone() });
        assert_ne!(key(&r), key(&other), "{kind}: another seed draws other candidates");
    }
}

#[test]
fn a_small_budget_scores_the_start_alone_and_large_data_is_sampled() {
    let (r, _, scored) = run(ModelKind::Implicit, &options(ModelKind::Implicit, Budget::Trainings(1.0), 9));
    assert_eq!((scored, r.best), (1, 0), "a budget of one training leaves only the settings as given");
    assert!(r.sample.is_none());
    let opts = AutoOptions { sample_interactions: 5_000, ..options(ModelKind::Implicit, Budget::Trainings(2.0), 9) };
    let (r, _, _) = run(ModelKind::Implicit, &opts);
    let s = r.sample.expect("a sample of the users");
    assert!(s.of == 400 && s.users < 300 && s.users > 100, "{s:?}");
    assert!((3_000..7_000).contains(&s.interactions), "{s:?}");
    assert_eq!(r.split.0 + r.split.1, s.interactions, "the split divides the sample");
}

#[test]
fn an_error_from_the_caller_stops_the_search_at_once() {
    let syn = Synthetic::generate(SynthSpec { rank: 6, ..SynthSpec::new(400, 150, 12_000, ModelKind::Implicit, 3) });
    let x = syn.interactions(|_| true);
    let opts = options(ModelKind::Implicit, Budget::Trainings(6.0), 1);
    let mut scored = 0;
    let result = search(&x, &base(ModelKind::Implicit), &opts, &mut |e| match e {
        Event::Scored { .. } => {
            scored += 1;
            Err(Error::Interrupted(0))
        }
        _ => Ok(()),
    });
    assert!(matches!(result, Err(Error::Interrupted(0))), "the caller's error comes back");
    assert_eq!(scored, 1, "nothing is trained after the error");
}
