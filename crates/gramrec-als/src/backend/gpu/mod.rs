//! The GPU backend: the same half-iterations as the CPU backend, as WGSL
//! compute kernels run through wgpu (Vulkan, Metal, DX12).
//!
//! Both factor matrices, YᵀY and the scratch space are allocated once and
//! stay on the device; the factors come back once, at the end (f32, or f16
//! with [`GpuStorage::F16`]: half the memory and the gather traffic, f32
//! arithmetic). Each CSR goes in chunks of whole rows that fit one binding
//! (`chunks.rs`), so the data may exceed any one buffer; the chunks stay
//! resident when they fit the memory limit beside the rest, and are otherwise
//! streamed from host memory each half-iteration through two buffers used in
//! turn, the next chunk copied while the current one is solved. A
//! half-iteration reads back one word (the first row that failed, if any)
//! and the objective a few partial sums (and two f×f Gram matrices for
//! implicit models).
//!
//! Work per half-iteration (kernels in `wgsl/`, described in docs/GPU.md):
//! 1. implicit models: YᵀY of the fixed side (`gram.wgsl`);
//! 2. CG: a few conjugate-gradient steps per row, one workgroup each
//!    (`cg.wgsl`); Cholesky: in batches sized to the device's largest binding,
//!    each row's matrix (`row_gram.wgsl`), then its factorisation and solve
//!    (`cholesky.wgsl`).
//!
//! Within a chunk, rows are dispatched longest first (sorted by degree), so
//! that on power-law data the few very long rows start at once and run beside
//! the many short ones instead of trailing at the end.

mod chunks;
mod context;
mod kernels;
mod topk;

use std::time::Instant;

use gramrec_core::text::bytes as human;
use gramrec_core::{set, setting, Error, ModelKind, Result, Side, SolveError, Solver};

pub use context::{Gpu, Unavailable};
use gramrec_wgsl::LOSS_ROWS_PER_GROUP;
use kernels::Kernels;
pub use kernels::{top_k_pipeline, training_pipelines, KernelOptions, PipelineSource, GPU_MAX_FACTORS};
pub use topk::{GpuTopK, MAX_K};

use chunks::Chunk;

use super::{Backend, Conditional, Loss, PhaseTimes, Problem};
use crate::config::{Fault, GpuOptions, GpuStorage, Method};
use crate::driver::id_hash;

/// Most rows per Cholesky batch (the dispatch's workgroup count).
const MAX_BATCH_ROWS: u64 = 65_535;
/// The batch's matrices take at most this much memory.
const MAX_SYSTEMS_BYTES: u64 = 1 << 30;
/// YᵀY is summed in at most this many partial sums of at least
/// `MIN_GRAM_CHUNK_ROWS` rows each.
const MAX_GRAM_CHUNKS: u64 = 256;
const MIN_GRAM_CHUNK_ROWS: u64 = 1024;
/// Output tiles of the Gram kernels are TILE × TILE.
const TILE: u64 = gramrec_wgsl::TILE as u64;
/// "No row failed" in the status word.
const NO_FAILURE: u32 = u32::MAX;
pub(crate) use gramrec_wgsl::SOFTWARE_LOOP_LIMIT;

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
            // Bayesian PMF: the draws (ten Philox rounds each) and a third triangular solve.
            let draw = if p.method == Method::Bayes { per * 10 + d * (per + 1) } else { 0 };
            (per * n + factor + 2 * d * (per + 1) + draw).max(row_gram)
        }
    }
}

/// Where the interactions live during a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// Uploaded once.
    Resident,
    /// Copied from host memory, chunk by chunk, each time they are used.
    Streamed,
}

/// One chunk's interactions on the device (see [`Chunk::index`]).
struct ChunkBuffers {
    index: wgpu::Buffer,
    cols: wgpu::Buffer,
    vals: wgpu::Buffer,
}

