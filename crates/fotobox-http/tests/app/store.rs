//! Store tests: migrations on an empty file, constraints, append-only events, concurrent writers.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::Duration;

use chrono::Utc;
use common::TestApp;
use fotobox_core::orders::{self, OrderRequest};
use fotobox_store::model::{PaymentStatus, Provider};
use fotobox_store::{self, payments as q, ListFilter, Store};

#[tokio::test]
async fn migrations_create_the_schema_in_an_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/dir/photobooth.db");
    let store = Store::open(&path, Duration::from_secs(5)).await.unwrap();
    assert!(path.exists(), "the database file is created on first start");
    assert_eq!(
        store.schema_version().await.unwrap(),
        fotobox_store::latest_schema_version()
    );
    let tables: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t.0.as_str()).collect();
    for t in [
        "payments",
        "photos",
        "payme_transactions",
        "click_transactions",
        "payment_events",
    ] {
        assert!(names.contains(&t), "missing table {t}: {names:?}");
    }
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let (sync,): (i64,) = sqlx::query_as("PRAGMA synchronous")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(sync, 2, "synchronous=FULL");
    let (fk,): (i64,) = sqlx::query_as("PRAGMA foreign_keys")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(fk, 1);
    store.close().await;
    // Opening again is a no-op migration.
    let again = Store::open(&path, Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        again.schema_version().await.unwrap(),
        fotobox_store::latest_schema_version()
    );
}

fn new_payment(order_id: &str) -> q::NewPayment<'_> {
    let now = Utc::now();
    q::NewPayment {
        order_id,
        amount: fotobox_store::Sum::new(20000),
        payment_type: Provider::Payme,
        template_name: Some("strip"),
        copies: 1,
        expires_at: now + chrono::Duration::minutes(10),
        now,
    }
}

#[tokio::test]
async fn duplicate_order_id_and_transaction_id_are_rejected() {
    let app = TestApp::new().await;
    let mut c = app.ctx.store.pool().acquire().await.unwrap();
    let a = q::insert_payment(&mut c, &new_payment("AAAA-0001"))
        .await
        .unwrap();
    let dup = q::insert_payment(&mut c, &new_payment("AAAA-0001"))
        .await
        .unwrap_err();
    assert!(dup.is_unique_violation(), "{dup}");
    let b = q::insert_payment(&mut c, &new_payment("AAAA-0002"))
        .await
        .unwrap();
    assert!(q::mark_success(&mut c, a.id, "tx-1", Some(2), Utc::now())
        .await
        .unwrap());
    let e = q::mark_success(&mut c, b.id, "tx-1", Some(2), Utc::now())
        .await
        .unwrap_err();
    assert!(e.is_unique_violation(), "{e}");
    // Nothing changed for b.
    let b2 = q::payment_by_id(&mut c, b.id).await.unwrap().unwrap();
    assert_eq!(b2.status, "pending");
    assert_eq!(b2.transaction_id, None);
    // Amount must be positive, status and type from the known sets.
    let bad = sqlx::query("UPDATE payments SET status = 'paid' WHERE id = ?")
        .bind(a.id)
        .execute(&mut *c)
        .await;
    assert!(bad.is_err());
    let mut zero = new_payment("AAAA-0003");
    zero.amount = fotobox_store::Sum::ZERO;
    assert!(q::insert_payment(&mut c, &zero).await.is_err());
}

#[tokio::test]
async fn payment_events_are_append_only() {
    let app = TestApp::new().await;
    let mut c = app.ctx.store.pool().acquire().await.unwrap();
    let p = q::insert_payment(&mut c, &new_payment("EVNT-0001"))
        .await
        .unwrap();
    q::insert_event(
        &mut c,
        p.id,
        "kiosk",
        "create",
        &serde_json::json!({}),
        Utc::now(),
    )
    .await
    .unwrap();
    let upd = sqlx::query("UPDATE payment_events SET kind = 'x'")
        .execute(&mut *c)
        .await;
    assert!(upd.unwrap_err().to_string().contains("append-only"));
}

