//! Click SHOP API callbacks (click.md): Click's 15-step tester sequence, the processing rules,
//! property/fuzz tests of form and amount parsing, concurrency, and the simulator over a real
//! socket.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{TestApp, CLICK_SECRET, CLICK_SERVICE_ID};
use fotobox_core::click::amount::parse_tiyin;
use fotobox_core::click::simulator::{Callback, ClickClient, CLICK_ERROR_INSUFFICIENT_FUNDS};
use fotobox_core::click::{COMPLETE_PATH, PREPARE_PATH};
use fotobox_store::click::ClickTransaction;
use fotobox_store::model::{Payment, PaymentStatus};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

/// Strip template, one copy (the test config's price).
const PRICE: i64 = 20_000;

/// How a test talks to the callback endpoints: the router with `oneshot`, or a real socket.
#[derive(Clone)]
enum Transport {
    Oneshot(axum::Router),
    Http(ClickClient),
}

impl Transport {
    async fn post(&self, path: &str, cb: &Callback) -> Value {
        match self {
            Transport::Oneshot(r) => post_body(r.clone(), path, cb.to_body(CLICK_SECRET)).await.1,
            Transport::Http(c) => c.send_to(path, cb).await.unwrap(),
        }
    }
}

/// A client that only builds callbacks (signing with the test secret).
fn client() -> ClickClient {
    ClickClient::new(
        fotobox_core::outbound::Outbound::default(),
        "http://unused",
        CLICK_SERVICE_ID,
        CLICK_SECRET,
    )
}

async fn post_body(router: axum::Router, path: &str, body: impl Into<Body>) -> (StatusCode, Value) {
    let req = Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.into())
        .unwrap();
    let resp = router.oneshot(req).await.unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("not JSON ({status}): {}", String::from_utf8_lossy(&bytes)));
    assert!(v.is_object(), "flat JSON object: {v}");
    assert_eq!(ct.as_deref(), Some("application/json"));
    (status, v)
}

async fn prepare(app: &TestApp, cb: &Callback) -> Value {
    let (status, v) = post_body(app.callbacks(), PREPARE_PATH, cb.to_body(CLICK_SECRET)).await;
    assert_eq!(status, StatusCode::OK);
    v
}

async fn complete(app: &TestApp, cb: &Callback) -> Value {
    let (status, v) = post_body(app.callbacks(), COMPLETE_PATH, cb.to_body(CLICK_SECRET)).await;
    assert_eq!(status, StatusCode::OK);
    v
}

async fn click_order(app: &TestApp) -> String {
    let o = app.order("click", "strip", 1).await;
    assert_eq!(o["amount"], PRICE);
    o["order_id"].as_str().unwrap().to_string()
}

async fn payment(app: &TestApp, order_id: &str) -> Payment {
    app.ctx
        .store
        .payment_by_order_id(order_id)
        .await
        .unwrap()
        .unwrap()
}

async fn attempts(app: &TestApp, order_id: &str) -> Vec<ClickTransaction> {
    let p = payment(app, order_id).await;
    app.ctx
        .store
        .click_transactions_for_payment(p.id)
        .await
        .unwrap()
}

async fn counts(app: &TestApp) -> (i64, i64) {
    app.ctx.store.click_row_counts().await.unwrap()
}

fn prepare_answer(cb: &Callback, id: i64) -> Value {
    json!({
        "click_trans_id": cb.click_trans_id.parse::<i64>().unwrap(),
        "merchant_trans_id": cb.merchant_trans_id,
        "merchant_prepare_id": id,
        "error": 0,
        "error_note": "Success",
    })
}

fn prepare_error(cb: &Callback, code: i64, note: &str) -> Value {
    json!({
        "click_trans_id": cb.click_trans_id.parse::<i64>().unwrap(),
        "merchant_trans_id": cb.merchant_trans_id,
        "error": code,
        "error_note": note,
    })
}

fn complete_answer(cb: &Callback, code: i64, note: &str, confirm: Option<i64>) -> Value {
    json!({
        "click_trans_id": cb.click_trans_id.parse::<i64>().unwrap(),
        "merchant_trans_id": cb.merchant_trans_id,
        "merchant_confirm_id": confirm,
        "error": code,
        "error_note": note,
    })
}

fn bad_sign(cb: &Callback) -> Callback {
    let mut cb = cb.clone();
    cb.sign_string = Some(cb.signature("WRONG_SECRET"));
    cb
}

