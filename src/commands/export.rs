//! `gramrec export`: an item file for the web, or the whole model for
//! Spark, implicit or NumPy.

use anyhow::Result;
use gramrec_interop::{implicit, npy, spark, DenseModel};
use gramrec_store::model_dir::item_file_path;
use gramrec_store::{
    model_files, read_factor_file, read_model_files, refuse_overwriting, write_dir_atomic, write_factor_file,
    Overwrite, ITEMS_FILE, USERS_FILE,
};

use crate::cli::{ExportArgs, ExportTo};
use crate::progress::stderr_line;

pub fn run(a: ExportArgs) -> Result<()> {
    let mut inputs = model_files(&a.model);
    inputs.push(a.model.clone());
    refuse_overwriting(std::slice::from_ref(&a.out), &inputs)?;
    if a.to != ExportTo::Gramrec {
        return to_other_tool(&a);
    }
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
        let (info, described) = table.for_items(&file.ids);
        super::log_details(&table, described, &file.ids, false);
        file.info = Some(info);
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

/// `--to spark|implicit|npy`: both sides of the model, f32.
fn to_other_tool(a: &ExportArgs) -> Result<()> {
    if !a.model.join(USERS_FILE).is_file() {
        return Err(gramrec_core::Error::Argument(format!(
            "--to {} needs a model directory with {USERS_FILE} and {ITEMS_FILE}; {} is not one",
            a.to,
            a.model.display()
        ))
        .into());
    }
    let overwrite = if a.overwrite { Overwrite::SameKind } else { Overwrite::Refuse };
    let files = read_model_files(&a.model)?;
    let dense = DenseModel::from_factor_files(&files);
    let bayesian = files.items.prior.is_some();
    drop(files);
    let shape = format!(
        "{} users × {} items, rank {}{}",
        dense.user_ids.len(),
        dense.item_ids.len(),
        dense.rank,
        if dense.bias_columns { format!(": {} factors and two bias columns", dense.rank - 2) } else { String::new() }
    );
    match a.to {
        ExportTo::Spark => {
            let mut exported = None;
            write_dir_atomic(&a.out, &spark::FOLDER, overwrite, |dir| {
                exported = Some(spark::write(dir, &dense)?);
                Ok(())
            })?;
            let exported = exported.expect("written");
            stderr_line(&format!("wrote Spark ALSModel {} ({shape})", a.out.display()));
            for (mapped, side) in [(exported.mapped_users, "user"), (exported.mapped_items, "item")] {
                if mapped {
                    stderr_line(&format!(
                        "the {side} IDs are not all integers: Spark gets indices 0..n, and {}/{side}Ids/ maps them back (columns id, label)",
                        a.out.display()
                    ));
                }
            }
        }
        ExportTo::Implicit => {
            let (u, i) = implicit::write(&a.out, &dense)?;
            stderr_line(&format!(
                "wrote implicit model {} ({shape}); row IDs in {} and {}",
                a.out.display(),
                u.display(),
                i.display()
            ));
        }
        ExportTo::Npy => {
            write_dir_atomic(&a.out, &npy::FOLDER, overwrite, |dir| npy::write_folder(dir, &dense))?;
            stderr_line(&format!("wrote NumPy arrays and ID lists to {} ({shape})", a.out.display()));
        }
        ExportTo::Gramrec => unreachable!("handled by run"),
    }
    if bayesian {
        stderr_line(&format!(
            "{} is a Bayesian model (--method bayes): its posterior-mean factors were exported; its learned prior \
             was not ({} folds new users in with its own regularisation, not with the prior)",
            a.model.display(),
            a.to
        ));
    }
    Ok(())
}
