//! The Merchant API methods (payme.md §4). Each state change, the payment change it causes and
//! its `payment_events` row are written in one `BEGIN IMMEDIATE` transaction, committed before
//! the answer is built, with its second copy appended to the payment journal just before the
//! commit (`maintenance::journal::commit`; no journal, no commit: a system error); status events
//! are published only after that commit.

use serde_json::{json, Map, Value};

use super::protocol::{self as p, code, RpcError, TX_TIMEOUT_MS};
use crate::context::AppContext;
use crate::maintenance::journal;
use crate::orders::{self, Payability};
use fotobox_store::model::{Payment, PaymentStatus};
use fotobox_store::payme::{self as q, PaymeTx};
use fotobox_store::payments as pay;
use fotobox_store::refunds;
use fotobox_store::{StoreError, WriteTx};

/// Why a method did not produce a result.
#[derive(Debug)]
pub enum Fail {
    Rpc(RpcError),
    Store(StoreError),
}

impl From<RpcError> for Fail {
    fn from(e: RpcError) -> Self {
        Fail::Rpc(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Store(e)
    }
}

impl From<sqlx::Error> for Fail {
    fn from(e: sqlx::Error) -> Self {
        Fail::Store(StoreError::Db(e))
    }
}

type MResult = Result<Value, Fail>;

/// The methods we implement (ChangePassword is deliberately absent: keys live in config).
pub const METHODS: &[&str] = &[
    "CheckPerformTransaction",
    "CreateTransaction",
    "PerformTransaction",
    "CancelTransaction",
    "CheckTransaction",
    "GetStatement",
    "SetFiscalData",
];

/// Run one method. `method` must be one of [`METHODS`].
pub async fn call(ctx: &AppContext, method: &str, params: &Map<String, Value>) -> MResult {
    match method {
        "CheckPerformTransaction" => check_perform(ctx, params).await,
        "CreateTransaction" => create(ctx, params).await,
        "PerformTransaction" => perform(ctx, params).await,
        "CancelTransaction" => cancel(ctx, params).await,
        "CheckTransaction" => check(ctx, params).await,
        "GetStatement" => statement(ctx, params).await,
        "SetFiscalData" => set_fiscal_data(ctx, params).await,
        other => Err(RpcError::new(code::METHOD_NOT_FOUND)
            .with_data(other)
            .into()),
    }
}

// ---- answers built from the stored row (so repeats are identical) ----

fn create_answer(t: &PaymeTx) -> Value {
    json!({"create_time": t.create_time_ms, "transaction": t.id.to_string(), "state": t.state})
}

fn perform_answer(t: &PaymeTx) -> Value {
    json!({"transaction": t.id.to_string(), "perform_time": t.perform_time_ms, "state": t.state})
}

fn cancel_answer(t: &PaymeTx) -> Value {
    json!({"transaction": t.id.to_string(), "cancel_time": t.cancel_time_ms, "state": t.state})
}

fn check_answer(t: &PaymeTx) -> Value {
    json!({
        "create_time": t.create_time_ms,
        "perform_time": t.perform_time_ms,
        "cancel_time": t.cancel_time_ms,
        "transaction": t.id.to_string(),
        "state": t.state,
        "reason": t.reason,
    })
}

fn is_timed_out(t: &PaymeTx, now_ms: i64) -> bool {
    now_ms.saturating_sub(t.payme_time_ms) >= TX_TIMEOUT_MS
}

fn event_detail(params: &Map<String, Value>, answer: &Result<Value, RpcError>) -> Value {
    match answer {
        Ok(r) => json!({"params": params, "result": r}),
        Err(e) => json!({"params": params, "error": e.to_json()}),
    }
}

/// The order an `account.order_id` names, if it is a Payme order.
async fn find_order(
    conn: &mut sqlx::SqliteConnection,
    order_id: Option<&str>,
) -> Result<Payment, Fail> {
    let Some(order_id) = order_id else {
        return Err(RpcError::account(code::ORDER_NOT_FOUND).into());
    };
    match pay::payment_by_order_id(conn, order_id).await? {
        Some(p) if p.payment_type == "payme" => Ok(p),
        _ => Err(RpcError::account(code::ORDER_NOT_FOUND).into()),
    }
}

/// Whether `amount` (tiyin) pays exactly the order's price (whole sum).
fn amount_matches(order: &Payment, amount: Option<i64>) -> bool {
    match (amount, order.amount.to_tiyin()) {
        (Some(a), Some(expected)) => a == expected,
        _ => false,
    }
}

/// The order can start a new Payme transaction now: -31051 when it is paid, cancelled or
/// expired; -31008 when another live transaction (Payme or Click) holds it.
/// Which method asks: CreateTransaction refuses an order held by another live Payme or Click
/// transaction (state 1 or 2, even when already performed) with -31008 (payme.md §4.2 table);
/// CheckPerformTransaction answers -31051 for a paid, cancelled or expired order (§4.1 [choice]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Asker {
    CheckPerform,
    Create,
}

