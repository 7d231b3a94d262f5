//! What a [`Fitted`] model becomes: a model directory on disk, or a
//! [`Model`] to score in memory.

use std::path::Path;

use gramrec_als::checkpoint;
use gramrec_core::{Dtype, Error, ItemInfo, Model, ModelFiles, Result};
use gramrec_data::DetailTable;

use crate::fit::Fitted;

/// How to save a fitted model.
#[derive(Debug, Clone, Default)]
pub struct SaveOptions<'a> {
    /// How the factors are stored: f32 (exact), f16 or i8 (smaller files).
    pub dtype: Dtype,
    /// Items' names, links and images, stored in the item file.
    pub details: Option<&'a DetailTable>,
    /// When the training data was read (Unix seconds): `serve` replays the
    /// logged events after it.
    pub read_at: Option<f64>,
    /// Facts to record in both files' training metadata, as (key, text).
    pub notes: Vec<(String, String)>,
}

/// What [`Fitted::save`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// Items in the model.
    pub items: usize,
    /// Of them, those the details describe (`None` without details).
    pub described: Option<usize>,
}

impl Fitted {
    /// The model's factor files, as [`save`](Self::save) writes them.
    pub fn files(&self, options: &SaveOptions<'_>) -> ModelFiles {
        let mut files = self.trained.files(&self.data, options.dtype);
        for f in files.both_mut() {
            f.meta.training.read_at = options.read_at;
            f.meta.training.other.extend(options.notes.iter().cloned());
        }
        if let Some(table) = options.details {
            files.items.info = Some(table.for_items(&files.items.ids).0);
        }
        files
    }

    /// Writes `dir/users.gramrec` and `dir/items.gramrec` as one unit
    /// (nothing else in `dir` is touched; a file there under those names
    /// that is not a factor file is refused), then removes the run's
    /// checkpoint there, if it kept one.
    pub fn save(&self, dir: &Path, options: &SaveOptions<'_>) -> Result<Saved> {
        let files = self.files(options);
        let described = options.details.map(|_| files.items.info.as_ref().map_or(0, ItemInfo::described));
        gramrec_store::write_model(dir, &files)?;
        if self.checkpoints.as_deref() == Some(dir) {
            checkpoint::remove(dir)?;
        }
        Ok(Saved { items: files.items.rows(), described })
    }

    /// The model, ready to score in memory: the answers of the saved model
    /// with f32 factors, without writing or reading files.
    pub fn model(&self) -> Result<Model> {
        self.trained.model(&self.data).map_err(Error::Scoring)
    }
}
