//! Top-k selection over a score vector.

use std::cmp::Ordering;

/// Orders (index, score) pairs best first: higher score, then lower index, so
/// ties are broken the same way on every platform.
#[inline]
pub fn better(a: &(usize, f32), b: &(usize, f32)) -> Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}

/// The `k` best (index, score) pairs among `scores`, best first, skipping NaN
/// scores and indices for which `skip` is true. Partial selection: O(n + k log k).
pub fn top_k(scores: &[f32], k: usize, skip: impl Fn(usize) -> bool) -> Vec<(usize, f32)> {
    let mut cand: Vec<(usize, f32)> =
        scores.iter().enumerate().filter(|(i, s)| !s.is_nan() && !skip(*i)).map(|(i, &s)| (i, s)).collect();
    if k == 0 {
        return Vec::new();
    }
    if cand.len() > k {
        cand.select_nth_unstable_by(k - 1, better);
        cand.truncate(k);
    }
    cand.sort_unstable_by(better);
    cand
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_best_with_deterministic_ties_and_skips() {
        let scores = [0.5, 2.0, f32::NAN, 2.0, -1.0, 3.0];
        assert_eq!(top_k(&scores, 3, |_| false), vec![(5, 3.0), (1, 2.0), (3, 2.0)]);
        assert_eq!(top_k(&scores, 2, |i| i == 5), vec![(1, 2.0), (3, 2.0)]);
        assert_eq!(top_k(&scores, 10, |_| false).len(), 5, "k beyond the catalogue returns all non-NaN");
        assert!(top_k(&scores, 0, |_| false).is_empty());
    }
}
