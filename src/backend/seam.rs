//! The seam between the engine and the databases: the [`Backend`] and [`Catalogue`] traits
//! every backend implements, the values they exchange (access modes, timeouts, statement
//! errors, cluster facts), the hook through which a backend says it waits for the lock, and
//! the catalogue helpers both backends share. A leaf of `backend/`: the backends and
//! [`super::Connection`] build on it; it knows none of them.

use std::time::Duration;

use crate::dialect::Dialect;
use crate::error::Result;
use crate::history::Row;
use crate::schema::{Definition, Schema, Table};

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
    /// `--statement-timeout`: cancel a statement that runs longer (off by default).
    pub statement: Option<Duration>,
    /// `--ddl-lock-wait`: how long a DDL statement waits for its metadata lock before it is
    /// retried (MySQL; `None`: as long as any statement, the lock timeout, and no retry).
    pub ddl_lock: Option<Duration>,
}

/// A statement that did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementError {
    /// The database's own message (or the tool's, for a cancelled or lost statement).
    pub message: String,
    pub kind: StatementErrorKind,
    /// The line within the statement's text that the database names (MySQL: "… at line 3"
    /// of a syntax error), 1-based; the runner turns it into the file's line.
    pub line: Option<u32>,
    /// The live rows that refused the statement before it ran (kind `Refused`): the probes a
    /// run makes during the run, right before a statement.
    pub violations: Vec<crate::schema::probe::Violation>,
    /// The sessions that hold the metadata lock a DDL statement waited for (kind
    /// `LockWait`).
    pub blockers: Vec<crate::error::Blocker>,
}

/// Why a statement did not complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementErrorKind {
    /// The database rejected it (including lock waits that timed out and statements cancelled
    /// by `--statement-timeout`): the migration failed.
    Failed,
    /// The connection is gone or the server stopped running the statement (watchdog): the
    /// outcome is unknown to the tool and nothing more can be recorded on this connection.
    ConnectionLost,
    /// The run's check before the statement refused it, which did not run: the live rows
    /// break what it adds (`violations`). The migration failed as if the statement had.
    Refused,
    /// A DDL statement did not get its metadata lock within `--ddl-lock-wait`, retries
    /// included; it did nothing (`blockers` names who holds the lock).
    LockWait,
}

impl StatementError {
    pub fn failed(message: impl Into<String>) -> Self {
        StatementError {
            message: message.into(),
            kind: StatementErrorKind::Failed,
            line: None,
            violations: Vec::new(),
            blockers: Vec::new(),
        }
    }
}

/// Where a backend says, once, that it waits for the migration lock and who holds it: set by
/// the application to its stderr notice (the backend itself prints nothing).
#[allow(clippy::type_complexity)]
static WAIT_NOTICE: std::sync::OnceLock<(fn(&str), fn())> = std::sync::OnceLock::new();

/// Sets what [`wait_notice`] calls when a wait for the lock starts, and what is called when
/// it ends (taken, or given up); the first setting stays.
pub fn on_lock_wait(notice: fn(&str), over: fn()) {
    let _ = WAIT_NOTICE.set((notice, over));
}

/// Says that the run waits for the lock (nothing when no notice is set).
pub(crate) fn wait_notice(message: &str) {
    if let Some((notice, _)) = WAIT_NOTICE.get() {
        notice(message);
    }
}

/// Says that a wait [`wait_notice`] announced is over.
pub(crate) fn wait_over() {
    if let Some((_, over)) = WAIT_NOTICE.get() {
        over();
    }
}

/// The old transactions named before the first DDL of a run
/// ([`Backend::old_transactions`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OldTransactions {
    /// The sessions, oldest transaction first.
    pub sessions: Vec<crate::error::Blocker>,
    /// Open at least this long (`--ddl-lock-wait`, else the lock timeout).
    pub older_than: Duration,
    /// The tables the pending DDL statements name.
    pub tables: Vec<String>,
    /// Whether the server told which tables they hold (MySQL's `metadata_locks`); else every
    /// old transaction is named.
    pub tables_known: bool,
}

