//! Staff operations shared by the CLI, the REST API and the staff panel: lookup by id or
//! order id, CSV export, backup, restore and clear.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use fotobox_store::backup::{backup_file_name, unique_path};
use fotobox_store::model::Payment;
use fotobox_store::{Store, StoreError};

/// Find a payment by numeric id or by order id.
pub async fn find_payment(store: &Store, key: &str) -> Result<Option<Payment>, StoreError> {
    if let Some(p) = store.payment_by_order_id(key).await? {
        return Ok(Some(p));
    }
    match key.parse::<i64>() {
        Ok(id) => store.payment_by_id(id).await,
        Err(_) => Ok(None),
    }
}

/// The CSV columns: the previous version's, then the new ones.
pub const CSV_HEADER: &[&str] = &[
    "id",
    "order_id",
    "transaction_id",
    "amount",
    "payment_type",
    "status",
    "state",
    "create_time",
    "perform_time",
    "cancel_time",
    "created_at",
    "updated_at",
    "template_name",
    "copies",
    "cancel_reason",
];

fn t(v: Option<DateTime<Utc>>) -> String {
    v.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// One payment as a CSV record, in the order of [`CSV_HEADER`] (exports and the archive).
pub fn csv_row(p: &Payment) -> Vec<String> {
    vec![
        p.id.to_string(),
        p.order_id.clone(),
        p.transaction_id.clone().unwrap_or_default(),
        p.amount.to_string(),
        p.payment_type.to_string(),
        p.status.to_string(),
        p.state.map(|s| s.to_string()).unwrap_or_default(),
        t(Some(p.create_time)),
        t(p.perform_time),
        t(p.cancel_time),
        t(Some(p.created_at)),
        t(Some(p.updated_at)),
        p.template_name.clone().unwrap_or_default(),
        p.copies.to_string(),
        p.cancel_reason.clone().unwrap_or_default(),
    ]
}

/// Write payments as CSV to any writer.
pub fn write_csv<W: std::io::Write>(w: W, payments: &[Payment]) -> Result<(), csv::Error> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(CSV_HEADER)?;
    for p in payments {
        out.write_record(csv_row(p))?;
    }
    out.flush()?;
    Ok(())
}

/// Default export name: `payments_export_YYYYMMDD_HHMMSS.csv`.
pub fn export_file_name(now: DateTime<Utc>) -> String {
    format!("payments_export_{}.csv", now.format("%Y%m%d_%H%M%S"))
}

/// Export every payment to `out` (refusing to overwrite). Returns how many rows were written.
pub async fn export_csv(store: &Store, out: &Path) -> Result<usize, StoreError> {
    if out.exists() {
        return Err(StoreError::Invalid(format!(
            "{} already exists; choose another file",
            out.display()
        )));
    }
    let payments = store.all_payments().await?;
    let io = |source| StoreError::Io {
        path: out.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(out).map_err(io)?;
    write_csv(file, &payments)
        .map_err(|e| StoreError::Invalid(format!("cannot write CSV: {e}")))?;
    Ok(payments.len())
}

/// A backup into `dir` with the default name (never overwriting).
pub async fn backup_into(
    store: &Store,
    dir: &Path,
    now: DateTime<Utc>,
) -> Result<PathBuf, StoreError> {
    store
        .backup_to(&unique_path(dir, &backup_file_name(now)))
        .await
}