async fn ensure_free(
    conn: &mut sqlx::SqliteConnection,
    order: &Payment,
    now: chrono::DateTime<chrono::Utc>,
    asker: Asker,
) -> Result<(), Fail> {
    if asker == Asker::Create && pay::has_live_provider_tx(conn, order.id).await? {
        return Err(RpcError::new(code::CANNOT_PERFORM).into());
    }
    match orders::payability(conn, order, now).await? {
        Payability::Paid | Payability::Canceled | Payability::Expired => {
            Err(RpcError::account(code::ORDER_NOT_PAYABLE).into())
        }
        Payability::Payable => {
            if pay::has_live_provider_tx(conn, order.id).await? {
                Err(RpcError::new(code::CANNOT_PERFORM).into())
            } else {
                Ok(())
            }
        }
    }
}

// ---- CheckPerformTransaction ----

async fn check_perform(ctx: &AppContext, params: &Map<String, Value>) -> MResult {
    let amount = p::amount_field(params)?;
    let order_id = p::order_id_field(params)?;
    let now = ctx.clock.now();
    let mut conn = ctx.store.pool().acquire().await?;
    let order = find_order(&mut conn, order_id.as_deref()).await?;
    if !amount_matches(&order, amount) {
        return Err(RpcError::new(code::WRONG_AMOUNT).into());
    }
    ensure_free(&mut conn, &order, now, Asker::CheckPerform).await?;
    let mut result = json!({"allow": true});
    if let Some(detail) = fiscal_detail(ctx, &order) {
        result["detail"] = detail;
    }
    Ok(result)
}

/// The fiscal receipt (`detail`) when `fiscal.ikpu_code` is configured (`[fiscal]`, or its old
/// `[payme.fiscal]` alias; a live start refuses without it). One line: the prints, `count` =
/// copies and `price` the unit price in tiyin (so price × count = amount); when the amount does
/// not divide evenly by the copies, one line of count 1 carries the total.
fn fiscal_detail(ctx: &AppContext, order: &Payment) -> Option<Value> {
    let f = &ctx.config.fiscal;
    let code = f.ikpu()?;
    let total = order.amount.to_tiyin()?;
    let copies = order.copies.max(1);
    let (price, count) = if total % copies == 0 {
        (total / copies, copies)
    } else {
        (total, 1)
    };
    let title = f.title_text().unwrap_or("Photo prints");
    let mut item = json!({
        "title": title,
        "price": price,
        "count": count,
        "code": code,
        "vat_percent": f.vat_percent.unwrap_or(0),
    });
    if let Some(pc) = f.package() {
        item["package_code"] = json!(pc);
    }
    if let Some(units) = f.units {
        item["units"] = json!(units);
    }
    Some(json!({"receipt_type": 0, "items": [item]}))
}

// ---- CreateTransaction ----

