//! Edits of applied files (issue 14 item 12): an edit of comments and whitespace only is told
//! apart exactly by the statement checksum and warned about, not refused; any other edit is
//! refused until `resolve V --accept-edit` records it knowingly; and a version table written by
//! 0.1.0 (without the statement checksum column) keeps working and is brought forward in place,
//! also with several runners at once.

use serde_json::Value;

use crate::each_db;
use crate::support::{Db, TABLE};

const FIRST: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(20) DEFAULT 'a -- b');\n";
/// [`FIRST`] with comments added and the layout changed, the string untouched.
const FIRST_COMMENTED: &str = "-- The table of things.\nCREATE TABLE t (\n    id INTEGER PRIMARY KEY,  -- its key\n    name VARCHAR(20) /* shown */ DEFAULT 'a -- b'\n);\n";
/// [`FIRST`] with a different string: a statement change.
const FIRST_CHANGED: &str =
    "CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(20) DEFAULT 'a - b');\n";
const SECOND: &str = "CREATE TABLE u (id INTEGER PRIMARY KEY);\n";

fn state_of(doc: &Value, version: i64) -> String {
    doc["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .find(|m| m["version"] == version)
        .and_then(|m| m["state"].as_str())
        .unwrap_or_else(|| panic!("no version {version} in {doc:#}"))
        .to_string()
}

each_db!(comments_only_edit_is_warned_not_refused);
fn comments_only_edit_is_warned_not_refused(db: &Db) {
    db.migration("0001_things.sql", FIRST);
    db.run(&["upgrade"]).ok();
    db.migration("0001_things.sql", FIRST_COMMENTED);
    db.migration("0002_more.sql", SECOND);

    let doc = db.run(&["--format", "json", "status"]).ok().json();
    assert_eq!(state_of(&doc, 1), "edited", "{doc:#}");
    assert_eq!(doc["problems"], serde_json::json!([]), "{doc:#}");
    db.run(&["status"])
        .ok()
        .stdout_has("[edited (comments only)]");

    // Not refused: the pending one runs, with a warning naming the file and the command.
    db.run(&["upgrade"])
        .ok()
        .stderr_has("0001_things.sql: edited (comments only) after it was applied")
        .stderr_has("resolve 1 --accept-edit");
    assert!(db.has_table("u"));
    db.run(&["-q", "upgrade"]).ok().nowhere("edited");

    // `check` passes and warns.
    let doc = db.run(&["--format", "json", "check"]).ok().json();
    assert_eq!(doc["ok"], true, "{doc:#}");
    let warnings = doc["warnings"].as_array().expect("warnings");
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("edited (comments only)")),
        "{doc:#}"
    );

    // Accepted knowingly: what it accepts is shown, and the warning is gone.
    let run = db.run(&["resolve", "1", "--accept-edit"]);
    run.ok()
        .stdout_has("accepted the edit of")
        .stdout_has("only comments and whitespace changed");
    let doc = db
        .run(&["--format", "json", "resolve", "1", "--accept-edit"])
        .ok()
        .json();
    assert_eq!(
        doc["changed"], false,
        "a second time: nothing to do: {doc:#}"
    );
    let doc = db.run(&["--format", "json", "status"]).ok().json();
    assert_eq!(state_of(&doc, 1), "applied", "{doc:#}");
    let doc = db.run(&["--format", "json", "check"]).ok().json();
    assert_eq!(doc["warnings"], serde_json::json!([]), "{doc:#}");
    let row = &db.history()[0];
    assert!(row.checksum.starts_with("sha256-v1:"), "{row:?}");
}

each_db!(statement_edit_is_refused_until_accepted);
fn statement_edit_is_refused_until_accepted(db: &Db) {
    db.migration("0001_things.sql", FIRST);
    db.run(&["upgrade"]).ok();
    let recorded = db.history()[0].checksum.clone();
    db.migration("0001_things.sql", FIRST_CHANGED);
    db.migration("0002_more.sql", SECOND);
    let run = db.run(&["upgrade"]);
    run.code(5).stderr_has("and so do its statements");
    assert!(!db.has_table("u"), "refused before anything ran");
    let doc = db.run(&["--format", "json", "status"]).ok().json();
    assert_eq!(state_of(&doc, 1), "modified", "{doc:#}");

    // The advice works as printed and says what it accepted.
    let accepted = db.run_advised(&run.stderr, &["resolve"]);
    accepted
        .ok()
        .stdout_has("its statements differ from those that ran");
    assert_ne!(db.history()[0].checksum, recorded);
    db.run(&["upgrade"]).ok();
    assert!(db.has_table("u"));

    // Not for a version that is not recorded, nor without its file.
    db.migration("0003_late.sql", "CREATE TABLE v (id INTEGER);\n");
    db.run(&["resolve", "3", "--accept-edit"])
        .code(2)
        .stderr_has("not recorded");
    let doc = db
        .run(&["--format", "json", "resolve", "2", "--accept-edit"])
        .ok()
        .json();
    assert_eq!(doc["changed"], false, "unedited: {doc:#}");
    assert_eq!(doc["edit"], Value::Null, "{doc:#}");
}

