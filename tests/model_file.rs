//! The version-2 model file through the binary: each user's training items
//! left out without `--train`, items' names, links and images stored and
//! shown, and every version-1 model (tests/fixtures/v1) still read as it was.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::common::{generate, gramrec, ok_json, train_small as train};

/// Each user's items in a `user,item[,rating]` CSV with a header.
fn items_by_user(csv: &Path) -> HashMap<String, HashSet<String>> {
    let mut by: HashMap<String, HashSet<String>> = HashMap::new();
    for line in std::fs::read_to_string(csv).unwrap().lines().skip(1) {
        let mut f = line.split(',');
        by.entry(f.next().unwrap().into()).or_default().insert(f.next().unwrap().into());
    }
    by
}

/// `recommend --all` as (user, items) lines.
fn all_lists(model: &Path, out: &Path, extra: &[&str]) -> Vec<(String, Vec<String>)> {
    gramrec()
        .args(["recommend", "--all", "--k", "15", "--model"])
        .arg(model)
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
        .success();
    std::fs::read_to_string(out)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let items =
                v["items"].as_array().unwrap().iter().map(|r| r["item"].as_str().unwrap().to_string()).collect();
            (v["user"].as_str().unwrap().to_string(), items)
        })
        .collect()
}

fn user_list(model: &Path, user: &str, extra: &[&str]) -> Vec<String> {
    let v =
        ok_json(gramrec().args(["recommend", "--json", "--k", "40", "--user", user, "--model"]).arg(model).args(extra));
    v["items"].as_array().unwrap().iter().map(|r| r["item"].as_str().unwrap().to_string()).collect()
}

#[test]
fn recommendations_for_known_users_never_repeat_their_training_items() {
    let dir = tempfile::tempdir().unwrap();
    for (seed, kind) in [(1, "implicit"), (2, "explicit"), (3, "implicit")] {
        let data = dir.path().join(format!("d{seed}.csv"));
        gramrec()
            .args(["generate", "--kind", kind, "--users", "80", "--items", "40", "--nnz", "900", "--seed"])
            .arg(seed.to_string())
            .arg("--out")
            .arg(&data)
            .assert()
            .success();
        let model = dir.path().join(format!("m{seed}"));
        train(&data, &model, &[]);
        let seen = items_by_user(&data);
        // Every user, by --all; a sample by --user.
        let lists = all_lists(&model, &dir.path().join("all.jsonl"), &[]);
        assert_eq!(lists.len(), seen.len());
        for (user, items) in &lists {
            assert!(items.iter().all(|i| !seen[user].contains(i)), "seed {seed}: {user} got a training item");
            assert_eq!(items.len(), 15.min(40 - seen[user].len()), "seed {seed}: {user}'s list is full");
        }
        for user in seen.keys().take(10) {
            let items = user_list(&model, user, &[]);
            assert!(items.iter().all(|i| !seen[user].contains(i)), "seed {seed}: {user} got a training item");
            // --include-seen brings them back: with k past the catalogue, every item comes.
            let all = user_list(&model, user, &["--include-seen"]);
            assert_eq!(all.len(), 40);
            assert!(seen[user].iter().all(|i| all.contains(i)));
        }
        // The default is what --train with the training file gave before.
        let with_file = all_lists(&model, &dir.path().join("train.jsonl"), &["--train", data.to_str().unwrap()]);
        assert_eq!(lists, with_file, "seed {seed}");
    }
}

#[test]
fn evaluation_without_the_training_file_uses_the_models_record() {
    let dir = tempfile::tempdir().unwrap();
    let (train_file, test_file) = (dir.path().join("train.csv"), dir.path().join("test.csv"));
    let all = dir.path().join("all.csv");
    generate(&all, "implicit", 100, 50, 2500);
    crate::common::split_lines(&all, &train_file, &test_file);
    let model = dir.path().join("m");
    train(&train_file, &model, &[]);
    let ev = |extra: &[&str]| {
        let mut v = ok_json(
            gramrec().args(["evaluate", "--json", "--model"]).arg(&model).arg("--test").arg(&test_file).args(extra),
        );
        v.as_object_mut().unwrap().remove("baseline");
        v
    };
    assert_eq!(ev(&[]), ev(&["--train", train_file.to_str().unwrap()]));
}

