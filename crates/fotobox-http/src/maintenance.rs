//! HTTP routes of unattended operation, mounted on the API listener only: the detailed
//! `GET /healthz`, `GET /metrics`, the Click status check a customer may trigger, and the staff
//! endpoints behind the staff panel (the staff token or a PIN session; actions are audited).

use axum::extract::FromRequestParts;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::error::ApiError;
use crate::extract::KioskCaller;
use crate::staff::PanelAuth;
use fotobox_core::click_api;
use fotobox_core::context::AppContext;
use fotobox_store::maintenance as q;

use fotobox_core::maintenance::health;
use fotobox_core::maintenance::state::Level;

/// The routes (state: [`AppContext`]).
pub fn routes() -> Router<AppContext> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/orders/{order_id}/check-status", post(check_status))
        .route("/api/maintenance/status", get(status))
        .route("/api/maintenance/alerts", get(list_alerts))
        .route("/api/maintenance/alerts/{id}/ack", post(ack_alert))
        .route("/api/maintenance/backup", post(backup_now))
        .route("/api/maintenance/retention", post(retention_now))
        .merge(panel_routes())
}

/// The maintenance routes the staff panel's Devices page calls: with the panel's CORS for the
/// Tauri window (its page is `tauri://localhost`, the API another origin).
fn panel_routes() -> Router<AppContext> {
    Router::new()
        .route("/api/maintenance/vacuum", post(vacuum))
        .route("/api/maintenance/tunnel/log", get(tunnel_log))
        .layer(axum::middleware::from_fn(crate::staff::tauri_cors))
}

/// `GET /healthz` on the API listener: every part's state for anyone on the machine; the
/// details (file paths, the public URL, disk sizes) only with the staff token or a PIN session.
async fn healthz(State(ctx): State<AppContext>, mut parts: Parts) -> Response {
    let staff = PanelAuth::from_request_parts(&mut parts, &ctx)
        .await
        .is_ok();
    let report = health::collect(&ctx).await;
    let code = if report.status == Level::Down {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let full = serde_json::to_value(&report).unwrap_or_default();
    let body = if staff { full } else { states_only(&full) };
    (code, Json(body)).into_response()
}

/// The report reduced to states: top-level scalars and each part's `status`, plus its `reason`
/// when it has one (a short text without paths: why the database cannot be written).
fn states_only(full: &serde_json::Value) -> serde_json::Value {
    let Some(map) = full.as_object() else {
        return json!({});
    };
    let out = map
        .iter()
        .map(|(k, v)| match v {
            serde_json::Value::Object(part) => {
                let status = part.get("status").cloned().unwrap_or_default();
                let mut reduced = json!({ "status": status });
                if let Some(reason) = part.get("reason") {
                    reduced["reason"] = reason.clone();
                }
                (k.clone(), reduced)
            }
            other => (k.clone(), other.clone()),
        })
        .collect();
    serde_json::Value::Object(out)
}

async fn metrics(State(ctx): State<AppContext>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        fotobox_core::maintenance::metrics::render(&ctx).await,
    )
        .into_response()
}

/// The customer says they paid: ask Click (at most once every 10 s per order, in the domain).
async fn check_status(
    _: KioskCaller,
    State(ctx): State<AppContext>,
    Path(order_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let r = click_api::customer_check(&ctx, &order_id).await?;
    Ok(Json(json!({
        "order_id": r.order_id,
        "status": r.status,
        "click_payment_status": r.remote.payment_status,
        "click_error_code": r.remote.error_code,
        "paid_at_click_unconfirmed": r.paid_at_click_unconfirmed,
    })))
}

async fn status(
    _: PanelAuth,
    State(ctx): State<AppContext>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let report = health::collect(&ctx).await;
    let runs = q::recent_runs(ctx.store.pool(), 20).await?;
    let checks = q::recent_tunnel_checks(ctx.store.pool(), 20).await?;
    let backups: Vec<_> = fotobox_core::maintenance::backups::list_dir(
        &fotobox_core::maintenance::backups::auto_dir(&ctx.config, &ctx.data_dir),
    );
    Ok(Json(json!({
        "health": report,
        "supervisor": ctx.maintenance.supervisor(),
        "recent_runs": runs,
        "tunnel_checks": checks,
        "backups": backups,
    })))
}

#[derive(Deserialize)]
struct AlertsQuery {
    #[serde(default)]
    open: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

async fn list_alerts(
    _: PanelAuth,
    State(ctx): State<AppContext>,
    Query(p): Query<AlertsQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let open = matches!(p.open.as_deref(), Some("1" | "true" | "yes"));
    let alerts = q::list_alerts(
        ctx.store.pool(),
        open,
        p.limit.unwrap_or(100).clamp(1, 1000),
    )
    .await?;
    Ok(Json(json!({ "alerts": alerts })))
}

/// The same audited acknowledgement as `POST /api/staff/alerts/{id}/ack` (one way to ack).
async fn ack_alert(
    PanelAuth(actor): PanelAuth,
    State(ctx): State<AppContext>,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let alert = fotobox_core::panel::acknowledge_alert(&ctx, actor, id).await?;
    Ok(Json(json!({"acknowledged": id, "alert": alert})))
}

async fn backup_now(
    PanelAuth(actor): PanelAuth,
    State(ctx): State<AppContext>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let o = fotobox_core::maintenance::backups::run_backup(&ctx).await?;
    audit(&ctx, actor, "maintenance_backup").await;
    Ok(Json(json!(o)))
}

async fn vacuum(
    PanelAuth(actor): PanelAuth,
    State(ctx): State<AppContext>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (before, after) = fotobox_core::maintenance::retention::vacuum(&ctx).await?;
    audit(&ctx, actor, "maintenance_vacuum").await;
    Ok(Json(json!({"bytes_before": before, "bytes_after": after})))
}

async fn retention_now(
    PanelAuth(actor): PanelAuth,
    State(ctx): State<AppContext>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let r = fotobox_core::maintenance::retention::run(&ctx).await?;
    audit(&ctx, actor, "maintenance_retention").await;
    Ok(Json(json!(r)))
}

/// Staff maintenance actions go into the panel's audit trail (a failed audit write is logged,
/// the action itself already happened).
async fn audit(ctx: &AppContext, actor: fotobox_core::panel::Actor, action: &str) {
    if let Err(e) = fotobox_core::panel::audit(ctx, actor, action, None, None, json!({})).await {
        tracing::warn!(error = %e, action, "audit entry not written");
    }
}

async fn tunnel_log(_: PanelAuth, State(ctx): State<AppContext>) -> Json<serde_json::Value> {
    let s = ctx.maintenance.supervisor();
    Json(json!({"supervisor": s}))
}
