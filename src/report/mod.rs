//! Human and JSON output: the only place text layout lives. Functions here build strings and
//! JSON values; the caller decides where they go (results on stdout, progress and logs on
//! stderr). JSON documents carry `"format_version": 1`; versions are integers.

pub mod progress;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::io::IsTerminal;

use serde_json::{json, Value};

use crate::compare::probes::When;
use crate::compare::rehearsal::Found;
use crate::dialect::Dialect;
use crate::error::Error;
use crate::plan::warnings::Warning;
use crate::plan::{EntryState, Finding, Overview, Problem};
use crate::run::{Outcome, Preview};
use crate::schema::ddl::Ddl;
use crate::schema::probe::Violation;
use crate::source::{Migration, MigrationSet, Segment};

/// The JSON format version; bumped on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
}

/// Whether to colour human output on this stream: only on a terminal, never with `NO_COLOR`.
pub fn use_colour(stream_is_terminal: bool) -> bool {
    stream_is_terminal
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// Colour for stdout.
pub fn stdout_colour() -> bool {
    use_colour(std::io::stdout().is_terminal())
}

fn paint(colour: bool, code: &str, text: &str) -> String {
    if colour {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn state_colour(state: EntryState) -> &'static str {
    match state {
        EntryState::Applied | EntryState::Baseline => "32",
        EntryState::Edited => "33",
        EntryState::Pending => "33",
        EntryState::Modified | EntryState::Missing | EntryState::Failed => "31",
    }
}

/// How a migration will run on a dialect: "1 transaction", or, when its statements cannot
/// share one, its steps in order ("3 steps: 1 DDL, 1 transaction of 20000 statements, 1 DDL").
pub fn execution_note(m: &Migration, dialect: Dialect) -> String {
    let n = m.up.statements.len();
    let statements = format!("{n} statement{}", if n == 1 { "" } else { "s" });
    if m.up.directives.no_transaction {
        return format!("{statements}, no transaction: each statement commits on its own");
    }
    if m.up.atomic(dialect) {
        return format!("{statements}, 1 transaction");
    }
    let segments = m.up.steps(dialect, 0);
    // Consecutive steps of one kind are told together.
    let mut parts: Vec<(&str, usize, usize)> = Vec::new(); // (kind, steps, statements)
    for seg in &segments {
        let (kind, count) = match seg {
            Segment::Group(r) => ("transaction", r.len()),
            Segment::Alone(_) => ("DDL", 1),
            Segment::Boundary(_) => ("COMMIT", 1),
            Segment::Locked(r) => ("LOCK TABLES", r.len()),
        };
        match parts.last_mut() {
            Some((k, steps, st)) if *k == kind && kind != "transaction" => {
                *steps += 1;
                *st += count;
            }
            _ => parts.push((kind, 1, count)),
        }
    }
    let described: Vec<String> = parts
        .iter()
        .map(|(kind, steps, st)| match *kind {
            "transaction" => format!(
                "1 transaction of {st} statement{}",
                if *st == 1 { "" } else { "s" }
            ),
            "LOCK TABLES" => format!(
                "{steps} LOCK TABLES region{} ({st} statements, no transaction)",
                if *steps == 1 { "" } else { "s" }
            ),
            "COMMIT" => format!(
                "{steps} COMMIT{} of the file's own (a group boundary)",
                if *steps == 1 { "" } else { "s" }
            ),
            _ => format!("{steps} DDL"),
        })
        .collect();
    format!(
        "{statements} in {} step{}: {}; not atomic, progress is recorded after each step",
        segments.len(),
        if segments.len() == 1 { "" } else { "s" },
        described.join(", ")
    )
}

/// Where the run's settings and files come from, for `status` headers.
pub struct Context<'a> {
    pub database: &'a str,
    pub dialect: Dialect,
    pub table: &'a str,
    pub set: &'a MigrationSet,
    /// The migrations are the ones built into the binary.
    pub embedded: bool,
    /// The Galera cluster the server is a node of.
    pub cluster: Option<crate::backend::ClusterInfo>,
    /// The SQLite database file, when it does not exist (nothing was created).
    pub missing_file: Option<&'a std::path::Path>,
}

/// `pending_only` (`status --pending`): list only the pending migrations; the summary and the
/// problems stay whole.
pub fn status_human(
    ctx: &Context,
    ov: &Overview,
    verbose: bool,
    colour: bool,
    pending_only: bool,
) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "database {} ({}), version table {}\n",
        ctx.database, ctx.dialect, ctx.table
    ));
    if let Some(path) = ctx.missing_file {
        out.push_str(&format!(
            "the database file {} does not exist: nothing is applied; `aurweb-migrate upgrade` creates it\n",
            path.display()
        ));
    }
    let width = ov
        .entries
        .iter()
        .map(|e| e.version.to_string().len())
        .max()
        .unwrap_or(1);
    for e in ov
        .entries
        .iter()
        .filter(|e| !pending_only || e.state == EntryState::Pending)
    {
        let state = e.state.as_str();
        let mut line = format!(
            "{}  {:>width$}  {}",
            paint(colour, state_colour(e.state), &format!("{state:<8}")),
            e.version,
            e.description()
        );
        if let Some(r) = e.row {
            line.push_str(&format!("  ({}, {} ms)", r.applied_at, r.execution_ms));
            if e.state == EntryState::Failed {
                line.push_str(&format!(
                    " stopped after {} of {} statements",
                    r.statements_done, r.statements_total
                ));
                if let Some(err) = &r.error {
                    line.push_str(&format!(": {err}"));
                }
            }
        }
        if e.out_of_order {
            line.push_str("  [out of order]");
        }
        if e.state == EntryState::Edited {
            line.push_str("  [edited (comments only)]");
        }
        if verbose && e.state == EntryState::Pending {
            if let Some(m) = e.migration {
                line.push_str(&format!(
                    "  [{}: {}]",
                    m.up.path.display(),
                    execution_note(m, ctx.dialect)
                ));
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    if ov.entries.is_empty() {
        out.push_str("no migrations\n");
    }
    let pending = ov.pending().count();
    // A failed migration is neither applied nor pending: counted apart, when there is one.
    let failed = ov
        .entries
        .iter()
        .filter(|e| e.state == EntryState::Failed)
        .count();
    out.push_str(&format!(
        "current version: {}, {} pending{}\n",
        ov.current().map_or("none".to_string(), |v| v.to_string()),
        pending,
        match failed {
            0 => String::new(),
            n => format!(", {n} failed"),
        }
    ));
    if !ov.problems.is_empty() {
        out.push_str(&format!(
            "{} problem{}:\n",
            ov.problems.len(),
            if ov.problems.len() == 1 { "" } else { "s" }
        ));
        for p in &ov.problems {
            out.push_str(&format!("  {p}\n"));
        }
    }
    out
}

/// One entry of a `problems` list, the same shape everywhere (`status`, `check`, a refusal):
/// the parts of a drift difference are `null` for the other kinds.
fn problem_doc(
    kind: &str,
    version: Option<u64>,
    message: &str,
    difference: Option<&crate::schema::Difference>,
) -> Value {
    json!({
        "kind": kind,
        "version": version,
        "message": message,
        "table": difference.map(|d| &d.table),
        "object": difference.map(|d| &d.object),
        "expected": difference.and_then(|d| d.expected.as_ref()),
        "found": difference.and_then(|d| d.found.as_ref()),
    })
}

fn problem_json(p: &Problem) -> Value {
    problem_doc(p.kind(), p.version(), &p.to_string(), None)
}

pub fn status_json(ctx: &Context, ov: &Overview, pending_only: bool) -> Value {
    let migrations: Vec<Value> = ov
        .entries
        .iter()
        .filter(|e| !pending_only || e.state == EntryState::Pending)
        .map(|e| {
            json!({
                "version": e.version,
                "description": e.description(),
                "state": e.state.as_str(),
                "applied_at": e.row.map(|r| r.applied_at.clone()),
                "applied_by": e.row.map(|r| r.applied_by.clone()),
                "checksum": e.migration.map(|m| m.up.checksum.clone()),
                "recorded_checksum": e.row.map(|r| r.checksum.clone()),
                "execution_ms": e.row.map(|r| r.execution_ms),
                "statements_done": e.row.map(|r| r.statements_done),
                "statements_total": e.row.map(|r| r.statements_total)
                    .or(e.migration.map(|m| m.up.statements.len() as u32)),
                "error": e.row.and_then(|r| r.error.clone()),
                "out_of_order": e.out_of_order,
                "file": e.migration.map(|m| m.up.path.display().to_string()),
                "atomic": e.migration.map(|m| m.up.atomic(ctx.dialect)),
                "no_transaction": e.migration.map(|m| m.up.directives.no_transaction),
            })
        })
        .collect();
    json!({
        "format_version": FORMAT_VERSION,
        "database": ctx.database,
        "dialect": ctx.dialect.name(),
        "table": ctx.table,
        "migrations_dir": ctx.set.dir.display().to_string(),
        "embedded": ctx.embedded,
        "cluster": ctx.cluster.as_ref().map(|c| json!({
            "size": c.size,
            "state": c.state,
            "osu_method": c.osu_method,
        })),
        "exists": ctx.missing_file.is_none(),
        "current": ov.current(),
        "pending": ov.pending().count(),
        "migrations": migrations,
        "problems": ov.problems.iter().map(problem_json).collect::<Vec<_>>(),
    })
}

/// `check`'s verdict: `findings` are the planner's plus any drift ([`Check::new`]).
fn check_human(ov: &Overview, findings: &[Finding], warnings: &[Warning]) -> String {
    let mut out = String::new();
    for w in warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    if findings.is_empty() {
        out.push_str(&format!(
            "ok: database is up to date at version {}\n",
            ov.current().map_or("none".to_string(), |v| v.to_string())
        ));
        return out;
    }
    out.push_str(&format!(
        "check failed: {} problem{}\n",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" }
    ));
    for f in findings {
        out.push_str(&format!("  {}\n", f.message));
    }
    out
}

fn check_json(ov: &Overview, findings: &[Finding], warnings: &[Warning]) -> Value {
    json!({
        "format_version": FORMAT_VERSION,
        "warnings": warnings.iter().map(Warning::to_string).collect::<Vec<_>>(),
        "current": ov.current(),
        "pending": ov.pending().count(),
        "problems": findings
            .iter()
            .map(|f| problem_doc(&f.kind, f.version, &f.message, f.difference.as_ref()))
            .collect::<Vec<_>>(),
    })
}

fn applied_json(outcome: &Outcome) -> Vec<Value> {
    outcome
        .applied
        .iter()
        .map(|a| json!({"version": a.version, "description": a.description, "execution_ms": a.execution_ms}))
        .collect()
}

/// `upgrade`, `downgrade`, `baseline`, `stamp`: what changed.
pub fn outcome_json(outcome: &Outcome, key: &str) -> Value {
    json!({
        "format_version": FORMAT_VERSION,
        "changed": !outcome.applied.is_empty() || outcome.installed.is_some(),
        key: applied_json(outcome),
        "current": outcome.current,
        "installed": outcome.installed.as_ref().map(|i| json!({
            "file": i.path.display().to_string(),
            "statements": i.statements,
            "execution_ms": i.execution_ms,
            "baseline": i.baseline,
        })),
    })
}

pub fn outcome_human(outcome: &Outcome, verb: &str) -> String {
    let current = outcome
        .current
        .map_or("none".to_string(), |v| v.to_string());
    let mut out = String::new();
    if let Some(i) = &outcome.installed {
        out.push_str(&format!(
            "built the database from {} ({} statements) in {} ms; recorded versions {}-{} as baseline\n",
            i.path.display(),
            i.statements,
            i.execution_ms,
            i.baseline.first().copied().unwrap_or(0),
            i.baseline.last().copied().unwrap_or(0),
        ));
    }
    out += &if outcome.applied.is_empty() {
        if outcome.installed.is_some() {
            format!("database is at version {current}\n")
        } else {
            format!("nothing to do: database is at version {current}\n")
        }
    } else {
        let total: u64 = outcome.applied.iter().map(|a| a.execution_ms).sum();
        format!(
            "{verb} {} migration{} in {total} ms; database is at version {current}\n",
            outcome.applied.len(),
            if outcome.applied.len() == 1 { "" } else { "s" }
        )
    };
    out
}

/// `upgrade --dry-run`: every statement that would run, as a script a person can read.
/// `upgrade --dry-run`: the road ([`runner::preview`]) and every statement that would run.
pub fn dry_run_human(
    preview: &Preview,
    dialect: Dialect,
    (tightenings, when): (&[Found], &[Option<When>]),
    violations: &[Violation],
) -> String {
    let mut out = String::new();
    if let Some(f) = preview.install {
        out.push_str(&format!(
            "-- the database is empty: it would be built from {} ({} statements) and versions up to {} recorded as baseline (--replay runs the migrations instead)\n",
            f.script.path.display(),
            f.script.statements.len(),
            f.version
        ));
        if preview.steps.is_empty() {
            out.push_str(&format!(
                "-- no migration would run after it: {} is at the newest version\n",
                f.script.path.display()
            ));
            return out;
        }
    } else if preview.steps.is_empty() {
        return "nothing to do: no pending migrations\n".to_string();
    }
    for step in &preview.steps {
        let m = step.migration;
        out.push_str(&format!(
            "-- {} {} ({}): {}\n",
            m.version,
            m.description(),
            m.up.path.display(),
            execution_note(m, dialect)
        ));
        if step.resume_from > 0 {
            out.push_str(&format!(
                "-- resuming after the {} statement(s) already committed\n",
                step.resume_from
            ));
        }
        for (i, st) in m.up.statements.iter().enumerate().skip(step.resume_from) {
            out.push_str(&format!(
                "-- line {}\n{}\n",
                st.line,
                crate::run::script::for_the_client(m.up.statement_text(i), dialect)
            ));
            for (k, t) in tightenings.iter().enumerate() {
                if t.version != m.version || t.line != st.line {
                    continue;
                }
                out.push_str(&format!(
                    "-- {}:{}: tightens: {}\n",
                    t.file, t.line, t.tightening
                ));
                match when.get(k) {
                    Some(Some(When::During { version, index })) => out.push_str(&format!(
                        "-- probed during the run, before {}: an earlier pending statement names {}, so the live rows cannot be probed before the run\n",
                        statement_place(preview, *version, *index),
                        crate::schema::probe::tables_read(&t.tightening).join(" or ")
                    )),
                    Some(Some(When::Not { version, index })) => out.push_str(&format!(
                        "-- not probed: the rows reach it through the copy at {}, which may change them; that statement meets the constraint\n",
                        statement_place(preview, *version, *index)
                    )),
                    _ => {}
                }
            }
            for v in violations
                .iter()
                .filter(|v| v.version == m.version && v.line == st.line)
            {
                out.push_str(&format!("-- violation: {v}\n"));
            }
        }
        out.push('\n');
    }
    out
}

/// `file:line` of statement `index` (0-based) of pending migration `version`.
fn statement_place(preview: &Preview, version: u64, index: usize) -> String {
    preview
        .steps
        .iter()
        .map(|s| s.migration)
        .find(|m| m.version == version)
        .map_or_else(
            || format!("migration {version}"),
            |m| {
                let line = m.up.statements.get(index).map_or(1, |st| st.line);
                format!("{}:{line}", m.up.path.display())
            },
        )
}

pub fn dry_run_json(
    preview: &Preview,
    set: &MigrationSet,
    dialect: Dialect,
    (tightenings, when): (&[Found], &[Option<When>]),
    violations: &[Violation],
) -> Value {
    let list: Vec<Value> = preview
        .steps
        .iter()
        .map(|step| {
            let m = step.migration;
            json!({
                "resume_from": step.resume_from,
                "version": m.version,
                "description": m.description(),
                "file": m.up.path.display().to_string(),
                "checksum": m.up.checksum,
                "atomic": m.up.atomic(dialect),
                "no_transaction": m.up.directives.no_transaction,
                "execution": execution_note(m, dialect),
                "statements": m.up.statements.iter().enumerate().skip(step.resume_from).map(|(i, st)| json!({"line": st.line, "sql": m.up.statement_text(i)})).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "format_version": FORMAT_VERSION,
        "changed": false,
        "dry_run": true,
        "pending": list,
        "tightenings": tightenings.iter().zip(when).map(|(t, w)| json!({
            "version": t.version,
            "file": t.file,
            "line": t.line,
            "table": t.tightening.table,
            "kind": t.tightening.kind,
            "columns": t.tightening.columns,
            "probed": match w {
                None => Value::Null,
                Some(When::Before) => json!("before-the-run"),
                Some(When::During { .. }) => json!("during-the-run"),
                Some(When::Not { .. }) => json!("not-probed"),
            },
        })).collect::<Vec<_>>(),
        "violations": violations,
        "install": preview.install.map(|f| json!({
            "file": f.script.path.display().to_string(),
            "statements": f.script.statements.len(),
            "baseline": set.migrations.iter().map(|m| m.version).filter(|v| *v <= f.version).collect::<Vec<_>>(),
        })),
    })
}

/// `database create|drop`.
pub struct DatabaseChange<'a> {
    pub database: &'a str,
    /// `created` or `dropped`.
    pub action: &'static str,
    pub changed: bool,
}

impl Render for DatabaseChange<'_> {
    fn human(&self) -> String {
        match (self.action, self.changed) {
            (action, true) => format!("{action} {}\n", self.database),
            ("created", false) => format!("nothing to do: {} already exists\n", self.database),
            (_, false) => format!("nothing to do: {} does not exist\n", self.database),
        }
    }
    fn json(&self) -> Value {
        json!({
            "format_version": FORMAT_VERSION,
            "changed": self.changed,
            "database": self.database,
            "action": self.action,
        })
    }
}

/// `wait`: the server answered.
pub struct Ready<'a> {
    pub database: &'a str,
    pub attempts: u32,
    pub waited_ms: u64,
}

impl Render for Ready<'_> {
    fn human(&self) -> String {
        format!(
            "{} accepts connections (after {} attempt(s), {} ms)\n",
            self.database, self.attempts, self.waited_ms
        )
    }
    fn json(&self) -> Value {
        json!({
            "format_version": FORMAT_VERSION,
            "changed": false,
            "database": self.database,
            "ready": true,
            "attempts": self.attempts,
            "waited_ms": self.waited_ms,
        })
    }
}

