//! gramrec-train: from an interaction file to factor files.
//!
//! Data flows one way: [`load`] parses a file into indexed
//! [`Interactions`](load::Interactions); [`dataset`] merges duplicates,
//! filters, and builds the CSR matrix and its transpose; [`als`] runs the
//! alternating half-iterations on a [`backend`]; [`output`] writes the
//! factor files. [`eval`] measures a model on held-out data and [`synth`]
//! makes seeded synthetic data with planted structure for demos, benchmarks
//! and tests.

pub mod als;
pub mod backend;
pub mod checkpoint;
pub mod csr;
pub mod dataset;
pub mod error;
pub mod eval;
pub mod fsutil;
pub mod index;
pub mod load;
pub mod memory;
pub mod output;
pub mod split;
pub mod synth;
pub mod topn;
pub mod tune;

pub use error::{Error, Result};
