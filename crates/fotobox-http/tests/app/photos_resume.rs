//! The paid-order guarantee: the pipeline is stopped after each step (as if the process were
//! killed), the app is reopened over the same data directory, and the resume routine must finish
//! the order: printed exactly once (one `lp` submission), paper counted once, order fulfilled;
//! or flagged for staff with the reason. The printer is a queue of the real private CUPS (see
//! `cups_support`): crash reconciliation reads real CUPS job ids and marks. Only "CUPS is down"
//! uses the fake `lpstat`.
#![allow(clippy::unwrap_used)]

use crate::common;
use crate::cups_support::TestQueue;
use crate::photos_support;

use common::TestApp;
use fotobox_core::photos::{self, Failpoint, PhotoError, ResumeMode, Step};
use fotobox_core::AppContext;
use fotobox_store::photos as q;
use photos_support::{paid_order, restart, shots, FakeCups};

async fn state(ctx: &AppContext, order: &str) -> (Option<String>, bool, i64) {
    let p = ctx.store.payment_by_order_id(order).await.unwrap().unwrap();
    let mut conn = ctx.store.pool().acquire().await.unwrap();
    let job = q::print_job_for_payment(&mut conn, p.id).await.unwrap();
    let roll = q::current_roll(&mut conn)
        .await
        .unwrap()
        .map(|r| r.remaining)
        .unwrap_or(-1);
    (job.map(|j| j.state), p.fulfilled_at.is_some(), roll)
}

async fn crash_during_create(step: Step) {
    let queue = TestQueue::new();
    let app = TestApp::with_extra(&queue.config(20)).await;
    let order = paid_order(&app.ctx, "grid", 2).await;
    let e = photos::hooks::create_photo_with(&app.ctx, &order, shots(4), Failpoint(Some(step)))
        .await
        .unwrap_err();
    assert!(matches!(e, PhotoError::Crashed(s) if s == step));
    let ctx = restart(app.ctx.clone()).await;
    let report = photos::resume(&ctx, ResumeMode::AtStart).await.unwrap();
    assert_eq!(report.queue.printed, 1, "{step:?}: {report:?}");
    assert_eq!(
        state(&ctx, &order).await,
        (Some("done".into()), true, 18),
        "{step:?}"
    );
    assert_eq!(queue.jobs().len(), 1, "{step:?}");
    assert_eq!(queue.printed().len(), 1, "{step:?}");
    assert!(ctx.store.open_flags().await.unwrap().is_empty());
    // Resume again: nothing more happens.
    let again = photos::resume(&ctx, ResumeMode::AtStart).await.unwrap();
    assert_eq!(again, Default::default());
    assert_eq!(queue.jobs().len(), 1);
}

#[tokio::test]
async fn crash_after_shots_saved() {
    crash_during_create(Step::ShotsSaved).await;
}

#[tokio::test]
async fn crash_after_composed() {
    crash_during_create(Step::Composed).await;
}

#[tokio::test]
async fn crash_after_recorded() {
    crash_during_create(Step::Recorded).await;
}

/// Stop the queue after `step`; `hold` keeps the job held at CUPS (not printed) until released
/// after the crash.
async fn crash_during_print(step: Step, hold: bool) {
    let queue = TestQueue::new();
    let app = TestApp::with_extra(&queue.config(20)).await;
    // Another order printed earlier, so the printer has older jobs (not to be mistaken for ours).
    let earlier = paid_order(&app.ctx, "postcard", 1).await;
    photos::hooks::create_photo_with(&app.ctx, &earlier, shots(1), Failpoint::default())
        .await
        .unwrap();
    photos::process_queue(&app.ctx).await.unwrap();
    let order = paid_order(&app.ctx, "postcard", 2).await;
    photos::hooks::create_photo_with(&app.ctx, &order, shots(1), Failpoint::default())
        .await
        .unwrap();
    queue.hold_new_jobs(hold);
    let e = photos::hooks::process_queue_with(&app.ctx, Failpoint(Some(step)))
        .await
        .unwrap_err();
    assert!(matches!(e, PhotoError::Crashed(s) if s == step));
    if hold {
        assert_eq!(queue.unfinished_jobs().len(), 1, "{step:?}: held at CUPS");
        queue.release_held();
    }
    let ctx = restart(app.ctx.clone()).await;
    let report = photos::resume(&ctx, ResumeMode::AtStart).await.unwrap();
    assert_eq!(report.queue.printed, 1, "{step:?}: {report:?}");
    assert_eq!(
        state(&ctx, &order).await,
        (Some("done".into()), true, 17),
        "{step:?}"
    );
    assert_eq!(
        (queue.jobs().len(), queue.printed().len()),
        (2, 2),
        "{step:?}: printed once (plus the earlier order)"
    );
    // The job the order recorded is the one CUPS printed after the earlier order's.
    let p = ctx
        .store
        .payment_by_order_id(&order)
        .await
        .unwrap()
        .unwrap();
    let mut conn = ctx.store.pool().acquire().await.unwrap();
    let job = q::print_job_for_payment(&mut conn, p.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        job.printer_job_id,
        Some(queue.job_id(queue.printed_jobs()[1])),
        "{step:?}"
    );
    assert!(ctx.store.open_flags().await.unwrap().is_empty());
}

