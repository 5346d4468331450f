//! The daily reconciliation on a seeded day with one order of each exception, plus orders that
//! are in order, a free session and an order of the day before; the panel's page endpoint and the
//! daily summary line; the dashboard's totals at whole-hour and half-hour period bounds.
#![allow(clippy::unwrap_used)]

use crate::common::{send, TestApp, STAFF_TOKEN};

use axum::http::StatusCode;
use chrono::Duration;
use fotobox_core::panel::{self, Actor};
use fotobox_core::reconcile;
use fotobox_store::payments as q;
use serde_json::Value;

async fn order(app: &TestApp, provider: &str) -> (String, i64) {
    let id = app.order(provider, "strip", 1).await["order_id"]
        .as_str()
        .unwrap()
        .to_string();
    let p = app
        .ctx
        .store
        .payment_by_order_id(&id)
        .await
        .unwrap()
        .unwrap();
    (id, p.id)
}

async fn pay(app: &TestApp, id: &str) {
    let p = app
        .ctx
        .store
        .payment_by_order_id(id)
        .await
        .unwrap()
        .unwrap();
    if p.payment_type == "click" {
        fotobox_core::click::simulator::pay_order(&app.ctx, id)
            .await
            .unwrap();
    } else {
        fotobox_core::payme::simulator::pay_order(&app.ctx, id)
            .await
            .unwrap();
    }
}

async fn print(app: &TestApp, pid: i64) {
    let mut tx = app.ctx.store.begin_write().await.unwrap();
    assert!(q::mark_fulfilled(&mut tx, pid, app.ctx.clock.now())
        .await
        .unwrap());
    tx.commit().await.unwrap();
}

