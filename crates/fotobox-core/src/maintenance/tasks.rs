//! The maintenance tasks: the scheduler (backups, retention, optimize, device checks, summary,
//! Click status fallback), the fiscal receipts job, the alert sender, the write probe while the
//! database cannot be written, the tunnel health check and supervisor.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::context::AppContext;
use crate::maintenance::state::{stopped, Level};
use crate::maintenance::{alerts, backups, devices, retention, tunnel, writable};

/// How often the scheduler looks at the clock (backups, retention, optimize, device checks,
/// summary).
pub const SCHEDULER_EVERY: Duration = Duration::from_secs(30);
/// The scheduler's first look, after start (keeps start-up and short runs quiet).
pub const SCHEDULER_FIRST: Duration = Duration::from_secs(30);
/// How often the fiscal receipts job looks for due work (Click receipts, the missing-receipt
/// alert), and its first look.
pub const FISCAL_EVERY: Duration = Duration::from_secs(30);
pub const FISCAL_FIRST: Duration = Duration::from_secs(10);
/// How often the alert sender looks for due retries (it is also woken by every new alert).
pub const SENDER_EVERY: Duration = Duration::from_secs(15);

/// A subsystem (camera, printer, ...) reports its state for `/healthz` and the staff panel.
/// Until one reports, it shows as `unknown`.
pub fn report_component(ctx: &AppContext, name: &str, status: Level, detail: &str) {
    ctx.maintenance
        .report(name, status, detail, ctx.clock.now());
}

/// One scheduler step: daily backup, daily retention (right after the backup when backups are
/// on, on its own when they are off), `PRAGMA optimize`, device checks (printer, paper, disk),
/// daily summary and the Click status fallback. Each part logs its own failures.
pub async fn scheduler_tick(ctx: &AppContext) {
    let backed_up = backups::tick(ctx).await.is_some();
    let retained = retention::tick(ctx).await.is_some();
    // (Asked every time: the periodic timer starts at the first look.)
    let periodic = ctx
        .maintenance
        .optimize_due(ctx.clock.now(), ctx.config.schedule.optimize_every_hours);
    if backed_up || retained || periodic {
        optimize(ctx).await;
    }
    devices::check(ctx).await;
    alerts::summary_tick(ctx).await;
    crate::click_api::auto_check(ctx).await;
}

async fn optimize(ctx: &AppContext) {
    if let Err(e) = fotobox_store::maintenance::optimize(ctx.store.pool()).await {
        tracing::warn!(error = %e, "PRAGMA optimize failed");
    }
}

/// Start the background tasks (scheduler with the device checks, alert sender, write probe,
/// tunnel health check and supervisor).
/// Each ends when `stop` turns true; the supervisor kills its command first.
pub fn spawn(ctx: &AppContext, stop: &watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();

    let (c, mut rx) = (ctx.clone(), stop.clone());
    tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(
            tokio::time::Instant::now() + SCHEDULER_FIRST,
            SCHEDULER_EVERY,
        );
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => scheduler_tick(&c).await,
                _ = stopped(&mut rx) => break,
            }
        }
    }));

    let (c, mut rx) = (ctx.clone(), stop.clone());
    tasks.push(tokio::spawn(async move {
        loop {
            if let Err(e) = alerts::deliver_pending(&c).await {
                tracing::warn!(error = %e, "alert delivery failed");
            }
            tokio::select! {
                _ = c.maintenance.sender_woken() => {}
                _ = tokio::time::sleep(SENDER_EVERY) => {}
                _ = stopped(&mut rx) => break,
            }
        }
    }));

    // Fiscal receipts: its own task, so a slow Click never holds up the scheduler.
    let (c, mut rx) = (ctx.clone(), stop.clone());
    tasks.push(tokio::spawn(async move {
        let mut tick =
            tokio::time::interval_at(tokio::time::Instant::now() + FISCAL_FIRST, FISCAL_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    crate::fiscal::click_job::tick(&c).await;
                    crate::fiscal::receipts::missing_tick(&c).await;
                }
                _ = stopped(&mut rx) => break,
            }
        }
    }));

    // The write probe: idle while the database can be written (one lock read a round).
    let (c, mut rx) = (ctx.clone(), stop.clone());
    tasks.push(tokio::spawn(async move {
        let mut watch = writable::Watch::default();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(writable::PROBE_EVERY) => {
                    writable::tick(&c, &mut watch).await;
                }
                _ = stopped(&mut rx) => break,
            }
        }
    }));

    if ctx.config.server.public_url.is_some() {
        tasks.push(tokio::spawn(tunnel::health_loop(ctx.clone(), stop.clone())));
    }
    if !ctx.config.tunnel.command.trim().is_empty() {
        tasks.push(tokio::spawn(tunnel::supervise(ctx.clone(), stop.clone())));
    }
    tasks
}
