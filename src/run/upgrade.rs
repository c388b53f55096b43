//! `upgrade`: nothing to do is decided without the lock; else, under it, an install when the
//! road says so, the plan and its checks, then one function per run mode — [`per_migration`]
//! (each migration atomic or stepwise) or [`single_transaction`].

use std::time::Instant;

use crate::backend::{Backend, StatementError, TxOptions};
use crate::error::{Aftermath, Error, Result};
use crate::history::{current, Row, State};
use crate::plan::{self, RunMode, Step, UpgradeOptions};
use crate::source::{Migration, MigrationSet, SchemaFile};

use super::apply::{apply_atomic, run_statements};
use super::checks::{announce_edited, checked_plan};
use super::failure::{failure, whole_run_rolled_back, Running};
use super::guard::{commit_after, commit_refused, or_roll_back, tx_options, with_lock};
use super::install::install;
use super::outcome::{Applied, Checks, Event, Observer, Outcome};
use super::record::new_row;
use super::road::{plan_upgrade, road};
use super::stepwise::{run_stepwise, Start};

/// Applies pending migrations. With `schema`, an empty database (no tables, no history) is
/// first built from that schema file, recording the versions it equals as `baseline`, when
/// the target is not below the schema's version.
pub async fn upgrade<B: Backend>(
    backend: &mut B,
    set: &MigrationSet,
    options: UpgradeOptions,
    schema: Option<&SchemaFile>,
    observe: Observer<'_>,
) -> Result<Outcome> {
    let history = backend.read_history().await?;
    upgrade_after_read(backend, set, options, schema, history, None, observe).await
}

/// [`upgrade`], given the caller's unlocked read of the history: a caller that looks at the
/// pending work before the run (the probes of the live rows) reads the history once, and may
/// give `checks` to make right before some statements (the probes during the run).
pub async fn upgrade_after_read<B: Backend>(
    backend: &mut B,
    set: &MigrationSet,
    options: UpgradeOptions,
    schema: Option<&SchemaFile>,
    history: Vec<Row>,
    checks: Checks<'_, B>,
    observe: Observer<'_>,
) -> Result<Outcome> {
    // Nothing to do is decided without the lock (the common deploy: every host runs this
    // and all but one find the work done): a history that already has every planned version
    // cannot gain pending ones from another runner. Anything else, including a refusal, is
    // decided again under the lock.
    if let Some(overview) = nothing_to_do(set, &history, options) {
        announce_edited(&overview, observe);
        return Ok(Outcome {
            installed: None,
            applied: Vec::new(),
            current: current(&history),
        });
    }
    with_lock(backend, async |b| {
        upgrade_locked(b, set, (options, schema), checks, observe).await
    })
    .await
}

/// The plan's overview when `history` already has every planned version: the run has nothing
/// to do and takes no lock ([`upgrade_after_read`]). `None` for anything else.
pub fn nothing_to_do<'f, 'h>(
    set: &'f MigrationSet,
    history: &'h [Row],
    options: UpgradeOptions,
) -> Option<plan::Overview<'f, 'h>> {
    match plan::for_upgrade(set, history, options) {
        Ok(plan) if !history.is_empty() && plan.steps.is_empty() => Some(plan.overview),
        _ => None,
    }
}

/// The run under the lock: build an empty database from the schema file when that is its
/// road, plan from the history as it is now, then run the plan in the run's mode.
async fn upgrade_locked<B: Backend>(
    backend: &mut B,
    set: &MigrationSet,
    (options, schema): (UpgradeOptions, Option<&SchemaFile>),
    checks: Checks<'_, B>,
    observe: Observer<'_>,
) -> Result<Outcome> {
    let mut history = backend.read_history().await?;
    let mut installed = None;
    if history.is_empty() {
        if let Some(file) = road(Some(&mut *backend), set, &history, schema, options.target).await?
        {
            backend.check_writable().await?;
            installed = install(backend, set, file, observe).await?;
        }
        // Built here, or by another process meanwhile (SQLite): plan from what is there now.
        history = backend.read_history().await?;
    }
    let queue = checked_plan(
        backend,
        set,
        &history,
        options,
        installed.is_none(),
        observe,
    )
    .await?;
    let applied = match options.mode {
        RunMode::PerMigration => {
            per_migration(backend, set, options, &mut history, queue, checks, observe).await?
        }
        RunMode::SingleTransaction => {
            single_transaction(backend, set, options, &mut history, queue, checks, observe).await?
        }
    };
    Ok(Outcome {
        installed,
        applied,
        current: current(&history),
    })
}

/// Called right after `begin`: when another process committed since the history was read,
/// reads it again and plans again, inside the lock. `None`: nothing changed.
async fn replan_if_changed<'f, B: Backend>(
    backend: &mut B,
    set: &'f MigrationSet,
    history: &mut Vec<Row>,
    options: UpgradeOptions,
) -> Result<Option<Vec<Step<'f>>>> {
    if !backend.history_changed().await? {
        return Ok(None);
    }
    *history = backend.read_history().await?;
    plan_upgrade(set, history, options).map(|p| Some(p.steps))
}

