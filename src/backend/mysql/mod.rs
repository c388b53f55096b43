//! The MySQL/MariaDB backend (sqlx, one dedicated connection, no pool). The run lock is a named
//! `GET_LOCK` held on that connection for the whole run: the server releases it when the
//! connection ends, however the process ends. Sessions are bounded: `lock_wait_timeout` and
//! `innodb_lock_wait_timeout` follow `--lock-timeout`, and a watchdog on a second connection
//! notices a connection that went silent mid-statement.

mod errno;
pub(crate) mod lease;
mod mdl;

use errno::*;

use std::time::{Duration, Instant};

use sqlx::mysql::{
    MySqlConnectOptions, MySqlConnection, MySqlDatabaseError, MySqlRow, MySqlSslMode,
};
use sqlx::{ConnectOptions, Connection, Row as _};

use super::seam::{
    Access, Backend, Catalogue, RowWrite, StatementError, StatementErrorKind, Timeouts, TxOptions,
};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::history::{self, Row, State, TableName};
use crate::schema::{self, Column, ForeignKey, RawTable, Schema, Table};
use crate::settings::target::{MysqlTarget, SslMode};
use std::collections::BTreeMap;

/// After a statement has run this long, the watchdog starts asking the server about it.
const WATCHDOG_AFTER: Duration = Duration::from_secs(5);
/// How often the watchdog asks after that.
const WATCHDOG_EVERY: Duration = Duration::from_secs(5);

/// Awaits a bookkeeping query on the main connection for at most the lock timeout (a row lock
/// may legitimately make it wait that long) plus the connect timeout. No answer by then means
/// the connection was lost: the backend marks itself broken and sends nothing more. Evaluates
/// to `Result<T, Error>`.
macro_rules! bounded {
    ($self:ident, $fut:expr) => {{
        if $self.broken {
            Err($self.lost_error())
        } else {
            let limit = $self.timeouts.lock + $self.timeouts.connect;
            match tokio::time::timeout(limit, $fut).await {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(e)) => Err($self.db_error(&e)),
                Err(_) => {
                    $self.broken = true;
                    Err($self.lost_error())
                }
            }
        }
    }};
}

/// An open MySQL/MariaDB database.
pub struct Mysql {
    conn: MySqlConnection,
    options: MySqlConnectOptions,
    describe: String,
    table: TableName,
    table_exists: bool,
    /// The table was written by 0.1.0 (no `statements_checksum`): the next write adds the
    /// column first ([`Mysql::bring_table_forward`]).
    table_old: bool,
    /// [`Backend::check_writable`] asks the server (off for scratch databases).
    write_check: bool,
    /// The TLS mode the connection was opened with (for `status -v`).
    ssl_mode: SslMode,
    /// A Galera node: the cluster as the node saw it when connected.
    cluster: Option<super::seam::ClusterInfo>,
    /// On a cluster, the migration lock held: a lease row ([`lease`]).
    lease: Option<lease::Lease>,
    lock_name: String,
    locked: bool,
    /// The connection was lost mid-statement: nothing more is sent on it.
    broken: bool,
    connection_id: u64,
    timeouts: Timeouts,
    /// A second connection for the watchdog and `KILL QUERY`, opened when first needed.
    side: Option<MySqlConnection>,
    /// Puts the session back as it was set up (see `Backend::reset_session`).
    reset_sql: String,
    /// While a DDL statement runs under `--ddl-lock-wait`: its bound in seconds (a lock wait
    /// timeout is then the metadata lock's, [`mdl`]).
    ddl_waiting: Option<u64>,
}

/// The main connections open now (server, connection id): what [`kill_open_sessions`] ends
/// when the run is interrupted.
static OPEN: std::sync::Mutex<Vec<(MysqlTarget, u64)>> = std::sync::Mutex::new(Vec::new());

fn open_sessions() -> std::sync::MutexGuard<'static, Vec<(MysqlTarget, u64)>> {
    OPEN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Ends every main connection this process has open, from a new connection each
/// (`KILL CONNECTION`): the server cancels the running statement, rolls back the open
/// transaction and releases the run lock at once, whatever the statement was doing. For an
/// interrupted run, whose own connection can no longer be used.
pub async fn kill_open_sessions(timeout: Duration) {
    let open: Vec<(MysqlTarget, u64)> = std::mem::take(&mut *open_sessions());
    for (target, id) in open {
        let work = async {
            let mut conn = connect_options(&target).connect().await?;
            sqlx::raw_sql(&format!("KILL CONNECTION {id}"))
                .execute(&mut conn)
                .await?;
            conn.close().await
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!("could not end connection {id} after the interruption: {e}")
            }
            Err(_) => tracing::warn!(
                "could not end connection {id} after the interruption: no answer within {}s",
                timeout.as_secs()
            ),
        }
    }
}

/// A multi-statement batch is at most this big.
const BATCH_BYTES: usize = 64 * 1024;

/// The character set and time zone of every session: `upgrade` sets them on connect and
/// `upgrade --sql` writes them into its script.
pub const SESSION_CHARSET: &str = "utf8mb4";
pub const SESSION_TIME_ZONE: &str = "+00:00";

/// The statements that put a session back as the tool set it up, after a migration that may
/// have changed it (`SET autocommit = 0`, `FOREIGN_KEY_CHECKS`, `sql_mode`, `NAMES`, a time
/// zone, `LOCK TABLES`): from the values read on connect. A `sql_mode` with anything but
/// letters, digits, `_` and `,` is not interpolated (the mode is then left as it is).
fn reset_sql(sql_mode: &str, flags: &[i64]) -> String {
    let mut sets = vec![
        "SESSION autocommit = 1".to_string(),
        format!("SESSION time_zone = '{SESSION_TIME_ZONE}'"),
    ];
    let names = [
        "foreign_key_checks",
        "unique_checks",
        "sql_notes",
        "lock_wait_timeout",
        "innodb_lock_wait_timeout",
    ];
    for (name, value) in names.iter().zip(flags) {
        sets.push(format!("SESSION {name} = {value}"));
    }
    if sql_mode
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b',')
    {
        sets.push(format!("SESSION sql_mode = '{sql_mode}'"));
    }
    format!(
        "UNLOCK TABLES; SET NAMES {SESSION_CHARSET}; SET {}",
        sets.join(", ")
    )
}

/// Bounded lock waits (the server's default for metadata locks is a year): `wait` seconds,
/// from `--lock-timeout`. Sent on connect and written by `upgrade --sql`.
pub fn bounded_waits_sql(wait: u64) -> String {
    let wait = wait.max(1);
    format!("SET SESSION lock_wait_timeout = {wait}, SESSION innodb_lock_wait_timeout = {wait}")
}

/// The name of the run lock, as an SQL expression: server-wide, so it names the database
/// (`DATABASE()`, so that a script written by `upgrade --sql` without knowing where it will
/// run takes the same lock as `upgrade`) and the table; a name over the 64 characters MySQL
/// allows is hashed. The table name is validated `[A-Za-z_][A-Za-z0-9_]*`, safe in a literal.
pub fn lock_name_sql(table: &TableName) -> String {
    let name = format!(
        "CONCAT('aurweb-migrate:', DATABASE(), '.{}')",
        table.as_str()
    );
    format!(
        "IF(LENGTH({name}) <= 64, {name}, CONCAT('aurweb-migrate:', LEFT(SHA2({name}, 256), 24)))"
    )
}

/// The cluster a Galera node is in, read once at connect; the session's reads then wait for
/// the write sets the node has received (`wsrep_sync_wait = 1`, causal reads), so a node that
/// is behind never reports the previous holder's migrations as pending.
async fn cluster_of(
    conn: &mut MySqlConnection,
) -> std::result::Result<super::seam::ClusterInfo, sqlx::Error> {
    let rows = sqlx::raw_sql(
        "SET SESSION wsrep_sync_wait = 1; \
         SELECT UPPER(VARIABLE_NAME), VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS \
         WHERE VARIABLE_NAME IN ('wsrep_cluster_size', 'wsrep_local_state_comment') \
         UNION ALL SELECT 'OSU', @@SESSION.wsrep_OSU_method",
    )
    .fetch_all(&mut *conn)
    .await?;
    let get = |name: &str| {
        rows.iter()
            .find(|r| r.try_get::<String, _>(0).is_ok_and(|n| n == name))
            .and_then(|r| r.try_get::<String, _>(1).ok())
            .unwrap_or_default()
    };
    Ok(super::seam::ClusterInfo {
        size: get("WSREP_CLUSTER_SIZE").parse().unwrap_or(0),
        state: get("WSREP_LOCAL_STATE_COMMENT"),
        osu_method: get("OSU"),
    })
}

