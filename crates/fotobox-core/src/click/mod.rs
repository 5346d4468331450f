//! Click SHOP API callback endpoints: `POST /api/click/prepare` and `/api/click/complete`
//! (click.md). Click posts a form; we answer a flat JSON object with HTTP 200, always.
//!
//! Processing order (click.md §8 [rec]):
//! * Prepare: required fields (-8) → `service_id` ours (-8) → signature (-1) → action 0 (-3) →
//!   order exists (-5) → paid (-4) → cancelled or expired (-9) → amount (-2) → Click `error<0`
//!   (-9) → upsert the attempt keyed by `click_trans_id` → 0.
//! * Complete: required fields incl. `merchant_prepare_id` (-8) → `service_id` (-8) →
//!   signature (-1) → action 1 (-3) → order exists (-5) → prepare id of this order and this
//!   `click_trans_id` (-6) → paid (-4) → cancelled (-9) → Click `error<0`: cancel, -9 →
//!   amount (-2) → mark paid → 0.
//!
//! Everything after the signature check runs inside one `BEGIN IMMEDIATE` transaction that also
//! appends the `payment_events` row; it commits before the answer is sent, and the status event
//! is published only after the commit. A transaction that prepares, confirms or cancels an
//! attempt appends its second copy to the payment journal just before it commits
//! (`maintenance::journal::commit`). A storage (or journal) failure is -7.

pub mod amount;
pub mod form;
pub mod sign;
pub mod simulator;

use serde_json::{json, Value};

use crate::context::AppContext;
use crate::maintenance::journal;
use crate::orders::{self, Payability};
use fotobox_store::click as c;
use fotobox_store::model::{Payment, PaymentStatus, Provider};
use fotobox_store::payments as q;
use fotobox_store::StoreError;

use amount::{parse_tiyin, AmountError};
use form::Form;
use sign::SignFields;

pub const PREPARE_PATH: &str = "/api/click/prepare";
pub const COMPLETE_PATH: &str = "/api/click/complete";

/// The `error` codes we answer (click.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClickCode {
    Success,
    SignCheckFailed,
    IncorrectAmount,
    ActionNotFound,
    AlreadyPaid,
    UserDoesNotExist,
    TransactionDoesNotExist,
    FailedToUpdate,
    BadRequest,
    TransactionCancelled,
}

impl ClickCode {
    pub fn code(self) -> i64 {
        match self {
            ClickCode::Success => 0,
            ClickCode::SignCheckFailed => -1,
            ClickCode::IncorrectAmount => -2,
            ClickCode::ActionNotFound => -3,
            ClickCode::AlreadyPaid => -4,
            ClickCode::UserDoesNotExist => -5,
            ClickCode::TransactionDoesNotExist => -6,
            ClickCode::FailedToUpdate => -7,
            ClickCode::BadRequest => -8,
            ClickCode::TransactionCancelled => -9,
        }
    }

    /// The canonical `error_note` of click.md §7.
    pub fn note(self) -> &'static str {
        match self {
            ClickCode::Success => "Success",
            ClickCode::SignCheckFailed => "SIGN CHECK FAILED!",
            ClickCode::IncorrectAmount => "Incorrect parameter amount",
            ClickCode::ActionNotFound => "Action not found",
            ClickCode::AlreadyPaid => "Already paid",
            ClickCode::UserDoesNotExist => "User does not exist",
            ClickCode::TransactionDoesNotExist => "Transaction does not exist",
            ClickCode::FailedToUpdate => "Failed to update user",
            ClickCode::BadRequest => "Error in request from click",
            ClickCode::TransactionCancelled => "Transaction cancelled",
        }
    }
}

/// Which URL was called; each handles exactly one `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Prepare,
    Complete,
}

impl Endpoint {
    fn action(self) -> i64 {
        match self {
            Endpoint::Prepare => 0,
            Endpoint::Complete => 1,
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            Endpoint::Prepare => "prepare",
            Endpoint::Complete => "complete",
        }
    }
}

/// The answer to a body that could not be read (over the limit or cut off): `-8`.
pub fn unreadable_body(ep: Endpoint) -> Value {
    reply(ep, &Echo::default(), ClickCode::BadRequest, None)
}

/// What is echoed back: the ids when they were parseable.
#[derive(Debug, Default, Clone)]
struct Echo {
    click_trans_id: Option<i64>,
    merchant_trans_id: Option<String>,
}

