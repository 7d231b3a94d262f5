//! Model directories: `DIR/users.gramrec` and `DIR/items.gramrec`, read and
//! checked as a pair, written as one unit.
//!
//! A commit holds `DIR/.gramrec.lock` (so concurrent writers take turns and
//! each leaves a whole pair), writes and syncs both new files under temporary
//! names, keeps the old item file as `DIR/.items.gramrec.prev`, renames the
//! new item file and then the new user file into place, and only then drops
//! the kept file. Any failure before the last rename restores the old pair;
//! a crash between the two renames leaves the old item file beside the old
//! user file, and readers use it ([`load_model`]): the old model stays whole
//! until the new one is.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use gramrec_core::{Error, FactorFile, ItemModel, Model, ModelError, ModelFiles, Result};

use crate::write::{sync_dir, write_atomic, Staged};

/// File name of the item factors inside a model directory.
pub const ITEMS_FILE: &str = "items.gramrec";
/// File name of the user factors inside a model directory.
pub const USERS_FILE: &str = "users.gramrec";
/// The previous item file, kept while a commit is under way.
const PREVIOUS_ITEMS: &str = ".items.gramrec.prev";
/// Held by whoever writes the directory.
const LOCK_FILE: &str = ".gramrec.lock";

/// Reads and validates one factor file: a regular file only (a FIFO or a
/// device planted under a model's name would block the reader forever).
pub fn read_factor_file(path: &Path) -> Result<FactorFile> {
    let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::input(
            path,
            None,
            "not a regular file: a factor file is one (a FIFO or a device is not read)",
        ));
    }
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    FactorFile::from_bytes(&bytes).map_err(|e| Error::model(path, e))
}

/// Writes one factor file atomically.
pub fn write_factor_file(path: &Path, file: &FactorFile) -> Result<()> {
    write_atomic(path, |w| file.write_to(w))
}

/// Writes `DIR/users.gramrec` and `DIR/items.gramrec` (users, items) as one
/// unit (see the module docs), creating DIR. Both are validated first, so a
/// broken model replaces nothing.
///
/// Nothing else in DIR is touched, and a `users.gramrec` or `items.gramrec`
/// already there that is not a factor file (someone else's file under our
/// name) is refused, not replaced.
pub fn write_model(dir: &Path, files: &ModelFiles) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    for (f, name) in [(&files.users, USERS_FILE), (&files.items, ITEMS_FILE)] {
        f.validate().map_err(|e| Error::model(&dir.join(name), e))?;
        refuse_foreign(&dir.join(name))?;
    }
    let _lock = lock(dir)?;
    commit(dir, |w| files.users.write_to(w), |w| files.items.write_to(w))
}

/// Refuses to replace `path` when it exists and is not a factor file.
fn refuse_foreign(path: &Path) -> Result<()> {
    let mut head = [0u8; gramrec_core::format::MAGIC.len()];
    let ours = match File::open(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(path, e)),
        Ok(mut f) => io::Read::read_exact(&mut f, &mut head).is_ok() && head == gramrec_core::format::MAGIC,
    };
    if !ours {
        return Err(Error::Conflict(format!(
            "{} exists and is not a gramrec factor file; nothing was written (write the model to another folder)",
            path.display()
        )));
    }
    Ok(())
}

/// Writes one file's content.
type Content<'a> = dyn FnOnce(&mut (dyn io::Write + Send)) -> io::Result<()> + 'a;

/// The commit of a pair, under the lock.
fn commit(
    dir: &Path,
    users: impl FnOnce(&mut (dyn io::Write + Send)) -> io::Result<()>,
    items: impl FnOnce(&mut (dyn io::Write + Send)) -> io::Result<()>,
) -> Result<()> {
    let (items_path, users_path) = (dir.join(ITEMS_FILE), dir.join(USERS_FILE));
    let stage = |path: &Path, content: Box<Content<'_>>| {
        Staged::create(path).and_then(|s| s.fill(content)).map_err(|e| Error::io(path, e))
    };
    let items = stage(&items_path, Box::new(items))?;
    let users = stage(&users_path, Box::new(users))?;
    let previous = dir.join(PREVIOUS_ITEMS);
    let kept = keep(&items_path, &previous).map_err(|e| Error::io(&previous, e))?;
    items.commit().map_err(|e| Error::io(&items_path, e))?;
    if let Err(e) = users.commit() {
        if kept {
            let _ = fs::rename(&previous, &items_path);
        }
        return Err(Error::io(&users_path, e));
    }
    if kept {
        let _ = fs::remove_file(&previous);
    }
    sync_dir(&items_path).map_err(|e| Error::io(dir, e))
}

