//! The item side of a model, ready to score: recommendations for known
//! users and for visitors folded in from their history, similar items and
//! popular items.
//!
//! [`ItemModel`] needs only the item factor file, which is what a web page
//! downloads: fold-in solves the visitor's row with the same [`RowSolver`]
//! that training uses, against the item factors (and YᵀY for implicit models).

use std::collections::HashMap;
use std::hash::BuildHasher;

use super::{ModelError, Recommendation, Recommendations, UserVector};
use crate::format::{FactorFile, ItemDetails, ItemInfo, Metadata, Side};
use crate::linalg;
use crate::normal_eq::{FixedSide, Row, RowSolver, SolveError};
use crate::params::{ModelKind, SolverOptions};
use crate::prior::{solve_with_prior, GaussianPrior, LearnedPrior, PriorSolver};
use crate::quant::Factors;
use crate::scoring::{Catalogue, Int8Rows, ItemPanels, Offsets};
use crate::topk::top_k;

/// The item side of a model as plain rows: what an item factor file holds,
/// decoded, or what training leaves in memory.
#[derive(Debug, Clone)]
pub struct ItemRows {
    /// The side's metadata (`side` is [`Side::Items`]).
    pub meta: Metadata,
    /// Item IDs by row.
    pub ids: Vec<String>,
    /// rows × `meta.params.factors` values, in any storage type.
    pub factors: Factors,
    /// One bias per row (explicit models with biases), else `None`.
    pub biases: Option<Vec<f32>>,
    /// YᵀY (implicit models: fold-in needs it).
    pub gram: Option<Vec<f32>>,
    /// Training interactions per item (cold-start ranking).
    pub popularity: Vec<u32>,
    /// Names, links and images.
    pub info: ItemInfo,
    /// A Bayesian model's learned prior: fold-in solves with it.
    pub prior: Option<LearnedPrior>,
}

/// The item side of a model, ready to score.
#[derive(Debug, Clone)]
pub struct ItemModel {
    meta: Metadata,
    ids: Vec<String>,
    index: IdIndex,
    catalogue: Catalogue,
    biases: Option<Vec<f32>>,
    norms: Vec<f32>,
    /// The largest item norm and item term magnitude (NaN when any is),
    /// in f64: what bounds another scorer's rounding
    /// ([`Self::shortlist_top_rows`]), found the first time it is needed.
    reach: std::sync::OnceLock<(f64, f64)>,
    gram: Option<Vec<f32>>,
    popularity: Vec<u32>,
    info: ItemInfo,
    prior: Option<LearnedPrior>,
}

impl ItemModel {
    /// Builds the model from an item factor file (any storage type).
    pub fn new(file: FactorFile) -> Result<Self, ModelError> {
        if file.meta.side != Side::Items {
            return Err(ModelError::NotItems);
        }
        let biases = if file.meta.params.uses_biases() { file.biases } else { None };
        let popularity = file.popularity.unwrap_or_else(|| vec![0; file.ids.len()]);
        Self::from_rows(ItemRows {
            meta: file.meta,
            ids: file.ids,
            factors: file.factors,
            biases,
            gram: file.gram,
            popularity,
            info: file.info.unwrap_or_default(),
            prior: file.prior,
        })
    }

    /// Builds the model from rows in memory (a model just trained, or a
    /// file's), without encoding them as a file first. i8 factors stay i8
    /// in memory and are scanned as integers, with the results their
    /// decoded f32 values give ([`crate::scoring`]); others are decoded.
    pub fn from_rows(rows: ItemRows) -> Result<Self, ModelError> {
        let ItemRows { meta, ids, factors, biases, gram, popularity, info, prior } = rows;
        let f = meta.params.factors;
        let scales = match &factors {
            Factors::I8 { scales, .. } => scales.len(),
            _ => ids.len(),
        };
        if factors.len() != ids.len() * f || scales != ids.len() {
            let shape = format!("{} factor values and {scales} scales for {} items × {f}", factors.len(), ids.len());
            return Err(ModelError::Format(crate::format::FormatError::Corrupt(shape)));
        }
        let catalogue = match factors {
            Factors::I8 { scales, values } => Catalogue::Int8(Int8Rows::new(values, scales, f)),
            other => Catalogue::Panels(ItemPanels::from_factors(&other, f)),
        };
        let norms = (0..catalogue.items()).map(|i| catalogue.norm(i)).collect();
        let index = IdIndex::new(&ids)?;
        Ok(Self {
            meta,
            ids,
            index,
            catalogue,
            biases,
            norms,
            reach: std::sync::OnceLock::new(),
            gram,
            popularity,
            info,
            prior,
        })
    }