/// One side's data on the device.
struct SideBuffers {
    rows: usize,
    chunks: Vec<Chunk>,
    /// Resident: one set per chunk. Streamed: [`slots`] sets sized for the
    /// largest chunk, chunk c in set c % slots, and each chunk's index kept
    /// on the host.
    data: Vec<ChunkBuffers>,
    host_index: Vec<Vec<u32>>,
    factors: wgpu::Buffer,
}

/// Prepared dispatches for one chunk of a side.
struct ChunkPlan {
    /// Solving the chunk: (bind group, rows) per batch; CG has one batch.
    batches: Vec<(wgpu::BindGroup, u32)>,
    /// The chunk's objective terms, and the buffer of per-workgroup sums.
    loss: wgpu::BindGroup,
    loss_partials: wgpu::Buffer,
    loss_groups: (u32, u32),
}

/// Prepared dispatches for one side.
struct SidePlan {
    /// YᵀY of this side's factors, and its partial-sum count.
    gram: wgpu::BindGroup,
    gram_chunks: u32,
    chunks: Vec<ChunkPlan>,
}

/// Buffer sets a streamed side uses in turn for `chunks` chunks: two, so the
/// next chunk is copied while one is solved (one when there is only one).
fn slots(chunks: usize) -> usize {
    chunks.clamp(1, 2)
}

/// Words per factor row on the device.
fn stride(d: usize, storage: GpuStorage) -> usize {
    match storage {
        GpuStorage::F32 => d,
        GpuStorage::F16 => d.div_ceil(2),
    }
}

/// Factors (rows × `d`) as the kernels store them (`wgsl/constants.wgsl`):
/// f32 bits, or f16 pairs with element 2j in the low half.
fn to_device(values: &[f32], d: usize, storage: GpuStorage) -> Vec<u32> {
    match storage {
        GpuStorage::F32 => bytemuck::cast_slice(values).to_vec(),
        GpuStorage::F16 => {
            let bits = |v: Option<&f32>| v.map_or(0, |&v| half::f16::from_f32(v).to_bits() as u32);
            values
                .chunks(d.max(1))
                .flat_map(|row| row.chunks(2).map(move |p| bits(p.first()) | bits(p.get(1)) << 16))
                .collect()
        }
    }
}

/// The inverse of [`to_device`] for `rows` rows.
fn from_device(words: &[u32], rows: usize, d: usize, storage: GpuStorage) -> Vec<f32> {
    match storage {
        GpuStorage::F32 => bytemuck::cast_slice(words).to_vec(),
        GpuStorage::F16 => {
            let value = |bits: u32| half::f16::from_bits(bits as u16).to_f32();
            let per = stride(d, storage);
            (0..rows).flat_map(|r| (0..d).map(move |k| value(words[r * per + k / 2] >> (16 * (k % 2))))).collect()
        }
    }
}

/// Bytes of device memory a run needs besides the interactions: the estimate
/// checked against the memory limit before anything is allocated.
fn fixed_memory(p: &Problem<'_>, batch_rows: u64, storage: GpuStorage) -> u64 {
    let (f, d) = (p.params.factors as u64, p.params.dim() as u64);
    let data = p.data;
    let rows = (data.users.len() + data.items.len()) as u64;
    let factors = 4 * stride(d as usize, storage) as u64 * rows;
    let gram = 4 * (f * f).max(prior_words(p) as u64) + 4 * f * f * MAX_GRAM_CHUNKS;
    let systems = if p.solver.solver == Solver::Cholesky { 4 * d * d * batch_rows } else { 0 };
    let readback = 4 * d * data.users.len().max(data.items.len()) as u64;
    factors + gram + systems + readback + 16 * rows / LOSS_ROWS_PER_GROUP as u64
}

