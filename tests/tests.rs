//! The `gramrec` binary end to end, one module per area, in one test
//! binary (as ripgrep's tests are): the crates' own tests hold the
//! algorithms; these run the real binary on files, sockets and signals.
//! tests/run-all.sh runs them with the GPU and interop features.

mod cli;
mod common;
mod corpus;
mod defaults;
mod hardening;
mod inputs;
mod interop;
mod interrupt;
mod json;
mod library;
mod model_file;
mod rules;
mod serve;
mod trust;
