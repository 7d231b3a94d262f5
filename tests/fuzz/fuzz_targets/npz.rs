//! implicit's `.npz` model reader (a zip of `.npy` arrays), from raw bytes:
//! every declared size is checked against the archive and a limit before
//! anything is allocated. Errors are fine; panics and unbounded allocations
//! are not.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// The archive's path, one per fuzzing process.
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| std::env::temp_dir().join(format!("gramrec-fuzz-{}.npz", std::process::id())))
}

fuzz_target!(|data: &[u8]| {
    std::fs::write(scratch(), data).unwrap();
    let _ = gramrec_interop::implicit::read(scratch(), None, None);
});
