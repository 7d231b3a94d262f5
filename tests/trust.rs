//! A user's own data and files, through the real binary: outputs never
//! destroy what gramrec did not write, `split` writes exactly the records it
//! read, and every guess is said or refused. (docs/ROBUSTNESS.md lists the
//! cases.)

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use crate::common::{gramrec, small_model};
use gramrec_data::load::{load, Format, LoadOptions};

/// The one-line error of a command that must fail with `code`.
fn error_line(cmd: &mut assert_cmd::Command, code: i32) -> String {
    let out = cmd.assert().code(code);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

/// Every file under `dir` with its content, sorted: what must not change.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(snapshot(&path));
        } else {
            out.push((path.display().to_string(), fs::read(&path).unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn folder_outputs_never_replace_a_folder_they_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let (_, model) = small_model(dir.path());
    let export = |to: &str, out: &Path, extra: &[&str]| {
        let mut cmd = gramrec();
        cmd.args(["export", "--to", to, "--model"]).arg(&model).arg("--out").arg(out).args(extra);
        cmd
    };
    // A folder of the user's own: refused with and without --overwrite, untouched.
    let mine = dir.path().join("mine");
    fs::create_dir_all(mine.join("notes")).unwrap();
    fs::write(mine.join("thesis.tex"), "chapter 1").unwrap();
    fs::write(mine.join("notes/a.txt"), "a").unwrap();
    let before = snapshot(&mine);
    for to in ["spark", "npy"] {
        for extra in [&[][..], &["--overwrite"][..]] {
            let err = error_line(&mut export(to, &mine, extra), 2);
            assert!(err.contains("exists and is not a") && err.contains("nothing was written"), "{to}: {err}");
        }
    }
    assert_eq!(snapshot(&mine), before, "the user's folder is untouched");

    for (to, marker) in [("spark", "metadata"), ("npy", "user_factors.npy")] {
        let out = dir.path().join(format!("{to}-out"));
        // A new path, then an empty folder: written.
        export(to, &out, &[]).assert().success();
        assert!(out.join(marker).exists());
        // The earlier export: only with --overwrite.
        let err = error_line(&mut export(to, &out, &[]), 2);
        assert!(err.contains("pass --overwrite to replace it"), "{err}");
        export(to, &out, &["--overwrite"]).assert().success();
        // An earlier export with a file of the user's added: refused.
        fs::write(out.join("README.txt"), "mine").unwrap();
        let err = error_line(&mut export(to, &out, &["--overwrite"]), 2);
        assert!(err.contains("(it holds README.txt)"), "{err}");
        assert_eq!(fs::read_to_string(out.join("README.txt")).unwrap(), "mine");
        let empty = dir.path().join(format!("{to}-empty"));
        fs::create_dir(&empty).unwrap();
        export(to, &empty, &[]).assert().success();
    }
    // Spark's own folder (its metadata names the class) is an ALSModel too,
    // but not a NumPy export.
    let spark = dir.path().join("spark-out");
    let err = error_line(&mut export("npy", &spark, &["--overwrite"]), 2);
    assert!(err.contains("is not a folder of gramrec's NumPy arrays"), "{err}");
}

#[test]
fn model_folders_keep_the_users_files_and_refuse_foreign_factor_names() {
    let dir = tempfile::tempdir().unwrap();
    let (train_file, _) = small_model(dir.path());
    let out = dir.path().join("project");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("notes.md"), "mine").unwrap();
    crate::common::train(&train_file, &out, &[]);
    assert_eq!(fs::read_to_string(out.join("notes.md")).unwrap(), "mine", "other files are left alone");
    assert!(out.join("users.gramrec").is_file());

    let foreign = dir.path().join("foreign");
    fs::create_dir(&foreign).unwrap();
    fs::write(foreign.join("items.gramrec"), "not a model").unwrap();
    let mut cmd = gramrec();
    cmd.args(["train", "-q", "--factors", "4", "--iterations", "1", "--input"])
        .arg(&train_file)
        .arg("--out")
        .arg(&foreign);
    let err = error_line(&mut cmd, 2);
    assert!(err.contains("items.gramrec exists and is not a gramrec factor file"), "{err}");
    assert_eq!(fs::read_to_string(foreign.join("items.gramrec")).unwrap(), "not a model");
    assert!(!foreign.join("users.gramrec").exists());
}

#[test]
fn the_demo_page_never_replaces_a_page_of_the_users() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    fs::create_dir(&site).unwrap();
    fs::write(site.join("index.html"), "<h1>my shop</h1>").unwrap();
    let mut cmd = gramrec();
    cmd.current_dir(dir.path()).args(["demo", "--out", "demo", "--web", "site"]);
    let err = error_line(&mut cmd, 2);
    assert!(err.contains("index.html exists and is not gramrec's demo page"), "{err}");
    assert_eq!(fs::read_to_string(site.join("index.html")).unwrap(), "<h1>my shop</h1>");
    assert!(!dir.path().join("demo").exists(), "nothing was written");
}

