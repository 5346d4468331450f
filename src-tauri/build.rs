//! Tauri build script: embeds tauri.conf.json, the capabilities and ui/ into the binary.
fn main() {
    tauri_build::build()
}
