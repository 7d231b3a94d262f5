//! Command-line definitions: the flags of every command, grouped by what
//! they are about, and how a flag's text becomes a value.
//!
//! The `…Args` structs live in the submodules and are re-exported here, so
//! `crate::cli::TrainArgs` and the like name them wherever they are defined.
//! A flag whose description is long shows one sentence with `-h` and the
//! whole text, from `long_help`, with `--help`.

use std::ffi::OsStr;
use std::marker::PhantomData;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Parser, Subcommand};
use gramrec_core::Named;

pub mod flags;
mod input;
mod long_help;
mod models;
mod rules;
mod scoring;
#[cfg(feature = "serve")]
mod serve;
mod split;
mod synthetic;
mod training;

pub use input::{DataArgs, DetailArgs, InputArgs};
pub use models::{ExportArgs, ExportTo, ImportArgs, ImportFrom, InspectArgs};
pub use rules::RulesArgs;
pub use scoring::{ColdStart, EvaluateArgs, RecommendArgs, SimilarArgs};
#[cfg(feature = "serve")]
pub use serve::ServeArgs;
pub use split::SplitArgs;
pub use synthetic::{BenchArgs, DemoArgs, GenerateArgs};
// `HyperArgs` is only flattened into `TrainArgs`, in training.rs.
pub use training::{AlsArgs, DeviceArgs, SolverArgs, TrainArgs, TrainingArgs, TuneArgs};

/// Fast alternating-least-squares recommenders: train on interaction logs,
/// evaluate, recommend, and ship item factors to web pages.
#[derive(Parser, Debug)]
#[command(name = "gramrec", version, propagate_version = true, arg_required_else_help = true)]
#[command(after_help = "Start with `gramrec demo`: it trains on built-in synthetic data and prints what to run next.")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Generate, train, evaluate and save a model on built-in synthetic data.
    #[command(after_help = "Examples:\n  gramrec demo --out gramrec-demo\n  \
        gramrec demo --web site && python3 -m http.server -d site 8000   # then open http://127.0.0.1:8000")]
    Demo(DemoArgs),
    /// Train a model on an interaction file and write its factor files.
    #[command(after_help = "Examples:\n  gramrec train --input ratings.csv --out model\n  \
        gramrec train --input u.data --explicit --factors 64 --out model\n  \
        gramrec train --input reviews.jsonl.gz --user-col reviewerID --item-col asin --implicit --out model\n  \
        gramrec train --input train.csv --validate test.csv --out model   # learning curve in model/report.svg\n  \
        gramrec train --input ratings.csv --items movies.csv --out model   # item names from MovieLens' movies.csv\n  \
        gramrec train --input retail.csv --user-col CustomerID --item-col StockCode --item-name-col Description \
            --out model")]
    Train(TrainArgs),
    /// Measure a model on held-out interactions (RMSE/MAE, or ranking metrics at k).
    #[command(after_help = "Example:\n  gramrec evaluate --model model --train train.csv --test test.csv --k 10")]
    Evaluate(EvaluateArgs),
    /// Grid search with k-fold cross-validation; retrains the best setting on all data.
    #[command(after_help = "Examples:\n  gramrec tune --input u.data --factors 16,32,64,128 --reg 0.05,0.1,0.2,0.5 \
            --out best\n  \
        gramrec tune --input clicks.csv --implicit --factors 32,64 --reg 10,30 --alpha 1,3 --metric ndcg@10 \
            --results grid.csv --out best")]
    Tune(TuneArgs),
    /// Split an interaction file into train and test files (random, per user, or by time).
    #[command(
        after_help = "Examples:\n  gramrec split --input u.data --out split --mode per-user --test-fraction 0.2\n  \
        gramrec split --input ratings.csv --out split --mode time"
    )]
    Split(SplitArgs),
    /// Recommend items for a known user, or for a history folded in on the spot.
    #[command(after_help = "Examples:\n  gramrec recommend --model model --user 196 --k 10\n  \
        gramrec recommend --model model --history 242:5,302:3,377 --json\n  \
        gramrec recommend --model model --all --k 20 --out top20.jsonl   # training items left out\n  \
        gramrec recommend --model model --user 196 --include-seen")]
    Recommend(RecommendArgs),
    /// Items most similar to an item (cosine of the item factors).
    #[command(after_help = "Example:\n  gramrec similar --model model --item 50 --k 10")]
    Similar(SimilarArgs),
    /// Write a model's item file in another storage type, with or without item details.
    #[command(long_about = long_help::EXPORT_ABOUT)]
    #[command(after_help = "Examples:\n  gramrec export --model model --dtype i8 --out web/items.gramrec\n  \
        gramrec export --model model --items catalogue.csv --out web/items.gramrec   # names, links, images added\n  \
        gramrec export --model model --no-metadata --out web/items.gramrec\n  \
        gramrec export --to spark --model model --out als-model     # pyspark: ALSModel.load('als-model')\n  \
        gramrec export --to implicit --model model --out als.npz    \
            # implicit: AlternatingLeastSquares.load('als.npz')\n  \
        gramrec export --to npy --model model --out arrays")]
    Export(ExportArgs),
    /// Read a model another tool trained into a gramrec model directory.
    #[command(long_about = long_help::IMPORT_ABOUT)]
    #[command(after_help = "Examples:\n  gramrec import --from spark als-model --kind explicit --out model\n  \
        gramrec import --from spark als-model --kind implicit --user-ids user-indexer --item-ids item-indexer \
            --out model\n  \
        gramrec import --from implicit als.npz --train plays.csv --out model   \
            # popularity and seen items from the data\n\n\
        docs/INTEROP.md walks through the Spark and implicit paths.")]
    Import(ImportArgs),
    /// Association rules for baskets ("bought together"): FP-growth as Spark's FPGrowth defines it.
    #[command(after_help = "Examples:\n  gramrec rules --input groceries.csv --format baskets --min-support 0.01 \
            --min-confidence 0.2 --out rules.jsonl\n  \
        gramrec rules --input orders.csv --basket-col InvoiceNo --item-col StockCode --min-support 50 \
            --out web/rules.gramrec --model model\n  \
        gramrec rules --rules web/rules.gramrec --show 85123A --model model   # what goes with an item")]
    Rules(RulesArgs),
    /// Serve a model over HTTP: recommendations, similar items and live events.
    #[cfg(feature = "serve")]
    #[command(long_about = long_help::SERVE_ABOUT)]
    #[command(after_help = "Examples:\n  gramrec serve --model model   \
            # http://127.0.0.1:8080/v1/users/196/recommendations?k=10\n  \
        gramrec serve --model model --listen 0.0.0.0:8080 --web site --rules site/rules.gramrec\n  \
        GRAMREC_ADMIN_TOKEN=secret gramrec serve --model model   # POST /v1/admin/reload; or kill -HUP\n\n\
        docs/SERVE.md lists every endpoint with a curl example.")]
    Serve(ServeArgs),
    /// Show what a factor file holds.
    #[command(after_help = "Example:\n  gramrec inspect model/items.gramrec")]
    Inspect(InspectArgs),
    /// Time training (or, with --recommend-all, top-N for every user) on seeded synthetic data.
    #[command(
        after_help = "Example:\n  gramrec bench --users 200000 --items 50000 --nnz 10000000 --factors 64 --iterations 3"
    )]
    Bench(BenchArgs),
    /// Write a seeded synthetic interaction file (CSV, gzip if the name ends in .gz).
    #[command(after_help = "Example:\n  gramrec generate --users 10000 --items 2000 --nnz 500000 --out synthetic.csv")]
    Generate(GenerateArgs),
}

