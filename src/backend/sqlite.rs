//! The SQLite backend (sqlx, bundled libsqlite3). Its lock is the write transaction:
//! `BEGIN IMMEDIATE` with a busy timeout of `--lock-timeout`; `PRAGMA data_version` tells when
//! another process committed since the history was read, so the runner re-reads it only then.

use std::path::{Path, PathBuf};

use libsqlite3_sys as ffi;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Row as _};

use super::seam::{Access, AtomicEnd, Backend, Catalogue, StatementError, Timeouts, TxOptions};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::history::{self, Row, TableName};
use crate::schema::{self, Column, ForeignKey, RawTable, Schema, Table};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// An open SQLite database.
pub struct Sqlite {
    /// Listed for [`interrupt_statements`] while `conn` is open. Declared before `conn`, so it
    /// leaves the list before the connection closes on drop; [`Sqlite::close`] drops it first.
    listed: Listed,
    conn: SqliteConnection,
    path: PathBuf,
    table: TableName,
    /// `PRAGMA data_version` as of the last history read.
    data_version: i64,
    table_exists: bool,
    /// The table was written by 0.1.0 (no `statements_checksum`): the next write transaction
    /// adds the column first ([`Sqlite::bring_table_forward`]).
    table_old: bool,
    /// The column was added in the open transaction (a rollback takes it away again).
    table_altered_in_tx: bool,
    foreign_keys_off: bool,
    /// `PRAGMA data_version` read together with the last `BEGIN IMMEDIATE`.
    tx_data_version: Option<i64>,
    timeouts: Timeouts,
    /// The wait for the write lock was announced (once a run).
    wait_announced: bool,
    /// Opened read-only: this process may not open the file for writing.
    read_only: bool,
}

/// A migration this big (its statements' bytes) runs with SQLite's page cache at
/// [`BIG_CACHE_KIB`] instead of the default 2 MB: the file's text is in memory already, and the
/// cache would only add to the peak (docs/BENCHMARKS.md, issue 31). Smaller ones keep the default.
const BIG_BYTES: usize = 4 * 1024 * 1024;
/// `PRAGMA cache_size` (negative: KiB) while a migration of [`BIG_BYTES`] or more runs.
const BIG_CACHE_KIB: i64 = 512;

const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_READONLY: i64 = 8;

/// How long a `BEGIN IMMEDIATE` may wait for another writer before the run says it waits.
const WAIT_NOTICE_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

impl Sqlite {
    /// Opens the database at `path`. With [`Access::ReadOnly`] a missing file gives `Ok(None)`
    /// (nothing to read, and nothing is created); an existing file opens read-write when it is
    /// writable, so a hot journal left by a crash is rolled back, and read-only otherwise.
    /// With [`Access::ReadWrite`] a missing file is created.
    pub async fn open(
        path: &Path,
        access: Access,
        table: TableName,
        timeouts: Timeouts,
    ) -> Result<Option<Sqlite>> {
        let exists = path.exists();
        if access == Access::ReadOnly && !exists {
            return Ok(None);
        }
        // Writable means "this process may open it for writing" (access(2) semantics, so root
        // may write a 0444 file), tested without changing the file. A file that is not is
        // opened read-only whatever the access: what reads works, and a run with writes to
        // make is told by `check_writable` before any.
        let read_only = exists && std::fs::OpenOptions::new().write(true).open(path).is_err();
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(access == Access::ReadWrite)
            .read_only(read_only)
            .busy_timeout(timeouts.lock)
            .foreign_keys(true)
            .disable_statement_logging();
        let conn = tokio::time::timeout(timeouts.connect, options.connect())
            .await
            .map_err(|_| Error::Connect {
                target: path.display().to_string(),
                message: format!("timed out after {}s", timeouts.connect.as_secs()),
            })?
            .map_err(|e| match unwritable_directory(path, exists) {
                Some(why) => connect_error(path, &why),
                None => connect_error(path, &e),
            })?;
        let mut db = Sqlite::wrap(conn, path.to_path_buf(), table, timeouts).await?;
        db.read_only = read_only;
        Ok(Some(db))
    }

    /// Opens a new, empty database in memory (a scratch database: nothing on disk, gone
    /// when the connection closes).
    pub async fn open_in_memory(table: TableName, timeouts: Timeouts) -> Result<Sqlite> {
        let path = Path::new(":memory:");
        let options = SqliteConnectOptions::new()
            .in_memory(true)
            .foreign_keys(true)
            .disable_statement_logging();
        let conn = options
            .connect()
            .await
            .map_err(|e| connect_error(path, &e))?;
        Sqlite::wrap(conn, path.to_path_buf(), table, timeouts).await
    }

    /// The history rows from [`Backend::read_history`]'s JSON array.
    fn rows_from_json(&self, json: &str) -> Result<Vec<Row>> {
        history::rows_from_json(json).map_err(|message| Error::UnreadableRow {
            target: self.path.display().to_string(),
            table: self.table.to_string(),
            message,
        })
    }

    async fn wrap(
        mut conn: SqliteConnection,
        path: PathBuf,
        table: TableName,
        timeouts: Timeouts,
    ) -> Result<Sqlite> {
        let listed = match Listed::new(&mut conn, busy_ms(&timeouts)).await {
            Ok(listed) => listed,
            Err(e) => {
                let _ = conn.close().await;
                return Err(connect_error(&path, &e));
            }
        };
        Ok(Sqlite {
            listed,
            conn,
            path,
            table,
            data_version: 0,
            table_exists: false,
            table_old: false,
            table_altered_in_tx: false,
            foreign_keys_off: false,
            tx_data_version: None,
            timeouts,
            wait_announced: false,
            read_only: false,
        })
    }

    /// COMMIT, after the deferred foreign key check of a `foreign-keys off` transaction.
    async fn commit_work(&mut self) -> Result<std::result::Result<(), StatementError>> {
        if self.foreign_keys_off {
            let violations = sqlx::query("PRAGMA foreign_key_check")
                .fetch_all(&mut self.conn)
                .await
                .map_err(|e| self.db_error(&e))?;
            if !violations.is_empty() {
                let mut list: Vec<String> = violations
                    .iter()
                    .take(5)
                    .map(|r| {
                        let table: String = r.try_get(0).unwrap_or_default();
                        let rowid: Option<i64> = r.try_get(1).unwrap_or_default();
                        let parent: String = r.try_get(2).unwrap_or_default();
                        format!(
                            "{table} rowid {} references a missing row of {parent}",
                            rowid.map_or("?".to_string(), |r| r.to_string())
                        )
                    })
                    .collect();
                if violations.len() > 5 {
                    list.push(format!("and {} more", violations.len() - 5));
                }
                self.rollback().await;
                return Ok(Err(StatementError::failed(format!(
                    "foreign key check failed: {}",
                    list.join("; ")
                ))));
            }
        }
        let result = self.plain("COMMIT").await;
        self.restore_foreign_keys().await;
        result.map(Ok)
    }