/// One transaction per migration: each step is planned again inside its transaction when
/// another process changed the history, then runs atomically or stepwise.
async fn per_migration<'f, B: Backend>(
    backend: &mut B,
    set: &'f MigrationSet,
    options: UpgradeOptions,
    history: &mut Vec<Row>,
    mut queue: Vec<Step<'f>>,
    checks: Checks<'_, B>,
    observe: Observer<'_>,
) -> Result<Vec<Applied>> {
    let mut applied = Vec::with_capacity(queue.len());
    let dialect = backend.dialect();
    // The starting row of the step at the head of the queue, already committed with the
    // previous migration's `applied` row.
    let mut written: Option<Row> = None;
    // Whether the transaction of the step at the head of the queue was begun with the previous
    // migration's commit.
    let mut begun = false;
    while let Some(&step) = queue.first() {
        let m = step.migration;
        // A stepwise migration whose rows go with its statements starts without a
        // transaction: its `failed` row goes with its first statement (or with the previous
        // migration's `applied` row), and the history does not change under the run lock
        // there (nothing to plan again).
        let stepwise = runs_stepwise(step, dialect);
        let in_transaction = runs_in_transaction(step, backend);
        let start = how_it_starts(written.take(), m, in_transaction);
        // Only a step that runs in a transaction is begun ahead ([`begins_with_this_end`]).
        let begun_ahead = std::mem::take(&mut begun);
        if in_transaction
            && !open_step(backend, (set, options), history, &mut queue, begun_ahead).await?
        {
            continue;
        }
        let next = (stepwise && !in_transaction)
            .then(|| starts_with_this_end(queue.get(1).copied(), history, dialect))
            .flatten();
        let how = (stepwise, start, next);
        let begin_next = begins_with_this_end(step, queue.get(1).copied(), backend);
        let end = apply_step(backend, step, history, how, begin_next, checks, observe).await?;
        let row = end.row;
        (written, begun) = (end.next_started, end.next_begun);
        applied.push(Applied {
            version: m.version,
            description: m.description(),
            execution_ms: row.execution_ms,
        });
        history.retain(|r| r.version != m.version);
        history.push(row);
        queue.remove(0);
    }
    Ok(applied)
}

/// Opens the transaction of the step at the head of `queue` (unless it was begun with the
/// previous migration's commit: `begun_ahead`), plans again when another process changed the
/// history, and makes sure of the version table. `false`: another process ran this step
/// meanwhile, which is not an error: the transaction is rolled back and the run starts again
/// from the new plan.
async fn open_step<'f, B: Backend>(
    backend: &mut B,
    (set, options): (&'f MigrationSet, UpgradeOptions),
    history: &mut Vec<Row>,
    queue: &mut Vec<Step<'f>>,
    begun_ahead: bool,
) -> Result<bool> {
    let step = queue[0];
    if !begun_ahead {
        backend.begin(tx_options(&step.migration.up)).await?;
    }
    let fresh = or_roll_back(backend, async |b| {
        replan_if_changed(b, set, history, options).await
    })
    .await?;
    if let Some(fresh) = fresh {
        *queue = fresh;
        if queue.first() != Some(&step) {
            backend.rollback().await;
            return Ok(false);
        }
    }
    or_roll_back(backend, async |b| b.ensure_table().await).await?;
    Ok(true)
}

/// The transaction options of the next step (there is one: the loop then runs it next) when
/// its transaction may begin with this step's commit
/// ([`Backend::commit_with_row_then_begin`]): this one runs atomically and leaves the session
/// as it found it (no reset between them), and the next one runs in a transaction.
fn begins_with_this_end<B: Backend>(
    step: Step<'_>,
    next: Option<Step<'_>>,
    backend: &B,
) -> Option<TxOptions> {
    let dialect = backend.dialect();
    let next = next?;
    let atomic = !runs_stepwise(step, dialect) && !step.migration.up.may_change_session(dialect);
    (atomic && runs_in_transaction(next, backend)).then(|| tx_options(&next.migration.up))
}

/// Whether a step runs in a transaction the runner opens: all but a stepwise one whose rows go
/// with its statements (its `failed` row goes with its first statement, or with the previous
/// migration's `applied` row).
fn runs_in_transaction<B: Backend>(step: Step<'_>, backend: &B) -> bool {
    !(runs_stepwise(step, backend.dialect()) && backend.sends_rows_with_statements())
}

/// How a step's starting row is written: already (`written`, with the previous migration's
/// end), in the transaction the caller opened, or with its statements.
fn how_it_starts(written: Option<Row>, m: &Migration, in_transaction: bool) -> Start {
    match written {
        Some(row) if row.version == m.version && !in_transaction => Start::Written(Box::new(row)),
        _ if in_transaction => Start::InTransaction,
        _ => Start::Outside,
    }
}

/// The next step, when its starting row goes with the `applied` row of a step that runs step
/// by step outside a transaction: it runs step by step too, from its start, with no row yet.
fn starts_with_this_end<'f>(
    next: Option<Step<'f>>,
    history: &[Row],
    dialect: crate::dialect::Dialect,
) -> Option<&'f Migration> {
    next.filter(|n| {
        n.resume_from == 0
            && runs_stepwise(*n, dialect)
            && !history.iter().any(|r| r.version == n.migration.version)
    })
    .map(|n| n.migration)
}