async fn create(ctx: &AppContext, params: &Map<String, Value>) -> MResult {
    let payme_id = p::payme_id(params)?;
    let time = p::time_field(params, "time")?;
    let amount = p::amount_field(params)?;
    let order_id = p::order_id_field(params)?;
    let now = ctx.clock.now();
    let now_ms = now.timestamp_millis();
    let mut tx = ctx.store.begin_write().await?;

    if let Some(t) = q::tx_by_payme_id(&mut tx, payme_id).await? {
        return match t.state {
            1 if is_timed_out(&t, now_ms) => {
                cancel_by_timeout(ctx, tx, &t, "CreateTransaction", params).await
            }
            // A repeat: exactly the stored answer, without re-validating the order.
            1 => Ok(create_answer(&t)),
            _ => Err(RpcError::new(code::CANNOT_PERFORM).into()),
        };
    }

    let order = find_order(&mut tx, order_id.as_deref()).await?;
    if !amount_matches(&order, amount) {
        return Err(RpcError::new(code::WRONG_AMOUNT).into());
    }
    ensure_free(&mut tx, &order, now, Asker::Create).await?;
    if now_ms.saturating_sub(time) >= TX_TIMEOUT_MS {
        return Err(RpcError::new(code::CANNOT_PERFORM).into());
    }
    let new = q::NewPaymeTx {
        payme_id,
        payment_id: order.id,
        payme_time_ms: time,
        amount_tiyin: order.amount.to_tiyin().unwrap_or(i64::MAX),
        create_time_ms: now_ms,
        now,
    };
    let t = match q::insert_tx(&mut tx, &new).await {
        Ok(t) => t,
        // The partial unique index: another live transaction holds the order.
        Err(e) if e.is_unique_violation() => return Err(RpcError::new(code::CANNOT_PERFORM).into()),
        Err(e) => return Err(e.into()),
    };
    pay::set_provider_state(&mut tx, order.id, Some(payme_id), Some(1), now).await?;
    let answer = create_answer(&t);
    pay::insert_event(
        &mut tx,
        order.id,
        "payme",
        "CreateTransaction",
        &event_detail(params, &Ok(answer.clone())),
        now,
    )
    .await?;
    journal::commit(ctx, tx, order.id, "payme:CreateTransaction").await?;
    tracing::info!(order_id = %order.order_id, payme_id, transaction = t.id, "payme transaction created");
    Ok(answer)
}

/// Cancel an expired state-1 transaction (state -1, reason 4), release the order, commit, and
/// answer -31008 (payme.md §7).
async fn cancel_by_timeout(
    ctx: &AppContext,
    mut tx: WriteTx,
    t: &PaymeTx,
    method: &str,
    params: &Map<String, Value>,
) -> MResult {
    let now = ctx.clock.now();
    let err = RpcError::new(code::CANNOT_PERFORM);
    if q::mark_cancelled(&mut tx, t.id, 1, 4, now.timestamp_millis())
        .await?
        .is_some()
    {
        pay::set_provider_state(&mut tx, t.payment_id, None, Some(-1), now).await?;
        let mut detail = event_detail(params, &Err(err.clone()));
        detail["timeout_cancel"] = json!({"state": -1, "reason": 4});
        pay::insert_event(&mut tx, t.payment_id, "payme", method, &detail, now).await?;
        journal::commit(ctx, tx, t.payment_id, "payme:timeout_cancel").await?;
        tracing::info!(payme_id = %t.payme_id, "payme transaction cancelled by the 12-hour timeout");
    }
    Err(err.into())
}

// ---- PerformTransaction ----