    /// Adds the column a table written by 0.1.0 lacks, inside the write transaction just
    /// begun (SQLite's DDL is transactional: a rollback undoes it, and the next transaction
    /// adds it again). Another process may have added it since the history was read: its
    /// "duplicate column" is success.
    async fn bring_table_forward(&mut self) -> Result<()> {
        if !self.table_old {
            return Ok(());
        }
        let ddl = history::add_column_sql(&self.table, Dialect::Sqlite);
        match sqlx::raw_sql(&ddl).execute(&mut self.conn).await {
            Ok(_) => {}
            Err(e) if message(&e).contains("duplicate column name") => {}
            Err(e) => return Err(self.db_error(&e)),
        }
        tracing::info!(table = %self.table, "added the column statements_checksum to the version table");
        self.table_old = false;
        self.table_altered_in_tx = true;
        Ok(())
    }

    async fn plain(&mut self, sql: &str) -> Result<()> {
        sqlx::raw_sql(sql)
            .execute(&mut self.conn)
            .await
            .map(|_| ())
            .map_err(|e| self.db_error(&e))
    }

    fn db_error(&self, e: &sqlx::Error) -> Error {
        self.error_of(code(e), message(e))
    }

    /// The error of a database call that failed with result `code` and `message` (through sqlx
    /// or on the handle itself).
    fn error_of(&self, code: Option<i64>, message: String) -> Error {
        match code.map(|c| c & 0xff) {
            Some(SQLITE_BUSY | SQLITE_LOCKED) => self.lock_timeout(),
            Some(SQLITE_READONLY) => Error::DatabaseFileNotWritable {
                path: self.path.clone(),
                why: format!("SQLite refused to write: {message}"),
            },
            _ => Error::DatabaseFailed {
                target: self.path.display().to_string(),
                action: None,
                message,
            },
        }
    }

    fn lock_timeout(&self) -> Error {
        Error::LockTimeout {
            seconds: self.timeouts.lock.as_secs(),
            holder: Some(format!(
                "another connection writing to {}",
                self.path.display()
            )),
        }
    }

    /// `BEGIN IMMEDIATE` and the data version on the connection's own handle, in one hand-off
    /// to sqlx's worker instead of a statement's several, when the write lock is free now:
    /// `None` when it is not (or anything else failed; nothing is left begun), and the caller
    /// waits for it the way that can say it waits ([`Sqlite::begin_waiting`]).
    async fn begin_on_handle(&mut self) -> Option<i64> {
        let wait_ms = self.busy_ms();
        let mut handle = self.conn.lock_handle().await.ok()?;
        begin_without_waiting(handle.as_raw_handle().as_ptr(), wait_ms)
    }

    /// Whether a transaction's end may go on the connection's own handle, and then whether the
    /// next one, with `next`, begins there too: `None` where the commit checks foreign keys
    /// first or the version table needs its column added (the usual separate calls), and no
    /// next begin for one with foreign keys off (its `PRAGMA` comes before its transaction).
    /// Nothing on the handle waits: a COMMIT that finds readers is sent again through sqlx,
    /// which waits up to the lock timeout where a signal can still end the run, and a next
    /// transaction another writer keeps from beginning is left to the caller's `begin`.
    fn ends_on_handle(&self, next: Option<TxOptions>) -> Option<bool> {
        (!self.foreign_keys_off && !self.table_old)
            .then(|| next.is_some_and(|o| !o.foreign_keys_off))
    }

    /// After [`end_on_handle`]: a COMMIT that found readers is sent again through sqlx, which
    /// waits for them; then the transaction's end is noted, and a next one begun with it
    /// becomes the open transaction (`Ok(Ok(true))`).
    async fn after_end(
        &mut self,
        ended: std::result::Result<Option<Option<i64>>, (Option<i64>, String)>,
    ) -> Result<std::result::Result<bool, StatementError>> {
        let ended = match ended {
            Ok(Some(begun)) => Ok(begun),
            Ok(None) => sqlx::raw_sql("COMMIT")
                .execute(&mut self.conn)
                .await
                .map(|_| None)
                .map_err(|e| (code(&e), message(&e))),
            Err(e) => Err(e),
        };
        self.transaction_ended(ended.is_ok());
        match ended {
            Ok(begun) => {
                if begun.is_some() {
                    self.tx_data_version = begun;
                }
                Ok(Ok(begun.is_some()))
            }
            Err((rc, m)) => Err(self.error_of(rc, m)),
        }
    }

    /// `BEGIN IMMEDIATE` through sqlx, waiting for another writer up to the lock timeout and
    /// saying so once a run when that takes longer than a second; the data version read in
    /// the same hand-off, for `history_changed`.
    async fn begin_waiting(&mut self) -> std::result::Result<i64, sqlx::Error> {
        let notice = (!self.wait_announced && self.timeouts.lock > WAIT_NOTICE_AFTER).then(|| {
            format!(
                "waiting up to {}s (--lock-timeout) for the write lock on {}, held by another connection writing to it",
                self.timeouts.lock.as_secs(),
                self.path.display()
            )
        });
        let begin = sqlx::raw_sql("BEGIN IMMEDIATE; SELECT data_version FROM pragma_data_version")
            .fetch_one(&mut self.conn);
        let begun = match notice {
            None => begin.await,
            Some(message) => {
                tokio::pin!(begin);
                tokio::select! {
                    r = &mut begin => r,
                    _ = tokio::time::sleep(WAIT_NOTICE_AFTER) => {
                        super::seam::wait_notice(&message);
                        self.wait_announced = true;
                        let r = begin.await;
                        super::seam::wait_over();
                        r
                    }
                }
            }
        };
        begun.and_then(|row| row.try_get::<i64, _>(0))
    }

    /// How long the connection waits for another one's lock ([`busy_ms`]).
    fn busy_ms(&self) -> i32 {
        busy_ms(&self.timeouts)
    }

