//! gramrec-data: from an interaction file to training matrices.
//!
//! Data flows one way: [`load`] parses a file into indexed
//! [`Interactions`](load::Interactions) (string IDs interned by [`index`]);
//! [`dataset`] merges duplicates, filters, and builds the [`csr`] matrix and
//! its transpose; [`details`] reads items' names, links and images. [`split`] holds interactions out for evaluation, and
//! [`synth`] makes seeded synthetic data with planted structure for demos,
//! benchmarks and tests.

pub mod csr;
pub mod dataset;
pub mod details;
pub mod index;
pub mod load;
pub mod split;
pub mod synth;

pub use csr::Csr;
pub use dataset::{Dataset, DatasetOptions, Duplicates, NonPositive};
pub use details::{DetailColumns, DetailTable};
pub use load::{Interactions, LoadOptions};
