//! Compositing: shots cover-cropped into a layout's slots (`fast_image_resize`, SIMD), the
//! overlay frame drawn on top, then the text lines, encoded as JPEG with 300 dpi (JFIF density).
//! Everything here is CPU-bound and blocking: async callers run it on a blocking thread, never on
//! the async runtime's threads.

use std::path::PathBuf;

use ab_glyph::{point, Font, FontArc, PxScale, ScaleFont};
use image::codecs::jpeg::{JpegEncoder, PixelDensity};
use image::{Rgb, RgbImage, RgbaImage};

use crate::layouts::{Align, Layout, TextLine};
use crate::resize::{cover_resize_plain, cover_resize_with};
use fast_image_resize as fr;

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("layout {layout} takes {needed} pictures, got {got}")]
    ShotCount {
        layout: String,
        needed: usize,
        got: usize,
    },
    #[error("picture {index} is not a readable image: {message}")]
    BadShot { index: usize, message: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode the composite: {0}")]
    Encode(String),
}

/// Values of the text placeholders.
#[derive(Debug, Clone, Default)]
pub struct TextVars {
    /// `{event}`
    pub event: String,
    /// `{date}`
    pub date: String,
    /// `{order}`
    pub order: String,
}

impl TextVars {
    fn fill(&self, template: &str) -> String {
        template
            .replace("{event}", &self.event)
            .replace("{date}", &self.date)
            .replace("{order}", &self.order)
    }
}

/// Largest shot side accepted (pixels): above a 24-megapixel still, far above what a slot
/// prints at 300 dpi.
pub const MAX_SHOT_SIDE: u32 = 8000;
/// Most memory one shot's decoder may allocate (bytes).
pub const MAX_SHOT_DECODE_BYTES: u64 = 192 * 1024 * 1024;
/// Longest side a decoded shot is kept at while the others are decoded (pixels): twice a
/// 4x6 print's long side at 300 dpi, so no slot is upscaled by the shrink.
pub const KEEP_SHOT_SIDE: u32 = 3600;

fn reader(bytes: &[u8]) -> Result<image::ImageReader<std::io::Cursor<&[u8]>>, String> {
    let mut r = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SHOT_SIDE);
    limits.max_image_height = Some(MAX_SHOT_SIDE);
    limits.max_alloc = Some(MAX_SHOT_DECODE_BYTES);
    r.limits(limits);
    Ok(r)
}

/// Read only the header: refuse a shot over [`MAX_SHOT_SIDE`] pixels a side (a small file may
/// declare a huge picture) without decoding it.
pub fn check_shot_size(index: usize, bytes: &[u8]) -> Result<(u32, u32), ComposeError> {
    let bad = |message: String| ComposeError::BadShot { index, message };
    // Only the header is read here, so no limits are needed to ask for the size.
    let (w, h) = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| bad(e.to_string()))?
        .into_dimensions()
        .map_err(|e| bad(e.to_string()))?;
    if w > MAX_SHOT_SIDE || h > MAX_SHOT_SIDE {
        return Err(bad(format!(
            "{w}x{h} pixels is larger than {MAX_SHOT_SIDE} a side"
        )));
    }
    Ok((w, h))
}

/// Decode a shot (JPEG or PNG bytes) to RGB, within the decoder limits above, and shrink it to
/// at most [`KEEP_SHOT_SIDE`] a side so that the shots of a layout never add up to gigabytes.
pub fn decode_shot(index: usize, bytes: &[u8]) -> Result<RgbImage, ComposeError> {
    let bad = |message: String| ComposeError::BadShot { index, message };
    check_shot_size(index, bytes)?;
    let img = reader(bytes)
        .map_err(bad)?
        .decode()
        .map_err(|e| bad(e.to_string()))?
        .to_rgb8();
    let (w, h) = img.dimensions();
    let long = w.max(h);
    if long <= KEEP_SHOT_SIDE {
        return Ok(img);
    }
    let scale = f64::from(KEEP_SHOT_SIDE) / f64::from(long);
    let (nw, nh) = (
        ((f64::from(w) * scale).round() as u32).max(1),
        ((f64::from(h) * scale).round() as u32).max(1),
    );
    Ok(crate::resize::cover_resize(&img, nw, nh))
}

