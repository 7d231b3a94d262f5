//! What gramrec reads from the data when the caller does not say: the model
//! kind and an implicit model's confidence curve, each choice with its
//! reason; and an implicit model's λ, α and factors, checked on a
//! validation split.

use gramrec_als::TrainConfig;
use gramrec_core::{Confidence, ModelKind, ModelParams, Result, ValueShape};
use gramrec_data::{DatasetOptions, Interactions};
use gramrec_eval::default_check::{self, DefaultCheck, Open};
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
    /// The parameter, in snake case (`kind`, `confidence`).
    pub parameter: &'static str,
    /// The value chosen.
    pub value: String,
    /// What in the data chose it.
    pub reason: String,
    /// The other value a caller would most likely want instead, and what
    /// it would do; each front end names it its own way ([`explain`](Self::explain)).
    #[serde(skip)]
    pub instead: Option<Instead>,
}

/// The value that overrides a choice read from the data, and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instead {
    /// The value (`explicit`).
    pub value: &'static str,
    /// What it does (`to treat them as ratings`).
    pub effect: &'static str,
}

impl DefaultChoice {
    /// The reason with the override named by `name(parameter, value)` (the
    /// CLI's `--explicit`, Python's `kind="explicit"`): `the values are
    /// heavy-tailed counts, not ratings (--explicit to treat them as ratings)`.
    pub fn explain(&self, name: impl Fn(&str, &str) -> String) -> String {
        match self.instead {
            Some(i) => format!("{} ({} {})", self.reason, name(self.parameter, i.value), i.effect),
            None => self.reason.clone(),
        }
    }
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
/// map, values the caller knows are strengths ([`Interactions::strengths`]),
/// a strength column (`plays`, `count`…), a single value (a 0/1 matrix's
/// ones) or heavy-tailed counts, and explicit otherwise. The confidence curve of an implicit model: as asked,
/// else log for heavy-tailed counts, linear otherwise ([`ValueShape`]).
pub fn read_defaults(x: &Interactions, asked: Asked) -> ReadDefaults {
    let shape = x.has_ratings.then(|| ValueShape::of(&x.value)).flatten();
    let counts = shape.is_some_and(|s| s.heavy_tailed_counts());
    let mut choices = Vec::new();
    let kind = asked.kind.unwrap_or_else(|| {
        let ratings = Instead { value: "explicit", effect: "to treat them as ratings" };
        let (kind, reason, instead) = match (x.has_ratings, counts) {
            (false, _) => (ModelKind::Implicit, "no rating column: every interaction counts 1".to_string(), None),
            (true, _) if x.value_mapped => (
                ModelKind::Implicit,
                "the value map gives each event a weight: strengths of feedback, not ratings".to_string(),
                Some(ratings),
            ),
            (true, _) if x.strengths.is_some() => {
                (ModelKind::Implicit, x.strengths.clone().unwrap_or_default(), Some(ratings))
            }
            (true, _) if x.strength_column().is_some() => (
                ModelKind::Implicit,
                format!(
                    "the value column is named '{}': strengths of feedback, not ratings",
                    x.strength_column().unwrap_or_default()
                ),
                Some(ratings),
            ),
            (true, _) if constant(&x.value).is_some() => (
                ModelKind::Implicit,
                format!(
                    "every value is {}: presence, not ratings (no rating model learns from one value)",
                    constant(&x.value).unwrap_or_default()
                ),
                None,
            ),
            (true, true) => {
                (ModelKind::Implicit, "the values are heavy-tailed counts, not ratings".to_string(), Some(ratings))
            }
            (true, false) => (
                ModelKind::Explicit,
                "the values are ratings".to_string(),
                Some(Instead { value: "implicit", effect: "for feedback strengths" }),
            ),
        };
        choices.push(DefaultChoice { parameter: "kind", value: kind.to_string(), reason, instead });
        kind
    });
    let confidence = match (asked.confidence, shape) {
        (Some(c), _) => c,
        (None, Some(shape)) if kind == ModelKind::Implicit => {
            let (c, reason) = shape.confidence();
            choices.push(DefaultChoice { parameter: "confidence", value: c.to_string(), reason, instead: None });
            c
        }
        (None, _) => ModelParams::for_kind(kind).confidence,
    };
    ReadDefaults { kind, confidence, choices }
}

/// The one value every interaction has, if they all have the same.
fn constant(values: &[f32]) -> Option<f32> {
    let first = *values.first()?;
    values.iter().all(|&v| v == first).then_some(first)
}

/// Checks an implicit model's default λ, α and factors on a validation split of
/// `x` ([`gramrec_eval::default_check`]) where the caller left them
/// `open`: `config` gets the values chosen, and each setting checked comes
/// back as a choice to report, with the check's figures; `None` where the
/// check does not apply (explicit models, Bayesian PMF, nothing left open;
/// a scaled λ is not checked). `data` builds the split's training matrices
/// as the fit will build its own; `say` hears what the check is about to
/// do before it starts (it takes a few trainings' time; an error it
/// returns stops the check); `between` is
/// called after every iteration of the check's trainings, and an error it
/// returns stops the check (a front end's Ctrl-C).
pub fn check_defaults(
    x: &Interactions,
    config: &mut TrainConfig,
    open: Open,
    data: &DatasetOptions,
    say: &mut dyn FnMut(String) -> Result<()>,
    between: &mut dyn FnMut() -> Result<()>,
) -> Result<Option<(DefaultCheck, Vec<DefaultChoice>)>> {
    let settings = default_check::settings(config, open);
    if settings.is_empty() {
        return Ok(None);
    }
    let opts = default_check::options(config, *data);
    say(default_check::announce(config, &settings, &opts))?;
    let check = default_check::check_defaults(x, config, &settings, &opts, between)?;
    config.params.reg = check.chosen.reg;
    config.params.alpha = check.chosen.alpha;
    config.params.factors = check.chosen.factors;
    let choices = settings
        .iter()
        .filter_map(|&s| {
            let (value, reason) = check.choice(s)?;
            Some(DefaultChoice { parameter: s.name(), value: value.to_string(), reason, instead: None })
        })
        .collect();
    Ok(Some((check, choices)))
}
