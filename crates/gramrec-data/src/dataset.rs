//! From parsed interactions to the training matrices: duplicate (user, item)
//! pairs merged, sparse users and items filtered out, IDs re-indexed densely,
//! and the user × item CSR built with its transpose.

use gramrec_core::text::excerpt;
use gramrec_core::{named_enum, setting, Error, ModelKind, Result};

use crate::csr::Csr;
use crate::load::Interactions;

/// What to do with repeated (user, item) pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicates {
    /// Add the values (counts of plays, clicks…).
    Sum,
    /// Keep the value that comes last in the file (a re-rating).
    Last,
    /// Average the values.
    Mean,
    /// Refuse the file.
    Error,
}

named_enum!(Duplicates, "duplicates" { Sum => "sum", Last => "last", Mean => "mean", Error => "error" });

impl Duplicates {
    /// The policy for a model kind: implicit feedback adds up (plays, clicks),
    /// a repeated rating replaces the earlier one.
    pub fn default_for(kind: ModelKind) -> Self {
        match kind {
            ModelKind::Explicit => Duplicates::Last,
            ModelKind::Implicit => Duplicates::Sum,
        }
    }
}

/// What an implicit model makes of a value of 0 or less (after repeated
/// pairs are merged): feedback data uses both, and neither means "liked".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NonPositive {
    /// 0 is an interaction with the base confidence (Book-Crossing's 0 is
    /// "read, not rated"); a negative value (a return, a cancellation) is
    /// dropped and counted.
    #[default]
    Interaction,
    /// As benfred/implicit: a confident "no" (preference 0, confidence
    /// 1 + α·|r|); a 0 is then the same as no interaction.
    Negative,
    /// Every value of 0 or less is dropped and counted.
    Drop,
}

named_enum!(NonPositive, "nonpositive" {
    Interaction => "interaction",
    Negative => "negative" | "no",
    Drop => "drop",
});

/// How to turn interactions into a training set.
#[derive(Debug, Clone, Copy)]
pub struct DatasetOptions {
    /// Duplicate policy.
    pub duplicates: Duplicates,
    /// Implicit models: values of 0 or less (`None`: kept as they are, as
    /// explicit models' ratings are).
    pub nonpositive: Option<NonPositive>,
    /// Drop users with fewer distinct items.
    pub min_user_count: usize,
    /// Drop items with fewer distinct users.
    pub min_item_count: usize,
    /// Repeat both filters until nothing changes (a k-core).
    pub k_core: bool,
}

impl DatasetOptions {
    /// What training does with a model kind's data unless told otherwise:
    /// repeated pairs merged by [`Duplicates::default_for`] the kind, an
    /// implicit model's values of 0 or less by [`NonPositive`]'s default,
    /// nobody filtered out.
    pub fn for_kind(kind: ModelKind) -> Self {
        Self {
            duplicates: Duplicates::default_for(kind),
            nonpositive: (kind == ModelKind::Implicit).then(NonPositive::default),
            ..Self::default()
        }
    }
}

impl Default for DatasetOptions {
    fn default() -> Self {
        Self { duplicates: Duplicates::Sum, nonpositive: None, min_user_count: 1, min_item_count: 1, k_core: false }
    }
}

/// Summary figures of a dataset, for logs and `--json`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DatasetStats {
    /// Interactions read from the file.
    pub read: usize,
    /// Interactions merged into an earlier one with the same (user, item).
    pub duplicates_merged: usize,
    /// Interactions removed by the count filters.
    pub filtered_out: usize,
    /// Values of 0 counted as interactions ([`NonPositive::Interaction`]).
    pub zeros_as_interactions: usize,
    /// Values of 0 or less dropped ([`NonPositive`]).
    pub nonpositive_dropped: usize,
}

/// The training matrices with their IDs.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// User IDs, by row of `by_user`.
    pub users: Vec<String>,
    /// Item IDs, by row of `by_item`.
    pub items: Vec<String>,
    /// users × items.
    pub by_user: Csr,
    /// items × users (the transpose).
    pub by_item: Csr,
    /// Whether the values are ratings (else implicit counts of 1).
    pub has_ratings: bool,
    /// What happened on the way.
    pub stats: DatasetStats,
}

