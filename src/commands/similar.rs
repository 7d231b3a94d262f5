//! `gramrec similar`.

use anyhow::Result;
use gramrec_core::text::escape_controls;
use gramrec_core::{Error, ItemList};
use gramrec_store::load_item_model;

use super::{at_least_one, items_table};
use crate::cli::SimilarArgs;
use crate::output::{emit, emit_json};

pub fn run(a: SimilarArgs) -> Result<()> {
    at_least_one("--k", a.k)?;
    let model = load_item_model(&a.model)?;
    let item = model
        .index_of(&a.item)
        .ok_or_else(|| Error::Data(format!("item '{}' is not in the model", escape_controls(&a.item))))?;
    let items = model.similar(item, a.k);
    if a.json {
        emit_json(&ItemList { items, unknown: vec![] })
    } else {
        emit(&items_table(&items, "cosine"))
    }
}
