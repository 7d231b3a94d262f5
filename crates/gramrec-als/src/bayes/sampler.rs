//! The Gibbs sampler on the CPU: a [`Backend`] whose half-iteration draws
//! every row of a side from its conditional posterior, so the driver's loop
//! (events, validation curves, the result) runs it as it runs ALS.
//!
//! A sweep is the user half, then the item half. A half draws the side's
//! prior (μ, Λ) from its Normal–Wishart conditional ([`normal_wishart`]),
//! then each row x from N(Λ*⁻¹b, Λ*⁻¹) with Λ* = Λ + τΣ z_i z_iᵀ and
//! b = Λμ + τΣ t_i z_i — the ALS-WR normal equations (z_i the other side's
//! row with 1 for the bias, t_i = r_i − μ₀ − c_i) with the learned prior in
//! place of λI, τ the noise precision. The item half ends with τ drawn from
//! its Gamma(1 + N/2, 1 + SSE/2) conditional. After the burn-in, each sweep's
//! factors, priors and τ are summed: the model is their posterior mean.

use std::time::Instant;

use gramrec_core::linalg::dot_product;
use gramrec_core::prior::{solve_with_prior, PriorSolver};
use gramrec_core::{Error, FixedSide, GaussianPrior, LearnedPrior, Result, Row, Side, SolveError};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};
use rayon::prelude::*;

use super::normal_wishart::{self, RowPrior};
use super::philox::Normals;
use crate::backend::{Backend, Loss, PhaseTimes, Problem};
use crate::driver::id_hash;

/// Rows per task of the sums: fixed, so they do not depend on the thread count.
const CHUNK_ROWS: usize = 1024;

/// Bayesian PMF by Gibbs sampling, on the CPU.
pub struct GibbsSampler<'a> {
    p: Problem<'a>,
    seed: u64,
    burn_in: usize,
    users: Vec<f32>,
    items: Vec<f32>,
    /// τ, the noise precision.
    noise: f64,
    /// The training squared error at the current draw.
    sse: f64,
    /// Sweeps done.
    sweeps: usize,
    /// The priors drawn in the current sweep (users, items).
    priors: [Option<RowPrior>; 2],
    kept: Kept,
    pool: rayon::ThreadPool,
}

/// The sums over the sweeps after the burn-in.
#[derive(Default)]
struct Kept {
    count: usize,
    users: Vec<f64>,
    items: Vec<f64>,
    noise: f64,
    /// Each side's μ and Λ, summed (users, items).
    priors: [Option<RowPrior>; 2],
}

