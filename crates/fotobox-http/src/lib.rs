//! Fotobox HTTP doors over the domain: the callback router (the only one a tunnel may expose:
//! Payme, Click, the customer's digital copy, `/healthz`), the loopback API router (the kiosk
//! page, the staff panel and tools), the embedded UI, and the server with graceful shutdown.
//!
//! Architecture Invariant: error kinds become HTTP answers in one place (`error`); handlers
//! are thin: extract, call the domain, answer.

pub mod api;
pub mod callbacks;
pub mod copy_page;
pub mod error;
pub mod extract;
pub mod guard;
pub mod health;
pub mod kiosk;
pub mod maintenance;
pub mod redact;
pub mod routers;
pub mod server;
pub mod staff;
pub mod ui;

pub use routers::{api_router, callback_router, callback_router_limited, BODY_LIMIT};
pub use server::{start, RunningServer};
