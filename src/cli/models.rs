//! The commands that read and write model files: `export`, `import` and
//! `inspect`.

use std::path::PathBuf;

use clap::Args;
use gramrec_core::{named_enum, Dtype, ModelKind};

use super::{long_help, named, DetailArgs, InputArgs};

/// `gramrec export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Model directory (or, with --to gramrec, an item factor file).
    #[arg(long, short)]
    pub model: PathBuf,
    /// What to write: gramrec, spark, implicit or npy.
    #[arg(long, default_value = "gramrec", value_parser = named::<ExportTo>(), long_help = long_help::EXPORT_TO)]
    pub to: ExportTo,
    /// With --to gramrec, the storage type: f32, f16 or i8.
    #[arg(long, default_value = "i8", value_parser = named::<Dtype>(), long_help = long_help::EXPORT_DTYPE)]
    pub dtype: Dtype,
    /// The item file, folder or .npz to write.
    #[arg(long, short, long_help = long_help::EXPORT_OUT)]
    pub out: PathBuf,
    /// Replace an existing --out folder that is an earlier export of the same kind.
    #[arg(long, long_help = long_help::OVERWRITE)]
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

named_enum!(ExportTo, "to" { Gramrec => "gramrec", Spark => "spark", Implicit => "implicit", Npy => "npy" });

/// Which tool wrote a model `import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFrom {
    /// A folder saved by Spark's `ALSModel.save`.
    Spark,
    /// An .npz saved by implicit's `AlternatingLeastSquares.save`.
    Implicit,
}

named_enum!(ImportFrom, "from" { Spark => "spark", Implicit => "implicit" });

/// `gramrec import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// What wrote the model: spark or implicit.
    #[arg(long, value_parser = named::<ImportFrom>(), long_help = long_help::IMPORT_FROM)]
    pub from: ImportFrom,
    /// The ALSModel folder or .npz file.
    pub path: PathBuf,
    /// Model directory to write.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Spark: explicit or implicit, which an ALSModel does not record.
    #[arg(long, value_parser = named::<ModelKind>(), long_help = long_help::IMPORT_KIND)]
    pub kind: Option<ModelKind>,
    /// The regularisation the model was trained with, used to fold new users in.
    #[arg(long, long_help = long_help::IMPORT_REG)]
    pub reg: Option<f32>,
    /// The confidence slope the model was trained with (Spark's or implicit's alpha), for fold-in.
    #[arg(long)]
    pub alpha: Option<f32>,
    /// The original user IDs: a text file, a Parquet table or a StringIndexerModel folder.
    #[arg(long, long_help = long_help::USER_IDS)]
    pub user_ids: Option<PathBuf>,
    /// The original item IDs, in the same forms as --user-ids.
    #[arg(long)]
    pub item_ids: Option<PathBuf>,
    /// Storage type of the factor files.
    #[arg(long, default_value = "f32", value_parser = named::<Dtype>())]
    pub dtype: Dtype,
    /// The training interactions (optional): the items' popularity and the users' seen items.
    #[arg(long, long_help = long_help::IMPORT_TRAIN)]
    pub train: Option<PathBuf>,
    #[command(flatten)]
    pub input_args: InputArgs,
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
