//! A local fake of Click's Merchant API (click.md §10, §10a), shared by the refund and the
//! fiscal tests. Every request is recorded (method, path, headers, JSON body) and must carry
//! the `Auth` header signed with the test credentials (else HTTP 401). It serves:
//!
//! - `DELETE payment/reversal/{service_id}/{payment_id}`: a set answer, after a set delay;
//! - `GET payment/ofd_data/{service_id}/{payment_id}`: `{paymentId, qrCodeURL}` of the receipt
//!   it holds for that payment (`qrCodeURL` null without one);
//! - `POST payment/ofd_data/submit_items`: checks each body field as Click's docs define it
//!   (a violation is answered `error_code` -8 and listed in `problems`), then answers as told
//!   (accept and make the receipt, refuse, fail, or make the receipt and answer too late).
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use fotobox_core::click_api;
use serde_json::{json, Value};

use crate::common::{CLICK_MERCHANT_USER_ID, CLICK_SECRET, CLICK_SERVICE_ID};
use crate::maintenance_support::fake_server;

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

/// How the fake answers the next `submit_items`.
#[derive(Debug, Clone)]
pub enum Submit {
    /// `{error_code: 0}`; the receipt exists from now on.
    Accept,
    /// The receipt is made, but the answer comes after this long (past the kiosk's timeout).
    AcceptLate(Duration),
    /// Answer this status and body; no receipt.
    Reply(StatusCode, Value),
}

/// What the fake does and holds.
#[derive(Debug)]
pub struct FakeState {
    pub reversal: (StatusCode, Value),
    pub reversal_delay: Duration,
    /// Receipts Click holds, by Click payment id.
    pub receipts: HashMap<i64, String>,
    /// Answers to the next `submit_items` calls, first first; `Accept` once they run out.
    pub submits: VecDeque<Submit>,
    /// When set, every `GET ofd_data` gets this status and an empty body.
    pub ofd_get_status: Option<StatusCode>,
    /// Violations of Click's documented body found in `submit_items` calls.
    pub problems: Vec<String>,
}

impl Default for FakeState {
    fn default() -> Self {
        FakeState {
            reversal: (
                StatusCode::OK,
                json!({"error_code": 0, "error_note": "Success"}),
            ),
            reversal_delay: Duration::ZERO,
            receipts: HashMap::new(),
            submits: VecDeque::new(),
            ofd_get_status: None,
            problems: Vec::new(),
        }
    }
}

/// The running fake: its base URL (`…/v2/merchant/` is the Merchant API root), the calls.
#[derive(Clone)]
pub struct FakeClick {
    pub base: String,
    pub calls: Arc<Mutex<Vec<Call>>>,
    pub state: Arc<Mutex<FakeState>>,
}

/// The receipt link the fake makes for a Click payment.
pub fn receipt_url(payment_id: i64) -> String {
    format!("https://ofd.soliq.uz/check?t=EP000000000025&r={payment_id}&c=20261125120000&s=31")
}

impl FakeClick {
    pub async fn start() -> FakeClick {
        Self::with(FakeState::default()).await
    }

