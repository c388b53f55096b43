//! The server's error numbers the backend reacts to, and the one function that reads a
//! number off an error. A leaf of `backend::mysql`: the connection and the lease both use it.

use sqlx::mysql::MySqlDatabaseError;

/// Lock wait timeout exceeded.
pub(super) const ER_LOCK_WAIT_TIMEOUT: u16 = 1205;
/// Table doesn't exist.
pub(super) const ER_NO_SUCH_TABLE: u16 = 1146;
/// Unknown system variable: a MariaDB built without wsrep has no `wsrep_on`.
pub(super) const ER_UNKNOWN_SYSTEM_VARIABLE: u16 = 1193;
/// Unknown column: a version table written by 0.1.0 has no `statements_checksum`.
pub(super) const ER_BAD_FIELD_ERROR: u16 = 1054;
/// Privilege refusals: database access (1044), a command on a table (1142), a column
/// (1143), a missing privilege such as SUPER (1227).
pub(super) const DENIED: [u16; 4] = [1044, 1142, 1143, 1227];
/// "The MariaDB server is running with the --read-only option".
pub(super) const ER_OPTION_PREVENTS_STATEMENT: u16 = 1290;
/// Duplicate column name: another runner added the column first.
pub(super) const ER_DUP_FIELDNAME: u16 = 1060;
/// Query execution was interrupted (a KILL QUERY or KILL CONNECTION from another session).
pub(super) const ER_QUERY_INTERRUPTED: u16 = 1317;
/// `Unknown database '…'`.
pub(super) const ER_BAD_DB_ERROR: u16 = 1049;

/// The server's error number of a database error, `None` for any other error.
pub(super) fn error_number(e: &sqlx::Error) -> Option<u16> {
    e.as_database_error()
        .and_then(|d| d.try_downcast_ref::<MySqlDatabaseError>())
        .map(|d| d.number())
}
