//! The commands that run on seeded synthetic data: `demo`, `bench` and
//! `generate`.

use std::path::PathBuf;

use clap::Args;
use gramrec_core::params::DEFAULT_FACTORS;
use gramrec_core::ModelKind;

use super::{long_help, named, DeviceArgs, SolverArgs};

/// `gramrec demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Directory for the data, the model and the evaluation.
    #[arg(long, short, default_value = "gramrec-demo")]
    pub out: PathBuf,
    /// Also write a ready-to-serve web page here.
    #[arg(long, long_help = long_help::DEMO_WEB)]
    pub web: Option<PathBuf>,
    /// Seed of the synthetic data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// `gramrec bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Synthetic users.
    #[arg(long, default_value_t = 200_000)]
    pub users: usize,
    /// Synthetic items.
    #[arg(long, default_value_t = 50_000)]
    pub items: usize,
    /// Synthetic interactions.
    #[arg(long, default_value_t = 10_000_000)]
    pub nnz: usize,
    /// Model kind: explicit or implicit.
    #[arg(long, default_value = "implicit", value_parser = named::<ModelKind>())]
    pub kind: ModelKind,
    /// Latent factors.
    #[arg(long, default_value_t = DEFAULT_FACTORS)]
    pub factors: usize,
    /// Iterations to time.
    #[arg(long, default_value_t = 3)]
    pub iterations: usize,
    #[command(flatten)]
    pub solver: SolverArgs,
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Data and initialisation seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Time top-k for every user instead of training.
    #[arg(long, long_help = long_help::RECOMMEND_ALL)]
    pub recommend_all: bool,
    /// With --recommend-all: items per user.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// With --recommend-all: also write the random item factors as an item file.
    #[arg(long, requires = "recommend_all", long_help = long_help::WRITE_ITEMS)]
    pub write_items: Option<PathBuf>,
    /// Print one JSON object (docs/JSON.md).
    #[arg(long)]
    pub json: bool,
}

/// `gramrec generate`.
#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Users.
    #[arg(long, default_value_t = 10_000)]
    pub users: usize,
    /// Items.
    #[arg(long, default_value_t = 2_000)]
    pub items: usize,
    /// Interactions.
    #[arg(long, default_value_t = 500_000)]
    pub nnz: usize,
    /// Ratings (explicit) or interactions (implicit).
    #[arg(long, default_value = "explicit", value_parser = named::<ModelKind>())]
    pub kind: ModelKind,
    /// With --kind implicit: play counts as values instead of one line per interaction.
    #[arg(long, long_help = long_help::COUNTS)]
    pub counts: bool,
    /// Seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output file (user,item,rating CSV; gzip-compressed if it ends in .gz).
    #[arg(long, short)]
    pub out: PathBuf,
}
