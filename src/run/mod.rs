//! Runs plans on a backend and records progress. The checklist of `upgrade`: lock → read
//! history → plan (or refuse) → for each migration: begin → re-read history if another process
//! changed it → run its statements → record it → commit. Every dialect goes through the same
//! loop; what differs is behind [`Backend`].

pub(crate) mod script;

use std::time::Instant;

use crate::backend::{Backend, StatementError, StatementErrorKind, TxOptions};
use crate::dialect::Dialect;
use crate::error::{Aftermath, Cleanup, Error, MigrationFailure, OutsideTransaction, Result};
use crate::history::{self, current, Row, State};
use crate::plan::{self, DowngradeRefusal, RunMode, Step, Target, UpgradeOptions};
use crate::source::{
    Direction, Migration, MigrationSet, ProgressHasher, SchemaFile, Script, Segment,
};

/// Progress reported while a run goes on (the report layer prints it).
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// A migration starts (`Direction` up unless reverting).
    Start {
        migration: &'a Migration,
        reverting: bool,
    },
    /// A statement starts now (1-based number, total, its line in the migration's file);
    /// the progress display shows it until the next event.
    Statement {
        migration: &'a Migration,
        number: usize,
        total: usize,
        line: u32,
    },
    /// A migration finished.
    Done {
        migration: &'a Migration,
        reverting: bool,
        execution_ms: u64,
    },
    /// A fresh install from a schema file starts (`upgrade` on an empty database, and the
    /// scratch builds of `verify`).
    Building { script: &'a Script },
    /// A statement of the schema file starts now (1-based number, total, its line).
    BuildStatement {
        number: usize,
        total: usize,
        line: u32,
    },
    /// The install finished (or stopped).
    Built,
    /// An applied migration's file was edited in comments and whitespace only (the run goes
    /// on; said once per run, before anything runs).
    Edited { migration: &'a Migration },
}

/// Receives [`Event`]s.
pub type Observer<'o> = &'o mut dyn FnMut(Event<'_>);

/// One migration that ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub version: u64,
    pub description: String,
    pub execution_ms: u64,
}

/// A database built from a schema file (a fresh install).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The schema file, as shown to the user.
    pub path: std::path::PathBuf,
    pub statements: usize,
    pub execution_ms: u64,
    /// The versions recorded as `baseline`.
    pub baseline: Vec<u64>,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Set when the run built an empty database from `schema/` first.
    pub installed: Option<Installed>,
    pub applied: Vec<Applied>,
    /// The highest applied or baseline version afterwards.
    pub current: Option<u64>,
}

// ---- the guards: the run lock and transactions ------------------------------------------------

/// Runs `work` holding the run lock, and releases the lock whatever happened.
async fn with_lock<B: Backend, T>(
    backend: &mut B,
    work: impl AsyncFnOnce(&mut B) -> Result<T>,
) -> Result<T> {
    backend.lock().await?;
    let result = work(backend).await;
    let unlocked = backend.unlock().await;
    let value = result?;
    unlocked?;
    Ok(value)
}

/// Runs `work` inside the transaction the caller opened, and rolls that transaction back when
/// `work` fails. (After a lost connection the backend sends nothing more; its rollback is then
/// a no-op.)
async fn or_roll_back<B: Backend, T, E>(
    backend: &mut B,
    work: impl AsyncFnOnce(&mut B) -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    let result = work(backend).await;
    if result.is_err() {
        backend.rollback().await;
    }
    result
}

/// Ends the transaction the caller opened: `work`, then commit — or roll back when `work`
/// fails. A commit the database refuses (SQLite's deferred `foreign_key_check`, rolled back by
/// then) becomes the error `refused` makes of it.
async fn commit_after<B: Backend, T>(
    backend: &mut B,
    work: impl AsyncFnOnce(&mut B) -> Result<T>,
    refused: impl FnOnce(StatementError) -> Error,
) -> Result<T> {
    let value = or_roll_back(backend, work).await?;
    backend.commit().await?.map_err(refused)?;
    Ok(value)
}

