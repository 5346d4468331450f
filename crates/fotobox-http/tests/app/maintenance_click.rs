//! Click Merchant API status fallback against a local fake of that API.
#![allow(clippy::unwrap_used)]

use crate::common;
use crate::maintenance_support;

use std::sync::{Arc, Mutex};

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use axum::{Json, Router};
use fotobox_core::click_api;
use fotobox_store::maintenance as mq;
use maintenance_support::{app, fake_server};
use serde_json::json;

#[derive(Default, Clone)]
struct Seen {
    requests: Arc<Mutex<Vec<(String, HeaderMap)>>>,
}

async fn fake_merchant_api(seen: Seen) -> String {
    let router = Router::new().route(
        "/v2/merchant/payment/status_by_mti/{service_id}/{mti}/{date}",
        get(
            move |uri: Uri,
                  headers: HeaderMap,
                  Path((_s, mti, _d)): Path<(String, String, String)>| {
                let seen = seen.clone();
                async move {
                    seen.requests
                        .lock()
                        .unwrap()
                        .push((uri.path().to_string(), headers));
                    if mti.starts_with("UNKNOWN") {
                        return (
                            StatusCode::OK,
                            Json(json!({"error_code": -5017, "error_note": "Payment not found"})),
                        );
                    }
                    (
                        StatusCode::OK,
                        Json(json!({
                            "error_code": 0, "error_note": "Success", "payment_id": 1_234_567,
                            "merchant_trans_id": mti, "payment_status": 2
                        })),
                    )
                }
            },
        ),
    );
    fake_server(router).await.0
}

/// A kiosk whose `[click.api]` points at `base_url` (the fake above).
async fn app_against(base_url: &str) -> crate::common::TestApp {
    app("", &format!("[click.api]\nbase_url = \"{base_url}\"\n")).await
}

