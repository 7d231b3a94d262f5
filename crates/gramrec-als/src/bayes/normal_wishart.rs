//! A side's prior, drawn each sweep from its Normal–Wishart conditional.
//!
//! Every row x of a side (its factors and its bias) has the prior
//! N(μ, Λ⁻¹); μ and Λ have the hyperprior Normal–Wishart(μ₀ = 0, β₀ = 2,
//! ν₀ = d, W₀ = I), as Salakhutdinov and Mnih (2008) set it. Given the
//! side's n rows, with mean x̄ and scatter S = Σ (x − x̄)(x − x̄)ᵀ, the
//! conditional is Normal–Wishart again:
//!
//! β* = β₀ + n, μ* = n·x̄/β*, ν* = ν₀ + n, W*⁻¹ = W₀⁻¹ + S + (β₀n/β*)·x̄x̄ᵀ;
//! Λ ~ Wishart(ν*, W*), then μ ~ N(μ*, (β*Λ)⁻¹).
//!
//! d is at most 1,025, so this is small dense work on the host, in f64.

use gramrec_core::linalg::NotPositiveDefinite;
use rand::Rng;
use rand_distr::{ChiSquared, Distribution, StandardNormal};
use rayon::prelude::*;

/// β₀: how many rows' worth of weight the hyperprior's mean has.
const BETA0: f64 = 2.0;

/// The fewest rows per task of the sums.
const CHUNK_ROWS: usize = 1024;
/// The most memory the sums' partial d×d matrices take at once (64 MiB: 8
/// partials at 1,025 unknowns, 64 or fewer chunks below 363).
const MAX_PARTIAL_BYTES: usize = 64 << 20;

/// A side's prior: every row is N(`mean`, `precision`⁻¹).
#[derive(Debug, Clone, PartialEq)]
pub struct RowPrior {
    /// μ, d values.
    pub mean: Vec<f64>,
    /// Λ, d×d row-major, symmetric positive definite.
    pub precision: Vec<f64>,
}

/// Draws (μ, Λ) given the side's rows (rows × `d`), with `rng`; `None` when
/// the rows are not finite (a chain that diverged).
pub fn draw(rows: &[f32], d: usize, rng: &mut impl Rng) -> Option<RowPrior> {
    if !rows.iter().all(|v| v.is_finite()) {
        return None;
    }
    let n = rows.len() / d;
    let (sum, outer) = moments(rows, d);
    let nf = n as f64;
    let beta = BETA0 + nf;
    let xbar: Vec<f64> = sum.iter().map(|s| s / nf.max(1.0)).collect();
    // W*⁻¹ = I + Σ xxᵀ − n x̄x̄ᵀ + (β₀n/β*) x̄x̄ᵀ.
    let shrink = BETA0 * nf / beta - nf;
    let mut w_inv = outer;
    for i in 0..d {
        for j in 0..d {
            w_inv[i * d + j] += shrink * xbar[i] * xbar[j] + if i == j { 1.0 } else { 0.0 };
        }
    }
    let scale = inverse_spd(&w_inv, d);
    // ν₀ = d: the least degrees of freedom that make the hyperprior proper.
    let precision = wishart(d as f64 + nf, &scale, d, rng);
    // μ ~ N(μ*, (β*Λ)⁻¹): with β*Λ = MMᵀ, μ* + M⁻ᵀε.
    let mut m: Vec<f64> = precision.iter().map(|v| v * beta).collect();
    cholesky_lower(&mut m, d).expect("a Wishart draw is positive definite");
    let mut e: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
    solve_upper_transposed(&m, d, &mut e);
    let mean = xbar.iter().zip(&e).map(|(x, e)| nf * x / beta + e).collect();
    Some(RowPrior { mean, precision })
}

