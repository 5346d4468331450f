//! The Click fiscalisation job (issue 15, click.md 10a) against the local fake of Click's
//! Merchant API (`click_fake`: it checks the `Auth` header and every `submit_items` field): a
//! receipt Click already holds is kept and nothing is submitted; otherwise the items are
//! submitted once (exact tiyin sums and VAT) and the link read back; an answer lost in a crash
//! is looked up after the restart, never submitted again; failures are retried across a restart
//! and the last try alerts staff; a sandbox kiosk without a test server sends nothing.
#![allow(clippy::unwrap_used)]

use crate::click_fake::{receipt_url, FakeClick, Submit};
use crate::common::{self, send, TestApp, STAFF_TOKEN};
use crate::maintenance_support::{app, context};

use std::time::Duration;

use axum::http::{Method, StatusCode};
use chrono::Duration as Span;
use fotobox_core::click_api;
use fotobox_core::fiscal::click_job::{self, MAX_TRIES};
use fotobox_store::click_fiscal::ClickFiscal;
use serde_json::{json, Value};

pub const FISCAL: &str = r#"
[fiscal]
ikpu_code = "10899002001000000"
package_code = "1512443"
vat_percent = 12
title = "Foto chop etish, dona"
units = 1
tin = "123456789"
click_delay_seconds = 600
"#;

fn extra(fake: &FakeClick) -> String {
    format!("{}{FISCAL}", fake.config())
}

/// A Click order of `copies` strips, paid through the simulator (the server is stopped again,
/// so that only the test drives the job): (order id, payment row id, Click payment id).
pub async fn paid_click(app: &TestApp, copies: i64) -> (String, i64, i64) {
    let server = app.serve().await;
    let id = app.order("click", "strip", copies).await["order_id"]
        .as_str()
        .unwrap()
        .to_string();
    fotobox_core::click::simulator::pay_order(&app.ctx, &id)
        .await
        .unwrap();
    // Dropping the server ends its background tasks (they stop when it goes), not the store.
    drop(server);
    let p = app
        .ctx
        .store
        .payment_by_order_id(&id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.status, "success");
    let paydoc = app
        .ctx
        .store
        .click_transactions_for_payment(p.id)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.state == "confirmed")
        .unwrap()
        .click_paydoc_id;
    (id, p.id, paydoc)
}

async fn row(app: &TestApp, pid: i64) -> ClickFiscal {
    app.ctx.store.click_fiscal(pid).await.unwrap().unwrap()
}

/// Stop cleanly and start again on the same data directory; the new clock is moved on by
/// `elapsed`, the time the old one had been moved.
async fn restart(app: TestApp, extra: &str, elapsed: Span) -> TestApp {
    let TestApp { ctx, dir } = app;
    ctx.store.close().await;
    drop(ctx);
    let ctx = context(dir.path(), "", extra).await;
    ctx.clock.advance(elapsed);
    TestApp { ctx, dir }
}

async fn events(app: &TestApp, order: &str) -> Vec<Value> {
    let (s, v) = send(
        app.api(),
        "GET",
        &format!("/api/staff/payments/{order}"),
        None,
        Some(STAFF_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == "click" && e["kind"] == "ofd_data")
        .map(|e| serde_json::from_str(e["detail_json"].as_str().unwrap()).unwrap())
        .collect()
}

fn ofd_get(paydoc: i64) -> String {
    format!(
        "GET /v2/merchant/payment/ofd_data/{}/{paydoc}",
        common::CLICK_SERVICE_ID
    )
}
const SUBMIT: &str = "POST /v2/merchant/payment/ofd_data/submit_items";

#[tokio::test]
async fn a_receipt_click_already_holds_is_kept_and_nothing_is_submitted() {
    let fake = FakeClick::start().await;
    let app = app("", &extra(&fake)).await;
    let (order, pid, paydoc) = paid_click(&app, 1).await;
    fake.hold_receipt(paydoc);

    // Before click_delay_seconds: the sale waits, Click is not asked.
    click_job::tick(&app.ctx).await;
    let r = row(&app, pid).await;
    assert_eq!((r.state.as_str(), r.attempts), ("pending", 0));
    assert_eq!(r.click_payment_id, paydoc);
    assert!(fake.calls().is_empty());

    app.ctx.clock.advance(Span::seconds(601));
    click_job::tick(&app.ctx).await;
    assert_eq!(fake.lines(), [ofd_get(paydoc)]);
    let r = row(&app, pid).await;
    assert_eq!(
        (r.state.as_str(), r.origin.as_deref(), r.attempts),
        ("done", Some("click"), 1)
    );
    assert_eq!(r.receipt_url.as_deref(), Some(receipt_url(paydoc).as_str()));
    assert!(r.next_try_at.is_none());
    let ev = events(&app, &order).await;
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["state"], "done");
    assert_eq!(
        ev[0]["calls"][0]["response"]["qrCodeURL"],
        receipt_url(paydoc)
    );

    // Done is done: a day later nothing is sent.
    app.ctx.clock.advance(Span::hours(24));
    click_job::tick(&app.ctx).await;
    assert_eq!(fake.calls().len(), 1);
}

