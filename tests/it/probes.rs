//! The probes of the live rows (`upgrade`, `upgrade --dry-run`): a pending statement that adds
//! a key the live rows duplicate, or a NOT NULL their NULLs break, is found before anything
//! runs; the dry run lists it and the real run refuses (exit 7), leaving the migration pending
//! and the rows as they were.

use crate::each_db;
use crate::support::Db;

each_db!(
    duplicates_of_a_new_unique_key_are_listed_and_refused,
    a_migration_that_deletes_the_duplicates_first_runs,
    an_earlier_pending_migration_that_deletes_the_duplicates_runs,
    nulls_of_a_new_not_null_are_refused,
    no_probes_lets_the_statement_run_and_fail,
);

fn base(db: &Db) {
    db.migration(
        "0001_base.sql",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b VARCHAR(20));\n",
    );
    db.run(&["upgrade"]).ok();
    db.exec(
        "INSERT INTO t (id, a, b) VALUES (1, 1, 'x'), (2, 1, 'x'), (3, 2, NULL), (4, 2, NULL), (5, 3, 'y')",
    );
}

/// The rows of `t`, as text.
fn rows(db: &Db) -> Vec<String> {
    let row = if db.is_sqlite() {
        "id || ':' || a || ':' || COALESCE(b, 'NULL')"
    } else {
        "CONCAT(id, ':', a, ':', COALESCE(b, 'NULL'))"
    };
    db.strings(&format!("SELECT {row} FROM t ORDER BY id"))
}

