//! Compute backends: "given the fixed side's factors and the CSR, solve every
//! row of the other side", plus the objective.
//!
//! The ALS loop in [`crate::als`] drives a [`Backend`] and owns everything
//! else (initialisation, logging, timing, outputs), so backends differ only
//! where they must. A backend keeps both sides' factors resident between
//! calls and hands them back once, at the end.

mod cpu;
pub mod gpu;

pub use cpu::CpuBackend;
pub use gpu::GpuBackend;

use gramrec_core::{ModelParams, Side, Solver};

use crate::dataset::Dataset;
use crate::error::Result;

/// Where to train (`--device`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    /// A real GPU when there is one, else the CPU; a GPU failure mid-run
    /// restarts the run on the CPU.
    #[default]
    Auto,
    /// The GPU, software adapters included; failures are errors.
    Gpu,
    /// The CPU.
    Cpu,
}

impl Device {
    /// For many trainings in a row (tuning): `Auto` becomes `Cpu` when no
    /// usable GPU is found, saying why once, so that each training does not
    /// look again; otherwise the device is kept.
    pub fn settle(self, notice: &mut dyn FnMut(String)) -> Device {
        if self != Device::Auto {
            return self;
        }
        match gpu::Gpu::open(gpu::GpuOptions::from_env(false).allow_software, false) {
            Ok(gpu) => {
                notice(format!("training on gpu {}", gpu.name()));
                Device::Auto
            }
            Err(why) => {
                notice(format!("GPU: {why}; training on the CPU"));
                Device::Cpu
            }
        }
    }

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Device::Auto => "auto",
            Device::Gpu => "gpu",
            Device::Cpu => "cpu",
        }
    }
}

impl std::str::FromStr for Device {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Device::Auto),
            "gpu" => Ok(Device::Gpu),
            "cpu" => Ok(Device::Cpu),
            _ => Err(format!("unknown device '{s}' (expected one of: auto, gpu, cpu)")),
        }
    }
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything a backend needs to know about the problem.
#[derive(Debug, Clone, Copy)]
pub struct Problem<'a> {
    /// The data: both CSRs and the IDs (for error messages).
    pub data: &'a Dataset,
    /// The objective.
    pub params: ModelParams,
    /// The per-row solver.
    pub solver: Solver,
    /// Conjugate-gradient steps per row (with [`Solver::Cg`]).
    pub cg_steps: usize,
    /// μ of explicit models with biases, else 0.
    pub global_mean: f32,
}

/// Where a half-iteration's time went, in seconds of wall time.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct PhaseTimes {
    /// Building the normal equations: YᵀY, then each row's Gram matrix and
    /// right-hand side (for CG: gathering the row and its right-hand side).
    pub build: f64,
    /// Solving them (Cholesky, or the CG steps).
    pub solve: f64,
}

impl std::ops::AddAssign for PhaseTimes {
    fn add_assign(&mut self, o: Self) {
        self.build += o.build;
        self.solve += o.solve;
    }
}

/// The objective's two parts: data fit and regularisation.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
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

/// A place where ALS half-iterations run.
pub trait Backend {
    /// What runs the work, for logs ("cpu, 8 threads").
    fn describe(&self) -> String;
    /// Solves every row of `side` with the other side fixed.
    fn solve(&mut self, side: Side) -> Result<PhaseTimes>;
    /// The objective for the current factors.
    fn loss(&mut self) -> Result<Loss>;
    /// The current factors of (users, items), rows × `params.dim()`.
    fn factors(&mut self) -> Result<(Vec<f32>, Vec<f32>)>;
}
