//! Fotobox store: the SQLite pool with the kiosk's pragmas, the migrations, the row types and
//! every SQL statement (one module per table family), and the backup primitives. Knows nothing of
//! HTTP, payment providers or the config file.
//!
//! Architecture Invariant: this crate is the only place with SQL; it depends on no other
//! fotobox crate.

pub mod backup;
pub mod click;
pub mod click_fiscal;
pub mod inflight;
pub mod journal;
pub mod maintenance;
pub mod model;
pub mod money;
pub mod payme;
pub mod payments;
pub mod photos;
pub mod pool;
pub mod reconcile;
pub mod refunds;
pub mod replay;
pub mod self_tests;
pub mod staff;
pub mod writable;

pub use journal::writer::Journal;
pub use money::Sum;
pub use payments::{ListFilter, PeriodTotals, Stats};
pub use pool::{db_time, latest_schema_version, Result, Soundness, Store, StoreError, MIGRATOR};
pub use writable::{WriteFailure, WriteTx};
