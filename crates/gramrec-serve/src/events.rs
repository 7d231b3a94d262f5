//! The event log: every accepted event as one JSON line, in gramrec's
//! JSON-lines input format (`user`, `item`, `weight`, `time`, plus the
//! server's `received`), so `gramrec train --input base --input events.jsonl`
//! retrains on it.
//!
//! Appends go through one writer thread that commits in groups: it takes
//! every event queued while the previous write was syncing, writes them in
//! one `write`, calls `fdatasync` once, then runs each event's `apply` (in
//! log order) and acknowledges it. An event is acknowledged only once it is
//! on disk. A write or sync that fails fails its events, and every later one:
//! the file's tail is then unknown, so the server stops accepting events
//! rather than acknowledge what a restart might not find.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use gramrec_core::Error;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

/// One logged event: a line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedEvent {
    /// The user's ID.
    pub user: String,
    /// The item's ID.
    pub item: String,
    /// Rating or strength.
    #[serde(default = "one")]
    pub weight: f32,
    /// When it happened: the client's time, or the receipt time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<f64>,
    /// When the server accepted it, in Unix seconds (absent in lines other
    /// tools wrote: those count as newer than any model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<f64>,
}

fn one() -> f32 {
    1.0
}

impl LoggedEvent {
    /// The event's line, newline included.
    pub fn line(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec(self).expect("an event serialises");
        v.push(b'\n');
        v
    }

    /// Whether a model whose data was read at `read_at` lacks this event.
    pub fn newer_than(&self, read_at: Option<f64>) -> bool {
        match (self.received, read_at) {
            (Some(r), Some(t)) => r > t,
            _ => true,
        }
    }
}

/// The log's complete lines from byte `from` on, parsed, with the offset
/// after the last complete line. A last line without its newline (a write
/// cut short) is not returned; `Err` names the file and line of a complete
/// line that is not an event.
pub fn read_from(path: &Path, from: u64, first_line: u64) -> Result<Replay, Error> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    file.seek(SeekFrom::Start(from)).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    let mut events = Vec::new();
    let mut line = first_line;
    for text in bytes[..complete].split_inclusive(|&b| b == b'\n') {
        line += 1;
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let event: LoggedEvent = serde_json::from_slice(text).map_err(|e| Error::Input {
            path: path.to_path_buf(),
            line: Some(line),
            message: format!("not an event line: {e}"),
            skippable: None,
        })?;
        events.push(event);
    }
    Ok(Replay { events, end: from + complete as u64, torn: bytes.len() - complete, lines: line })
}

/// What [`read_from`] found.
#[derive(Debug)]
pub struct Replay {
    /// The events, in log order.
    pub events: Vec<LoggedEvent>,
    /// The offset just past the last complete line.
    pub end: u64,
    /// Bytes after it: a line whose write was cut short.
    pub torn: usize,
    /// Lines read so far (to number the next read's lines).
    pub lines: u64,
}

/// Ends the log's last line when it is a whole event without its line end
/// (appended by hand or by another tool), so that it is read as an event
/// and the next append starts a line of its own; true when it did. A tail
/// that is not a whole event is left for [`truncate_torn`].
pub fn complete_last_line(path: &Path) -> Result<bool, Error> {
    let mut file = OpenOptions::new().read(true).append(true).open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    let tail = &bytes[bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1)..];
    if tail.iter().all(u8::is_ascii_whitespace) || serde_json::from_slice::<LoggedEvent>(tail).is_err() {
        return Ok(false);
    }
    file.write_all(b"\n").and_then(|()| file.sync_all()).map_err(|e| Error::io(path, e))?;
    Ok(true)
}

/// Drops a torn last line (a crash mid-write: never acknowledged), so that
/// appends start on a line of their own.
pub fn truncate_torn(path: &Path, end: u64) -> Result<(), Error> {
    let file = OpenOptions::new().write(true).open(path).map_err(|e| Error::io(path, e))?;
    file.set_len(end).and_then(|_| file.sync_all()).map_err(|e| Error::io(path, e))
}

