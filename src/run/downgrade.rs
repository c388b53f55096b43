//! `downgrade`: reverse files, newest first, under the run lock; each with the deletion of its
//! row in one transaction, or stepwise (the row marked `failed` first).

use std::time::Instant;

use crate::backend::{Backend, StatementError, StatementErrorKind};
use crate::error::{Aftermath, Error, Result};
use crate::history::{self, current, Row, State};
use crate::plan::{self, DowngradeRefusal};
use crate::source::MigrationSet;

use super::apply::run_statements;
use super::failure::{atomic_failure, failure, lost, numbered, Running};
use super::guard::{commit_after, commit_refused, tx_options, with_lock};
use super::outcome::{Applied, Event, Observer, Outcome};

/// What `downgrade [--to T]` reverts on `history`: the version it stays at (without `--to`,
/// the one below the newest recorded, so that exactly one is reverted) and the steps, newest
/// first; or the refusal. Shared by `downgrade` and `downgrade --dry-run`.
pub fn downgrade_plan<'f, 'h>(
    set: &'f MigrationSet,
    history: &'h [Row],
    to: Option<u64>,
) -> Result<(u64, Vec<plan::Revert<'f, 'h>>)> {
    let target = to.unwrap_or_else(|| history::below_current(history));
    let ov = plan::overview(&set.migrations, history, true);
    let steps = plan::downgrade(&ov, target).map_err(|r| match r {
        DowngradeRefusal::Problems(p) => Error::Refused(p),
        DowngradeRefusal::NoReverse(versions) => Error::NoReverse { versions },
    })?;
    crate::source::refuse_statementless_reverse(steps.iter().map(|s| s.down))?;
    Ok((target, steps))
}

/// Reverts applied migrations above `target`, newest first, each with its row in one transaction.
pub async fn downgrade<B: Backend>(
    backend: &mut B,
    set: &MigrationSet,
    target: Option<u64>,
    observe: Observer<'_>,
) -> Result<Outcome> {
    with_lock(backend, async |backend| {
        let history = backend.read_history().await?;
        // Without --to: the newest one only, decided under the lock.
        let (target, steps) = downgrade_plan(set, &history, target)?;
        if !steps.is_empty() {
            backend.check_writable().await?;
        }
        let mut outcome = Outcome::default();
        let mut remaining: Vec<Row> = history.clone();
        for step in steps {
            let m = step.migration;
            let execution_ms = revert(backend, step, target, observe).await?;
            outcome.applied.push(Applied {
                version: m.version,
                description: m.description(),
                execution_ms,
            });
            remaining.retain(|r| r.version != m.version);
        }
        outcome.current = current(&remaining);
        Ok(outcome)
    })
    .await
}

/// Reverts one version, going back to `back_to`: its reverse statements and the deletion of
/// its row in one transaction, or stepwise. The time it took.
async fn revert<B: Backend>(
    backend: &mut B,
    step: plan::Revert<'_, '_>,
    back_to: u64,
    observe: Observer<'_>,
) -> Result<u64> {
    let (m, down) = (step.migration, step.down);
    let run = Running::down(m, down, back_to);
    let started = Instant::now();
    backend.begin(tx_options(down)).await?;
    observe(Event::Start {
        migration: m,
        reverting: true,
    });
    if down.atomic(backend.dialect()) {
        let last = down.statements.len().saturating_sub(1);
        let refused = |e| failure(run, last, e, Aftermath::RolledBack);
        commit_after(
            backend,
            async |b| {
                if let Err((i, e)) = run_statements(b, run, (0, usize::MAX), None, observe).await {
                    return Err(atomic_failure(run, i, e));
                }
                b.delete_row(m.version).await
            },
            refused,
        )
        .await?;
    } else {
        revert_stepwise(backend, run, step.row, observe).await?;
    }
    let ms = started.elapsed().as_millis() as u64;
    observe(Event::Done {
        migration: m,
        reverting: true,
        execution_ms: ms,
    });
    Ok(ms)
}

/// A reverse file that cannot run in one transaction: the version is marked `failed` (with
/// no progress checksum, so `--resume` never takes it for a half-done upgrade) before the
/// first reverse statement, and its row is deleted after the last.
async fn revert_stepwise<B: Backend>(
    backend: &mut B,
    run: Running<'_>,
    recorded: &Row,
    observe: Observer<'_>,
) -> Result<()> {
    let down = run.script;
    let total = down.statements.len();
    let mut row = recorded.clone();
    row.state = State::Failed;
    row.progress_checksum = None;
    row.error = Some(format!(
        "{}{} (0 of {total} reverse statements done)",
        history::REVERT_STARTED,
        down.path.display()
    ));
    commit_after(backend, async |b| b.update_row(&row).await, commit_refused).await?;
    for (i, st) in down.statements.iter().enumerate() {
        observe(Event::Statement {
            migration: run.migration,
            number: i + 1,
            total,
            line: st.line,
        });
        if let Err(e) = backend.execute(st.text(&down.text)).await {
            return Err(revert_failed(backend, run, recorded, row, i, e).await);
        }
    }
    backend.delete_row(run.migration.version).await
}

/// Reverse statement `index` failed with `e`: the row says how far the revert went (the first
/// one failing: not at all), and the error what to do.
async fn revert_failed<B: Backend>(
    backend: &mut B,
    run: Running<'_>,
    recorded: &Row,
    mut row: Row,
    index: usize,
    e: StatementError,
) -> Error {
    if e.kind == StatementErrorKind::ConnectionLost {
        return lost(run, index, e, false);
    }
    let down = run.script;
    if index == 0 {
        // A failed statement takes no effect: nothing of the revert is committed, so the
        // version is applied as before and `downgrade` can simply run again.
        return match backend.update_row(recorded).await {
            Ok(()) => failure(run, index, e, Aftermath::RolledBack),
            Err(not_recorded) => not_recorded,
        };
    }
    row.error = Some(format!(
        "{}{}:{} failed after {index} of {} reverse statements: {}",
        history::REVERT_FAILED,
        down.path.display(),
        down.statements[index].line,
        down.statements.len(),
        e.message
    ));
    if let Err(not_recorded) = backend.update_row(&row).await {
        return not_recorded;
    }
    let committed = numbered(&down.statements[..index]);
    failure(run, index, e, Aftermath::Committed(committed))
}