/// `downgrade --dry-run`: the reverse files that would run, newest first.
pub struct DowngradePreview<'a> {
    pub steps: &'a [&'a crate::source::Migration],
    /// The version the database would be at afterwards.
    pub target: u64,
    pub dialect: Dialect,
}

impl Render for DowngradePreview<'_> {
    fn human(&self) -> String {
        if self.steps.is_empty() {
            return format!(
                "nothing to do: nothing is recorded above version {}\n",
                self.target
            );
        }
        let mut out = String::new();
        for m in self.steps {
            let Some(down) = &m.down else { continue };
            out.push_str(&format!(
                "-- revert {} {} ({}): {} statement(s)\n",
                m.version,
                m.description(),
                down.path.display(),
                down.statements.len()
            ));
            for (i, st) in down.statements.iter().enumerate() {
                out.push_str(&format!(
                    "-- line {}\n{}\n",
                    st.line,
                    crate::run::script::for_the_client(down.statement_text(i), self.dialect)
                ));
            }
            out.push('\n');
        }
        out.push_str(&format!(
            "-- the database would be at version {}\n",
            self.target
        ));
        out
    }
    fn json(&self) -> Value {
        let list: Vec<Value> = self
            .steps
            .iter()
            .filter_map(|m| m.down.as_ref().map(|down| (m, down)))
            .map(|(m, down)| {
                json!({
                    "version": m.version,
                    "description": m.description(),
                    "file": down.path.display().to_string(),
                    "atomic": down.atomic(self.dialect),
                    "statements": down.statements.iter().enumerate().map(|(i, st)| json!({"line": st.line, "sql": down.statement_text(i)})).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "format_version": FORMAT_VERSION,
            "changed": false,
            "dry_run": true,
            "reverted": list,
            "current": self.target,
        })
    }
}

/// The one stderr line of a human-format command that touches a database with the built-in
/// migrations that no flag or setting named (aurweb's config names the database and there is
/// no migrations directory), so that running in the wrong directory shows.
pub fn embedded_notice(why: &crate::settings::Origin) -> String {
    let reason = match why {
        crate::settings::Origin::DefaultBecause(r) => {
            r.replace("./migrations not found", "no ./migrations here")
        }
        other => other.to_string(),
    };
    format!(
        "note: {reason}: using the migrations built into this binary, {}; -m DIR uses a directory",
        crate::source::describe_embedded()
    )
}

pub fn history_human(set: &MigrationSet) -> String {
    let mut out = String::new();
    for m in &set.migrations {
        out.push_str(&format!(
            "{}  {}  {}{}\n",
            m.version,
            m.description(),
            m.up.path.display(),
            if m.down.is_some() {
                "  [reversible]"
            } else {
                ""
            }
        ));
    }
    if set.migrations.is_empty() {
        out.push_str(&format!("no migrations in {}\n", set.dir.display()));
    }
    out
}

pub fn history_json(set: &MigrationSet) -> Value {
    json!({
        "format_version": FORMAT_VERSION,
        "dialect": set.dialect.name(),
        "migrations": set.migrations.iter().map(|m| json!({
            "version": m.version,
            "description": m.description(),
            "file": m.up.path.display().to_string(),
            "checksum": m.up.checksum,
            "statements": m.up.statements.len(),
            "atomic": m.up.atomic(set.dialect),
            "no_transaction": m.up.directives.no_transaction,
            "reversible": m.down.is_some(),
            "alembic_revision": m.up.directives.alembic_revision,
        })).collect::<Vec<_>>(),
    })
}

/// An error as JSON, for `--format json` (the message goes to stderr too). Every key is
/// always present: `null` (or an empty list) where this error has no such part. `partial` is
/// what the command changed before it failed and the key that lists it (`applied`, `reverted`,
/// `recorded`); the commands that record versions always pass one.
pub fn error_json(e: &Error, partial: Option<(&Outcome, &str)>) -> Value {
    let failure = match e {
        Error::MigrationFailed(f)
        | Error::MetadataLockTimeout { failed: f, .. }
        | Error::DataViolation {
            during: Some(f), ..
        } => Some(f),
        _ => None,
    };
    let (file, line) = match e {
        Error::MigrationFailed(f)
        | Error::MetadataLockTimeout { failed: f, .. }
        | Error::DataViolation {
            during: Some(f), ..
        } => (Some(f.path.display().to_string()), Some(f.line)),
        Error::ProbeTimedOut { file, line, .. } => (Some(file.clone()), Some(*line)),
        Error::InstallFailed { path, line, .. } => (Some(path.display().to_string()), Some(*line)),
        Error::Input(list) => list.first().map_or((None, None), |i| {
            (Some(i.path.display().to_string()), i.line)
        }),
        _ => (None, None),
    };
    let (flag, version) = match e {
        Error::UnknownVersion { flag, version, .. } => (Some(*flag), Some(*version)),
        Error::MigrationFailed(f)
        | Error::MetadataLockTimeout { failed: f, .. }
        | Error::DataViolation {
            during: Some(f), ..
        } => (None, Some(f.version)),
        _ => (None, None),
    };
    let mut doc = json!({
        "format_version": FORMAT_VERSION,
        "ok": false,
        "changed": partial.is_some_and(|(o, _)| !o.applied.is_empty()),
        "current": partial.and_then(|(o, _)| o.current),
        "error": {
            "kind": e.kind(),
            "exit_code": e.exit_code(),
            "message": e.to_string(),
            "file": file,
            "line": line,
            "version": version,
            "flag": flag,
            "rolled_back": failure.map(|f| f.rolled_back()),
            "committed": failure.map_or(Vec::new(), |f| f
                .committed()
                .iter()
                .map(|(statement, line)| json!({"statement": statement, "line": line}))
                .collect()),
        },
        "inputs": match e {
            Error::Input(list) => list
                .iter()
                .map(|i| json!({"file": i.path.display().to_string(), "line": i.line, "message": i.message}))
                .collect(),
            _ => Vec::new(),
        },
        "problems": match e {
            Error::Refused(problems) => problems.iter().map(problem_json).collect(),
            _ => Vec::new(),
        },
        "differences": match e {
            Error::Drift { differences, .. } => json!(differences),
            _ => json!([]),
        },
        "violations": match e {
            Error::DataViolation { violations, .. } => json!(violations),
            _ => json!([]),
        },
        "ddl": match e {
            Error::DdlGate { offending, .. } => offending
                .iter()
                .map(|(d, why)| ddl_json(d, Some(why.clone())))
                .collect(),
            _ => Vec::new(),
        },
        "blockers": match e {
            Error::MetadataLockTimeout { blockers, .. } => {
                blockers.iter().map(blocker_json).collect()
            }
            _ => Vec::new(),
        },
    });
    if let Some((outcome, key)) = partial {
        doc[key] = json!(applied_json(outcome));
    }
    doc
}

// ---------------------------------------------------------------------------------------------
// Results as data: every command hands one of these to [`emit`], which lays it out in the
// requested format and prints it on stdout.

/// A command's result, in both formats.
pub trait Render {
    fn human(&self) -> String;
    /// The JSON document but its `"ok"`, which [`Render::document`] adds.
    fn json(&self) -> Value;
    /// The document's `"ok"`: the command exits 0 (it did what it was asked, and a command
    /// that checks found nothing wrong). Every document carries it; error documents say false.
    fn ok(&self) -> bool {
        true
    }
    /// The JSON document, `"ok"` included.
    fn document(&self) -> Value {
        let mut doc = self.json();
        doc["ok"] = json!(self.ok());
        doc
    }
    /// Whether `-q` silences the human form (default: yes). `status` and `new` always print;
    /// `check` and `verify` print only what failed.
    fn quiet_prints(&self) -> bool {
        false
    }
}

/// Prints a result on stdout: the JSON document, or the human text unless `-q` silences it.
pub fn emit(result: &impl Render, format: Format, quiet: bool) {
    match format {
        Format::Json => print_json(&result.document()),
        Format::Human if quiet && !result.quiet_prints() => {}
        Format::Human => print(&result.human()),
    }
}

/// One JSON document on stdout.
pub fn print_json(v: &Value) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, v);
    let _ = writeln!(out);
}

