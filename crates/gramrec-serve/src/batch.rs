//! Top-k requests scored together: concurrent requests are collected into
//! micro-batches and each batch goes once over the item panels with the
//! blocked kernel `recommend --all` uses, so a pass over the item factors
//! serves many users. One worker per core takes a batch (everything queued,
//! waiting at most `wait` for more while the batch is short of `max`),
//! scores it and answers; with `max` 1 every request is scored on its own.

use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gramrec_core::{ModelError, Recommendation, UserVector};
use tokio::sync::oneshot;

use crate::snapshot::Snapshot;

/// How requests are batched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    /// Most users scored in one pass (1: no batching).
    pub max: usize,
    /// Longest a request waits for others to join its batch.
    pub wait: Duration,
    /// Scoring threads (0: one per core).
    pub workers: usize,
}

impl Default for Batching {
    fn default() -> Self {
        Self { max: 64, wait: Duration::from_micros(200), workers: 0 }
    }
}

/// Whose recommendations to score.
#[derive(Debug)]
pub enum Query {
    /// A row already solved, with the item rows to leave out (ascending or not).
    Row {
        /// The user's row.
        vector: Arc<UserVector>,
        /// Item rows never recommended.
        exclude: Arc<Vec<usize>>,
    },
    /// A visitor's (item row, weight) history, folded in by the worker; its
    /// items are left out.
    History(Vec<(usize, f32)>),
}

struct Job {
    snapshot: Arc<Snapshot>,
    query: Query,
    k: usize,
    reply: oneshot::Sender<Result<Vec<Recommendation>, ModelError>>,
}

/// The scoring workers.
pub struct Batcher {
    queue: Option<mpsc::Sender<Job>>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

/// Called with each batch's size.
pub type OnBatch = Arc<dyn Fn(usize) + Send + Sync>;

impl Batcher {
    /// Starts the workers.
    pub fn start(opts: Batching, on_batch: OnBatch) -> Self {
        let (queue, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let n =
            if opts.workers == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { opts.workers };
        let workers = (0..n)
            .map(|i| {
                let (rx, on_batch) = (rx.clone(), on_batch.clone());
                std::thread::Builder::new()
                    .name(format!("gramrec-score-{i}"))
                    .spawn(move || {
                        while let Some(batch) = next_batch(&rx, opts) {
                            on_batch(batch.len());
                            score(batch);
                        }
                    })
                    .expect("a scoring thread starts")
            })
            .collect();
        Self { queue: Some(queue), workers }
    }

    /// The `k` best items for `query` under `snapshot`'s model.
    pub async fn top_k(
        &self,
        snapshot: Arc<Snapshot>,
        query: Query,
        k: usize,
    ) -> Result<Vec<Recommendation>, ModelError> {
        let (reply, answer) = oneshot::channel();
        let job = Job { snapshot, query, k, reply };
        self.queue.as_ref().expect("workers run until drop").send(job).expect("workers outlive the server");
        answer.await.expect("a worker answers every job")
    }
}

impl Drop for Batcher {
    fn drop(&mut self) {
        self.queue.take();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// Everything queued (at least one job), waiting up to `opts.wait` for more
/// while short of `opts.max`; `None` once the queue is closed.
fn next_batch(rx: &Mutex<mpsc::Receiver<Job>>, opts: Batching) -> Option<Vec<Job>> {
    let rx = rx.lock().unwrap_or_else(|p| p.into_inner());
    let mut batch = vec![rx.recv().ok()?];
    let deadline = Instant::now() + opts.wait;
    while batch.len() < opts.max {
        match rx.try_recv() {
            Ok(job) => batch.push(job),
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                match rx.recv_timeout(left) {
                    Ok(job) => batch.push(job),
                    Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
                }
            }
        }
    }
    Some(batch)
}

/// Scores a batch: jobs of the same model in one blocked pass.
fn score(mut batch: Vec<Job>) {
    while !batch.is_empty() {
        let first = batch[0].snapshot.clone();
        let (same, rest): (Vec<Job>, Vec<Job>) = batch.into_iter().partition(|j| Arc::ptr_eq(&j.snapshot, &first));
        batch = rest;
        score_one_model(&first, same);
    }
}

fn score_one_model(snapshot: &Snapshot, jobs: Vec<Job>) {
    let items = &snapshot.model.items;
    let mut ready = Vec::with_capacity(jobs.len());
    for job in jobs {
        let solved = match &job.query {
            Query::Row { vector, exclude } => Ok((vector.clone(), exclude.clone())),
            Query::History(h) => items.fold_in(h).map(|v| (Arc::new(v), Arc::new(h.iter().map(|&(i, _)| i).collect()))),
        };
        match solved {
            Ok((v, e)) => ready.push((job, v, e)),
            Err(e) => {
                let _ = job.reply.send(Err(e));
            }
        }
    }
    if ready.is_empty() {
        return;
    }
    let k = ready.iter().map(|(j, _, _)| j.k).max().unwrap_or(1);
    let users: Vec<&UserVector> = ready.iter().map(|(_, v, _)| v.as_ref()).collect();
    let excludes: Vec<&[usize]> = ready.iter().map(|(_, _, e)| e.as_slice()).collect();
    match items.recommend_block(&users, k, &excludes) {
        Ok(lists) => {
            for ((job, _, _), mut list) in ready.into_iter().zip(lists) {
                list.truncate(job.k);
                let _ = job.reply.send(Ok(list));
            }
        }
        Err(e) => {
            for (job, _, _) in ready {
                let _ = job.reply.send(Err(e.clone()));
            }
        }
    }
}
