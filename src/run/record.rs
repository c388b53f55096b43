//! The version table's rows: a new row for a migration ([`new_row`]), a progress row written
//! outside a migration's transaction ([`record`]), and the commands that change history without
//! running anything: [`stamp`] (and `baseline`) and [`resolve`].

use crate::backend::{Backend, StatementError, TxOptions};
use crate::error::{Error, Result};
use crate::history::{self, current, Row, State};
use crate::plan;
use crate::source::{Migration, MigrationSet, Script};

use super::guard::{commit_after, in_transaction, with_lock};
use super::outcome::{Applied, Outcome};

pub(super) fn new_row(m: &Migration, script: &Script, state: State, execution_ms: u64) -> Row {
    let total = script.statements.len() as u32;
    let done = if state == State::Failed { 0 } else { total };
    Row {
        version: m.version,
        description: m.description(),
        checksum: script.checksum.clone(),
        state,
        statements_done: done,
        statements_total: total,
        progress_checksum: Some(script.prefix_checksum(done as usize)),
        error: None,
        applied_at: history::now_utc(),
        applied_by: history::whoami(),
        execution_ms,
        tool_version: crate::VERSION.to_string(),
        statements_checksum: Some(script.statements_checksum()),
    }
}

/// Writes a history row outside a group. For a migration that may have changed the session
/// (`session`), in a transaction of its own, so that the row is committed whatever the file
/// did (`SET autocommit = 0`); otherwise as one autocommitted statement.
pub(super) async fn record<B: Backend>(backend: &mut B, row: &Row, session: bool) -> Result<()> {
    if !session {
        return backend.update_row(row).await;
    }
    backend.begin(TxOptions::default()).await?;
    let refused = |e: StatementError| Error::ProgressNotRecorded {
        version: row.version,
        message: e.message,
    };
    commit_after(backend, async |b| b.update_row(row).await, refused).await
}

/// How versions get recorded without running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StampMode {
    /// `baseline V`: adopt a database with no history yet.
    Baseline,
    /// `stamp V`: record pending versions up to V on any database.
    Stamp,
}

/// Records pending versions up to `target` as `baseline` without running them.
pub async fn stamp<B: Backend>(
    backend: &mut B,
    set: &MigrationSet,
    target: u64,
    mode: StampMode,
) -> Result<Outcome> {
    if set.get(target).is_none() {
        return Err(Error::NotAMigration {
            version: target,
            dir: set.dir.clone(),
        });
    }
    with_lock(backend, async |b| {
        in_transaction(b, async |backend| {
            let history = backend.read_history().await?;
            let ov = plan::overview(&set.migrations, &history, true);
            if mode == StampMode::Baseline && !history.is_empty() {
                return Err(Error::HasHistory {
                    recorded: history.len(),
                    version: target,
                    pending: ov.pending().filter(|e| e.version <= target).count(),
                    current: current(&history).unwrap_or_default(),
                });
            }
            let todo = plan::stamp(&ov, target).map_err(Error::Refused)?;
            if !todo.is_empty() {
                backend.check_writable().await?;
            }
            backend.ensure_table().await?;
            let mut outcome = Outcome::default();
            let mut all = history.clone();
            for m in todo {
                let row = new_row(m, &m.up, State::Baseline, 0);
                backend.insert_row(&row).await?;
                outcome.applied.push(Applied {
                    version: m.version,
                    description: m.description(),
                    execution_ms: 0,
                });
                all.push(row);
            }
            outcome.current = current(&all);
            Ok(outcome)
        })
        .await
    })
    .await
}

/// What the operator did with a failed migration, or (`AcceptEdit`) decided about an edited
/// applied one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Completed by hand: record it as applied.
    Applied,
    /// Undone by hand: forget it, so it is pending again.
    RolledBack,
    /// The applied file was edited: record its current checksums, knowingly (Flyway's
    /// `repair`). The database keeps what the file did when it ran.
    AcceptEdit,
}

