//! `gramrec export`.

use anyhow::Result;
use gramrec_store::model_dir::item_file_path;
use gramrec_store::{model_files, read_factor_file, refuse_overwriting, write_factor_file};

use crate::cli::ExportArgs;
use crate::progress::stderr_line;

pub fn run(a: ExportArgs) -> Result<()> {
    refuse_overwriting(std::slice::from_ref(&a.out), &model_files(&a.model))?;
    let input = item_file_path(&a.model);
    let file = read_factor_file(&input)?;
    write_factor_file(&a.out, &file.with_dtype(a.dtype))?;
    let (before, after) = (std::fs::metadata(&input)?.len(), std::fs::metadata(&a.out)?.len());
    stderr_line(&format!(
        "wrote {} ({}, {after} bytes: {:.0}% of {before})",
        a.out.display(),
        a.dtype,
        100.0 * after as f64 / before.max(1) as f64
    ));
    Ok(())
}
