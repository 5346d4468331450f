//! Whole-database operations for staff: consistent online backup, verified restore, clear,
//! and the server lock that keeps a restore away from a running server.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::pool::{latest_schema_version, Result, Soundness, Store, StoreError};

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Held by a running server for its whole life; an OS advisory lock, released even on a crash.
#[derive(Debug)]
pub struct ServerLock {
    _file: File,
}

fn lock_path(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(".server-lock");
    PathBuf::from(s)
}

impl ServerLock {
    /// Take the lock, or fail if another server holds this database.
    pub fn acquire(db: &Path) -> Result<ServerLock> {
        let path = lock_path(db);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(ServerLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Invalid(format!(
                "another Fotobox server is using {}",
                db.display()
            ))),
            Err(std::fs::TryLockError::Error(e)) => Err(io_err(&path)(e)),
        }
    }

    /// Whether some process holds the server lock of this database right now.
    pub fn is_held(db: &Path) -> bool {
        let path = lock_path(db);
        let Ok(file) = OpenOptions::new().write(true).open(&path) else {
            return false;
        };
        matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock))
    }
}

/// Default name of a backup taken now: `photobooth_YYYYMMDD_HHMMSS.db`.
pub fn backup_file_name(now: DateTime<Utc>) -> String {
    format!("photobooth_{}.db", now.format("%Y%m%d_%H%M%S"))
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct RestoreReport {
    pub restored_from: PathBuf,
    /// Where the replaced database was kept.
    pub replaced_kept_at: Option<PathBuf>,
    pub schema_version: i64,
    /// Provider transactions (`payme:<id>`, `click:<id>`) the replaced database knew and the
    /// backup does not: the providers will ask about them.
    pub lost_transactions: Vec<String>,
}

impl Store {
    /// A consistent copy of the live database (`VACUUM INTO`), safe while writers are busy.
    /// Refuses to overwrite an existing file. Returns the path written.
    pub async fn backup_to(&self, out: &Path) -> Result<PathBuf> {
        if out.exists() {
            return Err(StoreError::Invalid(format!(
                "{} already exists; choose another file",
                out.display()
            )));
        }
        if let Some(dir) = out.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(io_err(dir))?;
            }
        }
        let target = out.to_string_lossy().to_string();
        sqlx::query("VACUUM INTO ?")
            .bind(&target)
            .execute(self.pool())
            .await?;
        // Verify what was written.
        let copy = Store::open_existing(out, Duration::from_secs(5)).await?;
        let check = copy.integrity_check().await?;
        copy.close().await;
        if let Soundness::Damaged(problems) = check {
            return Err(StoreError::Invalid(format!(
                "backup {} failed its integrity check: {problems}",
                out.display()
            )));
        }
        Ok(out.to_path_buf())
    }

    /// Delete every payment, event and photo record, after taking a verified backup into
    /// `backup_dir`. Returns the backup's path. Refused (`Conflict`) while money is in flight
    /// ([`crate::inflight`]) unless `force`; the check is repeated inside the deleting
    /// transaction, so nothing can slip in between.
    pub async fn clear_all(
        &self,
        backup_dir: &Path,
        now: DateTime<Utc>,
        force: bool,
    ) -> Result<PathBuf> {
        if !force {
            let mut c = self.pool().acquire().await?;
            refuse_in_flight(&mut c).await?;
        }
        let backup = self
            .backup_to(&unique_path(backup_dir, &backup_file_name(now)))
            .await?;
        let mut tx = self.begin_write().await?;
        if !force {
            refuse_in_flight(&mut tx).await?;
        }
        for table in [
            "photos",
            "payment_events",
            "payme_fiscal_data",
            "payme_transactions",
            "click_transactions",
            "payments",
        ] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(backup)
    }
}

/// `Err(Conflict)` naming the orders while money is in flight.
pub async fn refuse_in_flight(conn: &mut sqlx::SqliteConnection) -> Result<()> {
    let f = crate::inflight::in_flight(conn).await?;
    if f.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!(
            "money is in flight ({}); finish or cancel those payments first, or force (audited)",
            f.describe()
        )))
    }
}

