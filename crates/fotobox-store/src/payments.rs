//! Queries on `payments`, `payment_events` and `photos`: orders, status changes, lists and stats.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::model::{Payment, PaymentEvent, PaymentStatus, Photo, Provider};
use crate::money::Sum;
use crate::pool::{db_time, Result, Store, StoreError};

/// What a new order row holds.
#[derive(Debug, Clone)]
pub struct NewPayment<'a> {
    pub order_id: &'a str,
    pub amount: Sum,
    pub payment_type: Provider,
    pub template_name: Option<&'a str>,
    pub copies: i64,
    pub expires_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// Filters of the payments list (all optional).
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<PaymentStatus>,
    pub payment_type: Option<String>,
    /// Inclusive lower bound on `created_at`.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound on `created_at`.
    pub to: Option<DateTime<Utc>>,
}

/// Numbers for the dashboard, `GET /api/stats` and `fotobox stats` alike.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub total_payments: i64,
    pub success_payments: i64,
    pub pending_payments: i64,
    pub canceled_payments: i64,
    /// Whole sum of successful payments.
    pub total_revenue: i64,
    /// Successful / (successful + canceled), 0 when nothing has ended yet.
    pub success_rate: f64,
    pub by_provider: Vec<ProviderStats>,
    pub today: PeriodStats,
    pub last_7_days: PeriodStats,
    pub last_30_days: PeriodStats,
    /// Revenue per UTC day, last 30 days, oldest first (days without sales are omitted).
    pub per_day: Vec<DayStats>,
    /// Per layout (`template_name`; `null` for legacy amount orders), all time.
    pub by_layout: Vec<LayoutStats>,
    /// Paid sessions per UTC hour of the day (0-23, hours without sales omitted), last 30 days.
    pub per_hour: Vec<HourStats>,
    /// Paid orders refunded by staff (now `canceled` with reason `staff:refund`) and their sum.
    pub refunded_payments: i64,
    pub refunded_amount: i64,
    /// Free sessions given by staff (`staff_comps`): never in the numbers above, never revenue.
    pub comp_sessions: i64,
    /// What the comps would have cost at their price (whole sum).
    pub comp_value: i64,
    /// Sales of the last 30 days still paid and without a fiscal receipt (waiting, failed or
    /// never fiscalised; only providers whose receipts are recorded).
    pub paid_without_receipt: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct LayoutStats {
    pub template_name: Option<String>,
    pub payments: i64,
    pub success_payments: i64,
    pub revenue: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct HourStats {
    pub hour_utc: i64,
    pub success_payments: i64,
    pub revenue: i64,
}

/// What the stats count: the trigger-kept hourly rollup of `payments` (migration
/// `stats_rollup`) minus staff comps (free sessions are not payments), as a CTE named `src`
/// with one row per (hour, provider, layout, status, refunded) and signed `payments`/`amount`.
const STATS_SRC: &str =
    "WITH src(hour, payment_type, template_name, status, refunded, payments, amount) AS (
    SELECT hour, payment_type, template_name, status, refunded, payments, amount FROM stats_hourly
    UNION ALL
    SELECT substr(p.created_at, 1, 13), p.payment_type, COALESCE(p.template_name, ''), p.status,
           p.cancel_reason IS 'staff:refund', -1, -p.amount
    FROM staff_comps c JOIN payments p ON p.id = c.payment_id)";

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ProviderStats {
    pub payment_type: String,
    pub payments: i64,
    pub success_payments: i64,
    pub revenue: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PeriodStats {
    pub payments: i64,
    pub success_payments: i64,
    pub revenue: i64,
}

/// Totals of the orders created in a period: what the dashboard's today / 7 / 30 days show and
/// what the daily reconciliation counts ([`Store::period_totals`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, sqlx::FromRow)]
pub struct PeriodTotals {
    pub payments: i64,
    pub success_payments: i64,
    /// Whole sum of the orders still paid (staff comps excluded).
    pub revenue: i64,
    /// Paid orders refunded by staff (`cancel_reason = 'staff:refund'`) and their sum.
    pub refunded_payments: i64,
    pub refunded_amount: i64,
    pub comp_sessions: i64,
    pub comp_value: i64,
}

impl From<PeriodTotals> for PeriodStats {
    fn from(t: PeriodTotals) -> Self {
        PeriodStats {
            payments: t.payments,
            success_payments: t.success_payments,
            revenue: t.revenue,
        }
    }
}

/// The same rows as [`STATS_SRC`] for the orders created in `[?1, ?2)`, read from `payments`
/// itself: for periods whose bounds are not whole UTC hours (a half-hour UTC offset).
const STATS_ROWS_SRC: &str =
    "WITH src(hour, payment_type, template_name, status, refunded, payments, amount) AS (
    SELECT substr(created_at, 1, 13), payment_type, COALESCE(template_name, ''), status,
           cancel_reason IS 'staff:refund', 1, amount
    FROM payments WHERE created_at >= ?1 AND created_at < ?2
    UNION ALL
    SELECT substr(p.created_at, 1, 13), p.payment_type, COALESCE(p.template_name, ''), p.status,
           p.cancel_reason IS 'staff:refund', -1, -p.amount
    FROM staff_comps c JOIN payments p ON p.id = c.payment_id
    WHERE p.created_at >= ?1 AND p.created_at < ?2)";

