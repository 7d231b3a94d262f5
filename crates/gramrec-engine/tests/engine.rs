//! The library API end to end: load, read defaults, fit, save, score.

use std::path::{Path, PathBuf};

use gramrec_engine::{
    fit, load, load_model, read_defaults, Asked, Checkpoints, Device, Error, FitEvent, FitOptions, Fitted,
    Interactions, Metric, Model, ModelKind, SaveOptions, TrainConfig, Validation,
};

/// 60 users in three groups, each group clicking (or rating, with `ratings`)
/// its own 8 of 24 items, a click left out per user for validation.
fn write(dir: &Path, name: &str, ratings: bool, held_out: bool) -> PathBuf {
    let mut text = String::from(if ratings { "user,item,rating\n" } else { "user,item\n" });
    for u in 0..60 {
        for j in 0..8 {
            if (j == u % 8) != held_out {
                continue;
            }
            let item = (u % 3) * 8 + j;
            let rating = if ratings { format!(",{}", 1 + (u + j) % 5) } else { String::new() };
            text.push_str(&format!("u{u},i{item}{rating}\n"));
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn config(kind: ModelKind) -> TrainConfig {
    let mut c = TrainConfig { iterations: 4, seed: 3, threads: 2, device: Device::Cpu, ..TrainConfig::for_kind(kind) };
    c.params.factors = 4;
    c
}

/// The top 5 for every user and a visitor, and the items like each item.
fn answers(m: &Model) -> Vec<String> {
    let mut out = Vec::new();
    for u in 0..m.user_count() {
        let seen: Vec<usize> = m.seen(u).unwrap().iter().map(|&i| i as usize).collect();
        let top = m.items.recommend(&m.user_at(u), 5, &seen).unwrap();
        assert_eq!(m.recommend_user(&m.user_ids()[u], 5).unwrap().unwrap(), top, "training items left out by ID");
        out.push(format!("{top:?}"));
    }
    assert!(m.recommend_user("nobody", 5).is_none());
    assert_eq!(m.items.similar_to("i3", 3), Some(m.items.similar(m.items.index_of("i3").unwrap(), 3)));
    assert!(m.items.similar_to("nothing", 3).is_none());
    out.push(format!("{:?}", m.items.recommend_history(&[("i1".into(), 1.0), ("i2".into(), 2.0)], 5).unwrap()));
    for i in 0..m.items.len() {
        out.push(format!("{:?}", m.items.similar(i, 3)));
    }
    out
}

#[test]
fn a_fitted_model_scores_in_memory_as_it_does_saved_and_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = (write(dir.path(), "train.csv", false, false), write(dir.path(), "test.csv", false, true));
    let x = load::load(&train, &Default::default()).unwrap();
    let read = read_defaults(&x, Asked::default());
    assert_eq!(read.kind, ModelKind::Implicit);
    assert_eq!(read.choices[0].parameter, "kind");
    assert!(read.choices[0].reason.contains("no rating column"), "{:?}", read.choices);
    let test = load::load(&test, &Default::default()).unwrap();
    let options =
        FitOptions { validation: Some(Validation { test: &test, metric: Metric::Ndcg(5) }), ..Default::default() };
    let mut events = Vec::new();
    let fitted = fit(x, &config(read.kind), &options, &mut |event| {
        events.push(match event {
            FitEvent::Built(data) => format!("built {}x{}", data.users.len(), data.items.len()),
            FitEvent::Resumed(n) => format!("resumed {n}"),
            FitEvent::Training => "training".into(),
            FitEvent::Device(notice) => format!("device {notice}"),
            FitEvent::Iteration { report, validation } => format!("{} {}", report.iteration, validation.is_some()),
        });
        Ok(())
    })
    .unwrap();
    assert_eq!(events, ["built 60x24", "training", "1 true", "2 true", "3 true", "4 true"]);
    assert_eq!(fitted.validation.len(), 4);
    // Each group's unseen item ranks first for its users: the model learnt the groups.
    let ndcg = Metric::Ndcg(5).of(fitted.validation.last().unwrap()).unwrap();
    assert!(ndcg > 0.5, "NDCG@5 {ndcg}");

    let model_dir = dir.path().join("model");
    let saved = fitted.save(&model_dir, &SaveOptions::default()).unwrap();
    assert_eq!((saved.items, saved.described), (24, None));
    assert_eq!(answers(&fitted.model().unwrap()), answers(&load_model(&model_dir).unwrap()));
}

#[test]
fn the_kind_is_read_from_ratings_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let x = load::load(&write(dir.path(), "r.csv", true, false), &Default::default()).unwrap();
    let read = read_defaults(&x, Asked::default());
    assert_eq!((read.kind, read.choices.len()), (ModelKind::Explicit, 1));
    let explained = read.choices[0].explain(|p, v| format!("{p}={v}"));
    assert!(explained.ends_with("(kind=implicit for feedback strengths)"), "what overrides it: {explained}");
    let asked = read_defaults(&x, Asked { kind: Some(ModelKind::Implicit), confidence: None });
    assert_eq!(asked.kind, ModelKind::Implicit);
    assert!(asked.choices.iter().all(|c| c.parameter != "kind"), "{:?}", asked.choices);
}

#[test]
fn a_metric_that_does_not_fit_the_kind_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let x = load::load(&write(dir.path(), "t.csv", false, false), &Default::default()).unwrap();
    let test = load::load(&write(dir.path(), "v.csv", false, true), &Default::default()).unwrap();
    let options =
        FitOptions { validation: Some(Validation { test: &test, metric: Metric::Rmse }), ..Default::default() };
    let e = fit(x, &config(ModelKind::Implicit), &options, &mut |_| Ok(())).unwrap_err();
    // Refused before any training, naming the setting.
    assert!(matches!(&e, Error::Parameter(p) if p.parameter == "metric"), "{e:?}");
    assert_eq!(e.to_string(), "`metric` RMSE does not apply to implicit models");
}