/// How to reach the server (no database chosen).
fn connect_options(target: &MysqlTarget) -> MySqlConnectOptions {
    let mut options = MySqlConnectOptions::new()
        .username(&target.user)
        .charset(SESSION_CHARSET)
        // Respect the server's sql_mode: sqlx would otherwise append PIPES_AS_CONCAT and
        // NO_ENGINE_SUBSTITUTION to it.
        .pipes_as_concat(false)
        .no_engine_substitution(false)
        // The time zone is set by the session setup (`Mysql::open`), in the same round trip
        // as the rest; sqlx would spend one of its own on it.
        .timezone(None)
        // sqlx's SET NAMES names a collation (utf8mb4_unicode_ci); the session setup sends
        // the client's plain `SET NAMES utf8mb4` instead (see `Mysql::connect`).
        .set_names(false)
        .disable_statement_logging();
    options = match &target.socket {
        Some(socket) => options.socket(socket),
        None => options.host(&target.host).port(target.port.unwrap_or(3306)),
    };
    if let Some(password) = &target.password {
        options = options.password(password.expose());
    }
    options = options.ssl_mode(match target.ssl_mode() {
        SslMode::Disabled => MySqlSslMode::Disabled,
        SslMode::Preferred => MySqlSslMode::Preferred,
        SslMode::Required => MySqlSslMode::Required,
        SslMode::VerifyCa => MySqlSslMode::VerifyCa,
        SslMode::VerifyIdentity => MySqlSslMode::VerifyIdentity,
    });
    if let Some(ca) = &target.tls.ca {
        options = options.ssl_ca(ca);
    }
    if let (Some(cert), Some(key)) = (&target.tls.cert, &target.tls.key) {
        options = options.ssl_client_cert(cert).ssl_client_key(key);
    }
    options
}

/// What a failed connection's message means for TLS, when it is about TLS: which check failed
/// and what to do (`None` for other failures).
pub(crate) fn tls_hint(target: &MysqlTarget, message: &str) -> Option<String> {
    let m = message.to_ascii_lowercase();
    let mode = target.ssl_mode();
    let chosen = if target.tls.mode.is_some() {
        format!("ssl-mode={}", mode.name())
    } else {
        format!("ssl-mode={} (the default for {})", mode.name(), target.host)
    };
    if m.contains("notvalidforname") || m.contains("not valid for name") {
        return Some(format!(
            "{chosen}: the server's certificate is not for the name {}; connect by a name it holds (the message lists them)",
            target.host
        ));
    }
    if m.contains("unknownissuer")
        || m.contains("unknown issuer")
        || m.contains("invalid peer certificate")
    {
        return Some(format!(
            "{chosen}: the server's certificate is not signed by a trusted CA; give its CA with ssl-ca=FILE"
        ));
    }
    if (m.contains("tls") || m.contains("ssl"))
        && (m.contains("not support") || m.contains("unavailable") || m.contains("upgrade"))
    {
        return Some(format!(
            "{chosen}: the server does not offer TLS, and this mode requires it; to connect without encryption, knowingly, pass ssl-mode=disabled"
        ));
    }
    None
}

/// Runs administrative statements (`CREATE DATABASE`, `DROP DATABASE`) on the server of
/// `target`, connected without choosing a database, within the connect timeout.
pub async fn administer(
    target: &MysqlTarget,
    statements: &[String],
    timeout: Duration,
) -> Result<()> {
    let describe = crate::settings::target::DatabaseTarget::Mysql(target.clone()).redacted();
    let work = async {
        let mut conn = connect_options(target).connect().await?;
        for sql in statements {
            sqlx::raw_sql(sql).execute(&mut conn).await?;
        }
        conn.close().await
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Error::DatabaseFailed {
            target: describe,
            action: None,
            message: message(&e),
        }),
        Err(_) => Err(Error::ConnectTimedOut {
            target: describe,
            seconds: timeout.as_secs(),
        }),
    }
}

/// The line a server message names within the statement it got ("… near 'x' at line 3"):
/// counted from the statement's first byte, as sent.
fn server_line(message: &str) -> Option<u32> {
    let at = message.rfind(" at line ")?;
    let digits: String = message[at + 9..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok().filter(|&n| n >= 1)
}

/// A server message about a statement sent in a batch quotes the text from where it gave up
/// ("… near 'x\n)\n;SET SESSION …' at line 3"), which may run on into the batch's next
/// statement, one of the tool's own: the quote is cut where the statement ended.
fn without_batch_tail(message: String) -> String {
    let (Some(start), Some(end)) = (message.find(" near '"), message.rfind("' at line ")) else {
        return message;
    };
    let quoted = start + 7;
    match message.get(quoted..end).and_then(|q| q.find("\n;")) {
        Some(cut) if quoted <= end => {
            format!("{}{}", &message[..quoted + cut], &message[end..])
        }
        _ => message,
    }
}

/// Whether `target`'s database exists on its server (connected without choosing one).
pub async fn database_exists(target: &MysqlTarget, timeout: Duration) -> Result<bool> {
    let describe = crate::settings::target::DatabaseTarget::Mysql(target.clone()).redacted();
    let work = async {
        let mut conn = connect_options(target).connect().await?;
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
        )
        .bind(&target.database)
        .fetch_one(&mut conn)
        .await?;
        conn.close().await?;
        Ok::<_, sqlx::Error>(n > 0)
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(Ok(exists)) => Ok(exists),
        Ok(Err(e)) => Err(Error::Connect {
            target: describe,
            message: message(&e),
        }),
        Err(_) => Err(Error::ConnectTimedOut {
            target: describe,
            seconds: timeout.as_secs(),
        }),
    }
}

/// One attempt to reach `target`'s server (no database chosen): `Err` with the reason.
pub async fn reachable(target: &MysqlTarget, timeout: Duration) -> std::result::Result<(), String> {
    match tokio::time::timeout(timeout, connect_options(target).connect()).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(message(&e)),
        Err(_) => Err(format!("no answer within {}s", timeout.as_secs().max(1))),
    }
}

fn message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => match d.try_downcast_ref::<MySqlDatabaseError>() {
            Some(m) => format!("{} ({})", m.message(), m.number()),
            None => d.message().to_string(),
        },
        other => other.to_string(),
    }
}

fn is_connection_error(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
    )
}

impl Mysql {
    /// Connects within the connect timeout. Access makes no difference to the connection;
    /// read-only commands simply never write.
    pub async fn open(
        target: &MysqlTarget,
        describe: String,
        _access: Access,
        table: TableName,
        timeouts: Timeouts,
    ) -> Result<Mysql> {
        let options = connect_options(target).database(&target.database);
        let connect_error = |message: String| Error::Connect {
            target: describe.clone(),
            message,
        };
        // Connecting and setting the session up share one bound: a server that stops
        // answering halfway is as unreachable as one that never answered.
        let connected = tokio::time::timeout(timeouts.connect, async {
            let mut conn = options.connect().await?;
            // sqlx always asks for the CLIENT_IGNORE_SPACE capability, which makes the server
            // add IGNORE_SPACE to the session's sql_mode (built-in function names become
            // reserved: `CREATE TABLE count (…)` fails). Take it out again unless the server's
            // own mode has it, so migrations parse as in the `mariadb` client. One round trip,
            // in the text protocol (no prepare).
            // `SET NAMES utf8mb4` with no COLLATE, as the mariadb client sends it: the session
            // collation is then the server's default for utf8mb4, so routines, triggers and
            // views record it and string literals carry it, as they do from the client.
            // MariaDB only (an executable comment MySQL skips): whether this is a Galera node.
            // A MariaDB built without wsrep has no such variable: asked again without it.
            let setup = |probe_wsrep: bool| {
                format!(
                    "SET NAMES {SESSION_CHARSET}; {}, SESSION time_zone = '{SESSION_TIME_ZONE}', SESSION sql_mode = IF(FIND_IN_SET('IGNORE_SPACE', @@GLOBAL.sql_mode) > 0, \
                     @@SESSION.sql_mode, TRIM(BOTH ',' FROM REPLACE(CONCAT(',', @@SESSION.sql_mode, ','), \
                     ',IGNORE_SPACE,', ','))); SELECT CAST(CONNECTION_ID() AS SIGNED), CAST({} AS CHAR), \
                     @@SESSION.sql_mode, CAST(@@SESSION.foreign_key_checks AS SIGNED), \
                     CAST(@@SESSION.unique_checks AS SIGNED), CAST(@@SESSION.sql_notes AS SIGNED), \
                     CAST(@@SESSION.lock_wait_timeout AS SIGNED), CAST(@@SESSION.innodb_lock_wait_timeout AS SIGNED){}",
                    bounded_waits_sql(timeouts.lock.as_secs()),
                    lock_name_sql(&table),
                    if probe_wsrep {
                        " /*M!100100 , CAST(@@GLOBAL.wsrep_on AS SIGNED) */"
                    } else {
                        ""
                    }
                )
            };
            let row = match sqlx::raw_sql(&setup(true)).fetch_one(&mut conn).await {
                Err(e) if error_number(&e) == Some(ER_UNKNOWN_SYSTEM_VARIABLE) => {
                    sqlx::raw_sql(&setup(false)).fetch_one(&mut conn).await?
                }
                other => other?,
            };
            let id: i64 = row.try_get(0)?;
            let lock_name: String = row.try_get(1)?;
            let sql_mode: String = row.try_get(2)?;
            let flags: Vec<i64> = (3..8).map(|i| row.try_get(i)).collect::<Result<_, _>>()?;
            let galera = row.try_get::<i64, _>(8).is_ok_and(|on| on != 0);
            let cluster = match galera {
                true => Some(cluster_of(&mut conn).await?),
                false => None,
            };
            Ok::<_, sqlx::Error>((conn, id, lock_name, reset_sql(&sql_mode, &flags), cluster))
        })
        .await
        .map_err(|_| Error::ConnectTimedOut {
            target: describe.clone(),
            seconds: timeouts.connect.as_secs(),
        })?;
        let (conn, connection_id, lock_name, reset_sql, cluster) = connected.map_err(|e| {
            let mut m = message(&e);
            if error_number(&e) == Some(ER_BAD_DB_ERROR) {
                m.push_str("; create it with `aurweb-migrate database create`");
            }
            if let Some(hint) = tls_hint(target, &m) {
                m.push_str(&format!(" ({hint})"));
            }
            connect_error(m)
        })?;
        if let Some(c) = cluster.as_ref().filter(|c| c.state != "Synced") {
            let _ = conn.close().await;
            return Err(connect_error(format!(
                "this Galera node is {} (one of {} nodes), not Synced: it may not have the cluster's latest writes and cannot take part in a run; wait until it is Synced, or connect to another node",
                c.state, c.size
            )));
        }
        let connection_id = connection_id as u64;
        open_sessions().push((target.clone(), connection_id));
        Ok(Mysql {
            conn,
            options,
            describe,
            lock_name,
            table,
            table_exists: false,
            table_old: false,
            write_check: true,
            locked: false,
            broken: false,
            connection_id,
            timeouts,
            side: None,
            reset_sql,
            ddl_waiting: None,
            ssl_mode: target.ssl_mode(),
            cluster,
            lease: None,
        })
    }

