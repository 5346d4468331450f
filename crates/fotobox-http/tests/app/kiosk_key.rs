//! The per-boot kiosk key: the endpoints that take an order id and the event stream refuse a
//! caller without it (a web page elsewhere that learnt an order id, a rebinding page), accept
//! the page the API listener served and staff tools, and refuse before any work is done.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use crate::common::{send, send_raw, TestApp, KIOSK_KEY, STAFF_TOKEN};

/// Every guarded endpoint, with a made-up order id: (method, path).
const GUARDED: &[(&str, &str)] = &[
    ("POST", "/api/orders/ZZZZ-ZZZZ/cancel"),
    ("POST", "/api/orders/ZZZZ-ZZZZ/check-status"),
    ("POST", "/api/test-payment/ZZZZ-ZZZZ"),
    ("POST", "/api/kiosk/orders/ZZZZ-ZZZZ/shots/0"),
    ("POST", "/api/kiosk/orders/ZZZZ-ZZZZ/compose"),
    ("GET", "/api/kiosk/orders/ZZZZ-ZZZZ/preview"),
    ("POST", "/api/kiosk/orders/ZZZZ-ZZZZ/print"),
    ("GET", "/api/kiosk/orders/ZZZZ-ZZZZ/print"),
    ("POST", "/api/kiosk/staff-call"),
    ("GET", "/api/events"),
    ("GET", "/api/kiosk/layouts/postcard/shots/0/overlay"),
    // An unknown layout: the guard answers before any work (a sample takes seconds in a debug build).
    ("GET", "/api/kiosk/layouts/nope/sample"),
];

fn request(method: &str, path: &str, header: Option<(&str, String)>) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(path);
    if let Some((k, v)) = header {
        b = b.header(k, v);
    }
    let body = if path.ends_with("staff-call") {
        b = b.header("content-type", "application/json");
        Body::from(r#"{"reason":"help"}"#)
    } else {
        Body::empty()
    };
    b.body(body).unwrap()
}

/// Status of one request; the event stream answers 200 with a body that never ends, so only
/// the head is waited for.
async fn status_of(router: axum::Router, req: Request<Body>) -> StatusCode {
    tokio::time::timeout(Duration::from_secs(5), router.oneshot(req))
        .await
        .expect("answered")
        .unwrap()
        .status()
}

