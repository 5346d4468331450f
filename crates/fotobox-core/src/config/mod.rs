//! Configuration: a TOML file plus `FOTOBOX_<SECTION>_<KEY>` environment overrides, validated
//! at load. Every section lives here (the money path's in `sections`, unattended operation's
//! and the staff panel's in `operations`); each default is written once.

pub mod de;
pub mod error;
pub mod fiscal;
pub mod load;
pub mod operations;
pub mod root;
pub mod secret;
pub mod sections;
pub mod sound;
pub mod validate;

pub use error::ConfigError;
pub use fiscal::{FiscalConfig, PaymeFiscalAliases};
pub use operations::{
    parse_hhmm, parse_offset, AlertsConfig, BackupConfig, ClickApiConfig, RetentionConfig,
    ScheduleConfig, StaffConfig, StaffLanguage, TunnelConfig,
};
pub use root::Config;
pub use secret::Secret;
pub use sections::{
    CameraConfig, ClickConfig, DatabaseConfig, Mode, OrdersConfig, PaymeConfig, PhotosConfig,
    PriceValue, PricingConfig, PrinterConfig, PrinterKind, ServerConfig, MIN_STAFF_TOKEN_LEN,
};
pub use sound::SoundConfig;