/// Runs `split` on `input` into `out` with `extra` flags; returns its stderr.
fn split(input: &Path, out: &Path, extra: &[&str]) -> String {
    let a = gramrec().arg("split").arg("--input").arg(input).arg("--out").arg(out).args(extra).assert().success();
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

/// The records the loader reads from `path` with `opts`, as sorted
/// (user, item, value) triples.
fn records(path: &Path, opts: &LoadOptions) -> Vec<(String, String, u32)> {
    let x = load(path, opts).unwrap();
    let mut v: Vec<_> = (0..x.len())
        .map(|k| (x.users.id(x.user[k]).to_string(), x.items.id(x.item[k]).to_string(), x.value[k].to_bits()))
        .collect();
    v.sort();
    v
}

/// What `split` must do: the two parts, read as `train` reads them, share
/// no (user, item) pair and together hold exactly the input's records.
fn assert_split_exactly(input: &Path, out: &Path, ext: &str, opts: &LoadOptions) -> (usize, usize) {
    let (train, test) =
        (records(&out.join(format!("train{ext}")), opts), records(&out.join(format!("test{ext}")), opts));
    let pairs: HashSet<(&str, &str)> = train.iter().map(|(u, i, _)| (u.as_str(), i.as_str())).collect();
    assert!(test.iter().all(|(u, i, _)| !pairs.contains(&(u.as_str(), i.as_str()))), "a pair on both sides");
    let mut both = [train.clone(), test.clone()].concat();
    both.sort();
    assert_eq!(both, records(input, opts), "train + test are not the records of the input");
    (train.len(), test.len())
}

#[test]
fn split_of_a_crlf_file_without_header_splits_its_records() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("BX-Book-Ratings.csv");
    let mut text = String::new();
    for k in 0..200 {
        text.push_str(&format!("\"{}\";\"{:04}\";\"{}\"\r\n", k % 37, k * 7 % 101, k % 11));
    }
    fs::write(&input, &text).unwrap();
    let out = dir.path().join("split");
    let log = split(&input, &out, &[]);
    let (train, test) = assert_split_exactly(&input, &out, ".csv", &LoadOptions::default());
    assert_eq!((train, test), (160, 40));
    assert!(log.contains("200 records: 160 to") && log.contains("40 to"), "{log}");
    let written = fs::read_to_string(out.join("test.csv")).unwrap();
    assert!(written.lines().count() == 40 && written.ends_with("\"\r\n"), "line ends are kept");
    // A bad line's error names its own line.
    fs::write(&input, format!("{text}\"x\";\"y\";\"bad\"\r\n")).unwrap();
    let err = error_line(gramrec().arg("split").arg("--input").arg(&input).arg("--out").arg(dir.path().join("x")), 2);
    assert!(err.contains("BX-Book-Ratings.csv:201:"), "{err}");
}

#[test]
fn split_keeps_baskets_baskets_and_repeated_pairs_on_one_side() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("groceries.csv");
    let mut text = String::new();
    for b in 0..60 {
        let items: Vec<String> = (0..(2 + b % 5)).map(|k| format!("item {}", (b * 3 + k * 5) % 23)).collect();
        text.push_str(&items.join(","));
        text.push_str(if b % 9 == 0 { ",item 1,item 1\n" } else { "\n" });
        if b % 13 == 0 {
            text.push('\n'); // a blank line: the next basket's line number counts it
        }
    }
    fs::write(&input, &text).unwrap();
    let opts = LoadOptions { format: Format::Baskets, ..Default::default() };
    for mode in ["random", "per-user"] {
        let out = dir.path().join(mode);
        split(&input, &out, &["--format", "baskets", "--mode", mode]);
        let (train, test) = assert_split_exactly(&input, &out, ".csv", &opts);
        assert!(test > 30 && train > 2 * test, "{mode}: {train} / {test}");
        // Line for line: a basket keeps its line (its ID) on both sides.
        let lines = |name: &str| fs::read_to_string(out.join(name)).unwrap().lines().count();
        assert_eq!((lines("train.csv"), lines("test.csv")), (text.lines().count(), text.lines().count()));
    }
}

#[test]
fn split_never_copies_a_skipped_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("events.csv");
    let mut text = String::from("user,item,rating,timestamp\n");
    for k in 0..300 {
        if k % 25 == 0 {
            text.push_str("oops,,not a number,\n");
        }
        text.push_str(&format!("u{},i{},{},{}\n", k % 20, k % 31, 1 + k % 5, 1_000 + k));
    }
    fs::write(&input, &text).unwrap();
    let out = dir.path().join("split");
    let log = split(&input, &out, &["--mode", "time", "--skip-invalid"]);
    assert!(log.contains("the 12 skipped lines are in neither"), "{log}");
    let opts = LoadOptions { skip_invalid: true, timestamps: true, ..Default::default() };
    assert_split_exactly(&input, &out, ".csv", &opts);
    for part in ["train.csv", "test.csv"] {
        let written = fs::read_to_string(out.join(part)).unwrap();
        assert!(!written.contains("oops"), "{part} holds a skipped line");
        assert_eq!(written.matches("user,item").count(), 1, "{part}: one header");
    }
    // Each user's test records are its latest.
    let (train, test) = (load(&out.join("train.csv"), &opts).unwrap(), load(&out.join("test.csv"), &opts).unwrap());
    for u in 0..train.users.len() as u32 {
        let id = train.users.id(u);
        let latest_train =
            (0..train.len()).filter(|&k| train.user[k] == u).map(|k| train.timestamp[k]).fold(0.0, f64::max);
        let earliest_test = (0..test.len())
            .filter(|&k| test.users.id(test.user[k]) == id)
            .map(|k| test.timestamp[k])
            .fold(f64::MAX, f64::min);
        assert!(earliest_test >= latest_train, "{id}");
    }
}

