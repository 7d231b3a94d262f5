//! Scoring over i8 item factors without widening them to f32: a scan of
//! integer dot products bounds every item's exact score, and only the
//! items whose bound reaches the k-th best are scored in f32.
//!
//! An i8 file stores item i's factor k as `q[i][k] · s[i]`. The user's
//! vector x is quantised to i16 (`x ≈ s_x · p`, `|p| ≤ 32767`), so
//! `s[i] · s_x · Σ p_k q[i][k]` approximates the score with an exact
//! integer sum that 128-bit SIMD computes eight products to an instruction
//! (`i32x4.dot_i16x8_s` in a browser, `pmaddwd` on x86). [`Query`] bounds
//! how far that approximation can be from the f32 score the panel scorer
//! ([`super::top_k_block`]) computes from the dequantised factors —
//! quantisation of x plus every rounding of both computations — so a
//! candidate list of the items whose upper bound reaches the k-th best
//! lower bound always holds the f32 scorer's top k. Those candidates are
//! then scored exactly as the panel scorer scores them (the same
//! multiply-adds in the same order), and ranked with the same tie rule:
//! the result is the f32 model's, bit for bit, read at a quarter of the
//! memory traffic.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::{finish, Offsets, Tiles, TopK, PANEL, TILE_PANELS};
use crate::linalg::Madd;

/// The largest magnitude the bounds assume of a stored value: files hold
/// −127..=127 (checked on reading), and 128 covers any i8.
const Q_MAX: f64 = 128.0;

/// Largest magnitude of a quantised user value: i16's, or less for rows so
/// long that a dot product could otherwise overflow i32.
fn query_max(factors: usize) -> f64 {
    (f64::from(i32::MAX) / (Q_MAX * factors.max(1) as f64)).floor().min(32767.0)
}

/// Item factors as an i8 file stores them, ready to scan.
#[derive(Debug, Clone, PartialEq)]
pub struct Int8Rows {
    items: usize,
    factors: usize,
    values: Vec<i8>,
    scales: Vec<f32>,
}

impl Int8Rows {
    /// Item factors from an i8 file's values (items × `factors`, row-major,
    /// moved, not copied) and one scale per row.
    pub fn new(values: Vec<i8>, scales: Vec<f32>, factors: usize) -> Self {
        let items = scales.len();
        assert_eq!(values.len(), items * factors, "an i8 value for each item's factor");
        Self { items, factors, values, scales }
    }

    /// Item `i`'s factors as f32, as [`Factors::to_f32`](crate::quant::Factors::to_f32) decodes them.
    pub fn row(&self, i: usize) -> Vec<f32> {
        self.values(i).collect()
    }

    /// Item `i`'s Euclidean norm, of the decoded factors.
    pub fn norm(&self, i: usize) -> f32 {
        self.values(i).map(|v| v * v).sum::<f32>().sqrt()
    }

    fn values(&self, i: usize) -> impl Iterator<Item = f32> + '_ {
        let s = self.scales[i];
        self.stored(i).iter().map(move |&q| q as f32 * s)
    }

    fn stored(&self, i: usize) -> &[i8] {
        &self.values[i * self.factors..(i + 1) * self.factors]
    }

    /// x · row i as the panel scorer computes it from the decoded factors:
    /// one multiply-add per factor, in order, from zero.
    #[inline(always)]
    pub(super) fn exact<M: Madd>(&self, i: usize, x: &[f32]) -> f32 {
        self.values(i).zip(x).fold(0.0, |acc, (y, &xk)| M::madd(xk, y, acc))
    }
}

impl Tiles for Int8Rows {
    fn items(&self) -> usize {
        self.items
    }

    fn factors(&self) -> usize {
        self.factors
    }

    /// The tile's items decoded into panels, as [`super::ItemPanels`] holds them.
    fn tile<'a>(&'a self, t: usize, scratch: &'a mut Vec<f32>) -> &'a [f32] {
        let f = self.factors;
        let first = t * TILE_PANELS * PANEL;
        let items = (self.items - first).min(TILE_PANELS * PANEL);
        scratch.clear();
        scratch.resize(items.div_ceil(PANEL) * PANEL * f, 0.0);
        for n in 0..items {
            let (p, j) = (n / PANEL, n % PANEL);
            for (k, y) in self.values(first + n).enumerate() {
                scratch[(p * f + k) * PANEL + j] = y;
            }
        }
        scratch
    }
}

