//! The `gramrec` binary end to end: generate → train → evaluate → recommend →
//! similar → inspect, and the errors a user sees.

use crate::common::{data, factors, generate, gramrec, json, ok_json, small_model, train, train_command};
use predicates::prelude::*;

#[test]
fn train_evaluate_recommend_similar_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = data(dir.path());
    let model = dir.path().join("model");

    let out = gramrec()
        .args(["train", "--factors", "8", "--iterations", "5", "--json", "--input"])
        .arg(&train)
        .arg("--out")
        .arg(&model)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let t = json(&out);
    assert_eq!(t["params"]["kind"], "explicit", "a rating column means an explicit model");
    assert_eq!(t["iterations"].as_array().unwrap().len(), 5);
    let losses: Vec<f64> = t["iterations"].as_array().unwrap().iter().map(|i| i["loss"].as_f64().unwrap()).collect();
    assert!(losses.windows(2).all(|w| w[1] <= w[0] * (1.0 + 1e-6)), "loss rose: {losses:?}");
    assert!(model.join("items.gramrec").exists() && model.join("users.gramrec").exists());

    let ev = ok_json(
        gramrec()
            .args(["evaluate", "--json", "--model"])
            .arg(&model)
            .arg("--train")
            .arg(&train)
            .arg("--test")
            .arg(&test),
    );
    let rmse = ev["rmse"].as_f64().unwrap();
    assert!(rmse > 0.3 && rmse < 0.8, "RMSE {rmse} on data with noise 0.5");

    let rec = ok_json(gramrec().args(["recommend", "--json", "--k", "5", "--user", "u1", "--model"]).arg(&model));
    assert_eq!(rec["items"].as_array().unwrap().len(), 5);
    assert_eq!(rec["coldStart"], false);

    let folded = ok_json(
        gramrec().args(["recommend", "--json", "--k", "3", "--history", "i1:5,i2:1,nope", "--model"]).arg(&model),
    );
    assert_eq!(folded["unknown"], serde_json::json!(["nope"]));
    let items: Vec<&str> = folded["items"].as_array().unwrap().iter().map(|i| i["item"].as_str().unwrap()).collect();
    assert_eq!(items.len(), 3);
    assert!(!items.contains(&"i1") && !items.contains(&"i2"), "history items are excluded");

    let cold = ok_json(gramrec().args(["recommend", "--json", "--history", "zzz", "--model"]).arg(&model));
    assert_eq!(cold["coldStart"], true);

    let sim = ok_json(gramrec().args(["similar", "--json", "--item", "i3", "--k", "4", "--model"]).arg(&model));
    let sims = sim["items"].as_array().unwrap();
    assert_eq!(sims.len(), 4);
    assert!(sims.iter().all(|s| s["item"] != "i3" && s["score"].as_f64().unwrap() <= 1.0 + 1e-6));

    let info = ok_json(gramrec().args(["inspect", "--json"]).arg(model.join("items.gramrec")));
    assert_eq!(info["side"], "items");
    assert_eq!(info["factors"], 8);
    assert_eq!(info["sections"], serde_json::json!(["biases", "gram", "popularity"]));
    gramrec()
        .arg("inspect")
        .arg(model.join("users.gramrec"))
        .assert()
        .success()
        .stdout(predicate::str::contains("users factors of an explicit model"));
    // When training read its data: seconds, as stored, and the date they are.
    gramrec().arg("inspect").arg(model.join("items.gramrec")).assert().success().stdout(
        predicate::str::is_match(
            r"\n  read_at: \d+\.\d{3} \(20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC, when training read its data\)\n",
        )
        .unwrap(),
    );
}