    fn db_error(&self, e: &sqlx::Error) -> Error {
        Error::DatabaseFailed {
            target: self.describe.clone(),
            action: None,
            message: message(e),
        }
    }

    fn lost_error(&self) -> Error {
        Error::ConnectionLost {
            target: self.describe.clone(),
            seconds: (self.timeouts.lock + self.timeouts.connect).as_secs(),
        }
    }

    /// The name of the cluster's lock table beside the version table.
    fn lock_table_name(&self) -> String {
        format!("{}_lock", self.table.as_str())
    }

    /// The tool's own tables (the version table, the cluster lock table): never part of the
    /// schema, and a database holding only them is empty.
    fn own_table(&self, name: &str) -> bool {
        name.eq_ignore_ascii_case(self.table.as_str())
            || name.eq_ignore_ascii_case(&self.lock_table_name())
    }

    /// The migration lock on a Galera cluster: the lease row beside the version table.
    async fn lock_cluster(&mut self) -> Result<()> {
        let name = self.lock_table_name();
        let table = TableName::new(&name)
            .map_err(|_| Error::LockTableNameTooLong { name: name.clone() })?;
        let me = lease::Holder {
            who: format!("{} (pid {})", history::whoami(), std::process::id()),
            since: history::now_utc(),
        };
        let mut waited = false;
        let mut notice = |m: &str| {
            waited = true;
            super::seam::wait_notice(m);
        };
        let got = lease::acquire(
            &mut self.conn,
            &self.options,
            &table.quoted(Dialect::Mysql),
            &me,
            lease::lease_period(),
            self.timeouts.lock,
            &self.describe,
            &mut notice,
        )
        .await;
        if waited {
            super::seam::wait_over();
        }
        match got? {
            Ok(lease) => {
                self.lease = Some(lease);
                self.locked = true;
                Ok(())
            }
            Err(holder) => Err(Error::LockTimeout {
                seconds: self.timeouts.lock.as_secs(),
                holder,
            }),
        }
    }

    /// Before a history write on a cluster: the lease is still this runner's (see
    /// [`lease::Lease::fence`]); an error when it is not.
    async fn fence(&mut self) -> Result<()> {
        let Some(lease) = &self.lease else {
            return Ok(());
        };
        match lease.fence(&mut self.conn).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(lease::lost_error(&self.describe)),
            Err(e) => Err(self.db_error(&e)),
        }
    }

    /// A statement error when the lease was lost: checked before each statement. When the
    /// renewal is overdue (this runner was paused), the row is read first.
    async fn lease_lost(&mut self) -> Option<StatementError> {
        let lease = self.lease.as_ref()?;
        let lost = lease.lost()
            || (lease.overdue() && !lease.still_ours(&mut self.conn).await.unwrap_or(false));
        lost.then(|| {
            StatementError::failed(
                "the cluster's migration lock was taken over by another runner: stopped before this statement".to_string(),
            )
        })
    }

    /// See [`super::Connection::for_scratch`].
    pub(super) fn skip_write_check(&mut self) {
        self.write_check = false;
    }

    /// Runs `sql`; a privilege refusal becomes `Error::AccountMayNotWrite` naming `account` and
    /// what to grant.
    async fn denied_is_not_writable(&mut self, sql: &str, account: &str) -> Result<()> {
        if self.broken {
            return Err(self.lost_error());
        }
        let limit = self.timeouts.lock + self.timeouts.connect;
        match tokio::time::timeout(limit, sqlx::raw_sql(sql).execute(&mut self.conn)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if error_number(&e).is_some_and(|n| DENIED.contains(&n)) => {
                Err(Error::AccountMayNotWrite {
                    target: self.describe.clone(),
                    account: account.to_string(),
                    table: self.table.to_string(),
                    message: message(&e),
                })
            }
            Ok(Err(e)) if error_number(&e) == Some(ER_OPTION_PREVENTS_STATEMENT) => {
                Err(Error::ServerRefusesWrites {
                    target: self.describe.clone(),
                    message: message(&e),
                })
            }
            Ok(Err(e)) => Err(self.db_error(&e)),
            Err(_) => {
                self.broken = true;
                Err(self.lost_error())
            }
        }
    }

    /// The version table as this release writes it, before a write outside a transaction or
    /// the start of one: created when missing, brought forward when written by 0.1.0 (both
    /// DDL, which commits implicitly). No round trip when it is there already.
    async fn ready_table(&mut self) -> Result<()> {
        if !self.table_exists {
            let ddl = history::create_table_sql(&self.table, Dialect::Mysql);
            self.denied_is_not_writable(&ddl, "the account").await?;
            self.table_exists = true;
        }
        self.bring_table_forward().await
    }

    /// Adds the column a table written by 0.1.0 lacks. DDL commits implicitly, so this runs
    /// before a transaction opens (from `begin`, or from a row write outside one), under the
    /// migration lock; a runner without the lock that added it first makes "duplicate column"
    /// success.
    async fn bring_table_forward(&mut self) -> Result<()> {
        if !self.table_old {
            return Ok(());
        }
        let ddl = history::add_column_sql(&self.table, Dialect::Mysql);
        let limit = self.timeouts.lock + self.timeouts.connect;
        match tokio::time::timeout(limit, sqlx::raw_sql(&ddl).execute(&mut self.conn)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) if error_number(&e) == Some(ER_DUP_FIELDNAME) => {}
            Ok(Err(e)) => return Err(self.db_error(&e)),
            Err(_) => {
                self.broken = true;
                return Err(self.lost_error());
            }
        }
        tracing::info!(table = %self.table, "added the column statements_checksum to the version table");
        self.table_old = false;
        Ok(())
    }

    async fn plain(&mut self, sql: &str) -> Result<()> {
        bounded!(self, sqlx::raw_sql(sql).execute(&mut self.conn)).map(|_| ())
    }

    /// Who holds the run lock, as far as the server can tell.
    async fn lock_holder(&mut self) -> Option<String> {
        let limit = self.timeouts.connect;
        tokio::time::timeout(limit, self.lock_holder_unbounded())
            .await
            .ok()
            .flatten()
    }

    async fn lock_holder_unbounded(&mut self) -> Option<String> {
        let id: Option<i64> = sqlx::query_scalar("SELECT CAST(IS_USED_LOCK(?) AS SIGNED)")
            .bind(&self.lock_name)
            .fetch_one(&mut self.conn)
            .await
            .map_err(|e| tracing::debug!("IS_USED_LOCK failed: {e}"))
            .ok()?;
        let id = id?;
        let who: Option<(String, String)> =
            sqlx::query_as("SELECT USER, HOST FROM information_schema.PROCESSLIST WHERE ID = ?")
                .bind(id)
                .fetch_optional(&mut self.conn)
                .await
                .ok()
                .flatten();
        Some(match who {
            Some((user, host)) => format!("connection {id}, {user}@{host}"),
            None => format!("connection {id}"),
        })
    }
}

