//! gramrec-interop: models in and out of the tools ALS users already run.
//!
//! * [`spark`]: Spark MLlib `ALSModel` folders, both ways — the cluster
//!   trains and gramrec serves, or gramrec trains and the cluster scores;
//! * [`implicit`]: benfred/implicit's `.npz` model files, both ways;
//! * [`npy`]: plain NumPy arrays out, for anything else.
//!
//! Every path goes through [`DenseModel`] (two factor matrices and their
//! IDs): biases become two extra columns on the way out and come back on
//! the way in, so a dot product in the other tool is gramrec's prediction.
//! [`ids`] maps the other tools' integer IDs back to the original strings.
//! Docs: docs/INTEROP.md.

pub mod dense;
pub mod ids;
pub mod implicit;
pub mod npy;
mod parquet_io;
pub mod spark;

pub use dense::{DenseModel, Provenance};
