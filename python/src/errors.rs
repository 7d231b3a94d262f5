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

/// Flags the libraries' messages still name whose Python spelling is not
/// just the flag's name (`--rating-col none` is `rating_col=False`).
const KEYWORDS: [(&str, &str); 6] = [
    ("--device cpu", "device='cpu'"),
    ("--device gpu", "device='gpu'"),
    ("--rating-col none", "rating_col=False"),
    ("raise --reg", "raise regularization"),
    (", or raise --max-itemsets", ""),
    ("--skip-invalid", "skip_invalid=True"),
];

/// A library message for a Python user: the flags it names as keywords
/// (`--rating-col 2` becomes `rating_col=2`, `--min-support` `min_support`).
pub fn pythonize(text: &str) -> String {
    let text = KEYWORDS.iter().fold(text.to_string(), |t, (flag, keyword)| t.replace(flag, keyword));
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("--") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let name_len = after.find(|c: char| !(c.is_ascii_lowercase() || c == '-')).unwrap_or(after.len());
        let name = &after[..name_len];
        if name.is_empty() || !after.starts_with(|c: char| c.is_ascii_lowercase()) {
            out.push_str("--");
            rest = after;
            continue;
        }
        out.push_str(&name.replace('-', "_"));
        rest = &after[name_len..];
        // `--rating-col 2`: the value follows as `=2`.
        if let Some(value) = rest.strip_prefix(' ').filter(|v| v.starts_with(|c: char| c.is_ascii_digit())) {
            let len = value.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(value.len());
            out.push('=');
            out.push_str(&value[..len]);
            rest = &value[len..];
        }
    }
    out.push_str(rest);
    out
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
