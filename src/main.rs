//! `gramrec`: train, evaluate and use ALS recommenders from the command line.

mod cli;
mod commands;
mod plot;
mod progress;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        progress::stderr_line(&format!("gramrec: internal error: {info} (this is a bug; please report it)"));
    }));
    let cli = cli::Cli::parse();
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            progress::stderr_line(&format!("gramrec: {e:#}"));
            ExitCode::from(exit_code(&e))
        }
    }
}

/// 2 for bad usage or input, 130 for an interruption, 1 for failures while working.
fn exit_code(e: &anyhow::Error) -> u8 {
    match e.downcast_ref::<gramrec_train::Error>() {
        Some(gramrec_train::Error::Interrupted(_)) => 130,
        Some(t) if !t.is_bad_input() => 1,
        Some(_) => 2,
        None => 1,
    }
}
