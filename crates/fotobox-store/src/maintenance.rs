//! Queries of the unattended-operation jobs (`crate::maintenance`): alerts, tunnel checks, the
//! maintenance log, health and metrics figures, retention/archiving, and the generic row copy
//! used to replay a damaged database into a restored one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::{Column, Row, SqliteConnection, SqlitePool, TypeInfo, ValueRef};

use crate::model::Payment;
use crate::pool::{db_time, Result};

// ---------------------------------------------------------------------------------------------
// Alerts

/// One row of `alerts`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct AlertRow {
    pub id: i64,
    pub kind: String,
    pub severity: String,
    pub dedup_key: String,
    pub message: String,
    pub occurrences: i64,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub delivery: String,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// The newest alert with this key that is neither resolved nor acknowledged.
pub async fn latest_open_alert(conn: &mut SqliteConnection, key: &str) -> Result<Option<AlertRow>> {
    Ok(sqlx::query_as::<_, AlertRow>(
        "SELECT * FROM alerts WHERE dedup_key = ? AND resolved_at IS NULL AND acknowledged_at IS NULL
         ORDER BY id DESC LIMIT 1",
    )
    .bind(key)
    .fetch_optional(conn)
    .await?)
}

pub async fn bump_alert(conn: &mut SqliteConnection, id: i64, now: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE alerts SET occurrences = occurrences + 1, last_at = ? WHERE id = ?")
        .bind(db_time(now))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A new alert; `delivery` is `pending` (to be sent) or `skipped` (no sender configured).
pub async fn insert_alert(
    conn: &mut SqliteConnection,
    kind: &str,
    severity: &str,
    key: &str,
    message: &str,
    delivery: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    let t = db_time(now);
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO alerts (kind, severity, dedup_key, message, first_at, last_at, delivery)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(kind)
    .bind(severity)
    .bind(key)
    .bind(message)
    .bind(&t)
    .bind(&t)
    .bind(delivery)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// Alerts waiting to be sent whose next attempt is due, oldest first.
pub async fn due_alerts(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<AlertRow>> {
    Ok(sqlx::query_as::<_, AlertRow>(
        "SELECT * FROM alerts WHERE delivery = 'pending'
           AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
         ORDER BY id LIMIT ?",
    )
    .bind(db_time(now))
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

pub async fn mark_alert_sent(pool: &SqlitePool, id: i64, now: DateTime<Utc>) -> Result<()> {
    sqlx::query(
        "UPDATE alerts SET delivery = 'sent', sent_at = ?, attempts = attempts + 1,
                           next_attempt_at = NULL, last_error = NULL
         WHERE id = ?",
    )
    .bind(db_time(now))
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Record a failed send: retried at `next_at`, or given up (`failed`) when `next_at` is `None`.
pub async fn mark_alert_attempt_failed(
    pool: &SqlitePool,
    id: i64,
    error: &str,
    next_at: Option<DateTime<Utc>>,
) -> Result<()> {
    sqlx::query(
        "UPDATE alerts SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,
                           delivery = CASE WHEN ? IS NULL THEN 'failed' ELSE 'pending' END
         WHERE id = ?",
    )
    .bind(error)
    .bind(next_at.map(db_time))
    .bind(next_at.map(db_time))
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Whether any alert (open or not) was ever raised with this key.
pub async fn alert_exists(pool: &SqlitePool, key: &str) -> Result<bool> {
    let r: Option<(i64,)> = sqlx::query_as("SELECT id FROM alerts WHERE dedup_key = ? LIMIT 1")
        .bind(key)
        .fetch_optional(pool)
        .await?;
    Ok(r.is_some())
}

/// Mark every open alert with this key resolved; returns how many.
pub async fn resolve_alerts(pool: &SqlitePool, key: &str, now: DateTime<Utc>) -> Result<u64> {
    let r = sqlx::query(
        "UPDATE alerts SET resolved_at = ? WHERE dedup_key = ? AND resolved_at IS NULL",
    )
    .bind(db_time(now))
    .bind(key)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}

/// Newest first; `open_only` leaves out resolved and acknowledged alerts.
pub async fn list_alerts(pool: &SqlitePool, open_only: bool, limit: i64) -> Result<Vec<AlertRow>> {
    let sql = if open_only {
        "SELECT * FROM alerts WHERE resolved_at IS NULL AND acknowledged_at IS NULL ORDER BY id DESC LIMIT ?"
    } else {
        "SELECT * FROM alerts ORDER BY id DESC LIMIT ?"
    };
    Ok(sqlx::query_as::<_, AlertRow>(sql)
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

/// Open alerts per severity.
pub async fn open_alert_counts(pool: &SqlitePool) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT severity, COUNT(*) FROM alerts WHERE resolved_at IS NULL AND acknowledged_at IS NULL
         GROUP BY severity ORDER BY severity",
    )
    .fetch_all(pool)
    .await?)
}

// ---------------------------------------------------------------------------------------------
// Tunnel checks and the maintenance log

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct TunnelCheckRow {
    pub id: i64,
    pub url: String,
    pub ok: bool,
    pub http_status: Option<i64>,
    pub latency_ms: Option<i64>,
    pub error: Option<String>,
    pub checked_at: DateTime<Utc>,
}

pub async fn insert_tunnel_check(
    pool: &SqlitePool,
    url: &str,
    ok: bool,
    http_status: Option<i64>,
    latency_ms: Option<i64>,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO tunnel_checks (url, ok, http_status, latency_ms, error, checked_at)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(url)
    .bind(ok)
    .bind(http_status)
    .bind(latency_ms)
    .bind(error)
    .bind(db_time(now))
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn recent_tunnel_checks(pool: &SqlitePool, limit: i64) -> Result<Vec<TunnelCheckRow>> {
    Ok(
        sqlx::query_as::<_, TunnelCheckRow>("SELECT * FROM tunnel_checks ORDER BY id DESC LIMIT ?")
            .bind(limit)
            .fetch_all(pool)
            .await?,
    )
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct RunRow {
    pub id: i64,
    pub job: String,
    pub ok: bool,
    pub detail_json: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

pub async fn insert_run(
    pool: &SqlitePool,
    job: &str,
    ok: bool,
    detail: &serde_json::Value,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO maintenance_runs (job, ok, detail_json, started_at, finished_at)
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(job)
    .bind(ok)
    .bind(detail.to_string())
    .bind(db_time(started))
    .bind(db_time(finished))
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn last_run(pool: &SqlitePool, job: &str, ok_only: bool) -> Result<Option<RunRow>> {
    let sql = if ok_only {
        "SELECT * FROM maintenance_runs WHERE job = ? AND ok = 1 ORDER BY id DESC LIMIT 1"
    } else {
        "SELECT * FROM maintenance_runs WHERE job = ? ORDER BY id DESC LIMIT 1"
    };
    Ok(sqlx::query_as::<_, RunRow>(sql)
        .bind(job)
        .fetch_optional(pool)
        .await?)
}

pub async fn recent_runs(pool: &SqlitePool, limit: i64) -> Result<Vec<RunRow>> {
    Ok(
        sqlx::query_as::<_, RunRow>("SELECT * FROM maintenance_runs ORDER BY id DESC LIMIT ?")
            .bind(limit)
            .fetch_all(pool)
            .await?,
    )
}

/// Delete old tunnel checks, old maintenance runs and old closed alerts; returns rows deleted.
pub async fn prune_logs(
    pool: &SqlitePool,
    checks_before: DateTime<Utc>,
    alerts_before: DateTime<Utc>,
) -> Result<u64> {
    let mut n = sqlx::query("DELETE FROM tunnel_checks WHERE checked_at < ?")
        .bind(db_time(checks_before))
        .execute(pool)
        .await?
        .rows_affected();
    n += sqlx::query("DELETE FROM maintenance_runs WHERE finished_at < ?")
        .bind(db_time(alerts_before))
        .execute(pool)
        .await?
        .rows_affected();
    n += sqlx::query(
        "DELETE FROM alerts WHERE last_at < ? AND delivery != 'pending'
           AND (resolved_at IS NOT NULL OR acknowledged_at IS NOT NULL OR severity = 'info')",
    )
    .bind(db_time(alerts_before))
    .execute(pool)
    .await?
    .rows_affected();
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Health and metrics figures

/// The newest provider callback per provider (`payment_events` with source payme/click, not
/// counting our own status checks).
pub async fn last_callbacks(pool: &SqlitePool) -> Result<Vec<(String, DateTime<Utc>)>> {
    Ok(sqlx::query_as(
        "SELECT source, MAX(created_at) FROM payment_events
         WHERE source IN ('payme', 'click') AND kind != 'status_check'
         GROUP BY source ORDER BY source",
    )
    .fetch_all(pool)
    .await?)
}

/// (provider, status, count, sum of amounts) over all payments.
pub async fn payments_by_provider_status(
    pool: &SqlitePool,
) -> Result<Vec<(String, String, i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT payment_type, status, COUNT(*), COALESCE(SUM(amount), 0) FROM payments
         GROUP BY payment_type, status ORDER BY payment_type, status",
    )
    .fetch_all(pool)
    .await?)
}

async fn table_exists(pool: &SqlitePool, name: &str) -> Result<bool> {
    let r: Option<(String,)> =
        sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?")
            .bind(name)
            .fetch_optional(pool)
            .await?;
    Ok(r.is_some())
}

/// (state, count, copies) of print jobs; empty when the print pipeline's table does not exist.
pub async fn print_jobs_by_state(pool: &SqlitePool) -> Result<Vec<(String, i64, i64)>> {
    if !table_exists(pool, "print_jobs").await? {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_as(
        "SELECT state, COUNT(*), COALESCE(SUM(copies), 0) FROM print_jobs GROUP BY state ORDER BY state",
    )
    .fetch_all(pool)
    .await?)
}

/// Figures of one period for the daily summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PeriodSummary {
    pub orders: i64,
    pub paid: i64,
    pub canceled: i64,
    pub revenue: i64,
    pub failed_prints: i64,
    pub problems: i64,
}

/// Orders created in `[from, to)`, failed print jobs and warning/critical alerts in that window.
pub async fn period_summary(
    pool: &SqlitePool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<PeriodSummary> {
    let (f, t) = (db_time(from), db_time(to));
    let (orders, paid, canceled, revenue): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(*),
                COALESCE(SUM(status = 'success'), 0),
                COALESCE(SUM(status = 'canceled'), 0),
                COALESCE(SUM(CASE WHEN status = 'success' THEN amount ELSE 0 END), 0)
         FROM payments WHERE created_at >= ? AND created_at < ?",
    )
    .bind(&f)
    .bind(&t)
    .fetch_one(pool)
    .await?;
    let failed_prints = if table_exists(pool, "print_jobs").await? {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM print_jobs WHERE state = 'failed' AND updated_at >= ? AND updated_at < ?",
        )
        .bind(&f)
        .bind(&t)
        .fetch_one(pool)
        .await?;
        n
    } else {
        0
    };
    let (problems,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM alerts WHERE severity != 'info' AND last_at >= ? AND last_at < ?",
    )
    .bind(&f)
    .bind(&t)
    .fetch_one(pool)
    .await?;
    Ok(PeriodSummary {
        orders,
        paid,
        canceled,
        revenue,
        failed_prints,
        problems,
    })
}

/// Pending Click orders that a customer started paying (a prepared attempt exists) before
/// `prepared_before`, still within `since` of their creation, for the status fallback.
pub async fn click_orders_awaiting_complete(
    pool: &SqlitePool,
    prepared_before: DateTime<Utc>,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT p.order_id FROM payments p JOIN click_transactions c ON c.payment_id = p.id
         WHERE p.status = 'pending' AND p.payment_type = 'click' AND c.state = 'prepared'
           AND c.prepared_at < ? AND p.created_at >= ?
         ORDER BY p.id LIMIT ?",
    )
    .bind(db_time(prepared_before))
    .bind(db_time(since))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// When this order was last checked with Click's Merchant API.
pub async fn last_status_check(
    pool: &SqlitePool,
    payment_id: i64,
) -> Result<Option<DateTime<Utc>>> {
    let r: Option<(DateTime<Utc>,)> = sqlx::query_as(
        "SELECT created_at FROM payment_events WHERE payment_id = ? AND source = 'click'
           AND kind = 'status_check' ORDER BY id DESC LIMIT 1",
    )
    .bind(payment_id)
    .fetch_optional(pool)
    .await?;
    Ok(r.map(|r| r.0))
}

// ---------------------------------------------------------------------------------------------
// Whole-database maintenance

pub async fn optimize(pool: &SqlitePool) -> Result<()> {
    sqlx::query("PRAGMA optimize").execute(pool).await?;
    Ok(())
}

/// `VACUUM` (staff request only: it rewrites the whole file and holds the write lock meanwhile).
pub async fn vacuum(pool: &SqlitePool) -> Result<()> {
    sqlx::query("VACUUM").execute(pool).await?;
    Ok(())
}

/// Fold the WAL into the main file.
pub async fn checkpoint(pool: &SqlitePool) -> Result<()> {
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(pool)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Retention and archiving

/// Finished payments (paid or cancelled) created before `before`, oldest first.
pub async fn archive_candidates(
    pool: &SqlitePool,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Payment>> {
    Ok(sqlx::query_as::<_, Payment>(
        "SELECT * FROM payments WHERE status IN ('success', 'canceled') AND created_at < ?
         ORDER BY id LIMIT ?",
    )
    .bind(db_time(before))
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Every table with a `payment_id` column (events, photos, provider transactions, print jobs...).
pub async fn tables_with_payment_id(conn: &mut SqliteConnection) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c
         WHERE m.type = 'table' AND c.name = 'payment_id' AND m.name NOT LIKE 'sqlite_%'
         ORDER BY m.name",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// The rows of `table` (one of [`tables_with_payment_id`]) that belong to a payment, as JSON.
pub async fn rows_of_payment(
    conn: &mut SqliteConnection,
    table: &str,
    payment_id: i64,
) -> Result<Vec<serde_json::Value>> {
    let rows = sqlx::query(&format!(
        "SELECT * FROM \"{}\" WHERE payment_id = ?",
        quote_ident(table)
    ))
    .bind(payment_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.iter().map(row_json).collect())
}

/// Payme fiscal receipts of the given Payme transactions, as JSON.
pub async fn fiscal_rows(
    conn: &mut SqliteConnection,
    payme_ids: &[String],
) -> Result<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    for id in payme_ids {
        let rows = sqlx::query("SELECT * FROM payme_fiscal_data WHERE payme_id = ?")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
        out.extend(rows.iter().map(row_json));
    }
    Ok(out)
}

/// Delete an archived payment (its dependent rows go by `ON DELETE CASCADE`, fiscal receipts
/// explicitly) only if it has not changed since it was archived. Returns whether it was deleted.
pub async fn delete_archived_payment(
    conn: &mut SqliteConnection,
    p: &Payment,
    payme_ids: &[String],
) -> Result<bool> {
    let r = sqlx::query(
        "DELETE FROM payments WHERE id = ? AND order_id = ? AND updated_at = ? AND status = ?",
    )
    .bind(p.id)
    .bind(&p.order_id)
    .bind(db_time(p.updated_at))
    .bind(p.status)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    for id in payme_ids {
        sqlx::query("DELETE FROM payme_fiscal_data WHERE payme_id = ?")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(true)
}

/// Delete cancelled payments created before `before` that never took money (no perform time,
/// no performed Payme transaction, no confirmed Click attempt). Returns how many.
pub async fn delete_old_cancelled(
    conn: &mut SqliteConnection,
    before: DateTime<Utc>,
) -> Result<u64> {
    let r = sqlx::query(
        "DELETE FROM payments WHERE status = 'canceled' AND created_at < ? AND perform_time IS NULL
           AND NOT EXISTS (SELECT 1 FROM payme_transactions t WHERE t.payment_id = payments.id AND t.perform_time_ms > 0)
           AND NOT EXISTS (SELECT 1 FROM click_transactions c WHERE c.payment_id = payments.id AND c.state = 'confirmed')",
    )
    .bind(db_time(before))
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// Create the archive database's table (its own schema: one row per archived payment).
pub async fn archive_init(pool: &SqlitePool) -> Result<()> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS archived_payments (
             order_id      TEXT PRIMARY KEY,
             live_id       INTEGER NOT NULL,
             amount        INTEGER NOT NULL,
             payment_type  TEXT NOT NULL,
             status        TEXT NOT NULL,
             created_at    TEXT NOT NULL,
             payment_json  TEXT NOT NULL,
             related_json  TEXT NOT NULL,
             archived_at   TEXT NOT NULL
         )",
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Store (or refresh) one archived payment in the archive database.
pub async fn archive_put(
    conn: &mut SqliteConnection,
    p: &Payment,
    related: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO archived_payments (order_id, live_id, amount, payment_type, status, created_at,
                                        payment_json, related_json, archived_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(order_id) DO UPDATE SET live_id = excluded.live_id, amount = excluded.amount,
             payment_type = excluded.payment_type, status = excluded.status,
             created_at = excluded.created_at, payment_json = excluded.payment_json,
             related_json = excluded.related_json, archived_at = excluded.archived_at",
    )
    .bind(&p.order_id)
    .bind(p.id)
    .bind(p.amount)
    .bind(p.payment_type)
    .bind(p.status)
    .bind(db_time(p.created_at))
    .bind(serde_json::to_string(p).unwrap_or_default())
    .bind(related.to_string())
    .bind(db_time(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether the archive holds this order with this status.
pub async fn archive_has(pool: &SqlitePool, order_id: &str, status: &str) -> Result<bool> {
    let r: Option<(i64,)> =
        sqlx::query_as("SELECT 1 FROM archived_payments WHERE order_id = ? AND status = ?")
            .bind(order_id)
            .bind(status)
            .fetch_optional(pool)
            .await?;
    Ok(r.is_some())
}

pub async fn archive_count(pool: &SqlitePool) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM archived_payments")
        .fetch_one(pool)
        .await?;
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Generic rows (replay of a damaged database, archive JSON)

/// One SQLite value, whatever its column's declared type.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl SqlValue {
    fn to_json(&self) -> serde_json::Value {
        match self {
            SqlValue::Null => serde_json::Value::Null,
            SqlValue::Int(i) => (*i).into(),
            SqlValue::Real(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            SqlValue::Text(s) => s.clone().into(),
            SqlValue::Blob(b) => b
                .iter()
                .map(|x| format!("{x:02x}"))
                .collect::<String>()
                .into(),
        }
    }
}

/// A row as (column, value) pairs in column order.
pub type GenericRow = Vec<(String, SqlValue)>;

fn decode(row: &SqliteRow, i: usize) -> SqlValue {
    let Ok(raw) = row.try_get_raw(i) else {
        return SqlValue::Null;
    };
    if raw.is_null() {
        return SqlValue::Null;
    }
    match raw.type_info().name() {
        "INTEGER" | "BOOLEAN" => row
            .try_get::<i64, _>(i)
            .map(SqlValue::Int)
            .unwrap_or(SqlValue::Null),
        "REAL" => row
            .try_get::<f64, _>(i)
            .map(SqlValue::Real)
            .unwrap_or(SqlValue::Null),
        "BLOB" => row
            .try_get::<Vec<u8>, _>(i)
            .map(SqlValue::Blob)
            .unwrap_or(SqlValue::Null),
        _ => row
            .try_get::<String, _>(i)
            .map(SqlValue::Text)
            .unwrap_or(SqlValue::Null),
    }
}

pub(crate) fn generic(row: &SqliteRow) -> GenericRow {
    row.columns()
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name().to_string(), decode(row, i)))
        .collect()
}

fn row_json(row: &SqliteRow) -> serde_json::Value {
    serde_json::Value::Object(
        generic(row)
            .into_iter()
            .map(|(k, v)| (k, v.to_json()))
            .collect(),
    )
}

pub(crate) fn quote_ident(name: &str) -> String {
    name.replace('"', "\"\"")
}

/// The user tables of a database (not sqlx's or SQLite's own).
pub async fn user_tables(conn: &mut SqliteConnection) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
           AND name NOT LIKE '_sqlx_%' ORDER BY name",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub async fn table_columns(conn: &mut SqliteConnection, table: &str) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT name FROM pragma_table_info(?) ORDER BY cid")
        .bind(table)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Rows with `id > after`, by id, at most `limit`.
pub async fn rows_after(
    conn: &mut SqliteConnection,
    table: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<GenericRow>> {
    let rows = sqlx::query(&format!(
        "SELECT * FROM \"{}\" WHERE id > ? ORDER BY id LIMIT ?",
        quote_ident(table)
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows.iter().map(generic).collect())
}

pub async fn row_by_id(
    conn: &mut SqliteConnection,
    table: &str,
    id: i64,
) -> Result<Option<GenericRow>> {
    let row = sqlx::query(&format!(
        "SELECT * FROM \"{}\" WHERE id = ?",
        quote_ident(table)
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.as_ref().map(generic))
}

pub async fn max_id(conn: &mut SqliteConnection, table: &str) -> Result<i64> {
    let (m,): (Option<i64>,) =
        sqlx::query_as(&format!("SELECT MAX(id) FROM \"{}\"", quote_ident(table)))
            .fetch_one(conn)
            .await?;
    Ok(m.unwrap_or(0))
}

pub(crate) fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    values: &'q [&'q SqlValue],
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    for v in values {
        q = match v {
            SqlValue::Null => q.bind(None::<i64>),
            SqlValue::Int(i) => q.bind(*i),
            SqlValue::Real(f) => q.bind(*f),
            SqlValue::Text(s) => q.bind(s.as_str()),
            SqlValue::Blob(b) => q.bind(b.as_slice()),
        };
    }
    q
}

/// Insert `row`, keeping only the columns `table` has in this database.
pub async fn insert_generic(
    conn: &mut SqliteConnection,
    table: &str,
    columns: &[String],
    row: &GenericRow,
) -> Result<()> {
    let kept: Vec<&(String, SqlValue)> = row.iter().filter(|(c, _)| columns.contains(c)).collect();
    let names = kept
        .iter()
        .map(|(c, _)| format!("\"{}\"", quote_ident(c)))
        .collect::<Vec<_>>()
        .join(", ");
    let marks = vec!["?"; kept.len()].join(", ");
    let sql = format!(
        "INSERT INTO \"{}\" ({names}) VALUES ({marks})",
        quote_ident(table)
    );
    let values: Vec<&SqlValue> = kept.iter().map(|(_, v)| v).collect();
    bind_all(sqlx::query(&sql), &values).execute(conn).await?;
    Ok(())
}

/// Overwrite every column but `id` of the row with `row`'s id.
pub async fn update_generic(
    conn: &mut SqliteConnection,
    table: &str,
    columns: &[String],
    row: &GenericRow,
) -> Result<()> {
    let Some(id) = row.iter().find(|(c, _)| c == "id").map(|(_, v)| v.clone()) else {
        return Ok(());
    };
    let kept: Vec<&(String, SqlValue)> = row
        .iter()
        .filter(|(c, _)| c != "id" && columns.contains(c))
        .collect();
    if kept.is_empty() {
        return Ok(());
    }
    let sets = kept
        .iter()
        .map(|(c, _)| format!("\"{}\" = ?", quote_ident(c)))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("UPDATE \"{}\" SET {sets} WHERE id = ?", quote_ident(table));
    let mut values: Vec<&SqlValue> = kept.iter().map(|(_, v)| v).collect();
    values.push(&id);
    bind_all(sqlx::query(&sql), &values).execute(conn).await?;
    Ok(())
}
