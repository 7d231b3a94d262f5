//! Defaults that read the data: play counts train an implicit model with
//! log confidence, ratings an explicit one, and what was read is said.

use crate::common::{check, factors, generate, gramrec, ok_json};
use serde_json::Value;

fn train_json(input: &std::path::Path, out: &std::path::Path, extra: &[&str]) -> Value {
    ok_json(
        gramrec()
            .args(["train", "-q", "--json", "--factors", "16", "--iterations", "6", "--input"])
            .arg(input)
            .arg("--out")
            .arg(out)
            .args(extra),
    )
}

fn ndcg(model: &std::path::Path, train: &std::path::Path, test: &std::path::Path) -> f64 {
    let v = ok_json(
        gramrec().args(["evaluate", "--json", "--model"]).arg(model).arg("--train").arg(train).arg("--test").arg(test),
    );
    v["ndcg"].as_f64().unwrap()
}

/// Writes `gramrec generate --counts`' play-count set (heavy-tailed counts).
fn generate_plays(path: &std::path::Path, users: u32, items: u32, nnz: u32) {
    gramrec()
        .args(["generate", "--kind", "implicit", "--counts"])
        .args(["--users", &users.to_string(), "--items", &items.to_string(), "--nnz", &nnz.to_string()])
        .arg("--out")
        .arg(path)
        .assert()
        .success();
}

#[test]
fn play_counts_get_an_implicit_model_with_log_confidence_and_it_ranks_better() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let plays = d.join("plays.csv");
    generate_plays(&plays, 1500, 400, 60000);
    assert!(std::fs::read_to_string(&plays).unwrap().starts_with("user,item,plays\n"));
    gramrec()
        .args(["split", "--mode", "per-user", "--input"])
        .arg(&plays)
        .arg("--out")
        .arg(d.join("s"))
        .assert()
        .success();
    let (train, test) = (d.join("s/train.csv"), d.join("s/test.csv"));

    let read = train_json(&train, &d.join("auto"), &[]);
    assert_eq!(read["params"]["kind"], "implicit");
    assert_eq!(read["params"]["confidence"], "log");
    let choices: Vec<(String, String)> = read["defaultsRead"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["parameter"].as_str().unwrap().into(), c["value"].as_str().unwrap().into()))
        .collect();
    assert_eq!(choices[..2], [("kind".into(), "implicit".into()), ("confidence".into(), "log".into())]);
    assert!(read["defaultsRead"][1]["reason"].as_str().unwrap().contains("99th percentile"));
    // λ and α were left open (train_json gives the factors): checked on
    // validation, and reported as the values trained with.
    let open: Vec<&str> = choices[2..].iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(open, ["reg", "alpha"]);
    assert_eq!(choices[2].1.parse::<f64>().unwrap(), read["params"]["reg"].as_f64().unwrap());
    assert_eq!(choices[3].1.parse::<f64>().unwrap(), read["params"]["alpha"].as_f64().unwrap());
    assert_eq!(read["defaultsCheck"]["chosen"]["reg"], read["params"]["reg"]);
    assert_eq!(read["defaultsCheck"]["chosen"]["alpha"], read["params"]["alpha"]);

    // Asked for, the curve is not read: no choice is reported.
    let given = ["--confidence", "linear", "--reg", "30", "--alpha", "1"];
    let linear = train_json(&train, &d.join("linear"), &given);
    assert_eq!(linear["params"]["confidence"], "linear");
    assert_eq!(linear["defaultsRead"].as_array().unwrap().len(), 1, "only the kind was read");
    assert!(linear.get("defaultsCheck").is_none(), "a λ, an α and factors given are not checked");
    let (auto, lin) = (ndcg(&d.join("auto"), &train, &test), ndcg(&d.join("linear"), &train, &test));
    assert!(auto > lin * 1.1, "log confidence should rank heavy-tailed counts better: {auto} vs {lin}");

    // --explicit keeps them ratings.
    let explicit = train_json(&train, &d.join("explicit"), &["--explicit"]);
    assert_eq!(explicit["params"]["kind"], "explicit");
    assert_eq!(explicit["defaultsRead"], serde_json::json!([]));
}

#[test]
fn ratings_stay_explicit_and_clicks_keep_linear_confidence() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ratings = d.join("ratings.csv");
    generate(&ratings, "explicit", 200, 100, 4000);
    let r = train_json(&ratings, &d.join("r"), &[]);
    assert_eq!(r["params"]["kind"], "explicit");
    assert_eq!(r["defaultsRead"][0]["value"], "explicit");
    let implicit = train_json(&ratings, &d.join("ri"), &["--implicit"]);
    assert_eq!(implicit["defaultsRead"][0]["parameter"], "confidence");
    assert_eq!(implicit["params"]["confidence"], "linear", "ratings are not heavy-tailed counts");
    let clicks = d.join("clicks.csv");
    generate(&clicks, "implicit", 200, 100, 4000);
    let c = train_json(&clicks, &d.join("c"), &[]);
    assert_eq!((c["params"]["kind"].as_str(), c["params"]["confidence"].as_str()), (Some("implicit"), Some("linear")));
    let read: Vec<&str> =
        c["defaultsRead"].as_array().unwrap().iter().map(|c| c["parameter"].as_str().unwrap()).collect();
    assert_eq!(read, ["kind", "reg", "alpha"], "no values to read a curve from");
    assert!(r.get("defaultsCheck").is_none(), "an explicit model's λ is not checked");
}

