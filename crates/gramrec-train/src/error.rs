//! The trainer's error type.

use std::path::PathBuf;

/// Why training (or loading, or evaluating) failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input data is malformed: names the file and, where known, the line.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Input {
        /// The file.
        path: PathBuf,
        /// 1-based line number, when the problem is on one line.
        line: Option<u64>,
        /// What is wrong.
        message: String,
        /// For a bad line that `--skip-invalid` may skip: the kind of problem,
        /// as counted in the skip summary.
        skippable: Option<&'static str>,
    },
    /// The request itself is invalid (bad parameter combination, empty data…).
    #[error("{0}")]
    Usage(String),
    /// A factor file could not be read.
    #[error("{}: {source}", path.display())]
    Model {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: gramrec_core::model::ModelError,
    },
    /// A row's normal equations could not be solved.
    #[error("solving {side} row '{id}' failed: {source}")]
    Solve {
        /// "user" or "item".
        side: &'static str,
        /// The row's original ID.
        id: String,
        /// The solver's complaint.
        source: gramrec_core::SolveError,
    },
    /// The user asked training to stop (Ctrl-C); nothing was written.
    #[error("interrupted after iteration {0}; the model was not written (an existing one is untouched; with --checkpoint-every, continue with --resume)")]
    Interrupted(usize),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// The GPU could not be used, or failed while working (no adapter, a
    /// limit, out of memory, device lost, a shader that did not compile).
    #[error("GPU: {0}")]
    Gpu(String),
}

impl Error {
    /// Whether the error is the user's input or request (exit code 2) rather
    /// than a failure while working (exit code 1).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Error::Input { .. } | Error::Usage(_) | Error::Model { .. } | Error::Solve { .. })
    }

    /// An input error at a line of a file.
    pub fn input(path: &std::path::Path, line: Option<u64>, message: impl Into<String>) -> Self {
        Error::Input { path: path.to_path_buf(), line, message: message.into(), skippable: None }
    }

    /// An I/O error on a file.
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Error::Io { path: path.to_path_buf(), source }
    }
}

/// Result with the trainer's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
