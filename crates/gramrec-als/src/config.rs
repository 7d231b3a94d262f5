//! How to train: the model, the solver, the iterations, and where — every
//! option a value the caller passes in (the CLI builds them from its flags
//! and the environment).

use gramrec_core::setting::{set, setting};
pub use gramrec_core::Method;
pub use gramrec_core::MAX_FACTORS;
use gramrec_core::{named_enum, ModelKind, ModelParams, ParamError, Result, Solver, SolverOptions, DEFAULT_ITERATIONS};

/// The most iterations a run may ask for.
pub const MAX_ITERATIONS: usize = 100_000;
/// The most CPU threads a run may ask for.
pub const MAX_THREADS: usize = 1024;

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

named_enum!(Device, "device" { Auto => "auto", Gpu => "gpu", Cpu => "cpu" });

impl Device {
    /// The most factors a run on this device can train: [`MAX_FACTORS`],
    /// or the GPU backend's limit on [`Device::Gpu`] (on `Auto` a model
    /// the GPU cannot hold trains on the CPU).
    pub fn max_factors(self) -> usize {
        match self {
            #[cfg(feature = "gpu")]
            Device::Gpu => crate::backend::gpu::GPU_MAX_FACTORS,
            _ => MAX_FACTORS,
        }
    }
}

/// A failure injected into a GPU run, so tests can check how real ones are
/// handled (the CLI takes it from `GRAMREC_GPU_FAULT`, see docs/ROBUSTNESS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Destroy the device after this many half-iterations.
    LoseDevice(usize),
    /// Compile a CG kernel that is not valid WGSL.
    BrokenShader,
}

impl Fault {
    /// `lose-device:N` or `shader`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.split_once(':') {
            Some(("lose-device", n)) => n.parse().ok().map(Fault::LoseDevice),
            _ if s == "shader" => Some(Fault::BrokenShader),
            _ => None,
        }
    }
}

/// The graphics APIs searched for a GPU adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuApis {
    /// Vulkan (Linux, Windows, Android).
    pub vulkan: bool,
    /// Metal (macOS, iOS).
    pub metal: bool,
    /// Direct3D 12 (Windows).
    pub dx12: bool,
}

impl GpuApis {
    /// Every API gramrec is built for.
    pub const ALL: Self = Self { vulkan: true, metal: true, dx12: true };

    /// A comma-separated list as wgpu's `WGPU_BACKEND` takes it (`vulkan,metal`);
    /// unknown names are ignored.
    pub fn from_list(list: &str) -> Self {
        let names: Vec<String> = list.split(',').map(|n| n.trim().to_ascii_lowercase()).collect();
        let has = |n: &[&str]| names.iter().any(|x| n.contains(&x.as_str()));
        Self { vulkan: has(&["vulkan", "vk"]), metal: has(&["metal", "mtl"]), dx12: has(&["dx12", "d3d12"]) }
    }
}

/// How the GPU stores the factor matrices (`--gpu-storage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GpuStorage {
    /// 4 bytes per value.
    #[default]
    F32,
    /// 2 bytes per value (half the memory and the gather traffic); the
    /// kernels still compute in f32, and the factors written at the end are
    /// the f16 values widened.
    F16,
}

named_enum!(GpuStorage, "gpu_storage" { F32 => "f32", F16 => "f16" });

/// How to open and use the GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuOptions {
    /// Let `--device auto` use a software adapter (lavapipe); `--device gpu`
    /// always may.
    pub allow_software: bool,
    /// Device memory the run may use, in bytes. When the interactions do not
    /// fit within it beside everything else, they are streamed from host
    /// memory each half-iteration; when even that does not fit, the run is
    /// refused up front.
    pub memory_limit: Option<u64>,
    /// How the factors are stored on the device.
    pub storage: GpuStorage,
    /// At most this many interactions per chunk of a CSR (the tests force
    /// many chunks with it; by default one binding's worth decides).
    pub chunk_interactions: Option<u64>,
    /// Stream the interactions from host memory even when they would fit
    /// (the tests compare it with the resident run).
    pub stream: bool,
    /// A failure to inject (tests).
    pub fault: Option<Fault>,
    /// At most this many rows per Cholesky batch (the tests force several
    /// batches with it; by default the device's largest binding decides).
    pub batch_rows: Option<u64>,
    /// Ask the device for WebGPU's default limits only (128 MiB per binding,
    /// 8 storage buffers per kernel, 16 KiB of workgroup memory) instead of
    /// the adapter's: the tests check that the kernels fit them.
    pub webgpu_limits: bool,
    /// The graphics APIs to search.
    pub apis: GpuApis,
}

impl Default for GpuOptions {
    fn default() -> Self {
        Self {
            allow_software: false,
            memory_limit: None,
            storage: GpuStorage::F32,
            chunk_interactions: None,
            stream: false,
            fault: None,
            batch_rows: None,
            webgpu_limits: false,
            apis: GpuApis::ALL,
        }
    }
}

/// How long the Gibbs sampler of [`Method::Bayes`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BayesOptions {
    /// Sweeps averaged into the model, after the burn-in.
    pub samples: usize,
    /// Sweeps drawn first and not kept, while the chain settles.
    pub burn_in: usize,
}

impl BayesOptions {
    /// 100 samples after 20 sweeps of burn-in (BENCHMARKS.md, "Bayesian PMF").
    pub const DEFAULT: Self = Self { samples: 100, burn_in: 20 };

