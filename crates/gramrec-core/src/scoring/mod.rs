//! Scoring users against every item: a register-blocked kernel over item
//! factors packed in panels, with a streaming top-k.
//!
//! Items are packed 16 to a panel, factor-major (`panel[k][j]` is factor k of
//! the panel's item j), so one pass over a panel scores 16 items for up to 4
//! users with vector fused multiply-adds and no gathers. Every score is
//! computed the same way whether one user or a block is scored (factor by
//! factor, in order, from zero), so single-user and batch recommendations
//! agree to the bit.
//!
//! An i8 file's factors are scanned as integers instead ([`int8`]), with
//! the same results; [`Catalogue`] holds either and scores with the right one.

mod int8;

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::linalg::Madd;
use crate::quant::Factors;
use crate::topk::better;

use int8::top_k as int8_top_k_scan;
pub use int8::Int8Rows;

/// Items per panel.
pub const PANEL: usize = 16;
/// Users scored together by the register-blocked kernel.
const USERS_PER_BLOCK: usize = 4;

/// Item factors packed for scoring.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemPanels {
    items: usize,
    factors: usize,
    data: Vec<f32>,
}

impl ItemPanels {
    /// Packs `rows` (items × `stride`, the first `factors` values of each row
    /// being its factors).
    pub fn new(rows: &[f32], stride: usize, factors: usize) -> Self {
        let items = rows.len().checked_div(stride).unwrap_or(0);
        let panels = items.div_ceil(PANEL);
        let mut data = vec![0.0f32; panels * PANEL * factors];
        for (i, row) in rows.chunks_exact(stride).enumerate() {
            let (p, j) = (i / PANEL, i % PANEL);
            for (k, &v) in row[..factors].iter().enumerate() {
                data[(p * factors + k) * PANEL + j] = v;
            }
        }
        Self { items, factors, data }
    }

    /// Packs a file's factors (items × `factors`, any storage) decoded a
    /// row at a time: an f16 file's are never all held as f32 twice (a
    /// million items × 64 took 256 MB more in a web page that way).
    pub fn from_factors(values: &Factors, factors: usize) -> Self {
        if let Factors::F32(rows) = values {
            return Self::new(rows, factors, factors);
        }
        let items = values.len().checked_div(factors).unwrap_or(0);
        let mut data = vec![0.0f32; items.div_ceil(PANEL) * PANEL * factors];
        let mut row = Vec::with_capacity(factors);
        for i in 0..items {
            row.clear();
            values.row_f32(i, factors, &mut row);
            let (p, j) = (i / PANEL, i % PANEL);
            for (k, &v) in row.iter().enumerate() {
                data[(p * factors + k) * PANEL + j] = v;
            }
        }
        Self { items, factors, data }
    }

    /// Number of items.
    pub fn items(&self) -> usize {
        self.items
    }

    /// Factors per item.
    pub fn factors(&self) -> usize {
        self.factors
    }

    /// Item `i`'s factors.
    pub fn row(&self, i: usize) -> Vec<f32> {
        self.values(i).collect()
    }

    /// Item `i`'s Euclidean norm.
    pub fn norm(&self, i: usize) -> f32 {
        self.values(i).map(|v| v * v).sum::<f32>().sqrt()
    }

    fn values(&self, i: usize) -> impl Iterator<Item = f32> + '_ {
        let (p, j) = (i / PANEL, i % PANEL);
        (0..self.factors).map(move |k| self.data[(p * self.factors + k) * PANEL + j])
    }

    /// x · row i as [`panel_scores`] computes it: one multiply-add per
    /// factor, in order, from zero.
    #[inline(always)]
    fn exact<M: Madd>(&self, i: usize, x: &[f32]) -> f32 {
        self.values(i).zip(x).fold(0.0, |acc, (y, &xk)| M::madd(xk, y, acc))
    }
}

/// Item factors ready to score: f32 panels, or an i8 file's rows scanned
/// as integers ([`Int8Rows`], a quarter of the memory). Both give the
/// scores and rankings the f32 panels give for the decoded factors.
#[derive(Debug, Clone, PartialEq)]
pub enum Catalogue {
    /// Exact values, packed for the register-blocked kernel.
    Panels(ItemPanels),
    /// An i8 file's values and scales.
    Int8(Int8Rows),
}

