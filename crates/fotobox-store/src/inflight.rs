//! Money in flight: what a staff action that deletes or replaces data must not drop. A Payme
//! transaction that is created but not performed, a Click attempt that is prepared but not
//! completed, and a paid order not yet printed: the provider has taken (or is taking) the
//! customer's money, and losing the row would make us answer Payme -31003 or Click -5 after the
//! fact (click.md §8 rule 12).

use serde::Serialize;
use sqlx::SqliteConnection;

use crate::pool::Result;

/// The orders with money in flight, by reason (order ids, at most 20 each).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InFlight {
    pub payme_created: Vec<String>,
    pub click_prepared: Vec<String>,
    pub paid_not_printed: Vec<String>,
}

impl InFlight {
    pub fn is_empty(&self) -> bool {
        self.payme_created.is_empty()
            && self.click_prepared.is_empty()
            && self.paid_not_printed.is_empty()
    }

    /// One line for an error message.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (what, ids) in [
            ("Payme transactions under way", &self.payme_created),
            ("Click payments prepared", &self.click_prepared),
            ("paid orders not printed yet", &self.paid_not_printed),
        ] {
            if !ids.is_empty() {
                parts.push(format!("{what}: {}", ids.join(", ")));
            }
        }
        parts.join("; ")
    }
}

async fn order_ids(conn: &mut SqliteConnection, sql: &str) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(conn).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// What is in flight now.
pub async fn in_flight(conn: &mut SqliteConnection) -> Result<InFlight> {
    Ok(InFlight {
        payme_created: order_ids(
            &mut *conn,
            "SELECT p.order_id FROM payme_transactions t JOIN payments p ON p.id = t.payment_id
             WHERE t.state = 1 ORDER BY t.id LIMIT 20",
        )
        .await?,
        click_prepared: order_ids(
            &mut *conn,
            "SELECT p.order_id FROM click_transactions c JOIN payments p ON p.id = c.payment_id
             WHERE c.state = 'prepared' AND p.status = 'pending' ORDER BY c.id LIMIT 20",
        )
        .await?,
        paid_not_printed: order_ids(
            &mut *conn,
            "SELECT order_id FROM payments
             WHERE status = 'success' AND fulfilled_at IS NULL ORDER BY id LIMIT 20",
        )
        .await?,
    })
}

/// Provider transaction ids the database knows (Payme ids and Click `click_trans_id`s of
/// transactions that are under way or done), to tell which a restore dropped.
pub async fn provider_transactions(conn: &mut SqliteConnection) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT 'payme:' || payme_id FROM payme_transactions WHERE state IN (1, 2)
         UNION ALL
         SELECT 'click:' || click_trans_id FROM click_transactions
          WHERE state IN ('prepared', 'confirmed')",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}
