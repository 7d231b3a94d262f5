//! What an attacker or an unlucky user tries, through the real binary:
//! outputs that are devices, pipes and links; commands pointed at their own
//! input; arguments sized to exhaust memory; crafted model files; data that
//! drives terminals and spreadsheets. Each case ends in a clear error or a
//! bounded, correct answer, never a panic. (docs/ROBUSTNESS.md lists them.)
#![cfg(unix)]

use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use crate::common::{generate, gramrec, ok_json, small_model, train};
use predicates::prelude::*;

fn stderr_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

/// Fails on panics and multi-line errors, returns the one line.
fn one_line_error(a: assert_cmd::assert::Assert, code: i32) -> String {
    let err = stderr_of(&a.code(code));
    assert!(!err.contains("panicked") && !err.contains("internal error"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

#[test]
fn outputs_that_are_devices_pipes_or_links_are_written_through_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let small = ["generate", "--users", "10", "--items", "10", "--nnz", "40", "--out"];

    // A full device: the write fails, and the device stays a device.
    let err = one_line_error(gramrec().args(small).arg("/dev/full").assert(), 1);
    assert!(err.contains("No space left on device"), "{err}");
    assert!(!std::fs::metadata("/dev/full").unwrap().is_file());

    // A FIFO: a reader gets the data, and the FIFO stays a FIFO.
    let fifo = d.join("pipe");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    gramrec().args(small).arg(&fifo).assert().success();
    assert_eq!(reader.join().unwrap().lines().count(), 41);
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());

    // A symbolic link stays a link to the new content.
    let (real, link) = (d.join("real.csv"), d.join("link.csv"));
    std::os::unix::fs::symlink(&real, &link).unwrap();
    gramrec().args(small).arg(&link).assert().success();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_to_string(&real).unwrap().lines().count(), 41);

    // Standard output, by its device path and by `-`, with nothing left behind.
    for out in ["/dev/stdout", "-"] {
        let a = gramrec().current_dir(d).args(small).arg(out).assert().success();
        assert!(String::from_utf8_lossy(&a.get_output().stdout).starts_with("user,item,rating\n"), "{out}");
    }
    let left: Vec<_> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 3, "only the FIFO, the link and its target: {left:?}");
}

#[test]
fn a_command_never_overwrites_its_own_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (train_file, model) = small_model(d);
    let before = |p: &Path| std::fs::read(p).unwrap();
    let (items, users, data) =
        (before(&model.join("items.gramrec")), before(&model.join("users.gramrec")), before(&train_file));

    let err = one_line_error(gramrec().args(["split", "--input"]).arg(&train_file).arg("--out").arg(d).assert(), 2);
    assert!(err.contains("is also an input"), "{err}");
    for (cmd, out) in [
        (vec!["export", "--model"], model.join("users.gramrec")),
        (vec!["recommend", "--all", "--model"], model.join("items.gramrec")),
    ] {
        let a = gramrec().args(cmd).arg(&model).arg("--out").arg(&out).assert();
        assert!(one_line_error(a, 2).contains("is also an input"));
    }
    let a = gramrec()
        .args(["recommend", "--all", "--model"])
        .arg(&model)
        .arg("--train")
        .arg(&train_file)
        .arg("--out")
        .arg(&train_file)
        .assert();
    one_line_error(a, 2);
    assert_eq!(before(&model.join("items.gramrec")), items);
    assert_eq!(before(&model.join("users.gramrec")), users);
    assert_eq!(before(&train_file), data);
}

#[test]
fn arguments_are_bounded_by_the_data_or_refused_with_their_range() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (train_file, model) = small_model(d);

    // --k past the catalogue is the catalogue; 2⁶² used to panic allocating.
    let all = ok_json(
        gramrec().args(["recommend", "--json", "--user", "u1", "--k", "4611686018427387904", "--model"]).arg(&model),
    );
    let items =
        ok_json(gramrec().args(["inspect", "--json"]).arg(model.join("items.gramrec")))["rows"].as_u64().unwrap();
    assert!(all["items"].as_array().unwrap().len() as u64 <= items);
    let sim =
        ok_json(gramrec().args(["similar", "--json", "--item", "i1", "--k", "100000000000", "--model"]).arg(&model));
    assert_eq!(sim["items"].as_array().unwrap().len() as u64, items - 1);

    let refused = |args: &[&str], message: &str| {
        let err = one_line_error(
            gramrec().args(args).arg("--input").arg(&train_file).arg("--out").arg(d.join("x")).assert(),
            2,
        );
        assert!(err.contains(message), "{args:?}: {err}");
    };
    refused(&["train", "--iterations", "0"], "--iterations must be between 1 and 100000, not 0");
    refused(&["train", "--threads", "100000"], "--threads must be between 0");
    refused(&["train", "--cg-steps", "0"], "--cg-steps must be between 1");
    refused(&["tune", "--folds", "20000", "--factors", "2"], "--folds must be between 2 and 100");
    assert!(!d.join("x").exists());
    for cmd in [&["recommend", "--user", "u1"][..], &["similar", "--item", "i1"]] {
        let err = one_line_error(gramrec().args(cmd).args(["--k", "0", "--model"]).arg(&model).assert(), 2);
        assert!(err.contains("--k must be at least 1"), "{err}");
    }
    let err = one_line_error(gramrec().args(["generate", "--users", "0", "--out"]).arg(d.join("g.csv")).assert(), 2);
    assert!(err.contains("--users must be at least 1"), "{err}");
    let err = one_line_error(
        gramrec()
            .env("GRAMREC_MEMORY_LIMIT", "1000000")
            .args(["generate", "--users", "100000", "--nnz", "100000000", "--out"])
            .arg(d.join("g.csv"))
            .assert(),
        2,
    );
    assert!(err.contains("generating the data needs about"), "{err}");

    // Per-user folds of a few users leave folds with nothing to score: an
    // error naming the fold, not an RMSE of 0 that wins the grid.
    let tiny = d.join("tiny.csv");
    std::fs::write(&tiny, "user,item,rating\na,x,1\na,y,2\nb,x,3\nb,z,4\n").unwrap();
    let a = gramrec()
        .args(["tune", "-q", "--folds", "4", "--mode", "per-user", "--factors", "2", "--input"])
        .arg(&tiny)
        .arg("--out")
        .arg(d.join("t"))
        .assert();
    let err = one_line_error(a, 2);
    assert!(err.contains("use fewer --folds"), "{err}");
}

