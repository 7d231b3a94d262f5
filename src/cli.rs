//! Command-line definitions.

use std::ffi::OsStr;
use std::marker::PhantomData;
use std::path::PathBuf;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use gramrec_als::{Device, GpuOptions, GpuStorage};
use gramrec_core::params::{
    DEFAULT_ALPHA, DEFAULT_EPSILON, DEFAULT_FACTORS, DEFAULT_ITERATIONS, DEFAULT_REG_EXPONENT, DEFAULT_UNOBSERVED,
};
use gramrec_core::{named_enum, Confidence, Dtype, ModelKind, Named, RegScaling, Solver, SolverOptions};
use gramrec_data::load::{Column, Encoding, Format, Header, RatingColumn, ValueMap};
use gramrec_data::split::SplitMode;
use gramrec_data::{Duplicates, NonPositive};
use gramrec_eval::auto::Budget;
use gramrec_eval::Metric;
use gramrec_rules::Support;

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
        gramrec train --input retail.csv --user-col CustomerID --item-col StockCode --item-name-col Description --out model")]
    Train(TrainArgs),
    /// Measure a model on held-out interactions (RMSE/MAE, or ranking metrics at k).
    #[command(after_help = "Example:\n  gramrec evaluate --model model --train train.csv --test test.csv --k 10")]
    Evaluate(EvaluateArgs),
    /// Grid search with k-fold cross-validation; retrains the best setting on all data.
    #[command(
        after_help = "Examples:\n  gramrec tune --input u.data --factors 16,32,64,128 --reg 0.05,0.1,0.2,0.5 --out best\n  \
        gramrec tune --input clicks.csv --implicit --factors 32,64 --reg 10,30 --alpha 1,3 --metric ndcg@10 --results grid.csv --out best"
    )]
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
    /// Write a model's item file in another storage type (smaller files for the web), with or without item details.
    #[command(after_help = "Examples:\n  gramrec export --model model --dtype i8 --out web/items.gramrec\n  \
        gramrec export --model model --items catalogue.csv --out web/items.gramrec   # names, links, images added\n  \
        gramrec export --model model --no-metadata --out web/items.gramrec\n  \
        gramrec export --to spark --model model --out als-model     # pyspark: ALSModel.load('als-model')\n  \
        gramrec export --to implicit --model model --out als.npz    # implicit: AlternatingLeastSquares.load('als.npz')\n  \
        gramrec export --to npy --model model --out arrays")]
    Export(ExportArgs),
    /// Read a model another tool trained (a Spark ALSModel folder, an implicit .npz) into a gramrec model directory.
    #[command(after_help = "Examples:\n  gramrec import --from spark als-model --kind explicit --out model\n  \
        gramrec import --from spark als-model --kind implicit --user-ids user-indexer --item-ids item-indexer --out model\n  \
        gramrec import --from implicit als.npz --train plays.csv --out model   # popularity and seen items from the data\n\n\
        docs/INTEROP.md walks through the Spark and implicit paths.")]
    Import(ImportArgs),
    /// Association rules for baskets ("bought together"): FP-growth as Spark's FPGrowth defines it.
    #[command(
        after_help = "Examples:\n  gramrec rules --input groceries.csv --format baskets --min-support 0.01 --min-confidence 0.2 --out rules.jsonl\n  \
        gramrec rules --input orders.csv --basket-col InvoiceNo --item-col StockCode --min-support 50 --out web/rules.gramrec --model model\n  \
        gramrec rules --rules web/rules.gramrec --show 85123A --model model   # what goes with an item"
    )]
    Rules(RulesArgs),
    /// Serve a model over HTTP: recommendations, fold-in, similar, popular and associated items, and live events that lose nothing.
    #[cfg(feature = "serve")]
    #[command(
        after_help = "Examples:\n  gramrec serve --model model   # http://127.0.0.1:8080/v1/users/196/recommendations?k=10\n  \
        gramrec serve --model model --listen 0.0.0.0:8080 --web site --rules site/rules.gramrec\n  \
        GRAMREC_ADMIN_TOKEN=secret gramrec serve --model model   # POST /v1/admin/reload; or kill -HUP\n\n\
        docs/SERVE.md lists every endpoint with a curl example."
    )]
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

