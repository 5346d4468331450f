//! Payme Merchant API (JSON-RPC) callbacks: one request body in, one JSON-RPC answer out (the
//! HTTP door, `POST /api/payme/webhook`, lives in the http crate).
//!
//! Every answer is HTTP 200 with a JSON-RPC body (payme.md §2). Checks run in the order of
//! payme.md §2.2: POST (-32300), JSON (-32700, `id: null`), Basic auth (-32504), envelope
//! (-32600), method (-32601), params (-32600), business errors, anything unexpected (-32400).

pub mod methods;
pub mod protocol;
pub mod simulator;

use serde_json::Value;

use crate::context::AppContext;
use methods::Fail;
use protocol::{code, err_body, ok_body, RpcError};

/// The webhook path (the one the previous version used, so the cash-desk setting stays valid).
pub const WEBHOOK_PATH: &str = "/api/payme/webhook";

/// Answer one JSON-RPC request body (the whole JSON answer). Never panics on any input.
pub async fn handle(ctx: &AppContext, authorization: Option<&[u8]>, body: &[u8]) -> Value {
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return err_body(&Value::Null, &RpcError::new(code::PARSE));
    };
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    if !protocol::authorized(&ctx.config, authorization) {
        // Refused before any database access: counted, logged at a bounded rate.
        if ctx
            .metrics
            .count_auth_failure("payme", ctx.clock.now().timestamp())
        {
            tracing::warn!("payme: callback refused: wrong or missing authorization");
        }
        return err_body(&id, &RpcError::new(code::INSUFFICIENT_PRIVILEGE));
    }
    let Some(Value::String(method)) = req.get("method") else {
        return err_body(&id, &RpcError::invalid("method"));
    };
    let Some(Value::Object(params)) = req.get("params") else {
        return err_body(&id, &RpcError::invalid("params"));
    };
    if !methods::METHODS.contains(&method.as_str()) {
        return err_body(
            &id,
            &RpcError::new(code::METHOD_NOT_FOUND).with_data(method.as_str()),
        );
    }
    // Run the method on its own task: a dropped connection cannot cut it between commit and
    // publish, and a bug that panics becomes -32400 instead of a dropped connection.
    let (ctx2, method2, params2) = (ctx.clone(), method.clone(), params.clone());
    let outcome = tokio::spawn(async move { methods::call(&ctx2, &method2, &params2).await }).await;
    match outcome {
        Ok(Ok(result)) => ok_body(&id, result),
        Ok(Err(Fail::Rpc(e))) => err_body(&id, &e),
        Ok(Err(Fail::Store(e))) => {
            tracing::error!(%method, error = %e, "payme: system error");
            err_body(&id, &RpcError::system())
        }
        Err(join) => {
            tracing::error!(%method, error = %join, "payme: method task failed");
            err_body(&id, &RpcError::system())
        }
    }
}
