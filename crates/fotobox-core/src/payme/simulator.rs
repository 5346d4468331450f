//! A Payme simulator: plays Payme's side against our own callback listener.

use crate::context::AppContext;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("the Payme simulator is not available yet")]
    Unavailable,
}

/// Pay an order as Payme would: CheckPerform, Create, Perform.
pub async fn pay_order(_ctx: &AppContext, _order_id: &str) -> Result<serde_json::Value, SimError> {
    Err(SimError::Unavailable)
}
