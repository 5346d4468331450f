//! Payme Merchant API conformance: both sandbox scenarios of payme.md §11 request by request,
//! every error code of §9, the order of checks (§2.2), the 12-hour rule (§7), order-level
//! refusals and "no stored change" after a rejected call.
#![allow(clippy::unwrap_used)]

use crate::common;
use crate::payme_support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{send_raw, TestApp};
use fotobox_core::payme::protocol::basic_auth;
use fotobox_store::model::PaymentStatus;
use payme_support::*;
use serde_json::{json, Value};

const ALL_METHODS: &[&str] = &[
    "CheckPerformTransaction",
    "CreateTransaction",
    "PerformTransaction",
    "CancelTransaction",
    "CheckTransaction",
    "GetStatement",
    "SetFiscalData",
    "ChangePassword",
];

fn assert_ms(v: &Value, near: i64) {
    let t = v
        .as_i64()
        .unwrap_or_else(|| panic!("not an integer time: {v}"));
    assert_eq!(t.to_string().len(), 13, "not 13 digits: {t}");
    assert!((t - near).abs() < 60_000, "time {t} far from {near}");
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

/// An app whose `[payme]` table gets extra lines (e.g. `allow_refund = false`).
async fn app_with_payme(lines: &str) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let text =
        common::test_config_toml(dir.path()).replace("[payme]\n", &format!("[payme]\n{lines}\n"));
    let cfg = fotobox_core::Config::from_toml(&text).unwrap();
    let ctx = fotobox_core::AppContext::new(cfg).await.unwrap();
    TestApp { ctx, dir }
}

