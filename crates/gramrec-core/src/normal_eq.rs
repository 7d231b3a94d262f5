//! The per-row least-squares problem at the heart of ALS.
//!
//! With the other side's factors Y fixed, each row (a user, or an item) solves
//! a small d×d linear system. Training solves it for every row in parallel,
//! and fold-in solves it for one visitor in the browser: both go through
//! [`RowSolver::solve`], so a folded-in visitor gets the vector training would
//! have given them.
//!
//! * Explicit (ALS-WR): minimise Σ_i (r_i − μ − c_i − xᵀy_i − b)² + λ_n(‖x‖² + b²)
//!   where b is the row's bias and c_i the other side's (when the model has
//!   biases; otherwise μ = c_i = b = 0). With z_i = [y_i, 1]:
//!   (Σ z_i z_iᵀ + λ_n I)[x; b] = Σ (r_i − μ − c_i) z_i.
//! * Implicit (Hu, Koren, Volinsky 2008): c_i = confidence(r_i), p_i = [r_i > 0],
//!   α₀ the weight of the unobserved pairs (1 in Hu et al.):
//!   (α₀YᵀY + Σ (c_i − α₀) y_i y_iᵀ + λ_n I) x = Σ c_i p_i y_i, where YᵀY over
//!   all rows of Y is computed once per half-iteration and passed in.
//!
//! λ_n is λ·n (n = the row's interaction count), λ, or λ·(n + α₀N)^ν, per
//! [`RegScaling`](crate::RegScaling).

use std::marker::PhantomData;

use crate::linalg::{self, Madd};
use crate::params::{ModelKind, ModelParams, Solver, SolverOptions};

/// The fixed side of a half-iteration.
#[derive(Debug, Clone, Copy)]
pub struct FixedSide<'a> {
    /// Row-major factors of the fixed side, `params.dim()` values per row: the
    /// f factors, then the bias when the model has biases.
    pub factors: &'a [f32],
    /// YᵀY (f×f, both triangles) of the fixed side: required by implicit models.
    pub gram: Option<&'a [f32]>,
    /// The global mean μ of explicit models with biases (0 otherwise).
    pub global_mean: f32,
}

/// A row's normal equations could not be solved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SolveError {
    /// The system is singular: no regularisation, and too few interactions to
    /// determine every factor.
    #[error("the normal equations are not positive definite (the regularisation is 0 and the row has too few interactions for its factors; raise --reg)")]
    NotPositiveDefinite,
    /// The system has a unique solution, but too ill-conditioned a matrix for
    /// 32-bit floats to find it.
    #[error("the normal equations are too ill-conditioned for 32-bit floats (values or factors of very different magnitudes; scale the values down, or use --confidence log for large counts)")]
    Precision,
    /// An implicit model was solved without the fixed side's Gram matrix.
    #[error("an implicit model needs the fixed side's Gram matrix YᵀY")]
    MissingGram,
    /// An interaction names a row the fixed side does not have.
    #[error("interaction refers to row {0}, but the fixed side has only {1} rows")]
    IndexOutOfRange(usize, usize),
}

/// One row's interactions: the other side's rows and the values.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// Rows of the fixed side.
    pub cols: &'a [u32],
    /// The interaction values, one per entry of `cols`.
    pub vals: &'a [f32],
}

impl SolveError {
    /// Why a solve with diagonal `shift` failed: with regularisation the
    /// system is positive definite, so only precision can have failed.
    pub fn failed(shift: f32) -> Self {
        if shift > 0.0 {
            SolveError::Precision
        } else {
            SolveError::NotPositiveDefinite
        }
    }
}

/// Milestones of one row solve, reported to the observer of [`solve_row`]
/// (the CPU backend times its phases with them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The normal equations are built (for CG: the row is gathered and the
    /// right-hand side formed); solving starts.
    Built,
}

/// How many interactions ahead [`RowSolver`]'s gather prefetches the fixed
/// side's factor rows.
const PREFETCH_AHEAD: usize = 8;

/// Reusable scratch space for solving rows one after another (one per thread).
#[derive(Debug, Clone)]
pub struct RowSolver {
    params: ModelParams,
    z: Vec<f32>,
    w: Vec<f32>,
    t: Vec<f32>,
    a: Vec<f32>,
    b: Vec<f32>,
    r: Vec<f32>,
    p: Vec<f32>,
    ap: Vec<f32>,
}

impl RowSolver {
    /// Scratch space for rows of a model with these parameters.
    pub fn new(params: ModelParams) -> Self {
        let d = params.dim();
        Self {
            params,
            z: Vec::new(),
            w: Vec::new(),
            t: Vec::new(),
            a: vec![0.0; d * d],
            b: vec![0.0; d],
            r: vec![0.0; d],
            p: vec![0.0; d],
            ap: vec![0.0; d],
        }
    }

