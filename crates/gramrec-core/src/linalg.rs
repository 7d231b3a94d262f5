//! Small dense kernels: dot products, rank-4 Gram updates, Cholesky and
//! conjugate gradient on f×f systems.
//!
//! Every kernel is generic over [`Madd`] so one source serves two instruction
//! sets: plain multiply-then-add everywhere (wasm32 included), and fused
//! multiply-add under AVX2+FMA on x86-64, chosen once per call at run time by
//! [`simd_dispatch!`]. The generic bodies are `#[inline(always)]` so that the
//! whole per-row solve is compiled inside the AVX2 function and vectorised.

/// A multiply-add: plain (`a*b + c`) or fused (one rounding).
pub trait Madd: Copy {
    /// a·b + c.
    fn madd(a: f32, b: f32, c: f32) -> f32;
}

/// Separate multiply and add: portable, the result is identical on every target.
#[derive(Clone, Copy)]
pub struct Plain;

/// Fused multiply-add: only used inside functions compiled with `fma` enabled.
#[derive(Clone, Copy)]
pub struct Fused;

impl Madd for Plain {
    #[inline(always)]
    fn madd(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
}

impl Madd for Fused {
    #[inline(always)]
    fn madd(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

/// Defines `$name(args) -> ret` that runs a function generic over [`Madd`]
/// as `::<Fused>` compiled for AVX2+FMA when the CPU has them, and as
/// `::<Plain>` otherwise. The generic function is either named (`= generic`,
/// for one that exists already) or defined in the same invocation
/// (`fn name / generic<M>(args) -> ret { body }`), so its signature is written
/// once. With `wide` first, there is also an AVX-512 tier (32 vector
/// registers): faster for the register-blocked scoring kernel, slower for the
/// training kernels on the machines measured (BENCHMARKS.md). Fused
/// multiply-adds round the same way in both tiers, so the tier never changes
/// a result.
#[macro_export]
#[doc(hidden)]
macro_rules! simd_dispatch {
    ($(#[$m:meta])* $vis:vis fn $name:ident / $generic:ident <$M:ident> ($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        #[inline(always)]
        fn $generic<$M: $crate::linalg::Madd>($($arg: $ty),*) -> $ret $body
        $crate::simd_dispatch!($(#[$m])* $vis fn $name($($arg: $ty),*) -> $ret = $generic);
    };
    (wide $(#[$m:meta])* $vis:vis fn $name:ident / $generic:ident <$M:ident> ($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        #[inline(always)]
        fn $generic<$M: $crate::linalg::Madd>($($arg: $ty),*) -> $ret $body
        $crate::simd_dispatch!(wide $(#[$m])* $vis fn $name($($arg: $ty),*) -> $ret = $generic);
    };
    (wide $(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty = $generic:ident) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            $crate::simd_dispatch!(@tier "avx2,fma,avx512f,avx512vl", ["avx512f", "avx512vl"] $generic($($arg: $ty),*) -> $ret);
            $crate::simd_dispatch!(@tier "avx2,fma", ["avx2", "fma"] $generic($($arg: $ty),*) -> $ret);
            $generic::<$crate::linalg::Plain>($($arg),*)
        }
    };
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty = $generic:ident) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            $crate::simd_dispatch!(@tier "avx2,fma", ["avx2", "fma"] $generic($($arg: $ty),*) -> $ret);
            $generic::<$crate::linalg::Plain>($($arg),*)
        }
    };
    // Returns from the caller through `$generic::<Fused>` compiled with
    // `$features` when the CPU has every feature of `$detect`.
    (@tier $features:literal, [$($detect:tt),+] $generic:ident($($arg:ident : $ty:ty),*) -> $ret:ty) => {
        #[cfg(target_arch = "x86_64")]
        if $(std::arch::is_x86_feature_detected!($detect))&&+ {
            #[target_feature(enable = $features)]
            unsafe fn fused($($arg: $ty),*) -> $ret {
                $generic::<$crate::linalg::Fused>($($arg),*)
            }
            // SAFETY: the CPU supports every feature `fused` was compiled for.
            return unsafe { fused($($arg),*) };
        }
    };
}

const LANES: usize = 16;

/// Dot product with 16 independent accumulators, so it vectorises without
/// reassociating (and so gives the same result on every run).
#[inline(always)]
pub fn dot<M: Madd>(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..LANES {
            acc[l] = M::madd(x[l], y[l], acc[l]);
        }
    }
    reduce_lanes(acc) + tail_dot::<M>(ca.remainder(), cb.remainder())
}

/// Four [`dot`] products with one vector, side by side: the same arithmetic
/// per product (so the same results), with the four products' accumulators
/// interleaved, so their multiply-adds do not wait on one another.
#[inline(always)]
pub fn dot4<M: Madd>(z: [&[f32]; 4], v: &[f32]) -> [f32; 4] {
    let n = v.len();
    let (mut a0, mut a1, mut a2, mut a3) = ([0.0f32; LANES], [0.0f32; LANES], [0.0f32; LANES], [0.0f32; LANES]);
    let full = n - n % LANES;
    let chunks = v[..full]
        .chunks_exact(LANES)
        .zip(z[0][..full].chunks_exact(LANES))
        .zip(z[1][..full].chunks_exact(LANES))
        .zip(z[2][..full].chunks_exact(LANES))
        .zip(z[3][..full].chunks_exact(LANES));
    for ((((x, y0), y1), y2), y3) in chunks {
        for l in 0..LANES {
            a0[l] = M::madd(y0[l], x[l], a0[l]);
            a1[l] = M::madd(y1[l], x[l], a1[l]);
            a2[l] = M::madd(y2[l], x[l], a2[l]);
            a3[l] = M::madd(y3[l], x[l], a3[l]);
        }
    }
    [
        reduce_lanes(a0) + tail_dot::<M>(&z[0][full..n], &v[full..]),
        reduce_lanes(a1) + tail_dot::<M>(&z[1][full..n], &v[full..]),
        reduce_lanes(a2) + tail_dot::<M>(&z[2][full..n], &v[full..]),
        reduce_lanes(a3) + tail_dot::<M>(&z[3][full..n], &v[full..]),
    ]
}

/// The sequential dot product of the elements past the last full group of
/// lanes (a function, not a closure: closures lose the caller's target
/// features).
#[inline(always)]
fn tail_dot<M: Madd>(a: &[f32], b: &[f32]) -> f32 {
    let mut t = 0.0f32;
    for (&x, &y) in a.iter().zip(b) {
        t = M::madd(x, y, t);
    }
    t
}

/// The pairwise sum of a dot product's lane accumulators.
#[inline(always)]
fn reduce_lanes(mut acc: [f32; LANES]) -> f32 {
    let mut width = LANES / 2;
    while width > 0 {
        for l in 0..width {
            acc[l] += acc[l + width];
        }
        width /= 2;
    }
    acc[0]
}

/// Asks the CPU to bring `x` (a factor row about to be gathered) into the
/// cache: one prefetch per 64-byte line. Gathers read rows of a matrix larger
/// than the caches in an order the hardware prefetcher cannot guess; a hint a
/// few rows ahead overlaps their memory latency. Does nothing off x86-64.
#[inline(always)]
pub fn prefetch(x: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    for line in x.chunks(16) {
        // SAFETY: a prefetch is a hint: it reads nothing into the program and
        // cannot fault; the pointer is in bounds besides.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(line.as_ptr().cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// y ← y + s·x.
#[inline(always)]
pub fn axpy<M: Madd>(s: f32, x: &[f32], y: &mut [f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi = M::madd(s, *xi, *yi);
    }
}

/// Rows of `a` in one register tile of [`syrk_upper`].
const TILE_ROWS: usize = 4;
/// Columns of `a` in one register tile: two 8-lane vectors per row, so a
/// tile's 64 sums stay in eight AVX registers.
const TILE_COLS: usize = 16;
/// Rows of `z` per pass over the tiles: 64 rows of 128 values stay in L1
/// while every tile of `a` reads them.
const PASS_ROWS: usize = 64;

/// a ← a + Σ_k w_k z_k z_kᵀ on the upper triangle (j ≥ i) of the m×m matrix
/// at the start of `a` (row stride `lda`), z_k the rows of `z` (row stride
/// `ldz`, m values used). Elements below the diagonal are neither read nor
/// written.
///
/// Register-tiled (a SYRK): each 4×16 block of `a` is summed in registers
/// over 64 rows of z before it is added to memory, so the inner loop is two
/// vector loads and four broadcasts for eight fused multiply-adds, where a
/// rank-one update per row of z would load and store `a` for each. Each
/// element's sum runs over k in order within a pass and adds the passes in
/// order: the same result on every run.
#[inline(always)]
pub fn syrk_upper<M: Madd>(a: &mut [f32], lda: usize, m: usize, z: &[f32], ldz: usize, w: &[f32]) {
    let n = w.len();
    // s[k][r] = w_k · z_k[i0 + r] for the current pass and rows; rows past m
    // are 0 (their sums are not stored).
    let mut s = [[0.0f32; TILE_ROWS]; PASS_ROWS];
    let mut k0 = 0;
    while k0 < n {
        let kc = PASS_ROWS.min(n - k0);
        let pass = &z[k0 * ldz..];
        let mut i0 = 0;
        while i0 < m {
            let rows = TILE_ROWS.min(m - i0);
            for (k, sk) in s.iter_mut().enumerate().take(kc) {
                let zk = &pass[k * ldz + i0..k * ldz + i0 + rows];
                *sk = [0.0; TILE_ROWS];
                for (sr, &zr) in sk.iter_mut().zip(zk) {
                    *sr = w[k0 + k] * zr;
                }
            }
            let mut j0 = i0 - i0 % TILE_COLS;
            while j0 < m {
                let acc = if j0 + TILE_COLS <= m {
                    full_tile::<M>(pass, ldz, j0, &s[..kc])
                } else {
                    partial_tile::<M>(pass, ldz, j0, m - j0, &s[..kc])
                };
                // Row i of the tile from column max(i, j0): whole rows above the diagonal.
                let end = m.min(j0 + TILE_COLS);
                for (r, row) in acc.iter().enumerate().take(rows) {
                    let i = i0 + r;
                    let from = i.max(j0);
                    let out = &mut a[i * lda + from..i * lda + end];
                    for (o, &v) in out.iter_mut().zip(&row[from - j0..]) {
                        *o += v;
                    }
                }
                j0 += TILE_COLS;
            }
            i0 += TILE_ROWS;
        }
        k0 += kc;
    }
}

/// One tile's sums over a pass: Σ_k s[k][r] · z_k[j0 + c] for 4 rows r and 16
/// columns c. A function of its own, returning the sums by value, so that
/// they live in registers throughout the loop.
#[inline(always)]
fn full_tile<M: Madd>(pass: &[f32], ldz: usize, j0: usize, s: &[[f32; TILE_ROWS]]) -> [[f32; TILE_COLS]; TILE_ROWS] {
    let mut acc = [[0.0f32; TILE_COLS]; TILE_ROWS];
    for (zk, sk) in pass.chunks(ldz).zip(s) {
        let zc: &[f32; TILE_COLS] = zk[j0..j0 + TILE_COLS].try_into().expect("a tile's columns");
        for (row, &sr) in acc.iter_mut().zip(sk) {
            for (o, &zj) in row.iter_mut().zip(zc) {
                *o = M::madd(sr, zj, *o);
            }
        }
    }
    acc
}

/// [`full_tile`] for the last `cols` (< 16) columns of a matrix; the other
/// sums are 0.
#[inline(always)]
fn partial_tile<M: Madd>(
    pass: &[f32],
    ldz: usize,
    j0: usize,
    cols: usize,
    s: &[[f32; TILE_ROWS]],
) -> [[f32; TILE_COLS]; TILE_ROWS] {
    let mut acc = [[0.0f32; TILE_COLS]; TILE_ROWS];
    for (zk, sk) in pass.chunks(ldz).zip(s) {
        for (row, &sr) in acc.iter_mut().zip(sk) {
            for (o, &zj) in row.iter_mut().zip(&zk[j0..j0 + cols]) {
                *o = M::madd(sr, zj, *o);
            }
        }
    }
    acc
}

/// Adds Σ_k w_k z_k z_kᵀ to the upper triangle of the d×d row-major matrix
/// `a`, where the z_k are the rows of `z` (n×d): [`syrk_upper`] on the whole
/// matrix.
#[inline(always)]
pub fn gram_accumulate<M: Madd>(a: &mut [f32], d: usize, z: &[f32], w: &[f32]) {
    syrk_upper::<M>(a, d, d, z, d, w);
}

/// The matrix was not positive definite: the row's normal equations have no
/// unique solution (typically λ = 0 with fewer interactions than factors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotPositiveDefinite;

/// Rows per panel of [`cholesky`].
const PANEL_ROWS: usize = 16;

/// Factors the upper triangle of the d×d row-major `a` in place into U with
/// a = UᵀU. Elements below the diagonal are neither read nor written.
///
/// Blocked and right-looking: a panel of 16 rows is factored with rank-one
/// updates along its rows (contiguous), then the rest of the matrix loses
/// the panel's contribution in one [`syrk_upper`] with weights −1, which is
/// where almost all of the d³/6 multiply-adds run, register-tiled.
#[inline(always)]
pub fn cholesky<M: Madd>(a: &mut [f32], d: usize) -> Result<(), NotPositiveDefinite> {
    const MINUS_ONE: [f32; PANEL_ROWS] = [-1.0; PANEL_ROWS];
    let mut j0 = 0;
    while j0 < d {
        let b = PANEL_ROWS.min(d - j0);
        for k in j0..j0 + b {
            let (done, rest) = a.split_at_mut((k + 1) * d);
            let row_k = &mut done[k * d + k..];
            let diag = row_k[0];
            if diag.is_nan() || diag <= 0.0 || diag.is_infinite() {
                return Err(NotPositiveDefinite);
            }
            let u = diag.sqrt();
            row_k[0] = u;
            let inv = 1.0 / u;
            for v in &mut row_k[1..] {
                *v *= inv;
            }
            let row_k = &row_k[1..];
            // The panel's later rows: a[i][i..] -= u_ki · u_k[i..].
            for i in k + 1..j0 + b {
                let off = i - k - 1;
                axpy::<M>(-row_k[off], &row_k[off..], &mut rest[(i - k - 1) * d + i..(i - k) * d]);
            }
        }
        let below = j0 + b;
        if below < d {
            let (top, bottom) = a.split_at_mut(below * d);
            syrk_upper::<M>(&mut bottom[below..], d, d - below, &top[j0 * d + below..], d, &MINUS_ONE[..b]);
        }
        j0 = below;
    }
    Ok(())
}

/// Solves UᵀU·x = b in place (`b` becomes x), U from [`cholesky`].
#[inline(always)]
pub fn cholesky_solve<M: Madd>(u: &[f32], d: usize, b: &mut [f32]) {
    // Forward: Uᵀ·y = b, row by row of U so every access is contiguous.
    for i in 0..d {
        let row = &u[i * d + i..(i + 1) * d];
        b[i] /= row[0];
        let yi = b[i];
        axpy::<M>(-yi, &row[1..], &mut b[i + 1..]);
    }
    // Backward: U·x = y.
    for i in (0..d).rev() {
        let row = &u[i * d + i..(i + 1) * d];
        b[i] = (b[i] - dot::<M>(&row[1..], &b[i + 1..])) / row[0];
    }
}

/// Symmetric positive definite matrices, one per row of a block, known by
/// their products with vectors.
///
/// Implementations mark `apply` `#[inline(always)]`: a closure would not
/// inherit the AVX2+FMA features of the function it is inlined into, and its
/// fused multiply-adds would become library calls.
pub trait LinearOperator {
    /// out_b ← A_b·v_b for each row b of the block: `v` and `out` hold the
    /// rows' vectors one after another.
    fn apply(&mut self, v: &[f32], out: &mut [f32]);

    /// Row b's x has just moved by `step` times the vector of the last
    /// [`apply`](Self::apply) (an operator that tracks something of x, such
    /// as the predictions z·x, updates it here).
    fn moved(&mut self, _row: usize, _step: f32) {}
}

/// The most rows [`conjugate_gradient`] solves side by side.
pub const CG_BLOCK: usize = 4;

/// Runs at most `steps` conjugate-gradient iterations on A_b·x_b = b_b for
/// each of up to [`CG_BLOCK`] rows side by side (`x` holds the rows' d-vectors
/// one after another), from the starting points in `x`, given their
/// residuals r_b = b_b − A_b·x_b in `r` (the caller forms them, so that it
/// can fuse that with gathering the rows). `p` and `ap` are scratch of at
/// least x's length.
///
/// The rows share each operator application, so a product the rows have in
/// common (YᵀY·p) reads its matrix once for all of them; everything else is
/// per row, and a row that has converged (or broken down) stops changing
/// while the others go on: each row gets exactly the result it would get
/// alone.
#[inline(always)]
pub fn conjugate_gradient<M: Madd>(
    a: &mut impl LinearOperator,
    d: usize,
    x: &mut [f32],
    steps: usize,
    r: &mut [f32],
    p: &mut [f32],
    ap: &mut [f32],
) {
    const TINY: f32 = 1e-20;
    let n = x.len();
    assert!(n <= CG_BLOCK * d && n.is_multiple_of(d), "a block of at most {CG_BLOCK} rows");
    let (r, p, ap) = (&mut r[..n], &mut p[..n], &mut ap[..n]);
    p.copy_from_slice(r);
    let mut rs_old = [0.0f32; CG_BLOCK];
    let mut active = [false; CG_BLOCK];
    for (b, rb) in r.chunks_exact(d).enumerate() {
        rs_old[b] = dot::<M>(rb, rb);
        active[b] = rs_old[b] >= TINY;
    }
    for _ in 0..steps {
        if !active.contains(&true) {
            break;
        }
        a.apply(p, ap);
        let rows = x.chunks_exact_mut(d).zip(r.chunks_exact_mut(d)).zip(p.chunks_exact_mut(d)).zip(ap.chunks_exact(d));
        for (b, (((xb, rb), pb), apb)) in rows.enumerate() {
            if !active[b] {
                continue;
            }
            let p_ap = dot::<M>(pb, apb);
            if p_ap.is_nan() || p_ap <= 0.0 {
                active[b] = false;
                continue;
            }
            let step = rs_old[b] / p_ap;
            axpy::<M>(step, pb, xb);
            a.moved(b, step);
            axpy::<M>(-step, apb, rb);
            let rs_new = dot::<M>(rb, rb);
            if rs_new < TINY {
                active[b] = false;
                continue;
            }
            let beta = rs_new / rs_old[b];
            for (pi, ri) in pb.iter_mut().zip(rb.iter()) {
                *pi = M::madd(beta, *pi, *ri);
            }
            rs_old[b] = rs_new;
        }
    }
}

/// Vectors multiplied together by [`symm`]'s kernel.
const SYMM_VECTORS: usize = 4;

/// out_b ← M·v_b for the full symmetric f×f matrix `m` and the vectors v_b,
/// the first f values of each `ld`-long row of `v` (likewise of `out`; the
/// rest of each row is not touched). Four vectors at a time share each load
/// of `m` ([`symm_columns`]): at 128 factors `m` is twice the first-level
/// cache, and one vector at a time ([`symv`]) waits on the second level.
/// Each element's sum runs over j in order, as in [`symv`], so a vector's
/// product does not depend on the others.
#[inline(always)]
pub fn symm<M: Madd>(m: &[f32], f: usize, v: &[f32], ld: usize, out: &mut [f32]) {
    let mut vs = v.chunks_exact(SYMM_VECTORS * ld);
    let mut outs = out.chunks_exact_mut(SYMM_VECTORS * ld);
    for (vq, oq) in (&mut vs).zip(&mut outs) {
        let mut c0 = 0;
        while c0 + LANES <= f {
            let sums = symm_columns::<M>(m, f, vq, ld, c0);
            for (o, s) in oq.chunks_exact_mut(ld).zip(&sums) {
                o[c0..c0 + LANES].copy_from_slice(s);
            }
            c0 += LANES;
        }
        for (vb, ob) in vq.chunks_exact(ld).zip(oq.chunks_exact_mut(ld)) {
            symv_tail::<M>(m, &vb[..f], &mut ob[..f], c0);
        }
    }
    for (vb, ob) in vs.remainder().chunks_exact(ld).zip(outs.into_remainder().chunks_exact_mut(ld)) {
        symv::<M>(m, &vb[..f], &mut ob[..f]);
    }
}

/// Columns c0..c0 + 16 of M·v_b for four vectors (the rows of `v`, `ld`
/// apart): 64 sums in eight AVX registers, each load of `m` used four times.
#[inline(always)]
fn symm_columns<M: Madd>(m: &[f32], f: usize, v: &[f32], ld: usize, c0: usize) -> [[f32; LANES]; SYMM_VECTORS] {
    let mut acc = [[0.0f32; LANES]; SYMM_VECTORS];
    for (j, row) in m.chunks_exact(f).enumerate() {
        let cols: &[f32; LANES] = row[c0..c0 + LANES].try_into().expect("a block's columns");
        let vj = [v[j], v[ld + j], v[2 * ld + j], v[3 * ld + j]];
        for (a, &vb) in acc.iter_mut().zip(&vj) {
            for (s, &mj) in a.iter_mut().zip(cols) {
                *s = M::madd(vb, mj, *s);
            }
        }
    }
    acc
}

/// Columns of `out` summed in registers at a time by [`symv`]: eight AVX
/// registers, leaving the rest for loads.
const SYMV_COLS: usize = 64;

/// out ← M·v for the full (both triangles stored) symmetric f×f matrix `m`,
/// as Σ_j v_j·(row j of M), 64 columns at a time: each block of sums stays
/// in registers over every j, so the inner loop is one load and one fused
/// multiply-add per 8 lanes, and `m` is read once (each element's sum runs
/// over j in order: the same result on every run, and for any block width).
#[inline(always)]
pub fn symv<M: Madd>(m: &[f32], v: &[f32], out: &mut [f32]) {
    let f = v.len();
    let mut c0 = 0;
    while c0 + SYMV_COLS <= f {
        out[c0..c0 + SYMV_COLS].copy_from_slice(&symv_columns::<M, SYMV_COLS>(m, v, c0));
        c0 += SYMV_COLS;
    }
    while c0 + LANES <= f {
        out[c0..c0 + LANES].copy_from_slice(&symv_columns::<M, LANES>(m, v, c0));
        c0 += LANES;
    }
    symv_tail::<M>(m, v, out, c0);
}

/// Columns c0..f of M·v, one at a time (the columns past the last block of 16).
#[inline(always)]
fn symv_tail<M: Madd>(m: &[f32], v: &[f32], out: &mut [f32], c0: usize) {
    let f = v.len();
    for (c, o) in out[..f].iter_mut().enumerate().skip(c0) {
        let mut sum = 0.0f32;
        for (j, &vj) in v.iter().enumerate() {
            sum = M::madd(vj, m[j * f + c], sum);
        }
        *o = sum;
    }
}

/// Columns c0..c0 + W of M·v ([`symv`]'s blocks), summed over j in order.
#[inline(always)]
fn symv_columns<M: Madd, const W: usize>(m: &[f32], v: &[f32], c0: usize) -> [f32; W] {
    let f = v.len();
    let mut acc = [0.0f32; W];
    for (row, &vj) in m.chunks_exact(f).zip(v) {
        let cols: &[f32; W] = row[c0..c0 + W].try_into().expect("a block's columns");
        for (a, &mj) in acc.iter_mut().zip(cols) {
            *a = M::madd(vj, mj, *a);
        }
    }
    acc
}

/// out ← out + Σ_k w_k (z_k·v) z_k over the rows z_k of `z` (n×d): the
/// interaction terms of a row's normal-equation matrix applied to v
/// ([`add_projected_rows`] with no offsets).
#[inline(always)]
pub fn add_rank_one_products<M: Madd>(z: &[f32], w: &[f32], v: &[f32], out: &mut [f32], dots: Option<&mut [f32]>) {
    add_projected_rows::<M>(z, w, None, v, out, dots);
}

/// out ← out + Σ_k (t_k − w_k (z_k·v)) z_k over the rows z_k of `z` (n×d):
/// the interaction part of a row's residual b − A·v, with b = Σ t_k z_k
/// ([`add_projected_rows`] with offsets).
#[inline(always)]
pub fn add_residual_rows<M: Madd>(
    z: &[f32],
    w: &[f32],
    t: &[f32],
    v: &[f32],
    out: &mut [f32],
    dots: Option<&mut [f32]>,
) {
    add_projected_rows::<M>(z, w, Some(t), v, out, dots);
}

/// out ← out + Σ_k c_k z_k with c_k = w_k (z_k·v), or t_k − w_k (z_k·v) when
/// offsets t are given, and each z_k·v into `dots` when given: four rows at
/// a time, their dot products side by side ([`dot4`]) and their updates in
/// one pass over `out` ([`add4`]). Each term is [`dot`] and [`axpy`]'s,
/// added in row order, so the result equals doing them one by one, and
/// splitting `z` at a multiple of four rows into consecutive calls changes
/// nothing.
#[inline(always)]
fn add_projected_rows<M: Madd>(
    z: &[f32],
    w: &[f32],
    t: Option<&[f32]>,
    v: &[f32],
    out: &mut [f32],
    mut dots: Option<&mut [f32]>,
) {
    let d = v.len();
    let quads = w.len() / 4;
    for (q, block) in z.chunks_exact(4 * d).take(quads).enumerate() {
        let rows = quad(block, d);
        let products = dot4::<M>(rows, v);
        let k = 4 * q;
        let c = [
            projection_coefficient(w, t, k, products[0]),
            projection_coefficient(w, t, k + 1, products[1]),
            projection_coefficient(w, t, k + 2, products[2]),
            projection_coefficient(w, t, k + 3, products[3]),
        ];
        add4::<M>(rows, c, out);
        if let Some(dots) = dots.as_deref_mut() {
            dots[k..k + 4].copy_from_slice(&products);
        }
    }
    for (k, zi) in (4 * quads..w.len()).zip(z[4 * quads * d..].chunks_exact(d)) {
        let product = dot::<M>(zi, v);
        axpy::<M>(projection_coefficient(w, t, k, product), zi, out);
        if let Some(dots) = dots.as_deref_mut() {
            dots[k] = product;
        }
    }
}

/// [`add_projected_rows`]'s coefficient of row k given z_k·v (a function,
/// not a closure: closures lose the caller's target features).
#[inline(always)]
fn projection_coefficient(w: &[f32], t: Option<&[f32]>, k: usize, dot: f32) -> f32 {
    match t {
        Some(t) => t[k] - w[k] * dot,
        None => w[k] * dot,
    }
}

/// out ← out + Σ_k s_k z_k over the rows z_k of `z` (n×d), four rows per pass
/// over `out`: each element's sum runs over k in order, the same result as
/// one [`axpy`] per row (the right-hand side of a row's normal equations).
#[inline(always)]
pub fn add_scaled_rows<M: Madd>(z: &[f32], s: &[f32], out: &mut [f32]) {
    let d = out.len();
    let quads = s.len() / 4;
    for (block, sq) in z.chunks_exact(4 * d).zip(s.chunks_exact(4)) {
        add4::<M>(quad(block, d), [sq[0], sq[1], sq[2], sq[3]], out);
    }
    for (zi, &si) in z[4 * quads * d..].chunks_exact(d).zip(&s[4 * quads..]) {
        axpy::<M>(si, zi, out);
    }
}

/// The four rows of a 4×d block.
#[inline(always)]
fn quad(block: &[f32], d: usize) -> [&[f32]; 4] {
    let (z0, rest) = block.split_at(d);
    let (z1, rest) = rest.split_at(d);
    let (z2, z3) = rest.split_at(d);
    [z0, z1, z2, z3]
}

/// out ← out + s₀z₀ + s₁z₁ + s₂z₂ + s₃z₃, added in that order per element, in
/// one pass over `out`.
#[inline(always)]
fn add4<M: Madd>(z: [&[f32]; 4], s: [f32; 4], out: &mut [f32]) {
    let [z0, z1, z2, z3] = z;
    for ((((o, &a), &b), &c), &e) in out.iter_mut().zip(z0).zip(z1).zip(z2).zip(z3) {
        *o = M::madd(s[3], e, M::madd(s[2], c, M::madd(s[1], b, M::madd(s[0], a, *o))));
    }
}

crate::simd_dispatch!(
    /// Dot product (runtime-dispatched [`dot`]).
    pub fn dot_product(a: &[f32], b: &[f32]) -> f32 = dot
);

crate::simd_dispatch!(
    /// Adds Σ_k w_k z_k z_kᵀ to the upper triangle of `a` (runtime-dispatched
    /// [`gram_accumulate`]).
    pub fn gram_upper(a: &mut [f32], d: usize, z: &[f32], w: &[f32]) -> () = gram_accumulate
);

/// YᵀY (f×f, both triangles) of the row-major n×f matrix `y`: the Gram matrix
/// that implicit models share across all rows of a half-iteration.
pub fn gram_matrix(y: &[f32], f: usize) -> Vec<f32> {
    let mut g = vec![0.0f32; f * f];
    let ones = vec![1.0f32; y.len() / f.max(1)];
    gram_upper(&mut g, f, y, &ones);
    symmetrize(&mut g, f);
    g
}

/// Copies the upper triangle of the f×f row-major `g` into its lower triangle.
pub fn symmetrize(g: &mut [f32], f: usize) {
    for i in 0..f {
        for j in 0..i {
            g[i * f + j] = g[j * f + i];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((*seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    }

    /// A random symmetric positive definite matrix (full storage) and vector.
    fn spd(d: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
        let mut s = seed;
        let z: Vec<f32> = (0..3 * d * d).map(|_| lcg(&mut s)).collect();
        let mut a = vec![0.0f32; d * d];
        for row in z.chunks(d) {
            for i in 0..d {
                for j in 0..d {
                    a[i * d + j] += row[i] * row[j];
                }
            }
        }
        for i in 0..d {
            a[i * d + i] += 0.5;
        }
        let b = (0..d).map(|_| lcg(&mut s)).collect();
        (a, b)
    }

    fn residual(a: &[f32], x: &[f32], b: &[f32]) -> f32 {
        let d = b.len();
        (0..d)
            .map(|i| {
                let ax: f64 = (0..d).map(|j| a[i * d + j] as f64 * x[j] as f64).sum();
                (ax - b[i] as f64).abs()
            })
            .fold(0.0, f64::max) as f32
    }

    #[test]
    fn symv_matches_the_plain_sums() {
        for f in [1, 3, 8, 17, 64] {
            let mut s = f as u64 * 31;
            let (m, _) = spd(f, s);
            let v: Vec<f32> = (0..f).map(|_| lcg(&mut s)).collect();
            let mut out = vec![f32::NAN; f];
            symv::<Fused>(&m, &v, &mut out);
            for (i, &o) in out.iter().enumerate() {
                let want: f64 = (0..f).map(|j| m[i * f + j] as f64 * v[j] as f64).sum();
                assert!((o as f64 - want).abs() < 1e-4 * want.abs().max(1.0), "symv f={f} row {i}: {o} vs {want}");
            }
        }
    }

    #[test]
    fn blocked_rank_one_products_equal_dot_and_axpy_one_row_at_a_time() {
        for (d, n) in [(1, 0), (3, 5), (8, 4), (17, 9), (32, 7), (65, 13), (128, 9)] {
            let mut s = (d * 31 + n) as u64;
            let v: Vec<f32> = (0..d).map(|_| lcg(&mut s)).collect();
            let z: Vec<f32> = (0..n * d).map(|_| lcg(&mut s)).collect();
            let w: Vec<f32> = (0..n).map(|_| lcg(&mut s)).collect();
            let mut blocked = v.clone();
            add_rank_one_products::<Fused>(&z, &w, &v, &mut blocked, None);
            let mut one_by_one = v.clone();
            for (zi, &wi) in z.chunks_exact(d).zip(&w) {
                axpy::<Fused>(wi * dot::<Fused>(zi, &v), zi, &mut one_by_one);
            }
            assert_eq!(blocked, one_by_one, "d={d} n={n}");
            let mut scaled = v.clone();
            add_scaled_rows::<Fused>(&z, &w, &mut scaled);
            let mut axpys = v.clone();
            for (zi, &wi) in z.chunks_exact(d).zip(&w) {
                axpy::<Fused>(wi, zi, &mut axpys);
            }
            assert_eq!(scaled, axpys, "scaled rows d={d} n={n}");
        }
    }

    #[test]
    fn dot_matches_sequential_sum_for_odd_lengths() {
        for n in [0, 1, 7, 16, 17, 33, 100] {
            let mut s = n as u64 + 1;
            let a: Vec<f32> = (0..n).map(|_| lcg(&mut s)).collect();
            let b: Vec<f32> = (0..n).map(|_| lcg(&mut s)).collect();
            let want: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
            assert!((dot::<Plain>(&a, &b) as f64 - want).abs() < 1e-5, "n={n}");
            assert!((dot::<Fused>(&a, &b) as f64 - want).abs() < 1e-5, "n={n}");
        }
    }

    #[test]
    fn syrk_matches_naive_upper_triangle() {
        // Sizes around the 4×16 tiles and 32-row passes, and a submatrix
        // with its own strides as the Cholesky's trailing update uses.
        for (d, n) in [(1, 1), (13, 11), (16, 32), (17, 33), (64, 70), (65, 3), (129, 40)] {
            let mut s = (d * 7 + n) as u64;
            let z: Vec<f32> = (0..n * d).map(|_| lcg(&mut s)).collect();
            let w: Vec<f32> = (0..n).map(|_| lcg(&mut s) + 1.0).collect();
            let mut a = vec![0.0f32; d * d];
            gram_accumulate::<Fused>(&mut a, d, &z, &w);
            for i in 0..d {
                for j in 0..d {
                    let want: f64 = (0..n).map(|k| w[k] as f64 * z[k * d + i] as f64 * z[k * d + j] as f64).sum();
                    if j >= i {
                        assert!((a[i * d + j] as f64 - want).abs() < 1e-4, "d={d} n={n} ({i}, {j})");
                    } else {
                        assert_eq!(a[i * d + j], 0.0, "the lower triangle must stay untouched");
                    }
                }
            }
            let (m, lda, ldz) = (d.saturating_sub(3).max(1), d + 5, d + 2);
            let z2: Vec<f32> = (0..n * ldz).map(|_| lcg(&mut s)).collect();
            let mut sub = vec![7.0f32; m * lda];
            syrk_upper::<Plain>(&mut sub, lda, m, &z2, ldz, &w);
            for i in 0..m {
                for j in 0..lda {
                    let got = sub[i * lda + j];
                    if j >= i && j < m {
                        let want: f64 = 7.0
                            + (0..n)
                                .map(|k| w[k] as f64 * z2[k * ldz + i] as f64 * z2[k * ldz + j] as f64)
                                .sum::<f64>();
                        assert!((got as f64 - want).abs() < 1e-4, "sub d={d} n={n} ({i}, {j})");
                    } else {
                        assert_eq!(got, 7.0, "outside the m×m upper triangle");
                    }
                }
            }
        }
    }

    #[test]
    fn gram_matrix_is_full_symmetric_yty() {
        let y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 3 rows × 2
        assert_eq!(gram_matrix(&y, 2), vec![35.0, 44.0, 44.0, 56.0]);
    }

    #[test]
    fn cholesky_solves_spd_systems() {
        // Sizes around the 16-row panels, solved from the upper triangle alone.
        for d in [1, 2, 5, 15, 16, 17, 32, 33, 65, 128] {
            let (a, b) = spd(d, d as u64);
            let mut u = a.clone();
            for i in 0..d {
                for j in 0..i {
                    u[i * d + j] = f32::NAN;
                }
            }
            cholesky::<Fused>(&mut u, d).unwrap();
            let mut x = b.clone();
            cholesky_solve::<Fused>(&u, d, &mut x);
            assert!(residual(&a, &x, &b) < 1e-3, "d={d}");
            // UᵀU reproduces a.
            for i in 0..d {
                for j in i..d {
                    let uu: f64 = (0..=i).map(|k| u[k * d + i] as f64 * u[k * d + j] as f64).sum();
                    assert!((uu - a[i * d + j] as f64).abs() < 1e-3 * (a[i * d + j].abs() as f64).max(1.0), "d={d}");
                }
            }
        }
    }

    #[test]
    fn cholesky_rejects_indefinite_matrix() {
        let mut a = vec![1.0, 2.0, 0.0, 1.0]; // [[1,2],[2,1]] has a negative eigenvalue
        assert_eq!(cholesky::<Plain>(&mut a, 2), Err(NotPositiveDefinite));
        let mut zero = vec![0.0; 4];
        assert_eq!(cholesky::<Plain>(&mut zero, 2), Err(NotPositiveDefinite));
        // A failure in a later panel than the first.
        let d = 20;
        let mut later: Vec<f32> = (0..d * d).map(|k| if k % (d + 1) == 0 { 1.0 } else { 0.0 }).collect();
        later[12 * d + 12] = -1.0;
        assert_eq!(cholesky::<Fused>(&mut later, d), Err(NotPositiveDefinite));
    }

    /// A full symmetric f×f matrix as the operator of every row of a block.
    struct Dense<'a>(&'a [f32], usize);

    impl LinearOperator for Dense<'_> {
        fn apply(&mut self, v: &[f32], out: &mut [f32]) {
            symm::<Plain>(self.0, self.1, v, self.1, out);
        }
    }

    #[test]
    fn conjugate_gradient_converges_to_cholesky_solution() {
        let d = 12;
        let (a, b) = spd(d, 99);
        let mut dense = Dense(&a, d);
        let (mut r, mut p, mut ap) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
        // From zero the residual is b.
        let mut x = vec![0.0f32; d];
        r.copy_from_slice(&b);
        conjugate_gradient::<Plain>(&mut dense, d, &mut x, 3 * d, &mut r, &mut p, &mut ap);
        assert!(residual(&a, &x, &b) < 1e-3);
        // A few steps from zero reduce the residual but do not solve exactly.
        let mut x1 = vec![0.0f32; d];
        r.copy_from_slice(&b);
        conjugate_gradient::<Plain>(&mut dense, d, &mut x1, 1, &mut r, &mut p, &mut ap);
        let r0 = residual(&a, &vec![0.0; d], &b);
        let r1 = residual(&a, &x1, &b);
        assert!(r1 < r0);
        // Warm-started from there with its residual b − A·x, it goes on converging.
        dense.apply(&x1, &mut ap);
        for ((ri, bi), ai) in r.iter_mut().zip(&b).zip(&ap) {
            *ri = bi - ai;
        }
        conjugate_gradient::<Plain>(&mut dense, d, &mut x1, 3 * d, &mut r, &mut p, &mut ap);
        assert!(residual(&a, &x1, &b) < 1e-3);
    }

    #[test]
    fn rows_solved_side_by_side_get_what_each_gets_alone() {
        // Three systems sharing one matrix; the second starts at its
        // solution (residual 0: it must not move), the others from zero, and
        // two steps are not enough to converge.
        let d = 10;
        let (a, b) = spd(d, 5);
        let (_, b3) = spd(d, 6);
        let mut dense = Dense(&a, d);
        let mut exact = vec![0.0f32; d];
        let (mut r, mut p, mut ap) = (b.clone(), vec![0.0; 3 * d], vec![0.0; 3 * d]);
        conjugate_gradient::<Plain>(&mut dense, d, &mut exact, 4 * d, &mut r, &mut p, &mut ap);
        let alone = |rhs: &[f32], start: &[f32]| {
            let mut x = start.to_vec();
            let mut r = vec![0.0; d];
            let mut op = Dense(&a, d);
            op.apply(&x, &mut r);
            for (ri, bi) in r.iter_mut().zip(rhs) {
                *ri = bi - *ri;
            }
            let (mut p, mut ap) = (vec![0.0; d], vec![0.0; d]);
            conjugate_gradient::<Plain>(&mut op, d, &mut x, 2, &mut r, &mut p, &mut ap);
            (x, r)
        };
        let starts = [vec![0.0; d], exact.clone(), vec![0.0; d]];
        let rhs = [&b, &b, &b3];
        let mut x: Vec<f32> = starts.concat();
        let mut r = vec![0.0; 3 * d];
        dense.apply(&x, &mut r);
        for (k, rb) in r.chunks_exact_mut(d).enumerate() {
            for (ri, bi) in rb.iter_mut().zip(rhs[k]) {
                *ri = bi - *ri;
            }
        }
        conjugate_gradient::<Plain>(&mut dense, d, &mut x, 2, &mut r, &mut p, &mut ap);
        for k in 0..3 {
            let (want, _) = alone(rhs[k], &starts[k]);
            assert_eq!(&x[k * d..(k + 1) * d], &want[..], "row {k}");
        }
        assert!(residual(&a, &x[d..2 * d], &b) <= residual(&a, &exact, &b));
    }

    #[test]
    fn symm_equals_symv_per_vector() {
        let mut seed = 11;
        for f in [3, 16, 20, 64, 128] {
            let (m, _) = spd(f, f as u64);
            for (count, ld) in [(1, f), (4, f), (6, f + 3), (9, f)] {
                let v: Vec<f32> = (0..count * ld).map(|_| lcg(&mut seed)).collect();
                let mut got = vec![7.0f32; count * ld];
                symm::<Fused>(&m, f, &v, ld, &mut got);
                for k in 0..count {
                    let mut want = vec![0.0f32; f];
                    symv::<Fused>(&m, &v[k * ld..k * ld + f], &mut want);
                    assert_eq!(&got[k * ld..k * ld + f], &want[..], "f {f}, vector {k} of {count}");
                    assert!(got[k * ld + f..(k + 1) * ld].iter().all(|&g| g == 7.0), "past f untouched");
                }
            }
        }
    }

    #[test]
    fn residual_rows_match_their_definition_and_split_at_quads() {
        let mut seed = 3;
        for (n, d) in [(0, 8), (1, 5), (3, 16), (4, 16), (7, 33), (13, 128)] {
            let z: Vec<f32> = (0..n * d).map(|_| lcg(&mut seed)).collect();
            let w: Vec<f32> = (0..n).map(|_| 1.0 + lcg(&mut seed)).collect();
            let t: Vec<f32> = (0..n).map(|_| 2.0 * lcg(&mut seed)).collect();
            let v: Vec<f32> = (0..d).map(|_| lcg(&mut seed)).collect();
            let start: Vec<f32> = (0..d).map(|_| lcg(&mut seed)).collect();
            // One by one: t_k − w_k (z_k·v) times z_k, added in row order.
            let mut want = start.clone();
            for k in 0..n {
                let zk = &z[k * d..(k + 1) * d];
                axpy::<Fused>(t[k] - w[k] * dot::<Fused>(zk, &v), zk, &mut want);
            }
            let mut got = start.clone();
            let mut dots = vec![0.0; n];
            add_residual_rows::<Fused>(&z, &w, &t, &v, &mut got, Some(&mut dots));
            assert_eq!(got, want, "n {n}, d {d}");
            let each: Vec<f32> = z.chunks_exact(d).map(|zk| dot::<Fused>(zk, &v)).collect();
            assert_eq!(dots, each, "the dot products given back");
            // Consecutive calls split at a multiple of four rows: the same sums.
            let split = n / 8 * 4;
            let mut parts = start.clone();
            add_residual_rows::<Fused>(&z[..split * d], &w[..split], &t[..split], &v, &mut parts, None);
            add_residual_rows::<Fused>(&z[split * d..], &w[split..], &t[split..], &v, &mut parts, None);
            assert_eq!(parts, want, "n {n}, d {d}, split at {split}");
        }
    }
}
