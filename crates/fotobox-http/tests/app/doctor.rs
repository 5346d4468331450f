//! `fotobox doctor` and the live start check through the core and the server start: a live
//! kiosk missing any money-path setting does not start (one line naming the key) and the
//! checklist reports it; the machine's state is reported without refusing the start; a complete
//! live config starts with a clean checklist; generated sandbox credentials are never accepted
//! in live mode; no secret in the checklist.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};

use crate::common::{send, send_raw, STAFF_TOKEN};
use crate::cups_support::TestQueue;
use crate::photos_support::FakeCups;
use fotobox_core::doctor::{self, Report, Status};
use fotobox_core::sandbox::SandboxCredentials;
use fotobox_core::{AppContext, AppError, Config};

/// A cash-desk key of the length Payme issues (36).
const LIVE_KEY: &str = "LivePaymeKey0123456789abcdefghijKLMN";
const LIVE_SECRET: &str = "LiveClickSecret9f8e7d6c";
const MERCHANT: &str = "5e730e8e0b852a417aa49ceb";

/// A local stand-in for the tunnel: `GET /healthz` answers like the kiosk's callback listener.
struct FakePublicUrl {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl FakePublicUrl {
    async fn start() -> FakePublicUrl {
        let app = axum::Router::new().route(
            "/healthz",
            axum::routing::get(|| async { axum::Json(json!({"status": "ok"})) }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakePublicUrl { url, task }
    }
}

impl Drop for FakePublicUrl {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Everything a live kiosk needs, one setting per line (so that a test can take one out);
/// `printer` is the `[printer]` section (a real CUPS test queue, or the fake).
fn complete_live(dir: &std::path::Path, printer: &str, public_url: &str) -> String {
    format!(
        r#"mode = "live"
data_dir = "{dir}"
[server]
callback_addr = "127.0.0.1:0"
api_addr = "127.0.0.1:0"
staff_token = "{STAFF_TOKEN}"
public_url = "{public_url}"
[payme]
merchant_id = "{MERCHANT}"
key = "{LIVE_KEY}"
[click]
service_id = 12345
merchant_id = 6789
merchant_user_id = 23456
secret_key = "{LIVE_SECRET}"
[fiscal]
ikpu_code = "10899002001000000"
package_code = "1512443"
vat_percent = 12
title = "Foto chop etish, dona"
tin = "123456789"
{printer}"#,
        dir = dir.display(),
        printer = printer,
    )
}

/// `text` with the line `line` replaced by `with` (the line must be there).
fn edit(text: &str, line: &str, with: &str) -> String {
    assert!(
        text.lines().any(|l| l == line),
        "no line {line:?} in the config"
    );
    text.lines()
        .map(|l| if l == line { with } else { l })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn context(text: &str) -> AppContext {
    let cfg = Config::from_toml(text).unwrap_or_else(|e| panic!("config loads: {e}"));
    AppContext::new(cfg).await.unwrap()
}

/// The start's refusal lines (panics when the start succeeds).
async fn refused(ctx: &AppContext) -> Vec<String> {
    match fotobox_http::server::start(ctx.clone()).await {
        Ok(server) => {
            server.shutdown().await;
            panic!("the live start went through");
        }
        Err(AppError::LiveStartRefused(lines)) => {
            let e = AppError::LiveStartRefused(lines.clone()).to_string();
            assert!(e.starts_with("refusing to start in live mode"), "{e}");
            assert_eq!(e.lines().count(), lines.len() + 1, "one line each: {e}");
            lines
        }
        Err(e) => panic!("refused for another reason: {e}"),
    }
}

fn failing<'a>(r: &'a Report, key: &str) -> &'a doctor::Check {
    let c = r
        .get(key)
        .unwrap_or_else(|| panic!("{key} not listed: {r:#?}"));
    assert!(c.status.is_failure(), "{key} should fail: {c:?}");
    c
}

/// Each money-path setting missing (or malformed) in turn: the start fails with one line naming
/// it, and the checklist reports it.
#[tokio::test]
async fn a_live_start_without_any_one_setting_is_refused_naming_it() {
    let queue = TestQueue::new();
    let printer = queue.config(400);
    let public = FakePublicUrl::start().await;
    let cases: Vec<(&str, String, &str)> = vec![
        ("payme.merchant_id", format!("merchant_id = \"{MERCHANT}\""), ""),
        (
            "payme.merchant_id",
            format!("merchant_id = \"{MERCHANT}\""),
            "merchant_id = \"5e730e8e0b852a417aa49ce\"",
        ),
        ("payme.key", format!("key = \"{LIVE_KEY}\""), ""),
        ("payme.key", format!("key = \"{LIVE_KEY}\""), "key = \"too-short\""),
        (
            "payme.key",
            format!("key = \"{LIVE_KEY}\""),
            "key = \"LivePaymeKey0123456789abcdefghijKLMN\"\ntest_key = \"LivePaymeKey0123456789abcdefghijKLMN\"",
        ),
        ("click.service_id", "service_id = 12345".into(), ""),
        ("click.merchant_id", "merchant_id = 6789".into(), ""),
        ("click.merchant_user_id", "merchant_user_id = 23456".into(), ""),
        ("click.secret_key", format!("secret_key = \"{LIVE_SECRET}\""), ""),
        ("fiscal.ikpu_code", "ikpu_code = \"10899002001000000\"".into(), ""),
        ("fiscal.package_code", "package_code = \"1512443\"".into(), ""),
        ("fiscal.vat_percent", "vat_percent = 12".into(), ""),
        ("fiscal.title", "title = \"Foto chop etish, dona\"".into(), ""),
        ("fiscal.tin", "tin = \"123456789\"".into(), ""),
        ("server.public_url", format!("public_url = \"{}\"", public.url), ""),
        (
            "server.public_url",
            format!("public_url = \"{}\"", public.url),
            "public_url = \"http://kiosk.example.uz\"",
        ),
        ("printer.name", format!("name = \"{}\"", queue.name), "name = \"\""),
    ];
    for (key, line, with) in cases {
        let dir = tempfile::tempdir().unwrap();
        let text = edit(
            &complete_live(dir.path(), &printer, &public.url),
            &line,
            with,
        );
        let ctx = context(&text).await;
        let lines = refused(&ctx).await;
        assert_eq!(lines.len(), 1, "{key} ({with:?}): {lines:?}");
        assert!(
            lines[0].starts_with(&format!("{key}: ")),
            "{key}: {lines:?}"
        );
        let report = doctor::checklist(&ctx).await;
        let c = failing(&report, key);
        assert!(c.money_path && c.at_start, "{c:?}");
        assert!(report.failures >= 1 && !report.ready_for_live);
        ctx.store.close().await;
    }
    // Neither provider: one line, `providers`.
    let dir = tempfile::tempdir().unwrap();
    let mut text = complete_live(dir.path(), &printer, &public.url);
    for line in [
        format!("merchant_id = \"{MERCHANT}\""),
        format!("key = \"{LIVE_KEY}\""),
        "service_id = 12345".into(),
        "merchant_id = 6789".into(),
        "merchant_user_id = 23456".into(),
        format!("secret_key = \"{LIVE_SECRET}\""),
    ] {
        text = edit(&text, &line, "");
    }
    let ctx = context(&text).await;
    let lines = refused(&ctx).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("providers: missing"), "{lines:?}");
    failing(&doctor::checklist(&ctx).await, "providers");
}

/// The machine's state (printer queue, its error reasons, the paper counter, the public URL's
/// answer) is reported as money-path failures but does not refuse the start: readiness refuses
/// orders meanwhile, and a refused start would crash-loop while CUPS or the tunnel come up.
#[tokio::test]
async fn the_machine_state_is_reported_without_refusing_the_start() {
    // Stays on the fake CUPS: the point is a start while CUPS is down, and stopping the real
    // private scheduler would disturb every other test using it.
    let cups = FakeCups::new();
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on the public URL; the paper counter was never set.
    let text = complete_live(dir.path(), &cups.config(400), "http://127.0.0.1:9");
    let ctx = context(&text).await;
    cups.set("lpstat-fail", true);
    let server = fotobox_http::server::start(ctx.clone())
        .await
        .expect("the start goes on");
    let r = doctor::checklist(&ctx).await;
    for key in ["printer.queue", "paper", "public_url.healthz"] {
        let c = failing(&r, key);
        assert!(c.money_path && !c.at_start, "{c:?}");
    }
    assert!(r.failures >= 3 && !r.ready_for_live);
    // The queue answers but reports an error reason: still wrong, and named.
    cups.set("lpstat-fail", false);
    cups.set_reasons("media-empty-error marker-supply-low-warning");
    let r = doctor::checklist(&ctx).await;
    let c = failing(&r, "printer.queue");
    assert!(c.detail.contains("media-empty-error"), "{c:?}");
    cups.set_reasons("marker-supply-low-warning");
    let r = doctor::checklist(&ctx).await;
    assert_eq!(r.get("printer.queue").unwrap().status, Status::Warn);
    server.shutdown().await;
}

/// A complete live config (a local fake for the public URL, a real CUPS queue for the printer)
/// starts, and its checklist has no failure; the panel shows the same list; no secret in it.
#[tokio::test]
async fn a_complete_live_config_starts_with_a_clean_checklist() {
    let queue = TestQueue::new();
    let public = FakePublicUrl::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(&complete_live(dir.path(), &queue.config(400), &public.url)).await;
    fotobox_core::photos::reset_paper(&ctx, None).await.unwrap();
    fotobox_core::panel::set_pin(&ctx, "2468", "test")
        .await
        .unwrap();
    let server = fotobox_http::server::start(ctx.clone())
        .await
        .unwrap_or_else(|e| panic!("a complete live config starts: {e}"));
    let r = doctor::checklist(&ctx).await;
    assert!(r.ready_for_live, "{r:#?}");
    assert_eq!(r.failures, 0);
    for key in [
        "providers",
        "payme.merchant_id",
        "payme.key",
        "click.secret_key",
        "fiscal.ikpu_code",
        "fiscal.tin",
        "public_url.healthz",
        "printer.name",
        "printer.queue",
        "paper",
        "staff.pin",
    ] {
        assert_eq!(
            r.get(key).map(|c| c.status),
            Some(Status::Ok),
            "{key}: {r:#?}"
        );
    }
    // A plain-http loopback URL (this test's fake tunnel) is only a warning.
    assert_eq!(r.get("server.public_url").unwrap().status, Status::Warn);
    // The staff panel's Devices page: the same checklist, behind panel auth.
    let (s, body) = send(
        fotobox_http::api_router(ctx.clone()),
        "GET",
        "/api/staff/doctor",
        None,
        Some(STAFF_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["ready_for_live"], json!(true));
    assert_eq!(
        body["checks"].as_array().unwrap().len(),
        r.checks.len(),
        "{body}"
    );
    let (s, _) = send(
        fotobox_http::api_router(ctx.clone()),
        "GET",
        "/api/staff/doctor",
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let text = body.to_string();
    for secret in [LIVE_KEY, LIVE_SECRET, STAFF_TOKEN, ctx.kiosk_key.expose()] {
        assert!(!text.contains(secret), "a secret in the checklist: {text}");
    }
    server.shutdown().await;
}

/// Sandbox mode lists the same checks and nothing fails (a bare sandbox has no fiscal data,
/// no public URL and no PIN, and starts).
#[tokio::test]
async fn sandbox_lists_the_same_checks_and_nothing_fails() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "data_dir = \"{}\"\n[server]\ncallback_addr = \"127.0.0.1:0\"\napi_addr = \"127.0.0.1:0\"\n",
        dir.path().display()
    );
    let ctx = context(&text).await;
    let r = doctor::checklist(&ctx).await;
    assert_eq!(r.failures, 0, "{r:#?}");
    assert!(!r.ready_for_live);
    assert!(r.start_failures().is_empty());
    assert!(r.get("fiscal.ikpu_code").unwrap().status.is_failure());
    assert!(r.get("server.public_url").unwrap().status.is_failure());
    let server = fotobox_http::server::start(ctx.clone()).await.unwrap();
    server.shutdown().await;
}

/// The credentials a sandbox start generated are never accepted in live mode: configured as
/// live credentials they refuse the start, and with real credentials configured, requests
/// signed with the generated ones are refused.
#[tokio::test]
async fn generated_sandbox_credentials_are_never_accepted_in_live_mode() {
    let queue = TestQueue::new();
    let printer = queue.config(400);
    let public = FakePublicUrl::start().await;
    let dir = tempfile::tempdir().unwrap();
    // A bare sandbox start generates them.
    let bare = format!(
        "data_dir = \"{}\"\n[server]\ncallback_addr = \"127.0.0.1:0\"\napi_addr = \"127.0.0.1:0\"\n",
        dir.path().display()
    );
    let sandbox = context(&bare).await;
    sandbox.store.close().await;
    drop(sandbox);
    let generated = SandboxCredentials::stored(dir.path()).expect("generated");

    // Copied into a live config: refused, naming each.
    let text = complete_live(dir.path(), &printer, &public.url)
        .replace(MERCHANT, &generated.payme_merchant_id)
        .replace(LIVE_KEY, &generated.payme_key)
        .replace(LIVE_SECRET, &generated.click_secret_key);
    let ctx = context(&text).await;
    let lines = refused(&ctx).await;
    for key in ["payme.merchant_id", "payme.key", "click.secret_key"] {
        let line = lines
            .iter()
            .find(|l| l.starts_with(&format!("{key}: ")))
            .unwrap_or_else(|| panic!("{key} not named: {lines:?}"));
        assert!(line.contains("sandbox"), "{line}");
    }
    for secret in [&generated.payme_key, &generated.click_secret_key] {
        assert!(!lines.join("\n").contains(secret.as_str()), "{lines:?}");
    }
    ctx.store.close().await;
    drop(ctx);

    // Real credentials beside the generated file: requests signed with the generated ones fail.
    let text = complete_live(dir.path(), &printer, &public.url).replace(
        "service_id = 12345",
        &format!("service_id = {}", generated.click_service_id),
    );
    let ctx = context(&text).await;
    let callbacks = fotobox_http::callback_router(ctx.clone());
    let body = json!({"id": 1, "method": "CheckPerformTransaction",
                      "params": {"amount": 2_000_000, "account": {"order_id": "AAAA-BBBB"}}});
    for key in [generated.payme_key.as_str(), LIVE_KEY] {
        let req = Request::post("/api/payme/webhook")
            .header("content-type", "application/json")
            .header(
                "authorization",
                fotobox_core::payme::protocol::basic_auth("Paycom", key),
            )
            .body(Body::from(body.to_string()))
            .unwrap();
        let (_, bytes) = send_raw(callbacks.clone(), req).await;
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        if key == generated.payme_key {
            assert_eq!(v["error"]["code"], json!(-32504), "{v}");
        } else {
            assert_ne!(
                v["error"]["code"],
                json!(-32504),
                "the live key is accepted: {v}"
            );
        }
    }
    let forged = fotobox_core::click::simulator::ClickClient::new(
        fotobox_core::outbound::Outbound::default(),
        "http://unused",
        generated.click_service_id,
        generated.click_secret_key.clone(),
    );
    let cb = forged.new_prepare("AAAA-BBBB", 20_000);
    let req = Request::post("/api/click/prepare")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(cb.to_body(&generated.click_secret_key)))
        .unwrap();
    let (s, bytes) = send_raw(callbacks, req).await;
    assert_eq!(s, StatusCode::OK);
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["error"], json!(-1), "SIGN CHECK FAILED: {v}");
}
