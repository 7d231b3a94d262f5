//! Measuring a model on held-out interactions (definitions in docs/METRICS.md).
//!
//! Explicit models: RMSE and MAE of the (clipped) predicted rating over test
//! pairs whose user and item the model knows. Implicit models: ranking
//! metrics at k over the full catalogue, each user's training items excluded
//! from the ranking, averaged over users with at least one known test item.
//! Both report catalogue coverage of the top-k lists, and a baseline that
//! needs no model (popularity, or item mean ratings) beside the model's
//! figures, so the user sees what the model adds.

use std::collections::HashMap;

use gramrec_core::metrics::{at_k, auc_and_percentile, AtK, RankingTotals};
use gramrec_core::topk::top_k;
use gramrec_core::{Error, Model, ModelKind, ParamError, Result, UnknownName, UserVector};
use gramrec_data::{Dataset, Interactions};
use rayon::prelude::*;

use crate::topn::BLOCK;

/// A figure to optimise or report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Root mean squared error (explicit).
    Rmse,
    /// Mean absolute error (explicit).
    Mae,
    /// Precision at k.
    Precision(usize),
    /// Recall at k.
    Recall(usize),
    /// Mean average precision at k.
    Map(usize),
    /// NDCG at k.
    Ndcg(usize),
    /// Area under the ROC curve.
    Auc,
    /// Mean percentile rank.
    Mpr,
}

/// The metric names `--metric` takes (those with a cut-off as `name@K`).
const METRIC_NAMES: [&str; 8] = ["rmse", "mae", "precision@K", "recall@K", "map@K", "ndcg@K", "auc", "mpr"];

impl std::str::FromStr for Metric {
    type Err = UnknownName;
    fn from_str(s: &str) -> std::result::Result<Self, UnknownName> {
        let unknown = || UnknownName::new("metric", s, METRIC_NAMES.to_vec());
        let lower = s.to_ascii_lowercase();
        let (name, k) = match lower.split_once('@') {
            Some((n, k)) => (n.to_string(), Some(k.parse::<usize>().ok().filter(|&k| k > 0).ok_or_else(unknown)?)),
            None => (lower.clone(), None),
        };
        let k = k.unwrap_or(10);
        match name.as_str() {
            "rmse" => Ok(Metric::Rmse),
            "mae" => Ok(Metric::Mae),
            "precision" => Ok(Metric::Precision(k)),
            "recall" => Ok(Metric::Recall(k)),
            "map" => Ok(Metric::Map(k)),
            "ndcg" => Ok(Metric::Ndcg(k)),
            "auc" => Ok(Metric::Auc),
            "mpr" => Ok(Metric::Mpr),
            _ => Err(unknown()),
        }
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Metric::Rmse => write!(f, "RMSE"),
            Metric::Mae => write!(f, "MAE"),
            Metric::Precision(k) => write!(f, "precision@{k}"),
            Metric::Recall(k) => write!(f, "recall@{k}"),
            Metric::Map(k) => write!(f, "MAP@{k}"),
            Metric::Ndcg(k) => write!(f, "NDCG@{k}"),
            Metric::Auc => write!(f, "AUC"),
            Metric::Mpr => write!(f, "MPR"),
        }
    }
}

impl Metric {
    /// Whether the metric applies to a model kind: RMSE and MAE to explicit
    /// models (ratings), the ranking metrics to implicit ones.
    pub fn check(self, kind: ModelKind) -> std::result::Result<(), ParamError> {
        if self.ranks() == (kind == ModelKind::Explicit) {
            return Err(ParamError::new("metric", format!("{self} does not apply to {kind} models")));
        }
        Ok(())
    }

    /// The default for a model kind: RMSE for explicit, NDCG@10 for implicit.
    pub fn default_for(kind: ModelKind) -> Self {
        match kind {
            ModelKind::Explicit => Metric::Rmse,
            ModelKind::Implicit => Metric::Ndcg(10),
        }
    }

    /// Whether the metric ranks every item for each user (all but RMSE and
    /// MAE, which predict the held-out ratings alone).
    pub fn ranks(self) -> bool {
        !matches!(self, Metric::Rmse | Metric::Mae)
    }

