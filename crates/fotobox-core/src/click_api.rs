//! Click Merchant API status fallback (click.md §10): when a Click order is still pending after
//! the customer says they paid, or a Complete callback was lost, ask
//! `GET payment/status_by_mti/{service_id}/{merchant_trans_id}/{YYYY-MM-DD}` with the header
//! `Auth: {merchant_user_id}:{sha1(timestamp + secret_key)}:{timestamp}`.
//!
//! The answer is recorded as a provider event (source `click`, kind `status_check`). It never
//! changes the order by itself: the SHOP callbacks stay the source of truth (a Complete that
//! arrives later must still find the order payable, and the status answer carries no amount to
//! verify). When Click reports the payment successful while the order is still pending, a
//! critical staff alert says so, and the answer tells the kiosk page; staff hand out the prints
//! (or refund) after checking the merchant cabinet.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};

use crate::context::AppContext;
use crate::error::{DomainError, ErrorKind};
use crate::maintenance::alerts::{self, AlertKind};
use crate::outbound::{Method, OutRequest};
use fotobox_store::maintenance as mq;
use fotobox_store::model::PaymentStatus;
use fotobox_store::payments as q;
use fotobox_store::StoreError;

/// `payment_status` 2: the payment went through (click.md §10, CLICK Pass).
pub const PAYMENT_SUCCESSFUL: i64 = 2;

