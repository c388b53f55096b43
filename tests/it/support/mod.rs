//! The test harness: a temporary working directory per test ([`Env`]), the real binary run in it
//! with a scrubbed environment ([`Env::run`] → [`Run`]), and a handle on the database under test
//! ([`Db`]) that both drives the binary and lets a test look at the database directly.
//!
//! Behaviour tests are written once as `fn scenario(db: &Db)` and instantiated per dialect with
//! [`each_db!`](crate::each_db) (dbmate's `testEachURL`): `scenario::sqlite` on a fresh SQLite
//! file, `scenario::mysql` on a fresh MySQL/MariaDB database. Tests of one dialect's own
//! behaviour are plain `#[test]`s using [`Db::sqlite`] or [`Db::mysql`].
//!
//! # Where the MySQL/MariaDB server comes from
//! Resolved once per test process (see [`mysql_server`]), first found wins:
//! 1. `AURWEB_MIGRATE_TEST_MYSQL_URL` (`mysql://USER[:PASS]@HOST[:PORT]/`, `mariadb://` too; the
//!    path is ignored, a `?query` is kept): an existing server. Unreachable is a failure.
//! 2. `mariadbd` or `mysqld` in `PATH`, `/usr/sbin` or `/usr/local/sbin`: a **private server**
//!    for this process, on a temporary datadir and a free port on 127.0.0.1 (see
//!    [`start_private_server`] for how it is started and how it goes away).
//! 3. Nothing (or `AURWEB_MIGRATE_TEST_MYSQL_URL=skip`, for a quick SQLite-only run even where
//!    MariaDB is installed): one `SKIPPED: …` line on stderr (written past libtest's capture), and every
//!    `::mysql` test returns early, passing — unless `AURWEB_MIGRATE_REQUIRE_MYSQL=1`, which
//!    makes each of them fail instead (CI).
//!
//! Every MySQL [`Db`] is its own database, `it_<hash of the test's path>_<pid>_<counter>`,
//! created by [`Db::mysql`] and dropped when the handle drops (also when the test panics; set
//! `AURWEB_MIGRATE_TEST_KEEP_DB=1` to keep a failed test's database for a look), so tests run in
//! parallel on one server.

#![allow(dead_code)]

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use std::io::{Seek, Write as _};
use std::os::unix::fs::MetadataExt;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use serde_json::Value;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Column as _, ConnectOptions, Connection, Row as _, TypeInfo as _};
use tempfile::TempDir;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_aurweb-migrate");

/// The default version table.
pub const TABLE: &str = "aurweb_migrations";

/// No single run of the tool may take longer than this; a hang fails the test instead of the
/// whole suite.
const RUN_DEADLINE: Duration = Duration::from_secs(60);

/// Variables that configure the tool or its output and must not leak in from the developer's
/// shell. The child starts from an empty environment anyway; this list documents why.
pub const SCRUBBED: &[&str] = &[
    "DATABASE_URL",
    "AURWEB_MIGRATE_DATABASE_URL",
    "AUR_CONFIG",
    "AUR_CONFIG_DEFAULTS",
    "RUST_LOG",
    "NO_COLOR",
    "CLICOLOR_FORCE",
];

/// Instantiates `fn name(db: &Db)` scenarios as `#[test]`s, one per dialect:
/// `each_db!(applies_all, no_op_second_run);` gives `applies_all::sqlite`,
/// `applies_all::mysql`, … The MySQL test returns early (passing) when no server is available
/// and `AURWEB_MIGRATE_REQUIRE_MYSQL` is not set; see the module docs.
#[macro_export]
macro_rules! each_db {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    let env = $crate::support::Env::new();
                    let db = $crate::support::Db::sqlite(&env);
                    super::$name(&db);
                }

                #[test]
                fn mysql() {
                    let env = $crate::support::Env::new();
                    let Some(db) = $crate::support::Db::mysql(&env, module_path!()) else {
                        return;
                    };
                    super::$name(&db);
                }
            }
        )*
    };
}

/// One test's working directory.
pub struct Env {
    dir: TempDir,
    /// The canonical path of `dir` (on macOS `/tmp` is a symlink; the tool prints real paths).
    root: PathBuf,
}

