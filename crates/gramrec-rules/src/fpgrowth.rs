//! FP-growth (Han, Pei and Yin 2000): the baskets are compressed into a
//! prefix tree of their frequent items (most frequent first), and each
//! item's itemsets are mined from the conditional tree of the paths that
//! end in it, recursively. A tree that is a single path yields its itemsets
//! as combinations, without more trees.
//!
//! Trees are built by sorting their weighted paths: paths sharing a prefix
//! are then neighbours, so each path adds nodes only past the prefix it
//! shares with the one before. Items are mined in parallel at the top level
//! (each reads the shared tree); the output is sorted afterwards, so it is
//! the same whatever the thread count.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// A frequent itemset: item indices (ascending) and the baskets holding it.
pub type Itemset = (Vec<u32>, u64);

/// Mining stopped: more itemsets than the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooMany {
    /// The limit that was passed.
    pub limit: usize,
}

/// A prefix tree of weighted paths over local item ids `0..labels.len()`.
struct Tree {
    /// Per node (node 0 is the root): its item, count, parent and number of children.
    item: Vec<u32>,
    count: Vec<u64>,
    parent: Vec<u32>,
    children: Vec<u32>,
    /// The nodes of each local item.
    heads: Vec<Vec<u32>>,
    /// Baskets per local item (the sum of its nodes' counts).
    totals: Vec<u64>,
    /// Local item id → item index.
    labels: Vec<u32>,
}

impl Tree {
    /// Builds the tree of `paths` (each ascending in local ids) with their weights.
    fn build(mut paths: Vec<(Vec<u32>, u64)>, labels: Vec<u32>) -> Self {
        paths.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let m = labels.len();
        let mut t = Tree {
            item: vec![u32::MAX],
            count: vec![0],
            parent: vec![0],
            children: vec![0],
            heads: vec![Vec::new(); m],
            totals: vec![0; m],
            labels,
        };
        // The nodes of the previous path, root first.
        let mut stack: Vec<u32> = Vec::new();
        let mut prev: &[u32] = &[];
        for (path, w) in &paths {
            let shared = prev.iter().zip(path).take_while(|(a, b)| a == b).count();
            stack.truncate(shared);
            for &node in &stack {
                t.count[node as usize] += w;
            }
            for &q in &path[shared..] {
                let parent = stack.last().copied().unwrap_or(0);
                let node = t.item.len() as u32;
                t.item.push(q);
                t.count.push(*w);
                t.parent.push(parent);
                t.children.push(0);
                t.children[parent as usize] += 1;
                t.heads[q as usize].push(node);
                stack.push(node);
            }
            for &q in path {
                t.totals[q as usize] += w;
            }
            prev = path;
        }
        t
    }

    /// Whether every node has at most one child.
    fn is_single_path(&self) -> bool {
        self.children.iter().all(|&c| c <= 1)
    }

    /// The conditional tree of local item `q`: the paths above its nodes,
    /// weighted by their counts, keeping the items frequent among them.
    fn conditional(&self, q: u32, min_count: u64) -> Option<Tree> {
        let mut base: Vec<(Vec<u32>, u64)> = Vec::with_capacity(self.heads[q as usize].len());
        // Sparse counts: a dense vector per item would cost O(items²) at the top level.
        let mut counts: FxHashMap<u32, u64> = FxHashMap::default();
        for &node in &self.heads[q as usize] {
            let w = self.count[node as usize];
            let mut path = Vec::new();
            let mut at = self.parent[node as usize];
            while at != 0 {
                let item = self.item[at as usize];
                path.push(item);
                *counts.entry(item).or_default() += w;
                at = self.parent[at as usize];
            }
            if !path.is_empty() {
                base.push((path, w));
            }
        }
        // Items kept, renumbered in the same order.
        let mut kept: Vec<u32> = counts.iter().filter(|&(_, &c)| c >= min_count).map(|(&i, _)| i).collect();
        if kept.is_empty() {
            return None;
        }
        kept.sort_unstable();
        let local: FxHashMap<u32, u32> = kept.iter().enumerate().map(|(l, &i)| (i, l as u32)).collect();
        let labels = kept.iter().map(|&i| self.labels[i as usize]).collect();
        let paths = base
            .into_iter()
            .filter_map(|(path, w)| {
                let mut p: Vec<u32> = path.iter().filter_map(|i| local.get(i).copied()).collect();
                p.reverse();
                (!p.is_empty()).then_some((p, w))
            })
            .collect();
        Some(Tree::build(paths, labels))
    }
}

