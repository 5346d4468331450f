//! An order's fiscal receipt as staff and the customer see it (issue 15): the receipt in the
//! panel's payment detail (Payme and Click), the dashboard's count of paid sales without one,
//! the thank-you screen's `receipt_url`, and the staff alert for a sale still without a receipt
//! an hour after payment (raised once per order, resolved when the receipt arrives).
#![allow(clippy::unwrap_used)]

use crate::click_fake::{receipt_url, FakeClick};
use crate::common::{send, TestApp, STAFF_TOKEN};
use crate::fiscal_click::{paid_click, FISCAL};
use crate::maintenance_support::app;
use crate::payme_support::ok;
use crate::photos_support::shot;

use axum::http::StatusCode;
use chrono::Duration as Span;
use fotobox_core::fiscal::{click_job, receipts};
use fotobox_store::maintenance::{list_alerts, AlertRow};
use serde_json::{json, Value};

async fn without_receipt(app: &TestApp) -> i64 {
    let (s, v) = send(
        app.api(),
        "GET",
        "/api/staff/stats",
        None,
        Some(STAFF_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["paid_without_receipt"].as_i64().unwrap()
}

async fn missing_alerts(app: &TestApp) -> Vec<AlertRow> {
    list_alerts(app.ctx.store.pool(), false, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.kind == "receipt_missing")
        .collect()
}

/// A composed Payme postcard, paid through the simulator: (order id, Payme transaction id).
async fn paid_payme_postcard(app: &TestApp) -> (String, String) {
    let server = app.serve().await;
    let id = app.order("payme", "postcard", 1).await["order_id"]
        .as_str()
        .unwrap()
        .to_string();
    fotobox_core::payme::simulator::pay_order(&app.ctx, &id)
        .await
        .unwrap();
    // Dropping the server ends its background tasks (they stop when it goes), not the store.
    drop(server);
    fotobox_core::kiosk::save_shot(&app.ctx, &id, 0, shot(640, 360, [200, 40, 40]))
        .await
        .unwrap();
    fotobox_core::kiosk::compose(&app.ctx, &id).await.unwrap();
    let pid = app
        .ctx
        .store
        .payment_by_order_id(&id)
        .await
        .unwrap()
        .unwrap()
        .id;
    let payme_id = app
        .ctx
        .store
        .payme_txs_for_payment(pid)
        .await
        .unwrap()
        .pop()
        .unwrap()
        .payme_id;
    (id, payme_id)
}

/// `GET /p/{token}` as the customer's phone asks for it (HTML).
async fn copy_page(app: &TestApp, path: &str) -> (axum::http::HeaderMap, String) {
    let req = axum::http::Request::get(path)
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(app.callbacks(), req)
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let headers = resp.headers().clone();
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    (headers, String::from_utf8(body.to_vec()).unwrap())
}

/// The digital-copy link is a page: the photo, a download button and, once Payme has sent it,
/// the fiscal receipt's link and QR; before that, a line saying it is on its way. A client that
/// does not ask for HTML still gets the JPEG, as from the previous version.
#[tokio::test]
async fn the_customers_copy_page_shows_the_photo_and_then_the_receipt() {
    let app = app("", FISCAL).await;
    let (order, payme_id) = paid_payme_postcard(&app).await;
    let path = fotobox_core::photos::photo_status(&app.ctx, &order)
        .await
        .unwrap()
        .unwrap()
        .download_path
        .unwrap();
    let (h, page) = copy_page(&app, &path).await;
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script"),
        "{csp}"
    );
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert!(page.contains(&format!("{path}/photo.jpg")), "{page}");
    assert!(page.contains(&format!("{path}/download")));
    assert!(page.contains("receipt-pending"));
    assert!(!page.contains("<script"));

    let qr = "https://ofd.soliq.uz/check?t=EP000000000025&r=R-9&c=20261125120000&s=7";
    ok(
        &app,
        "SetFiscalData",
        json!({"id": payme_id, "type": "PERFORM", "fiscal_data": {
            "receipt_id": 9, "status_code": 0, "qr_code_url": qr,
            "terminal_id": "EP000000000025", "fiscal_sign": "1", "date": "20261125120000"}}),
    )
    .await;
    let (_, page) = copy_page(&app, &path).await;
    assert!(!page.contains("receipt-pending"));
    assert!(page.contains(&qr.replace('&', "&amp;")), "{page}");
    assert!(page.contains("<svg"), "the receipt's QR");

    // The photo, the download, and the JPEG for a client that does not ask for HTML.
    let composite = std::fs::read(
        fotobox_core::photos::photo_status(&app.ctx, &order)
            .await
            .unwrap()
            .unwrap()
            .composite_path,
    )
    .unwrap();
    for (uri, disposition) in [
        (format!("{path}/photo.jpg"), "inline"),
        (format!("{path}/download"), "attachment"),
        (path.clone(), "inline"),
    ] {
        let req = axum::http::Request::get(&uri)
            .body(axum::body::Body::empty())
            .unwrap();
        let resp = tower::ServiceExt::oneshot(app.callbacks(), req)
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{uri}");
        assert_eq!(resp.headers()["content-type"], "image/jpeg");
        let d = resp.headers()["content-disposition"].to_str().unwrap();
        assert!(d.starts_with(disposition) && d.contains(&order), "{d}");
        let body = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        assert_eq!(body.as_ref(), composite.as_slice(), "{uri}");
    }
    // A wrong token is a plain 404 on every form of the address.
    let wrong = format!("/p/{}", "A".repeat(43));
    for uri in [
        wrong.clone(),
        format!("{wrong}/photo.jpg"),
        format!("{wrong}/download"),
    ] {
        let req = axum::http::Request::get(&uri)
            .header("accept", "text/html")
            .body(axum::body::Body::empty())
            .unwrap();
        let resp = tower::ServiceExt::oneshot(app.callbacks(), req)
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{uri}");
    }
}

#[tokio::test]
async fn a_payme_sale_without_a_receipt_alerts_once_after_an_hour_until_the_receipt_arrives() {
    let app = app("", FISCAL).await;
    let (order, payme_id) = paid_payme_postcard(&app).await;

    // Waiting for Payme's SetFiscalData: shown as such, counted, nothing for the customer.
    let d = app.staff_payment(&order).await;
    assert_eq!(d["receipt"]["provider"], "payme");
    assert_eq!(d["receipt"]["state"], "waiting");
    assert_eq!(d["receipt"]["url"], Value::Null);
    assert_eq!(without_receipt(&app).await, 1);
    let progress = fotobox_core::kiosk::print_status(&app.ctx, &order)
        .await
        .unwrap();
    assert_eq!(progress.receipt_url, None);

    // Not within the hour.
    app.ctx.clock.advance(Span::minutes(59));
    receipts::missing_tick(&app.ctx).await;
    assert!(missing_alerts(&app).await.is_empty());
    // After it: one alert naming the order, however often the check runs.
    app.ctx.clock.advance(Span::minutes(2));
    receipts::missing_tick(&app.ctx).await;
    receipts::missing_tick(&app.ctx).await;
    let alerts = missing_alerts(&app).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].occurrences, 1);
    assert_eq!(alerts[0].dedup_key, format!("receipt_missing:{order}"));
    assert!(alerts[0].message.contains(&order), "{}", alerts[0].message);
    assert!(alerts[0].resolved_at.is_none());

    // Payme's receipt arrives: issued, its link everywhere, the alert resolved.
    let qr = "https://ofd.soliq.uz/check?t=EP000000000025&r=R-9&c=20261125120000&s=7";
    ok(
        &app,
        "SetFiscalData",
        json!({"id": payme_id, "type": "PERFORM", "fiscal_data": {
            "receipt_id": "R-9", "status_code": 0, "qr_code_url": qr,
            "terminal_id": "EP000000000025", "fiscal_sign": "1", "date": "20261125120000"}}),
    )
    .await;
    let d = app.staff_payment(&order).await;
    assert_eq!(d["receipt"]["state"], "issued");
    assert_eq!(d["receipt"]["url"], qr);
    assert!(d["receipt"]["updated_at"].is_string());
    assert_eq!(without_receipt(&app).await, 0);
    let progress = fotobox_core::kiosk::print_status(&app.ctx, &order)
        .await
        .unwrap();
    assert_eq!(progress.receipt_url.as_deref(), Some(qr));
    assert!(progress.receipt_qr_svg.unwrap().contains("<svg"));
    receipts::missing_tick(&app.ctx).await;
    let alerts = missing_alerts(&app).await;
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].resolved_at.is_some());
    // Once per order: never raised again.
    app.ctx.clock.advance(Span::hours(3));
    receipts::missing_tick(&app.ctx).await;
    assert_eq!(missing_alerts(&app).await.len(), 1);
}

