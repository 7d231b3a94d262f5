//! Writing an output so that no failure or interruption leaves a
//! half-written file, and so that the output's path is honoured as it is:
//!
//! * a regular file (or a new one) is written to a temporary file beside it —
//!   created exclusively under an unpredictable name, so nothing planted
//!   there is followed — synced, and renamed over it; it keeps the old file's
//!   permissions;
//! * a symbolic link is followed to its target, which is replaced the same
//!   way, so the link stays a link;
//! * a device, FIFO or socket (`/dev/stdout`, `/dev/null`, a named pipe), and
//!   `-` for standard output, are written in place: they cannot be renamed
//!   over, and replacing them by a regular file would destroy them.

use std::collections::hash_map::RandomState;
use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use gramrec_core::{set, Error, Result};

/// Symbolic links followed at most, as the kernel does (ELOOP past it).
const MAX_LINKS: usize = 40;

/// Writes `path` through `write`, as the module describes. On failure the
/// previous file is untouched and no temporary file is left.
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>) -> Result<()> {
    match destination(path).map_err(|e| Error::io(path, e))? {
        Destination::Stream => write_stream(path, write).map_err(|e| Error::io(path, e)),
        Destination::File(target) => {
            let staged = Staged::create(&target).map_err(|e| Error::io(path, e))?;
            staged.fill(write).and_then(|s| s.commit()).map_err(|e| Error::io(path, e))
        }
    }
}

/// Writes several outputs through one `write`, which gets a writer for each
/// path in order: each is written as [`write_atomic`] writes one, and none is
/// renamed into place before all are complete. `write` maps its own I/O
/// errors (it knows which output failed).
pub fn write_atomic_many(
    paths: &[PathBuf],
    write: impl FnOnce(&mut [&mut (dyn Write + Send)]) -> Result<()>,
) -> Result<()> {
    write_atomic_many_checked(paths, write, |_| Ok(()))
}

/// [`write_atomic_many`], with a check of the complete outputs before any
/// is renamed into place: `check` gets the path each can be read at now (its
/// temporary file; `None` for a stream, which cannot be read back), and an
/// error from it leaves every output as it was.
pub fn write_atomic_many_checked(
    paths: &[PathBuf],
    write: impl FnOnce(&mut [&mut (dyn Write + Send)]) -> Result<()>,
    check: impl FnOnce(&[Option<PathBuf>]) -> Result<()>,
) -> Result<()> {
    enum Out {
        Stream(BufWriter<Box<dyn Write + Send>>),
        Staged(Staged, Option<BufWriter<File>>),
    }
    let mut outs = Vec::with_capacity(paths.len());
    for path in paths {
        let out = match destination(path).map_err(|e| Error::io(path, e))? {
            Destination::Stream => {
                let w: Box<dyn Write + Send> = if path.as_os_str() == "-" {
                    Box::new(io::stdout())
                } else {
                    Box::new(OpenOptions::new().write(true).open(path).map_err(|e| Error::io(path, e))?)
                };
                Out::Stream(BufWriter::new(w))
            }
            Destination::File(target) => {
                let mut staged = Staged::create(&target).map_err(|e| Error::io(path, e))?;
                let file = staged.file.take().expect("a new staged file");
                Out::Staged(staged, Some(BufWriter::new(file)))
            }
        };
        outs.push(out);
    }
    {
        let mut writers: Vec<&mut (dyn Write + Send)> = outs
            .iter_mut()
            .map(|o| -> &mut (dyn Write + Send) {
                match o {
                    Out::Stream(w) => w,
                    Out::Staged(_, w) => w.as_mut().expect("open"),
                }
            })
            .collect();
        write(&mut writers)?;
    }
    let mut staged = Vec::new();
    let mut readable = Vec::new();
    for (out, path) in outs.into_iter().zip(paths) {
        match out {
            Out::Stream(mut w) => {
                w.flush().map_err(|e| Error::io(path, e))?;
                readable.push(None);
            }
            Out::Staged(s, w) => {
                let file = w.expect("open").into_inner().map_err(|e| Error::io(path, e.into_error()))?;
                file.sync_all().map_err(|e| Error::io(path, e))?;
                readable.push(Some(s.tmp.clone()));
                staged.push((s, path));
            }
        }
    }
    check(&readable)?;
    for (s, path) in staged {
        s.commit().map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

/// Where an output goes.
enum Destination {
    /// Written in place: standard output, a device, a FIFO, a socket.
    Stream,
    /// A regular file (existing or not), symbolic links resolved.
    File(PathBuf),
}

fn destination(path: &Path) -> io::Result<Destination> {
    if path.as_os_str() == "-" {
        return Ok(Destination::Stream);
    }
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => Err(io::Error::new(io::ErrorKind::IsADirectory, "is a directory")),
        // /dev/stdout and /proc/self/fd/N lead to whatever the descriptor is;
        // even a regular file behind them is written through the descriptor.
        Ok(m) if !m.is_file() || is_descriptor_path(path) => Ok(Destination::Stream),
        Ok(_) => Ok(Destination::File(fs::canonicalize(path)?)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Destination::File(resolve_links(path)?)),
        Err(e) => Err(e),
    }
}

fn is_descriptor_path(path: &Path) -> bool {
    ["/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/self/fd/"].iter().any(|p| path.starts_with(p))
}

/// `path` with every symbolic link along it followed (a dangling link gives
/// the path it points to, which will be created).
fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(io::Error::other(format!("more than {MAX_LINKS} symbolic links to follow")))
}

