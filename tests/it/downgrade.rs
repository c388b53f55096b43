//! `downgrade --to V`: runs reverse files newest first, or refuses when one is missing.

use crate::each_db;
use crate::support::{advised, Db, Env};

/// Appends to the log; `n` counts up by hand (no AUTO_INCREMENT/rowid: portable).
fn log_insert(what: &str) -> String {
    format!("INSERT INTO log (n, what) SELECT COALESCE(MAX(n), 0) + 1, '{what}' FROM log;\n")
}

/// Migration 1 creates a log the reverse files of 2 and 3 write to, so the order shows.
fn logged(db: &Db, down_for_two: bool) {
    db.migration(
        "0001_log.sql",
        "CREATE TABLE log (n INTEGER PRIMARY KEY, what TEXT);\n",
    );
    db.migration("0001_log.down.sql", "DROP TABLE log;\n");
    db.migration("0002_two.sql", "CREATE TABLE t2 (id INTEGER);\n");
    if down_for_two {
        db.migration(
            "0002_two.down.sql",
            &format!("{}DROP TABLE t2;\n", log_insert("down 2")),
        );
    }
    db.migration("0003_three.sql", "CREATE TABLE t3 (id INTEGER);\n");
    db.migration(
        "0003_three.down.sql",
        &format!("{}DROP TABLE t3;\n", log_insert("down 3")),
    );
    db.run(&["upgrade"]).ok();
    db.assert_tables(&["log", "t2", "t3"]);
}

each_db!(
    downgrade_without_to_reverts_exactly_one,
    downgrade_dry_run_writes_nothing,
    downgrade_runs_reverse_files_newest_first,
    downgrade_refuses_without_a_reverse_file,
    downgrade_failure_rolls_back_that_step,
);

fn downgrade_runs_reverse_files_newest_first(db: &Db) {
    logged(db, true);
    let run = db.run(&["downgrade", "--to", "1"]);
    run.ok();
    let three = run
        .stdout
        .find("3  three")
        .unwrap_or_else(|| run.fail("3 not reported"));
    let two = run
        .stdout
        .find("2  two")
        .unwrap_or_else(|| run.fail("2 not reported"));
    run.check(three < two, "reported newest first");
    assert_eq!(
        db.strings("SELECT what FROM log ORDER BY n"),
        ["down 3", "down 2"]
    );
    db.assert_tables(&["log"]);
    assert_eq!(db.states(), [(1, "applied".into())]);
    // And up again.
    db.run(&["upgrade"]).ok();
    db.assert_tables(&["log", "t2", "t3"]);
    let doc = db
        .run(&["downgrade", "--to", "2", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["changed"], true, "{doc:#}");
    assert_eq!(doc["current"], 2, "{doc:#}");
    assert_eq!(doc["reverted"][0]["version"], 3, "{doc:#}");
}

fn downgrade_refuses_without_a_reverse_file(db: &Db) {
    logged(db, false);
    db.run(&["downgrade", "--to", "1"]).code(2).stderr_has("2");
    db.assert_tables(&["log", "t2", "t3"]);
    assert_eq!(db.count("log"), 0, "3 was reverted before the refusal");
    assert_eq!(db.history().len(), 3);
}

fn downgrade_failure_rolls_back_that_step(db: &Db) {
    logged(db, true);
    // DML only, so the step is one transaction on every dialect (a DROP would commit the
    // INSERT on MySQL before failing).
    db.migration(
        "0002_two.down.sql",
        &format!(
            "{}INSERT INTO no_such_table VALUES (1);\n",
            log_insert("down 2")
        ),
    );
    // The edited reverse file is not part of the checksum: only the forward file is.
    let run = db.run(&["downgrade", "--to", "1"]);
    run.code(4)
        .stderr_has("0002_two.down.sql:2")
        // 2 is still applied, not pending, and the way on is another downgrade.
        .stderr_has("2 is still applied")
        .nowhere("still pending")
        .nowhere("aurweb-migrate upgrade");
    assert_eq!(db.strings("SELECT what FROM log ORDER BY n"), ["down 3"]);
    db.assert_tables(&["log", "t2"]);
    assert_eq!(db.states(), [(1, "applied".into()), (2, "applied".into())]);
    // The advice, fixed file and all, works as printed.
    db.migration(
        "0002_two.down.sql",
        &format!("{}DELETE FROM log WHERE n < 0;\n", log_insert("down 2")),
    );
    db.run_advised(&run.stderr, &["downgrade"]).ok();
    assert_eq!(db.states(), [(1, "applied".into())]);
}

/// MySQL: a reverse file with DDL cannot be rolled back. When it fails after committing
/// statements, the tool must say which ones stay in effect, never that the step was rolled
/// back (DESIGN: "which earlier statements were already committed, and what to do next").
#[test]
fn mysql_downgrade_failure_after_committed_statements_says_so() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    logged(&db, true);
    db.migration(
        "0003_three.down.sql",
        &format!(
            "{}DROP TABLE t3;\nDROP TABLE no_such_table;\n",
            log_insert("down 3")
        ),
    );
    db.run(&["downgrade", "--to", "2"])
        .code(4)
        .stderr_has("0003_three.down.sql:3")
        .stderr_has("statements 1–2 (migrations/0003_three.down.sql lines 1–2)")
        .nowhere("rolled back");
    // What did happen: the log row and the DROP of t3 are committed.
    assert_eq!(db.strings("SELECT what FROM log"), ["down 3"]);
    db.assert_tables(&["log", "t2"]);
}

