//! The in-process event channel: status changes are published here right after their commit.

use tokio::sync::broadcast;

use crate::model::StatusEvent;

/// Broadcast bus of [`StatusEvent`]s. Cheap to clone; subscribers that lag lose old events
/// (they can always poll the status).
#[derive(Debug, Clone)]
pub struct EventBus {
    tx: broadcast::Sender<StatusEvent>,
}

impl Default for EventBus {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(256);
        EventBus { tx }
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
}
