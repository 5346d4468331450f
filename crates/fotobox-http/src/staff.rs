//! The staff panel's endpoints (`/api/staff/*` and `/api/settings`) on the API listener.
//!
//! Auth: every endpoint but login, the pad state and `GET /api/settings` takes either the static
//! staff token or a PIN session token as `Authorization: Bearer …` ([`PanelAuth`]). Login needs
//! the PIN plus either the staff token (a browser) or the window key (the Tauri window, which
//! gets it from its shell). Requests from the Tauri window's origin get CORS headers.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::extract::{date_param, has_staff_token, ApiJson};
use crate::guard::TAURI_ORIGINS;
use fotobox_core::context::AppContext;
use fotobox_core::panel::{self, Actor, Client, PanelError};
use fotobox_core::selftest;
use fotobox_store::model::{PaymentStatus, Provider};
use fotobox_store::ListFilter;

pub fn routes() -> Router<AppContext> {
    Router::new()
        .route("/api/settings", get(get_settings).put(put_settings))
        .route("/api/staff/pad", get(pad))
        .route("/api/staff/login", post(login))
        .route("/api/staff/logout", post(logout))
        .route("/api/staff/session", get(session))
        .route("/api/staff/info", get(info))
        .route("/api/staff/attempts", get(attempts))
        .route("/api/staff/audit", get(audit))
        .route("/api/staff/stats", get(stats))
        .route("/api/staff/payments", get(list_payments))
        .route("/api/staff/payments/{id}", get(payment_detail))
        .route("/api/staff/payments/{id}/refund", post(refund))
        .route(
            "/api/staff/payments/{id}/provider-refund",
            post(provider_refund),
        )
        .route("/api/staff/reconciliation", get(reconciliation))
        .route("/api/staff/payments/{id}/reprint", post(reprint))
        .route("/api/staff/comp", post(comp))
        .route("/api/staff/export", get(export_targets).post(export))
        .route("/api/staff/backups", get(backups).post(backup_now))
        .route("/api/staff/backups/{name}/restore", post(restore))
        .route("/api/staff/clear", post(clear))
        .route("/api/staff/devices", get(devices))
        .route("/api/staff/doctor", get(doctor))
        .route("/api/staff/alerts", get(alerts))
        .route("/api/staff/alerts/{id}/ack", post(ack_alert))
        .route("/api/staff/paper/reset", post(reset_paper))
        .route("/api/staff/selftest", get(self_tests))
        .route("/api/staff/selftest/print", post(self_test_print))
        .route(
            "/api/staff/selftest/camera",
            post(self_test_camera).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/api/staff/selftest/camera/failure",
            post(self_test_camera_failed),
        )
        .route(
            "/api/staff/selftest/payment-path",
            post(self_test_payment_path),
        )
        .route("/api/staff/settings/history", get(settings_history))
        .route("/api/staff/sound", get(get_sound).put(put_sound))
        .route("/api/staff/pin", post(change_pin))
        .route("/api/staff/exit", post(exit))
        .layer(axum::middleware::from_fn(tauri_cors))
}

/// CORS for the Tauri window only (its page is `tauri://localhost`, the API is
/// `http://127.0.0.1:…`). Browsers load the panel from the API listener itself (same origin).
pub(crate) async fn tauri_cors(req: Request, next: Next) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| TAURI_ORIGINS.contains(o))
        .and_then(|o| HeaderValue::from_str(o).ok());
    let Some(origin) = origin else {
        return next.run(req).await;
    };
    let mut resp = if req.method() == Method::OPTIONS {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        r
    } else {
        next.run(req).await
    };
    resp.headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    resp.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Origin"));
    resp
}

type R<T> = Result<T, ApiError>;

