//! The `gramrec` binary end to end: generate → train → evaluate → recommend →
//! similar → inspect, and the errors a user sees.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn gramrec() -> Command {
    Command::cargo_bin("gramrec").unwrap()
}

fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).expect("stdout is one JSON object")
}

/// Writes a small synthetic explicit data set and splits it 80/20 by line.
fn data(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let all = dir.join("all.csv");
    gramrec()
        .args([
            "generate", "--users", "300", "--items", "200", "--nnz", "12000", "--out",
        ])
        .arg(&all)
        .assert()
        .success();
    let text = std::fs::read_to_string(&all).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let (mut train, mut test) = (format!("{header}\n"), format!("{header}\n"));
    for (n, l) in lines.enumerate() {
        let dst = if n % 5 == 0 { &mut test } else { &mut train };
        dst.push_str(l);
        dst.push('\n');
    }
    let (tr, te) = (dir.join("train.csv"), dir.join("test.csv"));
    std::fs::write(&tr, train).unwrap();
    std::fs::write(&te, test).unwrap();
    (tr, te)
}

#[test]
fn train_evaluate_recommend_similar_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = data(dir.path());
    let model = dir.path().join("model");

    let out = gramrec()
        .args([
            "train",
            "--factors",
            "8",
            "--iterations",
            "5",
            "--json",
            "--input",
        ])
        .arg(&train)
        .arg("--out")
        .arg(&model)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let t = json(&out);
    assert_eq!(
        t["params"]["kind"], "explicit",
        "a rating column means an explicit model"
    );
    assert_eq!(t["iterations"].as_array().unwrap().len(), 5);
    let losses: Vec<f64> = t["iterations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["loss"].as_f64().unwrap())
        .collect();
    assert!(
        losses.windows(2).all(|w| w[1] <= w[0] * (1.0 + 1e-6)),
        "loss rose: {losses:?}"
    );
    assert!(model.join("items.gramrec").exists() && model.join("users.gramrec").exists());

    let ev = json(
        &gramrec()
            .args(["evaluate", "--json", "--model"])
            .arg(&model)
            .arg("--train")
            .arg(&train)
            .arg("--test")
            .arg(&test)
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let rmse = ev["rmse"].as_f64().unwrap();
    assert!(
        rmse > 0.3 && rmse < 0.8,
        "RMSE {rmse} on data with noise 0.5"
    );

    let rec = json(
        &gramrec()
            .args(["recommend", "--json", "--k", "5", "--user", "u1", "--model"])
            .arg(&model)
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(rec["items"].as_array().unwrap().len(), 5);
    assert_eq!(rec["coldStart"], false);

    let folded = json(
        &gramrec()
            .args([
                "recommend",
                "--json",
                "--k",
                "3",
                "--history",
                "i1:5,i2:1,nope",
                "--model",
            ])
            .arg(&model)
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(folded["unknown"], serde_json::json!(["nope"]));
    let items: Vec<&str> = folded["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["item"].as_str().unwrap())
        .collect();
    assert_eq!(items.len(), 3);
    assert!(
        !items.contains(&"i1") && !items.contains(&"i2"),
        "history items are excluded"
    );

    let cold = json(
        &gramrec()
            .args(["recommend", "--json", "--history", "zzz", "--model"])
            .arg(&model)
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(cold["coldStart"], true);

    let sim = json(
        &gramrec()
            .args(["similar", "--json", "--item", "i3", "--k", "4", "--model"])
            .arg(&model)
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let sims = sim["items"].as_array().unwrap();
    assert_eq!(sims.len(), 4);
    assert!(sims
        .iter()
        .all(|s| s["item"] != "i3" && s["score"].as_f64().unwrap() <= 1.0 + 1e-6));

    let info = json(
        &gramrec()
            .args(["inspect", "--json"])
            .arg(model.join("items.gramrec"))
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(info["side"], "items");
    assert_eq!(info["factors"], 8);
    assert_eq!(
        info["sections"],
        serde_json::json!(["biases", "gram", "popularity"])
    );
    gramrec()
        .arg("inspect")
        .arg(model.join("users.gramrec"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "users factors of a explicit model",
        ));
}

#[test]
fn implicit_training_with_cg_and_i8_files() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("clicks.csv.gz");
    gramrec()
        .args([
            "generate", "--kind", "implicit", "--users", "200", "--items", "100", "--nnz", "4000",
            "--out",
        ])
        .arg(&input)
        .assert()
        .success();
    let model = dir.path().join("m");
    gramrec()
        .args([
            "train",
            "--implicit",
            "--solver",
            "cg",
            "--factors",
            "8",
            "--iterations",
            "3",
            "--dtype",
            "i8",
            "-q",
            "--input",
        ])
        .arg(&input)
        .arg("--out")
        .arg(&model)
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
    let info = json(
        &gramrec()
            .args(["inspect", "--json"])
            .arg(model.join("items.gramrec"))
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(info["dtype"], "i8");
    assert_eq!(info["kind"], "implicit");
}

#[test]
fn bad_input_is_one_line_with_file_and_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "u1,i1,5\nu2,i2,five\n").unwrap();
    let out = gramrec()
        .args(["train", "-q", "--input"])
        .arg(&bad)
        .arg("--out")
        .arg(dir.path().join("m"))
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("bad.csv:2: rating 'five' is not a number"),
        "{err}"
    );
    assert!(
        !dir.path().join("m").exists(),
        "nothing is written on failure"
    );

    gramrec()
        .args(["train", "--input", "/no/such/file.csv"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("/no/such/file.csv"));
    gramrec()
        .args(["train", "--factors", "0", "--input"])
        .arg(&bad)
        .assert()
        .code(2);
}

#[test]
fn corrupt_model_is_a_clear_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = data(dir.path());
    let model = dir.path().join("model");
    gramrec()
        .args([
            "train",
            "-q",
            "--factors",
            "4",
            "--iterations",
            "2",
            "--input",
        ])
        .arg(&train)
        .arg("--out")
        .arg(&model)
        .assert()
        .success();
    let items = model.join("items.gramrec");
    let mut bytes = std::fs::read(&items).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x10;
    std::fs::write(&items, &bytes).unwrap();
    let err = gramrec()
        .args(["similar", "--item", "i1", "--model"])
        .arg(&model)
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(err).unwrap();
    assert!(
        err.contains("items.gramrec: factor file is corrupt"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
    gramrec()
        .args(["inspect"])
        .arg(&train)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a gramrec factor file"));
}

#[test]
fn every_command_explains_itself() {
    for cmd in [
        "train",
        "evaluate",
        "recommend",
        "similar",
        "inspect",
        "bench",
        "demo",
        "generate",
    ] {
        gramrec()
            .args([cmd, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains("Example"));
    }
    gramrec()
        .assert()
        .code(2)
        .stderr(predicate::str::contains("demo"));
}
