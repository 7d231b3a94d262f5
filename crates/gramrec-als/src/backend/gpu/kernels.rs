//! The kernels' pipelines (sources from [`gramrec_wgsl`]),
//! specialised for one model through pipeline-overridable constants (factor
//! count, model kind, λ, α, …) so loops have fixed bounds.
//!
//! Two bind-group layouts cover every kernel: one for the YᵀY reduction, one
//! shared by all per-row kernels (see `wgsl/row_common.wgsl`).

use gramrec_core::{Confidence, Error, ModelKind, ModelParams, RegScaling, Result};

use super::context::Gpu;
use gramrec_wgsl::Kernel;

/// The largest factor count the kernels handle (the bias column makes 257
/// unknowns; the kernels are written for at most 320).
pub const GPU_MAX_FACTORS: usize = 256;

/// Compiled pipelines for one model.
pub struct Kernels {
    /// Layout of the YᵀY kernels: shape, factors, partial sums, result.
    pub gram_layout: wgpu::BindGroupLayout,
    /// Layout shared by the row kernels.
    pub row_layout: wgpu::BindGroupLayout,
    /// YᵀY per chunk of rows.
    pub partial_gram: wgpu::ComputePipeline,
    /// Sum of the chunks.
    pub reduce_gram: wgpu::ComputePipeline,
    /// Per-row matrices of a batch.
    pub row_gram: wgpu::ComputePipeline,
    /// Cholesky solve of a batch.
    pub cholesky: wgpu::ComputePipeline,
    /// Conjugate-gradient steps.
    pub cg: wgpu::ComputePipeline,
    /// Objective terms.
    pub loss: wgpu::ComputePipeline,
}

/// How a kernel binds a buffer.
#[derive(Clone, Copy)]
pub(super) enum Access {
    Uniform,
    Read,
    ReadWrite,
}

/// A bind-group layout of buffers 0, 1, … bound as `bindings` say.
pub(super) fn layout(gpu: &Gpu, label: &str, bindings: &[Access]) -> wgpu::BindGroupLayout {
    let entries: Vec<wgpu::BindGroupLayoutEntry> = bindings
        .iter()
        .enumerate()
        .map(|(i, access)| wgpu::BindGroupLayoutEntry {
            binding: i as u32,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: match access {
                    Access::Uniform => wgpu::BufferBindingType::Uniform,
                    Access::Read => wgpu::BufferBindingType::Storage { read_only: true },
                    Access::ReadWrite => wgpu::BufferBindingType::Storage { read_only: false },
                },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        })
        .collect();
    gpu.device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some(label), entries: &entries })
}

/// How the kernels are specialised beyond the model's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KernelOptions {
    /// μ of explicit models with biases.
    pub global_mean: f32,
    /// Conjugate-gradient steps per row.
    pub cg_steps: usize,
    /// Factors stored as f16 pairs.
    pub half: bool,
    /// Rows drawn for Bayesian PMF (row_gram and cholesky read the prior
    /// from binding 5 and draw).
    pub bayes: bool,
}

/// The value of each pipeline-overridable constant for this model.
fn constants(params: &ModelParams, o: KernelOptions) -> Vec<(&'static str, f64)> {
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    vec![
        ("HALF", flag(o.half)),
        ("BAYES", flag(o.bayes)),
        ("F", params.factors as f64),
        ("D", params.dim() as f64),
        ("IMPLICIT", flag(params.kind == ModelKind::Implicit)),
        ("BIASES", flag(params.uses_biases())),
        ("LOG_CONFIDENCE", flag(params.confidence == Confidence::Log)),
        ("REG_SCALING", reg_scaling(params.reg_scaling)),
        ("REG", params.reg as f64),
        ("REG_EXPONENT", params.reg_exponent as f64),
        ("UNOBSERVED", params.unobserved_weight() as f64),
        ("ALPHA", params.alpha as f64),
        ("EPSILON", params.epsilon as f64),
        ("GLOBAL_MEAN", o.global_mean as f64),
        ("CG_STEPS", o.cg_steps as f64),
        ("MAX_CONFIDENCE", gramrec_core::params::MAX_CONFIDENCE as f64),
    ]
}

/// `REG_SCALING` in `wgsl/constants.wgsl`.
fn reg_scaling(scaling: RegScaling) -> f64 {
    match scaling {
        RegScaling::None => 0.0,
        RegScaling::Count => 1.0,
        RegScaling::Frequency => 2.0,
    }
}