/// Text on stdout, flushed (a line per migration appears as it finishes).
pub fn print(s: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
}

static JSON_LOGS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `-q`: only errors go to stderr: [`warn`], [`note`] and [`waiting`] say nothing.
pub fn set_quiet(on: bool) {
    QUIET.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Whether `-q` was given ([`set_quiet`]).
pub fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// Said once when a run has to wait for the migration lock, naming who holds it (not with
/// `-q`): a deploy that seems to hang shows why.
pub fn waiting(message: &str) {
    if !QUIET.load(std::sync::atomic::Ordering::Relaxed) {
        // Before any migration of the run starts: no progress line is drawn yet.
        stderr_line("INFO", message, message, json!({}));
    }
}

/// `--log-format json`: the tool's own stderr lines (warnings, notes, the final error) become
/// log objects like the tracing lines, so every stderr line parses as JSON.
pub fn set_json_logs(on: bool) {
    JSON_LOGS.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// One stderr line: `text` as it is, or with `--log-format json` an object with the log
/// lines' `timestamp`, `level` and `message`, plus `fields`.
fn stderr_line(level: &str, text: &str, message: &str, fields: Value) {
    if JSON_LOGS.load(std::sync::atomic::Ordering::Relaxed) {
        let mut line = json!({
            "timestamp": crate::history::now_utc(),
            "level": level,
            "message": message,
        });
        if let (Some(line), Value::Object(extra)) = (line.as_object_mut(), fields) {
            line.extend(extra);
        }
        eprintln!("{line}");
    } else {
        eprintln!("{text}");
    }
}

/// The warning before the first DDL statement of a run: other sessions' transactions old
/// enough to hold up a metadata lock the run's DDL statements will wait for.
pub fn old_transactions(old: &crate::backend::OldTransactions) -> String {
    let which = match old.tables_known {
        true => format!("hold a metadata lock on {}", old.tables.join(", ")),
        false => format!(
            "may hold a metadata lock on {} (performance_schema.metadata_locks is not enabled or not readable by this account, so which tables they hold is not known: every old transaction is named)",
            old.tables.join(", ")
        ),
    };
    let list: Vec<String> = old.sessions.iter().map(|b| format!("\n  {b}")).collect();
    format!(
        "{} session(s) with a transaction open for {}s or more {which}; a DDL statement of this run waits at most --ddl-lock-wait for them, then gives way and tries again:{}",
        old.sessions.len(),
        old.older_than.as_secs(),
        list.concat()
    )
}

/// One session holding up a metadata lock, as JSON.
fn blocker_json(b: &crate::error::Blocker) -> Value {
    json!({
        "id": b.id,
        "user": b.user,
        "host": b.host,
        "command": b.command,
        "transaction_seconds": b.transaction_seconds,
        "statement": b.statement,
        "lock": b.lock,
    })
}

/// A `warning: …` line on stderr (a settings warning, or a [`Warning`]); nothing with `-q`.
pub fn warn(message: impl std::fmt::Display) {
    if quiet() {
        return;
    }
    let message = message.to_string();
    stderr_line("WARN", &format!("warning: {message}"), &message, json!({}));
}

/// A line on stderr (notes such as [`embedded_notice`]); nothing with `-q`.
pub fn note(line: &str) {
    if quiet() {
        return;
    }
    stderr_line("INFO", line, line, json!({}));
}

/// The final `error: …` line on stderr.
pub fn error_line(e: &dyn std::fmt::Display) {
    let message = e.to_string();
    stderr_line("ERROR", &format!("error: {message}"), &message, json!({}));
}

/// The final error of a run on stderr, with its exit code and kind in the JSON form.
pub fn final_error(e: &crate::error::Error) {
    let message = e.to_string();
    stderr_line(
        "ERROR",
        &format!("error: {message}"),
        &message,
        json!({"exit_code": e.exit_code(), "kind": e.kind()}),
    );
}

/// The line printed as each migration finishes (human format).
pub fn done_line(version: u64, description: &str, reverting: bool, execution_ms: u64) -> String {
    format!(
        "{}  {version}  {description}  ({execution_ms} ms)\n",
        if reverting { "reverted" } else { "applied" },
    )
}

/// `new`: the files written.
pub struct NewFiles(pub Vec<std::path::PathBuf>);

impl Render for NewFiles {
    fn human(&self) -> String {
        self.0
            .iter()
            .map(|f| format!("{}\n", f.display()))
            .collect()
    }
    fn json(&self) -> Value {
        json!({
            "format_version": FORMAT_VERSION,
            "files": self.0.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
        })
    }
    fn quiet_prints(&self) -> bool {
        true
    }
}

/// `new --autogenerate`.
pub struct Generated<'a>(pub &'a crate::schema::autogen::Generated);

impl Render for Generated<'_> {
    fn human(&self) -> String {
        let g = self.0;
        let mut out = String::new();
        let schema_files = |out: &mut String| {
            let v = g.schema_version.map(|v| v.to_string()).unwrap_or_default();
            for f in &g.schema_files {
                let _ = writeln!(out, "{} (schema-version {v})", f.display());
            }
        };
        if g.version.is_none() {
            out.push_str("no changes: replaying the migrations already gives the schema files\n");
            if !g.replaced.is_empty() {
                out.push_str("the draft it replaced is removed:\n");
                for f in &g.replaced {
                    let _ = writeln!(out, "  {}", f.display());
                }
                schema_files(&mut out);
            }
            return out;
        }
        for f in &g.files {
            let _ = writeln!(out, "{}", f.display());
        }
        let gone: Vec<&std::path::PathBuf> =
            g.replaced.iter().filter(|f| !g.files.contains(f)).collect();
        if !g.replaced.is_empty() {
            let _ = writeln!(
                out,
                "(replacing the earlier draft of version {}{})",
                g.version.unwrap_or_default(),
                if gone.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; removed {}",
                        gone.iter()
                            .map(|f| f.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            );
        }
        schema_files(&mut out);
        // One list when the dialects agree on the changes, else one per dialect.
        let lists: Vec<&Vec<String>> = g.drafts.iter().map(|d| &d.changes).collect();
        let same = lists.windows(2).all(|w| w[0] == w[1]);
        for d in &g.drafts {
            if d.changes.is_empty() {
                continue;
            }
            if same {
                out.push_str("changes:\n");
            } else {
                let _ = writeln!(out, "changes ({}):", d.dialect);
            }
            for c in &d.changes {
                let _ = writeln!(out, "  {c}");
            }
            if same {
                break;
            }
        }
        if !g.review.is_empty() {
            out.push_str("review: upgrade, check and verify refuse these files until each marker line is deleted:\n");
            for r in &g.review {
                let _ = writeln!(out, "  {r}");
            }
        }
        out
    }
    fn json(&self) -> Value {
        let g = self.0;
        json!({
            "format_version": FORMAT_VERSION,
            "changed": g.version.is_some() || !g.replaced.is_empty(),
            "version": g.version,
            "files": g.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "replaced": g.replaced.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "schema_files": g.schema_files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "drafts": g.drafts,
            "review": g.review,
            "timings": g.timings,
        })
    }
    fn quiet_prints(&self) -> bool {
        true
    }
}

/// `history`.
pub struct History<'a>(pub &'a MigrationSet);

