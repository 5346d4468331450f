//! Queries of the staff panel: PIN and lockout, login attempts, sessions, the audit trail,
//! comps, price settings, device facts and the online (logical) restore.

use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{Connection, SqliteConnection};

use crate::pool::{db_time, Result, Store, StoreError};

/// One row of the append-only `staff_audit`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub action: String,
    pub actor: String,
    pub payment_id: Option<i64>,
    pub order_id: Option<String>,
    pub reason: Option<String>,
    pub detail_json: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What a new audit entry holds.
#[derive(Debug, Clone)]
pub struct NewAudit<'a> {
    pub action: &'a str,
    pub actor: &'a str,
    pub payment_id: Option<i64>,
    pub order_id: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub detail: serde_json::Value,
}

/// One PIN attempt.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct LoginAttempt {
    pub id: i64,
    pub outcome: String,
    pub client: String,
    pub created_at: DateTime<Utc>,
}

/// The lockout row.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Lockout {
    pub failures: i64,
    pub locked_until: Option<DateTime<Utc>>,
}

/// One saved price setting (the newest wins).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PriceRow {
    pub id: i64,
    pub layouts_json: String,
    pub extra_copy: i64,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

/// A comp mark on a payment.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Comp {
    pub payment_id: i64,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// What an online restore copied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RestoredTable {
    pub table: String,
    pub rows: i64,
}

/// Tables a restore leaves alone: the schema bookkeeping, the panel's own history and settings
/// (the audit trail of the restore itself must survive it), and `stats_hourly`, which the
/// payments triggers keep in step while the payments are deleted and inserted.
const NOT_RESTORED: &[&str] = &[
    "_sqlx_migrations",
    "stats_hourly",
    "staff_settings",
    "staff_login_attempts",
    "staff_lockout",
    "staff_sessions",
    "staff_audit",
    "staff_prices",
    "photo_pipeline_meta",
    "self_tests",
];

pub async fn insert_audit(
    conn: &mut SqliteConnection,
    a: &NewAudit<'_>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO staff_audit (action, actor, payment_id, order_id, reason, detail_json, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(a.action)
    .bind(a.actor)
    .bind(a.payment_id)
    .bind(a.order_id)
    .bind(a.reason)
    .bind(a.detail.to_string())
    .bind(db_time(now))
    .fetch_one(conn)
    .await?;
    Ok(id)
}