#[test]
fn split_deals_random_files_into_disjoint_parts_that_add_up() {
    // A property, over small random files of every text shape and flag set:
    // the parts are disjoint by pair and add up to the input, as read.
    let dir = tempfile::tempdir().unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    for case in 0..24 {
        let shape = case % 4;
        let (name, format) = match shape {
            0 => ("r.csv", Format::Auto),
            1 => ("r.tsv", Format::Auto),
            2 => ("r.jsonl", Format::Auto),
            _ => ("b.csv", Format::Baskets),
        };
        let crlf = next(2) == 0;
        let end = if crlf { "\r\n" } else { "\n" };
        let mut text = String::new();
        if shape == 0 {
            text.push_str(&format!("user,item,rating{end}"));
        }
        let rows = 20 + next(60);
        for _ in 0..rows {
            let (u, i, r) = (next(8), next(12), 1 + next(5));
            text.push_str(&match shape {
                0 => format!("u{u},\"i,{i}\",{r}{end}"),
                1 => format!("{u}\t{i}\t{r}{end}"),
                2 => format!("{{\"user\": \"u{u}\", \"item\": \"i{i}\", \"rating\": {r}}}{end}"),
                _ => {
                    format!("{}{end}", (0..1 + next(4)).map(|_| format!("i{}", next(9))).collect::<Vec<_>>().join(","))
                }
            });
            if next(10) == 0 {
                text.push_str(end); // blank lines
            }
        }
        let input = dir.path().join(format!("{case}-{name}"));
        fs::write(&input, &text).unwrap();
        let opts = LoadOptions { format, ..Default::default() };
        check_split(&input, name, format, &opts, dir.path(), case);
        if shape == 0 {
            // The same records as Parquet, repeated pairs and all.
            let x = load(&input, &opts).unwrap();
            let rows: Vec<(String, String, f32)> = (0..x.len())
                .map(|k| (x.users.id(x.user[k]).into(), x.items.id(x.item[k]).into(), x.value[k]))
                .collect();
            let pq = dir.path().join(format!("{case}-r.parquet"));
            write_parquet(&pq, &rows);
            check_split(&pq, "r.parquet", Format::Auto, &Default::default(), dir.path(), case + 100);
        }
    }
}

/// Splits `input` twice (random and per user) and checks each split.
fn check_split(input: &Path, name: &str, format: Format, opts: &LoadOptions, dir: &Path, case: usize) {
    for (mode, seed) in [("random", "1"), ("per-user", "2")] {
        let out = dir.join(format!("{case}-{mode}"));
        let mut args = vec!["--mode", mode, "--seed", seed, "--test-fraction", "0.3"];
        if format == Format::Baskets {
            args.extend(["--format", "baskets"]);
        }
        split(input, &out, &args);
        let ext = &name[name.find('.').unwrap()..];
        assert_split_exactly(input, &out, ext, opts);
    }
}

#[test]
fn evaluate_says_which_rows_it_did_not_count_and_when_the_baseline_wins() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train_file = d.join("train.csv");
    let mut text = String::from("user,item\n");
    for u in 0..40 {
        for i in 0..8 {
            text.push_str(&format!("u{u},i{}\n", (u * 3 + i * 7) % 30));
        }
    }
    fs::write(&train_file, &text).unwrap();
    let model = d.join("model");
    crate::common::train(&train_file, &model, &["--implicit"]);
    // Test rows: one new, one the user had in training, one repeated, one unknown user.
    let test = d.join("test.csv");
    fs::write(&test, "user,item,rating\nu0,i29,1\nu0,i0,1\nu0,i29,1\nstranger,i1,1\nu1,i28,0\n").unwrap();
    let out = gramrec().args(["evaluate", "--model"]).arg(&model).arg("--test").arg(&test).assert().success();
    let report = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        report.contains(
            "5 test interactions; not counted: 1 with a user the model does not know, 1 with an item the user had in \
             training, 1 repeating a (user, item) pair, 1 with a value of 0 or less"
        ),
        "{report}"
    );
    let json =
        crate::common::ok_json(gramrec().args(["evaluate", "--json", "--model"]).arg(&model).arg("--test").arg(&test));
    assert_eq!((json["seenInTraining"].as_u64(), json["repeated"].as_u64()), (Some(1), Some(1)));
    assert_eq!(
        (json["notPositive"].as_u64(), json["unknownUser"].as_u64(), json["evaluated"].as_u64()),
        (Some(1), Some(1), Some(1))
    );

    // A model regularised to the global mean loses to each item's mean rating, and says so.
    let ratings = d.join("ratings.csv");
    let mut text = String::from("user,item,rating\n");
    for u in 0..60 {
        for i in 0..10 {
            let item = (u * 7 + i * 3) % 40;
            text.push_str(&format!("u{u},i{item},{}\n", 1 + item % 5));
        }
    }
    fs::write(&ratings, &text).unwrap();
    let (train, test) = (d.join("r-train.csv"), d.join("r-test.csv"));
    crate::common::split_lines(&ratings, &train, &test);
    let flat = d.join("flat");
    crate::common::train(&train, &flat, &["--explicit", "--reg", "1000", "--no-biases"]);
    let out = gramrec().args(["evaluate", "--model"]).arg(&flat).arg("--test").arg(&test).assert().success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("warning: the model's RMSE") && err.contains("item mean rating baseline"), "{err}");
    let out =
        gramrec().args(["evaluate", "--model"]).arg(&model).arg("--test").arg(d.join("test.csv")).assert().success();
    assert!(!String::from_utf8_lossy(&out.get_output().stderr).contains("warning"));
}

