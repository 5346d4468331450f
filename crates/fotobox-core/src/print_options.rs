//! The CUPS options of one print: the media and `-o name=value` options from the config
//! (`printer.media`, `printer.options`, `[printer.layouts.<layout>]`) and the layout file's
//! `media`. Precedence: the config's per-layout entry, then the layout file (media only), then
//! the printer-wide values.

use crate::config::Config;

/// Options are passed to `lp -o name=value`: names are CUPS/PPD keywords, values one word.
pub fn check(name: &str, value: &str) -> Result<(), String> {
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !name_ok {
        return Err("an option name is a CUPS keyword such as media or StpLaminate".into());
    }
    if value.is_empty()
        || value.len() > 128
        || value.starts_with('-')
        || value.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "{value:?} is not one word (a value such as w288h432 or True)"
        ));
    }
    Ok(())
}

/// The media for `layout` (whose file says `layout_media`).
pub fn media(config: &Config, layout: &str, layout_media: Option<&str>) -> String {
    config
        .printer
        .layouts
        .get(layout)
        .and_then(|l| l.media.clone())
        .or_else(|| layout_media.map(str::to_string))
        .unwrap_or_else(|| config.printer.media.clone())
}

/// The extra `-o` options for `layout`: `printer.options`, overridden per name by the layout's
/// entry. `media` is left out (it is the job's media).
pub fn options(config: &Config, layout: Option<&str>) -> Vec<(String, String)> {
    let mut all = config.printer.options.clone();
    if let Some(l) = layout.and_then(|l| config.printer.layouts.get(l)) {
        all.extend(l.options.clone());
    }
    all.into_iter().filter(|(k, _)| k != "media").collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_layout_entries_win() {
        let mut c = Config::sandbox_default();
        c.printer.media = "w288h432".into();
        c.printer
            .options
            .insert("StpLaminate".into(), "Glossy".into());
        c.printer.options.insert("StpCutter".into(), "Off".into());
        let mut strip = crate::config::sections::LayoutPrintConfig {
            media: Some("w288h432-div2".into()),
            ..Default::default()
        };
        strip.options.insert("StpCutter".into(), "On".into());
        c.printer.layouts.insert("strip-2x6".into(), strip);
        assert_eq!(media(&c, "strip-2x6", Some("4x6")), "w288h432-div2");
        assert_eq!(media(&c, "postcard", Some("4x6")), "4x6");
        assert_eq!(media(&c, "postcard", None), "w288h432");
        assert_eq!(
            options(&c, Some("strip-2x6")),
            vec![
                ("StpCutter".to_string(), "On".to_string()),
                ("StpLaminate".to_string(), "Glossy".to_string())
            ]
        );
        assert_eq!(options(&c, Some("postcard"))[0].1, "Off");
        assert!(check("StpCutter", "On").is_ok());
        assert!(check("-x", "On").is_err());
        assert!(check("media", "two words").is_err());
    }
}