fn write_stream(path: &Path, write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>) -> io::Result<()> {
    let mut out: Box<dyn Write + Send> = if path.as_os_str() == "-" {
        Box::new(BufWriter::new(io::stdout()))
    } else {
        Box::new(BufWriter::new(OpenOptions::new().write(true).open(path)?))
    };
    write(&mut out)?;
    out.flush()
}

/// What a folder output is, so that an existing folder at its path can be
/// told apart: an earlier output of the same kind (replaced, when asked) or
/// anything else (left alone). A folder output never deletes what it did
/// not write.
#[derive(Debug, Clone, Copy)]
pub struct FolderKind {
    /// What messages call it: "Spark ALSModel folder".
    pub name: &'static str,
    /// Every name such a folder may hold at its top level: a folder holding
    /// anything else holds files of someone else's.
    pub entries: &'static [&'static str],
    /// Whether a folder's own content (its metadata) says it is one.
    pub is_one: fn(&Path) -> bool,
}

/// Whether an existing folder output may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overwrite {
    /// Only a path that does not exist, or an empty folder, is written.
    #[default]
    Refuse,
    /// An earlier output of the same kind is replaced too.
    SameKind,
}

/// Writes a folder output (a Spark model, a set of NumPy arrays): `fill`
/// writes the folder's files into a new temporary folder beside `dir`; they
/// are synced, and the folder is renamed into place once complete. On
/// failure nothing is left.
///
/// `dir` must not exist, or be an empty folder, or — with
/// [`Overwrite::SameKind`] — be an earlier output of `kind` holding nothing
/// else; anything else is refused before anything is written, and the
/// folder is untouched.
pub fn write_dir_atomic(
    dir: &Path,
    kind: &FolderKind,
    overwrite: Overwrite,
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    check_replaceable(dir, kind, overwrite)?;
    let staged = StagedDir(unique_sibling(dir, "tmp", |p| fs::create_dir(p)).map_err(|e| Error::io(dir, e))?);
    fill(&staged.0)?;
    sync_tree(&staged.0).map_err(|e| Error::io(dir, e))?;
    let old = if dir.exists() {
        let old = unique_sibling(dir, "old", |p| fs::rename(dir, p)).map_err(|e| Error::io(dir, e))?;
        Some(StagedDir(old))
    } else {
        None
    };
    if let Err(e) = fs::rename(&staged.0, dir) {
        if let Some(old) = &old {
            let _ = fs::rename(&old.0, dir);
        }
        return Err(Error::io(dir, e));
    }
    std::mem::forget(staged);
    drop(old);
    sync_dir(dir).map_err(|e| Error::io(dir, e))
}

/// Refuses to replace what [`write_dir_atomic`] must not.
fn check_replaceable(dir: &Path, kind: &FolderKind, overwrite: Overwrite) -> Result<()> {
    let meta = match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(dir, e)),
        Ok(m) => m,
    };
    let refuse = |why: String| Err(Error::Conflict(format!("{}: {why}; nothing was written", dir.display())));
    if meta.file_type().is_symlink() {
        return refuse("is a symbolic link (give the folder itself, or a path that does not exist)".into());
    }
    if !meta.is_dir() {
        return refuse("exists and is not a folder".into());
    }
    let mut names: Vec<String> = fs::read_dir(dir)
        .and_then(|entries| entries.map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned())).collect())
        .map_err(|e| Error::io(dir, e))?;
    if names.is_empty() {
        return Ok(());
    }
    names.sort();
    let foreign: Vec<&str> = names.iter().map(String::as_str).filter(|n| !kind.entries.contains(n)).collect();
    if !foreign.is_empty() || !(kind.is_one)(dir) {
        let shown: Vec<&str> = if foreign.is_empty() { names.iter().map(String::as_str).collect() } else { foreign };
        let more = if shown.len() > 3 { format!(" and {} more", shown.len() - 3) } else { String::new() };
        return refuse(format!(
            "the folder exists and is not a {} (it holds {}{more}); choose a path that does not exist",
            kind.name,
            shown[..shown.len().min(3)].join(", ")
        ));
    }
    if overwrite == Overwrite::Refuse {
        return refuse(format!("already holds a {}; pass {} to replace it", kind.name, set("overwrite", true)));
    }
    Ok(())
}