    /// Parses an item factor file from bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        Self::new(FactorFile::from_bytes(bytes)?)
    }

    /// The file's metadata.
    pub fn meta(&self) -> &Metadata {
        &self.meta
    }

    /// A Bayesian model's learned prior (`None` for ALS models).
    pub fn prior(&self) -> Option<&LearnedPrior> {
        self.prior.as_ref()
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the model has no items.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Item IDs in row order.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The row of an item ID.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.index.get(&self.ids, id)
    }

    /// The name, link and image of the item at `row`, where the model has them.
    pub fn details(&self, row: usize) -> ItemDetails {
        self.info.get(row)
    }

    /// All items' details (empty when the model has none).
    pub fn info(&self) -> &ItemInfo {
        &self.info
    }

    /// The names, links and images this model gives `ids` (items of another
    /// file, such as a rules file), in their order; fields no item has are left out.
    pub fn info_for(&self, ids: &[String]) -> ItemInfo {
        let mut info = ItemInfo::default();
        for id in ids {
            let d = self.index_of(id).map(|row| self.details(row)).unwrap_or_default();
            info.names.push(d.name.as_deref().unwrap_or_default());
            info.urls.push(d.url.as_deref().unwrap_or_default());
            info.images.push(d.image.as_deref().unwrap_or_default());
        }
        for field in [&mut info.names, &mut info.urls, &mut info.images] {
            if field.iter().all(str::is_empty) {
                field.clear();
            }
        }
        info
    }

    /// Training interactions per item.
    pub fn popularity(&self) -> &[u32] {
        &self.popularity
    }

    /// Solves a visitor's row from (item row, weight) pairs: weight is the
    /// rating for explicit models and the interaction strength for implicit
    /// ones. Repeated items are merged as training merges duplicates by
    /// default ([`merged`]). A Bayesian model's visitor gets the mean of
    /// their row's posterior under the learned prior ([`crate::prior`]).
    pub fn fold_in(&self, history: &[(usize, f32)]) -> Result<UserVector, ModelError> {
        let fixed_row = |i: usize, out: &mut Vec<f32>| {
            out.extend(self.catalogue.row(i));
            if let Some(b) = &self.biases {
                out.push(b[i]);
            }
        };
        let fixed = Fixed { rows: self.len(), gram: self.gram.as_deref(), global_mean: self.meta.global_mean };
        solve_row(self.meta.params, history, fixed, fixed_row, self.prior_of(Side::Users))
    }

    /// The prior and noise precision of `side`'s rows, for a Bayesian model.
    pub(super) fn prior_of(&self, side: Side) -> Option<(&GaussianPrior, f32)> {
        self.prior.as_ref().map(|p| (p.side(side), p.noise))
    }

    /// Checks a user vector's length and returns the constant its scores
    /// share (μ + b_u for explicit models with biases, else 0).
    pub fn user_constant(&self, user: &UserVector) -> Result<f32, ModelError> {
        let p = self.meta.params;
        if user.0.len() != p.dim() {
            return Err(ModelError::Dimension(user.0.len(), p.dim()));
        }
        Ok(if p.uses_biases() { self.meta.global_mean + user.0[p.factors] } else { 0.0 })
    }

    fn offsets(&self) -> Offsets<'_> {
        Offsets { item: self.biases.as_deref() }
    }

    /// What another scorer (the GPU's top-k kernel) needs to give the
    /// scores this model gives: the item factors row by row (items ×
    /// factors) and the per-item terms (explicit models' item biases). A
    /// user's score for item i is its factors · row i + term i + its
    /// [`user_constant`](Self::user_constant).
    pub fn scoring_terms(&self) -> (Vec<f32>, Option<&[f32]>) {
        (self.factor_rows(0..self.len()), self.item_terms())
    }

    /// The per-item terms of [`scoring_terms`](Self::scoring_terms)
    /// (explicit models' item biases), or `None` when every one is 0.
    pub fn item_terms(&self) -> Option<&[f32]> {
        self.biases.as_deref()
    }

    /// The factors of the items at `rows`, row by row, as f32 (an i8 or
    /// f16 file's decoded): [`scoring_terms`](Self::scoring_terms) a part
    /// at a time, for a scorer that uploads a large catalogue in pieces.
    pub fn factor_rows(&self, rows: std::ops::Range<usize>) -> Vec<f32> {
        rows.flat_map(|i| self.catalogue.row(i)).collect()
    }

    /// Recommendations from (item row, unclipped score) pairs, best first,
    /// presented as [`recommend`](Self::recommend) presents them.
    pub fn present_top(&self, top: Vec<(usize, f32)>) -> Vec<Recommendation> {
        self.named(top, |s| self.present(s))
    }

    /// Scores every item for `user` (unclipped), in row order.
    pub fn score_all(&self, user: &UserVector) -> Result<Vec<f32>, ModelError> {
        let constant = self.user_constant(user)?;
        let mut out = vec![0.0; self.len()];
        self.catalogue.score_all(&user.0[..self.meta.params.factors], self.offsets(), constant, &mut out);
        Ok(out)
    }

    /// The unclipped score of one item for `user` (see [`present`](Self::present)).
    pub fn predict(&self, user: &UserVector, item: usize) -> Result<f32, ModelError> {
        let constant = self.user_constant(user)?;
        let y = self.catalogue.row(item);
        let bias = self.biases.as_ref().map_or(0.0, |b| b[item]);
        Ok(linalg::dot_product(&user.0[..self.meta.params.factors], &y) + bias + constant)
    }

    /// Clips an explicit model's prediction to the training rating range.
    pub fn present(&self, score: f32) -> f32 {
        match self.meta.params.kind {
            ModelKind::Explicit => score.clamp(self.meta.rating_min, self.meta.rating_max),
            ModelKind::Implicit => score,
        }
    }

    /// The `k` best items for `user`, never one of `exclude` (item rows);
    /// nothing else is left out ([`Model::recommend_user`](super::Model::recommend_user)
    /// leaves out a known user's training items).
    pub fn recommend(&self, user: &UserVector, k: usize, exclude: &[usize]) -> Result<Vec<Recommendation>, ModelError> {
        Ok(self.recommend_block(&[user], k, &[exclude])?.pop().unwrap_or_default())
    }

    /// [`recommend`](Self::recommend) for a block of users at once: the same
    /// results, faster per user, as the item factors are read once per block.
    pub fn recommend_block(
        &self,
        users: &[&UserVector],
        k: usize,
        excludes: &[&[usize]],
    ) -> Result<Vec<Vec<Recommendation>>, ModelError> {
        let tops = self.top_rows_block(users, k, excludes)?;
        Ok(tops.into_iter().map(|top| self.named(top, |s| s)).collect())
    }

    /// [`recommend_block`](Self::recommend_block) as (item row, presented
    /// score) pairs, best first: for callers that name items by row (the
    /// Python package's positional IDs).
    pub fn top_rows_block(
        &self,
        users: &[&UserVector],
        k: usize,
        excludes: &[&[usize]],
    ) -> Result<Vec<Vec<(usize, f32)>>, ModelError> {
        assert_eq!(users.len(), excludes.len(), "one exclusion list per user");
        // No list is longer than the catalogue: k bounds nothing else.
        let k = k.min(self.len());
        let constants = users.iter().map(|u| self.user_constant(u)).collect::<Result<Vec<_>, _>>()?;
        let f = self.meta.params.factors;
        let vectors: Vec<&[f32]> = users.iter().map(|u| &u.0[..f]).collect();
        let sorted: Vec<Vec<usize>> = excludes
            .iter()
            .map(|e| {
                let mut e = e.to_vec();
                e.sort_unstable();
                e
            })
            .collect();
        let sorted: Vec<&[usize]> = sorted.iter().map(Vec::as_slice).collect();
        let tops = self.catalogue.top_k_block(&vectors, &constants, &sorted, self.offsets(), k);
        Ok(tops.into_iter().map(|top| top.into_iter().map(|(i, s)| (i, self.present(s))).collect()).collect())
    }

    /// Splits a history of (item ID, weight) into the known items as (row,
    /// weight), in order, and the IDs the model does not know, each once in
    /// first-seen order (in linear time: a history may hold 100,000 of them).
    pub fn resolve<'a>(&self, history: impl IntoIterator<Item = (&'a str, f32)>) -> (Vec<(usize, f32)>, Vec<String>) {
        let (mut known, mut unknown) = (Vec::new(), Vec::new());
        let mut reported = std::collections::HashSet::new();
        for (id, w) in history {
            match self.index_of(id) {
                Some(i) => known.push((i, w)),
                None if reported.insert(id) => unknown.push(id.to_string()),
                None => {}
            }
        }
        (known, unknown)
    }

    /// Recommendations for a visitor given their history of (item ID, weight):
    /// unknown IDs are reported, not fatal; with no known item the visitor gets
    /// the popular items (`cold_start`).
    pub fn recommend_history(&self, history: &[(String, f32)], k: usize) -> Result<Recommendations, ModelError> {
        let (known, unknown) = self.resolve(history.iter().map(|(id, w)| (id.as_str(), *w)));
        let (top, cold_start) = self.history_top_rows(&known, k)?;
        Ok(Recommendations { items: self.named(top, |s| s), cold_start, unknown })
    }

    /// [`recommend_history`](Self::recommend_history) for a history already
    /// resolved to (item row, weight): the `k` best (item row, presented
    /// score) pairs, the history's items left out, and whether the visitor
    /// got the popular items for want of any history (`cold_start`).
    pub fn history_top_rows(&self, known: &[(usize, f32)], k: usize) -> Result<(Vec<(usize, f32)>, bool), ModelError> {
        if known.is_empty() {
            return Ok((self.popular_rows(k), true));
        }
        let user = self.fold_in(known)?;
        Ok((self.visitor_top_rows(&user, known, k)?, false))
    }

    /// The `k` best (item row, presented score) pairs for a visitor folded
    /// in from `known` (their history, resolved), its items left out.
    pub fn visitor_top_rows(
        &self,
        user: &UserVector,
        known: &[(usize, f32)],
        k: usize,
    ) -> Result<Vec<(usize, f32)>, ModelError> {
        let exclude: Vec<usize> = known.iter().map(|&(i, _)| i).collect();
        Ok(self.top_rows_block(&[user], k, &[&exclude])?.pop().unwrap_or_default())
    }

    /// [`visitor_top_rows`](Self::visitor_top_rows) from a shortlist that
    /// another scorer chose (the web page's WebGPU top-k kernel, whose sums
    /// round differently), or `None` when the shortlist cannot be shown to
    /// hold the answer (then scan in full).
    ///
    /// The shortlist's items are scored, and ties broken, as the full scan
    /// scores and breaks them. `cutoff` is the lowest score the other scorer
    /// kept — every item it left out scored at most that — or `None` when
    /// it kept every item not left out. This model's f32 scores and a
    /// GPU's of x·y + b + c can differ by at most δ, however each orders,
    /// fuses and rounds its sums ([`shortlist_tolerance`](Self::shortlist_tolerance)
    /// derives δ); the answer is given only when the k-th best exact score
    /// exceeds `cutoff` + 2δ, so no item outside the shortlist can reach or
    /// tie it. Items that are not a number, or sums that could overflow,
    /// give `None`.
    pub fn shortlist_top_rows(
        &self,
        user: &UserVector,
        known: &[(usize, f32)],
        shortlist: &[usize],
        cutoff: Option<f32>,
        k: usize,
    ) -> Result<Option<Vec<(usize, f32)>>, ModelError> {
        let constant = self.user_constant(user)?;
        let k = k.min(self.len());
        let x = &user.0[..self.meta.params.factors];
        let Some(tolerance) = self.shortlist_tolerance(x, constant) else { return Ok(None) };
        let mut exclude: Vec<usize> = known.iter().map(|&(i, _)| i).collect();
        exclude.sort_unstable();
        let top = self.catalogue.shortlist_top_k(shortlist, x, constant, &exclude, self.offsets(), k);
        if let Some(cutoff) = cutoff {
            let proven =
                top.len() == k && top.last().is_none_or(|&(_, s)| f64::from(s) > f64::from(cutoff) + tolerance);
            if !proven {
                return Ok(None);
            }
        }
        Ok(Some(top.into_iter().map(|(i, s)| (i, self.present(s))).collect()))
    }

    /// Twice the most another f32 scorer's score for any item can differ
    /// from this model's for the user `x` with `constant` (see
    /// [`shortlist_top_rows`](Self::shortlist_top_rows)); `None` when a sum
    /// could overflow f32 or a term is not a number.
    ///
    /// Each score sums F products and two terms: in any order, fused or
    /// not, its distance from the exact sum is at most γ·R, R = Σ|x_k·y_k| +
    /// |b| + |c| ≤ ‖x‖·max‖y‖ + max|b| + |c|, with γ = n·u/(1 − n·u), n =
    /// F + 2 and u the unit roundoff: 2⁻²⁴ here (round to nearest), 2⁻²³ on
    /// a GPU (WGSL lets its "correctly rounded" operations round either
    /// way). A GPU may also flush subnormals to zero, inputs and results:
    /// at most 2⁻¹²⁶ each, times |y_k| or |x_k| for an input (√F·‖·‖ in
    /// all) and once per operation for a result. The sum of both scorers'
    /// bounds, twice over for what this analysis leaves out (as the i8
    /// scan's bound is taken twice over).
    fn shortlist_tolerance(&self, x: &[f32], constant: f32) -> Option<f64> {
        let (largest_norm, largest_term) = *self.reach.get_or_init(|| {
            // In f64 from the rows: f32 sums of squares can underflow.
            let norm = (0..self.len())
                .map(|i| self.catalogue.row(i).iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>().sqrt())
                .fold(0.0, largest);
            let term = self.biases.iter().flatten().map(|b| f64::from(b.abs())).fold(0.0, largest);
            (norm, term)
        });
        let f = self.meta.params.factors as f64;
        let n = f + 2.0;
        let gamma = |u: f64| n * u / (1.0 - n * u);
        let x_norm = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>().sqrt();
        let reach = x_norm * largest_norm + largest_term + f64::from(constant).abs();
        // NaN fails this too.
        if reach.partial_cmp(&(f64::from(f32::MAX) / 4.0)) != Some(std::cmp::Ordering::Less) {
            return None;
        }
        let tiny = f64::from(f32::MIN_POSITIVE);
        let flushed = tiny * (f.sqrt() * (x_norm + largest_norm) + 2.0) + 2.0 * n * tiny;
        Some(2.0 * ((gamma(2f64.powi(-24)) + gamma(2f64.powi(-23))) * reach + flushed))
    }

    /// The `k` items most similar to the item with this ID; `None` for an
    /// item the model does not know.
    pub fn similar_to(&self, id: &str, k: usize) -> Option<Vec<Recommendation>> {
        self.index_of(id).map(|row| self.similar(row, k))
    }

    /// The `k` items most similar to the item at row `item` (cosine of the
    /// factor vectors).
    pub fn similar(&self, item: usize, k: usize) -> Vec<Recommendation> {
        self.named(self.similar_rows(item, k, |i| i == item), |s| s)
    }

    /// The `k` item rows most similar to the item at row `item` (cosine of
    /// the factor vectors; 0 for a vector of zeros) with their similarity,
    /// best first, leaving out the rows `skip` names (the item itself is
    /// not left out unless `skip` says so, as benfred/implicit's
    /// `similar_items` ranks it first).
    pub fn similar_rows(&self, item: usize, k: usize, skip: impl Fn(usize) -> bool) -> Vec<(usize, f32)> {
        let k = k.min(self.len());
        let q = self.catalogue.row(item);
        let mut scores = vec![0.0; self.len()];
        self.catalogue.score_all(&q, Offsets { item: None }, 0.0, &mut scores);
        let qn = self.norms[item];
        for (s, &n) in scores.iter_mut().zip(&self.norms) {
            *s = if qn > 0.0 && n > 0.0 { *s / (qn * n) } else { 0.0 };
        }
        top_k(&scores, k, skip)
    }

    /// The `k` items with the most training interactions.
    pub fn popular(&self, k: usize) -> Vec<Recommendation> {
        self.named(self.popular_rows(k), |s| s)
    }

    /// [`popular`](Self::popular) as (item row, training count) pairs.
    pub fn popular_rows(&self, k: usize) -> Vec<(usize, f32)> {
        let counts: Vec<f32> = self.popularity.iter().map(|&c| c as f32).collect();
        top_k(&counts, k.min(self.len()), |_| false)
    }

    fn named(&self, top: Vec<(usize, f32)>, present: impl Fn(f32) -> f32) -> Vec<Recommendation> {
        top.into_iter().map(|(i, s)| self.recommendation(i, present(s))).collect()
    }

    /// The item at `row` with `score`, named as the model names it.
    pub fn recommendation(&self, row: usize, score: f32) -> Recommendation {
        Recommendation { item: self.ids[row].clone(), score, details: self.info.get(row) }
    }
}

