//! Refunds that return the money through the provider (issue 15), from the panel's "Refund":
//!
//! - **Click**: the Merchant API reversal, `DELETE payment/reversal/{service_id}/{payment_id}`
//!   with the signed `Auth` header (click.md §10; `payment_id` is the confirmed attempt's
//!   `click_paydoc_id`). The reversal is claimed in one commit (`provider_refunds` row
//!   `requested`, so a second tap or a by-hand refund cannot run meanwhile), Click is called
//!   outside any transaction, and its answer is recorded in one transaction with its `click`
//!   event and the audit entry; a success also cancels the order (`staff:refund`). A refusal
//!   keeps Click's `error_code` and `error_note`; then staff may mark the order refunded by hand
//!   (`panel::refund`). In sandbox mode Click is called only at an explicitly configured test
//!   server (`click_api::allowed_in_mode`).
//! - **Payme**: the Merchant API has no merchant-initiated refund; the operator cancels the
//!   transaction in the Payme Business cabinet and Payme calls CancelTransaction. A staff refund
//!   opens a refund window (`payme.refund_window_hours`, audited) during which that call is
//!   accepted (state -2) even after printing, instead of -31007 (`payme::methods`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use crate::click_api;
use crate::context::AppContext;
use crate::orders;
use crate::outbound::{Method, OutRequest};
use crate::panel::{self, Actor, PanelError};
use fotobox_store::click as cq;
use fotobox_store::model::{Payment, PaymentStatus, Provider};
use fotobox_store::payme as pq;
use fotobox_store::payments as q;
use fotobox_store::refunds::{self as rq, NewRefund, ProviderRefund};
use fotobox_store::staff::{self as sq, NewAudit};

type Result<T> = std::result::Result<T, PanelError>;

/// What a provider refund came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Click reversed the payment: the order is refunded.
    Reversed,
    /// Click said no (its `error_code` and `error_note` are kept).
    Refused,
    /// No usable answer from Click: the reversal may or may not have happened.
    Failed,
    /// The Payme refund window is open: the operator cancels in the Payme Business cabinet.
    WindowOpen,
}

/// The answer to a staff refund through the provider.
#[derive(Debug, Clone, Serialize)]
pub struct RefundResult {
    pub outcome: Outcome,
    pub payment: Payment,
    pub refund: ProviderRefund,
    /// What staff do next, in words.
    pub instructions: String,
}

/// Refund a paid order through its provider (see the module doc). `confirm` must repeat the
/// order id: the panel asks first, and a request meant for another order changes nothing.
pub async fn provider_refund(
    ctx: &AppContext,
    actor: Actor,
    key: &str,
    reason: &str,
    confirm: &str,
) -> Result<RefundResult> {
    let reason = panel::validate_reason(reason)?;
    let p = panel::find(ctx, key).await?;
    if confirm.trim() != p.order_id {
        return Err(PanelError::Invalid(format!(
            "confirm the refund by sending the order id {} as `confirm`",
            p.order_id
        )));
    }
    match p.provider() {
        Some(Provider::Click) => click_reversal(ctx, actor, &p.order_id, reason).await,
        Some(Provider::Payme) => payme_window(ctx, actor, &p.order_id, reason).await,
        None => Err(PanelError::Invalid(format!(
            "order {} has no known provider; mark it refunded by hand",
            p.order_id
        ))),
    }
}

