//! `Model`: a gramrec model held in Rust, scored from Python by row numbers
//! (the Python class maps a matrix's positions and the model's IDs onto
//! them), and saved as a model directory the CLI, the server and the
//! browser read.

use std::path::PathBuf;

use gramrec_core::model::RowUpdate;
use gramrec_core::quant::Factors;
use gramrec_core::{Dtype, ModelFiles, Recommendation, UserVector};
use gramrec_engine::{Fitted, SaveOptions};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use rayon::prelude::*;

use crate::errors::{to_py, unknown};
use crate::interactions::strings;

/// Where a model came from, for [`Model::save`]: a fit (its data and
/// factors), a directory's files, or a directory read for scoring alone
/// (nothing kept to save: a Spark executor's copy).
enum Source {
    Fitted(Box<Fitted>),
    Files(Box<ModelFiles>),
    ScoringOnly,
}

/// A trained model: the item side ready to score, the known users' rows,
/// and what saving it needs.
#[pyclass(module = "gramrec._gramrec", frozen)]
pub struct Model {
    model: gramrec_core::Model,
    source: Source,
}

/// Rows for a batch of users, (rows, scores) as NumPy arrays.
type Ranked<'py> = (Bound<'py, PyArray2<i64>>, Bound<'py, PyArray2<f32>>);

/// A side's factors (rows × factors) and biases (None without biases).
type Matrix<'py> = (Bound<'py, PyArray2<f32>>, Option<Bound<'py, PyArray1<f32>>>);

/// Users per parallel task when scoring: the item factors are read once
/// per block (the CLI's `recommend --all` blocks the same way).
const BLOCK: usize = 64;

/// A sparse matrix's rows as NumPy arrays: `indices[indptr[r]..indptr[r+1]]`
/// (with `values` alongside) is row `r`.
fn rows_of<'a, T>(indptr: &[i64], indices: &'a [T], what: &str) -> PyResult<Vec<&'a [T]>> {
    indptr
        .windows(2)
        .map(|w| {
            let range = usize::try_from(w[0]).ok().zip(usize::try_from(w[1]).ok());
            range
                .and_then(|(a, b)| indices.get(a..b))
                .ok_or_else(|| PyValueError::new_err(format!("{what}: indptr is not a valid CSR row index")))
        })
        .collect()
}

/// A row number as an index of a side of `n` rows, refused when outside it.
fn checked_row(r: i64, n: usize, side: &str) -> PyResult<usize> {
    usize::try_from(r)
        .ok()
        .filter(|&r| r < n)
        .ok_or_else(|| PyValueError::new_err(format!("{side} row {r} is not in the model ({n} {side}s)")))
}

/// Row numbers as indices of a side of `n` rows, refused when outside it.
fn checked_rows(rows: &[i64], n: usize, side: &str) -> PyResult<Vec<usize>> {
    rows.iter().map(|&r| checked_row(r, n, side)).collect()
}

/// The rows of a side of `n` rows that `always` names or, with
/// `candidates`, that lie outside them: ascending, each once.
fn left_out(n: usize, always: &[i64], candidates: Option<&[i64]>, side: &str) -> PyResult<Vec<usize>> {
    let mut out = vec![false; n];
    checked_rows(always, n, side)?.into_iter().for_each(|r| out[r] = true);
    if let Some(c) = candidates {
        let mut keep = vec![false; n];
        checked_rows(c, n, side)?.into_iter().for_each(|r| keep[r] = true);
        out.iter_mut().zip(keep).for_each(|(o, k)| *o |= !k);
    }
    Ok((0..n).filter(|&r| out[r]).collect())
}

/// Refuses a sparse matrix (`what`) holding a value that is not a finite
/// number within the bounds training takes.
fn checked_values(values: &[f32], what: &str) -> PyResult<()> {
    match values.iter().position(|&v| !gramrec_core::valid_value(v)) {
        Some(k) => Err(PyValueError::new_err(format!(
            "{what}: the value {} (stored value {k}) is not a finite number within ±{:e}",
            values[k],
            gramrec_core::MAX_VALUE
        ))),
        None => Ok(()),
    }
}

