//! The photo pipeline of a paid order: save the shots, compose, record the photo, queue one print
//! job, print it, mark the order fulfilled; readiness before taking money; the crash-resume
//! routine; the paper counter; and the digital-copy route `GET /p/{token}`.
//!
//! Files: `<data_dir>/orders/<order_id>/shot-<n>.<ext>` and `composite.jpg`, written atomically
//! (temporary file, fsync, rename) before the database refers to them.
//!
//! Invariants:
//! - One photo record and one print job per paid order (checked inside `BEGIN IMMEDIATE`, and a
//!   UNIQUE index on `print_jobs(payment_id)`): repeated taps return the existing record.
//! - An attempt is recorded (`printing`, attempt token, the printer's highest job id) *before*
//!   `lp` runs, and the printer's job id right after. A `printing` job found at start is never
//!   re-submitted blindly: it is matched against the printer's jobs first (see [`crate::print`]).
//! - The paper counter is decremented, and `payments.fulfilled_at` set, in the same transaction
//!   that marks the job done.
//! - Every paid order ends printed or with an open `fulfillment_flags` row naming the reason.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::Serialize;

use crate::context::AppContext;
use crate::error::{DomainError, ErrorKind};
use crate::print::{JobState, PrintError, PrintRequest, Printer, PrinterStatus};
use fotobox_render::compose::{self, ComposeError, TextVars};
use fotobox_render::layouts::{self, Layout, LayoutsError};
use fotobox_store::model::{Payment, PaymentStatus, Photo};
use fotobox_store::photos::{self as q, PrintJob};
use fotobox_store::{payments as pq, StoreError};

pub use fotobox_store::photos::{Flag, PaperRoll, PrintJobRow};

#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("order {0} not found")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Layouts(#[from] LayoutsError),
    #[error(transparent)]
    Compose(#[from] ComposeError),
    #[error("i/o error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Print(#[from] PrintError),
    #[error("the compositing thread failed: {0}")]
    Thread(String),
    /// Test hook: the pipeline stopped after `step` as if the process had been killed.
    #[error("simulated crash after {0:?}")]
    Crashed(Step),
}

impl DomainError for PhotoError {
    fn kind(&self) -> ErrorKind {
        match self {
            PhotoError::NotFound(_) => ErrorKind::NotFound,
            PhotoError::Invalid(_)
            | PhotoError::Compose(ComposeError::BadShot { .. } | ComposeError::ShotCount { .. }) => {
                ErrorKind::Invalid
            }
            PhotoError::Conflict(_) => ErrorKind::Conflict,
            _ => ErrorKind::Internal,
        }
    }
}

impl From<sqlx::Error> for PhotoError {
    fn from(e: sqlx::Error) -> Self {
        PhotoError::Store(StoreError::Db(e))
    }
}

/// [`compose::compose_files`] on a blocking thread (decoding and resizing are CPU-bound).
async fn compose_blocking(
    ctx: &AppContext,
    layout: Arc<Layout>,
    shots: Vec<PathBuf>,
    vars: TextVars,
    quality: u8,
) -> Result<Vec<u8>, PhotoError> {
    // One composition at a time: each decodes a layout's shots.
    let _slot = ctx.heavy.compose().await;
    tokio::task::spawn_blocking(move || compose::compose_files(&layout, &shots, &vars, quality))
        .await
        .map_err(|e| PhotoError::Thread(e.to_string()))?
        .map_err(PhotoError::from)
}

/// Pipeline steps, for the crash tests (the pipeline stops right after the step, as if killed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Shots written under the order's folder.
    ShotsSaved,
    /// `composite.jpg` written.
    Composed,
    /// Photo record, print job and download token committed.
    Recorded,
    /// Attempt recorded (`printing`), `lp` not yet run.
    Claimed,
    /// `lp` accepted the job; its id is not yet in the database.
    Submitted,
    /// The printer's job id is in the database.
    JobIdRecorded,
    /// The printer finished the job; the database does not know yet.
    PrinterDone,
}

/// Where to stop (tests). `Failpoint::default()` runs everything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failpoint(pub Option<Step>);

impl Failpoint {
    fn check(self, step: Step) -> Result<(), PhotoError> {
        if self.0 == Some(step) {
            Err(PhotoError::Crashed(step))
        } else {
            Ok(())
        }
    }
}

/// The print job as the kiosk and staff see it.
#[derive(Debug, Clone, Serialize)]
pub struct PrintView {
    pub state: String,
    pub copies: i64,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub printer_job_id: Option<String>,
}

impl From<&PrintJob> for PrintView {
    fn from(j: &PrintJob) -> Self {
        PrintView {
            state: j.state.clone(),
            copies: j.copies,
            attempts: j.attempts,
            last_error: j.last_error.clone(),
            printer_job_id: j.printer_job_id.clone(),
        }
    }
}

/// What [`create_photo`] returns (the Tauri command's answer).
#[derive(Debug, Clone, Serialize)]
pub struct PhotoView {
    pub photo_id: i64,
    pub order_id: String,
    pub template: String,
    pub copies: i64,
    pub composite_path: String,
    /// `/p/<token>` on the callback listener.
    pub download_path: Option<String>,
    /// `server.public_url` + `download_path`, for the thank-you QR (None without a public URL).
    pub download_url: Option<String>,
    pub download_expires_at: Option<DateTime<Utc>>,
    pub print: Option<PrintView>,
}

/// Readiness before taking money.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Readiness {
    pub ready: bool,
    /// Why not (shown to staff; the customer sees "out of service").
    pub reason: Option<String>,
    pub printer: String,
    /// The printer itself can take a job (paused, disabled or unknown printers cannot, nor
    /// ones reporting a reason that stops printing, such as `media-empty-error`).
    pub printer_ready: bool,
    /// What the printer warns about although it prints (`media-low`, a low ribbon).
    pub printer_warnings: Vec<String>,
    /// The CUPS queue's state as last read (state, reasons, message, markers, media-ready).
    pub printer_state: Option<crate::printer_state::PrinterState>,
    /// Prints left on the roll minus copies already queued.
    pub paper_available: i64,
    pub paper_roll_size: i64,
}

