//! The Fotobox kiosk window: starts the same core as `fotobox serve` in `setup`, exposes thin
//! commands over it, forwards status events to the page, and stops the core when the app exits.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use fotobox_core::error::{DomainError, ErrorKind};
use fotobox_core::kiosk;
use fotobox_core::orders::{self, OrderError, OrderRequest, OrderView, StatusView};
use fotobox_core::{AppContext, Config};
use fotobox_http::server::RunningServer;
use fotobox_store::model::Provider;
use serde::Serialize;
use tauri::webview::{PermissionKind, PermissionResponse};
use tauri::{Emitter, Manager, RunEvent, WindowEvent};

mod flags;
mod webview;

/// What every command returns on failure: a kind the page can switch on and a readable message.
#[derive(Debug, Serialize, thiserror::Error)]
#[error("{message}")]
struct CommandError {
    kind: &'static str,
    message: String,
}

impl CommandError {
    /// `kind` with the error's message; internal errors are logged and answered without their
    /// details (the customer sees "call staff", never internals).
    fn new(kind: &'static str, e: &dyn std::fmt::Display) -> Self {
        if kind == "internal" {
            tracing::error!(error = %e, "command failed");
            return CommandError {
                kind,
                message: "internal error; please call staff".into(),
            };
        }
        CommandError {
            kind,
            message: e.to_string(),
        }
    }
}

/// The one place where error kinds become the page's `kind` strings (what `ui/` switches on).
fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NotFound => "not_found",
        ErrorKind::Invalid => "bad_request",
        ErrorKind::Conflict => "conflict",
        ErrorKind::Unavailable => "unavailable",
        ErrorKind::Unauthorized | ErrorKind::Locked => "unauthorized",
        ErrorKind::Forbidden => "forbidden",
        ErrorKind::Internal => "internal",
    }
}

impl<E: DomainError> From<E> for CommandError {
    fn from(e: E) -> Self {
        CommandError::new(kind_name(e.kind()), &e)
    }
}

/// State managed by Tauri: the core context and the running server.
struct Shell {
    ctx: AppContext,
    server: Mutex<Option<RunningServer>>,
    _log: Option<fotobox_core::logging::Guard>,
    /// Process start, for the cold-start figure.
    started: Instant,
    /// The window may close (staff exit, or a WebDriver test); otherwise closing is refused.
    may_close: AtomicBool,
}

/// Under tauri-driver (tests) the window must be closable and the mock camera may be used.
fn automation() -> bool {
    std::env::var_os("TAURI_WEBVIEW_AUTOMATION").is_some_and(|v| v == "true")
}

/// Only the app's own pages: `tauri://localhost/...` (and its http form on other platforms).
fn allowed_url(url: &tauri::Url) -> bool {
    url.scheme() == "tauri"
        || (matches!(url.scheme(), "http" | "https") && url.host_str() == Some("tauri.localhost"))
        || url.as_str() == "about:blank"
}

#[tauri::command]
async fn kiosk_info(shell: tauri::State<'_, Shell>) -> Result<kiosk::KioskInfo, CommandError> {
    let mut info = kiosk::info(&shell.ctx).await?;
    info.api_url = shell
        .server
        .lock()
        .ok()
        .and_then(|s| s.as_ref().map(|s| format!("http://{}", s.api_addr)));
    Ok(info)
}

#[tauri::command]
async fn readiness(
    shell: tauri::State<'_, Shell>,
    copies: i64,
) -> Result<kiosk::KioskReadiness, CommandError> {
    Ok(kiosk::readiness(&shell.ctx, copies).await?)
}

#[tauri::command]
async fn create_order(
    shell: tauri::State<'_, Shell>,
    payment_type: String,
    template: String,
    copies: i64,
    lang: Option<String>,
) -> Result<OrderView, CommandError> {
    let provider = Provider::parse(&payment_type)
        .ok_or_else(|| OrderError::Invalid(format!("unknown payment type {payment_type:?}")))?;
    let lang = orders::customer_lang(lang.as_deref())?;
    Ok(orders::create_order_in(
        &shell.ctx,
        OrderRequest::Priced {
            provider,
            template,
            copies,
        },
        lang,
    )
    .await?)
}

#[tauri::command]
async fn payment_status(
    shell: tauri::State<'_, Shell>,
    order_id: String,
) -> Result<StatusView, CommandError> {
    Ok(orders::payment_status(&shell.ctx, &order_id).await?)
}

