//! Resumable training: the factors after an iteration, saved as two factor
//! files in `OUT/checkpoint/`, and checked against the data and settings
//! before a run continues from them.

use std::path::{Path, PathBuf};

use gramrec_core::{set, Dtype, Error, Result};
use gramrec_data::Dataset;
use gramrec_store::{read_factor_file, write_model, ITEMS_FILE, USERS_FILE};

use crate::config::TrainConfig;
use crate::driver::Start;
use crate::trained::Trained;

/// The checkpoint folder of a model directory.
pub fn dir(out: &Path) -> PathBuf {
    out.join("checkpoint")
}

/// Saves the model after `iteration` iterations.
pub fn write(out: &Path, data: &Dataset, model: &Trained, iteration: usize) -> Result<()> {
    let mut files = model.files(data, Dtype::F32);
    for f in files.both_mut() {
        f.meta.training.completed_iterations = Some(iteration);
        f.meta.training.data = Some(data.fingerprint());
    }
    write_model(&dir(out), &files)
}

/// The saved state, if `out` has a checkpoint made with these data and settings.
pub fn read(out: &Path, data: &Dataset, config: &TrainConfig) -> Result<Start> {
    let d = dir(out);
    let stale = |why: &str| Error::Conflict(format!("{}: cannot resume: {why}", d.display()));
    if !d.join(ITEMS_FILE).exists() {
        return Err(stale(&format!("there is no checkpoint (train with {} first)", set("checkpoint_every", "N"))));
    }
    let (users, items) = (read_factor_file(&d.join(USERS_FILE))?, read_factor_file(&d.join(ITEMS_FILE))?);
    let (u, i) = (&users.meta.training, &items.meta.training);
    let iteration = i.completed_iterations.ok_or_else(|| stale("the checkpoint has no iteration count"))?;
    if u.run != i.run || u.completed_iterations != i.completed_iterations {
        return Err(stale("its two files come from different moments"));
    }
    if items.meta.params != config.params || i.solver != Some(config.solver) || i.seed != Some(config.seed) {
        return Err(stale("it was made with other model or solver settings"));
    }
    if users.ids != data.users || items.ids != data.items || i.data != Some(data.fingerprint()) {
        return Err(stale("it was made from other data"));
    }
    if iteration >= config.iterations {
        return Err(stale(&format!("it already has {iteration} of the {} iterations asked for", config.iterations)));
    }
    Ok(Start { iteration, users: users.rows_with_biases(), items: items.rows_with_biases() })
}

/// Removes the checkpoint once the model it leads to is written.
pub fn remove(out: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir(out)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(&dir(out), e)),
        _ => Ok(()),
    }
}
