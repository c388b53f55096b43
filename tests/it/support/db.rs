//! The database under test ([`Db`]): a SQLite file in the [`Env`] or a MySQL/MariaDB database
//! of its own on the test server, which commands run through [`Db::run`] point at, and the
//! queries through which a test looks at it directly (tables, rows, the version table).
//! The dialects' own connections and helpers are in [`super::sqlite`] and [`super::mysql`].

use std::path::{Path, PathBuf};

use sqlx::mysql::{MySqlConnectOptions, MySqlRow};
use sqlx::{Connection, Row as _};

use super::env::Env;
use super::mysql::{mysql_i64, mysql_string};
use super::run::{Cmd, Run};
use super::server::{database_name, mysql_server, require_mysql, MysqlServer, MYSQL_SKIP_MESSAGE};
use super::{runtime, TABLE};

/// One row of the version table, as the test reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub version: i64,
    pub description: String,
    pub checksum: String,
    pub state: String,
    pub statements_done: i64,
    pub statements_total: i64,
    pub error_text: Option<String>,
    pub applied_at: String,
    pub applied_by: String,
    pub execution_ms: i64,
    pub tool_version: String,
}

pub(super) enum DbKind {
    Sqlite {
        path: PathBuf,
    },
    Mysql {
        server: &'static MysqlServer,
        /// This test's database.
        name: String,
        /// sqlx's options for it (the helpers' connections); boxed, being large.
        options: Box<MySqlConnectOptions>,
    },
}

/// The database under test, and the [`Env`] it lives in. Commands run through [`Db::run`] get
/// `--database-url` pointing at it; the query helpers read it directly, never creating it.
pub struct Db<'e> {
    pub env: &'e Env,
    pub(super) kind: DbKind,
    pub(super) url: String,
    pub(super) rt: tokio::runtime::Runtime,
}

