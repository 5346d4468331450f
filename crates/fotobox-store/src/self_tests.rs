//! Queries on `self_tests`: the staff's device self-tests (test print, camera, payment path),
//! one row per run, begun as `running` and finished with its result in one statement.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::SqliteConnection;

use crate::pool::{db_time, Result, Store};

pub const KIND_PRINT: &str = "print";
pub const KIND_CAMERA: &str = "camera";
pub const KIND_PAYMENT_PATH: &str = "payment_path";
/// Every kind, in the order the panel shows them.
pub const KINDS: [&str; 3] = [KIND_PRINT, KIND_CAMERA, KIND_PAYMENT_PATH];

pub const RUNNING: &str = "running";
pub const PASSED: &str = "passed";
pub const WARNING: &str = "warning";
pub const FAILED: &str = "failed";
pub const SKIPPED: &str = "skipped";

/// Runs kept per kind; older ones are deleted when a new one starts.
const KEEP_PER_KIND: i64 = 50;

/// One row of `self_tests`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct SelfTest {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub summary: String,
    /// JSON text (sizes, dpi, latency, the printer's job).
    pub detail: String,
    pub printer_job: Option<String>,
    pub actor: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
}

/// A finished result.
#[derive(Debug, Clone, PartialEq)]
pub struct Finish<'a> {
    pub state: &'a str,
    pub summary: &'a str,
    pub detail: &'a serde_json::Value,
    pub duration_ms: i64,
}

/// Begin a run (`running`); trims the kind's history to the newest runs.
pub async fn begin(
    conn: &mut SqliteConnection,
    kind: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<SelfTest> {
    sqlx::query(
        "DELETE FROM self_tests WHERE kind = ?1 AND state != 'running'
           AND id NOT IN (SELECT id FROM self_tests WHERE kind = ?1 ORDER BY id DESC LIMIT ?2)",
    )
    .bind(kind)
    .bind(KEEP_PER_KIND - 1)
    .execute(&mut *conn)
    .await?;
    Ok(sqlx::query_as::<_, SelfTest>(
        "INSERT INTO self_tests (kind, state, actor, started_at) VALUES (?, 'running', ?, ?)
         RETURNING *",
    )
    .bind(kind)
    .bind(actor)
    .bind(db_time(now))
    .fetch_one(conn)
    .await?)
}

/// Record the printer's job of a test print (as soon as `lp` answers).
pub async fn set_printer_job(conn: &mut SqliteConnection, id: i64, job: &str) -> Result<()> {
    sqlx::query("UPDATE self_tests SET printer_job = ? WHERE id = ?")
        .bind(job)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Say how a running run is going (a test print waiting for the printer).
pub async fn note(conn: &mut SqliteConnection, id: i64, summary: &str) -> Result<()> {
    sqlx::query("UPDATE self_tests SET summary = ? WHERE id = ? AND state = 'running'")
        .bind(summary)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Finish a running run with its result; `false` when it was not running any more.
pub async fn finish(
    conn: &mut SqliteConnection,
    id: i64,
    f: &Finish<'_>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE self_tests SET state = ?, summary = ?, detail = ?, finished_at = ?, duration_ms = ?
         WHERE id = ? AND state = 'running'",
    )
    .bind(f.state)
    .bind(f.summary)
    .bind(f.detail.to_string())
    .bind(db_time(now))
    .bind(f.duration_ms)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The running run of `kind`, if any.
pub async fn running(conn: &mut SqliteConnection, kind: &str) -> Result<Option<SelfTest>> {
    Ok(sqlx::query_as::<_, SelfTest>(
        "SELECT * FROM self_tests WHERE kind = ? AND state = 'running' ORDER BY id DESC LIMIT 1",
    )
    .bind(kind)
    .fetch_optional(conn)
    .await?)
}

/// Every run still `running` (at start: the ones a stopped process left).
pub async fn all_running(conn: &mut SqliteConnection) -> Result<Vec<SelfTest>> {
    Ok(sqlx::query_as::<_, SelfTest>(
        "SELECT * FROM self_tests WHERE state = 'running' ORDER BY id",
    )
    .fetch_all(conn)
    .await?)
}

impl Store {
    /// The newest run of each kind that has one.
    pub async fn latest_self_tests(&self) -> Result<Vec<SelfTest>> {
        let mut c = self.pool().acquire().await?;
        Ok(sqlx::query_as::<_, SelfTest>(
            "SELECT * FROM self_tests WHERE id IN (SELECT MAX(id) FROM self_tests GROUP BY kind)
             ORDER BY id",
        )
        .fetch_all(&mut *c)
        .await?)
    }

    /// One run.
    pub async fn self_test(&self, id: i64) -> Result<Option<SelfTest>> {
        let mut c = self.pool().acquire().await?;
        Ok(
            sqlx::query_as::<_, SelfTest>("SELECT * FROM self_tests WHERE id = ?")
                .bind(id)
                .fetch_optional(&mut *c)
                .await?,
        )
    }
}
