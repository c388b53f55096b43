//! The only code that talks to a database. One small trait, [`Backend`], is the whole surface
//! the runner uses: lock, read and write history rows, transactions, execute one statement.
//! Backends never loop over migrations; the runner does, the same way for every dialect.

pub mod mysql;
mod seam;
pub mod server;
pub mod sqlite;
use std::time::Duration;

use crate::dialect::Dialect;
use crate::error::Result;
use crate::history::Row;
use crate::schema::{Definition, Schema, Table};

pub use seam::{
    on_lock_wait, Access, AtomicEnd, Backend, Catalogue, ClusterInfo, OldTransactions, RowWrite,
    StatementError, StatementErrorKind, Timeouts, TxOptions,
};

/// After an interrupted run dropped its connections: ends what the server may still run for
/// them (MySQL; a SQLite connection rolls back as it closes, its statement was stopped by
/// [`interrupt_statements`]).
pub async fn interrupt(timeout: Duration) {
    sqlite::interrupt_statements();
    mysql::kill_open_sessions(timeout).await;
}

/// On a signal, before the interrupted run drops its connections: stops the statements the
/// open SQLite connections run (their handles go with the connections).
pub fn interrupt_statements() {
    sqlite::interrupt_statements();
}

/// While it lives, SIGINT and SIGTERM stop the statements of the open SQLite connections at
/// once, from a thread of its own: a migration of many statements runs them on the runtime's
/// own thread (see [`sqlite::Sqlite`]'s `execute_all`), where the runtime cannot see the signal
/// until the statement ends. The runtime still sees the signal too, and ends the run.
pub struct SignalWatch(Option<tokio::sync::oneshot::Sender<()>>);

impl SignalWatch {
    pub fn start() -> SignalWatch {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let watch = move || {
            use tokio::signal::unix::{signal, SignalKind};
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                let (Ok(mut int), Ok(mut term)) = (
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::terminate()),
                ) else {
                    return;
                };
                tokio::select! {
                    _ = int.recv() => sqlite::interrupt_statements(),
                    _ = term.recv() => sqlite::interrupt_statements(),
                    _ = stopped => {}
                }
            });
        };
        match std::thread::Builder::new()
            .name("signals".into())
            .spawn(watch)
        {
            Ok(_) => SignalWatch(Some(stop)),
            Err(e) => {
                tracing::debug!("no thread to watch for signals: {e}");
                SignalWatch(None)
            }
        }
    }
}

impl Drop for SignalWatch {
    fn drop(&mut self) {
        if let Some(stop) = self.0.take() {
            let _ = stop.send(());
        }
    }
}

/// An open database of either dialect: the one place that picks a backend from the target.
/// Which one it is stays inside this module: callers see [`Backend`] and [`Catalogue`].
pub struct Connection(Open);

enum Open {
    Sqlite(sqlite::Sqlite),
    Mysql(Box<mysql::Mysql>),
}

macro_rules! delegate {
    ($self:ident, $b:ident => $e:expr) => {
        match &mut $self.0 {
            Open::Sqlite($b) => $e,
            Open::Mysql($b) => $e,
        }
    };
}

macro_rules! delegate_ref {
    ($self:ident, $b:ident => $e:expr) => {
        match &$self.0 {
            Open::Sqlite($b) => $e,
            Open::Mysql($b) => $e,
        }
    };
}

impl Connection {
    /// A scratch database of the tool's own: [`Backend::check_writable`] passes (a scratch
    /// database on a read-only server is written by an account allowed to, or its creation
    /// already failed, saying why).
    pub(crate) fn for_scratch(mut self) -> Connection {
        if let Open::Mysql(m) = &mut self.0 {
            m.skip_write_check();
        }
        self
    }

