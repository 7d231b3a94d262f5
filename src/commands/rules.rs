//! `gramrec rules`: association rules mined from baskets, written out, or
//! shown for one item.

use anyhow::Result;
use gramrec_core::{Error, RuleSet};
use gramrec_data::load::{Format, RatingColumn};
use gramrec_rules::output::{write_itemsets, write_rules};
use gramrec_rules::RulesOptions;
use gramrec_store::load_item_model;

use super::at_least_one;
use crate::cli::RulesArgs;
use crate::output::{emit, emit_json};
use crate::progress::stderr_line;

pub fn run(a: RulesArgs) -> Result<()> {
    at_least_one("--k", a.k)?;
    let model = a.model.as_deref().map(load_item_model).transpose()?;
    let mut set = match (&a.rules, &a.input) {
        (Some(path), _) => {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            RuleSet::from_bytes(&bytes).map_err(|e| Error::model(path, e))?
        }
        (None, Some(input)) => mine(&a, input)?,
        (None, None) => unreachable!("clap requires --input or --rules"),
    };
    if let Some(model) = &model {
        set.info = Some(model.info_for(&set.items));
    }
    if let (Some(out), Some(_)) = (&a.out, &a.input) {
        write_rules(out, &set)?;
        stderr_line(&format!("wrote {} rules to {}", set.rules.len(), out.display()));
    }
    match &a.show {
        Some(item) => show(&a, &set, item),
        None => Ok(()),
    }
}

/// Loads the baskets and mines them, writing the itemsets when asked.
fn mine(a: &RulesArgs, input: &std::path::Path) -> Result<RuleSet> {
    let mut opts = a.input_args.options();
    if opts.format != Format::Baskets {
        // A transaction log: the basket column groups the rows, as the user column does for training.
        if let Some(col) = opts.basket.take() {
            opts.user = Some(col);
        }
        if opts.rating == RatingColumn::Auto {
            opts.rating = RatingColumn::Absent;
        }
    }
    let (x, _) = a.input_args.load_with(input, opts, false)?;
    let started = std::time::Instant::now();
    let mined = gramrec_rules::mine(
        &x,
        &RulesOptions {
            min_support: a.min_support,
            min_confidence: a.min_confidence,
            max_len: a.max_len,
            max_itemsets: a.max_itemsets,
            max_rules: a.max_rules,
        },
    )?;
    let set = mined.rules;
    stderr_line(&format!(
        "{} baskets, {} items: {} frequent itemsets (in at least {} baskets), {} rules (confidence ≥ {}) in {:.2} s",
        set.baskets,
        set.items.len(),
        mined.itemsets.len(),
        set.min_count,
        set.rules.len(),
        set.min_confidence,
        started.elapsed().as_secs_f64()
    ));
    if mined.repeats > 0 {
        stderr_line(&format!(
            "{} items repeated within a basket were counted once (Spark's FPGrowth refuses such baskets)",
            mined.repeats
        ));
    }
    if let Some(path) = &a.itemsets {
        write_itemsets(path, &mined.itemsets, &set.items)?;
        stderr_line(&format!("wrote {} itemsets to {}", mined.itemsets.len(), path.display()));
    }
    Ok(set)
}

fn show(a: &RulesArgs, set: &RuleSet, item: &str) -> Result<()> {
    let Some(index) = set.index_of(item) else {
        return Err(Error::Argument(format!(
            "item '{}' is in no basket of these rules",
            gramrec_core::text::escape_controls(item)
        ))
        .into());
    };
    let items = set.for_item(index, a.k);
    if a.json {
        return emit_json(&gramrec_core::ItemAssociations { item: item.to_string(), items });
    }
    if items.is_empty() {
        return emit(&format!(
            "no rule starts from '{}' alone at these thresholds\n",
            gramrec_core::text::escape_controls(item)
        ));
    }
    let as_recs: Vec<gramrec_core::Recommendation> = items
        .iter()
        .map(|s| gramrec_core::Recommendation {
            item: s.item.clone(),
            score: s.confidence as f32,
            details: s.details.clone(),
        })
        .collect();
    let mut text = super::items_table(&as_recs, "confidence");
    text.push_str(&format!(
        "lift: {}\n",
        items.iter().map(|s| format!("{:.2}", s.lift)).collect::<Vec<_>>().join(", ")
    ));
    emit(&text)
}
