//! The mempool's journal: every transaction admitted from a client is appended here and synced
//! to disk before the node answers `202`, so an accepted transaction survives `kill -9`.
//!
//! One writer thread does all the file work. Admission appends frames to a queue and gets a
//! [`Ticket`]; the writer takes everything queued, writes it, syncs once and wakes every
//! waiter whose frames that sync covered — a group commit: a hundred concurrent submissions
//! cost one `fdatasync`, not a hundred.
//!
//! The journal lives in segments (`DIR/00000001.journal`, …). It only grows until the node
//! [compacts](Journal::compact) it: a new segment starts with the frames of every transaction
//! still pending, and once that segment is synced the older ones are deleted. What left the
//! pool since is in the chain database (included, or dropped with its reason), so nothing the
//! node acknowledged is lost by forgetting it here.

pub mod frame;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use joule_light_client::SignedTransaction;
use thiserror::Error;
use tokio::sync::watch;

/// Journal bytes written since the last compaction before the next one is due (at least; see
/// [`Journal::wants_compaction`]).
pub const COMPACT_AFTER_BYTES: u64 = 32 << 20;

/// Why the journal failed.
#[derive(Debug, Clone, Error)]
#[non_exhaustive]
pub enum JournalError {
    /// Reading or creating the journal's files failed.
    #[error("mempool journal {}: {reason}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// A write or sync failed: nothing is acknowledged after it.
    #[error("the mempool journal could not be written ({0}); transactions are refused until the node restarts")]
    Failed(Arc<str>),
    /// The journal was closed (the node is stopping).
    #[error("the node is stopping")]
    Closed,
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> JournalError + '_ {
    move |e| JournalError::Io {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

/// A place in the journal: durable once the writer has synced past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[must_use = "a ticket means nothing until it is waited on"]
pub struct Ticket(u64);

impl Ticket {
    /// A ticket that is already durable (nothing was appended).
    pub const NONE: Ticket = Ticket(0);
}

/// What the journal held when it was opened.
#[derive(Debug, Default)]
pub struct Recovered {
    /// Transactions, oldest first (a transaction may appear more than once).
    pub txs: Vec<SignedTransaction>,
    /// Segments read.
    pub segments: usize,
    /// Bytes after the last good frame of a segment: a write the process died in, never
    /// acknowledged.
    pub ignored_bytes: usize,
}

/// Where the writer is, as waiters see it.
#[derive(Debug, Clone, Default)]
struct Progress {
    durable: u64,
    failed: Option<Arc<str>>,
    closed: bool,
}

impl Progress {
    fn verdict(&self, t: Ticket) -> Option<Result<(), JournalError>> {
        if t.0 <= self.durable {
            Some(Ok(()))
        } else if let Some(f) = &self.failed {
            Some(Err(JournalError::Failed(f.clone())))
        } else if self.closed {
            Some(Err(JournalError::Closed))
        } else {
            None
        }
    }
}

enum Item {
    Frames(Vec<u8>),
    /// Start a new segment with these frames (the pending transactions' snapshot).
    Rotate(Vec<u8>),
}

struct Queue {
    items: Vec<Item>,
    /// The ticket of the last item queued.
    queued: u64,
    stop: bool,
    /// A rotation is queued or being written.
    rotating: bool,
}

struct Shared {
    dir: PathBuf,
    queue: Mutex<Queue>,
    /// The writer waits here for work.
    work: Condvar,
    progress: Mutex<Progress>,
    /// Blocking waiters wait here; async ones on `watch`.
    synced: Condvar,
    watch: watch::Sender<Progress>,
    /// Bytes written since the last rotation, and the size of the last snapshot.
    sizes: Mutex<(u64, u64)>,
}

impl Shared {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn progress(&self) -> MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn publish(&self, update: impl FnOnce(&mut Progress)) {
        let mut p = self.progress();
        update(&mut p);
        self.watch.send_replace(p.clone());
        drop(p);
        self.synced.notify_all();
    }
}

/// The journal (see the module docs).
pub struct Journal {
    shared: Arc<Shared>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("dir", &self.shared.dir)
            .finish_non_exhaustive()
    }
}

/// The segments in `dir`, oldest first, with their numbers.
fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, JournalError> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
        let path = entry.map_err(io_error(dir))?.path();
        let number = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".journal"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(n) = number {
            found.push((n, path));
        }
    }
    found.sort_unstable();
    Ok(found)
}

