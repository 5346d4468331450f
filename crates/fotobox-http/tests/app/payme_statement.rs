//! GetStatement (payme.md §4.6): inclusive window on Payme's `time`, ascending, cancelled
//! transactions with their reasons, failed attempts absent.
#![allow(clippy::unwrap_used)]

use crate::common;
use crate::payme_support;

use common::TestApp;
use payme_support::*;
use serde_json::json;

#[tokio::test]
async fn statement_window_order_and_content() {
    let app = TestApp::new().await;
    let base = now_ms(&app) - 10 * MIN;
    // Created in a shuffled order of Payme time: t+300, t+100, t+200 (+ one outside each end).
    let (o1, a1) = new_order(&app).await;
    let (o2, a2) = new_order(&app).await;
    let (o3, a3) = new_order(&app).await;
    let (o4, a4) = new_order(&app).await;
    let (o5, a5) = new_order(&app).await;
    let c3 = create(&app, &hex24(3), base + 300, a3, &o3).await;
    let c1 = create(&app, &hex24(1), base + 100, a1, &o1).await;
    let c2 = create(&app, &hex24(2), base + 200, a2, &o2).await;
    create(&app, &hex24(4), base + 99, a4, &o4).await;
    create(&app, &hex24(5), base + 301, a5, &o5).await;
    // 1 performed, 2 cancelled before perform (reason 3), 3 performed then refunded (reason 5).
    let p1 = ok(&app, "PerformTransaction", json!({"id": hex24(1)})).await;
    let x2 = ok(
        &app,
        "CancelTransaction",
        json!({"id": hex24(2), "reason": 3}),
    )
    .await;
    let p3 = ok(&app, "PerformTransaction", json!({"id": hex24(3)})).await;
    let x3 = ok(
        &app,
        "CancelTransaction",
        json!({"id": hex24(3), "reason": 5}),
    )
    .await;
    // Failed attempts leave nothing: a second tx for a held order, a paid order, a wrong amount,
    // an unknown order.
    err(
        &app,
        "CreateTransaction",
        create_params(&hex24(10), base + 150, a4, &o4),
        -31008,
    )
    .await;
    err(
        &app,
        "CreateTransaction",
        create_params(&hex24(11), base + 150, a1, &o1),
        // o1 is held by a performed (state 2) transaction: "another live transaction" (§4.2).
        -31008,
    )
    .await;
    err(
        &app,
        "CreateTransaction",
        create_params(&hex24(12), base + 160, a1 + 100, &o1),
        -31001,
    )
    .await;
    err(
        &app,
        "CreateTransaction",
        create_params(&hex24(13), base + 170, a1, "NOPE"),
        -31050,
    )
    .await;

    let r = ok(
        &app,
        "GetStatement",
        json!({"from": base + 100, "to": base + 300}),
    )
    .await;
    let txs = r["transactions"].as_array().unwrap();
    assert_eq!(
        r["transactions"],
        json!([
            {"id": hex24(1), "time": base + 100, "amount": a1, "account": {"order_id": o1},
             "create_time": c1["create_time"], "perform_time": p1["perform_time"], "cancel_time": 0,
             "transaction": c1["transaction"], "state": 2, "reason": null, "receivers": null},
            {"id": hex24(2), "time": base + 200, "amount": a2, "account": {"order_id": o2},
             "create_time": c2["create_time"], "perform_time": 0, "cancel_time": x2["cancel_time"],
             "transaction": c2["transaction"], "state": -1, "reason": 3, "receivers": null},
            {"id": hex24(3), "time": base + 300, "amount": a3, "account": {"order_id": o3},
             "create_time": c3["create_time"], "perform_time": p3["perform_time"], "cancel_time": x3["cancel_time"],
             "transaction": c3["transaction"], "state": -2, "reason": 5, "receivers": null},
        ])
    );
    assert_eq!(txs.len(), 3);

    // Both bounds inclusive, single point windows, empty windows.
    let ids = |v: serde_json::Value| -> Vec<String> {
        v["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids(ok(
            &app,
            "GetStatement",
            json!({"from": base + 100, "to": base + 100})
        )
        .await),
        [hex24(1)]
    );
    assert_eq!(
        ids(ok(
            &app,
            "GetStatement",
            json!({"from": base + 300, "to": base + 300})
        )
        .await),
        [hex24(3)]
    );
    assert_eq!(
        ids(ok(
            &app,
            "GetStatement",
            json!({"from": base + 99, "to": base + 301})
        )
        .await),
        [hex24(4), hex24(1), hex24(2), hex24(3), hex24(5)]
    );
    assert_eq!(
        ok(
            &app,
            "GetStatement",
            json!({"from": base + 101, "to": base + 199})
        )
        .await,
        json!({"transactions": []})
    );
    assert_eq!(
        ok(&app, "GetStatement", json!({"from": 1, "to": base})).await,
        json!({"transactions": []})
    );
}
