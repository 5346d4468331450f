//! Print layouts as data: TOML files (canvas, photo slots, background, overlay frame, text lines)
//! loaded and validated once, with their images decoded.
//!
//! Where layouts come from: `photos.templates_dir` when set (every `*.toml` in it, image paths
//! relative to it), else the `templates/` folder of the repository built into the binary, so the
//! kiosk works when started from any directory. A layout is rejected at load, with a message naming
//! the file and the field, for an unknown key, a slot outside the canvas, a missing or unreadable
//! image, or an overlay that is not the canvas size.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use ab_glyph::FontArc;
use image::{Rgb, RgbImage, RgbaImage};
use serde::Deserialize;

/// The layouts built into the binary (the repository's `templates/` folder).
const EMBEDDED: &[(&str, &[u8])] = &[
    (
        "strip.toml",
        include_bytes!("../../../templates/strip.toml"),
    ),
    (
        "strip-2x6.toml",
        include_bytes!("../../../templates/strip-2x6.toml"),
    ),
    (
        "postcard.toml",
        include_bytes!("../../../templates/postcard.toml"),
    ),
    ("grid.toml", include_bytes!("../../../templates/grid.toml")),
    (
        "frames/strip.png",
        include_bytes!("../../../templates/frames/strip.png"),
    ),
    (
        "frames/strip-2x6.png",
        include_bytes!("../../../templates/frames/strip-2x6.png"),
    ),
    (
        "frames/postcard.png",
        include_bytes!("../../../templates/frames/postcard.png"),
    ),
    (
        "frames/grid.png",
        include_bytes!("../../../templates/frames/grid.png"),
    ),
    (
        DEFAULT_FONT,
        include_bytes!("../../../templates/fonts/DejaVuSans.ttf"),
    ),
];

/// The bundled font (DejaVu Sans), used when a layout names none.
pub const DEFAULT_FONT: &str = "fonts/DejaVuSans.ttf";

/// Largest canvas side accepted (pixels): 12 inches at 600 dpi.
const MAX_SIDE: u32 = 7200;

/// A layout that cannot be used. `Display`: `layout file F: field `K`: what is wrong`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("layout file {file}: field `{field}`: {message}")]
pub struct LayoutError {
    pub file: String,
    pub field: String,
    pub message: String,
}

/// Errors reading a layout folder as a whole.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LayoutsError {
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error("layouts folder {path}: {message}")]
    Folder { path: PathBuf, message: String },
}

/// Horizontal alignment of a text line around its `x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

/// A photo slot: the shot `shot` is cover-cropped into `w` x `h` at (`x`, `y`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    pub shot: usize,
}

impl Layout {
    /// The print resolution a still of `still_w` x `still_h` pixels gives in this layout's
    /// smallest-resolution slot: the compositor cover-crops the still to each slot's shape
    /// ([`crate::resize::cover_crop_box`]), so a slot gets the crop's pixels over its printed size.
    /// `None` for a layout without slots or an empty still.
    pub fn effective_dpi(&self, still_w: u32, still_h: u32) -> Option<u32> {
        if still_w == 0 || still_h == 0 {
            return None;
        }
        self.slots
            .iter()
            .filter(|s| s.w > 0 && s.h > 0)
            .map(|s| {
                let (_, _, cw, _) = crate::resize::cover_crop_box(still_w, still_h, s.w, s.h);
                (f64::from(self.dpi) * cw / f64::from(s.w)).round() as u32
            })
            .min()
    }
}

/// A line of text; `{event}`, `{date}` and `{order}` are replaced when composing.
#[derive(Debug, Clone, PartialEq)]
pub struct TextLine {
    pub text: String,
    pub x: i32,
    /// Top of the line box.
    pub y: i32,
    pub size: f32,
    pub color: Rgb<u8>,
    pub align: Align,
}