#[test]
fn implicit_training_with_cg_and_i8_files() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("clicks.csv.gz");
    generate(&input, "implicit", 200, 100, 4000);
    let model = dir.path().join("m");
    // Without a desktop session the Vulkan drivers' Wayland library used to
    // print `XDG_RUNTIME_DIR is invalid …` twice: stderr stays empty.
    gramrec()
        .env_remove("XDG_RUNTIME_DIR")
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
    let info = ok_json(gramrec().args(["inspect", "--json"]).arg(model.join("items.gramrec")));
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
    assert!(err.contains("bad.csv:2: rating 'five' is not a number"), "{err}");
    assert!(!dir.path().join("m").exists(), "nothing is written on failure");

    gramrec()
        .args(["train", "--input", "/no/such/file.csv"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("/no/such/file.csv"));
    gramrec().args(["train", "--factors", "0", "--input"]).arg(&bad).assert().code(2);
}

#[test]
fn corrupt_model_is_a_clear_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let (train, model) = small_model(dir.path());
    let items = model.join("items.gramrec");
    let mut bytes = std::fs::read(&items).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x10;
    std::fs::write(&items, &bytes).unwrap();
    let err =
        gramrec().args(["similar", "--item", "i1", "--model"]).arg(&model).assert().code(2).get_output().stderr.clone();
    let err = String::from_utf8(err).unwrap();
    assert!(err.contains("items.gramrec: factor file is corrupt"), "{err}");
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
    for cmd in ["train", "evaluate", "recommend", "similar", "inspect", "bench", "demo", "generate", "split", "tune"] {
        gramrec().args([cmd, "--help"]).assert().success().stdout(predicate::str::contains("Example"));
    }
    gramrec().assert().code(2).stderr(predicate::str::contains("demo"));
}

/// `generate` says how many lines it wrote, and why when that is not what
/// `--nnz` asked for.
#[test]
fn generate_counts_what_it_wrote_and_says_why_it_differs_from_nnz() {
    let dir = tempfile::tempdir().unwrap();
    // Users passing over items, and shares rounded up.
    for (kind, items, fewer) in [("implicit", "40", true), ("explicit", "400", false)] {
        let out = dir.path().join(format!("{kind}.csv"));
        let run = gramrec()
            .args(["generate", "--kind", kind, "--users", "50", "--items", items, "--nnz", "1000", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(run.status.success());
        let lines = std::fs::read_to_string(&out).unwrap().lines().count() - 1;
        let log = String::from_utf8_lossy(&run.stderr);
        assert!(log.starts_with(&format!("wrote {lines} {kind} interactions to ")), "{log}");
        let said = match fewer {
            true => format!(", {} fewer than --nnz 1000: each user's share is rounded", 1000 - lines),
            false => format!(", {} more than --nnz 1000: each user's share is rounded", lines - 1000),
        };
        assert!(log.contains(&said), "{lines} lines: {log}");
    }
}

#[test]
fn split_partitions_lines_and_keeps_the_layout() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("ratings.csv");
    let mut text = String::from("user,item,rating,timestamp\n");
    for u in 0..30 {
        for i in 0..10 {
            text.push_str(&format!("u{u},i{},{},{}\n", (u + i * 7) % 50, 1 + (u + i) % 5, 1000 + i * 10 + u % 3));
        }
    }
    std::fs::write(&input, &text).unwrap();
    for mode in ["random", "per-user", "time"] {
        let out = dir.path().join(mode);
        gramrec()
            .args(["split", "--mode", mode, "--seed", "7", "--input"])
            .arg(&input)
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        let train = std::fs::read_to_string(out.join("train.csv")).unwrap();
        let test = std::fs::read_to_string(out.join("test.csv")).unwrap();
        assert!(train.starts_with("user,item,rating,timestamp\n") && test.starts_with("user,item,rating,timestamp\n"));
        let mut lines: Vec<&str> = train.lines().skip(1).chain(test.lines().skip(1)).collect();
        assert_eq!(test.lines().count() - 1, 60, "{mode}: 20% of 300");
        lines.sort_unstable();
        let mut original: Vec<&str> = text.lines().skip(1).collect();
        original.sort_unstable();
        assert_eq!(lines, original, "{mode}: train and test partition the input's lines");
        if mode == "time" {
            for u in 0..30 {
                let ts = |part: &str| -> Vec<u32> {
                    part.lines()
                        .skip(1)
                        .filter(|l| l.starts_with(&format!("u{u},")))
                        .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
                        .collect()
                };
                assert!(ts(&test).iter().min() >= ts(&train).iter().max(), "user u{u}: test is not the latest");
            }
        }
    }
}

#[test]
fn evaluate_reports_coverage_and_a_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("clicks.csv");
    generate(&input, "implicit", 300, 150, 9000);
    let split = dir.path().join("split");
    gramrec().args(["split", "--mode", "per-user", "--input"]).arg(&input).arg("--out").arg(&split).assert().success();
    let (train, test, model) = (split.join("train.csv"), split.join("test.csv"), dir.path().join("m"));
    gramrec()
        .args(["train", "-q", "--implicit", "--factors", "16", "--reg", "5", "--input"])
        .arg(&train)
        .arg("--out")
        .arg(&model)
        .assert()
        .success();
    let ev = ok_json(
        gramrec()
            .args(["evaluate", "--json", "--model"])
            .arg(&model)
            .arg("--train")
            .arg(&train)
            .arg("--test")
            .arg(&test),
    );
    let coverage = ev["coverage"].as_f64().unwrap();
    assert!(coverage > 0.0 && coverage <= 1.0);
    let base = &ev["baseline"];
    assert_eq!(base["kind"], "popularity");
    assert!(
        ev["ndcg"].as_f64().unwrap() > base["ndcg"].as_f64().unwrap(),
        "the model beats popularity on planted tastes"
    );
    assert!(coverage > base["coverage"].as_f64().unwrap(), "personalised lists cover more of the catalogue");
}

