//! The hidden staff panel's logic, shared by its HTTP endpoints (`http::staff`), the CLI
//! (`fotobox staff set-pin`) and the Tauri shell (`window_key`, `exit_kiosk`):
//! PIN (argon2) with lockout, PIN sessions, audit trail, refunds, comps, price settings,
//! reprints, CSV export to a folder, backups with online restore, clear, devices, alerts.
//!
//! Invariants: the PIN is stored only as an argon2id hash; every attempt is logged; five wrong
//! PINs in a row lock the pad for five minutes (attempts are serialized, so parallel guesses
//! cannot slip past the count); a session token is stored only as its SHA-256 and dies after
//! `staff.idle_timeout_seconds` without a request or an hour after login; every staff action
//! that changes something is in `staff_audit` (append-only) in the same transaction as the
//! change; no staff action deletes data without a verified backup taken first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::StaffLanguage;
use crate::context::AppContext;
use crate::error::{DomainError, ErrorKind};
use crate::maintenance::journal;
use crate::orders::{self, OrderError};
use fotobox_store::model::{Payment, PaymentStatus, Provider};
use fotobox_store::payments as q;
use fotobox_store::staff::{self as sq, NewAudit};
use fotobox_store::{backup, ListFilter, StoreError, Sum};

/// Wrong PINs in a row before the pad locks.
pub const MAX_PIN_FAILURES: i64 = 5;
/// How long the pad stays locked the first time (5 wrong PINs).
pub const LOCKOUT: Duration = Duration::minutes(5);
/// The second lockout without a successful login in between.
pub const SECOND_LOCKOUT: Duration = Duration::minutes(30);
/// The third and every later one.
pub const LATER_LOCKOUT: Duration = Duration::hours(4);

/// How long the pad locks at the `n`-th lockout (1-based) since the last successful login.
pub fn lockout_for(n: i64) -> Duration {
    match n {
        ..=1 => LOCKOUT,
        2 => SECOND_LOCKOUT,
        _ => LATER_LOCKOUT,
    }
}
/// Longest life of a PIN session, however busy.
pub const SESSION_MAX: Duration = Duration::hours(1);
/// Cheapest layout price and most any price may be (whole sum).
pub const MIN_LAYOUT_PRICE: i64 = 1_000;
pub const MAX_PRICE: i64 = 10_000_000;

/// The staff setting holding the PIN hash (also read by `crate::doctor`).
pub const PIN_HASH_KEY: &str = "pin_hash";

/// Errors of panel actions, answered as `{"error": ...}` by `http::staff`.
#[derive(Debug, thiserror::Error)]
pub enum PanelError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("missing or wrong staff token or session")]
    Unauthorized,
    #[error("wrong PIN")]
    WrongPin { attempts_left: i64 },
    #[error("too many wrong PINs; the pad is locked until {until}")]
    Locked { until: DateTime<Utc> },
    #[error("no staff PIN is set: run `fotobox staff set-pin`")]
    NoPin,
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DomainError for PanelError {
    fn kind(&self) -> ErrorKind {
        match self {
            PanelError::Invalid(_) => ErrorKind::Invalid,
            PanelError::NotFound(_) => ErrorKind::NotFound,
            PanelError::Conflict(_) | PanelError::NoPin => ErrorKind::Conflict,
            PanelError::Unauthorized | PanelError::WrongPin { .. } => ErrorKind::Unauthorized,
            PanelError::Locked { .. } => ErrorKind::Locked,
            PanelError::Unavailable(_) => ErrorKind::Unavailable,
            PanelError::Store(e) => e.kind(),
        }
    }

    fn details(&self) -> Option<serde_json::Value> {
        match self {
            PanelError::WrongPin { attempts_left } => {
                Some(serde_json::json!({ "attempts_left": attempts_left }))
            }
            PanelError::Locked { until } => Some(serde_json::json!({ "locked_until": until })),
            _ => None,
        }
    }
}

impl From<OrderError> for PanelError {
    fn from(e: OrderError) -> Self {
        match e {
            OrderError::NotFound(id) => PanelError::NotFound(format!("order {id} not found")),
            OrderError::Invalid(m) => PanelError::Invalid(m),
            OrderError::Conflict(m) => PanelError::Conflict(m),
            OrderError::Unavailable(m) => PanelError::Unavailable(m),
            OrderError::Store(s) => PanelError::Store(s),
            other => PanelError::Store(StoreError::Invalid(other.to_string())),
        }
    }
}

impl From<sqlx::Error> for PanelError {
    fn from(e: sqlx::Error) -> Self {
        PanelError::Store(StoreError::Db(e))
    }
}

type Result<T> = std::result::Result<T, PanelError>;

/// Where a login came from: the kiosk's own Tauri window (PIN only) or a browser (token + PIN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Client {
    Window,
    Browser,
}

impl Client {
    pub fn as_str(self) -> &'static str {
        match self {
            Client::Window => "window",
            Client::Browser => "browser",
        }
    }
}

/// Who did a staff action (written into the audit trail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The static staff token (scripts, tests).
    Token,
    /// A PIN session.
    Pin(Client),
    /// The `fotobox` command line (whoever has a shell on the kiosk).
    Cli,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Token => "token",
            Actor::Pin(Client::Window) => "pin:window",
            Actor::Pin(Client::Browser) => "pin:browser",
            Actor::Cli => "cli",
        }
    }
}

// ---------------------------------------------------------------- PIN and sessions

