//! One row's draw from its conditional posterior: the same on every
//! backend that runs on the CPU (the GPU's kernel, `wgsl/cholesky.wgsl`,
//! makes the same draws: the mean, then U⁻¹ε element by element).

use gramrec_core::linalg::dot_product;
use gramrec_core::prior::{solve_with_prior, PriorSolver};
use gramrec_core::{FixedSide, Row, SolveError};

use super::philox::Normals;

/// Draws one row `x` from its conditional posterior given its ratings:
/// the mean and Λ*'s Cholesky factor UᵀU from [`solve_with_prior`] (the
/// solve fold-in uses), then U⁻¹ε by back substitution added, whose
/// covariance is U⁻¹U⁻ᵀ = Λ*⁻¹. `noise` is scratch for it.
pub(crate) fn draw_row(
    solver: &mut PriorSolver,
    fixed: &FixedSide<'_>,
    row: Row<'_>,
    normals: &mut Normals,
    noise: &mut Vec<f32>,
    x: &mut [f32],
) -> Result<(), SolveError> {
    let d = x.len();
    solve_with_prior(solver, fixed, row, x)?;
    let u = solver.factor();
    // ε_i is the row's i-th draw (so a GPU thread can make element i's
    // draw by itself), then U e = ε from the last element up.
    noise.clear();
    noise.extend((0..d).map(|_| normals.draw()));
    for i in (0..d).rev() {
        let ui = &u[i * d + i..(i + 1) * d];
        noise[i] = (noise[i] - dot_product(&ui[1..], &noise[i + 1..])) / ui[0];
    }
    x.iter_mut().zip(noise.iter()).for_each(|(x, e)| *x += e);
    // As the GPU kernel refuses to store one: a draw past f32's range.
    if !x.iter().all(|v| v.is_finite()) {
        return Err(SolveError::Precision);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use gramrec_core::GaussianPrior;

    use super::*;

    /// A row's draws against the closed-form posterior of a tiny problem:
    /// three ratings of rows with 2 factors and a bias, a full prior. The
    /// mean and covariance of 40,000 draws (each at its own place of the
    /// generator) match N(Λ*⁻¹b, Λ*⁻¹) computed in f64.
    #[test]
    fn row_draws_follow_the_closed_form_posterior() {
        let (f, d) = (2, 3);
        let fixed_rows = [0.5f32, -1.0, 0.2, 1.5, 0.3, -0.4, -0.7, 0.8, 0.1];
        let (cols, vals) = ([0u32, 1, 2], [4.0f32, 2.5, 3.0]);
        let (mu0, tau) = (3.2f32, 2.0f32);
        let precision = [2.0f32, 0.3, 0.1, 0.3, 1.5, -0.2, 0.1, -0.2, 1.0];
        let mean = [0.1f32, -0.2, 0.05];
        let shift: Vec<f32> = (0..d).map(|i| (0..d).map(|j| precision[i * d + j] * mean[j]).sum()).collect();
        // Λ* and b in f64.
        let mut a: Vec<f64> = precision.iter().map(|&v| f64::from(v)).collect();
        let mut b: Vec<f64> = shift.iter().map(|&v| f64::from(v)).collect();
        for (&c, &v) in cols.iter().zip(&vals) {
            let y = &fixed_rows[c as usize * d..(c as usize + 1) * d];
            let z = [f64::from(y[0]), f64::from(y[1]), 1.0];
            let t = f64::from(v - mu0 - y[f]);
            for i in 0..d {
                b[i] += f64::from(tau) * t * z[i];
                for j in 0..d {
                    a[i * d + j] += f64::from(tau) * z[i] * z[j];
                }
            }
        }
        let covariance = invert3(&a);
        let want_mean: Vec<f64> = (0..d).map(|i| (0..d).map(|j| covariance[i * d + j] * b[j]).sum()).collect();

        let fixed = FixedSide { factors: &fixed_rows, gram: None, global_mean: mu0, rows: 3 };
        let prior = GaussianPrior { mean: mean.to_vec(), precision: precision.to_vec() };
        let mut solver = PriorSolver::new(&prior, tau, f, true);
        let n = 40_000;
        let mut noise = Vec::new();
        let draws: Vec<Vec<f64>> = (0..n)
            .map(|k| {
                let mut x = vec![0.0f32; d];
                let mut normals = Normals::new(11, [k, 0, 0]);
                draw_row(&mut solver, &fixed, Row { cols: &cols, vals: &vals }, &mut normals, &mut noise, &mut x)
                    .unwrap();
                x.iter().map(|&v| f64::from(v)).collect()
            })
            .collect();
        for i in 0..d {
            let m = draws.iter().map(|x| x[i]).sum::<f64>() / n as f64;
            let se = (covariance[i * d + i] / n as f64).sqrt();
            assert!((m - want_mean[i]).abs() < 4.0 * se, "mean {i}: {m} against {}", want_mean[i]);
            for j in 0..d {
                let c = draws.iter().map(|x| (x[i] - want_mean[i]) * (x[j] - want_mean[j])).sum::<f64>() / n as f64;
                let scale = (covariance[i * d + i] * covariance[j * d + j]).sqrt();
                assert!(
                    (c - covariance[i * d + j]).abs() < 0.03 * scale,
                    "cov {i}{j}: {c} against {}",
                    covariance[i * d + j]
                );
            }
        }
    }

    fn invert3(a: &[f64]) -> Vec<f64> {
        let m = |i: usize, j: usize| a[i * 3 + j];
        let det = m(0, 0) * (m(1, 1) * m(2, 2) - m(1, 2) * m(2, 1)) - m(0, 1) * (m(1, 0) * m(2, 2) - m(1, 2) * m(2, 0))
            + m(0, 2) * (m(1, 0) * m(2, 1) - m(1, 1) * m(2, 0));
        let mut inv = vec![0.0; 9];
        for i in 0..3 {
            for j in 0..3 {
                let (r0, r1) = ((j + 1) % 3, (j + 2) % 3);
                let (c0, c1) = ((i + 1) % 3, (i + 2) % 3);
                inv[i * 3 + j] = (m(r0, c0) * m(r1, c1) - m(r0, c1) * m(r1, c0)) / det;
            }
        }
        inv
    }
}
