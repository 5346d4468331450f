//! A real CUPS for the printer tests: the private scheduler of `scripts/cupsd.sh` (started here
//! once per test run when it does not run yet; `scripts/test.sh` starts and stops it), and one
//! queue per test on the dye-sub stand-in backend `scripts/cups/fotobox-test-backend`, with the
//! error policy `retry-job` as photo kiosks set it, removed when the test ends.
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
