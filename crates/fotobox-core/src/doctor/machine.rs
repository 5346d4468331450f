//! The checks of the machine's state: the printer queue (its CUPS state, over IPP), the paper counter,
//! disk space and where backups go, the clock, the staff PIN and whether the public URL answers.
//! Each is bounded in time and reads only.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fotobox_store::photos as pq;
use fotobox_store::Store;

use crate::config::{Config, PrinterKind};
use crate::doctor::report::{Check, Status};
use crate::maintenance::health::{disk_level, disk_space};
use crate::maintenance::state::Level;
use crate::outbound::{Method, OutRequest, Outbound};
use crate::print::{Printer, PrinterStatus};

/// Longest wait for the public URL's `/healthz`.
const REACH_TIMEOUT_MAX: Duration = Duration::from_secs(10);
/// Longest wait for `timedatectl`.
const CLOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// The CUPS queue: present, accepting, enabled and without a state reason that stops printing. `None` for the
/// folder printer or without a queue name (the settings' check reports that).
pub async fn printer_queue(c: &Config, data_dir: &Path) -> Option<Check> {
    if c.printer.effective_kind(c.mode) != PrinterKind::Cups || c.printer.name.trim().is_empty() {
        return None;
    }
    let name = c.printer.name.trim();
    let printer = Printer::from_config(c, data_dir);
    let seen = printer.observe().await;
    Some(match seen.status {
        PrinterStatus::NotReady(reason) if seen.state.is_none() => {
            Check::machine("printer.queue", Status::Wrong, reason).fix(format!(
                "switch the printer on and connect it; `lpstat -p {name}` shows the queue, \
                 `cupsenable {name}` and `cupsaccept {name}` open it"
            ))
        }
        PrinterStatus::NotReady(reason) => Check::machine("printer.queue", Status::Wrong, reason)
            .fix(format!(
                "see to the printer (paper, ribbon, door, cable, power); `lpstat -l -p {name}` \
                 shows its state reasons, `cupsenable {name}` resumes a paused queue"
            )),
        PrinterStatus::Ready if !seen.warnings.is_empty() => Check::machine(
            "printer.queue",
            Status::Warn,
            format!("queue {name} reports {}", seen.warnings.join(", ")),
        ),
        PrinterStatus::Ready => Check::machine(
            "printer.queue",
            Status::Ok,
            format!("queue {name} present, accepting, nothing that stops printing"),
        ),
    })
}

/// The paper counter: set by staff after loading a roll, and not empty.
pub async fn paper(store: Option<&Store>) -> Check {
    let fix = "load a roll, then `fotobox paper reset` (or the panel's Devices page)";
    let Some(store) = store else {
        return Check::machine("paper", Status::Missing, "no database yet").fix(fix);
    };
    let read = async {
        let mut conn = store.pool().acquire().await?;
        let roll = pq::current_roll(&mut conn).await?;
        let pending = pq::pending_copies(&mut conn).await?;
        Ok::<_, fotobox_store::StoreError>((roll, pending))
    };
    match read.await {
        Err(e) => Check::machine(
            "paper",
            Status::Warn,
            format!("the counter cannot be read: {e}"),
        ),
        Ok((None, _)) => {
            Check::machine("paper", Status::Missing, "the counter was never set").fix(fix)
        }
        Ok((Some(r), _)) if r.reset_by == "initial" => Check::machine(
            "paper",
            Status::Missing,
            "the counter was never set by staff (it assumes a full roll)",
        )
        .fix(fix),
        Ok((Some(r), pending)) => {
            let left = r.remaining - pending;
            if left <= 0 {
                Check::machine(
                    "paper",
                    Status::Wrong,
                    format!("no prints left (roll of {})", r.roll_size),
                )
                .fix(fix)
            } else {
                Check::machine(
                    "paper",
                    Status::Ok,
                    format!("{left} of {} prints left", r.roll_size),
                )
            }
        }
    }
}

/// `p`, or its nearest ancestor that exists (a folder not created yet lives on that disk).
fn existing(p: &Path) -> PathBuf {
    let mut cur = p.to_path_buf();
    while !cur.exists() {
        match cur.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => cur = parent.to_path_buf(),
            _ => break,
        }
    }
    cur
}

fn mib(b: u64) -> u64 {
    b / (1024 * 1024)
}

