//! Rule 1: no import cycle between the source files of one crate. Builds each crate's file graph
//! (edges from `crate::`/`super::`/`self::` paths) and reports strongly connected components.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use crate::refs;
use crate::scc;
use crate::source;

/// One `.rs` file under `src/` and the module it defines (`a/b.rs`, `a/b/mod.rs` → `a::b`).
struct SourceFile {
    path: PathBuf,
    module: Vec<String>,
    text: String,
}

/// An edge `from → to` created by the path on `line` of `from`.
struct Edge {
    from: usize,
    to: usize,
    line: usize,
}

/// Checks every crate (`<root>/crates/*`, `<root>/src-tauri`); `Err` holds the cycle report.
pub fn check(root: &Path) -> Result<(), String> {
    let mut report = String::new();
    for dir in crate::manifest::crate_dirs(root) {
        if dir.join("src").is_dir() {
            report.push_str(&check_crate(root, &dir));
        }
    }
    if report.is_empty() {
        Ok(())
    } else {
        Err(report)
    }
}

/// The cycle report of one crate; empty when it has none.
fn check_crate(root: &Path, dir: &Path) -> String {
    let files = source_files(&dir.join("src"));
    let edges = edges(&files);
    let mut adj = vec![Vec::new(); files.len()];
    for e in &edges {
        adj[e.from].push(e.to);
    }
    for a in &mut adj {
        a.sort_unstable();
        a.dedup();
    }
    let comps = scc::cycles(&adj);
    if comps.is_empty() {
        return String::new();
    }
    let rel = |i: usize| display(root, &files[i].path);
    let mut out = format!(
        "\n{}: {} import cycle(s) between source files\n",
        display(root, dir),
        comps.len()
    );
    for (n, comp) in comps.iter().enumerate() {
        let _ = writeln!(out, "\ncycle {} ({} files):", n + 1, comp.len());
        for &f in comp {
            let _ = writeln!(out, "  {}", rel(f));
        }
        let walk = scc::shortest_loop(&adj, comp, comp[0]);
        let names: Vec<String> = walk.iter().map(|&f| rel(f)).collect();
        let _ = writeln!(out, "  shortest loop: {}", names.join(" -> "));
        let _ = writeln!(out, "  edges inside the cycle:");
        let mut by_pair: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
        for e in edges
            .iter()
            .filter(|e| comp.contains(&e.from) && comp.contains(&e.to))
        {
            by_pair.entry((e.from, e.to)).or_default().push(e.line);
        }
        for ((from, to), lines) in by_pair {
            let _ = writeln!(out, "    {} -> {}", rel(from), rel(to));
            let lines: BTreeSet<usize> = lines.into_iter().collect();
            for &line in lines.iter().take(3) {
                let text = files[from]
                    .text
                    .lines()
                    .nth(line.saturating_sub(1))
                    .unwrap_or("")
                    .trim();
                let _ = writeln!(out, "      {}:{line}: {text}", rel(from));
            }
            if lines.len() > 3 {
                let _ = writeln!(out, "      … and {} more line(s)", lines.len() - 3);
            }
        }
    }
    out
}

fn display(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

/// All `.rs` files under `src` (not `src/bin/`, whose files are separate crate roots), sorted.
/// With both `lib.rs` and `main.rs`, `lib.rs` is the root module.
fn source_files(src: &Path) -> Vec<SourceFile> {
    let mut paths = Vec::new();
    walk(src, &mut paths);
    paths.retain(|p| !p.starts_with(src.join("bin")));
    paths.sort();
    let has_lib = src.join("lib.rs").is_file();
    let mut files = Vec::new();
    for path in paths {
        let rel = path.strip_prefix(src).unwrap_or(&path);
        let mut module: Vec<String> = rel
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect();
        let file = module.pop().unwrap_or_default();
        let stem = file.trim_end_matches(".rs");
        let top = module.is_empty();
        match stem {
            "lib" if top => {}
            "main" if top && !has_lib => {}
            "mod" if !top => {}
            _ => module.push(stem.to_string()),
        }
        let text = fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        files.push(SourceFile { path, module, text });
    }
    files
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// Scans every file and resolves its paths to files. Test-only files (`#[cfg(test)] mod x;`,
/// `#![cfg(test)]`) take no part: they neither give nor receive edges.
fn edges(files: &[SourceFile]) -> Vec<Edge> {
    let scans: Vec<refs::FileScan> = files
        .iter()
        .map(|f| refs::scan(&source::lex(&f.text), &f.module))
        .collect();
    let test_modules: Vec<&Vec<String>> = scans.iter().flat_map(|s| &s.test_modules).collect();
    let live: Vec<bool> = files
        .iter()
        .zip(&scans)
        .map(|(f, s)| !s.test_only && !test_modules.iter().any(|t| f.module.starts_with(t)))
        .collect();
    let mut by_module: BTreeMap<&[String], usize> = BTreeMap::new();
    for (i, f) in files.iter().enumerate().filter(|&(i, _)| live[i]) {
        by_module.entry(&f.module).or_insert(i);
    }
    let mut edges = Vec::new();
    for (from, scan) in scans.iter().enumerate().filter(|&(i, _)| live[i]) {
        for r in &scan.refs {
            let module: Vec<String> = r.start.iter().chain(&r.rest).cloned().collect();
            // The deepest module file the path walks through: `crate::store::payments::list` is
            // store/payments.rs, `crate::store::Store` store/mod.rs (inline modules and items
            // live in the file of the module around them).
            let to = (0..=module.len())
                .rev()
                .find_map(|n| by_module.get(&module[..n]).copied());
            if let Some(to) = to.filter(|&to| to != from) {
                edges.push(Edge {
                    from,
                    to,
                    line: r.line,
                });
            }
        }
    }
    edges
}
