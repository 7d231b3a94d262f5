//! `gramrec import`: a model another tool trained, as a gramrec model directory.

use anyhow::Result;
use gramrec_core::Error;
use gramrec_interop::{ids, implicit, spark, Provenance};
use gramrec_store::{model_files, refuse_overwriting, write_model};

use crate::cli::{ImportArgs, ImportFrom};
use crate::progress::stderr_line;

pub fn run(a: ImportArgs) -> Result<()> {
    let mut inputs = vec![a.path.clone()];
    inputs.extend(a.train.iter().chain(&a.user_ids).chain(&a.item_ids).cloned());
    refuse_overwriting(&model_files(&a.out), &inputs)?;
    let list = |p: &Option<std::path::PathBuf>| p.as_deref().map(ids::read).transpose();
    let (user_ids, item_ids) = (list(&a.user_ids)?, list(&a.item_ids)?);
    let (model, facts) = match a.from {
        ImportFrom::Spark => {
            spark::read(&a.path, spark::ImportOptions { kind: a.kind, reg: a.reg, alpha: a.alpha, user_ids, item_ids })?
        }
        ImportFrom::Implicit => {
            if a.kind.is_some_and(|k| k != gramrec_core::ModelKind::Implicit) {
                return Err(Error::Argument("implicit's models are implicit: leave --kind out".into()).into());
            }
            let (mut m, facts) = implicit::read(&a.path, user_ids, item_ids)?;
            m.params.reg = a.reg.unwrap_or(m.params.reg);
            m.params.alpha = a.alpha.unwrap_or(m.params.alpha);
            (m, facts)
        }
    };
    let mut provenance = Provenance::default();
    let mut cold_start = "the mean user's scores (no --train)".to_string();
    if let Some(train) = &a.train {
        let (x, _) = a.input_args.load(train, false)?;
        let (p, unmatched) = Provenance::from_training(&x, &model);
        if unmatched > 0 {
            stderr_line(&format!(
                "{}: {unmatched} of {} interactions name a user or item the model does not have (ignored)",
                train.display(),
                x.len()
            ));
        }
        provenance = p;
        cold_start = format!("training interactions from {}", train.display());
    }
    provenance.facts = gramrec_core::TrainingFacts { run: Some(gramrec_store::model_dir::new_run_id()), ..facts };
    let (kind, rank, users, items) = (model.params.kind, model.rank, model.user_ids.len(), model.item_ids.len());
    let biases = if model.bias_columns { ", biases restored from its two bias columns" } else { "" };
    let files = model.into_factor_files(a.dtype, provenance);
    write_model(&a.out, &files)?;
    stderr_line(&format!(
        "imported {} ({kind}, rank {rank}{biases}): {users} users, {items} items into {}; popularity from {cold_start}",
        a.path.display(),
        a.out.display()
    ));
    Ok(())
}