/// Free space of the data folder (money path: a full disk stops sales) and of the backup
/// folder, and whether backups go to another file system.
pub async fn disks(c: &Config, data_dir: &Path) -> Vec<Check> {
    let min_mb = c.alerts.disk_min_free_mb;
    let backup_dir = crate::maintenance::backups::auto_dir(c, data_dir);
    let (data_probe, backup_probe) = (existing(data_dir), existing(&backup_dir));
    let data = match disk_space(&data_probe).await {
        None => Check::machine(
            "disk.data",
            Status::Warn,
            format!("free space of {} unknown", data_dir.display()),
        ),
        Some((free, total)) => {
            let detail = format!(
                "{} MiB free of {} MiB at {}",
                mib(free),
                mib(total),
                data_dir.display()
            );
            match disk_level(free, min_mb) {
                Level::Down => Check::machine("disk.data", Status::Wrong, detail),
                Level::Degraded => Check::machine("disk.data", Status::Warn, detail),
                _ => Check::machine("disk.data", Status::Ok, detail),
            }
            .fix(if disk_level(free, min_mb) == Level::Ok {
                String::new()
            } else {
                format!("free space (alerts.disk_min_free_mb = {min_mb})")
            })
        }
    };
    let backups = match disk_space(&backup_probe).await {
        None => Check::advice(
            "disk.backups",
            Status::Warn,
            format!("free space of {} unknown", backup_dir.display()),
        ),
        Some((free, total)) => {
            let status = if disk_level(free, min_mb) == Level::Ok {
                Status::Ok
            } else {
                Status::Warn
            };
            Check::advice(
                "disk.backups",
                status,
                format!(
                    "{} MiB free of {} MiB at {}",
                    mib(free),
                    mib(total),
                    backup_dir.display()
                ),
            )
        }
    };
    let dev = |p: &Path| rustix::fs::stat(p).ok().map(|s| s.st_dev);
    let place = if !c.backup.enabled {
        Check::advice("backup.dir", Status::Warn, "automatic backups are off")
            .fix("set backup.enabled = true")
    } else {
        match (dev(&data_probe), dev(&backup_probe)) {
            (Some(a), Some(b)) if a == b => Check::advice(
                "backup.dir",
                Status::Warn,
                "backups are on the same file system as the database: one disk failure loses both",
            )
            .fix("set backup.dir to a folder on another disk"),
            (Some(_), Some(_)) => Check::advice(
                "backup.dir",
                Status::Ok,
                "backups go to another file system",
            ),
            _ => Check::advice(
                "backup.dir",
                Status::Warn,
                "cannot tell which file system the backups go to",
            ),
        }
    };
    vec![data, backups, place]
}

/// The clock, as `timedatectl` reports NTP (providers reject stale timestamps).
pub async fn clock() -> Check {
    let args = ["show", "-p", "NTPSynchronized", "--value"].map(String::from);
    let fix = "enable time synchronisation: `sudo timedatectl set-ntp true`";
    match crate::print::run_blocking("timedatectl".into(), args.to_vec(), CLOCK_TIMEOUT).await {
        Ok((true, out, _)) if out.trim() == "yes" => {
            Check::advice("clock", Status::Ok, "synchronised (NTP)")
        }
        Ok((true, out, _)) if out.trim() == "no" => {
            Check::advice("clock", Status::Warn, "not synchronised").fix(fix)
        }
        _ => Check::advice(
            "clock",
            Status::Warn,
            "unknown (timedatectl gave no answer)",
        )
        .fix("make sure the clock is synchronised (NTP)"),
    }
}

/// A staff PIN: in the database (set-pin, panel) or `staff.pin_hash`.
pub async fn staff_pin(c: &Config, store: Option<&Store>) -> Check {
    let in_db = match store {
        Some(s) => s
            .staff_setting(crate::panel::PIN_HASH_KEY)
            .await
            .ok()
            .flatten()
            .is_some(),
        None => false,
    };
    if in_db || !c.staff.pin_hash.is_empty() {
        Check::advice("staff.pin", Status::Ok, "set")
    } else {
        Check::advice(
            "staff.pin",
            Status::Missing,
            "no staff PIN: the panel cannot be opened on the kiosk",
        )
        .fix("`fotobox staff set-pin`")
    }
}

/// `GET {server.public_url}/healthz` from this machine, through the tunnel.
pub async fn public_url_reachable(c: &Config, http: &Outbound) -> Check {
    let Some(base) = c
        .server
        .public_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    else {
        return Check::advice(
            "public_url.healthz",
            Status::Warn,
            "not checked: server.public_url is not set",
        );
    };
    let url = format!("{}/healthz", base.trim_end_matches('/'));
    let timeout = Duration::from_secs(c.tunnel.check_timeout_secs.max(1)).min(REACH_TIMEOUT_MAX);
    let fix =
        "start the kiosk (it starts tunnel.command) or the tunnel, and check that the tunnel \
               forwards to server.callback_addr";
    match http
        .send(OutRequest::new(Method::Get, url.clone(), timeout))
        .await
    {
        Ok(r) if r.is_success() && r.json()["status"] == "ok" => {
            Check::machine("public_url.healthz", Status::Ok, format!("{url} answers"))
        }
        Ok(r) => Check::machine(
            "public_url.healthz",
            Status::Wrong,
            format!(
                "{url} answered HTTP {} without the kiosk's status",
                r.status
            ),
        )
        .fix(fix),
        Err(e) => Check::machine(
            "public_url.healthz",
            Status::Wrong,
            format!("{url} does not answer: {e}"),
        )
        .fix(fix),
    }
}

/// At a start the public URL is not fetched: the tunnel starts with the kiosk.
pub fn public_url_not_checked_at_start() -> Check {
    Check::advice(
        "public_url.healthz",
        Status::Warn,
        "not checked at start: the tunnel starts with the kiosk, and new orders wait until it answers",
    )
}
