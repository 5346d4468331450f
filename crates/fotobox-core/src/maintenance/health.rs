//! The detailed health report (`GET /healthz` on the API listener, and the staff panel): each
//! part with ok / degraded / down / unknown, and the overall status. Down when the kiosk cannot
//! take payments safely (database unreadable or not writable, tunnel, disk nearly full); degraded when something needs
//! attention; parts nobody has reported yet (camera, printer) are unknown and do not count. The
//! printer is reported by the device checks and the kiosk's readiness check, the camera by the
//! kiosk page (see [`super::devices`]).

use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::maintenance::state::Level;
use serde_json::{json, Value};

use crate::context::AppContext;
use fotobox_store::maintenance as q;

use crate::maintenance::state::TunnelState;

/// One part of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Part {
    pub status: Level,
    #[serde(flatten)]
    pub detail: Value,
}

fn part(status: Level, detail: Value) -> Part {
    Part { status, detail }
}

#[derive(Debug, Clone, Serialize)]
pub struct HealthReport {
    pub status: Level,
    pub checked_at: DateTime<Utc>,
    pub accepting_payments: bool,
    pub database: Part,
    pub disk: Part,
    pub tunnel: Part,
    pub camera: Part,
    pub printer: Part,
    pub backups: Part,
    pub callbacks: Part,
    pub alerts: Part,
}

/// Free and total bytes of the file system holding `dir` (`statvfs`; the one measurement the
/// health report, the device check and the staff panel's Devices page all use).
pub async fn disk_space(dir: &Path) -> Option<(u64, u64)> {
    let s = rustix::fs::statvfs(dir).ok()?;
    Some((
        s.f_bavail.saturating_mul(s.f_frsize),
        s.f_blocks.saturating_mul(s.f_frsize),
    ))
}

/// Disk level for `free` bytes against the configured minimum (MiB).
pub fn disk_level(free: u64, min_free_mb: u64) -> Level {
    let min = min_free_mb * 1024 * 1024;
    if free < min / 10 {
        Level::Down
    } else if free < min {
        Level::Degraded
    } else {
        Level::Ok
    }
}

