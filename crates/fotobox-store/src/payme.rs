//! Queries on `payme_transactions` and `payme_fiscal_data` (Payme Merchant API).
//!
//! Every write here is meant to run inside the caller's `BEGIN IMMEDIATE` transaction
//! ([`super::Store::begin_write`]) together with the payment change and its event row.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::SqliteConnection;

use crate::pool::{db_time, Result, Store};

/// One row of `payme_transactions`. Times are 13-digit Unix milliseconds (0 = unset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PaymeTx {
    /// Our `transaction` id (sent to Payme as a string).
    pub id: i64,
    pub payme_id: String,
    pub payment_id: i64,
    /// `params.time` of CreateTransaction (Payme's creation time).
    pub payme_time_ms: i64,
    pub amount_tiyin: i64,
    pub state: i64,
    pub create_time_ms: i64,
    pub perform_time_ms: i64,
    pub cancel_time_ms: i64,
    pub reason: Option<i64>,
}

/// A statement line: the transaction and its order id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct StatementRow {
    #[sqlx(flatten)]
    pub tx: PaymeTx,
    pub order_id: String,
}

const TX_COLUMNS: &str =
    "id, payme_id, payment_id, payme_time_ms, amount_tiyin, state, create_time_ms,
     perform_time_ms, cancel_time_ms, reason";

/// What a new transaction row holds (state 1).
#[derive(Debug, Clone)]
pub struct NewPaymeTx<'a> {
    pub payme_id: &'a str,
    pub payment_id: i64,
    pub payme_time_ms: i64,
    pub amount_tiyin: i64,
    pub create_time_ms: i64,
    pub now: DateTime<Utc>,
}

pub async fn tx_by_payme_id(
    conn: &mut SqliteConnection,
    payme_id: &str,
) -> Result<Option<PaymeTx>> {
    Ok(sqlx::query_as::<_, PaymeTx>(&format!(
        "SELECT {TX_COLUMNS} FROM payme_transactions WHERE payme_id = ?"
    ))
    .bind(payme_id)
    .fetch_optional(conn)
    .await?)
}

/// Every Payme transaction of an order, oldest first.
pub async fn txs_for_payment(conn: &mut SqliteConnection, payment_id: i64) -> Result<Vec<PaymeTx>> {
    Ok(sqlx::query_as::<_, PaymeTx>(&format!(
        "SELECT {TX_COLUMNS} FROM payme_transactions WHERE payment_id = ? ORDER BY id"
    ))
    .bind(payment_id)
    .fetch_all(conn)
    .await?)
}

/// Insert a new state-1 transaction. A second live transaction for the same order (or a
/// duplicate `payme_id`) is a unique violation.
pub async fn insert_tx(conn: &mut SqliteConnection, t: &NewPaymeTx<'_>) -> Result<PaymeTx> {
    Ok(sqlx::query_as::<_, PaymeTx>(&format!(
        "INSERT INTO payme_transactions (payme_id, payment_id, payme_time_ms, amount_tiyin, state,
                                         create_time_ms, created_at)
         VALUES (?, ?, ?, ?, 1, ?, ?)
         RETURNING {TX_COLUMNS}"
    ))
    .bind(t.payme_id)
    .bind(t.payment_id)
    .bind(t.payme_time_ms)
    .bind(t.amount_tiyin)
    .bind(t.create_time_ms)
    .bind(db_time(t.now))
    .fetch_one(conn)
    .await?)
}

