//! The form other tools hold a model in: two dense row-major factor
//! matrices and the IDs of their rows, with no biases. Every import builds
//! one of these and every export starts from one, so the bias columns, the
//! popularity stand-in and the factor-file fields are handled once.

use gramrec_core::linalg::{dot_product, gram_matrix};
use gramrec_core::params::range_error;
use gramrec_core::quant::Factors;
use gramrec_core::{
    Dtype, Error, FactorFile, Metadata, ModelFiles, ModelKind, ModelParams, Result, SeenItems, Side, TrainingFacts,
};

/// A model as two dense factor matrices, `rank` columns each.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseModel {
    /// The objective (used to fold new users in after an import).
    pub params: ModelParams,
    /// Columns of both matrices.
    pub rank: usize,
    /// One ID per user row.
    pub user_ids: Vec<String>,
    /// users × rank values.
    pub users: Vec<f32>,
    /// One ID per item row.
    pub item_ids: Vec<String>,
    /// items × rank values.
    pub items: Vec<f32>,
    /// Whether the last two columns hold the biases as [`from_factor_files`]
    /// folds them (user `[p, b_u + μ, 1]`, item `[q, 1, b_i]`).
    ///
    /// [`from_factor_files`]: DenseModel::from_factor_files
    pub bias_columns: bool,
    /// μ of a model with bias columns (recorded, so an import can restore b_u).
    pub global_mean: f32,
    /// The rating range predictions are clipped to (explicit models; the full
    /// f32 range when unknown, as Spark never clips).
    pub rating_range: (f32, f32),
}

/// What an imported model's factor files get besides the factors.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// Training interactions per item row, when the training data was given.
    pub popularity: Option<Vec<u32>>,
    /// Each user's training items, when the training data was given.
    pub seen: Option<SeenItems>,
    /// `train.*` facts to record (where the model came from).
    pub facts: TrainingFacts,
}

impl Provenance {
    /// Popularity and seen items from the training interactions `x`,
    /// matched to the model's rows by ID. Returns them and the number of
    /// interactions whose user or item the model does not have.
    pub fn from_training(x: &gramrec_data::Interactions, model: &DenseModel) -> (Self, usize) {
        fn index(ids: &[String]) -> std::collections::HashMap<&str, u32> {
            ids.iter().enumerate().map(|(r, id)| (id.as_str(), r as u32)).collect()
        }
        let (users, items) = (index(&model.user_ids), index(&model.item_ids));
        let mut popularity = vec![0u32; model.item_ids.len()];
        let mut seen: Vec<Vec<u32>> = vec![Vec::new(); model.user_ids.len()];
        let mut unmatched = 0;
        for (&u, &i) in x.user.iter().zip(&x.item) {
            match (users.get(x.users.id(u)), items.get(x.items.id(i))) {
                (Some(&u), Some(&i)) => {
                    popularity[i as usize] = popularity[i as usize].saturating_add(1);
                    seen[u as usize].push(i);
                }
                _ => unmatched += 1,
            }
        }
        for row in &mut seen {
            row.sort_unstable();
            row.dedup();
        }
        let seen = SeenItems::from_rows(model.item_ids.len(), seen.iter().map(Vec::as_slice));
        (Self { popularity: Some(popularity), seen: Some(seen), facts: TrainingFacts::default() }, unmatched)
    }
}

impl DenseModel {
    /// The dense form of a gramrec model. An explicit model with biases gets
    /// two extra columns so that the dot product alone is gramrec's
    /// (unclipped) prediction: user `[p, b_u + μ, 1]`, item `[q, 1, b_i]`.
    pub fn from_factor_files(files: &ModelFiles) -> Self {
        let ModelFiles { users, items } = files;
        let meta = &items.meta;
        let p = meta.params;
        let biased = p.uses_biases();
        let f = p.factors;
        let widen = |file: &FactorFile, constant: f32, user_side: bool| -> Vec<f32> {
            let factors = file.factors_f32();
            if !biased {
                return factors;
            }
            let mut out = Vec::with_capacity(file.rows() * (f + 2));
            for (r, x) in factors.chunks_exact(f).enumerate() {
                let b = file.biases.as_ref().map_or(0.0, |b| b[r]);
                out.extend_from_slice(x);
                if user_side {
                    out.extend([b + constant, 1.0]);
                } else {
                    out.extend([1.0, b]);
                }
            }
            out
        };
        Self {
            params: p,
            rank: f + if biased { 2 } else { 0 },
            user_ids: users.ids.clone(),
            users: widen(users, meta.global_mean, true),
            item_ids: items.ids.clone(),
            items: widen(items, 0.0, false),
            bias_columns: biased,
            global_mean: if biased { meta.global_mean } else { 0.0 },
            rating_range: (meta.rating_min, meta.rating_max),
        }
    }