impl Catalogue {
    /// The factors as the panel kernels read them.
    fn tiles(&self) -> &dyn Tiles {
        match self {
            Catalogue::Panels(p) => p,
            Catalogue::Int8(r) => r,
        }
    }

    /// Number of items.
    pub fn items(&self) -> usize {
        self.tiles().items()
    }

    /// Item `i`'s factors.
    pub fn row(&self, i: usize) -> Vec<f32> {
        match self {
            Catalogue::Panels(p) => p.row(i),
            Catalogue::Int8(r) => r.row(i),
        }
    }

    /// Item `i`'s Euclidean norm, summed in order as `row(i)` would be.
    pub fn norm(&self, i: usize) -> f32 {
        match self {
            Catalogue::Panels(p) => p.norm(i),
            Catalogue::Int8(r) => r.norm(i),
        }
    }

    /// Every item's score x·y_i + item offset + `constant` for one user.
    pub fn score_all(&self, user: &[f32], offsets: Offsets<'_>, constant: f32, out: &mut [f32]) {
        score_all(self.tiles(), user, offsets, constant, out)
    }

    /// The k best (item, score) among the rows of `shortlist` for one
    /// user, best first, skipping the sorted `exclude` and NaN scores: each
    /// row scored, and ties broken, exactly as [`top_k_block`] scores and
    /// breaks them (so when the shortlist holds the full scan's top k, the
    /// answer is the full scan's). Rows past the catalogue are ignored.
    pub fn shortlist_top_k(
        &self,
        shortlist: &[usize],
        user: &[f32],
        constant: f32,
        exclude: &[usize],
        offsets: Offsets<'_>,
        k: usize,
    ) -> Vec<(usize, f32)> {
        if k == 0 {
            return Vec::new();
        }
        // Offered in ascending order, each once, as the full scan offers them.
        let mut rows: Vec<usize> = shortlist.iter().copied().filter(|&i| i < self.items()).collect();
        rows.sort_unstable();
        rows.dedup();
        shortlist_top_k(self, &rows, user, constant, exclude, offsets, k)
    }

    /// The k best (item, score) of each user, best first, skipping each
    /// user's sorted `excludes` and NaN scores (see [`top_k_block`]), the
    /// same for either storage.
    pub fn top_k_block(
        &self,
        users: &[&[f32]],
        constants: &[f32],
        excludes: &[&[usize]],
        offsets: Offsets<'_>,
        k: usize,
    ) -> Vec<Vec<(usize, f32)>> {
        match self {
            // One user (a visitor folded in): the integer scan reads a
            // quarter of the bytes. A block: the register-blocked kernel on
            // tiles decoded as it goes, the decoding shared by every user.
            Catalogue::Int8(r) if users.len() == 1 => {
                vec![int8_top_k(r, users[0], constants[0], excludes[0], offsets, k)]
            }
            _ => top_k_block(self.tiles(), users, constants, excludes, offsets, k),
        }
    }
}

crate::simd_dispatch!(
    /// One user's top k among the rows of `shortlist` (ascending, each
    /// once), each scored as the full scan scores it.
    fn shortlist_top_k / shortlist_top_k_generic<M>(
        catalogue: &Catalogue,
        shortlist: &[usize],
        user: &[f32],
        constant: f32,
        exclude: &[usize],
        offsets: Offsets<'_>,
        k: usize,
    ) -> Vec<(usize, f32)> {
        let mut top = TopK::new(k, exclude);
        for &i in shortlist {
            let raw = match catalogue {
                Catalogue::Panels(p) => p.exact::<M>(i, user),
                Catalogue::Int8(r) => r.exact::<M>(i, user),
            };
            top.offer(i, finish(raw, i, offsets, constant));
        }
        top.into_sorted()
    }
);