/// The larger of `m` and `v`, NaN when either is: a fold that keeps a NaN.
fn largest(m: f64, v: f64) -> f64 {
    if v > m || v.is_nan() {
        v
    } else {
        m
    }
}

/// Item rows by ID: a hash table of row numbers, each hashed by the ID it
/// names in the model's ID list, so the IDs are stored once (a million of
/// them as keys of their own took 62 MB more in a web page).
#[derive(Debug, Clone)]
struct IdIndex {
    rows: hashbrown::HashTable<u32>,
    hasher: std::hash::RandomState,
}

impl IdIndex {
    /// Indexes `ids`; an ID that appears twice is an error.
    fn new(ids: &[String]) -> Result<Self, ModelError> {
        let hasher = std::hash::RandomState::new();
        let mut rows = hashbrown::HashTable::with_capacity(ids.len());
        let hash = |row: &u32| hasher.hash_one(ids[*row as usize].as_str());
        for (row, id) in ids.iter().enumerate() {
            match rows.entry(hasher.hash_one(id.as_str()), |&r| ids[r as usize] == *id, hash) {
                hashbrown::hash_table::Entry::Occupied(_) => return Err(ModelError::DuplicateId(id.clone())),
                hashbrown::hash_table::Entry::Vacant(slot) => {
                    slot.insert(row as u32);
                }
            }
        }
        Ok(Self { rows, hasher })
    }

