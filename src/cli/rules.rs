//! `gramrec rules`: association rules for baskets.

use std::path::PathBuf;

use clap::Args;
use gramrec_rules::Support;

use super::{long_help, parsed, InputArgs};

/// `gramrec rules`.
#[derive(Args, Debug)]
pub struct RulesArgs {
    /// Baskets: a basket file or a transaction log.
    #[arg(long, short, required_unless_present = "rules", conflicts_with = "rules", long_help = long_help::RULES_INPUT)]
    pub input: Option<PathBuf>,
    /// The least support of an itemset: a share of the baskets (0.01) or a number of baskets (50).
    #[arg(long, default_value = "0.01", value_parser = parsed::<Support>(), long_help = long_help::MIN_SUPPORT)]
    pub min_support: Support,
    /// The least confidence of a rule (Spark's minConfidence).
    #[arg(long, default_value_t = 0.5)]
    pub min_confidence: f64,
    /// The most items in an itemset (default: any number, as Spark).
    #[arg(long)]
    pub max_len: Option<usize>,
    /// Stop with an error past this many frequent itemsets, before memory runs out.
    #[arg(long, default_value_t = gramrec_rules::DEFAULT_MAX_ITEMSETS)]
    pub max_itemsets: usize,
    /// Stop with an error when more rules than this pass --min-confidence.
    #[arg(long, default_value_t = gramrec_rules::DEFAULT_MAX_RULES, long_help = long_help::MAX_RULES)]
    pub max_rules: usize,
    /// The rules: .jsonl, .csv, .parquet, or .gramrec.
    #[arg(long, short, required_unless_present_any = ["show", "rules"], long_help = long_help::RULES_OUT)]
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
    /// A model whose item names (and links, images) name the items.
    #[arg(long, long_help = long_help::RULES_MODEL)]
    pub model: Option<PathBuf>,
    /// With --show, print JSON (docs/JSON.md).
    #[arg(long, requires = "show", long_help = long_help::RULES_JSON)]
    pub json: bool,
    #[command(flatten)]
    pub input_args: InputArgs,
}