pub async fn insert_attempt(
    conn: &mut SqliteConnection,
    outcome: &str,
    client: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("INSERT INTO staff_login_attempts (outcome, client, created_at) VALUES (?, ?, ?)")
        .bind(outcome)
        .bind(client)
        .bind(db_time(now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Wrong PINs entered since the last successful login (the lockout escalates with them).
pub async fn wrong_pins_since_last_ok(conn: &mut SqliteConnection) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM staff_login_attempts WHERE outcome = 'wrong' AND id >
           COALESCE((SELECT MAX(id) FROM staff_login_attempts WHERE outcome = 'ok'), 0)",
    )
    .fetch_one(conn)
    .await?;
    Ok(n)
}

pub async fn lockout(conn: &mut SqliteConnection) -> Result<Lockout> {
    Ok(sqlx::query_as::<_, Lockout>(
        "SELECT failures, locked_until FROM staff_lockout WHERE id = 1",
    )
    .fetch_optional(conn)
    .await?
    .unwrap_or(Lockout {
        failures: 0,
        locked_until: None,
    }))
}

pub async fn set_lockout(
    conn: &mut SqliteConnection,
    failures: i64,
    locked_until: Option<DateTime<Utc>>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO staff_lockout (id, failures, locked_until) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET failures = ?1, locked_until = ?2",
    )
    .bind(failures)
    .bind(locked_until.map(db_time))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_session(
    conn: &mut SqliteConnection,
    token_sha256: &str,
    client: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO staff_sessions (token_sha256, client, created_at, last_seen_at, expires_at)
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(token_sha256)
    .bind(client)
    .bind(db_time(now))
    .bind(db_time(now))
    .bind(db_time(expires_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_comp(
    conn: &mut SqliteConnection,
    payment_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("INSERT INTO staff_comps (payment_id, reason, created_at) VALUES (?, ?, ?)")
        .bind(payment_id)
        .bind(reason)
        .bind(db_time(now))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn comp_for_payment(
    conn: &mut SqliteConnection,
    payment_id: i64,
) -> Result<Option<Comp>> {
    Ok(sqlx::query_as::<_, Comp>(
        "SELECT payment_id, reason, created_at FROM staff_comps WHERE payment_id = ?",
    )
    .bind(payment_id)
    .fetch_optional(conn)
    .await?)
}

pub async fn insert_prices(
    conn: &mut SqliteConnection,
    layouts_json: &str,
    extra_copy: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO staff_prices (layouts_json, extra_copy, actor, created_at) VALUES (?, ?, ?, ?)",
    )
    .bind(layouts_json)
    .bind(extra_copy)
    .bind(actor)
    .bind(db_time(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Set one staff setting (inside the caller's transaction).
pub async fn put_setting(
    conn: &mut SqliteConnection,
    key: &str,
    value: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO staff_settings (key, value, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET value = ?2, updated_at = ?3",
    )
    .bind(key)
    .bind(value)
    .bind(db_time(now))
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    pub async fn staff_setting(&self, key: &str) -> Result<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT value FROM staff_settings WHERE key = ?")
                .bind(key)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|r| r.0))
    }

    pub async fn set_staff_setting(
        &self,
        key: &str,
        value: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut c = self.pool().acquire().await?;
        put_setting(&mut c, key, value, now).await
    }

    pub async fn staff_lockout(&self) -> Result<Lockout> {
        let mut c = self.pool().acquire().await?;
        lockout(&mut c).await
    }

    /// Newest attempts first.
    pub async fn login_attempts(&self, limit: i64) -> Result<Vec<LoginAttempt>> {
        Ok(sqlx::query_as::<_, LoginAttempt>(
            "SELECT id, outcome, client, created_at FROM staff_login_attempts ORDER BY id DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// A live session seen now: refreshes its idle time and returns its client, or `None` when
    /// the token is unknown, logged out, past its end or idle longer than `idle_since` allows.
    pub async fn touch_staff_session(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
    ) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "UPDATE staff_sessions SET last_seen_at = ?1
             WHERE token_sha256 = ?2 AND ended_at IS NULL AND expires_at > ?1 AND last_seen_at > ?3
             RETURNING client",
        )
        .bind(db_time(now))
        .bind(token_sha256)
        .bind(db_time(idle_since))
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| r.0))
    }

    pub async fn end_staff_session(&self, token_sha256: &str, now: DateTime<Utc>) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE staff_sessions SET ended_at = ? WHERE token_sha256 = ? AND ended_at IS NULL",
        )
        .bind(db_time(now))
        .bind(token_sha256)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Record one audit entry on its own (actions without a payment change).
    pub async fn audit(&self, a: &NewAudit<'_>, now: DateTime<Utc>) -> Result<i64> {
        let mut c = self.pool().acquire().await?;
        insert_audit(&mut c, a, now).await
    }

    /// Audit entries, newest first; only one payment's when `payment_id` is given.
    pub async fn audit_entries(
        &self,
        payment_id: Option<i64>,
        limit: i64,
        offset: i64,
    ) -> Result<(i64, Vec<AuditEntry>)> {
        let (total,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM staff_audit WHERE ?1 IS NULL OR payment_id = ?1")
                .bind(payment_id)
                .fetch_one(self.pool())
                .await?;
        let rows = sqlx::query_as::<_, AuditEntry>(
            "SELECT * FROM staff_audit WHERE ?1 IS NULL OR payment_id = ?1
             ORDER BY id DESC LIMIT ?2 OFFSET ?3",
        )
        .bind(payment_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?;
        Ok((total, rows))
    }

    pub async fn comp_for_payment(&self, payment_id: i64) -> Result<Option<Comp>> {
        let mut c = self.pool().acquire().await?;
        comp_for_payment(&mut c, payment_id).await
    }

    /// Which of these payment ids are comps.
    pub async fn comp_ids(&self, ids: &[i64]) -> Result<HashSet<i64>> {
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "SELECT payment_id FROM staff_comps WHERE payment_id IN (",
        );
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(*id);
        }
        qb.push(")");
        let rows: Vec<(i64,)> = qb.build_query_as().fetch_all(self.pool()).await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// The newest saved prices, if staff ever saved any.
    pub async fn latest_prices(&self) -> Result<Option<PriceRow>> {
        Ok(
            sqlx::query_as::<_, PriceRow>("SELECT * FROM staff_prices ORDER BY id DESC LIMIT 1")
                .fetch_optional(self.pool())
                .await?,
        )
    }

    pub async fn price_history(&self, limit: i64) -> Result<Vec<PriceRow>> {
        Ok(
            sqlx::query_as::<_, PriceRow>("SELECT * FROM staff_prices ORDER BY id DESC LIMIT ?")
                .bind(limit)
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// Time of the newest callback event per provider (`payment_events.source`).
    pub async fn last_callbacks(&self) -> Result<Vec<(String, DateTime<Utc>)>> {
        Ok(sqlx::query_as(
            "SELECT source, MAX(created_at) FROM payment_events
             WHERE source IN ('payme', 'click') GROUP BY source ORDER BY source",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Size of the database in bytes as SQLite sees it (pages in use, WAL not included).
    pub async fn database_bytes(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(n)
    }

    /// Replace the business data (payments and everything hanging off them) with the content of
    /// the backup `file`, online, in ONE transaction on the running pool: other connections see
    /// the old data or the new, never a mix, and nothing needs a restart. Columns are matched by
    /// name, so an older backup (fewer columns) restores with the newer columns' defaults; a table
    /// the backup lacks ends up empty. The panel's own tables (audit, attempts, sessions, PIN,
    /// prices) are kept. The caller verifies the file and takes a safety backup first.
    pub async fn restore_online(&self, file: &Path) -> Result<Vec<RestoredTable>> {
        let mut conn = self.pool().acquire().await?;
        sqlx::query("ATTACH DATABASE ? AS restore_src")
            .bind(file.to_string_lossy().to_string())
            .execute(&mut *conn)
            .await?;
        let result = async {
            let mut tx = (*conn).begin_with("BEGIN IMMEDIATE").await?;
            // Children and parents are deleted and inserted in any order; checked at commit.
            sqlx::query("PRAGMA defer_foreign_keys = ON")
                .execute(&mut *tx)
                .await?;
            let tables: Vec<(String,)> = sqlx::query_as(
                "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
                 ORDER BY name",
            )
            .fetch_all(&mut *tx)
            .await?;
            let tables: Vec<String> = tables
                .into_iter()
                .map(|t| t.0)
                .filter(|t| !NOT_RESTORED.contains(&t.as_str()))
                .collect();
            for t in &tables {
                sqlx::query(&format!("DELETE FROM main.\"{t}\""))
                    .execute(&mut *tx)
                    .await?;
            }
            let mut report = Vec::new();
            for t in &tables {
                let main_cols: Vec<(String,)> =
                    sqlx::query_as("SELECT name FROM pragma_table_info(?, 'main')")
                        .bind(t)
                        .fetch_all(&mut *tx)
                        .await?;
                let src_cols: HashSet<String> =
                    sqlx::query_as::<_, (String,)>("SELECT name FROM pragma_table_info(?, 'restore_src')")
                        .bind(t)
                        .fetch_all(&mut *tx)
                        .await?
                        .into_iter()
                        .map(|c| c.0)
                        .collect();
                let cols: Vec<String> = main_cols
                    .into_iter()
                    .map(|c| c.0)
                    .filter(|c| src_cols.contains(c))
                    .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
                    .collect();
                if cols.is_empty() {
                    report.push(RestoredTable {
                        table: t.clone(),
                        rows: 0,
                    });
                    continue;
                }
                let list = cols.join(", ");
                let r = sqlx::query(&format!(
                    "INSERT INTO main.\"{t}\" ({list}) SELECT {list} FROM restore_src.\"{t}\""
                ))
                .execute(&mut *tx)
                .await?;
                report.push(RestoredTable {
                    table: t.clone(),
                    rows: r.rows_affected() as i64,
                });
            }
            tx.commit().await?;
            Ok::<_, StoreError>(report)
        }
        .await;
        let detached = sqlx::query("DETACH DATABASE restore_src")
            .execute(&mut *conn)
            .await;
        if detached.is_err() {
            // Never hand a connection with the backup attached back to the pool.
            conn.close_on_drop();
        }
        result
    }
}

/// One alert by id (the maintenance jobs' `alerts` table), inside the caller's transaction.
pub async fn alert_by_id(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<Option<crate::maintenance::AlertRow>> {
    Ok(
        sqlx::query_as::<_, crate::maintenance::AlertRow>("SELECT * FROM alerts WHERE id = ?")
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Staff acknowledge an open alert (neither acknowledged nor resolved); returns whether it was.
/// Runs in the caller's transaction so the audit entry goes with it.
pub async fn acknowledge_open_alert(
    conn: &mut SqliteConnection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE alerts SET acknowledged_at = ?
         WHERE id = ? AND acknowledged_at IS NULL AND resolved_at IS NULL",
    )
    .bind(db_time(now))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}
