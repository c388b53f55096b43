//! `--format json` on failure: exactly one JSON document on stdout with `ok: false`, the error's
//! kind and exit code; the message also goes to stderr.

use crate::each_db;
use crate::support::{int, Db};

each_db!(failed_migration_json, refused_json, input_error_json,);

fn failed_migration_json(db: &Db) {
    db.migration("0001_one.sql", "CREATE TABLE t1 (id INTEGER);\n");
    db.migration(
        "0002_two.sql",
        // DML only: rolled back on every dialect (DDL would stay on MySQL).
        "INSERT INTO t1 VALUES (1);\nINSERT INTO nope VALUES (1);\n",
    );
    let run = db.run(&["upgrade", "--format", "json"]);
    run.code(4).stderr_has("0002_two.sql:2");
    let doc = run.json();
    assert_eq!(doc["ok"], false, "{doc:#}");
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["error"]["kind"], "migration-failed");
    assert_eq!(doc["error"]["exit_code"], 4);
    assert_eq!(doc["error"]["version"], 2);
    assert_eq!(doc["error"]["line"], 2);
    assert!(doc["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("nope")));
    // What did change before the failure, for Ansible's changed_when.
    assert_eq!(doc["changed"], true, "{doc:#}");
    assert_eq!(doc["applied"][0]["version"], 1, "{doc:#}");
    assert_eq!(
        int(&doc, "current"),
        1,
        "current is the database's version after the run"
    );
    db.assert_tables(&["t1"]);
    assert_eq!(db.count("t1"), 0, "2 was rolled back");
}

fn refused_json(db: &Db) {
    db.migration("0001_one.sql", "CREATE TABLE t1 (id INTEGER);\n");
    db.run(&["upgrade"]).ok();
    db.migration("0001_one.sql", "CREATE TABLE t1 (id BIGINT);\n");
    let run = db.run(&["upgrade", "--format", "json"]);
    run.code(5).stderr_has("modified");
    let doc = run.json();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["error"]["kind"], "refused");
    assert_eq!(doc["error"]["exit_code"], 5);
    assert_eq!(doc["problems"][0]["kind"], "modified", "{doc:#}");
}

fn input_error_json(db: &Db) {
    db.migration("init.sql", "SELECT 1;\n");
    let run = db.run(&["upgrade", "--format", "json"]);
    run.code(2).stderr_has("init.sql");
    let doc = run.json();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["error"]["kind"], "input");
    assert_eq!(doc["error"]["exit_code"], 2);
    assert!(doc["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("init.sql")));
}

/// Arguments the parser rejects, with `--format json` anywhere on the command line: the same
/// JSON error document on stdout (kind `usage`, exit 2), clap's message on stderr. Without
/// `--format json`, or for `--help`, stdout is what it always was.
#[test]
fn argument_errors_are_json_too() {
    let env = crate::support::Env::new();
    for (args, says) in [
        (&["--format", "json", "upgrade", "--bogus"][..], "--bogus"),
        (
            &["downgrade", "--format=json", "--to", "+1"][..],
            "not a version number",
        ),
        (&["--format", "json"][..], "requires a subcommand"),
        (&["--format", "json", "upgrade", "--to", "x"][..], "'x'"),
    ] {
        let run = env.run(args);
        run.code(2).stderr_has(says);
        let doc = run.json();
        assert_eq!(doc["ok"], false, "{args:?}: {doc:#}");
        assert_eq!(doc["format_version"], 1, "{doc:#}");
        assert_eq!(doc["error"]["kind"], "usage", "{doc:#}");
        assert_eq!(doc["error"]["exit_code"], 2, "{doc:#}");
        let message = doc["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{args:?}: {message}");
        assert!(!message.starts_with("error:"), "{message}");
    }
    let run = env.run(&["upgrade", "--bogus"]);
    run.code(2).stderr_has("--bogus");
    assert!(run.stdout.is_empty(), "human format: {}", run.stdout);
    let run = env.run(&["--format", "json", "--help"]);
    run.ok().stdout_has("Usage: aurweb-migrate");
}

/// A version flag naming no migration is one typed error, the same from `upgrade`,
/// `upgrade --dry-run` and `upgrade --sql`: exit 2, and in JSON the flag and the version.
#[test]
fn unknown_version_flags_are_one_typed_error() {
    let env = crate::support::Env::new();
    env.migration("0001_one.sql", "CREATE TABLE t1 (id INTEGER);\n");
    for args in [
        &["upgrade", "--to", "99"][..],
        &["upgrade", "--dry-run", "--to", "99"],
    ] {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let run = env.run(&all);
        run.code(2)
            .stderr_has("--to 99: no migration has that version in migrations");
        let doc = run.json();
        assert_eq!(doc["error"]["kind"], "usage", "{doc:#}");
        assert_eq!(doc["error"]["flag"], "--to", "{doc:#}");
        assert_eq!(doc["error"]["version"], 99, "{doc:#}");
    }
    env.run(&["upgrade", "--sql", "--dialect", "sqlite", "--from", "7"])
        .code(2)
        .stderr_has("--from 7: no migration has that version in migrations");
    assert!(!env.exists("aurweb.sqlite3"), "nothing was created");
}
