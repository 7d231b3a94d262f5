//! The k best items of every user on the GPU (`recommend --all --device
//! gpu`), with `wgsl/topk.wgsl`: users go in batches, each batch's user
//! factors, score constants and seen items uploaded and its candidates read
//! back (16 lists of k per user, merged here), so host memory stays bounded
//! by one batch. The item factors stay on the device. On a software adapter,
//! whose shader loops stop after 65,535 iterations, the items are scored in
//! ranges small enough for that, and the candidates of every range merged.

use std::ops::Range;

use gramrec_core::topk::better;
use gramrec_core::{set, Error, Result};
use gramrec_wgsl::top_k_items_per_workgroup;

use super::context::Gpu;
use super::kernels::{layout, pipeline, top_k_pipeline, Access};
use super::{bind, SOFTWARE_LOOP_LIMIT};
use crate::backend::{TopKScorer, TopKTable};
use crate::config::GpuOptions;

/// The longest list the kernel keeps per user (each thread holds 4 × k
/// candidates in registers or local memory).
pub const MAX_K: usize = 128;
/// Lists per user: one per column of the 16 × 16 threads.
const COLUMNS: u64 = 16;
/// Users per workgroup, and items per tile.
const TILE: u64 = gramrec_wgsl::TILE as u64;
/// At most this many users per batch.
const MAX_BATCH_USERS: u64 = 16 * 1024;
/// "No item" in a candidate slot.
const NONE: u32 = u32::MAX;

/// The compiled kernel and the resident items.
pub struct GpuTopK {
    gpu: Gpu,
    layout: wgpu::BindGroupLayout,
    pipeline: wgpu::ComputePipeline,
    items: wgpu::Buffer,
    offsets: wgpu::Buffer,
    factors: usize,
    k: usize,
    /// Item ranges scored one dispatch each.
    passes: Vec<Range<u32>>,
    batch_users: usize,
}

impl GpuTopK {
    /// Uploads the table's items and their score terms, and compiles the
    /// kernel for its lists of `k`.
    pub fn new(table: TopKTable<'_>, options: GpuOptions) -> Result<Self> {
        let TopKTable { items, factors, offsets, k, longest_seen } = table;
        if k == 0 || k > MAX_K {
            return Err(Error::Gpu(format!(
                "the GPU keeps at most {MAX_K} items per user, not {k}; use {}",
                set("device", "cpu")
            )));
        }
        let count = items.len() / factors.max(1);
        let gpu = Gpu::open(options).map_err(|e| Error::Gpu(e.to_string()))?;
        let storage = wgpu::BufferUsages::STORAGE;
        let zeros;
        let offsets = match offsets {
            Some(o) => o,
            None => {
                zeros = vec![0.0f32; count];
                &zeros
            }
        };
        let item_buffer = gpu.upload("item factors", items, storage)?;
        let offset_buffer = gpu.upload("item score terms", offsets, storage)?;
        use Access::*;
        let layout = layout(&gpu, "top k", &[Uniform, Read, Read, Read, Read, Read, Read, ReadWrite]);
        let pipeline = pipeline(&gpu, &top_k_pipeline(factors, k), &layout);
        gpu.check().map_err(|e| Error::Gpu(format!("the top-k shader failed to compile: {e}")))?;
        let per_pass = if gpu.is_software() {
            top_k_items_per_workgroup(factors, k, longest_seen, SOFTWARE_LOOP_LIMIT).ok_or_else(|| {
                Error::Gpu(format!(
                    "{} is a software driver that stops shader loops after {SOFTWARE_LOOP_LIMIT} iterations, too \
                     few for {factors} factors and top {k}; use {}",
                    gpu.name(),
                    set("device", "cpu")
                ))
            })?
        } else {
            count.max(1) as u64
        };
        let passes = (0..count as u64)
            .step_by(per_pass as usize)
            .map(|a| a as u32..(a + per_pass).min(count as u64) as u32)
            .collect();
        let out_per_user = COLUMNS * k as u64 * 8;
        let batch = (gpu.max_binding() / out_per_user).min(MAX_BATCH_USERS) / TILE * TILE;
        if batch == 0 {
            return Err(Error::Gpu(format!(
                "the GPU's buffers are too small for top-k lists; use {}",
                set("device", "cpu")
            )));
        }
        Ok(Self {
            gpu,
            layout,
            pipeline,
            items: item_buffer,
            offsets: offset_buffer,
            factors,
            k,
            passes,
            batch_users: batch as usize,
        })
    }

    /// Each user's candidates for the items of every pass, merged: the batch's
    /// buffers are uploaded once, then one dispatch and one read-back per pass.
    fn candidates(&self, users: &[f32], constants: &[f32], seen: (&[u32], &[u32])) -> Result<Vec<Vec<(usize, f32)>>> {
        let n = constants.len() as u64;
        let storage = wgpu::BufferUsages::STORAGE;
        let users = self.gpu.upload("user factors", users, storage)?;
        let constants = self.gpu.upload("user score terms", constants, storage)?;
        let seen_index = self.gpu.upload("seen offsets", seen.0, storage)?;
        let seen_items = self.gpu.upload("seen items", seen.1, storage)?;
        let out = self.gpu.scratch("top-k candidates", n * COLUMNS * self.k as u64 * 8)?;
        let per_user = COLUMNS as usize * self.k;
        let mut merged: Vec<Vec<(usize, f32)>> = vec![Vec::new(); n as usize];
        for pass in &self.passes {
            // One workgroup row: the pass's items are one span.
            let span = pass.end - pass.start;
            let shape =
                self.gpu.upload("top-k shape", &[n as u32, pass.start, pass.end, span], wgpu::BufferUsages::UNIFORM)?;
            let buffers = [&shape, &users, &self.items, &self.offsets, &constants, &seen_index, &seen_items, &out];
            let group = bind(&self.gpu, &self.layout, &buffers);
            let mut encoder = self.gpu.encoder();
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
                pass.set_pipeline(&self.pipeline);
                pass.set_bind_group(0, &group, &[]);
                pass.dispatch_workgroups(n.div_ceil(TILE) as u32, 1, 1);
            }
            self.gpu.run(encoder)?;
            let found = self.gpu.read::<[u32; 2]>(&out, 0, n as usize * per_user)?;
            for (list, slots) in merged.iter_mut().zip(found.chunks(per_user)) {
                list.extend(slots.iter().filter(|[_, i]| *i != NONE).map(|&[s, i]| (i as usize, f32::from_bits(s))));
                list.sort_unstable_by(better);
                list.truncate(self.k);
            }
        }
        Ok(merged)
    }
}

impl TopKScorer for GpuTopK {
    fn describe(&self) -> String {
        format!("gpu {}", self.gpu.name())
    }

    fn batch(&self) -> usize {
        self.batch_users
    }

    fn top_k(&self, users: &[f32], constants: &[f32], excludes: &[&[usize]]) -> Result<Vec<Vec<(usize, f32)>>> {
        assert!(constants.len() <= self.batch_users && users.len() == constants.len() * self.factors);
        let mut index = vec![0u32];
        let mut items = Vec::new();
        for e in excludes {
            let mut sorted: Vec<u32> = e.iter().map(|&i| i as u32).collect();
            sorted.sort_unstable();
            items.extend(sorted);
            index.push(items.len() as u32);
        }
        self.candidates(users, constants, (&index, &items))
    }
}
