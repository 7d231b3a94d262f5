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
use crate::setting::{set, setting};

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
    /// Rows of the whole fixed side, which frequency scaling's λ counts;
    /// `factors` may hold only some of them (fold-in gathers a history's).
    pub rows: usize,
}

/// A row's normal equations could not be solved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SolveError {
    /// The system is singular: no regularisation, and too few interactions to
    /// determine every factor.
    #[error(
        "the normal equations are not positive definite (the regularisation is 0 and the row has too few \
         interactions for its factors; raise {})",
        setting("reg")
    )]
    NotPositiveDefinite,
    /// The system has a unique solution, but too ill-conditioned a matrix for
    /// 32-bit floats to find it.
    #[error(
        "the normal equations are too ill-conditioned for 32-bit floats (values or factors of very different \
         magnitudes; scale the values down, or use {} for large counts)",
        set("confidence", "log")
    )]
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

/// The phases of solving rows, reported to the observer of [`solve_rows`]
/// as each begins (the CPU backend splits its time by them). Solving starts
/// in [`Phase::Building`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Building the normal equations (for CG: gathering the rows and forming
    /// the residuals at the starting points).
    Building,
    /// Solving them.
    Solving,
}

/// How many interactions ahead [`RowSolver`]'s gather prefetches the fixed
/// side's factor rows.
const PREFETCH_AHEAD: usize = 8;

/// The most rows one [`solve_rows`] call takes: conjugate gradient solves
/// them side by side, so each product with YᵀY reads it once for all of them.
pub const BLOCK_ROWS: usize = linalg::CG_BLOCK;

/// Rows whose gathered interactions hold at most this many values (128 KiB)
/// are solved side by side: a block of them stays in the second-level cache
/// through every step. A longer row is solved alone, so that its
/// interactions stay in cache from one step to the next (side by side, four
/// long rows would push one another out).
const SIDE_BY_SIDE_VALUES: usize = 32 * 1024;

/// One row's interactions as the normal equations use them (see the module
/// docs): z_i one after another, w_i and t_i.
#[derive(Debug, Clone, Default)]
struct Gathered {
    z: Vec<f32>,
    w: Vec<f32>,
    t: Vec<f32>,
    /// The predictions z_i·x at the row's current x, when tracked.
    s: Vec<f32>,
    /// z_i·v of the last vector v the operator was applied to.
    zv: Vec<f32>,
}