#[tokio::test]
async fn a_sale_is_submitted_once_with_exact_items_then_its_link_is_read_back() {
    let fake = FakeClick::start().await;
    let app = app("", &extra(&fake)).await;
    // Three strips: 20 000 + 2 × 10 000 = 40 000 sum.
    let (order, pid, paydoc) = paid_click(&app, 3).await;
    app.ctx.clock.advance(Span::seconds(601));
    let before = app.ctx.clock.now().timestamp();
    click_job::tick(&app.ctx).await;
    let after = app.ctx.clock.now().timestamp();

    assert_eq!(
        fake.lines(),
        [ofd_get(paydoc), SUBMIT.into(), ofd_get(paydoc)]
    );
    assert!(fake.problems().is_empty(), "{:?}", fake.problems());
    let line = |good: i64, amount: i64, vat: i64| {
        json!({"Name": "Foto chop etish, dona", "SPIC": "10899002001000000",
               "PackageCode": "1512443", "Units": 1, "GoodPrice": good,
               "Price": good * amount, "Amount": amount, "VAT": vat, "VATPercent": 12,
               "CommissionInfo": {"TIN": "123456789"}})
    };
    assert_eq!(
        fake.posts()[0].body,
        json!({
            "service_id": common::CLICK_SERVICE_ID,
            "payment_id": paydoc,
            "items": [
                // 2 000 000 × 12 / 112 = 214 285.71 → 214 286 (half up).
                line(2_000_000, 1, 214_286),
                line(1_000_000, 2, 214_286),
            ],
            "received_ecash": 0,
            "received_cash": 0,
            "received_card": 4_000_000,
        })
    );
    // Every call signed as click.md section 10 says.
    for c in fake.calls() {
        assert_eq!(c.headers["accept"], "application/json");
        assert_eq!(c.headers["content-type"], "application/json");
        let auth = c.headers["auth"].to_str().unwrap();
        let ts: i64 = auth.rsplit(':').next().unwrap().parse().unwrap();
        assert!((before..=after).contains(&ts), "{auth}");
        assert_eq!(
            auth,
            click_api::auth_header(common::CLICK_MERCHANT_USER_ID, common::CLICK_SECRET, ts)
        );
    }
    assert_eq!(fake.posts()[0].method, Method::POST);

    let r = row(&app, pid).await;
    assert_eq!(
        (r.state.as_str(), r.origin.as_deref(), r.attempts),
        ("done", Some("kiosk"), 1)
    );
    assert_eq!(r.receipt_url.as_deref(), Some(receipt_url(paydoc).as_str()));
    let ev = events(&app, &order).await;
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["calls"][1]["body"]["received_card"], 4_000_000);
    assert_eq!(ev[0]["calls"][1]["response"]["error_code"], 0);

    // The reconciliation counts it as fiscalised.
    let rec = fotobox_core::reconcile::for_day(&app.ctx, fotobox_core::reconcile::today(&app.ctx))
        .await
        .unwrap();
    assert_eq!(rec.fiscalised_sales, 1);
    assert!(rec.receipts_tracked_for.contains(&"click".to_string()));
    assert!(!rec
        .exceptions
        .iter()
        .any(|e| e.kind.as_str() == "paid_without_receipt"));

    app.ctx.clock.advance(Span::hours(24));
    click_job::tick(&app.ctx).await;
    assert_eq!(fake.posts().len(), 1, "submitted once");
}

#[tokio::test]
async fn an_answer_lost_in_a_crash_is_looked_up_after_the_restart_never_submitted_again() {
    let fake = FakeClick::start().await;
    let extra = extra(&fake);
    let app = app("", &extra).await;
    let (order, pid, paydoc) = paid_click(&app, 1).await;
    // Click makes the receipt but answers after the kiosk's 2 s timeout.
    fake.then_submit(Submit::AcceptLate(Duration::from_secs(3)));
    app.ctx.clock.advance(Span::seconds(601));
    click_job::tick(&app.ctx).await;
    assert_eq!(fake.lines(), [ofd_get(paydoc), SUBMIT.into()]);
    let r = row(&app, pid).await;
    assert_eq!((r.state.as_str(), r.attempts), ("submitting", 1));
    assert!(
        r.last_error.as_deref().unwrap().contains("outcome unknown"),
        "{r:?}"
    );

    // The kiosk restarts; the retry looks first and finds the receipt.
    let app = restart(app, &extra, Span::seconds(601)).await;
    click_job::tick(&app.ctx).await;
    assert_eq!(fake.calls().len(), 2, "not due before its backoff");
    app.ctx
        .clock
        .advance(click_job::backoff(1) + Span::seconds(1));
    click_job::tick(&app.ctx).await;
    assert_eq!(
        fake.lines(),
        [ofd_get(paydoc), SUBMIT.into(), ofd_get(paydoc)]
    );
    let r = row(&app, pid).await;
    assert_eq!(
        (r.state.as_str(), r.origin.as_deref(), r.attempts),
        ("done", Some("kiosk"), 2)
    );
    assert_eq!(r.receipt_url.as_deref(), Some(receipt_url(paydoc).as_str()));
    assert_eq!(events(&app, &order).await.len(), 2);
    app.ctx.clock.advance(Span::hours(24));
    click_job::tick(&app.ctx).await;
    assert_eq!(fake.posts().len(), 1, "never submitted twice");
}

