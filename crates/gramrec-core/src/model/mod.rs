//! Scoring with a trained model: its item side ([`ItemModel`], all a web
//! page needs), its known users ([`UserFactors`]), and both together
//! ([`Model`]), with the answers they give ([`Recommendations`], [`ItemList`])
//! in the one JSON shape every output uses.

mod items;
mod update;
mod users;

use serde::Serialize;

pub use items::{merged, ItemModel, ItemRows};
pub use update::RowUpdate;
pub use users::UserFactors;

use crate::format::{FormatError, ItemDetails, ModelFiles, Side};
use crate::normal_eq::SolveError;
use crate::params::ModelParams;

/// A user's row: the factors, then the bias when the model has biases.
#[derive(Debug, Clone, PartialEq)]
pub struct UserVector(pub Vec<f32>);

/// One recommended item, with its name, link and image when the model has them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The item's original ID.
    pub item: String,
    /// Predicted rating (explicit, clipped to the training range), preference
    /// (implicit), cosine similarity (`similar`) or interaction count (`popular`).
    pub score: f32,
    /// Its name, page and image, where the model has them.
    #[serde(flatten)]
    pub details: ItemDetails,
}

/// The answer to a recommendation request: `{items, coldStart, unknown}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recommendations {
    /// Best first.
    pub items: Vec<Recommendation>,
    /// True when the history held no known item (or the user is unknown), so
    /// these are the popular items.
    pub cold_start: bool,
    /// History entries whose item the model does not know (ignored).
    pub unknown: Vec<String>,
}

/// Items without a user: similar or popular items, `{items}` (and, when an
/// item asked about is not in the model, `unknown`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemList {
    /// Best first.
    pub items: Vec<Recommendation>,
    /// Items asked about that the model does not know.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<String>,
}

/// Why factor files cannot serve as a model, or scoring failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// The bytes are not a valid factor file.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// A user file was given where an item file was expected.
    #[error("this is a user factor file; recommendations need the item factor file (items.gramrec)")]
    NotItems,
    /// An item file was given where a user file was expected.
    #[error("this is an item factor file where the user factor file (users.gramrec) was expected")]
    NotUsers,
    /// Two rows share an ID.
    #[error("the ID '{}' appears twice", crate::text::excerpt(.0, 80))]
    DuplicateId(String),
    /// The two files of a model come from different training runs.
    #[error("users.gramrec and items.gramrec come from different training runs (was a run interrupted while writing?): train again")]
    MixedRuns,
    /// The two files disagree on the model's parameters.
    #[error("the user and item files are not from the same model")]
    Mismatch,
    /// The user file's seen items index another item count.
    #[error("the user file's seen items refer to {0} items but the item file has {1}")]
    SeenMismatch(usize, usize),
    /// A user row has the wrong length for this model.
    #[error("user vector has {0} values, the model needs {1}")]
    Dimension(usize, usize),
    /// Fold-in failed.
    #[error("fold-in failed: {0}")]
    Solve(#[from] SolveError),
}

/// A whole model: the item side ready to score, and the known users' rows.
#[derive(Debug, Clone)]
pub struct Model {
    /// The item side.
    pub items: ItemModel,
    /// The users the model was trained on.
    pub users: UserFactors,
}

impl Model {
    /// Builds a model from its two factor files, checking that they belong
    /// together (same training run, same parameters).
    pub fn new(files: ModelFiles) -> Result<Self, ModelError> {
        let ModelFiles { users, items } = files;
        if users.meta.side != Side::Users {
            return Err(ModelError::NotUsers);
        }
        let (a, b) = (&users.meta.training.run, &items.meta.training.run);
        if a.is_some() && b.is_some() && a != b {
            return Err(ModelError::MixedRuns);
        }
        let params = users.meta.params;
        Self::from_parts(UserFactors::new(users)?, ItemModel::new(items)?, params)
    }

    /// A model from its two sides, checking that the users' rows and seen
    /// items fit the items (`params`: the users' parameters).
    pub fn from_parts(users: UserFactors, items: ItemModel, params: ModelParams) -> Result<Self, ModelError> {
        if params != items.meta().params {
            return Err(ModelError::Mismatch);
        }
        if let Some(seen) = users.seen().filter(|s| s.item_count() != items.len()) {
            return Err(ModelError::SeenMismatch(seen.item_count(), items.len()));
        }
        Ok(Self { items, users })
    }

