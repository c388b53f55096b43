//! MySQL/MariaDB only: what a server that commits DDL implicitly, kills sessions, holds named
//! and metadata locks, limits packets and can go silent on the network does to a run. Every test
//! looks at the database itself (tables, rows, the version table, the server's processlist), not
//! only at exit codes. Each returns early (passing) when no server is available, like the
//! `::mysql` halves of `each_db!` (see `support`).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::Connection as _;

use crate::support::{int, Db, Env, HistoryRow, TABLE};

/// A fresh MySQL database for this test, or `None` to skip.
macro_rules! mysql_db {
    ($env:expr) => {
        match Db::mysql(&$env, module_path!()) {
            Some(db) => db,
            None => return,
        }
    };
}

/// Polls `f` every 20 ms until it holds; panics after `within` with `what`.
#[track_caller]
fn wait_for(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !f() {
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The history row of `version`, if any.
fn row(db: &Db, version: i64) -> Option<HistoryRow> {
    db.history().into_iter().find(|r| r.version == version)
}

/// `status --format json`'s entry for `version`.
#[track_caller]
fn status_of(db: &Db, version: i64) -> Value {
    let doc = db.run(&["status", "--format", "json"]).ok().json();
    doc["migrations"]
        .as_array()
        .unwrap_or_else(|| panic!("no migrations in {doc:#}"))
        .iter()
        .find(|m| m["version"] == version)
        .cloned()
        .unwrap_or_else(|| panic!("no version {version} in {doc:#}"))
}

/// Sessions of this test's database whose statement text starts with `prefix`.
fn sessions_running(db: &Db, prefix: &str) -> i64 {
    db.scalar(&format!(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
         WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND INFO LIKE '{prefix}%'"
    ))
}

/// Whether `line` appears as a line of `text` (surrounding blanks ignored).
fn has_line_ending(text: &str, suffix: &str) -> bool {
    text.lines().any(|l| l.trim_end().ends_with(suffix))
}

// ---------------------------------------------------------------------------------------------
// 1. A migration mixing DDL with a failing statement: recorded as failed with its progress,
//    then settled three ways.

const MIXED: &str = "0001_mixed.sql";
const MIXED_SQL: &str = "CREATE TABLE a (id INT);\n\
CREATE TABLE b (id INT);\n\
INSERT INTO missing VALUES (1);\n\
CREATE TABLE c (id INT);\n";

/// Runs [`MIXED_SQL`] as migration 1 and checks everything the failure leaves behind.
fn fail_mixed(db: &Db) {
    db.migration(MIXED, MIXED_SQL);
    let run = db.run(&["upgrade"]);
    run.code(4)
        .stderr_has("0001_mixed.sql:3:")
        .stderr_has("missing")
        .stderr_has("aurweb-migrate resolve 1 --rolled-back")
        .stderr_has("aurweb-migrate resolve 1 --applied")
        .stderr_has("upgrade --resume");
    // The committed statements as a range, and not the failing or the later one.
    run.stderr_has(
        "already committed and stay in effect: statements 1–2 (migrations/0001_mixed.sql lines 1–2)",
    );
    run.check(
        !has_line_ending(&run.stderr, "0001_mixed.sql:4"),
        "line 4 never ran",
    );
    db.assert_tables(&["a", "b"]);

    let h = row(db, 1).expect("a history row");
    assert_eq!(h.state, "failed", "{h:#?}");
    assert_eq!((h.statements_done, h.statements_total), (2, 4), "{h:#?}");
    assert!(
        h.error_text
            .as_deref()
            .is_some_and(|e| e.contains("missing")),
        "{h:#?}"
    );

    let m = status_of(db, 1);
    assert_eq!(m["state"], "failed", "{m:#}");
    assert_eq!(m["statements_done"], 2, "{m:#}");
    assert_eq!(m["statements_total"], 4, "{m:#}");
    assert!(
        m["error"].as_str().is_some_and(|e| e.contains("missing")),
        "{m:#}"
    );

    db.run(&["upgrade"]).code(5).stderr_has("failed");
    let doc = db.run(&["check", "--format", "json"]).code(1).json();
    assert!(
        doc["problems"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["kind"] == "failed" && p["version"] == 1)),
        "{doc:#}"
    );
    // Refusing changed nothing.
    db.assert_tables(&["a", "b"]);
    assert_eq!(row(db, 1).as_ref(), Some(&h));
}

#[test]
fn mixed_ddl_failure_then_rolled_back_by_hand() {
    let env = Env::new();
    let db = mysql_db!(env);
    fail_mixed(&db);
    // The operator undoes the committed statements, then says so.
    db.exec("DROP TABLE a; DROP TABLE b");
    db.run(&["resolve", "1", "--rolled-back"]).ok();
    assert_eq!(row(&db, 1), None);
    assert_eq!(status_of(&db, 1)["state"], "pending");
    db.run(&["check"]).code(1);
    // Fixed, it applies from the start.
    db.migration(MIXED, &MIXED_SQL.replace("missing", "a"));
    db.run(&["upgrade"]).ok();
    db.assert_tables(&["a", "b", "c"]);
    assert_eq!(db.count("a"), 1);
    let h = row(&db, 1).expect("row");
    assert_eq!(
        (h.state.as_str(), h.statements_done, h.statements_total),
        ("applied", 4, 4)
    );
    assert_eq!(h.error_text, None);
    db.run(&["check"]).ok();
}

#[test]
fn mixed_ddl_failure_then_completed_by_hand() {
    let env = Env::new();
    let db = mysql_db!(env);
    fail_mixed(&db);
    // The operator completes the rest by hand (statement 3 dropped, statement 4 done).
    db.exec("CREATE TABLE c (id INT)");
    let doc = db
        .run(&["resolve", "1", "--applied", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["resolved"]["version"], 1, "{doc:#}");
    assert_eq!(int(&doc, "current"), 1, "{doc:#}");
    let h = row(&db, 1).expect("row");
    assert_eq!(
        (h.state.as_str(), h.statements_done, h.statements_total),
        ("applied", 4, 4),
        "{h:#?}"
    );
    assert_eq!(h.error_text, None);
    assert_eq!(status_of(&db, 1)["state"], "applied");
    db.run(&["check"]).ok();
    let doc = db.run(&["upgrade", "--format", "json"]).ok().json();
    assert_eq!(doc["changed"], false, "{doc:#}");
    db.assert_tables(&["a", "b", "c"]);
}

#[test]
fn mixed_ddl_failure_then_resumed() {
    let env = Env::new();
    let db = mysql_db!(env);
    fail_mixed(&db);
    // A row written after the failure: re-creating `a` would lose it.
    db.exec("INSERT INTO a VALUES (42)");
    let failed = row(&db, 1).expect("row");

    // A committed statement changed: --resume must not continue on top of different work.
    db.migration(
        MIXED,
        &MIXED_SQL
            .replace("CREATE TABLE a (id INT)", "CREATE TABLE a (id BIGINT)")
            .replace("missing", "a"),
    );
    let run = db.run(&["upgrade", "--resume"]);
    run.code(5);
    db.assert_tables(&["a", "b"]);
    assert_eq!(
        row(&db, 1).as_ref(),
        Some(&failed),
        "refusing wrote nothing"
    );

    // Only the failing statement fixed: without --resume still refused, with it continued.
    db.migration(MIXED, &MIXED_SQL.replace("missing", "a"));
    db.run(&["upgrade"]).code(5);
    let doc = db
        .run(&["upgrade", "--resume", "--dry-run", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["pending"][0]["resume_from"], 2, "{doc:#}");
    let lines: Vec<i64> = doc["pending"][0]["statements"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|s| s["line"].as_i64().expect("line"))
        .collect();
    assert_eq!(
        lines,
        [3, 4],
        "the dry run shows only what is left: {doc:#}"
    );

    let doc = db
        .run(&["upgrade", "--resume", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["changed"], true, "{doc:#}");
    assert_eq!(doc["applied"][0]["version"], 1, "{doc:#}");
    db.assert_tables(&["a", "b", "c"]);
    // `a` was not re-created: the row from before is still there, with statement 3's.
    assert_eq!(
        db.strings("SELECT CAST(id AS CHAR) FROM a ORDER BY id"),
        ["1", "42"]
    );
    let h = row(&db, 1).expect("row");
    assert_eq!(
        (h.state.as_str(), h.statements_done, h.statements_total),
        ("applied", 4, 4),
        "{h:#?}"
    );
    assert_eq!(h.error_text, None);
    assert_ne!(h.checksum, failed.checksum, "the fixed file's checksum");
    let m = status_of(&db, 1);
    assert_eq!(m["state"], "applied", "{m:#}");
    assert_eq!(m["checksum"], m["recorded_checksum"], "{m:#}");
    db.run(&["check"]).ok();
}

// ---------------------------------------------------------------------------------------------
// 2. Pure data changes are atomic, with their history row.

#[test]
fn pure_dml_migration_is_atomic() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration("0001_t.sql", "CREATE TABLE t (id INT);\n");
    db.migration(
        "0002_fill.sql",
        "INSERT INTO t VALUES (1);\nINSERT INTO missing VALUES (2);\n",
    );
    let run = db.run(&["upgrade", "--format", "json"]);
    run.code(4).stderr_has("0002_fill.sql:2:");
    let doc = run.json();
    assert_eq!(doc["error"]["kind"], "migration-failed", "{doc:#}");
    assert_eq!(doc["error"]["version"], 2, "{doc:#}");
    assert_eq!(doc["error"]["line"], 2, "{doc:#}");
    assert_eq!(doc["error"]["rolled_back"], true, "{doc:#}");
    assert_eq!(db.count("t"), 0, "the first INSERT was rolled back");
    assert_eq!(db.states(), [(1, "applied".to_string())], "no row for 2");
    assert_eq!(status_of(&db, 2)["state"], "pending");
    // Nothing to settle: fixed, it simply runs.
    db.migration(
        "0002_fill.sql",
        "INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);\n",
    );
    db.run(&["upgrade"]).ok();
    assert_eq!(db.count("t"), 2);
    let h = row(&db, 2).expect("row");
    assert_eq!((h.state.as_str(), h.statements_done), ("applied", 2));
}

// ---------------------------------------------------------------------------------------------
// 3 and 5b. SIGKILL in the middle of a DDL migration; the server frees the killed process's lock.

#[test]
fn sigkill_mid_ddl_leaves_it_failed_and_frees_the_lock() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration(
        "0001_k.sql",
        "CREATE TABLE k (id INT);\nDO SLEEP(20);\nCREATE TABLE k2 (id INT);\n",
    );
    let mut child = db
        .cmd(&["upgrade", "--lock-timeout", "1", "--connect-timeout", "2"])
        .spawn();
    wait_for(
        "statement 1 recorded as done",
        Duration::from_secs(20),
        || {
            assert!(!child.has_exited(), "the tool exited before it was killed");
            row(&db, 1).is_some_and(|r| r.statements_done == 1)
        },
    );
    wait_for("the tool to run DO SLEEP", Duration::from_secs(10), || {
        sessions_running(&db, "DO SLEEP") == 1
    });
    let killed = child.kill();
    let killed_at = Instant::now();
    assert_eq!(killed.code, None, "{killed:?}");

    // Visibly failed, never pending, with the progress it made.
    let m = status_of(&db, 1);
    assert_eq!(m["state"], "failed", "{m:#}");
    assert_eq!(m["statements_done"], 1, "{m:#}");
    assert_eq!(m["statements_total"], 3, "{m:#}");
    let h = row(&db, 1).expect("row");
    assert_eq!((h.state.as_str(), h.statements_done), ("failed", 1));
    db.run(&["check"]).code(1);
    assert!(
        db.has_table("k") && !db.has_table("k2"),
        "{:?}",
        db.tables()
    );

    // The killed process held the run lock. The server lets go of it once it notices the
    // connection is gone (MariaDB checks a sleeping statement's client every 5 s), well
    // before DO SLEEP(20) would end: the next upgrade gets the lock (and then refuses, 5)
    // instead of timing out (6).
    let run = db.run(&["upgrade", "--lock-timeout", "12"]);
    run.code(5).stderr_has("failed");
    run.check(
        killed_at.elapsed() < Duration::from_secs(15),
        "the lock was freed long before the killed statement would have ended",
    );
    assert_eq!(sessions_running(&db, "DO SLEEP"), 0, "the session is gone");
    db.kill_sessions();
    assert_eq!(row(&db, 1), Some(h), "nothing changed after the kill");
    assert!(!db.has_table("k2"));
}

// ---------------------------------------------------------------------------------------------
// 4. Concurrent upgrades on one database.

#[test]
fn eight_concurrent_upgrades_apply_each_migration_once() {
    const N: i64 = 15;
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration(
        "0001_counter.sql",
        "CREATE TABLE counter (v INT NOT NULL);\n",
    );
    for v in 2..=N {
        // Three shapes: pure data (one transaction), DDL + data, and two DDL + data (steps).
        let sql = match v % 3 {
            0 => format!("INSERT INTO counter (v) VALUES ({v});\n"),
            1 => format!("CREATE TABLE t{v} (id INT);\nINSERT INTO counter (v) VALUES ({v});\n"),
            _ => format!(
                "CREATE TABLE t{v} (id INT);\nCREATE INDEX i{v} ON t{v} (id);\n\
                 INSERT INTO counter (v) VALUES ({v});\n"
            ),
        };
        db.migration(&format!("{v:04}_m{v}.sql"), &sql);
    }
    let spawned: Vec<_> = (0..8)
        .map(|_| {
            db.cmd(&["upgrade", "--format", "json", "--lock-timeout", "30"])
                .spawn()
        })
        .collect();
    let mut applied = Vec::new();
    for run in spawned.into_iter().map(|s| s.wait()) {
        let doc = run.ok().json();
        assert_eq!(int(&doc, "current"), N, "{doc:#}");
        for a in doc["applied"].as_array().expect("applied") {
            applied.push(a["version"].as_i64().expect("version"));
        }
    }
    applied.sort();
    assert_eq!(
        applied,
        (1..=N).collect::<Vec<_>>(),
        "each applied by one run"
    );
    assert_eq!(
        db.strings("SELECT CAST(v AS CHAR) FROM counter ORDER BY v"),
        (2..=N).map(|v| v.to_string()).collect::<Vec<_>>(),
        "each migration's INSERT ran exactly once"
    );
    let h = db.history();
    assert_eq!(h.len(), N as usize);
    assert!(
        h.iter()
            .all(|r| r.state == "applied" && r.statements_done == r.statements_total),
        "{h:#?}"
    );
    let tables = (2..=N).filter(|v| v % 3 != 0).count();
    assert_eq!(db.tables().len(), tables + 2, "{:?}", db.tables());
}

// ---------------------------------------------------------------------------------------------
// 5. The run lock held by someone else.

#[test]
fn lock_held_elsewhere_times_out_naming_the_holder() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration("0001_one.sql", "CREATE TABLE t1 (id INT);\n");
    let name = format!("aurweb-migrate:{}.{TABLE}", db.mysql_database());
    assert!(name.len() <= 64, "{name} would be hashed");
    let mut conn = db.mysql_connection();
    let id: i64 = db.block_on(async {
        let got: i64 = sqlx::query_scalar("SELECT GET_LOCK(?, 0)")
            .bind(&name)
            .fetch_one(&mut conn)
            .await
            .expect("GET_LOCK");
        assert_eq!(got, 1, "the test takes the lock");
        sqlx::query_scalar("SELECT CAST(CONNECTION_ID() AS SIGNED)")
            .fetch_one(&mut conn)
            .await
            .expect("CONNECTION_ID")
    });

    let run = db.run(&["upgrade", "--lock-timeout", "1"]);
    run.code(6)
        .stderr_has("lock")
        .stderr_has(&format!("connection {id}"));
    run.check(
        run.elapsed < Duration::from_secs(5),
        "gave up within a few seconds",
    );
    // The wait is said once, up front, naming the holder; -q keeps it quiet.
    let said = run.stderr.matches("waiting up to 1s").count();
    run.check(said == 1, "the wait is announced once")
        .stderr_has(&format!("held by connection {id}"));
    db.run(&["-q", "upgrade", "--lock-timeout", "1"])
        .code(6)
        .nowhere("waiting up to");
    let run = db.run(&["upgrade", "--lock-timeout", "1", "--format", "json"]);
    let doc = run.code(6).json();
    assert_eq!(doc["error"]["kind"], "lock-timeout", "{doc:#}");
    assert_eq!(doc["error"]["exit_code"], 6, "{doc:#}");
    assert!(
        doc["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("connection {id}"))),
        "{doc:#}"
    );
    assert_eq!(
        db.tables(),
        Vec::<String>::new(),
        "nothing ran, no version table"
    );

    db.block_on(async {
        let released: i64 = sqlx::query_scalar("SELECT RELEASE_LOCK(?)")
            .bind(&name)
            .fetch_one(&mut conn)
            .await
            .expect("RELEASE_LOCK");
        assert_eq!(released, 1);
    });
    db.run(&["upgrade", "--lock-timeout", "1"]).ok();
    db.assert_tables(&["t1"]);
    assert_eq!(db.states(), [(1, "applied".to_string())]);

    // Up to date: a no-op upgrade (every host but one on a deploy) decides so without the
    // lock, so a held lock does not make it wait.
    db.block_on(async {
        let got: i64 = sqlx::query_scalar("SELECT GET_LOCK(?, 0)")
            .bind(&name)
            .fetch_one(&mut conn)
            .await
            .expect("GET_LOCK");
        assert_eq!(got, 1);
    });
    let run = db.run(&["upgrade", "--lock-timeout", "5"]);
    run.ok()
        .stdout_has("nothing to do")
        .nowhere("waiting up to")
        .check(
            run.elapsed < Duration::from_secs(3),
            "did not wait for the lock",
        );
    db.block_on(async {
        let _ = conn.close().await;
    });
}

// ---------------------------------------------------------------------------------------------
// 6. Connection failures: exit 3, quickly, never the password.

/// A port on 127.0.0.1 where nothing listens (bound, then closed).
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[test]
fn connection_refused_exits_3_quickly() {
    let env = Env::new();
    env.migration("0001_one.sql", "CREATE TABLE t1 (id INT);\n");
    let url = format!("mysql://root:refusedsecret@127.0.0.1:{}/db", closed_port());
    let run = env.run(&["upgrade", "--connect-timeout", "2", "--database-url", &url]);
    run.code(3)
        .stderr_has("cannot connect")
        .nowhere("refusedsecret");
    run.check(run.elapsed < Duration::from_secs(2), "refused at once");
}

#[test]
fn silent_listener_exits_3_at_the_connect_timeout() {
    let env = Env::new();
    env.migration("0001_one.sql", "CREATE TABLE t1 (id INT);\n");
    // Accepts TCP connections (the kernel's backlog does) and never says a word.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let url = format!("mysql://root:silentsecret@127.0.0.1:{port}/db");
    let run = env.run(&["upgrade", "--connect-timeout", "2", "--database-url", &url]);
    run.code(3)
        .stderr_has("cannot connect")
        .stderr_has("connect-timeout")
        .nowhere("silentsecret");
    run.check(
        run.elapsed >= Duration::from_secs(2) && run.elapsed < Duration::from_secs(4),
        "gave up at the 2 s connect timeout",
    );
    // JSON: one document with the error.
    let run = env.run(&[
        "status",
        "--format",
        "json",
        "--connect-timeout",
        "2",
        "--database-url",
        &url,
    ]);
    let doc = run.code(3).json();
    assert_eq!(doc["ok"], false, "{doc:#}");
    assert_eq!(doc["format_version"], 1, "{doc:#}");
    assert_eq!(doc["error"]["kind"], "connect", "{doc:#}");
    assert_eq!(doc["error"]["exit_code"], 3, "{doc:#}");
    run.nowhere("silentsecret");
    drop(listener);
}

/// A user with a password, for this test only; dropped with the guard.
struct TempUser<'d, 'e> {
    db: &'d Db<'e>,
    name: String,
}

impl<'d, 'e> TempUser<'d, 'e> {
    /// `PREFIX_<the database's suffix>`, unique on the server, with `password` and the
    /// privileges `grant` (`ALL`, `SELECT`) on the test's database.
    fn create(db: &'d Db<'e>, prefix: &str, password: &str, grant: &str) -> Self {
        let user = TempUser {
            name: format!("{prefix}_{}", &db.mysql_database()[3..]),
            db,
        };
        assert!(user.name.len() <= 32, "{}", user.name);
        db.exec(&format!(
            "CREATE USER '{0}'@'%' IDENTIFIED BY '{password}'; GRANT {grant} ON `{1}`.* TO '{0}'@'%'",
            user.name,
            db.mysql_database()
        ));
        user
    }
}

impl Drop for TempUser<'_, '_> {
    fn drop(&mut self) {
        self.db
            .exec(&format!("DROP USER IF EXISTS '{}'@'%'", self.name));
    }
}

#[test]
fn wrong_password_and_unknown_database_exit_3_without_the_password() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration("0001_one.sql", "CREATE TABLE t1 (id INT);\n");
    let p = db.mysql_parts();
    // Unique on the server: the database's name is unique per test process and handle.
    let user = TempUser::create(&db, "pw", "rightsecret", "ALL");
    let url = |password: &str, database: &str| {
        format!(
            "mysql://{}:{password}@{}:{}/{database}",
            user.name, p.host, p.port
        )
    };

    let run = env.run(&[
        "status",
        "--connect-timeout",
        "2",
        "--database-url",
        &url("wrongsecret", db.mysql_database()),
    ]);
    run.code(3)
        .stderr_has("cannot connect")
        .stderr_has("Access denied")
        .stderr_has(&format!("{}:***@", user.name))
        .nowhere("wrongsecret");
    run.check(run.elapsed < Duration::from_secs(3), "denied at once");
    // The same from the environment, as JSON.
    let run = env
        .cmd(["upgrade", "--format", "json", "--connect-timeout", "2"])
        .env(
            "AURWEB_MIGRATE_DATABASE_URL",
            url("wrongsecret", db.mysql_database()),
        )
        .run();
    let doc = run.code(3).json();
    assert_eq!(doc["error"]["kind"], "connect", "{doc:#}");
    assert_eq!(doc["error"]["exit_code"], 3, "{doc:#}");
    assert!(
        doc["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Access denied")),
        "{doc:#}"
    );
    run.nowhere("wrongsecret");
    assert_eq!(db.tables(), Vec::<String>::new());

    // An unknown database: named in the message, nothing created.
    let missing = format!("{}_nope", db.mysql_database());
    let run = env.run(&[
        "upgrade",
        "--connect-timeout",
        "2",
        "--database-url",
        &url("rightsecret", &missing),
    ]);
    run.code(3)
        .stderr_has("cannot connect")
        .stderr_has(&missing)
        .nowhere("rightsecret");
    let n = db.scalar(&format!(
        "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{missing}'"
    ));
    assert_eq!(n, 0, "the tool never creates a MySQL database");

    // The right password works (with a warning about passwords in arguments), and never prints.
    let run = env.run(&[
        "upgrade",
        "--connect-timeout",
        "2",
        "--database-url",
        &url("rightsecret", db.mysql_database()),
    ]);
    run.ok().nowhere("rightsecret");
    db.assert_tables(&["t1"]);
    drop(user);
}

