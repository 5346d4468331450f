//! Configuration sections of unattended operation: `[schedule]`, `[backup]`, `[retention]`,
//! `[tunnel]`, `[alerts]` and `[click.api]`. They hang off [`crate::config::Config`] like every
//! other section (same `FOTOBOX_<SECTION>_<KEY>` overrides, unknown keys refused).

use std::path::PathBuf;

use chrono::{FixedOffset, NaiveTime};
use serde::{Deserialize, Deserializer};

use crate::config::{Config, ConfigError, Secret};

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        message: message.into(),
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Int(i64),
    Bool(bool),
    Str(String),
}

fn de_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match Raw::deserialize(d)? {
        Raw::Int(i) if i >= 0 => Ok(i as u64),
        Raw::Str(s) => s.trim().parse().map_err(|_| {
            serde::de::Error::custom(format!("expected a non-negative integer, got {s:?}"))
        }),
        _ => Err(serde::de::Error::custom("expected a non-negative integer")),
    }
}

fn de_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Raw::deserialize(d)? {
        Raw::Bool(b) => Ok(b),
        Raw::Str(s) => match s.trim() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(serde::de::Error::custom(format!(
                "expected true or false, got {s:?}"
            ))),
        },
        Raw::Int(_) => Err(serde::de::Error::custom("expected true or false")),
    }
}

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

/// Validation of these sections (called from `Config::validate`).
pub fn validate(c: &Config) -> Result<(), ConfigError> {
    if parse_offset(&c.schedule.utc_offset).is_none() {
        return Err(invalid(
            "schedule.utc_offset",
            "expected an offset like +05:00",
        ));
    }
    if parse_hhmm(&c.schedule.backup_time).is_none() {
        return Err(invalid(
            "schedule.backup_time",
            "expected a local time HH:MM",
        ));
    }
    if parse_hhmm(&c.schedule.daily_summary_time).is_none() {
        return Err(invalid(
            "schedule.daily_summary_time",
            "expected a local time HH:MM",
        ));
    }
    if c.backup.keep_daily == 0 && c.backup.keep_monthly == 0 && c.backup.enabled {
        return Err(invalid(
            "backup.keep_daily",
            "keep at least one daily or monthly backup",
        ));
    }
    if c.retention.archive_after_days < 30 {
        return Err(invalid(
            "retention.archive_after_days",
            "must be at least 30 days",
        ));
    }
    if c.retention.delete_cancelled_after_days < 1 {
        return Err(invalid(
            "retention.delete_cancelled_after_days",
            "must be at least 1 day",
        ));
    }
    if c.tunnel.restart_min_ms == 0 || c.tunnel.restart_min_ms > c.tunnel.restart_max_ms {
        return Err(invalid(
            "tunnel.restart_min_ms",
            "must be positive and at most tunnel.restart_max_ms",
        ));
    }
    if c.tunnel.check_every_secs == 0
        || c.tunnel.retry_secs == 0
        || c.tunnel.check_timeout_secs == 0
    {
        return Err(invalid(
            "tunnel.check_every_secs",
            "check periods and timeout must be positive",
        ));
    }
    if c.tunnel.down_after_failures == 0 {
        return Err(invalid("tunnel.down_after_failures", "must be at least 1"));
    }
    if !c.tunnel.command.trim().is_empty() && c.server.public_url.is_none() {
        return Err(invalid(
            "tunnel.command",
            "a supervised tunnel needs server.public_url for its health check",
        ));
    }
    for (key, url) in [
        ("alerts.telegram_api_url", &c.alerts.telegram_api_url),
        ("click.api.base_url", &c.click.api.base_url),
    ] {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(invalid(key, "must start with https:// or http://"));
        }
    }
    if !c.alerts.telegram_bot_token.is_empty() && c.alerts.telegram_chat_id.trim().is_empty() {
        return Err(invalid(
            "alerts.telegram_chat_id",
            "a Telegram bot token needs a chat id",
        ));
    }
    if c.alerts.max_attempts == 0 {
        return Err(invalid("alerts.max_attempts", "must be at least 1"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_times_parse() {
        assert_eq!(
            parse_offset("+05:00").map(|o| o.local_minus_utc()),
            Some(18_000)
        );
        assert_eq!(
            parse_offset("-03:30").map(|o| o.local_minus_utc()),
            Some(-12_600)
        );
        assert!(parse_offset("5").is_none());
        assert!(parse_hhmm("03:30").is_some());
        assert!(parse_hhmm("25:00").is_none());
    }

    #[test]
    fn sections_load_with_defaults_and_env() {
        let c = Config::sandbox_default();
        assert_eq!(c.backup.keep_daily, 7);
        assert_eq!(c.backup.keep_monthly, 12);
        assert_eq!(c.retention.archive_after_days, 365);
        assert_eq!(c.tunnel.check_every_secs, 60);
        let env = vec![
            (
                "FOTOBOX_CLICK_API_BASE_URL".to_string(),
                "http://127.0.0.1:9/".to_string(),
            ),
            ("FOTOBOX_BACKUP_KEEP_DAILY".to_string(), "3".to_string()),
            (
                "FOTOBOX_SCHEDULE_BACKUP_TIME".to_string(),
                "04:15".to_string(),
            ),
            (
                "FOTOBOX_ALERTS_TELEGRAM_BOT_TOKEN".to_string(),
                "123:SECRET".to_string(),
            ),
            (
                "FOTOBOX_ALERTS_TELEGRAM_CHAT_ID".to_string(),
                "-100".to_string(),
            ),
        ];
        let c = Config::load_with_env(None, &env).expect("valid");
        assert_eq!(c.click.api.base_url, "http://127.0.0.1:9/");
        assert_eq!(c.backup.keep_daily, 3);
        assert_eq!(c.schedule.backup_time, "04:15");
        assert!(!format!("{c:?}").contains("SECRET"));
        let e = Config::from_toml("[schedule]\nbackup_time = \"3 am\"\n").expect_err("bad time");
        assert!(e.to_string().contains("schedule.backup_time"), "{e}");
        let e = Config::from_toml("[tunnel]\ncommand = \"cloudflared\"\n").expect_err("no url");
        assert!(e.to_string().contains("tunnel.command"), "{e}");
    }
}
