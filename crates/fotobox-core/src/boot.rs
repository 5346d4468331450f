//! Building the application context: the start-up integrity check and recovery, opening and
//! migrating the store, the staff token. Above `context` so that the context itself imports no
//! maintenance code.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use rand::RngCore;

use fotobox_store::Store;

use crate::clock::Clock;
use crate::config::{Config, Secret};
use crate::context::{AppContext, AppError};
use crate::events::EventBus;
use crate::maintenance::recovery;
use crate::outbound::Outbound;

impl AppContext {
    /// Open the store (creating and migrating it) and build the context.
    pub async fn new(config: Config) -> Result<AppContext, AppError> {
        let data_dir = config.resolve_data_dir()?;
        std::fs::create_dir_all(&data_dir).map_err(|source| AppError::Io {
            path: data_dir.clone(),
            source,
        })?;
        // Unattended operation: quick_check + recovery, backup before migrating (maintenance::recovery).
        recovery::prepare_database(&config, &data_dir).await?;
        let store = Store::open(
            &config.database_path()?,
            Duration::from_millis(config.database.busy_timeout_ms),
        )
        .await?;
        let staff_token = resolve_staff_token(&config, &data_dir)?;
        Ok(AppContext {
            config: Arc::new(config),
            store,
            events: EventBus::default(),
            clock: Clock::default(),
            data_dir,
            staff_token,
            http: Outbound::default(),
            maintenance: Default::default(),
            metrics: Default::default(),
            layouts: Default::default(),
            print_turn: Default::default(),
            login_gate: Default::default(),
            callback_base: Arc::new(RwLock::new(None)),
        })
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
