//! The MySQL/MariaDB side of [`Db`]: its connections, row values decoded whatever the column
//! types, the MySQL-only helpers (`SHOW CREATE TABLE`, sessions, the server's address), and
//! the database dropped with the handle (with any scratch database the tool left).

use std::time::{Duration, Instant};

use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlRow};
use sqlx::{Column as _, ConnectOptions, Connection, Row as _, TypeInfo as _};

use super::db::{Db, DbKind};
use super::loud;
use super::server::MysqlParts;

impl Db<'_> {
    pub(super) async fn connect_mysql(
        options: &MySqlConnectOptions,
        name: &str,
    ) -> MySqlConnection {
        options
            .connect()
            .await
            .unwrap_or_else(|e| panic!("connect to MySQL database {name}: {e}"))
    }

    /// Every row of a query (MySQL only; the SQLite helpers below cover what tests need).
    pub(super) fn mysql_rows(&self, sql: &str) -> Vec<MySqlRow> {
        match &self.kind {
            DbKind::Mysql { options, name, .. } => self.block_on(async {
                let mut c = Self::connect_mysql(options, name).await;
                let rows = sqlx::query(sql)
                    .fetch_all(&mut c)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                c.close().await.expect("close");
                rows
            }),
            DbKind::Sqlite { .. } => unreachable!("mysql_rows on SQLite"),
        }
    }

    /// `SHOW CREATE TABLE` of a MySQL table, as the server prints it.
    #[track_caller]
    pub fn show_create_table(&self, table: &str) -> String {
        assert!(self.is_mysql(), "SHOW CREATE TABLE is MySQL's");
        let rows = self.mysql_rows(&format!("SHOW CREATE TABLE `{table}`"));
        mysql_string(&rows[0], 1).unwrap_or_else(|| panic!("SHOW CREATE TABLE {table}: NULL"))
    }

    /// MySQL: the server's address and account, as given to the harness (user and password
    /// still percent-encoded), for tests that build their own URLs or configs.
    #[track_caller]
    pub fn mysql_parts(&self) -> MysqlParts {
        match &self.kind {
            DbKind::Mysql { server, .. } => server.parts(),
            DbKind::Sqlite { .. } => panic!("mysql_parts() on {}: MySQL only", self.url),
        }
    }

    /// MySQL: `KILL`s every other session whose default database is this one (a killed tool's
    /// statement still running, a session left behind a silent proxy), and waits until they are
    /// gone. Returns how many were killed.
    #[track_caller]
    pub fn kill_sessions(&self) -> usize {
        let DbKind::Mysql { options, name, .. } = &self.kind else {
            panic!("kill_sessions() on {}: MySQL only", self.url);
        };
        self.block_on(async {
            let mut c = Self::connect_mysql(options, name).await;
            let list = "SELECT CAST(ID AS SIGNED) FROM information_schema.PROCESSLIST \
                        WHERE DB = DATABASE() AND ID <> CONNECTION_ID()";
            let ids: Vec<i64> = sqlx::query_scalar(list)
                .fetch_all(&mut c)
                .await
                .expect("list sessions");
            for id in &ids {
                // Gone in the meantime is fine.
                let _ = sqlx::raw_sql(&format!("KILL {id}")).execute(&mut c).await;
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let left: Vec<i64> = sqlx::query_scalar(list)
                    .fetch_all(&mut c)
                    .await
                    .expect("list sessions");
                if !left.iter().any(|id| ids.contains(id)) || Instant::now() > deadline {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let _ = c.close().await;
            ids.len()
        })
    }

    /// MySQL: an open connection to this database, for tests that hold locks or sessions.
    pub fn mysql_connection(&self) -> MySqlConnection {
        match &self.kind {
            DbKind::Mysql { options, name, .. } => {
                self.block_on(Self::connect_mysql(options, name))
            }
            DbKind::Sqlite { .. } => panic!("mysql_connection() on {}: MySQL only", self.url),
        }
    }
}

impl Drop for Db<'_> {
    /// Drops a MySQL test's database (a SQLite file goes with the [`Env`]).
    fn drop(&mut self) {
        let DbKind::Mysql { server, name, .. } = &self.kind else {
            return;
        };
        if std::thread::panicking() && std::env::var_os("AURWEB_MIGRATE_TEST_KEEP_DB").is_some() {
            loud(&format!(
                "AURWEB_MIGRATE_TEST_KEEP_DB: kept database {name} on {}",
                server.origin
            ));
            return;
        }
        let dropped = self.rt.block_on(async {
            let mut c = server.try_admin().await?;
            // With it, any scratch database the tool left (`<db>_migrate_<pid>_…`) when a
            // test killed it mid-run.
            let prefix = format!("{name}_migrate_");
            let mut names: Vec<String> = sqlx::query_scalar(
                "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA \
                 WHERE LEFT(SCHEMA_NAME, CHAR_LENGTH(?)) = ?",
            )
            .bind(&prefix)
            .bind(&prefix)
            .fetch_all(&mut c)
            .await
            .map_err(|e| e.to_string())?;
            names.push(name.clone());
            for n in names {
                sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS `{n}`"))
                    .execute(&mut c)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            let _ = c.close().await;
            Ok::<(), String>(())
        });
        if let Err(e) = dropped {
            // Never a panic in drop (it would abort a failing test); say so instead.
            loud(&format!("could not drop test database {name}: {e}"));
        }
    }
}

/// Column `i` as an integer, whatever the integer type (`None` for NULL).
pub(super) fn mysql_i64(row: &MySqlRow, i: usize) -> Option<i64> {
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return v;
    }
    if let Ok(v) = row.try_get::<Option<u64>, _>(i) {
        return v.map(|v| i64::try_from(v).expect("fits in i64"));
    }
    // DECIMAL (from SUM) and text come as their decimal digits on the wire.
    let ty = row.column(i).type_info().name().to_string();
    let text: Option<String> = row
        .try_get_unchecked(i)
        .unwrap_or_else(|e| panic!("column {i} ({ty}) as an integer: {e}"));
    text.map(|t| {
        t.trim()
            .parse()
            .unwrap_or_else(|e| panic!("column {i} ({ty}) {t:?} as an integer: {e}"))
    })
}

/// Column `i` as text: strings, binary strings holding UTF-8, and numbers (`None` for NULL).
pub(super) fn mysql_string(row: &MySqlRow, i: usize) -> Option<String> {
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return v;
    }
    if let Ok(v) = row.try_get::<Option<Vec<u8>>, _>(i) {
        return v.map(|b| String::from_utf8(b).expect("UTF-8 text"));
    }
    mysql_i64(row, i).map(|n| n.to_string())
}
