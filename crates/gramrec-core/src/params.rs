//! The parameters that define an ALS model's objective and how it is solved,
//! with the defaults for each model kind.
//!
//! These travel inside factor files, so that a model read back (in the CLI or
//! the browser) folds new users in with the same objective it was trained on.
//! The defaults live here, once, so the CLI, benchmarks and tests agree.

use serde::Serialize;

use crate::named_enum;
use crate::setting::setting;

/// Which loss the model minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// Squared error on observed ratings only (ALS-WR, as Spark's default ALS).
    Explicit,
    /// Weighted squared error on every (user, item) pair with confidence
    /// weights (Hu, Koren and Volinsky 2008), for clicks, plays and purchases.
    Implicit,
}

/// How the regularisation λ is scaled per row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegScaling {
    /// λ·n_u for a row with n_u interactions (ALS-WR, Spark's choice).
    Count,
    /// λ for every row (benfred/implicit's choice).
    None,
    /// λ·(n_u + α₀·N)^ν, N the other side's rows, α₀ the weight of the
    /// unobserved pairs (implicit models; 0 in explicit ones) and ν
    /// `reg_exponent`: frequency-scaled regularisation as in Rendle et al.,
    /// "Revisiting the Performance of iALS on Item Recommendation Benchmarks"
    /// (RecSys 2022). ν = 1 with α₀ = 0 is `count`, ν = 0 is `none`.
    Frequency,
}

/// How an implicit interaction strength r becomes a confidence c.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confidence {
    /// c = 1 + α·|r|.
    Linear,
    /// c = 1 + α·ln(1 + |r|/ε): for heavy-tailed counts such as play counts.
    Log,
}

/// The per-row linear solver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Solver {
    /// A few warm-started conjugate-gradient steps (what benfred/implicit does).
    Cg,
    /// Exact Cholesky factorisation of the row's normal equations.
    Cholesky,
}

/// How a model is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Alternating least squares: the objective of [`ModelParams`], minimised.
    #[default]
    Als,
    /// Bayesian PMF by Gibbs sampling: explicit ratings only; λ is not
    /// used, the sampler learns each side's prior ([`crate::prior`]).
    Bayes,
}

/// Storage type of the factors in a factor file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dtype {
    /// 4 bytes per value, exact (the default: what training computed).
    #[default]
    F32,
    /// 2 bytes per value (IEEE half precision).
    F16,
    /// 1 byte per value with one f32 scale per row.
    I8,
}

named_enum!(ModelKind, "kind" { Explicit => "explicit", Implicit => "implicit" });
named_enum!(RegScaling, "reg_scaling" { Count => "count", None => "none", Frequency => "frequency" });
named_enum!(Confidence, "confidence" { Linear => "linear", Log => "log" });
named_enum!(Solver, "solver" { Cg => "cg", Cholesky => "cholesky" });
named_enum!(Method, "method" { Als => "als", Bayes => "bayes" });
named_enum!(Dtype, "dtype" { F32 => "f32", F16 => "f16", I8 => "i8" });

/// How each row's normal equations are solved: the method and, for
/// conjugate gradient, how many steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SolverOptions {
    /// The method.
    pub solver: Solver,
    /// Conjugate-gradient steps per row and half-iteration (ignored by Cholesky).
    pub cg_steps: usize,
}

impl SolverOptions {
    /// Three warm-started CG steps: on MovieLens 100K as good as the exact
    /// solve at a quarter of its time (BENCHMARKS.md).
    pub const DEFAULT: Self = Self { solver: Solver::Cg, cg_steps: 3 };

    /// The exact solve.
    pub fn cholesky() -> Self {
        Self { solver: Solver::Cholesky, ..Self::DEFAULT }
    }

    /// Conjugate gradient with `steps` steps.
    pub fn cg(steps: usize) -> Self {
        Self { solver: Solver::Cg, cg_steps: steps }
    }
}