/// Where mined itemsets go, with the shared limit.
struct Sink<'a> {
    out: Vec<Itemset>,
    found: &'a AtomicUsize,
    limit: usize,
    min_count: u64,
    max_len: usize,
}

impl Sink<'_> {
    fn push(&mut self, prefix: &[u32], count: u64) -> Result<(), TooMany> {
        if self.found.fetch_add(1, Ordering::Relaxed) >= self.limit {
            return Err(TooMany { limit: self.limit });
        }
        let mut items = prefix.to_vec();
        items.sort_unstable();
        self.out.push((items, count));
        Ok(())
    }

    /// Every itemset of `tree` extended by `prefix`.
    fn mine(&mut self, tree: &Tree, prefix: &mut Vec<u32>) -> Result<(), TooMany> {
        if tree.is_single_path() {
            return self.combinations(tree, prefix);
        }
        for q in (0..tree.labels.len() as u32).rev() {
            self.mine_item(tree, q, prefix)?;
        }
        Ok(())
    }

    /// The itemsets of `tree` ending in local item `q`, extended by `prefix`.
    fn mine_item(&mut self, tree: &Tree, q: u32, prefix: &mut Vec<u32>) -> Result<(), TooMany> {
        let total = tree.totals[q as usize];
        if total < self.min_count {
            return Ok(());
        }
        prefix.push(tree.labels[q as usize]);
        self.push(prefix, total)?;
        if prefix.len() < self.max_len {
            if let Some(sub) = tree.conditional(q, self.min_count) {
                self.mine(&sub, prefix)?;
            }
        }
        prefix.pop();
        Ok(())
    }

    /// A single path's itemsets: every combination of its nodes, counted by
    /// the deepest node chosen (counts only fall along a path).
    fn combinations(&mut self, tree: &Tree, prefix: &mut Vec<u32>) -> Result<(), TooMany> {
        let nodes: Vec<usize> = (1..tree.item.len()).filter(|&n| tree.count[n] >= self.min_count).collect();
        let room = self.max_len - prefix.len();
        // Choose nodes in path order; `deepest` is the last chosen.
        fn walk(
            sink: &mut Sink<'_>,
            tree: &Tree,
            nodes: &[usize],
            from: usize,
            room: usize,
            prefix: &mut Vec<u32>,
        ) -> Result<(), TooMany> {
            if room == 0 {
                return Ok(());
            }
            for k in from..nodes.len() {
                let n = nodes[k];
                prefix.push(tree.labels[tree.item[n] as usize]);
                sink.push(prefix, tree.count[n])?;
                walk(sink, tree, nodes, k + 1, room - 1, prefix)?;
                prefix.pop();
            }
            Ok(())
        }
        walk(self, tree, &nodes, 0, room, prefix)
    }
}

