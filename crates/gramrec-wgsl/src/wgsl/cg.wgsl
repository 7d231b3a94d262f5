// A few warm-started conjugate-gradient steps on each row's normal equations,
// one workgroup per row, without forming the matrix:
// A v = α₀YᵀY v [implicit] + shift·v + Σ w (z·v) z. The residual at the start
// is formed as the CPU forms it, Σ (t − w (z·x)) z − (α₀YᵀY + shift)·x (no b
// summed apart); the steps and their stopping rules are those of
// gramrec_core::linalg::conjugate_gradient.
// Thread l owns elements l, l + 64, … of x, r, p and A p; the vector being
// multiplied lives in workgroup memory (row_vector). Interactions go PIECE at
// a time: their z rows are staged in workgroup memory with coalesced reads,
// LANES threads form each w (z·v), then every thread adds the PIECE terms to
// its elements.
// A row without interactions gets the zero vector; a non-finite result (or,
// with f16 factors, one past f16's range) is reported through status[0] (the
// smallest such row).
// Needs row_common.wgsl.

const WG: u32 = ROW_THREADS;
const PER: u32 = 5u; // elements per thread: D ≤ 320
const TINY: f32 = 1e-20;

@group(0) @binding(8) var<storage, read_write> status: array<atomic<u32>>;

// Interactions staged in workgroup memory at a time, and threads per
// interaction in the dot products z·v: 16 × 4 up to 128 unknowns, 8 × 8 above
// (at most 10 KiB staged, within WebGPU's default 16 KiB).
override PIECE: u32 = select(8u, 16u, D <= 128u);
override LANES: u32 = WG / PIECE;

var<workgroup> staged: array<f32, PIECE * D>;
var<workgroup> piece_scale: array<f32, 16>;
var<workgroup> partial: array<f32, WG>;

// Σ over the workgroup of each thread's `x`, in a fixed order.
fn workgroup_sum(li: u32, x: f32) -> f32 {
    partial[li] = x;
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        workgroupBarrier();
        if li < s {
            partial[li] += partial[li + s];
        }
    }
    let total = workgroupUniformLoad(&partial[0]);
    workgroupBarrier();
    return total;
}

// This thread's elements of A v, for v in workgroup memory; with `residual`,
// of b − A v instead.
fn apply(li: u32, r: vec2<u32>, diagonal: f32, residual: bool) -> array<f32, PER> {
    var out: array<f32, PER>;
    for (var m = 0u; m < PER; m++) {
        let k = li + m * WG;
        if k < D {
            var acc = diagonal * row_vector[k];
            if IMPLICIT && k < F {
                var unobserved = 0.0;
                for (var j = 0u; j < F; j++) {
                    unobserved = fma(gram[j * F + k], row_vector[j], unobserved);
                }
                acc = fma(UNOBSERVED, unobserved, acc);
            }
            out[m] = select(acc, -acc, residual);
        }
    }
    let t = li / LANES;
    let lane = li % LANES;
    for (var s = r.x; s < r.y; s += PIECE) {
        // Stage the piece's z rows: consecutive threads read consecutive elements.
        for (var e = li; e < PIECE * D; e += WG) {
            let row = e / D;
            var value = 0.0;
            if s + row < r.y {
                value = z(cols[s + row], e - row * D);
            }
            staged[e] = value;
        }
        workgroupBarrier();
        var dot = 0.0;
        for (var k = lane; k < D; k += LANES) {
            dot = fma(staged[t * D + k], row_vector[k], dot);
        }
        partial[li] = dot;
        workgroupBarrier();
        if lane == 0u {
            var sum = 0.0;
            for (var q = 0u; q < LANES; q++) {
                sum += partial[li + q];
            }
            var scale = 0.0;
            if s + t < r.y {
                let wt = terms(cols[s + t], vals[s + t]);
                scale = select(wt.x * sum, wt.y - wt.x * sum, residual);
            }
            piece_scale[t] = scale;
        }
        workgroupBarrier();
        let n = min(PIECE, r.y - s);
        for (var i = 0u; i < n; i++) {
            let scale = piece_scale[i];
            for (var m = 0u; m < PER; m++) {
                let k = li + m * WG;
                if k < D {
                    out[m] = fma(scale, staged[i * D + k], out[m]);
                }
            }
        }
        workgroupBarrier();
    }
    return out;
}

@compute @workgroup_size(WG)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let work = row_work(wg, groups, li);
    if !work.solve {
        return;
    }
    let row = work.row;
    let r = work.span;
    let diagonal = shift(r.y - r.x);

    var x: array<f32, PER>;
    for (var m = 0u; m < PER; m++) {
        let k = li + m * WG;
        if k < D {
            x[m] = solved_factor(row, k);
            row_vector[k] = x[m];
        }
    }
    workgroupBarrier();
    var res = apply(li, r, diagonal, true);
    var p: array<f32, PER>;
    var own = 0.0;
    for (var m = 0u; m < PER; m++) {
        p[m] = res[m];
        own = fma(res[m], res[m], own);
    }
    var rs_old = workgroup_sum(li, own);
    for (var step = 0u; step < CG_STEPS; step++) {
        if rs_old < TINY {
            break;
        }
        for (var m = 0u; m < PER; m++) {
            let k = li + m * WG;
            if k < D {
                row_vector[k] = p[m];
            }
        }
        workgroupBarrier();
        let ap = apply(li, r, diagonal, false);
        own = 0.0;
        for (var m = 0u; m < PER; m++) {
            own = fma(p[m], ap[m], own);
        }
        let p_ap = workgroup_sum(li, own);
        if !(p_ap > 0.0) {
            break;
        }
        let alpha = rs_old / p_ap;
        own = 0.0;
        for (var m = 0u; m < PER; m++) {
            x[m] = fma(alpha, p[m], x[m]);
            res[m] = fma(-alpha, ap[m], res[m]);
            own = fma(res[m], res[m], own);
        }
        let rs_new = workgroup_sum(li, own);
        if rs_new < TINY {
            break;
        }
        let beta = rs_new / rs_old;
        for (var m = 0u; m < PER; m++) {
            p[m] = fma(beta, p[m], res[m]);
        }
        rs_old = rs_new;
    }
    var ok = true;
    for (var m = 0u; m < PER; m++) {
        ok = ok && storable(x[m]);
    }
    if !all_hold(ok) {
        if li == 0u {
            atomicMin(&status[0], row);
        }
        return;
    }
    for (var m = 0u; m < PER; m++) {
        let k = li + m * WG;
        if k < D {
            row_vector[k] = x[m];
        }
    }
    workgroupBarrier();
    store_row(row, li);
}