/// The side connection used by the watchdog and `KILL QUERY`, opened when first needed and
/// bounded by the connect timeout.
struct Side<'a> {
    conn: &'a mut Option<MySqlConnection>,
    options: &'a MySqlConnectOptions,
    timeout: Duration,
    /// The connection id of the main connection.
    id: u64,
}

impl Side<'_> {
    async fn connection(&mut self) -> std::result::Result<&mut MySqlConnection, String> {
        if self.conn.is_none() {
            let conn = tokio::time::timeout(self.timeout, self.options.connect())
                .await
                .map_err(|_| {
                    format!(
                        "the server did not answer a second connection within {}s (--connect-timeout)",
                        self.timeout.as_secs()
                    )
                })?
                .map_err(|e| format!("a second connection failed: {}", message(&e)))?;
            *self.conn = Some(conn);
        }
        Ok(self.conn.as_mut().expect("just opened"))
    }

    /// `Ok(true)` while the server still runs a statement for the main connection.
    async fn still_running(&mut self) -> std::result::Result<bool, String> {
        let (id, timeout) = (self.id, self.timeout);
        let conn = self.connection().await?;
        let command = tokio::time::timeout(
            timeout,
            sqlx::query_scalar::<_, String>(
                "SELECT COMMAND FROM information_schema.PROCESSLIST WHERE ID = ?",
            )
            .bind(id)
            .fetch_optional(&mut *conn),
        )
        .await
        .map_err(|_| {
            format!(
                "the server did not answer the watchdog within {}s (--connect-timeout)",
                timeout.as_secs()
            )
        })
        .and_then(|r| r.map_err(|e| message(&e)));
        match command {
            Ok(c) => Ok(c.is_some_and(|c| c != "Sleep")),
            Err(e) => {
                *self.conn = None;
                Err(e)
            }
        }
    }

    async fn kill_query(&mut self) -> std::result::Result<(), String> {
        let sql = format!("KILL QUERY {}", self.id);
        let timeout = self.timeout;
        let conn = self.connection().await?;
        tokio::time::timeout(timeout, sqlx::raw_sql(&sql).execute(&mut *conn))
            .await
            .map_err(|_| "KILL QUERY got no answer".to_string())?
            .map(|_| ())
            .map_err(|e| message(&e))
    }
}

fn row_from(r: &MySqlRow) -> std::result::Result<Row, String> {
    let get_i64 = |c: &str| r.try_get::<i64, _>(c).map_err(|e| format!("{c}: {e}"));
    let get_str = |c: &str| r.try_get::<String, _>(c).map_err(|e| format!("{c}: {e}"));
    let get_opt = |c: &str| {
        r.try_get::<Option<String>, _>(c)
            .map_err(|e| format!("{c}: {e}"))
    };
    let nonneg = |c: &str| -> std::result::Result<u64, String> {
        let v = get_i64(c)?;
        u64::try_from(v).map_err(|_| format!("column {c} holds the negative value {v}"))
    };
    let state = get_str("state")?;
    Ok(Row {
        version: nonneg("version")?,
        description: get_str("description")?,
        checksum: get_str("checksum")?,
        state: State::parse(&state).ok_or_else(|| format!("unknown state {state:?}"))?,
        statements_done: u32::try_from(nonneg("statements_done")?).unwrap_or(u32::MAX),
        statements_total: u32::try_from(nonneg("statements_total")?).unwrap_or(u32::MAX),
        progress_checksum: get_opt("progress_checksum")?,
        error: get_opt("error_text")?,
        applied_at: get_str("applied_at")?,
        applied_by: get_str("applied_by")?,
        execution_ms: nonneg("execution_ms")?,
        tool_version: get_str("tool_version")?,
        statements_checksum: get_opt("statements_checksum")?,
    })
}

