//! Scratch databases: where the tool builds the schema it expects (from `schema/`, or by
//! replaying `migrations/` up to a version) to compare it with another. SQLite scratch
//! databases are files in a private temporary directory; MySQL ones are databases named
//! `<database>_migrate_<pid>_<purpose>` on the configured server, created and dropped by the
//! tool (which needs the privilege to do so). A target database is never written by them.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::backend::{Access, Backend, Connection, Timeouts};
use crate::config::{DatabaseTarget, MysqlTarget};
use crate::error::{Error, Result};
use crate::history::TableName;
use crate::plan::Target;
use crate::runner::{self, RunMode, UpgradeOptions};
use crate::schema::Schema;
use crate::source::{MigrationSet, SchemaFile};
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
                match Connection::open(&target, Access::ReadWrite, table.clone(), timeouts).await {
                    Ok(conn) => Ok(Scratch {
                        conn: conn.expect("read-write access always opens"),
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
                let quoted = format!("`{}`", name.replace('`', "``"));
                let valid = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if !valid(collation) {
                    return Err(Error::Database(format!(
                        "unexpected collation name {collation:?}"
                    )));
                }
                crate::backend::mysql::administer(
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
                let opened = Connection::open(
                    &DatabaseTarget::Mysql(target),
                    Access::ReadWrite,
                    table.clone(),
                    timeouts,
                )
                .await;
                let cleanup = Cleanup::Database(server.clone(), name);
                match opened {
                    Ok(conn) => Ok(Scratch {
                        conn: conn.expect("read-write access always opens"),
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
                let sql = format!("DROP DATABASE IF EXISTS `{}`", name.replace('`', "``"));
                if let Err(e) =
                    crate::backend::mysql::administer(&server, &[sql], timeouts.connect).await
                {
                    tracing::warn!("could not drop the scratch database {name}: {e}");
                }
            }
        }
    }
}

/// A schema built in a scratch database, with its rows (seed data) table by table when they
/// were asked for.
#[derive(Debug, Clone)]
pub struct Built {
    pub schema: Schema,
    pub rows: Vec<(String, Vec<Vec<Option<String>>>)>,
}

async fn read_back(conn: &mut Connection, with_rows: bool) -> Result<Built> {
    let schema = conn.introspect().await?;
    let mut rows = Vec::new();
    if with_rows {
        for t in &schema.tables {
            rows.push((t.name.clone(), conn.table_rows(t).await?));
        }
    }
    Ok(Built { schema, rows })
}

/// How a scratch database is filled.
#[derive(Debug, Clone, Copy)]
pub enum Road<'a> {
    /// Run the schema file.
    Schema(&'a SchemaFile),
    /// Replay the migrations up to and including this version (all with `None`).
    Replay(Option<u64>),
}

/// Builds a scratch database by one road and reads its schema (and, `with_rows`, its rows)
/// back, then removes it.
#[allow(clippy::too_many_arguments)]
pub async fn build(
    place: &Place,
    road: Road<'_>,
    set: &MigrationSet,
    collation: Option<&str>,
    table: &TableName,
    timeouts: Timeouts,
    with_rows: bool,
) -> Result<Built> {
    let purpose = match road {
        Road::Schema(_) => "schema",
        Road::Replay(_) => "replay",
    };
    let mut scratch = Scratch::create(place, purpose, collation, table, timeouts).await?;
    let result = async {
        match road {
            Road::Schema(file) => {
                runner::install(&mut scratch.conn, set, file).await?;
            }
            Road::Replay(upto) => {
                let options = UpgradeOptions {
                    target: upto.map_or(Target::Latest, Target::Version),
                    mode: RunMode::PerMigration,
                    allow_out_of_order: false,
                    resume: false,
                };
                runner::upgrade(&mut scratch.conn, set, options, None, &mut |_| {}).await?;
            }
        }
        read_back(&mut scratch.conn, with_rows).await
    }
    .await;
    scratch.dispose().await;
    result
}

/// The schema expected at `version`: built from the schema file when it is that version's,
/// else by replaying the migrations up to it.
pub async fn expected_at(
    place: &Place,
    version: u64,
    set: &MigrationSet,
    schema_file: Option<&SchemaFile>,
    collation: Option<&str>,
    table: &TableName,
    timeouts: Timeouts,
) -> Result<(Built, String)> {
    let (road, name) = match schema_file {
        Some(f) if f.version == version => (Road::Schema(f), f.script.path.display().to_string()),
        _ => (
            Road::Replay(Some(version)),
            format!(
                "version {version}'s schema (replayed from {})",
                set.dir.display()
            ),
        ),
    };
    let built = build(place, road, set, collation, table, timeouts, false).await?;
    Ok((built, name))
}
