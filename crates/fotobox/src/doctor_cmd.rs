//! `fotobox doctor`: the prerequisites of taking real money as a table (one line per check:
//! status, key, detail, what to do) or JSON; exits non-zero when a live money-path one fails.

use std::io::Write;

use anyhow::{bail, Result};
use fotobox_core::config::Mode;
use fotobox_core::doctor::{self, Report, Status};
use fotobox_core::Config;

pub async fn run(cfg: Config, json: bool) -> Result<()> {
    let report = doctor::offline(&cfg).await?;
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_table(&mut out, &report)?;
    }
    out.flush()?;
    if report.failures > 0 {
        bail!(
            "{} money-path prerequisite(s) fail: this kiosk must not take real money yet",
            report.failures
        );
    }
    Ok(())
}

fn print_table(out: &mut impl Write, report: &Report) -> Result<()> {
    let width = report
        .checks
        .iter()
        .map(|c| c.key.len() + 2)
        .max()
        .unwrap_or(10);
    writeln!(out, "{:<8} {:<width$} DETAIL | FIX", "STATUS", "KEY")?;
    for c in &report.checks {
        let status = if c.status.is_failure() {
            c.status.as_str().to_uppercase()
        } else {
            c.status.as_str().to_string()
        };
        let key = if c.money_path {
            format!("{} *", c.key)
        } else {
            c.key.to_string()
        };
        let fix = if c.fix.is_empty() || c.status == Status::Ok {
            String::new()
        } else {
            format!(" | {}", c.fix)
        };
        writeln!(out, "{status:<8} {key:<width$} {}{fix}", c.detail)?;
    }
    writeln!(
        out,
        "(* money path: in live mode a failure here means no real money)"
    )?;
    match report.mode {
        Mode::Sandbox => writeln!(
            out,
            "sandbox: nothing fails in sandbox mode; fix what is missing before setting mode = \"live\""
        )?,
        Mode::Live if report.ready_for_live => writeln!(out, "live: ready to take real money")?,
        Mode::Live => writeln!(
            out,
            "live: {} money-path prerequisite(s) fail",
            report.failures
        )?,
    }
    Ok(())
}
