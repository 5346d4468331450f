//! Data retention in the live database, run once a day at `schedule.backup_time` (right after
//! the daily backup when backups are on, on its own when they are off; see [`tick`]):
//! * finished payments (paid or cancelled) older than `retention.archive_after_days` are written
//!   to a CSV file and to the archive database (with their events, provider transactions,
//!   photos, print jobs... as JSON), both flushed to disk, and only then deleted from the live
//!   database, each only if it did not change meanwhile;
//! * cancelled payments that never took money, older than
//!   `retention.delete_cancelled_after_days`, are deleted (a refunded payment did take money:
//!   it stays until it is archived);
//! * old tunnel checks, maintenance runs and closed alerts are pruned.
//!
//! `VACUUM` is never run here; staff ask for it (`POST /api/maintenance/vacuum`).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::context::AppContext;
use fotobox_store::maintenance as q;
use fotobox_store::StoreError;

/// What one retention run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RetentionReport {
    pub archived: u64,
    pub archive_csv: Option<PathBuf>,
    pub archive_db: Option<PathBuf>,
    /// Archived but changed before deletion: kept live, archived again next time.
    pub changed_meanwhile: u64,
    pub deleted_cancelled: u64,
    pub pruned_log_rows: u64,
}

/// The archive folder: `retention.archive_dir` (relative to the data directory) or `<data_dir>/archive`.
pub fn archive_dir(ctx: &AppContext) -> PathBuf {
    match &ctx.config.retention.archive_dir {
        Some(d) => ctx.data_dir.join(d),
        None => ctx.data_dir.join("archive"),
    }
}