/// Pads each row to `k` entries (row -1, score -inf) and stacks them.
fn stack<'py>(py: Python<'py>, tops: Vec<Vec<(usize, f32)>>, k: usize) -> Ranked<'py> {
    let mut rows = Array2::from_elem((tops.len(), k), -1i64);
    let mut scores = Array2::from_elem((tops.len(), k), f32::NEG_INFINITY);
    for (u, top) in tops.iter().enumerate() {
        for (j, &(i, s)) in top.iter().enumerate() {
            rows[[u, j]] = i as i64;
            scores[[u, j]] = s;
        }
    }
    (rows.into_pyarray(py), scores.into_pyarray(py))
}

/// Recommendations as Python dicts: item, score, and name, url and image
/// where the model has them.
fn dicts<'py>(py: Python<'py>, items: &[Recommendation]) -> PyResult<Vec<Bound<'py, PyDict>>> {
    items
        .iter()
        .map(|r| {
            let d = PyDict::new(py);
            d.set_item("item", &r.item)?;
            d.set_item("score", r.score)?;
            d.set_item("name", &r.details.name)?;
            d.set_item("url", &r.details.url)?;
            d.set_item("image", &r.details.image)?;
            Ok(d)
        })
        .collect()
}

impl Model {
    /// The model itself.
    pub fn inner(&self) -> &gramrec_core::Model {
        &self.model
    }

    /// The model of a fit, scored in memory.
    pub fn fitted(fitted: Fitted) -> PyResult<Self> {
        let model = fitted.model().map_err(to_py)?;
        Ok(Self { model, source: Source::Fitted(Box::new(fitted)) })
    }

    /// Each list's item rows, checked.
    fn item_rows(&self, lists: &[&[i64]]) -> PyResult<Vec<Vec<usize>>> {
        lists.iter().map(|l| checked_rows(l, self.model.items.len(), "item")).collect()
    }

    fn vectors(&self, vectors: &PyReadonlyArray2<'_, f32>) -> PyResult<Vec<UserVector>> {
        let v = vectors.as_array();
        let dim = self.model.items.meta().params.dim();
        if v.ncols() != dim {
            return Err(PyValueError::new_err(format!(
                "user vectors have {} values, the model needs {dim}",
                v.ncols()
            )));
        }
        Ok(v.rows().into_iter().map(|r| UserVector(r.to_vec())).collect())
    }
}

#[pymethods]
impl Model {
    /// The notes (key, text) of the model's training metadata.
    fn notes(&self) -> Vec<(String, String)> {
        self.model.items.meta().training.other.clone()
    }

    /// User IDs by row.
    fn user_ids(&self) -> Vec<String> {
        self.model.user_ids().to_vec()
    }

    /// Item IDs by row.
    fn item_ids(&self) -> Vec<String> {
        self.model.items.ids().to_vec()
    }

