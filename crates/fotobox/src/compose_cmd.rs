//! `fotobox compose` (render a layout from image files, for layout designers and benchmarks),
//! `fotobox paper` (the paper counter; `reset` after a refill) and `fotobox print-queue`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use fotobox_core::{photos, AppContext, Config};
use fotobox_render::compose::{self, TextVars};
use fotobox_render::layouts::LayoutCache;

/// `fotobox compose --template NAME --out FILE SHOT...`
#[derive(Debug, Args)]
pub struct ComposeArgs {
    /// Layout name (a file `<NAME>.toml` of `photos.templates_dir`, or a built-in one).
    #[arg(long)]
    template: String,
    /// Output JPEG.
    #[arg(long)]
    out: PathBuf,
    /// `{event}` text (default `photos.event_name`).
    #[arg(long)]
    event: Option<String>,
    /// Shot images (JPEG or PNG), as many as the layout takes.
    #[arg(required = true)]
    shots: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PaperCommand {
    /// Prints left on the roll.
    Status,
    /// A new roll was put in (staff refill).
    Reset {
        /// Prints on the new roll (default `printer.paper_roll_size`).
        #[arg(long)]
        roll_size: Option<u64>,
    },
}

#[derive(Debug, Args)]
pub struct PrintQueueArgs {
    #[arg(long, default_value_t = 50)]
    limit: i64,
    /// JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Render a layout; needs no database.
pub fn compose(cfg: &Config, args: ComposeArgs) -> Result<()> {
    let set = LayoutCache::default().load(cfg.photos.templates_dir.as_deref())?;
    let layout = set.get(&args.template).ok_or_else(|| {
        anyhow!(
            "unknown layout {:?} ({}); known: {}",
            args.template,
            set.source,
            set.names().join(", ")
        )
    })?;
    if args.shots.len() != layout.shots {
        bail!(
            "layout {} takes {} pictures, got {}",
            layout.name,
            layout.shots,
            args.shots.len()
        );
    }
    let now = chrono::Utc::now() + chrono::Duration::minutes(cfg.photos.utc_offset_minutes);
    let vars = TextVars {
        event: args.event.unwrap_or_else(|| cfg.photos.event_name.clone()),
        date: now.format("%d.%m.%Y").to_string(),
        order: "TEST-0000".into(),
    };
    let started = std::time::Instant::now();
    let quality = cfg.photos.jpeg_quality.clamp(1, 100) as u8;
    let jpeg = compose::compose_files(&layout, &args.shots, &vars, quality)?;
    let ms = started.elapsed().as_millis();
    fotobox_render::files::write_atomic(&args.out, &jpeg)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    writeln!(
        std::io::stdout(),
        "wrote {} ({}x{} at {} dpi, {} bytes) in {ms} ms",
        args.out.display(),
        layout.width,
        layout.height,
        layout.dpi,
        jpeg.len()
    )?;
    Ok(())
}

pub async fn paper(cfg: Config, command: PaperCommand) -> Result<()> {
    let ctx = AppContext::new(cfg).await?;
    let result = async {
        let roll = match command {
            PaperCommand::Status => photos::paper(&ctx).await?,
            PaperCommand::Reset { roll_size } => photos::reset_paper(&ctx, roll_size).await?,
        };
        writeln!(
            std::io::stdout(),
            "paper: {} of {} prints left (roll since {} UTC, {})",
            roll.remaining,
            roll.roll_size,
            roll.reset_at.format("%Y-%m-%d %H:%M"),
            roll.reset_by
        )?;
        Ok::<_, anyhow::Error>(())
    }
    .await;
    ctx.store.close().await;
    result
}

pub async fn print_queue(cfg: Config, args: PrintQueueArgs) -> Result<()> {
    if !(1..=10_000).contains(&args.limit) {
        bail!("--limit must be between 1 and 10000");
    }
    let ctx = AppContext::new(cfg).await?;
    let result = async {
        let jobs = ctx.store.print_jobs(args.limit).await?;
        let flags = ctx.store.open_flags().await?;
        let mut out = std::io::stdout().lock();
        if args.json {
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"jobs": jobs, "open_flags": flags})
                )?
            )?;
            return Ok(());
        }
        writeln!(
            out,
            "{:>5}  {:<10} {:<9} {:>3}  {:<8} {:>3}  {:<14} {:<19}  LAST ERROR",
            "JOB", "ORDER", "LAYOUT", "CP", "STATE", "TRY", "PRINTER JOB", "QUEUED (UTC)"
        )?;
        for r in &jobs {
            let j = &r.job;
            writeln!(
                out,
                "{:>5}  {:<10} {:<9} {:>3}  {:<8} {:>3}  {:<14} {:<19}  {}",
                j.id,
                r.order_id,
                r.template_name,
                j.copies,
                j.state,
                j.attempts,
                j.printer_job_id.as_deref().unwrap_or("-"),
                j.queued_at.format("%Y-%m-%d %H:%M:%S"),
                j.last_error.as_deref().unwrap_or("")
            )?;
        }
        writeln!(
            out,
            "{} jobs; {} paid orders flagged for staff",
            jobs.len(),
            flags.len()
        )?;
        for f in &flags {
            writeln!(
                out,
                "  flag: payment #{} ({}): {}",
                f.payment_id, f.suggested_action, f.reason
            )?;
        }
        Ok::<_, anyhow::Error>(())
    }
    .await;
    ctx.store.close().await;
    result
}