/// Runs bookkeeping `work` in one transaction of its own: committed when it succeeds, rolled
/// back when not.
async fn in_transaction<B: Backend, T>(
    backend: &mut B,
    work: impl AsyncFnOnce(&mut B) -> Result<T>,
) -> Result<T> {
    backend.begin(TxOptions::default()).await?;
    commit_after(backend, work, |e| Error::Database(e.message)).await
}

fn tx_options(script: &Script) -> TxOptions {
    TxOptions {
        foreign_keys_off: script.directives.foreign_keys_off,
    }
}

// ---- history rows --------------------------------------------------------------------------------

fn new_row(m: &Migration, script: &Script, state: State, execution_ms: u64) -> Row {
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
async fn record<B: Backend>(backend: &mut B, row: &Row, session: bool) -> Result<()> {
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

// ---- failures -------------------------------------------------------------------------------------

/// A script being run: which migration, which of its files, which way, and for a downgrade
/// the version it goes back to (the advice after a failure names it).
#[derive(Debug, Clone, Copy)]
struct Running<'a> {
    migration: &'a Migration,
    script: &'a Script,
    direction: Direction,
    /// Reverting: the version `downgrade` goes back to (unused going up).
    back_to: u64,
}

impl<'a> Running<'a> {
    fn up(migration: &'a Migration) -> Self {
        Running {
            migration,
            script: &migration.up,
            direction: Direction::Up,
            back_to: 0,
        }
    }

    fn down(migration: &'a Migration, script: &'a Script, back_to: u64) -> Self {
        Running {
            migration,
            script,
            direction: Direction::Down,
            back_to,
        }
    }

    fn reverting(&self) -> bool {
        self.direction == Direction::Down
    }

    /// The line statement `index` starts on.
    fn line(&self, index: usize) -> u32 {
        self.script.statements.get(index).map_or(1, |s| s.line)
    }
}

/// Statement `index` of a script that runs in one transaction failed with `e`: rolled back,
/// unless the connection went away.
fn atomic_failure(run: Running<'_>, index: usize, e: StatementError) -> Error {
    if e.kind == StatementErrorKind::ConnectionLost {
        lost(run, index, e, true)
    } else {
        failure(run, index, e, Aftermath::RolledBack)
    }
}

/// Statement `index` of `run` failed with `e`; `aftermath` says what of it stays.
fn failure(run: Running<'_>, index: usize, e: StatementError, aftermath: Aftermath) -> Error {
    // The file's line: the statement's first line, moved down to the line the database named
    // within it (a syntax error deep in a DELIMITER block).
    let line = run.line(index) + e.line.map_or(0, |l| l - 1);
    Error::MigrationFailed(Box::new(MigrationFailure {
        version: run.migration.version,
        path: run.script.path.clone(),
        line,
        message: e.message,
        statement: index + 1,
        total: run.script.statements.len(),
        next_steps: next_steps(run, index, &aftermath),
        reverting: run.reverting(),
        aftermath,
    }))
}

/// What to do after statement `index` of `run` failed, one line each.
fn next_steps(run: Running<'_>, index: usize, aftermath: &Aftermath) -> Vec<String> {
    let (v, path) = (run.migration.version, run.script.path.display());
    let total = run.script.statements.len();
    match (aftermath, run.direction) {
        (Aftermath::RolledBack, Direction::Up) => {
            vec![format!("fix {path} and run `aurweb-migrate upgrade` again")]
        }
        (Aftermath::RolledBack, Direction::Down) => vec![
            format!("nothing of the revert was committed: {v} is still applied"),
            format!(
                "fix {path} and run `aurweb-migrate downgrade --to {}` again",
                run.back_to
            ),
        ],
        (Aftermath::Committed(c), Direction::Up) if c.is_empty() => vec![
            "it is recorded as failed, with none of its statements committed".to_string(),
            format!(
                "fix statement {} in {path} and run `aurweb-migrate upgrade --resume`, or run `aurweb-migrate resolve {v} --rolled-back` to make it pending again",
                index + 1
            ),
        ],
        (Aftermath::Committed(c), Direction::Up) => vec![
            format!(
                "it is recorded as failed after {} of {total} statements; undo or finish its work by hand, then record what you did:",
                c.len()
            ),
            format!("  aurweb-migrate resolve {v} --rolled-back   (you undid the committed statements)"),
            format!("  aurweb-migrate resolve {v} --applied       (you completed the rest by hand)"),
            format!("or fix statement {} in the file and run `aurweb-migrate upgrade --resume`", index + 1),
        ],
        (Aftermath::Committed(c), Direction::Down) => vec![
            format!(
                "it is recorded as failed after {} of {total} reverse statements; finish or undo the revert by hand, then record what you did:",
                c.len()
            ),
            format!("  aurweb-migrate resolve {v} --rolled-back   (you finished the revert: the migration is no longer in effect)"),
            format!("  aurweb-migrate resolve {v} --applied       (you restored what the reverse statements undid)"),
        ],
    }
}

/// Under `--single-transaction` the whole run rolled back, not just this migration.
fn whole_run_rolled_back(e: Error) -> Error {
    match e {
        Error::MigrationFailed(mut f) => {
            f.next_steps.insert(
                0,
                "the whole run was one transaction: every migration of this run was rolled back"
                    .to_string(),
            );
            Error::MigrationFailed(f)
        }
        other => other,
    }
}

/// The connection went away during statement `index`: nothing more can be recorded.
/// `in_transaction`: the statement ran in the migration's own transaction.
fn lost(run: Running<'_>, index: usize, e: StatementError, in_transaction: bool) -> Error {
    Error::LostDuringMigration {
        path: run.script.path.clone(),
        line: run.line(index),
        message: e.message,
        version: run.migration.version,
        statement: index + 1,
        total: run.script.statements.len(),
        in_transaction,
    }
}

/// Statements as (1-based number, line) pairs, for a failure's list of committed ones.
fn numbered(statements: &[crate::source::splitter::Statement]) -> Vec<(usize, u32)> {
    statements
        .iter()
        .enumerate()
        .map(|(k, s)| (k + 1, s.line))
        .collect()
}

// ---- upgrade ---------------------------------------------------------------------------------------

/// `--to V` as a target (the newest version without it); V must be a migration of the set.
pub fn target(set: &MigrationSet, to: Option<u64>) -> Result<Target> {
    match to {
        None => Ok(Target::Latest),
        Some(v) => set.known("--to", v).map(|_| Target::Version(v)),
    }
}

/// What `upgrade` runs on `history`, or the refusal.
fn plan_upgrade<'f, 'h>(
    set: &'f MigrationSet,
    history: &'h [Row],
    options: UpgradeOptions,
) -> Result<plan::Plan<'f, 'h>> {
    plan::for_upgrade(set, history, options).map_err(Error::Refused)
}

/// Tells `observe` about every applied file edited in comments only (before anything runs).
fn announce_edited(overview: &plan::Overview<'_, '_>, observe: Observer<'_>) {
    for e in &overview.entries {
        if let (plan::EntryState::Edited, Some(m)) = (e.state, e.migration) {
            observe(Event::Edited { migration: m });
        }
    }
}

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
    // Nothing to do is decided without the lock (the common deploy: every host runs this
    // and all but one find the work done): a history that already has every planned version
    // cannot gain pending ones from another runner. Anything else, including a refusal, is
    // decided again under the lock.
    let history = backend.read_history().await?;
    let nothing_to_do = match plan::for_upgrade(set, &history, options) {
        Ok(plan) if !history.is_empty() && plan.steps.is_empty() => Some(plan.overview),
        _ => None,
    };
    if let Some(overview) = nothing_to_do {
        announce_edited(&overview, observe);
        return Ok(Outcome {
            installed: None,
            applied: Vec::new(),
            current: current(&history),
        });
    }
    with_lock(backend, async |b| {
        upgrade_locked(b, set, options, schema, observe).await
    })
    .await
}

