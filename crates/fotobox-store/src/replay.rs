//! Replay after a recovery: copy the rows a damaged database file still yields into the
//! restored one, parents first, skipping unreadable pages and never rewriting the append-only
//! event log.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::maintenance::{self as q, GenericRow, SqlValue};
use crate::pool::Store;

/// Rows replayed from the damaged file, per table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplayReport {
    pub inserted: BTreeMap<String, u64>,
    pub updated: BTreeMap<String, u64>,
    /// Rows read but not applied (conflicting ids, constraint failures).
    pub skipped: BTreeMap<String, u64>,
    /// Rows (or id ranges) that could not be read.
    pub unreadable: u64,
    /// Whether the damaged file could be opened at all.
    pub opened: bool,
}

impl ReplayReport {
    pub fn total_applied(&self) -> u64 {
        self.inserted.values().sum::<u64>() + self.updated.values().sum::<u64>()
    }
}

/// Tables replayed, parents first: payments, then provider transactions, photos and every
/// other table with a `payment_id`, then fiscal receipts.
async fn replay_order(
    target: &mut sqlx::SqliteConnection,
    damaged: &mut sqlx::SqliteConnection,
) -> Vec<String> {
    let mut with_pid = q::tables_with_payment_id(target).await.unwrap_or_default();
    let first = ["payme_transactions", "click_transactions", "photos"];
    with_pid.sort_by_key(|t| {
        (
            first.iter().position(|f| f == t).unwrap_or(first.len()),
            t.clone(),
        )
    });
    let mut order = vec!["payments".to_string()];
    order.extend(with_pid);
    order.push("payme_fiscal_data".to_string());
    let theirs = q::user_tables(damaged).await.unwrap_or_default();
    order.retain(|t| theirs.contains(t));
    order
}

fn value<'a>(row: &'a GenericRow, col: &str) -> Option<&'a SqlValue> {
    row.iter().find(|(c, _)| c == col).map(|(_, v)| v)
}

fn same(a: &GenericRow, b: &GenericRow, columns: &[String]) -> bool {
    columns.iter().all(|c| value(a, c) == value(b, c))
}

/// Copy rows of `damaged` that `target` lacks (or has older) into `target`. Best effort: an
/// unreadable page skips the rows on it, a conflicting row is counted and left alone.
pub async fn replay(damaged: &Store, target: &Store) -> ReplayReport {
    let mut report = ReplayReport::default();
    let (Ok(mut from), Ok(mut to)) = (
        damaged.pool().acquire().await,
        target.pool().acquire().await,
    ) else {
        return report;
    };
    report.opened = true;
    // Rows arrive table by table; parents may come from the damaged file too.
    let _ = sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *to)
        .await;
    if sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *to)
        .await
        .is_err()
    {
        return report;
    }
    for table in replay_order(&mut to, &mut from).await {
        let Ok(columns) = q::table_columns(&mut to, &table).await else {
            continue;
        };
        let max = q::max_id(&mut from, &table).await.ok();
        let mut last = 0i64;
        loop {
            let rows = match q::rows_after(&mut from, &table, last, 200).await {
                Ok(rows) if rows.is_empty() => break,
                Ok(rows) => rows,
                Err(_) => {
                    // Probe the next ids one by one past the damaged page(s).
                    let mut rows = Vec::new();
                    for id in last + 1..=last + 200 {
                        match q::row_by_id(&mut from, &table, id).await {
                            Ok(Some(r)) => rows.push(r),
                            Ok(None) => {}
                            Err(_) => report.unreadable += 1,
                        }
                    }
                    last += 200;
                    if rows.is_empty() {
                        if max.map(|m| last >= m).unwrap_or(true) {
                            break;
                        }
                        continue;
                    }
                    rows
                }
            };
            for row in rows {
                let Some(SqlValue::Int(id)) = value(&row, "id").cloned() else {
                    continue;
                };
                last = last.max(id);
                apply_row(&mut to, &table, &columns, &row, id, &mut report).await;
            }
        }
    }
    if sqlx::query("COMMIT").execute(&mut *to).await.is_err() {
        let _ = sqlx::query("ROLLBACK").execute(&mut *to).await;
        report.inserted.clear();
        report.updated.clear();
    }
    let _ = sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *to)
        .await;
    report
}

async fn apply_row(
    to: &mut sqlx::SqliteConnection,
    table: &str,
    columns: &[String],
    row: &GenericRow,
    id: i64,
    report: &mut ReplayReport,
) {
    let bump = |m: &mut BTreeMap<String, u64>| *m.entry(table.to_string()).or_default() += 1;
    match q::row_by_id(to, table, id).await {
        Ok(None) => match q::insert_generic(to, table, columns, row).await {
            Ok(()) => bump(&mut report.inserted),
            Err(e) => {
                tracing::warn!(table, id, error = %e, "replay: row not inserted");
                bump(&mut report.skipped);
            }
        },
        Ok(Some(existing)) => {
            if same(&existing, row, columns) {
                return;
            }
            // The same id must be the same thing; an append-only log is never rewritten.
            let identity = if table == "payments" {
                "order_id"
            } else {
                "payment_id"
            };
            let same_thing = value(&existing, identity) == value(row, identity);
            let newer = table != "payments"
                || matches!((value(row, "updated_at"), value(&existing, "updated_at")),
                    (Some(SqlValue::Text(a)), Some(SqlValue::Text(b))) if a > b);
            if table == "payment_events" || !same_thing {
                bump(&mut report.skipped);
            } else if newer {
                match q::update_generic(to, table, columns, row).await {
                    Ok(()) => bump(&mut report.updated),
                    Err(e) => {
                        tracing::warn!(table, id, error = %e, "replay: row not updated");
                        bump(&mut report.skipped);
                    }
                }
            }
        }
        Err(_) => bump(&mut report.skipped),
    }
}
