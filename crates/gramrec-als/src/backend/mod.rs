//! Compute backends: "given the fixed side's factors and the CSR, solve every
//! row of the other side", plus the objective.
//!
//! The ALS loop in [`crate::driver`] drives a [`Backend`] and owns everything
//! else (initialisation, logging, timing, outputs), so backends differ only
//! where they must. A backend keeps both sides' factors resident between
//! calls and hands them back once, at the end. The GPU backend exists only
//! with the `gpu` feature; [`open_gpu`] says so without it.

mod cpu;
#[cfg(feature = "gpu")]
pub mod gpu;

pub use cpu::CpuBackend;
pub use gramrec_core::Loss;

use gramrec_core::{Error, GaussianPrior, ModelParams, Result, Side, SolverOptions};
use gramrec_data::Dataset;

use crate::config::{Device, GpuOptions, Method};
use crate::driver::DeviceNotice;

/// Everything a backend needs to know about the problem.
#[derive(Debug, Clone, Copy)]
pub struct Problem<'a> {
    /// The data: both CSRs and the IDs (for error messages).
    pub data: &'a Dataset,
    /// The objective.
    pub params: ModelParams,
    /// The per-row solver.
    pub solver: SolverOptions,
    /// μ of explicit models with biases, else 0.
    pub global_mean: f32,
    /// ALS ([`Backend::solve`]) or Bayesian PMF ([`Backend::draw`]): what
    /// a backend sets itself up for (the GPU's kernels and buffers differ).
    pub method: Method,
}

/// What a Bayesian half-iteration draws a side's rows with.
#[derive(Debug, Clone, Copy)]
pub struct Conditional<'c> {
    /// The side's prior, drawn for this half-iteration.
    pub prior: &'c GaussianPrior,
    /// τ, the noise precision.
    pub noise: f32,
    /// The run's seed: the key of the rows' draws.
    pub seed: u64,
    /// Which half-iteration of the run (sweep × 2, + 1 for items): part of
    /// each draw's counter.
    pub half: u32,
}

/// Where a half-iteration's time went, in seconds of wall time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PhaseTimes {
    /// Building the normal equations: YᵀY, then each row's Gram matrix and
    /// right-hand side (for CG: gathering the row and forming its residual).
    pub build: f64,
    /// Solving them (Cholesky, or the CG steps; on the CPU, an item
    /// half-iteration also sums the objective here).
    pub solve: f64,
}

impl std::ops::AddAssign for PhaseTimes {
    fn add_assign(&mut self, o: Self) {
        self.build += o.build;
        self.solve += o.solve;
    }
}