/// How to read an interaction file.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// File format: auto (from the extension or content), csv (any delimited text), jsonl, baskets (one basket of items per line) or parquet (a file, or a folder of parts as Spark and Hive write them).
    #[arg(long, default_value = "auto", value_parser = named::<Format>(), help_heading = "Input")]
    pub format: Format,
    /// Delimiter of text files: one character, "tab", "space" (runs of spaces) or "::" (default: detected from the first lines: comma, tab, ';', '|', '::' or spaces).
    #[arg(long, help_heading = "Input")]
    pub delimiter: Option<String>,
    /// Text encoding: auto (UTF-8, UTF-16 by its byte-order mark, and a file that is not UTF-8 read as Windows-1252, saying so), utf-8 (strict), latin1, windows-1252 or utf-16.
    #[arg(long, default_value = "auto", value_parser = named::<Encoding>(), help_heading = "Input")]
    pub encoding: Encoding,
    /// With --format baskets: the column holding each basket's ID, by index or header name (default: the basket's line number).
    #[arg(long, value_parser = parsed::<Column>(), help_heading = "Input")]
    pub basket_col: Option<Column>,
    /// Whether the first line is a header: auto, yes or no.
    #[arg(long, default_value = "auto", value_parser = named::<Header>(), help_heading = "Input")]
    pub header: Header,
    /// User column: 0-based index or header/field name (default: a column named like user/userId/reviewerID, else the first).
    #[arg(long, value_parser = parsed::<Column>(), help_heading = "Input")]
    pub user_col: Option<Column>,
    /// Item column: index or name (default: item/itemId/movieId/asin…, else the second).
    #[arg(long, value_parser = parsed::<Column>(), help_heading = "Input")]
    pub item_col: Option<Column>,
    /// Skip bad lines (counted by kind in a summary) instead of stopping at the first one.
    #[arg(long, help_heading = "Input")]
    pub skip_invalid: bool,
    /// Timestamp column for `split --mode time`: index or name (default: timestamp/time/unixReviewTime…; without a header, the fourth column, else the last, whose first value looks like a time).
    #[arg(long, value_parser = parsed::<Column>(), help_heading = "Input")]
    pub timestamp_col: Option<Column>,
    /// A file of item aliases, two columns: alias, canonical ID (as Audioscrobbler's artist_alias.txt; delimiter detected). Every item ID it lists as an alias is replaced by its canonical ID as the data is read (one level).
    #[arg(long, value_name = "FILE", help_heading = "Input")]
    pub item_alias: Option<PathBuf>,
    /// How the timestamps are written, strftime style, read as UTC: e.g. '%d/%m/%Y %H:%M' or '%m/%d/%y' (default: numbers, and ISO 8601 dates with four-digit years; a date with a two-digit year needs this).
    #[arg(long, value_name = "FORMAT", help_heading = "Input")]
    pub time_format: Option<String>,
    /// Rating column: index, name, "auto" (rating/overall/count…, else the third if present) or "none" (every interaction counts 1).
    #[arg(long, default_value = "auto", value_parser = parsed::<RatingColumn>(), help_heading = "Input")]
    pub rating_col: RatingColumn,
    /// Map the value column's values to weights, e.g. event types: --rating-col behaviour --value-map view=1,cart=3,buy=5. A value not in the map is a bad line (an error, or skipped and counted with --skip-invalid). Mapped weights train an implicit model unless --explicit.
    #[arg(long, value_parser = parsed::<ValueMap>(), help_heading = "Input")]
    pub value_map: Option<ValueMap>,
}

