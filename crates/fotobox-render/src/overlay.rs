//! The part of a layout's overlay frame that covers one slot, for the live view: the kiosk draws
//! it over the camera picture during the countdown, so the customer sees what the frame will hide.

use image::imageops::{self, FilterType};
use image::{ImageFormat, RgbaImage};

use crate::layouts::Layout;

/// The overlay over the slot that takes shot `shot` (the first such slot, as the live view
/// frames that one), scaled so its longer side is at most `max_side`, as PNG. `None` when the
/// layout has no overlay, no slot takes that shot, or the overlay is fully transparent there.
pub fn slot_overlay_png(
    layout: &Layout,
    shot: usize,
    max_side: u32,
) -> Result<Option<Vec<u8>>, image::ImageError> {
    let Some(img) = slot_overlay(layout, shot, max_side) else {
        return Ok(None);
    };
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)?;
    Ok(Some(out.into_inner()))
}

/// The overlay's pixels over the slot of `shot`, scaled down to fit `max_side` (see
/// [`slot_overlay_png`]).
pub fn slot_overlay(layout: &Layout, shot: usize, max_side: u32) -> Option<RgbaImage> {
    let overlay = layout.overlay.as_ref()?;
    let slot = layout.slots.iter().find(|s| s.shot == shot)?;
    // Slots are validated to lie on the canvas and the overlay is exactly the canvas size;
    // clamp anyway so a future change cannot make this read outside the image.
    let x = slot.x.min(overlay.width());
    let y = slot.y.min(overlay.height());
    let w = slot.w.min(overlay.width() - x);
    let h = slot.h.min(overlay.height() - y);
    if w == 0 || h == 0 {
        return None;
    }
    let part = imageops::crop_imm(overlay.as_ref(), x, y, w, h).to_image();
    if part.pixels().all(|p| p.0[3] == 0) {
        return None;
    }
    let (nw, nh) = crate::resize::fit_within(w, h, max_side);
    if (nw, nh) == (w, h) {
        return Some(part);
    }
    Some(imageops::resize(&part, nw, nh, FilterType::Triangle))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::layouts::LayoutSet;

    #[test]
    fn the_postcard_frame_over_its_slot_keeps_the_slot_shape_and_its_border() {
        let set = LayoutSet::embedded().unwrap();
        let l = set.get("postcard").unwrap();
        let slot = l.slots[0];
        let img = slot_overlay(&l, 0, 540).unwrap();
        // 1080x1380 scaled to a longer side of 540.
        assert_eq!(img.height(), 540);
        assert_eq!(
            img.width(),
            (u64::from(slot.w) * 540 / u64::from(slot.h)) as u32
        );
        // The same pixels as the overlay at the slot's corner, unscaled.
        let full = slot_overlay(&l, 0, 10_000).unwrap();
        assert_eq!((full.width(), full.height()), (slot.w, slot.h));
        let o = l.overlay.as_ref().unwrap();
        assert_eq!(full.get_pixel(0, 0), o.get_pixel(slot.x, slot.y));
        assert_eq!(
            full.get_pixel(slot.w - 1, slot.h - 1),
            o.get_pixel(slot.x + slot.w - 1, slot.y + slot.h - 1)
        );
        let png = slot_overlay_png(&l, 0, 540).unwrap().unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }

    #[test]
    fn no_overlay_for_a_shot_without_slot_or_a_transparent_part() {
        let set = LayoutSet::embedded().unwrap();
        let mut l = (*set.get("postcard").unwrap()).clone();
        assert!(slot_overlay(&l, 7, 540).is_none());
        l.overlay = Some(std::sync::Arc::new(RgbaImage::new(l.width, l.height)));
        assert!(slot_overlay(&l, 0, 540).is_none());
        l.overlay = None;
        assert!(slot_overlay_png(&l, 0, 540).unwrap().is_none());
    }
}