impl Default for Env {
    fn default() -> Self {
        Self::new()
    }
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::Builder::new()
            .prefix("aurweb-migrate-it.")
            .tempdir()
            .expect("create temp dir");
        let root = dir.path().canonicalize().expect("canonical temp dir");
        Env { dir, root }
    }

    /// The working directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.root.join(rel)
    }

    /// Writes a file (creating parent directories), relative to the working directory.
    pub fn write(&self, rel: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent dir");
        }
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// Writes `migrations/<name>`.
    pub fn migration(&self, name: &str, sql: &str) -> PathBuf {
        self.write(Path::new("migrations").join(name), sql)
    }

    pub fn read(&self, rel: impl AsRef<Path>) -> Vec<u8> {
        let path = self.join(rel);
        std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    pub fn exists(&self, rel: impl AsRef<Path>) -> bool {
        self.join(rel).exists()
    }

    pub fn remove(&self, rel: impl AsRef<Path>) {
        let path = self.join(rel);
        std::fs::remove_file(&path).unwrap_or_else(|e| panic!("remove {}: {e}", path.display()));
    }

    /// File names in a directory, sorted.
    pub fn ls(&self, rel: impl AsRef<Path>) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.join(rel))
            .expect("read dir")
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .into_string()
                    .expect("utf-8")
            })
            .collect();
        names.sort();
        names
    }

    /// A command for the binary in this directory, with an empty environment plus PATH, HOME
    /// and a fixed USER.
    pub fn cmd<I, S>(&self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Cmd {
            cwd: self.root.clone(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
        }
    }

    /// Runs the binary to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        self.cmd(args).run()
    }
}

/// `program` in `cwd` with an empty environment but PATH and HOME (none of [`SCRUBBED`] leaks
/// in), stdin closed, stdout and stderr piped.
pub fn isolated(program: impl AsRef<std::ffi::OsStr>, cwd: &Path) -> Command {
    let mut c = Command::new(program);
    c.current_dir(cwd)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for key in ["PATH", "HOME"] {
        if let Some(v) = std::env::var_os(key) {
            c.env(key, v);
        }
    }
    for key in SCRUBBED {
        c.env_remove(key);
    }
    c
}

/// A command line ready to run.
#[derive(Clone)]
pub struct Cmd {
    cwd: PathBuf,
    args: Vec<OsString>,
    env: Vec<(String, OsString)>,
}