/// Items' names, links and images, stored in the model (items.gramrec) so
/// that every list can show them.
#[derive(Args, Debug, Clone, Default)]
pub struct DetailArgs {
    /// A file of item details (CSV, JSON lines or Parquet: an ID column, and name/title, url/link, image/imUrl columns found by their headers), such as MovieLens' movies.csv or a product catalogue. Without it, the --item-*-col flags name columns of the interaction file.
    #[arg(long, value_name = "FILE", help_heading = "Item details")]
    pub items: Option<PathBuf>,
    /// The column holding each item's display name (index or name), e.g. --item-name-col Description.
    #[arg(long, value_parser = parsed::<Column>(), help_heading = "Item details")]
    pub item_name_col: Option<Column>,
    /// The column holding a link to each item's page (http(s) or relative).
    #[arg(long, value_parser = parsed::<Column>(), help_heading = "Item details")]
    pub item_url_col: Option<Column>,
    /// The column holding a link to each item's image (http(s) or relative).
    #[arg(long, value_parser = parsed::<Column>(), help_heading = "Item details")]
    pub item_image_col: Option<Column>,
}

/// What to train on.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Repeated (user, item) pairs: sum, last, mean or error [default: sum for implicit models, last for explicit ones].
    #[arg(long, value_parser = named::<Duplicates>(), help_heading = "Data")]
    pub duplicates: Option<Duplicates>,
    /// Implicit models: values of 0 or less (after repeated pairs are merged): interaction (0 is an interaction with the base confidence, as Book-Crossing's "read, not rated"; negative values — returns, cancellations — are dropped and counted), negative (a confident "no", as benfred/implicit; a 0 is then no interaction) or drop (both dropped and counted). Explicit models keep every rating.
    #[arg(long, default_value = "interaction", value_parser = named::<NonPositive>(), help_heading = "Data")]
    pub nonpositive: NonPositive,
    /// Drop users with fewer distinct items.
    #[arg(long, default_value_t = 1, help_heading = "Data")]
    pub min_user_count: usize,
    /// Drop items with fewer distinct users.
    #[arg(long, default_value_t = 1, help_heading = "Data")]
    pub min_item_count: usize,
    /// Repeat both count filters until nothing changes (a k-core).
    #[arg(long, help_heading = "Data")]
    pub k_core: bool,
}

/// The hyperparameters `tune` searches over, as single values.
#[derive(Args, Debug, Clone)]
pub struct HyperArgs {
    /// Number of latent factors.
    #[arg(long, default_value_t = DEFAULT_FACTORS, help_heading = "Model")]
    pub factors: usize,
    /// Full iterations (one user and one item half-iteration each).
    #[arg(long, default_value_t = DEFAULT_ITERATIONS, help_heading = "Model")]
    pub iterations: usize,
    /// Regularisation λ [default: 0.1 explicit (scaled by count), 30 implicit (unscaled); measured on MovieLens 100K].
    #[arg(long, help_heading = "Model")]
    pub reg: Option<f32>,
    /// Confidence slope α of implicit models.
    #[arg(long, default_value_t = DEFAULT_ALPHA, help_heading = "Model")]
    pub alpha: f32,
}

