//! `fotobox doctor` and the live start check: the prerequisites of taking real money, each ok /
//! missing / wrong / warn with a detail and what to do (`report`); the settings' checks
//! (`settings`), the machine's (`machine`) and running them (`run`). Sandbox mode lists the same
//! checks and nothing fails. No check ever prints a secret.

pub mod machine;
pub mod report;
pub mod run;
pub mod settings;

pub use report::{Check, Report, Status};
pub use run::{checklist, examine, offline, start_check, Reach, Subject};
