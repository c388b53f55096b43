//! File directives and the statements a transactional migration may not contain.

use crate::each_db;
use crate::support::{Db, Env};

each_db!(
    comment_only_migration_is_refused_unless_marked_empty,
    comment_only_reverse_file_is_refused_unless_marked_empty,
    an_applied_empty_migration_gains_its_statements_in_a_new_one,
    upgrade_to_minds_review_markers_up_to_it_only,
    transaction_control_in_a_transactional_migration_is_an_input_error,
    no_transaction_migration_runs_each_statement,
);

/// Issue 29 item 6: a migration with no statements (here `new`'s unedited template) is not
/// recorded as a silent no-op: `upgrade` (also `--dry-run`, `--sql`, JSON) and `check` refuse
/// it, exit 2, naming the file and the way out; `status` warns; a run to a version before it
/// is not held up. Marked `-- aurweb-migrate: empty`, it is recorded like any other.
fn comment_only_migration_is_refused_unless_marked_empty(db: &Db) {
    db.migration("0001_one.sql", "CREATE TABLE t1 (id INTEGER);\n");
    let new = db.run(&["new", "nothing yet"]);
    new.ok().stdout_has("migrations/0002_nothing_yet.sql");
    let file = "migrations/0002_nothing_yet.sql";
    let refusal = format!(
        "error: {file}: no statements (only comments and whitespace), so it would be recorded as applied without doing anything; write its statements, or, if it is meant to do nothing (on this dialect), add the line `-- aurweb-migrate: empty` to its header"
    );
    for args in [
        &["upgrade"][..],
        &["upgrade", "-q"],
        &["upgrade", "--dry-run"],
        &["upgrade", "--sql", "--dialect", db.dialect()],
        &["check"],
    ] {
        db.run(args).code(2).stderr_has(&refusal);
    }
    let doc = db.run(&["upgrade", "--format", "json"]).code(2).json();
    assert_eq!(doc["error"]["kind"], "input", "{doc:#}");
    assert_eq!(doc["error"]["file"], file, "{doc:#}");
    assert!(!db.has_table("t1"), "nothing ran");
    // status says so, and still exits 0.
    db.run(&["status"]).ok().stderr_has(&format!(
        "warning: {file}: no statements (only comments and whitespace)"
    ));
    // A run that stops before it is not held up.
    db.run(&["upgrade", "--to", "1"]).ok();
    assert!(db.has_table("t1"));
    db.run(&["upgrade"]).code(2).stderr_has(&refusal);
    assert_eq!(db.history().len(), 1);

    // Meant to do nothing: said with the directive, and recorded.
    let template = String::from_utf8(db.env.read(file)).unwrap();
    db.env
        .write(file, format!("-- aurweb-migrate: empty\n{template}"));
    let run = db.run(&["status"]);
    run.ok();
    assert!(!run.stderr.contains("no statements"), "{}", run.stderr);
    db.run(&["upgrade"]).ok();
    let h = db.history();
    assert_eq!(h.len(), 2, "{h:#?}");
    assert_eq!((h[1].version, h[1].state.as_str()), (2, "applied"));
    assert_eq!((h[1].statements_done, h[1].statements_total), (0, 0));
    db.run(&["check"]).ok();
}

/// A reverse file with no statements (an unedited template) would let `downgrade` remove the
/// version's row while its change stays: `downgrade` (also `--dry-run` and `--sql`) refuses
/// it, exit 2, naming the file; nothing is reverted. Marked empty, it runs.
fn comment_only_reverse_file_is_refused_unless_marked_empty(db: &Db) {
    db.migration(
        "0001_t.sql",
        "CREATE TABLE t (id INTEGER);\nINSERT INTO t VALUES (1), (2);\n",
    );
    db.migration("0001_t.down.sql", "DROP TABLE t;\n");
    db.migration("0002_more.sql", "INSERT INTO t VALUES (3);\n");
    let file = "migrations/0002_more.down.sql";
    db.migration("0002_more.down.sql", "-- Write the reverse here.\n");
    db.run(&["upgrade"]).ok();
    let refusal = format!(
        "error: {file}: no statements (only comments and whitespace), so `downgrade` would remove the version's history row without undoing anything"
    );
    for args in [
        &["downgrade"][..],
        &["downgrade", "--to", "0"],
        &["downgrade", "--dry-run"],
        &[
            "downgrade",
            "--sql",
            "--from",
            "2",
            "--dialect",
            db.dialect(),
        ],
    ] {
        db.run(args).code(2).stderr_has(&refusal);
    }
    assert_eq!(db.history().len(), 2, "nothing reverted");
    assert_eq!(db.count("t"), 3);
    // Meant to revert nothing: said with the directive, and it runs.
    db.env.write(
        file,
        "-- The row stays on purpose.\n-- aurweb-migrate: empty\n",
    );
    db.run(&["downgrade"]).ok();
    assert_eq!(db.history().len(), 1);
    assert_eq!(db.count("t"), 3, "the empty reverse left the rows");
    db.run(&["downgrade", "--to", "0"]).ok();
    assert!(!db.has_table("t"));
}

