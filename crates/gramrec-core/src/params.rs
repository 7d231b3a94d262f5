//! The parameters that define an ALS model's objective and how it is solved.
//!
//! These travel inside factor files, so that a model read back (in the CLI or
//! the browser) folds new users in with the same objective it was trained on.

use std::fmt;
use std::str::FromStr;

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
    /// Exact Cholesky factorisation of the row's normal equations.
    Cholesky,
    /// A few warm-started conjugate-gradient steps (what benfred/implicit does).
    Cg,
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
    /// The number of unknowns per row: the factors, plus one for the bias.
    pub fn dim(&self) -> usize {
        self.factors + usize::from(self.uses_biases())
    }

    /// Biases only exist in explicit models.
    pub fn uses_biases(&self) -> bool {
        self.kind == ModelKind::Explicit && self.biases
    }

    /// The confidence c for an implicit interaction of strength r.
    #[inline]
    pub fn confidence_of(&self, r: f32) -> f32 {
        match self.confidence {
            Confidence::Linear => 1.0 + self.alpha * r.abs(),
            Confidence::Log => 1.0 + self.alpha * (r.abs() / self.epsilon).ln_1p(),
        }
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

macro_rules! named_enum {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// The name used on the command line and in factor files.
            pub fn name(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($name => Ok($ty::$variant),)+
                    _ => Err(format!(
                        "unknown {} '{}' (expected one of: {})",
                        stringify!($ty), s, [$($name),+].join(", ")
                    )),
                }
            }
        }
    };
}

named_enum!(ModelKind { Explicit => "explicit", Implicit => "implicit" });
named_enum!(RegScaling { Count => "count", None => "none" });
named_enum!(Confidence { Linear => "linear", Log => "log" });
named_enum!(Solver { Cholesky => "cholesky", Cg => "cg" });
named_enum!(Dtype { F32 => "f32", F16 => "f16", I8 => "i8" });