/// The model and its solver, apart from the [`HyperArgs`].
#[derive(Args, Debug, Clone)]
pub struct AlsArgs {
    /// Explicit ratings: minimise squared error on observed ratings (the default when the file has a rating column).
    #[arg(long, conflicts_with = "implicit", help_heading = "Model")]
    pub explicit: bool,
    /// Implicit feedback: weighted loss over all pairs with confidence 1 + α·r (the default without a rating column).
    #[arg(long, help_heading = "Model")]
    pub implicit: bool,
    /// Scale λ by each row's interaction count (count, as Spark), not at all (none, as implicit), or by frequency: λ·(n + α₀·N)^ν with N the other side's rows (frequency, as Rendle et al. 2022) [default: count explicit, none implicit].
    #[arg(long, value_parser = named::<RegScaling>(), help_heading = "Model")]
    pub reg_scaling: Option<RegScaling>,
    /// The exponent ν of --reg-scaling frequency (0 = unscaled, 1 = proportional).
    #[arg(long, default_value_t = DEFAULT_REG_EXPONENT, help_heading = "Model")]
    pub reg_exponent: f32,
    /// The weight α₀ of an implicit model's unobserved pairs (each observed pair weighs its confidence); smaller values trust the interactions more.
    #[arg(long, default_value_t = DEFAULT_UNOBSERVED, help_heading = "Model")]
    pub unobserved: f32,
    /// Confidence curve of implicit models: linear (1 + α·r) or log (1 + α·ln(1 + r/ε), for play counts) [default: read from the values: log for whole numbers whose 99th percentile is over 20× the median, else linear].
    #[arg(long, value_parser = named::<Confidence>(), help_heading = "Model")]
    pub confidence: Option<Confidence>,
    /// ε of the log confidence curve.
    #[arg(long, default_value_t = DEFAULT_EPSILON, help_heading = "Model")]
    pub epsilon: f32,
    /// Explicit models without the global mean and user/item biases (Spark's model).
    #[arg(long, help_heading = "Model")]
    pub no_biases: bool,
    #[command(flatten)]
    pub solver: SolverArgs,
    /// Seed of the initial factors: the same data and seed give the same model.
    #[arg(long, default_value_t = 42, help_heading = "Solver")]
    pub seed: u64,
    #[command(flatten)]
    pub device: DeviceArgs,
}

/// The per-row solver.
#[derive(Args, Debug, Clone)]
pub struct SolverArgs {
    /// Per-row solver: cg (a few warm-started conjugate-gradient steps: same quality, 3-6× faster, measured) or cholesky (exact).
    #[arg(long, default_value = "cg", value_parser = named::<Solver>(), help_heading = "Solver")]
    pub solver: Solver,
    /// Conjugate-gradient steps per row and half-iteration.
    #[arg(long, default_value_t = SolverOptions::DEFAULT.cg_steps, help_heading = "Solver")]
    pub cg_steps: usize,
}

impl SolverArgs {
    /// The solver as one value.
    pub fn options(&self) -> SolverOptions {
        SolverOptions { solver: self.solver, cg_steps: self.cg_steps }
    }
}

/// Where training runs.
#[derive(Args, Debug, Clone)]
pub struct DeviceArgs {
    /// CPU threads (0 = one per core).
    #[arg(long, default_value_t = 0, help_heading = "Solver")]
    pub threads: usize,
    /// Where to train: auto (a real GPU when there is one, else the CPU; a GPU failure restarts the run on the CPU), gpu (any GPU adapter, software ones included; failures are errors) or cpu.
    #[arg(long, default_value = "auto", value_parser = named::<Device>(), help_heading = "Solver")]
    pub device: Device,
    /// How the GPU stores the factors: f32, or f16 (half the GPU memory and gather traffic; the arithmetic stays f32 and the model's factors are the f16 values). No effect on the CPU.
    #[arg(long, default_value = "f32", value_parser = named::<GpuStorage>(), help_heading = "Solver")]
    pub gpu_storage: GpuStorage,
}

impl DeviceArgs {
    /// How to use the GPU: the environment's settings (`env::gpu_options`)
    /// with the flags'.
    pub fn gpu_options(&self) -> gramrec_core::Result<GpuOptions> {
        Ok(GpuOptions { storage: self.gpu_storage, ..crate::env::gpu_options()? })
    }
}

/// What a training command reads and writes, and how it trains (`train`, `tune`).
#[derive(Args, Debug)]
pub struct TrainingArgs {
    /// Interactions: delimited text, JSON lines or baskets (optionally .gz), a Parquet file or folder, or - for standard input. Repeat it to train on several files as one (a base file and `serve`'s events.jsonl): each is read with the same input flags.
    #[arg(long, short, required = true)]
    pub input: Vec<PathBuf>,
    /// Model directory to write (items.gramrec and users.gramrec); for tune, the best setting retrained on all data.
    #[arg(long, short, default_value = "model")]
    pub out: PathBuf,
    /// No progress or log lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub input_args: InputArgs,
    #[command(flatten)]
    pub details: DetailArgs,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub als: AlsArgs,
}