#[test]
fn a_delimiter_the_lines_do_not_hold_is_never_reported() {
    let dir = tempfile::tempdir().unwrap();
    let spaced = dir.path().join("baskets.txt");
    fs::write(&spaced, "3 milk bread eggs\n2 jam butter\n").unwrap();
    let mut cmd = gramrec();
    cmd.args(["train", "-q", "--format", "baskets", "--input"]).arg(&spaced).arg("--out").arg(dir.path().join("m"));
    let err = error_line(&mut cmd, 2);
    assert!(err.contains("no delimiter") && err.contains("--delimiter space"), "{err}");
    assert!(!err.contains("(detected)"), "{err}");
    let single = dir.path().join("single.txt");
    fs::write(&single, "milk\nbread\nmilk\n").unwrap();
    let out = gramrec()
        .args(["train", "--factors", "2", "--iterations", "1", "--format", "baskets", "--input"])
        .arg(&single)
        .arg("--out")
        .arg(dir.path().join("m2"))
        .assert()
        .success();
    let log = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(log.contains("delimiter: none in the first lines (one field a line)"), "{log}");
    assert!(!log.contains("(detected)"), "{log}");
}

/// `train --json` on `input` with `extra` flags: (stderr, JSON report).
fn train_json(input: &Path, out: &Path, extra: &[&str]) -> (String, serde_json::Value) {
    let flags = ["--json", "--factors", "2", "--iterations", "1", "--device", "cpu"];
    let a = crate::common::train_command(&flags, input, out, extra).assert().success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    (err, crate::common::json(&a.get_output().stdout))
}

#[test]
fn every_run_says_which_columns_it_took_and_refuses_an_id_as_a_rating() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A header-less 5-column event log: user, item, category, behaviour, timestamp.
    let log = d.join("UserBehavior.csv");
    let mut text = String::new();
    for k in 0..400u64 {
        let behaviour = ["pv", "cart", "fav", "buy"][(k % 4) as usize];
        text.push_str(&format!(
            "{},{},{},{behaviour},{}\n",
            k % 37,
            1000 + k * 7 % 113,
            2_000_000 + k * 7919 % 500_009,
            1_511_544_070 + k
        ));
    }
    fs::write(&log, &text).unwrap();
    let mut cmd = gramrec();
    cmd.args(["train", "-q", "--input"]).arg(&log).arg("--out").arg(d.join("m"));
    let err = error_line(&mut cmd, 2);
    assert!(
        err.contains("column 2, taken as the rating by position") && err.contains("not ratings or counts"),
        "{err}"
    );
    assert!(err.contains("--rating-col"), "{err}");
    assert!(!d.join("m").exists());
    // Told, it trains, and says what it took.
    let (log_text, json) = train_json(&log, &d.join("m"), &["--rating-col", "none"]);
    assert!(
        log_text
            .contains("columns: user = column 0 (by position: no header), item = column 1 (by position: no header)"),
        "{log_text}"
    );
    assert_eq!(json["interactions"].as_u64(), Some(400));

    // A 4-column header-less file whose third column is no rating scale: refused.
    let wide = d.join("wide.tsv");
    fs::write(&wide, (0..50).map(|k| format!("u{}\ti{}\t{}\tx\n", k % 7, k % 11, k * 3)).collect::<String>()).unwrap();
    let mut cmd = gramrec();
    cmd.args(["train", "-q", "--input"]).arg(&wide).arg("--out").arg(d.join("w"));
    let err = error_line(&mut cmd, 2);
    assert!(err.contains("no header and 4 columns") && err.contains("not a rating scale"), "{err}");
    // MovieLens' u.data (4 columns, a 1–5 scale) is taken, and the reason said.
    let udata = d.join("u.data");
    fs::write(
        &udata,
        (0..60).map(|k| format!("{}\t{}\t{}\t88125{k:04}\n", k % 9, k % 13, 1 + k % 5)).collect::<String>(),
    )
    .unwrap();
    let (log_text, json) = train_json(&udata, &d.join("u"), &[]);
    assert!(
        log_text.contains("rating = column 2 (by position: no header; its values 1–5 look like a rating scale)"),
        "{log_text}"
    );
    assert_eq!(json["params"]["kind"], "explicit");

    // A weight column holding 1–4 is feedback strength, not stars.
    let weights = d.join("events.csv");
    let rows: String = (0..80).map(|k| format!("v{},p{},{}\n", k % 9, k % 17, 1 + k % 4)).collect();
    fs::write(&weights, format!("visitorId,sku,weight\n{rows}")).unwrap();
    let (log_text, json) = train_json(&weights, &d.join("wt"), &[]);
    assert_eq!(json["params"]["kind"], "implicit", "{log_text}");
    assert!(log_text.contains("the value column is named 'weight'"), "{log_text}");
    assert!(log_text.contains("item = 'sku' (by position: no column name matched)"), "{log_text}");
}

