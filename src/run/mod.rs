//! Runs plans on a backend and records progress. The checklist of `upgrade`: lock → read
//! history → plan (or refuse) → for each migration: begin → re-read history if another process
//! changed it → run its statements → record it → commit. Every dialect goes through the same
//! loop; what differs is behind [`Backend`].

pub(crate) mod script;

use std::time::Instant;

use crate::backend::{Backend, StatementError, StatementErrorKind, TxOptions};
use crate::error::{Error, MigrationFailure, Result};
use crate::history::{self, current, Row, State};
use crate::plan::{self, DowngradeRefusal, RunMode, Step, Target, UpgradeOptions};
use crate::source::{Migration, MigrationSet, ProgressHasher, SchemaFile, Script, Segment};

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

/// `--to V` as a target (the newest version without it); V must be a migration of the set.
pub fn target(set: &MigrationSet, to: Option<u64>) -> Result<Target> {
    match to {
        None => Ok(Target::Latest),
        Some(v) => set.known("--to", v).map(|_| Target::Version(v)),
    }
}

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

fn tx_options(script: &Script) -> TxOptions {
    TxOptions {
        foreign_keys_off: script.directives.foreign_keys_off,
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

/// Runs bookkeeping `work` in one transaction: committed when it succeeds, rolled back when not.
async fn in_transaction<B: Backend, T>(
    backend: &mut B,
    work: impl AsyncFnOnce(&mut B) -> Result<T>,
) -> Result<T> {
    backend.begin(TxOptions::default()).await?;
    match work(backend).await {
        Ok(value) => match backend.commit().await? {
            Ok(()) => Ok(value),
            Err(e) => Err(Error::Database(e.message)),
        },
        Err(e) => {
            backend.rollback().await;
            Err(e)
        }
    }
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
        Some(problem) => Err(Error::RefusedBecause(problem.reason())),
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
    let texts: Vec<&str> = script
        .statements
        .iter()
        .map(|st| st.text(&script.text))
        .collect();
    let failed = |i: usize, e: StatementError, cleanup: String| Error::InstallFailed {
        path: script.path.clone(),
        line: script.statements.get(i).map_or(1, |s| s.line),
        message: e.message,
        statement: i + 1,
        total: texts.len(),
        cleanup,
    };
    tracing::debug!(file = %script.path.display(), statements = texts.len(), "installing");
    if backend.transactional_ddl() {
        backend.begin(TxOptions::default()).await?;
        if backend.history_changed().await? && !is_empty(backend).await? {
            backend.rollback().await;
            return Ok(None);
        }
        let work = async {
            backend.ensure_table().await?;
            let total = texts.len();
            let mut starting = |i: usize| {
                observe(Event::BuildStatement {
                    number: i + 1,
                    total,
                    line: script.statements[i].line,
                })
            };
            if let Err((i, e)) = backend.execute_all(&texts, &mut starting).await {
                return Err(failed(i, e, "nothing was changed (rolled back)".into()));
            }
            for row in &rows {
                backend.insert_row(row).await?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = work {
            backend.rollback().await;
            return Err(e);
        }
        if let Err(e) = backend.commit().await? {
            return Err(failed(
                texts.len().saturating_sub(1),
                e,
                "nothing was changed (rolled back)".into(),
            ));
        }
    } else {
        for (i, sql) in texts.iter().enumerate() {
            observe(Event::BuildStatement {
                number: i + 1,
                total: texts.len(),
                line: script.statements[i].line,
            });
            if let Err(e) = backend.execute(sql).await {
                let cleanup = if e.kind == StatementErrorKind::ConnectionLost {
                    "the connection was lost; drop the tables it created and run `aurweb-migrate upgrade` again".to_string()
                } else {
                    drop_all_tables(backend).await
                };
                return Err(failed(i, e, cleanup));
            }
        }
        in_transaction(backend, async |b| {
            b.ensure_table().await?;
            for row in &rows {
                b.insert_row(row).await?;
            }
            Ok(())
        })
        .await?;
    }
    Ok(Some(Installed {
        path: script.path.clone(),
        statements: texts.len(),
        execution_ms: started.elapsed().as_millis() as u64,
        baseline: rows.iter().map(|r| r.version).collect(),
    }))
}

/// After a failed install on MySQL: drops every table (the database was empty before).
async fn drop_all_tables<B: Backend>(backend: &mut B) -> String {
    let names = match backend.table_names().await {
        Ok(n) => n,
        Err(e) => {
            return format!("the tables it created could not be listed ({e}); drop them by hand")
        }
    };
    if names.is_empty() {
        return "no table had been created".to_string();
    }
    let failed = backend.drop_tables(&names).await;
    if failed.is_empty() {
        format!(
            "the {} table(s) it had created were dropped, the database is empty again",
            names.len()
        )
    } else {
        format!(
            "these tables it created could not be dropped: {}; drop them by hand",
            failed.join(", ")
        )
    }
}

/// Called right after `begin`: when another process committed since the history was read,
/// reads it again and plans again, inside the lock. `None`: nothing changed. On an error the
/// transaction is rolled back.
async fn replan_if_changed<'f, B: Backend>(
    backend: &mut B,
    set: &'f MigrationSet,
    history: &mut Vec<Row>,
    options: UpgradeOptions,
) -> Result<Option<Vec<Step<'f>>>> {
    let fresh = async {
        if !backend.history_changed().await? {
            return Ok(None);
        }
        *history = backend.read_history().await?;
        plan_upgrade(set, history, options).map(|p| Some(p.steps))
    }
    .await;
    if fresh.is_err() {
        backend.rollback().await;
    }
    fresh
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
                    return Err(Error::Database(format!(
                        "{}: this migration runs as one transaction of at least {bytes} bytes of statements, more than the cluster's {setting} of {limit}; split it into several migrations, or raise {setting} (nothing was run)",
                        m.up.path.display()
                    )));
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
        return Err(Error::Database(format!(
            "{}:{}: this statement is {size} bytes, more than the server's max_allowed_packet of {limit}; raise max_allowed_packet on the server, or split the statement (nothing was run)",
            m.up.path.display(),
            st.line
        )));
    }
    Ok(())
}

async fn upgrade_locked<B: Backend>(
    backend: &mut B,
    set: &MigrationSet,
    options: UpgradeOptions,
    schema: Option<&SchemaFile>,
    observe: Observer<'_>,
) -> Result<Outcome> {
    let dialect = backend.dialect();
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
    let plan = plan_upgrade(set, &history, options)?;
    let mut queue = plan.steps;
    if !queue.is_empty() && installed.is_none() {
        backend.check_writable().await?;
    }
    announce_edited(&plan.overview, observe);
    check_statement_sizes(backend, &queue).await?;
    if options.mode == RunMode::SingleTransaction {
        if let Some((m, from)) = queue
            .iter()
            .map(|s| (s.migration, s.resume_from))
            .find(|(m, from)| *from > 0 || !m.up.atomic(dialect))
        {
            let why = if from > 0 {
                "is being resumed".to_string()
            } else if m.up.directives.no_transaction {
                "declares no-transaction".to_string()
            } else {
                format!(
                    "holds {} statement(s) that commit implicitly on {dialect}",
                    m.up.implicit_commits(dialect)
                )
            };
            return Err(Error::Usage(format!(
                "{} {why} and cannot run under --single-transaction",
                m.up.path.display()
            )));
        }
    }
    let mut outcome = Outcome::default();
    match options.mode {
        RunMode::PerMigration => {
            while let Some(&step) = queue.first() {
                let (m, version, resume_from) =
                    (step.migration, step.migration.version, step.resume_from);
                backend.begin(tx_options(&m.up)).await?;
                if let Some(q) = replan_if_changed(backend, set, &mut history, options).await? {
                    queue = q;
                    if queue.first() != Some(&step) {
                        backend.rollback().await;
                        continue;
                    }
                }
                if let Err(e) = backend.ensure_table().await {
                    backend.rollback().await;
                    return Err(e);
                }
                let stepwise = resume_from > 0 || !m.up.atomic(dialect);
                let ran = if stepwise {
                    let existing = history.iter().find(|r| r.version == version).cloned();
                    run_stepwise(backend, m, resume_from, existing, observe).await
                } else {
                    run_in_transaction(backend, m, observe).await
                };
                // Its session settings do not reach the next migration (a stepwise run that
                // succeeded has put them back before its last row).
                if m.up.may_change_session(dialect) && !(stepwise && ran.is_ok()) {
                    let reset = backend.reset_session(&m.up.user_variables(dialect)).await;
                    if ran.is_ok() {
                        reset?;
                    }
                }
                let row = ran?;
                outcome.applied.push(Applied {
                    version,
                    description: m.description(),
                    execution_ms: row.execution_ms,
                });
                history.retain(|r| r.version != version);
                history.push(row);
                queue.remove(0);
            }
        }
        RunMode::SingleTransaction => {
            if !queue.is_empty() {
                let fk_off = queue
                    .iter()
                    .any(|s| s.migration.up.directives.foreign_keys_off);
                let tx = TxOptions {
                    foreign_keys_off: fk_off,
                };
                backend.begin(tx).await?;
                if let Some(q) = replan_if_changed(backend, set, &mut history, options).await? {
                    queue = q;
                }
                if let Err(e) = backend.ensure_table().await {
                    backend.rollback().await;
                    return Err(e);
                }
                let mut rows = Vec::new();
                for step in &queue {
                    let m = step.migration;
                    let started = Instant::now();
                    observe(Event::Start {
                        migration: m,
                        reverting: false,
                    });
                    if let Err((i, e)) =
                        run_statements(backend, m, &m.up, 0, usize::MAX, observe).await
                    {
                        backend.rollback().await;
                        return Err(
                            failure(m, &m.up, i, e, true, &[], Way::Up).single_transaction()
                        );
                    }
                    let ms = started.elapsed().as_millis() as u64;
                    let row = new_row(m, &m.up, State::Applied, ms);
                    if let Err(e) = backend.insert_row(&row).await {
                        backend.rollback().await;
                        return Err(e);
                    }
                    observe(Event::Done {
                        migration: m,
                        reverting: false,
                        execution_ms: ms,
                    });
                    rows.push(row);
                }
                if let Err(e) = backend.commit().await? {
                    let last = queue.last().expect("non-empty").migration;
                    let n = last.up.statements.len();
                    return Err(failure(
                        last,
                        &last.up,
                        n.saturating_sub(1),
                        e,
                        true,
                        &[],
                        Way::Up,
                    )
                    .single_transaction());
                }
                for row in rows {
                    outcome.applied.push(Applied {
                        version: row.version,
                        description: row.description.clone(),
                        execution_ms: row.execution_ms,
                    });
                    history.push(row);
                }
            }
        }
    }
    outcome.current = current(&history);
    outcome.installed = installed;
    Ok(outcome)
}

/// Runs a script's statements from `from` on, inside the caller's transaction; on failure,
/// the 0-based index and the error.
async fn run_statements<B: Backend>(
    backend: &mut B,
    m: &Migration,
    script: &Script,
    from: usize,
    to: usize,
    observe: Observer<'_>,
) -> std::result::Result<(), (usize, StatementError)> {
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
            migration: m,
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

/// One migration and its history row in one transaction (opened by the caller).
async fn run_in_transaction<B: Backend>(
    backend: &mut B,
    m: &Migration,
    observe: Observer<'_>,
) -> Result<Row> {
    let started = Instant::now();
    observe(Event::Start {
        migration: m,
        reverting: false,
    });
    if let Err((i, e)) = run_statements(backend, m, &m.up, 0, usize::MAX, observe).await {
        if e.kind == StatementErrorKind::ConnectionLost {
            return Err(lost(m, &m.up, i, e, true));
        }
        backend.rollback().await;
        return Err(failure(m, &m.up, i, e, true, &[], Way::Up));
    }
    let ms = started.elapsed().as_millis() as u64;
    let row = new_row(m, &m.up, State::Applied, ms);
    if let Err(e) = backend.insert_row(&row).await {
        backend.rollback().await;
        return Err(e);
    }
    if let Err(e) = backend.commit().await? {
        let n = m.up.statements.len();
        return Err(failure(
            m,
            &m.up,
            n.saturating_sub(1),
            e,
            true,
            &[],
            Way::Up,
        ));
    }
    observe(Event::Done {
        migration: m,
        reverting: false,
        execution_ms: ms,
    });
    Ok(row)
}

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
    let recorded = match existing {
        Some(mut row) => {
            row.state = State::Failed;
            row.checksum = script.checksum.clone();
            row.statements_checksum = Some(script.statements_checksum());
            row.statements_done = from as u32;
            row.statements_total = script.statements.len() as u32;
            row.progress_checksum = Some(progress.checksum());
            row.error = None;
            backend.update_row(&row).await.map(|_| row)
        }
        None => {
            let row = new_row(m, script, State::Failed, 0);
            backend.insert_row(&row).await.map(|_| row)
        }
    };
    let mut row = match recorded {
        Ok(row) => row,
        Err(e) => {
            backend.rollback().await;
            return Err(e);
        }
    };
    if let Err(e) = backend.commit().await? {
        return Err(Error::Database(e.message));
    }
    observe(Event::Start {
        migration: m,
        reverting: false,
    });
    let total = script.statements.len();
    let session = script.may_change_session(dialect);
    for step in script.steps(dialect, from) {
        let (range, transaction) = match &step {
            Segment::Group(r) => (r.clone(), true),
            Segment::Alone(i) => (*i..*i + 1, false),
            Segment::Boundary(i) => (*i..*i + 1, false),
            Segment::Locked(r) => (r.clone(), false),
        };
        if transaction {
            backend.begin(TxOptions::default()).await?;
        }
        let failed = match &step {
            // The file's own COMMIT: the transaction around each group takes its place.
            Segment::Boundary(_) => None,
            Segment::Group(_) => {
                run_statements(backend, m, script, range.start, range.end, observe)
                    .await
                    .err()
            }
            Segment::Alone(_) | Segment::Locked(_) => {
                let mut failed = None;
                for i in range.clone() {
                    if let Err(e) = run_statements(backend, m, script, i, i + 1, observe).await {
                        failed = Some(e);
                        break;
                    }
                }
                failed
            }
        };
        if let Some((i, e)) = failed {
            if e.kind == StatementErrorKind::ConnectionLost {
                return Err(lost(m, script, i, e, false));
            }
            // What ran before `i` in a transaction is undone; a LOCK TABLES region's
            // statements before `i` ran on their own and stay.
            backend.rollback().await;
            let done = if transaction { range.start } else { i };
            if session {
                backend
                    .reset_session(&script.user_variables(dialect))
                    .await?;
            }
            row.statements_done = done as u32;
            row.progress_checksum = Some(script.prefix_checksum(done));
            row.error = Some(e.message.clone());
            row.execution_ms = started.elapsed().as_millis() as u64;
            record(backend, &row, session).await?;
            let committed = numbered(&script.statements[..done]);
            return Err(failure(m, script, i, e, false, &committed, Way::Up));
        }
        for i in range.clone() {
            progress.add(script.statement_text(i));
        }
        row.statements_done = range.end as u32;
        row.progress_checksum = Some(progress.checksum());
        if range.end == total {
            // The last step's progress is recorded together with the final state below.
            if transaction {
                if let Err(e) = backend.commit().await? {
                    return Err(failure(m, script, range.end - 1, e, false, &[], Way::Up));
                }
            }
            break;
        }
        if transaction {
            if let Err(e) = backend.update_row(&row).await {
                backend.rollback().await;
                return Err(e);
            }
            if let Err(e) = backend.commit().await? {
                return Err(failure(m, script, range.end - 1, e, false, &[], Way::Up));
            }
        } else {
            if matches!(step, Segment::Locked(_)) && session {
                // A region that never unlocked: the tool's own table is not locked for it.
                // The migration goes on, so its user variables stay.
                backend.reset_session(&[]).await?;
            }
            record(backend, &row, session).await?;
        }
    }
    if session {
        backend
            .reset_session(&script.user_variables(dialect))
            .await?;
    }
    row.state = State::Applied;
    row.statements_done = total as u32;
    row.execution_ms = started.elapsed().as_millis() as u64;
    row.applied_at = history::now_utc();
    record(backend, &row, session).await?;
    observe(Event::Done {
        migration: m,
        reverting: false,
        execution_ms: row.execution_ms,
    });
    Ok(row)
}

/// Statements as (1-based number, line) pairs, for a failure's list of committed ones.
fn numbered(statements: &[crate::source::splitter::Statement]) -> Vec<(usize, u32)> {
    statements
        .iter()
        .enumerate()
        .map(|(k, s)| (k + 1, s.line))
        .collect()
}

/// Writes a history row outside a group. For a migration that may have changed the session
/// (`session`), in a transaction of its own, so that the row is committed whatever the file
/// did (`SET autocommit = 0`); otherwise as one autocommitted statement.
async fn record<B: Backend>(backend: &mut B, row: &Row, session: bool) -> Result<()> {
    if !session {
        return backend.update_row(row).await;
    }
    backend.begin(TxOptions::default()).await?;
    if let Err(e) = backend.update_row(row).await {
        backend.rollback().await;
        return Err(e);
    }
    match backend.commit().await? {
        Ok(()) => Ok(()),
        Err(e) => Err(Error::Database(format!(
            "recording the progress of migration {}: {}",
            row.version, e.message
        ))),
    }
}

/// The connection went away during statement `index`: nothing more can be recorded.
fn lost(m: &Migration, script: &Script, index: usize, e: StatementError, atomic: bool) -> Error {
    let line = script.statements.get(index).map_or(1, |s| s.line);
    let state = if atomic {
        "its transaction was not committed, so the server rolls it back and it stays pending"
            .to_string()
    } else {
        format!(
            "it is recorded as failed with {index} of {} statements done; check whether statement {} took effect, then settle it: finish it by hand and run `aurweb-migrate resolve {v} --applied`, undo it by hand and run `aurweb-migrate resolve {v} --rolled-back`, or (statement {} had no effect) run `aurweb-migrate upgrade --resume`",
            script.statements.len(),
            index + 1,
            index + 1,
            v = m.version
        )
    };
    Error::Database(format!(
        "{}:{line}: {}
the connection was lost while migration {} ran statement {} of {}; {state}",
        script.path.display(),
        e.message,
        m.version,
        index + 1,
        script.statements.len()
    ))
}

/// Which way a failing script ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    Up,
    /// Reverting, in a `downgrade --to` this version.
    Down(u64),
}

