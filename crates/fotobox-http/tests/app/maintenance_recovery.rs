//! Start-up integrity check and recovery from a deliberately corrupted database file.
#![allow(clippy::unwrap_used)]

use crate::maintenance_support;

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::Duration;
use fotobox_core::maintenance::backups;
use fotobox_core::AppContext;
use fotobox_store::{maintenance as mq, payments as q};
use maintenance_support::context;

async fn order(ctx: &AppContext) -> String {
    let v = fotobox_core::orders::create_order(
        ctx,
        fotobox_core::orders::OrderRequest::Amount {
            provider: fotobox_store::model::Provider::Payme,
            amount: 20000,
        },
    )
    .await
    .unwrap();
    v.order_id
}

async fn pay(ctx: &AppContext, order_id: &str) {
    let p = ctx
        .store
        .payment_by_order_id(order_id)
        .await
        .unwrap()
        .unwrap();
    let mut tx = ctx.store.begin_write().await.unwrap();
    assert!(q::mark_success(
        &mut tx,
        p.id,
        &format!("tx-{order_id}"),
        Some(2),
        ctx.clock.now()
    )
    .await
    .unwrap());
    q::insert_event(
        &mut tx,
        p.id,
        "payme",
        "PerformTransaction",
        &serde_json::json!({}),
        ctx.clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// The root page of an index, and the page size.
async fn index_page(ctx: &AppContext, index: &str) -> (u64, u64) {
    let (root,): (i64,) = sqlx::query_as("SELECT rootpage FROM sqlite_master WHERE name = ?")
        .bind(index)
        .fetch_one(ctx.store.pool())
        .await
        .unwrap();
    let (size,): (i64,) = sqlx::query_as("PRAGMA page_size")
        .fetch_one(ctx.store.pool())
        .await
        .unwrap();
    (root as u64, size as u64)
}

fn overwrite(db: &Path, offset: u64, len: usize) {
    let mut f = std::fs::OpenOptions::new().write(true).open(db).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    let garbage: Vec<u8> = (0..len).map(|i| (i * 7 + 13) as u8 | 0x80).collect();
    f.write_all(&garbage).unwrap();
    f.sync_all().unwrap();
}

fn corrupt_copies(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("photobooth.db.corrupt-")
        })
        .filter(|p| {
            !p.to_string_lossy().ends_with("-wal") && !p.to_string_lossy().ends_with("-shm")
        })
        .collect()
}

/// Orders A, B, C; a verified backup; then (after the backup) B is paid and D created.
async fn history(dir: &Path) -> (AppContext, [String; 4]) {
    let ctx = context(dir, "", "").await;
    let a = order(&ctx).await;
    let b = order(&ctx).await;
    let c = order(&ctx).await;
    pay(&ctx, &a).await;
    backups::run_backup(&ctx).await.unwrap();
    ctx.clock.advance(Duration::minutes(5));
    pay(&ctx, &b).await;
    let d = order(&ctx).await;
    (ctx, [a, b, c, d])
}

