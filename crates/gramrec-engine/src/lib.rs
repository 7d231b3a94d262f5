//! gramrec-engine: gramrec as a library — what the CLI, the server and the
//! Python package call, so that none of them holds a training sequence of
//! its own.
//!
//! Data flows one way: [`load`] a file into [`Interactions`] (or build them
//! in memory), [`read_defaults`] chooses the model kind and confidence curve
//! the caller left open, [`fit`] builds the training matrices and trains on
//! a backend (the CPU or any GPU), and the [`Fitted`] model is
//! [saved](Fitted::save) as a model directory or [scored in
//! memory](Fitted::model). Progress comes as typed [`FitEvent`]s; errors are
//! [`Error`]s, classified for exit codes and HTTP statuses.
//!
//! ```no_run
//! use gramrec_engine::{fit, load, read_defaults, Asked, FitOptions, SaveOptions, TrainConfig};
//!
//! let x = load::load("ratings.csv".as_ref(), &Default::default())?;
//! let read = read_defaults(&x, Asked::default());
//! let config = TrainConfig { seed: 7, ..TrainConfig::for_kind(read.kind) };
//! let fitted = fit(x, &config, &FitOptions::default(), &mut |_| Ok(()))?;
//! fitted.save("model".as_ref(), &SaveOptions::default())?;
//! let model = fitted.model()?;
//! let user = model.user("42").expect("a known user");
//! let top = model.items.recommend(&user, 10, &[])?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod defaults;
mod fit;
mod save;

pub use defaults::{read_defaults, Asked, DefaultChoice, ReadDefaults};
pub use fit::{fit, Checkpoints, FitEvent, FitOptions, Fitted, Validation};
pub use save::{SaveOptions, Saved};

pub use gramrec_als::{Device, DeviceNotice, GpuOptions, IterationReport, TrainConfig};
pub use gramrec_core::{Error, Model, ModelKind, ModelParams, Recommendation, Result};
pub use gramrec_data::load::{self, Interactions, LoadOptions};
pub use gramrec_data::{Dataset, DatasetOptions, DetailTable};
pub use gramrec_eval::{Evaluation, Metric};
pub use gramrec_store::load_model;
