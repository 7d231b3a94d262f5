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
//! [`philox`] makes the rows' draws (keyed by seed, sweep and row ID, so
//! the same on any thread count), [`normal_wishart`] the priors' draws,
//! [`sampler`] the sweeps, as a [`Backend`](crate::backend::Backend).

mod normal_wishart;
mod philox;
mod sampler;

pub use sampler::GibbsSampler;
