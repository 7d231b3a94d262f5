//! Items' names, links and images: read from the interaction file's own
//! columns (`--item-name-col Description`) or from an item file (MovieLens'
//! `movies.csv`, a product catalogue in CSV, JSON lines or Parquet), then
//! matched to a model's items by ID.

use std::path::Path;

use gramrec_core::format::Texts;
use gramrec_core::{setting, ItemInfo, Result};

use crate::load::{self, Column, Interactions, ItemField, LoadOptions, RatingColumn};

/// Header names recognised as an item's display name.
pub const NAME_NAMES: &[&str] = &["name", "title", "itemname", "productname", "displayname", "description"];
/// Header names recognised as a link to an item's page.
pub const URL_NAMES: &[&str] = &["url", "link", "itemurl", "producturl", "href", "pageurl"];
/// Header names recognised as a link to an item's image.
pub const IMAGE_NAMES: &[&str] = &["image", "imageurl", "imurl", "img", "thumbnail", "picture", "imagelink", "cover"];

/// Which columns hold the details: each the column given, or (in an item
/// file) the first whose header is a known name for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DetailColumns {
    /// The display name.
    pub name: Option<Column>,
    /// The page link.
    pub url: Option<Column>,
    /// The image link.
    pub image: Option<Column>,
}

impl DetailColumns {
    /// Whether any column is given.
    pub fn any(&self) -> bool {
        self.name.is_some() || self.url.is_some() || self.image.is_some()
    }

    /// The loader's fields: only the given ones for an interaction file
    /// (`found_by_name` false), all three for an item file, where missing
    /// ones are looked for by their header names.
    pub fn fields(&self, found_by_name: bool) -> Vec<ItemField> {
        let all = [
            (&self.name, NAME_NAMES, false, "item_name"),
            (&self.url, URL_NAMES, true, "item_url"),
            (&self.image, IMAGE_NAMES, true, "item_image"),
        ];
        all.into_iter()
            .map(|(column, names, link, role)| ItemField {
                column: column.clone(),
                known: if found_by_name || column.is_some() { names } else { &[] },
                link,
                role,
            })
            .collect()
    }
}

/// Details by item ID, as read.
#[derive(Debug, Clone, Default)]
pub struct DetailTable {
    index: std::collections::HashMap<String, usize>,
    /// Names, links, images: by the table's own item order.
    fields: [Vec<String>; 3],
    /// Which of the three the input had.
    found: [bool; 3],
}

impl DetailTable {
    /// The details loaded with the interactions (their options'
    /// `item_fields` made by [`DetailColumns::fields`]).
    pub fn from_interactions(x: &Interactions) -> Self {
        let ids = (0..x.items.len() as u32).map(|i| x.items.id(i).to_string());
        let index = ids.enumerate().map(|(i, id)| (id, i)).collect();
        let mut fields: [Vec<String>; 3] = Default::default();
        let mut found = [false; 3];
        for (k, v) in x.item_fields.iter().enumerate().take(3) {
            fields[k] = v.clone();
            found[k] = x.item_fields_found.get(k).copied().unwrap_or(false);
        }
        Self { index, fields, found }
    }

    /// A table of names alone, from (item ID, name) pairs: names known in
    /// memory rather than read from a file.
    pub fn from_names(names: impl IntoIterator<Item = (String, String)>) -> Self {
        let (ids, names): (Vec<String>, Vec<String>) = names.into_iter().unzip();
        let index = ids.into_iter().enumerate().map(|(i, id)| (id, i)).collect();
        Self { index, fields: [names, Vec::new(), Vec::new()], found: [true, false, false] }
    }

    /// Reads an item file: the item column (`opts.item`, else a header
    /// such as `itemId`, `movieId`, `asin`, else the first column) and the
    /// detail columns; every item's first non-empty value is kept.
    pub fn load(path: &Path, opts: &LoadOptions, columns: &DetailColumns) -> Result<Self> {
        let opts = LoadOptions {
            items_only: true,
            rating: RatingColumn::Absent,
            timestamps: false,
            item_fields: columns.fields(true),
            ..opts.clone()
        };
        let x = load::load(path, &opts)?;
        if !x.item_fields_found.iter().any(|&f| f) {
            return Err(gramrec_core::Error::input(
                path,
                None,
                format!(
                    "no name, link or image column found: name one with {}, {} or {}",
                    setting("item_name_col"),
                    setting("item_url_col"),
                    setting("item_image_col")
                ),
            ));
        }
        Ok(Self::from_interactions(&x))
    }

