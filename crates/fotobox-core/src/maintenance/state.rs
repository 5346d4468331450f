//! In-memory state of the unattended-operation tasks (tunnel, supervisor, component reports,
//! followed conditions), shared through `AppContext::maintenance`. A leaf: it knows no context.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::{watch, Notify};

/// A component's health, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Unknown,
    Ok,
    Degraded,
    Down,
}

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
    /// The size of the last still the kiosk page uploaded (the camera's print resolution).
    camera_still: Mutex<Option<(u32, u32)>>,
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

    /// A subsystem (camera, printer, ...) reports its state for `/healthz` and the staff panel.
    /// Until one reports, it shows as `unknown`.
    pub fn report(&self, name: &str, status: Level, detail: &str, at: DateTime<Utc>) {
        lock(&self.inner.components).insert(
            name.to_string(),
            ComponentReport {
                status,
                detail: detail.to_string(),
                at,
            },
        );
    }

    /// [`MaintenanceState::report`] at the clock's now.
    pub fn report_now(&self, clock: &crate::clock::Clock, name: &str, status: Level, detail: &str) {
        self.report(name, status, detail, clock.now());
    }

    /// Remember the size of a still the page took (width, height).
    pub fn set_camera_still(&self, width: u32, height: u32) {
        *lock(&self.inner.camera_still) = Some((width, height));
    }

    /// The size of the last still the page took, if any since start.
    pub fn camera_still(&self) -> Option<(u32, u32)> {
        *lock(&self.inner.camera_still)
    }

    /// Wait until [`MaintenanceState::wake_sender`] is called.
    pub(crate) async fn sender_woken(&self) {
        self.inner.sender.notified().await;
    }

    pub(crate) fn optimize_due(&self, now: DateTime<Utc>, every_hours: u64) -> bool {
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

/// Resolves once `stop` turns true (or its sender is gone), holding no borrow across awaits.
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
