//! `gramrec recommend`.

use std::collections::HashMap;

use anyhow::Result;
use gramrec_core::text::escape_controls;
use gramrec_core::{Error, Model, Recommendations};
use gramrec_eval::evaluate::seen_items;
use gramrec_eval::topn::{open_scorer, write_all_users, TopNFormat};
use gramrec_store::{load_item_model, load_model, model_files, refuse_overwriting};

use super::{at_least_one, items_table};
use crate::cli::{ColdStart, RecommendArgs};
use crate::output::{emit, emit_json};
use crate::progress::Progress;

pub fn run(a: RecommendArgs) -> Result<()> {
    at_least_one("--k", a.k)?;
    let recs = match (&a.user, &a.history) {
        (_, Some(h)) => {
            load_item_model(&a.model)?.recommend_history(&parse_history(h)?, a.k).map_err(Error::Scoring)?
        }
        (Some(user), None) => for_user(&a, user)?,
        (None, None) => return all_users(&a),
    };
    if a.json {
        return emit_json(&recs);
    }
    let mut s = String::new();
    if recs.cold_start {
        s.push_str("no known history: these are the most popular items (score = training interactions)\n");
    }
    if !recs.unknown.is_empty() {
        let unknown: Vec<_> = recs.unknown.iter().map(|id| escape_controls(id)).collect();
        s.push_str(&format!("ignored items the model does not know: {}\n", unknown.join(", ")));
    }
    s.push_str(&items_table(&recs.items, "score"));
    emit(&s)
}

/// The training file's interactions, when --train is given; says so when
/// there is nothing to leave out (an older model without --train).
fn train_file(a: &RecommendArgs, model: &Model) -> Result<Option<gramrec_data::Interactions>> {
    if a.include_seen {
        return Ok(None);
    }
    if a.train.is_none() && model.users.seen().is_none() {
        crate::progress::stderr_line(
            "note: this model does not record its users' training items (written before factor-file version 2): \
             give --train FILE to leave them out",
        );
    }
    Ok(a.train.as_ref().map(|t| a.input_args.load(t, true)).transpose()?.map(|(x, _)| x))
}

/// The model and each user's training items, to leave out (none with --include-seen).
fn model_and_seen(a: &RecommendArgs) -> Result<(Model, HashMap<usize, Vec<usize>>)> {
    let model = load_model(&a.model)?;
    let train = train_file(a, &model)?;
    let seen = if a.include_seen { HashMap::new() } else { seen_items(&model, train.as_ref()) };
    Ok((model, seen))
}

fn for_user(a: &RecommendArgs, user: &str) -> Result<Recommendations> {
    let model = load_model(&a.model)?;
    let Some(row) = model.user_row(user) else {
        let items = match a.cold_start {
            ColdStart::Popular => model.items.popular(a.k),
            ColdStart::Skip => Vec::new(),
            ColdStart::Error => {
                return Err(Error::Data(format!("user '{}' is not in the model", escape_controls(user))).into())
            }
        };
        return Ok(Recommendations { items, cold_start: true, unknown: vec![] });
    };
    let train = train_file(a, &model)?;
    let seen: Vec<usize> = match (&train, model.seen(row)) {
        _ if a.include_seen => Vec::new(),
        (None, Some(recorded)) => recorded.iter().map(|&i| i as usize).collect(),
        (train, _) => seen_items(&model, train.as_ref()).remove(&row).unwrap_or_default(),
    };
    Ok(Recommendations {
        items: model.items.recommend(&model.user_at(row), a.k, &seen).map_err(Error::Scoring)?,
        cold_start: false,
        unknown: vec![],
    })
}

fn all_users(a: &RecommendArgs) -> Result<()> {
    let out = a.out.as_ref().expect("clap requires --out with --all");
    let mut inputs = model_files(&a.model);
    inputs.extend(a.train.clone());
    refuse_overwriting(std::slice::from_ref(out), &inputs)?;
    let (model, seen) = model_and_seen(a)?;
    let progress = Progress::bar(model.user_count() as u64, "recommending", false);
    progress.log(format!("top {} for {} users × {} items", a.k, model.user_count(), model.items.len()));
    let scorer = open_scorer(&model, a.k, &seen, a.device, crate::env::gpu_options()?, &mut |m| progress.log(m))?;
    let format = TopNFormat::from_path(out, a.csv_safe);
    write_all_users(&model, a.k, &seen, scorer.as_deref(), out, format, |n| progress.inc(n as u64))?;
    progress.finish();
    progress.log(format!("wrote {}", out.display()));
    Ok(())
}

/// Parses `--history ITEM[:WEIGHT],…` by the one set of history rules
/// ([`gramrec_core::history::parse_list`]).
pub fn parse_history(h: &str) -> Result<Vec<(String, f32)>, Error> {
    gramrec_core::history::parse_list(h).map_err(|e| Error::Argument(format!("--history: {e}")))
}