/// A loaded, validated layout with its images decoded.
#[derive(Clone)]
pub struct Layout {
    pub name: String,
    pub title: String,
    pub width: u32,
    pub height: u32,
    pub dpi: u16,
    /// CUPS media for this layout; `printer.media` when unset.
    pub media: Option<String>,
    /// How many pictures the customer takes.
    pub shots: usize,
    pub background: Rgb<u8>,
    /// Already scaled to cover the canvas.
    pub background_image: Option<Arc<RgbImage>>,
    /// Exactly the canvas size.
    pub overlay: Option<Arc<RgbaImage>>,
    pub font: FontArc,
    pub slots: Vec<Slot>,
    pub text: Vec<TextLine>,
}

impl std::fmt::Debug for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Layout")
            .field("name", &self.name)
            .field("size", &(self.width, self.height))
            .field("shots", &self.shots)
            .field("slots", &self.slots)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LayoutFile {
    #[serde(default)]
    title: Option<String>,
    width: u32,
    height: u32,
    #[serde(default = "default_dpi")]
    dpi: u16,
    #[serde(default)]
    media: Option<String>,
    shots: usize,
    #[serde(default)]
    background: Option<String>,
    #[serde(default)]
    background_image: Option<String>,
    #[serde(default)]
    overlay: Option<String>,
    #[serde(default)]
    font: Option<String>,
    slots: Vec<SlotFile>,
    #[serde(default)]
    text: Vec<TextFile>,
}

