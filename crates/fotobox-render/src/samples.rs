//! Sample prints for the attract screen: each layout composed by the real compositor from
//! drawn sample pictures (smiling figures on coloured backdrops), never from customers' photos.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use image::{imageops, Rgb, RgbImage};

use crate::compose::{self, ComposeError, TextVars};
use crate::layouts::Layout;

/// Backdrop (top, bottom) colours of the sample pictures, one pair per shot.
const BACKDROPS: [([u8; 3], [u8; 3]); 4] = [
    ([255, 170, 200], [120, 80, 200]),
    ([140, 220, 255], [40, 90, 200]),
    ([255, 230, 140], [240, 120, 60]),
    ([170, 240, 190], [30, 140, 120]),
];
const SKIN: [[u8; 3]; 4] = [
    [241, 194, 160],
    [224, 172, 130],
    [198, 140, 100],
    [250, 214, 185],
];
const CLOTHES: [[u8; 3]; 5] = [
    [230, 60, 90],
    [40, 40, 60],
    [250, 250, 250],
    [60, 160, 90],
    [250, 190, 40],
];

fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> Rgb<u8> {
    let m = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
    Rgb([m(a[0], b[0]), m(a[1], b[1]), m(a[2], b[2])])
}

/// Fill the ellipse centred at (`cx`, `cy`) with radii `rx`, `ry` (pixels), clipped to the image.
fn ellipse(img: &mut RgbImage, cx: f32, cy: f32, rx: f32, ry: f32, color: Rgb<u8>) {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (x0, x1) = (
        (cx - rx).max(0.0) as u32,
        (cx + rx).min(w - 1.0).max(0.0) as u32,
    );
    let (y0, y1) = (
        (cy - ry).max(0.0) as u32,
        (cy + ry).min(h - 1.0).max(0.0) as u32,
    );
    for y in y0..=y1 {
        for x in x0..=x1 {
            let (dx, dy) = ((x as f32 - cx) / rx, (y as f32 - cy) / ry);
            if dx * dx + dy * dy <= 1.0 {
                img.put_pixel(x, y, color);
            }
        }
    }
}

/// Draw the lower half of a ring (a smile) centred at (`cx`, `cy`).
fn smile(img: &mut RgbImage, cx: f32, cy: f32, r: f32, thick: f32, color: Rgb<u8>) {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (x0, x1) = (
        (cx - r).max(0.0) as u32,
        (cx + r).min(w - 1.0).max(0.0) as u32,
    );
    let (y0, y1) = (cy.max(0.0) as u32, (cy + r).min(h - 1.0).max(0.0) as u32);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
            if (d - r).abs() <= thick / 2.0 {
                img.put_pixel(x, y, color);
            }
        }
    }
}

/// A drawn sample picture `w` x `h` for shot `shot`: a gradient backdrop and one to three
/// smiling figures, different for each shot.
pub fn sample_shot(shot: usize, w: u32, h: u32) -> RgbImage {
    let (top, bottom) = BACKDROPS[shot % BACKDROPS.len()];
    let mut img = RgbImage::from_fn(w, h, |_, y| mix(top, bottom, y as f32 / h.max(1) as f32));
    let people = 1 + shot % 3;
    let (wf, hf) = (w as f32, h as f32);
    let unit = hf.min(wf / people as f32 * 1.2);
    for p in 0..people {
        let cx = wf * (p as f32 + 0.5) / people as f32;
        let head = unit * 0.16;
        let cy = hf * 0.45 + if p % 2 == 1 { unit * 0.05 } else { 0.0 };
        let clothes = Rgb(CLOTHES[(shot + p) % CLOTHES.len()]);
        ellipse(
            &mut img,
            cx,
            hf + unit * 0.1,
            unit * 0.32,
            unit * 0.55,
            clothes,
        );
        let skin = Rgb(SKIN[(shot * 2 + p) % SKIN.len()]);
        ellipse(&mut img, cx, cy, head, head * 1.15, skin);
        let hair = Rgb([60 + (p as u8) * 40, 40, 30]);
        ellipse(
            &mut img,
            cx,
            cy - head * 0.75,
            head * 1.02,
            head * 0.5,
            hair,
        );
        let eye = Rgb([30, 30, 40]);
        ellipse(&mut img, cx - head * 0.38, cy, head * 0.1, head * 0.13, eye);
        ellipse(&mut img, cx + head * 0.38, cy, head * 0.1, head * 0.13, eye);
        smile(
            &mut img,
            cx,
            cy + head * 0.2,
            head * 0.45,
            head * 0.1,
            Rgb([170, 50, 60]),
        );
    }
    img
}