#[test]
fn zero_and_negative_feedback_follow_a_stated_policy() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = d.join("invoices.csv");
    let mut text = String::from("CustomerID,StockCode,Quantity\n");
    for k in 0..300 {
        let q = [1, 2, 0, 6, -1, 12][k % 6];
        text.push_str(&format!("c{},s{},{q}\n", k % 23, k % 29));
    }
    fs::write(&input, &text).unwrap();
    let flags = ["--user-col", "CustomerID", "--item-col", "StockCode"];
    // Default: a 0 is an interaction, a return (negative) is dropped; both counted.
    let (log, json) = train_json(&input, &d.join("a"), &flags);
    assert_eq!(
        (json["zerosAsInteractions"].as_u64(), json["nonpositiveDropped"].as_u64()),
        (Some(50), Some(50)),
        "{log}"
    );
    assert_eq!(json["interactions"].as_u64(), Some(250));
    assert!(
        log.contains("values of 0 or less: 50 zeros counted as interactions, 50 dropped (--nonpositive interaction)"),
        "{log}"
    );
    // As implicit does: kept as a confident "no".
    let (_, json) = train_json(&input, &d.join("b"), &[&flags[..], &["--nonpositive", "negative"]].concat());
    assert_eq!((json["nonpositiveDropped"].as_u64(), json["interactions"].as_u64()), (Some(0), Some(300)));
    let (_, json) = train_json(&input, &d.join("c"), &[&flags[..], &["--nonpositive", "drop"]].concat());
    assert_eq!((json["nonpositiveDropped"].as_u64(), json["interactions"].as_u64()), (Some(100), Some(200)));
    // Explicit ratings keep every value.
    let (_, json) = train_json(&input, &d.join("e"), &[&flags[..], &["--explicit"]].concat());
    assert_eq!((json["nonpositiveDropped"].as_u64(), json["interactions"].as_u64()), (Some(0), Some(300)));
}

#[test]
fn event_types_map_to_weights() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = d.join("events.csv");
    let kinds = ["view", "cart", "view", "buy"];
    let rows: String = (0..200).map(|k| format!("u{},i{},{},{}\n", k % 13, k % 29, kinds[k % 4], 1_000 + k)).collect();
    fs::write(&log, format!("user,item,event,timestamp\n{rows}")).unwrap();
    let flags = ["--rating-col", "event", "--value-map", "view=1,cart=3,buy=5"];
    let (log_text, json) = train_json(&log, &d.join("m"), &flags);
    assert_eq!(json["params"]["kind"], "implicit", "{log_text}");
    assert!(log_text.contains("the value map gives each event a weight"), "{log_text}");
    assert_eq!(json["interactions"].as_u64(), Some(200));
    // Another value is a bad line: an error naming it, or skipped and counted.
    fs::write(&log, format!("user,item,event,timestamp\n{rows}u1,i1,wishlist,5\n")).unwrap();
    let mut cmd = gramrec();
    cmd.args(["train", "-q", "--input"]).arg(&log).arg("--out").arg(d.join("x")).args(flags);
    let err = error_line(&mut cmd, 2);
    assert!(err.contains("events.csv:202: value 'wishlist' is not in --value-map (view, cart, buy)"), "{err}");
    let (log_text, _) = train_json(&log, &d.join("y"), &[&flags[..], &["--skip-invalid"]].concat());
    assert!(log_text.contains("skipped 1 bad lines (1 value not in the value map)"), "{log_text}");
    // split reads with the map too, and writes the lines as they were.
    let out = d.join("split");
    split(&log, &out, &[&flags[..], &["--skip-invalid", "--mode", "time"]].concat());
    let opts = LoadOptions {
        rating: "event".parse().unwrap(),
        value_map: Some("view=1,cart=3,buy=5".parse().unwrap()),
        skip_invalid: true,
        ..Default::default()
    };
    assert_split_exactly(&log, &out, ".csv", &opts);
    assert!(fs::read_to_string(out.join("train.csv")).unwrap().contains(",cart,"));
    // A malformed map is refused before anything is read.
    for bad in ["view", "view=x", "view=1,view=2", "=1"] {
        let mut cmd = gramrec();
        cmd.args(["train", "-q", "--value-map", bad, "--input"]).arg(&log).arg("--out").arg(d.join("z"));
        let err = error_line(&mut cmd, 2);
        assert!(err.contains("--value-map"), "{bad}: {err}");
    }
}

#[test]
fn retraining_on_the_event_log_ignores_the_base_files_column_flags() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = d.join("online_retail.csv");
    let rows: String =
        (0..120).map(|k| format!("{},{},Item {k},{}\n", 500 + k % 11, 8000 + k % 23, 1 + k % 3)).collect();
    fs::write(&base, format!("InvoiceNo,StockCode,Description,Quantity\n{rows}")).unwrap();
    // Lines as serve writes them (crates/gramrec-serve checks its lines hold these fields only).
    let events = d.join("events.jsonl");
    fs::write(
        &events,
        "{\"user\":\"500\",\"item\":\"9999\",\"weight\":2.0,\"time\":1700000000.5,\"received\":1700000001.0}\n\
         {\"user\":\"777\",\"item\":\"8000\",\"weight\":1.0,\"received\":1700000002.0}\n",
    )
    .unwrap();
    let flags = ["--user-col", "InvoiceNo", "--item-col", "StockCode", "--rating-col", "Quantity", "--input"];
    let (log_text, json) = train_json(&base, &d.join("m"), &[&flags[..], &[events.to_str().unwrap()]].concat());
    assert!(log_text.contains("events.jsonl: an event log: read by its own fields"), "{log_text}");
    assert_eq!(json["read"].as_u64(), Some(122));
    assert_eq!((json["users"].as_u64(), json["items"].as_u64()), (Some(12), Some(24)));
    // Two weights whose sum is not finite: refused where they are read, naming the line.
    let huge = "{\"user\":\"500\",\"item\":\"8000\",\"weight\":3e38}\n";
    fs::write(&events, huge.repeat(2)).unwrap();
    let mut cmd = gramrec();
    cmd.args(["train", "-q", "--input"]).arg(&base).args(flags).arg(&events).arg("--out").arg(d.join("n"));
    let err = error_line(&mut cmd, 2);
    assert!(err.contains("events.jsonl:1: field 'weight' is beyond ±1e15"), "{err}");
}