/// `gramrec train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    pub run: TrainingArgs,
    /// Storage type of the factors: f32, f16 or i8 (per-row scale).
    #[arg(long, default_value = "f32", value_parser = named::<Dtype>())]
    pub dtype: Dtype,
    /// Save a resumable checkpoint (OUT/checkpoint/) every N iterations.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub checkpoint_every: usize,
    /// Continue from OUT/checkpoint/ (same data and settings): the result equals an uninterrupted run's.
    #[arg(long)]
    pub resume: bool,
    /// Held-out interactions to evaluate after every iteration: the learning
    /// curve, printed and written to OUT/report.json and OUT/report.svg.
    #[arg(long)]
    pub validate: Option<PathBuf>,
    /// Validation metric [default: rmse for explicit models, ndcg@10 for implicit ones].
    #[arg(long, value_parser = parsed::<Metric>())]
    pub metric: Option<Metric>,
    /// Print one JSON object with counts, parameters and per-iteration figures on stdout (docs/JSON.md).
    #[arg(long)]
    pub json: bool,
    /// Search the settings first: factors, λ and its scaling, α, the confidence curve and the unobserved weight α₀, by successive halving on a validation split carved from the input (10%: per user for implicit models, at random for explicit ones; seeded by --seed; on more than 5M interactions, on a sample of the users). The other flags' settings are the first candidate; the best on validation replaces them only when it leads by more than two standard errors of the per-user (per-rating) difference. Prints the validation table, then trains the winner on all the data; the model records how it was chosen (docs/ALGORITHM.md).
    #[arg(long, conflicts_with = "resume")]
    pub auto: bool,
    /// What --auto may spend before the final training: a multiple of one training with the other flags' settings (10x), or a time (90s, 15m, 1h), converted into trainings once from the first one's time [default: 10x].
    #[arg(long, requires = "auto", value_parser = parsed::<Budget>())]
    pub budget: Option<Budget>,
    #[command(flatten)]
    pub hyper: HyperArgs,
}

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
    /// Output of --all: JSON lines ({"user", "items": [{"item", "score"}]}), or CSV (user,rank,item,score) for .csv.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Number of items.
    #[arg(long, short, default_value_t = 10)]
    pub k: usize,
    /// Exclude each user's items in this training file (with --user and --all) instead of the training items the model records.
    #[arg(long)]
    pub train: Option<PathBuf>,
    /// Keep items the user had in training (by default --user and --all leave them out).
    #[arg(long, conflicts_with = "train")]
    pub include_seen: bool,
    /// With --all and a .csv output: IDs a spreadsheet would run as a formula (starting with =, +, -, @) get a leading '.
    #[arg(long, requires = "all")]
    pub csv_safe: bool,
    /// Where --all scores: auto (a real GPU when there is one, else the CPU), gpu (any GPU adapter, software ones included; failures are errors; at most 128 items per user) or cpu.
    #[arg(long, default_value = "auto", value_parser = named::<Device>())]
    pub device: Device,
    /// A --user the model does not know: popular (the most popular items, marked coldStart), skip (no items) or error.
    #[arg(long, default_value = "popular", value_parser = named::<ColdStart>())]
    pub cold_start: ColdStart,
    /// Print {"items": [{"item", "score", "name"?, "url"?, "image"?}], "coldStart", "unknown"} (docs/JSON.md).
    #[arg(long)]
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

named_enum!(ColdStart, "--cold-start" { Popular => "popular", Skip => "skip", Error => "error" });

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

