//! The two routers: the callback router (the only one a tunnel may expose) and the loopback
//! REST API router. Both are plain axum services over the application context.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use fotobox_core::context::AppContext;

use crate::error::ApiError;
use crate::{api, callbacks, health, kiosk, maintenance, staff, ui};

/// Largest request body either listener reads (provider callbacks are a few hundred bytes).
pub const BODY_LIMIT: usize = 64 * 1024;

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

/// Log each request's method, path and status (never bodies or headers, which carry secrets).
async fn log_request(State(ctx): State<AppContext>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    ctx.metrics
        .observe_request(&path, resp.status().as_u16(), started.elapsed());
    tracing::debug!(%method, %path, status = resp.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    resp
}

/// The callback listener: provider callbacks and `GET /healthz`, nothing else.
pub fn callback_router(ctx: AppContext) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .merge(callbacks::routes())
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            log_request,
        ))
        .with_state(ctx)
}

/// The loopback API listener: the kiosk UI's endpoints and the staff endpoints.
pub fn api_router(ctx: AppContext) -> Router {
    api::routes()
        .merge(kiosk::routes())
        .merge(staff::routes())
        // Detailed /healthz, /metrics and the maintenance endpoints (crate::maintenance).
        .merge(maintenance::routes())
        .fallback(ui::serve)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            log_request,
        ))
        .with_state(ctx)
}