fn segment_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:08}.journal"))
}

/// Makes a directory's entries (a file created or deleted in it) durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

impl Journal {
    /// Opens the journal in `dir` (created if missing), reads what its segments hold and starts
    /// the writer. The segments read stay until the first [`Self::compact`] replaces them.
    pub fn open(dir: &Path) -> Result<(Self, Recovered), JournalError> {
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        let existing = segments(dir)?;
        let mut recovered = Recovered::default();
        for (_, path) in &existing {
            let bytes = std::fs::read(path).map_err(io_error(path))?;
            let read = frame::read(&bytes);
            if read.foreign {
                return Err(JournalError::Io {
                    path: path.clone(),
                    reason: "not a mempool journal segment (it does not start with the journal's magic bytes); move it out of the directory".into(),
                });
            }
            if read.ignored > 0 {
                tracing::warn!(
                    path = %path.display(),
                    bytes = read.ignored,
                    kept = read.txs.len(),
                    "mempool journal: a torn or damaged tail ignored (a write never acknowledged)"
                );
            }
            recovered.ignored_bytes += read.ignored;
            recovered.txs.extend(read.txs);
        }
        recovered.segments = existing.len();
        let next = existing.last().map_or(1, |(n, _)| n + 1);
        let (watch, _) = watch::channel(Progress::default());
        let shared = Arc::new(Shared {
            dir: dir.to_owned(),
            queue: Mutex::new(Queue {
                items: Vec::new(),
                queued: 0,
                stop: false,
                rotating: false,
            }),
            work: Condvar::new(),
            progress: Mutex::new(Progress::default()),
            synced: Condvar::new(),
            watch,
            sizes: Mutex::new((0, 0)),
        });
        let writer = Writer {
            shared: shared.clone(),
            next,
            current: None,
            retired: existing.into_iter().map(|(_, p)| p).collect(),
        };
        let worker = std::thread::Builder::new()
            .name("joule-journal".into())
            .spawn(move || writer.run())
            .map_err(io_error(dir))?;
        Ok((
            Self {
                shared,
                worker: Mutex::new(Some(worker)),
            },
            recovered,
        ))
    }

    fn enqueue(&self, item: Item) -> Ticket {
        let mut q = self.shared.queue();
        q.items.push(item);
        q.queued += 1;
        let t = Ticket(q.queued);
        drop(q);
        self.shared.work.notify_one();
        t
    }

    /// Queues `txs` for the disk; the ticket tells when they are there.
    pub fn append<'a>(&self, txs: impl IntoIterator<Item = &'a SignedTransaction>) -> Ticket {
        let mut bytes = Vec::new();
        for stx in txs {
            frame::push(&mut bytes, stx);
        }
        self.append_encoded(bytes)
    }

    /// Queues frames encoded with [`frame::push`] (several concatenated, or none).
    pub fn append_encoded(&self, frames: Vec<u8>) -> Ticket {
        if frames.is_empty() {
            return Ticket::NONE;
        }
        self.enqueue(Item::Frames(frames))
    }

    /// Blocks until what `ticket` covers is synced.
    pub fn wait(&self, ticket: Ticket) -> Result<(), JournalError> {
        let mut p = self.shared.progress();
        loop {
            if let Some(v) = p.verdict(ticket) {
                return v;
            }
            p = self
                .shared
                .synced
                .wait(p)
                .unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Waits, without blocking a thread, until what `ticket` covers is synced.
    pub async fn durable(&self, ticket: Ticket) -> Result<(), JournalError> {
        let mut rx = self.shared.watch.subscribe();
        let result = rx.wait_for(|p| p.verdict(ticket).is_some()).await;
        match result {
            Ok(p) => p.verdict(ticket).unwrap_or(Err(JournalError::Closed)),
            Err(_) => Err(JournalError::Closed),
        }
    }

    /// Whether enough was written since the last compaction for another: more than
    /// [`COMPACT_AFTER_BYTES`] and more than twice the last snapshot (so a large pool is not
    /// rewritten over and over), with none under way.
    pub fn wants_compaction(&self) -> bool {
        let (written, snapshot) = *self.shared.sizes.lock().unwrap_or_else(|p| p.into_inner());
        written > COMPACT_AFTER_BYTES.max(2 * snapshot) && !self.shared.queue().rotating
    }

    /// Starts a new segment holding `pending`, after which the older segments are deleted.
    ///
    /// `pending` must be every transaction in the pool, read under the pool's lock, and this
    /// must be called under that same lock: a transaction admitted later queues its frames
    /// after this, so it lands in the new segment; one admitted earlier is in `pending`, or has
    /// left the pool.
    pub fn compact<'a>(&self, pending: impl IntoIterator<Item = &'a SignedTransaction>) -> Ticket {
        let mut bytes = Vec::new();
        for stx in pending {
            frame::push(&mut bytes, stx);
        }
        self.shared.queue().rotating = true;
        self.enqueue(Item::Rotate(bytes))
    }

    /// Writes what is queued, syncs, and stops the writer; later appends are refused.
    pub fn close(&self) {
        self.shared.queue().stop = true;
        self.shared.work.notify_one();
        let worker = self.worker.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(w) = worker {
            let _ = w.join();
        }
        self.shared.publish(|p| p.closed = true);
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.close();
    }
}

