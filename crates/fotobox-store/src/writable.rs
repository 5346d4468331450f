//! Writing: the write transaction ([`WriteTx`]) and whether the database can be written now. A
//! write that failed because the disk is full, the disk failed (I/O error) or the file turned
//! read-only marks the store not writable until the write probe ([`crate::Store::probe_write`])
//! succeeds again. The state lives in the [`Store`] (shared by its clones), never in a global.
//!
//! [`Store`]: crate::Store

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{Sqlite, Transaction};

/// SQLite's primary result codes that mean "the database cannot be written now".
const SQLITE_READONLY: i32 = 8;
const SQLITE_IOERR: i32 = 10;
const SQLITE_FULL: i32 = 13;

/// Why writes fail, and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WriteFailure {
    /// The first failure of this spell (wall clock).
    pub since: DateTime<Utc>,
    /// Short and without paths: `disk full`, `disk I/O error`, `read-only database`.
    pub reason: &'static str,
    /// SQLite's extended result code of the latest failure.
    pub code: i32,
    /// SQLite's message of the latest failure.
    pub message: String,
    /// Failed writes (including probes) in this spell.
    pub failures: u64,
}

/// What kind of write failure SQLite's (extended) result `code` is, if it is one.
pub fn classify_code(code: i32) -> Option<&'static str> {
    match code & 0xff {
        SQLITE_FULL => Some("disk full"),
        SQLITE_IOERR => Some("disk I/O error"),
        SQLITE_READONLY => Some("read-only database"),
        _ => None,
    }
}

/// The SQLite result code of a database error.
pub fn sqlite_code(e: &sqlx::Error) -> Option<i32> {
    match e {
        sqlx::Error::Database(d) => d.code().and_then(|c| c.parse().ok()),
        _ => None,
    }
}

/// What kind of write failure `e` is, if it is one.
pub fn classify(e: &sqlx::Error) -> Option<&'static str> {
    sqlite_code(e).and_then(classify_code)
}

/// The store's write state (cheap to clone; clones share it).
#[derive(Debug, Clone, Default)]
pub struct WriteHealth {
    failure: Arc<Mutex<Option<WriteFailure>>>,
}

impl WriteHealth {
    /// `None` while writes work.
    pub fn failure(&self) -> Option<WriteFailure> {
        self.lock().clone()
    }

    /// Note a failed write with SQLite result `code`; other failures (constraints, busy) say
    /// nothing about the disk and are ignored. Returns whether it counted.
    pub fn note_code(&self, code: i32, message: &str) -> bool {
        let Some(reason) = classify_code(code) else {
            return false;
        };
        let mut f = self.lock();
        match f.as_mut() {
            Some(f) => {
                f.reason = reason;
                f.code = code;
                f.message = message.to_string();
                f.failures += 1;
            }
            None => {
                tracing::error!(
                    code,
                    %message,
                    "the database cannot be written ({reason}): new orders are refused until it can"
                );
                *f = Some(WriteFailure {
                    since: Utc::now(),
                    reason,
                    code,
                    message: message.to_string(),
                    failures: 1,
                });
            }
        }
        true
    }

    /// Note a failed write (see [`Self::note_code`]).
    pub fn note_error(&self, e: &sqlx::Error) -> bool {
        match (e, sqlite_code(e)) {
            (sqlx::Error::Database(d), Some(code)) => self.note_code(code, d.message()),
            _ => false,
        }
    }

