//! The daily reconciliation (issue 15): for one kiosk-local day (`schedule.utc_offset`), the
//! orders created that day: paid, printed, fiscalised, refunded and free, and the exceptions
//! listed by order (paid but not printed; printed but not paid; paid without a fiscal receipt;
//! refunded by hand without the provider's cancel or reversal). The revenue, the staff refunds
//! and the free sessions are the dashboard's own numbers (`Store::period_totals`); the rest comes
//! from the day's order rows (`Store::reconciliation_rows`). Shown by the panel, `fotobox
//! reconcile` and a line of the daily Telegram summary.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::Serialize;

use crate::context::AppContext;
use fotobox_store::reconcile::OrderRow;
use fotobox_store::StoreError;

/// What is odd about an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    /// Still paid, not a free session, nothing printed (may be in progress for a recent order).
    PaidNotPrinted,
    /// Printed, not a free session, and no provider ever confirmed a payment.
    PrintedNotPaid,
    /// Still paid, and no fiscal sale receipt is recorded (only for providers whose receipts
    /// the database records).
    PaidWithoutReceipt,
    /// Marked refunded by staff, but neither Payme's cancel nor a Click reversal is recorded.
    RefundedWithoutProvider,
}

impl ExceptionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionKind::PaidNotPrinted => "paid_not_printed",
            ExceptionKind::PrintedNotPaid => "printed_not_paid",
            ExceptionKind::PaidWithoutReceipt => "paid_without_receipt",
            ExceptionKind::RefundedWithoutProvider => "refunded_without_provider",
        }
    }

    /// In words, for the table and the summary.
    pub fn label(self) -> &'static str {
        match self {
            ExceptionKind::PaidNotPrinted => "paid, not printed",
            ExceptionKind::PrintedNotPaid => "printed, not paid",
            ExceptionKind::PaidWithoutReceipt => "paid, no fiscal receipt",
            ExceptionKind::RefundedWithoutProvider => "refunded by hand, no provider cancel",
        }
    }

    const ALL: [ExceptionKind; 4] = [
        ExceptionKind::PaidNotPrinted,
        ExceptionKind::PrintedNotPaid,
        ExceptionKind::PaidWithoutReceipt,
        ExceptionKind::RefundedWithoutProvider,
    ];
}

/// One exception: the order and what is odd about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exception {
    pub kind: ExceptionKind,
    pub order_id: String,
    pub provider: String,
    pub amount: i64,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// One order whose money went back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefundLine {
    pub order_id: String,
    pub provider: String,
    pub amount: i64,
    /// `click_reversal`, `payme_cancel` (in a staff refund window, or before printing), or
    /// `by_hand`.
    pub how: &'static str,
}

/// The day's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reconciliation {
    /// The kiosk-local day.
    pub day: NaiveDate,
    pub utc_offset: String,
    /// The UTC bounds `[from, to)` of order creation time that were counted.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Orders a provider confirmed a payment for (free sessions excluded), and their sum.
    pub paid_orders: i64,
    pub paid_amount: i64,
    /// Of those, still paid, and their sum: the dashboard's revenue for the period.
    pub kept_orders: i64,
    pub revenue: i64,
    /// Orders whose prints were handed out (free sessions included).
    pub printed_orders: i64,
    /// Still-paid sales with a fiscal receipt recorded.
    pub fiscalised_sales: i64,
    /// The providers whose fiscal receipts the database records (Payme's SetFiscalData, the
    /// Click fiscalisation job's `click_fiscal`); the others' sales are neither counted as
    /// fiscalised nor reported as missing a receipt.
    pub receipts_tracked_for: Vec<String>,
    /// Orders whose money went back (any way), and their sum.
    pub refunds: i64,
    pub refunded_amount: i64,
    /// Of those, marked by staff (`staff:refund`): the dashboard's "Refunds".
    pub staff_refunds: i64,
    /// Free sessions (staff comps) and what they would have cost.
    pub free_sessions: i64,
    pub free_value: i64,
    pub refund_list: Vec<RefundLine>,
    pub exceptions: Vec<Exception>,
}

/// The UTC bounds of the kiosk-local day `day`.
pub fn day_bounds(ctx: &AppContext, day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let offset = ctx.config.schedule.offset();
    let start = |d: NaiveDate| {
        offset
            .from_local_datetime(&d.and_time(NaiveTime::MIN))
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| d.and_time(NaiveTime::MIN).and_utc())
    };
    let next = day.succ_opt().unwrap_or(day);
    (start(day), start(next))
}

/// Today in kiosk-local time.
pub fn today(ctx: &AppContext) -> NaiveDate {
    ctx.clock
        .now()
        .with_timezone(&ctx.config.schedule.offset())
        .date_naive()
}