/// The totals' columns over `src`.
const TOTALS_SELECT: &str = "SELECT COALESCE(SUM(payments), 0) AS payments,
            COALESCE(SUM(CASE WHEN status = 'success' THEN payments END), 0) AS success_payments,
            COALESCE(SUM(CASE WHEN status = 'success' THEN amount END), 0) AS revenue,
            COALESCE(SUM(CASE WHEN status = 'canceled' AND refunded THEN payments END), 0) AS refunded_payments,
            COALESCE(SUM(CASE WHEN status = 'canceled' AND refunded THEN amount END), 0) AS refunded_amount,
            0 AS comp_sessions, 0 AS comp_value
     FROM src";

/// An upper bound later than any stored time. Not all digits: compared with a `DATETIME`
/// column (numeric affinity) a numeric-looking text would be turned into a number, and every
/// number sorts before every text.
const END_OF_TIME: &str = "9999-12-31 23:59:59.999";

fn whole_hour(t: DateTime<Utc>) -> bool {
    use chrono::Timelike;
    t.minute() == 0 && t.second() == 0 && t.nanosecond() == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct DayStats {
    pub day: String,
    pub success_payments: i64,
    pub revenue: i64,
}

/// Insert a new pending order. A duplicate `order_id` is a unique violation.
pub async fn insert_payment(conn: &mut SqliteConnection, p: &NewPayment<'_>) -> Result<Payment> {
    let now = db_time(p.now);
    let row = sqlx::query_as::<_, Payment>(
        "INSERT INTO payments (order_id, amount, payment_type, status, create_time, template_name,
                               copies, expires_at, created_at, updated_at)
         VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)
         RETURNING *",
    )
    .bind(p.order_id)
    .bind(p.amount)
    .bind(p.payment_type)
    .bind(&now)
    .bind(p.template_name)
    .bind(p.copies)
    .bind(db_time(p.expires_at))
    .bind(&now)
    .bind(&now)
    .fetch_one(conn)
    .await?;
    Ok(row)
}

pub async fn payment_by_order_id(
    conn: &mut SqliteConnection,
    order_id: &str,
) -> Result<Option<Payment>> {
    Ok(
        sqlx::query_as::<_, Payment>("SELECT * FROM payments WHERE order_id = ?")
            .bind(order_id)
            .fetch_optional(conn)
            .await?,
    )
}