// ---------------------------------------------------------------------------------------------
// 7. The network goes silent mid-statement: the watchdog notices.

/// A TCP proxy to `upstream` that forwards until [`Proxy::go_silent`]; from then on it forwards
/// nothing in either direction and accepts no new connection, but keeps every socket open (the
/// kernel still completes new handshakes into the listener's backlog), like a network that
/// drops packets. Everything closes when the proxy drops.
struct Proxy {
    addr: SocketAddr,
    silent: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl Proxy {
    /// A proxy in front of the test's server, and the database URL that goes through it.
    fn in_front_of(db: &Db) -> (Proxy, String) {
        let p = db.mysql_parts();
        let proxy = Proxy::start(format!("{}:{}", p.host, p.port));
        let url = format!(
            "mysql://{}{}/{}",
            p.userinfo(),
            proxy.addr,
            db.mysql_database()
        );
        (proxy, url)
    }

    fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let silent = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (silent.clone(), stop.clone());
        let acceptor = std::thread::spawn(move || {
            let mut pumps = Vec::new();
            while !st.load(Ordering::SeqCst) {
                if s.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
                match listener.accept() {
                    Ok((client, _)) => {
                        let Ok(server) = TcpStream::connect(&upstream) else {
                            continue;
                        };
                        client.set_nonblocking(false).expect("blocking");
                        let c2 = client.try_clone().expect("clone");
                        let s2 = server.try_clone().expect("clone");
                        pumps.push(pump(client, s2, s.clone(), st.clone()));
                        pumps.push(pump(server, c2, s.clone(), st.clone()));
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            for p in pumps {
                let _ = p.join();
            }
            drop(listener);
        });
        Proxy {
            addr,
            silent,
            stop,
            acceptor: Some(acceptor),
        }
    }

    fn go_silent(&self) {
        self.silent.store(true, Ordering::SeqCst);
    }
}

/// Copies `from` → `to` until EOF, an error, silence or stop; when silent, holds both sockets
/// open (sending and reading nothing) until stop.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    silent: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        from.set_read_timeout(Some(Duration::from_millis(20)))
            .expect("read timeout");
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            if silent.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            match from.read(&mut buf) {
                Ok(0) => {
                    let _ = to.shutdown(std::net::Shutdown::Write);
                    return;
                }
                Ok(n) => {
                    // Bytes read as the network goes silent are lost with it.
                    if silent.load(Ordering::SeqCst) || to.write_all(&buf[..n]).is_err() {
                        continue;
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => return,
            }
        }
    })
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
    }
}