/// Build the flat JSON answer. `id` is the `merchant_prepare_id` (Prepare, success only) or the
/// `merchant_confirm_id` (Complete; null unless success).
fn reply(ep: Endpoint, echo: &Echo, code: ClickCode, id: Option<i64>) -> Value {
    let mut m = serde_json::Map::new();
    if let Some(t) = echo.click_trans_id {
        m.insert("click_trans_id".into(), json!(t));
    }
    if let Some(t) = &echo.merchant_trans_id {
        m.insert("merchant_trans_id".into(), json!(t));
    }
    match ep {
        Endpoint::Prepare => {
            if let (ClickCode::Success, Some(id)) = (code, id) {
                m.insert("merchant_prepare_id".into(), json!(id));
            }
        }
        Endpoint::Complete => {
            let id = if code == ClickCode::Success { id } else { None };
            m.insert("merchant_confirm_id".into(), json!(id));
        }
    }
    m.insert("error".into(), json!(code.code()));
    m.insert("error_note".into(), json!(code.note()));
    Value::Object(m)
}

/// A callback whose fields are all present and well-formed (raw strings kept for the hash).
#[derive(Debug, Clone)]
pub struct ClickRequest<'a> {
    pub click_trans_id: i64,
    pub service_id: u64,
    pub click_paydoc_id: i64,
    pub merchant_trans_id: &'a str,
    /// Only for action 1.
    pub merchant_prepare_id: Option<i64>,
    /// `None` when the decimal is valid but no order can cost it (fractions of a tiyin).
    pub amount_tiyin: Option<i64>,
    pub amount_raw: &'a str,
    pub action: i64,
    pub error: i64,
    pub error_note: &'a str,
    pub sign: SignFields<'a>,
    pub sign_string: &'a str,
}

/// Plain decimal digits only (no sign, no spaces) as a non-negative i64.
fn parse_id(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Check presence and form of every required field (-8 when this fails).
pub fn parse_request(form: &Form) -> Option<ClickRequest<'_>> {
    let click_trans_id_raw = form.get("click_trans_id")?;
    let service_id_raw = form.get("service_id")?;
    let merchant_trans_id = form.get("merchant_trans_id").filter(|s| !s.is_empty())?;
    let amount_raw = form.get("amount")?;
    let action_raw = form.get("action")?;
    let sign_time = form.get("sign_time").filter(|s| !s.is_empty())?;
    let sign_string = form.get("sign_string").filter(|s| !s.is_empty())?;
    let click_trans_id = parse_id(click_trans_id_raw)?;
    let service_id = u64::try_from(parse_id(service_id_raw)?).ok()?;
    let click_paydoc_id = parse_id(form.get("click_paydoc_id")?)?;
    let amount_tiyin = match parse_tiyin(amount_raw) {
        Ok(t) => Some(t),
        Err(AmountError::Unrepresentable) => None,
        Err(AmountError::Malformed) => return None,
    };
    let action = parse_int(action_raw)?;
    let error = parse_int(form.get("error")?)?;
    let error_note = form.get("error_note")?;
    let (merchant_prepare_id, prepare_raw) = if action == 1 {
        let raw = form.get("merchant_prepare_id")?;
        (Some(parse_id(raw)?), raw)
    } else {
        (None, "")
    };
    Some(ClickRequest {
        click_trans_id,
        service_id,
        click_paydoc_id,
        merchant_trans_id,
        merchant_prepare_id,
        amount_tiyin,
        amount_raw,
        action,
        error,
        error_note,
        sign: SignFields {
            click_trans_id: click_trans_id_raw,
            service_id: service_id_raw,
            merchant_trans_id,
            merchant_prepare_id: prepare_raw,
            amount: amount_raw,
            action: action_raw,
            sign_time,
            action_is_complete: action == 1,
        },
        sign_string,
    })
}

/// Handle one callback body; never fails, never panics: the answer is always a Click JSON.
/// Parsing and authentication run here, on the caller's task (bounded and cheap): a refused
/// request costs no task, no copy and no database access. An admitted one runs on its own task
/// (like Payme's methods): a client that disconnects cannot cut it between the commit and the
/// status event, and a bug that panics answers `-7`.
pub async fn process(ctx: &AppContext, ep: Endpoint, body: &[u8]) -> Value {
    let form = match Form::parse(body) {
        Ok(form) => form,
        Err(_) => {
            tracing::warn!(endpoint = ep.kind(), "click callback: malformed form body");
            return reply(ep, &Echo::default(), ClickCode::BadRequest, None);
        }
    };
    if let Err(answer) = admit(ctx, ep, &form) {
        return answer;
    }
    let (ctx2, body2) = (ctx.clone(), body.to_vec());
    match tokio::spawn(async move { process_here(&ctx2, ep, &body2).await }).await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::error!(endpoint = ep.kind(), error = %e, "click callback task failed");
            reply(ep, &Echo::default(), ClickCode::FailedToUpdate, None)
        }
    }
}

