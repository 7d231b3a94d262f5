//! gramrec's errors as Python exceptions: bad input is a `ValueError` (a
//! setting named by its keyword, as `ALS()` takes it), a failing file an
//! `OSError`, an interruption a `KeyboardInterrupt`, anything else a
//! `RuntimeError`; the message is the CLI's one line.

use gramrec_core::named::UnknownName;
use gramrec_core::{Error, ErrorClass};
use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError, PyRuntimeError, PyValueError};
use pyo3::PyErr;

/// The keyword of `ALS()` (or of the function called) that sets a library setting.
fn keyword(parameter: &str) -> &str {
    match parameter {
        "reg" => "regularization",
        "threads" => "num_threads",
        other => other,
    }
}

/// A setting a library message names, as a Python keyword argument:
/// `device=cpu` is `device='cpu'`, `rating_col=none` is `rating_col=False`,
/// `skip_invalid=true` is `skip_invalid=True`, `min_support` stays a name.
fn spell(name: &str, value: Option<&str>) -> Option<String> {
    let name = keyword(name);
    Some(match value {
        None => name.to_string(),
        Some("true") => format!("{name}=True"),
        Some("none") if name.ends_with("_col") => format!("{name}=False"),
        Some(v) if v.parse::<f64>().is_ok() || v.starts_with('\'') => format!("{name}={v}"),
        Some(v) => format!("{name}='{v}'"),
    })
}

/// A library message for a Python user: every setting it names spelled as
/// the keyword that sets it.
pub fn pythonize(text: &str) -> String {
    gramrec_core::setting::render(text, spell)
}

/// The exception for a gramrec error.
pub fn to_py(e: Error) -> PyErr {
    match e {
        Error::Io { .. } => PyOSError::new_err(e.to_string()),
        e => {
            let text = pythonize(&e.to_string());
            match e.class() {
                ErrorClass::BadInput => PyValueError::new_err(text),
                ErrorClass::Interrupted => PyKeyboardInterrupt::new_err(text),
                ErrorClass::Failure => PyRuntimeError::new_err(text),
            }
        }
    }
}

/// A name (`device="x"`) none of the values has, as a `ValueError` naming the keyword.
pub fn unknown(keyword: &str, e: UnknownName) -> PyErr {
    let expected: Vec<String> = e.expected.iter().map(|n| format!("'{n}'")).collect();
    PyValueError::new_err(format!(
        "{keyword} must be {}, not '{}'",
        gramrec_core::named::or_list(&expected.iter().map(String::as_str).collect::<Vec<_>>()),
        gramrec_core::text::excerpt(&e.given, 40)
    ))
}
