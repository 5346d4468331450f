//! The money path's config sections: mode, `[database]`, `[server]`, `[payme]`, `[click]`,
//! `[pricing]`, `[orders]`, `[photos]`, `[printer]`. Each default is written once, here.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize};

use crate::config::de::{de_bool, de_i64, de_u64};
use crate::config::fiscal::PaymeFiscalAliases;
use crate::config::operations::ClickApiConfig;
use crate::config::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
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

/// Shortest staff token accepted: whoever has it is staff, so it must not be guessable.
pub const MIN_STAFF_TOKEN_LEN: usize = 24;

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
    /// The API listener serves staff and kiosk endpoints: off loopback only when this says so.
    #[serde(default, deserialize_with = "de_bool")]
    pub allow_remote_api: bool,
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
            allow_remote_api: false,
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
    /// How long a staff refund window stays open (hours, 1 to [`MAX_REFUND_WINDOW_HOURS`]):
    /// meanwhile Payme's CancelTransaction of the order's performed transaction is accepted even
    /// after printing (the operator cancels it in the Payme Business cabinet).
    #[serde(default = "default_refund_window", deserialize_with = "de_u64")]
    pub refund_window_hours: u64,
    /// `[payme.fiscal]`: old aliases of `[fiscal]` keys (`[fiscal]` wins; see `config::fiscal`).
    #[serde(default)]
    pub fiscal: PaymeFiscalAliases,
}

/// The longest a Payme refund window may be configured to stay open (a week).
pub const MAX_REFUND_WINDOW_HOURS: u64 = 168;

fn default_refund_window() -> u64 {
    24
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
            refund_window_hours: default_refund_window(),
            fiscal: PaymeFiscalAliases::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
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
    /// A prepared payment with no Complete after this long is expired: a late Complete is
    /// answered -9 and Click returns the money (click.md §8 rules 6 and 12).
    #[serde(default = "default_prepare_timeout", deserialize_with = "de_u64")]
    pub prepare_timeout_secs: u64,
    /// `[click.api]`: the Merchant API status fallback.
    #[serde(default)]
    pub api: ClickApiConfig,
}

fn default_prepare_timeout() -> u64 {
    900
}

impl Default for ClickConfig {
    fn default() -> Self {
        ClickConfig {
            service_id: 0,
            merchant_id: 0,
            merchant_user_id: 0,
            secret_key: Secret::default(),
            prepare_timeout_secs: default_prepare_timeout(),
            api: ClickApiConfig::default(),
        }
    }
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

/// `[camera]`: how the camera is mounted.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CameraConfig {
    /// Degrees clockwise the picture must be turned to stand upright: 0, 90, 180 or 270 (90 or
    /// 270 for a camera mounted on its side, as booths do for portrait postcards). Applied to the
    /// live view and the shots alike.
    #[serde(default, deserialize_with = "de_u64")]
    pub rotate: u64,
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
    /// A fulfilled order's shots and composite are deleted this long after fulfilment (hours):
    /// the digital-copy link's life plus a margin for reprints. At least `download_ttl_hours`.
    #[serde(default = "default_keep_hours", deserialize_with = "de_u64")]
    pub keep_hours: u64,
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
fn default_keep_hours() -> u64 {
    default_download_ttl() + 48
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
            keep_hours: default_keep_hours(),
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

/// `[printer.layouts.<layout>]`: how one layout prints on this printer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayoutPrintConfig {
    /// CUPS media for this layout (wins over the layout file's `media` and `printer.media`).
    #[serde(default)]
    pub media: Option<String>,
    /// `-o name=value` options for this layout (win over `printer.options`).
    #[serde(default)]
    pub options: std::collections::BTreeMap<String, String>,
}

/// Where the CUPS printer's state is read (`printer.state_source`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrinterStateSource {
    /// IPP Get-Printer-Attributes from the scheduler (`printer.cups_server`).
    #[default]
    Ipp,
    /// `lpstat -l -p NAME` (LC_ALL=C).
    Lpstat,
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
    /// The CUPS scheduler as `host:port` (the `CUPS_SERVER` that `lp` and `lpstat` get, and
    /// where the printer's state is read over IPP). Empty: the CUPS default for `lp`/`lpstat`
    /// and `localhost:631` for IPP.
    #[serde(default)]
    pub cups_server: String,
    /// Where the printer's state comes from: `ipp` (Get-Printer-Attributes: printer-state,
    /// printer-state-reasons, printer-state-message, marker levels, media-ready) or `lpstat`
    /// (`lpstat -l -p`: enabled, accepting and the state reasons of its `Alerts:` line; for a
    /// CUPS reachable only through its domain socket).
    #[serde(default)]
    pub state_source: PrinterStateSource,
    /// Extra `-o name=value` options for every job (e.g. a driver's cut option), before the
    /// layout's own `print_options`, which win for the same name.
    #[serde(default)]
    pub options: std::collections::BTreeMap<String, String>,
    /// Per layout (by name): its media and extra options on this printer, e.g.
    /// `[printer.layouts.strip-2x6] media = "w288h432-div2"` for two 2x6 strips cut from one
    /// 4x6 sheet. See docs/printers.md.
    #[serde(default)]
    pub layouts: std::collections::BTreeMap<String, LayoutPrintConfig>,
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
    /// How long the printer's state is reused by readiness checks (ms; 0: ask every time). The
    /// kiosk page asks often; the printer is asked at most this often.
    #[serde(default = "default_status_cache_ms", deserialize_with = "de_u64")]
    pub status_cache_ms: u64,
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
fn default_status_cache_ms() -> u64 {
    3_000
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
            cups_server: String::new(),
            state_source: PrinterStateSource::default(),
            options: Default::default(),
            layouts: Default::default(),
            paper_roll_size: default_roll_size(),
            max_attempts: default_max_attempts(),
            job_timeout_seconds: default_job_timeout(),
            poll_ms: default_poll_ms(),
            command_timeout_ms: default_command_timeout(),
            status_cache_ms: default_status_cache_ms(),
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
