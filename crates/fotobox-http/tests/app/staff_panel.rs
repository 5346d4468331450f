//! The staff panel over HTTP: PIN lockout and attempt log, sessions and their expiry, refunds
//! and comps with their audit trail, price settings, backup/restore, export, clear, stats.
#![allow(clippy::unwrap_used)]

use crate::common;
use crate::maintenance_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Duration;
use common::{send, send_raw, TestApp, STAFF_TOKEN};
use fotobox_core::maintenance::alerts::{self, AlertKind, Raised};
use fotobox_core::maintenance::{self, tunnel, Level};
use fotobox_core::panel;
use fotobox_store::payments as q;
use serde_json::{json, Value};

const PIN: &str = "2468";

async fn app_with_pin() -> TestApp {
    let app = TestApp::new().await;
    panel::set_pin(&app.ctx, PIN, "test").await.unwrap();
    app
}

async fn login(app: &TestApp, pin: &str) -> (StatusCode, Value) {
    send(
        app.api(),
        "POST",
        "/api/staff/login",
        Some(json!({ "pin": pin })),
        Some(STAFF_TOKEN),
    )
    .await
}

async fn session(app: &TestApp) -> String {
    let (s, v) = login(app, PIN).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["token"].as_str().unwrap().to_string()
}

/// A paid order (marked paid directly in the store, as a provider would).
async fn paid_order(app: &TestApp, provider: &str, template: &str, copies: i64) -> String {
    let o = app.order(provider, template, copies).await;
    let id = o["order_id"].as_str().unwrap().to_string();
    let p = app
        .ctx
        .store
        .payment_by_order_id(&id)
        .await
        .unwrap()
        .unwrap();
    let mut tx = app.ctx.store.begin_write().await.unwrap();
    q::mark_success(
        &mut tx,
        p.id,
        &format!("tx-{id}"),
        Some(2),
        app.ctx.clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn attempts(app: &TestApp) -> Vec<String> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT outcome FROM staff_login_attempts ORDER BY id")
            .fetch_all(app.ctx.store.pool())
            .await
            .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

#[tokio::test]
async fn five_wrong_pins_lock_the_pad_for_five_minutes_and_every_attempt_is_logged() {
    let app = app_with_pin().await;
    for left in (1..=4).rev() {
        let (s, v) = login(&app, "1111").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
        assert_eq!(v["attempts_left"], left, "{v}");
    }
    let (s, v) = login(&app, "1111").await;
    assert_eq!(s, StatusCode::LOCKED, "{v}");
    assert!(v["locked_until"].is_string());
    // Locked: even the right PIN is refused (and logged).
    let (s, _) = login(&app, PIN).await;
    assert_eq!(s, StatusCode::LOCKED);
    let (_, pad) = send(app.api(), "GET", "/api/staff/pad", None, None).await;
    assert!(pad["locked_until"].is_string(), "{pad}");
    // Without the staff token (and not the window) the PIN is not even checked; still logged.
    let (s, _) = send(
        app.api(),
        "POST",
        "/api/staff/login",
        Some(json!({"pin": PIN})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(
        attempts(&app).await,
        ["wrong", "wrong", "wrong", "wrong", "wrong", "locked", "no_token"]
    );
    app.ctx.clock.advance(Duration::minutes(4));
    assert_eq!(login(&app, PIN).await.0, StatusCode::LOCKED);
    app.ctx.clock.advance(Duration::seconds(61));
    let (s, v) = login(&app, PIN).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["client"], "browser");
    // A success resets the count: four more wrong PINs do not lock.
    for _ in 0..4 {
        assert_eq!(login(&app, "9999").await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login(&app, PIN).await.0, StatusCode::OK);
    // The PIN is stored only as an argon2 hash.
    let hash = app
        .ctx
        .store
        .staff_setting("pin_hash")
        .await
        .unwrap()
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PIN));
}

#[tokio::test]
async fn the_window_logs_in_with_its_key_and_the_pin_alone() {
    let app = app_with_pin().await;
    let key = panel::window_key(&app.ctx);
    assert_ne!(key, STAFF_TOKEN);
    let body = json!({"pin": PIN, "window_key": key});
    let (s, v) = send(app.api(), "POST", "/api/staff/login", Some(body), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["client"], "window");
    let bad = json!({"pin": PIN, "window_key": "0".repeat(64)});
    let (s, _) = send(app.api(), "POST", "/api/staff/login", Some(bad), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // No PIN set at all: a clear answer, logged.
    let fresh = TestApp::new().await;
    let (s, v) = login(&fresh, PIN).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(attempts(&fresh).await, ["no_pin"]);
}

#[tokio::test]
async fn sessions_expire_when_idle_at_their_end_and_on_logout() {
    let app = app_with_pin().await;
    let idle = app.ctx.config.staff.idle_timeout_seconds as i64;
    let t = session(&app).await;
    // A session works instead of the static token, and the static token still works.
    let (s, v) = send(app.api(), "GET", "/api/staff/session", None, Some(&t)).await;
    assert_eq!(
        (s, v["actor"].as_str()),
        (StatusCode::OK, Some("pin:browser"))
    );
    let (s, _) = send(
        app.api(),
        "GET",
        "/api/staff/stats",
        None,
        Some(STAFF_TOKEN),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        send(app.api(), "GET", "/api/staff/stats", None, None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    // Each request keeps it alive; idle longer than the timeout ends it.
    app.ctx.clock.advance(Duration::seconds(idle - 10));
    assert_eq!(
        send(app.api(), "GET", "/api/staff/session", None, Some(&t))
            .await
            .0,
        StatusCode::OK
    );
    app.ctx.clock.advance(Duration::seconds(idle - 10));
    assert_eq!(
        send(app.api(), "GET", "/api/staff/session", None, Some(&t))
            .await
            .0,
        StatusCode::OK
    );
    app.ctx.clock.advance(Duration::seconds(idle + 1));
    assert_eq!(
        send(app.api(), "GET", "/api/staff/session", None, Some(&t))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    // Busy sessions still end an hour after login.
    let t = session(&app).await;
    for _ in 0..(3600 / (idle - 5) + 1) {
        app.ctx.clock.advance(Duration::seconds(idle - 5));
        let _ = send(app.api(), "GET", "/api/staff/session", None, Some(&t)).await;
    }
    assert_eq!(
        send(app.api(), "GET", "/api/staff/session", None, Some(&t))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    // Logout.
    let t = session(&app).await;
    let (_, v) = send(app.api(), "POST", "/api/staff/logout", None, Some(&t)).await;
    assert_eq!(v["ended"], true);
    assert_eq!(
        send(app.api(), "GET", "/api/staff/session", None, Some(&t))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn refund_needs_a_reason_changes_status_and_leaves_an_audit_entry() {
    let app = app_with_pin().await;
    let t = session(&app).await;
    let id = paid_order(&app, "payme", "strip", 1).await;
    let pending = app.order("click", "grid", 1).await["order_id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/staff/payments/{id}/refund");
    let (s, v) = send(
        app.api(),
        "POST",
        &path,
        Some(json!({"reason": " "})),
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, _) = send(
        app.api(),
        "POST",
        &path,
        Some(json!({"reason": "no paper"})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = send(
        app.api(),
        "POST",
        &path,
        Some(json!({"reason": "printer jammed"})),
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["payment"]["status"], "canceled");
    assert_eq!(v["payment"]["cancel_reason"], "staff:refund");
    // Twice, or a pending order: refused.
    let (s, _) = send(
        app.api(),
        "POST",
        &path,
        Some(json!({"reason": "again!"})),
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let p2 = format!("/api/staff/payments/{pending}/refund");
    let (s, _) = send(
        app.api(),
        "POST",
        &p2,
        Some(json!({"reason": "pending one"})),
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // The detail shows the refund: flag, payment event and audit entry with its reason.
    let (s, d) = send(
        app.api(),
        "GET",
        &format!("/api/staff/payments/{id}"),
        None,
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(d["refunded"], true);
    let ev = d["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (ev["source"].as_str(), ev["kind"].as_str()),
        (Some("staff"), Some("refund"))
    );
    let audit = d["audit"].as_array().unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["action"], "refund");
    assert_eq!(audit[0]["reason"], "printer jammed");
    assert_eq!(audit[0]["actor"], "pin:browser");
    assert_eq!(audit[0]["order_id"], id);
    // Revenue no longer counts it; the refund is counted apart.
    let st = app.ctx.store.stats(app.ctx.clock.now()).await.unwrap();
    assert_eq!(
        (st.total_revenue, st.refunded_payments, st.refunded_amount),
        (0, 1, 20000)
    );
    // The audit trail is append-only.
    let r = sqlx::query("DELETE FROM staff_audit")
        .execute(app.ctx.store.pool())
        .await;
    assert!(r.is_err());
    let r = sqlx::query("UPDATE staff_audit SET reason = 'x'")
        .execute(app.ctx.store.pool())
        .await;
    assert!(r.is_err());
}

#[tokio::test]
async fn a_comp_is_a_paid_session_without_revenue_and_audited() {
    let app = app_with_pin().await;
    let t = session(&app).await;
    paid_order(&app, "click", "postcard", 2).await; // 35000
    let before = app.ctx.store.stats(app.ctx.clock.now()).await.unwrap();
    let body = json!({"template": "strip", "copies": 2, "reason": "reshoot after a blink"});
    let (s, v) = send(app.api(), "POST", "/api/staff/comp", Some(body), Some(&t)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let p = &v["payment"];
    assert_eq!(p["status"], "success");
    let order = p["order_id"].as_str().unwrap();
    assert_eq!(p["transaction_id"], format!("comp:{order}"));
    assert_eq!(p["amount"], 30000);
    let st = app.ctx.store.stats(app.ctx.clock.now()).await.unwrap();
    assert_eq!(st.total_revenue, before.total_revenue);
    assert_eq!(st.success_payments, before.success_payments);
    assert_eq!(st.total_payments, before.total_payments);
    assert_eq!(st.by_provider, before.by_provider);
    assert_eq!((st.comp_sessions, st.comp_value), (1, 30000));
    // Marked in the list and the detail; not refundable; audited with its reason.
    let (_, list) = send(app.api(), "GET", "/api/staff/payments", None, Some(&t)).await;
    assert_eq!(list["payments"][0]["order_id"], order);
    assert_eq!(list["payments"][0]["comp"], true);
    let path = format!("/api/staff/payments/{order}/refund");
    let (s, _) = send(
        app.api(),
        "POST",
        &path,
        Some(json!({"reason": "nope"})),
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (_, d) = send(
        app.api(),
        "GET",
        &format!("/api/staff/payments/{order}"),
        None,
        Some(&t),
    )
    .await;
    assert_eq!(d["comp"]["reason"], "reshoot after a blink");
    assert_eq!(d["audit"][0]["action"], "comp");
    // Bad input.
    for bad in [
        json!({"template": "nope", "reason": "abc"}),
        json!({"template": "strip", "reason": ""}),
        json!({"template": "strip", "copies": 0, "reason": "abcd"}),
    ] {
        let (s, v) = send(app.api(), "POST", "/api/staff/comp", Some(bad), Some(&t)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    }
}

#[tokio::test]
async fn prices_are_validated_and_apply_to_new_orders_only() {
    let app = app_with_pin().await;
    let t = session(&app).await;
    let (s, v) = send(app.api(), "GET", "/api/settings", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (v["layouts"]["strip"].as_i64(), v["source"].as_str()),
        (Some(20000), Some("config"))
    );
    let old = app.order("payme", "strip", 2).await;
    assert_eq!(old["amount"], 30000);
    let put = |body: Value, token: Option<String>| {
        let app_api = app.api();
        async move {
            send(
                app_api,
                "PUT",
                "/api/settings",
                Some(body),
                token.as_deref(),
            )
            .await
        }
    };
    assert_eq!(
        put(json!({"extra_copy": 5000}), None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (s, v) = put(
        json!({"layouts": {"strip": 5, "poster": 30000, "grid": "x"}, "extra_copy": -1}),
        Some(t.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let msg = v["error"].as_str().unwrap();
    for part in ["strip", "poster", "grid", "extra_copy"] {
        assert!(msg.contains(part), "{msg}");
    }
    let (s, _) = put(json!({"layouts": {"strip": 20000.5}}), Some(t.clone())).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Nothing was saved by the failures.
    assert!(app.ctx.store.latest_prices().await.unwrap().is_none());
    let (s, v) = put(
        json!({"layouts": {"strip": 22000}, "extra_copy": 8000}),
        Some(t.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (
            v["layouts"]["strip"].as_i64(),
            v["layouts"]["grid"].as_i64()
        ),
        (Some(22000), Some(25000))
    );
    assert_eq!(v["source"], "staff");
    let new = app.order("payme", "strip", 2).await;
    assert_eq!(new["amount"], 30000);
    // The earlier order keeps its amount.
    let p = app
        .ctx
        .store
        .payment_by_order_id(old["order_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.amount, 30000);
    let new2 = app.order("click", "postcard", 1).await;
    assert_eq!(new2["amount"], 25000);
    let (_, h) = send(
        app.api(),
        "GET",
        "/api/staff/settings/history",
        None,
        Some(&t),
    )
    .await;
    assert_eq!(h["history"].as_array().unwrap().len(), 1);
    let (total, audit) = app.ctx.store.audit_entries(None, 10, 0).await.unwrap();
    assert!(total >= 1);
    assert_eq!(audit[0].action, "settings");
}

async fn count(app: &TestApp) -> i64 {
    app.ctx.store.count_payments().await.unwrap()
}

#[tokio::test]
async fn backup_then_restore_online_round_trips_and_keeps_the_audit_trail() {
    let app = app_with_pin().await;
    let t = session(&app).await;
    let a = paid_order(&app, "payme", "strip", 1).await;
    paid_order(&app, "click", "grid", 3).await;
    app.order("payme", "postcard", 1).await;
    let before = app.ctx.store.stats(app.ctx.clock.now()).await.unwrap();
    let (s, b) = send(app.api(), "POST", "/api/staff/backups", None, Some(&t)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let name = b["name"].as_str().unwrap().to_string();
    // Change things after the backup.
    paid_order(&app, "payme", "strip", 2).await;
    let path = format!("/api/staff/payments/{a}/refund");
    send(
        app.api(),
        "POST",
        &path,
        Some(json!({"reason": "customer left"})),
        Some(&t),
    )
    .await;
    assert_eq!(count(&app).await, 4);
    // Confirmation and names are checked.
    let rp = format!("/api/staff/backups/{name}/restore");
    let (s, _) = send(
        app.api(),
        "POST",
        &rp,
        Some(json!({"confirm": "yes"})),
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = send(
        app.api(),
        "POST",
        "/api/staff/backups/..%2Fphotobooth.db/restore",
        Some(json!({"confirm": "../photobooth.db"})),
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Paid orders not printed yet are money in flight: refused unless forced (audited).
    let n = count(&app).await;
    let (s, r) = send(
        app.api(),
        "POST",
        &rp,
        Some(json!({"confirm": name})),
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{r}");
    assert!(
        r["error"].as_str().unwrap().contains("money is in flight"),
        "{r}"
    );
    assert_eq!(count(&app).await, n, "nothing changed");
    let (s, r) = send(
        app.api(),
        "POST",
        &rp,
        Some(json!({"confirm": name, "force": true})),
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    // The data is the backup's again, online, through the same pool.
    assert_eq!(count(&app).await, 3);
    let after = app.ctx.store.stats(app.ctx.clock.now()).await.unwrap();
    assert_eq!(after, before);
    // Staff are told, like after an automatic recovery.
    let open = fotobox_store::maintenance::list_alerts(app.ctx.store.pool(), true, 10)
        .await
        .unwrap();
    assert!(
        open.iter()
            .any(|a| a.kind == "db_restored" && a.message.contains(&name)),
        "{open:?}"
    );
    let p = app
        .ctx
        .store
        .payment_by_order_id(&a)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.status, "success");
    // The state before the restore was saved first and is listed.
    let safety = r["safety_backup"].as_str().unwrap();
    assert!(safety.contains("before-restore"), "{safety}");
    let (_, list) = send(app.api(), "GET", "/api/staff/backups", None, Some(&t)).await;
    let names: Vec<&str> = list["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&safety) && names.contains(&name.as_str()),
        "{names:?}"
    );
    let copy = fotobox_store::Store::open_existing(
        &app.ctx.backup_dir().join(safety),
        std::time::Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(copy.count_payments().await.unwrap(), 4);
    copy.close().await;
    // The audit trail survived the restore and records it.
    let (_, audit) = app.ctx.store.audit_entries(None, 50, 0).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        &actions[..],
        ["restore", "backup", "refund", "backup", "pin_set"]
    );
    // New orders still work after the restore (the pool is healthy).
    app.order("click", "strip", 1).await;
    assert_eq!(count(&app).await, 4);
}

#[tokio::test]
async fn clear_needs_confirmation_and_backs_up_first() {
    let app = app_with_pin().await;
    let t = session(&app).await;
    paid_order(&app, "payme", "strip", 1).await;
    app.order("click", "grid", 1).await;
    let (s, _) = send(
        app.api(),
        "POST",
        "/api/staff/clear",
        Some(json!({"confirm": "clear"})),
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(count(&app).await, 2);
    // The paid order is not printed yet: refused, nothing deleted.
    let (s, v) = send(
        app.api(),
        "POST",
        "/api/staff/clear",
        Some(json!({"confirm": "CLEAR"})),
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(count(&app).await, 2);
    let (s, v) = send(
        app.api(),
        "POST",
        "/api/staff/clear",
        Some(json!({"confirm": "CLEAR", "force": true})),
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["cleared"], 2);
    assert_eq!(count(&app).await, 0);
    let backup = app.ctx.backup_dir().join(v["backup"].as_str().unwrap());
    let copy = fotobox_store::Store::open_existing(&backup, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(copy.count_payments().await.unwrap(), 2);
    copy.close().await;
    let (_, audit) = app.ctx.store.audit_entries(None, 5, 0).await.unwrap();
    assert_eq!(audit[0].action, "clear");
}

#[tokio::test]
async fn export_writes_the_filtered_payments_into_an_allowed_folder_only() {
    let app = app_with_pin().await;
    let t = session(&app).await;
    let paid = paid_order(&app, "payme", "strip", 1).await;
    paid_order(&app, "click", "grid", 2).await;
    app.order("payme", "postcard", 1).await;
    let dir = app.ctx.data_dir.join("exports").join("USB");
    std::fs::create_dir_all(&dir).unwrap();
    let (_, targets) = send(app.api(), "GET", "/api/staff/export", None, Some(&t)).await;
    assert!(
        targets["targets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str() == dir.to_str()),
        "{targets}"
    );
    let body = json!({"dir": dir, "filter": {"status": "success", "provider": "payme"}});
    let (s, v) = send(
        app.api(),
        "POST",
        "/api/staff/export",
        Some(body.clone()),
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["rows"], 1);
    let text = std::fs::read_to_string(v["path"].as_str().unwrap()).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, fotobox_core::staff::CSV_HEADER);
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][1], paid.as_str());
    assert_eq!(&rows[0][5], "success");
    // A second export never overwrites the first.
    let (_, v2) = send(app.api(), "POST", "/api/staff/export", Some(body), Some(&t)).await;
    assert_ne!(v2["path"], v["path"]);
    // Without a filter: everything.
    let (_, v3) = send(
        app.api(),
        "POST",
        "/api/staff/export",
        Some(json!({"dir": dir})),
        Some(&t),
    )
    .await;
    assert_eq!(v3["rows"], 3);
    // Bad folders.
    let outside = tempfile::tempdir().unwrap();
    for bad in [
        json!({"dir": "exports"}),
        json!({"dir": ""}),
        json!({"dir": outside.path()}),
        json!({"dir": dir.join("missing")}),
        json!({"dir": dir.join("..").join("..").join("..")}),
        json!({"dir": dir, "filter": {"status": "paid"}}),
    ] {
        let (s, v) = send(
            app.api(),
            "POST",
            "/api/staff/export",
            Some(bad.clone()),
            Some(&t),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad} → {v}");
    }
}

#[tokio::test]
async fn dashboard_stats_equal_the_database_and_get_api_stats() {
    let app = app_with_pin().await;
    let t = session(&app).await;
    paid_order(&app, "payme", "strip", 1).await;
    paid_order(&app, "payme", "grid", 2).await;
    paid_order(&app, "click", "postcard", 1).await;
    app.order("click", "strip", 1).await;
    let c = app.order("payme", "strip", 3).await;
    fotobox_core::orders::cancel_order(&app.ctx, c["order_id"].as_str().unwrap())
        .await
        .unwrap();
    let (_, panel_stats) = send(app.api(), "GET", "/api/staff/stats", None, Some(&t)).await;
    let (_, api_stats) = send(app.api(), "GET", "/api/stats", None, Some(STAFF_TOKEN)).await;
    assert_eq!(panel_stats, api_stats);
    let pool = app.ctx.store.pool();
    let (n, paid, revenue): (i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), SUM(status = 'success'), SUM(CASE WHEN status = 'success' THEN amount ELSE 0 END) FROM payments",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(panel_stats["total_payments"], n);
    assert_eq!(panel_stats["success_payments"], paid);
    assert_eq!(panel_stats["total_revenue"], revenue);
    assert_eq!(panel_stats["today"]["revenue"], revenue);
    assert_eq!(revenue, 20000 + 35000 + 25000);
    let layouts: Vec<(Option<String>, i64)> = sqlx::query_as(
        "SELECT template_name, SUM(CASE WHEN status = 'success' THEN amount ELSE 0 END) FROM payments GROUP BY template_name ORDER BY template_name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let got: Vec<(Option<String>, i64)> = panel_stats["by_layout"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["template_name"].as_str().map(String::from),
                l["revenue"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, layouts);
    let hours: i64 = panel_stats["per_hour"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["success_payments"].as_i64().unwrap())
        .sum();
    assert_eq!(hours, paid);
}

/// A fake public URL whose `/healthz` answers ok while `up` is true (the tunnel's far end).
async fn fake_public(up: Arc<AtomicBool>) -> String {
    let router = axum::Router::new().route(
        "/healthz",
        axum::routing::get(move || {
            let up = up.clone();
            async move {
                if up.load(Ordering::SeqCst) {
                    (StatusCode::OK, axum::Json(json!({"status": "ok"})))
                } else {
                    (
                        StatusCode::BAD_GATEWAY,
                        axum::Json(json!({"error": "tunnel not connected"})),
                    )
                }
            }
        }),
    );
    maintenance_support::fake_server(router).await.0
}

#[tokio::test]
async fn devices_report_what_is_known_and_unknown() {
    let app = app_with_pin().await;
    let t = session(&app).await;
    let (s, d) = send(app.api(), "GET", "/api/staff/devices", None, Some(&t)).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert!(d["database"]["size_bytes"].as_i64().unwrap() > 0);
    assert!(d["disk"]["free_bytes"].as_u64().unwrap() > 0);
    // Nobody has reported the camera or printer yet; no public URL means no tunnel.
    assert_eq!(d["camera"]["state"], "unknown");
    assert!(d["camera"]["reported_at"].is_null());
    assert_eq!(d["printer"]["reported"]["state"], "unknown");
    assert_eq!(d["tunnel"]["state"], "not configured");
    assert!(d["last_callback"]["payme"].is_null());
    // What the subsystems report to the maintenance state shows up.
    maintenance::report_component(&app.ctx, "camera", Level::Ok, "USB camera 1280x720");
    maintenance::report_component(&app.ctx, "printer", Level::Degraded, "ribbon low");
    let (_, d) = send(app.api(), "GET", "/api/staff/devices", None, Some(&t)).await;
    assert_eq!(d["camera"]["state"], "ok", "{d}");
    assert_eq!(d["camera"]["detail"], "USB camera 1280x720");
    assert!(d["camera"]["reported_at"].is_string());
    assert_eq!(d["printer"]["reported"]["state"], "degraded");
    assert_eq!(d["printer"]["reported"]["detail"], "ribbon low");
    let (s, d) = send(
        app.api(),
        "POST",
        "/api/staff/paper/reset",
        Some(json!({"roll_size": 700})),
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["paper"]["roll_size"], 700);
    let (_, audit) = app.ctx.store.audit_entries(None, 1, 0).await.unwrap();
    assert_eq!(audit[0].action, "paper_reset");
}

/// The Devices page shows the camera's still size (from the shots the page uploads) and, per
/// layout, the print resolution its smallest slot gets, with a warning under 200 dpi.
#[tokio::test]
async fn devices_show_the_print_resolution_the_camera_gives_each_layout() {
    let app = app_with_pin().await;
    let t = session(&app).await;
    let (_, d) = send(app.api(), "GET", "/api/staff/devices", None, Some(&t)).await;
    assert!(d["camera"]["still"].is_null(), "{d}");
    let dpi_of = |d: &Value, layout: &str| {
        d["camera"]["layouts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == layout)
            .cloned()
            .unwrap()
    };
    for ((w, h), dpi, low) in [((1920, 1080), 235, false), ((1280, 720), 157, true)] {
        let order = crate::photos_support::paid_order(&app.ctx, "postcard", 1).await;
        let req = Request::post(format!("/api/kiosk/orders/{order}/shots/0"))
            .header("content-type", "image/jpeg")
            .body(Body::from(crate::photos_support::shot(
                w,
                h,
                [90, 120, 150],
            )))
            .unwrap();
        let (s, body) = send_raw(app.api(), req).await;
        assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        let (_, d) = send(app.api(), "GET", "/api/staff/devices", None, Some(&t)).await;
        assert_eq!(d["camera"]["still"], json!({"width": w, "height": h}));
        let postcard = dpi_of(&d, "postcard");
        assert_eq!(postcard["dpi"], dpi, "{postcard}");
        assert_eq!(postcard["low"], low, "{postcard}");
    }
}

async fn tunnel_view(app: &TestApp, t: &str) -> Value {
    let (s, d) = send(app.api(), "GET", "/api/staff/devices", None, Some(t)).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    d["tunnel"].clone()
}

#[tokio::test]
async fn devices_show_the_tunnel_state_after_real_checks() {
    let up = Arc::new(AtomicBool::new(true));
    let url = fake_public(up.clone()).await;
    let app = maintenance_support::app(&format!("public_url = \"{url}\""), "").await;
    panel::set_pin(&app.ctx, PIN, "test").await.unwrap();
    let t = session(&app).await;
    // Configured but not checked yet: unknown, and payments wait for the first check.
    let tun = tunnel_view(&app, &t).await;
    assert_eq!(tun["state"], "unknown", "{tun}");
    assert_eq!(tun["public_url"], url.as_str());
    assert!(tun["last_check_at"].is_null());
    assert_eq!(tun["accepting_payments"], false);
    // A real check through the fake public URL: up, with its time.
    let at = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("{v}")))
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let before = app.ctx.clock.now();
    let r = tunnel::check_once(&app.ctx).await.unwrap();
    assert!(r.ok, "{r:?}");
    let tun = tunnel_view(&app, &t).await;
    assert_eq!(tun["state"], "up", "{tun}");
    let checked = at(&tun["last_check_at"]);
    assert!(checked >= before && checked <= app.ctx.clock.now(), "{tun}");
    assert_eq!(tun["last_ok_at"], tun["last_check_at"]);
    assert!(tun["last_error"].is_null());
    assert_eq!(tun["accepting_payments"], true);
    // The far end stops answering: one failure is noted (still up), two take it down.
    up.store(false, Ordering::SeqCst);
    app.ctx.clock.advance(Duration::seconds(60));
    tunnel::check_once(&app.ctx).await.unwrap();
    let tun = tunnel_view(&app, &t).await;
    assert_eq!(
        (tun["state"].as_str(), tun["consecutive_failures"].as_i64()),
        (Some("up"), Some(1)),
        "{tun}"
    );
    assert!(
        tun["last_error"].as_str().unwrap().contains("HTTP 502"),
        "{tun}"
    );
    app.ctx.clock.advance(Duration::seconds(60));
    tunnel::check_once(&app.ctx).await.unwrap();
    let tun = tunnel_view(&app, &t).await;
    assert_eq!(tun["state"], "down", "{tun}");
    assert_eq!(tun["consecutive_failures"], 2);
    assert!(at(&tun["last_check_at"]) >= checked + Duration::seconds(120));
    assert_eq!(at(&tun["last_ok_at"]), checked);
    assert_eq!(tun["accepting_payments"], false);
}

#[tokio::test]
async fn staff_alerts_need_a_session_list_open_ones_and_acknowledge_with_audit() {
    let app = app_with_pin().await;
    let ctx = &app.ctx;
    let paper = alerts::raise(
        ctx,
        AlertKind::PaperLow,
        "paper_low",
        "Paper low: 20 prints left",
    )
    .await;
    let Raised::New(paper_id) = paper else {
        panic!("{paper:?}")
    };
    app.ctx.clock.advance(Duration::seconds(1));
    alerts::raise(ctx, AlertKind::TunnelDown, "tunnel_down", "Tunnel down").await;
    alerts::raise(
        ctx,
        AlertKind::BackupFailed,
        "backup_failed",
        "Backup failed",
    )
    .await;
    alerts::resolve(ctx, "backup_failed").await;

    // Auth: neither nothing nor a made-up bearer gets in.
    assert_eq!(
        send(app.api(), "GET", "/api/staff/alerts", None, None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(
            app.api(),
            "GET",
            "/api/staff/alerts",
            None,
            Some("not-a-session")
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    let path = format!("/api/staff/alerts/{paper_id}/ack");
    assert_eq!(
        send(app.api(), "POST", &path, None, None).await.0,
        StatusCode::UNAUTHORIZED
    );

    // A PIN session sees the open alerts, newest first, with counts per severity.
    let t = session(&app).await;
    let (s, v) = send(app.api(), "GET", "/api/staff/alerts", None, Some(&t)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let kinds: Vec<&str> = v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["tunnel_down", "paper_low"], "{v}");
    assert_eq!(v["alerts"][1]["message"], "Paper low: 20 prints left");
    assert_eq!(v["open"], json!({"critical": 1, "warning": 1}));
    let (_, all) = send(app.api(), "GET", "/api/staff/alerts?all=1", None, Some(&t)).await;
    assert_eq!(all["alerts"].as_array().unwrap().len(), 3, "{all}");

    // Acknowledge: gone from the open list, audited with who did it.
    let (s, v) = send(app.api(), "POST", &path, None, Some(&t)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["alert"]["acknowledged_at"].is_string(), "{v}");
    let (_, v) = send(app.api(), "GET", "/api/staff/alerts", None, Some(&t)).await;
    assert_eq!(v["alerts"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["alerts"][0]["kind"], "tunnel_down");
    assert_eq!(v["open"], json!({"critical": 1}));
    let (_, audit) = app.ctx.store.audit_entries(None, 1, 0).await.unwrap();
    assert_eq!(
        (audit[0].action.as_str(), audit[0].actor.as_str()),
        ("alert_ack", "pin:browser")
    );
    assert!(audit[0]
        .detail_json
        .as_deref()
        .unwrap()
        .contains("paper_low"));
    // Twice, resolved or unknown: refused, nothing more audited.
    assert_eq!(
        send(app.api(), "POST", &path, None, Some(&t)).await.0,
        StatusCode::CONFLICT
    );
    let resolved_id = all["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "backup_failed")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        send(
            app.api(),
            "POST",
            &format!("/api/staff/alerts/{resolved_id}/ack"),
            None,
            Some(&t)
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        send(
            app.api(),
            "POST",
            "/api/staff/alerts/99999/ack",
            None,
            Some(&t)
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let (total, _) = app.ctx.store.audit_entries(None, 100, 0).await.unwrap();
    let acks: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM staff_audit WHERE action = 'alert_ack'")
            .fetch_one(app.ctx.store.pool())
            .await
            .unwrap();
    assert!(total >= 2);
    assert_eq!(acks, 1);
    // The panel page has the Alerts view.
    let (_, body) = send_raw(
        app.api(),
        Request::builder()
            .uri("/staff.html")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let html = String::from_utf8_lossy(&body);
    assert!(html.contains(r#"data-page="alerts""#));
    assert!(html.contains(r#"id="page-alerts""#));
}

#[tokio::test]
async fn the_tauri_window_gets_cors_other_origins_do_not() {
    let app = TestApp::new().await;
    let pre = Request::builder()
        .method("OPTIONS")
        .uri("/api/staff/login")
        .header("origin", "tauri://localhost")
        .header("access-control-request-method", "POST")
        .body(Body::empty())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(app.api(), pre).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "tauri://localhost"
    );
    // The maintenance routes the Devices page calls answer the window too (they did not: the
    // tunnel log and "Compact the database" failed in the kiosk window with "Load failed").
    for (method, uri) in [
        ("GET", "/api/maintenance/tunnel/log"),
        ("POST", "/api/maintenance/vacuum"),
    ] {
        let pre = Request::builder()
            .method("OPTIONS")
            .uri(uri)
            .header("origin", "tauri://localhost")
            .header("access-control-request-method", method)
            .body(Body::empty())
            .unwrap();
        let resp = tower::ServiceExt::oneshot(app.api(), pre).await.unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT, "{uri}");
        assert_eq!(
            resp.headers()["access-control-allow-origin"],
            "tauri://localhost",
            "{uri}"
        );
    }
    let get = Request::builder()
        .uri("/api/settings")
        .header("origin", "http://evil.example")
        .body(Body::empty())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(app.api(), get).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    // The panel page is served by the API listener.
    let (s, body) = send_raw(
        app.api(),
        Request::builder()
            .uri("/staff.html")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("js/staff.js"));
}

#[tokio::test]
async fn a_pin_session_reaches_the_maintenance_pages_and_vacuum_is_audited() {
    let app = app_with_pin().await;
    let (s, _) = send(app.api(), "GET", "/api/maintenance/tunnel/log", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let t = session(&app).await;
    let (s, v) = send(
        app.api(),
        "GET",
        "/api/maintenance/tunnel/log",
        None,
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["supervisor"]["enabled"], json!(false));
    let (s, v) = send(app.api(), "POST", "/api/maintenance/vacuum", None, Some(&t)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["bytes_after"].as_i64().unwrap() > 0, "{v}");
    let (s, a) = send(app.api(), "GET", "/api/staff/audit?limit=5", None, Some(&t)).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    let e = &a["entries"][0];
    assert_eq!(e["action"], json!("maintenance_vacuum"), "{a}");
    assert!(e["actor"].as_str().unwrap().starts_with("pin"), "{a}");
}

#[tokio::test]
async fn automatic_backups_are_listed_and_restorable_from_the_panel() {
    let app = app_with_pin().await;
    let t = session(&app).await;
    paid_order(&app, "payme", "strip", 1).await;
    let auto = fotobox_core::maintenance::backups::run_backup(&app.ctx)
        .await
        .unwrap();
    let auto_name = auto.path.file_name().unwrap().to_string_lossy().to_string();
    assert!(auto_name.starts_with("auto_"), "{auto:?}");
    paid_order(&app, "click", "grid", 1).await;
    assert_eq!(count(&app).await, 2);
    let (s, list) = send(app.api(), "GET", "/api/staff/backups", None, Some(&t)).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert!(
        list["backups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["name"] == json!(auto_name)),
        "{list}"
    );
    let (s, r) = send(
        app.api(),
        "POST",
        &format!("/api/staff/backups/{auto_name}/restore"),
        Some(json!({"confirm": auto_name, "force": true})),
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(count(&app).await, 1);
}

/// Five wrong PINs; how long the pad is locked for.
async fn lock_pad(app: &TestApp) -> Duration {
    for _ in 0..4 {
        assert_eq!(login(app, "1111").await.0, StatusCode::UNAUTHORIZED);
    }
    let (s, v) = login(app, "1111").await;
    assert_eq!(s, StatusCode::LOCKED, "{v}");
    let until: chrono::DateTime<chrono::Utc> = v["locked_until"].as_str().unwrap().parse().unwrap();
    until - app.ctx.clock.now()
}

/// Guessing on: each lockout without a successful login in between is longer (5 min, 30 min,
/// then 4 h), and the pad shows until when; the right PIN resets the ladder.
#[tokio::test]
async fn the_pin_lockout_escalates_until_a_successful_login() {
    let app = app_with_pin().await;
    let app = &app;
    let near = |d: Duration, want: Duration| (d - want).num_seconds().abs() <= 5;
    let first = lock_pad(app).await;
    assert!(near(first, Duration::minutes(5)), "{first}");
    app.ctx.clock.advance(Duration::minutes(6));
    let second = lock_pad(app).await;
    assert!(near(second, Duration::minutes(30)), "{second}");
    let (_, pad) = send(app.api(), "GET", "/api/staff/pad", None, None).await;
    assert!(pad["locked_until"].is_string(), "{pad}");
    app.ctx.clock.advance(Duration::minutes(31));
    let third = lock_pad(app).await;
    assert!(near(third, Duration::hours(4)), "{third}");
    app.ctx
        .clock
        .advance(Duration::hours(4) + Duration::minutes(1));
    assert_eq!(login(app, PIN).await.0, StatusCode::OK);
    // After a success the ladder starts again at 5 minutes.
    let again = lock_pad(app).await;
    assert!(near(again, Duration::minutes(5)), "{again}");
}

/// Each kind of money in flight blocks a clear: a Payme transaction created but not performed,
/// a Click attempt prepared but not completed; and a forced restore that drops provider
/// transactions raises an alert naming them.
#[tokio::test]
async fn provider_transactions_under_way_block_clear_and_a_forced_restore_alerts() {
    let app = app_with_pin().await;
    let t = session(&app).await;
    let (s, b) = send(app.api(), "POST", "/api/staff/backups", None, Some(&t)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let empty_backup = b["name"].as_str().unwrap().to_string();
    let server = app.serve().await;
    // Payme: CheckPerform + Create only (state 1).
    let o = app.order("payme", "strip", 1).await;
    let id = o["order_id"].as_str().unwrap();
    let payme = fotobox_core::payme::simulator::PaymeClient::for_context(&app.ctx).unwrap();
    let payme_id = fotobox_core::payme::simulator::new_payme_id();
    payme
        .create(&payme_id, app.ctx.clock.now_ms(), id, 2_000_000)
        .await
        .unwrap();
    let clear = |force: bool| {
        send(
            app.api(),
            "POST",
            "/api/staff/clear",
            Some(json!({"confirm": "CLEAR", "force": force})),
            Some(&t),
        )
    };
    let (s, v) = clear(false).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["error"].as_str().unwrap().contains(id), "{v}");
    // Click: a prepared attempt.
    let o = app.order("click", "strip", 1).await;
    let cid = o["order_id"].as_str().unwrap();
    let click = fotobox_core::click::simulator::ClickClient::for_app(&app.ctx).unwrap();
    click
        .prepare(&click.new_prepare(cid, 20_000))
        .await
        .unwrap();
    let (s, v) = clear(false).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["error"].as_str().unwrap().contains(cid), "{v}");
    assert_eq!(count(&app).await, 2, "nothing deleted");
    // A forced restore of the empty backup drops both transactions: staff are alerted.
    let (s, r) = send(
        app.api(),
        "POST",
        &format!("/api/staff/backups/{empty_backup}/restore"),
        Some(json!({"confirm": empty_backup, "force": true})),
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let alerts = fotobox_store::maintenance::list_alerts(app.ctx.store.pool(), true, 20)
        .await
        .unwrap();
    let lost = alerts
        .iter()
        .find(|a| a.message.contains("no longer knows"))
        .expect("an alert about the lost transactions");
    assert!(
        lost.message.contains(&format!("payme:{payme_id}")),
        "{}",
        lost.message
    );
    assert!(lost.message.contains("click:"), "{}", lost.message);
    server.shutdown().await;
}

#[tokio::test]
async fn the_pad_tells_the_page_its_default_language_from_the_config() {
    // Unauthenticated, like the rest of the pad state: the PIN pad is shown before any login.
    let app = TestApp::new().await;
    let (s, pad) = send(app.api_without_key(), "GET", "/api/staff/pad", None, None).await;
    assert_eq!(s, StatusCode::OK, "{pad}");
    assert_eq!(pad["language"], "uz", "{pad}");
    for lang in ["ru", "en"] {
        let app = TestApp::with_extra(&format!("[staff]\nlanguage = \"{lang}\"\n")).await;
        let (_, pad) = send(app.api_without_key(), "GET", "/api/staff/pad", None, None).await;
        assert_eq!(pad["language"], lang, "{pad}");
    }
}