/// The same items in the same order with the same scores, to 1e-5 relative:
/// a history is folded in by a row solve, whose kernels may sum in another
/// order from one release to the next (the last bits of an f32 move), while
/// every other field must be equal.
fn same_recommendations(got: &serde_json::Value, want: &serde_json::Value, what: &str) {
    let (mut got_rest, mut want_rest) = (got.clone(), want.clone());
    let got_items = got_rest.as_object_mut().unwrap().remove("items").unwrap();
    let want_items = want_rest.as_object_mut().unwrap().remove("items").unwrap();
    assert_eq!(got_rest, want_rest, "{what}");
    let (got_items, want_items) = (got_items.as_array().unwrap(), want_items.as_array().unwrap());
    assert_eq!(got_items.len(), want_items.len(), "{what}");
    for (g, w) in got_items.iter().zip(want_items) {
        assert_eq!(g["item"], w["item"], "{what}: {got_items:?} vs {want_items:?}");
        let (gs, ws) = (g["score"].as_f64().unwrap(), w["score"].as_f64().unwrap());
        assert!((gs - ws).abs() <= 1e-5 * ws.abs(), "{what}: score {gs} vs {ws}");
    }
}

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1").join(path)
}

#[test]
fn version_1_models_give_what_they_gave() {
    for (model, args, expected) in [
        ("explicit", vec!["--user", "u0"], "explicit/recommend-u0.json"),
        ("implicit", vec!["--user", "u0"], "implicit/recommend-u0.json"),
        ("implicit", vec!["--history", "i1,i2"], "implicit/recommend-history.json"),
        ("implicit/items-i8.gramrec", vec!["--history", "i1,i2"], "implicit/recommend-history-i8.json"),
    ] {
        let out = gramrec()
            .args(["recommend", "--k", "5", "--json", "--model"])
            .arg(fixture(model))
            .args(&args)
            .assert()
            .success();
        let got: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        let want: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fixture(expected)).unwrap()).unwrap();
        same_recommendations(&got, &want, &format!("{model} {args:?}"));
        if args[0] == "--user" {
            let note = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
            assert!(note.contains("does not record its users' training items"), "{note}");
        }
    }
    let v = ok_json(gramrec().args(["inspect", "--json"]).arg(fixture("implicit/items.gramrec")));
    assert_eq!(v["version"], 1);
    // Written again, a version-1 model is a version-2 file with the same factors.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("items.gramrec");
    gramrec()
        .args(["export", "--dtype", "f32", "--model"])
        .arg(fixture("implicit"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(ok_json(gramrec().args(["inspect", "--json"]).arg(&out))["version"], 2);
    assert_eq!(
        crate::common::factors(&fixture("implicit"), "items.gramrec"),
        crate::common::factors(dir.path(), "items.gramrec")
    );
}

#[test]
fn a_newer_version_is_refused_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(fixture("implicit/items.gramrec")).unwrap();
    bytes[8..12].copy_from_slice(&7u32.to_le_bytes());
    let crc = crc32(&bytes[..28]);
    bytes[28..32].copy_from_slice(&crc.to_le_bytes());
    let path = dir.path().join("new.gramrec");
    std::fs::write(&path, bytes).unwrap();
    let out = gramrec().args(["recommend", "--history", "i1", "--model"]).arg(&path).assert().code(2);
    let e = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(e.contains("version 7 is newer than this gramrec reads (versions 1 to 2)"), "{e}");
}

/// CRC-32 (IEEE), bit by bit: the test's own, not the reader's.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A retail log whose rows carry each product's description (the first one
/// is kept), and a product file with links and images.
const RETAIL: &str = "InvoiceNo,StockCode,Description,Quantity\n\
    536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6\n536365,71053,WHITE METAL LANTERN,6\n\
    536366,22633,HAND WARMER UNION JACK,6\n536366,85123A,,2\n536367,71053,white metal lantern (new),1\n\
    536367,22633,HAND WARMER UNION JACK,1\n536368,84029G,\"KNITTED UNION FLAG, HOT WATER BOTTLE\",6\n\
    536368,85123A,WHITE HANGING HEART T-LIGHT HOLDER,3\n536369,84029G,,1\n536369,22633,,2\n";