/// `gramrec inspect`.
#[derive(Args, Debug)]
pub struct InspectArgs {
    /// A factor file (items.gramrec or users.gramrec).
    pub file: PathBuf,
    /// Print one JSON object (docs/JSON.md).
    #[arg(long)]
    pub json: bool,
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
    /// Time top-k for every user instead of training: random factors of
    /// --users × --items × --factors, scored with `recommend --all`'s kernel.
    #[arg(long)]
    pub recommend_all: bool,
    /// With --recommend-all: items per user.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// With --recommend-all: also write the random item factors as an item file
    /// (test data for the browser benchmarks).
    #[arg(long, requires = "recommend_all")]
    pub write_items: Option<PathBuf>,
    /// Print one JSON object (docs/JSON.md).
    #[arg(long)]
    pub json: bool,
}

/// `gramrec demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Directory for the data, the model and the evaluation.
    #[arg(long, short, default_value = "gramrec-demo")]
    pub out: PathBuf,
    /// Also write a ready-to-serve web page here (index.html, the JS and wasm module, the model, item names).
    /// Needs the browser module built once: bash web/build.sh.
    #[arg(long)]
    pub web: Option<PathBuf>,
    /// Seed of the synthetic data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// `gramrec tune`.
#[derive(Args, Debug)]
pub struct TuneArgs {
    #[command(flatten)]
    pub run: TrainingArgs,
    /// Also write every setting's scores: CSV, or JSON when the name ends in .json (docs/JSON.md).
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Number of cross-validation folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// How folds are drawn: random (over interactions) or per-user (every user's interactions spread over the folds).
    #[arg(long, default_value = "random", value_parser = named::<SplitMode>())]
    pub mode: SplitMode,
    /// Factor counts to try (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "16,32,64,128")]
    pub factors: Vec<usize>,
    /// Regularisation strengths to try [default: 0.05,0.1,0.2,0.5 explicit; 5,10,30,60 implicit].
    #[arg(long, value_delimiter = ',')]
    pub reg: Vec<f32>,
    /// Confidence slopes to try (implicit models).
    #[arg(long, value_delimiter = ',', default_value = "1")]
    pub alpha: Vec<f32>,
    /// Iteration counts to try.
    #[arg(long, value_delimiter = ',', default_value = "15")]
    pub iterations: Vec<usize>,
    /// The figure that ranks settings: rmse, mae, ndcg@K, precision@K, recall@K, map@K, auc, mpr [default: rmse explicit, ndcg@10 implicit].
    #[arg(long, value_parser = parsed::<Metric>())]
    pub metric: Option<Metric>,
    /// Seed of the folds (the model seed is --seed).
    #[arg(long, default_value_t = 42)]
    pub fold_seed: u64,
}

/// `gramrec export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Model directory (or, with --to gramrec, an item factor file).
    #[arg(long, short)]
    pub model: PathBuf,
    /// What to write: gramrec (an item factor file for the web), spark (an ALSModel folder), implicit (an .npz for AlternatingLeastSquares.load, IDs beside it) or npy (a folder of NumPy arrays and ID lists). Biases become two extra factor columns outside gramrec.
    #[arg(long, default_value = "gramrec", value_parser = named::<ExportTo>())]
    pub to: ExportTo,
    /// With --to gramrec, the storage type: f32 (exact), f16 (half the size) or i8 (a quarter, one scale per item). Other tools get f32.
    #[arg(long, default_value = "i8", value_parser = named::<Dtype>())]
    pub dtype: Dtype,
    /// The item file, folder (spark, npy) or .npz (implicit) to write. A folder goes to a path that does not exist or an empty folder; an existing folder is replaced only with --overwrite, and only when it is an earlier export of the same kind holding nothing else.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Replace an existing --out folder that is an earlier export of the same kind (a Spark ALSModel folder, gramrec's NumPy arrays). A folder holding anything else is never replaced.
    #[arg(long)]
    pub overwrite: bool,
    /// Leave the items' names, links and images out (the smallest file).
    #[arg(long, conflicts_with = "items")]
    pub no_metadata: bool,
    #[command(flatten)]
    pub details: DetailArgs,
}

/// Where `export` writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportTo {
    /// A gramrec item factor file.
    Gramrec,
    /// A Spark MLlib ALSModel folder.
    Spark,
    /// A benfred/implicit .npz model file.
    Implicit,
    /// NumPy arrays.
    Npy,
}

