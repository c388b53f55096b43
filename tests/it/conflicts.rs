//! History that conflicts with the files (modified, missing, failed, out-of-order): `upgrade`
//! refuses with exit 5 listing every problem and runs nothing; `check` exits 1; `resolve`
//! settles a failed migration.

use crate::each_db;
use crate::support::{int, Db};

/// A no-transaction migration whose first statement commits and second fails (on line 4).
const HALF_FAILS: &str = "-- aurweb-migrate: no-transaction\n\
CREATE TABLE half (id INTEGER);\n\
\n\
INSERT INTO no_such_table VALUES (1);\n";

fn kinds(doc: &serde_json::Value) -> Vec<(String, i64)> {
    doc["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems array: {doc:#}"))
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().expect("kind").to_string(),
                p["version"].as_i64().expect("integer version"),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, i64)]) -> Vec<(String, i64)> {
    list.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

each_db!(
    every_problem_is_listed_and_nothing_runs,
    modified_file_is_refused,
    missing_file_is_refused,
    failed_migration_is_recorded_then_resolved_rolled_back,
    failed_migration_resolved_as_applied,
    resolve_refuses_a_version_that_did_not_fail,
);

fn every_problem_is_listed_and_nothing_runs(db: &Db) {
    db.migration("0001_one.sql", "CREATE TABLE t1 (id INTEGER);\n");
    db.migration("0002_two.sql", "CREATE TABLE t2 (id INTEGER);\n");
    db.migration("0004_four.sql", "CREATE TABLE t4 (id INTEGER);\n");
    db.run(&["upgrade"]).ok();
    db.migration("0005_five.sql", HALF_FAILS);
    db.run(&["upgrade"]).code(4);
    assert_eq!(
        db.states(),
        [
            (1, "applied".into()),
            (2, "applied".into()),
            (4, "applied".into()),
            (5, "failed".into())
        ]
    );
    // Now: 1 modified, 2 missing, 3 out of order, 5 failed, 6 a harmless new pending one.
    db.migration(
        "0001_one.sql",
        "CREATE TABLE t1 (id INTEGER, extra TEXT);\n",
    );
    db.env.remove("migrations/0002_two.sql");
    db.migration("0003_three.sql", "CREATE TABLE t3 (id INTEGER);\n");
    db.migration("0006_six.sql", "CREATE TABLE t6 (id INTEGER);\n");
    let history = db.history();

    let run = db.run(&["upgrade"]);
    run.code(5)
        .stderr_has("modified: 1")
        .stderr_has("missing: 2")
        .stderr_has("out-of-order: 3")
        .stderr_has("failed: 5");
    let doc = db.run(&["upgrade", "--format", "json"]).code(5).json();
    assert_eq!(doc["error"]["kind"], "refused", "{doc:#}");
    assert_eq!(
        kinds(&doc),
        pairs(&[
            ("modified", 1),
            ("missing", 2),
            ("out-of-order", 3),
            ("failed", 5)
        ])
    );
    // Nothing ran: not even the harmless new migration 6.
    assert!(
        !db.has_table("t3") && !db.has_table("t6"),
        "{:?}",
        db.tables()
    );
    assert_eq!(db.history(), history);

    let doc = db.run(&["check", "--format", "json"]).code(1).json();
    let got = kinds(&doc);
    for want in pairs(&[
        ("modified", 1),
        ("missing", 2),
        ("out-of-order", 3),
        ("failed", 5),
    ]) {
        assert!(got.contains(&want), "{want:?} not in {doc:#}");
    }
    // Allowing out-of-order does not lift the other refusals.
    db.run(&["upgrade", "--allow-out-of-order"]).code(5);
    assert!(!db.has_table("t3"));
}

fn modified_file_is_refused(db: &Db) {
    db.migration("0001_one.sql", "CREATE TABLE t1 (id INTEGER);\n");
    db.run(&["upgrade"]).ok();
    // A statement change (a comments-only edit is only warned about: tests/it/edits.rs).
    db.migration("0001_one.sql", "CREATE TABLE t1 (id BIGINT);\n");
    db.migration("0002_two.sql", "CREATE TABLE t2 (id INTEGER);\n");
    db.run(&["upgrade"]).code(5).stderr_has("modified");
    assert!(!db.has_table("t2"));
    let doc = db.run(&["check", "--format", "json"]).code(1).json();
    assert!(kinds(&doc).contains(&("modified".into(), 1)), "{doc:#}");
    let doc = db.run(&["status", "--format", "json"]).ok().json();
    assert_eq!(doc["migrations"][0]["state"], "modified", "{doc:#}");
}

fn missing_file_is_refused(db: &Db) {
    db.migration("0001_one.sql", "CREATE TABLE t1 (id INTEGER);\n");
    db.migration("0002_two.sql", "CREATE TABLE t2 (id INTEGER);\n");
    db.run(&["upgrade"]).ok();
    db.env.remove("migrations/0002_two.sql");
    db.migration("0003_three.sql", "CREATE TABLE t3 (id INTEGER);\n");
    db.run(&["upgrade"]).code(5).stderr_has("missing");
    assert!(!db.has_table("t3"));
    let doc = db.run(&["check", "--format", "json"]).code(1).json();
    assert!(kinds(&doc).contains(&("missing".into(), 2)), "{doc:#}");
    let doc = db.run(&["status", "--format", "json"]).ok().json();
    let two = &doc["migrations"][1];
    assert_eq!(
        (two["version"].as_i64(), two["state"].as_str()),
        (Some(2), Some("missing"))
    );
}

/// Runs [`HALF_FAILS`] as migration 1 and checks what is recorded.
fn fail_half(db: &Db) {
    db.migration("0001_half.sql", HALF_FAILS);
    db.run(&["upgrade"])
        .code(4)
        .stderr_has("0001_half.sql:4:")
        .stderr_has("resolve 1");
    assert!(db.has_table("half"), "the committed first statement stays");
    let h = db.history();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].state, "failed");
    assert_eq!((h[0].statements_done, h[0].statements_total), (1, 2));
    assert!(
        h[0].error_text
            .as_deref()
            .is_some_and(|e| e.contains("no_such_table")),
        "{:?}",
        h[0]
    );
    let doc = db.run(&["status", "--format", "json"]).ok().json();
    let m = &doc["migrations"][0];
    assert_eq!(m["state"], "failed", "{doc:#}");
    assert_eq!(m["statements_done"], 1, "{doc:#}");
    db.run(&["status"]).ok().stdout_has("failed");
    let doc = db.run(&["check", "--format", "json"]).code(1).json();
    assert!(kinds(&doc).contains(&("failed".into(), 1)), "{doc:#}");
    db.run(&["upgrade"]).code(5).stderr_has("failed: 1");
}