#[test]
fn watchdog_notices_a_silent_network_mid_statement() {
    let env = Env::new();
    let db = mysql_db!(env);
    let (proxy, url) = Proxy::in_front_of(&db);
    db.migration("0001_w.sql", "CREATE TABLE w (id INT);\nDO SLEEP(8);\n");
    let mut child = env
        .cmd(["upgrade", "--connect-timeout", "2", "--lock-timeout", "2"])
        .env("AURWEB_MIGRATE_DATABASE_URL", url)
        .spawn();
    // Statement 1 done and recorded, and statement 2 on the server (so every answer the tool
    // waited for before it has passed the proxy).
    wait_for(
        "statement 1 recorded and DO SLEEP running",
        Duration::from_secs(20),
        || {
            assert!(!child.has_exited(), "the tool exited too early");
            row(&db, 1).is_some_and(|r| r.statements_done == 1)
                && sessions_running(&db, "DO SLEEP") == 1
        },
    );
    proxy.go_silent();
    let silent_at = Instant::now();
    let run = child.wait();
    // The watchdog asks after 5 s of a running statement; its second connection gets no
    // answer within the 2 s connect timeout.
    run.code(3).stderr_has("connection was lost");
    run.check(
        silent_at.elapsed() < Duration::from_secs(5 + 2 + 3),
        "gave up soon after the watchdog's first question",
    );
    let h = row(&db, 1).expect("row");
    assert_eq!(
        (h.state.as_str(), h.statements_done, h.statements_total),
        ("failed", 1, 2),
        "{h:#?}"
    );
    assert!(db.has_table("w"));
    db.kill_sessions();
    drop(proxy);
}

