//! The journal's writer: appends (each `write` + `fdatasync` before it returns), voids, the
//! commit of a write transaction with its entry, rotation at a backup and pruning.
//!
//! Files: `NNNNNNNN.jsonl` segments (mode 0600) in one folder (mode 0700) per database. Every
//! process run writes its own segment (created at its first append), and so does the time after
//! every backup ([`Journal::rotate`], under the write lock, so every entry of the older segments
//! belongs to a transaction that has committed before the backup's snapshot begins). A segment
//! that a failed write may have torn is never appended to again. [`Journal::prune`] deletes the
//! segments the *previous* verified backup covers, so the journal always reaches back to the
//! backup before the newest one.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::line::{self, read_dir, Body, Entry, EntryId, JournalRead};
use super::snapshot::snapshot;
use crate::pool::{db_time, Result, StoreError};
use crate::writable::WriteTx;

/// The file holding the first segment number that the newest verified backup does not cover.
const COVERED: &str = "covered";

/// Handle to one database's journal. Cheap to clone; appends are serialised.
#[derive(Clone)]
pub struct Journal {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("dir", &self.inner.dir)
            .finish_non_exhaustive()
    }
}

struct Inner {
    dir: PathBuf,
    state: Mutex<State>,
}

struct State {
    /// The open segment; `None` after a rotation or a failed write (the next append opens
    /// segment `segment`).
    file: Option<File>,
    segment: u64,
    next_seq: u64,
    /// Entries that must be voided (their transaction did not commit), written with the next
    /// line that reaches the disk.
    pending_voids: Vec<EntryId>,
    last: Option<EntryId>,
    /// The last write failed; `recovered` is set by the next one that succeeds.
    failing: bool,
    recovered: bool,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(io_err(dir))?;
    #[cfg(unix)]
    {
        // An existing folder is narrowed too; a filesystem without modes (FAT) refuses: fine.
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

/// Make a new file's directory entry durable.
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// Create segment `*n` (or the next free number, which is stored back into `n`), mode 0600,
/// and the folder again if it went away (a backup disk unplugged and plugged back in).
fn create_segment(dir: &Path, n: &mut u64) -> Result<File> {
    if !dir.is_dir() {
        create_private_dir(dir)?;
    }
    loop {
        let path = dir.join(line::segment_name(*n));
        let mut opts = std::fs::OpenOptions::new();
        opts.append(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        match opts.open(&path) {
            Ok(f) => {
                sync_dir(dir)?;
                return Ok(f);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => *n += 1,
            Err(e) => return Err(io_err(&path)(e)),
        }
    }
}

/// Create and remove a file in `dir`.
fn probe(dir: &Path) -> Result<()> {
    let path = dir.join(format!(".probe-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(io_err(&path))?;
    std::fs::remove_file(&path).map_err(io_err(&path))
}

fn read_covered(dir: &Path) -> u64 {
    std::fs::read_to_string(dir.join(COVERED))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

fn write_covered(dir: &Path, n: u64) -> Result<()> {
    let tmp = dir.join(format!("{COVERED}.tmp"));
    let path = dir.join(COVERED);
    let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(format!("{n}\n").as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
    sync_dir(dir)
}

impl Journal {
    /// Open the journal in `dir` (created, mode 0700). A file is created and removed there at
    /// once, so an unwritable folder is found at start, not at the first payment; this run's
    /// segment is created by its first append.
    pub fn open(dir: &Path) -> Result<Journal> {
        create_private_dir(dir)?;
        probe(dir)?;
        let newest = line::segments(dir).last().map(|s| s.0).unwrap_or(0);
        let segment = newest.max(read_covered(dir)) + 1;
        Ok(Journal {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                state: Mutex::new(State {
                    file: None,
                    segment,
                    next_seq: 1,
                    pending_voids: Vec::new(),
                    last: None,
                    failing: false,
                    recovered: false,
                }),
            }),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Append `body` and `fdatasync` it; returns its id once it is on the disk.
    pub async fn append(&self, body: Body) -> Result<EntryId> {
        let inner = self.inner.clone();
        let written = tokio::task::spawn_blocking(move || inner.write(Some(body)))
            .await
            .map_err(|e| StoreError::Invalid(format!("journal append task failed: {e}")))??;
        written.ok_or_else(|| StoreError::Invalid("journal append wrote nothing".into()))
    }

    /// Record that entry `id` describes a change that was not committed. Best effort: when the
    /// disk refuses now, the void goes out with the next line that reaches it.
    pub async fn void(&self, id: EntryId) {
        let inner = self.inner.clone();
        let r = tokio::task::spawn_blocking(move || {
            if let Ok(mut st) = inner.state.lock() {
                st.pending_voids.push(id);
            }
            inner.write(None)
        })
        .await;
        if !matches!(r, Ok(Ok(_))) {
            tracing::error!(
                ?id,
                "journal: cannot record that an entry was not committed yet"
            );
        }
    }

    /// Append the rows of order `payment_id` (read inside `tx`) as change `what`, then commit
    /// `tx`. When the append fails the transaction is rolled back (dropped) and the error
    /// returned: nothing is acknowledged without its second copy. When the commit fails the entry
    /// is voided.
    pub async fn commit(&self, mut tx: WriteTx, payment_id: i64, what: &str) -> Result<EntryId> {
        let rows = snapshot(&mut tx, payment_id).await?;
        let id = self
            .append(Body::Change {
                what: what.to_string(),
                payment_id,
                rows,
            })
            .await?;
        if let Err(e) = tx.commit().await {
            self.void(id).await;
            return Err(e.into());
        }
        Ok(id)
    }

    /// Whether a write succeeded after one had failed (once: the flag is cleared).
    pub fn take_recovered(&self) -> bool {
        self.inner
            .state
            .lock()
            .map(|mut s| std::mem::take(&mut s.recovered))
            .unwrap_or(false)
    }

    /// The newest entry written by this handle.
    pub fn last_id(&self) -> Option<EntryId> {
        self.inner.state.lock().ok().and_then(|s| s.last)
    }

    /// The newest readable entry in the folder, whoever wrote it.
    pub fn newest_on_disk(&self) -> Option<EntryId> {
        self.read().entries.iter().map(Entry::id).max()
    }

    /// Start a new segment; returns its number. Call it while holding the database's write lock
    /// (a [`WriteTx`]), right before a backup: every entry of the older segments then belongs to a
    /// transaction that has committed (or is voided) before the backup's snapshot begins.
    pub fn rotate(&self) -> Result<u64> {
        let mut st = self
            .inner
            .state
            .lock()
            .map_err(|_| StoreError::Invalid("journal lock poisoned".into()))?;
        st.file = None;
        st.segment += 1;
        Ok(st.segment)
    }

    /// A verified backup covers every segment below `first_uncovered` (from [`Journal::rotate`]).
    /// Deletes the segments the previous such backup covered, keeping one backup's worth more
    /// than needed (should the newest backup be unusable when it is needed), and records
    /// `first_uncovered`. Returns the files deleted. A crash at any point loses nothing
    /// uncovered: the record is written (atomically) after the deletions, and only ever grows.
    pub fn prune(&self, first_uncovered: u64) -> Result<Vec<PathBuf>> {
        let dir = &self.inner.dir;
        let previous = read_covered(dir);
        let mut deleted = Vec::new();
        for (n, path) in line::segments(dir) {
            if n < previous.min(first_uncovered) {
                std::fs::remove_file(&path).map_err(io_err(&path))?;
                deleted.push(path);
            }
        }
        if first_uncovered > previous {
            write_covered(dir, first_uncovered)?;
        }
        Ok(deleted)
    }

    /// Everything readable in this journal.
    pub fn read(&self) -> JournalRead {
        read_dir(&self.inner.dir)
    }
}

impl State {
    fn next_id(&mut self) -> EntryId {
        let id = EntryId {
            segment: self.segment,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        id
    }
}

impl Inner {
    /// Write the pending voids and `body` (if any) as lines and `fdatasync` them. On failure the
    /// segment is abandoned (the next write starts a new one, never after a torn line) and
    /// `body`'s entry is voided: a partly written line may still reach the disk.
    fn write(&self, body: Option<Body>) -> Result<Option<EntryId>> {
        let mut st = self
            .state
            .lock()
            .map_err(|_| StoreError::Invalid("journal lock poisoned".into()))?;
        if body.is_none() && st.pending_voids.is_empty() {
            return Ok(None);
        }
        let written = Self::write_locked(&self.dir, &mut st, body);
        match &written {
            Ok(_) if st.failing => {
                st.failing = false;
                st.recovered = true;
            }
            Ok(_) => {}
            Err(_) => st.failing = true,
        }
        written
    }

    fn write_locked(dir: &Path, st: &mut State, body: Option<Body>) -> Result<Option<EntryId>> {
        if st.file.is_none() {
            let mut n = st.segment;
            let file = create_segment(dir, &mut n)?;
            st.segment = n;
            st.file = Some(file);
        }
        let at = db_time(chrono::Utc::now());
        let mut buf = Vec::new();
        let voids = st.pending_voids.clone();
        for v in voids {
            let id = st.next_id();
            buf.extend(encode(id, &at, Body::Void { voids: v })?);
        }
        let id = match body {
            Some(body) => {
                let id = st.next_id();
                buf.extend(encode(id, &at, body)?);
                Some(id)
            }
            None => None,
        };
        let path = dir.join(line::segment_name(st.segment));
        let written = match st.file.as_mut() {
            Some(f) => f.write_all(&buf).and_then(|_| f.sync_data()),
            None => Ok(()),
        };
        match written {
            Ok(()) => {
                st.pending_voids.clear();
                if id.is_some() {
                    st.last = id;
                }
                Ok(id)
            }
            Err(e) => {
                st.file = None;
                st.segment += 1;
                if let Some(id) = id {
                    st.pending_voids.push(id);
                }
                Err(io_err(&path)(e))
            }
        }
    }
}

fn encode(id: EntryId, at: &str, body: Body) -> Result<Vec<u8>> {
    line::encode(&Entry {
        segment: id.segment,
        seq: id.seq,
        at: at.to_string(),
        body,
    })
    .map_err(|e| StoreError::Invalid(format!("journal entry cannot be encoded: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::journal::line::testdir::TempDir;

    fn change(n: i64) -> Body {
        Body::Change {
            what: "test".into(),
            payment_id: n,
            rows: Default::default(),
        }
    }

    fn numbers(dir: &Path) -> Vec<u64> {
        line::segments(dir).into_iter().map(|s| s.0).collect()
    }

    #[tokio::test]
    async fn appends_survive_a_restart_and_each_run_writes_its_own_segment() {
        let tmp = TempDir::new("runs");
        let dir = tmp.path().join("j");
        let j = Journal::open(&dir).unwrap();
        let a = j.append(change(1)).await.unwrap();
        let b = j.append(change(2)).await.unwrap();
        assert_eq!((a.segment, a.seq, b.seq), (1, 1, 2));
        drop(j);
        let j = Journal::open(&dir).unwrap();
        let c = j.append(change(3)).await.unwrap();
        assert_eq!(c.segment, 2);
        let r = j.read();
        assert_eq!(r.entries.len(), 3);
        assert_eq!(r.unreadable_lines, 0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&dir.join(line::segment_name(1))), 0o600);
        }
    }

    #[tokio::test]
    async fn a_void_is_written_and_rotation_and_pruning_keep_one_backup_more() {
        let tmp = TempDir::new("prune");
        let dir = tmp.path().join("j");
        let j = Journal::open(&dir).unwrap();
        let a = j.append(change(1)).await.unwrap();
        j.void(a).await;
        let r = j.read();
        assert!(matches!(r.entries[1].body, Body::Void { voids } if voids == a));

        // First backup: covers segment 1; nothing was covered before, nothing deleted.
        let k1 = j.rotate().unwrap();
        j.append(change(2)).await.unwrap();
        assert_eq!(k1, 2);
        assert!(j.prune(k1).unwrap().is_empty());
        // Second backup: the first one's segments go, the second one's stay.
        let k2 = j.rotate().unwrap();
        j.append(change(3)).await.unwrap();
        let deleted = j.prune(k2).unwrap();
        assert_eq!(deleted.len(), 1);
        assert_eq!(numbers(&dir), vec![2, 3]);
        // A restart continues above the covered mark even if the newest segments are gone.
        drop(j);
        let j = Journal::open(&dir).unwrap();
        j.append(change(4)).await.unwrap();
        assert_eq!(numbers(&dir), vec![2, 3, 4]);
        // A backup that failed after its rotation prunes nothing.
        j.rotate().unwrap();
        assert_eq!(numbers(&dir), vec![2, 3, 4]);
    }
}