/// Click's desktop tester, 15 steps (click.md §11, [TST] template.json), checking every field
/// of every answer. Each "prepare ok" starts on a fresh order as a kiosk does (one order per QR);
/// on the same (paid) order steps 9 and 12 would rightly answer -4.
async fn run_tester_sequence(app: &TestApp, t: &Transport) {
    let c = client();
    let a = click_order(app).await;
    let b = click_order(app).await;
    let cc = click_order(app).await;
    let (rows0, _) = counts(app).await;

    // 1. Prepare with a bad signature → -1, nothing stored.
    let pa = c.new_prepare(&a, PRICE);
    assert_eq!(
        t.post(PREPARE_PATH, &bad_sign(&pa)).await,
        prepare_error(&pa, -1, "SIGN CHECK FAILED!")
    );
    assert_eq!(counts(app).await.0, rows0);

    // 2. Prepare ok → 0 with our merchant_prepare_id.
    let v = t.post(PREPARE_PATH, &pa).await;
    let pid_a = v["merchant_prepare_id"]
        .as_i64()
        .expect("merchant_prepare_id is a number");
    assert_eq!(v, prepare_answer(&pa, pid_a));
    assert_eq!(attempts(app, &a).await[0].state, "prepared");

    // 3. Complete with a bad signature → -1.
    let ca = pa.to_complete(pid_a, 0);
    assert_eq!(
        t.post(COMPLETE_PATH, &bad_sign(&ca)).await,
        complete_answer(&ca, -1, "SIGN CHECK FAILED!", None)
    );

    // 4. Complete with a wrong amount → -2, still pending.
    let mut wrong = ca.clone();
    wrong.amount = "500".into();
    assert_eq!(
        t.post(COMPLETE_PATH, &wrong).await,
        complete_answer(&wrong, -2, "Incorrect parameter amount", None)
    );
    assert_eq!(payment(app, &a).await.status(), PaymentStatus::Pending);

    // 5. Complete ok → 0, the order is paid with Click's transaction id.
    assert_eq!(
        t.post(COMPLETE_PATH, &ca).await,
        complete_answer(&ca, 0, "Success", Some(pid_a))
    );
    let pay = payment(app, &a).await;
    assert_eq!(pay.status(), PaymentStatus::Success);
    assert_eq!(
        pay.transaction_id.as_deref(),
        Some(ca.click_trans_id.as_str())
    );
    let rows = attempts(app, &a).await;
    assert_eq!(
        (rows[0].state.as_str(), rows[0].merchant_confirm_id),
        ("confirmed", Some(pid_a))
    );

    // 6. Complete again → -4.
    assert_eq!(
        t.post(COMPLETE_PATH, &ca).await,
        complete_answer(&ca, -4, "Already paid", None)
    );

    // 7. Click cancels (error=-1) the paid one → -4, stays paid (click.md ⚠1).
    let cancel_paid = pa.to_complete(pid_a, -1);
    assert_eq!(
        t.post(COMPLETE_PATH, &cancel_paid).await,
        complete_answer(&cancel_paid, -4, "Already paid", None)
    );
    assert_eq!(payment(app, &a).await.status(), PaymentStatus::Success);
    assert_eq!(attempts(app, &a).await[0].state, "confirmed");

    // 8. Prepare for an unknown order → -5.
    let unknown = c.new_prepare("NOPE-0000", PRICE);
    assert_eq!(
        t.post(PREPARE_PATH, &unknown).await,
        prepare_error(&unknown, -5, "User does not exist")
    );

    // 9. Prepare ok (order B).
    let pb = c.new_prepare(&b, PRICE);
    let v = t.post(PREPARE_PATH, &pb).await;
    let pid_b = v["merchant_prepare_id"].as_i64().unwrap();
    assert_eq!(v, prepare_answer(&pb, pid_b));

    // 10. Complete with an unknown merchant_prepare_id → -6.
    let ghost = pb.to_complete(999_999_999, 0);
    assert_eq!(
        t.post(COMPLETE_PATH, &ghost).await,
        complete_answer(&ghost, -6, "Transaction does not exist", None)
    );
    assert_eq!(payment(app, &b).await.status(), PaymentStatus::Pending);

    // 11. Complete ok → 0.
    let cb_ = pb.to_complete(pid_b, 0);
    assert_eq!(
        t.post(COMPLETE_PATH, &cb_).await,
        complete_answer(&cb_, 0, "Success", Some(pid_b))
    );
    assert_eq!(payment(app, &b).await.status(), PaymentStatus::Success);

    // 12. Prepare ok (order C).
    let pc = c.new_prepare(&cc, PRICE);
    let v = t.post(PREPARE_PATH, &pc).await;
    let pid_c = v["merchant_prepare_id"].as_i64().unwrap();
    assert_eq!(v, prepare_answer(&pc, pid_c));

    // 13. Click cancels (-5017) → -9; attempt and order cancelled.
    let cancel = pc.to_complete(pid_c, CLICK_ERROR_INSUFFICIENT_FUNDS);
    assert_eq!(
        t.post(COMPLETE_PATH, &cancel).await,
        complete_answer(&cancel, -9, "Transaction cancelled", None)
    );
    let pay = payment(app, &cc).await;
    assert_eq!(pay.status(), PaymentStatus::Canceled);
    assert_eq!(pay.cancel_reason.as_deref(), Some("click:-5017"));
    let rows = attempts(app, &cc).await;
    assert_eq!(
        (rows[0].state.as_str(), rows[0].click_error),
        ("cancelled", Some(-5017))
    );

    // 14. The same cancellation again → -9.
    let cancel2 = pc.to_complete(pid_c, CLICK_ERROR_INSUFFICIENT_FUNDS);
    assert_eq!(
        t.post(COMPLETE_PATH, &cancel2).await,
        complete_answer(&cancel2, -9, "Transaction cancelled", None)
    );

    // 15. Complete error=0 on the cancelled one → -9, stays cancelled.
    let late = pc.to_complete(pid_c, 0);
    assert_eq!(
        t.post(COMPLETE_PATH, &late).await,
        complete_answer(&late, -9, "Transaction cancelled", None)
    );
    assert_eq!(payment(app, &cc).await.status(), PaymentStatus::Canceled);

    // Every signed callback on a known order left one event (source click) with the request
    // and our answer; the -1 ones left none, and no detail carries the secret.
    let events = app
        .ctx
        .store
        .events_for_payment(payment(app, &a).await.id)
        .await
        .unwrap();
    let click: Vec<_> = events.iter().filter(|e| e.source == "click").collect();
    let kinds: Vec<&str> = click.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["prepare", "complete", "complete", "complete", "complete"]
    );
    for e in &events {
        let d = e.detail_json.as_deref().unwrap_or("");
        assert!(!d.contains(CLICK_SECRET), "secret in event: {d}");
    }
    let paid_event: Value = serde_json::from_str(click[2].detail_json.as_deref().unwrap()).unwrap();
    assert_eq!(
        paid_event["answer"],
        complete_answer(&ca, 0, "Success", Some(pid_a))
    );
    assert_eq!(
        paid_event["request"]["sign_string"],
        ca.signature(CLICK_SECRET)
    );
    assert_eq!(paid_event["request"]["amount"], "20000.00");
}