    /// After a transaction ends: a version-table column added in it stays only if it
    /// committed; otherwise it was rolled back with the rest, and the next write adds it again.
    fn transaction_ended(&mut self, committed: bool) {
        if std::mem::take(&mut self.table_altered_in_tx) && !committed {
            self.table_old = true;
        }
    }

    /// The INSERT of a whole history row, its values `?1` to `?13` in [`history::COLUMNS`] order.
    fn insert_sql(&self) -> String {
        format!(
            "INSERT INTO {} ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            self.table.quoted(Dialect::Sqlite),
            history::COLUMNS
        )
    }

    async fn data_version(&mut self) -> Result<i64> {
        let v: i64 = sqlx::query_scalar("PRAGMA data_version")
            .fetch_one(&mut self.conn)
            .await
            .map_err(|e| self.db_error(&e))?;
        Ok(v)
    }
}

/// The handles of the open connections (an id, the handle's address), for
/// [`interrupt_statements`]. An entry leaves the list, under its lock, before its connection
/// closes, so every handle in it is open while the lock is held.
static LISTED: Mutex<Vec<(u64, usize)>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(0);
/// Set by [`interrupt_statements`]: a run of statements on the handle starts no further one.
static STOPPING: AtomicBool = AtomicBool::new(false);

fn listed() -> std::sync::MutexGuard<'static, Vec<(u64, usize)>> {
    LISTED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A connection's place in [`LISTED`], from its opening until it is dropped.
struct Listed(u64);

impl Listed {
    /// Lists the handle of `conn` and gives it the busy handler that waits up to `wait_ms` and
    /// stops waiting on a signal ([`set_busy_wait`]): one hand-over to sqlx's worker, when the
    /// connection opens.
    async fn new(
        conn: &mut SqliteConnection,
        wait_ms: i32,
    ) -> std::result::Result<Listed, sqlx::Error> {
        let handle = conn.lock_handle().await?.as_raw_handle();
        set_busy_wait(handle.as_ptr(), wait_ms);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        listed().push((id, handle.as_ptr().expose_provenance()));
        Ok(Listed(id))
    }
}

impl Drop for Listed {
    fn drop(&mut self) {
        listed().retain(|&(id, _)| id != self.0);
    }
}

/// SIGINT or SIGTERM: stops the statement each open connection runs now (`sqlite3_interrupt`:
/// it fails with "interrupted" and its transaction rolls back) and keeps
/// [`Sqlite::execute_all`] from starting another. Safe to call from any thread, while the
/// statements run on sqlx's worker or on the runtime's own thread.
pub fn interrupt_statements() {
    STOPPING.store(true, Ordering::SeqCst);
    for &(_, address) in listed().iter() {
        let db = std::ptr::with_exposed_provenance_mut::<ffi::sqlite3>(address);
        // SAFETY: `db` is the handle of an open connection (its entry leaves the list, under
        // the lock held here, before the connection closes), and `sqlite3_interrupt` may be
        // called from any thread while the connection runs a statement on another one.
        unsafe { ffi::sqlite3_interrupt(db) };
    }
}

/// Why a new database file cannot be made in its directory, in words (SQLite itself only says
/// "unable to open database file", code 14): the directory is missing, or this user may not
/// create files in it. `None` when neither is the reason.
fn unwritable_directory(path: &Path, exists: bool) -> Option<String> {
    if exists {
        return None;
    }
    let dir = directory_of(path);
    if !dir.is_dir() {
        return Some(format!(
            "the directory {} does not exist; create it first (the database file is created, its directory is not)",
            dir.display()
        ));
    }
    probe_directory(dir).err().map(|e| {
        format!(
            "cannot create the database file in {}: {e} (the user running the tool needs write permission on the directory, for the file and its journal)",
            dir.display()
        )
    })
}

fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Whether this user may create files in `dir`: a probe file, gone again at once (the only
/// test that is right for every user and ACL).
fn probe_directory(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".aurweb-migrate-probe-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

fn connect_error(path: &Path, e: &dyn std::fmt::Display) -> Error {
    Error::Connect {
        target: path.display().to_string(),
        message: e.to_string(),
    }
}

fn message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    }
}

/// Runs each statement with `sqlite3_prepare_v2`, `sqlite3_step` until done and
/// `sqlite3_finalize`, in order; on failure, the 0-based index of the statement and the
/// database's message. `db` must be a handle the caller has to itself for the call (sqlx's
/// `LockedSqliteHandle`); every statement prepared here is finalized before returning.
fn run_on_handle(
    db: *mut ffi::sqlite3,
    statements: &[&str],
    starting: &mut dyn FnMut(usize),
) -> std::result::Result<(), (usize, StatementError)> {
    use std::os::raw::{c_char, c_int};
    let failed = |rc: c_int| {
        // SAFETY: `db` is a valid open handle; the message is copied at once.
        let text = unsafe { std::ffi::CStr::from_ptr(ffi::sqlite3_errmsg(db)) };
        statement_failed(
            text.to_string_lossy().into_owned(),
            matches!(i64::from(rc) & 0xff, SQLITE_BUSY | SQLITE_LOCKED),
        )
    };
    for (i, sql) in statements.iter().enumerate() {
        if STOPPING.load(Ordering::SeqCst) {
            return Err((i, StatementError::failed("interrupted")));
        }
        starting(i);
        let mut rest = sql.as_bytes();
        while !rest.iter().all(u8::is_ascii_whitespace) {
            let Ok(len) = c_int::try_from(rest.len()) else {
                return Err((i, StatementError::failed("statement too large for SQLite")));
            };
            let mut stmt: *mut ffi::sqlite3_stmt = std::ptr::null_mut();
            let mut tail: *const c_char = std::ptr::null();
            // SAFETY: `rest` is valid for `len` bytes and outlives the call; `stmt` and `tail`
            // are out-parameters.
            let rc = unsafe {
                ffi::sqlite3_prepare_v2(db, rest.as_ptr().cast(), len, &mut stmt, &mut tail)
            };
            if rc != ffi::SQLITE_OK {
                return Err((i, failed(rc)));
            }
            let used = if tail.is_null() {
                rest.len()
            } else {
                (tail as usize - rest.as_ptr() as usize).min(rest.len())
            };
            rest = &rest[used..];
            if stmt.is_null() {
                continue; // only a comment was left
            }
            let rc = loop {
                // SAFETY: `stmt` was prepared above and is not finalized yet.
                let rc = unsafe { ffi::sqlite3_step(stmt) };
                if rc != ffi::SQLITE_ROW {
                    break rc;
                }
            };
            let error = (rc != ffi::SQLITE_DONE).then(|| failed(rc));
            // SAFETY: finalized once, after its last use.
            unsafe { ffi::sqlite3_finalize(stmt) };
            if let Some(e) = error {
                return Err((i, e));
            }
        }
    }
    Ok(())
}

