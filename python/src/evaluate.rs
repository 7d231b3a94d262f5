//! `evaluate` and `rules`: a model measured on held-out interactions, and
//! association rules mined from baskets, as `gramrec evaluate --json` and
//! `gramrec rules` compute them.

use gramrec_rules::{mine, RulesOptions, Support, DEFAULT_MAX_ITEMSETS, DEFAULT_MAX_RULES};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::to_py;
use crate::interactions::Interactions;
use crate::model::Model;

/// The figures of `gramrec evaluate --json` (as JSON text, camelCase):
/// `model` on `test`, each user's training items (the model's record, or
/// `train`'s) left out, ranking metrics at `k`.
#[pyfunction]
#[pyo3(signature = (model, test, k, train=None))]
pub fn evaluate(
    py: Python<'_>,
    model: &Model,
    test: &Interactions,
    k: usize,
    train: Option<&Interactions>,
) -> PyResult<String> {
    if k == 0 {
        return Err(PyValueError::new_err("k must be at least 1"));
    }
    let train = train.map(|t| &t.inner);
    let figures = py.detach(|| gramrec_eval::evaluate(model.inner(), train, &test.inner, k)).map_err(to_py)?;
    serde_json::to_string(&figures).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The rules of `baskets` (each user a basket) as `gramrec rules` mines
/// them (Spark's FPGrowth): (antecedent IDs, consequent ID, confidence,
/// lift, support) best first. `min_support` is Spark's: a fraction of the
/// baskets, or (a whole number) a count of them.
#[pyfunction]
#[pyo3(signature = (baskets, min_support, min_confidence, max_len=None, max_itemsets=None))]
#[allow(clippy::type_complexity)]
pub fn rules(
    py: Python<'_>,
    baskets: &Interactions,
    min_support: &str,
    min_confidence: f64,
    max_len: Option<usize>,
    max_itemsets: Option<usize>,
) -> PyResult<Vec<(Vec<String>, String, f64, f64, f64)>> {
    let min_support: Support =
        min_support.parse().map_err(|e: String| PyValueError::new_err(format!("min_support {e}")))?;
    let options = RulesOptions {
        min_support,
        min_confidence,
        max_len,
        max_itemsets: max_itemsets.unwrap_or(DEFAULT_MAX_ITEMSETS),
        max_rules: DEFAULT_MAX_RULES,
    };
    let mined = py.detach(|| mine(&baskets.inner, &options)).map_err(to_py)?;
    let set = &mined.rules;
    Ok(set
        .rules
        .iter()
        .map(|r| {
            let mut v = set.view(r);
            (v.antecedent, v.consequent.pop().unwrap_or_default(), v.confidence, v.lift, v.support)
        })
        .collect())
}