/// A user's vector quantised for the scan, with what bounds its error.
struct Query {
    /// x / s_x rounded.
    values: Vec<i16>,
    /// s_x.
    scale: f32,
    /// Item i's score is within `|s[i]|·per_scale + per_term·(|b_i| + |c|) +
    /// absolute` of the approximation, b_i its item term and c the user's
    /// constant.
    per_scale: f32,
    per_term: f32,
    absolute: f32,
    /// Items whose bound exceeds this (or is not a number) may overflow f32
    /// somewhere: they are always re-scored, and set no floor.
    safe: f32,
}

impl Query {
    /// `None` when x or the constant is not finite (the exact scan handles them).
    fn new(x: &[f32], constant: f32) -> Option<Query> {
        if !x.iter().all(|v| v.is_finite()) || !constant.is_finite() {
            return None;
        }
        let f = x.len() as f64;
        let max = x.iter().fold(0.0f64, |m, &v| m.max(f64::from(v).abs()));
        let limit = query_max(x.len());
        let scale = (max / limit) as f32;
        let mut values = vec![0i16; x.len()];
        // The largest distance between x and its quantised form, in f64.
        let mut residual = 0.0f64;
        if scale > 0.0 {
            for (p, &v) in values.iter_mut().zip(x) {
                *p = (f64::from(v) / f64::from(scale)).round().clamp(-limit, limit) as i16;
                residual = residual.max((f64::from(v) - f64::from(*p) * f64::from(scale)).abs());
            }
        } else {
            residual = max;
        }
        // |approximation − f32 score| ≤ |s_i|·128·F·(residual + γ·max) + γ·(|b_i| + |c|)
        // + (F + 8)·2⁻¹⁴⁹: the quantisation of x against |q| ≤ 128, the
        // roundings of both sums (each under (F + 8)·u relative to the
        // magnitudes summed, or 2⁻¹⁵⁰ absolute a step among subnormals),
        // taken twice over so that forming the bounds in f32 stays inside.
        let gamma = (f + 8.0) * f64::from(f32::EPSILON) / 2.0;
        let per_scale = Q_MAX * f * (residual + gamma * max) * 2.0;
        let absolute = 2.0 * (f + 8.0) * f64::from(f32::from_bits(1));
        // bound ≥ 2γ·(|s_i|·128·F·max + |b_i| + |c|), which bounds every
        // magnitude either sum reaches: within f32::MAX / 8 nothing overflows.
        let safe = 2.0 * gamma * f64::from(f32::MAX) / 8.0;
        Some(Query {
            values,
            scale,
            per_scale: per_scale as f32,
            per_term: (2.0 * gamma) as f32,
            absolute: absolute as f32,
            safe: safe as f32,
        })
    }
}

/// The k largest lower bounds seen: once k are held, the smallest of them
/// is a floor under the k-th best exact score.
struct Floor {
    k: usize,
    held: BinaryHeap<Reverse<Key>>,
    value: f32,
}

