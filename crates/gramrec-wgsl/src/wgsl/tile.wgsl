// Register tiling shared by the Gram kernels (gram.wgsl, row_gram.wgsl):
// a TILE×TILE (64×64) output tile computed by 16×16 threads with 4×4 outputs
// each, from STEP rows of two TILE-wide strips staged in workgroup memory.

// TILE and STEP come from the host (gramrec-wgsl's lib.rs), as every shared size does.

// STEP rows × TILE columns each: the tile's row strip and column strip.
var<workgroup> tile_a: array<f32, STEP * TILE>;
var<workgroup> tile_b: array<f32, STEP * TILE>;

// Adds Σ over the staged rows of a[i] b[j] to this thread's 4×4 block.
fn accumulate_tile(lid: vec3<u32>, acc: ptr<function, array<f32, 16>>) {
    for (var s = 0u; s < STEP; s++) {
        var a: array<f32, 4>;
        var b: array<f32, 4>;
        for (var q = 0u; q < 4u; q++) {
            a[q] = tile_a[s * TILE + lid.y * 4u + q];
            b[q] = tile_b[s * TILE + lid.x * 4u + q];
        }
        for (var p = 0u; p < 4u; p++) {
            for (var q = 0u; q < 4u; q++) {
                (*acc)[p * 4u + q] = fma(a[p], b[q], (*acc)[p * 4u + q]);
            }
        }
    }
}