/// Words of the Bayesian prior buffer (binding 5, `wgsl/row_common.wgsl`):
/// Λ, Λμ, the header and 4 words of key per row of either side; 0 for ALS.
fn prior_words(p: &Problem<'_>) -> usize {
    let d = p.params.dim();
    match p.method {
        Method::Als => 0,
        Method::Bayes => d * d + d + PRIOR_HEADER + 4 * (p.data.users.len() + p.data.items.len()),
    }
}

/// Words between Λμ and the rows' keys in the prior buffer.
const PRIOR_HEADER: usize = 8;

/// A 64-bit value as four 16-bit parts, each exact in f32 (the prior
/// buffer's keys, seed and counts).
fn parts(v: u64) -> [f32; 4] {
    [0, 16, 32, 48].map(|shift| ((v >> shift) & 0xffff) as f32)
}

/// The prior buffer up to the keys, for one half-iteration: Λ, Λμ, τ, the
/// half-iteration, the seed and the user count.
fn prior_head(c: &Conditional<'_>, users: usize) -> Vec<f32> {
    let mut words = c.prior.precision.clone();
    words.extend(c.prior.shift());
    words.extend([c.noise, c.half as f32]);
    words.extend(parts(c.seed));
    words.extend(&parts(users as u64)[..2]);
    words
}

/// Each row's key (the hash of its ID, as the CPU's draws are keyed), for
/// the prior buffer after its head.
fn prior_keys(data: &gramrec_data::Dataset) -> Vec<f32> {
    data.users.iter().chain(&data.items).flat_map(|id| parts(id_hash(id))).collect()
}

/// Resident or streamed, from the bytes each needs (the fixed part
/// included), or why neither fits the limit.
fn placement(resident: u64, streamed: u64, options: &GpuOptions) -> Result<(Placement, u64)> {
    if options.stream {
        return Ok((Placement::Streamed, streamed));
    }
    match options.memory_limit {
        Some(limit) if resident > limit && streamed < resident && streamed <= limit => {
            Ok((Placement::Streamed, streamed))
        }
        Some(limit) if resident > limit => {
            let streaming = if streamed < resident {
                format!(" (streaming the interactions from host memory would need {})", human(streamed))
            } else {
                String::new()
            };
            Err(Error::Gpu(format!(
                "training needs about {} of GPU memory but {} allows {}{streaming}; use fewer {}, {}, filter \
                 rare users and items, or {}",
                human(resident),
                setting("gpu_memory_limit"),
                human(limit),
                setting("factors"),
                set("gpu_storage", "f16"),
                set("device", "cpu")
            )))
        }
        _ => Ok((Placement::Resident, resident)),
    }
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
    placement: Placement,
    storage: GpuStorage,
    halves: usize,
    fault: Option<Fault>,
    memory: u64,
}

/// Workgroups for `n` rows, two-dimensional past the per-dimension limit.
fn groups_2d(n: u32, max_per_dim: u32) -> (u32, u32) {
    let x = n.clamp(1, max_per_dim);
    (x, n.div_ceil(x).max(1))
}

/// The uniform of a dispatch over a chunk's rows (`Rows` in
/// `wgsl/row_common.wgsl`).
fn rows_uniform(
    gpu: &Gpu,
    count: u32,
    first: u32,
    data_terms: bool,
    chunk: &Chunk,
    other_rows: usize,
) -> Result<wgpu::Buffer> {
    let (rows, base) = (chunk.rows.len() as u32, chunk.rows.start as u32);
    let words = [count, first, u32::from(data_terms), rows, base, other_rows as u32, 0, 0];
    gpu.upload("rows", &words, wgpu::BufferUsages::UNIFORM)
}

/// A bind group of `buffers` at bindings 0, 1, ….
pub(super) fn bind(gpu: &Gpu, layout: &wgpu::BindGroupLayout, buffers: &[&wgpu::Buffer]) -> wgpu::BindGroup {
    let entries: Vec<wgpu::BindGroupEntry> = buffers
        .iter()
        .enumerate()
        .map(|(i, b)| wgpu::BindGroupEntry { binding: i as u32, resource: b.as_entire_binding() })
        .collect();
    gpu.device.create_bind_group(&wgpu::BindGroupDescriptor { label: None, layout, entries: &entries })
}

