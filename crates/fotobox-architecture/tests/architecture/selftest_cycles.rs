//! Self-tests of rule 1 on fixture crates: real cycles are reported, look-alikes are not.

use crate::cycles::check;
use crate::fixture::Fixture;

const LIB_XY: &str = "//! Fixture.\nmod x;\nmod y;\n";

fn cycle_report(f: &Fixture) -> String {
    check(f.root()).expect_err("a cycle should be reported")
}

#[test]
fn two_file_cycle_via_use_super_is_reported_with_lines() {
    let f = Fixture::new("two-file-cycle").krate(
        "fotobox-core",
        "",
        &[
            ("lib.rs", LIB_XY),
            (
                "x.rs",
                "use super::y::Y;\npub struct X;\nfn f() { self::g() }\nfn g() {}\n",
            ),
            ("y.rs", "pub struct Y;\n\nuse super::x::X;\n"),
        ],
    );
    let report = cycle_report(&f);
    assert!(report.contains("cycle 1 (2 files)"), "{report}");
    assert!(
        report.contains("crates/fotobox-core/src/x.rs:1: use super::y::Y;"),
        "{report}"
    );
    assert!(
        report.contains("crates/fotobox-core/src/y.rs:3: use super::x::X;"),
        "{report}"
    );
    assert!(!report.contains("lib.rs"), "{report}");
    assert!(
        !report.contains("x.rs -> crates/fotobox-core/src/x.rs"),
        "{report}"
    );
}

#[test]
fn three_file_cycle_via_inline_crate_paths_is_reported() {
    let f = Fixture::new("three-file-cycle").krate(
        "fotobox-core",
        "",
        &[
            ("lib.rs", "pub mod a;\npub mod b;\npub mod c;\n"),
            ("a.rs", "pub fn f() {\n    crate::b::g()\n}\n"),
            ("b.rs", "pub fn g() {\n    crate::c::h()\n}\n"),
            ("c.rs", "pub fn h() {\n    if false { crate::a::f() }\n}\n"),
        ],
    );
    let report = cycle_report(&f);
    assert!(report.contains("cycle 1 (3 files)"), "{report}");
    assert!(
        report.contains("shortest loop: crates/fotobox-core/src/a.rs -> crates/fotobox-core/src/b.rs -> crates/fotobox-core/src/c.rs -> crates/fotobox-core/src/a.rs"),
        "{report}"
    );
    assert!(
        report.contains("src/c.rs:2: if false { crate::a::f() }"),
        "{report}"
    );
}

#[test]
fn nested_modules_resolve_to_the_deepest_module_file() {
    // store/payments.rs -> orders.rs (inline path) and orders.rs -> store/payments.rs (nested use
    // tree); `crate::store::Store` in orders.rs points at store/mod.rs, which is not in the cycle.
    let f = Fixture::new("nested").krate(
        "fotobox-core",
        "",
        &[
            ("lib.rs", "pub mod orders;\npub mod store;\n"),
            ("store/mod.rs", "pub mod payments;\npub struct Store;\n"),
            (
                "store/payments.rs",
                "pub fn list() { crate::orders::touch() }\n",
            ),
            (
                "orders.rs",
                "use crate::{store::{payments::list, Store}};\npub fn touch() {}\n",
            ),
        ],
    );
    let report = cycle_report(&f);
    assert!(report.contains("cycle 1 (2 files)"), "{report}");
    assert!(report.contains("src/store/payments.rs\n"), "{report}");
    assert!(!report.contains("src/store/mod.rs\n"), "{report}");
}

#[test]
fn comments_strings_cfg_test_and_mod_declarations_do_not_count() {
    let f = Fixture::new("look-alikes").krate(
        "fotobox-core",
        "",
        &[
            ("lib.rs", LIB_XY),
            (
                "x.rs",
                concat!(
                    "//! See crate::y for the other half.\n",
                    "// use crate::y::Y;\n",
                    "/* outer /* nested crate::y */ crate::y::f() */\n",
                    "/// Unlike `super::y::Y`.\n",
                    "pub fn f() -> &'static str {\n",
                    "    let _q = '\"';\n",
                    "    let _r = r#\"use crate::y::Y; \"quoted\" \"#;\n",
                    "    let _s = r#\"odd \"quote crate::y::f()\"#;\n",
                    "    \"crate::y::f()\"\n",
                    "}\n",
                    "#[cfg(test)]\n",
                    "mod tests {\n",
                    "    use super::*;\n",
                    "    use crate::y::Y;\n",
                    "    #[test]\n",
                    "    fn t() { let _ = (f(), Y); }\n",
                    "}\n",
                    "pub mod inner { pub fn g() { super::f(); } }\n",
                ),
            ),
            ("y.rs", "use crate::x::f;\npub struct Y;\n"),
        ],
    );
    assert_eq!(check(f.root()), Ok(()));
}

#[test]
fn test_only_files_do_not_count() {
    // x/tests.rs and y/tests.rs refer to each other, but both are `#[cfg(test)] mod tests;`.
    let f = Fixture::new("test-file").krate(
        "fotobox-core",
        "",
        &[
            ("lib.rs", "mod x;\nmod y;\n"),
            ("x.rs", "pub fn f() {}\n#[cfg(test)]\nmod tests;\n"),
            (
                "x/tests.rs",
                "pub struct T;\nuse crate::y::tests::helper;\n",
            ),
            (
                "y.rs",
                "pub fn g() { crate::x::f() }\n#[cfg(test)]\nmod tests;\n",
            ),
            (
                "y/tests.rs",
                "pub fn helper() {}\nuse crate::x::tests::T;\n",
            ),
        ],
    );
    assert_eq!(check(f.root()), Ok(()));
}

#[test]
fn good_layout_passes_in_crates_and_src_tauri() {
    let f = Fixture::new("good")
        .krate(
            "fotobox-core",
            "",
            &[
                (
                    "lib.rs",
                    "pub mod model;\npub mod store;\npub use store::Store;\n",
                ),
                ("model.rs", "pub struct Order;\n"),
                ("store/mod.rs", "pub mod payments;\npub struct Store;\n"),
                (
                    "store/payments.rs",
                    "use crate::model::Order;\nuse super::Store;\n",
                ),
            ],
        )
        .file(
            "src-tauri/Cargo.toml",
            "[package]\nname = \"fotobox-kiosk\"\n",
        )
        .file(
            "src-tauri/src/main.rs",
            "mod cmd;\nfn main() { cmd::run() }\n",
        )
        .file("src-tauri/src/cmd.rs", "pub fn run() {}\n");
    assert_eq!(check(f.root()), Ok(()));
}

#[test]
fn src_tauri_is_checked_too() {
    let f = Fixture::new("tauri-cycle")
        .file(
            "src-tauri/Cargo.toml",
            "[package]\nname = \"fotobox-kiosk\"\n",
        )
        .file(
            "src-tauri/src/main.rs",
            "mod cmd;\nfn main() { cmd::run() }\npub fn helper() {}\n",
        )
        .file("src-tauri/src/cmd.rs", "pub fn run() { crate::helper() }\n");
    // main.rs -> cmd.rs is a plain relative path (`cmd::run`), not counted: no cycle.
    assert_eq!(check(f.root()), Ok(()));
    let f = f.file(
        "src-tauri/src/main.rs",
        "mod cmd;\nfn main() { self::cmd::run() }\npub fn helper() {}\n",
    );
    let report = cycle_report(&f);
    assert!(report.contains("src-tauri: 1 import cycle(s)"), "{report}");
}
