//! The Click fiscalisation job (issue 15, click.md 10a). Every paid Click order gets a
//! `click_fiscal` row (found from its confirmed attempt, so the Complete path is untouched),
//! first due `fiscal.click_delay_seconds` after the Complete. A try:
//!
//! 1. `GET payment/ofd_data/{service_id}/{payment_id}`: a receipt link there → `done` (Click
//!    issued it, or our earlier submission did); no answer → try again later, nothing sent;
//! 2. unless Click already accepted our items (`submitted`: only look from then on), mark the
//!    row `submitting` in a commit, then `POST payment/ofd_data/submit_items` (items from
//!    [`super::items`]); only an explicit `error_code` 0 is an acceptance;
//! 3. after an acceptance, `GET` again for the link.
//!
//! A crash between the POST and storing its answer leaves `submitting`: the next try looks
//! first, so a receipt Click made from our items is found, not submitted again. Failures are
//! retried with a growing delay across restarts (the state is in the database); after the last
//! try the row is `failed` and a staff alert names the order. Each try's calls and answers are a
//! `click`/`ofd_data` payment event, written with the row's change in one transaction. Requests
//! carry the Merchant API `Auth` header; in sandbox mode the job runs only against an
//! explicitly configured test server (`click_api::allowed_in_mode`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::click_api;
use crate::context::AppContext;
use crate::fiscal::items::{self, Split};
use crate::maintenance::alerts::{self, AlertKind};
use crate::outbound::{Method, OutRequest};
use fotobox_store::click_fiscal::{self as fq, ClickFiscal, TryResult};
use fotobox_store::model::PaymentStatus;
use fotobox_store::payments as q;
use fotobox_store::StoreError;

/// Tries before a receipt is given up (and staff alerted).
pub const MAX_TRIES: i64 = 8;
/// Confirmed Click payments older than this are not picked up (the job's look-back window).
pub const LOOK_BACK_DAYS: i64 = 7;
/// Rows handled per round.
const PER_ROUND: i64 = 5;

/// The delay before the try after try `n` (1-based): a minute, ×4 each time, at most 6 hours
/// (1 m, 4 m, 16 m, 64 m, 4 h 16 m, 6 h, 6 h: about 22 hours over the 8 tries).
pub fn backoff(n: i64) -> chrono::Duration {
    let exp = u32::try_from(n.clamp(1, 10) - 1).unwrap_or(0);
    let secs = 60i64.saturating_mul(4i64.saturating_pow(exp));
    chrono::Duration::seconds(secs.min(6 * 3600))
}

/// Why the job does not run on this kiosk, or `None` when it does.
pub fn disabled_reason(ctx: &AppContext) -> Option<String> {
    if !ctx.config.click_enabled() {
        return Some("Click is not configured".into());
    }
    if !click_api::configured(ctx) {
        return Some(
            "the Click Merchant API is not configured (click.merchant_user_id, click.secret_key, \
             click.api.enabled)"
                .into(),
        );
    }
    if !click_api::allowed_in_mode(ctx) {
        return Some(
            "sandbox mode never calls Click's own servers (set click.api.base_url to a test \
             server)"
                .into(),
        );
    }
    items::items(&ctx.config.fiscal, Split::Whole { total: 0 })
        .err()
        .map(|m| m.to_string())
}

/// One round: pick up newly paid Click orders, then run the due tries. Logs its own failures.
pub async fn tick(ctx: &AppContext) {
    if let Some(why) = disabled_reason(ctx) {
        tracing::trace!(%why, "Click fiscalisation off");
        return;
    }
    if let Err(e) = round(ctx).await {
        tracing::warn!(error = %e, "Click fiscalisation round failed");
    }
}

async fn round(ctx: &AppContext) -> Result<(), StoreError> {
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin_write().await?;
    let added = fq::discover(
        &mut tx,
        now - chrono::Duration::days(LOOK_BACK_DAYS),
        ctx.config.fiscal.click_delay_seconds,
        now,
    )
    .await?;
    tx.commit().await?;
    if added > 0 {
        tracing::info!(added, "Click sales waiting for their fiscal receipt");
    }
    for row in fq::due(ctx.store.pool(), now, PER_ROUND).await? {
        run(ctx, row.id).await?;
    }
    Ok(())
}