impl Dataset {
    /// Merges duplicates, filters and builds the matrices.
    pub fn build(x: Interactions, opts: &DatasetOptions) -> Result<Self> {
        let read = x.len();
        let by_user = Csr::from_triples(x.users.len(), x.items.len(), &x.user, &x.item, &x.value);
        let (by_user, merged) = merge_duplicates(by_user, opts.duplicates, &x)?;
        let (by_user, zeros, dropped) = match opts.nonpositive {
            Some(policy) => nonpositive(by_user, policy),
            None => (by_user, 0, 0),
        };
        let (keep_user, keep_item) = filter(&by_user, opts);

        // Re-index what is kept, densely and in first-seen order.
        let remap = |keep: &[bool]| -> (Vec<u32>, usize) {
            let mut next = 0u32;
            let map = keep
                .iter()
                .map(|&k| {
                    if k {
                        next += 1;
                        next - 1
                    } else {
                        u32::MAX
                    }
                })
                .collect();
            (map, next as usize)
        };
        let (umap, nu) = remap(&keep_user);
        let (imap, ni) = remap(&keep_item);
        let (mut row, mut col, mut val) = (Vec::new(), Vec::new(), Vec::new());
        for (u, &nu_row) in umap.iter().enumerate() {
            if nu_row == u32::MAX {
                continue;
            }
            let (cols, vals) = by_user.row(u);
            for (&i, &v) in cols.iter().zip(vals) {
                if imap[i as usize] != u32::MAX {
                    row.push(nu_row);
                    col.push(imap[i as usize]);
                    val.push(v);
                }
            }
        }
        let kept = row.len();
        if read == 0 {
            return Err(Error::Data("there are no interactions to train on".into()));
        }
        if kept == 0 {
            return Err(Error::Data(format!(
                "no interactions are left after filtering (lower {} / {})",
                setting("min_user_count"),
                setting("min_item_count")
            )));
        }
        let by_user = Csr::from_triples(nu, ni, &row, &col, &val);
        let has_ratings = x.has_ratings;
        let ids = |ix: crate::index::IdIndex, keep: &[bool]| -> Vec<String> {
            ix.into_ids().into_iter().zip(keep).filter(|(_, &k)| k).map(|(id, _)| id).collect()
        };
        Ok(Self {
            users: ids(x.users, &keep_user),
            items: ids(x.items, &keep_item),
            by_item: by_user.transpose(),
            by_user,
            has_ratings,
            stats: DatasetStats {
                read,
                duplicates_merged: merged,
                filtered_out: read - merged - dropped - kept,
                zeros_as_interactions: zeros,
                nonpositive_dropped: dropped,
            },
        })
    }

    /// Number of interactions.
    pub fn nnz(&self) -> usize {
        self.by_user.nnz()
    }

    /// A checksum of the training matrix (structure and values), to tell
    /// whether a checkpoint was made from these data.
    pub fn fingerprint(&self) -> u32 {
        let m = &self.by_user;
        let mut h = crc32fast::Hasher::new();
        h.update(&(m.cols as u64).to_le_bytes());
        for &p in &m.indptr {
            h.update(&p.to_le_bytes());
        }
        for (&i, &v) in m.indices.iter().zip(&m.values) {
            h.update(&i.to_le_bytes());
            h.update(&v.to_le_bytes());
        }
        h.finalize()
    }

    /// Smallest, largest and mean value.
    pub fn value_range(&self) -> (f32, f32, f64) {
        let v = &self.by_user.values;
        let min = v.iter().copied().fold(f32::INFINITY, f32::min);
        let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len().max(1) as f64;
        (min, max, mean)
    }
}

/// Applies a [`NonPositive`] policy to merged values: returns the matrix,
/// the zeros made interactions and the values dropped. A zero made an
/// interaction is stored as the smallest positive value, so that training
/// sees a preference of 1 with the base confidence (1 + α·0).
fn nonpositive(m: Csr, policy: NonPositive) -> (Csr, usize, usize) {
    if policy == NonPositive::Negative || m.values.iter().all(|&v| v > 0.0) {
        return (m, 0, 0);
    }
    let (mut row, mut col, mut val) = (Vec::new(), Vec::new(), Vec::new());
    let (mut zeros, mut dropped) = (0, 0);
    for r in 0..m.rows() {
        let (cols, vals) = m.row(r);
        for (&c, &v) in cols.iter().zip(vals) {
            let v = match (policy, v) {
                (_, v) if v > 0.0 => v,
                (NonPositive::Interaction, 0.0) => {
                    zeros += 1;
                    f32::MIN_POSITIVE
                }
                _ => {
                    dropped += 1;
                    continue;
                }
            };
            row.push(r as u32);
            col.push(c);
            val.push(v);
        }
    }
    (Csr::from_triples(m.rows(), m.cols, &row, &col, &val), zeros, dropped)
}