#[tokio::test]
async fn sandbox_scenario_1_create_then_cancel_unconfirmed() {
    let app = TestApp::new().await;
    let (order, amount) = new_order(&app).await;
    assert_eq!(amount, 2_000_000);
    let id = hex24(0x5305e3bab097f420);

    // 1. Wrong authorization: every method answers -32504, echoing the id.
    let before = snapshot(&app).await;
    let bad_headers = [
        None,
        Some(basic_auth("Paycom", "WRONG_KEY")),
        Some(basic_auth("Login", common::PAYME_TEST_KEY)),
        Some(basic_auth(
            "Paycom",
            &format!("{}x", common::PAYME_TEST_KEY),
        )),
        Some(format!("Bearer {}", common::PAYME_TEST_KEY)),
        Some("Basic %%%".to_string()),
        Some(String::new()),
    ];
    for m in ALL_METHODS {
        for h in &bad_headers {
            let body = json!({"id": 77, "method": m, "params": create_params(&id, now_ms(&app), amount, &order)});
            let v = post_raw(&app, h.as_deref(), body.to_string()).await;
            assert_error(&v, -32504);
            assert_eq!(v["id"], json!(77));
        }
    }
    assert_eq!(snapshot(&app).await, before);

    // 2. Wrong amount: CheckPerform and Create answer -31001; nothing stored.
    for bad in [amount - 100, amount + 1, amount / 100, 1] {
        err(
            &app,
            "CheckPerformTransaction",
            json!({"amount": bad, "account": {"order_id": order}}),
            -31001,
        )
        .await;
        err(
            &app,
            "CreateTransaction",
            create_params(&id, now_ms(&app), bad, &order),
            -31001,
        )
        .await;
    }
    assert_eq!(snapshot(&app).await, before);

    // 3. Unknown account: -31050 with data "order_id".
    for p in [
        json!({"amount": amount, "account": {"order_id": "NOPE-0000"}}),
        json!({"amount": amount, "account": {"order_id": 12345}}),
        json!({"amount": amount, "account": {}}),
        json!({"amount": amount, "account": {"order_id": null}}),
    ] {
        let e = err(&app, "CheckPerformTransaction", p.clone(), -31050).await;
        assert_eq!(e["data"], json!("order_id"));
        let mut cp = p.clone();
        cp["id"] = json!(id);
        cp["time"] = json!(now_ms(&app));
        let e = err(&app, "CreateTransaction", cp, -31050).await;
        assert_eq!(e["data"], json!("order_id"));
    }
    assert_eq!(snapshot(&app).await, before);
    err(&app, "CheckTransaction", json!({"id": id}), -31003).await;

    // 4. CheckPerformTransaction: allow.
    let r = ok(
        &app,
        "CheckPerformTransaction",
        json!({"amount": amount, "account": {"order_id": order}}),
    )
    .await;
    assert_eq!(r, json!({"allow": true}));

    // 5. Create, repeated Create (same answer), CheckTransaction, a second transaction: -31008.
    let t0 = now_ms(&app);
    let created = create(&app, &id, t0, amount, &order).await;
    assert_eq!(keys(&created), ["create_time", "state", "transaction"]);
    assert_ms(&created["create_time"], t0);
    assert!(created["transaction"].is_string());
    assert_eq!(created["state"], json!(1));
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let again = create(&app, &id, t0, amount, &order).await;
    assert_eq!(
        again, created,
        "a repeated Create must return the stored answer"
    );
    let checked = ok(&app, "CheckTransaction", json!({"id": id})).await;
    assert_eq!(
        checked,
        json!({"create_time": created["create_time"], "perform_time": 0, "cancel_time": 0,
               "transaction": created["transaction"], "state": 1, "reason": null})
    );
    let p = payment(&app, &order).await;
    assert_eq!(
        (p.status(), p.state, p.transaction_id.as_deref()),
        (PaymentStatus::Pending, Some(1), Some(id.as_str()))
    );
    let before2 = snapshot(&app).await;
    err(
        &app,
        "CreateTransaction",
        create_params(&hex24(2), now_ms(&app), amount, &order),
        -31008,
    )
    .await;
    err(
        &app,
        "CheckPerformTransaction",
        json!({"amount": amount, "account": {"order_id": order}}),
        -31008,
    )
    .await;
    assert_eq!(snapshot(&app).await, before2);
    err(&app, "CheckTransaction", json!({"id": hex24(2)}), -31003).await;

    // 6. CancelTransaction of the state-1 transaction, twice; CheckTransaction.
    let cancelled = ok(&app, "CancelTransaction", json!({"id": id, "reason": 3})).await;
    assert_eq!(keys(&cancelled), ["cancel_time", "state", "transaction"]);
    assert_eq!(cancelled["state"], json!(-1));
    assert_eq!(cancelled["transaction"], created["transaction"]);
    assert_ms(&cancelled["cancel_time"], now_ms(&app));
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let again = ok(&app, "CancelTransaction", json!({"id": id, "reason": 5})).await;
    assert_eq!(
        again, cancelled,
        "a repeated Cancel must return the stored answer"
    );
    let checked = ok(&app, "CheckTransaction", json!({"id": id})).await;
    assert_eq!(
        checked,
        json!({"create_time": created["create_time"], "perform_time": 0, "cancel_time": cancelled["cancel_time"],
               "transaction": created["transaction"], "state": -1, "reason": 3})
    );
    // The order is released (still pending, no holder) and a Perform of the cancelled one fails.
    let p = payment(&app, &order).await;
    assert_eq!(
        (p.status(), p.state, p.transaction_id.clone()),
        (PaymentStatus::Pending, Some(-1), None)
    );
    err(&app, "PerformTransaction", json!({"id": id}), -31008).await;
    err(
        &app,
        "CreateTransaction",
        create_params(&id, t0, amount, &order),
        -31008,
    )
    .await;
    // Events: one per state change, none for the repeats and refusals.
    let evs = app.ctx.store.events_for_payment(p.id).await.unwrap();
    let kinds: Vec<&str> = evs
        .iter()
        .filter(|e| e.source == "payme")
        .map(|e| e.kind.as_str())
        .collect();
    assert_eq!(kinds, ["CreateTransaction", "CancelTransaction"]);
    let detail: Value =
        serde_json::from_str(evs.last().unwrap().detail_json.as_deref().unwrap()).unwrap();
    assert_eq!(detail["params"], json!({"id": id, "reason": 3}));
    assert_eq!(detail["result"], cancelled);
    // A released order can get a new transaction.
    create(&app, &hex24(3), now_ms(&app), amount, &order).await;
}

