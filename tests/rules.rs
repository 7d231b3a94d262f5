//! `gramrec rules`: hand-checked cases everywhere; the comparison with the
//! real Spark's FPGrowth with the `interop-tests` feature (a JRE and
//! GRAMREC_TEST_PYTHON, as tests/run-all.sh sets up).

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::gramrec;

/// Itemsets (sorted items) → count, from `{items, freq}` JSON lines.
fn itemsets(path: &Path) -> BTreeMap<Vec<String>, u64> {
    lines(path).map(|v| (strings(&v["items"]), v["freq"].as_u64().unwrap())).collect()
}

/// Rules (sorted antecedent, consequent) → (confidence, lift, support).
fn rules(path: &Path) -> BTreeMap<(Vec<String>, String), (f64, f64, f64)> {
    lines(path)
        .map(|v| {
            let consequent = strings(&v["consequent"]);
            assert_eq!(consequent.len(), 1, "one consequent");
            let f = |k: &str| v[k].as_f64().unwrap();
            ((strings(&v["antecedent"]), consequent[0].clone()), (f("confidence"), f("lift"), f("support")))
        })
        .collect()
}

fn lines(path: &Path) -> impl Iterator<Item = serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect::<Vec<_>>().into_iter()
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    let mut s: Vec<String> = v.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect();
    s.sort();
    s
}

