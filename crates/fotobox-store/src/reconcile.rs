//! The daily reconciliation's order rows: for every order created in a period that took money,
//! was printed or was free, what the database knows about its money, its prints, its fiscal
//! receipt and its refund. The totals the dashboard shows come from
//! [`crate::Store::period_totals`]; the core builds the report from both.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::SqlitePool;

use crate::pool::{db_time, Result, Store};

/// Where fiscal receipts are recorded: (provider, table, SQL condition "order `p` has a sale
/// receipt"). A provider whose receipts table does not exist (yet) is left out, and its paid
/// orders are never reported as missing a receipt. Another provider's receipts table is one more
/// line here.
const RECEIPT_SOURCES: &[(&str, &str, &str)] = &[
    (
        "payme",
        "payme_fiscal_data",
        "EXISTS (SELECT 1 FROM payme_transactions t JOIN payme_fiscal_data f ON f.payme_id = t.payme_id
                 WHERE t.payment_id = p.id AND f.kind = 'PERFORM')",
    ),
    (
        "click",
        "click_fiscal",
        "EXISTS (SELECT 1 FROM click_fiscal f WHERE f.payment_id = p.id AND f.state = 'done')",
    ),
];

/// One order of the period.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct OrderRow {
    pub id: i64,
    pub order_id: String,
    pub payment_type: String,
    pub amount: i64,
    pub status: String,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The provider confirmed the payment at some time (`perform_time` is set).
    pub took_money: bool,
    /// The prints were handed out, or a print job finished.
    pub printed: bool,
    /// A staff comp (free session).
    pub comp: bool,
    /// A fiscal sale receipt is recorded (only meaningful when the provider's receipts are
    /// tracked, see [`Store::receipt_providers`]).
    pub receipt: bool,
    /// Payme cancelled the performed transaction (state -2).
    pub payme_cancelled: bool,
    /// A Click reversal or a Payme refund window finished (`provider_refunds.state = 'done'`).
    pub provider_refund_done: bool,
}

/// A still-paid sale without a fiscal receipt.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct NoReceipt {
    pub order_id: String,
    pub payment_type: String,
    pub amount: i64,
    pub perform_time: DateTime<Utc>,
}

async fn table_exists(pool: &SqlitePool, name: &str) -> Result<bool> {
    let r: Option<(String,)> =
        sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?")
            .bind(name)
            .fetch_optional(pool)
            .await?;
    Ok(r.is_some())
}

impl Store {
    /// The providers whose fiscal receipts this database records.
    pub async fn receipt_providers(&self) -> Result<Vec<&'static str>> {
        let mut out = Vec::new();
        for (provider, table, _) in RECEIPT_SOURCES {
            if table_exists(self.pool(), table).await? {
                out.push(*provider);
            }
        }
        Ok(out)
    }

    /// SQL condition "order `p` has a fiscal sale receipt" over the tracked providers (`0`
    /// when none is tracked).
    async fn receipt_condition(&self) -> Result<String> {
        let tracked = self.receipt_providers().await?;
        let receipt: Vec<String> = RECEIPT_SOURCES
            .iter()
            .filter(|(provider, _, _)| tracked.contains(provider))
            .map(|(provider, _, cond)| format!("(p.payment_type = '{provider}' AND {cond})"))
            .collect();
        Ok(if receipt.is_empty() {
            "0".to_string()
        } else {
            receipt.join(" OR ")
        })
    }

    /// SQL condition "order `p` is a sale still paid that has no receipt": a provider took the
    /// money, it was not refunded, it is no free session, its provider's receipts are tracked,
    /// and none is recorded.
    async fn without_receipt_condition(&self) -> Result<String> {
        let tracked = self.receipt_providers().await?;
        if tracked.is_empty() {
            return Ok("0".into());
        }
        let providers = tracked
            .iter()
            .map(|p| format!("'{p}'"))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(format!(
            "(p.status = 'success' AND p.perform_time IS NOT NULL
              AND p.payment_type IN ({providers})
              AND NOT EXISTS (SELECT 1 FROM staff_comps c WHERE c.payment_id = p.id)
              AND NOT ({}))",
            self.receipt_condition().await?
        ))
    }

    /// How many sales paid since `since` are still paid and have no fiscal receipt (the
    /// dashboard's count: waiting, failed or never fiscalised).
    pub async fn count_without_receipt(&self, since: DateTime<Utc>) -> Result<i64> {
        let cond = self.without_receipt_condition().await?;
        let (n,): (i64,) = sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM payments p WHERE p.perform_time >= ? AND {cond}"
        ))
        .bind(db_time(since))
        .fetch_one(self.pool())
        .await?;
        Ok(n)
    }

    /// Sales paid in `[after, before)` still without a receipt and without any alert keyed
    /// `{alert_prefix}{order_id}` (open or not), oldest first: what the missing-receipt alert
    /// raises once per order.
    pub async fn without_receipt_unalerted(
        &self,
        after: DateTime<Utc>,
        before: DateTime<Utc>,
        alert_prefix: &str,
        limit: i64,
    ) -> Result<Vec<NoReceipt>> {
        let cond = self.without_receipt_condition().await?;
        Ok(sqlx::query_as::<_, NoReceipt>(&format!(
            "SELECT p.order_id, p.payment_type, p.amount, p.perform_time FROM payments p
             WHERE p.perform_time >= ? AND p.perform_time < ? AND {cond}
               AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.dedup_key = ? || p.order_id)
             ORDER BY p.perform_time, p.id LIMIT ?"
        ))
        .bind(db_time(after))
        .bind(db_time(before))
        .bind(alert_prefix)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// The orders created in `[from, to)` that took money, were printed or were free, oldest
    /// first (the index on `created_at` bounds the scan to the period).
    pub async fn reconciliation_rows(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<OrderRow>> {
        let receipt = self.receipt_condition().await?;
        let sql = format!(
            "SELECT * FROM (
                 SELECT p.id, p.order_id, p.payment_type, p.amount, p.status, p.cancel_reason,
                        p.created_at,
                        p.perform_time IS NOT NULL AS took_money,
                        (p.fulfilled_at IS NOT NULL
                         OR EXISTS (SELECT 1 FROM print_jobs j
                                    WHERE j.payment_id = p.id AND j.state = 'done')) AS printed,
                        EXISTS (SELECT 1 FROM staff_comps c WHERE c.payment_id = p.id) AS comp,
                        ({receipt}) AS receipt,
                        EXISTS (SELECT 1 FROM payme_transactions t
                                WHERE t.payment_id = p.id AND t.state = -2) AS payme_cancelled,
                        EXISTS (SELECT 1 FROM provider_refunds r
                                WHERE r.payment_id = p.id AND r.state = 'done') AS provider_refund_done
                 FROM payments p
                 WHERE p.created_at >= ? AND p.created_at < ?)
             WHERE took_money OR printed OR comp
             ORDER BY created_at, id"
        );
        Ok(sqlx::query_as::<_, OrderRow>(&sql)
            .bind(db_time(from))
            .bind(db_time(to))
            .fetch_all(self.pool())
            .await?)
    }
}
