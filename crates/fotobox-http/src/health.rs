//! The callback listener's `GET /healthz`: what the tunnel check and the providers' monitors
//! see (states only, no paths or URLs).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use fotobox_core::context::AppContext;

/// `GET /healthz` on the callback listener: `{"status":"ok"}` while the database answers. While
/// it cannot be written (disk full or failed) the answer adds `"database":"not_writable"` and
/// the reason: the listener and the database still answer (callbacks get their protocol's
/// system error), so the tunnel check still sees the tunnel up, but the kiosk sells nothing.
pub async fn healthz(State(ctx): State<AppContext>) -> Response {
    match ctx.store.ping().await {
        Ok(_) => match ctx.store.write_failure() {
            None => Json(json!({"status": "ok"})).into_response(),
            Some(f) => {
                Json(json!({"status": "ok", "database": "not_writable", "reason": f.reason}))
                    .into_response()
            }
        },
        Err(e) => {
            tracing::error!(error = %e, "health check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "down", "database": "unavailable"})),
            )
                .into_response()
        }
    }
}
