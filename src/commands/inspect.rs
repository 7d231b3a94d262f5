//! `gramrec inspect`.

use anyhow::Result;
use gramrec_core::format::VERSION;
use gramrec_train::output::read_factor_file;
use serde_json::json;

use super::{emit, emit_json, params_json};
use crate::cli::InspectArgs;

pub fn run(a: InspectArgs) -> Result<()> {
    let file = read_factor_file(&a.file)?;
    let bytes = std::fs::metadata(&a.file).map(|m| m.len()).unwrap_or(0);
    let m = &file.meta;
    let p = &m.params;
    let f = p.factors;
    let values = file.factors_f32();
    let norms: Vec<f32> = values.chunks_exact(f).map(|r| r.iter().map(|v| v * v).sum::<f32>().sqrt()).collect();
    let mean_norm = norms.iter().sum::<f32>() / norms.len().max(1) as f32;
    let max_norm = norms.iter().copied().fold(0.0, f32::max);
    let sections: Vec<&str> =
        [("biases", file.biases.is_some()), ("gram", file.gram.is_some()), ("popularity", file.popularity.is_some())]
            .iter()
            .filter(|(_, present)| *present)
            .map(|(name, _)| *name)
            .collect();
    let mut v = json!({
        "file": a.file,
        "bytes": bytes,
        "version": VERSION,
        "side": m.side.name(),
        "rows": file.rows(),
        "dtype": file.factors.dtype().name(),
        "globalMean": m.global_mean,
        "ratingRange": [m.rating_min, m.rating_max],
        "sections": sections,
        "meanNorm": mean_norm,
        "maxNorm": max_norm,
        "firstIds": file.ids.iter().take(5).collect::<Vec<_>>(),
        "training": m.training.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
    });
    v.as_object_mut().expect("an object").extend(params_json(p));
    if a.json {
        return emit_json(&v);
    }
    let mut s = format!("{} ({} bytes, format version {VERSION}, checksums OK)\n", a.file.display(), bytes);
    s.push_str(&format!(
        "  {} factors of a {} model: {} rows × {} factors, {}\n",
        m.side.name(),
        p.kind,
        file.rows(),
        f,
        file.factors.dtype()
    ));
    s.push_str(&format!("  λ {} ({} scaling)", p.reg, p.reg_scaling));
    match p.kind {
        gramrec_core::ModelKind::Implicit => {
            s.push_str(&format!(", α {} ({} confidence, ε {})\n", p.alpha, p.confidence, p.epsilon))
        }
        gramrec_core::ModelKind::Explicit => s.push_str(&format!(
            ", biases {}, global mean {:.4}, ratings {}..{}\n",
            if p.uses_biases() { "yes" } else { "no" },
            m.global_mean,
            m.rating_min,
            m.rating_max
        )),
    }
    s.push_str(&format!("  sections: factors, ids{}\n", sections.iter().map(|x| format!(", {x}")).collect::<String>()));
    s.push_str(&format!("  factor norms: mean {mean_norm:.4}, max {max_norm:.4}\n"));
    s.push_str(&format!("  first IDs: {}\n", file.ids.iter().take(5).cloned().collect::<Vec<_>>().join(", ")));
    for (k, val) in &m.training {
        s.push_str(&format!("  {k}: {val}\n"));
    }
    emit(&s)
}