#[tokio::test]
async fn sandbox_scenario_2_create_perform_then_cancel_performed() {
    let app = TestApp::new().await;
    let mut events = app.ctx.events.subscribe();
    let (order, amount) = new_order(&app).await;
    let id = "6305e3bab097f420a62ced0b";

    let r = ok(
        &app,
        "CheckPerformTransaction",
        json!({"amount": amount, "account": {"order_id": order}}),
    )
    .await;
    assert_eq!(r, json!({"allow": true}));
    let t0 = now_ms(&app) - 1000;
    let created = create(&app, id, t0, amount, &order).await;
    assert_eq!(create(&app, id, t0, amount, &order).await, created);
    err(
        &app,
        "CreateTransaction",
        create_params(&hex24(9), now_ms(&app), amount, &order),
        -31008,
    )
    .await;
    ok(&app, "CheckTransaction", json!({"id": id})).await;

    // Perform, twice.
    let performed = ok(&app, "PerformTransaction", json!({"id": id})).await;
    assert_eq!(keys(&performed), ["perform_time", "state", "transaction"]);
    assert_eq!(performed["state"], json!(2));
    assert_eq!(performed["transaction"], created["transaction"]);
    assert_ms(&performed["perform_time"], now_ms(&app));
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(
        ok(&app, "PerformTransaction", json!({"id": id})).await,
        performed
    );
    let checked = ok(&app, "CheckTransaction", json!({"id": id})).await;
    assert_eq!(
        checked,
        json!({"create_time": created["create_time"], "perform_time": performed["perform_time"], "cancel_time": 0,
               "transaction": created["transaction"], "state": 2, "reason": null})
    );
    let p = payment(&app, &order).await;
    assert_eq!(p.status(), PaymentStatus::Success);
    assert_eq!(p.transaction_id.as_deref(), Some(id));
    assert_eq!(p.state, Some(2));
    assert!(p.perform_time.is_some());
    let ev = events.try_recv().unwrap();
    assert_eq!(
        (ev.order_id.as_str(), ev.status),
        (order.as_str(), PaymentStatus::Success)
    );
    // A paid order is no longer payable.
    let e = err(
        &app,
        "CheckPerformTransaction",
        json!({"amount": amount, "account": {"order_id": order}}),
        -31051,
    )
    .await;
    assert_eq!(e["data"], json!("order_id"));
    // A new Create for it: the order is held by a performed transaction, -31008 (§4.2 table).
    let e = err(
        &app,
        "CreateTransaction",
        create_params(&hex24(99), now_ms(&app), amount, &order),
        -31008,
    )
    .await;
    assert!(e.get("data").is_none() || e["data"].is_null());

    // Cancel the performed transaction, twice: state -2 (refund allowed, not fulfilled).
    let cancelled = ok(&app, "CancelTransaction", json!({"id": id, "reason": 5})).await;
    assert_eq!(cancelled["state"], json!(-2));
    assert_eq!(cancelled["transaction"], created["transaction"]);
    assert_ms(&cancelled["cancel_time"], now_ms(&app));
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(
        ok(&app, "CancelTransaction", json!({"id": id, "reason": 1})).await,
        cancelled
    );
    let checked = ok(&app, "CheckTransaction", json!({"id": id})).await;
    assert_eq!(
        checked,
        json!({"create_time": created["create_time"], "perform_time": performed["perform_time"],
               "cancel_time": cancelled["cancel_time"], "transaction": created["transaction"], "state": -2, "reason": 5})
    );
    let p = payment(&app, &order).await;
    assert_eq!(p.status(), PaymentStatus::Canceled);
    assert_eq!(p.cancel_reason.as_deref(), Some("payme:5"));
    assert_eq!(p.state, Some(-2));
    let ev = events.try_recv().unwrap();
    assert_eq!(ev.status, PaymentStatus::Canceled);
    assert!(events.try_recv().is_err(), "repeats must not publish");
    err(&app, "PerformTransaction", json!({"id": id}), -31008).await;
    let kinds: Vec<String> = app
        .ctx
        .store
        .events_for_payment(p.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.source == "payme")
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "CreateTransaction",
            "PerformTransaction",
            "CancelTransaction"
        ]
    );
}

