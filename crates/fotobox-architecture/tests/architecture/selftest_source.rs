//! Self-tests of the lexer and of path extraction (`source`, `refs`).

use crate::refs::{scan, PathRef};
use crate::source::{lex, strip};

fn refs_of(src: &str, module: &[&str]) -> Vec<String> {
    let module: Vec<String> = module.iter().map(ToString::to_string).collect();
    scan(&lex(src), &module)
        .refs
        .iter()
        .map(|PathRef { line, start, rest }| {
            format!("{line}:[{}]+{}", start.join("::"), rest.join("::"))
        })
        .collect()
}

#[test]
fn strip_blanks_comments_and_literals_but_keeps_lines() {
    let src = concat!(
        "a // crate::x\n",
        "/* crate::y /* nested */ still crate::n::f() */ b\n",
        "let s = \"crate::z \\\" more\"; let r = r#\"crate::w \"# ;\n",
        "let c = '\"'; let d = '\\''; fn f<'a>(x: &'a str) {}\n",
        "/// doc crate::q\n",
        "let e = b\"crate::v\"; let g = br##\"crate::u\"##;\n",
        "let h = r#\"he said \"hi crate::t()\"#; let i = r\"C:\\\"; crate_ok();\n",
    );
    let out = strip(src);
    assert_eq!(out.lines().count(), src.lines().count());
    assert!(!out.contains("crate::"), "{out}");
    assert!(out.contains("fn f<'a>(x: &'a str) {}"), "{out}");
    assert!(out.contains("let r =") && out.contains(" ;"), "{out}");
    assert!(out.contains("crate_ok();"), "{out}");
}

#[test]
fn use_trees_are_expanded() {
    let got = refs_of(
        "use crate::{a::{b::F, c}, d as e};\nuse super::{self, x::*};\npub use self::y::Z;\n",
        &["m", "n"],
    );
    assert_eq!(
        got,
        [
            "1:[]+a::b::F",
            "1:[]+a::c",
            "1:[]+d",
            "2:[m]+",
            "2:[m]+x",
            "3:[m::n]+y::Z",
        ]
    );
}

#[test]
fn multi_line_use_reports_the_line_of_each_leaf() {
    let got = refs_of("use crate::{\n    a::A,\n    b::{B, C},\n};\n", &[]);
    assert_eq!(got, ["2:[]+a::A", "3:[]+b::B", "3:[]+b::C"]);
}

#[test]
fn inline_paths_are_found_and_external_paths_ignored() {
    let src = "fn f() {\n    crate::a::b::g();\n    super::super::h(std::io::stdin());\n    \
               let x = self::k::<u8>();\n    $crate::m::n!();\n    other::crate_x::y();\n}\n";
    let got = refs_of(src, &["p", "q"]);
    assert_eq!(got, ["2:[]+a::b::g", "3:[]+h", "4:[p::q]+k", "5:[]+m::n"]);
}

#[test]
fn visibility_and_mod_declarations_are_not_references() {
    let src = "pub(crate) mod a;\npub(in crate::b) fn f() {}\npub(super) struct S;\nmod c;\n";
    assert!(refs_of(src, &["x"]).is_empty());
}

#[test]
fn cfg_test_items_are_skipped_and_test_files_noted() {
    let src = "#[cfg(test)]\nmod tests {\n    use super::*;\n    fn t() { crate::a::f(); }\n}\n\
               #[cfg(test)]\n#[path = \"t.rs\"]\npub(crate) mod more;\n\
               #[cfg(test)]\nuse crate::z;\nfn g() { crate::b::f() }\n";
    let s = scan(&lex(src), &["m".to_string()]);
    let got: Vec<(usize, Vec<String>)> = s.refs.iter().map(|r| (r.line, r.rest.clone())).collect();
    assert_eq!(got, [(11, vec!["b".to_string(), "f".to_string()])]);
    assert_eq!(s.test_modules, [vec!["m".to_string(), "more".to_string()]]);
}

#[test]
fn inline_modules_change_what_super_and_self_mean() {
    let src = "pub mod code {\n    use super::X;\n    pub fn f() { self::g() }\n}\nuse super::Y;\n";
    let got = refs_of(src, &["p"]);
    assert_eq!(got, ["2:[p]+X", "3:[p::code]+g", "5:[]+Y"]);
}

#[test]
fn file_level_cfg_test_marks_the_file_test_only() {
    assert!(scan(&lex("#![cfg(test)]\nuse crate::a;\n"), &[]).test_only);
    assert!(!scan(&lex("#![allow(dead_code)]\nuse crate::a;\n"), &[]).test_only);
}