#[tauri::command]
async fn cancel_order(
    shell: tauri::State<'_, Shell>,
    order_id: String,
) -> Result<StatusView, CommandError> {
    Ok(orders::cancel_order(&shell.ctx, &order_id).await?)
}

/// The customer says they paid: ask Click's Merchant API about the order (a lost or late
/// callback); the answer is recorded as a provider event and the order's status returned.
#[tauri::command]
async fn check_payment(
    shell: tauri::State<'_, Shell>,
    order_id: String,
) -> Result<fotobox_core::click_api::StatusCheck, CommandError> {
    Ok(fotobox_core::click_api::customer_check(&shell.ctx, &order_id).await?)
}

/// One shot as raw JPEG/PNG bytes (`invoke('upload_shot', bytes, {headers})`), with the headers
/// `order-id` and `shot-index`. Like the HTTP door: the size, the order and the index are checked
/// before the bytes are copied, and the copy is made in one of the few upload slots.
#[tauri::command]
async fn upload_shot(
    shell: tauri::State<'_, Shell>,
    request: tauri::ipc::Request<'_>,
) -> Result<kiosk::ShotSaved, CommandError> {
    let (order_id, index, bytes) = shot_request(&request)?;
    if bytes.len() > kiosk::MAX_SHOT_BYTES {
        return Err(CommandError {
            kind: "bad_request",
            message: "the picture is too large".into(),
        });
    }
    let target = kiosk::shot_target(&shell.ctx, &order_id, index).await?;
    let _slot = shell.ctx.heavy.upload().await;
    Ok(kiosk::save_shot_to(&shell.ctx, target, bytes.to_vec()).await?)
}

fn shot_request<'a>(
    request: &'a tauri::ipc::Request<'_>,
) -> Result<(String, usize, &'a [u8]), CommandError> {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    let bad = |m: &str| CommandError {
        kind: "bad_request",
        message: m.to_string(),
    };
    let order_id = header("order-id").ok_or_else(|| bad("missing order-id header"))?;
    let index = header("shot-index")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| bad("missing or bad shot-index header"))?;
    match request.body() {
        tauri::ipc::InvokeBody::Raw(bytes) => Ok((order_id.to_string(), index, bytes.as_slice())),
        _ => Err(bad("the shot must be sent as raw bytes")),
    }
}

#[tauri::command]
async fn compose_order(
    shell: tauri::State<'_, Shell>,
    order_id: String,
) -> Result<fotobox_core::photos::PhotoView, CommandError> {
    Ok(kiosk::compose(&shell.ctx, &order_id).await?)
}

/// The layout's frame over the slot of one shot, PNG bytes (an ArrayBuffer in the page).
#[tauri::command]
async fn shot_overlay(
    shell: tauri::State<'_, Shell>,
    layout: String,
    shot: usize,
) -> Result<tauri::ipc::Response, CommandError> {
    Ok(tauri::ipc::Response::new(
        kiosk::shot_overlay(&shell.ctx, &layout, shot).await?,
    ))
}

/// A sample print of the layout for the attract screen, JPEG bytes.
#[tauri::command]
async fn sample_print(
    shell: tauri::State<'_, Shell>,
    layout: String,
) -> Result<tauri::ipc::Response, CommandError> {
    Ok(tauri::ipc::Response::new(
        kiosk::sample_print(&shell.ctx, &layout).await?,
    ))
}

/// The composite JPEG as raw bytes (an ArrayBuffer in the page).
#[tauri::command]
async fn order_preview(
    shell: tauri::State<'_, Shell>,
    order_id: String,
) -> Result<tauri::ipc::Response, CommandError> {
    Ok(tauri::ipc::Response::new(
        kiosk::preview(&shell.ctx, &order_id).await?,
    ))
}

#[tauri::command]
async fn print_order(
    shell: tauri::State<'_, Shell>,
    order_id: String,
) -> Result<kiosk::PrintProgress, CommandError> {
    Ok(kiosk::print(&shell.ctx, &order_id).await?)
}

#[tauri::command]
async fn print_status(
    shell: tauri::State<'_, Shell>,
    order_id: String,
) -> Result<kiosk::PrintProgress, CommandError> {
    Ok(kiosk::print_status(&shell.ctx, &order_id).await?)
}

