//! `status` and `check`: output shapes, and that they never write (read-only replicas), plus
//! line-ending normalisation of checksums.

use std::os::unix::fs::PermissionsExt;

use crate::each_db;
use crate::support::{int, is_checksum, three_tables, Db, Env};

each_db!(
    status_human_lists_every_state,
    status_json_shape,
    check_ok_when_up_to_date,
    check_lists_pending_versions,
    crlf_and_bom_do_not_modify_history,
    crlf_file_applies,
    a_database_with_tables_but_no_history_is_a_problem,
);

fn status_human_lists_every_state(db: &Db) {
    three_tables(db.env);
    db.run(&["upgrade", "--to", "2"]).ok();
    let run = db.run(&["status"]);
    run.ok();
    let line = |v: &str| -> String {
        run.stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(v))
            .unwrap_or_else(|| run.fail(&format!("no line for version {v}")))
            .to_string()
    };
    assert!(line("1").starts_with("applied"), "{}", line("1"));
    assert!(line("2").starts_with("applied"), "{}", line("2"));
    assert!(line("3").starts_with("pending"), "{}", line("3"));
    assert!(line("3").contains("three"));
    run.stdout_has("aurweb_migrations");
    run.check(!run.stdout.contains('\x1b'), "colour on a pipe");
}

fn status_json_shape(db: &Db) {
    three_tables(db.env);
    db.run(&["upgrade", "--to", "2"]).ok();
    let run = db.run(&["status", "--format", "json"]);
    run.ok();
    let doc = run.json();
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["database"], db.redacted_url(), "{doc:#}");
    assert_eq!(doc["dialect"], db.dialect());
    assert_eq!(doc["table"], "aurweb_migrations");
    assert_eq!(int(&doc, "current"), 2);
    assert_eq!(int(&doc, "pending"), 1);
    assert_eq!(doc["problems"], serde_json::json!([]));
    let ms = doc["migrations"].as_array().expect("migrations");
    assert_eq!(ms.len(), 3);
    for (m, (v, d, state)) in ms.iter().zip([
        (1, "one", "applied"),
        (2, "two", "applied"),
        (3, "three", "pending"),
    ]) {
        assert_eq!(m["version"].as_i64(), Some(v), "{m:#}");
        assert_eq!(m["description"], d);
        assert_eq!(m["state"], state);
        assert!(is_checksum(m["checksum"].as_str().unwrap_or("")), "{m:#}");
        if state == "applied" {
            assert!(
                m["applied_at"].as_str().is_some_and(|s| s.ends_with('Z')),
                "{m:#}"
            );
            assert!(m["execution_ms"].is_u64(), "{m:#}");
        } else {
            assert!(m["applied_at"].is_null(), "{m:#}");
            assert!(m["execution_ms"].is_null(), "{m:#}");
        }
    }
    // A fresh database: current is null, everything pending.
    let fresh = db.run(&["status", "--format", "json", "--table", "other_table"]);
    let doc = fresh.ok().json();
    assert!(doc["current"].is_null(), "{doc:#}");
    assert_eq!(int(&doc, "pending"), 3);
}

fn check_ok_when_up_to_date(db: &Db) {
    three_tables(db.env);
    db.run(&["upgrade"]).ok();
    db.run(&["check"]).ok();
    let run = db.run(&["check", "--format", "json"]);
    let doc = run.ok().json();
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["problems"], serde_json::json!([]));
}

