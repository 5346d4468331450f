//! The payment journal (issue #13 item 8): every acknowledged provider state change has a second
//! copy outside the database file, so a damaged database loses no acknowledged payment, and
//! without that copy nothing is acknowledged.
#![allow(clippy::unwrap_used)]

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use fotobox_core::click::simulator::{Callback, ClickClient};
use fotobox_core::click::{COMPLETE_PATH, PREPARE_PATH};
use fotobox_core::maintenance::backups;
use fotobox_store::maintenance as mq;
use fotobox_store::model::PaymentStatus;
use serde_json::{json, Value};

use crate::common::{send_raw, TestApp, CLICK_SECRET, CLICK_SERVICE_ID};
use crate::maintenance_support::{app, context};
use crate::payme_support::{self as pm, hex24};

/// Strip, one copy: the test config's price.
const PRICE: i64 = 20_000;

fn click() -> ClickClient {
    ClickClient::new(
        fotobox_core::outbound::Outbound::default(),
        "http://unused",
        CLICK_SERVICE_ID,
        CLICK_SECRET,
    )
}

/// One Click callback through the callback door.
async fn post_click(app: &TestApp, path: &str, cb: &Callback) -> Value {
    let req = Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(cb.to_body(CLICK_SECRET)))
        .unwrap();
    let (status, bytes) = send_raw(app.callbacks(), req).await;
    assert_eq!(status, StatusCode::OK);
    serde_json::from_slice(&bytes).unwrap()
}

/// A Click order paid through Prepare and Complete (both answered success); returns the
/// Complete callback (to repeat it later).
async fn pay_with_click(app: &TestApp) -> (String, Callback) {
    let order = app.order("click", "strip", 1).await["order_id"]
        .as_str()
        .unwrap()
        .to_string();
    let prepare = click().new_prepare(&order, PRICE);
    let v = post_click(app, PREPARE_PATH, &prepare).await;
    assert_eq!(v["error"], 0, "{v}");
    let complete = prepare.to_complete(v["merchant_prepare_id"].as_i64().unwrap(), 0);
    let v = post_click(app, COMPLETE_PATH, &complete).await;
    assert_eq!(v["error"], 0, "{v}");
    (order, complete)
}

/// A Payme order paid through CreateTransaction and PerformTransaction; returns Payme's id.
async fn pay_with_payme(app: &TestApp, n: u64) -> (String, String) {
    let (order, tiyin) = pm::new_order(app).await;
    let id = hex24(0x10_0000 + n);
    pm::create(app, &id, pm::now_ms(app), tiyin, &order).await;
    let r = pm::ok(app, "PerformTransaction", json!({"id": id})).await;
    assert_eq!(r["state"], 2, "{r}");
    (order, id)
}

/// Everything staff and the providers see of an order: the payment row, its Click attempts
/// and its Payme transactions.
async fn record(app: &TestApp, order: &str) -> Option<Value> {
    let p = app.ctx.store.payment_by_order_id(order).await.unwrap()?;
    let clicks = app
        .ctx
        .store
        .click_transactions_for_payment(p.id)
        .await
        .unwrap();
    let paymes = app.ctx.store.payme_txs_for_payment(p.id).await.unwrap();
    Some(json!({"payment": p, "click": clicks, "payme": paymes}))
}

async fn root_page(app: &TestApp, table: &str) -> u64 {
    let (root,): (i64,) = sqlx::query_as("SELECT rootpage FROM sqlite_master WHERE name = ?")
        .bind(table)
        .fetch_one(app.ctx.store.pool())
        .await
        .unwrap();
    root as u64
}

/// Overwrite page `page` (1-based) with garbage, as a failing SD card can.
fn overwrite_page(db: &Path, page: u64, size: u64) {
    let mut f = std::fs::OpenOptions::new().write(true).open(db).unwrap();
    f.seek(SeekFrom::Start((page - 1) * size)).unwrap();
    let garbage: Vec<u8> = (0..size).map(|i| (i * 7 + 13) as u8 | 0x80).collect();
    f.write_all(&garbage).unwrap();
    f.sync_all().unwrap();
}