each_db!(failed_version_is_not_accepted_as_edited);
fn failed_version_is_not_accepted_as_edited(db: &Db) {
    db.migration(
        "0001_bad.sql",
        "-- aurweb-migrate: no-transaction\nCREATE TABLE a (id INTEGER);\nCREATE TABLE a (id INTEGER);\n",
    );
    db.run(&["upgrade"]).code(4);
    db.run(&["resolve", "1", "--accept-edit"])
        .code(2)
        .stderr_has("--applied");
}

/// The version table's DDL of 0.1.0, verbatim (`src/history.rs` of that release): no
/// `statements_checksum`.
fn table_0_1(db: &Db) -> String {
    let (q, suffix) = if db.is_mysql() {
        ("`", " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
    } else {
        ("\"", "")
    };
    format!(
        "CREATE TABLE IF NOT EXISTS {q}{TABLE}{q} (\n  version BIGINT NOT NULL PRIMARY KEY,\n  description VARCHAR(255) NOT NULL,\n  checksum VARCHAR(80) NOT NULL,\n  state VARCHAR(16) NOT NULL,\n  statements_done INTEGER NOT NULL,\n  statements_total INTEGER NOT NULL,\n  progress_checksum VARCHAR(80) NULL,\n  error_text TEXT NULL,\n  applied_at VARCHAR(32) NOT NULL,\n  applied_by VARCHAR(255) NOT NULL,\n  execution_ms BIGINT NOT NULL,\n  tool_version VARCHAR(32) NOT NULL\n){suffix}"
    )
}

fn columns(db: &Db) -> Vec<String> {
    if db.is_mysql() {
        db.strings(&format!(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{TABLE}' ORDER BY ORDINAL_POSITION"
        ))
    } else {
        db.strings(&format!("SELECT name FROM pragma_table_info('{TABLE}')"))
    }
}

each_db!(version_table_of_0_1_is_brought_forward);
/// A database that 0.1.0 migrated: its table lacks the statement checksum column. Reading
/// commands work on it and change nothing; the first writers (six at once) add the column
/// exactly once and record the new version once; the old row keeps no statement checksum, so an
/// edit of its file cannot be told to be comments only and is refused, saying so.
fn version_table_of_0_1_is_brought_forward(db: &Db) {
    db.migration("0001_things.sql", FIRST);
    let history = db.env.run(&["--format", "json", "history"]).ok().json();
    let checksum = history["migrations"][0]["checksum"]
        .as_str()
        .expect("checksum")
        .to_string();
    db.exec(&table_0_1(db));
    db.exec(FIRST.trim().trim_end_matches(';'));
    db.exec(&format!(
        "INSERT INTO {TABLE} (version, description, checksum, state, statements_done, statements_total, progress_checksum, error_text, applied_at, applied_by, execution_ms, tool_version) VALUES (1, 'things', '{checksum}', 'applied', 1, 1, NULL, NULL, '2026-11-01T00:00:00.000Z', 'deploy@aur', 3, '0.1.0')"
    ));
    assert!(!columns(db).contains(&"statements_checksum".to_string()));
    db.migration("0002_more.sql", SECOND);

    let doc = db.run(&["--format", "json", "status"]).ok().json();
    assert_eq!(state_of(&doc, 1), "applied", "{doc:#}");
    assert_eq!(state_of(&doc, 2), "pending", "{doc:#}");
    db.run(&["check"]).code(1);
    db.run(&["upgrade", "--dry-run"]).ok();
    assert!(
        !columns(db).contains(&"statements_checksum".to_string()),
        "reading commands never write"
    );

    let runners: Vec<_> = (0..6).map(|_| db.cmd(&["upgrade"]).spawn()).collect();
    for run in runners.into_iter().map(|r| r.wait()) {
        run.ok();
    }
    let cols = columns(db);
    assert_eq!(
        cols.iter().filter(|c| *c == "statements_checksum").count(),
        1,
        "{cols:?}"
    );
    assert_eq!(db.history().len(), 2);
    assert!(db.has_table("u"));
    let stored = db.strings(&format!(
        "SELECT COALESCE(statements_checksum, 'none') FROM {TABLE} ORDER BY version"
    ));
    assert_eq!(stored[0], "none", "the old row is left as it was");
    assert!(stored[1].starts_with("sha256-stmts-v1:"), "{stored:?}");
    assert_eq!(stored[1].len(), 80, "fits the column: {stored:?}");

    // A comments-only edit of the old row's file cannot be told apart: refused, saying why.
    db.migration("0001_things.sql", FIRST_COMMENTED);
    db.run(&["upgrade"]).code(5).stderr_has("cannot be told");
    db.run(&["resolve", "1", "--accept-edit"])
        .ok()
        .stdout_has("cannot be told");
    db.run(&["check"]).ok();
}
