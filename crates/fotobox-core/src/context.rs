//! The one cloneable application context (config, store, clock, event bus, HTTP client),
//! handed to the axum routers, the CLI and the Tauri shell alike.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rand::RngCore;

use crate::clock::Clock;
use crate::config::{Config, ConfigError, Secret};
use crate::events::EventBus;
use crate::store::{Store, StoreError};

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
}

#[derive(Clone)]
pub struct AppContext {
    pub config: Arc<Config>,
    pub store: Store,
    pub events: EventBus,
    pub clock: Clock,
    pub data_dir: PathBuf,
    /// The staff bearer token (configured, or generated once into the data directory).
    pub staff_token: Secret,
    /// Outgoing HTTP (simulators, provider status APIs).
    pub http: reqwest::Client,
    /// State of the unattended-operation tasks (tunnel, supervisor, device reports).
    pub maintenance: crate::maintenance::MaintenanceState,
    callback_base: Arc<RwLock<Option<String>>>,
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
    /// Open the store (creating and migrating it) and build the context.
    pub async fn new(config: Config) -> Result<AppContext, AppError> {
        let data_dir = config.resolve_data_dir()?;
        std::fs::create_dir_all(&data_dir).map_err(|source| AppError::Io {
            path: data_dir.clone(),
            source,
        })?;
        // Unattended operation: quick_check + recovery, backup before migrating (maintenance::recovery).
        crate::maintenance::recovery::prepare_database(&config, &data_dir).await?;
        let store = Store::open(
            &config.database_path()?,
            Duration::from_millis(config.database.busy_timeout_ms),
        )
        .await?;
        let staff_token = resolve_staff_token(&config, &data_dir)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap_or_default();
        Ok(AppContext {
            config: Arc::new(config),
            store,
            events: EventBus::default(),
            clock: Clock::default(),
            data_dir,
            staff_token,
            http,
            maintenance: Default::default(),
            callback_base: Arc::new(RwLock::new(None)),
        })
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

/// The configured staff token, else the one stored in `<data_dir>/staff_token`, else a new
/// random one written there (mode 0600). The token itself is never logged.
fn resolve_staff_token(config: &Config, data_dir: &std::path::Path) -> Result<Secret, AppError> {
    if !config.server.staff_token.is_empty() {
        return Ok(config.server.staff_token.clone());
    }
    let path = data_dir.join("staff_token");
    let io = |source| AppError::Io {
        path: path.clone(),
        source,
    };
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let t = existing.trim();
        if !t.is_empty() {
            return Ok(Secret::new(t));
        }
    }
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(&path, format!("{token}\n")).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    tracing::info!(path = %path.display(), "generated a staff token");
    Ok(Secret::new(token))
}
