// The objective's terms, one workgroup per 64 consecutive rows of a chunk: the threads
// share each row's interactions and factor elements, and the workgroup's sum
// goes to partials[group] = (data, regulariser) in a fixed order; the host
// adds the groups. With rows.data_terms = 1 (the user side) a row adds its
// data terms:
// * explicit: Σ (r − μ − b − c − xᵀy)² over its ratings;
// * implicit: Σ [c (p − xᵀy)² − α₀(xᵀy)²] over its interactions; with
//   α₀xᵀ(YᵀY)x, which the host adds for all users at once as α₀Σ (YᵀY)⊙(XᵀX),
//   this is Σ over all items of c (p − xᵀy)², c = α₀ for unobserved pairs;
// and every row adds shift(n)·‖x‖² (bias included).
// Needs row_common.wgsl.

const WG: u32 = ROW_THREADS;
const ROWS_PER_GROUP: u32 = LOSS_ROWS_PER_GROUP;

@group(0) @binding(8) var<storage, read_write> partials: array<vec2<f32>>;

var<workgroup> sums: array<vec2<f32>, WG>;

// This thread's share of the (data, regulariser) terms of the chunk's row
// `local` (counted from the chunk's first row).
fn row_terms(local: u32, li: u32) -> vec2<f32> {
    let begin = row_index[local];
    let end = row_index[local + 1u];
    let row = rows.row_base + local;
    var norm = 0.0;
    for (var k = li; k < D; k += WG) {
        let x = solved_factor(row, k);
        norm = fma(x, x, norm);
    }
    var data = 0.0;
    if rows.data_terms != 0u {
        for (var idx = begin + li; idx < end; idx += WG) {
            let col = cols[idx];
            let r = vals[idx];
            var s = 0.0;
            for (var k = 0u; k < F; k++) {
                s = fma(solved_factor(row, k), other_factor(col, k), s);
            }
            if IMPLICIT {
                let e = select(0.0, 1.0, r > 0.0) - s;
                data += confidence(r) * e * e - UNOBSERVED * s * s;
            } else {
                var bias = 0.0;
                if BIASES {
                    bias = GLOBAL_MEAN + solved_factor(row, F) + other_factor(col, F);
                }
                let e = r - s - bias;
                data = fma(e, e, data);
            }
        }
    }
    return vec2<f32>(data, shift(end - begin) * norm);
}

@compute @workgroup_size(WG)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let group = group_index(wg, groups);
    let first = group * ROWS_PER_GROUP;
    let last = min(first + ROWS_PER_GROUP, rows.count);
    var t = vec2<f32>(0.0, 0.0);
    for (var local = first; local < last; local++) {
        t += row_terms(local, li);
    }
    sums[li] = t;
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        workgroupBarrier();
        if li < s {
            sums[li] += sums[li + s];
        }
    }
    if li == 0u {
        partials[group] = sums[0];
    }
}
