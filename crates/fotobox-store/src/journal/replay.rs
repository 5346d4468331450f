//! How recovery applies journal entries to the restored database: idempotent upserts keyed by
//! row id and checked against the provider's ids, that only ever move a row forward in its state
//! machine (so an entry never undoes a later state read from the damaged file, and replaying
//! twice changes nothing the second time).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use sqlx::SqliteConnection;

use super::line::{row_from_json, Body, Entry, EntryId, JournalRead};
use super::snapshot::SNAPSHOT;
use crate::maintenance::{self as m, GenericRow, SqlValue};
use crate::pool::{Result, Store};

/// What replaying the journal did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct JournalReplayReport {
    /// Change entries read (after voids and resets are taken out).
    pub changes: u64,
    /// Entries whose transaction did not commit.
    pub voided: u64,
    /// Entries older than a staff restore or clear.
    pub before_reset: u64,
    pub unreadable_lines: u64,
    pub unreadable_files: u64,
    pub segments: u64,
    pub inserted: BTreeMap<String, u64>,
    pub updated: BTreeMap<String, u64>,
    /// Rows not applied (another row holds the id or the provider's id, a constraint failed).
    pub skipped: BTreeMap<String, u64>,
}

impl JournalReplayReport {
    pub fn total_applied(&self) -> u64 {
        self.inserted.values().sum::<u64>() + self.updated.values().sum::<u64>()
    }

    fn bump(map: &mut BTreeMap<String, u64>, table: &str) {
        *map.entry(table.to_string()).or_default() += 1;
    }
}

/// The change entries of one journal that still count, in the order they were written: voided
/// entries and those a reset put behind it are left out (and counted into `report`).
fn live_changes<'a>(read: &'a JournalRead, report: &mut JournalReplayReport) -> Vec<&'a Entry> {
    let voided: BTreeSet<EntryId> = read
        .entries
        .iter()
        .filter_map(|e| match e.body {
            Body::Void { voids } => Some(voids),
            _ => None,
        })
        .collect();
    let cut = read
        .entries
        .iter()
        .filter_map(|e| match &e.body {
            Body::Reset { through, .. } => *through,
            _ => None,
        })
        .max();
    let mut changes: Vec<&Entry> = read
        .entries
        .iter()
        .filter(|e| matches!(e.body, Body::Change { .. }))
        .collect();
    changes.sort_by_key(|e| e.id());
    changes
        .into_iter()
        .filter(|e| {
            if cut.is_some_and(|c| e.id() <= c) {
                report.before_reset += 1;
                false
            } else if voided.contains(&e.id()) {
                report.voided += 1;
                false
            } else {
                true
            }
        })
        .collect()
}

/// Apply the journals `reads` to `target` in one transaction. Best effort: a row that cannot
/// be applied is counted and left out; the rest still goes in.
pub async fn replay(target: &Store, reads: &[JournalRead]) -> Result<JournalReplayReport> {
    let mut report = JournalReplayReport::default();
    let mut todo = Vec::new();
    for read in reads {
        report.unreadable_lines += read.unreadable_lines;
        report.unreadable_files += read.unreadable_files;
        report.segments += read.segments;
        todo.extend(live_changes(read, &mut report));
    }
    report.changes = todo.len() as u64;
    if todo.is_empty() {
        return Ok(report);
    }
    let mut tx = target.begin_write().await?;
    let mut columns: HashMap<&str, Vec<String>> = HashMap::new();
    for entry in todo {
        let Body::Change { rows, .. } = &entry.body else {
            continue;
        };
        for (table, _) in SNAPSHOT {
            let Some(list) = rows.get(table) else {
                continue;
            };
            if !columns.contains_key(table) {
                columns.insert(table, m::table_columns(&mut tx, table).await?);
            }
            let cols = columns.get(table).map(Vec::as_slice).unwrap_or(&[]);
            for json in list {
                match row_from_json(json) {
                    Some(row) => apply_row(&mut tx, table, cols, &row, &mut report).await,
                    None => JournalReplayReport::bump(&mut report.skipped, table),
                }
            }
        }
    }
    tx.commit().await?;
    Ok(report)
}

fn value<'a>(row: &'a GenericRow, col: &str) -> Option<&'a SqlValue> {
    row.iter().find(|(c, _)| c == col).map(|(_, v)| v)
}

fn text<'a>(row: &'a GenericRow, col: &str) -> &'a str {
    match value(row, col) {
        Some(SqlValue::Text(s)) => s,
        _ => "",
    }
}