/// The report for the whole kiosk-local day `day`.
pub async fn for_day(ctx: &AppContext, day: NaiveDate) -> Result<Reconciliation, StoreError> {
    let (from, to) = day_bounds(ctx, day);
    for_range(ctx, day, from, to).await
}

/// The report for the orders created in `[from, to)`, labelled `day` (the daily summary counts
/// up to its own time).
pub async fn for_range(
    ctx: &AppContext,
    day: NaiveDate,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Reconciliation, StoreError> {
    let totals = ctx.store.period_totals(from, Some(to)).await?;
    let tracked = ctx.store.receipt_providers().await?;
    let rows = ctx.store.reconciliation_rows(from, to).await?;
    let sale = |r: &&OrderRow| r.took_money && !r.comp;
    let still_paid = |r: &&OrderRow| r.status == "success" && !r.comp;
    let refunded = |r: &&OrderRow| sale(r) && r.status == "canceled";

    let refund_list: Vec<RefundLine> = rows
        .iter()
        .filter(refunded)
        .map(|r| RefundLine {
            order_id: r.order_id.clone(),
            provider: r.payment_type.clone(),
            amount: r.amount,
            how: if r.provider_refund_done && r.payment_type == "click" {
                "click_reversal"
            } else if r.payme_cancelled {
                "payme_cancel"
            } else {
                "by_hand"
            },
        })
        .collect();

    let mut exceptions = Vec::new();
    for kind in ExceptionKind::ALL {
        let hit = |r: &OrderRow| match kind {
            ExceptionKind::PaidNotPrinted => still_paid(&r) && !r.printed,
            ExceptionKind::PrintedNotPaid => r.printed && !r.comp && !r.took_money,
            ExceptionKind::PaidWithoutReceipt => {
                still_paid(&r) && tracked.contains(&r.payment_type.as_str()) && !r.receipt
            }
            ExceptionKind::RefundedWithoutProvider => {
                !r.comp
                    && r.status == "canceled"
                    && r.cancel_reason.as_deref() == Some("staff:refund")
                    && !r.payme_cancelled
                    && !r.provider_refund_done
            }
        };
        exceptions.extend(rows.iter().filter(|r| hit(r)).map(|r| Exception {
            kind,
            order_id: r.order_id.clone(),
            provider: r.payment_type.clone(),
            amount: r.amount,
            status: r.status.clone(),
            created_at: r.created_at,
        }));
    }

    Ok(Reconciliation {
        day,
        utc_offset: ctx.config.schedule.utc_offset.clone(),
        from,
        to,
        paid_orders: rows.iter().filter(sale).count() as i64,
        paid_amount: rows.iter().filter(sale).map(|r| r.amount).sum(),
        kept_orders: totals.success_payments,
        revenue: totals.revenue,
        printed_orders: rows.iter().filter(|r| r.printed).count() as i64,
        fiscalised_sales: rows.iter().filter(|r| still_paid(r) && r.receipt).count() as i64,
        receipts_tracked_for: tracked.iter().map(|s| s.to_string()).collect(),
        refunds: refund_list.len() as i64,
        refunded_amount: refund_list.iter().map(|r| r.amount).sum(),
        staff_refunds: totals.refunded_payments,
        free_sessions: totals.comp_sessions,
        free_value: totals.comp_value,
        refund_list,
        exceptions,
    })
}

impl Reconciliation {
    /// One line for the daily Telegram summary; at most five order ids per exception kind.
    pub fn summary_line(&self) -> String {
        let mut line = format!(
            "Reconciliation {}: {} paid ({} sum), {} printed, {} fiscalised{}, {} refunded ({} sum), {} free",
            self.day,
            self.paid_orders,
            self.paid_amount,
            self.printed_orders,
            self.fiscalised_sales,
            if self.receipts_tracked_for.is_empty() {
                " (no receipts tracked)".to_string()
            } else {
                format!(" (receipts tracked: {})", self.receipts_tracked_for.join(", "))
            },
            self.refunds,
            self.refunded_amount,
            self.free_sessions
        );
        if self.exceptions.is_empty() {
            line.push_str("; no exceptions");
            return line;
        }
        line.push_str(&format!("; {} exceptions:", self.exceptions.len()));
        for kind in ExceptionKind::ALL {
            let ids: Vec<&str> = self
                .exceptions
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| e.order_id.as_str())
                .collect();
            if ids.is_empty() {
                continue;
            }
            let more = if ids.len() > 5 {
                format!(" +{} more", ids.len() - 5)
            } else {
                String::new()
            };
            line.push_str(&format!(
                " {} {}{more};",
                kind.label(),
                ids[..ids.len().min(5)].join(", ")
            ));
        }
        line.pop();
        line
    }
}
