//! Measuring a model on held-out interactions (definitions in docs/METRICS.md).
//!
//! Explicit models: RMSE and MAE of the (clipped) predicted rating over test
//! pairs whose user and item the model knows. Implicit models: ranking
//! metrics at k over the full catalogue, each user's training items excluded
//! from the ranking, averaged over users with at least one known test item.

use std::collections::HashMap;

use gramrec_core::metrics::{at_k, auc_and_percentile, RankingTotals};
use gramrec_core::topk::top_k;
use gramrec_core::ModelKind;
use rayon::prelude::*;

use crate::error::Result;
use crate::load::Interactions;
use crate::output::Model;

/// Evaluation results; `None` for metrics that do not apply to the model kind.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Evaluation {
    /// "explicit" or "implicit".
    pub kind: String,
    /// The cut-off of the ranking metrics.
    pub k: usize,
    /// Test interactions read.
    pub test_interactions: usize,
    /// Test interactions whose user the model does not know.
    pub unknown_user: usize,
    /// Test interactions whose item the model does not know.
    pub unknown_item: usize,
    /// Pairs (explicit) or users (implicit) the metrics average over.
    pub evaluated: usize,
    /// Root mean squared error.
    pub rmse: Option<f64>,
    /// Mean absolute error.
    pub mae: Option<f64>,
    /// Precision at k.
    pub precision: Option<f64>,
    /// Recall at k.
    pub recall: Option<f64>,
    /// Mean average precision at k.
    pub map: Option<f64>,
    /// Normalised discounted cumulative gain at k.
    pub ndcg: Option<f64>,
    /// Area under the ROC curve.
    pub auc: Option<f64>,
    /// Mean percentile rank (0 best, 0.5 random).
    pub mpr: Option<f64>,
}

/// Evaluates `model` on `test`, excluding `train`'s items from each user's ranking.
pub fn evaluate(
    model: &Model,
    train: Option<&Interactions>,
    test: &Interactions,
    k: usize,
) -> Result<Evaluation> {
    let items = &model.items;
    let kind = items.meta().params.kind;
    let mut ev = Evaluation {
        kind: kind.to_string(),
        k,
        test_interactions: test.len(),
        ..Default::default()
    };
    // Map the test file's users and items to model rows once.
    let user_rows: Vec<Option<usize>> = (0..test.users.len())
        .map(|u| model.user_row(test.users.id(u as u32)))
        .collect();
    let item_rows: Vec<Option<usize>> = (0..test.items.len())
        .map(|i| items.index_of(test.items.id(i as u32)))
        .collect();
    let mut per_user: HashMap<usize, Vec<(usize, f32)>> = HashMap::new();
    for ((&u, &i), &r) in test.user.iter().zip(&test.item).zip(&test.value) {
        match (user_rows[u as usize], item_rows[i as usize]) {
            (None, _) => ev.unknown_user += 1,
            (_, None) => ev.unknown_item += 1,
            (Some(u), Some(i)) => per_user.entry(u).or_default().push((i, r)),
        }
    }
    let mut users: Vec<(usize, Vec<(usize, f32)>)> = per_user.into_iter().collect();
    users.sort_unstable_by_key(|(u, _)| *u);

    match kind {
        ModelKind::Explicit => {
            let errors: Vec<f64> = users
                .par_iter()
                .map(|(u, pairs)| -> Result<Vec<f64>> {
                    let x = model.user_at(*u);
                    pairs
                        .iter()
                        .map(|&(i, r)| {
                            Ok(
                                (items.present(items.predict(&x, i).map_err(model_error)?) - r)
                                    as f64,
                            )
                        })
                        .collect()
                })
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .flatten()
                .collect();
            let n = errors.len().max(1) as f64;
            ev.evaluated = errors.len();
            ev.rmse = Some((errors.iter().map(|e| e * e).sum::<f64>() / n).sqrt());
            ev.mae = Some(errors.iter().map(|e| e.abs()).sum::<f64>() / n);
        }
        ModelKind::Implicit => {
            let mut seen: HashMap<usize, Vec<usize>> = HashMap::new();
            if let Some(train) = train {
                for (&u, &i) in train.user.iter().zip(&train.item) {
                    if let (Some(u), Some(i)) = (
                        model.user_row(train.users.id(u)),
                        items.index_of(train.items.id(i)),
                    ) {
                        seen.entry(u).or_default().push(i);
                    }
                }
            }
            let per_user: Vec<_> = users
                .par_iter()
                .map(|(u, pairs)| -> Result<Option<_>> {
                    let mut relevant: Vec<usize> =
                        pairs.iter().filter(|p| p.1 > 0.0).map(|p| p.0).collect();
                    relevant.sort_unstable();
                    relevant.dedup();
                    let mut excluded = vec![false; items.len()];
                    for &i in seen.get(u).map(Vec::as_slice).unwrap_or(&[]) {
                        excluded[i] = true;
                    }
                    relevant.retain(|&i| !excluded[i]);
                    if relevant.is_empty() {
                        return Ok(None);
                    }
                    let scores = items.score_all(&model.user_at(*u)).map_err(model_error)?;
                    let ranked: Vec<usize> = top_k(&scores, k, |i| excluded[i])
                        .into_iter()
                        .map(|(i, _)| i)
                        .collect();
                    Ok(Some((
                        at_k(&ranked, &relevant, k),
                        auc_and_percentile(&scores, &relevant, |i| !excluded[i]),
                    )))
                })
                .collect::<Result<Vec<_>>>()?;
            let mut totals = RankingTotals::default();
            for (m, auc) in per_user.into_iter().flatten() {
                totals.add(m, auc);
            }
            let (m, auc, mpr) = totals.mean();
            ev.evaluated = totals.users;
            ev.precision = Some(m.precision);
            ev.recall = Some(m.recall);
            ev.map = Some(m.average_precision);
            ev.ndcg = Some(m.ndcg);
            ev.auc = Some(auc);
            ev.mpr = Some(mpr);
        }
    }
    Ok(ev)
}

fn model_error(e: gramrec_core::model::ModelError) -> crate::error::Error {
    crate::error::Error::Usage(e.to_string())
}
