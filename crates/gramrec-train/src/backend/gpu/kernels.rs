//! The WGSL kernels (one file each in the top-level `shaders/` folder) and
//! their pipelines, specialised for one model through pipeline-overridable
//! constants (factor count, model kind, λ, α, …) so loops have fixed bounds.
//!
//! Two bind-group layouts cover every kernel: one for the YᵀY reduction, one
//! shared by all per-row kernels (see `shaders/row_common.wgsl`).

use gramrec_core::{Confidence, ModelKind, ModelParams, RegScaling};

use super::context::Gpu;
use crate::error::Result;

/// The shader sources, embedded at build time.
pub mod source {
    /// Register tiling shared by the two Gram kernels.
    pub const TILE: &str = include_str!("../../../../../shaders/tile.wgsl");
    /// YᵀY: partial sums per chunk of rows, then their reduction.
    pub const GRAM: &str = include_str!("../../../../../shaders/gram.wgsl");
    /// Constants, bindings and interaction terms shared by the row kernels.
    pub const ROW_COMMON: &str = include_str!("../../../../../shaders/row_common.wgsl");
    /// Per-row normal-equation matrices for a batch.
    pub const ROW_GRAM: &str = include_str!("../../../../../shaders/row_gram.wgsl");
    /// Batched Cholesky solve.
    pub const CHOLESKY: &str = include_str!("../../../../../shaders/cholesky.wgsl");
    /// Conjugate-gradient steps per row.
    pub const CG: &str = include_str!("../../../../../shaders/cg.wgsl");
    /// The objective's terms.
    pub const LOSS: &str = include_str!("../../../../../shaders/loss.wgsl");
}

/// The largest factor count the kernels handle (the bias column makes 257
/// unknowns; the kernels are written for at most 320).
pub const MAX_FACTORS: usize = 256;

/// Rows per workgroup of the loss kernel.
pub const LOSS_ROWS_PER_GROUP: u32 = 64;

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

#[derive(Clone, Copy)]
enum Access {
    Uniform,
    Read,
    ReadWrite,
}

fn layout(gpu: &Gpu, label: &str, bindings: &[Access]) -> wgpu::BindGroupLayout {
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
fn constants(params: &ModelParams, global_mean: f32, cg_steps: usize) -> Vec<(&'static str, f64)> {
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    vec![
        ("F", params.factors as f64),
        ("D", params.dim() as f64),
        ("IMPLICIT", flag(params.kind == ModelKind::Implicit)),
        ("BIASES", flag(params.uses_biases())),
        ("LOG_CONFIDENCE", flag(params.confidence == Confidence::Log)),
        ("REG_BY_COUNT", flag(params.reg_scaling == RegScaling::Count)),
        ("REG", params.reg as f64),
        ("ALPHA", params.alpha as f64),
        ("EPSILON", params.epsilon as f64),
        ("GLOBAL_MEAN", global_mean as f64),
        ("CG_STEPS", cg_steps as f64),
    ]
}

fn pipeline(
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
    // Only the constants this source declares: naming others is an error.
    let used: Vec<(&str, f64)> =
        constants.iter().filter(|(name, _)| source.contains(&format!("override {name}:"))).copied().collect();
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
        compilation_options: wgpu::PipelineCompilationOptions {
            constants: &used,
            zero_initialize_workgroup_memory: true,
        },
        cache: None,
    })
}

impl Kernels {
    /// Compiles every kernel for this model. `broken` replaces the CG
    /// kernel's source with one that does not compile (fault injection).
    pub fn new(gpu: &Gpu, params: &ModelParams, global_mean: f32, cg_steps: usize, broken: bool) -> Result<Self> {
        use Access::*;
        let gram_layout = layout(gpu, "gram", &[Uniform, Read, ReadWrite, ReadWrite]);
        let row_layout = layout(gpu, "rows", &[Uniform, Read, Read, Read, Read, Read, ReadWrite, ReadWrite, ReadWrite]);
        let values = constants(params, global_mean, cg_steps);
        let gram = [source::TILE, source::GRAM].join("\n");
        let row = |label: &str, parts: &[&str]| {
            let source = [&[source::ROW_COMMON], parts].concat().join("\n");
            pipeline(gpu, label, &source, "main", &row_layout, &values)
        };
        let cg_source = if broken { "fn broken( {" } else { source::CG };
        let kernels = Self {
            partial_gram: pipeline(gpu, "partial_gram", &gram, "partial_gram", &gram_layout, &values),
            reduce_gram: pipeline(gpu, "reduce_gram", &gram, "reduce", &gram_layout, &values),
            row_gram: row("row_gram", &[source::TILE, source::ROW_GRAM]),
            cholesky: row("cholesky", &[source::CHOLESKY]),
            cg: row("cg", &[cg_source]),
            loss: row("loss", &[source::LOSS]),
            gram_layout,
            row_layout,
        };
        gpu.check().map_err(|e| match e {
            crate::Error::Gpu(m) => crate::Error::Gpu(format!("a compute shader failed to compile: {m}")),
            other => other,
        })?;
        Ok(kernels)
    }
}