#[tauri::command]
async fn call_staff(
    shell: tauri::State<'_, Shell>,
    order_id: Option<String>,
    reason: String,
) -> Result<kiosk::StaffCall, CommandError> {
    Ok(kiosk::call_staff(&shell.ctx, order_id.as_deref(), &reason).await?)
}

/// The page drew its first screen: log the cold-start time (measured from process start).
#[tauri::command]
fn ui_ready(shell: tauri::State<'_, Shell>) {
    let ms = shell.started.elapsed().as_millis() as u64;
    tracing::info!(ms, "kiosk UI ready (attract screen drawn)");
    eprintln!("kiosk: attract screen drawn {ms} ms after start");
}

/// Sandbox only: the page's "simulate payment" control (the provider's simulator over the real
/// callback listener). Live mode: not found.
#[tauri::command]
async fn simulate_payment(
    shell: tauri::State<'_, Shell>,
    order_id: String,
) -> Result<fotobox_core::sandbox::Simulated, CommandError> {
    Ok(fotobox_core::sandbox::simulate_payment(&shell.ctx, &order_id).await?)
}

/// This boot's kiosk key, for the page's HTTP calls (the API listener writes it into the page it
/// serves; this window's page gets it here).
#[tauri::command]
fn kiosk_key(shell: tauri::State<'_, Shell>) -> String {
    shell.ctx.kiosk_key.expose().to_string()
}

/// The key the staff panel in this window logs in with (with the PIN; never the staff token).
#[tauri::command]
fn staff_window_key(shell: tauri::State<'_, Shell>) -> String {
    fotobox_core::panel::window_key(&shell.ctx)
}

/// Leave the kiosk, from the staff panel: needs a live PIN session (or the staff token); audited.
#[tauri::command]
async fn exit_kiosk(
    app: tauri::AppHandle,
    shell: tauri::State<'_, Shell>,
    token: String,
) -> Result<(), CommandError> {
    fotobox_core::panel::exit_kiosk(&shell.ctx, &token).await?;
    tracing::warn!("kiosk closed by staff");
    shell.may_close.store(true, Ordering::SeqCst);
    app.exit(0);
    Ok(())
}

fn start_core(app: &mut tauri::App, started: Instant) -> Result<(), Box<dyn std::error::Error>> {
    let config_path = std::env::var_os("FOTOBOX_CONFIG").map(std::path::PathBuf::from);
    let cfg = Config::load(config_path.as_deref())?;
    let data_dir = cfg.resolve_data_dir()?;
    std::fs::create_dir_all(&data_dir)?;
    let log = fotobox_core::logging::init(&data_dir);
    let (ctx, server) = tauri::async_runtime::block_on(async {
        let ctx = AppContext::new(cfg).await?;
        let server = fotobox_http::server::start(ctx.clone()).await?;
        Ok::<_, fotobox_core::AppError>((ctx, server))
    })?;
    // Push every committed status change to the page (polling stays as the fallback).
    let handle = app.handle().clone();
    let mut rx = ctx.events.subscribe();
    tauri::async_runtime::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match rx.recv().await {
                Ok(ev) => {
                    let _ = handle.emit("payment-status", &ev);
                }
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            }
        }
    });
    // Not FOTOBOX_*: the config refuses unknown FOTOBOX_ variables. Sandbox mode only.
    let mock_camera = std::env::var_os("KIOSK_MOCK_CAMERA").is_some_and(|v| v == "1")
        && ctx.config.mode.is_sandbox();
    app.manage(Shell {
        ctx,
        server: Mutex::new(Some(server)),
        _log: log,
        started,
        may_close: AtomicBool::new(automation()),
    });
    webview::lighten(app);
    if mock_camera {
        enable_mock_camera(app);
    }
    // `systemctl stop` and the machine's shutdown: SIGTERM/SIGINT end the app the way the staff
    // exit does; `RunEvent::Exit` then shuts the core down gracefully (in-flight callbacks finish,
    // the tunnel's process group is stopped, the database closes) and the process exits 0.
    let handle = app.handle().clone();
    tauri::async_runtime::spawn(async move {
        fotobox_http::server::shutdown_signal().await;
        if let Some(shell) = handle.try_state::<Shell>() {
            shell.may_close.store(true, Ordering::SeqCst);
        }
        handle.exit(0);
    });
    Ok(())
}

