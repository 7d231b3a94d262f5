//! What gramrec reads from the data when the caller does not say: the model
//! kind and an implicit model's confidence curve, each choice with its reason.

use gramrec_core::{Confidence, ModelKind, ModelParams, ValueShape};
use gramrec_data::Interactions;
use serde::Serialize;

/// What the caller fixed; `None` leaves the choice to the data.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Asked {
    /// Explicit or implicit (`--explicit`, `--implicit`).
    pub kind: Option<ModelKind>,
    /// The confidence curve of an implicit model (`--confidence`).
    pub confidence: Option<Confidence>,
}

/// One choice made from the data, printed and recorded (`train --json`'s
/// `defaultsRead`) so that no guess is silent.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultChoice {
    /// The parameter's flag name without dashes (`kind`, `confidence`).
    pub parameter: &'static str,
    /// The value chosen.
    pub value: String,
    /// What in the data chose it, and the flag that overrides it.
    pub reason: String,
}

/// The model kind and confidence curve for some interactions.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadDefaults {
    /// Explicit or implicit.
    pub kind: ModelKind,
    /// The confidence curve of an implicit model.
    pub confidence: Confidence,
    /// Each choice made from the data (none when the caller made them).
    pub choices: Vec<DefaultChoice>,
}

/// The kind: as asked; else implicit without a rating column, with a value
/// map, a strength column (`plays`, `count`…) or heavy-tailed counts, and
/// explicit otherwise. The confidence curve of an implicit model: as asked,
/// else log for heavy-tailed counts, linear otherwise ([`ValueShape`]).
pub fn read_defaults(x: &Interactions, asked: Asked) -> ReadDefaults {
    let shape = x.has_ratings.then(|| ValueShape::of(&x.value)).flatten();
    let counts = shape.is_some_and(|s| s.heavy_tailed_counts());
    let mut choices = Vec::new();
    let kind = asked.kind.unwrap_or_else(|| {
        let (kind, reason) = match (x.has_ratings, counts) {
            (false, _) => (ModelKind::Implicit, "no rating column: every interaction counts 1".to_string()),
            (true, _) if x.value_mapped => (
                ModelKind::Implicit,
                "--value-map gives each event a weight: strengths of feedback, not ratings (--explicit to treat them as ratings)".to_string(),
            ),
            (true, _) if x.strength_column().is_some() => (
                ModelKind::Implicit,
                format!(
                    "the value column is named '{}': strengths of feedback, not ratings (--explicit to treat them as ratings)",
                    x.strength_column().unwrap_or_default()
                ),
            ),
            (true, true) => (
                ModelKind::Implicit,
                "the values are heavy-tailed counts, not ratings (--explicit to treat them as ratings)".to_string(),
            ),
            (true, false) => {
                (ModelKind::Explicit, "the file has ratings (--implicit for feedback strengths)".to_string())
            }
        };
        choices.push(DefaultChoice { parameter: "kind", value: kind.to_string(), reason });
        kind
    });
    let confidence = match (asked.confidence, shape) {
        (Some(c), _) => c,
        (None, Some(shape)) if kind == ModelKind::Implicit => {
            let (c, reason) = shape.confidence();
            choices.push(DefaultChoice { parameter: "confidence", value: c.to_string(), reason });
            c
        }
        (None, _) => ModelParams::for_kind(kind).confidence,
    };
    ReadDefaults { kind, confidence, choices }
}
