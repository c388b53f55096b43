//! `upgrade`: applying, idempotence, `--to`, `--dry-run`, `--single-transaction`, failures and
//! `--allow-out-of-order`.

use sha2::{Digest, Sha256};

use crate::each_db;
use crate::support::{int, is_checksum, three_tables, Db};

fn versions(list: &serde_json::Value) -> Vec<i64> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list:#}"))
        .iter()
        .map(|a| {
            a["version"]
                .as_i64()
                .unwrap_or_else(|| panic!("version is not an integer: {a:#}"))
        })
        .collect()
}

/// Three migrations where the third fails on its second statement, on line 3. The third is
/// DML only, so it is one transaction (rolled back) on every dialect.
fn third_fails(db: &Db) {
    db.migration(
        "0001_one.sql",
        "CREATE TABLE t1 (id INTEGER PRIMARY KEY);\n",
    );
    db.migration(
        "0002_two.sql",
        "CREATE TABLE t2 (id INTEGER PRIMARY KEY);\n",
    );
    db.migration(
        "0003_three.sql",
        "INSERT INTO t1 (id) VALUES (1);\n\nINSERT INTO no_such_table VALUES (1);\n",
    );
}

each_db!(
    interrupted_mid_migration_rolls_back_and_says_so,
    interrupted_long_insert_stops_at_once_and_keeps_the_rows,
    applies_everything_and_records_it,
    second_run_is_a_no_op,
    to_stops_at_the_version,
    to_unknown_version_is_a_usage_error,
    dry_run_on_an_existing_database_writes_nothing,
    dry_run_after_partial_upgrade_shows_only_pending,
    single_transaction_of_dml_failure_applies_nothing,
    failure_keeps_earlier_migrations_and_rolls_back_the_failing_one,
    out_of_order_is_refused_unless_allowed,
    upgrade_human_output_lists_each_migration,
    quiet_leaves_only_errors_on_stderr,
    a_refused_history_row_rolls_its_migration_back,
);

/// The history row of a migration that runs in one transaction goes in with its commit
/// (SQLite sends the INSERT and the COMMIT together): when the database refuses the row (here a
/// trigger on the version table), the migration's statements are rolled back with it, no later
/// migration runs, and the error is the tool's own, naming the database's reason. Rows are in
/// the table the migration writes to, and stay as they were.
fn a_refused_history_row_rolls_its_migration_back(db: &Db) {
    use crate::support::TABLE;
    db.migration(
        "0001_seed.sql",
        "CREATE TABLE seed (id INTEGER PRIMARY KEY, name VARCHAR(20));\n",
    );
    db.run(&["upgrade"]).ok();
    db.exec("INSERT INTO seed VALUES (1, 'one'), (2, NULL)");
    db.exec(&if db.is_sqlite() {
        format!(
            "CREATE TRIGGER no_second BEFORE INSERT ON {TABLE} WHEN NEW.version = 2 \
             BEGIN SELECT RAISE(ABORT, 'row 2 refused'); END"
        )
    } else {
        format!(
            "CREATE TRIGGER no_second BEFORE INSERT ON {TABLE} FOR EACH ROW \
             IF NEW.version = 2 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'row 2 refused'; END IF"
        )
    });
    // DML only: one transaction on both dialects.
    db.migration(
        "0002_rows.sql",
        "INSERT INTO seed VALUES (3, 'three');\nUPDATE seed SET name = 'none' WHERE name IS NULL;\nDELETE FROM seed WHERE id = 1;\n",
    );
    db.migration("0003_more.sql", "INSERT INTO seed VALUES (4, 'four');\n");
    let run = db.run(&["upgrade", "--format", "json"]);
    run.code(3).stderr_has("row 2 refused");
    let doc = run.json();
    assert_ne!(doc["error"]["kind"], "migration-failed", "{doc:#}");
    let rows = db.strings("SELECT CONCAT(id, ':', COALESCE(name, 'NULL')) FROM seed ORDER BY id");
    assert_eq!(rows, ["1:one", "2:NULL"]);
    let versions: Vec<i64> = db.history().iter().map(|h| h.version).collect();
    assert_eq!(versions, [1]);
    // Once the database takes the row, the same files apply.
    db.exec("DROP TRIGGER no_second");
    db.run(&["upgrade"]).ok();
    let rows = db.strings("SELECT CONCAT(id, ':', COALESCE(name, 'NULL')) FROM seed ORDER BY id");
    assert_eq!(rows, ["2:none", "3:three", "4:four"]);
    let versions: Vec<i64> = db.history().iter().map(|h| h.version).collect();
    assert_eq!(versions, [1, 2, 3]);
}

