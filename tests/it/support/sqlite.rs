//! The SQLite side of [`Db`]: its connections (read-only where the test only looks) and the
//! database's write lock held by a test ([`Db::hold_write_lock`] → [`WriteLock`]).

use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};

use super::db::{Db, DbKind};

impl<'e> Db<'e> {
    pub(super) async fn connect_sqlite(path: &Path, read_only: bool) -> SqliteConnection {
        SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(!read_only)
            .read_only(read_only)
            .disable_statement_logging()
            .connect()
            .await
            .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
    }

    /// Holds the database's write lock (`BEGIN IMMEDIATE`) until the guard is dropped. SQLite
    /// only: MySQL has no database-wide write lock; its tests hold the tool's `GET_LOCK`.
    #[track_caller]
    pub fn hold_write_lock(&self) -> WriteLock<'_, 'e> {
        self.hold_lock("BEGIN IMMEDIATE")
    }

    /// Holds a reader's lock (a read transaction that has read: SQLite's SHARED lock) until
    /// the guard is dropped. Another connection may begin writing meanwhile, but its COMMIT
    /// waits for this reader to end (rollback journal). SQLite only.
    #[track_caller]
    pub fn hold_read_lock(&self) -> WriteLock<'_, 'e> {
        self.hold_lock("BEGIN; SELECT COUNT(*) FROM sqlite_schema")
    }

    #[track_caller]
    fn hold_lock(&self, sql: &str) -> WriteLock<'_, 'e> {
        match &self.kind {
            DbKind::Sqlite { path } => {
                let conn = self.block_on(async {
                    let mut c = Self::connect_sqlite(path, false).await;
                    sqlx::raw_sql(sql)
                        .execute(&mut c)
                        .await
                        .unwrap_or_else(|e| panic!("{sql}: {e}"));
                    c
                });
                WriteLock {
                    db: self,
                    conn: Some(conn),
                }
            }
            DbKind::Mysql { .. } => panic!("a lock held on {}: SQLite only", self.url),
        }
    }
}

/// An open transaction holding a lock; rolled back on drop.
pub struct WriteLock<'d, 'e> {
    db: &'d Db<'e>,
    conn: Option<SqliteConnection>,
}

impl WriteLock<'_, '_> {
    pub fn release(mut self) {
        self.rollback();
    }

    fn rollback(&mut self) {
        if let Some(mut c) = self.conn.take() {
            self.db.block_on(async {
                let _ = sqlx::raw_sql("ROLLBACK").execute(&mut c).await;
                let _ = c.close().await;
            });
        }
    }
}

impl Drop for WriteLock<'_, '_> {
    fn drop(&mut self) {
        self.rollback();
    }
}