impl Default for SolverOptions {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The most factors a model may have: the trainer's limit and the factor
/// file's (a file claiming more is refused before anything is allocated).
pub const MAX_FACTORS: usize = 1024;

/// The largest magnitude of a value accepted anywhere — a rating, a count,
/// an event's weight — as read, as posted, and as summed over a repeated
/// pair: billions of them still sum to a finite 32-bit number, where two of
/// 3·10³⁸ made the sum infinite and the model unwritable.
pub const MAX_VALUE: f32 = 1e15;

/// Why `min`..`max` is not a rating range (finite, in order), if it is not.
pub fn range_error(min: f32, max: f32) -> Option<String> {
    (!(min.is_finite() && max.is_finite() && min <= max))
        .then(|| format!("'rating_min' {min} and 'rating_max' {max} are not a range"))
}

/// Whether `v` is a value gramrec accepts: finite, of magnitude at most [`MAX_VALUE`].
pub fn valid_value(v: f32) -> bool {
    v.is_finite() && v.abs() <= MAX_VALUE
}

/// The largest confidence an interaction gets: 32-bit solves cannot use
/// larger ones next to the unit weights of the unobserved pairs (a weight of
/// 10¹⁰ made the normal equations unsolvable), so larger ones are capped here,
/// in training and fold-in alike (docs/ALGORITHM.md).
pub const MAX_CONFIDENCE: f32 = 1e6;

/// Full iterations when none are asked for.
pub const DEFAULT_ITERATIONS: usize = 15;
/// Latent factors when none are asked for.
pub const DEFAULT_FACTORS: usize = 64;
/// Confidence slope α of implicit models when none is asked for.
pub const DEFAULT_ALPHA: f32 = 1.0;
/// ε of the log confidence curve when none is asked for.
pub const DEFAULT_EPSILON: f32 = 1.0;
/// The largest ν of frequency-scaled regularisation: Rendle et al. search 0
/// to 1; up to 2 the shift stays finite in f32 for any row count.
pub const MAX_REG_EXPONENT: f32 = 2.0;
/// ν of frequency-scaled regularisation when none is asked for.
pub const DEFAULT_REG_EXPONENT: f32 = 1.0;
/// The weight α₀ of an implicit model's unobserved pairs when none is asked
/// for: 1, as Hu, Koren and Volinsky (and benfred/implicit) weigh them.
pub const DEFAULT_UNOBSERVED: f32 = 1.0;

/// What an implicit data set's values look like: enough to tell counts with a
/// heavy tail (plays, views, quantities) from ratings or clicks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValueShape {
    /// Whether every value is a whole number ≥ 0.
    pub counts: bool,
    /// The median value.
    pub median: f32,
    /// The 99th percentile.
    pub p99: f32,
}

impl ValueShape {
    /// Values sampled beyond this many (every n-th one, evenly): the
    /// percentiles of a million values are as good as those of all.
    const SAMPLE: usize = 1 << 20;

    /// The shape of `values` (`None` when there are none).
    pub fn of(values: &[f32]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let counts = values.iter().all(|&v| v >= 0.0 && v.fract() == 0.0);
        let step = values.len().div_ceil(Self::SAMPLE);
        let mut sample: Vec<f32> = values.iter().step_by(step).copied().collect();
        sample.sort_unstable_by(f32::total_cmp);
        let at = |q: f64| sample[((sample.len() - 1) as f64 * q).round() as usize];
        Some(Self { counts, median: at(0.5), p99: at(0.99) })
    }

    /// Whether these look like counts with a heavy tail: whole numbers whose
    /// 99th percentile is more than 20 times the median. Ratings (1 to 5,
    /// 0.5 to 5) and clicks (all 1) do not.
    pub fn heavy_tailed_counts(&self) -> bool {
        self.counts && self.p99 > 20.0 * self.median.max(1.0)
    }

    /// The confidence curve these values call for, and why: log for heavy-
    /// tailed counts (a linear confidence lets a few huge counts outweigh
    /// everything else), else linear.
    pub fn confidence(&self) -> (Confidence, String) {
        let (m, p) = (self.median, self.p99);
        if self.heavy_tailed_counts() {
            (
                Confidence::Log,
                format!("the values look like counts with a heavy tail (median {m}, 99th percentile {p})"),
            )
        } else if self.counts {
            (Confidence::Linear, format!("the counts are not heavy-tailed (median {m}, 99th percentile {p})"))
        } else {
            (
                Confidence::Linear,
                format!("the values are not all whole numbers of 0 or more (median {m}, 99th percentile {p})"),
            )
        }
    }
}