/// Σx and Σxxᵀ over the rows, in f64, summed in chunks that depend on the
/// rows' shape alone (so not on the thread count): at most
/// [`MAX_PARTIAL_BYTES`] of d×d partial sums at once.
fn moments(rows: &[f32], d: usize) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len() / d.max(1);
    let partials = (MAX_PARTIAL_BYTES / (8 * d * d).max(1)).max(1);
    let chunk = n.div_ceil(partials).max(CHUNK_ROWS);
    let parts: Vec<(Vec<f64>, Vec<f64>)> = rows
        .par_chunks(chunk * d)
        .map(|chunk| {
            let (mut sum, mut outer) = (vec![0.0f64; d], vec![0.0f64; d * d]);
            for x in chunk.chunks_exact(d) {
                for (i, &xi) in x.iter().enumerate() {
                    let xi = f64::from(xi);
                    sum[i] += xi;
                    for (o, &xj) in outer[i * d..(i + 1) * d].iter_mut().zip(x) {
                        *o += xi * f64::from(xj);
                    }
                }
            }
            (sum, outer)
        })
        .collect();
    let (mut sum, mut outer) = (vec![0.0f64; d], vec![0.0f64; d * d]);
    for (s, o) in parts {
        sum.iter_mut().zip(s).for_each(|(a, b)| *a += b);
        outer.iter_mut().zip(o).for_each(|(a, b)| *a += b);
    }
    (sum, outer)
}

/// A Wishart(ν, W) draw by Bartlett's decomposition: with W = LLᵀ and A
/// lower triangular, A_ii = √χ²(ν − i), A_ij ~ N(0, 1) below the diagonal,
/// LAAᵀLᵀ. `nu` must exceed d − 1.
pub fn wishart(nu: f64, scale: &[f64], d: usize, rng: &mut impl Rng) -> Vec<f64> {
    let mut l = scale.to_vec();
    cholesky_lower(&mut l, d).expect("the Wishart scale is positive definite");
    let mut a = vec![0.0f64; d * d];
    for i in 0..d {
        let chi = ChiSquared::new(nu - i as f64).expect("ν > d − 1");
        a[i * d + i] = chi.sample(rng).sqrt();
        for j in 0..i {
            a[i * d + j] = rng.sample(StandardNormal);
        }
    }
    // B = LA (both lower triangular), then BBᵀ.
    let mut b = vec![0.0f64; d * d];
    for i in 0..d {
        for j in 0..=i {
            b[i * d + j] = (j..=i).map(|k| l[i * d + k] * a[k * d + j]).sum();
        }
    }
    let mut out = vec![0.0f64; d * d];
    for i in 0..d {
        for j in 0..=i {
            let v: f64 = (0..=j).map(|k| b[i * d + k] * b[j * d + k]).sum();
            out[i * d + j] = v;
            out[j * d + i] = v;
        }
    }
    out
}

/// Factors the symmetric d×d `a` in place into its lower Cholesky factor L
/// (a = LLᵀ; the upper triangle is zeroed). `Err` when not positive definite.
fn cholesky_lower(a: &mut [f64], d: usize) -> Result<(), NotPositiveDefinite> {
    for j in 0..d {
        let diag = a[j * d + j] - (0..j).map(|k| a[j * d + k] * a[j * d + k]).sum::<f64>();
        if !(diag > 0.0 && diag.is_finite()) {
            return Err(NotPositiveDefinite);
        }
        let ljj = diag.sqrt();
        a[j * d + j] = ljj;
        for i in j + 1..d {
            let s = a[i * d + j] - (0..j).map(|k| a[i * d + k] * a[j * d + k]).sum::<f64>();
            a[i * d + j] = s / ljj;
        }
        for k in j + 1..d {
            a[j * d + k] = 0.0;
        }
    }
    Ok(())
}

/// Solves Lᵀx = b in place, L lower triangular from [`cholesky_lower`].
fn solve_upper_transposed(l: &[f64], d: usize, b: &mut [f64]) {
    for i in (0..d).rev() {
        let s: f64 = (i + 1..d).map(|k| l[k * d + i] * b[k]).sum();
        b[i] = (b[i] - s) / l[i * d + i];
    }
}

