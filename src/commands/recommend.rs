//! `gramrec recommend`.

use anyhow::Result;
use gramrec_core::Recommendations;
use gramrec_train::output::Model;
use serde_json::json;

use super::{emit, emit_json, items_json, items_table, load_item_model};
use crate::cli::RecommendArgs;

pub fn run(a: RecommendArgs) -> Result<()> {
    let recs = match (&a.user, &a.history) {
        (_, Some(h)) => load_item_model(&a.model)?.recommend_history(&parse_history(h)?, a.k)?,
        (Some(user), None) => {
            let model = Model::load(&a.model)?;
            match model.user(user) {
                None => Recommendations {
                    items: model.items.popular(a.k),
                    cold_start: true,
                    unknown: vec![],
                },
                Some(x) => {
                    let mut seen = Vec::new();
                    if let Some(train) = &a.train {
                        let (t, _) = a.input_args.load(train)?;
                        if let Some(u) = t.users.get(user) {
                            for (&tu, &ti) in t.user.iter().zip(&t.item) {
                                if tu == u {
                                    seen.extend(model.items.index_of(t.items.id(ti)));
                                }
                            }
                        }
                    }
                    Recommendations {
                        items: model.items.recommend(&x, a.k, &seen)?,
                        cold_start: false,
                        unknown: vec![],
                    }
                }
            }
        }
        (None, None) => unreachable!("clap requires --user or --history"),
    };
    if a.json {
        return emit_json(
            &json!({"items": items_json(&recs.items), "coldStart": recs.cold_start, "unknown": recs.unknown}),
        );
    }
    let mut s = String::new();
    if recs.cold_start {
        s.push_str(
            "no known history: these are the most popular items (score = training interactions)\n",
        );
    }
    if !recs.unknown.is_empty() {
        s.push_str(&format!(
            "ignored items the model does not know: {}\n",
            recs.unknown.join(", ")
        ));
    }
    s.push_str(&items_table(&recs.items, "score"));
    emit(&s)
}

/// Parses `ITEM[:WEIGHT],…`: the text after the last `:` is a weight when it
/// is a number, so IDs may contain colons.
pub fn parse_history(h: &str) -> Result<Vec<(String, f32)>> {
    let mut out = Vec::new();
    for entry in h.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (id, w) = match entry.rsplit_once(':') {
            Some((id, w)) if w.trim().parse::<f32>().is_ok() => (id, w.trim().parse::<f32>()?),
            _ => (entry, 1.0),
        };
        if !w.is_finite() {
            return Err(gramrec_train::Error::Usage(format!(
                "--history: weight of '{id}' is not finite"
            ))
            .into());
        }
        out.push((id.to_string(), w));
    }
    Ok(out)
}
