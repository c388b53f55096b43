//! The commands that run migrations: `upgrade` (with `--dry-run`, and `--sql`, which writes
//! the script without connecting) and `downgrade`. The road (build from schema / replay /
//! refuse) is the runner's one decision (`run/road.rs`), which the dry run reads through
//! [`run::preview`] and the real run takes inside its lock.

use super::request::UpgradeFlags;
use super::session::{plain, Failure, Session};
use crate::backend::{Access, Backend, StatementError, StatementErrorKind};
use crate::compare::{ddl, probes};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::history::Row;
use crate::plan::{RunMode, Target, UpgradeOptions};
use crate::report;
use crate::run::script;
use crate::run::{self, Event, Outcome};
use crate::source::{MigrationSet, SchemaFile};

/// The schema file the run may build from (none with `--replay`), and the run's options —
/// checked against the migration set before anything is written.
fn prepare(
    s: &Session<'_>,
    set: &MigrationSet,
    flags: UpgradeFlags,
) -> Result<(Option<SchemaFile>, UpgradeOptions)> {
    let target = run::target(set, flags.to)?;
    // The files after --to do not run: their review markers wait for a later run.
    set.refuse_unreviewed_through(flags.to)?;
    if flags.no_probes && gates(s).any() {
        return Err(Error::GatesWithoutRehearsal);
    }
    let schema = if flags.replay { None } else { s.schema()? };
    if let Some(f) = &schema {
        f.check(set)?;
    }
    let options = UpgradeOptions {
        target,
        mode: if flags.single_transaction {
            RunMode::SingleTransaction
        } else {
            RunMode::PerMigration
        },
        allow_out_of_order: flags.allow_out_of_order,
        resume: flags.resume,
    };
    Ok((schema, options))
}

/// Refuses a run to `target` on `history` when a file it would apply (or record, building from
/// the schema file) holds no statements and does not say so on purpose (exit 2).
fn refuse_statementless(set: &MigrationSet, history: &[Row], target: Target) -> Result<()> {
    let overview = crate::plan::overview(&set.migrations, history, true);
    crate::source::refuse_statementless(overview.pending_through(target))
}

/// The DDL gates of the run (`--max-algorithm`, `--max-lock`): none on SQLite, where the
/// settings warned that they are ignored.
pub(super) fn gates(s: &Session<'_>) -> ddl::Gates {
    if s.dialect() == Dialect::Sqlite {
        return ddl::Gates::default();
    }
    ddl::Gates {
        max_algorithm: s.settings.max_algorithm.value.clone(),
        max_lock: s.settings.max_lock.value.clone(),
    }
}

/// The gates against the rehearsal's plan: the statements over them refuse the run
/// ([`Error::DdlGate`]), as does a rehearsal that did not prove every statement.
fn check_gates(gates: &ddl::Gates, rehearsal: &crate::compare::rehearsal::Rehearsal) -> Result<()> {
    if !gates.any() {
        return Ok(());
    }
    let offending: Vec<(ddl::Ddl, String)> = rehearsal
        .ddl
        .iter()
        .filter_map(|d| gates.over(d).map(|why| (d.clone(), why)))
        .collect();
    let unproven = match (&rehearsal.stopped, rehearsal.unproven.as_slice()) {
        (Some(why), _) => Some(why.clone()),
        (None, []) => None,
        (None, lines) => Some(format!(
            "the server accepted no ALGORITHM/LOCK clause for {} on the copy",
            lines.join(", ")
        )),
    };
    if offending.is_empty() && unproven.is_none() {
        return Ok(());
    }
    Err(Error::DdlGate {
        offending,
        unproven,
    })
}

