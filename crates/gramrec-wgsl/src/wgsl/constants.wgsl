// The model's constants, shared by every kernel: each pipeline is compiled
// with all of them (gramrec's kernels.rs passes the same list to every one),
// so loop bounds and branches are fixed for the model being trained.

override F: u32;
override D: u32;
override IMPLICIT: bool;
override BIASES: bool;
override LOG_CONFIDENCE: bool;
// How λ is scaled per row: 0 not at all, 1 by the row's count n, 2 as
// λ·(n + UNOBSERVED·N)^REG_EXPONENT (gramrec_core::params::RegScaling).
override REG_SCALING: u32;
override REG: f32;
override REG_EXPONENT: f32;
// The weight α₀ of the unobserved pairs (implicit models; 0 for explicit).
override UNOBSERVED: f32;
override ALPHA: f32;
override EPSILON: f32;
override GLOBAL_MEAN: f32;
override CG_STEPS: u32;
// Bayesian PMF: the row kernels draw rows with the prior binding 5 holds
// (row_common.wgsl) instead of solving with λ.
override BAYES: bool;
override MAX_CONFIDENCE: f32;

// Factor storage: one f32 per word, or with HALF two f16 per word (element
// 2j in the low half), each row starting on a word. unpack2x16float and
// pack2x16float are core WGSL, so f16 storage needs no shader-f16 feature;
// all arithmetic stays f32.
override HALF: bool;
// Words per factor row.
override STRIDE: u32 = select(D, (D + 1u) / 2u, HALF);
// The largest finite f16.
const HALF_MAX: f32 = 65504.0;

// The word holding element k of factor row `row`.
fn word_of(row: u32, k: u32) -> u32 {
    if HALF {
        return row * STRIDE + k / 2u;
    }
    return row * D + k;
}

// Element k's value from the word word_of(·, k) holds.
fn element(word: u32, k: u32) -> f32 {
    if HALF {
        return unpack2x16float(word)[k % 2u];
    }
    return bitcast<f32>(word);
}