/// MySQL: a stepwise reverse file whose first statement fails committed nothing: the version
/// stays applied (not `failed`), nothing needs settling, and the advised `downgrade --to`
/// works once the file is fixed.
#[test]
fn mysql_downgrade_failing_at_its_first_statement_keeps_the_version_applied() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    logged(&db, true);
    db.migration(
        "0003_three.down.sql",
        "DROP TABLE no_such_table;\nDROP TABLE t3;\n",
    );
    let run = db.run(&["downgrade", "--to", "2"]);
    run.code(4)
        .stderr_has("0003_three.down.sql:1")
        .stderr_has("3 is still applied")
        .nowhere("resolve");
    assert_eq!(
        db.states(),
        [
            (1, "applied".into()),
            (2, "applied".into()),
            (3, "applied".into())
        ]
    );
    db.run(&["check"]).ok();
    db.migration("0003_three.down.sql", "DROP TABLE t3;\n");
    db.run_advised(&run.stderr, &["downgrade", "--to"]).ok();
    assert_eq!(db.states(), [(1, "applied".into()), (2, "applied".into())]);
    db.assert_tables(&["log", "t2"]);
}

/// MySQL: a revert that stopped part way is settled with `resolve`, and every command the tool
/// advises for it (at the failure, in `status`, in `check`) works as printed; `upgrade --resume`
/// is never advised and refuses with the real reason.
#[test]
fn mysql_a_half_done_revert_is_advised_commands_that_work() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    logged(&db, true);
    db.migration(
        "0003_three.down.sql",
        &format!(
            "{}DROP TABLE t3;\nDROP TABLE no_such_table;\n",
            log_insert("down 3")
        ),
    );
    let run = db.run(&["downgrade", "--to", "2"]);
    run.code(4).nowhere("--resume");
    for advice in advised(&run.stderr) {
        assert_eq!(advice[0], "resolve", "{advice:?} in {}", run.stderr);
    }
    let status = db.run(&["status"]);
    status.nowhere("--resume").stdout_has("revert");
    db.run(&["check"]).code(1).nowhere("--resume");
    db.run(&["upgrade", "--resume"])
        .code(5)
        .stderr_has("revert")
        .nowhere("differ");
    // The revert's DROP TABLE t3 is in effect: it is finished, so --rolled-back.
    let text = format!("{}{}", status.stdout, status.stderr);
    db.run_advised(&text, &["resolve", "3", "--rolled-back"])
        .ok();
    assert_eq!(db.states(), [(1, "applied".into()), (2, "applied".into())]);
    // Settled: 3 is an ordinary pending migration again.
    db.run(&["check"]).code(1).stdout_has("pending: 3");
}

/// `downgrade` alone undoes the newest migration only (sqlx `migrate revert`, dbmate
/// `rollback`); a relative `--to +1` is a usage error, never read as version 1.
fn downgrade_without_to_reverts_exactly_one(db: &Db) {
    logged(db, true);
    db.run(&["downgrade", "--to", "+1"])
        .code(2)
        .stderr_has("not a version number");
    db.run(&["downgrade", "--to", "-1"]).code(2);
    assert_eq!(db.history().len(), 3, "nothing reverted by a refused flag");
    let doc = db.run(&["downgrade", "--format", "json"]).ok().json();
    assert_eq!(doc["current"], 2, "{doc:#}");
    assert_eq!(doc["reverted"].as_array().map(Vec::len), Some(1), "{doc:#}");
    db.assert_tables(&["log", "t2"]);
    assert_eq!(db.strings("SELECT what FROM log ORDER BY n"), ["down 3"]);
    db.run(&["downgrade"]).ok().stdout_has("2  two");
    db.run(&["downgrade"]).ok();
    assert!(db.history().is_empty());
    db.run(&["downgrade"]).ok().stdout_has("nothing to do");
}

/// `downgrade --dry-run` prints the reverse statements, in a form the client takes, and
/// changes nothing; its JSON lists them.
fn downgrade_dry_run_writes_nothing(db: &Db) {
    logged(db, true);
    let run = db.run(&["downgrade", "--to", "1", "--dry-run"]);
    run.ok()
        .stdout_has("revert 3 three")
        .stdout_has("DROP TABLE t3;")
        .stdout_has("revert 2 two")
        .stdout_has("would be at version 1");
    let three = run.stdout.find("revert 3").unwrap();
    let two = run.stdout.find("revert 2").unwrap();
    assert!(three < two, "newest first: {}", run.stdout);
    db.assert_tables(&["log", "t2", "t3"]);
    assert_eq!(db.count("log"), 0);
    assert_eq!(db.history().len(), 3);
    let doc = db
        .run(&["downgrade", "--dry-run", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["dry_run"], true, "{doc:#}");
    assert_eq!(doc["changed"], false, "{doc:#}");
    assert_eq!(doc["reverted"][0]["version"], 3, "{doc:#}");
    assert_eq!(doc["reverted"].as_array().map(Vec::len), Some(1), "{doc:#}");
    assert_eq!(doc["current"], 2, "{doc:#}");
    assert_eq!(db.history().len(), 3);
}
