//! The browser kiosk's endpoints beyond orders (`/api/kiosk/*`), over the same core functions as
//! the Tauri commands ([`crate::kiosk`]). Loopback only, like the rest of the API listener.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::{ApiJson, KioskCaller};
use fotobox_core::context::AppContext;
use fotobox_core::kiosk;

pub fn routes() -> Router<AppContext> {
    Router::new()
        .route("/api/kiosk/info", get(info))
        .route("/api/kiosk/readiness", get(readiness))
        .route(
            "/api/kiosk/layouts/{layout}/shots/{shot}/overlay",
            get(shot_overlay),
        )
        .route("/api/kiosk/layouts/{layout}/sample", get(sample_print))
        .route(
            "/api/kiosk/orders/{order_id}/shots/{index}",
            // A camera frame is far larger than the API's usual 64 KiB.
            post(upload_shot).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/kiosk/orders/{order_id}/compose", post(compose))
        .route("/api/kiosk/orders/{order_id}/preview", get(preview))
        .route(
            "/api/kiosk/orders/{order_id}/print",
            post(print).get(print_status),
        )
        .route("/api/kiosk/staff-call", post(staff_call))
}

async fn info(State(ctx): State<AppContext>) -> Result<Json<kiosk::KioskInfo>, ApiError> {
    Ok(Json(kiosk::info(&ctx).await?))
}

async fn readiness(
    State(ctx): State<AppContext>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<kiosk::KioskReadiness>, ApiError> {
    let copies = match q.get("copies") {
        None => 1,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| ApiError::invalid("copies must be a whole number from 1"))?,
    };
    Ok(Json(kiosk::readiness(&ctx, copies).await?))
}

/// Encoding the frame costs CPU: only the kiosk page (its key) may ask.
async fn shot_overlay(
    _: KioskCaller,
    State(ctx): State<AppContext>,
    Path((layout, shot)): Path<(String, usize)>,
) -> Result<Response, ApiError> {
    let png = kiosk::shot_overlay(&ctx, &layout, shot).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        png,
    )
        .into_response())
}

/// Composing a sample costs CPU: only the kiosk page (its key) may ask; the page keeps it.
async fn sample_print(
    _: KioskCaller,
    State(ctx): State<AppContext>,
    Path(layout): Path<String>,
) -> Result<Response, ApiError> {
    let jpeg = kiosk::sample_print(&ctx, &layout).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        jpeg,
    )
        .into_response())
}

/// The order and the index are checked before the body is read; then the body is read under the
/// cap while holding one of the few upload slots (`AppContext::heavy`).
async fn upload_shot(
    _: KioskCaller,
    State(ctx): State<AppContext>,
    Path((order_id, index)): Path<(String, usize)>,
    body: Body,
) -> Result<Json<kiosk::ShotSaved>, ApiError> {
    let target = kiosk::shot_target(&ctx, &order_id, index).await?;
    let _slot = ctx.heavy.upload().await;
    let bytes = axum::body::to_bytes(body, kiosk::MAX_SHOT_BYTES)
        .await
        .map_err(|_| ApiError::invalid("the picture is too large or its upload was cut off"))?;
    Ok(Json(
        kiosk::save_shot_to(&ctx, target, bytes.to_vec()).await?,
    ))
}

async fn compose(
    _: KioskCaller,
    State(ctx): State<AppContext>,
    Path(order_id): Path<String>,
) -> Result<Json<fotobox_core::photos::PhotoView>, ApiError> {
    Ok(Json(kiosk::compose(&ctx, &order_id).await?))
}

async fn preview(
    _: KioskCaller,
    State(ctx): State<AppContext>,
    Path(order_id): Path<String>,
) -> Result<Response, ApiError> {
    let jpeg = kiosk::preview(&ctx, &order_id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        jpeg,
    )
        .into_response())
}

async fn print(
    _: KioskCaller,
    State(ctx): State<AppContext>,
    Path(order_id): Path<String>,
) -> Result<Json<kiosk::PrintProgress>, ApiError> {
    Ok(Json(kiosk::print(&ctx, &order_id).await?))
}

async fn print_status(
    _: KioskCaller,
    State(ctx): State<AppContext>,
    Path(order_id): Path<String>,
) -> Result<Json<kiosk::PrintProgress>, ApiError> {
    Ok(Json(kiosk::print_status(&ctx, &order_id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StaffCallBody {
    order_id: Option<String>,
    reason: String,
}

async fn staff_call(
    _: KioskCaller,
    State(ctx): State<AppContext>,
    ApiJson(body): ApiJson<StaffCallBody>,
) -> Result<Json<kiosk::StaffCall>, ApiError> {
    Ok(Json(
        kiosk::call_staff(&ctx, body.order_id.as_deref(), &body.reason).await?,
    ))
}
