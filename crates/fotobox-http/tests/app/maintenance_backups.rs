//! Automatic backups with a moved clock (no real days pass), retention of daily and monthly
//! backups, the backup before a migration, and retention/archiving of old payments on its own
//! daily schedule (after the backup when backups are on).
#![allow(clippy::unwrap_used)]

use crate::maintenance_support;

use chrono::{DateTime, Duration, Utc};
use fotobox_core::maintenance::backups::{self, select_for_deletion};
use fotobox_core::maintenance::{self, retention};
use fotobox_store::backup::verify_backup_file;
use fotobox_store::{db_time, maintenance as mq, Store};
use maintenance_support::{app, context};

#[tokio::test]
async fn daily_backups_follow_the_clock_and_retention_keeps_daily_and_monthly() {
    let t = app(
        "",
        "[schedule]\nbackup_time = \"03:30\"\n[backup]\nkeep_daily = 3\nkeep_monthly = 2\n",
    )
    .await;
    let ctx = &t.ctx;
    let dir = backups::auto_dir(&ctx.config, &ctx.data_dir);
    let mut taken: Vec<DateTime<Utc>> = Vec::new();
    // 80 simulated days, looked at every 6 hours: exactly one backup per local day.
    for _step in 0..(80 * 4) {
        if let Some(o) = backups::tick(ctx).await {
            taken.push(
                backups::time_in_name(&o.path.file_name().unwrap().to_string_lossy()).unwrap(),
            );
            verify_backup_file(&o.path).await.unwrap();
        }
        // A second look at the same moment never takes another.
        assert!(backups::tick(ctx).await.is_none());
        ctx.clock.advance(Duration::hours(6));
    }
    assert!(
        (79..=81).contains(&taken.len()),
        "one backup a day, got {}",
        taken.len()
    );
    // (The first one was a catch-up: no backup existed yet.)
    for w in taken[1..].windows(2) {
        let gap = w[1] - w[0];
        assert!(
            gap >= Duration::hours(18) && gap <= Duration::hours(30),
            "gap {gap}"
        );
    }
    // What is left on disk is exactly what the pure retention rule keeps.
    let on_disk: Vec<DateTime<Utc>> = backups::list_dir(&dir)
        .into_iter()
        .filter(|b| b.automatic)
        .map(|b| b.taken_at)
        .collect();
    let doomed = select_for_deletion(&taken, 3, 2, ctx.config.schedule.offset());
    let mut expected: Vec<_> = taken
        .iter()
        .filter(|x| !doomed.contains(x))
        .copied()
        .collect();
    expected.sort();
    assert_eq!(on_disk, expected);
    assert!((3..=5).contains(&on_disk.len()), "{on_disk:?}");
    assert_eq!(on_disk.last(), taken.last(), "the newest backup is kept");
    // Every run is in the maintenance log.
    let last = mq::last_run(ctx.store.pool(), "backup", false)
        .await
        .unwrap()
        .unwrap();
    assert!(last.ok);
}

#[tokio::test]
async fn a_missed_slot_is_caught_up_once() {
    let t = app("", "").await;
    let ctx = &t.ctx;
    assert!(
        backups::tick(ctx).await.is_some(),
        "no backup yet: due at once"
    );
    assert!(backups::tick(ctx).await.is_none());
    ctx.clock.advance(Duration::days(3)); // the kiosk was off for three days
    assert!(backups::tick(ctx).await.is_some());
    assert!(backups::tick(ctx).await.is_none());
}

