//! Config sections of unattended operation and the staff panel: `[schedule]`, `[backup]`,
//! `[retention]`, `[tunnel]`, `[alerts]`, `[click.api]` and `[staff]`. Each default is written
//! once, here.

use std::path::PathBuf;

use chrono::{FixedOffset, NaiveTime};
use serde::Deserialize;

use crate::config::de::{de_bool, de_u64};
use crate::config::secret::Secret;

/// `"HH:MM"` local time.
pub fn parse_hhmm(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()
}

/// `"+05:00"`, `"-03:30"` or `"Z"`.
pub fn parse_offset(s: &str) -> Option<FixedOffset> {
    let s = s.trim();
    if s == "Z" || s == "+00:00" || s == "UTC" {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// When the daily jobs run, in the kiosk's local time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// The kiosk's offset from UTC (Uzbekistan: `+05:00`, no daylight saving). Days and months
    /// of backup retention, the daily summary and Click's status date use it.
    #[serde(default = "default_offset")]
    pub utc_offset: String,
    /// Daily backup (then retention and `PRAGMA optimize`), local `HH:MM`. Caught up on the next
    /// start when the kiosk was off at that time.
    #[serde(default = "default_backup_time")]
    pub backup_time: String,
    /// Daily summary alert, local `HH:MM`.
    #[serde(default = "default_summary_time")]
    pub daily_summary_time: String,
    /// `PRAGMA optimize` also every this many hours (0: only after the daily backup).
    #[serde(default = "default_optimize_hours", deserialize_with = "de_u64")]
    pub optimize_every_hours: u64,
}

fn default_offset() -> String {
    "+05:00".into()
}
fn default_backup_time() -> String {
    "03:30".into()
}
fn default_summary_time() -> String {
    "22:00".into()
}
fn default_optimize_hours() -> u64 {
    6
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            utc_offset: default_offset(),
            backup_time: default_backup_time(),
            daily_summary_time: default_summary_time(),
            optimize_every_hours: default_optimize_hours(),
        }
    }
}

impl ScheduleConfig {
    pub fn offset(&self) -> FixedOffset {
        parse_offset(&self.utc_offset).unwrap_or_else(|| {
            FixedOffset::east_opt(5 * 3600).unwrap_or(FixedOffset::east_opt(0).expect("UTC"))
        })
    }
    pub fn backup_at(&self) -> NaiveTime {
        parse_hhmm(&self.backup_time).unwrap_or_default()
    }
    pub fn summary_at(&self) -> NaiveTime {
        parse_hhmm(&self.daily_summary_time).unwrap_or_default()
    }
}

/// Automatic backups.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupConfig {
    /// Daily automatic backups (`false` leaves only staff and pre-migration backups).
    #[serde(default = "default_true", deserialize_with = "de_bool")]
    pub enabled: bool,
    /// Where automatic backups go; best on another disk. Relative to the data directory.
    /// Default `<data_dir>/backups/auto`.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// Keep the newest backup of each of the last N days that have one.
    #[serde(default = "default_keep_daily", deserialize_with = "de_u64")]
    pub keep_daily: u64,
    /// Keep the newest backup of each of the last M months that have one.
    #[serde(default = "default_keep_monthly", deserialize_with = "de_u64")]
    pub keep_monthly: u64,
    /// Back up the database before applying a migration (refuse to migrate if that fails).
    #[serde(default = "default_true", deserialize_with = "de_bool")]
    pub before_migration: bool,
}

fn default_true() -> bool {
    true
}
fn default_keep_daily() -> u64 {
    7
}
fn default_keep_monthly() -> u64 {
    12
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            enabled: true,
            dir: None,
            keep_daily: default_keep_daily(),
            keep_monthly: default_keep_monthly(),
            before_migration: true,
        }
    }
}

/// Data retention in the live database.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    #[serde(default = "default_true", deserialize_with = "de_bool")]
    pub enabled: bool,
    /// Finished payments older than this are archived (CSV + archive database), then removed.
    #[serde(default = "default_archive_days", deserialize_with = "de_u64")]
    pub archive_after_days: u64,
    /// Cancelled payments that never took money are deleted after this many days.
    #[serde(default = "default_cancelled_days", deserialize_with = "de_u64")]
    pub delete_cancelled_after_days: u64,
    /// Archive folder, relative to the data directory. Default `<data_dir>/archive`.
    #[serde(default)]
    pub archive_dir: Option<PathBuf>,
    /// Tunnel checks and closed alerts are kept this many days.
    #[serde(default = "default_log_days", deserialize_with = "de_u64")]
    pub log_days: u64,
}

