//! The app's clock: UTC wall time with an offset that tests can move forward.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, NaiveTime, TimeZone, Utc};

/// Cloneable clock. Production uses it as is; tests call [`Clock::advance`] to jump in time.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Milliseconds since the Unix epoch (Payme's unit).
    pub fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }

    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}
/// The most recent instant at local time `at` that is not after `now`.
pub fn last_slot(now: DateTime<Utc>, at: NaiveTime, offset: FixedOffset) -> DateTime<Utc> {
    let local = now.with_timezone(&offset);
    let today = local.date_naive().and_time(at);
    let slot = offset
        .from_local_datetime(&today)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    if slot <= now {
        slot
    } else {
        slot - Duration::days(1)
    }
}
