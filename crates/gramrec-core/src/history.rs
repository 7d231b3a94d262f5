//! A visitor's history — (item ID, weight) pairs — checked by one set of
//! rules wherever it arrives: the CLI's `--history`, the server's bodies,
//! the browser module and the Python package. An ID has 1 to
//! [`MAX_ID_BYTES`] bytes (not only spaces); a weight, 1 when absent, is a
//! finite number within ±[`MAX_VALUE`] (a rating, or a strength whose sums
//! stay finite). Front ends differ only in what they do with a refusal: the
//! CLI, the server and Python refuse the history, the browser skips the
//! entry (a page's stored history may be stale or tampered with).

use crate::params::{valid_value, MAX_VALUE};
use crate::text::excerpt;

/// The longest user or item ID accepted, in bytes, everywhere: longer ones
/// are a sign of the wrong column or delimiter (the 1,000-character IDs of
/// real exports pass).
pub const MAX_ID_BYTES: usize = 4096;

/// Why an ID is refused (`what`: "user" or "item"), if it is.
pub fn id_error(what: &str, id: &str) -> Option<String> {
    if id.trim().is_empty() {
        Some(format!("the {what} ID is empty"))
    } else if id.len() > MAX_ID_BYTES {
        Some(format!("the {what} ID is {} bytes long; at most {MAX_ID_BYTES} are accepted", id.len()))
    } else {
        None
    }
}

/// One entry's weight (1 when absent) as training uses it, or why the
/// entry is refused.
pub fn entry(item: &str, weight: Option<f64>) -> Result<f32, String> {
    if let Some(e) = id_error("item", item) {
        return Err(e);
    }
    let w = weight.unwrap_or(1.0) as f32;
    if !valid_value(w) {
        return Err(format!("the weight of '{}' is not a finite number within ±{MAX_VALUE:e}", excerpt(item, 80)));
    }
    Ok(w)
}

/// `ITEM[:WEIGHT],…` as the CLI's `--history` takes it: the text after the
/// last `:` is a weight when it is a number, so IDs may contain colons;
/// empty entries (`a,,b`) are ignored; each entry is checked by [`entry`].
pub fn parse_list(text: &str) -> Result<Vec<(String, f32)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            let (id, weight) = match e.rsplit_once(':').map(|(id, w)| (id, w.trim().parse::<f64>())) {
                Some((id, Ok(w))) => (id, Some(w)),
                _ => (e, None),
            };
            entry(id, weight).map(|w| (id.to_string(), w))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_weights_after_the_last_colon() {
        let parsed = parse_list("a:2, b ,urn:x:y, c:0.5,,").unwrap();
        let expected = [("a", 2.0), ("b", 1.0), ("urn:x:y", 1.0), ("c", 0.5)];
        assert_eq!(parsed, expected.map(|(i, w)| (i.to_string(), w)).to_vec());
    }

    #[test]
    fn bad_weights_and_ids_are_refused_by_one_rule() {
        assert_eq!(entry("a", None), Ok(1.0));
        assert!(entry("a", Some(f64::NAN)).unwrap_err().contains("not a finite number"));
        assert!(entry("a", Some(3e38)).unwrap_err().contains("within ±1e15"), "finite, but its sums would not be");
        assert!(parse_list("a:inf").unwrap_err().contains("'a'"));
        assert_eq!(entry(" ", None), Err("the item ID is empty".into()));
        assert!(entry(&"x".repeat(MAX_ID_BYTES + 1), None).unwrap_err().contains("4096"));
    }
}