    /// Whether smaller values are better.
    pub fn lower_is_better(self) -> bool {
        matches!(self, Metric::Rmse | Metric::Mae | Metric::Mpr)
    }

    /// Orders two values of this metric best first (for sorting results).
    pub fn best_first(self, a: f64, b: f64) -> std::cmp::Ordering {
        if self.lower_is_better() {
            a.total_cmp(&b)
        } else {
            b.total_cmp(&a)
        }
    }

    /// The ranking cut-off the metric needs (10 for metrics without one).
    pub fn k(self) -> usize {
        match self {
            Metric::Precision(k) | Metric::Recall(k) | Metric::Map(k) | Metric::Ndcg(k) => k,
            _ => 10,
        }
    }

    /// The metric's value in an evaluation, if the model kind has it.
    pub fn of(self, e: &Evaluation) -> Option<f64> {
        self.in_figures(&e.figures)
    }

    fn in_figures(self, figures: &Figures) -> Option<f64> {
        match (self, figures) {
            (Metric::Rmse, Figures::Ratings { rmse, .. }) => Some(*rmse),
            (Metric::Mae, Figures::Ratings { mae, .. }) => Some(*mae),
            (Metric::Precision(_), Figures::Ranking(r)) => Some(r.precision),
            (Metric::Recall(_), Figures::Ranking(r)) => Some(r.recall),
            (Metric::Map(_), Figures::Ranking(r)) => Some(r.map),
            (Metric::Ndcg(_), Figures::Ranking(r)) => Some(r.ndcg),
            (Metric::Auc, Figures::Ranking(r)) => Some(r.auc),
            (Metric::Mpr, Figures::Ranking(r)) => Some(r.mpr),
            _ => None,
        }
    }
}

/// Evaluation results: the counts, and the figures of the model's kind.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    /// "explicit", "implicit", or the baseline's name.
    pub kind: String,
    /// The cut-off of the ranking metrics.
    pub k: usize,
    /// Test interactions read.
    pub test_interactions: usize,
    /// Test interactions whose user the model does not know.
    pub unknown_user: usize,
    /// Test interactions whose item the model does not know.
    pub unknown_item: usize,
    /// Ranking (implicit models): test interactions with an item the user
    /// had in training, which their ranking leaves out, so not counted.
    pub seen_in_training: usize,
    /// Ranking: test interactions repeating a (user, item) pair already counted.
    pub repeated: usize,
    /// Ranking: test interactions with a value of 0 or less (not a relevant item).
    pub not_positive: usize,
    /// Pairs (explicit) or users (implicit) the metrics average over.
    pub evaluated: usize,
    /// The figures.
    #[serde(flatten)]
    pub figures: Figures,
    /// The same figures for a baseline without a model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Box<Evaluation>>,
}

/// What an evaluation measures: rating errors (explicit models) or ranking
/// quality (implicit models), and the catalogue coverage of the top-k lists.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Figures {
    /// Explicit models: errors of the clipped predicted ratings.
    Ratings {
        /// Root mean squared error.
        rmse: f64,
        /// Mean absolute error.
        mae: f64,
        /// Share of the catalogue in at least one user's top k by predicted rating.
        coverage: f64,
    },
    /// Implicit models: ranking metrics at k, averaged over users.
    Ranking(Ranking),
}

/// Ranking quality at k (docs/METRICS.md).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Ranking {
    /// Precision at k.
    pub precision: f64,
    /// Recall at k.
    pub recall: f64,
    /// Mean average precision at k.
    pub map: f64,
    /// Normalised discounted cumulative gain at k.
    pub ndcg: f64,
    /// Area under the ROC curve.
    pub auc: f64,
    /// Mean percentile rank (0 best, 0.5 random).
    pub mpr: f64,
    /// Share of the catalogue in at least one evaluated user's top k.
    pub coverage: f64,
}

impl Figures {
    /// The catalogue coverage of the top-k lists.
    pub fn coverage(&self) -> f64 {
        match self {
            Figures::Ratings { coverage, .. } | Figures::Ranking(Ranking { coverage, .. }) => *coverage,
        }
    }
}

/// Test pairs by model user row, and the counts of unknown users and items.
struct TestSet {
    users: Vec<(usize, Vec<(usize, f32)>)>,
    /// Each model user row's index in the test interactions' user table.
    test_users: HashMap<usize, u32>,
    unknown_user: usize,
    unknown_item: usize,
}

