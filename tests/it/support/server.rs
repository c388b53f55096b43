//! The MySQL/MariaDB server for this test process ([`mysql_server`], resolved once: the
//! configured URL, a private server, or a skip; see the harness's docs), the handle on a
//! server ([`MysqlServer`]: URLs, the administrator's connection) and a test's own server
//! ([`own_mysql_server`]).

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::{ConnectOptions, Connection, Row as _};

use super::mariadbd::{find_program, start_private_server, start_private_server_with};
use super::{loud, runtime};

const MYSQL_URL_VAR: &str = "AURWEB_MIGRATE_TEST_MYSQL_URL";
const MYSQL_REQUIRE_VAR: &str = "AURWEB_MIGRATE_REQUIRE_MYSQL";
pub(super) const MYSQL_SKIP_MESSAGE: &str = "SKIPPED: MySQL/MariaDB tests: no server (set AURWEB_MIGRATE_TEST_MYSQL_URL or install mariadb-server)";

/// How long a private server may take to accept connections.
pub(super) const MYSQL_START_DEADLINE: Duration = Duration::from_secs(30);

pub(super) fn require_mysql() -> bool {
    std::env::var(MYSQL_REQUIRE_VAR).is_ok_and(|v| v == "1")
}

/// A server the MySQL tests can create databases on.
pub struct MysqlServer {
    /// `mysql://USER[:PASS]@HOST[:PORT]` (no path) as the tool gets it.
    pub(super) base: String,
    /// The same with the password as `***`.
    pub(super) redacted_base: String,
    /// `?…` from the configured URL, or empty.
    pub(super) query: String,
    /// For messages: where the server came from.
    pub(super) origin: String,
    /// Private server only: the write end of the watchdog's pipe, held (never written) until
    /// this process exits. See [`start_private_server`].
    pub(super) _watchdog: Option<std::process::ChildStdin>,
}

/// Where the test server is and who the tests are on it (see [`Db::mysql_parts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MysqlParts {
    /// As in the URL (percent-encoded).
    pub user: String,
    /// As in the URL (percent-encoded); `None` without a password.
    pub password: Option<String>,
    pub host: String,
    pub port: u16,
}

impl MysqlParts {
    /// `USER[:PASS]@` for a URL.
    pub fn userinfo(&self) -> String {
        match &self.password {
            Some(p) => format!("{}:{p}@", self.user),
            None => format!("{}@", self.user),
        }
    }
}

/// A private MySQL/MariaDB server of the test's own (for a server setting no other test may
/// see, such as `read_only`), stopped when the handle drops. `None` (the test returns) where
/// no `mariadbd` is installed, said loudly; with `AURWEB_MIGRATE_REQUIRE_MYSQL=1` a failure.
#[track_caller]
pub fn own_mysql_server() -> Option<MysqlServer> {
    own_mysql_server_with(&[])
}

/// [`own_mysql_server`] started with more options (e.g. `--ssl-cert=FILE`).
#[track_caller]
pub fn own_mysql_server_with(extra: &[String]) -> Option<MysqlServer> {
    let Some(mariadbd) = find_program(&["mariadbd", "mysqld"]) else {
        if require_mysql() {
            panic!("AURWEB_MIGRATE_REQUIRE_MYSQL=1 but no mariadbd to start a private server");
        }
        loud("SKIPPED: a test's own MySQL server: no mariadbd installed");
        return None;
    };
    Some(
        start_private_server_with(&mariadbd, extra)
            .unwrap_or_else(|e| panic!("private server: {e}")),
    )
}

impl MysqlServer {
    /// The first column of `sql`'s rows, as text, run as the administrator.
    #[track_caller]
    pub fn admin_strings(&self, sql: &str) -> Vec<String> {
        runtime().block_on(async {
            let mut c = self.try_admin().await.expect("admin connection");
            let rows = sqlx::raw_sql(sql)
                .fetch_all(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            let _ = c.close().await;
            rows.iter()
                .map(|r| {
                    r.try_get::<String, _>(0)
                        .or_else(|_| r.try_get::<i64, _>(0).map(|n| n.to_string()))
                        .unwrap_or_default()
                })
                .collect()
        })
    }

    /// The TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.parts().port
    }

    /// The URL of `database` on this server, as the tool gets it.
    pub fn url(&self, database: &str) -> String {
        format!("{}/{database}{}", self.base, self.query)
    }

