//! Refunds that return the money: a Click reversal against a local fake of Click's Merchant API
//! (it checks the method, the path and the signed `Auth` header), Click's refusal and the
//! by-hand fallback, the sandbox guard, and the Payme refund window (CancelTransaction of a
//! printed order refused without one, accepted within one, refused again once it expired).
#![allow(clippy::unwrap_used)]

use crate::click_fake::{Call, FakeClick, FakeState};
use crate::common::{self, send, TestApp, STAFF_TOKEN};
use crate::maintenance_support::app;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use fotobox_core::click_api;
use fotobox_core::reconcile;
use fotobox_store::payments as q;
use serde_json::{json, Value};

/// The shared fake of Click's Merchant API (`click_fake`), answering a reversal with `reply`
/// (HTTP status and body) after `delay`.
async fn fake_click(reply: (StatusCode, Value), delay: Duration) -> (String, FakeClick) {
    let fake = FakeClick::with(FakeState {
        reversal: reply,
        reversal_delay: delay,
        ..FakeState::default()
    })
    .await;
    (fake.base.clone(), fake)
}

async fn app_against(base: &str) -> TestApp {
    app(
        "",
        &format!("[click.api]\nbase_url = \"{base}/v2/merchant/\"\n"),
    )
    .await
}

/// An order of `provider` paid through its simulator (the app must be serving).
async fn paid(app: &TestApp, provider: &str) -> String {
    let id = app.order(provider, "strip", 1).await["order_id"]
        .as_str()
        .unwrap()
        .to_string();
    if provider == "click" {
        fotobox_core::click::simulator::pay_order(&app.ctx, &id)
            .await
            .unwrap();
    } else {
        fotobox_core::payme::simulator::pay_order(&app.ctx, &id)
            .await
            .unwrap();
    }
    assert_eq!(payment(app, &id).await.status, "success");
    id
}

async fn payment(app: &TestApp, id: &str) -> fotobox_store::model::Payment {
    app.ctx
        .store
        .payment_by_order_id(id)
        .await
        .unwrap()
        .unwrap()
}

/// Mark the order's prints handed out (as the print queue does).
async fn printed(app: &TestApp, id: &str) {
    let p = payment(app, id).await;
    let mut tx = app.ctx.store.begin_write().await.unwrap();
    assert!(q::mark_fulfilled(&mut tx, p.id, app.ctx.clock.now())
        .await
        .unwrap());
    tx.commit().await.unwrap();
}

async fn provider_refund(app: &TestApp, id: &str, confirm: &str) -> (StatusCode, Value) {
    send(
        app.api(),
        "POST",
        &format!("/api/staff/payments/{id}/provider-refund"),
        Some(json!({"reason": "customer unhappy", "confirm": confirm})),
        Some(STAFF_TOKEN),
    )
    .await
}

