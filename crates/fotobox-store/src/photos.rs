//! Queries of the photo pipeline: photo records, the print queue, paper rolls, staff flags and
//! download tokens. State changes run inside the caller's `BEGIN IMMEDIATE` transaction.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::SqliteConnection;

use crate::model::{Payment, Photo};
use crate::pool::{db_time, Result, Store};

/// Print job states.
pub const QUEUED: &str = "queued";
pub const PRINTING: &str = "printing";
pub const DONE: &str = "done";
pub const FAILED: &str = "failed";

/// One row of `print_jobs`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PrintJob {
    pub id: i64,
    pub payment_id: i64,
    pub photo_id: i64,
    pub copies: i64,
    pub media: Option<String>,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub printer: Option<String>,
    pub submit_token: Option<String>,
    pub printer_mark: Option<String>,
    pub printer_job_id: Option<String>,
    pub queued_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A print job with its order id and composite (lists, the CLI).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PrintJobRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub job: PrintJob,
    pub order_id: String,
    pub template_name: String,
    pub composite_path: Option<String>,
}

/// One row of `paper_rolls`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PaperRoll {
    pub id: i64,
    pub roll_size: i64,
    pub remaining: i64,
    pub reset_at: DateTime<Utc>,
    pub reset_by: String,
}

/// One row of `fulfillment_flags`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Flag {
    pub id: i64,
    pub payment_id: i64,
    pub reason: String,
    pub suggested_action: String,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution: Option<String>,
}

/// What `GET /p/{token}` serves.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Download {
    pub order_id: String,
    pub composite_path: Option<String>,
}

/// When the pipeline was installed (orders paid before are not resumed).
pub async fn installed_at(conn: &mut SqliteConnection) -> Result<String> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT value FROM photo_pipeline_meta WHERE key = 'installed_at'")
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|r| r.0).unwrap_or_default())
}

/// The order's photo record (the first, if several were made by an older version).
pub async fn photo_for_payment(
    conn: &mut SqliteConnection,
    payment_id: i64,
) -> Result<Option<Photo>> {
    Ok(
        sqlx::query_as::<_, Photo>("SELECT * FROM photos WHERE payment_id = ? ORDER BY id LIMIT 1")
            .bind(payment_id)
            .fetch_optional(conn)
            .await?,
    )
}

