//! The staff command line and `fotobox serve`, run as the real binary against temporary data.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use fotobox_core::orders::{self, OrderRequest};
use fotobox_core::{AppContext, Config};
use fotobox_store::model::Provider;

const BIN: &str = env!("CARGO_BIN_EXE_fotobox");

fn fotobox(data: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["--data-dir", data.to_str().unwrap()])
        .args(args)
        .env_remove("FOTOBOX_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Like [`fotobox`], but a run still going after `limit` is killed (and then fails the test).
fn fotobox_within(data: &Path, args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(BIN)
        .args(["--data-dir", data.to_str().unwrap()])
        .args(args)
        .env_remove("FOTOBOX_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "fotobox {args:?} still running after {limit:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn config(data: &Path) -> Config {
    let mut c = Config::sandbox_default();
    c.data_dir = Some(data.to_path_buf());
    c
}

/// Seed: 3 orders, one paid, one cancelled.
async fn seed(data: &Path) -> Vec<String> {
    let ctx = AppContext::new(config(data)).await.unwrap();
    let mut ids = Vec::new();
    for (p, t) in [
        (Provider::Payme, "strip"),
        (Provider::Click, "postcard"),
        (Provider::Payme, "grid"),
    ] {
        let o = orders::create_order(
            &ctx,
            OrderRequest::Priced {
                provider: p,
                template: t.into(),
                copies: 1,
            },
        )
        .await
        .unwrap();
        ids.push(o.order_id);
    }
    let p = ctx
        .store
        .payment_by_order_id(&ids[1])
        .await
        .unwrap()
        .unwrap();
    let mut c = ctx.store.pool().acquire().await.unwrap();
    fotobox_store::payments::mark_success(&mut c, p.id, "3647911201", None, chrono::Utc::now())
        .await
        .unwrap();
    // Its fiscal receipt, as the Click fiscalisation job records it.
    sqlx::query(
        "INSERT INTO click_fiscal (payment_id, click_payment_id, state, origin, attempts,
                                   receipt_url, created_at, updated_at)
         VALUES (?, 1, 'done', 'click', 1, 'https://ofd.soliq.uz/check?t=1', ?, ?)",
    )
    .bind(p.id)
    .bind(fotobox_store::db_time(chrono::Utc::now()))
    .bind(fotobox_store::db_time(chrono::Utc::now()))
    .execute(&mut *c)
    .await
    .unwrap();
    drop(c);
    orders::cancel_order(&ctx, &ids[2]).await.unwrap();
    ctx.store.close().await;
    ids
}

#[tokio::test]
async fn payments_list_show_and_stats() {
    let dir = tempfile::tempdir().unwrap();
    let ids = seed(dir.path()).await;

    let o = fotobox(dir.path(), &["payments", "list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for id in &ids {
        assert!(out.contains(id.as_str()), "{out}");
    }
    assert!(out.contains("3 of 3 payments"));

    let o = fotobox(
        dir.path(),
        &[
            "payments", "list", "--status", "success", "--format", "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["total"], 1);
    assert_eq!(v["payments"][0]["order_id"], ids[1].as_str());

    let o = fotobox(
        dir.path(),
        &[
            "payments", "list", "--limit", "1", "--offset", "1", "--format", "csv",
        ],
    );
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("id,order_id,transaction_id,amount,payment_type,status"));
    assert!(lines[1].contains(ids[1].as_str()), "second newest");

    let o = fotobox(
        dir.path(),
        &["payments", "show", &ids[2], "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["status"], "canceled");
    let kinds: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["create", "cancel"]);
    let o = fotobox(dir.path(), &["payments", "show", "2"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains(ids[1].as_str()));

    let o = fotobox(dir.path(), &["stats", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["total_payments"], 3);
    assert_eq!(v["success_payments"], 1);
    assert_eq!(v["canceled_payments"], 1);
    assert_eq!(v["pending_payments"], 1);
    assert_eq!(v["total_revenue"], 25000);
    let o = fotobox(dir.path(), &["stats"]);
    assert!(stdout(&o).contains("total revenue      25000 UZS"));
    // The paid sale has its fiscal receipt (seeded as the Click job records it): the table's
    // count of sales without one, like the panel's dashboard, is 0.
    assert_eq!(v["paid_without_receipt"], 0);
    assert!(
        stdout(&o).contains("paid, no receipt   0 (last 30 days"),
        "{}",
        stdout(&o)
    );
}

#[tokio::test]
async fn bad_input_gives_one_line_and_failure() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path()).await;
    for args in [
        vec!["payments", "show", "NOPE-0000"],
        vec!["payments", "list", "--status", "paid"],
        vec!["payments", "list", "--limit", "0"],
        vec!["restore", "/nonexistent/file.db"],
    ] {
        let o = fotobox(dir.path(), &args);
        assert!(!o.status.success(), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(!err.contains("panicked"));
    }
    // A config with an unknown key stops with a line naming it.
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[server]\nstaff_tokn = \"x\"\n").unwrap();
    let o = fotobox(dir.path(), &["--config", cfg.to_str().unwrap(), "stats"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("staff_tokn"), "{}", stderr(&o));
}

/// The kiosk-local day (the sandbox default offset, +05:00) the seeded orders were created on.
async fn seeded_day(data: &Path, order_id: &str) -> String {
    let ctx = AppContext::new(config(data)).await.unwrap();
    let p = ctx
        .store
        .payment_by_order_id(order_id)
        .await
        .unwrap()
        .unwrap();
    ctx.store.close().await;
    p.created_at
        .with_timezone(&chrono::FixedOffset::east_opt(5 * 3600).unwrap())
        .date_naive()
        .to_string()
}

#[tokio::test]
async fn reconcile_reports_a_day_as_table_csv_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let ids = seed(dir.path()).await;
    let day = seeded_day(dir.path(), &ids[1]).await;

    // JSON: the paid Click order was never printed; the pending and cancelled ones took nothing.
    let o = fotobox(
        dir.path(),
        &["reconcile", "--date", &day, "--format", "json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["day"], day.as_str());
    assert_eq!(
        (v["paid_orders"].as_i64(), v["paid_amount"].as_i64()),
        (Some(1), Some(25000))
    );
    assert_eq!(v["revenue"], 25000);
    assert_eq!(v["printed_orders"], 0);
    assert_eq!(
        v["receipts_tracked_for"],
        serde_json::json!(["payme", "click"])
    );
    assert_eq!(v["fiscalised_sales"], 1);
    let ex = v["exceptions"].as_array().unwrap();
    assert_eq!(ex.len(), 1, "{v}");
    assert_eq!(ex[0]["kind"], "paid_not_printed");
    assert_eq!(ex[0]["order_id"], ids[1].as_str());
    assert_eq!(ex[0]["provider"], "click");

    // CSV: the day's numbers, then one row per exception.
    let o = fotobox(
        dir.path(),
        &["reconcile", "--date", &day, "--format", "csv"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let mut r = csv::Reader::from_reader(&o.stdout[..]);
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["day", "item", "order_id", "provider", "count", "amount", "detail"]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let items: Vec<&str> = rows.iter().map(|r| &r[1]).collect();
    assert_eq!(
        items,
        [
            "paid_orders",
            "still_paid",
            "printed_orders",
            "fiscalised_sales",
            "refunds",
            "free_sessions",
            "paid_not_printed"
        ]
    );
    assert!(rows.iter().all(|r| &r[0] == day.as_str()));
    assert_eq!((&rows[0][4], &rows[0][5]), ("1", "25000"));
    assert_eq!(
        (&rows[6][2], &rows[6][3], &rows[6][5]),
        (ids[1].as_str(), "click", "25000")
    );

    // Table (today by default is the same day unless the test ran across midnight).
    let o = fotobox(dir.path(), &["reconcile", "--date", &day]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.starts_with(&format!("reconciliation {day} (UTC offset +05:00")),
        "{text}"
    );
    assert!(text.contains("paid orders        1 (25000 UZS)"), "{text}");
    assert!(text.contains("exceptions (1):"), "{text}");
    assert!(
        text.contains("paid, not printed") && text.contains(ids[1].as_str()),
        "{text}"
    );
    assert!(fotobox(dir.path(), &["reconcile"]).status.success());

    // Another day is empty; a malformed date is one line and a failure.
    let o = fotobox(
        dir.path(),
        &["reconcile", "--date", "2020-01-01", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (
            v["paid_orders"].as_i64(),
            v["exceptions"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
    let o = fotobox(dir.path(), &["reconcile", "--date", "25.11.2026"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("--date must be YYYY-MM-DD"), "{err}");
}

#[tokio::test]
async fn export_writes_every_payment_as_csv() {
    let dir = tempfile::tempdir().unwrap();
    let ids = seed(dir.path()).await;
    let out = dir.path().join("out.csv");
    let o = fotobox(dir.path(), &["export", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("exported 3 payments"));
    let mut r = csv::Reader::from_path(&out).unwrap();
    let headers = r.headers().unwrap().clone();
    assert_eq!(&headers[1], "order_id");
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 3);
    let got: Vec<&str> = rows.iter().map(|r| &r[1]).collect();
    assert_eq!(got, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(&rows[1][5], "success");
    assert_eq!(&rows[1][2], "3647911201");
    // Refuses to overwrite.
    let o = fotobox(dir.path(), &["export", "--out", out.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("already exists"));
    // Default name in the working directory.
    let o = Command::new(BIN)
        .args(["--data-dir", dir.path().to_str().unwrap(), "export"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success());
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("payments_export_") && n.ends_with(".csv"))
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert_eq!(names[0].len(), "payments_export_20261125_120000.csv".len());
}

fn count_in(db: &Path) -> i64 {
    let rt = tokio::runtime::Handle::current();
    let db = db.to_path_buf();
    std::thread::spawn(move || {
        rt.block_on(async {
            let s = fotobox_store::Store::open_existing(&db, Duration::from_secs(5))
                .await
                .unwrap();
            let n = s.count_payments().await.unwrap();
            s.close().await;
            n
        })
    })
    .join()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_a_writer_is_busy_then_clear_and_restore_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path()).await;
    // A writer keeps inserting orders while the backup runs.
    let ctx = AppContext::new(config(dir.path())).await.unwrap();
    let writer_ctx = ctx.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let writer = tokio::spawn(async move {
        let mut n = 0;
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            orders::create_order(
                &writer_ctx,
                OrderRequest::Priced {
                    provider: Provider::Click,
                    template: "strip".into(),
                    copies: 1,
                },
            )
            .await
            .unwrap();
            n += 1;
        }
        n
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let backup = dir.path().join("b1.db");
    let o = tokio::task::spawn_blocking({
        let d = dir.path().to_path_buf();
        let b = backup.clone();
        move || fotobox(&d, &["backup", "--out", b.to_str().unwrap()])
    })
    .await
    .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.await.unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(written > 0);
    let in_backup = count_in(&backup);
    assert!(
        in_backup >= 3,
        "the backup holds the seed and some of the writer's rows: {in_backup}"
    );
    ctx.store.close().await;
    let total = 3 + written;

    // Default backup location.
    let o = fotobox(dir.path(), &["backup"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("/backups/photobooth_"));

    // Clear needs confirmation; with --yes it backs up first.
    let o = fotobox(dir.path(), &["clear"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--yes"));
    let db = dir.path().join("photobooth.db");
    assert_eq!(count_in(&db), total);
    // Paid orders not printed yet: money in flight, refused unless forced.
    let o = fotobox(dir.path(), &["clear", "--yes"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("money is in flight"), "{}", stderr(&o));
    assert_eq!(count_in(&db), total);
    let o = fotobox(dir.path(), &["clear", "--yes", "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let pre_clear: PathBuf = out.trim().rsplit(": ").next().unwrap().into();
    assert_eq!(count_in(&db), 0);
    assert_eq!(
        count_in(&pre_clear),
        total,
        "clear kept everything in its backup"
    );

    // Restore the pre-clear backup: everything is back, the cleared file is kept aside.
    let o = fotobox(dir.path(), &["restore", pre_clear.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("replaced database is kept at"));
    assert_eq!(count_in(&db), total);
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("photobooth.db.replaced-"))
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(count_in(&dir.path().join(&kept[0])), 0);
}

#[tokio::test]
async fn restore_refuses_bad_files_and_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path()).await;
    let junk = dir.path().join("junk.db");
    std::fs::write(
        &junk,
        b"this is not a database at all, just some text that is long enough",
    )
    .unwrap();
    let o = fotobox(dir.path(), &["restore", junk.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("junk.db"), "{}", stderr(&o));

    // A valid SQLite file that is not ours.
    let other = dir.path().join("other.db");
    let s = fotobox_store::Store::open_existing(&other, Duration::from_secs(1)).await;
    assert!(s.is_err());
    {
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&other)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
        sqlx::query("CREATE TABLE t(x)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    let o = fotobox(dir.path(), &["restore", other.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("not a Fotobox database"),
        "{}",
        stderr(&o)
    );

    // With a server holding the database.
    let backup = dir.path().join("good.db");
    assert!(
        fotobox(dir.path(), &["backup", "--out", backup.to_str().unwrap()])
            .status
            .success()
    );
    let mut cfg = config(dir.path());
    cfg.server.callback_addr = "127.0.0.1:0".parse().unwrap();
    cfg.server.api_addr = "127.0.0.1:0".parse().unwrap();
    let ctx = AppContext::new(cfg).await.unwrap();
    let server = fotobox_http::server::start(ctx).await.unwrap();
    let o = fotobox(dir.path(), &["restore", backup.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("server is running"), "{}", stderr(&o));
    // Clear refuses while a server holds the database, even forced (the panel is the way).
    let o = fotobox(dir.path(), &["clear", "--yes", "--force"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("server is running"), "{}", stderr(&o));
    server.shutdown().await;
    let o = fotobox(dir.path(), &["restore", backup.to_str().unwrap()]);
    assert!(!o.status.success(), "money in flight");
    assert!(stderr(&o).contains("money is in flight"), "{}", stderr(&o));
    let o = fotobox(
        dir.path(),
        &["restore", "--force", backup.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn serve_on_port_zero_answers_healthz_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["--data-dir", dir.path().to_str().unwrap(), "serve"])
        .env("FOTOBOX_SERVER_CALLBACK_ADDR", "127.0.0.1:0")
        .env("FOTOBOX_SERVER_API_ADDR", "127.0.0.1:0")
        .env_remove("FOTOBOX_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("listening "), "{line}");
    let addr = |key: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{key}=http://")))
            .unwrap()
            .to_string()
    };
    for a in [addr("callback"), addr("api")] {
        let resp = http_get(&a, "/healthz");
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
        assert!(resp.contains("\"status\":\"ok\""));
    }
    assert!(
        dir.path().join("photobooth.db").exists(),
        "database created on first start"
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "clean exit on SIGTERM: {:?}",
        out.status
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("shutdown signal received") && err.contains("fotobox stopped"),
        "{err}"
    );
    assert!(!err.contains(
        &std::fs::read_to_string(dir.path().join("staff_token"))
            .unwrap()
            .trim()
            .to_string()
    ));
    let logs: Vec<_> = std::fs::read_dir(dir.path().join("logs"))
        .unwrap()
        .collect();
    assert_eq!(logs.len(), 1, "a log file in the data directory");
}

fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

// ------------------------------------------------------------------ doctor and the live start

const LIVE_KEY: &str = "LivePaymeKey0123456789abcdefghijKLMN";
const LIVE_SECRET: &str = "LiveClickSecret9f8e7d6c";

/// A fake `lpstat` (queue present, accepting, no alerts) in `dir` (the config reads the
/// printer's state from it: `printer.state_source = "lpstat"`).
fn fake_lpstat(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("lpstat");
    std::fs::write(
        &p,
        "#!/bin/sh\ncase \"$*\" in\n  *\"-l -p \"*) printf 'printer %s is idle.\\n\\tAlerts: none\\n' \"$3\" ;;\n  *\"-W\"*) ;;\n  *) printf 'printer %s is idle.  enabled since Mon\\n%s accepting requests since Mon\\n' \"$2\" \"$2\" ;;\nesac\n",
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// A stand-in for the tunnel: every request gets the kiosk's `{"status":"ok"}`.
fn fake_public_url() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let body = "{\"status\":\"ok\"}";
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// A live config file: `complete` adds the fiscal data, the public URL and the printer queue.
fn live_config_file(data: &Path, complete: Option<(&Path, &str)>) -> PathBuf {
    let mut text = format!(
        "mode = \"live\"\n[server]\ncallback_addr = \"127.0.0.1:0\"\napi_addr = \"127.0.0.1:0\"\n\
         [payme]\nmerchant_id = \"5e730e8e0b852a417aa49ceb\"\nkey = \"{LIVE_KEY}\"\n\
         [click]\nservice_id = 12345\nmerchant_id = 6789\nmerchant_user_id = 23456\nsecret_key = \"{LIVE_SECRET}\"\n"
    );
    if let Some((lpstat, url)) = complete {
        text.push_str(&format!(
            "[fiscal]\nikpu_code = \"10899002001000000\"\npackage_code = \"1512443\"\nvat_percent = 12\n\
             title = \"Foto chop etish, dona\"\ntin = \"123456789\"\n\
             [printer]\nname = \"Kiosk\"\nlpstat_command = \"{}\"\nstate_source = \"lpstat\"\n",
            lpstat.display()
        ));
        text = text.replace("[payme]", &format!("public_url = \"{url}\"\n[payme]"));
    }
    let p = data.join("live.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn no_secret(text: &str) {
    for s in [LIVE_KEY, LIVE_SECRET] {
        assert!(!text.contains(s), "a secret in the output: {text}");
    }
}

#[test]
fn doctor_lists_what_a_half_configured_live_kiosk_lacks_and_serve_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = live_config_file(dir.path(), None);
    let cfg = cfg.to_str().unwrap();
    let o = fotobox(dir.path(), &["--config", cfg, "doctor"]);
    let (out, err) = (stdout(&o), stderr(&o));
    assert!(!o.status.success(), "{out}");
    for key in [
        "fiscal.ikpu_code",
        "fiscal.package_code",
        "fiscal.vat_percent",
        "fiscal.title",
        "fiscal.tin",
        "server.public_url",
        "printer.name",
        "paper",
    ] {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(key))
            .unwrap_or_else(|| panic!("{key} not listed:\n{out}"));
        assert!(line.starts_with("MISSING"), "{line}");
    }
    assert!(out.contains("live: "), "{out}");
    assert!(err.contains("money-path"), "{err}");
    no_secret(&out);
    no_secret(&err);
    // Read-only: nothing created in the data directory.
    for f in ["photobooth.db", "staff_token", "sandbox_credentials.toml"] {
        assert!(!dir.path().join(f).exists(), "doctor created {f}");
    }

    let o = fotobox(dir.path(), &["--config", cfg, "doctor", "--json"]);
    assert!(!o.status.success());
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["mode"], "live");
    assert_eq!(v["ready_for_live"], false);
    assert!(v["failures"].as_u64().unwrap() >= 8, "{v}");
    let keys: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"fiscal.ikpu_code") && keys.contains(&"clock"),
        "{keys:?}"
    );
    no_secret(&stdout(&o));

    // `serve` refuses the same kiosk: one line per failed setting, naming the key.
    let o = fotobox_within(
        dir.path(),
        &["--config", cfg, "serve"],
        Duration::from_secs(20),
    );
    let err = stderr(&o);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("refusing to start in live mode"), "{err}");
    for key in [
        "fiscal.ikpu_code",
        "fiscal.tin",
        "server.public_url",
        "printer.name",
    ] {
        assert!(
            err.lines().any(|l| l.starts_with(&format!("{key}: "))),
            "{key} not named:\n{err}"
        );
    }
    assert!(!err.lines().any(|l| l.starts_with("paper: ")), "{err}");
    no_secret(&err);
}

#[test]
fn doctor_in_sandbox_mode_fails_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let o = fotobox(dir.path(), &["doctor"]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(out.contains("sandbox: nothing fails"), "{out}");
    assert!(out.lines().any(|l| l.contains("fiscal.ikpu_code")), "{out}");
    assert!(!dir.path().join("photobooth.db").exists());
}

#[test]
fn a_complete_live_kiosk_serves_and_doctor_exits_zero_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let lpstat = fake_lpstat(dir.path());
    let url = fake_public_url();
    let cfg = live_config_file(dir.path(), Some((&lpstat, &url)));
    let cfg = cfg.to_str().unwrap();
    let o = fotobox(dir.path(), &["--config", cfg, "paper", "reset"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut child = Command::new(BIN)
        .args([
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--config",
            cfg,
            "serve",
        ])
        .env_remove("FOTOBOX_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // The server holds its lock; doctor needs none.
    let o = fotobox(dir.path(), &["--config", cfg, "doctor"]);
    let out = stdout(&o);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let served = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&served.stderr);
    assert!(
        line.starts_with("listening "),
        "live serve started: {line}{err}"
    );
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(out.contains("live: ready to take real money"), "{out}");
    no_secret(&out);
    no_secret(&err);
}