/// Payme's SetFiscalData (PERFORM) for the order's transaction, as the store records it.
async fn receipt(app: &TestApp, pid: i64) {
    let t = app
        .ctx
        .store
        .payme_txs_for_payment(pid)
        .await
        .unwrap()
        .pop()
        .unwrap();
    let mut tx = app.ctx.store.begin_write().await.unwrap();
    fotobox_store::payme::insert_fiscal(
        &mut tx,
        &fotobox_store::payme::NewFiscalData {
            payme_id: &t.payme_id,
            kind: "PERFORM",
            receipt_id: Some("77"),
            qr_code_url: Some("https://ofd.soliq.uz/check?t=1"),
            raw_json: "{}".into(),
            ..Default::default()
        },
        app.ctx.clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// The Click fiscalisation job's finished row for the order (Click's receipt link known).
async fn click_receipt(app: &TestApp, pid: i64) {
    sqlx::query(
        "INSERT INTO click_fiscal (payment_id, click_payment_id, state, origin, attempts,
                                   receipt_url, created_at, updated_at)
         VALUES (?, 1, 'done', 'kiosk', 1, 'https://ofd.soliq.uz/check?t=2', ?, ?)",
    )
    .bind(pid)
    .bind(fotobox_store::db_time(app.ctx.clock.now()))
    .bind(fotobox_store::db_time(app.ctx.clock.now()))
    .execute(app.ctx.store.pool())
    .await
    .unwrap();
}

#[tokio::test]
async fn a_seeded_day_lists_one_order_of_each_exception() {
    let app = TestApp::new().await;
    let _server = app.serve().await;

    // In order: Payme paid, printed, fiscalised.
    let (a, a_id) = order(&app, "payme").await;
    pay(&app, &a).await;
    print(&app, a_id).await;
    receipt(&app, a_id).await;
    // Paid, not printed (it has its receipt).
    let (b, b_id) = order(&app, "payme").await;
    pay(&app, &b).await;
    receipt(&app, b_id).await;
    // Paid and printed without a receipt.
    let (c, c_id) = order(&app, "payme").await;
    pay(&app, &c).await;
    print(&app, c_id).await;
    // Printed, never paid (as a broken or edited database would have it).
    let (d, d_id) = order(&app, "click").await;
    sqlx::query("UPDATE payments SET fulfilled_at = updated_at WHERE id = ?")
        .bind(d_id)
        .execute(app.ctx.store.pool())
        .await
        .unwrap();
    // Click paid, printed, refunded by hand: no reversal recorded.
    let (e, e_id) = order(&app, "click").await;
    pay(&app, &e).await;
    print(&app, e_id).await;
    panel::refund(&app.ctx, Actor::Token, &e, "cash given back")
        .await
        .unwrap();
    // Click paid, printed and fiscalised: in order.
    let (g, g_id) = order(&app, "click").await;
    pay(&app, &g).await;
    print(&app, g_id).await;
    click_receipt(&app, g_id).await;
    // A free session, printed.
    let f = panel::comp(&app.ctx, Actor::Token, "strip", 1, "reshoot")
        .await
        .unwrap();
    print(&app, f.id).await;
    // A pending order that expired: not part of the report.
    let _ = order(&app, "payme").await;
    // Yesterday's paid, unprinted order: not today's exception.
    let (h, h_id) = order(&app, "payme").await;
    pay(&app, &h).await;
    sqlx::query("UPDATE payments SET created_at = datetime(created_at, '-1 day') WHERE id = ?")
        .bind(h_id)
        .execute(app.ctx.store.pool())
        .await
        .unwrap();

    let created = app
        .ctx
        .store
        .payment_by_id(a_id)
        .await
        .unwrap()
        .unwrap()
        .created_at;
    let day = created
        .with_timezone(&app.ctx.config.schedule.offset())
        .date_naive();
    let r = reconcile::for_day(&app.ctx, day).await.unwrap();
    let got: Vec<(&str, &str)> = r
        .exceptions
        .iter()
        .map(|x| (x.kind.as_str(), x.order_id.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("paid_not_printed", b.as_str()),
            ("printed_not_paid", d.as_str()),
            ("paid_without_receipt", c.as_str()),
            ("refunded_without_provider", e.as_str()),
        ]
    );
    assert_eq!(
        (r.paid_orders, r.paid_amount),
        (5, 100_000),
        "a, b, c, e, g"
    );
    assert_eq!((r.kept_orders, r.revenue), (4, 80_000));
    assert_eq!(r.printed_orders, 6, "a, c, d, e, g and the free session");
    assert_eq!(r.fiscalised_sales, 3, "a, b and g");
    assert_eq!(r.receipts_tracked_for, ["payme", "click"]);
    assert_eq!(
        (r.refunds, r.refunded_amount, r.staff_refunds),
        (1, 20_000, 1)
    );
    assert_eq!(r.refund_list[0].how, "by_hand");
    assert_eq!((r.free_sessions, r.free_value), (1, 20_000));
    // The revenue is the dashboard's own number for the same period.
    let totals = app
        .ctx
        .store
        .period_totals(r.from, Some(r.to))
        .await
        .unwrap();
    assert_eq!(
        (totals.revenue, totals.success_payments),
        (r.revenue, r.kept_orders)
    );
    assert_eq!(r.paid_orders - r.refunds, r.kept_orders);

    // Yesterday: only h, paid and not printed (Payme, no receipt).
    let y = reconcile::for_day(&app.ctx, day.pred_opt().unwrap())
        .await
        .unwrap();
    let got: Vec<&str> = y.exceptions.iter().map(|x| x.kind.as_str()).collect();
    assert_eq!(got, ["paid_not_printed", "paid_without_receipt"]);
    assert!(y.exceptions.iter().all(|x| x.order_id == h));

    // The panel's page reads the same report.
    let (s, v) = send(
        app.api(),
        "GET",
        &format!("/api/staff/reconciliation?date={day}"),
        None,
        Some(STAFF_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v, serde_json::to_value(&r).unwrap());
    assert_eq!(v["exceptions"][0]["kind"], "paid_not_printed");
    let (s, _) = send(
        app.api(),
        "GET",
        "/api/staff/reconciliation?date=25.11.2026",
        None,
        Some(STAFF_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = send(app.api(), "GET", "/api/staff/reconciliation", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // The daily Telegram summary carries the reconciliation line.
    let text = fotobox_core::maintenance::alerts::daily_summary_text(&app.ctx, r.from, r.to)
        .await
        .unwrap();
    let line = text.lines().nth(1).unwrap();
    assert!(
        line.starts_with(&format!(
            "Reconciliation {day}: 5 paid (100000 sum), 6 printed, 3 fiscalised"
        )),
        "{line}"
    );
    assert!(line.contains("4 exceptions"), "{line}");
    for (id, label) in [
        (&b, "paid, not printed"),
        (&d, "printed, not paid"),
        (&c, "paid, no fiscal receipt"),
        (&e, "refunded by hand"),
    ] {
        assert!(line.contains(label) && line.contains(id.as_str()), "{line}");
    }
}

#[tokio::test]
async fn totals_agree_at_whole_hour_and_half_hour_bounds() {
    let app = TestApp::new().await;
    let _server = app.serve().await;
    let (a, _) = order(&app, "payme").await;
    pay(&app, &a).await;
    let (b, _) = order(&app, "click").await;
    pay(&app, &b).await;
    panel::refund(&app.ctx, Actor::Token, &b, "cash given back")
        .await
        .unwrap();
    panel::comp(&app.ctx, Actor::Token, "strip", 1, "reshoot")
        .await
        .unwrap();
    let now = app.ctx.clock.now();
    let first = app
        .ctx
        .store
        .payment_by_order_id(&a)
        .await
        .unwrap()
        .unwrap()
        .created_at;
    let hour = first
        .date_naive()
        .and_hms_opt(chrono::Timelike::hour(&first), 0, 0)
        .unwrap()
        .and_utc();
    // Rollup (whole hours) and rows (half hours) must count the same orders alike.
    let whole = app
        .ctx
        .store
        .period_totals(hour, Some(hour + Duration::hours(2)))
        .await
        .unwrap();
    let half = app
        .ctx
        .store
        .period_totals(
            hour - Duration::minutes(30),
            Some(hour + Duration::minutes(90)),
        )
        .await
        .unwrap();
    let open = app.ctx.store.period_totals(hour, None).await.unwrap();
    let expect = fotobox_store::PeriodTotals {
        payments: 2,
        success_payments: 1,
        revenue: 20_000,
        refunded_payments: 1,
        refunded_amount: 20_000,
        comp_sessions: 1,
        comp_value: 20_000,
    };
    assert_eq!(whole, expect);
    assert_eq!(half, expect);
    assert_eq!(open, expect);
    // The dashboard's "today" is the same query.
    let st = app.ctx.store.stats(now).await.unwrap();
    assert_eq!(st.today.revenue, 20_000);
    let _: Value = serde_json::to_value(&st).unwrap();
}
