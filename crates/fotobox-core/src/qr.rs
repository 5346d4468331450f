//! Payment links (Payme checkout, Click pay) and their QR codes as SVG or PNG.

use base64::Engine;
use qrcode::{EcLevel, QrCode};

use crate::config::Config;

/// Payme's production and sandbox checkout hosts (payme.md §10.2).
pub const PAYME_CHECKOUT_LIVE: &str = "https://checkout.paycom.uz";
pub const PAYME_CHECKOUT_SANDBOX: &str = "https://test.paycom.uz";
/// Click's pay page (click.md §9).
pub const CLICK_PAY_URL: &str = "https://my.click.uz/services/pay";
/// Used in sandbox mode when no Payme merchant id is configured, so the QR still renders.
pub const SANDBOX_PAYME_MERCHANT: &str = "000000000000000000000000";

/// Smallest rendered side in pixels: at about 8 px per module a 1080p kiosk screen shows a
/// code of roughly 6 cm, which a phone reads from arm's length.
pub const QR_MIN_PX: u32 = 360;

#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("cannot encode QR code: {0}")]
    Encode(#[from] qrcode::types::QrError),
    #[error("cannot encode PNG: {0}")]
    Png(#[from] image::ImageError),
}

/// `https://checkout.paycom.uz/<base64("m=..;ac.order_id=..;a=<tiyin>")>`.
pub fn payme_link(cfg: &Config, order_id: &str, amount_sum: i64) -> String {
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
    let params = format!("m={merchant};ac.order_id={order_id};a={}", amount_sum * 100);
    let encoded = base64::engine::general_purpose::STANDARD.encode(params);
    format!("{}/{encoded}", host.trim_end_matches('/'))
}

/// `https://my.click.uz/services/pay?service_id=..&merchant_id=..&amount=15000.00&transaction_param=..`.
pub fn click_link(cfg: &Config, order_id: &str, amount_sum: i64) -> String {
    format!(
        "{CLICK_PAY_URL}?service_id={}&merchant_id={}&amount={amount_sum}.00&transaction_param={order_id}",
        cfg.click.service_id, cfg.click.merchant_id
    )
}

fn code(data: &str) -> Result<QrCode, QrError> {
    Ok(QrCode::with_error_correction_level(
        data.as_bytes(),
        EcLevel::M,
    )?)
}

/// SVG with a quiet zone, error correction M.
pub fn render_svg(data: &str) -> Result<String, QrError> {
    Ok(code(data)?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(QR_MIN_PX, QR_MIN_PX)
        .quiet_zone(true)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build())
}

/// PNG (8-bit grey) with a quiet zone, error correction M.
pub fn render_png(data: &str) -> Result<Vec<u8>, QrError> {
    let img = code(data)?
        .render::<image::Luma<u8>>()
        .min_dimensions(QR_MIN_PX, QR_MIN_PX)
        .quiet_zone(true)
        .build();
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
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
            payme_link(&c, "197", 5),
            "https://checkout.paycom.uz/bT01ODdmNzJjNzJjYWMwZDE2MmM3MjJhZTI7YWMub3JkZXJfaWQ9MTk3O2E9NTAw"
        );
    }

    #[test]
    fn payme_link_fields_decode() {
        let c = cfg("[payme]\nmerchant_id = \"5e730e8e0b852a417aa49ceb\"\n");
        let link = payme_link(&c, "AB12-CD34", 15_000);
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
        assert!(payme_link(&c, "X", 1).starts_with("https://checkout.paycom.uz/"));
    }

    #[test]
    fn click_link_fields() {
        let c = cfg("[click]\nservice_id = 12345\nmerchant_id = 6789\n");
        let link = click_link(&c, "K1-0007", 15_000);
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

    fn decode_png(png: &[u8]) -> String {
        let img = image::load_from_memory(png).unwrap().to_luma8();
        let mut prepared = rqrr::PreparedImage::prepare(img);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1, "exactly one QR code in the image");
        let (_meta, content) = grids[0].decode().unwrap();
        content
    }

    #[test]
    fn png_round_trip_decodes_to_the_link() {
        let c = cfg("[payme]\nmerchant_id = \"5e730e8e0b852a417aa49ceb\"\n");
        let link = payme_link(&c, "ZX9Q-7MPA", 25_000);
        let png = render_png(&link).unwrap();
        let img = image::load_from_memory(&png).unwrap();
        assert!(img.width() >= QR_MIN_PX);
        assert_eq!(decode_png(&png), link);

        let click = click_link(
            &cfg("[click]\nservice_id = 1\nmerchant_id = 2\n"),
            "ZX9Q-7MPA",
            25_000,
        );
        assert_eq!(decode_png(&render_png(&click).unwrap()), click);
    }

    #[test]
    fn svg_is_an_svg_document() {
        let svg = render_svg("https://example.com/x").unwrap();
        assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"));
        assert!(svg.contains("width=\"") && svg.contains("#000000"));
    }
}
