//! The server side of a dialect, apart from a connection's migration surface (as sqlx keeps
//! `MigrateDatabase` apart from `Migrate`): where scratch databases are made ([`Place`]),
//! creating one and removing it again ([`Scratch`]). SQLite scratch databases are files in a
//! private temporary directory (or, for the rehearsal, a database in memory); MySQL ones are
//! databases named
//! `<database>_migrate_<pid>_<n>_<purpose>` on the configured server, created and dropped
//! here (the user needs the privilege to do so).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use super::seam::{Access, Timeouts};
use super::Connection;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::history::TableName;
use crate::settings::target::{DatabaseTarget, MysqlTarget};

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
    /// Where it is (`None` in memory): what another process is told to build in it.
    pub target: Option<DatabaseTarget>,
    cleanup: Cleanup,
    timeouts: Timeouts,
}

enum Cleanup {
    /// An in-memory SQLite database: gone with its connection.
    Nothing,
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
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.subsec_nanos());
                let dir = fresh_dir(&std::env::temp_dir(), &format!("{pid}-{n}-{nanos:x}"))?;
                let target = DatabaseTarget::Sqlite {
                    path: dir.join(format!("{purpose}.sqlite3")),
                };
                match open_scratch(&target, table, timeouts).await {
                    Ok(conn) => Ok(Scratch {
                        conn,
                        target: Some(target),
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
                    return Err(Error::BadCollation {
                        name: collation.to_string(),
                    });
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
                .map_err(|e| Error::ScratchDatabase {
                    name: name.clone(),
                    database: server.database.clone(),
                    error: Box::new(e),
                })?;
                let target = MysqlTarget {
                    database: name.clone(),
                    ..server.clone()
                };
                let target = DatabaseTarget::Mysql(target);
                let opened = open_scratch(&target, table, timeouts).await;
                let cleanup = Cleanup::Database(server.clone(), name);
                match opened {
                    Ok(conn) => Ok(Scratch {
                        conn,
                        target: Some(target),
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

    /// [`Scratch::create`], but on SQLite an empty database in memory rather than a file: for
    /// work that never needs a second connection or a file (the rehearsal), where writing
    /// and syncing a file would cost more than the work.
    pub async fn create_in_memory(
        place: &Place,
        purpose: &str,
        collation: Option<&str>,
        table: &TableName,
        timeouts: Timeouts,
    ) -> Result<Scratch> {
        match place {
            Place::Sqlite => Ok(Scratch {
                conn: Connection::open_sqlite_in_memory(table.clone(), timeouts).await?,
                target: None,
                cleanup: Cleanup::Nothing,
                timeouts,
            }),
            Place::Mysql(_) => Scratch::create(place, purpose, collation, table, timeouts).await,
        }
    }

    /// Closes and removes the scratch database.
    pub async fn dispose(self) {
        self.conn.close().await;
        Scratch::remove(self.cleanup, self.timeouts).await;
    }

    /// Removes a scratch database whose work was dropped, maybe mid-statement, without
    /// waiting for that statement ([`Connection::end`]).
    pub async fn abandon(self) {
        self.conn.end().await;
        Scratch::remove(self.cleanup, self.timeouts).await;
    }

    async fn remove(cleanup: Cleanup, timeouts: Timeouts) {
        match cleanup {
            Cleanup::Nothing => {}
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

/// A new, empty private directory for SQLite scratch files. Created exclusively: a directory
/// of the same name left by an earlier process with the same pid (killed before it removed
/// its scratch files) is never reused, since its files would be read as this run's.
fn fresh_dir(base: &std::path::Path, stamp: &str) -> Result<PathBuf> {
    let mut last = None;
    for attempt in 0..16u32 {
        let dir = base.join(format!("aurweb-migrate-{stamp}-{attempt}"));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(dir),
            Err(error) => return Err(Error::ScratchDirectory { path: dir, error }),
        }
    }
    Err(Error::ScratchDirectoriesTaken {
        last: last.unwrap_or_default(),
    })
}

/// Opens a scratch database for writing.
async fn open_scratch(
    target: &DatabaseTarget,
    table: &TableName,
    timeouts: Timeouts,
) -> Result<Connection> {
    Connection::open(target, Access::ReadWrite, table.clone(), timeouts)
        .await?
        .map(Connection::for_scratch)
        .ok_or_else(|| Error::Connect {
            target: target.redacted(),
            message: "the scratch database could not be opened for writing".into(),
        })
}

/// `database create`: makes the configured database (MySQL: `utf8mb4`, the server's default
/// collation; SQLite: an empty file). `Ok(false)` when it already existed: nothing changed.
pub async fn create_database(
    target: &DatabaseTarget,
    table: TableName,
    timeouts: Timeouts,
) -> Result<bool> {
    match target {
        DatabaseTarget::Sqlite { path } => {
            if path.exists() {
                return Ok(false);
            }
            if let Some(conn) = Connection::open(target, Access::ReadWrite, table, timeouts).await?
            {
                conn.close().await;
            }
            Ok(true)
        }
        DatabaseTarget::Mysql(server) => {
            if super::mysql::database_exists(server, timeouts.connect).await? {
                return Ok(false);
            }
            let quoted = Dialect::Mysql.quote_ident(&server.database);
            super::mysql::administer(
                server,
                &[format!(
                    "CREATE DATABASE IF NOT EXISTS {quoted} CHARACTER SET utf8mb4"
                )],
                timeouts.connect,
            )
            .await?;
            Ok(true)
        }
    }
}

/// `database drop --yes`: removes the configured database (SQLite: the file and its `-wal`,
/// `-shm` and `-journal` companions). `Ok(false)` when there was none.
pub async fn drop_database(target: &DatabaseTarget, timeouts: Timeouts) -> Result<bool> {
    match target {
        DatabaseTarget::Sqlite { path } => {
            let existed = path.exists();
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                let p = PathBuf::from(p);
                match std::fs::remove_file(&p) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(error) => return Err(Error::CannotRemove { path: p, error }),
                }
            }
            Ok(existed)
        }
        DatabaseTarget::Mysql(server) => {
            if !super::mysql::database_exists(server, timeouts.connect).await? {
                return Ok(false);
            }
            let quoted = Dialect::Mysql.quote_ident(&server.database);
            super::mysql::administer(
                server,
                &[format!("DROP DATABASE IF EXISTS {quoted}")],
                timeouts.connect,
            )
            .await?;
            Ok(true)
        }
    }
}

/// `wait`: polls until the server accepts a connection (MySQL; a SQLite file needs no server)
/// or `within` has passed: then a connection error with the last reason. Returns how many
/// attempts it took.
pub async fn wait_for(target: &DatabaseTarget, within: std::time::Duration) -> Result<u32> {
    let DatabaseTarget::Mysql(server) = target else {
        return Ok(1);
    };
    let deadline = std::time::Instant::now() + within;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let attempt = left
            .min(std::time::Duration::from_secs(2))
            .max(std::time::Duration::from_millis(100));
        match super::mysql::reachable(server, attempt).await {
            Ok(()) => return Ok(attempts),
            Err(why) => {
                if std::time::Instant::now() + std::time::Duration::from_millis(250) >= deadline {
                    return Err(Error::Connect {
                        target: target.redacted(),
                        message: format!(
                            "the server did not accept a connection within {}s (--timeout; {attempts} attempts); last: {why}",
                            within.as_secs()
                        ),
                    });
                }
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_scratch_directory_is_never_reused() {
        let base = std::env::temp_dir().join(format!("aurweb-migrate-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(base.join("aurweb-migrate-7-0-0")).unwrap();
        std::fs::write(base.join("aurweb-migrate-7-0-0/schema.sqlite3"), b"stale").unwrap();
        let dir = fresh_dir(&base, "7-0").unwrap();
        assert_eq!(dir, base.join("aurweb-migrate-7-0-1"));
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "a new, empty directory"
        );
        std::fs::remove_dir_all(&base).unwrap();
    }
}
