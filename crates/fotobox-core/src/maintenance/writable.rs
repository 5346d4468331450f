//! A full (or failing) disk is survived: while the database cannot be written
//! ([`fotobox_store::Store::write_failure`], set by the write that failed) the kiosk sells
//! nothing (readiness, `create_order`, `/healthz` say why); the probe task tries a small real
//! write every [`PROBE_EVERY`] and, as soon as one commits, the kiosk sells again by itself. A
//! `db_not_writable` staff alert is raised for the spell and resolved when it ends (a full disk
//! usually cannot store it, so it is stored, resolved, when the disk has room again).

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::context::AppContext;
use crate::maintenance::alerts::{self, AlertKind, Raised};

/// How often the probe writes while the database cannot be written.
pub const PROBE_EVERY: Duration = Duration::from_secs(2);
/// The staff alert's key.
pub const ALERT_KEY: &str = "db_not_writable";

/// Why new orders may not start: the database cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the database cannot be written ({reason})")]
pub struct NotWritable {
    /// `disk full`, `disk I/O error` or `read-only database`.
    pub reason: &'static str,
    pub since: DateTime<Utc>,
}

/// `Ok(())` while the database can be written (no side effects: reads the store's state only).
pub fn accepting_orders(ctx: &AppContext) -> Result<(), NotWritable> {
    match ctx.store.write_failure() {
        None => Ok(()),
        Some(f) => Err(NotWritable {
            reason: f.reason,
            since: f.since,
        }),
    }
}

/// What the probe task remembers between rounds.
#[derive(Debug, Default)]
pub struct Watch {
    /// The spell's alert is stored (raising it needs a write, which a full disk may refuse).
    raised: bool,
}

/// One round: nothing while the database can be written; else raise the alert (once a spell)
/// and probe. Returns whether the database can be written after the round.
pub async fn tick(ctx: &AppContext, watch: &mut Watch) -> bool {
    let Some(failure) = ctx.store.write_failure() else {
        return true;
    };
    let message = alert_text(ctx, failure.reason, failure.since).await;
    if !watch.raised {
        // Tried once a spell (a failure is logged); else at the end of the spell.
        watch.raised = true;
        if raise(ctx, &message).await.is_none() {
            watch.raised = false;
        }
    }
    match ctx.store.probe_write().await {
        Ok(_) => {
            if !watch.raised {
                raise(ctx, &message).await;
            }
            alerts::resolve(ctx, ALERT_KEY).await;
            *watch = Watch::default();
            true
        }
        Err(e) => {
            tracing::debug!(error = %e, "write probe failed: the database still cannot be written");
            false
        }
    }
}

/// Raise the alert; `None` when it could not be stored.
async fn raise(ctx: &AppContext, message: &str) -> Option<()> {
    match alerts::raise(ctx, AlertKind::DatabaseNotWritable, ALERT_KEY, message).await {
        Raised::Failed => None,
        Raised::New(_) | Raised::Repeat(_) => Some(()),
    }
}

async fn alert_text(ctx: &AppContext, reason: &str, since: DateTime<Utc>) -> String {
    let free = match super::health::disk_space(&ctx.data_dir).await {
        Some((free, _)) => format!(" {} KiB free on the data disk.", free / 1024),
        None => String::new(),
    };
    format!(
        "The database cannot be written ({reason}) since {}: new orders are refused until it \
         can.{free} Free disk space in the data folder; the kiosk sells again by itself.",
        since.format("%Y-%m-%d %H:%M:%S UTC")
    )
}
