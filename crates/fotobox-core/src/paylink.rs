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

/// `https://checkout.paycom.uz/<base64("m=..;ac.order_id=..;a=<tiyin>")>`.
pub fn payme_link(cfg: &Config, order_id: &str, amount: Sum) -> String {
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
    let params = format!("m={merchant};ac.order_id={order_id};a={tiyin}");
    let encoded = base64::engine::general_purpose::STANDARD.encode(params);
    format!("{}/{encoded}", host.trim_end_matches('/'))
}

/// `https://my.click.uz/services/pay?service_id=..&merchant_id=..&amount=15000.00&transaction_param=..`.
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

    #[test]
    fn payme_link_matches_the_docs_example() {
        // payme.md §10.2: m=587f72c72cac0d162c722ae2;ac.order_id=197;a=500 (5 sum).
        let c = cfg("mode = \"sandbox\"\n[payme]\nmerchant_id = \"587f72c72cac0d162c722ae2\"\ncheckout_url = \"https://checkout.paycom.uz\"\n");
        assert_eq!(
            payme_link(&c, "197", Sum::new(5)),
            "https://checkout.paycom.uz/bT01ODdmNzJjNzJjYWMwZDE2MmM3MjJhZTI7YWMub3JkZXJfaWQ9MTk3O2E9NTAw"
        );
    }

    #[test]
    fn payme_link_fields_decode() {
        let c = cfg("[payme]\nmerchant_id = \"5e730e8e0b852a417aa49ceb\"\n");
        let link = payme_link(&c, "AB12-CD34", Sum::new(15_000));
        let (host, b64) = link.rsplit_once('/').unwrap();
        assert_eq!(
            host, "https://test.paycom.uz",
            "sandbox host in sandbox mode"
        );
        let decoded = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        )
        .unwrap();
        let fields: Vec<&str> = decoded.split(';').collect();
        assert_eq!(
            fields,
            [
                "m=5e730e8e0b852a417aa49ceb",
                "ac.order_id=AB12-CD34",
                "a=1500000"
            ]
        );
    }

    #[test]
    fn payme_live_host() {
        let c = cfg(
            "mode = \"live\"\n[payme]\nmerchant_id = \"5e730e8e0b852a417aa49ceb\"\nkey = \"k\"\n",
        );
        assert!(payme_link(&c, "X", Sum::new(1)).starts_with("https://checkout.paycom.uz/"));
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