    /// The row of `id` in `ids` (the list it was built from).
    fn get(&self, ids: &[String], id: &str) -> Option<usize> {
        self.rows.find(self.hasher.hash_one(id), |&r| ids[r as usize] == id).map(|&r| r as usize)
    }
}

/// A history's repeated rows merged as training merges duplicates by
/// default (summed for implicit models, the last value for explicit ones),
/// in first-seen order, in linear time.
pub fn merged(kind: ModelKind, history: &[(usize, f32)]) -> Vec<(u32, f32)> {
    let mut merged: Vec<(u32, f32)> = Vec::with_capacity(history.len());
    let mut position: HashMap<usize, usize> = HashMap::with_capacity(history.len());
    for &(i, w) in history {
        match position.get(&i) {
            Some(&at) if kind == ModelKind::Implicit => merged[at].1 += w,
            Some(&at) => merged[at].1 = w,
            None => {
                position.insert(i, merged.len());
                merged.push((i as u32, w));
            }
        }
    }
    merged
}

/// What [`solve_row`] needs of the fixed side beside its rows.
pub(super) struct Fixed<'a> {
    /// Its row count.
    pub rows: usize,
    /// YᵀY (implicit models).
    pub gram: Option<&'a [f32]>,
    /// μ (explicit models with biases).
    pub global_mean: f32,
}

