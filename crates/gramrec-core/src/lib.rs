//! gramrec-core: everything a trained ALS model needs at scoring time.
//!
//! This crate holds the factor-file format, the per-row normal-equation solve
//! (shared by training and by fold-in, so a visitor folded in at scoring time
//! gets exactly the vector training would have given them), top-k selection and
//! ranking metrics. It has no threads, no GPU and no filesystem in its API, so
//! the same code runs in the trainer, the CLI and the browser (wasm32).

pub mod format;
pub mod linalg;
pub mod metrics;
pub mod model;
pub mod normal_eq;
pub mod params;
pub mod quant;
pub mod scoring;
pub mod topk;

pub use format::{FactorFile, FormatError, Metadata, Side};
pub use model::{ItemModel, Recommendation, Recommendations, UserVector};
pub use normal_eq::{FixedSide, RowSolver, SolveError};
pub use params::{Confidence, Dtype, ModelKind, ModelParams, RegScaling, Solver};
