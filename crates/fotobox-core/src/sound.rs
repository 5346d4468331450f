//! The kiosk's sound settings: volume, mute and quiet hours. The config's `[sound]` gives the
//! defaults; what staff save in the panel (the `sound` row of `staff_settings`, audited) wins.
//! The kiosk page gets [`KioskSound`] with its info: what may play right now, with quiet hours
//! judged here on the app's clock in kiosk time (`schedule.utc_offset`). Quiet hours silence
//! the spoken prompts only; the countdown beep, shutter and chime still play.

use chrono::{DateTime, FixedOffset, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use fotobox_store::staff::{self as sq, NewAudit};
use fotobox_store::StoreError;

use crate::config::{parse_hhmm, SoundConfig};
use crate::context::AppContext;
use crate::error::{DomainError, ErrorKind};

/// Why a change was refused or not saved.
#[derive(Debug, thiserror::Error)]
pub enum SoundError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DomainError for SoundError {
    fn kind(&self) -> ErrorKind {
        match self {
            SoundError::Invalid(_) => ErrorKind::Invalid,
            SoundError::Store(e) => e.kind(),
        }
    }
}

/// The `staff_settings` key of the saved settings (JSON of [`SoundSettings`]).
pub const SETTING_KEY: &str = "sound";

/// The settings in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoundSettings {
    /// Percent, 0-100.
    pub volume: u64,
    pub muted: bool,
    /// Kiosk time `HH:MM`; equal times: no quiet hours.
    pub quiet_from: String,
    pub quiet_to: String,
}

impl From<&SoundConfig> for SoundSettings {
    fn from(c: &SoundConfig) -> Self {
        SoundSettings {
            volume: c.volume,
            muted: c.muted,
            quiet_from: c.quiet_from.clone(),
            quiet_to: c.quiet_to.clone(),
        }
    }
}

/// What the panel shows.
#[derive(Debug, Clone, Serialize)]
pub struct SoundView {
    #[serde(flatten)]
    pub settings: SoundSettings,
    /// `config` or `staff`.
    pub source: &'static str,
    /// Quiet hours now (kiosk time).
    pub quiet_now: bool,
}

/// What the kiosk page may play right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KioskSound {
    /// Percent, 0-100.
    pub volume: u64,
    /// Beep, shutter and chime.
    pub tones: bool,
    /// The spoken prompts.
    pub speech: bool,
    /// Quiet hours now.
    pub quiet: bool,
}

/// A change from the panel: any of the fields; the others keep their value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoundPatch {
    pub volume: Option<serde_json::Value>,
    pub muted: Option<bool>,
    pub quiet_from: Option<String>,
    pub quiet_to: Option<String>,
}

/// Whether `now` falls in the quiet hours `from`..`to` (kiosk time; they may span midnight).
pub fn in_quiet_hours(
    now: DateTime<Utc>,
    offset: FixedOffset,
    from: NaiveTime,
    to: NaiveTime,
) -> bool {
    let t = now.with_timezone(&offset).time();
    if from == to {
        false
    } else if from < to {
        from <= t && t < to
    } else {
        t >= from || t < to
    }
}

/// The settings in force and where they come from. A saved row that cannot be read (never
/// written so by this code) is logged and the config's defaults apply.
pub async fn effective(ctx: &AppContext) -> Result<(SoundSettings, &'static str), StoreError> {
    if let Some(json) = ctx.store.staff_setting(SETTING_KEY).await? {
        match serde_json::from_str::<SoundSettings>(&json) {
            Ok(s) => return Ok((s, "staff")),
            Err(e) => tracing::warn!(error = %e, "unreadable saved sound settings; using [sound]"),
        }
    }
    Ok((SoundSettings::from(&ctx.config.sound), "config"))
}

fn quiet_now(ctx: &AppContext, s: &SoundSettings) -> bool {
    match (parse_hhmm(&s.quiet_from), parse_hhmm(&s.quiet_to)) {
        (Some(from), Some(to)) => {
            in_quiet_hours(ctx.clock.now(), ctx.config.schedule.offset(), from, to)
        }
        _ => false,
    }
}

