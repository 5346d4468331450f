//! Loading: the TOML file, then the `FOTOBOX_<SECTION>_<KEY>` environment, then validation.

use std::path::Path;

use crate::config::error::{invalid, one_line, ConfigError};
use crate::config::root::Config;

/// Sections that environment variables may override, longest first so `FOTOBOX_PAYME_FISCAL_X` wins.
const ENV_SECTIONS: &[&str] = &[
    "payme_fiscal",
    "pricing_layouts",
    "click_api", // [click.api], before "click" (maintenance)
    "database",
    "server",
    "payme",
    "click",
    "fiscal",
    "pricing",
    "orders",
    "photos",
    "printer",
    "camera",
    // Unattended operation (maintenance).
    "schedule",
    "backup",
    "retention",
    "tunnel",
    "alerts",
    "staff",
    "sound",
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
        let mut cfg: Config =
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
                let key = e.path().to_string();
                let inner = one_line(&e.into_inner().to_string());
                // serde reports unknown fields at the parent's path; name the unknown key itself.
                invalid(if key == "." { "(top level)" } else { &key }, inner)
            })?;
        cfg.validate()?;
        // `[fiscal]` wins; `[payme.fiscal]` fills what it lacks (checked separately above).
        let aliases = cfg.payme.fiscal.clone();
        cfg.fiscal.merge_aliases(&aliases);
        Ok(cfg)
    }
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
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::operations::{parse_hhmm, parse_offset};
    use crate::config::sections::{Mode, PriceValue};
    use std::path::PathBuf;

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
    fn a_half_configured_live_config_loads_for_the_start_check_to_list() {
        // Missing credentials are the live start check's business (crate::doctor), so that
        // `fotobox doctor` can list every missing piece; the load itself succeeds.
        let c = Config::from_toml("mode = \"live\"\n[payme]\nmerchant_id = \"abc\"\n").unwrap();
        assert_eq!(c.mode, Mode::Live);
    }

    #[test]
    fn fiscal_section_shapes_are_checked_in_any_mode() {
        for (text, key) in [
            (
                "[fiscal]\nikpu_code = \"1089900200100000\"\n",
                "fiscal.ikpu_code",
            ),
            (
                "[fiscal]\nikpu_code = \"1089900200100000x\"\n",
                "fiscal.ikpu_code",
            ),
            (
                "[fiscal]\nikpu_code = 10899002001000000\n",
                "fiscal.ikpu_code",
            ),
            (
                "[fiscal]\npackage_code = \"15-12\"\n",
                "fiscal.package_code",
            ),
            ("[fiscal]\nvat_percent = 101\n", "fiscal.vat_percent"),
            ("[fiscal]\nvat_percent = -1\n", "fiscal.vat_percent"),
            ("[fiscal]\ntin = \"12345678\"\n", "fiscal.tin"),
            ("[fiscal]\npinfl = \"1234567890123\"\n", "fiscal.pinfl"),
            (
                "[fiscal]\ntin = \"123456789\"\npinfl = \"12345678901234\"\n",
                "fiscal.pinfl",
            ),
            ("[fiscal]\nunits = 0\n", "fiscal.units"),
            (
                "[fiscal]\nclick_delay_seconds = 90000\n",
                "fiscal.click_delay_seconds",
            ),
            ("[fiscal]\nnope = 1\n", "nope"),
            (
                "[payme.fiscal]\nikpu_code = \"123\"\n",
                "payme.fiscal.ikpu_code",
            ),
        ] {
            for mode in ["sandbox", "live"] {
                let e = Config::from_toml(&format!("mode = \"{mode}\"\n{text}")).unwrap_err();
                assert!(e.to_string().contains(key), "{text}: {e}");
            }
        }
        let long = "x".repeat(64);
        let e = Config::from_toml(&format!("[fiscal]\ntitle = \"{long}\"\n")).unwrap_err();
        assert!(e.to_string().contains("fiscal.title"), "{e}");
        // 63 characters of Cyrillic (126 bytes) are fine: the limit counts characters.
        let c = Config::from_toml(&format!("[fiscal]\ntitle = \"{}\"\n", "ф".repeat(63))).unwrap();
        assert_eq!(c.fiscal.title_text().map(|t| t.chars().count()), Some(63));
    }

    #[test]
    fn fiscal_section_wins_over_its_payme_aliases_which_fill_the_gaps() {
        let c = Config::from_toml(
            "[fiscal]\nikpu_code = \"10899002001000000\"\ntin = \"123456789\"\n\
             [payme.fiscal]\nikpu_code = \"10305001001000000\"\npackage_code = \"1514296\"\nvat_percent = 12\ntitle = \"Foto, dona\"\n",
        )
        .unwrap();
        assert_eq!(c.fiscal.ikpu(), Some("10899002001000000"), "[fiscal] wins");
        assert_eq!(c.fiscal.package(), Some("1514296"), "alias fills the gap");
        assert_eq!(c.fiscal.vat_percent, Some(12));
        assert_eq!(c.fiscal.title_text(), Some("Foto, dona"));
        assert_eq!(c.fiscal.seller(), Some(("TIN", "123456789")));
        assert_eq!(c.fiscal.click_delay_seconds, 600);
        let c = Config::load_with_env(
            None,
            &env(&[
                ("FOTOBOX_FISCAL_PINFL", "12345678901234"),
                ("FOTOBOX_FISCAL_VAT_PERCENT", "0"),
            ]),
        )
        .unwrap();
        assert_eq!(c.fiscal.seller(), Some(("PINFL", "12345678901234")));
        assert_eq!(c.fiscal.vat_percent, Some(0));
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
        assert_eq!(c.fiscal.vat_percent, Some(12), "the alias reaches [fiscal]");
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
        let c = Config::from_toml(include_str!("../../../../fotobox.example.toml")).unwrap();
        let d = Config::sandbox_default();
        assert_eq!(c.mode, d.mode);
        assert_eq!(c.server.api_addr, d.server.api_addr);
        assert_eq!(c.server.callback_addr, d.server.callback_addr);
        assert_eq!(c.pricing.layouts, d.pricing.layouts);
        assert_eq!(c.pricing.extra_copy, d.pricing.extra_copy);
        assert_eq!(c.orders.ttl_seconds, d.orders.ttl_seconds);
        assert_eq!(c.staff.language, d.staff.language);
    }

    #[test]
    fn staff_language_defaults_to_uzbek_and_refuses_an_unknown_one() {
        use crate::config::operations::StaffLanguage;
        assert_eq!(Config::sandbox_default().staff.language, StaffLanguage::Uz);
        let c = Config::from_toml("[staff]\nlanguage = \"ru\"\n").unwrap();
        assert_eq!(c.staff.language, StaffLanguage::Ru);
        let c = Config::load_with_env(None, &env(&[("FOTOBOX_STAFF_LANGUAGE", "en")])).unwrap();
        assert_eq!(c.staff.language, StaffLanguage::En);
        for bad in ["de", "UZ", "o'zbek", ""] {
            let e = Config::from_toml(&format!("[staff]\nlanguage = \"{bad}\"\n")).unwrap_err();
            let msg = e.to_string();
            assert!(msg.starts_with("config key `staff.language`"), "{msg}");
            assert!(msg.contains("`uz`, `ru`, `en`"), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
        }
    }

    #[test]
    fn secrets_never_in_debug() {
        let c = Config::from_toml(
            "[server]\nstaff_token = \"tok-SECRET1-0123456789abcdef\"\n[payme]\nkey = \"pay-SECRET2\"\n[click]\nsecret_key = \"clk-SECRET3\"\n",
        )
        .unwrap();
        let dbg = format!("{c:?}");
        for s in ["tok-SECRET1-0123456789abcdef", "pay-SECRET2", "clk-SECRET3"] {
            assert!(!dbg.contains(s), "{s} leaked in {dbg}");
        }
        assert_eq!(c.payme.key.expose(), "pay-SECRET2");
    }

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

    #[test]
    fn huge_durations_are_refused_before_they_reach_a_date_computation() {
        for (env_key, key) in [
            (
                "FOTOBOX_RETENTION_ARCHIVE_AFTER_DAYS",
                "retention.archive_after_days",
            ),
            (
                "FOTOBOX_ALERTS_REPEAT_AFTER_MINUTES",
                "alerts.repeat_after_minutes",
            ),
            (
                "FOTOBOX_SCHEDULE_OPTIMIZE_EVERY_HOURS",
                "schedule.optimize_every_hours",
            ),
            (
                "FOTOBOX_CLICK_API_AUTO_CHECK_AFTER_SECS",
                "click.api.auto_check_after_secs",
            ),
        ] {
            let e =
                Config::load_with_env(None, &env(&[(env_key, "9223372036854775807")])).unwrap_err();
            assert!(e.to_string().contains(key), "{e}");
        }
    }

    #[test]
    fn an_api_listener_off_loopback_needs_an_explicit_yes() {
        let e = Config::from_toml("[server]\napi_addr = \"0.0.0.0:5000\"\n").unwrap_err();
        assert!(e.to_string().contains("server.api_addr"), "{e}");
        let c =
            Config::from_toml("[server]\napi_addr = \"0.0.0.0:5000\"\nallow_remote_api = true\n")
                .unwrap();
        assert!(c.server.allow_remote_api);
    }
}
