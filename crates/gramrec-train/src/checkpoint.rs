//! Resumable training: the factors after an iteration, saved as two factor
//! files in `OUT/checkpoint/`, and checked against the data and settings
//! before a run continues from them.

use std::path::{Path, PathBuf};

use gramrec_core::Dtype;

use crate::als::{Start, TrainConfig, Trained};
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::output::{factor_files, read_factor_file, write_model, ITEMS_FILE, USERS_FILE};

/// The checkpoint folder of a model directory.
pub fn dir(out: &Path) -> PathBuf {
    out.join("checkpoint")
}

/// Saves the model after `iteration` iterations (atomically, file by file).
pub fn write(out: &Path, data: &Dataset, model: &Trained, iteration: usize) -> Result<()> {
    let mut files = factor_files(data, model, Dtype::F32);
    for f in [&mut files.0, &mut files.1] {
        f.meta.training.push(("completed_iterations".into(), iteration.to_string()));
        f.meta.training.push(("data".into(), format!("{:08x}", data.fingerprint())));
    }
    write_model(&dir(out), &files)
}

/// The saved state, if `out` has a checkpoint made with these data and settings.
pub fn read(out: &Path, data: &Dataset, config: &TrainConfig) -> Result<Start> {
    let d = dir(out);
    let stale = |why: &str| Error::Usage(format!("{}: cannot resume: {why}", d.display()));
    if !d.join(ITEMS_FILE).exists() {
        return Err(stale("there is no checkpoint (train with --checkpoint-every N first)"));
    }
    let (users, items) = (read_factor_file(&d.join(USERS_FILE))?, read_factor_file(&d.join(ITEMS_FILE))?);
    let fact = |f: &gramrec_core::FactorFile, k: &str| {
        f.meta.training.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default()
    };
    let iteration: usize =
        fact(&items, "completed_iterations").parse().map_err(|_| stale("the checkpoint has no iteration count"))?;
    if fact(&users, "run") != fact(&items, "run") || fact(&users, "completed_iterations") != iteration.to_string() {
        return Err(stale("its two files come from different moments"));
    }
    if items.meta.params != config.params
        || fact(&items, "solver") != config.solver.name()
        || fact(&items, "cg_steps") != config.cg_steps.to_string()
        || fact(&items, "seed") != config.seed.to_string()
    {
        return Err(stale("it was made with other model or solver settings"));
    }
    if users.ids != data.users
        || items.ids != data.items
        || fact(&items, "data") != format!("{:08x}", data.fingerprint())
    {
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
