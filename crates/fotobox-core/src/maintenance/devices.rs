//! Device checks that raise and resolve staff alerts and feed `/healthz`:
//! * the printer and its paper, from [`photos::readiness`] (every scheduler tick, and whenever
//!   the kiosk page asks for readiness): `printer_error`, `paper_out` (no print left after queued
//!   copies), `paper_low` (at most `alerts.paper_low_prints` left), `printer_warning` (CUPS
//!   reports `media-low`, `marker-supply-low` or another warning; printing goes on); the
//!   `printer` component. `printer_error` follows the printer's own state reasons
//!   ([`crate::printer_state`]): raised when one stops printing, resolved when they clear;
//! * free disk space of the data and backup folders against `alerts.disk_min_free_mb`:
//!   `disk_low` (every scheduler tick);
//! * the camera, which only the kiosk page can see: a staff call with reason `camera` reports it
//!   lost (`camera_lost`, component down), a shot uploaded afterwards reports it working.
//!
//! Failed print jobs raise `print_failed` from the print queue itself ([`photos::process_queue`]).

use crate::context::AppContext;
use crate::photos::{self, Readiness};

use super::alerts::{self, AlertKind};
use super::health::{disk_level, disk_space};
use crate::maintenance::state::Level;

/// Alert keys of the conditions watched here.
pub const PRINTER_ERROR: &str = "printer_error";
pub const PRINTER_WARNING: &str = "printer_warning";
pub const PAPER_OUT: &str = "paper_out";
pub const PAPER_LOW: &str = "paper_low";
pub const DISK_LOW: &str = "disk_low";
pub const CAMERA_LOST: &str = "camera_lost";

/// Follow a readiness answer: report the printer component and keep the printer and paper
/// alerts in step.
pub async fn observe_printer(ctx: &AppContext, r: &Readiness) {
    let low_at = ctx.config.alerts.paper_low_prints as i64;
    let left = r.paper_available;
    let out = left <= 0;
    let low = !out && low_at > 0 && left <= low_at;

    let printer_problem = (!r.printer_ready).then(|| {
        format!(
            "Printer error: {}. The kiosk is out of service until it is fixed.",
            r.reason.as_deref().unwrap_or("the printer is not ready")
        )
    });
    alerts::track(
        ctx,
        AlertKind::PrinterError,
        PRINTER_ERROR,
        printer_problem.as_deref(),
    )
    .await;
    let out_msg = out.then(|| {
        format!(
            "Paper is out ({left} prints left of a {}-print roll, after queued copies). Refill \
             the printer and reset the paper counter; the kiosk is out of service until then.",
            r.paper_roll_size
        )
    });
    alerts::track(ctx, AlertKind::PaperOut, PAPER_OUT, out_msg.as_deref()).await;
    let low_msg = low.then(|| {
        format!(
            "Paper is low: {left} prints left of a {}-print roll.",
            r.paper_roll_size
        )
    });
    alerts::track(ctx, AlertKind::PaperLow, PAPER_LOW, low_msg.as_deref()).await;
    let warn_msg = (r.printer_ready && !r.printer_warnings.is_empty()).then(|| {
        format!(
            "Printer warning: {}. Printing goes on; see to it soon.",
            r.printer_warnings.join(", ")
        )
    });
    alerts::track(
        ctx,
        AlertKind::Other(PRINTER_WARNING),
        PRINTER_WARNING,
        warn_msg.as_deref(),
    )
    .await;

    let (level, detail) = if !r.printer_ready {
        (
            Level::Down,
            r.reason.clone().unwrap_or_else(|| "not ready".to_string()),
        )
    } else if out {
        (Level::Down, format!("paper out ({left} prints left)"))
    } else if low {
        (Level::Degraded, format!("paper low: {left} prints left"))
    } else if !r.printer_warnings.is_empty() {
        (
            Level::Degraded,
            format!("{}; {left} prints left", r.printer_warnings.join(", ")),
        )
    } else {
        (Level::Ok, format!("ready; {left} prints left"))
    };
    ctx.maintenance.report_now(
        &ctx.clock,
        "printer",
        level,
        &format!("{}: {detail}", r.printer),
    );
}

/// Ask the printer and the paper counter now, then [`observe_printer`].
pub async fn check_printer(ctx: &AppContext) {
    match photos::readiness_now(ctx, 1).await {
        Ok(r) => observe_printer(ctx, &r).await,
        Err(e) => {
            tracing::warn!(error = %e, "printer check failed");
            ctx.maintenance.report_now(
                &ctx.clock,
                "printer",
                Level::Unknown,
                &format!("check failed: {e}"),
            );
        }
    }
}

/// Measure free space of the data and backup folders; raise `disk_low` while either is under
/// `alerts.disk_min_free_mb`, resolve it when both are above again.
pub async fn check_disk(ctx: &AppContext) {
    let min_mb = ctx.config.alerts.disk_min_free_mb;
    let backup_dir = super::backups::auto_dir(&ctx.config, &ctx.data_dir);
    let mut low = Vec::new();
    for (name, dir) in [("data", ctx.data_dir.clone()), ("backups", backup_dir)] {
        let probe = if dir.exists() {
            dir
        } else {
            ctx.data_dir.clone()
        };
        match disk_space(&probe).await {
            Some((free, _)) if disk_level(free, min_mb) != Level::Ok => {
                low.push(format!(
                    "{name} folder {}: {} MiB free",
                    probe.display(),
                    free / (1024 * 1024)
                ));
            }
            // Unmeasurable: leave the alert as it is (health shows the volume as unknown).
            None => return,
            Some(_) => {}
        }
    }
    let msg = (!low.is_empty()).then(|| {
        format!(
            "Disk space low (under {min_mb} MiB): {}. Free space or replace the disk.",
            low.join("; ")
        )
    });
    alerts::track(ctx, AlertKind::DiskLow, DISK_LOW, msg.as_deref()).await;
}

/// The kiosk page lost the camera (its staff call with reason `camera`).
pub async fn camera_lost(ctx: &AppContext, order_id: Option<&str>) {
    ctx.maintenance.report_now(
        &ctx.clock,
        "camera",
        Level::Down,
        "lost (reported by the kiosk page)",
    );
    let msg = format!(
        "Camera lost: the kiosk page cannot use the camera{}. Check the USB cable and the camera.",
        order_id
            .map(|o| format!(" during order {o}"))
            .unwrap_or_default()
    );
    alerts::track(ctx, AlertKind::CameraLost, CAMERA_LOST, Some(&msg)).await;
}

/// The kiosk page took a picture with the camera (a shot of `width` x `height` was uploaded).
pub async fn camera_ok(ctx: &AppContext, width: u32, height: u32) {
    ctx.maintenance.set_camera_still(width, height);
    ctx.maintenance.report_now(
        &ctx.clock,
        "camera",
        Level::Ok,
        &format!("working (last still {width}x{height})"),
    );
    alerts::track(ctx, AlertKind::CameraLost, CAMERA_LOST, None).await;
}

/// One round of the periodic device checks (the maintenance scheduler runs it).
pub async fn check(ctx: &AppContext) {
    check_printer(ctx).await;
    check_disk(ctx).await;
}