    /// The model's settings: kind, factors, regularization, alpha,
    /// confidence, biases (and, with biases, the global mean and the
    /// training ratings' range).
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let p = self.model.items.meta().params;
        let d = PyDict::new(py);
        d.set_item("kind", p.kind.name())?;
        d.set_item("factors", p.factors)?;
        d.set_item("regularization", p.reg)?;
        d.set_item("alpha", p.alpha)?;
        d.set_item("confidence", p.confidence.name())?;
        d.set_item("biases", p.uses_biases())?;
        let meta = self.model.items.meta();
        d.set_item("method", meta.training.method.unwrap_or_default().name())?;
        if let Some(prior) = self.model.items.prior() {
            // A Bayesian model has no λ: its sweeps and learned noise instead.
            d.set_item("regularization", py.None())?;
            d.set_item("samples", meta.training.samples)?;
            d.set_item("burn_in", meta.training.burn_in)?;
            d.set_item("noise_precision", prior.noise)?;
        }
        if p.uses_biases() {
            d.set_item("global_mean", meta.global_mean)?;
            d.set_item("rating_range", (meta.rating_min, meta.rating_max))?;
        }
        Ok(d)
    }

    /// The vectors (factors, then the bias when the model has biases) of
    /// the users at `rows`; a row of -1 gets zeros (a user without data).
    fn user_vectors<'py>(
        &self,
        py: Python<'py>,
        rows: PyReadonlyArray1<'_, i64>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let dim = self.model.items.meta().params.dim();
        let n = self.model.user_count();
        let rows = rows.as_slice()?;
        let mut out = Array2::zeros((rows.len(), dim));
        for (k, &r) in rows.iter().enumerate().filter(|(_, &r)| r >= 0) {
            let r = checked_row(r, n, "user")?;
            out.row_mut(k).assign(&numpy::ndarray::ArrayView1::from(&self.model.user_at(r).0));
        }
        Ok(out.into_pyarray(py))
    }

    /// The item factors (items × factors) and biases (None without biases).
    fn item_matrix<'py>(&self, py: Python<'py>) -> PyResult<Matrix<'py>> {
        let f = self.model.items.meta().params.factors;
        let (rows, biases) = self.model.items.scoring_terms();
        let biases = biases.map(|b| b.to_vec().into_pyarray(py));
        let m = Array2::from_shape_vec((rows.len() / f.max(1), f), rows)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok((m.into_pyarray(py), biases))
    }

    /// Solves users' rows from their histories, as `recommend --history`
    /// does: row `u` is `item_rows[indptr[u]..indptr[u+1]]` with `values`
    /// (weights or ratings). In parallel, without the GIL.
    fn fold_in<'py>(
        &self,
        py: Python<'py>,
        indptr: PyReadonlyArray1<'_, i64>,
        item_rows: PyReadonlyArray1<'_, i64>,
        values: PyReadonlyArray1<'_, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (indptr, item_rows, values) = (indptr.as_slice()?, item_rows.as_slice()?, values.as_slice()?);
        if values.len() != item_rows.len() {
            return Err(PyValueError::new_err("fold-in: one value per item"));
        }
        checked_values(values, "user_items")?;
        let checked = self.item_rows(&rows_of(indptr, item_rows, "fold-in")?)?;
        let start: Vec<usize> = indptr.iter().map(|&p| p as usize).collect();
        let dim = self.model.items.meta().params.dim();
        let items = &self.model.items;
        let solved: Vec<Result<UserVector, _>> = py.detach(|| {
            checked
                .par_iter()
                .enumerate()
                .map(|(u, rows)| {
                    let history: Vec<(usize, f32)> =
                        rows.iter().zip(&values[start[u]..]).map(|(&i, &w)| (i, w)).collect();
                    if history.is_empty() {
                        return Ok(UserVector(vec![0.0; dim]));
                    }
                    items.fold_in(&history)
                })
                .collect()
        });
        let mut out = Array2::zeros((solved.len(), dim));
        for (u, v) in solved.into_iter().enumerate() {
            let v = v.map_err(|e| to_py(gramrec_core::Error::Scoring(e)))?;
            out.row_mut(u).assign(&numpy::ndarray::ArrayView1::from(&v.0));
        }
        Ok(out.into_pyarray(py))
    }

    /// The `k` best item rows and their scores for each user vector,
    /// leaving out row `u`'s `exclude` list, every row of `always`, and,
    /// with `candidates`, every row outside them; rows past the last item
    /// left are -1 with score -inf. In parallel, without the GIL.
    #[pyo3(signature = (vectors, k, exclude_indptr, exclude, always, candidates=None))]
    #[allow(clippy::too_many_arguments)]
    fn top_items<'py>(
        &self,
        py: Python<'py>,
        vectors: PyReadonlyArray2<'_, f32>,
        k: usize,
        exclude_indptr: PyReadonlyArray1<'_, i64>,
        exclude: PyReadonlyArray1<'_, i64>,
        always: PyReadonlyArray1<'_, i64>,
        candidates: Option<PyReadonlyArray1<'_, i64>>,
    ) -> PyResult<Ranked<'py>> {
        let users = self.vectors(&vectors)?;
        // No list is longer than the catalogue (an N of 10⁹ asks for nothing more).
        let k = k.min(self.model.items.len());
        let (indptr, exclude) = (exclude_indptr.as_slice()?, exclude.as_slice()?);
        let lists = rows_of(indptr, exclude, "exclude")?;
        if lists.len() != users.len() {
            return Err(PyValueError::new_err("one exclusion row per user"));
        }
        let candidates = candidates.as_ref().map(|c| c.as_slice()).transpose()?;
        let excluded = self.item_rows(&lists)?;
        let always = left_out(self.model.items.len(), always.as_slice()?, candidates, "item")?;
        let items = &self.model.items;
        let tops = py.detach(|| {
            // Blocks of users: the item factors are read once per block, and
            // the rows every user leaves out are joined to a block's lists
            // only (a candidate set can leave out most of the catalogue).
            users
                .par_chunks(BLOCK)
                .zip(excluded.par_chunks(BLOCK))
                .map(|(u, e)| {
                    let u: Vec<&UserVector> = u.iter().collect();
                    let e: Vec<Vec<usize>> = e.iter().map(|own| [own.as_slice(), &always].concat()).collect();
                    let e: Vec<&[usize]> = e.iter().map(Vec::as_slice).collect();
                    items.top_rows_block(&u, k, &e)
                })
                .collect::<Result<Vec<_>, _>>()
        });
        let tops = tops.map_err(|e| to_py(gramrec_core::Error::Scoring(e)))?.into_iter().flatten().collect();
        Ok(stack(py, tops, k))
    }

    /// The `k` rows of a side ("items" or "users") most like each row at
    /// `rows` (cosine of the factors), the row itself included, leaving out
    /// `always` and, with `candidates`, every row outside them; padded as
    /// [`top_items`](Self::top_items). In parallel, without the GIL.
    #[pyo3(signature = (side, rows, k, always, candidates=None))]
    fn similar<'py>(
        &self,
        py: Python<'py>,
        side: &str,
        rows: PyReadonlyArray1<'_, i64>,
        k: usize,
        always: PyReadonlyArray1<'_, i64>,
        candidates: Option<PyReadonlyArray1<'_, i64>>,
    ) -> PyResult<Ranked<'py>> {
        let (n, name) = match side {
            "items" => (self.model.items.len(), "item"),
            "users" => (self.model.user_count(), "user"),
            _ => return Err(PyValueError::new_err(format!("side must be 'items' or 'users', not '{side}'"))),
        };
        let queries = checked_rows(rows.as_slice()?, n, name)?;
        let k = k.min(n);
        let candidates = candidates.as_ref().map(|c| c.as_slice()).transpose()?;
        let skip = left_out(n, always.as_slice()?, candidates, name)?;
        let skipped = |r: usize| skip.binary_search(&r).is_ok();
        let (items, users) = (&self.model.items, &self.model.users);
        let f = items.meta().params.factors;
        let tops = py.detach(|| {
            queries
                .par_iter()
                .map(|&q| match name {
                    "item" => items.similar_rows(q, k, skipped),
                    _ => users.similar_rows(q, f, k, skipped),
                })
                .collect()
        });
        Ok(stack(py, tops, k))
    }

    /// The row of each user ID given in Arrow's layout (string `u` is
    /// `bytes[offsets[u]..offsets[u + 1]]`), -1 for an ID the model does not
    /// know. Without the GIL.
    fn user_rows<'py>(
        &self,
        py: Python<'py>,
        offsets: PyReadonlyArray1<'_, i64>,
        bytes: PyReadonlyArray1<'_, u8>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let ids = strings(offsets.as_slice()?, bytes.as_slice()?, "user")?;
        let rows: Vec<i64> =
            py.detach(|| ids.par_iter().map(|id| self.model.user_row(id).map_or(-1, |r| r as i64)).collect());
        Ok(rows.into_pyarray(py))
    }

    /// The `k` best item rows and scores of each known user at `rows`,
    /// leaving out their recorded training items, as `recommend --all` and
    /// `recommend --user` rank them; padded as [`top_items`](Self::top_items).
    /// In parallel blocks, without the GIL.
    fn recommend_rows<'py>(&self, py: Python<'py>, rows: PyReadonlyArray1<'_, i64>, k: usize) -> PyResult<Ranked<'py>> {
        let rows = checked_rows(rows.as_slice()?, self.model.user_count(), "user")?;
        let k = k.min(self.model.items.len());
        let tops = py.detach(|| {
            rows.par_chunks(BLOCK).map(|block| self.model.top_rows_for_users(block, k)).collect::<Result<Vec<_>, _>>()
        });
        let tops = tops.map_err(|e| to_py(gramrec_core::Error::Scoring(e)))?.into_iter().flatten().collect();
        Ok(stack(py, tops, k))
    }

    /// Recommendations for visitors the model has not seen, from their
    /// histories, as `recommend --history` gives them: visitor `v`'s item
    /// IDs are entries `indptr[v]..indptr[v + 1]` of the strings (`offsets`,
    /// `bytes`), with `weights` alongside (None: 1 each), every entry checked
    /// by the history rules (a refusal is a ValueError of (message, the
    /// visitor's number)). Returns the (item rows, scores) padded as
    /// [`top_items`](Self::top_items), whether each visitor had no known
    /// item (cold start: the popular items), and how many distinct item IDs
    /// of theirs the model does not know. In parallel, without the GIL.
    #[pyo3(signature = (indptr, offsets, bytes, k, weights=None))]
    #[allow(clippy::type_complexity)]
    fn recommend_histories<'py>(
        &self,
        py: Python<'py>,
        indptr: PyReadonlyArray1<'_, i64>,
        offsets: PyReadonlyArray1<'_, i64>,
        bytes: PyReadonlyArray1<'_, u8>,
        k: usize,
        weights: Option<PyReadonlyArray1<'_, f64>>,
    ) -> PyResult<(Ranked<'py>, Bound<'py, PyArray1<bool>>, Bound<'py, PyArray1<u32>>)> {
        let ids = strings(offsets.as_slice()?, bytes.as_slice()?, "item")?;
        let weights = weights.as_ref().map(|w| w.as_slice()).transpose()?;
        if weights.is_some_and(|w| w.len() != ids.len()) {
            return Err(PyValueError::new_err("histories: one weight per item"));
        }
        let indptr = indptr.as_slice()?;
        let entries: Vec<(&str, f32)> = ids
            .iter()
            .enumerate()
            .map(|(n, &id)| {
                gramrec_core::history::entry(id, weights.map(|w| w[n])).map(|w| (id, w)).map_err(|e| {
                    // The visitor's number goes with the message, for the caller to name them.
                    let visitor = indptr.partition_point(|&p| p <= n as i64).saturating_sub(1);
                    PyValueError::new_err((e, visitor))
                })
            })
            .collect::<PyResult<_>>()?;
        let histories = rows_of(indptr, &entries, "histories")?;
        let k = k.min(self.model.items.len());
        let items = &self.model.items;
        let solved = py.detach(|| {
            histories
                .par_iter()
                .map(|history| {
                    let (known, unknown) = items.resolve(history.iter().copied());
                    let (top, cold_start) = items.history_top_rows(&known, k)?;
                    Ok((top, cold_start, unknown.len() as u32))
                })
                .collect::<Result<Vec<_>, _>>()
        });
        let solved = solved.map_err(|e| to_py(gramrec_core::Error::Scoring(e)))?;
        let cold: Vec<bool> = solved.iter().map(|s| s.1).collect();
        let unknown: Vec<u32> = solved.iter().map(|s| s.2).collect();
        let tops = solved.into_iter().map(|s| s.0).collect();
        Ok((stack(py, tops, k), cold.into_pyarray(py), unknown.into_pyarray(py)))
    }

    /// The `k` best items for each known user ID, leaving out their
    /// training items (`gramrec recommend --user`), as dicts; an unknown ID
    /// raises ValueError.
    fn recommend_users<'py>(
        &self,
        py: Python<'py>,
        users: Vec<String>,
        k: usize,
    ) -> PyResult<Vec<Vec<Bound<'py, PyDict>>>> {
        let lists: Vec<Vec<Recommendation>> = users
            .iter()
            .map(|id| match self.model.recommend_user(id, k) {
                None => Err(PyValueError::new_err(format!("unknown user '{}'", gramrec_core::text::excerpt(id, 80)))),
                Some(r) => r.map_err(|e| to_py(gramrec_core::Error::Scoring(e))),
            })
            .collect::<PyResult<_>>()?;
        lists.iter().map(|l| dicts(py, l)).collect()
    }

    /// Recommendations for a visitor from their history of (item ID,
    /// weight), as `recommend --history` gives them: (items as dicts, cold
    /// start, unknown item IDs).
    fn recommend_history<'py>(
        &self,
        py: Python<'py>,
        history: Vec<(String, Option<f64>)>,
        k: usize,
    ) -> PyResult<(Vec<Bound<'py, PyDict>>, bool, Vec<String>)> {
        let history = history
            .into_iter()
            .enumerate()
            .map(|(n, (item, weight))| match gramrec_core::history::entry(&item, weight) {
                Ok(w) => Ok((item, w)),
                Err(e) => Err(PyValueError::new_err(format!("history entry {n}: {e}"))),
            })
            .collect::<PyResult<Vec<_>>>()?;
        let r = self.model.items.recommend_history(&history, k).map_err(|e| to_py(gramrec_core::Error::Scoring(e)))?;
        Ok((dicts(py, &r.items)?, r.cold_start, r.unknown))
    }

    /// A copy of the model with rows of `side` ("users" or "items") solved
    /// anew, as benfred/implicit's `partial_fit_users`/`partial_fit_items`:
    /// row `r` is the row of ID `ids[r]` (replaced, or appended when the
    /// model lacks it), solved from the other side's rows
    /// `other[indptr[r]..indptr[r + 1]]` with `values` as training solves
    /// them (users against the items as fold-in does, items against the
    /// users as the item half-iteration does). A user's history becomes
    /// their recorded training items. In parallel, without the GIL.
    fn partial_fit(
        &self,
        py: Python<'_>,
        side: &str,
        ids: Vec<String>,
        indptr: PyReadonlyArray1<'_, i64>,
        other: PyReadonlyArray1<'_, i64>,
        values: PyReadonlyArray1<'_, f32>,
    ) -> PyResult<Model> {
        let (indptr, other, values) = (indptr.as_slice()?, other.as_slice()?, values.as_slice()?);
        let (n_other, other_name) = match side {
            "users" => (self.model.items.len(), "item"),
            "items" => (self.model.user_count(), "user"),
            _ => return Err(PyValueError::new_err(format!("side must be 'users' or 'items', not '{side}'"))),
        };
        if values.len() != other.len() || indptr.len() != ids.len() + 1 {
            return Err(PyValueError::new_err("partial fit: one value per entry and one row per ID"));
        }
        checked_values(values, if side == "users" { "user_items" } else { "item_users" })?;
        if let Some(e) = ids.iter().find_map(|id| gramrec_core::history::id_error(&side[..4], id)) {
            return Err(PyValueError::new_err(e));
        }
        let lists = rows_of(indptr, other, "partial fit")?;
        let starts: Vec<usize> = indptr.iter().map(|&p| p as usize).collect();
        let histories: Vec<Vec<(usize, f32)>> = lists
            .iter()
            .enumerate()
            .map(|(r, l)| {
                let rows = checked_rows(l, n_other, other_name)?;
                Ok(rows.into_iter().zip(values[starts[r]..].iter().copied()).collect())
            })
            .collect::<PyResult<_>>()?;
        let files = self.files(None, Vec::new()).map_err(to_py)?;
        let model = &self.model;
        let kind = model.items.meta().params.kind;
        let updated = py.detach(|| {
            let gram = if side == "items" { model.user_gram() } else { None };
            let updates = histories
                .par_iter()
                .zip(ids)
                .map(|(history, id)| {
                    let vector = match side {
                        "users" => model.items.fold_in(history),
                        _ => model.solve_item(gram.as_deref(), history),
                    }?;
                    let mut merged = gramrec_core::model::merged(kind, history);
                    merged.sort_unstable_by_key(|&(r, _)| r);
                    let (rows, values) = merged.into_iter().unzip();
                    Ok(RowUpdate { id, vector, rows, values })
                })
                .collect::<Result<Vec<_>, gramrec_core::ModelError>>()?;
            let mut files = files;
            match side {
                "users" => files.update_users(&updates)?,
                _ => files.update_items(&updates)?,
            }
            Model::from_files(files)
        });
        updated.map_err(|e| to_py(gramrec_core::Error::Scoring(e)))
    }

    /// Writes the model directory `path` (users.gramrec and items.gramrec,
    /// staged and renamed; nothing else there is touched), factors stored
    /// as `dtype` ("f32", "f16" or "i8"; None: f32 for a model just fitted,
    /// as stored for a model read from files), with `notes` (key, text)
    /// in the training metadata (replacing notes of the same keys).
    #[pyo3(signature = (path, dtype=None, notes=Vec::new()))]
    fn save(&self, py: Python<'_>, path: PathBuf, dtype: Option<&str>, notes: Vec<(String, String)>) -> PyResult<()> {
        let dtype: Option<Dtype> = dtype.map(|d| d.parse().map_err(|e| unknown("dtype", e))).transpose()?;
        py.detach(|| gramrec_store::write_model(&path, &self.files(dtype, notes)?)).map_err(to_py)
    }

    /// The two factor files as bytes (users, items), f32 for a model just
    /// fitted, with `notes` as [`save`](Self::save) takes them: what
    /// pickling a model keeps.
    #[pyo3(signature = (notes=Vec::new()))]
    fn to_bytes<'py>(
        &self,
        py: Python<'py>,
        notes: Vec<(String, String)>,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        let files = py.detach(|| self.files(None, notes)).map_err(to_py)?;
        let bytes = |f: &gramrec_core::FactorFile| {
            f.to_bytes().map(|b| PyBytes::new(py, &b)).map_err(|e| PyValueError::new_err(e.to_string()))
        };
        Ok((bytes(&files.users)?, bytes(&files.items)?))
    }
}

