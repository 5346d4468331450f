//! The staff's test print: a calibration sheet at the printer's full size with the date and
//! header lines, edge lines every millimetre (to see what a borderless printer cuts), a colour
//! bar, a grey ramp, and every installed layout as the compositor prints it (its frame and text
//! over drawn sample pictures). Blocking, like the rest of the crate.

use std::sync::Arc;

use image::{imageops, Rgb, RgbImage};

use crate::compose::{self, ComposeError, TextVars};
use crate::layouts::{default_font, Align, Layout, TextLine};
use crate::samples;

/// The colour bar's patches, left to right: the printer's primaries and secondaries, black and
/// white (white is outlined so its edge shows).
pub const PATCHES: [(&str, [u8; 3]); 8] = [
    ("red", [255, 0, 0]),
    ("green", [0, 255, 0]),
    ("blue", [0, 0, 255]),
    ("cyan", [0, 255, 255]),
    ("magenta", [255, 0, 255]),
    ("yellow", [255, 255, 0]),
    ("black", [0, 0, 0]),
    ("white", [255, 255, 255]),
];

/// Steps of the grey ramp, black to white.
pub const GREY_STEPS: u32 = 11;

/// Edge lines are drawn 1..=EDGE_MM millimetres inside the sheet's border.
pub const EDGE_MM: u32 = 5;

/// A rectangle on the sheet: x, y, width, height in pixels.
pub type Rect = (u32, u32, u32, u32);

/// What to print.
#[derive(Debug, Clone)]
pub struct SheetSpec<'a> {
    /// The sheet in pixels (the printer's media at `dpi`).
    pub width: u32,
    pub height: u32,
    pub dpi: u16,
    /// Header lines, the first one large (a title, the date, the printer).
    pub lines: &'a [String],
    /// The installed layouts, each shown as the compositor prints it.
    pub layouts: &'a [Arc<Layout>],
    /// Their text placeholders (`{event}`, `{date}`).
    pub vars: &'a TextVars,
}

/// Where everything sits on a sheet (also what the tests measure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Geometry {
    /// Inset of each edge line in pixels (1, 2, ... millimetres).
    pub edges: Vec<u32>,
    /// Top of each header line and its size in pixels.
    pub header: Vec<(u32, u32)>,
    /// One per [`PATCHES`] entry.
    pub patches: Vec<Rect>,
    /// [`GREY_STEPS`] patches, black to white.
    pub greys: Vec<Rect>,
    /// One cell per layout (the picture and its caption below).
    pub cells: Vec<Rect>,
}

/// Lay a `width` x `height` sheet at `dpi` out for `header_lines` lines and `layouts` layouts.
pub fn geometry(
    width: u32,
    height: u32,
    dpi: u16,
    header_lines: usize,
    layouts: usize,
) -> Geometry {
    let mm = |n: u32| (f64::from(n) * f64::from(dpi) / 25.4).round() as u32;
    let edges: Vec<u32> = (1..=EDGE_MM).map(mm).collect();
    let margin = mm(EDGE_MM + 2);
    let inner_w = width.saturating_sub(2 * margin);
    let unit = height.min(width * 3 / 2).max(1);
    let mut y = margin;
    let mut header = Vec::new();
    for i in 0..header_lines {
        let size = if i == 0 { unit / 24 } else { unit / 48 }.max(8);
        header.push((y, size));
        y += size + size / 3;
    }
    y += unit / 60;
    let gap = (inner_w / 200).max(2);
    let row = |y: u32, n: u32, h: u32| -> Vec<Rect> {
        let w = inner_w.saturating_sub(gap * (n - 1)) / n;
        (0..n).map(|i| (margin + i * (w + gap), y, w, h)).collect()
    };
    let bar_h = unit / 16;
    let patches = row(y, PATCHES.len() as u32, bar_h);
    y += bar_h + gap;
    let grey_h = unit / 28;
    let greys = row(y, GREY_STEPS, grey_h);
    y += grey_h + unit / 40;
    let bottom = height.saturating_sub(margin);
    let n = layouts as u32;
    let cols = if n > 1 { 2 } else { 1 };
    let rows = n.div_ceil(cols).max(1);
    let cell_gap = unit / 60;
    let cell_w = inner_w.saturating_sub(cell_gap * (cols - 1)) / cols;
    let cell_h = bottom
        .saturating_sub(y)
        .saturating_sub(cell_gap * (rows - 1))
        / rows;
    let cells = (0..n)
        .map(|i| {
            let (c, r) = (i % cols, i / cols);
            (
                margin + c * (cell_w + cell_gap),
                y + r * (cell_h + cell_gap),
                cell_w,
                cell_h,
            )
        })
        .collect();
    Geometry {
        edges,
        header,
        patches,
        greys,
        cells,
    }
}

