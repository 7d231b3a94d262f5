//! Items' display details (the `INFO` section of item files): a name, a
//! link and an image per item, each optional, so that every list the CLI,
//! the server and the browser show can name its items.

use super::varint::{self, Reader};
use super::{corrupt, FormatError};
use crate::text::is_safe_url;

/// Each item's name, link and image, by row. A field nobody gave is an
/// empty column; an item without that field has an empty string.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ItemInfo {
    /// Display names (`Toy Story (1995)`).
    pub names: Texts,
    /// Links to each item's page: `http(s)://…`, `//host/…` or a relative path.
    pub urls: Texts,
    /// Links to an image of each item, the same kinds as [`urls`](Self::urls).
    pub images: Texts,
}

/// Strings by row, held as one text and where each ends: as a `String`
/// each, a million short strings cost a header and an allocation apiece
/// again (in a web page, about 150 bytes an item for a name, a link and an
/// image, beside the text itself).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Texts {
    text: String,
    ends: Vec<usize>,
}

impl Texts {
    /// How many strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// String `i`, or `None` past the end.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.text[start..end])
    }

    /// Makes room for `strings` more strings of `bytes` in all.
    pub fn reserve(&mut self, strings: usize, bytes: usize) {
        self.ends.reserve_exact(strings);
        self.text.reserve_exact(bytes);
    }

    /// Appends a string.
    pub fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len());
    }

    /// The strings in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i).expect("in range"))
    }

    /// Keeps the first `n` strings, or pads with empty ones to `n`.
    pub fn resize(&mut self, n: usize) {
        if n < self.len() {
            self.ends.truncate(n);
            self.text.truncate(self.ends.last().copied().unwrap_or(0));
        } else {
            self.ends.resize(n, self.text.len());
        }
    }

    /// Removes every string.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }
}

impl<S: AsRef<str>> FromIterator<S> for Texts {
    fn from_iter<I: IntoIterator<Item = S>>(strings: I) -> Self {
        let mut texts = Texts::default();
        for s in strings {
            texts.push(s.as_ref());
        }
        texts
    }
}

impl From<Vec<String>> for Texts {
    fn from(strings: Vec<String>) -> Self {
        strings.into_iter().collect()
    }
}

/// One item's name, link and image, each left out where the model has
/// none: the one shape every output gives them in (a recommendation, an
/// associated item, `GET /v1/items/{id}`, the browser's `details`), flattened
/// into the item's JSON object beside its ID.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ItemDetails {
    /// Its display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its page (`http(s)` or relative: safe in an `href`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Its image (`http(s)` or relative: safe in a `src`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

impl ItemInfo {
    fn fields(&self) -> [&Texts; 3] {
        [&self.names, &self.urls, &self.images]
    }

    /// The details of the item at `row` (none for a row past the end).
    pub fn get(&self, row: usize) -> ItemDetails {
        fn at(v: &Texts, row: usize) -> Option<String> {
            v.get(row).filter(|s| !s.is_empty()).map(str::to_string)
        }
        ItemDetails { name: at(&self.names, row), url: at(&self.urls, row), image: at(&self.images, row) }
    }

    /// Items with at least one detail.
    pub fn described(&self) -> usize {
        let rows = self.fields().iter().map(|f| f.len()).max().unwrap_or(0);
        (0..rows).filter(|&r| self.fields().iter().any(|f| f.get(r).is_some_and(|s| !s.is_empty()))).count()
    }

    /// Whether no item has any detail.
    pub fn is_empty(&self) -> bool {
        self.fields().iter().all(|f| f.iter().all(str::is_empty))
    }

    /// Checks the shape (each field empty or one entry per row) and that
    /// every link is one a page can follow safely (no `javascript:`).
    pub(super) fn validate(&self, rows: usize) -> Result<(), FormatError> {
        for (field, name) in self.fields().into_iter().zip(["names", "urls", "images"]) {
            if !field.is_empty() && field.len() != rows {
                return Err(corrupt(format!("{} item {name} for {rows} items", field.len())));
            }
        }
        if let Some(bad) = self.urls.iter().chain(self.images.iter()).find(|u| !u.is_empty() && !is_safe_url(u)) {
            return Err(corrupt(format!(
                "the item link '{}' is not http(s) or relative",
                crate::text::excerpt(bad, 40)
            )));
        }
        Ok(())
    }