/// Writes `rows` (user, item, rating) as a Parquet file at `path`.
fn write_parquet(path: &Path, rows: &[(String, String, f32)]) {
    use arrow_array::{Float32Array, RecordBatch, StringArray};
    use std::sync::Arc;
    let batch = RecordBatch::try_from_iter([
        ("userId", Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0.as_str()))) as _),
        ("itemId", Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1.as_str()))) as _),
        ("rating", Arc::new(rows.iter().map(|r| r.2).collect::<Float32Array>()) as _),
    ])
    .unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(fs::File::create(path).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// Each user's top 5 (item, score) after a one-thread CPU training on `input`.
fn top5(input: &Path, out: &Path) -> std::collections::BTreeMap<String, Vec<(String, f64)>> {
    gramrec()
        .args(["train", "-q", "--factors", "6", "--iterations", "5", "--threads", "1", "--device", "cpu", "--input"])
        .arg(input)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
    let lists = out.join("top.jsonl");
    gramrec()
        .args(["recommend", "--all", "--k", "5", "--device", "cpu", "--model"])
        .arg(out)
        .arg("--out")
        .arg(&lists)
        .assert()
        .success();
    fs::read_to_string(&lists)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let items = v["items"].as_array().unwrap().iter();
            let items = items.map(|r| (r["item"].as_str().unwrap().to_string(), r["score"].as_f64().unwrap()));
            (v["user"].as_str().unwrap().to_string(), items.collect())
        })
        .collect()
}

#[test]
fn the_same_data_in_another_order_or_format_gives_the_same_model() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut rows: Vec<(String, String, f32)> = (0..1500u32)
        .map(|k| (format!("u{}", k * 7 % 97), format!("m{}", (k * 13 + k / 97) % 151), (1 + (k * 31) % 5) as f32))
        .collect();
    rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    rows.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let csv = |rows: &[(String, String, f32)]| -> String {
        let body: String = rows.iter().map(|(u, i, r)| format!("{u},{i},{r}\n")).collect();
        format!("userId,itemId,rating\n{body}")
    };
    fs::write(d.join("sorted.csv"), csv(&rows)).unwrap();
    // Another order: every 7th row from each offset (users and items first seen in another order).
    let shuffled: Vec<_> = (0..7).flat_map(|o| rows.iter().skip(o).step_by(7).cloned()).collect();
    fs::write(d.join("shuffled.csv"), csv(&shuffled)).unwrap();
    write_parquet(&d.join("reversed.parquet"), &rows.iter().rev().cloned().collect::<Vec<_>>());
    // A Spark output folder: two parts, the second half first.
    fs::create_dir(d.join("spark")).unwrap();
    let half = rows.len() / 2;
    write_parquet(&d.join("spark/part-00000-a.snappy.parquet"), &shuffled[half..]);
    write_parquet(&d.join("spark/part-00001-a.snappy.parquet"), &shuffled[..half]);

    let reference = top5(&d.join("sorted.csv"), &d.join("m0"));
    assert_eq!(reference.len(), 97);
    for (k, input) in ["shuffled.csv", "reversed.parquet", "spark"].into_iter().enumerate() {
        let other = top5(&d.join(input), &d.join(format!("m{}", k + 1)));
        assert_eq!(other.keys().collect::<Vec<_>>(), reference.keys().collect::<Vec<_>>(), "{input}");
        for (user, list) in &reference {
            let items: Vec<&str> = list.iter().map(|(i, _)| i.as_str()).collect();
            let theirs: Vec<&str> = other[user].iter().map(|(i, _)| i.as_str()).collect();
            assert_eq!(items, theirs, "{input}: user {user}");
            for ((_, a), (_, b)) in list.iter().zip(&other[user]) {
                assert!((a - b).abs() <= 1e-4 * a.abs().max(1.0), "{input}: user {user}: {a} vs {b}");
            }
        }
    }
}