impl Render for History<'_> {
    fn human(&self) -> String {
        history_human(self.0)
    }
    fn json(&self) -> Value {
        history_json(self.0)
    }
    fn quiet_prints(&self) -> bool {
        true
    }
}

/// `status` (with `-v` the settings are printed before connecting: [`settings_human`]).
pub struct Status<'a> {
    pub ctx: Context<'a>,
    pub overview: &'a Overview<'a, 'a>,
    pub verbose: bool,
    /// `status --pending`.
    pub pending_only: bool,
    /// `-v`: what the pending statements tighten (the rehearsal).
    pub tightenings: &'a [Found],
    /// `-v`: the DDL plan of the pending statements and the gates it is held to (the JSON
    /// form; the human form prints it after the table, `ddl_plan_human`).
    pub ddl: (&'a [Ddl], &'a crate::schema::ddl::Gates),
}

impl Render for Status<'_> {
    fn human(&self) -> String {
        let mut out = status_human(
            &self.ctx,
            self.overview,
            self.verbose,
            stdout_colour(),
            self.pending_only,
        );
        if !self.tightenings.is_empty() {
            out.push_str(
                "what the pending statements tighten (rehearsed on an empty copy of the tables):\n",
            );
        }
        for t in self.tightenings {
            out.push_str(&format!(
                "  {}:{}: tightens: {}\n",
                t.file, t.line, t.tightening
            ));
        }
        out
    }
    fn json(&self) -> Value {
        let mut doc = status_json(&self.ctx, self.overview, self.pending_only);
        // -v only: what the rehearsal learnt of the pending statements (null: not asked).
        doc["tightenings"] = Value::Null;
        doc["ddl"] = Value::Null;
        if self.verbose {
            doc["tightenings"] = json!(self
                .tightenings
                .iter()
                .map(|t| json!({
                    "version": t.version,
                    "file": t.file,
                    "line": t.line,
                    "table": t.tightening.table,
                    "kind": t.tightening.kind,
                    "columns": t.tightening.columns,
                }))
                .collect::<Vec<_>>());
            let (ddl, gates) = self.ddl;
            doc["ddl"] = json!(ddl
                .iter()
                .map(|d| ddl_json(d, gates.over(d)))
                .collect::<Vec<_>>());
        }
        doc
    }
    fn quiet_prints(&self) -> bool {
        true
    }
}