    pub async fn with(state: FakeState) -> FakeClick {
        let calls: Arc<Mutex<Vec<Call>>> = Arc::default();
        let state = Arc::new(Mutex::new(state));
        let (c1, s1) = (calls.clone(), state.clone());
        let (c2, s2) = (calls.clone(), state.clone());
        let (c3, s3) = (calls.clone(), state.clone());
        let router = Router::new()
            .route(
                "/v2/merchant/payment/reversal/{service_id}/{payment_id}",
                any(
                    move |method: Method,
                          uri: Uri,
                          headers: HeaderMap,
                          Path((_s, payment_id)): Path<(String, String)>| {
                        let (calls, state) = (c1.clone(), s1.clone());
                        async move {
                            if let Some(denied) =
                                record(&calls, method, &uri, &headers, Value::Null)
                            {
                                return denied;
                            }
                            let ((status, mut body), delay) = {
                                let s = state.lock().unwrap();
                                (s.reversal.clone(), s.reversal_delay)
                            };
                            tokio::time::sleep(delay).await;
                            if body["error_code"] == 0 {
                                body["payment_id"] = json!(payment_id.parse::<i64>().unwrap());
                            }
                            (status, Json(body)).into_response()
                        }
                    },
                ),
            )
            .route(
                "/v2/merchant/payment/ofd_data/{service_id}/{payment_id}",
                get(
                    move |uri: Uri,
                          headers: HeaderMap,
                          Path((service_id, payment_id)): Path<(String, i64)>| {
                        let (calls, state) = (c2.clone(), s2.clone());
                        async move {
                            if let Some(denied) =
                                record(&calls, Method::GET, &uri, &headers, Value::Null)
                            {
                                return denied;
                            }
                            let s = state.lock().unwrap();
                            if let Some(status) = s.ofd_get_status {
                                return status.into_response();
                            }
                            if service_id != CLICK_SERVICE_ID.to_string() {
                                return Json(json!({"error_code": -8, "error_note": "service_id"}))
                                    .into_response();
                            }
                            let url = s.receipts.get(&payment_id).cloned();
                            Json(json!({"paymentId": payment_id, "qrCodeURL": url})).into_response()
                        }
                    },
                ),
            )
            .route(
                "/v2/merchant/payment/ofd_data/submit_items",
                post(move |uri: Uri, headers: HeaderMap, bytes: Bytes| {
                    let (calls, state) = (c3.clone(), s3.clone());
                    async move {
                        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                        if let Some(denied) =
                            record(&calls, Method::POST, &uri, &headers, body.clone())
                        {
                            return denied;
                        }
                        if headers.get("content-type").map(|v| v.as_bytes())
                            != Some(b"application/json")
                        {
                            state.lock().unwrap().problems.push("Content-Type".into());
                        }
                        let problems = check_submit(&body);
                        if !problems.is_empty() {
                            let note = problems.join("; ");
                            state.lock().unwrap().problems.extend(problems);
                            return Json(json!({"error_code": -8, "error_note": note}))
                                .into_response();
                        }
                        let payment_id = body["payment_id"].as_i64().unwrap();
                        let next = state
                            .lock()
                            .unwrap()
                            .submits
                            .pop_front()
                            .unwrap_or(Submit::Accept);
                        let ok = Json(json!({"error_code": 0, "error_note": "Success"}));
                        match next {
                            Submit::Accept => {
                                state
                                    .lock()
                                    .unwrap()
                                    .receipts
                                    .insert(payment_id, receipt_url(payment_id));
                                ok.into_response()
                            }
                            Submit::AcceptLate(delay) => {
                                state
                                    .lock()
                                    .unwrap()
                                    .receipts
                                    .insert(payment_id, receipt_url(payment_id));
                                tokio::time::sleep(delay).await;
                                ok.into_response()
                            }
                            Submit::Reply(status, body) => (status, Json(body)).into_response(),
                        }
                    }
                }),
            );
        FakeClick {
            base: fake_server(router).await.0,
            calls,
            state,
        }
    }

    /// The `[click.api]` lines pointing the app at this fake.
    pub fn config(&self) -> String {
        format!(
            "[click.api]\nbase_url = \"{}/v2/merchant/\"\ntimeout_secs = 2\n",
            self.base
        )
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// `METHOD path` of every call, in order.
    pub fn lines(&self) -> Vec<String> {
        self.calls()
            .iter()
            .map(|c| format!("{} {}", c.method, c.path))
            .collect()
    }

    pub fn posts(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == Method::POST)
            .collect()
    }

    pub fn problems(&self) -> Vec<String> {
        self.state.lock().unwrap().problems.clone()
    }

    pub fn hold_receipt(&self, payment_id: i64) {
        self.state
            .lock()
            .unwrap()
            .receipts
            .insert(payment_id, receipt_url(payment_id));
    }

