// Solves a batch of rows' normal equations A x = b by Cholesky factorisation,
// one workgroup per row: b = Σ t z is formed here, A comes from row_gram.wgsl
// and is factorised in place (lower triangle), then two triangular solves.
// With BAYES, b = Λμ + τΣ t z and the row is drawn: x plus L⁻ᵀε, ε the
// row's draws (philox.wgsl).
// A row without interactions gets the zero vector (with BAYES, a draw from the
// prior, as any other row); a row whose matrix is not
// positive definite, or whose solution is not finite (or, with f16 factors,
// past f16's range), is reported through status[0] (the smallest such row)
// and left unchanged.
// Needs row_common.wgsl and philox.wgsl.

const WG: u32 = ROW_THREADS;

@group(0) @binding(6) var<storage, read_write> systems: array<f32>;
@group(0) @binding(8) var<storage, read_write> status: array<atomic<u32>>;

var<workgroup> failed: u32;
// BAYES: the row's draws ε, then L⁻ᵀε.
var<workgroup> row_noise: array<f32, D>;

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
    let slot = work.slot;
    let row = work.row;
    let r = work.span;
    for (var k = li; k < D; k += WG) {
        var b = 0.0;
        for (var idx = r.x; idx < r.y; idx++) {
            let col = cols[idx];
            b = fma(terms(col, vals[idx]).y, z(col, k), b);
        }
        if BAYES {
            b = fma(prior_noise(), b, gram[D * D + k]);
        }
        row_vector[k] = b;
    }

    let a = slot * D * D;
    for (var k = 0u; k < D; k++) {
        if li == 0u {
            let pivot = systems[a + k * D + k];
            if pivot > 0.0 && is_finite(pivot) {
                systems[a + k * D + k] = sqrt(pivot);
            } else {
                failed = 1u;
            }
        }
        if workgroupUniformLoad(&failed) != 0u {
            break;
        }
        storageBarrier();
        let lkk = systems[a + k * D + k];
        for (var i = k + 1u + li; i < D; i += WG) {
            systems[a + i * D + k] /= lkk;
        }
        storageBarrier();
        for (var i = k + 1u + li; i < D; i += WG) {
            let lik = systems[a + i * D + k];
            for (var j = k + 1u; j <= i; j++) {
                systems[a + i * D + j] = fma(-lik, systems[a + j * D + k], systems[a + i * D + j]);
            }
        }
        storageBarrier();
    }
    if workgroupUniformLoad(&failed) != 0u {
        if li == 0u {
            atomicMin(&status[0], row);
        }
        return;
    }

    // L y = b, then Lᵀ x = y, in place in row_vector.
    for (var k = 0u; k < D; k++) {
        if li == 0u {
            row_vector[k] /= systems[a + k * D + k];
        }
        workgroupBarrier();
        let yk = row_vector[k];
        for (var i = k + 1u + li; i < D; i += WG) {
            row_vector[i] = fma(-systems[a + i * D + k], yk, row_vector[i]);
        }
        workgroupBarrier();
    }
    for (var n = 0u; n < D; n++) {
        let k = D - 1u - n;
        if li == 0u {
            row_vector[k] /= systems[a + k * D + k];
        }
        workgroupBarrier();
        let xk = row_vector[k];
        for (var i = li; i < k; i += WG) {
            row_vector[i] = fma(-systems[a + k * D + i], xk, row_vector[i]);
        }
        workgroupBarrier();
    }
    if BAYES {
        // A draw: the mean plus L⁻ᵀε, whose covariance is (LLᵀ)⁻¹.
        for (var k = li; k < D; k += WG) {
            row_noise[k] = normal_draw(row, k);
        }
        workgroupBarrier();
        for (var n = 0u; n < D; n++) {
            let k = D - 1u - n;
            if li == 0u {
                row_noise[k] /= systems[a + k * D + k];
            }
            workgroupBarrier();
            let ek = row_noise[k];
            for (var i = li; i < k; i += WG) {
                row_noise[i] = fma(-systems[a + k * D + i], ek, row_noise[i]);
            }
            workgroupBarrier();
        }
        for (var k = li; k < D; k += WG) {
            row_vector[k] += row_noise[k];
        }
    }
    var ok = true;
    for (var k = li; k < D; k += WG) {
        ok = ok && storable(row_vector[k]);
    }
    if !all_hold(ok) {
        if li == 0u {
            atomicMin(&status[0], row);
        }
        return;
    }
    workgroupBarrier();
    store_row(row, li);
}