impl Model {
    /// The model's files as they are saved: factors stored as `dtype`
    /// (None: f32 for a model just fitted, as stored for one read from
    /// files), `notes` (key, text) in the training metadata replacing notes
    /// of the same keys. A model loaded for scoring only has none.
    fn files(&self, dtype: Option<Dtype>, notes: Vec<(String, String)>) -> gramrec_core::Result<ModelFiles> {
        let mut files = match &self.source {
            Source::Fitted(fitted) => {
                let options = SaveOptions { dtype: dtype.unwrap_or_default(), notes, ..SaveOptions::default() };
                return Ok(fitted.files(&options));
            }
            Source::Files(files) => (**files).clone(),
            Source::ScoringOnly => {
                return Err(gramrec_core::Error::Argument(
                    "this model was loaded for scoring only: load it again to save or change it".into(),
                ))
            }
        };
        for f in files.both_mut() {
            let other = &mut f.meta.training.other;
            other.retain(|(key, _)| notes.iter().all(|(k, _)| k != key));
            other.extend(notes.iter().cloned());
        }
        for f in files.both_mut().into_iter().filter(|f| dtype.is_some_and(|d| d != f.factors.dtype())) {
            let cols = f.meta.params.factors;
            f.factors = Factors::encode(&f.factors.to_f32(cols), cols, dtype.unwrap_or_default());
        }
        Ok(files)
    }