/// The frequent itemsets of `baskets` (item indices below `items`, no
/// repeats within a basket): those in at least `min_count` baskets (at
/// least 1), of at most `max_len` items, sorted by count (descending) then
/// items. Stops with [`TooMany`] past `limit` itemsets.
pub fn frequent_itemsets(
    baskets: &[Vec<u32>],
    items: usize,
    min_count: u64,
    max_len: usize,
    limit: usize,
) -> Result<Vec<Itemset>, TooMany> {
    let min_count = min_count.max(1);
    let mut counts = vec![0u64; items];
    for b in baskets {
        for &i in b {
            counts[i as usize] += 1;
        }
    }
    // Frequent items by count (descending), then index: their local ids.
    let mut order: Vec<u32> = (0..items as u32).filter(|&i| counts[i as usize] >= min_count).collect();
    order.sort_unstable_by(|&a, &b| counts[b as usize].cmp(&counts[a as usize]).then(a.cmp(&b)));
    let mut local = vec![u32::MAX; items];
    for (l, &i) in order.iter().enumerate() {
        local[i as usize] = l as u32;
    }
    let paths: Vec<(Vec<u32>, u64)> = baskets
        .par_iter()
        .filter_map(|b| {
            let mut p: Vec<u32> = b.iter().map(|&i| local[i as usize]).filter(|&l| l != u32::MAX).collect();
            p.sort_unstable();
            (!p.is_empty()).then_some((p, 1))
        })
        .collect();
    let tree = Tree::build(paths, order);
    let found = AtomicUsize::new(0);
    let parts: Vec<Result<Vec<Itemset>, TooMany>> = (0..tree.labels.len() as u32)
        .into_par_iter()
        .map(|q| {
            let mut sink = Sink { out: Vec::new(), found: &found, limit, min_count, max_len: max_len.max(1) };
            sink.mine_item(&tree, q, &mut Vec::new())?;
            Ok(sink.out)
        })
        .collect();
    let mut all = Vec::new();
    for p in parts {
        all.extend(p?);
    }
    all.par_sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every itemset of every basket, counted: the definition, for checking.
    fn brute_force(baskets: &[Vec<u32>], min_count: u64, max_len: usize) -> Vec<Itemset> {
        let mut counts = std::collections::BTreeMap::<Vec<u32>, u64>::new();
        for b in baskets {
            let mut b = b.clone();
            b.sort_unstable();
            for mask in 1u32..(1 << b.len()) {
                let set: Vec<u32> = (0..b.len()).filter(|k| mask >> k & 1 == 1).map(|k| b[k]).collect();
                if set.len() <= max_len {
                    *counts.entry(set).or_default() += 1;
                }
            }
        }
        let mut out: Vec<Itemset> = counts.into_iter().filter(|(_, c)| *c >= min_count.max(1)).collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    #[test]
    fn the_textbook_example() {
        // Han, Pei and Yin's transactions (f, c, a, b, m, p, …), min count 3.
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "s"];
        let id = |s: &str| names.iter().position(|n| *n == s).unwrap() as u32;
        let baskets: Vec<Vec<u32>> = ["f a c d g i m p", "a b c f l m o", "b f h j o", "b c k s p", "a f c e l p m n"]
            .iter()
            .map(|t| t.split(' ').map(id).collect())
            .collect();
        let got = frequent_itemsets(&baskets, names.len(), 3, usize::MAX, 1000).unwrap();
        assert_eq!(got, brute_force(&baskets, 3, usize::MAX));
        let fcam: Vec<u32> = {
            let mut v = vec![id("f"), id("c"), id("a"), id("m")];
            v.sort_unstable();
            v
        };
        assert!(got.contains(&(fcam, 3)), "{{f, c, a, m}} is in 3 baskets");
        assert_eq!(got.len(), 18, "the paper's 18 frequent patterns");
    }

    #[test]
    fn random_baskets_match_the_definition_at_every_threshold_and_length() {
        let mut state = 12345u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for trial in 0..30 {
            let items = 3 + (trial % 9) as u32;
            let baskets: Vec<Vec<u32>> = (0..(20 + trial * 7))
                .map(|_| {
                    let mut b: Vec<u32> = (0..items).filter(|_| next() % 3 == 0).collect();
                    b.dedup();
                    b
                })
                .collect();
            for min_count in [0, 1, 2, 5] {
                for max_len in [1, 2, 3, usize::MAX] {
                    let got = frequent_itemsets(&baskets, items as usize, min_count, max_len, 1 << 20).unwrap();
                    assert_eq!(
                        got,
                        brute_force(&baskets, min_count, max_len),
                        "trial {trial} min {min_count} len {max_len}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_limit_stops_mining() {
        let baskets = vec![(0..20).collect::<Vec<u32>>(); 3];
        assert_eq!(frequent_itemsets(&baskets, 20, 1, usize::MAX, 5000), Err(TooMany { limit: 5000 }));
    }
}
