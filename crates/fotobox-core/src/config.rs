//! Configuration: a TOML file plus `FOTOBOX_<SECTION>_<KEY>` environment overrides, validated at load.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

/// Errors that stop the start. `Display` is one line naming the key and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("config key `{key}`: {message}")]
    Invalid { key: String, message: String },
    #[error("no data directory: set --data-dir or FOTOBOX_DATA_DIR")]
    NoDataDir,
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        message: message.into(),
    }
}

/// A secret string: never printed by `Debug` or `Display`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("Secret(<empty>)")
        } else {
            f.write_str("Secret(***)")
        }
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Sandbox: payments may be simulated, Payme's TEST_KEY is accepted, the folder printer is used.
    #[default]
    Sandbox,
    /// Live: real money only.
    Live,
}

impl Mode {
    pub fn is_sandbox(self) -> bool {
        self == Mode::Sandbox
    }
}

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
    #[serde(default)]
    pub pricing: PricingConfig,
    #[serde(default)]
    pub orders: OrdersConfig,
    #[serde(default)]
    pub photos: PhotosConfig,
    #[serde(default)]
    pub printer: PrinterConfig,
    // Unattended operation (crate::maintenance::settings).
    #[serde(default)]
    pub schedule: crate::maintenance::settings::ScheduleConfig,
    #[serde(default)]
    pub backup: crate::maintenance::settings::BackupConfig,
    #[serde(default)]
    pub retention: crate::maintenance::settings::RetentionConfig,
    #[serde(default)]
    pub tunnel: crate::maintenance::settings::TunnelConfig,
    #[serde(default)]
    pub alerts: crate::maintenance::settings::AlertsConfig,
    // The staff panel (crate::panel).
    #[serde(default)]
    pub staff: crate::panel::StaffConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Relative to the data directory, or absolute.
    #[serde(default = "default_db_path")]
    pub path: PathBuf,
    /// How long a writer waits for another writer before giving up (ms).
    #[serde(default = "default_busy_timeout", deserialize_with = "de_u64")]
    pub busy_timeout_ms: u64,
}

fn default_db_path() -> PathBuf {
    PathBuf::from("photobooth.db")
}
fn default_busy_timeout() -> u64 {
    10_000
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            path: default_db_path(),
            busy_timeout_ms: default_busy_timeout(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// The only listener a tunnel may expose: provider callbacks and `GET /healthz`.
    #[serde(default = "default_callback_addr")]
    pub callback_addr: SocketAddr,
    /// Loopback REST API for the UI and staff tools.
    #[serde(default = "default_api_addr")]
    pub api_addr: SocketAddr,
    /// `Authorization: Bearer <token>` on staff endpoints. Generated into the data directory when empty.
    #[serde(default)]
    pub staff_token: Secret,
    /// The public URL of the tunnel (for links shown to customers and the tunnel health check).
    #[serde(default)]
    pub public_url: Option<String>,
}

fn default_callback_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_api_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 5000))
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            callback_addr: default_callback_addr(),
            api_addr: default_api_addr(),
            staff_token: Secret::default(),
            public_url: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymeConfig {
    /// The cash desk's 24-hex merchant id (goes into the checkout link).
    #[serde(default)]
    pub merchant_id: String,
    /// The cash-desk key (live).
    #[serde(default)]
    pub key: Secret,
    /// The sandbox TEST_KEY; accepted only in sandbox mode.
    #[serde(default)]
    pub test_key: Secret,
    /// Basic-auth login, `Paycom` unless Payme support says otherwise.
    #[serde(default = "default_payme_login")]
    pub login: String,
    /// Checkout host override; defaults to test.paycom.uz in sandbox mode, checkout.paycom.uz live.
    #[serde(default)]
    pub checkout_url: Option<String>,
    /// Allow CancelTransaction of a performed transaction while the order is not yet fulfilled.
    #[serde(default = "default_true", deserialize_with = "de_bool")]
    pub allow_refund: bool,
    /// Fiscal receipt item data; `detail` is returned by CheckPerformTransaction only when `ikpu_code` is set.
    #[serde(default)]
    pub fiscal: FiscalConfig,
}