/// Sorts each row by column (stable, so file order survives among equals) and
/// merges equal columns per the policy. Returns the matrix and how many
/// entries were merged away.
fn merge_duplicates(mut m: Csr, policy: Duplicates, x: &Interactions) -> Result<(Csr, usize)> {
    let mut out_ptr = Vec::with_capacity(m.indptr.len());
    out_ptr.push(0u64);
    let mut w = 0usize;
    let mut pairs: Vec<(u32, f32)> = Vec::new();
    for r in 0..m.rows() {
        let (a, b) = (m.indptr[r] as usize, m.indptr[r + 1] as usize);
        pairs.clear();
        pairs.extend(m.indices[a..b].iter().copied().zip(m.values[a..b].iter().copied()));
        pairs.sort_by_key(|p| p.0);
        let mut k = 0;
        while k < pairs.len() {
            let (c, first) = pairs[k];
            let mut j = k + 1;
            while j < pairs.len() && pairs[j].0 == c {
                j += 1;
            }
            let run = &pairs[k..j];
            let v = match policy {
                _ if run.len() == 1 => first,
                Duplicates::Sum => run.iter().map(|p| p.1).sum(),
                Duplicates::Last => run[run.len() - 1].1,
                Duplicates::Mean => run.iter().map(|p| p.1).sum::<f32>() / run.len() as f32,
                Duplicates::Error => {
                    return Err(Error::Data(format!(
                        "user '{}' and item '{}' appear together {} times (choose {} sum, last or mean)",
                        excerpt(x.users.id(r as u32), 80),
                        excerpt(x.items.id(c), 80),
                        run.len(),
                        setting("duplicates")
                    )))
                }
            };
            m.indices[w] = c;
            m.values[w] = v;
            w += 1;
            k = j;
        }
        out_ptr.push(w as u64);
    }
    let merged = m.nnz() - w;
    m.indices.truncate(w);
    m.values.truncate(w);
    m.indptr = out_ptr;
    Ok((m, merged))
}

/// Which users and items survive the count filters.
fn filter(m: &Csr, opts: &DatasetOptions) -> (Vec<bool>, Vec<bool>) {
    let mut keep_user = vec![true; m.rows()];
    let mut keep_item = vec![true; m.cols];
    loop {
        let mut user_deg = vec![0usize; m.rows()];
        let mut item_deg = vec![0usize; m.cols];
        for (u, deg) in user_deg.iter_mut().enumerate() {
            if !keep_user[u] {
                continue;
            }
            for &i in m.row(u).0 {
                if keep_item[i as usize] {
                    *deg += 1;
                    item_deg[i as usize] += 1;
                }
            }
        }
        let mut changed = false;
        for (k, &d) in keep_user.iter_mut().zip(&user_deg) {
            if *k && d < opts.min_user_count.max(1) {
                *k = false;
                changed = true;
            }
        }
        for (k, &d) in keep_item.iter_mut().zip(&item_deg) {
            if *k && d < opts.min_item_count.max(1) {
                *k = false;
                changed = true;
            }
        }
        if !opts.k_core || !changed {
            return (keep_user, keep_item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{load_bytes, LoadOptions};

    fn build(data: &str, opts: DatasetOptions) -> Result<Dataset> {
        Dataset::build(load_bytes("d.csv", data.as_bytes(), &LoadOptions::default()).unwrap(), &opts)
    }

    fn with(d: Duplicates) -> DatasetOptions {
        DatasetOptions { duplicates: d, ..Default::default() }
    }

    #[test]
    fn duplicate_policies() {
        let data = "u,a,1\nu,b,5\nu,a,3\nv,a,2\n";
        let value = |d: Duplicates| {
            let ds = build(data, with(d)).unwrap();
            assert_eq!(ds.nnz(), 3);
            assert_eq!(ds.stats.duplicates_merged, 1);
            ds.by_user.row(0).1[0]
        };
        assert_eq!(value(Duplicates::Sum), 4.0);
        assert_eq!(value(Duplicates::Last), 3.0);
        assert_eq!(value(Duplicates::Mean), 2.0);
        let e = build(data, with(Duplicates::Error)).unwrap_err().to_string();
        assert!(e.contains("user 'u' and item 'a' appear together 2 times"), "{e}");
    }

    #[test]
    fn min_counts_and_k_core() {
        // u1 rates a,b,c; u2 rates a,b; u3 rates a. Item c has one user.
        let data = "u1,a,1\nu1,b,1\nu1,c,1\nu2,a,1\nu2,b,1\nu3,a,1\n";
        let once = build(data, DatasetOptions { min_user_count: 2, min_item_count: 2, ..Default::default() }).unwrap();
        // One pass: u3 and c go; u1 keeps a,b.
        assert_eq!(once.users, vec!["u1", "u2"]);
        assert_eq!(once.items, vec!["a", "b"]);
        assert_eq!(once.nnz(), 4);
        assert_eq!(once.stats.filtered_out, 2);
        let core =
            build(data, DatasetOptions { min_user_count: 3, min_item_count: 1, k_core: true, ..Default::default() })
                .unwrap();
        assert_eq!(core.users, vec!["u1"]);
        let gone = build(data, DatasetOptions { min_user_count: 9, ..Default::default() });
        assert!(gone.unwrap_err().to_string().contains("no interactions are left"));
    }

    #[test]
    fn transpose_is_consistent() {
        let ds = build("x,p,1\ny,q,2\nx,q,3\n", DatasetOptions::default()).unwrap();
        assert_eq!(ds.by_item.rows(), 2);
        assert_eq!(ds.by_item.transpose(), ds.by_user);
        assert_eq!(ds.value_range(), (1.0, 3.0, 2.0));
    }
}
