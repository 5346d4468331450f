//! The pool: opening SQLite with the kiosk's pragmas, migrations, the write transaction and the
//! store's error type. The table families' queries live in the sibling modules.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

/// Migrations embedded in the binary; applied on every start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Invalid(String),
    /// Refused because of the data's state (money in flight), not because of the request.
    #[error("{0}")]
    Conflict(String),
    #[error("i/o error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl StoreError {
    /// A UNIQUE (or partial unique index) violation.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Db(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A write transaction, begun with `BEGIN IMMEDIATE` so it holds the write lock from its first
/// statement: read-check-write sequences inside it cannot interleave with another writer, and a
/// busy database waits (busy timeout) instead of failing with "database is locked".
///
/// Writers of this process also queue on an in-process mutex first, so they wait in FIFO order
/// without SQLite's sleeping busy handler (which made p99 latencies spike under load); another
/// process (the staff CLI) is still serialised by SQLite's lock and the busy timeout.
/// Derefs to the connection, so `&mut tx` works wherever a `&mut SqliteConnection` is expected.
pub struct WriteTx {
    tx: Transaction<'static, Sqlite>,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl WriteTx {
    /// Commit; the write turn is released afterwards.
    pub async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> std::result::Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl std::fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteTx")
    }
}

/// Handle to the database (a connection pool). Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
    write_turn: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// Store times as fixed-width UTC text so that text order is time order.
pub fn db_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

impl Store {
    /// Open (creating the file and its directory if needed) and migrate.
    pub async fn open(path: &Path, busy_timeout: Duration) -> Result<Store> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
        }
        let store = Self::connect(path, busy_timeout, true).await?;
        MIGRATOR.run(&store.pool).await?;
        Ok(store)
    }

    /// Open an existing database without migrating (inspection, restore checks).
    pub async fn open_existing(path: &Path, busy_timeout: Duration) -> Result<Store> {
        if !path.exists() {
            return Err(StoreError::Invalid(format!(
                "database file {} does not exist",
                path.display()
            )));
        }
        Self::connect(path, busy_timeout, false).await
    }

    async fn connect(path: &Path, busy_timeout: Duration, create: bool) -> Result<Store> {
        let opts = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            // Money on a kiosk that can lose power: every commit reaches the disk.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(busy_timeout);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .acquire_timeout(busy_timeout + Duration::from_secs(5))
            .connect_with(opts)
            .await?;
        Ok(Store {
            pool,
            path: path.to_path_buf(),
            write_turn: std::sync::Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Begin a write transaction (`BEGIN IMMEDIATE`).
    pub async fn begin_write(&self) -> Result<WriteTx> {
        let turn = self.write_turn.clone().lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(WriteTx { tx, _turn: turn })
    }

    /// `SELECT 1`: whether the database answers (health checks).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Close the pool cleanly (checkpoints the WAL on the last connection).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The newest applied migration version (0 for an empty database).
    pub async fn schema_version(&self) -> Result<i64> {
        let has_table: Option<(String,)> = sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_optional(&self.pool)
        .await?;
        if has_table.is_none() {
            return Ok(0);
        }
        let (v,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1")
                .fetch_one(&self.pool)
                .await?;
        Ok(v.unwrap_or(0))
    }

    /// `PRAGMA integrity_check`: the whole file, every index (slow on a large file).
    pub async fn integrity_check(&self) -> Result<Soundness> {
        check(&self.pool, "integrity_check").await
    }

    /// `PRAGMA quick_check`: like `integrity_check` without comparing indexes to tables.
    pub async fn quick_check(&self) -> Result<Soundness> {
        check(&self.pool, "quick_check").await
    }
}

/// What `PRAGMA quick_check` or `integrity_check` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Soundness {
    Sound,
    /// The problems SQLite lists, joined with `; `.
    Damaged(String),
}

impl Soundness {
    pub fn is_sound(&self) -> bool {
        *self == Soundness::Sound
    }
}

async fn check(pool: &SqlitePool, pragma: &str) -> Result<Soundness> {
    let rows: Vec<(String,)> = sqlx::query_as(&format!("PRAGMA {pragma}"))
        .fetch_all(pool)
        .await?;
    if rows.len() == 1 && rows[0].0 == "ok" {
        Ok(Soundness::Sound)
    } else {
        Ok(Soundness::Damaged(
            rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("; "),
        ))
    }
}

/// The schema version this build's migrations produce.
pub fn latest_schema_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}