fn default_payme_login() -> String {
    "Paycom".to_string()
}
fn default_true() -> bool {
    true
}

impl Default for PaymeConfig {
    fn default() -> Self {
        PaymeConfig {
            merchant_id: String::new(),
            key: Secret::default(),
            test_key: Secret::default(),
            login: default_payme_login(),
            checkout_url: None,
            allow_refund: true,
            fiscal: FiscalConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FiscalConfig {
    /// IKPU (MXIK) classifier code of the product.
    #[serde(default)]
    pub ikpu_code: Option<String>,
    #[serde(default)]
    pub package_code: Option<String>,
    #[serde(default, deserialize_with = "de_opt_u32")]
    pub vat_percent: Option<u32>,
    /// Receipt line title; defaults to "Photo prints".
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ClickConfig {
    #[serde(default, deserialize_with = "de_u64")]
    pub service_id: u64,
    #[serde(default, deserialize_with = "de_u64")]
    pub merchant_id: u64,
    #[serde(default, deserialize_with = "de_u64")]
    pub merchant_user_id: u64,
    #[serde(default)]
    pub secret_key: Secret,
    /// `[click.api]`: the Merchant API status fallback (crate::maintenance::settings).
    #[serde(default)]
    pub api: crate::maintenance::settings::ClickApiConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricingConfig {
    /// Price of an order with one copy, per layout (whole sum).
    #[serde(default = "default_layouts")]
    pub layouts: BTreeMap<String, PriceValue>,
    /// Price of each copy after the first (whole sum).
    #[serde(default = "default_extra_copy", deserialize_with = "de_i64")]
    pub extra_copy: i64,
    /// Most copies one order may have.
    #[serde(default = "default_max_copies", deserialize_with = "de_u64")]
    pub max_copies: u64,
}

/// A price in whole sum; accepts an integer or a string of digits (environment overrides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceValue(pub i64);

impl<'de> Deserialize<'de> for PriceValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de_i64(d).map(PriceValue)
    }
}

fn default_layouts() -> BTreeMap<String, PriceValue> {
    [("strip", 20_000), ("postcard", 25_000), ("grid", 25_000)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), PriceValue(v)))
        .collect()
}
fn default_extra_copy() -> i64 {
    10_000
}
fn default_max_copies() -> u64 {
    10
}

impl Default for PricingConfig {
    fn default() -> Self {
        PricingConfig {
            layouts: default_layouts(),
            extra_copy: default_extra_copy(),
            max_copies: default_max_copies(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrdersConfig {
    /// How long an unpaid order waits for a payment to start (seconds).
    #[serde(default = "default_ttl", deserialize_with = "de_u64")]
    pub ttl_seconds: u64,
}

fn default_ttl() -> u64 {
    600
}

impl Default for OrdersConfig {
    fn default() -> Self {
        OrdersConfig {
            ttl_seconds: default_ttl(),
        }
    }
}

/// `[photos]`: layouts, compositing and the digital copy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotosConfig {
    /// Folder of layout files (`*.toml`) and their images. Unset: the layouts built into the binary.
    #[serde(default)]
    pub templates_dir: Option<PathBuf>,
    /// The `{event}` text on layouts (empty: the line is left out).
    #[serde(default)]
    pub event_name: String,
    /// chrono format of the `{date}` text.
    #[serde(default = "default_date_format")]
    pub date_format: String,
    /// Local time offset from UTC for `{date}` (Uzbekistan: +5 hours, no daylight saving).
    #[serde(default = "default_utc_offset", deserialize_with = "de_i64")]
    pub utc_offset_minutes: i64,
    /// JPEG quality of the composite (1-100).
    #[serde(default = "default_jpeg_quality", deserialize_with = "de_u64")]
    pub jpeg_quality: u64,
    /// How long a digital-copy link (`GET /p/{token}`) works (hours).
    #[serde(default = "default_download_ttl", deserialize_with = "de_u64")]
    pub download_ttl_hours: u64,
    /// While the kiosk runs, a paid order without photos is flagged for staff only after this (s).
    #[serde(default = "default_capture_timeout", deserialize_with = "de_u64")]
    pub capture_timeout_seconds: u64,
}

fn default_date_format() -> String {
    "%d.%m.%Y".to_string()
}
fn default_utc_offset() -> i64 {
    300
}
fn default_jpeg_quality() -> u64 {
    92
}
fn default_download_ttl() -> u64 {
    24
}
fn default_capture_timeout() -> u64 {
    900
}

impl Default for PhotosConfig {
    fn default() -> Self {
        PhotosConfig {
            templates_dir: None,
            event_name: String::new(),
            date_format: default_date_format(),
            utc_offset_minutes: default_utc_offset(),
            jpeg_quality: default_jpeg_quality(),
            download_ttl_hours: default_download_ttl(),
            capture_timeout_seconds: default_capture_timeout(),
        }
    }
}

/// Which printer prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrinterKind {
    /// CUPS through `lp` / `lpstat`.
    Cups,
    /// Write each job as a file into a folder (sandbox default).
    Folder,
}

/// `[printer]`: the printer, its paper roll and the print queue's retries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterConfig {
    /// `cups` or `folder`; unset: `folder` in sandbox mode, `cups` in live mode.
    #[serde(default)]
    pub kind: Option<PrinterKind>,
    /// CUPS queue name (`lp -d NAME`). Without one a CUPS kiosk reports "not ready" (no QR).
    #[serde(default)]
    pub name: String,
    /// Default `-o media=` value; a layout's own `media` wins.
    #[serde(default = "default_media")]
    pub media: String,
    /// Folder printer output; relative to the data directory. Default `print-out`.
    #[serde(default = "default_print_folder")]
    pub folder: PathBuf,
    /// The `lp` program (a path, for tests or unusual installs).
    #[serde(default = "default_lp")]
    pub lp_command: String,
    /// The `lpstat` program.
    #[serde(default = "default_lpstat")]
    pub lpstat_command: String,
    /// Prints on a full roll (e.g. 400 or 700).
    #[serde(default = "default_roll_size", deserialize_with = "de_u64")]
    pub paper_roll_size: u64,
    /// Attempts at submitting a job before the order is flagged for staff.
    #[serde(default = "default_max_attempts", deserialize_with = "de_u64")]
    pub max_attempts: u64,
    /// A submitted job not finished after this is flagged for staff (never re-submitted).
    #[serde(default = "default_job_timeout", deserialize_with = "de_u64")]
    pub job_timeout_seconds: u64,
    /// How often a submitted job's state is polled (ms).
    #[serde(default = "default_poll_ms", deserialize_with = "de_u64")]
    pub poll_ms: u64,
    /// Longest an `lp`/`lpstat` call may take (ms).
    #[serde(default = "default_command_timeout", deserialize_with = "de_u64")]
    pub command_timeout_ms: u64,
}

fn default_media() -> String {
    "4x6".to_string()
}
fn default_print_folder() -> PathBuf {
    PathBuf::from("print-out")
}
fn default_lp() -> String {
    "lp".to_string()
}
fn default_lpstat() -> String {
    "lpstat".to_string()
}
fn default_roll_size() -> u64 {
    400
}
fn default_max_attempts() -> u64 {
    3
}
fn default_job_timeout() -> u64 {
    600
}
fn default_poll_ms() -> u64 {
    2000
}
fn default_command_timeout() -> u64 {
    15_000
}

impl Default for PrinterConfig {
    fn default() -> Self {
        PrinterConfig {
            kind: None,
            name: String::new(),
            media: default_media(),
            folder: default_print_folder(),
            lp_command: default_lp(),
            lpstat_command: default_lpstat(),
            paper_roll_size: default_roll_size(),
            max_attempts: default_max_attempts(),
            job_timeout_seconds: default_job_timeout(),
            poll_ms: default_poll_ms(),
            command_timeout_ms: default_command_timeout(),
        }
    }
}

impl PrinterConfig {
    /// The configured kind, else `folder` in sandbox mode and `cups` in live mode.
    pub fn effective_kind(&self, mode: Mode) -> PrinterKind {
        self.kind.unwrap_or(if mode.is_sandbox() {
            PrinterKind::Folder
        } else {
            PrinterKind::Cups
        })
    }
}

/// Numbers may come from TOML as integers or from the environment as strings.
#[derive(Deserialize)]
#[serde(untagged)]
enum IntOrString {
    Int(i64),
    Str(String),
}

fn de_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    match IntOrString::deserialize(d)? {
        IntOrString::Int(i) => Ok(i),
        IntOrString::Str(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("expected an integer, got {s:?}"))),
    }
}