/// Reading lists of 8 items a user (30 topics of 40 items): λ 30 leaves a
/// model that ranks like popularity, so `train` replaces it, says why on
/// its log, and records the check; `--reg` skips λ's line (α's is still
/// walked), `--reg` with `--alpha` and `--factors` the whole check.
#[test]
fn train_checks_the_default_lambda_alpha_and_factors_on_validation_and_says_what_it_chose() {
    use rand::{Rng, SeedableRng};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let mut csv = String::from("user,item\n");
    for user in 0..1500 {
        let topic = rng.random_range(0..30);
        let mut seen = std::collections::BTreeSet::new();
        while seen.len() < 8 {
            seen.insert(topic * 40 + rng.random_range(0..40));
        }
        csv.extend(seen.iter().map(|item| format!("u{user},i{item}\n")));
    }
    let lists = d.join("lists.csv");
    std::fs::write(&lists, csv).unwrap();
    let out =
        gramrec().args(["train", "--json", "--input"]).arg(&lists).arg("--out").arg(d.join("m")).output().unwrap();
    assert!(out.status.success());
    let (log, json) = (String::from_utf8_lossy(&out.stderr), serde_json::from_slice::<Value>(&out.stdout).unwrap());
    // The check's record, with its lines, steps and confirmation, as the schema says.
    check("train", &json);
    let chosen = json["params"]["reg"].as_f64().unwrap();
    assert!(chosen < 30.0, "{log}");
    let recorded = &json["defaultsCheck"];
    assert_eq!((recorded["default"]["reg"].as_f64(), recorded["chosen"]["reg"].as_f64()), (Some(30.0), Some(chosen)));
    assert_eq!((recorded["iterations"].as_u64(), recorded["warmIterations"].as_u64()), (Some(15), Some(5)));
    let lines = recorded["lines"].as_array().unwrap();
    let walked: Vec<&str> = lines.iter().map(|l| l["setting"].as_str().unwrap()).collect();
    assert_eq!(walked, ["reg", "alpha", "factors"]);
    assert_eq!(lines[0]["chosen"].as_f64(), Some(chosen));
    assert!(recorded["confirmation"]["margin"].as_f64().unwrap() > 3.0, "{recorded}");
    let line = format!("--reg {chosen}: λ {chosen} led the line from 30 by ");
    assert!(log.contains(&line) && log.contains("trained from scratch scored"), "{log}");
    assert!(log.contains("(--reg to skip the check)") && log.contains("(--alpha to skip the check)"), "{log}");
    // Said before it starts, and what it cost after.
    let before = log.find("checking λ 30, α 1 and 64 factors on a validation split (10% of each user's interactions");
    let after = log.find("the check took ");
    assert!(before.is_some() && before < log.find("--reg ") && after > log.find("--factors "), "{log}");
    let given = train_json(&lists, &d.join("given"), &["--reg", "30"]);
    check("train", &given);
    assert_eq!(given["params"]["reg"], 30.0);
    let lines = given["defaultsCheck"]["lines"].as_array().unwrap();
    let walked: Vec<&str> = lines.iter().map(|l| l["setting"].as_str().unwrap()).collect();
    assert_eq!(walked, ["alpha"], "λ and the factors given: {lines:?}");
    assert!(given["defaultsRead"].as_array().unwrap().iter().all(|c| c["parameter"] != "reg"));
    let all = train_json(&lists, &d.join("all"), &["--reg", "30", "--alpha", "1"]);
    assert!(all.get("defaultsCheck").is_none());
}

