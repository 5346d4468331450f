//! One order, one live transaction, whatever the timing (payme.md §8), and exactly one perform.
#![allow(clippy::unwrap_used)]

use crate::common;
use crate::payme_support;

use std::sync::Arc;

use common::TestApp;
use fotobox_store::model::PaymentStatus;
use payme_support::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_for_one_order_leave_exactly_one_transaction() {
    let app = Arc::new(TestApp::new().await);
    let (order, amount) = new_order(&app).await;
    let t = now_ms(&app);
    let mut tasks = Vec::new();
    for i in 0..32u64 {
        let (app, order) = (app.clone(), order.clone());
        tasks.push(tokio::spawn(async move {
            rpc(
                &app,
                "CreateTransaction",
                create_params(&hex24(100 + i), t, amount, &order),
            )
            .await
        }));
    }
    let mut winners = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        let v = task.await.unwrap();
        if v.get("result").is_some() {
            winners.push(i);
        } else {
            assert_error(&v, -31008);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one Create may win");
    let p = payment(&app, &order).await;
    let txs = app.ctx.store.payme_txs_for_payment(p.id).await.unwrap();
    assert_eq!(txs.len(), 1);
    assert_eq!(txs[0].payme_id, hex24(100 + winners[0] as u64));
    assert_eq!(p.transaction_id.as_deref(), Some(txs[0].payme_id.as_str()));
    let events = app.ctx.store.events_for_payment(p.id).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == "CreateTransaction")
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_repeats_of_one_create_share_one_answer() {
    let app = Arc::new(TestApp::new().await);
    let (order, amount) = new_order(&app).await;
    let t = now_ms(&app);
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (app, order) = (app.clone(), order.clone());
        tasks.push(tokio::spawn(async move {
            ok(
                &app,
                "CreateTransaction",
                create_params(&hex24(1), t, amount, &order),
            )
            .await
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_performs_set_one_perform_time() {
    let app = Arc::new(TestApp::new().await);
    let mut events = app.ctx.events.subscribe();
    let (order, amount) = new_order(&app).await;
    create(&app, &hex24(1), now_ms(&app), amount, &order).await;
    let mut tasks = Vec::new();
    for _ in 0..24 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            ok(&app, "PerformTransaction", json!({"id": hex24(1)})).await
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    assert_eq!(answers[0]["state"], json!(2));
    let p = payment(&app, &order).await;
    assert_eq!(p.status(), PaymentStatus::Success);
    let events_rows = app.ctx.store.events_for_payment(p.id).await.unwrap();
    assert_eq!(
        events_rows
            .iter()
            .filter(|e| e.kind == "PerformTransaction")
            .count(),
        1
    );
    // Exactly one status event was published.
    assert_eq!(events.try_recv().unwrap().status, PaymentStatus::Success);
    assert!(events.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_perform_and_cancel_end_in_one_consistent_state() {
    for round in 0..8u64 {
        let app = Arc::new(TestApp::new().await);
        let (order, amount) = new_order(&app).await;
        let id = hex24(round);
        create(&app, &id, now_ms(&app), amount, &order).await;
        let (a, b) = (app.clone(), app.clone());
        let (id1, id2) = (id.clone(), id.clone());
        let perform =
            tokio::spawn(async move { rpc(&a, "PerformTransaction", json!({"id": id1})).await });
        let cancel = tokio::spawn(async move {
            rpc(&b, "CancelTransaction", json!({"id": id2, "reason": 3})).await
        });
        let (pv, cv) = (perform.await.unwrap(), cancel.await.unwrap());
        let c = ok(&app, "CheckTransaction", json!({"id": id})).await;
        let p = payment(&app, &order).await;
        match c["state"].as_i64().unwrap() {
            // Perform won, then Cancel refunded it.
            -2 => {
                assert_eq!(pv["result"]["state"], json!(2));
                assert_eq!(cv["result"]["state"], json!(-2));
                assert_eq!(p.status(), PaymentStatus::Canceled);
            }
            // Cancel won; Perform found it cancelled.
            -1 => {
                assert_error(&pv, -31008);
                assert_eq!(cv["result"]["state"], json!(-1));
                assert_eq!(p.status(), PaymentStatus::Pending);
            }
            s => panic!("unexpected state {s}"),
        }
    }
}