#[tokio::test]
async fn concurrent_writers_never_see_database_is_locked() {
    let app = TestApp::new().await;
    let mut tasks = Vec::new();
    for w in 0..8 {
        let ctx = app.ctx.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..40 {
                let provider = if (w + i) % 2 == 0 {
                    Provider::Payme
                } else {
                    Provider::Click
                };
                let o = orders::create_order(
                    &ctx,
                    OrderRequest::Priced {
                        provider,
                        template: "strip".into(),
                        copies: 1,
                    },
                )
                .await
                .expect("create_order under contention");
                if i % 3 == 0 {
                    orders::cancel_order(&ctx, &o.order_id)
                        .await
                        .expect("cancel under contention");
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(app.ctx.store.count_payments().await.unwrap(), 320);
    let s = app.ctx.store.stats(Utc::now()).await.unwrap();
    assert_eq!(s.canceled_payments, 8 * 14);
    assert_eq!(s.pending_payments, 320 - 8 * 14);
}

#[tokio::test]
async fn list_and_stats_use_indexes() {
    let app = TestApp::new().await;
    // The store's own list queries (page and total), for each filter the staff list offers,
    // after ANALYZE on a populated table so the planner sees real statistics.
    for i in 0..300 {
        let provider = if i % 2 == 0 { "payme" } else { "click" };
        app.order(provider, "strip", 1).await;
    }
    sqlx::query("ANALYZE")
        .execute(app.ctx.store.pool())
        .await
        .unwrap();
    let day = chrono::Utc::now() - chrono::Duration::days(1);
    let filters = [
        ListFilter::default(),
        ListFilter {
            status: Some(PaymentStatus::Success),
            ..Default::default()
        },
        ListFilter {
            payment_type: Some("click".into()),
            ..Default::default()
        },
        ListFilter {
            from: Some(day),
            ..Default::default()
        },
    ];
    for f in &filters {
        let (page, count) = app.ctx.store.list_query_plan(f).await.unwrap();
        let page = page.join(" | ");
        assert!(page.contains("USING INDEX idx_payments_"), "{f:?}: {page}");
        assert!(
            !page.contains("TEMP B-TREE"),
            "{f:?} sorts the whole table: {page}"
        );
        let count = count.join(" | ");
        assert!(
            count.contains("COVERING INDEX") || count.contains("USING INDEX"),
            "{f:?}: {count}"
        );
    }
}

/// The trigger-kept hourly rollup behind the stats equals a plain aggregate over `payments`
/// after inserts, payments, cancels, a staff refund-like update, deletes and a clear.
#[tokio::test]
async fn stats_rollup_stays_equal_to_the_payments_it_summarises() {
    let app = TestApp::new().await;
    let server = app.serve().await; // the simulators pay over the real callback listener
    let pool = app.ctx.store.pool();
    let rollup = || async {
        let direct: Vec<(String, String, String, String, i64, i64, i64)> = sqlx::query_as(
            "SELECT substr(created_at, 1, 13), payment_type, COALESCE(template_name, ''), status,
                    cancel_reason IS 'staff:refund', COUNT(*), SUM(amount)
             FROM payments GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let kept: Vec<(String, String, String, String, i64, i64, i64)> = sqlx::query_as(
            "SELECT hour, payment_type, template_name, status, refunded, payments, amount
             FROM stats_hourly ORDER BY 1, 2, 3, 4, 5",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        assert_eq!(kept, direct);
        direct.len()
    };
    let mut ids = Vec::new();
    for i in 0..12 {
        let provider = if i % 3 == 0 { "click" } else { "payme" };
        let layout = ["strip", "grid", "postcard"][i % 3];
        ids.push(
            app.order(provider, layout, 1 + (i as i64 % 2)).await["order_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert!(rollup().await > 0);
    for id in &ids[..4] {
        fotobox_core::payme::simulator::pay_order(&app.ctx, id)
            .await
            .ok();
        fotobox_core::click::simulator::pay_order(&app.ctx, id)
            .await
            .ok();
    }
    for id in &ids[4..7] {
        orders::cancel_order(&app.ctx, id).await.unwrap();
    }
    rollup().await;
    // A staff refund changes status and reason in one update.
    sqlx::query("UPDATE payments SET status = 'canceled', cancel_reason = 'staff:refund' WHERE order_id = ?")
        .bind(&ids[0])
        .execute(pool)
        .await
        .unwrap();
    // A legacy amount order (no layout) and a deletion.
    orders::create_order(
        &app.ctx,
        OrderRequest::Amount {
            provider: Provider::Payme,
            amount: 7000,
        },
    )
    .await
    .unwrap();
    sqlx::query("DELETE FROM payments WHERE order_id = ?")
        .bind(&ids[8])
        .execute(pool)
        .await
        .unwrap();
    rollup().await;
    let s = app.ctx.store.stats(app.ctx.clock.now()).await.unwrap();
    let (n, paid): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COALESCE(SUM(status = 'success'), 0) FROM payments")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!((s.total_payments, s.success_payments), (n, paid));
    assert_eq!(s.refunded_payments, 1);
    assert_eq!(paid, 3, "the simulators paid four orders, one was refunded");
    let dir = tempfile::tempdir().unwrap();
    app.ctx
        .store
        .clear_all(dir.path(), app.ctx.clock.now(), true)
        .await
        .unwrap();
    assert_eq!(rollup().await, 0);
    server.shutdown().await;
}