#[tokio::test]
async fn protocol_errors_and_order_of_checks() {
    let app = TestApp::new().await;
    let auth = test_auth();
    // -32300: any non-POST method, inside HTTP 200.
    for m in ["GET", "PUT", "DELETE", "PATCH"] {
        let req = Request::builder()
            .method(m)
            .uri(WEBHOOK)
            .header("authorization", &auth)
            .body(Body::empty())
            .unwrap();
        let (status, bytes) = send_raw(app.callbacks(), req).await;
        assert_eq!(status, StatusCode::OK);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_error(&v, -32300);
        assert_eq!(v["id"], Value::Null);
    }
    // -32700 with id null, before auth.
    for body in [
        "",
        "not json",
        "{\"id\": 5, \"method\":",
        "\u{feff}{}",
        "{'id': 1}",
    ] {
        for a in [Some(auth.as_str()), None] {
            let v = post_raw(&app, a, body).await;
            assert_error(&v, -32700);
            assert_eq!(v["id"], Value::Null);
        }
    }
    // Auth comes before envelope validation.
    let v = post_raw(&app, None, r#"{"id": 9, "params": {}}"#).await;
    assert_error(&v, -32504);
    assert_eq!(v["id"], json!(9));
    // The live key is accepted too (rotation), the id may be any JSON value and is echoed.
    let v = post_raw(
        &app,
        Some(&live_auth()),
        r#"{"id": "abc", "method": "GetStatement", "params": {"from": 1, "to": 2}}"#,
    )
    .await;
    assert_eq!(
        v,
        json!({"jsonrpc": "2.0", "id": "abc", "result": {"transactions": []}})
    );
    // -32600: the envelope.
    for body in [
        json!({"id": 1, "params": {}}),
        json!({"id": 1, "method": 5, "params": {}}),
        json!({"id": 1, "method": "CheckTransaction"}),
        json!({"id": 1, "method": "CheckTransaction", "params": []}),
        json!({"id": 1, "method": "CheckTransaction", "params": "x"}),
        json!([1, 2]),
        json!(42),
    ] {
        let v = post_raw(&app, Some(&auth), body.to_string()).await;
        assert_error(&v, -32600);
    }
    // -32601 with the method name as data (ChangePassword too: keys live in config).
    for m in ["Nope", "checkTransaction", "ChangePassword", ""] {
        let v = rpc(&app, m, json!({"password": "x"})).await;
        assert_error(&v, -32601);
        assert_eq!(v["error"]["data"], json!(m));
    }
    // -32600: method-specific params.
    let (order, amount) = new_order(&app).await;
    let before = snapshot(&app).await;
    let cases = [
        (
            "CreateTransaction",
            json!({"time": 1, "amount": amount, "account": {"order_id": order}}),
        ),
        (
            "CreateTransaction",
            json!({"id": 5, "time": now_ms(&app), "amount": amount, "account": {"order_id": order}}),
        ),
        (
            "CreateTransaction",
            json!({"id": "a", "amount": amount, "account": {"order_id": order}}),
        ),
        (
            "CreateTransaction",
            json!({"id": "a", "time": "1", "amount": amount, "account": {"order_id": order}}),
        ),
        (
            "CreateTransaction",
            json!({"id": "a", "time": now_ms(&app), "account": {"order_id": order}}),
        ),
        (
            "CreateTransaction",
            json!({"id": "a", "time": now_ms(&app), "amount": "2000000", "account": {"order_id": order}}),
        ),
        (
            "CreateTransaction",
            json!({"id": "a", "time": now_ms(&app), "amount": amount}),
        ),
        (
            "CreateTransaction",
            json!({"id": "a", "time": now_ms(&app), "amount": amount, "account": "x"}),
        ),
        (
            "CheckPerformTransaction",
            json!({"account": {"order_id": order}}),
        ),
        ("CheckPerformTransaction", json!({"amount": amount})),
        ("PerformTransaction", json!({})),
        ("PerformTransaction", json!({"id": null})),
        ("CancelTransaction", json!({"id": "a"})),
        ("CancelTransaction", json!({"id": "a", "reason": "5"})),
        ("CancelTransaction", json!({"id": "a", "reason": 1.5})),
        ("CheckTransaction", json!({"id": ["a"]})),
        ("GetStatement", json!({"from": 1})),
        ("GetStatement", json!({"to": 1})),
        ("GetStatement", json!({"from": 5, "to": 1})),
        ("GetStatement", json!({"from": -1, "to": 1})),
        ("SetFiscalData", json!({"id": "a", "type": "PERFORM"})),
        (
            "SetFiscalData",
            json!({"id": "a", "type": "OTHER", "fiscal_data": {}}),
        ),
    ];
    for (m, p) in cases {
        err(&app, m, p, -32600).await;
    }
    // -31001 for an amount that is not a positive integer.
    for bad in [
        json!(0),
        json!(-2000000),
        json!(2000000.5),
        json!(1e30),
        json!(u64::MAX),
    ] {
        err(
            &app,
            "CheckPerformTransaction",
            json!({"amount": bad, "account": {"order_id": order}}),
            -31001,
        )
        .await;
    }
    // -31003 for unknown transactions.
    for (m, p) in [
        ("PerformTransaction", json!({"id": hex24(1)})),
        ("CancelTransaction", json!({"id": hex24(1), "reason": 1})),
        ("CheckTransaction", json!({"id": hex24(1)})),
        (
            "SetFiscalData",
            json!({"id": hex24(1), "type": "PERFORM", "fiscal_data": {}}),
        ),
    ] {
        err(&app, m, p, -31003).await;
    }
    assert_eq!(
        snapshot(&app).await,
        before,
        "rejected calls must not change anything"
    );
}

#[tokio::test]
async fn oversized_body_is_refused_with_http_200() {
    let app = TestApp::new().await;
    let big = format!(
        r#"{{"id": 1, "method": "CheckTransaction", "params": {{"id": "{}"}}}}"#,
        "a".repeat(70 * 1024)
    );
    let v = post_raw(&app, Some(&test_auth()), big).await;
    assert_error(&v, -32600);
    assert_eq!(v["id"], Value::Null);
    // Just under the limit is read and answered normally.
    let ok_size = format!(
        r#"{{"id": 1, "method": "GetStatement", "params": {{"from": 1, "to": 2, "pad": "{}"}}}}"#,
        "a".repeat(60 * 1024)
    );
    let v = post_raw(&app, Some(&test_auth()), ok_size).await;
    assert_eq!(v["result"], json!({"transactions": []}));
}

#[tokio::test]
async fn database_down_is_system_error_never_500() {
    let app = TestApp::new().await;
    let (order, amount) = new_order(&app).await;
    app.ctx.store.close().await;
    for (m, p) in [
        (
            "CheckPerformTransaction",
            json!({"amount": amount, "account": {"order_id": order}}),
        ),
        (
            "CreateTransaction",
            create_params(&hex24(1), now_ms(&app), amount, &order),
        ),
        ("PerformTransaction", json!({"id": hex24(1)})),
        ("CancelTransaction", json!({"id": hex24(1), "reason": 1})),
        ("CheckTransaction", json!({"id": hex24(1)})),
        ("GetStatement", json!({"from": 1, "to": 2})),
        (
            "SetFiscalData",
            json!({"id": hex24(1), "type": "PERFORM", "fiscal_data": {}}),
        ),
    ] {
        let v = rpc(&app, m, p).await;
        assert_error(&v, -32400);
    }
}

#[tokio::test]
async fn timeout_boundary_is_twelve_hours_from_payme_time() {
    let app = TestApp::new().await;
    // 12 h - 1 min old: still created and performable.
    let (o1, a1) = new_order(&app).await;
    create(&app, &hex24(1), now_ms(&app) - (H12 - MIN), a1, &o1).await;
    let r = ok(&app, "PerformTransaction", json!({"id": hex24(1)})).await;
    assert_eq!(r["state"], json!(2));

    // 12 h + 1 min old on creation: -31008, nothing stored.
    let (o2, a2) = new_order(&app).await;
    let before = snapshot(&app).await;
    err(
        &app,
        "CreateTransaction",
        create_params(&hex24(2), now_ms(&app) - (H12 + MIN), a2, &o2),
        -31008,
    )
    .await;
    assert_eq!(snapshot(&app).await, before);
    err(&app, "CheckTransaction", json!({"id": hex24(2)}), -31003).await;

    // Created at 12 h - 1 min, touched 2 minutes later: cancelled with reason 4, -31008.
    let t3 = now_ms(&app) - (H12 - MIN);
    let created = create(&app, &hex24(3), t3, a2, &o2).await;
    app.ctx.clock.advance(chrono::Duration::minutes(2));
    err(&app, "PerformTransaction", json!({"id": hex24(3)}), -31008).await;
    let c = ok(&app, "CheckTransaction", json!({"id": hex24(3)})).await;
    assert_eq!(c["state"], json!(-1));
    assert_eq!(c["reason"], json!(4));
    assert_eq!(c["perform_time"], json!(0));
    assert_eq!(c["create_time"], created["create_time"]);
    assert_ms(&c["cancel_time"], now_ms(&app));
    // Stays cancelled; repeats answer -31008 without changing the stored cancel.
    err(&app, "PerformTransaction", json!({"id": hex24(3)}), -31008).await;
    err(
        &app,
        "CreateTransaction",
        create_params(&hex24(3), t3, a2, &o2),
        -31008,
    )
    .await;
    assert_eq!(
        ok(&app, "CheckTransaction", json!({"id": hex24(3)})).await,
        c
    );
    let p = payment(&app, &o2).await;
    assert_eq!(
        (p.status(), p.state, p.transaction_id.clone()),
        (PaymentStatus::Pending, Some(-1), None)
    );

    // A repeated Create on an expired state-1 transaction cancels it too.
    let (o4, a4) = new_order(&app).await;
    let t4 = now_ms(&app) - (H12 - MIN);
    create(&app, &hex24(4), t4, a4, &o4).await;
    app.ctx.clock.advance(chrono::Duration::minutes(2));
    err(
        &app,
        "CreateTransaction",
        create_params(&hex24(4), t4, a4, &o4),
        -31008,
    )
    .await;
    let c = ok(&app, "CheckTransaction", json!({"id": hex24(4)})).await;
    assert_eq!(
        (c["state"].clone(), c["reason"].clone()),
        (json!(-1), json!(4))
    );
}

#[tokio::test]
async fn twelve_minutes_is_not_a_timeout_and_live_tx_outlives_order_expiry() {
    let app = TestApp::new().await;
    let (order, amount) = new_order(&app).await;
    let created = create(&app, &hex24(1), now_ms(&app), amount, &order).await;
    // 13 minutes later the kiosk order (TTL 10 min) is past expiry, but the transaction is live.
    app.ctx.clock.advance(chrono::Duration::minutes(13));
    assert_eq!(
        create(&app, &hex24(1), 1, 1, "x").await,
        created,
        "a repeat ignores the order params"
    );
    assert_eq!(fotobox_core::orders::expire_due(&app.ctx).await.unwrap(), 0);
    let r = ok(&app, "PerformTransaction", json!({"id": hex24(1)})).await;
    assert_eq!(r["state"], json!(2));
    assert_eq!(payment(&app, &order).await.status(), PaymentStatus::Success);
}

#[tokio::test]
async fn expired_or_cancelled_order_is_not_payable() {
    let app = TestApp::new().await;
    let (order, amount) = new_order(&app).await;
    app.ctx.clock.advance(chrono::Duration::minutes(11));
    let before = snapshot(&app).await;
    let e = err(
        &app,
        "CheckPerformTransaction",
        json!({"amount": amount, "account": {"order_id": order}}),
        -31051,
    )
    .await;
    assert_eq!(e["data"], json!("order_id"));
    let e = err(
        &app,
        "CreateTransaction",
        create_params(&hex24(1), now_ms(&app), amount, &order),
        -31051,
    )
    .await;
    assert_eq!(e["data"], json!("order_id"));
    assert_eq!(snapshot(&app).await, before);

    let (o2, a2) = new_order(&app).await;
    fotobox_core::orders::cancel_order(&app.ctx, &o2)
        .await
        .unwrap();
    err(
        &app,
        "CheckPerformTransaction",
        json!({"amount": a2, "account": {"order_id": o2}}),
        -31051,
    )
    .await;
    err(
        &app,
        "CreateTransaction",
        create_params(&hex24(2), now_ms(&app), a2, &o2),
        -31051,
    )
    .await;

    // A Click order is unknown to Payme.
    let c = app.order("click", "strip", 1).await;
    let e = err(
        &app,
        "CheckPerformTransaction",
        json!({"amount": a2, "account": {"order_id": c["order_id"]}}),
        -31050,
    )
    .await;
    assert_eq!(e["data"], json!("order_id"));
}

#[tokio::test]
async fn refund_refused_when_fulfilled_or_disallowed() {
    // Fulfilled (photos handed out): -31007, nothing changes.
    let app = TestApp::new().await;
    let (order, amount) = new_order(&app).await;
    create(&app, &hex24(1), now_ms(&app), amount, &order).await;
    ok(&app, "PerformTransaction", json!({"id": hex24(1)})).await;
    let p = payment(&app, &order).await;
    let mut conn = app.ctx.store.pool().acquire().await.unwrap();
    assert!(
        fotobox_store::payments::mark_fulfilled(&mut conn, p.id, app.ctx.clock.now())
            .await
            .unwrap()
    );
    drop(conn);
    let before = snapshot(&app).await;
    err(
        &app,
        "CancelTransaction",
        json!({"id": hex24(1), "reason": 5}),
        -31007,
    )
    .await;
    assert_eq!(snapshot(&app).await, before);
    assert_eq!(
        ok(&app, "CheckTransaction", json!({"id": hex24(1)})).await["state"],
        json!(2)
    );

    // allow_refund = false: -31007 even before fulfilment; cancelling state 1 still works.
    let app = app_with_payme("allow_refund = false").await;
    let (order, amount) = new_order(&app).await;
    create(&app, &hex24(2), now_ms(&app), amount, &order).await;
    ok(&app, "PerformTransaction", json!({"id": hex24(2)})).await;
    err(
        &app,
        "CancelTransaction",
        json!({"id": hex24(2), "reason": 5}),
        -31007,
    )
    .await;
    assert_eq!(payment(&app, &order).await.status(), PaymentStatus::Success);
    let (o2, a2) = new_order(&app).await;
    create(&app, &hex24(3), now_ms(&app), a2, &o2).await;
    assert_eq!(
        ok(
            &app,
            "CancelTransaction",
            json!({"id": hex24(3), "reason": 2})
        )
        .await["state"],
        json!(-1)
    );
}

#[tokio::test]
async fn live_mode_refuses_the_test_key() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        common::test_config_toml(dir.path()).replace("mode = \"sandbox\"", "mode = \"live\"");
    let cfg = fotobox_core::Config::from_toml(&text).unwrap();
    let app = TestApp {
        ctx: fotobox_core::AppContext::new(cfg).await.unwrap(),
        dir,
    };
    let body = r#"{"id": 1, "method": "GetStatement", "params": {"from": 1, "to": 2}}"#;
    assert_error(&post_raw(&app, Some(&test_auth()), body).await, -32504);
    assert!(post_raw(&app, Some(&live_auth()), body)
        .await
        .get("result")
        .is_some());
}