    /// A write went through (the probe): writable again. Returns the spell that ended, if any.
    pub fn recovered(&self) -> Option<WriteFailure> {
        let ended = self.lock().take();
        if let Some(f) = &ended {
            tracing::info!(
                reason = f.reason,
                since = %f.since,
                failures = f.failures,
                "the database can be written again"
            );
        }
        ended
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<WriteFailure>> {
        // The guarded value is always whole (plain assignments), so a poisoned lock is usable.
        self.failure.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A write transaction, begun with `BEGIN IMMEDIATE` so it holds the write lock from its first
/// statement: read-check-write sequences inside it cannot interleave with another writer, and a
/// busy database waits (busy timeout) instead of failing with "database is locked".
///
/// Writers of this process also queue on an in-process mutex first, so they wait in FIFO order
/// without SQLite's sleeping busy handler (which made p99 latencies spike under load); another
/// process (the staff CLI) is still serialised by SQLite's lock and the busy timeout.
/// Derefs to the connection, so `&mut tx` works wherever a `&mut SqliteConnection` is expected.
///
/// A commit that fails because the disk is full (or failed, or the file turned read-only) marks
/// the store not writable ([`crate::Store::write_failure`]); so does a statement that failed that way
/// when the transaction is dropped without a commit: the drop rolls back on a task that first
/// reads the connection's last error, and keeps the write turn until the rollback is done.
pub struct WriteTx {
    /// `None` once committed or rolled back.
    tx: Option<Transaction<'static, Sqlite>>,
    turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    health: WriteHealth,
}

impl WriteTx {
    pub(crate) fn new(
        tx: Transaction<'static, Sqlite>,
        turn: tokio::sync::OwnedMutexGuard<()>,
        health: WriteHealth,
    ) -> WriteTx {
        WriteTx {
            tx: Some(tx),
            turn: Some(turn),
            health,
        }
    }

    /// Commit; the write turn is released afterwards.
    pub async fn commit(mut self) -> std::result::Result<(), sqlx::Error> {
        let Some(tx) = self.tx.take() else {
            return Ok(());
        };
        let r = tx.commit().await;
        if let Err(e) = &r {
            self.health.note_error(e);
        }
        r
    }

    pub async fn rollback(mut self) -> std::result::Result<(), sqlx::Error> {
        match self.tx.take() {
            Some(tx) => tx.rollback().await,
            None => Ok(()),
        }
    }

    fn conn(&self) -> &sqlx::SqliteConnection {
        match &self.tx {
            Some(tx) => tx,
            // Only `commit`/`rollback` (which consume `self`) and `drop` take it.
            None => unreachable!("a WriteTx is used after commit or rollback"),
        }
    }

    fn conn_mut(&mut self) -> &mut sqlx::SqliteConnection {
        match &mut self.tx {
            Some(tx) => tx,
            None => unreachable!("a WriteTx is used after commit or rollback"),
        }
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        let Some(tx) = self.tx.take() else {
            return;
        };
        // Dropped without commit or rollback: usually a statement failed and the caller returned
        // its error. Learn whether it was a disk failure before rolling back (the rollback
        // replaces the connection's last error).
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                let (turn, health) = (self.turn.take(), self.health.clone());
                rt.spawn(async move {
                    abandoned(tx, &health).await;
                    drop(turn);
                });
            }
            // No runtime (a test dropping it outside one): sqlx queues the rollback itself.
            Err(_) => drop(tx),
        }
    }
}

/// Roll back a dropped transaction, noting first whether its last statement failed for want of
/// disk (the caller's `?` returned right after it).
async fn abandoned(mut tx: Transaction<'static, Sqlite>, health: &WriteHealth) {
    match tx.lock_handle().await {
        Ok(mut handle) => {
            if let Some(e) = handle.last_error() {
                use sqlx::error::DatabaseError;
                if let Some(code) = e.code().and_then(|c| c.parse::<i32>().ok()) {
                    health.note_code(code, e.message());
                }
            }
        }
        Err(e) => {
            tracing::debug!(error = %e, "cannot read the last error of a dropped transaction")
        }
    }
    // After a disk failure SQLite may have rolled back already; the pool's release check then
    // discards the connection (see `Store::connect`).
    if let Err(e) = tx.rollback().await {
        tracing::debug!(error = %e, "rollback of a dropped write transaction failed");
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &Self::Target {
        self.conn()
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.conn_mut()
    }
}

impl std::fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteTx")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_disk_failures_count_and_the_spell_keeps_its_start() {
        assert_eq!(classify_code(13), Some("disk full"));
        // SQLITE_IOERR_WRITE and SQLITE_IOERR_FSYNC are extended codes of SQLITE_IOERR.
        assert_eq!(classify_code(778), Some("disk I/O error"));
        assert_eq!(classify_code(1034), Some("disk I/O error"));
        assert_eq!(classify_code(8), Some("read-only database"));
        for other in [0, 1, 5, 19, 2067, 100, 101] {
            assert_eq!(classify_code(other), None, "{other}");
        }

        let h = WriteHealth::default();
        assert!(!h.note_code(2067, "UNIQUE constraint failed"));
        assert_eq!(h.failure(), None);
        assert!(h.note_code(13, "database or disk is full"));
        let first = h.failure().unwrap();
        assert!(h.clone().note_code(778, "disk I/O error"));
        let second = h.failure().unwrap();
        assert_eq!(second.since, first.since);
        assert_eq!((second.reason, second.failures), ("disk I/O error", 2));
        assert_eq!(h.recovered().map(|f| f.failures), Some(2));
        assert_eq!(h.failure(), None);
        assert_eq!(h.recovered(), None);
    }
}