/// Solves one row against a fixed side from (fixed row, value) pairs,
/// exactly as training solves it: a visitor against the items, or an item
/// against the users. `fixed_row(r, out)` appends row `r`'s `dim` values
/// (factors, then the bias when the model has biases). With `prior` (a
/// Bayesian model's, with its noise precision) the row is its posterior's
/// mean; otherwise ALS's exact solve.
pub(super) fn solve_row(
    p: crate::params::ModelParams,
    history: &[(usize, f32)],
    fixed: Fixed<'_>,
    fixed_row: impl Fn(usize, &mut Vec<f32>),
    prior: Option<(&GaussianPrior, f32)>,
) -> Result<UserVector, ModelError> {
    let n = fixed.rows;
    if let Some(&(i, _)) = history.iter().find(|(i, _)| *i >= n) {
        return Err(SolveError::IndexOutOfRange(i, n).into());
    }
    let merged = merged(p.kind, history);
    // The fixed side needs only the history's rows: gather them.
    let mut rows = Vec::with_capacity(merged.len() * p.dim());
    for &(i, _) in &merged {
        fixed_row(i as usize, &mut rows);
    }
    let cols: Vec<u32> = (0..merged.len() as u32).collect();
    let vals: Vec<f32> = merged.iter().map(|&(_, w)| w).collect();
    let side = FixedSide { factors: &rows, gram: fixed.gram, global_mean: fixed.global_mean, rows: n };
    let row = Row { cols: &cols, vals: &vals };
    let mut x = vec![0.0; p.dim()];
    match prior {
        Some((prior, noise)) => {
            solve_with_prior(&mut PriorSolver::new(prior, noise, p.factors, p.uses_biases()), &side, row, &mut x)?
        }
        None => RowSolver::new(p).solve(&side, row, SolverOptions::cholesky(), &mut x)?,
    }
    Ok(UserVector(x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::tests_support::item_file;

    #[test]
    fn cold_start_and_unknown_items_are_reported() {
        let m = ItemModel::new(item_file(ModelKind::Implicit)).unwrap();
        let r = m.recommend_history(&[("nope".into(), 1.0)], 2).unwrap();
        assert!(r.cold_start);
        assert_eq!(r.unknown, vec!["nope".to_string()]);
        assert_eq!(r.items.iter().map(|x| x.item.as_str()).collect::<Vec<_>>(), vec!["i0", "i2"]);
    }

    #[test]
    fn many_unknown_items_are_each_reported_once() {
        let m = ItemModel::new(item_file(ModelKind::Implicit)).unwrap();
        let mut history: Vec<(String, f32)> = (0..100_000).map(|i| (format!("nope{}", i % 50_000), 1.0)).collect();
        history.push(("i1".into(), 1.0));
        let r = m.recommend_history(&history, 2).unwrap();
        assert!(!r.cold_start);
        assert_eq!(r.unknown.len(), 50_000);
        assert_eq!(r.unknown[..2], ["nope0".to_string(), "nope1".to_string()], "in first-seen order");
    }

    #[test]
    fn history_items_are_excluded_and_scores_descend() {
        for kind in [ModelKind::Implicit, ModelKind::Explicit] {
            let m = ItemModel::new(item_file(kind)).unwrap();
            let r = m.recommend_history(&[("i1".into(), 5.0), ("i3".into(), 4.0)], 10).unwrap();
            assert!(!r.cold_start);
            assert_eq!(r.items.len(), m.len() - 2);
            assert!(r.items.iter().all(|x| x.item != "i1" && x.item != "i3"));
            assert!(r.items.windows(2).all(|w| w[0].score >= w[1].score));
        }
    }

    #[test]
    fn similar_ranks_parallel_vectors_first() {
        let m = ItemModel::new(item_file(ModelKind::Implicit)).unwrap();
        // i0 = (1, 0), i4 = (2, 0.1): nearly parallel.
        let s = m.similar(0, 1);
        assert_eq!(s[0].item, "i4");
        assert!(s[0].score > 0.99 && s[0].score <= 1.0 + 1e-6);
    }

    #[test]
    fn every_id_is_found_at_its_row_and_a_repeated_id_is_refused() {
        let mut f = item_file(ModelKind::Implicit);
        f.ids = vec!["a".into(), "".into(), "ü".into(), "a ".into(), "b".into()];
        let m = ItemModel::new(f.clone()).unwrap();
        for (row, id) in f.ids.iter().enumerate() {
            assert_eq!(m.index_of(id), Some(row), "{id:?}");
        }
        assert_eq!(m.index_of("c"), None);
        f.ids[4] = "ü".into();
        assert_eq!(ItemModel::new(f).unwrap_err(), ModelError::DuplicateId("ü".into()));
    }

    #[test]
    fn an_i8_file_scores_as_its_decoded_f32_values() {
        // The integer scan (i8 kept in memory) against the f32 panels of the
        // same values, through the dispatch every caller uses.
        let (n, f) = (700, 20);
        let mut file = item_file(ModelKind::Explicit);
        file.meta.params.factors = f;
        let values: Vec<f32> = (0..n * f).map(|i| ((i * 7919 % 2003) as f32 / 1001.0) - 1.0).collect();
        file.factors = Factors::encode(&values, f, crate::params::Dtype::I8);
        file.ids = (0..n).map(|i| format!("i{i}")).collect();
        file.biases = Some((0..n).map(|i| (i % 9) as f32 * 0.05).collect());
        file.popularity = Some(vec![1; n]);
        file.gram = None;
        let mut decoded = file.clone();
        decoded.factors = Factors::F32(file.factors.to_f32(f));
        let (int8, f32s) = (ItemModel::new(file).unwrap(), ItemModel::new(decoded).unwrap());
        assert!(matches!(int8.catalogue, Catalogue::Int8(_)) && matches!(f32s.catalogue, Catalogue::Panels(_)));
        for h in 0..20 {
            let history: Vec<(String, f32)> =
                (0..1 + h % 6).map(|j| (format!("i{}", (h * 31 + j * 97) % n), 1.0 + (j % 5) as f32)).collect();
            assert_eq!(int8.recommend_history(&history, 10).unwrap(), f32s.recommend_history(&history, 10).unwrap());
        }
        assert_eq!(int8.similar(3, 10), f32s.similar(3, 10));
        let user = UserVector((0..=f).map(|k| k as f32 / 10.0 - 1.0).collect());
        assert_eq!(int8.score_all(&user).unwrap(), f32s.score_all(&user).unwrap());
    }

    /// An explicit model with biases over `n` random items of `f` factors, in `dtype`.
    fn random_model(n: usize, f: usize, dtype: crate::params::Dtype, seed: u64) -> ItemModel {
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        };
        let mut file = item_file(ModelKind::Explicit);
        file.meta.params.factors = f;
        let values: Vec<f32> = (0..n * f).map(|_| next()).collect();
        file.factors = Factors::encode(&values, f, dtype);
        file.ids = (0..n).map(|i| format!("i{i}")).collect();
        file.biases = Some((0..n).map(|_| next() * 0.3).collect());
        file.popularity = Some(vec![1; n]);
        file.gram = None;
        ItemModel::new(file).unwrap()
    }

    #[test]
    fn a_shortlist_from_a_scorer_that_rounds_differently_ranks_as_the_full_scan() {
        // The other scorer: each item's exact sum (f64) moved by up to the
        // most two f32 scorers can differ, its k + 8 best kept (as the
        // page's WebGPU kernel keeps them).
        let (n, f, k) = (3000, 24, 10);
        for dtype in [crate::params::Dtype::F32, crate::params::Dtype::I8] {
            let m = random_model(n, f, dtype, 7);
            let mut given = 0;
            for t in 0..60u32 {
                let user = UserVector((0..=f).map(|j| ((t * 37 + j as u32 * 11) % 23) as f32 / 11.0 - 1.0).collect());
                let known: Vec<(usize, f32)> =
                    (0..t as usize % 7).map(|j| ((t as usize * 131 + j * 977) % n, 1.0)).collect();
                let constant = m.user_constant(&user).unwrap();
                let x = &user.0[..f];
                let shift = m.shortlist_tolerance(x, constant).unwrap() / 4.0;
                let mut other: Vec<(usize, f32)> = (0..n)
                    .filter(|i| !known.iter().any(|&(r, _)| r == *i))
                    .map(|i| {
                        let exact: f64 =
                            m.catalogue.row(i).iter().zip(x).map(|(&y, &v)| f64::from(y) * f64::from(v)).sum::<f64>()
                                + f64::from(m.biases.as_ref().unwrap()[i])
                                + f64::from(constant);
                        let wobble = ((i as u64 * 2654435761 + u64::from(t)) % 2001) as f64 / 1000.0 - 1.0;
                        (i, (exact + wobble * shift) as f32)
                    })
                    .collect();
                other.sort_unstable_by(crate::topk::better);
                other.truncate(k + 8);
                let shortlist: Vec<usize> = other.iter().map(|&(i, _)| i).collect();
                let cutoff = other.last().map(|&(_, s)| s);
                let full = m.visitor_top_rows(&user, &known, k).unwrap();
                if let Some(top) = m.shortlist_top_rows(&user, &known, &shortlist, cutoff, k).unwrap() {
                    assert_eq!(top, full, "{dtype:?}, user {t}");
                    given += 1;
                }
                // Every item and no cutoff: always the full scan's answer.
                let all: Vec<usize> = (0..n).rev().collect();
                assert_eq!(m.shortlist_top_rows(&user, &known, &all, None, k).unwrap(), Some(full));
            }
            assert!(given >= 57, "{dtype:?}: only {given} of 60 shortlists were proven");
        }
    }

    #[test]
    fn a_gpu_that_rounds_every_score_against_the_answer_is_caught() {
        // g = the most a GPU may move a score here (every operation rounded
        // the wrong way, u = 2⁻²³). Exact scores: A at 0, B at -0.1g, eight
        // more between -1.9g and -1.55g, the rest at -10g. A GPU that moves A
        // down by g and every other item up by g keeps B and the eight as its
        // best 9 (the cutoff -0.9g) and leaves A out; B beats that cutoff,
        // yet A is the best item. Refused by a tolerance above 0.8g.
        let (n, f) = (50, 16);
        let x: Vec<f32> = vec![1.0; f];
        let base: Vec<f32> = (0..f).map(|j| 0.5 + j as f32 / 64.0).collect();
        let g = (f as f64 + 2.0) * 2f64.powi(-23) * base.iter().map(|&v| f64::from(v)).sum::<f64>();
        let offsets: Vec<f64> = (0..n)
            .map(|i| match i {
                0 => 0.0,
                1 => -0.1 * g,
                2..=9 => (-1.9 + 0.05 * (i - 2) as f64) * g,
                _ => -10.0 * g,
            })
            .collect();
        let mut rows = Vec::new();
        for &o in &offsets {
            let mut y = base.clone();
            y[0] = (f64::from(y[0]) + o) as f32;
            rows.extend(y);
        }
        let mut file = item_file(ModelKind::Implicit);
        file.meta.params.factors = f;
        file.factors = Factors::F32(rows);
        file.ids = (0..n).map(|i| format!("i{i}")).collect();
        file.popularity = Some(vec![1; n]);
        file.gram = None;
        let m = ItemModel::new(file).unwrap();
        let user = UserVector(x.clone());
        assert_eq!(m.visitor_top_rows(&user, &[], 1).unwrap()[0].0, 0, "A is the best item");
        let mut other: Vec<(usize, f32)> = (0..n)
            .map(|i| {
                let exact: f64 = m.catalogue.row(i).iter().zip(&x).map(|(&y, &v)| f64::from(y) * f64::from(v)).sum();
                (i, (exact + if i == 0 { -g } else { g }) as f32)
            })
            .collect();
        other.sort_unstable_by(crate::topk::better);
        other.truncate(9);
        let shortlist: Vec<usize> = other.iter().map(|&(i, _)| i).collect();
        assert!(!shortlist.contains(&0), "{shortlist:?}");
        let cutoff = other.last().map(|&(_, s)| s);
        assert_eq!(m.shortlist_top_rows(&user, &[], &shortlist, cutoff, 1).unwrap(), None);
    }

    #[test]
    fn a_shortlist_that_may_miss_a_better_item_is_refused() {
        // x = e₀, so an item's score is its first factor (plus its bias, 0).
        // Exact: a = 1 + 2 ulp, b = 1 + 3 ulp, c = 1. A scorer that rounded
        // b down below c's score keeps {a, c}: a beats that cutoff, yet b
        // is the best item. Without the rounding bound this is accepted.
        let ulp = f32::EPSILON;
        let mut file = item_file(ModelKind::Implicit);
        file.meta.params.factors = 2;
        file.factors = Factors::F32(vec![1.0 + 2.0 * ulp, 0.0, 1.0 + 3.0 * ulp, 0.0, 1.0, 0.0]);
        file.ids = vec!["a".into(), "b".into(), "c".into()];
        file.popularity = Some(vec![1; 3]);
        file.gram = None;
        let m = ItemModel::new(file).unwrap();
        let user = UserVector(vec![1.0, 0.0]);
        assert_eq!(m.visitor_top_rows(&user, &[], 1).unwrap()[0].0, 1);
        assert_eq!(m.shortlist_top_rows(&user, &[], &[0, 2], Some(1.0 + ulp), 1).unwrap(), None);
        // Far enough apart, the same shortlist is proven.
        let far = Some(0.5);
        assert_eq!(m.shortlist_top_rows(&user, &[], &[1, 2], far, 1).unwrap(), Some(vec![(1, 1.0 + 3.0 * ulp)]));
        // A user that is not a number proves nothing.
        assert_eq!(m.shortlist_top_rows(&UserVector(vec![f32::NAN, 0.0]), &[], &[0, 1, 2], None, 1).unwrap(), None);
    }

    #[test]
    fn rows_of_the_wrong_shape_are_an_error_not_a_panic() {
        let file = item_file(ModelKind::Implicit);
        let rows = |factors: Factors| ItemRows {
            meta: file.meta.clone(),
            ids: file.ids.clone(),
            factors,
            biases: None,
            gram: file.gram.clone(),
            popularity: vec![0; 5],
            info: ItemInfo::default(),
            prior: None,
        };
        assert!(ItemModel::from_rows(rows(Factors::I8 { scales: vec![1.0; 4], values: vec![1; 10] })).is_err());
        assert!(ItemModel::from_rows(rows(Factors::F32(vec![0.0; 9]))).is_err());
        assert!(ItemModel::from_rows(rows(Factors::I8 { scales: vec![1.0; 5], values: vec![1; 10] })).is_ok());
    }

    #[test]
    fn user_file_is_rejected() {
        let mut f = item_file(ModelKind::Implicit);
        f.meta.side = Side::Users;
        assert_eq!(ItemModel::new(f).unwrap_err(), ModelError::NotItems);
    }
}