/// The provider's (or the order's) own id of a row: the same row id must name the same thing.
fn identity(table: &str) -> Option<&'static str> {
    match table {
        "payments" => Some("order_id"),
        "payme_transactions" => Some("payme_id"),
        "click_transactions" => Some("click_trans_id"),
        _ => None,
    }
}

/// How far along its state machine a row is; rows only ever move to a higher rank.
fn rank(table: &str, row: &GenericRow) -> i64 {
    match table {
        "payments" => match text(row, "status") {
            "pending" => 0,
            "success" => 1,
            _ => 2,
        },
        "payme_transactions" => match value(row, "state") {
            Some(SqlValue::Int(1)) => 0,
            Some(SqlValue::Int(2)) => 1,
            _ => 2,
        },
        _ => match text(row, "state") {
            "prepared" => 0,
            _ => 1,
        },
    }
}

fn same(a: &GenericRow, b: &GenericRow, columns: &[String]) -> bool {
    columns.iter().all(|c| value(a, c) == value(b, c))
}

async fn apply_row(
    conn: &mut SqliteConnection,
    table: &str,
    columns: &[String],
    row: &GenericRow,
    report: &mut JournalReplayReport,
) {
    let outcome = match identity(table) {
        Some(key) => upsert_forward(conn, table, key, columns, row).await,
        None => insert_once(conn, table, columns, row).await,
    };
    match outcome {
        Ok(Applied::Inserted) => JournalReplayReport::bump(&mut report.inserted, table),
        Ok(Applied::Updated) => JournalReplayReport::bump(&mut report.updated, table),
        Ok(Applied::Current) => {}
        Ok(Applied::Conflict) => JournalReplayReport::bump(&mut report.skipped, table),
        Err(e) => {
            tracing::warn!(table, error = %e, "journal replay: row not applied");
            JournalReplayReport::bump(&mut report.skipped, table);
        }
    }
}

enum Applied {
    Inserted,
    Updated,
    /// The database already has this state or a later one.
    Current,
    Conflict,
}

/// Payments and provider transactions: insert when missing; when present (and the same thing),
/// overwrite only with a later state (for an order of the same status, a later `updated_at`).
async fn upsert_forward(
    conn: &mut SqliteConnection,
    table: &str,
    key: &str,
    columns: &[String],
    row: &GenericRow,
) -> Result<Applied> {
    let Some(SqlValue::Int(id)) = value(row, "id").cloned() else {
        return Ok(Applied::Conflict);
    };
    let Some(existing) = m::row_by_id(conn, table, id).await? else {
        m::insert_generic(conn, table, columns, row).await?;
        return Ok(Applied::Inserted);
    };
    if value(&existing, key) != value(row, key) {
        return Ok(Applied::Conflict);
    }
    if same(&existing, row, columns) {
        return Ok(Applied::Current);
    }
    let (ours, theirs) = (rank(table, row), rank(table, &existing));
    let later = ours > theirs
        || (ours == theirs
            && table == "payments"
            && text(row, "updated_at") > text(&existing, "updated_at"));
    if !later {
        return Ok(Applied::Current);
    }
    m::update_generic(conn, table, columns, row).await?;
    Ok(Applied::Updated)
}

