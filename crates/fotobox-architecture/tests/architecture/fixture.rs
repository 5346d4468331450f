//! Throw-away mini workspaces in the system temp dir, for the self-tests of the checks.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A directory under `std::env::temp_dir()`, removed again on drop.
pub struct Fixture {
    root: PathBuf,
}

impl Fixture {
    /// A fresh, empty workspace with a root `Cargo.toml`.
    pub fn new(name: &str) -> Self {
        let unique = format!(
            "fotobox-architecture-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let root = std::env::temp_dir().join(unique);
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).expect("create fixture dir");
        let f = Fixture { root };
        f.file(
            "Cargo.toml",
            "[workspace]\nresolver = \"2\"\nmembers = [\"crates/*\"]\n",
        )
    }

    /// Writes `contents` to `rel` (parent directories are created).
    pub fn file(self, rel: &str, contents: &str) -> Self {
        let path = self.root.join(rel);
        let parent = path.parent().expect("fixture file has a parent");
        fs::create_dir_all(parent).expect("create fixture subdir");
        fs::write(&path, contents).expect("write fixture file");
        self
    }

    /// A crate `crates/<name>` with a `Cargo.toml` and the given `src/` files.
    pub fn krate(self, name: &str, deps: &str, files: &[(&str, &str)]) -> Self {
        let manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n{deps}\n"
        );
        let mut f = self.file(&format!("crates/{name}/Cargo.toml"), &manifest);
        for (rel, text) in files {
            f = f.file(&format!("crates/{name}/src/{rel}"), text);
        }
        f
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}
