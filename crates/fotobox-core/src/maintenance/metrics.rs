//! Prometheus text metrics (`GET /metrics` on the API listener): payments by provider and
//! status (from the database at scrape time), callback latency (observed by the request-log
//! middleware), print jobs, tunnel, backups, disk, alerts and error counters (`counters`).

use std::fmt::Write as _;

use crate::context::AppContext;
use crate::maintenance::counters::BUCKETS;
use fotobox_store::maintenance as q;

fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The whole exposition text.
pub async fn render(ctx: &AppContext) -> String {
    let mut out = String::new();
    let pool = ctx.store.pool();

    let _ = writeln!(
        out,
        "# HELP fotobox_payments Payments in the live database by provider and status."
    );
    let _ = writeln!(out, "# TYPE fotobox_payments gauge");
    let rows = q::payments_by_provider_status(pool)
        .await
        .unwrap_or_default();
    for (p, s, n, _) in &rows {
        let _ = writeln!(
            out,
            "fotobox_payments{{provider=\"{}\",status=\"{}\"}} {n}",
            esc(p),
            esc(s)
        );
    }
    let _ = writeln!(out, "# HELP fotobox_payments_amount_sum Sum of payment amounts (whole sum) by provider and status.");
    let _ = writeln!(out, "# TYPE fotobox_payments_amount_sum gauge");
    for (p, s, _, a) in &rows {
        let _ = writeln!(
            out,
            "fotobox_payments_amount_sum{{provider=\"{}\",status=\"{}\"}} {a}",
            esc(p),
            esc(s)
        );
    }

    // Each metric family's samples stay together (the text format requires it).
    let jobs = q::print_jobs_by_state(pool).await.unwrap_or_default();
    let _ = writeln!(out, "# HELP fotobox_print_jobs Print jobs by state.");
    let _ = writeln!(out, "# TYPE fotobox_print_jobs gauge");
    for (s, n, _) in &jobs {
        let _ = writeln!(out, "fotobox_print_jobs{{state=\"{}\"}} {n}", esc(s));
    }
    let _ = writeln!(
        out,
        "# HELP fotobox_print_copies Copies of print jobs by state."
    );
    let _ = writeln!(out, "# TYPE fotobox_print_copies gauge");
    for (s, _, c) in &jobs {
        let _ = writeln!(out, "fotobox_print_copies{{state=\"{}\"}} {c}", esc(s));
    }

    let _ = writeln!(
        out,
        "# HELP fotobox_open_alerts Open staff alerts by severity."
    );
    let _ = writeln!(out, "# TYPE fotobox_open_alerts gauge");
    for (s, n) in q::open_alert_counts(pool).await.unwrap_or_default() {
        let _ = writeln!(out, "fotobox_open_alerts{{severity=\"{}\"}} {n}", esc(&s));
    }

    let db_bytes = std::fs::metadata(ctx.store.path())
        .map(|m| m.len())
        .unwrap_or(0);
    let _ = writeln!(
        out,
        "# HELP fotobox_database_bytes Size of the database file."
    );
    let _ = writeln!(out, "# TYPE fotobox_database_bytes gauge");
    let _ = writeln!(out, "fotobox_database_bytes {db_bytes}");

    let writable = crate::maintenance::writable::accepting_orders(ctx).is_ok();
    let _ = writeln!(
        out,
        "# HELP fotobox_database_writable 0 while the database cannot be written (disk full or failed)."
    );
    let _ = writeln!(out, "# TYPE fotobox_database_writable gauge");
    let _ = writeln!(out, "fotobox_database_writable {}", u8::from(writable));

    let accepting = crate::maintenance::tunnel::accepting_payments(ctx).is_ok() && writable;
    let _ = writeln!(
        out,
        "# HELP fotobox_accepting_payments 1 when new payments are accepted."
    );
    let _ = writeln!(out, "# TYPE fotobox_accepting_payments gauge");
    let _ = writeln!(out, "fotobox_accepting_payments {}", u8::from(accepting));

    ctx.metrics.with(|r| {
        let _ = writeln!(
            out,
            "# HELP fotobox_callback_duration_seconds Time to answer provider callbacks."
        );
        let _ = writeln!(out, "# TYPE fotobox_callback_duration_seconds histogram");
        for (p, h) in &r.callback_latency {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "fotobox_callback_duration_seconds_bucket{{provider=\"{p}\",le=\"{b}\"}} {}",
                    h.counts.get(i).copied().unwrap_or(0)
                );
            }
            let _ = writeln!(
                out,
                "fotobox_callback_duration_seconds_bucket{{provider=\"{p}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "fotobox_callback_duration_seconds_sum{{provider=\"{p}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "fotobox_callback_duration_seconds_count{{provider=\"{p}\"}} {}",
                h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP fotobox_callbacks_total Provider callbacks by HTTP status."
        );
        let _ = writeln!(out, "# TYPE fotobox_callbacks_total counter");
        for ((p, s), n) in &r.callbacks {
            let _ = writeln!(
                out,
                "fotobox_callbacks_total{{provider=\"{p}\",code=\"{s}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP fotobox_auth_failures_total Provider callbacks refused by authentication."
        );
        let _ = writeln!(out, "# TYPE fotobox_auth_failures_total counter");
        for (p, n) in &r.auth_failures {
            let _ = writeln!(
                out,
                "fotobox_auth_failures_total{{provider=\"{}\"}} {n}",
                esc(p)
            );
        }
        let _ = writeln!(
            out,
            "# HELP fotobox_http_server_errors_total HTTP answers with a 5xx status."
        );
        let _ = writeln!(out, "# TYPE fotobox_http_server_errors_total counter");
        let _ = writeln!(out, "fotobox_http_server_errors_total {}", r.server_errors);
        let _ = writeln!(
            out,
            "# HELP fotobox_errors_total Failures of background jobs."
        );
        let _ = writeln!(out, "# TYPE fotobox_errors_total counter");
        for (j, n) in &r.errors {
            let _ = writeln!(out, "fotobox_errors_total{{job=\"{}\"}} {n}", esc(j));
        }
        if let Some(up) = r.tunnel_up {
            let _ = writeln!(
                out,
                "# HELP fotobox_tunnel_up 1 when the last tunnel check passed."
            );
            let _ = writeln!(out, "# TYPE fotobox_tunnel_up gauge");
            let _ = writeln!(out, "fotobox_tunnel_up {}", u8::from(up));
            let _ = writeln!(out, "# TYPE fotobox_tunnel_check_latency_seconds gauge");
            let _ = writeln!(
                out,
                "fotobox_tunnel_check_latency_seconds {}",
                r.tunnel_latency_ms as f64 / 1000.0
            );
        }
        let _ = writeln!(
            out,
            "# HELP fotobox_tunnel_restarts_total Restarts of the supervised tunnel command."
        );
        let _ = writeln!(out, "# TYPE fotobox_tunnel_restarts_total counter");
        let _ = writeln!(out, "fotobox_tunnel_restarts_total {}", r.tunnel_restarts);
        if let Some(t) = r.last_backup {
            let _ = writeln!(
                out,
                "# HELP fotobox_last_backup_timestamp_seconds Time of the last automatic backup."
            );
            let _ = writeln!(out, "# TYPE fotobox_last_backup_timestamp_seconds gauge");
            let _ = writeln!(out, "fotobox_last_backup_timestamp_seconds {t}");
        }
        if !r.disk.is_empty() {
            let _ = writeln!(
                out,
                "# HELP fotobox_disk_free_bytes Free space where data and backups live."
            );
            let _ = writeln!(out, "# TYPE fotobox_disk_free_bytes gauge");
            for (n, (free, _)) in &r.disk {
                let _ = writeln!(
                    out,
                    "fotobox_disk_free_bytes{{volume=\"{}\"}} {free}",
                    esc(n)
                );
            }
        }
    });
    out
}