/// Reusable scratch space for solving rows one block after another (one per
/// thread).
#[derive(Debug, Clone)]
pub struct RowSolver {
    params: ModelParams,
    rows: [Gathered; BLOCK_ROWS],
    shifts: [f32; BLOCK_ROWS],
    a: Vec<f32>,
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
            rows: Default::default(),
            shifts: [0.0; BLOCK_ROWS],
            a: vec![0.0; d * d],
            r: vec![0.0; BLOCK_ROWS * d],
            p: vec![0.0; BLOCK_ROWS * d],
            ap: vec![0.0; BLOCK_ROWS * d],
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
        solve_rows(self, fixed, &[row], solver, x, None, &mut |_| {}).map_err(|(_, e)| e)
    }

    /// Gathers row `slot`'s z_i, w_i and t_i (see the module docs). With
    /// `residual_at` = x, also adds the interaction part of the residual at
    /// x, Σ (t_i − w_i (z_i·x)) z_i, to the slot's part of `self.r`, four
    /// rows at a time as they arrive, while they are still in the
    /// first-level cache: the pass over the rows that conjugate gradient
    /// starts with costs no pass of its own.
    #[inline(always)]
    fn gather<M: Madd>(
        &mut self,
        slot: usize,
        fixed: &FixedSide<'_>,
        row: Row<'_>,
        residual_at: Option<&[f32]>,
    ) -> Result<(), SolveError> {
        let p = self.params;
        let (f, d) = (p.factors, p.dim());
        let n_fixed = fixed.factors.len() / d;
        let g = &mut self.rows[slot];
        let r = &mut self.r[slot * d..(slot + 1) * d];
        g.z.clear();
        g.w.clear();
        g.t.clear();
        for (k, (&c, &v)) in row.cols.iter().zip(row.vals).enumerate() {
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
                    g.z.extend_from_slice(&y[..f]);
                    if p.uses_biases() {
                        g.z.push(1.0);
                    }
                    g.w.push(1.0);
                    g.t.push(v - offset);
                }
                ModelKind::Implicit => {
                    let conf = p.confidence_of(v);
                    if conf == p.unobserved && v <= 0.0 {
                        continue; // contributes nothing beyond α₀YᵀY
                    }
                    g.z.extend_from_slice(&y[..f]);
                    g.w.push(conf - p.unobserved);
                    g.t.push(if v > 0.0 { conf } else { 0.0 });
                }
            }
            let n = g.w.len();
            if let (Some(x), 0) = (residual_at, n % 4) {
                let k = n - 4;
                g.s.resize(n, 0.0);
                linalg::add_residual_rows::<M>(&g.z[k * d..], &g.w[k..], &g.t[k..], x, r, Some(&mut g.s[k..]));
            }
        }
        if let Some(x) = residual_at {
            let (k, n) = (g.w.len() / 4 * 4, g.w.len());
            g.s.resize(n, 0.0);
            linalg::add_residual_rows::<M>(&g.z[k * d..], &g.w[k..], &g.t[k..], x, r, Some(&mut g.s[k..]));
        }
        Ok(())
    }

    /// Sets row `slot`'s predictions z_i·x (when they were not tracked).
    #[inline(always)]
    fn predict<M: Madd>(&mut self, slot: usize, x: &[f32]) {
        let d = self.params.dim();
        let g = &mut self.rows[slot];
        g.s.clear();
        let mut quads = g.z.chunks_exact(4 * d);
        for block in &mut quads {
            let (z0, rest) = block.split_at(d);
            let (z1, rest) = rest.split_at(d);
            let (z2, z3) = rest.split_at(d);
            g.s.extend_from_slice(&linalg::dot4::<M>([z0, z1, z2, z3], x));
        }
        for z in quads.remainder().chunks_exact(d) {
            g.s.push(linalg::dot::<M>(z, x));
        }
    }

    /// The objective's terms that involve row `slot` (gathered, its
    /// predictions z_i·x set) at x: its interactions' errors, α₀·xᵀYᵀYx for
    /// the pairs it has none with (implicit; `gram_x` = YᵀY·x), and its
    /// regularisation. Summed over every row of one side, with the other
    /// side's regularisation added, they are the whole objective (the
    /// driver's module docs).
    #[inline(always)]
    fn objective<M: Madd>(&self, slot: usize, x: &[f32], gram_x: &[f32]) -> Loss {
        let p = self.params;
        let f = p.factors;
        let g = &self.rows[slot];
        let mut data = 0.0f64;
        for ((&w, &t), &s) in g.w.iter().zip(&g.t).zip(&g.s) {
            data += interaction_error(&p, w, t, s);
        }
        if p.kind == ModelKind::Implicit {
            data += p.unobserved as f64 * linalg::dot::<M>(&x[..f], &gram_x[..f]) as f64;
        }
        Loss { data, reg: self.shifts[slot] as f64 * linalg::dot::<M>(x, x) as f64 }
    }
}

/// One interaction's term of the objective, given its w and t (see the
/// module docs) and the prediction s: (t − s)² (explicit), or c (p − s)² −
/// α₀s² with c = w + α₀ and p = [t > 0] (implicit: the α₀s² that
/// α₀·xᵀYᵀYx counts for this pair is taken back).
#[inline(always)]
fn interaction_error(p: &ModelParams, w: f32, t: f32, s: f32) -> f64 {
    let s = s as f64;
    match p.kind {
        ModelKind::Explicit => (t as f64 - s).powi(2),
        ModelKind::Implicit => {
            let preference = if t > 0.0 { 1.0 } else { 0.0 };
            let unobserved = p.unobserved as f64;
            (w as f64 + unobserved) * (preference - s).powi(2) - unobserved * s * s
        }
    }
}

/// The normal-equation matrices of a block of rows, applied without forming
/// them: A_b·v = α₀YᵀY·v (implicit) + shift_b·v + Σ_i w_i (z_i·v) z_i.
struct BlockOperator<'a, M> {
    gram: Option<&'a [f32]>,
    unobserved: f32,
    f: usize,
    d: usize,
    rows: &'a mut [Gathered],
    shifts: &'a [f32],
    /// Whether the rows' predictions z_i·x follow x as it moves (for the
    /// objective afterwards, at n multiply-adds a step instead of a pass).
    track: bool,
    madd: PhantomData<M>,
}