#[test]
fn recommend_all_equals_per_user_recommend_and_is_written_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("clicks.csv");
    generate(&input, "implicit", 40, 70, 1200);
    let model = dir.path().join("m");
    gramrec()
        .args(["train", "-q", "--factors", "8", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&model)
        .assert()
        .success();
    let out = dir.path().join("top.jsonl");
    gramrec()
        .args(["recommend", "--all", "--k", "5", "--model"])
        .arg(&model)
        .arg("--train")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 40, "one line per user");
    for line in &lines {
        let user = line["user"].as_str().unwrap();
        let one = ok_json(
            gramrec()
                .args(["recommend", "--json", "--k", "5", "--user", user, "--model"])
                .arg(&model)
                .arg("--train")
                .arg(&input),
        );
        assert_eq!(line["items"], one["items"], "user {user}");
    }
    let csv = dir.path().join("top.csv");
    gramrec().args(["recommend", "--all", "--k", "3", "--model"]).arg(&model).arg("--out").arg(&csv).assert().success();
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    assert!(csv_text.starts_with("user,rank,item,score\n"));
    assert_eq!(csv_text.lines().count(), 1 + 40 * 3);

    // A failed run leaves the previous output as it was, and no temporary file.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "u1,i1\nu2\n").unwrap();
    gramrec()
        .args(["recommend", "--all", "--model"])
        .arg(&model)
        .arg("--train")
        .arg(&bad)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text);
    assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().contains(".tmp")));
}

#[test]
fn cold_start_policies_for_unknown_users() {
    let dir = tempfile::tempdir().unwrap();
    let (_, model) = small_model(dir.path());
    let popular =
        ok_json(gramrec().args(["recommend", "--json", "--k", "3", "--user", "nobody", "--model"]).arg(&model));
    assert_eq!(popular["coldStart"], true);
    assert_eq!(popular["items"].as_array().unwrap().len(), 3);
    let skip = ok_json(
        gramrec().args(["recommend", "--json", "--cold-start", "skip", "--user", "nobody", "--model"]).arg(&model),
    );
    assert_eq!(skip["items"], serde_json::json!([]));
    gramrec()
        .args(["recommend", "--cold-start", "error", "--user", "nobody", "--model"])
        .arg(&model)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("user 'nobody' is not in the model"));
}

