//! Support for the photo pipeline tests: paid orders and shots, and a fake CUPS (`lp`/`lpstat`
//! shell scripts in a temp dir that record their arguments and can be told to fail, pause or
//! hold jobs). The printer tests run on the real private CUPS (`cups_support::TestQueue`);
//! FakeCups is only for what a real CUPS cannot give on demand without disturbing the shared
//! scheduler (CUPS down: `lpstat` cannot reach it) and for tests that count the calls to the
//! commands themselves (readiness asks `lpstat` at most once per cache period).
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use fotobox_core::orders::{self, OrderRequest};
use fotobox_core::AppContext;
use fotobox_store::model::Provider;
use fotobox_store::payments as pq;
use image::{Rgb, RgbImage};

const LP: &str = r#"#!/bin/sh
d="$(cd "$(dirname "$0")" && pwd)"
printf '%s\n' "$*" >> "$d/lp.log"
if [ -e "$d/fail" ]; then echo "lp: Error - the printer is on fire" >&2; exit 1; fi
dest=""
while [ $# -gt 0 ]; do case "$1" in -d) dest="$2"; shift 2;; *) shift;; esac; done
n=$(( $(cat "$d/seq" 2>/dev/null || echo 100) + 1 ))
echo "$n" > "$d/seq"
if [ -e "$d/hold" ]; then echo "$dest-$n" >> "$d/pending"; else echo "$dest-$n" >> "$d/completed"; fi
echo "request id is $dest-$n (1 file(s))"
"#;

const LPSTAT: &str = r#"#!/bin/sh
d="$(cd "$(dirname "$0")" && pwd)"
printf '%s\n' "$*" >> "$d/lpstat.log"
if [ -e "$d/lpstat-fail" ]; then echo "lpstat: scheduler is not running" >&2; exit 1; fi
list() { if [ -f "$d/$1" ]; then while read -r id; do echo "$id  root  1024  Mon 01 Jan 2024 10:00:00 AM UTC"; done < "$d/$1"; fi; }
case "$*" in
  *"-W not-completed"*) list pending ;;
  *"-W completed"*) list completed ;;
  *"-W all"*) list completed; list pending ;;
  *"-l -p "*) name="$3"
     if [ -e "$d/paused" ]; then printf 'printer %s disabled since Mon 01 Jan 2024 -\n\tPaused by staff\n' "$name"
     else printf 'printer %s is idle.  enabled since Mon 01 Jan 2024\n' "$name"; fi
     printf '\tAlerts: %s\n' "$(cat "$d/reasons" 2>/dev/null || echo none)"
     printf '%s accepting requests since Mon 01 Jan 2024\n' "$name" ;;
  *) name="$2"
     if [ -e "$d/paused" ]; then printf 'printer %s disabled since Mon 01 Jan 2024 -\n\tPaused by staff\n' "$name"
     else printf 'printer %s is idle.  enabled since Mon 01 Jan 2024\n' "$name"; fi
     printf '%s accepting requests since Mon 01 Jan 2024\n' "$name" ;;
esac
exit 0
"#;

/// A fake CUPS in its own folder (one per test: no process-wide PATH change).
pub struct FakeCups {
    pub dir: tempfile::TempDir,
}

impl FakeCups {
    pub fn new() -> FakeCups {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for (name, body) in [("lp", LP), ("lpstat", LPSTAT)] {
            let p = dir.path().join(name);
            std::fs::write(&p, body).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        FakeCups { dir }
    }

    /// `[printer]` section using this fake (queue `Fake`, roll of `roll` prints; its state from
    /// `lpstat -l -p`, since the fake has no IPP).
    pub fn config(&self, roll: u64) -> String {
        format!(
            "[printer]\nkind = \"cups\"\nname = \"Fake\"\nlp_command = \"{d}/lp\"\nlpstat_command = \"{d}/lpstat\"\n\
             state_source = \"lpstat\"\n\
             poll_ms = 20\njob_timeout_seconds = 3\nmax_attempts = 3\npaper_roll_size = {roll}\n",
            d = self.dir.path().display()
        )
    }

    fn flag_file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The queue's state reasons (`lpstat -l -p`'s `Alerts:` line); empty: `none`.
    pub fn set_reasons(&self, reasons: &str) {
        if reasons.is_empty() {
            let _ = std::fs::remove_file(self.flag_file("reasons"));
        } else {
            std::fs::write(self.flag_file("reasons"), reasons).unwrap();
        }
    }

