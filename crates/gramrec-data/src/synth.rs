//! Seeded synthetic interaction data with a planted low-rank structure and
//! power-law degrees, for the demo, benchmarks and tests (nothing to download).
//!
//! Users and items get hidden vectors u, v ~ N(0, I_r). Item popularity
//! follows a power law over a random permutation of the items, and so do user
//! activity levels. Explicit data rates the items a user meets with
//! 3 + u·v/√r + user bias + item bias + noise. Implicit data keeps an item a
//! user meets with probability σ(6·u·v/√r − 3), so users mostly interact with
//! items they would like.

use gramrec_core::ModelKind;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, StandardNormal};
use rayon::prelude::*;

use gramrec_core::{ParamError, Result};

use crate::dataset::Dataset;
use crate::load::Interactions;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct SynthSpec {
    /// Number of users.
    pub users: usize,
    /// Number of items.
    pub items: usize,
    /// Target number of distinct interactions.
    pub nnz: usize,
    /// Rank of the planted structure.
    pub rank: usize,
    /// Standard deviation of the rating noise (explicit).
    pub noise: f32,
    /// Ratings or implicit feedback.
    pub kind: ModelKind,
    /// Power-law exponent of item popularity and user activity.
    pub skew: f64,
    /// Implicit data with play counts as values instead of 1: log-normal,
    /// median about 100, larger for the items a user prefers, with a tail
    /// into the hundreds of thousands (as listening histories have).
    pub counts: bool,
    /// Seed: the same spec and seed give the same data.
    pub seed: u64,
}

impl SynthSpec {
    /// A spec with the usual shape: rank 8, noise 0.5, exponent 0.9.
    pub fn new(users: usize, items: usize, nnz: usize, kind: ModelKind, seed: u64) -> Self {
        Self { users, items, nnz, rank: 8, noise: 0.5, kind, skew: 0.9, counts: false, seed }
    }

    /// Checks the shape.
    pub fn validate(&self) -> Result<()> {
        for (setting, n) in [("users", self.users), ("items", self.items), ("nnz", self.nnz)] {
            if n == 0 {
                return Err(ParamError::new(setting, "must be at least 1").into());
            }
        }
        let most = (self.items * 3 / 4).max(1).saturating_mul(self.users);
        if self.nnz > most {
            return Err(ParamError::new(
                "nnz",
                format!(
                    "{} is more than {most} distinct interactions: users meet at most three quarters of the items",
                    self.nnz
                ),
            )
            .into());
        }
        Ok(())
    }

    /// Bytes generating the data takes: the hidden vectors, and the
    /// interactions a few times over while they are grouped.
    pub fn memory_estimate(&self) -> u64 {
        let vectors = (self.users + self.items) as u64 * (self.rank as u64 + 2) * 4;
        vectors + self.nnz as u64 * 12 * 3
    }
}

/// Generated data, with the hidden truth kept for checking models.
#[derive(Debug, Clone)]
pub struct Synthetic {
    /// The spec.
    pub spec: SynthSpec,
    /// User index per interaction, grouped by user.
    pub user: Vec<u32>,
    /// Item index per interaction.
    pub item: Vec<u32>,
    /// Rating or count per interaction.
    pub value: Vec<f32>,
    /// Hidden user vectors, users × rank.
    pub user_vectors: Vec<f32>,
    /// Hidden item vectors, items × rank.
    pub item_vectors: Vec<f32>,
    /// Item popularity weights (the power law).
    pub popularity: Vec<f64>,
}

/// The chance that a user keeps an item they meet, from the planted score s
/// (standard normal): σ(6s − 3), so mostly items well above their average.
fn preference(s: f32) -> f32 {
    1.0 / (1.0 + (3.0 - 6.0 * s).exp())
}

/// Power-law weights (i+1)^(−skew), assigned to a random permutation.
fn power_law(n: usize, skew: f64, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let mut w: Vec<f64> = (0..n).map(|i| (i as f64 + 1.0).powf(-skew)).collect();
    w.shuffle(rng);
    w
}