fn de_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = de_i64(d)?;
    u64::try_from(v)
        .map_err(|_| serde::de::Error::custom(format!("expected a non-negative integer, got {v}")))
}

fn de_opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let v = de_i64(d)?;
    u32::try_from(v).map(Some).map_err(|_| {
        serde::de::Error::custom(format!("expected a small non-negative integer, got {v}"))
    })
}

fn de_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum BoolOrString {
        Bool(bool),
        Str(String),
    }
    match BoolOrString::deserialize(d)? {
        BoolOrString::Bool(b) => Ok(b),
        BoolOrString::Str(s) => match s.trim() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(serde::de::Error::custom(format!(
                "expected true or false, got {s:?}"
            ))),
        },
    }
}

/// Sections that environment variables may override, longest first so `FOTOBOX_PAYME_FISCAL_X` wins.
const ENV_SECTIONS: &[&str] = &[
    "payme_fiscal",
    "pricing_layouts",
    "click_api", // [click.api], before "click" (maintenance)
    "database",
    "server",
    "payme",
    "click",
    "pricing",
    "orders",
    "photos",
    "printer",
    // Unattended operation (maintenance).
    "schedule",
    "backup",
    "retention",
    "tunnel",
    "alerts",
    "staff",
];

/// Environment variables that are not config keys.
const ENV_RESERVED: &[&str] = &["FOTOBOX_CONFIG", "FOTOBOX_LOG"];

