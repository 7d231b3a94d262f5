//! examples/fit_save_score.rs, the library API's example, run as a reader
//! of docs/ARCHITECTURE.md runs it (`cargo test` builds it beside this binary).

use std::path::PathBuf;
use std::process::Command;

/// The example's executable: `cargo test` builds examples into `examples/`
/// beside the `deps/` folder that holds this test binary, named
/// `fit_save_score-HASH` (`cargo build --example` names it without the hash).
fn example() -> PathBuf {
    let deps = std::env::current_exe().unwrap().parent().unwrap().to_path_buf();
    let dir = deps.parent().unwrap().join("examples");
    let built = std::fs::read_dir(&dir).into_iter().flatten().flatten().filter(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        let stem = name.strip_suffix(std::env::consts::EXE_SUFFIX).unwrap_or(&name).to_string();
        let ours = stem == "fit_save_score" || stem.strip_prefix("fit_save_score-").is_some_and(|h| !h.contains('.'));
        ours && e.path().is_file()
    });
    let newest = built.max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok());
    newest.map(|e| e.path()).unwrap_or_else(|| {
        panic!(
            "{}: no fit_save_score; `cargo test` with every target (not --test tests alone) builds it",
            dir.display()
        )
    })
}

#[test]
fn the_library_example_fits_saves_and_scores() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(example()).env("TMPDIR", tmp.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("iteration 10"), "{stderr}");
    let dir = tmp.path().join("gramrec-example");
    for file in ["clicks.csv", "model/users.gramrec", "model/items.gramrec"] {
        assert!(dir.join(file).is_file(), "{file} not written");
    }
    // The visitor clicked i1 and i2, items of the first group (i0–i24): the
    // five items recommended are others of that group.
    let stdout = String::from_utf8(out.stdout).unwrap();
    let items: Vec<u32> = stdout.lines().map(|l| l.split('\t').next().unwrap()[1..].parse().unwrap()).collect();
    assert_eq!(items.len(), 5, "{stdout}");
    assert!(items.iter().all(|&i| i < 25 && i != 1 && i != 2), "{stdout}");
}
