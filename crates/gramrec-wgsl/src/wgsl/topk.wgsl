// The k best items of each user of a batch (`recommend --all` on the GPU,
// and a visitor's recommendations on the page's WebGPU).
//
// Workgroup (x, y) scores users 64x…64x+63 against the items from
// shape.item_begin + y·shape.item_span, span items or to shape.item_end,
// one 64×64 tile at a time, with the register tiling of the
// Gram kernels (tile.wgsl: thread (x, y) computes users 4y…4y+3 × items
// 4x…4x+3 of each tile). Score = x·y + item_offsets[i] + constants[u], the
// same sum in the same order as gramrec_core::scoring. Each thread keeps, per
// user, the K best of the items it sees, skipping the user's seen items
// (sorted, so one cursor per user walks them as the items go up) and NaN;
// the 16 lists of each user go to block y of `out`, and the host merges them (ties: the
// lower item first, as on the CPU). K is a constant put before this source,
// as private arrays need a fixed size. Needs tile.wgsl.

override F: u32;

struct Shape {
    users: u32,
    item_begin: u32,
    item_end: u32,
    // Items per workgroup row (y): more rows score one batch's users
    // against the items in parallel (one user's, in a web page).
    item_span: u32,
}

@group(0) @binding(0) var<uniform> shape: Shape;
// The batch's user factors (users × F) and the items' (items × F).
@group(0) @binding(1) var<storage, read> users: array<f32>;
@group(0) @binding(2) var<storage, read> items: array<f32>;
// Per item and per user terms added to each score.
@group(0) @binding(3) var<storage, read> item_offsets: array<f32>;
@group(0) @binding(4) var<storage, read> constants: array<f32>;
// Each user's seen items: offsets (users + 1), then the sorted items.
@group(0) @binding(5) var<storage, read> seen_index: array<u32>;
@group(0) @binding(6) var<storage, read> seen: array<u32>;
// (score bits, item) per workgroup row (y), user, column of threads (16)
// and slot (K); an empty slot has the item 0xffffffff.
@group(0) @binding(7) var<storage, read_write> out: array<vec2<u32>>;

const NONE: u32 = 0xffffffffu;

// Whether (s, i) ranks above (t, j): a higher score, then a lower item; an
// empty slot ranks below everything.
fn above(s: f32, i: u32, t: f32, j: u32) -> bool {
    if i == NONE || j == NONE {
        return j == NONE && i != NONE;
    }
    return s > t || (s == t && i < j);
}

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let u0 = wg.x * TILE;
    let first = shape.item_begin + wg.y * shape.item_span;
    let last = min(first + shape.item_span, shape.item_end);
    var best_score: array<f32, 4 * K>;
    var best_item: array<u32, 4 * K>;
    var worst: array<u32, 4>;
    var cursor: array<u32, 4>;
    var cursor_end: array<u32, 4>;
    for (var p = 0u; p < 4u; p++) {
        for (var j = 0u; j < K; j++) {
            best_score[p * K + j] = 0.0;
            best_item[p * K + j] = NONE;
        }
        let u = min(u0 + lid.y * 4u + p, shape.users);
        cursor[p] = seen_index[u];
        cursor_end[p] = seen_index[min(u + 1u, shape.users)];
    }
    for (var t0 = first; t0 < last; t0 += TILE) {
        // Zeroed for each tile by its constructor: WGSL zeroes a `var`
        // without one each time it is declared, but Dawn on SwiftShader
        // carries it over from the loop's last turn (web/test/webgpu.test.mjs).
        var acc = array<f32, 16>();
        for (var k0 = 0u; k0 < F; k0 += STEP) {
            // Consecutive threads read consecutive factors of a row.
            for (var q = 0u; q < 4u; q++) {
                let e = li + q * 256u;
                let c = e / STEP;
                let s = e % STEP;
                var a = 0.0;
                var b = 0.0;
                if k0 + s < F {
                    if u0 + c < shape.users {
                        a = users[(u0 + c) * F + k0 + s];
                    }
                    if t0 + c < last {
                        b = items[(t0 + c) * F + k0 + s];
                    }
                }
                tile_a[s * TILE + c] = a;
                tile_b[s * TILE + c] = b;
            }
            workgroupBarrier();
            accumulate_tile(lid, &acc);
            workgroupBarrier();
        }
        for (var p = 0u; p < 4u; p++) {
            let u = u0 + lid.y * 4u + p;
            if u >= shape.users {
                continue;
            }
            for (var q = 0u; q < 4u; q++) {
                let i = t0 + lid.x * 4u + q;
                if i >= last {
                    continue;
                }
                while cursor[p] < cursor_end[p] && seen[cursor[p]] < i {
                    cursor[p] += 1u;
                }
                let score = acc[p * 4u + q] + item_offsets[i] + constants[u];
                if (cursor[p] < cursor_end[p] && seen[cursor[p]] == i) || score != score {
                    continue;
                }
                let w = p * K + worst[p];
                if !above(score, i, best_score[w], best_item[w]) {
                    continue;
                }
                best_score[w] = score;
                best_item[w] = i;
                // The new worst of this user's list.
                var slot = 0u;
                for (var j = 1u; j < K; j++) {
                    if above(best_score[p * K + slot], best_item[p * K + slot], best_score[p * K + j], best_item[p * K + j]) {
                        slot = j;
                    }
                }
                worst[p] = slot;
            }
        }
    }
    for (var p = 0u; p < 4u; p++) {
        let u = u0 + lid.y * 4u + p;
        if u < shape.users {
            for (var j = 0u; j < K; j++) {
                out[((wg.y * shape.users + u) * 16u + lid.x) * K + j] = vec2<u32>(bitcast<u32>(best_score[p * K + j]), best_item[p * K + j]);
            }
        }
    }
}
