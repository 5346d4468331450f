//! The checklist's shapes: one [`Check`] per prerequisite (ok / missing / wrong / warn, a detail,
//! what to do, whether it is on the money path and whether it stops a live start), and the
//! [`Report`] that holds them. No detail ever carries a secret.

use serde::Serialize;

use crate::config::Mode;

/// How one prerequisite stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// Not set or not there.
    Missing,
    /// Set, but not of the right shape or state.
    Wrong,
    /// Worth a look; never fails anything.
    Warn,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Missing => "missing",
            Status::Wrong => "wrong",
            Status::Warn => "warn",
        }
    }

    /// Missing or wrong.
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Missing | Status::Wrong)
    }
}

/// One prerequisite of taking real money.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// The config key (or the thing) checked, e.g. `fiscal.tin`, `printer.queue`.
    pub key: &'static str,
    pub status: Status,
    /// What was found (never a secret).
    pub detail: String,
    /// What to do; empty when there is nothing to do.
    pub fix: String,
    /// A failure here means the kiosk must not take real money: `fotobox doctor` exits non-zero.
    pub money_path: bool,
    /// A failure here also refuses a live start (settings that never mend themselves).
    pub at_start: bool,
}

impl Check {
    /// A check of a setting: a failure refuses a live start.
    pub fn setting(key: &'static str, status: Status, detail: impl Into<String>) -> Check {
        Check {
            key,
            status,
            detail: detail.into(),
            fix: String::new(),
            money_path: true,
            at_start: true,
        }
    }

    /// A check of the machine's state: money-path, but a start goes on (readiness refuses
    /// orders meanwhile; refusing the start would only make the service crash-loop).
    pub fn machine(key: &'static str, status: Status, detail: impl Into<String>) -> Check {
        Check {
            at_start: false,
            ..Check::setting(key, status, detail)
        }
    }

    /// Advice: never money-path.
    pub fn advice(key: &'static str, status: Status, detail: impl Into<String>) -> Check {
        Check {
            money_path: false,
            at_start: false,
            ..Check::setting(key, status, detail)
        }
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = fix.into();
        self
    }

    /// `key: status: detail; fix` (the live start's refusal lines).
    pub fn line(&self) -> String {
        let mut s = format!("{}: {}: {}", self.key, self.status.as_str(), self.detail);
        if !self.fix.is_empty() {
            s.push_str("; ");
            s.push_str(&self.fix);
        }
        s
    }
}

/// The whole checklist.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub mode: Mode,
    /// Live mode and no money-path prerequisite fails (always false in sandbox mode).
    pub ready_for_live: bool,
    /// Money-path prerequisites that fail (counted in live mode only: in sandbox mode nothing fails).
    pub failures: usize,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn new(mode: Mode, checks: Vec<Check>) -> Report {
        let live = mode == Mode::Live;
        let failures = if live {
            checks
                .iter()
                .filter(|c| c.money_path && c.status.is_failure())
                .count()
        } else {
            0
        };
        Report {
            mode,
            ready_for_live: live && failures == 0,
            failures,
            checks,
        }
    }

    /// The checks that refuse a live start (none in sandbox mode).
    pub fn start_failures(&self) -> Vec<&Check> {
        if self.mode != Mode::Live {
            return Vec::new();
        }
        self.checks
            .iter()
            .filter(|c| c.at_start && c.money_path && c.status.is_failure())
            .collect()
    }

    /// The check of `key`, if listed.
    pub fn get(&self, key: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.key == key)
    }
}
