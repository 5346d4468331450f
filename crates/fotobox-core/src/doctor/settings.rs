//! The checks of settings: the mode, each configured provider's credentials and their shape
//! (and that none is a generated sandbox credential), the fiscal data, the public URL and the
//! printer queue's name. Pure functions of the config; they never print a secret.

use crate::config::{Config, Mode, PrinterKind};
use crate::doctor::report::{Check, Status};
use crate::sandbox::SandboxCredentials;

/// The length of the cash-desk keys Payme issues (payme.md 2.1).
pub const PAYME_KEY_LEN: usize = 36;

pub fn mode(c: &Config) -> Check {
    match c.mode {
        Mode::Live => Check::advice("mode", Status::Ok, "live: real money"),
        Mode::Sandbox => Check::advice(
            "mode",
            Status::Warn,
            "sandbox: payments are simulated and nothing here fails",
        )
        .fix("set mode = \"live\" to take real money, then run `fotobox doctor` again"),
    }
}

fn payme_configured(c: &Config) -> bool {
    let p = &c.payme;
    !p.merchant_id.is_empty()
        || !p.key.is_empty()
        || (c.mode.is_sandbox() && !p.test_key.is_empty())
}

fn click_configured(c: &Config) -> bool {
    let k = &c.click;
    k.service_id != 0 || k.merchant_id != 0 || k.merchant_user_id != 0 || !k.secret_key.is_empty()
}

/// At least one provider, then each configured provider's credentials. `generated`: the data
/// directory's sandbox credentials (live mode refuses any of them).
pub fn providers(c: &Config, generated: Option<&SandboxCredentials>) -> Vec<Check> {
    let live = c.mode == Mode::Live;
    let generated = generated.filter(|_| live);
    let (payme, click) = (payme_configured(c), click_configured(c));
    let mut out = vec![match (payme, click) {
        (false, false) if live => Check::setting("providers", Status::Missing, "no payment provider is configured")
            .fix("set [payme] merchant_id and key, or [click] service_id, merchant_id, merchant_user_id and secret_key"),
        (false, false) => Check::advice(
            "providers",
            Status::Ok,
            "none configured: a sandbox start generates credentials for both",
        ),
        (true, true) => Check::setting("providers", Status::Ok, "Payme and Click"),
        (true, false) => Check::setting("providers", Status::Ok, "Payme only (Click is not offered)"),
        (false, true) => Check::setting("providers", Status::Ok, "Click only (Payme is not offered)"),
    }];
    if payme {
        out.extend(payme_checks(c, generated));
    }
    if click {
        out.extend(click_checks(c, generated));
    }
    out
}

fn payme_checks(c: &Config, generated: Option<&SandboxCredentials>) -> Vec<Check> {
    let p = &c.payme;
    let id = &p.merchant_id;
    let merchant = if id.is_empty() {
        Check::setting("payme.merchant_id", Status::Missing, "not set")
            .fix("set payme.merchant_id to the cash desk's id (Payme business cabinet)")
    } else if id.len() != 24 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Check::setting(
            "payme.merchant_id",
            Status::Wrong,
            format!(
                "{} characters; a Payme merchant id is 24 hex digits",
                id.chars().count()
            ),
        )
        .fix("copy the cash desk's id again from the Payme business cabinet")
    } else if generated.is_some_and(|g| g.payme_merchant_id == *id) {
        Check::setting(
            "payme.merchant_id",
            Status::Wrong,
            "is the sandbox's generated merchant id",
        )
        .fix("set the cash desk's real id")
    } else {
        Check::setting("payme.merchant_id", Status::Ok, "24 hex digits")
    };
    let key = p.key.expose();
    let key_check = if c.mode.is_sandbox() && key.is_empty() && !p.test_key.is_empty() {
        Check::setting("payme.key", Status::Ok, "sandbox: payme.test_key is used")
    } else if key.is_empty() {
        Check::setting("payme.key", Status::Missing, "not set")
            .fix("set payme.key to the cash-desk key (Payme business cabinet)")
    } else if c.mode == Mode::Live && key == p.test_key.expose() {
        Check::setting(
            "payme.key",
            Status::Wrong,
            "is the same as payme.test_key; live mode needs the cash-desk key",
        )
        .fix("set payme.key to the live cash-desk key")
    } else if generated.is_some_and(|g| g.payme_key == key) {
        Check::setting("payme.key", Status::Wrong, "is the sandbox's generated key")
            .fix("set payme.key to the live cash-desk key")
    } else if key.chars().count() != PAYME_KEY_LEN || key.chars().any(char::is_whitespace) {
        Check::setting(
            "payme.key",
            Status::Wrong,
            format!(
                "{} characters{}; Payme's cash-desk keys have {PAYME_KEY_LEN} and no spaces",
                key.chars().count(),
                if key.chars().any(char::is_whitespace) {
                    " with whitespace"
                } else {
                    ""
                }
            ),
        )
        .fix("copy the key again from the Payme business cabinet")
    } else {
        Check::setting(
            "payme.key",
            Status::Ok,
            format!("set ({PAYME_KEY_LEN} characters)"),
        )
    };
    vec![merchant, key_check]
}

