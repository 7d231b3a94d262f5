//! The Gibbs sampler's chain, on any backend: a [`Backend`] wrapping
//! another, whose half-iteration draws a side's prior on the host and then
//! has the inner backend draw every row of the side ([`Backend::draw`]), so
//! the driver's loop (events, validation curves, the result) runs it as it
//! runs ALS.
//!
//! A sweep is the user half, then the item half. A half draws the side's
//! prior (μ, Λ) from its Normal–Wishart conditional ([`normal_wishart`]),
//! then each row from N(Λ*⁻¹b, Λ*⁻¹) with Λ* = Λ + τΣ z_i z_iᵀ and
//! b = Λμ + τΣ t_i z_i — the ALS-WR normal equations (z_i the other side's
//! row with 1 for the bias, t_i = r_i − μ₀ − c_i) with the learned prior in
//! place of λI, τ the noise precision. The item half ends with τ drawn from
//! its Gamma(1 + N/2, 1 + SSE/2) conditional. After the burn-in, each sweep's
//! factors, priors and τ are summed: the model is their posterior mean.

use std::time::Instant;

use gramrec_core::{Error, GaussianPrior, LearnedPrior, Result, Side};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};

use super::normal_wishart::{self, RowPrior};
use crate::backend::{Backend, Conditional, Loss, PhaseTimes, Problem};

/// Bayesian PMF by Gibbs sampling, its rows drawn by `inner`.
pub struct Chain<'b, 'a> {
    inner: &'b mut (dyn Backend + 'a),
    p: Problem<'a>,
    seed: u64,
    burn_in: usize,
    /// τ, the noise precision.
    noise: f64,
    /// The training squared error at the current draw.
    sse: f64,
    /// Sweeps done.
    sweeps: usize,
    /// The priors drawn in the current sweep (users, items).
    priors: [Option<RowPrior>; 2],
    kept: Kept,
    /// Both sides' rows as read at the end of the last sweep (when it was
    /// kept), which the next user half draws its prior from: read once.
    read: Option<(Vec<f32>, Vec<f32>)>,
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

impl<'b, 'a> Chain<'b, 'a> {
    /// A chain whose rows `inner` draws (it holds the starting factors),
    /// keeping the sweeps after `burn_in`, its draws keyed by `seed`.
    pub fn new(inner: &'b mut (dyn Backend + 'a), p: Problem<'a>, seed: u64, burn_in: usize) -> Self {
        Self {
            inner,
            p,
            seed,
            burn_in,
            noise: 1.0,
            sse: 0.0,
            sweeps: 0,
            priors: [None, None],
            kept: Kept::default(),
            read: None,
        }
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

    /// Ends a sweep: τ drawn given the residuals, the sweep kept after the burn-in.
    fn end_sweep(&mut self) -> Result<()> {
        // An explicit model's data term is the squared error of the ratings.
        self.sse = self.inner.loss()?.data;
        if !self.sse.is_finite() {
            return Err(Error::Diverged { iteration: self.sweeps + 1, objective: self.sse });
        }
        let n = self.p.data.nnz() as f64;
        let gamma = Gamma::new(1.0 + n / 2.0, 1.0 / (1.0 + self.sse / 2.0)).expect("a positive shape and scale");
        self.noise = gamma.sample(&mut self.host_rng(2));
        self.sweeps += 1;
        if self.sweeps <= self.burn_in {
            return Ok(());
        }
        let (users, items) = self.inner.factors()?;
        let k = &mut self.kept;
        k.count += 1;
        k.noise += self.noise;
        for (sum, rows) in [(&mut k.users, &users), (&mut k.items, &items)] {
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
        self.read = Some((users, items));
        Ok(())
    }
}

impl Backend for Chain<'_, '_> {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn summary(&self) -> String {
        self.inner.summary()
    }

    /// Draws the side's prior from its rows as they stand, then every row.
    fn solve(&mut self, side: Side) -> Result<PhaseTimes> {
        let start = Instant::now();
        let d = self.p.params.dim();
        let (users, items) = match self.read.take() {
            Some(read) => read,
            None => self.inner.factors()?,
        };
        let rows = match side {
            Side::Users => users,
            Side::Items => items,
        };
        let sweep = self.sweeps + 1;
        let diverged = || Error::Diverged { iteration: sweep, objective: f64::NAN };
        let prior = normal_wishart::draw(&rows, d, &mut self.host_rng(side as u8)).ok_or_else(diverged)?;
        let single = |v: &[f64]| v.iter().map(|&v| v as f32).collect();
        let gaussian = GaussianPrior { mean: single(&prior.mean), precision: single(&prior.precision) };
        let half = ((self.sweeps as u32) << 1) | side as u32;
        let host = start.elapsed().as_secs_f64();
        let conditional = Conditional { prior: &gaussian, noise: self.noise as f32, seed: self.seed, half };
        let mut times = self.inner.draw(side, &conditional)?;
        times.build += host;
        self.priors[side as usize] = Some(prior);
        if side == Side::Items {
            let start = Instant::now();
            self.end_sweep()?;
            times.build += start.elapsed().as_secs_f64();
        }
        Ok(times)
    }

    /// A chain does not nest in another.
    fn draw(&mut self, _: Side, _: &Conditional<'_>) -> Result<PhaseTimes> {
        Err(Error::System("a Gibbs chain draws its rows through the backend it wraps".into()))
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
            return self.inner.factors();
        }
        let mean = |sum: &[f64]| sum.iter().map(|s| (s / k.count as f64) as f32).collect();
        Ok((mean(&k.users), mean(&k.items)))
    }
}