/// What one run of the queue did.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct QueueReport {
    pub printed: usize,
    pub failed: usize,
    pub requeued: usize,
    /// The queue stopped because the printer is not ready (the reason).
    pub waiting: Option<String>,
}

/// What the resume routine did.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ResumeReport {
    pub composed: usize,
    pub flagged: usize,
    pub fulfilled: usize,
    pub queue: QueueReport,
}

/// When resume runs: at start nobody is taking pictures any more, so a paid order without photos
/// is flagged at once; while running it gets `photos.capture_timeout_seconds` first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeMode {
    AtStart,
    Running,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PhotoError + '_ {
    move |source| PhotoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `<data_dir>/orders/<order_id>` (order ids that are not plain names use `payment-<id>`).
pub fn order_dir(ctx: &AppContext, p: &Payment) -> PathBuf {
    let safe = !p.order_id.is_empty()
        && p.order_id.len() <= 100
        && p.order_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let name = if safe {
        p.order_id.clone()
    } else {
        format!("payment-{}", p.id)
    };
    ctx.data_dir.join("orders").join(name)
}

fn shot_path(dir: &Path, index: usize, ext: &str) -> PathBuf {
    dir.join(format!("shot-{}.{ext}", index + 1))
}

/// The saved shots of an order if all `n` are there (any of the extensions written): the
/// pipeline's own copies in the order folder, or else the kiosk's uploads in `incoming/` (a crash
/// after the last shot was uploaded but before compose still ends in prints).
fn saved_shots(dir: &Path, n: usize) -> Option<Vec<PathBuf>> {
    let find = |d: &Path| -> Option<Vec<PathBuf>> {
        (0..n)
            .map(|i| {
                ["jpg", "png"]
                    .iter()
                    .map(|e| shot_path(d, i, e))
                    .find(|p| p.is_file())
            })
            .collect()
    };
    find(dir).or_else(|| find(&dir.join("incoming")))
}

/// Layouts of this kiosk, loaded on a blocking thread.
pub async fn layouts(ctx: &AppContext) -> Result<Arc<layouts::LayoutSet>, PhotoError> {
    let (cfg, cache) = (ctx.config.clone(), ctx.layouts.clone());
    tokio::task::spawn_blocking(move || cache.load(cfg.photos.templates_dir.as_deref()))
        .await
        .map_err(|e| PhotoError::Thread(e.to_string()))?
        .map_err(PhotoError::from)
}

async fn layout_for(ctx: &AppContext, p: &Payment) -> Result<Arc<Layout>, PhotoError> {
    let name = p
        .template_name
        .as_deref()
        .ok_or_else(|| PhotoError::Invalid(format!("order {} has no layout", p.order_id)))?;
    layouts(ctx).await?.get(name).ok_or_else(|| {
        PhotoError::Invalid(format!("layout {name:?} is not installed on this kiosk"))
    })
}

fn text_vars(ctx: &AppContext, p: &Payment) -> TextVars {
    text_vars_at(ctx, p.perform_time.unwrap_or(p.created_at), &p.order_id)
}

/// The text of a sample print: the event, today's date, no order number.
pub fn sample_text_vars(ctx: &AppContext) -> TextVars {
    text_vars_at(ctx, ctx.clock.now(), "")
}

fn text_vars_at(ctx: &AppContext, at: chrono::DateTime<chrono::Utc>, order: &str) -> TextVars {
    let offset = chrono::Duration::minutes(ctx.config.photos.utc_offset_minutes);
    let local = at + offset;
    let mut date = String::new();
    {
        use std::fmt::Write;
        // A bad format in config must not break printing: fall back to the default.
        if write!(date, "{}", local.format(&ctx.config.photos.date_format)).is_err() {
            date = local.format("%d.%m.%Y").to_string();
        }
    }
    TextVars {
        event: ctx.config.photos.event_name.clone(),
        date,
        order: order.to_string(),
    }
}

