//! Automatic backups: a daily verified backup at the configured local time (caught up after the
//! kiosk was off), retention of N daily and M monthly backups, and the listing of every backup
//! folder used by recovery. The scheduling and retention decisions are pure functions of `now`
//! and the backups that exist, so tests drive them with a moved clock.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDateTime, NaiveTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::config::Config;
use crate::context::AppContext;
use fotobox_store::backup::unique_path;
use fotobox_store::maintenance as q;
use fotobox_store::StoreError;

use super::alerts::{self, AlertKind};

/// Prefix of automatic daily backups; only these are ever deleted by retention.
pub const AUTO_PREFIX: &str = "auto_";
/// Prefix of backups taken before a migration (kept; they are rare).
pub const PRE_MIGRATION_PREFIX: &str = "pre-migration_";

/// `auto_YYYYMMDD_HHMMSS.db` (UTC).
pub fn auto_backup_name(now: DateTime<Utc>) -> String {
    format!("{AUTO_PREFIX}{}.db", now.format("%Y%m%d_%H%M%S"))
}

/// The UTC time in a backup file name (`<prefix>YYYYMMDD_HHMMSS[_n].db`), whatever the prefix.
pub fn time_in_name(name: &str) -> Option<DateTime<Utc>> {
    let stem = name.strip_suffix(".db")?;
    // The timestamp is the first `YYYYMMDD_HHMMSS` run in the name.
    let bytes = stem.as_bytes();
    (0..bytes.len().saturating_sub(14)).find_map(|i| {
        let cand = stem.get(i..i + 15)?;
        NaiveDateTime::parse_from_str(cand, "%Y%m%d_%H%M%S")
            .ok()
            .map(|t| t.and_utc())
    })
}

/// The folder of automatic backups: `backup.dir` (relative to the data directory) or
/// `<data_dir>/backups/auto`.
pub fn auto_dir(config: &Config, data_dir: &Path) -> PathBuf {
    match &config.backup.dir {
        Some(d) => data_dir.join(d),
        None => data_dir.join("backups").join("auto"),
    }
}

/// Every folder where backups may be: the automatic folder and the staff folder.
pub fn all_dirs(config: &Config, data_dir: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![auto_dir(config, data_dir), data_dir.join("backups")];
    dirs.dedup();
    dirs
}

/// A backup file found on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupFile {
    pub path: PathBuf,
    pub taken_at: DateTime<Utc>,
    pub automatic: bool,
}

/// Backups (`*.db` with a time in the name) in `dir`, oldest first.
pub fn list_dir(dir: &Path) -> Vec<BackupFile> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<BackupFile> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let taken_at = time_in_name(&name)?;
            Some(BackupFile {
                automatic: name.starts_with(AUTO_PREFIX),
                path: e.path(),
                taken_at,
            })
        })
        .collect();
    out.sort_by(|a, b| a.taken_at.cmp(&b.taken_at).then(a.path.cmp(&b.path)));
    out
}

/// Whether the daily backup is due: no automatic backup was taken since the latest scheduled
/// slot. A kiosk that was off at the slot catches up at its next start.
pub fn backup_due(
    now: DateTime<Utc>,
    at: NaiveTime,
    offset: FixedOffset,
    existing: &[DateTime<Utc>],
) -> bool {
    let slot = crate::clock::last_slot(now, at, offset);
    !existing
        .iter()
        .any(|t| *t >= slot && *t <= now + Duration::minutes(5))
}