fn check_lists_pending_versions(db: &Db) {
    three_tables(db.env);
    db.run(&["upgrade", "--to", "1"]).ok();
    db.run(&["check"]).code(1).stdout_has("3 three");
    let run = db.run(&["check", "--format", "json"]);
    run.code(1);
    let doc = run.json();
    assert_eq!(doc["ok"], false, "{doc:#}");
    let problems = doc["problems"].as_array().expect("problems");
    let got: Vec<(String, i64)> = problems
        .iter()
        .map(|p| {
            assert!(
                p["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{p:#}"
            );
            (
                p["kind"].as_str().expect("kind").to_string(),
                p["version"].as_i64().expect("integer version"),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("pending".to_string(), 2), ("pending".to_string(), 3)]
    );
    // check wrote nothing.
    assert_eq!(db.states(), [(1, "applied".to_string())]);
}

fn crlf_and_bom_do_not_modify_history(db: &Db) {
    let lf = "-- a comment\nCREATE TABLE t1 (\n  id INTEGER\n);\n";
    db.migration("0001_one.sql", lf);
    db.run(&["upgrade"]).ok();
    let recorded = db.history()[0].checksum.clone();
    let crlf = format!("\u{feff}{}", lf.replace('\n', "\r\n"));
    db.migration("0001_one.sql", &crlf);
    let run = db.run(&["status", "--format", "json"]);
    let doc = run.ok().json();
    assert_eq!(doc["migrations"][0]["state"], "applied", "{doc:#}");
    assert_eq!(doc["migrations"][0]["checksum"], recorded.as_str());
    db.run(&["check"]).ok();
    let doc = db.run(&["upgrade", "--format", "json"]).ok().json();
    assert_eq!(doc["changed"], false);
    // A real edit still counts.
    db.migration("0001_one.sql", &crlf.replace("INTEGER", "TEXT"));
    db.run(&["check"]).code(1).stdout_has("modified");
}

fn crlf_file_applies(db: &Db) {
    db.migration(
        "0001_one.sql",
        "\u{feff}CREATE TABLE t1 (id INTEGER);\r\nINSERT INTO t1 VALUES (1);\r\n",
    );
    db.run(&["upgrade"]).ok();
    assert_eq!(db.count("t1"), 1);
    assert_eq!(db.history()[0].statements_total, 2);
}

/// Asserts a SQLite file is unchanged, and no journal was left beside it.
#[track_caller]
fn assert_untouched(db: &Db, before: &[u8]) {
    let after = std::fs::read(db.sqlite_path()).expect("database file");
    assert_eq!(after.len(), before.len(), "size of {}", db.url());
    assert!(after == before, "{} changed", db.url());
    let names = db.env.ls(".");
    assert!(
        !names
            .iter()
            .any(|n| n.contains("-journal") || n.contains("-wal")),
        "{names:?}"
    );
}

#[test]
fn status_and_check_on_a_database_without_history_write_nothing() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    three_tables(&env);
    db.exec("CREATE TABLE legacy (x INTEGER); INSERT INTO legacy VALUES (42)");
    let before = std::fs::read(db.sqlite_path()).unwrap();

    let doc = db.run(&["status", "--format", "json"]).ok().json();
    assert_eq!(int(&doc, "pending"), 3, "{doc:#}");
    assert!(doc["current"].is_null());
    db.run(&["status", "-v"]).ok().stdout_has("pending");
    let doc = db.run(&["check", "--format", "json"]).code(1).json();
    // The unmanaged database itself, then the three pending versions.
    assert_eq!(doc["problems"].as_array().map(Vec::len), Some(4), "{doc:#}");
    assert_eq!(doc["problems"][0]["kind"], "unmanaged", "{doc:#}");
    db.run(&["history"]).ok();

    assert_untouched(&db, &before);
    assert_eq!(db.tables(), ["legacy"]);
}

#[test]
fn status_and_check_on_a_missing_database_create_nothing() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    three_tables(&env);
    let doc = db.run(&["status", "--format", "json"]).ok().json();
    assert_eq!(int(&doc, "pending"), 3, "{doc:#}");
    // It says the file does not exist, naming it (issue 29 item 10): a mistyped path is not
    // mistaken for a database with nothing applied.
    assert_eq!(doc["exists"], false, "{doc:#}");
    db.run(&["check"]).code(1);
    db.run(&["status"]).ok().stdout_has(&format!(
        "the database file {} does not exist: nothing is applied; `aurweb-migrate upgrade` creates it",
        db.sqlite_path().display()
    ));
    assert!(!db.exists(), "{} was created", db.url());
    assert_eq!(env.ls("."), ["migrations"], "files appeared");
    db.run(&["upgrade"]).ok();
    let doc = db.run(&["status", "--format", "json"]).ok().json();
    assert_eq!(doc["exists"], true, "{doc:#}");
    let run = db.run(&["status"]);
    run.ok().check(
        !run.stdout.contains("does not exist"),
        "an existing file is not said missing",
    );
}

/// MySQL/MariaDB: a database that does not exist is no database to report on (exit 3, naming
/// it and the command that creates it); one that does says `exists: true`.
#[test]
fn status_on_a_missing_mysql_database_exits_3_naming_it() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    three_tables(&env);
    let doc = db.run(&["status", "--format", "json"]).ok().json();
    assert_eq!(doc["exists"], true, "{doc:#}");
    let url = format!("{}_missing", db.url());
    let name = format!("{}_missing", db.mysql_database());
    env.run(&["status", "--database-url", &url])
        .code(3)
        .stderr_has(&format!("Unknown database '{name}'"))
        .stderr_has("aurweb-migrate database create");
}

#[test]
fn status_works_on_a_read_only_file() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    three_tables(&env);
    db.run(&["upgrade", "--to", "2"]).ok();
    std::fs::set_permissions(db.sqlite_path(), std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = std::fs::read(db.sqlite_path()).unwrap();

    let doc = db.run(&["status", "--format", "json"]).ok().json();
    assert_eq!(int(&doc, "current"), 2, "{doc:#}");
    assert_eq!(int(&doc, "pending"), 1);
    db.run(&["check"]).code(1).stdout_has("3 three");
    db.run(&["status"]).ok().stdout_has("applied");

    assert_untouched(&db, &before);
    let mode = std::fs::metadata(db.sqlite_path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o444);
}

