//! Running the checklist: for the staff panel (a running kiosk), for `fotobox doctor` (from the
//! config alone, without a running server and without its lock) and at a live start, which
//! refuses on a failed setting and logs the rest.

use std::path::Path;
use std::time::Duration;

use fotobox_store::Store;

use crate::config::{Config, Mode};
use crate::context::{AppContext, AppError};
use crate::doctor::machine;
use crate::doctor::report::{Report, Status};
use crate::doctor::settings;
use crate::outbound::Outbound;
use crate::sandbox::SandboxCredentials;

/// What the checks look at.
pub struct Subject<'a> {
    pub config: &'a Config,
    pub data_dir: &'a Path,
    /// The database, when there is one.
    pub store: Option<&'a Store>,
    pub http: &'a Outbound,
}

/// Whether the public URL is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// `GET {public_url}/healthz` now.
    Probe,
    /// Not at a start: the tunnel starts with the kiosk.
    Skip,
}

/// Every check, in the order they are listed.
pub async fn examine(s: &Subject<'_>, reach: Reach) -> Report {
    let c = s.config;
    let generated = SandboxCredentials::stored(s.data_dir);
    let mut checks = vec![settings::mode(c)];
    checks.extend(settings::providers(c, generated.as_ref()));
    checks.extend(settings::fiscal(c));
    checks.push(settings::public_url(c));
    checks.push(match reach {
        Reach::Probe => machine::public_url_reachable(c, s.http).await,
        Reach::Skip => machine::public_url_not_checked_at_start(),
    });
    checks.push(settings::printer(c));
    checks.extend(machine::printer_queue(c, s.data_dir).await);
    checks.push(machine::paper(s.store).await);
    checks.extend(machine::disks(c, s.data_dir).await);
    checks.push(machine::clock().await);
    checks.push(machine::staff_pin(c, s.store).await);
    Report::new(c.mode, checks)
}

/// The checklist of this running kiosk (the staff panel's Devices page).
pub async fn checklist(ctx: &AppContext) -> Report {
    let subject = Subject {
        config: &ctx.config,
        data_dir: &ctx.data_dir,
        store: Some(&ctx.store),
        http: &ctx.http,
    };
    examine(&subject, Reach::Probe).await
}

/// `fotobox doctor`: the checklist from the config alone. Needs no running server and takes no
/// lock: the database, when it exists, is opened without creating or migrating anything, and
/// nothing is written (no generated token or credential either).
pub async fn offline(config: &Config) -> Result<Report, AppError> {
    let data_dir = config.resolve_data_dir()?;
    let db = config.database_path()?;
    let store = if db.is_file() {
        Store::open_existing(&db, Duration::from_millis(config.database.busy_timeout_ms))
            .await
            .ok()
    } else {
        None
    };
    let http = Outbound::default();
    let subject = Subject {
        config,
        data_dir: &data_dir,
        store: store.as_ref(),
        http: &http,
    };
    let report = examine(&subject, Reach::Probe).await;
    if let Some(s) = store {
        s.close().await;
    }
    Ok(report)
}

/// A live start's check (`fotobox serve`, the kiosk window): the same list without fetching the
/// public URL. A failed setting (credentials, fiscal data, public URL, printer queue name, a
/// generated sandbox credential) refuses the start with one line per failure naming the key;
/// the machine's state (printer, paper, disk) is only logged, since readiness refuses orders
/// until it mends and a refused start would crash-loop. Sandbox mode checks nothing here.
pub async fn start_check(ctx: &AppContext) -> Result<(), AppError> {
    if ctx.config.mode != Mode::Live {
        return Ok(());
    }
    let subject = Subject {
        config: &ctx.config,
        data_dir: &ctx.data_dir,
        store: Some(&ctx.store),
        http: &ctx.http,
    };
    let report = examine(&subject, Reach::Skip).await;
    let refused: Vec<String> = report.start_failures().iter().map(|c| c.line()).collect();
    for c in &report.checks {
        if c.status != Status::Ok && !(c.at_start && c.status.is_failure()) {
            tracing::warn!(key = c.key, status = c.status.as_str(), detail = %c.detail, "live start check");
        }
    }
    if refused.is_empty() {
        tracing::info!("live start checks passed");
        Ok(())
    } else {
        for line in &refused {
            tracing::error!("{line}");
        }
        Err(AppError::LiveStartRefused(refused))
    }
}
