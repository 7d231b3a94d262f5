//! gramrec-engine: gramrec as a library — what the CLI, the server and the
//! Python package call, so that none of them holds a training sequence of
//! its own.
//!
//! Data flows one way: [`load`] a file into [`Interactions`] (or build them
//! in memory), [`read_defaults`] chooses the model kind and confidence curve
//! the caller left open, [`check_defaults`] checks an implicit model's
//! default λ, α and factors on a validation split, [`fit`] builds the training matrices and trains on
//! a backend (the CPU or any GPU), and the [`Fitted`] model is
//! [saved](Fitted::save) as a model directory or [scored in
//! memory](Fitted::model). Progress comes as typed [`FitEvent`]s; errors are
//! [`Error`]s, classified for exit codes and HTTP statuses; a setting out of
//! range is an [`Error::Parameter`] naming it.
//!
//! Depend on it by path or git (`gramrec-engine = { path = ".../crates/gramrec-engine" }`);
//! its `gpu` feature (on by default) brings the wgpu backend. The GPU
//! drivers may print `XDG_RUNTIME_DIR is invalid or not set` on Linux when
//! it is unset; the `gramrec` binary sets it, a library leaves the
//! environment to its program.
//!
//! ```no_run
//! use gramrec_engine::{fit, load, read_defaults, Asked, FitOptions, SaveOptions, TrainConfig};
//!
//! let x = load::load("ratings.csv".as_ref(), &Default::default())?;
//! let read = read_defaults(&x, Asked::default());
//! let mut config = TrainConfig { seed: 7, ..TrainConfig::for_kind(read.kind) };
//! config.params.confidence = read.confidence;
//! let fitted = fit(x, &config, &FitOptions::default(), &mut |_| Ok(()))?;
//! fitted.save("model".as_ref(), &SaveOptions::default())?;
//! let model = fitted.model()?;
//! let top = model.recommend_user("42", 10).expect("a known user")?; // their rated items left out
//! let like = model.items.similar_to("50", 5).expect("a known item");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod defaults;
mod fit;
mod save;

pub use defaults::{check_defaults, read_defaults, Asked, DefaultChoice, Instead, ReadDefaults};
pub use fit::{fit, Checkpoints, FitEvent, FitOptions, Fitted, Validation};
pub use gramrec_eval::default_check::{DefaultCheck, Open, Setting};
pub use save::{SaveOptions, Saved};

pub use gramrec_als::{
    check_given, BayesOptions, Device, DeviceNotice, GpuOptions, IterationReport, Method, TrainConfig,
};
pub use gramrec_core::{Error, Model, ModelKind, ModelParams, Recommendation, Result};
pub use gramrec_data::load::{self, Interactions, LoadOptions};
pub use gramrec_data::{Dataset, DatasetOptions, DetailTable};
pub use gramrec_eval::{Evaluation, Metric};
pub use gramrec_store::load_model;
