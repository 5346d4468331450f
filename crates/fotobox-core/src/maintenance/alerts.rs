//! Staff alerts: stored in the database (for the staff panel) and, when a bot is configured,
//! sent to a Telegram chat in the background with retries. Raising never blocks or fails the
//! caller. An open alert with the same key raised again within `alerts.repeat_after_minutes`
//! only counts an occurrence. The bot token is part of the URL only: it is never logged, and
//! send errors are stored without the URL.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::context::AppContext;
use crate::outbound::{Method, OutRequest, OutboundError};
use fotobox_store::maintenance::{self as q, AlertRow};
use fotobox_store::{Store, StoreError};

/// What an alert is about (the kinds the issue names, plus our own jobs').
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    PaperLow,
    PaperOut,
    PrinterError,
    CameraLost,
    TunnelDown,
    TunnelUp,
    DatabaseRestored,
    /// The database cannot be written (disk full, I/O error): no new orders.
    DatabaseNotWritable,
    BackupFailed,
    /// The payment journal cannot be written: provider callbacks are refused until it can.
    JournalFailed,
    DiskLow,
    ClickPaidWithoutCallback,
    /// The Click fiscalisation job gave up on an order's receipt.
    ClickReceiptFailed,
    /// A paid sale still has no fiscal receipt an hour after payment.
    ReceiptMissing,
    DailySummary,
    /// Anything else a subsystem wants staff to know.
    Other(&'static str),
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::PaperLow => "paper_low",
            AlertKind::PaperOut => "paper_out",
            AlertKind::PrinterError => "printer_error",
            AlertKind::CameraLost => "camera_lost",
            AlertKind::TunnelDown => "tunnel_down",
            AlertKind::TunnelUp => "tunnel_up",
            AlertKind::DatabaseRestored => "db_restored",
            AlertKind::DatabaseNotWritable => "db_not_writable",
            AlertKind::BackupFailed => "backup_failed",
            AlertKind::JournalFailed => "journal_failed",
            AlertKind::DiskLow => "disk_low",
            AlertKind::ClickPaidWithoutCallback => "click_paid_without_callback",
            AlertKind::ClickReceiptFailed => "click_receipt_failed",
            AlertKind::ReceiptMissing => "receipt_missing",
            AlertKind::DailySummary => "daily_summary",
            AlertKind::Other(s) => s,
        }
    }

    pub fn severity(self) -> &'static str {
        match self {
            AlertKind::TunnelUp | AlertKind::DailySummary => "info",
            AlertKind::PaperLow | AlertKind::DiskLow | AlertKind::Other(_) => "warning",
            _ => "critical",
        }
    }
}

/// What [`raise`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raised {
    /// A new alert (id), queued for sending when a bot is configured.
    New(i64),
    /// A repeat of an open alert (id) within the repeat window: counted, not sent again.
    Repeat(i64),
    /// Could not even be stored (logged).
    Failed,
}

/// Store an alert (de-duplicated by `key`) and wake the sender. Never fails the caller.
pub async fn raise(ctx: &AppContext, kind: AlertKind, key: &str, message: &str) -> Raised {
    let telegram = ctx.config.alerts.telegram_enabled();
    let window = chrono::Duration::minutes(ctx.config.alerts.repeat_after_minutes as i64);
    let r = raise_in(
        &ctx.store,
        kind,
        key,
        message,
        telegram,
        window,
        ctx.clock.now(),
    )
    .await;
    match r {
        Ok(raised) => {
            if let Raised::New(id) = raised {
                tracing::warn!(alert = id, kind = kind.as_str(), %message, "staff alert");
                ctx.maintenance.wake_sender();
            }
            raised
        }
        Err(e) => {
            tracing::error!(error = %e, kind = kind.as_str(), %message, "cannot store a staff alert");
            Raised::Failed
        }
    }
}