/// 1 → 2. Returns the updated row, or `None` when the row was not in state 1.
pub async fn mark_performed(
    conn: &mut SqliteConnection,
    id: i64,
    perform_time_ms: i64,
) -> Result<Option<PaymeTx>> {
    Ok(sqlx::query_as::<_, PaymeTx>(&format!(
        "UPDATE payme_transactions SET state = 2, perform_time_ms = ?
         WHERE id = ? AND state = 1
         RETURNING {TX_COLUMNS}"
    ))
    .bind(perform_time_ms)
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// 1 → -1 or 2 → -2 (`new_state` must be the negation of `from_state`). Returns the updated
/// row, or `None` when the row was not in `from_state`.
pub async fn mark_cancelled(
    conn: &mut SqliteConnection,
    id: i64,
    from_state: i64,
    reason: i64,
    cancel_time_ms: i64,
) -> Result<Option<PaymeTx>> {
    Ok(sqlx::query_as::<_, PaymeTx>(&format!(
        "UPDATE payme_transactions SET state = -state, reason = ?, cancel_time_ms = ?
         WHERE id = ? AND state = ? AND state IN (1, 2)
         RETURNING {TX_COLUMNS}"
    ))
    .bind(reason)
    .bind(cancel_time_ms)
    .bind(id)
    .bind(from_state)
    .fetch_optional(conn)
    .await?)
}

/// GetStatement: transactions whose Payme creation time is in `from..=to`, ascending.
pub async fn statement(
    conn: &mut SqliteConnection,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<StatementRow>> {
    Ok(sqlx::query_as::<_, StatementRow>(
        "SELECT t.id, t.payme_id, t.payment_id, t.payme_time_ms, t.amount_tiyin, t.state,
                t.create_time_ms, t.perform_time_ms, t.cancel_time_ms, t.reason, p.order_id
         FROM payme_transactions t JOIN payments p ON p.id = t.payment_id
         WHERE t.payme_time_ms >= ? AND t.payme_time_ms <= ?
         ORDER BY t.payme_time_ms, t.id",
    )
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(conn)
    .await?)
}

/// What SetFiscalData carries (fields as Payme sent them; `raw_json` is the whole `fiscal_data`).
#[derive(Debug, Clone, Default)]
pub struct NewFiscalData<'a> {
    pub payme_id: &'a str,
    pub kind: &'a str,
    /// Payme's receipt id, number or string as sent (a number as its decimal text).
    pub receipt_id: Option<&'a str>,
    pub status_code: Option<i64>,
    pub message: Option<&'a str>,
    pub terminal_id: Option<&'a str>,
    pub fiscal_sign: Option<&'a str>,
    pub qr_code_url: Option<&'a str>,
    pub fiscal_date: Option<String>,
    pub raw_json: String,
}

/// One row of `payme_fiscal_data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct FiscalRow {
    pub id: i64,
    pub payme_id: String,
    pub kind: String,
    pub receipt_id: Option<String>,
    pub status_code: Option<i64>,
    pub message: Option<String>,
    pub terminal_id: Option<String>,
    pub fiscal_sign: Option<String>,
    pub qr_code_url: Option<String>,
    pub fiscal_date: Option<String>,
    pub raw_json: String,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_fiscal(
    conn: &mut SqliteConnection,
    f: &NewFiscalData<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO payme_fiscal_data (payme_id, kind, receipt_id, status_code, message, terminal_id,
                                        fiscal_sign, qr_code_url, fiscal_date, raw_json, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(f.payme_id)
    .bind(f.kind)
    .bind(f.receipt_id)
    .bind(f.status_code)
    .bind(f.message)
    .bind(f.terminal_id)
    .bind(f.fiscal_sign)
    .bind(f.qr_code_url)
    .bind(f.fiscal_date.as_deref())
    .bind(&f.raw_json)
    .bind(db_time(now))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn fiscal_for(conn: &mut SqliteConnection, payme_id: &str) -> Result<Vec<FiscalRow>> {
    Ok(sqlx::query_as::<_, FiscalRow>(
        "SELECT id, payme_id, kind, CAST(receipt_id AS TEXT) AS receipt_id, status_code, message,
                terminal_id, fiscal_sign, qr_code_url, fiscal_date, raw_json, created_at
         FROM payme_fiscal_data WHERE payme_id = ? ORDER BY id",
    )
    .bind(payme_id)
    .fetch_all(conn)
    .await?)
}

/// The newest sale receipt (`PERFORM`) Payme sent for any transaction of the order.
pub async fn sale_receipt_for_payment(
    conn: &mut SqliteConnection,
    payment_id: i64,
) -> Result<Option<FiscalRow>> {
    Ok(sqlx::query_as::<_, FiscalRow>(
        "SELECT f.id, f.payme_id, f.kind, CAST(f.receipt_id AS TEXT) AS receipt_id, f.status_code,
                f.message, f.terminal_id, f.fiscal_sign, f.qr_code_url, f.fiscal_date, f.raw_json,
                f.created_at
         FROM payme_fiscal_data f JOIN payme_transactions t ON t.payme_id = f.payme_id
         WHERE t.payment_id = ? AND f.kind = 'PERFORM'
         ORDER BY f.id DESC LIMIT 1",
    )
    .bind(payment_id)
    .fetch_optional(conn)
    .await?)
}

/// Row counts of the Payme tables and the event log (tests: "no stored change").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymeCounts {
    pub transactions: i64,
    pub fiscal: i64,
    pub events: i64,
}

impl Store {
    pub async fn payme_tx(&self, payme_id: &str) -> Result<Option<PaymeTx>> {
        let mut c = self.pool().acquire().await?;
        tx_by_payme_id(&mut c, payme_id).await
    }

    pub async fn payme_txs_for_payment(&self, payment_id: i64) -> Result<Vec<PaymeTx>> {
        let mut c = self.pool().acquire().await?;
        txs_for_payment(&mut c, payment_id).await
    }

    pub async fn payme_sale_receipt(&self, payment_id: i64) -> Result<Option<FiscalRow>> {
        let mut c = self.pool().acquire().await?;
        sale_receipt_for_payment(&mut c, payment_id).await
    }

    pub async fn payme_fiscal_for(&self, payme_id: &str) -> Result<Vec<FiscalRow>> {
        let mut c = self.pool().acquire().await?;
        fiscal_for(&mut c, payme_id).await
    }

    /// Counts plus a digest of every mutable Payme/payment column, to prove a call changed nothing.
    pub async fn payme_snapshot(&self) -> Result<(PaymeCounts, String)> {
        let (transactions, fiscal, events): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM payme_transactions), (SELECT COUNT(*) FROM payme_fiscal_data),
                    (SELECT COUNT(*) FROM payment_events)",
        )
        .fetch_one(self.pool())
        .await?;
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT payme_id || '|' || state || '|' || perform_time_ms || '|' || cancel_time_ms || '|' || COALESCE(reason, 'n')
             FROM payme_transactions
             UNION ALL
             SELECT order_id || '|' || status || '|' || COALESCE(state, 'n') || '|' || COALESCE(transaction_id, 'n')
             FROM payments ORDER BY 1",
        )
        .fetch_all(self.pool())
        .await?;
        let digest = rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("\n");
        Ok((
            PaymeCounts {
                transactions,
                fiscal,
                events,
            },
            digest,
        ))
    }
}