    /// Names of the detail columns the input had (`name`, `url`, `image`).
    pub fn found(&self) -> Vec<&'static str> {
        ["name", "url", "image"].into_iter().zip(self.found).filter(|(_, f)| *f).map(|(n, _)| n).collect()
    }

    /// How many of the table's items are not among `ids` (a model's): their
    /// details are left out of its file.
    pub fn unmatched(&self, ids: &[String]) -> usize {
        self.index.len() - ids.iter().filter(|id| self.index.contains_key(id.as_str())).count()
    }

    /// The details of a model's items, by row, and how many of them the
    /// table describes.
    pub fn for_items(&self, ids: &[String]) -> (ItemInfo, usize) {
        let rows: Vec<Option<usize>> = ids.iter().map(|id| self.index.get(id).copied()).collect();
        let column = |k: usize| -> Texts {
            if !self.found[k] {
                return Texts::default();
            }
            rows.iter().map(|r| r.and_then(|r| self.fields[k].get(r)).map_or("", String::as_str)).collect()
        };
        let info = ItemInfo { names: column(0), urls: column(1), images: column(2) };
        let described = info.described();
        (info, described)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn movielens_movies_csv_is_found_by_its_header() {
        let (_d, path) = write(
            "movies.csv",
            "movieId,title,genres\n1,Toy Story (1995),Animation\n2,\"Jumanji, The (1995)\",Adventure\n3,Café,Drama\n",
        );
        let t = DetailTable::load(&path, &LoadOptions::default(), &DetailColumns::default()).unwrap();
        assert_eq!(t.found(), ["name"]);
        let (info, n) = t.for_items(&["2".into(), "9".into(), "3".into()]);
        assert_eq!(n, 2);
        assert_eq!(info.names.iter().collect::<Vec<_>>(), ["Jumanji, The (1995)", "", "Café"]);
        assert!(info.urls.is_empty());
    }

    #[test]
    fn json_catalogues_with_links_and_unsafe_links_refused() {
        let (_d, path) = write(
            "meta.jsonl",
            "{\"asin\": \"B1\", \"title\": \"Lamp\", \"imUrl\": \"https://img.example/b1.jpg\"}\n\
             {\"asin\": \"B2\", \"title\": null}\n",
        );
        let t = DetailTable::load(&path, &LoadOptions::default(), &DetailColumns::default()).unwrap();
        assert_eq!(t.found(), ["name", "image"]);
        let (info, _) = t.for_items(&["B2".into(), "B1".into()]);
        assert_eq!(info.images.iter().collect::<Vec<_>>(), ["", "https://img.example/b1.jpg"]);
        let (_d2, bad) = write("bad.csv", "item,name,url\nx,X,javascript:alert(1)\n");
        let e = DetailTable::load(&bad, &LoadOptions::default(), &DetailColumns::default()).unwrap_err().to_string();
        assert!(e.contains("bad.csv:2: the link 'javascript:alert(1)' is not http(s) or relative"), "{e}");
    }

    #[test]
    fn overlong_details_are_refused_or_skipped() {
        let (_d, path) = write("long.csv", &format!("item,name\na,A\nb,{}\nc,C\n", "x".repeat(70_000)));
        let e = DetailTable::load(&path, &LoadOptions::default(), &DetailColumns::default()).unwrap_err().to_string();
        assert!(e.contains("long.csv:3: an item detail of 70000 bytes, more than 64 KiB"), "{e}");
        let skip = LoadOptions { skip_invalid: true, ..Default::default() };
        let (info, n) = DetailTable::load(&path, &skip, &DetailColumns::default()).unwrap().for_items(&[
            "a".into(),
            "b".into(),
            "c".into(),
        ]);
        assert_eq!((info.names.iter().collect::<Vec<_>>(), n), (vec!["A", "", "C"], 2));
    }

    #[test]
    fn items_of_the_table_a_model_lacks_are_counted() {
        let table = DetailTable::from_names([("a", "A"), ("b", "B"), ("c", "C")].map(|(i, n)| (i.into(), n.into())));
        assert_eq!(table.unmatched(&["a".into(), "x".into()]), 2);
        assert_eq!(table.unmatched(&["c".into(), "b".into(), "a".into()]), 0);
    }

    #[test]
    fn details_from_the_interaction_file_keep_the_first_value() {
        let (_d, path) = write(
            "retail.csv",
            "InvoiceNo,StockCode,Description,Quantity\n1,85123A,WHITE HANGING HEART,6\n2,85123A,,2\n2,71053,WHITE METAL LANTERN,6\n3,85123A,other text,1\n",
        );
        let columns = DetailColumns { name: Some(Column::Name("Description".into())), ..Default::default() };
        let opts = LoadOptions {
            user: Some(Column::Name("InvoiceNo".into())),
            item: Some(Column::Name("StockCode".into())),
            item_fields: columns.fields(false),
            ..Default::default()
        };
        let x = load::load(&path, &opts).unwrap();
        assert_eq!(x.len(), 4);
        let (info, n) = DetailTable::from_interactions(&x).for_items(&["71053".into(), "85123A".into()]);
        assert_eq!((info.names.iter().collect::<Vec<_>>(), n), (vec!["WHITE METAL LANTERN", "WHITE HANGING HEART"], 2));
        let missing = LoadOptions {
            item_fields: DetailColumns { name: Some(Column::Name("Title".into())), ..Default::default() }.fields(false),
            ..opts
        };
        assert!(load::load(&path, &missing).unwrap_err().to_string().contains("no column named 'Title'"));
    }
}
