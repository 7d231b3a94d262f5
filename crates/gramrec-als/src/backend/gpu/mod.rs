//! The GPU backend: the same half-iterations as the CPU backend, as WGSL
//! compute kernels run through wgpu (Vulkan, Metal, DX12).
//!
//! Everything stays resident: both CSRs, both factor matrices, YᵀY and the
//! scratch space are uploaded or allocated once. A half-iteration reads back
//! one word (the first row that failed, if any) and the objective a few
//! partial sums (and two f×f Gram matrices for implicit models); the factors
//! come back once, at the end.
//!
//! Work per half-iteration (kernels in `shaders/`, described in docs/GPU.md):
//! 1. implicit models: YᵀY of the fixed side (`gram.wgsl`);
//! 2. CG: a few conjugate-gradient steps per row, one workgroup each
//!    (`cg.wgsl`); Cholesky: in batches sized to the device's largest binding,
//!    each row's matrix (`row_gram.wgsl`), then its factorisation and solve
//!    (`cholesky.wgsl`).
//!
//! Rows are dispatched longest first (sorted by degree), so that on power-law
//! data the few very long rows start at once and run beside the many short
//! ones instead of trailing at the end.

mod context;
mod kernels;
mod shaders;

use std::time::Instant;

use gramrec_core::text::bytes as human;
use gramrec_core::{Error, ModelKind, Result, Side, SolveError, Solver};

pub use context::{Gpu, Unavailable};
pub use kernels::MAX_FACTORS;
use kernels::{Kernels, LOSS_ROWS_PER_GROUP};

use super::{Backend, Loss, PhaseTimes, Problem};
use crate::config::{Fault, GpuOptions};

/// Most rows per Cholesky batch (the dispatch's workgroup count).
const MAX_BATCH_ROWS: u64 = 65_535;
/// The batch's matrices take at most this much memory.
const MAX_SYSTEMS_BYTES: u64 = 1 << 30;
/// YᵀY is summed in at most this many partial sums of at least
/// `MIN_GRAM_CHUNK_ROWS` rows each.
const MAX_GRAM_CHUNKS: u64 = 256;
const MIN_GRAM_CHUNK_ROWS: u64 = 1024;
/// Output tiles of the Gram kernels are 64×64.
const TILE: u64 = 64;
/// "No row failed" in the status word.
const NO_FAILURE: u32 = u32::MAX;
/// Mesa's llvmpipe (lavapipe) silently ends a shader invocation's loops once
/// they have run this many iterations in all.
const SOFTWARE_LOOP_LIMIT: u64 = 65_535;

/// An upper bound on the loop iterations one invocation runs, in the solve
/// kernels for the longest row and in the loss kernel for the heaviest group
/// of rows (loops with small constant trip counts, which the driver unrolls,
/// left out). Measured on lavapipe with 16 factors and CG: rows of 8,000
/// interactions come out right and 9,000 wrong; this bound refuses from about
/// 7,900.
fn loop_iterations(p: &Problem<'_>) -> u64 {
    let (f, d) = (p.params.factors as u64, p.params.dim() as u64);
    let degrees = |csr: &gramrec_data::Csr| (0..csr.rows()).map(|r| csr.degree(r) as u64).collect::<Vec<_>>();
    let (by_user, by_item) = (degrees(&p.data.by_user), degrees(&p.data.by_item));
    let longest = by_user.iter().chain(&by_item).copied().max().unwrap_or(0);
    let group = LOSS_ROWS_PER_GROUP as usize;
    let loss = by_user
        .chunks(group)
        .chain(by_item.chunks(group))
        .map(|rows| rows.iter().map(|&n| n.div_ceil(64) * (f + 1) + d.div_ceil(64) + 2).sum::<u64>())
        .max()
        .unwrap_or(0);
    solve_loop_iterations(p, longest).max(loss)
}