/// How long a claimed try may take (three calls) before another runner may take the row.
fn lease(ctx: &AppContext) -> chrono::Duration {
    chrono::Duration::seconds(3 * ctx.config.click.api.timeout_secs as i64 + 60)
}

/// One try of row `id` (claimed first; nothing happens when it is not due any more).
async fn run(ctx: &AppContext, id: i64) -> Result<(), StoreError> {
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin_write().await?;
    let Some(row) = fq::claim(&mut tx, id, now, now + lease(ctx)).await? else {
        return Ok(());
    };
    let Some(payment) = q::payment_by_id(&mut tx, row.payment_id).await? else {
        return Ok(());
    };
    if payment.status() != PaymentStatus::Success {
        let r = TryResult {
            state: fq::STATE_SKIPPED,
            origin: None,
            receipt_url: None,
            last_error: Some("the order was refunded before it had a receipt"),
            next_try_at: None,
            submitted_at: None,
            now,
        };
        fq::finish(&mut tx, row.id, &r).await?;
        tx.commit().await?;
        return Ok(());
    }
    tx.commit().await?;

    let split = split(ctx, &payment).await;
    let mut calls = Vec::new();
    let outcome = attempt(ctx, &row, split, &mut calls).await?;
    record(ctx, &row, &payment, outcome, calls).await
}

/// The order's lines: the layout's price and the extra copies when today's prices give exactly
/// the amount paid, otherwise one line.
async fn split(ctx: &AppContext, p: &fotobox_store::model::Payment) -> Split {
    let total = p.amount.to_tiyin().unwrap_or(0);
    let prices = match (
        &p.template_name,
        crate::pricing::effective_pricing(ctx).await,
    ) {
        (Some(t), Ok(pr)) => pr
            .layouts
            .get(t)
            .and_then(|layout| Some((layout.checked_mul(100)?, pr.extra_copy.checked_mul(100)?))),
        _ => None,
    };
    Split::of(total, p.copies, prices)
}

