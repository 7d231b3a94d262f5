// YᵀY of the fixed side's factors (implicit models), F×F.
//
// `partial_gram` sums y yᵀ over one chunk of rows per workgroup layer (z) and
// one 64×64 output tile per workgroup (x, y), rows staged 16 at a time.
// `reduce` then adds the chunks in order, so the result does not depend on
// scheduling. Needs constants.wgsl and tile.wgsl.

struct Shape {
    rows: u32,
    chunk_rows: u32,
    chunks: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> shape: Shape;
// The factors, as constants.wgsl stores them.
@group(0) @binding(1) var<storage, read> y: array<u32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;
@group(0) @binding(3) var<storage, read_write> gram: array<f32>;

@compute @workgroup_size(16, 16)
fn partial_gram(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i0 = wg.x * TILE;
    let j0 = wg.y * TILE;
    let begin = wg.z * shape.chunk_rows;
    let end = min(begin + shape.chunk_rows, shape.rows);
    var acc: array<f32, 16>;
    for (var r = begin; r < end; r += STEP) {
        for (var k = 0u; k < 4u; k++) {
            let e = li + k * 256u;
            let row = r + e / TILE;
            let c = e % TILE;
            var a = 0.0;
            var b = 0.0;
            if row < end {
                if i0 + c < F {
                    a = element(y[word_of(row, i0 + c)], i0 + c);
                }
                if j0 + c < F {
                    b = element(y[word_of(row, j0 + c)], j0 + c);
                }
            }
            tile_a[e] = a;
            tile_b[e] = b;
        }
        workgroupBarrier();
        accumulate_tile(lid, &acc);
        workgroupBarrier();
    }
    for (var p = 0u; p < 4u; p++) {
        for (var q = 0u; q < 4u; q++) {
            let i = i0 + lid.y * 4u + p;
            let j = j0 + lid.x * 4u + q;
            if i < F && j < F {
                partials[wg.z * F * F + i * F + j] = acc[p * 4u + q];
            }
        }
    }
}

@compute @workgroup_size(256)
fn reduce(@builtin(global_invocation_id) gid: vec3<u32>) {
    let e = gid.x;
    if e >= F * F {
        return;
    }
    var s = 0.0;
    for (var z = 0u; z < shape.chunks; z++) {
        s += partials[z * F * F + e];
    }
    gram[e] = s;
}