/// How a problem is laid out on a GPU, decided before anything is
/// allocated there.
struct Layout {
    /// Rows per Cholesky batch (0 with CG).
    batch_rows: u64,
    /// Each side's interactions, cut into runs of whole rows that fit one binding.
    chunks: [Vec<Chunk>; 2],
    /// Whether the interactions stay on the device or are streamed.
    placement: Placement,
    /// Bytes of device memory the run will hold.
    memory: u64,
}

impl Layout {
    /// Chooses the batch size, the chunks and their placement, and refuses
    /// what this GPU cannot run: too many factors, too little memory, rows
    /// too long for a software driver.
    fn plan(p: &Problem<'_>, gpu: &Gpu, options: &GpuOptions) -> Result<Self> {
        let d = p.params.dim() as u64;
        let batch_rows = if p.solver.solver == Solver::Cholesky {
            let most = (p.data.users.len().max(p.data.items.len()) as u64).max(1);
            let fits = gpu.max_binding().min(MAX_SYSTEMS_BYTES) / (4 * d * d);
            fits.min(MAX_BATCH_ROWS).min(most).min(options.batch_rows.unwrap_or(u64::MAX)).max(1)
        } else {
            0
        };
        let binding = gpu.max_binding() / 4;
        let most = options.chunk_interactions.unwrap_or(binding);
        let user_chunks = chunks::split(&p.data.by_user, most, binding, "user")?;
        let item_chunks = chunks::split(&p.data.by_item, most, binding, "item")?;
        let fixed = fixed_memory(p, batch_rows, options.storage);
        let all = |c: &[Chunk]| c.iter().map(Chunk::bytes).sum::<u64>();
        let in_turn = |c: &[Chunk]| slots(c.len()) as u64 * c.iter().map(Chunk::bytes).max().unwrap_or(0);
        let resident = fixed + all(&user_chunks) + all(&item_chunks);
        let streamed = fixed + in_turn(&user_chunks) + in_turn(&item_chunks);
        let (placement, memory) = placement(resident, streamed, options)?;
        if gpu.is_software() {
            let longest = p.data.by_user.max_degree().max(p.data.by_item.max_degree());
            let loops = loop_iterations(p);
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
        Ok(Self { batch_rows, chunks: [user_chunks, item_chunks], placement, memory })
    }

    /// Uploads one side: its chunks' interactions (or, streamed, the buffer
    /// sets they take turns in) and its starting factors (rows × `d`).
    fn upload(
        &self,
        gpu: &Gpu,
        csr: &gramrec_data::Csr,
        chunks: Vec<Chunk>,
        factors: &[f32],
        (d, storage): (usize, GpuStorage),
        name: &str,
    ) -> Result<SideBuffers> {
        let usage = wgpu::BufferUsages::STORAGE;
        let upload = |c: &Chunk| -> Result<ChunkBuffers> {
            Ok(ChunkBuffers {
                index: gpu.upload(&format!("{name} offsets and order"), &c.index(csr), usage)?,
                cols: gpu.upload(&format!("{name} interactions"), &csr.indices[c.interactions.clone()], usage)?,
                vals: gpu.upload(&format!("{name} values"), &csr.values[c.interactions.clone()], usage)?,
            })
        };
        let (data, host_index) = match self.placement {
            Placement::Resident => (chunks.iter().map(upload).collect::<Result<Vec<_>>>()?, Vec::new()),
            Placement::Streamed => {
                let rows = chunks.iter().map(|c| c.rows.len() as u64).max().unwrap_or(0);
                let interactions = chunks.iter().map(|c| c.interactions.len() as u64).max().unwrap_or(0);
                let slot = || -> Result<ChunkBuffers> {
                    Ok(ChunkBuffers {
                        index: gpu.scratch(&format!("{name} offsets and order"), 4 * (2 * rows + 1))?,
                        cols: gpu.scratch(&format!("{name} interactions"), 4 * interactions)?,
                        vals: gpu.scratch(&format!("{name} values"), 4 * interactions)?,
                    })
                };
                let data = (0..slots(chunks.len())).map(|_| slot()).collect::<Result<Vec<_>>>()?;
                (data, chunks.iter().map(|c| c.index(csr)).collect())
            }
        };
        let words = to_device(factors, d, storage);
        Ok(SideBuffers {
            rows: csr.rows(),
            chunks,
            data,
            host_index,
            factors: gpu.upload(&format!("{name} factors"), &words, usage)?,
        })
    }
}

/// The buffers both sides' dispatches share.
struct Shared {
    /// YᵀY of the side last fixed.
    gram: wgpu::Buffer,
    /// Its partial sums, one per chunk of rows.
    partials: wgpu::Buffer,
    /// A Cholesky batch's matrices.
    systems: wgpu::Buffer,
    /// The first row a solve could not finish ([`NO_FAILURE`] if none).
    status: wgpu::Buffer,
}

impl Shared {
    /// Allocates them for `f` factors, `d` unknowns per row, Cholesky
    /// batches of `batch_rows` rows and a Bayesian prior of `prior` words
    /// (which binding 5 holds instead of YᵀY).
    fn new(gpu: &Gpu, f: u64, d: u64, batch_rows: u64, prior: usize) -> Result<Self> {
        Ok(Self {
            gram: gpu.scratch("YᵀY or prior", 4 * (f * f).max(prior as u64))?,
            partials: gpu.scratch("YᵀY partial sums", 4 * f * f * MAX_GRAM_CHUNKS)?,
            systems: gpu.scratch("row matrices", 4 * d * d * batch_rows)?,
            status: gpu.scratch("status", 4)?,
        })
    }

