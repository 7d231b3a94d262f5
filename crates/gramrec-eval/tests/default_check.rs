//! `train`'s check of an implicit model's default λ, α and factors: it replaces
//! defaults that shrink a sparse catalogue's model to popularity or
//! under-weigh heavy-tailed counts, keeps them where they hold, is the same
//! for a seed, walks only what the caller left open, and stands aside where
//! it cannot decide.

use gramrec_als::{Device, Method, TrainConfig};
use gramrec_core::{Confidence, Error, ModelKind, ModelParams, RegScaling};
use gramrec_data::load::Interactions;
use gramrec_data::synth::{SynthSpec, Synthetic};
use gramrec_data::DatasetOptions;
use gramrec_eval::default_check::{
    announce, check_defaults, options, settings, DefaultCheck, Open, Setting, MARGIN, MIN_USERS, WARM_ITERATIONS,
};
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

const ALL: Open = Open { reg: true, alpha: true, factors: true };

fn check(x: &Interactions, config: &TrainConfig, open: Open) -> DefaultCheck {
    let walked = settings(config, open);
    check_defaults(x, config, &walked, &options(config, DatasetOptions::default()), &mut || Ok(())).unwrap()
}

#[test]
fn a_default_that_shrinks_short_rows_to_popularity_is_replaced() {
    let x = sparse_lists(1500);
    let c = check(&x, &implicit(), ALL);
    assert_eq!((c.default.reg, c.default.alpha), (30.0, 1.0));
    assert!(c.chosen.reg < c.default.reg, "a smaller λ: {c:?}");
    assert!(c.skipped.is_none() && c.users >= MIN_USERS);
    assert_eq!((c.iterations, c.warm_iterations), (15, WARM_ITERATIONS));
    let reg = &c.lines[0];
    assert_eq!((reg.setting, reg.from, reg.chosen), (Setting::Reg, 30.0, c.chosen.reg));
    // Up first, then down from the start, a direction going on while it improves.
    let at: Vec<f32> = reg.steps.iter().map(|s| s.at).collect();
    let down = at.iter().position(|&a| a < 30.0).expect("a step down");
    assert!(at[0] == 90.0 && at[down] == 10.0 && at[down..].iter().all(|&a| a < 30.0), "{reg:?}");
    for pair in reg.steps[down..].windows(2) {
        assert!(pair[0].value > reg.value.max(0.0), "a direction goes on only after an improvement: {reg:?}");
        assert!(pair[1].at < pair[0].at);
    }
    let chosen = reg.leader().expect("a leader");
    assert!(chosen.margin > MARGIN && chosen.value > 1.2 * reg.value, "{chosen:?} against {reg:?}");
    // The line along α starts where λ's ended.
    let alpha = &c.lines[1];
    assert_eq!((alpha.setting, alpha.from, alpha.value), (Setting::Alpha, 1.0, chosen.value));
    // Then the factors: twice as many, from the model λ and α chose.
    let factors = &c.lines[2];
    assert_eq!((factors.setting, factors.from, factors.steps[0].at), (Setting::Factors, 16.0, 32.0), "{factors:?}");
    assert_eq!(factors.value, c.lines[1].leader().map_or(c.lines[1].value, |s| s.value));
    assert_eq!(c.chosen.factors as f32, factors.chosen);
    // Trained from scratch, the choice beats the defaults too.
    let confirmed = c.confirmation.expect("the choice trained from scratch");
    assert!(confirmed.margin > MARGIN && confirmed.value > 1.2 * c.value, "{confirmed:?} against {}", c.value);
    let cost = c.cost().expect("it ran");
    assert!(cost.starts_with("the check took ") && c.training_seconds > 0.0 && c.seconds > c.training_seconds);
    let why = c.choice(Setting::Reg).unwrap().1;
    let led = format!("λ {} led the line from 30 by {:.1} standard errors", c.chosen.reg, chosen.margin);
    assert!(why.starts_with(&led) && why.contains("trained from scratch scored"), "{why}");
    // The same data and seed choose the same with the same figures.
    let again = check(&x, &implicit(), ALL);
    assert_eq!((again.chosen, again.lines.clone()), (c.chosen, c.lines.clone()));
}

#[test]
fn with_lambda_given_alpha_alone_is_walked_and_moved_where_it_wins() {
    // Play counts with planted tastes, log confidence (what train reads
    // from such values); at λ 30, α 1 is not where they score best.
    let syn =
        Synthetic::generate(SynthSpec { counts: true, ..SynthSpec::new(3000, 800, 120_000, ModelKind::Implicit, 4) });
    let mut config = implicit();
    config.params.confidence = Confidence::Log;
    let c = check(&syn.interactions(|_| true), &config, Open { alpha: true, ..Open::default() });
    assert_eq!(c.lines.len(), 1, "only α was left open: {c:?}");
    assert_eq!((c.lines[0].setting, c.chosen.reg), (Setting::Alpha, 30.0));
    assert!(c.choice(Setting::Reg).is_none());
    let line = &c.lines[0];
    let leader = line.leader().expect("a step beat α 1");
    assert_eq!(c.chosen.alpha, leader.at);
    assert!(leader.margin > MARGIN && leader.value > line.value, "{line:?}");
    let confirmed = c.confirmation.expect("trained from scratch");
    assert!(confirmed.margin > MARGIN && confirmed.value > c.value, "{confirmed:?}");
}