impl<M: Madd> BlockOperator<'_, M> {
    /// out_b ← (α₀YᵀY + shift_b·I)·v_b: the part without the rows'
    /// interactions, YᵀY read once for the whole block.
    #[inline(always)]
    fn apply_shared(&self, v: &[f32], out: &mut [f32]) {
        match self.gram {
            Some(g) => linalg::symm::<M>(g, self.f, v, self.d, out),
            None => out.fill(0.0),
        }
        for ((ob, vb), &shift) in out.chunks_exact_mut(self.d).zip(v.chunks_exact(self.d)).zip(self.shifts) {
            for (o, vi) in ob.iter_mut().zip(vb) {
                *o = M::madd(shift, *vi, self.unobserved * *o);
            }
        }
    }
}

impl<M: Madd> linalg::LinearOperator for BlockOperator<'_, M> {
    #[inline(always)]
    fn apply(&mut self, v: &[f32], out: &mut [f32]) {
        self.apply_shared(v, out);
        for ((ob, vb), g) in out.chunks_exact_mut(self.d).zip(v.chunks_exact(self.d)).zip(self.rows.iter_mut()) {
            let products = if self.track {
                g.zv.resize(g.w.len(), 0.0);
                Some(&mut g.zv[..])
            } else {
                None
            };
            linalg::add_rank_one_products::<M>(&g.z, &g.w, vb, ob, products);
        }
    }

    #[inline(always)]
    fn moved(&mut self, row: usize, step: f32) {
        if self.track {
            let g = &mut self.rows[row];
            for (s, &zv) in g.s.iter_mut().zip(&g.zv) {
                *s = M::madd(step, zv, *s);
            }
        }
    }
}

/// The outcome of a row solve.
pub type Solved = Result<(), SolveError>;

/// The objective (or a part of it): data fit and regularisation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Loss {
    /// Weighted squared error.
    pub data: f64,
    /// λ-weighted squared norms.
    pub reg: f64,
}

impl Loss {
    /// The whole objective.
    pub fn total(&self) -> f64 {
        self.data + self.reg
    }
}

impl std::ops::AddAssign for Loss {
    fn add_assign(&mut self, o: Self) {
        self.data += o.data;
        self.reg += o.reg;
    }
}