#[tokio::test]
async fn a_click_sale_shows_its_receipt_state_and_its_done_receipt_resolves_the_alert() {
    let fake = FakeClick::start().await;
    // A long delay: the hour passes before the first look at Click.
    let extra = format!(
        "{}{}",
        fake.config(),
        FISCAL.replace("click_delay_seconds = 600", "click_delay_seconds = 7200")
    );
    let app = app("", &extra).await;
    let (order, pid, paydoc) = paid_click(&app, 2).await;
    click_job::tick(&app.ctx).await;
    let d = app.staff_payment(&order).await;
    assert_eq!(
        (&d["receipt"]["provider"], &d["receipt"]["state"]),
        (&json!("click"), &json!("waiting"))
    );
    assert_eq!(without_receipt(&app).await, 1);

    app.ctx.clock.advance(Span::minutes(61));
    click_job::tick(&app.ctx).await;
    receipts::missing_tick(&app.ctx).await;
    let alerts = missing_alerts(&app).await;
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].message.contains(&order));

    // The job submits and reads the link back: submitted, with the link; the alert resolved.
    app.ctx.clock.advance(Span::minutes(60));
    click_job::tick(&app.ctx).await;
    let r = app.ctx.store.click_fiscal(pid).await.unwrap().unwrap();
    assert_eq!(r.state, "done");
    let d = app.staff_payment(&order).await;
    assert_eq!(d["receipt"]["state"], "submitted");
    assert_eq!(d["receipt"]["url"], receipt_url(paydoc));
    assert_eq!(without_receipt(&app).await, 0);
    assert!(missing_alerts(&app).await[0].resolved_at.is_some());
}

#[tokio::test]
async fn orders_that_took_no_money_have_no_receipt() {
    let app = app("", FISCAL).await;
    let id = app.order("payme", "strip", 1).await["order_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.staff_payment(&id).await["receipt"], Value::Null);
    assert_eq!(without_receipt(&app).await, 0);
    app.ctx.clock.advance(Span::hours(2));
    receipts::missing_tick(&app.ctx).await;
    assert!(missing_alerts(&app).await.is_empty());
}
