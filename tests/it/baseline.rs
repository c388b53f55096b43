//! `baseline` and `stamp`: record versions without running them.

use crate::each_db;
use crate::support::{int, three_tables, Db};

each_db!(
    baseline_records_without_running,
    baseline_refuses_a_database_with_history,
    stamp_records_pending_versions,
    stamp_unknown_version_is_a_usage_error,
);

fn baseline_records_without_running(db: &Db) {
    three_tables(db.env);
    db.exec("CREATE TABLE legacy (x INTEGER)");
    // A database without any version table is compared with version 2's schema first.
    let run = db.run(&["baseline", "2"]);
    run.code(5)
        .stderr_has("differs from version 2's schema")
        .stderr_has("table t1: missing")
        .stderr_has("table legacy: not expected")
        .stderr_has("--accept-drift");
    assert!(db.history().is_empty(), "nothing recorded");
    let doc = db
        .run(&["baseline", "2", "--accept-drift", "--format", "json"])
        .ok()
        .json();
    let accepted: Vec<&str> = doc["accepted_drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["table"].as_str().unwrap())
        .collect();
    assert_eq!(accepted, ["legacy", "t1", "t2"], "{doc:#}");
    assert_eq!(
        db.states(),
        [(1, "baseline".into()), (2, "baseline".into())]
    );
    db.assert_tables(&["legacy"]);
    let doc = db.run(&["status", "--format", "json"]).ok().json();
    assert_eq!(int(&doc, "current"), 2, "{doc:#}");
    assert_eq!(doc["migrations"][0]["state"], "baseline");

    let doc = db.run(&["upgrade", "--format", "json"]).ok().json();
    let applied: Vec<i64> = doc["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["version"].as_i64().unwrap())
        .collect();
    assert_eq!(applied, [3], "{doc:#}");
    db.assert_tables(&["legacy", "t3"]);
    assert_eq!(
        db.states(),
        [
            (1, "baseline".into()),
            (2, "baseline".into()),
            (3, "applied".into())
        ]
    );
    db.run(&["check"]).ok();
}

fn baseline_refuses_a_database_with_history(db: &Db) {
    three_tables(db.env);
    db.run(&["upgrade", "--to", "1"]).ok();
    // Pending versions up to 2: the advice is `stamp 2`, and it works as printed.
    let run = db.run(&["baseline", "2"]);
    run.code(2).stderr_has("stamp 2");
    assert_eq!(db.states(), [(1, "applied".into())]);
    db.run_advised(&run.stderr, &["stamp"]).ok().stdout_has("2");
    assert_eq!(db.states(), [(1, "applied".into()), (2, "baseline".into())]);
    // Already past 1: no command to run, and no `stamp` advice that would do nothing.
    db.run(&["baseline", "1"])
        .code(2)
        .stderr_has("already recorded")
        .nowhere("stamp");
}

fn stamp_records_pending_versions(db: &Db) {
    three_tables(db.env);
    db.run(&["upgrade", "--to", "1"]).ok();
    db.run(&["stamp", "2"]).ok();
    assert_eq!(db.states(), [(1, "applied".into()), (2, "baseline".into())]);
    db.assert_tables(&["t1"]);
    db.run(&["upgrade"]).ok();
    db.assert_tables(&["t1", "t3"]);
}

fn stamp_unknown_version_is_a_usage_error(db: &Db) {
    three_tables(db.env);
    db.run(&["upgrade", "--to", "1"]).ok();
    db.run(&["stamp", "9"]).code(2);
    db.run(&["baseline", "9"]).code(2);
    assert_eq!(db.states(), [(1, "applied".into())]);
}
