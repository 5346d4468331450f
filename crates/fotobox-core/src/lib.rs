//! Fotobox core, the domain: the config, the application context, pricing and orders, the Payme
//! and Click protocol logic, the photo pipeline and print queue, the kiosk, staff actions and
//! unattended operation. Knows nothing of HTTP servers or Tauri: the http crate and the Tauri
//! shell are doors over it.
//!
//! Architecture Invariant: no axum, tower or hyper in this crate's dependency tree; it depends
//! only on fotobox-store and fotobox-render among the fotobox crates.

pub mod boot;
pub mod click;
pub mod click_api;
pub mod clock;
pub mod config;
pub mod context;
pub mod doctor;
pub mod error;
pub mod events;
pub mod fiscal;
pub mod kiosk;
pub mod limits;
pub mod logging;
pub mod maintenance;
pub mod orders;
pub mod outbound;
pub mod panel;
pub mod paylink;
pub mod payme;
pub mod photos;
pub mod pricing;
pub mod print;
pub mod print_options;
pub mod printer_state;
pub mod private_file;
pub mod reconcile;
pub mod refunds;
pub mod sandbox;
pub mod selftest;
pub mod sound;
pub mod staff;

pub use config::Config;
pub use context::{AppContext, AppError};
