//! Just enough `Cargo.lock` reading: `[[package]]` blocks with name, version, source and
//! dependency entries (`"name"`, `"name version"` or `"name version (source)"`).

#[derive(Debug, Default, Clone)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub source: Option<String>,
    pub dependencies: Vec<DepRef>,
}

/// One entry of a package's `dependencies` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepRef {
    pub name: String,
    /// Only written when several versions of `name` are locked.
    pub version: Option<String>,
    /// Only written when several sources have that name and version.
    pub source: Option<String>,
}

pub fn parse(text: &str) -> Vec<Package> {
    let mut packages: Vec<Package> = Vec::new();
    let mut current: Option<Package> = None;
    let mut in_deps = false;
    for line in text.lines().map(str::trim) {
        if in_deps {
            in_deps = !line.starts_with(']');
            if let (Some(p), Some(entry)) = (current.as_mut(), first_string(line)) {
                p.dependencies.push(dep_ref(&entry));
            }
            continue;
        }
        if line.starts_with('[') {
            packages.extend(current.take());
            if line == "[[package]]" {
                current = Some(Package::default());
            }
            continue;
        }
        let (Some(p), Some((key, value))) = (current.as_mut(), line.split_once('=')) else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "name" => p.name = first_string(value).unwrap_or_default(),
            "version" => p.version = first_string(value).unwrap_or_default(),
            "source" => p.source = first_string(value),
            "dependencies" => {
                // `dependencies = [` (one entry per line) or all on one line.
                let inline = value.trim_start_matches('[');
                in_deps = !inline.contains(']');
                let strings = crate::manifest::quoted_strings(inline);
                p.dependencies.extend(strings.iter().map(|s| dep_ref(s)));
            }
            _ => {}
        }
    }
    packages.extend(current);
    packages
}

fn first_string(s: &str) -> Option<String> {
    crate::manifest::quoted_strings(s).into_iter().next()
}

fn dep_ref(entry: &str) -> DepRef {
    let mut parts = entry.splitn(3, ' ');
    DepRef {
        name: parts.next().unwrap_or_default().to_string(),
        version: parts.next().map(str::to_string),
        source: parts
            .next()
            .map(|s| s.trim_start_matches('(').trim_end_matches(')').to_string()),
    }
}

/// The package a dependency entry means: the only one with that name, else the one with that
/// exact version (and source, when given).
pub fn resolve(packages: &[Package], dep: &DepRef) -> Option<usize> {
    let by_name: Vec<usize> = (0..packages.len())
        .filter(|&i| packages[i].name == dep.name)
        .collect();
    if by_name.len() == 1 {
        return by_name.first().copied();
    }
    by_name.into_iter().find(|&i| {
        let p = &packages[i];
        dep.version.as_ref().is_none_or(|v| *v == p.version)
            && dep
                .source
                .as_ref()
                .is_none_or(|s| p.source.as_ref() == Some(s))
    })
}