fn default_archive_days() -> u64 {
    365
}
fn default_cancelled_days() -> u64 {
    30
}
fn default_log_days() -> u64 {
    90
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            enabled: true,
            archive_after_days: default_archive_days(),
            delete_cancelled_after_days: default_cancelled_days(),
            archive_dir: None,
            log_days: default_log_days(),
        }
    }
}

/// The tunnel that exposes the callback listener, and its health check.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TunnelConfig {
    /// Command to supervise, run with `sh -c` (e.g. `cloudflared tunnel run kiosk`). Empty: the
    /// tunnel is managed elsewhere (systemd) and only checked.
    #[serde(default)]
    pub command: String,
    /// First restart delay after the command exits (ms); doubles on every quick exit.
    #[serde(default = "default_backoff_min", deserialize_with = "de_u64")]
    pub restart_min_ms: u64,
    /// Longest restart delay (ms).
    #[serde(default = "default_backoff_max", deserialize_with = "de_u64")]
    pub restart_max_ms: u64,
    /// A run longer than this (seconds) resets the delay to `restart_min_ms`.
    #[serde(default = "default_stable_secs", deserialize_with = "de_u64")]
    pub stable_after_secs: u64,
    /// Output lines of the command kept for the staff panel.
    #[serde(default = "default_log_lines", deserialize_with = "de_u64")]
    pub log_lines: u64,
    /// Health check period: `GET {server.public_url}/healthz` (seconds).
    #[serde(default = "default_check_every", deserialize_with = "de_u64")]
    pub check_every_secs: u64,
    /// Re-check this soon after a failed check (seconds).
    #[serde(default = "default_retry_secs", deserialize_with = "de_u64")]
    pub retry_secs: u64,
    /// Timeout of one check (seconds).
    #[serde(default = "default_check_timeout", deserialize_with = "de_u64")]
    pub check_timeout_secs: u64,
    /// Consecutive failed checks before the tunnel counts as down (new payments refused).
    #[serde(default = "default_down_after", deserialize_with = "de_u64")]
    pub down_after_failures: u64,
}

fn default_backoff_min() -> u64 {
    1_000
}
fn default_backoff_max() -> u64 {
    60_000
}
fn default_stable_secs() -> u64 {
    60
}
fn default_log_lines() -> u64 {
    200
}
fn default_check_every() -> u64 {
    60
}
fn default_retry_secs() -> u64 {
    10
}
fn default_check_timeout() -> u64 {
    10
}
fn default_down_after() -> u64 {
    2
}

impl Default for TunnelConfig {
    fn default() -> Self {
        TunnelConfig {
            command: String::new(),
            restart_min_ms: default_backoff_min(),
            restart_max_ms: default_backoff_max(),
            stable_after_secs: default_stable_secs(),
            log_lines: default_log_lines(),
            check_every_secs: default_check_every(),
            retry_secs: default_retry_secs(),
            check_timeout_secs: default_check_timeout(),
            down_after_failures: default_down_after(),
        }
    }
}

/// Staff alerts (always stored; sent through Telegram when a bot is configured).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// Telegram bot token (`123456:ABC...`). A secret: never logged.
    #[serde(default)]
    pub telegram_bot_token: Secret,
    /// Chat (or group/channel) id that receives the alerts.
    #[serde(default)]
    pub telegram_chat_id: String,
    /// Bot API base URL (tests point it to a local fake).
    #[serde(default = "default_telegram_url")]
    pub telegram_api_url: String,
    /// An open alert with the same key is not sent again within this many minutes.
    #[serde(default = "default_repeat", deserialize_with = "de_u64")]
    pub repeat_after_minutes: u64,
    /// Send attempts before an alert is given up (still visible in the staff panel).
    #[serde(default = "default_attempts", deserialize_with = "de_u64")]
    pub max_attempts: u64,
    /// Daily summary (revenue, orders, failures) at `schedule.daily_summary_time`.
    #[serde(default = "default_true", deserialize_with = "de_bool")]
    pub daily_summary: bool,
    /// Free space under which the disk counts as degraded (MiB); down under a tenth of it.
    #[serde(default = "default_disk_min", deserialize_with = "de_u64")]
    pub disk_min_free_mb: u64,
    /// Raise `paper_low` when this many prints or fewer are left (after queued copies; 0: off).
    /// `paper_out` is raised at none left.
    #[serde(default = "default_paper_low", deserialize_with = "de_u64")]
    pub paper_low_prints: u64,
}

