//! `[sound]`: the kiosk's sound defaults (volume, mute, quiet hours). What staff save in the
//! panel wins over these (see `crate::sound`).

use serde::Deserialize;

use crate::config::de::{de_bool, de_u64};
use crate::config::error::{invalid, ConfigError};
use crate::config::operations::parse_hhmm;

/// `[sound]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoundConfig {
    /// Volume of every sound, in percent (0-100).
    #[serde(default = "default_volume", deserialize_with = "de_u64")]
    pub volume: u64,
    /// No sound at all.
    #[serde(default, deserialize_with = "de_bool")]
    pub muted: bool,
    /// Quiet hours, kiosk time (`schedule.utc_offset`), `HH:MM`: no spoken prompts from
    /// `quiet_from` until `quiet_to` (the tones still play). Equal times: no quiet hours.
    #[serde(default = "default_quiet_from")]
    pub quiet_from: String,
    #[serde(default = "default_quiet_to")]
    pub quiet_to: String,
}

fn default_volume() -> u64 {
    80
}
fn default_quiet_from() -> String {
    "22:00".into()
}
fn default_quiet_to() -> String {
    "08:00".into()
}

impl Default for SoundConfig {
    fn default() -> Self {
        SoundConfig {
            volume: default_volume(),
            muted: false,
            quiet_from: default_quiet_from(),
            quiet_to: default_quiet_to(),
        }
    }
}

impl SoundConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.volume > 100 {
            return Err(invalid(
                "sound.volume",
                "must be between 0 and 100 (percent)",
            ));
        }
        for (key, v) in [
            ("sound.quiet_from", &self.quiet_from),
            ("sound.quiet_to", &self.quiet_to),
        ] {
            if parse_hhmm(v).is_none() {
                return Err(invalid(key, format!("must be a time HH:MM, got {v:?}")));
            }
        }
        Ok(())
    }
}
