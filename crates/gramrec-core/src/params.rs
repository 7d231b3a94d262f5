//! The parameters that define an ALS model's objective and how it is solved,
//! with the defaults for each model kind.
//!
//! These travel inside factor files, so that a model read back (in the CLI or
//! the browser) folds new users in with the same objective it was trained on.
//! The defaults live here, once, so the CLI, benchmarks and tests agree.

use serde::Serialize;

use crate::named_enum;

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

/// Storage type of the factors in a factor file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// 4 bytes per value, exact.
    F32,
    /// 2 bytes per value (IEEE half precision).
    F16,
    /// 1 byte per value with one f32 scale per row.
    I8,
}

named_enum!(ModelKind, "--kind" { Explicit => "explicit", Implicit => "implicit" });
named_enum!(RegScaling, "--reg-scaling" { Count => "count", None => "none" });
named_enum!(Confidence, "--confidence" { Linear => "linear", Log => "log" });
named_enum!(Solver, "--solver" { Cg => "cg", Cholesky => "cholesky" });
named_enum!(Dtype, "--dtype" { F32 => "f32", F16 => "f16", I8 => "i8" });

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

/// Everything that defines the objective a row solve minimises.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelParams {
    /// Explicit ratings or implicit feedback.
    pub kind: ModelKind,
    /// Number of latent factors f.
    pub factors: usize,
    /// Regularisation strength λ.
    pub reg: f32,
    /// Whether λ is multiplied by each row's interaction count.
    pub reg_scaling: RegScaling,
    /// Confidence slope α (implicit models).
    pub alpha: f32,
    /// Confidence curve (implicit models).
    pub confidence: Confidence,
    /// ε of the log confidence curve (implicit models).
    pub epsilon: f32,
    /// Whether the model learns a global mean and per-row biases (explicit models).
    pub biases: bool,
}

impl ModelParams {
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

    /// The diagonal added to a row's Gram matrix for a row with `n` interactions.
    #[inline]
    pub fn shift(&self, n: usize) -> f32 {
        match self.reg_scaling {
            RegScaling::Count => self.reg * n as f32,
            RegScaling::None => self.reg,
        }
    }
}

/// The objective as JSON (`train --json`, `inspect --json`): `biases` is
/// whether the model has them (never for implicit models).
impl Serialize for ModelParams {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct View {
            kind: ModelKind,
            factors: usize,
            reg: f32,
            reg_scaling: RegScaling,
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
            alpha: self.alpha,
            confidence: self.confidence,
            epsilon: self.epsilon,
            biases: self.uses_biases(),
        }
        .serialize(s)
    }
}
