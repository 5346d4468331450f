//! Running the core: both listeners, background tasks, and graceful shutdown.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use fotobox_core::context::{AppContext, AppError};
use fotobox_store::backup::ServerLock;

/// How often unpaid orders past their time are expired.
pub const EXPIRY_SWEEP_EVERY: Duration = Duration::from_secs(15);

/// How often the photo pipeline re-checks paid orders and runs the print queue.
pub const PHOTOS_EVERY: Duration = Duration::from_secs(20);

/// How long shutdown waits for in-flight requests and background tasks.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A running server. Dropping it does not stop it; call [`RunningServer::shutdown`].
#[derive(Debug)]
pub struct RunningServer {
    pub callback_addr: SocketAddr,
    pub api_addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    ctx: AppContext,
    _lock: ServerLock,
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, AppError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| AppError::Bind { addr, source })
}

/// Bind both listeners and start serving. The callback listener serves only provider callbacks
/// and `/healthz`; the API listener serves the UI and staff endpoints. In live mode the start
/// checks run first (`fotobox_core::doctor::start_check`): a missing or malformed prerequisite
/// of taking real money refuses the start, one line per failure naming the key.
pub async fn start(ctx: AppContext) -> Result<RunningServer, AppError> {
    fotobox_core::doctor::start_check(&ctx).await?;
    let lock = ServerLock::acquire(ctx.store.path())?;
    // A staff self-test a stopped process left under way can no longer end: say so.
    match fotobox_core::selftest::recover(&ctx).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(n, "self-tests interrupted by the restart marked failed"),
        Err(e) => tracing::warn!(error = %e, "cannot mark interrupted self-tests"),
    }
    if !ctx.config.server.api_addr.ip().is_loopback() {
        tracing::warn!(addr = %ctx.config.server.api_addr, "the API listener is not on loopback; staff endpoints still need the token");
    }
    let callback = bind(ctx.config.server.callback_addr).await?;
    let api = bind(ctx.config.server.api_addr).await?;
    let callback_addr = callback.local_addr().map_err(|source| AppError::Bind {
        addr: ctx.config.server.callback_addr,
        source,
    })?;
    let api_addr = api.local_addr().map_err(|source| AppError::Bind {
        addr: ctx.config.server.api_addr,
        source,
    })?;
    ctx.set_callback_addr(callback_addr);
    tracing::info!(%callback_addr, %api_addr, mode = ?ctx.config.mode, db = %ctx.store.path().display(), "fotobox listening");

    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    for (listener, router) in [
        (callback, crate::routers::callback_router(ctx.clone())),
        (api, crate::routers::api_router(ctx.clone())),
    ] {
        let mut rx = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(error = %e, "listener failed");
            }
        }));
    }
    let sweeper_ctx = ctx.clone();
    let mut rx = stop_rx.clone();
    tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(EXPIRY_SWEEP_EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    match fotobox_core::orders::expire_due(&sweeper_ctx).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(expired = n, "expired unpaid orders"),
                        Err(e) => tracing::warn!(error = %e, "expiry sweep failed"),
                    }
                }
                _ = rx.changed() => break,
            }
        }
    }));
    // Photos: at start, bring every paid order to printed or flagged (a crash may have stopped
    // it anywhere); then keep doing so and keep the print queue moving (a paused printer's job
    // is retried, a paid order whose customer walked away is flagged after the capture timeout).
    let photos_ctx = ctx.clone();
    let mut rx = stop_rx.clone();
    tasks.push(tokio::spawn(async move {
        match fotobox_core::photos::resume(&photos_ctx, fotobox_core::photos::ResumeMode::AtStart).await {
            Ok(r) if r != Default::default() => tracing::info!(?r, "photo pipeline resumed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "photo pipeline resume failed"),
        }
        let mut tick = tokio::time::interval_at(
            tokio::time::Instant::now() + PHOTOS_EVERY,
            PHOTOS_EVERY,
        );
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = fotobox_core::photos::resume(&photos_ctx, fotobox_core::photos::ResumeMode::Running).await {
                        tracing::warn!(error = %e, "photo pipeline tick failed");
                    }
                    if let Err(e) = fotobox_core::photos::purge_expired_tokens(&photos_ctx).await {
                        tracing::warn!(error = %e, "download token purge failed");
                    }
                    if let Err(e) = fotobox_core::photos::purge_old_photos(&photos_ctx).await {
                        tracing::warn!(error = %e, "photo retention failed");
                    }
                }
                _ = rx.changed() => break,
            }
        }
    }));
    // Unattended operation: scheduler, alert sender, tunnel health check and supervisor.
    tasks.extend(fotobox_core::maintenance::spawn(&ctx, &stop_rx));
    Ok(RunningServer {
        callback_addr,
        api_addr,
        stop,
        tasks,
        ctx,
        _lock: lock,
    })
}

impl RunningServer {
    /// Stop accepting, let in-flight requests finish, then close the database pool.
    /// Open event streams are ended; a task that still has not finished after
    /// [`SHUTDOWN_GRACE`] is aborted so a stuck client cannot keep the kiosk from stopping.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        self.ctx.events.close();
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        for mut t in self.tasks {
            if tokio::time::timeout_at(deadline, &mut t).await.is_err() {
                tracing::warn!("a task did not stop within the grace period; aborting it");
                t.abort();
            }
        }
        // Closing the pool waits for every connection to come back; a task outside `tasks` still
        // holding one (a print or receipt job between its steps) must not keep the process alive
        // for ever. Every commit is already durable (WAL, synchronous=FULL), so leaving is safe.
        if tokio::time::timeout(SHUTDOWN_GRACE, self.ctx.store.close())
            .await
            .is_err()
        {
            tracing::warn!("the database did not close within the grace period; leaving anyway");
        }
        tracing::info!("fotobox stopped");
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received");
}
