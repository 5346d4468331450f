//! Queries on `provider_refunds`: refunds that return the money through the provider (a Click
//! reversal, a Payme refund window). Every write runs inside the caller's `BEGIN IMMEDIATE`
//! transaction together with the payment's event row (and, for a finished refund, the payment's
//! change to `canceled`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::SqliteConnection;

use crate::money::Sum;
use crate::pool::{db_time, Result, Store};

pub const METHOD_CLICK_REVERSAL: &str = "click_reversal";
pub const METHOD_PAYME_WINDOW: &str = "payme_window";

pub const STATE_REQUESTED: &str = "requested";
pub const STATE_DONE: &str = "done";
pub const STATE_REFUSED: &str = "refused";
pub const STATE_FAILED: &str = "failed";
pub const STATE_OPEN: &str = "open";

/// One row of `provider_refunds`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ProviderRefund {
    pub id: i64,
    pub payment_id: i64,
    pub method: String,
    pub state: String,
    pub amount: Sum,
    pub reason: String,
    pub actor: String,
    pub attempts: i64,
    pub window_expires_at: Option<DateTime<Utc>>,
    pub provider_ref: Option<String>,
    pub provider_code: Option<i64>,
    pub provider_note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ProviderRefund {
    /// A Payme window that still accepts Payme's CancelTransaction at `now`.
    pub fn window_open_at(&self, now: DateTime<Utc>) -> bool {
        self.method == METHOD_PAYME_WINDOW
            && self.state == STATE_OPEN
            && self.window_expires_at.is_some_and(|t| now < t)
    }
}

/// What a staff refund request writes.
#[derive(Debug, Clone)]
pub struct NewRefund<'a> {
    pub payment_id: i64,
    pub method: &'static str,
    pub amount: Sum,
    pub reason: &'a str,
    pub actor: &'a str,
    pub provider_ref: Option<&'a str>,
    pub window_expires_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

pub async fn for_payment(
    conn: &mut SqliteConnection,
    payment_id: i64,
) -> Result<Option<ProviderRefund>> {
    Ok(
        sqlx::query_as::<_, ProviderRefund>("SELECT * FROM provider_refunds WHERE payment_id = ?")
            .bind(payment_id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Claim a Click reversal for the order: a new row in `requested`, or an existing one that was
/// refused, failed, or requested before `stale_before` (a call that never finished: the process
/// stopped). Returns the claimed row, or `None` when a reversal is under way or already done.
pub async fn claim_reversal(
    conn: &mut SqliteConnection,
    r: &NewRefund<'_>,
    stale_before: DateTime<Utc>,
) -> Result<Option<ProviderRefund>> {
    let now = db_time(r.now);
    Ok(sqlx::query_as::<_, ProviderRefund>(
        "INSERT INTO provider_refunds (payment_id, method, state, amount, reason, actor,
                                       provider_ref, created_at, updated_at)
         VALUES (?1, ?2, 'requested', ?3, ?4, ?5, ?6, ?7, ?7)
         ON CONFLICT (payment_id) DO UPDATE SET
             method = excluded.method, state = 'requested', amount = excluded.amount,
             reason = excluded.reason, actor = excluded.actor, provider_ref = excluded.provider_ref,
             provider_code = NULL, provider_note = NULL, attempts = attempts + 1,
             updated_at = excluded.updated_at
         WHERE provider_refunds.state IN ('refused', 'failed')
            OR (provider_refunds.state = 'requested' AND provider_refunds.updated_at < ?8)
         RETURNING *",
    )
    .bind(r.payment_id)
    .bind(r.method)
    .bind(r.amount)
    .bind(r.reason)
    .bind(r.actor)
    .bind(r.provider_ref)
    .bind(&now)
    .bind(db_time(stale_before))
    .fetch_optional(conn)
    .await?)
}

/// The answer to a claimed reversal: `done`, `refused` or `failed`, with Click's code and note.
pub async fn finish_reversal(
    conn: &mut SqliteConnection,
    id: i64,
    state: &str,
    code: Option<i64>,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<ProviderRefund>> {
    Ok(sqlx::query_as::<_, ProviderRefund>(
        "UPDATE provider_refunds SET state = ?, provider_code = ?, provider_note = ?, updated_at = ?
         WHERE id = ? AND state = 'requested'
         RETURNING *",
    )
    .bind(state)
    .bind(code)
    .bind(note)
    .bind(db_time(now))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Open (or reopen, with a new expiry) the Payme refund window of the order. Returns `None`
/// when the order's refund is already done.
pub async fn open_window(
    conn: &mut SqliteConnection,
    r: &NewRefund<'_>,
) -> Result<Option<ProviderRefund>> {
    let now = db_time(r.now);
    Ok(sqlx::query_as::<_, ProviderRefund>(
        "INSERT INTO provider_refunds (payment_id, method, state, amount, reason, actor,
                                       provider_ref, window_expires_at, created_at, updated_at)
         VALUES (?1, ?2, 'open', ?3, ?4, ?5, ?6, ?7, ?8, ?8)
         ON CONFLICT (payment_id) DO UPDATE SET
             method = excluded.method, state = 'open', amount = excluded.amount,
             reason = excluded.reason, actor = excluded.actor, provider_ref = excluded.provider_ref,
             window_expires_at = excluded.window_expires_at, attempts = attempts + 1,
             updated_at = excluded.updated_at
         WHERE provider_refunds.state != 'done'
         RETURNING *",
    )
    .bind(r.payment_id)
    .bind(r.method)
    .bind(r.amount)
    .bind(r.reason)
    .bind(r.actor)
    .bind(r.provider_ref)
    .bind(r.window_expires_at.map(db_time))
    .bind(&now)
    .fetch_optional(conn)
    .await?)
}

/// The order's Payme refund window if it is open at `now`.
pub async fn open_window_for(
    conn: &mut SqliteConnection,
    payment_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<ProviderRefund>> {
    Ok(for_payment(conn, payment_id)
        .await?
        .filter(|r| r.window_open_at(now)))
}

/// Payme's CancelTransaction used the window: `done`, with Payme's reason.
pub async fn close_window(
    conn: &mut SqliteConnection,
    id: i64,
    payme_reason: i64,
    now: DateTime<Utc>,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE provider_refunds SET state = 'done', provider_code = ?,
                                     provider_note = 'CancelTransaction', updated_at = ?
         WHERE id = ? AND state = 'open'",
    )
    .bind(payme_reason)
    .bind(db_time(now))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

impl Store {
    pub async fn provider_refund(&self, payment_id: i64) -> Result<Option<ProviderRefund>> {
        let mut c = self.pool().acquire().await?;
        for_payment(&mut c, payment_id).await
    }
}