    pub fn then_submit(&self, s: Submit) {
        self.state.lock().unwrap().submits.push_back(s);
    }
}

/// Record the call; `Some(401)` when its `Auth` header is not the one click.md §10 defines.
fn record(
    calls: &Mutex<Vec<Call>>,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Value,
) -> Option<Response> {
    calls.lock().unwrap().push(Call {
        method,
        path: uri.path().to_string(),
        headers: headers.clone(),
        body,
    });
    let auth = headers
        .get("auth")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ts: i64 = auth
        .rsplit(':')
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let signed = auth == click_api::auth_header(CLICK_MERCHANT_USER_ID, CLICK_SECRET, ts);
    let accepts_json = headers.get("accept").map(|v| v.as_bytes()) == Some(b"application/json");
    if ts > 0 && signed && accepts_json {
        None
    } else {
        Some(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error_code": -1, "error_note": "Authorization failed"})),
            )
                .into_response(),
        )
    }
}

fn digits(v: &Value, lens: &[usize]) -> bool {
    v.as_str()
        .is_some_and(|s| lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
}

/// Click's `submit_items` body rules (click.md 10a): integer tiyin, `GoodPrice × Amount =
/// Price`, VAT inside the price rounded half up, the mandatory fields, the seller's TIN or
/// PINFL, and the `received_*` split adding up to the items.
pub fn check_submit(b: &Value) -> Vec<String> {
    let mut p = Vec::new();
    if b["service_id"].as_u64() != Some(CLICK_SERVICE_ID) {
        p.push(format!("service_id {}", b["service_id"]));
    }
    if b["payment_id"].as_i64().is_none() {
        p.push(format!("payment_id {}", b["payment_id"]));
    }
    let items = b["items"].as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        p.push("items".into());
    }
    let mut total = 0;
    for (n, i) in items.iter().enumerate() {
        let int = |k: &str| i[k].as_i64();
        match i["Name"].as_str() {
            Some(s) if !s.is_empty() && s.chars().count() <= 63 => {}
            _ => p.push(format!("items[{n}].Name")),
        }
        if !digits(&i["SPIC"], &[17]) {
            p.push(format!("items[{n}].SPIC"));
        }
        if !i["PackageCode"].is_string() {
            p.push(format!("items[{n}].PackageCode"));
        }
        let (Some(price), Some(amount), Some(vat), Some(pct)) =
            (int("Price"), int("Amount"), int("VAT"), int("VATPercent"))
        else {
            p.push(format!(
                "items[{n}]: Price, Amount, VAT, VATPercent must be integers"
            ));
            continue;
        };
        if amount < 1 || price < 1 {
            p.push(format!("items[{n}]: Amount {amount}, Price {price}"));
        }
        if let Some(good) = int("GoodPrice") {
            if good * amount != price {
                p.push(format!("items[{n}]: GoodPrice × Amount ≠ Price"));
            }
        } else if !i["GoodPrice"].is_null() {
            p.push(format!("items[{n}].GoodPrice"));
        }
        let den = 100 + pct;
        if vat != (price * pct * 2 + den) / (2 * den) {
            p.push(format!("items[{n}].VAT {vat} for Price {price} at {pct}%"));
        }
        let ci = &i["CommissionInfo"];
        if !(digits(&ci["TIN"], &[9]) || digits(&ci["PINFL"], &[14])) {
            p.push(format!("items[{n}].CommissionInfo"));
        }
        if !i["Units"].is_null() && i["Units"].as_i64().is_none() {
            p.push(format!("items[{n}].Units"));
        }
        total += price;
    }
    let rec = |k: &str| b[k].as_i64();
    match (
        rec("received_ecash"),
        rec("received_cash"),
        rec("received_card"),
    ) {
        (Some(e), Some(c), Some(card)) if e + c + card == total => {}
        _ => p.push("received_* do not add up to the items".into()),
    }
    p
}