/// A Galera cluster as one of its nodes sees it (`status -v`, the status JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterInfo {
    /// `wsrep_cluster_size`.
    pub size: u32,
    /// `wsrep_local_state_comment`: `Synced`, `Joining`, `Donor/Desynced`, …
    pub state: String,
    /// How DDL is replicated: `TOI` (total order, the default) or `RSU`.
    pub osu_method: String,
}

/// A history row written ahead of a migration's statements ([`Backend::execute_all_after`]).
#[derive(Debug, Clone, Copy)]
pub enum RowWrite<'r> {
    /// A new row ([`Backend::insert_row`]).
    Insert(&'r Row),
    /// An existing row rewritten ([`Backend::update_row`]).
    Update(&'r Row),
}

/// The backend seam. Methods take `&mut self`: one connection, used by one task.
#[allow(async_fn_in_trait)]
pub trait Backend: Catalogue {
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

    /// The Galera cluster the server is a node of (`None`: a single server, or SQLite).
    fn cluster(&self) -> Option<ClusterInfo> {
        None
    }

    /// How the connection travels, for `status -v` (MySQL: whether TLS is in use, its version
    /// and cipher; `None` where there is no network, SQLite).
    async fn transport(&mut self) -> Result<Option<String>> {
        Ok(None)
    }

    /// Before the first write of a run that has something to do: a `not-writable` error when the
    /// database cannot take it (MySQL: a read-only server, an account that may not write the
    /// version table), so that nothing is written and no migration statement runs.
    async fn check_writable(&mut self) -> Result<()> {
        Ok(())
    }

    /// Before the first DDL statement of a run (`ddl`, the run's pending ones): the other
    /// sessions whose transaction has been open longer than a DDL statement waits for its
    /// metadata lock and that may hold one on a table those statements name. `None` where
    /// there are no metadata locks (SQLite) or nothing waits for them.
    async fn old_transactions(&mut self, ddl: &[&str]) -> Result<Option<OldTransactions>> {
        let _ = ddl;
        Ok(None)
    }

    /// Starts a write transaction, waiting at most the lock timeout (then `Error::LockTimeout`).
    async fn begin(&mut self, options: TxOptions) -> Result<()>;

    /// Commits. A failed deferred check (SQLite `foreign_key_check`) rolls back and is returned as
    /// a [`StatementError`].
    async fn commit(&mut self) -> Result<std::result::Result<(), StatementError>>;

    /// Inserts `row` and commits: the end of an atomic migration, its history row in its
    /// transaction. On a failed insert the transaction is rolled back and the error returned;
    /// a refused commit is as [`commit`](Backend::commit)'s. A backend may send the two
    /// together (SQLite: one hand-off to its worker thread instead of two).
    async fn commit_with_row(
        &mut self,
        row: &Row,
    ) -> Result<std::result::Result<(), StatementError>> {
        insert_then_commit(self, row).await
    }

    /// [`commit_with_row`](Backend::commit_with_row), then, with `next` and when that costs
    /// nothing more (SQLite: in the same hand-off, the write lock free at once), begins the
    /// transaction of the migration that follows. `Ok(Ok(true))`: it is begun, and the caller
    /// does not begin it again.
    async fn commit_with_row_then_begin(
        &mut self,
        row: &Row,
        _next: Option<TxOptions>,
    ) -> Result<std::result::Result<bool, StatementError>> {
        Ok(self.commit_with_row(row).await?.map(|()| false))
    }

    /// A whole atomic migration in the transaction the caller opened: `statements` as
    /// [`execute_all`](Backend::execute_all) runs them, then the history row `row` makes (it is
    /// asked only when they all succeeded, for their time) and the commit, as
    /// [`commit_with_row_then_begin`](Backend::commit_with_row_then_begin) with `next` makes
    /// them. A backend may do it all in one call (SQLite: one hand-off to its worker). A
    /// statement that fails leaves the transaction to the caller to roll back.
    async fn execute_all_then_commit(
        &mut self,
        statements: &[&str],
        starting: &mut dyn FnMut(usize),
        row: &mut dyn FnMut() -> Row,
        next: Option<TxOptions>,
    ) -> Result<std::result::Result<(Row, bool), AtomicEnd>> {
        execute_then_commit(self, statements, starting, row, next).await
    }

    /// Rolls back; never fails loudly (the connection may already be broken).
    async fn rollback(&mut self);

    /// Creates the history table when it does not exist. Called inside the first write
    /// transaction of a run.
    async fn ensure_table(&mut self) -> Result<()>;

    /// Runs one statement of a migration.
    async fn execute(&mut self, sql: &str) -> std::result::Result<(), StatementError>;

    /// Puts the session back as it was opened, after a migration that may have changed it
    /// ([`crate::source::Script::may_change_session`]): its settings must not reach the
    /// tool's bookkeeping or the next migration. MySQL: table locks released, `autocommit`,
    /// `sql_mode`, check flags, `NAMES` and time zone restored, and the user variables in
    /// `forget` set to NULL (the value of one never set). Outside a transaction.
    async fn reset_session(&mut self, forget: &[String]) -> Result<()> {
        let _ = forget;
        Ok(())
    }

    /// Runs statements in order, inside the caller's transaction; on failure, the 0-based index
    /// of the statement that failed. A backend may send them together (SQLite: one batch, one
    /// hand-over to its worker thread instead of one per statement). `starting` is called with
    /// each statement's 0-based index as it starts (in a batch: when the one before it has
    /// finished), for the progress display.
    async fn execute_all(
        &mut self,
        statements: &[&str],
        starting: &mut dyn FnMut(usize),
    ) -> std::result::Result<(), (usize, StatementError)> {
        for (i, sql) in statements.iter().enumerate() {
            starting(i);
            self.execute(sql).await.map_err(|e| (i, e))?;
        }
        Ok(())
    }

    /// Whether a migration run step by step may send its history writes together with its
    /// statements ([`Backend::execute_all_after`] in one round trip) and start without a
    /// transaction of its own: the backend sends them together, and no other process changes
    /// the history while the run lock is held (MySQL's `GET_LOCK`; not a Galera lease, whose
    /// every write is fenced first). `false`: every write goes alone, as
    /// [`Backend::execute_all_after`]'s default does.
    fn sends_rows_with_statements(&self) -> bool {
        false
    }

    /// Writes a history row (`write`), committed on its own outside any transaction, and then
    /// runs `statements` as [`Backend::execute_all`] does: the row is committed before the
    /// first statement starts, so a statement that fails, or a crash, finds it. A backend may
    /// send the row with the first statement (MySQL: one multi-statement round trip; the server
    /// stops at the first failure, so a row that is not written runs nothing). `Err` (outer):
    /// the row was not written and no statement ran; a lost connection is the statement's
    /// (`Ok(Err((0, e)))`: its outcome is unknown).
    async fn execute_all_after(
        &mut self,
        write: RowWrite<'_>,
        statements: &[&str],
        starting: &mut dyn FnMut(usize),
    ) -> Result<std::result::Result<(), (usize, StatementError)>> {
        match write {
            RowWrite::Insert(row) => self.insert_row(row).await?,
            RowWrite::Update(row) => self.update_row(row).await?,
        }
        Ok(self.execute_all(statements, starting).await)
    }

    async fn insert_row(&mut self, row: &Row) -> Result<()>;

    /// Rewrites the mutable columns of an existing row (state, progress, error, timings).
    async fn update_row(&mut self, row: &Row) -> Result<()>;

    async fn delete_row(&mut self, version: u64) -> Result<()>;

    /// Rewrites `done` (a stepwise migration marked `applied`) and inserts `next` (the next
    /// migration's starting `failed` row) in one transaction: one commit for the two writes
    /// that would otherwise each be one, between two migrations run step by step. Either both
    /// rows are written or neither is (the transaction is rolled back on a failure).
    async fn write_rows_together(&mut self, done: &Row, next: &Row) -> Result<()> {
        rows_in_one_transaction(self, done, next).await
    }

    /// The largest statement the server accepts, in bytes, when it has a limit that a migration
    /// can plausibly hit (MySQL `max_allowed_packet`).
    async fn max_statement_bytes(&mut self) -> Result<Option<u64>>;

    /// The largest transaction the server replicates, with the setting's name (a Galera
    /// node: `wsrep_max_ws_size`); `None` where there is no such limit.
    async fn max_transaction_bytes(&mut self) -> Result<Option<(u64, &'static str)>> {
        Ok(None)
    }

    /// Whether DDL is transactional (SQLite): a schema file then builds in one transaction;
    /// where it is not (MySQL), a failed build is undone with [`Backend::drop_tables`].
    fn transactional_ddl(&self) -> bool;

    /// The statement that turns the session's foreign key checks on or off (outside a
    /// transaction).
    fn foreign_key_checks_sql(&self, on: bool) -> &'static str;

    /// Drops these tables with foreign key checks off for the time (so no order is needed);
    /// returns the ones that could not be dropped.
    async fn drop_tables(&mut self, names: &[String]) -> Vec<String> {
        let dialect = self.dialect();
        let _ = self.execute(self.foreign_key_checks_sql(false)).await;
        let mut failed = Vec::new();
        for n in names {
            let sql = format!("DROP TABLE {}", dialect.quote_ident(n));
            if self.execute(&sql).await.is_err() {
                failed.push(n.clone());
            }
        }
        let _ = self.execute(self.foreign_key_checks_sql(true)).await;
        failed
    }
}

/// What a database holds, read from its catalogue: for `status` (tables without history),
/// schema comparison and adoption. Apart from the migration surface above; every backend
/// has both.
#[allow(async_fn_in_trait)]
pub trait Catalogue {
    /// The schema of every table but the history table and Alembic's, in the canonical model.
    async fn introspect(&mut self) -> Result<Schema>;

    /// The names of all tables but the history table (Alembic's included).
    async fn table_names(&mut self) -> Result<Vec<String>>;

    /// The revisions in Alembic's `alembic_version`; `None` when there is no such table.
    async fn alembic_revisions(&mut self) -> Result<Option<Vec<String>>>;

    /// Every row of `table` as text (NULL as `None`), sorted: for comparing seed data.
    async fn table_rows(&mut self, table: &Table) -> Result<Vec<Vec<Option<String>>>>;

    /// The database's default collation (MySQL; `None` where there is no such thing):
    /// scratch databases copy it, so tables created without a charset compare equal.
    async fn default_collation(&mut self) -> Result<Option<String>>;

    /// The stored definitions of objects outside the model or needed verbatim: on SQLite every
    /// table, index, view and trigger with its SQL (from `sqlite_master`); on MySQL views,
    /// triggers and CHECK constraints. The history table's are left out.
    async fn definitions(&mut self) -> Result<Vec<Definition>>;

    /// The statements that make an empty copy of every table but the history table (columns,
    /// keys, indexes, foreign keys; no rows), each with the table it belongs to, in an order
    /// that runs with foreign key checks off: SQLite the `sqlite_master` SQL of tables, then
    /// indexes, triggers and views; MySQL `SHOW CREATE TABLE` of each base table. For the
    /// rehearsal of pending statements, which copies the ones it needs.
    async fn copy_statements(&mut self) -> Result<Vec<Definition>>;

    /// The rows of a read-only query as text (NULL as `None`): the probes of the live rows
    /// (`schema::probe` builds them).
    async fn probe(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>>;

    /// The `ALGORITHM=` values an `ALTER TABLE` may ask for, best first (MariaDB: `INSTANT`,
    /// `NOCOPY`, `INPLACE`, `COPY`; MySQL 8 has no `NOCOPY`); empty where there is no such
    /// clause (SQLite): the DDL plan is then not applicable.
    async fn alter_algorithms(&mut self) -> Result<&'static [&'static str]> {
        Ok(&[])
    }

    /// A table's estimated rows and bytes (data and indexes), from the server's statistics
    /// (MySQL `information_schema.TABLES`); `None` where unknown.
    async fn table_size(&mut self, table: &str) -> Result<Option<(u64, u64)>> {
        let _ = table;
        Ok(None)
    }
}

/// Catalogue rows `(kind, name, table, sql)` as definitions, leaving out those of the tables
/// `history` says are the tool's own.
pub(crate) fn definitions_from(
    rows: Vec<Vec<Option<String>>>,
    history: impl Fn(&str) -> bool,
) -> Vec<Definition> {
    rows.into_iter()
        .map(|r| {
            let mut r = r.into_iter().map(Option::unwrap_or_default);
            let mut next = || r.next().unwrap_or_default();
            Definition {
                kind: next(),
                name: next(),
                table: next(),
                sql: next(),
            }
        })
        .filter(|d| !history(&d.table))
        .collect()
}

/// The query behind [`Catalogue::table_rows`]: every column of `table` cast to the dialect's
/// text type, ordered by all of them.
pub(crate) fn rows_as_text_sql(table: &Table, dialect: Dialect, text_type: &str) -> String {
    let q = |n: &str| dialect.quote_ident(n);
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("CAST({} AS {text_type})", q(&c.name)))
        .collect();
    let order: Vec<String> = (1..=columns.len()).map(|i| i.to_string()).collect();
    format!(
        "SELECT {} FROM {} ORDER BY {}",
        columns.join(", "),
        q(&table.name),
        order.join(", ")
    )
}

