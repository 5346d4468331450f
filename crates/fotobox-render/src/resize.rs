//! Cover-crop resizing of a shot into a slot: `fast_image_resize` (Lanczos3, SIMD), with the
//! `image` crate's resize as the fallback and the benchmark's baseline.

use fast_image_resize as fr;
use image::RgbImage;

/// The centred crop of a `sw` x `sh` source with the aspect ratio of `w` x `h` (cover).
pub fn cover_crop_box(sw: u32, sh: u32, w: u32, h: u32) -> (f64, f64, f64, f64) {
    let (sw, sh, w, h) = (f64::from(sw), f64::from(sh), f64::from(w), f64::from(h));
    if sw * h > sh * w {
        // Source wider than the slot: cut left and right.
        let cw = sh * w / h;
        ((sw - cw) / 2.0, 0.0, cw, sh)
    } else {
        let ch = sw * h / w;
        (0.0, (sh - ch) / 2.0, sw, ch)
    }
}

/// `w` x `h` scaled down (never up) so its longer side is at most `max_side`, keeping the shape.
pub fn fit_within(w: u32, h: u32, max_side: u32) -> (u32, u32) {
    let (longer, max_side) = (w.max(h), max_side.max(1));
    if longer <= max_side {
        return (w, h);
    }
    let scale = |v: u32| (u64::from(v) * u64::from(max_side) / u64::from(longer)).max(1) as u32;
    (scale(w), scale(h))
}

/// Cover-crop `src` to exactly `w` x `h` with `fast_image_resize` (Lanczos3, SIMD).
pub fn cover_resize(src: &RgbImage, w: u32, h: u32) -> RgbImage {
    let mut resizer = fr::Resizer::new();
    cover_resize_with(&mut resizer, src, w, h).unwrap_or_else(|| cover_resize_plain(src, w, h))
}

/// `None` when `fast_image_resize` refuses the buffers (the caller falls back to `image`).
pub(crate) fn cover_resize_with(
    resizer: &mut fr::Resizer,
    src: &RgbImage,
    w: u32,
    h: u32,
) -> Option<RgbImage> {
    let src_view =
        fr::images::ImageRef::new(src.width(), src.height(), src.as_raw(), fr::PixelType::U8x3)
            .ok()?;
    let mut dst = fr::images::Image::new(w, h, fr::PixelType::U8x3);
    let (l, t, cw, ch) = cover_crop_box(src.width(), src.height(), w, h);
    let opts = fr::ResizeOptions::new()
        .resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3))
        .crop(l, t, cw, ch);
    resizer.resize(&src_view, &mut dst, &opts).ok()?;
    RgbImage::from_raw(w, h, dst.into_vec())
}

/// The same cover-crop with the `image` crate only (for the benchmark's comparison).
pub fn cover_resize_plain(src: &RgbImage, w: u32, h: u32) -> RgbImage {
    let (l, t, cw, ch) = cover_crop_box(src.width(), src.height(), w, h);
    let view = image::imageops::crop_imm(src, l as u32, t as u32, cw as u32, ch as u32).to_image();
    image::imageops::resize(&view, w, h, image::imageops::FilterType::Lanczos3)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use image::Rgb;

    #[test]
    fn cover_crop_box_keeps_the_slot_aspect() {
        let (l, t, w, h) = cover_crop_box(1920, 1080, 500, 500);
        assert_eq!((l, t, w, h), (420.0, 0.0, 1080.0, 1080.0));
        let (l, t, w, h) = cover_crop_box(1000, 1000, 1000, 500);
        assert_eq!((l, t, w, h), (0.0, 250.0, 1000.0, 500.0));
    }

    #[test]
    fn fast_and_plain_cover_resize_agree() {
        let mut src = RgbImage::new(400, 200);
        for (x, _, p) in src.enumerate_pixels_mut() {
            *p = if x < 200 {
                Rgb([255, 0, 0])
            } else {
                Rgb([0, 0, 255])
            };
        }
        let a = cover_resize(&src, 100, 100);
        let b = cover_resize_plain(&src, 100, 100);
        assert_eq!(a.dimensions(), (100, 100));
        assert_eq!(a.get_pixel(10, 50), b.get_pixel(10, 50));
        assert_eq!(a.get_pixel(10, 50)[0], 255);
        assert_eq!(a.get_pixel(90, 50)[2], 255);
    }
}
