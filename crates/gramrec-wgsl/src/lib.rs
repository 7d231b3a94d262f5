//! gramrec's GPU kernels: the WGSL sources, loaded in one place from the
//! `wgsl/` folder beside this file, and each kernel's source put together
//! from them. Every training kernel starts with `constants.wgsl`, so every
//! one of their pipelines takes the same constants.
//!
//! Two hosts run them: the native backend (gramrec-als, through wgpu) runs
//! them all, and the web page (gramrec-wasm hands [`top_k_source`] to
//! `web/webgpu.js`, which runs it on the browser's WebGPU) runs the top-k
//! kernel. Holding the sources here, apart from either host, is what lets
//! both compile the same text.

/// A file of the `wgsl/` folder beside this module, embedded at build time.
macro_rules! wgsl {
    ($name:literal) => {
        include_str!(concat!("wgsl/", $name))
    };
}

/// Output tiles of the Gram and top-k kernels are TILE × TILE, computed by
/// 16 × 16 threads with 4 × 4 outputs each.
pub const TILE: u32 = 64;
/// Rows of the two strips a Gram tile stages in workgroup memory at a time.
pub const STEP: u32 = 16;
/// Threads per workgroup of the one-row-per-workgroup kernels (cholesky, cg,
/// loss).
pub const ROW_THREADS: u32 = 64;
/// Rows per workgroup of the loss kernel.
pub const LOSS_ROWS_PER_GROUP: u32 = 64;

/// The sizes the host and the kernels share, written once (above) and put
/// before every kernel's source as WGSL constants.
fn shared_sizes() -> String {
    [("TILE", TILE), ("STEP", STEP), ("ROW_THREADS", ROW_THREADS), ("LOSS_ROWS_PER_GROUP", LOSS_ROWS_PER_GROUP)]
        .map(|(name, value)| format!("const {name}: u32 = {value}u;\n"))
        .concat()
}

/// Mesa's llvmpipe (lavapipe) silently ends a shader invocation's loops once
/// they have run this many iterations in all: the strictest driver known,
/// so the hosts size each invocation's work under it.
pub const SOFTWARE_LOOP_LIMIT: u64 = 65_535;

/// The model's pipeline-overridable constants.
const CONSTANTS: &str = wgsl!("constants.wgsl");
/// Register tiling shared by the two Gram kernels.
const TILING: &str = wgsl!("tile.wgsl");
/// YᵀY: partial sums per chunk of rows, then their reduction.
const GRAM: &str = wgsl!("gram.wgsl");
/// Bindings and interaction terms shared by the row kernels.
const ROW_COMMON: &str = wgsl!("row_common.wgsl");
/// Per-row normal-equation matrices for a batch.
const ROW_GRAM: &str = wgsl!("row_gram.wgsl");
/// Batched Cholesky solve.
const CHOLESKY: &str = wgsl!("cholesky.wgsl");
/// The rows' normal draws of Bayesian PMF (the Cholesky kernel's).
const PHILOX: &str = wgsl!("philox.wgsl");
/// Conjugate-gradient steps per row.
const CG: &str = wgsl!("cg.wgsl");
/// The objective's terms.
const LOSS: &str = wgsl!("loss.wgsl");
/// Each user's best items (`recommend --all`).
const TOPK: &str = wgsl!("topk.wgsl");

/// The kernels, by what they compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// YᵀY (entry points `partial_gram` and `reduce`).
    Gram,
    /// Per-row matrices of a Cholesky batch.
    RowGram,
    /// Cholesky factorisation and solve of a batch.
    Cholesky,
    /// Conjugate-gradient steps.
    Cg,
    /// The objective's terms.
    Loss,
    /// Each user's best items, for a batch of users (not a training kernel:
    /// its constants are its own, and its list length comes first, as
    /// `const K`).
    TopK,
}

impl Kernel {
    /// The kernel's whole source: the shared sizes, then its parts.
    pub fn source(self) -> String {
        let parts: &[&str] = match self {
            Kernel::Gram => &[CONSTANTS, TILING, GRAM],
            Kernel::RowGram => &[CONSTANTS, ROW_COMMON, TILING, ROW_GRAM],
            Kernel::Cholesky => &[CONSTANTS, ROW_COMMON, PHILOX, CHOLESKY],
            Kernel::Cg => &[CONSTANTS, ROW_COMMON, CG],
            Kernel::Loss => &[CONSTANTS, ROW_COMMON, LOSS],
            Kernel::TopK => TOP_K_PARTS,
        };
        assemble(parts)
    }
}

/// The top-k kernel's parts: named apart from the others so that a host
/// that runs only this kernel (the web page's module) carries only its text.
const TOP_K_PARTS: &[&str] = &[TILING, TOPK];

/// A kernel's whole source: the shared sizes, then its parts.
fn assemble(parts: &[&str]) -> String {
    shared_sizes() + &parts.join("\n")
}

/// The top-k kernel's whole source for lists of `k` (its `const K` first:
/// private arrays need a fixed size). Its one pipeline constant is `F`, the
/// factors per item.
pub fn top_k_source(k: usize) -> String {
    format!("const K: u32 = {k}u;\n{}", assemble(TOP_K_PARTS))
}

/// How many items one workgroup of the top-k kernel may score (a multiple
/// of [`TILE`]) on a driver that ends an invocation's loops after
/// `loop_limit` iterations in all ([`SOFTWARE_LOOP_LIMIT`]), for lists of
/// `k` over `factors` factors and a user with at most `longest_seen` seen
/// items; `None` when not even one tile fits. Half the limit is used, for
/// the loops this count leaves out.
pub fn top_k_items_per_workgroup(factors: usize, k: usize, longest_seen: usize, loop_limit: u64) -> Option<u64> {
    // Loop iterations per tile of 64 items: the factor strips, then 16
    // candidates, each maybe rescanning a list of k; the seen cursor adds
    // at most `longest_seen` in all.
    let per_tile = (factors as u64).div_ceil(STEP as u64) * 24 + 16 * (k as u64 + 2);
    let room = (loop_limit / 2).saturating_sub(longest_seen as u64 + 4 * k as u64 + 8);
    let tiles = room / per_tile;
    (tiles > 0).then_some(tiles * TILE as u64)
}
