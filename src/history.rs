//! The version table: its one DDL, its row type and its states. Backends read and write rows of
//! this shape; the planner compares them with the files.
//!
//! ```sql
//! CREATE TABLE aurweb_migrations (
//!   version          BIGINT       NOT NULL PRIMARY KEY, -- the file's VERSION
//!   description      VARCHAR(255) NOT NULL,             -- from the slug
//!   checksum         VARCHAR(80)  NOT NULL,             -- sha256-v1:<hex> of the file run
//!   state            VARCHAR(16)  NOT NULL,             -- applied | failed | baseline
//!   statements_done  INTEGER      NOT NULL,             -- committed statements
//!   statements_total INTEGER      NOT NULL,
//!   progress_checksum VARCHAR(80) NULL,                 -- of the statements done (resume)
//!   error_text       TEXT         NULL,                 -- why a failed migration failed
//!   applied_at       VARCHAR(32)  NOT NULL,             -- UTC, RFC 3339 with milliseconds
//!   applied_by       VARCHAR(255) NOT NULL,             -- user@host
//!   execution_ms     BIGINT       NOT NULL,
//!   tool_version     VARCHAR(32)  NOT NULL,             -- aurweb-migrate version
//!   statements_checksum VARCHAR(80) NULL                -- of the canonical statements
//! )
//! ```
//! A table written by 0.1.0 lacks `statements_checksum`: it is read as it is (the column reads
//! as NULL, [`COLUMNS_0_1`]) and gains the column, under the migration lock, from the first
//! command that writes to it ([`add_column_sql`]).
//! On MySQL/MariaDB the table is InnoDB with `utf8mb4`. Rows are written with bound parameters;
//! the table name is the only formatted identifier, validated by [`TableName`].

use std::fmt;

use crate::dialect::Dialect;
use crate::error::{Error, Result};

/// The default version-table name.
pub const DEFAULT_TABLE: &str = "aurweb_migrations";

/// A validated version-table name: `[A-Za-z_][A-Za-z0-9_]{0,63}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName(String);