#[test]
fn validation_writes_a_learning_curve() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = data(dir.path());
    let model = dir.path().join("model");
    gramrec()
        .args(["train", "-q", "--factors", "4", "--iterations", "3", "--input"])
        .arg(&train)
        .arg("--validate")
        .arg(&test)
        .arg("--out")
        .arg(&model)
        .assert()
        .success();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["metric"], "RMSE");
    let its = report["iterations"].as_array().unwrap();
    assert_eq!(its.len(), 3);
    assert!(its.iter().all(|i| i["validation"]["rmse"].as_f64().unwrap() > 0.0));
    let svg = std::fs::read_to_string(model.join("report.svg")).unwrap();
    assert_eq!(svg.matches("<polyline").count(), 2, "loss and RMSE curves");
}

#[test]
fn tune_reports_every_setting_and_writes_the_best_model() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = data(dir.path());
    let (results, best) = (dir.path().join("grid.json"), dir.path().join("best"));
    let out = gramrec()
        .args(["tune", "-q", "--folds", "3", "--factors", "2,8", "--reg", "0.05,0.2", "--iterations", "4", "--input"])
        .arg(&train)
        .arg("--results")
        .arg(&results)
        .arg("--out")
        .arg(&best)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(out).unwrap().contains("best: factors"));
    let grid: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let settings = grid["settings"].as_array().unwrap();
    assert_eq!(settings.len(), 4);
    assert!(settings.iter().all(|s| s["folds"].as_array().unwrap().len() == 3));
    let best_factors = settings[0]["factors"].as_u64().unwrap();
    let info = ok_json(gramrec().args(["inspect", "--json"]).arg(best.join("items.gramrec")));
    assert_eq!(info["factors"].as_u64().unwrap(), best_factors, "the best setting is the one retrained");
}

#[test]
fn files_from_different_runs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (train_file, _) = data(dir.path());
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for m in [&a, &b] {
        train(&train_file, m, &[]);
    }
    std::fs::copy(b.join("items.gramrec"), a.join("items.gramrec")).unwrap();
    gramrec()
        .args(["recommend", "--user", "u1", "--model"])
        .arg(&a)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("come from different training runs"));
}

#[test]
fn checkpoints_resume_to_the_same_model() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = data(dir.path());
    let (whole, parts) = (dir.path().join("whole"), dir.path().join("parts"));
    gramrec()
        .args(["train", "-q", "--factors", "4", "--iterations", "4", "--input"])
        .arg(&train)
        .arg("--out")
        .arg(&whole)
        .assert()
        .success();
    // Two iterations with a checkpoint after the second, as if stopped there...
    gramrec()
        .args(["train", "-q", "--factors", "4", "--iterations", "4", "--checkpoint-every", "2", "--input"])
        .arg(&train)
        .arg("--out")
        .arg(&parts)
        .assert()
        .success();
    assert!(!parts.join("checkpoint").exists(), "the checkpoint is removed once the model is written");
    gramrec()
        .args(["train", "-q", "--factors", "4", "--iterations", "4", "--resume", "--input"])
        .arg(&train)
        .arg("--out")
        .arg(&parts)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("there is no checkpoint"));
    assert_eq!(factors(&whole, "items.gramrec"), factors(&parts, "items.gramrec"));
}

#[test]
fn training_that_would_not_fit_is_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = data(dir.path());
    gramrec()
        .env("GRAMREC_MEMORY_LIMIT", "100000")
        .args(["train", "-q", "--factors", "64", "--input"])
        .arg(&train)
        .arg("--out")
        .arg(dir.path().join("m"))
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("training needs about")
                .and(predicate::str::contains("but only 97.7 KiB is available")),
        );
    assert!(!dir.path().join("m").exists());
}

