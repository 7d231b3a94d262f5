//! Turning a trained model into factor files, and reading them back.

use std::collections::HashMap;
use std::path::Path;

use gramrec_core::format::{FactorFile, Metadata, Side};
use gramrec_core::linalg::gram_matrix;
use gramrec_core::quant::Factors;
use gramrec_core::{Dtype, ItemModel, UserVector};

use crate::als::Trained;
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;

/// File name of the item factors inside a model directory.
pub const ITEMS_FILE: &str = "items.gramrec";
/// File name of the user factors inside a model directory.
pub const USERS_FILE: &str = "users.gramrec";

/// The (users, items) factor files of a trained model.
pub fn factor_files(data: &Dataset, model: &Trained, dtype: Dtype) -> (FactorFile, FactorFile) {
    let params = model.config.params;
    let (f, d) = (params.factors, params.dim());
    let (rating_min, rating_max, _) = data.value_range();
    let c = &model.config;
    let training = vec![
        ("iterations".to_string(), c.iterations.to_string()),
        ("solver".to_string(), c.solver.to_string()),
        ("cg_steps".to_string(), c.cg_steps.to_string()),
        ("seed".to_string(), c.seed.to_string()),
        ("interactions".to_string(), data.nnz().to_string()),
        ("device".to_string(), model.device.clone()),
        ("gramrec".to_string(), env!("CARGO_PKG_VERSION").to_string()),
        ("run".to_string(), run_id()),
    ];
    let meta = |side| Metadata {
        side,
        params,
        global_mean: model.global_mean,
        rating_min,
        rating_max,
        training: training.clone(),
    };
    let split = |rows: &[f32]| -> (Vec<f32>, Option<Vec<f32>>) {
        let factors = rows.chunks_exact(d).flat_map(|r| &r[..f]).copied().collect();
        let biases = params.uses_biases().then(|| rows.chunks_exact(d).map(|r| r[f]).collect());
        (factors, biases)
    };
    let (uf, ub) = split(&model.users);
    let (itf, ib) = split(&model.items);
    let degrees =
        |csr: &crate::csr::Csr| (0..csr.rows()).map(|r| csr.degree(r).min(u32::MAX as usize) as u32).collect();
    let users = FactorFile {
        meta: meta(Side::Users),
        ids: data.users.clone(),
        factors: Factors::encode(&uf, f, dtype),
        biases: ub,
        gram: None,
        popularity: Some(degrees(&data.by_user)),
    };
    let items = FactorFile {
        meta: meta(Side::Items),
        ids: data.items.clone(),
        gram: Some(gram_matrix(&itf, f)),
        factors: Factors::encode(&itf, f, dtype),
        biases: ib,
        popularity: Some(degrees(&data.by_item)),
    };
    (users, items)
}

/// Identifies one training run, so the two files of a model can be checked
/// to belong together (a kill between their two renames could mix runs).
fn run_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{:x}-{:x}", nanos, std::process::id())
}

/// The value of a training fact in a file's metadata.
fn training_fact<'f>(file: &'f FactorFile, key: &str) -> Option<&'f str> {
    file.meta.training.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Writes one factor file atomically.
pub fn write_factor_file(path: &Path, file: &FactorFile) -> Result<()> {
    write_atomic(path, |w| file.write_to(w))
}

/// Writes `DIR/users.gramrec` and `DIR/items.gramrec`, creating DIR.
pub fn write_model(dir: &Path, files: &(FactorFile, FactorFile)) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    // Validate both before writing either, so a bad model replaces nothing.
    for f in [&files.0, &files.1] {
        f.validate().map_err(|e| Error::Usage(format!("refusing to write the model: {e}")))?;
    }
    write_factor_file(&dir.join(ITEMS_FILE), &files.1)?;
    write_factor_file(&dir.join(USERS_FILE), &files.0)
}

/// Reads and validates one factor file.
pub fn read_factor_file(path: &Path) -> Result<FactorFile> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    FactorFile::from_bytes(&bytes).map_err(|e| Error::Model { path: path.to_path_buf(), source: e.into() })
}

/// A whole model: the item side ready to score, and the known users' rows.
#[derive(Debug, Clone)]
pub struct Model {
    /// The item side.
    pub items: ItemModel,
    user_ids: Vec<String>,
    user_index: HashMap<String, usize>,
    user_rows: Vec<f32>,
}

impl Model {
    /// Builds a model from its two factor files.
    pub fn from_files(users: FactorFile, items: FactorFile, path: &Path) -> Result<Self> {
        let model_err = |e| Error::Model { path: path.to_path_buf(), source: e };
        if let (Some(a), Some(b)) = (training_fact(&users, "run"), training_fact(&items, "run")) {
            if a != b {
                return Err(Error::Usage(format!(
                    "{}: users.gramrec and items.gramrec come from different training runs \
                     (was a run interrupted while writing?): train again",
                    path.display()
                )));
            }
        }
        let items = ItemModel::new(items).map_err(model_err)?;
        if users.meta.side != Side::Users || users.meta.params != items.meta().params {
            return Err(Error::Usage(format!(
                "{}: the user and item files are not from the same model",
                path.display()
            )));
        }
        let user_rows = users.rows_with_biases();
        let user_ids = users.ids.clone();
        let user_index = users.ids.into_iter().enumerate().map(|(i, id)| (id, i)).collect();
        Ok(Self { items, user_ids, user_index, user_rows })
    }

    /// Reads `DIR/users.gramrec` and `DIR/items.gramrec`.
    pub fn load(dir: &Path) -> Result<Self> {
        let users = read_factor_file(&dir.join(USERS_FILE))?;
        let items = read_factor_file(&dir.join(ITEMS_FILE))?;
        Self::from_files(users, items, dir)
    }

    /// The row of a known user.
    pub fn user_row(&self, id: &str) -> Option<usize> {
        self.user_index.get(id).copied()
    }

    /// The vector of the user at `row`.
    pub fn user_at(&self, row: usize) -> UserVector {
        let d = self.items.meta().params.dim();
        UserVector(self.user_rows[row * d..(row + 1) * d].to_vec())
    }

    /// A known user's vector.
    pub fn user(&self, id: &str) -> Option<UserVector> {
        self.user_row(id).map(|u| self.user_at(u))
    }

    /// Known users' IDs, by row.
    pub fn user_ids(&self) -> &[String] {
        &self.user_ids
    }

    /// Number of known users.
    pub fn user_count(&self) -> usize {
        self.user_index.len()
    }
}