    /// The parameters this solver was made for.
    pub fn params(&self) -> &ModelParams {
        &self.params
    }

    /// Solves one row against `fixed`. `x` (length `params.dim()`) is the
    /// starting point for conjugate gradient and receives the solution. A row
    /// without interactions gets the zero vector.
    pub fn solve(&mut self, fixed: &FixedSide<'_>, row: Row<'_>, solver: SolverOptions, x: &mut [f32]) -> Solved {
        solve_row(self, fixed, row, solver, x, &mut |_| {})
    }

    /// Gathers z_i, w_i and t_i (see the module docs) for the row's interactions.
    #[inline(always)]
    fn gather(&mut self, fixed: &FixedSide<'_>, row: Row<'_>) -> Result<(), SolveError> {
        let p = self.params;
        let (f, d) = (p.factors, p.dim());
        let n_fixed = fixed.factors.len() / d;
        self.z.clear();
        self.w.clear();
        self.t.clear();
        for (k, (&c, &r)) in row.cols.iter().zip(row.vals).enumerate() {
            if let Some(&ahead) = row.cols.get(k + PREFETCH_AHEAD) {
                if let Some(y) = fixed.factors.get(ahead as usize * d..(ahead as usize + 1) * d) {
                    linalg::prefetch(y);
                }
            }
            let c = c as usize;
            if c >= n_fixed {
                return Err(SolveError::IndexOutOfRange(c, n_fixed));
            }
            let y = &fixed.factors[c * d..(c + 1) * d];
            match p.kind {
                ModelKind::Explicit => {
                    let offset = if p.uses_biases() { fixed.global_mean + y[f] } else { 0.0 };
                    self.z.extend_from_slice(&y[..f]);
                    if p.uses_biases() {
                        self.z.push(1.0);
                    }
                    self.w.push(1.0);
                    self.t.push(r - offset);
                }
                ModelKind::Implicit => {
                    let conf = p.confidence_of(r);
                    if conf == p.unobserved && r <= 0.0 {
                        continue; // contributes nothing beyond α₀YᵀY
                    }
                    self.z.extend_from_slice(&y[..f]);
                    self.w.push(conf - p.unobserved);
                    self.t.push(if r > 0.0 { conf } else { 0.0 });
                }
            }
        }
        Ok(())
    }
}

/// A row's normal-equation matrix, applied without forming it:
/// A·v = α₀YᵀY·v (implicit) + shift·v + Σ_i w_i (z_i·v) z_i.
struct RowOperator<'a, M> {
    gram: Option<&'a [f32]>,
    unobserved: f32,
    shift: f32,
    f: usize,
    z: &'a [f32],
    w: &'a [f32],
    madd: PhantomData<M>,
}

impl<M: Madd> linalg::LinearOperator for RowOperator<'_, M> {
    #[inline(always)]
    fn apply(&self, v: &[f32], out: &mut [f32]) {
        let f = self.f;
        match self.gram {
            Some(g) => linalg::symv::<M>(g, &v[..f], &mut out[..f]),
            None => out.fill(0.0),
        }
        for (o, vi) in out.iter_mut().zip(v) {
            *o = M::madd(self.shift, *vi, self.unobserved * *o);
        }
        linalg::add_rank_one_products::<M>(self.z, self.w, v, out);
    }
}

/// The outcome of a row solve.
pub type Solved = Result<(), SolveError>;