crate::simd_dispatch!(
    /// One user's top k over i8 rows.
    fn int8_top_k(rows: &Int8Rows, user: &[f32], constant: f32, exclude: &[usize], offsets: Offsets<'_>, k: usize) -> Vec<(usize, f32)> = int8_top_k_scan
);

/// What is added to each raw score x·y_i: a per-item term (explicit models'
/// item biases) and one constant per user (μ + b_u).
#[derive(Debug, Clone, Copy)]
pub struct Offsets<'a> {
    /// Per-item additive term, or none.
    pub item: Option<&'a [f32]>,
}

/// A candidate in a bounded heap whose top is the worst kept candidate.
#[derive(Clone, Copy)]
struct Worst(usize, f32);

impl PartialEq for Worst {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Worst {
    fn cmp(&self, o: &Self) -> Ordering {
        // Greater = worse, so the max-heap's top is the first to evict.
        better(&(self.0, self.1), &(o.0, o.1))
    }
}

/// The k best items seen so far for one user. Items are offered in
/// increasing index order, so a later item that only ties the worst kept
/// score never displaces it: `threshold` (the worst kept score once k are
/// kept) turns away almost every item with one comparison.
struct TopK<'e> {
    k: usize,
    heap: BinaryHeap<Worst>,
    exclude: &'e [usize],
    threshold: f32,
}

impl<'e> TopK<'e> {
    fn new(k: usize, exclude: &'e [usize]) -> Self {
        Self { k, heap: BinaryHeap::with_capacity(k + 1), exclude, threshold: f32::NEG_INFINITY }
    }

    #[inline(always)]
    fn offer(&mut self, i: usize, s: f32) {
        // NaN fails both comparisons and is never kept.
        if !(s > self.threshold || (self.heap.len() < self.k && s == f32::NEG_INFINITY)) {
            return;
        }
        if self.exclude.binary_search(&i).is_ok() {
            return;
        }
        self.heap.push(Worst(i, s));
        if self.heap.len() > self.k {
            self.heap.pop();
        }
        if self.heap.len() == self.k {
            self.threshold = self.heap.peek().expect("k > 0").1;
        }
    }

    fn into_sorted(self) -> Vec<(usize, f32)> {
        let mut v: Vec<(usize, f32)> = self.heap.into_iter().map(|w| (w.0, w.1)).collect();
        v.sort_unstable_by(better);
        v
    }
}

/// Scores of one panel for 4 users: `acc[u][j]` = Σ_k x_u[k]·y_j[k]. The
/// fixed shape keeps the 4×16 accumulators in vector registers.
#[inline(always)]
fn panel_scores<M: Madd>(panel: &[f32], users: [&[f32]; USERS_PER_BLOCK], acc: &mut [[f32; PANEL]; USERS_PER_BLOCK]) {
    let mut a = [[0.0f32; PANEL]; USERS_PER_BLOCK];
    for (k, y) in panel.chunks_exact(PANEL).enumerate() {
        let y: &[f32; PANEL] = y.try_into().expect("a panel row");
        for u in 0..USERS_PER_BLOCK {
            let xk = users[u][k];
            for j in 0..PANEL {
                a[u][j] = M::madd(xk, y[j], a[u][j]);
            }
        }
    }
    *acc = a;
}

/// Up to 4 users as exactly 4 (the first repeated), for [`panel_scores`].
#[inline(always)]
fn group<'a>(users: &[&'a [f32]]) -> [&'a [f32]; USERS_PER_BLOCK] {
    std::array::from_fn(|u| users.get(u).copied().unwrap_or(users[0]))
}

/// Writes every item's score for one user into `out` (length = items).
#[inline(always)]
fn score_all_generic<M: Madd>(p: &dyn Tiles, user: &[f32], offsets: Offsets<'_>, constant: f32, out: &mut [f32]) {
    let mut acc = [[0.0f32; PANEL]; USERS_PER_BLOCK];
    let mut scratch = Vec::new();
    for ti in 0..p.items().div_ceil(PANEL * TILE_PANELS) {
        for (pj, panel) in p.tile(ti, &mut scratch).chunks_exact(PANEL * p.factors().max(1)).enumerate() {
            panel_scores::<M>(panel, group(&[user]), &mut acc);
            for (j, &raw) in acc[0].iter().enumerate() {
                let i = (ti * TILE_PANELS + pj) * PANEL + j;
                if i < p.items() {
                    out[i] = finish(raw, i, offsets, constant);
                }
            }
        }
    }
}

