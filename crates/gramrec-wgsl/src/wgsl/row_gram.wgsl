// Per-row normal-equation matrices for a batch of rows (Cholesky solver):
// A = α₀YᵀY [implicit] + shift·I + Σ w z zᵀ, D×D, into systems[slot]; with
// BAYES, A = Λ + τΣ z zᵀ (the prior and τ from binding 5).
//
// Workgroup (slot, tile i, tile j) builds one 64×64 tile of one row's matrix:
// the row's interactions are staged 16 at a time, w folded into one side.
// Splitting a row's matrix into tiles spreads a long row over several
// workgroups. Needs row_common.wgsl and tile.wgsl.

@group(0) @binding(6) var<storage, read_write> systems: array<f32>;

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let slot = wg.x;
    if slot >= rows.count {
        return;
    }
    let r = interactions_of(row_at(rows.first + slot), li);
    let i0 = wg.y * TILE;
    let j0 = wg.z * TILE;
    var acc: array<f32, 16>;
    for (var s = r.x; s < r.y; s += STEP) {
        for (var k = 0u; k < 4u; k++) {
            let e = li + k * 256u;
            let idx = s + e / TILE;
            let c = e % TILE;
            var a = 0.0;
            var b = 0.0;
            if idx < r.y {
                let col = cols[idx];
                a = terms(col, vals[idx]).x * z(col, i0 + c);
                b = z(col, j0 + c);
            }
            tile_a[e] = a;
            tile_b[e] = b;
        }
        workgroupBarrier();
        accumulate_tile(lid, &acc);
        workgroupBarrier();
    }
    let diagonal = shift(r.y - r.x);
    for (var p = 0u; p < 4u; p++) {
        for (var q = 0u; q < 4u; q++) {
            let i = i0 + lid.y * 4u + p;
            let j = j0 + lid.x * 4u + q;
            if i < D && j < D {
                var v = acc[p * 4u + q];
                if IMPLICIT {
                    v = fma(UNOBSERVED, gram[i * F + j], v);
                }
                if BAYES {
                    // Λ + τΣzzᵀ: the drawn prior in place of λI.
                    v = fma(prior_noise(), v, gram[i * D + j]);
                } else if i == j {
                    v += diagonal;
                }
                systems[slot * D * D + i * D + j] = v;
            }
        }
    }
}
