//! The tunnel in front of the callback listener: an optional supervisor that runs the tunnel
//! command (restarting it with backoff and keeping its last output lines), and the health check
//! that fetches `{server.public_url}/healthz` through the tunnel every minute. While the tunnel
//! is down (or not yet checked) the kiosk refuses new payments: a customer must not pay into a
//! void.

use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::watch;

use crate::context::AppContext;
use crate::outbound::{Method, OutRequest, OutboundError};
use fotobox_store::maintenance as q;

use crate::maintenance::alerts::{self, AlertKind};
use crate::maintenance::state::TunnelState;

/// Why new payments may not start now (shown as "out of service: …").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotAccepting {
    #[error("the payment connection is being checked")]
    Checking,
    #[error("the payment connection is down")]
    Down,
}

/// `Ok(())` when new payments may start; else the reason.
/// Always `Ok` when no `server.public_url` is configured (nothing to check).
pub fn accepting_payments(ctx: &AppContext) -> Result<(), NotAccepting> {
    if ctx.config.server.public_url.is_none() {
        return Ok(());
    }
    match ctx.maintenance.tunnel().state {
        TunnelState::Up => Ok(()),
        TunnelState::Unknown => Err(NotAccepting::Checking),
        TunnelState::Down => Err(NotAccepting::Down),
    }
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    pub ok: bool,
    pub http_status: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    /// The tunnel state after this check.
    pub state: TunnelState,
}

/// Check the tunnel once: `GET {public_url}/healthz` must answer 2xx with `"status":"ok"`.
/// Records the check, updates the state, raises `tunnel_down` on the way down and resolves it
/// (with a `tunnel_up` note) on the way up.
pub async fn check_once(ctx: &AppContext) -> Option<CheckResult> {
    let base = ctx.config.server.public_url.as_deref()?;
    let url = format!("{}/healthz", base.trim_end_matches('/'));
    let started = Instant::now();
    let req = OutRequest::new(
        Method::Get,
        url.clone(),
        Duration::from_secs(ctx.config.tunnel.check_timeout_secs),
    );
    let (ok, http_status, error) = match ctx.http.send(req).await {
        Ok(r) => {
            let body = r.json();
            if r.is_success() && body["status"] == "ok" {
                (true, Some(r.status), None)
            } else {
                (
                    false,
                    Some(r.status),
                    Some(format!("HTTP {} from {url}", r.status)),
                )
            }
        }
        Err(OutboundError::Timeout) => (false, None, Some("timeout: timed out".to_string())),
        Err(e) => (false, None, Some(format!("cannot connect: {e}"))),
    };
    let latency_ms = started.elapsed().as_millis() as u64;
    let now = ctx.clock.now();
    let down_after = ctx.config.tunnel.down_after_failures;
    let (before, after) = ctx.maintenance.update_tunnel(|t| {
        let before = t.state;
        t.last_check_at = Some(now);
        t.last_latency_ms = Some(latency_ms);
        if ok {
            t.consecutive_failures = 0;
            t.last_ok_at = Some(now);
            t.last_error = None;
            t.state = TunnelState::Up;
        } else {
            t.consecutive_failures += 1;
            t.last_error = error.clone();
            if t.consecutive_failures >= down_after
                || before == TunnelState::Unknown && t.consecutive_failures >= 1
            {
                t.state = TunnelState::Down;
            }
        }
        (before, t.state)
    });
    ctx.metrics.set_tunnel(after == TunnelState::Up, latency_ms);
    if let Err(e) = q::insert_tunnel_check(
        ctx.store.pool(),
        &url,
        ok,
        http_status.map(i64::from),
        Some(latency_ms as i64),
        error.as_deref(),
        now,
    )
    .await
    {
        tracing::warn!(error = %e, "cannot record a tunnel check");
    }
    if before != after {
        match after {
            TunnelState::Down => {
                tracing::error!(error = ?error, "tunnel down: new payments are refused");
                alerts::raise(
                    ctx,
                    AlertKind::TunnelDown,
                    "tunnel_down",
                    &format!(
                        "Tunnel down: {} is not reachable ({}). New payments are refused.",
                        url,
                        error.as_deref().unwrap_or("no answer")
                    ),
                )
                .await;
            }
            TunnelState::Up => {
                tracing::info!("tunnel up: payments accepted");
                if before == TunnelState::Down {
                    alerts::resolve(ctx, "tunnel_down").await;
                    alerts::raise(
                        ctx,
                        AlertKind::TunnelUp,
                        "tunnel_up",
                        "Tunnel is back up; payments accepted again.",
                    )
                    .await;
                }
            }
            TunnelState::Unknown => {}
        }
    }
    Some(CheckResult {
        ok,
        http_status,
        latency_ms,
        error,
        state: after,
    })
}