/// Waiting for the run lock is a bounded wait on the server (`GET_LOCK(…, --lock-timeout)`),
/// but its answer can get lost like any other: the tool must not wait for it for ever.
#[test]
fn silent_network_while_waiting_for_the_lock_does_not_hang() {
    let env = Env::new();
    let db = mysql_db!(env);
    let (proxy, url) = Proxy::in_front_of(&db);
    db.migration("0001_one.sql", "CREATE TABLE t1 (id INT);\n");
    let name = format!("aurweb-migrate:{}.{TABLE}", db.mysql_database());
    let mut conn = db.mysql_connection();
    db.block_on(async {
        let got: i64 = sqlx::query_scalar("SELECT GET_LOCK(?, 0)")
            .bind(&name)
            .fetch_one(&mut conn)
            .await
            .expect("GET_LOCK");
        assert_eq!(got, 1);
    });
    let mut child = env
        .cmd(["upgrade", "--connect-timeout", "2", "--lock-timeout", "2"])
        .env("AURWEB_MIGRATE_DATABASE_URL", url)
        .spawn();
    wait_for(
        "the tool waiting in GET_LOCK",
        Duration::from_secs(10),
        || {
            assert!(!child.has_exited(), "the tool exited too early");
            sessions_running(&db, "SELECT GET_LOCK") == 1
        },
    );
    proxy.go_silent();
    let silent_at = Instant::now();
    let run = child.wait();
    run.check(
        silent_at.elapsed() < Duration::from_secs(2 + 2 + 4),
        "gave up soon after the lock timeout and a connect timeout",
    );
    run.code(3).stderr_has("connection was lost");
    assert_eq!(db.tables(), Vec::<String>::new(), "nothing ran");
    db.block_on(async {
        let _ = conn.close().await;
    });
    db.kill_sessions();
    drop(proxy);
}

// ---------------------------------------------------------------------------------------------
// 8. A metadata lock held by another session: bounded by --lock-timeout when --ddl-lock-wait
// is off (tests/it/mdl.rs has it on).

#[test]
fn metadata_lock_fails_the_migration_at_the_lock_timeout() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration(
        "0001_create.sql",
        "CREATE TABLE t (x INT);\nINSERT INTO t VALUES (1);\n",
    );
    db.run(&["upgrade"]).ok();
    db.migration("0002_alter.sql", "ALTER TABLE t ADD COLUMN y INT;\n");
    let mut conn = db.mysql_connection();
    db.block_on(async {
        sqlx::raw_sql("START TRANSACTION")
            .execute(&mut conn)
            .await
            .expect("START TRANSACTION");
        // Holds a shared metadata lock on t until the transaction ends.
        let rows = sqlx::query("SELECT * FROM t")
            .fetch_all(&mut conn)
            .await
            .expect("SELECT");
        assert_eq!(rows.len(), 1);
    });
    let run = db.run(&["upgrade", "--lock-timeout", "1", "--ddl-lock-wait", "0"]);
    run.code(4)
        .stderr_has("0002_alter.sql:1:")
        .stderr_has("Lock wait timeout")
        .stderr_has("lock-timeout");
    run.check(
        run.elapsed < Duration::from_secs(5),
        "gave up within a few seconds, not the server's default of a day",
    );
    let h = row(&db, 2).expect("row");
    assert_eq!(
        (h.state.as_str(), h.statements_done),
        ("failed", 0),
        "{h:#?}"
    );
    assert!(
        h.error_text
            .as_deref()
            .is_some_and(|e| e.contains("Lock wait")),
        "{h:#?}"
    );
    let has_y = || {
        db.scalar(
            "SELECT COUNT(*) FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 't' AND COLUMN_NAME = 'y'",
        ) == 1
    };
    assert!(!has_y());

    db.block_on(async {
        sqlx::raw_sql("COMMIT")
            .execute(&mut conn)
            .await
            .expect("COMMIT");
        let _ = conn.close().await;
    });
    db.run(&["resolve", "2", "--rolled-back"]).ok();
    db.run(&["upgrade", "--lock-timeout", "1"]).ok();
    assert!(has_y());
    assert_eq!(
        db.states(),
        [(1, "applied".to_string()), (2, "applied".to_string())]
    );
}

// ---------------------------------------------------------------------------------------------
// 9. --statement-timeout.

#[test]
fn statement_timeout_cancels_with_kill_query() {
    let env = Env::new();
    let db = mysql_db!(env);
    // Atomic: rolled back, no row.
    db.migration("0001_slow.sql", "DO SLEEP(10);\n");
    let run = db.run(&["upgrade", "--statement-timeout", "1"]);
    run.code(4)
        .stderr_has("0001_slow.sql:1:")
        .stderr_has("--statement-timeout");
    run.check(
        run.elapsed < Duration::from_secs(4),
        "cancelled after about a second",
    );
    assert_eq!(
        sessions_running(&db, "DO SLEEP"),
        0,
        "the statement was killed on the server"
    );
    assert_eq!(row(&db, 1), None);
    assert_eq!(status_of(&db, 1)["state"], "pending");

    // With DDL before it: recorded as failed after the first statement.
    db.migration("0001_slow.sql", "CREATE TABLE s (id INT);\nDO SLEEP(10);\n");
    let run = db.run(&["upgrade", "--statement-timeout", "1", "--format", "json"]);
    let doc = run.code(4).json();
    run.check(run.elapsed < Duration::from_secs(4), "cancelled in time");
    assert_eq!(doc["error"]["line"], 2, "{doc:#}");
    assert_eq!(doc["error"]["rolled_back"], false, "{doc:#}");
    let h = row(&db, 1).expect("row");
    assert_eq!(
        (h.state.as_str(), h.statements_done),
        ("failed", 1),
        "{h:#?}"
    );
    assert!(
        h.error_text
            .as_deref()
            .is_some_and(|e| e.contains("statement-timeout")),
        "{h:#?}"
    );
    assert!(db.has_table("s"));
}

// ---------------------------------------------------------------------------------------------
// 10. A statement larger than max_allowed_packet is refused before anything runs.

#[test]
fn statement_over_max_allowed_packet_is_refused_before_anything_runs() {
    let env = Env::new();
    let db = mysql_db!(env);
    let max = db.scalar("SELECT @@max_allowed_packet");
    if max > 20 * 1024 * 1024 {
        eprintln!("skipped: max_allowed_packet is {max} bytes, too large for a quick test");
        return;
    }
    let max = usize::try_from(max).expect("size");
    db.migration("0001_big_table.sql", "CREATE TABLE big (v LONGTEXT);\n");
    let head = "INSERT INTO big VALUES ('";
    let tail = "')";
    let filler = max + 1 - head.len() - tail.len();
    let statement = format!("{head}{}{tail}", "x".repeat(filler));
    assert_eq!(statement.len(), max + 1);
    db.migration(
        "0002_big_row.sql",
        &format!("-- one byte over the server's limit\n{statement};\n"),
    );
    let run = db.run(&["upgrade"]);
    run.check(run.code.is_some_and(|c| c != 0), "refused")
        .stderr_has("0002_big_row.sql:2")
        .stderr_has("max_allowed_packet");
    run.check(
        run.code == Some(3),
        "exit 3: a database limit, outside a migration",
    );
    assert_eq!(
        db.tables(),
        Vec::<String>::new(),
        "nothing ran, no version table"
    );

    // Comfortably below the limit, the same kind of statement runs.
    let filler = max - 4096 - head.len() - tail.len();
    db.migration(
        "0002_big_row.sql",
        &format!("-- below the limit\n{head}{}{tail};\n", "x".repeat(filler)),
    );
    db.run(&["upgrade"]).ok();
    assert_eq!(
        db.scalar("SELECT LENGTH(v) FROM big"),
        i64::try_from(filler).expect("size")
    );
}

// ---------------------------------------------------------------------------------------------
// 11. The version table's engine and charset; the session the migrations run in.

#[test]
fn version_table_is_innodb_utf8mb4_and_sql_mode_is_the_servers() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration(
        "0001_pipes.sql",
        // Numeric strings: as OR, valid even under STRICT_TRANS_TABLES.
        "CREATE TABLE pc AS SELECT '0' || '0' AS x;\n",
    );
    db.migration(
        "0002_session.sql",
        "CREATE TABLE sess AS SELECT @@SESSION.sql_mode AS sql_mode, \
         @@SESSION.time_zone AS tz, @@SESSION.character_set_client AS cs, \
         @@SESSION.lock_wait_timeout AS lwt, @@SESSION.innodb_lock_wait_timeout AS ilwt;\n",
    );
    // Parses as in the `mariadb` client: `count` is a table name unless the session has
    // IGNORE_SPACE (which sqlx's handshake would turn on).
    db.migration("0003_count.sql", "CREATE TABLE count (i INT);\n");
    // A DDL statement waits for its metadata lock at most --ddl-lock-wait instead.
    db.run(&["upgrade", "--lock-timeout", "7", "--ddl-lock-wait", "3"])
        .ok();
    assert!(db.has_table("count"));

    let engine = db.strings(&format!(
        "SELECT CAST(ENGINE AS CHAR) FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{TABLE}'"
    ));
    assert_eq!(engine, ["InnoDB"]);
    let charset = db.strings(&format!(
        "SELECT CAST(c.CHARACTER_SET_NAME AS CHAR) FROM information_schema.TABLES t \
         JOIN information_schema.COLLATIONS c ON c.COLLATION_NAME = t.TABLE_COLLATION \
         WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_NAME = '{TABLE}'"
    ));
    assert_eq!(charset, ["utf8mb4"]);

    // The server's own sql_mode, nothing added (sqlx would add PIPES_AS_CONCAT,
    // NO_ENGINE_SUBSTITUTION and, through its handshake, IGNORE_SPACE).
    let global = db.strings("SELECT CAST(@@GLOBAL.sql_mode AS CHAR)")[0].clone();
    let session = db.strings("SELECT CAST(sql_mode AS CHAR) FROM sess");
    assert_eq!(session, std::slice::from_ref(&global));
    let x = db.strings("SELECT CAST(x AS CHAR) FROM pc");
    if global.split(',').any(|m| m == "PIPES_AS_CONCAT") {
        assert_eq!(x, ["00"], "the server's mode concatenates");
    } else {
        assert_eq!(x, ["0"], "|| is OR under the server's sql_mode {global:?}");
    }
    assert_eq!(db.strings("SELECT CAST(tz AS CHAR) FROM sess"), ["+00:00"]);
    assert_eq!(db.strings("SELECT CAST(cs AS CHAR) FROM sess"), ["utf8mb4"]);
    assert_eq!(db.scalar("SELECT lwt FROM sess"), 3);
    assert_eq!(db.scalar("SELECT ilwt FROM sess"), 7);
}

