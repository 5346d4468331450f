//! Unattended operation: automatic verified backups with retention, the start-up integrity check
//! with recovery, data retention and archiving, tunnel supervision and health, the Click status
//! fallback, staff alerts (raised by the device checks in [`devices`] too), the detailed health
//! report and Prometheus metrics.
//!
//! Hooks elsewhere (each one line): `AppContext::new` (in `boot`) calls [`recovery::prepare_database`]
//! before the store is opened; the http crate's server calls [`tasks::spawn`] and mounts the
//! detailed `/healthz`, `/metrics` and the maintenance staff endpoints; the Payme and Click
//! handlers commit provider state changes through [`journal::commit`]; `orders::create_order` asks
//! [`tunnel::accepting_payments`] and [`writable::accepting_orders`]; `kiosk` reports printer readiness and the camera to
//! [`devices`]; the print queue raises `print_failed`.

pub mod alerts;
pub mod backups;
pub mod counters;
pub mod devices;
pub mod health;
pub mod journal;
pub mod metrics;
pub mod recovery;
pub mod retention;
pub mod state;
pub mod tasks;
pub mod tunnel;
pub mod writable;

pub use state::{
    ComponentReport, Level, MaintenanceState, SupervisorStatus, TunnelState, TunnelStatus,
};
pub use tasks::{report_component, scheduler_tick, spawn};
