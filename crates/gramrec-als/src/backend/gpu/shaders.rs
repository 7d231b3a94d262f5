//! The WGSL sources, loaded in one place from the `wgsl/` folder beside
//! this file, and each kernel's source put together from them: every training
//! kernel starts with `constants.wgsl`, so every one of their pipelines takes
//! the same constants.

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
            Kernel::TopK => &[TILING, TOPK],
        };
        shared_sizes() + &parts.join("\n")
    }
}
