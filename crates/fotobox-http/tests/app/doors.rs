//! The doors, attacked: each test replays an attack of the hardening issue and checks that it
//! is refused, changes nothing and leaves the kiosk working.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use crate::common::{self, send, send_raw, TestApp, CLICK_SECRET, CLICK_SERVICE_ID};
use fotobox_core::click::simulator::ClickClient;
use fotobox_core::outbound::Outbound;

/// `send_raw` with the answer as JSON (`Null` when it is not JSON).
async fn send_req(router: axum::Router, req: Request<Body>) -> (StatusCode, serde_json::Value) {
    let (s, bytes) = send_raw(router, req).await;
    (s, serde_json::from_slice(&bytes).unwrap_or_default())
}

async fn event_count(app: &TestApp) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM payment_events")
        .fetch_one(app.ctx.store.pool())
        .await
        .unwrap();
    n
}

/// The quadratic-parser attack: ~16,000 distinct keys in a 64 KiB body. Refused as `-8`
/// without a row written (the parser stops at 32 fields).
#[tokio::test]
async fn a_click_body_of_thousands_of_fields_is_refused_and_stores_nothing() {
    let app = TestApp::new().await;
    let order = app.order("click", "strip", 1).await;
    let before = event_count(&app).await;
    let mut body = format!(
        "merchant_trans_id={}&service_id={CLICK_SERVICE_ID}",
        order["order_id"].as_str().unwrap()
    );
    let mut i = 0u32;
    while body.len() < 60 * 1024 {
        body.push_str(&format!("&{:x}=", 0x100 + i));
        i += 1;
    }
    let req = Request::post("/api/click/prepare")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let (s, answer) = send_req(app.callbacks(), req).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(answer["error"], -8, "{answer}");
    assert_eq!(event_count(&app).await, before, "nothing stored");
}

/// A flood on the callback listener is shed (503 at once) instead of queued: with every slot
/// taken by a request whose body never arrives, the next one is refused immediately.
#[tokio::test]
async fn the_callback_listener_sheds_load_beyond_its_limit() {
    let app = TestApp::new().await;
    let router = fotobox_http::callback_router_limited(app.ctx.clone(), 1);
    let (_tx, rx) = tokio::sync::mpsc::channel::<Result<axum::body::Bytes, std::io::Error>>(1);
    let stalled = Request::post("/api/click/prepare")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from_stream(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        ))
        .unwrap();
    let held = tokio::spawn(router.clone().oneshot(stalled));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let next = Request::get("/healthz").body(Body::empty()).unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(2), router.clone().oneshot(next))
        .await
        .expect("answered at once, not queued")
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    held.abort();
    let _ = held.await;
    // The slot is free again.
    let again = Request::get("/healthz").body(Body::empty()).unwrap();
    assert_eq!(
        router.oneshot(again).await.unwrap().status(),
        StatusCode::OK
    );
}

/// DNS rebinding: a page on `evil.example` resolved to 127.0.0.1 sends its own Host.
#[tokio::test]
async fn requests_for_another_host_name_are_refused() {
    let app = TestApp::new().await;
    let order = app.order("payme", "strip", 1).await;
    let id = order["order_id"].as_str().unwrap();
    for (method, path) in [
        ("GET", "/api/events".to_string()),
        ("GET", format!("/api/payment-status/{id}")),
        ("POST", format!("/api/orders/{id}/cancel")),
    ] {
        let req = Request::builder()
            .method(method)
            .uri(&path)
            .header("host", "evil.example:5000")
            .body(Body::empty())
            .unwrap();
        let (s, body) = send_req(app.api(), req).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{method} {path}: {body}");
    }
    let p = app
        .ctx
        .store
        .payment_by_order_id(id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.status, "pending", "the order was not cancelled");
    // The loopback name and the configured address pass.
    let ok = Request::get(format!("/api/payment-status/{id}"))
        .header("host", "127.0.0.1:5000")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send_raw(app.api(), ok).await.0, StatusCode::OK);
}

