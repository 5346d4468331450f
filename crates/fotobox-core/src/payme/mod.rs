//! Payme Merchant API (JSON-RPC) callback endpoint: `POST /api/payme/webhook`.

pub mod simulator;

use axum::Router;

use crate::context::AppContext;

/// Routes mounted on the callback listener.
pub fn routes() -> Router<AppContext> {
    Router::new()
}