/// Check every `tunnel.check_every_secs`, sooner (`tunnel.retry_secs`) after a failure.
pub async fn health_loop(ctx: AppContext, mut stop: watch::Receiver<bool>) {
    // A supervised tunnel needs a moment to connect before the first check.
    let first = if ctx.config.tunnel.command.trim().is_empty() {
        Duration::from_millis(200)
    } else {
        Duration::from_secs(3)
    };
    let mut wait = first;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = crate::maintenance::state::stopped(&mut stop) => return,
        }
        let ok = check_once(&ctx).await.map(|r| r.ok).unwrap_or(true);
        wait = Duration::from_secs(if ok {
            ctx.config.tunnel.check_every_secs
        } else {
            ctx.config.tunnel.retry_secs
        });
    }
}

/// The delay before the next start: `min` after a run longer than `stable`, else double the
/// previous delay, at most `max`.
pub fn next_backoff(
    previous: Option<Duration>,
    ran_for: Duration,
    min: Duration,
    max: Duration,
    stable: Duration,
) -> Duration {
    match previous {
        _ if ran_for >= stable => min,
        None => min,
        Some(p) => (p * 2).clamp(min, max),
    }
}

fn push_line(ctx: &AppContext, line: String) {
    let keep = ctx.config.tunnel.log_lines.max(1) as usize;
    ctx.maintenance.update_supervisor(|s| {
        s.log.push_back(line);
        while s.log.len() > keep {
            s.log.pop_front();
        }
    });
}