#[test]
fn a_stopped_run_resumes_from_its_checkpoint_which_only_its_own_save_removes() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "t.csv", false, false);
    let x = || load::load(&input, &Default::default()).unwrap();
    let out = dir.path().join("model");
    let c = config(ModelKind::Implicit);
    let checkpoints = |resume| Checkpoints { dir: out.clone(), every: 1, resume };
    let options = |resume| FitOptions { checkpoints: Some(checkpoints(resume)), ..Default::default() };
    // Stopped by its caller at iteration 3: the checkpoint holds iteration 2.
    let stopped = fit(x(), &c, &options(false), &mut |event| match event {
        FitEvent::Iteration { report, .. } if report.iteration == 3 => Err(Error::Interrupted(3)),
        _ => Ok(()),
    });
    assert!(matches!(stopped, Err(Error::Interrupted(3))));
    assert!(out.join("checkpoint").is_dir());
    let mut resumed_at = None;
    let resumed = fit(x(), &c, &options(true), &mut |event| {
        if let FitEvent::Resumed(n) = event {
            resumed_at = Some(n);
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(resumed_at, Some(2));
    let whole: Fitted = fit(x(), &c, &FitOptions::default(), &mut |_| Ok(())).unwrap();
    assert_eq!(resumed.trained.users, whole.trained.users, "resuming gives the uninterrupted result");

    resumed.save(&dir.path().join("elsewhere"), &SaveOptions::default()).unwrap();
    assert!(out.join("checkpoint").is_dir(), "a save elsewhere leaves the run's checkpoint");
    whole.save(&out, &SaveOptions::default()).unwrap();
    assert!(out.join("checkpoint").is_dir(), "a run without checkpoints leaves another's");
    resumed.save(&out, &SaveOptions::default()).unwrap();
    assert!(!out.join("checkpoint").exists(), "the run's own save removes its checkpoint");
}

#[test]
fn interactions_given_in_memory_fit_as_the_same_file_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "r.csv", true, false);
    let text = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let (users, items): (Vec<&str>, Vec<&str>) = rows.iter().map(|r| (r[0], r[1])).unzip();
    let values: Vec<f32> = rows.iter().map(|r| r[2].parse().unwrap()).collect();
    let memory = gramrec_engine::Interactions::from_columns(&users, &items, Some(&values)).unwrap();
    let file = load::load(&path, &Default::default()).unwrap();
    assert_eq!(read_defaults(&memory, Asked::default()).kind, ModelKind::Explicit);
    let fit_on = |x| fit(x, &config(ModelKind::Explicit), &FitOptions::default(), &mut |_| Ok(())).unwrap();
    let (a, b) = (fit_on(memory), fit_on(file));
    assert_eq!(a.trained.users, b.trained.users);
    assert_eq!(a.trained.items, b.trained.items);
    // Refused, by position: unequal columns, a value that is not finite, an empty ID.
    let e = gramrec_engine::Interactions::from_columns(&users[..3], &items[..2], None).unwrap_err();
    assert_eq!(e.to_string(), "3 users, 2 items: one of each per interaction");
    let e = gramrec_engine::Interactions::from_columns(&["u"], &["i"], Some(&[f32::NAN])).unwrap_err();
    assert!(e.to_string().starts_with("interaction 0: the value NaN is not a finite number"), "{e}");
    let e = gramrec_engine::Interactions::from_columns(&["u", ""], &["i", "j"], None).unwrap_err();
    assert!(e.to_string().starts_with("interaction 1: the user ID must have 1 to 4096 bytes, not 0"), "{e}");
}

#[test]
fn one_value_everywhere_is_presence_not_ratings() {
    let (users, items) = (["a", "a", "b"], ["x", "y", "x"]);
    let ones = Interactions::from_columns(&users, &items, Some(&[1.0; 3])).unwrap();
    let read = read_defaults(&ones, Asked::default());
    assert_eq!(read.kind, ModelKind::Implicit, "{:?}", read.choices);
    assert!(read.choices[0].reason.starts_with("every value is 1: presence"), "{:?}", read.choices);
    let ratings = Interactions::from_columns(&users, &items, Some(&[4.0, 5.0, 3.0])).unwrap();
    assert_eq!(read_defaults(&ratings, Asked::default()).kind, ModelKind::Explicit);
    // A caller who knows the values are strengths says so, and the reason is theirs.
    let mut strengths = ratings.clone();
    strengths.strengths = Some("a matrix given to an implicit-feedback API".into());
    let read = read_defaults(&strengths, Asked::default());
    assert_eq!(
        (read.kind, read.choices[0].reason.as_str()),
        (ModelKind::Implicit, "a matrix given to an implicit-feedback API")
    );
    // A frame's column named `plays` holds strengths whatever its values.
    let plays = ratings.with_value_column("plays");
    assert_eq!(read_defaults(&plays, Asked::default()).kind, ModelKind::Implicit);
}
