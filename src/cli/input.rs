//! How interaction files and item-detail files are read, and which
//! interactions are kept: the flag groups every command that reads data
//! flattens in.

use std::path::PathBuf;

use clap::Args;
use gramrec_data::load::{Column, Encoding, Format, Header, RatingColumn, ValueMap};
use gramrec_data::{Duplicates, NonPositive};

use super::{long_help, named, parsed};

/// How to read an interaction file.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// File format: auto, csv, jsonl, baskets or parquet.
    #[arg(
        long,
        default_value = "auto",
        value_parser = named::<Format>(),
        help_heading = "Input",
        long_help = long_help::FORMAT,
    )]
    pub format: Format,
    /// Delimiter of text files (default: detected from the first lines).
    #[arg(long, help_heading = "Input", long_help = long_help::DELIMITER)]
    pub delimiter: Option<String>,
    /// Text encoding: auto, utf-8, latin1, windows-1252 or utf-16.
    #[arg(
        long,
        default_value = "auto",
        value_parser = named::<Encoding>(),
        help_heading = "Input",
        long_help = long_help::ENCODING,
    )]
    pub encoding: Encoding,
    /// With --format baskets: the column holding each basket's ID.
    #[arg(long, value_parser = parsed::<Column>(), help_heading = "Input", long_help = long_help::BASKET_COL)]
    pub basket_col: Option<Column>,
    /// Whether the first line is a header: auto, yes or no.
    #[arg(long, default_value = "auto", value_parser = named::<Header>(), help_heading = "Input")]
    pub header: Header,
    /// User column: 0-based index or header/field name.
    #[arg(long, value_parser = parsed::<Column>(), help_heading = "Input", long_help = long_help::USER_COL)]
    pub user_col: Option<Column>,
    /// Item column: index or name (default: item/itemId/movieId/asin…, else the second).
    #[arg(long, value_parser = parsed::<Column>(), help_heading = "Input")]
    pub item_col: Option<Column>,
    /// Skip bad lines (counted by kind in a summary) instead of stopping at the first one.
    #[arg(long, help_heading = "Input")]
    pub skip_invalid: bool,
    /// Timestamp column for `split --mode time`: index or name.
    #[arg(long, value_parser = parsed::<Column>(), help_heading = "Input", long_help = long_help::TIMESTAMP_COL)]
    pub timestamp_col: Option<Column>,
    /// A file of item aliases, two columns: alias, canonical ID.
    #[arg(long, value_name = "FILE", help_heading = "Input", long_help = long_help::ITEM_ALIAS)]
    pub item_alias: Option<PathBuf>,
    /// How the timestamps are written, strftime style, read as UTC.
    #[arg(long, value_name = "FORMAT", help_heading = "Input", long_help = long_help::TIME_FORMAT)]
    pub time_format: Option<String>,
    /// Rating column: index, name, "auto" or "none" (every interaction counts 1).
    #[arg(
        long,
        default_value = "auto",
        value_parser = parsed::<RatingColumn>(),
        help_heading = "Input",
        long_help = long_help::RATING_COL,
    )]
    pub rating_col: RatingColumn,
    /// Map the value column's values to weights, e.g. event types.
    #[arg(long, value_parser = parsed::<ValueMap>(), help_heading = "Input", long_help = long_help::VALUE_MAP)]
    pub value_map: Option<ValueMap>,
}

/// Items' names, links and images, stored in the model (items.gramrec) so
/// that every list can show them.
#[derive(Args, Debug, Clone, Default)]
pub struct DetailArgs {
    /// A file of item details (CSV, JSON lines or Parquet), such as MovieLens' movies.csv.
    #[arg(long, value_name = "FILE", help_heading = "Item details", long_help = long_help::ITEMS)]
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
    /// Repeated (user, item) pairs: sum, last, mean or error.
    #[arg(long, value_parser = named::<Duplicates>(), help_heading = "Data", long_help = long_help::DUPLICATES)]
    pub duplicates: Option<Duplicates>,
    /// Implicit models: what values of 0 or less are: interaction, negative or drop.
    #[arg(
        long,
        default_value = "interaction",
        value_parser = named::<NonPositive>(),
        help_heading = "Data",
        long_help = long_help::NONPOSITIVE,
    )]
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