/// The grey of ramp step `i` (0 black .. GREY_STEPS-1 white).
pub fn grey(i: u32) -> u8 {
    (255 * i / (GREY_STEPS - 1)).min(255) as u8
}

fn fill(img: &mut RgbImage, (x, y, w, h): Rect, c: Rgb<u8>) {
    let (iw, ih) = img.dimensions();
    for yy in y..(y + h).min(ih) {
        for xx in x..(x + w).min(iw) {
            img.put_pixel(xx, yy, c);
        }
    }
}

fn outline(img: &mut RgbImage, (x, y, w, h): Rect, t: u32, c: Rgb<u8>) {
    if w == 0 || h == 0 {
        return;
    }
    fill(img, (x, y, w, t.min(h)), c);
    fill(img, (x, (y + h).saturating_sub(t), w, t.min(h)), c);
    fill(img, (x, y, t.min(w), h), c);
    fill(img, ((x + w).saturating_sub(t), y, t.min(w), h), c);
}

fn text(img: &mut RgbImage, s: &str, x: i32, y: u32, size: u32, align: Align) {
    let line = TextLine {
        text: String::new(),
        x,
        y: y as i32,
        size: size as f32,
        color: Rgb([0, 0, 0]),
        align,
    };
    compose::draw_line(img, &default_font(), &line, s);
}

/// Draw the calibration sheet.
pub fn calibration_sheet(spec: &SheetSpec<'_>) -> Result<RgbImage, ComposeError> {
    let (w, h) = (spec.width.max(1), spec.height.max(1));
    let g = geometry(w, h, spec.dpi, spec.lines.len(), spec.layouts.len());
    let mut img = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    let thin = (u32::from(spec.dpi) / 150).max(1);
    for (i, inset) in g.edges.iter().enumerate() {
        let c = if i + 1 == g.edges.len() {
            Rgb([220, 0, 0])
        } else {
            Rgb([0, 0, 0])
        };
        let rect = (
            *inset,
            *inset,
            w.saturating_sub(2 * inset),
            h.saturating_sub(2 * inset),
        );
        outline(&mut img, rect, thin, c);
    }
    let left = g.patches.first().map_or(0, |p| p.0) as i32;
    for (line, (y, size)) in spec.lines.iter().zip(&g.header) {
        text(&mut img, line, left, *y, *size, Align::Left);
    }
    for ((_, rgb), rect) in PATCHES.iter().zip(&g.patches) {
        fill(&mut img, *rect, Rgb(*rgb));
    }
    if let Some(white) = g.patches.last() {
        outline(&mut img, *white, thin, Rgb([0, 0, 0]));
    }
    for (i, rect) in g.greys.iter().enumerate() {
        let v = grey(i as u32);
        fill(&mut img, *rect, Rgb([v, v, v]));
    }
    if let Some(last) = g.greys.last() {
        outline(&mut img, *last, thin, Rgb([0, 0, 0]));
    }
    for (layout, (x, y, cw, ch)) in spec.layouts.iter().zip(&g.cells) {
        let label = format!("{} ({}x{})", layout.title, layout.width, layout.height);
        // DejaVu Sans averages about 0.55 of its size per character: the caption fits the cell.
        let fits = (f64::from(*cw) / (0.58 * label.chars().count().max(1) as f64)) as u32;
        let caption = (ch / 14).min(fits).clamp(8, 40);
        let room_h = ch.saturating_sub(caption + caption / 2);
        let (pw, ph) = fit(layout.width, layout.height, *cw, room_h);
        if pw < 2 || ph < 2 {
            continue;
        }
        let full = samples::sample_image(layout, spec.vars, layout.width.max(layout.height))?;
        let pic = imageops::resize(&full, pw, ph, imageops::FilterType::Triangle);
        let px = x + (cw - pw) / 2;
        compose::blit(&mut img, &pic, px, *y);
        outline(&mut img, (px, *y, pw, ph), thin, Rgb([0, 0, 0]));
        text(
            &mut img,
            &label,
            (x + cw / 2) as i32,
            y + ph + caption / 4,
            caption,
            Align::Center,
        );
    }
    Ok(img)
}