/// The run under the lock: build an empty database from the schema file when that is its
/// road, plan from the history as it is now, then run the plan in the run's mode.
async fn upgrade_locked<B: Backend>(
    backend: &mut B,
    set: &MigrationSet,
    options: UpgradeOptions,
    schema: Option<&SchemaFile>,
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
            per_migration(backend, set, options, &mut history, queue, observe).await?
        }
        RunMode::SingleTransaction => {
            single_transaction(backend, set, options, &mut history, queue, observe).await?
        }
    };
    Ok(Outcome {
        installed,
        applied,
        current: current(&history),
    })
}

/// The steps of the run, checked before anything runs: the database can take the writes
/// (`check_writable`, unless an install just wrote), the edited files are announced, no
/// statement is larger than the server takes, and under `--single-transaction` every
/// migration can run inside one transaction.
async fn checked_plan<'f, B: Backend>(
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
    observe: Observer<'_>,
) -> Result<Vec<Applied>> {
    let mut applied = Vec::with_capacity(queue.len());
    while let Some(&step) = queue.first() {
        let m = step.migration;
        backend.begin(tx_options(&m.up)).await?;
        let fresh = or_roll_back(backend, async |b| {
            replan_if_changed(b, set, history, options).await
        })
        .await?;
        if let Some(fresh) = fresh {
            queue = fresh;
            if queue.first() != Some(&step) {
                // Another process ran this one: not an error, start again from the new plan.
                backend.rollback().await;
                continue;
            }
        }
        or_roll_back(backend, async |b| b.ensure_table().await).await?;
        let row = apply_step(backend, step, history, observe).await?;
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

/// Runs one step in the transaction the caller opened (atomic: with its row; stepwise: the
/// transaction records its start), then puts the session back for the next one.
async fn apply_step<B: Backend>(
    backend: &mut B,
    step: Step<'_>,
    history: &[Row],
    observe: Observer<'_>,
) -> Result<Row> {
    let (m, dialect) = (step.migration, backend.dialect());
    let stepwise = step.resume_from > 0 || !m.up.atomic(dialect);
    let ran = if stepwise {
        let existing = history.iter().find(|r| r.version == m.version).cloned();
        run_stepwise(backend, m, step.resume_from, existing, observe).await
    } else {
        apply_atomic(backend, m, observe).await
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
        None => Error::Database(e.message),
    };
    let rows = commit_after(
        backend,
        async |b| apply_all(b, &queue, observe).await,
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
        if let Err((i, e)) = run_statements(backend, run, 0, usize::MAX, observe).await {
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

// ---- the road, and the dry run -----------------------------------------------------------------

/// Whether the database holds nothing but (possibly) an empty history table.
pub async fn is_empty<B: Backend>(backend: &mut B) -> Result<bool> {
    Ok(backend.table_names().await?.is_empty() && backend.read_history().await?.is_empty())
}

/// The tables of a database whose history was read empty: an error when it holds any (it must
/// be adopted first, since running the first migration on it would fail or, worse,
/// half-succeed: [`plan::unmanaged`]), else the empty list.
pub async fn tables_without_history<B: Backend>(backend: &mut B) -> Result<Vec<String>> {
    let tables = backend.table_names().await?;
    // On SQLite this runs outside a transaction: another process may have applied its first
    // migration since the history was read (its tables and history row commit together).
    if tables.is_empty() {
        return Ok(tables);
    }
    let history = backend.read_history().await?;
    match plan::unmanaged(&history, &tables) {
        Some(problem) => Err(Error::Unmanaged(problem)),
        None => Ok(tables),
    }
}

/// The road of a run: the schema file to build the database from first, or `None` to run the
/// migrations; an error for a database with tables but no history.
async fn road<'a, B: Backend>(
    backend: Option<&mut B>,
    set: &MigrationSet,
    history: &[Row],
    schema: Option<&'a SchemaFile>,
    target: Target,
) -> Result<Option<&'a SchemaFile>> {
    let empty = match backend {
        Some(b) if history.is_empty() => tables_without_history(b).await?.is_empty(),
        Some(_) => false,
        None => true,
    };
    let install = plan::install_road(empty, schema, target);
    if let Some(file) = install {
        file.check(set)?;
    }
    Ok(install)
}

/// What `upgrade` would do on the database as it is: build it from a schema file first
/// (`install`), then run `steps` — or refuse. Decided here once, for `--dry-run` (read-only;
/// `backend` is `None` for a database that does not exist yet) and for the real run (inside
/// the lock, before it acts).
pub struct Preview<'a> {
    pub install: Option<&'a SchemaFile>,
    pub steps: Vec<Step<'a>>,
}

pub async fn preview<'a, B: Backend>(
    backend: Option<&mut B>,
    set: &'a MigrationSet,
    history: &[Row],
    schema: Option<&'a SchemaFile>,
    options: UpgradeOptions,
) -> Result<Preview<'a>> {
    let install = road(backend, set, history, schema, options.target).await?;
    let mut steps = plan_upgrade(set, history, options)?.steps;
    if let Some(file) = install {
        steps.retain(|s| s.migration.version > file.version);
    }
    Ok(Preview { install, steps })
}