    /// A model over `files`, kept for saving.
    fn from_files(files: ModelFiles) -> Result<Self, gramrec_core::ModelError> {
        let model = gramrec_core::Model::new(files.clone())?;
        Ok(Model { model, source: Source::Files(Box::new(files)) })
    }
}

/// A model from the bytes of its two factor files (users, items), as
/// `Model.to_bytes` gives them: unpickling.
#[pyfunction]
pub fn from_bytes(py: Python<'_>, users: &[u8], items: &[u8]) -> PyResult<Model> {
    py.detach(|| {
        let read = |b: &[u8]| gramrec_core::FactorFile::from_bytes(b).map_err(gramrec_core::ModelError::from);
        Model::from_files(ModelFiles { users: read(users)?, items: read(items)? })
    })
    .map_err(|e| to_py(gramrec_core::Error::Scoring(e)))
}

/// Reads a model directory (any gramrec model: the CLI's, the server's,
/// an import from Spark or implicit). With `scoring_only`, the files are
/// not kept beside the model (a third of the memory, and no copy while
/// loading), and it cannot be saved.
#[pyfunction]
#[pyo3(signature = (path, scoring_only=false))]
pub fn load(py: Python<'_>, path: PathBuf, scoring_only: bool) -> PyResult<Model> {
    py.detach(|| {
        let files = gramrec_store::read_model_files(&path)?;
        let model = match scoring_only {
            true => gramrec_core::Model::new(files).map(|model| Model { model, source: Source::ScoringOnly }),
            false => Model::from_files(files),
        };
        model.map_err(|e| gramrec_core::Error::model(&path, e))
    })
    .map_err(to_py)
}
