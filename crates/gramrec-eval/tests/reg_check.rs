//! `train`'s check of an implicit model's default λ: it replaces a default
//! that shrinks a sparse catalogue's model to popularity, keeps it where
//! it holds, is the same for a seed, and stands aside where it cannot decide.

use gramrec_als::{Device, Method, TrainConfig};
use gramrec_core::{Error, ModelKind, ModelParams, RegScaling};
use gramrec_data::load::Interactions;
use gramrec_data::synth::{SynthSpec, Synthetic};
use gramrec_data::DatasetOptions;
use gramrec_eval::reg_check::{applies, check_reg, options, RegCheck, MARGIN, MIN_USERS};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn implicit() -> TrainConfig {
    TrainConfig {
        params: ModelParams { factors: 16, ..ModelParams::for_kind(ModelKind::Implicit) },
        threads: 2,
        device: Device::Cpu,
        seed: 5,
        ..TrainConfig::for_kind(ModelKind::Implicit)
    }
}

/// Reading lists: `users` users each reading 8 of the 40 items of one of
/// 30 topics, so a handful of users an item. λ 30 (the default) is far
/// above what such short rows can carry.
fn sparse_lists(users: usize) -> Interactions {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (mut u, mut i) = (Vec::new(), Vec::new());
    for user in 0..users {
        let topic = rng.random_range(0..30);
        let mut seen = std::collections::BTreeSet::new();
        while seen.len() < 8 {
            seen.insert(topic * 40 + rng.random_range(0..40));
        }
        for item in seen {
            u.push(format!("u{user}"));
            i.push(format!("i{item}"));
        }
    }
    Interactions::from_columns(&u, &i, None).unwrap()
}

fn check(x: &Interactions, config: &TrainConfig) -> RegCheck {
    check_reg(x, config, &options(config, DatasetOptions::default()), &mut || Ok(())).unwrap()
}

#[test]
fn a_default_that_shrinks_short_rows_to_popularity_is_replaced() {
    let x = sparse_lists(1500);
    let c = check(&x, &implicit());
    assert_eq!(c.default, 30.0);
    assert!(c.chosen < c.default, "a smaller λ: {c:?}");
    assert!(c.skipped.is_none() && c.users >= MIN_USERS);
    // The default and λ × 0.1, ⅓, 3 and 10, smallest first, each after the first rung.
    let regs: Vec<f32> = c.tried.iter().map(|t| t.reg).collect();
    assert_eq!(regs, [3.0, 10.0, 30.0, 90.0, 300.0]);
    assert_eq!(c.iterations, 3);
    let chosen = c.tried.iter().find(|t| t.reg == c.chosen).unwrap();
    let default = c.tried.iter().find(|t| t.reg == c.default).unwrap();
    assert!(chosen.margin > MARGIN && chosen.value > 1.2 * default.value, "{chosen:?} against {default:?}");
    // Confirmed after all 15 iterations, warm from the first three.
    let full = c.full.expect("the leader trained on");
    assert_eq!((full.iterations, full.leader.reg), (15, c.chosen));
    assert!(full.leader.margin > MARGIN && full.leader.value > full.default, "{full:?}");
    assert!(c.reason().contains("beat the default 30"), "{}", c.reason());
    // The same data and seed choose the same λ with the same figures.
    let again = check(&x, &implicit());
    assert_eq!((again.chosen, again.tried.clone(), again.full), (c.chosen, c.tried.clone(), c.full));
}

#[test]
fn the_default_stays_where_it_holds() {
    // Dense clicks with planted tastes (the demo's kind of data): about 60
    // interactions a user, 120 an item.
    let syn = Synthetic::generate(SynthSpec::new(1000, 500, 60_000, ModelKind::Implicit, 3));
    let c = check(&syn.interactions(|_| true), &implicit());
    assert_eq!(c.chosen, c.default, "{c:?}");
    assert!(c.reason().starts_with("the default held"), "{}", c.reason());
}

#[test]
fn too_few_users_keep_the_default_and_say_why() {
    let x = sparse_lists(MIN_USERS / 2);
    let c = check(&x, &implicit());
    assert_eq!(c.chosen, c.default);
    assert!(c.tried.is_empty() && c.full.is_none());
    assert!(c.reason().contains("not checked: fewer than 100 users"), "{}", c.reason());
}

#[test]
fn beyond_the_sample_size_the_check_runs_on_a_sample_of_the_users() {
    let x = sparse_lists(1500);
    let config = implicit();
    let mut opts = options(&config, DatasetOptions::default());
    assert!(check(&x, &config).sample.is_none(), "12,000 interactions: all of them");
    opts.sample_interactions = 6000;
    let c = check_reg(&x, &config, &opts, &mut || Ok(())).unwrap();
    let users = c.sample.expect("a sample");
    assert!((500..1000).contains(&users), "about half the users: {users}");
    assert!(c.users <= users && c.reason().contains(&format!("(a sample of {users} users)")), "{}", c.reason());
}

#[test]
fn an_error_between_iterations_stops_the_check() {
    let x = sparse_lists(300);
    let config = implicit();
    let mut iterations = 0;
    let stopped = check_reg(&x, &config, &options(&config, DatasetOptions::default()), &mut || {
        iterations += 1;
        if iterations == 4 {
            Err(Error::Interrupted(0))
        } else {
            Ok(())
        }
    });
    assert!(matches!(stopped, Err(Error::Interrupted(_))), "{stopped:?}");
    assert_eq!(iterations, 4, "stopped at the first error, in the second training");
}

#[test]
fn only_an_implicit_als_model_with_an_unscaled_lambda_is_checked() {
    assert!(applies(&implicit()));
    assert!(!applies(&TrainConfig::for_kind(ModelKind::Explicit)));
    let bayes = TrainConfig { method: Method::Bayes, ..implicit() };
    assert!(!applies(&bayes));
    let mut scaled = implicit();
    scaled.params.reg_scaling = RegScaling::Frequency;
    assert!(!applies(&scaled));
    let mut none = implicit();
    none.params.reg = 0.0;
    assert!(!applies(&none));
}
