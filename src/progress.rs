//! Progress and log lines on stderr: a bar on a terminal, plain lines
//! otherwise, nothing with `--quiet`.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Where progress and log lines go.
pub struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
}

impl Progress {
    /// Lines only (no bar).
    pub fn lines(quiet: bool) -> Self {
        Self { bar: None, quiet }
    }

    /// A bar of `total` steps when stderr is a terminal.
    pub fn bar(total: u64, what: &str, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} elapsed {elapsed} ETA {eta}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_prefix(what.to_string());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self { bar, quiet }
    }

    /// Prints a log line (above the bar, if any).
    pub fn log(&self, line: impl AsRef<str>) {
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(b) => b.println(crate::cli::flags::render(line.as_ref())),
            None => stderr_line(line.as_ref()),
        }
    }

    /// Advances the bar by one step.
    pub fn step(&self) {
        self.inc(1);
    }

    /// Advances the bar by `n` steps.
    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Writes a line to stderr, ignoring a closed stream (`2>&1 | head`): losing
/// a log line must not stop the work. Settings the libraries name are
/// spelled as flags.
pub fn stderr_line(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{}", crate::cli::flags::render(line));
}