    /// Runs `sql` (statements separated by `;`) as the administrator.
    #[track_caller]
    pub fn admin_exec(&self, sql: &str) {
        runtime().block_on(async {
            let mut c = self.try_admin().await.expect("admin connection");
            sqlx::raw_sql(sql)
                .execute(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            let _ = c.close().await;
        })
    }

    pub(super) fn parts(&self) -> MysqlParts {
        let authority = self
            .base
            .split_once("://")
            .map_or(self.base.as_str(), |(_, a)| a);
        let (userinfo, hostport) = authority.rsplit_once('@').unwrap_or(("", authority));
        let (user, password) = match userinfo.split_once(':') {
            Some((u, p)) => (u.to_string(), Some(p.to_string())),
            None => (userinfo.to_string(), None),
        };
        // `HOST:PORT`, `[V6]:PORT` or a host alone.
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                (h.to_string(), p.parse().expect("digits"))
            }
            _ => (hostport.to_string(), 3306),
        };
        MysqlParts {
            user,
            password,
            host,
            port,
        }
    }

    pub(super) fn options_for(&self, database: &str) -> MySqlConnectOptions {
        // sqlx reads the same URL; its scheme must be mysql.
        let url = format!("{}/{database}{}", self.base, self.query);
        let url = url.replacen("mariadb://", "mysql://", 1);
        MySqlConnectOptions::from_str(&url)
            .unwrap_or_else(|e| panic!("{}: {e}", self.redacted_url_for(database)))
            .disable_statement_logging()
    }

    pub(super) fn url_for(&self, database: &str) -> String {
        format!("{}/{database}{}", self.base, self.query)
    }

    pub(super) fn redacted_url_for(&self, database: &str) -> String {
        format!("{}/{database}{}", self.redacted_base, self.query)
    }

    /// A connection with no default database.
    pub(super) async fn try_admin(&self) -> Result<MySqlConnection, String> {
        let url = format!("{}/{}", self.base, self.query).replacen("mariadb://", "mysql://", 1);
        let options = MySqlConnectOptions::from_str(&url)
            .map_err(|e| format!("{}: {e}", self.origin))?
            .disable_statement_logging();
        match tokio::time::timeout(Duration::from_secs(10), options.connect()).await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(format!("connect to {}: {e}", self.origin)),
            Err(_) => Err(format!("connect to {}: timed out", self.origin)),
        }
    }

    pub(super) async fn admin(&self) -> MySqlConnection {
        self.try_admin().await.unwrap_or_else(|e| panic!("{e}"))
    }

    pub(super) async fn has_database(&self, name: &str) -> bool {
        let mut c = self.admin().await;
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?",
        )
        .bind(name)
        .fetch_one(&mut c)
        .await
        .expect("look up database");
        let _ = c.close().await;
        n > 0
    }
}

/// The server for this process, resolved on first use (see the module docs). `Ok(None)`: no
/// server, skip. `Err`: a server was configured or installed but cannot be used: fail.
pub fn mysql_server() -> Result<Option<&'static MysqlServer>, String> {
    static SERVER: OnceLock<Result<Option<MysqlServer>, String>> = OnceLock::new();
    SERVER
        .get_or_init(resolve_mysql_server)
        .as_ref()
        .map(Option::as_ref)
        .map_err(Clone::clone)
}

fn resolve_mysql_server() -> Result<Option<MysqlServer>, String> {
    if std::env::var(MYSQL_URL_VAR).is_ok_and(|v| v == "skip") {
        if !require_mysql() {
            loud(&format!("{MYSQL_SKIP_MESSAGE} [{MYSQL_URL_VAR}=skip]"));
        }
        return Ok(None);
    }
    if let Some(url) = std::env::var(MYSQL_URL_VAR).ok().filter(|u| !u.is_empty()) {
        let (base, redacted_base, query) = split_mysql_url(&url)?;
        let server = MysqlServer {
            origin: format!("{MYSQL_URL_VAR}={redacted_base}/{query}"),
            base,
            redacted_base,
            query,
            _watchdog: None,
        };
        let rt = runtime();
        rt.block_on(async {
            let c = server.try_admin().await?;
            let _ = c.close().await;
            Ok::<(), String>(())
        })?;
        return Ok(Some(server));
    }
    let Some(mariadbd) = find_program(&["mariadbd", "mysqld"]) else {
        if !require_mysql() {
            loud(MYSQL_SKIP_MESSAGE);
        }
        return Ok(None);
    };
    start_private_server(&mariadbd).map(Some)
}

/// `mysql://USER[:PASS]@HOST[:PORT]/ignored?query` → (`mysql://USER[:PASS]@HOST[:PORT]`, the
/// same with `***` for the password, `?query` or empty).
pub fn split_mysql_url(url: &str) -> Result<(String, String, String), String> {
    let bad = || format!("{MYSQL_URL_VAR}: expected mysql://USER[:PASS]@HOST[:PORT]/, got {url:?}");
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    if scheme != "mysql" && scheme != "mariadb" {
        return Err(bad());
    }
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, format!("?{q}")),
        None => (rest, String::new()),
    };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Err(bad());
    }
    let redacted = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    Ok((
        format!("{scheme}://{authority}"),
        format!("{scheme}://{redacted}"),
        query,
    ))
}

/// `it_<hash of the test's path>_<pid>_<n>`: unique per test, process and handle, at most 64
/// characters, no quoting needed.
pub(super) fn database_name(test: &str) -> String {
    use std::hash::{Hash, Hasher};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let mut h = std::collections::hash_map::DefaultHasher::new();
    test.hash(&mut h);
    format!(
        "it_{:08x}_{}_{}",
        h.finish() as u32,
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