async fn perform(ctx: &AppContext, params: &Map<String, Value>) -> MResult {
    let payme_id = p::payme_id(params)?;
    let now = ctx.clock.now();
    let now_ms = now.timestamp_millis();
    let mut tx = ctx.store.begin_write().await?;
    let Some(t) = q::tx_by_payme_id(&mut tx, payme_id).await? else {
        return Err(RpcError::new(code::TX_NOT_FOUND).into());
    };
    match t.state {
        2 => return Ok(perform_answer(&t)),
        1 if is_timed_out(&t, now_ms) => {
            return cancel_by_timeout(ctx, tx, &t, "PerformTransaction", params).await
        }
        1 => {}
        _ => return Err(RpcError::new(code::CANNOT_PERFORM).into()),
    }
    // The order is held by this live transaction, so it is pending; if something else ended it
    // (staff), refuse rather than take money for an order we will not serve.
    if !pay::mark_success(&mut tx, t.payment_id, payme_id, Some(2), now).await? {
        return Err(RpcError::new(code::CANNOT_PERFORM).into());
    }
    let Some(done) = q::mark_performed(&mut tx, t.id, now_ms).await? else {
        return Err(RpcError::new(code::CANNOT_PERFORM).into());
    };
    let answer = perform_answer(&done);
    pay::insert_event(
        &mut tx,
        t.payment_id,
        "payme",
        "PerformTransaction",
        &event_detail(params, &Ok(answer.clone())),
        now,
    )
    .await?;
    let payment = pay::payment_by_id(&mut tx, t.payment_id).await?;
    journal::commit(ctx, tx, t.payment_id, "payme:PerformTransaction").await?;
    if let Some(payment) = payment {
        tracing::info!(order_id = %payment.order_id, payme_id, "payme transaction performed: order paid");
        orders::publish_status(ctx, &payment, PaymentStatus::Success);
    }
    Ok(answer)
}

// ---- CancelTransaction ----

async fn cancel(ctx: &AppContext, params: &Map<String, Value>) -> MResult {
    let payme_id = p::payme_id(params)?;
    let reason = p::int_field(params, "reason")?;
    let now = ctx.clock.now();
    let now_ms = now.timestamp_millis();
    let mut tx = ctx.store.begin_write().await?;
    let Some(t) = q::tx_by_payme_id(&mut tx, payme_id).await? else {
        return Err(RpcError::new(code::TX_NOT_FOUND).into());
    };
    match t.state {
        1 => {
            let Some(done) = q::mark_cancelled(&mut tx, t.id, 1, reason, now_ms).await? else {
                return Err(RpcError::system().into());
            };
            // Released: the order stays pending (it may still be paid, or expire).
            pay::set_provider_state(&mut tx, t.payment_id, None, Some(-1), now).await?;
            let answer = cancel_answer(&done);
            pay::insert_event(
                &mut tx,
                t.payment_id,
                "payme",
                "CancelTransaction",
                &event_detail(params, &Ok(answer.clone())),
                now,
            )
            .await?;
            journal::commit(ctx, tx, t.payment_id, "payme:CancelTransaction").await?;
            tracing::info!(
                payme_id,
                reason,
                "payme transaction cancelled before perform"
            );
            Ok(answer)
        }
        2 => {
            let Some(payment) = pay::payment_by_id(&mut tx, t.payment_id).await? else {
                return Err(RpcError::system().into());
            };
            // A staff refund window (`refunds`) lets the operator's cancel in the Payme
            // cabinet through even after printing; it is then the staff refund of the order.
            let window = refunds::open_window_for(&mut tx, payment.id, now).await?;
            if window.is_none()
                && (!ctx.config.payme.allow_refund || payment.fulfilled_at.is_some())
            {
                return Err(RpcError::new(code::CANNOT_CANCEL).into());
            }
            let Some(done) = q::mark_cancelled(&mut tx, t.id, 2, reason, now_ms).await? else {
                return Err(RpcError::system().into());
            };
            let cancel_reason = match &window {
                Some(_) => "staff:refund".to_string(),
                None => format!("payme:{reason}"),
            };
            pay::mark_canceled(&mut tx, payment.id, &cancel_reason, Some(-2), now).await?;
            let answer = cancel_answer(&done);
            let mut detail = event_detail(params, &Ok(answer.clone()));
            if let Some(w) = &window {
                refunds::close_window(&mut tx, w.id, reason, now).await?;
                detail["refund_window"] = json!(w.id);
            }
            pay::insert_event(
                &mut tx,
                t.payment_id,
                "payme",
                "CancelTransaction",
                &detail,
                now,
            )
            .await?;
            let after = pay::payment_by_id(&mut tx, t.payment_id).await?;
            journal::commit(ctx, tx, t.payment_id, "payme:CancelTransaction").await?;
            tracing::warn!(order_id = %payment.order_id, payme_id, reason, "PAYME REFUND: a performed transaction was cancelled; the order is cancelled");
            if let Some(after) = after {
                orders::publish_status(ctx, &after, PaymentStatus::Canceled);
            }
            Ok(answer)
        }
        // Already cancelled: the stored answer; the stored reason is kept.
        _ => Ok(cancel_answer(&t)),
    }
}