#[tokio::test]
async fn crash_after_claim_before_lp_submits_once() {
    crash_during_print(Step::Claimed, false).await;
}

#[tokio::test]
async fn crash_between_lp_and_recording_the_job_id_adopts_the_job() {
    crash_during_print(Step::Submitted, false).await;
    crash_during_print(Step::Submitted, true).await;
}

#[tokio::test]
async fn crash_after_the_job_id_is_recorded_waits_for_that_job() {
    crash_during_print(Step::JobIdRecorded, true).await;
}

#[tokio::test]
async fn crash_after_the_printer_finished_counts_paper_once() {
    crash_during_print(Step::PrinterDone, false).await;
}

#[tokio::test]
async fn crash_between_lp_and_db_while_cups_is_down_waits_instead_of_resubmitting() {
    // Stays on the fake CUPS: CUPS down on demand would mean stopping the shared scheduler.
    let cups = FakeCups::new();
    let app = TestApp::with_extra(&cups.config(20)).await;
    let order = paid_order(&app.ctx, "postcard", 1).await;
    photos::hooks::create_photo_with(&app.ctx, &order, shots(1), Failpoint::default())
        .await
        .unwrap();
    photos::hooks::process_queue_with(&app.ctx, Failpoint(Some(Step::Submitted)))
        .await
        .unwrap_err();
    cups.set("lpstat-fail", true);
    let ctx = restart(app.ctx.clone()).await;
    let report = photos::resume(&ctx, ResumeMode::AtStart).await.unwrap();
    assert!(report.queue.waiting.is_some(), "{report:?}");
    assert_eq!(cups.lp_calls().len(), 1);
    cups.set("lpstat-fail", false);
    assert_eq!(
        photos::resume(&ctx, ResumeMode::AtStart)
            .await
            .unwrap()
            .queue
            .printed,
        1
    );
    assert_eq!(cups.lp_calls().len(), 1);
    assert_eq!(state(&ctx, &order).await, (Some("done".into()), true, 19));
}

#[tokio::test]
async fn paid_order_without_photos_is_flagged_at_start_but_not_while_capturing() {
    let app = TestApp::new().await;
    let order = paid_order(&app.ctx, "grid", 1).await;
    // While the kiosk runs, the customer may still be taking pictures.
    let r = photos::resume(&app.ctx, ResumeMode::Running).await.unwrap();
    assert_eq!(r.flagged, 0);
    app.ctx.clock.advance(chrono::Duration::minutes(16));
    let r = photos::resume(&app.ctx, ResumeMode::Running).await.unwrap();
    assert_eq!(r.flagged, 1);

    let order2 = paid_order(&app.ctx, "grid", 1).await;
    let ctx = restart(app.ctx.clone()).await;
    let r = photos::resume(&ctx, ResumeMode::AtStart).await.unwrap();
    assert_eq!(r.flagged, 1);
    let flags = ctx.store.open_flags().await.unwrap();
    assert_eq!(flags.len(), 2);
    assert!(flags
        .iter()
        .all(|f| f.reason.contains("no photos were taken") && f.suggested_action == "refund"));
    for o in [&order, &order2] {
        let p = ctx.store.payment_by_order_id(o).await.unwrap().unwrap();
        assert!(p.fulfilled_at.is_none());
        let events = ctx.store.events_for_payment(p.id).await.unwrap();
        assert!(events.iter().any(|e| e.kind == "flagged"));
    }
    // Flagged orders are not flagged again; the customer coming back settles the flag.
    assert_eq!(
        photos::resume(&ctx, ResumeMode::AtStart)
            .await
            .unwrap()
            .flagged,
        0
    );
    photos::hooks::create_photo_with(&ctx, &order2, shots(4), Failpoint::default())
        .await
        .unwrap();
    assert_eq!(ctx.store.open_flags().await.unwrap().len(), 1);
    assert_eq!(photos::process_queue(&ctx).await.unwrap().printed, 1);
}