/// `check [--drift]`: the planner's findings plus the drift found, and the warnings (which
/// do not fail it: [`Overview::warnings`], and a cluster's lints).
pub struct Check<'a> {
    overview: &'a Overview<'a, 'a>,
    findings: Vec<Finding>,
    warnings: Vec<Warning>,
    /// What the probes of the live rows found for the pending migrations.
    violations: &'a [Violation],
    /// The DDL plan of the pending statements and the gates it is held to.
    ddl: (&'a [Ddl], crate::schema::ddl::Gates, bool),
}

impl<'a> Check<'a> {
    /// With the DDL plan of the pending statements, the run's gates, and whether the server
    /// is a Galera node.
    pub fn with_ddl(
        mut self,
        ddl: &'a [Ddl],
        gates: crate::schema::ddl::Gates,
        galera: bool,
    ) -> Self {
        self.ddl = (ddl, gates, galera);
        self
    }

    /// Whether a pending DDL statement is over the gates.
    pub fn over_gates(&self) -> bool {
        self.ddl.0.iter().any(|d| self.ddl.1.over(d).is_some())
    }

    pub fn new(
        overview: &'a Overview<'a, 'a>,
        warnings: Vec<Warning>,
        drift: Vec<Finding>,
        violations: &'a [Violation],
    ) -> Self {
        let mut findings = overview.findings();
        findings.extend(drift);
        Check {
            overview,
            findings,
            warnings,
            violations,
            ddl: (&[], Default::default(), false),
        }
    }
}

