//! `gramrec split`: train and test files from one interaction file.

use std::path::PathBuf;

use clap::Args;
use gramrec_data::split::SplitMode;

use super::{long_help, named, InputArgs};

/// `gramrec split`.
#[derive(Args, Debug)]
pub struct SplitArgs {
    /// Interaction file to split.
    #[arg(long, short)]
    pub input: PathBuf,
    /// Directory for train.EXT and test.EXT (EXT as the input's).
    #[arg(long, short, long_help = long_help::SPLIT_OUT)]
    pub out: PathBuf,
    /// random: over all interactions; per-user: the same share of each user's; time: each user's latest.
    #[arg(long, default_value = "random", value_parser = named::<SplitMode>())]
    pub mode: SplitMode,
    /// Share of interactions held out for testing.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Per-user and time modes: users with fewer interactions stay entirely in training.
    #[arg(long, default_value_t = 2)]
    pub min_user_interactions: usize,
    /// Seed of the random choices.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[command(flatten)]
    pub input_args: InputArgs,
}