impl Cmd {
    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Cmd {
        self.env.push((key.to_string(), value.into()));
        self
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Cmd {
        self.args.push(arg.into());
        self
    }

    fn describe(&self) -> String {
        let mut s = String::new();
        for (k, v) in &self.env {
            s.push_str(&format!("{k}={} ", v.to_string_lossy()));
        }
        s.push_str("aurweb-migrate");
        for a in &self.args {
            let a = a.to_string_lossy();
            if a.contains(' ') || a.is_empty() {
                s.push_str(&format!(" {a:?}"));
            } else {
                s.push_str(&format!(" {a}"));
            }
        }
        s
    }

    /// Starts the process; [`Spawned::wait`] collects it.
    pub fn spawn(&self) -> Spawned {
        let mut c = isolated(BIN, &self.cwd);
        c.args(&self.args).env("USER", "it-user");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        let mut child = c.spawn().unwrap_or_else(|e| panic!("spawn {BIN}: {e}"));
        let stdout = drain(child.stdout.take().expect("piped stdout"));
        let stderr = drain(child.stderr.take().expect("piped stderr"));
        Spawned {
            child,
            stdout,
            stderr,
            args: self
                .args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            command: self.describe(),
            cwd: self.cwd.clone(),
            started: Instant::now(),
        }
    }

    #[track_caller]
    pub fn run(&self) -> Run {
        self.spawn().wait()
    }
}

fn drain(mut r: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

/// A running process.
pub struct Spawned {
    child: Child,
    stdout: JoinHandle<Vec<u8>>,
    stderr: JoinHandle<Vec<u8>>,
    args: Vec<String>,
    command: String,
    cwd: PathBuf,
    started: Instant,
}

impl Spawned {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has exited (without collecting its output).
    pub fn has_exited(&mut self) -> bool {
        self.child.try_wait().expect("poll child").is_some()
    }

    /// SIGKILLs the process (no chance to clean up) and collects what it printed; the [`Run`]
    /// has `code: None`.
    pub fn kill(mut self) -> Run {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let elapsed = self.started.elapsed();
        Run {
            args: self.args,
            command: self.command,
            cwd: self.cwd,
            code: None,
            stdout: String::from_utf8_lossy(&self.stdout.join().expect("stdout reader")).into(),
            stderr: String::from_utf8_lossy(&self.stderr.join().expect("stderr reader")).into(),
            elapsed,
        }
    }

    /// Waits for the process (at most [`RUN_DEADLINE`], then kills it and fails the test).
    #[track_caller]
    pub fn wait(mut self) -> Run {
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for child") {
                break Some(status);
            }
            if self.started.elapsed() > RUN_DEADLINE {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let elapsed = self.started.elapsed();
        let run = Run {
            args: self.args,
            command: self.command,
            cwd: self.cwd,
            code: status.and_then(|s| s.code()),
            stdout: String::from_utf8_lossy(&self.stdout.join().expect("stdout reader")).into(),
            stderr: String::from_utf8_lossy(&self.stderr.join().expect("stderr reader")).into(),
            elapsed,
        };
        if status.is_none() {
            run.fail(&format!("killed after {RUN_DEADLINE:?}: the command hung"));
        }
        // Every JSON document the suite makes the binary print is checked against its schema.
        if run.code.is_some() {
            crate::json_schema::check_run(&run);
        }
        run
    }
}

/// A finished run of the binary.
#[derive(Debug, Clone)]
pub struct Run {
    /// The arguments the binary was given (which document its JSON output is).
    pub args: Vec<String>,
    pub command: String,
    pub cwd: PathBuf,
    /// `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// Panics with everything needed to reproduce and understand the run.
    #[track_caller]
    pub fn fail(&self, why: &str) -> ! {
        panic!(
            "{why}\n--- command: {}\n--- cwd:     {}\n--- exit:    {}\n--- elapsed: {:?}\n--- stdout:\n{}\n--- stderr:\n{}\n---",
            self.command,
            self.cwd.display(),
            self.code.map_or("killed by a signal".to_string(), |c| c.to_string()),
            self.elapsed,
            self.stdout,
            self.stderr
        )
    }

    /// Asserts the exit code.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Run {
        if self.code != Some(expected) {
            self.fail(&format!("expected exit code {expected}"));
        }
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Run {
        self.code(0)
    }

    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Run {
        if !self.stdout.contains(needle) {
            self.fail(&format!("expected stdout to contain {needle:?}"));
        }
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Run {
        if !self.stderr.contains(needle) {
            self.fail(&format!("expected stderr to contain {needle:?}"));
        }
        self
    }

    /// Asserts that neither stream contains `needle`.
    #[track_caller]
    pub fn nowhere(&self, needle: &str) -> &Run {
        if self.stdout.contains(needle) || self.stderr.contains(needle) {
            self.fail(&format!("expected {needle:?} in neither stdout nor stderr"));
        }
        self
    }

    /// Custom assertion with the run's details on failure.
    #[track_caller]
    pub fn check(&self, cond: bool, why: &str) -> &Run {
        if !cond {
            self.fail(why);
        }
        self
    }

    /// stdout parsed as exactly one JSON document.
    #[track_caller]
    pub fn json(&self) -> Value {
        let mut docs = serde_json::Deserializer::from_str(&self.stdout).into_iter::<Value>();
        let first = match docs.next() {
            Some(Ok(v)) => v,
            Some(Err(e)) => self.fail(&format!("stdout is not JSON: {e}")),
            None => self.fail("stdout holds no JSON document"),
        };
        if docs.next().is_some() {
            self.fail("stdout holds more than one JSON document");
        }
        first
    }
}

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

enum DbKind {
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
    kind: DbKind,
    url: String,
    rt: tokio::runtime::Runtime,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
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

    async fn connect_sqlite(path: &Path, read_only: bool) -> SqliteConnection {
        SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(!read_only)
            .read_only(read_only)
            .disable_statement_logging()
            .connect()
            .await
            .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
    }

    async fn connect_mysql(options: &MySqlConnectOptions, name: &str) -> MySqlConnection {
        options
            .connect()
            .await
            .unwrap_or_else(|e| panic!("connect to MySQL database {name}: {e}"))
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

    /// Every row of a query (MySQL only; the SQLite helpers below cover what tests need).
    fn mysql_rows(&self, sql: &str) -> Vec<MySqlRow> {
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

    /// `SHOW CREATE TABLE` of a MySQL table, as the server prints it.
    #[track_caller]
    pub fn show_create_table(&self, table: &str) -> String {
        assert!(self.is_mysql(), "SHOW CREATE TABLE is MySQL's");
        let rows = self.mysql_rows(&format!("SHOW CREATE TABLE `{table}`"));
        mysql_string(&rows[0], 1).unwrap_or_else(|| panic!("SHOW CREATE TABLE {table}: NULL"))
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

    /// Holds the database's write lock (`BEGIN IMMEDIATE`) until the guard is dropped. SQLite
    /// only: MySQL has no database-wide write lock; its tests hold the tool's `GET_LOCK`.
    #[track_caller]
    pub fn hold_write_lock(&self) -> WriteLock<'_, 'e> {
        match &self.kind {
            DbKind::Sqlite { path } => {
                let conn = self.block_on(async {
                    let mut c = Self::connect_sqlite(path, false).await;
                    sqlx::raw_sql("BEGIN IMMEDIATE")
                        .execute(&mut c)
                        .await
                        .expect("BEGIN IMMEDIATE");
                    c
                });
                WriteLock {
                    db: self,
                    conn: Some(conn),
                }
            }
            DbKind::Mysql { .. } => panic!("hold_write_lock() on {}: SQLite only", self.url),
        }
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
fn mysql_i64(row: &MySqlRow, i: usize) -> Option<i64> {
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
fn mysql_string(row: &MySqlRow, i: usize) -> Option<String> {
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return v;
    }
    if let Ok(v) = row.try_get::<Option<Vec<u8>>, _>(i) {
        return v.map(|b| String::from_utf8(b).expect("UTF-8 text"));
    }
    mysql_i64(row, i).map(|n| n.to_string())
}

/// An open write transaction; rolled back on drop.
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

// ---------------------------------------------------------------------------------------------
// The MySQL/MariaDB server for this test process.

const MYSQL_URL_VAR: &str = "AURWEB_MIGRATE_TEST_MYSQL_URL";
const MYSQL_REQUIRE_VAR: &str = "AURWEB_MIGRATE_REQUIRE_MYSQL";
const MYSQL_SKIP_MESSAGE: &str = "SKIPPED: MySQL/MariaDB tests: no server (set AURWEB_MIGRATE_TEST_MYSQL_URL or install mariadb-server)";

/// How long a private server may take to accept connections.
const MYSQL_START_DEADLINE: Duration = Duration::from_secs(30);

fn require_mysql() -> bool {
    std::env::var(MYSQL_REQUIRE_VAR).is_ok_and(|v| v == "1")
}

/// Writes a line to the process's stderr directly: libtest captures `eprintln!` in tests and
/// shows it only on failure, but a skip or a server note must be seen.
pub fn loud(line: &str) {
    let _ = writeln!(std::io::stderr(), "aurweb-migrate tests: {line}");
}

/// A server the MySQL tests can create databases on.
pub struct MysqlServer {
    /// `mysql://USER[:PASS]@HOST[:PORT]` (no path) as the tool gets it.
    base: String,
    /// The same with the password as `***`.
    redacted_base: String,
    /// `?…` from the configured URL, or empty.
    query: String,
    /// For messages: where the server came from.
    origin: String,
    /// Private server only: the write end of the watchdog's pipe, held (never written) until
    /// this process exits. See [`start_private_server`].
    _watchdog: Option<std::process::ChildStdin>,
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

/// A 3-node Galera cluster on loopback, for the cluster tests: three `mariadbd` with the
/// `galera-4` provider, each with its own client, group communication, IST and SST port on
/// 127.0.0.1; node 0 bootstraps, 1 and 2 join by rsync SST. Started once per test process and
/// stopped with it (each node is under the private servers' watchdog). Cluster tests take
/// [`GaleraCluster::exclusive`] so that one that changes a node's state runs alone.
pub struct GaleraCluster {
    pub nodes: Vec<MysqlServer>,
    lock: std::sync::Mutex<()>,
    /// What another node needs to join: the provider and a member's group address.
    provider: PathBuf,
    member: String,
}

impl GaleraCluster {
    /// Starts a fourth node that joins the cluster (by rsync SST) and is Synced; a test's own,
    /// stopped when dropped (shut down by the test, the cluster goes back to three).
    #[track_caller]
    pub fn join_another(&self) -> MysqlServer {
        let mariadbd = find_program(&["mariadbd", "mysqld"]).expect("mariadbd");
        let (gcomm, ist, sst) = (
            free_port().expect("port"),
            free_port().expect("port"),
            free_port().expect("port"),
        );
        let extra = galera_args(
            &self.provider,
            &format!("gcomm://{}", self.member),
            3,
            gcomm,
            ist,
            sst,
        );
        let node = start_private_server_with(&mariadbd, &extra)
            .unwrap_or_else(|e| panic!("a fourth node: {e}"));
        wait_synced(&node, 3).unwrap_or_else(|e| panic!("{e}"));
        node
    }

    /// Serialises the cluster tests.
    pub fn exclusive(&self) -> std::sync::MutexGuard<'_, ()> {
        self.lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The cluster, or `None` (skipped loudly) where no `mariadbd` or Galera provider is
/// installed; under `AURWEB_MIGRATE_REQUIRE_MYSQL=1` a cluster that cannot start fails the test.
#[track_caller]
pub fn galera_cluster() -> Option<&'static GaleraCluster> {
    static CLUSTER: OnceLock<Result<Option<GaleraCluster>, String>> = OnceLock::new();
    match CLUSTER.get_or_init(start_galera_cluster) {
        Ok(Some(c)) => Some(c),
        Ok(None) if require_mysql() => {
            panic!("AURWEB_MIGRATE_REQUIRE_MYSQL=1 but no mariadbd and galera-4 provider for the cluster tests")
        }
        Ok(None) => None,
        Err(e) => panic!("the Galera test cluster did not start: {e}"),
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("find a free port: {e}"))
}

fn start_galera_cluster() -> Result<Option<GaleraCluster>, String> {
    let provider = [
        "/usr/lib/galera/libgalera_smm.so",
        "/usr/lib/libgalera_smm.so",
        "/usr/lib64/galera-4/libgalera_smm.so",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists());
    let (Some(mariadbd), Some(provider)) = (find_program(&["mariadbd", "mysqld"]), provider) else {
        loud("SKIPPED: Galera cluster tests: no mariadbd or galera-4 provider (libgalera_smm.so)");
        return Ok(None);
    };
    let started = Instant::now();
    let ports: Vec<(u16, u16, u16)> = (0..3)
        .map(|_| Ok((free_port()?, free_port()?, free_port()?)))
        .collect::<Result<_, String>>()?;
    let address = format!(
        "gcomm://{}",
        ports
            .iter()
            .map(|(g, _, _)| format!("127.0.0.1:{g}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut nodes = Vec::new();
    for (i, (gcomm, ist, sst)) in ports.iter().enumerate() {
        let mut extra = galera_args(&provider, &address, i, *gcomm, *ist, *sst);
        if i == 0 {
            extra.push("--wsrep-new-cluster".to_string());
        }
        let node = start_private_server_with(&mariadbd, &extra)?;
        wait_synced(&node, i)?;
        nodes.push(node);
    }
    loud(&format!(
        "Galera cluster tests on 3 loopback nodes (client ports {}), up in {:.1?}",
        nodes
            .iter()
            .map(|n| n.port().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        started.elapsed()
    ));
    Ok(Some(GaleraCluster {
        nodes,
        lock: std::sync::Mutex::new(()),
        member: format!("127.0.0.1:{}", ports[0].0),
        provider,
    }))
}

/// The server options of Galera node `i` (named `node{i}`) with its group communication, IST
/// and SST ports on 127.0.0.1.
fn galera_args(
    provider: &Path,
    address: &str,
    i: usize,
    gcomm: u16,
    ist: u16,
    sst: u16,
) -> Vec<String> {
    vec![
        "--wsrep-on=ON".to_string(),
        format!("--wsrep-provider={}", provider.display()),
        "--wsrep-cluster-name=aurweb-migrate-it".to_string(),
        format!("--wsrep-cluster-address={address}"),
        "--wsrep-node-address=127.0.0.1".to_string(),
        format!("--wsrep-node-name=node{i}"),
        format!(
            "--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:{gcomm};ist.recv_addr=127.0.0.1:{ist};gcache.size=32M"
        ),
        "--wsrep-sst-method=rsync".to_string(),
        format!("--wsrep-sst-receive-address=127.0.0.1:{sst}"),
        "--binlog-format=ROW".to_string(),
        "--innodb-autoinc-lock-mode=2".to_string(),
        "--default-storage-engine=InnoDB".to_string(),
    ]
}

/// Waits until `node` (the cluster's `i`th) is Synced in a cluster of at least `i + 1` nodes.
fn wait_synced(node: &MysqlServer, i: usize) -> Result<(), String> {
    let deadline = Instant::now() + MYSQL_START_DEADLINE;
    loop {
        let state = node.admin_strings(
            "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN ('WSREP_LOCAL_STATE_COMMENT', 'WSREP_CLUSTER_SIZE') ORDER BY VARIABLE_NAME",
        );
        let size: usize = state.first().and_then(|s| s.parse().ok()).unwrap_or(0);
        if size > i && state.get(1).is_some_and(|s| s == "Synced") {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "node{i} not Synced in a cluster of {} after {MYSQL_START_DEADLINE:?}: {state:?}",
                i + 1
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
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

    fn parts(&self) -> MysqlParts {
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

    fn options_for(&self, database: &str) -> MySqlConnectOptions {
        // sqlx reads the same URL; its scheme must be mysql.
        let url = format!("{}/{database}{}", self.base, self.query);
        let url = url.replacen("mariadb://", "mysql://", 1);
        MySqlConnectOptions::from_str(&url)
            .unwrap_or_else(|e| panic!("{}: {e}", self.redacted_url_for(database)))
            .disable_statement_logging()
    }

    fn url_for(&self, database: &str) -> String {
        format!("{}/{database}{}", self.base, self.query)
    }

    fn redacted_url_for(&self, database: &str) -> String {
        format!("{}/{database}{}", self.redacted_base, self.query)
    }

    /// A connection with no default database.
    async fn try_admin(&self) -> Result<MySqlConnection, String> {
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

    async fn admin(&self) -> MySqlConnection {
        self.try_admin().await.unwrap_or_else(|e| panic!("{e}"))
    }

    async fn has_database(&self, name: &str) -> bool {
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
fn database_name(test: &str) -> String {
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

/// The first of `names` found in `PATH`, `/usr/sbin` or `/usr/local/sbin` (server binaries
/// live in sbin, which a normal user's PATH often lacks).
fn find_program(names: &[&str]) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"].map(PathBuf::from));
    names.iter().find_map(|name| {
        dirs.iter()
            .map(|d| d.join(name))
            .find(|p| p.is_file() && p.metadata().is_ok_and(|m| m.mode() & 0o111 != 0))
    })
}

/// The private server's lifetime is tied to this process by a pipe, not by a guard: statics
/// are never dropped, and a killed test process runs no code at all. `sh` runs the server in the
/// background and a watcher that reads the pipe whose write end only this process holds
/// ([`MysqlServer::_watchdog`]; std opens it close-on-exec, so no child of ours inherits it).
/// When this process ends, however it ends, the read sees EOF and the watcher SIGKILLs the
/// server (its data is throw-away), then `sh` removes the temporary directory. If the server
/// dies by itself, `sh` exits too, which is how startup failures are noticed.
const WATCHDOG_SCRIPT: &str = r#"
dir=$1; shift
exec 3<&0 </dev/null
"$@" &
server=$!
{ cat <&3 >/dev/null; kill -KILL "$server" 2>/dev/null; } &
watcher=$!
exec 3<&-
wait "$server"
kill "$watcher" 2>/dev/null
rm -rf "$dir"
"#;

/// Initialises a datadir with `mariadb-install-db` and starts `mariadbd` on it, on a free port
/// of 127.0.0.1, root without a password, under the watchdog above. Tried three times, each on
/// a new directory and port, in case another process takes the port between our probe and the
/// server's bind.
fn start_private_server(mariadbd: &Path) -> Result<MysqlServer, String> {
    start_private_server_with(mariadbd, &[])
}

/// [`start_private_server`] with more server options (`--ssl-cert=…`).
fn start_private_server_with(mariadbd: &Path, extra: &[String]) -> Result<MysqlServer, String> {
    let install = find_program(&["mariadb-install-db", "mysql_install_db"]).ok_or_else(|| {
        format!(
            "found {} but no mariadb-install-db to initialise a datadir",
            mariadbd.display()
        )
    })?;
    // As root the server must be told to stay root (it refuses otherwise); as anyone else,
    // --user is an error for install-db.
    let as_root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let mut last_error = String::new();
    for _attempt in 0..3 {
        match try_start_private_server(mariadbd, &install, as_root, extra) {
            Ok(server) => return Ok(server),
            Err(e) => last_error = e,
        }
    }
    Err(last_error)
}

fn try_start_private_server(
    mariadbd: &Path,
    install: &Path,
    as_root: bool,
    extra: &[String],
) -> Result<MysqlServer, String> {
    let started = Instant::now();
    let dir = tempfile::Builder::new()
        .prefix("aurweb-migrate-it-mariadb.")
        .tempdir()
        .map_err(|e| format!("temp dir for the private server: {e}"))?
        .keep();
    let datadir = dir.join("data");
    let user: &[&str] = if as_root { &["--user=root"] } else { &[] };
    // Small redo log (the default is 96 MiB per datadir).
    let common = ["--innodb-log-file-size=16M".to_string()];

    let out = Command::new(install)
        .arg("--no-defaults")
        .arg(format!("--datadir={}", datadir.display()))
        .args([
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
        ])
        .args(user)
        .args(&common)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("run {}: {e}", install.display()))?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(format!(
            "{} failed ({}):\n{}{}",
            install.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }

    if extra.iter().any(|a| a == "--wsrep-on=ON") {
        // A Galera node receives its state by rsync, whose daemon (started by the server as
        // root) writes as `nobody`: the throw-away datadir must let it.
        let _ = Command::new("chmod")
            .args(["-R", "a+rwX"])
            .arg(&dir)
            .status();
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("find a free port: {e}"))?
        .port();
    // The server logs to stderr: an unlinked temporary file, read back if it fails to start.
    let mut log = tempfile::tempfile().map_err(|e| format!("log file: {e}"))?;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(WATCHDOG_SCRIPT)
        .arg("sh")
        .arg(&dir)
        .arg(mariadbd)
        .arg("--no-defaults")
        .arg(format!("--datadir={}", datadir.display()))
        .arg(format!("--socket={}", dir.join("mysqld.sock").display()))
        .arg(format!("--pid-file={}", dir.join("mysqld.pid").display()))
        .arg(format!("--port={port}"))
        .args([
            "--bind-address=127.0.0.1",
            "--skip-name-resolve",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
            "--max-connections=1000",
            // Throw-away data: no need to sync.
            "--innodb-flush-log-at-trx-commit=0",
            "--innodb-doublewrite=0",
        ])
        .args(user)
        .args(&common)
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(log.try_clone().map_err(|e| format!("log file: {e}"))?)
        .spawn()
        .map_err(|e| format!("spawn sh for {}: {e}", mariadbd.display()))?;
    let watchdog = child.stdin.take();

    let server = MysqlServer {
        base: format!("mysql://root@127.0.0.1:{port}"),
        redacted_base: format!("mysql://root@127.0.0.1:{port}"),
        query: String::new(),
        origin: format!(
            "private {} on 127.0.0.1:{port} (datadir {})",
            mariadbd.display(),
            datadir.display()
        ),
        _watchdog: watchdog,
    };
    let rt = runtime();
    let version = loop {
        if let Ok(Some(status)) = child.try_wait() {
            let mut text = String::new();
            let _ = log.rewind();
            let _ = log.read_to_string(&mut text);
            return Err(format!(
                "{} exited ({status}) before accepting connections:\n{text}",
                server.origin
            ));
        }
        let probe = rt.block_on(async {
            let mut c = server.try_admin().await?;
            let v: String = sqlx::query_scalar("SELECT VERSION()")
                .fetch_one(&mut c)
                .await
                .map_err(|e| e.to_string())?;
            let _ = c.close().await;
            Ok::<String, String>(v)
        });
        match probe {
            Ok(version) => break version,
            Err(e) if started.elapsed() > MYSQL_START_DEADLINE => {
                // Dropping `server` closes the pipe: the watchdog stops the server.
                return Err(format!(
                    "{} not accepting connections after {MYSQL_START_DEADLINE:?}: {e}",
                    server.origin
                ));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    // The child's handle is not needed: sh is reaped by init once this process has gone.
    drop(child);
    loud(&format!(
        "MySQL/MariaDB tests on a {} {version}, up in {:.1?}",
        server.origin,
        started.elapsed()
    ));
    Ok(server)
}

/// The commands a message advises, in order: every `` `aurweb-migrate …` `` span of `text`,
/// as the arguments after the program name (so a test can run what the tool told it to).
pub fn advised(text: &str) -> Vec<Vec<String>> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|span| span.strip_prefix("aurweb-migrate "))
        .map(|args| args.split_whitespace().map(str::to_string).collect())
        .collect()
}

impl Db<'_> {
    /// Runs the first command `text` advises that starts with `words` (e.g. `["resolve"]`),
    /// failing when there is none.
    #[track_caller]
    pub fn run_advised(&self, text: &str, words: &[&str]) -> Run {
        let Some(args) = advised(text)
            .into_iter()
            .find(|a| a.len() >= words.len() && a.iter().zip(words).all(|(x, w)| x == w))
        else {
            panic!(
                "no advice starting `aurweb-migrate {}` in:\n{text}",
                words.join(" ")
            )
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(&args)
    }
}

/// `n` as a JSON integer in `v[key]`, failing with the document when it is not.
#[track_caller]
pub fn int(v: &Value, key: &str) -> i64 {
    match v[key].as_i64() {
        Some(n) => n,
        None => panic!("{key} is not an integer in {v:#}"),
    }
}

/// Whether `s` is `sha256-v1:` followed by 64 lowercase hex digits.
pub fn is_checksum(s: &str) -> bool {
    s.strip_prefix("sha256-v1:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Three simple migrations creating tables `t1`, `t2`, `t3`.
pub fn three_tables(env: &Env) {
    env.migration(
        "0001_one.sql",
        "CREATE TABLE t1 (id INTEGER PRIMARY KEY);\n",
    );
    env.migration(
        "0002_two.sql",
        "CREATE TABLE t2 (id INTEGER PRIMARY KEY);\n",
    );
    env.migration(
        "0003_three.sql",
        "CREATE TABLE t3 (id INTEGER PRIMARY KEY);\n",
    );
}

/// The same three with reverse files.
pub fn three_reversible(env: &Env) {
    three_tables(env);
    env.migration("0001_one.down.sql", "DROP TABLE t1;\n");
    env.migration("0002_two.down.sql", "DROP TABLE t2;\n");
    env.migration("0003_three.down.sql", "DROP TABLE t3;\n");
}

// ---------------------------------------------------------------------------------------------
// Helpers for the schema tests (`schema.rs`).

impl Env {
    /// Writes `schema/<name>` (`mysql.sql`, `sqlite.sql`).
    pub fn schema_file(&self, name: &str, sql: &str) -> PathBuf {
        self.write(Path::new("schema").join(name), sql)
    }
}

impl<'e> Db<'e> {
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

/// The first ```toml block of README.md that contains `needle`.
pub fn readme_toml_block(needle: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .find(|b| b.contains(needle))
        .unwrap_or_else(|| panic!("no ```toml block with {needle:?} in README.md"))
        .to_string()
}