    /// Opens the target. `Ok(None)`: read-only access to a SQLite file that does not exist
    /// (nothing to read, and nothing is created).
    pub async fn open(
        target: &crate::settings::target::DatabaseTarget,
        access: Access,
        table: crate::history::TableName,
        timeouts: Timeouts,
    ) -> Result<Option<Connection>> {
        use crate::settings::target::DatabaseTarget;
        match target {
            DatabaseTarget::Sqlite { path } => {
                Ok(sqlite::Sqlite::open(path, access, table, timeouts)
                    .await?
                    .map(|b| Connection(Open::Sqlite(b))))
            }
            DatabaseTarget::Mysql(t) => Ok(Some(Connection(Open::Mysql(Box::new(
                mysql::Mysql::open(t, target.redacted(), access, table, timeouts).await?,
            ))))),
        }
    }

    /// A new, empty SQLite database in memory, open for writing (a scratch database).
    pub async fn open_sqlite_in_memory(
        table: crate::history::TableName,
        timeouts: Timeouts,
    ) -> Result<Connection> {
        let b = sqlite::Sqlite::open_in_memory(table, timeouts).await?;
        Ok(Connection(Open::Sqlite(b)))
    }

    /// Closes the connection; never waits longer than the connect timeout.
    pub async fn close(self) {
        match self.0 {
            Open::Sqlite(b) => b.close().await,
            Open::Mysql(b) => b.close().await,
        }
    }

    /// Ends a connection whose work was dropped, maybe mid-statement, without waiting for that
    /// statement (MySQL: `KILL CONNECTION` from a new connection; SQLite runs no statement
    /// once its work is dropped, and closes as usual).
    pub async fn end(self) {
        match self.0 {
            Open::Sqlite(b) => b.close().await,
            Open::Mysql(b) => b.end().await,
        }
    }
}

impl Backend for Connection {
    fn dialect(&self) -> Dialect {
        delegate_ref!(self, b => b.dialect())
    }
    fn describe(&self) -> String {
        delegate_ref!(self, b => b.describe())
    }
    async fn read_history(&mut self) -> Result<Vec<Row>> {
        delegate!(self, b => b.read_history().await)
    }
    async fn history_changed(&mut self) -> Result<bool> {
        delegate!(self, b => b.history_changed().await)
    }
    async fn lock(&mut self) -> Result<()> {
        delegate!(self, b => b.lock().await)
    }
    async fn unlock(&mut self) -> Result<()> {
        delegate!(self, b => b.unlock().await)
    }
    async fn begin(&mut self, options: TxOptions) -> Result<()> {
        delegate!(self, b => b.begin(options).await)
    }
    async fn commit(&mut self) -> Result<std::result::Result<(), StatementError>> {
        delegate!(self, b => b.commit().await)
    }

    async fn commit_with_row(
        &mut self,
        row: &Row,
    ) -> Result<std::result::Result<(), StatementError>> {
        delegate!(self, b => b.commit_with_row(row).await)
    }
    async fn commit_with_row_then_begin(
        &mut self,
        row: &Row,
        next: Option<TxOptions>,
    ) -> Result<std::result::Result<bool, StatementError>> {
        delegate!(self, b => b.commit_with_row_then_begin(row, next).await)
    }
    async fn execute_all_then_commit(
        &mut self,
        statements: &[&str],
        starting: &mut dyn FnMut(usize),
        row: &mut dyn FnMut() -> Row,
        next: Option<TxOptions>,
    ) -> Result<std::result::Result<(Row, bool), AtomicEnd>> {
        delegate!(self, b => b.execute_all_then_commit(statements, starting, row, next).await)
    }
    async fn rollback(&mut self) {
        delegate!(self, b => b.rollback().await)
    }
    async fn check_writable(&mut self) -> Result<()> {
        delegate!(self, b => b.check_writable().await)
    }
    async fn old_transactions(&mut self, ddl: &[&str]) -> Result<Option<OldTransactions>> {
        delegate!(self, b => b.old_transactions(ddl).await)
    }
    async fn transport(&mut self) -> Result<Option<String>> {
        delegate!(self, b => b.transport().await)
    }
    fn cluster(&self) -> Option<ClusterInfo> {
        delegate_ref!(self, b => b.cluster())
    }

