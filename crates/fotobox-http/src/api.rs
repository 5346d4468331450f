//! REST API handlers on the loopback listener (paths and shapes of the previous version).

use std::collections::HashMap;
use std::convert::Infallible;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio_stream::StreamExt as _;

use crate::error::ApiError;
use crate::extract::{
    date_param, has_staff_token, require_kiosk_caller, ApiJson, KioskCaller, Staff,
};
use fotobox_core::context::AppContext;
use fotobox_core::orders::{self, OrderRequest};
use fotobox_store::model::{PaymentStatus, Provider};
use fotobox_store::ListFilter;

pub fn routes() -> Router<AppContext> {
    Router::new()
        .route("/api/test", get(test))
        .route("/api/generate-qr", post(generate_qr))
        .route("/api/payment-status/{order_id}", get(payment_status))
        .route("/api/orders/{order_id}/cancel", post(cancel_order))
        .route("/api/qr/{order_id}", get(qr_image))
        .route("/api/events", get(events))
        .route("/api/test-payment/{order_id}", post(test_payment))
        .route("/api/payments", get(list_payments))
        .route("/api/payments/{id}", get(payment_detail))
        .route("/api/stats", get(stats))
}

async fn test(State(ctx): State<AppContext>) -> Result<Json<Value>, ApiError> {
    let n = ctx.store.count_payments().await?;
    Ok(Json(
        json!({"status": "ok", "database": "SQLite", "payments_count": n}),
    ))
}

/// The previous version's body, plus `lang`. Fields it does not know are ignored (the previous
/// frontend promised to need no change; a debug line names them); the config file stays strict.
#[derive(Debug, Deserialize)]
struct GenerateQr {
    payment_type: String,
    template: Option<String>,
    copies: Option<i64>,
    amount: Option<i64>,
    /// The customer's language for the provider's page: `uz` (default), `ru` or `en`.
    lang: Option<String>,
    #[serde(flatten)]
    unknown: std::collections::BTreeMap<String, serde::de::IgnoredAny>,
}

async fn generate_qr(
    State(ctx): State<AppContext>,
    parts: axum::http::request::Parts,
    ApiJson(body): ApiJson<GenerateQr>,
) -> Result<Json<orders::OrderView>, ApiError> {
    if !body.unknown.is_empty() {
        let names: Vec<&str> = body.unknown.keys().take(8).map(|k| truncated(k)).collect();
        tracing::debug!(fields = ?names, count = body.unknown.len(), "generate-qr: ignored unknown body fields");
    }
    let lang = orders::customer_lang(body.lang.as_deref())?;
    let provider = Provider::parse(&body.payment_type).ok_or_else(|| {
        ApiError::invalid(format!(
            "payment_type must be \"payme\" or \"click\", got {:?}",
            body.payment_type
        ))
    })?;
    let req = match (body.template, body.amount) {
        (Some(template), None) => OrderRequest::Priced {
            provider,
            template,
            copies: body.copies.unwrap_or(1),
        },
        (None, Some(amount)) => {
            // The kiosk never trusts a UI price for live money: explicit amounts are for staff
            // (or anyone in sandbox mode, as the legacy frontend did).
            if !ctx.config.mode.is_sandbox() && !has_staff_token(&parts, &ctx) {
                return Err(ApiError::unauthorized());
            }
            OrderRequest::Amount { provider, amount }
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "give either template (and copies) or amount, not both",
            ))
        }
        (None, None) => {
            return Err(ApiError::invalid(
                "template (and copies) or amount is required",
            ))
        }
    };
    Ok(Json(orders::create_order_in(&ctx, req, lang).await?))
}

