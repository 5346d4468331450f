//! A Payme simulator: plays Payme's side against our own callback listener over real HTTP,
//! with the correct Basic auth, 24-hex transaction ids and real millisecond times.
//! Used by `POST /api/test-payment/{order_id}` (sandbox), by tests and by `examples/payme_load.rs`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use rand::RngCore;
use serde_json::{json, Value};

use super::protocol::basic_auth;
use super::WEBHOOK_PATH;
use crate::context::AppContext;
use crate::outbound::{Method, OutRequest, Outbound, OutboundError};

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("the callback listener is not running (no callback URL)")]
    NotServing,
    #[error("order {0} not found")]
    OrderNotFound(String),
    #[error("no Payme key is configured")]
    NoKey,
    #[error("HTTP error calling {method}: {source}")]
    Http {
        method: String,
        source: OutboundError,
    },
    #[error("{method} answered HTTP {status}")]
    Status { method: String, status: u16 },
    #[error("{method} answered a body that is not JSON-RPC: {body}")]
    Malformed { method: String, body: String },
    #[error("{method} answered error {code}: {message}")]
    Rpc {
        method: String,
        code: i64,
        message: String,
        data: Option<Value>,
    },
}

impl SimError {
    /// The JSON-RPC error code, when the server answered one.
    pub fn rpc_code(&self) -> Option<i64> {
        match self {
            SimError::Rpc { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// A fresh Payme-like transaction id: 24 lowercase hex characters (12 random bytes).
pub fn new_payme_id() -> String {
    let mut b = [0u8; 12];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A Payme Merchant API client (Payme's side of the protocol). `Debug` leaves the key out.
#[derive(Clone)]
pub struct PaymeClient {
    http: Outbound,
    url: String,
    auth: String,
    next_id: std::sync::Arc<AtomicI64>,
}

impl std::fmt::Debug for PaymeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymeClient")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl PaymeClient {
    /// `base_url` is `http://host:port` of the callback listener; `login`/`key` the credentials.
    pub fn new(http: Outbound, base_url: &str, login: &str, key: &str) -> PaymeClient {
        PaymeClient {
            http,
            url: format!("{}{WEBHOOK_PATH}", base_url.trim_end_matches('/')),
            auth: basic_auth(login, key),
            next_id: std::sync::Arc::new(AtomicI64::new(1)),
        }
    }

    /// A client for this app's own callback listener, with the key Payme's sandbox would use
    /// (the TEST_KEY in sandbox mode when set, else the live key).
    pub fn for_context(ctx: &AppContext) -> Result<PaymeClient, SimError> {
        let base = ctx.callback_base_url().ok_or(SimError::NotServing)?;
        let cfg = &ctx.config.payme;
        let key = if ctx.config.mode.is_sandbox() && !cfg.test_key.is_empty() {
            cfg.test_key.expose()
        } else {
            cfg.key.expose()
        };
        if key.is_empty() {
            return Err(SimError::NoKey);
        }
        Ok(PaymeClient::new(ctx.http.clone(), &base, &cfg.login, key))
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Send one request; returns the whole answer body (result or error) as JSON.
    pub async fn call_raw(&self, method: &str, params: Value) -> Result<Value, SimError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let req = OutRequest::new(Method::Post, self.url.clone(), Duration::from_secs(30))
            .header("Authorization", self.auth.clone())
            .header("Content-Type", "text/json; charset=UTF-8")
            .body(body.to_string());
        let resp = self.http.send(req).await.map_err(|source| SimError::Http {
            method: method.to_string(),
            source,
        })?;
        let status = resp.status;
        if status != 200 {
            return Err(SimError::Status {
                method: method.to_string(),
                status,
            });
        }
        let bytes = resp.body;
        serde_json::from_slice::<Value>(&bytes).map_err(|_| SimError::Malformed {
            method: method.to_string(),
            body: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
        })
    }

    /// Send one request; `Ok(result)` or `Err(SimError::Rpc)` for an error answer.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, SimError> {
        let v = self.call_raw(method, params).await?;
        if let Some(e) = v.get("error").filter(|e| !e.is_null()) {
            return Err(SimError::Rpc {
                method: method.to_string(),
                code: e.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: e
                    .get("message")
                    .and_then(|m| m.get("en"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                data: e.get("data").cloned(),
            });
        }
        match v.get("result") {
            Some(r) => Ok(r.clone()),
            None => Err(SimError::Malformed {
                method: method.to_string(),
                body: v.to_string().chars().take(200).collect(),
            }),
        }
    }

    pub async fn check_perform(
        &self,
        order_id: &str,
        amount_tiyin: i64,
    ) -> Result<Value, SimError> {
        self.call(
            "CheckPerformTransaction",
            json!({"amount": amount_tiyin, "account": {"order_id": order_id}}),
        )
        .await
    }

    pub async fn create(
        &self,
        payme_id: &str,
        time_ms: i64,
        order_id: &str,
        amount_tiyin: i64,
    ) -> Result<Value, SimError> {
        self.call(
            "CreateTransaction",
            json!({"id": payme_id, "time": time_ms, "amount": amount_tiyin, "account": {"order_id": order_id}}),
        )
        .await
    }

    pub async fn perform(&self, payme_id: &str) -> Result<Value, SimError> {
        self.call("PerformTransaction", json!({"id": payme_id}))
            .await
    }

    pub async fn cancel(&self, payme_id: &str, reason: i64) -> Result<Value, SimError> {
        self.call(
            "CancelTransaction",
            json!({"id": payme_id, "reason": reason}),
        )
        .await
    }

    pub async fn check(&self, payme_id: &str) -> Result<Value, SimError> {
        self.call("CheckTransaction", json!({"id": payme_id})).await
    }

    pub async fn statement(&self, from_ms: i64, to_ms: i64) -> Result<Value, SimError> {
        self.call("GetStatement", json!({"from": from_ms, "to": to_ms}))
            .await
    }
}

/// Pay an order as Payme would: CheckPerform, Create, Perform (over real HTTP to our callback
/// listener). Returns the three results and the Payme id.
pub async fn pay_order(ctx: &AppContext, order_id: &str) -> Result<serde_json::Value, SimError> {
    let client = PaymeClient::for_context(ctx)?;
    let order = ctx
        .store
        .payment_by_order_id(order_id)
        .await
        .ok()
        .flatten()
        .ok_or_else(|| SimError::OrderNotFound(order_id.to_string()))?;
    let amount = order.amount.to_tiyin().unwrap_or(i64::MAX);
    let payme_id = new_payme_id();
    let check = client.check_perform(order_id, amount).await?;
    let created = client
        .create(&payme_id, ctx.clock.now_ms(), order_id, amount)
        .await?;
    let performed = client.perform(&payme_id).await?;
    Ok(json!({
        "provider": "payme",
        "payme_id": payme_id,
        "check_perform": check,
        "create": created,
        "perform": performed,
    }))
}

/// Cancel a simulated transaction as Payme would (`reason` as in payme.md §6).
pub async fn cancel_transaction(
    ctx: &AppContext,
    payme_id: &str,
    reason: i64,
) -> Result<serde_json::Value, SimError> {
    PaymeClient::for_context(ctx)?
        .cancel(payme_id, reason)
        .await
}