#[test]
fn the_defaults_stay_where_they_hold() {
    // Dense clicks with planted tastes (the demo's kind of data): about 60
    // interactions a user, 120 an item.
    let syn = Synthetic::generate(SynthSpec::new(1000, 500, 60_000, ModelKind::Implicit, 3));
    let c = check(&syn.interactions(|_| true), &implicit(), ALL);
    assert_eq!(c.chosen, c.default, "{c:?}");
    assert!(c.lines.len() == 3 && c.confirmation.is_none());
    for (setting, line) in [Setting::Reg, Setting::Alpha, Setting::Factors].into_iter().zip(&c.lines) {
        assert!(line.steps.iter().all(|s| s.margin <= MARGIN), "{line:?}");
        let why = c.choice(setting).unwrap().1;
        assert!(why.starts_with("the default held"), "{why}");
    }
}

#[test]
fn too_few_users_keep_the_defaults_and_say_why() {
    let x = sparse_lists(MIN_USERS / 2);
    let c = check(&x, &implicit(), ALL);
    assert_eq!(c.chosen, c.default);
    assert!(c.lines.is_empty() && c.cost().is_none());
    let why = c.choice(Setting::Alpha).unwrap().1;
    assert!(why.contains("not checked: fewer than 100 users"), "{why}");
}

#[test]
fn beyond_the_sample_size_the_check_runs_on_a_sample_of_the_users() {
    let x = sparse_lists(1500);
    let config = implicit();
    let mut opts = options(&config, DatasetOptions::default());
    assert!(check(&x, &config, ALL).sample.is_none(), "12,000 interactions: all of them");
    opts.sample_interactions = 6000;
    let c = check_defaults(&x, &config, &[Setting::Reg], &opts, &mut || Ok(())).unwrap();
    let users = c.sample.expect("a sample");
    assert!((500..1000).contains(&users), "about half the users: {users}");
    let why = c.choice(Setting::Reg).unwrap().1;
    assert!(c.users <= users && why.contains(&format!("(a sample of {users} users)")), "{why}");
}

#[test]
fn an_error_between_iterations_stops_the_check() {
    let x = sparse_lists(300);
    let config = implicit();
    let mut iterations = 0;
    let stopped =
        check_defaults(&x, &config, &[Setting::Reg], &options(&config, DatasetOptions::default()), &mut || {
            iterations += 1;
            if iterations == 17 {
                Err(Error::Interrupted(0))
            } else {
                Ok(())
            }
        });
    assert!(matches!(stopped, Err(Error::Interrupted(_))), "{stopped:?}");
    assert_eq!(iterations, 17, "stopped at the first error, in the first step after the defaults' 15 iterations");
}

#[test]
fn only_what_an_implicit_als_model_left_open_is_walked() {
    assert_eq!(settings(&implicit(), ALL), [Setting::Reg, Setting::Alpha, Setting::Factors]);
    let opts = options(&implicit(), DatasetOptions::default());
    let said = announce(&implicit(), &settings(&implicit(), ALL), &opts);
    assert_eq!(
        said,
        "checking λ 30, α 1 and 16 factors on a validation split (10% of each user's interactions held out)"
    );
    assert!(announce(&implicit(), &[Setting::Alpha], &opts).starts_with("checking α 1 on a validation split"));
    assert_eq!(settings(&implicit(), Open { reg: true, ..Open::default() }), [Setting::Reg]);
    assert!(settings(&implicit(), Open::default()).is_empty());
    assert!(settings(&TrainConfig::for_kind(ModelKind::Explicit), ALL).is_empty());
    let bayes = TrainConfig { method: Method::Bayes, ..implicit() };
    assert!(settings(&bayes, ALL).is_empty());
    // A scaled λ, or none, is not walked; α still is.
    let mut scaled = implicit();
    scaled.params.reg_scaling = RegScaling::Frequency;
    assert_eq!(settings(&scaled, ALL), [Setting::Alpha, Setting::Factors]);
    let mut none = implicit();
    none.params.reg = 0.0;
    assert_eq!(settings(&none, ALL), [Setting::Alpha, Setting::Factors]);
}

#[test]
fn the_factors_line_stops_where_the_settings_allow_no_more() {
    // Twice 600 factors is past gramrec's 1,024: the line has no step, and 600 stays.
    let mut config = implicit();
    config.params.factors = 600;
    config.iterations = 2;
    let c = check(&sparse_lists(MIN_USERS * 2), &config, Open { factors: true, ..Open::default() });
    assert_eq!(c.lines.len(), 1);
    assert!(c.lines[0].steps.is_empty() && c.chosen.factors == 600, "{c:?}");
    let why = c.choice(Setting::Factors).unwrap().1;
    assert!(why.starts_with("the default held") && why.contains("no step within what the settings"), "{why}");
}
