//! Self-tests of rule 2 (manifest parsing and the layer table) on fixture workspaces.

use crate::fixture::Fixture;
use crate::layers::check;
use crate::manifest::parse;

fn good() -> Fixture {
    Fixture::new("layers")
        .krate("fotobox-store", "[dependencies]\nserde = \"1\"\n", &[])
        .krate("fotobox-render", "[dependencies]\nimage.workspace = true\n", &[])
        .krate(
            "fotobox-core",
            "[dependencies]\nfotobox-store.workspace = true\nfotobox-render = { path = \"../fotobox-render\" }\n",
            &[],
        )
        .krate(
            "fotobox-http",
            "[dependencies]\nfotobox-core = { workspace = true }\n\n[dev-dependencies]\nfotobox-store.workspace = true\n",
            &[],
        )
        .krate(
            "fotobox",
            "[dependencies]\nfotobox-http.workspace = true\nfotobox-core.workspace = true\n",
            &[],
        )
        .file(
            "src-tauri/Cargo.toml",
            "[package]\nname = \"fotobox-kiosk\"\n\n[dependencies]\nfotobox-http.workspace = true\n",
        )
}

#[test]
fn manifest_parsing_finds_every_dependency_table() {
    let m = parse(concat!(
        "[package]\nname = \"demo\" # the name\nversion = \"0.1.0\"\n",
        "[dependencies]\na.workspace = true\nb = { version = \"1\", features = [\n  \"x\",\n] }\n",
        "renamed = { package = \"fotobox-core\", path = \"../core\" }\n\"quoted\" = \"1\"\n",
        "[dev-dependencies]\nc = \"1\"\n",
        "[target.'cfg(target_os = \"linux\")'.dependencies]\nd = \"2.0\"\n",
        "[build-dependencies.e]\nversion = \"1\"\n",
        "[dependencies.f]\npackage = \"fotobox-render\"\n",
        "[features]\ndefault = []\n[workspace.dependencies]\nfotobox-http = { path = \"x\" }\n",
    ));
    assert_eq!(m.name.as_deref(), Some("demo"));
    let got: Vec<String> = m
        .dependencies
        .iter()
        .map(|d| format!("{}:{}@{}", d.table, d.name, d.line))
        .collect();
    assert_eq!(
        got,
        [
            "dependencies:a@5",
            "dependencies:b@6",
            "dependencies:fotobox-core@9",
            "dependencies:quoted@10",
            "dev-dependencies:c@12",
            "target.cfg(target_os = \"linux\").dependencies:d@14",
            "build-dependencies:e@15",
            "dependencies:fotobox-render@17",
        ]
    );
}

#[test]
fn downward_dependencies_pass() {
    let f = good();
    assert_eq!(check(f.root()), Ok(()));
}

#[test]
fn store_depending_on_core_fails() {
    let f = good().krate(
        "fotobox-store",
        "[dependencies]\nserde = \"1\"\nfotobox-core.workspace = true\n",
        &[],
    );
    let report = check(f.root()).expect_err("store -> core must fail");
    assert!(
        report.contains(
            "crates/fotobox-store/Cargo.toml:8: `fotobox-store` depends on `fotobox-core` in \
             [dependencies], but `fotobox-store` may only depend on: no workspace crate"
        ),
        "{report}"
    );
}

#[test]
fn dev_and_target_dependencies_are_checked_too() {
    let f = good()
        .krate(
            "fotobox-render",
            "[dev-dependencies]\nfotobox-store = { path = \"../fotobox-store\" }\n",
            &[],
        )
        .file(
            "src-tauri/Cargo.toml",
            "[package]\nname = \"fotobox-kiosk\"\n\n[target.'cfg(unix)'.dependencies]\nfotobox = { path = \"../crates/fotobox\" }\n",
        );
    let report = check(f.root()).expect_err("must fail");
    assert!(
        report.contains("`fotobox-render` depends on `fotobox-store` in [dev-dependencies]"),
        "{report}"
    );
    assert!(
        report.contains("src-tauri/Cargo.toml:5: `fotobox-kiosk` depends on `fotobox` in [target.cfg(unix).dependencies]"),
        "{report}"
    );
}

#[test]
fn unknown_workspace_crate_fails() {
    let f = good().krate("fotobox-extra", "", &[]);
    let report = check(f.root()).expect_err("must fail");
    assert!(
        report.contains("crate `fotobox-extra` is not in the layer table"),
        "{report}"
    );
}
