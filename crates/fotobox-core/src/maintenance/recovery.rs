//! Before the store is opened: `PRAGMA quick_check` of the existing database, recovery from a
//! damaged file, and a verified backup before any migration.
//!
//! Recovery never overwrites anything: the damaged file (with its `-wal`/`-shm`) is renamed to
//! `<db>.corrupt-YYYYMMDD_HHMMSS`, the newest backup that passes `integrity_check` (automatic,
//! staff or pre-migration) is copied into place (or, with no usable backup, a fresh database is
//! created), then every row that can still be read from a scratch copy of the damaged file and
//! is newer than the backup is replayed into it (payments, provider transactions, events,
//! photos, print jobs...), then the payment journal (every acknowledged provider state change,
//! kept outside the database file: `maintenance::journal`) is replayed over both, and a critical
//! staff alert says what happened. It is skipped while a server holds the database.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::config::Config;
use crate::context::AppError;
use fotobox_store::backup::{unique_path, verify_backup_file, ServerLock};
use fotobox_store::journal::{self as jr, JournalReplayReport};
use fotobox_store::maintenance as q;
use fotobox_store::replay::{replay, ReplayReport};
use fotobox_store::Soundness;
use fotobox_store::{latest_schema_version, Store, StoreError};

use super::alerts::{self, AlertKind};
use super::{backups, journal};

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn sibling(db: &Path, suffix: &str) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Whether an error means the file itself is damaged (SQLITE_CORRUPT or SQLITE_NOTADB, with
/// their extended codes), as opposed to a busy or missing file.
pub fn is_corruption(e: &StoreError) -> bool {
    match e {
        StoreError::Db(sqlx::Error::Database(d)) => d
            .code()
            .and_then(|c| c.parse::<i64>().ok())
            .map(|c| matches!(c & 0xff, 11 | 26))
            .unwrap_or(false),
        _ => false,
    }
}

/// What the start-up check found and did.
#[derive(Debug, Clone, Serialize)]
pub enum Prepared {
    NoDatabase,
    /// Another server holds the database: nothing checked.
    HeldByServer,
    Sound {
        schema_version: i64,
        pre_migration_backup: Option<PathBuf>,
    },
    Recovered(Box<RecoveryReport>),
}

/// One call at the top of `AppContext::new`, before the store is opened and migrated.
pub async fn prepare_database(config: &Config, data_dir: &Path) -> Result<Prepared, AppError> {
    let db = config.database_path()?;
    let present = std::fs::metadata(&db).map(|m| m.len() > 0).unwrap_or(false);
    if !present {
        return Ok(Prepared::NoDatabase);
    }
    if ServerLock::is_held(&db) {
        return Ok(Prepared::HeldByServer);
    }
    let busy = Duration::from_millis(config.database.busy_timeout_ms);
    match check_file(&db, busy).await {
        Ok(FileCheck::Sound { version }) => {
            let pre = backup_before_migration(config, data_dir, &db, version, busy).await?;
            Ok(Prepared::Sound {
                schema_version: version,
                pre_migration_backup: pre,
            })
        }
        Ok(FileCheck::Damaged(problems)) => Ok(Prepared::Recovered(Box::new(
            recover(config, data_dir, &db, &problems, Utc::now()).await?,
        ))),
        Err(e) if is_corruption(&e) => Ok(Prepared::Recovered(Box::new(
            recover(config, data_dir, &db, &e.to_string(), Utc::now()).await?,
        ))),
        Err(e) => Err(e.into()),
    }
}

/// What [`check_file`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileCheck {
    Sound { version: i64 },
    Damaged(String),
}

/// `quick_check` and the schema version of an existing file.
pub async fn check_file(db: &Path, busy: Duration) -> Result<FileCheck, StoreError> {
    let store = Store::open_existing(db, busy).await?;
    let check = store.quick_check().await;
    let version = match &check {
        Ok(Soundness::Sound) => store.schema_version().await,
        _ => Ok(0),
    };
    store.close().await;
    match check? {
        Soundness::Sound => Ok(FileCheck::Sound { version: version? }),
        Soundness::Damaged(p) => Ok(FileCheck::Damaged(p)),
    }
}

/// A verified backup when the file's schema is older than this build's: into the automatic
/// folder, else (unwritable, other disk missing) into `<data_dir>/backups`. Refuses to go on
/// (and so to migrate) when neither works.
pub async fn backup_before_migration(
    config: &Config,
    data_dir: &Path,
    db: &Path,
    version: i64,
    busy: Duration,
) -> Result<Option<PathBuf>, StoreError> {
    let latest = latest_schema_version();
    if !config.backup.before_migration || version >= latest {
        return Ok(None);
    }
    let name = format!(
        "{}v{version}_to_v{latest}_{}.db",
        backups::PRE_MIGRATION_PREFIX,
        Utc::now().format("%Y%m%d_%H%M%S")
    );
    let store = Store::open_existing(db, busy).await?;
    let mut last_err = None;
    let mut taken = None;
    for dir in backups::all_dirs(config, data_dir) {
        match store.backup_to(&unique_path(&dir, &name)).await {
            Ok(p) => {
                taken = Some(p);
                break;
            }
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "pre-migration backup failed here");
                last_err = Some(e);
            }
        }
    }
    store.close().await;
    match taken {
        Some(p) => {
            tracing::info!(path = %p.display(), from = version, to = latest, "backed up before migrating");
            Ok(Some(p))
        }
        None => Err(StoreError::Invalid(format!(
            "cannot back up the database before migrating it (set backup.before_migration = false to skip): {}",
            last_err.map(|e| e.to_string()).unwrap_or_default()
        ))),
    }
}