pub async fn photo_by_id(conn: &mut SqliteConnection, id: i64) -> Result<Option<Photo>> {
    Ok(
        sqlx::query_as::<_, Photo>("SELECT * FROM photos WHERE id = ?")
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Queue the order's one print job. A second one for the same order or photo is a unique violation.
pub async fn insert_print_job(
    conn: &mut SqliteConnection,
    payment_id: i64,
    photo_id: i64,
    copies: i64,
    media: &str,
    now: DateTime<Utc>,
) -> Result<PrintJob> {
    let t = db_time(now);
    Ok(sqlx::query_as::<_, PrintJob>(
        "INSERT INTO print_jobs (payment_id, photo_id, copies, media, state, queued_at, updated_at)
         VALUES (?, ?, ?, ?, 'queued', ?, ?) RETURNING *",
    )
    .bind(payment_id)
    .bind(photo_id)
    .bind(copies)
    .bind(media)
    .bind(&t)
    .bind(&t)
    .fetch_one(conn)
    .await?)
}

pub async fn print_job(conn: &mut SqliteConnection, id: i64) -> Result<Option<PrintJob>> {
    Ok(
        sqlx::query_as::<_, PrintJob>("SELECT * FROM print_jobs WHERE id = ?")
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

pub async fn print_job_for_payment(
    conn: &mut SqliteConnection,
    payment_id: i64,
) -> Result<Option<PrintJob>> {
    Ok(
        sqlx::query_as::<_, PrintJob>("SELECT * FROM print_jobs WHERE payment_id = ?")
            .bind(payment_id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Jobs still to print (queued or printing), oldest first.
pub async fn active_jobs(conn: &mut SqliteConnection) -> Result<Vec<PrintJob>> {
    Ok(sqlx::query_as::<_, PrintJob>(
        "SELECT * FROM print_jobs WHERE state IN ('queued', 'printing') ORDER BY id",
    )
    .fetch_all(conn)
    .await?)
}

/// Printer job ids recorded by print jobs other than `except`, and by staff test prints.
pub async fn owned_printer_job_ids(
    conn: &mut SqliteConnection,
    except: i64,
) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT printer_job_id FROM print_jobs WHERE printer_job_id IS NOT NULL AND id != ?
         UNION SELECT printer_job FROM self_tests WHERE printer_job IS NOT NULL",
    )
    .bind(except)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Start an attempt: queued → printing, before `lp` runs. Returns whether the job was queued.
pub async fn claim_job(
    conn: &mut SqliteConnection,
    id: i64,
    printer: &str,
    token: &str,
    mark: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let t = db_time(now);
    let r = sqlx::query(
        "UPDATE print_jobs SET state = 'printing', attempts = attempts + 1, printer = ?, submit_token = ?,
                               printer_mark = ?, printer_job_id = NULL, submitted_at = ?, updated_at = ?
         WHERE id = ? AND state = 'queued'",
    )
    .bind(printer)
    .bind(token)
    .bind(mark)
    .bind(&t)
    .bind(&t)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Record the printer's id of the running attempt.
pub async fn set_printer_job_id(
    conn: &mut SqliteConnection,
    id: i64,
    job_id: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("UPDATE print_jobs SET printer_job_id = ?, updated_at = ? WHERE id = ? AND state = 'printing'")
        .bind(job_id)
        .bind(db_time(now))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// printing → done. Returns whether it changed.
pub async fn finish_job(conn: &mut SqliteConnection, id: i64, now: DateTime<Utc>) -> Result<bool> {
    let t = db_time(now);
    let r = sqlx::query(
        "UPDATE print_jobs SET state = 'done', last_error = NULL, finished_at = ?, updated_at = ?
         WHERE id = ? AND state = 'printing'",
    )
    .bind(&t)
    .bind(&t)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// printing → queued (nothing reached the printer), with the error.
pub async fn requeue_job(
    conn: &mut SqliteConnection,
    id: i64,
    error: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE print_jobs SET state = 'queued', last_error = ?, printer_job_id = NULL, updated_at = ?
         WHERE id = ? AND state = 'printing'",
    )
    .bind(error)
    .bind(db_time(now))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Any unfinished state → failed, with the reason.
pub async fn fail_job(
    conn: &mut SqliteConnection,
    id: i64,
    error: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let t = db_time(now);
    sqlx::query(
        "UPDATE print_jobs SET state = 'failed', last_error = ?, finished_at = ?, updated_at = ?
         WHERE id = ? AND state IN ('queued', 'printing')",
    )
    .bind(error)
    .bind(&t)
    .bind(&t)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A note on a job that waits (e.g. the printer is paused), without changing its state.
pub async fn note_job(
    conn: &mut SqliteConnection,
    id: i64,
    note: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("UPDATE print_jobs SET last_error = ?, updated_at = ? WHERE id = ?")
        .bind(note)
        .bind(db_time(now))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Staff reprint: a failed or done job back to queued (a new attempt on the same row).
pub async fn requeue_for_reprint(
    conn: &mut SqliteConnection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE print_jobs SET state = 'queued', printer_job_id = NULL, finished_at = NULL, updated_at = ?
         WHERE id = ? AND state IN ('failed', 'done')",
    )
    .bind(db_time(now))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Newest jobs first, with the order id (CLI `print-queue`).
pub async fn list_jobs(conn: &mut SqliteConnection, limit: i64) -> Result<Vec<PrintJobRow>> {
    Ok(sqlx::query_as::<_, PrintJobRow>(
        "SELECT j.*, p.order_id, ph.template_name, ph.composite_path
         FROM print_jobs j JOIN payments p ON p.id = j.payment_id JOIN photos ph ON ph.id = j.photo_id
         ORDER BY j.id DESC LIMIT ?",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Copies queued or printing (not yet taken off the paper counter), with a sheet for each staff
/// test print under way.
pub async fn pending_copies(conn: &mut SqliteConnection) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COALESCE((SELECT SUM(copies) FROM print_jobs WHERE state IN ('queued', 'printing')), 0)
              + (SELECT COUNT(*) FROM self_tests WHERE kind = 'print' AND state = 'running')",
    )
    .fetch_one(conn)
    .await?;
    Ok(n)
}

/// The roll in the printer (the newest row).
/// Orders fulfilled at or before `cutoff` whose composite is still on disk, oldest first.
pub async fn photos_to_purge(
    conn: &mut SqliteConnection,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Payment>> {
    Ok(sqlx::query_as::<_, Payment>(
        "SELECT p.* FROM payments p
         WHERE p.fulfilled_at IS NOT NULL AND p.fulfilled_at <= ?
           AND EXISTS (SELECT 1 FROM photos ph WHERE ph.payment_id = p.id AND ph.composite_path IS NOT NULL)
         ORDER BY p.fulfilled_at LIMIT ?",
    )
    .bind(db_time(cutoff))
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// The order's photo files are gone: its records keep no path.
pub async fn forget_composites(conn: &mut SqliteConnection, payment_id: i64) -> Result<u64> {
    let r = sqlx::query("UPDATE photos SET composite_path = NULL WHERE payment_id = ?")
        .bind(payment_id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected())
}

pub async fn current_roll(conn: &mut SqliteConnection) -> Result<Option<PaperRoll>> {
    Ok(
        sqlx::query_as::<_, PaperRoll>("SELECT * FROM paper_rolls ORDER BY id DESC LIMIT 1")
            .fetch_optional(conn)
            .await?,
    )
}

/// A new full roll.
pub async fn insert_roll(
    conn: &mut SqliteConnection,
    roll_size: i64,
    by: &str,
    now: DateTime<Utc>,
) -> Result<PaperRoll> {
    Ok(sqlx::query_as::<_, PaperRoll>(
        "INSERT INTO paper_rolls (roll_size, remaining, reset_at, reset_by) VALUES (?, ?, ?, ?) RETURNING *",
    )
    .bind(roll_size)
    .bind(roll_size)
    .bind(db_time(now))
    .bind(by)
    .fetch_one(conn)
    .await?)
}

/// Take `copies` prints off the current roll (never below zero).
pub async fn use_paper(conn: &mut SqliteConnection, copies: i64) -> Result<()> {
    sqlx::query(
        "UPDATE paper_rolls SET remaining = MAX(remaining - ?, 0)
         WHERE id = (SELECT MAX(id) FROM paper_rolls)",
    )
    .bind(copies)
    .execute(conn)
    .await?;
    Ok(())
}

/// Open a flag for staff; does nothing when the order already has an open one. Returns whether it did.
pub async fn insert_flag(
    conn: &mut SqliteConnection,
    payment_id: i64,
    reason: &str,
    action: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO fulfillment_flags (payment_id, reason, suggested_action, created_at)
         VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(payment_id)
    .bind(reason)
    .bind(action)
    .bind(db_time(now))
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Close the order's open flag.
pub async fn resolve_flag(
    conn: &mut SqliteConnection,
    payment_id: i64,
    resolution: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE fulfillment_flags SET resolved_at = ?, resolution = ? WHERE payment_id = ? AND resolved_at IS NULL",
    )
    .bind(db_time(now))
    .bind(resolution)
    .bind(payment_id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn flags_for_payment(conn: &mut SqliteConnection, payment_id: i64) -> Result<Vec<Flag>> {
    Ok(sqlx::query_as::<_, Flag>(
        "SELECT * FROM fulfillment_flags WHERE payment_id = ? ORDER BY id",
    )
    .bind(payment_id)
    .fetch_all(conn)
    .await?)
}

pub async fn open_flags(conn: &mut SqliteConnection) -> Result<Vec<Flag>> {
    Ok(sqlx::query_as::<_, Flag>(
        "SELECT * FROM fulfillment_flags WHERE resolved_at IS NULL ORDER BY id",
    )
    .fetch_all(conn)
    .await?)
}

/// Paid, unfulfilled orders since `since` with no print job and never flagged: they need their
/// photos composed and queued (or a flag).
pub async fn paid_without_job(conn: &mut SqliteConnection, since: &str) -> Result<Vec<Payment>> {
    Ok(sqlx::query_as::<_, Payment>(
        "SELECT p.* FROM payments p
         WHERE p.status = 'success' AND p.fulfilled_at IS NULL AND p.created_at >= ?
           AND NOT EXISTS (SELECT 1 FROM print_jobs j WHERE j.payment_id = p.id)
           AND NOT EXISTS (SELECT 1 FROM fulfillment_flags f WHERE f.payment_id = p.id)
         ORDER BY p.id LIMIT 500",
    )
    .bind(since)
    .fetch_all(conn)
    .await?)
}

/// Jobs done whose order is still paid and not marked fulfilled.
pub async fn done_unfulfilled(conn: &mut SqliteConnection) -> Result<Vec<PrintJob>> {
    Ok(sqlx::query_as::<_, PrintJob>(
        "SELECT j.* FROM print_jobs j JOIN payments p ON p.id = j.payment_id
         WHERE j.state = 'done' AND p.status = 'success' AND p.fulfilled_at IS NULL ORDER BY j.id",
    )
    .fetch_all(conn)
    .await?)
}

/// Failed jobs of paid orders without an open flag.
pub async fn failed_unflagged(conn: &mut SqliteConnection) -> Result<Vec<PrintJob>> {
    Ok(sqlx::query_as::<_, PrintJob>(
        "SELECT j.* FROM print_jobs j JOIN payments p ON p.id = j.payment_id
         WHERE j.state = 'failed' AND p.status = 'success' AND p.fulfilled_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM fulfillment_flags f WHERE f.payment_id = j.payment_id AND f.resolved_at IS NULL)
         ORDER BY j.id",
    )
    .fetch_all(conn)
    .await?)
}

pub async fn insert_token(
    conn: &mut SqliteConnection,
    token: &str,
    photo_id: i64,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO download_tokens (token, photo_id, expires_at, created_at) VALUES (?, ?, ?, ?)",
    )
    .bind(token)
    .bind(photo_id)
    .bind(db_time(expires_at))
    .bind(db_time(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// The photo's newest token still valid at `now`, with its expiry.
pub async fn token_for_photo(
    conn: &mut SqliteConnection,
    photo_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<(String, DateTime<Utc>)>> {
    Ok(sqlx::query_as(
        "SELECT token, expires_at FROM download_tokens WHERE photo_id = ? AND expires_at > ?
         ORDER BY expires_at DESC LIMIT 1",
    )
    .bind(photo_id)
    .bind(db_time(now))
    .fetch_optional(conn)
    .await?)
}

/// The file behind a token that has not expired at `now`.
pub async fn download_by_token(
    conn: &mut SqliteConnection,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Download>> {
    Ok(sqlx::query_as::<_, Download>(
        "SELECT p.order_id, ph.composite_path FROM download_tokens t
         JOIN photos ph ON ph.id = t.photo_id JOIN payments p ON p.id = ph.payment_id
         WHERE t.token = ? AND t.expires_at > ?",
    )
    .bind(token)
    .bind(db_time(now))
    .fetch_optional(conn)
    .await?)
}

/// Delete tokens that expired before `now`.
pub async fn delete_expired_tokens(conn: &mut SqliteConnection, now: DateTime<Utc>) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM download_tokens WHERE expires_at <= ?")
            .bind(db_time(now))
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

impl Store {
    /// Print jobs, newest first.
    pub async fn print_jobs(&self, limit: i64) -> Result<Vec<PrintJobRow>> {
        let mut conn = self.pool().acquire().await?;
        list_jobs(&mut conn, limit).await
    }

    /// Open staff flags.
    pub async fn open_flags(&self) -> Result<Vec<Flag>> {
        let mut conn = self.pool().acquire().await?;
        open_flags(&mut conn).await
    }
}

/// Staff reprint of an order's print job: a `done` or `failed` job back to `queued` with
/// `copies` (the order's or the staff's choice), its error and printer ids cleared. `attempts`
/// keeps counting so every attempt's job title (`…-j<id>-a<n>`) stays unique. Returns `false`
/// (nothing changed) when the job is still `queued` or `printing`: a second tap cannot queue a
/// second print. Run it inside the caller's `BEGIN IMMEDIATE` transaction.
pub async fn requeue_reprint(
    conn: &mut SqliteConnection,
    id: i64,
    copies: i64,
    now: DateTime<Utc>,
) -> Result<bool> {
    let t = db_time(now);
    let r = sqlx::query(
        "UPDATE print_jobs SET state = 'queued', copies = ?, last_error = NULL, printer_job_id = NULL,
                               submitted_at = NULL, finished_at = NULL, queued_at = ?, updated_at = ?
         WHERE id = ? AND state IN ('done', 'failed')",
    )
    .bind(copies)
    .bind(&t)
    .bind(&t)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}
