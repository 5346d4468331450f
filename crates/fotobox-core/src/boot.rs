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
use crate::maintenance::{journal, recovery};
use crate::outbound::Outbound;
use crate::private_file::{refuse_wide_mode, write_private};
use crate::sandbox;

impl AppContext {
    /// Open the store (creating and migrating it) and build the context.
    pub async fn new(config: Config) -> Result<AppContext, AppError> {
        let data_dir = config.resolve_data_dir()?;
        std::fs::create_dir_all(&data_dir).map_err(|source| AppError::Io {
            path: data_dir.clone(),
            source,
        })?;
        // Sandbox mode: providers without credentials get generated ones (never in live mode).
        let mut config = config;
        sandbox::fill_missing_credentials(&mut config, &data_dir)?;
        // Unattended operation: quick_check + recovery, backup before migrating (maintenance::recovery).
        recovery::prepare_database(&config, &data_dir).await?;
        let store = Store::open(
            &config.database_path()?,
            Duration::from_millis(config.database.busy_timeout_ms),
        )
        .await?;
        let journal = journal::open(&config, &data_dir)?;
        let staff_token = resolve_staff_token(&config, &data_dir)?;
        Ok(AppContext {
            config: Arc::new(config),
            store,
            journal,
            events: EventBus::default(),
            clock: Clock::default(),
            data_dir,
            staff_token,
            kiosk_key: new_kiosk_key(),
            http: Outbound::default(),
            maintenance: Default::default(),
            metrics: Default::default(),
            layouts: Default::default(),
            samples: Default::default(),
            print_turn: Default::default(),
            printer_status: Default::default(),
            login_gate: Default::default(),
            heavy: Default::default(),
            status_checks: Default::default(),
            callback_base: Arc::new(RwLock::new(None)),
        })
    }
}

/// A fresh random kiosk key (32 bytes, hex): a new one at every start, so a key that leaked from
/// an old page or log is worthless after a restart.
fn new_kiosk_key() -> Secret {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    Secret::new(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// The configured staff token, else the one stored in `<data_dir>/staff_token`, else a new
/// random one written there. The file is created with mode 0600 (never readable by others, not
/// even for a moment), and an existing file that others may read is refused: whoever reads the
/// token is staff. The token itself is never logged.
fn resolve_staff_token(config: &Config, data_dir: &std::path::Path) -> Result<Secret, AppError> {
    if !config.server.staff_token.is_empty() {
        return Ok(config.server.staff_token.clone());
    }
    let path = data_dir.join("staff_token");
    let io = |source| AppError::Io {
        path: path.clone(),
        source,
    };
    match std::fs::metadata(&path) {
        Ok(meta) => {
            refuse_wide_mode(&path, &meta)?;
            let existing = std::fs::read_to_string(&path).map_err(io)?;
            let t = existing.trim();
            if t.len() >= crate::config::MIN_STAFF_TOKEN_LEN {
                return Ok(Secret::new(t));
            }
            // Empty or too short (hand-edited): replace it with a new one below.
            std::fs::remove_file(&path).map_err(io)?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, format!("{token}\n").as_bytes()).map_err(io)?;
    tracing::info!(path = %path.display(), "generated a staff token");
    Ok(Secret::new(token))
}