named_enum!(ExportTo, "--to" { Gramrec => "gramrec", Spark => "spark", Implicit => "implicit", Npy => "npy" });

/// Which tool wrote a model `import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFrom {
    /// A folder saved by Spark's `ALSModel.save`.
    Spark,
    /// An .npz saved by implicit's `AlternatingLeastSquares.save`.
    Implicit,
}

named_enum!(ImportFrom, "--from" { Spark => "spark", Implicit => "implicit" });

/// `gramrec import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// What wrote the model: spark (a folder from ALSModel.save) or implicit (an .npz from AlternatingLeastSquares.save).
    #[arg(long, value_parser = named::<ImportFrom>())]
    pub from: ImportFrom,
    /// The ALSModel folder or .npz file.
    pub path: PathBuf,
    /// Model directory to write.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Spark: explicit or implicit (Spark's implicitPrefs), which an ALSModel does not record; needed unless the folder is gramrec's own export.
    #[arg(long, value_parser = named::<ModelKind>())]
    pub kind: Option<ModelKind>,
    /// The regularisation the model was trained with (Spark's regParam, default 0.1, scaled per row; implicit's regularization, from the file): used to fold new users in.
    #[arg(long)]
    pub reg: Option<f32>,
    /// The confidence slope the model was trained with (Spark's or implicit's alpha), for fold-in.
    #[arg(long)]
    pub alpha: Option<f32>,
    /// The original user IDs: a text file (line n holds the ID of index n), a Parquet table with int `id` and string `label` columns, or a saved Spark StringIndexerModel folder (default: userIds/ in a Spark folder, NAME.user_ids.txt beside an .npz, else the integers).
    #[arg(long)]
    pub user_ids: Option<PathBuf>,
    /// The original item IDs, in the same forms as --user-ids.
    #[arg(long)]
    pub item_ids: Option<PathBuf>,
    /// Storage type of the factor files.
    #[arg(long, default_value = "f32", value_parser = named::<Dtype>())]
    pub dtype: Dtype,
    /// The training interactions (optional): they give the items' popularity (the cold-start order; without them, the mean user's scores) and each user's seen items (left out of recommendations; without them, nothing is).
    #[arg(long)]
    pub train: Option<PathBuf>,
    #[command(flatten)]
    pub input_args: InputArgs,
}

/// `gramrec rules`.
#[derive(Args, Debug)]
pub struct RulesArgs {
    /// Baskets: a basket file (--format baskets, one basket a line) or a transaction log (--basket-col and --item-col).
    #[arg(long, short, required_unless_present = "rules", conflicts_with = "rules")]
    pub input: Option<PathBuf>,
    /// The least support of an itemset: a share of the baskets with a decimal point (0.01, as Spark's minSupport) or a number of baskets (50).
    #[arg(long, default_value = "0.01", value_parser = parsed::<Support>())]
    pub min_support: Support,
    /// The least confidence of a rule (Spark's minConfidence).
    #[arg(long, default_value_t = 0.5)]
    pub min_confidence: f64,
    /// The most items in an itemset (default: any number, as Spark).
    #[arg(long)]
    pub max_len: Option<usize>,
    /// Stop with an error past this many frequent itemsets, before memory runs out.
    #[arg(long, default_value_t = 10_000_000)]
    pub max_itemsets: usize,
    /// Stop with an error when more rules than this pass --min-confidence (counted before any is kept): an itemset of n items gives up to n rules.
    #[arg(long, default_value_t = 10_000_000)]
    pub max_rules: usize,
    /// The rules: .jsonl, .csv, .parquet, or .gramrec (the rules file the page and the server read), sorted by confidence then lift.
    #[arg(long, short, required_unless_present_any = ["show", "rules"])]
    pub out: Option<PathBuf>,
    /// Also write the frequent itemsets with their counts (.jsonl, .csv or .parquet).
    #[arg(long)]
    pub itemsets: Option<PathBuf>,
    /// A rules file to read instead of mining (with --show).
    #[arg(long, requires = "show")]
    pub rules: Option<PathBuf>,
    /// Print what goes with this item: the rules from it alone, best first.
    #[arg(long)]
    pub show: Option<String>,
    /// With --show, how many items.
    #[arg(long, short, default_value_t = 10)]
    pub k: usize,
    /// A model whose item names (and links, images) name the items: printed by --show, stored in a .gramrec output.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// With --show, print {"item", "items": [{"item", "confidence", "lift", "support", "name"?}]} (docs/JSON.md).
    #[arg(long, requires = "show")]
    pub json: bool,
    #[command(flatten)]
    pub input_args: InputArgs,
}