    /// Make `lp` fail (`true`) or work again.
    pub fn set(&self, name: &str, on: bool) {
        if on {
            std::fs::write(self.flag_file(name), "").unwrap();
        } else {
            let _ = std::fs::remove_file(self.flag_file(name));
        }
    }

    /// Every `lpstat` call's arguments.
    pub fn lpstat_calls(&self) -> Vec<String> {
        read_lines(&self.dir.path().join("lpstat.log"))
    }

    /// Every `lp` call's arguments.
    pub fn lp_calls(&self) -> Vec<String> {
        read_lines(&self.dir.path().join("lp.log"))
    }

    /// Submissions that `lp` accepted (job ids).
    pub fn accepted(&self) -> Vec<String> {
        let mut v = read_lines(&self.dir.path().join("completed"));
        v.extend(read_lines(&self.dir.path().join("pending")));
        v
    }

    /// Finish every held job.
    pub fn complete_pending(&self) {
        let pending = read_lines(&self.dir.path().join("pending"));
        let mut done = read_lines(&self.dir.path().join("completed"));
        done.extend(pending);
        std::fs::write(self.dir.path().join("completed"), done.join("\n") + "\n").unwrap();
        let _ = std::fs::remove_file(self.dir.path().join("pending"));
    }
}

fn read_lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// A paid kiosk order; returns its order id.
pub async fn paid_order(ctx: &AppContext, template: &str, copies: i64) -> String {
    let view = orders::create_order(
        ctx,
        OrderRequest::Priced {
            provider: Provider::Payme,
            template: template.into(),
            copies,
        },
    )
    .await
    .unwrap();
    let p = ctx
        .store
        .payment_by_order_id(&view.order_id)
        .await
        .unwrap()
        .unwrap();
    let mut tx = ctx.store.begin_write().await.unwrap();
    assert!(pq::mark_success(
        &mut tx,
        p.id,
        &format!("tx-{}", p.id),
        Some(2),
        ctx.clock.now()
    )
    .await
    .unwrap());
    tx.commit().await.unwrap();
    view.order_id
}

/// A solid-colour PNG shot (fast to encode in debug builds).
pub fn shot(w: u32, h: u32, c: [u8; 3]) -> Vec<u8> {
    let img = RgbImage::from_pixel(w, h, Rgb(c));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

pub fn shots(n: usize) -> Vec<Vec<u8>> {
    const COLORS: [[u8; 3]; 4] = [[220, 30, 30], [30, 200, 30], [30, 30, 220], [230, 200, 20]];
    (0..n).map(|i| shot(640, 360, COLORS[i % 4])).collect()
}

/// Reopen the app over the same data directory, as after a restart.
pub async fn restart(ctx: AppContext) -> AppContext {
    let cfg = (*ctx.config).clone();
    ctx.store.close().await;
    AppContext::new(cfg).await.unwrap()
}

/// The payment of `order`.
pub async fn payment_of(ctx: &AppContext, order: &str) -> fotobox_store::model::Payment {
    ctx.store.payment_by_order_id(order).await.unwrap().unwrap()
}

/// The print job of `order` (its newest).
pub async fn job_of(ctx: &AppContext, order: &str) -> fotobox_store::photos::PrintJob {
    let p = payment_of(ctx, order).await;
    let mut conn = ctx.store.pool().acquire().await.unwrap();
    fotobox_store::photos::print_job_for_payment(&mut conn, p.id)
        .await
        .unwrap()
        .unwrap()
}