/// A read-only SQLite file (mode 0444), or one in a read-only directory (mode 0555, where the
/// journal would go), with a migration pending: `upgrade`, `downgrade` and `stamp` are refused
/// before any write as a read-only MySQL server is (exit 3, kind `not-writable`), the JSON
/// error document says the version the database is at, and nothing changed. `upgrade` with
/// nothing to do still exits 0, and `status` reads.
#[test]
fn a_read_only_sqlite_file_or_directory_is_not_writable() {
    let env = Env::new();
    env.migration("0001_one.sql", "CREATE TABLE one (id INTEGER);\n");
    env.migration("0001_one.down.sql", "DROP TABLE one;\n");
    let url = format!("sqlite://{}", env.join("db/test.sqlite3").display());
    std::fs::create_dir(env.join("db")).unwrap();
    env.run(&["upgrade", "-d", &url]).ok();
    env.migration("0002_two.sql", "CREATE TABLE two (id INTEGER);\n");
    let file = env.join("db/test.sqlite3");
    let before = std::fs::read(&file).unwrap();
    let cases = [
        (
            env.join("db/test.sqlite3"),
            0o444,
            "the file is read-only (mode 0444)",
        ),
        (env.join("db"), 0o555, "its directory"),
    ];
    for (path, mode, why) in cases {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let run = env.run(&["--format", "json", "upgrade", "-d", &url]);
        let doc = run.code(3).json();
        assert_eq!(doc["error"]["kind"], "not-writable", "{doc:#}");
        assert_eq!(doc["current"], 1, "{doc:#}");
        assert_eq!(doc["applied"], serde_json::json!([]), "{doc:#}");
        env.run(&["upgrade", "-d", &url])
            .code(3)
            .stderr_has(why)
            .stderr_has("nothing was written");
        env.run(&["downgrade", "--to", "0", "-d", &url])
            .code(3)
            .stderr_has(why);
        env.run(&["stamp", "2", "-d", &url]).code(3).stderr_has(why);
        let doc = env
            .run(&["--format", "json", "status", "-d", &url])
            .ok()
            .json();
        assert_eq!(doc["current"], 1, "{doc:#}");
        assert_eq!(doc["pending"], 1, "{doc:#}");
        env.run(&["upgrade", "--to", "1", "-d", &url])
            .ok()
            .stdout_has("nothing to do");
        assert!(std::fs::read(&file).unwrap() == before, "the file changed");
        assert_eq!(env.ls("db"), ["test.sqlite3"], "no journal, no probe left");
        let back = if mode == 0o444 { 0o644 } else { 0o755 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(back)).unwrap();
    }
    env.run(&["upgrade", "-d", &url]).ok();
}

/// A file that is not a SQLite database, or a path that cannot be opened: exit 3, untouched.
#[test]
fn unusable_database_exits_3() {
    let env = Env::new();
    three_tables(&env);
    let bad = env.write("bad.db", "garbage, not a database\n");
    let url = format!("sqlite://{}", bad.display());
    for args in [&["status"][..], &["check"], &["upgrade"]] {
        env.cmd(args)
            .arg("--database-url")
            .arg(&url)
            .run()
            .code(3)
            .stderr_has("bad.db");
    }
    assert_eq!(env.read("bad.db"), b"garbage, not a database\n");
    let missing_dir = format!("sqlite://{}", env.join("no/such/dir/x.db").display());
    env.run(&["upgrade", "--database-url", &missing_dir])
        .code(3);
}

/// What `upgrade` refuses on, `status` and `check` report, from the same decision: a database
/// with tables but no history is a problem (`unmanaged`) naming its tables and the commands
/// that adopt it; `check` fails on it. An empty database is not.
fn a_database_with_tables_but_no_history_is_a_problem(db: &Db) {
    three_tables(db.env);
    db.run(&["status", "--format", "json"]).ok();
    let empty = db.run(&["check", "--format", "json"]).code(1).json();
    assert!(
        empty["problems"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["kind"] == "pending"),
        "an empty database is only behind: {empty:#}"
    );
    db.exec("CREATE TABLE legacy (x INTEGER)");
    db.exec("CREATE TABLE older (x INTEGER)");

    let doc = db.run(&["status", "--format", "json"]).ok().json();
    let problems = doc["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{doc:#}");
    assert_eq!(problems[0]["kind"], "unmanaged", "{doc:#}");
    assert!(problems[0]["version"].is_null(), "{doc:#}");
    let message = problems[0]["message"].as_str().unwrap();
    for needle in [
        "2 table(s) (legacy, older)",
        "adopt --from alembic",
        "baseline VERSION",
    ] {
        assert!(message.contains(needle), "{needle}: {message}");
    }
    db.run(&["status"])
        .ok()
        .stdout_has("unmanaged: the database holds 2 table(s)");

    let doc = db.run(&["check", "--format", "json"]).code(1).json();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["problems"][0]["kind"], "unmanaged", "{doc:#}");
    db.run(&["check"]).code(1).stdout_has(
        "unmanaged: the database holds 2 table(s) (legacy, older) but no migration history",
    );
    // The same reason upgrade refuses with, before anything is written.
    db.run(&["upgrade"])
        .code(5)
        .stderr_has("the database holds 2 table(s) (legacy, older) but no migration history");
    db.run(&["upgrade", "--dry-run"]).code(5);
    assert!(db.history().is_empty());
}
