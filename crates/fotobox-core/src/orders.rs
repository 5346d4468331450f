//! Orders: pricing, creation with a payment link and QR, status, customer cancel and expiry.
//! These are the core functions behind both doors (REST API and Tauri commands).

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde::Serialize;

use crate::context::AppContext;
use crate::error::{DomainError, ErrorKind};
use crate::paylink::{self, Lang};
use fotobox_render::qr;
use fotobox_store::model::{Payment, PaymentStatus, Provider, StatusEvent};
use fotobox_store::{payments as q, StoreError, Sum};

/// Crockford base32: no I, L, O, U, so an id read out loud is unambiguous.
const ORDER_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The most a staff/legacy order may cost (whole sum).
pub const MAX_AMOUNT: i64 = 100_000_000;

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("order {0} not found")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    /// Out of service for now (the database cannot be written): try again later.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Qr(#[from] qr::QrError),
}

impl DomainError for OrderError {
    fn kind(&self) -> ErrorKind {
        match self {
            OrderError::NotFound(_) => ErrorKind::NotFound,
            OrderError::Invalid(_) => ErrorKind::Invalid,
            OrderError::Conflict(_) => ErrorKind::Conflict,
            OrderError::Unavailable(_) => ErrorKind::Unavailable,
            // A disk that is full or failed may work later (the kiosk stops selling meanwhile).
            OrderError::Store(e) if e.write_failure().is_some() => ErrorKind::Unavailable,
            // A storage failure during an order is never the caller's fault.
            OrderError::Store(_) | OrderError::Qr(_) => ErrorKind::Internal,
        }
    }
}

impl From<sqlx::Error> for OrderError {
    fn from(e: sqlx::Error) -> Self {
        OrderError::Store(StoreError::Db(e))
    }
}

/// When an order created at `now` stops waiting for a payment to start (`orders.ttl_seconds`).
pub fn deadline(ctx: &AppContext, now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::seconds(ctx.config.orders.ttl_seconds as i64)
}

/// What the customer (or staff) asks for.
#[derive(Debug, Clone)]
pub enum OrderRequest {
    /// Kiosk order: the price comes from `[pricing]`.
    Priced {
        provider: Provider,
        template: String,
        copies: i64,
    },
    /// Staff / legacy order with an explicit amount (whole sum).
    Amount { provider: Provider, amount: i64 },
}

/// An order as the UI sees it (the legacy `generate-qr` answer plus template and copies).
#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub order_id: String,
    pub payment_type: Provider,
    pub amount: Sum,
    pub status: PaymentStatus,
    pub pay_url: String,
    pub qr_svg: String,
    pub expires_at: DateTime<Utc>,
    pub template: Option<String>,
    pub copies: i64,
}

/// The status answer (`GET /api/payment-status/{order_id}`).
#[derive(Debug, Clone, Serialize)]
pub struct StatusView {
    pub order_id: String,
    pub status: PaymentStatus,
    pub amount: Sum,
    pub payment_type: Provider,
    pub template: Option<String>,
    pub copies: i64,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub perform_time: Option<DateTime<Utc>>,
    pub cancel_time: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
}

impl From<&Payment> for StatusView {
    fn from(p: &Payment) -> Self {
        StatusView {
            order_id: p.order_id.clone(),
            status: p.status(),
            amount: p.amount,
            payment_type: p.payment_type,
            template: p.template_name.clone(),
            copies: p.copies,
            created_at: p.created_at,
            expires_at: p.expires_at,
            perform_time: p.perform_time,
            cancel_time: p.cancel_time,
            cancel_reason: p.cancel_reason.clone(),
        }
    }
}

/// Whether a provider may start paying an order now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payability {
    Payable,
    /// Pending but past its waiting time with no provider transaction under way.
    Expired,
    Paid,
    Canceled,
}

