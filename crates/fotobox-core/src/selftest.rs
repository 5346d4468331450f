//! Staff self-tests from the Devices page, each recorded with its result and time
//! (`self_tests`):
//! * **test print**: a calibration sheet ([`fotobox_render::calibration`]: the date, edge lines,
//!   a colour bar, a grey ramp and every installed layout) sent through the real print path
//!   (the printer's media and options, the print queue's turn, so it never interleaves with a
//!   customer's job), followed until the printer finishes it, and counted on the paper counter.
//!   Refused before anything is printed when the printer or the paper counter says no print can
//!   come out. Its CUPS job is recorded as soon as `lp` answers, so the customers' crash
//!   reconciliation never takes it for theirs;
//! * **camera test**: the panel takes a still at the camera's full resolution (only the page can
//!   see the camera) and uploads it; the size is read from the picture itself and turned into
//!   the print resolution of each layout's smallest slot;
//! * **payment-path test**: the public URL's `/healthz` fetched through the tunnel, with the time
//!   the round trip took (the same check that keeps payments open or closed).

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};

use fotobox_render::calibration::{self, SheetSpec};
use fotobox_store::self_tests::{self as q, Finish, SelfTest};
use fotobox_store::StoreError;

use crate::context::AppContext;
use crate::error::{DomainError, ErrorKind};
use crate::panel::{Actor, Client};
use crate::print::{JobState, PrintRequest, Printer, PrinterStatus};
use crate::{maintenance, photos};

#[derive(Debug, thiserror::Error)]
pub enum SelfTestError {
    /// A test of this kind is under way.
    #[error("{0}")]
    Busy(String),
    #[error("{0}")]
    Invalid(String),
    /// A fault of this kiosk (its layouts cannot be read, a worker died).
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for SelfTestError {
    fn from(e: sqlx::Error) -> Self {
        SelfTestError::Store(e.into())
    }
}

impl DomainError for SelfTestError {
    fn kind(&self) -> ErrorKind {
        match self {
            SelfTestError::Busy(_) => ErrorKind::Conflict,
            SelfTestError::Invalid(_) => ErrorKind::Invalid,
            SelfTestError::Internal(_) => ErrorKind::Internal,
            SelfTestError::Store(e) => e.kind(),
        }
    }
}

type Result<T> = std::result::Result<T, SelfTestError>;

/// One run as the panel shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SelfTestView {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub summary: String,
    pub detail: Value,
    pub printer_job: Option<String>,
    pub actor: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    pub duration_ms: Option<i64>,
}

impl From<SelfTest> for SelfTestView {
    fn from(r: SelfTest) -> Self {
        SelfTestView {
            detail: serde_json::from_str(&r.detail).unwrap_or(Value::Null),
            id: r.id,
            kind: r.kind,
            state: r.state,
            summary: r.summary,
            printer_job: r.printer_job,
            actor: r.actor,
            started_at: r.started_at,
            finished_at: r.finished_at,
            duration_ms: r.duration_ms,
        }
    }
}