crate::simd_dispatch!(
    /// [`RowSolver::solve`], calling `on_phase` at each [`Phase`].
    pub fn solve_row / solve_row_generic<M>(
        s: &mut RowSolver,
        fixed: &FixedSide<'_>,
        row: Row<'_>,
        solver: SolverOptions,
        x: &mut [f32],
        on_phase: &mut dyn FnMut(Phase),
    ) -> Solved {
        let p = s.params;
        let (f, d) = (p.factors, p.dim());
        if row.cols.is_empty() {
            x.fill(0.0);
            on_phase(Phase::Built);
            return Ok(());
        }
        let gram = match p.kind {
            ModelKind::Implicit => Some(fixed.gram.ok_or(SolveError::MissingGram)?),
            ModelKind::Explicit => None,
        };
        s.gather(fixed, row)?;
        let shift = p.shift(row.cols.len(), fixed.factors.len() / d);

        // Right-hand side b = Σ t_i z_i.
        s.b.fill(0.0);
        linalg::add_scaled_rows::<M>(&s.z, &s.t, &mut s.b);

        match solver.solver {
            Solver::Cholesky => {
                match gram {
                    Some(g) => {
                        // The upper triangle alone: all the Cholesky reads.
                        for (i, (a, g)) in s.a.chunks_exact_mut(d).zip(g.chunks_exact(f)).enumerate() {
                            for (a, &g) in a[i..].iter_mut().zip(&g[i..]) {
                                *a = p.unobserved * g;
                            }
                        }
                    }
                    None => s.a.fill(0.0),
                }
                linalg::gram_accumulate::<M>(&mut s.a, d, &s.z, &s.w);
                for i in 0..d {
                    s.a[i * d + i] += shift;
                }
                on_phase(Phase::Built);
                linalg::cholesky::<M>(&mut s.a, d).map_err(|_| SolveError::failed(shift))?;
                linalg::cholesky_solve::<M>(&s.a, d, &mut s.b);
                x.copy_from_slice(&s.b);
            }
            Solver::Cg => {
                on_phase(Phase::Built);
                let op =
                    RowOperator::<M> { gram, unobserved: p.unobserved, shift, f, z: &s.z, w: &s.w, madd: PhantomData };
                linalg::conjugate_gradient::<M>(&op, &s.b, x, solver.cg_steps, &mut s.r, &mut s.p, &mut s.ap);
            }
        }
        if x.iter().all(|v| v.is_finite()) {
            Ok(())
        } else {
            Err(SolveError::failed(shift))
        }
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::RegScaling;

    fn params(kind: ModelKind, f: usize, biases: bool) -> ModelParams {
        ModelParams {
            factors: f,
            reg: 0.1,
            reg_scaling: RegScaling::Count,
            alpha: 2.0,
            biases,
            ..ModelParams::for_kind(kind)
        }
    }

    fn random(n: usize, seed: &mut u64) -> Vec<f32> {
        (0..n)
            .map(|_| {
                *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                ((*seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5
            })
            .collect()
    }

    /// Solves the row's problem densely in f64 from its definition, by
    /// Gaussian elimination on the full normal equations.
    fn dense_reference(p: &ModelParams, fixed: &FixedSide<'_>, cols: &[u32], vals: &[f32]) -> Vec<f64> {
        let (f, d) = (p.factors, p.dim());
        let n_fixed = fixed.factors.len() / d;
        let mut a = vec![0.0f64; d * d];
        let mut b = vec![0.0f64; d];
        let mut add = |z: &[f64], w: f64, t: f64| {
            for i in 0..d {
                b[i] += t * z[i];
                for j in 0..d {
                    a[i * d + j] += w * z[i] * z[j];
                }
            }
        };
        let row_z = |c: usize| -> Vec<f64> {
            let y = &fixed.factors[c * d..(c + 1) * d];
            let mut z: Vec<f64> = y[..f].iter().map(|&v| v as f64).collect();
            if p.uses_biases() {
                z.push(1.0);
            }
            z
        };
        match p.kind {
            ModelKind::Explicit => {
                for (&c, &r) in cols.iter().zip(vals) {
                    let y = &fixed.factors[c as usize * d..(c as usize + 1) * d];
                    let off = if p.uses_biases() { fixed.global_mean as f64 + y[f] as f64 } else { 0.0 };
                    add(&row_z(c as usize), 1.0, r as f64 - off);
                }
            }
            ModelKind::Implicit => {
                let interacted: std::collections::HashMap<u32, f32> =
                    cols.iter().copied().zip(vals.iter().copied()).collect();
                for c in 0..n_fixed {
                    let r = interacted.get(&(c as u32)).copied().unwrap_or(0.0);
                    let conf = if interacted.contains_key(&(c as u32)) {
                        p.confidence_of(r) as f64
                    } else {
                        p.unobserved as f64
                    };
                    add(&row_z(c), conf, if r > 0.0 { conf } else { 0.0 });
                }
            }
        }
        for i in 0..d {
            a[i * d + i] += p.shift(cols.len(), n_fixed) as f64;
        }
        // Gaussian elimination with partial pivoting.
        for col in 0..d {
            let piv = (col..d).max_by(|&i, &j| a[i * d + col].abs().total_cmp(&a[j * d + col].abs())).unwrap();
            for j in 0..d {
                a.swap(col * d + j, piv * d + j);
            }
            b.swap(col, piv);
            for i in col + 1..d {
                let m = a[i * d + col] / a[col * d + col];
                for j in col..d {
                    a[i * d + j] -= m * a[col * d + j];
                }
                b[i] -= m * b[col];
            }
        }
        let mut x = vec![0.0; d];
        for i in (0..d).rev() {
            let s: f64 = (i + 1..d).map(|j| a[i * d + j] * x[j]).sum();
            x[i] = (b[i] - s) / a[i * d + i];
        }
        x
    }

    fn gram_of(factors: &[f32], d: usize, f: usize) -> Vec<f32> {
        let mut g = vec![0.0f32; f * f];
        for y in factors.chunks(d) {
            for i in 0..f {
                for j in 0..f {
                    g[i * f + j] += y[i] * y[j];
                }
            }
        }
        g
    }

    fn check(kind: ModelKind, biases: bool, solver: SolverOptions, tol: f64) {
        check_params(params(kind, 7, biases), solver, tol);
    }

    fn check_params(p: ModelParams, solver: SolverOptions, tol: f64) {
        let (f, d, kind) = (p.factors, p.dim(), p.kind);
        let mut seed = 42;
        let factors = random(30 * d, &mut seed);
        let gram = gram_of(&factors, d, f);
        let fixed = FixedSide { factors: &factors, gram: Some(&gram), global_mean: 3.5 };
        let cols: Vec<u32> = vec![0, 3, 4, 9, 12, 17, 20, 21, 25, 29];
        let vals: Vec<f32> = random(cols.len(), &mut seed).iter().map(|v| 3.0 + 4.0 * v).collect();
        let want = dense_reference(&p, &fixed, &cols, &vals);
        let mut x = vec![0.0f32; d];
        RowSolver::new(p).solve(&fixed, Row { cols: &cols, vals: &vals }, solver, &mut x).unwrap();
        for (got, want) in x.iter().zip(&want) {
            assert!((*got as f64 - want).abs() < tol * (1.0 + want.abs()), "{kind} {}: {got} vs {want}", solver.solver);
        }
    }

    #[test]
    fn cholesky_matches_dense_least_squares() {
        check(ModelKind::Explicit, true, SolverOptions::cholesky(), 1e-4);
        check(ModelKind::Explicit, false, SolverOptions::cholesky(), 1e-4);
        check(ModelKind::Implicit, false, SolverOptions::cholesky(), 1e-4);
    }

    #[test]
    fn conjugate_gradient_with_enough_steps_matches_dense_least_squares() {
        check(ModelKind::Explicit, true, SolverOptions::cg(40), 1e-3);
        check(ModelKind::Implicit, false, SolverOptions::cg(40), 1e-3);
    }

    #[test]
    fn frequency_scaled_regularisation_and_unobserved_weight_match_the_dense_definition() {
        for kind in [ModelKind::Explicit, ModelKind::Implicit] {
            for unobserved in [0.05, 1.0, 3.0] {
                let p = ModelParams {
                    reg_scaling: RegScaling::Frequency,
                    reg_exponent: 0.7,
                    unobserved,
                    ..params(kind, 7, kind == ModelKind::Explicit)
                };
                check_params(p, SolverOptions::cholesky(), 1e-4);
                check_params(p, SolverOptions::cg(40), 1e-3);
            }
        }
        // λ·(n + α₀N)^ν with 10 interactions and 30 fixed rows.
        let p = ModelParams {
            reg_scaling: RegScaling::Frequency,
            reg_exponent: 0.5,
            unobserved: 0.2,
            reg: 2.0,
            ..params(ModelKind::Implicit, 3, false)
        };
        assert!((p.shift(10, 30) - 2.0 * 16f32.sqrt()).abs() < 1e-6);
        let explicit = ModelParams { kind: ModelKind::Explicit, ..p };
        assert!((explicit.shift(9, 30) - 2.0 * 3.0).abs() < 1e-6, "explicit models have no unobserved term");
    }

    #[test]
    fn empty_row_gets_zero_vector_and_bad_index_is_an_error() {
        let p = params(ModelKind::Explicit, 3, true);
        let factors = vec![1.0; 2 * p.dim()];
        let fixed = FixedSide { factors: &factors, gram: None, global_mean: 0.0 };
        let mut x = vec![9.0; p.dim()];
        let mut s = RowSolver::new(p);
        s.solve(&fixed, Row { cols: &[], vals: &[] }, SolverOptions::cholesky(), &mut x).unwrap();
        assert!(x.iter().all(|&v| v == 0.0));
        assert_eq!(
            s.solve(&fixed, Row { cols: &[5], vals: &[1.0] }, SolverOptions::cholesky(), &mut x),
            Err(SolveError::IndexOutOfRange(5, 2))
        );
    }

    #[test]
    fn implicit_without_gram_is_an_error() {
        let p = params(ModelKind::Implicit, 3, false);
        let factors = vec![1.0; 6];
        let fixed = FixedSide { factors: &factors, gram: None, global_mean: 0.0 };
        let mut x = vec![0.0; 3];
        assert_eq!(
            RowSolver::new(p).solve(&fixed, Row { cols: &[0], vals: &[1.0] }, SolverOptions::cholesky(), &mut x),
            Err(SolveError::MissingGram)
        );
    }
}
