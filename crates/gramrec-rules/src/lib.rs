//! gramrec-rules: association rules for baskets ("bought together"), as
//! Spark's `FPGrowth` defines them: frequent itemsets by FP-growth
//! ([`fpgrowth`]), then every rule with one consequent whose confidence
//! reaches the threshold ([`mine`]), written as JSON lines, CSV, Parquet or a
//! rules file ([`output`]). The [`RuleSet`] type and its file live in
//! gramrec-core, so the browser and the server read what this writes.

pub mod fpgrowth;
pub mod output;

use gramrec_core::{setting, Error, ParamError, Result, Rule, RuleSet};
use gramrec_data::Interactions;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

pub use fpgrowth::{Itemset, TooMany};

/// The least support an itemset needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Support {
    /// A share of the baskets (Spark's `minSupport`): the count is ⌈share × baskets⌉.
    Fraction(f64),
    /// A number of baskets.
    Count(u64),
}

impl std::str::FromStr for Support {
    type Err = String;

    /// A number with a decimal point or exponent is a fraction (`0.01`,
    /// `1.0`, `1e-3`); a whole number is a count of baskets (`50`).
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let s = s.trim();
        if !s.contains(['.', 'e', 'E']) {
            if let Ok(n) = s.parse::<u64>() {
                return Ok(Support::Count(n));
            }
        }
        match s.parse::<f64>() {
            Ok(f) if (0.0..=1.0).contains(&f) => Ok(Support::Fraction(f)),
            _ => Err(format!("'{s}' is neither a fraction in 0..1 (0.01) nor a count of baskets (50)")),
        }
    }
}

/// The most frequent itemsets mined unless told otherwise (about 50 bytes each).
pub const DEFAULT_MAX_ITEMSETS: usize = 10_000_000;
/// The most rules mined unless told otherwise.
pub const DEFAULT_MAX_RULES: usize = 10_000_000;

/// How to mine.
#[derive(Debug, Clone, Copy)]
pub struct RulesOptions {
    /// The least support of a frequent itemset.
    pub min_support: Support,
    /// The least confidence of a rule (Spark's `minConfidence`).
    pub min_confidence: f64,
    /// The longest itemset (`None`: any length, as Spark).
    pub max_len: Option<usize>,
    /// Mining stops with an error past this many itemsets, before memory runs out.
    pub max_itemsets: usize,
    /// Likewise for the rules: counted before any is kept (each itemset of
    /// n items can give n rules, so rules can outnumber itemsets many times).
    pub max_rules: usize,
}

/// What mining found.
#[derive(Debug, Clone)]
pub struct Mined {
    /// The frequent itemsets (item indices of `rules.items`), by count.
    pub itemsets: Vec<Itemset>,
    /// The rules, best first.
    pub rules: RuleSet,
    /// Items repeated within a basket, counted once (Spark refuses such baskets).
    pub repeats: u64,
}

/// The baskets of `x` (its users) as item lists, each item once, and how
/// many repeats were dropped.
pub fn baskets(x: &Interactions) -> (Vec<Vec<u32>>, u64) {
    let mut baskets = vec![Vec::new(); x.users.len()];
    for (&u, &i) in x.user.iter().zip(&x.item) {
        baskets[u as usize].push(i);
    }
    let repeats = baskets
        .par_iter_mut()
        .map(|b| {
            let n = b.len();
            b.sort_unstable();
            b.dedup();
            (n - b.len()) as u64
        })
        .sum();
    (baskets, repeats)
}

/// Mines `x`'s baskets (its users: lines of a basket file, or the groups of
/// `--basket-col`).
pub fn mine(x: &Interactions, opts: &RulesOptions) -> Result<Mined> {
    if !(0.0..=1.0).contains(&opts.min_confidence) {
        return Err(
            ParamError::new("min_confidence", format!("must be between 0 and 1, not {}", opts.min_confidence)).into()
        );
    }
    if opts.max_len == Some(0) {
        return Err(ParamError::new("max_len", "must be at least 1").into());
    }
    let (baskets, repeats) = baskets(x);
    let n = baskets.len() as u64;
    let min_count = match opts.min_support {
        // As Spark: math.ceil(minSupport * count).
        Support::Fraction(f) => (f * n as f64).ceil() as u64,
        Support::Count(c) => c,
    };
    let max_len = opts.max_len.unwrap_or(usize::MAX);
    let itemsets = fpgrowth::frequent_itemsets(&baskets, x.items.len(), min_count, max_len, opts.max_itemsets)
        .map_err(|TooMany { limit }| {
            Error::Data(format!(
                "more than {limit} frequent itemsets at a support of {min_count} of {n} baskets: raise {}, set {}, \
                 or raise {} (each itemset costs about 50 bytes)",
                setting("min_support"),
                setting("max_len"),
                setting("max_itemsets")
            ))
        })?;
    let mut item_counts = vec![0u64; x.items.len()];
    for b in &baskets {
        for &i in b {
            item_counts[i as usize] += 1;
        }
    }
    let counts: FxHashMap<&[u32], u64> = itemsets.iter().map(|(s, c)| (s.as_slice(), *c)).collect();
    // Counted first, so that too many rules are refused before memory runs out.
    let confidence = opts.min_confidence;
    let rule_count: usize = itemsets
        .par_iter()
        .filter(|(s, _)| s.len() > 1)
        .map(|(set, count)| rules_of(set, *count, &counts, confidence).count())
        .sum();
    if rule_count > opts.max_rules {
        return Err(Error::Data(format!(
            "{rule_count} rules at a support of {min_count} of {n} baskets and a confidence of {}, more than \
             --max-rules {}: raise --min-confidence or --min-support, set --max-len, or raise --max-rules (each rule \
             costs about 60 bytes)",
            opts.min_confidence, opts.max_rules
        )));
    }
    let rules: Vec<Rule> = itemsets
        .par_iter()
        .filter(|(s, _)| s.len() > 1)
        .flat_map_iter(|(set, count)| rules_of(set, *count, &counts, confidence))
        .collect();
    let mut set = RuleSet {
        items: x.items.clone().into_ids(),
        item_counts,
        baskets: n,
        min_count,
        min_confidence: opts.min_confidence,
        max_len: opts.max_len,
        rules,
        info: None,
    };
    set.sort();
    Ok(Mined { itemsets, rules: set, repeats })
}

/// The rules of a frequent itemset `set` (seen `count` times): each item as
/// the consequent, the rest as the antecedent, kept when its confidence is
/// at least `min_confidence`.
fn rules_of<'a>(
    set: &'a [u32],
    count: u64,
    counts: &'a FxHashMap<&[u32], u64>,
    min_confidence: f64,
) -> impl Iterator<Item = Rule> + 'a {
    (0..set.len()).filter_map(move |k| {
        let antecedent: Vec<u32> = set.iter().enumerate().filter(|&(j, _)| j != k).map(|(_, &i)| i).collect();
        let antecedent_count = counts[antecedent.as_slice()];
        let rule = Rule { antecedent, consequent: set[k], count, antecedent_count };
        (count as f64 / antecedent_count as f64 >= min_confidence).then_some(rule)
    })
}
