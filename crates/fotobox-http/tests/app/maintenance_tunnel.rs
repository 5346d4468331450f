//! Tunnel supervision (a fake tunnel command that dies) and the tunnel health check against a
//! local fake public URL, with new payments refused while the tunnel is down.
#![allow(clippy::unwrap_used)]

use crate::common;
use crate::maintenance_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use fotobox_core::maintenance::{tunnel, TunnelState};
use fotobox_store::maintenance as mq;
use maintenance_support::{app, fake_server};
use serde_json::json;

async fn fake_public(up: Arc<AtomicBool>) -> String {
    let router = Router::new().route(
        "/healthz",
        get(move || {
            let up = up.clone();
            async move {
                if up.load(Ordering::SeqCst) {
                    (StatusCode::OK, Json(json!({"status": "ok"})))
                } else {
                    (
                        StatusCode::BAD_GATEWAY,
                        Json(json!({"error": "tunnel not connected"})),
                    )
                }
            }
        }),
    );
    fake_server(router).await.0
}

#[tokio::test]
async fn a_dying_tunnel_command_is_restarted_with_backoff_and_its_last_lines_kept() {
    let up = Arc::new(AtomicBool::new(true));
    let url = fake_public(up).await;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("fake-tunnel.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho \"tunnel starting $$\"\necho 'error: connection lost' >&2\nexit 3\n",
    )
    .unwrap();
    let t = app(
        &format!("public_url = \"{url}\""),
        &format!("[tunnel]\ncommand = \"sh {}\"\nrestart_min_ms = 100\nrestart_max_ms = 400\nlog_lines = 5\n", script.display()),
    )
    .await;
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(tunnel::supervise(t.ctx.clone(), rx));
    let started = std::time::Instant::now();
    while t.ctx.maintenance.supervisor().restarts < 4 && started.elapsed() < Duration::from_secs(10)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let s = t.ctx.maintenance.supervisor();
    assert!(s.enabled);
    assert!(s.restarts >= 4, "{s:?}");
    assert_eq!(
        &s.recent_backoffs_ms[..4],
        &[100, 200, 400, 400],
        "doubling, capped"
    );
    assert!(
        s.log.len() <= 5,
        "only the last lines are kept: {:?}",
        s.log
    );
    let log = s.log.iter().cloned().collect::<Vec<_>>().join("\n");
    assert!(
        log.contains("connection lost") || log.contains("tunnel starting"),
        "{log}"
    );
    assert!(log.contains("[fotobox] tunnel command exited"), "{log}");
    assert!(
        s.last_exit.as_deref().unwrap().contains('3'),
        "{:?}",
        s.last_exit
    );
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_running_tunnel_command_is_stopped_with_the_server() {
    let up = Arc::new(AtomicBool::new(true));
    let url = fake_public(up).await;
    let t = app(
        &format!("public_url = \"{url}\""),
        "[tunnel]\ncommand = \"echo connected; exec sleep 30\"\n",
    )
    .await;
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(tunnel::supervise(t.ctx.clone(), rx));
    let started = std::time::Instant::now();
    while !t
        .ctx
        .maintenance
        .supervisor()
        .log
        .iter()
        .any(|l| l == "connected")
        && started.elapsed() < Duration::from_secs(10)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let s = t.ctx.maintenance.supervisor();
    assert!(s.running, "{s:?}");
    let pid = s.pid.unwrap();
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    let s = t.ctx.maintenance.supervisor();
    assert!(!s.running);
    assert_eq!(s.restarts, 0);
    let alive = std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(!alive, "the tunnel process is gone");
}

/// Whether a process runs (a zombie waiting for its reaper does not).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            let state = s.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        })
        .unwrap_or(false)
}

/// `systemctl stop` used to leave what `sh -c` had started (a pipe, a wrapper's children)
/// running after the kiosk stopped: now the command's whole process group stops with it.
#[tokio::test]
async fn the_tunnel_commands_children_stop_with_the_server() {
    let up = Arc::new(AtomicBool::new(true));
    let url = fake_public(up).await;
    let t = app(
        &format!("public_url = \"{url}\""),
        "[tunnel]\ncommand = \"sleep 300 & echo child=$!; wait\"\n",
    )
    .await;
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(tunnel::supervise(t.ctx.clone(), rx));
    let started = std::time::Instant::now();
    let child = loop {
        let found = t
            .ctx
            .maintenance
            .supervisor()
            .log
            .iter()
            .find_map(|l| l.strip_prefix("child=").and_then(|p| p.parse::<u32>().ok()));
        if let Some(pid) = found {
            break pid;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "no child line");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(running(child));
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(8), task)
        .await
        .unwrap()
        .unwrap();
    let gone_by = std::time::Instant::now() + Duration::from_secs(2);
    while running(child) && std::time::Instant::now() < gone_by {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!running(child), "the shell's child {child} stopped too");
}

