//! Compositing benchmark: 4 shots of 1920x1080 into a 4x6 layout at 300 dpi (1200x1800), with
//! `fast_image_resize` (what the kiosk uses) and with a plain `image` resize for comparison.
//! Budget: under 300 ms for the whole render + JPEG encode on the 2-core kiosk machine.
//! Also the staff's test print: the calibration sheet with every built-in layout, drawn and
//! encoded (no budget: staff wait for the printer anyway).

use criterion::{criterion_group, criterion_main, Criterion};
use fotobox_render::compose::{self, TextVars};
use fotobox_render::layouts::LayoutSet;
use image::{Rgb, RgbImage};

fn shots() -> Vec<RgbImage> {
    // Gradients, not flat colours, so the resize does real work.
    (0..4u32)
        .map(|i| {
            RgbImage::from_fn(1920, 1080, |x, y| {
                Rgb([(x / 8 + i * 40) as u8, (y / 5) as u8, ((x + y) / 12) as u8])
            })
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let set = LayoutSet::embedded().expect("built-in layouts");
    let grid = set.get("grid").expect("grid");
    let strip = set.get("strip").expect("strip");
    let shots = shots();
    let vars = TextVars {
        event: "Toy 2026".into(),
        date: "25.11.2026".into(),
        order: "ABCD-1234".into(),
    };
    let mut g = c.benchmark_group("compose");
    g.sample_size(20);
    g.bench_function("grid_4x1920x1080_render_and_jpeg", |b| {
        b.iter(|| {
            let img = compose::render(&grid, &shots, &vars).expect("render");
            compose::encode_jpeg(&img, 92, 300).expect("jpeg")
        })
    });
    g.bench_function("strip_8_slots_render_and_jpeg", |b| {
        b.iter(|| {
            let img = compose::render(&strip, &shots, &vars).expect("render");
            compose::encode_jpeg(&img, 92, 300).expect("jpeg")
        })
    });
    g.bench_function("grid_render_only", |b| {
        b.iter(|| compose::render(&grid, &shots, &vars).expect("render"))
    });
    g.bench_function("resize_4_shots_fast_image_resize", |b| {
        b.iter(|| {
            for (s, slot) in shots.iter().zip(&grid.slots) {
                std::hint::black_box(fotobox_render::resize::cover_resize(s, slot.w, slot.h));
            }
        })
    });
    g.bench_function("resize_4_shots_plain_image", |b| {
        b.iter(|| {
            for (s, slot) in shots.iter().zip(&grid.slots) {
                std::hint::black_box(fotobox_render::resize::cover_resize_plain(
                    s, slot.w, slot.h,
                ));
            }
        })
    });
    let layouts: Vec<_> = set.names().iter().filter_map(|n| set.get(n)).collect();
    let lines = vec![
        "Fotobox test print".to_string(),
        "2026-11-29 23:40".to_string(),
    ];
    g.bench_function("calibration_sheet_1200x1800_and_jpeg", |b| {
        b.iter(|| {
            let spec = fotobox_render::calibration::SheetSpec {
                width: 1200,
                height: 1800,
                dpi: 300,
                lines: &lines,
                layouts: &layouts,
                vars: &vars,
            };
            let img = fotobox_render::calibration::calibration_sheet(&spec).expect("sheet");
            compose::encode_jpeg(&img, 95, 300).expect("jpeg")
        })
    });
    let img = compose::render(&grid, &shots, &vars).expect("render");
    g.bench_function("jpeg_encode_1200x1800_q92", |b| {
        b.iter(|| compose::encode_jpeg(&img, 92, 300).expect("jpeg"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