/// An applied migration without statements that gains some: the directive then contradicts
/// the file (exit 2), and without it the file is `modified` (exit 5), the refusal saying to
/// restore it and put the change in a new migration; that way works.
fn an_applied_empty_migration_gains_its_statements_in_a_new_one(db: &Db) {
    db.migration(
        "0001_t.sql",
        "CREATE TABLE t (id INTEGER);\nINSERT INTO t VALUES (1), (2);\n",
    );
    let empty = "-- Nothing to do yet.\n-- aurweb-migrate: empty\n";
    let file = "migrations/0002_later.sql";
    db.migration("0002_later.sql", empty);
    db.run(&["upgrade"]).ok();
    assert_eq!(db.history().len(), 2);

    let added = "CREATE INDEX t_id ON t (id);\n";
    db.env.write(file, format!("{empty}{added}"));
    db.run(&["upgrade"]).code(2).stderr_has(&format!(
        "{file}:3: declares `-- aurweb-migrate: empty` but holds 1 statement (the first here); remove the directive, or, if the file was applied already, restore it as it was and put the statements in a new migration"
    ));
    db.env
        .write(file, format!("-- Nothing to do yet.\n{added}"));
    db.run(&["upgrade"])
        .code(5)
        .stderr_has("modified: 2 later:")
        .stderr_has("restore the file as it was applied, and put the change in a new migration");

    // The way forward: the file as it was, the statements in a new migration.
    db.env.write(file, empty);
    db.migration("0003_index_t.sql", added);
    db.run(&["upgrade"]).ok();
    assert_eq!(db.history().len(), 3);
    assert_eq!(db.count("t"), 2);
    let index = match db.is_sqlite() {
        true => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 't_id'",
        false => "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND index_name = 't_id'",
    };
    assert_eq!(db.scalar(index), 1, "the new migration's statement ran");
    db.run(&["check"]).ok();
}

/// Issue 29 item 8: `upgrade --to V` (also `--dry-run` and `--sql`) minds the review markers
/// of the files up to V only; the files after V keep theirs until a run reaches them.
fn upgrade_to_minds_review_markers_up_to_it_only(db: &Db) {
    db.migration("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
    let marker = "-- aurweb-migrate: review drop-table a: its rows are lost\n";
    db.migration("0002_b.sql", &format!("{marker}DROP TABLE a;\n"));
    let refusal = "error: migrations/0002_b.sql:1: not reviewed yet: drop-table a";
    db.run(&["upgrade", "--to", "2"])
        .code(2)
        .stderr_has(refusal);
    db.run(&["upgrade", "--to", "1", "--dry-run"])
        .ok()
        .stdout_has("CREATE TABLE a");
    db.run(&["upgrade", "--to", "1", "--sql", "--dialect", db.dialect()])
        .ok()
        .stdout_has("CREATE TABLE a")
        .nowhere("DROP TABLE a");
    db.run(&["upgrade", "--to", "1"]).ok();
    assert_eq!(db.history().len(), 1);
    db.exec("INSERT INTO a VALUES (1)");
    // A run past it still stops at the marker.
    db.run(&["upgrade"]).code(2).stderr_has(refusal);
    db.run(&["upgrade", "--dry-run"])
        .code(2)
        .stderr_has(refusal);
    db.run(&["check"]).code(2).stderr_has(refusal);
    assert_eq!(db.count("a"), 1);
    // Reviewed: it runs.
    db.migration("0002_b.sql", "DROP TABLE a;\n");
    db.run(&["upgrade"]).ok();
    assert!(!db.has_table("a"));
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

/// One run through a plain migration, a rebuild with foreign keys off and an orphan insert:
/// the rebuild's transaction is not the one begun with the plain migration's commit (its
/// `PRAGMA` must come first), and enforcement is back on for the migration after it.
#[test]
fn foreign_keys_off_in_the_middle_of_one_run() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    parent_child(&db);
    db.migration(
        "0002_more.sql",
        "INSERT INTO parent (id) VALUES (3);\n\
         INSERT INTO child (id, parent_id) VALUES (31, 3);\n",
    );
    db.migration(
        "0003_rebuild.sql",
        &format!("-- aurweb-migrate: foreign-keys off\n{REBUILD}"),
    );
    db.migration(
        "0004_orphan.sql",
        "INSERT INTO child (id, parent_id) VALUES (40, 99);\n",
    );
    db.run(&["upgrade"]).code(4).stderr_has("0004_orphan.sql:1");
    assert_eq!(
        db.states(),
        [
            (1, "applied".into()),
            (2, "applied".into()),
            (3, "applied".into())
        ]
    );
    assert_eq!(db.count("parent"), 3);
    assert_eq!(db.count("child"), 3);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM pragma_foreign_key_check"),
        0
    );
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