fn click_checks(c: &Config, generated: Option<&SandboxCredentials>) -> Vec<Check> {
    let k = &c.click;
    let id = |key: &'static str, v: u64, what: &str| {
        if v == 0 {
            Check::setting(key, Status::Missing, "not set")
                .fix(format!("set {key} to the {what} from merchant.click.uz"))
        } else {
            Check::setting(key, Status::Ok, "set")
        }
    };
    let secret = k.secret_key.expose();
    let secret_check = if secret.is_empty() {
        Check::setting("click.secret_key", Status::Missing, "not set")
            .fix("set click.secret_key to the service's secret key from merchant.click.uz")
    } else if secret.chars().any(char::is_whitespace) {
        Check::setting("click.secret_key", Status::Wrong, "contains whitespace")
            .fix("copy the secret key again from merchant.click.uz")
    } else if generated.is_some_and(|g| g.click_secret_key == secret) {
        Check::setting(
            "click.secret_key",
            Status::Wrong,
            "is the sandbox's generated secret",
        )
        .fix("set the service's real secret key")
    } else {
        Check::setting("click.secret_key", Status::Ok, "set")
    };
    vec![
        id("click.service_id", k.service_id, "service id"),
        id("click.merchant_id", k.merchant_id, "merchant id"),
        id(
            "click.merchant_user_id",
            k.merchant_user_id,
            "merchant user id (Merchant API)",
        ),
        secret_check,
    ]
}

/// The fiscal data every sale needs (`[fiscal]`, aliases merged). The seller's TIN or PINFL only
/// when Click is configured (Payme's receipt does not carry it).
pub fn fiscal(c: &Config) -> Vec<Check> {
    let f = &c.fiscal;
    let classifier = "from the tax committee's classifier (tasnif.soliq.uz)";
    let text = |key: &'static str, v: Option<&str>, what: &str, fix: String| match v {
        Some(v) => Check::setting(key, Status::Ok, format!("{what}: {v}")),
        None => Check::setting(key, Status::Missing, "not set").fix(fix),
    };
    let mut out = vec![
        text(
            "fiscal.ikpu_code",
            f.ikpu(),
            "IKPU",
            format!("set fiscal.ikpu_code to the 17-digit IKPU {classifier}"),
        ),
        text(
            "fiscal.package_code",
            f.package(),
            "package code",
            format!("set fiscal.package_code to the IKPU's package code {classifier}"),
        ),
        match f.vat_percent {
            Some(v) => Check::setting("fiscal.vat_percent", Status::Ok, format!("{v}%")),
            None => Check::setting("fiscal.vat_percent", Status::Missing, "not set")
                .fix("set fiscal.vat_percent (0 without VAT, else 12)"),
        },
        text(
            "fiscal.title",
            f.title_text(),
            "receipt line",
            "set fiscal.title, at most 63 characters with the unit at the end (\"Foto chop etish, dona\")".into(),
        ),
    ];
    out.push(match (f.seller(), click_configured(c)) {
        (Some((kind, _)), _) => Check::setting("fiscal.tin", Status::Ok, format!("{kind} set")),
        (None, true) => Check::setting(
            "fiscal.tin",
            Status::Missing,
            "neither fiscal.tin nor fiscal.pinfl is set; Click's receipts need one",
        )
        .fix("set fiscal.tin (9 digits) or fiscal.pinfl (14 digits)"),
        (None, false) => Check::advice("fiscal.tin", Status::Ok, "not needed without Click"),
    });
    out
}

/// The host of an `http(s)://host[:port]/...` URL.
fn host(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("");
    }
    authority.split(':').next().unwrap_or("")
}

pub fn public_url(c: &Config) -> Check {
    let Some(url) = c
        .server
        .public_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    else {
        return Check::setting("server.public_url", Status::Missing, "not set").fix(
            "set server.public_url to the tunnel's fixed https address (the providers call it)",
        );
    };
    if url.starts_with("https://") {
        return Check::setting("server.public_url", Status::Ok, url.to_string());
    }
    let h = host(url);
    if matches!(h, "127.0.0.1" | "localhost" | "::1") {
        return Check::setting(
            "server.public_url",
            Status::Warn,
            format!("{url}: plain http on this machine only (tests); the providers need https"),
        );
    }
    Check::setting(
        "server.public_url",
        Status::Wrong,
        format!("{url} is not https; Payme and Click call only https addresses"),
    )
    .fix("use the tunnel's https address")
}

/// The printer's kind and queue name (its state is a machine check).
pub fn printer(c: &Config) -> Check {
    match c.printer.effective_kind(c.mode) {
        PrinterKind::Folder if c.mode == Mode::Live => Check::advice(
            "printer.kind",
            Status::Warn,
            format!(
                "prints go to the folder {}, not to a printer",
                c.printer.folder.display()
            ),
        )
        .fix("set printer.kind = \"cups\" and printer.name to the CUPS queue"),
        PrinterKind::Folder => Check::advice(
            "printer.kind",
            Status::Ok,
            format!("folder {} (sandbox)", c.printer.folder.display()),
        ),
        PrinterKind::Cups if c.printer.name.trim().is_empty() => {
            Check::setting("printer.name", Status::Missing, "no CUPS queue is named")
                .fix("set printer.name to the CUPS queue (`lpstat -p` lists them)")
        }
        PrinterKind::Cups => Check::setting(
            "printer.name",
            Status::Ok,
            format!("CUPS queue {}", c.printer.name.trim()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(host("http://127.0.0.1:8080/x"), "127.0.0.1");
        assert_eq!(host("https://kiosk.example.uz"), "kiosk.example.uz");
        assert_eq!(host("http://[::1]:9/"), "::1");
        assert_eq!(host("http://u:p@localhost/"), "localhost");
    }
}