#[test]
fn generated_data_has_the_size_and_kind_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.csv");
    gramrec().args(["generate", "--nnz", "100", "--out"]).arg(&small).assert().success();
    let rows = std::fs::read_to_string(&small).unwrap().lines().count() - 1;
    assert!((90..=110).contains(&rows), "{rows} rows for --nnz 100");
    let clicks = dir.path().join("clicks.csv");
    generate(&clicks, "implicit", 50, 40, 500);
    let model = dir.path().join("m");
    train(&clicks, &model, &[]);
    let info = ok_json(gramrec().args(["inspect", "--json"]).arg(model.join("items.gramrec")));
    assert_eq!(info["kind"], "implicit", "implicit data trains an implicit model");
}

/// An item file with valid checksums whose metadata says `rating_min` is
/// above `rating_max` (which made `clamp` panic) or that claims 200,000
/// factors (which made fold-in allocate 160 GB).
#[test]
fn crafted_factor_files_with_valid_checksums_are_refused() {
    use gramrec_core::format::{frame, sections, TAG_META};
    let dir = tempfile::tempdir().unwrap();
    let (_, model) = small_model(dir.path());
    let good = std::fs::read(model.join("items.gramrec")).unwrap();
    for (key, value, why) in [
        ("rating_min", "100", "not a range"),
        ("factors", "200000", "'factors' must be between 1 and 1024, not 200000"),
    ] {
        // Re-frame the sections, the metadata changed.
        let mut all = sections(&good).unwrap();
        let meta = &mut all.iter_mut().find(|(t, _)| *t == TAG_META).unwrap().1;
        let text = String::from_utf8(meta.clone()).unwrap();
        *meta = text
            .lines()
            .map(|l| if l.starts_with(&format!("{key}=")) { format!("{key}={value}\n") } else { format!("{l}\n") })
            .collect::<String>()
            .into_bytes();
        let sections = all;
        let crafted = dir.path().join(format!("{key}.gramrec"));
        std::fs::write(&crafted, frame(&sections)).unwrap();
        let err = one_line_error(gramrec().args(["recommend", "--history", "i1", "--model"]).arg(&crafted).assert(), 2);
        assert!(err.contains(why), "{key}: {err}");
    }
}

