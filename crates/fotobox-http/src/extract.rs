//! Extractors: JSON bodies whose rejection is a readable 400, and the staff bearer token
//! (compared in constant time).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::Json;
use subtle::ConstantTimeEq;

use fotobox_core::context::AppContext;

use crate::error::ApiError;

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
            Err(rej) => Err(ApiError::invalid(format!(
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
            Err(ApiError::unauthorized())
        }
    }
}

/// The header that carries the per-boot kiosk key.
pub const KIOSK_KEY_HEADER: &str = "x-fotobox-kiosk-key";

/// Marker extractor: the caller is the kiosk page (header `X-Fotobox-Kiosk-Key` with this boot's
/// key) or staff (the bearer token). Guards the endpoints that take an order id, whose id is
/// otherwise the only credential for the customer's photos, and the event stream. It runs before
/// any body is read, so a refused request costs a header comparison.
pub struct KioskCaller;

impl FromRequestParts<AppContext> for KioskCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self, ApiError> {
        require_kiosk_caller(parts, ctx).map(|()| KioskCaller)
    }
}

/// The check behind [`KioskCaller`], for handlers that must decide something else first.
pub fn require_kiosk_caller(parts: &Parts, ctx: &AppContext) -> Result<(), ApiError> {
    let by_key = parts
        .headers
        .get(KIOSK_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|k| ctx.is_kiosk_key(k));
    if by_key || has_staff_token(parts, ctx) {
        return Ok(());
    }
    if ctx
        .metrics
        .count_auth_failure("kiosk_key", ctx.clock.now().timestamp())
    {
        tracing::warn!(path = %crate::redact::loggable_path(parts.uri.path()), "refused a request without the kiosk key");
    }
    Err(ApiError::new(
        fotobox_core::error::ErrorKind::Unauthorized,
        "this endpoint needs the kiosk key (X-Fotobox-Kiosk-Key) or the staff token",
    ))
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

/// A date query parameter: RFC 3339, or `YYYY-MM-DD` meaning that day's start (UTC). An absent
/// or empty value is `None`; anything else is a readable 400 naming the parameter.
pub fn date_param(
    q: &std::collections::HashMap<String, String>,
    key: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    let Some(v) = q.get(key).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Ok(Some(t.with_timezone(&chrono::Utc)));
    }
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| Some(d.and_utc()))
        .ok_or_else(|| ApiError::invalid(format!("{key} must be YYYY-MM-DD or an RFC 3339 time")))
}