/// A whole, decodable JPEG within the shot limits (a camera still): its size. Other formats,
/// a header without picture data, or a picture over the limits are refused. Blocking.
pub fn check_jpeg(bytes: &[u8]) -> Result<(u32, u32), ComposeError> {
    let bad = |message: String| ComposeError::BadShot { index: 0, message };
    if image::guess_format(bytes).ok() != Some(image::ImageFormat::Jpeg) {
        return Err(bad("not a JPEG picture".into()));
    }
    // The decoder fills a cut-off picture in: a whole JPEG ends with its EOI marker.
    if !bytes.ends_with(&[0xFF, 0xD9]) {
        return Err(bad("the JPEG is cut off (no end marker)".into()));
    }
    check_shot_size(0, bytes)?;
    let img = reader(bytes)
        .map_err(bad)?
        .decode()
        .map_err(|e| bad(e.to_string()))?;
    Ok((img.width(), img.height()))
}

/// Render the layout with `shots` (index = picture number). Blocking.
pub fn render(
    layout: &Layout,
    shots: &[RgbImage],
    vars: &TextVars,
) -> Result<RgbImage, ComposeError> {
    if shots.len() != layout.shots {
        return Err(ComposeError::ShotCount {
            layout: layout.name.clone(),
            needed: layout.shots,
            got: shots.len(),
        });
    }
    let mut canvas = match &layout.background_image {
        Some(bg) => (**bg).clone(),
        None => RgbImage::from_pixel(layout.width, layout.height, layout.background),
    };
    let mut resizer = fr::Resizer::new();
    // Slots that show the same picture at the same size share one resize (two-strip sheets).
    let mut done: Vec<((usize, u32, u32), RgbImage)> = Vec::new();
    for slot in &layout.slots {
        let key = (slot.shot, slot.w, slot.h);
        if !done.iter().any(|(k, _)| *k == key) {
            let src = &shots[slot.shot];
            let img = cover_resize_with(&mut resizer, src, slot.w, slot.h)
                .unwrap_or_else(|| cover_resize_plain(src, slot.w, slot.h));
            done.push((key, img));
        }
        if let Some((_, img)) = done.iter().find(|(k, _)| *k == key) {
            blit(&mut canvas, img, slot.x, slot.y);
        }
    }
    if let Some(overlay) = &layout.overlay {
        draw_overlay(&mut canvas, overlay);
    }
    for line in &layout.text {
        let text = vars.fill(&line.text);
        if !text.trim().is_empty() {
            draw_text(&mut canvas, layout, line, &text);
        }
    }
    Ok(canvas)
}

/// Copy `img` into `canvas` at (`x`, `y`), row by row (clipped to the canvas).
pub fn blit(canvas: &mut RgbImage, img: &RgbImage, x: u32, y: u32) {
    let cw = canvas.width() as usize;
    let ch = canvas.height() as usize;
    let (x, y) = (x as usize, y as usize);
    if x >= cw || y >= ch {
        return;
    }
    let w = (img.width() as usize).min(cw - x);
    let h = (img.height() as usize).min(ch - y);
    let src = img.as_raw();
    let iw = img.width() as usize;
    let dst: &mut [u8] = canvas;
    for row in 0..h {
        let s = row * iw * 3;
        let d = ((y + row) * cw + x) * 3;
        dst[d..d + w * 3].copy_from_slice(&src[s..s + w * 3]);
    }
}

/// Alpha-blend the overlay (same size as the canvas) over it.
fn draw_overlay(canvas: &mut RgbImage, overlay: &RgbaImage) {
    let src = overlay.as_raw();
    let dst: &mut [u8] = canvas;
    for (d, s) in dst.chunks_exact_mut(3).zip(src.chunks_exact(4)) {
        let a = u32::from(s[3]);
        if a == 0 {
            continue;
        }
        if a == 255 {
            d.copy_from_slice(&s[..3]);
            continue;
        }
        for (dc, sc) in d.iter_mut().zip(s) {
            *dc = ((u32::from(*sc) * a + u32::from(*dc) * (255 - a) + 127) / 255) as u8;
        }
    }
}

