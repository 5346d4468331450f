//! Validation of a loaded configuration: ranges and shapes, in every mode. Runs at every load;
//! the first problem stops the start with a line naming the key. What live mode needs besides
//! (credentials, fiscal data, the public URL...) is the live start check's (`crate::doctor`),
//! so that `fotobox doctor` can list every missing piece of a half-configured live kiosk.

use crate::config::error::{invalid, ConfigError};
use crate::config::operations::{parse_hhmm, parse_offset, StaffConfig};
use crate::config::root::Config;
use crate::config::sections::{MAX_REFUND_WINDOW_HOURS, MIN_STAFF_TOKEN_LEN};

impl Config {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        validate_staff(&self.staff)?;
        self.sound.validate()?;
        if !self.server.api_addr.ip().is_loopback() && !self.server.allow_remote_api {
            return Err(invalid(
                "server.api_addr",
                format!(
                    "{} is not a loopback address; the API listener serves staff endpoints. \
                     Set server.allow_remote_api = true to allow it on purpose",
                    self.server.api_addr
                ),
            ));
        }
        if self.photos.keep_hours < self.photos.download_ttl_hours
            || self.photos.keep_hours > 24 * 366
        {
            return Err(invalid(
                "photos.keep_hours",
                "must be at least photos.download_ttl_hours and at most 8784 (a year)",
            ));
        }
        if !(60..=86_400).contains(&self.click.prepare_timeout_secs) {
            return Err(invalid(
                "click.prepare_timeout_secs",
                "must be between 60 and 86400 seconds",
            ));
        }
        let token = self.server.staff_token.expose();
        if !token.is_empty() && token.len() < MIN_STAFF_TOKEN_LEN {
            return Err(invalid(
                "server.staff_token",
                format!(
                    "must be at least {MIN_STAFF_TOKEN_LEN} characters (or empty: one is generated)"
                ),
            ));
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
        let server = self.printer.cups_server.trim();
        if server.starts_with('-') || server.contains(char::is_whitespace) {
            return Err(invalid(
                "printer.cups_server",
                "must be host:port (e.g. localhost:631), or empty for the CUPS default",
            ));
        }
        if server.starts_with('/')
            && self.printer.state_source == super::sections::PrinterStateSource::Ipp
        {
            return Err(invalid(
                "printer.cups_server",
                "a domain socket cannot be read over IPP: give host:port, or set \
                 printer.state_source = \"lpstat\"",
            ));
        }
        for (name, value) in &self.printer.options {
            crate::print_options::check(name, value)
                .map_err(|why| invalid("printer.options", format!("{name}: {why}")))?;
        }
        for (layout, lp) in &self.printer.layouts {
            let key = format!("printer.layouts.{layout}");
            if let Some(m) = &lp.media {
                crate::print_options::check("media", m).map_err(|why| invalid(&key, why))?;
            }
            for (name, value) in &lp.options {
                crate::print_options::check(name, value)
                    .map_err(|why| invalid(&key, format!("{name}: {why}")))?;
            }
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
        if !matches!(self.camera.rotate, 0 | 90 | 180 | 270) {
            return Err(invalid("camera.rotate", "must be 0, 90, 180 or 270"));
        }
        if self.printer.status_cache_ms > 60_000 {
            return Err(invalid(
                "printer.status_cache_ms",
                "must be at most 60000 (a minute)",
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
        if !(1..=MAX_REFUND_WINDOW_HOURS).contains(&self.payme.refund_window_hours) {
            return Err(invalid(
                "payme.refund_window_hours",
                format!("must be between 1 and {MAX_REFUND_WINDOW_HOURS}"),
            ));
        }
        crate::config::fiscal::validate(&self.fiscal, &self.payme.fiscal)?;
        if let Some(url) = &self.server.public_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(invalid(
                    "server.public_url",
                    "must start with https:// or http://",
                ));
            }
        }
        validate_operations(self)?;
        Ok(())
    }
}

/// `[schedule]`, `[backup]`, `[retention]`, `[tunnel]`, `[alerts]` and `[click.api]`.
fn validate_operations(c: &Config) -> Result<(), ConfigError> {
    validate_upper_bounds(c)?;
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

/// `[staff]`: the idle timeout's range and the initial PIN hash's format.
fn validate_staff(s: &StaffConfig) -> Result<(), ConfigError> {
    if !(30..=3600).contains(&s.idle_timeout_seconds) {
        return Err(invalid(
            "staff.idle_timeout_seconds",
            "must be between 30 and 3600 seconds",
        ));
    }
    if !s.pin_hash.is_empty() && argon2::PasswordHash::new(s.pin_hash.expose()).is_err() {
        return Err(invalid(
            "staff.pin_hash",
            "not an argon2 hash; make one with `fotobox staff hash-pin`",
        ));
    }
    Ok(())
}

/// Upper bounds on every duration and count, so that no value can overflow a date computation
/// (chrono panics on an out-of-range `Duration`) or make a loop run for ever.
fn validate_upper_bounds(c: &Config) -> Result<(), ConfigError> {
    const DAY_S: u64 = 86_400;
    const YEAR_S: u64 = 366 * DAY_S;
    let bounds: [(&str, u64, u64); 24] = [
        (
            "database.busy_timeout_ms",
            c.database.busy_timeout_ms,
            600_000,
        ),
        (
            "photos.capture_timeout_seconds",
            c.photos.capture_timeout_seconds,
            DAY_S,
        ),
        (
            "printer.job_timeout_seconds",
            c.printer.job_timeout_seconds,
            DAY_S,
        ),
        ("printer.poll_ms", c.printer.poll_ms, 600_000),
        (
            "printer.command_timeout_ms",
            c.printer.command_timeout_ms,
            600_000,
        ),
        (
            "schedule.optimize_every_hours",
            c.schedule.optimize_every_hours,
            24 * 366,
        ),
        ("backup.keep_daily", c.backup.keep_daily, 3_660),
        ("backup.keep_monthly", c.backup.keep_monthly, 1_200),
        (
            "retention.archive_after_days",
            c.retention.archive_after_days,
            36_600,
        ),
        (
            "retention.delete_cancelled_after_days",
            c.retention.delete_cancelled_after_days,
            36_600,
        ),
        ("retention.log_days", c.retention.log_days, 36_600),
        ("tunnel.restart_min_ms", c.tunnel.restart_min_ms, 3_600_000),
        ("tunnel.restart_max_ms", c.tunnel.restart_max_ms, 3_600_000),
        (
            "tunnel.stable_after_secs",
            c.tunnel.stable_after_secs,
            DAY_S,
        ),
        ("tunnel.log_lines", c.tunnel.log_lines, 10_000),
        ("tunnel.check_every_secs", c.tunnel.check_every_secs, DAY_S),
        ("tunnel.retry_secs", c.tunnel.retry_secs, DAY_S),
        (
            "tunnel.check_timeout_secs",
            c.tunnel.check_timeout_secs,
            600,
        ),
        (
            "tunnel.down_after_failures",
            c.tunnel.down_after_failures,
            1_000,
        ),
        (
            "alerts.repeat_after_minutes",
            c.alerts.repeat_after_minutes,
            YEAR_S / 60,
        ),
        ("alerts.max_attempts", c.alerts.max_attempts, 1_000),
        (
            "alerts.paper_low_prints",
            c.alerts.paper_low_prints,
            100_000,
        ),
        ("click.api.timeout_secs", c.click.api.timeout_secs, 600),
        (
            "click.api.auto_check_after_secs",
            c.click.api.auto_check_after_secs,
            YEAR_S,
        ),
    ];
    for (key, value, max) in bounds {
        if value > max {
            return Err(invalid(key, format!("must be at most {max}, got {value}")));
        }
    }
    if c.alerts.disk_min_free_mb > 1 << 30 {
        return Err(invalid(
            "alerts.disk_min_free_mb",
            "must be at most 1073741824",
        ));
    }
    Ok(())
}
