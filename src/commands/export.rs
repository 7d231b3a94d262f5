//! `gramrec export`.

use anyhow::Result;
use gramrec_store::model_dir::item_file_path;
use gramrec_store::{model_files, read_factor_file, refuse_overwriting, write_factor_file};

use crate::cli::ExportArgs;
use crate::progress::stderr_line;

pub fn run(a: ExportArgs) -> Result<()> {
    refuse_overwriting(std::slice::from_ref(&a.out), &model_files(&a.model))?;
    let input = item_file_path(&a.model);
    let mut file = read_factor_file(&input)?.with_dtype(a.dtype);
    if a.no_metadata {
        file.info = None;
    }
    if a.details.items.is_none() && a.details.columns().any() {
        return Err(gramrec_core::Error::Argument(
            "--item-name-col, --item-url-col and --item-image-col name columns of --items FILE here".into(),
        )
        .into());
    }
    if let Some(table) = a.details.table(None, &Default::default())? {
        super::attach_details(&mut file, &table, false);
    }
    write_factor_file(&a.out, &file)?;
    let (before, after) = (std::fs::metadata(&input)?.len(), std::fs::metadata(&a.out)?.len());
    stderr_line(&format!(
        "wrote {} ({}, {after} bytes: {:.0}% of {before})",
        a.out.display(),
        a.dtype,
        100.0 * after as f64 / before.max(1) as f64
    ));
    Ok(())
}