impl Render for Check<'_> {
    fn ok(&self) -> bool {
        self.findings.is_empty() && self.violations.is_empty() && !self.over_gates()
    }
    fn human(&self) -> String {
        let mut out = check_human(self.overview, &self.findings, &self.warnings);
        for v in self.violations {
            out.push_str(&format!("  violation: {v}\n"));
        }
        out.push_str(&ddl_plan_human(self.ddl.0, &self.ddl.1, self.ddl.2));
        out
    }
    fn json(&self) -> Value {
        let mut doc = check_json(self.overview, &self.findings, &self.warnings);
        doc["violations"] = json!(self.violations);
        doc["ddl"] = json!(self
            .ddl
            .0
            .iter()
            .map(|d| ddl_json(d, self.ddl.1.over(d)))
            .collect::<Vec<_>>());
        doc
    }
    fn quiet_prints(&self) -> bool {
        !self.ok()
    }
}

/// `upgrade`, `downgrade`: what changed (the per-migration lines were printed as they ran).
pub struct Changes<'a> {
    pub outcome: &'a Outcome,
    /// The JSON key listing the versions (`applied`, `reverted`).
    pub key: &'a str,
    /// The verb of the summary line.
    pub verb: &'a str,
}

impl Render for Changes<'_> {
    fn human(&self) -> String {
        outcome_human(self.outcome, self.verb)
    }
    fn json(&self) -> Value {
        outcome_json(self.outcome, self.key)
    }
}

/// `upgrade --dry-run`.
pub struct DryRun<'a> {
    pub preview: &'a Preview<'a>,
    pub set: &'a MigrationSet,
    pub dialect: Dialect,
    /// What the pending statements tighten (the rehearsal; empty when it did not run).
    pub tightenings: &'a [Found],
    /// Where each tightening is probed (`None`: not probed, `--no-probes`).
    pub when: &'a [Option<When>],
    /// Live rows the pending statements would reject (the probes; empty when they did not run).
    pub violations: &'a [Violation],
    /// The DDL plan (MySQL/MariaDB; empty on SQLite or when the rehearsal did not run), and
    /// whether the server is a Galera node (DDL under TOI stalls the cluster).
    pub ddl: &'a [Ddl],
    /// The run's gates: a statement over them is marked.
    pub gates: &'a crate::schema::ddl::Gates,
    pub galera: bool,
    /// The dry run exits 0: no violation, nothing over the gates, every probe ran.
    pub ok: bool,
}

impl Render for DryRun<'_> {
    fn ok(&self) -> bool {
        self.ok
    }
    fn human(&self) -> String {
        let mut out = dry_run_human(
            self.preview,
            self.dialect,
            (self.tightenings, self.when),
            self.violations,
        );
        out.push_str(&ddl_plan_human(self.ddl, self.gates, self.galera));
        out
    }
    fn json(&self) -> Value {
        let mut doc = dry_run_json(
            self.preview,
            self.set,
            self.dialect,
            (self.tightenings, self.when),
            self.violations,
        );
        doc["ddl"] = json!(self
            .ddl
            .iter()
            .map(|d| ddl_json(d, self.gates.over(d)))
            .collect::<Vec<_>>());
        doc
    }
    fn quiet_prints(&self) -> bool {
        true
    }
}

/// The DDL plan, a paragraph per statement ("" when there is none).
pub fn ddl_plan_human(ddl: &[Ddl], gates: &crate::schema::ddl::Gates, galera: bool) -> String {
    if ddl.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "-- how long this deploy locks its tables (the server's own plan, learnt on an empty copy):\n",
    );
    for d in ddl {
        let size = match (d.rows, d.bytes) {
            (Some(r), Some(b)) => format!("{r} rows, {b} bytes (estimates)"),
            _ => "size unknown".to_string(),
        };
        let took = match d.estimate_s {
            Some(s) => format!(
                "; about {s:.2} s ({}){}",
                if d.estimate_method.as_deref() == Some("calibrated") {
                    "at a rate calibrated on this server".to_string()
                } else {
                    format!(
                        "at a fixed rate of {} MB/s",
                        if d.algorithm == "NOCOPY" {
                            crate::compare::ddl::NOCOPY_BYTES_PER_S
                        } else {
                            crate::compare::ddl::REBUILD_BYTES_PER_S
                        } / 1e6
                    )
                },
                if galera {
                    ", during which the whole Galera cluster stalls (DDL runs under TOI)"
                } else {
                    ""
                }
            ),
            None => String::new(),
        };
        let allowed = d.allow_lock.as_ref().map_or(String::new(), |a| {
            format!(" (the migration allows LOCK={a}: meant to run offline)")
        });
        let over = gates
            .over(d)
            .map_or(String::new(), |why| format!(" — OVER THE GATE: {why}"));
        out.push_str(&format!(
            "-- {}:{}: {}: {}: {}; {size}{took}{allowed}{over}\n",
            d.file,
            d.line,
            d.table,
            d.clause(),
            d.meaning()
        ));
    }
    out
}

/// One statement of the DDL plan as JSON.
pub fn ddl_json(d: &Ddl, over: Option<String>) -> Value {
    json!({
        "version": d.version,
        "file": d.file,
        "line": d.line,
        "table": d.table,
        "algorithm": d.algorithm,
        "lock": d.lock,
        "kind": d.kind,
        "meaning": d.meaning(),
        "rows": d.rows,
        "bytes": d.bytes,
        "estimate_s": d.estimate_s,
        "estimate_method": d.estimate_method,
        "allow_lock": d.allow_lock,
        "over_gate": over,
    })
}

/// `upgrade --sql`: the script itself (the command refuses `--format json`).
pub struct Script(pub String);

impl Render for Script {
    fn human(&self) -> String {
        self.0.clone()
    }
    fn json(&self) -> Value {
        json!({"format_version": FORMAT_VERSION, "script": self.0})
    }
    fn quiet_prints(&self) -> bool {
        true
    }
}

/// `baseline`, `stamp`, `adopt`: what was recorded, and any drift accepted.
pub struct Recorded<'a> {
    pub outcome: &'a Outcome,
    pub accepted: &'a [crate::schema::Difference],
    /// `adopt`: the Alembic revision and the version it maps to.
    pub alembic_revision: Option<(&'a str, u64)>,
}

impl Render for Recorded<'_> {
    fn human(&self) -> String {
        let mut out = String::new();
        if let Some((r, v)) = self.alembic_revision {
            out.push_str(&format!("Alembic revision {r} is version {v}\n"));
            if self.outcome.applied.is_empty() {
                out.push_str("adopted before: its baseline already ends at that version\n");
            }
        }
        if !self.accepted.is_empty() {
            out.push_str(&format!(
                "accepted drift ({} difference(s), still in the database):\n{}",
                self.accepted.len(),
                crate::schema::render_differences(self.accepted)
            ));
        }
        for a in &self.outcome.applied {
            out.push_str(&format!("baseline  {}  {}\n", a.version, a.description));
        }
        out.push_str(&outcome_human(self.outcome, "recorded"));
        out
    }
    fn json(&self) -> Value {
        let mut doc = outcome_json(self.outcome, "recorded");
        doc["accepted_drift"] = json!(self.accepted);
        doc["alembic_revision"] = json!(self.alembic_revision.map(|(r, _)| r));
        doc
    }
}

