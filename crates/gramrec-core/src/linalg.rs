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
    let mut tail = 0.0f32;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail = M::madd(*x, *y, tail);
    }
    // Pairwise reduction of the lanes.
    let mut width = LANES / 2;
    while width > 0 {
        for l in 0..width {
            acc[l] += acc[l + width];
        }
        width /= 2;
    }
    acc[0] + tail
}

/// y ← y + s·x.
#[inline(always)]
pub fn axpy<M: Madd>(s: f32, x: &[f32], y: &mut [f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi = M::madd(s, *xi, *yi);
    }
}

/// Adds Σ_k w_k z_k z_kᵀ to the lower triangle of the d×d row-major matrix
/// `a`, where the z_k are the rows of `z` (n×d). Four rows at a time, so each
/// element of `a` is loaded and stored once per four updates.
#[inline(always)]
pub fn gram_accumulate<M: Madd>(a: &mut [f32], d: usize, z: &[f32], w: &[f32]) {
    let n = w.len();
    let mut k = 0;
    while k + 4 <= n {
        let z0 = &z[k * d..(k + 1) * d];
        let z1 = &z[(k + 1) * d..(k + 2) * d];
        let z2 = &z[(k + 2) * d..(k + 3) * d];
        let z3 = &z[(k + 3) * d..(k + 4) * d];
        for j in 0..d {
            let s0 = w[k] * z0[j];
            let s1 = w[k + 1] * z1[j];
            let s2 = w[k + 2] * z2[j];
            let s3 = w[k + 3] * z3[j];
            let row = &mut a[j * d..j * d + j + 1];
            for ((((r, &y0), &y1), &y2), &y3) in row.iter_mut().zip(z0).zip(z1).zip(z2).zip(z3) {
                *r = M::madd(s3, y3, M::madd(s2, y2, M::madd(s1, y1, M::madd(s0, y0, *r))));
            }
        }
        k += 4;
    }
    while k < n {
        let zk = &z[k * d..(k + 1) * d];
        for j in 0..d {
            let s = w[k] * zk[j];
            axpy::<M>(s, &zk[..=j], &mut a[j * d..j * d + j + 1]);
        }
        k += 1;
    }
}

/// The matrix was not positive definite: the row's normal equations have no
/// unique solution (typically λ = 0 with fewer interactions than factors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotPositiveDefinite;

/// Factors the lower triangle of the d×d row-major `a` in place into L with
/// a = L·Lᵀ. The upper triangle is neither read nor written.
#[inline(always)]
pub fn cholesky<M: Madd>(a: &mut [f32], d: usize) -> Result<(), NotPositiveDefinite> {
    for j in 0..d {
        let (done, rest) = a.split_at_mut(j * d);
        let row_j = &mut rest[..d];
        for k in 0..j {
            let row_k = &done[k * d..k * d + k + 1];
            let s = row_j[k] - dot::<M>(&row_j[..k], &row_k[..k]);
            row_j[k] = s / row_k[k];
        }
        let diag = row_j[j] - dot::<M>(&row_j[..j], &row_j[..j]);
        if diag.is_nan() || diag <= 0.0 || diag.is_infinite() {
            return Err(NotPositiveDefinite);
        }
        row_j[j] = diag.sqrt();
    }
    Ok(())
}

/// Solves L·Lᵀ·x = b in place (`b` becomes x), L from [`cholesky`].
#[inline(always)]
pub fn cholesky_solve<M: Madd>(l: &[f32], d: usize, b: &mut [f32]) {
    // Forward: L·y = b.
    for i in 0..d {
        let row = &l[i * d..i * d + i];
        b[i] = (b[i] - dot::<M>(row, &b[..i])) / l[i * d + i];
    }
    // Backward: Lᵀ·x = y, column by column so every access is a row of L.
    for i in (0..d).rev() {
        b[i] /= l[i * d + i];
        let xi = b[i];
        axpy::<M>(-xi, &l[i * d..i * d + i], &mut b[..i]);
    }
}

/// A symmetric positive definite matrix known by its product with a vector.
///
/// Implementations mark `apply` `#[inline(always)]`: a closure would not
/// inherit the AVX2+FMA features of the function it is inlined into, and its
/// fused multiply-adds would become library calls.
pub trait LinearOperator {
    /// out ← A·v.
    fn apply(&self, v: &[f32], out: &mut [f32]);
}

/// A full (both triangles stored) symmetric f×f matrix as an operator.
pub struct Dense<'a, M>(pub &'a [f32], pub std::marker::PhantomData<M>);