// ---- install --------------------------------------------------------------------------------------

/// Runs a schema file on an empty database and records every version up to its
/// `schema-version` as `baseline`. SQLite: one transaction, which first checks that no other
/// process filled the database meanwhile (`None` then). MySQL (called under the run lock):
/// DDL commits as it goes, so a failure drops the tables created so far, leaving the database
/// empty again.
pub async fn install<B: Backend>(
    backend: &mut B,
    set: &MigrationSet,
    file: &SchemaFile,
    observe: Observer<'_>,
) -> Result<Option<Installed>> {
    observe(Event::Building {
        script: &file.script,
    });
    let result = install_observed(backend, set, file, observe).await;
    observe(Event::Built);
    result
}

async fn install_observed<B: Backend>(
    backend: &mut B,
    set: &MigrationSet,
    file: &SchemaFile,
    observe: Observer<'_>,
) -> Result<Option<Installed>> {
    let started = Instant::now();
    let script = &file.script;
    let rows: Vec<Row> = set
        .migrations
        .iter()
        .filter(|m| m.version <= file.version)
        .map(|m| new_row(m, &m.up, State::Baseline, 0))
        .collect();
    tracing::debug!(file = %script.path.display(), statements = script.statements.len(), "installing");
    if backend.transactional_ddl() {
        if !install_in_transaction(backend, script, &rows, observe).await? {
            return Ok(None);
        }
    } else {
        install_then_record(backend, script, &rows, observe).await?;
    }
    Ok(Some(Installed {
        path: script.path.clone(),
        statements: script.statements.len(),
        execution_ms: started.elapsed().as_millis() as u64,
        baseline: rows.iter().map(|r| r.version).collect(),
    }))
}

