//! Process counters behind `/metrics`: callback latency and codes, server errors, background
//! job failures, tunnel, backups and disk. One set per application context (no global registry).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Upper bounds (seconds) of the callback latency histogram.
pub const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
pub(crate) struct Histogram {
    pub(crate) counts: Vec<u64>,
    pub(crate) sum: f64,
    pub(crate) count: u64,
}

#[derive(Default)]
pub(crate) struct Registry {
    pub(crate) callback_latency: BTreeMap<String, Histogram>,
    pub(crate) callbacks: BTreeMap<(String, u16), u64>,
    pub(crate) server_errors: u64,
    pub(crate) errors: BTreeMap<String, u64>,
    pub(crate) tunnel_up: Option<bool>,
    pub(crate) tunnel_latency_ms: u64,
    pub(crate) tunnel_restarts: u64,
    pub(crate) last_backup: Option<i64>,
    pub(crate) disk: BTreeMap<String, (u64, u64)>,
    pub(crate) auth_failures: BTreeMap<String, u64>,
    last_auth_log: BTreeMap<String, i64>,
}

/// The counters of one application context (a fresh set per context, so tests do not share).
/// Cheap to clone.
#[derive(Clone, Default)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Registry) -> R) -> R {
        f(&mut self.registry.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Called for every HTTP request by the request-log middleware (path, status, duration).
    pub fn observe_request(&self, path: &str, status: u16, elapsed: Duration) {
        let provider = if path.starts_with("/api/payme/") {
            Some("payme")
        } else if path.starts_with("/api/click/") {
            Some("click")
        } else {
            None
        };
        self.with(|r| {
            if status >= 500 {
                r.server_errors += 1;
            }
            if let Some(p) = provider {
                let secs = elapsed.as_secs_f64();
                let h = r.callback_latency.entry(p.to_string()).or_default();
                if h.counts.is_empty() {
                    h.counts = vec![0; BUCKETS.len()];
                }
                for (i, b) in BUCKETS.iter().enumerate() {
                    if secs <= *b {
                        h.counts[i] += 1;
                    }
                }
                h.sum += secs;
                h.count += 1;
                *r.callbacks.entry((p.to_string(), status)).or_default() += 1;
            }
        });
    }

    /// Count a failure of a background job (`backup`, `alert_send`, `retention`, ...).
    pub fn count_error(&self, job: &str) {
        self.with(|r| *r.errors.entry(job.to_string()).or_default() += 1);
    }

    pub fn set_tunnel(&self, up: bool, latency_ms: u64) {
        self.with(|r| {
            r.tunnel_up = Some(up);
            r.tunnel_latency_ms = latency_ms;
        });
    }

    pub fn count_tunnel_restart(&self) {
        self.with(|r| r.tunnel_restarts += 1);
    }

    pub fn set_last_backup(&self, unix: i64) {
        self.with(|r| r.last_backup = Some(unix));
    }

    pub fn set_disk(&self, name: &str, free: u64, total: u64) {
        self.with(|r| {
            r.disk.insert(name.to_string(), (free, total));
        });
    }

    /// Count a provider callback that failed authentication (nothing is written to the database
    /// for it). Returns whether to log it: at most once every 10 s per provider, so a flood
    /// cannot fill the log either.
    pub fn count_auth_failure(&self, provider: &str, now_unix: i64) -> bool {
        self.with(|r| {
            *r.auth_failures.entry(provider.to_string()).or_default() += 1;
            let last = r
                .last_auth_log
                .entry(provider.to_string())
                .or_insert(i64::MIN);
            if now_unix.saturating_sub(*last) >= 10 {
                *last = now_unix;
                true
            } else {
                false
            }
        })
    }
}