    /// Binds one side's dispatches once for the whole run: YᵀY of its
    /// factors, each chunk's solve batches (solving `this` against `other`)
    /// and its objective terms (`data_terms`: the user side adds the
    /// interactions' terms, which both sides share).
    fn bind(
        &self,
        (gpu, kernels): (&Gpu, &Kernels),
        this: &SideBuffers,
        other: &SideBuffers,
        batch_rows: Option<u64>,
        data_terms: bool,
    ) -> Result<SidePlan> {
        let max_dim = gpu.limits().max_compute_workgroups_per_dimension;
        let n = this.rows as u64;
        let chunk_rows = n.div_ceil(MAX_GRAM_CHUNKS).max(MIN_GRAM_CHUNK_ROWS);
        let gram_chunks = n.div_ceil(chunk_rows).max(1);
        let shape = gpu.upload(
            "YᵀY shape",
            &[n as u32, chunk_rows as u32, gram_chunks as u32, 0],
            wgpu::BufferUsages::UNIFORM,
        )?;
        let gram_group = bind(gpu, &kernels.gram_layout, &[&shape, &this.factors, &self.partials, &self.gram]);
        let mut plans = Vec::new();
        for (c, chunk) in this.chunks.iter().enumerate() {
            let data = &this.data[c % this.data.len()];
            let group = |rows: &wgpu::Buffer, out: &wgpu::Buffer| {
                let buffers = [
                    rows,
                    &data.index,
                    &data.cols,
                    &data.vals,
                    &other.factors,
                    &self.gram,
                    &self.systems,
                    &this.factors,
                    out,
                ];
                bind(gpu, &kernels.row_layout, &buffers)
            };
            let n = chunk.rows.len() as u64;
            let per_batch = batch_rows.unwrap_or(n);
            let mut batches = Vec::new();
            for first in (0..n).step_by(per_batch.max(1) as usize) {
                let count = per_batch.min(n - first) as u32;
                let rows = rows_uniform(gpu, count, first as u32, false, chunk, other.rows)?;
                batches.push((group(&rows, &self.status), count));
            }
            let (gx, gy) = groups_2d((n as u32).div_ceil(LOSS_ROWS_PER_GROUP), max_dim);
            let loss_partials = gpu.scratch("loss partial sums", 8 * gx as u64 * gy as u64)?;
            let loss = group(&rows_uniform(gpu, n as u32, 0, data_terms, chunk, other.rows)?, &loss_partials);
            plans.push(ChunkPlan { batches, loss, loss_partials, loss_groups: (gx, gy) });
        }
        Ok(SidePlan { gram: gram_group, gram_chunks: gram_chunks as u32, chunks: plans })
    }
}

impl<'a> GpuBackend<'a> {
    /// Opens a GPU and sets the run up there: plans the layout, compiles the
    /// kernels, uploads the problem and the starting factors (rows ×
    /// `params.dim()`), and binds every dispatch once.
    pub fn new(p: Problem<'a>, users: &[f32], items: &[f32], options: GpuOptions) -> Result<Self> {
        if p.params.factors > GPU_MAX_FACTORS {
            return Err(Error::Gpu(format!(
                "the GPU backend supports at most {GPU_MAX_FACTORS} factors, not {}; use {}",
                p.params.factors,
                set("device", "cpu")
            )));
        }
        let gpu = Gpu::open(options).map_err(|e| Error::Gpu(e.to_string()))?;
        let mut layout = Layout::plan(&p, &gpu, &options)?;
        let half = options.storage == GpuStorage::F16;
        let broken = options.fault == Some(Fault::BrokenShader);
        let specialised = KernelOptions {
            global_mean: p.global_mean,
            cg_steps: p.solver.cg_steps,
            half,
            bayes: p.method == Method::Bayes,
        };
        let kernels = Kernels::new(&gpu, &p.params, specialised, broken)?;
        let rows = (p.params.dim(), options.storage);
        let [user_chunks, item_chunks] = std::mem::take(&mut layout.chunks);
        let users = layout.upload(&gpu, &p.data.by_user, user_chunks, users, rows, "user")?;
        let items = layout.upload(&gpu, &p.data.by_item, item_chunks, items, rows, "item")?;
        let (f, d) = (p.params.factors as u64, p.params.dim() as u64);
        let shared = Shared::new(&gpu, f, d, layout.batch_rows, prior_words(&p))?;
        if p.method == Method::Bayes {
            let mut words = vec![0.0f32; prior_words(&p) - 4 * (p.data.users.len() + p.data.items.len())];
            words.extend(prior_keys(p.data));
            gpu.write(&shared.gram, &words);
        }
        let batch_rows = (p.solver.solver == Solver::Cholesky).then_some(layout.batch_rows);
        let plans = [
            shared.bind((&gpu, &kernels), &users, &items, batch_rows, true)?,
            shared.bind((&gpu, &kernels), &items, &users, batch_rows, false)?,
        ];
        gpu.check()?;
        Ok(Self {
            p,
            gpu,
            kernels,
            users,
            items,
            plans,
            gram: shared.gram,
            status: shared.status,
            placement: layout.placement,
            storage: options.storage,
            halves: 0,
            fault: options.fault,
            memory: layout.memory,
        })
    }

