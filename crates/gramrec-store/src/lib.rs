//! gramrec-store: gramrec's files on disk.
//!
//! Outputs are written so that a failure or an interruption never leaves a
//! half-written file ([`write`]), a model directory — `users.gramrec` and
//! `items.gramrec` — is read and written as one unit ([`model_dir`]), and no
//! command overwrites its own input ([`guard`]). Every crate that touches the
//! filesystem for its results goes through here.

pub mod guard;
pub mod model_dir;
pub mod write;

pub use guard::refuse_overwriting;
pub use model_dir::{
    load_item_model, load_model, model_files, read_factor_file, read_model_files, write_factor_file, write_model,
    ITEMS_FILE, USERS_FILE,
};
pub use write::{write_atomic, write_atomic_many, write_atomic_many_checked, write_dir_atomic, FolderKind, Overwrite};