/// The panel's view.
pub async fn view(ctx: &AppContext) -> Result<SoundView, StoreError> {
    let (settings, source) = effective(ctx).await?;
    let quiet_now = quiet_now(ctx, &settings);
    Ok(SoundView {
        settings,
        source,
        quiet_now,
    })
}

/// What the kiosk page may play now.
pub async fn for_kiosk(ctx: &AppContext) -> Result<KioskSound, StoreError> {
    let (s, _) = effective(ctx).await?;
    let quiet = quiet_now(ctx, &s);
    Ok(KioskSound {
        volume: s.volume,
        tones: !s.muted && s.volume > 0,
        speech: !s.muted && s.volume > 0 && !quiet,
        quiet,
    })
}

/// Apply a change from the panel (`actor` as the audit trail names it, e.g. `pin:window`): every
/// problem in one message, nothing saved then; else the new settings and their audit entry
/// (before and after) in one transaction.
pub async fn save(
    ctx: &AppContext,
    actor: &str,
    patch: &SoundPatch,
) -> Result<SoundView, SoundError> {
    let (before, _) = effective(ctx).await?;
    let mut next = before.clone();
    let mut problems = Vec::new();
    if let Some(v) = &patch.volume {
        match v.as_u64().filter(|p| *p <= 100) {
            Some(p) => next.volume = p,
            None => problems.push("volume must be a whole number between 0 and 100".to_string()),
        }
    }
    if let Some(m) = patch.muted {
        next.muted = m;
    }
    for (name, value, slot) in [
        ("quiet_from", &patch.quiet_from, &mut next.quiet_from),
        ("quiet_to", &patch.quiet_to, &mut next.quiet_to),
    ] {
        if let Some(v) = value {
            match parse_hhmm(v) {
                Some(t) => *slot = t.format("%H:%M").to_string(),
                None => problems.push(format!("{name} must be a time HH:MM, got {v:?}")),
            }
        }
    }
    if !problems.is_empty() {
        return Err(SoundError::Invalid(problems.join("; ")));
    }
    let now = ctx.clock.now();
    let json = serde_json::to_string(&next).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let mut tx = ctx.store.begin_write().await?;
    sq::put_setting(&mut tx, SETTING_KEY, &json, now).await?;
    sq::insert_audit(
        &mut tx,
        &NewAudit {
            action: "sound",
            actor,
            payment_id: None,
            order_id: None,
            reason: None,
            detail: serde_json::json!({ "before": before, "after": next }),
        },
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    tracing::info!(actor, volume = next.volume, muted = next.muted,
        quiet_from = %next.quiet_from, quiet_to = %next.quiet_to, "sound settings saved by staff");
    Ok(view(ctx).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn quiet(h: u32, m: u32, from: &str, to: &str) -> bool {
        // Local h:m in Tashkent (+05:00), as a UTC instant.
        let off = FixedOffset::east_opt(5 * 3600).unwrap();
        let now = off
            .with_ymd_and_hms(2026, 3, 1, h, m, 0)
            .unwrap()
            .with_timezone(&Utc);
        in_quiet_hours(now, off, parse_hhmm(from).unwrap(), parse_hhmm(to).unwrap())
    }

    #[test]
    fn quiet_hours_span_midnight_in_kiosk_time() {
        assert!(quiet(22, 0, "22:00", "08:00"));
        assert!(quiet(23, 59, "22:00", "08:00"));
        assert!(quiet(3, 0, "22:00", "08:00"));
        assert!(!quiet(8, 0, "22:00", "08:00"));
        assert!(!quiet(12, 0, "22:00", "08:00"));
        assert!(!quiet(21, 59, "22:00", "08:00"));
    }

    #[test]
    fn quiet_hours_within_a_day_and_none() {
        assert!(quiet(13, 30, "13:00", "14:00"));
        assert!(!quiet(14, 0, "13:00", "14:00"));
        assert!(!quiet(12, 0, "12:00", "12:00"));
        assert!(!quiet(0, 0, "00:00", "00:00"));
    }
}
