//! `gramrec evaluate`.

use anyhow::Result;
use gramrec_eval::evaluate::Figures;
use gramrec_eval::{evaluate, Evaluation, Metric};
use gramrec_store::load_model;

use crate::cli::EvaluateArgs;
use crate::output::{emit, emit_json};

pub fn run(a: EvaluateArgs) -> Result<()> {
    super::at_least_one("--k", a.k)?;
    let model = load_model(&a.model)?;
    let train = a.train.as_ref().map(|t| a.input_args.load(t, true)).transpose()?.map(|(x, _)| x);
    let (test, _) = a.input_args.load(&a.test, true)?;
    let ev = evaluate(&model, train.as_ref(), &test, a.k)?;
    if let Some(warning) = below_baseline(&ev) {
        crate::progress::stderr_line(&warning);
    }
    if a.json {
        emit_json(&ev)
    } else {
        emit(&report(&ev))
    }
}

/// The evaluation as aligned text, the baseline in a second column.
pub fn report(ev: &Evaluation) -> String {
    let mut s = format!("{} model, {} test interactions", ev.kind, ev.test_interactions);
    let dropped = [
        (ev.unknown_user, "with a user the model does not know"),
        (ev.unknown_item, "with an item the model does not know"),
        (ev.seen_in_training, "with an item the user had in training"),
        (ev.repeated, "repeating a (user, item) pair"),
        (ev.not_positive, "with a value of 0 or less"),
    ];
    let dropped: Vec<String> = dropped.iter().filter(|(n, _)| *n > 0).map(|(n, why)| format!("{n} {why}")).collect();
    if dropped.is_empty() {
        s.push_str(", all counted\n");
    } else {
        s.push_str(&format!("; not counted: {}\n", dropped.join(", ")));
    }
    let base = ev.baseline.as_deref();
    s.push_str(&format!("  {:<14} {:>8}  {}\n", "", "model", base.map_or("", |b| b.kind.as_str())));
    let k = ev.k;
    let metrics = [
        Metric::Rmse,
        Metric::Mae,
        Metric::Precision(k),
        Metric::Recall(k),
        Metric::Map(k),
        Metric::Ndcg(k),
        Metric::Auc,
        Metric::Mpr,
    ];
    let mut row = |name: String, v: Option<f64>, b: Option<f64>| {
        if let Some(v) = v {
            let b = b.map_or(String::new(), |b| format!("{b:>8.4}"));
            s.push_str(&format!("  {name:<14} {v:>8.4}  {b}\n"));
        }
    };
    for m in metrics {
        row(m.to_string(), m.of(ev), base.and_then(|b| m.of(b)));
    }
    row(format!("coverage@{k}"), Some(ev.figures.coverage()), base.map(|b| b.figures.coverage()));
    let unit = match ev.figures {
        Figures::Ratings { .. } => "pairs",
        Figures::Ranking(_) => "users",
    };
    s.push_str(&format!("  over {} {unit}\n", ev.evaluated));
    s
}

/// A warning when the model's headline metric (RMSE for ratings, NDCG@k
/// for rankings) is worse than its baseline's: a model that loses to
/// popularity (or to each item's mean rating) should not ship unnoticed.
pub fn below_baseline(ev: &Evaluation) -> Option<String> {
    let base = ev.baseline.as_deref()?;
    let metric = match ev.figures {
        Figures::Ratings { .. } => Metric::Rmse,
        Figures::Ranking(_) => Metric::Ndcg(ev.k),
    };
    let (model, baseline) = (metric.of(ev)?, metric.of(base)?);
    let worse = if metric.lower_is_better() { model > baseline } else { model < baseline };
    worse.then(|| {
        format!(
            "warning: the model's {metric} ({model:.4}) is worse than the {} baseline's ({baseline:.4}): check the data and the settings (train --auto searches them)",
            base.kind
        )
    })
}