async fn open_archive(path: &Path) -> Result<sqlx::SqlitePool, StoreError> {
    let opts = SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(std::time::Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await?;
    q::archive_init(&pool).await?;
    Ok(pool)
}

/// Whether the daily retention is due at `now`: no run (good or failed) started since the
/// latest local `schedule.backup_time` (a kiosk that was off at that time catches up).
pub async fn due(ctx: &AppContext, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let slot = crate::clock::last_slot(
        now,
        ctx.config.schedule.backup_at(),
        ctx.config.schedule.offset(),
    );
    let last = q::last_run(ctx.store.pool(), "retention", false).await?;
    Ok(!last.is_some_and(|r| r.started_at >= slot && r.started_at <= now + Duration::minutes(5)))
}

/// One scheduler step: run retention when it is enabled and due. The scheduler calls this right
/// after the backup's own step, so with backups on it follows the day's backup. Returns the
/// report of a run that succeeded.
pub async fn tick(ctx: &AppContext) -> Option<RetentionReport> {
    if !ctx.config.retention.enabled {
        return None;
    }
    match due(ctx, ctx.clock.now()).await {
        Ok(true) => run(ctx).await.ok(),
        Ok(false) => None,
        Err(e) => {
            tracing::warn!(error = %e, "cannot tell whether retention is due");
            None
        }
    }
}

/// Run retention now.
pub async fn run(ctx: &AppContext) -> Result<RetentionReport, StoreError> {
    let started = ctx.clock.now();
    let r = run_inner(ctx, started).await;
    let finished = ctx.clock.now();
    match &r {
        Ok(rep) => {
            if rep.archived > 0 || rep.deleted_cancelled > 0 {
                tracing::info!(
                    archived = rep.archived,
                    deleted_cancelled = rep.deleted_cancelled,
                    "retention done"
                );
            }
            let _ = q::insert_run(
                ctx.store.pool(),
                "retention",
                true,
                &json!(rep),
                started,
                finished,
            )
            .await;
        }
        Err(e) => {
            tracing::error!(error = %e, "retention failed");
            ctx.metrics.count_error("retention");
            let _ = q::insert_run(
                ctx.store.pool(),
                "retention",
                false,
                &json!({"error": e.to_string()}),
                started,
                finished,
            )
            .await;
        }
    }
    r
}

async fn run_inner(ctx: &AppContext, now: DateTime<Utc>) -> Result<RetentionReport, StoreError> {
    let cfg = &ctx.config.retention;
    let mut report = RetentionReport::default();
    let cutoff = now - Duration::days(cfg.archive_after_days as i64);
    let pool = ctx.store.pool();

    let first = q::archive_candidates(pool, cutoff, 1).await?;
    if !first.is_empty() {
        let dir = archive_dir(ctx);
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::Io {
            path: dir.clone(),
            source,
        })?;
        let db_path = dir.join("archive.db");
        let csv_path = fotobox_store::backup::unique_path(
            &dir,
            &format!("payments_archived_{}.csv", now.format("%Y%m%d_%H%M%S")),
        );
        let archive = open_archive(&db_path).await?;
        let file = std::fs::File::create(&csv_path).map_err(|source| StoreError::Io {
            path: csv_path.clone(),
            source,
        })?;
        let mut csv = csv::Writer::from_writer(file);
        let csv_err =
            |e: csv::Error| StoreError::Invalid(format!("cannot write the archive CSV: {e}"));
        csv.write_record(crate::staff::CSV_HEADER)
            .map_err(csv_err)?;
        let mut batch_no = 0;
        loop {
            let batch = q::archive_candidates(pool, cutoff, 200).await?;
            if batch.is_empty() || batch_no > 10_000 {
                break;
            }
            batch_no += 1;
            // 1. Gather each payment with everything that belongs to it.
            let mut items = Vec::new();
            {
                let mut conn = pool.acquire().await?;
                let tables = q::tables_with_payment_id(&mut conn).await?;
                for p in &batch {
                    let mut related = serde_json::Map::new();
                    let mut payme_ids = Vec::new();
                    for t in &tables {
                        let rows = q::rows_of_payment(&mut conn, t, p.id).await?;
                        if t == "payme_transactions" {
                            payme_ids.extend(
                                rows.iter()
                                    .filter_map(|r| r["payme_id"].as_str().map(String::from)),
                            );
                        }
                        related.insert(t.clone(), serde_json::Value::Array(rows));
                    }
                    let fiscal = q::fiscal_rows(&mut conn, &payme_ids).await?;
                    related.insert("payme_fiscal_data".into(), serde_json::Value::Array(fiscal));
                    items.push((p.clone(), serde_json::Value::Object(related), payme_ids));
                }
            }
            // 2. CSV and archive database, both on disk before anything is deleted.
            for (p, _, _) in &items {
                csv.write_record(crate::staff::csv_row(p))
                    .map_err(csv_err)?;
            }
            csv.flush().map_err(|e| StoreError::Io {
                path: csv_path.clone(),
                source: e,
            })?;
            let mut atx = archive.begin().await?;
            for (p, related, _) in &items {
                q::archive_put(&mut atx, p, related, now).await?;
            }
            atx.commit().await?;
            // 3. Delete from the live database what the archive now holds, unchanged.
            let mut tx = ctx.store.begin_write().await?;
            let mut deleted_here = 0;
            let mut gone = Vec::new();
            for (p, _, payme_ids) in &items {
                if !q::archive_has(&archive, &p.order_id, p.status.as_str()).await? {
                    continue;
                }
                if q::delete_archived_payment(&mut tx, p, payme_ids).await? {
                    deleted_here += 1;
                    gone.push(p.clone());
                } else {
                    report.changed_meanwhile += 1;
                }
            }
            tx.commit().await?;
            // The archived orders' photos go with them (the archive keeps no pictures).
            for p in gone.drain(..) {
                if let Err(e) = crate::photos::remove_order_files(ctx, &p).await {
                    tracing::warn!(order = %p.order_id, error = %e, "archived order's photos not deleted");
                }
            }
            report.archived += deleted_here;
            if deleted_here == 0 {
                break; // everything left changed meanwhile: next run
            }
        }
        if let Ok(f) = csv.into_inner() {
            let _ = f.sync_all();
        }
        archive.close().await;
        report.archive_csv = Some(csv_path);
        report.archive_db = Some(db_path);
    }

    let mut tx = ctx.store.begin_write().await?;
    report.deleted_cancelled = q::delete_old_cancelled(
        &mut tx,
        now - Duration::days(cfg.delete_cancelled_after_days as i64),
    )
    .await?;
    tx.commit().await?;

    let keep = now - Duration::days(cfg.log_days as i64);
    report.pruned_log_rows = q::prune_logs(pool, keep, keep).await?;
    Ok(report)
}

/// `VACUUM` on staff request (after a verified backup); returns the file size before and after.
pub async fn vacuum(ctx: &AppContext) -> Result<(u64, u64), StoreError> {
    let size = || {
        std::fs::metadata(ctx.store.path())
            .map(|m| m.len())
            .unwrap_or(0)
    };
    let before = size();
    let started = ctx.clock.now();
    super::backups::run_backup(ctx).await?;
    q::vacuum(ctx.store.pool()).await?;
    let _ = q::checkpoint(ctx.store.pool()).await;
    let after = size();
    let _ = q::insert_run(
        ctx.store.pool(),
        "vacuum",
        true,
        &json!({"bytes_before": before, "bytes_after": after}),
        started,
        ctx.clock.now(),
    )
    .await;
    Ok((before, after))
}