/// [`loop_iterations`] of the solve kernels for a row of `n` interactions.
fn solve_loop_iterations(p: &Problem<'_>, n: u64) -> u64 {
    let (f, d, steps) = (p.params.factors as u64, p.params.dim() as u64, p.solver.cg_steps as u64);
    let per = d.div_ceil(64);
    match p.solver.solver {
        Solver::Cg => {
            let (piece, lanes) = if d <= 128 { (16, 4) } else { (8, 8) };
            let per_piece = (piece * d).div_ceil(64) + d.div_ceil(lanes) + lanes + piece + 1;
            let apply = per * f + n.div_ceil(piece) * per_piece;
            per * n + (steps + 1) * apply + 20 * (steps + 1)
        }
        Solver::Cholesky => {
            let row_gram = n.div_ceil(16) * 21 + 16;
            let factor = d * 2 * per + d * d * d / 192 + d * d / 64;
            (per * n + factor + 2 * d * (per + 1)).max(row_gram)
        }
    }
}

/// One side's data on the device.
struct SideBuffers {
    rows: usize,
    /// The CSR offsets, then the rows in dispatch order.
    index: wgpu::Buffer,
    cols: wgpu::Buffer,
    vals: wgpu::Buffer,
    factors: wgpu::Buffer,
}

/// Prepared dispatches for one side.
struct SidePlan {
    /// YᵀY of this side's factors, and its partial-sum count.
    gram: wgpu::BindGroup,
    gram_chunks: u32,
    /// Solving this side: (bind group, rows) per batch; CG has one batch.
    batches: Vec<(wgpu::BindGroup, u32)>,
    /// This side's objective terms, and the buffer of per-workgroup sums.
    loss: wgpu::BindGroup,
    loss_partials: wgpu::Buffer,
    loss_groups: (u32, u32),
}

/// Bytes of device memory a run needs: the estimate checked against
/// the memory limit before anything is allocated.
fn memory_estimate(p: &Problem<'_>, batch_rows: u64) -> u64 {
    let (f, d) = (p.params.factors as u64, p.params.dim() as u64);
    let data = p.data;
    let rows = (data.users.len() + data.items.len()) as u64;
    let csr = 2 * (4 * rows + 2 * 4 + 8 * data.nnz() as u64);
    let order = 4 * rows;
    let factors = 4 * d * rows;
    let gram = 4 * f * f * (1 + MAX_GRAM_CHUNKS);
    let systems = if p.solver.solver == Solver::Cholesky { 4 * d * d * batch_rows } else { 0 };
    let readback = 4 * d * data.users.len().max(data.items.len()) as u64;
    csr + order + factors + gram + systems + readback + 16 * rows / LOSS_ROWS_PER_GROUP as u64
}

/// ALS on a GPU.
pub struct GpuBackend<'a> {
    p: Problem<'a>,
    gpu: Gpu,
    kernels: Kernels,
    users: SideBuffers,
    items: SideBuffers,
    plans: [SidePlan; 2],
    gram: wgpu::Buffer,
    status: wgpu::Buffer,
    halves: usize,
    fault: Option<Fault>,
    memory: u64,
}

/// Workgroups for `n` rows, two-dimensional past the per-dimension limit.
fn groups_2d(n: u32, max_per_dim: u32) -> (u32, u32) {
    let x = n.clamp(1, max_per_dim);
    (x, n.div_ceil(x).max(1))
}

fn uniform(gpu: &Gpu, label: &str, words: [u32; 4]) -> Result<wgpu::Buffer> {
    gpu.upload(label, &words, wgpu::BufferUsages::UNIFORM)
}

fn bind(gpu: &Gpu, layout: &wgpu::BindGroupLayout, buffers: &[&wgpu::Buffer]) -> wgpu::BindGroup {
    let entries: Vec<wgpu::BindGroupEntry> = buffers
        .iter()
        .enumerate()
        .map(|(i, b)| wgpu::BindGroupEntry { binding: i as u32, resource: b.as_entire_binding() })
        .collect();
    gpu.device.create_bind_group(&wgpu::BindGroupDescriptor { label: None, layout, entries: &entries })
}