impl Backend for Mysql {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }

    async fn read_history(&mut self) -> Result<Vec<Row>> {
        // One round trip in the text protocol: the table name is a validated identifier, and
        // a missing table (error 1146) is an empty history. Integer columns are cast so that
        // they decode the same whatever the column types.
        let select = |last: &str| {
            format!(
                "SELECT CAST(version AS SIGNED) AS version, description, checksum, state, \
                 CAST(statements_done AS SIGNED) AS statements_done, \
                 CAST(statements_total AS SIGNED) AS statements_total, progress_checksum, \
                 error_text, applied_at, applied_by, CAST(execution_ms AS SIGNED) AS execution_ms, \
                 tool_version, {last} FROM {} ORDER BY version",
                self.table.quoted(Dialect::Mysql)
            )
        };
        if self.broken {
            return Err(self.lost_error());
        }
        let limit = self.timeouts.lock + self.timeouts.connect;
        let mut sql = select("statements_checksum");
        let mut old = false;
        let rows = loop {
            match tokio::time::timeout(limit, sqlx::raw_sql(&sql).fetch_all(&mut self.conn)).await {
                Ok(Ok(rows)) => break rows,
                Ok(Err(e)) if error_number(&e) == Some(ER_NO_SUCH_TABLE) => {
                    self.table_exists = false;
                    return Ok(Vec::new());
                }
                // A table written by 0.1.0: read as it is; the next write adds the column.
                Ok(Err(e)) if error_number(&e) == Some(ER_BAD_FIELD_ERROR) && !old => {
                    old = true;
                    sql = select("NULL AS statements_checksum");
                }
                Ok(Err(e)) => return Err(self.db_error(&e)),
                Err(_) => {
                    self.broken = true;
                    return Err(self.lost_error());
                }
            }
        };
        self.table_old = old;
        self.table_exists = true;
        rows.iter()
            .map(|r| {
                row_from(r).map_err(|message| Error::UnreadableRow {
                    target: self.describe.clone(),
                    table: self.table.to_string(),
                    message,
                })
            })
            .collect()
    }

    async fn history_changed(&mut self) -> Result<bool> {
        // The run lock is held for the whole run and the history was read after taking it.
        Ok(false)
    }

    async fn lock(&mut self) -> Result<()> {
        if self.cluster.is_some() {
            return self.lock_cluster().await;
        }
        let seconds = self.timeouts.lock.as_secs();
        // The server answers GET_LOCK within the lock timeout; an answer that does not come
        // within that plus the connect timeout was lost with the connection (a network gone
        // silent), and waiting longer would hang for ever.
        let bound = self.timeouts.lock + self.timeouts.connect + Duration::from_secs(1);
        // Free (the usual case): taken at once, in the one round trip the wait would cost.
        let at_once = bounded!(
            self,
            sqlx::query_scalar::<_, Option<i64>>("SELECT GET_LOCK(?, 0)")
                .bind(&self.lock_name)
                .fetch_one(&mut self.conn)
        )?;
        if at_once == Some(1) {
            self.locked = true;
            return Ok(());
        }
        if seconds == 0 {
            return Err(Error::LockTimeout {
                seconds,
                holder: self.lock_holder().await,
            });
        }
        let holder = self
            .lock_holder()
            .await
            .unwrap_or_else(|| "another session".to_string());
        super::seam::wait_notice(&format!(
            "waiting up to {seconds}s (--lock-timeout) for the migration lock, held by {holder}"
        ));
        let got = tokio::time::timeout(
            bound,
            sqlx::query_scalar::<_, Option<i64>>("SELECT GET_LOCK(?, ?)")
                .bind(&self.lock_name)
                .bind(seconds as i64)
                .fetch_one(&mut self.conn),
        )
        .await;
        super::seam::wait_over();
        let got = match got {
            Ok(r) => r.map_err(|e| self.db_error(&e))?,
            Err(_) => {
                self.broken = true;
                return Err(Error::LostWaitingForLock {
                    target: self.describe.clone(),
                    seconds: bound.as_secs(),
                });
            }
        };
        match got {
            Some(1) => {
                self.locked = true;
                Ok(())
            }
            Some(_) => Err(Error::LockTimeout {
                seconds,
                holder: self.lock_holder().await,
            }),
            None => Err(Error::GetLockFailed {
                target: self.describe.clone(),
                name: self.lock_name.clone(),
            }),
        }
    }

    async fn unlock(&mut self) -> Result<()> {
        if let Some(lease) = self.lease.take() {
            self.locked = false;
            if !self.broken {
                bounded!(self, lease.release(&mut self.conn))?;
            }
            return Ok(());
        }
        if self.locked && !self.broken {
            self.locked = false;
            let _: Option<i64> = bounded!(
                self,
                sqlx::query_scalar("SELECT RELEASE_LOCK(?)")
                    .bind(&self.lock_name)
                    .fetch_one(&mut self.conn)
            )?;
        }
        Ok(())
    }

    fn cluster(&self) -> Option<super::seam::ClusterInfo> {
        self.cluster.clone()
    }

    async fn transport(&mut self) -> Result<Option<String>> {
        let rows: Vec<(String, String)> = bounded!(
            self,
            sqlx::query_as(
                "SELECT UPPER(VARIABLE_NAME), VARIABLE_VALUE FROM information_schema.SESSION_STATUS \
                 WHERE VARIABLE_NAME IN ('Ssl_version', 'Ssl_cipher')"
            )
            .fetch_all(&mut self.conn)
        )?;
        let get = |name: &str| {
            rows.iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        let mode = self.ssl_mode.name();
        Ok(Some(match (get("SSL_VERSION"), get("SSL_CIPHER")) {
            (Some(version), Some(cipher)) => {
                format!("encrypted, {version}, cipher {cipher} (ssl-mode={mode})")
            }
            _ => format!("not encrypted (ssl-mode={mode})"),
        }))
    }

    async fn check_writable(&mut self) -> Result<()> {
        if !self.write_check {
            return Ok(());
        }
        let (read_only, innodb_read_only, account): (i64, i64, String) = bounded!(
            self,
            sqlx::query_as(
                "SELECT CAST(@@read_only AS SIGNED), CAST(@@innodb_read_only AS SIGNED), CURRENT_USER()"
            )
            .fetch_one(&mut self.conn)
        )?;
        if read_only != 0 || innodb_read_only != 0 {
            return Err(Error::ServerReadOnly {
                target: self.describe.clone(),
                setting: if read_only != 0 {
                    "read_only"
                } else {
                    "innodb_read_only"
                },
            });
        }
        // The account may write the version table: each kind of write on no row (a missing
        // table is created by `begin`, whose refusal is told the same way).
        if self.table_exists {
            let t = self.table.quoted(Dialect::Mysql);
            let probe = format!(
                "INSERT INTO {t} SELECT * FROM {t} WHERE 1 = 0; UPDATE {t} SET version = version WHERE 1 = 0; DELETE FROM {t} WHERE 1 = 0"
            );
            self.denied_is_not_writable(&probe, &format!("the account {account}"))
                .await?;
        }
        Ok(())
    }

    async fn old_transactions(
        &mut self,
        ddl: &[&str],
    ) -> Result<Option<super::seam::OldTransactions>> {
        if ddl.is_empty() {
            return Ok(None);
        }
        let tables: Vec<String> = self
            .table_names()
            .await?
            .into_iter()
            .filter(|t| ddl.iter().any(|sql| schema::probe::mentions(sql, t)))
            .collect();
        if tables.is_empty() {
            return Ok(None);
        }
        let older_than = self.timeouts.ddl_lock.unwrap_or(self.timeouts.lock);
        let (sessions, tables_known) = self.old_transactions_here(&tables, older_than).await;
        Ok(Some(super::seam::OldTransactions {
            sessions,
            older_than,
            tables,
            tables_known,
        }))
    }

    async fn begin(&mut self, _options: TxOptions) -> Result<()> {
        self.ready_table().await?;
        self.plain("START TRANSACTION").await
    }

    async fn commit(&mut self) -> Result<std::result::Result<(), StatementError>> {
        if self.broken {
            return Err(self.lost_error());
        }
        let limit = self.timeouts.lock + self.timeouts.connect;
        match tokio::time::timeout(limit, sqlx::raw_sql("COMMIT").execute(&mut self.conn)).await {
            Ok(Ok(_)) => Ok(Ok(())),
            Ok(Err(e)) if is_connection_error(&e) => Err(self.db_error(&e)),
            Ok(Err(e)) => Ok(Err(StatementError::failed(message(&e)))),
            Err(_) => {
                self.broken = true;
                Err(self.lost_error())
            }
        }
    }

    async fn rollback(&mut self) {
        if !self.broken {
            let _ = tokio::time::timeout(
                self.timeouts.connect,
                sqlx::raw_sql("ROLLBACK").execute(&mut self.conn),
            )
            .await;
        }
    }

    async fn ensure_table(&mut self) -> Result<()> {
        // Done in `begin`, before the transaction: DDL would commit it.
        Ok(())
    }

    async fn execute(&mut self, sql: &str) -> std::result::Result<(), StatementError> {
        if let Some(e) = self.lease_lost().await {
            return Err(e);
        }
        let result = match self.ddl_bound(sql) {
            Some(wait) => self
                .ddl_watched(None, sql, wait, &mut |_| {})
                .await
                .map_err(|(_, e)| e),
            None => self.execute_watched(sql).await,
        };
        if let Err(e) = &result {
            if e.kind == StatementErrorKind::ConnectionLost {
                self.broken = true;
            }
        }
        result
    }

    async fn execute_all(
        &mut self,
        statements: &[&str],
        starting: &mut dyn FnMut(usize),
    ) -> std::result::Result<(), (usize, StatementError)> {
        // Runs of small data statements go as multi-statement batches: one round trip for many,
        // and the server stops at a failing one, so the results before it count its index.
        // Anything else (which may send no result or several: CALL, a SELECT of a procedure)
        // goes alone.
        let batchable = |sql: &str| {
            sql.len() <= BATCH_BYTES
                && matches!(
                    crate::source::splitter::keywords(sql, 1)
                        .first()
                        .map(String::as_str),
                    Some("INSERT" | "UPDATE" | "DELETE" | "REPLACE")
                )
        };
        let mut start = 0;
        while start < statements.len() {
            let mut end = start + 1;
            if batchable(statements[start]) {
                let mut bytes = statements[start].len();
                while end < statements.len()
                    && batchable(statements[end])
                    && bytes + statements[end].len() <= BATCH_BYTES
                {
                    bytes += statements[end].len();
                    end += 1;
                }
            }
            if let Some(e) = self.lease_lost().await {
                return Err((start, e));
            }
            let result = match self.ddl_bound(statements[start]) {
                Some(wait) => self
                    .ddl_watched(None, statements[start], wait, &mut |_| starting(start))
                    .await
                    .map_err(|(_, e)| (start, e)),
                None => self
                    .batch_watched(&statements[start..end], &mut |i| starting(start + i))
                    .await
                    .map_err(|(i, e)| (start + i, e)),
            };
            if let Err((_, e)) = &result {
                if e.kind == StatementErrorKind::ConnectionLost {
                    self.broken = true;
                }
            }
            result?;
            start = end;
        }
        Ok(())
    }

    async fn reset_session(&mut self, forget: &[String]) -> Result<()> {
        let mut sql = self.reset_sql.clone();
        if !forget.is_empty() {
            let vars: Vec<String> = forget
                .iter()
                .map(|name| format!("@{} = NULL", Dialect::Mysql.quote_ident(name)))
                .collect();
            sql.push_str("; SET ");
            sql.push_str(&vars.join(", "));
        }
        self.plain(&sql).await
    }

    fn sends_rows_with_statements(&self) -> bool {
        // On a Galera cluster every history write is fenced by the lease first.
        self.cluster.is_none() && self.lease.is_none()
    }

    async fn execute_all_after(
        &mut self,
        write: RowWrite<'_>,
        statements: &[&str],
        starting: &mut dyn FnMut(usize),
    ) -> Result<std::result::Result<(), (usize, StatementError)>> {
        let Some(first) = statements
            .first()
            .filter(|_| self.sends_rows_with_statements())
        else {
            match write {
                RowWrite::Insert(row) => self.insert_row(row).await?,
                RowWrite::Update(row) => self.update_row(row).await?,
            }
            return Ok(self.execute_all(statements, starting).await);
        };
        self.ready_table().await?;
        // The row, autocommitted, and the first statement in one round trip: the server runs
        // them in order and stops at the first failure, so the row is committed before the
        // statement starts (a DDL's implicit commit comes after it), and a row it could not
        // write runs nothing.
        let row = row_write_sql(&self.table, write);
        let ran = match self.ddl_bound(first) {
            Some(wait) => {
                self.ddl_watched(Some(&row), first, wait, &mut |_| starting(0))
                    .await
            }
            None => self
                .batch_watched(&[&row, first], &mut |i| {
                    if i == 1 {
                        starting(0)
                    }
                })
                .await
                .map_err(|(i, e)| (i == 0 && e.kind != StatementErrorKind::ConnectionLost, e)),
        };
        match ran {
            Ok(()) => {}
            Err((true, e)) => {
                return Err(Error::DatabaseFailed {
                    target: self.describe.clone(),
                    action: None,
                    message: e.message,
                })
            }
            Err((false, e)) => {
                if e.kind == StatementErrorKind::ConnectionLost {
                    self.broken = true;
                }
                return Ok(Err((0, e)));
            }
        }
        let rest = &statements[1..];
        Ok(self
            .execute_all(rest, &mut |i| starting(i + 1))
            .await
            .map_err(|(i, e)| (i + 1, e)))
    }

    async fn insert_row(&mut self, row: &Row) -> Result<()> {
        // Outside a transaction, a stepwise run's first row may be the table's first write.
        self.ready_table().await?;
        self.fence().await?;
        let sql = format!(
            "INSERT INTO {} ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.table.quoted(Dialect::Mysql),
            history::COLUMNS
        );
        bounded!(
            self,
            recorded(
                sqlx::query(&sql)
                    .bind(row.version as i64)
                    .bind(&row.description),
                row
            )
            .execute(&mut self.conn)
        )
        .map(|_| ())
    }

    async fn update_row(&mut self, row: &Row) -> Result<()> {
        // Outside a transaction, a stepwise run's first row may be the table's first write.
        self.ready_table().await?;
        self.fence().await?;
        let sql = format!(
            "UPDATE {} SET checksum = ?, state = ?, statements_done = ?, statements_total = ?, progress_checksum = ?, error_text = ?, applied_at = ?, applied_by = ?, execution_ms = ?, tool_version = ?, statements_checksum = ? WHERE version = ?",
            self.table.quoted(Dialect::Mysql)
        );
        bounded!(
            self,
            recorded(sqlx::query(&sql), row)
                .bind(row.version as i64)
                .execute(&mut self.conn)
        )
        .map(|_| ())
    }

    async fn delete_row(&mut self, version: u64) -> Result<()> {
        self.fence().await?;
        let sql = format!(
            "DELETE FROM {} WHERE version = ?",
            self.table.quoted(Dialect::Mysql)
        );
        bounded!(
            self,
            sqlx::query(&sql)
                .bind(version as i64)
                .execute(&mut self.conn)
        )
        .map(|_| ())
    }

    async fn write_rows_together(&mut self, done: &Row, next: &Row) -> Result<()> {
        if !self.sends_rows_with_statements() {
            // Fenced writes (a Galera lease) go one by one.
            return super::seam::rows_in_one_transaction(self, done, next).await;
        }
        self.ready_table().await?;
        // The two writes and their commit in one round trip: the server stops at a failing
        // statement, so a failure leaves the transaction open, rolled back here.
        let sql = format!(
            "START TRANSACTION; {}; {}; COMMIT",
            row_write_sql(&self.table, RowWrite::Update(done)),
            row_write_sql(&self.table, RowWrite::Insert(next))
        );
        let wrote = bounded!(self, sqlx::raw_sql(&sql).execute(&mut self.conn));
        if wrote.is_err() {
            self.rollback().await;
        }
        wrote.map(|_| ())
    }

    async fn max_transaction_bytes(&mut self) -> Result<Option<(u64, &'static str)>> {
        if self.cluster.is_none() {
            return Ok(None);
        }
        let limit: i64 = bounded!(
            self,
            sqlx::query_scalar("SELECT CAST(@@wsrep_max_ws_size AS SIGNED)")
                .fetch_one(&mut self.conn)
        )?;
        Ok(u64::try_from(limit).ok().map(|l| (l, "wsrep_max_ws_size")))
    }

    async fn max_statement_bytes(&mut self) -> Result<Option<u64>> {
        let v: u64 = bounded!(
            self,
            sqlx::query_scalar("SELECT @@max_allowed_packet").fetch_one(&mut self.conn)
        )?;
        Ok(Some(v))
    }

    fn transactional_ddl(&self) -> bool {
        false
    }

    fn foreign_key_checks_sql(&self, on: bool) -> &'static str {
        if on {
            "SET FOREIGN_KEY_CHECKS = 1"
        } else {
            "SET FOREIGN_KEY_CHECKS = 0"
        }
    }
}