#[inline(always)]
fn finish(raw: f32, i: usize, offsets: Offsets<'_>, constant: f32) -> f32 {
    raw + offsets.item.map_or(0.0, |b| b[i]) + constant
}

/// Panels per tile: a tile (512 items) of 64 factors is 128 KiB, so it stays
/// in L2 while every user of a block is scored against it.
const TILE_PANELS: usize = 32;

/// Item factors as [`top_k_block`] reads them: a tile of [`TILE_PANELS`]
/// panels at a time (fewer in the last tile), each laid out as
/// [`ItemPanels`] lays them out.
pub trait Tiles {
    /// Number of items.
    fn items(&self) -> usize;
    /// Factors per item.
    fn factors(&self) -> usize;
    /// Tile `t`: borrowed where the panels are stored, else built in `scratch`.
    fn tile<'a>(&'a self, t: usize, scratch: &'a mut Vec<f32>) -> &'a [f32];
}

impl Tiles for ItemPanels {
    fn items(&self) -> usize {
        self.items
    }

    fn factors(&self) -> usize {
        self.factors
    }

    fn tile<'a>(&'a self, t: usize, _: &'a mut Vec<f32>) -> &'a [f32] {
        let len = PANEL * self.factors * TILE_PANELS;
        &self.data[(t * len).min(self.data.len())..((t + 1) * len).min(self.data.len())]
    }
}

