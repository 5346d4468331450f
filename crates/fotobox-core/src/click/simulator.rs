//! A Click simulator: plays Click's side against our own callback listener. It signs exactly
//! as Click does (raw strings, amount rendered like the pay link, `15000.00`) and posts real
//! form bodies. [`ClickClient`] is reusable by tests and the load tool, including the error
//! paths (Click cancellation `-5017`, repeated complete).

use chrono::{Duration, Utc};
use rand::Rng;
use serde_json::{json, Value};

use super::form;
use super::sign::{self, SignFields};
use super::{COMPLETE_PATH, PREPARE_PATH};
use crate::context::AppContext;
use crate::outbound::{Method, OutRequest, Outbound, OutboundError};
use fotobox_store::StoreError;

/// Click's "insufficient funds" code, sent by its test tools in cancellation steps.
pub const CLICK_ERROR_INSUFFICIENT_FUNDS: i64 = -5017;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("the callback listener is not running (no callback address)")]
    NotServing,
    #[error("order {0} not found")]
    OrderNotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("HTTP request to the callback listener failed: {0}")]
    Http(#[from] OutboundError),
    #[error("the callback answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("{step} was refused: {answer}")]
    Refused { step: &'static str, answer: Value },
}

/// One Click callback as Click would send it. Every field is the raw string that is posted
/// and hashed, so tests can send odd renderings (`15000` vs `15000.00`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    pub click_trans_id: String,
    pub service_id: String,
    pub click_paydoc_id: String,
    pub merchant_trans_id: String,
    /// Sent (and hashed) only for action 1; `None` leaves the field out of the body.
    pub merchant_prepare_id: Option<String>,
    pub amount: String,
    pub action: String,
    pub error: String,
    pub error_note: String,
    pub sign_time: String,
    /// `None`: computed with the client's secret when sent.
    pub sign_string: Option<String>,
}

impl Callback {
    fn fields(&self) -> SignFields<'_> {
        SignFields {
            click_trans_id: &self.click_trans_id,
            service_id: &self.service_id,
            merchant_trans_id: &self.merchant_trans_id,
            merchant_prepare_id: self.merchant_prepare_id.as_deref().unwrap_or(""),
            amount: &self.amount,
            action: &self.action,
            sign_time: &self.sign_time,
            action_is_complete: self.action.parse::<i64>().ok() == Some(1),
        }
    }

    /// The `sign_string` Click would send for these fields.
    pub fn signature(&self, secret: &str) -> String {
        sign::sign(&self.fields(), secret)
    }

    /// The form body (signed with `secret` unless `sign_string` is set).
    pub fn to_body(&self, secret: &str) -> String {
        let sig = self
            .sign_string
            .clone()
            .unwrap_or_else(|| self.signature(secret));
        let mut pairs: Vec<(&str, &str)> = vec![
            ("click_trans_id", &self.click_trans_id),
            ("service_id", &self.service_id),
            ("click_paydoc_id", &self.click_paydoc_id),
            ("merchant_trans_id", &self.merchant_trans_id),
        ];
        if let Some(id) = &self.merchant_prepare_id {
            pairs.push(("merchant_prepare_id", id));
        }
        pairs.extend([
            ("amount", self.amount.as_str()),
            ("action", self.action.as_str()),
            ("error", self.error.as_str()),
            ("error_note", self.error_note.as_str()),
            ("sign_time", self.sign_time.as_str()),
            ("sign_string", sig.as_str()),
        ]);
        form::encode(pairs)
    }

    /// The same callback turned into a Complete for `merchant_prepare_id`, with Click's `error`.
    pub fn to_complete(&self, merchant_prepare_id: i64, error: i64) -> Callback {
        Callback {
            merchant_prepare_id: Some(merchant_prepare_id.to_string()),
            action: "1".into(),
            error: error.to_string(),
            error_note: if error == 0 {
                "Success".into()
            } else {
                "Insufficient funds".into()
            },
            sign_time: sign_time_now(),
            sign_string: None,
            ..self.clone()
        }
    }
}

/// `YYYY-MM-DD HH:mm:ss` in Tashkent time (UTC+5), as Click's examples look.
pub fn sign_time_now() -> String {
    (Utc::now() + Duration::hours(5))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// A random Click-like id above 2^31 (real ones are), below 2^53.
pub fn random_id() -> i64 {
    rand::rng().random_range((1i64 << 31) + 1..1i64 << 53)
}

/// Click as a client of our callback URLs. `Debug` leaves the secret out.
#[derive(Clone)]
pub struct ClickClient {
    pub http: Outbound,
    /// `http://host:port` of the callback listener.
    pub base_url: String,
    pub service_id: u64,
    pub secret: String,
}

impl std::fmt::Debug for ClickClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickClient")
            .field("base_url", &self.base_url)
            .field("service_id", &self.service_id)
            .finish_non_exhaustive()
    }
}

impl ClickClient {
    pub fn new(
        http: Outbound,
        base_url: impl Into<String>,
        service_id: u64,
        secret: impl Into<String>,
    ) -> Self {
        ClickClient {
            http,
            base_url: base_url.into().trim_end_matches('/').to_string(),
            service_id,
            secret: secret.into(),
        }
    }