    async fn ensure_table(&mut self) -> Result<()> {
        delegate!(self, b => b.ensure_table().await)
    }
    async fn execute(&mut self, sql: &str) -> std::result::Result<(), StatementError> {
        delegate!(self, b => b.execute(sql).await)
    }
    async fn reset_session(&mut self, forget: &[String]) -> Result<()> {
        delegate!(self, b => b.reset_session(forget).await)
    }
    async fn execute_all(
        &mut self,
        statements: &[&str],
        starting: &mut dyn FnMut(usize),
    ) -> std::result::Result<(), (usize, StatementError)> {
        delegate!(self, b => b.execute_all(statements, starting).await)
    }
    fn sends_rows_with_statements(&self) -> bool {
        delegate_ref!(self, b => b.sends_rows_with_statements())
    }
    async fn execute_all_after(
        &mut self,
        write: RowWrite<'_>,
        statements: &[&str],
        starting: &mut dyn FnMut(usize),
    ) -> Result<std::result::Result<(), (usize, StatementError)>> {
        delegate!(self, b => b.execute_all_after(write, statements, starting).await)
    }
    async fn insert_row(&mut self, row: &Row) -> Result<()> {
        delegate!(self, b => b.insert_row(row).await)
    }
    async fn update_row(&mut self, row: &Row) -> Result<()> {
        delegate!(self, b => b.update_row(row).await)
    }
    async fn delete_row(&mut self, version: u64) -> Result<()> {
        delegate!(self, b => b.delete_row(version).await)
    }
    async fn write_rows_together(&mut self, done: &Row, next: &Row) -> Result<()> {
        delegate!(self, b => b.write_rows_together(done, next).await)
    }
    async fn max_transaction_bytes(&mut self) -> Result<Option<(u64, &'static str)>> {
        delegate!(self, b => b.max_transaction_bytes().await)
    }
    async fn max_statement_bytes(&mut self) -> Result<Option<u64>> {
        delegate!(self, b => b.max_statement_bytes().await)
    }
    fn transactional_ddl(&self) -> bool {
        delegate_ref!(self, b => b.transactional_ddl())
    }
    fn foreign_key_checks_sql(&self, on: bool) -> &'static str {
        delegate_ref!(self, b => b.foreign_key_checks_sql(on))
    }
    async fn drop_tables(&mut self, names: &[String]) -> Vec<String> {
        delegate!(self, b => b.drop_tables(names).await)
    }
}

impl Catalogue for Connection {
    async fn introspect(&mut self) -> Result<Schema> {
        delegate!(self, b => b.introspect().await)
    }
    async fn table_names(&mut self) -> Result<Vec<String>> {
        delegate!(self, b => b.table_names().await)
    }
    async fn alembic_revisions(&mut self) -> Result<Option<Vec<String>>> {
        delegate!(self, b => b.alembic_revisions().await)
    }
    async fn table_rows(&mut self, table: &Table) -> Result<Vec<Vec<Option<String>>>> {
        delegate!(self, b => b.table_rows(table).await)
    }
    async fn default_collation(&mut self) -> Result<Option<String>> {
        delegate!(self, b => b.default_collation().await)
    }
    async fn definitions(&mut self) -> Result<Vec<Definition>> {
        delegate!(self, b => b.definitions().await)
    }
    async fn copy_statements(&mut self) -> Result<Vec<crate::schema::Definition>> {
        delegate!(self, b => b.copy_statements().await)
    }
    async fn probe(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
        delegate!(self, b => b.probe(sql).await)
    }
    async fn alter_algorithms(&mut self) -> Result<&'static [&'static str]> {
        delegate!(self, b => b.alter_algorithms().await)
    }
    async fn table_size(&mut self, table: &str) -> Result<Option<(u64, u64)>> {
        delegate!(self, b => b.table_size(table).await)
    }
}
