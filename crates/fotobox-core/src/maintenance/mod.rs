//! Unattended operation: automatic verified backups with retention, the start-up integrity check
//! with recovery, data retention and archiving, tunnel supervision and health, the Click status
//! fallback, staff alerts (raised by the device checks in [`devices`] too), the detailed health
//! report and Prometheus metrics.
//!
//! Hooks elsewhere (each one line): `AppContext::new` calls [`recovery::prepare_database`]
//! before the store is opened; `server::start` calls [`spawn`]; `http::api_router` mounts
//! [`routes`] (detailed `/healthz`, `/metrics`, staff endpoints); `orders::create_order` asks
//! [`tunnel::accepting_payments`]; `kiosk` reports printer readiness and the camera to
//! [`devices`]; the print queue raises `print_failed`.

pub mod alerts;
pub mod api;
pub mod backups;
pub mod devices;
pub mod health;
pub mod metrics;
pub mod recovery;
pub mod retention;
pub mod settings;
pub mod tunnel;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::context::AppContext;

pub use api::routes;
pub use health::Level;

/// How often the scheduler looks at the clock (backups, retention, optimize, device checks,
/// summary).
pub const SCHEDULER_EVERY: Duration = Duration::from_secs(30);
/// The scheduler's first look, after start (keeps start-up and short runs quiet).
pub const SCHEDULER_FIRST: Duration = Duration::from_secs(30);
/// How often the alert sender looks for due retries (it is also woken by every new alert).
pub const SENDER_EVERY: Duration = Duration::from_secs(15);

/// The tunnel as the health check last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TunnelState {
    /// No check has finished yet.
    #[default]
    Unknown,
    Up,
    Down,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TunnelStatus {
    pub state: TunnelState,
    pub consecutive_failures: u64,
    pub last_check_at: Option<DateTime<Utc>>,
    pub last_ok_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_latency_ms: Option<u64>,
}

/// The supervised tunnel command.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SupervisorStatus {
    pub enabled: bool,
    pub running: bool,
    pub pid: Option<u32>,
    pub starts: u64,
    pub restarts: u64,
    pub started_at: Option<DateTime<Utc>>,
    pub last_exit: Option<String>,
    /// The delays waited before the latest restarts (ms), newest last, at most 20.
    pub recent_backoffs_ms: Vec<u64>,
    /// The command's last output lines (stdout and stderr).
    pub log: VecDeque<String>,
}

/// What a subsystem (camera, printer) last reported about itself.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentReport {
    pub status: Level,
    pub detail: String,
    pub at: DateTime<Utc>,
}

#[derive(Default)]
struct Inner {
    tunnel: Mutex<TunnelStatus>,
    supervisor: Mutex<SupervisorStatus>,
    components: Mutex<BTreeMap<String, ComponentReport>>,
    /// Conditions that [`alerts::track`] follows (alert key -> active), since start.
    conditions: Mutex<BTreeMap<String, bool>>,
    last_optimize: Mutex<Option<DateTime<Utc>>>,
    sender: Notify,
}

/// In-memory state of the maintenance tasks, shared through [`AppContext::maintenance`].
#[derive(Clone, Default)]
pub struct MaintenanceState {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MaintenanceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaintenanceState").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl MaintenanceState {
    pub fn tunnel(&self) -> TunnelStatus {
        lock(&self.inner.tunnel).clone()
    }

    pub(crate) fn update_tunnel<R>(&self, f: impl FnOnce(&mut TunnelStatus) -> R) -> R {
        f(&mut lock(&self.inner.tunnel))
    }

    pub fn supervisor(&self) -> SupervisorStatus {
        lock(&self.inner.supervisor).clone()
    }

    pub(crate) fn update_supervisor<R>(&self, f: impl FnOnce(&mut SupervisorStatus) -> R) -> R {
        f(&mut lock(&self.inner.supervisor))
    }

    pub fn components(&self) -> BTreeMap<String, ComponentReport> {
        lock(&self.inner.components).clone()
    }

    /// Record whether the condition behind alert `key` holds; returns what it was before
    /// (`None`: not checked since start).
    pub(crate) fn swap_condition(&self, key: &str, active: bool) -> Option<bool> {
        lock(&self.inner.conditions).insert(key.to_string(), active)
    }

    pub(crate) fn wake_sender(&self) {
        self.inner.sender.notify_one();
    }

    fn optimize_due(&self, now: DateTime<Utc>, every_hours: u64) -> bool {
        let mut last = lock(&self.inner.last_optimize);
        match *last {
            None => {
                *last = Some(now);
                false
            }
            Some(t)
                if every_hours > 0 && now - t >= chrono::Duration::hours(every_hours as i64) =>
            {
                *last = Some(now);
                true
            }
            _ => false,
        }
    }
}

/// A subsystem (camera, printer, ...) reports its state for `/healthz` and the staff panel.
/// Until one reports, it shows as `unknown`.
pub fn report_component(ctx: &AppContext, name: &str, status: Level, detail: &str) {
    lock(&ctx.maintenance.inner.components).insert(
        name.to_string(),
        ComponentReport {
            status,
            detail: detail.to_string(),
            at: ctx.clock.now(),
        },
    );
}

/// One scheduler step: daily backup, daily retention (right after the backup when backups are
/// on, on its own when they are off), `PRAGMA optimize`, device checks (printer, paper, disk),
/// daily summary and the Click status fallback. Each part logs its own failures.
pub async fn scheduler_tick(ctx: &AppContext) {
    let backed_up = backups::tick(ctx).await.is_some();
    let retained = retention::tick(ctx).await.is_some();
    // (Asked every time: the periodic timer starts at the first look.)
    let periodic = ctx
        .maintenance
        .optimize_due(ctx.clock.now(), ctx.config.schedule.optimize_every_hours);
    if backed_up || retained || periodic {
        optimize(ctx).await;
    }
    devices::check(ctx).await;
    alerts::summary_tick(ctx).await;
    crate::click_api::auto_check(ctx).await;
}

async fn optimize(ctx: &AppContext) {
    if let Err(e) = crate::store::maintenance::optimize(ctx.store.pool()).await {
        tracing::warn!(error = %e, "PRAGMA optimize failed");
    }
}

/// Resolves once `stop` turns true (or its sender is gone), holding no borrow across awaits.
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Start the background tasks (scheduler with the device checks, alert sender, tunnel health
/// check and supervisor).
/// Each ends when `stop` turns true; the supervisor kills its command first.
pub fn spawn(ctx: &AppContext, stop: &watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();

    let (c, mut rx) = (ctx.clone(), stop.clone());
    tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(
            tokio::time::Instant::now() + SCHEDULER_FIRST,
            SCHEDULER_EVERY,
        );
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => scheduler_tick(&c).await,
                _ = stopped(&mut rx) => break,
            }
        }
    }));

    let (c, mut rx) = (ctx.clone(), stop.clone());
    tasks.push(tokio::spawn(async move {
        loop {
            if let Err(e) = alerts::deliver_pending(&c).await {
                tracing::warn!(error = %e, "alert delivery failed");
            }
            tokio::select! {
                _ = c.maintenance.inner.sender.notified() => {}
                _ = tokio::time::sleep(SENDER_EVERY) => {}
                _ = stopped(&mut rx) => break,
            }
        }
    }));

    if ctx.config.server.public_url.is_some() {
        tasks.push(tokio::spawn(tunnel::health_loop(ctx.clone(), stop.clone())));
    }
    if !ctx.config.tunnel.command.trim().is_empty() {
        tasks.push(tokio::spawn(tunnel::supervise(ctx.clone(), stop.clone())));
    }
    tasks
}