#[test]
fn data_cannot_drive_the_terminal_or_break_tables() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = d.join("odd.csv");
    let mut text = String::from("user,item\n");
    for u in 0..60 {
        for i in 0..8 {
            text.push_str(&format!("u{u},i{}\n", (u * 3 + i) % 30));
        }
    }
    // IDs with terminal escape sequences, and one the loader refuses for its length.
    text.push_str("u1,\x1b[31mred\nu2,\x1b]0;title\x07\n");
    std::fs::write(&input, &text).unwrap();
    let model = d.join("m");
    train(&input, &model, &[]);
    let long = d.join("long.csv");
    std::fs::write(&long, format!("{text}u0,{}\n", "w".repeat(70_000))).unwrap();
    let err = one_line_error(gramrec().args(["train", "--input"]).arg(&long).arg("--out").arg(d.join("l")).assert(), 2);
    assert!(err.contains("item ID of 70000 bytes, more than 4 KiB"), "{err}");
    // A model may still hold an ID of 70,000 characters (a table once
    // panicked formatting it): written into the item file here.
    let items_path = model.join("items.gramrec");
    let mut items = gramrec_core::FactorFile::from_bytes(&std::fs::read(&items_path).unwrap()).unwrap();
    items.ids[0] = "w".repeat(70_000);
    std::fs::write(&items_path, items.to_bytes().unwrap()).unwrap();
    for user in ["u0", "u1", "u2", "u3"] {
        let a = gramrec().args(["recommend", "--k", "40", "--user", user, "--model"]).arg(&model).assert().success();
        let out = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
        assert!(!out.contains('\x1b') && !out.contains('\x07'), "raw control characters in the table: {out:?}");
    }
    let a = gramrec().arg("inspect").arg(model.join("items.gramrec")).assert().success();
    assert!(!String::from_utf8_lossy(&a.get_output().stdout).contains('\x1b'));
    // JSON keeps IDs exact.
    let json = ok_json(gramrec().args(["similar", "--json", "--k", "40", "--item", "i1", "--model"]).arg(&model));
    assert!(json["items"].as_array().unwrap().iter().any(|i| i["item"] == "\x1b[31mred"));
    // Errors too.
    let err = one_line_error(gramrec().args(["similar", "--item", "\x1b[2Jgone", "--model"]).arg(&model).assert(), 2);
    assert!(!err.contains('\x1b') && err.contains("\\u{1b}[2Jgone"), "{err}");

    // --csv-safe: formula-like IDs get a leading quote.
    let sheet = d.join("formula.csv");
    std::fs::write(&sheet, "user,item\n=cmd|calc,i1\n=cmd|calc,i2\n+u,i1\n+u,i3\n").unwrap();
    let m2 = d.join("m2");
    train(&sheet, &m2, &[]);
    let top = d.join("top.csv");
    gramrec().args(["recommend", "--all", "--csv-safe", "--model"]).arg(&m2).arg("--out").arg(&top).assert().success();
    let csv = std::fs::read_to_string(&top).unwrap();
    assert!(csv.lines().skip(1).all(|l| !l.starts_with('=') && !l.starts_with('+')), "{csv}");
    assert!(csv.contains("'=cmd|calc"), "{csv}");
}

#[test]
fn huge_but_finite_weights_still_get_recommendations() {
    let dir = tempfile::tempdir().unwrap();
    let clicks = dir.path().join("clicks.csv");
    generate(&clicks, "implicit", 300, 120, 6000);
    let model = dir.path().join("m");
    gramrec()
        .args(["train", "-q", "--factors", "32", "--input"])
        .arg(&clicks)
        .arg("--out")
        .arg(&model)
        .assert()
        .success();
    for weight in ["10000000000", "1e15"] {
        let r = ok_json(
            gramrec()
                .args(["recommend", "--json", "--history"])
                .arg(format!("i1:{weight},i2"))
                .arg("--model")
                .arg(&model),
        );
        assert_eq!(r["coldStart"], false);
        assert_eq!(r["items"].as_array().unwrap().len(), 10, "weight {weight}");
    }
    // Past ±1e15 a weight is refused where it is accepted, as every reader refuses such a value.
    let a = gramrec().args(["recommend", "--json", "--history", "i1:1e30,i2", "--model"]).arg(&model).assert();
    assert!(one_line_error(a, 2).contains("the weight of 'i1' is not a finite number within ±1e15"));
}

#[test]
fn an_io_error_prints_its_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let a = gramrec()
        .args(["generate", "--nnz", "10", "--users", "5", "--items", "5", "--out"])
        .arg(file.join("x.csv"))
        .assert();
    let err = one_line_error(a, 1);
    assert_eq!(err.matches("Not a directory").count(), 1, "{err}");
}

#[test]
fn an_interrupted_model_commit_leaves_the_old_model_readable() {
    // The state a kill between a commit's two renames leaves: the new item
    // file beside the old user file, the old item file kept aside.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (train_file, old) = small_model(d);
    let new = d.join("new");
    train(&train_file, &new, &["--seed", "7"]);
    let before = ok_json(gramrec().args(["recommend", "--json", "--user", "u1", "--model"]).arg(&old));
    std::fs::rename(old.join("items.gramrec"), old.join(".items.gramrec.prev")).unwrap();
    std::fs::copy(new.join("items.gramrec"), old.join("items.gramrec")).unwrap();
    let after = ok_json(gramrec().args(["recommend", "--json", "--user", "u1", "--model"]).arg(&old));
    assert_eq!(before, after, "the old pair is used");
    // The next commit into it cleans up and leaves a consistent pair.
    train(&train_file, &old, &["--seed", "9"]);
    assert!(!old.join(".items.gramrec.prev").exists());
    gramrec().args(["recommend", "--user", "u1", "--model"]).arg(&old).assert().success();
}

#[test]
fn concurrent_trainings_into_one_directory_leave_a_whole_pair() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = d.join("d.csv");
    generate(&input, "explicit", 400, 300, 20000);
    let out = d.join("m");
    for round in 0..8 {
        let children: Vec<_> = (0..2)
            .map(|k| {
                std::process::Command::new(assert_cmd::cargo::cargo_bin("gramrec"))
                    .args(["train", "-q", "--factors", "8", "--iterations", "2", "--seed"])
                    .arg((round * 2 + k).to_string())
                    .arg("--input")
                    .arg(&input)
                    .arg("--out")
                    .arg(&out)
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut c in children {
            assert!(c.wait().unwrap().success());
        }
        gramrec()
            .args(["recommend", "--user", "u1", "--model"])
            .arg(&out)
            .assert()
            .success()
            .stderr(predicate::str::is_empty());
    }
}