#[tokio::test]
async fn an_older_schema_is_backed_up_before_it_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("photobooth.db");
    // A database of an older build: only the first migration applied.
    let latest = fotobox_store::latest_schema_version();
    let first = fotobox_store::MIGRATOR
        .iter()
        .map(|m| m.version)
        .min()
        .unwrap();
    let old_migrator = sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(
            fotobox_store::MIGRATOR
                .iter()
                .filter(|m| m.version == first)
                .cloned()
                .collect(),
        ),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    };
    {
        use std::str::FromStr;
        let opts = sqlx::sqlite::SqliteConnectOptions::from_str("sqlite://")
            .unwrap()
            .filename(&db)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
        old_migrator.run(&pool).await.unwrap();
        pool.close().await;
    }
    let old_version = first;
    assert!(old_version < latest);

    let ctx = context(dir.path(), "", "").await;
    assert_eq!(ctx.store.schema_version().await.unwrap(), latest);
    let pre: Vec<_> = backups::list_dir(&backups::auto_dir(&ctx.config, &ctx.data_dir))
        .into_iter()
        .filter(|b| {
            b.path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(backups::PRE_MIGRATION_PREFIX)
        })
        .collect();
    assert_eq!(pre.len(), 1, "{pre:?}");
    assert_eq!(verify_backup_file(&pre[0].path).await.unwrap(), old_version);
    // Sound and current: no further backup on the next start.
    ctx.store.close().await;
    let ctx = context(dir.path(), "", "").await;
    let n = backups::list_dir(&backups::auto_dir(&ctx.config, &ctx.data_dir)).len();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn retention_archives_old_payments_and_deletes_old_cancelled_ones() {
    let t = app("", "").await;
    let ctx = &t.ctx;
    let paid = t.order("payme", "strip", 1).await["order_id"]
        .as_str()
        .unwrap()
        .to_string();
    let cancelled = t.order("click", "strip", 1).await["order_id"]
        .as_str()
        .unwrap()
        .to_string();
    let recent = t.order("payme", "strip", 2).await["order_id"]
        .as_str()
        .unwrap()
        .to_string();
    let pool = ctx.store.pool();
    let now = ctx.clock.now();
    let old = db_time(now - Duration::days(400));
    let month = db_time(now - Duration::days(40));
    sqlx::query("UPDATE payments SET status = 'success', perform_time = ?, created_at = ?, updated_at = ? WHERE order_id = ?")
        .bind(&old).bind(&old).bind(&old).bind(&paid).execute(pool).await.unwrap();
    sqlx::query("UPDATE payments SET status = 'canceled', cancel_reason = 'expired', created_at = ?, updated_at = ? WHERE order_id = ?")
        .bind(&month).bind(&month).bind(&cancelled).execute(pool).await.unwrap();

    let r = retention::run(ctx).await.unwrap();
    assert_eq!(r.archived, 1);
    assert_eq!(r.deleted_cancelled, 1);
    assert!(ctx
        .store
        .payment_by_order_id(&paid)
        .await
        .unwrap()
        .is_none());
    assert!(ctx
        .store
        .payment_by_order_id(&cancelled)
        .await
        .unwrap()
        .is_none());
    assert!(ctx
        .store
        .payment_by_order_id(&recent)
        .await
        .unwrap()
        .is_some());
    // The paid order is in the CSV and in the archive database, with its events.
    let csv = std::fs::read_to_string(r.archive_csv.unwrap()).unwrap();
    assert!(csv.contains(&paid) && !csv.contains(&recent), "{csv}");
    let archive = Store::open_existing(&r.archive_db.unwrap(), std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert!(mq::archive_has(archive.pool(), &paid, "success")
        .await
        .unwrap());
    let (related,): (String,) =
        sqlx::query_as("SELECT related_json FROM archived_payments WHERE order_id = ?")
            .bind(&paid)
            .fetch_one(archive.pool())
            .await
            .unwrap();
    assert!(related.contains("payment_events"), "{related}");
    archive.close().await;
    // Nothing more to do on a second run.
    let r = retention::run(ctx).await.unwrap();
    assert_eq!((r.archived, r.deleted_cancelled), (0, 0));
}

/// The retention runs recorded so far, oldest first.
async fn retention_runs(ctx: &fotobox_core::AppContext) -> Vec<mq::RunRow> {
    let mut runs: Vec<_> = mq::recent_runs(ctx.store.pool(), 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.job == "retention")
        .collect();
    runs.reverse();
    runs
}

/// Make the order cancelled `days` ago (retention deletes it after 30 days).
async fn cancel_days_ago(ctx: &fotobox_core::AppContext, order_id: &str, days: i64) {
    let then = db_time(ctx.clock.now() - Duration::days(days));
    sqlx::query("UPDATE payments SET status = 'canceled', cancel_reason = 'expired', created_at = ?, updated_at = ? WHERE order_id = ?")
        .bind(&then).bind(&then).bind(order_id).execute(ctx.store.pool()).await.unwrap();
}

#[tokio::test]
async fn retention_runs_daily_on_its_own_when_backups_are_off() {
    let t = app(
        "",
        "[schedule]\nbackup_time = \"03:30\"\n[backup]\nenabled = false\n",
    )
    .await;
    let ctx = &t.ctx;
    let first = t.order("click", "strip", 1).await["order_id"]
        .as_str()
        .unwrap()
        .to_string();
    cancel_days_ago(ctx, &first, 40).await;

    // The first look catches up (no run yet): the old cancelled order is gone, no backup taken.
    maintenance::scheduler_tick(ctx).await;
    assert!(ctx
        .store
        .payment_by_order_id(&first)
        .await
        .unwrap()
        .is_none());
    assert_eq!(retention_runs(ctx).await.len(), 1);
    assert!(backups::list_dir(&backups::auto_dir(&ctx.config, &ctx.data_dir)).is_empty());

    // Looks during the same day do nothing more.
    let second = t.order("click", "strip", 1).await["order_id"]
        .as_str()
        .unwrap()
        .to_string();
    cancel_days_ago(ctx, &second, 40).await;
    let slot = fotobox_core::clock::last_slot(
        ctx.clock.now(),
        chrono::NaiveTime::from_hms_opt(3, 30, 0).unwrap(),
        ctx.config.schedule.offset(),
    );
    let before_next = slot + Duration::days(1) - Duration::minutes(10);
    if before_next > ctx.clock.now() {
        ctx.clock.advance(before_next - ctx.clock.now());
    }
    maintenance::scheduler_tick(ctx).await;
    assert_eq!(retention_runs(ctx).await.len(), 1);
    assert!(ctx
        .store
        .payment_by_order_id(&second)
        .await
        .unwrap()
        .is_some());

    // After the next 03:30 local: run again, once.
    ctx.clock.advance(Duration::minutes(11));
    maintenance::scheduler_tick(ctx).await;
    maintenance::scheduler_tick(ctx).await;
    let runs = retention_runs(ctx).await;
    assert_eq!(runs.len(), 2);
    assert!(runs[1].ok);
    assert!(ctx
        .store
        .payment_by_order_id(&second)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn with_backups_on_retention_runs_right_after_the_daily_backup() {
    let t = app("", "[schedule]\nbackup_time = \"03:30\"\n").await;
    let ctx = &t.ctx;
    maintenance::scheduler_tick(ctx).await;
    ctx.clock.advance(Duration::days(1));
    maintenance::scheduler_tick(ctx).await;
    let runs: Vec<_> = {
        let mut r = mq::recent_runs(ctx.store.pool(), 100).await.unwrap();
        r.reverse();
        r.into_iter()
            .filter(|r| r.job == "backup" || r.job == "retention")
            .map(|r| (r.job, r.ok, r.started_at))
            .collect()
    };
    let jobs: Vec<&str> = runs.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        jobs,
        ["backup", "retention", "backup", "retention"],
        "{runs:?}"
    );
    assert!(runs.iter().all(|r| r.1), "{runs:?}");
    assert_eq!(
        backups::list_dir(&backups::auto_dir(&ctx.config, &ctx.data_dir))
            .iter()
            .filter(|b| b.automatic)
            .count(),
        2
    );
}
