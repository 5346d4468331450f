//! A full disk is survived (issue #13 item 9): while the database cannot be written the kiosk
//! answers correctly (the providers' system errors, a clear 503 for a new order), stops selling
//! and says why (readiness, both `/healthz`), and once there is room again it sells by itself,
//! without a restart. The disk is filled two ways: SQLite's `max_page_count` on every pooled
//! connection (any user), and a real 800 KiB tmpfs, grown by a remount afterwards (root only).

use std::path::PathBuf;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::{send, TestApp, CLICK_SECRET, CLICK_SERVICE_ID};
use crate::payme_support as pm;
use fotobox_core::click::simulator::ClickClient;
use fotobox_store::Store;

/// Ask for a new one-copy strip order of `provider`.
async fn generate_qr(app: &TestApp, provider: &str) -> (StatusCode, Value) {
    send(
        app.api(),
        "POST",
        "/api/generate-qr",
        Some(json!({"payment_type": provider, "template": "strip", "copies": 1})),
        None,
    )
    .await
}

async fn readiness(app: &TestApp) -> Value {
    let (s, r) = send(
        app.api(),
        "GET",
        "/api/kiosk/readiness?copies=1",
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    r
}

/// Poll readiness until `ready` is `want` (the probe runs every 2 s); returns the last answer.
async fn wait_ready(app: &TestApp, want: bool, within: Duration) -> Value {
    let until = std::time::Instant::now() + within;
    loop {
        let r = readiness(app).await;
        if r["ready"] == json!(want) || std::time::Instant::now() > until {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Pay an order through the whole Payme flow (check, create, perform).
async fn pay(app: &TestApp, order_id: &str, amount: i64, tx_no: u64) {
    let account = json!({"order_id": order_id});
    pm::ok(
        app,
        "CheckPerformTransaction",
        json!({"amount": amount, "account": account}),
    )
    .await;
    let id = pm::hex24(tx_no);
    pm::create(app, &id, pm::now_ms(app), amount, order_id).await;
    let r = pm::ok(app, "PerformTransaction", json!({"id": id})).await;
    assert_eq!(r["state"], 2, "{r}");
}

/// Orders until one is refused (the database is full); returns how many went through and the
/// refusal.
async fn fill_with_orders(app: &TestApp) -> (usize, StatusCode, Value) {
    for made in 0..2000 {
        let (s, b) = generate_qr(app, "payme").await;
        if s != StatusCode::OK {
            return (made, s, b);
        }
    }
    panic!("2000 orders and the database is still not full");
}

/// The answers while the database cannot be written, and a refused order is clear.
async fn assert_not_selling(app: &TestApp, callback_base: &str, reason: &str) {
    let r = wait_ready(app, false, Duration::from_secs(5)).await;
    assert_eq!(r["ready"], false, "{r}");
    assert_eq!(r["reason"], "database", "{r}");
    assert!(
        r["detail"].as_str().unwrap_or("").contains(reason),
        "readiness says why: {r}"
    );
    // No QR: a clear "try later", not an internal error.
    let (s, b) = generate_qr(app, "payme").await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{b}");
    let msg = b["error"].as_str().unwrap_or("");
    assert!(
        msg.contains("database cannot be written") && msg.contains(reason),
        "{b}"
    );
    // Payme still answers its protocol: an unknown order is an unknown order.
    pm::err(
        app,
        "CheckPerformTransaction",
        json!({"amount": 2_000_000, "account": {"order_id": "NOSUCHORDER"}}),
        -31050,
    )
    .await;
    // The API's detailed /healthz: down, and why (to anyone, without paths).
    let (s, h) = send(app.api(), "GET", "/healthz", None, None).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{h}");
    assert_eq!(h["database"]["status"], "down", "{h}");
    assert!(
        h["database"]["reason"]
            .as_str()
            .unwrap_or("")
            .contains(reason),
        "{h}"
    );
    assert_eq!(h["accepting_payments"], false, "{h}");
    // The callback listener's /healthz (what the tunnel check sees) says it too.
    let cb = reqwest::get(format!("{callback_base}/healthz"))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(cb["database"], "not_writable", "{cb}");
    assert_eq!(cb["reason"], reason, "{cb}");
}

/// Selling again: ready, a new order created and paid, and enough writes to pass through every
/// pooled connection (a connection left inside a transaction would fail one of them).
async fn assert_selling_again(app: &TestApp, first_tx: u64) {
    let started = std::time::Instant::now();
    let r = wait_ready(app, true, Duration::from_secs(15)).await;
    assert_eq!(r["ready"], true, "the kiosk did not recover by itself: {r}");
    eprintln!(
        "ready again {:?} after the space came back",
        started.elapsed()
    );
    for i in 0..20 {
        let (order, amount) = pm::new_order(app).await;
        pay(app, &order, amount, first_tx + i).await;
    }
    let (s, h) = send(app.api(), "GET", "/healthz", None, None).await;
    assert_eq!(h["database"]["status"], "ok", "{s} {h}");
    assert_eq!(h["accepting_payments"], true, "{h}");
    // The spell's staff alert is stored and resolved.
    let alerts: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT kind, resolved_at FROM alerts WHERE dedup_key = 'db_not_writable' ORDER BY id",
    )
    .fetch_all(app.ctx.store.pool())
    .await
    .unwrap();
    assert!(!alerts.is_empty(), "no db_not_writable alert");
    assert!(
        alerts.iter().all(|(_, resolved)| resolved.is_some()),
        "{alerts:?}"
    );
}

fn click_client(callback_base: &str) -> ClickClient {
    ClickClient::new(
        fotobox_core::outbound::Outbound::default(),
        callback_base,
        CLICK_SERVICE_ID,
        CLICK_SECRET,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_database_stops_sales_and_they_resume_by_themselves() {
    let app = TestApp::new().await;
    let server = app.serve().await;
    let base = format!("http://{}", server.callback_addr);
    // A normal sale, and two orders waiting for their payment when the disk fills.
    let (paid, amount) = pm::new_order(&app).await;
    pay(&app, &paid, amount, 1).await;
    let (waiting, waiting_amount) = pm::new_order(&app).await;
    let (s, click_order) = generate_qr(&app, "click").await;
    assert_eq!(s, StatusCode::OK, "{click_order}");
    let click_order = click_order["order_id"].as_str().unwrap().to_string();

    // The disk fills: no connection may add a page (SQLite answers SQLITE_FULL).
    app.ctx.store.limit_pages_for_tests(1).await.unwrap();
    let (made, s, b) = fill_with_orders(&app).await;
    eprintln!("{made} orders before the database was full");
    assert_eq!(
        s,
        StatusCode::SERVICE_UNAVAILABLE,
        "a full disk is no 500: {b}"
    );
    assert_not_selling(&app, &base, "disk full").await;

    // Payments of waiting orders either go through (their pages had room) or get the
    // protocol's system error, which changes nothing.
    let create = pm::rpc(
        &app,
        "CreateTransaction",
        pm::create_params(&pm::hex24(900), pm::now_ms(&app), waiting_amount, &waiting),
    )
    .await;
    if create.get("error").is_some() {
        pm::assert_error(&create, -32400);
        pm::err(
            &app,
            "CheckTransaction",
            json!({"id": pm::hex24(900)}),
            -31003,
        )
        .await;
    }
    let click = click_client(&base);
    let prep = click
        .send(&click.new_prepare(&click_order, 20_000))
        .await
        .unwrap();
    assert!(
        prep["error"] == 0 || prep["error"] == -7,
        "Click: success or 'failed to update': {prep}"
    );
    // The answer the issue saw for every call: never again.
    let paid_check = pm::ok(&app, "CheckTransaction", json!({"id": pm::hex24(1)})).await;
    assert_eq!(paid_check["state"], 2, "{paid_check}");

    // Still full: the probe keeps failing, the kiosk keeps refusing.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(readiness(&app).await["reason"], "database");

    // Room again: nothing is restarted, nothing but the probe clears the state.
    app.ctx.store.limit_pages_for_tests(0).await.unwrap();
    assert_selling_again(&app, 100).await;
    // The waiting order is paid now (created again if it failed while full).
    if create.get("error").is_some() {
        pm::create(
            &app,
            &pm::hex24(900),
            pm::now_ms(&app),
            waiting_amount,
            &waiting,
        )
        .await;
    }
    let r = pm::ok(&app, "PerformTransaction", json!({"id": pm::hex24(900)})).await;
    assert_eq!(r["state"], 2, "{r}");
    server.shutdown().await;
}

/// The sqlx bug under the issue: a statement that fails with `SQLITE_FULL` without a statement
/// journal makes SQLite roll the whole transaction back; the ROLLBACK queued by the dropped
/// transaction then fails and sqlx keeps counting the connection inside a transaction. Such a
/// connection must not come back from the pool (every `BEGIN IMMEDIATE` on it failed with
/// "attempted to call begin_with at non-zero transaction depth").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_rolled_back_by_sqlite_is_not_reused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.db"), Duration::from_secs(5))
        .await
        .unwrap();
    sqlx::query("CREATE TABLE filler (b BLOB NOT NULL)")
        .execute(store.pool())
        .await
        .unwrap();
    store.limit_pages_for_tests(1).await.unwrap();
    for _ in 0..8 {
        let mut tx = store.begin_write().await.unwrap();
        let e = sqlx::query("INSERT INTO filler (b) VALUES (zeroblob(100000))")
            .execute(&mut *tx)
            .await
            .unwrap_err();
        assert_eq!(
            fotobox_store::writable::sqlite_code(&e),
            Some(13),
            "SQLITE_FULL: {e}"
        );
        drop(tx);
    }
    // The failed statement marked the store not writable (noted while the drop rolls back).
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while store.write_failure().is_none() && std::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(store.write_failure().map(|f| f.reason), Some("disk full"));
    assert!(store.probe_write().await.is_err(), "still full");
    assert!(store.write_failure().is_some());

    store.limit_pages_for_tests(0).await.unwrap();
    // Every connection the pool hands out can begin a write transaction again.
    for i in 0..40 {
        let mut tx = store
            .begin_write()
            .await
            .unwrap_or_else(|e| panic!("write {i} after the disk emptied: {e}"));
        sqlx::query("INSERT INTO filler (b) VALUES (x'00')")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    // Only the probe ends the spell.
    assert!(store.write_failure().is_some());
    let ended = store.probe_write().await.unwrap();
    assert_eq!(ended.map(|f| f.reason), Some("disk full"));
    assert_eq!(store.write_failure(), None);
}

/// A small tmpfs mounted for one test and unmounted (lazily) when dropped.
struct Tmpfs {
    mount: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` (with the reason printed) where mounting is not possible (not root, no tmpfs).
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let mount = dir.path().join("mnt");
        std::fs::create_dir(&mount).unwrap();
        let out = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(&mount)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs { mount, _dir: dir }),
            Ok(o) => {
                eprintln!(
                    "SKIPPED: cannot mount a tmpfs ({}): {}",
                    o.status,
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIPPED: cannot run mount: {e}");
                None
            }
        }
    }
}

impl Tmpfs {
    /// Give space back: remount with a larger size.
    fn grow(&self, size: &str) {
        let status = std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.mount)
            .status()
            .unwrap();
        assert!(status.success(), "remount failed: {status}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.mount)
            .status();
    }
}

/// The issue's own experiment: the data directory on a small file system, orders until it is
/// full, then space given back (the file system grown by a remount). The 600 KiB no
/// longer holds a fresh database's migrations (their pages stay in the WAL until a checkpoint):
/// 800 KiB leaves room for a few orders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_full_file_system_is_survived() {
    let Some(fs) = Tmpfs::mount("800k") else {
        return;
    };
    let ctx = crate::maintenance_support::context(&fs.mount, "", "").await;
    let app = TestApp {
        ctx,
        dir: tempfile::tempdir().unwrap(),
    };
    let server = app.serve().await;
    let base = format!("http://{}", server.callback_addr);
    let (waiting, waiting_amount) = pm::new_order(&app).await;
    let (s, click_order) = generate_qr(&app, "click").await;
    assert_eq!(s, StatusCode::OK, "{click_order}");
    let click_order = click_order["order_id"].as_str().unwrap().to_string();

    let (made, s, b) = fill_with_orders(&app).await;
    eprintln!("{made} more orders before the file system was full");
    assert_eq!(
        s,
        StatusCode::SERVICE_UNAVAILABLE,
        "a full disk is no 500: {b}"
    );
    assert_not_selling(&app, &base, "disk full").await;
    // Nothing can be written: the providers get their system errors.
    pm::err(
        &app,
        "CreateTransaction",
        pm::create_params(&pm::hex24(900), pm::now_ms(&app), waiting_amount, &waiting),
        -32400,
    )
    .await;
    let click = click_client(&base);
    // A write smaller than the refused order may still fit in what is left (how much is left
    // depends on the schema's size); once nothing fits, Click gets its system error.
    let mut prep = Value::Null;
    for _ in 0..50 {
        prep = click
            .send(&click.new_prepare(&click_order, 20_000))
            .await
            .unwrap();
        if prep["error"] != 0 {
            break;
        }
    }
    assert_eq!(prep["error"], -7, "{prep}");

    fs.grow("16m");
    assert_selling_again(&app, 100).await;
    pm::create(
        &app,
        &pm::hex24(900),
        pm::now_ms(&app),
        waiting_amount,
        &waiting,
    )
    .await;
    let r = pm::ok(&app, "PerformTransaction", json!({"id": pm::hex24(900)})).await;
    assert_eq!(r["state"], 2, "{r}");
    let prep = click
        .send(&click.new_prepare(&click_order, 20_000))
        .await
        .unwrap();
    assert_eq!(prep["error"], 0, "{prep}");
    server.shutdown().await;
}