// ---------------------------------------------------------------------------------------------
// 12. A unix socket, and aurweb's INI config.

/// The server's socket, when it is on this machine.
fn server_socket(db: &Db) -> Option<String> {
    let socket = db.strings("SELECT CAST(@@socket AS CHAR)").pop()?;
    let exists = std::fs::metadata(&socket)
        .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()));
    exists.then_some(socket)
}

#[test]
fn unix_socket_url_works() {
    let env = Env::new();
    let db = mysql_db!(env);
    let Some(socket) = server_socket(&db) else {
        eprintln!("skipped: the server's socket is not on this machine");
        return;
    };
    let p = db.mysql_parts();
    env.migration("0001_one.sql", "CREATE TABLE t1 (id INT);\n");
    let url = format!(
        "mysql://{}localhost/{}?socket={socket}",
        p.userinfo(),
        db.mysql_database()
    );
    env.cmd(["upgrade", "--connect-timeout", "2"])
        .env("AURWEB_MIGRATE_DATABASE_URL", &url)
        .run()
        .ok();
    // Seen over TCP by the harness: the same server and database.
    db.assert_tables(&["t1"]);
    assert_eq!(db.states(), [(1, "applied".to_string())]);
    // The session really came through the socket: applied_by names the client, and the
    // server saw a localhost connection.
    let doc = env
        .cmd(["status", "--format", "json"])
        .env("AURWEB_MIGRATE_DATABASE_URL", &url)
        .run()
        .ok()
        .json();
    assert_eq!(doc["dialect"], "mysql", "{doc:#}");
    assert_eq!(int(&doc, "current"), 1, "{doc:#}");
}

#[test]
fn aurweb_ini_config_with_mysql_backend_works() {
    let env = Env::new();
    let db = mysql_db!(env);
    let p = db.mysql_parts();
    env.migration("0001_one.sql", "CREATE TABLE t1 (id INT);\n");
    let mut ini = format!(
        "[database]\nbackend = mysql\nhost = {}\nport = {}\nname = {}\nuser = {}\n",
        p.host,
        p.port,
        db.mysql_database(),
        p.user
    );
    if let Some(password) = &p.password {
        ini.push_str(&format!("password = {password}\n"));
    }
    let config = env.write("aur/config", &ini);
    env.cmd(["upgrade", "--connect-timeout", "2"])
        .env("AUR_CONFIG", &config)
        .run()
        .ok();
    db.assert_tables(&["t1"]);
    assert_eq!(db.states(), [(1, "applied".to_string())]);
    let run = env.cmd(["status", "-v"]).env("AUR_CONFIG", &config).run();
    run.ok().stdout_has("aur/config");

    // aurweb's socket form: no port, a socket.
    if let Some(socket) = server_socket(&db) {
        env.migration("0002_two.sql", "CREATE TABLE t2 (id INT);\n");
        let ini = ini.replace(
            &format!("host = {}\nport = {}\n", p.host, p.port),
            &format!("host = localhost\nsocket = {socket}\n"),
        );
        env.write("aur/config", &ini);
        env.cmd(["upgrade", "--connect-timeout", "2"])
            .env("AUR_CONFIG", &config)
            .run()
            .ok();
        db.assert_tables(&["t1", "t2"]);
    }
}

/// An empty password means no password, as for `mariadb --password=`: `USER:@HOST` in a URL,
/// and `password =` in a local aurweb config that blanks out the defaults' `password = aur`.
/// The account here has no password, so a login that sends an empty one is refused
/// ("using password: YES").
#[test]
fn an_empty_password_is_no_password() {
    let env = Env::new();
    let db = mysql_db!(env);
    let p = db.mysql_parts();
    let user = format!(
        "nopw_{}",
        &db.mysql_database()[..db.mysql_database().len().min(20)]
    );
    let host_of_account = if p.host == "localhost" {
        "localhost"
    } else {
        "%"
    };
    db.exec(&format!(
        "DROP USER IF EXISTS '{user}'@'{host_of_account}'; \
         CREATE USER '{user}'@'{host_of_account}'; \
         GRANT ALL ON `{}`.* TO '{user}'@'{host_of_account}'",
        db.mysql_database()
    ));
    env.migration("0001_one.sql", "CREATE TABLE t1 (id INT);\n");
    let url = format!(
        "mysql://{user}:@{}:{}/{}",
        p.host,
        p.port,
        db.mysql_database()
    );
    env.cmd(["upgrade", "--connect-timeout", "5"])
        .env("AURWEB_MIGRATE_DATABASE_URL", &url)
        .run()
        .ok();
    db.assert_tables(&["t1"]);

    // aurweb's layout: the defaults give a password, the site config blanks it out.
    env.migration("0002_two.sql", "CREATE TABLE t2 (id INT);\n");
    env.write(
        "aur/config.defaults",
        format!(
            "[database]\nbackend = mysql\nhost = {}\nport = {}\nname = {}\nuser = {user}\npassword = aur\n",
            p.host,
            p.port,
            db.mysql_database()
        ),
    );
    let config = env.write("aur/config", "[database]\npassword =\n");
    env.cmd(["upgrade", "--connect-timeout", "5"])
        .env("AUR_CONFIG", &config)
        .run()
        .ok();
    db.assert_tables(&["t1", "t2"]);
    // Without the blank, the defaults' password is sent and refused: the blank mattered.
    env.write("aur/config", "[database]\n");
    env.cmd(["status", "--connect-timeout", "5"])
        .env("AUR_CONFIG", &config)
        .run()
        .code(3)
        .stderr_has("Access denied");
    db.exec(&format!("DROP USER '{user}'@'{host_of_account}'"));
}

/// Objects created through the tool are the ones the `mariadb` client would create: the
/// session collation is the server's default for utf8mb4 (`SET NAMES utf8mb4`, no COLLATE),
/// recorded by routines, triggers and views and carried by string literals.
#[test]
fn session_collation_is_the_servers_default() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration(
        "0001_objects.sql",
        "CREATE TABLE c AS SELECT 'x' AS v;\n\
         CREATE TABLE t (x INT);\n\
         CREATE PROCEDURE p() SELECT 1;\n\
         CREATE VIEW w AS SELECT 'y' AS v;\n\
         CREATE TRIGGER g BEFORE INSERT ON t FOR EACH ROW SET NEW.x = NEW.x;\n",
    );
    db.run(&["upgrade"]).ok();
    let default = db.strings(
        "SELECT DEFAULT_COLLATE_NAME FROM information_schema.CHARACTER_SETS WHERE CHARACTER_SET_NAME = 'utf8mb4'",
    );
    let recorded = |sql: &str| db.strings(sql);
    let name = db.mysql_database().to_string();
    for (what, sql) in [
        ("the literal's column", format!("SELECT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '{name}' AND TABLE_NAME = 'c'")),
        ("the procedure", format!("SELECT COLLATION_CONNECTION FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '{name}'")),
        ("the view", format!("SELECT COLLATION_CONNECTION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = '{name}'")),
        ("the trigger", format!("SELECT COLLATION_CONNECTION FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '{name}'")),
    ] {
        assert_eq!(recorded(&sql), default, "{what}");
    }
}

// ---------------------------------------------------------------------------------------------
// Dumps and session state: what the `mariadb` client loads, the tool loads, and one
// migration's session settings never reach the tool's bookkeeping or the next migration.

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dump")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `mariadb-dump` output (LOCK TABLES around the data, `/*!…*/` session settings, a view
/// whose text holds `*/`, a trigger and a procedure in DELIMITER blocks), and the same with
/// `--no-autocommit` (`SET AUTOCOMMIT=0` … `COMMIT`), load unchanged as migrations: the rows
/// are there, the history row is `applied`, and a no-op upgrade follows.
#[test]
fn dumps_load_unchanged() {
    for name in ["library.sql", "library-no-autocommit.sql"] {
        let env = Env::new();
        let db = mysql_db!(env);
        db.migration("0001_library.sql", &fixture(name));
        db.migration(
            "0002_after.sql",
            "INSERT INTO books (author_id, title) VALUES (2, 'Five');\n",
        );
        db.run(&["upgrade"]).ok();
        assert_eq!(db.count("authors"), 3, "{name}");
        assert_eq!(db.count("books"), 5, "{name}");
        // The trigger came with the dump; it fired for migration 2's row only.
        assert_eq!(
            db.strings("SELECT what FROM audit"),
            ["book Five"],
            "{name}"
        );
        assert_eq!(
            db.strings("SELECT note FROM authors WHERE id = 1"),
            ["it's; a */ note"],
            "{name}"
        );
        assert_eq!(db.count("book_titles"), 5, "{name}");
        let states: Vec<String> = db.history().into_iter().map(|r| r.state).collect();
        assert_eq!(states, ["applied", "applied"], "{name}");
        db.run(&["upgrade"]).ok().stdout_has("nothing to do");
    }
}