    /// The payload: u64 rows, u32 mask of the fields present (1 names,
    /// 2 links, 4 images), u32 zero, then each present field's strings in
    /// row order, each a varint length and its UTF-8 bytes.
    pub(super) fn encode(&self, rows: usize) -> Vec<u8> {
        let mut out = (rows as u64).to_le_bytes().to_vec();
        let mask: u32 = self.fields().iter().enumerate().filter(|(_, f)| !f.is_empty()).map(|(i, _)| 1 << i).sum();
        out.extend_from_slice(&mask.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        for field in self.fields().into_iter().filter(|f| !f.is_empty()) {
            for s in field.iter() {
                varint::put_str(&mut out, s);
            }
        }
        out
    }

    /// Reads [`encode`](Self::encode)'s payload.
    pub(super) fn decode(p: &[u8]) -> Result<Self, FormatError> {
        let bad = || corrupt("the item details section is malformed");
        let mut r = Reader::new(p);
        let rows = r.u64().ok_or_else(bad)?;
        let head = r.bytes(8).ok_or_else(bad)?;
        let mask = u32::from_le_bytes(head[..4].try_into().expect("4 bytes"));
        if mask > 7 || head[4..] != [0; 4] {
            return Err(bad());
        }
        // Every string takes at least a byte: no row count beyond that is believed.
        let rows = usize::try_from(rows).ok().filter(|&n| n <= r.remaining()).ok_or_else(bad)?;
        let mut info = ItemInfo::default();
        for (i, field) in [&mut info.names, &mut info.urls, &mut info.images].into_iter().enumerate() {
            if mask & (1 << i) != 0 {
                // Sized first, then filled: growing by doubling would hold
                // up to three times the text at once.
                let mut sizing = r.clone();
                let mut bytes = 0;
                for _ in 0..rows {
                    bytes += sizing.str().ok_or_else(bad)?.len();
                }
                field.reserve(rows, bytes);
                for _ in 0..rows {
                    field.push(r.str().ok_or_else(bad)?);
                }
            }
        }
        if r.remaining() != 0 {
            return Err(bad());
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> ItemInfo {
        ItemInfo {
            names: ["Crème brûlée \"deluxe\"", "", "<script>alert(1)</script>"].into_iter().collect(),
            urls: Texts::default(),
            images: ["https://img.example/a.png", "/b.png", ""].into_iter().collect(),
        }
    }

    #[test]
    fn round_trips_with_absent_fields_and_entries() {
        let i = info();
        assert_eq!(ItemInfo::decode(&i.encode(3)).unwrap(), i);
        assert_eq!(i.described(), 3);
        assert_eq!(i.get(1), ItemDetails { name: None, url: None, image: Some("/b.png".into()) });
        assert_eq!(i.get(7), ItemDetails::default());
    }

    #[test]
    fn texts_hold_strings_by_row_in_one_text() {
        let mut t: Texts = ["Café", "", "<b>"].into_iter().collect();
        assert_eq!((t.len(), t.get(0), t.get(1), t.get(2), t.get(3)), (3, Some("Café"), Some(""), Some("<b>"), None));
        t.push("ü");
        assert_eq!(t.iter().collect::<Vec<_>>(), ["Café", "", "<b>", "ü"]);
        t.resize(6);
        assert_eq!(t.iter().collect::<Vec<_>>(), ["Café", "", "<b>", "ü", "", ""]);
        t.resize(2);
        assert_eq!(t.iter().collect::<Vec<_>>(), ["Café", ""]);
        t.push("x");
        assert_eq!(t.get(2), Some("x"), "a string pushed after a cut starts where the cut ended");
        assert_eq!(t, Texts::from(vec!["Café".to_string(), String::new(), "x".into()]));
        t.clear();
        assert!(t.is_empty() && t.get(0).is_none());
    }

    #[test]
    fn script_links_and_wrong_shapes_are_refused() {
        let mut i = info();
        assert!(i.validate(3).is_ok());
        assert!(i.validate(4).is_err());
        i.urls = ["javascript:alert(1)", "", ""].into_iter().collect();
        assert!(i.validate(3).unwrap_err().to_string().contains("not http(s) or relative"));
    }
}
