//! Association rules ("bought together"), as Spark's `FPGrowth` defines
//! them: for a frequent itemset X ∪ {y}, the rule X ⇒ y has
//! support = count(X ∪ {y}) / baskets, confidence = count(X ∪ {y}) /
//! count(X) and lift = confidence / (count(y) / baskets).
//!
//! A [`RuleSet`] keeps the counts, not the ratios, so every figure is
//! computed the one way Spark computes it (f64 divisions of integers),
//! wherever the rules are read: the CLI, the browser, the server. Mining
//! lives in `gramrec-rules`; the file format in `format::rules_file`.

use std::collections::HashMap;

use serde::Serialize;

use crate::format::{ItemDetails, ItemInfo};

/// One rule: `antecedent` ⇒ `consequent`, with the counts its figures come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Item indices of the left-hand side, ascending.
    pub antecedent: Vec<u32>,
    /// The item index of the right-hand side.
    pub consequent: u32,
    /// Baskets holding the antecedent and the consequent.
    pub count: u64,
    /// Baskets holding the antecedent.
    pub antecedent_count: u64,
}

/// The rules mined from a set of baskets, with what they were mined under.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    /// Item IDs, by index.
    pub items: Vec<String>,
    /// Baskets holding each item.
    pub item_counts: Vec<u64>,
    /// Baskets mined (the denominator of support).
    pub baskets: u64,
    /// The least count an itemset needed (⌈min support × baskets⌉, as Spark).
    pub min_count: u64,
    /// The least confidence a rule needed.
    pub min_confidence: f64,
    /// The longest itemset mined, when limited.
    pub max_len: Option<usize>,
    /// The rules, best first ([`RuleSet::sort`]).
    pub rules: Vec<Rule>,
    /// Items' names, links and images, when given (for the page).
    pub info: Option<ItemInfo>,
}

/// A rule's figures, with the items named: the JSON of `rules` outputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleView {
    /// The left-hand side's item IDs.
    pub antecedent: Vec<String>,
    /// The right-hand side (one item, as a list like Spark's).
    pub consequent: Vec<String>,
    /// P(consequent | antecedent).
    pub confidence: f64,
    /// Confidence over the consequent's support: > 1 when they go together.
    pub lift: f64,
    /// Share of baskets holding both sides.
    pub support: f64,
}

/// An item that goes with another: what `rules --show` prints and the
/// page's `rulesFor` returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Association {
    /// The item's ID.
    pub item: String,
    /// P(this item | the given one).
    pub confidence: f64,
    /// How much likelier than on its own.
    pub lift: f64,
    /// Share of baskets holding both.
    pub support: f64,
    /// Its name, page and image, when known.
    #[serde(flatten)]
    pub details: ItemDetails,
}

/// What goes with one item: `rules --show ITEM --json` and the server's
/// `GET /v1/items/{id}/associations` (docs/schema/associations.json).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemAssociations {
    /// The item asked about.
    pub item: String,
    /// What goes with it, best first.
    pub items: Vec<Association>,
}

impl RuleSet {
    /// The rule's confidence: count(X ∪ {y}) / count(X).
    pub fn confidence(&self, r: &Rule) -> f64 {
        r.count as f64 / r.antecedent_count as f64
    }

    /// The rule's support: count(X ∪ {y}) / baskets.
    pub fn support(&self, r: &Rule) -> f64 {
        r.count as f64 / self.baskets as f64
    }

    /// The rule's lift: confidence / (count(y) / baskets).
    pub fn lift(&self, r: &Rule) -> f64 {
        self.confidence(r) / (self.item_counts[r.consequent as usize] as f64 / self.baskets as f64)
    }

    /// Sorts the rules best first: by confidence, then lift (both
    /// descending), then by antecedent and consequent IDs, so the order is
    /// the same however they were mined.
    pub fn sort(&mut self) {
        let mut rules = std::mem::take(&mut self.rules);
        let key = |r: &Rule| (self.confidence(r), self.lift(r));
        rules.sort_by(|a, b| {
            let (ka, kb) = (key(a), key(b));
            kb.0.total_cmp(&ka.0)
                .then(kb.1.total_cmp(&ka.1))
                .then_with(|| self.names(&a.antecedent).cmp(&self.names(&b.antecedent)))
                .then_with(|| self.items[a.consequent as usize].cmp(&self.items[b.consequent as usize]))
        });
        self.rules = rules;
    }

    fn names(&self, items: &[u32]) -> Vec<&str> {
        items.iter().map(|&i| self.items[i as usize].as_str()).collect()
    }

    /// A rule with its items named.
    pub fn view(&self, r: &Rule) -> RuleView {
        RuleView {
            antecedent: self.names(&r.antecedent).into_iter().map(str::to_string).collect(),
            consequent: vec![self.items[r.consequent as usize].clone()],
            confidence: self.confidence(r),
            lift: self.lift(r),
            support: self.support(r),
        }
    }

    /// The index of an item ID (a scan: [`RuleIndex::item`] for many lookups).
    pub fn index_of(&self, id: &str) -> Option<u32> {
        self.items.iter().position(|i| i == id).map(|i| i as u32)
    }

    /// The `k` items that go best with `item`: the consequents of the rules
    /// whose antecedent is that item alone, best first. Empty for an item no
    /// rule starts from.
    pub fn for_item(&self, item: u32, k: usize) -> Vec<Association> {
        self.rules.iter().filter(|r| r.antecedent == [item]).take(k).map(|r| self.association(r)).collect()
    }

    /// A rule's consequent as an [`Association`], named when the set names items.
    fn association(&self, r: &Rule) -> Association {
        let row = r.consequent as usize;
        Association {
            item: self.items[row].clone(),
            confidence: self.confidence(r),
            lift: self.lift(r),
            support: self.support(r),
            details: self.info.as_ref().map(|i| i.get(row)).unwrap_or_default(),
        }
    }
}

/// Single-item antecedents → their rules, best first: the lookup the page
/// and the server make per request, built once.
#[derive(Debug, Clone, Default)]
pub struct RuleIndex {
    by_item: HashMap<u32, Vec<u32>>,
    ids: HashMap<String, u32>,
}

impl RuleIndex {
    /// Indexes the rules of `set` whose antecedent is one item.
    pub fn new(set: &RuleSet) -> Self {
        let mut by_item: HashMap<u32, Vec<u32>> = HashMap::new();
        for (n, r) in set.rules.iter().enumerate() {
            if let [a] = r.antecedent[..] {
                by_item.entry(a).or_default().push(n as u32);
            }
        }
        let ids = set.items.iter().enumerate().map(|(i, id)| (id.clone(), i as u32)).collect();
        Self { by_item, ids }
    }

    /// The index of an item ID, in constant time.
    pub fn item(&self, id: &str) -> Option<u32> {
        self.ids.get(id).copied()
    }

    /// [`RuleSet::for_item`], through the index.
    pub fn for_item(&self, set: &RuleSet, item: u32, k: usize) -> Vec<Association> {
        let rules = self.by_item.get(&item).map(Vec::as_slice).unwrap_or(&[]);
        rules.iter().take(k).map(|&n| set.association(&set.rules[n as usize])).collect()
    }
}
