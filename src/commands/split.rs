//! `gramrec split`.

use anyhow::Result;
use gramrec_data::load::{is_parquet, Format};
use gramrec_data::split::{assign, part_paths, repeated_records, write_split, SplitMode, SplitOptions};
use gramrec_data::LoadOptions;

use crate::cli::SplitArgs;
use crate::progress::stderr_line;

pub fn run(a: SplitArgs) -> Result<()> {
    let opts = LoadOptions { record_lines: true, timestamps: a.mode == SplitMode::Time, ..a.input_args.options() };
    let parquet = opts.format == Format::Parquet || (opts.format == Format::Auto && is_parquet(&a.input));
    part_paths(&a.input, &a.out, parquet)?;
    let (x, _) = a.input_args.load_with(&a.input, opts.clone(), false)?;
    let test = assign(
        &x,
        &SplitOptions {
            mode: a.mode,
            test_fraction: a.test_fraction,
            seed: a.seed,
            min_user_interactions: a.min_user_interactions,
        },
    )?;
    let out = write_split(&a.input, &x, &test, &a.out, &opts)?;
    let repeated = repeated_records(&x);
    let skipped: u64 = x.skipped.values().sum();
    let mut notes = Vec::new();
    if repeated > 0 {
        notes.push(format!("{repeated} records repeat a (user, item) pair and went with it"));
    }
    if skipped > 0 {
        notes.push(format!("the {skipped} skipped lines are in neither"));
    }
    let notes = if notes.is_empty() { String::new() } else { format!(" ({})", notes.join("; ")) };
    stderr_line(&format!(
        "{} records: {} to {}, {} to {}{notes}",
        x.len(),
        out.train_count,
        out.train.display(),
        out.test_count,
        out.test.display()
    ));
    stderr_line("checked by reading both back: no (user, item) pair is on both sides, and together they hold exactly the records read");
    Ok(())
}