/// Catalogue rows as text (NULL as `None`); `describe` names the database in errors.
pub(crate) fn texts<R>(rows: &[R], describe: &str) -> Result<Vec<Vec<Option<String>>>>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    rows.iter()
        .map(|r| {
            (0..r.len())
                .map(|i| {
                    r.try_get::<Option<String>, _>(i).map_err(|e| {
                        crate::error::Error::DatabaseFailed {
                            target: describe.to_string(),
                            action: Some("reading the catalogue"),
                            message: e.to_string(),
                        }
                    })
                })
                .collect()
        })
        .collect()
}

/// The first column of each catalogue row, NULLs left out.
pub(crate) fn first_column(rows: Vec<Vec<Option<String>>>) -> Vec<String> {
    rows.into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .collect()
}

/// [`Backend::write_rows_together`] one statement at a time: `BEGIN`, the update, the insert,
/// `COMMIT`; a failure rolls the transaction back.
pub async fn rows_in_one_transaction<B: Backend + ?Sized>(
    b: &mut B,
    done: &Row,
    next: &Row,
) -> Result<()> {
    b.begin(TxOptions::default()).await?;
    let wrote = match b.update_row(done).await {
        Ok(()) => b.insert_row(next).await,
        Err(e) => Err(e),
    };
    if let Err(e) = wrote {
        b.rollback().await;
        return Err(e);
    }
    b.commit()
        .await?
        .map_err(|e| crate::error::Error::ProgressNotRecorded {
            version: done.version,
            message: e.message,
        })
}