#[tokio::test]
async fn payments_are_refused_while_the_public_url_does_not_reach_us() {
    let up = Arc::new(AtomicBool::new(true));
    let url = fake_public(up.clone()).await;
    let t = app(
        &format!("public_url = \"{url}\""),
        "[tunnel]\ndown_after_failures = 2\n",
    )
    .await;
    let ctx = &t.ctx;
    let generate = || {
        common::send(
            t.api(),
            "POST",
            "/api/generate-qr",
            Some(json!({"payment_type": "payme", "template": "strip", "copies": 1})),
            None,
        )
    };

    // Not checked yet: refused.
    assert!(tunnel::accepting_payments(ctx).is_err());
    let (status, body) = generate().await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("out of service"),
        "{body}"
    );

    // Up: accepted.
    let r = tunnel::check_once(ctx).await.unwrap();
    assert!(r.ok && r.state == TunnelState::Up, "{r:?}");
    assert_eq!(tunnel::accepting_payments(ctx), Ok(()));
    let (status, body) = generate().await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Down: one failure is tolerated, the second refuses payments and alerts staff.
    up.store(false, Ordering::SeqCst);
    let r = tunnel::check_once(ctx).await.unwrap();
    assert!(!r.ok && r.state == TunnelState::Up, "{r:?}");
    let r = tunnel::check_once(ctx).await.unwrap();
    assert_eq!(r.state, TunnelState::Down);
    assert_eq!(r.http_status, Some(502));
    assert!(tunnel::accepting_payments(ctx).is_err());
    let (status, body) = generate().await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"].as_str().unwrap().contains("out of service"));
    // The customer page asks first and shows "out of service" instead of the payment screen.
    let (status, ready) =
        common::send(t.api(), "GET", "/api/kiosk/readiness?copies=1", None, None).await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!(
        (ready["ready"].clone(), ready["reason"].clone()),
        (json!(false), json!("offline"))
    );
    let (status, health) = common::send(t.api(), "GET", "/healthz", None, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{health}");
    assert_eq!(health["tunnel"]["status"], "down");
    assert_eq!(health["accepting_payments"], false);
    let alerts = mq::list_alerts(ctx.store.pool(), true, 10).await.unwrap();
    assert_eq!(alerts.iter().filter(|a| a.kind == "tunnel_down").count(), 1);
    assert_eq!(
        mq::recent_tunnel_checks(ctx.store.pool(), 10)
            .await
            .unwrap()
            .len(),
        3
    );

    // Back up: accepted again, the alert resolved.
    up.store(true, Ordering::SeqCst);
    assert_eq!(
        tunnel::check_once(ctx).await.unwrap().state,
        TunnelState::Up
    );
    assert_eq!(tunnel::accepting_payments(ctx), Ok(()));
    let open = mq::list_alerts(ctx.store.pool(), true, 10).await.unwrap();
    assert!(!open.iter().any(|a| a.kind == "tunnel_down"), "{open:?}");
    assert!(open.iter().any(|a| a.kind == "tunnel_up"));
}

#[tokio::test]
async fn an_unreachable_public_url_counts_as_down_and_no_url_means_no_check() {
    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let t = app(
        &format!("public_url = \"http://127.0.0.1:{port}\""),
        "[tunnel]\ncheck_timeout_secs = 2\n",
    )
    .await;
    let r = tunnel::check_once(&t.ctx).await.unwrap();
    assert!(!r.ok);
    assert_eq!(
        r.state,
        TunnelState::Down,
        "the first check decides from unknown"
    );
    assert!(r.error.unwrap().contains("connect"));

    let plain = common::TestApp::new().await;
    assert!(tunnel::check_once(&plain.ctx).await.is_none());
    assert_eq!(tunnel::accepting_payments(&plain.ctx), Ok(()));
}