/// Everything that defines the objective a row solve minimises.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelParams {
    /// Explicit ratings or implicit feedback.
    pub kind: ModelKind,
    /// Number of latent factors f.
    pub factors: usize,
    /// Regularisation strength λ.
    pub reg: f32,
    /// How λ is scaled per row.
    pub reg_scaling: RegScaling,
    /// The exponent ν of [`RegScaling::Frequency`] (ignored by the others).
    pub reg_exponent: f32,
    /// The weight α₀ of the unobserved pairs of implicit models (their
    /// observed pairs weigh their confidence c); ignored by explicit ones.
    pub unobserved: f32,
    /// Confidence slope α (implicit models).
    pub alpha: f32,
    /// Confidence curve (implicit models).
    pub confidence: Confidence,
    /// ε of the log confidence curve (implicit models).
    pub epsilon: f32,
    /// Whether the model learns a global mean and per-row biases (explicit models).
    pub biases: bool,
}

/// A setting outside what it may be: the setting's name as the libraries
/// and factor files spell it (`factors`, `reg_exponent`) and what it must
/// be. Displayed with the setting as a [`crate::setting`] mark, which each
/// front end names its own way: the CLI as a flag (`--reg-exponent must be
/// between 0 and 2, not 3`), Python as the keyword.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{} {message}", setting(*parameter))]
pub struct ParamError {
    /// The setting, in snake case.
    pub parameter: &'static str,
    /// What it must be, and what it was (`must be between 1 and 1024, not 0`).
    pub message: String,
}

impl ParamError {
    /// A setting's error.
    pub fn new(parameter: &'static str, message: impl Into<String>) -> Self {
        Self { parameter, message: message.into() }
    }
}

impl ModelParams {
    /// The settings in one line, after `iterations` of training (`train`'s
    /// log line, the candidates of `train --auto` and of the Python
    /// package's `auto`): `64 factors, λ 30 (none scaling), α 1 (linear
    /// confidence), α₀ 1, 15 iterations`.
    pub fn describe(&self, iterations: usize) -> String {
        let mut s = format!("{} factors, λ {} ({})", self.factors, self.reg, self.scaling());
        if self.kind == ModelKind::Implicit {
            s.push_str(&format!(", α {} ({} confidence), α₀ {}", self.alpha, self.confidence, self.unobserved));
        }
        s.push_str(&format!(", {iterations} iterations"));
        s
    }

    /// How λ is scaled, with ν where it applies (`count scaling`,
    /// `frequency ν 0.5 scaling`).
    pub fn scaling(&self) -> String {
        match self.reg_scaling {
            RegScaling::Frequency => format!("frequency ν {} scaling", self.reg_exponent),
            other => format!("{other} scaling"),
        }
    }

    /// Whether these settings can be a model's: what training checks before
    /// it starts, and a factor file or an imported model before it is
    /// written.
    pub fn check(&self) -> Result<(), ParamError> {
        let p = self;
        let bad = |parameter, message: String| Err(ParamError::new(parameter, message));
        if p.factors == 0 || p.factors > MAX_FACTORS {
            return bad("factors", format!("must be between 1 and {MAX_FACTORS}, not {}", p.factors));
        }
        if !(p.reg >= 0.0 && p.reg.is_finite()) {
            return bad("reg", format!("must be a finite number ≥ 0, not {}", p.reg));
        }
        if !(p.alpha >= 0.0 && p.alpha.is_finite()) {
            return bad("alpha", format!("must be a finite number ≥ 0, not {}", p.alpha));
        }
        if !(p.epsilon > 0.0 && p.epsilon.is_finite()) {
            return bad("epsilon", format!("must be a finite number > 0, not {}", p.epsilon));
        }
        if !(0.0..=MAX_REG_EXPONENT).contains(&p.reg_exponent) {
            return bad("reg_exponent", format!("must be between 0 and {MAX_REG_EXPONENT}, not {}", p.reg_exponent));
        }
        if !(0.0..=MAX_CONFIDENCE).contains(&p.unobserved) {
            return bad("unobserved", format!("must be between 0 and {MAX_CONFIDENCE}, not {}", p.unobserved));
        }
        Ok(())
    }

    /// [`check`](Self::check)'s error as a file's metadata names the
    /// setting: `'factors' must be between 1 and 1024, not 0`.
    pub fn limits_error(&self) -> Option<String> {
        self.check().err().map(|e| format!("'{}' {}", e.parameter, e.message))
    }