impl<'a> GpuBackend<'a> {
    /// Opens a GPU and uploads the problem and the starting factors
    /// (rows × `params.dim()`).
    pub fn new(p: Problem<'a>, users: &[f32], items: &[f32], options: GpuOptions) -> Result<Self> {
        if p.params.factors > MAX_FACTORS {
            return Err(Error::Gpu(format!(
                "the GPU backend supports at most {MAX_FACTORS} factors, not {}; use --device cpu",
                p.params.factors
            )));
        }
        if p.data.nnz() >= u32::MAX as usize {
            return Err(Error::Gpu(format!(
                "{} interactions is more than the GPU kernels index (2³² − 1); use --device cpu",
                p.data.nnz()
            )));
        }
        let gpu = Gpu::open(options).map_err(|e| Error::Gpu(e.to_string()))?;
        let d = p.params.dim() as u64;
        let batch_rows = if p.solver.solver == Solver::Cholesky {
            let most = (p.data.users.len().max(p.data.items.len()) as u64).max(1);
            let fits = gpu.max_binding().min(MAX_SYSTEMS_BYTES) / (4 * d * d);
            fits.min(MAX_BATCH_ROWS).min(most).min(options.batch_rows.unwrap_or(u64::MAX)).max(1)
        } else {
            0
        };
        let needed = memory_estimate(&p, batch_rows);
        if let Some(limit) = options.memory_limit.filter(|&l| needed > l) {
            return Err(Error::Gpu(format!(
                "training needs about {} of GPU memory but GRAMREC_GPU_MEMORY_LIMIT allows {}; use fewer \
                 --factors, filter rare users and items, or --device cpu",
                human(needed),
                human(limit)
            )));
        }
        if gpu.is_software() {
            let longest = p.data.by_user.max_degree().max(p.data.by_item.max_degree());
            let loops = loop_iterations(&p);
            if loops > SOFTWARE_LOOP_LIMIT {
                return Err(Error::Gpu(format!(
                    "{} is a software driver that stops shader loops after {SOFTWARE_LOOP_LIMIT} iterations, and \
                     the longest row here ({longest} interactions, {} factors) needs about {loops}; use --device cpu \
                     (real GPUs have no such limit)",
                    gpu.name(),
                    p.params.factors
                )));
            }
        }
        let kernels = Kernels::new(
            &gpu,
            &p.params,
            p.global_mean,
            p.solver.cg_steps,
            options.fault == Some(Fault::BrokenShader),
        )?;
        let side = |csr: &gramrec_data::Csr, factors: &[f32], name: &str| -> Result<SideBuffers> {
            let mut order: Vec<u32> = (0..csr.rows() as u32).collect();
            order.sort_by_key(|&r| std::cmp::Reverse(csr.degree(r as usize)));
            let index: Vec<u32> = csr.indptr.iter().map(|&o| o as u32).chain(order).collect();
            let storage = wgpu::BufferUsages::STORAGE;
            Ok(SideBuffers {
                rows: csr.rows(),
                index: gpu.upload(&format!("{name} offsets and order"), &index, storage)?,
                cols: gpu.upload(&format!("{name} interactions"), &csr.indices, storage)?,
                vals: gpu.upload(&format!("{name} values"), &csr.values, storage)?,
                factors: gpu.upload(&format!("{name} factors"), factors, storage)?,
            })
        };
        let users = side(&p.data.by_user, users, "user")?;
        let items = side(&p.data.by_item, items, "item")?;
        let f = p.params.factors as u64;
        let gram = gpu.scratch("YᵀY", 4 * f * f)?;
        let partials = gpu.scratch("YᵀY partial sums", 4 * f * f * MAX_GRAM_CHUNKS)?;
        let systems = gpu.scratch("row matrices", 4 * d * d * batch_rows)?;
        let status = gpu.scratch("status", 4)?;
        let max_dim = gpu.limits().max_compute_workgroups_per_dimension;
        let plan = |this: &SideBuffers, other: &SideBuffers, is_users: bool| -> Result<SidePlan> {
            let n = this.rows as u64;
            let chunk_rows = n.div_ceil(MAX_GRAM_CHUNKS).max(MIN_GRAM_CHUNK_ROWS);
            let gram_chunks = n.div_ceil(chunk_rows).max(1);
            let shape = uniform(&gpu, "YᵀY shape", [n as u32, chunk_rows as u32, gram_chunks as u32, 0])?;
            let gram_group = bind(&gpu, &kernels.gram_layout, &[&shape, &this.factors, &partials, &gram]);
            let rows_group = |rows: &wgpu::Buffer, out: &wgpu::Buffer| {
                let buffers =
                    [rows, &this.index, &this.cols, &this.vals, &other.factors, &gram, &systems, &this.factors, out];
                bind(&gpu, &kernels.row_layout, &buffers)
            };
            let per_batch = if p.solver.solver == Solver::Cholesky { batch_rows } else { n.max(1) };
            let mut batches = Vec::new();
            for first in (0..n).step_by(per_batch as usize) {
                let count = per_batch.min(n - first) as u32;
                let words = uniform(&gpu, "batch", [count, first as u32, 0, n as u32])?;
                batches.push((rows_group(&words, &status), count));
            }
            let (gx, gy) = groups_2d((n as u32).div_ceil(LOSS_ROWS_PER_GROUP), max_dim);
            let loss_partials = gpu.scratch("loss partial sums", 8 * gx as u64 * gy as u64)?;
            let words = uniform(&gpu, "loss rows", [n as u32, 0, u32::from(is_users), n as u32])?;
            let loss = rows_group(&words, &loss_partials);
            Ok(SidePlan {
                gram: gram_group,
                gram_chunks: gram_chunks as u32,
                batches,
                loss,
                loss_partials,
                loss_groups: (gx, gy),
            })
        };
        let plans = [plan(&users, &items, true)?, plan(&items, &users, false)?];
        gpu.check()?;
        Ok(Self { p, gpu, kernels, users, items, plans, gram, status, halves: 0, fault: options.fault, memory: needed })
    }