/// The writer thread's state.
struct Writer {
    shared: Arc<Shared>,
    /// The number the next segment gets.
    next: u64,
    current: Option<(File, PathBuf)>,
    /// Segments to delete once the current one holds a snapshot and is synced.
    retired: Vec<PathBuf>,
}

impl Writer {
    fn run(mut self) {
        loop {
            let (items, upto) = {
                let mut q = self.shared.queue();
                while q.items.is_empty() && !q.stop {
                    q = self.shared.work.wait(q).unwrap_or_else(|p| p.into_inner());
                }
                if q.items.is_empty() {
                    return;
                }
                (std::mem::take(&mut q.items), q.queued)
            };
            match self.write(items) {
                Ok(rotated) => {
                    if rotated {
                        self.shared.queue().rotating = false;
                    }
                    self.shared.publish(|p| p.durable = upto);
                }
                Err(e) => {
                    tracing::error!(error = %e, "mempool journal write failed; refusing transactions");
                    let reason: Arc<str> = e.to_string().into();
                    self.shared.publish(|p| p.failed = Some(reason));
                    return;
                }
            }
        }
    }

    /// Writes `items` and syncs; returns whether a rotation completed.
    fn write(&mut self, items: Vec<Item>) -> std::io::Result<bool> {
        let mut rotated = false;
        let mut written = 0u64;
        for item in items {
            match item {
                Item::Frames(bytes) => {
                    written += bytes.len() as u64;
                    self.file()?.write_all(&bytes)?;
                }
                Item::Rotate(snapshot) => {
                    if let Some((old, path)) = self.current.take() {
                        old.sync_data()?;
                        self.retired.push(path);
                    }
                    self.file()?.write_all(&snapshot)?;
                    let mut sizes = self.shared.sizes.lock().unwrap_or_else(|p| p.into_inner());
                    *sizes = (0, snapshot.len() as u64);
                    written = 0;
                    rotated = true;
                }
            }
        }
        if let Some((f, _)) = &self.current {
            f.sync_data()?;
        }
        self.shared
            .sizes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0 += written;
        if rotated {
            // The new segment is durable (its directory entry since its creation): the ones
            // it replaces can go.
            for path in self.retired.drain(..) {
                std::fs::remove_file(&path)?;
            }
            sync_dir(&self.shared.dir)?;
        }
        Ok(rotated)
    }

    /// The current segment, created (with its magic, its directory entry synced) if none is.
    fn file(&mut self) -> std::io::Result<&mut File> {
        if self.current.is_none() {
            let path = segment_path(&self.shared.dir, self.next);
            let mut f = OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(&path)?;
            f.write_all(frame::MAGIC)?;
            sync_dir(&self.shared.dir)?;
            self.next += 1;
            self.current = Some((f, path));
        }
        Ok(&mut self.current.as_mut().expect("just set").0)
    }
}

#[cfg(test)]
mod tests {
    use super::frame::tests::tx;
    use super::*;

    fn files(dir: &Path) -> Vec<u64> {
        segments(dir).unwrap().into_iter().map(|(n, _)| n).collect()
    }

