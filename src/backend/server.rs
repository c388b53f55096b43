//! The server side of a dialect, apart from a connection's migration surface (as sqlx keeps
//! `MigrateDatabase` apart from `Migrate`): where scratch databases are made ([`Place`]),
//! creating one and removing it again ([`Scratch`]). SQLite scratch databases are files in a
//! private temporary directory; MySQL ones are databases named
//! `<database>_migrate_<pid>_<n>_<purpose>` on the configured server, created and dropped
//! here (the user needs the privilege to do so).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use super::{Access, Connection, Timeouts};
use crate::config::{DatabaseTarget, MysqlTarget};
use crate::error::{Error, Result};
use crate::history::TableName;
use crate::Dialect;

/// Where scratch databases are made: SQLite files, or databases on a MySQL server.
#[derive(Debug, Clone)]
pub enum Place {
    Sqlite,
    /// The server of this target; its own database is only used to name the scratch ones.
    Mysql(MysqlTarget),
}

impl Place {
    pub fn dialect(&self) -> Dialect {
        match self {
            Place::Sqlite => Dialect::Sqlite,
            Place::Mysql(_) => Dialect::Mysql,
        }
    }
}

/// An open scratch database, removed by [`Scratch::dispose`].
pub struct Scratch {
    pub conn: Connection,
    cleanup: Cleanup,
    timeouts: Timeouts,
}

enum Cleanup {
    Dir(PathBuf),
    Database(MysqlTarget, String),
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl Scratch {
    /// Creates an empty scratch database. `collation`: the MySQL database default to use
    /// (by default utf8mb4_general_ci).
    pub async fn create(
        place: &Place,
        purpose: &str,
        collation: Option<&str>,
        table: &TableName,
        timeouts: Timeouts,
    ) -> Result<Scratch> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        match place {
            Place::Sqlite => {
                let dir = std::env::temp_dir().join(format!("aurweb-migrate-{pid}-{n}"));
                std::fs::create_dir_all(&dir).map_err(|e| {
                    Error::Database(format!("cannot create {}: {e}", dir.display()))
                })?;
                let target = DatabaseTarget::Sqlite {
                    path: dir.join(format!("{purpose}.sqlite3")),
                };
                match open_scratch(&target, table, timeouts).await {
                    Ok(conn) => Ok(Scratch {
                        conn,
                        cleanup: Cleanup::Dir(dir),
                        timeouts,
                    }),
                    Err(e) => {
                        let _ = std::fs::remove_dir_all(&dir);
                        Err(e)
                    }
                }
            }
            Place::Mysql(server) => {
                let mut name = format!("{}_migrate_{pid}_{n}_{purpose}", server.database);
                name.truncate(64);
                let collation = collation.unwrap_or("utf8mb4_general_ci");
                let charset = collation.split('_').next().unwrap_or("utf8mb4");
                let quoted = Dialect::Mysql.quote_ident(&name);
                let valid = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if !valid(collation) {
                    return Err(Error::Database(format!(
                        "unexpected collation name {collation:?}"
                    )));
                }
                super::mysql::administer(
                    server,
                    &[
                        format!("DROP DATABASE IF EXISTS {quoted}"),
                        format!(
                            "CREATE DATABASE {quoted} CHARACTER SET {charset} COLLATE {collation}"
                        ),
                    ],
                    timeouts.connect,
                )
                .await
                .map_err(|e| {
                    Error::Database(format!(
                        "cannot create the scratch database {name} (the tool builds the expected schema there; the user needs CREATE and DROP on `{}\\_migrate\\_%`): {e}",
                        server.database
                    ))
                })?;
                let target = MysqlTarget {
                    database: name.clone(),
                    ..server.clone()
                };
                let opened = open_scratch(&DatabaseTarget::Mysql(target), table, timeouts).await;
                let cleanup = Cleanup::Database(server.clone(), name);
                match opened {
                    Ok(conn) => Ok(Scratch {
                        conn,
                        cleanup,
                        timeouts,
                    }),
                    Err(e) => {
                        Scratch::remove(cleanup, timeouts).await;
                        Err(e)
                    }
                }
            }
        }
    }

    /// Closes and removes the scratch database.
    pub async fn dispose(self) {
        self.conn.close().await;
        Scratch::remove(self.cleanup, self.timeouts).await;
    }

    async fn remove(cleanup: Cleanup, timeouts: Timeouts) {
        match cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Database(server, name) => {
                let sql = format!(
                    "DROP DATABASE IF EXISTS {}",
                    Dialect::Mysql.quote_ident(&name)
                );
                if let Err(e) = super::mysql::administer(&server, &[sql], timeouts.connect).await {
                    tracing::warn!("could not drop the scratch database {name}: {e}");
                }
            }
        }
    }
}

/// Opens a scratch database for writing.
async fn open_scratch(
    target: &DatabaseTarget,
    table: &TableName,
    timeouts: Timeouts,
) -> Result<Connection> {
    Connection::open(target, Access::ReadWrite, table.clone(), timeouts)
        .await?
        .ok_or_else(|| Error::Connect {
            target: target.redacted(),
            message: "the scratch database could not be opened for writing".into(),
        })
}
