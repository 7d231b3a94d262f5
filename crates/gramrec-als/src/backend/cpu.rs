//! The CPU backend: blocks of rows solved in parallel with rayon, each by the
//! shared [`RowSolver`] of gramrec-core. Results do not depend on the thread
//! count: every row is solved independently, and sums are reduced in
//! fixed-size chunks (or blocks) in a fixed order.

use std::sync::Mutex;
use std::time::Instant;

use gramrec_core::linalg::{dot_product, gram_upper, symmetrize};
use gramrec_core::normal_eq::{objective_rows, solve_rows, Phase, BLOCK_ROWS};
use gramrec_core::prior::PriorSolver;
use gramrec_core::{Error, FixedSide, ModelKind, Result, Row, RowSolver, Side};
use rayon::prelude::*;

use super::{Backend, Conditional, Loss, PhaseTimes, Problem};
use crate::bayes::{draw_row, Normals};

/// Rows per task in reductions: fixed, so sums are independent of threads.
const CHUNK_ROWS: usize = 1024;

/// ALS on the CPU.
pub struct CpuBackend<'a> {
    p: Problem<'a>,
    users: Factors,
    items: Factors,
    pool: rayon::ThreadPool,
    /// One solver per thread of `pool`, kept from block to block and from
    /// one half-iteration to the next: a solver's scratch grows to the
    /// longest rows it has gathered, and growing it again for every task
    /// rayon splits off cost more than the solves of short rows.
    solvers: Vec<Mutex<RowSolver>>,
    /// The objective at the current factors, when the last half-iteration
    /// computed it on the way (item half-iterations do).
    objective: Option<Loss>,
}

impl<'a> CpuBackend<'a> {
    /// A backend over `threads` threads (0 = one per core) starting from the
    /// given factors (rows × `params.dim()`).
    pub fn new(p: Problem<'a>, users: Vec<f32>, items: Vec<f32>, threads: usize) -> Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::System(format!("cannot start {threads} threads: {e}")))?;
        let solvers = (0..pool.current_num_threads()).map(|_| Mutex::new(RowSolver::new(p.params))).collect();
        Ok(Self { p, users: Factors::new(&users), items: Factors::new(&items), pool, solvers, objective: None })
    }

    /// Runs `pass` over every row of `side` with the other side fixed, and
    /// returns the time taken and, unless the pass is a plain solve, the
    /// objective afterwards: each row's terms summed as the row is solved
    /// (or evaluated), plus the other side's regularisation.
    fn half_iteration(&mut self, side: Side, pass: Pass) -> Result<(PhaseTimes, Option<Loss>)> {
        let p = self.p;
        let (f, d) = (p.params.factors, p.params.dim());
        let (target, fixed, csr, other_csr, ids, name) = match side {
            Side::Users => (&mut self.users, &self.items, &p.data.by_user, &p.data.by_item, &p.data.users, "user"),
            Side::Items => (&mut self.items, &self.users, &p.data.by_item, &p.data.by_user, &p.data.items, "item"),
        };
        let solvers = &self.solvers;
        self.pool.install(|| {
            let start = Instant::now();
            let gram = (p.params.kind == ModelKind::Implicit).then(|| gram_parallel(fixed.rows(), f, d));
            let gram_seconds = start.elapsed().as_secs_f64();
            let fixed_side = FixedSide {
                factors: fixed.rows(),
                gram: gram.as_deref(),
                global_mean: p.global_mean,
                rows: fixed.rows().len() / d,
            };
            let blocks: Vec<(PhaseTimes, Loss)> = target
                .rows_mut()
                .par_chunks_mut(BLOCK_ROWS * d)
                .enumerate()
                .map(|(block, xs)| {
                    let first = block * BLOCK_ROWS;
                    let mut rows = [Row { cols: &[], vals: &[] }; BLOCK_ROWS];
                    for (k, row) in rows.iter_mut().enumerate().take(xs.len() / d) {
                        let (cols, vals) = csr.row(first + k);
                        *row = Row { cols, vals };
                    }
                    let mut clock = PhaseClock::new();
                    let mut objective = Loss::default();
                    // Each thread of the pool has its own solver, so the lock is never contended.
                    let thread = rayon::current_thread_index().unwrap_or(0) % solvers.len();
                    let mut solver_scratch = solvers[thread].lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    let rows = &rows[..xs.len() / d];
                    match pass {
                        Pass::Solve { objective: sum } => {
                            let sum = sum.then_some(&mut objective);
                            let observe = &mut |phase| clock.enter(phase);
                            solve_rows(&mut solver_scratch, &fixed_side, rows, p.solver, xs, sum, observe)
                        }
                        Pass::Evaluate => objective_rows(&mut solver_scratch, &fixed_side, rows, xs, &mut objective),
                    }
                    .map_err(|(k, cause)| Error::Solve {
                        side: name,
                        id: ids[first + k].clone(),
                        cause,
                    })?;
                    Ok((clock.stop(), objective))
                })
                .collect::<Result<_>>()?;
            let wall = start.elapsed().as_secs_f64() - gram_seconds;
            let (mut busy, mut objective) = (PhaseTimes::default(), Loss::default());
            for (times, part) in blocks {
                busy += times;
                objective += part;
            }
            let with_objective = pass != Pass::Solve { objective: false };
            if with_objective {
                objective.reg += regularisation(fixed.rows(), other_csr, p, target.rows().len() / d);
            }
            // Split the wall time by the share of busy thread-time in each phase.
            let total = (busy.build + busy.solve).max(f64::MIN_POSITIVE);
            let times =
                PhaseTimes { build: gram_seconds + wall * busy.build / total, solve: wall * busy.solve / total };
            Ok((times, with_objective.then_some(objective)))
        })
    }
}

