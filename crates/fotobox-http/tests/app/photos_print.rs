//! The print queue against the real private CUPS (one test queue each, see `cups_support`): one
//! job per order with its copies, repeated taps, `lp` refusals retried and never printed twice,
//! held and lost jobs, readiness and the paper counter. The fake `lp`/`lpstat` remain for CUPS
//! being down and for counting the printer questions.
#![allow(clippy::unwrap_used)]

use crate::common;
use crate::cups_support::TestQueue;
use crate::photos_support;

use common::TestApp;
use fotobox_core::orders::{self, OrderRequest};
use fotobox_core::photos::{self, Failpoint};
use fotobox_store::model::Provider;
use photos_support::{job_of, paid_order, shots, FakeCups};

#[tokio::test]
async fn a_paid_order_prints_once_with_its_copies_and_is_fulfilled() {
    let queue = TestQueue::new();
    let app = TestApp::with_extra(&queue.config(50)).await;
    let order = paid_order(&app.ctx, "strip", 3).await;
    let view = photos::hooks::create_photo_with(&app.ctx, &order, shots(4), Failpoint::default())
        .await
        .unwrap();
    assert_eq!(view.copies, 3);
    assert_eq!(view.print.as_ref().unwrap().state, "queued");
    // Repeated taps: the same record, no second job.
    let again = photos::hooks::create_photo_with(&app.ctx, &order, shots(4), Failpoint::default())
        .await
        .unwrap();
    assert_eq!(again.photo_id, view.photo_id);
    let report = photos::process_queue(&app.ctx).await.unwrap();
    assert_eq!(report.printed, 1);
    // One job at CUPS; the printer got the composite, 3 copies, the media, the job's title.
    assert_eq!(queue.jobs().len(), 1, "{:?}", queue.jobs());
    let printed = queue.printed();
    assert_eq!(printed.len(), 1, "{printed:?}");
    for want in [" copies=3 ", " title=fotobox-", "media=4x6"] {
        assert!(
            printed[0].contains(want),
            "{want} missing in {}",
            printed[0]
        );
    }
    let n = queue.printed_jobs()[0];
    assert_eq!(
        queue.document(n),
        std::fs::read(&view.composite_path).unwrap()
    );
    let job = job_of(&app.ctx, &order).await;
    assert_eq!(
        (
            job.state.as_str(),
            job.attempts,
            job.printer_job_id.as_deref()
        ),
        ("done", 1, Some(queue.job_id(n).as_str()))
    );
    let p = app
        .ctx
        .store
        .payment_by_order_id(&order)
        .await
        .unwrap()
        .unwrap();
    assert!(p.fulfilled_at.is_some());
    assert_eq!(photos::paper(&app.ctx).await.unwrap().remaining, 47);
    // Running the queue again prints nothing more.
    photos::process_queue(&app.ctx).await.unwrap();
    assert_eq!(queue.jobs().len(), 1);
    let again = photos::hooks::create_photo_with(&app.ctx, &order, shots(4), Failpoint::default())
        .await
        .unwrap();
    assert_eq!(again.print.unwrap().state, "done");
    assert_eq!(queue.jobs().len(), 1);
    assert_eq!(queue.printed().len(), 1);
    // Photo record links the composite to the payment.
    let photos = app.ctx.store.photos_for_payment(p.id).await.unwrap();
    assert_eq!(photos.len(), 1);
    assert_eq!(
        (photos[0].template_name.as_str(), photos[0].copy_count),
        ("strip", 3)
    );
    assert!(photos[0]
        .composite_path
        .as_deref()
        .unwrap()
        .contains(&format!("orders/{order}/composite.jpg")));
}

#[tokio::test]
async fn concurrent_taps_queue_one_job() {
    let queue = TestQueue::new();
    let app = TestApp::with_extra(&queue.config(50)).await;
    let order = paid_order(&app.ctx, "postcard", 1).await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let ctx = app.ctx.clone();
        let o = order.clone();
        set.spawn(async move {
            photos::hooks::create_photo_with(&ctx, &o, shots(1), Failpoint::default()).await
        });
    }
    let mut ids = Vec::new();
    while let Some(r) = set.join_next().await {
        ids.push(r.unwrap().unwrap().photo_id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let p = app
        .ctx
        .store
        .payment_by_order_id(&order)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        app.ctx.store.photos_for_payment(p.id).await.unwrap().len(),
        1
    );
}

