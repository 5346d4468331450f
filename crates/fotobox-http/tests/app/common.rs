//! Test support: a fresh app (temporary data directory and database) and, when wanted, the
//! real server on port 0.
#![allow(dead_code, clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use fotobox_core::{AppContext, Config};
use fotobox_http::server::RunningServer;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub const STAFF_TOKEN: &str = "staff-test-token-0123456789";
pub const PAYME_KEY: &str = "LIVE_KEY_0123456789abcdef0123456789ab";
pub const PAYME_TEST_KEY: &str = "TEST_KEY_0123456789abcdef0123456789ab";
pub const PAYME_MERCHANT: &str = "5e730e8e0b852a417aa49ceb";
pub const CLICK_SERVICE_ID: u64 = 12345;
pub const CLICK_MERCHANT_ID: u64 = 6789;
pub const CLICK_MERCHANT_USER_ID: u64 = 23456;
pub const CLICK_SECRET: &str = "TEST_SECRET_KEY";

/// The sandbox config every test starts from (ports 0, known credentials, fixed prices).
pub fn test_config_toml(data_dir: &std::path::Path) -> String {
    format!(
        r#"
mode = "sandbox"
data_dir = "{dir}"
[server]
callback_addr = "127.0.0.1:0"
api_addr = "127.0.0.1:0"
staff_token = "{STAFF_TOKEN}"
[payme]
merchant_id = "{PAYME_MERCHANT}"
key = "{PAYME_KEY}"
test_key = "{PAYME_TEST_KEY}"
[click]
service_id = {CLICK_SERVICE_ID}
merchant_id = {CLICK_MERCHANT_ID}
merchant_user_id = {CLICK_MERCHANT_USER_ID}
secret_key = "{CLICK_SECRET}"
[pricing]
extra_copy = 10000
[pricing.layouts]
strip = 20000
postcard = 25000
grid = 25000
"#,
        dir = data_dir.display()
    )
}

pub struct TestApp {
    pub ctx: AppContext,
    pub dir: tempfile::TempDir,
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with_extra("").await
    }

    /// `extra` is appended to the TOML (later keys in new tables only).
    pub async fn with_extra(extra: &str) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("{}\n{extra}", test_config_toml(dir.path()));
        let cfg = Config::from_toml(&text).unwrap();
        let ctx = AppContext::new(cfg).await.unwrap();
        TestApp { ctx, dir }
    }

    /// The API router as the kiosk page calls it: requests carry this boot's kiosk key
    /// (`X-Fotobox-Kiosk-Key`) unless they set it themselves.
    pub fn api(&self) -> axum::Router {
        fotobox_http::api_router(self.ctx.clone()).layer(axum::middleware::from_fn_with_state(
            self.ctx.kiosk_key.expose().to_string(),
            with_kiosk_key,
        ))
    }

    /// The API router as any other caller sees it: no kiosk key.
    pub fn api_without_key(&self) -> axum::Router {
        fotobox_http::api_router(self.ctx.clone())
    }

    pub fn callbacks(&self) -> axum::Router {
        fotobox_http::callback_router(self.ctx.clone())
    }

    /// Start the real server (both listeners on port 0).
    pub async fn serve(&self) -> RunningServer {
        fotobox_http::server::start(self.ctx.clone()).await.unwrap()
    }

    /// Create an order through the API door.
    pub async fn order(&self, provider: &str, template: &str, copies: i64) -> Value {
        let (status, body) = send(
            self.api(),
            "POST",
            "/api/generate-qr",
            Some(serde_json::json!({"payment_type": provider, "template": template, "copies": copies})),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// A request with the staff token through the API router.
    pub async fn as_staff(
        &self,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        send(self.api(), method, uri, body, Some(STAFF_TOKEN)).await
    }

    /// The staff panel's payment detail (`id`: the order id or the payment id).
    pub async fn staff_payment(&self, id: &str) -> Value {
        let (s, v) = send(
            self.api(),
            "GET",
            &format!("/api/staff/payments/{id}"),
            None,
            Some(STAFF_TOKEN),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    }
}

/// One request through a router with `oneshot`; returns status and JSON body (or Null).
pub async fn send(
    router: axum::Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
    bearer: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = bearer {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(b.to_string()))
            .unwrap(),
        None => req.body(Body::empty()).unwrap(),
    };
    let resp = router.oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, v)
}

/// Send a raw request (any body and headers) through a router.
pub async fn send_raw(router: axum::Router, req: Request<Body>) -> (StatusCode, Vec<u8>) {
    let resp = router.oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, bytes.to_vec())
}

async fn with_kiosk_key(
    axum::extract::State(key): axum::extract::State<String>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if !req.headers().contains_key(KIOSK_KEY) {
        req.headers_mut()
            .insert(KIOSK_KEY, axum::http::HeaderValue::from_str(&key).unwrap());
    }
    next.run(req).await
}

/// The kiosk key's header.
pub const KIOSK_KEY: &str = "x-fotobox-kiosk-key";
