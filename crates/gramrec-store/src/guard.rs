//! Refusing to overwrite what a command reads: `split --input d/train.csv
//! --out d` or `export --out MODEL/users.gramrec` would otherwise destroy
//! their own input.

use std::path::{Path, PathBuf};

use gramrec_core::{Error, Result};

/// Fails when any of `outputs` is the same file as any of `inputs` (however
/// each is spelled: through links, `..`, or another name of the same file).
pub fn refuse_overwriting(outputs: &[PathBuf], inputs: &[PathBuf]) -> Result<()> {
    for out in outputs {
        if let Some(input) = inputs.iter().find(|i| same_file(out, i) || inside(i, out)) {
            return Err(Error::Conflict(format!(
                "{} is also an input of this command ({}); write the output somewhere else",
                out.display(),
                input.display()
            )));
        }
    }
    Ok(())
}

/// Whether `input` lies inside the existing folder `out` (a folder output
/// replaces everything in it).
fn inside(input: &Path, out: &Path) -> bool {
    match (std::fs::canonicalize(input), std::fs::canonicalize(out)) {
        (Ok(i), Ok(o)) => o.is_dir() && i.starts_with(&o),
        _ => false,
    }
}

#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino() && a.is_file(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_that_is_an_input_is_refused_however_spelled() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("train.csv");
        std::fs::write(&input, "u,i\n").unwrap();
        let other = dir.path().join("sub/../train.csv");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let e = refuse_overwriting(&[other], std::slice::from_ref(&input)).unwrap_err().to_string();
        assert!(e.contains("is also an input"), "{e}");
        assert!(refuse_overwriting(&[dir.path().join("new.csv")], std::slice::from_ref(&input)).is_ok());
        // Not yet existing inputs and outputs are fine; so is standard output.
        assert!(refuse_overwriting(&[PathBuf::from("-")], &[input]).is_ok());
    }
}