/// Needs a GPU adapter (lavapipe in CI): compiled with the `gpu-tests` feature.
#[cfg(feature = "gpu-tests")]
#[test]
fn device_choice_falls_back_to_the_cpu_only_in_auto_mode() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = data(dir.path());
    let factors = |m: &std::path::Path| factors(m, "items.gramrec");
    let run = |name: &str, device: &str, env: &[(&str, &str)]| {
        let mut cmd = gramrec();
        cmd.envs(env.iter().copied())
            .args(["train", "--factors", "4", "--iterations", "3", "--device", device, "--input"])
            .arg(&train)
            .arg("--out")
            .arg(dir.path().join(name));
        cmd.assert()
    };
    run("cpu", "cpu", &[]).success();
    let cpu = factors(&dir.path().join("cpu"));

    // No driver at all: a clear error when the GPU was asked for, the CPU in auto mode.
    let no_driver = [("VK_DRIVER_FILES", "/nonexistent.json"), ("VK_ICD_FILENAMES", "/nonexistent.json")];
    run("none-gpu", "gpu", &no_driver).code(1).stderr(predicate::str::contains("GPU: no GPU adapter found"));
    assert!(!dir.path().join("none-gpu").exists());
    run("none-auto", "auto", &no_driver)
        .success()
        .stderr(predicate::str::contains("no GPU adapter found").and(predicate::str::contains("training on the CPU")));
    assert_eq!(factors(&dir.path().join("none-auto")), cpu);

    // Auto mode passes over a software adapter unless allowed to use it.
    run("soft", "auto", &[]).success().stderr(predicate::str::contains("training on the CPU"));

    // A device lost mid-run: an error with --device gpu; auto restarts on the
    // CPU and gives exactly the CPU's model.
    let lost = [("GRAMREC_GPU_FAULT", "lose-device:3"), ("GRAMREC_GPU_ALLOW_SOFTWARE", "1")];
    run("lost-gpu", "gpu", &lost).code(1).stderr(predicate::str::contains("GPU: the GPU device was lost"));
    assert!(!dir.path().join("lost-gpu").exists());
    run("lost-auto", "auto", &lost).success().stderr(
        predicate::str::contains("training on gpu")
            .and(predicate::str::contains("device was lost"))
            .and(predicate::str::contains("restarting the run on the CPU")),
    );
    assert_eq!(factors(&dir.path().join("lost-auto")), cpu);

    // A shader that does not compile, and a GPU memory limit too small.
    run("shader", "gpu", &[("GRAMREC_GPU_FAULT", "shader")])
        .code(1)
        .stderr(predicate::str::contains("a compute shader failed to compile"));
    run("small", "gpu", &[("GRAMREC_GPU_MEMORY_LIMIT", "1000")])
        .code(1)
        .stderr(predicate::str::contains("of GPU memory but GRAMREC_GPU_MEMORY_LIMIT allows 1000 B"))
        // The library's hint, in flags.
        .stderr(predicate::str::contains(
            "use fewer --factors, --gpu-storage f16, filter rare users and items, or --device cpu",
        ));
    run("small-auto", "auto", &[("GRAMREC_GPU_MEMORY_LIMIT", "1000"), ("GRAMREC_GPU_ALLOW_SOFTWARE", "1")])
        .success()
        .stderr(predicate::str::contains("training on the CPU"));
}