fn failure(
    m: &Migration,
    script: &Script,
    index: usize,
    e: StatementError,
    rolled_back: bool,
    committed: &[(usize, u32)],
    way: Way,
) -> Error {
    // The file's line: the statement's first line, moved down to the line the database named
    // within it (a syntax error deep in a DELIMITER block).
    let line = script.statements.get(index).map_or(1, |s| s.line) + e.line.map_or(0, |l| l - 1);
    let v = m.version;
    let next_steps = match (rolled_back, way) {
        (true, Way::Up) => vec![format!(
            "fix {} and run `aurweb-migrate upgrade` again",
            script.path.display()
        )],
        (true, Way::Down(to)) => vec![
            format!("nothing of the revert was committed: {v} is still applied"),
            format!(
                "fix {} and run `aurweb-migrate downgrade --to {to}` again",
                script.path.display()
            ),
        ],
        (false, Way::Up) if committed.is_empty() => vec![
            "it is recorded as failed, with none of its statements committed".to_string(),
            format!(
                "fix statement {} in {} and run `aurweb-migrate upgrade --resume`, or run `aurweb-migrate resolve {v} --rolled-back` to make it pending again",
                index + 1,
                script.path.display()
            ),
        ],
        (false, Way::Up) => vec![
            format!(
                "it is recorded as failed after {} of {} statements; undo or finish its work by hand, then record what you did:",
                committed.len(),
                script.statements.len()
            ),
            format!("  aurweb-migrate resolve {v} --rolled-back   (you undid the committed statements)"),
            format!("  aurweb-migrate resolve {v} --applied       (you completed the rest by hand)"),
            format!("or fix statement {} in the file and run `aurweb-migrate upgrade --resume`", index + 1),
        ],
        (false, Way::Down(_)) => vec![
            format!(
                "it is recorded as failed after {} of {} reverse statements; finish or undo the revert by hand, then record what you did:",
                committed.len(),
                script.statements.len()
            ),
            format!("  aurweb-migrate resolve {v} --rolled-back   (you finished the revert: the migration is no longer in effect)"),
            format!("  aurweb-migrate resolve {v} --applied       (you restored what the reverse statements undid)"),
        ],
    };
    Error::MigrationFailed(Box::new(MigrationFailure {
        version: v,
        path: script.path.clone(),
        line,
        message: e.message,
        statement: index + 1,
        total: script.statements.len(),
        rolled_back,
        reverting: matches!(way, Way::Down(_)),
        committed: committed.to_vec(),
        next_steps,
    }))
}