/// What [`CpuBackend::half_iteration`] does with each row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// Solves it, and sums its terms of the objective on the way if asked.
    Solve { objective: bool },
    /// Sums its terms of the objective at its current factors.
    Evaluate,
}

/// Σ λ_r‖x_r‖² over the rows of `factors` (their interactions in `csr`,
/// `other_rows` rows on the other side), summed in fixed chunks.
fn regularisation(factors: &[f32], csr: &gramrec_data::Csr, p: Problem<'_>, other_rows: usize) -> f64 {
    let d = p.params.dim();
    let parts: Vec<f64> = factors
        .par_chunks(CHUNK_ROWS * d)
        .enumerate()
        .map(|(chunk, rows)| {
            rows.chunks_exact(d)
                .enumerate()
                .map(|(k, x)| {
                    p.params.shift(csr.degree(chunk * CHUNK_ROWS + k), other_rows) as f64 * dot_product(x, x) as f64
                })
                .sum()
        })
        .collect();
    parts.iter().sum()
}

/// A factor matrix where the gathers read it fast: its rows start at a
/// multiple of 64 bytes (so a 512-byte row is 8 cache lines, not 9), and
/// Linux is asked to back it with 2 MiB pages (transparent huge pages in
/// their default `madvise` mode). Every row solve gathers rows of the other
/// side's factors in an order no cache or TLB predicts; with 4 KiB pages
/// nearly every gathered row of a large matrix also misses the TLB
/// (BENCHMARKS.md: CG at 128 factors on the 10M set is 4–13% faster with
/// huge pages).
struct Factors {
    buffer: Vec<f32>,
    start: usize,
    len: usize,
}

