//! Payment links: the Payme checkout link and the Click pay link an order's QR code carries.

use base64::Engine;

use fotobox_store::Sum;

use crate::config::Config;

/// Payme's production and sandbox checkout hosts (payme.md §10.2).
pub const PAYME_CHECKOUT_LIVE: &str = "https://checkout.paycom.uz";
pub const PAYME_CHECKOUT_SANDBOX: &str = "https://test.paycom.uz";
/// Click's pay page (click.md §9).
pub const CLICK_PAY_URL: &str = "https://my.click.uz/services/pay";
/// Used in sandbox mode when no Payme merchant id is configured, so the QR still renders.
pub const SANDBOX_PAYME_MERCHANT: &str = "000000000000000000000000";

/// The customer's language on the provider's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Uz,
    Ru,
    En,
}

impl Lang {
    /// `uz`, `ru` or `en` (any case); anything else is `None`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s.to_ascii_lowercase().as_str() {
            "uz" => Some(Lang::Uz),
            "ru" => Some(Lang::Ru),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Uz => "uz",
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }
}

/// `https://checkout.paycom.uz/<base64("m=..;ac.order_id=..;a=<tiyin>;l=<lang>")>`: Payme's
/// checkout opens in the customer's language (`l`, payme.md §10.2).
pub fn payme_link(cfg: &Config, order_id: &str, amount: Sum, lang: Lang) -> String {
    let host = cfg.payme.checkout_url.clone().unwrap_or_else(|| {
        if cfg.mode.is_sandbox() {
            PAYME_CHECKOUT_SANDBOX.to_string()
        } else {
            PAYME_CHECKOUT_LIVE.to_string()
        }
    });
    let merchant = if cfg.payme.merchant_id.is_empty() {
        SANDBOX_PAYME_MERCHANT
    } else {
        cfg.payme.merchant_id.as_str()
    };
    // Order amounts are bounded far below an overflow (`orders::MAX_AMOUNT`).
    let tiyin = amount.to_tiyin().unwrap_or(0);
    let params = format!(
        "m={merchant};ac.order_id={order_id};a={tiyin};l={}",
        lang.as_str()
    );
    let encoded = base64::engine::general_purpose::STANDARD.encode(params);
    format!("{}/{encoded}", host.trim_end_matches('/'))
}

/// `https://my.click.uz/services/pay?service_id=..&merchant_id=..&amount=15000.00&transaction_param=..`.
/// Click documents no language parameter for its pay page (click.md §9 lists every one), so the
/// link carries none: Click's page follows the payer's app or browser language.
pub fn click_link(cfg: &Config, order_id: &str, amount: Sum) -> String {
    format!(
        "{CLICK_PAY_URL}?service_id={}&merchant_id={}&amount={amount}.00&transaction_param={order_id}",
        cfg.click.service_id, cfg.click.merchant_id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> Config {
        Config::from_toml(text).unwrap()
    }

    fn decoded(link: &str) -> String {
        let (_, b64) = link.rsplit_once('/').unwrap();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn payme_link_matches_the_docs_example() {
        // payme.md §10.2: m=587f72c72cac0d162c722ae2;ac.order_id=197;a=500 (5 sum) encodes to
        // bT01ODdm...O2E9NTAw; ours is the same parameters and the language.
        let docs = base64::engine::general_purpose::STANDARD
            .decode("bT01ODdmNzJjNzJjYWMwZDE2MmM3MjJhZTI7YWMub3JkZXJfaWQ9MTk3O2E9NTAw")
            .unwrap();
        let c = cfg("mode = \"sandbox\"\n[payme]\nmerchant_id = \"587f72c72cac0d162c722ae2\"\ncheckout_url = \"https://checkout.paycom.uz\"\n");
        let link = payme_link(&c, "197", Sum::new(5), Lang::Uz);
        assert!(link.starts_with("https://checkout.paycom.uz/"));
        assert_eq!(
            decoded(&link),
            format!("{};l=uz", String::from_utf8(docs).unwrap())
        );
    }

    #[test]
    fn payme_link_fields_decode() {
        let c = cfg("[payme]\nmerchant_id = \"5e730e8e0b852a417aa49ceb\"\n");
        let link = payme_link(&c, "AB12-CD34", Sum::new(15_000), Lang::Ru);
        let (host, _) = link.rsplit_once('/').unwrap();
        assert_eq!(
            host, "https://test.paycom.uz",
            "sandbox host in sandbox mode"
        );
        let d = decoded(&link);
        let fields: Vec<&str> = d.split(';').collect();
        assert_eq!(
            fields,
            [
                "m=5e730e8e0b852a417aa49ceb",
                "ac.order_id=AB12-CD34",
                "a=1500000",
                "l=ru"
            ]
        );
        for (lang, l) in [(Lang::Uz, "l=uz"), (Lang::En, "l=en")] {
            assert!(decoded(&payme_link(&c, "X", Sum::new(1), lang)).ends_with(l));
        }
        assert_eq!(Lang::parse("RU"), Some(Lang::Ru));
        assert_eq!(Lang::parse("de"), None);
    }

    #[test]
    fn payme_live_host() {
        let c = cfg(
            "mode = \"live\"\n[payme]\nmerchant_id = \"5e730e8e0b852a417aa49ceb\"\nkey = \"k\"\n",
        );
        assert!(
            payme_link(&c, "X", Sum::new(1), Lang::Uz).starts_with("https://checkout.paycom.uz/")
        );
    }

    #[test]
    fn click_link_fields() {
        let c = cfg("[click]\nservice_id = 12345\nmerchant_id = 6789\n");
        let link = click_link(&c, "K1-0007", Sum::new(15_000));
        let (base, query) = link.split_once('?').unwrap();
        assert_eq!(base, "https://my.click.uz/services/pay");
        let pairs: Vec<(&str, &str)> = query
            .split('&')
            .map(|kv| kv.split_once('=').unwrap())
            .collect();
        assert_eq!(
            pairs,
            [
                ("service_id", "12345"),
                ("merchant_id", "6789"),
                ("amount", "15000.00"),
                ("transaction_param", "K1-0007")
            ]
        );
    }
}
