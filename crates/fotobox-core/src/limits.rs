//! Bounds on heavy work: a few shot uploads and one composition at a time, so that parallel
//! requests (or a hostile page) cannot add their memory up to gigabytes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Uploads read into memory at once (16 MiB each at most).
pub const UPLOADS_AT_ONCE: usize = 2;
/// Compositions at once (each decodes a layout's shots).
pub const COMPOSITIONS_AT_ONCE: usize = 1;

/// The permits; one set per application context. Cheap to clone.
#[derive(Debug, Clone)]
pub struct HeavyWork {
    uploads: Arc<Semaphore>,
    compose: Arc<Semaphore>,
}

impl Default for HeavyWork {
    fn default() -> Self {
        HeavyWork {
            uploads: Arc::new(Semaphore::new(UPLOADS_AT_ONCE)),
            compose: Arc::new(Semaphore::new(COMPOSITIONS_AT_ONCE)),
        }
    }
}

impl HeavyWork {
    /// Wait for an upload slot (held until the permit is dropped).
    pub async fn upload(&self) -> Option<OwnedSemaphorePermit> {
        self.uploads.clone().acquire_owned().await.ok()
    }

    /// Wait for the composition slot.
    pub async fn compose(&self) -> Option<OwnedSemaphorePermit> {
        self.compose.clone().acquire_owned().await.ok()
    }
}

/// "At most once every so often per key" with an atomic check-and-set: two callers at the same
/// moment cannot both pass (the customer's "I have paid" from the window and from a browser).
#[derive(Debug, Clone, Default)]
pub struct OncePer {
    last: Arc<Mutex<HashMap<String, DateTime<Utc>>>>,
}

impl OncePer {
    /// Claim `key` at `now` unless it was claimed less than `gap` ago.
    pub fn try_claim(&self, key: &str, now: DateTime<Utc>, gap: Duration) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.get(key).is_some_and(|t| now - *t < gap) {
            return false;
        }
        if last.len() >= 1024 {
            last.retain(|_, t| now - *t < gap);
        }
        last.insert(key.to_string(), now);
        true
    }
}