/// `fetch('http://127.0.0.1:5000/api/orders/ID/cancel', {method: 'POST', mode: 'no-cors'})`
/// from any web page.
#[tokio::test]
async fn cross_site_writes_are_refused_and_change_nothing() {
    let app = TestApp::new().await;
    let order = app.order("payme", "strip", 1).await;
    let id = order["order_id"].as_str().unwrap();
    for (name, value) in [
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let req = Request::post(format!("/api/orders/{id}/cancel"))
            .header("host", "127.0.0.1:5000")
            .header(name, value)
            .body(Body::empty())
            .unwrap();
        let (s, body) = send_req(app.api(), req).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{name}: {value}: {body}");
        assert_eq!(body["error"], "cross-site requests are refused");
    }
    let p = app
        .ctx
        .store
        .payment_by_order_id(id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.status, "pending");
    // The kiosk page's own origin may.
    let own = Request::post(format!("/api/orders/{id}/cancel"))
        .header("host", "127.0.0.1:5000")
        .header("origin", "http://127.0.0.1:5000")
        .header("sec-fetch-site", "same-origin")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send_raw(app.api(), own).await.0, StatusCode::OK);
}

/// A short configured staff token is refused at start, naming the key.
#[tokio::test]
async fn a_short_staff_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = common::test_config_toml(dir.path()).replace(common::STAFF_TOKEN, "short-token-123");
    let e = fotobox_core::Config::from_toml(&text).unwrap_err();
    assert!(e.to_string().contains("server.staff_token"), "{e}");
}

#[cfg(unix)]
#[tokio::test]
async fn the_generated_token_file_is_private_and_a_readable_one_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let text = common::test_config_toml(dir.path())
        .replace(&format!("staff_token = \"{}\"", common::STAFF_TOKEN), "");
    let cfg = fotobox_core::Config::from_toml(&text).unwrap();
    let ctx = fotobox_core::AppContext::new(cfg.clone()).await.unwrap();
    let path = dir.path().join("staff_token");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(ctx.staff_token.expose().len() >= 24);
    let token = ctx.staff_token.expose().to_string();
    ctx.store.close().await;
    drop(ctx);
    // The same token on the next start.
    let again = fotobox_core::AppContext::new(cfg.clone()).await.unwrap();
    assert_eq!(again.staff_token.expose(), token);
    again.store.close().await;
    drop(again);
    // Readable by others: the start is refused with a line naming the file.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = fotobox_core::AppContext::new(cfg).await.unwrap_err();
    assert!(e.to_string().contains("staff_token"), "{e}");
    assert!(e.to_string().contains("644"), "{e}");
}

/// The new PIN hash and its audit entry commit together: when the audit cannot be written, the
/// PIN is not changed either.
#[tokio::test]
async fn a_pin_change_without_its_audit_entry_does_not_happen() {
    let app = TestApp::new().await;
    fotobox_core::panel::set_pin(&app.ctx, "1234", "test")
        .await
        .unwrap();
    sqlx::query(
        "CREATE TRIGGER no_audit BEFORE INSERT ON staff_audit BEGIN SELECT RAISE(ABORT, 'audit down'); END",
    )
    .execute(app.ctx.store.pool())
    .await
    .unwrap();
    assert!(fotobox_core::panel::set_pin(&app.ctx, "987654", "test")
        .await
        .is_err());
    sqlx::query("DROP TRIGGER no_audit")
        .execute(app.ctx.store.pool())
        .await
        .unwrap();
    let old =
        fotobox_core::panel::login(&app.ctx, "1234", fotobox_core::panel::Client::Window).await;
    assert!(old.is_ok(), "the old PIN still works: {old:?}");
}

