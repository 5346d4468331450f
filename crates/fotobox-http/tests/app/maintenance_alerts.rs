//! Staff alerts through a local fake Telegram Bot API (de-duplication, retries, the token never
//! stored or logged), the background sender, the daily summary, the device checks that raise and
//! resolve printer, paper, disk and camera alerts (a queue of the real private CUPS, the kiosk
//! page's calls), and the health and metrics endpoints.
#![allow(clippy::unwrap_used)]

use crate::common;
use crate::cups_support::TestQueue;
use crate::maintenance_support;
use crate::photos_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use fotobox_core::maintenance::alerts::{self, AlertKind, Raised};
use fotobox_core::maintenance::{self, devices};
use fotobox_core::photos::{self, Failpoint};
use fotobox_core::AppContext;
use fotobox_store::maintenance as mq;
use maintenance_support::{app, context, fake_server};
use photos_support::{paid_order, shots};
use serde_json::{json, Value};

const TOKEN: &str = "123456:SECRET-BOT-TOKEN";

#[derive(Default, Clone)]
struct Bot {
    fail_next: Arc<AtomicUsize>,
    messages: Arc<Mutex<Vec<(String, Value)>>>,
}

async fn fake_telegram(bot: Bot) -> String {
    let router = Router::new().route(
        "/{bot}/sendMessage",
        post(move |Path(b): Path<String>, Json(body): Json<Value>| {
            let bot = bot.clone();
            async move {
                if bot.fail_next.load(Ordering::SeqCst) > 0 {
                    bot.fail_next.fetch_sub(1, Ordering::SeqCst);
                    return (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        Json(json!({"ok": false, "description": "Internal Server Error"})),
                    );
                }
                bot.messages.lock().unwrap().push((b, body));
                (
                    StatusCode::OK,
                    Json(json!({"ok": true, "result": {"message_id": 1}})),
                )
            }
        }),
    );
    fake_server(router).await.0
}

fn alerts_toml(base: &str) -> String {
    format!("[alerts]\ntelegram_bot_token = \"{TOKEN}\"\ntelegram_chat_id = \"-1001\"\ntelegram_api_url = \"{base}\"\n")
}

#[tokio::test]
async fn alerts_are_deduplicated_retried_and_never_leak_the_token() {
    let bot = Bot::default();
    let base = fake_telegram(bot.clone()).await;
    let t = app("", &alerts_toml(&base)).await;
    let ctx = &t.ctx;

    let first = alerts::raise(
        ctx,
        AlertKind::PrinterError,
        "printer_error",
        "Printer error: paper jam",
    )
    .await;
    let Raised::New(id) = first else {
        panic!("{first:?}")
    };
    assert_eq!(
        alerts::raise(
            ctx,
            AlertKind::PrinterError,
            "printer_error",
            "Printer error: paper jam"
        )
        .await,
        Raised::Repeat(id)
    );

    // The first send fails: retried later, the error stored without the token.
    bot.fail_next.store(1, Ordering::SeqCst);
    assert_eq!(alerts::deliver_pending(ctx).await.unwrap(), 0);
    let a = &mq::list_alerts(ctx.store.pool(), false, 10).await.unwrap()[0];
    assert_eq!(
        (a.id, a.occurrences, a.attempts, a.delivery.as_str()),
        (id, 2, 1, "pending")
    );
    let err = a.last_error.clone().unwrap();
    assert!(err.contains("500") && !err.contains("SECRET"), "{err}");
    assert!(a.next_attempt_at.unwrap() > ctx.clock.now());
    assert_eq!(
        alerts::deliver_pending(ctx).await.unwrap(),
        0,
        "not due yet"
    );

    ctx.clock.advance(chrono::Duration::seconds(31));
    assert_eq!(alerts::deliver_pending(ctx).await.unwrap(), 1);
    let msgs = bot.messages.lock().unwrap().clone();
    assert_eq!(msgs.len(), 1, "sent once despite two raises");
    assert_eq!(msgs[0].0, format!("bot{TOKEN}"));
    assert_eq!(msgs[0].1["chat_id"], "-1001");
    assert!(msgs[0].1["text"].as_str().unwrap().contains("paper jam"));
    let a = &mq::list_alerts(ctx.store.pool(), false, 10).await.unwrap()[0];
    assert_eq!(a.delivery, "sent");
    assert_eq!(alerts::deliver_pending(ctx).await.unwrap(), 0);

    // Still open after the repeat window: raised (and sent) again.
    ctx.clock.advance(chrono::Duration::hours(7));
    assert!(
        matches!(alerts::raise(ctx, AlertKind::PrinterError, "printer_error", "Printer error: paper jam").await, Raised::New(n) if n != id)
    );
    assert_eq!(alerts::deliver_pending(ctx).await.unwrap(), 1);
    // Given up after max_attempts: kept for the staff panel.
    bot.fail_next.store(100, Ordering::SeqCst);
    alerts::raise(ctx, AlertKind::CameraLost, "camera_lost", "Camera lost").await;
    for _ in 0..12 {
        alerts::deliver_pending(ctx).await.unwrap();
        ctx.clock.advance(chrono::Duration::hours(2));
    }
    let lost = mq::list_alerts(ctx.store.pool(), false, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.kind == "camera_lost")
        .unwrap();
    assert_eq!((lost.delivery.as_str(), lost.attempts), ("failed", 10));
}

