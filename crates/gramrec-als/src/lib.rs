//! gramrec-als: the alternating-least-squares trainer.
//!
//! [`driver`] runs the loop — initialise, alternate user and item
//! half-iterations on a [`backend`], measure the objective — configured by a
//! [`TrainConfig`](config::TrainConfig) that the caller builds (every option,
//! GPU ones included, is a value passed in: this crate never reads the
//! environment). [`trained`] turns the result into factor files or a model to
//! score in memory, [`checkpoint`] saves and resumes runs, and [`memory`]
//! refuses work that would not fit before it starts.
//!
//! The GPU backend (gramrec-wgsl's kernels run through wgpu) is behind the
//! `gpu` cargo feature; without it,
//! [`Device::Gpu`](config::Device::Gpu) is an error that says so.

pub mod backend;
pub mod bayes;
pub mod checkpoint;
pub mod config;
pub mod driver;
pub mod memory;
pub mod trained;

pub use config::{
    check_given, BayesOptions, Device, Fault, GpuOptions, GpuStorage, Method, TrainConfig, MAX_FACTORS, MAX_THREADS,
};
pub use driver::{train, train_from, DeviceNotice, IterationReport, Start, TrainEvent};
pub use trained::Trained;