/// WebKitGTK's mock capture devices instead of a real camera (tests only: `KIOSK_MOCK_CAMERA=1`, sandbox
/// mode).
fn enable_mock_camera(app: &tauri::App) {
    #[cfg(target_os = "linux")]
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.with_webview(|wv| {
            use webkit2gtk::{SettingsExt, WebViewExt};
            if let Some(settings) = WebViewExt::settings(&wv.inner()) {
                settings.set_enable_mock_capture_devices(true);
            }
        });
        tracing::warn!("mock capture devices enabled (KIOSK_MOCK_CAMERA=1): tests only");
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}

fn main() {
    let started = Instant::now();
    // `--version` and `--help` answer before Tauri starts: no window, no display, no core.
    if let Some(text) = flags::early_answer(std::env::args_os()) {
        // A closed stdout is not worth a panic.
        let _ = writeln!(std::io::stdout(), "{text}");
        return;
    }
    // Links and scripts cannot take the window anywhere but the app's own pages.
    let nav_guard = tauri::plugin::Builder::<tauri::Wry>::new("kiosk-lockdown")
        .on_navigation(|_, url| {
            let ok = allowed_url(url);
            if !ok {
                tracing::warn!(%url, "navigation away from the kiosk refused");
            }
            ok
        })
        .build();
    let app = tauri::Builder::default()
        // First: a second start only focuses the running kiosk (D-Bus; without a session bus the
        // core's server lock on the database still refuses a second kiosk).
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.set_focus();
            }
        }))
        .plugin(nav_guard)
        // WebKitGTK denies getUserMedia silently without this.
        .on_permission_request(|_, kind| match kind {
            PermissionKind::Camera => PermissionResponse::Allow,
            _ => PermissionResponse::Deny,
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                let may = window
                    .try_state::<Shell>()
                    .is_none_or(|s| s.may_close.load(Ordering::SeqCst));
                if !may {
                    tracing::warn!("window close refused: leave the kiosk from the staff panel");
                    api.prevent_close();
                }
            }
        })
        .setup(move |app| start_core(app, started))
        .invoke_handler(tauri::generate_handler![
            kiosk_info,
            readiness,
            create_order,
            payment_status,
            cancel_order,
            check_payment,
            upload_shot,
            compose_order,
            order_preview,
            shot_overlay,
            sample_print,
            print_order,
            print_status,
            call_staff,
            ui_ready,
            staff_window_key,
            kiosk_key,
            simulate_payment,
            exit_kiosk
        ])
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: cannot start the kiosk window: {e}");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        if let RunEvent::Exit = event {
            let server = handle
                .try_state::<Shell>()
                .and_then(|s| s.server.lock().ok().and_then(|mut g| g.take()));
            if let Some(server) = server {
                tauri::async_runtime::block_on(server.shutdown());
            }
        }
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use fotobox_core::kiosk::KioskError;

    #[test]
    fn command_errors_serialize_with_kind_and_message() {
        let e = CommandError::from(OrderError::NotFound("AB12-CD34".into()));
        let v = serde_json::to_value(&e).unwrap_or_default();
        assert_eq!(
            v,
            serde_json::json!({"kind": "not_found", "message": "order AB12-CD34 not found"})
        );
        let e = CommandError::from(OrderError::Conflict("paid".into()));
        assert_eq!(e.kind, "conflict");
    }

    #[test]
    fn only_the_apps_own_pages_are_allowed() {
        let ok = |u: &str| allowed_url(&tauri::Url::parse(u).unwrap());
        assert!(ok("tauri://localhost/"));
        assert!(ok("tauri://localhost/staff.html"));
        assert!(ok("http://tauri.localhost/index.html"));
        assert!(!ok("https://example.com/"));
        assert!(!ok("http://127.0.0.1:5000/"));
        assert!(!ok("file:///etc/passwd"));
    }

    #[test]
    fn kiosk_errors_keep_their_kind() {
        let e = CommandError::from(KioskError::Conflict("order X is not paid".into()));
        assert_eq!(e.kind, "conflict");
        let e = CommandError::from(KioskError::Io(std::io::Error::other("/secret/path")));
        assert_eq!(e.kind, "internal");
        assert!(!e.message.contains("/secret"));
    }

    #[test]
    fn internal_errors_hide_details() {
        let e = CommandError::from(OrderError::Store(fotobox_store::StoreError::Invalid(
            "secret path /x".into(),
        )));
        assert_eq!(e.kind, "internal");
        assert!(!e.message.contains("/x"));
    }
}