/// Per-user degrees proportional to `activity`, summing to about `nnz`, each
/// at most `cap` (the share cut off by the cap goes to the uncapped users).
/// With at least one interaction per user, every user gets one or more;
/// with fewer, shares are rounded cumulatively, so that they still add up to
/// `nnz` although most are below one.
fn degrees(activity: &[f64], nnz: usize, cap: usize) -> Vec<usize> {
    let sparse = nnz < activity.len();
    let mut capped = vec![false; activity.len()];
    let mut degrees = vec![0usize; activity.len()];
    for _ in 0..8 {
        let budget = nnz.saturating_sub(capped.iter().filter(|&&c| c).count() * cap) as f64;
        let free: f64 = activity.iter().zip(&capped).filter(|(_, &c)| !c).map(|(a, _)| a).sum();
        let mut changed = false;
        let mut cumulative = 0.0f64;
        for ((d, a), c) in degrees.iter_mut().zip(activity).zip(capped.iter_mut()) {
            if *c {
                continue;
            }
            let share = a / free * budget;
            let want = if sparse {
                let before = cumulative.round();
                cumulative += share;
                (cumulative.round() - before) as usize
            } else {
                share.round() as usize
            };
            if want >= cap {
                *c = true;
                changed = true;
            }
            *d = want.clamp(usize::from(!sparse), cap);
        }
        if !changed {
            break;
        }
    }
    degrees
}

impl Synthetic {
    /// Generates the data (in parallel; the result depends only on the spec).
    pub fn generate(spec: SynthSpec) -> Self {
        let SynthSpec { users, items, nnz, rank, .. } = spec;
        assert!(users > 0 && items > 0 && rank > 0, "synthetic data needs users, items and a rank");
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let normal =
            |rng: &mut ChaCha8Rng, n: usize| -> Vec<f32> { (0..n).map(|_| StandardNormal.sample(rng)).collect() };
        let user_vectors = normal(&mut rng, users * rank);
        let item_vectors = normal(&mut rng, items * rank);
        let item_bias: Vec<f32> = normal(&mut rng, items).iter().map(|b| b * 0.3).collect();
        let popularity = power_law(items, spec.skew, &mut rng);
        let activity = power_law(users, spec.skew, &mut rng);
        let mut cumulative = Vec::with_capacity(items);
        let mut acc = 0.0;
        for w in &popularity {
            acc += w;
            cumulative.push(acc);
        }
        let degrees = degrees(&activity, nnz, (items * 3 / 4).max(1));
        let scale = 1.0 / (rank as f32).sqrt();
        let noise = Normal::new(0.0f32, spec.noise.max(0.0)).expect("valid noise");

        let rows: Vec<(Vec<u32>, Vec<f32>)> = (0..users)
            .into_par_iter()
            .map(|u| {
                let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
                rng.set_stream(u as u64 + 1);
                let uv = &user_vectors[u * rank..(u + 1) * rank];
                let user_bias: f32 = rng.sample::<f32, _>(StandardNormal) * 0.3;
                let mut chosen: Vec<u32> = Vec::with_capacity(degrees[u]);
                let mut attempts = 0;
                while chosen.len() < degrees[u] && attempts < 20 * degrees[u] + 100 {
                    attempts += 1;
                    let target = rng.random::<f64>() * acc;
                    let i = cumulative.partition_point(|&c| c < target).min(items - 1);
                    if spec.kind == ModelKind::Implicit {
                        let s: f32 =
                            uv.iter().zip(&item_vectors[i * rank..(i + 1) * rank]).map(|(a, b)| a * b).sum::<f32>()
                                * scale;
                        if rng.random::<f32>() > preference(s) {
                            continue;
                        }
                    }
                    chosen.push(i as u32);
                    if chosen.len() == degrees[u] {
                        chosen.sort_unstable();
                        chosen.dedup();
                    }
                }
                chosen.sort_unstable();
                chosen.dedup();
                let values = chosen
                    .iter()
                    .map(|&i| {
                        let i = i as usize;
                        let s: f32 = uv.iter().zip(&item_vectors[i * rank..(i + 1) * rank]).map(|(a, b)| a * b).sum();
                        match spec.kind {
                            ModelKind::Implicit if spec.counts => {
                                let z: f32 = rng.sample(StandardNormal);
                                (100.0 * (1.5 * z + s * scale).exp()).round().clamp(1.0, 1e7)
                            }
                            ModelKind::Implicit => 1.0,
                            ModelKind::Explicit => 3.0 + s * scale + user_bias + item_bias[i] + noise.sample(&mut rng),
                        }
                    })
                    .collect();
                (chosen, values)
            })
            .collect();
        let mut out = Self {
            spec,
            user: Vec::new(),
            item: Vec::new(),
            value: Vec::new(),
            user_vectors,
            item_vectors,
            popularity,
        };
        for (u, (items, values)) in rows.into_iter().enumerate() {
            out.user.extend(std::iter::repeat_n(u as u32, items.len()));
            out.item.extend(items);
            out.value.extend(values);
        }
        out
    }