#[test]
fn train_auto_searches_within_its_budget_retrains_the_winner_and_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let plays = d.join("plays.csv");
    generate_plays(&plays, 600, 200, 15000);
    // On data this small each trial's set-up costs about half a training: 20 pay for a search.
    let search =
        |out: &str, seed: &str| train_json(&plays, &d.join(out), &["--auto", "--budget", "20x", "--seed", seed]);
    let a = search("a", "3");
    check("train", &a);
    let auto = &a["auto"];
    assert_eq!(auto["budget"], "20x");
    assert_eq!(auto["metric"], "NDCG@10");
    assert!(auto["costTrainings"].as_f64().unwrap() <= 20.0 + 1e-9, "{auto}");
    let trials = auto["trials"].as_array().unwrap();
    assert!(trials.len() > 3, "{auto}");
    let (first, chosen) = (&trials[0], &trials[auto["chosen"].as_u64().unwrap() as usize]);
    assert_eq!((first["params"]["factors"].as_u64(), first["iterations"].as_u64()), (Some(16), Some(6)));
    assert_eq!(first["params"]["confidence"], "log", "the start is the defaults as read from the values");
    assert!(chosen["score"].as_f64() >= first["score"].as_f64(), "never worse on validation: {auto}");
    // The leader is the best on validation (or the best whose confirmation
    // the budget paid for), and wins only by a clear margin on fresh splits.
    let (leader_at, chosen_at) = (auto["leader"].as_u64().unwrap(), auto["chosen"].as_u64().unwrap());
    let leader = &trials[leader_at as usize];
    let top = &trials[auto["bestUnconfirmed"].as_u64().unwrap_or(leader_at) as usize];
    assert!(trials.iter().all(|t| t["score"].as_f64() <= top["score"].as_f64()), "{auto}");
    match auto.get("confirmation") {
        Some(c) => {
            assert!(leader_at > 0 && leader["score"].as_f64() > first["score"].as_f64(), "{auto}");
            let folds = c["folds"].as_u64().unwrap();
            assert!((1..=3).contains(&folds), "a confirmation fits the budget: {auto}");
            let margin = c["margin"].as_f64().unwrap();
            assert_eq!(chosen_at == leader_at, margin > c["needed"].as_f64().unwrap(), "{auto}");
        }
        None => assert_eq!((leader_at, chosen_at), (0, 0), "{auto}"),
    }
    // The model is the winner, retrained on all the data.
    let model_params: Value = a["params"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| chosen["params"].get(k.as_str()).is_some())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(model_params, chosen["params"]);
    assert_eq!(a["params"]["iterations"], chosen["iterations"]);
    let inspect = ok_json(gramrec().args(["inspect", "--json"]).arg(d.join("a/items.gramrec")));
    let facts = inspect["training"].to_string();
    assert!(facts.contains("20x budget") && facts.contains("settings scored"), "{facts}");
    // The same seed gives the same search and model; another seed another search.
    let again = search("b", "3");
    assert_eq!(again["auto"]["trials"], auto["trials"]);
    assert_eq!(factors(&d.join("a"), "items.gramrec"), factors(&d.join("b"), "items.gramrec"));
    assert_ne!(search("c", "4")["auto"]["trials"], auto["trials"]);
    // Without --auto there is no search in the report.
    assert!(train_json(&plays, &d.join("plain"), &[]).get("auto").is_none());
}

#[test]
fn train_auto_on_ratings_minimises_rmse_and_bad_budgets_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ratings = d.join("ratings.csv");
    generate(&ratings, "explicit", 300, 120, 9000);
    let r = train_json(&ratings, &d.join("r"), &["--auto", "--budget", "4x"]);
    let auto = &r["auto"];
    assert_eq!((r["params"]["kind"].as_str(), auto["metric"].as_str()), (Some("explicit"), Some("RMSE")));
    let trials = auto["trials"].as_array().unwrap();
    let top = &trials[auto["bestUnconfirmed"].as_u64().or(auto["leader"].as_u64()).unwrap() as usize];
    assert!(trials.iter().all(|t| t["score"].as_f64() >= top["score"].as_f64()), "lowest RMSE leads: {auto}");
    // Bayesian PMF costs more than 4 trainings here: the log says so. With
    // budget for it, it is the second trial, and when it wins the model is one.
    let mut small = gramrec();
    small.args(["train", "--auto", "--budget", "4x", "-i"]).arg(&ratings).arg("-o").arg(d.join("r4"));
    let log = String::from_utf8(small.output().unwrap().stderr).unwrap();
    assert!(log.contains("--auto: not tried: Bayesian PMF: 64 factors, 100 samples after a burn-in of 20"), "{log}");
    let mut checkpointed = gramrec();
    checkpointed.args(["train", "--auto", "--budget", "200x", "--checkpoint-every", "5", "-i"]).arg(&ratings);
    let log = String::from_utf8(checkpointed.arg("-o").arg(d.join("rc")).output().unwrap().stderr).unwrap();
    assert!(log.contains("--auto: not trying --method bayes: it writes no checkpoints"), "{log}");
    assert!(!log.contains("Bayesian PMF"), "{log}");
    let r = train_json(&ratings, &d.join("r200"), &["--auto", "--budget", "200x"]);
    let trials = r["auto"]["trials"].as_array().unwrap();
    assert_eq!((trials[1]["method"].as_str(), trials[1]["iterations"].as_u64()), (Some("bayes"), Some(120)), "{r}");
    let chosen = &trials[r["auto"]["chosen"].as_u64().unwrap() as usize];
    assert_eq!(r["params"]["method"], chosen["method"], "the model is the chosen method's");
    for (args, message) in [
        (vec!["--auto", "--budget", "10"], "say how the budget counts"),
        (vec!["--auto", "--budget=0x"], "positive"),
        (vec!["--budget", "3x"], "--auto"),
        (vec!["--auto", "--resume"], "--resume"),
    ] {
        let out =
            gramrec().args(["train", "-i"]).arg(&ratings).arg("-o").arg(d.join("bad")).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
}