fn test_set(model: &Model, test: &Interactions) -> TestSet {
    let items = &model.items;
    let user_rows: Vec<Option<usize>> =
        (0..test.users.len()).map(|u| model.user_row(test.users.id(u as u32))).collect();
    let item_rows: Vec<Option<usize>> =
        (0..test.items.len()).map(|i| items.index_of(test.items.id(i as u32))).collect();
    let (mut unknown_user, mut unknown_item) = (0, 0);
    let mut per_user: HashMap<usize, Vec<(usize, f32)>> = HashMap::new();
    let mut test_users = HashMap::new();
    for ((&u, &i), &r) in test.user.iter().zip(&test.item).zip(&test.value) {
        match (user_rows[u as usize], item_rows[i as usize]) {
            (None, _) => unknown_user += 1,
            (_, None) => unknown_item += 1,
            (Some(row), Some(i)) => {
                per_user.entry(row).or_default().push((i, r));
                test_users.insert(row, u);
            }
        }
    }
    let mut users: Vec<_> = per_user.into_iter().collect();
    users.sort_unstable_by_key(|(u, _)| *u);
    TestSet { users, test_users, unknown_user, unknown_item }
}

/// What the evaluation needs to know of the training data: each model user's
/// training items (excluded from their ranking) and each item's mean
/// training rating (the explicit baseline).
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Model item rows by model user row.
    pub seen: HashMap<usize, Vec<usize>>,
    /// Mean training rating by model item row.
    pub item_means: Vec<f32>,
}

impl Known {
    /// From a training file, matched to the model by ID (`None`: what the
    /// model records, see [`seen_items`]).
    pub fn from_interactions(model: &Model, train: Option<&Interactions>) -> Self {
        Self { seen: seen_items(model, train), item_means: item_means(model, train) }
    }

    /// From the dataset the model was trained on (rows are the model's rows).
    pub fn from_dataset(data: &Dataset) -> Self {
        let seen = (0..data.by_user.rows())
            .map(|u| (u, data.by_user.row(u).0.iter().map(|&i| i as usize).collect()))
            .collect();
        let item_means = (0..data.by_item.rows())
            .map(|i| {
                let v = data.by_item.row(i).1;
                v.iter().sum::<f32>() / v.len().max(1) as f32
            })
            .collect();
        Self { seen, item_means }
    }
}

/// Each model user's training items (model item rows): those of the
/// training file when one is given, else those the model records (models
/// written from format version 2 on), else none.
pub fn seen_items(model: &Model, train: Option<&Interactions>) -> HashMap<usize, Vec<usize>> {
    let mut seen: HashMap<usize, Vec<usize>> = HashMap::new();
    if let (None, Some(recorded)) = (train, model.users.seen()) {
        for u in 0..recorded.rows() {
            let row = recorded.row(u);
            if !row.is_empty() {
                seen.insert(u, row.iter().map(|&i| i as usize).collect());
            }
        }
    }
    if let Some(train) = train {
        for (&u, &i) in train.user.iter().zip(&train.item) {
            if let (Some(u), Some(i)) = (model.user_row(train.users.id(u)), model.items.index_of(train.items.id(i))) {
                seen.entry(u).or_default().push(i);
            }
        }
    }
    seen
}

/// The test pairs of known users and items that a ranking does not count, by reason.
#[derive(Debug, Clone, Copy, Default)]
struct RankingDrops {
    seen: usize,
    repeated: usize,
    not_positive: usize,
}

/// Counts what [`ranking`] leaves out of each user's relevant items.
fn ranking_drops(set: &TestSet, seen: &HashMap<usize, Vec<usize>>) -> RankingDrops {
    let mut d = RankingDrops::default();
    for (u, pairs) in &set.users {
        let had: std::collections::HashSet<usize> = seen.get(u).into_iter().flatten().copied().collect();
        let mut counted = std::collections::HashSet::new();
        for &(i, r) in pairs {
            if had.contains(&i) {
                d.seen += 1;
            } else if r <= 0.0 {
                d.not_positive += 1;
            } else if !counted.insert(i) {
                d.repeated += 1;
            }
        }
    }
    d
}