/// The `Auth` header value for a request made at `timestamp` (10-digit Unix seconds).
pub fn auth_header(merchant_user_id: u64, secret_key: &str, timestamp: i64) -> String {
    let digest = Sha1::digest(format!("{timestamp}{secret_key}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{merchant_user_id}:{hex}:{timestamp}")
}

/// The request path (relative to the base URL) for an order created at `created_at`.
pub fn status_path(
    service_id: u64,
    order_id: &str,
    created_at: DateTime<Utc>,
    offset: chrono::FixedOffset,
) -> String {
    let day = created_at.with_timezone(&offset).format("%Y-%m-%d");
    format!("payment/status_by_mti/{service_id}/{order_id}/{day}")
}

#[derive(Debug, thiserror::Error)]
pub enum ClickApiError {
    #[error("the Click Merchant API is not configured (click.merchant_user_id, click.secret_key, click.service_id)")]
    NotConfigured,
    /// Sandbox mode and `click.api.base_url` is Click's own server ([`allowed_in_mode`]).
    #[error("sandbox mode: the Click Merchant API is called only at a test server named in click.api.base_url, never at Click's own")]
    SandboxNotAllowed,
    #[error("order {0} not found")]
    NotFound(String),
    #[error("order {0} is not a Click order")]
    NotClick(String),
    #[error("Click Merchant API unreachable: {0}")]
    Transport(String),
    #[error("checked a moment ago; try again in a few seconds")]
    TooSoon,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DomainError for ClickApiError {
    fn kind(&self) -> ErrorKind {
        match self {
            ClickApiError::NotConfigured | ClickApiError::SandboxNotAllowed => ErrorKind::Invalid,
            ClickApiError::NotFound(_) => ErrorKind::NotFound,
            ClickApiError::NotClick(_) => ErrorKind::Invalid,
            ClickApiError::Transport(_) => ErrorKind::Unavailable,
            ClickApiError::TooSoon => ErrorKind::Conflict,
            ClickApiError::Store(e) => e.kind(),
        }
    }
}

/// Whether the fallback can be used.
pub fn configured(ctx: &AppContext) -> bool {
    let c = &ctx.config.click;
    ctx.config.click.api.enabled
        && c.service_id != 0
        && c.merchant_user_id != 0
        && !c.secret_key.is_empty()
}

/// Whether the Merchant API may be called in this mode: always in live mode; in sandbox mode
/// only when `click.api.base_url` names a server other than Click's own (`*.click.uz`), i.e. a
/// test server configured on purpose, so that nothing a sandbox kiosk does reaches Click.
pub fn allowed_in_mode(ctx: &AppContext) -> bool {
    !ctx.config.mode.is_sandbox() || !is_click_host(&ctx.config.click.api.base_url)
}

/// Whether `url`'s host is Click's (`click.uz` or a subdomain).
fn is_click_host(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let host = host.split(':').next().unwrap_or("").to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    host == "click.uz" || host.ends_with(".click.uz")
}

/// A reversal claimed longer ago than this never finished (the process stopped during the
/// call): it may be claimed again.
pub fn reversal_stale_after(ctx: &AppContext) -> chrono::Duration {
    chrono::Duration::seconds(ctx.config.click.api.timeout_secs as i64 + 60)
}

/// Click's answer, leniently parsed (numbers may come as strings).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RemoteStatus {
    pub http_status: u16,
    pub error_code: Option<i64>,
    pub error_note: Option<String>,
    pub payment_id: Option<i64>,
    pub payment_status: Option<i64>,
}

/// The outcome of a status check.
#[derive(Debug, Clone, Serialize)]
pub struct StatusCheck {
    pub order_id: String,
    /// Our status of the order (unchanged by the check).
    pub status: PaymentStatus,
    pub remote: RemoteStatus,
    /// Click says paid, we have no Complete: staff were alerted.
    pub paid_at_click_unconfirmed: bool,
}

fn int(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// Least time between two checks of one order that a customer asks for.
pub const CUSTOMER_CHECK_GAP_SECS: i64 = 10;

/// The customer's "I have paid" (the window's command and the REST endpoint alike): at most one
/// check per order every 10 s, claimed atomically (and not sooner than the last recorded check
/// either, which covers a restart), then [`check_status`].
pub async fn customer_check(
    ctx: &AppContext,
    order_id: &str,
) -> Result<StatusCheck, ClickApiError> {
    if !configured(ctx) {
        return Err(ClickApiError::NotConfigured);
    }
    let gap = chrono::Duration::seconds(CUSTOMER_CHECK_GAP_SECS);
    let now = ctx.clock.now();
    if let Some(p) = ctx.store.payment_by_order_id(order_id).await? {
        if let Some(t) =
            fotobox_store::maintenance::last_status_check(ctx.store.pool(), p.id).await?
        {
            if now - t < gap {
                return Err(ClickApiError::TooSoon);
            }
        }
    }
    if !ctx.status_checks.try_claim(order_id, now, gap) {
        return Err(ClickApiError::TooSoon);
    }
    check_status(ctx, order_id).await
}

/// Ask Click about one order and record the answer.
pub async fn check_status(ctx: &AppContext, order_id: &str) -> Result<StatusCheck, ClickApiError> {
    if !configured(ctx) {
        return Err(ClickApiError::NotConfigured);
    }
    if !allowed_in_mode(ctx) {
        return Err(ClickApiError::SandboxNotAllowed);
    }
    let payment = ctx
        .store
        .payment_by_order_id(order_id)
        .await?
        .ok_or_else(|| ClickApiError::NotFound(order_id.to_string()))?;
    if payment.payment_type != "click" {
        return Err(ClickApiError::NotClick(order_id.to_string()));
    }
    let c = &ctx.config.click;
    let path = status_path(
        c.service_id,
        &payment.order_id,
        payment.created_at,
        ctx.config.schedule.offset(),
    );
    let url = format!(
        "{}/{path}",
        ctx.config.click.api.base_url.trim_end_matches('/')
    );
    let timestamp = ctx.clock.now().timestamp();
    let req = OutRequest::new(
        Method::Get,
        url,
        Duration::from_secs(ctx.config.click.api.timeout_secs),
    )
    .header("Accept", "application/json")
    .header("Content-Type", "application/json")
    .header(
        "Auth",
        auth_header(c.merchant_user_id, c.secret_key.expose(), timestamp),
    );
    let resp = ctx
        .http
        .send(req)
        .await
        .map_err(|e| ClickApiError::Transport(e.to_string()))?;
    let http_status = resp.status;
    let body: Value = resp.json();
    let remote = RemoteStatus {
        http_status,
        error_code: int(&body["error_code"]),
        error_note: body["error_note"].as_str().map(String::from),
        payment_id: int(&body["payment_id"]),
        payment_status: int(&body["payment_status"]),
    };
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin_write().await?;
    q::insert_event(
        &mut tx,
        payment.id,
        "click",
        "status_check",
        &json!({"request": {"method": "GET", "path": path}, "http_status": http_status, "response": body}),
        now,
    )
    .await?;
    // Re-read inside the transaction: a Complete may have just arrived.
    let current = q::payment_by_id(&mut tx, payment.id)
        .await?
        .map(|p| p.status())
        .unwrap_or(PaymentStatus::Pending);
    tx.commit().await.map_err(StoreError::from)?;

    let paid_remote =
        remote.error_code.unwrap_or(0) == 0 && remote.payment_status == Some(PAYMENT_SUCCESSFUL);
    let unconfirmed = paid_remote && current == PaymentStatus::Pending;
    if unconfirmed {
        alerts::raise(
            ctx,
            AlertKind::ClickPaidWithoutCallback,
            &format!("click_paid:{}", payment.order_id),
            &format!(
                "Click reports order {} ({} sum) as paid (Click payment_id {}), but no Complete callback arrived. The kiosk did not mark it paid: check the Click cabinet, then hand out the prints or refund.",
                payment.order_id,
                payment.amount,
                remote.payment_id.map(|i| i.to_string()).unwrap_or_else(|| "?".into())
            ),
        )
        .await;
    }
    tracing::info!(order_id = %payment.order_id, http_status, error_code = ?remote.error_code, payment_status = ?remote.payment_status, "Click status checked");
    Ok(StatusCheck {
        order_id: payment.order_id,
        status: current,
        remote,
        paid_at_click_unconfirmed: unconfirmed,
    })
}

/// Background fallback: pending Click orders whose Prepare arrived more than
/// `click.api.auto_check_after_secs` ago without a Complete are checked, each at most once per
/// that period, for a day.
pub async fn auto_check(ctx: &AppContext) {
    let after = ctx.config.click.api.auto_check_after_secs;
    if after == 0 || !configured(ctx) || !allowed_in_mode(ctx) {
        return;
    }
    let now = ctx.clock.now();
    let period = chrono::Duration::seconds(after.max(60) as i64);
    let Ok(orders) = mq::click_orders_awaiting_complete(
        ctx.store.pool(),
        now - chrono::Duration::seconds(after as i64),
        now - chrono::Duration::days(1),
        5,
    )
    .await
    else {
        return;
    };
    for order_id in orders {
        let Ok(Some(p)) = ctx.store.payment_by_order_id(&order_id).await else {
            continue;
        };
        if let Ok(Some(t)) = mq::last_status_check(ctx.store.pool(), p.id).await {
            if now - t < period {
                continue;
            }
        }
        if let Err(e) = check_status(ctx, &order_id).await {
            tracing::warn!(%order_id, error = %e, "Click status fallback failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example_of_click_md_section_10() {
        assert_eq!(
            auth_header(23456, "TEST_SECRET_KEY", 1764068645),
            "23456:39d72b0d2c03d7013ff8e95aa61125d769a88455:1764068645"
        );
    }

    #[test]
    fn only_clicks_own_hosts_count_as_click() {
        assert!(is_click_host("https://api.click.uz/v2/merchant/"));
        assert!(is_click_host("https://API.Click.UZ:443/v2/"));
        assert!(is_click_host("http://user@click.uz"));
        assert!(!is_click_host("http://127.0.0.1:4000/v2/merchant/"));
        assert!(!is_click_host("https://notclick.uz/"));
        assert!(!is_click_host("https://click.uz.example.com/"));
    }

    #[test]
    fn path_uses_the_local_creation_day() {
        let tz = chrono::FixedOffset::east_opt(5 * 3600).expect("offset");
        let t = chrono::NaiveDateTime::parse_from_str("2026-11-25 20:00", "%Y-%m-%d %H:%M")
            .expect("time")
            .and_utc();
        assert_eq!(
            status_path(12345, "ABCD-EFGH", t, tz),
            "payment/status_by_mti/12345/ABCD-EFGH/2026-11-26"
        );
    }
}
