//! The staff's self-tests on the Devices page: a test print through a real CUPS queue (the
//! private cupsd, the dye-sub stand-in backend), refused when no print can come out, counted on
//! the paper counter, and as one 4x6 page out of a cups-pdf queue; the camera test from an
//! uploaded still; the payment path's round trip through a public URL; all behind the staff
//! credential, one run of a kind at a time.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;

use crate::common::{send, send_raw, TestApp, STAFF_TOKEN};
use crate::cups_support::TestQueue;
use crate::maintenance_support;
use crate::photos_support::shot;
use fotobox_core::photos;

/// Poll the newest test print until it is no longer running.
async fn print_result(app: &TestApp, secs: u64) -> Value {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        let (s, v) = app.as_staff("GET", "/api/staff/selftest", None).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let print = v["tests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["kind"] == "print")
            .cloned()
            .unwrap();
        if print["state"] != "running" || Instant::now() > until {
            return print;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM staff_audit WHERE action = ?")
        .bind(action)
        .fetch_one(app.ctx.store.pool())
        .await
        .unwrap()
}

async fn start_print(app: &TestApp) -> (StatusCode, Value) {
    app.as_staff("POST", "/api/staff/selftest/print", None)
        .await
}

#[tokio::test]
async fn a_test_print_goes_through_real_cups_and_counts_on_the_paper_counter() {
    let queue = TestQueue::new();
    let app = TestApp::with_extra(&queue.config(40)).await;
    // The printer runs out as the sheet arrives: the backend reports media-empty-error and holds
    // the job, as a dye-sub printer waits for a new roll.
    queue.set_paper("stuck");
    let (s, v) = start_print(&app).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["test"]["state"], "running", "{v}");
    let id = v["test"]["id"].as_i64().unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    let waiting = loop {
        let t = fotobox_core::selftest::get(&app.ctx, id)
            .await
            .unwrap()
            .unwrap();
        if t.summary.contains("waits") || Instant::now() > until {
            break t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(waiting.state, "running");
    // While it waits, the sheet is reserved: the order door sees one print less.
    let r = photos::readiness(&app.ctx, 1).await.unwrap();
    assert_eq!(r.paper_available, 39, "{r:?}");
    assert!(
        waiting.summary.contains("media-empty-error"),
        "{}",
        waiting.summary
    );
    // A second tap while it prints is refused and starts nothing.
    let (s2, v2) = start_print(&app).await;
    assert_eq!(s2, StatusCode::CONFLICT, "{v2}");
    assert_eq!(photos::paper(&app.ctx).await.unwrap().remaining, 40);
    // Paper loaded: the sheet comes out and the test passes.
    queue.set_paper("ok");
    let r = print_result(&app, 30).await;
    assert_eq!(r["state"], "passed", "{r}");
    assert_eq!(r["id"], id);
    let job = r["printer_job"].as_str().unwrap().to_string();
    assert!(job.starts_with(&queue.name), "{job}");
    assert!(r["duration_ms"].as_i64().unwrap() > 0);
    // What reached the printer is the calibration sheet the kiosk drew, 4x6 at 300 dpi.
    let printed = queue.printed();
    assert_eq!(printed.len(), 1, "{printed:?}");
    assert!(printed[0].contains("copies=1"), "{}", printed[0]);
    let n: u64 = job.rsplit('-').next().unwrap().parse().unwrap();
    let doc = queue.document(n);
    let sheet = image::load_from_memory(&doc).unwrap();
    assert_eq!((sheet.width(), sheet.height()), (1200, 1800));
    let sheet_file = app.dir.path().join(format!("selftest/test-print-{id}.jpg"));
    assert_eq!(doc, std::fs::read(sheet_file).unwrap());
    // Counted: one print off the roll, in the audit trail, and the summary says what is left.
    assert_eq!(photos::paper(&app.ctx).await.unwrap().remaining, 39);
    assert_eq!(audit_count(&app, "test_print").await, 1);
    assert!(
        r["summary"].as_str().unwrap().contains("39 prints left"),
        "{r}"
    );
}

#[tokio::test]
async fn a_test_print_is_refused_when_no_print_can_come_out_and_nothing_is_counted() {
    let queue = TestQueue::new();
    let app = TestApp::with_extra(&queue.config(40)).await;
    // Paper out, reported the dye-sub way after one failed job: the queue stays idle and
    // accepting with `media-empty-error`.
    queue.set_paper("out");
    let probe = app.dir.path().join("probe.jpg");
    std::fs::write(&probe, shot(64, 64, [9, 9, 9])).unwrap();
    queue.lp(&probe);
    queue
        .wait_state(20, |s| s.reasons.iter().any(|r| r == "media-empty-error"))
        .await;
    let before = queue.printed().len();
    let (s, v) = start_print(&app).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["test"]["state"], "failed", "{v}");
    let summary = v["test"]["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("not printed:") && summary.contains("media-empty"),
        "{summary}"
    );
    assert!(v["test"]["printer_job"].is_null());
    assert_eq!(queue.printed().len(), before);
    assert_eq!(photos::paper(&app.ctx).await.unwrap().remaining, 40);
    assert_eq!(audit_count(&app, "test_print").await, 0);

    // An empty paper counter refuses it too, even with a ready printer.
    let queue2 = TestQueue::new();
    let app2 = TestApp::with_extra(&queue2.config(1)).await;
    let mut tx = app2.ctx.store.begin_write().await.unwrap();
    fotobox_store::photos::insert_roll(&mut tx, 1, "test", app2.ctx.clock.now())
        .await
        .unwrap();
    fotobox_store::photos::use_paper(&mut tx, 1).await.unwrap();
    tx.commit().await.unwrap();
    let (_, v) = start_print(&app2).await;
    assert_eq!(v["test"]["state"], "failed", "{v}");
    assert!(
        v["test"]["summary"].as_str().unwrap().contains("paper"),
        "{v}"
    );
    assert!(queue2.printed().is_empty());
}

#[tokio::test]
async fn a_test_print_left_running_by_a_crash_is_failed_at_start_and_its_job_is_never_a_customers()
{
    let app = TestApp::new().await;
    let mut tx = app.ctx.store.begin_write().await.unwrap();
    let row = fotobox_store::self_tests::begin(&mut tx, "print", "token", app.ctx.clock.now())
        .await
        .unwrap();
    fotobox_store::self_tests::set_printer_job(&mut tx, row.id, "Kiosk-7")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // The customers' crash reconciliation counts the test sheet's job as owned.
    let mut conn = app.ctx.store.pool().acquire().await.unwrap();
    let owned = fotobox_store::photos::owned_printer_job_ids(&mut conn, 0)
        .await
        .unwrap();
    assert!(owned.contains(&"Kiosk-7".to_string()), "{owned:?}");
    drop(conn);
    // While it runs, another test print is refused.
    let (s, v) = start_print(&app).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(fotobox_core::selftest::recover(&app.ctx).await.unwrap(), 1);
    let r = fotobox_core::selftest::get(&app.ctx, row.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.state, "failed");
    assert!(r.summary.contains("restarted"), "{}", r.summary);
}

/// A camera still as the page sends it: a JPEG.
fn jpeg(w: u32, h: u32, c: [u8; 3]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(w, h, image::Rgb(c))
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

async fn upload_still(app: &TestApp, jpeg: Vec<u8>, token: Option<&str>) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method("POST")
        .uri("/api/staff/selftest/camera?ms=420")
        .header("content-type", "image/jpeg");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let (s, body) = send_raw(app.api(), req.body(Body::from(jpeg)).unwrap()).await;
    (s, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_camera_test_reads_the_still_size_and_warns_under_200_dpi() {
    let app = TestApp::new().await;
    let (s, v) = upload_still(&app, jpeg(1920, 1080, [10, 120, 200]), Some(STAFF_TOKEN)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let t = &v["test"];
    assert_eq!(t["state"], "passed", "{t}");
    assert_eq!(
        (
            t["detail"]["width"].as_u64(),
            t["detail"]["height"].as_u64()
        ),
        (Some(1920), Some(1080))
    );
    assert_eq!(t["detail"]["capture_ms"], 420);
    let summary = t["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("1920x1080 still in 420 ms; lowest print resolution"),
        "{summary}"
    );
    // Only the kiosk window's own test speaks for the kiosk's camera: a run with the staff
    // token (or from a browser elsewhere) leaves the Devices page's camera row alone.
    assert_eq!(app.ctx.maintenance.camera_still(), None);

    let (_, v) = upload_still(&app, jpeg(1280, 720, [10, 120, 200]), Some(STAFF_TOKEN)).await;
    let t = &v["test"];
    assert_eq!(t["state"], "warning", "{t}");
    assert!(
        t["summary"]
            .as_str()
            .unwrap()
            .contains("under 200 dpi: Postcard 157 dpi"),
        "{t}"
    );
    assert!(t["detail"]["layouts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["low"] == true));
}

#[tokio::test]
async fn the_camera_test_refuses_what_is_not_a_picture_or_not_from_staff_and_records_nothing() {
    let app = TestApp::new().await;
    let (s, v) = upload_still(&app, b"not a picture at all".to_vec(), Some(STAFF_TOKEN)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    // A PNG, and a JPEG cut after its header (the size readable, the picture not).
    let mut png = Vec::new();
    image::RgbImage::new(64, 48)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let (s, v) = upload_still(&app, png, Some(STAFF_TOKEN)).await;
    assert!(v["error"].as_str().unwrap().contains("JPEG"), "{v}");
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let mut cut = jpeg(640, 480, [1, 2, 3]);
    cut.truncate(700);
    let (s, v) = upload_still(&app, cut, Some(STAFF_TOKEN)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, _) = upload_still(&app, shot(640, 480, [1, 2, 3]), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = upload_still(&app, shot(640, 480, [1, 2, 3]), Some("wrong-token")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Too large: refused before it is all read.
    let big = vec![0xffu8; fotobox_core::kiosk::MAX_SHOT_BYTES + 1];
    let (s, _) = upload_still(&app, big, Some(STAFF_TOKEN)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    for path in [
        "/api/staff/selftest/print",
        "/api/staff/selftest/payment-path",
    ] {
        let (s, _) = send(app.api(), "POST", path, None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{path}");
    }
    assert!(app.ctx.store.latest_self_tests().await.unwrap().is_empty());
    assert_eq!(app.ctx.maintenance.camera_still(), None);

    // The page could not open the camera: recorded as failed with the page's reason.
    let (s, v) = app
        .as_staff(
            "POST",
            "/api/staff/selftest/camera/failure",
            Some(serde_json::json!({"error": "NotAllowedError: permission denied\n", "ms": 12})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["test"]["state"], "failed");
    assert_eq!(
        v["test"]["summary"],
        "no still from the camera: NotAllowedError: permission denied"
    );
}

#[tokio::test]
async fn the_payment_path_test_times_the_public_urls_round_trip() {
    // The public URL is another kiosk's real callback listener.
    let other = TestApp::new().await;
    let server = other.serve().await;
    let app = maintenance_support::app(
        &format!("public_url = \"http://{}\"", server.callback_addr),
        "",
    )
    .await;
    let (s, v) = app
        .as_staff("POST", "/api/staff/selftest/payment-path", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["test"]["state"], "passed", "{v}");
    assert!(v["test"]["detail"]["latency_ms"].is_u64());
    assert!(
        v["test"]["summary"]
            .as_str()
            .unwrap()
            .contains("/healthz answered in"),
        "{v}"
    );
    server.shutdown().await;

    // Nothing answers there now: failed, with the reason.
    let (_, v) = app
        .as_staff("POST", "/api/staff/selftest/payment-path", None)
        .await;
    assert_eq!(v["test"]["state"], "failed", "{v}");
    let summary = v["test"]["summary"].as_str().unwrap();
    assert!(summary.contains("cannot connect"), "{summary}");
    assert!(v["test"]["detail"]["http_status"].is_null());

    // No public URL (a sandbox kiosk): nothing to test.
    let plain = TestApp::new().await;
    let (_, v) = plain
        .as_staff("POST", "/api/staff/selftest/payment-path", None)
        .await;
    assert_eq!(v["test"]["state"], "skipped", "{v}");
}

/// The test print on a cups-pdf queue: the calibration sheet comes out of the real CUPS as one
/// 4x6 page.
#[tokio::test]
async fn a_test_print_comes_out_of_cups_pdf_as_one_4x6_page() {
    let Some(queue) = crate::cups_support::PdfQueue::new("a_test_print_comes_out_of_cups_pdf")
    else {
        return;
    };
    let app = TestApp::with_extra(&queue.config(20)).await;
    let (s, v) = start_print(&app).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let r = print_result(&app, 60).await;
    assert_eq!(r["state"], "passed", "{r}\ncups-pdf log:\n{}", queue.log());
    let job = r["printer_job"].as_str().unwrap();
    let n: u64 = job.rsplit('-').next().unwrap().parse().unwrap();
    let pdf = queue.pdf_path(n, &format!("fotobox-selftest-{}", r["id"]));
    let until = Instant::now() + Duration::from_secs(5);
    while !pdf.exists() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(pdf.exists(), "no {}\n{}", pdf.display(), queue.log());
    let (pages, sizes) = crate::cups_support::pdf_pages(&pdf);
    let _ = std::fs::remove_file(&pdf);
    assert_eq!(pages, 1);
    let (w, h) = sizes[0];
    assert!(
        (w - 288.0).abs() < 1.0 && (h - 432.0).abs() < 1.0,
        "{sizes:?}"
    );
    assert_eq!(photos::paper(&app.ctx).await.unwrap().remaining, 19);
}

/// A running test print (as a stopped process left it) with `job` recorded as its CUPS job.
async fn leftover_print(app: &TestApp, job: &str) -> i64 {
    let mut tx = app.ctx.store.begin_write().await.unwrap();
    let row = fotobox_store::self_tests::begin(&mut tx, "print", "pin:window", app.ctx.clock.now())
        .await
        .unwrap();
    fotobox_store::self_tests::set_printer_job(&mut tx, row.id, job)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    row.id
}

/// At start, a test print left running ends by what CUPS says of its job: printed meanwhile →
/// passed and counted once; still waiting → cancelled in CUPS (it would take a sheet nobody
/// counts) and failed.
#[tokio::test]
async fn at_start_a_leftover_test_print_ends_by_what_cups_says_of_its_job() {
    let queue = TestQueue::new();
    let app = TestApp::with_extra(&queue.config(40)).await;
    let sheet = app.dir.path().join("sheet.jpg");
    std::fs::write(&sheet, shot(64, 64, [200, 10, 10])).unwrap();
    let done = queue.lp(&sheet);
    queue.wait_jobs(1, 20).await;
    let until = Instant::now() + Duration::from_secs(20);
    while queue.printed().is_empty() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    queue.hold_new_jobs(true);
    let held = queue.lp(&sheet);
    let printed_id = leftover_print(&app, &done).await;
    // A second leftover of the same kind cannot be begun by the API; write it like the first.
    let held_id = leftover_print(&app, &held).await;

    assert_eq!(fotobox_core::selftest::recover(&app.ctx).await.unwrap(), 2);
    let p = fotobox_core::selftest::get(&app.ctx, printed_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.state, "passed", "{p:?}");
    assert!(p.summary.contains("39 prints left"), "{}", p.summary);
    assert_eq!(photos::paper(&app.ctx).await.unwrap().remaining, 39);
    assert_eq!(audit_count(&app, "test_print").await, 1);
    let h = fotobox_core::selftest::get(&app.ctx, held_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(h.state, "failed", "{h:?}");
    assert!(h.summary.contains("cancelled in CUPS"), "{}", h.summary);
    assert!(
        queue.unfinished_jobs().is_empty(),
        "{:?}",
        queue.unfinished_jobs()
    );
    // Nothing runs any more: neither sheet is reserved, and a new test may start.
    assert_eq!(
        photos::readiness(&app.ctx, 1)
            .await
            .unwrap()
            .paper_available,
        39
    );
}

/// A run whose worker died without a restart blocks its kind only as long as it could take.
#[tokio::test]
async fn a_run_abandoned_without_a_restart_gives_way_after_its_time() {
    let app = TestApp::new().await;
    let mut tx = app.ctx.store.begin_write().await.unwrap();
    let old =
        fotobox_store::self_tests::begin(&mut tx, "payment_path", "token", app.ctx.clock.now())
            .await
            .unwrap();
    tx.commit().await.unwrap();
    let (s, _) = app
        .as_staff("POST", "/api/staff/selftest/payment-path", None)
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    app.ctx.clock.advance(chrono::Duration::seconds(121));
    let (s, v) = app
        .as_staff("POST", "/api/staff/selftest/payment-path", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["test"]["state"], "skipped");
    let o = fotobox_core::selftest::get(&app.ctx, old.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (o.state.as_str(), o.summary.as_str()),
        ("failed", "abandoned: it did not end in time")
    );
}

/// A test sheet the printer holds past the job time limit is cancelled in CUPS (the private
/// cupsd lets only a job's owner cancel it, as Debian's does): it must not print later, uncounted.
#[tokio::test]
async fn a_test_sheet_held_past_the_time_limit_is_cancelled_in_cups_and_not_counted() {
    let queue = TestQueue::new();
    let extra = queue
        .config(40)
        .replace("[printer]\n", "[printer]\njob_timeout_seconds = 2\n");
    let app = TestApp::with_extra(&extra).await;
    queue.set_paper("stuck");
    let (s, v) = start_print(&app).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let r = print_result(&app, 30).await;
    assert_eq!(r["state"], "failed", "{r}");
    let summary = r["summary"].as_str().unwrap();
    assert!(summary.contains("did not finish within 2 s"), "{summary}");
    assert!(summary.contains("it was cancelled in CUPS"), "{summary}");
    assert!(
        queue.unfinished_jobs().is_empty(),
        "{:?}",
        queue.unfinished_jobs()
    );
    // Paper loaded afterwards: nothing comes out, nothing is counted or reserved.
    queue.set_paper("ok");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(queue.printed().is_empty(), "{:?}", queue.printed());
    assert_eq!(photos::paper(&app.ctx).await.unwrap().remaining, 40);
    assert_eq!(
        photos::readiness(&app.ctx, 1)
            .await
            .unwrap()
            .paper_available,
        40
    );
}