/// Needs a GPU adapter (lavapipe in CI): compiled with the `gpu-tests` feature.
#[cfg(feature = "gpu-tests")]
#[test]
fn recommend_all_on_the_gpu_writes_the_cpu_lists() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("clicks.csv");
    generate(&input, "implicit", 150, 90, 2500);
    let model = dir.path().join("m");
    gramrec()
        .args(["train", "--factors", "8", "--device", "gpu", "--gpu-storage", "f16", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&model)
        .assert()
        .success()
        .stderr(predicate::str::contains("f16 factors"));
    let top = |device: &str| {
        let out = dir.path().join(format!("top-{device}.jsonl"));
        let run = gramrec()
            .args(["recommend", "--all", "--k", "7", "--device", device, "--model"])
            .arg(&model)
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        let log = String::from_utf8(run.get_output().stderr.clone()).unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        (lines, log)
    };
    let (cpu, _) = top("cpu");
    let (gpu, log) = top("gpu");
    assert!(log.contains("scoring on gpu"), "{log}");
    assert_eq!(cpu.len(), 150);
    for (c, g) in cpu.iter().zip(&gpu) {
        assert_eq!(c["user"], g["user"]);
        let items = |v: &serde_json::Value| {
            v["items"].as_array().unwrap().iter().map(|r| r["item"].clone()).collect::<Vec<_>>()
        };
        assert_eq!(items(c), items(g), "user {}", c["user"]);
        for (a, b) in c["items"].as_array().unwrap().iter().zip(g["items"].as_array().unwrap()) {
            let (a, b) = (a["score"].as_f64().unwrap(), b["score"].as_f64().unwrap());
            assert!((a - b).abs() <= 1e-5 * a.abs().max(1.0), "user {}: {a} vs {b}", c["user"]);
        }
    }
    // auto passes over a software adapter, and says so.
    let (auto, log) = top("auto");
    assert!(log.contains("software") && log.contains("scoring on the CPU"), "{log}");
    assert_eq!(auto, cpu);
}

/// A build without the `gpu` feature (`cargo test --no-default-features`,
/// run by tests/run-all.sh) trains on the CPU and says why it cannot use a GPU.
#[cfg(not(feature = "gpu"))]
#[test]
fn a_build_without_gpu_support_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (train_file, _) = data(dir.path());
    let run = |device: &str| {
        let mut cmd = gramrec();
        cmd.args(["train", "--factors", "4", "--iterations", "2", "--device", device, "--input"])
            .arg(&train_file)
            .arg("--out")
            .arg(dir.path().join(device));
        cmd.assert()
    };
    run("gpu").code(1).stderr(predicate::str::contains("built without GPU support"));
    run("auto").success().stderr(
        predicate::str::contains("built without GPU support").and(predicate::str::contains("training on the CPU")),
    );
}

