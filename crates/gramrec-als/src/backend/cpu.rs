//! The CPU backend: rows solved in parallel with rayon, each by the shared
//! [`RowSolver`] of gramrec-core. Results do not depend on the thread count:
//! every row is solved independently, and sums are reduced in fixed-size
//! chunks in a fixed order.

use std::time::Instant;

use gramrec_core::linalg::{dot_product, gram_lower, symmetrize};
use gramrec_core::normal_eq::{solve_row, Phase};
use gramrec_core::{Error, FixedSide, ModelKind, Result, Row, RowSolver, Side};
use rayon::prelude::*;

use super::{Backend, Loss, PhaseTimes, Problem};

/// Rows per task in reductions: fixed, so sums are independent of threads.
const CHUNK_ROWS: usize = 1024;

/// ALS on the CPU.
pub struct CpuBackend<'a> {
    p: Problem<'a>,
    users: Vec<f32>,
    items: Vec<f32>,
    pool: rayon::ThreadPool,
}

impl<'a> CpuBackend<'a> {
    /// A backend over `threads` threads (0 = one per core) starting from the
    /// given factors (rows × `params.dim()`).
    pub fn new(p: Problem<'a>, users: Vec<f32>, items: Vec<f32>, threads: usize) -> Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::System(format!("cannot start {threads} threads: {e}")))?;
        Ok(Self { p, users, items, pool })
    }
}

/// YᵀY of the first f columns of rows × d factors, summed in fixed chunks.
fn gram_parallel(y: &[f32], f: usize, d: usize) -> Vec<f32> {
    assert_eq!(f, d, "implicit models have no bias column");
    let partials: Vec<Vec<f32>> = y
        .par_chunks(CHUNK_ROWS * d)
        .map(|chunk| {
            let mut g = vec![0.0f32; f * f];
            gram_lower(&mut g, f, chunk, &vec![1.0; chunk.len() / d]);
            g
        })
        .collect();
    let mut g = vec![0.0f32; f * f];
    for part in partials {
        for (a, b) in g.iter_mut().zip(part) {
            *a += b;
        }
    }
    symmetrize(&mut g, f);
    g
}

impl Backend for CpuBackend<'_> {
    fn describe(&self) -> String {
        format!("cpu ({} threads)", self.pool.current_num_threads())
    }

    fn solve(&mut self, side: Side) -> Result<PhaseTimes> {
        let p = self.p;
        let (f, d) = (p.params.factors, p.params.dim());
        let (target, fixed, csr, ids, name) = match side {
            Side::Users => (&mut self.users, &self.items, &p.data.by_user, &p.data.users, "user"),
            Side::Items => (&mut self.items, &self.users, &p.data.by_item, &p.data.items, "item"),
        };
        self.pool.install(|| {
            let start = Instant::now();
            let gram = (p.params.kind == ModelKind::Implicit).then(|| gram_parallel(fixed, f, d));
            let gram_seconds = start.elapsed().as_secs_f64();
            let fixed = FixedSide { factors: fixed, gram: gram.as_deref(), global_mean: p.global_mean };
            let busy = target
                .par_chunks_mut(d)
                .enumerate()
                .map_init(
                    || RowSolver::new(p.params),
                    |solver, (row, x)| {
                        let (cols, vals) = csr.row(row);
                        let t0 = Instant::now();
                        let mut built = t0;
                        solve_row(solver, &fixed, Row { cols, vals }, p.solver, x, &mut |phase| {
                            if phase == Phase::Built {
                                built = Instant::now();
                            }
                        })
                        .map_err(|cause| Error::Solve {
                            side: name,
                            id: ids[row].clone(),
                            cause,
                        })?;
                        let done = Instant::now();
                        Ok::<_, Error>(PhaseTimes {
                            build: (built - t0).as_secs_f64(),
                            solve: (done - built).as_secs_f64(),
                        })
                    },
                )
                .try_reduce(PhaseTimes::default, |mut a, b| {
                    a += b;
                    Ok(a)
                })?;
            let wall = start.elapsed().as_secs_f64() - gram_seconds;
            // Split the wall time by the share of busy thread-time in each phase.
            let total = (busy.build + busy.solve).max(f64::MIN_POSITIVE);
            Ok(PhaseTimes { build: gram_seconds + wall * busy.build / total, solve: wall * busy.solve / total })
        })
    }

    fn loss(&mut self) -> Result<Loss> {
        let p = self.p;
        let params = p.params;
        let (f, d) = (params.factors, params.dim());
        let (users, items) = (&self.users, &self.items);
        let csr = &p.data.by_user;
        let (n_users, n_items) = (users.len() / d, items.len() / d);
        let unobserved = params.unobserved_weight() as f64;
        self.pool.install(|| {
            let gram = (params.kind == ModelKind::Implicit).then(|| gram_parallel(items, f, d));
            let partials: Vec<(f64, f64)> = users
                .par_chunks(CHUNK_ROWS * d)
                .enumerate()
                .map(|(chunk, rows)| {
                    let (mut data, mut reg) = (0.0f64, 0.0f64);
                    let mut gx = vec![0.0f32; f];
                    for (k, x) in rows.chunks_exact(d).enumerate() {
                        let u = chunk * CHUNK_ROWS + k;
                        let (cols, vals) = csr.row(u);
                        reg += params.shift(cols.len(), n_items) as f64 * dot_product(x, x) as f64;
                        if let Some(g) = &gram {
                            for (i, o) in gx.iter_mut().enumerate() {
                                *o = dot_product(&g[i * f..(i + 1) * f], &x[..f]);
                            }
                            data += unobserved * dot_product(&gx, &x[..f]) as f64;
                        }
                        for (&i, &r) in cols.iter().zip(vals) {
                            let y = &items[i as usize * d..(i as usize + 1) * d];
                            let s = dot_product(&x[..f], &y[..f]) as f64;
                            data += match params.kind {
                                ModelKind::Explicit => {
                                    let bias =
                                        if params.uses_biases() { (p.global_mean + x[f] + y[f]) as f64 } else { 0.0 };
                                    (r as f64 - s - bias).powi(2)
                                }
                                ModelKind::Implicit => {
                                    let c = params.confidence_of(r) as f64;
                                    let pref = if r > 0.0 { 1.0 } else { 0.0 };
                                    c * (pref - s).powi(2) - unobserved * s * s
                                }
                            };
                        }
                    }
                    (data, reg)
                })
                .collect();
            let item_reg: Vec<f64> = items
                .par_chunks(CHUNK_ROWS * d)
                .enumerate()
                .map(|(chunk, rows)| {
                    rows.chunks_exact(d)
                        .enumerate()
                        .map(|(k, y)| {
                            params.shift(p.data.by_item.degree(chunk * CHUNK_ROWS + k), n_users) as f64
                                * dot_product(y, y) as f64
                        })
                        .sum()
                })
                .collect();
            let (data, user_reg) = partials.iter().fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
            Ok(Loss { data, reg: user_reg + item_reg.iter().sum::<f64>() })
        })
    }

    fn factors(&mut self) -> Result<(Vec<f32>, Vec<f32>)> {
        Ok((self.users.clone(), self.items.clone()))
    }
}