/// How long a connection waits for another one's lock: `--lock-timeout`, in milliseconds
/// ([`set_busy_wait`]).
fn busy_ms(timeouts: &Timeouts) -> i32 {
    i32::try_from(timeouts.lock.as_millis()).unwrap_or(i32::MAX)
}

/// A value bound to a parameter of a statement run by [`run_bound`].
enum Bound<'a> {
    Int(i64),
    Text(&'a str),
    Null,
}

/// Runs one statement on the handle with `params` bound to `?1`, `?2`, …, stepping it to the
/// end: the first column of its first row as an integer, when it returns one. `Err`: the
/// result code and the database's message. Like [`run_on_handle`], `db` must be a handle the
/// caller has to itself; the statement is finalized before returning.
fn run_bound(
    db: *mut ffi::sqlite3,
    sql: &str,
    params: &[Bound<'_>],
) -> std::result::Result<Option<i64>, (i64, String)> {
    use std::os::raw::c_int;
    let failed = |rc: c_int| {
        // SAFETY: `db` is a valid open handle; the message is copied at once.
        let text = unsafe { std::ffi::CStr::from_ptr(ffi::sqlite3_errmsg(db)) };
        (i64::from(rc), text.to_string_lossy().into_owned())
    };
    let too_long = || (i64::from(ffi::SQLITE_TOOBIG), "value too long".to_string());
    let len = c_int::try_from(sql.len()).map_err(|_| too_long())?;
    let mut stmt: *mut ffi::sqlite3_stmt = std::ptr::null_mut();
    // SAFETY: `sql` is valid for `len` bytes; `stmt` is an out-parameter.
    let rc = unsafe {
        ffi::sqlite3_prepare_v2(
            db,
            sql.as_ptr().cast(),
            len,
            &mut stmt,
            std::ptr::null_mut(),
        )
    };
    if rc != ffi::SQLITE_OK || stmt.is_null() {
        return Err(failed(rc));
    }
    let mut rc = ffi::SQLITE_OK;
    for (i, param) in params.iter().enumerate() {
        let at = i as c_int + 1;
        // SAFETY: `stmt` is prepared and not finalized; a bound text lives in `params`, which
        // outlives the statement (SQLITE_STATIC: SQLite does not copy it).
        rc = unsafe {
            match param {
                Bound::Int(v) => ffi::sqlite3_bind_int64(stmt, at, *v),
                Bound::Null => ffi::sqlite3_bind_null(stmt, at),
                Bound::Text(t) => match c_int::try_from(t.len()) {
                    Ok(n) => {
                        ffi::sqlite3_bind_text(stmt, at, t.as_ptr().cast(), n, ffi::SQLITE_STATIC())
                    }
                    Err(_) => ffi::SQLITE_TOOBIG,
                },
            }
        };
        if rc != ffi::SQLITE_OK {
            break;
        }
    }
    let mut first = None;
    if rc == ffi::SQLITE_OK {
        rc = loop {
            // SAFETY: `stmt` is prepared and not finalized.
            let step = unsafe { ffi::sqlite3_step(stmt) };
            if step != ffi::SQLITE_ROW {
                break step;
            }
            if first.is_none() {
                // SAFETY: a row is current.
                first = Some(unsafe { ffi::sqlite3_column_int64(stmt, 0) });
            }
        };
    }
    let result = if rc == ffi::SQLITE_DONE || rc == ffi::SQLITE_OK {
        Ok(first)
    } else {
        Err(failed(rc))
    };
    // SAFETY: finalized once, after its last use.
    unsafe { ffi::sqlite3_finalize(stmt) };
    result
}

/// Runs `sql` (no parameters) on the handle with a busy timeout of 0, so that it fails with
/// `SQLITE_BUSY` at once where it would wait for another connection, then puts the
/// connection's own busy timeout (`wait_ms`) back. A wait on the handle would hold the
/// runtime's thread, and `sqlite3_interrupt` does not end a wait for a lock.
fn without_waiting(
    db: *mut ffi::sqlite3,
    wait_ms: i32,
    sql: &str,
) -> std::result::Result<Option<i64>, (i64, String)> {
    // SAFETY: `db` is an open handle the caller has to itself for the call; a timeout of 0
    // removes the busy handler.
    unsafe { ffi::sqlite3_busy_timeout(db, 0) };
    let result = run_bound(db, sql, &[]);
    set_busy_wait(db, wait_ms);
    result
}

/// [`run_on_handle`], with a larger page cache for a migration of [`BIG_BYTES`] or more.
fn run_sized(
    db: *mut ffi::sqlite3,
    statements: &[&str],
    starting: &mut dyn FnMut(usize),
) -> std::result::Result<(), (usize, StatementError)> {
    let bytes: usize = statements.iter().map(|s| s.len()).sum();
    if bytes < BIG_BYTES {
        return run_on_handle(db, statements, starting);
    }
    let before = cache_size(db);
    set_cache_size(db, -BIG_CACHE_KIB);
    let result = run_on_handle(db, statements, starting);
    if let Some(before) = before {
        set_cache_size(db, before);
    }
    result
}

/// The history row's `INSERT` (`sql` with `row` bound) and `COMMIT` on the handle, and with
/// `begin_next` the next `BEGIN IMMEDIATE`, none of them waiting for another connection.
/// `Ok(None)`: the COMMIT found readers (the transaction is still open); `Ok(Some(begun))`:
/// committed, and the next transaction begun with its data version when `begun` holds one.
/// `Err`: the result code and message; a failed `INSERT` is rolled back.
fn end_on_handle(
    db: *mut ffi::sqlite3,
    (sql, row): (&str, &Row),
    wait_ms: i32,
    begin_next: bool,
) -> std::result::Result<Option<Option<i64>>, (Option<i64>, String)> {
    if let Err((rc, m)) = run_bound(db, sql, &bound_row(row)) {
        let _ = run_bound(db, "ROLLBACK", &[]);
        return Err((Some(rc), m));
    }
    match without_waiting(db, wait_ms, "COMMIT") {
        Err((rc, _)) if matches!(rc & 0xff, SQLITE_BUSY | SQLITE_LOCKED) => Ok(None),
        Err((rc, m)) => Err((Some(rc), m)),
        Ok(_) => Ok(Some(
            begin_next
                .then(|| begin_without_waiting(db, wait_ms))
                .flatten(),
        )),
    }
}

/// `BEGIN IMMEDIATE` and the data version on the handle when the write lock is free now
/// ([`without_waiting`]): the data version, or `None` with nothing left begun.
fn begin_without_waiting(db: *mut ffi::sqlite3, wait_ms: i32) -> Option<i64> {
    without_waiting(db, wait_ms, "BEGIN IMMEDIATE").ok()?;
    match run_bound(db, "SELECT data_version FROM pragma_data_version", &[]) {
        Ok(Some(v)) => Some(v),
        _ => {
            let _ = run_bound(db, "ROLLBACK", &[]);
            None
        }
    }
}

/// Gives the handle a busy handler that, like SQLite's own busy timeout, retries a lock held
/// by another connection for up to `wait_ms` (sleeping 1, 2, 5, … up to 100 ms between
/// tries), but gives up at once after a signal ([`interrupt_statements`]):
/// `sqlite3_interrupt` stops a running statement, not a wait for a lock, and a COMMIT that
/// waits for readers to finish would otherwise hold the run (and its exit) until the timeout.
fn set_busy_wait(db: *mut ffi::sqlite3, wait_ms: i32) {
    // SAFETY: `db` is an open handle the caller has to itself; the argument is the timeout
    // itself, not a pointer, and `busy_wait` reads nothing else but a static.
    unsafe {
        ffi::sqlite3_busy_handler(
            db,
            Some(busy_wait),
            wait_ms.max(0) as usize as *mut std::os::raw::c_void,
        )
    };
}

/// The busy handler of [`set_busy_wait`]: `arg` is the timeout in milliseconds, `count` how
/// many times this wait has been retried. Non-zero: sleep done, try again.
unsafe extern "C" fn busy_wait(
    arg: *mut std::os::raw::c_void,
    count: std::os::raw::c_int,
) -> std::os::raw::c_int {
    const DELAYS: [u64; 12] = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];
    if STOPPING.load(Ordering::SeqCst) {
        return 0;
    }
    let limit = arg as usize as u64;
    let count = count.max(0) as usize;
    let waited: u64 = if count < DELAYS.len() {
        DELAYS[..count].iter().sum()
    } else {
        DELAYS.iter().sum::<u64>() + (count - DELAYS.len()) as u64 * 100
    };
    if waited >= limit {
        return 0;
    }
    let delay = DELAYS[count.min(DELAYS.len() - 1)].min(limit - waited);
    std::thread::sleep(std::time::Duration::from_millis(delay));
    1
}