    /// Bytes of device memory the run holds (the estimate checked against
    /// the memory limit).
    pub fn memory(&self) -> u64 {
        self.memory
    }

    /// The buffers and the prepared dispatches of one side.
    fn side(&self, side: Side) -> (&SideBuffers, &SidePlan, &'a gramrec_data::Csr) {
        match side {
            Side::Users => (&self.users, &self.plans[0], &self.p.data.by_user),
            Side::Items => (&self.items, &self.plans[1], &self.p.data.by_item),
        }
    }

    /// Streamed runs: queues the copy of chunk `c` of `side` into its buffers,
    /// done on the device before the next submission. (Resident: nothing.)
    fn stage(&self, side: Side, c: usize) {
        if self.placement == Placement::Resident {
            return;
        }
        let (buffers, _, csr) = self.side(side);
        let chunk = &buffers.chunks[c];
        let slot = &buffers.data[c % buffers.data.len()];
        self.gpu.write(&slot.index, &buffers.host_index[c]);
        if !chunk.interactions.is_empty() {
            self.gpu.write(&slot.cols, &csr.indices[chunk.interactions.clone()]);
            self.gpu.write(&slot.vals, &csr.values[chunk.interactions.clone()]);
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
        let (_, plan, _) = self.side(side);
        let f = self.p.params.factors as u64;
        let tiles = f.div_ceil(TILE) as u32;
        let mut encoder = self.gpu.encoder();
        self.dispatch(&mut encoder, &self.kernels.partial_gram, &plan.gram, (tiles, tiles, plan.gram_chunks));
        self.dispatch(&mut encoder, &self.kernels.reduce_gram, &plan.gram, ((f * f).div_ceil(256) as u32, 1, 1));
        self.gpu.run(encoder)
    }

    /// Records one dispatch over `rows` rows, one workgroup per row.
    fn per_row(&self, pipeline: &wgpu::ComputePipeline, group: &wgpu::BindGroup, rows: u32) -> wgpu::CommandEncoder {
        let (x, y) = groups_2d(rows, self.gpu.limits().max_compute_workgroups_per_dimension);
        let mut encoder = self.gpu.encoder();
        self.dispatch(&mut encoder, pipeline, group, (x, y, 1));
        encoder
    }

    /// CG over every chunk of `side`: one submission per chunk, with at most
    /// two in flight, so that a streamed chunk is copied while the one before
    /// it is solved.
    fn cg(&self, side: Side) -> Result<()> {
        let (_, plan, _) = self.side(side);
        let mut previous = None;
        for (c, chunk) in plan.chunks.iter().enumerate() {
            self.stage(side, c);
            let mut last = None;
            for (group, rows) in &chunk.batches {
                last = Some(self.gpu.submit(self.per_row(&self.kernels.cg, group, *rows))?);
            }
            if let Some(done) = std::mem::replace(&mut previous, last) {
                self.gpu.wait(done)?;
            }
        }
        previous.map_or(Ok(()), |last| self.gpu.wait(last))
    }

    /// Counts a half-iteration, and destroys the device when a fault
    /// injected for this one says so.
    fn lose_device_when_due(&mut self) {
        self.halves += 1;
        if self.fault == Some(Fault::LoseDevice(self.halves)) {
            self.gpu.destroy();
        }
    }

    /// The error for the first row of `side` a solve or draw could not
    /// finish (the status word), if any.
    fn failed_row(&self, side: Side, cause: SolveError) -> Result<()> {
        let failed = self.gpu.read::<u32>(&self.status, 0, 1)?[0];
        if failed == NO_FAILURE {
            return Ok(());
        }
        let (name, ids) = match side {
            Side::Users => ("user", &self.p.data.users),
            Side::Items => ("item", &self.p.data.items),
        };
        let id = ids.get(failed as usize).cloned().unwrap_or_else(|| failed.to_string());
        Err(Error::Solve { side: name, id, cause })
    }

    /// Cholesky over every chunk of `side`, batch by batch: the row matrices,
    /// then their solves, timed apart.
    fn cholesky(&self, side: Side, times: &mut PhaseTimes) -> Result<()> {
        let (_, plan, _) = self.side(side);
        let tiles = (self.p.params.dim() as u64).div_ceil(TILE) as u32;
        for (c, chunk) in plan.chunks.iter().enumerate() {
            self.stage(side, c);
            for (group, rows) in &chunk.batches {
                let t0 = Instant::now();
                let mut encoder = self.gpu.encoder();
                self.dispatch(&mut encoder, &self.kernels.row_gram, group, (*rows, tiles, tiles));
                self.gpu.run(encoder)?;
                times.build += t0.elapsed().as_secs_f64();
                let t1 = Instant::now();
                self.gpu.run(self.per_row(&self.kernels.cholesky, group, *rows))?;
                times.solve += t1.elapsed().as_secs_f64();
            }
        }
        Ok(())
    }
}

impl Backend for GpuBackend<'_> {
    fn describe(&self) -> String {
        format!("gpu {}", self.gpu.name())
    }