    /// Every sweep the sampler draws.
    pub fn sweeps(&self) -> usize {
        self.samples + self.burn_in
    }
}

impl Default for BayesOptions {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Refuses a setting given for the other method: `given` names the
/// settings the caller set explicitly, as the libraries name them
/// (`iterations`, `reg`, `reg_scaling`, `solver`, `cg_steps`, `samples`,
/// `burn_in`; a front end may name its own, such as Python's `use_cg`). A
/// setting that does not apply is refused rather than ignored; each front
/// end spells the error's marks its own way.
pub fn check_given(method: Method, given: &[&'static str]) -> std::result::Result<(), ParamError> {
    let bayes = set("method", "bayes");
    for &name in given {
        let why = match (method, name) {
            (Method::Als, "samples" | "burn_in") => format!("applies to {bayes} only"),
            (Method::Bayes, "iterations") => {
                format!("does not apply to {bayes}: it runs {} + {} sweeps", setting("burn_in"), setting("samples"))
            }
            (Method::Bayes, "reg" | "reg_scaling") => {
                format!("does not apply to {bayes}: it learns its prior from the data")
            }
            (Method::Bayes, "solver" | "cg_steps" | "use_cg") => {
                format!("does not apply to {bayes}: it factors each row's matrix exactly")
            }
            _ => continue,
        };
        return Err(ParamError::new(name, why));
    }
    Ok(())
}

/// How to train.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    /// The objective.
    pub params: ModelParams,
    /// ALS or Bayesian PMF.
    pub method: Method,
    /// Full iterations (a user half and an item half each); the sampler's
    /// sweeps with [`Method::Bayes`], which [`bayes`](Self::bayes) sets.
    pub iterations: usize,
    /// The sampler's samples and burn-in ([`Method::Bayes`]).
    pub bayes: BayesOptions,
    /// Per-row solver.
    pub solver: SolverOptions,
    /// Seed of the initial factors.
    pub seed: u64,
    /// CPU threads (0 = one per core).
    pub threads: usize,
    /// Where to train.
    pub device: Device,
    /// How to use the GPU, when one is used.
    pub gpu: GpuOptions,
}

impl TrainConfig {
    /// The defaults of a model kind: [`ModelParams::for_kind`], 15 iterations,
    /// 3 CG steps, seed 42, every core, the GPU when there is a real one.
    pub fn for_kind(kind: ModelKind) -> Self {
        Self {
            params: ModelParams::for_kind(kind),
            method: Method::Als,
            iterations: DEFAULT_ITERATIONS,
            bayes: BayesOptions::DEFAULT,
            solver: SolverOptions::DEFAULT,
            seed: 42,
            threads: 0,
            device: Device::Auto,
            gpu: GpuOptions::default(),
        }
    }

    /// The settings in one line, for logs (`train --auto`'s candidates, the
    /// Python package's `auto`): ALS's [`ModelParams::describe`], or
    /// `Bayesian PMF: 64 factors, 100 samples after a burn-in of 20`.
    pub fn describe(&self) -> String {
        match self.method {
            Method::Als => self.params.describe(self.iterations),
            Method::Bayes => format!(
                "Bayesian PMF: {} factors, {} samples after a burn-in of {}",
                self.params.factors, self.bayes.samples, self.bayes.burn_in
            ),
        }
    }

    /// Checks every setting: a [`ParamError`] names the first one out of its
    /// range and the range.
    pub fn validate(&self) -> Result<()> {
        self.params.check()?;
        let bad = |parameter, message: String| Err(ParamError::new(parameter, message).into());
        if self.method == Method::Bayes {
            if self.params.kind != ModelKind::Explicit {
                return Err(ParamError::new(
                    "method",
                    format!("bayes models explicit ratings; use {} for implicit feedback", set("method", "als")),
                )
                .into());
            }
            let b = self.bayes;
            if !(1..=MAX_ITERATIONS).contains(&b.samples) {
                return bad("samples", format!("must be between 1 and {MAX_ITERATIONS}, not {}", b.samples));
            }
            if b.burn_in > MAX_ITERATIONS {
                return bad("burn_in", format!("must be between 0 and {MAX_ITERATIONS}, not {}", b.burn_in));
            }
        }
        if self.solver.solver == Solver::Cg && !(1..=1000).contains(&self.solver.cg_steps) {
            return bad("cg_steps", format!("must be between 1 and 1000, not {}", self.solver.cg_steps));
        }
        if self.method == Method::Als && !(1..=MAX_ITERATIONS).contains(&self.iterations) {
            return bad("iterations", format!("must be between 1 and {MAX_ITERATIONS}, not {}", self.iterations));
        }
        if self.threads > MAX_THREADS {
            return bad("threads", format!("must be between 0 (one per core) and {MAX_THREADS}, not {}", self.threads));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_and_api_lists_parse() {
        assert_eq!(Fault::parse("lose-device:3"), Some(Fault::LoseDevice(3)));
        assert_eq!(Fault::parse("shader"), Some(Fault::BrokenShader));
        assert_eq!(Fault::parse("nonsense"), None);
        assert_eq!(GpuApis::from_list("Vulkan"), GpuApis { vulkan: true, metal: false, dx12: false });
        assert_eq!(GpuApis::from_list("metal, dx12"), GpuApis { vulkan: false, metal: true, dx12: true });
    }
}
