//! Finds the crate-relative paths one source file refers to: `use` trees and inline
//! `crate::…` / `super::…` / `self::…` paths, skipping `#[cfg(test)]` items and `mod x;`.

use crate::source::Token;

/// A path found in a file: `start` is the module it is relative to (already resolved from
/// `crate`, `self` and `super`, counted from the crate root), `rest` the segments after that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRef {
    pub line: usize,
    pub start: Vec<String>,
    pub rest: Vec<String>,
}

/// What one file contributes to its crate's module graph.
#[derive(Debug, Default)]
pub struct FileScan {
    pub refs: Vec<PathRef>,
    /// Out-of-line modules declared as `#[cfg(test)] mod x;`: test-only files.
    pub test_modules: Vec<Vec<String>>,
    /// The file starts with `#![cfg(test)]`.
    pub test_only: bool,
}

const CFG_TEST: [&str; 7] = ["#", "[", "cfg", "(", "test", ")", "]"];

fn at(t: &[Token], i: usize, text: &str) -> bool {
    t.get(i).is_some_and(|tok| tok.is(text))
}

fn matches(t: &[Token], i: usize, texts: &[&str]) -> bool {
    texts.iter().enumerate().all(|(k, s)| at(t, i + k, s))
}

/// Scans the tokens of the file whose module path is `module`.
pub fn scan(t: &[Token], module: &[String]) -> FileScan {
    let mut scan = FileScan {
        test_only: at(t, 0, "#") && at(t, 1, "!") && matches(t, 2, &CFG_TEST[1..]),
        ..FileScan::default()
    };
    // Inline modules we are inside: (name, brace depth just inside it).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < t.len() {
        let here = || -> Vec<String> {
            let mut m = module.to_vec();
            m.extend(inline.iter().map(|(n, _)| n.clone()));
            m
        };
        if matches(t, i, &CFG_TEST) {
            if let Some(name) = declared_module(t, i + CFG_TEST.len()) {
                let mut m = here();
                m.push(name);
                scan.test_modules.push(m);
            }
            i = item_end(t, i + CFG_TEST.len());
        } else if at(t, i, "mod") && t.get(i + 1).is_some_and(Token::is_ident) && at(t, i + 2, "{")
        {
            depth += 1;
            inline.push((t[i + 1].text.clone(), depth));
            i += 3;
        } else if at(t, i, "{") {
            depth += 1;
            i += 1;
        } else if at(t, i, "}") {
            if inline.last().is_some_and(|&(_, d)| d == depth) {
                inline.pop();
            }
            depth = depth.saturating_sub(1);
            i += 1;
        } else if at(t, i, "use") {
            let mut paths = Vec::new();
            i = use_tree(t, i + 1, &[], &mut paths);
            let ctx = here();
            scan.refs
                .extend(paths.iter().filter_map(|(p, line)| anchor(&ctx, p, *line)));
        } else if starts_inline_path(t, i) {
            let (path, line, next) = inline_path(t, i);
            scan.refs.extend(anchor(&here(), &path, line));
            i = next;
        } else {
            i += 1;
        }
    }
    scan
}

/// After an attribute: skips further attributes and a visibility; `Some(name)` for `mod name;`.
fn declared_module(t: &[Token], mut i: usize) -> Option<String> {
    loop {
        if at(t, i, "#") && at(t, i + 1, "[") {
            i = group_end(t, i + 1);
        } else if at(t, i, "pub") {
            i += 1;
            if at(t, i, "(") {
                i = group_end(t, i);
            }
        } else {
            break;
        }
    }
    let name = t
        .get(i + 1)
        .filter(|n| at(t, i, "mod") && n.is_ident() && at(t, i + 2, ";"))?;
    Some(name.text.clone())
}

/// Index just past the bracket group opening at `i`.
fn group_end(t: &[Token], i: usize) -> usize {
    let mut depth = 0usize;
    for (k, tok) in t.iter().enumerate().skip(i) {
        match tok.text.as_str() {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return k + 1;
                }
            }
            _ => {}
        }
    }
    t.len()
}

