//! `gramrec inspect`.

use anyhow::Result;
use gramrec_core::text::escape_controls;
use gramrec_core::{Method, ModelKind};
use gramrec_store::read_factor_file;

use crate::cli::InspectArgs;
use crate::output::{emit, emit_json, InspectReport};

pub fn run(a: InspectArgs) -> Result<()> {
    if a.file.is_dir() {
        return Err(gramrec_core::Error::Argument(format!(
            "{} is a directory; inspect takes one factor file: {} or {}",
            a.file.display(),
            a.file.join(gramrec_store::ITEMS_FILE).display(),
            a.file.join(gramrec_store::USERS_FILE).display()
        ))
        .into());
    }
    let file = read_factor_file(&a.file)?;
    let bytes = std::fs::metadata(&a.file).map(|m| m.len()).unwrap_or(0);
    let mut head = [0u8; 12];
    std::fs::File::open(&a.file)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .map_err(|e| gramrec_core::Error::io(&a.file, e))?;
    let version = gramrec_core::format::version(&head).unwrap_or(0);
    let m = &file.meta;
    let p = &m.params;
    let f = p.factors;
    let values = file.factors_f32();
    let norms: Vec<f32> = values.chunks_exact(f).map(|r| r.iter().map(|v| v * v).sum::<f32>().sqrt()).collect();
    let mean_norm = norms.iter().sum::<f32>() / norms.len().max(1) as f32;
    let max_norm = norms.iter().copied().fold(0.0, f32::max);
    let sections: Vec<&'static str> = [
        ("biases", file.biases.is_some()),
        ("gram", file.gram.is_some()),
        ("popularity", file.popularity.is_some()),
        ("details", file.info.is_some()),
        ("seen", file.seen.is_some()),
        ("seenValues", file.seen.as_ref().is_some_and(|s| s.has_values())),
        ("prior", file.prior.is_some()),
    ]
    .iter()
    .filter(|(_, present)| *present)
    .map(|(name, _)| *name)
    .collect();
    let detail_fields: Vec<&'static str> = file.info.as_ref().map_or(Vec::new(), |i| {
        [("name", &i.names), ("url", &i.urls), ("image", &i.images)]
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(n, _)| n)
            .collect()
    });
    let described = file.info.as_ref().map(|i| i.described());
    let seen = file.seen.as_ref().map(|s| s.len());
    let report = InspectReport {
        file: a.file.clone(),
        bytes,
        version,
        side: m.side.name(),
        rows: file.rows(),
        dtype: file.factors.dtype(),
        params: *p,
        global_mean: m.global_mean,
        rating_range: [m.rating_min, m.rating_max],
        sections: sections.clone(),
        mean_norm,
        max_norm,
        first_ids: file.ids.iter().take(5).cloned().collect(),
        described,
        detail_fields: detail_fields.clone(),
        seen_interactions: seen,
        noise_precision: file.prior.as_ref().map(|p| p.noise),
        training: m.training.pairs().into_iter().collect(),
    };
    if a.json {
        return emit_json(&report);
    }
    let mut s = format!("{} ({} bytes, format version {version}, checksums OK)\n", a.file.display(), bytes);
    s.push_str(&format!(
        "  {} factors of an {} model: {} rows × {} factors, {}\n",
        m.side.name(),
        p.kind,
        file.rows(),
        f,
        file.factors.dtype()
    ));
    match &file.prior {
        Some(prior) => s.push_str(&format!(
            "  learned prior (fold-in solves with it; λ unused): noise precision τ {:.4} (noise sd {:.4})",
            prior.noise,
            1.0 / prior.noise.sqrt()
        )),
        // A Bayesian model's user file: the prior is in the item file.
        None if m.training.method == Some(Method::Bayes) => {
            s.push_str("  Bayesian PMF (its learned prior is in the item file; λ unused)")
        }
        None => s.push_str(&format!("  λ {} ({})", p.reg, p.scaling())),
    }
    match p.kind {
        ModelKind::Implicit => s.push_str(&format!(
            ", α {} ({} confidence, ε {}), unobserved weight α₀ {}\n",
            p.alpha, p.confidence, p.epsilon, p.unobserved
        )),
        ModelKind::Explicit => s.push_str(&format!(
            ", biases {}, global mean {:.4}, ratings {}..{}\n",
            if p.uses_biases() { "yes" } else { "no" },
            m.global_mean,
            m.rating_min,
            m.rating_max
        )),
    }
    s.push_str(&format!("  sections: factors, ids{}\n", sections.iter().map(|x| format!(", {x}")).collect::<String>()));
    s.push_str(&format!("  factor norms: mean {mean_norm:.4}, max {max_norm:.4}\n"));
    match described {
        Some(n) => {
            s.push_str(&format!("  item details ({}): {n} of {} items\n", detail_fields.join(", "), file.rows()))
        }
        None if m.side == gramrec_core::Side::Items => s.push_str("  item details: none\n"),
        None => {}
    }
    if let Some(n) = seen {
        s.push_str(&format!("  seen items: {n} training interactions recorded\n"));
    }
    let first: Vec<String> = file.ids.iter().take(5).map(|id| escape_controls(id).into_owned()).collect();
    s.push_str(&format!("  first IDs: {}\n", first.join(", ")));
    for (k, val) in m.training.pairs() {
        let val = if k == "read_at" { read_at(&val) } else { val };
        s.push_str(&format!("  {}: {}\n", escape_controls(&k), escape_controls(&val)));
    }
    emit(&s)
}

/// When training read its data, as the file stores it (seconds since 1970,
/// what `serve` compares with its events' times) and as a UTC date.
fn read_at(seconds: &str) -> String {
    let date = seconds.parse::<f64>().ok().and_then(|t| chrono::DateTime::from_timestamp(t.floor() as i64, 0));
    match date {
        Some(d) => format!("{seconds} ({} UTC, when training read its data)", d.format("%Y-%m-%d %H:%M:%S")),
        None => seconds.to_string(),
    }
}