#[tokio::test]
async fn failures_are_retried_across_a_restart_and_the_last_try_alerts_staff() {
    let fake = FakeClick::start().await;
    let extra = extra(&fake);
    let app = app("", &extra).await;
    let (order, pid, paydoc) = paid_click(&app, 1).await;

    // Try 1: Click's look-up fails (HTTP 502): nothing is submitted while Click's state is
    // unknown.
    fake.state.lock().unwrap().ofd_get_status = Some(StatusCode::BAD_GATEWAY);
    let mut elapsed = Span::seconds(601);
    app.ctx.clock.advance(elapsed);
    click_job::tick(&app.ctx).await;
    assert_eq!(fake.lines(), [ofd_get(paydoc)]);
    let r = row(&app, pid).await;
    assert_eq!((r.state.as_str(), r.attempts), ("pending", 1));
    assert!(r.last_error.as_deref().unwrap().contains("502"), "{r:?}");

    // A restart; from now on Click refuses the items every time.
    let app = restart(app, &extra, elapsed).await;
    fake.state.lock().unwrap().ofd_get_status = None;
    for _ in 0..MAX_TRIES {
        fake.then_submit(Submit::Reply(
            StatusCode::OK,
            json!({"error_code": -31, "error_note": "Fiscal module unavailable"}),
        ));
    }
    for n in 2..=MAX_TRIES {
        // Not before its backoff.
        let calls = fake.calls().len();
        app.ctx
            .clock
            .advance(click_job::backoff(n - 1) - Span::seconds(5));
        click_job::tick(&app.ctx).await;
        assert_eq!(fake.calls().len(), calls, "try {n} came early");
        app.ctx.clock.advance(Span::seconds(6));
        elapsed = elapsed + click_job::backoff(n - 1) + Span::seconds(1);
        click_job::tick(&app.ctx).await;
        let r = row(&app, pid).await;
        assert_eq!(r.attempts, n);
        assert_eq!(fake.posts().len() as i64, n - 1, "one submission per try");
        if n < MAX_TRIES {
            assert_eq!(r.state, "pending");
            assert!(r.last_error.as_deref().unwrap().contains("-31"), "{r:?}");
        }
    }
    let r = row(&app, pid).await;
    assert_eq!((r.state.as_str(), r.next_try_at), ("failed", None));
    let alerts = fotobox_store::maintenance::list_alerts(app.ctx.store.pool(), true, 50)
        .await
        .unwrap();
    let alert = alerts
        .iter()
        .find(|a| a.kind == "click_receipt_failed")
        .expect("an alert");
    assert!(alert.message.contains(&order), "{}", alert.message);
    assert!(alert.message.contains("Fiscal module unavailable"));
    assert_eq!(alert.severity, "critical");
    assert_eq!(events(&app, &order).await.len() as i64, MAX_TRIES);
    assert!(fake.problems().is_empty(), "{:?}", fake.problems());

    // After the last try nothing more is sent, even a day later.
    let calls = fake.calls().len();
    app.ctx.clock.advance(Span::hours(24));
    click_job::tick(&app.ctx).await;
    assert_eq!(fake.calls().len(), calls);
}

#[tokio::test]
async fn a_sandbox_kiosk_without_a_test_server_sends_nothing() {
    // Click credentials, [fiscal] set, but the default base URL: Click's own servers.
    let app = app("", FISCAL).await;
    assert!(!click_api::allowed_in_mode(&app.ctx));
    assert!(click_job::disabled_reason(&app.ctx)
        .unwrap()
        .contains("sandbox"));
    let (order, pid, _) = paid_click(&app, 1).await;
    app.ctx.clock.advance(Span::hours(2));
    click_job::tick(&app.ctx).await;
    assert!(app.ctx.store.click_fiscal(pid).await.unwrap().is_none());
    assert!(events(&app, &order).await.is_empty());
}
