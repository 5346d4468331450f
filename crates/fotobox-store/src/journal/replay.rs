//! How recovery applies journal entries to the restored database: idempotent upserts keyed by
//! the order's and the providers' ids (`order_id`, `payme_id`, `click_trans_id`; row ids kept
//! when free) that only ever move a row forward in its state machine (so an entry never undoes a
//! later state read from the damaged file, and replaying twice changes nothing the second time).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use sqlx::SqliteConnection;

use super::line::{row_from_json, Body, Entry, EntryId, JournalRead, JsonRow};
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
    for (table, _) in SNAPSHOT {
        columns.insert(table, m::table_columns(&mut tx, table).await?);
    }
    for entry in todo {
        if let Body::Change { rows, .. } = &entry.body {
            apply_entry(&mut tx, rows, &columns, &mut report).await;
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

fn set(row: &mut GenericRow, col: &str, v: SqlValue) {
    match row.iter_mut().find(|(c, _)| c == col) {
        Some(slot) => slot.1 = v,
        None => row.push((col.to_string(), v)),
    }
}

/// The key a row is upserted by: the order's id and the providers' ids, which the providers
/// and staff know it by (row ids are kept when free, but a row id can have been reused).
fn key_of(table: &str) -> Option<&'static str> {
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

/// Equal in every column the table has but `id`.
fn same(a: &GenericRow, b: &GenericRow, columns: &[String]) -> bool {
    columns
        .iter()
        .filter(|c| *c != "id")
        .all(|c| value(a, c) == value(b, c))
}

/// Apply one change: the payment row first; its rows then point at the payment's id in this
/// database (which differs from the journal's when that id was taken by another order). When
/// the payment row cannot be applied, neither can the rest of the entry.
async fn apply_entry(
    conn: &mut SqliteConnection,
    rows: &BTreeMap<String, Vec<JsonRow>>,
    columns: &HashMap<&str, Vec<String>>,
    report: &mut JournalReplayReport,
) {
    let mut payment: Option<(SqlValue, i64)> = None;
    for (table, _) in SNAPSHOT {
        let Some(list) = rows.get(table) else {
            continue;
        };
        let cols = columns.get(table).map(Vec::as_slice).unwrap_or(&[]);
        for json in list {
            let Some(mut row) = row_from_json(json) else {
                JournalReplayReport::bump(&mut report.skipped, table);
                continue;
            };
            if table != "payments" && value(&row, "payment_id").is_some() {
                match &payment {
                    Some((journal_id, id)) if value(&row, "payment_id") == Some(journal_id) => {
                        set(&mut row, "payment_id", SqlValue::Int(*id));
                    }
                    _ => {
                        JournalReplayReport::bump(&mut report.skipped, table);
                        continue;
                    }
                }
            }
            let outcome = match key_of(table) {
                Some(key) => upsert_forward(conn, table, key, cols, &mut row).await,
                None => insert_once(conn, table, cols, &row).await,
            };
            match outcome {
                Ok((applied, id)) => {
                    match applied {
                        Applied::Inserted => JournalReplayReport::bump(&mut report.inserted, table),
                        Applied::Updated => JournalReplayReport::bump(&mut report.updated, table),
                        Applied::Current => {}
                    }
                    if table == "payments" {
                        let journal_id = rows
                            .get(table)
                            .and_then(|l| l.first())
                            .and_then(|r| r.get("id"))
                            .and_then(super::line::value_from_json);
                        payment = journal_id.map(|j| (j, id));
                    }
                }
                Err(e) => {
                    tracing::warn!(table, error = %e, "journal replay: row not applied");
                    JournalReplayReport::bump(&mut report.skipped, table);
                }
            }
        }
    }
}

enum Applied {
    Inserted,
    Updated,
    /// The database already has this state or a later one.
    Current,
}

/// Insert `row` under its own id when that is free, else under a fresh one; returns the id.
async fn insert_keeping_id(
    conn: &mut SqliteConnection,
    table: &str,
    columns: &[String],
    row: &GenericRow,
) -> Result<i64> {
    let own = match value(row, "id") {
        Some(SqlValue::Int(id)) if m::row_by_id(conn, table, *id).await?.is_none() => Some(*id),
        _ => None,
    };
    if let Some(id) = own {
        m::insert_generic(conn, table, columns, row).await?;
        return Ok(id);
    }
    let without: GenericRow = row.iter().filter(|(c, _)| c != "id").cloned().collect();
    m::insert_generic(conn, table, columns, &without).await?;
    let (id,): (i64,) = sqlx::query_as("SELECT last_insert_rowid()")
        .fetch_one(&mut *conn)
        .await?;
    Ok(id)
}

/// Payments and provider transactions, by their key: inserted when missing; when present,
/// overwritten only with a later state (for an order of the same status, a later
/// `updated_at`). Returns what happened and the row's id in this database.
async fn upsert_forward(
    conn: &mut SqliteConnection,
    table: &str,
    key: &str,
    columns: &[String],
    row: &mut GenericRow,
) -> Result<(Applied, i64)> {
    let Some(k) = value(row, key).cloned() else {
        return Err(crate::pool::StoreError::Invalid(format!(
            "journal row of {table} without {key}"
        )));
    };
    let sql = format!(
        "SELECT * FROM \"{}\" WHERE \"{}\" = ?",
        m::quote_ident(table),
        m::quote_ident(key)
    );
    let found = m::bind_all(sqlx::query(&sql), &[&k])
        .fetch_optional(&mut *conn)
        .await?;
    let Some(existing) = found.as_ref().map(m::generic) else {
        let id = insert_keeping_id(conn, table, columns, row).await?;
        return Ok((Applied::Inserted, id));
    };
    let Some(SqlValue::Int(id)) = value(&existing, "id").cloned() else {
        return Err(crate::pool::StoreError::Invalid(format!(
            "{table} row without an id"
        )));
    };
    if same(&existing, row, columns) {
        return Ok((Applied::Current, id));
    }
    let (ours, theirs) = (rank(table, row), rank(table, &existing));
    let later = ours > theirs
        || (ours == theirs
            && table == "payments"
            && text(row, "updated_at") > text(&existing, "updated_at"));
    if !later {
        return Ok((Applied::Current, id));
    }
    set(row, "id", SqlValue::Int(id));
    m::update_generic(conn, table, columns, row).await?;
    Ok((Applied::Updated, id))
}

/// Append-only rows (events, fiscal receipts): inserted once (unless an identical row is there),
/// under a fresh id when theirs has been reused by another row.
async fn insert_once(
    conn: &mut SqliteConnection,
    table: &str,
    columns: &[String],
    row: &GenericRow,
) -> Result<(Applied, i64)> {
    let content: GenericRow = row
        .iter()
        .filter(|(c, _)| c != "id" && columns.contains(c))
        .cloned()
        .collect();
    let cond = content
        .iter()
        .map(|(c, _)| format!("\"{}\" IS ?", m::quote_ident(c)))
        .collect::<Vec<_>>()
        .join(" AND ");
    if content.is_empty() {
        return Err(crate::pool::StoreError::Invalid(format!(
            "empty journal row of {table}"
        )));
    }
    let sql = format!(
        "SELECT * FROM \"{}\" WHERE {cond} LIMIT 1",
        m::quote_ident(table)
    );
    let values: Vec<&SqlValue> = content.iter().map(|(_, v)| v).collect();
    let found = m::bind_all(sqlx::query(&sql), &values)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(SqlValue::Int(id)) = found
        .as_ref()
        .map(m::generic)
        .and_then(|r| value(&r, "id").cloned())
    {
        return Ok((Applied::Current, id));
    }
    let id = insert_keeping_id(conn, table, columns, row).await?;
    Ok((Applied::Inserted, id))
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
        assert_eq!(target.payment_by_id(pid).await.unwrap(), Some(want.clone()));

        // Into a database where another order took the row id: the order goes in under a new
        // id, its attempt and events follow it, the attempt keeps its id (Click knows it).
        let reused = store(&dir, "reused.db").await;
        let mut tx = reused.begin_write().await.unwrap();
        let other = q::insert_payment(
            &mut tx,
            &q::NewPayment {
                order_id: "OTHER",
                amount: Sum::new(5_000),
                payment_type: Provider::Payme,
                template_name: None,
                copies: 1,
                expires_at: Utc::now(),
                now: Utc::now(),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(other.id, pid);
        let r = replay(&reused, std::slice::from_ref(&read)).await.unwrap();
        assert_eq!(r.skipped.values().sum::<u64>(), 0, "{r:?}");
        let moved = reused
            .payment_by_order_id("ORDER-1")
            .await
            .unwrap()
            .unwrap();
        assert_ne!(moved.id, pid);
        assert_eq!(moved.status, want.status);
        let attempts = reused
            .click_transactions_for_payment(moved.id)
            .await
            .unwrap();
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].id, want_click[0].id);
        assert_eq!(attempts[0].state, "confirmed");
        assert_eq!(reused.events_for_payment(moved.id).await.unwrap().len(), 2);
        assert!(reused.events_for_payment(pid).await.unwrap().is_empty());

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
