//! `import` and `export --to spark|implicit|npy`. The round trips and the
//! errors run everywhere; the comparisons with the real Spark and implicit
//! (the `interop-tests` feature) need a Python with pyspark, implicit and a
//! JRE, named by GRAMREC_TEST_PYTHON — tests/run-all.sh sets both up.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::common::{generate, gramrec, train_small as train};

/// Each user's list of (item, score), from `recommend --all` JSON lines (or
/// the same shape written by the Python side).
type Lists = HashMap<String, Vec<(String, f64)>>;

fn read_lists(path: &Path) -> Lists {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let items = v["items"].as_array().unwrap();
            let list = items.iter().map(|r| (r["item"].as_str().unwrap().to_string(), r["score"].as_f64().unwrap()));
            (v["user"].as_str().unwrap().to_string(), list.collect())
        })
        .collect()
}

/// `recommend --all` of a model.
fn recommend_all(model: &Path, k: usize, extra: &[&str]) -> Lists {
    let out = model.with_extension("recs.jsonl");
    gramrec()
        .args(["recommend", "--all", "--k", &k.to_string(), "--model"])
        .arg(model)
        .arg("--out")
        .arg(&out)
        .args(extra)
        .assert()
        .success();
    read_lists(&out)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-5 * a.abs().max(b.abs()) + 1e-6
}

/// Every user of `want` gets the same list from `got`: the same scores
/// position by position (after `present`, gramrec's clipping), and the same
/// items except where two scores tie.
fn assert_same_lists(got: &Lists, want: &Lists, present: impl Fn(f64) -> f64, what: &str) {
    assert!(!want.is_empty(), "{what}: nothing to compare");
    assert_eq!(got.len(), want.len(), "{what}: users");
    for (user, theirs) in want {
        let ours = got.get(user).unwrap_or_else(|| panic!("{what}: user {user} missing"));
        assert_eq!(ours.len(), theirs.len(), "{what}: list length of user {user}");
        let score_of: HashMap<&str, f64> = ours.iter().map(|(i, s)| (i.as_str(), *s)).collect();
        for (j, ((oi, os), (ti, ts))) in ours.iter().zip(theirs).enumerate() {
            let ts = present(*ts);
            assert!(close(*os, ts), "{what}: user {user} position {j}: score {os} vs {ts}");
            if oi != ti {
                // A tie: the other tool's item scores the same with us (or sits just past our list).
                let tied = score_of.get(ti.as_str()).is_none_or(|s| close(*s, ts));
                assert!(tied, "{what}: user {user} position {j}: {oi} vs {ti} and their scores differ");
            }
        }
    }
}

/// Small data: explicit ratings and implicit interactions (IDs u0…, i0…).
fn data(dir: &Path) -> (PathBuf, PathBuf) {
    let (explicit, implicit) = (dir.join("explicit.csv"), dir.join("implicit.csv"));
    generate(&explicit, "explicit", 150, 50, 2500);
    generate(&implicit, "implicit", 150, 50, 2500);
    (explicit, implicit)
}

fn export(to: &str, model: &Path, out: &Path) {
    gramrec().args(["export", "--to", to, "--model"]).arg(model).arg("--out").arg(out).assert().success();
}

fn import(from: &str, path: &Path, out: &Path, extra: &[&str]) -> PathBuf {
    gramrec().args(["import", "--from", from]).arg(path).arg("--out").arg(out).args(extra).assert().success();
    out.to_path_buf()
}