#[test]
fn times_are_read_as_written_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Header-less user, item, category, behaviour, timestamp: the time is the
    // fifth column, not the behaviour in the fourth.
    let log = d.join("UserBehavior.csv");
    let kinds = ["pv", "cart", "pv", "buy"];
    let rows: String = (0..120)
        .map(|k| format!("{},{},{},{},{}\n", k % 9, 100 + k % 17, 4_000_000 + k, kinds[k % 4], 1_511_544_070 + k))
        .collect();
    fs::write(&log, &rows).unwrap();
    let out = d.join("by-time");
    let log_text = split(&log, &out, &["--mode", "time", "--rating-col", "3", "--value-map", "pv=1,cart=3,buy=5"]);
    assert!(log_text.contains("timestamp = column 4"), "{log_text}");
    let opts = LoadOptions {
        rating: "3".parse().unwrap(),
        value_map: Some("pv=1,cart=3,buy=5".parse().unwrap()),
        timestamps: true,
        ..Default::default()
    };
    assert_split_exactly(&log, &out, ".csv", &opts);

    // Dates with two-digit years are refused without a format …
    let retail = d.join("retail.csv");
    let rows: String = (0..60)
        .map(|k| format!("{},{},1,{:02}-09-11 08:{:02}\n", 500 + k % 7, 80 + k % 13, 1 + k % 28, k % 60))
        .collect();
    fs::write(&retail, format!("InvoiceNo,StockCode,Quantity,InvoiceDate\n{rows}")).unwrap();
    let flags =
        ["--user-col", "InvoiceNo", "--item-col", "StockCode", "--timestamp-col", "InvoiceDate", "--mode", "time"];
    let mut cmd = gramrec();
    cmd.arg("split").arg("--input").arg(&retail).arg("--out").arg(d.join("r1")).args(flags);
    let err = error_line(&mut cmd, 2);
    assert!(
        err.contains("retail.csv:2: timestamp '01-09-11 08:00' has a two-digit year") && err.contains("--time-format"),
        "{err}"
    );
    // … and read by the format given, each user's latest in test.
    let out = d.join("r2");
    split(&retail, &out, &[&flags[..], &["--time-format", "%d-%m-%y %H:%M"]].concat());
    let opts = LoadOptions {
        user: Some("InvoiceNo".parse().unwrap()),
        item: Some("StockCode".parse().unwrap()),
        timestamp: Some("InvoiceDate".parse().unwrap()),
        time_format: Some("%d-%m-%y %H:%M".into()),
        timestamps: true,
        ..Default::default()
    };
    assert_split_exactly(&retail, &out, ".csv", &opts);
    let test = load(&out.join("test.csv"), &opts).unwrap();
    assert!(test.timestamp.iter().all(|&t| t > 1.3e9 && t < 1.4e9), "2011, not the year 1: {:?}", &test.timestamp[..3]);
    let mut cmd = gramrec();
    cmd.arg("split")
        .arg("--input")
        .arg(&retail)
        .arg("--out")
        .arg(d.join("r3"))
        .args(flags)
        .args(["--time-format", "%Y/%m/%d"]);
    let err = error_line(&mut cmd, 2);
    assert!(err.contains("does not match --time-format '%Y/%m/%d'"), "{err}");
}

#[test]
fn item_aliases_are_replaced_by_their_canonical_ids() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Audioscrobbler's shape: "user artist count", space-separated; aliases tab-separated.
    let plays = d.join("user_artist_data.txt");
    let rows: String = (0..300)
        .map(|k| format!("{} {} {}\n", 1000 + k % 31, [1, 2, 3, 10, 11][k % 5] * 1000 + k % 7, 1 + k % 9))
        .collect();
    fs::write(&plays, rows).unwrap();
    let aliases = d.join("artist_alias.txt");
    let alias_rows: String = (0..7).map(|k| format!("{}\t{}\n", 10_000 + k, 1_000 + k)).collect();
    fs::write(&aliases, format!("{alias_rows}\t1027859\n")).unwrap();
    let alias = aliases.to_str().unwrap();
    // A bad alias line is an error naming it, or skipped.
    let mut cmd = gramrec();
    cmd.args(["train", "-q", "--item-alias", alias, "--input"]).arg(&plays).arg("--out").arg(d.join("x"));
    assert!(error_line(&mut cmd, 2).contains("artist_alias.txt:8: empty user ID"));
    let (log, json) = train_json(&plays, &d.join("m"), &["--item-alias", alias, "--skip-invalid"]);
    assert!(
        log.contains("item aliases")
            && log.contains("7 aliases read; 7 item IDs renamed to their canonical ID, in 60 records"),
        "{log}"
    );
    let (_, plain) = train_json(&plays, &d.join("p"), &[]);
    assert_eq!((plain["items"].as_u64(), json["items"].as_u64()), (Some(35), Some(28)));
    let items = fs::read(d.join("m/items.gramrec")).unwrap();
    let ids = gramrec_core::FactorFile::from_bytes(&items).unwrap().ids;
    assert!(ids.iter().all(|id| !id.starts_with("100") || id.len() != 5), "no alias left: {ids:?}");
}

/// The README's command line that starts with `start`, as arguments (the
/// comment after `#` left out).
fn readme_command(start: &str) -> Vec<String> {
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let line = readme.lines().find(|l| l.starts_with(start)).unwrap_or_else(|| panic!("README has no '{start}'"));
    let command = line.split(" #").next().unwrap();
    command.split_whitespace().skip(1).map(str::to_string).collect()
}

#[test]
fn the_readmes_real_world_examples_run_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Book-Crossing: a header, ';', quotes, CRLF, Windows-1252, 0 = "read, not rated".
    let mut bx = b"\"User-ID\";\"ISBN\";\"Book-Rating\"\r\n".to_vec();
    for k in 0..400u32 {
        bx.extend(
            format!("\"{}\";\"0{:08}X\";\"{}\"\r\n", k % 37, k * 7 % 59, [0, 0, 5, 8, 10][k as usize % 5]).bytes(),
        );
    }
    bx.extend(b"\"99\";\"M\xfcller\";\"7\"\r\n");
    fs::write(d.join("BX-Book-Ratings.csv"), bx).unwrap();
    let a =
        gramrec().current_dir(d).args(readme_command("gramrec train --input BX-Book-Ratings.csv")).assert().success();
    let log = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(log.contains("delimiter: ';' (detected)") && log.contains("rating = 'Book-Rating' (by its name)"), "{log}");
    assert!(log.contains("160 zeros counted as interactions"), "{log}");
    // A retail invoice log: quoted descriptions with commas, returns as negative quantities.
    let rows: String = (0..300)
        .map(|k| {
            format!(
                "{},{}A,\"HEART HOLDER, RED\",{},12/1/2010 8:26,2.55,{},United Kingdom\n",
                536_365 + k % 40,
                85_000 + k % 23,
                [1, 6, -1][k % 3],
                17_850 + k % 9
            )
        })
        .collect();
    fs::write(
        d.join("online_retail.csv"),
        format!("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n{rows}"),
    )
    .unwrap();
    let a = gramrec().current_dir(d).args(readme_command("gramrec train --input online_retail.csv")).assert().success();
    let log = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(log.contains("40 users × 23 items"), "{log}");
}