impl<'e> Db<'e> {
    /// A SQLite file `test.sqlite3` in the env (not created until the tool or the test does).
    pub fn sqlite(env: &'e Env) -> Db<'e> {
        let path = env.join("test.sqlite3");
        let url = format!("sqlite://{}", path.display());
        Db {
            env,
            kind: DbKind::Sqlite { path },
            url,
            rt: runtime(),
        }
    }

    /// A new, empty MySQL/MariaDB database for the test `test` (its module path), dropped with
    /// the handle. `None` means "skip": no server, and `AURWEB_MIGRATE_REQUIRE_MYSQL` unset.
    #[track_caller]
    pub fn mysql(env: &'e Env, test: &str) -> Option<Db<'e>> {
        let server = match mysql_server() {
            Ok(Some(server)) => server,
            Ok(None) if require_mysql() => {
                panic!(
                    "{MYSQL_SKIP_MESSAGE}, and AURWEB_MIGRATE_REQUIRE_MYSQL=1 makes that a failure"
                )
            }
            Ok(None) => return None,
            Err(why) => panic!("MySQL/MariaDB test server: {why}"),
        };
        let name = database_name(test);
        let rt = runtime();
        rt.block_on(async {
            let mut c = server.admin().await;
            sqlx::raw_sql(&format!(
                "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
            ))
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name} on {}: {e}", server.origin));
            let _ = c.close().await;
        });
        let options = Box::new(server.options_for(&name));
        Some(Db {
            env,
            url: server.url_for(&name),
            kind: DbKind::Mysql {
                server,
                name,
                options,
            },
            rt,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL as the tool prints it: a password shown as `***`.
    pub fn redacted_url(&self) -> String {
        match &self.kind {
            DbKind::Sqlite { .. } => self.url.clone(),
            DbKind::Mysql { server, name, .. } => server.redacted_url_for(name),
        }
    }

    pub fn dialect(&self) -> &'static str {
        match self.kind {
            DbKind::Sqlite { .. } => "sqlite",
            DbKind::Mysql { .. } => "mysql",
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self.kind, DbKind::Sqlite { .. })
    }

    pub fn is_mysql(&self) -> bool {
        matches!(self.kind, DbKind::Mysql { .. })
    }

    /// The SQLite file (panics on other dialects: such tests are SQLite-only).
    #[track_caller]
    pub fn sqlite_path(&self) -> &Path {
        match &self.kind {
            DbKind::Sqlite { path } => path,
            DbKind::Mysql { .. } => panic!("sqlite_path() on {}: a SQLite-only helper", self.url),
        }
    }

    /// The MySQL database's name (panics on other dialects).
    #[track_caller]
    pub fn mysql_database(&self) -> &str {
        match &self.kind {
            DbKind::Mysql { name, .. } => name,
            DbKind::Sqlite { .. } => {
                panic!("mysql_database() on {}: a MySQL-only helper", self.url)
            }
        }
    }

    /// Whether the database exists at all. (A MySQL test's database always does: the harness
    /// creates it, the tool never does.)
    pub fn exists(&self) -> bool {
        match &self.kind {
            DbKind::Sqlite { path } => path.exists(),
            DbKind::Mysql { server, name, .. } => self.block_on(server.has_database(name)),
        }
    }

    /// A command with `--database-url` set to this database.
    pub fn cmd(&self, args: &[&str]) -> Cmd {
        self.env.cmd(args).arg("--database-url").arg(&self.url)
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.cmd(args).run()
    }

    /// `migrations/<name>` in the env.
    pub fn migration(&self, name: &str, sql: &str) -> PathBuf {
        self.env.migration(name, sql)
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Runs SQL on the database (creating it if needed), for setting up a scenario. Several
    /// `;`-separated statements are fine on both dialects.
    pub fn exec(&self, sql: &str) {
        match &self.kind {
            DbKind::Sqlite { path } => self.block_on(async {
                let mut c = Self::connect_sqlite(path, false).await;
                sqlx::raw_sql(sql)
                    .execute(&mut c)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                c.close().await.expect("close");
            }),
            DbKind::Mysql { options, name, .. } => self.block_on(async {
                let mut c = Self::connect_mysql(options, name).await;
                sqlx::raw_sql(sql)
                    .execute(&mut c)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                c.close().await.expect("close");
            }),
        }
    }

    /// One integer from a query. On MySQL any integer type (signed or not, `DECIMAL` from
    /// `SUM`) is accepted.
    #[track_caller]
    pub fn scalar(&self, sql: &str) -> i64 {
        match &self.kind {
            DbKind::Sqlite { path } => self.block_on(async {
                let mut c = Self::connect_sqlite(path, true).await;
                let v: i64 = sqlx::query_scalar(sql)
                    .fetch_one(&mut c)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                c.close().await.expect("close");
                v
            }),
            DbKind::Mysql { .. } => {
                let rows = self.mysql_rows(sql);
                let row = rows
                    .first()
                    .unwrap_or_else(|| panic!("{sql}: no row returned"));
                mysql_i64(row, 0).unwrap_or_else(|| panic!("{sql}: NULL"))
            }
        }
    }

    /// The first column of every row of a query, as text.
    #[track_caller]
    pub fn strings(&self, sql: &str) -> Vec<String> {
        match &self.kind {
            DbKind::Sqlite { path } => self.block_on(async {
                let mut c = Self::connect_sqlite(path, true).await;
                let v: Vec<String> = sqlx::query_scalar(sql)
                    .fetch_all(&mut c)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                c.close().await.expect("close");
                v
            }),
            DbKind::Mysql { .. } => self
                .mysql_rows(sql)
                .iter()
                .map(|r| mysql_string(r, 0).unwrap_or_else(|| panic!("{sql}: NULL")))
                .collect(),
        }
    }

    /// Rows in a table.
    pub fn count(&self, table: &str) -> i64 {
        self.scalar(&format!("SELECT COUNT(*) FROM {table}"))
    }

    /// User tables (views excluded), sorted bytewise on every dialect (SQLite's internal
    /// tables excluded). Empty when the database does not exist.
    pub fn tables(&self) -> Vec<String> {
        if !self.exists() {
            return Vec::new();
        }
        let mut v = match &self.kind {
            DbKind::Sqlite { path } => self.block_on(async {
                let mut c = Self::connect_sqlite(path, true).await;
                let v: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
                )
                .fetch_all(&mut c)
                .await
                .expect("list tables");
                c.close().await.expect("close");
                v
            }),
            DbKind::Mysql { .. } => self.strings(
                "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'",
            ),
        };
        v.sort();
        v
    }

    pub fn has_table(&self, name: &str) -> bool {
        self.tables().iter().any(|t| t == name)
    }

    /// Asserts exactly these user tables exist besides the version table.
    #[track_caller]
    pub fn assert_tables(&self, expected: &[&str]) {
        let got: Vec<String> = self.tables().into_iter().filter(|t| t != TABLE).collect();
        assert_eq!(got, expected, "tables in {}", self.url);
    }

    /// The version table's rows by version (empty when it does not exist).
    pub fn history(&self) -> Vec<HistoryRow> {
        self.history_of(TABLE)
    }

    pub fn history_of(&self, table: &str) -> Vec<HistoryRow> {
        if !self.has_table(table) {
            return Vec::new();
        }
        match &self.kind {
            DbKind::Sqlite { path } => {
                let sql = format!(
                    "SELECT version, description, checksum, state, statements_done, statements_total, error_text, applied_at, applied_by, execution_ms, tool_version FROM {table} ORDER BY version"
                );
                self.block_on(async {
                    let mut c = Self::connect_sqlite(path, true).await;
                    let rows = sqlx::query(&sql)
                        .fetch_all(&mut c)
                        .await
                        .expect("read history");
                    c.close().await.expect("close");
                    rows.iter()
                        .map(|r| HistoryRow {
                            version: r.get("version"),
                            description: r.get("description"),
                            checksum: r.get("checksum"),
                            state: r.get("state"),
                            statements_done: r.get("statements_done"),
                            statements_total: r.get("statements_total"),
                            error_text: r.get("error_text"),
                            applied_at: r.get("applied_at"),
                            applied_by: r.get("applied_by"),
                            execution_ms: r.get("execution_ms"),
                            tool_version: r.get("tool_version"),
                        })
                        .collect()
                })
            }
            DbKind::Mysql { .. } => {
                // Text as CHAR and integers as SIGNED, whatever the column types and collations
                // the backend chose: the test compares values, not types.
                let sql = format!(
                    "SELECT CAST(version AS SIGNED), CAST(description AS CHAR), CAST(checksum AS CHAR), \
                     CAST(state AS CHAR), CAST(statements_done AS SIGNED), CAST(statements_total AS SIGNED), \
                     CAST(error_text AS CHAR), CAST(applied_at AS CHAR), CAST(applied_by AS CHAR), \
                     CAST(execution_ms AS SIGNED), CAST(tool_version AS CHAR) FROM `{table}` ORDER BY version"
                );
                let int = |r: &MySqlRow, i| mysql_i64(r, i).expect("NOT NULL history column");
                let text = |r: &MySqlRow, i| mysql_string(r, i).expect("NOT NULL history column");
                self.mysql_rows(&sql)
                    .iter()
                    .map(|r| HistoryRow {
                        version: int(r, 0),
                        description: text(r, 1),
                        checksum: text(r, 2),
                        state: text(r, 3),
                        statements_done: int(r, 4),
                        statements_total: int(r, 5),
                        error_text: mysql_string(r, 6),
                        applied_at: text(r, 7),
                        applied_by: text(r, 8),
                        execution_ms: int(r, 9),
                        tool_version: text(r, 10),
                    })
                    .collect()
            }
        }
    }

    /// `(version, state)` of every history row.
    pub fn states(&self) -> Vec<(i64, String)> {
        self.history()
            .into_iter()
            .map(|r| (r.version, r.state))
            .collect()
    }

    /// Another empty database of the same dialect in the same env, a new one each call
    /// (SQLite: `other-N.sqlite3`; MySQL: another test database, dropped with the handle).
    #[track_caller]
    pub fn sibling(&self) -> Db<'e> {
        static SIBLINGS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        match &self.kind {
            DbKind::Sqlite { .. } => {
                let n = SIBLINGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let path = self.env.join(format!("other-{n}.sqlite3"));
                Db {
                    env: self.env,
                    url: format!("sqlite://{}", path.display()),
                    kind: DbKind::Sqlite { path },
                    rt: runtime(),
                }
            }
            DbKind::Mysql { name, .. } => {
                Db::mysql(self.env, &format!("{name}-sibling")).expect("a MySQL server")
            }
        }
    }
}