impl<M: Madd> LinearOperator for Dense<'_, M> {
    #[inline(always)]
    fn apply(&self, v: &[f32], out: &mut [f32]) {
        symv::<M>(self.0, v, out);
    }
}

/// Runs at most `steps` conjugate-gradient iterations on A·x = b from the
/// starting point in `x`. `r`, `p` and `ap` are scratch vectors of x's length.
#[inline(always)]
pub fn conjugate_gradient<M: Madd>(
    a: &impl LinearOperator,
    b: &[f32],
    x: &mut [f32],
    steps: usize,
    r: &mut [f32],
    p: &mut [f32],
    ap: &mut [f32],
) {
    const TINY: f32 = 1e-20;
    a.apply(x, ap);
    for i in 0..x.len() {
        r[i] = b[i] - ap[i];
        p[i] = r[i];
    }
    let mut rs_old = dot::<M>(r, r);
    for _ in 0..steps {
        if rs_old < TINY {
            break;
        }
        a.apply(p, ap);
        let p_ap = dot::<M>(p, ap);
        if p_ap.is_nan() || p_ap <= 0.0 {
            break;
        }
        let step = rs_old / p_ap;
        axpy::<M>(step, p, x);
        axpy::<M>(-step, ap, r);
        let rs_new = dot::<M>(r, r);
        if rs_new < TINY {
            break;
        }
        let beta = rs_new / rs_old;
        for (pi, ri) in p.iter_mut().zip(r.iter()) {
            *pi = M::madd(beta, *pi, *ri);
        }
        rs_old = rs_new;
    }
}

/// out ← M·v for the full (both triangles stored) symmetric f×f matrix `m`,
/// as Σ_j v_j·(row j of M): four rows per pass over `out`, so the products
/// vectorise along the rows with no horizontal sums (each element's sum runs
/// over j in order: the same result on every run).
#[inline(always)]
pub fn symv<M: Madd>(m: &[f32], v: &[f32], out: &mut [f32]) {
    let f = v.len();
    let out = &mut out[..f];
    out.fill(0.0);
    let mut j = 0;
    while j + 4 <= f {
        let (v0, v1, v2, v3) = (v[j], v[j + 1], v[j + 2], v[j + 3]);
        let rows = &m[j * f..(j + 4) * f];
        let (r0, rest) = rows.split_at(f);
        let (r1, rest) = rest.split_at(f);
        let (r2, r3) = rest.split_at(f);
        for ((((o, &a), &b), &c), &d) in out.iter_mut().zip(r0).zip(r1).zip(r2).zip(r3) {
            *o = M::madd(v3, d, M::madd(v2, c, M::madd(v1, b, M::madd(v0, a, *o))));
        }
        j += 4;
    }
    while j < f {
        axpy::<M>(v[j], &m[j * f..(j + 1) * f], out);
        j += 1;
    }
}

/// out ← out + Σ_k w_k (z_k·v) z_k over the rows z_k of `z` (n×d): four rows
/// at a time, their dot products side by side and their updates in one pass
/// over `out`. Each term is [`dot`] and [`axpy`]'s, added in row order, so
/// the result equals doing them one by one.
#[inline(always)]
pub fn add_rank_one_products<M: Madd>(z: &[f32], w: &[f32], v: &[f32], out: &mut [f32]) {
    let d = v.len();
    let quads = w.len() / 4;
    for (block, ws) in z.chunks_exact(4 * d).zip(w.chunks_exact(4)) {
        let (z0, rest) = block.split_at(d);
        let (z1, rest) = rest.split_at(d);
        let (z2, z3) = rest.split_at(d);
        let s0 = ws[0] * dot::<M>(z0, v);
        let s1 = ws[1] * dot::<M>(z1, v);
        let s2 = ws[2] * dot::<M>(z2, v);
        let s3 = ws[3] * dot::<M>(z3, v);
        for ((((o, &a), &b), &c), &e) in out.iter_mut().zip(z0).zip(z1).zip(z2).zip(z3) {
            *o = M::madd(s3, e, M::madd(s2, c, M::madd(s1, b, M::madd(s0, a, *o))));
        }
    }
    for (zi, &wi) in z[4 * quads * d..].chunks_exact(d).zip(&w[4 * quads..]) {
        axpy::<M>(wi * dot::<M>(zi, v), zi, out);
    }
}

crate::simd_dispatch!(
    /// Dot product (runtime-dispatched [`dot`]).
    pub fn dot_product(a: &[f32], b: &[f32]) -> f32 = dot
);

