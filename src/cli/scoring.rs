//! The commands that score with a model: `evaluate`, `recommend` and
//! `similar`.

use std::path::PathBuf;

use clap::Args;
use gramrec_als::Device;
use gramrec_core::named_enum;

use super::{long_help, named, InputArgs};

/// `gramrec evaluate`.
#[derive(Args, Debug)]
pub struct EvaluateArgs {
    /// Model directory written by `gramrec train`.
    #[arg(long, short)]
    pub model: PathBuf,
    /// The training file: its items are excluded from each user's ranking.
    #[arg(long)]
    pub train: Option<PathBuf>,
    /// Held-out interactions to measure on.
    #[arg(long)]
    pub test: PathBuf,
    /// Cut-off of the ranking metrics.
    #[arg(long, short, default_value_t = 10)]
    pub k: usize,
    /// Print one JSON object (docs/JSON.md).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub input_args: InputArgs,
}

/// `gramrec recommend`.
#[derive(Args, Debug)]
pub struct RecommendArgs {
    /// Model directory (or, with --history, just an item factor file).
    #[arg(long, short)]
    pub model: PathBuf,
    /// A user the model knows.
    #[arg(long, short, conflicts_with_all = ["history", "all"], required_unless_present_any = ["history", "all"])]
    pub user: Option<String>,
    /// A visitor's history to fold in: ITEM[:WEIGHT],… (weight = rating or count, default 1).
    #[arg(long, conflicts_with = "all")]
    pub history: Option<String>,
    /// Top k for every user of the model (Spark's recommendForAllUsers), written to --out.
    #[arg(long, requires = "out")]
    pub all: bool,
    /// Output of --all: JSON lines, or CSV for .csv.
    #[arg(long, short, long_help = long_help::RECOMMEND_OUT)]
    pub out: Option<PathBuf>,
    /// Number of items.
    #[arg(long, short, default_value_t = 10)]
    pub k: usize,
    /// Exclude each user's items in this training file.
    #[arg(long, long_help = long_help::RECOMMEND_TRAIN)]
    pub train: Option<PathBuf>,
    /// Keep items the user had in training (by default --user and --all leave them out).
    #[arg(long, conflicts_with = "train")]
    pub include_seen: bool,
    /// With --all and a .csv output: IDs that look like formulas get a leading '.
    #[arg(long, requires = "all", long_help = long_help::CSV_SAFE)]
    pub csv_safe: bool,
    /// Where --all scores: auto, gpu or cpu.
    #[arg(long, default_value = "auto", value_parser = named::<Device>(), long_help = long_help::RECOMMEND_DEVICE)]
    pub device: Device,
    /// A --user the model does not know: popular, skip or error.
    #[arg(long, default_value = "popular", value_parser = named::<ColdStart>(), long_help = long_help::COLD_START)]
    pub cold_start: ColdStart,
    /// Print the items as JSON (docs/JSON.md).
    #[arg(long, long_help = long_help::RECOMMEND_JSON)]
    pub json: bool,
    #[command(flatten)]
    pub input_args: InputArgs,
}

/// What an unknown user gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColdStart {
    /// The most popular items, marked as such.
    Popular,
    /// Nothing.
    Skip,
    /// An error (exit code 2).
    Error,
}

named_enum!(ColdStart, "cold_start" { Popular => "popular", Skip => "skip", Error => "error" });

/// `gramrec similar`.
#[derive(Args, Debug)]
pub struct SimilarArgs {
    /// Model directory or item factor file.
    #[arg(long, short)]
    pub model: PathBuf,
    /// The item.
    #[arg(long, short)]
    pub item: String,
    /// Number of items.
    #[arg(long, short, default_value_t = 10)]
    pub k: usize,
    /// Print {"items": [{"item", "score", "name"?, "url"?, "image"?}]} (docs/JSON.md).
    #[arg(long)]
    pub json: bool,
}
