//! The printer's truth from a real CUPS (the private cupsd of `scripts/cupsd.sh`, a queue on a
//! backend that reports paper-out the way dye-sub backends do, error policy `retry-job`): the
//! sell gate follows `printer-state-reasons`, the kiosk returns to service by itself, warnings
//! reach staff without stopping sales, a job stuck behind a printer error is flagged at once,
//! and a paid order prints with its copies, media and options.

use std::time::{Duration, Instant};

use crate::common::{self, TestApp};
use crate::cups_support::TestQueue;
use crate::photos_support::{job_of, paid_order, payment_of, shots};
use fotobox_core::maintenance::devices;
use fotobox_core::orders::{self, OrderRequest};
use fotobox_core::photos::{self, Failpoint};
use fotobox_core::AppContext;
use fotobox_store::maintenance as mq;
use fotobox_store::model::Provider;

async fn open_alerts(ctx: &AppContext, kind: &str) -> Vec<mq::AlertRow> {
    mq::list_alerts(ctx.store.pool(), true, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.kind == kind)
        .collect()
}

fn order_request() -> OrderRequest {
    OrderRequest::Priced {
        provider: Provider::Payme,
        template: "strip".into(),
        copies: 1,
    }
}

/// Poll `readiness_now` until it says `ready` (up to `secs`); the last answer.
async fn wait_ready(ctx: &AppContext, ready: bool, secs: u64) -> photos::Readiness {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        let r = photos::readiness_now(ctx, 1).await.unwrap();
        if r.ready == ready || Instant::now() > until {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The reproduction: after one failed job the queue is idle, enabled and accepting
/// with `media-empty-error`. The kiosk must say not ready (no order, no QR), raise the printer
/// alert, and come back by itself once the printer prints again (the held job's retry reports
/// `-media-empty-error`), resolving the alert.
#[tokio::test]
async fn paper_out_on_real_cups_stops_sales_and_they_resume_by_themselves() {
    let queue = TestQueue::new();
    let app = TestApp::with_extra(&queue.config(50)).await;
    let ctx = &app.ctx;
    let r = photos::readiness_now(ctx, 1).await.unwrap();
    assert!(r.ready, "{r:?}");

    // The previous customer's print runs the printer out of paper.
    queue.set_paper("out");
    let doc = app.dir.path().join("doc.txt");
    std::fs::write(&doc, "the previous print").unwrap();
    queue.lp(&doc);
    let s = queue
        .wait_state(20, |s| {
            s.reasons.iter().any(|r| r == "media-empty-error") && s.state == "idle"
        })
        .await;
    assert_eq!(
        (s.state.as_str(), s.accepting, s.reasons.clone()),
        ("idle", true, vec!["media-empty-error".to_string()]),
        "{s:?}"
    );

    // Not ready: the page gets "printer", staff get the reason and the printer's message.
    let r = photos::readiness_now(ctx, 1).await.unwrap();
    assert!(!r.ready && !r.printer_ready, "{r:?}");
    let reason = r.reason.unwrap();
    assert!(reason.contains("media-empty-error"), "{reason}");
    assert!(reason.contains("Printer out of paper"), "{reason}");
    let (_, page) = common::send(app.api(), "GET", "/api/kiosk/readiness", None, None).await;
    assert_eq!(
        (page["ready"].as_bool(), page["reason"].as_str()),
        (Some(false), Some("printer")),
        "{page}"
    );
    // No money is taken: the order door refuses and keeps nothing.
    let before = ctx.store.count_payments().await.unwrap();
    let e = orders::create_order(ctx, order_request())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("out of service"), "{e}");
    assert_eq!(ctx.store.count_payments().await.unwrap(), before);
    // Staff hear of it.
    devices::check(ctx).await;
    let alerts = open_alerts(ctx, devices::PRINTER_ERROR).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(
        alerts[0].message.contains("media-empty-error"),
        "{alerts:?}"
    );

    // Paper loaded: CUPS retries the held job, the backend clears the reason; the kiosk sells
    // again without anyone touching it, and the alert resolves.
    queue.set_paper("ok");
    let r = wait_ready(ctx, true, 60).await;
    assert!(r.ready, "{r:?}");
    assert_eq!(queue.printed().len(), 1);
    devices::check(ctx).await;
    assert!(open_alerts(ctx, devices::PRINTER_ERROR).await.is_empty());
    orders::create_order(ctx, order_request()).await.unwrap();
}

/// `media-low` and a ribbon under its low level warn staff (alert, Devices page) while sales go
/// on; when the printer stops reporting them the alert resolves.
#[tokio::test]
async fn low_media_and_ribbon_warn_staff_without_stopping_sales() {
    let queue = TestQueue::new();
    let app = TestApp::with_extra(&queue.config(50)).await;
    let ctx = &app.ctx;
    queue.set_state_lines(&["+media-low-report"]);
    queue.set_attr_lines(&[
        "marker-names=Ribbon",
        "marker-types=ribbon-wax",
        "marker-levels=4",
        "marker-low-levels=10",
    ]);
    let doc = app.dir.path().join("doc.txt");
    std::fs::write(&doc, "a print").unwrap();
    queue.lp(&doc);
    queue
        .wait_state(20, |s| {
            s.reasons.iter().any(|r| r == "media-low-report") && !s.markers.is_empty()
        })
        .await;

    let r = photos::readiness_now(ctx, 1).await.unwrap();
    assert!(r.ready, "{r:?}");
    assert_eq!(
        r.printer_warnings,
        vec!["media-low-report".to_string(), "Ribbon at 4%".to_string()]
    );
    let cups = r.printer_state.clone().unwrap();
    assert_eq!(
        (cups.markers[0].name.as_str(), cups.markers[0].level),
        ("Ribbon", 4)
    );
    devices::check(ctx).await;
    let warn = open_alerts(ctx, devices::PRINTER_WARNING).await;
    assert_eq!(warn.len(), 1, "{warn:?}");
    assert_eq!(warn[0].severity, "warning");
    assert!(warn[0].message.contains("media-low-report"), "{warn:?}");
    assert!(open_alerts(ctx, devices::PRINTER_ERROR).await.is_empty());
    // The Devices page shows the queue's state.
    let (_, d) = common::send(
        app.api(),
        "GET",
        "/api/staff/devices",
        None,
        Some(common::STAFF_TOKEN),
    )
    .await;
    assert_eq!(d["printer"]["cups"]["markers"][0]["level"], 4, "{d}");
    assert_eq!(d["printer"]["warnings"][0], "media-low-report", "{d}");

    // Paper and ribbon replaced: the next job reports them gone.
    queue.set_state_lines(&["-media-low-report"]);
    queue.set_attr_lines(&["marker-levels=100"]);
    queue.lp(&doc);
    queue
        .wait_state(20, |s| {
            s.reasons.is_empty() && s.markers.first().is_some_and(|m| m.level == 100)
        })
        .await;
    let r = photos::readiness_now(ctx, 1).await.unwrap();
    assert!(r.ready && r.printer_warnings.is_empty(), "{r:?}");
    devices::check(ctx).await;
    assert!(open_alerts(ctx, devices::PRINTER_WARNING).await.is_empty());
}

/// A job that sits in `processing` while the printer reports paper out is flagged for staff
/// with that reason within seconds, not after the 10-minute job timeout; once the printer
/// prints it, the job is done and the flag resolves.
#[tokio::test]
async fn a_job_stuck_behind_a_printer_error_is_flagged_at_once() {
    let queue = TestQueue::new();
    let app = TestApp::with_extra(&queue.config(50)).await;
    let ctx = app.ctx.clone();
    assert_eq!(ctx.config.printer.job_timeout_seconds, 600);
    queue.set_paper("stuck");
    let order = paid_order(&ctx, "strip", 1).await;
    photos::hooks::create_photo_with(&ctx, &order, shots(4), Failpoint::default())
        .await
        .unwrap();
    let runner = {
        let ctx = ctx.clone();
        tokio::spawn(async move { photos::process_queue(&ctx).await.unwrap() })
    };
    let p = payment_of(&ctx, &order).await;
    let until = Instant::now() + Duration::from_secs(20);
    let flag = loop {
        let flags = ctx.store.open_flags().await.unwrap();
        if let Some(f) = flags.into_iter().find(|f| f.payment_id == p.id) {
            break f;
        }
        assert!(Instant::now() < until, "not flagged within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(flag.reason.contains("media-empty-error"), "{flag:?}");
    assert!(flag.reason.contains("is stuck"), "{flag:?}");
    assert_eq!(queue.unfinished_jobs().len(), 1, "the job is still at CUPS");
    let job = job_of(&ctx, &order).await;
    assert_eq!(job.state, "printing");
    assert!(job.last_error.unwrap().contains("media-empty-error"));

    // Paper loaded: the job prints, the order is fulfilled and the flag resolved.
    queue.set_paper("ok");
    let report = tokio::time::timeout(Duration::from_secs(30), runner)
        .await
        .expect("the queue finishes once the job prints")
        .unwrap();
    assert_eq!(report.printed, 1, "{report:?}");
    assert!(ctx
        .store
        .open_flags()
        .await
        .unwrap()
        .iter()
        .all(|f| f.payment_id != p.id));
    assert_eq!(queue.printed().len(), 1);
}

/// A job cancelled in CUPS (by staff at the CUPS page, or `cancel`) is not a print: CUPS keeps it
/// in its completed history, so `lpstat -W completed` lists it, but its `job-state` is canceled.
/// The order is flagged for a reprint, not fulfilled, and no paper is counted.
#[tokio::test]
async fn a_job_cancelled_in_cups_is_flagged_not_counted_as_printed() {
    let queue = TestQueue::new();
    let app = TestApp::with_extra(&queue.config(50)).await;
    let ctx = app.ctx.clone();
    queue.hold_new_jobs(true);
    let order = paid_order(&ctx, "strip", 2).await;
    photos::hooks::create_photo_with(&ctx, &order, shots(4), Failpoint::default())
        .await
        .unwrap();
    let runner = {
        let ctx = ctx.clone();
        tokio::spawn(async move { photos::process_queue(&ctx).await.unwrap() })
    };
    let jobs = queue.wait_jobs(1, 20).await;
    queue.cancel_job(&jobs[0]);
    let report = tokio::time::timeout(Duration::from_secs(30), runner)
        .await
        .expect("the queue gives up on the cancelled job")
        .unwrap();
    assert_eq!((report.printed, report.failed), (0, 1), "{report:?}");
    let p = payment_of(&ctx, &order).await;
    assert!(p.fulfilled_at.is_none(), "{p:?}");
    let flags = ctx.store.open_flags().await.unwrap();
    assert!(
        flags
            .iter()
            .any(|f| f.payment_id == p.id && f.reason.contains("lost job")),
        "{flags:?}"
    );
    assert_eq!(photos::paper(&ctx).await.unwrap().remaining, 50);
    assert!(queue.printed().is_empty());
}

/// A paid order's print goes through the real CUPS to the printer with its copies, the media
/// and options configured for its layout on this printer, and exactly the composite.
#[tokio::test]
async fn a_paid_order_prints_with_its_copies_media_and_options() {
    let queue = TestQueue::new();
    let extra = format!(
        "{}options = {{ StpLaminate = \"Glossy\", StpCutter = \"Off\" }}\n\
         [printer.layouts.strip]\nmedia = \"w288h432-div2\"\noptions = {{ StpCutter = \"On\" }}\n",
        queue.config(50)
    );
    let app = TestApp::with_extra(&extra).await;
    let ctx = &app.ctx;
    let order = paid_order(ctx, "strip", 2).await;
    let view = photos::hooks::create_photo_with(ctx, &order, shots(4), Failpoint::default())
        .await
        .unwrap();
    let report = photos::process_queue(ctx).await.unwrap();
    assert_eq!(report.printed, 1, "{report:?}");
    let printed = queue.printed();
    assert_eq!(printed.len(), 1, "{printed:?}");
    let line = &printed[0];
    for want in [
        "copies=2",
        "media=w288h432-div2",
        "StpCutter=On",
        "StpLaminate=Glossy",
    ] {
        assert!(line.contains(want), "{want} missing in {line}");
    }
    let n: u64 = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("job="))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        queue.document(n),
        std::fs::read(&view.composite_path).unwrap()
    );
    assert_eq!(photos::paper(ctx).await.unwrap().remaining, 48);
}