/// Work run by the writer once an event is durable, before it is
/// acknowledged: applying it to the live users, in log order.
pub type Apply = Box<dyn FnOnce() + Send>;

struct Append {
    line: Vec<u8>,
    apply: Apply,
    done: oneshot::Sender<io::Result<()>>,
}

/// What the writer thread is asked to do, in order.
enum Job {
    Append(Append),
    /// A reload: the served model's data is now as of `read_at`, and the log
    /// follows the path.
    Follow {
        read_at: Option<f64>,
        done: oneshot::Sender<Result<Option<usize>, Error>>,
    },
}

/// The appending side of the log.
///
/// The log is the file at its path, which is re-resolved: when the path
/// names another file than the one held — a log rotated (renamed away,
/// removed) or a model path that is a link swapped to another folder (a
/// blue/green deploy) — the next commit, or reload, moves to the file now at
/// the path, first copying into it the events the served model lacks
/// (received after its data was read) that it does not already hold. So the
/// file at the path always holds every acknowledged event the model lacks:
/// what a restart, or a reload, replays.
pub struct EventLog {
    path: PathBuf,
    queue: Option<mpsc::Sender<Job>>,
    writer: Option<JoinHandle<()>>,
    /// How many times the log has moved to a new file.
    moves: Arc<AtomicU64>,
}

/// Told when the log moved to a new file, with a line to log.
pub type Notice = Box<dyn Fn(&str) + Send>;

impl EventLog {
    /// Opens (creating) the log for appending and starts its writer thread.
    /// `read_at` is when the served model's data was read; `committed(n)` is
    /// told the size of each group commit, `notice` when the log moved.
    pub fn open(
        path: &Path,
        read_at: Option<f64>,
        committed: impl Fn(usize) + Send + 'static,
        notice: Notice,
    ) -> Result<Self, Error> {
        let file = open_for_append(path)?;
        let (queue, rx) = mpsc::channel::<Job>();
        let moves = Arc::new(AtomicU64::new(0));
        let writer = Writer {
            path: path.to_path_buf(),
            file,
            read_at,
            left: Vec::new(),
            moves: moves.clone(),
            failed: None,
            notice,
        };
        let writer = std::thread::Builder::new()
            .name("gramrec-events".into())
            .spawn(move || writer.run(rx, committed))
            .map_err(|e| Error::io(path, e))?;
        Ok(Self { path: path.to_path_buf(), queue: Some(queue), writer: Some(writer), moves })
    }

