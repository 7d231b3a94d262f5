//! Every file of tests/corpus through the real binary, in strict mode and
//! with --skip-invalid, against tests/corpus/expected.tsv; plus bad inputs too
//! big or too binary to commit, and degenerate training data. Fails on any
//! panic or unexpected outcome.

use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// Trains on `input` with `extra` flags; returns (exit code, stderr, output dir).
fn train(input: &Path, extra: &[&str]) -> (i32, String, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let factors: &[&str] = if extra.contains(&"--factors") { &[] } else { &["--factors", "2"] };
    let o = Command::cargo_bin("gramrec")
        .unwrap()
        .args(["train", "-q", "--iterations", "2"])
        .args(factors)
        .arg("--input")
        .arg(input)
        .arg("--out")
        .arg(out.path().join("m"))
        .args(extra)
        .output()
        .unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned(), out)
}

/// Checks one outcome: the exit code, the message, one line on failure, no
/// panic, and on success a readable model with finite factors.
fn check(what: &str, (code, stderr, out): &(i32, String, tempfile::TempDir), want_code: i32, want_message: &str) {
    assert!(!stderr.contains("panicked") && !stderr.contains("internal error"), "{what}: {stderr}");
    assert_eq!(*code, want_code, "{what}: exit code; stderr: {stderr}");
    assert!(stderr.contains(want_message), "{what}: stderr {stderr:?} lacks {want_message:?}");
    if want_code != 0 {
        assert_eq!(stderr.lines().count(), 1, "{what}: errors are one line: {stderr:?}");
        assert!(!out.path().join("m").exists(), "{what}: nothing is written on failure");
    } else {
        for file in ["items.gramrec", "users.gramrec"] {
            let bytes = std::fs::read(out.path().join("m").join(file)).unwrap();
            let f = gramrec_core::FactorFile::from_bytes(&bytes).unwrap_or_else(|e| panic!("{what}: {file}: {e}"));
            assert!(f.factors_f32().iter().all(|v| v.is_finite()), "{what}: non-finite factors in {file}");
        }
    }
}

#[test]
fn corpus_files_give_their_expected_outcomes() {
    let manifest = std::fs::read_to_string(corpus().join("expected.tsv")).unwrap();
    let mut cases = 0;
    for line in manifest.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 5, "manifest line {line:?}");
        let input = corpus().join(cols[0]);
        check(&format!("{} (strict)", cols[0]), &train(&input, &[]), cols[1].parse().unwrap(), cols[2]);
        check(
            &format!("{} (--skip-invalid)", cols[0]),
            &train(&input, &["--skip-invalid"]),
            cols[3].parse().unwrap(),
            cols[4],
        );
        cases += 1;
    }
    let listed = std::fs::read_dir(corpus()).unwrap().count() - 1;
    assert_eq!(cases, listed, "every corpus file has a line in expected.tsv");
}

#[test]
fn inputs_too_big_or_binary_to_commit() {
    let dir = tempfile::tempdir().unwrap();
    // A 10 MB line: the message quotes 40 characters of it, not 10 MB.
    let long = dir.path().join("long_line.csv");
    let mut f = std::fs::File::create(&long).unwrap();
    writeln!(f, "u1,i1,5").unwrap();
    writeln!(f, "u2,i2,{}", "x".repeat(10 << 20)).unwrap();
    drop(f);
    let outcome = train(&long, &[]);
    check(
        "10 MB line",
        &outcome,
        2,
        "long_line.csv:2: rating 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…' is not a number",
    );
    assert!(outcome.1.len() < 300);
    check("10 MB line (--skip-invalid)", &train(&long, &["--skip-invalid"]), 0, "skipped 1 bad lines");

    // A truncated gzip file.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for i in 0..5000 {
        writeln!(enc, "u{},i{},{}", i % 97, i % 89, 1 + i % 5).unwrap();
    }
    let gz = enc.finish().unwrap();
    let truncated = dir.path().join("truncated.csv.gz");
    std::fs::write(&truncated, &gz[..gz.len() / 2]).unwrap();
    check("truncated gzip", &train(&truncated, &[]), 2, "truncated.csv.gz: cannot decompress");
    check("truncated gzip (--skip-invalid)", &train(&truncated, &["--skip-invalid"]), 2, "cannot decompress");

    // A factor file given as interaction data.
    let (_, _, model) = train(&corpus().join("identical_ratings.csv"), &[]);
    let items = model.path().join("m/items.gramrec");
    check("factor file as input", &train(&items, &[]), 2, "this is a gramrec factor file, not interaction data");
}

#[test]
fn degenerate_data_trains_or_says_why() {
    let c = corpus();
    // One interaction, more factors than items, identical ratings: they train.
    check("one interaction", &train(&c.join("one_interaction.csv"), &["--factors", "8"]), 0, "");
    check("identical ratings", &train(&c.join("identical_ratings.csv"), &["--factors", "16"]), 0, "");
    check("implicit, negative values", &train(&c.join("negative.csv"), &["--implicit"]), 0, "");
    // λ = 0 with fewer ratings than factors has no unique solution (one
    // value alone reads as implicit presence: the rating model is asked for).
    check(
        "reg 0",
        &train(&c.join("one_interaction.csv"), &["--explicit", "--reg", "0", "--solver", "cholesky"]),
        2,
        "not positive definite",
    );
    // Filters that leave nothing.
    check(
        "filtered away",
        &train(&c.join("identical_ratings.csv"), &["--min-user-count", "5"]),
        2,
        "no interactions are left",
    );
}