/// What a recovery did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RecoveryReport {
    pub problems: String,
    pub damaged_kept_at: PathBuf,
    pub restored_from: Option<PathBuf>,
    pub backup_taken_at: Option<DateTime<Utc>>,
    pub replay: ReplayReport,
    /// What the payment journal gave back.
    pub journal: JournalReplayReport,
}

/// The newest backup in any backup folder that passes the integrity check.
pub async fn newest_good_backup(config: &Config, data_dir: &Path) -> Option<backups::BackupFile> {
    let mut all: Vec<backups::BackupFile> = backups::all_dirs(config, data_dir)
        .iter()
        .flat_map(|d| backups::list_dir(d))
        .collect();
    all.sort_by_key(|b| std::cmp::Reverse(b.taken_at));
    for b in all {
        match verify_backup_file(&b.path).await {
            Ok(_) => return Some(b),
            Err(e) => tracing::warn!(path = %b.path.display(), error = %e, "backup not usable"),
        }
    }
    None
}

/// Move the damaged database aside, restore the newest good backup, replay, alert.
pub async fn recover(
    config: &Config,
    data_dir: &Path,
    db: &Path,
    problems: &str,
    now: DateTime<Utc>,
) -> Result<RecoveryReport, StoreError> {
    tracing::error!(db = %db.display(), %problems, "the database failed its integrity check; recovering");
    let lock = ServerLock::acquire(db)?;
    let busy = Duration::from_millis(config.database.busy_timeout_ms);
    let stamp = now.format("%Y%m%d_%H%M%S").to_string();
    let mut aside = sibling(db, &format!(".corrupt-{stamp}"));
    let mut n = 1;
    while aside.exists() {
        aside = sibling(db, &format!(".corrupt-{stamp}_{n}"));
        n += 1;
    }
    std::fs::rename(db, &aside).map_err(io(db))?;
    for suffix in ["-wal", "-shm"] {
        let side = sibling(db, suffix);
        if side.exists() {
            let to = sibling(&aside, suffix);
            std::fs::rename(&side, &to).map_err(io(&side))?;
        }
    }
    let mut report = RecoveryReport {
        problems: problems.chars().take(500).collect(),
        damaged_kept_at: aside.clone(),
        ..Default::default()
    };

    if let Some(b) = newest_good_backup(config, data_dir).await {
        let dir = db.parent().unwrap_or(Path::new("."));
        let staging = dir.join(format!(
            ".{}.restoring",
            db.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ));
        std::fs::copy(&b.path, &staging).map_err(io(&staging))?;
        std::fs::rename(&staging, db).map_err(io(db))?;
        report.restored_from = Some(b.path.clone());
        report.backup_taken_at = Some(b.taken_at);
    }
    // Migrates a restored older backup (its source file stays as the pre-migration copy) or
    // creates a fresh database when there was no usable backup.
    let target = Store::open(db, busy).await?;

    // Replay from a scratch copy so the kept damaged file stays exactly as it was found.
    let scratch = sibling(&aside, ".read");
    let copied = std::fs::copy(&aside, &scratch).is_ok()
        && (!sibling(&aside, "-wal").exists()
            || std::fs::copy(sibling(&aside, "-wal"), sibling(&scratch, "-wal")).is_ok());
    if copied {
        match Store::open_existing(&scratch, busy).await {
            Ok(damaged) => {
                report.replay = replay(&damaged, &target).await;
                damaged.close().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "the damaged database cannot be opened; nothing replayed")
            }
        }
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(sibling(&scratch, suffix));
    }
    // Last, the journal: acknowledged changes the backup and the damaged file lost (or whose
    // pages could not be read). Idempotent, and it never moves a row back.
    let reads: Vec<jr::JournalRead> = journal::dirs(config, data_dir)
        .unwrap_or_default()
        .iter()
        .map(|d| jr::read_dir(d))
        .collect();
    match jr::replay(&target, &reads).await {
        Ok(r) => report.journal = r,
        Err(e) => tracing::error!(error = %e, "the payment journal could not be replayed"),
    }

    let message = format!(
        "Database was damaged ({}) and has been recovered: the damaged file is kept at {}; {}; {} rows replayed from the damaged file ({} unreadable); {} rows of {} acknowledged payment changes re-applied from the payment journal ({} journal lines unreadable). Check recent payments.",
        report.problems.chars().take(120).collect::<String>(),
        aside.display(),
        match (&report.restored_from, report.backup_taken_at) {
            (Some(p), Some(t)) => format!("restored backup {} taken {}", p.display(), t.format("%Y-%m-%d %H:%M UTC")),
            _ => "no usable backup, started a fresh database".into(),
        },
        report.replay.total_applied(),
        report.replay.unreadable,
        report.journal.total_applied(),
        report.journal.changes,
        report.journal.unreadable_lines,
    );
    let window = chrono::Duration::minutes(config.alerts.repeat_after_minutes as i64);
    if let Err(e) = alerts::raise_in(
        &target,
        AlertKind::DatabaseRestored,
        &format!("db_restored:{stamp}"),
        &message,
        config.alerts.telegram_enabled(),
        window,
        now,
    )
    .await
    {
        tracing::error!(error = %e, "cannot store the recovery alert");
    }
    let _ = q::insert_run(
        target.pool(),
        "recovery",
        true,
        &json!(report),
        now,
        Utc::now(),
    )
    .await;
    target.close().await;
    drop(lock);
    tracing::error!(%message, "database recovered");
    Ok(report)
}