impl Catalogue for Mysql {
    async fn introspect(&mut self) -> Result<Schema> {
        let (own, lock) = (self.table.as_str().to_string(), self.lock_table_name());
        let keep = |name: &str| {
            !name.eq_ignore_ascii_case(&own)
                && !name.eq_ignore_ascii_case(&lock)
                && name != schema::ALEMBIC_TABLE
        };
        let mariadb = self
            .text_rows("SELECT VERSION()")
            .await?
            .first()
            .and_then(|r| r[0].clone())
            .is_some_and(|v| v.contains("MariaDB"));
        let mut tables: BTreeMap<String, RawTable> = BTreeMap::new();
        for r in self
            .text_rows(
                "SELECT TABLE_NAME, ENGINE, TABLE_COLLATION, CREATE_OPTIONS, ROW_FORMAT \
                 FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'",
            )
            .await?
        {
            let name = r[0].clone().unwrap_or_default();
            if keep(&name) {
                tables.insert(
                    name.clone(),
                    RawTable {
                        name,
                        engine: r[1].clone(),
                        collation: r[2].as_deref().map(schema::normalise_collation),
                        row_format: schema::stated_row_format(r[3].as_deref().unwrap_or("")),
                        row_format_in_effect: r[4].as_deref().map(str::to_ascii_uppercase),
                        ..RawTable::default()
                    },
                );
            }
        }
        for r in self
            .text_rows(
                "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, \
                 COLLATION_NAME, DATA_TYPE FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION",
            )
            .await?
        {
            let Some(t) = tables.get_mut(r[0].as_deref().unwrap_or_default()) else {
                continue;
            };
            let type_name = schema::normalise_type(Dialect::Mysql, r[2].as_deref().unwrap_or(""));
            let extra = r[5].clone().unwrap_or_default().to_ascii_lowercase();
            let data_type = r[7].clone().unwrap_or_default().to_ascii_lowercase();
            // MySQL 8 shows string defaults unquoted; MariaDB shows SQL literals.
            let raw_default = match &r[4] {
                Some(d)
                    if !mariadb
                        && !extra.contains("default_generated")
                        && matches!(
                            data_type.as_str(),
                            "char"
                                | "varchar"
                                | "text"
                                | "tinytext"
                                | "mediumtext"
                                | "longtext"
                                | "enum"
                                | "set"
                                | "timestamp"
                                | "datetime"
                                | "date"
                                | "time"
                        ) =>
                {
                    Some(format!("'{}'", d.replace('\'', "''")))
                }
                other => other.clone(),
            };
            let text = schema::type_family(&type_name) == "text";
            t.columns.push(Column {
                name: r[1].clone().unwrap_or_default(),
                nullable: r[3].as_deref() == Some("YES"),
                default: schema::normalise_default(raw_default.as_deref(), &type_name),
                auto_increment: extra.contains("auto_increment"),
                on_update: extra
                    .contains("on update")
                    .then(|| "CURRENT_TIMESTAMP".to_string()),
                collation: if text {
                    r[6].as_deref().map(schema::normalise_collation)
                } else {
                    None
                },
                type_name,
            });
        }
        for r in self
            .text_rows(
                "SELECT TABLE_NAME, INDEX_NAME, CAST(NON_UNIQUE AS CHAR), COLUMN_NAME \
                 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
                 ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
            )
            .await?
        {
            let Some(t) = tables.get_mut(r[0].as_deref().unwrap_or_default()) else {
                continue;
            };
            let (index, column) = (
                r[1].clone().unwrap_or_default(),
                r[3].clone().unwrap_or_else(|| "<expression>".into()),
            );
            if index == "PRIMARY" {
                t.primary_key.push(column);
                continue;
            }
            let unique = r[2].as_deref() == Some("0");
            match t.indexes.last_mut() {
                Some((name, _, cols)) if *name == index => cols.push(column),
                _ => t.indexes.push((index, unique, vec![column])),
            }
        }
        for r in self
            .text_rows(
                "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, \
                 k.REFERENCED_COLUMN_NAME, c.UPDATE_RULE, c.DELETE_RULE \
                 FROM information_schema.KEY_COLUMN_USAGE k \
                 JOIN (SELECT TABLE_NAME, CONSTRAINT_NAME, UPDATE_RULE, DELETE_RULE \
                 FROM information_schema.REFERENTIAL_CONSTRAINTS \
                 WHERE CONSTRAINT_SCHEMA = DATABASE()) c \
                 ON c.TABLE_NAME = k.TABLE_NAME AND c.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
                 WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
                 ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
            )
            .await?
        {
            let Some(t) = tables.get_mut(r[0].as_deref().unwrap_or_default()) else {
                continue;
            };
            let name = r[1].clone();
            let (column, ref_column) = (
                r[2].clone().unwrap_or_default(),
                r[4].clone().unwrap_or_default(),
            );
            match t.foreign_keys.last_mut() {
                Some((n, fk)) if *n == name => {
                    fk.columns.push(column);
                    fk.references_columns.push(ref_column);
                }
                _ => t.foreign_keys.push((
                    name,
                    ForeignKey {
                        columns: vec![column],
                        references_table: r[3].clone().unwrap_or_default(),
                        references_columns: vec![ref_column],
                        on_update: schema::normalise_action(r[5].as_deref().unwrap_or("")),
                        on_delete: schema::normalise_action(r[6].as_deref().unwrap_or("")),
                    },
                )),
            }
        }
        Ok(Schema::new(
            Dialect::Mysql,
            tables
                .into_values()
                .map(|t| t.finish(Dialect::Mysql))
                .collect(),
        ))
    }