#[test]
fn bayes_trains_and_folds_in_with_its_prior_and_says_what_does_not_apply() {
    let dir = tempfile::tempdir().unwrap();
    let (train_file, test_file) = data(dir.path());
    let model = dir.path().join("bayes");
    let flags = ["--method", "bayes", "--factors", "4", "--samples", "6", "--burn-in", "3", "--device", "cpu"];
    let out = train_command(&flags, &train_file, &model, &[]).assert().success().get_output().stderr.clone();
    let log = String::from_utf8(out).unwrap();
    assert!(log.contains("Bayesian PMF by Gibbs sampling: 4 factors, with biases"), "{log}");
    assert!(log.contains("sweep   3/9 (burn-in)") && log.contains("sweep   9/9 (sample)"), "{log}");
    let inspect =
        gramrec().arg("inspect").arg(model.join("items.gramrec")).assert().success().get_output().stdout.clone();
    let inspect = String::from_utf8(inspect).unwrap();
    for line in [
        "learned prior (fold-in solves with it; λ unused)",
        ", prior\n",
        "method: bayes",
        "samples: 6",
        "burn_in: 3",
        "solver: cholesky",
    ] {
        assert!(inspect.contains(line), "{line} in {inspect}");
    }
    let users =
        gramrec().arg("inspect").arg(model.join("users.gramrec")).assert().success().get_output().stdout.clone();
    let users = String::from_utf8(users).unwrap();
    assert!(users.contains("Bayesian PMF (its learned prior is in the item file; λ unused)"), "{users}");
    let e = gramrec().arg("inspect").arg(&model).assert().failure().get_output().stderr.clone();
    assert!(String::from_utf8(e).unwrap().contains("is a directory; inspect takes one factor file"));
    // Fold-in of a history: a Bayesian model's scores, clipped to the ratings.
    let rec =
        ok_json(gramrec().args(["recommend", "--json", "--k", "3", "--history", "i1:5,i2:1", "--model"]).arg(&model));
    assert_eq!(rec["items"].as_array().unwrap().len(), 3, "{rec}");
    let ev = ok_json(gramrec().args(["evaluate", "--json", "--model"]).arg(&model).arg("--test").arg(&test_file));
    assert!(ev["rmse"].as_f64().unwrap() < ev["baseline"]["rmse"].as_f64().unwrap(), "{ev}");
    // Other tools get the posterior-mean factors, and are told the prior stays behind.
    let mut export = gramrec();
    export.args(["export", "--to", "npy", "--model"]).arg(&model).arg("--out").arg(dir.path().join("npy"));
    let said = String::from_utf8(export.assert().success().get_output().stderr.clone()).unwrap();
    assert!(said.contains("posterior-mean factors were exported; its learned prior was not"), "{said}");

    let refused = |flags: &[&str], message: &str| {
        let other = dir.path().join("refused");
        let e = train_command(flags, &train_file, &other, &[]).assert().failure().get_output().stderr.clone();
        let e = String::from_utf8(e).unwrap();
        assert!(e.contains(message), "{flags:?}: {e}");
        assert!(!other.exists(), "{flags:?} wrote a model");
    };
    let bayes = ["--method", "bayes", "--samples", "2", "--burn-in", "1"];
    refused(&[&bayes[..], &["--iterations", "5"]].concat(), "--iterations does not apply to --method bayes");
    refused(&[&bayes[..], &["--reg", "0.1"]].concat(), "--reg does not apply to --method bayes");
    refused(&[&bayes[..], &["--reg-scaling", "none"]].concat(), "--reg-scaling does not apply to --method bayes");
    refused(&[&bayes[..], &["--solver", "cg"]].concat(), "--solver does not apply to --method bayes");
    refused(&[&bayes[..], &["--cg-steps", "5"]].concat(), "--cg-steps does not apply to --method bayes");
    refused(&["--samples", "5"], "--samples applies to --method bayes only");
    refused(&[&bayes[..], &["--implicit"]].concat(), "--method bayes models explicit ratings; use --method als");
    refused(&[&bayes[..], &["--auto"]].concat(), "--auto tries --method bayes itself");
    refused(
        &[&bayes[..], &["--checkpoint-every", "1"]].concat(),
        "--checkpoint-every does not apply to --method bayes",
    );
    // tune cross-validates Bayesian models over --factors alone.
    let results = dir.path().join("tune.json");
    let tune = |extra: &[&str], out: &str| {
        let mut cmd = gramrec();
        cmd.args(["tune", "-q", "--method", "bayes", "--samples", "3", "--burn-in", "1", "--folds", "2"]);
        cmd.args(extra).arg("--input").arg(&train_file).arg("--out").arg(dir.path().join(out));
        cmd
    };
    tune(&["--factors", "3,5", "--results", results.to_str().unwrap()], "tuned").assert().success();
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    crate::common::check("tune-results", &r);
    let settings = r["settings"].as_array().unwrap();
    assert_eq!(settings.len(), 2, "{r}");
    assert!(settings.iter().all(|s| s["method"] == "bayes" && s["iterations"] == 4 && s.get("reg").is_none()), "{r}");
    let e = tune(&["--reg", "0.1"], "refused").assert().failure().get_output().stderr.clone();
    let e = String::from_utf8(e).unwrap();
    assert!(e.contains("--reg does not apply to --method bayes: it searches --factors alone"), "{e}");
}
