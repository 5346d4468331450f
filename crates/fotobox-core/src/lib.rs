//! Fotobox core: everything the kiosk does, without Tauri. The headless `fotobox` binary and the
//! Tauri shell are thin doors over this crate.

pub mod click;
pub mod click_api;
pub mod clock;
pub mod compose;
pub mod config;
pub mod context;
pub mod events;
pub mod http;
pub mod kiosk;
pub mod layouts;
pub mod logging;
pub mod maintenance;
pub mod model;
pub mod orders;
pub mod panel;
pub mod payme;
pub mod photos;
pub mod print;
pub mod qr;
pub mod server;
pub mod staff;
pub mod store;

pub use config::Config;
pub use context::{AppContext, AppError};