/// At most 40 characters of a client's string, for a message or a log line.
fn truncated(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

async fn payment_status(
    State(ctx): State<AppContext>,
    Path(order_id): Path<String>,
) -> Result<Json<orders::StatusView>, ApiError> {
    Ok(Json(orders::payment_status(&ctx, &order_id).await?))
}

async fn cancel_order(
    _: KioskCaller,
    State(ctx): State<AppContext>,
    Path(order_id): Path<String>,
) -> Result<Json<orders::StatusView>, ApiError> {
    Ok(Json(orders::cancel_order(&ctx, &order_id).await?))
}

async fn qr_image(
    State(ctx): State<AppContext>,
    Path(order_id): Path<String>,
) -> Result<Response, ApiError> {
    let png = orders::qr_png(&ctx, &order_id).await?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

/// Server-sent events: every status change as it is committed (for browser kiosks).
async fn events(
    _: KioskCaller,
    State(ctx): State<AppContext>,
) -> Sse<impl futures_core::Stream<Item = Result<Event, Infallible>>> {
    let rx = ctx.events.subscribe();
    let stream = tokio_stream::wrappers::BroadcastStream::new(rx).filter_map(|ev| {
        ev.ok()
            .and_then(|ev| Event::default().event("status").json_data(ev).ok())
            .map(Ok)
    });
    // The stream ends when the server stops, so graceful shutdown does not wait on it.
    let stream = futures_util::StreamExt::take_until(stream, ctx.events.closed());
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn test_payment(
    State(ctx): State<AppContext>,
    Path(order_id): Path<String>,
    parts: axum::http::request::Parts,
) -> Result<Json<fotobox_core::sandbox::Simulated>, ApiError> {
    // Live mode: 404 whoever asks (the key is checked after, so nothing tells them apart).
    if !ctx.config.mode.is_sandbox() {
        return Err(ApiError::not_found("no such endpoint"));
    }
    require_kiosk_caller(&parts, &ctx)?;
    Ok(Json(
        fotobox_core::sandbox::simulate_payment(&ctx, &order_id).await?,
    ))
}

fn parse_i64(
    q: &HashMap<String, String>,
    key: &str,
    default: i64,
    max: i64,
) -> Result<i64, ApiError> {
    match q.get(key) {
        None => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (0..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid(format!(
                "{key} must be a whole number between 0 and {max}"
            ))),
        },
    }
}

async fn list_payments(
    _: Staff,
    State(ctx): State<AppContext>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let limit = parse_i64(&q, "limit", 100, 1000)?;
    let offset = parse_i64(&q, "offset", 0, i64::MAX)?;
    let status = match q.get("status") {
        None => None,
        Some(s) => Some(
            PaymentStatus::parse(s)
                .ok_or_else(|| ApiError::invalid("status must be pending, success or canceled"))?,
        ),
    };
    let payment_type = match q.get("payment_type").or(q.get("provider")) {
        None => None,
        Some(s) => Some(
            Provider::parse(s)
                .ok_or_else(|| ApiError::invalid("payment_type must be payme or click"))?
                .as_str()
                .to_string(),
        ),
    };
    let filter = ListFilter {
        status,
        payment_type,
        from: date_param(&q, "from")?,
        to: date_param(&q, "to")?,
    };
    let (total, payments) = ctx.store.list_payments(&filter, limit, offset).await?;
    Ok(Json(
        json!({"total": total, "limit": limit, "offset": offset, "payments": payments}),
    ))
}

async fn payment_detail(
    _: Staff,
    State(ctx): State<AppContext>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let p = fotobox_core::staff::find_payment(&ctx.store, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("payment {id} not found")))?;
    let events = ctx.store.events_for_payment(p.id).await?;
    let photos = ctx.store.photos_for_payment(p.id).await?;
    let mut v = serde_json::to_value(&p).map_err(|e| ApiError::internal(e.to_string()))?;
    v["events"] = json!(events);
    v["photos"] = json!(photos);
    Ok(Json(v))
}

async fn stats(
    _: Staff,
    State(ctx): State<AppContext>,
) -> Result<Json<fotobox_store::Stats>, ApiError> {
    Ok(Json(ctx.store.stats(ctx.clock.now()).await?))
}
