//! The Payme simulator over real sockets: `POST /api/test-payment/{order_id}` pays a Payme order
//! through authenticated HTTP calls to the callback listener, and the client's cancel paths.
#![allow(clippy::unwrap_used)]

use crate::common;
use crate::payme_support;

use std::time::Duration;

use common::TestApp;
use fotobox_core::payme::simulator::{new_payme_id, PaymeClient};
use fotobox_store::model::PaymentStatus;
use payme_support::*;
use serde_json::{json, Value};

#[tokio::test]
async fn test_payment_endpoint_pays_a_payme_order_over_http() {
    let app = TestApp::new().await;
    let server = app.serve().await;
    let mut events = app.ctx.events.subscribe();
    let http = reqwest::Client::new();
    let api = format!("http://{}", server.api_addr);
    let order: Value = http
        .post(format!("{api}/api/generate-qr"))
        .json(&json!({"payment_type": "payme", "template": "strip", "copies": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let order_id = order["order_id"].as_str().unwrap().to_string();

    let resp = http
        .post(format!("{api}/api/test-payment/{order_id}"))
        .header(crate::common::KIOSK_KEY, app.ctx.kiosk_key.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], json!("success"), "{body}");
    let sim = &body["simulated"];
    let payme_id = sim["payme_id"].as_str().unwrap();
    assert_eq!(payme_id.len(), 24);
    assert!(payme_id.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(sim["check_perform"], json!({"allow": true}));
    assert_eq!(sim["create"]["state"], json!(1));
    assert_eq!(sim["perform"]["state"], json!(2));
    assert_eq!(sim["perform"]["transaction"], sim["create"]["transaction"]);

    let ev = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (ev.order_id.as_str(), ev.status),
        (order_id.as_str(), PaymentStatus::Success)
    );
    let p = payment(&app, &order_id).await;
    assert_eq!(p.status(), PaymentStatus::Success);
    assert_eq!(p.transaction_id.as_deref(), Some(payme_id));
    // The stored Payme time is a real ms time (Payme's params.time), not a made-up one.
    let tx = app.ctx.store.payme_tx(payme_id).await.unwrap().unwrap();
    assert!((tx.payme_time_ms - now_ms(&app)).abs() < 60_000);
    // Paying again is refused (the order is paid).
    let resp = http
        .post(format!("{api}/api/test-payment/{order_id}"))
        .header(crate::common::KIOSK_KEY, app.ctx.kiosk_key.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    server.shutdown().await;
}

#[tokio::test]
async fn client_cycle_and_cancel_paths_over_a_real_socket() {
    let app = TestApp::new().await;
    let server = app.serve().await;
    let client = PaymeClient::for_context(&app.ctx).unwrap();
    assert!(client.url().ends_with("/api/payme/webhook"));

    // Created then cancelled (reason 3), cancel repeated.
    let (o1, a1) = new_order(&app).await;
    let id1 = new_payme_id();
    assert_eq!(
        client.check_perform(&o1, a1).await.unwrap(),
        json!({"allow": true})
    );
    let c = client
        .create(&id1, app.ctx.clock.now_ms(), &o1, a1)
        .await
        .unwrap();
    let x = client.cancel(&id1, 3).await.unwrap();
    assert_eq!(x["state"], json!(-1));
    assert_eq!(client.cancel(&id1, 3).await.unwrap(), x);
    let chk = client.check(&id1).await.unwrap();
    assert_eq!(
        (
            chk["state"].clone(),
            chk["reason"].clone(),
            chk["create_time"].clone()
        ),
        (json!(-1), json!(3), c["create_time"].clone())
    );

    // Paid, then refunded (reason 5) while not fulfilled.
    let (o2, a2) = new_order(&app).await;
    let id2 = new_payme_id();
    client
        .create(&id2, app.ctx.clock.now_ms(), &o2, a2)
        .await
        .unwrap();
    client.perform(&id2).await.unwrap();
    let x2 = client.cancel(&id2, 5).await.unwrap();
    assert_eq!(x2["state"], json!(-2));
    assert_eq!(payment(&app, &o2).await.status(), PaymentStatus::Canceled);

    // Errors come back as SimError::Rpc with the code.
    let e = client.perform(&new_payme_id()).await.unwrap_err();
    assert_eq!(e.rpc_code(), Some(-31003));
    let e = client
        .create(&new_payme_id(), app.ctx.clock.now_ms(), &o2, a2)
        .await
        .unwrap_err();
    assert_eq!(e.rpc_code(), Some(-31051));

    // Statement over the socket lists both, ascending.
    let st = client
        .statement(0, app.ctx.clock.now_ms() + 1000)
        .await
        .unwrap();
    let ids: Vec<&str> = st["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id1.as_str(), id2.as_str()]);

    // Wrong key: -32504; GET: -32300 inside HTTP 200.
    let bad = PaymeClient::new(
        fotobox_core::outbound::Outbound::default(),
        &format!("http://{}", server.callback_addr),
        "Paycom",
        "nope",
    );
    assert_eq!(bad.check(&id1).await.unwrap_err().rpc_code(), Some(-32504));
    let resp = reqwest::get(client.url()).await.unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], json!(-32300));
    server.shutdown().await;
}