    fn summary(&self) -> String {
        let mut s = format!("{}, {} of GPU memory", self.describe(), human(self.memory));
        let chunks = self.users.chunks.len() + self.items.chunks.len();
        if chunks > 2 {
            s += &format!(", interactions in {chunks} chunks");
        }
        if self.placement == Placement::Streamed {
            s += ", streamed from host memory";
        }
        if self.storage == GpuStorage::F16 {
            s += ", f16 factors";
        }
        s
    }

    fn solve(&mut self, side: Side) -> Result<PhaseTimes> {
        self.lose_device_when_due();
        let start = Instant::now();
        self.gram_of(side.other())?;
        let mut times = PhaseTimes { build: start.elapsed().as_secs_f64(), solve: 0.0 };
        self.gpu.write(&self.status, &[NO_FAILURE]);
        match self.p.solver.solver {
            Solver::Cg => {
                let t0 = Instant::now();
                self.cg(side)?;
                times.solve += t0.elapsed().as_secs_f64();
            }
            Solver::Cholesky => self.cholesky(side, &mut times)?,
        }
        self.failed_row(side, SolveError::failed(self.p.params.reg))?;
        Ok(times)
    }

    fn draw(&mut self, side: Side, c: &Conditional<'_>) -> Result<PhaseTimes> {
        if self.p.method != Method::Bayes {
            return Err(Error::System("this GPU backend was set up for ALS, not to draw rows".into()));
        }
        self.lose_device_when_due();
        let start = Instant::now();
        self.gpu.write(&self.gram, &prior_head(c, self.users.rows));
        let mut times = PhaseTimes { build: start.elapsed().as_secs_f64(), solve: 0.0 };
        self.gpu.write(&self.status, &[NO_FAILURE]);
        self.cholesky(side, &mut times)?;
        // With a positive definite prior the systems are too: only precision can fail.
        self.failed_row(side, SolveError::Precision)?;
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
            let unobserved = self.p.params.unobserved_weight() as f64;
            loss.data += unobserved * yty.iter().zip(&xtx).map(|(&a, &b)| a as f64 * b as f64).sum::<f64>();
        }
        for side in [Side::Users, Side::Items] {
            let (_, plan, _) = self.side(side);
            for (c, chunk) in plan.chunks.iter().enumerate() {
                self.stage(side, c);
                let (x, y) = chunk.loss_groups;
                let mut encoder = self.gpu.encoder();
                self.dispatch(&mut encoder, &self.kernels.loss, &chunk.loss, (x, y, 1));
                self.gpu.run(encoder)?;
                let partials = self.gpu.read::<[f32; 2]>(&chunk.loss_partials, 0, (x * y) as usize)?;
                for [data, reg] in partials {
                    loss.data += data as f64;
                    loss.reg += reg as f64;
                }
            }
        }
        Ok(loss)
    }

    fn factors(&mut self) -> Result<(Vec<f32>, Vec<f32>)> {
        let d = self.p.params.dim();
        let per = stride(d, self.storage);
        let read = |side: &SideBuffers| -> Result<Vec<f32>> {
            let words = self.gpu.read::<u32>(&side.factors, 0, side.rows * per)?;
            Ok(from_device(&words, side.rows, d, self.storage))
        };
        Ok((read(&self.users)?, read(&self.items)?))
    }
}