/// Runs `gramrec rules` on a basket file; returns (itemsets, rules) paths.
fn mine(
    dir: &Path,
    baskets: &str,
    support: &str,
    confidence: &str,
    extra: &[&str],
) -> (std::path::PathBuf, std::path::PathBuf) {
    let input = dir.join("baskets.txt");
    std::fs::write(&input, baskets).unwrap();
    let (sets, out) = (dir.join("itemsets.jsonl"), dir.join("rules.jsonl"));
    gramrec()
        .args(["rules", "--format", "baskets", "--min-support", support, "--min-confidence", confidence, "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .arg("--itemsets")
        .arg(&sets)
        .args(extra)
        .assert()
        .success();
    (sets, out)
}

fn set(items: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn the_textbook_example_by_hand() {
    // Han, Pei and Yin (2000), min support 3 of 5 baskets.
    let dir = tempfile::tempdir().unwrap();
    let baskets = "f,a,c,d,g,i,m,p\na,b,c,f,l,m,o\nb,f,h,j,o\nb,c,k,s,p\na,f,c,e,l,p,m,n\n";
    let (sets, out) = mine(dir.path(), baskets, "3", "0.9", &[]);
    let sets = itemsets(&sets);
    assert_eq!(sets.len(), 18);
    assert_eq!(sets[&set(&["f", "c", "a", "m"])], 3);
    assert_eq!(sets[&set(&["f"])], 4);
    assert_eq!(sets[&set(&["c", "p"])], 3);
    assert!(!sets.contains_key(&set(&["f", "p"])), "{{f, p}} is in 2 baskets only");
    let rules = rules(&out);
    // a ⇒ m: a is in 3 baskets, all with m: confidence 1, lift 1 / (3/5).
    let (conf, lift, support) = rules[&(set(&["a"]), "m".to_string())];
    assert_eq!((conf, lift, support), (1.0, 1.0 / 0.6, 0.6));
    // f ⇒ c: 3 of f's 4 baskets: below 0.9.
    assert!(!rules.contains_key(&(set(&["f"]), "c".to_string())));
    // The same thresholds as a fraction: 3 of 5 baskets is 0.6.
    let (sets2, _) = mine(dir.path(), baskets, "0.6", "0.9", &[]);
    assert_eq!(itemsets(&sets2).len(), 18);
}

#[test]
fn edge_cases_behave_as_defined() {
    let dir = tempfile::tempdir().unwrap();
    // One-item baskets: itemsets, never rules.
    let (sets, out) = mine(dir.path(), "a\nb\na\n", "0.0", "0", &[]);
    assert_eq!(itemsets(&sets).len(), 2);
    assert!(rules(&out).is_empty());
    // An item in every basket: every rule into it has lift 1.
    let (_, out) = mine(dir.path(), "x,a\nx,b\nx,a,b\nx\n", "0.0", "0", &[]);
    let rules_ = rules(&out);
    for ((_, consequent), (_, lift, _)) in &rules_ {
        if consequent == "x" {
            assert!((lift - 1.0).abs() < 1e-12, "lift {lift}");
        }
    }
    assert_eq!(rules_[&(set(&["a"]), "x".to_string())].0, 1.0);
    // Support 1: only what every basket holds.
    let (sets, _) = mine(dir.path(), "x,a\nx,b\nx,a,b\nx\n", "1.0", "0", &[]);
    assert_eq!(itemsets(&sets).keys().cloned().collect::<Vec<_>>(), vec![set(&["x"])]);
    // Confidence 1: only rules that always hold.
    let (_, out) = mine(dir.path(), "x,a\nx,b\nx,a,b\nx\n", "0.0", "1", &[]);
    assert!(rules(&out).values().all(|r| r.0 == 1.0));
    // Repeated items count once, and the log says so; blank lines are no baskets.
    let input = dir.path().join("repeats.txt");
    std::fs::write(&input, "a,a,b\n\nb\n").unwrap();
    let out = gramrec()
        .args(["rules", "--format", "baskets", "--min-support", "1", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(dir.path().join("repeats.jsonl"))
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("2 baskets") && err.contains("1 items repeated within a basket were counted once"), "{err}");
    // --max-len limits the itemsets.
    let (sets, _) = mine(dir.path(), "a,b,c\na,b,c\n", "1", "0", &["--max-len", "2"]);
    assert!(itemsets(&sets).keys().all(|s| s.len() <= 2));
    assert_eq!(itemsets(&sets).len(), 6);
}

#[test]
fn an_exploding_threshold_is_refused_with_what_to_raise() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("dense.txt");
    // `rules` on three copies of one basket of `items` items at a support of
    // 1, with `limit`: its one error line, and no output written.
    let refused = |items: usize, limit: &[&str]| {
        let basket: Vec<String> = (0..items).map(|i| format!("i{i}")).collect();
        std::fs::write(&input, format!("{}\n", basket.join(",")).repeat(3)).unwrap();
        let out = gramrec()
            .args(["rules", "--format", "baskets", "--min-support", "1"])
            .args(limit)
            .arg("--out")
            .arg(dir.path().join("r.jsonl"))
            .arg("--input")
            .arg(&input)
            .assert()
            .code(2);
        assert!(!dir.path().join("r.jsonl").exists());
        String::from_utf8_lossy(&out.get_output().stderr).trim().to_string()
    };
    let err = refused(24, &["--max-itemsets", "100000"]);
    assert!(
        err.contains("more than 100000 frequent itemsets at a support of 1 of 3 baskets: raise --min-support"),
        "{err}"
    );
    assert_eq!(err.lines().filter(|l| l.starts_with("gramrec:")).count(), 1, "one error line: {err}");
    // Under the itemset limit, the rules are bounded too: 15 items give
    // 32,752 itemsets and 245,745 rules at full confidence.
    let err = refused(15, &["--max-rules", "100000"]);
    assert!(err.contains("245745 rules at a support of 1 of 3 baskets") && err.contains("--max-rules 100000"), "{err}");
}

#[test]
fn outputs_in_every_format_and_show_with_names() {
    let dir = tempfile::tempdir().unwrap();
    let baskets = "bread,butter\nbread,butter,jam\nbread,milk\nbutter,jam\nbread,butter\n";
    let input = dir.path().join("b.txt");
    std::fs::write(&input, baskets).unwrap();
    // A model that names the items.
    let log = dir.path().join("log.csv");
    std::fs::write(
        &log,
        "user,item,name\nu1,bread,Sourdough\nu1,jam,Apricot jam\nu2,butter,Salted butter\nu2,bread,Sourdough\n",
    )
    .unwrap();
    let model = dir.path().join("model");
    gramrec()
        .args([
            "train",
            "-q",
            "--implicit",
            "--factors",
            "2",
            "--iterations",
            "1",
            "--item-name-col",
            "name",
            "--input",
        ])
        .arg(&log)
        .arg("--out")
        .arg(&model)
        .assert()
        .success();
    for ext in ["jsonl", "csv", "parquet", "gramrec"] {
        let out = dir.path().join(format!("rules.{ext}"));
        gramrec()
            .args(["rules", "--format", "baskets", "--min-support", "2", "--min-confidence", "0.5", "--input"])
            .arg(&input)
            .arg("--out")
            .arg(&out)
            .arg("--model")
            .arg(&model)
            .assert()
            .success();
        assert!(std::fs::metadata(&out).unwrap().len() > 0, "{ext}");
    }
    let csv = std::fs::read_to_string(dir.path().join("rules.csv")).unwrap();
    assert!(csv.starts_with("antecedent,consequent,confidence,lift,support\n"), "{csv}");
    assert!(csv.contains("jam,butter,1,"), "jam ⇒ butter always: {csv}");
    let parquet = std::fs::File::open(dir.path().join("rules.parquet")).unwrap();
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(parquet).unwrap().build().unwrap();
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, csv.lines().count() - 1, "the same rules in Parquet");
    // --show from the rules file, names from the file itself.
    let rules_file = dir.path().join("rules.gramrec");
    let out = gramrec().args(["rules", "--show", "jam", "--json", "--rules"]).arg(&rules_file).assert().success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["item"], "jam");
    assert_eq!(v["items"][0]["item"], "butter");
    assert_eq!(v["items"][0]["confidence"], 1.0);
    assert_eq!(v["items"][0]["name"], "Salted butter");
    let out = gramrec().args(["rules", "--show", "bread", "--rules"]).arg(&rules_file).assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("Salted butter") && text.contains("confidence"), "{text}");
    let out = gramrec().args(["rules", "--show", "caviar", "--rules"]).arg(&rules_file).assert().code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("item 'caviar' is in no basket"));
    // A damaged rules file is one clear error.
    let mut bytes = std::fs::read(&rules_file).unwrap();
    let n = bytes.len();
    bytes[n - 70] ^= 1;
    std::fs::write(&rules_file, bytes).unwrap();
    let out = gramrec().args(["rules", "--show", "jam", "--rules"]).arg(&rules_file).assert().failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).trim().to_string();
    assert!(err.contains("rules.gramrec: rules file is corrupt: padding after section INFO"), "{err}");
}

