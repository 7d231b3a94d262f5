//! The Parquet reader, file or folder, from raw bytes: the bytes are written
//! as one Parquet file, alone or as two parts of a Spark-style folder (a
//! `key=value/` partition, a `_SUCCESS` marker), and read with options the
//! first byte picks. Errors are fine; panics, hangs and unbounded
//! allocations are not.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use gramrec_data::load::{load, Format, LoadOptions};
use libfuzzer_sys::fuzz_target;

/// A scratch folder per fuzzing process, emptied before each input.
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("gramrec-fuzz-parquet-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else { return };
    let root = scratch().join("input");
    let _ = std::fs::remove_dir_all(&root);
    let path = if mode & 1 == 0 {
        std::fs::create_dir_all(&root).unwrap();
        let file = root.join("one.parquet");
        std::fs::write(&file, body).unwrap();
        file
    } else {
        let part = root.join("day=2026-12-06");
        std::fs::create_dir_all(&part).unwrap();
        std::fs::write(part.join("part-00000.snappy.parquet"), body).unwrap();
        std::fs::write(root.join("part-00001.parquet"), body).unwrap();
        std::fs::write(root.join("_SUCCESS"), b"").unwrap();
        root.clone()
    };
    let opts = LoadOptions {
        format: Format::Parquet,
        skip_invalid: mode & 2 != 0,
        timestamps: mode & 4 != 0,
        record_lines: mode & 8 != 0,
        user: (mode & 16 != 0).then(|| "day".parse().unwrap()),
        ..Default::default()
    };
    if let Ok(x) = load(&path, &opts) {
        let _ = gramrec_data::Dataset::build(x, &Default::default());
    }
});
