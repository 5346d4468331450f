//! Golden-image tests of the compositor with tolerance: canvas size, slot placement (sampled
//! pixels of known-colour shots), the overlay drawn on top, text, JPEG with 300 dpi.
#![allow(clippy::unwrap_used)]

use fotobox_render::compose::{self, TextVars};
use fotobox_render::layouts::{self, LayoutSet};
use image::{Rgb, RgbImage};

const COLORS: [[u8; 3]; 4] = [[220, 30, 30], [30, 200, 30], [30, 30, 220], [230, 200, 20]];
const GOLD: [u8; 3] = [200, 160, 74];

fn close(a: &Rgb<u8>, b: [u8; 3], tol: i32) -> bool {
    (0..3).all(|i| (i32::from(a[i]) - i32::from(b[i])).abs() <= tol)
}

fn shots(n: usize) -> Vec<RgbImage> {
    (0..n)
        .map(|i| RgbImage::from_pixel(1920, 1080, Rgb(COLORS[i])))
        .collect()
}

fn decode(jpeg: &[u8]) -> RgbImage {
    image::load_from_memory(jpeg).unwrap().to_rgb8()
}

#[test]
fn every_builtin_layout_places_each_shot_in_its_slots_under_the_overlay() {
    let set = LayoutSet::embedded().unwrap();
    let vars = TextVars {
        event: "Toy 2026".into(),
        date: "25.11.2026".into(),
        order: "ABCD-1234".into(),
    };
    for name in set.names() {
        let layout = set.get(&name).unwrap();
        let img = compose::render(&layout, &shots(layout.shots), &vars).unwrap();
        assert_eq!(img.dimensions(), (layout.width, layout.height), "{name}");
        // Through JPEG at quality 92 the colours survive within a tolerance.
        let jpeg = compose::encode_jpeg(&img, 92, layout.dpi).unwrap();
        assert_eq!(compose::jfif_density(&jpeg), Some((1, 300, 300)), "{name}");
        let back = decode(&jpeg);
        assert_eq!(back.dimensions(), (layout.width, layout.height));
        for (i, s) in layout.slots.iter().enumerate() {
            let centre = back.get_pixel(s.x + s.w / 2, s.y + s.h / 2);
            assert!(
                close(centre, COLORS[s.shot], 12),
                "{name} slot {i}: centre {centre:?}"
            );
            // The frame ring (8 px inside the slot edge) is drawn over the photo.
            let ring = back.get_pixel(s.x + 3, s.y + s.h / 2);
            assert!(close(ring, GOLD, 16), "{name} slot {i}: ring {ring:?}");
            // Just inside the ring the photo shows again.
            let inside = back.get_pixel(s.x + 20, s.y + s.h / 2);
            assert!(
                close(inside, COLORS[s.shot], 16),
                "{name} slot {i}: inside {inside:?}"
            );
        }
        // The text area below the slots has dark (text) pixels and white background.
        let bottom = layout.slots.iter().map(|s| s.y + s.h).max().unwrap();
        let area: Vec<_> = (bottom + 20..layout.height - 20)
            .flat_map(|y| (20..layout.width - 20).map(move |x| (x, y)))
            .map(|(x, y)| *back.get_pixel(x, y))
            .collect();
        assert!(
            area.iter().any(|p| p[0] < 100 && p[1] < 100 && p[2] < 100),
            "{name}: no text drawn"
        );
        assert!(
            area.iter().filter(|p| close(p, [255, 255, 255], 6)).count() > area.len() / 2,
            "{name}"
        );
    }
}

#[test]
fn overlay_covers_photos_and_background_shows_between_slots() {
    let dir = tempfile::tempdir().unwrap();
    // A 200x100 canvas, one slot on the left half, an opaque blue bar across the middle row.
    let mut ov = image::RgbaImage::new(200, 100);
    for x in 0..200 {
        for y in 45..55 {
            ov.put_pixel(x, y, image::Rgba([0, 0, 255, 255]));
        }
    }
    ov.put_pixel(50, 10, image::Rgba([255, 255, 255, 128]));
    ov.save(dir.path().join("ov.png")).unwrap();
    std::fs::write(
        dir.path().join("t.toml"),
        "width = 200\nheight = 100\nshots = 1\nbackground = \"#00FF00\"\noverlay = \"ov.png\"\n\
         [[slots]]\nx = 0\ny = 0\nw = 100\nh = 100\n",
    )
    .unwrap();
    let set = LayoutSet::from_dir(dir.path()).unwrap();
    let l = set.get("t").unwrap();
    let img = compose::render(
        &l,
        &[RgbImage::from_pixel(640, 480, Rgb([255, 0, 0]))],
        &TextVars::default(),
    )
    .unwrap();
    assert_eq!(
        *img.get_pixel(50, 20),
        Rgb([255, 0, 0]),
        "photo in the slot"
    );
    assert_eq!(
        *img.get_pixel(150, 20),
        Rgb([0, 255, 0]),
        "background outside"
    );
    assert_eq!(
        *img.get_pixel(50, 50),
        Rgb([0, 0, 255]),
        "overlay over the photo"
    );
    assert_eq!(
        *img.get_pixel(150, 50),
        Rgb([0, 0, 255]),
        "overlay over the background"
    );
    let half = img.get_pixel(50, 10);
    assert!(
        close(half, [255, 128, 128], 2),
        "half-transparent overlay blends: {half:?}"
    );
}

#[test]
fn cover_crop_keeps_the_centre_of_a_wide_shot() {
    // Left third red, middle green, right third blue: a square slot shows green in its centre
    // and (cropped) no red or blue at its centre column.
    let mut src = RgbImage::new(1920, 1080);
    for (x, _, p) in src.enumerate_pixels_mut() {
        *p = Rgb(if x < 640 {
            [255, 0, 0]
        } else if x < 1280 {
            [0, 255, 0]
        } else {
            [0, 0, 255]
        });
    }
    let out = fotobox_render::resize::cover_resize(&src, 300, 300);
    assert_eq!(out.dimensions(), (300, 300));
    assert!(close(out.get_pixel(150, 150), [0, 255, 0], 2));
    // 1080 px wide crop out of 1920: red covers the left (640-420)/1080 of it.
    assert!(close(out.get_pixel(10, 150), [255, 0, 0], 2));
    assert!(close(out.get_pixel(290, 150), [0, 0, 255], 2));
}

#[test]
fn wrong_number_of_shots_is_refused() {
    let set = LayoutSet::embedded().unwrap();
    let l = set.get("grid").unwrap();
    let e = compose::render(&l, &shots(2), &TextVars::default()).unwrap_err();
    assert!(e.to_string().contains("takes 4 pictures, got 2"), "{e}");
}

#[test]
fn configured_folder_is_used_and_cached() {
    let dir = tempfile::tempdir().unwrap();
    layouts::export_builtin(dir.path()).unwrap();
    let cache = layouts::LayoutCache::default();
    let a = cache.load(Some(dir.path())).unwrap();
    assert_eq!(a.source, dir.path().display().to_string());
    let b = cache.load(Some(dir.path())).unwrap();
    assert!(std::sync::Arc::ptr_eq(&a, &b));
    assert_eq!(cache.load(None).unwrap().source, "built-in");
    cache.reload();
    let c = cache.load(Some(dir.path())).unwrap();
    assert!(
        !std::sync::Arc::ptr_eq(&a, &c),
        "reload reads the folder again"
    );
}
