//! REST API tests through the router (oneshot) and over a real socket: every endpoint, the
//! error cases, the auth split between listeners, expiry and live status events.
#![allow(clippy::unwrap_used)]

use crate::common;

use axum::http::StatusCode;
use common::{send, TestApp, STAFF_TOKEN};
use serde_json::json;

#[tokio::test]
async fn test_endpoint_reports_database_and_count() {
    let app = TestApp::new().await;
    let (s, body) = send(app.api(), "GET", "/api/test", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        body,
        json!({"status": "ok", "database": "SQLite", "payments_count": 0})
    );
    app.order("payme", "strip", 1).await;
    let (_, body) = send(app.api(), "GET", "/api/test", None, None).await;
    assert_eq!(body["payments_count"], 1);
}

#[tokio::test]
async fn generate_qr_prices_from_config() {
    let app = TestApp::new().await;
    let o = app.order("payme", "strip", 3).await;
    assert_eq!(o["amount"], 20000 + 2 * 10000);
    assert_eq!(o["payment_type"], "payme");
    assert_eq!(o["status"], "pending");
    assert_eq!(o["copies"], 3);
    assert_eq!(o["template"], "strip");
    assert!(o["pay_url"]
        .as_str()
        .unwrap()
        .starts_with("https://test.paycom.uz/"));
    assert!(o["qr_svg"].as_str().unwrap().contains("<svg"));
    let order_id = o["order_id"].as_str().unwrap();
    assert_eq!(order_id.len(), 9);
    let expires = chrono::DateTime::parse_from_rfc3339(o["expires_at"].as_str().unwrap()).unwrap();
    let left = expires.with_timezone(&chrono::Utc) - chrono::Utc::now();
    assert!(
        left > chrono::Duration::minutes(9) && left <= chrono::Duration::minutes(10),
        "{left}"
    );

    let c = app.order("click", "postcard", 1).await;
    assert_eq!(c["amount"], 25000);
    let url = c["pay_url"].as_str().unwrap();
    assert!(url.contains("amount=25000.00"), "{url}");
    assert!(url.ends_with(&format!(
        "transaction_param={}",
        c["order_id"].as_str().unwrap()
    )));
}

