//! The Fotobox kiosk window: starts the same core as `fotobox serve` in `setup`, exposes thin
//! commands over it, forwards status events to the page, and stops the core when the app exits.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::sync::Mutex;

use fotobox_core::model::Provider;
use fotobox_core::orders::{self, OrderError, OrderRequest, OrderView, StatusView};
use fotobox_core::server::RunningServer;
use fotobox_core::{AppContext, Config};
use serde::Serialize;
use tauri::{Emitter, Manager, RunEvent};

/// What every command returns on failure: a kind the page can switch on and a readable message.
#[derive(Debug, Serialize, thiserror::Error)]
#[error("{message}")]
struct CommandError {
    kind: &'static str,
    message: String,
}

impl From<OrderError> for CommandError {
    fn from(e: OrderError) -> Self {
        let kind = match &e {
            OrderError::NotFound(_) => "not_found",
            OrderError::BadRequest(_) => "bad_request",
            OrderError::Conflict(_) => "conflict",
            OrderError::Store(_) | OrderError::Qr(_) => "internal",
        };
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

/// State managed by Tauri: the core context and the running server.
struct Shell {
    ctx: AppContext,
    server: Mutex<Option<RunningServer>>,
    _log: Option<fotobox_core::logging::Guard>,
}

#[derive(Serialize)]
struct KioskInfo {
    mode: String,
    api_url: String,
    layouts: Vec<(String, i64)>,
    extra_copy: i64,
}

#[tauri::command]
fn kiosk_info(shell: tauri::State<'_, Shell>) -> KioskInfo {
    let cfg = &shell.ctx.config;
    let api_url = shell
        .server
        .lock()
        .ok()
        .and_then(|s| s.as_ref().map(|s| format!("http://{}", s.api_addr)))
        .unwrap_or_default();
    KioskInfo {
        mode: format!("{:?}", cfg.mode).to_lowercase(),
        api_url,
        layouts: cfg
            .pricing
            .layouts
            .iter()
            .map(|(k, v)| (k.clone(), v.0))
            .collect(),
        extra_copy: cfg.pricing.extra_copy,
    }
}

#[tauri::command]
async fn create_order(
    shell: tauri::State<'_, Shell>,
    payment_type: String,
    template: String,
    copies: i64,
) -> Result<OrderView, CommandError> {
    let provider = Provider::parse(&payment_type)
        .ok_or_else(|| OrderError::BadRequest(format!("unknown payment type {payment_type:?}")))?;
    Ok(orders::create_order(
        &shell.ctx,
        OrderRequest::Priced {
            provider,
            template,
            copies,
        },
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

fn start_core(app: &mut tauri::App) -> Result<(), Box<dyn std::error::Error>> {
    let config_path = std::env::var_os("FOTOBOX_CONFIG").map(std::path::PathBuf::from);
    let cfg = Config::load(config_path.as_deref())?;
    let data_dir = cfg.resolve_data_dir()?;
    std::fs::create_dir_all(&data_dir)?;
    let log = fotobox_core::logging::init(&data_dir);
    let (ctx, server) = tauri::async_runtime::block_on(async {
        let ctx = AppContext::new(cfg).await?;
        let server = fotobox_core::server::start(ctx.clone()).await?;
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
    app.manage(Shell {
        ctx,
        server: Mutex::new(Some(server)),
        _log: log,
    });
    Ok(())
}

fn main() {
    let app = tauri::Builder::default()
        .setup(start_core)
        .invoke_handler(tauri::generate_handler![
            kiosk_info,
            create_order,
            payment_status,
            cancel_order
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
mod tests {
    use super::*;

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
    fn internal_errors_hide_details() {
        let e = CommandError::from(OrderError::Store(fotobox_core::store::StoreError::Invalid(
            "secret path /x".into(),
        )));
        assert_eq!(e.kind, "internal");
        assert!(!e.message.contains("/x"));
    }
}
