//! Running a migration's statements ([`run_statements`], shared by every way a script runs),
//! and one atomic migration: its statements and its row in one transaction ([`apply_atomic`]).

use std::time::Instant;

use crate::backend::{AtomicEnd, Backend, RowWrite, StatementError, TxOptions};
use crate::error::{Aftermath, Result};
use crate::history::{Row, State};
use crate::source::Migration;

use super::failure::{atomic_failure, failure, Running};
use super::guard::commit_with_row_after;
use super::outcome::{Checks, Event, Observer};
use super::record::new_row;

/// Runs a script's statements from `from` to `to`, inside the caller's transaction; on
/// failure, the 0-based index and the error. Before each statement `checks` wants, its check
/// runs; one that refuses stops there, as if the statement had failed.
pub(super) async fn run_statements<B: Backend>(
    backend: &mut B,
    run: Running<'_>,
    (from, to): (usize, usize),
    checks: Checks<'_, B>,
    observe: Observer<'_>,
) -> std::result::Result<(), (usize, StatementError)> {
    let total = run.script.statements.len();
    let to = to.min(total);
    let mut start = from.min(to);
    let version = run.migration.version;
    let wants = |i: usize| checks.filter(|c| c.wants(version, i));
    while start < to {
        if let Some(c) = wants(start) {
            c.check(backend, version, start)
                .await
                .map_err(|e| (start, e))?;
        }
        let end = (start + 1..to).find(|&i| wants(i).is_some()).unwrap_or(to);
        execute_range(backend, run, (start, end), checks, observe).await?;
        start = end;
    }
    Ok(())
}

/// Statement `i` of a script, after its history row (`write`) is committed: sent together
/// where the backend can ([`Backend::execute_all_after`]); when a check runs before the
/// statement, the row is written first, on its own. `Err`: the row was not written, and
/// nothing ran.
pub(super) async fn run_statement_after<B: Backend>(
    backend: &mut B,
    run: Running<'_>,
    i: usize,
    write: RowWrite<'_>,
    checks: Checks<'_, B>,
    observe: Observer<'_>,
) -> Result<std::result::Result<(), (usize, StatementError)>> {
    if checks.is_some_and(|c| c.wants(run.migration.version, i)) {
        match write {
            RowWrite::Insert(row) => backend.insert_row(row).await?,
            RowWrite::Update(row) => backend.update_row(row).await?,
        }
        return Ok(run_statements(backend, run, (i, i + 1), checks, observe).await);
    }
    execute_range_after(backend, run, (i, i + 1), Some(write), checks, observe).await
}

/// Statements `from..to` of a script, sent together, each with the clause `checks` enforces
/// appended; the server's refusal of such a clause is told as a misprediction of the plan.
async fn execute_range<B: Backend>(
    backend: &mut B,
    run: Running<'_>,
    range: (usize, usize),
    checks: Checks<'_, B>,
    observe: Observer<'_>,
) -> std::result::Result<(), (usize, StatementError)> {
    match execute_range_after(backend, run, range, None, checks, observe).await {
        Ok(ran) => ran,
        // Only a row write fails this way, and there is none.
        Err(e) => Err((range.0, StatementError::failed(e.to_string()))),
    }
}

/// [`execute_range`], after the history row `before` when there is one
/// ([`Backend::execute_all_after`]). `Err`: that row was not written, and nothing ran.
async fn execute_range_after<B: Backend>(
    backend: &mut B,
    run: Running<'_>,
    (from, to): (usize, usize),
    before: Option<RowWrite<'_>>,
    checks: Checks<'_, B>,
    observe: Observer<'_>,
) -> Result<std::result::Result<(), (usize, StatementError)>> {
    let script = run.script;
    let version = run.migration.version;
    let enforced = |i: usize| checks.and_then(|c| c.enforced(version, i));
    // Borrowed but for the statements that carry a clause (a data migration may have many).
    let owned: Vec<std::borrow::Cow<'_, str>> = (from..to)
        .map(|i| match enforced(i) {
            Some((_, sql)) => sql.into(),
            None => script.statement_text(i).into(),
        })
        .collect();
    let texts: Vec<&str> = owned.iter().map(|t| t.as_ref()).collect();
    let mut starting = announcing(run, from, texts.len(), observe);
    let ran = match before {
        Some(write) => {
            backend
                .execute_all_after(write, &texts, &mut starting)
                .await?
        }
        None => backend.execute_all(&texts, &mut starting).await,
    };
    Ok(ran.map_err(|(i, mut e)| {
        if let Some((clause, _)) = enforced(from + i) {
            e.message = misprediction(&clause, &e.message);
        }
        (from + i, e)
    }))
}

