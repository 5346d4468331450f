//! The in-process event channel: status changes are published here right after their commit.

use std::sync::Arc;

use tokio::sync::{broadcast, watch};

use fotobox_store::model::StatusEvent;

/// Broadcast bus of [`StatusEvent`]s. Cheap to clone; subscribers that lag lose old events
/// (they can always poll the status).
#[derive(Debug, Clone)]
pub struct EventBus {
    tx: broadcast::Sender<StatusEvent>,
    /// Set once when the server shuts down, so long-lived subscribers (server-sent event
    /// streams) end and graceful shutdown does not wait for them forever.
    closed: Arc<watch::Sender<bool>>,
}

impl Default for EventBus {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(256);
        let (closed, _) = watch::channel(false);
        EventBus {
            tx,
            closed: Arc::new(closed),
        }
    }
}

impl EventBus {
    /// Publish after the database commit succeeded; never before.
    pub fn publish(&self, ev: StatusEvent) {
        // No subscriber is not an error.
        let _ = self.tx.send(ev);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<StatusEvent> {
        self.tx.subscribe()
    }

    /// Tell long-lived subscribers that the server is stopping.
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Resolves once [`EventBus::close`] was called (at once if it already was).
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.closed.subscribe();
        async move {
            let _ = rx.wait_for(|c| *c).await;
        }
    }
}