/// The scheduler refuses the kiosk's `lp` (the user is denied on the queue) while the queue
/// itself is idle, enabled and accepting: each refusal is retried, the third flags the order,
/// nothing reaches the printer; one refusal then success prints exactly once.
#[tokio::test]
async fn lp_failures_are_retried_then_flagged_and_never_print_twice() {
    let queue = TestQueue::new();
    // Room between the retries to let the scheduler accept again after one refusal.
    let config =
        format!("{}max_attempts = 3\n", queue.config(50)).replace("poll_ms = 100", "poll_ms = 400");
    let app = TestApp::with_extra(&config).await;
    let order = paid_order(&app.ctx, "postcard", 2).await;
    photos::hooks::create_photo_with(&app.ctx, &order, shots(1), Failpoint::default())
        .await
        .unwrap();
    queue.refuse_jobs(true);
    let report = photos::process_queue(&app.ctx).await.unwrap();
    assert_eq!((report.failed, report.requeued), (1, 2));
    assert!(queue.jobs().is_empty(), "{:?}", queue.jobs());
    let job = job_of(&app.ctx, &order).await;
    assert_eq!((job.state.as_str(), job.attempts), ("failed", 3));
    assert!(
        job.last_error
            .as_deref()
            .unwrap()
            .contains("Not allowed to print"),
        "{job:?}"
    );
    let p = app
        .ctx
        .store
        .payment_by_order_id(&order)
        .await
        .unwrap()
        .unwrap();
    assert!(p.fulfilled_at.is_none(), "a refund stays possible");
    let flags = app.ctx.store.open_flags().await.unwrap();
    assert_eq!(flags.len(), 1);
    assert!(
        flags[0].reason.contains("refused the job 3 times"),
        "{}",
        flags[0].reason
    );
    assert_eq!(photos::paper(&app.ctx).await.unwrap().remaining, 50);

    // One refusal then success: printed once.
    let order2 = paid_order(&app.ctx, "postcard", 1).await;
    photos::hooks::create_photo_with(&app.ctx, &order2, shots(1), Failpoint::default())
        .await
        .unwrap();
    let ctx = app.ctx.clone();
    let run = tokio::spawn(async move { photos::process_queue(&ctx).await });
    let started = std::time::Instant::now();
    while job_of(&app.ctx, &order2).await.last_error.is_none() {
        assert!(started.elapsed().as_secs() < 10, "never refused");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    queue.refuse_jobs(false);
    run.await.unwrap().unwrap();
    let job = job_of(&app.ctx, &order2).await;
    assert_eq!((job.state.as_str(), job.attempts), ("done", 2));
    assert_eq!(queue.jobs().len(), 1);
    assert_eq!(queue.printed().len(), 1);
}

#[tokio::test]
async fn readiness_follows_the_printer_and_the_paper() {
    let queue = TestQueue::new();
    let app = TestApp::with_extra(&queue.config(5)).await;
    let r = photos::readiness(&app.ctx, 1).await.unwrap();
    assert!(r.ready, "{r:?}");
    assert_eq!((r.paper_available, r.paper_roll_size), (5, 5));

    queue.pause("Paused by staff");
    // The order door asks the printer now; the page's readiness may reuse a state for a moment.
    let r = photos::readiness_now(&app.ctx, 1).await.unwrap();
    assert!(!r.ready);
    assert_eq!(
        r.reason.as_deref(),
        Some(format!("printer {}: paused (Paused by staff)", queue.name).as_str())
    );
    // The order door refuses too (no QR, no row), whatever the page checked.
    let before = app.ctx.store.count_payments().await.unwrap();
    let e = orders::create_order(
        &app.ctx,
        OrderRequest::Priced {
            provider: Provider::Payme,
            template: "strip".into(),
            copies: 1,
        },
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("out of service"), "{e}");
    assert_eq!(app.ctx.store.count_payments().await.unwrap(), before);
    queue.resume();
    // A queue that does not accept jobs: not ready either.
    queue.set_accepting(false);
    let r = photos::readiness_now(&app.ctx, 1).await.unwrap();
    assert!(
        !r.ready && r.reason.as_deref().unwrap().contains("not accepting jobs"),
        "{r:?}"
    );
    queue.set_accepting(true);
    assert!(photos::readiness_now(&app.ctx, 1).await.unwrap().ready);

    // A queued job's copies count against the paper before they print.
    let order = paid_order(&app.ctx, "postcard", 3).await;
    photos::hooks::create_photo_with(&app.ctx, &order, shots(1), Failpoint::default())
        .await
        .unwrap();
    let r = photos::readiness(&app.ctx, 3).await.unwrap();
    assert!(!r.ready);
    assert_eq!(
        r.reason.as_deref(),
        Some("paper: 2 prints left, the order needs 3")
    );
    assert!(photos::readiness(&app.ctx, 2).await.unwrap().ready);
    let priced = |copies| OrderRequest::Priced {
        provider: Provider::Click,
        template: "strip".into(),
        copies,
    };
    let e = orders::create_order(&app.ctx, priced(3)).await.unwrap_err();
    assert!(e.to_string().contains("paper: 2 prints left"), "{e}");
    orders::create_order(&app.ctx, priced(2)).await.unwrap();

    // A paused printer holds the queue (nothing submitted), then prints when resumed.
    queue.pause("Paused by staff");
    let rep = photos::process_queue(&app.ctx).await.unwrap();
    assert!(rep.waiting.unwrap().contains("paused"));
    assert!(queue.jobs().is_empty(), "{:?}", queue.jobs());
    queue.resume();
    assert_eq!(photos::process_queue(&app.ctx).await.unwrap().printed, 1);
    assert_eq!(queue.printed().len(), 1);
    assert_eq!(photos::paper(&app.ctx).await.unwrap().remaining, 2);
    assert!(!photos::readiness(&app.ctx, 3).await.unwrap().ready);

    // Staff refill.
    let roll = photos::reset_paper(&app.ctx, Some(700)).await.unwrap();
    assert_eq!(
        (roll.roll_size, roll.remaining, roll.reset_by.as_str()),
        (700, 700, "staff")
    );
    assert!(photos::readiness(&app.ctx, 3).await.unwrap().ready);

    // A queue CUPS does not know: not ready.
    let gone =
        TestApp::with_extra(&queue.config(5).replace(&queue.name, "FotoboxNoSuchQueue")).await;
    let r = photos::readiness_now(&gone.ctx, 1).await.unwrap();
    assert!(!r.ready, "{r:?}");
}

/// CUPS down (the scheduler does not answer). Stays on the fake `lpstat`: stopping the real
/// private scheduler would disturb every other test using it.
#[tokio::test]
async fn readiness_is_not_ready_while_cups_is_down() {
    let cups = FakeCups::new();
    let app = TestApp::with_extra(&cups.config(5)).await;
    assert!(photos::readiness_now(&app.ctx, 1).await.unwrap().ready);
    cups.set("lpstat-fail", true);
    let r = photos::readiness_now(&app.ctx, 1).await.unwrap();
    assert!(!r.ready && r.reason.unwrap().contains("scheduler is not running"));
}

/// A job held at CUPS (the queue holds new jobs) keeps the order printing until released; a
/// job lost at the printer (cancelled and purged from CUPS) is flagged, never submitted again.
#[tokio::test]
async fn held_job_waits_and_a_lost_job_is_flagged_not_resubmitted() {
    let queue = TestQueue::new();
    let app = TestApp::with_extra(&queue.config(50)).await;
    let order = paid_order(&app.ctx, "grid", 1).await;
    photos::hooks::create_photo_with(&app.ctx, &order, shots(4), Failpoint::default())
        .await
        .unwrap();
    queue.hold_new_jobs(true);
    let ctx = app.ctx.clone();
    let run = tokio::spawn(async move { photos::process_queue(&ctx).await });
    queue.wait_jobs(1, 10).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(job_of(&app.ctx, &order).await.state, "printing");
    assert_eq!(queue.unfinished_jobs().len(), 1);
    assert!(queue.printed().is_empty());
    queue.release_held();
    assert_eq!(run.await.unwrap().unwrap().printed, 1);
    assert_eq!(job_of(&app.ctx, &order).await.state, "done");
    assert_eq!(queue.printed().len(), 1);

    // A job the printer forgets (cancelled at the printer) is flagged, never printed again.
    // The queue still holds new jobs, so this one waits at CUPS until it is purged.
    let order2 = paid_order(&app.ctx, "grid", 1).await;
    photos::hooks::create_photo_with(&app.ctx, &order2, shots(4), Failpoint::default())
        .await
        .unwrap();
    let ctx = app.ctx.clone();
    let run = tokio::spawn(async move { photos::process_queue(&ctx).await });
    let jobs = queue.wait_jobs(2, 10).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(job_of(&app.ctx, &order2).await.state, "printing");
    queue.purge_jobs();
    assert_eq!(run.await.unwrap().unwrap().failed, 1);
    assert!(queue.jobs().is_empty(), "resubmitted: {:?}", queue.jobs());
    assert_eq!(queue.printed().len(), 1);
    let flags = app.ctx.store.open_flags().await.unwrap();
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert!(
        flags[0].reason.contains(&format!("lost job {}", jobs[1])),
        "{}",
        flags[0].reason
    );
}

#[tokio::test]
async fn folder_printer_is_the_sandbox_default() {
    let app = TestApp::new().await;
    let order = paid_order(&app.ctx, "strip", 2).await;
    photos::hooks::create_photo_with(&app.ctx, &order, shots(4), Failpoint::default())
        .await
        .unwrap();
    assert!(photos::readiness(&app.ctx, 2)
        .await
        .unwrap()
        .printer
        .starts_with("folder:"));
    assert_eq!(photos::process_queue(&app.ctx).await.unwrap().printed, 1);
    let out: Vec<_> = std::fs::read_dir(app.dir.path().join("print-out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(out.len(), 1);
    assert!(
        out[0].starts_with(&format!("fotobox-{order}-")) && out[0].ends_with("-x2.jpg"),
        "{out:?}"
    );
    let img = image::open(app.dir.path().join("print-out").join(&out[0])).unwrap();
    assert_eq!((img.width(), img.height()), (1200, 1800));
}

#[tokio::test]
async fn unpaid_orders_and_wrong_shots_are_refused() {
    let app = TestApp::new().await;
    let v = fotobox_core::orders::create_order(
        &app.ctx,
        fotobox_core::orders::OrderRequest::Priced {
            provider: fotobox_store::model::Provider::Click,
            template: "grid".into(),
            copies: 1,
        },
    )
    .await
    .unwrap();
    let e = photos::hooks::create_photo_with(&app.ctx, &v.order_id, shots(4), Failpoint::default())
        .await
        .unwrap_err();
    assert!(matches!(e, photos::PhotoError::Conflict(_)), "{e}");
    let e = photos::hooks::create_photo_with(&app.ctx, "NOPE-NOPE", shots(4), Failpoint::default())
        .await
        .unwrap_err();
    assert!(matches!(e, photos::PhotoError::NotFound(_)), "{e}");
    let order = paid_order(&app.ctx, "grid", 1).await;
    let e = photos::hooks::create_photo_with(&app.ctx, &order, shots(3), Failpoint::default())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("takes 4 pictures, got 3"), "{e}");
    let e = photos::hooks::create_photo_with(
        &app.ctx,
        &order,
        vec![b"junk".to_vec(); 4],
        Failpoint::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, photos::PhotoError::Invalid(_)), "{e}");
}

/// With print jobs in the queue, `/metrics` keeps each metric family's samples together, as the
/// Prometheus text format requires (a scraper rejects interleaved families).
#[tokio::test]
async fn metrics_keep_each_family_together_with_print_jobs() {
    let queue = TestQueue::new();
    let app = TestApp::with_extra(&queue.config(50)).await;
    for copies in [1, 2] {
        let order = paid_order(&app.ctx, "postcard", copies).await;
        photos::hooks::create_photo_with(&app.ctx, &order, shots(1), Failpoint::default())
            .await
            .unwrap();
    }
    assert_eq!(photos::process_queue(&app.ctx).await.unwrap().printed, 2);
    let text = fotobox_core::maintenance::metrics::render(&app.ctx).await;
    let mut seen: Vec<String> = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let sample = line.split(['{', ' ']).next().unwrap();
        // A histogram's _bucket/_sum/_count samples belong to one family.
        let name = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| sample.strip_suffix(s))
            .unwrap_or(sample)
            .to_string();
        if seen.last() != Some(&name) {
            assert!(!seen.contains(&name), "{name} is interleaved:\n{text}");
            seen.push(name);
        }
    }
    assert!(
        text.contains("fotobox_print_jobs{state=\"done\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("fotobox_print_copies{state=\"done\"} 3"),
        "{text}"
    );
}