impl TableName {
    pub fn new(name: &str) -> Result<Self> {
        let mut bytes = name.bytes();
        let ok = matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
            && name.len() <= 64
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if ok {
            Ok(TableName(name.to_string()))
        } else {
            Err(Error::InvalidTableName {
                context: None,
                name: name.to_string(),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name quoted as an identifier for `dialect` (backticks on MySQL, double quotes on
    /// SQLite). Validation already excludes quote characters; quoting is belt and braces.
    pub fn quoted(&self, dialect: Dialect) -> String {
        dialect.quote_ident(&self.0)
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The one DDL of the version table.
pub fn create_table_sql(table: &TableName, dialect: Dialect) -> String {
    let suffix = match dialect {
        Dialect::Mysql => " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        Dialect::Sqlite => "",
    };
    format!(
        "CREATE TABLE IF NOT EXISTS {} (\n\
         \x20 version BIGINT NOT NULL PRIMARY KEY,\n\
         \x20 description VARCHAR(255) NOT NULL,\n\
         \x20 checksum VARCHAR(80) NOT NULL,\n\
         \x20 state VARCHAR(16) NOT NULL,\n\
         \x20 statements_done INTEGER NOT NULL,\n\
         \x20 statements_total INTEGER NOT NULL,\n\
         \x20 progress_checksum VARCHAR(80) NULL,\n\
         \x20 error_text TEXT NULL,\n\
         \x20 applied_at VARCHAR(32) NOT NULL,\n\
         \x20 applied_by VARCHAR(255) NOT NULL,\n\
         \x20 execution_ms BIGINT NOT NULL,\n\
         \x20 tool_version VARCHAR(32) NOT NULL,\n\
         \x20 statements_checksum VARCHAR(80) NULL\n)\
         {suffix}",
        table.quoted(dialect)
    )
}

/// The columns 0.1.0's table has, in [`Row`]'s order (the base of the lists below).
macro_rules! columns_0_1 {
    () => {
        "version, description, checksum, state, statements_done, statements_total, progress_checksum, error_text, applied_at, applied_by, execution_ms, tool_version"
    };
}

/// The columns in the order [`Row`] lists them, for SELECT and INSERT.
pub const COLUMNS: &str = concat!(columns_0_1!(), ", statements_checksum");

/// [`COLUMNS`] for SELECT from a table written by 0.1.0, which has no `statements_checksum`.
pub const COLUMNS_0_1: &str = concat!(columns_0_1!(), ", NULL");

/// The columns 0.1.0 wrote, for INSERTs that must work on its table too (`--sql` scripts,
/// which cannot know which table they will meet).
pub const COLUMNS_WRITTEN_BY_0_1: &str = columns_0_1!();

/// Brings a table written by 0.1.0 to this release's shape (the one column it lacks; the same
/// DDL on both dialects).
pub fn add_column_sql(table: &TableName, dialect: Dialect) -> String {
    format!(
        "ALTER TABLE {} ADD COLUMN statements_checksum VARCHAR(80) NULL",
        table.quoted(dialect)
    )
}

/// The state of a recorded version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Ran to the end.
    Applied,
    /// Started and did not finish; on a dialect without transactional DDL part of it may be in
    /// effect. Settled with `resolve`.
    Failed,
    /// Recorded without running (`baseline`, `stamp`, a fresh install from `schema/`).
    Baseline,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Failed => "failed",
            State::Baseline => "baseline",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        match s {
            "applied" => Some(State::Applied),
            "failed" => Some(State::Failed),
            "baseline" => Some(State::Baseline),
            _ => None,
        }
    }
}

/// One row of the version table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub version: u64,
    pub description: String,
    pub checksum: String,
    pub state: State,
    pub statements_done: u32,
    pub statements_total: u32,
    /// Checksum of the statements done so far ([`crate::source::Script::prefix_checksum`]).
    pub progress_checksum: Option<String>,
    pub error: Option<String>,
    pub applied_at: String,
    pub applied_by: String,
    pub execution_ms: u64,
    pub tool_version: String,
    /// [`crate::source::Script::statements_checksum`] of the file that ran; `None` in rows
    /// written by 0.1.0 or by a `--sql` script.
    pub statements_checksum: Option<String>,
}

/// How the error text of a row that a stepwise revert left `failed` begins (the runner writes
/// it; [`Row::is_revert`] reads it back).
pub const REVERT_STARTED: &str = "being reverted with ";
pub const REVERT_FAILED: &str = "reverting with ";

impl Row {
    /// A `failed` row left by a reverse file that ran in steps (MySQL): its reverse statements,
    /// not its forward ones, ran in part, so `upgrade --resume` cannot continue it; it is
    /// settled with `resolve`.
    pub fn is_revert(&self) -> bool {
        self.state == State::Failed
            && self.progress_checksum.is_none()
            && self
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with(REVERT_STARTED) || e.starts_with(REVERT_FAILED))
    }
}

/// Decodes rows from a JSON array of arrays in [`COLUMNS`] order (how the SQLite backend reads
/// the whole history in one row).
pub fn rows_from_json(json: &str) -> std::result::Result<Vec<Row>, String> {
    type Raw = (
        i64,
        String,
        String,
        String,
        i64,
        i64,
        Option<String>,
        Option<String>,
        String,
        String,
        i64,
        String,
        Option<String>,
    );
    let raw: Vec<Raw> = serde_json::from_str(json).map_err(|e| e.to_string())?;
    raw.into_iter()
        .map(|r| {
            let nonneg = |name: &str, v: i64| {
                u64::try_from(v).map_err(|_| format!("column {name} holds the negative value {v}"))
            };
            let small = |name: &str, v: i64| {
                u32::try_from(v).map_err(|_| format!("column {name} holds the value {v}"))
            };
            Ok(Row {
                version: nonneg("version", r.0)?,
                description: r.1,
                checksum: r.2,
                state: State::parse(&r.3).ok_or_else(|| format!("unknown state {:?}", r.3))?,
                statements_done: small("statements_done", r.4)?,
                statements_total: small("statements_total", r.5)?,
                progress_checksum: r.6,
                error: r.7,
                applied_at: r.8,
                applied_by: r.9,
                execution_ms: nonneg("execution_ms", r.10)?,
                tool_version: r.11,
                statements_checksum: r.12,
            })
        })
        .collect()
}

/// The highest version recorded as applied or baseline (failed ones do not count).
/// The version `downgrade` without `--to` stays at: the recorded version below the newest one
/// (0 when only one is recorded), so that exactly one migration is reverted.
pub fn below_current(rows: &[Row]) -> u64 {
    let mut versions: Vec<u64> = rows
        .iter()
        .filter(|r| r.state != State::Failed)
        .map(|r| r.version)
        .collect();
    versions.sort_unstable();
    versions.pop();
    versions.pop().unwrap_or(0)
}

pub fn current(rows: &[Row]) -> Option<u64> {
    rows.iter()
        .filter(|r| r.state != State::Failed)
        .map(|r| r.version)
        .max()
}

/// The current time in UTC as RFC 3339 with milliseconds (`2026-11-26T15:04:05.123Z`).
pub fn now_utc() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// `user@host` of the process, for `applied_by` (worked out once per process).
pub fn whoami() -> String {
    static WHO: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    WHO.get_or_init(compute_whoami).clone()
}

fn compute_whoami() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(user_from_uid)
        .unwrap_or_else(|| "unknown".to_string());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_string());
    format!("{user}@{host}")
}

/// The user name of the process's real uid, from `/proc/self/status` and `/etc/passwd`.
fn user_from_uid() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let _ = f.next();
        (f.next()? == uid).then(|| name.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names() {
        for ok in ["aurweb_migrations", "_x", "A1", &"a".repeat(64)] {
            assert!(TableName::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1abc",
            "a-b",
            "a b",
            "a`b",
            "a\"b",
            "a;drop",
            &"a".repeat(65),
            "é",
        ] {
            assert!(TableName::new(bad).is_err(), "{bad}");
        }
        let t = TableName::new("v").unwrap();
        assert_eq!(t.quoted(Dialect::Mysql), "`v`");
        assert_eq!(t.quoted(Dialect::Sqlite), "\"v\"");
    }

    #[test]
    fn states_round_trip() {
        for s in [State::Applied, State::Failed, State::Baseline] {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        assert_eq!(State::parse("pending"), None);
    }

    #[test]
    fn timestamps_are_utc_rfc3339() {
        let t = now_utc();
        assert_eq!(t.len(), 24, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
    }
}