    /// The item rows the user at `row` had in training, ascending, when the
    /// model records them (`None` for a version-1 model or one exported
    /// without them).
    pub fn seen(&self, row: usize) -> Option<&[u32]> {
        self.users.seen().map(|s| s.row(row))
    }

    /// The user at `row`'s training interactions as (item row, value), the
    /// value being the merged rating or count training solved the row from:
    /// what [`ItemModel::fold_in`] needs to solve the row again. `None` when
    /// the model records the items but not their values (or neither).
    pub fn training_history(&self, row: usize) -> Option<Vec<(usize, f32)>> {
        let seen = self.users.seen()?;
        let values = seen.row_values(row)?;
        Some(seen.row(row).iter().zip(values).map(|(&i, &v)| (i as usize, v)).collect())
    }

    /// The `k` best items for a known user, leaving out the items they had
    /// in training (where the model records them, as models gramrec trains
    /// do); `None` for a user the model does not know.
    pub fn recommend_user(&self, id: &str, k: usize) -> Option<Result<Vec<Recommendation>, ModelError>> {
        let row = self.user_row(id)?;
        let top = self.top_rows_for_users(&[row], k).map(|mut t| t.pop().unwrap_or_default());
        Some(top.map(|top| top.into_iter().map(|(i, s)| self.items.recommendation(i, s)).collect()))
    }

    /// The `k` best (item row, presented score) pairs for each known user
    /// at `rows` (each below [`user_count`](Self::user_count)), leaving out
    /// their recorded training items, as [`recommend_user`](Self::recommend_user)
    /// and `recommend --all` rank them; one block, the item factors read
    /// once for all of them (callers parallelise over blocks).
    pub fn top_rows_for_users(&self, rows: &[usize], k: usize) -> Result<Vec<Vec<(usize, f32)>>, ModelError> {
        let users: Vec<UserVector> = rows.iter().map(|&u| self.user_at(u)).collect();
        let users: Vec<&UserVector> = users.iter().collect();
        let seen: Vec<Vec<usize>> =
            rows.iter().map(|&u| self.seen(u).unwrap_or_default().iter().map(|&i| i as usize).collect()).collect();
        let seen: Vec<&[usize]> = seen.iter().map(Vec::as_slice).collect();
        self.items.top_rows_block(&users, k, &seen)
    }

    /// YᵀY of the users' factors for an implicit model (solving items
    /// against the users needs it; computed once for a batch of
    /// [`solve_item`](Self::solve_item)), `None` for an explicit one.
    pub fn user_gram(&self) -> Option<Vec<f32>> {
        let p = self.items.meta().params;
        (p.kind == crate::params::ModelKind::Implicit).then(|| self.users.gram(p.factors))
    }

    /// Solves an item's row from (user row, value) pairs against the users,
    /// as training's item half-iteration solves it (`user_gram` from
    /// [`user_gram`](Self::user_gram)); repeated users merged as
    /// [`merged`] merges them.
    pub fn solve_item(&self, user_gram: Option<&[f32]>, history: &[(usize, f32)]) -> Result<UserVector, ModelError> {
        let meta = self.items.meta();
        let fixed_row = |u: usize, out: &mut Vec<f32>| out.extend_from_slice(self.users.row_values(u));
        let fixed = items::Fixed { rows: self.user_count(), gram: user_gram, global_mean: meta.global_mean };
        items::solve_row(meta.params, history, fixed, fixed_row, self.items.prior_of(Side::Items))
    }

    /// The row of a known user.
    pub fn user_row(&self, id: &str) -> Option<usize> {
        self.users.row_of(id)
    }

    /// The vector of the user at `row`.
    pub fn user_at(&self, row: usize) -> UserVector {
        self.users.vector(row)
    }

    /// A known user's vector.
    pub fn user(&self, id: &str) -> Option<UserVector> {
        self.user_row(id).map(|u| self.user_at(u))
    }

    /// Known users' IDs, by row.
    pub fn user_ids(&self) -> &[String] {
        self.users.ids()
    }

    /// Number of known users.
    pub fn user_count(&self) -> usize {
        self.users.len()
    }
}
