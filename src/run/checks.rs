//! What is checked once a run has its plan, before anything runs: the database takes the
//! writes, the statements fit the server's limits, `--single-transaction` can hold every
//! migration; and the edited files are announced.

use crate::backend::Backend;
use crate::dialect::Dialect;
use crate::error::{Error, OutsideTransaction, Result};
use crate::history::Row;
use crate::plan::{self, RunMode, Step, UpgradeOptions};
use crate::source::MigrationSet;

use super::outcome::{Event, Observer};
use super::road::plan_upgrade;

/// Tells `observe` about every applied file edited in comments only (before anything runs).
pub(super) fn announce_edited(overview: &plan::Overview<'_, '_>, observe: Observer<'_>) {
    for e in &overview.entries {
        if let (plan::EntryState::Edited, Some(m)) = (e.state, e.migration) {
            observe(Event::Edited { migration: m });
        }
    }
}

/// The steps of the run, checked before anything runs: the database can take the writes
/// (`check_writable`, unless an install just wrote), the edited files are announced, no
/// statement is larger than the server takes, and under `--single-transaction` every
/// migration can run inside one transaction.
pub(super) async fn checked_plan<'f, B: Backend>(
    backend: &mut B,
    set: &'f MigrationSet,
    history: &[Row],
    options: UpgradeOptions,
    check_writable: bool,
    observe: Observer<'_>,
) -> Result<Vec<Step<'f>>> {
    let plan = plan_upgrade(set, history, options)?;
    if !plan.steps.is_empty() && check_writable {
        backend.check_writable().await?;
    }
    announce_edited(&plan.overview, observe);
    check_statement_sizes(backend, &plan.steps).await?;
    old_transactions(backend, &plan.steps, observe).await?;
    if options.mode == RunMode::SingleTransaction {
        fits_one_transaction(&plan.steps, backend.dialect())?;
    }
    Ok(plan.steps)
}

/// `--single-transaction` refuses a migration that cannot run inside one transaction.
fn fits_one_transaction(queue: &[Step<'_>], dialect: Dialect) -> Result<()> {
    let Some(step) = queue
        .iter()
        .find(|s| s.resume_from > 0 || !s.migration.up.atomic(dialect))
    else {
        return Ok(());
    };
    let up = &step.migration.up;
    let why = if step.resume_from > 0 {
        OutsideTransaction::Resumed
    } else if up.directives.no_transaction {
        OutsideTransaction::NoTransaction
    } else {
        OutsideTransaction::ImplicitCommits {
            count: up.implicit_commits(dialect),
            dialect,
        }
    };
    Err(Error::NotInOneTransaction {
        path: up.path.clone(),
        why,
    })
}

/// Before the first DDL statement of the run: the old transactions of other sessions that may
/// hold the metadata lock of a table it names are told to `observe` (the run goes on).
async fn old_transactions<B: Backend>(
    backend: &mut B,
    queue: &[Step<'_>],
    observe: Observer<'_>,
) -> Result<()> {
    let ddl: Vec<&str> = queue
        .iter()
        .flat_map(|s| {
            let up = &s.migration.up;
            (s.resume_from.min(up.statements.len())..up.statements.len())
                .map(|i| up.statement_text(i))
        })
        .filter(|sql| crate::source::lint::waits_for_metadata_lock(sql))
        .collect();
    if ddl.is_empty() {
        return Ok(());
    }
    if let Some(old) = backend.old_transactions(&ddl).await? {
        if !old.sessions.is_empty() {
            observe(Event::OldTransactions(&old));
        }
    }
    Ok(())
}

/// Refuses, before anything runs, a statement larger than the server accepts.
async fn check_statement_sizes<B: Backend>(backend: &mut B, queue: &[Step<'_>]) -> Result<()> {
    let largest = queue
        .iter()
        .flat_map(|s| {
            let m = s.migration;
            m.up.statements[s.resume_from.min(m.up.statements.len())..]
                .iter()
                .map(move |st| (m, st))
        })
        .max_by_key(|(_, st)| st.end - st.start);
    // A migration that runs as one transaction is replicated as one write set, at least as
    // big as its statements' text.
    if !queue.is_empty() {
        if let Some((limit, setting)) = backend.max_transaction_bytes().await? {
            let dialect = backend.dialect();
            for m in queue.iter().map(|s| s.migration) {
                let bytes: u64 =
                    m.up.statements
                        .iter()
                        .map(|st| (st.end - st.start) as u64)
                        .sum();
                if m.up.atomic(dialect) && bytes > limit {
                    return Err(Error::TransactionTooLarge {
                        path: m.up.path.clone(),
                        bytes,
                        setting,
                        limit,
                    });
                }
            }
        }
    }
    let Some((m, st)) = largest else {
        return Ok(());
    };
    let Some(limit) = backend.max_statement_bytes().await? else {
        return Ok(());
    };
    let size = (st.end - st.start) as u64;
    // The packet also carries a command byte and the protocol header.
    if size + 64 > limit {
        return Err(Error::StatementTooLarge {
            path: m.up.path.clone(),
            line: st.line,
            size,
            limit,
        });
    }
    Ok(())
}