    /// Checks the shapes and values before anything is built from them: the
    /// matrices match the IDs, every value is finite, no ID repeats.
    pub fn check(&self, source: &str) -> Result<()> {
        let bad = |m: String| Err(Error::Data(format!("{source}: {m}")));
        if self.rank == 0 || self.rank > gramrec_core::MAX_FACTORS {
            return bad(format!("rank {} is outside 1..={}", self.rank, gramrec_core::MAX_FACTORS));
        }
        if self.bias_columns && self.rank < 3 {
            return bad("bias columns need a rank of at least 3".into());
        }
        for (side, ids, values) in [("user", &self.user_ids, &self.users), ("item", &self.item_ids, &self.items)] {
            if values.len() != ids.len() * self.rank {
                return bad(format!("{} {side} IDs for {} values of rank {}", ids.len(), values.len(), self.rank));
            }
            if let Some(at) = values.iter().position(|v| !v.is_finite()) {
                return bad(format!("{side} factor row {} holds a value that is not finite", at / self.rank));
            }
            let mut seen = std::collections::HashSet::with_capacity(ids.len());
            if let Some(dup) = ids.iter().find(|id| !seen.insert(id.as_str())) {
                return bad(format!("{side} ID '{}' appears twice", gramrec_core::text::excerpt(dup, 60)));
            }
        }
        if self.item_ids.is_empty() {
            return bad("the model has no items".into());
        }
        // The settings it carries, checked here so a bad one is named with
        // its source rather than found corrupt in the file written from it.
        let (min, max) = self.rating_range;
        if let Some(e) = self.params.limits_error().or_else(|| range_error(min, max)) {
            return bad(format!("the model's settings: {e}"));
        }
        if !self.global_mean.is_finite() {
            return bad("the model's global mean is not finite".into());
        }
        Ok(())
    }

    /// The model as gramrec factor files, factors stored as
    /// `dtype`. Bias columns become biases again; YᵀY is computed for
    /// implicit models. Without training counts the items' popularity (the
    /// cold-start order) is the order of their mean score over all users.
    pub fn into_factor_files(self, dtype: Dtype, provenance: Provenance) -> ModelFiles {
        let biased = self.bias_columns;
        let f = if biased { self.rank - 2 } else { self.rank };
        let params = ModelParams { factors: f, biases: biased, ..self.params };
        let popularity = provenance.popularity.unwrap_or_else(|| self.mean_score_order());
        let split = |rows: &[f32], bias_col: usize, offset: f32| -> (Vec<f32>, Option<Vec<f32>>) {
            if !biased {
                return (rows.to_vec(), None);
            }
            let chunks = rows.chunks_exact(self.rank);
            let factors = chunks.clone().flat_map(|r| &r[..f]).copied().collect();
            (factors, Some(chunks.map(|r| r[bias_col] - offset).collect()))
        };
        let (uf, ub) = split(&self.users, f, self.global_mean);
        let (itf, ib) = split(&self.items, f + 1, 0.0);
        let (rating_min, rating_max) = self.rating_range;
        let meta = |side| Metadata {
            side,
            params,
            global_mean: if biased { self.global_mean } else { 0.0 },
            rating_min,
            rating_max,
            training: TrainingFacts { interactions: None, ..provenance.facts.clone() },
        };
        let users = FactorFile {
            meta: meta(Side::Users),
            ids: self.user_ids,
            factors: Factors::encode(&uf, f, dtype),
            biases: ub,
            gram: None,
            popularity: None,
            info: None,
            seen: provenance.seen,
            prior: None,
        };
        let items = FactorFile {
            meta: meta(Side::Items),
            ids: self.item_ids,
            gram: (params.kind == ModelKind::Implicit).then(|| gram_matrix(&itf, f)),
            factors: Factors::encode(&itf, f, dtype),
            biases: ib,
            popularity: Some(popularity),
            info: None,
            seen: None,
            prior: None,
        };
        ModelFiles { users, items }
    }