fn import_error(from: &str, path: &Path, extra: &[&str]) -> String {
    let out = gramrec()
        .args(["import", "--from", from])
        .arg(path)
        .args(["--out", "/nonexistent/never-written"])
        .args(extra)
        .assert()
        .failure()
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn spark_and_implicit_exports_import_back_to_the_same_recommendations() {
    let dir = tempfile::tempdir().unwrap();
    let (explicit, implicit) = data(dir.path());
    for (name, input, extra, to) in [
        ("biased", &explicit, &[][..], "spark"),
        ("unbiased", &explicit, &["--no-biases"][..], "spark"),
        ("implicit", &implicit, &["--implicit"][..], "spark"),
        ("implicit-npz", &implicit, &["--implicit"][..], "implicit"),
    ] {
        let model = train(input, &dir.path().join(name), extra);
        let exported = dir.path().join(format!("{name}.export{}", if to == "implicit" { ".npz" } else { "" }));
        export(to, &model, &exported);
        let train_flag = ["--train", input.to_str().unwrap()];
        let back = import(to, &exported, &dir.path().join(format!("{name}.back")), &train_flag);
        let (want, got) = (recommend_all(&model, 10, &[]), recommend_all(&back, 10, &[]));
        assert_same_lists(&got, &want, |s| s, name);
        // Without the training data nothing is left out, as in Spark.
        let bare = import(to, &exported, &dir.path().join(format!("{name}.bare")), &[]);
        let all = recommend_all(&model, 10, &["--include-seen"]);
        assert_same_lists(&recommend_all(&bare, 10, &[]), &all, |s| s, &format!("{name} without --train"));
    }
}

#[test]
fn foreign_and_damaged_folders_get_one_clear_error_each() {
    let dir = tempfile::tempdir().unwrap();
    let (explicit, _) = data(dir.path());
    let model = train(&explicit, &dir.path().join("m"), &[]);
    let good = dir.path().join("good");
    export("spark", &model, &good);
    let copy = |name: &str| {
        let to = dir.path().join(name);
        copy_dir(&good, &to);
        to
    };

    let no_meta = copy("no-meta");
    std::fs::remove_dir_all(no_meta.join("metadata")).unwrap();
    assert!(import_error("spark", &no_meta, &[]).contains("no metadata/ folder: not a saved Spark ML model"));

    let no_items = copy("no-items");
    std::fs::remove_dir_all(no_items.join("itemFactors")).unwrap();
    assert!(import_error("spark", &no_items, &[]).contains("itemFactors: missing"));

    let truncated = copy("truncated");
    let part = parquet_part(&truncated.join("userFactors"));
    let bytes = std::fs::read(&part).unwrap();
    std::fs::write(&part, &bytes[..bytes.len() / 2]).unwrap();
    let err = import_error("spark", &truncated, &[]);
    assert!(err.contains(&*part.to_string_lossy()) && err.contains("truncated or damaged"), "{err}");

    let wrong = copy("wrong-types");
    let part = parquet_part(&wrong.join("itemFactors"));
    write_parquet(&part, "features", std::sync::Arc::new(arrow_array::StringArray::from(vec!["0.1,0.2"])));
    let err = import_error("spark", &wrong, &[]);
    assert!(err.contains("column 'features' is Utf8, expected array<float>"), "{err}");

    let rank = copy("wrong-rank");
    let meta = rank.join("metadata/part-00000");
    let text = std::fs::read_to_string(&meta).unwrap().replace("\"rank\":8", "\"rank\":5");
    std::fs::write(&meta, text).unwrap();
    assert!(import_error("spark", &rank, &[]).contains("features; the metadata says rank 5"));

    // Settings no model can have are named with their source, not found
    // "corrupt" in the file that import would write.
    let range = copy("bad-range");
    let meta = range.join("metadata/part-00000");
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&meta).unwrap()).unwrap();
    json["gramrec"]["ratingMin"] = serde_json::json!(5.0);
    json["gramrec"]["ratingMax"] = serde_json::json!(1.0);
    std::fs::write(&meta, format!("{json}\n")).unwrap();
    let err = import_error("spark", &range, &[]);
    assert!(
        err.contains("bad-range: the model's settings: 'rating_min' 5 and 'rating_max' 1 are not a range"),
        "{err}"
    );

    let other = copy("other-class");
    let meta = other.join("metadata/part-00000");
    let text = std::fs::read_to_string(&meta).unwrap().replace("recommendation.ALSModel", "feature.StringIndexerModel");
    std::fs::write(&meta, text).unwrap();
    assert!(
        import_error("spark", &other, &[]).contains("this is a Spark org.apache.spark.ml.feature.StringIndexerModel")
    );

    let not_npz = dir.path().join("not.npz");
    std::fs::write(&not_npz, b"PK junk").unwrap();
    assert!(import_error("implicit", &not_npz, &[]).contains("not a NumPy .npz archive"));
    let ids = dir.path().join("short-ids.txt");
    std::fs::write(&ids, "a\nb\n").unwrap();
    let npz = dir.path().join("m.npz");
    export("implicit", &model, &npz);
    let err = import_error("implicit", &npz, &["--user-ids", ids.to_str().unwrap()]);
    assert!(err.contains("user row 2 is not in the ID list (2 entries)"), "{err}");
    assert!(import_error("implicit", &npz, &["--kind", "explicit"]).contains("leave --kind out"));

    // A folder output never replaces the model it reads.
    let out = gramrec().args(["export", "--to", "spark", "--model"]).arg(&model).arg("--out").arg(dir.path()).assert();
    let err = String::from_utf8_lossy(&out.failure().get_output().stderr).to_string();
    assert!(err.contains("is also an input of this command"), "{err}");
    assert!(model.join("users.gramrec").is_file());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