/// Where DDL is transactional (SQLite): the schema file and the baseline rows in one
/// transaction. `false`: another process filled the database meanwhile, nothing was done.
async fn install_in_transaction<B: Backend>(
    backend: &mut B,
    script: &Script,
    rows: &[Row],
    observe: Observer<'_>,
) -> Result<bool> {
    backend.begin(TxOptions::default()).await?;
    let filled = or_roll_back(backend, async |b| {
        Ok::<_, Error>(b.history_changed().await? && !is_empty(b).await?)
    })
    .await?;
    if filled {
        // Not an error: the other process's install stands.
        backend.rollback().await;
        return Ok(false);
    }
    let texts: Vec<&str> = script
        .statements
        .iter()
        .map(|st| st.text(&script.text))
        .collect();
    let last = texts.len().saturating_sub(1);
    let refused = |e| install_failed(script, last, e, Cleanup::RolledBack);
    commit_after(
        backend,
        async |b| {
            b.ensure_table().await?;
            let total = texts.len();
            let mut starting = |i: usize| {
                observe(Event::BuildStatement {
                    number: i + 1,
                    total,
                    line: script.statements[i].line,
                })
            };
            if let Err((i, e)) = b.execute_all(&texts, &mut starting).await {
                return Err(install_failed(script, i, e, Cleanup::RolledBack));
            }
            for row in rows {
                b.insert_row(row).await?;
            }
            Ok(())
        },
        refused,
    )
    .await?;
    Ok(true)
}

