//! Interrupted training: Ctrl-C stops between iterations and writes nothing;
//! a kill at any moment leaves every model file either the old complete one
//! or the new complete one.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("gramrec")
}

fn signal(pid: u32, sig: &str) {
    assert!(Command::new("kill").args([sig, &pid.to_string()]).status().unwrap().success());
}

/// Writes a data set big enough that an iteration takes a noticeable time.
fn data(dir: &Path) -> std::path::PathBuf {
    let input = dir.join("clicks.csv");
    let ok = Command::new(bin())
        .args(["generate", "--kind", "implicit", "--users", "20000", "--items", "4000", "--nnz", "400000", "--out"])
        .arg(&input)
        .status()
        .unwrap();
    assert!(ok.success());
    input
}

fn model_files(dir: &Path) -> Vec<Vec<u8>> {
    ["items.gramrec", "users.gramrec"].iter().map(|f| std::fs::read(dir.join(f)).unwrap()).collect()
}

#[test]
fn ctrl_c_stops_between_iterations_and_keeps_the_old_model() {
    let dir = tempfile::tempdir().unwrap();
    let input = data(dir.path());
    let out = dir.path().join("model");
    let first = Command::new(bin())
        .args(["train", "-q", "--iterations", "1", "--factors", "8", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .status();
    assert!(first.unwrap().success());
    let before = model_files(&out);

    let mut child = Command::new(bin())
        .args(["train", "--iterations", "200", "--factors", "32", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    // Wait for the second iteration, then press Ctrl-C.
    for line in lines.by_ref() {
        if line.unwrap().starts_with("iteration   2/") {
            break;
        }
    }
    signal(child.id(), "-INT");
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "stderr: {rest:?}");
    let last = rest.last().unwrap();
    assert!(last.contains("interrupted after iteration") && last.contains("the model was not written"), "{rest:?}");
    assert!(
        rest.iter().filter(|l| l.starts_with("iteration")).count() <= 2,
        "stopped within an iteration or two: {rest:?}"
    );
    assert_eq!(model_files(&out), before, "the previous model is untouched");
}

#[test]
fn killed_at_any_moment_leaves_old_or_new_complete_files() {
    let dir = tempfile::tempdir().unwrap();
    let input = data(dir.path());
    let out = dir.path().join("model");
    let first = Command::new(bin())
        .args(["train", "-q", "--iterations", "1", "--factors", "4", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .status();
    assert!(first.unwrap().success());
    // Kill runs at spread-out moments: during loading, training and writing.
    for (n, delay_ms) in [20u64, 150, 300, 450, 600, 900].into_iter().enumerate() {
        let sig = if n % 2 == 0 { "-KILL" } else { "-INT" };
        let mut child = Command::new(bin())
            .args(["train", "-q", "--iterations", "2", "--factors", "8", "--seed"])
            .arg(n.to_string())
            .arg("--input")
            .arg(&input)
            .arg("--out")
            .arg(&out)
            .spawn()
            .unwrap();
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(delay_ms) && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(5));
        }
        if child.try_wait().unwrap().is_none() {
            signal(child.id(), sig);
        }
        child.wait().unwrap();
        for (file, bytes) in ["items.gramrec", "users.gramrec"].iter().zip(model_files(&out)) {
            let parsed = gramrec_core::FactorFile::from_bytes(&bytes);
            assert!(parsed.is_ok(), "{file} after {sig} at {delay_ms} ms is not a complete factor file: {parsed:?}");
        }
    }
}
