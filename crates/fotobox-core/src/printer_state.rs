//! The CUPS printer's own state and what it means for selling: `printer-state`,
//! `printer-state-reasons`, `printer-state-message`, marker levels and `media-ready`, read over
//! IPP (Get-Printer-Attributes, through the `ipp` crate) from the local scheduler, or from
//! `lpstat -l -p` where CUPS has no IPP listener. Never from human-readable text when IPP is used.
//!
//! Reasons (RFC 8011 §5.4.12) are keywords with an optional severity suffix, `-report`,
//! `-warning` or `-error`. [`severity`] strips it: any `-error` stops printing; a reason whose
//! base keyword means no print can come out now ([`STOP_REASONS`]: paper out or jammed, door
//! open, ribbon empty, offline, paused...) stops whatever its suffix (CUPS reports an unplugged
//! printer as `offline-report`); `media-low`, `marker-supply-low` and any other `-warning` warn
//! staff; everything else (`connecting-to-device`, `cups-waiting-for-job-completed`, `-report`s)
//! is information. A stopped queue (`printer-state` 5) and one not accepting jobs stop too.

use std::time::Duration;

use serde::Serialize;

/// Base keywords after which no print will come out until someone acts.
pub const STOP_REASONS: &[&str] = &[
    "media-empty",
    "media-needed",
    "media-jam",
    "door-open",
    "cover-open",
    "interlock-open",
    "input-tray-missing",
    "output-tray-missing",
    "output-area-full",
    "marker-supply-empty",
    "marker-supply-missing",
    "marker-waste-full",
    "offline",
    "shutdown",
    "paused",
    "stopped",
    "spool-area-full",
];

/// Base keywords that only warn (the next prints still come out).
pub const WARN_REASONS: &[&str] = &[
    "media-low",
    "marker-supply-low",
    "marker-waste-almost-full",
    "output-area-almost-full",
];

/// What one state reason means for the kiosk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// No print will come out now: out of service.
    Stop,
    /// Staff should look soon; printing goes on.
    Warn,
    /// Nothing to do.
    Info,
}

/// The keyword without its RFC 8011 severity suffix, and the suffix (`""` when none).
pub fn split_suffix(reason: &str) -> (&str, &str) {
    for suffix in ["-error", "-warning", "-report"] {
        if let Some(base) = reason.strip_suffix(suffix) {
            return (base, suffix);
        }
    }
    (reason, "")
}

/// How a `printer-state-reasons` keyword affects selling (see the module doc).
pub fn severity(reason: &str) -> Severity {
    let (base, suffix) = split_suffix(reason);
    if suffix == "-error" || STOP_REASONS.contains(&base) {
        Severity::Stop
    } else if suffix == "-warning" || WARN_REASONS.contains(&base) {
        Severity::Warn
    } else {
        Severity::Info
    }
}

/// One marker (ribbon, ink, toner) as the printer reports it (`marker-*` attributes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Marker {
    pub name: String,
    /// Percent left; -1 unavailable, -2 unknown, -3 "some left" (RFC 3805 conventions).
    pub level: i32,
    /// At or below this level the printer calls it low (when reported).
    pub low_level: Option<i32>,
    pub kind: Option<String>,
}

/// The printer's state as CUPS reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrinterState {
    /// `idle`, `processing`, `stopped` (or `unknown`).
    pub state: String,
    pub accepting: bool,
    /// `printer-state-reasons` without `none`.
    pub reasons: Vec<String>,
    /// `printer-state-message` (the backend's last message; may be empty).
    pub message: String,
    pub markers: Vec<Marker>,
    /// `media-ready` where the printer reports it (empty otherwise).
    pub media_ready: Vec<String>,
}

impl PrinterState {
    /// The reported reasons of `severity`, in the printer's order.
    fn reasons_of(&self, wanted: Severity) -> Vec<String> {
        self.reasons
            .iter()
            .filter(|r| severity(r) == wanted)
            .cloned()
            .collect()
    }

    /// Reasons (and queue states) that stop printing now, in the printer's order.
    pub fn stops(&self) -> Vec<String> {
        let mut v = self.reasons_of(Severity::Stop);
        if self.state == "stopped" && !v.iter().any(|r| split_suffix(r).0 == "paused") {
            v.push("stopped".into());
        }
        if !self.accepting {
            v.push("not accepting jobs".into());
        }
        v
    }

    /// What staff should know although printing goes on: warning reasons and markers at or
    /// below their low level.
    pub fn warnings(&self) -> Vec<String> {
        let mut v = self.reasons_of(Severity::Warn);
        for m in &self.markers {
            if let Some(low) = m.low_level {
                if m.level >= 0 && m.level <= low {
                    v.push(format!("{} at {}%", m.name, m.level));
                }
            }
        }
        v
    }

    /// Why queue `name` cannot print now, as staff read it (`printer NAME: media-empty-error
    /// (Out of paper)`); `None` when it can.
    pub fn stop_reason(&self, name: &str) -> Option<String> {
        let stops = self.stops();
        if stops.is_empty() {
            return None;
        }
        let msg = self.message.trim();
        Some(if msg.is_empty() {
            format!("printer {name}: {}", stops.join(", "))
        } else {
            format!("printer {name}: {} ({msg})", stops.join(", "))
        })
    }
}