/// The largest `w` x `h` box of the picture's shape inside `max_w` x `max_h`.
fn fit(w: u32, h: u32, max_w: u32, max_h: u32) -> (u32, u32) {
    if w == 0 || h == 0 {
        return (0, 0);
    }
    let s = (f64::from(max_w) / f64::from(w)).min(f64::from(max_h) / f64::from(h));
    (
        (f64::from(w) * s).floor() as u32,
        (f64::from(h) * s).floor() as u32,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::layouts::LayoutSet;

    fn centre(img: &RgbImage, (x, y, w, h): Rect) -> [u8; 3] {
        img.get_pixel(x + w / 2, y + h / 2).0
    }

    fn sheet(w: u32, h: u32) -> (RgbImage, Geometry, usize) {
        let set = LayoutSet::embedded().unwrap();
        let layouts: Vec<Arc<Layout>> = set.names().iter().filter_map(|n| set.get(n)).collect();
        let lines = vec![
            "Fotobox test print".to_string(),
            "2026-11-29 23:40 UTC".to_string(),
        ];
        let vars = TextVars::default();
        let spec = SheetSpec {
            width: w,
            height: h,
            dpi: 300,
            lines: &lines,
            layouts: &layouts,
            vars: &vars,
        };
        let img = calibration_sheet(&spec).unwrap();
        (img, geometry(w, h, 300, 2, layouts.len()), layouts.len())
    }

    #[test]
    fn the_sheet_holds_exact_colours_a_ramp_edges_and_every_layout() {
        let (img, g, n) = sheet(1200, 1800);
        assert_eq!(img.dimensions(), (1200, 1800));
        assert!(n >= 2, "the built-in layouts");
        for ((name, rgb), rect) in PATCHES.iter().zip(&g.patches) {
            assert_eq!(centre(&img, *rect), *rgb, "{name} patch");
        }
        let ramp: Vec<u8> = g.greys.iter().map(|r| centre(&img, *r)[0]).collect();
        assert_eq!(ramp.first(), Some(&0));
        assert_eq!(ramp.last(), Some(&255));
        assert!(ramp.windows(2).all(|w| w[0] < w[1]), "{ramp:?}");
        // Edge lines at 1..5 mm: 12, 24, 35, 47, 59 px at 300 dpi, the last one red.
        assert_eq!(g.edges, vec![12, 24, 35, 47, 59]);
        assert_eq!(img.get_pixel(600, 12).0, [0, 0, 0]);
        assert_eq!(img.get_pixel(600, 59).0, [220, 0, 0]);
        assert_eq!(img.get_pixel(600, 5).0, [255, 255, 255]);
        // Each layout cell shows a picture (not blank paper) and stays on the sheet.
        assert_eq!(g.cells.len(), n);
        for (x, y, w, h) in &g.cells {
            assert!(x + w <= 1200 && y + h <= 1800);
            let coloured = (*y..y + h)
                .flat_map(|yy| (*x..x + w).map(move |xx| (xx, yy)))
                .filter(|(xx, yy)| img.get_pixel(*xx, *yy).0 != [255, 255, 255])
                .count();
            let share = coloured as f64 / f64::from(w * h);
            assert!(share > 0.2, "cell at {x},{y} is {share:.2} printed");
        }
        if let Ok(dir) = std::env::var("FOTOBOX_SHEET_OUT") {
            img.save(std::path::Path::new(&dir).join("calibration.png"))
                .unwrap();
        }
        // The cells do not run into the colour bar or the ramp.
        let ramp_bottom = g.greys[0].1 + g.greys[0].3;
        assert!(g.cells.iter().all(|c| c.1 > ramp_bottom));
    }

    #[test]
    fn a_landscape_or_tiny_sheet_draws_without_panicking() {
        let (img, g, _) = sheet(1800, 1200);
        assert_eq!(img.dimensions(), (1800, 1200));
        assert_eq!(centre(&img, g.patches[0]), [255, 0, 0]);
        let (img, _, _) = sheet(40, 30);
        assert_eq!(img.dimensions(), (40, 30));
    }
}
