//! Logging: readable lines on stderr and a daily-rotated file in `<data_dir>/logs`.

use std::io::IsTerminal;
use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;

/// Keeps the log file writer flushing; hold it for the life of the program.
pub type Guard = WorkerGuard;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

/// Install the global subscriber. Keep the guard alive for the program's life (it flushes the file).
/// The level comes from `FOTOBOX_LOG` (default `info`). Returns `None` if one was already installed.
pub fn init(data_dir: &Path) -> Option<Guard> {
    let filter = EnvFilter::try_from_env("FOTOBOX_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = data_dir.join("logs");
    let _ = std::fs::create_dir_all(&logs);
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("fotobox")
        .filename_suffix("log")
        .max_log_files(14)
        .build(&logs)
        .ok()?;
    let (file, guard) = tracing_appender::non_blocking(appender);
    tracing_subscriber::registry()
        .with(filter)
        .with(
            fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal())
                .with_target(false),
        )
        .with(fmt::layer().with_writer(file).with_ansi(false))
        .try_init()
        .ok()?;
    Some(guard)
}