/// What a try came to.
#[derive(Debug)]
enum Outcome {
    /// The receipt link is known.
    Done { url: String, origin: &'static str },
    /// Not yet: try again (in `state`), with the reason.
    Again {
        state: &'static str,
        error: String,
        submitted: bool,
    },
}

/// What `GET ofd_data` said.
enum Look {
    Held(String),
    NotYet(String),
    NoAnswer(String),
}

/// One call's record for the payment event (never the `Auth` header).
fn call_record(method: &str, path: &str, body: Option<&Value>, reply: &Value) -> Value {
    let mut v = json!({"method": method, "path": path});
    if let Some(b) = body {
        v["body"] = b.clone();
    }
    for (k, x) in reply.as_object().into_iter().flatten() {
        v[k] = x.clone();
    }
    v
}

fn request(ctx: &AppContext, method: Method, path: &str) -> OutRequest {
    let c = &ctx.config.click;
    let url = format!("{}/{path}", c.api.base_url.trim_end_matches('/'));
    OutRequest::new(method, url, Duration::from_secs(c.api.timeout_secs))
        .header("Accept", "application/json")
        .header("Content-Type", "application/json")
        .header(
            "Auth",
            click_api::auth_header(
                c.merchant_user_id,
                c.secret_key.expose(),
                ctx.clock.now().timestamp(),
            ),
        )
}

/// Send one request; `(http status, parsed body)` or the transport error, and its record.
async fn send(
    ctx: &AppContext,
    req: OutRequest,
    label: (&str, &str),
    body: Option<&Value>,
    calls: &mut Vec<Value>,
) -> Result<(u16, Value), String> {
    match ctx.http.send(req).await {
        Ok(resp) => {
            let parsed = resp.json();
            let shown = if parsed.is_null() {
                json!(resp.text().chars().take(500).collect::<String>())
            } else {
                parsed.clone()
            };
            calls.push(call_record(
                label.0,
                label.1,
                body,
                &json!({"http_status": resp.status, "response": shown}),
            ));
            Ok((resp.status, parsed))
        }
        Err(e) => {
            calls.push(call_record(
                label.0,
                label.1,
                body,
                &json!({"error": e.to_string()}),
            ));
            Err(format!("Click did not answer ({e})"))
        }
    }
}

fn int(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// The receipt link in a `GET ofd_data` answer (`qrCodeURL`, any case), when it is one.
fn receipt_link(body: &Value) -> Option<String> {
    let obj = body.as_object()?;
    let url = obj
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("qrCodeURL"))
        .and_then(|(_, v)| v.as_str())?
        .trim();
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2000
        && !url.chars().any(|c| c.is_control() || c.is_whitespace());
    ok.then(|| url.to_string())
}

async fn look(ctx: &AppContext, row: &ClickFiscal, calls: &mut Vec<Value>) -> Look {
    let path = format!(
        "payment/ofd_data/{}/{}",
        ctx.config.click.service_id, row.click_payment_id
    );
    let req = request(ctx, Method::Get, &path);
    match send(ctx, req, ("GET", &path), None, calls).await {
        Err(e) => Look::NoAnswer(e),
        Ok((status, body)) => match receipt_link(&body) {
            Some(url) if (200..300).contains(&status) => Look::Held(url),
            _ if status >= 500 || (body.is_null() && !(200..300).contains(&status)) => {
                Look::NoAnswer(format!(
                    "Click answered HTTP {status} to the receipt look-up"
                ))
            }
            _ => Look::NotYet(format!(
                "no receipt at Click yet (HTTP {status}, error_code {}, {})",
                int(&body["error_code"]).map_or_else(|| "none".into(), |c| c.to_string()),
                body["error_note"].as_str().unwrap_or("no note")
            )),
        },
    }
}

async fn attempt(
    ctx: &AppContext,
    row: &ClickFiscal,
    split: Split,
    calls: &mut Vec<Value>,
) -> Result<Outcome, StoreError> {
    let origin = if row.state == fq::STATE_PENDING && row.submitted_at.is_none() {
        fq::ORIGIN_CLICK
    } else {
        fq::ORIGIN_KIOSK
    };
    let again = |state: &'static str, error: String| Outcome::Again {
        state,
        error,
        submitted: false,
    };
    match look(ctx, row, calls).await {
        Look::Held(url) => return Ok(Outcome::Done { url, origin }),
        // Nothing is sent while Click's state is unknown.
        Look::NoAnswer(e) => return Ok(again(state_of(row), e)),
        Look::NotYet(e) if row.state == fq::STATE_SUBMITTED => {
            return Ok(again(fq::STATE_SUBMITTED, e));
        }
        Look::NotYet(_) => {}
    }
    let body = match items::submit_body(
        &ctx.config.fiscal,
        ctx.config.click.service_id,
        row.click_payment_id,
        split,
    ) {
        Ok(b) => b,
        Err(m) => return Ok(again(fq::STATE_PENDING, m.to_string())),
    };
    // Marked before the POST: a crash from here on leaves `submitting`.
    let mut tx = ctx.store.begin_write().await?;
    let marked = fq::mark_submitting(&mut tx, row.id, ctx.clock.now()).await?;
    tx.commit().await?;
    if !marked {
        return Ok(again(state_of(row), "the row changed meanwhile".into()));
    }
    let path = "payment/ofd_data/submit_items";
    let req = request(ctx, Method::Post, path).json(&body);
    let (status, answer) = match send(ctx, req, ("POST", path), Some(&body), calls).await {
        Ok(x) => x,
        Err(e) => return Ok(again(fq::STATE_SUBMITTING, format!("{e}: outcome unknown"))),
    };
    let code = int(&answer["error_code"]);
    if code != Some(0) || !(200..300).contains(&status) {
        let note = answer["error_note"].as_str().unwrap_or("no note");
        let error = format!(
            "Click did not accept the receipt items (HTTP {status}, error_code {}, {note})",
            code.map_or_else(|| "none".into(), |c| c.to_string())
        );
        // An explicit refusal: nothing was accepted. No error code at all: unknown.
        let state = if code.is_some() {
            fq::STATE_PENDING
        } else {
            fq::STATE_SUBMITTING
        };
        return Ok(again(state, error));
    }
    match look(ctx, row, calls).await {
        Look::Held(url) => Ok(Outcome::Done {
            url,
            origin: fq::ORIGIN_KIOSK,
        }),
        Look::NotYet(e) | Look::NoAnswer(e) => Ok(Outcome::Again {
            state: fq::STATE_SUBMITTED,
            error: format!("Click accepted the items; the receipt link is not there yet: {e}"),
            submitted: true,
        }),
    }
}