#[tokio::test]
async fn a_damaged_page_is_moved_aside_the_backup_restored_and_newer_payments_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let (ctx, [a, b, c, d]) = history(dir.path()).await;
    let db = ctx.store.path().to_path_buf();
    let (page, size) = index_page(&ctx, "idx_payments_created").await;
    mq::checkpoint(ctx.store.pool()).await.unwrap(); // everything in the main file
    ctx.store.close().await;
    let pages = std::fs::metadata(&db).unwrap().len() / size;
    assert!(page > 1 && page < pages, "page {page} of {pages}");
    // Overwrite that page (in the middle of the file) with garbage.
    overwrite(&db, (page - 1) * size, size as usize);
    let damaged_bytes = std::fs::read(&db).unwrap();
    let check =
        fotobox_core::maintenance::recovery::check_file(&db, std::time::Duration::from_secs(5))
            .await;
    assert!(
        !matches!(
            check,
            Ok(fotobox_core::maintenance::recovery::FileCheck::Sound { .. })
        ),
        "quick_check must fail: {check:?}"
    );

    // The next start recovers.
    let ctx = context(dir.path(), "", "").await;
    assert!(ctx.store.quick_check().await.unwrap().is_sound());
    assert!(ctx.store.integrity_check().await.unwrap().is_sound());
    // The damaged file is kept aside, untouched.
    let kept = corrupt_copies(dir.path());
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(std::fs::read(&kept[0]).unwrap(), damaged_bytes);
    // Everything from the backup, plus what happened after it, replayed from the damaged file.
    for id in [&a, &b, &c, &d] {
        assert!(
            ctx.store.payment_by_order_id(id).await.unwrap().is_some(),
            "{id} missing"
        );
    }
    let pb = ctx.store.payment_by_order_id(&b).await.unwrap().unwrap();
    assert_eq!(pb.status, "success", "B was paid after the backup");
    assert_eq!(
        pb.transaction_id.as_deref(),
        Some(format!("tx-{b}").as_str())
    );
    let pd = ctx.store.payment_by_order_id(&d).await.unwrap().unwrap();
    let events = ctx.store.events_for_payment(pd.id).await.unwrap();
    assert!(!events.is_empty(), "D's events replayed");
    let eb = ctx.store.events_for_payment(pb.id).await.unwrap();
    assert!(eb.iter().any(|e| e.kind == "PerformTransaction"));
    // Staff are told.
    let alerts = mq::list_alerts(ctx.store.pool(), true, 10).await.unwrap();
    let alert = alerts
        .iter()
        .find(|x| x.kind == "db_restored")
        .expect("recovery alert");
    assert_eq!(alert.severity, "critical");
    assert!(alert.message.contains("corrupt-"), "{}", alert.message);
    let run = mq::last_run(ctx.store.pool(), "recovery", false)
        .await
        .unwrap()
        .unwrap();
    let detail: serde_json::Value =
        serde_json::from_str(run.detail_json.as_deref().unwrap()).unwrap();
    assert!(
        detail["restored_from"].as_str().unwrap().contains("auto_"),
        "{detail}"
    );
    assert!(
        detail["replay"]["inserted"]["payments"].as_u64().unwrap() >= 1,
        "{detail}"
    );
    assert!(
        detail["replay"]["updated"]["payments"].as_u64().unwrap() >= 1,
        "{detail}"
    );
    // A sound database is left alone on the next start.
    ctx.store.close().await;
    let ctx = context(dir.path(), "", "").await;
    assert_eq!(corrupt_copies(dir.path()).len(), 1);
    assert!(ctx.store.payment_by_order_id(&d).await.unwrap().is_some());
}

#[tokio::test]
async fn an_unreadable_file_falls_back_to_the_backup_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (ctx, [a, _b, _c, d]) = history(dir.path()).await;
    let db = ctx.store.path().to_path_buf();
    mq::checkpoint(ctx.store.pool()).await.unwrap(); // page 1 only in the main file
    ctx.store.close().await;
    overwrite(&db, 0, 4096); // the header: no longer a database at all
    let ctx = context(dir.path(), "", "").await;
    assert_eq!(corrupt_copies(dir.path()).len(), 1);
    assert!(ctx.store.payment_by_order_id(&a).await.unwrap().is_some());
    assert!(
        ctx.store.payment_by_order_id(&d).await.unwrap().is_none(),
        "nothing readable after the backup"
    );
    let alerts = mq::list_alerts(ctx.store.pool(), true, 10).await.unwrap();
    assert!(alerts.iter().any(|x| x.kind == "db_restored"));
}

#[tokio::test]
async fn without_a_backup_the_readable_rows_are_salvaged_into_a_fresh_database() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path(), "", "").await;
    let a = order(&ctx).await;
    pay(&ctx, &a).await;
    let (page, size) = index_page(&ctx, "idx_payments_created").await;
    let db = ctx.store.path().to_path_buf();
    mq::checkpoint(ctx.store.pool()).await.unwrap();
    ctx.store.close().await;
    overwrite(&db, (page - 1) * size, size as usize);
    let ctx = context(dir.path(), "", "").await;
    let p = ctx
        .store
        .payment_by_order_id(&a)
        .await
        .unwrap()
        .expect("salvaged");
    assert_eq!(p.status, "success");
    let alerts = mq::list_alerts(ctx.store.pool(), true, 10).await.unwrap();
    assert!(alerts
        .iter()
        .any(|x| x.kind == "db_restored" && x.message.contains("no usable backup")));
}