impl Factors {
    /// A copy of `values`, aligned and (on Linux, when large) on huge pages.
    fn new(values: &[f32]) -> Self {
        const LINE: usize = 64;
        let mut buffer: Vec<f32> = Vec::with_capacity(values.len() + LINE / 4);
        let start = (buffer.as_ptr() as usize).next_multiple_of(LINE) - buffer.as_ptr() as usize;
        let start = start / 4;
        #[cfg(target_os = "linux")]
        {
            const HUGE: usize = 2 << 20;
            const PAGE: usize = 4096;
            let bytes = std::mem::size_of_val(values);
            if bytes >= 2 * HUGE {
                let from = (buffer.as_ptr() as usize).next_multiple_of(PAGE);
                let to = (buffer.as_ptr() as usize + 4 * start + bytes) / PAGE * PAGE;
                // SAFETY: [from, to) lies inside `buffer`'s allocation
                // (rounded inwards to whole pages), which nothing has touched
                // yet; the advice changes how pages are backed, never their
                // contents. Failure (a kernel without THP) leaves ordinary pages.
                unsafe { libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE) };
            }
        }
        buffer.resize(start, 0.0);
        buffer.extend_from_slice(values);
        Self { buffer, start, len: values.len() }
    }

    fn rows(&self) -> &[f32] {
        &self.buffer[self.start..self.start + self.len]
    }

    fn rows_mut(&mut self) -> &mut [f32] {
        &mut self.buffer[self.start..self.start + self.len]
    }
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

/// Splits a block's solve time between [`Phase`]s as the solver enters them.
struct PhaseClock {
    phase: Phase,
    since: Instant,
    times: PhaseTimes,
}

impl PhaseClock {
    /// Timing starts in [`Phase::Building`], as solving does.
    fn new() -> Self {
        Self { phase: Phase::Building, since: Instant::now(), times: PhaseTimes::default() }
    }

    /// The time since the last change goes to the phase it was spent in.
    fn enter(&mut self, phase: Phase) {
        let now = Instant::now();
        let spent = (now - self.since).as_secs_f64();
        match self.phase {
            Phase::Building => self.times.build += spent,
            Phase::Solving => self.times.solve += spent,
        }
        (self.phase, self.since) = (phase, now);
    }

    /// The times, the current phase's included.
    fn stop(mut self) -> PhaseTimes {
        self.enter(self.phase);
        self.times
    }
}

impl Backend for CpuBackend<'_> {
    fn describe(&self) -> String {
        format!("cpu ({} threads)", self.pool.current_num_threads())
    }

    fn solve(&mut self, side: Side) -> Result<PhaseTimes> {
        // The driver asks for the objective after each item half-iteration.
        let (times, objective) = self.half_iteration(side, Pass::Solve { objective: side == Side::Items })?;
        self.objective = objective;
        Ok(times)
    }

    /// Every row of `side` drawn in parallel by [`draw_row`], each from its
    /// own place of the generator.
    fn draw(&mut self, side: Side, c: &Conditional<'_>) -> Result<PhaseTimes> {
        self.objective = None;
        let p = self.p;
        let d = p.params.dim();
        let (target, fixed, csr, ids, name) = match side {
            Side::Users => (&mut self.users, &self.items, &p.data.by_user, &p.data.users, "user"),
            Side::Items => (&mut self.items, &self.users, &p.data.by_item, &p.data.items, "item"),
        };
        let start = Instant::now();
        let solver = PriorSolver::new(c.prior, c.noise, p.params.factors, p.params.uses_biases());
        let fixed =
            FixedSide { factors: fixed.rows(), gram: None, global_mean: p.global_mean, rows: fixed.rows().len() / d };
        self.pool.install(|| {
            target.rows_mut().par_chunks_mut(d).enumerate().try_for_each_init(
                || (solver.clone(), Vec::new()),
                |(solver, noise), (row, x)| {
                    let (cols, vals) = csr.row(row);
                    let mut normals = Normals::for_row(c.seed, &ids[row], c.half);
                    draw_row(solver, &fixed, Row { cols, vals }, &mut normals, noise, x).map_err(|cause| Error::Solve {
                        side: name,
                        id: ids[row].clone(),
                        cause,
                    })
                },
            )
        })?;
        Ok(PhaseTimes { build: 0.0, solve: start.elapsed().as_secs_f64() })
    }

    fn loss(&mut self) -> Result<Loss> {
        if self.objective.is_none() {
            self.objective = self.half_iteration(Side::Items, Pass::Evaluate)?.1;
        }
        Ok(self.objective.unwrap_or_default())
    }

    fn factors(&mut self) -> Result<(Vec<f32>, Vec<f32>)> {
        Ok((self.users.rows().to_vec(), self.items.rows().to_vec()))
    }
}