/// The file of the version being resolved, as it is now.
#[derive(Debug, Clone)]
pub struct FileNow {
    pub checksum: String,
    pub statements_checksum: String,
}

/// An edit `resolve --accept-edit` recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedEdit {
    /// The checksum the row held.
    pub recorded: String,
    /// The file's, now recorded.
    pub checksum: String,
    /// `unchanged` (comments and whitespace only), `changed`, or `unknown` (the row had no
    /// statement checksum).
    pub statements: &'static str,
}

/// What `resolve` did.
#[derive(Debug, Clone)]
pub struct Settled {
    pub changed: bool,
    pub current: Option<u64>,
    pub edit: Option<AcceptedEdit>,
}

/// Settles a failed migration. `--applied` records the checksums of the file as it is now
/// (`file`, when the file exists), since that is what the operator completed by hand;
/// `--accept-edit` records them for an applied or baseline version whose file changed.
pub async fn resolve<B: Backend>(
    backend: &mut B,
    version: u64,
    resolution: Resolution,
    file: Option<FileNow>,
) -> Result<Settled> {
    with_lock(backend, async |b| {
        in_transaction(b, async |backend| {
            let history = backend.read_history().await?;
            let Some(row) = history.iter().find(|r| r.version == version) else {
                return Err(Error::NotRecorded { version });
            };
            let mut all = history.clone();
            all.retain(|r| r.version != version);
            let (now, edit) = if resolution == Resolution::AcceptEdit {
                let edit = accept_edit(backend, row, file).await?;
                let checksum = edit.as_ref().map_or(&row.checksum, |e| &e.checksum);
                let now = Row {
                    checksum: checksum.clone(),
                    ..row.clone()
                };
                (Some(now), edit)
            } else {
                (settle_failed(backend, row, resolution, file).await?, None)
            };
            all.extend(now);
            Ok(Settled {
                changed: resolution != Resolution::AcceptEdit || edit.is_some(),
                current: current(&all),
                edit,
            })
        })
        .await
    })
    .await
}

/// `resolve V --applied|--rolled-back` on the failed `row`: the row as recorded now (`None`:
/// deleted, so that the version is pending again).
async fn settle_failed<B: Backend>(
    backend: &mut B,
    row: &Row,
    resolution: Resolution,
    file: Option<FileNow>,
) -> Result<Option<Row>> {
    if row.state != State::Failed {
        return Err(Error::NotFailed {
            version: row.version,
            state: row.state.as_str(),
        });
    }
    if resolution == Resolution::RolledBack {
        backend.delete_row(row.version).await?;
        return Ok(None);
    }
    let mut row = row.clone();
    row.state = State::Applied;
    row.statements_done = row.statements_total;
    if let Some(f) = file {
        row.checksum = f.checksum;
        row.statements_checksum = Some(f.statements_checksum);
    }
    row.error = None;
    row.applied_at = history::now_utc();
    row.applied_by = history::whoami();
    backend.update_row(&row).await?;
    Ok(Some(row))
}

/// `resolve V --accept-edit` on `row`: records the file's checksums; `None` when they are
/// recorded already (nothing to do).
async fn accept_edit<B: Backend>(
    backend: &mut B,
    row: &Row,
    file: Option<FileNow>,
) -> Result<Option<AcceptedEdit>> {
    let version = row.version;
    if row.state == State::Failed {
        return Err(Error::AcceptEditOfFailed { version });
    }
    let Some(file) = file else {
        return Err(Error::NoEditToAccept { version });
    };
    if row.checksum == file.checksum {
        return Ok(None);
    }
    let statements = match &row.statements_checksum {
        None => "unknown",
        Some(c) if *c == file.statements_checksum => "unchanged",
        Some(_) => "changed",
    };
    let mut updated = row.clone();
    updated.checksum = file.checksum.clone();
    updated.statements_checksum = Some(file.statements_checksum);
    backend.update_row(&updated).await?;
    Ok(Some(AcceptedEdit {
        recorded: row.checksum.clone(),
        checksum: file.checksum,
        statements,
    }))
}