    /// How many times the log has moved to a new file so far: a reader that
    /// saw this number change knows the file it read is no longer the log.
    pub fn moves(&self) -> u64 {
        self.moves.load(Ordering::SeqCst)
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `line` durably, then runs `apply`; resolves once both are done.
    pub async fn append(&self, line: Vec<u8>, apply: Apply) -> io::Result<()> {
        let (done, wait) = oneshot::channel();
        let closed = || io::Error::other("the event log is closed");
        self.queue
            .as_ref()
            .ok_or_else(closed)?
            .send(Job::Append(Append { line, apply, done }))
            .map_err(|_| closed())?;
        wait.await.map_err(|_| closed())?
    }

    /// For a reload, with no append in flight: records the new model's
    /// `read_at` and moves to the file now at the path if it changed,
    /// carrying the events that model lacks, also from files the log moved
    /// away from since the last reload (a commit that moved it carried what
    /// the previous model lacked, which may be less). Returns how many were
    /// carried when the log moved. A file at the path that is not an event
    /// log is refused, and the log stays where it was.
    pub async fn follow(&self, read_at: Option<f64>) -> Result<Option<usize>, Error> {
        let (done, wait) = oneshot::channel();
        let closed = || Error::Data("the event log is closed".into());
        self.queue.as_ref().ok_or_else(closed)?.send(Job::Follow { read_at, done }).map_err(|_| closed())?;
        wait.await.map_err(|_| closed())?
    }

    /// Stops accepting appends, waits for those queued to be written and
    /// synced, and closes the file.
    pub fn close(&mut self) {
        self.queue.take();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

impl Drop for EventLog {
    fn drop(&mut self) {
        self.close();
    }
}

/// Opens (creating) a log for appending and reading back; its name is made
/// durable too (a new log in a fresh directory).
fn open_for_append(path: &Path) -> Result<File, Error> {
    let file = OpenOptions::new().create(true).read(true).append(true).open(path).map_err(|e| Error::io(path, e))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io(dir, e))?;
    }
    Ok(file)
}

/// The writer thread's state.
struct Writer {
    path: PathBuf,
    /// The file appended to: the one at `path` when it was last looked at.
    file: File,
    /// When the served model's data was read.
    read_at: Option<f64>,
    /// Files the log moved away from at a commit since the last reload: the
    /// reload carries from them again, with its model's `read_at`.
    left: Vec<File>,
    moves: Arc<AtomicU64>,
    /// Why writing failed, after a write or sync failed: the file's tail is
    /// unknown, so nothing more is acknowledged.
    failed: Option<String>,
    notice: Notice,
}

impl Writer {
    /// Group commits until the queue closes; then follows the path a last
    /// time (a rotation or a swapped link with no event since still gets
    /// the events the model lacks) and syncs.
    fn run(mut self, rx: mpsc::Receiver<Job>, committed: impl Fn(usize)) {
        while let Ok(first) = rx.recv() {
            let mut group = Vec::new();
            for job in std::iter::once(first).chain(rx.try_iter()) {
                match job {
                    Job::Append(a) => group.push(a),
                    Job::Follow { read_at, done } => {
                        // Appends queued before it are committed first.
                        self.commit(std::mem::take(&mut group), &committed);
                        let _ = done.send(self.follow(read_at, true));
                    }
                }
            }
            self.commit(group, &committed);
        }
        if self.failed.is_none() {
            if let Err(e) = self.follow(self.read_at, false) {
                (self.notice)(&format!("warning: {e}"));
            }
        }
        let _ = self.file.sync_data();
    }

    /// Writes a group in one write and one sync, then applies and
    /// acknowledges each event in order (or fails them all).
    fn commit(&mut self, group: Vec<Append>, committed: &impl Fn(usize)) {
        if group.is_empty() {
            return;
        }
        let result = match &self.failed {
            Some(why) => Err(io::Error::other(format!("an earlier write to the event log failed ({why})"))),
            None => self.follow(self.read_at, false).map_err(|e| io::Error::other(e.to_string())).and_then(|_| {
                let bytes: Vec<u8> = group.iter().flat_map(|a| a.line.iter().copied()).collect();
                self.file.write_all(&bytes).and_then(|_| self.file.sync_data()).inspect_err(|e| {
                    self.failed.get_or_insert_with(|| e.to_string());
                })
            }),
        };
        if result.is_ok() {
            committed(group.len());
        }
        for a in group {
            let outcome = match &result {
                Ok(()) => {
                    (a.apply)();
                    Ok(())
                }
                Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
            };
            let _ = a.done.send(outcome);
        }
    }

    /// Whether the path names another file than the one held (or none).
    fn moved(&self) -> bool {
        let (Ok(at_path), Ok(held)) = (std::fs::metadata(&self.path), self.file.metadata()) else { return true };
        !same_file(&at_path, &held)
    }