impl Config {
    /// Sandbox defaults, as when no file exists.
    pub fn sandbox_default() -> Config {
        Self::from_table(toml::Table::new()).expect("the empty config is valid")
    }

    /// Load: the file (if given), then the `FOTOBOX_*` environment, then validation.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let vars: Vec<(String, String)> = std::env::vars().collect();
        Self::load_with_env(path, &vars)
    }

    /// Load with an explicit environment (tests).
    pub fn load_with_env(
        path: Option<&Path>,
        env: &[(String, String)],
    ) -> Result<Config, ConfigError> {
        let mut table = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.to_path_buf(),
                    source,
                })?;
                Self::parse_table(&text, p)?
            }
            None => toml::Table::new(),
        };
        apply_env(&mut table, env)?;
        Self::from_table(table)
    }

    /// Parse TOML text (tests and `--config`).
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        Self::from_table(Self::parse_table(text, Path::new("<inline>"))?)
    }

    fn parse_table(text: &str, path: &Path) -> Result<toml::Table, ConfigError> {
        text.parse::<toml::Table>()
            .map_err(|e| ConfigError::Syntax {
                path: path.to_path_buf(),
                message: one_line(e.message()),
            })
    }

    fn from_table(table: toml::Table) -> Result<Config, ConfigError> {
        let cfg: Config =
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
                let key = e.path().to_string();
                let inner = one_line(&e.into_inner().to_string());
                // serde reports unknown fields at the parent's path; name the unknown key itself.
                invalid(if key == "." { "(top level)" } else { &key }, inner)
            })?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Err((key, message)) = self.staff.validate() {
            return Err(invalid(key, message));
        }
        if self.pricing.layouts.is_empty() {
            return Err(invalid(
                "pricing.layouts",
                "at least one layout must have a price",
            ));
        }
        for (name, price) in &self.pricing.layouts {
            if price.0 <= 0 || price.0 > 100_000_000 {
                return Err(invalid(
                    &format!("pricing.layouts.{name}"),
                    format!("price must be between 1 and 100000000 sum, got {}", price.0),
                ));
            }
            if name.is_empty()
                || name.len() > 50
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(invalid(
                    &format!("pricing.layouts.{name}"),
                    "layout names use only letters, digits, '-' and '_' (at most 50)",
                ));
            }
        }
        if self.pricing.extra_copy < 0 || self.pricing.extra_copy > 100_000_000 {
            return Err(invalid(
                "pricing.extra_copy",
                "must be between 0 and 100000000 sum",
            ));
        }
        if self.pricing.max_copies == 0 || self.pricing.max_copies > 100 {
            return Err(invalid("pricing.max_copies", "must be between 1 and 100"));
        }
        if self.orders.ttl_seconds < 30 || self.orders.ttl_seconds > 86_400 {
            return Err(invalid(
                "orders.ttl_seconds",
                "must be between 30 and 86400 seconds",
            ));
        }
        if !(1..=100).contains(&self.photos.jpeg_quality) {
            return Err(invalid("photos.jpeg_quality", "must be between 1 and 100"));
        }
        if self.photos.download_ttl_hours == 0 || self.photos.download_ttl_hours > 24 * 30 {
            return Err(invalid(
                "photos.download_ttl_hours",
                "must be between 1 and 720",
            ));
        }
        if self.photos.utc_offset_minutes.abs() > 14 * 60 {
            return Err(invalid(
                "photos.utc_offset_minutes",
                "must be between -840 and 840",
            ));
        }
        if self.photos.date_format.is_empty() || self.photos.date_format.len() > 64 {
            return Err(invalid(
                "photos.date_format",
                "must be a chrono format of 1 to 64 characters",
            ));
        }
        if self.printer.name.starts_with('-') || self.printer.name.contains(char::is_whitespace) {
            return Err(invalid(
                "printer.name",
                "must be a CUPS queue name without spaces",
            ));
        }
        if self.printer.media.is_empty()
            || self.printer.media.starts_with('-')
            || self.printer.media.contains(char::is_whitespace)
        {
            return Err(invalid(
                "printer.media",
                "must be a media name such as 4x6 or w288h432",
            ));
        }
        if self.printer.paper_roll_size == 0 || self.printer.paper_roll_size > 100_000 {
            return Err(invalid(
                "printer.paper_roll_size",
                "must be between 1 and 100000 prints",
            ));
        }
        if self.printer.max_attempts == 0 || self.printer.max_attempts > 20 {
            return Err(invalid("printer.max_attempts", "must be between 1 and 20"));
        }
        if self.printer.job_timeout_seconds == 0
            || self.printer.poll_ms == 0
            || self.printer.command_timeout_ms == 0
        {
            return Err(invalid(
                "printer.job_timeout_seconds",
                "printer timeouts and poll_ms must be positive",
            ));
        }
        if self.database.path.as_os_str().is_empty() {
            return Err(invalid("database.path", "must not be empty"));
        }
        if self.payme.login.is_empty() || self.payme.login.contains(':') {
            return Err(invalid(
                "payme.login",
                "must be non-empty and contain no ':'",
            ));
        }
        if !self.payme.merchant_id.is_empty() && self.payme.merchant_id.contains(';') {
            return Err(invalid("payme.merchant_id", "must not contain ';'"));
        }
        if let Some(v) = self.payme.fiscal.vat_percent {
            if v > 100 {
                return Err(invalid(
                    "payme.fiscal.vat_percent",
                    "must be between 0 and 100",
                ));
            }
        }
        if let Some(url) = &self.server.public_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(invalid(
                    "server.public_url",
                    "must start with https:// or http://",
                ));
            }
        }
        if self.mode == Mode::Live {
            if self.payme.merchant_id.is_empty() && self.click.service_id == 0 {
                return Err(invalid(
                    "mode",
                    "live mode needs [payme] or [click] credentials",
                ));
            }
            if !self.payme.merchant_id.is_empty() && self.payme.key.is_empty() {
                return Err(invalid(
                    "payme.key",
                    "live mode with a Payme merchant_id needs the cash-desk key",
                ));
            }
            if self.click.service_id != 0 && self.click.secret_key.is_empty() {
                return Err(invalid(
                    "click.secret_key",
                    "live mode with a Click service_id needs the secret key",
                ));
            }
        }
        crate::maintenance::settings::validate(self)?; // [schedule] [backup] [retention] [tunnel] [alerts] [click.api]
        Ok(())
    }

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

    /// Whether a provider has what it needs to take payments.
    pub fn payme_enabled(&self) -> bool {
        !self.payme.merchant_id.is_empty() || self.mode.is_sandbox()
    }

    pub fn click_enabled(&self) -> bool {
        self.click.service_id != 0 || self.mode.is_sandbox()
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Apply `FOTOBOX_<SECTION>_<KEY>=value` (and `FOTOBOX_MODE`, `FOTOBOX_DATA_DIR`) onto the table.
fn apply_env(table: &mut toml::Table, env: &[(String, String)]) -> Result<(), ConfigError> {
    for (name, value) in env {
        let Some(rest) = name.strip_prefix("FOTOBOX_") else {
            continue;
        };
        if ENV_RESERVED.contains(&name.as_str()) {
            continue;
        }
        let lower = rest.to_ascii_lowercase();
        let value = toml::Value::String(value.clone());
        if lower == "mode" || lower == "data_dir" {
            table.insert(lower, value);
            continue;
        }
        let Some(section) = ENV_SECTIONS
            .iter()
            .find(|s| lower.starts_with(&format!("{s}_")))
        else {
            return Err(invalid(
                name,
                "unknown environment override (expected FOTOBOX_<SECTION>_<KEY>)",
            ));
        };
        let key = &lower[section.len() + 1..];
        let mut node = &mut *table;
        for part in section.split('_') {
            let entry = node
                .entry(part.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            node = match entry {
                toml::Value::Table(t) => t,
                _ => return Err(invalid(name, format!("`{part}` is not a section"))),
            };
        }
        node.insert(key.to_string(), value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn empty_config_is_sandbox_with_legacy_defaults() {
        let c = Config::sandbox_default();
        assert_eq!(c.mode, Mode::Sandbox);
        assert_eq!(c.server.callback_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.server.api_addr.to_string(), "127.0.0.1:5000");
        assert_eq!(c.database.path, PathBuf::from("photobooth.db"));
        assert_eq!(c.payme.login, "Paycom");
        assert_eq!(c.orders.ttl_seconds, 600);
    }

    #[test]
    fn unknown_key_is_named() {
        let e = Config::from_toml("[server]\napi_adr = \"127.0.0.1:1\"\n").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("server"), "{msg}");
        assert!(msg.contains("api_adr"), "{msg}");
        assert!(!msg.contains('\n'));
    }

    #[test]
    fn bad_address_names_the_key() {
        let e = Config::from_toml("[server]\napi_addr = \"not an address\"\n").unwrap_err();
        assert!(
            e.to_string().starts_with("config key `server.api_addr`"),
            "{e}"
        );
    }

    #[test]
    fn bad_mode_and_bad_price_are_named() {
        let e = Config::from_toml("mode = \"production\"\n").unwrap_err();
        assert!(e.to_string().contains("`mode`"), "{e}");
        let e = Config::from_toml("[pricing.layouts]\nstrip = -5\n").unwrap_err();
        assert!(e.to_string().contains("pricing.layouts.strip"), "{e}");
        let e = Config::from_toml("[orders]\nttl_seconds = \"ten\"\n").unwrap_err();
        assert!(e.to_string().contains("orders.ttl_seconds"), "{e}");
    }

    #[test]
    fn live_mode_requires_credentials() {
        let e = Config::from_toml("mode = \"live\"\n").unwrap_err();
        assert!(e.to_string().contains("`mode`"), "{e}");
        let e = Config::from_toml("mode = \"live\"\n[payme]\nmerchant_id = \"abc\"\n").unwrap_err();
        assert!(e.to_string().contains("payme.key"), "{e}");
    }

    #[test]
    fn env_overrides_file_values() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "[server]\napi_addr = \"127.0.0.1:1000\"\n[click]\nservice_id = 5\n",
        )
        .unwrap();
        let c = Config::load_with_env(
            Some(&p),
            &env(&[
                ("FOTOBOX_SERVER_API_ADDR", "127.0.0.1:0"),
                ("FOTOBOX_CLICK_SERVICE_ID", "777"),
                ("FOTOBOX_PAYME_KEY", "k-123"),
                ("FOTOBOX_PRICING_LAYOUTS_STRIP", "30000"),
                ("FOTOBOX_PAYME_FISCAL_VAT_PERCENT", "12"),
                ("FOTOBOX_CONFIG", "ignored"),
                ("PATH", "/bin"),
            ]),
        )
        .unwrap();
        assert_eq!(c.server.api_addr.port(), 0);
        assert_eq!(c.click.service_id, 777);
        assert_eq!(c.payme.key.expose(), "k-123");
        assert_eq!(c.pricing.layouts["strip"], PriceValue(30000));
        assert_eq!(c.payme.fiscal.vat_percent, Some(12));
    }

    #[test]
    fn bad_env_value_names_the_key() {
        let e =
            Config::load_with_env(None, &env(&[("FOTOBOX_CLICK_SERVICE_ID", "abc")])).unwrap_err();
        assert!(e.to_string().contains("click.service_id"), "{e}");
        let e = Config::load_with_env(None, &env(&[("FOTOBOX_NOPE_X", "1")])).unwrap_err();
        assert!(e.to_string().contains("FOTOBOX_NOPE_X"), "{e}");
    }

    #[test]
    fn the_example_file_is_valid_and_matches_the_defaults() {
        let c = Config::from_toml(include_str!("../../../fotobox.example.toml")).unwrap();
        let d = Config::sandbox_default();
        assert_eq!(c.mode, d.mode);
        assert_eq!(c.server.api_addr, d.server.api_addr);
        assert_eq!(c.server.callback_addr, d.server.callback_addr);
        assert_eq!(c.pricing.layouts, d.pricing.layouts);
        assert_eq!(c.pricing.extra_copy, d.pricing.extra_copy);
        assert_eq!(c.orders.ttl_seconds, d.orders.ttl_seconds);
    }

    #[test]
    fn secrets_never_in_debug() {
        let c = Config::from_toml(
            "[server]\nstaff_token = \"tok-SECRET1\"\n[payme]\nkey = \"pay-SECRET2\"\n[click]\nsecret_key = \"clk-SECRET3\"\n",
        )
        .unwrap();
        let dbg = format!("{c:?}");
        for s in ["tok-SECRET1", "pay-SECRET2", "clk-SECRET3"] {
            assert!(!dbg.contains(s), "{s} leaked in {dbg}");
        }
        assert_eq!(c.payme.key.expose(), "pay-SECRET2");
    }
}