/// The connection's `PRAGMA cache_size`, if it can be read.
fn cache_size(db: *mut ffi::sqlite3) -> Option<i64> {
    let sql = c"PRAGMA cache_size";
    let mut stmt: *mut ffi::sqlite3_stmt = std::ptr::null_mut();
    // SAFETY: `db` is a valid open handle the caller has to itself; `sql` is NUL-terminated;
    // the statement is finalized before returning.
    unsafe {
        if ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut stmt, std::ptr::null_mut())
            != ffi::SQLITE_OK
            || stmt.is_null()
        {
            return None;
        }
        let value = (ffi::sqlite3_step(stmt) == ffi::SQLITE_ROW)
            .then(|| ffi::sqlite3_column_int64(stmt, 0));
        ffi::sqlite3_finalize(stmt);
        value
    }
}

/// Sets the connection's `PRAGMA cache_size` (pages, or KiB when negative); best effort: the
/// cache's size changes memory and speed, never results.
fn set_cache_size(db: *mut ffi::sqlite3, size: i64) {
    let Ok(sql) = std::ffi::CString::new(format!("PRAGMA cache_size = {size}")) else {
        return;
    };
    // SAFETY: `db` is a valid open handle the caller has to itself; `sql` is NUL-terminated.
    unsafe {
        ffi::sqlite3_exec(
            db,
            sql.as_ptr(),
            None,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
    }
}

/// A failed statement's error: the database's message, and when it waited for another
/// connection's lock, what it waited.
fn statement_failed(mut message: String, busy: bool) -> StatementError {
    if busy {
        message.push_str(" (waited --lock-timeout for another connection's lock)");
    }
    StatementError::failed(message)
}

fn code(e: &sqlx::Error) -> Option<i64> {
    match e {
        sqlx::Error::Database(d) => d.code().and_then(|c| c.parse::<i64>().ok()),
        _ => None,
    }
}

fn is_busy(e: &sqlx::Error) -> bool {
    code(e).is_some_and(|c| matches!(c & 0xff, SQLITE_BUSY | SQLITE_LOCKED))
}

/// Why the database file at `path` cannot take a run's writes, in words; `None` when it can.
/// A file or directory without any write permission bit is deliberately read-only and refused
/// even for root (as `config upgrade` refuses the site config); else the file must open for
/// writing and the directory take new files (SQLite's journal goes there).
fn not_writable(path: &Path, read_only: bool) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o7777);
    match mode(path) {
        Ok(m) if m & 0o222 == 0 => return Some(format!("the file is read-only (mode {m:04o})")),
        Ok(_) if read_only => return Some("this user may not write the file".into()),
        Ok(_) => {}
        Err(e) => return Some(format!("cannot look at the file: {e}")),
    }
    let dir = directory_of(path);
    let why = match mode(dir) {
        Ok(m) if m & 0o222 == 0 => format!("read-only (mode {m:04o})"),
        _ => match probe_directory(dir) {
            Ok(()) => return None,
            Err(e) => format!("not writable for this user ({e})"),
        },
    };
    Some(format!(
        "its directory {} is {why}, and SQLite writes its journal there",
        dir.display()
    ))
}

