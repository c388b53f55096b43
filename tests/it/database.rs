//! The commands about the database itself: `database create|drop`, `wait`, and `status
//! --pending`, the everyday commands peers (sqlx, dbmate) have.

use std::time::{Duration, Instant};

use crate::each_db;
use crate::support::{Db, Env};

each_db!(
    database_create_and_drop_are_idempotent,
    wait_returns_once_the_database_answers,
    status_pending_lists_only_what_is_pending,
);

fn database_create_and_drop_are_idempotent(db: &Db) {
    db.migration("0001_t.sql", "CREATE TABLE t (id INTEGER);\n");
    // The harness makes a MySQL test's database; a SQLite one is a file not there yet.
    let existed = db.exists();
    let doc = db
        .run(&["database", "create", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["changed"], !existed, "{doc:#}");
    assert_eq!(doc["action"], "created", "{doc:#}");
    assert!(db.exists());
    db.run(&["database", "create"])
        .ok()
        .stdout_has("already exists");

    db.run(&["database", "drop"]).code(2).stderr_has("--yes");
    assert!(db.exists(), "not dropped without --yes");
    let doc = db
        .run(&["database", "drop", "--yes", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["changed"], true, "{doc:#}");
    assert!(!db.exists());
    db.run(&["database", "drop", "--yes"])
        .ok()
        .stdout_has("does not exist");

    // Created again, it takes migrations like any new database.
    let doc = db
        .run(&["database", "create", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["changed"], true, "{doc:#}");
    db.run(&["upgrade"]).ok();
    db.assert_tables(&["t"]);
}

fn wait_returns_once_the_database_answers(db: &Db) {
    let doc = db
        .run(&["wait", "--timeout", "10", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["ready"], true, "{doc:#}");
    assert_eq!(doc["attempts"], 1, "{doc:#}");
}

fn status_pending_lists_only_what_is_pending(db: &Db) {
    db.migration("0001_one.sql", "CREATE TABLE t1 (id INTEGER);\n");
    db.migration("0002_two.sql", "CREATE TABLE t2 (id INTEGER);\n");
    db.run(&["upgrade", "--to", "1"]).ok();
    let run = db.run(&["status", "--pending"]);
    run.ok()
        .stdout_has("pending   2  two")
        .stdout_has("current version: 1, 1 pending")
        .nowhere("applied   1");
    let doc = db
        .run(&["status", "--pending", "--format", "json"])
        .ok()
        .json();
    let listed: Vec<i64> = doc["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["version"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, [2], "{doc:#}");
    assert_eq!(doc["current"], 1, "{doc:#}");
}

/// A server that never answers: `wait` gives up after --timeout with exit 3, as a failed
/// connection does (port 1 on loopback refuses at once, so the loop is what takes the time).
#[test]
fn wait_gives_up_after_its_timeout() {
    let env = Env::new();
    let started = Instant::now();
    env.run(&[
        "wait",
        "--timeout",
        "1",
        "--database-url",
        "mysql://nobody@127.0.0.1:1/db",
    ])
    .code(3)
    .stderr_has("within 1s");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(10),
        "{took:?}"
    );
}

/// Messages that name the fix (issue 14 item 15).
#[test]
fn messages_name_the_fix() {
    let env = Env::new();
    env.migration("0001_t.sql", "CREATE TABLE t (id INTEGER);\n");
    // A new SQLite file in a directory that does not exist: the directory, not SQLite's code 14.
    env.run(&[
        "upgrade",
        "--database-url",
        "sqlite://no/such/dir/x.sqlite3",
    ])
    .code(3)
    .stderr_has("no/such/dir does not exist; create it first")
    .nowhere("code: 14");
    // A mistyped `//` shows the user part, so the typo is visible; never the password.
    env.run(&[
        "status",
        "--database-url",
        "mysql:/root:s3cret@127.0.0.1/db",
    ])
    .code(2)
    .stderr_has("mysql:/root:***@127.0.0.1/db")
    .nowhere("s3cret");
    // sqlx's `.up.sql` names the file to rename to.
    env.write("migrations/0002_u.up.sql", "SELECT 1;\n");
    env.run(&["history"])
        .code(2)
        .stderr_has("0002_u.up.sql")
        .stderr_has("rename it to 0002_u.sql");
    env.remove("migrations/0002_u.up.sql");
    // A description beyond ASCII gives a readable slug.
    env.run(&["new", "Ünïcode Straße"])
        .ok()
        .stdout_has("_unicode_strasse.sql");
}

/// MySQL: a database that does not exist is met with the command that makes it.
#[test]
fn unknown_database_hints_database_create() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    db.migration("0001_t.sql", "CREATE TABLE t (id INTEGER);\n");
    db.run(&["database", "drop", "--yes"]).ok();
    db.run(&["status"])
        .code(3)
        .stderr_has("Unknown database")
        .stderr_has("aurweb-migrate database create");
    db.run(&["database", "create"]).ok();
    db.run(&["upgrade"]).ok();
}
