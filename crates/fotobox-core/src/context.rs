//! The one cloneable application context (config, store, clock, event bus, HTTP client, the
//! maintenance state and counters), handed to the http crate, the CLI and the Tauri shell
//! alike. Built by `boot` (`AppContext::new`); every piece of process-wide state lives here.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use fotobox_render::layouts::LayoutCache;
use fotobox_store::{Journal, Store, StoreError};

use crate::clock::Clock;
use crate::config::{Config, ConfigError, Secret};
use crate::events::EventBus;
use crate::limits::{HeavyWork, OncePer};
use crate::maintenance::counters::Metrics;
use crate::maintenance::state::MaintenanceState;
use crate::outbound::Outbound;

/// Errors while building the context or starting the server.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("i/o error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} has mode {mode:o}: others may read it; run `chmod 600 {path}`")]
    Insecure { path: PathBuf, mode: u32 },
    /// A live start without what taking real money needs: one line per failure, naming the key
    /// (`crate::doctor::start_check`).
    #[error("refusing to start in live mode (`fotobox doctor` lists every check):\n{}", .0.join("\n"))]
    LiveStartRefused(Vec<String>),
}

#[derive(Clone)]
pub struct AppContext {
    pub config: Arc<Config>,
    pub store: Store,
    /// The second copy of every acknowledged provider state change (`maintenance::journal`).
    pub journal: Journal,
    pub events: EventBus,
    pub clock: Clock,
    pub data_dir: PathBuf,
    /// The staff bearer token (configured, or generated once into the data directory).
    pub staff_token: Secret,
    /// The per-boot kiosk key: the kiosk page's credential for the endpoints that take an order
    /// id and for the event stream (header `X-Fotobox-Kiosk-Key`). Never stored, never logged.
    pub kiosk_key: Secret,
    /// Outgoing HTTP (simulators, provider status APIs, alerts, the tunnel check).
    pub http: Outbound,
    /// State of the unattended-operation tasks (tunnel, supervisor, device reports).
    pub maintenance: MaintenanceState,
    /// The counters behind `/metrics`.
    pub metrics: Metrics,
    /// Loaded print layouts, by folder.
    pub layouts: LayoutCache,
    /// The attract screen's sample prints, composed once per layout and day.
    pub samples: fotobox_render::samples::SampleCache,
    /// The printer's state as readiness last read it (`printer.status_cache_ms`).
    pub printer_status: crate::print::StatusCache,
    /// One print-queue runner at a time: printing is serial.
    pub print_turn: Arc<tokio::sync::Mutex<()>>,
    /// Slots for uploads and compositions.
    pub heavy: HeavyWork,
    /// The customer's Click status checks, at most one per order every 10 s.
    pub status_checks: OncePer,
    /// Staff logins run one at a time, so parallel guesses cannot pass the lockout count.
    pub login_gate: Arc<tokio::sync::Mutex<()>>,
    pub(crate) callback_base: Arc<RwLock<Option<String>>>,
}

impl std::fmt::Debug for AppContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppContext")
            .field("mode", &self.config.mode)
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl AppContext {
    /// Whether `candidate` is this boot's kiosk key (constant-time).
    pub fn is_kiosk_key(&self, candidate: &str) -> bool {
        use subtle::ConstantTimeEq as _;
        let key = self.kiosk_key.expose().as_bytes();
        !key.is_empty() && bool::from(candidate.trim().as_bytes().ct_eq(key))
    }

    /// `http://<callback listener>` once the server has bound it (the simulators call it).
    pub fn callback_base_url(&self) -> Option<String> {
        self.callback_base.read().ok().and_then(|g| g.clone())
    }

    pub fn set_callback_addr(&self, addr: std::net::SocketAddr) {
        if let Ok(mut g) = self.callback_base.write() {
            *g = Some(format!("http://{addr}"));
        }
    }

    /// Folder for backups taken by staff commands.
    pub fn backup_dir(&self) -> PathBuf {
        self.data_dir.join("backups")
    }
}