/// `upgrade --dry-run`: what the real run would do, read-only.
pub(super) async fn dry_run(s: &Session<'_>, flags: UpgradeFlags) -> Result<i32> {
    let loaded = s.load_and_open(Access::ReadOnly).await?;
    let (set, history) = (&loaded.set, &loaded.history);
    let decided = async |mut conn: Option<&mut crate::backend::Connection>| {
        let (schema, options) = prepare(s, set, flags)?;
        refuse_statementless(set, history, options.target)?;
        // On a cluster node, what the pending files do that Galera handles badly.
        if conn.as_ref().is_some_and(|c| c.cluster().is_some()) && !s.request.quiet {
            let ov = crate::plan::overview(&set.migrations, history, true);
            for w in ov.cluster_warnings() {
                report::warn(&w);
            }
        }
        let galera = conn.as_ref().is_some_and(|c| c.cluster().is_some());
        let preview =
            run::preview(conn.as_deref_mut(), set, history, schema.as_ref(), options).await?;
        // Only when migrations would run on the live tables: a no-op costs nothing more.
        // A rehearsal that cannot run (no scratch database may be made) is said, not fatal.
        let mut violations = Vec::new();
        // A probe that could not run (a timeout) is not passed: the dry run exits non-zero.
        let mut probes_failed = None;
        let rehearsal = match conn {
            Some(c)
                if preview.install.is_none() && !preview.steps.is_empty() && !flags.no_probes =>
            {
                let r = rehearse(s, c, &preview.steps).await?;
                let first = probes::before(&preview.steps, &r.tightenings);
                match timed_probes(c, &first).await {
                    Ok(v) => violations = v,
                    Err(e) => {
                        report::warn(format!(
                            "the probes of the live rows could not run: {e}; the violations they would have found are not listed"
                        ));
                        probes_failed = Some(e.exit_code());
                    }
                }
                r
            }
            _ => Default::default(),
        };
        if let Some(why) = &rehearsal.stopped {
            report::warn(format!(
                "the rehearsal of the pending statements on an empty copy of the tables did not finish: {why}; what it would have found after that is not listed"
            ));
        }
        if flags.no_probes && !s.request.quiet {
            report::warn(NO_PROBES);
        }
        let when: Vec<Option<probes::When>> = rehearsal
            .tightenings
            .iter()
            .map(|f| (!flags.no_probes).then(|| probes::when(&preview.steps, f)))
            .collect();
        // Over the gates: the real run would be refused (exit 8); the plan says which.
        let over = check_gates(&gates(s), &rehearsal).err();
        let code = match (&over, violations.is_empty()) {
            (Some(e), _) => e.exit_code(),
            (None, false) => Error::DataViolation {
                violations: Vec::new(),
                during: None,
            }
            .exit_code(),
            (None, true) => probes_failed.unwrap_or(0),
        };
        s.emit(&report::DryRun {
            preview: &preview,
            set,
            dialect: s.dialect(),
            tightenings: &rehearsal.tightenings,
            when: &when,
            violations: &violations,
            ddl: &rehearsal.ddl,
            gates: &gates(s),
            galera,
            ok: code == 0,
        });
        if let (Some(e), false) = (over, s.request.quiet) {
            report::warn(e.to_string());
        }
        Ok(code)
    };
    match loaded.conn {
        Some(conn) => {
            s.with_connection(conn, async |c| decided(Some(c)).await)
                .await
        }
        None => decided(None).await,
    }
}

/// What `check` and `status -v` learn of the pending migrations when they would run on live
/// tables: the rehearsal's tightenings, where each is probed, and (with `probe`) the
/// violations of those probed before the run. Empty when nothing is pending, on an empty
/// database, or when the history refuses a run (the planner's findings say why).
#[derive(Default)]
pub(super) struct Pending {
    pub tightenings: Vec<crate::compare::rehearsal::Found>,
    /// The DDL plan (MySQL/MariaDB).
    pub ddl: Vec<ddl::Ddl>,
    pub when: Vec<Option<probes::When>>,
    pub violations: Vec<crate::schema::probe::Violation>,
    /// The exit code of the error that stopped the probes (a timeout), said on stderr.
    pub probes_failed: Option<i32>,
}