/// Solves Lx = b in place, L lower triangular.
fn solve_lower(l: &[f64], d: usize, b: &mut [f64]) {
    for i in 0..d {
        let s: f64 = (0..i).map(|k| l[i * d + k] * b[k]).sum();
        b[i] = (b[i] - s) / l[i * d + i];
    }
}

/// The inverse of a symmetric positive definite d×d matrix.
fn inverse_spd(a: &[f64], d: usize) -> Vec<f64> {
    let mut l = a.to_vec();
    cholesky_lower(&mut l, d).expect("W₀⁻¹ + S is positive definite");
    let mut inv = vec![0.0f64; d * d];
    let mut col = vec![0.0f64; d];
    for j in 0..d {
        col.iter_mut().enumerate().for_each(|(i, c)| *c = f64::from(u8::from(i == j)));
        solve_lower(&l, d, &mut col);
        solve_upper_transposed(&l, d, &mut col);
        for i in 0..d {
            inv[i * d + j] = col[i];
        }
    }
    inv
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// E[Λ] = νW and Var(Λ_ij) = ν(W_ij² + W_ii W_jj) for Λ ~ Wishart(ν, W).
    #[test]
    fn wishart_draws_have_the_wishart_moments() {
        let (d, nu, n) = (3, 5.5, 40_000);
        let w = [2.0, 0.5, -0.3, 0.5, 1.0, 0.2, -0.3, 0.2, 0.5];
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let draws: Vec<Vec<f64>> = (0..n).map(|_| wishart(nu, &w, d, &mut rng)).collect();
        for i in 0..d {
            for j in 0..d {
                let mean = draws.iter().map(|x| x[i * d + j]).sum::<f64>() / n as f64;
                let var = nu * (w[i * d + j] * w[i * d + j] + w[i * d + i] * w[j * d + j]);
                let se = (var / n as f64).sqrt();
                assert!((mean - nu * w[i * d + j]).abs() < 4.0 * se, "E[Λ{i}{j}] = {mean}, not {}", nu * w[i * d + j]);
                let sample_var = draws.iter().map(|x| (x[i * d + j] - mean).powi(2)).sum::<f64>() / n as f64;
                assert!((sample_var / var - 1.0).abs() < 0.06, "Var(Λ{i}{j}) = {sample_var}, not {var}");
            }
        }
    }

    /// With many rows the drawn prior concentrates where the rows are: μ
    /// near their mean, Λ⁻¹ near their covariance.
    #[test]
    fn the_drawn_prior_follows_the_rows() {
        let (d, n) = (2, 50_000);
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        // Rows with mean (1, −2) and covariance [[0.25, 0.1], [0.1, 0.5]].
        let cov = [0.25, 0.1, 0.1, 0.5];
        let mut l = cov.to_vec();
        cholesky_lower(&mut l, d).unwrap();
        let rows: Vec<f32> = (0..n)
            .flat_map(|_| {
                let e: [f64; 2] = [rng.sample(StandardNormal), rng.sample(StandardNormal)];
                [1.0 + l[0] * e[0], -2.0 + l[2] * e[0] + l[3] * e[1]].map(|v| v as f32)
            })
            .collect();
        let prior = draw(&rows, d, &mut rng).unwrap();
        assert!((prior.mean[0] - 1.0).abs() < 0.02 && (prior.mean[1] + 2.0).abs() < 0.02, "{:?}", prior.mean);
        let covariance = inverse_spd(&prior.precision, d);
        for (got, want) in covariance.iter().zip(cov) {
            assert!((got - want).abs() < 0.02, "covariance {covariance:?}, not {cov:?}");
        }
    }

    #[test]
    fn inverse_and_cholesky_agree() {
        let a = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
        let inv = inverse_spd(&a, 3);
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| a[i * 3 + k] * inv[k * 3 + j]).sum();
                assert!((v - f64::from(u8::from(i == j))).abs() < 1e-12);
            }
        }
        assert!(cholesky_lower(&mut [1.0, 2.0, 2.0, 1.0], 2).is_err(), "indefinite");
    }
}
