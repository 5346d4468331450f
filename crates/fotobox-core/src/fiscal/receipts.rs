//! An order's fiscal receipt as staff and the customer see it (issue 15), for both providers:
//! `{provider, state, url, updated_at}` (the panel's payment detail, the thank-you screen's
//! `receipt_url`), and the staff alert for a sale still without a receipt an hour after it was
//! paid (once per order; resolved when the receipt arrives).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::context::AppContext;
use crate::maintenance::alerts::{self, AlertKind};
use fotobox_store::click_fiscal as fq;
use fotobox_store::model::{Payment, PaymentStatus, Provider};
use fotobox_store::StoreError;

/// Where an order's receipt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptState {
    /// Paid, no receipt yet (Payme's SetFiscalData has not come; Click's job is waiting or
    /// retrying).
    Waiting,
    /// The provider issued it (Payme always; Click when it held one before we submitted).
    Issued,
    /// The kiosk submitted the items to Click and Click issued the receipt.
    Submitted,
    /// The Click job gave up after its last try (staff were alerted).
    Failed,
    /// Refunded before it had a receipt: none is needed.
    NotNeeded,
}

/// An order's fiscal receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    /// `payme` or `click`.
    pub provider: &'static str,
    pub state: ReceiptState,
    /// The tax committee's receipt link (ofd.soliq.uz), once known.
    pub url: Option<String>,
    /// When the state last changed (the payment time while waiting for the provider).
    pub updated_at: Option<DateTime<Utc>>,
}

/// Alerts about a sale without a receipt are keyed `receipt_missing:{order_id}`.
pub const MISSING_PREFIX: &str = "receipt_missing:";

pub fn missing_key(order_id: &str) -> String {
    format!("{MISSING_PREFIX}{order_id}")
}

/// A paid sale still without a receipt this long after payment raises the alert.
pub const MISSING_AFTER_MINUTES: i64 = 60;
/// Sales paid longer ago than this are not looked at any more.
pub const MISSING_LOOK_BACK_DAYS: i64 = 7;

/// The order's receipt; `None` when the order never took money or is a free session.
pub async fn for_payment(ctx: &AppContext, p: &Payment) -> Result<Option<Receipt>, StoreError> {
    let Some(paid_at) = p.perform_time else {
        return Ok(None);
    };
    if ctx.store.comp_for_payment(p.id).await?.is_some() {
        return Ok(None);
    }
    let refunded = p.status() != PaymentStatus::Success;
    let waiting = |provider| Receipt {
        provider,
        state: if refunded {
            ReceiptState::NotNeeded
        } else {
            ReceiptState::Waiting
        },
        url: None,
        updated_at: Some(paid_at),
    };
    Ok(Some(match p.payment_type {
        Provider::Payme => match ctx.store.payme_sale_receipt(p.id).await? {
            Some(f) => Receipt {
                provider: "payme",
                state: ReceiptState::Issued,
                url: f.qr_code_url.filter(|u| !u.trim().is_empty()),
                updated_at: Some(f.created_at),
            },
            None => waiting("payme"),
        },
        Provider::Click => match ctx.store.click_fiscal(p.id).await? {
            Some(r) => Receipt {
                provider: "click",
                state: match (r.state.as_str(), r.origin.as_deref()) {
                    (fq::STATE_DONE, Some(fq::ORIGIN_CLICK)) => ReceiptState::Issued,
                    (fq::STATE_DONE, _) => ReceiptState::Submitted,
                    (fq::STATE_FAILED, _) => ReceiptState::Failed,
                    _ if refunded => ReceiptState::NotNeeded,
                    _ => ReceiptState::Waiting,
                },
                url: r.receipt_url,
                updated_at: Some(r.updated_at),
            },
            None => waiting("click"),
        },
    }))
}

/// The receipt link of an order, when known (the thank-you screen's `receipt_url`).
pub async fn url_for_order(ctx: &AppContext, order_id: &str) -> Option<String> {
    for_order(ctx, order_id).await?.url
}

/// The receipt of the order `order_id` ([`for_payment`]); `None` also when it cannot be read
/// (the customer's pages show no receipt rather than an error).
pub async fn for_order(ctx: &AppContext, order_id: &str) -> Option<Receipt> {
    let p = ctx.store.payment_by_order_id(order_id).await.ok()??;
    for_payment(ctx, &p).await.ok()?
}

/// Whether this kiosk expects fiscal receipts: `[fiscal]` names the product (a live start
/// requires it; a sandbox kiosk without it sells nothing real).
pub fn expected(ctx: &AppContext) -> bool {
    ctx.config.fiscal.ikpu().is_some()
}

/// One round of the missing-receipt alert: raise it for every sale paid over an hour ago that
/// still has no receipt (once per order, ever), and resolve the open ones whose receipt has
/// arrived (or whose order was refunded).
pub async fn missing_tick(ctx: &AppContext) {
    if !expected(ctx) {
        return;
    }
    if let Err(e) = raise_missing(ctx).await {
        tracing::warn!(error = %e, "cannot look for sales without a fiscal receipt");
    }
    if let Err(e) = resolve_arrived(ctx).await {
        tracing::warn!(error = %e, "cannot resolve missing-receipt alerts");
    }
}

async fn raise_missing(ctx: &AppContext) -> Result<(), StoreError> {
    let now = ctx.clock.now();
    let rows = ctx
        .store
        .without_receipt_unalerted(
            now - chrono::Duration::days(MISSING_LOOK_BACK_DAYS),
            now - chrono::Duration::minutes(MISSING_AFTER_MINUTES),
            MISSING_PREFIX,
            20,
        )
        .await?;
    for r in rows {
        let local = r
            .perform_time
            .with_timezone(&ctx.config.schedule.offset())
            .format("%Y-%m-%d %H:%M");
        let what = if r.payment_type == "payme" {
            "Payme has not sent its receipt (SetFiscalData): check the payment in the Payme \
             Business cabinet (Cheques)"
        } else {
            "the Click receipt is not done yet: see the order's receipt state in the panel and \
             the Click merchant cabinet"
        };
        alerts::raise(
            ctx,
            AlertKind::ReceiptMissing,
            &missing_key(&r.order_id),
            &format!(
                "Sale {} ({} sum, {}, paid {local}) has no fiscal receipt after an hour: {what}.",
                r.order_id, r.amount, r.payment_type
            ),
        )
        .await;
    }
    Ok(())
}

async fn resolve_arrived(ctx: &AppContext) -> Result<(), StoreError> {
    let open = fotobox_store::maintenance::list_alerts(ctx.store.pool(), true, 500).await?;
    for a in open
        .iter()
        .filter(|a| a.kind == AlertKind::ReceiptMissing.as_str())
    {
        let Some(order_id) = a.dedup_key.strip_prefix(MISSING_PREFIX) else {
            continue;
        };
        let still_missing = match ctx.store.payment_by_order_id(order_id).await? {
            Some(p) => for_payment(ctx, &p)
                .await?
                .is_some_and(|r| matches!(r.state, ReceiptState::Waiting | ReceiptState::Failed)),
            None => false,
        };
        if !still_missing {
            alerts::resolve(ctx, &a.dedup_key).await;
        }
    }
    Ok(())
}