pub(super) async fn rehearse_pending(
    s: &Session<'_>,
    c: &mut crate::backend::Connection,
    set: &MigrationSet,
    history: &[Row],
    probe: bool,
) -> Result<Pending> {
    let mut out = Pending::default();
    let options = UpgradeOptions {
        target: run::target(set, None)?,
        mode: RunMode::PerMigration,
        allow_out_of_order: false,
        resume: false,
    };
    if history.is_empty() {
        return Ok(out);
    }
    let Ok(preview) = run::preview(Some(&mut *c), set, history, None, options).await else {
        return Ok(out);
    };
    if preview.install.is_some() || preview.steps.is_empty() {
        return Ok(out);
    }
    let r = rehearse(s, c, &preview.steps).await?;
    if let (Some(why), false) = (&r.stopped, s.request.quiet) {
        report::warn(format!(
            "the rehearsal of the pending statements on an empty copy of the tables did not finish: {why}; what it would have found after that is not listed"
        ));
    }
    if probe {
        let first = probes::before(&preview.steps, &r.tightenings);
        match probes::probe(c, &first).await {
            Ok(v) => out.violations = v,
            Err(e) => {
                report::warn(format!(
                    "the probes of the live rows could not run: {e}; the violations they would have found are not listed"
                ));
                out.probes_failed = Some(e.exit_code());
            }
        }
    }
    out.when = r
        .tightenings
        .iter()
        .map(|f| probe.then(|| probes::when(&preview.steps, f)))
        .collect();
    out.tightenings = r.tightenings;
    out.ddl = r.ddl;
    Ok(out)
}

