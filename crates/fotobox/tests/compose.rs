//! `fotobox compose`, `fotobox paper` and `fotobox print-queue` through the real binary.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use image::{Rgb, RgbImage};

fn fotobox(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fotobox"));
    c.env_remove("FOTOBOX_CONFIG")
        .arg("--data-dir")
        .arg(dir.join("data"))
        .current_dir(dir);
    c
}

fn shot(dir: &Path, name: &str, c: [u8; 3]) -> std::path::PathBuf {
    let p = dir.join(name);
    RgbImage::from_pixel(1920, 1080, Rgb(c)).save(&p).unwrap();
    p
}

#[test]
fn compose_renders_a_builtin_layout_from_any_directory() {
    let dir = tempfile::tempdir().unwrap();
    let colors = [[220, 30, 30], [30, 200, 30], [30, 30, 220], [230, 200, 20]];
    let shots: Vec<_> = colors
        .iter()
        .enumerate()
        .map(|(i, c)| shot(dir.path(), &format!("s{i}.png"), *c))
        .collect();
    let out = dir.path().join("grid.jpg");
    let o = fotobox(dir.path())
        .args(["compose", "--template", "grid", "--event", "Toy", "--out"])
        .arg(&out)
        .args(&shots)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("1200x1800 at 300 dpi"));
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(
        fotobox_render::compose::jfif_density(&bytes),
        Some((1, 300, 300))
    );
    let img = image::load_from_memory(&bytes).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (1200, 1800));
    // Slot 2 (bottom left, 50,800 525x700) shows the third shot.
    let p = img.get_pixel(50 + 262, 800 + 350);
    assert!((i32::from(p[2]) - 220).abs() < 12 && p[0] < 45, "{p:?}");
}

#[test]
fn compose_errors_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let s = shot(dir.path(), "a.png", [1, 2, 3]);
    let o = fotobox(dir.path())
        .args(["compose", "--template", "nope", "--out", "x.jpg"])
        .arg(&s)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("unknown layout \"nope\"") && err.contains("grid"),
        "{err}"
    );
    let o = fotobox(dir.path())
        .args(["compose", "--template", "grid", "--out", "x.jpg"])
        .arg(&s)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("takes 4 pictures, got 1"));
    // A custom folder with a broken layout names the file and field.
    let t = dir.path().join("layouts");
    std::fs::create_dir(&t).unwrap();
    std::fs::write(
        t.join("bad.toml"),
        "width = 10\nheight = 10\nshots = 1\n[[slots]]\nx = 5\ny = 0\nw = 10\nh = 10\n",
    )
    .unwrap();
    let o = fotobox(dir.path())
        .env("FOTOBOX_PHOTOS_TEMPLATES_DIR", &t)
        .args(["compose", "--template", "bad", "--out", "x.jpg"])
        .arg(&s)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("slots[0]") && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn paper_reset_and_print_queue() {
    let dir = tempfile::tempdir().unwrap();
    let o = fotobox(dir.path())
        .args(["paper", "status"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("400 of 400 prints left"));
    let o = fotobox(dir.path())
        .args(["paper", "reset", "--roll-size", "700"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("700 of 700 prints left"));
    let o = fotobox(dir.path()).args(["print-queue"]).output().unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("0 jobs; 0 paid orders flagged"));
    let o = fotobox(dir.path())
        .args(["print-queue", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["jobs"], serde_json::json!([]));
}