/// A failure inside a LOCK TABLES region: the error names the file and line, the version is
/// recorded as failed with the database's message (the tool's own table is not locked for its
/// bookkeeping), and the statements before it in the region stay.
#[test]
fn a_failure_under_lock_tables_is_recorded() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration(
        "0001_locked.sql",
        "CREATE TABLE t (x INT PRIMARY KEY);\nLOCK TABLES t WRITE;\nINSERT INTO t VALUES (1);\nINSERT INTO t VALUES (1);\nUNLOCK TABLES;\n",
    );
    db.run(&["upgrade"])
        .code(4)
        .stderr_has("0001_locked.sql:4:")
        .stderr_has("Duplicate entry");
    let h = row(&db, 1).expect("a history row");
    assert_eq!(h.state, "failed", "{h:#?}");
    assert!(
        h.error_text
            .as_deref()
            .is_some_and(|e| e.contains("Duplicate entry")),
        "{h:#?}"
    );
    assert_eq!(h.statements_done, 3, "{h:#?}");
    assert_eq!(db.count("t"), 1);
}

/// Session settings stay in their migration: `FOREIGN_KEY_CHECKS=0` in one does not switch
/// the checks off for the next, and `SET AUTOCOMMIT=0` with no final COMMIT is committed (the
/// tool commits what a migration file leaves open; the client would roll it back) without
/// leaving the tool's own rows uncommitted.
#[test]
fn session_settings_do_not_leak() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration(
        "0001_parents.sql",
        "CREATE TABLE p (id INT PRIMARY KEY) ENGINE=InnoDB;\nCREATE TABLE c (p INT, FOREIGN KEY (p) REFERENCES p (id)) ENGINE=InnoDB;\n",
    );
    db.migration(
        "0002_unchecked.sql",
        "SET FOREIGN_KEY_CHECKS = 0;\nINSERT INTO c VALUES (1);\n",
    );
    db.migration("0003_checked.sql", "INSERT INTO c VALUES (2);\n");
    db.run(&["upgrade"])
        .code(4)
        .stderr_has("0003_checked.sql:1:")
        .stderr_has("foreign key constraint fails");
    assert_eq!(db.count("c"), 1);

    let env = Env::new();
    let db = mysql_db!(env);
    db.migration(
        "0001_open.sql",
        "CREATE TABLE t (x INT);\nSET AUTOCOMMIT = 0;\nINSERT INTO t VALUES (1);\n",
    );
    db.migration("0002_next.sql", "INSERT INTO t VALUES (2);\n");
    db.run(&["upgrade"]).ok();
    assert_eq!(db.count("t"), 2);
    let states: Vec<String> = db.history().into_iter().map(|r| r.state).collect();
    assert_eq!(states, ["applied", "applied"]);

    // User variables: set by one migration (atomic, and stepwise), read as NULL by the next.
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration(
        "0001_sets.sql",
        "SET @answer = 42, @`odd name` = 'x';\nSELECT @tally := 7;\n",
    );
    db.migration(
        "0002_stepwise_sets.sql",
        "CREATE TABLE seen (n INT);\nSET @later = 5;\nINSERT INTO seen VALUES (@later);\n",
    );
    db.migration(
        "0003_reads.sql",
        "CREATE TABLE got AS SELECT @answer AS a, @`odd name` AS o, @tally AS t, @later AS l;\n",
    );
    db.run(&["upgrade"]).ok();
    assert_eq!(
        db.scalar(
            "SELECT COUNT(*) FROM got WHERE a IS NULL AND o IS NULL AND t IS NULL AND l IS NULL"
        ),
        1,
        "a user variable reached the next migration"
    );
    // Within its migration a variable keeps its value.
    assert_eq!(db.scalar("SELECT n FROM seen"), 5);
}

/// Statements between two that commit implicitly are one transaction: a failure mid-group
/// rolls the whole group back, progress stays at the group's start, and `--resume` after a
/// fix runs the group from its first statement (each row once).
#[test]
fn a_group_fails_and_resumes_as_a_whole() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration(
        "0001_group.sql",
        "CREATE TABLE t (x INT PRIMARY KEY);\nINSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);\nINSERT INTO nowhere VALUES (3);\nCREATE TABLE u (x INT);\n",
    );
    db.run(&["upgrade"]).code(4).stderr_has("0001_group.sql:4:");
    assert_eq!(db.count("t"), 0, "the group was rolled back");
    let h = row(&db, 1).expect("a history row");
    assert_eq!(
        (h.state.as_str(), h.statements_done),
        ("failed", 1),
        "{h:#?}"
    );
    db.migration(
        "0001_group.sql",
        "CREATE TABLE t (x INT PRIMARY KEY);\nINSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);\nINSERT INTO t VALUES (3);\nCREATE TABLE u (x INT);\n",
    );
    db.run(&["upgrade", "--resume"]).ok();
    assert_eq!(db.count("t"), 3);
    assert!(db.has_table("u"));
}

/// SIGKILL inside a group: the server rolls the open transaction back when the connection
/// goes, so no part of the group is left; the row stays `failed` at the group's start, and
/// `--resume` runs the whole group again, each row once.
#[test]
fn kill_inside_a_group_leaves_none_of_it() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration(
        "0001_g.sql",
        "CREATE TABLE g (id INT PRIMARY KEY);\nINSERT INTO g VALUES (1);\nDO SLEEP(3);\nINSERT INTO g VALUES (2);\n",
    );
    let mut child = db.cmd(&["upgrade"]).spawn();
    wait_for("the tool to run DO SLEEP", Duration::from_secs(20), || {
        assert!(!child.has_exited(), "the tool exited before it was killed");
        sessions_running(&db, "DO SLEEP") == 1
    });
    assert_eq!(child.kill().code, None);
    // The server notices the dead connection once the sleep ends; then the group is undone.
    wait_for("the killed session to go", Duration::from_secs(15), || {
        sessions_running(&db, "") == 0
    });
    assert_eq!(db.count("g"), 0, "no part of the group is committed");
    let h = row(&db, 1).expect("row");
    assert_eq!(
        (h.state.as_str(), h.statements_done),
        ("failed", 1),
        "{h:#?}"
    );
    db.run(&["upgrade", "--resume"]).ok();
    assert_eq!(db.count("g"), 2);
}

/// `SET sql_mode = 'NO_BACKSLASH_ESCAPES'` in a file changes how the rest of it is split, as
/// it changes how the server reads it: `'C:\'` is a whole string there. The next migration
/// runs in the session's own mode again (backslash escapes work).
#[test]
fn sql_mode_in_a_file_changes_its_lexing_only() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration(
        "0001_paths.sql",
        "CREATE TABLE paths (p VARCHAR(20));\nSET sql_mode = 'NO_BACKSLASH_ESCAPES';\nINSERT INTO paths VALUES ('C:\\');\n",
    );
    db.migration("0002_escaped.sql", "INSERT INTO paths VALUES ('it\\'s');\n");
    db.run(&["upgrade"]).ok();
    let mut got = db.strings("SELECT p FROM paths");
    got.sort();
    assert_eq!(got, ["C:\\", "it's"]);
}

/// A syntax error deep inside a statement (a procedure in a DELIMITER block, a multi-line
/// INSERT sent in a batch) is reported at the file's line the server names, not at the
/// statement's first line.
#[test]
fn syntax_errors_point_at_the_broken_line() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration(
        "0001_p.sql",
        "-- a procedure\nDELIMITER //\nCREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELEC 2;\nEND //\nDELIMITER ;\n",
    );
    let doc = db
        .run(&["upgrade", "--format", "json"])
        .code(4)
        .stderr_has("0001_p.sql:6:")
        .json();
    assert_eq!(doc["error"]["line"], 6, "{doc:#}");

    let env = Env::new();
    let db = mysql_db!(env);
    db.migration(
        "0001_t.sql",
        "CREATE TABLE t (a INT, b INT);\nINSERT INTO t VALUES (1, 1);\nINSERT INTO t VALUES (2, 2);\nINSERT INTO t\n  VALUES (3,\n  3 3);\n",
    );
    db.run(&["upgrade"]).code(4).stderr_has("0001_t.sql:6:");
}

