//! Rule 2: workspace crates depend only downwards, as listed in [`LAYERS`]. Checks every
//! dependency table of every member manifest (normal, dev, build and target-specific).

use std::fmt::Write as _;
use std::path::Path;

use crate::manifest;

/// Each workspace crate and the workspace crates it may depend on. Anything not listed here is
/// forbidden; a workspace crate missing from this table fails the check, so add new crates here.
pub const LAYERS: &[(&str, &[&str])] = &[
    // Layer 0: no workspace dependencies.
    ("fotobox-store", &[]),
    ("fotobox-render", &[]),
    // Layer 1: the domain.
    ("fotobox-core", &["fotobox-store", "fotobox-render"]),
    // Layer 2: the HTTP API over the domain.
    (
        "fotobox-http",
        &["fotobox-core", "fotobox-store", "fotobox-render"],
    ),
    // Top: the doors. Anything below, never each other.
    (
        "fotobox",
        &[
            "fotobox-http",
            "fotobox-core",
            "fotobox-store",
            "fotobox-render",
        ],
    ),
    (
        "fotobox-kiosk",
        &[
            "fotobox-http",
            "fotobox-core",
            "fotobox-store",
            "fotobox-render",
        ],
    ),
    // This checker stands apart.
    ("fotobox-architecture", &[]),
];

/// A dependency is on a workspace crate when it names a member or looks like one (`fotobox*`).
fn is_workspace_crate(name: &str, members: &[String]) -> bool {
    name == "fotobox" || name.starts_with("fotobox-") || members.iter().any(|m| m == name)
}

/// `Err` lists every forbidden dependency with its manifest and line.
pub fn check(root: &Path) -> Result<(), String> {
    let manifests: Vec<_> = manifest::member_dirs(root)
        .into_iter()
        .map(|dir| {
            let path = dir.join("Cargo.toml");
            let m = manifest::read(&path);
            (path, m)
        })
        .collect();
    let members: Vec<String> = manifests
        .iter()
        .filter_map(|(_, m)| m.name.clone())
        .collect();
    let mut report = String::new();
    for (path, m) in &manifests {
        let shown = path.strip_prefix(root).unwrap_or(path).display();
        let Some(name) = &m.name else {
            let _ = writeln!(report, "{shown}: no [package] name");
            continue;
        };
        let Some((_, allowed)) = LAYERS.iter().find(|(crate_name, _)| crate_name == name) else {
            let _ = writeln!(
                report,
                "{shown}: crate `{name}` is not in the layer table; add it to LAYERS in \
                 tests/architecture/layers.rs"
            );
            continue;
        };
        for dep in &m.dependencies {
            if is_workspace_crate(&dep.name, &members) && !allowed.contains(&dep.name.as_str()) {
                let may = if allowed.is_empty() {
                    "no workspace crate".to_string()
                } else {
                    allowed.join(", ")
                };
                let _ = writeln!(
                    report,
                    "{shown}:{}: `{name}` depends on `{}` in [{}], but `{name}` may only \
                     depend on: {may}",
                    dep.line, dep.name, dep.table
                );
            }
        }
    }
    if report.is_empty() {
        Ok(())
    } else {
        Err(format!("crates must depend only downwards:\n{report}"))
    }
}