fn printer(ctx: &AppContext) -> Printer {
    Printer::from_config(&ctx.config, &ctx.data_dir)
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Create the order's photos: save the shots (encoded JPEG/PNG, one per picture the layout takes),
/// compose, record the photo with its download token, queue one print job with the order's copies,
/// and start printing in the background. This is the core function behind the Tauri command.
/// Repeated calls for the same order return the existing record and queue nothing.
pub async fn create_photo(
    ctx: &AppContext,
    order_id: &str,
    shots: Vec<Vec<u8>>,
) -> Result<PhotoView, PhotoError> {
    let view = create_photo_with(ctx, order_id, shots, Failpoint::default()).await?;
    spawn_queue(ctx);
    Ok(view)
}

/// Run the print queue in the background (one runner per database at a time).
pub fn spawn_queue(ctx: &AppContext) {
    let ctx = ctx.clone();
    tokio::spawn(async move {
        if let Err(e) = process_queue(&ctx).await {
            tracing::warn!(error = %e, "print queue run failed");
        }
    });
}

/// [`create_photo`] without starting the printer, stopping after `fail` (tests).
async fn create_photo_with(
    ctx: &AppContext,
    order_id: &str,
    shots: Vec<Vec<u8>>,
    fail: Failpoint,
) -> Result<PhotoView, PhotoError> {
    let p = ctx
        .store
        .payment_by_order_id(order_id)
        .await?
        .ok_or_else(|| PhotoError::NotFound(order_id.to_string()))?;
    if p.status() != PaymentStatus::Success {
        return Err(PhotoError::Conflict(format!(
            "order {order_id} is not paid"
        )));
    }
    {
        let mut conn = ctx.store.pool().acquire().await?;
        if let Some(photo) = q::photo_for_payment(&mut conn, p.id).await? {
            drop(conn);
            return view_of(ctx, &p, &photo).await;
        }
    }
    let layout = layout_for(ctx, &p).await?;
    if shots.len() != layout.shots {
        return Err(PhotoError::Invalid(format!(
            "layout {} takes {} pictures, got {}",
            layout.name,
            layout.shots,
            shots.len()
        )));
    }
    let dir = order_dir(ctx, &p);
    let mut paths = Vec::with_capacity(shots.len());
    for (i, bytes) in shots.iter().enumerate() {
        let ext = match image::guess_format(bytes) {
            Ok(image::ImageFormat::Jpeg) => "jpg",
            Ok(image::ImageFormat::Png) => "png",
            _ => {
                return Err(PhotoError::Invalid(format!(
                    "picture {} is not a JPEG or PNG image",
                    i + 1
                )));
            }
        };
        paths.push(shot_path(&dir, i, ext));
    }
    let paths2 = paths.clone();
    tokio::task::spawn_blocking(move || -> Result<(), PhotoError> {
        for (path, bytes) in paths2.iter().zip(&shots) {
            fotobox_render::files::write_atomic(path, bytes).map_err(io_err(path))?;
        }
        Ok(())
    })
    .await
    .map_err(|e| PhotoError::Thread(e.to_string()))??;
    fail.check(Step::ShotsSaved)?;
    compose_and_record(ctx, &p, layout, paths, fail).await
}

/// Compose from saved shot files, write the composite, and record photo + job + token.
async fn compose_and_record(
    ctx: &AppContext,
    p: &Payment,
    layout: Arc<Layout>,
    shots: Vec<PathBuf>,
    fail: Failpoint,
) -> Result<PhotoView, PhotoError> {
    let dir = order_dir(ctx, p);
    let quality = ctx.config.photos.jpeg_quality.clamp(1, 100) as u8;
    // Recorded before the work: a composition that takes the process down (the kernel's OOM
    // killer) leaves this behind, and the start-up resume stops retrying after two.
    {
        let mut tx = ctx.store.begin_write().await?;
        pq::insert_event(
            &mut tx,
            p.id,
            "kiosk",
            COMPOSE_STARTED,
            &serde_json::json!({"layout": layout.name}),
            ctx.clock.now(),
        )
        .await?;
        tx.commit().await?;
    }
    let jpeg = compose_blocking(ctx, layout.clone(), shots, text_vars(ctx, p), quality).await?;
    let composite = dir.join("composite.jpg");
    let c2 = composite.clone();
    tokio::task::spawn_blocking(move || {
        fotobox_render::files::write_atomic(&c2, &jpeg).map_err(io_err(&c2))
    })
    .await
    .map_err(|e| PhotoError::Thread(e.to_string()))??;
    fail.check(Step::Composed)?;

    let now = ctx.clock.now();
    let media = crate::print_options::media(&ctx.config, &layout.name, layout.media.as_deref());
    let mut tx = ctx.store.begin_write().await?;
    let current = pq::payment_by_id(&mut tx, p.id)
        .await?
        .ok_or_else(|| PhotoError::NotFound(p.order_id.clone()))?;
    if current.status() != PaymentStatus::Success {
        return Err(PhotoError::Conflict(format!(
            "order {} is no longer paid",
            p.order_id
        )));
    }
    let photo = match q::photo_for_payment(&mut tx, p.id).await? {
        Some(existing) => existing,
        None => {
            let path = composite.display().to_string();
            let photo =
                pq::insert_photo(&mut tx, p.id, &layout.name, p.copies, Some(&path), now).await?;
            q::insert_print_job(&mut tx, p.id, photo.id, p.copies, &media, now).await?;
            let expires =
                now + chrono::Duration::hours(ctx.config.photos.download_ttl_hours as i64);
            q::insert_token(&mut tx, &new_token(), photo.id, expires, now).await?;
            pq::insert_event(
                &mut tx,
                p.id,
                "kiosk",
                "photo_queued",
                &serde_json::json!({"photo_id": photo.id, "template": layout.name, "copies": p.copies}),
                now,
            )
            .await?;
            // Photos taken after a staff flag (e.g. the customer came back): the flag is settled.
            q::resolve_flag(&mut tx, p.id, "photos taken; queued for printing", now).await?;
            photo
        }
    };
    tx.commit().await?;
    fail.check(Step::Recorded)?;
    view_of(ctx, p, &photo).await
}

async fn view_of(ctx: &AppContext, p: &Payment, photo: &Photo) -> Result<PhotoView, PhotoError> {
    let mut conn = ctx.store.pool().acquire().await?;
    let job = q::print_job_for_payment(&mut conn, p.id).await?;
    let token = q::token_for_photo(&mut conn, photo.id, ctx.clock.now()).await?;
    let download_path = token.as_ref().map(|(t, _)| format!("/p/{t}"));
    let download_url = match (&ctx.config.server.public_url, &download_path) {
        (Some(base), Some(path)) => Some(format!("{}{path}", base.trim_end_matches('/'))),
        _ => None,
    };
    Ok(PhotoView {
        photo_id: photo.id,
        order_id: p.order_id.clone(),
        template: photo.template_name.clone(),
        copies: photo.copy_count,
        composite_path: photo.composite_path.clone().unwrap_or_default(),
        download_path,
        download_url,
        download_expires_at: token.map(|(_, e)| e),
        print: job.as_ref().map(PrintView::from),
    })
}

/// The order's photo and print state (the kiosk polls this on the thank-you screen).
pub async fn photo_status(
    ctx: &AppContext,
    order_id: &str,
) -> Result<Option<PhotoView>, PhotoError> {
    let p = ctx
        .store
        .payment_by_order_id(order_id)
        .await?
        .ok_or_else(|| PhotoError::NotFound(order_id.to_string()))?;
    let photo = {
        let mut conn = ctx.store.pool().acquire().await?;
        q::photo_for_payment(&mut conn, p.id).await?
    };
    match photo {
        Some(photo) => Ok(Some(view_of(ctx, &p, &photo).await?)),
        None => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------------
// Printing

/// Print every queued job and follow the ones under way, oldest first.
pub async fn process_queue(ctx: &AppContext) -> Result<QueueReport, PhotoError> {
    process_queue_with(ctx, Failpoint::default()).await
}

/// [`process_queue`] stopping after `fail` (tests).
async fn process_queue_with(ctx: &AppContext, fail: Failpoint) -> Result<QueueReport, PhotoError> {
    let lock = ctx.print_turn.clone();
    let _guard = lock.lock().await;
    let printer = printer(ctx);
    let mut report = QueueReport::default();
    let mut last_failure: Option<String> = None;
    // Each job gets at most max_attempts tries per run (each try increments `attempts`).
    let mut passes = 0u64;
    loop {
        passes += 1;
        if passes > 1000 {
            break;
        }
        let jobs = {
            let mut conn = ctx.store.pool().acquire().await?;
            q::active_jobs(&mut conn).await?
        };
        let Some(job) = jobs.into_iter().next() else {
            break;
        };
        let outcome = if job.state == q::PRINTING {
            reconcile(ctx, &printer, &job, fail).await?
        } else {
            attempt(ctx, &printer, &job, fail).await?
        };
        match outcome {
            Outcome::Printed => report.printed += 1,
            Outcome::Failed => {
                report.failed += 1;
                let why = load_job(ctx, job.id)
                    .await
                    .ok()
                    .and_then(|j| j.last_error)
                    .unwrap_or_else(|| "printing failed".into());
                last_failure = Some(why);
            }
            Outcome::Dropped => report.failed += 1,
            Outcome::Requeued => {
                report.requeued += 1;
                tokio::time::sleep(Duration::from_millis(ctx.config.printer.poll_ms)).await;
            }
            Outcome::Wait(reason) => {
                report.waiting = Some(reason);
                break;
            }
        }
    }
    // Staff hear of failed prints (the orders are flagged for a reprint); a later good print
    // closes the alert.
    if let Some(why) = last_failure {
        let n = report.failed;
        crate::maintenance::alerts::raise(
            ctx,
            crate::maintenance::alerts::AlertKind::PrinterError,
            PRINT_FAILED_ALERT,
            &format!("Printing failed ({n} job(s); flagged for a reprint): {why}"),
        )
        .await;
    } else if report.printed > 0 {
        crate::maintenance::alerts::resolve(ctx, PRINT_FAILED_ALERT).await;
    }
    Ok(report)
}

/// Alert key of failed print jobs (the printer's own state is `printer_error`).
pub const PRINT_FAILED_ALERT: &str = "print_failed";

enum Outcome {
    Printed,
    /// The printer failed the job (refused it, lost it or never finished it).
    Failed,
    /// Not the printer's fault: the order is no longer paid, or nothing is left to print.
    Dropped,
    Requeued,
    Wait(String),
}

async fn attempt(
    ctx: &AppContext,
    printer: &Printer,
    job: &PrintJob,
    fail: Failpoint,
) -> Result<Outcome, PhotoError> {
    let now = ctx.clock.now();
    let (p, photo) = {
        let mut conn = ctx.store.pool().acquire().await?;
        let p = pq::payment_by_id(&mut conn, job.payment_id).await?;
        let photo = q::photo_by_id(&mut conn, job.photo_id).await?;
        (p, photo)
    };
    let Some(p) = p.filter(|p| p.status() == PaymentStatus::Success) else {
        let mut tx = ctx.store.begin_write().await?;
        q::fail_job(
            &mut tx,
            job.id,
            "the order is no longer paid (refunded or cancelled)",
            now,
        )
        .await?;
        tx.commit().await?;
        return Ok(Outcome::Dropped);
    };
    let file = photo.and_then(|ph| ph.composite_path).map(PathBuf::from);
    let Some(file) = file.filter(|f| f.is_file()) else {
        // The composite vanished: compose again from the shots, else flag.
        return recompose_or_flag(ctx, &p, job).await;
    };
    if let PrinterStatus::NotReady(reason) = printer.status().await {
        let mut tx = ctx.store.begin_write().await?;
        q::note_job(&mut tx, job.id, &format!("waiting: {reason}"), now).await?;
        tx.commit().await?;
        return Ok(Outcome::Wait(reason));
    }
    let mark = match printer.mark().await {
        Ok(m) => m,
        Err(e) => return Ok(Outcome::Wait(e.to_string())),
    };
    let token = format!("fotobox-{}-j{}-a{}", p.order_id, job.id, job.attempts + 1);
    let mut tx = ctx.store.begin_write().await?;
    if !q::claim_job(
        &mut tx,
        job.id,
        &printer.describe(),
        &token,
        mark.as_deref(),
        now,
    )
    .await?
    {
        return Ok(Outcome::Requeued);
    }
    tx.commit().await?;
    fail.check(Step::Claimed)?;
    submit_and_wait(ctx, printer, job.id, &file, &token, fail).await
}

async fn submit_and_wait(
    ctx: &AppContext,
    printer: &Printer,
    job_id: i64,
    file: &Path,
    token: &str,
    fail: Failpoint,
) -> Result<Outcome, PhotoError> {
    let job = load_job(ctx, job_id).await?;
    let media = job
        .media
        .clone()
        .unwrap_or_else(|| ctx.config.printer.media.clone());
    let layout = {
        let mut conn = ctx.store.pool().acquire().await?;
        q::photo_by_id(&mut conn, job.photo_id)
            .await?
            .map(|ph| ph.template_name)
    };
    let options = crate::print_options::options(&ctx.config, layout.as_deref());
    let req = PrintRequest {
        file,
        copies: job.copies.max(1) as u32,
        media: &media,
        title: token,
        options: &options,
    };
    match printer.submit(&req).await {
        Ok(printer_job) => {
            fail.check(Step::Submitted)?;
            let mut tx = ctx.store.begin_write().await?;
            q::set_printer_job_id(&mut tx, job_id, &printer_job, ctx.clock.now()).await?;
            pq::insert_event(
                &mut tx,
                job.payment_id,
                "kiosk",
                "print_submitted",
                &serde_json::json!({"job": job_id, "printer_job": printer_job, "copies": job.copies, "attempt": job.attempts}),
                ctx.clock.now(),
            )
            .await?;
            tx.commit().await?;
            fail.check(Step::JobIdRecorded)?;
            wait_for(ctx, printer, job_id, &printer_job, fail).await
        }
        Err(e) => {
            // `lp` refused: nothing was queued, so another attempt cannot print twice.
            let now = ctx.clock.now();
            let msg = e.to_string();
            let mut tx = ctx.store.begin_write().await?;
            if job.attempts >= ctx.config.printer.max_attempts as i64 {
                q::fail_job(&mut tx, job_id, &msg, now).await?;
                flag(
                    &mut tx,
                    job.payment_id,
                    &format!("the printer refused the job {} times: {msg}", job.attempts),
                    "reprint",
                    now,
                )
                .await?;
                tx.commit().await?;
                Ok(Outcome::Failed)
            } else {
                q::requeue_job(&mut tx, job_id, &msg, now).await?;
                tx.commit().await?;
                Ok(Outcome::Requeued)
            }
        }
    }
}

async fn load_job(ctx: &AppContext, id: i64) -> Result<PrintJob, PhotoError> {
    let mut conn = ctx.store.pool().acquire().await?;
    q::print_job(&mut conn, id)
        .await?
        .ok_or_else(|| PhotoError::Store(StoreError::Invalid(format!("print job {id} vanished"))))
}

/// Marks the flag of a job stuck behind a printer error (resolved when the job prints after all).
const STUCK: &str = "is stuck: the printer reports";

/// Follow a submitted job until the printer finishes it (or the time limit flags it). A job
/// still waiting while the printer reports a reason that stops printing (paper out, door
/// open...) is flagged for staff with that reason at once, and still followed: if it prints
/// once the printer is seen to, the flag is resolved.
async fn wait_for(
    ctx: &AppContext,
    printer: &Printer,
    job_id: i64,
    printer_job: &str,
    fail: Failpoint,
) -> Result<Outcome, PhotoError> {
    let job = load_job(ctx, job_id).await?;
    let limit = chrono::Duration::seconds(ctx.config.printer.job_timeout_seconds as i64);
    let deadline = job.submitted_at.unwrap_or(job.updated_at) + limit;
    let mut stuck_flagged = false;
    loop {
        match printer.job_state(printer_job).await {
            Ok(JobState::Done) => {
                fail.check(Step::PrinterDone)?;
                let now = ctx.clock.now();
                let mut tx = ctx.store.begin_write().await?;
                if q::finish_job(&mut tx, job_id, now).await? {
                    let stuck = q::open_flags(&mut tx)
                        .await?
                        .into_iter()
                        .any(|f| f.payment_id == job.payment_id && f.reason.contains(STUCK));
                    if stuck {
                        q::resolve_flag(
                            &mut tx,
                            job.payment_id,
                            "printed after the printer was seen to",
                            now,
                        )
                        .await?;
                    }
                    take_paper(&mut tx, ctx, job.copies, now).await?;
                    pq::mark_fulfilled(&mut tx, job.payment_id, now).await?;
                    pq::insert_event(
                        &mut tx,
                        job.payment_id,
                        "kiosk",
                        "printed",
                        &serde_json::json!({"job": job_id, "printer_job": printer_job, "copies": job.copies}),
                        now,
                    )
                    .await?;
                }
                tx.commit().await?;
                return Ok(Outcome::Printed);
            }
            Ok(JobState::Gone) => {
                let now = ctx.clock.now();
                let reason = format!("the printer lost job {printer_job} (cancelled at the printer?); it may not have printed");
                let mut tx = ctx.store.begin_write().await?;
                q::fail_job(&mut tx, job_id, &reason, now).await?;
                flag(&mut tx, job.payment_id, &reason, "reprint", now).await?;
                tx.commit().await?;
                return Ok(Outcome::Failed);
            }
            Ok(JobState::Pending) if !stuck_flagged => {
                if let PrinterStatus::NotReady(why) = printer.status().await {
                    let now = ctx.clock.now();
                    let reason = format!(
                        "printer job {printer_job} {STUCK} {why}. It prints once the printer is \
                         seen to; if it cannot be, cancel the job in CUPS, then reprint or refund"
                    );
                    let mut tx = ctx.store.begin_write().await?;
                    q::note_job(&mut tx, job_id, &reason, now).await?;
                    flag(&mut tx, job.payment_id, &reason, "reprint", now).await?;
                    tx.commit().await?;
                    ctx.printer_status.clear().await;
                    stuck_flagged = true;
                }
            }
            Ok(JobState::Pending) | Err(_) => {}
        }
        if ctx.clock.now() >= deadline {
            let now = ctx.clock.now();
            let reason = format!(
                "printer job {printer_job} did not finish within {} s; it may still print: check the printer before reprinting",
                ctx.config.printer.job_timeout_seconds
            );
            let mut tx = ctx.store.begin_write().await?;
            q::fail_job(&mut tx, job_id, &reason, now).await?;
            flag(&mut tx, job.payment_id, &reason, "reprint", now).await?;
            tx.commit().await?;
            return Ok(Outcome::Failed);
        }
        tokio::time::sleep(Duration::from_millis(ctx.config.printer.poll_ms)).await;
    }
}

/// A job found `printing` (after a crash, or a wait cut short): never re-submit blindly.
async fn reconcile(
    ctx: &AppContext,
    printer: &Printer,
    job: &PrintJob,
    fail: Failpoint,
) -> Result<Outcome, PhotoError> {
    if let Some(pj) = &job.printer_job_id {
        return wait_for(ctx, printer, job.id, pj, fail).await;
    }
    let token = job.submit_token.clone().unwrap_or_default();
    let owned = {
        let mut conn = ctx.store.pool().acquire().await?;
        q::owned_printer_job_ids(&mut conn, job.id).await?
    };
    match printer
        .find_submitted(
            &token,
            job.copies.max(1) as u32,
            job.printer_mark.as_deref(),
            &owned,
        )
        .await
    {
        Ok(Some(pj)) => {
            // `lp` had accepted it before the crash: adopt it.
            let mut tx = ctx.store.begin_write().await?;
            q::set_printer_job_id(&mut tx, job.id, &pj, ctx.clock.now()).await?;
            tx.commit().await?;
            wait_for(ctx, printer, job.id, &pj, fail).await
        }
        Ok(None) => {
            // Nothing reached the printer: the attempt is re-run (it counted).
            let mut tx = ctx.store.begin_write().await?;
            q::requeue_job(
                &mut tx,
                job.id,
                "interrupted before the printer accepted the job",
                ctx.clock.now(),
            )
            .await?;
            tx.commit().await?;
            let job = load_job(ctx, job.id).await?;
            if job.attempts >= ctx.config.printer.max_attempts as i64 {
                let now = ctx.clock.now();
                let reason = format!("printing was interrupted {} times", job.attempts);
                let mut tx = ctx.store.begin_write().await?;
                q::fail_job(&mut tx, job.id, &reason, now).await?;
                flag(&mut tx, job.payment_id, &reason, "reprint", now).await?;
                tx.commit().await?;
                return Ok(Outcome::Failed);
            }
            attempt(ctx, printer, &job, fail).await
        }
        Err(e) => Ok(Outcome::Wait(format!(
            "cannot ask the printer about an interrupted job: {e}"
        ))),
    }
}

async fn recompose_or_flag(
    ctx: &AppContext,
    p: &Payment,
    job: &PrintJob,
) -> Result<Outcome, PhotoError> {
    let now = ctx.clock.now();
    let layout = layout_for(ctx, p).await;
    let shots = layout
        .as_ref()
        .ok()
        .and_then(|l| saved_shots(&order_dir(ctx, p), l.shots));
    if let (Ok(layout), Some(shots)) = (layout, shots) {
        let quality = ctx.config.photos.jpeg_quality.clamp(1, 100) as u8;
        let jpeg = compose_blocking(ctx, layout, shots, text_vars(ctx, p), quality).await?;
        let composite = order_dir(ctx, p).join("composite.jpg");
        let c2 = composite.clone();
        tokio::task::spawn_blocking(move || {
            fotobox_render::files::write_atomic(&c2, &jpeg).map_err(io_err(&c2))
        })
        .await
        .map_err(|e| PhotoError::Thread(e.to_string()))??;
        return Ok(Outcome::Requeued);
    }
    let reason = "the composite and the shots are missing; nothing to print";
    let mut tx = ctx.store.begin_write().await?;
    q::fail_job(&mut tx, job.id, reason, now).await?;
    flag(&mut tx, p.id, reason, "refund", now).await?;
    tx.commit().await?;
    Ok(Outcome::Dropped)
}

async fn flag(
    conn: &mut sqlx::SqliteConnection,
    payment_id: i64,
    reason: &str,
    action: &str,
    now: DateTime<Utc>,
) -> Result<(), PhotoError> {
    if q::insert_flag(conn, payment_id, reason, action, now).await? {
        pq::insert_event(
            conn,
            payment_id,
            "kiosk",
            "flagged",
            &serde_json::json!({"reason": reason, "action": action}),
            now,
        )
        .await?;
        tracing::warn!(payment_id, reason, "paid order flagged for staff");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Resume after a crash

/// The event recorded as a composition starts.
const COMPOSE_STARTED: &str = "compose_started";

/// Compositions of one order that may end without a result before resume gives up on it.
const MAX_COMPOSE_ATTEMPTS: i64 = 2;

async fn compose_attempts(ctx: &AppContext, p: &Payment) -> Result<i64, PhotoError> {
    let mut conn = ctx.store.pool().acquire().await?;
    Ok(pq::count_events(&mut conn, p.id, COMPOSE_STARTED).await?)
}

/// Bring every paid order since the pipeline's installation to printed or flagged: mark done
/// jobs fulfilled, flag failed ones, compose and queue orders whose shots were saved, flag
/// orders without photos (at start at once, while running after the capture timeout), then run
/// the queue (which reconciles jobs that were `printing`).
pub async fn resume(ctx: &AppContext, mode: ResumeMode) -> Result<ResumeReport, PhotoError> {
    resume_with(ctx, mode, Failpoint::default()).await
}

/// [`resume`] stopping after `fail` (tests).
async fn resume_with(
    ctx: &AppContext,
    mode: ResumeMode,
    fail: Failpoint,
) -> Result<ResumeReport, PhotoError> {
    let mut report = ResumeReport::default();
    let now = ctx.clock.now();
    let (done, failed, waiting) = {
        let mut conn = ctx.store.pool().acquire().await?;
        let since = q::installed_at(&mut conn).await?;
        let done = q::done_unfulfilled(&mut conn).await?;
        let failed = q::failed_unflagged(&mut conn).await?;
        let waiting = q::paid_without_job(&mut conn, &since).await?;
        (done, failed, waiting)
    };
    for job in done {
        let mut tx = ctx.store.begin_write().await?;
        if pq::mark_fulfilled(&mut tx, job.payment_id, now).await? {
            report.fulfilled += 1;
        }
        tx.commit().await?;
    }
    for job in failed {
        let reason = job
            .last_error
            .clone()
            .unwrap_or_else(|| "printing failed".into());
        let mut tx = ctx.store.begin_write().await?;
        flag(&mut tx, job.payment_id, &reason, "reprint", now).await?;
        tx.commit().await?;
        report.flagged += 1;
    }
    for p in waiting {
        let layout = layout_for(ctx, &p).await;
        let shots = layout
            .as_ref()
            .ok()
            .and_then(|l| saved_shots(&order_dir(ctx, &p), l.shots));
        match (layout, shots) {
            (Ok(_), Some(_)) if compose_attempts(ctx, &p).await? >= MAX_COMPOSE_ATTEMPTS => {
                let mut tx = ctx.store.begin_write().await?;
                flag(
                    &mut tx,
                    p.id,
                    "composing the saved shots failed twice (the kiosk stopped while composing); \
                     not retried: check the shots, then reprint or refund",
                    "refund",
                    now,
                )
                .await?;
                tx.commit().await?;
                report.flagged += 1;
            }
            (Ok(layout), Some(shots)) => {
                match compose_and_record(ctx, &p, layout, shots, fail).await {
                    Ok(_) => report.composed += 1,
                    Err(e @ PhotoError::Crashed(_)) => return Err(e),
                    Err(e) => {
                        let mut tx = ctx.store.begin_write().await?;
                        flag(
                            &mut tx,
                            p.id,
                            &format!("could not compose the saved shots: {e}"),
                            "refund",
                            now,
                        )
                        .await?;
                        tx.commit().await?;
                        report.flagged += 1;
                    }
                }
            }
            (layout, _) => {
                let paid_at = p.perform_time.unwrap_or(p.updated_at);
                let grace =
                    chrono::Duration::seconds(ctx.config.photos.capture_timeout_seconds as i64);
                if mode == ResumeMode::Running && now < paid_at + grace {
                    continue;
                }
                let reason = match layout {
                    Err(e) => format!("cannot print this order: {e}"),
                    Ok(_) => "paid, not started: no photos were taken (the customer left or the \
                         session was interrupted); start the session from the panel or refund it"
                        .to_string(),
                };
                let mut tx = ctx.store.begin_write().await?;
                flag(&mut tx, p.id, &reason, "refund", now).await?;
                tx.commit().await?;
                report.flagged += 1;
            }
        }
    }
    report.queue = process_queue_with(ctx, fail).await?;
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// Readiness and paper

/// Count `copies` printed on the paper counter (starting a full roll of
/// `printer.paper_roll_size` before the first refill); returns the prints left.
pub(crate) async fn take_paper(
    conn: &mut sqlx::SqliteConnection,
    ctx: &AppContext,
    copies: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, StoreError> {
    if q::current_roll(&mut *conn).await?.is_none() {
        q::insert_roll(
            &mut *conn,
            ctx.config.printer.paper_roll_size as i64,
            "initial",
            now,
        )
        .await?;
    }
    q::use_paper(&mut *conn, copies).await?;
    Ok(q::current_roll(conn).await?.map_or(0, |r| r.remaining))
}

/// Below this print resolution a layout's smallest slot looks soft: the Devices page warns.
pub const LOW_DPI: u32 = 200;

/// The print resolution a still of `w` x `h` gives in one layout's smallest slot.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StillDpi {
    pub name: String,
    pub title: String,
    pub dpi: u32,
    /// The layout's own print resolution.
    pub print_dpi: u16,
    /// Under [`LOW_DPI`].
    pub low: bool,
}

/// [`StillDpi`] of every installed layout with slots, for a still of `w` x `h`.
pub fn still_dpis(set: &layouts::LayoutSet, w: u32, h: u32) -> Vec<StillDpi> {
    set.names()
        .into_iter()
        .filter_map(|name| {
            let l = set.get(&name)?;
            let dpi = l.effective_dpi(w, h)?;
            Some(StillDpi {
                title: l.title.clone(),
                name,
                dpi,
                print_dpi: l.dpi,
                low: dpi < LOW_DPI,
            })
        })
        .collect()
}

/// The roll in the printer (a full one of `printer.paper_roll_size` before the first refill).
pub async fn paper(ctx: &AppContext) -> Result<PaperRoll, PhotoError> {
    // A read first: the kiosk page asks often, and only the very first call writes.
    {
        let mut conn = ctx.store.pool().acquire().await?;
        if let Some(r) = q::current_roll(&mut conn).await? {
            return Ok(r);
        }
    }
    let mut tx = ctx.store.begin_write().await?;
    let roll = match q::current_roll(&mut tx).await? {
        Some(r) => r,
        None => {
            q::insert_roll(
                &mut tx,
                ctx.config.printer.paper_roll_size as i64,
                "initial",
                ctx.clock.now(),
            )
            .await?
        }
    };
    tx.commit().await?;
    Ok(roll)
}

/// Staff refill: a new full roll (`roll_size`, else `printer.paper_roll_size`).
pub async fn reset_paper(
    ctx: &AppContext,
    roll_size: Option<u64>,
) -> Result<PaperRoll, PhotoError> {
    let size = roll_size.unwrap_or(ctx.config.printer.paper_roll_size);
    if size == 0 || size > 100_000 {
        return Err(PhotoError::Invalid(
            "the roll size must be between 1 and 100000 prints".into(),
        ));
    }
    let mut tx = ctx.store.begin_write().await?;
    let roll = q::insert_roll(&mut tx, size as i64, "staff", ctx.clock.now()).await?;
    tx.commit().await?;
    tracing::info!(roll_size = size, "paper roll reset by staff");
    Ok(roll)
}

/// [`readiness`] with the printer asked now (the order door: money is about to be taken).
pub async fn readiness_now(ctx: &AppContext, copies: i64) -> Result<Readiness, PhotoError> {
    ctx.printer_status.clear().await;
    readiness(ctx, copies).await
}

/// Can the kiosk take money for an order of `copies` prints now? Not ready when the printer is
/// paused, disabled, not accepting or unknown, or when the paper left (minus copies already
/// queued) is below `copies`. The kiosk shows "out of service" instead of a QR code. The
/// printer's state may be up to `printer.status_cache_ms` old.
pub async fn readiness(ctx: &AppContext, copies: i64) -> Result<Readiness, PhotoError> {
    let printer = printer(ctx);
    let ttl = Duration::from_millis(ctx.config.printer.status_cache_ms);
    let seen = ctx.printer_status.get(&printer, ttl).await;
    let status = seen.status;
    let roll = paper(ctx).await?;
    let pending = {
        let mut conn = ctx.store.pool().acquire().await?;
        q::pending_copies(&mut conn).await?
    };
    let available = roll.remaining - pending;
    let printer_ready = status == PrinterStatus::Ready;
    let reason = match status {
        PrinterStatus::NotReady(r) => Some(r),
        PrinterStatus::Ready if available < copies.max(1) => Some(format!(
            "paper: {available} prints left, the order needs {}",
            copies.max(1)
        )),
        PrinterStatus::Ready => None,
    };
    Ok(Readiness {
        ready: reason.is_none(),
        reason,
        printer: printer.describe(),
        printer_ready,
        printer_warnings: seen.warnings,
        printer_state: seen.state,
        paper_available: available,
        paper_roll_size: roll.roll_size,
    })
}

/// Test hooks (cargo feature `test-hooks`, enabled only by the test suites): the pipeline
/// stopping right after a step, as if the process had been killed there.
#[cfg(feature = "test-hooks")]
pub mod hooks {
    use super::{
        AppContext, Failpoint, PhotoError, PhotoView, QueueReport, ResumeMode, ResumeReport,
    };

    /// `create_photo` without starting the printer, stopping after `fail`.
    pub async fn create_photo_with(
        ctx: &AppContext,
        order_id: &str,
        shots: Vec<Vec<u8>>,
        fail: Failpoint,
    ) -> Result<PhotoView, PhotoError> {
        super::create_photo_with(ctx, order_id, shots, fail).await
    }

    /// `process_queue` stopping after `fail`.
    pub async fn process_queue_with(
        ctx: &AppContext,
        fail: Failpoint,
    ) -> Result<QueueReport, PhotoError> {
        super::process_queue_with(ctx, fail).await
    }

    /// `resume` stopping after `fail`.
    pub async fn resume_with(
        ctx: &AppContext,
        mode: ResumeMode,
        fail: Failpoint,
    ) -> Result<ResumeReport, PhotoError> {
        super::resume_with(ctx, mode, fail).await
    }
}

// ---------------------------------------------------------------------------------------------
// Digital copy

/// The customer's composite behind a digital-copy token.
#[derive(Debug, Clone)]
pub struct DigitalCopy {
    /// The order id reduced to `[A-Za-z0-9-]` (safe in a file name).
    pub order_id: String,
    pub jpeg: Vec<u8>,
}

fn plausible_token(t: &str) -> bool {
    t.len() == 43
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The composite for a live token; `None` for a malformed, unknown or expired token or a file
/// that is gone (all look alike to the caller, so tokens cannot be probed).
pub async fn digital_copy(
    ctx: &AppContext,
    token: &str,
) -> Result<Option<DigitalCopy>, PhotoError> {
    let Some((order_id, path)) = live_copy(ctx, token).await? else {
        return Ok(None);
    };
    let Ok(jpeg) = tokio::fs::read(&path).await else {
        return Ok(None);
    };
    Ok(Some(DigitalCopy { order_id, jpeg }))
}

/// The order id (reduced to `[A-Za-z0-9-]`, safe in a file name) of a live token whose composite
/// is still there, without reading it (the copy's page only links to it); `None` as for
/// [`digital_copy`].
pub async fn digital_copy_order(
    ctx: &AppContext,
    token: &str,
) -> Result<Option<String>, PhotoError> {
    Ok(live_copy(ctx, token).await?.map(|(order_id, _)| order_id))
}

/// The token's order id and composite file, when the token is live and the file is there.
async fn live_copy(ctx: &AppContext, token: &str) -> Result<Option<(String, PathBuf)>, PhotoError> {
    if !plausible_token(token) {
        return Ok(None);
    }
    let mut conn = ctx.store.pool().acquire().await?;
    let Some(d) = q::download_by_token(&mut conn, token, ctx.clock.now()).await? else {
        return Ok(None);
    };
    drop(conn);
    let Some(path) = d.composite_path.map(PathBuf::from) else {
        return Ok(None);
    };
    if !tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_file()) {
        return Ok(None);
    }
    let order_id = d
        .order_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    Ok(Some((order_id, path)))
}

/// Delete the shots and the composite of orders fulfilled more than `photos.keep_hours` ago
/// (customers' faces are not kept for ever); the photo record stays, without its file. Returns
/// how many orders were purged.
pub async fn purge_old_photos(ctx: &AppContext) -> Result<u64, PhotoError> {
    let cutoff = ctx.clock.now() - chrono::Duration::hours(ctx.config.photos.keep_hours as i64);
    let due = {
        let mut conn = ctx.store.pool().acquire().await?;
        q::photos_to_purge(&mut conn, cutoff, 100).await?
    };
    let mut n = 0;
    for p in &due {
        remove_order_files(ctx, p).await?;
        let mut tx = ctx.store.begin_write().await?;
        q::forget_composites(&mut tx, p.id).await?;
        tx.commit().await?;
        n += 1;
    }
    if n > 0 {
        tracing::info!(orders = n, "photos of fulfilled orders deleted");
    }
    Ok(n)
}

/// Delete an order's folder (shots, uploads, composite); a folder already gone is fine.
pub async fn remove_order_files(ctx: &AppContext, p: &Payment) -> Result<(), PhotoError> {
    let dir = order_dir(ctx, p);
    match tokio::fs::remove_dir_all(&dir).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(PhotoError::Io { path: dir, source }),
    }
}

/// Bytes and order folders under `<data_dir>/orders` (the space customers' photos take).
pub fn photo_space(ctx: &AppContext) -> (u64, u64) {
    fn size(path: &Path) -> u64 {
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => std::fs::read_dir(path)
                .map(|d| d.flatten().map(|e| size(&e.path())).sum())
                .unwrap_or(0),
            Ok(m) => m.len(),
            Err(_) => 0,
        }
    }
    let root = ctx.data_dir.join("orders");
    let orders = std::fs::read_dir(&root)
        .map(|d| d.count() as u64)
        .unwrap_or(0);
    (size(&root), orders)
}

/// Delete expired download tokens (housekeeping; the route refuses them anyway).
pub async fn purge_expired_tokens(ctx: &AppContext) -> Result<u64, PhotoError> {
    let mut tx = ctx.store.begin_write().await?;
    let n = q::delete_expired_tokens(&mut tx, ctx.clock.now()).await?;
    tx.commit().await?;
    Ok(n)
}