/// The request and its echo fields, or the answer for one that goes no further: malformed
/// (`-8`), not ours or wrongly signed (counted, logged at a bounded rate), the wrong action.
fn admit<'f>(
    ctx: &AppContext,
    ep: Endpoint,
    form: &'f Form,
) -> Result<(ClickRequest<'f>, Echo), Value> {
    let echo = Echo {
        click_trans_id: form.get("click_trans_id").and_then(parse_id),
        merchant_trans_id: form
            .get("merchant_trans_id")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    };
    let early = |code: ClickCode| {
        tracing::warn!(endpoint = ep.kind(), click_trans_id = ?echo.click_trans_id, order = ?echo.merchant_trans_id, error = code.code(), "click callback refused");
        reply(ep, &echo, code, None)
    };
    let Some(req) = parse_request(form) else {
        return Err(early(ClickCode::BadRequest));
    };
    // Authentication, before any database access: a refused callback writes nothing; it is
    // counted and logged at a bounded rate.
    let refused = |code: ClickCode| {
        if ctx
            .metrics
            .count_auth_failure("click", ctx.clock.now().timestamp())
        {
            tracing::warn!(
                endpoint = ep.kind(),
                error = code.code(),
                "click callback refused: not ours or wrong signature"
            );
        }
        reply(ep, &echo, code, None)
    };
    if req.service_id != ctx.config.click.service_id || !ctx.config.click_enabled() {
        return Err(refused(ClickCode::BadRequest));
    }
    if !sign::verify(
        &req.sign,
        ctx.config.click.secret_key.expose(),
        req.sign_string,
    ) {
        return Err(refused(ClickCode::SignCheckFailed));
    }
    if req.action != ep.action() {
        return Err(early(ClickCode::ActionNotFound));
    }
    Ok((req, echo))
}

/// An admitted callback (parsed and authenticated again here: cheap and deterministic).
async fn process_here(ctx: &AppContext, ep: Endpoint, body: &[u8]) -> Value {
    let Ok(form) = Form::parse(body) else {
        return reply(ep, &Echo::default(), ClickCode::BadRequest, None);
    };
    let (req, echo) = match admit(ctx, ep, &form) {
        Ok(admitted) => admitted,
        Err(answer) => return answer,
    };
    let result = match ep {
        Endpoint::Prepare => db_prepare(ctx, &req, &form, &echo).await,
        Endpoint::Complete => db_complete(ctx, &req, &form, &echo).await,
    };
    match result {
        Ok((answer, publish)) => {
            if let Some((p, status)) = publish {
                orders::publish_status(ctx, &p, status);
            }
            tracing::info!(endpoint = ep.kind(), click_trans_id = req.click_trans_id, order = req.merchant_trans_id, error = ?answer.get("error"), "click callback");
            answer
        }
        Err(e) => {
            tracing::error!(endpoint = ep.kind(), click_trans_id = req.click_trans_id, order = req.merchant_trans_id, error = %e, "click callback: storage failed");
            reply(ep, &echo, ClickCode::FailedToUpdate, None)
        }
    }
}

type Decided = (Value, Option<(Payment, PaymentStatus)>);

fn amount_matches(req: &ClickRequest<'_>, p: &Payment) -> bool {
    req.amount_tiyin.is_some() && req.amount_tiyin == p.amount.to_tiyin()
}

async fn db_prepare(
    ctx: &AppContext,
    req: &ClickRequest<'_>,
    form: &Form,
    echo: &Echo,
) -> Result<Decided, StoreError> {
    let ep = Endpoint::Prepare;
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin_write().await?;
    let Some(p) = q::payment_by_order_id(&mut tx, req.merchant_trans_id).await? else {
        return Ok((reply(ep, echo, ClickCode::UserDoesNotExist, None), None));
    };
    let existing = c::by_click_trans_id(&mut tx, req.click_trans_id).await?;
    let mut changed = false;
    let (code, id) = if p.provider() != Some(Provider::Click) {
        // A Payme order is not a Click "user".
        (ClickCode::UserDoesNotExist, None)
    } else if existing.as_ref().is_some_and(|e| e.payment_id != p.id) {
        // Click reused one of its attempt ids for another order.
        (ClickCode::TransactionDoesNotExist, None)
    } else {
        match orders::payability(&mut tx, &p, now).await? {
            Payability::Paid => (ClickCode::AlreadyPaid, None),
            // An expired order is as good as cancelled (the sweeper will mark it so).
            Payability::Canceled | Payability::Expired => (ClickCode::TransactionCancelled, None),
            Payability::Payable if !amount_matches(req, &p) => (ClickCode::IncorrectAmount, None),
            Payability::Payable if req.error < 0 => (ClickCode::TransactionCancelled, None),
            Payability::Payable => match &existing {
                Some(e) if e.state == c::STATE_PREPARED => (ClickCode::Success, Some(e.id)),
                Some(e) if e.state == c::STATE_CONFIRMED => (ClickCode::AlreadyPaid, None),
                Some(_) => (ClickCode::TransactionCancelled, None),
                None => {
                    let row = c::insert_prepared(
                        &mut tx,
                        &c::NewClickTransaction {
                            click_trans_id: req.click_trans_id,
                            click_paydoc_id: req.click_paydoc_id,
                            payment_id: p.id,
                            amount_raw: req.amount_raw,
                            click_error: req.error,
                            click_error_note: req.error_note,
                            now,
                        },
                    )
                    .await?;
                    changed = true;
                    (ClickCode::Success, Some(row.id))
                }
            },
        }
    };
    let answer = reply(ep, echo, code, id);
    q::insert_event(
        &mut tx,
        p.id,
        "click",
        ep.kind(),
        &json!({"request": form.to_json(), "answer": answer}),
        now,
    )
    .await?;
    if changed {
        journal::commit(ctx, tx, p.id, "click:prepare").await?;
    } else {
        tx.commit().await?;
    }
    Ok((answer, None))
}