impl Backend for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn describe(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    async fn read_history(&mut self) -> Result<Vec<Row>> {
        // The common case in one statement (one prepare, one hand-off to sqlx's worker): the
        // data version, whether the table exists, and the whole history as one JSON array
        // (sqlx hands SQLite rows over from its worker thread one at a time, so 1,000 rows
        // would cost 1,000 wake-ups). It fails when there is no such table (or an old one):
        // then the statements below tell which.
        let one = format!(
            "SELECT (SELECT data_version FROM pragma_data_version), \
             EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1), \
             (SELECT json_group_array(json_array({})) FROM (SELECT * FROM {} ORDER BY version))",
            history::COLUMNS,
            self.table.quoted(Dialect::Sqlite)
        );
        match sqlx::query_as::<_, (i64, bool, Option<String>)>(&one)
            .bind(self.table.as_str())
            .fetch_one(&mut self.conn)
            .await
        {
            Ok((data_version, exists, json)) => {
                self.data_version = data_version;
                self.table_exists = exists;
                self.table_old = false;
                return match exists {
                    // A view of that name, say: no version table.
                    false => Ok(Vec::new()),
                    true => self.rows_from_json(json.as_deref().unwrap_or("[]")),
                };
            }
            Err(e)
                if ["no such table", "no such column"]
                    .iter()
                    .any(|m| message(&e).contains(m)) => {}
            Err(e) => return Err(self.db_error(&e)),
        }
        // One statement for the data version and whether the table exists, then one row for
        // the whole history. data_version is read first: a commit between the two statements
        // then shows as a change later, which costs one extra read and never a missed one.
        let (data_version, exists): (i64, bool) = sqlx::query_as(
            "SELECT (SELECT data_version FROM pragma_data_version), \
             EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        )
        .bind(self.table.as_str())
        .fetch_one(&mut self.conn)
        .await
        .map_err(|e| self.db_error(&e))?;
        self.data_version = data_version;
        self.table_exists = exists;
        if !exists {
            return Ok(Vec::new());
        }
        let select = |columns: &str| {
            format!(
                "SELECT json_group_array(json_array({columns})) FROM (SELECT * FROM {} ORDER BY version)",
                self.table.quoted(Dialect::Sqlite)
            )
        };
        let json: String = match sqlx::query_scalar(&select(history::COLUMNS))
            .fetch_one(&mut self.conn)
            .await
        {
            Ok(json) => {
                self.table_old = false;
                json
            }
            // A table written by 0.1.0: read as it is; the next write adds the column.
            Err(e) if message(&e).contains("no such column: statements_checksum") => {
                self.table_old = true;
                sqlx::query_scalar(&select(history::COLUMNS_0_1))
                    .fetch_one(&mut self.conn)
                    .await
                    .map_err(|e| self.db_error(&e))?
            }
            Err(e) => return Err(self.db_error(&e)),
        };
        self.rows_from_json(&json)
    }

    async fn history_changed(&mut self) -> Result<bool> {
        let now = match self.tx_data_version.take() {
            Some(v) => v,
            None => self.data_version().await?,
        };
        Ok(now != self.data_version)
    }

    async fn lock(&mut self) -> Result<()> {
        Ok(())
    }

    async fn unlock(&mut self) -> Result<()> {
        Ok(())
    }

    async fn begin(&mut self, options: TxOptions) -> Result<()> {
        if options.foreign_keys_off {
            // Only outside a transaction does this take effect.
            self.plain("PRAGMA foreign_keys = OFF").await?;
            self.foreign_keys_off = true;
        }
        let begun = match self.begin_on_handle().await {
            Some(v) => Ok(v),
            None => self.begin_waiting().await,
        };
        match begun {
            Ok(v) => {
                self.tx_data_version = Some(v);
                if let Err(e) = self.bring_table_forward().await {
                    self.rollback().await;
                    return Err(e);
                }
                Ok(())
            }
            Err(e) => {
                let e = self.db_error(&e);
                // BEGIN may have succeeded and the SELECT failed.
                let _ = sqlx::raw_sql("ROLLBACK").execute(&mut self.conn).await;
                self.restore_foreign_keys().await;
                Err(e)
            }
        }
    }

    async fn commit(&mut self) -> Result<std::result::Result<(), StatementError>> {
        let result = self.commit_work().await;
        self.transaction_ended(matches!(result, Ok(Ok(()))));
        result
    }

    async fn commit_with_row(
        &mut self,
        row: &Row,
    ) -> Result<std::result::Result<(), StatementError>> {
        Ok(self
            .commit_with_row_then_begin(row, None)
            .await?
            .map(|_| ()))
    }

    /// The history `INSERT` and `COMMIT` on the connection's own handle, in one hand-off to
    /// sqlx's worker, and with `next` the next migration's `BEGIN IMMEDIATE` in the same one
    /// ([`end_on_handle`], then [`Sqlite::after_end`]).
    async fn commit_with_row_then_begin(
        &mut self,
        row: &Row,
        next: Option<TxOptions>,
    ) -> Result<std::result::Result<bool, StatementError>> {
        let Some(begin_next) = self.ends_on_handle(next) else {
            return Ok(super::seam::insert_then_commit(self, row)
                .await?
                .map(|()| false));
        };
        let (sql, wait_ms) = (self.insert_sql(), self.busy_ms());
        let ended = match self.conn.lock_handle().await {
            Err(e) => Err((code(&e), message(&e))),
            Ok(mut handle) => end_on_handle(
                handle.as_raw_handle().as_ptr(),
                (&sql, row),
                wait_ms,
                begin_next,
            ),
        };
        self.after_end(ended).await
    }

    async fn rollback(&mut self) {
        let _ = sqlx::raw_sql("ROLLBACK").execute(&mut self.conn).await;
        self.restore_foreign_keys().await;
        self.transaction_ended(false);
    }

    async fn ensure_table(&mut self) -> Result<()> {
        if !self.table_exists {
            self.plain(&history::create_table_sql(&self.table, Dialect::Sqlite))
                .await?;
            self.table_exists = true;
        }
        Ok(())
    }

    async fn execute(&mut self, sql: &str) -> std::result::Result<(), StatementError> {
        sqlx::raw_sql(sql)
            .execute(&mut self.conn)
            .await
            .map(|_| ())
            .map_err(|e| statement_failed(message(&e), is_busy(&e)))
    }

    async fn execute_all(
        &mut self,
        statements: &[&str],
        starting: &mut dyn FnMut(usize),
    ) -> std::result::Result<(), (usize, StatementError)> {
        // Every migration's statements run on the connection's own handle, on this thread:
        // through sqlx, each statement (or a batch's each result) is handed to its worker
        // thread and back, which costs more than a small statement itself (1,000 migrations
        // of 2 statements: 2 `epoll_wait`, 2 `write` and 3 `futex` fewer a migration).
        if statements.is_empty() {
            return Ok(());
        }
        let mut handle = match self.conn.lock_handle().await {
            Ok(h) => h,
            Err(e) => return Err((0, StatementError::failed(message(&e)))),
        };
        run_sized(handle.as_raw_handle().as_ptr(), statements, starting)
    }

    async fn execute_all_then_commit(
        &mut self,
        statements: &[&str],
        starting: &mut dyn FnMut(usize),
        row: &mut dyn FnMut() -> Row,
        next: Option<TxOptions>,
    ) -> Result<std::result::Result<(Row, bool), AtomicEnd>> {
        // The migration's statements, its row and COMMIT (and the next BEGIN) in one hand-off.
        let Some(begin_next) = self.ends_on_handle(next) else {
            return super::seam::execute_then_commit(self, statements, starting, row, next).await;
        };
        let (sql, wait_ms) = (self.insert_sql(), self.busy_ms());
        let (made, ended) = match self.conn.lock_handle().await {
            Err(e) => {
                let e = StatementError::failed(message(&e));
                return Ok(Err(AtomicEnd::Statement(0, e)));
            }
            Ok(mut handle) => {
                let db = handle.as_raw_handle().as_ptr();
                if let Err((i, e)) = run_sized(db, statements, starting) {
                    return Ok(Err(AtomicEnd::Statement(i, e)));
                }
                let made = row();
                let ended = end_on_handle(db, (&sql, &made), wait_ms, begin_next);
                (made, ended)
            }
        };
        Ok(self
            .after_end(ended)
            .await?
            .map(|begun| (made, begun))
            .map_err(AtomicEnd::Refused))
    }

    async fn insert_row(&mut self, row: &Row) -> Result<()> {
        self.bring_table_forward().await?;
        let sql = self.insert_sql();
        recorded(
            sqlx::query(&sql)
                .bind(row.version as i64)
                .bind(&row.description),
            row,
        )
        .execute(&mut self.conn)
        .await
        .map(|_| ())
        .map_err(|e| self.db_error(&e))
    }

    async fn update_row(&mut self, row: &Row) -> Result<()> {
        self.bring_table_forward().await?;
        let sql = format!(
            "UPDATE {} SET checksum = ?2, state = ?3, statements_done = ?4, statements_total = ?5, progress_checksum = ?6, error_text = ?7, applied_at = ?8, applied_by = ?9, execution_ms = ?10, tool_version = ?11, statements_checksum = ?12 WHERE version = ?1",
            self.table.quoted(Dialect::Sqlite)
        );
        recorded(sqlx::query(&sql).bind(row.version as i64), row)
            .execute(&mut self.conn)
            .await
            .map(|_| ())
            .map_err(|e| self.db_error(&e))
    }

    async fn max_statement_bytes(&mut self) -> Result<Option<u64>> {
        // SQLITE_MAX_SQL_LENGTH is 1,000,000,000 bytes: no migration file comes close.
        Ok(None)
    }

    async fn delete_row(&mut self, version: u64) -> Result<()> {
        let sql = format!(
            "DELETE FROM {} WHERE version = ?1",
            self.table.quoted(Dialect::Sqlite)
        );
        sqlx::query(&sql)
            .bind(version as i64)
            .execute(&mut self.conn)
            .await
            .map(|_| ())
            .map_err(|e| self.db_error(&e))
    }

    fn transactional_ddl(&self) -> bool {
        true
    }

    async fn check_writable(&mut self) -> Result<()> {
        if self.path == Path::new(":memory:") {
            return Ok(());
        }
        match not_writable(&self.path, self.read_only) {
            None => Ok(()),
            Some(why) => Err(Error::DatabaseFileNotWritable {
                path: self.path.clone(),
                why,
            }),
        }
    }

    fn foreign_key_checks_sql(&self, on: bool) -> &'static str {
        if on {
            "PRAGMA foreign_keys = ON"
        } else {
            "PRAGMA foreign_keys = OFF"
        }
    }
}

