//! Reading requests: query strings and JSON bodies with unknown fields
//! refused, IDs bounded, weights finite; every failure an [`ApiError`]
//! naming what was wrong.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::Query;
use axum::http::Uri;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::ApiError;

pub use gramrec_core::MAX_ID_BYTES;

/// The query string as `T` (unknown parameters refused by `T`).
pub fn query<T: DeserializeOwned>(uri: &Uri) -> Result<T, ApiError> {
    Query::<T>::try_from_uri(uri).map(|q| q.0).map_err(|e| ApiError::bad_request(e.body_text()))
}

/// The body as JSON `T`; a body over the size limit is a 413.
pub fn json<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body.map_err(|e| ApiError { status: e.status(), message: e.body_text() })?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

/// `?k=`: at least 1; larger than the catalogue is the whole catalogue.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KQuery {
    /// How many items (default 10).
    pub k: Option<usize>,
}

/// `?k=&includeSeen=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UserQuery {
    /// How many items (default 10).
    pub k: Option<usize>,
    /// Keep the items the user already has (default false).
    pub include_seen: Option<bool>,
}

/// The `k` asked for, or 10.
pub fn k_or_default(k: Option<usize>) -> Result<usize, ApiError> {
    match k {
        Some(0) => Err(ApiError::bad_request("k must be at least 1")),
        Some(k) => Ok(k),
        None => Ok(10),
    }
}

/// A user or item ID from a path or a body, checked as everywhere
/// ([`gramrec_core::history::id_error`]).
pub fn id<'a>(what: &str, id: &'a str) -> Result<&'a str, ApiError> {
    match gramrec_core::history::id_error(what, id) {
        Some(e) => Err(ApiError::bad_request(e)),
        None => Ok(id),
    }
}

/// An interaction's weight, checked as everywhere ([`gramrec_core::history::entry`]):
/// 1 when absent; JSON has no NaN, and a number past f32's range is refused.
pub fn weight(item: &str, w: Option<f64>) -> Result<f32, ApiError> {
    gramrec_core::history::entry(item, w).map_err(ApiError::bad_request)
}

/// One history entry of `POST /v1/recommendations`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    /// The item's ID.
    pub item: String,
    /// Rating (explicit models) or strength (implicit); 1 when absent.
    pub weight: Option<f64>,
}

/// `POST /v1/recommendations`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FoldInBody {
    /// The visitor's interactions, oldest first.
    pub history: Vec<HistoryEntry>,
    /// How many items (default 10).
    pub k: Option<usize>,
}

/// One event of `POST /v1/users/{id}/events`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    /// The item's ID.
    pub item: String,
    /// Rating or strength; 1 when absent.
    pub weight: Option<f64>,
    /// When it happened, in the client's unit (logged as given; the server
    /// logs its own receipt time beside it).
    pub time: Option<f64>,
}

/// The events body: one event or an array of them.
pub fn events(body: Result<Bytes, BytesRejection>) -> Result<Vec<EventBody>, ApiError> {
    let value: serde_json::Value = json(body)?;
    let parse = |v: serde_json::Value| {
        serde_json::from_value::<EventBody>(v).map_err(|e| ApiError::bad_request(format!("invalid event: {e}")))
    };
    match value {
        serde_json::Value::Array(list) => list.into_iter().map(parse).collect(),
        v @ serde_json::Value::Object(_) => Ok(vec![parse(v)?]),
        _ => Err(ApiError::bad_request("the body must be an event object or an array of them")),
    }
}

/// Compares a presented token with the configured one in time that does
/// not depend on where they differ.
pub fn same_token(presented: &[u8], expected: &[u8]) -> bool {
    let mut diff = (presented.len() ^ expected.len()) as u8 | u8::from(presented.len() != expected.len());
    for (i, &e) in expected.iter().enumerate() {
        diff |= e ^ presented.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_equal_only_when_identical() {
        assert!(same_token(b"secret", b"secret"));
        assert!(!same_token(b"secreT", b"secret"));
        assert!(!same_token(b"secret-and-more", b"secret"));
        assert!(!same_token(b"", b"secret"));
        assert!(!same_token(b"secre", b"secret"));
    }

    #[test]
    fn weights_must_fit_f32() {
        assert_eq!(weight("a", None), Ok(1.0));
        assert_eq!(weight("a", Some(2.5)), Ok(2.5));
        assert!(weight("a", Some(1e39)).unwrap_err().message.contains("not a finite"));
        assert!(
            weight("a", Some(3e38)).unwrap_err().message.contains("within ±1e15"),
            "finite, but its sums would not be"
        );
    }

    #[test]
    fn ids_are_bounded() {
        assert!(id("item", "").is_err());
        assert!(id("item", &"x".repeat(MAX_ID_BYTES + 1)).unwrap_err().message.contains("4096"));
        assert_eq!(id("item", "ok"), Ok("ok"));
    }
}
