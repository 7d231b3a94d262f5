//! A trained model's rows changed without retraining it (the Python
//! package's `partial_fit_users` and `partial_fit_items`, as
//! benfred/implicit's): rows solved anew against the other side
//! ([`ItemModel::fold_in`](super::ItemModel::fold_in),
//! [`Model::solve_item`](super::Model::solve_item)) are written into the
//! model's files, which are then read again.

use std::collections::HashMap;

use super::{ModelError, UserVector};
use crate::format::{FactorFile, ModelFiles, SeenItems};
use crate::linalg::gram_matrix;
use crate::quant::Factors;

/// One row solved anew.
#[derive(Debug, Clone)]
pub struct RowUpdate {
    /// The row's ID: the row of that ID is replaced, or a row appended.
    pub id: String,
    /// Its values: the factors, then the bias when the model has biases.
    pub vector: UserVector,
    /// The rows of the other side it was solved from, ascending, each once.
    pub rows: Vec<u32>,
    /// The value (merged rating or strength) of each of `rows`.
    pub values: Vec<f32>,
}

impl ModelFiles {
    /// Replaces or appends users' rows, recording their training items (what
    /// `recommend` leaves out and `serve` solves a row again from) where the
    /// file records them.
    pub fn update_users(&mut self, updates: &[RowUpdate]) -> Result<(), ModelError> {
        let rows = update_rows(&mut self.users, updates)?;
        if let Some(seen) = &self.users.seen {
            let replaced: HashMap<usize, &RowUpdate> = rows.into_iter().zip(updates).collect();
            self.users.seen = Some(rebuilt(seen, self.items.ids.len(), self.users.ids.len(), &replaced));
        }
        Ok(())
    }

    /// Replaces or appends items' rows. The items' YᵀY is computed again; a
    /// changed item's popularity becomes its history's length; users'
    /// training items stay as they were (rows keep their numbers).
    pub fn update_items(&mut self, updates: &[RowUpdate]) -> Result<(), ModelError> {
        update_rows(&mut self.items, updates)?;
        let (n, f) = (self.items.ids.len(), self.items.meta.params.factors);
        if self.items.gram.is_some() {
            self.items.gram = Some(gram_matrix(&self.items.factors.to_f32(f), f));
        }
        if let Some(info) = &mut self.items.info {
            for field in [&mut info.names, &mut info.urls, &mut info.images].into_iter().filter(|v| !v.is_empty()) {
                field.resize(n);
            }
        }
        if let Some(seen) = self.users.seen.as_ref().filter(|s| s.item_count() != n) {
            self.users.seen = Some(rebuilt(seen, n, self.users.ids.len(), &HashMap::new()));
        }
        Ok(())
    }
}

/// Writes `updates` into `file` (an ID it lacks gets a new row at the end):
/// factors in the file's dtype, biases, and popularity (the history's
/// length). Returns each update's row.
fn update_rows(file: &mut FactorFile, updates: &[RowUpdate]) -> Result<Vec<usize>, ModelError> {
    let p = file.meta.params;
    let (f, dim) = (p.factors, p.dim());
    if let Some(u) = updates.iter().find(|u| u.vector.0.len() != dim) {
        return Err(ModelError::Dimension(u.vector.0.len(), dim));
    }
    let mut index: HashMap<String, usize> = HashMap::new();
    let rows: Vec<usize> = {
        let known: HashMap<&str, usize> = file.ids.iter().enumerate().map(|(r, id)| (id.as_str(), r)).collect();
        updates
            .iter()
            .map(|u| match known.get(u.id.as_str()) {
                Some(&r) => r,
                None => {
                    let next = file.ids.len() + index.len();
                    *index.entry(u.id.clone()).or_insert(next)
                }
            })
            .collect()
    };
    let mut added: Vec<(String, usize)> = index.into_iter().collect();
    added.sort_by_key(|(_, r)| *r);
    file.ids.extend(added.into_iter().map(|(id, _)| id));
    let n = file.ids.len();
    let mut factors = file.factors.to_f32(f);
    factors.resize(n * f, 0.0);
    if let Some(b) = &mut file.biases {
        b.resize(n, 0.0);
    }
    if let Some(pop) = &mut file.popularity {
        pop.resize(n, 0);
    }
    for (&r, u) in rows.iter().zip(updates) {
        factors[r * f..(r + 1) * f].copy_from_slice(&u.vector.0[..f]);
        if let Some(b) = file.biases.as_mut().filter(|_| p.uses_biases()) {
            b[r] = u.vector.0[f];
        }
        if let Some(pop) = &mut file.popularity {
            pop[r] = u.rows.len() as u32;
        }
    }
    file.factors = Factors::encode(&factors, f, file.factors.dtype());
    Ok(rows)
}

/// `seen` for `users` users over `items` items, the rows of `replaced` swapped
/// for their updates' (users past the old end without one have none).
fn rebuilt(seen: &SeenItems, items: usize, users: usize, replaced: &HashMap<usize, &RowUpdate>) -> SeenItems {
    let row = |u: usize| match replaced.get(&u) {
        Some(up) => (up.rows.as_slice(), up.values.as_slice()),
        None if u < seen.rows() => (seen.row(u), seen.row_values(u).unwrap_or(&[])),
        None => (&[][..], &[][..]),
    };
    if seen.has_values() {
        SeenItems::from_rows_with_values(items, (0..users).map(row))
    } else {
        SeenItems::from_rows(items, (0..users).map(|u| row(u).0))
    }
}