impl Catalogue for Sqlite {
    async fn introspect(&mut self) -> Result<Schema> {
        const TABLES: &str = "FROM sqlite_master m, ";
        const WHERE: &str = "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";
        let excluded = [
            self.table.as_str().to_string(),
            schema::ALEMBIC_TABLE.to_string(),
        ];
        let keep = |name: &str| !excluded.iter().any(|e| e.eq_ignore_ascii_case(name));
        let mut tables: BTreeMap<String, RawTable> = BTreeMap::new();
        let mut pk_order: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
        let sql = format!(
            "SELECT m.name, p.name, p.type, CAST(p.\"notnull\" AS TEXT), p.dflt_value, \
             CAST(p.pk AS TEXT) {TABLES}pragma_table_info(m.name) p {WHERE} ORDER BY m.name, p.cid"
        );
        for r in self.text_rows(&sql).await? {
            let table = r[0].clone().unwrap_or_default();
            if !keep(&table) {
                continue;
            }
            let t = tables.entry(table.clone()).or_insert_with(|| RawTable {
                name: table.clone(),
                ..RawTable::default()
            });
            let name = r[1].clone().unwrap_or_default();
            let type_name = schema::normalise_type(Dialect::Sqlite, r[2].as_deref().unwrap_or(""));
            let pk: i64 = r[5].as_deref().and_then(|s| s.parse().ok()).unwrap_or(0);
            if pk > 0 {
                pk_order
                    .entry(table.clone())
                    .or_default()
                    .push((pk, name.clone()));
            }
            t.columns.push(Column {
                name,
                nullable: r[3].as_deref() != Some("1"),
                default: schema::normalise_default(r[4].as_deref(), &type_name),
                auto_increment: false,
                on_update: None,
                collation: None,
                type_name,
            });
        }
        for (table, mut pk) in pk_order {
            pk.sort();
            let t = tables.get_mut(&table).expect("columns were read for it");
            t.primary_key = pk.into_iter().map(|(_, n)| n).collect();
            // A single INTEGER primary key is the rowid: it numbers rows itself and is never NULL.
            if let [only] = t.primary_key.as_slice() {
                if let Some(c) = t.columns.iter_mut().find(|c| &c.name == only) {
                    if c.type_name == "INTEGER" {
                        c.auto_increment = true;
                        c.nullable = false;
                    }
                }
            }
        }
        let sql = format!(
            "SELECT m.name, il.name, CAST(il.\"unique\" AS TEXT), il.origin, ii.name \
             {TABLES}pragma_index_list(m.name) il, pragma_index_info(il.name) ii {WHERE} \
             ORDER BY m.name, il.name, ii.seqno"
        );
        for r in self.text_rows(&sql).await? {
            let Some(t) = tables.get_mut(r[0].as_deref().unwrap_or_default()) else {
                continue;
            };
            if r[3].as_deref() == Some("pk") {
                continue;
            }
            let index = r[1].clone().unwrap_or_default();
            let column = r[4].clone().unwrap_or_else(|| "<expression>".into());
            match t.indexes.last_mut() {
                Some((name, _, cols)) if *name == index => cols.push(column),
                _ => t
                    .indexes
                    .push((index, r[2].as_deref() == Some("1"), vec![column])),
            }
        }
        let sql = format!(
            "SELECT m.name, CAST(f.id AS TEXT), f.\"table\", f.\"from\", f.\"to\", f.on_update, \
             f.on_delete {TABLES}pragma_foreign_key_list(m.name) f {WHERE} \
             ORDER BY m.name, f.id, f.seq"
        );
        let mut fks: Vec<(String, Option<String>, ForeignKey)> = Vec::new();
        for r in self.text_rows(&sql).await? {
            let table = r[0].clone().unwrap_or_default();
            if !tables.contains_key(&table) {
                continue;
            }
            let id = r[1].clone();
            let (column, to) = (r[3].clone().unwrap_or_default(), r[4].clone());
            match fks.last_mut() {
                Some((t, i, fk)) if *t == table && *i == id => {
                    fk.columns.push(column);
                    fk.references_columns.extend(to);
                }
                _ => fks.push((
                    table,
                    id,
                    ForeignKey {
                        columns: vec![column],
                        references_table: r[2].clone().unwrap_or_default(),
                        references_columns: to.into_iter().collect(),
                        on_update: schema::normalise_action(r[5].as_deref().unwrap_or("")),
                        on_delete: schema::normalise_action(r[6].as_deref().unwrap_or("")),
                    },
                )),
            }
        }
        for (table, _, mut fk) in fks {
            // `REFERENCES T` without columns means T's primary key.
            if fk.references_columns.is_empty() {
                fk.references_columns = tables
                    .get(&fk.references_table)
                    .map(|t| t.primary_key.clone())
                    .unwrap_or_default();
            }
            if let Some(t) = tables.get_mut(&table) {
                t.foreign_keys.push((None, fk));
            }
        }
        Ok(Schema::new(
            Dialect::Sqlite,
            tables
                .into_values()
                .map(|t| t.finish(Dialect::Sqlite))
                .collect(),
        ))
    }

