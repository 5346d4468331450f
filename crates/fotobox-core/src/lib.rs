//! Fotobox core: everything the kiosk does, without Tauri. The headless `fotobox` binary and the
//! Tauri shell are thin doors over this crate.

pub mod click;
pub mod clock;
pub mod config;
pub mod context;
pub mod events;
pub mod http;
pub mod logging;
pub mod model;
pub mod orders;
pub mod payme;
pub mod qr;
pub mod server;
pub mod staff;
pub mod store;

pub use config::Config;
pub use context::{AppContext, AppError};