/// A read-only server (a replica, `read_only=ON`; the test's own server, so no other test sees
/// it): every reading command works, `upgrade` with nothing pending exits 0, and with something
/// pending it is refused before any write, exit 3, saying so and where to run it.
#[test]
fn read_only_server_reads_and_refuses_writes() {
    let env = Env::new();
    let Some(server) = crate::support::own_mysql_server() else {
        return;
    };
    server.admin_exec("CREATE DATABASE replica");
    let url = server.url("replica");
    let run = |args: &[&str]| env.cmd(args).arg("--database-url").arg(&url).run();
    env.migration("0001_one.sql", "CREATE TABLE one (id INT PRIMARY KEY);\n");
    run(&["upgrade"]).ok();
    server.admin_exec("SET GLOBAL read_only = ON");

    run(&["upgrade"]).ok().stdout_has("nothing to do");
    env.migration("0002_two.sql", "CREATE TABLE two (id INT PRIMARY KEY);\n");
    let doc = run(&["--format", "json", "status"]).ok().json();
    assert_eq!(doc["pending"], 1, "{doc:#}");
    run(&["check"]).code(1).stdout_has("pending");
    run(&["schema", "dump"]).ok().stdout_has("one");
    run(&["check", "--drift"]).code(1).stdout_has("pending");
    run(&["upgrade", "--dry-run"]).ok();
    let refused = run(&["upgrade"]);
    refused
        .code(3)
        .stderr_has("the server is read-only (read_only=ON")
        .stderr_has("nothing was written")
        .stderr_has("against the primary");
    let doc = run(&["--format", "json", "upgrade"]).code(3).json();
    assert_eq!(doc["error"]["kind"], "not-writable", "{doc:#}");
    assert_eq!(doc["applied"], serde_json::json!([]), "{doc:#}");
    assert_eq!(doc["current"], 1, "{doc:#}");
    // Nothing was written: the history and the tables are as before.
    server.admin_exec("SET GLOBAL read_only = OFF");
    let doc = run(&["--format", "json", "status"]).ok().json();
    assert_eq!(doc["current"], 1, "{doc:#}");
    assert_eq!(doc["pending"], 1, "{doc:#}");
    let dump = run(&["schema", "dump"]);
    dump.ok()
        .check(!dump.stdout.contains("two"), "table two not made");
    run(&["upgrade"]).ok();
}

/// An account that may read but not write: told before any migration statement runs (exit 3),
/// naming the account and what to grant; nothing is written.
#[test]
fn account_without_write_privileges_is_told_before_anything_runs() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration("0001_one.sql", "CREATE TABLE one (id INT PRIMARY KEY);\n");
    db.run(&["upgrade"]).ok();
    db.migration(
        "0002_two.sql",
        "CREATE TABLE two (id INT PRIMARY KEY);\nINSERT INTO two VALUES (1);\n",
    );
    let p = db.mysql_parts();
    let user = TempUser::create(&db, "ro", "readersecret", "SELECT");
    let url = format!(
        "mysql://{}:readersecret@{}:{}/{}",
        user.name,
        p.host,
        p.port,
        db.mysql_database()
    );
    env.run(&["status", "--database-url", &url]).ok();
    let run = env.run(&["upgrade", "--database-url", &url]);
    run.code(3)
        .stderr_has(&format!("the account {}@", user.name))
        .stderr_has("may not write the version table aurweb_migrations")
        .stderr_has("nothing was written")
        .nowhere("readersecret");
    assert!(!db.has_table("two"), "no migration statement ran");
    assert_eq!(db.history().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Issue 31 item 1. A migration run step by step sends its `failed` row with its first
// statement, and each progress update with the next statement, in one round trip: the rows a
// failure leaves must be exactly those sent alone would leave.

/// A seed table with rows, then a migration of four statements that each commit implicitly
/// (`--ddl-lock-wait` on: three of them go with their bound), with statement `k` made to
/// fail. Each time: the row says `failed` with statements 1..k-1 done, those statements'
/// effects are there and none after, `--resume` starts at `k` (so the progress checksum is
/// that of the first k-1 statements), and the fixed file completes from there, the seed's
/// rows kept.
#[test]
fn progress_sent_with_the_next_statement_is_exact_wherever_it_fails() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration(
        "0001_seed.sql",
        "CREATE TABLE seed (id INT PRIMARY KEY);\nINSERT INTO seed VALUES (1), (2), (3);\n",
    );
    db.run(&["upgrade"]).ok();
    let statements = [
        "CREATE TABLE p1 (id INT)",
        "ALTER TABLE seed ADD COLUMN p2 INT NULL",
        "CREATE TABLE p3 (id INT)",
        "RENAME TABLE p3 TO p4",
    ];
    let file = |failing: Option<usize>| -> String {
        statements
            .iter()
            .enumerate()
            .map(|(i, s)| match failing == Some(i + 1) {
                true => format!("ALTER TABLE missing_{} ADD COLUMN x INT;\n", i + 1),
                false => format!("{s};\n"),
            })
            .collect()
    };
    // What statements 1..j leave: the tables, and whether seed has p2.
    let effects = |j: usize| -> (Vec<&str>, bool) {
        let mut tables = vec!["seed"];
        if j >= 1 {
            tables.push("p1");
        }
        match j {
            3 => tables.push("p3"),
            4 => tables.push("p4"),
            _ => {}
        }
        tables.sort();
        (tables, j >= 2)
    };
    let has_p2 = || {
        db.scalar(
            "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME = 'seed' AND COLUMN_NAME = 'p2'",
        ) == 1
    };
    for k in 1..=4 {
        db.migration("0002_steps.sql", &file(Some(k)));
        let run = db.run(&["upgrade", "--format", "json"]);
        run.code(4);
        let doc = run.json();
        assert_eq!(doc["error"]["kind"], "migration-failed", "k={k}: {doc:#}");
        assert_eq!(doc["error"]["line"], k as i64, "k={k}: {doc:#}");
        let h = row(&db, 2).expect("a history row");
        assert_eq!(
            (h.state.as_str(), h.statements_done, h.statements_total),
            ("failed", k as i64 - 1, 4),
            "k={k}: {h:#?}"
        );
        assert!(
            h.error_text
                .as_deref()
                .is_some_and(|e| e.contains(&format!("missing_{k}"))),
            "k={k}: {h:#?}"
        );
        let (tables, p2) = effects(k - 1);
        db.assert_tables(&tables);
        assert_eq!(has_p2(), p2, "k={k}");
        assert_eq!(db.count("seed"), 3, "k={k}");
        let doc = db
            .run(&["upgrade", "--resume", "--dry-run", "--format", "json"])
            .ok()
            .json();
        assert_eq!(
            doc["pending"][0]["resume_from"],
            k as i64 - 1,
            "k={k}: {doc:#}"
        );
        // Undone by hand, for the next k.
        for t in tables.iter().filter(|t| **t != "seed") {
            db.exec(&format!("DROP TABLE {t}"));
        }
        if p2 {
            db.exec("ALTER TABLE seed DROP COLUMN p2");
        }
        db.run(&["resolve", "2", "--rolled-back"]).ok();
        assert_eq!(row(&db, 2), None);
    }
    // Failing at 3 again, then resumed with the fixed file: 3 and 4 run, 1 and 2 do not again.
    db.migration("0002_steps.sql", &file(Some(3)));
    db.run(&["upgrade"]).code(4);
    db.exec("INSERT INTO p1 VALUES (7)");
    db.migration("0002_steps.sql", &file(None));
    db.run(&["upgrade", "--resume"]).ok();
    let (tables, p2) = effects(4);
    db.assert_tables(&tables);
    assert!(p2 && has_p2());
    assert_eq!(db.count("p1"), 1, "p1 was not created again");
    assert_eq!(db.count("seed"), 3);
    let h = row(&db, 2).expect("row");
    assert_eq!(
        (h.state.as_str(), h.statements_done, h.statements_total),
        ("applied", 4, 4),
        "{h:#?}"
    );
    db.run(&["check"]).ok();
}

/// The same in a file that opts out of transactions, whose data statements each run alone
/// (no metadata-lock bound: sent with the row as a plain batch): statement 2 fails on a
/// duplicate key, statement 1's row stays, and the history says 1 done.
#[test]
fn progress_sent_with_a_data_statement_is_exact() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration("0001_seed.sql", "CREATE TABLE seed (id INT PRIMARY KEY);\n");
    db.run(&["upgrade"]).ok();
    db.migration(
        "0002_rows.sql",
        "-- aurweb-migrate: no-transaction\nINSERT INTO seed VALUES (1);\nINSERT INTO seed VALUES (1);\nINSERT INTO seed VALUES (3);\n",
    );
    db.run(&["upgrade"]).code(4).stderr_has("0002_rows.sql:3:");
    assert_eq!(db.strings("SELECT CAST(id AS CHAR) FROM seed"), ["1"]);
    let h = row(&db, 2).expect("row");
    assert_eq!(
        (h.state.as_str(), h.statements_done, h.statements_total),
        ("failed", 1, 3),
        "{h:#?}"
    );
}

/// A history write that the server refuses (here a trigger on the version table) runs nothing
/// after it: neither the first statement the `failed` row goes with, nor the statement a
/// progress update goes with. The error is the tool's own, not the migration's.
#[test]
fn a_refused_row_write_runs_no_statement_after_it() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration("0001_seed.sql", "CREATE TABLE seed (id INT PRIMARY KEY);\n");
    db.run(&["upgrade"]).ok();
    db.exec(&format!(
        "CREATE TRIGGER no_second BEFORE INSERT ON {TABLE} FOR EACH ROW \
         IF NEW.version = 2 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'row 2 refused'; END IF"
    ));
    db.migration(
        "0002_two.sql",
        "CREATE TABLE two_a (id INT);\nCREATE TABLE two_b (id INT);\n",
    );
    let run = db.run(&["upgrade", "--format", "json"]);
    run.code(3);
    let doc = run.json();
    assert_ne!(doc["error"]["kind"], "migration-failed", "{doc:#}");
    run.stderr_has("row 2 refused");
    db.assert_tables(&["seed"]);
    assert_eq!(row(&db, 2), None);
    db.exec("DROP TRIGGER no_second");

    db.exec(&format!(
        "CREATE TRIGGER no_progress BEFORE UPDATE ON {TABLE} FOR EACH ROW \
         IF NEW.version = 2 AND NEW.state = 'failed' AND NEW.statements_done = 1 THEN \
         SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'progress refused'; END IF"
    ));
    let run = db.run(&["upgrade", "--format", "json"]);
    run.stderr_has("progress refused");
    let doc = run.json();
    assert_ne!(doc["error"]["kind"], "migration-failed", "{doc:#}");
    db.assert_tables(&["seed", "two_a"]);
    let h = row(&db, 2).expect("row");
    assert_eq!(
        (h.state.as_str(), h.statements_done),
        ("failed", 0),
        "{h:#?}"
    );
}

