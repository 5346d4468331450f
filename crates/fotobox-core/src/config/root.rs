//! The whole configuration (`Config`) and the paths derived from it.

use std::path::PathBuf;

use serde::Deserialize;

use crate::config::error::ConfigError;
use crate::config::fiscal::FiscalConfig;
use crate::config::operations::{
    AlertsConfig, BackupConfig, RetentionConfig, ScheduleConfig, StaffConfig, TunnelConfig,
};
use crate::config::sections::{
    CameraConfig, ClickConfig, DatabaseConfig, Mode, OrdersConfig, PaymeConfig, PhotosConfig,
    PricingConfig, PrinterConfig, ServerConfig,
};
use crate::config::sound::SoundConfig;

/// The whole configuration, after defaults, file and environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub mode: Mode,
    /// Where the database, logs and photos live. Defaults to the platform data directory.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    #[serde(default)]
    pub database: DatabaseConfig,
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub payme: PaymeConfig,
    #[serde(default)]
    pub click: ClickConfig,
    /// `[fiscal]`, with the `[payme.fiscal]` aliases merged in at load.
    #[serde(default)]
    pub fiscal: FiscalConfig,
    #[serde(default)]
    pub pricing: PricingConfig,
    #[serde(default)]
    pub orders: OrdersConfig,
    #[serde(default)]
    pub photos: PhotosConfig,
    #[serde(default)]
    pub printer: PrinterConfig,
    #[serde(default)]
    pub camera: CameraConfig,
    // Unattended operation (crate::maintenance::settings).
    #[serde(default)]
    pub schedule: ScheduleConfig,
    #[serde(default)]
    pub backup: BackupConfig,
    #[serde(default)]
    pub retention: RetentionConfig,
    #[serde(default)]
    pub tunnel: TunnelConfig,
    #[serde(default)]
    pub alerts: AlertsConfig,
    // The staff panel (crate::panel).
    #[serde(default)]
    pub staff: StaffConfig,
    /// The kiosk's sounds (crate::sound).
    #[serde(default)]
    pub sound: SoundConfig,
}

impl Config {
    /// The data directory: the configured one, else the platform's (e.g. `~/.local/share/fotobox`).
    pub fn resolve_data_dir(&self) -> Result<PathBuf, ConfigError> {
        if let Some(d) = &self.data_dir {
            return Ok(d.clone());
        }
        directories::ProjectDirs::from("uz", "fotobox", "fotobox")
            .map(|p| p.data_dir().to_path_buf())
            .ok_or(ConfigError::NoDataDir)
    }

    /// The database file: `database.path` relative to the data directory.
    pub fn database_path(&self) -> Result<PathBuf, ConfigError> {
        let dir = self.resolve_data_dir()?;
        Ok(dir.join(&self.database.path))
    }

    /// Whether Payme has what it needs to take payments: a merchant id and a key Payme signs
    /// with (the TEST_KEY counts in sandbox mode only). Sandbox starts fill in generated ones.
    pub fn payme_enabled(&self) -> bool {
        let key = !self.payme.key.is_empty()
            || (self.mode.is_sandbox() && !self.payme.test_key.is_empty());
        !self.payme.merchant_id.is_empty() && key
    }

    /// Whether Click has what it needs: a service id and a secret key.
    pub fn click_enabled(&self) -> bool {
        self.click.service_id != 0 && !self.click.secret_key.is_empty()
    }
}
