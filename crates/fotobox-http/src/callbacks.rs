//! The tunnel-facing routes: Payme's JSON-RPC webhook, Click's prepare and complete, and the
//! customer's digital copy (`/p/{token}`). Each answers in its protocol's own format; the
//! protocol logic lives in the domain (`fotobox_core::payme`, `fotobox_core::click`).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde_json::Value;

use fotobox_core::click::{self, Endpoint, COMPLETE_PATH, PREPARE_PATH};
use fotobox_core::context::AppContext;
use fotobox_core::payme::{self, protocol, WEBHOOK_PATH};
use fotobox_core::photos;

/// Routes mounted on the callback listener (besides `/healthz`). A provider without
/// credentials is not mounted at all: its paths answer 404 and reach no code of ours.
pub fn routes(ctx: &AppContext) -> Router<AppContext> {
    let mut r = Router::new()
        .route("/p/{token}", get(digital_copy))
        .route("/p/{token}/photo.jpg", get(copy_photo))
        .route("/p/{token}/download", get(copy_download));
    if ctx.config.payme_enabled() {
        r = r.route(WEBHOOK_PATH, any(payme_webhook));
    }
    if ctx.config.click_enabled() {
        r = r
            .route(PREPARE_PATH, post(click_prepare))
            .route(COMPLETE_PATH, post(click_complete));
    }
    r
}

/// Payme: every answer is HTTP 200 with a JSON-RPC body (payme.md §2), even for a wrong method
/// or a refused body.
async fn payme_webhook(
    State(ctx): State<AppContext>,
    method: Method,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let answer = if method != Method::POST {
        protocol::err_body(
            &Value::Null,
            &protocol::RpcError::new(protocol::code::NOT_POST),
        )
    } else {
        match body {
            Ok(body) => {
                let auth = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
                payme::handle(&ctx, auth, &body).await
            }
            // Over the body limit (or an aborted upload): refused without reading further.
            Err(rej) => {
                tracing::warn!(
                    status = rej.status().as_u16(),
                    "payme webhook: body refused"
                );
                protocol::err_body(&Value::Null, &protocol::RpcError::invalid("body"))
            }
        }
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        answer.to_string(),
    )
        .into_response()
}

async fn click_prepare(
    State(ctx): State<AppContext>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    click_answer(&ctx, Endpoint::Prepare, body).await
}

async fn click_complete(
    State(ctx): State<AppContext>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    click_answer(&ctx, Endpoint::Complete, body).await
}

/// Click: a flat JSON object with HTTP 200 (413 for a body over the limit, still with `-8`).
async fn click_answer(
    ctx: &AppContext,
    ep: Endpoint,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match body {
        Ok(bytes) => Json(click::process(ctx, ep, &bytes).await).into_response(),
        Err(rej) => {
            let answer = click::unreadable_body(ep);
            if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                tracing::warn!(
                    endpoint = ep.kind(),
                    "click callback body over the limit refused"
                );
                (StatusCode::PAYLOAD_TOO_LARGE, Json(answer)).into_response()
            } else {
                Json(answer).into_response()
            }
        }
    }
}

/// `GET /p/{token}`: for a browser (it asks for HTML) the page with the photo, a download
/// button and the fiscal receipt ([`crate::copy_page`]); for anything else the composite itself
/// (as the previous version served it); a plain 404 for an unknown or expired token.
async fn digital_copy(
    State(ctx): State<AppContext>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let wants_page = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if !wants_page {
        return copy_photo(State(ctx), Path(token)).await;
    }
    // The page only links to the photo: the file is not read here.
    let order_id = match photos::digital_copy_order(&ctx, &token).await {
        Ok(Some(id)) => id,
        Ok(None) => return (StatusCode::NOT_FOUND, "not found").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "download lookup failed");
            return (StatusCode::NOT_FOUND, "not found").into_response();
        }
    };
    use fotobox_core::fiscal::receipts;
    // "On its way" only where receipts are expected (a sandbox without [fiscal] gets none).
    let receipt = receipts::for_order(&ctx, &order_id)
        .await
        .filter(|r| r.url.is_some() || receipts::expected(&ctx));
    crate::copy_page::response(&token, &order_id, receipt.as_ref())
}

/// `GET /p/{token}/photo.jpg`: the composite, shown in the page.
async fn copy_photo(State(ctx): State<AppContext>, Path(token): Path<String>) -> Response {
    match copy_for(&ctx, &token).await {
        Some(copy) => jpeg_response(copy, "inline"),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// `GET /p/{token}/download`: the composite as a file to keep.
async fn copy_download(State(ctx): State<AppContext>, Path(token): Path<String>) -> Response {
    match copy_for(&ctx, &token).await {
        Some(copy) => jpeg_response(copy, "attachment"),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// The copy behind a live token; `None` (a 404) for anything else, and for a failed lookup
/// (logged; the customer sees no internals).
async fn copy_for(ctx: &AppContext, token: &str) -> Option<photos::DigitalCopy> {
    match photos::digital_copy(ctx, token).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "download lookup failed");
            None
        }
    }
}

fn jpeg_response(copy: photos::DigitalCopy, disposition: &str) -> Response {
    let mut resp = copy.jpeg.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let disposition = format!("{disposition}; filename=\"fotobox-{}.jpg\"", copy.order_id);
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}