/// Parses a [`Named`] value: a bad one is reported in gramrec's one form
/// (`unknown --solver 'x' (expected cg or cholesky)`), and `--help` lists
/// the names.
#[derive(Clone)]
pub struct NamedParser<T>(PhantomData<T>);

fn named<T>() -> NamedParser<T> {
    NamedParser(PhantomData)
}

impl<T: Named + Send + Sync> TypedValueParser for NamedParser<T> {
    type Value = T;

    fn parse_ref(&self, cmd: &clap::Command, _: Option<&clap::Arg>, value: &OsStr) -> Result<T, clap::Error> {
        T::from_name(&value.to_string_lossy()).map_err(|e| invalid(cmd, e))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(T::ALL.iter().map(|v| PossibleValue::new(v.name()))))
    }
}

/// Parses a value through its `FromStr`, reporting a bad one in the same form.
#[derive(Clone)]
pub struct FromStrParser<T>(PhantomData<T>);

fn parsed<T>() -> FromStrParser<T> {
    FromStrParser(PhantomData)
}

impl<T> TypedValueParser for FromStrParser<T>
where
    T: std::str::FromStr + Clone + Send + Sync + 'static,
    T::Err: std::fmt::Display,
{
    type Value = T;

    fn parse_ref(&self, cmd: &clap::Command, _: Option<&clap::Arg>, value: &OsStr) -> Result<T, clap::Error> {
        value.to_string_lossy().parse().map_err(|e| invalid(cmd, e))
    }
}

/// clap's error for an invalid value, with gramrec's message.
fn invalid(cmd: &clap::Command, e: impl std::fmt::Display) -> clap::Error {
    clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("{}\n", flags::render(&e.to_string()))).with_cmd(cmd)
}