fn draw_text(canvas: &mut RgbImage, layout: &Layout, line: &TextLine, text: &str) {
    draw_line(canvas, &layout.font, line, text);
}

/// Draw `text` on one line with kerning, in `font`, where and how `line` says (its own text is
/// not used), clipped to the canvas.
pub fn draw_line(canvas: &mut RgbImage, font: &FontArc, line: &TextLine, text: &str) {
    let scaled = font.as_scaled(PxScale::from(line.size));
    let mut glyphs = Vec::new();
    let mut caret = 0.0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            caret += scaled.kern(p, id);
        }
        glyphs.push((id, caret));
        caret += scaled.h_advance(id);
        prev = Some(id);
    }
    let width = caret;
    let x0 = match line.align {
        Align::Left => line.x as f32,
        Align::Center => line.x as f32 - width / 2.0,
        Align::Right => line.x as f32 - width,
    };
    let baseline = line.y as f32 + scaled.ascent();
    let (cw, ch) = (canvas.width() as i32, canvas.height() as i32);
    let Rgb(color) = line.color;
    for (id, dx) in glyphs {
        let glyph = id.with_scale_and_position(PxScale::from(line.size), point(x0 + dx, baseline));
        let Some(outline) = font.outline_glyph(glyph) else {
            continue;
        };
        let b = outline.px_bounds();
        outline.draw(|gx, gy, cov| {
            let px = b.min.x as i32 + gx as i32;
            let py = b.min.y as i32 + gy as i32;
            if px < 0 || py < 0 || px >= cw || py >= ch {
                return;
            }
            let a = cov.clamp(0.0, 1.0);
            let p = canvas.get_pixel_mut(px as u32, py as u32);
            for (d, s) in p.0.iter_mut().zip(color) {
                *d = (f32::from(s) * a + f32::from(*d) * (1.0 - a)).round() as u8;
            }
        });
    }
}

/// Encode as baseline JPEG with `dpi` in the JFIF header.
pub fn encode_jpeg(img: &RgbImage, quality: u8, dpi: u16) -> Result<Vec<u8>, ComposeError> {
    let mut out = Vec::with_capacity(img.as_raw().len() / 6);
    let mut enc = JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100));
    enc.set_pixel_density(PixelDensity::dpi(dpi));
    enc.encode_image(img)
        .map_err(|e| ComposeError::Encode(e.to_string()))?;
    Ok(out)
}

/// Decode the shot files, render and encode. Blocking.
pub fn compose_files(
    layout: &Layout,
    shots: &[PathBuf],
    vars: &TextVars,
    quality: u8,
) -> Result<Vec<u8>, ComposeError> {
    let mut decoded = Vec::with_capacity(shots.len());
    for (i, p) in shots.iter().enumerate() {
        let bytes = std::fs::read(p).map_err(|source| ComposeError::Read {
            path: p.clone(),
            source,
        })?;
        decoded.push(decode_shot(i, &bytes)?);
    }
    let img = render(layout, &decoded, vars)?;
    encode_jpeg(&img, quality, layout.dpi)
}

/// Read the JFIF density of a JPEG: `(unit, x, y)` with unit 1 = dots per inch.
pub fn jfif_density(jpeg: &[u8]) -> Option<(u8, u16, u16)> {
    // SOI, then APP0 "JFIF\0" version(2) unit(1) x(2) y(2).
    let pos = jpeg.windows(5).take(64).position(|w| w == b"JFIF\0")?;
    let d = jpeg.get(pos + 7..pos + 12)?;
    Some((
        d[0],
        u16::from_be_bytes([d[1], d[2]]),
        u16::from_be_bytes([d[3], d[4]]),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn jpeg_has_300_dpi() {
        let img = RgbImage::from_pixel(16, 16, Rgb([10, 20, 30]));
        let j = encode_jpeg(&img, 92, 300).unwrap();
        assert_eq!(jfif_density(&j), Some((1, 300, 300)));
    }
}