/// `gramrec serve`.
#[cfg(feature = "serve")]
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The model directory (items.gramrec and users.gramrec), read again on SIGHUP or POST /v1/admin/reload.
    #[arg(long, short)]
    pub model: PathBuf,
    /// Address and port to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The event log: every accepted event is appended here and synced before it is acknowledged, and replayed on start (default: MODEL/events.jsonl).
    #[arg(long)]
    pub events: Option<PathBuf>,
    /// An association-rules file (`gramrec rules --out rules.gramrec`) for GET /v1/items/{id}/associations.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Also serve this folder's files at / (the page, the WASM module, the item file).
    #[arg(long)]
    pub web: Option<PathBuf>,
    /// Let pages from this origin call the API (e.g. https://shop.example; * for any).
    #[arg(long)]
    pub cors: Option<String>,
    /// A host name the server answers to (repeatable), as clients reach it through DNS or a proxy: api.shop.example. IP addresses and localhost are always answered; any other Host header gets 421, so a page cannot rebind its own name to this server.
    #[arg(long, value_name = "NAME")]
    pub allowed_host: Vec<String>,
    /// Turn on POST /v1/admin/reload with this token (Authorization: Bearer TOKEN; 16 characters or more). GRAMREC_ADMIN_TOKEN does the same without showing it to `ps`.
    #[arg(long)]
    pub admin_token: Option<String>,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    pub max_body: usize,
    /// Most history entries in a fold-in request, and events in one post.
    #[arg(long, default_value_t = 10_000)]
    pub max_history: usize,
    /// Most concurrent top-k requests scored in one pass over the item factors (1: each alone).
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Longest a top-k request waits for others to share its pass, in microseconds (at most 1000).
    #[arg(long, default_value_t = 200)]
    pub batch_wait_us: u64,
    /// Scoring threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Most connections open at once; more wait until one closes. Lowered, with a log line, to fit the open-file limit (ulimit -n).
    #[arg(long, default_value_t = 512)]
    pub max_connections: usize,
    /// Seconds a request's headers may take, from the connection's start or its previous answer (so also how long an idle connection is kept).
    #[arg(long, default_value_t = 30.0)]
    pub header_timeout: f64,
    /// Seconds a request's whole body may take to arrive (408 after).
    #[arg(long, default_value_t = 30.0)]
    pub body_timeout: f64,
    /// No log lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `gramrec split`.
#[derive(Args, Debug)]
pub struct SplitArgs {
    /// Interaction file to split.
    #[arg(long, short)]
    pub input: PathBuf,
    /// Directory for train.EXT and test.EXT (EXT as the input's): the records as train reads them, in the input's own layout (header in both, skipped lines in neither, baskets as baskets), every record of a (user, item) pair on one side; both are read back and checked before they appear.
    #[arg(long, short)]
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
    /// With --kind implicit: play counts as values (a `plays` column: log-normal, median about 100, heavy-tailed, larger for preferred items) instead of one line per interaction.
    #[arg(long)]
    pub counts: bool,
    /// Seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output file (user,item,rating CSV; gzip-compressed if it ends in .gz).
    #[arg(long, short)]
    pub out: PathBuf,
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
    clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("{e}\n")).with_cmd(cmd)
}
