// Shared by the per-row kernels (row_gram, cholesky, cg, loss): the bindings
// they all read, and the terms each interaction adds
// to a row's normal equations (the same as gramrec_core::normal_eq):
//
// * explicit: z = [y, 1] (the 1 only with biases), w = 1, t = r − μ − c;
// * implicit: z = y, w = c − 1, t = c·[r > 0], with c the confidence of r.
//
// A row solves (YᵀY [implicit] + shift·I + Σ w z zᵀ) x = Σ t z.
// Needs constants.wgsl.

// Which rows a dispatch covers: positions first .. first + count of the
// dispatch order.
struct Rows {
    count: u32,
    first: u32,
    // loss only: 1 when the data terms are wanted, 0 for the regulariser alone.
    data_terms: u32,
    // Rows of this side.
    total: u32,
}

@group(0) @binding(0) var<uniform> rows: Rows;
// The CSR's offsets (total + 1), then the rows in dispatch order (total): one
// buffer, so that the row kernels bind 8 storage buffers, WebGPU's default.
@group(0) @binding(1) var<storage, read> row_index: array<u32>;
@group(0) @binding(2) var<storage, read> cols: array<u32>;
@group(0) @binding(3) var<storage, read> vals: array<f32>;
@group(0) @binding(4) var<storage, read> other: array<f32>;
@group(0) @binding(5) var<storage, read> gram: array<f32>;
// This side's factors (read by the loss, written by the solves).
@group(0) @binding(7) var<storage, read_write> solved: array<f32>;
// Bindings 6 (the batch's matrices) and 8 (status or loss partials) are
// declared by the kernels that use them.

// Threads per workgroup of the one-row-per-workgroup kernels (cholesky, cg).
const ROW_THREADS: u32 = 64u;

var<workgroup> row_span: vec2<u32>;

// The dispatch is two-dimensional when it has more than 65,535 workgroups.
fn group_index(wg: vec3<u32>, groups: vec3<u32>) -> u32 {
    return wg.x + wg.y * groups.x;
}

// The row at `position` in the dispatch order.
fn row_at(position: u32) -> u32 {
    return row_index[rows.total + 1u + position];
}

// A row without interactions gets the zero vector (as on the CPU).
fn clear_row(row: u32, li: u32) {
    for (var k = li; k < D; k += ROW_THREADS) {
        solved[row * D + k] = 0.0;
    }
}

// What a one-row-per-workgroup kernel works on: the workgroup's slot in the
// dispatch, its row, and the row's interactions [span.x, span.y). `solve` is
// false past the dispatch's rows, and for a row without interactions, which
// is given the zero vector here (as on the CPU).
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
    if work.span.x == work.span.y {
        clear_row(work.row, li);
        return work;
    }
    work.solve = true;
    return work;
}

// [begin, end) of `row`'s interactions, the same in every thread (so it may
// bound loops that contain barriers). `li`: the thread's local index.
fn interactions_of(row: u32, li: u32) -> vec2<u32> {
    if li == 0u {
        row_span = vec2<u32>(row_index[row], row_index[row + 1u]);
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
    if REG_BY_COUNT {
        return REG * f32(n);
    }
    return REG;
}

// Element k of z for the other side's row c.
fn z(c: u32, k: u32) -> f32 {
    if k < F {
        return other[c * D + k];
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
        return vec2<f32>(conf - 1.0, select(0.0, conf, r > 0.0));
    }
    var offset = 0.0;
    if BIASES {
        offset = GLOBAL_MEAN + other[c * D + F];
    }
    return vec2<f32>(1.0, r - offset);
}

// False for NaN and ±∞.
fn is_finite(v: f32) -> bool {
    return abs(v) <= 3.4028235e38;
}