crate::simd_dispatch!(
    /// Adds Σ_k w_k z_k z_kᵀ to the lower triangle of `a` (runtime-dispatched
    /// [`gram_accumulate`]).
    pub fn gram_lower(a: &mut [f32], d: usize, z: &[f32], w: &[f32]) -> () = gram_accumulate
);

/// YᵀY (f×f, both triangles) of the row-major n×f matrix `y`: the Gram matrix
/// that implicit models share across all rows of a half-iteration.
pub fn gram_matrix(y: &[f32], f: usize) -> Vec<f32> {
    let mut g = vec![0.0f32; f * f];
    let ones = vec![1.0f32; y.len() / f.max(1)];
    gram_lower(&mut g, f, y, &ones);
    symmetrize(&mut g, f);
    g
}

/// Copies the lower triangle of the f×f row-major `g` into its upper triangle.
pub fn symmetrize(g: &mut [f32], f: usize) {
    for i in 0..f {
        for j in 0..i {
            g[j * f + i] = g[i * f + j];
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
        for (d, n) in [(1, 0), (3, 5), (8, 4), (17, 9), (65, 13)] {
            let mut s = (d * 31 + n) as u64;
            let v: Vec<f32> = (0..d).map(|_| lcg(&mut s)).collect();
            let z: Vec<f32> = (0..n * d).map(|_| lcg(&mut s)).collect();
            let w: Vec<f32> = (0..n).map(|_| lcg(&mut s)).collect();
            let mut blocked = v.clone();
            add_rank_one_products::<Fused>(&z, &w, &v, &mut blocked);
            let mut one_by_one = v.clone();
            for (zi, &wi) in z.chunks_exact(d).zip(&w) {
                axpy::<Fused>(wi * dot::<Fused>(zi, &v), zi, &mut one_by_one);
            }
            assert_eq!(blocked, one_by_one, "d={d} n={n}");
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
    fn gram_accumulate_matches_naive_lower_triangle() {
        let (d, n) = (13, 11);
        let mut s = 5;
        let z: Vec<f32> = (0..n * d).map(|_| lcg(&mut s)).collect();
        let w: Vec<f32> = (0..n).map(|_| lcg(&mut s) + 1.0).collect();
        let mut a = vec![0.0f32; d * d];
        gram_accumulate::<Plain>(&mut a, d, &z, &w);
        for i in 0..d {
            for j in 0..d {
                let want: f32 = (0..n).map(|k| w[k] * z[k * d + i] * z[k * d + j]).sum();
                if j <= i {
                    assert!((a[i * d + j] - want).abs() < 1e-5);
                } else {
                    assert_eq!(a[i * d + j], 0.0, "upper triangle must stay untouched");
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
        for d in [1, 2, 5, 16, 33] {
            let (a, b) = spd(d, d as u64);
            let mut l = a.clone();
            cholesky::<Plain>(&mut l, d).unwrap();
            let mut x = b.clone();
            cholesky_solve::<Plain>(&l, d, &mut x);
            assert!(residual(&a, &x, &b) < 1e-3, "d={d}");
        }
    }

    #[test]
    fn cholesky_rejects_indefinite_matrix() {
        let mut a = vec![1.0, 0.0, 2.0, 1.0]; // [[1,2],[2,1]] has a negative eigenvalue
        assert_eq!(cholesky::<Plain>(&mut a, 2), Err(NotPositiveDefinite));
        let mut zero = vec![0.0; 4];
        assert_eq!(cholesky::<Plain>(&mut zero, 2), Err(NotPositiveDefinite));
    }

    #[test]
    fn conjugate_gradient_converges_to_cholesky_solution() {
        let d = 12;
        let (a, b) = spd(d, 99);
        let mut x = vec![0.0f32; d];
        let (mut r, mut p, mut ap) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
        conjugate_gradient::<Plain>(
            &Dense::<Plain>(&a, Default::default()),
            &b,
            &mut x,
            3 * d,
            &mut r,
            &mut p,
            &mut ap,
        );
        assert!(residual(&a, &x, &b) < 1e-3);
        // A few steps from zero reduce the residual but do not solve exactly.
        let mut x3 = vec![0.0f32; d];
        conjugate_gradient::<Plain>(&Dense::<Plain>(&a, Default::default()), &b, &mut x3, 1, &mut r, &mut p, &mut ap);
        let r0 = residual(&a, &vec![0.0; d], &b);
        assert!(residual(&a, &x3, &b) < r0);
    }
}