/// Where DDL commits as it goes (MySQL): the statements one by one, a failure dropping the
/// tables created so far; then the baseline rows in a transaction of their own.
async fn install_then_record<B: Backend>(
    backend: &mut B,
    script: &Script,
    rows: &[Row],
    observe: Observer<'_>,
) -> Result<()> {
    let total = script.statements.len();
    for (i, st) in script.statements.iter().enumerate() {
        observe(Event::BuildStatement {
            number: i + 1,
            total,
            line: st.line,
        });
        if let Err(e) = backend.execute(st.text(&script.text)).await {
            let cleanup = if e.kind == StatementErrorKind::ConnectionLost {
                Cleanup::ConnectionLost
            } else {
                drop_all_tables(backend).await
            };
            return Err(install_failed(script, i, e, cleanup));
        }
    }
    in_transaction(backend, async |b| {
        b.ensure_table().await?;
        for row in rows {
            b.insert_row(row).await?;
        }
        Ok(())
    })
    .await
}

fn install_failed(script: &Script, index: usize, e: StatementError, cleanup: Cleanup) -> Error {
    Error::InstallFailed {
        path: script.path.clone(),
        line: script.statements.get(index).map_or(1, |s| s.line),
        message: e.message,
        statement: index + 1,
        total: script.statements.len(),
        cleanup,
    }
}

/// After a failed install on MySQL: drops every table (the database was empty before).
async fn drop_all_tables<B: Backend>(backend: &mut B) -> Cleanup {
    let names = match backend.table_names().await {
        Ok(n) => n,
        Err(e) => return Cleanup::NotListed(e.to_string()),
    };
    if names.is_empty() {
        return Cleanup::NoneCreated;
    }
    let failed = backend.drop_tables(&names).await;
    if failed.is_empty() {
        Cleanup::Dropped(names.len())
    } else {
        Cleanup::NotDropped(failed)
    }
}

// ---- applying a migration ---------------------------------------------------------------------

/// Runs a script's statements from `from` to `to`, inside the caller's transaction; on
/// failure, the 0-based index and the error.
async fn run_statements<B: Backend>(
    backend: &mut B,
    run: Running<'_>,
    from: usize,
    to: usize,
    observe: Observer<'_>,
) -> std::result::Result<(), (usize, StatementError)> {
    let script = run.script;
    let total = script.statements.len();
    let to = to.min(total);
    let from = from.min(to);
    let texts: Vec<&str> = script.statements[from..to]
        .iter()
        .map(|st| st.text(&script.text))
        .collect();
    tracing::debug!(file = %script.path.display(), statements = texts.len(), "executing");
    let mut starting = |i: usize| {
        observe(Event::Statement {
            migration: run.migration,
            number: from + i + 1,
            total,
            line: script.statements[from + i].line,
        })
    };
    backend
        .execute_all(&texts, &mut starting)
        .await
        .map_err(|(i, e)| (from + i, e))
}

/// One migration and its history row in the transaction the caller opened, committed here.
async fn apply_atomic<B: Backend>(
    backend: &mut B,
    m: &Migration,
    observe: Observer<'_>,
) -> Result<Row> {
    let run = Running::up(m);
    let started = Instant::now();
    observe(Event::Start {
        migration: m,
        reverting: false,
    });
    let last = m.up.statements.len().saturating_sub(1);
    let refused = |e| failure(run, last, e, Aftermath::RolledBack);
    let row = commit_after(
        backend,
        async |b| {
            if let Err((i, e)) = run_statements(b, run, 0, usize::MAX, observe).await {
                return Err(atomic_failure(run, i, e));
            }
            let ms = started.elapsed().as_millis() as u64;
            let row = new_row(m, &m.up, State::Applied, ms);
            b.insert_row(&row).await?;
            Ok(row)
        },
        refused,
    )
    .await?;
    observe(Event::Done {
        migration: m,
        reverting: false,
        execution_ms: row.execution_ms,
    });
    Ok(row)
}

