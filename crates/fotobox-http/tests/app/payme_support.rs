//! Helpers shared by the `payme_*` test files: JSON-RPC calls through the callback router.
#![allow(dead_code, clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use fotobox_core::payme::protocol::basic_auth;
use serde_json::{json, Value};

use crate::common::{send_raw, TestApp, PAYME_KEY, PAYME_TEST_KEY};

pub const WEBHOOK: &str = "/api/payme/webhook";
pub const H12: i64 = 43_200_000;
pub const MIN: i64 = 60_000;

/// The sandbox credentials (TEST_KEY).
pub fn test_auth() -> String {
    basic_auth("Paycom", PAYME_TEST_KEY)
}

pub fn live_auth() -> String {
    basic_auth("Paycom", PAYME_KEY)
}

/// POST a raw body with an optional Authorization header; asserts HTTP 200 and a JSON body.
pub async fn post_raw(app: &TestApp, auth: Option<&str>, body: impl Into<Body>) -> Value {
    let mut req = Request::builder()
        .method("POST")
        .uri(WEBHOOK)
        .header("content-type", "text/json; charset=UTF-8");
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let (status, bytes) = send_raw(app.callbacks(), req.body(body.into()).unwrap()).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
}

static NEXT_ID: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(1000);

/// A full authenticated call; returns the whole answer and checks that `id` is echoed.
pub async fn rpc(app: &TestApp, method: &str, params: Value) -> Value {
    let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let body = json!({"id": id, "method": method, "params": params});
    let v = post_raw(app, Some(&test_auth()), body.to_string()).await;
    assert_eq!(v["id"], json!(id), "id not echoed: {v}");
    v
}

/// The result of a call that must succeed (no `error`).
pub async fn ok(app: &TestApp, method: &str, params: Value) -> Value {
    let v = rpc(app, method, params.clone()).await;
    assert!(v.get("error").is_none(), "{method} {params} failed: {v}");
    v["result"].clone()
}

/// The error of a call that must fail with `code`; checks the localized message.
pub async fn err(app: &TestApp, method: &str, params: Value, code: i64) -> Value {
    let v = rpc(app, method, params.clone()).await;
    assert_error(&v, code);
    assert!(v.get("result").is_none(), "{v}");
    v["error"].clone()
}

/// `v` is an error answer with `code` and a `{ru, uz, en}` message.
pub fn assert_error(v: &Value, code: i64) {
    assert_eq!(v["error"]["code"], json!(code), "expected {code}: {v}");
    for l in ["ru", "uz", "en"] {
        assert!(
            v["error"]["message"][l]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "message.{l} missing: {v}"
        );
    }
}

/// A new kiosk Payme order (strip, 1 copy = 20 000 sum): (order_id, amount in tiyin).
pub async fn new_order(app: &TestApp) -> (String, i64) {
    new_order_copies(app, 1).await
}

pub async fn new_order_copies(app: &TestApp, copies: i64) -> (String, i64) {
    let o = app.order("payme", "strip", copies).await;
    (
        o["order_id"].as_str().unwrap().to_string(),
        o["amount"].as_i64().unwrap() * 100,
    )
}

pub fn now_ms(app: &TestApp) -> i64 {
    app.ctx.clock.now_ms()
}

pub fn create_params(id: &str, time: i64, amount: i64, order_id: &str) -> Value {
    json!({"id": id, "time": time, "amount": amount, "account": {"order_id": order_id}})
}

/// Create a transaction (must succeed); returns the result.
pub async fn create(app: &TestApp, id: &str, time: i64, amount: i64, order_id: &str) -> Value {
    ok(
        app,
        "CreateTransaction",
        create_params(id, time, amount, order_id),
    )
    .await
}

pub fn hex24(n: u64) -> String {
    format!("{n:024x}")
}

/// A snapshot of every stored Payme/payment state (to prove "no stored change").
pub async fn snapshot(app: &TestApp) -> (fotobox_store::payme::PaymeCounts, String) {
    app.ctx.store.payme_snapshot().await.unwrap()
}

pub async fn payment(app: &TestApp, order_id: &str) -> fotobox_store::model::Payment {
    app.ctx
        .store
        .payment_by_order_id(order_id)
        .await
        .unwrap()
        .unwrap()
}