/// An f32 ordered by `total_cmp`, for the heap.
#[derive(PartialEq)]
struct Key(f32);
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Key {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

impl Floor {
    fn new(k: usize) -> Self {
        Self { k, held: BinaryHeap::with_capacity(k + 1), value: f32::NEG_INFINITY }
    }

    fn offer(&mut self, lower: f32) {
        if lower.is_nan() || (self.held.len() == self.k && lower <= self.value) {
            return;
        }
        self.held.push(Reverse(Key(lower)));
        if self.held.len() > self.k {
            self.held.pop();
        }
        if self.held.len() == self.k {
            self.value = self.held.peek().expect("k > 0").0 .0;
        }
    }
}

/// Σ p_k q_k over a row: exact in i32, as |q| ≤ 127 and |p| ≤ [`query_max`].
#[inline(always)]
fn dot(p: &[i16], q: &[i8]) -> i32 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        wasm::dot(p, q)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        p.iter().zip(q).map(|(&a, &b)| i32::from(a) * i32::from(b)).sum()
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use core::arch::wasm32::*;

    /// [`super::dot`] with WebAssembly's 128-bit SIMD: each 16 values of the
    /// row widened to i16 and multiplied pairwise-added against the query;
    /// the last `len % 16` one by one.
    #[inline(always)]
    pub fn dot(p: &[i16], q: &[i8]) -> i32 {
        let mut acc = i32x4_splat(0);
        let whole = p.len().min(q.len()) / 16 * 16;
        for (pc, qc) in p[..whole].chunks_exact(16).zip(q[..whole].chunks_exact(16)) {
            // SAFETY: each chunk holds exactly 16 bytes of q and 32 of p;
            // unaligned v128 loads are allowed.
            let (row, lo, hi) = unsafe {
                (v128_load(qc.as_ptr().cast()), v128_load(pc.as_ptr().cast()), v128_load(pc.as_ptr().add(8).cast()))
            };
            acc = i32x4_add(acc, i32x4_dot_i16x8(i16x8_extend_low_i8x16(row), lo));
            acc = i32x4_add(acc, i32x4_dot_i16x8(i16x8_extend_high_i8x16(row), hi));
        }
        let rest: i32 = p[whole..].iter().zip(&q[whole..]).map(|(&a, &b)| i32::from(a) * i32::from(b)).sum();
        i32x4_extract_lane::<0>(acc)
            + i32x4_extract_lane::<1>(acc)
            + i32x4_extract_lane::<2>(acc)
            + i32x4_extract_lane::<3>(acc)
            + rest
    }
}

