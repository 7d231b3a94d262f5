//! Ranking and rating metrics, as defined in `docs/METRICS.md`.
//!
//! Per-user functions take the model's ranking and the user's relevant (test)
//! items; [`RankingTotals`] averages them over users who have at least one
//! relevant item.

/// Ranking quality of one user's top-k list.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AtK {
    /// hits / k.
    pub precision: f64,
    /// hits / |relevant|.
    pub recall: f64,
    /// Average precision at k, normalised by min(k, |relevant|).
    pub average_precision: f64,
    /// DCG / ideal DCG with binary gains and 1/log2(rank + 1) discounts.
    pub ndcg: f64,
}

/// Metrics at k for a ranked list of item rows (best first, at most `k`
/// long) against `relevant` (sorted ascending, no duplicates).
pub fn at_k(ranked: &[usize], relevant: &[usize], k: usize) -> AtK {
    if relevant.is_empty() || k == 0 {
        return AtK::default();
    }
    let mut hits = 0usize;
    let (mut ap, mut dcg) = (0.0, 0.0);
    for (pos, item) in ranked.iter().take(k).enumerate() {
        if relevant.binary_search(item).is_ok() {
            hits += 1;
            ap += hits as f64 / (pos + 1) as f64;
            dcg += 1.0 / ((pos + 2) as f64).log2();
        }
    }
    let ideal = k.min(relevant.len());
    let idcg: f64 = (0..ideal).map(|pos| 1.0 / ((pos + 2) as f64).log2()).sum();
    AtK {
        precision: hits as f64 / k as f64,
        recall: hits as f64 / relevant.len() as f64,
        average_precision: ap / ideal as f64,
        ndcg: dcg / idcg,
    }
}

/// AUC and mean percentile rank of one user's relevant items among the
/// candidate items (those for which `candidate` is true), from all scores.
///
/// AUC: the share of (relevant, non-relevant) candidate pairs in which the
/// relevant item scores higher (ties count one half). Percentile rank: an
/// item's position among the candidates divided by (candidates − 1), 0 being
/// the top, averaged over relevant items (0.5 is random; lower is better).
/// `None` when there is no relevant candidate or no other candidate.
pub fn auc_and_percentile(scores: &[f32], relevant: &[usize], candidate: impl Fn(usize) -> bool) -> Option<(f64, f64)> {
    let mut cand: Vec<(f32, bool)> =
        (0..scores.len()).filter(|&i| candidate(i)).map(|i| (scores[i], relevant.binary_search(&i).is_ok())).collect();
    let n = cand.len();
    let pos = cand.iter().filter(|c| c.1).count();
    let neg = n - pos;
    if pos == 0 || n < 2 {
        return None;
    }
    // Ascending by score; walk groups of equal scores.
    cand.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let (mut below_neg, mut pairs, mut pct) = (0usize, 0.0f64, 0.0f64);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j < n && cand[j].0 == cand[i].0 {
            j += 1;
        }
        let group_pos = cand[i..j].iter().filter(|c| c.1).count();
        let group_neg = (j - i) - group_pos;
        pairs += group_pos as f64 * (below_neg as f64 + 0.5 * group_neg as f64);
        // Rank from the top of the group's middle: ties share their mean rank.
        let mean_rank_from_top = (n - j) as f64 + (j - i - 1) as f64 / 2.0;
        pct += group_pos as f64 * mean_rank_from_top / (n - 1) as f64;
        below_neg += group_neg;
        i = j;
    }
    let auc = if neg == 0 { 1.0 } else { pairs / (pos as f64 * neg as f64) };
    Some((auc, pct / pos as f64))
}

/// Sums of per-user ranking metrics, averaged by [`RankingTotals::mean`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RankingTotals {
    /// Users counted.
    pub users: usize,
    /// Summed metrics at k.
    pub at_k: AtK,
    /// Summed AUC over users who had one.
    pub auc: f64,
    /// Summed percentile rank over users who had one.
    pub percentile: f64,
    /// Users with an AUC.
    pub auc_users: usize,
}

impl RankingTotals {
    /// Adds one user's figures.
    pub fn add(&mut self, m: AtK, auc: Option<(f64, f64)>) {
        self.users += 1;
        self.at_k.precision += m.precision;
        self.at_k.recall += m.recall;
        self.at_k.average_precision += m.average_precision;
        self.at_k.ndcg += m.ndcg;
        if let Some((a, p)) = auc {
            self.auc += a;
            self.percentile += p;
            self.auc_users += 1;
        }
    }

    /// Mean metrics at k, AUC and percentile rank.
    pub fn mean(&self) -> (AtK, f64, f64) {
        let n = self.users.max(1) as f64;
        let m = self.auc_users.max(1) as f64;
        (
            AtK {
                precision: self.at_k.precision / n,
                recall: self.at_k.recall / n,
                average_precision: self.at_k.average_precision / n,
                ndcg: self.at_k.ndcg / n,
            },
            self.auc / m,
            self.percentile / m,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn at_k_matches_hand_computed_values() {
        // Ranking 5, 1, 7; relevant {1, 3}; k = 3: one hit at rank 2.
        let m = at_k(&[5, 1, 7], &[1, 3], 3);
        assert!(close(m.precision, 1.0 / 3.0));
        assert!(close(m.recall, 0.5));
        assert!(close(m.average_precision, 0.5 / 2.0));
        let idcg = 1.0 + 1.0 / 3f64.log2();
        assert!(close(m.ndcg, (1.0 / 3f64.log2()) / idcg));
    }

    #[test]
    fn perfect_ranking_scores_one_and_k_beyond_catalogue_is_handled() {
        let m = at_k(&[2, 4], &[2, 4], 10);
        assert!(close(m.ndcg, 1.0));
        assert!(close(m.average_precision, 1.0));
        assert!(close(m.recall, 1.0));
        assert!(close(m.precision, 0.2));
        assert_eq!(at_k(&[1], &[], 5), AtK::default(), "a user without test items scores nothing");
    }

    #[test]
    fn auc_and_percentile_handle_ties() {
        // Items 0..4 with scores; relevant {3}; item 4 is not a candidate.
        let scores = [0.1, 0.5, 0.5, 0.5, 9.0];
        let (auc, pct) = auc_and_percentile(&scores, &[3], |i| i != 4).unwrap();
        // Negatives 0, 1, 2: beats item 0, ties 1 and 2.
        assert!(close(auc, (1.0 + 0.5 + 0.5) / 3.0));
        // Among 4 candidates, item 3 shares ranks 0..2 (mean 1) from the top.
        assert!(close(pct, 1.0 / 3.0));
        let (auc, pct) = auc_and_percentile(&[3.0, 2.0, 1.0], &[0], |_| true).unwrap();
        assert!(close(auc, 1.0) && close(pct, 0.0));
        assert!(auc_and_percentile(&[1.0, 2.0], &[], |_| true).is_none());
    }
}