fn bearer(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The caller of a staff endpoint: the static staff token or a live PIN session (which this
/// request keeps alive).
pub struct PanelAuth(pub Actor);

impl FromRequestParts<AppContext> for PanelAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> R<Self> {
        if has_staff_token(parts, ctx) {
            return Ok(PanelAuth(Actor::Token));
        }
        let Some(token) = bearer(parts) else {
            return Err(PanelError::Unauthorized.into());
        };
        match panel::session_client(ctx, &token).await? {
            Some(c) => Ok(PanelAuth(Actor::Pin(c))),
            None => Err(PanelError::Unauthorized.into()),
        }
    }
}

// ---------------------------------------------------------------- settings (prices)

async fn get_settings(State(ctx): State<AppContext>) -> R<Json<fotobox_core::pricing::Pricing>> {
    Ok(Json(fotobox_core::pricing::effective_pricing(&ctx).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutSettings {
    #[serde(default)]
    layouts: BTreeMap<String, Value>,
    extra_copy: Option<Value>,
}

async fn put_settings(
    PanelAuth(actor): PanelAuth,
    State(ctx): State<AppContext>,
    body: Result<ApiJson<PutSettings>, ApiError>,
) -> R<Json<fotobox_core::pricing::Pricing>> {
    let ApiJson(body) = body?;
    Ok(Json(
        panel::save_pricing(&ctx, actor, &body.layouts, body.extra_copy.as_ref()).await?,
    ))
}

async fn settings_history(_: PanelAuth, State(ctx): State<AppContext>) -> R<Json<Value>> {
    Ok(Json(json!({"history": ctx.store.price_history(50).await?})))
}

// ---------------------------------------------------------------- sound

async fn get_sound(
    _: PanelAuth,
    State(ctx): State<AppContext>,
) -> R<Json<fotobox_core::sound::SoundView>> {
    Ok(Json(fotobox_core::sound::view(&ctx).await?))
}

async fn put_sound(
    PanelAuth(actor): PanelAuth,
    State(ctx): State<AppContext>,
    body: Result<ApiJson<fotobox_core::sound::SoundPatch>, ApiError>,
) -> R<Json<fotobox_core::sound::SoundView>> {
    let ApiJson(patch) = body?;
    Ok(Json(
        fotobox_core::sound::save(&ctx, actor.as_str(), &patch).await?,
    ))
}

// ---------------------------------------------------------------- login

async fn pad(State(ctx): State<AppContext>) -> R<Json<panel::PadState>> {
    Ok(Json(panel::pad_state(&ctx).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    pin: String,
    window_key: Option<String>,
}

async fn login(
    State(ctx): State<AppContext>,
    parts: Parts,
    body: Result<ApiJson<LoginBody>, ApiError>,
) -> R<Json<panel::Login>> {
    let ApiJson(body) = body?;
    let client = match body.window_key.as_deref() {
        Some(k) if panel::is_window_key(&ctx, k) => Client::Window,
        _ if has_staff_token(&parts, &ctx) => Client::Browser,
        _ => {
            panel::record_refused_login(&ctx).await?;
            return Err(PanelError::Unauthorized.into());
        }
    };
    Ok(Json(panel::login(&ctx, &body.pin, client).await?))
}

async fn logout(State(ctx): State<AppContext>, parts: Parts) -> R<Json<Value>> {
    let ended = match bearer(&parts) {
        Some(t) => panel::logout(&ctx, &t).await?,
        None => false,
    };
    Ok(Json(json!({"ended": ended})))
}

async fn session(PanelAuth(actor): PanelAuth, State(ctx): State<AppContext>) -> Json<Value> {
    Json(json!({
        "actor": actor.as_str(),
        "idle_timeout_seconds": ctx.config.staff.idle_timeout_seconds,
    }))
}

async fn info(_: PanelAuth, State(ctx): State<AppContext>) -> R<Json<Value>> {
    Ok(Json(json!({
        "mode": format!("{:?}", ctx.config.mode).to_lowercase(),
        "utc_offset_minutes": ctx.config.photos.utc_offset_minutes,
        "idle_timeout_seconds": ctx.config.staff.idle_timeout_seconds,
        "refund_window_hours": ctx.config.payme.refund_window_hours,
        "pricing": fotobox_core::pricing::effective_pricing(&ctx).await?,
        "export_dirs": panel::export_roots(&ctx),
        "backup_dir": ctx.backup_dir(),
    })))
}

fn parse_i64(q: &HashMap<String, String>, key: &str, default: i64, max: i64) -> R<i64> {
    match q.get(key).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (0..=max).contains(&n) => Ok(n),
            _ => Err(PanelError::Invalid(format!(
                "{key} must be a whole number between 0 and {max}"
            ))
            .into()),
        },
    }
}

async fn attempts(
    _: PanelAuth,
    State(ctx): State<AppContext>,
    Query(q): Query<HashMap<String, String>>,
) -> R<Json<Value>> {
    let limit = parse_i64(&q, "limit", 50, 1000)?;
    Ok(Json(
        json!({"attempts": ctx.store.login_attempts(limit).await?}),
    ))
}

async fn audit(
    _: PanelAuth,
    State(ctx): State<AppContext>,
    Query(q): Query<HashMap<String, String>>,
) -> R<Json<Value>> {
    let limit = parse_i64(&q, "limit", 50, 1000)?;
    let offset = parse_i64(&q, "offset", 0, i64::MAX)?;
    let payment_id = match q.get("payment_id").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(
            v.parse::<i64>()
                .map_err(|_| PanelError::Invalid("payment_id must be a number".into()))?,
        ),
    };
    let (total, entries) = ctx.store.audit_entries(payment_id, limit, offset).await?;
    Ok(Json(json!({"total": total, "entries": entries})))
}

// ---------------------------------------------------------------- dashboard and payments

/// The same `Store::stats` as `GET /api/stats` and `fotobox stats`, with the panel's clock.
async fn stats(_: PanelAuth, State(ctx): State<AppContext>) -> R<Json<fotobox_store::Stats>> {
    Ok(Json(ctx.store.stats(ctx.clock.now()).await?))
}

/// Filters shared by the list and the export: `status`, `provider` (or `payment_type`),
/// `from` (inclusive), `to` (exclusive; a plain date means "before that day").
fn parse_filter(q: &HashMap<String, String>) -> R<ListFilter> {
    let status = match q.get("status").filter(|v| !v.is_empty()) {
        None => None,
        Some(s) => Some(PaymentStatus::parse(s).ok_or_else(|| {
            PanelError::Invalid("status must be pending, success or canceled".into())
        })?),
    };
    let payment_type = match q
        .get("provider")
        .or(q.get("payment_type"))
        .filter(|v| !v.is_empty())
    {
        None => None,
        Some(s) => Some(
            Provider::parse(s)
                .ok_or_else(|| PanelError::Invalid("provider must be payme or click".into()))?
                .as_str()
                .to_string(),
        ),
    };
    Ok(ListFilter {
        status,
        payment_type,
        from: date_param(q, "from")?,
        to: date_param(q, "to")?,
    })
}

async fn list_payments(
    _: PanelAuth,
    State(ctx): State<AppContext>,
    Query(q): Query<HashMap<String, String>>,
) -> R<Json<Value>> {
    let limit = parse_i64(&q, "limit", 20, 1000)?;
    let offset = parse_i64(&q, "offset", 0, i64::MAX)?;
    let filter = parse_filter(&q)?;
    let (total, rows) = ctx.store.list_payments(&filter, limit, offset).await?;
    let comps = ctx
        .store
        .comp_ids(&rows.iter().map(|p| p.id).collect::<Vec<_>>())
        .await?;
    let payments: Vec<Value> = rows
        .iter()
        .map(|p| {
            let mut v = serde_json::to_value(p).unwrap_or_default();
            v["comp"] = json!(comps.contains(&p.id));
            v["refunded"] = json!(p.cancel_reason.as_deref() == Some("staff:refund"));
            v
        })
        .collect();
    Ok(Json(
        json!({"total": total, "limit": limit, "offset": offset, "payments": payments}),
    ))
}

async fn payment_detail(
    _: PanelAuth,
    State(ctx): State<AppContext>,
    Path(id): Path<String>,
) -> R<Json<Value>> {
    let p = panel::find(&ctx, &id).await?;
    let events = ctx.store.events_for_payment(p.id).await?;
    let photos = ctx.store.photos_for_payment(p.id).await?;
    let (_, audit) = ctx.store.audit_entries(Some(p.id), 100, 0).await?;
    let comp = ctx.store.comp_for_payment(p.id).await?;
    let mut v = serde_json::to_value(&p).map_err(|e| ApiError::internal(e.to_string()))?;
    v["refunded"] = json!(p.cancel_reason.as_deref() == Some("staff:refund"));
    v["provider_refund"] = json!(fotobox_core::refunds::view(&ctx, &p).await?);
    v["receipt"] = json!(fotobox_core::fiscal::receipts::for_payment(&ctx, &p).await?);
    v["comp"] = json!(comp);
    v["events"] = json!(events);
    v["photos"] = json!(photos);
    v["audit"] = json!(audit);
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: String,
}

async fn refund(
    PanelAuth(actor): PanelAuth,
    State(ctx): State<AppContext>,
    Path(id): Path<String>,
    body: Result<ApiJson<ReasonBody>, ApiError>,
) -> R<Json<Value>> {
    let ApiJson(body) = body?;
    let p = panel::refund(&ctx, actor, &id, &body.reason).await?;
    Ok(Json(json!({"payment": p})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderRefundBody {
    reason: String,
    /// The order id again: the panel asked for a confirmation.
    confirm: String,
}

/// Refund through the provider: a Click reversal, or a Payme refund window
/// (`fotobox_core::refunds`). Click's refusal is a recorded outcome (200), not an error.
async fn provider_refund(
    PanelAuth(actor): PanelAuth,
    State(ctx): State<AppContext>,
    Path(id): Path<String>,
    body: Result<ApiJson<ProviderRefundBody>, ApiError>,
) -> R<Json<fotobox_core::refunds::RefundResult>> {
    let ApiJson(b) = body?;
    Ok(Json(
        fotobox_core::refunds::provider_refund(&ctx, actor, &id, &b.reason, &b.confirm).await?,
    ))
}

/// The daily reconciliation of `?date=YYYY-MM-DD` (kiosk-local; default today).
async fn reconciliation(
    _: PanelAuth,
    State(ctx): State<AppContext>,
    Query(q): Query<HashMap<String, String>>,
) -> R<Json<fotobox_core::reconcile::Reconciliation>> {
    let day = match q.get("date").filter(|v| !v.is_empty()) {
        None => fotobox_core::reconcile::today(&ctx),
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| PanelError::Invalid("date must be YYYY-MM-DD".into()))?,
    };
    Ok(Json(fotobox_core::reconcile::for_day(&ctx, day).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReprintBody {
    reason: String,
    copies: Option<i64>,
}

async fn reprint(
    PanelAuth(actor): PanelAuth,
    State(ctx): State<AppContext>,
    Path(id): Path<String>,
    body: Result<ApiJson<ReprintBody>, ApiError>,
) -> R<Json<panel::Reprint>> {
    let ApiJson(b) = body?;
    Ok(Json(
        panel::reprint(&ctx, actor, &id, b.copies, &b.reason).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompBody {
    template: String,
    copies: Option<i64>,
    reason: String,
}

async fn comp(
    PanelAuth(actor): PanelAuth,
    State(ctx): State<AppContext>,
    body: Result<ApiJson<CompBody>, ApiError>,
) -> R<Json<Value>> {
    let ApiJson(b) = body?;
    let p = panel::comp(&ctx, actor, &b.template, b.copies.unwrap_or(1), &b.reason).await?;
    Ok(Json(json!({"payment": p})))
}

// ---------------------------------------------------------------- export and database

async fn export_targets(_: PanelAuth, State(ctx): State<AppContext>) -> Json<Value> {
    Json(json!({
        "roots": panel::export_roots(&ctx),
        "targets": panel::export_targets(&ctx),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportBody {
    dir: String,
    #[serde(default)]
    filter: HashMap<String, String>,
}

async fn export(
    PanelAuth(actor): PanelAuth,
    State(ctx): State<AppContext>,
    body: Result<ApiJson<ExportBody>, ApiError>,
) -> R<Json<Value>> {
    let ApiJson(b) = body?;
    let filter = parse_filter(&b.filter)?;
    let (path, rows) = panel::export_to_dir(&ctx, actor, &b.dir, &filter).await?;
    Ok(Json(json!({"path": path, "rows": rows})))
}

async fn backups(_: PanelAuth, State(ctx): State<AppContext>) -> Json<Value> {
    Json(json!({"dir": ctx.backup_dir(), "backups": panel::list_backups(&ctx)}))
}

async fn backup_now(PanelAuth(actor): PanelAuth, State(ctx): State<AppContext>) -> R<Json<Value>> {
    let path = panel::backup_now(&ctx, actor, "").await?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    Ok(Json(json!({"name": name, "path": path})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    confirm: String,
    /// Go on although money is in flight (audited as such).
    #[serde(default)]
    force: bool,
}

async fn restore(
    PanelAuth(actor): PanelAuth,
    State(ctx): State<AppContext>,
    Path(name): Path<String>,
    body: Result<ApiJson<ConfirmBody>, ApiError>,
) -> R<Json<panel::RestoreDone>> {
    let ApiJson(b) = body?;
    Ok(Json(
        panel::restore(&ctx, actor, &name, &b.confirm, b.force).await?,
    ))
}

async fn clear(
    PanelAuth(actor): PanelAuth,
    State(ctx): State<AppContext>,
    body: Result<ApiJson<ConfirmBody>, ApiError>,
) -> R<Json<Value>> {
    let ApiJson(b) = body?;
    let (backup, n) = panel::clear(&ctx, actor, &b.confirm, b.force).await?;
    Ok(Json(json!({"cleared": n, "backup": backup})))
}

// ---------------------------------------------------------------- devices, PIN, exit

async fn devices(_: PanelAuth, State(ctx): State<AppContext>) -> R<Json<Value>> {
    Ok(Json(panel::devices(&ctx).await?))
}

/// The going-live checklist (the same checks as `fotobox doctor`; no secret in it).
async fn doctor(_: PanelAuth, State(ctx): State<AppContext>) -> Json<fotobox_core::doctor::Report> {
    Json(fotobox_core::doctor::checklist(&ctx).await)
}

/// Staff alerts (the same `alerts` table the maintenance jobs write and Telegram sends): open
/// ones by default, `?all=1` for the newest of every state.
async fn alerts(
    _: PanelAuth,
    State(ctx): State<AppContext>,
    Query(q): Query<HashMap<String, String>>,
) -> R<Json<Value>> {
    let all = matches!(q.get("all").map(String::as_str), Some("1" | "true" | "yes"));
    let limit = parse_i64(&q, "limit", 100, 1000)?.max(1);
    Ok(Json(panel::alerts(&ctx, !all, limit).await?))
}

async fn ack_alert(
    PanelAuth(actor): PanelAuth,
    State(ctx): State<AppContext>,
    Path(id): Path<String>,
) -> R<Json<Value>> {
    let id = id
        .parse::<i64>()
        .map_err(|_| PanelError::NotFound(format!("no alert {id:?}")))?;
    let a = panel::acknowledge_alert(&ctx, actor, id).await?;
    Ok(Json(json!({"alert": a})))
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PaperBody {
    roll_size: Option<u64>,
}

async fn reset_paper(
    PanelAuth(actor): PanelAuth,
    State(ctx): State<AppContext>,
    body: Result<ApiJson<PaperBody>, ApiError>,
) -> R<Json<Value>> {
    let b = body.map(|ApiJson(b)| b).unwrap_or_default();
    panel::reset_paper(&ctx, actor, b.roll_size).await?;
    Ok(Json(panel::devices(&ctx).await?))
}

/// The newest self-test of each kind, and the camera's mounting (the panel turns its still).
async fn self_tests(_: PanelAuth, State(ctx): State<AppContext>) -> R<Json<Value>> {
    Ok(Json(json!({
        "tests": selftest::latest(&ctx).await?,
        "camera_rotate": ctx.config.camera.rotate,
    })))
}

/// Start a test print: 202 with the run (`running`, or already `failed` when no print can come
/// out now); 409 while one is under way.
async fn self_test_print(
    PanelAuth(actor): PanelAuth,
    State(ctx): State<AppContext>,
) -> R<Response> {
    let run = selftest::start_print(&ctx, actor).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"test": run}))).into_response())
}

/// The camera test's still (a JPEG body), read under the shot cap in one of the upload slots
/// after the caller is known.
async fn self_test_camera(
    PanelAuth(actor): PanelAuth,
    State(ctx): State<AppContext>,
    Query(q): Query<HashMap<String, String>>,
    body: axum::body::Body,
) -> R<Json<Value>> {
    // `?ms=`: how long the page took to get the still.
    let ms = match q.get("ms") {
        None => None,
        Some(v) => Some(
            v.parse::<u64>()
                .map_err(|_| ApiError::invalid("ms is the capture time in whole milliseconds"))?,
        ),
    };
    let _slot = ctx.heavy.upload().await;
    let bytes = axum::body::to_bytes(body, fotobox_core::kiosk::MAX_SHOT_BYTES)
        .await
        .map_err(|_| ApiError::invalid("the picture is too large or its upload was cut off"))?;
    let run = selftest::camera(&ctx, actor, bytes.to_vec(), ms).await?;
    Ok(Json(json!({"test": run})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CameraFailure {
    error: String,
    #[serde(default)]
    ms: Option<u64>,
}

/// The page could not get a still (no camera, permission refused).
async fn self_test_camera_failed(
    PanelAuth(actor): PanelAuth,
    State(ctx): State<AppContext>,
    body: Result<ApiJson<CameraFailure>, ApiError>,
) -> R<Json<Value>> {
    let ApiJson(b) = body?;
    let run = selftest::camera_failed(&ctx, actor, &b.error, b.ms).await?;
    Ok(Json(json!({"test": run})))
}

/// The public URL's health round trip through the tunnel, now.
async fn self_test_payment_path(
    PanelAuth(actor): PanelAuth,
    State(ctx): State<AppContext>,
) -> R<Json<Value>> {
    let run = selftest::payment_path(&ctx, actor).await?;
    Ok(Json(json!({"test": run})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PinBody {
    new_pin: String,
}

async fn change_pin(
    PanelAuth(actor): PanelAuth,
    State(ctx): State<AppContext>,
    body: Result<ApiJson<PinBody>, ApiError>,
) -> R<Json<Value>> {
    let ApiJson(b) = body?;
    panel::set_pin(&ctx, &b.new_pin, actor.as_str()).await?;
    Ok(Json(json!({"ok": true})))
}

/// Audits the exit; the Tauri shell's `exit_kiosk` command does the exiting.
async fn exit(PanelAuth(actor): PanelAuth, State(ctx): State<AppContext>) -> R<Json<Value>> {
    panel::audit(&ctx, actor, "exit_kiosk", None, None, json!({})).await?;
    Ok(Json(json!({"ok": true})))
}