/// Run `tunnel.command` (with `sh -c`) until `stop`, restarting it with backoff when it exits.
pub async fn supervise(ctx: AppContext, mut stop: watch::Receiver<bool>) {
    let cfg = ctx.config.tunnel.clone();
    let (min, max, stable) = (
        Duration::from_millis(cfg.restart_min_ms),
        Duration::from_millis(cfg.restart_max_ms),
        Duration::from_secs(cfg.stable_after_secs),
    );
    ctx.maintenance.update_supervisor(|s| s.enabled = true);
    let mut backoff: Option<Duration> = None;
    loop {
        if *stop.borrow() {
            return;
        }
        let started = Instant::now();
        let spawned = Command::new("sh")
            .arg("-c")
            .arg(&cfg.command)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: stopping it stops everything `sh -c` started (a pipe, a
            // wrapper script), not only the shell.
            .process_group(0)
            .kill_on_drop(true)
            .spawn();
        let exit_text = match spawned {
            Err(e) => format!("cannot start: {e}"),
            Ok(mut child) => {
                let pid = child.id();
                ctx.maintenance.update_supervisor(|s| {
                    s.running = true;
                    s.pid = pid;
                    s.starts += 1;
                    s.started_at = Some(Utc::now());
                });
                tracing::info!(pid = ?pid, "tunnel command started");
                let mut readers = Vec::new();
                if let Some(out) = child.stdout.take() {
                    let c = ctx.clone();
                    readers.push(tokio::spawn(async move {
                        let mut lines = BufReader::new(out).lines();
                        while let Ok(Some(l)) = lines.next_line().await {
                            push_line(&c, l);
                        }
                    }));
                }
                if let Some(err) = child.stderr.take() {
                    let c = ctx.clone();
                    readers.push(tokio::spawn(async move {
                        let mut lines = BufReader::new(err).lines();
                        while let Ok(Some(l)) = lines.next_line().await {
                            push_line(&c, l);
                        }
                    }));
                }
                let text = tokio::select! {
                    r = child.wait() => match r {
                        Ok(status) => format!("exited: {status}"),
                        Err(e) => format!("wait failed: {e}"),
                    },
                    _ = crate::maintenance::state::stopped(&mut stop) => {
                        stop_group(&mut child, pid).await;
                        for r in readers {
                            r.abort();
                        }
                        ctx.maintenance.update_supervisor(|s| {
                            s.running = false;
                            s.pid = None;
                            s.last_exit = Some("stopped with the server".into());
                        });
                        tracing::info!("tunnel command stopped");
                        return;
                    }
                };
                // The shell is gone; what it left running in its group goes with it.
                signal_group(pid, rustix::process::Signal::KILL);
                // Let the readers drain what the command printed last.
                for r in readers {
                    let _ = tokio::time::timeout(Duration::from_millis(500), r).await;
                }
                text
            }
        };
        let ran_for = started.elapsed();
        let delay = next_backoff(backoff, ran_for, min, max, stable);
        backoff = Some(delay);
        tracing::warn!(exit = %exit_text, ran_ms = ran_for.as_millis() as u64, restart_in_ms = delay.as_millis() as u64, "tunnel command ended; restarting");
        ctx.metrics.count_tunnel_restart();
        ctx.maintenance.update_supervisor(|s| {
            s.running = false;
            s.pid = None;
            s.last_exit = Some(exit_text.clone());
            s.recent_backoffs_ms.push(delay.as_millis() as u64);
            if s.recent_backoffs_ms.len() > 20 {
                s.recent_backoffs_ms.remove(0);
            }
        });
        push_line(
            &ctx,
            format!(
                "[fotobox] tunnel command {exit_text}; restarting in {} ms",
                delay.as_millis()
            ),
        );
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = crate::maintenance::state::stopped(&mut stop) => return,
        }
        ctx.maintenance.update_supervisor(|s| s.restarts += 1);
    }
}

/// SIGTERM to the command's whole process group, SIGKILL to whatever is left after a grace of
/// [`GROUP_GRACE`].
async fn stop_group(child: &mut tokio::process::Child, pid: Option<u32>) {
    signal_group(pid, rustix::process::Signal::TERM);
    if tokio::time::timeout(GROUP_GRACE, child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
    signal_group(pid, rustix::process::Signal::KILL);
}

/// How long the tunnel command gets to exit after SIGTERM.
const GROUP_GRACE: Duration = Duration::from_secs(3);

fn signal_group(pid: Option<u32>, sig: rustix::process::Signal) {
    let Some(pid) = pid
        .and_then(|p| i32::try_from(p).ok())
        .and_then(rustix::process::Pid::from_raw)
    else {
        return;
    };
    // ESRCH (the group is already empty) is the usual, fine answer.
    let _ = rustix::process::kill_process_group(pid, sig);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_resets() {
        let (min, max, stable) = (
            Duration::from_secs(1),
            Duration::from_secs(60),
            Duration::from_secs(60),
        );
        let quick = Duration::from_millis(10);
        let mut b = None;
        let mut seen = Vec::new();
        for _ in 0..8 {
            let d = next_backoff(b, quick, min, max, stable);
            seen.push(d.as_secs());
            b = Some(d);
        }
        assert_eq!(seen, vec![1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(
            next_backoff(b, Duration::from_secs(120), min, max, stable),
            min
        );
    }
}