#[tokio::test]
async fn tester_sequence_over_the_router() {
    let app = TestApp::new().await;
    let t = Transport::Oneshot(app.callbacks());
    run_tester_sequence(&app, &t).await;
}

#[tokio::test]
async fn tester_sequence_over_a_real_socket() {
    let app = TestApp::new().await;
    let server = app.serve().await;
    let t = Transport::Http(ClickClient::for_app(&app.ctx).unwrap());
    run_tester_sequence(&app, &t).await;
    server.shutdown().await;
}

#[tokio::test]
async fn amount_is_hashed_raw_and_compared_exactly() {
    let app = TestApp::new().await;
    let o = click_order(&app).await;
    let c = client();

    // "20000" (as Click may echo an integer pay link) is fine when signed as sent.
    let mut cb = c.new_prepare(&o, PRICE);
    cb.amount = "20000".into();
    let v = prepare(&app, &cb).await;
    assert_eq!(v["error"], 0, "{v}");

    // Signed over "20000.00" but sent as "20000": the hash differs → -1.
    let mut cb = c.new_prepare(&o, PRICE);
    cb.sign_string = Some(cb.signature(CLICK_SECRET));
    cb.amount = "20000".into();
    assert_eq!(prepare(&app, &cb).await["error"], -1);

    // Equal decimals in other renderings pass; one tiyin more or a sub-tiyin fraction is -2.
    for (amount, want) in [
        ("20000.0", 0),
        ("020000.000", 0),
        ("20000.01", -2),
        ("19999.99", -2),
        ("20000.001", -2),
        ("2", -2),
        ("99999999999999999999999", -2),
        ("20000,00", -8),
        ("-20000", -8),
        ("2e4", -8),
        ("", -8),
    ] {
        let mut cb = c.new_prepare(&o, PRICE);
        cb.amount = amount.into();
        assert_eq!(prepare(&app, &cb).await["error"], want, "amount {amount:?}");
    }
}