fn kinds(d: &Value) -> Vec<String> {
    d["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}/{}",
                e["source"].as_str().unwrap(),
                e["kind"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn a_click_refund_reverses_the_payment_with_a_signed_request_and_records_it() {
    let ok = json!({"error_code": 0, "error_note": "Success"});
    let (base, seen) = fake_click((StatusCode::OK, ok), Duration::ZERO).await;
    let app = app_against(&base).await;
    let _server = app.serve().await;
    let id = paid(&app, "click").await;
    printed(&app, &id).await;
    let paydoc = app
        .ctx
        .store
        .click_transactions_for_payment(payment(&app, &id).await.id)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.state == "confirmed")
        .unwrap()
        .click_paydoc_id;

    // Without the confirmation (the order id again): refused, nothing sent, nothing changed.
    let (s, v) = provider_refund(&app, &id, "yes").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(seen.calls().is_empty());
    assert!(app
        .ctx
        .store
        .provider_refund(payment(&app, &id).await.id)
        .await
        .unwrap()
        .is_none());

    let before = app.ctx.clock.now().timestamp();
    let (s, v) = provider_refund(&app, &id, &id).await;
    let after = app.ctx.clock.now().timestamp();
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "reversed");
    assert_eq!(v["payment"]["status"], "canceled");
    assert_eq!(v["payment"]["cancel_reason"], "staff:refund");
    assert_eq!(v["refund"]["state"], "done");
    assert_eq!(v["refund"]["provider_ref"], paydoc.to_string());

    // One DELETE on Click's reversal path, signed as click.md section 10 says.
    let requests = seen.calls();
    assert_eq!(requests.len(), 1);
    let Call {
        method,
        path,
        headers,
        ..
    } = &requests[0];
    assert_eq!(method, Method::DELETE);
    assert_eq!(
        path,
        &format!(
            "/v2/merchant/payment/reversal/{}/{paydoc}",
            common::CLICK_SERVICE_ID
        )
    );
    assert_eq!(headers["accept"], "application/json");
    let auth = headers["auth"].to_str().unwrap();
    let ts: i64 = auth.rsplit(':').next().unwrap().parse().unwrap();
    assert!((before..=after).contains(&ts), "{auth}");
    assert_eq!(
        auth,
        click_api::auth_header(common::CLICK_MERCHANT_USER_ID, common::CLICK_SECRET, ts)
    );

    // Recorded with the payment: the request, Click's answer, the refund; audited.
    let d = app.staff_payment(&id).await;
    let k = kinds(&d);
    assert_eq!(
        &k[k.len() - 3..],
        [
            "staff/click_reversal_requested",
            "click/reversal",
            "staff/refund"
        ]
    );
    let answer: Value =
        serde_json::from_str(d["events"][k.len() - 2]["detail_json"].as_str().unwrap()).unwrap();
    assert_eq!(answer["response"]["error_code"], 0);
    assert_eq!(answer["http_status"], 200);
    assert_eq!(d["refunded"], true);
    assert_eq!(d["provider_refund"]["state"], "done");
    let audit = d["audit"].as_array().unwrap();
    assert_eq!(audit[0]["action"], "click_reversal");
    assert_eq!(audit[0]["reason"], "customer unhappy");
    assert!(audit[0]["detail_json"]
        .as_str()
        .unwrap()
        .contains("\"outcome\":\"done\""));

    // The revenue no longer counts it; the reconciliation shows a Click reversal, no exception.
    let st = app.ctx.store.stats(app.ctx.clock.now()).await.unwrap();
    assert_eq!((st.total_revenue, st.refunded_payments), (0, 1));
    let r = reconcile::for_day(&app.ctx, reconcile::today(&app.ctx))
        .await
        .unwrap();
    assert_eq!(r.refund_list.len(), 1);
    assert_eq!(r.refund_list[0].how, "click_reversal");
    assert!(r.exceptions.is_empty(), "{:?}", r.exceptions);

    // A second refund: the order is no longer paid; Click is not called again.
    let (s, _) = provider_refund(&app, &id, &id).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(seen.calls().len(), 1);
}

#[tokio::test]
async fn a_click_refusal_keeps_the_order_paid_shows_clicks_reason_and_allows_a_refund_by_hand() {
    let refusal = json!({"error_code": -5017, "error_note": "Reversal is possible only in the current month"});
    let (base, seen) = fake_click((StatusCode::OK, refusal), Duration::ZERO).await;
    let app = app_against(&base).await;
    let _server = app.serve().await;
    let id = paid(&app, "click").await;

    let (s, v) = provider_refund(&app, &id, &id).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "refused");
    assert_eq!(v["payment"]["status"], "success", "nothing was returned");
    assert_eq!(v["refund"]["state"], "refused");
    assert_eq!(v["refund"]["provider_code"], -5017);
    let text = v["instructions"].as_str().unwrap();
    assert!(
        text.contains("-5017") && text.contains("current month"),
        "{text}"
    );
    assert!(text.contains("Mark refunded by hand"), "{text}");
    assert_eq!(seen.calls().len(), 1);
    let d = app.staff_payment(&id).await;
    assert_eq!(d["provider_refund"]["state"], "refused");
    assert!(kinds(&d).contains(&"click/reversal".to_string()));
    assert!(d["audit"][0]["detail_json"]
        .as_str()
        .unwrap()
        .contains("\"outcome\":\"refused\""));

    // The fallback: mark refunded by hand (the existing note-only path, audited).
    let (s, v) = send(
        app.api(),
        "POST",
        &format!("/api/staff/payments/{id}/refund"),
        Some(json!({"reason": "cash given back"})),
        Some(STAFF_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["payment"]["cancel_reason"], "staff:refund");
    // The reconciliation lists it: refunded without Click's reversal.
    let r = reconcile::for_day(&app.ctx, reconcile::today(&app.ctx))
        .await
        .unwrap();
    assert_eq!(r.refund_list[0].how, "by_hand");
    assert_eq!(r.exceptions.len(), 1, "{:?}", r.exceptions);
    assert_eq!(r.exceptions[0].kind.as_str(), "refunded_without_provider");
    assert_eq!(r.exceptions[0].order_id, id);
}

#[tokio::test]
async fn a_reversal_under_way_blocks_a_second_one_and_the_refund_by_hand() {
    let ok = json!({"error_code": 0, "error_note": "Success"});
    let (base, seen) = fake_click((StatusCode::OK, ok), Duration::from_millis(1500)).await;
    let app = app_against(&base).await;
    let _server = app.serve().await;
    let id = paid(&app, "click").await;
    let pid = payment(&app, &id).await.id;

    let (a, i) = (app.api(), id.clone());
    let first = tokio::spawn(async move {
        send(
            a,
            "POST",
            &format!("/api/staff/payments/{i}/provider-refund"),
            Some(json!({"reason": "customer unhappy", "confirm": i})),
            Some(STAFF_TOKEN),
        )
        .await
    });
    // Wait for the claim, then try both other ways.
    for _ in 0..100 {
        if app.ctx.store.provider_refund(pid).await.unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (s, v) = provider_refund(&app, &id, &id).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, v) = send(
        app.api(),
        "POST",
        &format!("/api/staff/payments/{id}/refund"),
        Some(json!({"reason": "cash given back"})),
        Some(STAFF_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["error"].as_str().unwrap().contains("under way"), "{v}");
    let (s, v) = first.await.unwrap();
    assert_eq!(
        (s, v["outcome"].as_str()),
        (StatusCode::OK, Some("reversed"))
    );
    assert_eq!(seen.calls().len(), 1, "Click was called once");
}

#[tokio::test]
async fn without_an_answer_the_outcome_is_unknown_and_a_retry_is_allowed() {
    // Nothing listens on port 9: the call fails before Click could answer.
    let app = app(
        "",
        "[click.api]\nbase_url = \"http://127.0.0.1:9/v2/merchant/\"\ntimeout_secs = 2\n",
    )
    .await;
    let _server = app.serve().await;
    let id = paid(&app, "click").await;
    for attempt in 1..=2 {
        let (s, v) = provider_refund(&app, &id, &id).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["outcome"], "failed");
        assert_eq!(v["payment"]["status"], "success");
        assert_eq!(v["refund"]["attempts"], attempt);
        assert!(
            v["instructions"].as_str().unwrap().contains("unknown"),
            "{v}"
        );
    }
}

#[tokio::test]
async fn sandbox_mode_never_calls_clicks_own_servers() {
    // The test config has Click credentials and the default base URL (api.click.uz).
    let app = TestApp::new().await;
    let _server = app.serve().await;
    let id = paid(&app, "click").await;
    let (s, v) = provider_refund(&app, &id, &id).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["error"].as_str().unwrap().contains("sandbox"), "{v}");
    let p = payment(&app, &id).await;
    assert_eq!(p.status, "success");
    assert!(app.ctx.store.provider_refund(p.id).await.unwrap().is_none());
    assert!(!kinds(&app.staff_payment(&id).await)
        .iter()
        .any(|k| k.contains("reversal")));
}

