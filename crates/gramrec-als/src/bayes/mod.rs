//! Bayesian probabilistic matrix factorisation (`method = bayes`):
//! Salakhutdinov and Mnih, "Bayesian Probabilistic Matrix Factorization
//! using Markov Chain Monte Carlo" (ICML 2008), with user and item biases.
//!
//! Every row (its factors and bias) has a Gaussian prior whose mean and
//! precision are themselves drawn from a Normal–Wishart hyperprior, and the
//! ratings have Gaussian noise of a drawn precision; a Gibbs sampler draws
//! each in turn. Nothing is tuned: where ALS needs λ, the sampler learns a
//! prior per side from the data. The model is the posterior mean of the
//! factors over the sweeps after the burn-in, so it scores like any other;
//! the learned prior is kept beside it, for folding new users in.
//!
//! [`philox`] makes the rows' draws (keyed by seed, half-iteration and row
//! ID, so the same on any thread count and, up to the precision of the
//! transcendental functions, on the GPU), [`normal_wishart`] the priors'
//! draws on the host, [`chain`] the sweeps, as a [`Backend`] around the
//! backend that draws the rows ([`Backend::draw`]: the CPU's with
//! [`row`]'s `draw_row`, the GPU's with `wgsl/cholesky.wgsl`).

mod chain;
mod normal_wishart;
mod philox;
mod row;

pub use chain::Chain;
pub use philox::Normals;
pub(crate) use row::draw_row;

use gramrec_core::{Result, SolverOptions};

use crate::backend::{Backend, Problem};
use crate::config::TrainConfig;
use crate::driver::{run, OnEvent};
use crate::trained::Trained;

/// Runs `config`'s sweeps (`bayes.sweeps()`, whatever `iterations` says)
/// with `backend` drawing the rows, from the factors it holds; the result's
/// iterations are the sweeps, its solver Cholesky (each row's matrix is
/// factored exactly), its factors the posterior means, and it keeps the
/// learned prior.
pub fn sample(
    backend: &mut dyn Backend,
    problem: Problem<'_>,
    config: &TrainConfig,
    on_event: &mut OnEvent<'_>,
) -> Result<Trained> {
    // Each row's matrix is factored exactly, as the Cholesky solver does: what the model records.
    let config = TrainConfig { iterations: config.bayes.sweeps(), solver: SolverOptions::cholesky(), ..*config };
    let mut chain = Chain::new(backend, problem, config.seed, config.bayes.burn_in);
    let mut trained = run(&mut chain, problem, &config, 1, on_event)?;
    trained.prior = chain.learned_prior();
    Ok(trained)
}