/// Whether a step runs step by step ([`run_stepwise`]) rather than atomically.
fn runs_stepwise(step: Step<'_>, dialect: crate::dialect::Dialect) -> bool {
    step.resume_from > 0 || !step.migration.up.atomic(dialect)
}

/// How a step ended: its row, and what of the next migration went with its end (its starting
/// row, or its transaction begun).
struct StepEnd {
    row: Row,
    next_started: Option<Row>,
    next_begun: bool,
}

/// Runs one step (`stepwise` or not, as [`runs_stepwise`] says) in the transaction the caller
/// opened (atomic: with its row; stepwise: the transaction records its start, or, outside one,
/// its start goes with its statements or was written already: see [`run_stepwise`]; with
/// `next`, the next migration's start goes with this one's end and is returned), then puts
/// the session back for the next one.
async fn apply_step<B: Backend>(
    backend: &mut B,
    step: Step<'_>,
    history: &[Row],
    (stepwise, start, next): (bool, Start, Option<&Migration>),
    begin_next: Option<TxOptions>,
    checks: Checks<'_, B>,
    observe: Observer<'_>,
) -> Result<StepEnd> {
    let (m, dialect) = (step.migration, backend.dialect());
    let ran = if stepwise {
        let existing = history.iter().find(|r| r.version == m.version).cloned();
        let from = (step.resume_from, existing);
        run_stepwise(backend, m, from, start, next, checks, observe)
            .await
            .map(|(row, next_started)| StepEnd {
                row,
                next_started,
                next_begun: false,
            })
    } else {
        apply_atomic(backend, m, begin_next, checks, observe)
            .await
            .map(|(row, next_begun)| StepEnd {
                row,
                next_started: None,
                next_begun,
            })
    };
    // Its session settings do not reach the next migration (a stepwise run that succeeded
    // has put them back before its last row).
    if m.up.may_change_session(dialect) && !(stepwise && ran.is_ok()) {
        let reset = backend.reset_session(&m.up.user_variables(dialect)).await;
        if ran.is_ok() {
            reset?;
        }
    }
    ran
}

/// `--single-transaction`: every step and its row in one transaction, committed at the end;
/// a failure rolls back the whole run.
async fn single_transaction<'f, B: Backend>(
    backend: &mut B,
    set: &'f MigrationSet,
    options: UpgradeOptions,
    history: &mut Vec<Row>,
    mut queue: Vec<Step<'f>>,
    checks: Checks<'_, B>,
    observe: Observer<'_>,
) -> Result<Vec<Applied>> {
    if queue.is_empty() {
        return Ok(Vec::new());
    }
    let foreign_keys_off = queue
        .iter()
        .any(|s| s.migration.up.directives.foreign_keys_off);
    backend.begin(TxOptions { foreign_keys_off }).await?;
    let fresh = or_roll_back(backend, async |b| {
        let fresh = replan_if_changed(b, set, history, options).await?;
        b.ensure_table().await?;
        Ok::<_, Error>(fresh)
    })
    .await?;
    if let Some(fresh) = fresh {
        queue = fresh;
    }
    // A commit the database refuses is the last migration's failure.
    let refused = |e: StatementError| match queue.last() {
        Some(last) => {
            let run = Running::up(last.migration);
            let index = run.script.statements.len().saturating_sub(1);
            whole_run_rolled_back(failure(run, index, e, Aftermath::RolledBack))
        }
        None => commit_refused(e),
    };
    let rows = commit_after(
        backend,
        async |b| apply_all(b, &queue, checks, observe).await,
        refused,
    )
    .await?;
    let applied = rows
        .iter()
        .map(|row| Applied {
            version: row.version,
            description: row.description.clone(),
            execution_ms: row.execution_ms,
        })
        .collect();
    history.extend(rows);
    Ok(applied)
}

/// The steps of a single-transaction run, with their rows, in the transaction the caller
/// opened.
async fn apply_all<B: Backend>(
    backend: &mut B,
    queue: &[Step<'_>],
    checks: Checks<'_, B>,
    observe: Observer<'_>,
) -> Result<Vec<Row>> {
    let mut rows = Vec::with_capacity(queue.len());
    for step in queue {
        let (m, run) = (step.migration, Running::up(step.migration));
        let started = Instant::now();
        observe(Event::Start {
            migration: m,
            reverting: false,
        });
        if let Err((i, e)) = run_statements(backend, run, (0, usize::MAX), checks, observe).await {
            return Err(whole_run_rolled_back(failure(
                run,
                i,
                e,
                Aftermath::RolledBack,
            )));
        }
        let ms = started.elapsed().as_millis() as u64;
        let row = new_row(m, &m.up, State::Applied, ms);
        backend.insert_row(&row).await?;
        observe(Event::Done {
            migration: m,
            reverting: false,
            execution_ms: ms,
        });
        rows.push(row);
    }
    Ok(rows)
}