trait SingleTransaction {
    fn single_transaction(self) -> Self;
}

impl SingleTransaction for Error {
    /// Under `--single-transaction` the whole run rolled back, not just this migration.
    fn single_transaction(self) -> Self {
        match self {
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
}

/// What `downgrade [--to T]` reverts on `history`: the version it stays at (without `--to`,
/// the one below the newest recorded, so that exactly one is reverted) and the steps, newest
/// first; or the refusal. Shared by `downgrade` and `downgrade --dry-run`.
pub fn downgrade_plan<'a>(
    set: &'a MigrationSet,
    history: &'a [Row],
    to: Option<u64>,
) -> Result<(u64, Vec<(&'a Migration, &'a Row)>)> {
    let target = to.unwrap_or_else(|| history::below_current(history));
    let ov = plan::overview(&set.migrations, history, true);
    let steps = plan::downgrade(&ov, target).map_err(|r| match r {
        DowngradeRefusal::Problems(p) => Error::Refused(p),
        DowngradeRefusal::NoReverse(versions) => Error::no_reverse(&versions),
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
        let dialect = backend.dialect();
        for (m, recorded) in steps {
            let down = m.down.as_ref().expect("planner checked reverse files");
            let started = Instant::now();
            backend.begin(tx_options(down)).await?;
            observe(Event::Start {
                migration: m,
                reverting: true,
            });
            if down.atomic(dialect) {
                if let Err((i, e)) = run_statements(backend, m, down, 0, usize::MAX, observe).await
                {
                    if e.kind == StatementErrorKind::ConnectionLost {
                        return Err(lost(m, down, i, e, true));
                    }
                    backend.rollback().await;
                    return Err(failure(m, down, i, e, true, &[], Way::Down(target)));
                }
                if let Err(e) = backend.delete_row(m.version).await {
                    backend.rollback().await;
                    return Err(e);
                }
                if let Err(e) = backend.commit().await? {
                    let n = down.statements.len();
                    return Err(failure(
                        m,
                        down,
                        n.saturating_sub(1),
                        e,
                        true,
                        &[],
                        Way::Down(target),
                    ));
                }
            } else {
                revert_stepwise(backend, m, down, recorded.clone(), target, observe).await?;
            }
            let ms = started.elapsed().as_millis() as u64;
            observe(Event::Done {
                migration: m,
                reverting: true,
                execution_ms: ms,
            });
            outcome.applied.push(Applied {
                version: m.version,
                description: m.description(),
                execution_ms: ms,
            });
            remaining.retain(|r| r.version != m.version);
        }
        outcome.current = current(&remaining);
        Ok(outcome)
    })
    .await
}

/// A reverse file that cannot run in one transaction: the version is marked `failed` (with
/// no progress checksum, so `--resume` never takes it for a half-done upgrade) before the
/// first reverse statement, and its row is deleted after the last.
async fn revert_stepwise<B: Backend>(
    backend: &mut B,
    m: &Migration,
    down: &Script,
    recorded: Row,
    target: u64,
    observe: Observer<'_>,
) -> Result<()> {
    let total = down.statements.len();
    let mut row = recorded.clone();
    row.state = State::Failed;
    row.progress_checksum = None;
    row.error = Some(format!(
        "{}{} (0 of {total} reverse statements done)",
        history::REVERT_STARTED,
        down.path.display()
    ));
    if let Err(e) = backend.update_row(&row).await {
        backend.rollback().await;
        return Err(e);
    }
    if let Err(e) = backend.commit().await? {
        return Err(Error::Database(e.message));
    }
    for (i, st) in down.statements.iter().enumerate() {
        observe(Event::Statement {
            migration: m,
            number: i + 1,
            total,
            line: st.line,
        });
        if let Err(e) = backend.execute(st.text(&down.text)).await {
            if e.kind == StatementErrorKind::ConnectionLost {
                return Err(lost(m, down, i, e, false));
            }
            if i == 0 {
                // A failed statement takes no effect: nothing of the revert is committed, so
                // the version is applied as before and `downgrade` can simply run again.
                backend.update_row(&recorded).await?;
                return Err(failure(m, down, i, e, true, &[], Way::Down(target)));
            }
            row.error = Some(format!(
                "{}{}:{} failed after {i} of {total} reverse statements: {}",
                history::REVERT_FAILED,
                down.path.display(),
                st.line,
                e.message
            ));
            backend.update_row(&row).await?;
            let committed = numbered(&down.statements[..i]);
            return Err(failure(m, down, i, e, false, &committed, Way::Down(target)));
        }
    }
    backend.delete_row(m.version).await
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
        return Err(Error::Usage(format!(
            "version {target} is not a migration in {}",
            set.dir.display()
        )));
    }
    with_lock(backend, async |b| {
        in_transaction(b, async |backend| {
            let history = backend.read_history().await?;
            let ov = plan::overview(&set.migrations, &history, true);
            if mode == StampMode::Baseline && !history.is_empty() {
                // Advice that works as printed: `stamp` only when it has something to record.
                let pending = ov.pending().filter(|e| e.version <= target).count();
                let next = if pending == 0 {
                    format!(
                        "every version up to {target} is already recorded (current version: {}); there is nothing to baseline",
                        current(&history).unwrap_or_default()
                    )
                } else {
                    format!("use `aurweb-migrate stamp {target}` to record the {pending} pending version(s) up to {target}")
                };
                return Err(Error::Usage(format!(
                    "the database already has a history ({} recorded versions); `baseline` adopts a database without one; {next}",
                    history.len()
                )));
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
                return Err(Error::Usage(format!(
                    "version {version} is not recorded in the database; nothing to resolve"
                )));
            };
            let mut all = history.clone();
            if resolution == Resolution::AcceptEdit {
                let edit = accept_edit(backend, row, file).await?;
                if let Some(e) = &edit {
                    all.retain(|r| r.version != version);
                    let mut row = row.clone();
                    row.checksum = e.checksum.clone();
                    all.push(row);
                }
                return Ok(Settled {
                    changed: edit.is_some(),
                    current: current(&all),
                    edit,
                });
            }
            if row.state != State::Failed {
                return Err(Error::Usage(format!(
                    "version {version} is {}, not failed; nothing to resolve",
                    row.state.as_str()
                )));
            }
            match resolution {
                Resolution::Applied => {
                    let mut row = row.clone();
                    row.state = State::Applied;
                    row.statements_done = row.statements_total;
                    if let Some(f) = &file {
                        row.checksum = f.checksum.clone();
                        row.statements_checksum = Some(f.statements_checksum.clone());
                    }
                    row.error = None;
                    row.applied_at = history::now_utc();
                    row.applied_by = history::whoami();
                    backend.update_row(&row).await?;
                    all.retain(|r| r.version != version);
                    all.push(row);
                }
                Resolution::RolledBack => {
                    backend.delete_row(version).await?;
                    all.retain(|r| r.version != version);
                }
                Resolution::AcceptEdit => unreachable!("handled above"),
            }
            Ok(Settled {
                changed: true,
                current: current(&all),
                edit: None,
            })
        })
        .await
    })
    .await
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
        return Err(Error::Usage(format!(
            "version {version} failed; settle it with `resolve {version} --applied` or `--rolled-back` (--accept-edit is for an applied file that was edited)"
        )));
    }
    let Some(file) = file else {
        return Err(Error::Usage(format!(
            "version {version} has no file in the migrations directory: there is no edit to accept"
        )));
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