/// Which automatic backups retention deletes: the newest backup of each of the `keep_daily`
/// newest local days that have one, and the newest of each of the `keep_monthly` newest local
/// months, are kept; every other one goes. Never deletes the newest backup.
pub fn select_for_deletion(
    backups: &[DateTime<Utc>],
    keep_daily: usize,
    keep_monthly: usize,
    offset: FixedOffset,
) -> Vec<DateTime<Utc>> {
    let mut sorted: Vec<DateTime<Utc>> = backups.to_vec();
    sorted.sort_by(|a, b| b.cmp(a)); // newest first
    let mut keep: Vec<DateTime<Utc>> = Vec::new();
    let mut days = Vec::new();
    let mut months = Vec::new();
    for t in &sorted {
        let local = t.with_timezone(&offset);
        let day = local.date_naive();
        let month = (local.year(), local.month());
        if !days.contains(&day) && days.len() < keep_daily {
            days.push(day);
            keep.push(*t);
        }
        if !months.contains(&month) && months.len() < keep_monthly {
            months.push(month);
            if !keep.contains(t) {
                keep.push(*t);
            }
        }
    }
    if let Some(newest) = sorted.first() {
        if !keep.contains(newest) {
            keep.push(*newest);
        }
    }
    sorted.into_iter().filter(|t| !keep.contains(t)).collect()
}

/// What one automatic backup did.
#[derive(Debug, Clone, Serialize)]
pub struct BackupOutcome {
    pub path: PathBuf,
    pub bytes: u64,
    pub deleted: Vec<PathBuf>,
}

/// Take a verified backup into the automatic folder now (pruning the payment journal it covers),
/// then apply retention. A failure is logged, recorded and raised as a staff alert.
pub async fn run_backup(ctx: &AppContext) -> Result<BackupOutcome, StoreError> {
    let started = ctx.clock.now();
    let result = backup_and_prune(ctx, started).await;
    let finished = ctx.clock.now();
    match &result {
        Ok(o) => {
            tracing::info!(path = %o.path.display(), bytes = o.bytes, deleted = o.deleted.len(), "automatic backup taken");
            let _ = q::insert_run(
                ctx.store.pool(),
                "backup",
                true,
                &json!(o),
                started,
                finished,
            )
            .await;
            ctx.metrics.set_last_backup(finished.timestamp());
            let _ = q::resolve_alerts(ctx.store.pool(), "backup_failed", finished).await;
        }
        Err(e) => {
            tracing::error!(error = %e, "automatic backup failed");
            ctx.metrics.count_error("backup");
            let _ = q::insert_run(
                ctx.store.pool(),
                "backup",
                false,
                &json!({"error": e.to_string()}),
                started,
                finished,
            )
            .await;
            alerts::raise(
                ctx,
                AlertKind::BackupFailed,
                "backup_failed",
                &format!("Automatic backup failed: {e}"),
            )
            .await;
        }
    }
    result
}

async fn backup_and_prune(
    ctx: &AppContext,
    now: DateTime<Utc>,
) -> Result<BackupOutcome, StoreError> {
    let dir = auto_dir(&ctx.config, &ctx.data_dir);
    let path = backup_covering(ctx, &unique_path(&dir, &auto_backup_name(now))).await?;
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let deleted = prune(ctx, &dir);
    Ok(BackupOutcome {
        path,
        bytes,
        deleted,
    })
}

/// A verified backup to `out` that lets the journal be pruned: the journal starts a new segment
/// under the write lock first (so every older entry is committed before the backup's snapshot
/// begins), and once the backup is verified the segments the previous backup covered go.
pub async fn backup_covering(ctx: &AppContext, out: &Path) -> Result<PathBuf, StoreError> {
    let tx = ctx.store.begin_write().await?;
    let rotated = ctx.journal.rotate();
    tx.rollback().await?;
    let path = ctx.store.backup_to(out).await?;
    match rotated.and_then(|first_uncovered| ctx.journal.prune(first_uncovered)) {
        Ok(deleted) if !deleted.is_empty() => {
            tracing::info!(
                segments = deleted.len(),
                "payment journal pruned: a verified backup covers it"
            )
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "payment journal not pruned"),
    }
    Ok(path)
}