    /// The planted preference u·v/√r of a user for an item.
    pub fn true_score(&self, user: usize, item: usize) -> f32 {
        let r = self.spec.rank;
        let uv = &self.user_vectors[user * r..(user + 1) * r];
        let iv = &self.item_vectors[item * r..(item + 1) * r];
        uv.iter().zip(iv).map(|(a, b)| a * b).sum::<f32>() / (r as f32).sqrt()
    }

    /// How likely `user` is to interact with `item` next, up to a constant:
    /// popularity × preference for implicit data (what generated it), the
    /// planted rating for explicit data.
    pub fn interaction_weight(&self, user: usize, item: usize) -> f64 {
        let s = self.true_score(user, item) as f64;
        match self.spec.kind {
            ModelKind::Implicit => self.popularity[item] * preference(s as f32) as f64,
            ModelKind::Explicit => s,
        }
    }

    /// Number of interactions.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// The interactions whose index `keep` accepts, with IDs `u<n>` and
    /// `i<n>` for every user and item of the spec.
    pub fn interactions(&self, keep: impl Fn(usize) -> bool) -> Interactions {
        let mut x = Interactions {
            has_ratings: self.spec.kind == ModelKind::Explicit || self.spec.counts,
            ..Default::default()
        };
        for u in 0..self.spec.users {
            x.users.intern(&format!("u{u}"));
        }
        for i in 0..self.spec.items {
            x.items.intern(&format!("i{i}"));
        }
        for k in (0..self.len()).filter(|&k| keep(k)) {
            x.user.push(self.user[k]);
            x.item.push(self.item[k]);
            x.value.push(self.value[k]);
        }
        x
    }

    /// [`interactions`](Self::interactions) as a training dataset.
    pub fn dataset(&self, keep: impl Fn(usize) -> bool) -> Result<Dataset> {
        Dataset::build(self.interactions(keep), &Default::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_data_and_power_law_degrees() {
        let spec = SynthSpec::new(500, 300, 20_000, ModelKind::Implicit, 7);
        let a = Synthetic::generate(spec);
        let b = Synthetic::generate(spec);
        assert_eq!(a.item, b.item);
        assert!(a.len() > 15_000 && a.len() <= 20_500, "{} interactions", a.len());
        let mut deg = vec![0usize; 300];
        for &i in &a.item {
            deg[i as usize] += 1;
        }
        deg.sort_unstable_by(|x, y| y.cmp(x));
        assert!(deg[0] > 5 * deg[150].max(1), "item degrees are not skewed: {} vs {}", deg[0], deg[150]);
        let c = Synthetic::generate(SynthSpec { seed: 8, ..spec });
        assert_ne!(a.item, c.item);
    }

    #[test]
    fn fewer_interactions_than_users_gives_about_that_many() {
        let s = Synthetic::generate(SynthSpec::new(10_000, 2_000, 100, ModelKind::Explicit, 3));
        assert!((50..=150).contains(&s.len()), "{} interactions for nnz 100", s.len());
        assert!(SynthSpec::new(0, 5, 5, ModelKind::Explicit, 1)
            .validate()
            .unwrap_err()
            .to_string()
            .contains("`users` must be at least 1"));
        assert!(SynthSpec::new(2, 4, 100, ModelKind::Explicit, 1).validate().is_err(), "more than can be distinct");
    }

    #[test]
    fn implicit_interactions_favour_liked_items() {
        let s = Synthetic::generate(SynthSpec::new(200, 200, 8_000, ModelKind::Implicit, 1));
        let mean: f32 =
            (0..s.len()).map(|k| s.true_score(s.user[k] as usize, s.item[k] as usize)).sum::<f32>() / s.len() as f32;
        assert!(mean > 0.4, "mean planted score of interactions is {mean}");
    }
}