/// Index just past the item starting at `i`: its `;` at bracket depth 0, or its `{ … }` body
/// (plus a directly following `;`).
fn item_end(t: &[Token], i: usize) -> usize {
    let mut k = i;
    while k < t.len() {
        match t[k].text.as_str() {
            ";" => return k + 1,
            "{" => {
                let end = group_end(t, k);
                return if at(t, end, ";") { end + 1 } else { end };
            }
            "(" | "[" => k = group_end(t, k),
            _ => k += 1,
        }
    }
    t.len()
}

/// Parses a use tree from `i`, appending every leaf path (with the line of its last segment) to
/// `out`; returns the index after the tree. `a::{b, c::{self, d}}` gives `a::b`, `a::c`, `a::c::d`.
fn use_tree(
    t: &[Token],
    mut i: usize,
    prefix: &[String],
    out: &mut Vec<(Vec<String>, usize)>,
) -> usize {
    let mut path = prefix.to_vec();
    let mut line = t.get(i).map_or(0, |tok| tok.line);
    if at(t, i, "::") {
        i += 1;
    }
    while let Some(tok) = t.get(i) {
        if tok.is("{") {
            i += 1;
            while i < t.len() && !at(t, i, "}") {
                let next = use_tree(t, i, &path, out);
                i = if at(t, next, ",") {
                    next + 1
                } else {
                    next.max(i + 1)
                };
            }
            return i + 1;
        }
        if tok.is("*") {
            out.push((path, tok.line));
            return i + 1;
        }
        if !tok.is_ident() {
            break;
        }
        line = tok.line;
        // `self` inside braces means the prefix itself: `a::{self, b}` gives `a` and `a::b`.
        if !tok.is("self") || path.is_empty() {
            path.push(tok.text.clone());
        }
        i += 1;
        if at(t, i, "::") {
            i += 1;
        } else {
            if at(t, i, "as") {
                i += 2;
            }
            break;
        }
    }
    if !path.is_empty() {
        out.push((path, line));
    }
    if at(t, i, ";") {
        i + 1
    } else {
        i
    }
}

/// `crate::`, `$crate::`, `super::` or `self::` that starts a path (not a later segment, and not
/// a visibility such as `pub(in crate::x)`).
fn starts_inline_path(t: &[Token], i: usize) -> bool {
    let head = matches!(t[i].text.as_str(), "crate" | "super" | "self");
    let prev = |k: usize| i.checked_sub(k).and_then(|j| t.get(j));
    let continues = prev(1).is_some_and(|p| p.is("::"));
    let visibility = prev(1).is_some_and(|p| p.is("in")) && prev(2).is_some_and(|p| p.is("("));
    head && at(t, i + 1, "::") && !continues && !visibility
}

/// Reads `a::b::c` from `i`; returns the segments, the line of the last one and the next index.
fn inline_path(t: &[Token], mut i: usize) -> (Vec<String>, usize, usize) {
    let (mut path, mut line) = (Vec::new(), t[i].line);
    while let Some(tok) = t.get(i).filter(|tok| tok.is_ident()) {
        path.push(tok.text.clone());
        line = tok.line;
        i += 1;
        if !(at(t, i, "::") && t.get(i + 1).is_some_and(Token::is_ident)) {
            break;
        }
        i += 1;
    }
    (path, line, i)
}

/// Anchors a path written in module `ctx`: `crate::`/`self::`/`super::` prefixes become the start
/// module. Paths without such a prefix (external crates, std, plain relative names) give `None`.
fn anchor(ctx: &[String], path: &[String], line: usize) -> Option<PathRef> {
    let first = path.first()?;
    let mut start = match first.as_str() {
        "crate" => Vec::new(),
        "self" | "super" => ctx.to_vec(),
        _ => return None,
    };
    let mut k = usize::from(first == "crate");
    while let Some(seg) = path.get(k).filter(|s| *s == "self" || *s == "super") {
        if seg == "super" {
            start.pop()?;
        }
        k += 1;
    }
    Some(PathRef {
        line,
        start,
        rest: path[k..].to_vec(),
    })
}