    /// A stand-in for interaction counts: item i gets (items − its rank) by
    /// the mean user's score, so cold-start visitors see the items the
    /// average user would be recommended.
    fn mean_score_order(&self) -> Vec<u32> {
        let n = self.item_ids.len();
        let mut mean = vec![0.0f64; self.rank];
        for row in self.users.chunks_exact(self.rank) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += f64::from(v);
            }
        }
        let mean: Vec<f32> = mean.iter().map(|&m| (m / self.user_ids.len().max(1) as f64) as f32).collect();
        let scores: Vec<f32> = self.items.chunks_exact(self.rank).map(|q| dot_product(&mean, q)).collect();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let mut popularity = vec![0u32; n];
        for (rank, &i) in order.iter().enumerate() {
            popularity[i] = (n - rank).min(u32::MAX as usize) as u32;
        }
        popularity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gramrec_core::Model;

    fn model(kind: ModelKind) -> ModelFiles {
        let params = ModelParams { factors: 2, ..ModelParams::for_kind(kind) };
        let dense = DenseModel {
            params,
            rank: 2,
            user_ids: vec!["u1".into(), "u2".into()],
            users: vec![0.5, -1.0, 2.0, 0.25],
            item_ids: vec!["a".into(), "b".into(), "c".into()],
            items: vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0],
            bias_columns: false,
            global_mean: 0.0,
            rating_range: (f32::MIN, f32::MAX),
        };
        dense.into_factor_files(Dtype::F32, Provenance::default())
    }

    #[test]
    fn bias_columns_make_the_dot_product_the_prediction_and_come_back_as_biases() {
        let mut files = model(ModelKind::Explicit);
        files.users.biases = Some(vec![0.5, -0.25]);
        files.items.biases = Some(vec![0.1, 0.2, -0.3]);
        for f in files.both_mut() {
            f.meta.params.biases = true;
            f.meta.global_mean = 3.5;
        }
        let original = Model::new(files.clone()).unwrap();
        let dense = DenseModel::from_factor_files(&files);
        assert_eq!(dense.rank, 4);
        for (u, p) in dense.users.chunks_exact(4).enumerate() {
            for (i, q) in dense.items.chunks_exact(4).enumerate() {
                let want = original.items.predict(&original.user_at(u), i).unwrap();
                assert!((dot_product(p, q) - want).abs() < 1e-6, "user {u} item {i}");
            }
        }
        let back = Model::new(dense.into_factor_files(Dtype::F32, Provenance::default())).unwrap();
        for u in 0..2 {
            for i in 0..3 {
                let (a, b) = (original.items.predict(&original.user_at(u), i), back.items.predict(&back.user_at(u), i));
                assert!((a.unwrap() - b.unwrap()).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn popularity_without_counts_follows_the_mean_users_scores() {
        let items = model(ModelKind::Implicit).items;
        // Mean user (1.25, -0.375): scores a 1.25, b -0.375, c 0.875.
        assert_eq!(items.popularity, Some(vec![3, 1, 2]));
        assert!(items.gram.is_some());
    }

    #[test]
    fn check_names_what_is_wrong() {
        let files = model(ModelKind::Implicit);
        let mut dense = DenseModel::from_factor_files(&files);
        dense.item_ids[1] = "a".into();
        assert!(dense.check("x").unwrap_err().to_string().contains("item ID 'a' appears twice"));
        let mut dense = DenseModel::from_factor_files(&files);
        dense.users[3] = f32::NAN;
        assert!(dense.check("x").unwrap_err().to_string().contains("user factor row 1"));
        let mut dense = DenseModel::from_factor_files(&files);
        dense.items.pop();
        assert!(dense.check("x").unwrap_err().to_string().contains("3 item IDs for 5 values"));
    }
}
