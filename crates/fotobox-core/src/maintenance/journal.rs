//! The payment journal in the application (see `fotobox_store::journal`): where it lives, the
//! commit of a provider state change with its second copy, and the reset marks of staff restores
//! and clears (the backup that prunes it is `backups::backup_covering`).
//!
//! Location: `<backup.dir>/journal/<database file name>/` when automatic backups go to a
//! configured folder (best another disk: the copy then survives the database's disk), else
//! `<data_dir>/journal/<database file name>/`; when the backup folder cannot be written at start
//! (the other disk is missing), `<data_dir>/journal/...` is used instead. Recovery reads both.

use std::path::{Path, PathBuf};

use fotobox_store::journal::{self as jr, EntryId};
use fotobox_store::maintenance as mq;
use fotobox_store::{Journal, StoreError, WriteTx};

use super::alerts::{self, AlertKind};
use super::backups;
use crate::config::Config;
use crate::context::{AppContext, AppError};

fn db_name(config: &Config) -> Result<String, AppError> {
    Ok(config
        .database_path()?
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "photobooth.db".into()))
}

/// Every folder the journal of this database may be in: the preferred one first.
pub fn dirs(config: &Config, data_dir: &Path) -> Result<Vec<PathBuf>, AppError> {
    let name = db_name(config)?;
    let local = data_dir.join("journal").join(&name);
    let mut out = Vec::new();
    if config.backup.dir.is_some() {
        out.push(
            backups::auto_dir(config, data_dir)
                .join("journal")
                .join(&name),
        );
    }
    if !out.contains(&local) {
        out.push(local);
    }
    Ok(out)
}

/// Open the journal in the first folder that can be written.
pub fn open(config: &Config, data_dir: &Path) -> Result<Journal, AppError> {
    let mut last = None;
    for dir in dirs(config, data_dir)? {
        match Journal::open(&dir) {
            Ok(j) => return Ok(j),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "payment journal cannot be opened here");
                last = Some(e);
            }
        }
    }
    Err(AppError::Store(last.unwrap_or_else(|| {
        StoreError::Invalid("no folder for the payment journal".into())
    })))
}

/// Commit `tx`, which changed the provider state of order `payment_id`, after appending its
/// second copy to the journal (`what` names the change, e.g. `click:complete`). When the journal
/// cannot be written the change is rolled back, the error returned (the provider gets its
/// system error and will ask again) and staff are alerted; the alert is resolved by the next
/// change the journal takes.
pub async fn commit(
    ctx: &AppContext,
    tx: WriteTx,
    payment_id: i64,
    what: &str,
) -> Result<(), StoreError> {
    match ctx.journal.commit(tx, payment_id, what).await {
        Ok(_) => {
            if ctx.journal.take_recovered() {
                tracing::info!("payment journal writable again");
                let _ =
                    mq::resolve_alerts(ctx.store.pool(), "journal_failed", ctx.clock.now()).await;
            }
            Ok(())
        }
        Err(e) => {
            if matches!(e, StoreError::Io { .. }) {
                ctx.metrics.count_error("journal");
                alerts::raise(
                    ctx,
                    AlertKind::JournalFailed,
                    "journal_failed",
                    &format!(
                        "Payments are refused: the payment journal in {} cannot be written ({e}). Check that disk.",
                        ctx.journal.dir().display()
                    ),
                )
                .await;
            }
            Err(e)
        }
    }
}

/// The newest entry of each journal folder, read just before staff replace or clear the data.
pub fn newest_entries(config: &Config, data_dir: &Path) -> Vec<(PathBuf, Option<EntryId>)> {
    dirs(config, data_dir)
        .unwrap_or_default()
        .into_iter()
        .map(|d| {
            let newest = jr::read_dir(&d).entries.iter().map(jr::Entry::id).max();
            (d, newest)
        })
        .collect()
}

/// After staff replaced or cleared the data on purpose: each journal gets a reset naming the
/// newest entry from before (`before`, from [`newest_entries`]), so a later recovery does not
/// bring back what was deliberately removed. A change acknowledged while the staff operation was
/// starting may still come back (never the reverse: nothing acknowledged after it is cut).
pub async fn mark_reset(
    current: Option<&Journal>,
    before: Vec<(PathBuf, Option<EntryId>)>,
    reason: &str,
) {
    for (dir, through) in before {
        let Some(through) = through else { continue };
        let journal = match current.filter(|j| j.dir() == dir) {
            Some(j) => j.clone(),
            None => match Journal::open(&dir) {
                Ok(j) => j,
                Err(e) => {
                    tracing::error!(dir = %dir.display(), error = %e, "cannot mark the payment journal reset");
                    continue;
                }
            },
        };
        let body = jr::Body::Reset {
            reason: reason.to_string(),
            through: Some(through),
        };
        if let Err(e) = journal.append(body).await {
            tracing::error!(dir = %dir.display(), error = %e, "cannot mark the payment journal reset");
        }
    }
}