/// The state a try that changed nothing leaves (a claimed row is never `done`).
fn state_of(row: &ClickFiscal) -> &'static str {
    match row.state.as_str() {
        fq::STATE_SUBMITTING => fq::STATE_SUBMITTING,
        fq::STATE_SUBMITTED => fq::STATE_SUBMITTED,
        _ => fq::STATE_PENDING,
    }
}

/// Write the try's result and its event in one transaction; alert after the last try.
async fn record(
    ctx: &AppContext,
    row: &ClickFiscal,
    payment: &fotobox_store::model::Payment,
    outcome: Outcome,
    calls: Vec<Value>,
) -> Result<(), StoreError> {
    let now = ctx.clock.now();
    let last = row.attempts >= MAX_TRIES;
    let (state, origin, url, error, next, submitted) = match &outcome {
        Outcome::Done { url, origin } => (
            fq::STATE_DONE,
            Some(*origin),
            Some(url.as_str()),
            None,
            None,
            None,
        ),
        Outcome::Again {
            state,
            error,
            submitted,
        } => (
            if last { fq::STATE_FAILED } else { state },
            None,
            None,
            Some(error.as_str()),
            (!last).then(|| now + backoff(row.attempts)),
            submitted.then_some(now),
        ),
    };
    let result = TryResult {
        state,
        origin,
        receipt_url: url,
        last_error: error,
        next_try_at: next,
        submitted_at: submitted,
        now,
    };
    let mut tx = ctx.store.begin_write().await?;
    let Some(after) = fq::finish(&mut tx, row.id, &result).await? else {
        return Ok(());
    };
    q::insert_event(
        &mut tx,
        payment.id,
        "click",
        "ofd_data",
        &json!({"try": row.attempts, "state": after.state, "calls": calls,
                "error": after.last_error, "receipt_url": after.receipt_url}),
        now,
    )
    .await?;
    tx.commit().await?;
    log_and_alert(ctx, payment, &after, next).await;
    Ok(())
}

async fn log_and_alert(
    ctx: &AppContext,
    payment: &fotobox_store::model::Payment,
    row: &ClickFiscal,
    next: Option<DateTime<Utc>>,
) {
    let order = &payment.order_id;
    match row.state.as_str() {
        fq::STATE_DONE => {
            tracing::info!(order_id = %order, origin = ?row.origin, "Click sale fiscalised");
            alerts::resolve(ctx, &crate::fiscal::receipts::missing_key(order)).await;
        }
        fq::STATE_FAILED => {
            tracing::error!(order_id = %order, error = ?row.last_error, "Click sale has no fiscal receipt after the last try");
            alerts::raise(
                ctx,
                AlertKind::ClickReceiptFailed,
                &format!("click_receipt_failed:{order}"),
                &format!(
                    "No fiscal receipt for Click order {order} ({} sum, Click payment {}) after {} tries: {}. Check the payment in the Click merchant cabinet and issue its receipt there (or through the tax committee's virtual cash register); see the staff manual, Fiscal receipts.",
                    payment.amount,
                    row.click_payment_id,
                    row.attempts,
                    row.last_error.as_deref().unwrap_or("no answer")
                ),
            )
            .await;
        }
        _ => {
            tracing::warn!(order_id = %order, state = %row.state, attempt = row.attempts, next = ?next, error = ?row.last_error, "Click fiscal receipt not yet done; will try again");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_six_hours() {
        let mins: Vec<i64> = (1..=8).map(|n| backoff(n).num_minutes()).collect();
        assert_eq!(mins, [1, 4, 16, 64, 256, 360, 360, 360]);
    }

    #[test]
    fn only_a_web_link_is_a_receipt() {
        let ok = json!({"paymentId": 1, "qrCodeURL": "https://ofd.soliq.uz/check?t=1&r=2"});
        assert_eq!(
            receipt_link(&ok).as_deref(),
            Some("https://ofd.soliq.uz/check?t=1&r=2")
        );
        assert_eq!(
            receipt_link(&json!({"qrcodeurl": " http://x/y "})).as_deref(),
            Some("http://x/y")
        );
        for none in [
            json!({"paymentId": 1, "qrCodeURL": null}),
            json!({"paymentId": 1, "qrCodeURL": ""}),
            json!({"qrCodeURL": "javascript:alert(1)"}),
            json!({"error_code": -1}),
            Value::Null,
        ] {
            assert_eq!(receipt_link(&none), None, "{none}");
        }
    }
}