/// Append-only rows (events, fiscal receipts): inserted unless an identical row is there; under
/// a fresh id when their id has been reused by another row.
async fn insert_once(
    conn: &mut SqliteConnection,
    table: &str,
    columns: &[String],
    row: &GenericRow,
) -> Result<Applied> {
    let content: GenericRow = row
        .iter()
        .filter(|(c, _)| c != "id" && columns.contains(c))
        .cloned()
        .collect();
    if content.is_empty() {
        return Ok(Applied::Conflict);
    }
    let cond = content
        .iter()
        .map(|(c, _)| format!("\"{}\" IS ?", m::quote_ident(c)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let sql = format!(
        "SELECT 1 FROM \"{}\" WHERE {cond} LIMIT 1",
        m::quote_ident(table)
    );
    let values: Vec<&SqlValue> = content.iter().map(|(_, v)| v).collect();
    if m::bind_all(sqlx::query(&sql), &values)
        .fetch_optional(&mut *conn)
        .await?
        .is_some()
    {
        return Ok(Applied::Current);
    }
    let id_free = match value(row, "id") {
        Some(SqlValue::Int(id)) => m::row_by_id(conn, table, *id).await?.is_none(),
        _ => false,
    };
    let to_insert = if id_free { row } else { &content };
    m::insert_generic(conn, table, columns, to_insert).await?;
    Ok(Applied::Inserted)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::journal::line::testdir::TempDir;
    use crate::journal::writer::Journal;
    use crate::model::Provider;
    use crate::{click as c, payments as q, Sum};
    use chrono::Utc;
    use std::time::Duration;

    async fn store(dir: &TempDir, name: &str) -> Store {
        Store::open(&dir.path().join(name), Duration::from_secs(5))
            .await
            .unwrap()
    }

    /// An order prepared through Click (journaled), then confirmed (journaled).
    async fn paid_order(s: &Store, j: &Journal) -> i64 {
        let now = Utc::now();
        let mut tx = s.begin_write().await.unwrap();
        let p = q::insert_payment(
            &mut tx,
            &q::NewPayment {
                order_id: "ORDER-1",
                amount: Sum::new(20_000),
                payment_type: Provider::Click,
                template_name: Some("strip"),
                copies: 1,
                expires_at: now + chrono::Duration::minutes(15),
                now,
            },
        )
        .await
        .unwrap();
        let new = c::NewClickTransaction {
            click_trans_id: 555,
            click_paydoc_id: 1,
            payment_id: p.id,
            amount_raw: "20000.00",
            click_error: 0,
            click_error_note: "Success",
            now,
        };
        let a = c::insert_prepared(&mut tx, &new).await.unwrap();
        q::insert_event(
            &mut tx,
            p.id,
            "click",
            "prepare",
            &serde_json::json!({}),
            now,
        )
        .await
        .unwrap();
        j.commit(tx, p.id, "click:prepare").await.unwrap();
        let mut tx = s.begin_write().await.unwrap();
        assert!(c::confirm(&mut tx, a.id, 0, "Success", now).await.unwrap());
        assert!(q::mark_success(&mut tx, p.id, "555", None, now)
            .await
            .unwrap());
        q::insert_event(
            &mut tx,
            p.id,
            "click",
            "complete",
            &serde_json::json!({}),
            now,
        )
        .await
        .unwrap();
        j.commit(tx, p.id, "click:complete").await.unwrap();
        p.id
    }

    #[tokio::test]
    async fn replay_rebuilds_the_rows_is_idempotent_and_never_moves_a_row_back() {
        let dir = TempDir::new("replay");
        let live = store(&dir, "live.db").await;
        let j = Journal::open(&dir.path().join("journal")).unwrap();
        let pid = paid_order(&live, &j).await;
        let want = live.payment_by_id(pid).await.unwrap().unwrap();
        let want_click = live.click_transactions_for_payment(pid).await.unwrap();

        let target = store(&dir, "target.db").await;
        let read = j.read();
        let r = replay(&target, std::slice::from_ref(&read)).await.unwrap();
        assert_eq!(r.changes, 2);
        assert_eq!(r.inserted["payments"], 1);
        assert_eq!(r.updated["payments"], 1);
        assert_eq!(r.inserted["payment_events"], 2);
        assert_eq!(target.payment_by_id(pid).await.unwrap(), Some(want.clone()));
        assert_eq!(
            target.click_transactions_for_payment(pid).await.unwrap(),
            want_click
        );
        // Twice: nothing more.
        let again = replay(&target, std::slice::from_ref(&read)).await.unwrap();
        assert_eq!(again.total_applied(), 0, "{again:?}");
        assert_eq!(target.events_for_payment(pid).await.unwrap().len(), 2);

        // Only the older entry (prepared, pending) against the paid rows: nothing moves back.
        let mut older = read.clone();
        older.entries.truncate(1);
        let back = replay(&target, &[older]).await.unwrap();
        assert_eq!(back.total_applied(), 0, "{back:?}");
        assert_eq!(target.payment_by_id(pid).await.unwrap(), Some(want));

        // A voided entry and entries before a reset are not replayed.
        let empty = store(&dir, "empty.db").await;
        let [first, second] = [read.entries[0].id(), read.entries[1].id()];
        j.void(second).await;
        j.append(Body::Reset {
            reason: "test".into(),
            through: Some(first),
        })
        .await
        .unwrap();
        let r = replay(&empty, &[j.read()]).await.unwrap();
        assert_eq!((r.changes, r.voided, r.before_reset), (0, 1, 1));
        assert!(empty.payment_by_id(pid).await.unwrap().is_none());
    }
}
