//! What the customer-facing kiosk page needs beyond orders: what to sell (layouts with prices and
//! slot geometry for the previews), readiness before taking money, one shot at a time as the
//! customer takes them, composing through the photo pipeline, the print's progress and calling
//! staff. The Tauri commands and the browser kiosk's `/api/kiosk/*` routes both call these
//! functions (nothing is implemented twice).
//!
//! Shots arrive one by one (so a crash or a camera loss keeps what was taken) and wait in
//! `<order dir>/incoming/shot-<n>.<ext>`; [`compose`] hands them all to
//! [`photos::create_photo`], which saves, composes, records and queues the print, then removes
//! the incoming folder.

use std::path::PathBuf;

use serde::Serialize;

use crate::context::AppContext;
use crate::error::{DomainError, ErrorKind};
use crate::orders::OrderError;
use crate::photos::{self, PhotoError, PhotoView};
use fotobox_store::model::PaymentStatus;
use fotobox_store::photos as pq;
use fotobox_store::StoreError;

/// Largest shot accepted (bytes): a 4K JPEG at high quality is well below this.
pub const MAX_SHOT_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum KioskError {
    #[error("order {0} not found")]
    NotFound(String),
    /// Something other than an order is not there (a layout, its overlay over a slot).
    #[error("{0}")]
    Missing(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Order(#[from] OrderError),
    #[error(transparent)]
    Photo(#[from] PhotoError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl DomainError for KioskError {
    fn kind(&self) -> ErrorKind {
        match self {
            KioskError::NotFound(_) | KioskError::Missing(_) => ErrorKind::NotFound,
            KioskError::Invalid(_) => ErrorKind::Invalid,
            KioskError::Conflict(_) => ErrorKind::Conflict,
            KioskError::Order(e) => e.kind(),
            KioskError::Photo(e) => e.kind(),
            KioskError::Store(e) => e.kind(),
            KioskError::Io(_) => ErrorKind::Internal,
        }
    }
}

impl From<sqlx::Error> for KioskError {
    fn from(e: sqlx::Error) -> Self {
        KioskError::Store(StoreError::Db(e))
    }
}

/// A slot of a layout, for the preview drawn on the layout screen.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SlotView {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    pub shot: usize,
}

/// A layout the kiosk sells: priced in `[pricing.layouts]` and installed (printable).
#[derive(Debug, Clone, Serialize)]
pub struct LayoutView {
    pub name: String,
    pub title: String,
    /// One copy, whole sum.
    pub price: i64,
    pub shots: usize,
    pub width: u32,
    pub height: u32,
    pub slots: Vec<SlotView>,
    /// The layout has an overlay frame: the live view draws its part over each slot
    /// ([`shot_overlay`]).
    pub overlay: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Providers {
    pub payme: bool,
    pub click: bool,
}

/// Everything the page needs to draw the menu.
#[derive(Debug, Clone, Serialize)]
pub struct KioskInfo {
    pub mode: String,
    pub layouts: Vec<LayoutView>,
    pub extra_copy: i64,
    pub max_copies: u64,
    pub providers: Providers,
    pub order_ttl_seconds: u64,
    /// `camera.rotate`: degrees clockwise that turn the camera's picture upright.
    pub camera_rotate: u64,
    /// The loopback API's address (filled by the Tauri shell; a browser page is served by it).
    pub api_url: Option<String>,
    /// What may play now: volume, mute, quiet hours ([`crate::sound`]).
    pub sound: crate::sound::KioskSound,
}

/// The layouts that are both priced and installed, in price order, at the current prices (the
/// staff panel may have changed them; orders are priced by [`crate::orders::price`] from the same source).
pub async fn info(ctx: &AppContext) -> Result<KioskInfo, KioskError> {
    let set = photos::layouts(ctx).await?;
    let pricing = crate::pricing::effective_pricing(ctx).await?;
    let mut layouts = Vec::new();
    for (name, price) in &pricing.layouts {
        let Some(l) = set.get(name) else { continue };
        layouts.push(LayoutView {
            name: name.clone(),
            title: l.title.clone(),
            price: *price,
            shots: l.shots,
            width: l.width,
            height: l.height,
            slots: l
                .slots
                .iter()
                .map(|s| SlotView {
                    x: s.x,
                    y: s.y,
                    w: s.w,
                    h: s.h,
                    shot: s.shot,
                })
                .collect(),
            overlay: l.overlay.is_some(),
        });
    }
    layouts.sort_by(|a, b| a.price.cmp(&b.price).then(a.name.cmp(&b.name)));
    let cfg = &ctx.config;
    Ok(KioskInfo {
        mode: format!("{:?}", cfg.mode).to_lowercase(),
        layouts,
        extra_copy: pricing.extra_copy,
        max_copies: pricing.max_copies,
        camera_rotate: cfg.camera.rotate,
        providers: Providers {
            payme: cfg.payme_enabled(),
            click: cfg.click_enabled(),
        },
        order_ttl_seconds: cfg.orders.ttl_seconds,
        api_url: None,
        sound: crate::sound::for_kiosk(ctx).await?,
    })
}

/// The installed layout named `layout`; `Missing` when there is none.
async fn installed_layout(
    ctx: &AppContext,
    layout: &str,
) -> Result<std::sync::Arc<fotobox_render::layouts::Layout>, KioskError> {
    photos::layouts(ctx)
        .await?
        .get(layout)
        .ok_or_else(|| KioskError::Missing(format!("layout {layout:?} is not installed")))
}

/// Longest side of the overlay part sent to the live view: the live view is at most about
/// 1300 px on a 1920x1080 screen, and a frame's edge needs no more detail than that.
pub const OVERLAY_MAX_SIDE: u32 = 1280;

/// The part of `layout`'s overlay frame that covers the slot of shot `shot`, as PNG, for the live
/// view during the countdown (what the frame will hide is hidden there too). `Missing` when the
/// layout is not installed or has nothing over that slot.
pub async fn shot_overlay(
    ctx: &AppContext,
    layout: &str,
    shot: usize,
) -> Result<Vec<u8>, KioskError> {
    let l = installed_layout(ctx, layout).await?;
    let png = tokio::task::spawn_blocking(move || {
        fotobox_render::overlay::slot_overlay_png(&l, shot, OVERLAY_MAX_SIDE)
    })
    .await
    .map_err(|e| KioskError::Io(std::io::Error::other(e.to_string())))?
    .map_err(|e| KioskError::Io(std::io::Error::other(e.to_string())))?;
    png.ok_or_else(|| {
        KioskError::Missing(format!("layout {layout:?} has no frame over shot {shot}"))
    })
}

/// Longest side of a sample print on the attract screen.
pub const SAMPLE_MAX_SIDE: u32 = 900;

/// `layout` composed from drawn sample pictures (never customers' photos) with today's date and
/// the event name, as JPEG, for the attract screen's loop. Composed once per layout and day
/// (kept with the loaded layouts); the first time takes the composition slot, so a customer's
/// print and a sample are never composed at the same time.
pub async fn sample_print(ctx: &AppContext, layout: &str) -> Result<Vec<u8>, KioskError> {
    let l = installed_layout(ctx, layout).await?;
    let vars = photos::sample_text_vars(ctx);
    if let Some(jpeg) = ctx.samples.kept(layout, &vars, SAMPLE_MAX_SIDE) {
        return Ok(jpeg.as_ref().clone());
    }
    let _slot = ctx.heavy.compose().await;
    let cache = ctx.samples.clone();
    let jpeg = tokio::task::spawn_blocking(move || cache.get(&l, &vars, SAMPLE_MAX_SIDE))
        .await
        .map_err(|e| KioskError::Io(std::io::Error::other(e.to_string())))?
        .map_err(|e| KioskError::Photo(PhotoError::from(e)))?;
    Ok(jpeg.as_ref().clone())
}

/// Readiness as the customer screen needs it: `reason` is `offline` (the payment tunnel is
/// down), `database` (it cannot be written: disk full or failed), `printer` or `paper` (the
/// detail is for the log and staff).
#[derive(Debug, Clone, Serialize)]
pub struct KioskReadiness {
    pub ready: bool,
    pub reason: Option<&'static str>,
    pub detail: Option<String>,
}

/// Can the kiosk take money for `copies` prints now (tunnel, database writable, printer and
/// paper; the page checks the camera itself)?
pub async fn readiness(ctx: &AppContext, copies: i64) -> Result<KioskReadiness, KioskError> {
    // The payment connection first: with the tunnel down no provider can reach us, so no QR.
    if let Err(detail) = crate::maintenance::tunnel::accepting_payments(ctx) {
        tracing::warn!(%detail, "kiosk not ready to sell");
        return Ok(KioskReadiness {
            ready: false,
            reason: Some("offline"),
            detail: Some(detail.to_string()),
        });
    }
    // An order could not be kept: no QR until the write probe gets a write through.
    if let Err(detail) = crate::maintenance::writable::accepting_orders(ctx) {
        tracing::warn!(%detail, "kiosk not ready to sell");
        return Ok(KioskReadiness {
            ready: false,
            reason: Some("database"),
            detail: Some(detail.to_string()),
        });
    }
    let r = photos::readiness(ctx, copies).await?;
    crate::maintenance::devices::observe_printer(ctx, &r).await;
    let reason = r.reason.as_deref().map(|d| {
        if d.starts_with("paper") {
            "paper"
        } else {
            "printer"
        }
    });
    if let Some(detail) = &r.reason {
        tracing::warn!(%detail, "kiosk not ready to sell");
    }
    Ok(KioskReadiness {
        ready: r.ready,
        reason,
        detail: r.reason,
    })
}

fn image_ext(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else {
        None
    }
}

async fn paid_order(
    ctx: &AppContext,
    order_id: &str,
) -> Result<
    (
        fotobox_store::model::Payment,
        std::sync::Arc<fotobox_render::layouts::Layout>,
    ),
    KioskError,
> {
    let p = ctx
        .store
        .payment_by_order_id(order_id)
        .await?
        .ok_or_else(|| KioskError::NotFound(order_id.to_string()))?;
    if p.status() != PaymentStatus::Success {
        return Err(KioskError::Conflict(format!(
            "order {order_id} is not paid"
        )));
    }
    let name = p.template_name.clone().unwrap_or_default();
    let layout = photos::layouts(ctx)
        .await?
        .get(&name)
        .ok_or_else(|| KioskError::Invalid(format!("layout {name:?} is not installed")))?;
    Ok((p, layout))
}

fn incoming_dir(ctx: &AppContext, p: &fotobox_store::model::Payment) -> PathBuf {
    photos::order_dir(ctx, p).join("incoming")
}

/// What [`save_shot`] answers.
#[derive(Debug, Clone, Serialize)]
pub struct ShotSaved {
    pub order_id: String,
    pub index: usize,
    pub shots: usize,
    pub bytes: usize,
}

/// Where an upload may go: a paid order's shot slot, checked before any byte of the body is
/// read (the order id alone must not make the kiosk read and buffer 16 MiB).
#[derive(Debug, Clone)]
pub struct ShotTarget {
    payment: fotobox_store::model::Payment,
    index: usize,
    shots: usize,
}

/// Check that shot `index` (0-based) of `order_id` may be uploaded: the order exists, is paid,
/// and its layout has that many pictures.
pub async fn shot_target(
    ctx: &AppContext,
    order_id: &str,
    index: usize,
) -> Result<ShotTarget, KioskError> {
    let (p, layout) = paid_order(ctx, order_id).await?;
    if index >= layout.shots {
        return Err(KioskError::Invalid(format!(
            "shot {index} is out of range: layout {} takes {} pictures",
            layout.name, layout.shots
        )));
    }
    Ok(ShotTarget {
        payment: p,
        index,
        shots: layout.shots,
    })
}

/// Keep shot `index` (0-based) of a paid order: JPEG or PNG bytes, written atomically. A retake
/// simply replaces it.
pub async fn save_shot(
    ctx: &AppContext,
    order_id: &str,
    index: usize,
    bytes: Vec<u8>,
) -> Result<ShotSaved, KioskError> {
    let target = shot_target(ctx, order_id, index).await?;
    save_shot_to(ctx, target, bytes).await
}

/// [`save_shot`] for a checked target. The picture's header is read (not the picture): one
/// over [`fotobox_render::compose::MAX_SHOT_SIDE`] pixels a side is refused here, so it is
/// never decoded.
pub async fn save_shot_to(
    ctx: &AppContext,
    target: ShotTarget,
    bytes: Vec<u8>,
) -> Result<ShotSaved, KioskError> {
    let ShotTarget {
        payment: p,
        index,
        shots,
    } = target;
    if bytes.len() > MAX_SHOT_BYTES {
        return Err(KioskError::Invalid("the picture is too large".into()));
    }
    let ext = image_ext(&bytes)
        .ok_or_else(|| KioskError::Invalid("a shot must be JPEG or PNG bytes".into()))?;
    let (width, height) = fotobox_render::compose::check_shot_size(index, &bytes)
        .map_err(|e| KioskError::Invalid(e.to_string()))?;
    let dir = incoming_dir(ctx, &p);
    let n = bytes.len();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        for other in ["jpg", "png"] {
            let _ = std::fs::remove_file(dir.join(format!("shot-{}.{other}", index + 1)));
        }
        fotobox_render::files::write_atomic(&dir.join(format!("shot-{}.{ext}", index + 1)), &bytes)
    })
    .await
    .map_err(|e| KioskError::Io(std::io::Error::other(e.to_string())))??;
    // A picture arrived: the page's camera works.
    crate::maintenance::devices::camera_ok(ctx, width, height).await;
    Ok(ShotSaved {
        order_id: p.order_id,
        index,
        shots,
        bytes: n,
    })
}

/// Compose the order from its saved shots: the photo record and one print job (printing starts
/// in the background). Repeated calls return the existing record.
pub async fn compose(ctx: &AppContext, order_id: &str) -> Result<PhotoView, KioskError> {
    if let Some(view) = photos::photo_status(ctx, order_id).await? {
        return Ok(view);
    }
    let (p, layout) = paid_order(ctx, order_id).await?;
    let dir = incoming_dir(ctx, &p);
    let mut shots = Vec::with_capacity(layout.shots);
    for i in 0..layout.shots {
        let mut found = None;
        for ext in ["jpg", "png"] {
            match tokio::fs::read(dir.join(format!("shot-{}.{ext}", i + 1))).await {
                Ok(b) => {
                    found = Some(b);
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        shots.push(found.ok_or_else(|| {
            KioskError::Conflict(format!("shot {i} of order {order_id} has not been taken"))
        })?);
    }
    let view = photos::create_photo(ctx, order_id, shots).await?;
    // The pipeline keeps its own copies of the shots next to the composite.
    if let Err(e) = tokio::fs::remove_dir_all(&dir).await {
        tracing::debug!(error = %e, "incoming shots not removed");
    }
    Ok(view)
}

/// The composite JPEG of a composed order (the print preview).
pub async fn preview(ctx: &AppContext, order_id: &str) -> Result<Vec<u8>, KioskError> {
    let view = photos::photo_status(ctx, order_id)
        .await?
        .ok_or_else(|| KioskError::Conflict(format!("order {order_id} is not composed yet")))?;
    Ok(tokio::fs::read(&view.composite_path).await?)
}

/// The print's progress as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PrintProgress {
    pub order_id: String,
    /// `queued`, `printing`, `done`, `failed`.
    pub state: String,
    pub copies: i64,
    /// Copies out of the printer (known when the job is done).
    pub printed: i64,
    pub attempts: i64,
    pub download_url: Option<String>,
    /// The download link as a QR code (SVG) for the thank-you screen.
    pub download_qr_svg: Option<String>,
    /// The fiscal receipt's link (the tax committee's), once the provider's receipt is known.
    pub receipt_url: Option<String>,
    /// That link as a QR code (SVG).
    pub receipt_qr_svg: Option<String>,
}

/// The order's print progress.
pub async fn print_status(ctx: &AppContext, order_id: &str) -> Result<PrintProgress, KioskError> {
    let view = photos::photo_status(ctx, order_id)
        .await?
        .ok_or_else(|| KioskError::Conflict(format!("order {order_id} is not composed yet")))?;
    let (state, copies, attempts) = match &view.print {
        Some(p) => (p.state.clone(), p.copies, p.attempts),
        None => ("queued".to_string(), view.copies, 0),
    };
    let download_qr_svg = match (&view.download_url, state.as_str()) {
        (Some(url), "done") => fotobox_render::qr::render_svg(url).ok(),
        _ => None,
    };
    let receipt_url = crate::fiscal::receipts::url_for_order(ctx, &view.order_id).await;
    let receipt_qr_svg = receipt_url
        .as_deref()
        .and_then(|u| fotobox_render::qr::render_svg(u).ok());
    Ok(PrintProgress {
        order_id: view.order_id,
        printed: if state == "done" { copies } else { 0 },
        state,
        copies,
        attempts,
        download_url: view.download_url,
        download_qr_svg,
        receipt_url,
        receipt_qr_svg,
    })
}

/// Make sure the order's print job runs (it is queued by [`compose`]; this starts the queue
/// runner if nothing is running, and never queues a second job).
pub async fn print(ctx: &AppContext, order_id: &str) -> Result<PrintProgress, KioskError> {
    let progress = print_status(ctx, order_id).await?;
    if progress.state == "queued" {
        photos::spawn_queue(ctx);
    }
    Ok(progress)
}

/// Reasons the page may give when it calls staff.
/// `payment`: the page stopped waiting for a payment still under way in the provider's app.
pub const STAFF_REASONS: &[&str] = &["help", "camera", "upload", "compose", "print", "payment"];

#[derive(Debug, Clone, Serialize)]
pub struct StaffCall {
    pub order_id: Option<String>,
    pub reason: String,
    /// A paid order was flagged for staff (reprint or refund).
    pub flagged: bool,
}

/// The customer (or the page, after a failure) calls staff. The call is logged; for a paid order
/// it is recorded as an event, and a failure opens a fulfilment flag so staff reprint or refund.
/// Reason `camera` also reports the camera lost (`camera_lost` alert, `/healthz` camera down)
/// until a shot is uploaded again.
pub async fn call_staff(
    ctx: &AppContext,
    order_id: Option<&str>,
    reason: &str,
) -> Result<StaffCall, KioskError> {
    let reason = STAFF_REASONS
        .iter()
        .find(|r| **r == reason)
        .ok_or_else(|| KioskError::Invalid(format!("unknown staff call reason {reason:?}")))?;
    tracing::warn!(
        order_id = order_id.unwrap_or("-"),
        reason,
        "customer needs staff"
    );
    if *reason == "camera" {
        crate::maintenance::devices::camera_lost(ctx, order_id).await;
    }
    let mut flagged = false;
    if let Some(id) = order_id {
        let p = ctx
            .store
            .payment_by_order_id(id)
            .await?
            .ok_or_else(|| KioskError::NotFound(id.to_string()))?;
        let now = ctx.clock.now();
        let mut tx = ctx.store.begin_write().await?;
        fotobox_store::payments::insert_event(
            &mut tx,
            p.id,
            "kiosk",
            "staff_call",
            &serde_json::json!({ "reason": reason }),
            now,
        )
        .await?;
        if p.status() == PaymentStatus::Success && *reason != "help" {
            flagged = pq::insert_flag(
                &mut tx,
                p.id,
                &format!("kiosk: {reason} failed during the customer's session"),
                "reprint",
                now,
            )
            .await?;
        }
        tx.commit().await?;
        if *reason == "payment" && p.status() != PaymentStatus::Success {
            let msg = format!(
                "Order {id}: the customer's payment was still under way in the {} app when the \
                 kiosk stopped waiting. If it is paid later it shows as \"paid, not started\": \
                 start the session from the panel or refund it.",
                p.payment_type
            );
            crate::maintenance::alerts::raise(
                ctx,
                crate::maintenance::alerts::AlertKind::Other("payment_unconfirmed"),
                &format!("payment_unconfirmed:{id}"),
                &msg,
            )
            .await;
        }
    }
    Ok(StaffCall {
        order_id: order_id.map(str::to_string),
        reason: reason.to_string(),
        flagged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_jpeg_and_png_only() {
        assert_eq!(image_ext(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("jpg"));
        assert_eq!(image_ext(b"\x89PNG\r\n\x1a\n...."), Some("png"));
        assert_eq!(image_ext(b"GIF89a"), None);
        assert_eq!(image_ext(b""), None);
    }
}
