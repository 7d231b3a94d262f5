//! `Interactions`: interactions held in Rust, read from a file with the
//! CLI's loaders or given as columns (a sparse matrix's coordinates, a data
//! frame's ID columns in Arrow's layout), for `fit`, `evaluate` and `rules`.

use std::path::PathBuf;

use gramrec_data::load::{self, Column, Encoding, Format, Header, LoadOptions, RatingColumn, ValueMap};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::{to_py, unknown};

/// One ID column: positions in a matrix (named by their decimal digits, as
/// a CSR's row and column numbers), or strings in Arrow's layout (UTF-8
/// bytes and the offsets where each string starts), read in place.
#[derive(FromPyObject)]
pub enum Ids<'py> {
    /// Row or column numbers (SciPy's index type, read in place).
    Positions(PyReadonlyArray1<'py, i32>),
    /// Row or column numbers past 2³¹.
    Positions64(PyReadonlyArray1<'py, i64>),
    /// `(offsets, bytes)`: string `k` is `bytes[offsets[k]..offsets[k + 1]]`.
    Strings(PyReadonlyArray1<'py, i64>, PyReadonlyArray1<'py, u8>),
}

impl Ids<'_> {
    /// The IDs as strings borrowed from `names` (positions) or the bytes.
    fn resolve<'a>(&'a self, what: &str, names: &'a mut Vec<String>) -> PyResult<Vec<&'a str>> {
        match self {
            Ids::Positions(p) => named_positions(p.as_slice()?, what, names),
            Ids::Positions64(p) => named_positions(p.as_slice()?, what, names),
            Ids::Strings(offsets, bytes) => strings(offsets.as_slice()?, bytes.as_slice()?, what),
        }
    }
}

/// Strings in Arrow's layout (`what` IDs): string `k` is
/// `bytes[offsets[k]..offsets[k + 1]]`, borrowed, refused when the offsets
/// or the UTF-8 are not valid.
pub fn strings<'a>(offsets: &[i64], bytes: &'a [u8], what: &str) -> PyResult<Vec<&'a str>> {
    let bad = |k: usize| PyValueError::new_err(format!("{what} ID at entry {k} is not valid UTF-8 text"));
    offsets
        .windows(2)
        .enumerate()
        .map(|(k, w)| {
            let range = usize::try_from(w[0]).ok().zip(usize::try_from(w[1]).ok());
            let slice = range.and_then(|(a, b)| bytes.get(a..b)).ok_or_else(|| bad(k))?;
            std::str::from_utf8(slice).map_err(|_| bad(k))
        })
        .collect()
}

/// Positions as IDs: each named by its decimal digits (kept in `names`).
fn named_positions<'a, P: Copy + TryInto<usize> + std::fmt::Display>(
    p: &[P],
    what: &str,
    names: &'a mut Vec<String>,
) -> PyResult<Vec<&'a str>> {
    let rows: Vec<usize> = p
        .iter()
        .enumerate()
        .map(|(k, &v)| {
            v.try_into().map_err(|_| PyValueError::new_err(format!("{what} position {v} at entry {k} is negative")))
        })
        .collect::<PyResult<_>>()?;
    let n = rows.iter().max().map_or(0, |&m| m + 1);
    *names = (0..n).map(|i| i.to_string()).collect();
    Ok(rows.iter().map(|&i| names[i].as_str()).collect())
}

/// A column given as a number (its position) or a name.
#[derive(FromPyObject)]
pub enum ColumnArg {
    /// 0-based position.
    Index(usize),
    /// Header or field name.
    Name(String),
}

impl From<ColumnArg> for Column {
    fn from(c: ColumnArg) -> Self {
        match c {
            ColumnArg::Index(i) => Column::Index(i),
            ColumnArg::Name(n) => Column::Name(n),
        }
    }
}

/// `gramrec.read`'s keywords, as the Python function passes them (a dict):
/// the CLI's input flags by their keyword names.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct ReadOptions<'py> {
    format: Option<String>,
    delimiter: Option<String>,
    header: Option<String>,
    encoding: Option<String>,
    basket_col: Option<ColumnArg>,
    user_col: Option<ColumnArg>,
    item_col: Option<ColumnArg>,
    /// A column, or False for none (every interaction counts 1).
    rating_col: Option<Bound<'py, PyAny>>,
    value_map: Option<String>,
    timestamp_col: Option<ColumnArg>,
    time_format: Option<String>,
    item_alias: Option<PathBuf>,
    skip_invalid: bool,
}