    #[test]
    fn what_was_acknowledged_is_read_back_after_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let (j, recovered) = Journal::open(dir.path()).unwrap();
        assert!(recovered.txs.is_empty());
        let a = j.append([&tx(0), &tx(1)]);
        let b = j.append([&tx(2)]);
        j.wait(b).unwrap();
        j.wait(a).unwrap();
        // Not closed: the writer thread is left as a crash would leave it (its file synced).
        std::mem::forget(j);
        let (_j, recovered) = Journal::open(dir.path()).unwrap();
        assert_eq!(recovered.txs, [tx(0), tx(1), tx(2)]);
        assert_eq!((recovered.segments, recovered.ignored_bytes), (1, 0));
    }

    #[test]
    fn concurrent_appends_share_syncs_and_all_become_durable() {
        let dir = tempfile::tempdir().unwrap();
        let (j, _) = Journal::open(dir.path()).unwrap();
        std::thread::scope(|s| {
            for t in 0..8 {
                let j = &j;
                s.spawn(move || {
                    for n in 0..50 {
                        j.wait(j.append([&tx(t * 100 + n)])).unwrap();
                    }
                });
            }
        });
        j.close();
        let (_j, recovered) = Journal::open(dir.path()).unwrap();
        assert_eq!(recovered.txs.len(), 400);
    }

    #[test]
    fn compaction_keeps_the_snapshot_and_later_appends_and_deletes_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let (j, _) = Journal::open(dir.path()).unwrap();
        let old = j.append([&tx(0), &tx(1), &tx(2)]);
        j.wait(old).unwrap();
        assert_eq!(files(dir.path()), [1]);
        // tx 1 is still pending; 0 and 2 left the pool.
        let rotated = j.compact([&tx(1)]);
        let later = j.append([&tx(3)]);
        j.wait(rotated).unwrap();
        j.wait(later).unwrap();
        assert_eq!(files(dir.path()), [2]);
        assert!(!j.wants_compaction());
        j.close();
        let (_j, recovered) = Journal::open(dir.path()).unwrap();
        assert_eq!(recovered.txs, [tx(1), tx(3)]);
    }

    #[test]
    fn segments_of_a_previous_run_go_at_its_first_compaction() {
        let dir = tempfile::tempdir().unwrap();
        let (j, _) = Journal::open(dir.path()).unwrap();
        j.wait(j.append([&tx(0)])).unwrap();
        j.close();
        let (j, recovered) = Journal::open(dir.path()).unwrap();
        assert_eq!(recovered.txs, [tx(0)]);
        // Appends before the compaction go to a new segment; the old one stays till then.
        j.wait(j.append([&tx(1)])).unwrap();
        assert_eq!(files(dir.path()), [1, 2]);
        j.wait(j.compact([&tx(0), &tx(1)])).unwrap();
        assert_eq!(files(dir.path()), [3]);
    }

    #[test]
    fn a_torn_tail_is_ignored_and_the_frames_before_it_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (j, _) = Journal::open(dir.path()).unwrap();
        j.wait(j.append([&tx(0), &tx(1)])).unwrap();
        j.close();
        let path = segment_path(dir.path(), 1);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&path, &bytes).unwrap();
        let (_j, recovered) = Journal::open(dir.path()).unwrap();
        assert_eq!(recovered.txs, [tx(0)]);
        assert!(recovered.ignored_bytes > 0);
    }

    #[test]
    fn a_foreign_file_named_like_a_segment_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(segment_path(dir.path(), 1), b"something else").unwrap();
        let err = Journal::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("00000001.journal"), "{err}");
        assert!(err.contains("not a mempool journal segment"), "{err}");
    }

    #[test]
    fn after_close_appends_are_refused_not_lost_silently() {
        let dir = tempfile::tempdir().unwrap();
        let (j, _) = Journal::open(dir.path()).unwrap();
        j.close();
        let t = j.append([&tx(0)]);
        assert!(matches!(j.wait(t), Err(JournalError::Closed)));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert!(matches!(
            rt.block_on(j.durable(t)),
            Err(JournalError::Closed)
        ));
    }

    #[test]
    fn async_waiters_are_woken_by_the_sync() {
        let dir = tempfile::tempdir().unwrap();
        let (j, _) = Journal::open(dir.path()).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let t = j.append([&tx(0)]);
        rt.block_on(j.durable(t)).unwrap();
        rt.block_on(j.durable(Ticket::NONE)).unwrap();
    }
}