/// SIGINT (and SIGTERM) while a long INSERT … SELECT writes rows into a table that already has
/// some: the tool stops within 2 s of the signal (SQLite: the statement is interrupted, not
/// waited for, and the tool's own rolling-back write lock is not blamed on "another
/// connection"), says the migration was rolled back and is pending, and the rows that were
/// there before are all that is left. Once as the migration's only statement, once after
/// twenty others (SQLite runs many statements on the connection's handle directly).
fn interrupted_long_insert_stops_at_once_and_keeps_the_rows(db: &Db) {
    db.migration("0001_big.sql", "CREATE TABLE big (n INTEGER);\n");
    db.run(&["upgrade"]).ok();
    db.exec("INSERT INTO big (n) VALUES (1), (2), (3)");
    let slow = if db.is_sqlite() {
        "INSERT INTO big (n) WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 200000000) SELECT n FROM c;"
    } else {
        "INSERT INTO big (n) SELECT 4 FROM (SELECT SLEEP(20)) AS s;"
    };
    let many: String = (0..20)
        .map(|_| "INSERT INTO big (n) VALUES (0);\n")
        .collect();
    for (signal, code, before) in [("INT", 130, String::new()), ("TERM", 143, many)] {
        db.migration("0002_fill.sql", &format!("{before}{slow}\n"));
        let mut child = db.cmd(&["upgrade", "--no-probes"]).spawn();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            assert!(!child.has_exited(), "the tool finished before the signal");
            assert!(
                std::time::Instant::now() < deadline,
                "the slow statement never ran"
            );
            let running = if db.is_mysql() {
                db.scalar(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
                     WHERE DB = DATABASE() AND INFO LIKE 'INSERT INTO big (n) SELECT%'",
                ) > 0
            } else {
                // The journal exists once the write began; give it time to spill the cache
                // to the file (an exclusive lock that readers wait for).
                let started = db.env.exists("test.sqlite3-journal");
                if started {
                    std::thread::sleep(std::time::Duration::from_millis(1500));
                }
                started
            };
            if running {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let signalled = std::time::Instant::now();
        let sent = std::process::Command::new("kill")
            .args([format!("-{signal}"), child.pid().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
        let run = child.wait();
        run.code(code)
            .stderr_has(&format!("interrupted by SIG{signal}"))
            .stderr_has("rolled back")
            .stderr_has("at version 1, 1 pending")
            .nowhere("another connection");
        run.check(
            signalled.elapsed() < std::time::Duration::from_secs(2),
            "stopped within 2 s of the signal, without waiting for the statement",
        );
        assert_eq!(
            db.strings("SELECT CAST(n AS CHAR) FROM big ORDER BY n"),
            ["1", "2", "3"],
            "the rows from before, and nothing of the migration"
        );
        assert_eq!(db.states(), [(1, "applied".to_string())]);
    }
}

fn applies_everything_and_records_it(db: &Db) {
    three_tables(db.env);
    let run = db.run(&["upgrade", "--format", "json"]);
    run.ok();
    let doc = run.json();
    assert_eq!(doc["changed"], true, "{doc:#}");
    assert_eq!(versions(&doc["applied"]), [1, 2, 3]);
    assert_eq!(int(&doc, "current"), 3);
    assert_eq!(doc["applied"][0]["description"], "one");
    assert!(doc["applied"][0]["execution_ms"].is_u64(), "{doc:#}");

    db.assert_tables(&["t1", "t2", "t3"]);
    let history = db.history();
    assert_eq!(history.len(), 3, "{history:#?}");
    for (row, (version, description, file)) in history.iter().zip([
        (1, "one", "0001_one.sql"),
        (2, "two", "0002_two.sql"),
        (3, "three", "0003_three.sql"),
    ]) {
        assert_eq!(row.version, version);
        assert_eq!(row.description, description);
        assert_eq!(row.state, "applied");
        assert!(is_checksum(&row.checksum), "{}", row.checksum);
        let expected = format!(
            "sha256-v1:{:x}",
            Sha256::digest(db.env.read(format!("migrations/{file}")))
        );
        assert_eq!(row.checksum, expected, "checksum of {file}");
        assert_eq!((row.statements_done, row.statements_total), (1, 1));
        assert_eq!(row.error_text, None);
        assert!(
            row.applied_by.starts_with("it-user@") && row.applied_by.len() > "it-user@".len(),
            "applied_by {:?}",
            row.applied_by
        );
        assert_eq!(row.tool_version, env!("CARGO_PKG_VERSION"));
        assert!(row.execution_ms >= 0);
        assert!(
            row.applied_at.len() >= 20 && row.applied_at.ends_with('Z'),
            "applied_at is UTC RFC 3339: {:?}",
            row.applied_at
        );
    }
}

fn second_run_is_a_no_op(db: &Db) {
    three_tables(db.env);
    db.run(&["upgrade"]).ok();
    let before = db.history();
    let run = db.run(&["upgrade", "--format", "json"]);
    run.ok();
    let doc = run.json();
    assert_eq!(doc["changed"], false, "{doc:#}");
    assert_eq!(doc["applied"], serde_json::json!([]));
    assert_eq!(int(&doc, "current"), 3);
    assert_eq!(db.history(), before, "a no-op run rewrote history");
    db.run(&["upgrade"]).ok().stdout_has("nothing to do");
}

fn to_stops_at_the_version(db: &Db) {
    three_tables(db.env);
    let run = db.run(&["upgrade", "--to", "2", "--format", "json"]);
    run.ok();
    let doc = run.json();
    assert_eq!(versions(&doc["applied"]), [1, 2]);
    assert_eq!(int(&doc, "current"), 2);
    db.assert_tables(&["t1", "t2"]);
    assert_eq!(
        db.states(),
        [(1, "applied".to_string()), (2, "applied".to_string())]
    );
    // The rest follows later.
    db.run(&["upgrade"]).ok();
    db.assert_tables(&["t1", "t2", "t3"]);
}

fn to_unknown_version_is_a_usage_error(db: &Db) {
    three_tables(db.env);
    db.run(&["upgrade", "--to", "7"]).code(2).stderr_has("7");
    assert!(db.tables().is_empty(), "{:?}", db.tables());
    if db.is_sqlite() {
        assert!(!db.exists(), "the database was created");
    }
}

fn dry_run_on_an_existing_database_writes_nothing(db: &Db) {
    three_tables(db.env);
    db.run(&["upgrade", "--to", "1"]).ok();
    let before = db.tables();
    let run = db.run(&["upgrade", "--dry-run"]);
    run.ok()
        .stdout_has("CREATE TABLE t2")
        .stdout_has("CREATE TABLE t3");
    assert!(!run.stdout.contains("CREATE TABLE t1"), "{}", run.stdout);
    assert_eq!(db.tables(), before, "dry run changed the database");
    assert_eq!(db.states(), [(1, "applied".to_string())]);
}

fn dry_run_after_partial_upgrade_shows_only_pending(db: &Db) {
    three_tables(db.env);
    db.run(&["upgrade", "--to", "1"]).ok();
    let run = db.run(&["upgrade", "--dry-run", "--format", "json"]);
    run.ok();
    let doc = run.json();
    assert_eq!(versions(&doc["pending"]), [2, 3], "{doc:#}");
    assert_eq!(doc["changed"], false);
    run.check(
        !run.stdout.contains("t1 ("),
        "applied migration 1 listed again",
    );
    assert_eq!(db.states(), [(1, "applied".to_string())]);
    db.assert_tables(&["t1"]);
}

/// Portable: after a DDL migration, two DML-only ones run as one transaction and the
/// failure of the second undoes the first.
fn single_transaction_of_dml_failure_applies_nothing(db: &Db) {
    db.migration(
        "0001_one.sql",
        "CREATE TABLE t1 (id INTEGER PRIMARY KEY);\n",
    );
    db.run(&["upgrade"]).ok();
    db.migration("0002_two.sql", "INSERT INTO t1 (id) VALUES (2);\n");
    db.migration(
        "0003_three.sql",
        "INSERT INTO t1 (id) VALUES (3);\n\nINSERT INTO no_such_table VALUES (1);\n",
    );
    db.run(&["upgrade", "--single-transaction"])
        .code(4)
        .stderr_has("0003_three.sql:3");
    assert_eq!(db.count("t1"), 0, "2 was not rolled back");
    assert_eq!(db.states(), [(1, "applied".to_string())]);
    db.migration("0003_three.sql", "INSERT INTO t1 (id) VALUES (3);\n");
    db.run(&["upgrade", "--single-transaction"]).ok();
    assert_eq!(
        db.strings("SELECT CAST(id AS CHAR) FROM t1 ORDER BY id"),
        ["2", "3"]
    );
    assert_eq!(db.history().len(), 3);
}

fn failure_keeps_earlier_migrations_and_rolls_back_the_failing_one(db: &Db) {
    third_fails(db);
    let run = db.run(&["upgrade"]);
    run.code(4)
        .stderr_has("0003_three.sql:3:")
        .stderr_has("no_such_table");
    db.assert_tables(&["t1", "t2"]);
    assert_eq!(db.count("t1"), 0, "3 was rolled back");
    assert_eq!(
        db.states(),
        [(1, "applied".to_string()), (2, "applied".to_string())]
    );
    let status = db.run(&["status", "--format", "json"]);
    status.ok();
    let doc = status.json();
    assert_eq!(doc["migrations"][2]["state"], "pending", "{doc:#}");
    assert_eq!(int(&doc, "pending"), 1);
}

fn out_of_order_is_refused_unless_allowed(db: &Db) {
    db.migration("0001_one.sql", "CREATE TABLE t1 (id INTEGER);\n");
    db.migration("0003_three.sql", "CREATE TABLE t3 (id INTEGER);\n");
    db.run(&["upgrade"]).ok();
    db.migration("0002_two.sql", "CREATE TABLE t2 (id INTEGER);\n");
    db.run(&["upgrade"])
        .code(5)
        .stderr_has("out-of-order")
        .stderr_has("2 two");
    db.assert_tables(&["t1", "t3"]);
    db.run(&["check"]).code(1);
    let run = db.run(&["upgrade", "--allow-out-of-order", "--format", "json"]);
    run.ok();
    assert_eq!(versions(&run.json()["applied"]), [2]);
    db.assert_tables(&["t1", "t2", "t3"]);
    let v: Vec<i64> = db.history().iter().map(|r| r.version).collect();
    assert_eq!(v, [1, 2, 3]);
}

fn upgrade_human_output_lists_each_migration(db: &Db) {
    three_tables(db.env);
    let run = db.run(&["upgrade"]);
    run.ok()
        .stdout_has("1  one")
        .stdout_has("2  two")
        .stdout_has("3  three")
        .stdout_has("database is at version 3");
    db.migration("0004_four.sql", "CREATE TABLE t4 (id INTEGER);\n");
    let quiet = db.run(&["upgrade", "-q"]);
    quiet
        .ok()
        .check(quiet.stdout.is_empty(), "-q prints nothing on success");
    assert!(db.has_table("t4"));
}

/// `-q`: only errors go to stderr (issue 29 item 10). A pending statement that fails on the
/// rehearsal's empty copy (MAX of no rows is NULL) makes `upgrade --dry-run` warn; with `-q`
/// it says nothing, nor does any other command; on MySQL/MariaDB a statement cancelled by
/// `--statement-timeout` (a log warning) leaves only the error.
fn quiet_leaves_only_errors_on_stderr(db: &Db) {
    db.migration(
        "0001_tables.sql",
        "CREATE TABLE big (n INTEGER NOT NULL);\nCREATE TABLE totals (n INTEGER NOT NULL);\nINSERT INTO big (n) VALUES (1);\nINSERT INTO big (n) VALUES (2);\n",
    );
    db.run(&["upgrade"]).ok();
    db.migration(
        "0002_total.sql",
        "INSERT INTO totals (n) SELECT MAX(n) FROM big;\n",
    );
    db.run(&["upgrade", "--dry-run"])
        .ok()
        .stderr_has("warning: the rehearsal of the pending statements");
    let silent = |args: &[&str]| {
        let run = db.run(args);
        run.check(run.stderr.is_empty(), "-q: nothing on stderr but errors");
        run
    };
    silent(&["upgrade", "--dry-run", "-q"]).ok();
    silent(&["upgrade", "--dry-run", "--no-probes", "-q"]).ok();
    silent(&["status", "-q"]).ok();
    silent(&["check", "-q"]).code(1);
    silent(&["upgrade", "-q"]).ok();
    assert_eq!(db.count("totals"), 1);
    if db.is_mysql() {
        db.migration("0003_slow.sql", "SELECT SLEEP(5);\n");
        let run = db.run(&["upgrade", "-q", "--no-probes", "--statement-timeout", "1"]);
        run.code(4).stderr_has("error: ");
        for line in run.stderr.lines() {
            run.check(
                !line.contains("WARN") && !line.starts_with("warning"),
                &format!("-q: a warning on stderr: {line}"),
            );
        }
    }
}

/// SQLite: a dry run against a missing file creates nothing.
#[test]
fn dry_run_does_not_create_a_missing_database() {
    let env = crate::support::Env::new();
    let db = Db::sqlite(&env);
    three_tables(&env);
    db.run(&["upgrade", "--dry-run"])
        .ok()
        .stdout_has("CREATE TABLE t1");
    assert!(!db.exists(), "dry run created {}", db.url());
}

/// SQLite: a dry run leaves an existing file byte-identical.
#[test]
fn dry_run_leaves_the_file_byte_identical() {
    let env = crate::support::Env::new();
    let db = Db::sqlite(&env);
    three_tables(&env);
    db.run(&["upgrade", "--to", "1"]).ok();
    db.exec("INSERT INTO t1 VALUES (1)");
    let before = std::fs::read(db.sqlite_path()).unwrap();
    db.run(&["upgrade", "--dry-run", "--format", "json"]).ok();
    assert_eq!(std::fs::read(db.sqlite_path()).unwrap(), before);
}

/// SQLite: DDL is transactional, so a whole run of table-creating migrations is one
/// transaction and a failure leaves nothing.
#[test]
fn single_transaction_failure_applies_nothing() {
    let env = crate::support::Env::new();
    let db = Db::sqlite(&env);
    third_fails(&db);
    let run = db.run(&["upgrade", "--single-transaction"]);
    run.code(4).stderr_has("0003_three.sql:3");
    db.assert_tables(&[]);
    assert!(db.history().is_empty(), "{:#?}", db.history());
    // Fixed, the whole run goes through as one.
    db.migration(
        "0003_three.sql",
        "CREATE TABLE t3 (id INTEGER PRIMARY KEY);\n",
    );
    db.run(&["upgrade", "--single-transaction"]).ok();
    db.assert_tables(&["t1", "t2", "t3"]);
    assert_eq!(db.history().len(), 3);
}

/// MySQL: DDL commits implicitly, so `--single-transaction` refuses a run holding any, before
/// running anything, naming the first such file.
#[test]
fn single_transaction_with_ddl_is_refused_on_mysql() {
    let env = crate::support::Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    third_fails(&db);
    db.run(&["upgrade", "--single-transaction"])
        .code(2)
        .stderr_has("0001_one.sql")
        .stderr_has("implicit");
    assert!(db.tables().is_empty(), "{:?}", db.tables());
}

/// SIGTERM (and SIGINT, exit 130) in the middle of a migration: the tool stops the statement,
/// rolls its transaction back, releases the lock, says what state the database is in, and
/// exits 143; the next run applies the migration from the start.
fn interrupted_mid_migration_rolls_back_and_says_so(db: &Db) {
    db.migration("0001_log.sql", "CREATE TABLE log (n INTEGER);\n");
    db.run(&["upgrade"]).ok();
    let slow = if db.is_sqlite() {
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 30000000) SELECT count(*) FROM c;"
    } else {
        "SELECT SLEEP(20);"
    };
    db.migration(
        "0002_slow.sql",
        &format!("INSERT INTO log VALUES (1);\n{slow}\nINSERT INTO log VALUES (2);\n"),
    );
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        // No rehearsal: the slow statement would run in its scratch database first.
        let mut child = db.cmd(&["upgrade", "--no-probes"]).spawn();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            assert!(!child.has_exited(), "the tool finished before the signal");
            assert!(
                std::time::Instant::now() < deadline,
                "the slow statement never ran"
            );
            let running = if db.is_mysql() {
                db.scalar(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
                     WHERE DB = DATABASE() AND INFO LIKE 'SELECT SLEEP%'",
                ) > 0
            } else {
                std::thread::sleep(std::time::Duration::from_millis(700));
                true
            };
            if running {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let signalled = std::time::Instant::now();
        let sent = std::process::Command::new("kill")
            .args([format!("-{signal}"), child.pid().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
        let run = child.wait();
        run.code(code)
            .stderr_has(&format!("interrupted by SIG{signal}"))
            .stderr_has("rolled back")
            .stderr_has("at version 1, 1 pending");
        // The statement alone runs for seconds (SQLite: about 4 s in the sqlite3 shell; MySQL:
        // 20 s): the tool stops without waiting for it.
        run.check(
            signalled.elapsed() < std::time::Duration::from_secs(2),
            "stopped within 2 s of the signal, without waiting for the statement",
        );
        assert_eq!(db.count("log"), 0, "nothing of the migration is left");
        assert_eq!(db.states(), [(1, "applied".to_string())]);
    }
    // The lock is free again and the migration runs from its start.
    db.migration(
        "0002_slow.sql",
        "INSERT INTO log VALUES (1);\nINSERT INTO log VALUES (2);\n",
    );
    db.run(&["upgrade", "--lock-timeout", "1"]).ok();
    assert_eq!(db.count("log"), 2);
}
