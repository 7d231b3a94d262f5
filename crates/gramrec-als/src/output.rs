//! A trained model as factor files: the user and item sides with their IDs,
//! biases, YᵀY, popularity and each user's training items, and the facts of
//! the run.

use gramrec_core::linalg::gram_matrix;
use gramrec_core::quant::Factors;
use gramrec_core::{Dtype, FactorFile, Metadata, SeenItems, Side, TrainingFacts};
use gramrec_data::{Csr, Dataset};

use crate::driver::Trained;

/// The (users, items) factor files of a trained model.
pub fn factor_files(data: &Dataset, model: &Trained, dtype: Dtype) -> (FactorFile, FactorFile) {
    let params = model.config.params;
    let (f, d) = (params.factors, params.dim());
    let (rating_min, rating_max, _) = data.value_range();
    let c = &model.config;
    let training = TrainingFacts {
        iterations: Some(c.iterations),
        solver: Some(c.solver),
        seed: Some(c.seed),
        interactions: Some(data.nnz() as u64),
        device: Some(model.device.clone()),
        version: Some(env!("CARGO_PKG_VERSION").to_string()),
        run: Some(gramrec_store::model_dir::new_run_id()),
        ..Default::default()
    };
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
    let degrees = |csr: &Csr| (0..csr.rows()).map(|r| csr.degree(r).min(u32::MAX as usize) as u32).collect();
    let users = FactorFile {
        meta: meta(Side::Users),
        ids: data.users.clone(),
        factors: Factors::encode(&uf, f, dtype),
        biases: ub,
        gram: None,
        popularity: Some(degrees(&data.by_user)),
        info: None,
        seen: Some(SeenItems::from_rows_with_values(
            data.items.len(),
            (0..data.by_user.rows()).map(|u| data.by_user.row(u)),
        )),
    };
    let items = FactorFile {
        meta: meta(Side::Items),
        ids: data.items.clone(),
        gram: Some(gram_matrix(&itf, f)),
        factors: Factors::encode(&itf, f, dtype),
        biases: ib,
        popularity: Some(degrees(&data.by_item)),
        info: None,
        seen: None,
    };
    (users, items)
}