/// The page asks for readiness every few seconds and on every screen: the printer is asked at
/// most once per `printer.status_cache_ms`, and concurrent askers share one question.
#[tokio::test]
async fn readiness_asks_the_printer_at_most_once_per_cache_period() {
    // Stays on the fake `lpstat`: the test counts the calls to the command itself.
    let cups = FakeCups::new();
    let app = TestApp::with_extra(&format!("{}status_cache_ms = 60000\n", cups.config(5))).await;
    let before = cups.lpstat_calls().len();
    let asks: Vec<_> = (0..20)
        .map(|_| {
            let ctx = app.ctx.clone();
            tokio::spawn(async move { photos::readiness(&ctx, 1).await.unwrap().ready })
        })
        .collect();
    for a in asks {
        assert!(a.await.unwrap());
    }
    let printer_questions = cups.lpstat_calls().len() - before;
    assert!(
        (1..=2).contains(&printer_questions),
        "lpstat ran {printer_questions} times for 20 readiness checks"
    );
    // The order door does not trust the cache: a paused printer refuses money at once.
    cups.set("paused", true);
    assert!(
        photos::readiness(&app.ctx, 1).await.unwrap().ready,
        "cached"
    );
    assert!(!photos::readiness_now(&app.ctx, 1).await.unwrap().ready);
    assert!(
        !photos::readiness(&app.ctx, 1).await.unwrap().ready,
        "refreshed"
    );
}