#[tokio::test]
async fn a_pending_click_order_is_checked_with_a_signed_request_and_recorded() {
    let seen = Seen::default();
    let base = fake_merchant_api(seen.clone()).await;
    let t = app_against(&format!("{base}/v2/merchant/")).await;
    let order = t.order("click", "strip", 1).await;
    let order_id = order["order_id"].as_str().unwrap().to_string();

    let before = t.ctx.clock.now().timestamp();
    let (status, body) = common::send(
        t.api(),
        "POST",
        &format!("/api/orders/{order_id}/check-status"),
        None,
        None,
    )
    .await;
    let after = t.ctx.clock.now().timestamp();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["status"], "pending",
        "the answer alone never marks an order paid"
    );
    assert_eq!(body["click_payment_status"], 2);
    assert_eq!(body["paid_at_click_unconfirmed"], true);

    // The request: path and Auth header as click.md section 10 says.
    let requests = seen.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    let (path, headers) = &requests[0];
    let p = t
        .ctx
        .store
        .payment_by_order_id(&order_id)
        .await
        .unwrap()
        .unwrap();
    let day = p
        .created_at
        .with_timezone(&chrono::FixedOffset::east_opt(5 * 3600).unwrap())
        .format("%Y-%m-%d");
    assert_eq!(
        path,
        &format!(
            "/v2/merchant/payment/status_by_mti/{}/{order_id}/{day}",
            common::CLICK_SERVICE_ID
        )
    );
    let auth = headers["auth"].to_str().unwrap();
    let parts: Vec<&str> = auth.split(':').collect();
    assert_eq!(parts.len(), 3, "{auth}");
    assert_eq!(parts[0], common::CLICK_MERCHANT_USER_ID.to_string());
    let ts: i64 = parts[2].parse().unwrap();
    assert_eq!(parts[2].len(), 10);
    assert!((before..=after).contains(&ts));
    assert_eq!(
        auth,
        click_api::auth_header(common::CLICK_MERCHANT_USER_ID, common::CLICK_SECRET, ts)
    );
    assert_eq!(parts[1].len(), 40);
    assert_eq!(headers["accept"], "application/json");

    // Recorded as a provider event, without the secret; the order is unchanged; staff alerted.
    let events = t.ctx.store.events_for_payment(p.id).await.unwrap();
    let ev = events
        .iter()
        .find(|e| e.source == "click" && e.kind == "status_check")
        .expect("event");
    let detail = ev.detail_json.as_deref().unwrap();
    assert!(
        detail.contains("1234567") && !detail.contains(common::CLICK_SECRET),
        "{detail}"
    );
    assert_eq!(p.status, "pending");
    let alerts = mq::list_alerts(t.ctx.store.pool(), true, 10).await.unwrap();
    assert!(alerts
        .iter()
        .any(|a| a.kind == "click_paid_without_callback" && a.message.contains(&order_id)));

    // Asked again at once: throttled.
    let (status, _) = common::send(
        t.api(),
        "POST",
        &format!("/api/orders/{order_id}/check-status"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // A Payme order cannot be checked with Click.
    let payme = t.order("payme", "strip", 1).await;
    let (status, _) = common::send(
        t.api(),
        "POST",
        &format!(
            "/api/orders/{}/check-status",
            payme["order_id"].as_str().unwrap()
        ),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_unknown_payment_is_recorded_without_alert_and_no_credentials_means_no_request() {
    let seen = Seen::default();
    let base = fake_merchant_api(seen.clone()).await;
    let t = app_against(&format!("{base}/v2/merchant")).await;
    let order = t.order("click", "strip", 1).await;
    let order_id = order["order_id"].as_str().unwrap().to_string();
    // Rename the order so the fake answers "not found".
    sqlx::query("UPDATE payments SET order_id = ? WHERE order_id = ?")
        .bind(format!("UNKNOWN-{order_id}"))
        .bind(&order_id)
        .execute(t.ctx.store.pool())
        .await
        .unwrap();
    let r = click_api::check_status(&t.ctx, &format!("UNKNOWN-{order_id}"))
        .await
        .unwrap();
    assert_eq!(r.remote.error_code, Some(-5017));
    assert!(!r.paid_at_click_unconfirmed);
    assert!(mq::list_alerts(t.ctx.store.pool(), true, 10)
        .await
        .unwrap()
        .is_empty());

    let off = app(
        "",
        &format!("[click.api]\nenabled = false\nbase_url = \"{base}/v2/merchant/\"\n"),
    )
    .await;
    let o = off.order("click", "strip", 1).await;
    let e = click_api::check_status(&off.ctx, o["order_id"].as_str().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(e, click_api::ClickApiError::NotConfigured));
    assert_eq!(seen.requests.lock().unwrap().len(), 1);
}

/// A sandbox kiosk never asks Click's own server about an order (the customer's "I have paid" or
/// the background check): only a test server named in `click.api.base_url`.
#[tokio::test]
async fn a_sandbox_kiosk_never_calls_clicks_own_merchant_api() {
    let t = app(
        "",
        "[click.api]\nbase_url = \"https://api.click.uz/v2/merchant/\"\ntimeout_secs = 1\n",
    )
    .await;
    assert!(t.ctx.config.mode.is_sandbox());
    let o = t.order("click", "strip", 1).await;
    let id = o["order_id"].as_str().unwrap();
    let e = click_api::check_status(&t.ctx, id).await.unwrap_err();
    assert!(
        matches!(e, click_api::ClickApiError::SandboxNotAllowed),
        "{e}"
    );
    let p = t.ctx.store.payment_by_order_id(id).await.unwrap().unwrap();
    assert!(mq::last_status_check(t.ctx.store.pool(), p.id)
        .await
        .unwrap()
        .is_none());
}

/// The window's command and a browser asking at the same moment: one check reaches Click, the
/// other is told to wait (the limit is claimed atomically in the domain, shared by both doors).
#[tokio::test]
async fn simultaneous_customer_checks_reach_click_once() {
    let seen = Seen::default();
    let base = fake_merchant_api(seen.clone()).await;
    let t = app_against(&format!("{base}/v2/merchant/")).await;
    let order = t.order("click", "strip", 1).await;
    let id = order["order_id"].as_str().unwrap().to_string();
    let (a, b) = tokio::join!(
        click_api::customer_check(&t.ctx, &id),
        click_api::customer_check(&t.ctx, &id)
    );
    let passed = [a.is_ok(), b.is_ok()].iter().filter(|x| **x).count();
    assert_eq!(passed, 1, "{a:?} {b:?}");
    assert!(matches!(
        a.err().or(b.err()),
        Some(click_api::ClickApiError::TooSoon)
    ));
    assert_eq!(seen.requests.lock().unwrap().len(), 1);
    // Ten seconds later it may ask again.
    t.ctx.clock.advance(chrono::Duration::seconds(11));
    assert!(click_api::customer_check(&t.ctx, &id).await.is_ok());
}
