//! How a failed statement is reported: the [`Running`] script it belongs to, and the error
//! that says where the migration stopped, what of it stays in effect ([`Aftermath`]) and what
//! to do next. Builds errors; writes nothing.

use crate::backend::{StatementError, StatementErrorKind};
use crate::error::{Aftermath, Error, MigrationFailure};
use crate::source::{Direction, Migration, Script};

/// A script being run: which migration, which of its files, which way, and for a downgrade
/// the version it goes back to (the advice after a failure names it).
#[derive(Debug, Clone, Copy)]
pub(super) struct Running<'a> {
    pub migration: &'a Migration,
    pub script: &'a Script,
    pub direction: Direction,
    /// Reverting: the version `downgrade` goes back to (unused going up).
    pub back_to: u64,
}

impl<'a> Running<'a> {
    pub fn up(migration: &'a Migration) -> Self {
        Running {
            migration,
            script: &migration.up,
            direction: Direction::Up,
            back_to: 0,
        }
    }

    pub fn down(migration: &'a Migration, script: &'a Script, back_to: u64) -> Self {
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
pub(super) fn atomic_failure(run: Running<'_>, index: usize, e: StatementError) -> Error {
    if e.kind == StatementErrorKind::ConnectionLost {
        lost(run, index, e, true)
    } else {
        failure(run, index, e, Aftermath::RolledBack)
    }
}

/// Statement `index` of `run` failed with `e`; `aftermath` says what of it stays.
pub(super) fn failure(
    run: Running<'_>,
    index: usize,
    e: StatementError,
    aftermath: Aftermath,
) -> Error {
    // The file's line: the statement's first line, moved down to the line the database named
    // within it (a syntax error deep in a DELIMITER block).
    let line = run.line(index) + e.line.map_or(0, |l| l - 1);
    let failed = Box::new(MigrationFailure {
        version: run.migration.version,
        path: run.script.path.clone(),
        line,
        message: e.message,
        statement: index + 1,
        total: run.script.statements.len(),
        next_steps: next_steps(run, index, &aftermath),
        reverting: run.reverting(),
        aftermath,
    });
    // Refused by the probes before the statement: the error is theirs, with where it stopped,
    // and what to fix is the rows.
    if e.kind == StatementErrorKind::Refused {
        let mut failed = failed;
        failed.next_steps = refused_steps(run, index, &failed.aftermath);
        return Error::DataViolation {
            violations: e.violations,
            during: Some(failed),
        };
    }
    Error::MigrationFailed(failed)
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

/// What to do after the probes refused statement `index` of `run` (going up).
fn refused_steps(run: Running<'_>, index: usize, aftermath: &Aftermath) -> Vec<String> {
    let (v, path, line) = (
        run.migration.version,
        run.script.path.display(),
        run.line(index),
    );
    match aftermath {
        Aftermath::RolledBack => vec![format!(
            "fix the rows listed above (by hand, or with a statement in {path} before line {line}) and run `aurweb-migrate upgrade` again"
        )],
        Aftermath::Committed(c) => vec![
            format!(
                "it is recorded as failed after {} of {} statements, which stay in effect",
                c.len(),
                run.script.statements.len()
            ),
            "fix the rows listed above by hand and run `aurweb-migrate upgrade --resume` (it goes on at this statement, probing again)".to_string(),
            format!("or undo the committed statements, run `aurweb-migrate resolve {v} --rolled-back`, and add the fixing statement to {path} before line {line}"),
        ],
    }
}

const WHOLE_RUN: &str =
    "the whole run was one transaction: every migration of this run was rolled back";

/// Under `--single-transaction` the whole run rolled back, not just this migration.
pub(super) fn whole_run_rolled_back(e: Error) -> Error {
    match e {
        Error::MigrationFailed(mut f) => {
            f.next_steps.insert(0, WHOLE_RUN.to_string());
            Error::MigrationFailed(f)
        }
        Error::DataViolation {
            violations,
            during: Some(mut f),
        } => {
            f.next_steps.insert(0, WHOLE_RUN.to_string());
            Error::DataViolation {
                violations,
                during: Some(f),
            }
        }
        other => other,
    }
}

/// The connection went away during statement `index`: nothing more can be recorded.
/// `in_transaction`: the statement ran in the migration's own transaction.
pub(super) fn lost(
    run: Running<'_>,
    index: usize,
    e: StatementError,
    in_transaction: bool,
) -> Error {
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
pub(super) fn numbered(statements: &[crate::source::splitter::Statement]) -> Vec<(usize, u32)> {
    statements
        .iter()
        .enumerate()
        .map(|(k, s)| (k + 1, s.line))
        .collect()
}
