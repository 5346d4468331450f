//! Command-line flags the kiosk answers before Tauri starts (no window, no display needed).

/// What `fotobox-kiosk --help` prints.
const USAGE: &str = "\
fotobox-kiosk: the Fotobox photobooth kiosk window (full screen, the same core as `fotobox serve`)

Usage: fotobox-kiosk [--version | --help]

Without flags it opens the kiosk window. Settings come from the environment:
  FOTOBOX_CONFIG   config file (TOML); without one, sandbox defaults apply
  FOTOBOX_*        single keys (see docs/configuration.md)
Staff tools, backups and `doctor` are in the `fotobox` command.";

/// The text to print and exit with for `--version`/`-V` or `--help`/`-h` as the first
/// argument; `None` to start the window (any other arguments are left to Tauri, as before).
pub fn early_answer<I: IntoIterator<Item = std::ffi::OsString>>(args: I) -> Option<String> {
    let first = args.into_iter().nth(1)?;
    match first.to_str()? {
        "--version" | "-V" => Some(format!("fotobox-kiosk {}", env!("CARGO_PKG_VERSION"))),
        "--help" | "-h" => Some(USAGE.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(args: &[&str]) -> Option<String> {
        early_answer(args.iter().map(std::ffi::OsString::from))
    }

    #[test]
    fn version_and_help_are_answered_without_a_window() {
        assert_eq!(
            answer(&["fotobox-kiosk", "--version"]).as_deref(),
            Some(concat!("fotobox-kiosk ", env!("CARGO_PKG_VERSION")))
        );
        assert_eq!(
            answer(&["fotobox-kiosk", "-V"]),
            answer(&["x", "--version"])
        );
        assert!(answer(&["fotobox-kiosk", "--help"]).is_some_and(|u| u.contains("Usage:")));
    }

    #[test]
    fn no_flag_starts_the_window() {
        assert_eq!(answer(&["fotobox-kiosk"]), None);
        assert_eq!(answer(&["fotobox-kiosk", "--something-else"]), None);
    }
}