/// Build the report.
pub async fn collect(ctx: &AppContext) -> HealthReport {
    let now = ctx.clock.now();

    let started = Instant::now();
    let database = match ctx.store.ping().await {
        Ok(_) => {
            let bytes = std::fs::metadata(ctx.store.path())
                .map(|m| m.len())
                .unwrap_or(0);
            let mut detail = json!({"latency_ms": started.elapsed().as_millis() as u64, "size_bytes": bytes, "writable": true});
            let mut level = Level::Ok;
            // Readable but not writable (disk full or failed): the kiosk sells nothing.
            if let Some(f) = ctx.store.write_failure() {
                level = Level::Down;
                detail["writable"] = json!(false);
                detail["reason"] = json!(format!("the database cannot be written ({})", f.reason));
                detail["since"] = json!(f.since);
                detail["failed_writes"] = json!(f.failures);
            }
            part(level, detail)
        }
        Err(e) => {
            tracing::error!(error = %e, "health: database unavailable");
            part(Level::Down, json!({"error": "unavailable"}))
        }
    };

    let min_mb = ctx.config.alerts.disk_min_free_mb;
    let mut disk_parts = Vec::new();
    let mut disk_level_all = Level::Ok;
    let backup_dir = super::backups::auto_dir(&ctx.config, &ctx.data_dir);
    for (name, dir) in [
        ("data", ctx.data_dir.clone()),
        ("backups", backup_dir.clone()),
    ] {
        let probe = if dir.exists() {
            dir.clone()
        } else {
            ctx.data_dir.clone()
        };
        match disk_space(&probe).await {
            Some((free, total)) => {
                let level = disk_level(free, min_mb);
                disk_level_all = disk_level_all.max(level);
                ctx.metrics.set_disk(name, free, total);
                disk_parts.push(json!({"name": name, "path": dir, "status": level, "free_bytes": free, "total_bytes": total}));
            }
            None => {
                disk_level_all = disk_level_all.max(Level::Degraded);
                disk_parts.push(json!({"name": name, "path": dir, "status": Level::Unknown}));
            }
        }
    }
    // A degraded backup disk is not a reason to stop selling.
    let data_level = disk_parts
        .first()
        .and_then(|p| serde_json::from_value::<Level>(p["status"].clone()).ok())
        .unwrap_or(Level::Unknown);
    let disk_status = if data_level == Level::Down {
        Level::Down
    } else {
        disk_level_all.min(Level::Degraded)
    };
    let disk = part(
        disk_status,
        json!({"min_free_mb": min_mb, "volumes": disk_parts}),
    );

    let t = ctx.maintenance.tunnel();
    let sup = ctx.maintenance.supervisor();
    let tunnel = match &ctx.config.server.public_url {
        None => part(Level::Ok, json!({"configured": false})),
        Some(url) => {
            let level = match t.state {
                TunnelState::Up => Level::Ok,
                TunnelState::Unknown => Level::Degraded,
                TunnelState::Down => Level::Down,
            };
            part(
                level,
                json!({
                    "configured": true,
                    "public_url": url,
                    "state": t.state,
                    "consecutive_failures": t.consecutive_failures,
                    "last_check_at": t.last_check_at,
                    "last_ok_at": t.last_ok_at,
                    "last_error": t.last_error,
                    "latency_ms": t.last_latency_ms,
                    "supervisor": if sup.enabled { json!({
                        "running": sup.running, "pid": sup.pid, "starts": sup.starts,
                        "restarts": sup.restarts, "last_exit": sup.last_exit,
                    }) } else { Value::Null },
                }),
            )
        }
    };

    let components = ctx.maintenance.components();
    let device = |name: &str| match components.get(name) {
        Some(r) => part(r.status, json!({"detail": r.detail, "reported_at": r.at})),
        None => part(Level::Unknown, json!({"detail": "not reported yet"})),
    };
    let camera = device("camera");
    let printer = device("printer");

    let backups = {
        let autos: Vec<_> = super::backups::list_dir(&backup_dir)
            .into_iter()
            .filter(|b| b.automatic)
            .collect();
        let newest = autos.last().map(|b| b.taken_at);
        let last_run = q::last_run(ctx.store.pool(), "backup", false)
            .await
            .ok()
            .flatten();
        let failed = last_run.as_ref().map(|r| !r.ok).unwrap_or(false);
        let stale = ctx.config.backup.enabled
            && newest
                .map(|t| now - t > chrono::Duration::hours(49))
                .unwrap_or(false);
        let level = if !ctx.config.backup.enabled {
            Level::Ok
        } else if failed || stale {
            Level::Degraded
        } else if newest.is_none() {
            Level::Unknown
        } else {
            Level::Ok
        };
        part(
            level,
            json!({"enabled": ctx.config.backup.enabled, "dir": backup_dir, "count": autos.len(), "newest_at": newest, "last_run_ok": last_run.map(|r| r.ok)}),
        )
    };

    let callbacks = match q::last_callbacks(ctx.store.pool()).await {
        Ok(rows) => {
            let mut m = serde_json::Map::new();
            for p in ["payme", "click"] {
                let at = rows.iter().find(|(s, _)| s == p).map(|(_, t)| *t);
                m.insert(p.into(), json!({"last_callback_at": at, "seconds_ago": at.map(|t| (now - t).num_seconds())}));
            }
            part(Level::Ok, Value::Object(m))
        }
        Err(_) => part(Level::Unknown, json!({})),
    };

    let alerts = match q::open_alert_counts(ctx.store.pool()).await {
        Ok(rows) => {
            let critical = rows
                .iter()
                .find(|(s, _)| s == "critical")
                .map(|r| r.1)
                .unwrap_or(0);
            let level = if critical > 0 {
                Level::Degraded
            } else {
                Level::Ok
            };
            part(
                level,
                json!({"open": rows.into_iter().collect::<std::collections::BTreeMap<_, _>>()}),
            )
        }
        Err(_) => part(Level::Unknown, json!({})),
    };

    let accepting =
        super::tunnel::accepting_payments(ctx).is_ok() && ctx.store.write_failure().is_none();
    let parts = [
        &database, &disk, &tunnel, &camera, &printer, &backups, &callbacks, &alerts,
    ];
    let worst = parts
        .iter()
        .map(|p| p.status)
        .filter(|l| *l != Level::Unknown)
        .max()
        .unwrap_or(Level::Ok);
    HealthReport {
        status: worst,
        checked_at: now,
        accepting_payments: accepting,
        database,
        disk,
        tunnel,
        camera,
        printer,
        backups,
        callbacks,
        alerts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_and_disk_thresholds() {
        assert!(
            Level::Down > Level::Degraded
                && Level::Degraded > Level::Ok
                && Level::Ok > Level::Unknown
        );
        assert_eq!(disk_level(2 << 30, 1024), Level::Ok);
        assert_eq!(disk_level(500 << 20, 1024), Level::Degraded);
        assert_eq!(disk_level(50 << 20, 1024), Level::Down);
    }
}