fn duplicates_of_a_new_unique_key_are_listed_and_refused(db: &Db) {
    base(db);
    // (2, NULL) twice is no duplicate: the key allows NULLs.
    db.migration(
        "0002_key.sql",
        "-- the key\nCREATE UNIQUE INDEX t_a_b ON t (a, b);\n",
    );
    let before = rows(db);
    db.run(&["upgrade", "--dry-run"])
        .code(7)
        .stdout_has("-- violation: ")
        .stdout_has("0002_key.sql:2: 1 value(s) of (a, b) occur more than once in t")
        .stdout_has("for example: (1, x)");
    let doc = db
        .run(&["upgrade", "--dry-run", "--format", "json"])
        .code(7)
        .json();
    let v = &doc["violations"];
    assert_eq!(v.as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(v[0]["version"], 2);
    assert_eq!(v[0]["line"], 2);
    assert_eq!(v[0]["table"], "t");
    assert_eq!(v[0]["rule"], "unique-key");
    assert_eq!(v[0]["columns"], serde_json::json!(["a", "b"]));
    assert_eq!(v[0]["count"], 1);
    assert_eq!(v[0]["sample"], serde_json::json!(["1, x"]));

    let run = db.run(&["upgrade"]);
    run.code(7)
        .stderr_has("refusing to upgrade")
        .stderr_has("0002_key.sql:2: 1 value(s) of (a, b)")
        .stderr_has("--no-probes");
    let doc = db.run(&["upgrade", "--format", "json"]).code(7).json();
    assert_eq!(doc["error"]["kind"], "data-violation", "{doc:#}");
    assert_eq!(doc["error"]["exit_code"], 7, "{doc:#}");
    assert_eq!(rows(db), before, "the refused run changed the rows");
    assert_eq!(db.states(), [(1, "applied".to_string())]);
}

fn a_migration_that_deletes_the_duplicates_first_runs(db: &Db) {
    base(db);
    db.migration(
        "0002_key.sql",
        "DELETE FROM t WHERE id = 2;\nCREATE UNIQUE INDEX t_a_b ON t (a, b);\n",
    );
    let doc = db.run(&["upgrade", "--dry-run", "--format", "json"]).json();
    assert_eq!(doc["violations"], serde_json::json!([]), "{doc:#}");
    assert_eq!(doc["tightenings"].as_array().unwrap().len(), 1, "{doc:#}");
    db.run(&["upgrade"]).ok();
    assert_eq!(
        db.states(),
        [(1, "applied".to_string()), (2, "applied".to_string())]
    );
    assert_eq!(db.count("t"), 4);
}

fn an_earlier_pending_migration_that_deletes_the_duplicates_runs(db: &Db) {
    base(db);
    db.migration("0002_clean.sql", "DELETE FROM t WHERE id = 2;\n");
    db.migration("0003_key.sql", "CREATE UNIQUE INDEX t_a_b ON t (a, b);\n");
    db.run(&["upgrade"]).ok();
    assert_eq!(db.states().len(), 3);
    assert_eq!(db.count("t"), 4);
}

fn nulls_of_a_new_not_null_are_refused(db: &Db) {
    base(db);
    if db.is_sqlite() {
        // SQLite makes a column NOT NULL only by rebuilding the table, whose statements name
        // it first: not probed (the copy's INSERT fails as before).
        db.migration(
            "0002_not_null.sql",
            "CREATE TABLE t_new (id INTEGER PRIMARY KEY, a INT, b VARCHAR(20) NOT NULL);\n\
             INSERT INTO t_new SELECT id, a, b FROM t;\n\
             DROP TABLE t;\n\
             ALTER TABLE t_new RENAME TO t;\n",
        );
        let doc = db.run(&["upgrade", "--dry-run", "--format", "json"]).json();
        assert_eq!(doc["violations"], serde_json::json!([]), "{doc:#}");
        db.run(&["upgrade"]).code(4);
        return;
    }
    db.migration(
        "0002_not_null.sql",
        "ALTER TABLE t MODIFY b VARCHAR(20) NOT NULL;\n",
    );
    let before = rows(db);
    let doc = db
        .run(&["upgrade", "--dry-run", "--format", "json"])
        .code(7)
        .json();
    let v = &doc["violations"];
    assert_eq!(v[0]["rule"], "not-null", "{doc:#}");
    assert_eq!(v[0]["columns"], serde_json::json!(["b"]));
    assert_eq!(v[0]["count"], 2);
    assert_eq!(v[0]["sample"], serde_json::json!(["3", "4"]));
    db.run(&["upgrade"])
        .code(7)
        .stderr_has("2 row(s) of t hold NULL in b")
        .stderr_has("for example: (3) (4)");
    assert_eq!(rows(db), before);
    assert_eq!(db.states(), [(1, "applied".to_string())]);
}

fn no_probes_lets_the_statement_run_and_fail(db: &Db) {
    base(db);
    db.migration("0002_key.sql", "CREATE UNIQUE INDEX t_a_b ON t (a, b);\n");
    db.run(&["upgrade", "--dry-run", "--no-probes"])
        .ok()
        .stderr_has("--no-probes: the pending statements are not rehearsed");
    db.run(&["upgrade", "--no-probes"])
        .code(4)
        .stderr_has("--no-probes: the pending statements are not rehearsed");
}

/// SQLite: the real upgrade rehearses (in memory) and probes when something is pending, and a
/// no-op upgrade does neither (its debug log has no rehearsal or probes line).
#[test]
fn a_no_op_upgrade_does_not_rehearse() {
    let env = crate::support::Env::new();
    let db = Db::sqlite(&env);
    base(&db);
    let debug = |args: &[&str]| db.cmd(args).env("RUST_LOG", "aurweb_migrate=debug").run();
    let noop = debug(&["upgrade"]);
    noop.ok();
    assert!(!noop.stderr.contains("rehearsal"), "{}", noop.stderr);
    assert!(!noop.stderr.contains("probes"), "{}", noop.stderr);
    db.migration("0002_index.sql", "CREATE INDEX t_a ON t (a);\n");
    debug(&["upgrade"])
        .ok()
        .stderr_has("rehearsal tables=")
        .stderr_has("probes tightenings=0");
}