fn failed_migration_is_recorded_then_resolved_rolled_back(db: &Db) {
    fail_half(db);
    // The operator undoes the committed statement, then says so.
    db.exec("DROP TABLE half");
    db.run(&["resolve", "1", "--rolled-back"]).ok();
    assert!(db.history().is_empty(), "{:#?}", db.history());
    let doc = db.run(&["status", "--format", "json"]).ok().json();
    assert_eq!(doc["migrations"][0]["state"], "pending", "{doc:#}");
    // Fixed, it applies.
    db.migration(
        "0001_half.sql",
        "-- aurweb-migrate: no-transaction\nCREATE TABLE half (id INTEGER);\n",
    );
    db.run(&["upgrade"]).ok();
    assert_eq!(db.states(), [(1, "applied".into())]);
}

fn failed_migration_resolved_as_applied(db: &Db) {
    fail_half(db);
    // The summary counts it apart: not applied, not pending.
    db.run(&["status"])
        .ok()
        .stdout_has("current version: none, 0 pending, 1 failed\n");
    db.run(&["resolve", "1", "--applied"]).ok();
    let h = db.history();
    assert_eq!(h[0].state, "applied", "{h:#?}");
    assert_eq!(h[0].statements_done, h[0].statements_total);
    let status = db.run(&["status"]);
    status.ok().stdout_has("current version: 1, 0 pending\n");
    assert!(!status.stdout.contains("failed"), "{}", status.stdout);
    db.run(&["check"]).ok();
    let doc = db.run(&["upgrade", "--format", "json"]).ok().json();
    assert_eq!(doc["changed"], false);
    assert_eq!(int(&doc, "current"), 1);
}

fn resolve_refuses_a_version_that_did_not_fail(db: &Db) {
    db.migration("0001_one.sql", "CREATE TABLE t1 (id INTEGER);\n");
    db.run(&["upgrade"]).ok();
    db.run(&["resolve", "1", "--rolled-back"]).code(2);
    db.run(&["resolve", "9", "--applied"]).code(2);
    assert_eq!(db.states(), [(1, "applied".into())]);
}