// ---- CheckTransaction ----

async fn check(ctx: &AppContext, params: &Map<String, Value>) -> MResult {
    let payme_id = p::payme_id(params)?;
    let mut conn = ctx.store.pool().acquire().await?;
    match q::tx_by_payme_id(&mut conn, payme_id).await? {
        Some(t) => Ok(check_answer(&t)),
        None => Err(RpcError::new(code::TX_NOT_FOUND).into()),
    }
}

// ---- GetStatement ----

async fn statement(ctx: &AppContext, params: &Map<String, Value>) -> MResult {
    let from = p::int_field(params, "from")?;
    let to = p::int_field(params, "to")?;
    if from < 0 {
        return Err(RpcError::invalid("from").into());
    }
    if to < from {
        return Err(RpcError::invalid("to").into());
    }
    let mut conn = ctx.store.pool().acquire().await?;
    let rows = q::statement(&mut conn, from, to).await?;
    let transactions: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            json!({
                "id": r.tx.payme_id,
                "time": r.tx.payme_time_ms,
                "amount": r.tx.amount_tiyin,
                "account": {"order_id": r.order_id},
                "create_time": r.tx.create_time_ms,
                "perform_time": r.tx.perform_time_ms,
                "cancel_time": r.tx.cancel_time_ms,
                "transaction": r.tx.id.to_string(),
                "state": r.tx.state,
                "reason": r.tx.reason,
                "receivers": null,
            })
        })
        .collect();
    Ok(json!({"transactions": transactions}))
}

// ---- SetFiscalData ----

fn opt_str<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

/// Longest `receipt_id` kept (characters).
const MAX_RECEIPT_ID: usize = 100;

/// Payme's `receipt_id`: a number or a string, kept as text (a number as its decimal text);
/// absent, null or blank is none; anything else is refused.
fn receipt_id(v: Option<&Value>) -> Result<Option<String>, RpcError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s))
            if s.trim().chars().count() <= MAX_RECEIPT_ID && !s.chars().any(char::is_control) =>
        {
            Ok(Some(s.trim().to_string()))
        }
        _ => Err(RpcError::invalid("receipt_id")),
    }
}

async fn set_fiscal_data(ctx: &AppContext, params: &Map<String, Value>) -> MResult {
    let payme_id = p::payme_id(params)?;
    let kind = p::str_field(params, "type", 10)?;
    if kind != "PERFORM" && kind != "CANCEL" {
        return Err(RpcError::invalid("type").into());
    }
    let Some(Value::Object(fd)) = params.get("fiscal_data") else {
        return Err(RpcError::invalid("fiscal_data").into());
    };
    let receipt = receipt_id(fd.get("receipt_id"))?;
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin_write().await?;
    let Some(t) = q::tx_by_payme_id(&mut tx, payme_id).await? else {
        return Err(RpcError::new(code::TX_NOT_FOUND).into());
    };
    let row = q::NewFiscalData {
        payme_id,
        kind,
        receipt_id: receipt.as_deref(),
        status_code: fd.get("status_code").and_then(Value::as_i64),
        message: opt_str(fd, "message"),
        terminal_id: opt_str(fd, "terminal_id"),
        fiscal_sign: opt_str(fd, "fiscal_sign"),
        qr_code_url: opt_str(fd, "qr_code_url"),
        fiscal_date: match fd.get("date") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        },
        raw_json: Value::Object(fd.clone()).to_string(),
    };
    q::insert_fiscal(&mut tx, &row, now).await?;
    let answer = json!({"success": true});
    pay::insert_event(
        &mut tx,
        t.payment_id,
        "payme",
        "SetFiscalData",
        &event_detail(params, &Ok(answer.clone())),
        now,
    )
    .await?;
    journal::commit(ctx, tx, t.payment_id, "payme:SetFiscalData").await?;
    Ok(answer)
}