    /// Moves to the file at the path if it is not the one held, carrying
    /// the events a model of `read_at` lacks; at a reload, records
    /// `read_at` and carries again from the files left since the last one.
    /// How many events were carried, when any source was read.
    fn follow(&mut self, read_at: Option<f64>, reload: bool) -> Result<Option<usize>, Error> {
        let moved = self.moved();
        let carry_left = reload && !self.left.is_empty();
        if !moved && !carry_left {
            if reload {
                self.read_at = read_at;
            }
            return Ok(None);
        }
        // Nothing changes until the events are carried: a file at the path
        // that is not an event log leaves the writer where it was.
        let to = match moved {
            true => open_for_append(&self.path)?,
            false => self.file.try_clone().map_err(|e| Error::io(&self.path, e))?,
        };
        let mut sources: Vec<&File> = if reload { self.left.iter().collect() } else { Vec::new() };
        if moved {
            sources.push(&self.file);
        }
        let count = carry(&self.path, &to, &sources, read_at)?;
        if reload {
            self.left.clear();
        }
        if moved {
            let held = std::mem::replace(&mut self.file, to);
            if !reload {
                self.left.push(held);
            }
            self.moves.fetch_add(1, Ordering::SeqCst);
            (self.notice)(&format!(
                "{}: the log at this path is a new file (rotated, or the model path moved): appending there, \
                 with the {count} events the model lacks copied in",
                self.path.display()
            ));
        }
        if reload {
            self.read_at = read_at;
        }
        Ok(Some(count))
    }
}

/// Appends to `to` (the log at `path`) the events of `sources` that a model
/// of `read_at` lacks and `to` does not hold yet (counted, so an event
/// logged twice is carried twice), and syncs it. The log at `path` is read
/// as at start: a whole last event gets its line end, a torn one is cut, any
/// other line that is not an event is an error (and nothing is written).
/// Lines are copied as they are, byte for byte. Returns how many.
fn carry(path: &Path, to: &File, sources: &[&File], read_at: Option<f64>) -> Result<usize, Error> {
    complete_last_line(path)?;
    let there = read_from(path, 0, 0)?;
    if there.torn > 0 {
        truncate_torn(path, there.end)?;
    }
    let mut present: HashMap<Vec<u8>, usize> = HashMap::new();
    for e in &there.events {
        *present.entry(e.line()).or_default() += 1;
    }
    let mut carried = Vec::new();
    let mut count = 0;
    for mut source in sources.iter().copied() {
        let mut bytes = Vec::new();
        source.seek(SeekFrom::Start(0)).and_then(|_| source.read_to_end(&mut bytes)).map_err(|e| Error::io(path, e))?;
        for (line, event) in event_lines(&bytes) {
            if !event.newer_than(read_at) {
                continue;
            }
            match present.get_mut(&event.line()) {
                Some(n) if *n > 0 => *n -= 1,
                _ => {
                    carried.extend_from_slice(line);
                    carried.push(b'\n');
                    count += 1;
                }
            }
        }
    }
    let mut to = to;
    to.write_all(&carried).and_then(|_| to.sync_data()).map_err(|e| Error::io(path, e))?;
    Ok(count)
}

/// The complete lines of a log that are events, without their line ends,
/// each with its event.
fn event_lines(bytes: &[u8]) -> impl Iterator<Item = (&[u8], LoggedEvent)> {
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    bytes[..complete]
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter_map(|l| serde_json::from_slice::<LoggedEvent>(l).ok().map(|e| (l, e)))
}

/// Whether two metadata describe the same file.
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        a.dev() == b.dev() && a.ino() == b.ino()
    }
    #[cfg(not(unix))]
    {
        // Without inode numbers, only a vanished file is seen as moved.
        let _ = (a, b);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(user: &str, item: &str, received: f64) -> LoggedEvent {
        LoggedEvent { user: user.into(), item: item.into(), weight: 2.0, time: None, received: Some(received) }
    }

    #[test]
    fn an_event_line_holds_only_the_fields_readers_know_an_event_log_by() {
        let full = LoggedEvent { time: Some(3.0), ..event("u1", "a", 1.0) };
        let obj: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&full.line()).unwrap();
        let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        assert!(keys.iter().all(|k| gramrec_core::format::EVENT_LOG_FIELDS.contains(k)), "{keys:?}");
        assert_eq!(keys.len(), gramrec_core::format::EVENT_LOG_FIELDS.len());
    }

    #[test]
    fn a_torn_last_line_is_left_out_and_a_bad_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let mut bytes = event("u1", "a", 1.0).line();
        bytes.extend(event("u2", "b", 2.0).line());
        bytes.extend(b"{\"user\":\"u3\",\"it");
        std::fs::write(&path, &bytes).unwrap();
        let r = read_from(&path, 0, 0).unwrap();
        assert_eq!(r.events, vec![event("u1", "a", 1.0), event("u2", "b", 2.0)]);
        assert_eq!(r.torn, 16);
        truncate_torn(&path, r.end).unwrap();
        assert_eq!(std::fs::read(&path).unwrap().len() as u64, r.end);

        std::fs::write(&path, b"{\"user\":\"u1\",\"item\":\"a\"}\n\nnot json\n").unwrap();
        let e = read_from(&path, 0, 0).unwrap_err().to_string();
        assert!(e.ends_with("events.jsonl:3: not an event line: expected ident at line 1 column 2"), "{e}");
    }

    #[test]
    fn a_whole_last_event_without_its_line_end_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let mut bytes = event("u1", "a", 1.0).line();
        bytes.extend(b"{\"user\":\"u2\",\"item\":\"b\",\"weight\":3}");
        std::fs::write(&path, &bytes).unwrap();
        assert!(complete_last_line(&path).unwrap());
        let r = read_from(&path, 0, 0).unwrap();
        assert_eq!((r.events.len(), r.torn), (2, 0));
        assert_eq!(r.events[1].weight, 3.0);
        assert!(!complete_last_line(&path).unwrap(), "already whole");
        // A half-written line is not an event: left for truncate_torn.
        let mut torn = std::fs::read(&path).unwrap();
        torn.extend(b"{\"user\":\"u3\",\"it");
        std::fs::write(&path, &torn).unwrap();
        assert!(!complete_last_line(&path).unwrap());
        assert_eq!(read_from(&path, 0, 0).unwrap().torn, 16);
    }

    #[test]
    fn reading_resumes_where_it_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, event("u1", "a", 1.0).line()).unwrap();
        let first = read_from(&path, 0, 0).unwrap();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&event("u2", "b", 2.0).line()).unwrap();
        let rest = read_from(&path, first.end, first.lines).unwrap();
        assert_eq!(rest.events, vec![event("u2", "b", 2.0)]);
        assert_eq!(rest.lines, 2);
    }

    #[tokio::test]
    async fn a_failed_write_fails_that_event_and_every_later_one() {
        // /dev/full takes the open and refuses every write (ENOSPC).
        let log = EventLog::open(Path::new("/dev/full"), None, |_| {}, Box::new(|_| {})).unwrap();
        let applied = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = applied.clone();
        let apply: Apply = Box::new(move || flag.store(true, std::sync::atomic::Ordering::SeqCst));
        let first = log.append(event("u", "a", 1.0).line(), apply).await.unwrap_err();
        assert!(first.to_string().contains("space"), "{first}");
        assert!(!applied.load(std::sync::atomic::Ordering::SeqCst), "a failed event is not applied");
        let later = log.append(event("u", "b", 2.0).line(), Box::new(|| {})).await.unwrap_err();
        assert!(later.to_string().contains("an earlier write to the event log failed"), "{later}");
    }

    #[test]
    fn events_older_than_the_model_are_not_reapplied() {
        assert!(!event("u", "a", 10.0).newer_than(Some(10.0)));
        assert!(event("u", "a", 10.5).newer_than(Some(10.0)));
        assert!(event("u", "a", 1.0).newer_than(None));
        let foreign = LoggedEvent { received: None, ..event("u", "a", 0.0) };
        assert!(foreign.newer_than(Some(1e12)));
    }
}
