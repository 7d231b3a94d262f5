// Shared by the per-row kernels (row_gram, cholesky, cg, loss): the bindings
// they all read, and the terms each interaction adds
// to a row's normal equations (the same as gramrec_core::normal_eq):
//
// * explicit: z = [y, 1] (the 1 only with biases), w = 1, t = r − μ − c;
// * implicit: z = y, w = c − α₀, t = c·[r > 0], with c the confidence of r
//   and α₀ = UNOBSERVED the weight of the unobserved pairs.
//
// A row solves (α₀YᵀY [implicit] + shift·I + Σ w z zᵀ) x = Σ t z.
// Needs constants.wgsl.

// Which rows a dispatch covers: positions first .. first + count of the
// dispatch order.
// Each dispatch covers rows of one chunk of the side's CSR (a run of whole
// rows whose interactions fit one binding; crates/gramrec-als/src/backend/
// gpu/chunks.rs).
struct Rows {
    count: u32,
    first: u32,
    // loss only: 1 when the data terms are wanted, 0 for the regulariser alone.
    data_terms: u32,
    // Rows of the chunk.
    total: u32,
    // The chunk's first row, in the side's numbering.
    row_base: u32,
    // Rows of the fixed side (N of frequency-scaled regularisation).
    other_rows: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> rows: Rows;
// The chunk's offsets relative to its first interaction (total + 1), then its
// rows in dispatch order (total, the side's row numbers): one buffer, so that
// the row kernels bind 8 storage buffers, WebGPU's default.
@group(0) @binding(1) var<storage, read> row_index: array<u32>;
// The chunk's interactions.
@group(0) @binding(2) var<storage, read> cols: array<u32>;
@group(0) @binding(3) var<storage, read> vals: array<f32>;
// The fixed side's factors and this side's (read by the loss, written by the
// solves), as constants.wgsl stores them.
@group(0) @binding(4) var<storage, read> other: array<u32>;
// YᵀY (implicit models); with BAYES, the drawn side's prior instead:
// Λ (D×D), Λμ (D), then PRIOR_HEADER words (τ, the half-iteration, the seed
// and the user count, the last two as 16-bit parts), then 4 words per user
// row and per item row: the FNV-1a hash of its ID as 16-bit parts. Every
// word the keys use is a whole number below 65,536, exact in f32
// (gramrec-als's backend/gpu/mod.rs writes them).
@group(0) @binding(5) var<storage, read> gram: array<f32>;
@group(0) @binding(7) var<storage, read_write> solved: array<u32>;
// Bindings 6 (the batch's matrices) and 8 (status or loss partials) are
// declared by the kernels that use them.

var<workgroup> row_span: vec2<u32>;
// A vector of D elements shared by the workgroup (the CG kernel's
// multiplicand, the Cholesky kernel's right-hand side), from which
// `store_row` writes a solution.
var<workgroup> row_vector: array<f32, D>;
var<workgroup> row_flag: u32;

// The dispatch is two-dimensional when it has more than 65,535 workgroups.
fn group_index(wg: vec3<u32>, groups: vec3<u32>) -> u32 {
    return wg.x + wg.y * groups.x;
}

// The row at `position` in the dispatch order.
fn row_at(position: u32) -> u32 {
    return row_index[rows.total + 1u + position];
}

// Element k of the fixed side's row c, and of this side's row `row`.
fn other_factor(c: u32, k: u32) -> f32 {
    return element(other[word_of(c, k)], k);
}

fn solved_factor(row: u32, k: u32) -> f32 {
    return element(solved[word_of(row, k)], k);
}

// A row without interactions gets the zero vector (as on the CPU).
fn clear_row(row: u32, li: u32) {
    for (var w = li; w < STRIDE; w += ROW_THREADS) {
        solved[row * STRIDE + w] = 0u;
    }
}

// Whether a solution element can be stored: finite, and within f16's range
// when the factors are f16.
fn storable(v: f32) -> bool {
    if HALF {
        return abs(v) <= HALF_MAX;
    }
    return is_finite(v);
}

// Whether `ok` holds in every thread: the same answer in all of them. Called
// at most once per workgroup.
fn all_hold(ok: bool) -> bool {
    if !ok {
        row_flag = 1u;
    }
    return workgroupUniformLoad(&row_flag) == 0u;
}

// Writes row_vector as this side's row `row` (after a barrier).
fn store_row(row: u32, li: u32) {
    for (var w = li; w < STRIDE; w += ROW_THREADS) {
        if HALF {
            var pair = vec2<f32>(row_vector[2u * w], 0.0);
            if 2u * w + 1u < D {
                pair.y = row_vector[2u * w + 1u];
            }
            solved[row * STRIDE + w] = pack2x16float(pair);
        } else {
            solved[row * D + w] = bitcast<u32>(row_vector[w]);
        }
    }
}

// What a one-row-per-workgroup kernel works on: the workgroup's slot in the
// dispatch, its row, and the row's interactions [span.x, span.y). `solve` is
// false past the dispatch's rows, and for a row without interactions, which
// is given the zero vector here (as on the CPU) — except with BAYES, where
// it is drawn from the prior like any other.
struct RowWork {
    slot: u32,
    row: u32,
    span: vec2<u32>,
    solve: bool,
}

fn row_work(wg: vec3<u32>, groups: vec3<u32>, li: u32) -> RowWork {
    var work = RowWork(group_index(wg, groups), 0u, vec2<u32>(0u, 0u), false);
    if work.slot >= rows.count {
        return work;
    }
    work.row = row_at(rows.first + work.slot);
    work.span = interactions_of(work.row, li);
    // A Bayesian row without interactions is drawn from the prior alone.
    if work.span.x == work.span.y && !BAYES {
        clear_row(work.row, li);
        return work;
    }
    work.solve = true;
    return work;
}

// [begin, end) of `row`'s interactions within the chunk, the same in every
// thread (so it may bound loops that contain barriers). `li`: the thread's
// local index.
fn interactions_of(row: u32, li: u32) -> vec2<u32> {
    if li == 0u {
        let local = row - rows.row_base;
        row_span = vec2<u32>(row_index[local], row_index[local + 1u]);
    }
    return workgroupUniformLoad(&row_span);
}

// The confidence of a value, capped as gramrec_core::params::MAX_CONFIDENCE.
fn confidence(r: f32) -> f32 {
    var c = 1.0 + ALPHA * abs(r);
    if LOG_CONFIDENCE {
        c = 1.0 + ALPHA * log(1.0 + abs(r) / EPSILON);
    }
    return min(c, MAX_CONFIDENCE);
}

// The diagonal added for a row with n interactions.
fn shift(n: u32) -> f32 {
    if REG_SCALING == 1u {
        return REG * f32(n);
    }
    if REG_SCALING == 2u {
        return REG * pow(f32(n) + UNOBSERVED * f32(rows.other_rows), REG_EXPONENT);
    }
    return REG;
}

// Element k of z for the other side's row c.
fn z(c: u32, k: u32) -> f32 {
    if k < F {
        return other_factor(c, k);
    }
    if BIASES && k == F {
        return 1.0;
    }
    return 0.0;
}

// (w, t) of an interaction with the other side's row c and value r.
fn terms(c: u32, r: f32) -> vec2<f32> {
    if IMPLICIT {
        let conf = confidence(r);
        return vec2<f32>(conf - UNOBSERVED, select(0.0, conf, r > 0.0));
    }
    var offset = 0.0;
    if BIASES {
        offset = GLOBAL_MEAN + other_factor(c, F);
    }
    return vec2<f32>(1.0, r - offset);
}

// False for NaN and ±∞: the exponent bits not all set. A bit test, not a
// comparison with the largest f32 (3.4028235e38 as written in decimal is
// above it, which the WGSL spec makes an error: Tint refuses it, naga
// rounds it), and one no compiler may fold away by assuming finite math.
fn is_finite(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

// The words of binding 5 before the rows' keys, after Λ and Λμ (BAYES).
const PRIOR_HEADER: u32 = 8u;

// τ, the noise precision of the half-iteration (BAYES).
fn prior_noise() -> f32 {
    return gram[D * D + D];
}
