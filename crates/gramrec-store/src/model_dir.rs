//! Model directories: `DIR/users.gramrec` and `DIR/items.gramrec`, read and
//! checked as a pair, written together.

use std::path::{Path, PathBuf};

use gramrec_core::{Error, FactorFile, ItemModel, Model, Result};

use crate::write::write_atomic;

/// File name of the item factors inside a model directory.
pub const ITEMS_FILE: &str = "items.gramrec";
/// File name of the user factors inside a model directory.
pub const USERS_FILE: &str = "users.gramrec";

/// Reads and validates one factor file.
pub fn read_factor_file(path: &Path) -> Result<FactorFile> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    FactorFile::from_bytes(&bytes).map_err(|e| Error::model(path, e))
}

/// Writes one factor file atomically.
pub fn write_factor_file(path: &Path, file: &FactorFile) -> Result<()> {
    write_atomic(path, |w| file.write_to(w))
}

/// Writes `DIR/users.gramrec` and `DIR/items.gramrec` (users, items),
/// creating DIR. Both are validated before either is written, so a broken
/// model replaces nothing.
pub fn write_model(dir: &Path, files: &(FactorFile, FactorFile)) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    for (f, name) in [(&files.0, USERS_FILE), (&files.1, ITEMS_FILE)] {
        f.validate().map_err(|e| Error::model(&dir.join(name), e))?;
    }
    write_factor_file(&dir.join(ITEMS_FILE), &files.1)?;
    write_factor_file(&dir.join(USERS_FILE), &files.0)
}

/// Reads a model directory, checking that its two files belong together.
pub fn load_model(dir: &Path) -> Result<Model> {
    let users = read_factor_file(&dir.join(USERS_FILE))?;
    let items = read_factor_file(&dir.join(ITEMS_FILE))?;
    Model::new(users, items).map_err(|e| Error::model(dir, e))
}

/// The item file of a model given as a directory or as the item file itself.
pub fn item_file_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(ITEMS_FILE)
    } else {
        path.to_path_buf()
    }
}

/// The item side of a model given as a directory or as the item file itself.
pub fn load_item_model(path: &Path) -> Result<ItemModel> {
    let file = item_file_path(path);
    ItemModel::new(read_factor_file(&file)?).map_err(|e| Error::model(&file, e))
}
