//! The users whose rows changed since the model was trained: each one's
//! interactions (the training ones the model records, then the events, in
//! log order, merged as training merges duplicates) and the row solved from
//! them against the model's item factors.
//!
//! Appending is cheap and happens in log order (the event log's writer runs
//! it); solving is done by the request afterwards, outside any lock. A
//! solve stores its row only if no solve from a longer history got there
//! first, so however concurrent requests interleave, the row kept is the one
//! of the whole history: what a serial replay of the log gives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use gramrec_core::{Model, ModelError, ModelKind, UserVector};
use rayon::prelude::*;

const SHARDS: usize = 64;

/// A user's row as of some history, with the items to leave out of their
/// recommendations.
#[derive(Debug, Clone)]
pub struct Solved {
    /// The row.
    pub vector: Arc<UserVector>,
    /// Item rows the user has, ascending.
    pub seen: Arc<Vec<usize>>,
}

#[derive(Debug, Default)]
struct LiveUser {
    /// (item row, merged value), in first-seen order.
    history: Vec<(usize, f32)>,
    /// Item row → its place in `history`: an event is merged in constant
    /// time, however long the history (a scan per event made one post of
    /// 10,000 events hold the log's writer for a second).
    position: HashMap<usize, usize>,
    /// Events appended so far.
    events: u64,
    /// The row and the event count it was solved at.
    solved: Option<(u64, Solved)>,
}

/// Users with events, by ID, in shards so that requests for different
/// users rarely wait for each other.
#[derive(Debug)]
pub struct LiveUsers {
    shards: Vec<Mutex<HashMap<String, LiveUser>>>,
}

impl Default for LiveUsers {
    fn default() -> Self {
        Self { shards: (0..SHARDS).map(|_| Mutex::default()).collect() }
    }
}

/// Why a user's interactions cannot be solved again.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LiveError {
    /// An explicit model without its users' training ratings.
    #[error("this model does not record its users' training ratings (a model written before gramrec recorded them, or imported): retrain it to accept events for users it knows")]
    NoTrainingValues,
    /// The solve failed.
    #[error(transparent)]
    Model(#[from] ModelError),
}

fn shard_of(id: &str) -> usize {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(id) as usize % SHARDS
}

impl LiveUsers {
    fn shard(&self, id: &str) -> std::sync::MutexGuard<'_, HashMap<String, LiveUser>> {
        self.shards[shard_of(id)].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The training interactions `model` records for `user`, the start of a
    /// live history: (item row, value); weight 1 for an implicit model that
    /// records items but not values.
    fn training(model: &Model, user: &str) -> Result<Vec<(usize, f32)>, LiveError> {
        let Some(row) = model.user_row(user) else { return Ok(Vec::new()) };
        if let Some(h) = model.training_history(row) {
            return Ok(h);
        }
        match (model.items.meta().params.kind, model.seen(row)) {
            (ModelKind::Implicit, Some(seen)) => Ok(seen.iter().map(|&i| (i as usize, 1.0)).collect()),
            (ModelKind::Implicit, None) => Ok(Vec::new()),
            (ModelKind::Explicit, _) => Err(LiveError::NoTrainingValues),
        }
    }

    /// Adds `events` ((item row, weight), in log order) to `user`'s history.
    pub fn append(&self, model: &Model, user: &str, events: &[(usize, f32)]) -> Result<(), LiveError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut shard = self.shard(user);
        if !shard.contains_key(user) {
            let history = Self::training(model, user)?;
            let position = history.iter().enumerate().map(|(p, &(item, _))| (item, p)).collect();
            shard.insert(user.to_string(), LiveUser { history, position, ..Default::default() });
        }
        let live = shard.get_mut(user).expect("just inserted");
        let implicit = model.items.meta().params.kind == ModelKind::Implicit;
        for &(item, w) in events {
            match live.position.get(&item) {
                Some(&p) if implicit => live.history[p].1 += w,
                Some(&p) => live.history[p].1 = w,
                None => {
                    live.position.insert(item, live.history.len());
                    live.history.push((item, w));
                }
            }
        }
        live.events += events.len() as u64;
        Ok(())
    }

    /// Solves `user`'s row from their history as it is now (if it changed
    /// since the last solve) and keeps it unless a solve from a longer
    /// history already did.
    pub fn solve(&self, model: &Model, user: &str) -> Result<(), LiveError> {
        let (history, events) = {
            let shard = self.shard(user);
            let Some(live) = shard.get(user) else { return Ok(()) };
            if live.solved.as_ref().is_some_and(|(at, _)| *at == live.events) {
                return Ok(());
            }
            (live.history.clone(), live.events)
        };
        let solved = solve(model, &history)?;
        let mut shard = self.shard(user);
        let live = shard.get_mut(user).expect("users are never removed");
        if live.solved.as_ref().is_none_or(|(at, _)| *at < events) {
            live.solved = Some((events, solved));
        }
        Ok(())
    }

    /// Solves every user whose history changed, in parallel (a replay).
    /// Returns the users that could not be solved, with why.
    pub fn solve_all(&self, model: &Model) -> Vec<(String, LiveError)> {
        let stale: Vec<String> = self
            .shards
            .iter()
            .flat_map(|s| {
                let s = s.lock().unwrap_or_else(|p| p.into_inner());
                s.iter()
                    .filter(|(_, l)| l.solved.as_ref().is_none_or(|(at, _)| *at != l.events))
                    .map(|(id, _)| id.clone())
                    .collect::<Vec<_>>()
            })
            .collect();
        stale.par_iter().filter_map(|id| self.solve(model, id).err().map(|e| (id.clone(), e))).collect()
    }

    /// The user's current row, if they have events.
    pub fn get(&self, user: &str) -> Option<Solved> {
        self.shard(user).get(user).and_then(|l| l.solved.as_ref()).map(|(_, s)| s.clone())
    }

    /// Whether no user has events.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Users with events.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len()).sum()
    }
}

/// A row solved from a history, and the history's items.
fn solve(model: &Model, history: &[(usize, f32)]) -> Result<Solved, LiveError> {
    let vector = model.items.fold_in(history)?;
    let mut seen: Vec<usize> = history.iter().map(|&(i, _)| i).collect();
    seen.sort_unstable();
    Ok(Solved { vector: Arc::new(vector), seen: Arc::new(seen) })
}