// ---- stepwise ----------------------------------------------------------------------------------

/// A migration that cannot run in one transaction (it opts out, or on MySQL it holds
/// statements that commit implicitly): recorded as `failed` with its progress before it starts
/// (inside the caller's transaction, which this commits), then run step by step
/// ([`Script::steps`]): a group of statements in one transaction together with the progress
/// update that closes it, a statement that commits by itself followed by its own, a `LOCK
/// TABLES` region without a transaction and its progress after `UNLOCK TABLES`; marked
/// `applied` at the end. Progress is exact at step boundaries: a failure rolls back the step's
/// open transaction, and `--resume` restarts at the failed step's first statement. A crash
/// leaves it visibly `failed`, never silently pending. `from > 0` resumes an earlier failed
/// run whose row is `existing`.
async fn run_stepwise<B: Backend>(
    backend: &mut B,
    m: &Migration,
    from: usize,
    existing: Option<Row>,
    observe: Observer<'_>,
) -> Result<Row> {
    let started = Instant::now();
    let script = &m.up;
    let dialect = backend.dialect();
    let mut progress = ProgressHasher::default();
    for i in 0..from {
        progress.add(script.statement_text(i));
    }
    let resumed = existing.is_some();
    let row = starting_row(m, from, existing, &progress);
    commit_after(
        backend,
        async |b| match resumed {
            true => b.update_row(&row).await,
            false => b.insert_row(&row).await,
        },
        |e| Error::Database(e.message),
    )
    .await?;
    observe(Event::Start {
        migration: m,
        reverting: false,
    });
    let mut run = Stepwise {
        run: Running::up(m),
        row,
        progress,
        session: script.may_change_session(dialect),
        started,
        observe,
    };
    for step in script.steps(dialect, from) {
        if run.step(backend, &step).await? {
            break;
        }
    }
    run.finish(backend).await
}

/// The `failed` row a stepwise run starts with: a new one, or the earlier failed run's
/// (`existing`), continued after `from` statements whose checksum is `progress`.
fn starting_row(
    m: &Migration,
    from: usize,
    existing: Option<Row>,
    progress: &ProgressHasher,
) -> Row {
    let script = &m.up;
    let Some(mut row) = existing else {
        return new_row(m, script, State::Failed, 0);
    };
    row.state = State::Failed;
    row.checksum = script.checksum.clone();
    row.statements_checksum = Some(script.statements_checksum());
    row.statements_done = from as u32;
    row.statements_total = script.statements.len() as u32;
    row.progress_checksum = Some(progress.checksum());
    row.error = None;
    row
}

/// A stepwise run in progress: its row as recorded after the last step, and the checksum of
/// the statements done.
struct Stepwise<'a, 'o> {
    run: Running<'a>,
    row: Row,
    progress: ProgressHasher,
    /// The migration may change the session ([`Script::may_change_session`]).
    session: bool,
    started: Instant,
    observe: Observer<'o>,
}

