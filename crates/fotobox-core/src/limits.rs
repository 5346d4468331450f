//! Bounds on heavy work: a few shot uploads and one composition at a time, so that parallel
//! requests (or a hostile page) cannot add their memory up to gigabytes.

use std::sync::Arc;

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