/// The rehearsal of `steps` on an empty copy of the tables of `c`; one that cannot run (no
/// scratch database may be made) is said in `stopped`, not fatal; a signal is.
async fn rehearse(
    s: &Session<'_>,
    c: &mut crate::backend::Connection,
    steps: &[crate::plan::Step<'_>],
) -> Result<crate::compare::rehearsal::Rehearsal> {
    let place = s.place();
    let stop = crate::run::signalled(
        "the rehearsal was stopped and its scratch database removed; nothing was written to the database",
    );
    match crate::compare::rehearsal::rehearse(c, &place, steps, &s.table, s.timeouts, stop).await {
        Err(e @ Error::Interrupted { .. }) => Err(e),
        Err(e) => Ok(crate::compare::rehearsal::Rehearsal {
            tightenings: Vec::new(),
            ddl: Vec::new(),
            unproven: Vec::new(),
            stopped: Some(format!("it could not run: {e}")),
        }),
        Ok(r) => Ok(r),
    }
}

/// The probes of the live rows for what the rehearsal found, timed for `-vv`.
async fn timed_probes(
    c: &mut crate::backend::Connection,
    found: &[&crate::compare::rehearsal::Found],
) -> Result<Vec<crate::schema::probe::Violation>> {
    let started = std::time::Instant::now();
    let result = probes::probe(c, found).await;
    tracing::debug!(
        tightenings = found.len(),
        ms = (started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0,
        "probes"
    );
    result
}

const NO_PROBES: &str = "--no-probes: the pending statements are not rehearsed on an empty copy of the tables, and the live rows are not probed for values a new key or NOT NULL would reject";

/// Before the real run: when migrations would run on live tables (not on an empty database,
/// and not when nothing is pending), the rehearsal and the probes of the live rows. A
/// violation of a tightening probed before the run refuses it before anything of it is
/// written; the others are returned, to be probed during the run ([`InFlight`]).
async fn probe_first(
    s: &Session<'_>,
    c: &mut crate::backend::Connection,
    set: &MigrationSet,
    schema: Option<&SchemaFile>,
    options: UpgradeOptions,
    history: &[Row],
) -> Result<InFlight> {
    let mut later = InFlight::default();
    // What refuses the run (a failed migration, a conflict) is the runner's to say, under
    // its lock: the probes then just do not run.
    if history.is_empty() {
        return Ok(later);
    }
    let Ok(preview) = run::preview(Some(&mut *c), set, history, schema, options).await else {
        return Ok(later);
    };
    if preview.install.is_some() || preview.steps.is_empty() {
        return Ok(later);
    }
    let rehearsal = rehearse(s, c, &preview.steps).await?;
    check_gates(&gates(s), &rehearsal)?;
    if gates(s).any() {
        later.enforce = enforcement(&preview.steps, &rehearsal.ddl);
    }
    if let Some(why) = &rehearsal.stopped {
        if !s.request.quiet {
            report::warn(format!(
                "the rehearsal of the pending statements on an empty copy of the tables did not finish: {why}; the live rows were probed for what it found up to there"
            ));
        }
    }
    let mut first = Vec::new();
    for f in &rehearsal.tightenings {
        match probes::when(&preview.steps, f) {
            probes::When::Before => first.push(f),
            probes::When::During { version, index } => {
                later.probes.push((version, index, f.clone()))
            }
            probes::When::Not { .. } => {}
        }
    }
    // A probe that fails (a timeout) is never passed: the run stops before anything of it.
    let violations = timed_probes(c, &first).await?;
    if violations.is_empty() {
        return Ok(later);
    }
    Err(Error::DataViolation {
        violations,
        during: None,
    })
}

/// Each planned DDL statement with its proven clause appended: (version, 0-based statement
/// index, clause, statement).
fn enforcement(
    steps: &[crate::plan::Step<'_>],
    plan: &[ddl::Ddl],
) -> Vec<(u64, usize, String, String)> {
    let mut out = Vec::new();
    for d in plan {
        let Some(m) = steps
            .iter()
            .map(|s| s.migration)
            .find(|m| m.version == d.version)
        else {
            continue;
        };
        if let Some(i) = m.up.statements.iter().position(|st| st.line == d.line) {
            if let Some(sql) = ddl::enforced(m.up.statement_text(i), d) {
                out.push((d.version, i, d.clause(), sql));
            }
        }
    }
    out
}

/// The probes made during the run, right before a statement, of tightenings whose table an
/// earlier statement of the run writes; and, with a DDL gate set, the proven clause each
/// planned DDL statement runs with.
#[derive(Default)]
struct InFlight {
    /// (version, 0-based statement index, tightening).
    probes: Vec<(u64, usize, crate::compare::rehearsal::Found)>,
    /// (version, 0-based statement index, clause, statement with it).
    enforce: Vec<(u64, usize, String, String)>,
}

impl run::PreCheck<crate::backend::Connection> for InFlight {
    fn wants(&self, version: u64, index: usize) -> bool {
        self.probes
            .iter()
            .any(|(v, i, _)| *v == version && *i == index)
    }

    fn enforced(&self, version: u64, index: usize) -> Option<(String, String)> {
        self.enforce
            .iter()
            .find(|(v, i, _, _)| *v == version && *i == index)
            .map(|(_, _, clause, sql)| (clause.clone(), sql.clone()))
    }

    fn check<'a>(
        &'a self,
        backend: &'a mut crate::backend::Connection,
        version: u64,
        index: usize,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<(), StatementError>> + 'a>,
    > {
        Box::pin(async move {
            let here: Vec<&crate::compare::rehearsal::Found> = self
                .probes
                .iter()
                .filter(|(v, i, _)| *v == version && *i == index)
                .map(|(_, _, f)| f)
                .collect();
            match probes::probe(backend, &here).await {
                Ok(v) if v.is_empty() => Ok(()),
                Ok(violations) => Err(StatementError {
                    message: "not run: the probes of the live rows, as the statements before it left them, found rows that a pending statement would reject".to_string(),
                    kind: StatementErrorKind::Refused,
                    line: None,
                    violations,
                    blockers: Vec::new(),
                }),
                Err(e) => Err(StatementError::failed(format!(
                    "not run: the probe of the live rows before it failed: {e}"
                ))),
            }
        })
    }
}

/// `upgrade`: validate, then apply (or build from the schema file), a line per migration as it
/// finishes.
pub(super) async fn upgrade(
    s: &Session<'_>,
    flags: UpgradeFlags,
) -> std::result::Result<i32, Failure> {
    // The history is read as the database opens (on SQLite its first statement parses the
    // schema, overlapping the reading of a large set of files); unlocked, it serves the probes
    // and the runner's no-op check.
    let loaded = s.load_and_open(Access::ReadWrite).await.map_err(plain)?;
    let set = loaded.set;
    // `None`: the SQLite file is yet to be created, and its history is read once it is.
    let read = loaded.conn.is_some().then_some(loaded.history);
    let prepared = prepare(s, &set, flags);
    let (schema, options) = match prepared {
        Ok(p) => p,
        Err(e) => {
            if let Some(conn) = loaded.conn {
                conn.close().await;
            }
            return Err(plain(e));
        }
    };
    let conn = match loaded.conn {
        Some(conn) => conn,
        // A SQLite file yet to be created has no history: its files are checked first.
        None => {
            refuse_statementless(&set, &[], options.target).map_err(plain)?;
            s.open().await.map_err(plain)?
        }
    };
    let mut progress = Progress::new(s);
    if flags.no_probes && !s.request.quiet {
        report::warn(NO_PROBES);
    }
    // A run that will find nothing to do (the history read already has every planned
    // version: the runner decides the same from the same history) runs no statement, so no
    // thread is started to stop statements on a signal (start-up cost, issue 31 item 3).
    let watch = read
        .as_ref()
        .is_none_or(|history| run::nothing_to_do(&set, history, options).is_none());
    let result = interruptible(
        s,
        &set,
        watch,
        s.with_connection(conn, async |c| {
            let history = match read {
                Some(history) => history,
                None => c.read_history().await?,
            };
            refuse_statementless(&set, &history, options.target)?;
            let later = match flags.no_probes {
                true => InFlight::default(),
                false => probe_first(s, c, &set, schema.as_ref(), options, &history).await?,
            };
            let checks: run::Checks<'_, crate::backend::Connection> =
                (!later.probes.is_empty() || !later.enforce.is_empty()).then_some(&later);
            run::upgrade_after_read(
                c,
                &set,
                options,
                schema.as_ref(),
                history,
                checks,
                &mut |e| progress.event(e),
            )
            .await
        }),
    )
    .await;
    finish(s, result, progress, "applied", "applied").await
}

/// `upgrade --sql`: the upgrade as an SQL script, without connecting.
pub(super) fn script(
    s: &Session<'_>,
    dialect: Option<Dialect>,
    from: Option<u64>,
    to: Option<u64>,
    replay: bool,
) -> Result<i32> {
    let (dialect, set) = script_set(s, dialect)?;
    let schema = if replay || from.is_some() {
        None
    } else {
        s.schema_for(dialect)?
    };
    let target = run::target(&set, to)?;
    set.refuse_unreviewed_through(to)?;
    // The database is at `from` (empty without it): the versions after it are to run.
    crate::source::refuse_statementless(
        set.migrations
            .iter()
            .filter(|m| from.is_none_or(|f| m.version > f) && target.includes(m.version)),
    )?;
    let options = script_options(s, dialect, from, target, replay);
    let script = script::upgrade_script(&set, schema.as_ref(), &options)?;
    s.emit(&report::Script(script));
    Ok(0)
}

/// What both `--sql` commands start from: no JSON (the output is a script), and the migrations
/// of the dialect written for (each command refuses the unreviewed files it would write).
fn script_set(s: &Session<'_>, dialect: Option<Dialect>) -> Result<(Dialect, MigrationSet)> {
    if s.json() {
        return Err(Error::ScriptAsJson);
    }
    let dialect = dialect.unwrap_or_else(|| s.dialect());
    let set = s.load_for(dialect)?;
    Ok((dialect, set))
}

fn script_options(
    s: &Session<'_>,
    dialect: Dialect,
    from: Option<u64>,
    target: crate::plan::Target,
    replay: bool,
) -> script::ScriptOptions {
    script::ScriptOptions {
        dialect,
        from,
        target,
        replay,
        table: s.table.clone(),
        lock_timeout: s.settings.lock_timeout.value.as_secs(),
    }
}

/// `downgrade --sql --from V [--to T]`: the downgrade as an SQL script, without connecting.
pub(super) fn downgrade_script(
    s: &Session<'_>,
    dialect: Option<Dialect>,
    from: u64,
    to: Option<u64>,
) -> Result<i32> {
    let (dialect, set) = script_set(s, dialect)?;
    set.refuse_unreviewed()?;
    // Without --to: the version below --from among the files (one migration).
    let target = to.unwrap_or_else(|| {
        set.migrations
            .iter()
            .map(|m| m.version)
            .filter(|&v| v < from)
            .max()
            .unwrap_or(0)
    });
    let options = script_options(
        s,
        dialect,
        Some(from),
        crate::plan::Target::Version(target),
        false,
    );
    let script = script::downgrade_script(&set, &options)?;
    s.emit(&report::Script(script));
    Ok(0)
}

/// `downgrade --to V`: reverse files, newest first.
pub(super) async fn downgrade(
    s: &Session<'_>,
    to: Option<u64>,
    dry_run: bool,
) -> std::result::Result<i32, Failure> {
    let set = s.load().map_err(plain)?;
    set.refuse_unreviewed().map_err(plain)?;
    if let Some(v) = to.filter(|&v| v > 0) {
        set.known("--to", v).map_err(plain)?;
    }
    if dry_run {
        return downgrade_preview(s, &set, to).await.map_err(plain);
    }
    let conn = s.open().await.map_err(plain)?;
    let mut progress = Progress::new(s);
    let result = interruptible(
        s,
        &set,
        true,
        s.with_connection(conn, async |c| {
            run::downgrade(c, &set, to, &mut |e| progress.event(e)).await
        }),
    )
    .await;
    finish(s, result, progress, "reverted", "reverted").await
}

/// Runs `work` (which holds the run's connection) until it ends or SIGINT/SIGTERM arrives.
/// On a signal the work is dropped with its connection — SQLite rolls the open transaction
/// back as the connection goes; on MySQL the server is told to end the connection, which
/// cancels the running statement, rolls back its transaction and releases the run lock — and
/// the error says, from the history read again, what state the database is in. `watch`: also
/// stop SQLite statements from a thread of their own ([`crate::backend::SignalWatch`]).
async fn interruptible<T>(
    s: &Session<'_>,
    set: &crate::source::MigrationSet,
    watch: bool,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return work.await;
    };
    let _watch = watch.then(crate::backend::SignalWatch::start);
    // Boxed, so that it can be dropped (with its connection) before the history is read again.
    let mut work = Box::pin(work);
    // The signal first: a statement it stopped must not end the run as a failed migration.
    let ended = tokio::select! {
        biased;
        _ = int.recv() => Err("SIGINT"),
        _ = term.recv() => Err("SIGTERM"),
        r = &mut work => Ok(r),
    };
    let which = match ended {
        Err(which) => which,
        // The signal thread stopped a statement that held the runtime's thread, and the work
        // ended in the same poll, before the signal could be seen: it failed because of it.
        Ok(Err(e)) => match signal_seen(&mut int, &mut term).await {
            Some(which) => which,
            None => return Err(e),
        },
        Ok(done) => return done,
    };
    // SQLite: the statement is stopped while its connection is still there to be told.
    crate::backend::interrupt_statements();
    drop(work);
    crate::backend::interrupt(s.timeouts.connect).await;
    let state = match s.read_history().await {
        Ok(history) => {
            let ov = crate::plan::overview(&set.migrations, &history, true);
            let mut state = format!(
                "the running statement was stopped and its open transaction rolled back, and the migration lock is released; the database is at version {}, {} pending",
                crate::history::current(&history).map_or("none".to_string(), |v| v.to_string()),
                ov.pending().count()
            );
            for p in &ov.problems {
                state.push_str(&format!("\n  {p}"));
            }
            state
        }
        Err(e) => format!("the history could not be read afterwards: {e}"),
    };
    Err(Error::Interrupted {
        signal: which,
        state,
    })
}

/// The signal that has arrived, if one has (without waiting).
async fn signal_seen(
    int: &mut tokio::signal::unix::Signal,
    term: &mut tokio::signal::unix::Signal,
) -> Option<&'static str> {
    tokio::select! {
        biased;
        _ = int.recv() => Some("SIGINT"),
        _ = term.recv() => Some("SIGTERM"),
        () = std::future::ready(()) => None,
    }
}

/// `downgrade --dry-run`: the reverse files that would run, newest first, nothing written.
async fn downgrade_preview(
    s: &Session<'_>,
    set: &crate::source::MigrationSet,
    to: Option<u64>,
) -> Result<i32> {
    let history = s.read_history().await?;
    let (target, steps) = run::downgrade_plan(set, &history, to)?;
    let migrations: Vec<&crate::source::Migration> = steps.iter().map(|s| s.migration).collect();
    s.emit(&report::DowngradePreview {
        steps: &migrations,
        target,
        dialect: s.dialect(),
    });
    Ok(0)
}

/// The result of a run that may have changed something before it failed.
async fn finish(
    s: &Session<'_>,
    result: Result<Outcome>,
    mut progress: Progress,
    json_key: &'static str,
    verb: &str,
) -> std::result::Result<i32, Failure> {
    progress.live.clear();
    match result {
        Ok(outcome) => {
            s.emit(&report::Changes {
                outcome: &outcome,
                key: json_key,
                verb,
            });
            Ok(0)
        }
        Err(e) => {
            // The run's outcome never learnt the version the database is at; read it again
            // (read-only) so a JSON error document does not claim `current: null`.
            let mut partial = progress.partial;
            if let Ok(history) = s.read_history().await {
                partial.current = crate::history::current(&history);
            }
            Err((e, Some((partial, json_key))))
        }
    }
}

/// Prints a line per finished migration (human format) and keeps what ran, so a failure can
/// still say what changed before it. On a terminal it also draws the live progress line on
/// stderr (either format).
struct Progress {
    human: bool,
    /// `-q`: no warnings either.
    quiet: bool,
    partial: Outcome,
    live: crate::report::progress::LiveLine,
}

impl Progress {
    fn new(s: &Session<'_>) -> Self {
        Progress {
            human: !s.json() && !s.request.quiet,
            quiet: s.request.quiet,
            partial: Outcome::default(),
            live: crate::report::progress::LiveLine::new(crate::report::progress::wanted(
                s.request.quiet,
            )),
        }
    }

    fn event(&mut self, e: Event<'_>) {
        self.live.event(&e);
        if let Event::Edited { migration } = e {
            if !self.quiet {
                report::warn(crate::plan::warnings::Warning::edited(migration));
            }
        }
        if let (Event::OldTransactions(old), false) = (&e, self.quiet) {
            report::warn(report::old_transactions(old));
        }
        if let Event::Done {
            migration,
            reverting,
            execution_ms,
        } = e
        {
            if self.human {
                report::print(&report::done_line(
                    migration.version,
                    &migration.description(),
                    reverting,
                    execution_ms,
                ));
            }
            self.partial.applied.push(run::Applied {
                version: migration.version,
                description: migration.description(),
                execution_ms,
            });
        }
    }
}
