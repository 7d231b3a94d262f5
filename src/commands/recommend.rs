//! `gramrec recommend`.

use anyhow::Result;
use gramrec_core::Recommendations;
use gramrec_train::eval::seen_items;
use gramrec_train::output::Model;
use gramrec_train::topn::write_all_users;
use gramrec_train::Error;
use serde_json::json;

use super::{emit, emit_json, items_json, items_table, load_item_model};
use crate::cli::{ColdStart, RecommendArgs};
use crate::progress::Progress;

pub fn run(a: RecommendArgs) -> Result<()> {
    let recs = match (&a.user, &a.history) {
        (_, Some(h)) => load_item_model(&a.model)?.recommend_history(&parse_history(h)?, a.k)?,
        (Some(user), None) => for_user(&a, user)?,
        (None, None) => return all_users(&a),
    };
    if a.json {
        return emit_json(
            &json!({"items": items_json(&recs.items), "coldStart": recs.cold_start, "unknown": recs.unknown}),
        );
    }
    let mut s = String::new();
    if recs.cold_start {
        s.push_str("no known history: these are the most popular items (score = training interactions)\n");
    }
    if !recs.unknown.is_empty() {
        s.push_str(&format!("ignored items the model does not know: {}\n", recs.unknown.join(", ")));
    }
    s.push_str(&items_table(&recs.items, "score"));
    emit(&s)
}

/// The model and each user's training items (empty without --train).
fn model_and_seen(a: &RecommendArgs) -> Result<(Model, std::collections::HashMap<usize, Vec<usize>>)> {
    let model = Model::load(&a.model)?;
    let train = a.train.as_ref().map(|t| a.input_args.load(t)).transpose()?.map(|(x, _)| x);
    let seen = seen_items(&model, train.as_ref());
    Ok((model, seen))
}

fn for_user(a: &RecommendArgs, user: &str) -> Result<Recommendations> {
    let (model, seen) = model_and_seen(a)?;
    let Some(row) = model.user_row(user) else {
        let items = match a.cold_start {
            ColdStart::Popular => model.items.popular(a.k),
            ColdStart::Skip => Vec::new(),
            ColdStart::Error => return Err(Error::Usage(format!("user '{user}' is not in the model")).into()),
        };
        return Ok(Recommendations { items, cold_start: true, unknown: vec![] });
    };
    let seen = seen.get(&row).map(Vec::as_slice).unwrap_or(&[]);
    Ok(Recommendations {
        items: model.items.recommend(&model.user_at(row), a.k, seen)?,
        cold_start: false,
        unknown: vec![],
    })
}

fn all_users(a: &RecommendArgs) -> Result<()> {
    let out = a.out.as_ref().expect("clap requires --out with --all");
    let (model, seen) = model_and_seen(a)?;
    let progress = Progress::bar(model.user_count() as u64, "recommending", false);
    progress.log(format!("top {} for {} users × {} items", a.k, model.user_count(), model.items.len()));
    write_all_users(&model, a.k, &seen, out, |n| progress.inc(n as u64))?;
    progress.finish();
    progress.log(format!("wrote {}", out.display()));
    Ok(())
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
            return Err(Error::Usage(format!("--history: weight of '{id}' is not finite")).into());
        }
        out.push((id.to_string(), w));
    }
    Ok(out)
}
