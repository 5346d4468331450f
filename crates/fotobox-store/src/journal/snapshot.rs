//! What a journal entry holds: the rows of one order, read inside the transaction that changes
//! them, just before it commits.

use std::collections::BTreeMap;

use sqlx::SqliteConnection;

use super::line::{row_to_json, JsonRow};
use crate::maintenance as m;
use crate::pool::Result;

/// The tables an entry carries, parents first (the order they are applied in), with the query
/// that reads an order's rows of each.
pub(crate) const SNAPSHOT: [(&str, &str); 5] = [
    ("payments", "SELECT * FROM payments WHERE id = ?1"),
    (
        "payme_transactions",
        "SELECT * FROM payme_transactions WHERE payment_id = ?1 ORDER BY id",
    ),
    (
        "click_transactions",
        "SELECT * FROM click_transactions WHERE payment_id = ?1 ORDER BY id",
    ),
    (
        "payme_fiscal_data",
        "SELECT * FROM payme_fiscal_data
         WHERE payme_id IN (SELECT payme_id FROM payme_transactions WHERE payment_id = ?1)
         ORDER BY id",
    ),
    // The event the change just appended (the write lock is held: it is the newest).
    (
        "payment_events",
        "SELECT * FROM payment_events WHERE payment_id = ?1 ORDER BY id DESC LIMIT 1",
    ),
];

/// The rows of order `payment_id`, as an entry carries them.
pub async fn snapshot(
    conn: &mut SqliteConnection,
    payment_id: i64,
) -> Result<BTreeMap<String, Vec<JsonRow>>> {
    let mut out = BTreeMap::new();
    for (table, sql) in SNAPSHOT {
        let rows = sqlx::query(sql)
            .bind(payment_id)
            .fetch_all(&mut *conn)
            .await?;
        if !rows.is_empty() {
            out.insert(
                table.to_string(),
                rows.iter().map(|r| row_to_json(&m::generic(r))).collect(),
            );
        }
    }
    Ok(out)
}