/// The printer attributes asked for.
const ATTRIBUTES: &[&str] = &[
    "printer-state",
    "printer-state-reasons",
    "printer-state-message",
    "printer-is-accepting-jobs",
    "marker-names",
    "marker-levels",
    "marker-low-levels",
    "marker-types",
    "media-ready",
];

/// `ipp://<server>/printers/<name>` (`localhost:631` without a server), the queue name
/// percent-encoded.
pub fn printer_uri(server: &str, name: &str) -> String {
    let server = match server.trim() {
        "" => "localhost:631",
        s => s,
    };
    let mut enc = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            enc.push(b as char);
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    format!("ipp://{server}/printers/{enc}")
}

/// Ask the scheduler at `server` for queue `name`'s state (Get-Printer-Attributes), within
/// `timeout`, on a blocking thread.
pub async fn query_ipp(
    server: &str,
    name: &str,
    timeout: Duration,
) -> Result<PrinterState, String> {
    let uri = printer_uri(server, name);
    tokio::task::spawn_blocking(move || query_ipp_blocking(&uri, timeout))
        .await
        .map_err(|e| format!("IPP thread failed: {e}"))?
}

/// Send one request, built by `op` for the parsed `uri`, within `timeout`: the answer, whatever
/// its status. Blocking.
fn send_ipp<R, E>(
    uri: &str,
    timeout: Duration,
    op: impl FnOnce(ipp::prelude::Uri) -> Result<R, E>,
) -> Result<ipp::prelude::IppRequestResponse, String>
where
    R: Into<ipp::prelude::IppRequestResponse>,
    E: std::fmt::Display,
{
    use ipp::prelude::{IppClient, Uri};
    let parsed: Uri = uri.parse().map_err(|e| format!("bad printer URI: {e}"))?;
    let request = op(parsed.clone()).map_err(|e| format!("IPP request: {e}"))?;
    IppClient::builder(parsed)
        .request_timeout(timeout)
        .build()
        .send(request)
        .map_err(|e| format!("CUPS at {uri} did not answer: {e}"))
}

