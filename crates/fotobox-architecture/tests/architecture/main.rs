//! Architecture tests of the Fotobox workspace: import cycles inside crates, the crate layering,
//! and the HTTP server stack kept out of the domain. Std only, so it cannot become part of the
//! problem it checks. Each rule also has self-tests on throw-away fixture workspaces.

mod cycles;
mod fixture;
mod http_stack;
mod layers;
mod lockfile;
mod manifest;
mod refs;
mod scc;
mod source;

mod selftest_cycles;
mod selftest_layers;
mod selftest_lock;
mod selftest_source;

use std::path::{Path, PathBuf};

/// The workspace root: `FOTOBOX_WORKSPACE_ROOT`, else two levels above this crate
/// (`<root>/crates/fotobox-architecture`).
fn workspace_root() -> PathBuf {
    let root = std::env::var_os("FOTOBOX_WORKSPACE_ROOT").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
        PathBuf::from,
    );
    let root = root.canonicalize().unwrap_or(root);
    assert!(
        root.join("Cargo.toml").is_file(),
        "no Cargo.toml in workspace root {}; set FOTOBOX_WORKSPACE_ROOT",
        root.display()
    );
    root
}

#[test]
fn no_import_cycle_between_files_of_a_crate() {
    if let Err(report) = cycles::check(&workspace_root()) {
        panic!("{report}");
    }
}

#[test]
fn crates_depend_only_downwards() {
    if let Err(report) = layers::check(&workspace_root()) {
        panic!("{report}");
    }
}

#[test]
fn domain_has_no_http_server_stack() {
    if let Err(report) = http_stack::check(&workspace_root()) {
        panic!("{report}");
    }
}