pub async fn payment_by_id(conn: &mut SqliteConnection, id: i64) -> Result<Option<Payment>> {
    Ok(
        sqlx::query_as::<_, Payment>("SELECT * FROM payments WHERE id = ?")
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Mark an order paid. Only a pending order changes; returns whether it did.
pub async fn mark_success(
    conn: &mut SqliteConnection,
    payment_id: i64,
    transaction_id: &str,
    state: Option<i64>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let t = db_time(now);
    let r = sqlx::query(
        "UPDATE payments SET status = 'success', transaction_id = ?, state = ?, perform_time = ?,
                             updated_at = ?
         WHERE id = ? AND status = 'pending'",
    )
    .bind(transaction_id)
    .bind(state)
    .bind(&t)
    .bind(&t)
    .bind(payment_id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Cancel an order in any state but already canceled; returns whether it changed.
/// Callers decide whether a paid order may be cancelled (a provider refund) or not (the kiosk).
pub async fn mark_canceled(
    conn: &mut SqliteConnection,
    payment_id: i64,
    reason: &str,
    state: Option<i64>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let t = db_time(now);
    let r = sqlx::query(
        "UPDATE payments SET status = 'canceled', cancel_reason = ?, state = COALESCE(?, state),
                             cancel_time = ?, updated_at = ?
         WHERE id = ? AND status != 'canceled'",
    )
    .bind(reason)
    .bind(state)
    .bind(&t)
    .bind(&t)
    .bind(payment_id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Record the provider state (and transaction id) of a pending order without changing its status.
pub async fn set_provider_state(
    conn: &mut SqliteConnection,
    payment_id: i64,
    transaction_id: Option<&str>,
    state: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("UPDATE payments SET transaction_id = ?, state = ?, updated_at = ? WHERE id = ?")
        .bind(transaction_id)
        .bind(state)
        .bind(db_time(now))
        .bind(payment_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Mark the order's prints as handed out (from then on a Payme refund is refused).
pub async fn mark_fulfilled(
    conn: &mut SqliteConnection,
    payment_id: i64,
    now: DateTime<Utc>,
) -> Result<bool> {
    let t = db_time(now);
    let r = sqlx::query(
        "UPDATE payments SET fulfilled_at = ?, updated_at = ?
         WHERE id = ? AND status = 'success' AND fulfilled_at IS NULL",
    )
    .bind(&t)
    .bind(&t)
    .bind(payment_id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Append to the payment's event log.
pub async fn insert_event(
    conn: &mut SqliteConnection,
    payment_id: i64,
    source: &str,
    kind: &str,
    detail: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO payment_events (payment_id, source, kind, detail_json, created_at)
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(payment_id)
    .bind(source)
    .bind(kind)
    .bind(detail.to_string())
    .bind(db_time(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// How many events of `kind` the payment has (a handful at most: indexed by payment).
pub async fn count_events(conn: &mut SqliteConnection, payment_id: i64, kind: &str) -> Result<i64> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM payment_events WHERE payment_id = ? AND kind = ?")
            .bind(payment_id)
            .bind(kind)
            .fetch_one(conn)
            .await?;
    Ok(n)
}

pub async fn events_for_payment(
    conn: &mut SqliteConnection,
    payment_id: i64,
) -> Result<Vec<PaymentEvent>> {
    Ok(sqlx::query_as::<_, PaymentEvent>(
        "SELECT * FROM payment_events WHERE payment_id = ? ORDER BY id",
    )
    .bind(payment_id)
    .fetch_all(conn)
    .await?)
}

pub async fn photos_for_payment(
    conn: &mut SqliteConnection,
    payment_id: i64,
) -> Result<Vec<Photo>> {
    Ok(
        sqlx::query_as::<_, Photo>("SELECT * FROM photos WHERE payment_id = ? ORDER BY id")
            .bind(payment_id)
            .fetch_all(conn)
            .await?,
    )
}

pub async fn insert_photo(
    conn: &mut SqliteConnection,
    payment_id: i64,
    template_name: &str,
    copy_count: i64,
    composite_path: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Photo> {
    Ok(sqlx::query_as::<_, Photo>(
        "INSERT INTO photos (payment_id, template_name, copy_count, composite_path, created_at)
         VALUES (?, ?, ?, ?, ?) RETURNING *",
    )
    .bind(payment_id)
    .bind(template_name)
    .bind(copy_count)
    .bind(composite_path)
    .bind(db_time(now))
    .fetch_one(conn)
    .await?)
}

/// Pending orders past their expiry that no provider transaction holds.
pub async fn expired_unheld(
    conn: &mut SqliteConnection,
    now: DateTime<Utc>,
) -> Result<Vec<Payment>> {
    Ok(sqlx::query_as::<_, Payment>(
        "SELECT * FROM payments p
         WHERE p.status = 'pending' AND p.expires_at <= ?
           AND NOT EXISTS (SELECT 1 FROM payme_transactions t WHERE t.payment_id = p.id AND t.state IN (1, 2))
           AND NOT EXISTS (SELECT 1 FROM click_transactions c WHERE c.payment_id = p.id AND c.state IN ('prepared', 'confirmed'))
         ORDER BY p.id LIMIT 500",
    )
    .bind(db_time(now))
    .fetch_all(conn)
    .await?)
}

/// Whether a provider transaction is under way for the order (Payme state 1/2, Click prepared/confirmed).
pub async fn has_live_provider_tx(conn: &mut SqliteConnection, payment_id: i64) -> Result<bool> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM payme_transactions WHERE payment_id = ?1 AND state IN (1, 2))
              + (SELECT COUNT(*) FROM click_transactions WHERE payment_id = ?1 AND state IN ('prepared', 'confirmed'))",
    )
    .bind(payment_id)
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

/// The staff list's page query: `select` + the filter, newest first, one page.
fn list_query<'a>(
    select: &str,
    filter: &'a ListFilter,
    limit: i64,
    offset: i64,
) -> QueryBuilder<'a, Sqlite> {
    let mut qb = QueryBuilder::<Sqlite>::new(select);
    push_filter(&mut qb, filter);
    qb.push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    qb
}

fn push_filter<'a>(qb: &mut QueryBuilder<'a, Sqlite>, f: &'a ListFilter) {
    qb.push(" WHERE 1 = 1");
    if let Some(s) = f.status {
        qb.push(" AND status = ").push_bind(s.as_str());
    }
    if let Some(t) = &f.payment_type {
        qb.push(" AND payment_type = ").push_bind(t.as_str());
    }
    if let Some(from) = f.from {
        qb.push(" AND created_at >= ").push_bind(db_time(from));
    }
    if let Some(to) = f.to {
        qb.push(" AND created_at < ").push_bind(db_time(to));
    }
}

impl Store {
    /// Payments matching `filter`, newest first, with the total count of matches.
    pub async fn list_payments(
        &self,
        filter: &ListFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(i64, Vec<Payment>)> {
        if !(0..=10_000).contains(&limit) || offset < 0 {
            return Err(StoreError::Invalid(
                "limit must be 0..=10000 and offset non-negative".into(),
            ));
        }
        let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM payments");
        push_filter(&mut count, filter);
        let (total,): (i64,) = count.build_query_as().fetch_one(self.pool()).await?;

        let mut qb = list_query("SELECT * FROM payments", filter, limit, offset);
        let rows = qb
            .build_query_as::<Payment>()
            .fetch_all(self.pool())
            .await?;
        Ok((total, rows))
    }

    /// SQLite's plan (`EXPLAIN QUERY PLAN` detail lines) for the page query and the total count
    /// that [`Store::list_payments`] runs with `filter`: lets tests check the real queries use
    /// an index instead of sorting the whole table.
    pub async fn list_query_plan(&self, filter: &ListFilter) -> Result<(Vec<String>, Vec<String>)> {
        let mut page = list_query("EXPLAIN QUERY PLAN SELECT * FROM payments", filter, 100, 0);
        let page: Vec<(i64, i64, i64, String)> =
            page.build_query_as().fetch_all(self.pool()).await?;
        let mut count =
            QueryBuilder::<Sqlite>::new("EXPLAIN QUERY PLAN SELECT COUNT(*) FROM payments");
        push_filter(&mut count, filter);
        let count: Vec<(i64, i64, i64, String)> =
            count.build_query_as().fetch_all(self.pool()).await?;
        let detail = |v: Vec<(i64, i64, i64, String)>| v.into_iter().map(|r| r.3).collect();
        Ok((detail(page), detail(count)))
    }

    /// Every payment, oldest first (exports).
    pub async fn all_payments(&self) -> Result<Vec<Payment>> {
        Ok(
            sqlx::query_as::<_, Payment>("SELECT * FROM payments ORDER BY id")
                .fetch_all(self.pool())
                .await?,
        )
    }

    pub async fn payment_by_order_id(&self, order_id: &str) -> Result<Option<Payment>> {
        let mut c = self.pool().acquire().await?;
        payment_by_order_id(&mut c, order_id).await
    }

    pub async fn payment_by_id(&self, id: i64) -> Result<Option<Payment>> {
        let mut c = self.pool().acquire().await?;
        payment_by_id(&mut c, id).await
    }

    pub async fn events_for_payment(&self, payment_id: i64) -> Result<Vec<PaymentEvent>> {
        let mut c = self.pool().acquire().await?;
        events_for_payment(&mut c, payment_id).await
    }

    pub async fn photos_for_payment(&self, payment_id: i64) -> Result<Vec<Photo>> {
        let mut c = self.pool().acquire().await?;
        photos_for_payment(&mut c, payment_id).await
    }

    pub async fn count_payments(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM payments")
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }

    /// Totals of the orders created in `[from, to)` (`to = None`: up to now). Whole-hour bounds
    /// (the dashboard's UTC days, a local day at a whole-hour UTC offset) read the hourly rollup;
    /// other bounds read the period's rows with the same definitions.
    pub async fn period_totals(
        &self,
        from: DateTime<Utc>,
        to: Option<DateTime<Utc>>,
    ) -> Result<PeriodTotals> {
        let pool = self.pool();
        let mut t = if whole_hour(from) && to.is_none_or(whole_hour) {
            let key = |t: DateTime<Utc>| t.format("%Y-%m-%d %H").to_string();
            sqlx::query_as::<_, PeriodTotals>(&format!(
                "{STATS_SRC} {TOTALS_SELECT} WHERE hour >= ? AND hour < ?"
            ))
            .bind(key(from))
            .bind(to.map(key).unwrap_or_else(|| END_OF_TIME.into()))
            .fetch_one(pool)
            .await?
        } else {
            sqlx::query_as::<_, PeriodTotals>(&format!("{STATS_ROWS_SRC} {TOTALS_SELECT}"))
                .bind(db_time(from))
                .bind(to.map(db_time).unwrap_or_else(|| END_OF_TIME.into()))
                .fetch_one(pool)
                .await?
        };
        (t.comp_sessions, t.comp_value) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(p.amount), 0)
             FROM staff_comps c JOIN payments p ON p.id = c.payment_id
             WHERE p.created_at >= ? AND p.created_at < ?",
        )
        .bind(db_time(from))
        .bind(to.map(db_time).unwrap_or_else(|| END_OF_TIME.into()))
        .fetch_one(pool)
        .await?;
        Ok(t)
    }

    /// The dashboard numbers, computed in SQL from the indexed columns.
    pub async fn stats(&self, now: DateTime<Utc>) -> Result<Stats> {
        let pool = self.pool();
        let (total, success, pending, canceled, revenue, refunded_payments, refunded_amount): (
            i64,
            i64,
            i64,
            i64,
            i64,
            i64,
            i64,
        ) = sqlx::query_as(&format!(
            "{STATS_SRC}
             SELECT COALESCE(SUM(payments), 0),
                    COALESCE(SUM(CASE WHEN status = 'success' THEN payments END), 0),
                    COALESCE(SUM(CASE WHEN status = 'pending' THEN payments END), 0),
                    COALESCE(SUM(CASE WHEN status = 'canceled' THEN payments END), 0),
                    COALESCE(SUM(CASE WHEN status = 'success' THEN amount END), 0),
                    COALESCE(SUM(CASE WHEN status = 'canceled' AND refunded THEN payments END), 0),
                    COALESCE(SUM(CASE WHEN status = 'canceled' AND refunded THEN amount END), 0)
             FROM src"
        ))
        .fetch_one(pool)
        .await?;
        let by_provider = sqlx::query_as::<_, ProviderStats>(&format!(
            "{STATS_SRC}
             SELECT payment_type, SUM(payments) AS payments,
                    COALESCE(SUM(CASE WHEN status = 'success' THEN payments END), 0) AS success_payments,
                    COALESCE(SUM(CASE WHEN status = 'success' THEN amount END), 0) AS revenue
             FROM src GROUP BY payment_type HAVING SUM(payments) > 0 ORDER BY payment_type"
        ))
        .fetch_all(pool)
        .await?;
        let today_start = now
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map(|d| d.and_utc())
            .unwrap_or(now);
        // Periods start at midnight UTC, so an hour key compares exactly like created_at.
        let hour_key = |t: DateTime<Utc>| t.format("%Y-%m-%d %H").to_string();
        let today = self.period_totals(today_start, None).await?.into();
        let last_7_days = self
            .period_totals(today_start - Duration::days(6), None)
            .await?
            .into();
        let last_30_days = self
            .period_totals(today_start - Duration::days(29), None)
            .await?
            .into();
        let since_30 = hour_key(today_start - Duration::days(29));
        let per_day = sqlx::query_as::<_, DayStats>(&format!(
            "{STATS_SRC}
             SELECT substr(hour, 1, 10) AS day, SUM(payments) AS success_payments,
                    COALESCE(SUM(amount), 0) AS revenue
             FROM src WHERE status = 'success' AND hour >= ?
             GROUP BY day HAVING SUM(payments) > 0 ORDER BY day"
        ))
        .bind(&since_30)
        .fetch_all(pool)
        .await?;
        let by_layout = sqlx::query_as::<_, LayoutStats>(&format!(
            "{STATS_SRC}
             SELECT NULLIF(template_name, '') AS template_name, SUM(payments) AS payments,
                    COALESCE(SUM(CASE WHEN status = 'success' THEN payments END), 0) AS success_payments,
                    COALESCE(SUM(CASE WHEN status = 'success' THEN amount END), 0) AS revenue
             FROM src GROUP BY template_name HAVING SUM(payments) > 0 ORDER BY template_name"
        ))
        .fetch_all(pool)
        .await?;
        let per_hour = sqlx::query_as::<_, HourStats>(&format!(
            "{STATS_SRC}
             SELECT CAST(substr(hour, 12, 2) AS INTEGER) AS hour_utc,
                    SUM(payments) AS success_payments, COALESCE(SUM(amount), 0) AS revenue
             FROM src WHERE status = 'success' AND hour >= ?
             GROUP BY hour_utc HAVING SUM(payments) > 0 ORDER BY hour_utc"
        ))
        .bind(&since_30)
        .fetch_all(pool)
        .await?;
        let (comp_sessions, comp_value): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(p.amount), 0)
             FROM staff_comps c JOIN payments p ON p.id = c.payment_id",
        )
        .fetch_one(pool)
        .await?;
        let paid_without_receipt = self
            .count_without_receipt(today_start - Duration::days(29))
            .await?;
        let ended = success + canceled;
        Ok(Stats {
            total_payments: total,
            success_payments: success,
            pending_payments: pending,
            canceled_payments: canceled,
            total_revenue: revenue,
            success_rate: if ended == 0 {
                0.0
            } else {
                success as f64 / ended as f64
            },
            by_provider,
            today,
            last_7_days,
            last_30_days,
            per_day,
            by_layout,
            per_hour,
            refunded_payments,
            refunded_amount,
            comp_sessions,
            comp_value,
            paid_without_receipt,
        })
    }
}
