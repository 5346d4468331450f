//! The two routers: the callback router (the only one a tunnel may expose) and the loopback
//! REST API router. Both are plain axum services over the application context.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use fotobox_core::context::AppContext;

use crate::error::ApiError;
use crate::{api, callbacks, guard, health, kiosk, maintenance, staff, ui};

/// Largest request body either listener reads (provider callbacks are a few hundred bytes).
pub const BODY_LIMIT: usize = 64 * 1024;

/// Requests the callback listener works on at once (providers send a handful per payment).
pub const CALLBACK_CONCURRENCY: usize = 32;

async fn overloaded(_: tower::BoxError) -> (axum::http::StatusCode, &'static str) {
    (axum::http::StatusCode::SERVICE_UNAVAILABLE, "busy, retry")
}

pub use crate::redact::loggable_path;

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

/// Log each request's method, path and status (never bodies or headers, which carry secrets).
async fn log_request(State(ctx): State<AppContext>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = loggable_path(req.uri().path()).to_string();
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    ctx.metrics
        .observe_request(&path, resp.status().as_u16(), started.elapsed());
    tracing::debug!(%method, %path, status = resp.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    resp
}

/// The callback listener: provider callbacks and `GET /healthz`, nothing else.
pub fn callback_router(ctx: AppContext) -> Router {
    callback_router_limited(ctx, CALLBACK_CONCURRENCY)
}

/// [`callback_router`] with at most `limit` requests in flight across all its routes; more are
/// answered 503 at once (load shedding), so a flood on the internet-facing listener cannot
/// queue up work or starve the kiosk's loopback API.
pub fn callback_router_limited(ctx: AppContext, limit: usize) -> Router {
    let shed = tower::ServiceBuilder::new()
        .layer(axum::error_handling::HandleErrorLayer::new(overloaded))
        .load_shed()
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(limit));
    Router::new()
        .route("/healthz", get(health::healthz))
        .merge(callbacks::routes(&ctx))
        .fallback(not_found)
        .layer(shed)
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
        // Before any handler: DNS rebinding and cross-site writes are refused (crate::guard).
        .layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            guard::same_site_only,
        ))
        .layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            log_request,
        ))
        .with_state(ctx)
}