#[tokio::test]
async fn generate_qr_legacy_amount_in_sandbox() {
    let app = TestApp::new().await;
    let (s, o) = send(
        app.api(),
        "POST",
        "/api/generate-qr",
        Some(json!({"payment_type": "click", "amount": 5000})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{o}");
    assert_eq!(o["amount"], 5000);
    assert_eq!(o["copies"], 1);
    assert!(o["template"].is_null());
}

#[tokio::test]
async fn live_mode_explicit_amount_needs_staff_and_test_payment_is_404() {
    let app = TestApp::with_extra("").await;
    // Build a live-mode context on the same data dir.
    let text =
        common::test_config_toml(app.dir.path()).replace("mode = \"sandbox\"", "mode = \"live\"");
    let cfg = fotobox_core::Config::from_toml(&text).unwrap();
    let ctx = fotobox_core::AppContext::new(cfg).await.unwrap();
    let api = fotobox_http::api_router(ctx.clone());
    let body = json!({"payment_type": "payme", "amount": 5000});
    let (s, e) = send(
        api.clone(),
        "POST",
        "/api/generate-qr",
        Some(body.clone()),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{e}");
    assert_eq!(ctx.store.count_payments().await.unwrap(), 0);
    let (s, o) = send(
        api.clone(),
        "POST",
        "/api/generate-qr",
        Some(body),
        Some(STAFF_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{o}");
    assert!(o["pay_url"]
        .as_str()
        .unwrap()
        .starts_with("https://checkout.paycom.uz/"));
    let path = format!("/api/test-payment/{}", o["order_id"].as_str().unwrap());
    let (s, _) = send(api, "POST", &path, None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn generate_qr_errors_are_readable_and_change_nothing() {
    let app = TestApp::new().await;
    let cases = [
        (
            json!({"payment_type": "paypal", "template": "strip"}),
            "payment_type",
        ),
        (
            json!({"payment_type": "payme", "template": "poster"}),
            "unknown template",
        ),
        (
            json!({"payment_type": "payme", "template": "strip", "copies": 0}),
            "copies",
        ),
        (
            json!({"payment_type": "payme", "template": "strip", "copies": 11}),
            "copies",
        ),
        (json!({"payment_type": "payme", "amount": -5}), "amount"),
        (
            json!({"payment_type": "payme", "amount": 1_000_000_000_000i64}),
            "amount",
        ),
        (json!({"payment_type": "payme"}), "required"),
        (
            json!({"payment_type": "payme", "template": "strip", "amount": 5}),
            "not both",
        ),
        (
            json!({"payment_type": "payme", "template": "strip", "lang": "de"}),
            "lang must be",
        ),
        (json!({"template": "strip"}), "invalid JSON"),
        (
            json!({"payment_type": "payme", "amount": "5000"}),
            "invalid JSON",
        ),
    ];
    for (body, needle) in cases {
        let (s, e) = send(
            app.api(),
            "POST",
            "/api/generate-qr",
            Some(body.clone()),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body} -> {e}");
        let msg = e["error"].as_str().unwrap();
        assert!(msg.contains(needle), "{body} -> {msg}");
    }
    // Not JSON at all.
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/api/generate-qr")
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{not json"))
        .unwrap();
    let (s, body) = common::send_raw(app.api(), req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(v["error"].as_str().unwrap().starts_with("invalid JSON"));
    assert_eq!(app.ctx.store.count_payments().await.unwrap(), 0);
}

/// The previous frontend's body with a field this version does not know still creates an order
/// (it promised to need no change); `lang` opens Payme's page in the customer's language.
#[tokio::test]
async fn generate_qr_ignores_unknown_fields_and_carries_the_language() {
    use base64::Engine as _;
    let app = TestApp::new().await;
    let (s, o) = send(
        app.api(),
        "POST",
        "/api/generate-qr",
        Some(json!({"payment_type": "payme", "amount": 5000, "description": "Photo", "extra": {"a": [1, 2]}})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{o}");
    assert_eq!(app.ctx.store.count_payments().await.unwrap(), 1);
    for (lang, want) in [(None, "l=uz"), (Some("ru"), "l=ru"), (Some("en"), "l=en")] {
        let mut body = json!({"payment_type": "payme", "template": "strip", "copies": 1});
        if let Some(l) = lang {
            body["lang"] = json!(l);
        }
        let (s, o) = send(app.api(), "POST", "/api/generate-qr", Some(body), None).await;
        assert_eq!(s, StatusCode::OK, "{o}");
        let url = o["pay_url"].as_str().unwrap();
        let b64 = url.rsplit_once('/').unwrap().1;
        let params = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        )
        .unwrap();
        assert!(params.split(';').any(|p| p == want), "{lang:?}: {params}");
    }
    // Click documents no language parameter: its link stays as it was.
    let (s, o) = send(
        app.api(),
        "POST",
        "/api/generate-qr",
        Some(json!({"payment_type": "click", "template": "strip", "lang": "ru"})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{o}");
    assert!(!o["pay_url"].as_str().unwrap().contains("lang"));
}

#[tokio::test]
async fn payment_status_and_unknown_order() {
    let app = TestApp::new().await;
    let o = app.order("payme", "grid", 2).await;
    let id = o["order_id"].as_str().unwrap();
    let (s, st) = send(
        app.api(),
        "GET",
        &format!("/api/payment-status/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(st["order_id"], id);
    assert_eq!(st["status"], "pending");
    assert_eq!(st["amount"], 35000);
    assert_eq!(st["payment_type"], "payme");
    let (s, e) = send(
        app.api(),
        "GET",
        "/api/payment-status/NOPE-0000",
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(e["error"], "order NOPE-0000 not found");
}

#[tokio::test]
async fn qr_png_decodes_to_the_pay_url() {
    let app = TestApp::new().await;
    let o = app.order("click", "strip", 1).await;
    let id = o["order_id"].as_str().unwrap();
    let req = axum::http::Request::builder()
        .uri(format!("/api/qr/{id}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let (s, png) = common::send_raw(app.api(), req).await;
    assert_eq!(s, StatusCode::OK);
    let img = image::load_from_memory(&png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, o["pay_url"].as_str().unwrap());
}

#[tokio::test]
async fn customer_cancel_is_idempotent_and_published() {
    let app = TestApp::new().await;
    let mut rx = app.ctx.events.subscribe();
    let o = app.order("payme", "strip", 1).await;
    let id = o["order_id"].as_str().unwrap();
    let path = format!("/api/orders/{id}/cancel");
    let (s, st) = send(app.api(), "POST", &path, None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(st["status"], "canceled");
    assert_eq!(st["cancel_reason"], "customer");
    let ev = tokio::time::timeout(std::time::Duration::from_millis(100), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ev.order_id, id);
    assert_eq!(ev.status, fotobox_store::model::PaymentStatus::Canceled);
    let (s, st) = send(app.api(), "POST", &path, None, None).await;
    assert_eq!(s, StatusCode::OK, "cancelling twice is fine");
    assert_eq!(st["status"], "canceled");
    let (s, _) = send(
        app.api(),
        "POST",
        "/api/orders/NOPE-0000/cancel",
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn paid_order_is_never_cancelled_by_the_kiosk() {
    let app = TestApp::new().await;
    let o = app.order("payme", "strip", 1).await;
    let id = o["order_id"].as_str().unwrap();
    let p = app
        .ctx
        .store
        .payment_by_order_id(id)
        .await
        .unwrap()
        .unwrap();
    let mut c = app.ctx.store.pool().acquire().await.unwrap();
    fotobox_store::payments::mark_success(&mut c, p.id, "x", Some(2), chrono::Utc::now())
        .await
        .unwrap();
    drop(c);
    let (s, e) = send(
        app.api(),
        "POST",
        &format!("/api/orders/{id}/cancel"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(e["error"].as_str().unwrap().contains("paid"));
    let st = app
        .ctx
        .store
        .payment_by_order_id(id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(st.status, "success");
}

#[tokio::test]
async fn unpaid_orders_expire() {
    let app = TestApp::new().await;
    let mut rx = app.ctx.events.subscribe();
    let a = app.order("payme", "strip", 1).await;
    let b = app.order("click", "strip", 1).await;
    app.ctx.clock.advance(chrono::Duration::minutes(9));
    assert_eq!(fotobox_core::orders::expire_due(&app.ctx).await.unwrap(), 0);
    app.ctx.clock.advance(chrono::Duration::minutes(2));
    // Status read expires lazily...
    let (_, st) = send(
        app.api(),
        "GET",
        &format!("/api/payment-status/{}", a["order_id"].as_str().unwrap()),
        None,
        None,
    )
    .await;
    assert_eq!(st["status"], "canceled");
    assert_eq!(st["cancel_reason"], "expired");
    // ...and the sweeper catches the rest.
    assert_eq!(fotobox_core::orders::expire_due(&app.ctx).await.unwrap(), 1);
    let pb = app
        .ctx
        .store
        .payment_by_order_id(b["order_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pb.status, "canceled");
    let mut seen = vec![
        rx.recv().await.unwrap().order_id,
        rx.recv().await.unwrap().order_id,
    ];
    seen.sort();
    let mut want = vec![
        a["order_id"].as_str().unwrap().to_string(),
        b["order_id"].as_str().unwrap().to_string(),
    ];
    want.sort();
    assert_eq!(seen, want);
}

#[tokio::test]
async fn staff_endpoints_need_the_token() {
    let app = TestApp::new().await;
    for path in ["/api/payments", "/api/payments/1", "/api/stats"] {
        let (s, e) = send(app.api(), "GET", path, None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(e["error"], "missing or wrong staff token");
        let (s, _) = send(app.api(), "GET", path, None, Some("wrong-token")).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{path}");
    }
}

#[tokio::test]
async fn payments_list_paging_filters_and_errors() {
    let app = TestApp::new().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let o = app
            .order(if i % 2 == 0 { "payme" } else { "click" }, "strip", 1)
            .await;
        ids.push(o["order_id"].as_str().unwrap().to_string());
    }
    fotobox_core::orders::cancel_order(&app.ctx, &ids[0])
        .await
        .unwrap();
    let (s, l) = send(app.api(), "GET", "/api/payments", None, Some(STAFF_TOKEN)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(l["total"], 5);
    assert_eq!(l["limit"], 100);
    assert_eq!(l["offset"], 0);
    let got: Vec<&str> = l["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["order_id"].as_str().unwrap())
        .collect();
    let mut newest_first = ids.iter().map(String::as_str).collect::<Vec<_>>();
    newest_first.reverse();
    assert_eq!(got, newest_first);

    let (_, l) = send(
        app.api(),
        "GET",
        "/api/payments?limit=2&offset=1",
        None,
        Some(STAFF_TOKEN),
    )
    .await;
    let got: Vec<&str> = l["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["order_id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [ids[3].as_str(), ids[2].as_str()]);
    let (_, l) = send(
        app.api(),
        "GET",
        "/api/payments?status=canceled",
        None,
        Some(STAFF_TOKEN),
    )
    .await;
    assert_eq!(l["total"], 1);
    assert_eq!(l["payments"][0]["order_id"], ids[0]);
    let (_, l) = send(
        app.api(),
        "GET",
        "/api/payments?payment_type=click",
        None,
        Some(STAFF_TOKEN),
    )
    .await;
    assert_eq!(l["total"], 2);

    for bad in [
        "limit=-1",
        "limit=100000",
        "limit=abc",
        "offset=-3",
        "status=paid",
        "payment_type=visa",
        "from=yesterday",
    ] {
        let (s, e) = send(
            app.api(),
            "GET",
            &format!("/api/payments?{bad}"),
            None,
            Some(STAFF_TOKEN),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {e}");
        assert!(e["error"].is_string());
    }
}

#[tokio::test]
async fn payment_detail_by_id_or_order_id_with_events() {
    let app = TestApp::new().await;
    let o = app.order("payme", "strip", 1).await;
    let id = o["order_id"].as_str().unwrap();
    fotobox_core::orders::cancel_order(&app.ctx, id)
        .await
        .unwrap();
    for key in [id.to_string(), "1".to_string()] {
        let (s, d) = send(
            app.api(),
            "GET",
            &format!("/api/payments/{key}"),
            None,
            Some(STAFF_TOKEN),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(d["order_id"], id);
        let kinds: Vec<&str> = d["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["create", "cancel"]);
        assert_eq!(d["photos"], json!([]));
    }
    let (s, _) = send(
        app.api(),
        "GET",
        "/api/payments/999",
        None,
        Some(STAFF_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn stats_match_the_rows() {
    let app = TestApp::new().await;
    let a = app.order("payme", "strip", 1).await;
    let b = app.order("click", "postcard", 2).await;
    app.order("click", "strip", 1).await;
    fotobox_core::orders::cancel_order(&app.ctx, a["order_id"].as_str().unwrap())
        .await
        .unwrap();
    let p = app
        .ctx
        .store
        .payment_by_order_id(b["order_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut c = app.ctx.store.pool().acquire().await.unwrap();
    fotobox_store::payments::mark_success(&mut c, p.id, "t1", None, chrono::Utc::now())
        .await
        .unwrap();
    drop(c);
    let (s, st) = send(app.api(), "GET", "/api/stats", None, Some(STAFF_TOKEN)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(st["total_payments"], 3);
    assert_eq!(st["success_payments"], 1);
    assert_eq!(st["pending_payments"], 1);
    assert_eq!(st["canceled_payments"], 1);
    assert_eq!(st["total_revenue"], 35000);
    assert_eq!(st["success_rate"], 0.5);
    assert_eq!(st["today"]["revenue"], 35000);
    assert_eq!(
        st["by_provider"],
        json!([
            {"payment_type": "click", "payments": 2, "success_payments": 1, "revenue": 35000},
            {"payment_type": "payme", "payments": 1, "success_payments": 0, "revenue": 0},
        ])
    );
    assert_eq!(st["per_day"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn listeners_are_split_over_real_sockets() {
    let app = TestApp::new().await;
    let server = app.serve().await;
    let http = reqwest::Client::new();
    let api = format!("http://{}", server.api_addr);
    let cb = format!("http://{}", server.callback_addr);
    // Both answer healthz.
    for base in [&api, &cb] {
        let r = http.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<serde_json::Value>().await.unwrap()["status"], "ok");
    }
    // The callback listener serves none of the API.
    for path in [
        "/api/payments",
        "/api/test",
        "/api/stats",
        "/api/generate-qr",
    ] {
        let r = http
            .get(format!("{cb}{path}"))
            .bearer_auth(STAFF_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path} on the callback listener");
    }
    let r = http
        .get(format!("{api}/api/payments"))
        .bearer_auth(STAFF_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .get(format!("{api}/api/payments"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Oversized bodies are refused.
    let big = format!(
        "{{\"payment_type\":\"payme\",\"template\":\"{}\"}}",
        "x".repeat(100_000)
    );
    let r = http
        .post(format!("{api}/api/generate-qr"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert!(r.status() == 413 || r.status() == 400, "{}", r.status());
    assert_eq!(app.ctx.store.count_payments().await.unwrap(), 0);
    server.shutdown().await;
    assert!(
        http.get(format!("{api}/healthz")).send().await.is_err(),
        "stopped"
    );
}

#[tokio::test]
async fn a_second_server_on_the_same_database_is_refused() {
    let app = TestApp::new().await;
    let server = app.serve().await;
    let e = fotobox_http::server::start(app.ctx.clone())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("another Fotobox server"), "{e}");
    server.shutdown().await;
}

#[tokio::test]
async fn the_api_listener_serves_the_ui_and_the_callback_listener_does_not() {
    let app = TestApp::new().await;
    let req = |uri: &str| {
        axum::http::Request::builder()
            .uri(uri)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let (s, body) = common::send_raw(app.api(), req("/")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("<html"));
    let (s, _) = common::send_raw(app.api(), req("/index.html")).await;
    assert_eq!(s, StatusCode::OK);
    for bad in ["/api/nope", "/../Cargo.toml", "/nope.html"] {
        let (s, _) = common::send_raw(app.api(), req(bad)).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{bad}");
    }
    let (s, _) = common::send_raw(app.callbacks(), req("/")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn shutdown_ends_open_event_streams_and_finishes_in_flight_requests() {
    let app = TestApp::new().await;
    let server = app.serve().await;
    let api = format!("http://{}", server.api_addr);
    let http = reqwest::Client::new();
    // A browser kiosk holding the server-sent event stream open.
    let mut sse = http
        .get(format!("{api}/api/events"))
        .header(common::KIOSK_KEY, app.ctx.kiosk_key.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), 200);
    // A request in flight while shutdown starts still gets its answer.
    let in_flight = {
        let http = http.clone();
        let api = api.clone();
        tokio::spawn(async move {
            http.post(format!("{api}/api/generate-qr"))
                .json(
                    &serde_json::json!({"payment_type": "payme", "template": "strip", "copies": 1}),
                )
                .send()
                .await
        })
    };
    tokio::task::yield_now().await;
    let started = std::time::Instant::now();
    server.shutdown().await;
    // Well inside the 10 s grace period: the stream ended instead of being waited out.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "shutdown took {:?}",
        started.elapsed()
    );
    // The event stream ends (no more chunks) rather than hanging.
    let end = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Ok(Some(_)) = sse.chunk().await {}
    })
    .await;
    assert!(end.is_ok(), "the event stream did not end");
    if let Ok(r) = in_flight.await.unwrap() {
        assert_eq!(
            r.status(),
            200,
            "an accepted request is answered, not dropped"
        );
    }
}