fn default_dpi() -> u16 {
    300
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlotFile {
    x: u32,
    y: u32,
    w: u32,
    h: u32,
    #[serde(default)]
    shot: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TextFile {
    text: String,
    x: i32,
    y: i32,
    size: f32,
    #[serde(default)]
    color: Option<String>,
    #[serde(default)]
    align: Align,
}

/// Parse `#RRGGBB` (or `RRGGBB`).
pub fn parse_color(s: &str) -> Option<Rgb<u8>> {
    let h = s.trim().strip_prefix('#').unwrap_or(s.trim());
    if h.len() != 6 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let v = u32::from_str_radix(h, 16).ok()?;
    Some(Rgb([(v >> 16) as u8, (v >> 8) as u8, v as u8]))
}

/// Parse and validate one layout. `read` resolves a path from the file (relative to its folder)
/// to the file's bytes, `None` when it does not exist.
pub fn parse_layout(
    name: &str,
    file: &str,
    text: &str,
    read: &dyn Fn(&str) -> std::io::Result<Vec<u8>>,
) -> Result<Layout, LayoutError> {
    let err = |field: &str, message: String| LayoutError {
        file: file.to_string(),
        field: field.to_string(),
        message,
    };
    let de = toml::Deserializer::new(text);
    let raw: LayoutFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "(top level)".to_string()
        } else {
            path
        };
        err(
            &field,
            e.into_inner()
                .message()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        )
    })?;

    if raw.width == 0 || raw.width > MAX_SIDE {
        return Err(err(
            "width",
            format!("must be between 1 and {MAX_SIDE} pixels, got {}", raw.width),
        ));
    }
    if raw.height == 0 || raw.height > MAX_SIDE {
        return Err(err(
            "height",
            format!(
                "must be between 1 and {MAX_SIDE} pixels, got {}",
                raw.height
            ),
        ));
    }
    if !(72..=1200).contains(&raw.dpi) {
        return Err(err(
            "dpi",
            format!("must be between 72 and 1200, got {}", raw.dpi),
        ));
    }
    if raw.shots == 0 || raw.shots > 12 {
        return Err(err(
            "shots",
            format!("must be between 1 and 12, got {}", raw.shots),
        ));
    }
    if let Some(m) = &raw.media {
        if m.is_empty() || m.starts_with('-') || m.contains(char::is_whitespace) {
            return Err(err(
                "media",
                format!("{m:?} is not a media name such as 4x6"),
            ));
        }
    }
    let background = match &raw.background {
        None => Rgb([255, 255, 255]),
        Some(c) => parse_color(c)
            .ok_or_else(|| err("background", format!("{c:?} is not a #RRGGBB colour")))?,
    };
    if raw.slots.is_empty() {
        return Err(err(
            "slots",
            "a layout needs at least one photo slot".into(),
        ));
    }
    let mut slots = Vec::with_capacity(raw.slots.len());
    let mut used = vec![false; raw.shots];
    for (i, s) in raw.slots.iter().enumerate() {
        let field = format!("slots[{i}]");
        if s.w == 0 || s.h == 0 {
            return Err(err(&field, "w and h must be positive".into()));
        }
        if u64::from(s.x) + u64::from(s.w) > u64::from(raw.width) {
            return Err(err(
                &field,
                format!(
                    "x + w = {} is outside the canvas width {}",
                    u64::from(s.x) + u64::from(s.w),
                    raw.width
                ),
            ));
        }
        if u64::from(s.y) + u64::from(s.h) > u64::from(raw.height) {
            return Err(err(
                &field,
                format!(
                    "y + h = {} is outside the canvas height {}",
                    u64::from(s.y) + u64::from(s.h),
                    raw.height
                ),
            ));
        }
        let shot = s.shot.unwrap_or(i);
        if shot >= raw.shots {
            return Err(err(
                &format!("slots[{i}].shot"),
                format!(
                    "picture {shot} does not exist: the layout takes {} (0-based)",
                    raw.shots
                ),
            ));
        }
        used[shot] = true;
        slots.push(Slot {
            x: s.x,
            y: s.y,
            w: s.w,
            h: s.h,
            shot,
        });
    }
    if let Some(unused) = used.iter().position(|u| !u) {
        return Err(err(
            "shots",
            format!("picture {unused} is taken but shown in no slot"),
        ));
    }
    let mut lines = Vec::with_capacity(raw.text.len());
    for (i, t) in raw.text.iter().enumerate() {
        let field = |k: &str| format!("text[{i}].{k}");
        if !(4.0..=1000.0).contains(&t.size) {
            return Err(err(
                &field("size"),
                format!("must be between 4 and 1000 pixels, got {}", t.size),
            ));
        }
        if t.x < 0 || t.x > raw.width as i32 {
            return Err(err(
                &field("x"),
                format!("{} is outside the canvas width {}", t.x, raw.width),
            ));
        }
        if t.y < 0 || t.y >= raw.height as i32 {
            return Err(err(
                &field("y"),
                format!("{} is outside the canvas height {}", t.y, raw.height),
            ));
        }
        let color = match &t.color {
            None => Rgb([0, 0, 0]),
            Some(c) => parse_color(c)
                .ok_or_else(|| err(&field("color"), format!("{c:?} is not a #RRGGBB colour")))?,
        };
        lines.push(TextLine {
            text: t.text.clone(),
            x: t.x,
            y: t.y,
            size: t.size,
            color,
            align: t.align,
        });
    }
    let load_image = |field: &str, path: &str| -> Result<image::DynamicImage, LayoutError> {
        let bytes = read(path).map_err(|m| err(field, format!("cannot read {path}: {m}")))?;
        image::load_from_memory(&bytes)
            .map_err(|e| err(field, format!("{path} is not a readable image: {e}")))
    };
    let background_image = match &raw.background_image {
        None => None,
        Some(p) => {
            let img = load_image("background_image", p)?.to_rgb8();
            Some(Arc::new(crate::resize::cover_resize(
                &img, raw.width, raw.height,
            )))
        }
    };
    let overlay = match &raw.overlay {
        None => None,
        Some(p) => {
            let img = load_image("overlay", p)?.to_rgba8();
            if img.dimensions() != (raw.width, raw.height) {
                return Err(err(
                    "overlay",
                    format!(
                        "{p} is {}x{}, the canvas is {}x{}",
                        img.width(),
                        img.height(),
                        raw.width,
                        raw.height
                    ),
                ));
            }
            Some(Arc::new(img))
        }
    };
    let font = match &raw.font {
        None => default_font(),
        Some(p) => {
            let bytes = read(p).map_err(|m| err("font", format!("cannot read {p}: {m}")))?;
            FontArc::try_from_vec(bytes)
                .map_err(|e| err("font", format!("{p} is not a TrueType/OpenType font: {e}")))?
        }
    };
    Ok(Layout {
        name: name.to_string(),
        title: raw.title.unwrap_or_else(|| name.to_string()),
        width: raw.width,
        height: raw.height,
        dpi: raw.dpi,
        media: raw.media,
        shots: raw.shots,
        background,
        background_image,
        overlay,
        font,
        slots,
        text: lines,
    })
}