/// The compute pipeline `p`, binding buffers as `layout` says.
pub(super) fn pipeline(gpu: &Gpu, p: &PipelineSource, layout: &wgpu::BindGroupLayout) -> wgpu::ComputePipeline {
    let label = p.label;
    let module = gpu.device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(label),
        source: wgpu::ShaderSource::Wgsl(p.source.as_str().into()),
    });
    let pipeline_layout = gpu.device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(label),
        bind_group_layouts: &[Some(layout)],
        immediate_size: 0,
    });
    gpu.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(label),
        layout: Some(&pipeline_layout),
        module: &module,
        entry_point: Some(p.entry),
        compilation_options: wgpu::PipelineCompilationOptions {
            constants: &p.constants,
            zero_initialize_workgroup_memory: true,
        },
        cache: None,
    })
}

/// One compute pipeline exactly as the backend creates it: the label, the
/// whole WGSL source, the entry point and the overridable constants. Also
/// what a second WGSL implementation is tested with (the browser's WebGPU:
/// the `wgsl_pipelines` example and `web/test/webgpu.test.mjs`).
#[derive(Debug, Clone)]
pub struct PipelineSource {
    /// What the pipeline is called (`cholesky`).
    pub label: &'static str,
    /// The kernel's source.
    pub source: String,
    /// The entry point.
    pub entry: &'static str,
    /// Each pipeline-overridable constant's value.
    pub constants: Vec<(&'static str, f64)>,
}

/// The six training pipelines for this model, specialised as `options`
/// say, in the order [`Kernels`] holds them: `partial_gram` and
/// `reduce_gram` (the YᵀY layout), then `row_gram`, `cholesky`, `cg` and
/// `loss` (the row layout).
pub fn training_pipelines(params: &ModelParams, options: KernelOptions) -> [PipelineSource; 6] {
    let constants = constants(params, options);
    let one = |label, kernel: Kernel, entry| PipelineSource {
        label,
        source: kernel.source(),
        entry,
        constants: constants.clone(),
    };
    [
        one("partial_gram", Kernel::Gram, "partial_gram"),
        one("reduce_gram", Kernel::Gram, "reduce"),
        one("row_gram", Kernel::RowGram, "main"),
        one("cholesky", Kernel::Cholesky, "main"),
        one("cg", Kernel::Cg, "main"),
        one("loss", Kernel::Loss, "main"),
    ]
}

/// The top-k pipeline for `factors` and lists of `k` ([`GpuTopK`](super::GpuTopK)).
pub fn top_k_pipeline(factors: usize, k: usize) -> PipelineSource {
    PipelineSource {
        label: "top k",
        source: gramrec_wgsl::top_k_source(k),
        entry: "main",
        constants: vec![("F", factors as f64)],
    }
}

impl Kernels {
    /// Compiles every kernel for this model, specialised as `options` say.
    /// `broken` replaces the CG kernel's source with one that does not
    /// compile (fault injection).
    pub fn new(gpu: &Gpu, params: &ModelParams, options: KernelOptions, broken: bool) -> Result<Self> {
        use Access::*;
        let gram_layout = layout(gpu, "gram", &[Uniform, Read, ReadWrite, ReadWrite]);
        let row_layout = layout(gpu, "rows", &[Uniform, Read, Read, Read, Read, Read, ReadWrite, ReadWrite, ReadWrite]);
        let [partial_gram, reduce_gram, row_gram, cholesky, mut cg, loss] = training_pipelines(params, options);
        if broken {
            cg.source = "fn broken( {".to_string();
        }
        let kernels = Self {
            partial_gram: pipeline(gpu, &partial_gram, &gram_layout),
            reduce_gram: pipeline(gpu, &reduce_gram, &gram_layout),
            row_gram: pipeline(gpu, &row_gram, &row_layout),
            cholesky: pipeline(gpu, &cholesky, &row_layout),
            cg: pipeline(gpu, &cg, &row_layout),
            loss: pipeline(gpu, &loss, &row_layout),
            gram_layout,
            row_layout,
        };
        gpu.check().map_err(|e| match e {
            Error::Gpu(m) => Error::Gpu(format!("a compute shader failed to compile: {m}")),
            other => other,
        })?;
        Ok(kernels)
    }
}