/// Ranking metrics and coverage for scores from `score(user row)`, and each
/// user's figures they average (in the test set's user order); AUC and
/// percentile rank (which sort every item's score) only with `auc`, else 0.
fn ranking(
    set: &TestSet,
    seen: &HashMap<usize, Vec<usize>>,
    n_items: usize,
    k: usize,
    auc: bool,
    score: impl Fn(usize) -> Result<Vec<f32>> + Sync,
) -> Result<(Ranking, Vec<UserFigures>)> {
    let per_user: Vec<_> = set
        .users
        .par_iter()
        .map(|(u, pairs)| -> Result<Option<_>> {
            let mut excluded = vec![false; n_items];
            for &i in seen.get(u).map(Vec::as_slice).unwrap_or(&[]) {
                excluded[i] = true;
            }
            let relevant = relevant(pairs, |i| excluded[i]);
            if relevant.is_empty() {
                return Ok(None);
            }
            let scores = score(*u)?;
            let ranked: Vec<usize> = top_k(&scores, k, |i| excluded[i]).into_iter().map(|(i, _)| i).collect();
            let auc = if auc { auc_and_percentile(&scores, &relevant, |i| !excluded[i]) } else { None };
            Ok(Some((*u, at_k(&ranked, &relevant, k), auc, ranked)))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut totals = RankingTotals::default();
    let mut covered = vec![false; n_items];
    let mut figures = Vec::with_capacity(per_user.len());
    for (user, m, auc, ranked) in per_user.into_iter().flatten() {
        totals.add(m, auc);
        figures.push(UserFigures { user, at_k: m, auc });
        for i in ranked {
            covered[i] = true;
        }
    }
    let (m, auc, mpr) = totals.mean();
    let ranking = Ranking {
        precision: m.precision,
        recall: m.recall,
        map: m.average_precision,
        ndcg: m.ndcg,
        auc,
        mpr,
        coverage: covered.iter().filter(|&&c| c).count() as f64 / n_items.max(1) as f64,
    };
    Ok((ranking, figures))
}

/// A user's held-out items that count: positive, not among the training
/// items `seen`, each once, sorted.
fn relevant(pairs: &[(usize, f32)], seen: impl Fn(usize) -> bool) -> Vec<usize> {
    let mut relevant: Vec<usize> = pairs.iter().filter(|p| p.1 > 0.0 && !seen(p.0)).map(|p| p.0).collect();
    relevant.sort_unstable();
    relevant.dedup();
    relevant
}

/// Each user's figures at `k` (as [`ranking`] gives them, in the same
/// order, without AUC) from `model`'s top k, scored a block of users at a
/// time by the register-blocked kernel `recommend --all` uses: what a
/// search ranks settings by, several times faster than scoring every item
/// for one user at a time.
fn ranking_at_k(model: &Model, set: &TestSet, seen: &HashMap<usize, Vec<usize>>, k: usize) -> Result<Vec<UserFigures>> {
    let users: Vec<(usize, Vec<usize>, Vec<usize>)> = set
        .users
        .iter()
        .filter_map(|(u, pairs)| {
            let mut excluded = seen.get(u).cloned().unwrap_or_default();
            excluded.sort_unstable();
            let relevant = relevant(pairs, |i| excluded.binary_search(&i).is_ok());
            (!relevant.is_empty()).then_some((*u, excluded, relevant))
        })
        .collect();
    let blocks = users
        .par_chunks(BLOCK)
        .map(|block| {
            let vectors: Vec<UserVector> = block.iter().map(|b| model.user_at(b.0)).collect();
            let refs: Vec<&UserVector> = vectors.iter().collect();
            let excludes: Vec<&[usize]> = block.iter().map(|b| b.1.as_slice()).collect();
            let tops = model.items.top_rows_block(&refs, k, &excludes).map_err(Error::Scoring)?;
            Ok(block
                .iter()
                .zip(tops)
                .map(|(b, top)| {
                    let ranked: Vec<usize> = top.into_iter().map(|(i, _)| i).collect();
                    UserFigures { user: b.0, at_k: at_k(&ranked, &b.2, k), auc: None }
                })
                .collect::<Vec<_>>())
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(blocks.into_iter().flatten().collect())
}

/// One user's ranking figures: at k, and AUC with percentile rank when computed.
#[derive(Debug, Clone, Copy)]
struct UserFigures {
    /// The model user row.
    user: usize,
    at_k: AtK,
    auc: Option<(f64, f64)>,
}

/// The errors of `predict(user row, item row)` on the test pairs, in the
/// test set's order.
fn errors(set: &TestSet, predict: impl Fn(usize, usize) -> Result<f32> + Sync) -> Result<Vec<f64>> {
    Ok(set
        .users
        .par_iter()
        .map(|(u, pairs)| pairs.iter().map(|&(i, r)| Ok((predict(*u, i)? - r) as f64)).collect::<Result<Vec<_>>>())
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect())
}

/// RMSE and MAE of errors, and their number.
fn rmse_mae(errors: &[f64]) -> (f64, f64, usize) {
    let n = errors.len().max(1) as f64;
    let rmse = (errors.iter().map(|e| e * e).sum::<f64>() / n).sqrt();
    let mae = errors.iter().map(|e| e.abs()).sum::<f64>() / n;
    (rmse, mae, errors.len())
}

/// Evaluates `model` on `test`, excluding `train`'s items from each user's
/// ranking, with the baseline beside it.
pub fn evaluate(model: &Model, train: Option<&Interactions>, test: &Interactions, k: usize) -> Result<Evaluation> {
    evaluate_known(model, &Known::from_interactions(model, train), test, k)
}

/// [`evaluate`] with the training data already matched to the model.
pub fn evaluate_known(model: &Model, known: &Known, test: &Interactions, k: usize) -> Result<Evaluation> {
    let items = &model.items;
    let kind = items.meta().params.kind;
    let set = test_set(model, test);
    let seen = &known.seen;
    let dropped = match kind {
        ModelKind::Implicit => ranking_drops(&set, seen),
        ModelKind::Explicit => RankingDrops::default(),
    };
    let blank = |name: &str, evaluated: usize, figures: Figures| Evaluation {
        kind: name.to_string(),
        k,
        test_interactions: test.len(),
        unknown_user: set.unknown_user,
        unknown_item: set.unknown_item,
        seen_in_training: dropped.seen,
        repeated: dropped.repeated,
        not_positive: dropped.not_positive,
        evaluated,
        figures,
        baseline: None,
    };
    let scores = |u: usize| user_scores(model, u);
    let popularity: Vec<f32> = items.popularity().iter().map(|&c| c as f32).collect();
    let (mut ev, base) = match kind {
        ModelKind::Explicit => {
            let (rmse, mae, pairs) = rmse_mae(&errors(&set, |u, i| predicted_rating(model, u, i))?);
            let means = &known.item_means;
            let (base_rmse, base_mae, _) = rmse_mae(&errors(&set, |_, i| Ok(means[i]))?);
            // Coverage of explicit models: the top k by predicted rating.
            let (ranked, _) = ranking(&set, seen, items.len(), k, false, scores)?;
            let (by_mean, _) = ranking(&set, seen, items.len(), k, false, |_| Ok(means.clone()))?;
            (
                blank(kind.name(), pairs, Figures::Ratings { rmse, mae, coverage: ranked.coverage }),
                blank(
                    "item mean rating",
                    pairs,
                    Figures::Ratings { rmse: base_rmse, mae: base_mae, coverage: by_mean.coverage },
                ),
            )
        }
        ModelKind::Implicit => {
            let (r, users) = ranking(&set, seen, items.len(), k, true, scores)?;
            let (b, _) = ranking(&set, seen, items.len(), k, true, |_| Ok(popularity.clone()))?;
            let users = users.len();
            (blank(kind.name(), users, Figures::Ranking(r)), blank("popularity", users, Figures::Ranking(b)))
        }
    };
    if ev.evaluated == 0 {
        return Err(nothing_evaluated(test, &set, kind));
    }
    ev.baseline = Some(Box::new(base));
    Ok(ev)
}

/// A metric's value and the per-unit values it is computed from, so that
/// two models trained on the same data can be compared unit by unit.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricValues {
    /// The metric.
    pub value: f64,
    /// One value per unit, in an order that is the same for every model
    /// trained on the same data: each user's figure for ranking metrics (the
    /// metric is their mean), each test pair's squared error for RMSE (the
    /// metric is the root of their mean) or absolute error for MAE.
    pub units: Vec<f64>,
    /// The user of each unit, as their index in the test interactions'
    /// user table: the same on every split of one data set, so a user's
    /// units on several splits can be told apart from independent ones.
    pub users: Vec<u32>,
}

/// `metric` alone of `model` on `test`: no baseline, and no figure the
/// metric does not need (AUC sorts every item's score). What a search
/// scores its settings by, in a fraction of [`evaluate_known`]'s time.
pub fn metric_known(model: &Model, known: &Known, test: &Interactions, metric: Metric) -> Result<MetricValues> {
    let items = &model.items;
    let kind = items.meta().params.kind;
    metric.check(kind)?;
    let set = test_set(model, test);
    let test_user = |row: usize| set.test_users[&row];
    let (units, users): (Vec<f64>, Vec<u32>) = match metric {
        Metric::Rmse | Metric::Mae => {
            let e = errors(&set, |u, i| predicted_rating(model, u, i))?;
            let squared = metric == Metric::Rmse;
            let owners = set.users.iter().flat_map(|(u, pairs)| std::iter::repeat_n(test_user(*u), pairs.len()));
            e.into_iter().map(|e| if squared { e * e } else { e.abs() }).zip(owners).unzip()
        }
        m => {
            let users = if matches!(m, Metric::Auc | Metric::Mpr) {
                ranking(&set, &known.seen, items.len(), m.k(), true, |u| user_scores(model, u))?.1
            } else {
                ranking_at_k(model, &set, &known.seen, m.k())?
            };
            users
                .iter()
                .filter_map(|u| {
                    let value = match m {
                        Metric::Precision(_) => Some(u.at_k.precision),
                        Metric::Recall(_) => Some(u.at_k.recall),
                        Metric::Map(_) => Some(u.at_k.average_precision),
                        Metric::Ndcg(_) => Some(u.at_k.ndcg),
                        Metric::Auc => u.auc.map(|a| a.0),
                        _ => u.auc.map(|a| a.1),
                    };
                    value.map(|v| (v, test_user(u.user)))
                })
                .unzip()
        }
    };
    if units.is_empty() {
        return Err(nothing_evaluated(test, &set, kind));
    }
    let mean = units.iter().sum::<f64>() / units.len() as f64;
    let value = if metric == Metric::Rmse { mean.sqrt() } else { mean };
    Ok(MetricValues { value, units, users })
}

/// The rating `model` predicts for user row `u` and item row `i`, clipped to
/// the training range.
fn predicted_rating(model: &Model, u: usize, i: usize) -> Result<f32> {
    let items = &model.items;
    Ok(items.present(items.predict(&model.user_at(u), i).map_err(Error::Scoring)?))
}

/// Every item's score for user row `u`.
fn user_scores(model: &Model, u: usize) -> Result<Vec<f32>> {
    model.items.score_all(&model.user_at(u)).map_err(Error::Scoring)
}

fn nothing_evaluated(test: &Interactions, set: &TestSet, kind: ModelKind) -> Error {
    Error::Data(format!(
        "none of the {} test interactions could be evaluated ({} with a user the model does not know, {} with \
         an item it does not know{})",
        test.len(),
        set.unknown_user,
        set.unknown_item,
        match kind {
            ModelKind::Implicit => "; the rest are not positive or are the user's training items",
            ModelKind::Explicit => "",
        }
    ))
}

/// Each model item's mean training rating (the model's μ where the training
/// file has none, or is not given).
fn item_means(model: &Model, train: Option<&Interactions>) -> Vec<f32> {
    let meta = model.items.meta();
    let fallback = if meta.params.uses_biases() { meta.global_mean } else { (meta.rating_min + meta.rating_max) / 2.0 };
    let mut sums = vec![(0.0f64, 0usize); model.items.len()];
    if let Some(train) = train {
        for (&i, &r) in train.item.iter().zip(&train.value) {
            if let Some(i) = model.items.index_of(train.items.id(i)) {
                sums[i].0 += r as f64;
                sums[i].1 += 1;
            }
        }
    }
    sums.iter().map(|&(s, n)| if n > 0 { (s / n as f64) as f32 } else { fallback }).collect()
}