/// The progress callback of statements `from..from + count` of a script sent together
/// ([`Backend::execute_all`]'s `starting`): each one announced as it starts. Logs the batch.
fn announcing<'a>(
    run: Running<'a>,
    from: usize,
    count: usize,
    observe: Observer<'a>,
) -> impl FnMut(usize) + 'a {
    let script = run.script;
    tracing::debug!(file = %script.path.display(), statements = count, "executing");
    let total = script.statements.len();
    move |i: usize| {
        observe(Event::Statement {
            migration: run.migration,
            number: from + i + 1,
            total,
            line: script.statements[from + i].line,
        })
    }
}

/// A server's refusal of a statement that ran with the plan's proven clause: when it names
/// the clause (`ALGORITHM=…`/`LOCK=…` not supported), the live table differs from its empty
/// copy and the plan was wrong.
fn misprediction(clause: &str, message: &str) -> String {
    let upper = message.to_ascii_uppercase();
    if upper.contains("ALGORITHM=") || upper.contains("LOCK=") {
        format!(
            "misprediction: the server refused the proven `{clause}` appended to this statement (the live table differs from its empty copy in what its definition does not show, e.g. the hidden column a dropped FULLTEXT index leaves, or an old row format), so nothing of it ran: {message}"
        )
    } else {
        format!("(run with the proven `{clause}` appended) {message}")
    }
}

/// One migration and its history row in the transaction the caller opened, committed here;
/// with `next`, the next migration's transaction may be begun with the commit (`true`:
/// [`commit_with_row_after`]).
pub(super) async fn apply_atomic<B: Backend>(
    backend: &mut B,
    m: &Migration,
    next: Option<TxOptions>,
    checks: Checks<'_, B>,
    observe: Observer<'_>,
) -> Result<(Row, bool)> {
    let run = Running::up(m);
    let started = Instant::now();
    observe(Event::Start {
        migration: m,
        reverting: false,
    });
    let last = m.up.statements.len().saturating_sub(1);
    let refused = |e| failure(run, last, e, Aftermath::RolledBack);
    let (row, begun) = if unchecked(checks, m) {
        apply_whole(backend, run, (started, next), refused, observe).await?
    } else {
        commit_with_row_after(
            backend,
            async |b| {
                if let Err((i, e)) = run_statements(b, run, (0, usize::MAX), checks, observe).await
                {
                    return Err(atomic_failure(run, i, e));
                }
                let ms = started.elapsed().as_millis() as u64;
                Ok(new_row(m, &m.up, State::Applied, ms))
            },
            next,
            refused,
        )
        .await?
    };
    observe(Event::Done {
        migration: m,
        reverting: false,
        execution_ms: row.execution_ms,
    });
    Ok((row, begun))
}

/// Whether no check runs before, and no clause is appended to, any statement of `m`.
fn unchecked<B>(checks: Checks<'_, B>, m: &Migration) -> bool {
    checks.is_none_or(|c| {
        (0..m.up.statements.len())
            .all(|i| !c.wants(m.version, i) && c.enforced(m.version, i).is_none())
    })
}

/// An atomic migration that nothing checks, in one call to the backend
/// ([`Backend::execute_all_then_commit`]: SQLite, one hand-off to its worker): its
/// statements, its row (timed from `started`) and the commit, with `next` as
/// [`commit_with_row_after`] takes it. A failed statement rolls the transaction back.
async fn apply_whole<B: Backend>(
    backend: &mut B,
    run: Running<'_>,
    (started, next): (Instant, Option<TxOptions>),
    refused: impl FnOnce(StatementError) -> crate::error::Error,
    observe: Observer<'_>,
) -> Result<(Row, bool)> {
    let (m, script) = (run.migration, run.script);
    let texts: Vec<&str> = script.statement_texts().collect();
    let mut starting = announcing(run, 0, texts.len(), observe);
    let mut row = || {
        let ms = started.elapsed().as_millis() as u64;
        new_row(m, script, State::Applied, ms)
    };
    match backend
        .execute_all_then_commit(&texts, &mut starting, &mut row, next)
        .await?
    {
        Ok(done) => Ok(done),
        Err(AtomicEnd::Statement(i, e)) => {
            backend.rollback().await;
            Err(atomic_failure(run, i, e))
        }
        Err(AtomicEnd::Refused(e)) => Err(refused(e)),
    }
}
