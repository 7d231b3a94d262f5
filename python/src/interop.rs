//! Models handed to other tools: a gramrec model directory written as a
//! Spark MLlib `ALSModel` folder (for `gramrec.spark.to_spark_model`), by
//! the exporter `gramrec export --to spark` uses.

use std::path::PathBuf;

use gramrec_interop::{spark, DenseModel};
use gramrec_store::{read_model_files, write_dir_atomic, Overwrite};
use pyo3::prelude::*;

use crate::errors::to_py;

/// Writes the model directory `model` as a Spark `ALSModel` folder `out`
/// (staged and renamed; an existing `out` is refused unless it is an empty
/// folder or, with `overwrite`, an earlier export holding nothing else).
/// Returns whether the user and the item IDs were not all integers, so
/// that dense indices and `userIds/`/`itemIds/` were written.
#[pyfunction]
#[pyo3(signature = (model, out, overwrite=false))]
pub fn export_spark(py: Python<'_>, model: PathBuf, out: PathBuf, overwrite: bool) -> PyResult<(bool, bool)> {
    let overwrite = if overwrite { Overwrite::SameKind } else { Overwrite::Refuse };
    py.detach(|| {
        let dense = DenseModel::from_factor_files(&read_model_files(&model)?);
        let mut exported = None;
        write_dir_atomic(&out, &spark::FOLDER, overwrite, |dir| {
            exported = Some(spark::write(dir, &dense)?);
            Ok(())
        })?;
        Ok(exported.map_or((false, false), |e| (e.mapped_users, e.mapped_items)))
    })
    .map_err(to_py)
}
