//! Error kinds. Every domain error says what kind of failure it is; each door (the http crate,
//! the Tauri shell, the CLI) maps kinds to its own answers in exactly one place.

use serde::Serialize;

use fotobox_store::StoreError;

/// What kind of failure an error is, independent of how a door reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The thing asked for does not exist (an unknown order, alert, backup).
    NotFound,
    /// The request itself is wrong (a bad value, a missing field); repeating it cannot help.
    Invalid,
    /// The request is valid but the current state forbids it (paid, under way, queued).
    Conflict,
    /// A dependency is down for now (printer, provider API, disk); it may work later.
    Unavailable,
    /// Who is asking is not known (no or a wrong credential).
    Unauthorized,
    /// Who is asking is known but may not do this (a sandbox-only action in live mode).
    Forbidden,
    /// Refused for a while after too many failures (the PIN pad's lockout): wait, then retry.
    Locked,
    /// A bug or a storage failure: logged in full, answered without details.
    Internal,
}

/// A domain error with a kind.
pub trait DomainError: std::error::Error {
    fn kind(&self) -> ErrorKind;

    /// Machine-readable facts a caller may show (`attempts_left`, `locked_until`), if any.
    fn details(&self) -> Option<serde_json::Value> {
        None
    }
}

impl DomainError for StoreError {
    fn kind(&self) -> ErrorKind {
        match self {
            StoreError::Invalid(_) => ErrorKind::Invalid,
            StoreError::Conflict(_) => ErrorKind::Conflict,
            // Disk full or failed: nothing is wrong with the request, it may work later.
            e if e.write_failure().is_some() => ErrorKind::Unavailable,
            _ => ErrorKind::Internal,
        }
    }
}
