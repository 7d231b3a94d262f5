//! The CPU backend: rows solved in parallel with rayon, each by the shared
//! [`RowSolver`] of gramrec-core. Results do not depend on the thread count:
//! every row is solved independently, and sums are reduced in fixed-size
//! chunks in a fixed order.

use std::time::Instant;

use gramrec_core::linalg::{dot, dot_product, gram_upper, symmetrize, symv};
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
        Ok(Self { p, users: on_huge_pages(users), items: on_huge_pages(items), pool })
    }
}

/// `values` moved into memory the kernel is asked to back with 2 MiB pages
/// (Linux's transparent huge pages in their default `madvise` mode). Every
/// row solve gathers rows of the other side's factors in an order no cache
/// or TLB predicts; with 4 KiB pages nearly every gathered row of a large
/// matrix also misses the TLB (BENCHMARKS.md: CG at 128 factors on the 10M
/// set is 4–13% faster with huge pages). Elsewhere, and for small
/// matrices, the values are returned as they are.
fn on_huge_pages(values: Vec<f32>) -> Vec<f32> {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        const PAGE: usize = 4096;
        let bytes = std::mem::size_of_val(values.as_slice());
        if bytes >= 2 * HUGE {
            let mut moved: Vec<f32> = Vec::with_capacity(values.len());
            let start = (moved.as_ptr() as usize).next_multiple_of(PAGE);
            let end = (moved.as_ptr() as usize + bytes) / PAGE * PAGE;
            // SAFETY: [start, end) lies inside `moved`'s allocation (rounded
            // inwards to whole pages), which nothing has touched yet; the
            // advice changes how pages are backed, never their contents.
            // Failure (a kernel without THP) leaves ordinary pages.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
            moved.extend_from_slice(&values);
            return moved;
        }
    }
    values
}

/// YᵀY of the first f columns of rows × d factors, summed in fixed chunks.
fn gram_parallel(y: &[f32], f: usize, d: usize) -> Vec<f32> {
    assert_eq!(f, d, "implicit models have no bias column");
    let partials: Vec<Vec<f32>> = y
        .par_chunks(CHUNK_ROWS * d)
        .map(|chunk| {
            let mut g = vec![0.0f32; f * f];
            gram_upper(&mut g, f, chunk, &vec![1.0; chunk.len() / d]);
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

/// What the loss of a block of users needs besides their factors.
struct LossTerms<'a> {
    p: Problem<'a>,
    gram: Option<&'a [f32]>,
    items: &'a [f32],
    /// The block's first user.
    first: usize,
}

gramrec_core::simd_dispatch!(
    /// The data and regularisation terms of the users in `rows` (their
    /// factors, `terms.first` onwards): one function compiled for AVX2+FMA,
    /// not a dispatched call per dot product.
    fn user_loss / user_loss_generic<M>(terms: &LossTerms<'_>, rows: &[f32]) -> (f64, f64) {
        let (p, params) = (terms.p, terms.p.params);
        let (f, d) = (params.factors, params.dim());
        let items = terms.items;
        let n_items = items.len() / d;
        let unobserved = params.unobserved_weight() as f64;
        let (mut data, mut reg) = (0.0f64, 0.0f64);
        let mut gx = vec![0.0f32; f];
        for (k, x) in rows.chunks_exact(d).enumerate() {
            let (cols, vals) = p.data.by_user.row(terms.first + k);
            reg += params.shift(cols.len(), n_items) as f64 * dot::<M>(x, x) as f64;
            if let Some(g) = terms.gram {
                symv::<M>(g, &x[..f], &mut gx);
                data += unobserved * dot::<M>(&gx, &x[..f]) as f64;
            }
            for (&i, &r) in cols.iter().zip(vals) {
                let y = &items[i as usize * d..(i as usize + 1) * d];
                let s = dot::<M>(&x[..f], &y[..f]) as f64;
                data += match params.kind {
                    ModelKind::Explicit => {
                        let bias = if params.uses_biases() { (p.global_mean + x[f] + y[f]) as f64 } else { 0.0 };
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
    }
);

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
        let n_users = users.len() / d;
        self.pool.install(|| {
            let gram = (params.kind == ModelKind::Implicit).then(|| gram_parallel(items, f, d));
            let partials: Vec<(f64, f64)> = users
                .par_chunks(CHUNK_ROWS * d)
                .enumerate()
                .map(|(chunk, rows)| {
                    let terms = LossTerms { p, gram: gram.as_deref(), items, first: chunk * CHUNK_ROWS };
                    user_loss(&terms, rows)
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