impl Stepwise<'_, '_> {
    /// Runs one segment and records its progress; `true` when it was the last (its progress
    /// is then recorded with the final state, by [`Stepwise::finish`]).
    async fn step<B: Backend>(&mut self, backend: &mut B, step: &Segment) -> Result<bool> {
        let (range, transaction) = match step {
            Segment::Group(r) => (r.clone(), true),
            Segment::Alone(i) | Segment::Boundary(i) => (*i..*i + 1, false),
            Segment::Locked(r) => (r.clone(), false),
        };
        if transaction {
            backend.begin(TxOptions::default()).await?;
        }
        // What ran before a failure in a transaction is undone; a LOCK TABLES region's
        // statements before it ran on their own and stay.
        let ran = or_roll_back(backend, async |b| {
            self.segment(b, step, range.clone()).await
        })
        .await;
        if let Err((i, e)) = ran {
            let done = if transaction { range.start } else { i };
            return Err(self.failed(backend, i, e, done).await);
        }
        let script = self.run.script;
        for i in range.clone() {
            self.progress.add(script.statement_text(i));
        }
        self.row.statements_done = range.end as u32;
        self.row.progress_checksum = Some(self.progress.checksum());
        let last = range.end == script.statements.len();
        if transaction {
            let run = self.run;
            let refused = |e| failure(run, range.end - 1, e, Aftermath::Committed(Vec::new()));
            let row = &self.row;
            commit_after(
                backend,
                async |b| {
                    if last {
                        Ok(())
                    } else {
                        b.update_row(row).await
                    }
                },
                refused,
            )
            .await?;
        } else if !last {
            if matches!(step, Segment::Locked(_)) && self.session {
                // A region that never unlocked: the tool's own table is not locked for it.
                // The migration goes on, so its user variables stay.
                backend.reset_session(&[]).await?;
            }
            record(backend, &self.row, self.session).await?;
        }
        Ok(last)
    }

    /// Runs the statements of one segment.
    async fn segment<B: Backend>(
        &mut self,
        backend: &mut B,
        step: &Segment,
        range: std::ops::Range<usize>,
    ) -> std::result::Result<(), (usize, StatementError)> {
        match step {
            // The file's own COMMIT: the transaction around each group takes its place.
            Segment::Boundary(_) => Ok(()),
            Segment::Group(_) => {
                run_statements(backend, self.run, range.start, range.end, self.observe).await
            }
            Segment::Alone(_) | Segment::Locked(_) => {
                for i in range {
                    run_statements(backend, self.run, i, i + 1, self.observe).await?;
                }
                Ok(())
            }
        }
    }

    /// Statement `index` failed with `e` (its transaction, if any, rolled back), `done`
    /// statements stay committed: the row says so, and the error what to do.
    async fn failed<B: Backend>(
        &mut self,
        backend: &mut B,
        index: usize,
        e: StatementError,
        done: usize,
    ) -> Error {
        let script = self.run.script;
        if e.kind == StatementErrorKind::ConnectionLost {
            return lost(self.run, index, e, false);
        }
        if self.session {
            let dialect = backend.dialect();
            if let Err(reset) = backend.reset_session(&script.user_variables(dialect)).await {
                return reset;
            }
        }
        self.row.statements_done = done as u32;
        self.row.progress_checksum = Some(script.prefix_checksum(done));
        self.row.error = Some(e.message.clone());
        self.row.execution_ms = self.started.elapsed().as_millis() as u64;
        if let Err(not_recorded) = record(backend, &self.row, self.session).await {
            return not_recorded;
        }
        let committed = numbered(&script.statements[..done]);
        failure(self.run, index, e, Aftermath::Committed(committed))
    }

    /// Every step ran: the session put back, and the row marked `applied`.
    async fn finish<B: Backend>(mut self, backend: &mut B) -> Result<Row> {
        let (m, script) = (self.run.migration, self.run.script);
        if self.session {
            let dialect = backend.dialect();
            backend
                .reset_session(&script.user_variables(dialect))
                .await?;
        }
        self.row.state = State::Applied;
        self.row.statements_done = script.statements.len() as u32;
        self.row.execution_ms = self.started.elapsed().as_millis() as u64;
        self.row.applied_at = history::now_utc();
        record(backend, &self.row, self.session).await?;
        (self.observe)(Event::Done {
            migration: m,
            reverting: false,
            execution_ms: self.row.execution_ms,
        });
        Ok(self.row)
    }
}

// ---- downgrade -------------------------------------------------------------------------------

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
                if let Err((i, e)) = run_statements(b, run, 0, usize::MAX, observe).await {
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
    commit_after(
        backend,
        async |b| b.update_row(&row).await,
        |e| Error::Database(e.message),
    )
    .await?;
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

// ---- recording without running -----------------------------------------------------------------

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
