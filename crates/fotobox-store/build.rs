//! Rebuild when a migration is added or changed: `sqlx::migrate!` embeds `migrations/` at compile
//! time, and cargo would otherwise keep a build without the new one.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