/// Stop cleanly and start again on the same data directory.
async fn restart(app: TestApp) -> TestApp {
    let TestApp { ctx, dir } = app;
    ctx.store.close().await;
    drop(ctx);
    let ctx = context(dir.path(), "", "").await;
    TestApp { ctx, dir }
}

#[tokio::test]
async fn every_acknowledged_payment_comes_back_from_the_journal_when_its_pages_are_damaged() {
    let app = app("", "").await;
    // Three orders, a verified backup.
    let before: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(
                app.order("click", "strip", 1).await["order_id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        v
    };
    backups::run_backup(&app.ctx).await.unwrap();
    // Then two orders paid through Click and one through Payme, each answered success.
    let (c1, complete1) = pay_with_click(&app).await;
    let (c2, _) = pay_with_click(&app).await;
    let (p1, payme_id) = pay_with_payme(&app, 1).await;
    let paid = [c1.clone(), c2.clone(), p1.clone()];
    let mut acknowledged = Vec::new();
    for o in &paid {
        acknowledged.push(record(&app, o).await.unwrap());
    }
    let repeat_before = post_click(&app, COMPLETE_PATH, &complete1).await;
    assert_eq!(repeat_before["error"], -4, "{repeat_before}");
    let check_before = pm::ok(&app, "CheckTransaction", json!({"id": payme_id})).await;
    assert_eq!(check_before["state"], 2);

    // A clean stop, then the pages holding the newest payments and provider transactions
    // (12 KiB: each small table lives in its root page) are overwritten.
    let db = app.ctx.store.path().to_path_buf();
    let pages = [
        root_page(&app, "payments").await,
        root_page(&app, "click_transactions").await,
        root_page(&app, "payme_transactions").await,
    ];
    let (size,): (i64,) = sqlx::query_as("PRAGMA page_size")
        .fetch_one(app.ctx.store.pool())
        .await
        .unwrap();
    mq::checkpoint(app.ctx.store.pool()).await.unwrap();
    let TestApp { ctx, dir } = app;
    ctx.store.close().await;
    drop(ctx);
    for page in pages {
        overwrite_page(&db, page, size as u64);
    }

    // The restart recovers: backup, readable rows of the damaged file, then the journal.
    let app = TestApp {
        ctx: context(dir.path(), "", "").await,
        dir,
    };
    assert!(app.ctx.store.integrity_check().await.unwrap().is_sound());
    for (o, want) in paid.iter().zip(&acknowledged) {
        assert_eq!(
            record(&app, o).await.as_ref(),
            Some(want),
            "acknowledged payment {o} lost"
        );
    }
    for o in &paid {
        let p = app.ctx.store.payment_by_order_id(o).await.unwrap().unwrap();
        assert_eq!(p.status(), PaymentStatus::Success);
        assert_eq!(p.amount.whole(), PRICE);
    }
    for o in &before {
        assert!(app
            .ctx
            .store
            .payment_by_order_id(o)
            .await
            .unwrap()
            .is_some());
    }
    // The providers get the answers they got before the damage.
    assert_eq!(
        post_click(&app, COMPLETE_PATH, &complete1).await,
        repeat_before
    );
    assert_eq!(
        pm::ok(&app, "CheckTransaction", json!({"id": payme_id})).await,
        check_before
    );
    // Staff are told what the journal gave back.
    let run = mq::last_run(app.ctx.store.pool(), "recovery", false)
        .await
        .unwrap()
        .unwrap();
    let detail: Value = serde_json::from_str(run.detail_json.as_deref().unwrap()).unwrap();
    assert!(
        detail["journal"]["inserted"]["payments"].as_u64().unwrap() >= 3,
        "{detail}"
    );
    let alerts = mq::list_alerts(app.ctx.store.pool(), true, 10)
        .await
        .unwrap();
    let alert = alerts.iter().find(|a| a.kind == "db_restored").unwrap();
    assert!(
        alert.message.contains("payment journal"),
        "{}",
        alert.message
    );

    // A second clean restart leaves the recovered database alone, and paying still works.
    let app = restart(app).await;
    for (o, want) in paid.iter().zip(&acknowledged) {
        assert_eq!(record(&app, o).await.as_ref(), Some(want));
    }
    pay_with_click(&app).await;
}

/// The journal folder replaced by a file: no segment can be created there.
fn break_journal(dir: &Path) {
    std::fs::remove_dir_all(dir).unwrap();
    std::fs::write(dir, b"not a folder").unwrap();
}

#[tokio::test]
async fn without_its_second_copy_no_payment_is_acknowledged() {
    let app = app("", "").await;
    let journal_dir = app.ctx.journal.dir().to_path_buf();
    let order = app.order("click", "strip", 1).await["order_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (payme_order, tiyin) = pm::new_order(&app).await;
    let counts = app.ctx.store.click_row_counts().await.unwrap();
    let payme = pm::snapshot(&app).await;
    break_journal(&journal_dir);

    // Click: -7 and nothing stored; Payme: the system error and nothing stored.
    let prepare = click().new_prepare(&order, PRICE);
    let v = post_click(&app, PREPARE_PATH, &prepare).await;
    assert_eq!(v["error"], -7, "{v}");
    assert_eq!(app.ctx.store.click_row_counts().await.unwrap(), counts);
    let id = hex24(0x20_0000);
    let v = pm::rpc(
        &app,
        "CreateTransaction",
        pm::create_params(&id, pm::now_ms(&app), tiyin, &payme_order),
    )
    .await;
    pm::assert_error(&v, -32400);
    assert_eq!(pm::snapshot(&app).await, payme);
    let alerts = mq::list_alerts(app.ctx.store.pool(), true, 10)
        .await
        .unwrap();
    assert!(alerts.iter().any(|a| a.kind == "journal_failed"));

    // The disk comes back: the providers' repeats go through and are journaled.
    std::fs::remove_file(&journal_dir).unwrap();
    let v = post_click(&app, PREPARE_PATH, &prepare).await;
    assert_eq!(v["error"], 0, "{v}");
    let complete = prepare.to_complete(v["merchant_prepare_id"].as_i64().unwrap(), 0);
    assert_eq!(post_click(&app, COMPLETE_PATH, &complete).await["error"], 0);
    pm::create(&app, &id, pm::now_ms(&app), tiyin, &payme_order).await;
    let alerts = mq::list_alerts(app.ctx.store.pool(), true, 10)
        .await
        .unwrap();
    assert!(
        !alerts.iter().any(|a| a.kind == "journal_failed"),
        "resolved"
    );
    let read = app.ctx.journal.read();
    assert_eq!(read.entries.len(), 3, "{read:?}");
    assert_eq!(read.unreadable_lines, 0);
}

#[tokio::test]
async fn what_staff_cleared_does_not_come_back_from_the_journal() {
    use fotobox_core::panel::{self, Actor};
    let app = app("", "").await;
    let (cleared, _) = pay_with_click(&app).await;
    panel::clear(&app.ctx, Actor::Token, "CLEAR", true)
        .await
        .unwrap();
    backups::run_backup(&app.ctx).await.unwrap();
    let (kept, _) = pay_with_click(&app).await;
    let want = record(&app, &kept).await.unwrap();

    let db = app.ctx.store.path().to_path_buf();
    let (size,): (i64,) = sqlx::query_as("PRAGMA page_size")
        .fetch_one(app.ctx.store.pool())
        .await
        .unwrap();
    let page = root_page(&app, "payments").await;
    mq::checkpoint(app.ctx.store.pool()).await.unwrap();
    let TestApp { ctx, dir } = app;
    ctx.store.close().await;
    drop(ctx);
    overwrite_page(&db, page, size as u64);

    let app = TestApp {
        ctx: context(dir.path(), "", "").await,
        dir,
    };
    assert_eq!(
        record(&app, &kept).await,
        Some(want),
        "paid after the clear"
    );
    assert!(
        app.ctx
            .store
            .payment_by_order_id(&cleared)
            .await
            .unwrap()
            .is_none(),
        "cleared by staff, not brought back"
    );
}
