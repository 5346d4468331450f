//! A Click simulator: plays Click's side against our own callback listener.

use crate::context::AppContext;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("the Click simulator is not available yet")]
    Unavailable,
}

/// Pay an order as Click would: prepare then complete.
pub async fn pay_order(_ctx: &AppContext, _order_id: &str) -> Result<serde_json::Value, SimError> {
    Err(SimError::Unavailable)
}
