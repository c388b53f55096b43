//! The only code that talks to a database. One small trait, [`Backend`], is the whole surface
//! the runner uses: lock, read and write history rows, transactions, execute one statement.
//! Backends never loop over migrations; the runner does, the same way for every dialect.

pub mod sqlite;

use std::time::Duration;

use crate::error::Result;
use crate::history::Row;
use crate::Dialect;

/// How a database is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `status`, `check`, `upgrade --dry-run`: never write, never create.
    ReadOnly,
    /// Commands that record or run migrations.
    ReadWrite,
}

/// Options of one write transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxOptions {
    /// SQLite: turn foreign-key enforcement off for the transaction and run
    /// `PRAGMA foreign_key_check` before committing (`-- aurweb-migrate: foreign-keys off`).
    pub foreign_keys_off: bool,
}

/// Timeouts every backend honours; none is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub lock: Duration,
}

/// A statement the database rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementError {
    /// The database's own message.
    pub message: String,
    /// The lock was not had in time (SQLite busy, MySQL lock wait timeout).
    pub lock_timeout: bool,
}

/// The backend seam. Methods take `&mut self`: one connection, used by one task.
#[allow(async_fn_in_trait)]
pub trait Backend {
    fn dialect(&self) -> Dialect;

    /// The target, password redacted, for messages and JSON.
    fn describe(&self) -> String;

    /// Every history row, in version order. A database without the table has an empty
    /// history; this never creates anything.
    async fn read_history(&mut self) -> Result<Vec<Row>>;

    /// Whether another process may have changed the history since the last
    /// [`read_history`](Backend::read_history). Called inside a write transaction.
    async fn history_changed(&mut self) -> Result<bool>;

    /// Takes the lock held for a whole run (MySQL `GET_LOCK`). SQLite's lock is its write
    /// transaction, so this does nothing there.
    async fn lock(&mut self) -> Result<()>;

    /// Releases the run lock.
    async fn unlock(&mut self) -> Result<()>;

    /// Starts a write transaction, waiting at most the lock timeout (then `Error::LockTimeout`).
    async fn begin(&mut self, options: TxOptions) -> Result<()>;

    /// Commits. A failed deferred check (SQLite `foreign_key_check`) rolls back and is returned as
    /// a [`StatementError`].
    async fn commit(&mut self) -> Result<std::result::Result<(), StatementError>>;

    /// Rolls back; never fails loudly (the connection may already be broken).
    async fn rollback(&mut self);

    /// Creates the history table when it does not exist. Called inside the first write
    /// transaction of a run.
    async fn ensure_table(&mut self) -> Result<()>;

    /// Runs one statement of a migration.
    async fn execute(&mut self, sql: &str) -> std::result::Result<(), StatementError>;

    async fn insert_row(&mut self, row: &Row) -> Result<()>;

    /// Rewrites the mutable columns of an existing row (state, progress, error, timings).
    async fn update_row(&mut self, row: &Row) -> Result<()>;

    async fn delete_row(&mut self, version: u64) -> Result<()>;
}
