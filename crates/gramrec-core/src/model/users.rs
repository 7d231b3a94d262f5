//! The users a model was trained on: their IDs and rows.

use std::collections::HashMap;

use super::{ModelError, UserVector};
use crate::format::{FactorFile, SeenItems};
use crate::linalg;
use crate::topk::top_k;

/// Known users' vectors (factors, then bias when the model has biases), by ID.
#[derive(Debug, Clone)]
pub struct UserFactors {
    ids: Vec<String>,
    index: HashMap<String, usize>,
    rows: Vec<f32>,
    dim: usize,
    seen: Option<SeenItems>,
}

impl UserFactors {
    /// From a user factor file.
    pub fn new(file: FactorFile) -> Result<Self, ModelError> {
        let rows = file.rows_with_biases();
        let dim = file.meta.params.dim();
        Self::from_rows(file.ids, rows, dim, file.seen)
    }

    /// From rows in memory (a model just trained): `rows` is ids × `dim`
    /// values, each row's factors then its bias when the model has biases;
    /// `seen` each user's training items.
    pub fn from_rows(
        ids: Vec<String>,
        rows: Vec<f32>,
        dim: usize,
        seen: Option<SeenItems>,
    ) -> Result<Self, ModelError> {
        if rows.len() != ids.len() * dim {
            return Err(ModelError::Dimension(rows.len(), ids.len() * dim));
        }
        let mut index = HashMap::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            if index.insert(id.clone(), i).is_some() {
                return Err(ModelError::DuplicateId(id.clone()));
            }
        }
        Ok(Self { ids, index, rows, dim, seen })
    }

    /// The row of a user ID.
    pub fn row_of(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The vector of the user at `row`.
    pub fn vector(&self, row: usize) -> UserVector {
        UserVector(self.row_values(row).to_vec())
    }

    /// The values (factors, then the bias) of the user at `row`.
    pub fn row_values(&self, row: usize) -> &[f32] {
        &self.rows[row * self.dim..(row + 1) * self.dim]
    }

    /// YᵀY of the users' first `factors` values (an implicit model's users
    /// have no bias column): what solving an item against them needs.
    pub fn gram(&self, factors: usize) -> Vec<f32> {
        crate::linalg::gram_matrix(&self.rows, factors)
    }

    /// Each user's training items, when the file records them.
    pub fn seen(&self) -> Option<&SeenItems> {
        self.seen.as_ref()
    }

    /// IDs by row.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The `k` user rows most like the user at `row` by the cosine of their
    /// first `factors` values (biases left out; 0 for a vector of zeros),
    /// best first, the user itself included unless `skip` leaves it out
    /// (benfred/implicit's `similar_users` ranks it first).
    pub fn similar_rows(
        &self,
        row: usize,
        factors: usize,
        k: usize,
        skip: impl Fn(usize) -> bool,
    ) -> Vec<(usize, f32)> {
        let at = |r: usize| &self.rows[r * self.dim..r * self.dim + factors];
        let q = at(row);
        let qn = linalg::dot_product(q, q).sqrt();
        let scores: Vec<f32> = (0..self.len())
            .map(|r| {
                let x = at(r);
                let n = linalg::dot_product(x, x).sqrt();
                if qn > 0.0 && n > 0.0 {
                    linalg::dot_product(q, x) / (qn * n)
                } else {
                    0.0
                }
            })
            .collect();
        top_k(&scores, k.min(self.len()), skip)
    }
}