/// Baskets with planted co-purchases: power-law popularity over 60 items,
/// p3 pulls in p7, {p10, p11} pull in p12.
fn planted_baskets(n: usize) -> String {
    let mut state = 0x9E3779B97F4A7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut out = String::new();
    for _ in 0..n {
        let size = 1 + (next() * 7.0) as usize;
        let mut basket: Vec<usize> = (0..size).map(|_| ((60.0f64).powf(next()) - 1.0) as usize).collect();
        if basket.contains(&3) && next() < 0.8 {
            basket.push(7);
        }
        if next() < 0.1 {
            basket.extend([10, 11]);
            if next() < 0.9 {
                basket.push(12);
            }
        }
        basket.sort_unstable();
        basket.dedup();
        let names: Vec<String> = basket.iter().map(|i| format!("p{i}")).collect();
        out.push_str(&names.join(","));
        out.push('\n');
    }
    out
}

#[cfg(feature = "interop-tests")]
#[test]
fn the_same_itemsets_and_rules_as_spark_fpgrowth() {
    let dir = tempfile::tempdir().unwrap();
    let (support, confidence) = ("0.02", "0.3");
    let (sets, out) = mine(dir.path(), &planted_baskets(3000), support, confidence, &[]);
    let python = std::env::var_os("GRAMREC_TEST_PYTHON").expect("GRAMREC_TEST_PYTHON (tests/run-all.sh sets it)");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/fpgrowth_check.py");
    let status =
        std::process::Command::new(python).arg(script).arg(dir.path()).args([support, confidence]).status().unwrap();
    assert!(status.success());
    let (ours, theirs) = (itemsets(&sets), itemsets(&dir.path().join("spark-itemsets.jsonl")));
    assert!(theirs.len() > 60, "the planted sets are frequent: {}", theirs.len());
    assert_eq!(ours, theirs, "the same itemsets and counts");
    let (ours, theirs) = (rules(&out), rules(&dir.path().join("spark-rules.jsonl")));
    assert!(theirs.contains_key(&(set(&["p10", "p11"]), "p12".to_string())), "the planted rule");
    assert_eq!(ours.keys().collect::<Vec<_>>(), theirs.keys().collect::<Vec<_>>(), "the same rules");
    for (k, (a, b)) in ours.iter().map(|(k, v)| (k, (v, &theirs[k]))) {
        for (x, y) in [(a.0, b.0), (a.1, b.1), (a.2, b.2)] {
            assert!((x - y).abs() <= 1e-9 * x.abs().max(y.abs()), "{k:?}: {a:?} vs {b:?}");
        }
    }
}
