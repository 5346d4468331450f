//! QR codes as SVG or PNG (error correction M, quiet zone, at least `QR_MIN_PX` wide).

use qrcode::{EcLevel, QrCode};

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
    #![allow(clippy::unwrap_used)]
    use super::*;

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
        let link = "https://checkout.paycom.uz/bT01ZTczMGU4ZTBiODUyYTQxN2FhNDljZWI7YWMub3JkZXJfaWQ9Wlg5US03TVBBO2E9MjUwMDAwMA==";
        let png = render_png(link).unwrap();
        let img = image::load_from_memory(&png).unwrap();
        assert!(img.width() >= QR_MIN_PX);
        assert_eq!(decode_png(&png), link);

        let click = "https://my.click.uz/services/pay?service_id=1&merchant_id=2&amount=25000.00&transaction_param=ZX9Q-7MPA";
        assert_eq!(decode_png(&render_png(click).unwrap()), click);
    }

    #[test]
    fn svg_is_an_svg_document() {
        let svg = render_svg("https://example.com/x").unwrap();
        assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"));
        assert!(svg.contains("width=\"") && svg.contains("#000000"));
    }
}