    /// The simulator of a running app (its callback listener, its Click credentials).
    pub fn for_app(ctx: &AppContext) -> Result<Self, SimError> {
        let base = ctx.callback_base_url().ok_or(SimError::NotServing)?;
        Ok(Self::new(
            ctx.http.clone(),
            base,
            ctx.config.click.service_id,
            ctx.config.click.secret_key.expose(),
        ))
    }

    /// A fresh Prepare for `order_id` costing `amount_sum` (rendered `15000.00` like the pay
    /// link), with new random 64-bit ids.
    pub fn new_prepare(&self, order_id: &str, amount_sum: i64) -> Callback {
        Callback {
            click_trans_id: random_id().to_string(),
            service_id: self.service_id.to_string(),
            click_paydoc_id: random_id().to_string(),
            merchant_trans_id: order_id.to_string(),
            merchant_prepare_id: None,
            amount: format!("{amount_sum}.00"),
            action: "0".into(),
            error: "0".into(),
            error_note: "Success".into(),
            sign_time: sign_time_now(),
            sign_string: None,
        }
    }

    /// Post one callback to the URL its action belongs to (action 1 → complete, else prepare).
    pub async fn send(&self, cb: &Callback) -> Result<Value, SimError> {
        let path = if cb.action == "1" {
            COMPLETE_PATH
        } else {
            PREPARE_PATH
        };
        self.send_to(path, cb).await
    }

    /// Post one callback to an explicit path.
    pub async fn send_to(&self, path: &str, cb: &Callback) -> Result<Value, SimError> {
        let req = OutRequest::new(
            Method::Post,
            format!("{}{path}", self.base_url),
            std::time::Duration::from_secs(30),
        )
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(cb.to_body(&self.secret));
        let resp = self.http.send(req).await?;
        let text = resp.text();
        if !resp.is_success() {
            return Err(SimError::Status {
                status: resp.status,
                body: text,
            });
        }
        serde_json::from_str(&text).map_err(|_| SimError::Status {
            status: resp.status,
            body: text,
        })
    }

    /// Prepare; returns the answer and the `merchant_prepare_id` (error 0 required).
    pub async fn prepare(&self, cb: &Callback) -> Result<(Value, i64), SimError> {
        let answer = self.send(cb).await?;
        match (
            answer["error"].as_i64(),
            answer["merchant_prepare_id"].as_i64(),
        ) {
            (Some(0), Some(id)) => Ok((answer, id)),
            _ => Err(SimError::Refused {
                step: "prepare",
                answer,
            }),
        }
    }

    /// Complete the prepared attempt with Click's `error` (0 = debited, <0 = Click cancels).
    pub async fn complete(
        &self,
        prepared: &Callback,
        merchant_prepare_id: i64,
        error: i64,
    ) -> Result<Value, SimError> {
        self.send(&prepared.to_complete(merchant_prepare_id, error))
            .await
    }

    /// The happy path: prepare then complete with error 0. Returns both answers.
    pub async fn pay(&self, order_id: &str, amount_sum: i64) -> Result<Value, SimError> {
        let cb = self.new_prepare(order_id, amount_sum);
        let (prepare, id) = self.prepare(&cb).await?;
        let complete = self.complete(&cb, id, 0).await?;
        if complete["error"].as_i64() != Some(0) {
            return Err(SimError::Refused {
                step: "complete",
                answer: complete,
            });
        }
        Ok(json!({"click_trans_id": cb.click_trans_id, "prepare": prepare, "complete": complete}))
    }

    /// Prepare, then Click cancels (`-5017`), then Click repeats the cancellation. Our answers
    /// should be 0, -9, -9.
    pub async fn pay_and_fail(&self, order_id: &str, amount_sum: i64) -> Result<Value, SimError> {
        let cb = self.new_prepare(order_id, amount_sum);
        let (prepare, id) = self.prepare(&cb).await?;
        let cancel = self
            .complete(&cb, id, CLICK_ERROR_INSUFFICIENT_FUNDS)
            .await?;
        let again = self
            .complete(&cb, id, CLICK_ERROR_INSUFFICIENT_FUNDS)
            .await?;
        Ok(json!({"prepare": prepare, "complete": cancel, "repeated": again}))
    }

    /// The happy path followed by a repeated complete (Click lost our answer): 0, 0, -4.
    pub async fn pay_and_repeat(&self, order_id: &str, amount_sum: i64) -> Result<Value, SimError> {
        let cb = self.new_prepare(order_id, amount_sum);
        let (prepare, id) = self.prepare(&cb).await?;
        let complete = self.complete(&cb, id, 0).await?;
        let again = self.complete(&cb, id, 0).await?;
        Ok(json!({"prepare": prepare, "complete": complete, "repeated": again}))
    }
}

/// Pay an order as Click would: prepare then complete, as real signed form posts to the
/// app's callback listener.
pub async fn pay_order(ctx: &AppContext, order_id: &str) -> Result<serde_json::Value, SimError> {
    let p = ctx
        .store
        .payment_by_order_id(order_id)
        .await?
        .ok_or_else(|| SimError::OrderNotFound(order_id.to_string()))?;
    ClickClient::for_app(ctx)?
        .pay(order_id, p.amount.whole())
        .await
}