    async fn copy_statements(&mut self) -> Result<Vec<crate::schema::Definition>> {
        let names: Vec<String> = self
            .text_rows(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() \
                 AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
            )
            .await
            .map(super::seam::first_column)?
            .into_iter()
            .filter(|n| !self.own_table(n))
            .collect();
        let mut out = Vec::new();
        for name in names {
            let sql = format!("SHOW CREATE TABLE {}", Dialect::Mysql.quote_ident(&name));
            let rows = self.text_rows(&sql).await?;
            if let Some(Some(create)) = rows.into_iter().next().and_then(|r| r.into_iter().nth(1)) {
                out.push(crate::schema::Definition {
                    kind: "table".into(),
                    name: name.clone(),
                    table: name,
                    sql: create,
                });
            }
        }
        Ok(out)
    }

    async fn table_names(&mut self) -> Result<Vec<String>> {
        Ok(self
            .text_rows(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() \
                 ORDER BY TABLE_NAME",
            )
            .await
            .map(super::seam::first_column)?
            .into_iter()
            .filter(|n| !self.own_table(n))
            .collect())
    }

    async fn alembic_revisions(&mut self) -> Result<Option<Vec<String>>> {
        let names = self.table_names().await?;
        if !names.iter().any(|n| n == schema::ALEMBIC_TABLE) {
            return Ok(None);
        }
        Ok(Some(super::seam::first_column(
            self.text_rows("SELECT CAST(version_num AS CHAR) FROM alembic_version")
                .await?,
        )))
    }

    async fn table_rows(&mut self, table: &Table) -> Result<Vec<Vec<Option<String>>>> {
        let sql = super::seam::rows_as_text_sql(table, Dialect::Mysql, "CHAR");
        self.text_rows(&sql).await
    }

    async fn probe(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
        match self.timeouts.statement {
            None => self.text_rows(sql).await,
            Some(limit) => self.rows_within(sql, limit).await,
        }
    }

    async fn alter_algorithms(&mut self) -> Result<&'static [&'static str]> {
        let version = self.text_rows("SELECT VERSION()").await?;
        let mariadb = version
            .first()
            .and_then(|r| r[0].as_deref())
            .is_some_and(|v| v.contains("MariaDB"));
        Ok(match mariadb {
            true => &["INSTANT", "NOCOPY", "INPLACE", "COPY"],
            false => &["INSTANT", "INPLACE", "COPY"],
        })
    }

    async fn table_size(&mut self, table: &str) -> Result<Option<(u64, u64)>> {
        let quoted = table.replace('\\', "\\\\").replace('\'', "''");
        let rows = self
            .text_rows(&format!(
                "SELECT CAST(TABLE_ROWS AS CHAR), CAST(DATA_LENGTH + INDEX_LENGTH AS CHAR) \
                 FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{quoted}'"
            ))
            .await?;
        let number = |v: &Option<String>| v.as_deref().and_then(|v| v.parse::<u64>().ok());
        Ok(rows
            .first()
            .and_then(|r| Some((number(r.first()?)?, number(r.get(1)?)?))))
    }

    async fn default_collation(&mut self) -> Result<Option<String>> {
        Ok(self
            .text_rows(
                "SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA \
                 WHERE SCHEMA_NAME = DATABASE()",
            )
            .await
            .map(super::seam::first_column)?
            .into_iter()
            .next())
    }

    async fn definitions(&mut self) -> Result<Vec<crate::schema::Definition>> {
        let rows = self
            .text_rows(
                "SELECT 'view', TABLE_NAME, TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS \
                 WHERE TABLE_SCHEMA = DATABASE() \
                 UNION ALL SELECT 'trigger', TRIGGER_NAME, EVENT_OBJECT_TABLE, \
                 CONCAT(ACTION_TIMING, ' ', EVENT_MANIPULATION, ' ', ACTION_STATEMENT) \
                 FROM information_schema.TRIGGERS \
                 WHERE EVENT_OBJECT_SCHEMA = DATABASE() AND TRIGGER_SCHEMA = DATABASE() \
                 UNION ALL SELECT 'check', CONSTRAINT_NAME, TABLE_NAME, CHECK_CLAUSE \
                 FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() \
                 ORDER BY 1, 2",
            )
            .await?;
        Ok(super::seam::definitions_from(rows, |t| self.own_table(t)))
    }
}

impl Mysql {
    /// The rows of a read-only query that `--statement-timeout` bounds: past `limit` it is
    /// cancelled (`KILL QUERY` on the side connection) and [`Error::QueryTimedOut`] returned.
    async fn rows_within(
        &mut self,
        sql: &str,
        limit: Duration,
    ) -> Result<Vec<Vec<Option<String>>>> {
        if self.broken {
            return Err(self.lost_error());
        }
        // `None`: cancelled, `Some(clean)` when the connection is still usable after it.
        let outcome: std::result::Result<_, bool> = {
            let Mysql {
                conn,
                side,
                options,
                timeouts,
                connection_id,
                ..
            } = &mut *self;
            let mut side = Side {
                conn: side,
                options,
                timeout: timeouts.connect,
                id: *connection_id,
            };
            let connect = timeouts.connect;
            let fut = sqlx::raw_sql(sql).fetch_all(&mut *conn);
            tokio::pin!(fut);
            tokio::select! {
                r = &mut fut => Ok(r),
                _ = tokio::time::sleep(limit) => {
                    tracing::warn!("statement timeout reached, cancelling the query (KILL QUERY)");
                    let killed = side.kill_query().await;
                    // The query then ends with an interruption (or its rows, just in time).
                    let ended = tokio::time::timeout(connect, &mut fut).await.is_ok();
                    Err(killed.is_ok() && ended)
                }
            }
        };
        let rows = match outcome {
            Ok(rows) => rows,
            Err(clean) => {
                self.broken = !clean;
                return Err(Error::QueryTimedOut {
                    target: self.describe.clone(),
                    seconds: limit.as_secs(),
                });
            }
        };
        let rows = rows.map_err(|e| self.db_error(&e))?;
        super::seam::texts(&rows, &self.describe)
    }

    /// Runs one statement, cancelling it at the statement timeout and, while it runs longer
    /// than a few seconds, asking the server on a second connection whether it still runs it.
    async fn execute_watched(&mut self, sql: &str) -> std::result::Result<(), StatementError> {
        self.batch_watched(&[sql], &mut |_| {})
            .await
            .map_err(|(_, e)| e)
    }