/// The rows sent with statements are written as text (a batch takes no bound parameters):
/// every column must read back exactly as the bound writes give it, whatever the text holds
/// (`applied_by` here holds quotes, a backslash and non-ASCII letters). A trigger copies each write of the version table aside; the
/// batched writes (the `failed` row, the progress) are compared with the last, bound one.
#[test]
fn rows_sent_with_statements_read_back_as_bound_ones() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration("0001_seed.sql", "CREATE TABLE seed (id INT PRIMARY KEY);\n");
    db.run(&["upgrade"]).ok();
    db.exec(
        "CREATE TABLE audit (n INT AUTO_INCREMENT PRIMARY KEY, version BIGINT, description VARCHAR(255), \
         checksum VARCHAR(80), state VARCHAR(16), done INT, applied_by VARCHAR(255), \
         tool_version VARCHAR(32), statements_checksum VARCHAR(80), progress_checksum VARCHAR(80))",
    );
    for event in ["INSERT", "UPDATE"] {
        db.exec(&format!(
            "CREATE TRIGGER audit_{event} AFTER {event} ON {TABLE} FOR EACH ROW \
             INSERT INTO audit (version, description, checksum, state, done, applied_by, \
             tool_version, statements_checksum, progress_checksum) VALUES (NEW.version, \
             NEW.description, NEW.checksum, NEW.state, NEW.statements_done, NEW.applied_by, \
             NEW.tool_version, NEW.statements_checksum, NEW.progress_checksum)"
        ));
    }
    db.migration(
        "0002_three_steps.sql",
        "CREATE TABLE s1 (id INT);\nCREATE TABLE s2 (id INT);\nCREATE TABLE s3 (id INT);\n",
    );
    let who = "o'brien\\\"`Ω é";
    let run = db
        .cmd(&["upgrade"])
        .env("USER", who)
        .env("LOGNAME", who)
        .run();
    run.ok();
    db.assert_tables(&["audit", "s1", "s2", "s3", "seed"]);
    let audited = db.strings(
        "SELECT CONCAT_WS('|', version, description, checksum, state, done, applied_by, \
         tool_version, statements_checksum) FROM audit WHERE version = 2 ORDER BY n",
    );
    let h = row(&db, 2).expect("row");
    assert!(h.applied_by.starts_with(&format!("{who}@")), "{h:#?}");
    let expect = |state: &str, done: i64| {
        format!(
            "2|three steps|{}|{state}|{done}|{}|{}|{}",
            h.checksum,
            h.applied_by,
            h.tool_version,
            db.strings(&format!(
                "SELECT statements_checksum FROM {TABLE} WHERE version = 2"
            ))[0]
        )
    };
    assert_eq!(
        audited,
        [
            expect("failed", 0),
            expect("failed", 1),
            expect("failed", 2),
            expect("applied", 3)
        ]
    );
    // The progress checksums are distinct, and the applied row's is that of all three.
    let progress = db.strings("SELECT progress_checksum FROM audit WHERE version = 2 ORDER BY n");
    let distinct: std::collections::BTreeSet<&String> = progress.iter().collect();
    assert_eq!(distinct.len(), 4, "{progress:?}");
    db.run(&["check"]).ok();
}

/// A DDL statement that does not parse commits nothing implicitly (MariaDB 10.11: an
/// `UPDATE` in an open transaction before `ALTER TABLE h ADD COLUMN;` is rolled back with
/// it), so the progress sent with it must commit by itself: after a syntax error in
/// statement 2, the row says statement 1 is done.
#[test]
fn progress_sent_with_a_statement_that_does_not_parse_is_committed() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration(
        "0001_q.sql",
        "CREATE TABLE q1 (id INT);\nALTER TABLE q1 ADD COLUMN;\nCREATE TABLE q3 (id INT);\n",
    );
    db.run(&["upgrade"])
        .code(4)
        .stderr_has("failed at statement 2 of 3")
        .stderr_has("syntax");
    db.assert_tables(&["q1"]);
    let h = row(&db, 1).expect("row");
    assert_eq!(
        (h.state.as_str(), h.statements_done, h.statements_total),
        ("failed", 1, 3),
        "{h:#?}"
    );
}

/// A syntax error in a DDL statement that goes with the tool's own statements in one batch
/// (`--ddl-lock-wait`, on by default, and the history rows that ride with it) is named at its
/// own line of the file, and the server's quote of the text stops where the statement ends:
/// none of the tool's statements shows up in the message.
#[test]
fn a_syntax_error_in_a_batched_ddl_statement_names_its_own_line() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration(
        "0001_x.sql",
        "CREATE TABLE a (id INT PRIMARY KEY);\nINSERT INTO a VALUES (1), (2);\n\nCREATE TABLE b (\n  id INT PRIMARY KEY,\n  x INT NOT NULLL\n);\n",
    );
    let run = db.run(&["upgrade"]);
    run.code(4)
        .stderr_has("error: migrations/0001_x.sql:6: You have an error in your SQL syntax")
        .stderr_has("near 'NULLL\n)' at line 3");
    assert!(
        !run.stderr.contains("lock_wait_timeout") && !run.stderr.contains(TABLE),
        "{}",
        run.stderr
    );
    assert_eq!(db.count("a"), 2, "the committed statements stay");
    let r = row(&db, 1).expect("row");
    assert_eq!(
        (r.state.as_str(), r.statements_done),
        ("failed", 2),
        "{r:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Issue 31: between two migrations run step by step, one commit for the first one's `applied`
// row and the next one's starting row.

/// Every history write is logged by a trigger, with whether it ran inside an explicit
/// transaction (`@@in_transaction`: 0 for an autocommitted statement). The `applied` row of
/// migrations 2 and 3 and the starting row of 3 and 4 are written in one transaction, right
/// after one another; every other write (the first starting row, which goes with its first
/// statement, the progress after each statement, the last `applied` row) is autocommitted.
#[test]
fn applied_row_and_the_next_starting_row_are_one_transaction() {
    let env = Env::new();
    let db = mysql_db!(env);
    db.migration("0001_base.sql", "CREATE TABLE base (id INT);\n");
    db.run(&["upgrade"]).ok();
    db.exec(
        "CREATE TABLE write_log (seq INT AUTO_INCREMENT PRIMARY KEY, version BIGINT, state VARCHAR(16), done INT, in_trx INT)",
    );
    for event in ["INSERT", "UPDATE"] {
        db.exec(&format!(
            "CREATE TRIGGER log_{event} AFTER {event} ON {TABLE} FOR EACH ROW \
             INSERT INTO write_log (version, state, done, in_trx) \
             VALUES (NEW.version, NEW.state, NEW.statements_done, @@in_transaction)"
        ));
    }
    for v in 2..=4 {
        db.migration(
            &format!("000{v}_t.sql"),
            &format!("CREATE TABLE t{v} (id INT);\nCREATE INDEX i{v} ON t{v} (id);\n"),
        );
    }
    db.run(&["upgrade"]).ok();
    let log = db.strings(
        "SELECT CONCAT(version, ' ', state, ' ', done, ' ', in_trx) FROM write_log ORDER BY seq",
    );
    assert_eq!(
        log,
        [
            "2 failed 0 0",
            "2 failed 1 0",
            "2 applied 2 1",
            "3 failed 0 1",
            "3 failed 1 0",
            "3 applied 2 1",
            "4 failed 0 1",
            "4 failed 1 0",
            "4 applied 2 0",
        ],
        "the history writes, in order (version, state, statements done, in a transaction)"
    );
    assert_eq!(
        db.states(),
        [
            (1, "applied".to_string()),
            (2, "applied".to_string()),
            (3, "applied".to_string()),
            (4, "applied".to_string())
        ]
    );
    // A failure in the next migration finds its starting row as before, then its progress.
    db.migration(
        "0005_t.sql",
        "CREATE TABLE t5 (id INT);\nCREATE INDEX i5 ON t5 (id);\n",
    );
    db.migration(
        "0006_bad.sql",
        "CREATE TABLE t6 (id INT);\nCREATE TABLE t6 (id INT);\n",
    );
    let run = db.run(&["upgrade"]);
    run.code(4).stderr_has("0006_bad.sql:2:");
    let r5 = row(&db, 5).expect("row of 5");
    assert_eq!(
        (r5.state.as_str(), r5.statements_done),
        ("applied", 2),
        "{r5:?}"
    );
    let r6 = row(&db, 6).expect("row of 6");
    assert_eq!(
        (r6.state.as_str(), r6.statements_done),
        ("failed", 1),
        "{r6:?}"
    );
    assert!(db.has_table("t6"), "its first statement stays committed");
}