/// [`raise`] on a bare store (start-up recovery, before a context exists).
pub async fn raise_in(
    store: &Store,
    kind: AlertKind,
    key: &str,
    message: &str,
    telegram: bool,
    window: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Raised, StoreError> {
    let mut tx = store.begin_write().await?;
    if let Some(open) = q::latest_open_alert(&mut tx, key).await? {
        if open.last_at + window > now {
            q::bump_alert(&mut tx, open.id, now).await?;
            tx.commit().await?;
            return Ok(Raised::Repeat(open.id));
        }
    }
    let delivery = if telegram { "pending" } else { "skipped" };
    let id = q::insert_alert(
        &mut tx,
        kind.as_str(),
        kind.severity(),
        key,
        message,
        delivery,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Raised::New(id))
}

/// Mark open alerts with this key resolved (e.g. the tunnel is back).
pub async fn resolve(ctx: &AppContext, key: &str) {
    if let Err(e) = q::resolve_alerts(ctx.store.pool(), key, ctx.clock.now()).await {
        tracing::warn!(error = %e, "cannot resolve alerts");
    }
}

/// Keep the alert `key` in step with a condition a check watches (printer, paper, disk,
/// camera): raised when `problem` turns from absent to present, resolved when it clears. The
/// first check after start counts as a change, so a problem still there after a restart is
/// raised again (a repeat within the window) and one that cleared while the kiosk was off is
/// resolved. A condition that stays the same writes nothing.
pub async fn track(ctx: &AppContext, kind: AlertKind, key: &str, problem: Option<&str>) {
    let before = ctx.maintenance.swap_condition(key, problem.is_some());
    match problem {
        Some(message) if before != Some(true) => {
            raise(ctx, kind, key, message).await;
        }
        None if before != Some(false) => resolve(ctx, key).await,
        _ => {}
    }
}

/// Delay before retry number `attempt` (1-based): 30 s doubling, at most an hour.
pub fn retry_delay(attempt: i64) -> chrono::Duration {
    let secs = 30i64.saturating_mul(1i64 << attempt.clamp(0, 8).saturating_sub(1).max(0));
    chrono::Duration::seconds(secs.min(3600))
}

fn text_of(ctx: &AppContext, a: &AlertRow) -> String {
    let icon = match a.severity.as_str() {
        "critical" => "\u{1F534}",
        "warning" => "\u{1F7E0}",
        _ => "\u{2139}\u{FE0F}",
    };
    let kiosk = ctx.config.server.public_url.as_deref().unwrap_or("kiosk");
    format!("{icon} Fotobox ({kiosk}): {}", a.message)
}

/// Why a Telegram message was not delivered (never containing the bot token).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("request failed: {0}")]
    Transport(#[from] OutboundError),
    #[error("HTTP {status}: {description}")]
    Refused { status: u16, description: String },
}

/// Send one message through the Bot API. Errors never contain the token.
pub async fn send_telegram(ctx: &AppContext, text: &str) -> Result<(), SendError> {
    let cfg = &ctx.config.alerts;
    let url = format!(
        "{}/bot{}/sendMessage",
        cfg.telegram_api_url.trim_end_matches('/'),
        cfg.telegram_bot_token.expose()
    );
    let req = OutRequest::new(Method::Post, url, Duration::from_secs(15)).json(
        &json!({"chat_id": cfg.telegram_chat_id.trim(), "text": text, "disable_web_page_preview": true}),
    );
    let resp = ctx.http.send(req).await?;
    let body = resp.json();
    if resp.is_success() && body["ok"] == json!(true) {
        Ok(())
    } else {
        let desc = body["description"].as_str().unwrap_or("");
        Err(SendError::Refused {
            status: resp.status,
            description: desc.chars().take(200).collect(),
        })
    }
}

/// Send every alert whose attempt is due; returns how many were sent now.
pub async fn deliver_pending(ctx: &AppContext) -> Result<usize, StoreError> {
    if !ctx.config.alerts.telegram_enabled() {
        return Ok(0);
    }
    let now = ctx.clock.now();
    let due = q::due_alerts(ctx.store.pool(), now, 20).await?;
    let mut sent = 0;
    for a in due {
        match send_telegram(ctx, &text_of(ctx, &a)).await {
            Ok(()) => {
                q::mark_alert_sent(ctx.store.pool(), a.id, ctx.clock.now()).await?;
                sent += 1;
            }
            Err(e) => {
                let attempt = a.attempts + 1;
                let next = (attempt < ctx.config.alerts.max_attempts as i64)
                    .then(|| ctx.clock.now() + retry_delay(attempt));
                tracing::warn!(alert = a.id, attempt, error = %e, "cannot send a staff alert to Telegram");
                ctx.metrics.count_error("alert_send");
                q::mark_alert_attempt_failed(ctx.store.pool(), a.id, &e.to_string(), next).await?;
            }
        }
    }
    Ok(sent)
}

/// The daily summary text for the local day that ends at `slot_end`: the totals, then the
/// day's reconciliation line (`reconcile`).
pub async fn daily_summary_text(
    ctx: &AppContext,
    day_start: DateTime<Utc>,
    day_end: DateTime<Utc>,
) -> Result<String, StoreError> {
    let s = q::period_summary(ctx.store.pool(), day_start, day_end).await?;
    let local_day = day_start
        .with_timezone(&ctx.config.schedule.offset())
        .date_naive();
    let day = local_day.format("%Y-%m-%d");
    let r = crate::reconcile::for_range(ctx, local_day, day_start, day_end).await?;
    Ok(format!(
        "Daily summary {day}: revenue {} sum, {} orders ({} paid, {} cancelled), {} failed prints, {} problems\n{}",
        s.revenue, s.orders, s.paid, s.canceled, s.failed_prints, s.problems, r.summary_line()
    ))
}

/// Raise the daily summary once per local day after `schedule.daily_summary_time`.
pub async fn summary_tick(ctx: &AppContext) {
    if !ctx.config.alerts.daily_summary {
        return;
    }
    let now = ctx.clock.now();
    let offset = ctx.config.schedule.offset();
    let slot = crate::clock::last_slot(now, ctx.config.schedule.summary_at(), offset);
    let local_day = slot.with_timezone(&offset).date_naive();
    let key = format!("daily_summary:{local_day}");
    // Raised for that day already, or too late to be useful (the kiosk was off)?
    if now - slot > chrono::Duration::hours(12) {
        return;
    }
    match q::alert_exists(ctx.store.pool(), &key).await {
        Ok(false) => {}
        Ok(true) | Err(_) => return,
    }
    let day_start =
        chrono::TimeZone::from_local_datetime(&offset, &local_day.and_time(chrono::NaiveTime::MIN))
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(slot);
    match daily_summary_text(ctx, day_start, slot.max(day_start)).await {
        Ok(text) => {
            raise(ctx, AlertKind::DailySummary, &key, &text).await;
        }
        Err(e) => tracing::warn!(error = %e, "cannot build the daily summary"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_grow_and_cap() {
        assert_eq!(retry_delay(1).num_seconds(), 30);
        assert_eq!(retry_delay(2).num_seconds(), 60);
        assert_eq!(retry_delay(3).num_seconds(), 120);
        assert_eq!(retry_delay(20).num_seconds(), 3600);
    }
}