/// An app whose `[payme]` table gets extra lines.
async fn app_with_payme(lines: &str) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let text =
        common::test_config_toml(dir.path()).replace("[payme]\n", &format!("[payme]\n{lines}\n"));
    let cfg = fotobox_core::Config::from_toml(&text).unwrap();
    let ctx = fotobox_core::AppContext::new(cfg).await.unwrap();
    TestApp { ctx, dir }
}

async fn payme_id(app: &TestApp, id: &str) -> String {
    app.ctx
        .store
        .payme_txs_for_payment(payment(app, id).await.id)
        .await
        .unwrap()
        .pop()
        .unwrap()
        .payme_id
}

/// Payme's CancelTransaction as the cabinet triggers it (reason 5, refund): the error code or 0.
async fn payme_cancel(app: &TestApp, payme_id: &str) -> (i64, Value) {
    let v = fotobox_core::payme::simulator::PaymeClient::for_context(&app.ctx)
        .unwrap()
        .call_raw("CancelTransaction", json!({"id": payme_id, "reason": 5}))
        .await
        .unwrap();
    (v["error"]["code"].as_i64().unwrap_or(0), v)
}

#[tokio::test]
async fn a_payme_cancel_of_a_printed_order_is_accepted_only_within_a_staff_refund_window() {
    let app = app_with_payme("refund_window_hours = 2").await;
    let _server = app.serve().await;
    let id = paid(&app, "payme").await;
    printed(&app, &id).await;
    let pm = payme_id(&app, &id).await;

    // No window: -31007, nothing changes.
    let (code, _) = payme_cancel(&app, &pm).await;
    assert_eq!(code, -31007);
    assert_eq!(payme_tx_state(&app, &pm).await, 2);
    assert_eq!(payment(&app, &id).await.status, "success");

    // Staff open the window: audited, with its expiry and the cabinet instructions.
    let (s, v) = provider_refund(&app, &id, &id).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "window_open");
    assert_eq!(v["payment"]["status"], "success", "nothing returned yet");
    let until =
        chrono::DateTime::parse_from_rfc3339(v["refund"]["window_expires_at"].as_str().unwrap())
            .unwrap();
    let hours = (until.timestamp() - app.ctx.clock.now().timestamp()) as f64 / 3600.0;
    assert!((1.99..=2.0).contains(&hours), "{hours}");
    let text = v["instructions"].as_str().unwrap();
    assert!(
        text.contains("Payme Business") && text.contains(&pm),
        "{text}"
    );
    let d = app.staff_payment(&id).await;
    assert_eq!(d["provider_refund"]["window_open"], true);
    assert_eq!(d["audit"][0]["action"], "payme_refund_window");

    // Within the window: state -2 with Payme's reason; the order is the staff refund.
    let (code, answer) = payme_cancel(&app, &pm).await;
    assert_eq!(code, 0, "{answer}");
    assert_eq!(answer["result"]["state"], -2);
    let tx = app.ctx.store.payme_tx(&pm).await.unwrap().unwrap();
    assert_eq!((tx.state, tx.reason), (-2, Some(5)));
    let p = payment(&app, &id).await;
    assert_eq!(
        (p.status.as_str(), p.cancel_reason.as_deref()),
        ("canceled", Some("staff:refund"))
    );
    assert_eq!(
        app.ctx
            .store
            .provider_refund(p.id)
            .await
            .unwrap()
            .unwrap()
            .state,
        "done"
    );
    // Repeated, Payme gets the stored answer.
    let (code, again) = payme_cancel(&app, &pm).await;
    assert_eq!((code, &again["result"]), (0, &answer["result"]));

    // Out of the revenue, in the reconciliation.
    let st = app.ctx.store.stats(app.ctx.clock.now()).await.unwrap();
    assert_eq!((st.total_revenue, st.refunded_payments), (0, 1));
    let r = reconcile::for_day(&app.ctx, reconcile::today(&app.ctx))
        .await
        .unwrap();
    assert_eq!((r.refunds, r.staff_refunds), (1, 1));
    assert_eq!(r.refund_list[0].how, "payme_cancel");
    assert!(
        !r.exceptions
            .iter()
            .any(|e| e.kind.as_str() == "refunded_without_provider"),
        "{:?}",
        r.exceptions
    );
}

