//! `[fiscal]`: the receipt data every sale needs, used by both providers (Payme's `detail`,
//! Click's `ofd_data`), its old `[payme.fiscal]` aliases and their shape checks.

use serde::Deserialize;

use crate::config::de::{de_opt_u32, de_u64};
use crate::config::error::{invalid, ConfigError};

/// Longest receipt line title Click accepts (characters; the unit goes at the end).
pub const MAX_TITLE_CHARS: usize = 63;

/// `[fiscal]`. Every field but `click_delay_seconds` is unset by default; in live mode the
/// start checks ([`crate::doctor`]) want them for every enabled provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FiscalConfig {
    /// IKPU (MXIK, Click's SPIC) of the product: 17 digits from the tax committee's classifier.
    #[serde(default)]
    pub ikpu_code: Option<String>,
    /// The classifier's package code for that IKPU (digits).
    #[serde(default)]
    pub package_code: Option<String>,
    /// VAT percent inside the price (0, 12, ...).
    #[serde(default, deserialize_with = "de_opt_u32")]
    pub vat_percent: Option<u32>,
    /// The receipt line, at most 63 characters, the unit at the end ("Foto chop etish, dona").
    #[serde(default)]
    pub title: Option<String>,
    /// Optional unit code.
    #[serde(default, deserialize_with = "de_opt_u32")]
    pub units: Option<u32>,
    /// The seller's TIN (9 digits), for Click's `CommissionInfo`; or `pinfl`.
    #[serde(default)]
    pub tin: Option<String>,
    /// The seller's PINFL (14 digits), instead of `tin`.
    #[serde(default)]
    pub pinfl: Option<String>,
    /// Wait this long after a Click payment before fiscalising it (Click may issue the receipt).
    #[serde(default = "default_click_delay", deserialize_with = "de_u64")]
    pub click_delay_seconds: u64,
}

fn default_click_delay() -> u64 {
    600
}

impl Default for FiscalConfig {
    fn default() -> Self {
        FiscalConfig {
            ikpu_code: None,
            package_code: None,
            vat_percent: None,
            title: None,
            units: None,
            tin: None,
            pinfl: None,
            click_delay_seconds: default_click_delay(),
        }
    }
}

/// `[payme.fiscal]`: the old home of four of the `[fiscal]` keys, still read as aliases. A
/// value here is used when `[fiscal]` lacks it; `[fiscal]` wins when both have one.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PaymeFiscalAliases {
    #[serde(default)]
    pub ikpu_code: Option<String>,
    #[serde(default)]
    pub package_code: Option<String>,
    #[serde(default, deserialize_with = "de_opt_u32")]
    pub vat_percent: Option<u32>,
    #[serde(default)]
    pub title: Option<String>,
}

/// An empty or blank string counts as unset (an environment override may clear a key so).
fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn digits(s: &str, lens: &[usize]) -> bool {
    lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

impl FiscalConfig {
    /// The IKPU, when set.
    pub fn ikpu(&self) -> Option<&str> {
        set(&self.ikpu_code)
    }
    pub fn package(&self) -> Option<&str> {
        set(&self.package_code)
    }
    pub fn title_text(&self) -> Option<&str> {
        set(&self.title)
    }
    /// The seller's id for Click's `CommissionInfo`: `("TIN", tin)` or `("PINFL", pinfl)`.
    pub fn seller(&self) -> Option<(&'static str, &str)> {
        set(&self.tin)
            .map(|t| ("TIN", t))
            .or_else(|| set(&self.pinfl).map(|p| ("PINFL", p)))
    }

    /// Fill what `[fiscal]` lacks from the `[payme.fiscal]` aliases.
    pub(crate) fn merge_aliases(&mut self, old: &PaymeFiscalAliases) {
        let pick = |new: &mut Option<String>, old: &Option<String>| {
            if set(new).is_none() && set(old).is_some() {
                *new = old.clone();
            }
        };
        pick(&mut self.ikpu_code, &old.ikpu_code);
        pick(&mut self.package_code, &old.package_code);
        pick(&mut self.title, &old.title);
        if self.vat_percent.is_none() {
            self.vat_percent = old.vat_percent;
        }
    }
}

/// Shape checks of one set of fiscal values, keys named under `prefix` (`fiscal` or
/// `payme.fiscal`). A malformed value stops the start in any mode; a missing one is the live
/// start check's business.
fn check_common(
    prefix: &str,
    ikpu: Option<&str>,
    package: Option<&str>,
    vat: Option<u32>,
    title: Option<&str>,
) -> Result<(), ConfigError> {
    if let Some(c) = ikpu {
        if !digits(c, &[17]) {
            return Err(invalid(
                &format!("{prefix}.ikpu_code"),
                "must be the 17 digits of the IKPU (MXIK) classifier code, in quotes",
            ));
        }
    }
    if let Some(c) = package {
        if !(1..=20).contains(&c.len()) || !c.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                &format!("{prefix}.package_code"),
                "must be the classifier's package code (digits, in quotes)",
            ));
        }
    }
    if let Some(v) = vat {
        if v > 100 {
            return Err(invalid(
                &format!("{prefix}.vat_percent"),
                "must be between 0 and 100",
            ));
        }
    }
    if let Some(t) = title {
        if t.chars().count() > MAX_TITLE_CHARS || t.chars().any(char::is_control) {
            return Err(invalid(
                &format!("{prefix}.title"),
                format!(
                    "must be one line of at most {MAX_TITLE_CHARS} characters, the unit at the end"
                ),
            ));
        }
    }
    Ok(())
}

/// Shape checks of `[fiscal]` and `[payme.fiscal]` (before the aliases are merged, so that an
/// error names the key the operator wrote).
pub(crate) fn validate(f: &FiscalConfig, old: &PaymeFiscalAliases) -> Result<(), ConfigError> {
    check_common(
        "payme.fiscal",
        set(&old.ikpu_code),
        set(&old.package_code),
        old.vat_percent,
        set(&old.title),
    )?;
    check_common(
        "fiscal",
        f.ikpu(),
        f.package(),
        f.vat_percent,
        f.title_text(),
    )?;
    if let Some(t) = set(&f.tin) {
        if !digits(t, &[9]) {
            return Err(invalid("fiscal.tin", "must be the seller's 9-digit TIN"));
        }
    }
    if let Some(p) = set(&f.pinfl) {
        if !digits(p, &[14]) {
            return Err(invalid(
                "fiscal.pinfl",
                "must be the seller's 14-digit PINFL",
            ));
        }
    }
    if set(&f.tin).is_some() && set(&f.pinfl).is_some() {
        return Err(invalid(
            "fiscal.pinfl",
            "set either fiscal.tin or fiscal.pinfl, not both",
        ));
    }
    if let Some(u) = f.units {
        if u == 0 {
            return Err(invalid("fiscal.units", "must be a positive unit code"));
        }
    }
    if f.click_delay_seconds > 86_400 {
        return Err(invalid(
            "fiscal.click_delay_seconds",
            "must be at most 86400 (a day)",
        ));
    }
    Ok(())
}