/// The bundled DejaVu Sans, parsed once: a true constant of the binary, not process state.
pub fn default_font() -> FontArc {
    static FONT: OnceLock<FontArc> = OnceLock::new();
    FONT.get_or_init(|| {
        let bytes = EMBEDDED
            .iter()
            .find(|(p, _)| *p == DEFAULT_FONT)
            .map(|(_, b)| *b)
            .unwrap_or_default();
        #[allow(clippy::expect_used)]
        FontArc::try_from_slice(bytes).expect("the bundled font parses (checked by a test)")
    })
    .clone()
}

/// A set of layouts by name.
#[derive(Debug, Clone)]
pub struct LayoutSet {
    layouts: BTreeMap<String, Arc<Layout>>,
    /// `built-in` or the folder they were read from.
    pub source: String,
}

fn is_layout_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 50
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl LayoutSet {
    /// The layouts built into the binary.
    pub fn embedded() -> Result<LayoutSet, LayoutsError> {
        let read = |p: &str| -> std::io::Result<Vec<u8>> {
            EMBEDDED
                .iter()
                .find(|(name, _)| *name == p)
                .map(|(_, b)| b.to_vec())
                .ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no such built-in file")
                })
        };
        let mut layouts = BTreeMap::new();
        for (file, bytes) in EMBEDDED {
            let Some(name) = file.strip_suffix(".toml") else {
                continue;
            };
            let text = String::from_utf8_lossy(bytes);
            let l = parse_layout(name, &format!("built-in {file}"), &text, &read)?;
            layouts.insert(name.to_string(), Arc::new(l));
        }
        Ok(LayoutSet {
            layouts,
            source: "built-in".into(),
        })
    }

    /// Every `*.toml` in `dir` (image paths relative to `dir`).
    pub fn from_dir(dir: &Path) -> Result<LayoutSet, LayoutsError> {
        let folder_err = |message: String| LayoutsError::Folder {
            path: dir.to_path_buf(),
            message,
        };
        let entries = std::fs::read_dir(dir).map_err(|e| folder_err(e.to_string()))?;
        let read = |p: &str| -> std::io::Result<Vec<u8>> {
            // A layout's own file in the folder, or the bundled font when the folder has no copy.
            match std::fs::read(dir.join(p)) {
                Ok(b) => Ok(b),
                Err(e) if p == DEFAULT_FONT => EMBEDDED
                    .iter()
                    .find(|(n, _)| *n == p)
                    .map(|(_, b)| b.to_vec())
                    .ok_or(e),
                Err(e) => Err(e),
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        let mut layouts = BTreeMap::new();
        for path in files {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            let label = path.display().to_string();
            if !is_layout_name(&stem) {
                return Err(LayoutError {
                    file: label,
                    field: "(file name)".into(),
                    message: "layout names use only letters, digits, '-' and '_' (at most 50)"
                        .into(),
                }
                .into());
            }
            let text = std::fs::read_to_string(&path).map_err(|e| LayoutError {
                file: label.clone(),
                field: "(file)".into(),
                message: e.to_string(),
            })?;
            let l = parse_layout(&stem, &label, &text, &read)?;
            layouts.insert(stem, Arc::new(l));
        }
        if layouts.is_empty() {
            return Err(folder_err("has no layout files (*.toml)".into()));
        }
        Ok(LayoutSet {
            layouts,
            source: dir.display().to_string(),
        })
    }

    pub fn get(&self, name: &str) -> Option<Arc<Layout>> {
        self.layouts.get(name).cloned()
    }

    pub fn names(&self) -> Vec<String> {
        self.layouts.keys().cloned().collect()
    }

    /// Names in `priced` that this set lacks (the kiosk could sell them but not print them).
    pub fn missing<'a>(&self, priced: impl IntoIterator<Item = &'a String>) -> Vec<String> {
        priced
            .into_iter()
            .filter(|k| !self.layouts.contains_key(*k))
            .cloned()
            .collect()
    }
}

