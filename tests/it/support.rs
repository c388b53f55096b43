//! The test harness: a temporary working directory per test ([`Env`]), the real binary run in it
//! with a scrubbed environment ([`Env::run`] → [`Run`]), and a handle on the database under test
//! ([`Db`]) that both drives the binary and lets a test look at the database directly.
//!
//! Behaviour tests are written once as `fn scenario(db: &Db)` and instantiated per dialect with
//! [`each_db!`](crate::each_db) (dbmate's `testEachURL`). Only SQLite exists today; a MariaDB
//! [`Db`] adds a `DbKind` variant, the per-dialect query code below, and a `mariadb` test in the
//! macro.

#![allow(dead_code)]

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Row as _};
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
/// `each_db!(applies_all, no_op_second_run);` gives `applies_all::sqlite`, … A MariaDB
/// backend adds `fn mariadb()` here.
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
        let mut c = Command::new(BIN);
        c.current_dir(&self.cwd)
            .args(&self.args)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for key in ["PATH", "HOME"] {
            if let Some(v) = std::env::var_os(key) {
                c.env(key, v);
            }
        }
        c.env("USER", "it-user");
        for key in SCRUBBED {
            c.env_remove(key);
        }
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
    command: String,
    cwd: PathBuf,
    started: Instant,
}

impl Spawned {
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
        run
    }
}

/// A finished run of the binary.
#[derive(Debug, Clone)]
pub struct Run {
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
    Sqlite { path: PathBuf },
}

/// The database under test, and the [`Env`] it lives in. Commands run through [`Db::run`] get
/// `--database-url` pointing at it; the query helpers read it directly, never creating it.
pub struct Db<'e> {
    pub env: &'e Env,
    kind: DbKind,
    url: String,
    rt: tokio::runtime::Runtime,
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
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime"),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn dialect(&self) -> &'static str {
        match self.kind {
            DbKind::Sqlite { .. } => "sqlite",
        }
    }

    /// The SQLite file (panics on other dialects: such tests are SQLite-only).
    pub fn sqlite_path(&self) -> &Path {
        match &self.kind {
            DbKind::Sqlite { path } => path,
        }
    }

    /// Whether the database exists at all.
    pub fn exists(&self) -> bool {
        match &self.kind {
            DbKind::Sqlite { path } => path.exists(),
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

    /// Runs SQL on the database (creating it if needed), for setting up a scenario.
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
        }
    }

    /// One integer from a query.
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
        }
    }

    /// The first column of every row of a query, as text.
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
        }
    }

    /// Rows in a table.
    pub fn count(&self, table: &str) -> i64 {
        self.scalar(&format!("SELECT COUNT(*) FROM {table}"))
    }

    /// User tables, sorted (SQLite's internal tables excluded). Empty when the database does
    /// not exist.
    pub fn tables(&self) -> Vec<String> {
        if !self.exists() {
            return Vec::new();
        }
        match &self.kind {
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
        }
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
        let sql = format!(
            "SELECT version, description, checksum, state, statements_done, statements_total, error_text, applied_at, applied_by, execution_ms, tool_version FROM {table} ORDER BY version"
        );
        match &self.kind {
            DbKind::Sqlite { path } => self.block_on(async {
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
            }),
        }
    }

    /// `(version, state)` of every history row.
    pub fn states(&self) -> Vec<(i64, String)> {
        self.history()
            .into_iter()
            .map(|r| (r.version, r.state))
            .collect()
    }

    /// Holds the database's write lock (`BEGIN IMMEDIATE`) until the guard is dropped.
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
        }
    }
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