#[tokio::test]
async fn the_running_server_sends_alerts_in_the_background() {
    let bot = Bot::default();
    let base = fake_telegram(bot.clone()).await;
    let t = app("", &alerts_toml(&base)).await;
    let server = t.serve().await;
    alerts::raise(&t.ctx, AlertKind::PaperOut, "paper_out", "Paper is out").await;
    let started = std::time::Instant::now();
    while bot.messages.lock().unwrap().is_empty() && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(bot.messages.lock().unwrap()[0].1["text"]
        .as_str()
        .unwrap()
        .contains("Paper is out"));
    server.shutdown().await;
}

#[tokio::test]
async fn without_a_bot_alerts_are_only_stored() {
    let t = common::TestApp::new().await;
    assert!(matches!(
        alerts::raise(&t.ctx, AlertKind::PaperLow, "paper_low", "Paper low").await,
        Raised::New(_)
    ));
    let a = &mq::list_alerts(t.ctx.store.pool(), true, 10).await.unwrap()[0];
    assert_eq!(
        (a.delivery.as_str(), a.severity.as_str()),
        ("skipped", "warning")
    );
    // Staff see and acknowledge it.
    let (s, body) = common::send(
        t.api(),
        "GET",
        "/api/maintenance/alerts?open=1",
        None,
        Some(common::STAFF_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["alerts"][0]["kind"], "paper_low");
    let (s, _) = common::send(t.api(), "GET", "/api/maintenance/alerts", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = common::send(
        t.api(),
        "POST",
        &format!("/api/maintenance/alerts/{}/ack", a.id),
        None,
        Some(common::STAFF_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(mq::list_alerts(t.ctx.store.pool(), true, 10)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn the_daily_summary_is_raised_once_after_its_time() {
    let t = app("", "[schedule]\ndaily_summary_time = \"22:00\"\n").await;
    let ctx = &t.ctx;
    t.order("payme", "strip", 1).await;
    // Move to one minute after the next 22:00 local.
    let now = ctx.clock.now();
    let slot = fotobox_core::clock::last_slot(
        now,
        chrono::NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
        ctx.config.schedule.offset(),
    );
    ctx.clock
        .advance(slot + chrono::Duration::days(1) + chrono::Duration::minutes(1) - now);
    alerts::summary_tick(ctx).await;
    alerts::summary_tick(ctx).await;
    let all = mq::list_alerts(ctx.store.pool(), false, 10).await.unwrap();
    let sums: Vec<_> = all.iter().filter(|a| a.kind == "daily_summary").collect();
    assert_eq!(sums.len(), 1, "{all:?}");
    assert!(
        sums[0].message.contains("Daily summary") && sums[0].message.contains("revenue"),
        "{}",
        sums[0].message
    );
}

#[tokio::test]
async fn health_reports_each_part_and_metrics_are_prometheus_text() {
    let t = common::TestApp::new().await;
    t.order("payme", "strip", 1).await;
    let (status, h) =
        common::send(t.api(), "GET", "/healthz", None, Some(common::STAFF_TOKEN)).await;
    assert_eq!(status, StatusCode::OK, "{h}");
    assert_eq!(h["database"]["status"], "ok");
    // Nothing has reported the devices yet.
    assert_eq!(h["camera"]["status"], "unknown");
    assert_eq!(h["printer"]["status"], "unknown");
    assert_eq!(h["tunnel"]["configured"], false);
    assert!(
        h["disk"]["volumes"][0]["free_bytes"].as_u64().is_some(),
        "{h}"
    );
    assert!(h["callbacks"]["payme"].is_object() && h["callbacks"]["click"].is_object());
    assert!(
        ["ok", "degraded"].contains(&h["status"].as_str().unwrap()),
        "{h}"
    );
    assert_eq!(h["accepting_payments"], true);

    // The scheduler's device check reports the printer (the test kiosk prints to a folder).
    maintenance::scheduler_tick(&t.ctx).await;
    let (_, h) = common::send(t.api(), "GET", "/healthz", None, Some(common::STAFF_TOKEN)).await;
    assert_eq!(h["printer"]["status"], "ok", "{h}");
    assert!(
        h["printer"]["detail"].as_str().unwrap().contains("ready"),
        "{h}"
    );
    assert_eq!(h["camera"]["status"], "unknown");

    // The kiosk page loses the camera and calls staff: the kiosk is down.
    let (s, _) = common::send(
        t.api(),
        "POST",
        "/api/kiosk/staff-call",
        Some(json!({"reason": "camera"})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (status, h) =
        common::send(t.api(), "GET", "/healthz", None, Some(common::STAFF_TOKEN)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(h["camera"]["status"], "down");
    assert_eq!(h["status"], "down");

    // The callback listener keeps its tiny health answer.
    let (status, tiny) = common::send(t.callbacks(), "GET", "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tiny, json!({"status": "ok"}));

    // A callback goes through the request middleware and is timed.
    let _ = common::send(t.callbacks(), "POST", "/api/click/prepare", None, None).await;
    let resp = tower::ServiceExt::oneshot(
        t.api(),
        axum::http::Request::builder()
            .uri("/metrics")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = String::from_utf8(
        http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(
        text.contains("fotobox_payments{provider=\"payme\",status=\"pending\"} 1"),
        "{text}"
    );
    assert!(text.contains("# TYPE fotobox_callback_duration_seconds histogram"));
    assert!(
        text.contains("fotobox_callback_duration_seconds_count{provider=\"click\"}"),
        "{text}"
    );
    assert!(text.contains("fotobox_accepting_payments 1"));
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let value = line.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "bad sample line {line:?}");
    }
}

async fn open_alerts(ctx: &AppContext, kind: &str) -> Vec<mq::AlertRow> {
    mq::list_alerts(ctx.store.pool(), true, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.kind == kind)
        .collect()
}

async fn health(t: &common::TestApp) -> Value {
    common::send(t.api(), "GET", "/healthz", None, Some(common::STAFF_TOKEN))
        .await
        .1
}

#[tokio::test]
async fn the_device_check_raises_and_resolves_printer_and_paper_alerts() {
    let queue = TestQueue::new();
    let t = common::TestApp::with_extra(&format!(
        "{}\n[alerts]\npaper_low_prints = 2\n",
        queue.config(5)
    ))
    .await;
    let ctx = &t.ctx;

    // All well: no alert, the printer is ok.
    devices::check(ctx).await;
    assert!(mq::list_alerts(ctx.store.pool(), true, 100)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(health(&t).await["printer"]["status"], "ok");

    // Staff paused the printer: one printer_error alert, however often the check runs.
    queue.pause("Paused by staff");
    devices::check(ctx).await;
    devices::check(ctx).await;
    let errs = open_alerts(ctx, "printer_error").await;
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].occurrences, 1);
    assert_eq!(errs[0].severity, "critical");
    assert!(errs[0].message.contains("paused"), "{}", errs[0].message);
    let h = health(&t).await;
    assert_eq!(h["printer"]["status"], "down", "{h}");
    assert!(h["printer"]["detail"].as_str().unwrap().contains("paused"));
    // Resumed: resolved.
    queue.resume();
    devices::check(ctx).await;
    assert!(open_alerts(ctx, "printer_error").await.is_empty());
    assert_eq!(health(&t).await["printer"]["status"], "ok");

    // 3 of 5 prints queued: 2 left, paper low (a warning; the printer part degraded).
    let order = paid_order(ctx, "postcard", 3).await;
    photos::hooks::create_photo_with(ctx, &order, shots(1), Failpoint::default())
        .await
        .unwrap();
    devices::check(ctx).await;
    let low = open_alerts(ctx, "paper_low").await;
    assert_eq!(low.len(), 1);
    assert_eq!(low[0].severity, "warning");
    assert!(
        low[0].message.contains("2 prints left"),
        "{}",
        low[0].message
    );
    assert_eq!(health(&t).await["printer"]["status"], "degraded");
    assert_eq!(photos::process_queue(ctx).await.unwrap().printed, 1);

    // The kiosk page's readiness check sees the roll run out: paper out replaces paper low.
    let order = paid_order(ctx, "postcard", 2).await;
    photos::hooks::create_photo_with(ctx, &order, shots(1), Failpoint::default())
        .await
        .unwrap();
    let (_, r) = common::send(t.api(), "GET", "/api/kiosk/readiness", None, None).await;
    assert_eq!(r["reason"], "paper", "{r}");
    let out = open_alerts(ctx, "paper_out").await;
    assert_eq!(out.len(), 1);
    assert!(
        out[0].message.contains("Paper is out"),
        "{}",
        out[0].message
    );
    assert!(open_alerts(ctx, "paper_low").await.is_empty());
    assert_eq!(health(&t).await["printer"]["status"], "down");

    // Staff refill: resolved at the next check.
    photos::reset_paper(ctx, Some(100)).await.unwrap();
    devices::check(ctx).await;
    assert!(open_alerts(ctx, "paper_out").await.is_empty());
    assert!(open_alerts(ctx, "paper_low").await.is_empty());
    assert_eq!(health(&t).await["printer"]["status"], "ok");
}

#[tokio::test]
async fn failed_print_jobs_raise_a_printer_alert_until_a_print_succeeds() {
    let queue = TestQueue::new();
    let t = common::TestApp::with_extra(&queue.config(50)).await;
    let ctx = &t.ctx;

    // The scheduler refuses the kiosk's `lp` (the queue itself looks fine).
    queue.refuse_jobs(true);
    let order = paid_order(ctx, "postcard", 1).await;
    photos::hooks::create_photo_with(ctx, &order, shots(1), Failpoint::default())
        .await
        .unwrap();
    let rep = photos::process_queue(ctx).await.unwrap();
    assert_eq!(rep.failed, 1, "{rep:?}");
    let failed = open_alerts(ctx, "printer_error").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].dedup_key, photos::PRINT_FAILED_ALERT);
    assert!(
        failed[0].message.contains("Not allowed to print"),
        "{}",
        failed[0].message
    );

    // The printer works again: the next good print closes the alert.
    queue.refuse_jobs(false);
    let order = paid_order(ctx, "postcard", 1).await;
    photos::hooks::create_photo_with(ctx, &order, shots(1), Failpoint::default())
        .await
        .unwrap();
    assert_eq!(photos::process_queue(ctx).await.unwrap().printed, 1);
    assert_eq!(queue.printed().len(), 1);
    assert!(open_alerts(ctx, "printer_error").await.is_empty());
}

#[tokio::test]
async fn the_kiosk_page_reports_the_camera_lost_and_working_again() {
    let t = common::TestApp::new().await;
    let ctx = &t.ctx;
    let order = paid_order(ctx, "postcard", 1).await;
    let (s, _) = common::send(
        t.api(),
        "POST",
        "/api/kiosk/staff-call",
        Some(json!({"order_id": order, "reason": "camera"})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let lost = open_alerts(ctx, "camera_lost").await;
    assert_eq!(lost.len(), 1);
    assert!(lost[0].message.contains(&order), "{}", lost[0].message);
    assert_eq!(health(&t).await["camera"]["status"], "down");
    // Other reasons say nothing about the camera.
    common::send(
        t.api(),
        "POST",
        "/api/kiosk/staff-call",
        Some(json!({"reason": "help"})),
        None,
    )
    .await;
    assert_eq!(open_alerts(ctx, "camera_lost").await[0].occurrences, 1);

    // The page uploads a shot: the camera works again.
    let req = axum::http::Request::builder()
        .method("POST")
        .uri(format!("/api/kiosk/orders/{order}/shots/0"))
        .header("content-type", "image/png")
        .body(axum::body::Body::from(shots(1).remove(0)))
        .unwrap();
    let (s, _) = common::send_raw(t.api(), req).await;
    assert_eq!(s, StatusCode::OK);
    assert!(open_alerts(ctx, "camera_lost").await.is_empty());
    let h = health(&t).await;
    assert_eq!(h["camera"]["status"], "ok", "{h}");
}

#[tokio::test]
async fn disk_low_is_raised_from_the_measured_free_space_and_resolved() {
    // No disk has a petabyte free: the measured space is under the minimum.
    let t = app("", "[alerts]\ndisk_min_free_mb = 1000000000\n").await;
    devices::check_disk(&t.ctx).await;
    devices::check_disk(&t.ctx).await;
    let low = open_alerts(&t.ctx, "disk_low").await;
    assert_eq!(low.len(), 1);
    assert_eq!(low[0].occurrences, 1);
    assert!(low[0].message.contains("data folder"), "{}", low[0].message);

    // Restarted with a minimum every disk meets: the first check resolves it.
    let ctx = context(t.dir.path(), "", "[alerts]\ndisk_min_free_mb = 1\n").await;
    devices::check_disk(&ctx).await;
    assert!(open_alerts(&ctx, "disk_low").await.is_empty());
}
