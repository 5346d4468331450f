//! `fotobox reconcile [--date D] [--format table|csv|json]`: the daily reconciliation
//! (`fotobox_core::reconcile`) of a kiosk-local day, as the panel's Reconciliation page shows it.

use std::io::Write;

use anyhow::{anyhow, Result};
use clap::Args;
use fotobox_core::reconcile::{self, Reconciliation};
use fotobox_core::AppContext;

use crate::Format;

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// The kiosk-local day, YYYY-MM-DD (default: today at the configured UTC offset).
    #[arg(long)]
    date: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

pub async fn run(ctx: &AppContext, args: ReconcileArgs) -> Result<()> {
    let day = match args.date.as_deref() {
        None => reconcile::today(ctx),
        Some(d) => chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
            .map_err(|_| anyhow!("--date must be YYYY-MM-DD, not {d:?}"))?,
    };
    let r = reconcile::for_day(ctx, day).await?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&r)?)?,
        Format::Csv => write_csv(&mut out, &r)?,
        Format::Table => write_table(&mut out, &r)?,
    }
    Ok(())
}

fn tracked(r: &Reconciliation) -> String {
    if r.receipts_tracked_for.is_empty() {
        "no provider's receipts are recorded".into()
    } else {
        format!(
            "receipts recorded for: {}",
            r.receipts_tracked_for.join(", ")
        )
    }
}

fn write_table(out: &mut impl Write, r: &Reconciliation) -> Result<()> {
    writeln!(
        out,
        "reconciliation {} (UTC offset {}; orders created {} to {} UTC)",
        r.day,
        r.utc_offset,
        r.from.format("%Y-%m-%d %H:%M"),
        r.to.format("%Y-%m-%d %H:%M")
    )?;
    writeln!(
        out,
        "paid orders        {} ({} UZS)",
        r.paid_orders, r.paid_amount
    )?;
    writeln!(
        out,
        "  still paid       {} ({} UZS revenue)",
        r.kept_orders, r.revenue
    )?;
    writeln!(out, "printed orders     {}", r.printed_orders)?;
    writeln!(
        out,
        "fiscalised sales   {} ({})",
        r.fiscalised_sales,
        tracked(r)
    )?;
    writeln!(
        out,
        "refunds            {} ({} UZS)",
        r.refunds, r.refunded_amount
    )?;
    writeln!(
        out,
        "free sessions      {} ({} UZS value)",
        r.free_sessions, r.free_value
    )?;
    for l in &r.refund_list {
        writeln!(
            out,
            "  refund {:<12} {:<6} {:>10}  {}",
            l.order_id, l.provider, l.amount, l.how
        )?;
    }
    if r.exceptions.is_empty() {
        writeln!(out, "no exceptions")?;
    } else {
        writeln!(out, "exceptions ({}):", r.exceptions.len())?;
        writeln!(
            out,
            "  {:<38} {:<12} {:<6} {:>10}  {:<9}",
            "KIND", "ORDER", "TYPE", "AMOUNT", "STATUS"
        )?;
        for e in &r.exceptions {
            writeln!(
                out,
                "  {:<38} {:<12} {:<6} {:>10}  {:<9}",
                e.kind.label(),
                e.order_id,
                e.provider,
                e.amount,
                e.status
            )?;
        }
    }
    Ok(())
}

/// One table: the day's numbers (`item` = the number's name, `count`, `amount`), then one row per
/// refund and per exception (`item` = `refund` or the exception kind, with the order).
fn write_csv(out: &mut impl Write, r: &Reconciliation) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "day", "item", "order_id", "provider", "count", "amount", "detail",
    ])?;
    let day = r.day.to_string();
    let n = |v: i64| v.to_string();
    let numbers: [(&str, i64, Option<i64>, String); 6] = [
        (
            "paid_orders",
            r.paid_orders,
            Some(r.paid_amount),
            String::new(),
        ),
        ("still_paid", r.kept_orders, Some(r.revenue), String::new()),
        ("printed_orders", r.printed_orders, None, String::new()),
        ("fiscalised_sales", r.fiscalised_sales, None, tracked(r)),
        ("refunds", r.refunds, Some(r.refunded_amount), String::new()),
        (
            "free_sessions",
            r.free_sessions,
            Some(r.free_value),
            String::new(),
        ),
    ];
    for (item, count, amount, detail) in numbers {
        w.write_record([
            day.as_str(),
            item,
            "",
            "",
            &n(count),
            &amount.map(n).unwrap_or_default(),
            &detail,
        ])?;
    }
    for l in &r.refund_list {
        w.write_record([
            day.as_str(),
            "refund",
            &l.order_id,
            &l.provider,
            "",
            &n(l.amount),
            l.how,
        ])?;
    }
    for e in &r.exceptions {
        w.write_record([
            day.as_str(),
            e.kind.as_str(),
            &e.order_id,
            &e.provider,
            "",
            &n(e.amount),
            &e.status,
        ])?;
    }
    w.flush()?;
    Ok(())
}
