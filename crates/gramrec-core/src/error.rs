//! The one error type of gramrec's libraries, and what each kind of error
//! means for a command's exit code (docs/ROBUSTNESS.md):
//!
//! * **bad input or usage** (exit code 2): the request or its files must
//!   change — malformed data, an invalid parameter, files that do not belong
//!   together, a request too big for this machine;
//! * **failure while working** (exit code 1): the same request may succeed
//!   elsewhere or later — I/O, the GPU, a diverging run;
//! * **interrupted** (exit code 130): the user stopped it.

use std::path::{Path, PathBuf};

use crate::model::ModelError;
use crate::normal_eq::SolveError;
use crate::params::ParamError;
use crate::setting::setting;
use crate::text::escape_controls;

/// Why a gramrec operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input file's content is malformed: names the file and, where known, the line.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Input {
        /// The file (`-` for standard input).
        path: PathBuf,
        /// 1-based line number, when the problem is on one line.
        line: Option<u64>,
        /// What is wrong.
        message: String,
        /// For a bad line that `--skip-invalid` may skip: the kind of problem,
        /// as counted in the skip summary.
        skippable: Option<&'static str>,
    },
    /// A parameter's value, or a combination of them, is invalid; the message
    /// names the setting (a [`crate::setting`] mark) and the allowed values.
    #[error("{0}")]
    Argument(String),
    /// A setting is outside its range; front ends name it their own way
    /// ([`ParamError::flag`] on the command line).
    #[error(transparent)]
    Parameter(#[from] ParamError),
    /// The data cannot serve the request (nothing left after filtering,
    /// duplicates refused, an unknown user or item asked for).
    #[error("{0}")]
    Data(String),
    /// Files do not go together (a model's two files from different runs, a
    /// checkpoint from other settings, an output that is also an input).
    #[error("{0}")]
    Conflict(String),
    /// A factor file cannot be read or used.
    #[error("{}: {cause}", path.display())]
    Model {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        cause: ModelError,
    },
    /// Scoring with a model failed (a fold-in whose equations have no solution).
    #[error("{0}")]
    Scoring(ModelError),
    /// A row's normal equations could not be solved.
    #[error("solving {side} row '{}' failed: {cause}", escape_controls(id))]
    Solve {
        /// "user" or "item".
        side: &'static str,
        /// The row's original ID.
        id: String,
        /// The solver's complaint.
        cause: SolveError,
    },
    /// The work would not fit (memory), refused before starting.
    #[error("{0}")]
    TooLarge(String),
    /// The objective stopped being finite: the run diverged.
    #[error("training diverged at iteration {iteration} (the objective is {objective}); raise {}", setting("reg"))]
    Diverged {
        /// The iteration after which the objective was not finite.
        iteration: usize,
        /// Its value.
        objective: f64,
    },
    /// Reading or writing a file failed.
    #[error("{}: {cause}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's error.
        cause: std::io::Error,
    },
    /// The operating system refused a resource that is not a file (threads, a lock).
    #[error("{0}")]
    System(String),
    /// The GPU could not be used, or failed while working (no adapter, a
    /// limit, out of memory, device lost, a shader that did not compile).
    #[error("GPU: {0}")]
    Gpu(String),
    /// The user asked the work to stop (Ctrl-C); nothing was written.
    #[error(
        "interrupted after iteration {0}; the model was not written (an existing one is untouched; with {every}, \
         continue with {resume})",
        every = setting("checkpoint_every"),
        resume = setting("resume")
    )]
    Interrupted(usize),
}

/// The three outcomes a command reports through its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The request or its input must change (exit code 2).
    BadInput,
    /// The work failed; the same request may succeed later or elsewhere (exit code 1).
    Failure,
    /// The user stopped the work (exit code 130).
    Interrupted,
}

impl ErrorClass {
    /// The process exit code of this class.
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorClass::BadInput => 2,
            ErrorClass::Failure => 1,
            ErrorClass::Interrupted => 130,
        }
    }
}

impl Error {
    /// Which of the three outcomes this error is.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Input { .. }
            | Error::Argument(_)
            | Error::Parameter(_)
            | Error::Data(_)
            | Error::Conflict(_)
            | Error::Model { .. }
            | Error::Scoring(_)
            | Error::Solve { .. }
            | Error::TooLarge(_) => ErrorClass::BadInput,
            Error::Diverged { .. } | Error::Io { .. } | Error::System(_) | Error::Gpu(_) => ErrorClass::Failure,
            Error::Interrupted(_) => ErrorClass::Interrupted,
        }
    }

    /// An input error at a line of a file.
    pub fn input(path: &Path, line: Option<u64>, message: impl Into<String>) -> Self {
        Error::Input { path: path.to_path_buf(), line, message: message.into(), skippable: None }
    }

    /// An I/O error on a file.
    pub fn io(path: &Path, cause: std::io::Error) -> Self {
        Error::Io { path: path.to_path_buf(), cause }
    }

    /// A factor file that cannot be used.
    pub fn model(path: &Path, cause: impl Into<ModelError>) -> Self {
        Error::Model { path: path.to_path_buf(), cause: cause.into() }
    }
}

impl From<crate::named::UnknownName> for Error {
    fn from(e: crate::named::UnknownName) -> Self {
        Error::Argument(e.to_string())
    }
}

/// Result with gramrec's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_map_to_the_documented_exit_codes() {
        let io = Error::io(Path::new("f"), std::io::Error::other("disk full"));
        assert_eq!(io.class().exit_code(), 1);
        assert_eq!(io.to_string(), "f: disk full", "the cause is printed once");
        assert_eq!(Error::Diverged { iteration: 3, objective: f64::NAN }.class().exit_code(), 1);
        assert!(Error::Diverged { iteration: 3, objective: f64::NAN }.to_string().contains("diverged"));
        assert_eq!(Error::Argument("`factors` …".into()).class().exit_code(), 2);
        assert_eq!(Error::input(Path::new("f.csv"), Some(2), "bad").to_string(), "f.csv:2: bad");
        assert_eq!(Error::Interrupted(1).class().exit_code(), 130);
    }
}
