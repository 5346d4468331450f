//! `fotobox`: the headless kiosk server and the staff command line over the same core.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

mod compose_cmd;
mod doctor_cmd;
mod reconcile_cmd;

mod staff_cmd;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use fotobox_core::maintenance::journal;
use fotobox_core::{staff, AppContext, Config};
use fotobox_store::model::{Payment, PaymentStatus};
use fotobox_store::{backup, ListFilter};

/// `println!` that returns the write error instead of panicking (a closed pipe is not a crash).
macro_rules! out {
    ($($t:tt)*) => {
        writeln!(std::io::stdout(), $($t)*)?
    };
}

#[derive(Debug, Parser)]
#[command(
    name = "fotobox",
    version,
    about = "Fotobox photobooth kiosk: headless server and staff tools"
)]
struct Cli {
    /// Config file (TOML). Without one, sandbox defaults apply.
    #[arg(long, global = true, env = "FOTOBOX_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (database, logs, backups). Overrides the config's `data_dir`.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the callback listener and the API listener until SIGINT/SIGTERM. In live mode a
    /// missing prerequisite of taking real money refuses the start (see `doctor`).
    Serve,
    /// Check what taking real money needs (credentials, fiscal data, public URL, printer, paper,
    /// disk, clock, staff PIN); exits non-zero when a live money-path prerequisite fails. Needs
    /// no running server and takes no lock.
    Doctor {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Look at payments.
    Payments {
        #[command(subcommand)]
        command: PaymentsCommand,
    },
    /// Totals per status and revenue (the same numbers as GET /api/stats).
    Stats {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// The daily reconciliation of a kiosk-local day: paid, printed, fiscalised, refunded and
    /// free orders, and the exceptions by order.
    Reconcile(reconcile_cmd::ReconcileArgs),
    /// Export all payments as CSV.
    Export {
        /// Output file; default payments_export_YYYYMMDD_HHMMSS.csv in the current directory.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Take a consistent online backup of the database.
    Backup {
        /// Output file; default <data_dir>/backups/photobooth_YYYYMMDD_HHMMSS.db.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Replace the database with a backup (the server must be stopped; the old file is kept).
    /// Refused while money is in flight unless --force.
    Restore {
        file: PathBuf,
        /// Restore although payments are under way or paid orders are not printed (audited).
        #[arg(long)]
        force: bool,
    },
    /// The staff panel's PIN.
    Staff {
        #[command(subcommand)]
        command: staff_cmd::StaffCommand,
    },
    /// Render a layout from image files: compose --template NAME --out FILE SHOT...
    Compose(compose_cmd::ComposeArgs),
    /// The paper counter: `paper status`, `paper reset` after a refill.
    Paper {
        #[command(subcommand)]
        command: compose_cmd::PaperCommand,
    },
    /// Print jobs, newest first, and paid orders flagged for staff.
    PrintQueue(compose_cmd::PrintQueueArgs),
    /// Delete all payments and photos records (a backup is taken first).
    Clear {
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Clear although payments are under way or paid orders are not printed (audited).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
enum PaymentsCommand {
    /// List payments, newest first.
    List {
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long, default_value_t = 0)]
        offset: i64,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// One payment with its provider events and photos, by id or order id.
    Show {
        id: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Table,
    Json,
    Csv,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn load_config(cli: &Cli) -> Result<Config> {
    let mut cfg = Config::load(cli.config.as_deref())?;
    if let Some(d) = &cli.data_dir {
        cfg.data_dir = Some(d.clone());
    }
    Ok(cfg)
}

async fn run(cli: Cli) -> Result<()> {
    let cfg = load_config(&cli)?;
    match cli.command {
        Command::Serve => serve(cfg).await,
        Command::Doctor { json } => doctor_cmd::run(cfg, json).await,
        Command::Compose(args) => compose_cmd::compose(&cfg, args),
        Command::Paper { command } => compose_cmd::paper(cfg, command).await,
        Command::PrintQueue(args) => compose_cmd::print_queue(cfg, args).await,
        Command::Staff { command } => staff_cmd::run(cfg, command).await,
        Command::Restore { file, force } => {
            let db = cfg.database_path()?;
            let now = chrono::Utc::now();
            let journaled = journal::newest_entries(&cfg, &cfg.resolve_data_dir()?);
            let report = backup::restore(&db, &file, now, force).await?;
            // What the journal holds from before is gone on purpose: not replayed by a recovery.
            let reason = format!("restore of {}", file.display());
            journal::mark_reset(None, journaled, &reason).await;
            out!(
                "restored {} (schema version {}) into {}",
                report.restored_from.display(),
                report.schema_version,
                db.display()
            );
            let kept = report
                .replaced_kept_at
                .as_ref()
                .map(|k| k.display().to_string())
                .unwrap_or_default();
            if !kept.is_empty() {
                out!("the replaced database is kept at {kept}");
            }
            if force || !report.lost_transactions.is_empty() {
                // Audit the forced restore and alert about what the providers will ask for.
                let ctx = AppContext::new(cfg).await?;
                let detail = serde_json::json!({"file": file.display().to_string(), "force": force,
                                                "lost_transactions": report.lost_transactions});
                fotobox_core::panel::audit(
                    &ctx,
                    fotobox_core::panel::Actor::Cli,
                    "restore",
                    None,
                    None,
                    detail,
                )
                .await?;
                if !report.lost_transactions.is_empty() {
                    out!(
                        "the restored database does not know these provider transactions: {}",
                        report.lost_transactions.join(", ")
                    );
                    fotobox_core::panel::raise_lost_transactions(
                        &ctx,
                        &report.lost_transactions,
                        &kept,
                    )
                    .await;
                }
                ctx.store.close().await;
            }
            Ok(())
        }
        command => {
            let ctx = AppContext::new(cfg).await?;
            let result = staff_command(&ctx, command).await;
            ctx.store.close().await;
            result
        }
    }
}

async fn serve(cfg: Config) -> Result<()> {
    let data_dir = cfg.resolve_data_dir()?;
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
    let _guard = fotobox_core::logging::init(&data_dir);
    let ctx = AppContext::new(cfg).await?;
    let server = fotobox_http::server::start(ctx).await?;
    // Machine-readable line for scripts and tests that start us on port 0.
    out!(
        "listening callback=http://{} api=http://{}",
        server.callback_addr,
        server.api_addr
    );
    let _ = std::io::stdout().flush();
    fotobox_http::server::shutdown_signal().await;
    server.shutdown().await;
    Ok(())
}

async fn staff_command(ctx: &AppContext, command: Command) -> Result<()> {
    let store = &ctx.store;
    match command {
        Command::Payments {
            command:
                PaymentsCommand::List {
                    status,
                    limit,
                    offset,
                    format,
                },
        } => {
            let status = match status {
                None => None,
                Some(s) => Some(PaymentStatus::parse(&s).ok_or_else(|| {
                    anyhow!("--status must be pending, success or canceled, not {s:?}")
                })?),
            };
            if !(1..=10_000).contains(&limit) {
                bail!("--limit must be between 1 and 10000");
            }
            if offset < 0 {
                bail!("--offset must not be negative");
            }
            let filter = ListFilter {
                status,
                ..ListFilter::default()
            };
            let (total, rows) = store.list_payments(&filter, limit, offset).await?;
            match format {
                Format::Json => out!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "total": total, "limit": limit, "offset": offset, "payments": rows
                    }))?
                ),
                Format::Csv => staff::write_csv(std::io::stdout().lock(), &rows)?,
                Format::Table => {
                    print_table(&rows)?;
                    out!("{} of {total} payments (offset {offset})", rows.len());
                }
            }
        }
        Command::Payments {
            command: PaymentsCommand::Show { id, format },
        } => {
            let p = staff::find_payment(store, &id)
                .await?
                .ok_or_else(|| anyhow!("no payment with id or order id {id:?}"))?;
            let events = store.events_for_payment(p.id).await?;
            let photos = store.photos_for_payment(p.id).await?;
            if format == Format::Table {
                let v = serde_json::to_value(&p)?;
                if let Some(obj) = v.as_object() {
                    for (k, val) in obj {
                        let shown = match val {
                            serde_json::Value::String(s) => s.clone(),
                            serde_json::Value::Null => "-".into(),
                            other => other.to_string(),
                        };
                        out!("{k:>15}: {shown}");
                    }
                }
                out!("events ({}):", events.len());
                for e in &events {
                    out!(
                        "  {} {:<7} {:<24} {}",
                        e.created_at.format("%Y-%m-%d %H:%M:%S"),
                        e.source,
                        e.kind,
                        e.detail_json.as_deref().unwrap_or("")
                    );
                }
                out!("photos ({}):", photos.len());
                for ph in &photos {
                    out!(
                        "  #{} {} x{} {}",
                        ph.id,
                        ph.template_name,
                        ph.copy_count,
                        ph.composite_path.as_deref().unwrap_or("-")
                    );
                }
            } else {
                let mut v = serde_json::to_value(&p)?;
                v["events"] = serde_json::json!(events);
                v["photos"] = serde_json::json!(photos);
                out!("{}", serde_json::to_string_pretty(&v)?);
            }
        }
        Command::Stats { format } => {
            let s = store.stats(ctx.clock.now()).await?;
            if format == Format::Table {
                out!("total payments     {}", s.total_payments);
                out!("  success          {}", s.success_payments);
                out!("  pending          {}", s.pending_payments);
                out!("  canceled         {}", s.canceled_payments);
                out!("total revenue      {} UZS", s.total_revenue);
                out!("success rate       {:.1}%", s.success_rate * 100.0);
                out!(
                    "today              {} paid, {} UZS",
                    s.today.success_payments,
                    s.today.revenue
                );
                out!(
                    "last 7 days        {} paid, {} UZS",
                    s.last_7_days.success_payments,
                    s.last_7_days.revenue
                );
                out!(
                    "last 30 days       {} paid, {} UZS",
                    s.last_30_days.success_payments,
                    s.last_30_days.revenue
                );
                out!(
                    "refunded           {}, {} UZS",
                    s.refunded_payments,
                    s.refunded_amount
                );
                out!(
                    "free sessions      {} (worth {} UZS, not revenue)",
                    s.comp_sessions,
                    s.comp_value
                );
                out!(
                    "paid, no receipt   {} (last 30 days; see `fotobox reconcile`)",
                    s.paid_without_receipt
                );
                for p in &s.by_provider {
                    out!(
                        "{:<18} {} payments, {} paid, {} UZS",
                        p.payment_type,
                        p.payments,
                        p.success_payments,
                        p.revenue
                    );
                }
            } else {
                out!("{}", serde_json::to_string_pretty(&s)?);
            }
        }
        Command::Reconcile(args) => reconcile_cmd::run(ctx, args).await?,
        Command::Export { out } => {
            let out =
                out.unwrap_or_else(|| PathBuf::from(staff::export_file_name(chrono::Utc::now())));
            let n = staff::export_csv(store, &out).await?;
            out!("exported {n} payments to {}", out.display());
        }
        Command::Backup { out } => {
            let path = match out {
                Some(out) => store.backup_to(&out).await?,
                None => staff::backup_into(store, &ctx.backup_dir(), chrono::Utc::now()).await?,
            };
            out!("backup written to {}", path.display());
        }
        Command::Clear { yes, force } => {
            if backup::ServerLock::is_held(store.path()) {
                bail!(
                    "a Fotobox server is running on {}; clear from the staff panel (Database page) instead",
                    store.path().display()
                );
            }
            let n = store.count_payments().await?;
            if !yes {
                if !std::io::stdin().is_terminal() {
                    bail!("refusing to clear {n} payments without confirmation: pass --yes");
                }
                write!(std::io::stdout(), "Delete all {n} payments and photo records? A backup is taken first. Type 'yes': ")?;
                std::io::stdout().flush()?;
                let mut answer = String::new();
                std::io::stdin().lock().read_line(&mut answer)?;
                if answer.trim() != "yes" {
                    bail!("not confirmed; nothing was changed");
                }
            }
            let journaled = journal::newest_entries(&ctx.config, &ctx.data_dir);
            let backup = store
                .clear_all(&ctx.backup_dir(), chrono::Utc::now(), force)
                .await?;
            journal::mark_reset(Some(&ctx.journal), journaled, "staff cleared all payments").await;
            let detail = serde_json::json!({"payments": n, "backup": backup.display().to_string(),
                                            "force": force});
            fotobox_core::panel::audit(
                ctx,
                fotobox_core::panel::Actor::Cli,
                "clear",
                None,
                None,
                detail,
            )
            .await?;
            out!(
                "cleared {n} payments; backup of the previous state: {}",
                backup.display()
            );
        }
        Command::Serve
        | Command::Doctor { .. }
        | Command::Restore { .. }
        | Command::Staff { .. } => {
            unreachable!("handled in run")
        }
        Command::Compose(_) | Command::Paper { .. } | Command::PrintQueue(_) => {
            unreachable!("handled in run")
        }
    }
    Ok(())
}

fn print_table(rows: &[Payment]) -> Result<()> {
    out!(
        "{:>6}  {:<10} {:<6} {:>10}  {:<9} {:<9} {:>3}  {:<19}",
        "ID",
        "ORDER",
        "TYPE",
        "AMOUNT",
        "STATUS",
        "LAYOUT",
        "CP",
        "CREATED (UTC)"
    );
    for p in rows {
        out!(
            "{:>6}  {:<10} {:<6} {:>10}  {:<9} {:<9} {:>3}  {:<19}",
            p.id,
            p.order_id,
            p.payment_type,
            p.amount,
            p.status,
            p.template_name.as_deref().unwrap_or("-"),
            p.copies,
            p.created_at.format("%Y-%m-%d %H:%M:%S")
        );
    }
    Ok(())
}