/// Loaded layout sets by folder (`None` = built-in), so each folder is read and decoded once.
/// Cheap to clone (shared); one lives in the application context.
#[derive(Debug, Clone, Default)]
pub struct LayoutCache {
    sets: Arc<Mutex<HashMap<Option<PathBuf>, Arc<LayoutSet>>>>,
}

impl LayoutCache {
    /// The layouts in `dir` (or the built-in ones), loaded once per folder. Blocking (decodes
    /// images): call from a blocking thread or at start.
    pub fn load(&self, dir: Option<&Path>) -> Result<Arc<LayoutSet>, LayoutsError> {
        let key = dir.map(Path::to_path_buf);
        if let Some(set) = self.sets.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(set);
        }
        let set = Arc::new(match &key {
            Some(dir) => LayoutSet::from_dir(dir)?,
            None => LayoutSet::embedded()?,
        });
        if let Ok(mut c) = self.sets.lock() {
            c.insert(key, set.clone());
        }
        Ok(set)
    }

    /// Forget loaded layouts so the next [`LayoutCache::load`] reads the files again.
    pub fn reload(&self) {
        if let Ok(mut c) = self.sets.lock() {
            c.clear();
        }
    }
}

/// Write the built-in layouts, frames and font into `dir` (a starting point for custom layouts).
pub fn export_builtin(dir: &Path) -> std::io::Result<()> {
    for (p, bytes) in EMBEDDED {
        let target = dir.join(p);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(target, bytes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn no_files(_: &str) -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::other("not found"))
    }

    const MINIMAL: &str =
        "width = 100\nheight = 200\nshots = 1\n[[slots]]\nx = 0\ny = 0\nw = 100\nh = 100\n";

    #[test]
    fn builtin_layouts_load_and_cover_the_default_prices() {
        let set = LayoutSet::embedded().unwrap();
        for name in ["strip", "strip-2x6", "postcard", "grid"] {
            assert!(set.get(name).is_some(), "{name}");
        }
        assert!(set.missing(&["grid".to_string()]).is_empty());
        assert_eq!(set.missing(&["poster".to_string()]), ["poster"]);
        let strip = set.get("strip").unwrap();
        assert_eq!(
            (strip.width, strip.height, strip.shots, strip.slots.len()),
            (1200, 1800, 4, 8)
        );
        assert_eq!(set.get("strip-2x6").unwrap().width, 600);
        assert_eq!(set.get("postcard").unwrap().shots, 1);
    }

    #[test]
    fn minimal_layout_parses() {
        let l = parse_layout("m", "m.toml", MINIMAL, &no_files).unwrap();
        assert_eq!(l.background, Rgb([255, 255, 255]));
        assert_eq!(l.slots[0].shot, 0);
    }

    #[test]
    fn unknown_key_is_named_with_file_and_field() {
        let text = format!("{MINIMAL}z = 1\n");
        let e = parse_layout("m", "m.toml", &text, &no_files)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("m.toml") && e.contains("slots[0]") && e.contains("unknown field `z`"),
            "{e}"
        );
        let e = parse_layout("m", "m.toml", &format!("colour = 1\n{MINIMAL}"), &no_files)
            .unwrap_err()
            .to_string();
        assert!(e.contains("colour"), "{e}");
    }

    #[test]
    fn slot_outside_the_canvas_is_named() {
        let text = MINIMAL.replace("x = 0", "x = 50");
        let e = parse_layout("m", "m.toml", &text, &no_files).unwrap_err();
        assert_eq!(e.field, "slots[0]");
        assert!(
            e.to_string().contains("outside the canvas width 100"),
            "{e}"
        );
        let text = MINIMAL.replace("y = 0", "y = 150");
        let e = parse_layout("m", "m.toml", &text, &no_files).unwrap_err();
        assert!(e.to_string().contains("height"), "{e}");
    }

    #[test]
    fn missing_image_is_named() {
        let text = format!("overlay = \"frames/nope.png\"\n{MINIMAL}");
        let e = parse_layout("m", "m.toml", &text, &no_files).unwrap_err();
        assert_eq!(e.field, "overlay");
        assert!(e.to_string().contains("frames/nope.png"), "{e}");
        let text = format!("background_image = \"bg.jpg\"\n{MINIMAL}");
        assert_eq!(
            parse_layout("m", "m.toml", &text, &no_files)
                .unwrap_err()
                .field,
            "background_image"
        );
    }

    #[test]
    fn overlay_of_the_wrong_size_and_bad_values_are_refused() {
        let png = |_: &str| -> std::io::Result<Vec<u8>> {
            let img = RgbaImage::new(10, 10);
            let mut out = std::io::Cursor::new(Vec::new());
            img.write_to(&mut out, image::ImageFormat::Png).unwrap();
            Ok(out.into_inner())
        };
        let text = format!("overlay = \"o.png\"\n{MINIMAL}");
        let e = parse_layout("m", "m.toml", &text, &png).unwrap_err();
        assert!(e.to_string().contains("10x10"), "{e}");
        let e = parse_layout(
            "m",
            "m.toml",
            &format!("background = \"red\"\n{MINIMAL}"),
            &no_files,
        )
        .unwrap_err();
        assert_eq!(e.field, "background");
        let e = parse_layout(
            "m",
            "m.toml",
            &MINIMAL.replace("shots = 1", "shots = 2"),
            &no_files,
        )
        .unwrap_err();
        assert_eq!(e.field, "shots");
        let text = format!("{MINIMAL}shot = 3\n");
        assert_eq!(
            parse_layout("m", "m.toml", &text, &no_files)
                .unwrap_err()
                .field,
            "slots[0].shot"
        );
    }

    #[test]
    fn folder_layouts_load_and_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        export_builtin(dir.path()).unwrap();
        let set = LayoutSet::from_dir(dir.path()).unwrap();
        assert_eq!(set.names().len(), 4);
        std::fs::write(
            dir.path().join("bad.toml"),
            MINIMAL.replace("w = 100", "w = 101"),
        )
        .unwrap();
        let e = LayoutSet::from_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("bad.toml") && e.contains("slots[0]"), "{e}");
    }

    #[test]
    fn effective_dpi_is_the_smallest_slots_crop_over_its_print_size() {
        let set = LayoutSet::embedded().unwrap();
        let postcard = set.get("postcard").unwrap();
        // A 1920x1080 frame cut to the 1080x1380 slot keeps 845x1080 pixels: 235 dpi at 300.
        assert_eq!(postcard.effective_dpi(1920, 1080), Some(235));
        // A portrait 3000x4000 still has more than the slot needs.
        assert!(postcard.effective_dpi(3000, 4000).unwrap() > 300);
        assert_eq!(postcard.effective_dpi(0, 1080), None);
    }
}
