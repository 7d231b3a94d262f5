//! `gramrec split`.

use anyhow::Result;
use gramrec_data::split::{assign, write_split, SplitMode, SplitOptions};
use gramrec_data::LoadOptions;

use crate::cli::SplitArgs;
use crate::progress::stderr_line;

pub fn run(a: SplitArgs) -> Result<()> {
    let opts = LoadOptions { record_lines: true, timestamps: a.mode == SplitMode::Time, ..a.input_args.options() };
    let (x, _) = a.input_args.load_with(&a.input, opts, false)?;
    let test = assign(
        &x,
        &SplitOptions {
            mode: a.mode,
            test_fraction: a.test_fraction,
            seed: a.seed,
            min_user_interactions: a.min_user_interactions,
        },
    )?;
    let out = write_split(&a.input, &x, &test, &a.out)?;
    stderr_line(&format!(
        "{} interactions: {} to {}, {} to {}",
        x.len(),
        out.train_count,
        out.train.display(),
        out.test_count,
        out.test.display()
    ));
    Ok(())
}
