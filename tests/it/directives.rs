//! File directives and the statements a transactional migration may not contain.

use crate::each_db;
use crate::support::{Db, Env};

each_db!(
    comment_only_migration_is_recorded,
    transaction_control_in_a_transactional_migration_is_an_input_error,
    no_transaction_migration_runs_each_statement,
);

fn comment_only_migration_is_recorded(db: &Db) {
    db.migration("0001_one.sql", "CREATE TABLE t1 (id INTEGER);\n");
    db.migration(
        "0002_nothing.sql",
        "-- Deliberately empty: version 2 was a hotfix applied by hand.\n/* see ticket 42 */\n",
    );
    db.run(&["upgrade"]).ok();
    let h = db.history();
    assert_eq!(h.len(), 2, "{h:#?}");
    assert_eq!(h[1].version, 2);
    assert_eq!(h[1].state, "applied");
    assert_eq!((h[1].statements_done, h[1].statements_total), (0, 0));
    db.run(&["check"]).ok();
}

fn transaction_control_in_a_transactional_migration_is_an_input_error(db: &Db) {
    let cases = [
        (
            "0001_begin.sql",
            "CREATE TABLE a (x INTEGER);\nBEGIN;\nCREATE TABLE b (x INTEGER);\n",
            2,
        ),
        (
            "0002_commit.sql",
            "CREATE TABLE c (x INTEGER);\n\nCOMMIT;\n",
            3,
        ),
        ("0003_rollback.sql", "ROLLBACK;\n", 1),
        ("0004_savepoint.sql", "SELECT 1;\nSAVEPOINT s;\n", 2),
        (
            "0005_pragma.sql",
            "SELECT 1;\nSELECT 2;\nPRAGMA foreign_keys = OFF;\n",
            3,
        ),
        ("0006_tx.sql", "START TRANSACTION;\n", 1),
    ];
    for (name, sql, _) in cases {
        db.migration(name, sql);
    }
    let run = db.run(&["upgrade"]);
    run.code(2);
    // Every offending file is listed, with the statement's line. On MySQL a file holding DDL
    // runs in steps anyway, so its BEGIN and COMMIT only end a group there (0001, 0002).
    for (name, _, line) in cases {
        let stepwise_on_mysql = name.starts_with("0001") || name.starts_with("0002");
        if db.is_mysql() && stepwise_on_mysql {
            run.check(
                !run.stderr.contains(name),
                "a stepwise MySQL file may COMMIT",
            );
        } else {
            run.stderr_has(&format!("{name}:{line}"));
        }
    }
    assert!(db.tables().is_empty(), "{:?}", db.tables());
}

fn no_transaction_migration_runs_each_statement(db: &Db) {
    db.migration(
        "0001_nt.sql",
        "-- aurweb-migrate: no-transaction\nCREATE TABLE a (x INTEGER);\nINSERT INTO a VALUES (1);\n",
    );
    db.run(&["upgrade"]).ok();
    assert_eq!(db.count("a"), 1);
    let h = db.history();
    assert_eq!((h[0].state.as_str(), h[0].statements_done), ("applied", 2));
    // Plain DML, so that only 3 stands in the way of a single transaction on every dialect
    // (on MySQL, DDL in 2 would be refused first).
    db.migration("0002_two.sql", "INSERT INTO a VALUES (2);\n");
    db.migration(
        "0003_nt.sql",
        "-- aurweb-migrate: no-transaction\nCREATE TABLE c (x INTEGER);\n",
    );
    // A no-transaction migration cannot join a single transaction: refused before running.
    db.run(&["upgrade", "--single-transaction"])
        .code(2)
        .stderr_has("0003_nt.sql");
    assert_eq!(db.count("a"), 1, "2 ran");
    assert!(!db.has_table("c"));
}

/// Parent/child tables with rows; the child references the parent.
fn parent_child(db: &Db) {
    db.migration(
        "0001_init.sql",
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n\
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent (id));\n\
         INSERT INTO parent (id) VALUES (1), (2);\n\
         INSERT INTO child (id, parent_id) VALUES (10, 1), (20, 2);\n",
    );
    db.run(&["upgrade"]).ok();
}

/// The SQLite way of changing a table: build a new one, copy, drop the old, rename.
const REBUILD: &str =
    "CREATE TABLE parent_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT 'unnamed');\n\
INSERT INTO parent_new (id) SELECT id FROM parent;\n\
DROP TABLE parent;\n\
ALTER TABLE parent_new RENAME TO parent;\n";

#[test]
fn foreign_keys_off_lets_a_table_rebuild_run() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    parent_child(&db);
    // Without the directive, enforcement is on and dropping the referenced table fails.
    db.migration("0002_rebuild.sql", REBUILD);
    db.run(&["upgrade"])
        .code(4)
        .stderr_has("0002_rebuild.sql:3");
    db.assert_tables(&["child", "parent"]);
    assert_eq!(db.history().len(), 1);

    db.migration(
        "0002_rebuild.sql",
        &format!("-- aurweb-migrate: foreign-keys off\n{REBUILD}"),
    );
    db.run(&["upgrade"]).ok();
    db.assert_tables(&["child", "parent"]);
    assert_eq!(
        db.strings("SELECT name FROM parent ORDER BY id"),
        ["unnamed", "unnamed"]
    );
    assert_eq!(db.count("child"), 2);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM pragma_foreign_key_check"),
        0
    );
    assert_eq!(db.states(), [(1, "applied".into()), (2, "applied".into())]);

    // Enforcement is back on for the next migration.
    db.migration(
        "0003_orphan.sql",
        "INSERT INTO child (id, parent_id) VALUES (30, 99);\n",
    );
    db.run(&["upgrade"]).code(4).stderr_has("0003_orphan.sql:1");
    assert_eq!(db.count("child"), 2);
}

#[test]
fn foreign_keys_off_with_a_dangling_reference_is_rolled_back() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    parent_child(&db);
    db.migration(
        "0002_lossy.sql",
        "-- aurweb-migrate: foreign-keys off\n\
         CREATE TABLE parent_new (id INTEGER PRIMARY KEY);\n\
         INSERT INTO parent_new (id) SELECT id FROM parent WHERE id = 1;\n\
         DROP TABLE parent;\n\
         ALTER TABLE parent_new RENAME TO parent;\n",
    );
    db.run(&["upgrade"]).code(4).stderr_has("foreign key");
    assert_eq!(
        db.strings("SELECT CAST(id AS TEXT) FROM parent ORDER BY id"),
        ["1", "2"]
    );
    db.assert_tables(&["child", "parent"]);
    assert_eq!(db.states(), [(1, "applied".into())]);
    let doc = db.run(&["status", "--format", "json"]).ok().json();
    assert_eq!(doc["migrations"][1]["state"], "pending", "{doc:#}");
}