fn query_ipp_blocking(uri: &str, timeout: Duration) -> Result<PrinterState, String> {
    use ipp::prelude::{DelimiterTag, IppOperationBuilder, IppValue};
    let resp = send_ipp(uri, timeout, |u| {
        IppOperationBuilder::get_printer_attributes(u)
            .attributes(ATTRIBUTES)
            .build()
    })?;
    let status = resp.header().status_code();
    if !status.is_success() {
        return Err(format!("CUPS answered {status} for {uri} (unknown queue?)"));
    }
    let Some(group) = resp
        .attributes()
        .groups_of(DelimiterTag::PrinterAttributes)
        .next()
    else {
        return Err(format!("CUPS sent no printer attributes for {uri}"));
    };
    let strings = |name: &str| -> Vec<String> {
        group
            .get(name)
            .map(|a| a.value().into_iter().map(value_text).collect())
            .unwrap_or_default()
    };
    let ints = |name: &str| -> Vec<i32> {
        group
            .get(name)
            .map(|a| {
                a.value()
                    .into_iter()
                    .filter_map(|v| match v {
                        IppValue::Integer(i) | IppValue::Enum(i) => Some(*i),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let state = match ints("printer-state").first() {
        Some(3) => "idle",
        Some(4) => "processing",
        Some(5) => "stopped",
        _ => "unknown",
    };
    let accepting = match group.get("printer-is-accepting-jobs").map(|a| a.value()) {
        Some(IppValue::Boolean(b)) => *b,
        _ => true,
    };
    let names = strings("marker-names");
    let levels = ints("marker-levels");
    let lows = ints("marker-low-levels");
    let types = strings("marker-types");
    let markers = names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            Some(Marker {
                name: n.clone(),
                level: *levels.get(i)?,
                low_level: lows.get(i).copied(),
                kind: types.get(i).cloned(),
            })
        })
        .collect();
    Ok(PrinterState {
        state: state.into(),
        accepting,
        reasons: strings("printer-state-reasons")
            .into_iter()
            .filter(|r| r != "none")
            .collect(),
        message: strings("printer-state-message").join(" "),
        markers,
        media_ready: strings("media-ready"),
    })
}

/// A job's `job-state` as the scheduler reports it (RFC 8011 §5.3.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IppJobState {
    /// pending, pending-held, processing or processing-stopped: not finished.
    Unfinished,
    /// canceled or aborted: it ended without printing (or only partly).
    Ended,
    /// completed: the printer finished it.
    Completed,
}

/// Ask the scheduler at `server` for job `job`'s `job-state` (Get-Job-Attributes on queue
/// `name`), within `timeout`, on a blocking thread; `None` when it no longer knows the job
/// (purged, or never accepted).
pub async fn query_job_ipp(
    server: &str,
    name: &str,
    job: u64,
    timeout: Duration,
) -> Result<Option<IppJobState>, String> {
    let uri = printer_uri(server, name);
    // Job 0 would name "the printer's current job".
    let job = i32::try_from(job)
        .ok()
        .filter(|j| *j > 0)
        .ok_or_else(|| format!("{job} is not a CUPS job number"))?;
    tokio::task::spawn_blocking(move || query_job_blocking(&uri, job, timeout))
        .await
        .map_err(|e| format!("IPP thread failed: {e}"))?
}

fn query_job_blocking(
    uri: &str,
    job: i32,
    timeout: Duration,
) -> Result<Option<IppJobState>, String> {
    use ipp::model::StatusCode;
    use ipp::prelude::{DelimiterTag, IppOperationBuilder, IppValue};
    let resp = send_ipp(uri, timeout, |u| {
        IppOperationBuilder::get_job_attributes(u, job).build()
    })?;
    let status = resp.header().status_code();
    if status == StatusCode::ClientErrorNotFound {
        return Ok(None);
    }
    if !status.is_success() {
        return Err(format!("CUPS answered {status} for job {job} of {uri}"));
    }
    let state = resp
        .attributes()
        .groups_of(DelimiterTag::JobAttributes)
        .find_map(|g| match g.get("job-state").map(|a| a.value()) {
            Some(IppValue::Enum(n)) | Some(IppValue::Integer(n)) => Some(*n),
            _ => None,
        });
    match state {
        Some(3..=6) => Ok(Some(IppJobState::Unfinished)),
        Some(7 | 8) => Ok(Some(IppJobState::Ended)),
        Some(9) => Ok(Some(IppJobState::Completed)),
        other => Err(format!("CUPS sent job-state {other:?} for job {job}")),
    }
}

/// The text of a keyword, name, text or URI value (others as IPP prints them).
fn value_text(v: &ipp::value::IppValue) -> String {
    use ipp::value::IppValue;
    match v {
        IppValue::Keyword(s) => s.to_string(),
        IppValue::TextWithoutLanguage(s) => s.to_string(),
        IppValue::NameWithoutLanguage(s) => s.to_string(),
        IppValue::TextWithLanguage { text, .. } => text.to_string(),
        IppValue::NameWithLanguage { name, .. } => name.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_follow_rfc_8011() {
        assert_eq!(severity("media-empty-error"), Severity::Stop);
        assert_eq!(severity("media-empty"), Severity::Stop);
        assert_eq!(severity("media-empty-warning"), Severity::Stop);
        assert_eq!(severity("offline-report"), Severity::Stop);
        assert_eq!(severity("paused"), Severity::Stop);
        assert_eq!(severity("com.vendor-ribbon-error"), Severity::Stop);
        assert_eq!(severity("cups-insecure-filter-error"), Severity::Stop);
        assert_eq!(severity("media-low-report"), Severity::Warn);
        assert_eq!(severity("marker-supply-low-warning"), Severity::Warn);
        assert_eq!(severity("cups-missing-filter-warning"), Severity::Warn);
        assert_eq!(severity("media-low-error"), Severity::Stop);
        assert_eq!(severity("connecting-to-device"), Severity::Info);
        assert_eq!(severity("cups-waiting-for-job-completed"), Severity::Info);
        assert_eq!(severity("toner-low-report"), Severity::Info);
        assert_eq!(severity("moving-to-paused"), Severity::Info);
    }

    fn state(reasons: &[&str]) -> PrinterState {
        PrinterState {
            state: "idle".into(),
            accepting: true,
            reasons: reasons.iter().map(|r| r.to_string()).collect(),
            message: String::new(),
            markers: Vec::new(),
            media_ready: Vec::new(),
        }
    }

    #[test]
    fn the_stop_reason_names_what_stops_and_the_message() {
        let mut s = state(&["media-empty-error", "marker-supply-low-warning"]);
        s.message = "Printer out of paper".into();
        assert_eq!(
            s.stop_reason("DNP").as_deref(),
            Some("printer DNP: media-empty-error (Printer out of paper)")
        );
        assert_eq!(s.warnings(), vec!["marker-supply-low-warning"]);
        assert_eq!(state(&["media-low-report"]).stop_reason("DNP"), None);
        let mut stopped = state(&[]);
        stopped.state = "stopped".into();
        stopped.accepting = false;
        assert_eq!(
            stopped.stop_reason("DNP").as_deref(),
            Some("printer DNP: stopped, not accepting jobs")
        );
        let mut ribbon = state(&[]);
        ribbon.markers.push(Marker {
            name: "Ribbon".into(),
            level: 4,
            low_level: Some(5),
            kind: None,
        });
        assert_eq!(ribbon.warnings(), vec!["Ribbon at 4%"]);
    }

    #[test]
    fn queue_names_are_encoded_in_the_uri() {
        assert_eq!(
            printer_uri("", "DNP_DS620"),
            "ipp://localhost:631/printers/DNP_DS620"
        );
        assert_eq!(
            printer_uri("localhost:6310", "a b"),
            "ipp://localhost:6310/printers/a%20b"
        );
    }
}
