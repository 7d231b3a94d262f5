//! The WGSL sources, loaded in one place from the top-level `shaders/`
//! folder, and each kernel's source put together from them: every training
//! kernel starts with `constants.wgsl`, so every one of their pipelines takes
//! the same constants.

/// A file of the top-level `shaders/` folder, embedded at build time.
macro_rules! wgsl {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shaders/", $name))
    };
}

/// The model's pipeline-overridable constants.
const CONSTANTS: &str = wgsl!("constants.wgsl");
/// Register tiling shared by the two Gram kernels.
const TILE: &str = wgsl!("tile.wgsl");
/// YᵀY: partial sums per chunk of rows, then their reduction.
const GRAM: &str = wgsl!("gram.wgsl");
/// Bindings and interaction terms shared by the row kernels.
const ROW_COMMON: &str = wgsl!("row_common.wgsl");
/// Per-row normal-equation matrices for a batch.
const ROW_GRAM: &str = wgsl!("row_gram.wgsl");
/// Batched Cholesky solve.
const CHOLESKY: &str = wgsl!("cholesky.wgsl");
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
    /// The kernel's whole source.
    pub fn source(self) -> String {
        let parts: &[&str] = match self {
            Kernel::Gram => &[CONSTANTS, TILE, GRAM],
            Kernel::RowGram => &[CONSTANTS, ROW_COMMON, TILE, ROW_GRAM],
            Kernel::Cholesky => &[CONSTANTS, ROW_COMMON, CHOLESKY],
            Kernel::Cg => &[CONSTANTS, ROW_COMMON, CG],
            Kernel::Loss => &[CONSTANTS, ROW_COMMON, LOSS],
            Kernel::TopK => &[TILE, TOPK],
        };
        parts.join("\n")
    }
}