impl<'a> GibbsSampler<'a> {
    /// A sampler over `threads` threads (0 = one per core) starting from the
    /// given factors (rows × `params.dim()`), keeping the sweeps after
    /// `burn_in`, its draws keyed by `seed`.
    pub fn new(
        p: Problem<'a>,
        users: Vec<f32>,
        items: Vec<f32>,
        seed: u64,
        burn_in: usize,
        threads: usize,
    ) -> Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::System(format!("cannot start {threads} threads: {e}")))?;
        Ok(Self {
            p,
            seed,
            burn_in,
            users,
            items,
            noise: 1.0,
            sse: 0.0,
            sweeps: 0,
            priors: [None, None],
            kept: Kept::default(),
            pool,
        })
    }

    /// The learned prior, averaged over the kept sweeps (`None` before any).
    pub fn learned_prior(&self) -> Option<LearnedPrior> {
        let k = &self.kept;
        let n = k.count as f64;
        let average = |prior: &Option<RowPrior>| {
            let prior = prior.as_ref()?;
            let mean = |v: &[f64]| v.iter().map(|v| (v / n) as f32).collect();
            Some(GaussianPrior { mean: mean(&prior.mean), precision: mean(&prior.precision) })
        };
        Some(LearnedPrior { noise: (k.noise / n) as f32, users: average(&k.priors[0])?, items: average(&k.priors[1])? })
    }

    /// The generator of the host's draws (a side's prior, τ) in this sweep.
    fn host_rng(&self, stream: u8) -> ChaCha8Rng {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&self.seed.to_le_bytes());
        key[8..16].copy_from_slice(&(self.sweeps as u64).to_le_bytes());
        key[16] = stream;
        key[17] = 0xB5; // Not the key of `initial_factors`' generators.
        ChaCha8Rng::from_seed(key)
    }

    /// Draws the side's prior, then every row of it given the other side.
    fn draw_side(&mut self, side: Side) -> Result<PhaseTimes> {
        let p = self.p;
        let (f, d) = (p.params.factors, p.params.dim());
        let start = Instant::now();
        let mut rng = self.host_rng(side as u8);
        let (target, fixed, csr, ids, name) = match side {
            Side::Users => (&mut self.users, &self.items, &p.data.by_user, &p.data.users, "user"),
            Side::Items => (&mut self.items, &self.users, &p.data.by_item, &p.data.items, "item"),
        };
        let prior = self.pool.install(|| normal_wishart::draw(target, d, &mut rng));
        let single = |v: &[f64]| v.iter().map(|&v| v as f32).collect();
        let gaussian = GaussianPrior { mean: single(&prior.mean), precision: single(&prior.precision) };
        let solver = PriorSolver::new(&gaussian, self.noise as f32, f, p.params.uses_biases());
        let build = start.elapsed().as_secs_f64();
        let fixed = FixedSide { factors: fixed, gram: None, global_mean: p.global_mean, rows: fixed.len() / d };
        let (seed, half) = (self.seed, ((self.sweeps as u32) << 1) | side as u32);
        self.pool.install(|| {
            target.par_chunks_mut(d).enumerate().try_for_each_init(
                || (solver.clone(), Vec::new()),
                |(solver, noise), (row, x)| {
                    let (cols, vals) = csr.row(row);
                    let id = id_hash(&ids[row]);
                    let mut normals = Normals::new(seed, [id as u32, (id >> 32) as u32, half]);
                    draw_row(solver, &fixed, Row { cols, vals }, &mut normals, noise, x).map_err(|cause| Error::Solve {
                        side: name,
                        id: ids[row].clone(),
                        cause,
                    })
                },
            )
        })?;
        self.priors[side as usize] = Some(prior);
        Ok(PhaseTimes { build, solve: start.elapsed().as_secs_f64() - build })
    }

    /// Σ (r − prediction)² over the training ratings at the current draw.
    fn squared_error(&self) -> f64 {
        let p = self.p;
        let (f, d) = (p.params.factors, p.params.dim());
        let biases = p.params.uses_biases();
        let csr = &p.data.by_user;
        let parts: Vec<f64> = self.pool.install(|| {
            self.users
                .par_chunks(CHUNK_ROWS * d)
                .enumerate()
                .map(|(chunk, rows)| {
                    let mut sum = 0.0f64;
                    for (k, x) in rows.chunks_exact(d).enumerate() {
                        let (cols, vals) = csr.row(chunk * CHUNK_ROWS + k);
                        for (&c, &v) in cols.iter().zip(vals) {
                            let y = &self.items[c as usize * d..(c as usize + 1) * d];
                            let mut pred = p.global_mean + x[..f].iter().zip(&y[..f]).map(|(a, b)| a * b).sum::<f32>();
                            if biases {
                                pred += x[f] + y[f];
                            }
                            sum += f64::from(v - pred).powi(2);
                        }
                    }
                    sum
                })
                .collect()
        });
        parts.iter().sum()
    }

    /// Ends a sweep: τ drawn given the residuals, the sweep kept after the burn-in.
    fn end_sweep(&mut self) {
        self.sse = self.squared_error();
        let n = self.p.data.nnz() as f64;
        let gamma = Gamma::new(1.0 + n / 2.0, 1.0 / (1.0 + self.sse / 2.0)).expect("a positive shape and scale");
        self.noise = gamma.sample(&mut self.host_rng(2));
        self.sweeps += 1;
        if self.sweeps <= self.burn_in {
            return;
        }
        let k = &mut self.kept;
        k.count += 1;
        k.noise += self.noise;
        for (sum, rows) in [(&mut k.users, &self.users), (&mut k.items, &self.items)] {
            sum.resize(rows.len(), 0.0);
            sum.iter_mut().zip(rows.iter()).for_each(|(s, &v)| *s += f64::from(v));
        }
        for (sum, prior) in k.priors.iter_mut().zip(&self.priors) {
            let prior = prior.as_ref().expect("both halves ran");
            match sum {
                None => *sum = Some(prior.clone()),
                Some(s) => {
                    s.mean.iter_mut().zip(&prior.mean).for_each(|(a, b)| *a += b);
                    s.precision.iter_mut().zip(&prior.precision).for_each(|(a, b)| *a += b);
                }
            }
        }
    }
}