/// `dir/name`, or `dir/name` with a counter before the extension when that exists.
pub fn unique_path(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    (1..)
        .map(|i| dir.join(format!("{stem}_{i}.{ext}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// Check that `file` is a sound Fotobox database this build can use.
pub async fn verify_backup_file(file: &Path) -> Result<i64> {
    let store = Store::open_existing(file, Duration::from_secs(5))
        .await
        .map_err(|e| {
            StoreError::Invalid(format!(
                "{} is not a readable database: {e}",
                file.display()
            ))
        })?;
    let check = store.integrity_check().await;
    let version = store.schema_version().await;
    store.close().await;
    match check {
        Ok(Soundness::Sound) => {}
        Ok(Soundness::Damaged(p)) => {
            return Err(StoreError::Invalid(format!(
                "{} failed the integrity check: {p}",
                file.display()
            )))
        }
        Err(e) => {
            return Err(StoreError::Invalid(format!(
                "{} is not a readable database: {e}",
                file.display()
            )))
        }
    }
    let version = version?;
    if version == 0 {
        return Err(StoreError::Invalid(format!(
            "{} is not a Fotobox database (no schema version)",
            file.display()
        )));
    }
    if version > latest_schema_version() {
        return Err(StoreError::Invalid(format!(
            "{} has schema version {version}, newer than this build's {}",
            file.display(),
            latest_schema_version()
        )));
    }
    Ok(version)
}

/// Replace the database at `db` with the backup `file`. Refuses while a server holds `db`, and
/// while the current database has money in flight unless `force`. The replaced database is
/// kept beside it as `<name>.replaced-YYYYMMDD_HHMMSS`; the report names the provider
/// transactions it knew that the backup does not (`lost_transactions`).
pub async fn restore(
    db: &Path,
    file: &Path,
    now: DateTime<Utc>,
    force: bool,
) -> Result<RestoreReport> {
    let lock = ServerLock::acquire(db).map_err(|_| {
        StoreError::Invalid(format!(
            "a Fotobox server is running on {}; stop it before restoring",
            db.display()
        ))
    })?;
    if !file.is_file() {
        return Err(StoreError::Invalid(format!(
            "{} is not a file",
            file.display()
        )));
    }
    if std::fs::canonicalize(file).ok() == std::fs::canonicalize(db).ok() {
        return Err(StoreError::Invalid(
            "cannot restore a database onto itself".into(),
        ));
    }
    let version = verify_backup_file(file).await?;
    let mut known = Vec::new();
    if db.exists() {
        let current = Store::open_existing(db, Duration::from_secs(10)).await?;
        let mut c = current.pool().acquire().await?;
        if !force {
            refuse_in_flight(&mut c).await?;
        }
        known = crate::inflight::provider_transactions(&mut c).await?;
        drop(c);
        current.close().await;
    }
    let restored_knows = {
        let backup = Store::open_existing(file, Duration::from_secs(10)).await?;
        let mut c = backup.pool().acquire().await?;
        let ids = crate::inflight::provider_transactions(&mut c).await?;
        drop(c);
        backup.close().await;
        ids
    };
    let lost_transactions: Vec<String> = known
        .into_iter()
        .filter(|id| !restored_knows.contains(id))
        .collect();

    // Copy the backup next to the target first, so the final step is a rename.
    let dir = db.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let staging = dir.join(format!(
        ".{}.restoring",
        db.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    std::fs::copy(file, &staging).map_err(io_err(&staging))?;

    let mut kept = None;
    if db.exists() {
        // Fold the WAL into the main file so the kept copy is complete on its own.
        let current = Store::open_existing(db, Duration::from_secs(10)).await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(current.pool())
            .await?;
        current.close().await;
        let aside = PathBuf::from(format!(
            "{}.replaced-{}",
            db.display(),
            now.format("%Y%m%d_%H%M%S")
        ));
        std::fs::rename(db, &aside).map_err(io_err(db))?;
        kept = Some(aside);
    }
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", db.display()));
        if side.exists() {
            std::fs::remove_file(&side).map_err(io_err(&side))?;
        }
    }
    std::fs::rename(&staging, db).map_err(io_err(db))?;
    drop(lock);
    Ok(RestoreReport {
        restored_from: file.to_path_buf(),
        replaced_kept_at: kept,
        schema_version: version,
        lost_transactions,
    })
}