/// The newest run of each kind.
pub async fn latest(ctx: &AppContext) -> Result<Vec<SelfTestView>> {
    Ok(ctx
        .store
        .latest_self_tests()
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// One run.
pub async fn get(ctx: &AppContext, id: i64) -> Result<Option<SelfTestView>> {
    Ok(ctx.store.self_test(id).await?.map(Into::into))
}

/// At start: the runs a stopped process left `running` end. A test print whose CUPS job the
/// printer finished meanwhile passed (and is counted on the paper counter); one still waiting in
/// CUPS is cancelled there (it would take a sheet nobody counts) and failed, like every other
/// leftover run. Returns how many ended.
pub async fn recover(ctx: &AppContext) -> Result<u64> {
    let rows = {
        let mut conn = ctx.store.pool().acquire().await.map_err(StoreError::from)?;
        q::all_running(&mut conn).await?
    };
    let printer = Printer::from_config(&ctx.config, &ctx.data_dir);
    let interrupted = "interrupted: the kiosk restarted before the test ended";
    for row in &rows {
        let started = Instant::now();
        let job = row.printer_job.clone();
        let state = match &job {
            Some(j) if row.kind == q::KIND_PRINT => Some(printer.job_state(j).await),
            _ => None,
        };
        let o = match (job, state) {
            (Some(job), Some(Ok(JobState::Done))) => {
                let o = Outcome {
                    state: q::PASSED,
                    summary: format!("printed (job {job}) while the kiosk restarted"),
                    detail: json!({"printer": printer.describe(), "printer_job": job}),
                };
                printed(ctx, row.id, started, &row.actor, &job, o).await?;
                continue;
            }
            (Some(job), Some(Ok(JobState::Gone))) => {
                Outcome::failed(interrupted, json!({"printer_job": job}))
            }
            // Waiting, or CUPS did not say: it must not print later uncounted.
            (Some(job), Some(_)) => {
                let summary = match printer.cancel(&job).await {
                    Ok(()) => format!("{interrupted}; its job {job} was cancelled in CUPS"),
                    Err(e) => format!(
                        "{interrupted}; its job {job} could not be cancelled ({e}): it may still \
                         print, uncounted"
                    ),
                };
                Outcome::failed(summary, json!({"printer_job": job}))
            }
            _ => Outcome::failed(interrupted, json!({})),
        };
        finish(ctx, row.id, started, &o).await?;
    }
    Ok(rows.len() as u64)
}

/// How long a run may stay `running` before a new one may take over (a run whose worker died
/// without a restart). A test print may wait for a customer's job (up to the job time limit),
/// then for its own (the same), so twice that and five minutes; two minutes for the others.
fn abandoned_after(ctx: &AppContext, kind: &str) -> chrono::Duration {
    let secs = if kind == q::KIND_PRINT {
        2 * ctx.config.printer.job_timeout_seconds + 300
    } else {
        120
    };
    chrono::Duration::seconds(secs as i64)
}

/// Begin a run of `kind` unless one is under way (checked and begun in one transaction). A
/// run under way for longer than it can take is failed as abandoned first.
async fn begin(ctx: &AppContext, kind: &str, actor: Actor) -> Result<SelfTest> {
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin_write().await?;
    if let Some(r) = q::running(&mut tx, kind).await? {
        if now - r.started_at < abandoned_after(ctx, kind) {
            return Err(SelfTestError::Busy(format!(
                "a {} test is under way (started {}); wait for its result",
                kind.replace('_', " "),
                r.started_at.format("%H:%M:%S UTC")
            )));
        }
        let f = Finish {
            state: q::FAILED,
            summary: "abandoned: it did not end in time",
            detail: &json!({}),
            duration_ms: (now - r.started_at).num_milliseconds(),
        };
        q::finish(&mut tx, r.id, &f, now).await?;
    }
    let row = q::begin(&mut tx, kind, actor.as_str(), now).await?;
    tx.commit().await?;
    Ok(row)
}

/// Run `work` on its own task and wait for it: a request dropped halfway (a closed page) does
/// not cancel it, so a run it began still ends.
async fn detached<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T>> + Send + 'static,
) -> Result<T> {
    tokio::spawn(work)
        .await
        .map_err(|e| SelfTestError::Internal(format!("the self-test stopped: {e}")))?
}

/// A result to record.
struct Outcome {
    state: &'static str,
    summary: String,
    detail: Value,
}

impl Outcome {
    fn failed(summary: impl Into<String>, detail: Value) -> Outcome {
        Outcome {
            state: q::FAILED,
            summary: summary.into(),
            detail,
        }
    }
}

async fn finish(ctx: &AppContext, id: i64, started: Instant, o: &Outcome) -> Result<()> {
    let mut tx = ctx.store.begin_write().await?;
    finish_in(&mut tx, ctx, id, started, o).await?;
    tx.commit().await?;
    Ok(())
}

async fn finish_in(
    tx: &mut sqlx::SqliteConnection,
    ctx: &AppContext,
    id: i64,
    started: Instant,
    o: &Outcome,
) -> Result<bool> {
    let f = Finish {
        state: o.state,
        summary: &o.summary,
        detail: &o.detail,
        duration_ms: started.elapsed().as_millis() as i64,
    };
    Ok(q::finish(tx, id, &f, ctx.clock.now()).await?)
}

async fn view(ctx: &AppContext, id: i64) -> Result<SelfTestView> {
    get(ctx, id)
        .await?
        .ok_or_else(|| SelfTestError::Internal(format!("self-test {id} vanished")))
}

// ------------------------------------------------------------------------------- test print

/// Start a test print. Answers at once: refused (recorded as failed, nothing printed) when the
/// printer or the paper counter says no print can come out now; else `running`, followed in
/// the background until the printer finishes it. While it runs its sheet counts as a queued
/// copy, so the order door leaves paper for it.
pub async fn start_print(ctx: &AppContext, actor: Actor) -> Result<SelfTestView> {
    let ctx = ctx.clone();
    detached(async move {
        // Asked before the run begins: once it runs, its own sheet counts as queued.
        let ready = photos::readiness_now(&ctx, 1).await;
        let row = begin(&ctx, q::KIND_PRINT, actor).await?;
        let started = Instant::now();
        match ready {
            Ok(r) if r.ready => {
                let bg = ctx.clone();
                tokio::spawn(async move {
                    if let Err(e) = run_print(&bg, row.id, actor, started).await {
                        tracing::error!(error = %e, "the test print could not be recorded");
                        let o = Outcome::failed(format!("could not be recorded: {e}"), json!({}));
                        let _ = finish(&bg, row.id, started, &o).await;
                    }
                });
            }
            Ok(r) => {
                let why = r
                    .reason
                    .unwrap_or_else(|| "the printer is not ready".into());
                let o = Outcome::failed(
                    format!("not printed: {why}"),
                    json!({"printer": r.printer, "paper_available": r.paper_available}),
                );
                finish(&ctx, row.id, started, &o).await?;
            }
            Err(e) => {
                let o = Outcome::failed(format!("not printed: {e}"), json!({}));
                finish(&ctx, row.id, started, &o).await?;
            }
        }
        view(&ctx, row.id).await
    })
    .await
}

/// The printed sheet's size in pixels at `dpi` for a CUPS media name such as `w288h432` or
/// `w288h432-div2` (points, 1/72 inch); 4x6 inches for names without a size.
pub fn media_pixels(media: &str, dpi: u16) -> (u32, u32) {
    let size = media
        .strip_prefix('w')
        .and_then(|r| r.split_once('h'))
        .and_then(|(w, rest)| {
            let h: String = rest.chars().take_while(char::is_ascii_digit).collect();
            Some((w.parse::<f64>().ok()?, h.parse::<f64>().ok()?))
        })
        .filter(|(w, h)| (36.0..=2000.0).contains(w) && (36.0..=2000.0).contains(h));
    let (w, h) = size.unwrap_or((288.0, 432.0));
    let px = |pt: f64| (pt * f64::from(dpi) / 72.0).round() as u32;
    (px(w), px(h))
}

/// Draw the sheet, print it in the queue's turn, follow it, record the result.
async fn run_print(ctx: &AppContext, id: i64, actor: Actor, started: Instant) -> Result<()> {
    let printer = Printer::from_config(&ctx.config, &ctx.data_dir);
    let job = match print_sheet(ctx, &printer, id).await {
        Ok(job) => job,
        Err(o) => return finish(ctx, id, started, &o).await,
    };
    let o = Outcome {
        state: q::PASSED,
        summary: format!(
            "printed on {} in {:.1} s",
            printer.describe(),
            started.elapsed().as_secs_f64()
        ),
        detail: json!({"printer": printer.describe(), "printer_job": job}),
    };
    printed(ctx, id, started, actor.as_str(), &job, o).await
}

/// A test sheet came out: one print off the paper counter and the audit line, with the result,
/// in one transaction. The paper is counted even when the run was meanwhile failed (taken over
/// as abandoned): the sheet used it. The summary gets the prints left.
async fn printed(
    ctx: &AppContext,
    id: i64,
    started: Instant,
    actor: &str,
    job: &str,
    mut o: Outcome,
) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin_write().await?;
    let left = photos::take_paper(&mut tx, ctx, 1, now).await?;
    o.summary = format!("{}; {left} prints left on the paper counter", o.summary);
    o.detail["paper_left"] = json!(left);
    finish_in(&mut tx, ctx, id, started, &o).await?;
    let audit = fotobox_store::staff::NewAudit {
        action: "test_print",
        actor,
        payment_id: None,
        order_id: None,
        reason: None,
        detail: json!({"self_test": id, "printer_job": job, "paper_left": left}),
    };
    fotobox_store::staff::insert_audit(&mut tx, &audit, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Compose and print the sheet, then wait for the printer: the printer's job once it printed.
async fn print_sheet(
    ctx: &AppContext,
    printer: &Printer,
    id: i64,
) -> std::result::Result<String, Outcome> {
    let fail = |m: String| Outcome::failed(m, json!({"printer": printer.describe()}));
    let file = sheet_file(ctx, printer, id).await.map_err(fail)?;
    let turn = ctx.print_turn.clone();
    let _turn = turn.lock().await;
    // The wait for the turn can be long (a customer's job first): a run failed meanwhile (taken
    // over as abandoned) prints nothing.
    match get(ctx, id).await {
        Ok(Some(r)) if r.state == q::RUNNING => {}
        _ => {
            return Err(fail(
                "not printed: the run ended while it waited for the printer".into(),
            ))
        }
    }
    // Asked again in the queue's turn: the printer may have stopped, and the paper counter
    // (which counts this sheet as queued) must still hold a print for it.
    match photos::readiness_now(ctx, 1).await {
        Ok(r) if !r.printer_ready => {
            let why = r
                .reason
                .unwrap_or_else(|| "the printer is not ready".into());
            return Err(fail(format!("not printed: {why}")));
        }
        Ok(r) if r.paper_available < 0 => {
            return Err(fail(format!(
                "not printed: the paper counter has no print left for the test sheet after the \
                 queued prints ({} of a {}-print roll)",
                r.paper_available + 1,
                r.paper_roll_size
            )));
        }
        Ok(_) => {}
        Err(e) => return Err(fail(format!("not printed: {e}"))),
    }
    let media = ctx.config.printer.media.clone();
    let options = crate::print_options::options(&ctx.config, None);
    let title = format!("fotobox-selftest-{id}");
    let req = PrintRequest {
        file: &file,
        copies: 1,
        media: &media,
        title: &title,
        options: &options,
    };
    let job = printer
        .submit(&req)
        .await
        .map_err(|e| fail(format!("the printer refused the test sheet: {e}")))?;
    let recorded = async {
        let mut tx = ctx.store.begin_write().await?;
        q::set_printer_job(&mut tx, id, &job).await?;
        tx.commit().await.map_err(StoreError::from)
    };
    recorded
        .await
        .map_err(|e| fail(format!("printed as {job}, but not recorded: {e}")))?;
    wait_printed(ctx, printer, id, &job).await?;
    Ok(job)
}

/// Draw the sheet for the printer's media and write it under `selftest/` in the data folder
/// (only the newest sheet is kept).
async fn sheet_file(
    ctx: &AppContext,
    printer: &Printer,
    id: i64,
) -> std::result::Result<std::path::PathBuf, String> {
    let set = photos::layouts(ctx)
        .await
        .map_err(|e| format!("the layouts cannot be read: {e}"))?;
    let layouts: Vec<_> = set.names().iter().filter_map(|n| set.get(n)).collect();
    let vars = photos::sample_text_vars(ctx);
    let media = ctx.config.printer.media.clone();
    let dpi = 300;
    let (width, height) = media_pixels(&media, dpi);
    let local = ctx.clock.now() + chrono::Duration::minutes(ctx.config.photos.utc_offset_minutes);
    let lines = vec![
        "Fotobox test print".to_string(),
        format!(
            "{} (UTC{:+}) · self-test {id}",
            local.format("%Y-%m-%d %H:%M"),
            ctx.config.photos.utc_offset_minutes as f64 / 60.0
        ),
        format!(
            "{} · media {media} · {width}x{height} px at {dpi} dpi",
            printer.describe()
        ),
        format!(
            "Edge lines 1 to {} mm in; the red one is {} mm",
            calibration::EDGE_MM,
            calibration::EDGE_MM
        ),
    ];
    let dir = ctx.data_dir.join("selftest");
    let path = dir.join(format!("test-print-{id}.jpg"));
    let target = path.clone();
    let _slot = ctx.heavy.compose().await;
    tokio::task::spawn_blocking(move || {
        let spec = SheetSpec {
            width,
            height,
            dpi,
            lines: &lines,
            layouts: &layouts,
            vars: &vars,
        };
        let img = calibration::calibration_sheet(&spec).map_err(|e| e.to_string())?;
        let jpeg =
            fotobox_render::compose::encode_jpeg(&img, 95, dpi).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if let Ok(old) = std::fs::read_dir(&dir) {
            for f in old.flatten() {
                let _ = std::fs::remove_file(f.path());
            }
        }
        fotobox_render::files::write_atomic(&target, &jpeg)
            .map_err(|e| format!("{}: {e}", target.display()))
    })
    .await
    .map_err(|e| format!("drawing the sheet failed: {e}"))??;
    Ok(path)
}

/// Follow the test sheet until the printer finishes it (`Ok`), loses it, or the job time limit
/// passes. While the printer reports a reason that stops printing, the run's summary says so
/// and it keeps waiting: the sheet prints once the printer is seen to.
async fn wait_printed(
    ctx: &AppContext,
    printer: &Printer,
    id: i64,
    job: &str,
) -> std::result::Result<(), Outcome> {
    let detail = json!({"printer": printer.describe(), "printer_job": job});
    let deadline = Instant::now() + Duration::from_secs(ctx.config.printer.job_timeout_seconds);
    let mut noted: Option<String> = None;
    loop {
        match printer.job_state(job).await {
            Ok(JobState::Done) => return Ok(()),
            Ok(JobState::Gone) => {
                return Err(Outcome::failed(
                    format!("the printer lost job {job} (cancelled at the printer?)"),
                    detail,
                ))
            }
            Ok(JobState::Pending) => {
                let now = match printer.status().await {
                    PrinterStatus::NotReady(why) => Some(why),
                    PrinterStatus::Ready => None,
                };
                if now != noted {
                    let summary = match &now {
                        Some(why) => format!("job {job} waits: {why}"),
                        None => format!("job {job} is printing"),
                    };
                    let _ = note(ctx, id, &summary).await;
                    noted = now;
                }
            }
            Err(_) => {}
        }
        if Instant::now() >= deadline {
            // Only a test: it must not take a sheet later that nobody counts.
            let cancelled = printer.cancel(job).await;
            // It may have finished just before the cancel: then it counts.
            if let Ok(JobState::Done) = printer.job_state(job).await {
                return Ok(());
            }
            let why = noted.map(|w| format!(" ({w})")).unwrap_or_default();
            let after = match cancelled {
                Ok(()) => "it was cancelled in CUPS".to_string(),
                Err(e) => format!("it could not be cancelled ({e}): it may still print, uncounted"),
            };
            return Err(Outcome::failed(
                format!(
                    "job {job} did not finish within {} s{why}; {after}",
                    ctx.config.printer.job_timeout_seconds
                ),
                detail,
            ));
        }
        tokio::time::sleep(Duration::from_millis(ctx.config.printer.poll_ms)).await;
    }
}

async fn note(ctx: &AppContext, id: i64, summary: &str) -> Result<()> {
    let mut tx = ctx.store.begin_write().await?;
    q::note(&mut tx, id, summary).await?;
    tx.commit().await?;
    Ok(())
}

// ------------------------------------------------------------------------------- camera

/// Longest error text from the page that is kept.
const MAX_PAGE_ERROR: usize = 300;

/// Record a camera test from the still the panel took (`jpeg`) and the time the capture took
/// on the page. A body that is not a picture is refused and changes nothing.
pub async fn camera(
    ctx: &AppContext,
    actor: Actor,
    jpeg: Vec<u8>,
    capture_ms: Option<u64>,
) -> Result<SelfTestView> {
    let ctx = ctx.clone();
    detached(async move { camera_now(&ctx, actor, jpeg, capture_ms).await }).await
}

async fn camera_now(
    ctx: &AppContext,
    actor: Actor,
    bytes: Vec<u8>,
    capture_ms: Option<u64>,
) -> Result<SelfTestView> {
    let (w, h) = tokio::task::spawn_blocking(move || fotobox_render::compose::check_jpeg(&bytes))
        .await
        .map_err(|e| SelfTestError::Internal(format!("the picture check stopped: {e}")))?
        .map_err(|e| SelfTestError::Invalid(format!("the camera test needs a JPEG still: {e}")))?;
    let set = photos::layouts(ctx)
        .await
        .map_err(|e| SelfTestError::Internal(format!("the layouts cannot be read: {e}")))?;
    let dpis = photos::still_dpis(&set, w, h);
    let low: Vec<String> = dpis
        .iter()
        .filter(|d| d.low)
        .map(|d| format!("{} {} dpi", d.title, d.dpi))
        .collect();
    let lowest = dpis.iter().min_by_key(|d| d.dpi);
    let took = capture_ms
        .map(|ms| format!(" in {ms} ms"))
        .unwrap_or_default();
    let (state, summary) = if !low.is_empty() {
        (
            q::WARNING,
            format!(
                "{w}x{h} still{took}; under {} dpi: {}",
                photos::LOW_DPI,
                low.join(", ")
            ),
        )
    } else if let Some(d) = lowest {
        (
            q::PASSED,
            format!(
                "{w}x{h} still{took}; lowest print resolution {} dpi ({})",
                d.dpi, d.title
            ),
        )
    } else {
        (q::PASSED, format!("{w}x{h} still{took}"))
    };
    let o = Outcome {
        state,
        summary,
        detail: json!({"width": w, "height": h, "capture_ms": capture_ms, "layouts": dpis}),
    };
    let row = begin(ctx, q::KIND_CAMERA, actor).await?;
    let started = Instant::now();
    finish(ctx, row.id, started, &o).await?;
    // Only the kiosk window's own camera is the kiosk's camera (a panel in a browser elsewhere
    // tests that machine's webcam).
    if actor == Actor::Pin(Client::Window) {
        maintenance::devices::camera_ok(ctx, w, h).await;
    }
    view(ctx, row.id).await
}

/// Record a camera test the page could not take (no camera, permission refused, no frame).
pub async fn camera_failed(
    ctx: &AppContext,
    actor: Actor,
    error: &str,
    capture_ms: Option<u64>,
) -> Result<SelfTestView> {
    let error: String = error
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_PAGE_ERROR)
        .collect();
    let error = if error.trim().is_empty() {
        "no reason given".to_string()
    } else {
        error
    };
    let row = begin(ctx, q::KIND_CAMERA, actor).await?;
    let o = Outcome::failed(
        format!("no still from the camera: {error}"),
        json!({"capture_ms": capture_ms}),
    );
    finish(ctx, row.id, Instant::now(), &o).await?;
    view(ctx, row.id).await
}

// ------------------------------------------------------------------------------- payment path

/// Fetch the public URL's `/healthz` through the tunnel now and record the round trip.
pub async fn payment_path(ctx: &AppContext, actor: Actor) -> Result<SelfTestView> {
    let ctx = ctx.clone();
    detached(async move { payment_path_now(&ctx, actor).await }).await
}

async fn payment_path_now(ctx: &AppContext, actor: Actor) -> Result<SelfTestView> {
    let row = begin(ctx, q::KIND_PAYMENT_PATH, actor).await?;
    let started = Instant::now();
    let o = match maintenance::tunnel::check_once(ctx).await {
        None => Outcome {
            state: q::SKIPPED,
            summary: "no server.public_url is set: Payme and Click cannot reach this kiosk \
                      (sandbox payments are made on the screen)"
                .into(),
            detail: json!({}),
        },
        Some(c) => {
            let url = ctx.config.server.public_url.clone().unwrap_or_default();
            let detail =
                json!({"url": url, "http_status": c.http_status, "latency_ms": c.latency_ms});
            if c.ok {
                Outcome {
                    state: q::PASSED,
                    summary: format!("{url}/healthz answered in {} ms", c.latency_ms),
                    detail,
                }
            } else {
                Outcome::failed(
                    format!(
                        "{url}/healthz: {} after {} ms; new payments are refused while the \
                         tunnel is down",
                        c.error.unwrap_or_else(|| "no answer".into()),
                        c.latency_ms
                    ),
                    detail,
                )
            }
        }
    };
    finish(ctx, row.id, started, &o).await?;
    view(ctx, row.id).await
}
