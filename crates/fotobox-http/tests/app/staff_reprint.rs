//! Staff reprint from the panel against a queue of the real private CUPS (`cups_support`): one
//! new print of the order's existing composite through the persisted print queue, with the
//! chosen or the order's copies, audited with the reason, never queued twice, and refused
//! without a paid order or a composite.
#![allow(clippy::unwrap_used)]

use crate::common;
use crate::cups_support::TestQueue;
use crate::photos_support;

use std::time::Duration;

use axum::http::StatusCode;
use common::{send, TestApp, STAFF_TOKEN};
use fotobox_core::panel;
use fotobox_core::photos::{self, Failpoint};
use fotobox_store::photos as q;
use photos_support::{job_of, paid_order, shots};
use serde_json::{json, Value};

const PIN: &str = "2468";

async fn app_with_cups(queue: &TestQueue) -> (TestApp, String) {
    let app = TestApp::with_extra(&queue.config(50)).await;
    panel::set_pin(&app.ctx, PIN, "test").await.unwrap();
    let (s, v) = send(
        app.api(),
        "POST",
        "/api/staff/login",
        Some(json!({ "pin": PIN })),
        Some(STAFF_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let token = v["token"].as_str().unwrap().to_string();
    (app, token)
}

/// Wait (up to 10 s) until the order's job is `state`.
async fn wait_for_state(app: &TestApp, order: &str, state: &str) -> q::PrintJob {
    let started = std::time::Instant::now();
    loop {
        let job = job_of(&app.ctx, order).await;
        if job.state == state {
            return job;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "job never became {state}: {job:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn reprint(app: &TestApp, token: &str, order: &str, body: Value) -> (StatusCode, Value) {
    send(
        app.api(),
        "POST",
        &format!("/api/staff/payments/{order}/reprint"),
        Some(body),
        Some(token),
    )
    .await
}

async fn reprint_audits(app: &TestApp) -> Vec<fotobox_store::staff::AuditEntry> {
    let (_, entries) = app.ctx.store.audit_entries(None, 100, 0).await.unwrap();
    entries
        .into_iter()
        .filter(|a| a.action == "reprint")
        .collect()
}

#[tokio::test]
async fn reprint_queues_one_new_print_of_the_composite_audited_and_never_twice() {
    let queue = TestQueue::new();
    let (app, t) = app_with_cups(&queue).await;
    let order = paid_order(&app.ctx, "strip", 2).await;
    let view = photos::hooks::create_photo_with(&app.ctx, &order, shots(4), Failpoint::default())
        .await
        .unwrap();
    assert_eq!(photos::process_queue(&app.ctx).await.unwrap().printed, 1);
    assert_eq!(queue.jobs().len(), 1);
    assert_eq!(photos::paper(&app.ctx).await.unwrap().remaining, 48);

    // A reason is required.
    let (s, v) = reprint(&app, &t, &order, json!({"reason": ""})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = reprint(&app, &t, &order, json!({"reason": "smudged", "copies": 0})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(queue.jobs().len(), 1);

    // CUPS holds new jobs: the reprint stays under way while staff tap again.
    queue.hold_new_jobs(true);
    let (s, v) = reprint(
        &app,
        &t,
        &order,
        json!({"reason": "print smudged", "copies": 1}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["print"]["state"], "queued", "{v}");
    assert_eq!(v["print"]["copies"], 1);
    assert_eq!(v["payment"]["order_id"], order.as_str());
    // A second tap at once: refused, nothing more queued.
    let (s, v) = reprint(&app, &t, &order, json!({"reason": "print smudged"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["error"].as_str().unwrap().contains("already"), "{v}");
    // The queue runs by itself (started by the reprint) and submits the job once.
    queue.wait_jobs(2, 10).await;
    wait_for_state(&app, &order, "printing").await;
    let (s, v) = reprint(&app, &t, &order, json!({"reason": "print smudged"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    queue.hold_new_jobs(false);
    queue.release_held();
    let job = wait_for_state(&app, &order, "done").await;
    photos::process_queue(&app.ctx).await.unwrap();
    assert_eq!(queue.jobs().len(), 2, "{:?}", queue.jobs());
    let printed = queue.printed();
    assert_eq!(printed.len(), 2, "{printed:?}");
    assert!(printed[1].contains(" copies=1 "), "{}", printed[1]);
    // The same composite as the first print, a new job title.
    let n = queue.printed_jobs();
    let composite = std::fs::read(&view.composite_path).unwrap();
    assert_eq!(queue.document(n[0]), composite);
    assert_eq!(queue.document(n[1]), composite);
    let title = |l: &str| {
        l.split_whitespace()
            .find_map(|w| w.strip_prefix("title="))
            .unwrap()
            .to_string()
    };
    assert!(title(&printed[1]).starts_with("fotobox-"), "{printed:?}");
    assert_ne!(title(&printed[0]), title(&printed[1]));
    assert_eq!((job.copies, job.attempts), (1, 2));
    assert_eq!(photos::paper(&app.ctx).await.unwrap().remaining, 47);

    // Audited with the reason and the session's actor; a payment event too.
    let audits = reprint_audits(&app).await;
    assert_eq!(audits.len(), 1, "{audits:?}");
    assert_eq!(audits[0].reason.as_deref(), Some("print smudged"));
    assert_eq!(audits[0].actor, "pin:browser");
    assert_eq!(audits[0].order_id.as_deref(), Some(order.as_str()));
    let detail: Value = serde_json::from_str(audits[0].detail_json.as_deref().unwrap()).unwrap();
    assert_eq!(
        (detail["copies"].as_i64(), detail["previous_state"].as_str()),
        (Some(1), Some("done"))
    );
    let p = app
        .ctx
        .store
        .payment_by_order_id(&order)
        .await
        .unwrap()
        .unwrap();
    let events = app.ctx.store.events_for_payment(p.id).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.source == "staff" && e.kind == "reprint")
            .count(),
        1
    );

    // Once done, another reprint is allowed; without copies it prints the order's copies.
    let (s, v) = reprint(
        &app,
        &t,
        &order,
        json!({"reason": "second copy for grandma"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["print"]["copies"], 2);
    queue.wait_jobs(3, 10).await;
    wait_for_state(&app, &order, "done").await;
    photos::process_queue(&app.ctx).await.unwrap();
    assert_eq!(queue.jobs().len(), 3, "{:?}", queue.jobs());
    let printed = queue.printed();
    assert_eq!(printed.len(), 3, "{printed:?}");
    assert!(printed[2].contains(" copies=2 "), "{}", printed[2]);
    assert_eq!(photos::paper(&app.ctx).await.unwrap().remaining, 45);
    assert_eq!(reprint_audits(&app).await.len(), 2);
}

#[tokio::test]
async fn reprint_resolves_the_flag_of_a_failed_print() {
    let queue = TestQueue::new();
    let (app, t) = app_with_cups(&queue).await;
    let order = paid_order(&app.ctx, "postcard", 1).await;
    photos::hooks::create_photo_with(&app.ctx, &order, shots(1), Failpoint::default())
        .await
        .unwrap();
    // The scheduler refuses the kiosk's `lp` every time: the order is flagged.
    queue.refuse_jobs(true);
    assert_eq!(photos::process_queue(&app.ctx).await.unwrap().failed, 1);
    assert_eq!(app.ctx.store.open_flags().await.unwrap().len(), 1);
    assert!(queue.jobs().is_empty());
    queue.refuse_jobs(false);
    let (s, v) = reprint(&app, &t, &order, json!({"reason": "printer fixed"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["print"]["last_error"].is_null(), "{v}");
    assert!(app.ctx.store.open_flags().await.unwrap().is_empty());
    wait_for_state(&app, &order, "done").await;
    photos::process_queue(&app.ctx).await.unwrap();
    assert_eq!(queue.jobs().len(), 1, "submitted exactly once");
    assert_eq!(queue.printed().len(), 1, "printed exactly once");
    let p = app
        .ctx
        .store
        .payment_by_order_id(&order)
        .await
        .unwrap()
        .unwrap();
    assert!(p.fulfilled_at.is_some());
}

#[tokio::test]
async fn reprint_is_refused_without_a_paid_order_or_a_composite() {
    let queue = TestQueue::new();
    let (app, t) = app_with_cups(&queue).await;
    // Not paid.
    let pending = app.order("payme", "strip", 1).await;
    let pending = pending["order_id"].as_str().unwrap().to_string();
    let (s, v) = reprint(&app, &t, &pending, json!({"reason": "customer asked"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("only a paid order"),
        "{v}"
    );
    // Paid, but no pictures were taken: no composite.
    let no_photo = paid_order(&app.ctx, "strip", 1).await;
    let (s, v) = reprint(&app, &t, &no_photo, json!({"reason": "customer asked"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("no composed photo"),
        "{v}"
    );
    // Paid and printed, but the composite is gone from the disk.
    let gone = paid_order(&app.ctx, "postcard", 1).await;
    let view = photos::hooks::create_photo_with(&app.ctx, &gone, shots(1), Failpoint::default())
        .await
        .unwrap();
    photos::process_queue(&app.ctx).await.unwrap();
    std::fs::remove_file(&view.composite_path).unwrap();
    let (s, v) = reprint(&app, &t, &gone, json!({"reason": "customer asked"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("missing on disk"),
        "{v}"
    );
    // Refunded (no longer paid).
    let refunded = paid_order(&app.ctx, "postcard", 1).await;
    photos::hooks::create_photo_with(&app.ctx, &refunded, shots(1), Failpoint::default())
        .await
        .unwrap();
    photos::process_queue(&app.ctx).await.unwrap();
    let (s, v) = send(
        app.api(),
        "POST",
        &format!("/api/staff/payments/{refunded}/refund"),
        Some(json!({"reason": "customer unhappy"})),
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = reprint(&app, &t, &refunded, json!({"reason": "customer asked"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    // Unknown order; no session.
    let (s, _) = reprint(&app, &t, "nope", json!({"reason": "customer asked"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = send(
        app.api(),
        "POST",
        &format!("/api/staff/payments/{refunded}/reprint"),
        Some(json!({"reason": "customer asked"})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Nothing was queued or audited by any of these.
    assert_eq!(queue.jobs().len(), 2, "{:?}", queue.jobs());
    assert!(reprint_audits(&app).await.is_empty());
    let jobs = app.ctx.store.print_jobs(10).await.unwrap();
    assert!(jobs.iter().all(|j| j.job.state == "done"), "{jobs:?}");
}