async fn payme_tx_state(app: &TestApp, payme_id: &str) -> i64 {
    app.ctx
        .store
        .payme_tx(payme_id)
        .await
        .unwrap()
        .unwrap()
        .state
}

#[tokio::test]
async fn an_expired_refund_window_refuses_payme_again_until_staff_reopen_it() {
    let app = TestApp::new().await;
    let _server = app.serve().await;
    let id = paid(&app, "payme").await;
    printed(&app, &id).await;
    let pm = payme_id(&app, &id).await;
    let (s, v) = provider_refund(&app, &id, &id).await;
    assert_eq!(
        (s, v["outcome"].as_str()),
        (StatusCode::OK, Some("window_open"))
    );

    // 24 hours by default; a minute later it is closed.
    app.ctx
        .clock
        .advance(chrono::Duration::hours(24) + chrono::Duration::minutes(1));
    let (code, _) = payme_cancel(&app, &pm).await;
    assert_eq!(code, -31007);
    assert_eq!(payme_tx_state(&app, &pm).await, 2);
    assert_eq!(payment(&app, &id).await.status, "success");
    let d = app.staff_payment(&id).await;
    assert_eq!(d["provider_refund"]["window_open"], false);
    assert!(d["provider_refund"]["instructions"]
        .as_str()
        .unwrap()
        .contains("closed"));

    // Reopened: accepted.
    let (s, v) = provider_refund(&app, &id, &id).await;
    assert_eq!(
        (s, v["refund"]["attempts"].as_i64()),
        (StatusCode::OK, Some(2))
    );
    let (code, _) = payme_cancel(&app, &pm).await;
    assert_eq!(code, 0);
    assert_eq!(
        payment(&app, &id).await.cancel_reason.as_deref(),
        Some("staff:refund")
    );
    // Done: no further window.
    let (s, _) = provider_refund(&app, &id, &id).await;
    assert_eq!(s, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_refund_window_length_is_bounded() {
    for bad in ["0", "169"] {
        let dir = tempfile::tempdir().unwrap();
        let text = common::test_config_toml(dir.path()).replace(
            "[payme]\n",
            &format!("[payme]\nrefund_window_hours = {bad}\n"),
        );
        let e = fotobox_core::Config::from_toml(&text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("payme.refund_window_hours"), "{e}");
    }
}
