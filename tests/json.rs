//! Every `--json` output (and every JSON file a command writes) against its
//! schema in docs/schema/: one camelCase convention, no field undocumented.

use std::path::Path;

use crate::common::{check, data, generate, gramrec, ok_json, split_lines, train, validator};
use serde_json::Value;

fn file_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_json_output_matches_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (train_file, test_file) = data(d);
    let model = d.join("m");
    let t = ok_json(
        gramrec()
            .args(["train", "-q", "--json", "--factors", "4", "--iterations", "2", "--validate"])
            .arg(&test_file)
            .arg("--input")
            .arg(&train_file)
            .arg("--out")
            .arg(&model),
    );
    check("train", &t);
    check("validation-report", &file_json(&model.join("report.json")));

    let ev = ok_json(gramrec().args(["evaluate", "--json", "--model"]).arg(&model).arg("--test").arg(&test_file));
    check("evaluate", &ev);
    assert!(ev["rmse"].is_f64() && ev["baseline"]["rmse"].is_f64());

    check("recommendations", &ok_json(gramrec().args(["recommend", "--json", "--user", "u1", "--model"]).arg(&model)));
    check(
        "recommendations",
        &ok_json(gramrec().args(["recommend", "--json", "--history", "i1:4,nope", "--model"]).arg(&model)),
    );
    check("item-list", &ok_json(gramrec().args(["similar", "--json", "--item", "i3", "--model"]).arg(&model)));
    for file in ["items.gramrec", "users.gramrec"] {
        check("inspect", &ok_json(gramrec().args(["inspect", "--json"]).arg(model.join(file))));
    }

    let top = d.join("top.jsonl");
    gramrec().args(["recommend", "--all", "--k", "3", "--model"]).arg(&model).arg("--out").arg(&top).assert().success();
    for line in std::fs::read_to_string(&top).unwrap().lines() {
        check("top-n", &serde_json::from_str(line).unwrap());
    }

    // A Bayesian model: its method and sweeps in `train`, its prior in `inspect`.
    let bayes = d.join("bayes");
    let t = ok_json(
        gramrec()
            .args(["train", "-q", "--json", "--method", "bayes", "--factors", "4", "--samples", "3", "--burn-in", "2"])
            .arg("--input")
            .arg(&train_file)
            .arg("--out")
            .arg(&bayes),
    );
    check("train", &t);
    assert_eq!((t["params"]["method"].as_str(), t["params"]["samples"].as_u64()), (Some("bayes"), Some(3)), "{t}");
    assert_eq!(t["iterations"].as_array().unwrap().len(), 5, "one entry per sweep");
    let inspected = ok_json(gramrec().args(["inspect", "--json"]).arg(bayes.join("items.gramrec")));
    check("inspect", &inspected);
    assert!(inspected["noisePrecision"].as_f64().unwrap() > 0.0, "{inspected}");
    assert!(inspected["sections"].as_array().unwrap().iter().any(|s| s == "prior"), "{inspected}");
    check(
        "evaluate",
        &ok_json(gramrec().args(["evaluate", "--json", "--model"]).arg(&bayes).arg("--test").arg(&test_file)),
    );

    // An implicit model: ranking metrics in the evaluation.
    let clicks = d.join("clicks.csv");
    generate(&clicks, "implicit", 100, 60, 2000);
    let (clicks_train, clicks_test) = split_lines(&clicks, &d.join("clicks-train.csv"), &d.join("clicks-test.csv"));
    let implicit = d.join("implicit");
    train(&clicks_train, &implicit, &[]);
    let ev = ok_json(gramrec().args(["evaluate", "--json", "--model"]).arg(&implicit).arg("--test").arg(&clicks_test));
    check("evaluate", &ev);
    assert!(ev["ndcg"].is_f64() && ev["baseline"]["ndcg"].is_f64());

    let results = d.join("grid.json");
    gramrec()
        .args(["tune", "-q", "--folds", "2", "--factors", "2,4", "--reg", "0.1", "--iterations", "2", "--input"])
        .arg(&train_file)
        .arg("--results")
        .arg(&results)
        .arg("--out")
        .arg(d.join("best"))
        .assert()
        .success();
    check("tune-results", &file_json(&results));

    let small = ["--users", "200", "--items", "100", "--nnz", "3000", "--factors", "4", "--iterations", "2"];
    check("bench", &ok_json(gramrec().args(["bench", "--json", "--device", "cpu"]).args(small)));
    check(
        "bench-recommend-all",
        &ok_json(gramrec().args(["bench", "--json", "--recommend-all", "--users", "50", "--items", "40"])),
    );

    // Association rules: the rules and itemsets files, and --show.
    let baskets = d.join("baskets.txt");
    std::fs::write(&baskets, "a,b\na,b,c\nb,c\na,b\n").unwrap();
    let (rules, sets, bin) = (d.join("rules.jsonl"), d.join("sets.jsonl"), d.join("rules.gramrec"));
    for out in [&rules, &bin] {
        gramrec()
            .args(["rules", "--format", "baskets", "--min-support", "1", "--min-confidence", "0.1", "--input"])
            .arg(&baskets)
            .arg("--out")
            .arg(out)
            .arg("--itemsets")
            .arg(&sets)
            .assert()
            .success();
    }
    for (file, name) in [(&rules, "rule"), (&sets, "itemset")] {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.lines().count() > 3);
        for line in text.lines() {
            check(name, &serde_json::from_str(line).unwrap());
        }
    }
    let shown = ok_json(gramrec().args(["rules", "--show", "a", "--json", "--rules"]).arg(&bin));
    assert!(!shown["items"].as_array().unwrap().is_empty());
    check("associations", &shown);
}

#[test]
fn the_schemas_refuse_other_conventions() {
    // The same recommendation with a snake_case field, and with a field left out.
    let snake = serde_json::json!({"items": [], "cold_start": false, "unknown": []});
    assert!(!validator("recommendations").is_valid(&snake));
    let missing = serde_json::json!({"items": [{"item": "a"}], "coldStart": false, "unknown": []});
    assert!(!validator("recommendations").is_valid(&missing));
}