#[cfg(unix)]
#[test]
fn links_in_a_parquet_folder_never_read_a_file_twice_or_loop() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let folder = d.join("export");
    fs::create_dir_all(folder.join("day=1")).unwrap();
    let rows: Vec<(String, String, f32)> = (0..50).map(|k| (format!("u{}", k % 7), format!("i{k}"), 1.0)).collect();
    write_parquet(&folder.join("day=1/part-0.parquet"), &rows);
    // A link to the folder itself, a link to its parent, and a second name for the part.
    std::os::unix::fs::symlink(&folder, folder.join("day=1/again")).unwrap();
    std::os::unix::fs::symlink(d, folder.join("up")).unwrap();
    std::os::unix::fs::symlink(folder.join("day=1/part-0.parquet"), folder.join("copy.parquet")).unwrap();
    let mut cmd = gramrec();
    cmd.args(["train", "--json", "-q", "--factors", "2", "--iterations", "1", "--input"])
        .arg(&folder)
        .arg("--out")
        .arg(d.join("m"));
    let json = crate::common::ok_json(cmd.timeout(std::time::Duration::from_secs(60)));
    assert_eq!(json["read"].as_u64(), Some(50), "each row read once");
    // Read along its own path, the part keeps its partition column.
    let x = load(&folder, &LoadOptions { user: Some("day".parse().unwrap()), ..Default::default() }).unwrap();
    assert_eq!((x.len(), x.users.len(), x.users.id(0)), (50, 1, "1"));
}

#[cfg(unix)]
#[test]
fn a_parquet_value_repeated_in_every_row_is_decoded_once() {
    use arrow_array::{types::Int32Type, DictionaryArray, Int32Array, RecordBatch, StringArray};
    use parquet::arrow::arrow_writer::{ArrowWriter, ArrowWriterOptions};
    use parquet::file::properties::WriterProperties;
    use std::sync::Arc;
    // 2M rows of one 3,000-character item, dictionary-encoded and without an
    // Arrow schema (as Spark writes strings): under 1 MB on disk, 6 GB as
    // plain strings.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one-item.parquet");
    let rows = 2_000_000;
    let dict = |value: &str| {
        Arc::new(DictionaryArray::<Int32Type>::new(
            Int32Array::from(vec![0; rows]),
            Arc::new(StringArray::from(vec![value])),
        )) as _
    };
    let item = "x".repeat(3000);
    let batch = RecordBatch::try_from_iter([("user", dict("u")), ("item", dict(&item))]).unwrap();
    let props = WriterProperties::builder().set_max_row_group_row_count(Some(rows)).build();
    let opts = ArrowWriterOptions::new().with_properties(props).with_skip_arrow_metadata(true);
    let mut w = ArrowWriter::try_new_with_options(fs::File::create(&path).unwrap(), batch.schema(), opts).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    assert!(fs::metadata(&path).unwrap().len() < 2 << 20);
    // Under a 2 GB address-space limit (the threads' stacks included).
    let bin = assert_cmd::cargo::cargo_bin("gramrec");
    let mut cmd = assert_cmd::Command::new("sh");
    cmd.arg("-c")
        .arg(r#"ulimit -v 2000000 && exec "$0" train --json -q --device cpu --threads 2 --factors 2 --iterations 1 --input "$1" --out "$2""#)
        .arg(&bin)
        .arg(&path)
        .arg(dir.path().join("m"));
    let json = crate::common::ok_json(cmd.timeout(std::time::Duration::from_secs(120)));
    assert_eq!(json["read"].as_u64(), Some(rows as u64));
}

#[cfg(unix)]
#[test]
fn a_parquet_page_declaring_gigabytes_is_refused_before_it_is_allocated() {
    // Found by the parquet_folder fuzz target: a 402-byte file whose page
    // header declares a page of gigabytes (arrow-rs zeroes that much before
    // decompressing: 2.1 GB resident). Under a 1 GB limit it is a one-line error.
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/page_declares_2gib.parquet");
    let mut cmd = assert_cmd::Command::new("sh");
    cmd.arg("-c")
        .arg(r#"ulimit -v 1000000 && exec "$0" train -q --device cpu --threads 2 --input "$1" --out "$2""#)
        .arg(assert_cmd::cargo::cargo_bin("gramrec"))
        .arg(&fixture)
        .arg(dir.path().join("m"));
    let err = error_line(cmd.timeout(std::time::Duration::from_secs(60)), 2);
    assert!(
        err.contains(
            "page_declares_2gib.parquet: not a readable Parquet file: row group 0, column \"user\": page at byte 4"
        ),
        "{err}"
    );
}
