//! Rule 3: the domain crates never pull in the HTTP server stack or Tauri, even transitively.
//!
//! Cargo.lock does not say which dependencies are normal, dev or build ones: it lists them all.
//! So this is deliberately stricter than `cargo tree -e normal`: a dev-dependency (say a test
//! helper) or build-dependency that brings in hyper counts too.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use crate::lockfile::{self, Package};

/// The crates whose dependency closure is checked.
pub const DOMAIN: &[&str] = &["fotobox-core", "fotobox-store", "fotobox-render"];

/// Packages the domain must not reach.
pub const FORBIDDEN: &[&str] = &[
    "axum",
    "axum-core",
    "tower",
    "tower-http",
    "hyper",
    "hyper-util",
    "tauri",
];

/// Reads `<root>/Cargo.lock`; `Err` shows a path from a domain crate to each forbidden package.
pub fn check(root: &Path) -> Result<(), String> {
    let path = root.join("Cargo.lock");
    let text = fs::read_to_string(&path).map_err(|e| {
        format!(
            "cannot read {} (run `cargo generate-lockfile`): {e}",
            path.display()
        )
    })?;
    check_lock(&text)
}

pub fn check_lock(text: &str) -> Result<(), String> {
    let packages = lockfile::parse(text);
    let roots: Vec<usize> = (0..packages.len())
        .filter(|&i| DOMAIN.contains(&packages[i].name.as_str()))
        .collect();
    if roots.is_empty() {
        return Err(format!("none of {DOMAIN:?} is in Cargo.lock"));
    }
    let mut report = String::new();
    for &root in &roots {
        let prev = reach(&packages, root);
        for (i, p) in packages.iter().enumerate() {
            if i != root && prev[i].is_some() && FORBIDDEN.contains(&p.name.as_str()) {
                let mut chain = vec![i];
                while let Some(&Some(before)) = prev.get(chain[chain.len() - 1]) {
                    if before == root {
                        break;
                    }
                    chain.push(before);
                }
                chain.push(root);
                chain.reverse();
                let names: Vec<String> = chain.iter().map(|&k| label(&packages[k])).collect();
                let _ = writeln!(report, "  {}", names.join(" -> "));
            }
        }
    }
    if report.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "domain crates reach the HTTP server stack / Tauri (Cargo.lock, all dependency \
             kinds):\n{report}"
        ))
    }
}

fn label(p: &Package) -> String {
    format!("{} {}", p.name, p.version)
}

/// Breadth-first search from `root`: `prev[i]` is the package through which `i` was first
/// reached (`Some(root)` for `root` itself), `None` when unreachable.
fn reach(packages: &[Package], root: usize) -> Vec<Option<usize>> {
    let mut prev = vec![None; packages.len()];
    prev[root] = Some(root);
    let mut queue = VecDeque::from([root]);
    while let Some(i) = queue.pop_front() {
        for dep in &packages[i].dependencies {
            match lockfile::resolve(packages, dep) {
                Some(j) if prev[j].is_none() => {
                    prev[j] = Some(i);
                    queue.push_back(j);
                }
                Some(_) => {}
                None => panic!(
                    "Cargo.lock: `{}` lists unknown dependency {dep:?}",
                    packages[i].name
                ),
            }
        }
    }
    prev
}