    /// The defaults of a model kind, chosen by measurement on MovieLens 100K
    /// (BENCHMARKS.md): 64 factors; explicit λ = 0.1 scaled by each row's
    /// count, with biases (ALS-WR, as Spark); implicit λ = 30 unscaled, α = 1,
    /// linear confidence (as benfred/implicit scales λ).
    pub fn for_kind(kind: ModelKind) -> Self {
        let (reg, reg_scaling) = match kind {
            ModelKind::Explicit => (0.1, RegScaling::Count),
            ModelKind::Implicit => (30.0, RegScaling::None),
        };
        Self {
            kind,
            factors: DEFAULT_FACTORS,
            reg,
            reg_scaling,
            reg_exponent: DEFAULT_REG_EXPONENT,
            unobserved: DEFAULT_UNOBSERVED,
            alpha: DEFAULT_ALPHA,
            confidence: Confidence::Linear,
            epsilon: DEFAULT_EPSILON,
            biases: true,
        }
    }

    /// The number of unknowns per row: the factors, plus one for the bias.
    pub fn dim(&self) -> usize {
        self.factors + usize::from(self.uses_biases())
    }

    /// Biases only exist in explicit models.
    pub fn uses_biases(&self) -> bool {
        self.kind == ModelKind::Explicit && self.biases
    }

    /// The confidence c for an implicit interaction of strength r, at most
    /// [`MAX_CONFIDENCE`].
    #[inline]
    pub fn confidence_of(&self, r: f32) -> f32 {
        let c = match self.confidence {
            Confidence::Linear => 1.0 + self.alpha * r.abs(),
            Confidence::Log => 1.0 + self.alpha * (r.abs() / self.epsilon).ln_1p(),
        };
        c.min(MAX_CONFIDENCE)
    }

    /// The weight of the unobserved pairs in the objective: α₀ for implicit
    /// models, 0 for explicit ones (which have none).
    #[inline]
    pub fn unobserved_weight(&self) -> f32 {
        match self.kind {
            ModelKind::Implicit => self.unobserved,
            ModelKind::Explicit => 0.0,
        }
    }

    /// The diagonal added to the Gram matrix of a row with `n` interactions
    /// when the other side has `fixed_rows` rows.
    #[inline]
    pub fn shift(&self, n: usize, fixed_rows: usize) -> f32 {
        match self.reg_scaling {
            RegScaling::Count => self.reg * n as f32,
            RegScaling::None => self.reg,
            RegScaling::Frequency => {
                self.reg * (n as f32 + self.unobserved_weight() * fixed_rows as f32).powf(self.reg_exponent)
            }
        }
    }
}

/// The objective as JSON (`train --json`, `inspect --json`): `biases` is
/// whether the model has them (never for implicit models), `unobservedWeight`
/// is 0 for explicit models.
impl Serialize for ModelParams {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct View {
            kind: ModelKind,
            factors: usize,
            reg: f32,
            reg_scaling: RegScaling,
            reg_exponent: f32,
            unobserved_weight: f32,
            alpha: f32,
            confidence: Confidence,
            epsilon: f32,
            biases: bool,
        }
        View {
            kind: self.kind,
            factors: self.factors,
            reg: self.reg,
            reg_scaling: self.reg_scaling,
            reg_exponent: self.reg_exponent,
            unobserved_weight: self.unobserved_weight(),
            alpha: self.alpha,
            confidence: self.confidence,
            epsilon: self.epsilon,
            biases: self.uses_biases(),
        }
        .serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heavy_tailed_counts_get_the_log_curve_and_ratings_do_not() {
        let plays: Vec<f32> = (1..=1000).map(|i: i32| (1.0 + 1e6 / (i * i) as f32).round()).collect();
        let shape = ValueShape::of(&plays).unwrap();
        assert!(shape.heavy_tailed_counts(), "{shape:?}");
        assert_eq!(shape.confidence().0, Confidence::Log);
        let ratings: Vec<f32> = (0..1000).map(|i| (1 + i % 5) as f32).collect();
        assert_eq!(ValueShape::of(&ratings).unwrap().confidence().0, Confidence::Linear);
        let half_stars: Vec<f32> = (0..1000).map(|i| 0.5 + (i % 10) as f32 * 0.5).collect();
        let (curve, why) = ValueShape::of(&half_stars).unwrap().confidence();
        assert_eq!(curve, Confidence::Linear);
        assert!(why.contains("not all whole numbers of 0 or more"));
        assert_eq!(ValueShape::of(&[1.0; 50]).unwrap().confidence().0, Confidence::Linear, "clicks");
        assert!(ValueShape::of(&[]).is_none());
    }
}
