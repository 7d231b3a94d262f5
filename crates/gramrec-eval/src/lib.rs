//! gramrec-eval: how good a model is, and which settings make the best one.
//!
//! [`evaluate`] measures a model on held-out interactions beside a baseline
//! that needs no model; [`tune`] cross-validates a grid of settings; [`auto`]
//! searches settings by successive halving on a validation split (`train --auto`);
//! [`default_check`] checks an implicit model's default λ, α and factors
//! on a validation split before `train` uses them; [`topn`] computes every user's top N (Spark's `recommendForAllUsers`).

pub mod auto;
pub mod default_check;
pub mod evaluate;
pub mod topn;
pub mod tune;

pub use evaluate::{evaluate, evaluate_known, Evaluation, Known, Metric};
