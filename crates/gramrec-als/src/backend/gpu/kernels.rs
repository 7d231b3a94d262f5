//! The kernels' pipelines (sources from [`shaders`](super::shaders)),
//! specialised for one model through pipeline-overridable constants (factor
//! count, model kind, λ, α, …) so loops have fixed bounds.
//!
//! Two bind-group layouts cover every kernel: one for the YᵀY reduction, one
//! shared by all per-row kernels (see `wgsl/row_common.wgsl`).

use gramrec_core::{Confidence, Error, ModelKind, ModelParams, RegScaling, Result};

use super::context::Gpu;
use super::shaders::Kernel;

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

/// The value of each pipeline-overridable constant for this model.
fn constants(params: &ModelParams, global_mean: f32, cg_steps: usize, half: bool) -> Vec<(&'static str, f64)> {
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    vec![
        ("HALF", flag(half)),
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
        ("GLOBAL_MEAN", global_mean as f64),
        ("CG_STEPS", cg_steps as f64),
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

/// A compute pipeline of `entry` in `source`, with these constants.
pub(super) fn pipeline(
    gpu: &Gpu,
    label: &str,
    source: &str,
    entry: &str,
    layout: &wgpu::BindGroupLayout,
    constants: &[(&str, f64)],
) -> wgpu::ComputePipeline {
    let module = gpu.device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(label),
        source: wgpu::ShaderSource::Wgsl(source.into()),
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
        entry_point: Some(entry),
        compilation_options: wgpu::PipelineCompilationOptions { constants, zero_initialize_workgroup_memory: true },
        cache: None,
    })
}

impl Kernels {
    /// Compiles every kernel for this model, for factors stored as f16 pairs
    /// with `half`. `broken` replaces the CG kernel's source with one that
    /// does not compile (fault injection).
    pub fn new(
        gpu: &Gpu,
        params: &ModelParams,
        global_mean: f32,
        cg_steps: usize,
        half: bool,
        broken: bool,
    ) -> Result<Self> {
        use Access::*;
        let gram_layout = layout(gpu, "gram", &[Uniform, Read, ReadWrite, ReadWrite]);
        let row_layout = layout(gpu, "rows", &[Uniform, Read, Read, Read, Read, Read, ReadWrite, ReadWrite, ReadWrite]);
        let values = constants(params, global_mean, cg_steps, half);
        let gram = Kernel::Gram.source();
        let row = |label: &str, source: String| pipeline(gpu, label, &source, "main", &row_layout, &values);
        let cg_source = if broken { "fn broken( {".to_string() } else { Kernel::Cg.source() };
        let kernels = Self {
            partial_gram: pipeline(gpu, "partial_gram", &gram, "partial_gram", &gram_layout, &values),
            reduce_gram: pipeline(gpu, "reduce_gram", &gram, "reduce", &gram_layout, &values),
            row_gram: row("row_gram", Kernel::RowGram.source()),
            cholesky: row("cholesky", Kernel::Cholesky.source()),
            cg: row("cg", cg_source),
            loss: row("loss", Kernel::Loss.source()),
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