/// `resolve`.
pub struct Resolved<'a> {
    pub version: u64,
    /// `applied`, `rolled-back` or `accepted-edit`.
    pub resolution: &'static str,
    pub settled: &'a crate::run::Settled,
    /// The version's file, when there is one.
    pub file: Option<&'a str>,
}

impl Render for Resolved<'_> {
    fn human(&self) -> String {
        let current = self
            .settled
            .current
            .map_or("none".to_string(), |v| v.to_string());
        if !self.settled.changed {
            return format!(
                "nothing to do: the recorded checksum of version {} is its file's; database is at version {current}\n",
                self.version
            );
        }
        let Some(edit) = &self.settled.edit else {
            return format!(
                "resolved {} as {}; database is at version {current}\n",
                self.version, self.resolution
            );
        };
        let meaning = match edit.statements {
            "unchanged" => "only comments and whitespace changed: its statements are those that ran",
            "changed" => "its statements differ from those that ran: the database keeps what the old file did and the new statements will not run (a change belongs in a new migration)",
            _ => "whether its statements changed cannot be told (its row had no statement checksum): the database keeps what the file did when it ran",
        };
        format!(
            "accepted the edit of {} (version {}): recorded checksum {} -> {}\n{meaning}\ndatabase is at version {current}\n",
            self.file.unwrap_or("its file"),
            self.version,
            edit.recorded,
            edit.checksum
        )
    }
    fn json(&self) -> Value {
        json!({
            "format_version": FORMAT_VERSION,
            "changed": self.settled.changed,
            "resolved": {"version": self.version, "as": self.resolution},
            "current": self.settled.current,
            "edit": self.settled.edit.as_ref().map(|e| json!({
                "file": self.file,
                "recorded_checksum": e.recorded,
                "checksum": e.checksum,
                "statements": e.statements,
            })),
        })
    }
}

/// `verify`.
pub struct Verify<'a>(pub &'a crate::compare::Verification);

impl Render for Verify<'_> {
    fn ok(&self) -> bool {
        self.0.ok()
    }
    fn human(&self) -> String {
        let mut out = String::new();
        for c in &self.0.checks {
            if c.differences.is_empty() {
                let accepted = match c.accepted.len() {
                    0 => String::new(),
                    n => format!(", {n} accepted difference(s)"),
                };
                out.push_str(&format!(
                    "ok    {}: {} ({} ms{accepted})\n",
                    c.name, c.compared, c.execution_ms
                ));
            } else {
                out.push_str(&format!(
                    "FAIL  {}: {}: {} difference(s)\n{}",
                    c.name,
                    c.compared,
                    c.differences.len(),
                    crate::schema::render_differences(&c.differences)
                ));
                for h in &c.hints {
                    out.push_str(&format!("  hint: {h}\n"));
                }
            }
            for a in &c.accepted {
                let d = crate::schema::Difference {
                    table: a.table.clone(),
                    object: a.object.clone(),
                    expected: a.expected.clone(),
                    found: a.found.clone(),
                };
                out.push_str(&format!(
                    "  {d}\n    accepted: {} ({})\n",
                    a.reason, a.entry
                ));
            }
        }
        for s in &self.0.skipped {
            out.push_str(&format!("skip  {s}\n"));
        }
        out
    }
    fn json(&self) -> Value {
        json!({
            "format_version": FORMAT_VERSION,
            "checks": self.0.checks,
            "skipped": self.0.skipped,
        })
    }
    fn quiet_prints(&self) -> bool {
        !self.0.ok()
    }
}

/// `schema init`: the files written, each with what it was written from.
pub struct SchemaInit<'a> {
    pub version: u64,
    pub files: &'a [(std::path::PathBuf, String)],
}

impl Render for SchemaInit<'_> {
    fn human(&self) -> String {
        let mut out = String::new();
        for (path, source) in self.files {
            let _ = writeln!(
                out,
                "{} (schema-version {}): {source}",
                path.display(),
                self.version
            );
        }
        out
    }
    fn json(&self) -> Value {
        json!({
            "format_version": FORMAT_VERSION,
            "changed": !self.files.is_empty(),
            "version": self.version,
            "files": self.files.iter().map(|(p, _)| p.display().to_string()).collect::<Vec<_>>(),
        })
    }
}

/// `schema dump`.
pub struct SchemaDump<'a> {
    pub database: &'a str,
    pub dialect: Dialect,
    pub schema: &'a crate::schema::Schema,
}

impl Render for SchemaDump<'_> {
    fn human(&self) -> String {
        self.schema.to_text()
    }
    fn json(&self) -> Value {
        json!({
            "format_version": FORMAT_VERSION,
            "database": self.database,
            "dialect": self.dialect.name(),
            "tables": self.schema.tables,
        })
    }
    fn quiet_prints(&self) -> bool {
        true
    }
}

/// `schema diff`: the live schema against the head.
pub struct SchemaDiff<'a> {
    pub database: &'a str,
    pub expected: &'a str,
    pub differences: &'a [crate::schema::Difference],
}

impl Render for SchemaDiff<'_> {
    fn ok(&self) -> bool {
        self.differences.is_empty()
    }
    fn human(&self) -> String {
        if self.differences.is_empty() {
            format!("same: the database's schema equals {}\n", self.expected)
        } else {
            format!(
                "the database's schema differs from {} in {} place(s):\n{}",
                self.expected,
                self.differences.len(),
                crate::schema::render_differences(self.differences)
            )
        }
    }
    fn json(&self) -> Value {
        json!({
            "format_version": FORMAT_VERSION,
            "database": self.database,
            "expected": self.expected,
            "same": self.differences.is_empty(),
            "differences": self.differences,
        })
    }
    fn quiet_prints(&self) -> bool {
        true
    }
}

/// `status -v`: the Galera cluster the server is a node of.
pub fn cluster_human(c: &crate::backend::ClusterInfo) -> String {
    format!(
        "cluster: Galera, {} nodes, this node {}, DDL replicated by {}\n",
        c.size, c.state, c.osu_method
    )
}

/// `status -v`: how the connection travels (MySQL).
pub fn transport_human(transport: &str) -> String {
    format!("connection: {transport}\n")
}

/// `status -v`: each setting and where it came from.
pub fn settings_human(s: &crate::settings::Settings) -> String {
    format!(
        "settings:\n  database        {}  (from {})\n  migrations      {}  (from {})\n  schema          {}  (from {})\n  table           {}  (from {})\n  lock timeout    {}s  (from {})\n  connect timeout {}s  (from {})\n  statement timeout {}  (from {})\n  ddl lock wait   {}  (from {})\n  max algorithm   {}  (from {})\n  max lock        {}  (from {})\n  schema command  {}  (from {})\n  schema command timeout {}s  (from {})\n",
        s.database.value.redacted(),
        s.database.origin,
        location_human(&s.migrations.value, crate::source::describe_embedded()),
        s.migrations.origin,
        location_human(&s.schema.value, "embedded".to_string()),
        s.schema.origin,
        s.table.value,
        s.table.origin,
        s.lock_timeout.value.as_secs(),
        s.lock_timeout.origin,
        s.connect_timeout.value.as_secs(),
        s.connect_timeout.origin,
        s.statement_timeout
            .value
            .map_or("off".to_string(), |d| format!("{}s", d.as_secs())),
        s.statement_timeout.origin,
        s.ddl_lock_wait
            .value
            .map_or("off".to_string(), |d| format!("{}s", d.as_secs())),
        s.ddl_lock_wait.origin,
        s.max_algorithm.value.as_deref().unwrap_or("no gate"),
        s.max_algorithm.origin,
        s.max_lock.value.as_deref().unwrap_or("no gate"),
        s.max_lock.origin,
        s.schema_command
            .value
            .as_deref()
            .map_or("none (schema/ is the desired schema)".to_string(), crate::compare::command::shown),
        s.schema_command.origin,
        s.schema_command_timeout.value.as_secs(),
        s.schema_command_timeout.origin,
    )
}