crate::simd_dispatch!(
    /// Solves up to [`BLOCK_ROWS`] rows against `fixed`: `xs` holds their
    /// `params.dim()`-vectors one after another, the starting points for
    /// conjugate gradient, and receives the solutions; a row without
    /// interactions gets the zero vector. `on_phase` hears each [`Phase`] as
    /// it begins. A failure names the row (its position in `rows`). Each row
    /// gets the result it would get alone ([`RowSolver::solve`]). With
    /// `objective`, each row's terms of the objective at its solution are
    /// added to it, in row order ([`RowSolver`]'s `objective`).
    pub fn solve_rows / solve_rows_generic<M>(
        s: &mut RowSolver,
        fixed: &FixedSide<'_>,
        rows: &[Row<'_>],
        solver: SolverOptions,
        xs: &mut [f32],
        objective: Option<&mut Loss>,
        on_phase: &mut dyn FnMut(Phase),
    ) -> Result<(), (usize, SolveError)> {
        let p = s.params;
        let (f, d) = (p.factors, p.dim());
        let n = rows.len();
        assert!(n <= BLOCK_ROWS && xs.len() == n * d, "a block of at most {BLOCK_ROWS} rows");
        let gram = match p.kind {
            ModelKind::Implicit => Some(fixed.gram.ok_or((0, SolveError::MissingGram))?),
            ModelKind::Explicit => None,
        };
        let mut objective = objective;
        let mut shifts = [0.0f32; BLOCK_ROWS];
        for (b, (row, x)) in rows.iter().zip(xs.chunks_exact_mut(d)).enumerate() {
            shifts[b] = p.shift(row.cols.len(), fixed.rows);
            if row.cols.is_empty() {
                // Zero, and with a zero residual conjugate gradient leaves it there.
                x.fill(0.0);
            }
        }
        match solver.solver {
            Solver::Cholesky => {
                for (b, (row, x)) in rows.iter().zip(xs.chunks_exact_mut(d)).enumerate() {
                    if row.cols.is_empty() {
                        continue;
                    }
                    on_phase(Phase::Building);
                    s.shifts[0] = shifts[b];
                    s.gather::<M>(0, fixed, *row, None).map_err(|e| (b, e))?;
                    // Right-hand side b = Σ t_i z_i, straight into x.
                    x.fill(0.0);
                    linalg::add_scaled_rows::<M>(&s.rows[0].z, &s.rows[0].t, x);
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
                    linalg::gram_accumulate::<M>(&mut s.a, d, &s.rows[0].z, &s.rows[0].w);
                    for i in 0..d {
                        s.a[i * d + i] += shifts[b];
                    }
                    on_phase(Phase::Solving);
                    linalg::cholesky::<M>(&mut s.a, d).map_err(|_| (b, SolveError::failed(shifts[b])))?;
                    linalg::cholesky_solve::<M>(&s.a, d, x);
                    if let Some(total) = objective.as_deref_mut() {
                        if let Some(g) = gram {
                            linalg::symv::<M>(g, &x[..f], &mut s.ap[..f]);
                        }
                        s.predict::<M>(0, x);
                        *total += s.objective::<M>(0, x, &s.ap);
                    }
                }
            }
            Solver::Cg => {
                let mut b0 = 0;
                while b0 < n {
                    // A run of short rows side by side, or one long row alone.
                    let short = |row: &Row<'_>| row.cols.len() * d <= SIDE_BY_SIDE_VALUES;
                    let run = if short(&rows[b0]) { rows[b0..].iter().take_while(|r| short(r)).count() } else { 1 };
                    let (b1, span, slots) = (b0 + run, b0 * d..(b0 + run) * d, 0..run * d);
                    on_phase(Phase::Building);
                    // The residuals at the warm starts x: r = b − A·x, their
                    // interaction parts summed while the rows are gathered
                    // (into the first slots, so long rows reuse one buffer).
                    s.r[slots.clone()].fill(0.0);
                    for (slot, b) in (b0..b1).enumerate() {
                        s.shifts[slot] = shifts[b];
                        s.gather::<M>(slot, fixed, rows[b], Some(&xs[b * d..(b + 1) * d])).map_err(|e| (b, e))?;
                    }
                    let track = objective.is_some();
                    let mut op = BlockOperator::<M> {
                        gram,
                        unobserved: p.unobserved,
                        f,
                        d,
                        rows: &mut s.rows[..run],
                        shifts: &s.shifts[..run],
                        track,
                        madd: PhantomData,
                    };
                    op.apply_shared(&xs[span.clone()], &mut s.ap[slots.clone()]);
                    for (r, ax) in s.r[slots.clone()].iter_mut().zip(&s.ap[slots.clone()]) {
                        *r -= ax;
                    }
                    on_phase(Phase::Solving);
                    let (r, p, ap) = (&mut s.r[slots.clone()], &mut s.p[slots.clone()], &mut s.ap[slots.clone()]);
                    linalg::conjugate_gradient::<M>(&mut op, d, &mut xs[span.clone()], solver.cg_steps, r, p, ap);
                    if let Some(total) = objective.as_deref_mut() {
                        if let Some(g) = gram {
                            linalg::symm::<M>(g, f, &xs[span.clone()], d, &mut s.ap[slots.clone()]);
                        }
                        for (slot, b) in (b0..b1).enumerate() {
                            *total += s.objective::<M>(slot, &xs[b * d..(b + 1) * d], &s.ap[slot * d..(slot + 1) * d]);
                        }
                    }
                    b0 = b1;
                }
            }
        }
        for (b, x) in xs.chunks_exact(d).enumerate() {
            if !x.iter().all(|v| v.is_finite()) {
                return Err((b, SolveError::failed(shifts[b])));
            }
        }
        Ok(())
    }
);

crate::simd_dispatch!(
    /// Adds the objective's terms of up to [`BLOCK_ROWS`] rows at `xs`
    /// (as [`solve_rows`] does for its solutions) to `total`, solving
    /// nothing: the objective of factors no half-iteration has produced.
    pub fn objective_rows / objective_rows_generic<M>(
        s: &mut RowSolver,
        fixed: &FixedSide<'_>,
        rows: &[Row<'_>],
        xs: &[f32],
        total: &mut Loss,
    ) -> Result<(), (usize, SolveError)> {
        let p = s.params;
        let (f, d) = (p.factors, p.dim());
        for (b, (row, x)) in rows.iter().zip(xs.chunks_exact(d)).enumerate() {
            s.shifts[0] = p.shift(row.cols.len(), fixed.rows);
            s.gather::<M>(0, fixed, *row, None).map_err(|e| (b, e))?;
            if p.kind == ModelKind::Implicit {
                let g = fixed.gram.ok_or((b, SolveError::MissingGram))?;
                linalg::symv::<M>(g, &x[..f], &mut s.ap[..f]);
            }
            s.predict::<M>(0, x);
            *total += s.objective::<M>(0, x, &s.ap);
        }
        Ok(())
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
        let fixed = FixedSide { factors: &factors, gram: Some(&gram), global_mean: 3.5, rows: factors.len() / d };
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
    fn a_block_of_rows_gets_what_each_row_gets_alone() {
        // 2,100 fixed rows of 16 factors: a row of 2,050 interactions holds
        // more than SIDE_BY_SIDE_VALUES and is solved alone; the others side by side.
        for kind in [ModelKind::Explicit, ModelKind::Implicit] {
            let p = ModelParams { factors: 16, ..params(kind, 16, kind == ModelKind::Explicit) };
            let (f, d) = (p.factors, p.dim());
            assert!(2050 * d > SIDE_BY_SIDE_VALUES && 40 * d <= SIDE_BY_SIDE_VALUES);
            let mut seed = 7;
            let factors = random(2100 * d, &mut seed);
            let gram = gram_of(&factors, d, f);
            let fixed = FixedSide { factors: &factors, gram: Some(&gram), global_mean: 3.5, rows: factors.len() / d };
            let lengths = [[5, 8, 40, 12], [5, 0, 40, 2050], [2050, 3, 17, 1], [12, 9, 2050, 30]];
            for (case, lens) in lengths.iter().enumerate() {
                let cols: Vec<Vec<u32>> = lens
                    .iter()
                    .enumerate()
                    .map(|(k, &n)| (0..n as u32).map(|c| (c * 7 + k as u32) % 2100).collect())
                    .collect();
                let vals: Vec<Vec<f32>> =
                    lens.iter().map(|&n| random(n, &mut seed).iter().map(|v| 3.0 + 4.0 * v).collect()).collect();
                let rows: Vec<Row<'_>> = cols.iter().zip(&vals).map(|(c, v)| Row { cols: c, vals: v }).collect();
                for solver in [SolverOptions::cg(3), SolverOptions::cholesky()] {
                    let start = random(4 * d, &mut seed);
                    let mut block = start.clone();
                    let mut phases = Vec::new();
                    solve_rows(&mut RowSolver::new(p), &fixed, &rows, solver, &mut block, None, &mut |ph| {
                        phases.push(ph)
                    })
                    .unwrap();
                    assert_eq!(phases.last(), Some(&Phase::Solving));
                    let mut alone = RowSolver::new(p);
                    for (k, row) in rows.iter().enumerate() {
                        let mut x = start[k * d..(k + 1) * d].to_vec();
                        alone.solve(&fixed, *row, solver, &mut x).unwrap();
                        assert_eq!(
                            &block[k * d..(k + 1) * d],
                            &x[..],
                            "{kind}, case {case}, row {k}, {}",
                            solver.solver
                        );
                    }
                    if lens[1] == 0 {
                        assert!(block[d..2 * d].iter().all(|&v| v == 0.0), "the empty row is zero");
                    }
                }
                // A bad index names its row.
                let bad = [0u32, 2100];
                let mut with_bad = rows.clone();
                with_bad[2] = Row { cols: &bad, vals: &[1.0, 1.0] };
                let mut xs = vec![0.0; 4 * d];
                let got = solve_rows(
                    &mut RowSolver::new(p),
                    &fixed,
                    &with_bad,
                    SolverOptions::cg(3),
                    &mut xs,
                    None,
                    &mut |_| {},
                );
                assert_eq!(got, Err((2, SolveError::IndexOutOfRange(2100, 2100))));
            }
        }
    }

    #[test]
    fn empty_row_gets_zero_vector_and_bad_index_is_an_error() {
        let p = params(ModelKind::Explicit, 3, true);
        let factors = vec![1.0; 2 * p.dim()];
        let fixed = FixedSide { factors: &factors, gram: None, global_mean: 0.0, rows: 2 };
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
        let fixed = FixedSide { factors: &factors, gram: None, global_mean: 0.0, rows: 2 };
        let mut x = vec![0.0; 3];
        assert_eq!(
            RowSolver::new(p).solve(&fixed, Row { cols: &[0], vals: &[1.0] }, SolverOptions::cholesky(), &mut x),
            Err(SolveError::MissingGram)
        );
    }
}
