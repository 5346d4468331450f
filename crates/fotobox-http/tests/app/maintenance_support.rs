//! Support for the maintenance tests: apps with extra `[server]` keys and local fake servers.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;

use fotobox_core::{AppContext, Config};

use crate::common::{test_config_toml, TestApp};

/// The test config with `server_keys` added to `[server]` and `extra` appended.
pub fn config_text(dir: &std::path::Path, server_keys: &str, extra: &str) -> String {
    let base =
        test_config_toml(dir).replacen("[server]\n", &format!("[server]\n{server_keys}\n"), 1);
    format!("{base}\n{extra}")
}

/// A fresh app in a new temporary directory.
pub async fn app(server_keys: &str, extra: &str) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path(), server_keys, extra).await;
    TestApp { ctx, dir }
}

/// A context over an existing data directory.
pub async fn context(dir: &std::path::Path, server_keys: &str, extra: &str) -> AppContext {
    let cfg = Config::from_toml(&config_text(dir, server_keys, extra)).unwrap();
    AppContext::new(cfg).await.unwrap()
}

/// Serve `router` on 127.0.0.1 (port 0); returns its base URL.
pub async fn fake_server(router: axum::Router) -> (String, SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://{addr}"), addr)
}
