//! gramrec's errors as Python exceptions: bad input is a `ValueError` (a
//! setting named by its keyword, as `ALS()` takes it), a failing file an
//! `OSError`, an interruption a `KeyboardInterrupt`, anything else a
//! `RuntimeError`; the message is the CLI's one line.

use gramrec_core::named::UnknownName;
use gramrec_core::{Error, ErrorClass, ParamError};
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

/// The flags the libraries' messages still name, as `ALS()`'s keywords.
const KEYWORDS: [(&str, &str); 8] = [
    ("--device cpu", "device='cpu'"),
    ("--device gpu", "device='gpu'"),
    ("raise --reg", "raise regularization"),
    ("--min-support", "min_support"),
    ("--min-confidence", "min_confidence"),
    ("--max-len", "max_len"),
    (", or raise --max-itemsets", ""),
    ("--skip-invalid", "skip_invalid=True"),
];

/// A library message for a Python user: the flags it names as keywords.
pub fn pythonize(text: &str) -> String {
    KEYWORDS.iter().fold(text.to_string(), |t, (flag, keyword)| t.replace(flag, keyword))
}

/// The exception for a gramrec error.
pub fn to_py(e: Error) -> PyErr {
    match e {
        Error::Parameter(ParamError { parameter, message }) => {
            PyValueError::new_err(format!("{} {message}", keyword(parameter)))
        }
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