fn default_telegram_url() -> String {
    "https://api.telegram.org".into()
}
fn default_repeat() -> u64 {
    360
}
fn default_attempts() -> u64 {
    10
}
fn default_disk_min() -> u64 {
    1024
}
fn default_paper_low() -> u64 {
    20
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            telegram_bot_token: Secret::default(),
            telegram_chat_id: String::new(),
            telegram_api_url: default_telegram_url(),
            repeat_after_minutes: default_repeat(),
            max_attempts: default_attempts(),
            daily_summary: true,
            disk_min_free_mb: default_disk_min(),
            paper_low_prints: default_paper_low(),
        }
    }
}

impl AlertsConfig {
    pub fn telegram_enabled(&self) -> bool {
        !self.telegram_bot_token.is_empty() && !self.telegram_chat_id.trim().is_empty()
    }
}

/// Click Merchant API (status fallback); credentials are `[click]`'s `service_id`,
/// `merchant_user_id` and `secret_key`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClickApiConfig {
    #[serde(default = "default_true", deserialize_with = "de_bool")]
    pub enabled: bool,
    #[serde(default = "default_click_api_url")]
    pub base_url: String,
    #[serde(default = "default_click_timeout", deserialize_with = "de_u64")]
    pub timeout_secs: u64,
    /// Ask Click about a pending order whose Prepare arrived this long ago without a Complete
    /// (seconds; 0 turns the background check off).
    #[serde(default = "default_auto_check", deserialize_with = "de_u64")]
    pub auto_check_after_secs: u64,
}

fn default_click_api_url() -> String {
    "https://api.click.uz/v2/merchant/".into()
}
fn default_click_timeout() -> u64 {
    15
}
fn default_auto_check() -> u64 {
    120
}

impl Default for ClickApiConfig {
    fn default() -> Self {
        ClickApiConfig {
            enabled: true,
            base_url: default_click_api_url(),
            timeout_secs: default_click_timeout(),
            auto_check_after_secs: default_auto_check(),
        }
    }
}

/// `[staff]` in the config: the hidden staff panel.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffConfig {
    /// argon2 PHC string of the initial PIN (`fotobox staff hash-pin`); a PIN set with
    /// `fotobox staff set-pin` or in the panel (stored in the database) wins over it.
    #[serde(default)]
    pub pin_hash: Secret,
    /// The panel closes (and its session ends) after this long without a touch (seconds).
    #[serde(default = "default_idle", deserialize_with = "de_u64")]
    pub idle_timeout_seconds: u64,
    /// Folders under which CSV exports may be written (USB sticks mount under /media).
    /// Relative entries are under the data directory.
    #[serde(default = "default_export_dirs")]
    pub export_dirs: Vec<PathBuf>,
    /// The panel's language until staff pick one on the pad (the browser remembers that choice).
    #[serde(default)]
    pub language: StaffLanguage,
}

/// `staff.language`: the languages the staff panel is translated into (ui/i18n/staff.*.js).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StaffLanguage {
    /// O‘zbekcha (Latin script).
    #[default]
    Uz,
    /// Русский.
    Ru,
    /// English.
    En,
}

fn default_idle() -> u64 {
    180
}

fn default_export_dirs() -> Vec<PathBuf> {
    ["/media", "/mnt", "/run/media", "exports"]
        .into_iter()
        .map(PathBuf::from)
        .collect()
}

impl Default for StaffConfig {
    fn default() -> Self {
        StaffConfig {
            pin_hash: Secret::default(),
            idle_timeout_seconds: default_idle(),
            export_dirs: default_export_dirs(),
            language: StaffLanguage::default(),
        }
    }
}