#[tokio::test]
async fn order_endpoints_refuse_a_caller_without_the_kiosk_key() {
    let app = TestApp::new().await;
    let key = app.ctx.kiosk_key.expose().to_string();
    for (method, path) in GUARDED {
        let none = status_of(app.api_without_key(), request(method, path, None)).await;
        assert_eq!(
            none,
            StatusCode::UNAUTHORIZED,
            "{method} {path} without a key"
        );
        // The key with its last hex digit changed (never equal to the key itself).
        let last = if key.ends_with('0') { '1' } else { '0' };
        let wrong = format!("{}{last}", &key[..key.len() - 1]);
        let bad = status_of(
            app.api_without_key(),
            request(method, path, Some((KIOSK_KEY, wrong))),
        )
        .await;
        assert_eq!(bad, StatusCode::UNAUTHORIZED, "{method} {path} wrong key");
        // The staff token is no kiosk key, and the kiosk key is no staff token.
        let as_bearer = status_of(
            app.api_without_key(),
            request(
                method,
                path,
                Some(("authorization", format!("Bearer {key}"))),
            ),
        )
        .await;
        assert_eq!(as_bearer, StatusCode::UNAUTHORIZED, "{method} {path}");

        for header in [
            (KIOSK_KEY, key.clone()),
            ("authorization", format!("Bearer {STAFF_TOKEN}")),
        ] {
            let s = status_of(app.api_without_key(), request(method, path, Some(header))).await;
            assert_ne!(
                s,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with a credential"
            );
            assert_ne!(s, StatusCode::FORBIDDEN, "{method} {path}");
        }
    }
    let (s, text) = send_raw(
        app.api(),
        Request::get("/metrics")
            .header("authorization", format!("Bearer {STAFF_TOKEN}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("fotobox_auth_failures_total{provider=\"kiosk_key\"}"),
        "refusals are counted: {text}"
    );
}

/// The attack: a page that learnt an order id cancels the customer's paid order, reads its
/// photo or its internet-reachable download link. Refused, and the order is untouched.
#[tokio::test]
async fn a_known_order_id_alone_reads_and_changes_nothing() {
    let app = TestApp::new().await;
    let order = app.order("click", "strip", 1).await;
    let id = order["order_id"].as_str().unwrap();
    let (s, body) = send(
        app.api_without_key(),
        "POST",
        &format!("/api/orders/{id}/cancel"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("kiosk key"),
        "{body}"
    );
    let p = app
        .ctx
        .store
        .payment_by_order_id(id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.status, "pending", "not cancelled");
    for path in [
        format!("/api/kiosk/orders/{id}/preview"),
        format!("/api/kiosk/orders/{id}/print"),
    ] {
        let (s, _) = send(app.api_without_key(), "GET", &path, None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{path}");
    }
    // The page itself may.
    let (s, body) = send(
        app.api(),
        "POST",
        &format!("/api/orders/{id}/cancel"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

/// A refused upload costs a header comparison: the body (which never ends here) is not read.
#[tokio::test]
async fn an_upload_without_the_key_is_refused_before_its_body() {
    let app = TestApp::new().await;
    let (_tx, rx) = tokio::sync::mpsc::channel::<Result<axum::body::Bytes, std::io::Error>>(1);
    let req = Request::post("/api/kiosk/orders/ZZZZ-ZZZZ/shots/0")
        .header("content-type", "image/jpeg")
        .body(Body::from_stream(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        ))
        .unwrap();
    assert_eq!(
        status_of(app.api_without_key(), req).await,
        StatusCode::UNAUTHORIZED
    );
}

/// The page the API listener serves carries this boot's key, is never cached and cannot be
/// framed; the next boot has another key, and the old one opens nothing.
#[tokio::test]
async fn the_served_page_carries_a_fresh_key_every_boot() {
    let app = TestApp::new().await;
    let resp = app
        .api_without_key()
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.headers()["x-frame-options"], "DENY");
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    let page = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let page = String::from_utf8(page.to_vec()).unwrap();
    let key = app.ctx.kiosk_key.expose();
    assert_eq!(key.len(), 64);
    assert!(
        page.contains(&format!(
            r#"<meta name="fotobox-kiosk-key" content="{key}">"#
        )),
        "the page carries the key"
    );
    // Another file (the staff panel) does not.
    let (_, staff) = send_raw(
        app.api_without_key(),
        Request::get("/staff.html").body(Body::empty()).unwrap(),
    )
    .await;
    assert!(!String::from_utf8_lossy(&staff).contains(key));

    let next = TestApp::new().await;
    assert_ne!(next.ctx.kiosk_key.expose(), key, "a new key every boot");
    let old = status_of(
        next.api_without_key(),
        request(
            "POST",
            "/api/orders/ZZZZ-ZZZZ/cancel",
            Some((KIOSK_KEY, key.to_string())),
        ),
    )
    .await;
    assert_eq!(
        old,
        StatusCode::UNAUTHORIZED,
        "the old boot's key opens nothing"
    );
    assert!(!format!("{:?}", app.ctx).contains(key), "never in Debug");
}

/// In live mode the sandbox payment endpoint does not exist, with or without a key.
#[tokio::test]
async fn live_mode_has_no_test_payment_even_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let text = crate::common::test_config_toml(dir.path())
        .replace("mode = \"sandbox\"", "mode = \"live\"");
    let cfg = fotobox_core::config::Config::from_toml(&text).unwrap();
    let Ok(ctx) = fotobox_core::AppContext::new(cfg).await else {
        panic!("live test config starts");
    };
    for header in [None, Some((KIOSK_KEY, ctx.kiosk_key.expose().to_string()))] {
        let s = status_of(
            fotobox_http::api_router(ctx.clone()),
            request("POST", "/api/test-payment/ZZZZ-ZZZZ", header),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
}