#[tokio::test]
async fn lost_composite_is_composed_again_from_the_shots() {
    let app = TestApp::new().await;
    let order = paid_order(&app.ctx, "strip", 1).await;
    let view = photos::hooks::create_photo_with(
        &app.ctx,
        &order,
        shots(4),
        Failpoint(Some(Step::Recorded)),
    )
    .await
    .unwrap_err();
    assert!(matches!(view, PhotoError::Crashed(Step::Recorded)));
    let composite = app
        .dir
        .path()
        .join("orders")
        .join(&order)
        .join("composite.jpg");
    std::fs::remove_file(&composite).unwrap();
    let ctx = restart(app.ctx.clone()).await;
    assert_eq!(
        photos::resume(&ctx, ResumeMode::AtStart)
            .await
            .unwrap()
            .queue
            .printed,
        1
    );
    assert!(composite.is_file());
}

/// The kiosk uploaded every shot (into `incoming/`) and the process died before compose: the
/// next server start composes and prints the order by itself, exactly once.
#[tokio::test]
async fn server_start_finishes_an_order_whose_shots_were_uploaded() {
    let queue = TestQueue::new();
    let app = TestApp::with_extra(&queue.config(20)).await;
    let order = paid_order(&app.ctx, "grid", 1).await;
    for (i, s) in shots(4).into_iter().enumerate() {
        fotobox_core::kiosk::save_shot(&app.ctx, &order, i, s)
            .await
            .unwrap();
    }
    let ctx = restart(app.ctx.clone()).await;
    let server = fotobox_http::server::start(ctx.clone()).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if state(&ctx, &order).await == (Some("done".into()), true, 19) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not printed: {:?}",
            state(&ctx, &order).await
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!((queue.jobs().len(), queue.printed().len()), (1, 1));
    assert!(ctx.store.open_flags().await.unwrap().is_empty());
    server.shutdown().await;
}

/// A composition that takes the process down (the kernel's OOM killer) must not crash-loop the
/// kiosk: after two starts that each died composing the same order, the next start flags the
/// order for staff instead of composing it a third time.
#[tokio::test]
async fn a_composition_that_died_twice_is_flagged_not_retried() {
    let queue = TestQueue::new();
    let app = TestApp::with_extra(&queue.config(20)).await;
    let order = paid_order(&app.ctx, "grid", 1).await;
    // The customer's session: the process dies while composing.
    let e = photos::hooks::create_photo_with(
        &app.ctx,
        &order,
        shots(4),
        Failpoint(Some(Step::Composed)),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, PhotoError::Crashed(Step::Composed)));
    // The next start's resume dies composing it again.
    let ctx = restart(app.ctx.clone()).await;
    let e = photos::hooks::resume_with(&ctx, ResumeMode::AtStart, Failpoint(Some(Step::Composed)))
        .await
        .unwrap_err();
    assert!(matches!(e, PhotoError::Crashed(Step::Composed)));
    // The third start gives up on it: flagged, nothing composed or printed, the kiosk goes on.
    let ctx = restart(ctx).await;
    let report = photos::resume(&ctx, ResumeMode::AtStart).await.unwrap();
    assert_eq!((report.composed, report.flagged), (0, 1), "{report:?}");
    let flags = ctx.store.open_flags().await.unwrap();
    assert_eq!(flags.len(), 1);
    assert!(flags[0].reason.contains("failed twice"), "{:?}", flags[0]);
    assert!(queue.jobs().is_empty(), "{:?}", queue.jobs());
    let again = photos::resume(&ctx, ResumeMode::AtStart).await.unwrap();
    assert_eq!((again.composed, again.flagged), (0, 0), "{again:?}");
}