    /// Runs `statements` as one multi-statement batch (one of them alone: as it is) under the
    /// watchdog and `--statement-timeout` (for the batch as a whole); on failure, the index of
    /// the statement that failed: the server stops at it, and each statement before it has
    /// sent exactly one result. `starting` is called as each statement starts.
    async fn batch_watched(
        &mut self,
        statements: &[&str],
        starting: &mut dyn FnMut(usize),
    ) -> std::result::Result<(), (usize, StatementError)> {
        use futures_util::StreamExt;
        let joined;
        let sql = match statements {
            [one] => *one,
            many => {
                // Statements end at their last token, so a newline and `;` always close them
                // (also one ending in a `--` comment). Nothing between the `;` and the next
                // statement: the server counts the lines of each statement of a batch from the
                // byte after the `;` before it, and a line named in its message ("… at line 3")
                // must be the statement's own.
                joined = many.join("\n;");
                joined.as_str()
            }
        };
        let total = statements.len();
        let done = std::cell::Cell::new(0usize);
        let started = Instant::now();
        let deadline = self.timeouts.statement.map(|t| started + t);
        let mut next_check = started + WATCHDOG_AFTER;
        let mut cancelled = false;
        // The statement runs on `conn`; the watchdog and KILL QUERY use the side connection.
        // Disjoint field borrows let both live at once.
        let Mysql {
            conn,
            side,
            options,
            timeouts,
            connection_id,
            ..
        } = self;
        let mut side = Side {
            conn: side,
            options,
            timeout: timeouts.connect,
            id: *connection_id,
        };
        let outcome = {
            let fut = async {
                starting(0);
                let mut results = sqlx::raw_sql(sql).execute_many(&mut *conn);
                while let Some(r) = results.next().await {
                    r?;
                    done.set(done.get() + 1);
                    if done.get() < total {
                        starting(done.get());
                    }
                }
                Ok::<(), sqlx::Error>(())
            };
            tokio::pin!(fut);
            loop {
                let wake = match deadline {
                    Some(d) if !cancelled && d < next_check => d,
                    _ => next_check,
                };
                tokio::select! {
                    r = &mut fut => break r.map(|_| ()),
                    _ = tokio::time::sleep_until(wake.into()) => {}
                }
                if deadline.is_some_and(|d| !cancelled && Instant::now() >= d) {
                    tracing::warn!(
                        "statement timeout reached, cancelling the statement (KILL QUERY)"
                    );
                    cancelled = true;
                    if let Err(e) = side.kill_query().await {
                        return Err((
                            done.get().min(total - 1),
                            StatementError {
                                message: format!("could not cancel the statement: {e}"),
                                kind: StatementErrorKind::ConnectionLost,
                                line: None,
                                violations: Vec::new(),
                                blockers: Vec::new(),
                            },
                        ));
                    }
                    continue;
                }
                next_check = Instant::now() + WATCHDOG_EVERY;
                match side.still_running().await {
                    Ok(true) => {
                        tracing::info!(
                            seconds = started.elapsed().as_secs(),
                            "statement still running"
                        );
                    }
                    Ok(false) => {
                        // The answer may be on its way: give it a moment before calling it lost.
                        match tokio::time::timeout(Duration::from_secs(2), &mut fut).await {
                        Ok(r) => break r.map(|_| ()),
                        Err(_) => {
                            return Err((done.get().min(total - 1), StatementError {
                                message: "the server no longer runs this statement, but its answer never arrived (watchdog)".to_string(),
                                kind: StatementErrorKind::ConnectionLost,
                                line: None,
                                violations: Vec::new(),
                                blockers: Vec::new(),
                            }))
                        }
                    }
                    }
                    Err(e) => {
                        return Err((
                            done.get().min(total - 1),
                            StatementError {
                                message: format!("the server cannot be reached (watchdog): {e}"),
                                kind: StatementErrorKind::ConnectionLost,
                                line: None,
                                violations: Vec::new(),
                                blockers: Vec::new(),
                            },
                        ))
                    }
                }
            }
        };
        let at = done.get().min(total - 1);
        match outcome {
            // SLEEP() and some others end early without an error when killed.
            Ok(()) if cancelled => Err((
                at,
                StatementError::failed(format!(
                    "cancelled after {}s (--statement-timeout)",
                    self.timeouts.statement.map_or(0, |t| t.as_secs())
                )),
            )),
            Ok(()) => Ok(()),
            Err(e) => Err((at, self.statement_error(&e, cancelled))),
        }
    }

    fn statement_error(&self, e: &sqlx::Error, cancelled: bool) -> StatementError {
        if is_connection_error(e) {
            return StatementError {
                message: message(e),
                kind: StatementErrorKind::ConnectionLost,
                line: None,
                violations: Vec::new(),
                blockers: Vec::new(),
            };
        }
        let mut m = message(e);
        match error_number(e) {
            Some(ER_QUERY_INTERRUPTED) if cancelled => {
                m = format!(
                    "cancelled after {}s (--statement-timeout): {m}",
                    self.timeouts.statement.map_or(0, |t| t.as_secs())
                );
            }
            Some(ER_LOCK_WAIT_TIMEOUT) if self.ddl_waiting.is_some() => {
                let seconds = self.ddl_waiting.unwrap_or_default();
                m.push_str(&format!(
                    " (waited {seconds}s, --ddl-lock-wait, for the metadata lock of a table another session holds)"
                ));
                return StatementError {
                    kind: StatementErrorKind::LockWait,
                    ..StatementError::failed(m)
                };
            }
            Some(ER_LOCK_WAIT_TIMEOUT) => {
                m.push_str(&format!(
                    " (waited {}s, --lock-timeout, for a lock another session holds)",
                    self.timeouts.lock.as_secs().max(1)
                ));
            }
            _ => {}
        }
        let line = server_line(&m);
        StatementError {
            line,
            ..StatementError::failed(without_batch_tail(m))
        }
    }

    /// Closes the connections cleanly (the server then releases the lock); a lost connection
    /// is just dropped, and nothing waits longer than the connect timeout.
    pub async fn close(self) {
        open_sessions().retain(|(_, id)| *id != self.connection_id);
        let timeout = self.timeouts.connect;
        if !self.broken {
            let _ = tokio::time::timeout(timeout, self.conn.close()).await;
        }
        if let Some(side) = self.side {
            let _ = tokio::time::timeout(timeout, side.close()).await;
        }
    }
}

impl Mysql {
    /// Ends the connection from a new one (`KILL CONNECTION`) rather than closing it: for work
    /// dropped mid-statement, whose connection would only close once that statement ended (a
    /// replay in a scratch database stopped by an error beside it). The server stops the
    /// statement at once; nothing waits longer than the connect timeout.
    pub async fn end(self) {
        open_sessions().retain(|(_, id)| *id != self.connection_id);
        let id = self.connection_id;
        let work = async {
            let mut conn = self.options.connect().await?;
            sqlx::raw_sql(&format!("KILL CONNECTION {id}"))
                .execute(&mut conn)
                .await?;
            conn.close().await
        };
        match tokio::time::timeout(self.timeouts.connect, work).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("could not end connection {id}: {e}"),
            Err(_) => tracing::warn!(
                "could not end connection {id}: no answer within {}s",
                self.timeouts.connect.as_secs()
            ),
        }
    }
}

/// Catalogue queries behind [`Catalogue::introspect`] and friends: every value read as text.
impl Mysql {
    async fn text_rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
        let rows = bounded!(self, sqlx::raw_sql(sql).fetch_all(&mut self.conn))?;
        super::seam::texts(&rows, &self.describe)
    }
}

/// A history write as one statement of the text protocol, for a multi-statement batch (which
/// takes no bound parameters): integers as digits, every string as a hex literal introduced
/// as `utf8mb4` (`_utf8mb4 X'…'`), which reads the same under every `sql_mode`
/// (`NO_BACKSLASH_ESCAPES`, `ANSI_QUOTES`) and whatever the text holds. The same columns and
/// values as [`Backend::insert_row`] and [`Backend::update_row`] bind.
fn row_write_sql(table: &TableName, write: RowWrite<'_>) -> String {
    use std::fmt::Write as _;
    fn text(out: &mut String, v: Option<&str>) {
        match v {
            None => out.push_str("NULL"),
            Some(v) => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.reserve(v.len() * 2 + 12);
                out.push_str("_utf8mb4 X'");
                for b in v.bytes() {
                    out.push(char::from(HEX[usize::from(b >> 4)]));
                    out.push(char::from(HEX[usize::from(b & 0x0f)]));
                }
                out.push('\'');
            }
        }
    }
    let (row, insert) = match write {
        RowWrite::Insert(row) => (row, true),
        RowWrite::Update(row) => (row, false),
    };
    let recorded: [(&str, Result<Option<&str>, i64>); 11] = [
        ("checksum", Ok(Some(&row.checksum))),
        ("state", Ok(Some(row.state.as_str()))),
        ("statements_done", Err(row.statements_done as i64)),
        ("statements_total", Err(row.statements_total as i64)),
        ("progress_checksum", Ok(row.progress_checksum.as_deref())),
        ("error_text", Ok(row.error.as_deref())),
        ("applied_at", Ok(Some(&row.applied_at))),
        ("applied_by", Ok(Some(&row.applied_by))),
        ("execution_ms", Err(row.execution_ms as i64)),
        ("tool_version", Ok(Some(&row.tool_version))),
        (
            "statements_checksum",
            Ok(row.statements_checksum.as_deref()),
        ),
    ];
    let t = table.quoted(Dialect::Mysql);
    let mut out = String::with_capacity(1024);
    if insert {
        let _ = write!(
            out,
            "INSERT INTO {t} ({}) VALUES ({}, ",
            history::COLUMNS,
            row.version
        );
        text(&mut out, Some(&row.description));
    } else {
        let _ = write!(out, "UPDATE {t} SET ");
    }
    for (i, (column, value)) in recorded.iter().enumerate() {
        out.push_str(match (insert, i) {
            (true, _) => ", ",
            (false, 0) => "",
            (false, _) => ", ",
        });
        if !insert {
            let _ = write!(out, "{column} = ");
        }
        match value {
            Ok(v) => text(&mut out, *v),
            Err(n) => {
                let _ = write!(out, "{n}");
            }
        }
    }
    if insert {
        out.push(')');
    } else {
        let _ = write!(out, " WHERE version = {}", row.version);
    }
    out
}

/// Binds the recorded columns of a history row that both INSERT and UPDATE write, in the
/// order of [`history::COLUMNS`] after `version` and `description`.
fn recorded<'q>(
    q: sqlx::query::Query<'q, sqlx::MySql, sqlx::mysql::MySqlArguments>,
    row: &'q Row,
) -> sqlx::query::Query<'q, sqlx::MySql, sqlx::mysql::MySqlArguments> {
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
