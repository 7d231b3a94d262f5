//! The ALS loop: initialise, alternate user and item half-iterations on a
//! backend, measure the objective after each iteration.
//!
//! The objective (see `docs/ALGORITHM.md` and [`gramrec_core::normal_eq`]):
//! * explicit: Σ_(u,i)∈R (r_ui − μ − b_u − c_i − x_uᵀy_i)² + Σ_u λ_u(‖x_u‖² + b_u²) + Σ_i λ_i(‖y_i‖² + c_i²);
//! * implicit: Σ_(u,i) c_ui (p_ui − x_uᵀy_i)² + Σ_u λ_u‖x_u‖² + Σ_i λ_i‖y_i‖², over all pairs,
//!   c_ui = α₀ (1 by default) for the pairs without an interaction;
//!
//! with λ_u = λ·n_u (ALS-WR, the explicit default), λ (the implicit default)
//! or λ·(n_u + α₀·N)^ν (frequency scaling, N the other side's rows).
//! Each exact half-iteration minimises it over one side, so with the Cholesky
//! solver it never increases.

use std::time::Instant;

use gramrec_core::{Error, ModelKind, ModelParams, ParamError, Result, Side, Solver, SolverOptions};
use gramrec_data::Dataset;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;

use crate::backend::{self, Backend, CpuBackend, Loss, PhaseTimes, Problem};
use crate::bayes;
use crate::config::{Device, Method, TrainConfig};
use crate::trained::Trained;

/// What one iteration did.
#[derive(Debug, Clone, Copy)]
pub struct IterationReport {
    /// 1-based.
    pub iteration: usize,
    /// Wall time of both half-iterations.
    pub seconds: f64,
    /// The objective afterwards.
    pub loss: Loss,
    /// Time of the user half.
    pub users: PhaseTimes,
    /// Time of the item half.
    pub items: PhaseTimes,
}

/// Seeded initial factors, one row per ID: N(0, 0.1²/f) per value, bias
/// column 0. Each row is drawn by a generator keyed by `seed` and the row's
/// own ID, so the same data in another row order or file format (a Spark
/// folder, a shuffled CSV) starts from the same factors and trains the same
/// model, up to the order of floating-point sums.
pub fn initial_factors(ids: &[String], params: &ModelParams, seed: u64) -> Vec<f32> {
    let (f, d) = (params.factors, params.dim());
    let normal = Normal::new(0.0f32, 0.1 / (f as f32).sqrt()).expect("valid normal");
    let mut v = vec![0.0f32; ids.len() * d];
    v.par_chunks_exact_mut(d).zip(ids).for_each(|(row, id)| {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&id_hash(id).to_le_bytes());
        let mut rng = ChaCha8Rng::from_seed(key);
        for x in &mut row[..f] {
            *x = normal.sample(&mut rng);
        }
    });
    v
}

/// FNV-1a of an ID: the same on every platform and in every version, as
/// std's hashers are not promised to be.
pub(crate) fn id_hash(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// μ for the model: the mean rating when the model has biases, else 0.
pub fn global_mean(data: &Dataset, params: &ModelParams) -> f32 {
    if params.uses_biases() {
        data.value_range().2 as f32
    } else {
        0.0
    }
}

/// The model as it stands after an iteration; its factors are fetched from
/// the backend only if asked for (for a validation curve, say).
pub struct Snapshot<'b> {
    backend: &'b mut dyn Backend,
    config: &'b TrainConfig,
    global_mean: f32,
}

impl Snapshot<'_> {
    /// The current model (with an empty history).
    pub fn model(&mut self) -> Result<Trained> {
        let (users, items) = self.backend.factors()?;
        Ok(Trained {
            config: *self.config,
            users,
            items,
            global_mean: self.global_mean,
            history: Vec::new(),
            device: self.backend.describe(),
            prior: None,
        })
    }
}

/// Where training runs, as it reports it when it starts (or falls back).
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceNotice {
    /// On this GPU (its description and what the run holds there).
    Gpu(String),
    /// On the CPU, because the GPU could not be used (why); `restarted`
    /// when a run that began on the GPU starts again on the CPU.
    Cpu {
        /// Why the GPU is not used.
        why: String,
        /// Whether a run under way on the GPU was restarted.
        restarted: bool,
    },
}

impl std::fmt::Display for DeviceNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceNotice::Gpu(summary) => write!(f, "training on {summary}"),
            DeviceNotice::Cpu { why, restarted: true } => write!(f, "GPU: {why}; restarting the run on the CPU"),
            DeviceNotice::Cpu { why, restarted: false } => write!(f, "GPU: {why}; training on the CPU"),
        }
    }
}

/// What training reports as it goes.
pub enum TrainEvent<'a> {
    /// Where it runs: said once, and again when a GPU run falls back.
    Device(DeviceNotice),
    /// An iteration ended: its figures, and the model as it stands.
    Iteration(&'a IterationReport, Snapshot<'a>),
}

/// What [`train`] and [`run`] call with each [`TrainEvent`]; an error stops training.
pub type OnEvent<'a> = dyn FnMut(TrainEvent<'_>) -> Result<()> + 'a;