/// Apply retention to the automatic folder; returns the files deleted.
pub fn prune(ctx: &AppContext, dir: &Path) -> Vec<PathBuf> {
    let autos: Vec<BackupFile> = list_dir(dir).into_iter().filter(|b| b.automatic).collect();
    let times: Vec<DateTime<Utc>> = autos.iter().map(|b| b.taken_at).collect();
    let doomed = select_for_deletion(
        &times,
        ctx.config.backup.keep_daily as usize,
        ctx.config.backup.keep_monthly as usize,
        ctx.config.schedule.offset(),
    );
    let mut deleted = Vec::new();
    for b in autos.iter().filter(|b| doomed.contains(&b.taken_at)) {
        match std::fs::remove_file(&b.path) {
            Ok(()) => deleted.push(b.path.clone()),
            Err(e) => {
                tracing::warn!(path = %b.path.display(), error = %e, "cannot delete an old backup")
            }
        }
    }
    deleted
}

/// One scheduler step: take the daily backup when it is due. Returns the backup taken.
pub async fn tick(ctx: &AppContext) -> Option<BackupOutcome> {
    if !ctx.config.backup.enabled {
        return None;
    }
    let now = ctx.clock.now();
    let dir = auto_dir(&ctx.config, &ctx.data_dir);
    let existing: Vec<DateTime<Utc>> = list_dir(&dir)
        .into_iter()
        .filter(|b| b.automatic)
        .map(|b| b.taken_at)
        .collect();
    if !backup_due(
        now,
        ctx.config.schedule.backup_at(),
        ctx.config.schedule.offset(),
        &existing,
    ) {
        return None;
    }
    run_backup(ctx).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz() -> FixedOffset {
        FixedOffset::east_opt(5 * 3600).expect("offset")
    }

    fn t(s: &str) -> DateTime<Utc> {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
            .expect("time")
            .and_utc()
    }

    #[test]
    fn names_round_trip() {
        let now = t("2026-11-25 22:30");
        assert_eq!(auto_backup_name(now), "auto_20261125_223000.db");
        assert_eq!(time_in_name("auto_20261125_223000.db"), Some(now));
        assert_eq!(time_in_name("photobooth_20261125_223000_2.db"), Some(now));
        assert_eq!(
            time_in_name("pre-migration_v1_to_v3_20261125_223000.db"),
            Some(now)
        );
        assert_eq!(time_in_name("notes.txt"), None);
    }

    #[test]
    fn due_after_the_local_slot_and_caught_up() {
        let at = NaiveTime::from_hms_opt(3, 30, 0).expect("time");
        // 03:30 in Tashkent is 22:30 UTC the day before.
        assert!(!backup_due(
            t("2026-11-25 22:00"),
            at,
            tz(),
            &[t("2026-11-24 22:31")]
        ));
        assert!(backup_due(
            t("2026-11-25 22:31"),
            at,
            tz(),
            &[t("2026-11-24 22:31")]
        ));
        assert!(!backup_due(
            t("2026-11-25 22:40"),
            at,
            tz(),
            &[t("2026-11-25 22:31")]
        ));
        // Off at the slot, on at noon: caught up.
        assert!(backup_due(
            t("2026-11-26 07:00"),
            at,
            tz(),
            &[t("2026-11-24 22:31")]
        ));
        assert!(backup_due(t("2026-11-26 07:00"), at, tz(), &[]));
    }

    #[test]
    fn retention_keeps_daily_and_monthly() {
        // One backup a day for 100 days, two on the last day.
        let mut all: Vec<DateTime<Utc>> = (0..100)
            .map(|d| t("2026-01-01 22:30") + Duration::days(d))
            .collect();
        all.push(t("2026-04-10 23:00"));
        let doomed = select_for_deletion(&all, 7, 3, tz());
        let kept: Vec<_> = all.iter().filter(|x| !doomed.contains(x)).collect();
        // 7 days (the newest per day) + the newest of 2 older months (the current month's newest is a daily one).
        assert_eq!(kept.len(), 9, "{kept:?}");
        assert!(kept.contains(&&t("2026-04-10 23:00")));
        assert!(!kept.contains(&&t("2026-04-10 22:30")) || doomed.is_empty());
        assert!(select_for_deletion(&[t("2026-01-01 00:00")], 0, 0, tz()).is_empty());
    }
}
