//! The one place where error kinds become HTTP answers: `{"error": "..."}` (plus the error's
//! details, such as `attempts_left`) with the kind's status; internal errors are logged and
//! answered without internals.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use fotobox_core::error::{DomainError, ErrorKind};

/// An error answer of the REST API.
#[derive(Debug)]
pub struct ApiError {
    kind: ErrorKind,
    message: String,
    details: Option<Value>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ApiError {
        ApiError {
            kind,
            message: message.into(),
            details: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::Invalid, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::Conflict, message)
    }

    /// No or a wrong staff token (the endpoints that take only the token).
    pub fn unauthorized() -> ApiError {
        ApiError::new(ErrorKind::Unauthorized, "missing or wrong staff token")
    }

    pub fn internal(detail: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::Internal, detail)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl<E: DomainError> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError {
            kind: e.kind(),
            message: e.to_string(),
            details: e.details(),
        }
    }
}

/// The status of each kind.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Locked => StatusCode::LOCKED,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(self.kind);
        let mut body = if self.kind == ErrorKind::Internal {
            // The detail goes to the log, not to the client.
            tracing::error!(detail = %self.message, "internal error");
            json!({ "error": "internal error" })
        } else {
            json!({ "error": self.message })
        };
        if let (Some(b), Some(Value::Object(extra))) = (body.as_object_mut(), self.details) {
            b.extend(extra);
        }
        let mut resp = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}