/// A temporary folder, removed with its content unless renamed away.
struct StagedDir(PathBuf);

impl Drop for StagedDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Syncs every file under `dir`, and the folders themselves.
fn sync_tree(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            File::open(&path)?.sync_all()?;
        }
    }
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// `.NAME.XXXXXXXXXXXXXXXX.KIND` beside `target`, under an unpredictable
/// name, made by `make` (which fails if the name exists).
fn unique_sibling(target: &Path, kind: &str, make: impl Fn(&Path) -> io::Result<()>) -> io::Result<PathBuf> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let keys = RandomState::new();
    for attempt in 0u64.. {
        let mut h = keys.build_hasher();
        h.write_u64(attempt);
        h.write_u32(std::process::id());
        let path = dir.join(format!(".{name}.{:016x}.{kind}", h.finish()));
        match make(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 16 => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns")
}

/// A temporary file beside its target, removed unless committed.
pub(crate) struct Staged {
    target: PathBuf,
    tmp: PathBuf,
    file: Option<File>,
}

impl Staged {
    /// Creates the temporary file for `target` (whose symbolic links are
    /// already resolved), exclusively, under an unpredictable name.
    pub(crate) fn create(target: &Path) -> io::Result<Self> {
        let file = std::cell::RefCell::new(None);
        let tmp = unique_sibling(target, "tmp", |p| {
            *file.borrow_mut() = Some(OpenOptions::new().write(true).create_new(true).open(p)?);
            Ok(())
        })?;
        let file = file.into_inner().expect("created");
        if let Ok(m) = fs::metadata(target) {
            // Keep the replaced file's permissions (a 0600 file stays 0600).
            let _ = file.set_permissions(m.permissions());
        }
        Ok(Self { target: target.to_path_buf(), tmp, file: Some(file) })
    }

    /// Writes the content through `write`, then syncs it to disk.
    pub(crate) fn fill(mut self, write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>) -> io::Result<Self> {
        let file = self.file.take().expect("filled once");
        let mut out = BufWriter::new(file);
        write(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        self.file = Some(file);
        Ok(self)
    }

    /// Renames the temporary file over the target and syncs the directory, so
    /// the new file survives a crash once this returns.
    pub(crate) fn commit(mut self) -> io::Result<()> {
        fs::rename(&self.tmp, &self.target)?;
        self.file = None;
        self.tmp = PathBuf::new();
        sync_dir(&self.target)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Syncs the directory holding `path`, making renames in it durable.
pub(crate) fn sync_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)?.sync_all()?;
    }
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn failed_write_keeps_old_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.bin");
        write_atomic(&path, |w| w.write_all(b"old")).unwrap();
        let err = write_atomic(&path, |w| {
            w.write_all(b"partial")?;
            Err(io::Error::other("disk full"))
        });
        assert_eq!(err.unwrap_err().to_string(), format!("{}: disk full", path.display()));
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(entries(dir.path()), ["model.bin"], "temporary file left behind");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_stays_a_link_to_the_new_content() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.csv");
        let link = dir.path().join("link.csv");
        fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink("real.csv", &link).unwrap();
        write_atomic(&link, |w| w.write_all(b"new")).unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"new");
        // A dangling link: its target is created.
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink("made.csv", &dangling).unwrap();
        write_atomic(&dangling, |w| w.write_all(b"x")).unwrap();
        assert_eq!(fs::read(dir.path().join("made.csv")).unwrap(), b"x");
    }

    #[cfg(unix)]
    #[test]
    fn permissions_are_kept_and_temporary_names_differ() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        write_atomic(&path, |w| w.write_all(b"new")).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let (a, b) = (Staged::create(&path).unwrap(), Staged::create(&path).unwrap());
        assert_ne!(a.tmp, b.tmp, "temporary names are not predictable");
        drop((a, b));
        assert_eq!(entries(dir.path()), ["secret"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_written_in_place_not_replaced() {
        write_atomic(Path::new("/dev/null"), |w| w.write_all(b"gone")).unwrap();
        assert!(!fs::metadata("/dev/null").unwrap().is_file(), "/dev/null is still a device");
        let full = Path::new("/dev/full");
        if full.exists() {
            let e = write_atomic(full, |w| w.write_all(&[0; 1 << 16])).unwrap_err().to_string();
            assert!(e.contains("No space left"), "{e}");
            assert!(!fs::metadata(full).unwrap().is_file());
        }
    }

    #[test]
    fn several_outputs_appear_together_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        write_atomic_many(&[a.clone(), b.clone()], |w| {
            w[0].write_all(b"first").unwrap();
            w[1].write_all(b"second").unwrap();
            Ok(())
        })
        .unwrap();
        assert_eq!((fs::read(&a).unwrap(), fs::read(&b).unwrap()), (b"first".to_vec(), b"second".to_vec()));
        let failed = write_atomic_many(&[a.clone(), b.clone()], |w| {
            w[0].write_all(b"new").unwrap();
            Err(Error::Data("no".into()))
        });
        assert!(failed.is_err());
        assert_eq!(fs::read(&a).unwrap(), b"first", "nothing is renamed when writing fails");
        assert_eq!(entries(dir.path()), ["a", "b"]);
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = write_atomic(dir.path(), |w| w.write_all(b"x")).unwrap_err().to_string();
        assert!(e.contains("is a directory"), "{e}");
    }

    /// A kind for the tests: folders holding `metadata/` and `a` or `b`.
    const TEST_KIND: FolderKind =
        FolderKind { name: "test folder", entries: &["metadata", "a", "b"], is_one: |d| d.join("metadata").is_dir() };

    #[test]
    fn folders_replace_the_old_one_only_when_complete() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("model");
        let fill = |files: &'static [&'static str]| {
            move |d: &Path| -> Result<()> {
                for f in files {
                    fs::create_dir_all(d.join(f).parent().unwrap()).unwrap();
                    fs::write(d.join(f), f.as_bytes()).unwrap();
                }
                Ok(())
            }
        };
        let write = |files, overwrite| write_dir_atomic(&out, &TEST_KIND, overwrite, fill(files));
        write(&["metadata/part-00000", "a"], Overwrite::Refuse).unwrap();
        assert_eq!(entries(&out), ["a", "metadata"]);
        let failed = write_dir_atomic(&out, &TEST_KIND, Overwrite::SameKind, |d| {
            fs::write(d.join("half"), b"x").unwrap();
            Err(Error::Data("no".into()))
        });
        assert!(failed.is_err());
        assert_eq!(entries(&out), ["a", "metadata"], "a failed write leaves the old folder");
        let e = write(&["metadata/part-00000", "b"], Overwrite::Refuse).unwrap_err().to_string();
        assert!(e.contains("already holds a test folder; pass `overwrite=true`"), "{e}");
        write(&["metadata/part-00000", "b"], Overwrite::SameKind).unwrap();
        assert_eq!(entries(&out), ["b", "metadata"], "the new folder replaces the old one whole");
        assert_eq!(entries(dir.path()), ["model"], "no temporary folder is left");
        fs::write(dir.path().join("file"), b"x").unwrap();
        assert!(write_dir_atomic(&dir.path().join("file"), &TEST_KIND, Overwrite::SameKind, fill(&["a"])).is_err());
    }

    #[test]
    fn a_folder_of_someone_elses_files_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let fill = |d: &Path| fs::write(d.join("a"), b"new").map_err(|e| Error::io(d, e));
        // A user's own files, beside files of our names or alone.
        fs::create_dir_all(out.join("metadata")).unwrap();
        fs::write(out.join("thesis.tex"), b"mine").unwrap();
        for overwrite in [Overwrite::Refuse, Overwrite::SameKind] {
            let e = write_dir_atomic(&out, &TEST_KIND, overwrite, fill).unwrap_err();
            assert!(e.to_string().contains("is not a test folder (it holds thesis.tex)"), "{e}");
            assert_eq!(e.class().exit_code(), 2);
        }
        assert_eq!(fs::read(out.join("thesis.tex")).unwrap(), b"mine");
        // Our names only, but its content does not say it is one.
        fs::remove_file(out.join("thesis.tex")).unwrap();
        fs::remove_dir(out.join("metadata")).unwrap();
        fs::write(out.join("a"), b"mine").unwrap();
        let e = write_dir_atomic(&out, &TEST_KIND, Overwrite::SameKind, fill).unwrap_err();
        assert!(e.to_string().contains("is not a test folder (it holds a)"), "{e}");
        assert_eq!(fs::read(out.join("a")).unwrap(), b"mine");
        // An empty folder holds nothing to lose.
        fs::remove_file(out.join("a")).unwrap();
        write_dir_atomic(&out, &TEST_KIND, Overwrite::Refuse, fill).unwrap();
        assert_eq!(fs::read(out.join("a")).unwrap(), b"new");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_to_a_folder_is_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("real")).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("real", &link).unwrap();
        let e = write_dir_atomic(&link, &TEST_KIND, Overwrite::SameKind, |_| Ok(())).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    }
}