/// Keeps `file` as `kept` (a hard link, else a copy); false when there is no file.
fn keep(file: &Path, kept: &Path) -> io::Result<bool> {
    if !file.exists() {
        return Ok(false);
    }
    let _ = fs::remove_file(kept);
    if fs::hard_link(file, kept).is_err() {
        fs::copy(file, kept)?;
    }
    sync_dir(kept)?;
    Ok(true)
}

/// Takes the directory's write lock, waiting for another writer to finish.
fn lock(dir: &Path) -> Result<File> {
    let path = dir.join(LOCK_FILE);
    let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(|e| Error::io(&path, e))?;
    file.lock().map_err(|e| Error::io(&path, e))?;
    Ok(file)
}

/// Takes the directory's lock shared (readers do not wait for each other),
/// waiting at most `wait` for a writer. A directory whose lock file cannot
/// be opened (read-only, or no lock file and no right to make one) is read
/// without it, as before locks existed.
fn lock_shared(dir: &Path, wait: std::time::Duration) -> Result<Option<File>> {
    let path = dir.join(LOCK_FILE);
    let Ok(file) = File::options().create(true).truncate(false).write(true).open(&path).or_else(|_| File::open(&path))
    else {
        return Ok(None);
    };
    let started = std::time::Instant::now();
    loop {
        match file.try_lock_shared() {
            Ok(()) => return Ok(Some(file)),
            Err(fs::TryLockError::WouldBlock) if started.elapsed() < wait => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            Err(fs::TryLockError::WouldBlock) => {
                return Err(Error::Conflict(format!(
                    "{}: a model is being written there and has held its lock for more than {} s",
                    dir.display(),
                    wait.as_secs_f64()
                )))
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
    }
}

/// A new ID for the pair of files one run writes (`train.run`), so that a
/// model's two files can be checked to belong together.
pub fn new_run_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{:x}-{:x}", nanos, std::process::id())
}

/// Reads a model directory, checking that its two files belong together.
/// When a commit was cut short between its two renames, the previous item
/// file is used with the previous user file: the old model, whole.
pub fn load_model(dir: &Path) -> Result<Model> {
    Model::new(read_model_files(dir)?).map_err(|e| match e {
        ModelError::MixedRuns => Error::Conflict(format!("{}: {e}", dir.display())),
        e => Error::model(dir, e),
    })
}

/// The factor files of a model directory, as [`load_model`]
/// picks them (the files themselves, for exports). They are read under the
/// directory's lock, shared, so that a commit under way is waited for
/// (at most [`LOCK_WAIT`]) rather than read half done.
pub fn read_model_files(dir: &Path) -> Result<ModelFiles> {
    read_model_files_within(dir, LOCK_WAIT)
}

/// How long a reader waits for a model directory's writer to finish.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// [`read_model_files`], waiting at most `wait` for the lock.
fn read_model_files_within(dir: &Path, wait: std::time::Duration) -> Result<ModelFiles> {
    if !dir.is_dir() {
        return Err(Error::io(dir, io::Error::new(io::ErrorKind::NotFound, "no such model directory")));
    }
    if !dir.join(USERS_FILE).exists() && dir.join("metadata").is_dir() {
        return Err(Error::Data(format!(
            "{} is a Spark ML model folder, not a gramrec model: make it one with `gramrec import --from spark {} --out DIR`",
            dir.display(),
            dir.display()
        )));
    }
    let _shared = lock_shared(dir, wait)?;
    let users = read_factor_file(&dir.join(USERS_FILE))?;
    let items = read_factor_file(&dir.join(ITEMS_FILE))?;
    let mixed = users.meta.training.run.is_some() && users.meta.training.run != items.meta.training.run;
    let previous = dir.join(PREVIOUS_ITEMS);
    let items = match read_factor_file(&previous) {
        Ok(old) if mixed && old.meta.training.run == users.meta.training.run => old,
        _ => items,
    };
    if mixed && users.meta.training.run != items.meta.training.run {
        return Err(Error::Conflict(format!("{}: {}", dir.display(), ModelError::MixedRuns)));
    }
    Ok(ModelFiles { users, items })
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

/// The files a model given as a directory or an item file consists of:
/// what a command reading it must not overwrite.
pub fn model_files(path: &Path) -> Vec<PathBuf> {
    if path.is_dir() {
        vec![path.join(ITEMS_FILE), path.join(USERS_FILE)]
    } else {
        vec![path.to_path_buf()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn a_missing_directory_and_a_spark_folder_are_named_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere");
        let e = read_model_files(&missing).unwrap_err().to_string();
        assert!(e.ends_with("nowhere: no such model directory"), "{e}");
        let spark = dir.path().join("als");
        fs::create_dir_all(spark.join("metadata")).unwrap();
        let e = read_model_files(&spark).unwrap_err().to_string();
        assert!(
            e.contains("is a Spark ML model folder, not a gramrec model") && e.contains("import --from spark"),
            "{e}"
        );
        assert_eq!(names(&spark), ["metadata"], "no lock file is left in a folder that is not ours");
    }

    #[test]
    fn a_failure_while_writing_the_second_file_keeps_the_old_pair() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        commit(d, |w| w.write_all(b"old users"), |w| w.write_all(b"old items")).unwrap();
        // Disk full while writing users.gramrec: nothing is renamed.
        let failed = commit(d, |_| Err(io::Error::other("No space left on device")), |w| w.write_all(b"new items"));
        assert!(failed.unwrap_err().to_string().contains("No space left"));
        assert_eq!(fs::read(d.join(ITEMS_FILE)).unwrap(), b"old items");
        assert_eq!(fs::read(d.join(USERS_FILE)).unwrap(), b"old users");
        assert_eq!(names(d), [ITEMS_FILE, USERS_FILE], "no temporary or kept file is left");
        commit(d, |w| w.write_all(b"new users"), |w| w.write_all(b"new items")).unwrap();
        assert_eq!(fs::read(d.join(USERS_FILE)).unwrap(), b"new users");
        assert_eq!(names(d), [ITEMS_FILE, USERS_FILE]);
    }

    #[test]
    fn a_reader_waits_for_a_commit_under_way_and_gives_up_after_its_wait() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_path_buf();
        commit(&d, |w| w.write_all(b"users"), |w| w.write_all(b"items")).unwrap();
        let writer = lock(&d).unwrap();
        // Held past the wait: refused, naming the lock.
        let e = read_model_files_within(&d, std::time::Duration::from_millis(50)).unwrap_err().to_string();
        assert!(e.contains("is being written there and has held its lock for more than 0.05 s"), "{e}");
        // Released while waiting: the reader goes on (to find these files are no factor files).
        let reader = {
            let d = d.clone();
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                let outcome = read_model_files_within(&d, std::time::Duration::from_secs(20));
                (started.elapsed(), outcome.unwrap_err().to_string())
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(writer);
        let (waited, e) = reader.join().unwrap();
        assert!(waited >= std::time::Duration::from_millis(250), "{waited:?}");
        assert!(e.contains("users.gramrec"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_under_a_models_name_is_refused_not_waited_on() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join(USERS_FILE);
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let e = read_factor_file(&fifo).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        assert!(load_model(dir.path()).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_failed_second_rename_restores_the_old_item_file() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        commit(d, |w| w.write_all(b"old users"), |w| w.write_all(b"old items")).unwrap();
        // users.gramrec becomes a directory: renaming a file over it fails
        // after items.gramrec was renamed.
        fs::remove_file(d.join(USERS_FILE)).unwrap();
        fs::create_dir(d.join(USERS_FILE)).unwrap();
        fs::write(d.join(USERS_FILE).join("x"), "").unwrap();
        let e = commit(d, |w| w.write_all(b"new users"), |w| w.write_all(b"new items"));
        assert!(e.is_err());
        assert_eq!(fs::read(d.join(ITEMS_FILE)).unwrap(), b"old items", "the old item file is back");
    }
}
