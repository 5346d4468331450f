//! Click SHOP API callback endpoints: `POST /api/click/prepare` and `/api/click/complete`.

pub mod simulator;

use axum::Router;

use crate::context::AppContext;

/// Routes mounted on the callback listener.
pub fn routes() -> Router<AppContext> {
    Router::new()
}