/// How an atomic migration did not end with its commit
/// ([`Backend::execute_all_then_commit`]).
#[derive(Debug)]
pub enum AtomicEnd {
    /// Its statement at this 0-based index failed; the transaction is still open.
    Statement(usize, StatementError),
    /// The commit was refused, as [`Backend::commit`] says it may be.
    Refused(StatementError),
}

/// [`Backend::execute_all_then_commit`] as its parts: the statements, then the row and the
/// commit. The trait's default, and a backend's own way when it cannot do them together.
pub(crate) async fn execute_then_commit<B: Backend + ?Sized>(
    backend: &mut B,
    statements: &[&str],
    starting: &mut dyn FnMut(usize),
    row: &mut dyn FnMut() -> Row,
    next: Option<TxOptions>,
) -> Result<std::result::Result<(Row, bool), AtomicEnd>> {
    if let Err((i, e)) = backend.execute_all(statements, starting).await {
        return Ok(Err(AtomicEnd::Statement(i, e)));
    }
    let row = row();
    let begun = backend.commit_with_row_then_begin(&row, next).await?;
    Ok(begun.map(|b| (row, b)).map_err(AtomicEnd::Refused))
}

/// [`Backend::commit_with_row`] as two calls: the insert (rolled back when it fails), then
/// the commit. The trait's default, and a backend's own way when it cannot send them together.
pub(crate) async fn insert_then_commit<B: Backend + ?Sized>(
    backend: &mut B,
    row: &Row,
) -> Result<std::result::Result<(), StatementError>> {
    if let Err(e) = backend.insert_row(row).await {
        backend.rollback().await;
        return Err(e);
    }
    backend.commit().await
}
