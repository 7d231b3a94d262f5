//! What a Bayesian model (`method = bayes`) learned beside its factors —
//! each side's prior on its rows and the noise of the ratings — and the
//! row solve that uses it.
//!
//! Given a row's ratings r_i of the fixed side's rows z_i (factors, then 1
//! for the bias) with targets t_i = r_i − μ₀ − c_i, the row's conditional
//! posterior is N(Λ*⁻¹b, Λ*⁻¹) with Λ* = Λ + τΣ z_i z_iᵀ and b = Λμ + τΣ t_i z_i:
//! ALS-WR's normal equations with the learned prior N(μ, Λ⁻¹) in place of
//! λI, and τ the noise precision. Training's Gibbs sampler draws every row
//! from it; fold-in (a visitor in the CLI, the server, the browser, Python)
//! takes its mean, with the prior and τ averaged over the sampler's kept
//! sweeps. Both go through [`solve_with_prior`].

use crate::format::Side;
use crate::linalg;
use crate::normal_eq::{FixedSide, Row, SolveError};

/// A side's Gaussian prior on its rows: N(`mean`, `precision`⁻¹) over the
/// row's factors and bias.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianPrior {
    /// μ, d values.
    pub mean: Vec<f32>,
    /// Λ, d×d row-major, symmetric positive definite.
    pub precision: Vec<f32>,
}

impl GaussianPrior {
    /// Λμ (d values, summed in f64): the prior's part of a row's right-hand side.
    pub fn shift(&self) -> Vec<f32> {
        let d = self.mean.len();
        let row = |i: usize| self.precision[i * d..(i + 1) * d].iter().zip(&self.mean);
        (0..d).map(|i| row(i).map(|(&l, &m)| f64::from(l) * f64::from(m)).sum::<f64>() as f32).collect()
    }
}

/// What a Bayesian model learned beside its factors, averaged over the
/// sampler's kept sweeps (the item factor file's `PRIO` section).
#[derive(Debug, Clone, PartialEq)]
pub struct LearnedPrior {
    /// τ: ratings are N(prediction, 1/τ).
    pub noise: f32,
    /// The users' rows' prior.
    pub users: GaussianPrior,
    /// The items' rows' prior.
    pub items: GaussianPrior,
}

impl LearnedPrior {
    /// The prior of `side`'s rows.
    pub fn side(&self, side: Side) -> &GaussianPrior {
        match side {
            Side::Users => &self.users,
            Side::Items => &self.items,
        }
    }

    /// Why this is not a prior for rows of `d` values, if it is not: the
    /// lengths, finite values, τ > 0, and symmetric positive definite
    /// precisions (a Cholesky factorisation each: d³/6, once, when a file
    /// is read).
    pub fn problem(&self, d: usize) -> Option<String> {
        if !(self.noise.is_finite() && self.noise > 0.0) {
            return Some(format!("the noise precision is {}, not a positive number", self.noise));
        }
        for (side, p) in [("user", &self.users), ("item", &self.items)] {
            if p.mean.len() != d || p.precision.len() != d * d {
                return Some(format!("the {side} prior is not of {d} values per row"));
            }
            if !p.mean.iter().chain(&p.precision).all(|v| v.is_finite()) {
                return Some(format!("the {side} prior holds NaN or infinite values"));
            }
            let symmetric = (0..d).all(|i| (0..i).all(|j| p.precision[i * d + j] == p.precision[j * d + i]));
            let definite = || linalg::cholesky::<linalg::Plain>(&mut p.precision.clone(), d).is_ok();
            if !symmetric || !definite() {
                return Some(format!("the {side} prior's precision is not a symmetric positive definite matrix"));
            }
        }
        None
    }

    /// The values as the file stores them: τ, then the users' μ and Λ, then the items'.
    pub fn to_values(&self) -> Vec<f32> {
        let mut v = vec![self.noise];
        for p in [&self.users, &self.items] {
            v.extend_from_slice(&p.mean);
            v.extend_from_slice(&p.precision);
        }
        v
    }

    /// [`to_values`](Self::to_values) read back for rows of `d` values
    /// (`None` when there are not 1 + 2(d + d²) of them).
    pub fn from_values(v: &[f32], d: usize) -> Option<Self> {
        if v.len() != 1 + 2 * (d + d * d) {
            return None;
        }
        let side =
            |at: usize| GaussianPrior { mean: v[at..at + d].to_vec(), precision: v[at + d..at + d + d * d].to_vec() };
        Some(Self { noise: v[0], users: side(1), items: side(1 + d + d * d) })
    }
}

/// Scratch for rows solved with one side's prior: its Λ and Λμ, computed
/// once, and the row's gathered interactions and Λ*.
#[derive(Debug, Clone)]
pub struct PriorSolver {
    noise: f32,
    factors: usize,
    biases: bool,
    precision: Vec<f32>,
    shift: Vec<f32>,
    a: Vec<f32>,
    z: Vec<f32>,
    w: Vec<f32>,
}

impl PriorSolver {
    /// For rows with `prior` under noise precision `noise`, of `factors`
    /// factors plus a bias when `biases`.
    pub fn new(prior: &GaussianPrior, noise: f32, factors: usize, biases: bool) -> Self {
        let d = prior.mean.len();
        Self {
            noise,
            factors,
            biases,
            precision: prior.precision.clone(),
            shift: prior.shift(),
            a: vec![0.0; d * d],
            z: Vec::new(),
            w: Vec::new(),
        }
    }

    /// U of the last solve's Λ* = UᵀU (upper triangle, row-major): a draw
    /// from the row's posterior adds U⁻¹ε to the mean.
    pub fn factor(&self) -> &[f32] {
        &self.a
    }
}

crate::simd_dispatch!(
    /// Sets `x` (d values) to the mean of the row's conditional posterior
    /// given its ratings against `fixed` (module docs), leaving Λ*'s
    /// Cholesky factor in the solver. A row without ratings gets the prior's mean.
    pub fn solve_with_prior / solve_with_prior_generic<M>(
        s: &mut PriorSolver,
        fixed: &FixedSide<'_>,
        row: Row<'_>,
        x: &mut [f32],
    ) -> Result<(), SolveError> {
        let (f, d) = (s.factors, x.len());
        let n_fixed = fixed.factors.len() / d;
        s.a.copy_from_slice(&s.precision);
        x.copy_from_slice(&s.shift);
        s.z.clear();
        for (&c, &v) in row.cols.iter().zip(row.vals) {
            let c = c as usize;
            let y = fixed.factors.get(c * d..(c + 1) * d).ok_or(SolveError::IndexOutOfRange(c, n_fixed))?;
            let t = if s.biases { v - fixed.global_mean - y[f] } else { v - fixed.global_mean };
            s.z.extend_from_slice(&y[..f]);
            if s.biases {
                s.z.push(1.0);
            }
            linalg::axpy::<M>(s.noise * t, &s.z[s.z.len() - d..], x);
        }
        s.w.clear();
        s.w.resize(row.cols.len(), s.noise);
        linalg::gram_accumulate::<M>(&mut s.a, d, &s.z, &s.w);
        linalg::cholesky::<M>(&mut s.a, d).map_err(|_| SolveError::Precision)?;
        linalg::cholesky_solve::<M>(&s.a, d, x);
        Ok(())
    }
);
