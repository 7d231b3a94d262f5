//! A trained model and what it becomes: factor files to save ([`Trained::files`])
//! or a [`Model`] to score in memory ([`Trained::model`]), both built from the
//! same rows so that scoring a model just trained and scoring it after saving
//! give the same answers.

use gramrec_core::linalg::gram_matrix;
use gramrec_core::quant::Factors;
use gramrec_core::{
    Dtype, FactorFile, ItemInfo, ItemModel, ItemRows, LearnedPrior, Metadata, Model, ModelError, ModelFiles, SeenItems,
    Side, TrainingFacts, UserFactors,
};
use gramrec_data::{Csr, Dataset};

use crate::config::{Method, TrainConfig};
use crate::driver::IterationReport;

/// A trained model in memory: the factors of the rows of the [`Dataset`] it
/// was trained on.
#[derive(Debug, Clone)]
pub struct Trained {
    /// How it was trained.
    pub config: TrainConfig,
    /// User rows × `params.dim()` (factors, then bias).
    pub users: Vec<f32>,
    /// Item rows × `params.dim()`.
    pub items: Vec<f32>,
    /// μ (explicit models with biases).
    pub global_mean: f32,
    /// Per-iteration figures.
    pub history: Vec<IterationReport>,
    /// Which backend ran it.
    pub device: String,
    /// What a Bayesian model learned beside its factors (`method = bayes`).
    pub prior: Option<LearnedPrior>,
}

impl Trained {
    /// The model's two factor files, factors stored as `dtype`: the user side
    /// with each user's training items and values (for fold-in from a
    /// history and for leaving seen items out), the item side with YᵀY and
    /// popularity. `data` is the dataset it was trained on.
    pub fn files(&self, data: &Dataset, dtype: Dtype) -> ModelFiles {
        let f = self.config.params.factors;
        let meta = self.metadata(data);
        let (user_factors, user_biases) = self.split(&self.users);
        let (item_factors, item_biases) = self.split(&self.items);
        let users = FactorFile {
            meta: Metadata { side: Side::Users, ..meta.clone() },
            ids: data.users.clone(),
            factors: Factors::encode(&user_factors, f, dtype),
            biases: user_biases,
            gram: None,
            popularity: Some(degrees(&data.by_user)),
            info: None,
            seen: Some(seen(data)),
            prior: None,
        };
        let items = FactorFile {
            meta,
            ids: data.items.clone(),
            gram: Some(gram_matrix(&item_factors, f)),
            factors: Factors::encode(&item_factors, f, dtype),
            biases: item_biases,
            popularity: Some(degrees(&data.by_item)),
            info: None,
            seen: None,
            prior: self.prior.clone(),
        };
        ModelFiles { users, items }
    }

    /// The model ready to score, as [`files`](Self::files) with f32 factors
    /// would load, without encoding and decoding them.
    pub fn model(&self, data: &Dataset) -> Result<Model, ModelError> {
        let params = self.config.params;
        let (factors, biases) = self.split(&self.items);
        let items = ItemModel::from_rows(ItemRows {
            meta: self.metadata(data),
            ids: data.items.clone(),
            gram: Some(gram_matrix(&factors, params.factors)),
            factors: Factors::F32(factors),
            biases,
            popularity: degrees(&data.by_item),
            info: ItemInfo::default(),
            prior: self.prior.clone(),
        })?;
        let users = UserFactors::from_rows(data.users.clone(), self.users.clone(), params.dim(), Some(seen(data)))?;
        Model::from_parts(users, items, params)
    }

    /// The item side's metadata: the parameters, μ, the rating range and the
    /// facts of the run (a new run ID, which both files share).
    fn metadata(&self, data: &Dataset) -> Metadata {
        let c = &self.config;
        let (rating_min, rating_max, _) = data.value_range();
        Metadata {
            side: Side::Items,
            params: c.params,
            global_mean: self.global_mean,
            rating_min,
            rating_max,
            training: TrainingFacts {
                iterations: Some(c.iterations),
                method: Some(c.method),
                samples: (c.method == Method::Bayes).then_some(c.bayes.samples),
                burn_in: (c.method == Method::Bayes).then_some(c.bayes.burn_in),
                solver: Some(c.solver),
                seed: Some(c.seed),
                interactions: Some(data.nnz() as u64),
                device: Some(self.device.clone()),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
                run: Some(gramrec_store::model_dir::new_run_id()),
                ..Default::default()
            },
        }
    }

    /// Rows × `dim` split into rows × factors and, when the model has
    /// biases, the bias column.
    fn split(&self, rows: &[f32]) -> (Vec<f32>, Option<Vec<f32>>) {
        let params = self.config.params;
        let (f, d) = (params.factors, params.dim());
        let factors = rows.chunks_exact(d).flat_map(|r| &r[..f]).copied().collect();
        let biases = params.uses_biases().then(|| rows.chunks_exact(d).map(|r| r[f]).collect());
        (factors, biases)
    }
}

/// Each row's interaction count (saturating at u32::MAX).
fn degrees(csr: &Csr) -> Vec<u32> {
    (0..csr.rows()).map(|r| csr.degree(r).min(u32::MAX as usize) as u32).collect()
}

/// Each user's training items, with the merged values training solved from.
fn seen(data: &Dataset) -> SeenItems {
    SeenItems::from_rows_with_values(data.items.len(), (0..data.by_user.rows()).map(|u| data.by_user.row(u)))
}