/// A directory's path, or what to call the embedded files.
fn location_human(location: &crate::source::Location, embedded: String) -> String {
    match location {
        crate::source::Location::Dir(dir) => dir.display().to_string(),
        crate::source::Location::Embedded => embedded,
    }
}

// ---------------------------------------------------------------------------------------------
// `config status|check|upgrade`: one result type, one JSON document kind (`config`).

/// A `config` command's result.
pub struct ConfigResult<'a> {
    pub report: &'a crate::site_config::ConfigReport,
    /// `status`, `check` or `upgrade`.
    pub command: &'static str,
    pub dry_run: bool,
    /// The file was rewritten.
    pub written: bool,
}

impl ConfigResult<'_> {
    fn version_text(&self) -> String {
        match self.report.version {
            Some(v) => format!("config version {v} of {}", self.report.head),
            None => format!(
                "no aurweb-migrate line: nothing recorded as applied (newest config version {})",
                self.report.head
            ),
        }
    }
}

fn config_change_json(c: &crate::site_config::Change) -> Value {
    json!({"version": c.version, "op": c.op, "line": c.line, "message": c.message})
}

fn config_ambiguity_json(a: &crate::site_config::Ambiguity) -> Value {
    json!({
        "version": a.version,
        "op": a.op,
        "message": a.message,
        "lines": a.lines.iter().map(|(l, t)| json!({"line": l, "text": t})).collect::<Vec<_>>(),
    })
}

/// A `config` command's error document: [`error_json`] with what the file's report found
/// (`ambiguous`, `stale`; empty when the file was not evaluated), so that a refusal keeps
/// the lists the config document has.
pub fn config_error_json(e: &Error, report: Option<&crate::site_config::ConfigReport>) -> Value {
    let mut doc = error_json(e, None);
    doc["ambiguous"] = json!(report.map_or(Vec::new(), |r| r
        .ambiguous
        .iter()
        .map(config_ambiguity_json)
        .collect()));
    doc["stale"] = json!(report.map_or(Vec::new(), |r| r
        .stale
        .iter()
        .map(config_change_json)
        .collect()));
    doc
}

fn config_change_human(out: &mut String, c: &crate::site_config::Change) {
    let _ = writeln!(out, "    {:>4}  line {}: {}", c.version, c.line, c.message);
}

fn config_problems_human(r: &crate::site_config::ConfigReport) -> String {
    let mut out = String::new();
    if let Some(c) = &r.conflict {
        let _ = writeln!(out, "conflict: {c}");
    }
    for a in &r.ambiguous {
        let _ = writeln!(out, "ambiguous: {} {}: {}", a.version, a.op, a.message);
        for (line, text) in &a.lines {
            let _ = writeln!(out, "    line {line}: {text}");
        }
    }
    if !r.stale.is_empty() {
        let _ = writeln!(
            out,
            "renamed or removed by an applied config migration, but present again (not re-applied; fix by hand):"
        );
        for c in &r.stale {
            config_change_human(&mut out, c);
        }
    }
    if !r.hand_edits.is_empty() {
        let _ = writeln!(
            out,
            "edited by hand since aurweb-migrate last wrote the file (kept as they are):"
        );
        for h in &r.hand_edits {
            match &h.now {
                Some((line, text)) => {
                    let _ = writeln!(out, "    [{}] {}  line {line}: {text}", h.section, h.key);
                }
                None => {
                    let _ = writeln!(out, "    [{}] {}  (removed)", h.section, h.key);
                }
            }
        }
    }
    out
}

impl Render for ConfigResult<'_> {
    /// `check`'s verdict (status and upgrade: always true once they got this far).
    fn ok(&self) -> bool {
        self.command != "check" || !self.report.problems()
    }
    fn human(&self) -> String {
        let r = self.report;
        let mut out = String::new();
        if self.command == "upgrade" {
            if self.dry_run && r.changed() {
                out.push_str(&r.diff());
            } else if self.written {
                let _ = writeln!(
                    out,
                    "{}: upgraded to config version {}, {} change{}",
                    r.file.display(),
                    r.head,
                    r.pending_changes(),
                    if r.pending_changes() == 1 { "" } else { "s" }
                );
                for c in r.pending().flat_map(|m| &m.changes) {
                    config_change_human(&mut out, c);
                }
            } else {
                let what = if self.dry_run { "change" } else { "upgrade" };
                let _ = writeln!(
                    out,
                    "{}: nothing to {what} ({})",
                    r.file.display(),
                    self.version_text()
                );
            }
            out.push_str(&config_problems_human(r));
            return out;
        }
        let _ = writeln!(out, "{}: {}", r.file.display(), self.version_text());
        for m in &r.migrations {
            let state = if m.applied {
                "applied"
            } else if m.changes.is_empty() {
                "pending (changes nothing here)"
            } else {
                "pending"
            };
            if self.command == "check" && (m.applied || m.changes.is_empty()) {
                continue;
            }
            let _ = writeln!(out, "  {:>4}  {state:<8}  {}", m.version, m.description);
            for c in &m.changes {
                let _ = writeln!(out, "          line {}: {}", c.line, c.message);
            }
        }
        out.push_str(&config_problems_human(r));
        if self.command == "check" {
            out.push_str(if self.ok() {
                "ok: nothing to migrate in this file\n"
            } else {
                "check failed: run `aurweb-migrate config upgrade` (or fix what is listed above)\n"
            });
        }
        out
    }

    fn json(&self) -> Value {
        let r = self.report;
        let change = config_change_json;
        json!({
            "format_version": FORMAT_VERSION,
            "command": self.command,
            "file": r.file.display().to_string(),
            "changed": self.written,
            "would_change": r.changed() && !self.written,
            "dry_run": self.dry_run,
            "version": r.version,
            "head": r.head,
            "migrations": r.migrations.iter().map(|m| json!({
                "version": m.version,
                "description": m.description,
                "file": m.path.display().to_string(),
                "state": if m.applied { "applied" } else { "pending" },
                "changes": m.changes.iter().map(change).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "ambiguous": r.ambiguous.iter().map(config_ambiguity_json).collect::<Vec<_>>(),
            "stale": r.stale.iter().map(change).collect::<Vec<_>>(),
            "hand_edits": r.hand_edits.iter().map(|h| json!({
                "section": h.section,
                "key": h.key,
                "line": h.now.as_ref().map(|n| n.0),
                "text": h.now.as_ref().map(|n| n.1.clone()),
            })).collect::<Vec<_>>(),
            "conflict": r.conflict,
            "warnings": r.warnings,
            "diff": if self.dry_run && r.changed() { Some(r.diff()) } else { None },
        })
    }

    fn quiet_prints(&self) -> bool {
        self.command == "status" || (self.command == "check" && !self.ok())
    }
}
