//! Queries on `click_fiscal`: the fiscal receipt of each paid Click order (click.md 10a), one
//! row per order, moved by the core's fiscalisation job. A try is claimed in a commit (its
//! `next_try_at` pushed past the calls, so no other runner takes it), the POST is marked
//! `submitting` in a commit before it is sent, and each try's result is written together with
//! its payment event.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{SqliteConnection, SqlitePool};

use crate::pool::{db_time, Result, Store};

pub const STATE_PENDING: &str = "pending";
pub const STATE_SUBMITTING: &str = "submitting";
pub const STATE_SUBMITTED: &str = "submitted";
pub const STATE_DONE: &str = "done";
pub const STATE_FAILED: &str = "failed";
pub const STATE_SKIPPED: &str = "skipped";

/// Click issued the receipt itself (it was there at the first look).
pub const ORIGIN_CLICK: &str = "click";
/// The kiosk submitted the items.
pub const ORIGIN_KIOSK: &str = "kiosk";

/// One row of `click_fiscal`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ClickFiscal {
    pub id: i64,
    pub payment_id: i64,
    pub click_payment_id: i64,
    pub state: String,
    pub origin: Option<String>,
    pub attempts: i64,
    pub next_try_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub receipt_url: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Give every Click order confirmed at or after `since` that has no row yet a `pending` one,
/// first due `delay_secs` after its confirmation. Returns how many were added.
pub async fn discover(
    conn: &mut SqliteConnection,
    since: DateTime<Utc>,
    delay_secs: u64,
    now: DateTime<Utc>,
) -> Result<u64> {
    let r = sqlx::query(
        "INSERT INTO click_fiscal (payment_id, click_payment_id, state, next_try_at, created_at,
                                   updated_at)
         SELECT t.payment_id, t.click_paydoc_id, 'pending',
                strftime('%Y-%m-%d %H:%M:%f', t.confirmed_at, '+' || ?1 || ' seconds'), ?2, ?2
         FROM click_transactions t
         WHERE t.state = 'confirmed' AND t.confirmed_at >= ?3
           AND NOT EXISTS (SELECT 1 FROM click_fiscal f WHERE f.payment_id = t.payment_id)
         ON CONFLICT (payment_id) DO NOTHING",
    )
    .bind(delay_secs as i64)
    .bind(db_time(now))
    .bind(db_time(since))
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// Rows whose next try is due at `now`, the longest waiting first.
pub async fn due(pool: &SqlitePool, now: DateTime<Utc>, limit: i64) -> Result<Vec<ClickFiscal>> {
    Ok(sqlx::query_as::<_, ClickFiscal>(
        "SELECT * FROM click_fiscal
         WHERE state IN ('pending', 'submitting', 'submitted') AND next_try_at <= ?
         ORDER BY next_try_at, id LIMIT ?",
    )
    .bind(db_time(now))
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Claim a due row for one try: count the try and move `next_try_at` to `lease_until`, past
/// the calls. `None` when another runner took it or it is no longer due.
pub async fn claim(
    conn: &mut SqliteConnection,
    id: i64,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Option<ClickFiscal>> {
    Ok(sqlx::query_as::<_, ClickFiscal>(
        "UPDATE click_fiscal SET attempts = attempts + 1, next_try_at = ?1, updated_at = ?2
         WHERE id = ?3 AND state IN ('pending', 'submitting', 'submitted') AND next_try_at <= ?2
         RETURNING *",
    )
    .bind(db_time(lease_until))
    .bind(db_time(now))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Just before the POST: `submitting` (a crash from here on leaves it so). Only from `pending`
/// or `submitting`; returns whether the row was in one of them.
pub async fn mark_submitting(
    conn: &mut SqliteConnection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE click_fiscal SET state = 'submitting', updated_at = ?
         WHERE id = ? AND state IN ('pending', 'submitting')",
    )
    .bind(db_time(now))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The result of one try.
#[derive(Debug, Clone)]
pub struct TryResult<'a> {
    pub state: &'static str,
    pub origin: Option<&'static str>,
    pub receipt_url: Option<&'a str>,
    pub last_error: Option<&'a str>,
    /// `None` once the row is done, failed or skipped.
    pub next_try_at: Option<DateTime<Utc>>,
    /// Set when Click accepted the items in this try.
    pub submitted_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

/// Write a try's result (inside the caller's transaction, with its payment event). A row
/// already done or skipped is left alone (`None`).
pub async fn finish(
    conn: &mut SqliteConnection,
    id: i64,
    r: &TryResult<'_>,
) -> Result<Option<ClickFiscal>> {
    Ok(sqlx::query_as::<_, ClickFiscal>(
        "UPDATE click_fiscal SET state = ?, origin = COALESCE(?, origin),
                                 receipt_url = COALESCE(?, receipt_url), last_error = ?,
                                 next_try_at = ?, submitted_at = COALESCE(?, submitted_at),
                                 updated_at = ?
         WHERE id = ? AND state NOT IN ('done', 'skipped')
         RETURNING *",
    )
    .bind(r.state)
    .bind(r.origin)
    .bind(r.receipt_url)
    .bind(r.last_error)
    .bind(r.next_try_at.map(db_time))
    .bind(r.submitted_at.map(db_time))
    .bind(db_time(r.now))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

pub async fn for_payment(
    conn: &mut SqliteConnection,
    payment_id: i64,
) -> Result<Option<ClickFiscal>> {
    Ok(
        sqlx::query_as::<_, ClickFiscal>("SELECT * FROM click_fiscal WHERE payment_id = ?")
            .bind(payment_id)
            .fetch_optional(conn)
            .await?,
    )
}

impl Store {
    /// The order's Click receipt row, if the job has seen the order.
    pub async fn click_fiscal(&self, payment_id: i64) -> Result<Option<ClickFiscal>> {
        let mut c = self.pool().acquire().await?;
        for_payment(&mut c, payment_id).await
    }
}