/// Draws one row `x` from its conditional posterior given its ratings:
/// the mean and Λ*'s Cholesky factor UᵀU from [`solve_with_prior`] (the
/// solve fold-in uses), then U⁻¹ε by back substitution added, whose
/// covariance is U⁻¹U⁻ᵀ = Λ*⁻¹. `noise` is scratch for it.
fn draw_row(
    solver: &mut PriorSolver,
    fixed: &FixedSide<'_>,
    row: Row<'_>,
    normals: &mut Normals,
    noise: &mut Vec<f32>,
    x: &mut [f32],
) -> Result<(), SolveError> {
    let d = x.len();
    solve_with_prior(solver, fixed, row, x)?;
    let u = solver.factor();
    // ε_i is the row's i-th draw (so a GPU thread can make element i's
    // draw by itself), then U e = ε from the last element up.
    noise.clear();
    noise.extend((0..d).map(|_| normals.draw()));
    for i in (0..d).rev() {
        let ui = &u[i * d + i..(i + 1) * d];
        noise[i] = (noise[i] - dot_product(&ui[1..], &noise[i + 1..])) / ui[0];
    }
    x.iter_mut().zip(noise.iter()).for_each(|(x, e)| *x += e);
    Ok(())
}

impl Backend for GibbsSampler<'_> {
    fn describe(&self) -> String {
        format!("cpu ({} threads)", self.pool.current_num_threads())
    }

    fn solve(&mut self, side: Side) -> Result<PhaseTimes> {
        let mut times = self.draw_side(side)?;
        if side == Side::Items {
            let start = Instant::now();
            self.end_sweep();
            times.build += start.elapsed().as_secs_f64();
        }
        Ok(times)
    }

    /// The training squared error at the current draw (a sampler has no
    /// objective that falls; this shows it has settled).
    fn loss(&mut self) -> Result<Loss> {
        Ok(Loss { data: self.sse, reg: 0.0 })
    }

    /// The posterior means so far; during the burn-in, the current draw.
    fn factors(&mut self) -> Result<(Vec<f32>, Vec<f32>)> {
        let k = &self.kept;
        if k.count == 0 {
            return Ok((self.users.clone(), self.items.clone()));
        }
        let mean = |sum: &[f64]| sum.iter().map(|s| (s / k.count as f64) as f32).collect();
        Ok((mean(&k.users), mean(&k.items)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row's draws against the closed-form posterior of a tiny problem:
    /// three ratings of rows with 2 factors and a bias, a full prior. The
    /// mean and covariance of 40,000 draws (each at its own place of the
    /// generator) match N(Λ*⁻¹b, Λ*⁻¹) computed in f64.
    #[test]
    fn row_draws_follow_the_closed_form_posterior() {
        let (f, d) = (2, 3);
        let fixed_rows = [0.5f32, -1.0, 0.2, 1.5, 0.3, -0.4, -0.7, 0.8, 0.1];
        let (cols, vals) = ([0u32, 1, 2], [4.0f32, 2.5, 3.0]);
        let (mu0, tau) = (3.2f32, 2.0f32);
        let precision = [2.0f32, 0.3, 0.1, 0.3, 1.5, -0.2, 0.1, -0.2, 1.0];
        let mean = [0.1f32, -0.2, 0.05];
        let shift: Vec<f32> = (0..d).map(|i| (0..d).map(|j| precision[i * d + j] * mean[j]).sum()).collect();
        // Λ* and b in f64.
        let mut a: Vec<f64> = precision.iter().map(|&v| f64::from(v)).collect();
        let mut b: Vec<f64> = shift.iter().map(|&v| f64::from(v)).collect();
        for (&c, &v) in cols.iter().zip(&vals) {
            let y = &fixed_rows[c as usize * d..(c as usize + 1) * d];
            let z = [f64::from(y[0]), f64::from(y[1]), 1.0];
            let t = f64::from(v - mu0 - y[f]);
            for i in 0..d {
                b[i] += f64::from(tau) * t * z[i];
                for j in 0..d {
                    a[i * d + j] += f64::from(tau) * z[i] * z[j];
                }
            }
        }
        let covariance = invert3(&a);
        let want_mean: Vec<f64> = (0..d).map(|i| (0..d).map(|j| covariance[i * d + j] * b[j]).sum()).collect();

        let fixed = FixedSide { factors: &fixed_rows, gram: None, global_mean: mu0, rows: 3 };
        let prior = GaussianPrior { mean: mean.to_vec(), precision: precision.to_vec() };
        let mut solver = PriorSolver::new(&prior, tau, f, true);
        let n = 40_000;
        let mut noise = Vec::new();
        let draws: Vec<Vec<f64>> = (0..n)
            .map(|k| {
                let mut x = vec![0.0f32; d];
                let mut normals = Normals::new(11, [k, 0, 0]);
                draw_row(&mut solver, &fixed, Row { cols: &cols, vals: &vals }, &mut normals, &mut noise, &mut x)
                    .unwrap();
                x.iter().map(|&v| f64::from(v)).collect()
            })
            .collect();
        for i in 0..d {
            let m = draws.iter().map(|x| x[i]).sum::<f64>() / n as f64;
            let se = (covariance[i * d + i] / n as f64).sqrt();
            assert!((m - want_mean[i]).abs() < 4.0 * se, "mean {i}: {m} against {}", want_mean[i]);
            for j in 0..d {
                let c = draws.iter().map(|x| (x[i] - want_mean[i]) * (x[j] - want_mean[j])).sum::<f64>() / n as f64;
                let scale = (covariance[i * d + i] * covariance[j * d + j]).sqrt();
                assert!(
                    (c - covariance[i * d + j]).abs() < 0.03 * scale,
                    "cov {i}{j}: {c} against {}",
                    covariance[i * d + j]
                );
            }
        }
    }

    fn invert3(a: &[f64]) -> Vec<f64> {
        let m = |i: usize, j: usize| a[i * 3 + j];
        let det = m(0, 0) * (m(1, 1) * m(2, 2) - m(1, 2) * m(2, 1)) - m(0, 1) * (m(1, 0) * m(2, 2) - m(1, 2) * m(2, 0))
            + m(0, 2) * (m(1, 0) * m(2, 1) - m(1, 1) * m(2, 0));
        let mut inv = vec![0.0; 9];
        for i in 0..3 {
            for j in 0..3 {
                let (r0, r1) = ((j + 1) % 3, (j + 2) % 3);
                let (c0, c1) = ((i + 1) % 3, (i + 2) % 3);
                inv[i * 3 + j] = (m(r0, c0) * m(r1, c1) - m(r0, c1) * m(r1, c0)) / det;
            }
        }
        inv
    }
}
