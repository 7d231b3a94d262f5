//! What one loaded model serves: the model, its association rules, and the
//! users whose rows events changed. A reload builds a new snapshot and swaps
//! it in whole; requests hold the one they started with.

use std::path::Path;

use gramrec_core::{Error, Model, RuleIndex, RuleSet};

use crate::events::LoggedEvent;
use crate::live::{LiveError, LiveUsers};

/// Association rules with their per-item index.
#[derive(Debug)]
pub struct Rules {
    /// The rules file's content.
    pub set: RuleSet,
    /// Single-item antecedents → rules.
    pub index: RuleIndex,
}

/// One model as served.
#[derive(Debug)]
pub struct Snapshot {
    /// The model.
    pub model: Model,
    /// The rules, when the server was given a rules file.
    pub rules: Option<Rules>,
    /// 1 for the model loaded at start, one more per reload.
    pub version: u64,
    /// Users with events since the model's data was read.
    pub live: LiveUsers,
}

/// What applying logged events to a snapshot did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Applied {
    /// Events applied to their user's row.
    pub applied: u64,
    /// Events the model already had (logged before its data was read).
    pub older: u64,
    /// Events whose item the model does not know (kept in the log).
    pub unknown_items: u64,
    /// Users whose rows could not be solved again, with why (the first few).
    pub failed: Vec<(String, LiveError)>,
}

impl Snapshot {
    /// Loads the model directory (and rules file) as version `version`.
    pub fn load(model_dir: &Path, rules: Option<&Path>, version: u64) -> Result<Self, Error> {
        let model = gramrec_store::load_model(model_dir)?;
        let rules = rules
            .map(|path| {
                let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
                let mut set = RuleSet::from_bytes(&bytes).map_err(|e| Error::model(path, e))?;
                if set.info.as_ref().is_none_or(|i| i.is_empty()) {
                    set.info = Some(model.items.info_for(&set.items));
                }
                let index = RuleIndex::new(&set);
                Ok::<_, Error>(Rules { set, index })
            })
            .transpose()?;
        Ok(Self { model, rules, version, live: LiveUsers::default() })
    }

    /// When the model's training data was read (Unix seconds), if recorded.
    pub fn read_at(&self) -> Option<f64> {
        self.model.items.meta().training.read_at
    }

    /// Applies logged events (in log order) that the model lacks, then solves
    /// the rows of the users they touched.
    pub fn apply(&self, events: &[LoggedEvent]) -> Applied {
        let mut out = Applied::default();
        let read_at = self.read_at();
        for e in events {
            if !e.newer_than(read_at) {
                out.older += 1;
                continue;
            }
            let Some(item) = self.model.items.index_of(&e.item) else {
                out.unknown_items += 1;
                continue;
            };
            match self.live.append(&self.model, &e.user, &[(item, e.weight)]) {
                Ok(()) => out.applied += 1,
                Err(err) if out.failed.len() < 5 => out.failed.push((e.user.clone(), err)),
                Err(_) => {}
            }
        }
        let mut failed = self.live.solve_all(&self.model);
        failed.truncate(5usize.saturating_sub(out.failed.len()));
        out.failed.extend(failed);
        out
    }
}
