//! gramrec-core: everything a trained ALS model needs at scoring time, and
//! the vocabulary the other crates share.
//!
//! This crate holds the model parameters and their defaults, the factor-file
//! format, association rules and their file, the per-row normal-equation solve (shared by training and by
//! fold-in, and its Bayesian counterpart with a learned prior, so a visitor folded in at scoring time gets exactly the vector
//! training would have given them), scoring, top-k selection, ranking
//! metrics, and the error taxonomy. It has no threads, no GPU and no
//! filesystem in its API, so the same code runs in the trainer, the CLI, the
//! server and the browser (wasm32).

pub mod error;
pub mod format;
pub mod history;
pub mod linalg;
pub mod metrics;
pub mod model;
pub mod named;
pub mod normal_eq;
pub mod params;
pub mod prior;
pub mod quant;
pub mod rules;
pub mod scoring;
pub mod setting;
pub mod text;
pub mod topk;

/// Re-exported for [`named_enum!`]: the macro implements `Serialize`.
#[doc(hidden)]
pub use serde;

pub use error::{Error, ErrorClass, Result};
pub use format::{
    FactorFile, FormatError, ItemDetails, ItemInfo, Metadata, ModelFiles, SeenItems, Side, TrainingFacts,
};
pub use history::MAX_ID_BYTES;
pub use model::{
    ItemList, ItemModel, ItemRows, Model, ModelError, Recommendation, Recommendations, UserFactors, UserVector,
};
pub use named::{Named, UnknownName};
pub use normal_eq::{FixedSide, Loss, Row, RowSolver, SolveError};
pub use params::{
    valid_value, Confidence, Dtype, Method, ModelKind, ModelParams, ParamError, RegScaling, Solver, SolverOptions,
    ValueShape, DEFAULT_ITERATIONS, MAX_FACTORS, MAX_VALUE,
};
pub use prior::{GaussianPrior, LearnedPrior};
pub use rules::{Association, ItemAssociations, Rule, RuleIndex, RuleSet, RuleView};
pub use setting::{set, setting, Setting};