/// `layout` composed from the sample pictures, scaled so its longer side is at most
/// `max_side`, as JPEG.
pub fn sample_print(
    layout: &Layout,
    vars: &TextVars,
    max_side: u32,
) -> Result<Vec<u8>, ComposeError> {
    compose::encode_jpeg(&sample_image(layout, vars, max_side)?, 82, 72)
}

/// `layout` composed from the sample pictures, scaled so its longer side is at most `max_side`.
pub fn sample_image(
    layout: &Layout,
    vars: &TextVars,
    max_side: u32,
) -> Result<RgbImage, ComposeError> {
    let shots: Vec<RgbImage> = (0..layout.shots)
        // The print is shown at a fraction of its size: small pictures are enough.
        .map(|i| sample_shot(i, 640, 480))
        .collect();
    let full = compose::render(layout, &shots, vars)?;
    let (nw, nh) = crate::resize::fit_within(full.width(), full.height(), max_side);
    Ok(if (nw, nh) == full.dimensions() {
        full
    } else {
        imageops::resize(&full, nw, nh, imageops::FilterType::Triangle)
    })
}

/// Sample prints by layout, text and size, composed once each (a few layouts, a new date each
/// day). Cheap to clone (shared); one lives in the application context.
#[derive(Debug, Clone, Default)]
pub struct SampleCache {
    kept: Arc<Mutex<HashMap<SampleKey, Arc<Vec<u8>>>>>,
}

/// (layout, event, date, longest side).
type SampleKey = (String, String, String, u32);

/// At most this many sample prints are kept; the oldest day's go first (all of them, simply).
const MAX_SAMPLES: usize = 64;

impl SampleCache {
    /// The sample of the layout named `layout` with `vars`, if it was composed already.
    pub fn kept(&self, layout: &str, vars: &TextVars, max_side: u32) -> Option<Arc<Vec<u8>>> {
        let key = Self::key(layout, vars, max_side);
        self.kept.lock().ok().and_then(|c| c.get(&key).cloned())
    }

    fn key(layout: &str, vars: &TextVars, max_side: u32) -> SampleKey {
        (
            layout.to_string(),
            vars.event.clone(),
            vars.date.clone(),
            max_side,
        )
    }

    /// The [`sample_print`] of `layout` with `vars`, composed on the first call. Blocking.
    pub fn get(
        &self,
        layout: &Layout,
        vars: &TextVars,
        max_side: u32,
    ) -> Result<Arc<Vec<u8>>, ComposeError> {
        if let Some(jpeg) = self.kept(&layout.name, vars, max_side) {
            return Ok(jpeg);
        }
        let key = Self::key(&layout.name, vars, max_side);
        let jpeg = Arc::new(sample_print(layout, vars, max_side)?);
        if let Ok(mut c) = self.kept.lock() {
            if c.len() >= MAX_SAMPLES {
                c.clear();
            }
            c.insert(key, jpeg.clone());
        }
        Ok(jpeg)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::layouts::LayoutSet;

    #[test]
    fn a_sample_print_has_its_layouts_shape() {
        let set = LayoutSet::embedded().unwrap();
        // One layout is enough here (a debug build composes slowly).
        let l = set.get("postcard").unwrap();
        let jpeg = sample_print(&l, &TextVars::default(), 600).unwrap();
        let img = image::load_from_memory(&jpeg).unwrap();
        assert_eq!(img.width().max(img.height()), 600);
        let want = f64::from(l.width) / f64::from(l.height);
        let got = f64::from(img.width()) / f64::from(img.height());
        assert!((want - got).abs() < 0.01, "{got} vs {want}");
    }

    #[test]
    fn sample_shots_differ_and_are_not_blank() {
        let a = sample_shot(0, 320, 240);
        let b = sample_shot(1, 320, 240);
        assert_ne!(a.as_raw(), b.as_raw());
        // A face is drawn in the middle: not the backdrop colour.
        let centre = a.get_pixel(160, 108);
        assert_eq!(centre, &Rgb(SKIN[0]));
    }
}