/// A place where ALS half-iterations run.
pub trait Backend {
    /// What runs the work, for logs ("cpu (8 threads)").
    fn describe(&self) -> String;
    /// [`describe`](Self::describe) with what the run holds there, for the
    /// line that announces it ("gpu NVIDIA … (Vulkan), 517.8 MiB of GPU memory").
    fn summary(&self) -> String {
        self.describe()
    }
    /// Solves every row of `side` with the other side fixed.
    fn solve(&mut self, side: Side) -> Result<PhaseTimes>;
    /// Draws every row of `side` from its conditional posterior given the
    /// other side (Bayesian PMF, [`crate::bayes`]): N(Λ*⁻¹b, Λ*⁻¹) with
    /// Λ* = Λ + τΣzzᵀ and b = Λμ + τΣtz, as `gramrec_core::prior` solves it,
    /// plus U⁻¹ε (Λ* = UᵀU) with ε the row's draws from
    /// [`crate::bayes::Normals`] keyed by the run's seed, the row's ID and
    /// `conditional.half`.
    fn draw(&mut self, side: Side, conditional: &Conditional<'_>) -> Result<PhaseTimes>;
    /// The objective for the current factors (the CPU backend sums it while
    /// it solves, so after a half-iteration this costs nothing there).
    fn loss(&mut self) -> Result<Loss>;
    /// The current factors of (users, items), rows × `params.dim()`.
    fn factors(&mut self) -> Result<(Vec<f32>, Vec<f32>)>;
}

/// Scores batches of users against every item and keeps each user's k best:
/// what `recommend --all` runs on a GPU (the CPU path is
/// `gramrec_core::ItemModel::recommend_block`).
pub trait TopKScorer {
    /// What runs the work, for logs ("gpu NVIDIA … (Vulkan)").
    fn describe(&self) -> String;
    /// The most users one [`top_k`](Self::top_k) call takes.
    fn batch(&self) -> usize;
    /// For each user (factors rows × factors, the constant each one's scores
    /// share, its seen items in any order): its k best (item, unclipped
    /// score), best first, ties to the lower item, seen items and NaN left out.
    fn top_k(&self, users: &[f32], constants: &[f32], excludes: &[&[usize]]) -> Result<Vec<Vec<(usize, f32)>>>;
}

/// The message of a build without the GPU backend.
#[cfg(not(feature = "gpu"))]
const NO_GPU_SUPPORT: &str = "this gramrec was built without GPU support (the `gpu` cargo feature); use `device=cpu`";

/// A GPU backend for the problem, starting from the given factors
/// (rows × `params.dim()`).
pub fn open_gpu<'a>(
    problem: Problem<'a>,
    users: &[f32],
    items: &[f32],
    options: GpuOptions,
) -> Result<Box<dyn Backend + 'a>> {
    #[cfg(feature = "gpu")]
    return Ok(Box::new(gpu::GpuBackend::new(problem, users, items, options)?));
    #[cfg(not(feature = "gpu"))]
    {
        let _ = (problem, users, items, options);
        Err(Error::Gpu(NO_GPU_SUPPORT.into()))
    }
}

/// What a top-k scorer is built for: the item rows and their per-item score
/// terms, and the lists it keeps.
#[derive(Debug, Clone, Copy)]
pub struct TopKTable<'a> {
    /// Item factors, rows × `factors`.
    pub items: &'a [f32],
    /// Factors per row.
    pub factors: usize,
    /// Each item's score term (its bias), if the model has them.
    pub offsets: Option<&'a [f32]>,
    /// Items per list.
    pub k: usize,
    /// The most items any user has seen: bounds the loop work on software adapters.
    pub longest_seen: usize,
}

/// A GPU top-k scorer for `table` ([`gpu::GpuTopK::new`]).
pub fn open_gpu_top_k(table: TopKTable<'_>, options: GpuOptions) -> Result<Box<dyn TopKScorer>> {
    #[cfg(feature = "gpu")]
    return Ok(Box::new(gpu::GpuTopK::new(table, options)?));
    #[cfg(not(feature = "gpu"))]
    {
        let _ = (table, options);
        Err(Error::Gpu(NO_GPU_SUPPORT.into()))
    }
}

/// The adapter `--device auto` would train on ("NVIDIA … (Vulkan)"), or why none.
pub fn probe_gpu(options: GpuOptions) -> Result<String> {
    #[cfg(feature = "gpu")]
    return gpu::Gpu::open(options).map(|g| g.name()).map_err(|e| Error::Gpu(e.to_string()));
    #[cfg(not(feature = "gpu"))]
    {
        let _ = options;
        Err(Error::Gpu(NO_GPU_SUPPORT.into()))
    }
}

/// For many trainings in a row (tuning): [`Device::Auto`] becomes
/// [`Device::Cpu`] when no usable GPU is found, saying why once, so that each
/// training does not look again; otherwise the device is kept.
pub fn settle(device: Device, options: GpuOptions, notice: &mut dyn FnMut(DeviceNotice)) -> Device {
    if device != Device::Auto {
        return device;
    }
    match probe_gpu(options) {
        Ok(name) => {
            notice(DeviceNotice::Gpu(format!("gpu {name}")));
            Device::Auto
        }
        Err(e) => {
            let why = match e {
                Error::Gpu(why) => why,
                e => e.to_string(),
            };
            notice(DeviceNotice::Cpu { why, restarted: false });
            Device::Cpu
        }
    }
}
