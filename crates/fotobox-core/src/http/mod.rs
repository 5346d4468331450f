//! The two HTTP doors: the callback router (the only one a tunnel may expose) and the
//! loopback REST API router. Both are plain axum services over [`AppContext`].

pub mod api;
pub mod kiosk;
pub mod staff;
pub mod ui;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::context::AppContext;
use crate::orders::OrderError;
use crate::store::StoreError;

/// Largest request body either listener reads (provider callbacks are a few hundred bytes).
pub const BODY_LIMIT: usize = 64 * 1024;

/// Errors of the REST API: JSON `{"error": "..."}` with a fitting status, never internals.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("missing or wrong staff token")]
    Unauthorized,
    #[error("internal error")]
    Internal(String),
}

impl From<OrderError> for ApiError {
    fn from(e: OrderError) -> Self {
        match e {
            OrderError::NotFound(id) => ApiError::NotFound(format!("order {id} not found")),
            OrderError::BadRequest(m) => ApiError::BadRequest(m),
            OrderError::Conflict(m) => ApiError::Conflict(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(m) => ApiError::BadRequest(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Internal(detail) => {
                // The detail goes to the log, not to the client.
                tracing::error!(%detail, "internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let mut resp = (status, Json(json!({ "error": self.to_string() }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}

/// `Json<T>` whose rejection is an [`ApiError`] (a readable 400, not axum's plain text).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(ApiError::BadRequest(format!(
                "invalid JSON body: {}",
                rej.body_text()
            ))),
        }
    }
}

/// Marker extractor: present only when the request carries the staff bearer token.
pub struct Staff;

impl FromRequestParts<AppContext> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self, ApiError> {
        if has_staff_token(parts, ctx) {
            Ok(Staff)
        } else {
            Err(ApiError::Unauthorized)
        }
    }
}

/// Constant-time check of `Authorization: Bearer <staff_token>`.
pub fn has_staff_token(parts: &Parts, ctx: &AppContext) -> bool {
    let Some(value) = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(token) = value.strip_prefix("Bearer ") else {
        return false;
    };
    let expected = ctx.staff_token.expose().as_bytes();
    !expected.is_empty() && bool::from(token.trim().as_bytes().ct_eq(expected))
}

async fn healthz(axum::extract::State(ctx): axum::extract::State<AppContext>) -> Response {
    match sqlx::query("SELECT 1").execute(ctx.store.pool()).await {
        Ok(_) => Json(json!({"status": "ok"})).into_response(),
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

async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint".into())
}

/// Log each request's method, path and status (never bodies or headers, which carry secrets).
async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    crate::maintenance::metrics::observe_request(&path, resp.status().as_u16(), started.elapsed()); // metrics
    tracing::debug!(%method, %path, status = resp.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    resp
}

/// The callback listener: provider callbacks and `GET /healthz`, nothing else.
pub fn callback_router(ctx: AppContext) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(crate::payme::routes())
        .merge(crate::click::routes())
        .merge(crate::photos::routes())
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(ctx)
}

/// The loopback API listener: the kiosk UI's endpoints and the staff endpoints.
pub fn api_router(ctx: AppContext) -> Router {
    api::routes()
        .merge(kiosk::routes())
        .merge(staff::routes())
        // Detailed /healthz, /metrics and the maintenance endpoints (crate::maintenance).
        .merge(crate::maintenance::routes())
        .fallback(ui::serve)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(ctx)
}
