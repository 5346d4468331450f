//! Files only the kiosk's user may read (the staff token, sandbox credentials): created with
//! mode 0600 from the start, and refused at start when group or others may read them.

use crate::context::AppError;

/// A file that group or others may read or write is refused (unix).
pub fn refuse_wide_mode(path: &std::path::Path, meta: &std::fs::Metadata) -> Result<(), AppError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(AppError::Insecure {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = (path, meta);
    Ok(())
}

/// Create `path` (it must not exist) readable and writable by the owner only, from the start.
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}
