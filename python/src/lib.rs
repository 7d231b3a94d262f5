//! `gramrec._gramrec`, the Rust half of gramrec's Python package: it turns
//! Python values (NumPy arrays, lists, keywords) into the library API's
//! (gramrec-engine) and back, and holds no logic of its own. The classes a
//! Python user meets (`gramrec.ALS`, `gramrec.load`) are in
//! `gramrec/__init__.py`, over these functions.

mod errors;
mod evaluate;
mod fit;
mod interactions;
mod interop;
mod model;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
fn _gramrec(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fit::fit, m)?)?;
    m.add_function(wrap_pyfunction!(fit::fit_columns, m)?)?;
    m.add_function(wrap_pyfunction!(fit::auto, m)?)?;
    m.add_function(wrap_pyfunction!(model::load, m)?)?;
    m.add_function(wrap_pyfunction!(model::from_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate::evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate::rules, m)?)?;
    m.add_function(wrap_pyfunction!(interop::export_spark, m)?)?;
    m.add_class::<model::Model>()?;
    m.add_class::<interactions::Interactions>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // The files of a model directory, for shipping a model to Spark's executors.
    m.add("MODEL_FILES", (gramrec_store::USERS_FILE, gramrec_store::ITEMS_FILE))?;
    Ok(())
}