/// Refused for a free session: nothing was paid.
async fn refuse_comp(tx: &mut fotobox_store::WriteTx, p: &Payment) -> Result<()> {
    if sq::comp_for_payment(tx, p.id).await?.is_some() {
        return Err(PanelError::Conflict(format!(
            "order {} is a free session; there is nothing to refund",
            p.order_id
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------- Click reversal

/// Click's answer to a reversal, leniently parsed.
#[derive(Debug, Clone, PartialEq)]
struct ReversalAnswer {
    state: &'static str,
    code: Option<i64>,
    note: Option<String>,
}

fn int(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// Only an explicit `error_code` 0 with a 2xx status is a reversal (click.md §10a: anything
/// else is "not done"); another `error_code` is Click's refusal; no `error_code` at all (a
/// gateway page, an empty body) is no answer.
fn classify(http_status: u16, body: &Value) -> ReversalAnswer {
    let code = int(&body["error_code"]);
    let note = body["error_note"].as_str().map(String::from);
    match code {
        Some(0) if (200..300).contains(&http_status) => ReversalAnswer {
            state: rq::STATE_DONE,
            code,
            note,
        },
        Some(0) | None => ReversalAnswer {
            state: rq::STATE_FAILED,
            code,
            note: Some(note.unwrap_or_else(|| {
                format!("HTTP {http_status} without a Click error_code: the outcome is unknown")
            })),
        },
        Some(_) => ReversalAnswer {
            state: rq::STATE_REFUSED,
            code,
            note,
        },
    }
}

async fn click_reversal(
    ctx: &AppContext,
    actor: Actor,
    order_id: &str,
    reason: &str,
) -> Result<RefundResult> {
    if !click_api::configured(ctx) {
        return Err(PanelError::Invalid(
            "the Click Merchant API is not configured (click.service_id, click.merchant_user_id, \
             click.secret_key, click.api.enabled); refund in the Click cabinet and mark the order \
             refunded by hand"
                .into(),
        ));
    }
    if !click_api::allowed_in_mode(ctx) {
        return Err(PanelError::Invalid(
            "sandbox mode never calls Click's own servers: set click.api.base_url to a test \
             server, or mark the order refunded by hand"
                .into(),
        ));
    }
    let now = ctx.clock.now();
    let (mut tx, p) = panel::paid_in_write(ctx, order_id, "can be refunded").await?;
    refuse_comp(&mut tx, &p).await?;
    let Some(attempt) = cq::for_payment(&mut tx, p.id)
        .await?
        .into_iter()
        .find(|a| a.state == cq::STATE_CONFIRMED)
    else {
        return Err(PanelError::Conflict(format!(
            "order {} has no confirmed Click payment to reverse; mark it refunded by hand",
            p.order_id
        )));
    };
    let click_payment_id = attempt.click_paydoc_id.to_string();
    let claim = NewRefund {
        payment_id: p.id,
        method: rq::METHOD_CLICK_REVERSAL,
        amount: p.amount,
        reason,
        actor: actor.as_str(),
        provider_ref: Some(&click_payment_id),
        window_expires_at: None,
        now,
    };
    let stale_before = now - click_api::reversal_stale_after(ctx);
    let Some(row) = rq::claim_reversal(&mut tx, &claim, stale_before).await? else {
        let state = rq::for_payment(&mut tx, p.id)
            .await?
            .map(|r| r.state)
            .unwrap_or_default();
        return Err(PanelError::Conflict(if state == rq::STATE_DONE {
            format!(
                "order {} was already refunded through its provider",
                p.order_id
            )
        } else {
            format!("a Click reversal of order {} is under way", p.order_id)
        }));
    };
    let c = &ctx.config.click;
    let path = format!("payment/reversal/{}/{click_payment_id}", c.service_id);
    q::insert_event(
        &mut tx,
        p.id,
        "staff",
        "click_reversal_requested",
        &json!({"reason": reason, "actor": actor.as_str(), "amount": p.amount,
                "request": {"method": "DELETE", "path": path}}),
        now,
    )
    .await?;
    tx.commit().await?;

    // The call, outside any transaction.
    let url = format!("{}/{path}", c.api.base_url.trim_end_matches('/'));
    let timestamp = ctx.clock.now().timestamp();
    let req = OutRequest::new(Method::Delete, url, Duration::from_secs(c.api.timeout_secs))
        .header("Accept", "application/json")
        .header("Content-Type", "application/json")
        .header(
            "Auth",
            click_api::auth_header(c.merchant_user_id, c.secret_key.expose(), timestamp),
        );
    let (answer, detail) = match ctx.http.send(req).await {
        Ok(resp) => {
            let body = resp.json();
            let answer = classify(resp.status, &body);
            let response = if body.is_null() {
                json!(resp.text().chars().take(500).collect::<String>())
            } else {
                body
            };
            (
                answer,
                json!({"request": {"method": "DELETE", "path": path},
                       "http_status": resp.status, "response": response}),
            )
        }
        Err(e) => (
            ReversalAnswer {
                state: rq::STATE_FAILED,
                code: None,
                note: Some(format!(
                    "Click did not answer ({e}): the outcome is unknown"
                )),
            },
            json!({"request": {"method": "DELETE", "path": path}, "error": e.to_string()}),
        ),
    };

    // The answer, its event, the audit entry and (on success) the refund, in one transaction.
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin_write().await?;
    let refund = rq::finish_reversal(
        &mut tx,
        row.id,
        answer.state,
        answer.code,
        answer.note.as_deref(),
        now,
    )
    .await?
    .unwrap_or(row);
    q::insert_event(&mut tx, p.id, "click", "reversal", &detail, now).await?;
    let reversed = answer.state == rq::STATE_DONE;
    if reversed {
        q::mark_canceled(&mut tx, p.id, "staff:refund", None, now).await?;
        q::insert_event(
            &mut tx,
            p.id,
            "staff",
            "refund",
            &json!({"reason": reason, "amount": p.amount, "actor": actor.as_str(),
                    "method": rq::METHOD_CLICK_REVERSAL}),
            now,
        )
        .await?;
    }
    sq::insert_audit(
        &mut tx,
        &NewAudit {
            action: "click_reversal",
            actor: actor.as_str(),
            payment_id: Some(p.id),
            order_id: Some(&p.order_id),
            reason: Some(reason),
            detail: json!({"outcome": answer.state, "amount": p.amount,
                           "click_payment_id": click_payment_id,
                           "error_code": answer.code, "error_note": answer.note}),
        },
        now,
    )
    .await?;
    let after = q::payment_by_id(&mut tx, p.id).await?.unwrap_or(p);
    tx.commit().await?;
    if reversed {
        tracing::warn!(order_id = %after.order_id, amount = after.amount.whole(), "CLICK REVERSAL: the payment was returned; the order is refunded");
        orders::publish_status(ctx, &after, PaymentStatus::Canceled);
    } else {
        tracing::warn!(order_id = %after.order_id, state = answer.state, code = ?answer.code, "Click reversal not done");
    }
    let outcome = match answer.state {
        rq::STATE_DONE => Outcome::Reversed,
        rq::STATE_REFUSED => Outcome::Refused,
        _ => Outcome::Failed,
    };
    Ok(RefundResult {
        outcome,
        instructions: instructions(ctx, &after, &refund, ctx.clock.now()),
        payment: after,
        refund,
    })
}

// ---------------------------------------------------------------- Payme refund window

async fn payme_window(
    ctx: &AppContext,
    actor: Actor,
    order_id: &str,
    reason: &str,
) -> Result<RefundResult> {
    let now = ctx.clock.now();
    let (mut tx, p) = panel::paid_in_write(ctx, order_id, "can be refunded").await?;
    refuse_comp(&mut tx, &p).await?;
    let Some(performed) = pq::txs_for_payment(&mut tx, p.id)
        .await?
        .into_iter()
        .find(|t| t.state == 2)
    else {
        return Err(PanelError::Conflict(format!(
            "order {} has no performed Payme transaction to cancel; mark it refunded by hand",
            p.order_id
        )));
    };
    let hours = ctx.config.payme.refund_window_hours;
    let until = now + chrono::Duration::hours(hours as i64);
    let window = NewRefund {
        payment_id: p.id,
        method: rq::METHOD_PAYME_WINDOW,
        amount: p.amount,
        reason,
        actor: actor.as_str(),
        provider_ref: Some(&performed.payme_id),
        window_expires_at: Some(until),
        now,
    };
    let Some(refund) = rq::open_window(&mut tx, &window).await? else {
        return Err(PanelError::Conflict(format!(
            "order {} was already refunded through its provider",
            p.order_id
        )));
    };
    q::insert_event(
        &mut tx,
        p.id,
        "staff",
        "refund_window_opened",
        &json!({"reason": reason, "actor": actor.as_str(), "amount": p.amount,
                "payme_id": performed.payme_id, "until": until}),
        now,
    )
    .await?;
    sq::insert_audit(
        &mut tx,
        &NewAudit {
            action: "payme_refund_window",
            actor: actor.as_str(),
            payment_id: Some(p.id),
            order_id: Some(&p.order_id),
            reason: Some(reason),
            detail: json!({"payme_id": performed.payme_id, "until": until, "hours": hours,
                           "amount": p.amount}),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(order_id = %p.order_id, %until, "Payme refund window opened");
    Ok(RefundResult {
        outcome: Outcome::WindowOpen,
        instructions: instructions(ctx, &p, &refund, now),
        payment: p,
        refund,
    })
}

// ---------------------------------------------------------------- what staff see

fn local(ctx: &AppContext, t: DateTime<Utc>) -> String {
    t.with_timezone(&ctx.config.schedule.offset())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// What staff do next about the order's provider refund, in words.
pub fn instructions(
    ctx: &AppContext,
    p: &Payment,
    r: &ProviderRefund,
    now: DateTime<Utc>,
) -> String {
    let by_hand = "If the money goes back another way, give it back and press \
                   \"Mark refunded by hand\".";
    let provider_ref = r.provider_ref.as_deref().unwrap_or("?");
    match (r.method.as_str(), r.state.as_str()) {
        (rq::METHOD_CLICK_REVERSAL, rq::STATE_DONE) => format!(
            "Click returned {} sum to the customer (Click payment {provider_ref}).",
            r.amount
        ),
        (rq::METHOD_CLICK_REVERSAL, rq::STATE_REFUSED) => {
            format!(
            "Click refused the reversal (error {}: {}). Click reverses only card payments of the \
             current month, and some cards refuse. {by_hand}",
            r.provider_code.map(|c| c.to_string()).unwrap_or_else(|| "?".into()),
            r.provider_note.as_deref().unwrap_or("no note")
        )
        }
        (rq::METHOD_CLICK_REVERSAL, rq::STATE_FAILED) => format!(
            "{}. Check Click payment {provider_ref} in the Click merchant cabinet, then press \
             Refund again (Click refuses a second reversal) or mark the order refunded by hand.",
            r.provider_note.as_deref().unwrap_or("No answer from Click")
        ),
        (rq::METHOD_CLICK_REVERSAL, _) => "The Click reversal is under way.".into(),
        (rq::METHOD_PAYME_WINDOW, rq::STATE_DONE) => format!(
            "Payme cancelled transaction {provider_ref}: {} sum went back to the customer.",
            r.amount
        ),
        (rq::METHOD_PAYME_WINDOW, _) if r.window_open_at(now) => format!(
            "Now, before {}: in the Payme Business merchant cabinet open the cash desk's \
             payments, find transaction {provider_ref} (order {}, {} sum) and cancel it \
             (refund). Payme then tells the kiosk (CancelTransaction) and the order shows as \
             refunded.",
            r.window_expires_at
                .map(|t| local(ctx, t))
                .unwrap_or_default(),
            p.order_id,
            r.amount
        ),
        _ => format!(
            "The refund window closed at {} without Payme's cancel: press Refund to open it \
             again, or mark the order refunded by hand.",
            r.window_expires_at
                .map(|t| local(ctx, t))
                .unwrap_or_default()
        ),
    }
}

/// The order's provider refund for the panel's detail: the row, whether a Payme window is open
/// now, and what to do next. `None` when there is none.
pub async fn view(ctx: &AppContext, p: &Payment) -> Result<Option<Value>> {
    let Some(r) = ctx.store.provider_refund(p.id).await? else {
        return Ok(None);
    };
    let now = ctx.clock.now();
    let mut v = serde_json::to_value(&r).unwrap_or_default();
    v["window_open"] = json!(r.window_open_at(now));
    v["instructions"] = json!(instructions(ctx, p, &r, now));
    Ok(Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_explicit_zero_with_a_2xx_is_a_reversal() {
        let ok = classify(
            200,
            &json!({"error_code": 0, "error_note": "Success", "payment_id": 1}),
        );
        assert_eq!(ok.state, rq::STATE_DONE);
        let as_text = classify(200, &json!({"error_code": "0"}));
        assert_eq!(as_text.state, rq::STATE_DONE);
        let refused = classify(
            200,
            &json!({"error_code": -5017, "error_note": "Not allowed"}),
        );
        assert_eq!(
            (refused.state, refused.code, refused.note.as_deref()),
            (rq::STATE_REFUSED, Some(-5017), Some("Not allowed"))
        );
        let refused_400 = classify(400, &json!({"error_code": -16, "error_note": "x"}));
        assert_eq!(refused_400.state, rq::STATE_REFUSED);
        assert_eq!(classify(502, &Value::Null).state, rq::STATE_FAILED);
        assert_eq!(classify(200, &json!({})).state, rq::STATE_FAILED);
        assert_eq!(
            classify(500, &json!({"error_code": 0})).state,
            rq::STATE_FAILED
        );
    }
}