#[tokio::test]
async fn parameters_service_and_action() {
    let app = TestApp::new().await;
    let o = click_order(&app).await;
    let c = client();
    let (rows0, events0) = counts(&app).await;

    // Every required field missing → -8 (error_note may be empty, merchant_prepare_id is
    // ignored in a Prepare).
    let cb = c.new_prepare(&o, PRICE);
    let body = cb.to_body(CLICK_SECRET);
    for field in [
        "click_trans_id",
        "service_id",
        "click_paydoc_id",
        "merchant_trans_id",
        "amount",
        "action",
        "error",
        "error_note",
        "sign_time",
        "sign_string",
    ] {
        let stripped: Vec<&str> = body
            .split('&')
            .filter(|kv| !kv.starts_with(&format!("{field}=")))
            .collect();
        let (status, v) = post_body(app.callbacks(), PREPARE_PATH, stripped.join("&")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v["error"], -8, "without {field}: {v}");
        assert_eq!(v["error_note"], "Error in request from click");
    }
    // Non-numeric ids → -8, and the unparseable id is not echoed.
    for (field, value) in [
        ("click_trans_id", "12a"),
        ("click_paydoc_id", "x"),
        ("service_id", "-1"),
        ("error", "e"),
    ] {
        let mut cb = c.new_prepare(&o, PRICE);
        match field {
            "click_trans_id" => cb.click_trans_id = value.into(),
            "click_paydoc_id" => cb.click_paydoc_id = value.into(),
            "service_id" => cb.service_id = value.into(),
            _ => cb.error = value.into(),
        }
        let v = prepare(&app, &cb).await;
        assert_eq!(v["error"], -8, "{field}={value}");
        assert_eq!(v.get("click_trans_id").is_some(), field != "click_trans_id");
    }
    assert_eq!(
        counts(&app).await,
        (rows0, events0),
        "refused requests store nothing"
    );

    // Another service id, correctly signed → -8 (click.md ⚠5).
    let mut cb = c.new_prepare(&o, PRICE);
    cb.service_id = "54321".into();
    assert_eq!(
        prepare(&app, &cb).await,
        prepare_error(&cb, -8, "Error in request from click")
    );

    // empty error_note is fine.
    let mut cb = c.new_prepare(&o, PRICE);
    cb.error_note = String::new();
    assert_eq!(prepare(&app, &cb).await["error"], 0);

    // A stray merchant_prepare_id in a Prepare is ignored and not hashed.
    let mut cb = c.new_prepare(&o, PRICE);
    cb.merchant_prepare_id = Some(String::new());
    assert_eq!(prepare(&app, &cb).await["error"], 0);

    // Action not 0/1, or not the URL's own → -3 (after the signature).
    let mut cb = c.new_prepare(&o, PRICE);
    cb.action = "2".into();
    assert_eq!(
        prepare(&app, &cb).await,
        prepare_error(&cb, -3, "Action not found")
    );
    assert_eq!(complete(&app, &cb).await["error"], -3);
    let cb = c.new_prepare(&o, PRICE);
    assert_eq!(
        complete(&app, &cb).await,
        complete_answer(&cb, -3, "Action not found", None)
    );
    let as_complete = cb.to_complete(1, 0);
    assert_eq!(prepare(&app, &as_complete).await["error"], -3);
    // Complete without merchant_prepare_id → -8.
    let mut no_id = cb.to_complete(1, 0);
    no_id.merchant_prepare_id = None;
    assert_eq!(complete(&app, &no_id).await["error"], -8);
    // Bad signature with an invalid action is -1 (signature comes first).
    let mut cb = c.new_prepare(&o, PRICE);
    cb.action = "7".into();
    assert_eq!(prepare(&app, &bad_sign(&cb)).await["error"], -1);
    // Upper-case hex signature is accepted.
    let mut cb = c.new_prepare(&o, PRICE);
    cb.sign_string = Some(cb.signature(CLICK_SECRET).to_uppercase());
    assert_eq!(prepare(&app, &cb).await["error"], 0);
}

