//! gramrec-store: gramrec's files on disk.
//!
//! Outputs are written so that a failure or an interruption never leaves a
//! half-written file ([`write`]), and a model directory — `users.gramrec` and
//! `items.gramrec` — is read and written as one unit ([`model_dir`]). Every
//! crate that touches the filesystem for its results goes through here.

pub mod model_dir;
pub mod write;

pub use model_dir::{
    load_item_model, load_model, read_factor_file, write_factor_file, write_model, ITEMS_FILE, USERS_FILE,
};
pub use write::write_atomic;