    async fn table_names(&mut self) -> Result<Vec<String>> {
        Ok(self
            .text_rows(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
            )
            .await
            .map(super::seam::first_column)?
            .into_iter()
            .filter(|n| !n.eq_ignore_ascii_case(self.table.as_str()))
            .collect())
    }

    async fn alembic_revisions(&mut self) -> Result<Option<Vec<String>>> {
        let names = self.table_names().await?;
        if !names
            .iter()
            .any(|n| n.eq_ignore_ascii_case(schema::ALEMBIC_TABLE))
        {
            return Ok(None);
        }
        Ok(Some(super::seam::first_column(
            self.text_rows("SELECT CAST(version_num AS TEXT) FROM alembic_version")
                .await?,
        )))
    }

    async fn table_rows(&mut self, table: &Table) -> Result<Vec<Vec<Option<String>>>> {
        let sql = super::seam::rows_as_text_sql(table, Dialect::Sqlite, "TEXT");
        self.text_rows(&sql).await
    }

    async fn probe(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
        self.text_rows(sql).await
    }

    async fn default_collation(&mut self) -> Result<Option<String>> {
        Ok(None)
    }

    async fn definitions(&mut self) -> Result<Vec<crate::schema::Definition>> {
        let history = self.table.as_str().to_string();
        let rows = self
            .text_rows(
                "SELECT type, name, tbl_name, sql FROM sqlite_master \
                 WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
                 ORDER BY type, name",
            )
            .await?;
        Ok(super::seam::definitions_from(rows, |t| {
            t.eq_ignore_ascii_case(&history)
        }))
    }

    async fn copy_statements(&mut self) -> Result<Vec<crate::schema::Definition>> {
        let mut definitions = self.definitions().await?;
        let order = |kind: &str| match kind {
            "table" => 0,
            "index" => 1,
            "trigger" => 2,
            _ => 3,
        };
        definitions.sort_by_key(|d| order(&d.kind));
        Ok(definitions)
    }
}

impl Sqlite {
    async fn restore_foreign_keys(&mut self) {
        if self.foreign_keys_off {
            let _ = sqlx::raw_sql("PRAGMA foreign_keys = ON")
                .execute(&mut self.conn)
                .await;
            self.foreign_keys_off = false;
        }
    }

    /// Closes the connection cleanly (unlisted first: see [`Listed`]).
    pub async fn close(self) {
        let Sqlite { listed, conn, .. } = self;
        drop(listed);
        let _ = conn.close().await;
    }
}

/// Catalogue queries behind [`Backend::introspect`] and friends: every value read as text.
impl Sqlite {
    async fn text_rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
        let rows = sqlx::raw_sql(sql)
            .fetch_all(&mut self.conn)
            .await
            .map_err(|e| self.db_error(&e))?;
        super::seam::texts(&rows, &self.path.display().to_string())
    }
}

/// A whole history row's values for [`run_bound`], in [`history::COLUMNS`] order, as
/// [`recorded`] binds them through sqlx.
fn bound_row(row: &Row) -> [Bound<'_>; 13] {
    fn text(t: Option<&str>) -> Bound<'_> {
        t.map_or(Bound::Null, Bound::Text)
    }
    [
        Bound::Int(row.version as i64),
        Bound::Text(&row.description),
        Bound::Text(&row.checksum),
        Bound::Text(row.state.as_str()),
        Bound::Int(i64::from(row.statements_done)),
        Bound::Int(i64::from(row.statements_total)),
        text(row.progress_checksum.as_deref()),
        text(row.error.as_deref()),
        Bound::Text(&row.applied_at),
        Bound::Text(&row.applied_by),
        Bound::Int(row.execution_ms as i64),
        Bound::Text(&row.tool_version),
        text(row.statements_checksum.as_deref()),
    ]
}

/// Binds the recorded columns of a history row that both INSERT and UPDATE write, in the
/// order of [`history::COLUMNS`] after `version` and `description`.
fn recorded<'q>(
    q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    row: &'q Row,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    q.bind(&row.checksum)
        .bind(row.state.as_str())
        .bind(row.statements_done as i64)
        .bind(row.statements_total as i64)
        .bind(row.progress_checksum.as_deref())
        .bind(row.error.as_deref())
        .bind(&row.applied_at)
        .bind(&row.applied_by)
        .bind(row.execution_ms as i64)
        .bind(&row.tool_version)
        .bind(row.statements_checksum.as_deref())
}