fn parquet_part(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .unwrap()
}

/// A one-row Parquet file with an int `id` and `column`.
fn write_parquet(path: &Path, column: &str, values: arrow_array::ArrayRef) {
    let ids: arrow_array::ArrayRef = std::sync::Arc::new(arrow_array::Int32Array::from(vec![0]));
    let batch = arrow_array::RecordBatch::try_from_iter([("id", ids), (column, values)]).unwrap();
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// Against the real Spark and implicit.
#[cfg(feature = "interop-tests")]
mod real_tools {
    use super::*;

    /// The Python with pyspark and implicit (tests/run-all.sh makes one).
    fn python() -> PathBuf {
        PathBuf::from(std::env::var_os("GRAMREC_TEST_PYTHON").expect(
            "GRAMREC_TEST_PYTHON names a Python with the packages of tests/interop/requirements.txt (tests/run-all.sh)",
        ))
    }

    fn run_script(script: &str, work: &Path) {
        let status = std::process::Command::new(python())
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop").join(script))
            .arg(work)
            .env("OPENBLAS_NUM_THREADS", "1")
            .status()
            .expect("the test Python runs");
        assert!(status.success(), "{script} failed");
    }

    /// Each (user, item) → score of a model, every item included.
    fn all_scores(model: &Path) -> HashMap<(String, String), f64> {
        let lists = recommend_all(model, 100_000, &["--include-seen"]);
        lists.into_iter().flat_map(|(u, l)| l.into_iter().map(move |(i, s)| ((u.clone(), i), s))).collect()
    }

    /// gramrec's clipping of an explicit model's predictions (Spark never clips).
    fn clip_of(input: &Path) -> impl Fn(f64) -> f64 {
        let text = std::fs::read_to_string(input).unwrap();
        let ratings: Vec<f64> = text.lines().skip(1).map(|l| l.rsplit(',').next().unwrap().parse().unwrap()).collect();
        let (lo, hi) = ratings.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &r| (lo.min(r), hi.max(r)));
        move |s: f64| s.clamp(lo as f32 as f64, hi as f32 as f64)
    }

    #[test]
    fn spark_reads_our_models_and_we_read_spark_s() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path();
        let (explicit, implicit) = data(work);
        // The integer-ID path: no label tables.
        let ints = work.join("implicit-int.csv");
        std::fs::write(
            &ints,
            std::fs::read_to_string(&implicit).unwrap().replace(['u', 'i'], "").replace("ser,tem", "user,item"),
        )
        .unwrap();
        let models = [
            ("biased", train(&explicit, &work.join("biased"), &[]), true),
            ("unbiased", train(&explicit, &work.join("unbiased"), &["--no-biases"]), true),
            ("implicit", train(&ints, &work.join("implicit"), &["--implicit"]), false),
        ];
        for (name, model, _) in &models {
            export("spark", model, &work.join(format!("export-{name}")));
        }
        assert!(work.join("export-biased/userIds").is_dir() && !work.join("export-implicit/userIds").exists());
        run_script("spark_check.py", work);

        // Spark's transform and recommendForAllUsers on gramrec's models.
        for (name, model, is_explicit) in &models {
            let present: Box<dyn Fn(f64) -> f64> =
                if *is_explicit { Box::new(clip_of(&explicit)) } else { Box::new(|s| s) };
            let ours = all_scores(model);
            let text = std::fs::read_to_string(work.join(format!("export-{name}.transform.jsonl"))).unwrap();
            let mut pairs = 0;
            for line in text.lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let key = (v["user"].as_str().unwrap().to_string(), v["item"].as_str().unwrap().to_string());
                let (theirs, mine) = (present(v["prediction"].as_f64().unwrap()), ours[&key]);
                assert!(close(mine, theirs), "{name}: transform of {key:?}: Spark {theirs}, gramrec {mine}");
                pairs += 1;
            }
            assert_eq!(pairs, ours.len(), "{name}: every pair predicted");
            let spark = read_lists(&work.join(format!("export-{name}.recs.jsonl")));
            assert_same_lists(&recommend_all(model, 10, &["--include-seen"]), &spark, &present, name);
        }

        // Spark's own models, imported.
        for kind in ["explicit", "implicit"] {
            let spark = read_lists(&work.join(format!("spark-{kind}.recs.jsonl")));
            let model = import(
                "spark",
                &work.join(format!("spark-{kind}")),
                &work.join(format!("from-{kind}")),
                &["--kind", kind],
            );
            assert_same_lists(&recommend_all(&model, 10, &[]), &spark, |s| s, kind);
        }
        let err = import_error("spark", &work.join("spark-explicit"), &[]);
        assert!(err.contains("pass --kind explicit or --kind implicit"), "{err}");
        // String IDs through the StringIndexer models.
        let indexers = ["--user-ids", "user-indexer", "--item-ids", "item-indexer"].map(|a| {
            if a.starts_with("--") {
                a.to_string()
            } else {
                work.join(a).to_string_lossy().into_owned()
            }
        });
        let mut args = vec!["--kind".to_string(), "explicit".to_string()];
        args.extend(indexers);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let model = import("spark", &work.join("spark-strings"), &work.join("from-strings"), &args);
        let spark = read_lists(&work.join("spark-strings.recs.jsonl"));
        assert!(spark.contains_key("u0"), "labels, not indices");
        assert_same_lists(&recommend_all(&model, 10, &[]), &spark, |s| s, "StringIndexer IDs");
        // A pipeline: the error names its ALS stage.
        let err = import_error("spark", &work.join("spark-pipeline"), &["--kind", "explicit"]);
        assert!(
            err.contains("PipelineModel, not an ALSModel; import its ALS stage:") && err.contains("stages"),
            "{err}"
        );
    }

    #[test]
    fn implicit_reads_our_models_and_we_read_implicit_s() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path();
        let (explicit, implicit) = data(work);
        let model = train(&implicit, &work.join("model"), &["--implicit"]);
        export("implicit", &model, &work.join("export.npz"));
        let biased = train(&explicit, &work.join("biased"), &[]);
        export("npy", &biased, &work.join("export-npy"));
        run_script("implicit_check.py", work);

        // implicit's recommend on gramrec's model: the same lists (seen items left out by both).
        let theirs = read_lists(&work.join("export.recs.jsonl"));
        assert_same_lists(&recommend_all(&model, 10, &[]), &theirs, |s| s, "implicit on gramrec's model");
        // NumPy's dot products are gramrec's predictions.
        let numpy = read_lists(&work.join("npy.recs.jsonl"));
        assert_same_lists(&recommend_all(&biased, 10, &["--include-seen"]), &numpy, clip_of(&explicit), "npy");
        // implicit's own model, imported with its row IDs and the data.
        let args = ["--user-ids", "own-users.txt", "--item-ids", "own-items.txt", "--train", "implicit.csv"].map(|a| {
            if a.starts_with("--") {
                a.to_string()
            } else {
                work.join(a).to_string_lossy().into_owned()
            }
        });
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let imported = import("implicit", &work.join("own.npz"), &work.join("from-implicit"), &args);
        let theirs = read_lists(&work.join("own.recs.jsonl"));
        assert_same_lists(&recommend_all(&imported, 10, &[]), &theirs, |s| s, "implicit's own model");
    }

    use crate::common::ok_json;

    /// `train --method bayes` against benches/bpmf.py, the NumPy Gibbs
    /// sampler with the same model and hyperpriors (a reference written
    /// apart from the Rust one), on the same split of generated ratings: the
    /// held-out RMSE of the posterior-mean factors and the learned noise
    /// precision, seed for seed (each run's own chain) and on average over
    /// six seeds (measured: 0.6593 against 0.6608, the seeds' spread 0.0025).
    #[test]
    fn bayes_matches_the_numpy_reference_sampler() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path();
        let all = work.join("all.csv");
        generate(&all, "explicit", 300, 200, 12_000);
        // bpmf.py reads tab-separated lines without a header.
        let (mut train_tsv, mut test_tsv) = (String::new(), String::new());
        for (n, line) in std::fs::read_to_string(&all).unwrap().lines().skip(1).enumerate() {
            let to = if n % 5 == 0 { &mut test_tsv } else { &mut train_tsv };
            to.push_str(&line.replace(',', "\t"));
            to.push('\n');
        }
        let (train_file, test_file) = (work.join("train.tsv"), work.join("test.tsv"));
        std::fs::write(&train_file, train_tsv).unwrap();
        std::fs::write(&test_file, test_tsv).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/bpmf.py");
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for seed in ["1", "2", "3", "4", "5", "6"] {
            let model = work.join(format!("bayes-{seed}"));
            let flags = ["-q", "--method", "bayes", "--factors", "10", "--samples", "180", "--burn-in", "20"];
            gramrec()
                .arg("train")
                .args(flags)
                .args(["--seed", seed, "--input"])
                .arg(&train_file)
                .arg("--out")
                .arg(&model)
                .assert()
                .success();
            let ev =
                ok_json(gramrec().args(["evaluate", "--json", "--model"]).arg(&model).arg("--test").arg(&test_file));
            let inspect = ok_json(gramrec().args(["inspect", "--json"]).arg(model.join("items.gramrec")));
            let (rmse, noise) = (ev["rmse"].as_f64().unwrap(), inspect["noisePrecision"].as_f64().unwrap());
            ours.push((rmse, noise));
            let out = std::process::Command::new(python())
                .arg(&script)
                .args([&train_file, &test_file])
                .args([seed, "10", "200"])
                .env("OPENBLAS_NUM_THREADS", "1")
                .output()
                .expect("the test Python runs");
            assert!(out.status.success(), "bpmf.py: {}", String::from_utf8_lossy(&out.stderr));
            // "seed 1, …: noise precision 4.195, test RMSE predictive mean 0.6716, posterior-mean factors 0.6803"
            let text = String::from_utf8(out.stdout).unwrap();
            let after = |key: &str| -> f64 {
                let rest = &text[text.find(key).unwrap_or_else(|| panic!("{key} in {text}")) + key.len()..];
                rest.trim_start().split([',', ' ', '\n']).next().unwrap().parse().unwrap()
            };
            theirs.push((after("posterior-mean factors"), after("noise precision")));
        }
        // Each seed is its own chain: seed for seed the two differ by the
        // chains' Monte Carlo spread (0.0025 here), on average by much less.
        for ((rmse, noise), (their_rmse, their_noise)) in ours.iter().zip(&theirs) {
            assert!((rmse - their_rmse).abs() < 0.01, "RMSE {rmse:.4} against bpmf.py's {their_rmse:.4}");
            // bpmf.py prints τ's last draw, the file holds its mean over the
            // kept sweeps, which sits a few per cent lower while τ still climbs.
            assert!((noise / their_noise - 1.0).abs() < 0.1, "τ {noise:.3} against bpmf.py's {their_noise:.3}");
        }
        let mean = |v: &[(f64, f64)]| v.iter().map(|p| p.0).sum::<f64>() / v.len() as f64;
        let (a, b) = (mean(&ours), mean(&theirs));
        assert!((a - b).abs() <= 0.003, "mean RMSE over 6 seeds {a:.4} against bpmf.py's {b:.4}");
    }
}