/// Check the shape of a PIN: 4 to 12 digits.
pub fn validate_pin(pin: &str) -> Result<()> {
    if (4..=12).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(PanelError::Invalid("a PIN is 4 to 12 digits".into()))
    }
}

/// The argon2id PHC string of a PIN (default parameters, random salt).
pub fn hash_pin(pin: &str) -> Result<String> {
    validate_pin(pin)?;
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| PanelError::Store(StoreError::Invalid(format!("salt: {e}"))))?;
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PanelError::Store(StoreError::Invalid(format!("argon2: {e}"))))
}

fn verify_pin(pin: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(pin.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The PIN hash in force: the database's (set-pin, panel), else the config's.
pub async fn pin_hash(ctx: &AppContext) -> Result<Option<String>> {
    if let Some(h) = ctx.store.staff_setting(PIN_HASH_KEY).await? {
        return Ok(Some(h));
    }
    let cfg = &ctx.config.staff.pin_hash;
    Ok((!cfg.is_empty()).then(|| cfg.expose().to_string()))
}

/// Store a new PIN (hash only) and audit it.
pub async fn set_pin(ctx: &AppContext, pin: &str, actor: &str) -> Result<()> {
    let hash = hash_pin(pin)?;
    let now = ctx.clock.now();
    // The new hash and its audit entry commit together, or neither does.
    let mut tx = ctx.store.begin_write().await?;
    sq::put_setting(&mut tx, PIN_HASH_KEY, &hash, now).await?;
    sq::insert_audit(
        &mut tx,
        &NewAudit {
            action: "pin_set",
            actor,
            payment_id: None,
            order_id: None,
            reason: None,
            detail: serde_json::json!({}),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What the Tauri window presents to log in with the PIN alone: derived from the staff token
/// (so it changes with it) but useless anywhere else; the shell hands it to its own page only.
pub fn window_key(ctx: &AppContext) -> String {
    let mut h = Sha256::new();
    h.update(b"fotobox-staff-window\0");
    h.update(ctx.staff_token.expose().as_bytes());
    hex(&h.finalize())
}

/// Whether `key` is this kiosk's window key (constant time).
pub fn is_window_key(ctx: &AppContext, key: &str) -> bool {
    bool::from(key.as_bytes().ct_eq(window_key(ctx).as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn token_sha256(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A successful login.
#[derive(Debug, Clone, Serialize)]
pub struct Login {
    pub token: String,
    pub client: Client,
    pub expires_at: DateTime<Utc>,
    pub idle_timeout_seconds: u64,
}

/// Lockout state for the PIN pad.
#[derive(Debug, Clone, Serialize)]
pub struct PadState {
    pub locked_until: Option<DateTime<Utc>>,
    pub attempts_left: i64,
    pub pin_set: bool,
    /// `staff.language`: the pad's and panel's language until staff pick another one.
    pub language: StaffLanguage,
}

pub async fn pad_state(ctx: &AppContext) -> Result<PadState> {
    let l = ctx.store.staff_lockout().await?;
    let now = ctx.clock.now();
    let locked_until = l.locked_until.filter(|t| *t > now);
    Ok(PadState {
        locked_until,
        attempts_left: if locked_until.is_some() {
            0
        } else {
            MAX_PIN_FAILURES - l.failures
        },
        pin_set: pin_hash(ctx).await?.is_some(),
        language: ctx.config.staff.language,
    })
}

/// Record an attempt that never reached the PIN check (no staff token, no window key).
pub async fn record_refused_login(ctx: &AppContext) -> Result<()> {
    let mut c = ctx.store.pool().acquire().await?;
    sq::insert_attempt(
        &mut c,
        "no_token",
        Client::Browser.as_str(),
        ctx.clock.now(),
    )
    .await?;
    Ok(())
}

/// Check a PIN and open a session. Every call is logged in `staff_login_attempts`.
pub async fn login(ctx: &AppContext, pin: &str, client: Client) -> Result<Login> {
    // One login at a time (`AppContext::login_gate`): parallel guesses cannot pass the lockout.
    let _gate = ctx.login_gate.lock().await;
    let now = ctx.clock.now();
    let state = ctx.store.staff_lockout().await?;
    if let Some(until) = state.locked_until.filter(|t| *t > now) {
        let mut c = ctx.store.pool().acquire().await?;
        sq::insert_attempt(&mut c, "locked", client.as_str(), now).await?;
        return Err(PanelError::Locked { until });
    }
    let Some(hash) = pin_hash(ctx).await? else {
        let mut c = ctx.store.pool().acquire().await?;
        sq::insert_attempt(&mut c, "no_pin", client.as_str(), now).await?;
        return Err(PanelError::NoPin);
    };
    // argon2 is slow on purpose: keep it off the async workers and outside any transaction.
    let pin_owned = pin.to_string();
    let ok = tokio::task::spawn_blocking(move || verify_pin(&pin_owned, &hash))
        .await
        .unwrap_or(false);
    let mut tx = ctx.store.begin_write().await?;
    let state = sq::lockout(&mut tx).await?;
    if ok {
        sq::insert_attempt(&mut tx, "ok", client.as_str(), now).await?;
        sq::set_lockout(&mut tx, 0, None).await?;
        let mut raw = [0u8; 32];
        rand::rng().fill_bytes(&mut raw);
        let token = hex(&raw);
        let expires_at = now + SESSION_MAX;
        sq::insert_session(
            &mut tx,
            &token_sha256(&token),
            client.as_str(),
            now,
            expires_at,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(client = client.as_str(), "staff PIN login");
        Ok(Login {
            token,
            client,
            expires_at,
            idle_timeout_seconds: ctx.config.staff.idle_timeout_seconds,
        })
    } else {
        sq::insert_attempt(&mut tx, "wrong", client.as_str(), now).await?;
        let failures = state.failures + 1;
        if failures >= MAX_PIN_FAILURES {
            let lockouts = sq::wrong_pins_since_last_ok(&mut tx).await? / MAX_PIN_FAILURES;
            let until = now + lockout_for(lockouts);
            sq::set_lockout(&mut tx, 0, Some(until)).await?;
            tx.commit().await?;
            tracing::warn!(client = client.as_str(), %until, "staff PIN pad locked after wrong PINs");
            Err(PanelError::Locked { until })
        } else {
            sq::set_lockout(&mut tx, failures, None).await?;
            tx.commit().await?;
            tracing::warn!(client = client.as_str(), "wrong staff PIN");
            Err(PanelError::WrongPin {
                attempts_left: MAX_PIN_FAILURES - failures,
            })
        }
    }
}

/// The session's client if `token` is a live session; refreshes its idle timer.
pub async fn session_client(ctx: &AppContext, token: &str) -> Result<Option<Client>> {
    let now = ctx.clock.now();
    let idle = Duration::seconds(ctx.config.staff.idle_timeout_seconds as i64);
    let client = ctx
        .store
        .touch_staff_session(&token_sha256(token), now, now - idle)
        .await?;
    Ok(client.map(|c| {
        if c == "window" {
            Client::Window
        } else {
            Client::Browser
        }
    }))
}

pub async fn logout(ctx: &AppContext, token: &str) -> Result<bool> {
    Ok(ctx
        .store
        .end_staff_session(&token_sha256(token), ctx.clock.now())
        .await?)
}

/// For the Tauri shell's `exit_kiosk` command: a live PIN session (or the staff token) is
/// required; the exit is audited. The shell calls `app.exit(0)` when this returns `Ok`.
pub async fn exit_kiosk(ctx: &AppContext, token: &str) -> Result<()> {
    let actor = if !ctx.staff_token.is_empty()
        && bool::from(token.as_bytes().ct_eq(ctx.staff_token.expose().as_bytes()))
    {
        Actor::Token
    } else {
        match session_client(ctx, token).await? {
            Some(c) => Actor::Pin(c),
            None => return Err(PanelError::Unauthorized),
        }
    };
    audit(ctx, actor, "exit_kiosk", None, None, serde_json::json!({})).await
}

/// One audit entry without a payment change.
pub async fn audit(
    ctx: &AppContext,
    actor: Actor,
    action: &str,
    payment: Option<&Payment>,
    reason: Option<&str>,
    detail: serde_json::Value,
) -> Result<()> {
    ctx.store
        .audit(
            &NewAudit {
                action,
                actor: actor.as_str(),
                payment_id: payment.map(|p| p.id),
                order_id: payment.map(|p| p.order_id.as_str()),
                reason,
                detail,
            },
            ctx.clock.now(),
        )
        .await?;
    Ok(())
}

// ---------------------------------------------------------------- refunds, comps, reprint

pub(crate) fn validate_reason(reason: &str) -> Result<&str> {
    let r = reason.trim();
    if r.chars().count() < 3 || r.chars().count() > 500 {
        return Err(PanelError::Invalid(
            "a reason of 3 to 500 characters is required".into(),
        ));
    }
    Ok(r)
}

/// The paid order `key`, read again inside a new write transaction (so a provider callback or
/// another staff action cannot change it between the check and the caller's writes); refused
/// with "only a paid order {what}" when it is not paid.
pub(crate) async fn paid_in_write(
    ctx: &AppContext,
    key: &str,
    what: &str,
) -> Result<(fotobox_store::WriteTx, Payment)> {
    let p = find(ctx, key).await?;
    let mut tx = ctx.store.begin_write().await?;
    let p = q::payment_by_id(&mut tx, p.id)
        .await?
        .ok_or_else(|| PanelError::NotFound(format!("payment {key} not found")))?;
    if p.status() != PaymentStatus::Success {
        return Err(PanelError::Conflict(format!(
            "order {} is {}; only a paid order {what}",
            p.order_id, p.status
        )));
    }
    Ok((tx, p))
}

/// Mark a paid order refunded (money given back by hand or through the provider's cabinet):
/// status `canceled`, `cancel_reason = 'staff:refund'`, a `staff`/`refund` payment event and an
/// audit entry, in one transaction. Nothing is deleted; revenue no longer counts it. Refused
/// while a Click reversal of the order is under way (`refunds::provider_refund`).
pub async fn refund(ctx: &AppContext, actor: Actor, key: &str, reason: &str) -> Result<Payment> {
    let reason = validate_reason(reason)?;
    let now = ctx.clock.now();
    let (mut tx, p) = paid_in_write(ctx, key, "can be refunded").await?;
    if sq::comp_for_payment(&mut tx, p.id).await?.is_some() {
        return Err(PanelError::Conflict(format!(
            "order {} is a free session; there is nothing to refund",
            p.order_id
        )));
    }
    let in_flight = fotobox_store::refunds::for_payment(&mut tx, p.id)
        .await?
        .filter(|r| r.state == fotobox_store::refunds::STATE_REQUESTED)
        .is_some_and(|r| now - r.updated_at < crate::click_api::reversal_stale_after(ctx));
    if in_flight {
        return Err(PanelError::Conflict(format!(
            "a Click reversal of order {} is under way; wait for its answer",
            p.order_id
        )));
    }
    q::mark_canceled(&mut tx, p.id, "staff:refund", None, now).await?;
    let detail = serde_json::json!({"reason": reason, "amount": p.amount, "actor": actor.as_str()});
    q::insert_event(&mut tx, p.id, "staff", "refund", &detail, now).await?;
    sq::insert_audit(
        &mut tx,
        &NewAudit {
            action: "refund",
            actor: actor.as_str(),
            payment_id: Some(p.id),
            order_id: Some(&p.order_id),
            reason: Some(reason),
            detail: serde_json::json!({"amount": p.amount, "payment_type": p.payment_type}),
        },
        now,
    )
    .await?;
    let after = q::payment_by_id(&mut tx, p.id).await?.unwrap_or(p);
    tx.commit().await?;
    orders::publish_status(ctx, &after, PaymentStatus::Canceled);
    Ok(after)
}

/// A free session: a `payments` row that is `success` at once, marked in `staff_comps`, with
/// `transaction_id = 'comp:<order id>'` and a `staff`/`comp` event, audited. Stats leave comps
/// out of payments and revenue (they count `comp_sessions` and `comp_value` apart). The row's
/// `amount` is what the session would have cost; `payment_type` is the first enabled provider
/// (the schema allows only payme/click there): `staff_comps` is the mark, not the type.
pub async fn comp(
    ctx: &AppContext,
    actor: Actor,
    template: &str,
    copies: i64,
    reason: &str,
) -> Result<Payment> {
    let reason = validate_reason(reason)?;
    let amount = orders::price(ctx, template, copies).await?;
    let payment_type = if ctx.config.payme_enabled() || !ctx.config.click_enabled() {
        Provider::Payme
    } else {
        Provider::Click
    };
    let now = ctx.clock.now();
    let expires_at = orders::deadline(ctx, now);
    let mut tx = ctx.store.begin_write().await?;
    let mut attempt = 0;
    let p = loop {
        let order_id = orders::new_order_id();
        match q::insert_payment(
            &mut tx,
            &q::NewPayment {
                order_id: &order_id,
                amount: Sum::new(amount),
                payment_type,
                template_name: Some(template),
                copies,
                expires_at,
                now,
            },
        )
        .await
        {
            Ok(p) => break p,
            Err(e) if e.is_unique_violation() && attempt < 5 => attempt += 1,
            Err(e) => return Err(e.into()),
        }
    };
    q::mark_success(&mut tx, p.id, &format!("comp:{}", p.order_id), None, now).await?;
    sq::insert_comp(&mut tx, p.id, reason, now).await?;
    q::insert_event(
        &mut tx,
        p.id,
        "staff",
        "comp",
        &serde_json::json!({"reason": reason, "template": template, "copies": copies, "actor": actor.as_str()}),
        now,
    )
    .await?;
    sq::insert_audit(
        &mut tx,
        &NewAudit {
            action: "comp",
            actor: actor.as_str(),
            payment_id: Some(p.id),
            order_id: Some(&p.order_id),
            reason: Some(reason),
            detail: serde_json::json!({"template": template, "copies": copies, "value": amount}),
        },
        now,
    )
    .await?;
    let after = q::payment_by_id(&mut tx, p.id).await?.unwrap_or(p);
    tx.commit().await?;
    orders::publish_status(ctx, &after, PaymentStatus::Success);
    Ok(after)
}

/// What a reprint queued.
#[derive(Debug, Clone, Serialize)]
pub struct Reprint {
    pub payment: Payment,
    pub print: fotobox_store::photos::PrintJob,
}

/// Reprint a paid order's existing composite: its print job goes back into the photo pipeline's
/// persisted queue (`print_jobs`, one row per order) with `copies` (default: the order's), a
/// `staff`/`reprint` payment event and an audit entry with the reason, in one transaction; an
/// open fulfilment flag of the order is resolved; then the queue runs in the background.
/// Refused when the order is not paid, has no composite on disk, the paper left (minus copies
/// already queued) is too little, or its job is still queued or printing (a second tap never
/// queues a second print).
pub async fn reprint(
    ctx: &AppContext,
    actor: Actor,
    key: &str,
    copies: Option<i64>,
    reason: &str,
) -> Result<Reprint> {
    use fotobox_store::photos as ph;
    let reason = validate_reason(reason)?;
    let now = ctx.clock.now();
    let (mut tx, p) = paid_in_write(ctx, key, "is printed").await?;
    let copies = copies.unwrap_or(p.copies);
    let max = ctx.config.pricing.max_copies as i64;
    if !(1..=max).contains(&copies) {
        return Err(PanelError::Invalid(format!(
            "copies must be between 1 and {max}"
        )));
    }
    let photo = ph::photo_for_payment(&mut tx, p.id).await?;
    let composite = photo
        .as_ref()
        .and_then(|ph| ph.composite_path.clone())
        .map(PathBuf::from);
    let (Some(photo), Some(composite)) = (photo, composite) else {
        return Err(PanelError::Conflict(format!(
            "order {} has no composed photo to reprint (no pictures were taken)",
            p.order_id
        )));
    };
    if !composite.is_file() {
        return Err(PanelError::Conflict(format!(
            "the photo of order {} is missing on disk ({}); nothing to reprint",
            p.order_id,
            composite.display()
        )));
    }
    let remaining = match ph::current_roll(&mut tx).await? {
        Some(r) => r.remaining,
        None => ctx.config.printer.paper_roll_size as i64,
    };
    let available = remaining - ph::pending_copies(&mut tx).await?;
    let job = ph::print_job_for_payment(&mut tx, p.id).await?;
    let previous = job.as_ref().map(|j| j.state.clone());
    if let Some(j) = &job {
        if j.state == ph::QUEUED || j.state == ph::PRINTING {
            return Err(PanelError::Conflict(format!(
                "order {} is already {} ({} copies); wait for it to finish before reprinting",
                p.order_id, j.state, j.copies
            )));
        }
    }
    if available < copies {
        return Err(PanelError::Conflict(format!(
            "paper: {available} prints left, the reprint needs {copies}; refill the paper first"
        )));
    }
    let job_id = match job {
        Some(j) => {
            if !ph::requeue_reprint(&mut tx, j.id, copies, now).await? {
                return Err(PanelError::Conflict(format!(
                    "order {} is already being printed",
                    p.order_id
                )));
            }
            j.id
        }
        // A photo from before the print queue existed: give it its job now.
        None => {
            ph::insert_print_job(
                &mut tx,
                p.id,
                photo.id,
                copies,
                &ctx.config.printer.media,
                now,
            )
            .await?
            .id
        }
    };
    let detail = serde_json::json!({"job": job_id, "copies": copies, "previous_state": previous});
    q::insert_event(
        &mut tx,
        p.id,
        "staff",
        "reprint",
        &serde_json::json!({"reason": reason, "copies": copies, "job": job_id, "actor": actor.as_str()}),
        now,
    )
    .await?;
    ph::resolve_flag(&mut tx, p.id, &format!("reprinted by staff: {reason}"), now).await?;
    sq::insert_audit(
        &mut tx,
        &NewAudit {
            action: "reprint",
            actor: actor.as_str(),
            payment_id: Some(p.id),
            order_id: Some(&p.order_id),
            reason: Some(reason),
            detail,
        },
        now,
    )
    .await?;
    let print = ph::print_job(&mut tx, job_id)
        .await?
        .ok_or_else(|| StoreError::Invalid(format!("print job {job_id} vanished")))?;
    tx.commit().await?;
    tracing::info!(order = %p.order_id, copies, job = job_id, "reprint queued by staff");
    crate::photos::spawn_queue(ctx);
    Ok(Reprint { payment: p, print })
}

pub async fn find(ctx: &AppContext, key: &str) -> Result<Payment> {
    crate::staff::find_payment(&ctx.store, key)
        .await?
        .ok_or_else(|| PanelError::NotFound(format!("payment {key} not found")))
}

// ---------------------------------------------------------------- prices

/// Validate and save new prices (all layouts or some; the rest keep their price). Every
/// problem is listed in one message. Existing orders keep their amount: only `price()` reads it.
pub async fn save_pricing(
    ctx: &AppContext,
    actor: Actor,
    layouts: &BTreeMap<String, serde_json::Value>,
    extra_copy: Option<&serde_json::Value>,
) -> Result<crate::pricing::Pricing> {
    let current = crate::pricing::effective_pricing(ctx).await?;
    let mut next = current.layouts.clone();
    let mut problems = Vec::new();
    let as_price = |v: &serde_json::Value| v.as_i64().filter(|_| v.is_i64() || v.is_u64());
    for (name, v) in layouts {
        if !current.layouts.contains_key(name) {
            problems.push(format!("unknown layout {name:?}"));
            continue;
        }
        match as_price(v) {
            Some(p) if (MIN_LAYOUT_PRICE..=MAX_PRICE).contains(&p) => {
                next.insert(name.clone(), p);
            }
            _ => problems.push(format!(
                "{name}: price must be a whole number between {MIN_LAYOUT_PRICE} and {MAX_PRICE} sum"
            )),
        }
    }
    let extra = match extra_copy {
        None => current.extra_copy,
        Some(v) => match as_price(v) {
            Some(p) if (0..=MAX_PRICE).contains(&p) => p,
            _ => {
                problems.push(format!(
                    "extra_copy must be a whole number between 0 and {MAX_PRICE} sum"
                ));
                current.extra_copy
            }
        },
    };
    if !problems.is_empty() {
        return Err(PanelError::Invalid(problems.join("; ")));
    }
    let now = ctx.clock.now();
    let json = serde_json::to_string(&next).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let mut tx = ctx.store.begin_write().await?;
    sq::insert_prices(&mut tx, &json, extra, actor.as_str(), now).await?;
    sq::insert_audit(
        &mut tx,
        &NewAudit {
            action: "settings",
            actor: actor.as_str(),
            payment_id: None,
            order_id: None,
            reason: None,
            detail: serde_json::json!({
                "before": {"layouts": current.layouts, "extra_copy": current.extra_copy},
                "after": {"layouts": next, "extra_copy": extra},
            }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(crate::pricing::effective_pricing(ctx).await?)
}

// ---------------------------------------------------------------- export

/// The folders exports may go under (absolute; relative config entries under the data dir).
pub fn export_roots(ctx: &AppContext) -> Vec<PathBuf> {
    ctx.config
        .staff
        .export_dirs
        .iter()
        .map(|d| {
            if d.is_absolute() {
                d.clone()
            } else {
                ctx.data_dir.join(d)
            }
        })
        .collect()
}

/// Existing folders an export can go to: each root and the folders one or two levels below it
/// (`/media/<user>/<stick>`), for the panel's picker.
pub fn export_targets(ctx: &AppContext) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for root in export_roots(ctx) {
        if !root.is_dir() {
            continue;
        }
        out.push(root.clone());
        for level1 in subdirs(&root) {
            out.push(level1.clone());
            out.extend(subdirs(&level1));
        }
    }
    out
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v.truncate(50);
    v
}

/// The export folder, checked: absolute, existing, a folder, inside one of the export roots.
pub fn validate_export_dir(ctx: &AppContext, dir: &str) -> Result<PathBuf> {
    let path = PathBuf::from(dir.trim());
    if dir.trim().is_empty() || !path.is_absolute() {
        return Err(PanelError::Invalid(
            "the export folder must be an absolute path".into(),
        ));
    }
    let real = std::fs::canonicalize(&path).map_err(|_| {
        PanelError::Invalid(format!("the folder {} does not exist", path.display()))
    })?;
    if !real.is_dir() {
        return Err(PanelError::Invalid(format!(
            "{} is not a folder",
            path.display()
        )));
    }
    let inside = export_roots(ctx).iter().any(|root| {
        std::fs::canonicalize(root)
            .map(|r| real.starts_with(r))
            .unwrap_or(false)
    });
    if !inside {
        return Err(PanelError::Invalid(format!(
            "exports go under {} (config staff.export_dirs)",
            export_roots(ctx)
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(real)
}

/// Write the payments matching `filter` (newest first) as CSV into `dir`; never overwrites.
pub async fn export_to_dir(
    ctx: &AppContext,
    actor: Actor,
    dir: &str,
    filter: &ListFilter,
) -> Result<(PathBuf, usize)> {
    let dir = validate_export_dir(ctx, dir)?;
    let mut rows = Vec::new();
    loop {
        let (_, page) = ctx
            .store
            .list_payments(filter, 1000, rows.len() as i64)
            .await?;
        let n = page.len();
        rows.extend(page);
        if n < 1000 {
            break;
        }
    }
    let now = ctx.clock.now();
    let path = backup::unique_path(&dir, &crate::staff::export_file_name(now));
    let io = |source| StoreError::Io {
        path: path.clone(),
        source,
    };
    let file = std::fs::File::create_new(&path).map_err(io)?;
    crate::staff::write_csv(&file, &rows)
        .map_err(|e| PanelError::Conflict(format!("cannot write {}: {e}", path.display())))?;
    // A USB stick may be pulled right after: make sure the bytes are on it.
    file.sync_all().map_err(io)?;
    audit(
        ctx,
        actor,
        "export",
        None,
        None,
        serde_json::json!({"path": path.display().to_string(), "rows": rows.len()}),
    )
    .await?;
    Ok((path, rows.len()))
}

// ---------------------------------------------------------------- database

/// One backup file in `<data_dir>/backups`.
#[derive(Debug, Clone, Serialize)]
pub struct BackupFile {
    pub name: String,
    pub size_bytes: u64,
    pub modified_at: Option<DateTime<Utc>>,
}

pub fn list_backups(ctx: &AppContext) -> Vec<BackupFile> {
    let mut v: Vec<BackupFile> = Vec::new();
    for dir in backup_dirs(ctx) {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().to_string();
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_file() && name.ends_with(".db") && !v.iter().any(|b| b.name == name) {
                v.push(BackupFile {
                    name,
                    size_bytes: meta.len(),
                    modified_at: meta.modified().ok().map(DateTime::<Utc>::from),
                });
            }
        }
    }
    v.sort_by(|a, b| b.modified_at.cmp(&a.modified_at).then(b.name.cmp(&a.name)));
    v
}

/// Where backups are: staff backups (`<data_dir>/backups`), then the automatic daily and
/// pre-migration ones (`backup.dir`, by default `<data_dir>/backups/auto`).
fn backup_dirs(ctx: &AppContext) -> Vec<PathBuf> {
    vec![
        ctx.backup_dir(),
        crate::maintenance::backups::auto_dir(&ctx.config, &ctx.data_dir),
    ]
}

fn backup_path(ctx: &AppContext, name: &str) -> Result<PathBuf> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && name.ends_with(".db")
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    let found = ok
        .then(|| {
            backup_dirs(ctx)
                .into_iter()
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
        .flatten();
    found.ok_or_else(|| PanelError::NotFound(format!("no backup named {name:?}")))
}

/// A verified backup now, into `<data_dir>/backups`; `suffix` tags safety backups.
pub async fn backup_now(ctx: &AppContext, actor: Actor, suffix: &str) -> Result<PathBuf> {
    let now = ctx.clock.now();
    let name = format!("photobooth_{}{suffix}.db", now.format("%Y%m%d_%H%M%S"));
    let path = crate::maintenance::backups::backup_covering(
        ctx,
        &backup::unique_path(&ctx.backup_dir(), &name),
    )
    .await?;
    audit(
        ctx,
        actor,
        "backup",
        None,
        None,
        serde_json::json!({"file": file_name(&path)}),
    )
    .await?;
    Ok(path)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// What a restore did.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreDone {
    pub restored: String,
    pub safety_backup: String,
    pub tables: Vec<sq::RestoredTable>,
}

/// Restore a backup while the server runs. The file is verified (integrity, schema version not
/// newer than this build), the current state is backed up first, then the data is replaced in
/// one transaction on the live pool (see `Store::restore_online`): no restart, no moment where
/// the kiosk sees half a database, and the panel's audit trail stays. `confirm` must repeat the
/// backup's name.
pub async fn restore(
    ctx: &AppContext,
    actor: Actor,
    name: &str,
    confirm: &str,
    force: bool,
) -> Result<RestoreDone> {
    let path = backup_path(ctx, name)?;
    if confirm != name {
        return Err(PanelError::Invalid(
            "confirm by repeating the backup's name".into(),
        ));
    }
    backup::verify_backup_file(&path).await?;
    let before = {
        let mut c = ctx.store.pool().acquire().await?;
        if !force {
            backup::refuse_in_flight(&mut c).await?;
        }
        fotobox_store::inflight::provider_transactions(&mut c).await?
    };
    let safety = backup_now(ctx, actor, "_before-restore").await?;
    let journaled = journal::newest_entries(&ctx.config, &ctx.data_dir);
    let tables = ctx.store.restore_online(&path).await?;
    journal::mark_reset(
        Some(&ctx.journal),
        journaled,
        &format!("staff restore of {name}"),
    )
    .await;
    let lost: Vec<String> = {
        let mut c = ctx.store.pool().acquire().await?;
        let after = fotobox_store::inflight::provider_transactions(&mut c).await?;
        before.into_iter().filter(|t| !after.contains(t)).collect()
    };
    audit(
        ctx,
        actor,
        "restore",
        None,
        None,
        serde_json::json!({"file": name, "safety_backup": file_name(&safety), "tables": tables,
                           "force": force, "lost_transactions": lost}),
    )
    .await?;
    if !lost.is_empty() {
        raise_lost_transactions(ctx, &lost, &file_name(&safety)).await;
    }
    tracing::warn!(file = name, "database restored from a backup by staff");
    // Raised after the restore, so the alert lives in the restored data (and reaches Telegram).
    crate::maintenance::alerts::raise(
        ctx,
        crate::maintenance::alerts::AlertKind::DatabaseRestored,
        "staff_restore",
        &format!(
            "The database was restored from the backup {name} by staff ({}); the state before it was saved as {}.",
            actor.as_str(),
            file_name(&safety)
        ),
    )
    .await;
    Ok(RestoreDone {
        restored: name.to_string(),
        safety_backup: file_name(&safety),
        tables,
    })
}

/// A restore dropped provider transactions: Payme and Click will ask about orders this
/// database no longer knows. Staff must look them up in the safety backup and the providers'
/// cabinets.
pub async fn raise_lost_transactions(ctx: &AppContext, lost: &[String], kept_in: &str) {
    crate::maintenance::alerts::raise(
        ctx,
        crate::maintenance::alerts::AlertKind::DatabaseRestored,
        "restore_lost_transactions",
        &format!(
            "After the restore the database no longer knows {} provider transaction(s): {}. \
             They are in {kept_in}; check them in the Payme and Click cabinets.",
            lost.len(),
            lost.join(", ")
        ),
    )
    .await;
}

/// Delete all payments (backup first, `Store::clear_all`); `confirm` must be `CLEAR`. Refused
/// while money is in flight unless `force` (audited as such).
pub async fn clear(
    ctx: &AppContext,
    actor: Actor,
    confirm: &str,
    force: bool,
) -> Result<(String, i64)> {
    if confirm != "CLEAR" {
        return Err(PanelError::Invalid("confirm by typing CLEAR".into()));
    }
    let n = ctx.store.count_payments().await?;
    let journaled = journal::newest_entries(&ctx.config, &ctx.data_dir);
    let backup = ctx
        .store
        .clear_all(&ctx.backup_dir(), ctx.clock.now(), force)
        .await?;
    journal::mark_reset(Some(&ctx.journal), journaled, "staff cleared all payments").await;
    audit(
        ctx,
        actor,
        "clear",
        None,
        None,
        serde_json::json!({"payments": n, "backup": file_name(&backup), "force": force}),
    )
    .await?;
    tracing::warn!(payments = n, "all payments cleared by staff");
    Ok((file_name(&backup), n))
}

// ---------------------------------------------------------------- devices

fn component_json(ctx: &AppContext, name: &str) -> serde_json::Value {
    match ctx.maintenance.components().get(name) {
        Some(r) => serde_json::json!({"state": r.status, "detail": r.detail, "reported_at": r.at}),
        None => {
            serde_json::json!({"state": "unknown", "detail": "not reported yet", "reported_at": null})
        }
    }
}

/// The tunnel as the maintenance health check last saw it (`maintenance::tunnel::check_once`):
/// `not configured` without `server.public_url`, `unknown` until the first check ends, then
/// `up` or `down` with the time and result of the last check.
fn tunnel_json(ctx: &AppContext) -> serde_json::Value {
    let Some(url) = &ctx.config.server.public_url else {
        return serde_json::json!({"state": "not configured", "public_url": null});
    };
    let t = ctx.maintenance.tunnel();
    let sup = ctx.maintenance.supervisor();
    serde_json::json!({
        "state": t.state,
        "public_url": url,
        "last_check_at": t.last_check_at,
        "last_ok_at": t.last_ok_at,
        "last_error": t.last_error,
        "latency_ms": t.last_latency_ms,
        "consecutive_failures": t.consecutive_failures,
        "accepting_payments": crate::maintenance::tunnel::accepting_payments(ctx).is_ok(),
        "supervisor": if sup.enabled {
            serde_json::json!({"running": sup.running, "restarts": sup.restarts, "last_exit": sup.last_exit})
        } else {
            serde_json::Value::Null
        },
    })
}

/// The camera as the page reported it, the size of its last still and, per layout, the print
/// resolution that still gives in the layout's smallest slot (a warning under
/// [`crate::photos::LOW_DPI`]).
async fn camera_json(ctx: &AppContext) -> serde_json::Value {
    let mut v = component_json(ctx, "camera");
    let still = ctx.maintenance.camera_still();
    v["still"] = match still {
        Some((w, h)) => serde_json::json!({"width": w, "height": h}),
        None => serde_json::Value::Null,
    };
    v["layouts"] = match (still, crate::photos::layouts(ctx).await) {
        (Some((w, h)), Ok(set)) => serde_json::json!(crate::photos::still_dpis(&set, w, h)),
        _ => serde_json::json!([]),
    };
    v
}

/// Everything the Devices page shows; what nobody has reported yet is `"unknown"`.
pub async fn devices(ctx: &AppContext) -> Result<serde_json::Value> {
    let db = ctx.store.path();
    let file_len = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    let (photo_bytes, photo_orders) = crate::photos::photo_space(ctx);
    let (free, total) = crate::maintenance::health::disk_space(&ctx.data_dir)
        .await
        .map(|(f, t)| (serde_json::json!(f), serde_json::json!(t)))
        .unwrap_or((serde_json::json!("unknown"), serde_json::json!("unknown")));
    // Printer and paper from the photos pipeline (`photos::readiness`), plus what the printer
    // last reported to the maintenance state (`maintenance::report_component`).
    let reported = component_json(ctx, "printer");
    let (printer, paper) = match crate::photos::readiness(ctx, 1).await {
        Ok(r) => (
            // `cups`: the queue's state, reasons, message, marker levels and media-ready.
            serde_json::json!({"state": if r.ready { "ready" } else { "not ready" },
                               "reason": r.reason, "printer": r.printer, "reported": reported,
                               "warnings": r.printer_warnings, "cups": r.printer_state}),
            serde_json::json!({"state": "known", "available": r.paper_available,
                               "roll_size": r.paper_roll_size}),
        ),
        Err(e) => (
            serde_json::json!({"state": "unknown", "reason": e.to_string(), "reported": reported}),
            serde_json::json!({"state": "unknown"}),
        ),
    };
    let mut last = serde_json::Map::new();
    for p in ["payme", "click"] {
        last.insert(p.into(), serde_json::Value::Null);
    }
    for (source, at) in ctx.store.last_callbacks().await? {
        last.insert(source, serde_json::json!(at));
    }
    Ok(serde_json::json!({
        // The camera lives in the kiosk page (getUserMedia); it reports through the
        // maintenance state. Until it does, it is unknown.
        "camera": camera_json(ctx).await,
        "printer": printer,
        "paper": paper,
        "database": {"path": db.display().to_string(),
                     "size_bytes": ctx.store.database_bytes().await?,
                     "file_bytes": file_len(db) + file_len(&wal)},
        "disk": {"path": ctx.data_dir.display().to_string(), "free_bytes": free, "total_bytes": total},
        "photos": {"bytes": photo_bytes, "orders": photo_orders, "keep_hours": ctx.config.photos.keep_hours},
        "tunnel": tunnel_json(ctx),
        "last_callback": last,
        "mode": format!("{:?}", ctx.config.mode).to_lowercase(),
    }))
}

// ---------------------------------------------------------------- alerts

/// Staff alerts from the maintenance jobs (newest first; `open_only` leaves out acknowledged and
/// resolved ones), with the open counts per severity.
pub async fn alerts(ctx: &AppContext, open_only: bool, limit: i64) -> Result<serde_json::Value> {
    use fotobox_store::maintenance as mq;
    let pool = ctx.store.pool();
    let rows = mq::list_alerts(pool, open_only, limit).await?;
    let counts: BTreeMap<String, i64> = mq::open_alert_counts(pool).await?.into_iter().collect();
    Ok(serde_json::json!({"alerts": rows, "open": counts}))
}

/// Acknowledge an open alert (it leaves the open list; the maintenance job raises it anew if
/// the problem comes back after the repeat window), audited in the same transaction.
pub async fn acknowledge_alert(
    ctx: &AppContext,
    actor: Actor,
    id: i64,
) -> Result<fotobox_store::maintenance::AlertRow> {
    let now = ctx.clock.now();
    let mut tx = ctx.store.begin_write().await?;
    let Some(alert) = sq::alert_by_id(&mut tx, id).await? else {
        return Err(PanelError::NotFound(format!("no alert {id}")));
    };
    if !sq::acknowledge_open_alert(&mut tx, id, now).await? {
        return Err(PanelError::Conflict(format!(
            "alert {id} is already {}",
            if alert.resolved_at.is_some() {
                "resolved"
            } else {
                "acknowledged"
            }
        )));
    }
    sq::insert_audit(
        &mut tx,
        &NewAudit {
            action: "alert_ack",
            actor: actor.as_str(),
            payment_id: None,
            order_id: None,
            reason: None,
            detail: serde_json::json!({"alert": id, "kind": alert.kind, "severity": alert.severity,
                                       "message": alert.message}),
        },
        now,
    )
    .await?;
    let after = sq::alert_by_id(&mut tx, id).await?.unwrap_or(alert);
    tx.commit().await?;
    Ok(after)
}

/// Paper refill through the photos pipeline (`photos::reset_paper`), audited.
pub async fn reset_paper(ctx: &AppContext, actor: Actor, roll_size: Option<u64>) -> Result<()> {
    let roll = crate::photos::reset_paper(ctx, roll_size)
        .await
        .map_err(|e| match e {
            crate::photos::PhotoError::Invalid(m) => PanelError::Invalid(m),
            other => PanelError::Store(StoreError::Invalid(other.to_string())),
        })?;
    audit(
        ctx,
        actor,
        "paper_reset",
        None,
        None,
        serde_json::json!({"roll_size": roll.roll_size}),
    )
    .await
}