async fn db_complete(
    ctx: &AppContext,
    req: &ClickRequest<'_>,
    form: &Form,
    echo: &Echo,
) -> Result<Decided, StoreError> {
    let ep = Endpoint::Complete;
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin_write().await?;
    let Some(p) = q::payment_by_order_id(&mut tx, req.merchant_trans_id).await? else {
        return Ok((reply(ep, echo, ClickCode::UserDoesNotExist, None), None));
    };
    let attempt = match req.merchant_prepare_id {
        Some(id) => c::by_id(&mut tx, id).await?,
        None => None,
    }
    .filter(|a| a.payment_id == p.id && a.click_trans_id == req.click_trans_id);
    let mut publish = None;
    let mut changed = false;
    let (code, id) = match attempt {
        _ if p.provider() != Some(Provider::Click) => (ClickCode::UserDoesNotExist, None),
        None => (ClickCode::TransactionDoesNotExist, None),
        Some(_) if p.status() == PaymentStatus::Success => (ClickCode::AlreadyPaid, None),
        Some(a) if a.state == c::STATE_CONFIRMED => {
            // Cannot happen (confirming marks the order paid in the same transaction).
            tracing::error!(order = %p.order_id, "click attempt confirmed but the order is not paid");
            (ClickCode::AlreadyPaid, None)
        }
        Some(a) if a.state == c::STATE_CANCELLED || p.status() == PaymentStatus::Canceled => {
            (ClickCode::TransactionCancelled, None)
        }
        Some(a) if req.error < 0 => {
            changed = c::cancel(&mut tx, a.id, req.error, req.error_note, now).await?;
            // Another attempt still prepared for this order may yet be paid: keep the order
            // pending then (the expiry sweeper ends it if nothing comes).
            let others_live = c::for_payment(&mut tx, p.id)
                .await?
                .iter()
                .any(|o| o.id != a.id && o.state == c::STATE_PREPARED);
            if !others_live {
                let reason = format!("click:{}", req.error);
                if q::mark_canceled(&mut tx, p.id, &reason, None, now).await? {
                    let after = q::payment_by_id(&mut tx, p.id)
                        .await?
                        .unwrap_or_else(|| p.clone());
                    publish = Some((after, PaymentStatus::Canceled));
                }
            }
            (ClickCode::TransactionCancelled, None)
        }
        Some(_) if !amount_matches(req, &p) => (ClickCode::IncorrectAmount, None),
        Some(a) => {
            let confirmed = c::confirm(&mut tx, a.id, req.error, req.error_note, now).await?;
            let paid =
                q::mark_success(&mut tx, p.id, &req.click_trans_id.to_string(), None, now).await?;
            if !(confirmed && paid) {
                return Err(StoreError::Invalid(format!(
                    "click attempt {} or order {} changed under the write lock",
                    a.id, p.order_id
                )));
            }
            let after = q::payment_by_id(&mut tx, p.id)
                .await?
                .unwrap_or_else(|| p.clone());
            publish = Some((after, PaymentStatus::Success));
            changed = true;
            (ClickCode::Success, Some(a.id))
        }
    };
    let answer = reply(ep, echo, code, id);
    q::insert_event(
        &mut tx,
        p.id,
        "click",
        ep.kind(),
        &json!({"request": form.to_json(), "answer": answer}),
        now,
    )
    .await?;
    if changed {
        journal::commit(ctx, tx, p.id, "click:complete").await?;
    } else {
        tx.commit().await?;
    }
    Ok((answer, publish))
}