impl ReadOptions<'_> {
    fn options(self) -> PyResult<LoadOptions> {
        fn named<T: std::str::FromStr<Err = gramrec_core::UnknownName>>(
            keyword: &str,
            value: Option<String>,
        ) -> PyResult<Option<T>> {
            value.map(|v| v.parse().map_err(|e| unknown(keyword, e))).transpose()
        }
        let rating = match self.rating_col {
            None => RatingColumn::Auto,
            Some(v) if v.extract::<bool>().is_ok_and(|b| !b) => RatingColumn::Absent,
            Some(v) => RatingColumn::Column(v.extract::<ColumnArg>()?.into()),
        };
        Ok(LoadOptions {
            format: named::<Format>("format", self.format)?.unwrap_or_default(),
            delimiter: self.delimiter,
            header: named::<Header>("header", self.header)?.unwrap_or_default(),
            encoding: named::<Encoding>("encoding", self.encoding)?.unwrap_or_default(),
            basket: self.basket_col.map(Column::from),
            user: self.user_col.map(Column::from),
            item: self.item_col.map(Column::from),
            rating,
            value_map: self.value_map.map(|m| m.parse::<ValueMap>().map_err(to_py)).transpose()?,
            timestamp: self.timestamp_col.map(Column::from),
            time_format: self.time_format,
            item_alias: self.item_alias,
            skip_invalid: self.skip_invalid,
            ..LoadOptions::default()
        })
    }
}

/// Interactions from columns: `users[k]` had `items[k]` with value
/// `values[k]` (all 1 when None), the values' column called `value_name`
/// when it has a name.
pub fn from_columns(
    users: Ids<'_>,
    items: Ids<'_>,
    values: Option<PyReadonlyArray1<'_, f32>>,
    value_name: Option<&str>,
) -> PyResult<load::Interactions> {
    let (mut user_names, mut item_names) = (Vec::new(), Vec::new());
    let users = users.resolve("user", &mut user_names)?;
    let items = items.resolve("item", &mut item_names)?;
    let values = values.as_ref().map(|v| v.as_slice()).transpose()?;
    let x = load::Interactions::from_columns(&users, &items, values).map_err(to_py)?;
    Ok(match value_name {
        Some(name) => x.with_value_column(name),
        None => x,
    })
}

/// Interactions, as read or given: user and item IDs, values, and what the
/// reader noticed on the way.
#[pyclass(module = "gramrec._gramrec", frozen)]
pub struct Interactions {
    pub inner: load::Interactions,
}

#[pymethods]
impl Interactions {
    /// Reads an interaction file (CSV/TSV/JSON lines/baskets/Parquet, a
    /// folder of Parquet parts, gzip) as `gramrec train --input` does.
    #[staticmethod]
    fn read(py: Python<'_>, path: PathBuf, options: ReadOptions<'_>) -> PyResult<Self> {
        let options = options.options()?;
        let inner = py.detach(|| load::load(&path, &options)).map_err(to_py)?;
        Ok(Self { inner })
    }

    /// Interactions given as columns: `users[k]` had `items[k]` with value
    /// `values[k]` (all 1 when None), the values' column called
    /// `value_name` when it has a name.
    #[staticmethod]
    #[pyo3(signature = (users, items, values, value_name))]
    fn columns(
        users: Ids<'_>,
        items: Ids<'_>,
        values: Option<PyReadonlyArray1<'_, f32>>,
        value_name: Option<&str>,
    ) -> PyResult<Self> {
        Ok(Self { inner: from_columns(users, items, values, value_name)? })
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        let x = &self.inner;
        let values = if x.has_ratings { "with values" } else { "each counting 1" };
        format!(
            "Interactions({} interactions of {} users and {} items, {values})",
            x.len(),
            x.users.len(),
            x.items.len()
        )
    }

    /// Distinct users.
    #[getter]
    fn user_count(&self) -> usize {
        self.inner.users.len()
    }

    /// Distinct items.
    #[getter]
    fn item_count(&self) -> usize {
        self.inner.items.len()
    }

    /// Whether the values came from a column (else every interaction counts 1).
    #[getter]
    fn has_values(&self) -> bool {
        self.inner.has_ratings
    }

    /// What the reader noticed (a detected delimiter, an encoding, a header).
    #[getter]
    fn notes(&self) -> Vec<String> {
        self.inner.notes.clone()
    }

    /// Bad lines skipped, by kind (with `skip_invalid`).
    #[getter]
    fn skipped(&self) -> Vec<(&'static str, u64)> {
        self.inner.skipped.iter().map(|(&k, &n)| (k, n)).collect()
    }

    /// The columns: (user codes, item codes, values, user IDs by code,
    /// item IDs by code), for a pandas frame of categoricals.
    #[allow(clippy::type_complexity)]
    fn codes<'py>(
        &self,
        py: Python<'py>,
    ) -> (Bound<'py, PyArray1<u32>>, Bound<'py, PyArray1<u32>>, Bound<'py, PyArray1<f32>>, Vec<String>, Vec<String>)
    {
        let x = &self.inner;
        let ids = |ix: &gramrec_data::index::IdIndex| (0..ix.len() as u32).map(|i| ix.id(i).to_string()).collect();
        (
            x.user.clone().into_pyarray(py),
            x.item.clone().into_pyarray(py),
            x.value.clone().into_pyarray(py),
            ids(&x.users),
            ids(&x.items),
        )
    }
}