/// Decide payability inside the caller's write transaction. A provider transaction that is
/// already under way keeps the order payable past its expiry (it must end performed or cancelled).
pub async fn payability(
    conn: &mut sqlx::SqliteConnection,
    p: &Payment,
    now: DateTime<Utc>,
) -> Result<Payability, StoreError> {
    Ok(match p.status() {
        PaymentStatus::Success => Payability::Paid,
        PaymentStatus::Canceled => Payability::Canceled,
        PaymentStatus::Pending => {
            if now >= p.expires_at && !q::has_live_provider_tx(conn, p.id).await? {
                Payability::Expired
            } else {
                Payability::Payable
            }
        }
    })
}

/// A fresh order id: `XXXX-XXXX` from 40 random bits, readable and not guessable.
pub fn new_order_id() -> String {
    let mut rng = rand::rng();
    let mut s = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            s.push('-');
        }
        s.push(ORDER_ALPHABET[rng.random_range(0..ORDER_ALPHABET.len())] as char);
    }
    s
}

/// The price of `copies` prints of `template` (whole sum).
/// STAFF PANEL: prices saved in the panel (table `staff_prices`, newest row) override
/// `[pricing]` from the config; `pricing::effective_pricing` merges the two. Only new orders are
/// priced here, so a change never touches an existing order's amount.
pub async fn price(ctx: &AppContext, template: &str, copies: i64) -> Result<i64, OrderError> {
    let pricing = crate::pricing::effective_pricing(ctx).await?;
    let base = pricing.layouts.get(template).ok_or_else(|| {
        OrderError::Invalid(format!(
            "unknown template {template:?}; known: {}",
            pricing
                .layouts
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    if copies < 1 || copies as u64 > pricing.max_copies {
        return Err(OrderError::Invalid(format!(
            "copies must be between 1 and {}",
            pricing.max_copies
        )));
    }
    Ok(base + pricing.extra_copy * (copies - 1))
}

/// The payment link the order's QR encodes, opening the provider's page in `lang` where the
/// provider has a language parameter (Payme's `l`; Click has none).
/// The customer's language as a door received it (`None`: the default, Uzbek). One rule for the
/// REST API and the Tauri command.
pub fn customer_lang(v: Option<&str>) -> Result<Lang, OrderError> {
    match v {
        None => Ok(Lang::default()),
        Some(l) => Lang::parse(l).ok_or_else(|| {
            let shown: String = l.chars().take(40).collect();
            OrderError::Invalid(format!(
                "lang must be \"uz\", \"ru\" or \"en\", got {shown:?}"
            ))
        }),
    }
}

pub fn pay_url(ctx: &AppContext, p: &Payment, lang: Lang) -> String {
    match p.provider() {
        Some(Provider::Click) => paylink::click_link(&ctx.config, &p.order_id, p.amount),
        _ => paylink::payme_link(&ctx.config, &p.order_id, p.amount, lang),
    }
}

/// Create an order and its QR code (the provider's page in Uzbek).
pub async fn create_order(ctx: &AppContext, req: OrderRequest) -> Result<OrderView, OrderError> {
    create_order_in(ctx, req, Lang::default()).await
}

/// Create an order and its QR code, the provider's page in the customer's language.
pub async fn create_order_in(
    ctx: &AppContext,
    req: OrderRequest,
    lang: Lang,
) -> Result<OrderView, OrderError> {
    // No new payment while the tunnel is down: a customer must not pay into a void (maintenance).
    crate::maintenance::tunnel::accepting_payments(ctx)
        .map_err(|why| OrderError::Conflict(format!("out of service: {why}")))?;
    // Nor while the database cannot be written: the order and its payment could not be kept.
    crate::maintenance::writable::accepting_orders(ctx)
        .map_err(|why| OrderError::Unavailable(format!("out of service: {why}")))?;
    let (provider, template, copies, amount) = match req {
        OrderRequest::Priced {
            provider,
            template,
            copies,
        } => {
            let amount = price(ctx, &template, copies).await?;
            // A kiosk order must be printable: no QR while the printer is not ready or the
            // paper left is below the copies (the page shows "out of service" first; this
            // holds even for a page that skips the check).
            let ready = crate::photos::readiness_now(ctx, copies)
                .await
                .map_err(|e| OrderError::Conflict(format!("out of service: {e}")))?;
            if let Some(why) = ready.reason {
                return Err(OrderError::Conflict(format!("out of service: {why}")));
            }
            (provider, Some(template), copies, amount)
        }
        OrderRequest::Amount { provider, amount } => {
            if !(1..=MAX_AMOUNT).contains(&amount) {
                return Err(OrderError::Invalid(format!(
                    "amount must be a whole number of sum between 1 and {MAX_AMOUNT}"
                )));
            }
            (provider, None, 1, amount)
        }
    };
    let enabled = match provider {
        Provider::Payme => ctx.config.payme_enabled(),
        Provider::Click => ctx.config.click_enabled(),
    };
    if !enabled {
        return Err(OrderError::Invalid(format!(
            "{} is not configured on this kiosk",
            provider.as_str()
        )));
    }
    let now = ctx.clock.now();
    let expires_at = deadline(ctx, now);
    let mut tx = ctx.store.begin_write().await?;
    // A collision in 2^40 ids is unlikely but possible: retry with a new id.
    let mut attempt = 0;
    let payment = loop {
        let order_id = new_order_id();
        let row = q::insert_payment(
            &mut tx,
            &q::NewPayment {
                order_id: &order_id,
                amount: Sum::new(amount),
                payment_type: provider,
                template_name: template.as_deref(),
                copies,
                expires_at,
                now,
            },
        )
        .await;
        match row {
            Ok(p) => break p,
            Err(e) if e.is_unique_violation() && attempt < 5 => attempt += 1,
            Err(e) => return Err(e.into()),
        }
    };
    q::insert_event(
        &mut tx,
        payment.id,
        "kiosk",
        "create",
        &serde_json::json!({"amount": amount, "template": template, "copies": copies}),
        now,
    )
    .await?;
    tx.commit().await?;
    let url = pay_url(ctx, &payment, lang);
    Ok(OrderView {
        qr_svg: qr::render_svg(&url)?,
        pay_url: url,
        order_id: payment.order_id,
        payment_type: payment.payment_type,
        amount: Sum::new(amount),
        status: PaymentStatus::Pending,
        expires_at,
        template,
        copies,
    })
}

/// The current status; an unpaid order past its time is expired on the way.
pub async fn payment_status(ctx: &AppContext, order_id: &str) -> Result<StatusView, OrderError> {
    let p = ctx
        .store
        .payment_by_order_id(order_id)
        .await?
        .ok_or_else(|| OrderError::NotFound(order_id.to_string()))?;
    if p.is_past_expiry(ctx.clock.now()) {
        if let Some(expired) = expire_one(ctx, order_id).await? {
            return Ok(StatusView::from(&expired));
        }
    }
    Ok(StatusView::from(&p))
}

/// The QR code of an existing order as PNG bytes.
pub async fn qr_png(ctx: &AppContext, order_id: &str) -> Result<Vec<u8>, OrderError> {
    let p = ctx
        .store
        .payment_by_order_id(order_id)
        .await?
        .ok_or_else(|| OrderError::NotFound(order_id.to_string()))?;
    Ok(qr::render_png(&pay_url(ctx, &p, Lang::default()))?)
}

fn publish(ctx: &AppContext, p: &Payment, status: PaymentStatus) {
    ctx.events.publish(StatusEvent {
        order_id: p.order_id.clone(),
        status,
        amount: p.amount,
        payment_type: p.payment_type,
    });
}

/// The customer cancels a waiting order (Back, timeout). Exactly one of this and a provider
/// callback wins: both run in `BEGIN IMMEDIATE` transactions. A paid order, or one with a
/// payment under way, is never cancelled by the kiosk. Cancelling twice is fine.
pub async fn cancel_order(ctx: &AppContext, order_id: &str) -> Result<StatusView, OrderError> {
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin_write().await?;
    let p = q::payment_by_order_id(&mut tx, order_id)
        .await?
        .ok_or_else(|| OrderError::NotFound(order_id.to_string()))?;
    match p.status() {
        PaymentStatus::Canceled => return Ok(StatusView::from(&p)),
        PaymentStatus::Success => {
            return Err(OrderError::Conflict(format!(
                "order {order_id} is paid and cannot be cancelled"
            )))
        }
        PaymentStatus::Pending => {}
    }
    if q::has_live_provider_tx(&mut tx, p.id).await? {
        return Err(OrderError::Conflict(format!(
            "a payment for order {order_id} is under way; it cannot be cancelled now"
        )));
    }
    q::mark_canceled(&mut tx, p.id, "customer", None, now).await?;
    q::insert_event(
        &mut tx,
        p.id,
        "kiosk",
        "cancel",
        &serde_json::json!({"reason": "customer"}),
        now,
    )
    .await?;
    let after = q::payment_by_id(&mut tx, p.id).await?.unwrap_or(p);
    tx.commit().await?;
    publish(ctx, &after, PaymentStatus::Canceled);
    Ok(StatusView::from(&after))
}

async fn expire_one(ctx: &AppContext, order_id: &str) -> Result<Option<Payment>, OrderError> {
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin_write().await?;
    let Some(p) = q::payment_by_order_id(&mut tx, order_id).await? else {
        return Ok(None);
    };
    if payability(&mut tx, &p, now).await? != Payability::Expired {
        return Ok(None);
    }
    q::mark_canceled(&mut tx, p.id, "expired", None, now).await?;
    q::insert_event(
        &mut tx,
        p.id,
        "system",
        "expire",
        &serde_json::json!({}),
        now,
    )
    .await?;
    let after = q::payment_by_id(&mut tx, p.id).await?.unwrap_or(p);
    tx.commit().await?;
    publish(ctx, &after, PaymentStatus::Canceled);
    Ok(Some(after))
}

/// Cancel every unpaid order past its time that no provider transaction holds. Returns how many.
pub async fn expire_due(ctx: &AppContext) -> Result<usize, OrderError> {
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin_write().await?;
    // Click attempts prepared but never completed stop holding their orders after
    // `click.prepare_timeout_secs`: a late Complete is then answered -9 and Click refunds.
    let stale_before = now - Duration::seconds(ctx.config.click.prepare_timeout_secs as i64);
    for a in fotobox_store::click::stale_prepared(&mut tx, stale_before).await? {
        if fotobox_store::click::expire_prepared(&mut tx, a.id, now).await? {
            q::insert_event(
                &mut tx,
                a.payment_id,
                "system",
                "click_prepare_expired",
                &serde_json::json!({"click_trans_id": a.click_trans_id, "prepared_at": a.prepared_at}),
                now,
            )
            .await?;
        }
    }
    let due = q::expired_unheld(&mut tx, now).await?;
    for p in &due {
        q::mark_canceled(&mut tx, p.id, "expired", None, now).await?;
        q::insert_event(
            &mut tx,
            p.id,
            "system",
            "expire",
            &serde_json::json!({}),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    for p in &due {
        publish(ctx, p, PaymentStatus::Canceled);
    }
    Ok(due.len())
}

/// Publish a status change after a provider module committed it.
pub fn publish_status(ctx: &AppContext, p: &Payment, status: PaymentStatus) {
    publish(ctx, p, status);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_are_short_readable_and_distinct() {
        let ids: std::collections::HashSet<String> = (0..10_000).map(|_| new_order_id()).collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(100) {
            assert_eq!(id.len(), 9);
            assert_eq!(&id[4..5], "-");
            assert!(id
                .chars()
                .all(|c| c == '-' || ORDER_ALPHABET.contains(&(c as u8))));
        }
    }
}
