//! A real CUPS for the printer tests: the private scheduler of `scripts/cupsd.sh` (started here
//! once per test run when it does not run yet; `scripts/test.sh` starts and stops it), and one
//! queue per test on the dye-sub stand-in backend `scripts/cups/fotobox-test-backend`, with the
//! error policy `retry-job` as photo kiosks set it, removed when the test ends; and the cups-pdf
//! queue of the happy path ([`PdfQueue`]), whose printer writes a PDF per job.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fotobox_core::printer_state::{query_ipp, PrinterState};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `host:port` of the private cupsd, started by `scripts/cupsd.sh start` (idempotent) once per
/// test process. Panics with the script's output when it cannot start: these tests need CUPS
/// (`scripts/setup.sh test` installs it).
pub fn server() -> String {
    static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let out = Command::new(repo_root().join("scripts/cupsd.sh"))
                .arg("start")
                .output()
                .map_err(|e| format!("cannot run scripts/cupsd.sh: {e}"))?;
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            let server = text
                .lines()
                .find_map(|l| l.strip_prefix("CUPS_SERVER="))
                .map(str::to_string);
            match server {
                Some(s) if out.status.success() => Ok(s),
                _ => Err(format!(
                    "scripts/cupsd.sh start failed: {text}{}",
                    String::from_utf8_lossy(&out.stderr)
                )),
            }
        })
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A CUPS client command against the private scheduler (`-h` first, `LC_ALL=C`).
fn cups_cmd(program: &str, server: &str, args: &[&str]) -> std::process::Output {
    Command::new(program)
        .env("LC_ALL", "C")
        .arg("-h")
        .arg(server)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// One queue of the private cupsd whose "printer" is the test backend, driven through files in
/// `dir` (see the backend's header): `paper` ok/out/stuck, `state` and `attr` lines.
pub struct TestQueue {
    pub name: String,
    pub server: String,
    pub dir: tempfile::TempDir,
}

impl TestQueue {
    pub fn new() -> TestQueue {
        static N: AtomicUsize = AtomicUsize::new(0);
        let server = server();
        let dir = tempfile::tempdir().unwrap();
        let name = format!(
            "FotoboxTest_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let uri = format!("fotobox-test:{}", dir.path().display());
        let out = cups_cmd(
            "lpadmin",
            &server,
            &[
                "-p",
                &name,
                "-v",
                &uri,
                "-E",
                "-o",
                "printer-error-policy=retry-job",
            ],
        );
        assert!(
            out.status.success(),
            "lpadmin failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        TestQueue { name, server, dir }
    }

    /// `[printer]` for this queue: real `lp`/`lpstat`, the state over IPP.
    pub fn config(&self, roll: u64) -> String {
        format!(
            "[printer]\nkind = \"cups\"\nname = \"{}\"\ncups_server = \"{}\"\npoll_ms = 100\n\
             paper_roll_size = {roll}\n",
            self.name, self.server
        )
    }

    fn write(&self, file: &str, text: &str) {
        std::fs::write(self.dir.path().join(file), text).unwrap();
    }

    /// What the printer does with the next job: `ok`, `out` (fails it, paper out) or `stuck`
    /// (waits with paper out until `ok`).
    pub fn set_paper(&self, paper: &str) {
        self.write("paper", paper);
    }

    /// `STATE:` lines the backend reports with each job (`+media-low-report`, ...).
    pub fn set_state_lines(&self, lines: &[&str]) {
        self.write("state", &lines.join("\n"));
    }

    /// `ATTR:` lines the backend reports with each job (`marker-levels=3`, ...).
    pub fn set_attr_lines(&self, lines: &[&str]) {
        self.write("attr", &lines.join("\n"));
    }

    /// Submit a job with `lp` as any client would (not through the kiosk); its id.
    pub fn lp(&self, file: &Path) -> String {
        let out = cups_cmd(
            "lp",
            &self.server,
            &[
                "-d",
                &self.name,
                "-t",
                "direct",
                &file.display().to_string(),
            ],
        );
        assert!(
            out.status.success(),
            "lp failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        fotobox_core::print::parse_request_id(&String::from_utf8_lossy(&out.stdout)).unwrap()
    }

    /// Lines of the backend's `printed.log` (`job=.. copies=.. title=.. options=..`).
    pub fn printed(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("printed.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The document the printer received for CUPS job number `n`.
    pub fn document(&self, n: u64) -> Vec<u8> {
        std::fs::read(self.dir.path().join("jobs").join(format!("{n}.out"))).unwrap()
    }

    /// The queue's state over IPP.
    pub async fn state(&self) -> PrinterState {
        query_ipp(&self.server, &self.name, Duration::from_secs(5))
            .await
            .unwrap()
    }

    /// Wait (up to `secs`) until the queue's state satisfies `ok`; the last state read.
    pub async fn wait_state(&self, secs: u64, ok: impl Fn(&PrinterState) -> bool) -> PrinterState {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.state().await;
            if ok(&s) || Instant::now() > until {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Job ids of this queue that CUPS has not finished.
    pub fn unfinished_jobs(&self) -> Vec<String> {
        let out = cups_cmd(
            "lpstat",
            &self.server,
            &["-W", "not-completed", "-o", &self.name],
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect()
    }
}

impl Drop for TestQueue {
    fn drop(&mut self) {
        // Let a waiting backend finish, then remove the queue and its jobs.
        let _ = std::fs::write(self.dir.path().join("paper"), "ok");
        let _ = Command::new("lpadmin")
            .arg("-h")
            .arg(&self.server)
            .args(["-x", &self.name])
            .output();
    }
}

/// The device URI of the tests' cups-pdf queues: cups-pdf reads [`PDF_CONF`] for it.
pub const PDF_DEVICE: &str = "cups-pdf:/fotobox-test-pdf";
/// cups-pdf's configuration for [`PDF_DEVICE`] (installed by `scripts/setup.sh test`; cups-pdf
/// reads its configuration from /etc/cups only).
pub const PDF_CONF: &str = "/etc/cups/cups-pdf-fotobox-test-pdf.conf";
const PDF_BACKEND: &str = "/usr/lib/cups/backend/cups-pdf";
/// Set to 1 to skip the cups-pdf test where it cannot run (it says so on stderr); unset, it fails.
pub const SKIP_PDF_ENV: &str = "FOTOBOX_SKIP_CUPS_PDF";

/// The uid the private cupsd runs as (its pid file under `FOTOBOX_CUPSD_DIR` or target/cupsd).
fn cupsd_uid() -> Result<u32, String> {
    let dir = std::env::var_os("FOTOBOX_CUPSD_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/cupsd"));
    let pid = std::fs::read_to_string(dir.join("cupsd.pid"))
        .map_err(|e| format!("cannot read {}/cupsd.pid: {e}", dir.display()))?;
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid.trim()))
        .map_err(|e| format!("cannot read the status of cupsd (pid {}): {e}", pid.trim()))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|u| u.parse().ok())
        .ok_or_else(|| "no Uid line in cupsd's /proc status".to_string())
}

/// The folder cups-pdf writes the tests' PDFs to: `Out` of [`PDF_CONF`].
fn pdf_out_dir() -> Result<PathBuf, String> {
    let text = std::fs::read_to_string(PDF_CONF).map_err(|e| {
        format!("cannot read {PDF_CONF} ({e}): run scripts/setup.sh test, which installs it")
    })?;
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Out "))
        .map(|o| PathBuf::from(o.trim()))
        .ok_or_else(|| format!("{PDF_CONF} has no Out line"))
}

/// Why the cups-pdf queue cannot work here, if it cannot; else its output folder.
fn pdf_preconditions() -> Result<PathBuf, String> {
    if !Path::new(PDF_BACKEND).exists() {
        return Err(format!(
            "{PDF_BACKEND} is missing: run scripts/setup.sh test (printer-driver-cups-pdf)"
        ));
    }
    let out = pdf_out_dir()?;
    let uid = cupsd_uid()?;
    if uid != 0 {
        // A non-root cupsd cannot run the 0700 root backend and refuses the queue ("Bad
        // device-uri scheme"); and cups-pdf run without root prints "CUPS-PDF cannot be called
        // without root privileges!" and exits 0: a "completed" job with no PDF.
        return Err(format!(
            "the private cupsd runs as uid {uid}; cups-pdf works only when CUPS runs it as root \
             (a non-root cupsd refuses its device URI, and cups-pdf without root exits 0 \
             writing nothing); run the tests as root, as CI does (scripts/test.sh)"
        ));
    }
    Ok(out)
}

/// One queue of the private cupsd on the cups-pdf backend (device [`PDF_DEVICE`], driver
/// `scripts/cups/fotobox-test-pdf.ppd`: 4x6 media, CUPS' filters make the copies), removed when
/// the test ends. Its jobs come out as `<out>/job_<CUPS job id>-<title>.pdf`.
pub struct PdfQueue {
    pub name: String,
    pub server: String,
    pub out: PathBuf,
}

impl PdfQueue {
    /// The queue, or `None` when cups-pdf cannot run here and [`SKIP_PDF_ENV`] is 1 (the reason
    /// goes to stderr). Without that variable a missing precondition fails the test, saying why.
    pub fn new(test: &str) -> Option<PdfQueue> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let server = server();
        let out = match pdf_preconditions() {
            Ok(out) => out,
            Err(why) if std::env::var(SKIP_PDF_ENV).as_deref() == Ok("1") => {
                eprintln!("SKIPPED {test}: {why} ({SKIP_PDF_ENV}=1)");
                return None;
            }
            Err(why) => panic!("{test} cannot run: {why}. Set {SKIP_PDF_ENV}=1 to skip it."),
        };
        let name = format!(
            "FotoboxPdf_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let ppd = repo_root().join("scripts/cups/fotobox-test-pdf.ppd");
        let out_cmd = cups_cmd(
            "lpadmin",
            &server,
            &[
                "-p",
                &name,
                "-v",
                PDF_DEVICE,
                "-P",
                &ppd.display().to_string(),
                "-E",
            ],
        );
        assert!(
            out_cmd.status.success(),
            "lpadmin failed: {}",
            String::from_utf8_lossy(&out_cmd.stderr)
        );
        Some(PdfQueue { name, server, out })
    }

    /// `[printer]` for this queue, as [`TestQueue::config`].
    pub fn config(&self, roll: u64) -> String {
        format!(
            "[printer]\nkind = \"cups\"\nname = \"{}\"\ncups_server = \"{}\"\npoll_ms = 100\n\
             paper_roll_size = {roll}\n",
            self.name, self.server
        )
    }

    /// The PDF cups-pdf writes for CUPS job `n` submitted with title `title`.
    pub fn pdf_path(&self, n: u64, title: &str) -> PathBuf {
        self.out.join(format!("job_{n}-{title}.pdf"))
    }

    /// cups-pdf's log for this queue (errors and status), for failure messages.
    pub fn log(&self) -> String {
        let log = self
            .out
            .parent()
            .unwrap_or(&self.out)
            .join("log")
            .join(format!("cups-pdf-{}_log", self.name));
        std::fs::read_to_string(&log).unwrap_or_else(|e| format!("({}: {e})", log.display()))
    }
}

impl Drop for PdfQueue {
    fn drop(&mut self) {
        let _ = Command::new("lpadmin")
            .arg("-h")
            .arg(&self.server)
            .args(["-x", &self.name])
            .output();
    }
}

/// A PDF's page count and the size of each page in points, from poppler's `pdfinfo`.
pub fn pdf_pages(path: &Path) -> (u32, Vec<(f64, f64)>) {
    let info = |args: &[&str]| -> String {
        let out = Command::new("pdfinfo")
            .env("LC_ALL", "C")
            .args(args)
            .arg(path)
            .output()
            .unwrap_or_else(|e| panic!("cannot run pdfinfo (scripts/setup.sh test): {e}"));
        assert!(
            out.status.success(),
            "pdfinfo {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let pages: u32 = info(&[])
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("pdfinfo gave no page count for {}", path.display()));
    // "Page    2 size: 288 x 432 pts" per page with -f/-l.
    let sizes = info(&["-f", "1", "-l", &pages.to_string()])
        .lines()
        .filter(|l| l.starts_with("Page") && l.contains(" size:"))
        .filter_map(|l| {
            let dims = l.split(" size:").nth(1)?;
            let mut it = dims.split_whitespace();
            let w: f64 = it.next()?.parse().ok()?;
            it.next()?; // "x"
            let h: f64 = it.next()?.parse().ok()?;
            Some((w, h))
        })
        .collect();
    (pages, sizes)
}

/// Conditions the tests produce on demand with the ordinary CUPS commands, as staff or a
/// printer would: paused, refusing the kiosk's `lp`, holding new jobs, jobs lost at the printer.
impl TestQueue {
    /// A CUPS command against this scheduler that must succeed.
    fn admin(&self, program: &str, args: &[&str]) {
        let out = cups_cmd(program, &self.server, args);
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Staff pause the queue (`cupsdisable -r <reason>`): printer-state stopped, `paused`.
    pub fn pause(&self, reason: &str) {
        self.admin("cupsdisable", &["-r", reason, &self.name]);
    }

    /// `cupsenable`: the queue prints again.
    pub fn resume(&self) {
        self.admin("cupsenable", &[&self.name]);
    }

    /// `cupsreject` / `cupsaccept`: the queue (not) accepting jobs.
    pub fn set_accepting(&self, accepting: bool) {
        let program = if accepting {
            "cupsaccept"
        } else {
            "cupsreject"
        };
        self.admin(program, &[&self.name]);
    }

    /// The scheduler refuses this user's jobs (`lpadmin -u deny:<user>`): `lp` itself fails with
    /// "Not allowed to print." while the queue stays idle, enabled and accepting, so the
    /// kiosk's state check passes and its `lp` is refused. `false`: `allow:all` again.
    pub fn refuse_jobs(&self, refuse: bool) {
        let user = String::from_utf8_lossy(&Command::new("id").arg("-un").output().unwrap().stdout)
            .trim()
            .to_string();
        let rule = if refuse {
            format!("deny:{user}")
        } else {
            "allow:all".to_string()
        };
        self.admin("lpadmin", &["-p", &self.name, "-u", &rule]);
    }

    /// New jobs (the kiosk's too) are held at CUPS (`job-hold-until-default=indefinite`):
    /// accepted with an id, listed as not completed, not printed; the queue stays idle with no
    /// reasons. `false`: new jobs print at once again (held ones stay held until released).
    pub fn hold_new_jobs(&self, hold: bool) {
        let value = if hold { "indefinite" } else { "no-hold" };
        self.admin(
            "lpadmin",
            &[
                "-p",
                &self.name,
                "-o",
                &format!("job-hold-until-default={value}"),
            ],
        );
    }

    /// Release every held job of the queue (`lp -i <job> -H resume`): they print.
    pub fn release_held(&self) {
        for job in self.unfinished_jobs() {
            self.admin("lp", &["-i", &job, "-H", "resume"]);
        }
    }

    /// Jobs lost at the printer: every job of the queue cancelled and purged from CUPS's
    /// history (`cancel -a -x`), so that `lpstat -W all` no longer lists them. (A single
    /// `cancel -x <job>` only cancels: the job stays in the history as completed.)
    pub fn purge_jobs(&self) {
        self.admin("cancel", &["-a", "-x", &self.name]);
    }

    /// Every job id CUPS lists for this queue (`lpstat -W all`): the submissions it accepted.
    pub fn jobs(&self) -> Vec<String> {
        let out = cups_cmd("lpstat", &self.server, &["-W", "all", "-o", &self.name]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect()
    }

    /// Wait (up to `secs`) until CUPS lists at least `n` jobs for this queue; their ids.
    pub async fn wait_jobs(&self, n: usize, secs: u64) -> Vec<String> {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            let jobs = self.jobs();
            if jobs.len() >= n {
                return jobs;
            }
            assert!(Instant::now() < until, "CUPS lists {jobs:?}, want {n}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The CUPS job numbers the printer printed, in order (from `printed.log`).
    pub fn printed_jobs(&self) -> Vec<u64> {
        self.printed()
            .iter()
            .filter_map(|l| l.split_whitespace().find_map(|w| w.strip_prefix("job=")))
            .filter_map(|n| n.parse().ok())
            .collect()
    }

    /// The CUPS job id (`<queue>-<n>`) of job number `n`.
    pub fn job_id(&self, n: u64) -> String {
        format!("{}-{n}", self.name)
    }

    /// Staff cancel one job in CUPS (`cancel <id>`, not purged: CUPS keeps it in its completed
    /// history, where `lpstat -W completed` lists it).
    pub fn cancel_job(&self, id: &str) {
        self.admin("cancel", &[id]);
    }
}