/// The k best (item, score) for one user, skipping the sorted `exclude`:
/// the panel scorer's answer for the decoded factors (see the module's
/// documentation).
#[inline(always)]
pub(super) fn top_k<M: Madd>(
    rows: &Int8Rows,
    user: &[f32],
    constant: f32,
    exclude: &[usize],
    offsets: Offsets<'_>,
    k: usize,
) -> Vec<(usize, f32)> {
    if k == 0 {
        return Vec::new();
    }
    let Some(query) = Query::new(&user[..rows.factors], constant) else {
        let mut top = TopK::new(k, exclude);
        for i in 0..rows.items {
            top.offer(i, finish(rows.exact::<M>(i, user), i, offsets, constant));
        }
        return top.into_sorted();
    };
    let mut floor = Floor::new(k);
    let mut candidates: Vec<(usize, f32)> = Vec::new();
    let constant_bound = query.per_term * constant.abs();
    for (i, (row, &s)) in rows.values.chunks_exact(rows.factors.max(1)).zip(&rows.scales).enumerate() {
        let term = offsets.item.map_or(0.0, |b| b[i]);
        let approx = dot(&query.values, row) as f32 * query.scale * s + term + constant;
        let bound = s.abs() * query.per_scale + query.per_term * term.abs() + constant_bound + query.absolute;
        let safe = bound <= query.safe;
        let upper = if safe { approx + bound } else { f32::INFINITY };
        if upper < floor.value || exclude.binary_search(&i).is_ok() {
            continue;
        }
        if safe {
            floor.offer(approx - bound);
        }
        candidates.push((i, upper));
    }
    let mut top = TopK::new(k, &[]);
    for (i, upper) in candidates {
        if upper >= floor.value {
            top.offer(i, finish(rows.exact::<M>(i, user), i, offsets, constant));
        }
    }
    top.into_sorted()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::Plain;
    use crate::params::Dtype;
    use crate::quant::Factors;
    use crate::scoring::{top_k_block_generic, Catalogue, ItemPanels};

    /// Pseudo-random values in −1..1 (a fixed LCG: the test needs no crate).
    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    fn both(n: usize, f: usize, seed: u64) -> (Int8Rows, ItemPanels) {
        let Factors::I8 { scales, values: q } = Factors::encode(&values(n * f, seed), f, Dtype::I8) else {
            unreachable!()
        };
        let decoded = Factors::I8 { scales: scales.clone(), values: q.clone() }.to_f32(f);
        (Int8Rows::new(q, scales, f), ItemPanels::new(&decoded, f, f))
    }

    #[test]
    fn rows_decode_as_the_file_decodes() {
        for f in [5, 16, 20] {
            let (rows, panels) = both(37, f, 1);
            for i in 0..37 {
                assert_eq!(rows.row(i), panels.row(i), "{f} factors, row {i}");
            }
        }
    }

    #[test]
    fn top_k_equals_the_f32_scorer_on_the_decoded_factors() {
        // Factor counts on and off the 16-value chunk; item terms and user
        // constants of either sign; exclusions; k past the catalogue.
        for (n, f, seed) in [(3000, 64, 1), (2000, 20, 2), (500, 3, 3), (40, 16, 4)] {
            let (rows, panels) = both(n, f, seed);
            let terms = values(n, seed + 100);
            let x = values(f, seed + 200);
            for (offsets, constant) in [(Offsets { item: None }, 0.0), (Offsets { item: Some(&terms) }, -2.5)] {
                for (k, exclude) in [(10, vec![]), (25, (0..n).step_by(7).collect::<Vec<_>>()), (n + 5, vec![1, 2])] {
                    let want = top_k_block_generic::<Plain>(&panels, &[&x], &[constant], &[&exclude], offsets, k);
                    let got = top_k::<Plain>(&rows, &x, constant, &exclude, offsets, k);
                    assert_eq!(got, want[0], "{n} items × {f}, k {k}");
                }
            }
        }
    }

    #[test]
    fn tiles_decode_as_the_panels_hold_them() {
        // 1,100 items: two full tiles of 512 and a last one of 76 (not a
        // whole panel).
        let (rows, panels) = both(1100, 20, 10);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for t in 0..3 {
            assert_eq!(rows.tile(t, &mut a), panels.tile(t, &mut b), "tile {t}");
        }
    }

    #[test]
    fn a_block_of_users_ranks_as_the_f32_panels_rank() {
        let (rows, panels) = both(1100, 20, 11);
        let terms = values(1100, 12);
        let users: Vec<Vec<f32>> = (0..6).map(|u| values(20, 20 + u)).collect();
        let users: Vec<&[f32]> = users.iter().map(Vec::as_slice).collect();
        let constants = [0.0, 1.0, -1.0, 0.5, 2.0, 0.0];
        let excludes: Vec<Vec<usize>> = (0..6).map(|u| (u..1100).step_by(50 + u).collect()).collect();
        let excludes: Vec<&[usize]> = excludes.iter().map(Vec::as_slice).collect();
        let offsets = Offsets { item: Some(&terms) };
        let (int8, f32s) = (Catalogue::Int8(rows), Catalogue::Panels(panels));
        let want = f32s.top_k_block(&users, &constants, &excludes, offsets, 10);
        assert_eq!(int8.top_k_block(&users, &constants, &excludes, offsets, 10), want);
        for u in 0..6 {
            assert_eq!(int8.top_k_block(&users[u..=u], &constants[u..=u], &excludes[u..=u], offsets, 10)[0], want[u]);
        }
    }

    #[test]
    fn ties_are_broken_as_the_f32_scorer_breaks_them() {
        // Many identical rows: every score ties, and the lowest rows win.
        let f = 8;
        let one = values(f, 9);
        let Factors::I8 { scales, values: q } = Factors::encode(&one.repeat(300), f, Dtype::I8) else { unreachable!() };
        let rows = Int8Rows::new(q, scales, f);
        let got = top_k::<Plain>(&rows, &one, 0.0, &[0, 3], Offsets { item: None }, 5);
        assert_eq!(got.iter().map(|t| t.0).collect::<Vec<_>>(), vec![1, 2, 4, 5, 6]);
    }

    #[test]
    fn a_near_tie_that_quantising_the_user_reverses_is_ranked_exactly() {
        // x = (1, 1/3 + 2e-6): the quantised x₂ is 10922/32767, below 1/3, so
        // the integer scan ranks A = (127, 0) over B = (124, 9) while the f32
        // scores put B ahead by 1.8e-5. Only the bound keeps B a candidate.
        let x = [1.0f32, 1.0 / 3.0 + 2e-6];
        let rows = Int8Rows::new(vec![127, 0, 124, 9, 100, 0], vec![1.0; 3], 2);
        let panels = ItemPanels::new(&[127.0, 0.0, 124.0, 9.0, 100.0, 0.0], 2, 2);
        let q = Query::new(&x, 0.0).unwrap();
        assert!(dot(&q.values, rows.stored(0)) > dot(&q.values, rows.stored(1)), "the scan reverses them");
        let want = top_k_block_generic::<Plain>(&panels, &[&x], &[0.0], &[&[]], Offsets { item: None }, 1);
        assert_eq!(want[0][0].0, 1);
        assert_eq!(top_k::<Plain>(&rows, &x, 0.0, &[], Offsets { item: None }, 1), want[0]);
    }

    #[test]
    fn inputs_at_the_edges_of_f32_rank_as_the_f32_panels_rank() {
        // A review's counterexamples to an earlier bound, each once wrong:
        // (values, scales, factors, x, constant, k).
        let third = 1.0 / 3.0 + 2e-6;
        type Case = (&'static str, Vec<i8>, Vec<f32>, usize, Vec<f32>, f32, usize);
        let cases: Vec<Case> = vec![
            ("negative scales", vec![-127, 0, -124, -9, -100, 0], vec![-1.0; 3], 2, vec![1.0, third], 0.0, 1),
            (
                "-128 over 528 factors",
                [vec![-128; 528], vec![0; 528]].concat(),
                vec![1.0 / 128.0, 1.0],
                528,
                vec![-1.0; 528],
                0.0,
                1,
            ),
            (
                "subnormal scores",
                vec![44, -2, -127, -117],
                vec![f32::from_bits(191), f32::from_bits(16)],
                2,
                vec![-0.125, 0.875],
                0.0,
                1,
            ),
            ("a score that overflows to NaN", vec![127, -127, -127, 0], vec![1e36, 1e35], 2, vec![3.0, 3.0], 0.0, 1),
            (
                "a zero-scale row beside huge products",
                [vec![0; 1000], vec![-127; 1000]].concat(),
                vec![0.0, 1e-40],
                1000,
                vec![3e37; 1000],
                0.0,
                1,
            ),
            ("an infinite constant", vec![1, 2, 3, 4, 5, 6], vec![0.1; 3], 2, vec![0.5, -0.25], f32::NEG_INFINITY, 2),
        ];
        for (name, q, scales, f, x, constant, k) in cases {
            let decoded: Vec<f32> =
                q.chunks(f).zip(&scales).flat_map(|(r, &s)| r.iter().map(move |&v| v as f32 * s)).collect();
            let panels = ItemPanels::new(&decoded, f, f);
            let rows = Int8Rows::new(q, scales, f);
            let none = Offsets { item: None };
            let want = top_k_block_generic::<Plain>(&panels, &[&x], &[constant], &[&[]], none, k);
            assert_eq!(top_k::<Plain>(&rows, &x, constant, &[], none, k), want[0], "{name}");
        }
    }

    #[test]
    fn a_user_vector_that_is_not_finite_is_scored_exactly() {
        let (rows, panels) = both(100, 8, 5);
        let mut x = values(8, 6);
        x[3] = f32::NAN;
        let want = top_k_block_generic::<Plain>(&panels, &[&x], &[0.0], &[&[]], Offsets { item: None }, 5);
        assert_eq!(top_k::<Plain>(&rows, &x, 0.0, &[], Offsets { item: None }, 5), want[0]);
        let zero = vec![0.0; 8];
        let want = top_k_block_generic::<Plain>(&panels, &[&zero], &[1.0], &[&[]], Offsets { item: None }, 5);
        assert_eq!(top_k::<Plain>(&rows, &zero, 1.0, &[], Offsets { item: None }, 5), want[0]);
    }

    #[test]
    fn the_bound_leaves_few_candidates() {
        // The point of the scan: the exact pass scores a handful of items, not
        // the catalogue. Counted directly: items within the final window.
        let (rows, _) = both(20_000, 64, 7);
        let x = values(64, 8);
        let q = Query::new(&x, 0.0).unwrap();
        let approx: Vec<(f32, f32)> = (0..rows.items)
            .map(|i| {
                let s = rows.scales[i];
                (dot(&q.values, rows.stored(i)) as f32 * q.scale * s, s * q.per_scale)
            })
            .collect();
        let mut lower: Vec<f32> = approx.iter().map(|(a, e)| a - e).collect();
        lower.sort_by(|a, b| b.total_cmp(a));
        let floor = lower[9];
        let candidates = approx.iter().filter(|(a, e)| a + e >= floor).count();
        assert!((10..60).contains(&candidates), "{candidates} candidates for a top 10 of 20,000");
    }
}
