//! `gramrec evaluate`.

use anyhow::Result;
use gramrec_train::eval::{evaluate, Evaluation};
use gramrec_train::output::Model;

use super::{emit, emit_json};
use crate::cli::EvaluateArgs;

pub fn run(a: EvaluateArgs) -> Result<()> {
    let model = Model::load(&a.model)?;
    let train = a
        .train
        .as_ref()
        .map(|t| a.input_args.load(t))
        .transpose()?
        .map(|(x, _)| x);
    let (test, _) = a.input_args.load(&a.test)?;
    let ev = evaluate(&model, train.as_ref(), &test, a.k)?;
    if a.json {
        emit_json(&serde_json::to_value(&ev)?)
    } else {
        emit(&report(&ev))
    }
}

/// The evaluation as aligned text.
pub fn report(ev: &Evaluation) -> String {
    let mut s = format!(
        "{} model, {} test interactions ({} with an unknown user, {} with an unknown item)\n",
        ev.kind, ev.test_interactions, ev.unknown_user, ev.unknown_item
    );
    let mut line = |name: &str, v: Option<f64>| {
        if let Some(v) = v {
            s.push_str(&format!("  {name:<14} {v:.4}\n"));
        }
    };
    line("RMSE", ev.rmse);
    line("MAE", ev.mae);
    let k = ev.k;
    line(&format!("precision@{k}"), ev.precision);
    line(&format!("recall@{k}"), ev.recall);
    line(&format!("MAP@{k}"), ev.map);
    line(&format!("NDCG@{k}"), ev.ndcg);
    line("AUC", ev.auc);
    line("MPR", ev.mpr);
    let unit = if ev.rmse.is_some() { "pairs" } else { "users" };
    s.push_str(&format!("  over {} {unit}\n", ev.evaluated));
    s
}