/// Where a resumed run starts: the factors after `iteration` iterations.
#[derive(Debug, Clone)]
pub struct Start {
    /// Iterations already done.
    pub iteration: usize,
    /// User rows × `params.dim()`.
    pub users: Vec<f32>,
    /// Item rows × `params.dim()`.
    pub items: Vec<f32>,
}

/// Trains on `config.device`, telling `on_event` where it runs and what
/// each iteration did.
pub fn train(data: &Dataset, config: &TrainConfig, on_event: &mut OnEvent<'_>) -> Result<Trained> {
    train_from(data, config, None, on_event)
}

/// [`train`], optionally continuing from a checkpoint (the result is the one
/// an uninterrupted run with the same data and settings gives).
///
/// With [`Device::Auto`], a GPU that cannot be used gives the CPU, and a GPU
/// that fails mid-run (device lost, out of memory) restarts the run on the CPU.
pub fn train_from(
    data: &Dataset,
    config: &TrainConfig,
    start: Option<Start>,
    on_event: &mut OnEvent<'_>,
) -> Result<Trained> {
    config.validate()?;
    if config.method == Method::Bayes && start.is_some() {
        let message = "cannot be resumed from a checkpoint (a sampler's state is more than its factors)";
        return Err(ParamError::new("method", format!("bayes {message}")).into());
    }
    let params = config.params;
    let (first, users, items) = match start {
        Some(s) => (s.iteration + 1, s.users, s.items),
        None => {
            let items = initial_factors(&data.items, &params, config.seed);
            (1, vec![0.0f32; data.users.len() * params.dim()], items)
        }
    };
    // A Bayesian sweep builds and factors every row's matrix, as Cholesky does (the GPU's batches).
    let solver = match config.method {
        Method::Als => config.solver,
        Method::Bayes => SolverOptions::cholesky(),
    };
    let problem = Problem { data, params, solver, global_mean: global_mean(data, &params), method: config.method };
    let fit = |backend: &mut dyn Backend, on_event: &mut OnEvent<'_>| match config.method {
        Method::Als => run(backend, problem, config, first, on_event),
        Method::Bayes => bayes::sample(backend, problem, config, on_event),
    };
    let on_cpu = |users, items, on_event: &mut OnEvent<'_>| {
        let mut backend = CpuBackend::new(problem, users, items, config.threads)?;
        fit(&mut backend, on_event)
    };
    let started = std::cell::Cell::new(false);
    let on_gpu = |software: bool, on_event: &mut OnEvent<'_>| {
        let options = crate::config::GpuOptions { allow_software: software || config.gpu.allow_software, ..config.gpu };
        let mut backend = backend::open_gpu(problem, &users, &items, options)?;
        started.set(true);
        on_event(TrainEvent::Device(DeviceNotice::Gpu(backend.summary())))?;
        fit(backend.as_mut(), on_event)
    };
    match config.device {
        Device::Cpu => on_cpu(users, items, on_event),
        Device::Gpu => on_gpu(true, on_event),
        Device::Auto => match on_gpu(false, on_event) {
            Err(Error::Gpu(why)) => {
                on_event(TrainEvent::Device(DeviceNotice::Cpu { why, restarted: started.get() }))?;
                on_cpu(users, items, on_event)
            }
            other => other,
        },
    }
}

/// Runs iterations `first..=config.iterations` on any backend.
pub fn run(
    backend: &mut dyn Backend,
    problem: Problem<'_>,
    config: &TrainConfig,
    first: usize,
    on_event: &mut OnEvent<'_>,
) -> Result<Trained> {
    let mut history = Vec::with_capacity(config.iterations.saturating_sub(first - 1).min(1 << 16));
    for iteration in first..=config.iterations {
        let start = Instant::now();
        let users = backend.solve(Side::Users)?;
        let items = backend.solve(Side::Items)?;
        let seconds = start.elapsed().as_secs_f64();
        let loss = backend.loss()?;
        if !loss.total().is_finite() {
            return Err(Error::Diverged { iteration, objective: loss.total() });
        }
        let report = IterationReport { iteration, seconds, loss, users, items };
        let snapshot = Snapshot { backend: &mut *backend, config, global_mean: problem.global_mean };
        on_event(TrainEvent::Iteration(&report, snapshot))?;
        history.push(report);
    }
    let (users, items) = backend.factors()?;
    Ok(Trained {
        config: *config,
        users,
        items,
        global_mean: problem.global_mean,
        history,
        device: backend.describe(),
        prior: None,
    })
}

/// Work per half-iteration in floating-point operations (2 per
/// multiply-add), as `docs/ALGORITHM.md` counts it: (Gram build, solve) for
/// `rows` rows with `nnz` interactions and `d` unknowns each.
pub fn half_iteration_flops(
    kind: ModelKind,
    solver: SolverOptions,
    rows: usize,
    fixed_rows: usize,
    nnz: usize,
    d: usize,
) -> (f64, f64) {
    let (rows, nnz, d) = (rows as f64, nnz as f64, d as f64);
    let yty = if kind == ModelKind::Implicit { fixed_rows as f64 * d * d } else { 0.0 };
    match solver.solver {
        Solver::Cholesky => (2.0 * (nnz * d * d + yty), 2.0 * rows * d * d * d / 3.0),
        Solver::Cg => (2.0 * yty, 2.0 * solver.cg_steps as f64 * (nnz * 2.0 * d + rows * d * d)),
    }
}
