//! The pool: opening SQLite with the kiosk's pragmas, migrations, beginning write transactions,
//! the write probe and the store's error type. The table families' queries live in the sibling modules.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, SqlitePool};

use crate::writable::{WriteFailure, WriteHealth, WriteTx};

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

    /// A write refused for want of disk (`disk full`, `disk I/O error`, `read-only database`).
    pub fn write_failure(&self) -> Option<&'static str> {
        match self {
            StoreError::Db(e) => crate::writable::classify(e),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Handle to the database (a connection pool). Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
    write_turn: std::sync::Arc<tokio::sync::Mutex<()>>,
    health: WriteHealth,
    /// Test hook: `PRAGMA max_page_count` for every connection (0: SQLite's default).
    #[cfg(feature = "test-hooks")]
    page_limit: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Connections in the pool.
const MAX_CONNECTIONS: u32 = 8;

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
        let options = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .min_connections(1)
            .acquire_timeout(busy_timeout + Duration::from_secs(5))
            // A connection must come back clean. When a COMMIT (or a statement) fails because
            // the disk is full or failed, SQLite may roll the transaction back itself; the
            // ROLLBACK sqlx then queues fails ("no transaction is active") and sqlx still counts
            // the connection inside a transaction, so every later `BEGIN IMMEDIATE` on it would
            // fail. A connection counted inside a transaction waits for its queued rollback
            // (`ping`: the worker runs commands in order) and is closed, not reused, if it is
            // still counted inside one. The common case (not in a transaction) costs nothing.
            .after_release(|conn, _meta| {
                Box::pin(async move {
                    if !conn.is_in_transaction() {
                        return Ok(true);
                    }
                    conn.ping().await?;
                    let clean = !conn.is_in_transaction();
                    if !clean {
                        tracing::warn!(
                            "discarding a database connection left inside a transaction"
                        );
                    }
                    Ok(clean)
                })
            });
        #[cfg(feature = "test-hooks")]
        let page_limit = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        #[cfg(feature = "test-hooks")]
        let options = {
            let limit = page_limit.clone();
            options.after_connect(move |conn, _meta| {
                let limit = limit.clone();
                Box::pin(async move {
                    let n = limit.load(std::sync::atomic::Ordering::SeqCst);
                    if n > 0 {
                        sqlx::query(&format!("PRAGMA max_page_count = {n}"))
                            .execute(conn)
                            .await?;
                    }
                    Ok(())
                })
            })
        };
        let pool = options.connect_with(opts).await?;
        Ok(Store {
            pool,
            path: path.to_path_buf(),
            write_turn: std::sync::Arc::new(tokio::sync::Mutex::new(())),
            health: WriteHealth::default(),
            #[cfg(feature = "test-hooks")]
            page_limit,
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
        let tx = match self.pool.begin_with("BEGIN IMMEDIATE").await {
            Ok(tx) => tx,
            Err(e) => {
                self.health.note_error(&e);
                return Err(e.into());
            }
        };
        Ok(WriteTx::new(tx, turn, self.health.clone()))
    }

    /// Why the database cannot be written now (`None` while it can): set by a write that failed
    /// for want of disk (full, I/O error, read-only), cleared only by [`Self::probe_write`].
    pub fn write_failure(&self) -> Option<WriteFailure> {
        self.health.failure()
    }

    /// Try a small real write: a row bigger than a page inserted and deleted in one committed
    /// `BEGIN IMMEDIATE` transaction, so it needs free pages and room in the WAL as a new order
    /// does. On success a noted write failure ends (returned); a failure is noted and returned.
    pub async fn probe_write(&self) -> Result<Option<WriteFailure>> {
        let result = async {
            let mut tx = self.begin_write().await?;
            let (page_size,): (i64,) = sqlx::query_as("PRAGMA page_size")
                .fetch_one(&mut *tx)
                .await?;
            let id = sqlx::query("INSERT INTO write_probe (filler) VALUES (zeroblob(?))")
                .bind(page_size * 2)
                .execute(&mut *tx)
                .await?
                .last_insert_rowid();
            sqlx::query("DELETE FROM write_probe WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        }
        .await;
        match result {
            Ok(()) => Ok(self.health.recovered()),
            Err(e) => Err(e),
        }
    }

    /// Test hook: limit every connection (open and future) to `pages` pages with `PRAGMA
    /// max_page_count`, so writes that need a new page fail with `SQLITE_FULL` as on a full
    /// disk. `pages` is raised to the file's current size by SQLite; 0 lifts the limit.
    #[cfg(feature = "test-hooks")]
    pub async fn limit_pages_for_tests(&self, pages: u64) -> Result<()> {
        self.page_limit
            .store(pages, std::sync::atomic::Ordering::SeqCst);
        // SQLite's largest value lifts the limit.
        let n = if pages == 0 { 4_294_967_294 } else { pages };
        // Hold every connection the pool may have at once, so each one gets the pragma.
        let mut held = Vec::new();
        for _ in 0..MAX_CONNECTIONS {
            let mut c = self.pool.acquire().await?;
            sqlx::query(&format!("PRAGMA max_page_count = {n}"))
                .execute(&mut *c)
                .await?;
            held.push(c);
        }
        Ok(())
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