/// `detail` comes from the shared `[fiscal]` section (units included); `[fiscal]` wins over
/// the old `[payme.fiscal]` alias, which fills only what `[fiscal]` lacks.
#[tokio::test]
async fn fiscal_detail_comes_from_the_fiscal_section() {
    let app = TestApp::with_extra(
        "[fiscal]\nikpu_code = \"10899002001000000\"\nvat_percent = 0\ntitle = \"Foto chop etish, dona\"\nunits = 1\ntin = \"123456789\"\n\
         [payme.fiscal]\nikpu_code = \"10305001001000000\"\npackage_code = \"1512443\"\nvat_percent = 12\n",
    )
    .await;
    let (order, amount) = new_order_copies(&app, 2).await;
    let r = ok(
        &app,
        "CheckPerformTransaction",
        json!({"amount": amount, "account": {"order_id": order}}),
    )
    .await;
    assert_eq!(
        r["detail"],
        json!({"receipt_type": 0, "items": [{
            "title": "Foto chop etish, dona", "price": amount / 2, "count": 2,
            "code": "10899002001000000", "package_code": "1512443", "vat_percent": 0, "units": 1}]})
    );
}

#[tokio::test]
async fn fiscal_detail_and_set_fiscal_data() {
    let app = TestApp::with_extra(
        "[payme.fiscal]\nikpu_code = \"10305001001000000\"\npackage_code = \"1514296\"\nvat_percent = 12\ntitle = \"Фото печать\"\n",
    )
    .await;
    let (order, amount) = new_order_copies(&app, 2).await;
    assert_eq!(amount, 3_000_000);
    let r = ok(
        &app,
        "CheckPerformTransaction",
        json!({"amount": amount, "account": {"order_id": order}}),
    )
    .await;
    assert_eq!(
        r,
        json!({"allow": true, "detail": {"receipt_type": 0, "items": [{
            "title": "Фото печать", "price": 1_500_000, "count": 2, "code": "10305001001000000",
            "package_code": "1514296", "vat_percent": 12}]}})
    );
    // Three copies: 40 000 sum does not divide by 3 in tiyin; one line carries the total.
    let (o3, a3) = new_order_copies(&app, 3).await;
    let r = ok(
        &app,
        "CheckPerformTransaction",
        json!({"amount": a3, "account": {"order_id": o3}}),
    )
    .await;
    assert_eq!(r["detail"]["items"][0]["price"], json!(a3));
    assert_eq!(r["detail"]["items"][0]["count"], json!(1));

    create(&app, &hex24(7), now_ms(&app), amount, &order).await;
    ok(&app, "PerformTransaction", json!({"id": hex24(7)})).await;
    let fd = json!({"receipt_id": 42, "status_code": 0, "message": "accepted", "terminal_id": "EP000000000025",
                    "fiscal_sign": "123456789012", "qr_code_url": "https://ofd.soliq.uz/check?t=1", "date": "20240101120000"});
    let r = ok(
        &app,
        "SetFiscalData",
        json!({"id": hex24(7), "type": "PERFORM", "fiscal_data": fd}),
    )
    .await;
    assert_eq!(r, json!({"success": true}));
    let rows = app.ctx.store.payme_fiscal_for(&hex24(7)).await.unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(
        (
            row.kind.as_str(),
            row.receipt_id.as_deref(),
            row.status_code
        ),
        ("PERFORM", Some("42"), Some(0))
    );
    assert_eq!(row.terminal_id.as_deref(), Some("EP000000000025"));
    assert_eq!(row.fiscal_sign.as_deref(), Some("123456789012"));
    assert_eq!(
        row.qr_code_url.as_deref(),
        Some("https://ofd.soliq.uz/check?t=1")
    );
    assert_eq!(row.fiscal_date.as_deref(), Some("20240101120000"));
    assert_eq!(serde_json::from_str::<Value>(&row.raw_json).unwrap(), fd);
}
