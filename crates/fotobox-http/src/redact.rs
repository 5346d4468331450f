//! What request logs may show of a request: a digital-copy token is a credential.

/// The path as logged: a digital-copy token is a credential, so `/p/<token>` is redacted.
pub fn loggable_path(path: &str) -> &str {
    if path.starts_with("/p/") {
        "/p/<token>"
    } else {
        path
    }
}
