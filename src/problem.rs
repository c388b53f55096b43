//! [`Problem`]: a conflict between the history and the files, found by the planner
//! ([`crate::plan`]) and carried by [`crate::error::Error::Refused`]. A leaf: it depends on nothing
//! in the crate, so the error type does not depend on the planner.

use std::fmt;

/// A conflict between the history and the files; any one makes `upgrade` refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Modified {
        version: u64,
        description: String,
        recorded: String,
        file: String,
        /// Whether its statements changed too: `None` when its row has no statement checksum
        /// (written by 0.1.0 or a `--sql` script), so that cannot be told.
        statements_changed: Option<bool>,
    },
    Missing {
        version: u64,
        description: String,
    },
    Failed {
        version: u64,
        description: String,
        done: u32,
        total: u32,
        error: Option<String>,
        /// Left by a reverse file that ran in steps: settled with `resolve`, never resumed.
        reverting: bool,
    },
    OutOfOrder {
        version: u64,
        description: String,
        newest: u64,
    },
    /// `--resume` asked for, but the statements that ran differ from the file's.
    CannotResume {
        version: u64,
        description: String,
        done: u32,
    },
    /// The database holds tables but no history: running the first migration on it would fail
    /// or, worse, half-succeed, so it must be adopted first. `tables`: all of them, sorted.
    Unmanaged {
        tables: Vec<String>,
    },
}

impl Problem {
    /// The machine-readable kind used in JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::Modified { .. } => "modified",
            Problem::Missing { .. } => "missing",
            Problem::Failed { .. } => "failed",
            Problem::OutOfOrder { .. } => "out-of-order",
            Problem::CannotResume { .. } => "failed",
            Problem::Unmanaged { .. } => "unmanaged",
        }
    }

    /// The version the problem is about; `None` for one about the whole database.
    pub fn version(&self) -> Option<u64> {
        match self {
            Problem::Modified { version, .. }
            | Problem::Missing { version, .. }
            | Problem::Failed { version, .. }
            | Problem::OutOfOrder { version, .. }
            | Problem::CannotResume { version, .. } => Some(*version),
            Problem::Unmanaged { .. } => None,
        }
    }

    /// The message without its `kind: ` prefix (as `upgrade` states a refusal).
    pub fn reason(&self) -> String {
        let text = self.to_string();
        match text
            .strip_prefix(self.kind())
            .and_then(|r| r.strip_prefix(": "))
        {
            Some(rest) => rest.to_string(),
            None => text,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Modified { version, description, recorded, file, statements_changed } => write!(
                f,
                "modified: {version} {description}: the file's checksum {file} differs from the recorded {recorded}{}; restore the file as it was applied, and put the change in a new migration (or accept the edit knowingly: `aurweb-migrate resolve {version} --accept-edit`)",
                match statements_changed {
                    Some(true) => ", and so do its statements",
                    Some(false) => "",
                    None => " (its row has no statement checksum, so whether only comments changed cannot be told)",
                }
            ),
            Problem::Missing { version, description } => write!(
                f,
                "missing: {version} {description} is recorded in the database but has no file: the database is ahead of this code"
            ),
            Problem::Failed { version, description, reverting: true, error, .. } => {
                write!(f, "failed: {version} {description}: its revert stopped part way")?;
                if let Some(e) = error {
                    write!(f, " ({e})")?;
                }
                write!(f, "; finish the revert by hand and run `aurweb-migrate resolve {version} --rolled-back`, or restore what it undid and run `aurweb-migrate resolve {version} --applied`")
            }
            Problem::Failed { version, description, done, total, error, .. } => {
                write!(f, "failed: {version} {description} stopped after {done} of {total} statements")?;
                if let Some(e) = error {
                    write!(f, " ({e})")?;
                }
                write!(f, "; settle it with `aurweb-migrate resolve {version} --applied` or `aurweb-migrate resolve {version} --rolled-back`, or continue it with `aurweb-migrate upgrade --resume`")
            }
            Problem::CannotResume { version, description, done } => write!(
                f,
                "failed: {version} {description} cannot be resumed: its first {done} statements, which already ran, differ from the file's; restore them, or settle it with `aurweb-migrate resolve {version} --applied` or `aurweb-migrate resolve {version} --rolled-back`"
            ),
            Problem::OutOfOrder { version, description, newest } => write!(
                f,
                "out-of-order: {version} {description} is pending but older than the newest recorded version {newest}; rename it to a newer version, or run with --allow-out-of-order"
            ),
            Problem::Unmanaged { tables } => {
                let shown: Vec<&str> = tables.iter().take(5).map(String::as_str).collect();
                write!(
                    f,
                    "unmanaged: the database holds {} table(s) ({}{}) but no migration history; adopt it first: `aurweb-migrate adopt --from alembic` for a database Alembic managed, `aurweb-migrate baseline VERSION` for any other (both compare its schema before recording anything)",
                    tables.len(),
                    shown.join(", "),
                    if tables.len() > 5 { ", …" } else { "" }
                )
            }
        }
    }
}
