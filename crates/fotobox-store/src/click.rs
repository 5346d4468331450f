//! Queries on `click_transactions` (Click SHOP API). One row per Click attempt
//! (`click_trans_id`); its `id` is the `merchant_prepare_id` we hand to Click and, once
//! confirmed, also the `merchant_confirm_id`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::SqliteConnection;

use crate::pool::{db_time, Result, Store};

pub const STATE_PREPARED: &str = "prepared";
pub const STATE_CONFIRMED: &str = "confirmed";
pub const STATE_CANCELLED: &str = "cancelled";

/// One row of `click_transactions`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ClickTransaction {
    pub id: i64,
    pub click_trans_id: i64,
    pub click_paydoc_id: i64,
    pub payment_id: i64,
    pub amount_raw: String,
    pub state: String,
    pub click_error: Option<i64>,
    pub click_error_note: Option<String>,
    pub merchant_confirm_id: Option<i64>,
    pub prepared_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// What a new (prepared) attempt holds.
#[derive(Debug, Clone)]
pub struct NewClickTransaction<'a> {
    pub click_trans_id: i64,
    pub click_paydoc_id: i64,
    pub payment_id: i64,
    pub amount_raw: &'a str,
    pub click_error: i64,
    pub click_error_note: &'a str,
    pub now: DateTime<Utc>,
}

pub async fn by_click_trans_id(
    conn: &mut SqliteConnection,
    click_trans_id: i64,
) -> Result<Option<ClickTransaction>> {
    Ok(sqlx::query_as::<_, ClickTransaction>(
        "SELECT * FROM click_transactions WHERE click_trans_id = ?",
    )
    .bind(click_trans_id)
    .fetch_optional(conn)
    .await?)
}

/// By our id (`merchant_prepare_id`).
pub async fn by_id(conn: &mut SqliteConnection, id: i64) -> Result<Option<ClickTransaction>> {
    Ok(
        sqlx::query_as::<_, ClickTransaction>("SELECT * FROM click_transactions WHERE id = ?")
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Insert a prepared attempt. A repeated `click_trans_id` is a unique violation.
pub async fn insert_prepared(
    conn: &mut SqliteConnection,
    t: &NewClickTransaction<'_>,
) -> Result<ClickTransaction> {
    Ok(sqlx::query_as::<_, ClickTransaction>(
        "INSERT INTO click_transactions (click_trans_id, click_paydoc_id, payment_id, amount_raw,
                                         state, click_error, click_error_note, prepared_at)
         VALUES (?, ?, ?, ?, 'prepared', ?, ?, ?)
         RETURNING *",
    )
    .bind(t.click_trans_id)
    .bind(t.click_paydoc_id)
    .bind(t.payment_id)
    .bind(t.amount_raw)
    .bind(t.click_error)
    .bind(t.click_error_note)
    .bind(db_time(t.now))
    .fetch_one(conn)
    .await?)
}

/// Confirm a prepared attempt (its id becomes the `merchant_confirm_id`). Only a prepared row
/// changes; returns whether it did. A second confirmed attempt for the same order violates the
/// partial unique index.
pub async fn confirm(
    conn: &mut SqliteConnection,
    id: i64,
    click_error: i64,
    click_error_note: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE click_transactions
         SET state = 'confirmed', merchant_confirm_id = id, click_error = ?, click_error_note = ?,
             confirmed_at = ?
         WHERE id = ? AND state = 'prepared'",
    )
    .bind(click_error)
    .bind(click_error_note)
    .bind(db_time(now))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Cancel a prepared attempt (Click's `error < 0`). Only a prepared row changes.
pub async fn cancel(
    conn: &mut SqliteConnection,
    id: i64,
    click_error: i64,
    click_error_note: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    cancel_prepared(conn, id, Some(click_error), click_error_note, now).await
}

/// The one way a prepared attempt becomes cancelled: Click's own `error` when it sent one.
async fn cancel_prepared(
    conn: &mut SqliteConnection,
    id: i64,
    click_error: Option<i64>,
    note: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE click_transactions
         SET state = 'cancelled', click_error = COALESCE(?, click_error), click_error_note = ?,
             cancelled_at = ?
         WHERE id = ? AND state = 'prepared'",
    )
    .bind(click_error)
    .bind(note)
    .bind(db_time(now))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Prepared attempts of still pending orders that were prepared at or before `before` (Click
/// never sent their Complete), oldest first.
pub async fn stale_prepared(
    conn: &mut SqliteConnection,
    before: DateTime<Utc>,
) -> Result<Vec<ClickTransaction>> {
    Ok(sqlx::query_as::<_, ClickTransaction>(
        "SELECT c.* FROM click_transactions c JOIN payments p ON p.id = c.payment_id
         WHERE c.state = 'prepared' AND c.prepared_at <= ? AND p.status = 'pending'
         ORDER BY c.id LIMIT 500",
    )
    .bind(db_time(before))
    .fetch_all(conn)
    .await?)
}

/// Expire a prepared attempt (no Complete in time). Only a prepared row changes.
pub async fn expire_prepared(
    conn: &mut SqliteConnection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool> {
    cancel_prepared(conn, id, None, "expired: no Complete in time", now).await
}

pub async fn for_payment(
    conn: &mut SqliteConnection,
    payment_id: i64,
) -> Result<Vec<ClickTransaction>> {
    Ok(sqlx::query_as::<_, ClickTransaction>(
        "SELECT * FROM click_transactions WHERE payment_id = ? ORDER BY id",
    )
    .bind(payment_id)
    .fetch_all(conn)
    .await?)
}

impl Store {
    /// Every Click attempt of an order, oldest first.
    pub async fn click_transactions_for_payment(
        &self,
        payment_id: i64,
    ) -> Result<Vec<ClickTransaction>> {
        let mut c = self.pool().acquire().await?;
        for_payment(&mut c, payment_id).await
    }

    /// Number of rows in `click_transactions` and `payment_events` (tests check "nothing changed").
    pub async fn click_row_counts(&self) -> Result<(i64, i64)> {
        let (a, b): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM click_transactions), (SELECT COUNT(*) FROM payment_events)",
        )
        .fetch_one(self.pool())
        .await?;
        Ok((a, b))
    }
}