#[test]
fn names_from_the_interaction_file_are_shown_by_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("retail.csv");
    std::fs::write(&log, RETAIL).unwrap();
    let model = dir.path().join("m");
    train(
        &log,
        &model,
        &["--user-col", "InvoiceNo", "--item-col", "StockCode", "--item-name-col", "Description", "--implicit"],
    );
    let similar = ok_json(gramrec().args(["similar", "--json", "--item", "85123A", "--k", "3", "--model"]).arg(&model));
    let names: HashMap<String, String> = similar["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["item"].as_str().unwrap().into(), r["name"].as_str().unwrap().into()))
        .collect();
    assert_eq!(names["71053"], "WHITE METAL LANTERN", "the first description is kept");
    assert_eq!(names["84029G"], "KNITTED UNION FLAG, HOT WATER BOTTLE");
    let table = gramrec().args(["similar", "--item", "85123A", "--k", "3", "--model"]).arg(&model).assert().success();
    let table = String::from_utf8_lossy(&table.get_output().stdout).into_owned();
    assert!(table.lines().next().unwrap().contains("name"), "{table}");
    assert!(table.contains("HAND WARMER UNION JACK"), "{table}");
    let inspect = ok_json(gramrec().args(["inspect", "--json"]).arg(model.join("items.gramrec")));
    assert_eq!(
        (inspect["described"].as_u64(), inspect["detailFields"].clone()),
        (Some(4), serde_json::json!(["name"]))
    );
    assert_eq!(ok_json(gramrec().args(["inspect", "--json"]).arg(model.join("users.gramrec")))["seenInteractions"], 10);
    // export --no-metadata leaves them out.
    let bare = dir.path().join("bare.gramrec");
    gramrec().args(["export", "--no-metadata", "--model"]).arg(&model).arg("--out").arg(&bare).assert().success();
    let v = ok_json(gramrec().args(["similar", "--json", "--item", "85123A", "--model"]).arg(&bare));
    assert!(v["items"].as_array().unwrap().iter().all(|r| r.get("name").is_none()));
}

#[test]
fn an_item_file_gives_names_links_and_images_and_refuses_script_links() {
    let dir = tempfile::tempdir().unwrap();
    let clicks = dir.path().join("clicks.csv");
    generate(&clicks, "implicit", 60, 20, 600);
    let items = dir.path().join("catalogue.csv");
    let mut catalogue = String::from("itemId,title,link,imageUrl\n");
    for i in 0..18 {
        catalogue.push_str(&format!("i{i},\"Größe {i}, \"\"new\"\"\",https://shop.example/{i},/img/{i}.png\n"));
    }
    std::fs::write(&items, &catalogue).unwrap();
    let model = dir.path().join("m");
    train(&clicks, &model, &["--items", items.to_str().unwrap()]);
    let recs =
        ok_json(gramrec().args(["recommend", "--json", "--history", "i1,i2", "--k", "20", "--model"]).arg(&model));
    for r in recs["items"].as_array().unwrap() {
        let id = r["item"].as_str().unwrap();
        let n: usize = id[1..].parse().unwrap();
        if n < 18 {
            assert_eq!(r["name"], format!("Größe {n}, \"new\""));
            assert_eq!(r["url"], format!("https://shop.example/{n}"));
            assert_eq!(r["image"], format!("/img/{n}.png"));
        } else {
            assert!(r.get("name").is_none() && r.get("url").is_none(), "{id} has no details");
        }
    }
    // The same details added to an existing model by export; catalogue rows
    // for items the model lacks are counted, not passed over in silence.
    std::fs::write(&items, format!("{catalogue}zz1,Gone,https://shop.example/zz1,\nzz2,Gone too,,\n")).unwrap();
    let out = dir.path().join("web.gramrec");
    let bare = dir.path().join("bare");
    train(&clicks, &bare, &[]);
    let export = gramrec()
        .args(["export", "--dtype", "i8", "--model"])
        .arg(&bare)
        .arg("--items")
        .arg(&items)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let log = String::from_utf8_lossy(&export.get_output().stderr).into_owned();
    assert!(log.contains("18 of 20 items described; 2 of the table's items are not in the model (left out)"), "{log}");
    assert_eq!(ok_json(gramrec().args(["inspect", "--json"]).arg(&out))["described"], 18);
    // A script link is refused with the file and line.
    std::fs::write(&items, "item,name,url\ni1,One,javascript:alert(1)\n").unwrap();
    let e = gramrec()
        .args(["train", "--input"])
        .arg(&clicks)
        .arg("--items")
        .arg(&items)
        .arg("--out")
        .arg(dir.path().join("x"))
        .assert()
        .code(2);
    let e = String::from_utf8_lossy(&e.get_output().stderr).into_owned();
    assert!(e.contains("catalogue.csv:2: the link 'javascript:alert(1)' is not http(s) or relative"), "{e}");
}
