//! Payme's fiscal receipts (issue 15): SetFiscalData keeps `receipt_id` whether Payme sends a
//! number or a string, and the receipt's `qr_code_url`, for both PERFORM and CANCEL; a
//! malformed `receipt_id` is refused and changes nothing.
#![allow(clippy::unwrap_used)]

use crate::common::TestApp;
use crate::payme_support::{create, err, hex24, new_order, now_ms, ok, snapshot};

use fotobox_core::payme::protocol::code;
use serde_json::{json, Value};

/// A paid Payme order: (order id, Payme transaction id).
async fn performed(app: &TestApp, n: u64) -> (String, String) {
    let (order, amount) = new_order(app).await;
    let id = hex24(n);
    create(app, &id, now_ms(app), amount, &order).await;
    ok(app, "PerformTransaction", json!({"id": id})).await;
    (order, id)
}

fn fiscal_data(receipt_id: Value, qr: &str) -> Value {
    json!({"receipt_id": receipt_id, "status_code": 0, "message": "accepted",
           "terminal_id": "EP000000000025", "fiscal_sign": "123456789012",
           "qr_code_url": qr, "date": "20261125120000"})
}

#[tokio::test]
async fn set_fiscal_data_keeps_a_string_or_a_number_receipt_id_and_the_qr_link() {
    let app = TestApp::new().await;
    let (_, a) = performed(&app, 71).await;
    let (_, b) = performed(&app, 72).await;

    // A string id (PERFORM), then the CANCEL receipt of the same transaction with a number.
    let qr_a = "https://ofd.soliq.uz/check?t=EP000000000025&r=R-77&c=20261125120000&s=1";
    let r = ok(
        &app,
        "SetFiscalData",
        json!({"id": a, "type": "PERFORM", "fiscal_data": fiscal_data(json!("R-2026-000077"), qr_a)}),
    )
    .await;
    assert_eq!(r, json!({"success": true}));
    let qr_a_cancel = "https://ofd.soliq.uz/check?t=EP000000000025&r=78&c=20261125130000&s=2";
    ok(
        &app,
        "SetFiscalData",
        json!({"id": a, "type": "CANCEL", "fiscal_data": fiscal_data(json!(78), qr_a_cancel)}),
    )
    .await;
    // A number id (PERFORM), a string of digits (CANCEL).
    let qr_b = "https://ofd.soliq.uz/check?t=EP000000000025&r=987654321&s=3";
    ok(
        &app,
        "SetFiscalData",
        json!({"id": b, "type": "PERFORM", "fiscal_data": fiscal_data(json!(987654321u64), qr_b)}),
    )
    .await;
    ok(
        &app,
        "SetFiscalData",
        json!({"id": b, "type": "CANCEL", "fiscal_data": fiscal_data(json!(" 0042 "), qr_b)}),
    )
    .await;

    let rows = |id: String| {
        let app = &app;
        async move {
            app.ctx
                .store
                .payme_fiscal_for(&id)
                .await
                .unwrap()
                .into_iter()
                .map(|r| (r.kind, r.receipt_id, r.qr_code_url))
                .collect::<Vec<_>>()
        }
    };
    let some = |s: &str| Some(s.to_string());
    assert_eq!(
        rows(a.clone()).await,
        [
            ("PERFORM".into(), some("R-2026-000077"), some(qr_a)),
            ("CANCEL".into(), some("78"), some(qr_a_cancel)),
        ]
    );
    assert_eq!(
        rows(b.clone()).await,
        [
            ("PERFORM".into(), some("987654321"), some(qr_b)),
            ("CANCEL".into(), some("0042"), some(qr_b)),
        ]
    );

    // Not an id (an object, a boolean): refused, nothing stored.
    let before = snapshot(&app).await;
    for bad in [json!({"n": 1}), json!(true), json!("x".repeat(101))] {
        err(
            &app,
            "SetFiscalData",
            json!({"id": a, "type": "PERFORM", "fiscal_data": fiscal_data(bad, qr_a)}),
            code::INVALID_REQUEST,
        )
        .await;
    }
    assert_eq!(snapshot(&app).await, before);
    assert_eq!(rows(a).await.len(), 2);
}