    /// The prepared dispatches of one side.
    fn plan(&self, side: Side) -> &SidePlan {
        match side {
            Side::Users => &self.plans[0],
            Side::Items => &self.plans[1],
        }
    }

    /// Records one dispatch of `pipeline` over `bind_group`.
    fn dispatch(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        pipeline: &wgpu::ComputePipeline,
        bind_group: &wgpu::BindGroup,
        groups: (u32, u32, u32),
    ) {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, bind_group, &[]);
        pass.dispatch_workgroups(groups.0, groups.1, groups.2);
    }

    /// YᵀY of `side`'s factors into the `gram` buffer (implicit models).
    fn gram_of(&self, side: Side) -> Result<()> {
        if self.p.params.kind != ModelKind::Implicit {
            return Ok(());
        }
        let plan = self.plan(side);
        let f = self.p.params.factors as u64;
        let tiles = f.div_ceil(TILE) as u32;
        let mut encoder = self.gpu.encoder();
        self.dispatch(&mut encoder, &self.kernels.partial_gram, &plan.gram, (tiles, tiles, plan.gram_chunks));
        self.dispatch(&mut encoder, &self.kernels.reduce_gram, &plan.gram, ((f * f).div_ceil(256) as u32, 1, 1));
        self.gpu.run(encoder)
    }

    /// Runs one dispatch over `rows` rows, one workgroup per row.
    fn per_row(&self, pipeline: &wgpu::ComputePipeline, group: &wgpu::BindGroup, rows: u32) -> Result<()> {
        let (x, y) = groups_2d(rows, self.gpu.limits().max_compute_workgroups_per_dimension);
        let mut encoder = self.gpu.encoder();
        self.dispatch(&mut encoder, pipeline, group, (x, y, 1));
        self.gpu.run(encoder)
    }
}

