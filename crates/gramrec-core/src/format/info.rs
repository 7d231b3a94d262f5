//! Items' display details (the `INFO` section of item files): a name, a
//! link and an image per item, each optional, so that every list the CLI,
//! the server and the browser show can name its items.

use super::varint::{self, Reader};
use super::{corrupt, FormatError};
use crate::text::is_safe_url;

/// Each item's name, link and image, by row. A field nobody gave is an
/// empty vector; an item without that field has an empty string.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ItemInfo {
    /// Display names (`Toy Story (1995)`).
    pub names: Vec<String>,
    /// Links to each item's page: `http(s)://…`, `//host/…` or a relative path.
    pub urls: Vec<String>,
    /// Links to an image of each item, the same kinds as [`urls`](Self::urls).
    pub images: Vec<String>,
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
    fn fields(&self) -> [&Vec<String>; 3] {
        [&self.names, &self.urls, &self.images]
    }

    /// The details of the item at `row` (none for a row past the end).
    pub fn get(&self, row: usize) -> ItemDetails {
        fn at(v: &[String], row: usize) -> Option<String> {
            v.get(row).filter(|s| !s.is_empty()).cloned()
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
        self.fields().iter().all(|f| f.iter().all(String::is_empty))
    }

    /// Checks the shape (each field empty or one entry per row) and that
    /// every link is one a page can follow safely (no `javascript:`).
    pub(super) fn validate(&self, rows: usize) -> Result<(), FormatError> {
        for (field, name) in self.fields().into_iter().zip(["names", "urls", "images"]) {
            if !field.is_empty() && field.len() != rows {
                return Err(corrupt(format!("{} item {name} for {rows} items", field.len())));
            }
        }
        if let Some(bad) = self.urls.iter().chain(&self.images).find(|u| !u.is_empty() && !is_safe_url(u)) {
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
            for s in field {
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
                *field = (0..rows).map(|_| r.str().map(str::to_string).ok_or_else(bad)).collect::<Result<_, _>>()?;
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
            names: vec!["Crème brûlée \"deluxe\"".into(), "".into(), "<script>alert(1)</script>".into()],
            urls: vec![],
            images: vec!["https://img.example/a.png".into(), "/b.png".into(), "".into()],
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
    fn script_links_and_wrong_shapes_are_refused() {
        let mut i = info();
        assert!(i.validate(3).is_ok());
        assert!(i.validate(4).is_err());
        i.urls = vec!["javascript:alert(1)".into(), "".into(), "".into()];
        assert!(i.validate(3).unwrap_err().to_string().contains("not http(s) or relative"));
    }
}
