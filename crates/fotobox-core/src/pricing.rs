//! Prices in force: the config's `[pricing]`, overridden by the newest prices staff saved. Domain
//! code read by orders (the amount of a new order) and shown by the staff panel.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use fotobox_store::StoreError;

use crate::context::AppContext;

/// Prices in force: config `[pricing]`, overridden by the newest row staff saved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pricing {
    pub layouts: BTreeMap<String, i64>,
    pub extra_copy: i64,
    pub max_copies: u64,
    /// `config` or `staff` (the newest saved setting).
    pub source: &'static str,
    pub updated_at: Option<DateTime<Utc>>,
}

/// The prices a new order is charged.
pub async fn effective_pricing(ctx: &AppContext) -> std::result::Result<Pricing, StoreError> {
    let cfg = &ctx.config.pricing;
    let mut layouts: BTreeMap<String, i64> =
        cfg.layouts.iter().map(|(k, v)| (k.clone(), v.0)).collect();
    let mut extra_copy = cfg.extra_copy;
    let mut source = "config";
    let mut updated_at = None;
    if let Some(row) = ctx.store.latest_prices().await? {
        let saved: BTreeMap<String, i64> =
            serde_json::from_str(&row.layouts_json).unwrap_or_default();
        // Only layouts the config knows; a layout added to the config later keeps its price.
        for (k, v) in saved {
            if let Some(slot) = layouts.get_mut(&k) {
                *slot = v;
            }
        }
        extra_copy = row.extra_copy;
        source = "staff";
        updated_at = Some(row.created_at);
    }
    Ok(Pricing {
        layouts,
        extra_copy,
        max_copies: cfg.max_copies,
        source,
        updated_at,
    })
}