impl Backend for GpuBackend<'_> {
    fn describe(&self) -> String {
        format!("gpu {}", self.gpu.name())
    }

    fn summary(&self) -> String {
        format!("{}, {} of GPU memory", self.describe(), human(self.memory))
    }

    fn solve(&mut self, side: Side) -> Result<PhaseTimes> {
        self.halves += 1;
        if self.fault == Some(Fault::LoseDevice(self.halves)) {
            self.gpu.destroy();
        }
        let start = Instant::now();
        self.gram_of(side.other())?;
        let mut times = PhaseTimes { build: start.elapsed().as_secs_f64(), solve: 0.0 };
        self.gpu.write(&self.status, &[NO_FAILURE]);
        let plan = self.plan(side);
        let tiles = (self.p.params.dim() as u64).div_ceil(TILE) as u32;
        for (group, rows) in &plan.batches {
            let t0 = Instant::now();
            match self.p.solver.solver {
                Solver::Cg => self.per_row(&self.kernels.cg, group, *rows)?,
                Solver::Cholesky => {
                    let mut encoder = self.gpu.encoder();
                    self.dispatch(&mut encoder, &self.kernels.row_gram, group, (*rows, tiles, tiles));
                    self.gpu.run(encoder)?;
                    times.build += t0.elapsed().as_secs_f64();
                    let t1 = Instant::now();
                    self.per_row(&self.kernels.cholesky, group, *rows)?;
                    times.solve += t1.elapsed().as_secs_f64();
                    continue;
                }
            }
            times.solve += t0.elapsed().as_secs_f64();
        }
        let failed = self.gpu.read::<u32>(&self.status, 0, 1)?[0];
        if failed != NO_FAILURE {
            let (name, ids) = match side {
                Side::Users => ("user", &self.p.data.users),
                Side::Items => ("item", &self.p.data.items),
            };
            let id = ids.get(failed as usize).cloned().unwrap_or_else(|| failed.to_string());
            return Err(Error::Solve { side: name, id, cause: SolveError::failed(self.p.params.reg) });
        }
        Ok(times)
    }

    fn loss(&mut self) -> Result<Loss> {
        let mut loss = Loss::default();
        if self.p.params.kind == ModelKind::Implicit {
            // Σ_u x_uᵀ(YᵀY)x_u = Σ_jk (YᵀY)_jk (XᵀX)_jk: two f×f matrices instead
            // of f² work per user.
            let ff = self.p.params.factors * self.p.params.factors;
            self.gram_of(Side::Items)?;
            let yty = self.gpu.read::<f32>(&self.gram, 0, ff)?;
            self.gram_of(Side::Users)?;
            let xtx = self.gpu.read::<f32>(&self.gram, 0, ff)?;
            loss.data += yty.iter().zip(&xtx).map(|(&a, &b)| a as f64 * b as f64).sum::<f64>();
        }
        for side in [Side::Users, Side::Items] {
            let plan = self.plan(side);
            let (x, y) = plan.loss_groups;
            let mut encoder = self.gpu.encoder();
            self.dispatch(&mut encoder, &self.kernels.loss, &plan.loss, (x, y, 1));
            self.gpu.run(encoder)?;
            let partials = self.gpu.read::<[f32; 2]>(&plan.loss_partials, 0, (x * y) as usize)?;
            for [data, reg] in partials {
                loss.data += data as f64;
                loss.reg += reg as f64;
            }
        }
        Ok(loss)
    }

    fn factors(&mut self) -> Result<(Vec<f32>, Vec<f32>)> {
        let d = self.p.params.dim();
        let users = self.gpu.read::<f32>(&self.users.factors, 0, self.users.rows * d)?;
        let items = self.gpu.read::<f32>(&self.items.factors, 0, self.items.rows * d)?;
        Ok((users, items))
    }
}