crate::simd_dispatch!(
    wide
    /// Every item's score x·y_i + item offset + `constant` for one user.
    pub fn score_all(p: &dyn Tiles, user: &[f32], offsets: Offsets<'_>, constant: f32, out: &mut [f32]) -> () = score_all_generic
);

crate::simd_dispatch!(
    wide
    /// The k best (item, score) of each user, best first, skipping each user's
    /// sorted `excludes` and NaN scores, streaming over tiles of panels. Blocks
    /// of about 64 users amortise reading the item factors best.
    /// Equal to [`score_all`] followed by [`top_k`](crate::topk::top_k).
    pub fn top_k_block / top_k_block_generic<M>(
        p: &dyn Tiles,
        users: &[&[f32]],
        constants: &[f32],
        excludes: &[&[usize]],
        offsets: Offsets<'_>,
        k: usize,
    ) -> Vec<Vec<(usize, f32)>> {
        if k == 0 || users.is_empty() {
            return vec![Vec::new(); users.len()];
        }
        let mut tops: Vec<TopK<'_>> = excludes.iter().map(|e| TopK::new(k, e)).collect();
        let panel_len = PANEL * p.factors().max(1);
        let mut acc = [[0.0f32; PANEL]; USERS_PER_BLOCK];
        let mut scratch = Vec::new();
        for ti in 0..p.items().div_ceil(PANEL * TILE_PANELS) {
            let tile = p.tile(ti, &mut scratch);
            for (g, group_users) in users.chunks(USERS_PER_BLOCK).enumerate() {
                let xs = group(group_users);
                for (pj, panel) in tile.chunks_exact(panel_len).enumerate() {
                    panel_scores::<M>(panel, xs, &mut acc);
                    let first = (ti * TILE_PANELS + pj) * PANEL;
                    let valid = PANEL.min(p.items() - first);
                    for (u, a) in acc.iter().enumerate().take(group_users.len()) {
                        let user = g * USERS_PER_BLOCK + u;
                        let top = &mut tops[user];
                        let mut scores = [f32::NEG_INFINITY; PANEL];
                        let c = constants[user];
                        match offsets.item {
                            Some(b) if valid == PANEL => {
                                let b: &[f32; PANEL] = b[first..first + PANEL].try_into().expect("a panel of offsets");
                                for j in 0..PANEL {
                                    scores[j] = a[j] + b[j] + c;
                                }
                            }
                            None if valid == PANEL => {
                                for j in 0..PANEL {
                                    scores[j] = a[j] + c;
                                }
                            }
                            _ => {
                                for (j, s) in scores.iter_mut().enumerate().take(valid) {
                                    *s = finish(a[j], first + j, offsets, c);
                                }
                            }
                        }
                        if top.heap.len() == k {
                            let mut any = false;
                            for s in scores {
                                any |= s > top.threshold;
                            }
                            if !any {
                                continue;
                            }
                        }
                        for (j, &s) in scores.iter().enumerate().take(valid) {
                            top.offer(first + j, s);
                        }
                    }
                }
            }
        }
        tops.into_iter().map(TopK::into_sorted).collect()
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topk::top_k;

    fn rows(n: usize, f: usize) -> Vec<f32> {
        (0..n * f).map(|i| ((i * 7919 % 1000) as f32 / 500.0) - 1.0).collect()
    }

    #[test]
    fn portable_and_fused_paths_agree() {
        // This machine dispatches to a SIMD tier; check the portable path too.
        let (n, f) = (70, 5);
        let r = rows(n, f);
        let p = ItemPanels::new(&r, f, f);
        let user: Vec<f32> = (0..f).map(|k| k as f32 - 2.0).collect();
        let (mut plain, mut fused) = (vec![0.0; n], vec![0.0; n]);
        let none = Offsets { item: None };
        score_all_generic::<crate::linalg::Plain>(&p, &user, none, 1.0, &mut plain);
        score_all_generic::<crate::linalg::Fused>(&p, &user, none, 1.0, &mut fused);
        for (a, b) in plain.iter().zip(&fused) {
            assert!((a - b).abs() < 1e-5);
        }
        let top = top_k_block_generic::<crate::linalg::Plain>(&p, &[&user], &[1.0], &[&[]], none, 7);
        assert_eq!(top[0], top_k(&plain, 7, |_| false));
    }

    #[test]
    fn panels_round_trip_rows() {
        let r = rows(37, 5);
        let p = ItemPanels::new(&r, 5, 5);
        for i in 0..37 {
            assert_eq!(p.row(i), r[i * 5..i * 5 + 5].to_vec());
        }
    }

    #[test]
    fn panels_from_any_storage_hold_its_decoded_values() {
        let r = rows(37, 5);
        for dtype in [crate::params::Dtype::F32, crate::params::Dtype::F16, crate::params::Dtype::I8] {
            let stored = Factors::encode(&r, 5, dtype);
            assert_eq!(ItemPanels::from_factors(&stored, 5), ItemPanels::new(&stored.to_f32(5), 5, 5), "{dtype}");
        }
    }

    #[test]
    fn block_top_k_equals_score_all_then_top_k() {
        let (n, f) = (1203, 9); // several tiles; neither a multiple of the panel nor of the lanes
        let r = rows(n, f);
        let p = ItemPanels::new(&r, f, f);
        let bias: Vec<f32> = (0..n).map(|i| (i % 5) as f32 * 0.1).collect();
        let offsets = Offsets { item: Some(&bias) };
        let users: Vec<Vec<f32>> = (0..6).map(|u| (0..f).map(|k| ((u * 3 + k) % 7) as f32 - 3.0).collect()).collect();
        let constants = [0.5, 0.0, -1.0, 2.0, 0.0, 1.0];
        let refs: Vec<&[f32]> = users.iter().map(Vec::as_slice).collect();
        let excludes: Vec<Vec<usize>> = vec![vec![], vec![1, 5, 99], (0..50).collect(), vec![], vec![7], vec![]];
        let ex: Vec<&[usize]> = excludes.iter().map(Vec::as_slice).collect();
        let got = top_k_block(&p, &refs, &constants, &ex, offsets, 10);
        for (u, user) in users.iter().enumerate() {
            let mut scores = vec![0.0; n];
            score_all(&p, user, offsets, constants[u], &mut scores);
            let naive: Vec<f32> =
                (0..n).map(|i| (0..f).map(|k| user[k] * r[i * f + k]).sum::<f32>() + bias[i] + constants[u]).collect();
            for (a, b) in scores.iter().zip(&naive) {
                assert!((a - b).abs() < 1e-4);
            }
            assert_eq!(got[u], top_k(&scores, 10, |i| excludes[u].contains(&i)), "user {u}");
        }
    }
}