/// A Click provider that hangs up after sending Complete still gets its payment recorded and
/// its status event published: the callback runs on its own task.
#[tokio::test]
async fn a_dropped_click_request_still_publishes_after_its_commit() {
    let app = TestApp::new().await;
    let order = app.order("click", "strip", 1).await;
    let id = order["order_id"].as_str().unwrap().to_string();
    let amount = order["amount"].as_i64().unwrap();
    let click = ClickClient::new(
        Outbound::default(),
        "http://unused",
        CLICK_SERVICE_ID,
        CLICK_SECRET,
    );
    let prepare = click.new_prepare(&id, amount);
    let answer = fotobox_core::click::process(
        &app.ctx,
        fotobox_core::click::Endpoint::Prepare,
        prepare.to_body(CLICK_SECRET).as_bytes(),
    )
    .await;
    assert_eq!(answer["error"], 0, "{answer}");
    let complete = prepare.to_complete(answer["merchant_prepare_id"].as_i64().unwrap(), 0);
    let body = complete.to_body(CLICK_SECRET);
    let mut events = app.ctx.events.subscribe();
    // Hold the writer's turn so the Complete waits before its commit, then drop the caller.
    let turn = app.ctx.store.begin_write().await.unwrap();
    let ctx = app.ctx.clone();
    let caller = tokio::spawn(async move {
        fotobox_core::click::process(
            &ctx,
            fotobox_core::click::Endpoint::Complete,
            body.as_bytes(),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    caller.abort();
    let _ = caller.await;
    turn.rollback().await.unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("the status event arrives")
        .unwrap();
    assert_eq!(ev.order_id, id);
    let p = app
        .ctx
        .store
        .payment_by_order_id(&id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.status, "success");
}

#[test]
fn digital_copy_tokens_never_reach_the_request_log() {
    assert_eq!(
        fotobox_http::routers::loggable_path("/p/abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"),
        "/p/<token>"
    );
    assert_eq!(
        fotobox_http::routers::loggable_path("/api/click/prepare"),
        "/api/click/prepare"
    );
}

#[tokio::test]
async fn the_staff_routes_still_answer_tools_without_a_host_header() {
    let app = TestApp::new().await;
    let (s, _) = send(
        app.api(),
        "GET",
        "/api/stats",
        None,
        Some(common::STAFF_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

/// The unauthenticated health report on the API listener shows states, not paths or URLs.
#[tokio::test]
async fn the_open_health_report_shows_states_not_paths() {
    let app = TestApp::with_extra("").await;
    let (s, open) = send(app.api(), "GET", "/healthz", None, None).await;
    assert!(s == StatusCode::OK || s == StatusCode::SERVICE_UNAVAILABLE);
    let text = open.to_string();
    assert!(open["database"]["status"].is_string(), "{open}");
    let dir = app.dir.path().display().to_string();
    assert!(!text.contains(&dir), "no data directory path: {text}");
    assert!(!text.contains("free_bytes"), "{text}");
    let (_, full) = send(
        app.api(),
        "GET",
        "/healthz",
        None,
        Some(common::STAFF_TOKEN),
    )
    .await;
    assert!(full.to_string().contains("free_bytes"), "{full}");
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A small PNG (a few hundred bytes) whose header declares `w` x `h` pixels.
fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::new(8, 8)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    let mut png = out.into_inner();
    // Signature (8), IHDR length (4), "IHDR" (4), width (4), height (4), ... CRC at 29..33.
    png[16..20].copy_from_slice(&w.to_be_bytes());
    png[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

async fn paid_order(app: &TestApp) -> String {
    let o = app.order("click", "strip", 1).await;
    let id = o["order_id"].as_str().unwrap().to_string();
    let p = app
        .ctx
        .store
        .payment_by_order_id(&id)
        .await
        .unwrap()
        .unwrap();
    let mut c = app.ctx.store.pool().acquire().await.unwrap();
    fotobox_store::payments::mark_success(&mut c, p.id, "t", None, chrono::Utc::now())
        .await
        .unwrap();
    id
}

/// An upload to a made-up order is answered before its body is read (the body here never
/// ends: reading it first would hang).
#[tokio::test]
async fn an_upload_to_an_unknown_order_is_refused_before_its_body_is_read() {
    let app = TestApp::new().await;
    let (_tx, rx) = tokio::sync::mpsc::channel::<Result<axum::body::Bytes, std::io::Error>>(1);
    let req = Request::post("/api/kiosk/orders/ZZZZ-ZZZZ/shots/0")
        .header("content-type", "image/jpeg")
        .body(Body::from_stream(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        ))
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(3), app.api().oneshot(req))
        .await
        .expect("answered without reading the body")
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

/// A PNG declaring 12000x12000 pixels (about 2 GiB decoded) is refused from its header: 400,
/// nothing saved, nothing decoded.
#[tokio::test]
async fn a_picture_declaring_a_huge_size_is_refused_unread() {
    let app = TestApp::new().await;
    let id = paid_order(&app).await;
    let png = png_declaring(12_000, 12_000);
    assert!(png.len() < 4096);
    let req = Request::post(format!("/api/kiosk/orders/{id}/shots/0"))
        .header("content-type", "image/png")
        .body(Body::from(png.clone()))
        .unwrap();
    let (s, body) = send_req(app.api(), req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("12000x12000"),
        "{body}"
    );
    let incoming = app.dir.path().join("orders").join(&id).join("incoming");
    let saved = std::fs::read_dir(&incoming).map(|d| d.count()).unwrap_or(0);
    assert_eq!(saved, 0, "nothing saved");
    // The compositor refuses it too (a file that arrived another way).
    let e = fotobox_render::compose::decode_shot(0, &png).unwrap_err();
    assert!(e.to_string().contains("larger than"), "{e}");
}

/// The common test config without a `[click]` section, in live mode (Payme only).
fn live_payme_only(dir: &std::path::Path) -> String {
    let text = common::test_config_toml(dir).replace("mode = \"sandbox\"", "mode = \"live\"");
    let start = text.find("[click]").unwrap();
    let end = text.find("[pricing]").unwrap();
    format!("{}{}", &text[..start], &text[end..])
}

/// The common test config with neither provider configured (sandbox).
fn sandbox_no_providers(dir: &std::path::Path) -> String {
    let text = common::test_config_toml(dir);
    let start = text.find("[payme]").unwrap();
    let end = text.find("[pricing]").unwrap();
    format!("{}{}", &text[..start], &text[end..])
}

async fn insert_order(ctx: &fotobox_core::AppContext, order_id: &str) {
    let now = chrono::Utc::now();
    let mut tx = ctx.store.begin_write().await.unwrap();
    fotobox_store::payments::insert_payment(
        &mut tx,
        &fotobox_store::payments::NewPayment {
            order_id,
            amount: fotobox_store::Sum::new(20_000),
            payment_type: fotobox_store::model::Provider::Click,
            template_name: Some("strip"),
            copies: 1,
            expires_at: now + chrono::Duration::minutes(10),
            now,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// Live mode with only Payme configured: a Click Prepare "signed" with the empty secret for an
/// existing order used to commit a `payment_events` row; now the Click paths are not mounted.
#[tokio::test]
async fn an_unconfigured_provider_is_not_mounted_and_forged_callbacks_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = fotobox_core::Config::from_toml(&live_payme_only(dir.path())).unwrap();
    assert!(!cfg.click_enabled());
    let ctx = fotobox_core::AppContext::new(cfg).await.unwrap();
    insert_order(&ctx, "AAAA-BBBB").await;
    let (before,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM payment_events")
        .fetch_one(ctx.store.pool())
        .await
        .unwrap();
    let forged = ClickClient::new(Outbound::default(), "http://unused", 0, "");
    let cb = forged.new_prepare("AAAA-BBBB", 20_000);
    for path in ["/api/click/prepare", "/api/click/complete"] {
        let req = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(cb.to_body("")))
            .unwrap();
        let (s, _) = send_raw(fotobox_http::callback_router(ctx.clone()), req).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
    let (after,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM payment_events")
        .fetch_one(ctx.store.pool())
        .await
        .unwrap();
    assert_eq!(after, before, "nothing written");
    // No generated sandbox file is read or written in live mode.
    assert!(!dir.path().join(fotobox_core::sandbox::FILE_NAME).exists());
}

/// Even where Click is mounted, an empty secret never verifies.
#[test]
fn an_empty_click_secret_never_verifies() {
    let c = ClickClient::new(Outbound::default(), "http://unused", 1, "");
    let cb = c.new_prepare("AAAA-BBBB", 1000);
    let body = cb.to_body("");
    let form = fotobox_core::click::form::Form::parse(body.as_bytes()).unwrap();
    let sign = form.get("sign_string").unwrap().to_string();
    let fields = fotobox_core::click::sign::SignFields {
        click_trans_id: form.get("click_trans_id").unwrap(),
        service_id: form.get("service_id").unwrap(),
        merchant_trans_id: form.get("merchant_trans_id").unwrap(),
        merchant_prepare_id: "",
        amount: form.get("amount").unwrap(),
        action: form.get("action").unwrap(),
        sign_time: form.get("sign_time").unwrap(),
        action_is_complete: false,
    };
    assert!(!fotobox_core::click::sign::verify(&fields, "", &sign));
}

/// A bare sandbox start (no provider configured) generates credentials once, privately, and
/// the simulators pay both providers' orders through the real callback listener.
#[tokio::test]
async fn a_bare_sandbox_start_pays_both_providers_with_generated_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = fotobox_core::Config::from_toml(&sandbox_no_providers(dir.path())).unwrap();
    assert!(!cfg.payme_enabled() && !cfg.click_enabled());
    let ctx = fotobox_core::AppContext::new(cfg.clone()).await.unwrap();
    assert!(ctx.config.payme_enabled() && ctx.config.click_enabled());
    assert_eq!(ctx.config.payme.merchant_id.len(), 24);
    let file = dir.path().join(fotobox_core::sandbox::FILE_NAME);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let server = fotobox_http::server::start(ctx.clone()).await.unwrap();
    let api = fotobox_http::api_router(ctx.clone());
    for provider in ["payme", "click"] {
        let (s, o) = send(
            api.clone(),
            "POST",
            "/api/generate-qr",
            Some(serde_json::json!({"payment_type": provider, "template": "strip", "copies": 1})),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{o}");
        let id = o["order_id"].as_str().unwrap();
        let (s, r) = send(
            api.clone(),
            "POST",
            &format!("/api/test-payment/{id}"),
            None,
            Some(ctx.staff_token.expose()),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{provider}: {r}");
        let p = ctx.store.payment_by_order_id(id).await.unwrap().unwrap();
        assert_eq!(p.status, "success", "{provider}");
    }
    server.shutdown().await;
    // The next start uses the same credentials.
    let merchant = ctx.config.payme.merchant_id.clone();
    let again = fotobox_core::AppContext::new(cfg).await.unwrap();
    assert_eq!(again.config.payme.merchant_id, merchant);
}

/// Callbacks that fail authentication are counted in `/metrics` and write nothing.
#[tokio::test]
async fn failed_authentication_is_counted_and_stores_nothing() {
    let app = TestApp::new().await;
    let order = app.order("click", "strip", 1).await;
    let id = order["order_id"].as_str().unwrap();
    let before = event_count(&app).await;
    let wrong = ClickClient::new(
        Outbound::default(),
        "http://unused",
        CLICK_SERVICE_ID,
        "not-the-secret",
    );
    let req = Request::post("/api/click/prepare")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(
            wrong.new_prepare(id, 20_000).to_body("not-the-secret"),
        ))
        .unwrap();
    let (_, answer) = send_req(app.callbacks(), req).await;
    assert_eq!(answer["error"], -1, "{answer}");
    let req = Request::post("/api/payme/webhook")
        .header("authorization", "Basic UGF5Y29tOndyb25n")
        .body(Body::from(
            r#"{"jsonrpc":"2.0","id":1,"method":"CheckPerformTransaction","params":{"amount":2000000,"account":{"order_id":"X"}}}"#,
        ))
        .unwrap();
    let (_, answer) = send_req(app.callbacks(), req).await;
    assert_eq!(answer["error"]["code"], -32504, "{answer}");
    assert_eq!(event_count(&app).await, before);
    let text = fotobox_core::maintenance::metrics::render(&app.ctx).await;
    assert!(
        text.contains("fotobox_auth_failures_total{provider=\"click\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("fotobox_auth_failures_total{provider=\"payme\"} 1"),
        "{text}"
    );
}

/// One raw HTTP/1.1 request over a real socket (any Host, any bytes); the status and the body.
async fn raw_http(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or_default())
}

/// The attacks above against the running server over real sockets, one after the other:
/// every one is refused in its door's own format, nothing is stored, and the kiosk's API
/// answers afterwards.
#[tokio::test]
async fn hostile_requests_over_real_sockets_store_nothing_and_the_kiosk_keeps_answering() {
    let app = TestApp::new().await;
    let server = app.serve().await;
    let (cb, api) = (server.callback_addr, server.api_addr);
    let pending = app.order("click", "strip", 1).await;
    let pending_id = pending["order_id"].as_str().unwrap().to_string();
    let paid_id = paid_order(&app).await;
    let before = event_count(&app).await;
    let host = format!("Host: {api}");

    // Callback listener: thousands of form fields; an empty-secret forgery; wrong Payme auth.
    let mut flood = format!("merchant_trans_id={pending_id}&service_id={CLICK_SERVICE_ID}");
    let mut i = 0u32;
    while flood.len() < 60 * 1024 {
        flood.push_str(&format!("&{:x}=", 0x100 + i));
        i += 1;
    }
    let post_form = |path: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: {cb}\r\nContent-Type: application/x-www-form-urlencoded"
        )
    };
    let (s, a) = raw_http(cb, &post_form("/api/click/prepare"), flood.as_bytes()).await;
    assert_eq!((s, a["error"].as_i64()), (200, Some(-8)), "{a}");
    let forged = ClickClient::new(Outbound::default(), "http://unused", 0, "")
        .new_prepare(&pending_id, 20_000)
        .to_body("");
    let (s, a) = raw_http(cb, &post_form("/api/click/prepare"), forged.as_bytes()).await;
    assert_eq!((s, a["error"].as_i64()), (200, Some(-8)), "{a}");
    let payme = format!(
        "POST /api/payme/webhook HTTP/1.1\r\nHost: {cb}\r\nAuthorization: Basic UGF5Y29tOndyb25n"
    );
    let rpc = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"PerformTransaction","params":{{"id":"{pending_id}"}}}}"#
    );
    let (s, a) = raw_http(cb, &payme, rpc.as_bytes()).await;
    assert_eq!((s, a["error"]["code"].as_i64()), (200, Some(-32504)), "{a}");
    let (s, _) = raw_http(cb, &payme, &vec![b'{'; 100 * 1024]).await;
    assert_eq!(
        s, 200,
        "an oversized body is a JSON-RPC error, not a dropped connection"
    );

    // API listener: a rebinding Host; a cross-site cancel; uploads the kiosk must not take.
    let cancel = format!("/api/orders/{pending_id}/cancel");
    let (s, _) = raw_http(
        api,
        &format!("POST {cancel} HTTP/1.1\r\nHost: evil.example:5000"),
        b"",
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) = raw_http(
        api,
        &format!("POST {cancel} HTTP/1.1\r\n{host}\r\nOrigin: https://evil.example"),
        b"",
    )
    .await;
    assert_eq!(s, 403);
    let key = app.ctx.kiosk_key.expose().to_string();
    let upload = |id: &str| {
        format!("POST /api/kiosk/orders/{id}/shots/0 HTTP/1.1\r\n{host}\r\nX-Fotobox-Kiosk-Key: {key}\r\nContent-Type: image/png")
    };
    // A same-site caller that only knows the order id (no kiosk key): refused before any work.
    let (s, _) = raw_http(api, &format!("POST {cancel} HTTP/1.1\r\n{host}"), b"").await;
    assert_eq!(s, 401);
    let (s, _) = raw_http(
        api,
        &format!("GET /api/kiosk/orders/{paid_id}/print HTTP/1.1\r\n{host}"),
        b"",
    )
    .await;
    assert_eq!(
        s, 401,
        "the print progress carries the internet-facing /p/ link"
    );
    let (s, _) = raw_http(api, &upload(&paid_id), &png_declaring(12_000, 12_000)).await;
    assert_eq!(s, 400);

    // Staff doors added later: a refund through the provider (money leaves), the day's
    // reconciliation and the doctor's report (what the kiosk holds). Without the staff token,
    // with a wrong one, or with the right one from another site: refused, nothing recorded.
    let refund = format!("/api/staff/payments/{paid_id}/provider-refund");
    let body = format!(r#"{{"reason":"attack","confirm":"{paid_id}"}}"#);
    let json = "Content-Type: application/json";
    let good = format!("Authorization: Bearer {}", common::STAFF_TOKEN);
    for (head, want) in [
        (format!("POST {refund} HTTP/1.1\r\n{host}\r\n{json}"), 401),
        (
            format!("POST {refund} HTTP/1.1\r\n{host}\r\n{json}\r\nAuthorization: Bearer staff-test-token-0123456780"),
            401,
        ),
        (
            format!("POST {refund} HTTP/1.1\r\n{host}\r\n{json}\r\n{good}\r\nOrigin: https://evil.example"),
            403,
        ),
        (
            format!("POST {refund} HTTP/1.1\r\nHost: evil.example:5000\r\n{json}\r\n{good}"),
            403,
        ),
    ] {
        let (s, a) = raw_http(api, &head, body.as_bytes()).await;
        assert_eq!(s, want, "{head}: {a}");
    }
    for path in ["/api/staff/reconciliation", "/api/staff/doctor"] {
        let (s, _) = raw_http(api, &format!("GET {path} HTTP/1.1\r\n{host}"), b"").await;
        assert_eq!(s, 401, "{path}");
        let (s, _) = raw_http(
            api,
            &format!("GET {path} HTTP/1.1\r\nHost: evil.example:5000\r\n{good}"),
            b"",
        )
        .await;
        assert_eq!(s, 403, "{path} for a rebinding host name");
    }
    // Doors added with the receipts and the attract loop: the customer's copy page and its photo
    // on the internet-facing listener (a guessed, short or traversing token is a plain 404), and
    // the frame and sample images on the API listener (composing costs CPU: no key, no work).
    for path in [
        format!("/p/{}", "A".repeat(43)),
        format!("/p/{}/photo.jpg", "A".repeat(43)),
        format!("/p/{}/download", "A".repeat(43)),
        "/p/..%2F..%2Fphotobooth.db/download".to_string(),
        format!("/p/{}/photo.jpg", "A".repeat(10_000)),
    ] {
        let (s, _) = raw_http(
            cb,
            &format!("GET {path} HTTP/1.1\r\nHost: {cb}\r\nAccept: text/html"),
            b"",
        )
        .await;
        assert!(s == 404 || s == 414 || s == 431, "{path}: {s}");
    }
    for path in [
        "/api/kiosk/layouts/postcard/sample",
        "/api/kiosk/layouts/postcard/shots/0/overlay",
    ] {
        let (s, _) = raw_http(api, &format!("GET {path} HTTP/1.1\r\n{host}"), b"").await;
        assert_eq!(s, 401, "{path}");
    }
    assert!(
        app.ctx
            .samples
            .kept(
                "postcard",
                &fotobox_core::photos::sample_text_vars(&app.ctx),
                fotobox_core::kiosk::SAMPLE_MAX_SIDE,
            )
            .is_none(),
        "no sample was composed for a caller without the key"
    );
    // The Devices page's self-tests (a test print takes paper, a camera still is an upload):
    // without the staff token, with a wrong one, or from another site, refused before any work;
    // with the token but a mistaken body or query, a 400 in JSON. Nothing is recorded.
    let wrong = "Authorization: Bearer staff-test-token-0123456780";
    let still = "Content-Type: image/jpeg";
    for (path, body) in [
        ("/api/staff/selftest/print", Vec::new()),
        ("/api/staff/selftest/payment-path", Vec::new()),
        ("/api/staff/selftest/camera?ms=5", vec![0xffu8; 1024 * 1024]),
        (
            "/api/staff/selftest/camera/failure",
            br#"{"error":"x"}"#.to_vec(),
        ),
    ] {
        for (head, want) in [
            (format!("POST {path} HTTP/1.1\r\n{host}\r\n{still}"), 401),
            (format!("POST {path} HTTP/1.1\r\n{host}\r\n{still}\r\n{wrong}"), 401),
            (
                format!("POST {path} HTTP/1.1\r\n{host}\r\n{still}\r\n{good}\r\nOrigin: https://evil.example"),
                403,
            ),
            (
                format!("POST {path} HTTP/1.1\r\nHost: evil.example:5000\r\n{still}\r\n{good}"),
                403,
            ),
        ] {
            let (s, a) = raw_http(api, &head, &body).await;
            assert_eq!(s, want, "{head}: {a}");
        }
    }
    for (path, body) in [
        ("/api/staff/selftest/camera", b"GIF89a not a still".to_vec()),
        ("/api/staff/selftest/camera?ms=soon", vec![0xffu8; 64]),
    ] {
        let head = format!("POST {path} HTTP/1.1\r\n{host}\r\n{still}\r\n{good}");
        let (s, a) = raw_http(api, &head, &body).await;
        assert_eq!(s, 400, "{path}: {a}");
        assert!(a["error"].is_string(), "{path}: {a}");
    }
    assert!(app.ctx.store.latest_self_tests().await.unwrap().is_empty());
    assert!(
        !app.dir.path().join("selftest").exists(),
        "no sheet was drawn"
    );
    let refunds: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM provider_refunds")
        .fetch_one(app.ctx.store.pool())
        .await
        .unwrap();
    assert_eq!(refunds, 0, "no refund was recorded");
    let (s, _) = raw_http(api, &upload("ZZZZ-ZZZZ"), &vec![0u8; 1024 * 1024]).await;
    assert_eq!(s, 404);

    // Nothing was stored, nothing was cancelled or paid, and the kiosk answers.
    assert_eq!(event_count(&app).await, before);
    let p = app
        .ctx
        .store
        .payment_by_order_id(&pending_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.status, "pending");
    let paid = app
        .ctx
        .store
        .payment_by_order_id(&paid_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(paid.status, "success", "the paid order is untouched");
    let incoming = app
        .dir
        .path()
        .join("orders")
        .join(&paid_id)
        .join("incoming");
    assert_eq!(
        std::fs::read_dir(&incoming).map(|d| d.count()).unwrap_or(0),
        0
    );
    let (s, a) = raw_http(api, &format!("GET /api/test HTTP/1.1\r\n{host}"), b"").await;
    assert_eq!(s, 200, "{a}");
    server.shutdown().await;
}