#[tokio::test]
async fn malformed_bodies_answer_minus_8_as_json() {
    let app = TestApp::new().await;
    let before = counts(&app).await;
    for body in [
        &b""[..],
        b"garbage",
        b"a=%zz",
        b"a=%ff%fe",
        b"click_trans_id=1&click_trans_id=2",
        b"{\"click_trans_id\": 1}",
        b"&&&===&",
    ] {
        for path in [PREPARE_PATH, COMPLETE_PATH] {
            let (status, v) = post_body(app.callbacks(), path, body.to_vec()).await;
            assert_eq!(status, StatusCode::OK, "{body:?}");
            assert_eq!(v["error"], -8, "{body:?} → {v}");
        }
    }
    // Over the body limit: refused with 413 (still a JSON answer).
    let big = format!("error_note={}", "a".repeat(70 * 1024));
    let (status, v) = post_body(app.callbacks(), PREPARE_PATH, big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(v["error"], -8);
    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn prepare_rules() {
    let app = TestApp::new().await;
    let c = client();

    // Repeated identical prepare → the same merchant_prepare_id, one row.
    let o = click_order(&app).await;
    let cb = c.new_prepare(&o, PRICE);
    let first = prepare(&app, &cb).await;
    let again = prepare(&app, &cb).await;
    assert_eq!(first, again);
    assert_eq!(attempts(&app, &o).await.len(), 1);
    let id = first["merchant_prepare_id"].as_i64().unwrap();
    let stored = &attempts(&app, &o).await[0];
    assert_eq!(stored.id, id);
    assert_eq!(stored.click_trans_id.to_string(), cb.click_trans_id);
    assert_eq!(stored.click_paydoc_id.to_string(), cb.click_paydoc_id);
    assert!(
        stored.click_trans_id > 1 << 31 && stored.click_paydoc_id > 1 << 31,
        "64-bit ids kept"
    );
    assert_eq!(stored.amount_raw, "20000.00");

    // Click reports an error in Prepare → -9, nothing stored (⚠4).
    let o2 = click_order(&app).await;
    let mut cb2 = c.new_prepare(&o2, PRICE);
    cb2.error = "-5017".into();
    assert_eq!(
        prepare(&app, &cb2).await,
        prepare_error(&cb2, -9, "Transaction cancelled")
    );
    assert!(attempts(&app, &o2).await.is_empty());

    // The same click_trans_id for another order → -6.
    let mut reuse = c.new_prepare(&o2, PRICE);
    reuse.click_trans_id = cb.click_trans_id.clone();
    assert_eq!(prepare(&app, &reuse).await["error"], -6);

    // Paid → -4.
    let complete_ok = complete(&app, &cb.to_complete(id, 0)).await;
    assert_eq!(complete_ok["error"], 0);
    assert_eq!(prepare(&app, &c.new_prepare(&o, PRICE)).await["error"], -4);
    assert_eq!(
        prepare(&app, &cb).await["error"],
        -4,
        "re-sent prepare after success"
    );

    // Cancelled by the customer → -9 (⚠3).
    let o3 = click_order(&app).await;
    let (s, _) = common::send(
        app.api(),
        "POST",
        &format!("/api/orders/{o3}/cancel"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(prepare(&app, &c.new_prepare(&o3, PRICE)).await["error"], -9);

    // Expired (past expires_at, nothing under way) → -9.
    let o4 = click_order(&app).await;
    let o5 = click_order(&app).await;
    let held = c.new_prepare(&o5, PRICE);
    let held_id = prepare(&app, &held).await["merchant_prepare_id"]
        .as_i64()
        .unwrap();
    app.ctx.clock.advance(chrono::Duration::seconds(
        app.ctx.config.orders.ttl_seconds as i64 + 60,
    ));
    assert_eq!(prepare(&app, &c.new_prepare(&o4, PRICE)).await["error"], -9);
    // ...but a prepared attempt keeps its order alive: the sweeper leaves it, complete works.
    fotobox_core::orders::expire_due(&app.ctx).await.unwrap();
    assert_eq!(payment(&app, &o5).await.status(), PaymentStatus::Pending);
    assert_eq!(
        prepare(&app, &held).await["merchant_prepare_id"],
        held_id,
        "repeat still answers"
    );
    assert_eq!(
        complete(&app, &held.to_complete(held_id, 0)).await["error"],
        0
    );
    assert_eq!(payment(&app, &o5).await.status(), PaymentStatus::Success);
    assert_eq!(payment(&app, &o4).await.status(), PaymentStatus::Canceled);

    // A Payme order is not a Click "user" → -5.
    let pm = app.order("payme", "strip", 1).await;
    let v = prepare(
        &app,
        &c.new_prepare(pm["order_id"].as_str().unwrap(), PRICE),
    )
    .await;
    assert_eq!(v["error"], -5);
}

#[tokio::test]
async fn complete_rules() {
    let app = TestApp::new().await;
    let c = client();
    let a = click_order(&app).await;
    let b = click_order(&app).await;
    let pa = c.new_prepare(&a, PRICE);
    let pb = c.new_prepare(&b, PRICE);
    let id_a = prepare(&app, &pa).await["merchant_prepare_id"]
        .as_i64()
        .unwrap();
    let id_b = prepare(&app, &pb).await["merchant_prepare_id"]
        .as_i64()
        .unwrap();

    // A's prepare id in B's complete → -6 (⚠6); a prepare id with another click_trans_id → -6.
    assert_eq!(complete(&app, &pb.to_complete(id_a, 0)).await["error"], -6);
    let mut other_trans = pa.to_complete(id_a, 0);
    other_trans.click_trans_id = pb.click_trans_id.clone();
    assert_eq!(complete(&app, &other_trans).await["error"], -6);
    // Unknown order → -5 (before the prepare id).
    let mut nobody = pa.to_complete(id_a, 0);
    nobody.merchant_trans_id = "NOPE-0000".into();
    assert_eq!(complete(&app, &nobody).await["error"], -5);
    assert_eq!(payment(&app, &a).await.status(), PaymentStatus::Pending);
    assert_eq!(payment(&app, &b).await.status(), PaymentStatus::Pending);

    // Complete publishes the status after commit.
    let mut rx = app.ctx.events.subscribe();
    assert_eq!(complete(&app, &pa.to_complete(id_a, 0)).await["error"], 0);
    let ev = rx.try_recv().unwrap();
    assert_eq!(
        (ev.order_id.as_str(), ev.status),
        (a.as_str(), PaymentStatus::Success)
    );
    // Click cancel after success → -4, stays paid; no new status event.
    assert_eq!(
        complete(&app, &pa.to_complete(id_a, -5017)).await["error"],
        -4
    );
    assert_eq!(payment(&app, &a).await.status(), PaymentStatus::Success);
    assert!(rx.try_recv().is_err());

    // Two attempts on one order: Click cancelling one keeps the order for the other.
    let p2 = c.new_prepare(&b, PRICE);
    let id_b2 = prepare(&app, &p2).await["merchant_prepare_id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        complete(&app, &pb.to_complete(id_b, -5017)).await["error"],
        -9
    );
    assert_eq!(payment(&app, &b).await.status(), PaymentStatus::Pending);
    assert_eq!(
        complete(&app, &p2.to_complete(id_b2, -1)).await["error"],
        -9
    );
    let pay = payment(&app, &b).await;
    assert_eq!(
        (pay.status(), pay.cancel_reason.as_deref()),
        (PaymentStatus::Canceled, Some("click:-1"))
    );
    let ev = rx.try_recv().unwrap();
    assert_eq!(
        (ev.order_id.as_str(), ev.status),
        (b.as_str(), PaymentStatus::Canceled)
    );
}

#[tokio::test]
async fn storage_failure_answers_minus_7() {
    let app = TestApp::new().await;
    let o = click_order(&app).await;
    let cb = client().new_prepare(&o, PRICE);
    app.ctx.store.close().await;
    assert_eq!(
        prepare(&app, &cb).await,
        prepare_error(&cb, -7, "Failed to update user")
    );
    // Refusals that need no storage still answer as usual.
    assert_eq!(prepare(&app, &bad_sign(&cb)).await["error"], -1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_completes_leave_one_success() {
    let app = TestApp::new().await;
    let c = client();
    let o = click_order(&app).await;
    let cb = c.new_prepare(&o, PRICE);
    let id = prepare(&app, &cb).await["merchant_prepare_id"]
        .as_i64()
        .unwrap();
    let done = cb.to_complete(id, 0);
    let body = done.to_body(CLICK_SECRET);
    let mut rx = app.ctx.events.subscribe();
    let router = app.callbacks();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let r = router.clone();
            let b = body.clone();
            tokio::spawn(async move { post_body(r, COMPLETE_PATH, b).await.1 })
        })
        .collect();
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap()["error"].as_i64().unwrap());
    }
    codes.sort();
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == -4).count(), 31, "{codes:?}");
    let rows = attempts(&app, &o).await;
    assert_eq!(rows.iter().filter(|r| r.state == "confirmed").count(), 1);
    assert_eq!(payment(&app, &o).await.status(), PaymentStatus::Success);
    assert!(rx.try_recv().is_ok());
    assert!(rx.try_recv().is_err(), "exactly one status event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_attempts_for_one_order_pay_once() {
    // 16 different Click attempts prepared for one order, then all completed at once.
    let app = TestApp::new().await;
    let c = client();
    let o = click_order(&app).await;
    let mut completes = Vec::new();
    for _ in 0..16 {
        let cb = c.new_prepare(&o, PRICE);
        let id = prepare(&app, &cb).await["merchant_prepare_id"]
            .as_i64()
            .unwrap();
        completes.push(cb.to_complete(id, 0).to_body(CLICK_SECRET));
    }
    let router = app.callbacks();
    let tasks: Vec<_> = completes
        .into_iter()
        .map(|b| {
            let r = router.clone();
            tokio::spawn(async move { post_body(r, COMPLETE_PATH, b).await.1 })
        })
        .collect();
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap()["error"].as_i64().unwrap());
    }
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == -4).count(), 15, "{codes:?}");
    let rows = attempts(&app, &o).await;
    assert_eq!(rows.iter().filter(|r| r.state == "confirmed").count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_identical_prepares_share_one_id() {
    let app = TestApp::new().await;
    let o = click_order(&app).await;
    let body = client().new_prepare(&o, PRICE).to_body(CLICK_SECRET);
    let router = app.callbacks();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let r = router.clone();
            let b = body.clone();
            tokio::spawn(async move { post_body(r, PREPARE_PATH, b).await.1 })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        let v = t.await.unwrap();
        assert_eq!(v["error"], 0, "{v}");
        ids.insert(v["merchant_prepare_id"].as_i64().unwrap());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(attempts(&app, &o).await.len(), 1);
}

#[tokio::test]
async fn test_payment_endpoint_pays_a_click_order_through_the_socket() {
    let app = TestApp::new().await;
    let server = app.serve().await;
    let o = click_order(&app).await;
    let mut rx = app.ctx.events.subscribe();
    let (status, body) = common::send(
        app.api(),
        "POST",
        &format!("/api/test-payment/{o}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "success");
    assert_eq!(body["simulated"]["prepare"]["error"], 0);
    assert_eq!(body["simulated"]["complete"]["error"], 0);
    let ev = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (ev.order_id.as_str(), ev.status, ev.amount),
        (
            o.as_str(),
            PaymentStatus::Success,
            fotobox_store::Sum::new(PRICE)
        )
    );
    let pay = payment(&app, &o).await;
    let trans: i64 = pay.transaction_id.as_deref().unwrap().parse().unwrap();
    assert!(trans > 1 << 31, "64-bit click_trans_id");

    // The simulator's error paths over the socket.
    let sim = ClickClient::for_app(&app.ctx).unwrap();
    let o2 = click_order(&app).await;
    let v = sim.pay_and_fail(&o2, PRICE).await.unwrap();
    assert_eq!(
        (
            v["prepare"]["error"].as_i64(),
            v["complete"]["error"].as_i64(),
            v["repeated"]["error"].as_i64()
        ),
        (Some(0), Some(-9), Some(-9))
    );
    assert_eq!(payment(&app, &o2).await.status(), PaymentStatus::Canceled);
    let o3 = click_order(&app).await;
    let v = sim.pay_and_repeat(&o3, PRICE).await.unwrap();
    assert_eq!(
        (
            v["prepare"]["error"].as_i64(),
            v["complete"]["error"].as_i64(),
            v["repeated"]["error"].as_i64()
        ),
        (Some(0), Some(0), Some(-4))
    );
    assert_eq!(payment(&app, &o3).await.status(), PaymentStatus::Success);
    // The simulator refuses to pay again: a paid order's prepare answers -4.
    let (status, _) = common::send(
        app.api(),
        "POST",
        &format!("/api/test-payment/{o3}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Property / fuzz tests over the router.

fn fuzz_runtime() -> (tokio::runtime::Runtime, TestApp, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (app, o) = rt.block_on(async {
        let app = TestApp::new().await;
        let o = click_order(&app).await;
        (app, o)
    });
    (rt, app, o)
}

fn config(cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..Default::default()
    }
}

#[test]
fn fuzz_arbitrary_bodies_are_minus_8_and_store_nothing() {
    use proptest::prelude::*;
    let (rt, app, _o) = fuzz_runtime();
    let before = rt.block_on(counts(&app));
    let strategy = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..600),
        "[a-z_=&%+0-9.-]{0,300}".prop_map(String::into_bytes),
    ];
    let mut runner = proptest::test_runner::TestRunner::new(config(400));
    runner
        .run(&strategy, |body| {
            for path in [PREPARE_PATH, COMPLETE_PATH] {
                let (status, v) = rt.block_on(post_body(app.callbacks(), path, body.clone()));
                prop_assert_eq!(status, StatusCode::OK);
                prop_assert_eq!(v["error"].as_i64(), Some(-8));
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(rt.block_on(counts(&app)), before);
}

#[test]
fn fuzz_tampered_signed_fields_never_pass() {
    use proptest::prelude::*;
    let (rt, app, o) = fuzz_runtime();
    let base = client().new_prepare(&o, PRICE);
    let sig = base.signature(CLICK_SECRET);
    let before = rt.block_on(counts(&app));
    let strategy = (0usize..7, "\\PC{0,24}");
    let mut runner = proptest::test_runner::TestRunner::new(config(300));
    runner
        .run(&strategy, |(field, value)| {
            let mut cb = base.clone();
            cb.sign_string = Some(sig.clone());
            let slot = match field {
                0 => &mut cb.click_trans_id,
                1 => &mut cb.service_id,
                2 => &mut cb.merchant_trans_id,
                3 => &mut cb.amount,
                4 => &mut cb.action,
                5 => &mut cb.sign_time,
                _ => cb.sign_string.as_mut().unwrap(),
            };
            if *slot == value || (field == 6 && value.to_ascii_lowercase() == sig) {
                return Ok(());
            }
            *slot = value;
            let (_, v) = rt.block_on(post_body(
                app.callbacks(),
                PREPARE_PATH,
                cb.to_body(CLICK_SECRET),
            ));
            let code = v["error"].as_i64().unwrap();
            prop_assert!(code == -8 || code == -1, "field {} → {}", field, v);
            Ok(())
        })
        .unwrap();
    assert_eq!(
        rt.block_on(counts(&app)),
        before,
        "tampered requests change nothing"
    );
}

#[test]
fn fuzz_signed_amounts_follow_the_exact_parser() {
    use proptest::prelude::*;
    let (rt, app, o) = fuzz_runtime();
    let strategy = prop_oneof![
        "[0-9]{1,7}(\\.[0-9]{0,4})?",
        "0*20000(\\.0{0,5})?",
        "20000\\.0[0-9]",
        "[0-9.eE+ ,-]{0,10}",
    ];
    let mut runner = proptest::test_runner::TestRunner::new(config(300));
    runner
        .run(&strategy, |amount| {
            let mut cb = client().new_prepare(&o, PRICE);
            cb.amount = amount.clone();
            let (rows0, events0) = rt.block_on(counts(&app));
            let (_, v) = rt.block_on(post_body(
                app.callbacks(),
                PREPARE_PATH,
                cb.to_body(CLICK_SECRET),
            ));
            let (rows1, events1) = rt.block_on(counts(&app));
            let want = match parse_tiyin(&amount) {
                Ok(t) if t == PRICE * 100 => 0,
                Ok(_) | Err(fotobox_core::click::amount::AmountError::Unrepresentable) => -2,
                Err(_) => -8,
            };
            prop_assert_eq!(v["error"].as_i64(), Some(want), "amount {:?}", amount);
            prop_assert_eq!(rows1 - rows0, i64::from(want == 0));
            // Signed requests on a known order are logged; -8 ones are not.
            prop_assert_eq!(events1 - events0, i64::from(want != -8));
            Ok(())
        })
        .unwrap();
}

/// A Click payment prepared but never completed stops holding its order after
/// `click.prepare_timeout_secs`: the sweeper expires the attempt and cancels the order, and a
/// late Complete is answered -9 (click.md §8 rules 6 and 12), so Click returns the money.
#[tokio::test]
async fn a_prepare_without_complete_expires_and_a_late_complete_gets_minus_9() {
    let app = TestApp::new().await;
    let o = app.order("click", "strip", 1).await;
    let id = o["order_id"].as_str().unwrap().to_string();
    let c = client();
    let cb = c.new_prepare(&id, 20_000);
    let answer = fotobox_core::click::process(
        &app.ctx,
        fotobox_core::click::Endpoint::Prepare,
        cb.to_body(CLICK_SECRET).as_bytes(),
    )
    .await;
    assert_eq!(answer["error"], 0, "{answer}");
    let prepare_id = answer["merchant_prepare_id"].as_i64().unwrap();
    // Within the order's waiting time and the prepare timeout: still held.
    app.ctx.clock.advance(chrono::Duration::seconds(700));
    fotobox_core::orders::expire_due(&app.ctx).await.unwrap();
    assert_eq!(payment(&app, &id).await.status, "pending");
    assert_eq!(attempts(&app, &id).await[0].state, "prepared");
    // Past `click.prepare_timeout_secs` (900 s by default).
    app.ctx.clock.advance(chrono::Duration::seconds(300));
    fotobox_core::orders::expire_due(&app.ctx).await.unwrap();
    assert_eq!(attempts(&app, &id).await[0].state, "cancelled");
    let p = payment(&app, &id).await;
    assert_eq!(p.status, "canceled");
    assert_eq!(p.cancel_reason.as_deref(), Some("expired"));
    let answer = fotobox_core::click::process(
        &app.ctx,
        fotobox_core::click::Endpoint::Complete,
        cb.to_complete(prepare_id, 0)
            .to_body(CLICK_SECRET)
            .as_bytes(),
    )
    .await;
    assert_eq!(answer["error"], -9, "{answer}");
    assert_eq!(payment(&app, &id).await.status, "canceled", "never paid");
    let events = app.ctx.store.events_for_payment(p.id).await.unwrap();
    assert!(events.iter().any(|e| e.kind == "click_prepare_expired"));
}
