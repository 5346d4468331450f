//! Just enough `Cargo.toml` reading for the layer rule: the package name, the dependency keys of
//! each dependency table, and the workspace member list. Line based, no TOML library.

use std::fs;
use std::path::{Path, PathBuf};

/// One dependency of a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The package depended on (`package = "…"` when renamed, else the key).
    pub name: String,
    /// The table it is in, e.g. `dependencies`, `dev-dependencies`,
    /// `target.'cfg(unix)'.dependencies`.
    pub table: String,
    pub line: usize,
}

#[derive(Debug, Default)]
pub struct Manifest {
    pub name: Option<String>,
    pub dependencies: Vec<Dependency>,
    /// `[workspace] members = [...]` (root manifest only).
    pub members: Vec<String>,
}

/// Crate directories the rules look at: `<root>/crates/*` and `<root>/src-tauri`, each with a
/// `Cargo.toml`, sorted.
pub fn crate_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(root.join("crates"))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    dirs.push(root.join("src-tauri"));
    dirs.retain(|d| d.join("Cargo.toml").is_file());
    dirs.sort();
    dirs
}

/// [`crate_dirs`] plus the root manifest's `members` (a trailing `/*` is expanded).
pub fn member_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs = crate_dirs(root);
    for member in read(&root.join("Cargo.toml")).members {
        match member.strip_suffix("/*") {
            Some(parent) => dirs.extend(
                fs::read_dir(root.join(parent))
                    .map(|rd| {
                        rd.filter_map(|e| e.ok().map(|e| e.path()))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default(),
            ),
            None => dirs.push(root.join(member)),
        }
    }
    dirs.retain(|d| d.join("Cargo.toml").is_file());
    dirs.sort();
    dirs.dedup();
    dirs
}

pub fn read(path: &Path) -> Manifest {
    let text =
        fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse(&text)
}

pub fn parse(text: &str) -> Manifest {
    let mut m = Manifest::default();
    let mut table: Vec<String> = Vec::new();
    // Bracket depth of a value that continues on the next lines (multi-line arrays).
    let mut open = 0i32;
    let (mut members_text, mut in_members) = (String::new(), false);
    for (n, raw) in text.lines().enumerate() {
        let line = without_comment(raw).trim();
        if open > 0 {
            open += depth_change(line);
            if in_members {
                members_text.push_str(line);
            }
            continue;
        }
        if line.starts_with('[') {
            table = split_dotted(line.trim_matches(|c| c == '[' || c == ']'));
            if let Some(dep) = table_dependency(&table) {
                m.dependencies.push(Dependency {
                    name: dep.to_string(),
                    table: table[..table.len() - 1].join("."),
                    line: n + 1,
                });
            }
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = split_dotted(key);
        let value = value.trim();
        open = depth_change(value);
        in_members = false;
        match key.first().map(String::as_str) {
            Some("name") if is(&table, &["package"]) => m.name = Some(unquote(value)),
            Some("members") if is(&table, &["workspace"]) => {
                members_text = value.to_string();
                in_members = true;
            }
            Some("package") if table_dependency(&table).is_some() => {
                if let Some(dep) = m.dependencies.last_mut() {
                    dep.name = unquote(value);
                }
            }
            Some(k) if is_dependency_table(&table) => m.dependencies.push(Dependency {
                name: renamed(value).unwrap_or_else(|| k.to_string()),
                table: table.join("."),
                line: n + 1,
            }),
            _ => {}
        }
    }
    m.members = quoted_strings(&members_text);
    m
}

fn is(table: &[String], want: &[&str]) -> bool {
    table.len() == want.len() && table.iter().zip(want).all(|(a, b)| a == b)
}

const KINDS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];

/// `[dependencies]`, `[dev-dependencies]`, `[build-dependencies]`, `[target.X.dependencies]`, …
fn is_dependency_table(table: &[String]) -> bool {
    match table {
        [kind] => KINDS.contains(&kind.as_str()),
        [target, _, kind] => target == "target" && KINDS.contains(&kind.as_str()),
        _ => false,
    }
}

/// The dependency named by a table header such as `[dependencies.foo]`.
fn table_dependency(table: &[String]) -> Option<&str> {
    let (last, parent) = table.split_last()?;
    is_dependency_table(parent).then_some(last.as_str())
}

/// `package = "real"` inside an inline table.
fn renamed(value: &str) -> Option<String> {
    let at = value.find("package")?;
    let rest = value[at + "package".len()..]
        .trim_start()
        .strip_prefix('=')?;
    quoted_strings(rest).into_iter().next()
}

/// Splits `a.'b.c'."d"` into `a`, `b.c`, `d`.
fn split_dotted(s: &str) -> Vec<String> {
    let (mut parts, mut cur, mut quote) = (Vec::new(), String::new(), None);
    for c in s.chars() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '.') => parts.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    parts.push(cur.trim().to_string());
    parts
}

fn unquote(value: &str) -> String {
    quoted_strings(value).into_iter().next().unwrap_or_default()
}

/// The contents of every `"…"` or `'…'` string in `s`.
pub fn quoted_strings(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut quote) = (Vec::new(), String::new(), None);
    for c in s.chars() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => {
                quote = None;
                out.push(std::mem::take(&mut cur));
            }
            (Some(_), _) => cur.push(c),
            _ => {}
        }
    }
    out
}

/// Drops a `#` comment (outside strings).
fn without_comment(line: &str) -> &str {
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '#') => return &line[..i],
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            _ => {}
        }
    }
    line
}

/// Opened minus closed `[`/`{` brackets outside strings.
fn depth_change(s: &str) -> i32 {
    let (mut d, mut quote) = (0, None);
    for c in s.chars() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '[' | '{') => d += 1,
            (None, ']' | '}') => d -= 1,
            _ => {}
        }
    }
    d
}
