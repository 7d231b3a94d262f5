//! `gramrec`: train, evaluate and use ALS recommenders from the command line.

mod cli;
mod commands;
mod env;
mod output;
mod plot;
mod progress;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    env::quiet_gpu_drivers();
    std::panic::set_hook(Box::new(|info| {
        progress::stderr_line(&format!("gramrec: internal error: {info} (this is a bug; please report it)"));
    }));
    let cli = cli::Cli::parse();
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The line is printed with each setting named by its flag
            // (`--factors must be between 1 and 1024, not 0`).
            progress::stderr_line(&format!("gramrec: {e:#}"));
            ExitCode::from(exit_code(&e))
        }
    }
}

/// The exit code of the error's class (docs/ROBUSTNESS.md): 2 for bad input
/// or usage, 1 for failures while working, 130 for an interruption.
fn exit_code(e: &anyhow::Error) -> u8 {
    e.downcast_ref::<gramrec_core::Error>().map_or(1, |e| e.class().exit_code())
}
