//! `gramrec similar`.

use anyhow::Result;
use serde_json::json;

use super::{emit, emit_json, items_json, items_table, load_item_model};
use crate::cli::SimilarArgs;

pub fn run(a: SimilarArgs) -> Result<()> {
    let model = load_item_model(&a.model)?;
    let item = model
        .index_of(&a.item)
        .ok_or_else(|| gramrec_train::Error::Usage(format!("item '{}' is not in the model", a.item)))?;
    let items = model.similar(item, a.k);
    if a.json {
        emit_json(&json!({"items": items_json(&items)}))
    } else {
        emit(&items_table(&items, "cosine"))
    }
}
