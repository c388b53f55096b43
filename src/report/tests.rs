//! The renderers pinned: a result value → the human text and the JSON document the tool
//! prints for it (`check(value, human, json)`, with `expect-test`'s inline expectations:
//! `UPDATE_EXPECT=1 cargo test --lib report::` rewrites them after an intended change).

use super::*;
use crate::dialect::Dialect;
use crate::history::{Row, State};
use crate::plan::warnings::Warning;
use crate::run::{Applied, Installed, Outcome};
use crate::source::lint::{Lint, Located};
use crate::source::{load_files, RawFile};
use expect_test::{expect, Expect};
use std::path::Path;

/// `value` → its human text and its JSON document (pretty, as `emit` prints it).
fn check(value: &dyn Render, human: Expect, json: Expect) {
    human.assert_eq(&value.human());
    json.assert_eq(&serde_json::to_string_pretty(&value.document()).unwrap());
}

/// Migration files of one dialect, `(name, text)`, as the `migrations` directory.
fn set(dialect: Dialect, files: &[(&str, &str)]) -> MigrationSet {
    let files = files
        .iter()
        .map(|(name, text)| RawFile {
            name: name.to_string(),
            bytes: text.as_bytes().to_vec(),
        })
        .collect();
    load_files(Path::new("migrations"), files, dialect).unwrap()
}

/// A history row for `m` in `state` (its checksum, applied by `ci@host` at a fixed time).
fn row(m: &Migration, state: State, done: u32, error: Option<&str>) -> Row {
    Row {
        version: m.version,
        description: m.description(),
        checksum: m.up.checksum.clone(),
        state,
        statements_done: done,
        statements_total: m.up.statements.len() as u32,
        progress_checksum: None,
        error: error.map(str::to_string),
        applied_at: "2024-05-01 12:00:00".into(),
        applied_by: "ci@host".into(),
        execution_ms: 7,
        tool_version: "0.0.0".into(),
        statements_checksum: None,
    }
}

const FILES: &[(&str, &str)] = &[
    ("0001_init.sql", "CREATE TABLE a (id INT PRIMARY KEY);\n"),
    (
        "0002_fill.sql",
        "CREATE TABLE b (id INT PRIMARY KEY);\nINSERT INTO b VALUES (1);\nINSERT INTO b VALUES (2);\n",
    ),
    ("0003_more.sql", "INSERT INTO a VALUES (1);\n"),
];

#[test]
fn check_renders_findings_and_warnings() {
    // Nothing at all: up to date at no version.
    let empty = crate::plan::overview(&[], &[], false);
    check(
        &Check::new(&empty, Vec::new(), Vec::new(), &[]),
        expect![[r#"
            ok: database is up to date at version none
        "#]],
        expect![[r#"
            {
              "current": null,
              "ddl": [],
              "format_version": 1,
              "ok": true,
              "pending": 0,
              "problems": [],
              "violations": [],
              "warnings": []
            }"#]],
    );
    // Version 1 applied, 2 and 3 pending, a drift found, and one warning of each shape.
    let s = set(Dialect::Mysql, FILES);
    let history = [row(&s.migrations[0], State::Applied, 1, None)];
    let ov = crate::plan::overview(&s.migrations, &history, false);
    let warnings = vec![
        Warning::edited(&s.migrations[0]),
        Warning::Lint(Located {
            path: "migrations/0002_fill.sql".into(),
            line: None,
            lint: Lint::MixedImplicitCommits {
                data: 2,
                implicit: 1,
            },
        }),
        Warning::Lint(Located {
            path: "migrations/0002_fill.sql".into(),
            line: Some(2),
            lint: Lint::NonInnodb {
                engine: "MEMORY".into(),
            },
        }),
    ];
    let drift = vec![Finding {
        kind: "drift".into(),
        version: None,
        message: "drift: table a: column x is missing".into(),
        difference: None,
    }];
    check(
        &Check::new(&ov, warnings, drift, &[]),
        expect![[r#"
            warning: migrations/0001_init.sql: edited (comments only) after it was applied: its statements are those that ran; `aurweb-migrate resolve 1 --accept-edit` records the new checksum
            warning: migrations/0002_fill.sql: mixes 2 data statement(s) with 1 implicit-commit statement(s); on MySQL/MariaDB it cannot be atomic, consider splitting it
            warning: migrations/0002_fill.sql:2: on a Galera cluster: a MEMORY table is not replicated by Galera (only InnoDB is): use ENGINE=InnoDB
            check failed: 3 problems
              pending: 2 fill has not been applied
              pending: 3 more has not been applied
              drift: table a: column x is missing
        "#]],
        expect![[r#"
            {
              "current": 1,
              "ddl": [],
              "format_version": 1,
              "ok": false,
              "pending": 2,
              "problems": [
                {
                  "expected": null,
                  "found": null,
                  "kind": "pending",
                  "message": "pending: 2 fill has not been applied",
                  "object": null,
                  "table": null,
                  "version": 2
                },
                {
                  "expected": null,
                  "found": null,
                  "kind": "pending",
                  "message": "pending: 3 more has not been applied",
                  "object": null,
                  "table": null,
                  "version": 3
                },
                {
                  "expected": null,
                  "found": null,
                  "kind": "drift",
                  "message": "drift: table a: column x is missing",
                  "object": null,
                  "table": null,
                  "version": null
                }
              ],
              "violations": [],
              "warnings": [
                "migrations/0001_init.sql: edited (comments only) after it was applied: its statements are those that ran; `aurweb-migrate resolve 1 --accept-edit` records the new checksum",
                "migrations/0002_fill.sql: mixes 2 data statement(s) with 1 implicit-commit statement(s); on MySQL/MariaDB it cannot be atomic, consider splitting it",
                "migrations/0002_fill.sql:2: on a Galera cluster: a MEMORY table is not replicated by Galera (only InnoDB is): use ENGINE=InnoDB"
              ]
            }"#]],
    );
}

#[test]
fn status_renders_each_state() {
    let s = set(Dialect::Mysql, FILES);
    let history = [
        row(&s.migrations[0], State::Applied, 1, None),
        row(
            &s.migrations[1],
            State::Failed,
            1,
            Some("Duplicate entry '1'"),
        ),
    ];
    let ov = crate::plan::overview(&s.migrations, &history, false);
    let ctx = Context {
        database: "mysql://root@localhost/aurweb",
        dialect: Dialect::Mysql,
        table: "aurweb_migrations",
        set: &s,
        embedded: false,
        cluster: None,
        missing_file: None,
    };
    let status =
        |verbose, colour, pending_only| status_human(&ctx, &ov, verbose, colour, pending_only);
    expect![[r#"
        database mysql://root@localhost/aurweb (mysql), version table aurweb_migrations
        applied   1  init  (2024-05-01 12:00:00, 7 ms)
        failed    2  fill  (2024-05-01 12:00:00, 7 ms) stopped after 1 of 3 statements: Duplicate entry '1'
        pending   3  more
        current version: 1, 1 pending, 1 failed
        1 problem:
          failed: 2 fill stopped after 1 of 3 statements (Duplicate entry '1'); settle it with `aurweb-migrate resolve 2 --applied` or `aurweb-migrate resolve 2 --rolled-back`, or continue it with `aurweb-migrate upgrade --resume`
    "#]].assert_eq(&status(false, false, false));
    expect![[r#"
        database mysql://root@localhost/aurweb (mysql), version table aurweb_migrations
        pending   3  more  [migrations/0003_more.sql: 1 statement, 1 transaction]
        current version: 1, 1 pending, 1 failed
        1 problem:
          failed: 2 fill stopped after 1 of 3 statements (Duplicate entry '1'); settle it with `aurweb-migrate resolve 2 --applied` or `aurweb-migrate resolve 2 --rolled-back`, or continue it with `aurweb-migrate upgrade --resume`
    "#]].assert_eq(&status(true, false, true));
    expect![[r#"
        database mysql://root@localhost/aurweb (mysql), version table aurweb_migrations
        ESC[33mpending ESC[0m  3  more
        current version: 1, 1 pending, 1 failed
        1 problem:
          failed: 2 fill stopped after 1 of 3 statements (Duplicate entry '1'); settle it with `aurweb-migrate resolve 2 --applied` or `aurweb-migrate resolve 2 --rolled-back`, or continue it with `aurweb-migrate upgrade --resume`
    "#]].assert_eq(&status(false, true, true).replace('\x1b', "ESC"));
    expect![[r#"
        {
          "cluster": null,
          "current": 1,
          "database": "mysql://root@localhost/aurweb",
          "dialect": "mysql",
          "embedded": false,
          "exists": true,
          "format_version": 1,
          "migrations": [
            {
              "applied_at": null,
              "applied_by": null,
              "atomic": true,
              "checksum": "sha256-v1:f7e345f2f261d2576bd104e277edc1cd9dcd4df65a26d3f083b00288c94da6d5",
              "description": "more",
              "error": null,
              "execution_ms": null,
              "file": "migrations/0003_more.sql",
              "no_transaction": false,
              "out_of_order": false,
              "recorded_checksum": null,
              "state": "pending",
              "statements_done": null,
              "statements_total": 1,
              "version": 3
            }
          ],
          "migrations_dir": "migrations",
          "pending": 1,
          "problems": [
            {
              "expected": null,
              "found": null,
              "kind": "failed",
              "message": "failed: 2 fill stopped after 1 of 3 statements (Duplicate entry '1'); settle it with `aurweb-migrate resolve 2 --applied` or `aurweb-migrate resolve 2 --rolled-back`, or continue it with `aurweb-migrate upgrade --resume`",
              "object": null,
              "table": null,
              "version": 2
            }
          ],
          "table": "aurweb_migrations"
        }"#]].assert_eq(&serde_json::to_string_pretty(&status_json(&ctx, &ov, true)).unwrap());
}

/// A MySQL file → how `status -v` and `upgrade --dry-run` say it runs.
fn check_execution(dialect: Dialect, text: &str, expected: Expect) {
    let s = set(dialect, &[("0001_x.sql", text)]);
    expected.assert_eq(&execution_note(&s.migrations[0], dialect));
}

#[test]
fn execution_notes() {
    check_execution(
        Dialect::Mysql,
        "INSERT INTO a VALUES (1);\n",
        expect!["1 statement, 1 transaction"],
    );
    check_execution(
        Dialect::Mysql,
        "-- aurweb-migrate: no-transaction\nINSERT INTO a VALUES (1);\nINSERT INTO a VALUES (2);\n",
        expect!["2 statements, no transaction: each statement commits on its own"],
    );
    check_execution(
        Dialect::Mysql,
        "CREATE TABLE a (id INT PRIMARY KEY);\nINSERT INTO a VALUES (1);\nINSERT INTO a VALUES (2);\nCOMMIT;\nLOCK TABLES a WRITE;\nUPDATE a SET id = 3;\nUNLOCK TABLES;\nALTER TABLE a ADD x INT;\nALTER TABLE a ADD y INT;\n",
        expect!["9 statements in 6 steps: 1 DDL, 1 transaction of 2 statements, 1 COMMIT of the file's own (a group boundary), 1 LOCK TABLES region (3 statements, no transaction), 2 DDL; not atomic, progress is recorded after each step"],
    );
    check_execution(
        Dialect::Sqlite,
        "CREATE TABLE a (id INT PRIMARY KEY);\nINSERT INTO a VALUES (1);\n",
        expect!["2 statements, 1 transaction"],
    );
}

#[test]
fn changes_render_what_ran() {
    let applied = |version, description: &str, execution_ms| Applied {
        version,
        description: description.into(),
        execution_ms,
    };
    let cases = [
        (
            Outcome {
                installed: None,
                applied: Vec::new(),
                current: Some(3),
            },
            expect![[r#"
                nothing to do: database is at version 3
            "#]],
            expect![[r#"
                {
                  "applied": [],
                  "changed": false,
                  "current": 3,
                  "format_version": 1,
                  "installed": null,
                  "ok": true
                }"#]],
        ),
        (
            Outcome {
                installed: None,
                applied: vec![applied(2, "fill", 5), applied(3, "more", 6)],
                current: Some(3),
            },
            expect![[r#"
                applied 2 migrations in 11 ms; database is at version 3
            "#]],
            expect![[r#"
                {
                  "applied": [
                    {
                      "description": "fill",
                      "execution_ms": 5,
                      "version": 2
                    },
                    {
                      "description": "more",
                      "execution_ms": 6,
                      "version": 3
                    }
                  ],
                  "changed": true,
                  "current": 3,
                  "format_version": 1,
                  "installed": null,
                  "ok": true
                }"#]],
        ),
        (
            Outcome {
                installed: Some(Installed {
                    path: "schema/mysql.sql".into(),
                    statements: 40,
                    execution_ms: 90,
                    baseline: vec![1, 2],
                }),
                applied: vec![applied(3, "more", 6)],
                current: Some(3),
            },
            expect![[r#"
                built the database from schema/mysql.sql (40 statements) in 90 ms; recorded versions 1-2 as baseline
                applied 1 migration in 6 ms; database is at version 3
            "#]],
            expect![[r#"
                {
                  "applied": [
                    {
                      "description": "more",
                      "execution_ms": 6,
                      "version": 3
                    }
                  ],
                  "changed": true,
                  "current": 3,
                  "format_version": 1,
                  "installed": {
                    "baseline": [
                      1,
                      2
                    ],
                    "execution_ms": 90,
                    "file": "schema/mysql.sql",
                    "statements": 40
                  },
                  "ok": true
                }"#]],
        ),
    ];
    for (outcome, human, json) in cases {
        let changes = Changes {
            outcome: &outcome,
            key: "applied",
            verb: "applied",
        };
        check(&changes, human, json);
    }
}

#[test]
fn small_results() {
    for (action, changed, human, json) in [
        (
            "created",
            true,
            expect![[r#"
            created aurweb
        "#]],
            expect![[r#"
                {
                  "action": "created",
                  "changed": true,
                  "database": "aurweb",
                  "format_version": 1,
                  "ok": true
                }"#]],
        ),
        (
            "created",
            false,
            expect![[r#"
            nothing to do: aurweb already exists
        "#]],
            expect![[r#"
                {
                  "action": "created",
                  "changed": false,
                  "database": "aurweb",
                  "format_version": 1,
                  "ok": true
                }"#]],
        ),
        (
            "dropped",
            false,
            expect![[r#"
            nothing to do: aurweb does not exist
        "#]],
            expect![[r#"
                {
                  "action": "dropped",
                  "changed": false,
                  "database": "aurweb",
                  "format_version": 1,
                  "ok": true
                }"#]],
        ),
    ] {
        let value = DatabaseChange {
            database: "aurweb",
            action,
            changed,
        };
        check(&value, human, json);
    }
    check(
        &Ready {
            database: "mysql://root@localhost/aurweb",
            attempts: 3,
            waited_ms: 500,
        },
        expect![[r#"
            mysql://root@localhost/aurweb accepts connections (after 3 attempt(s), 500 ms)
        "#]],
        expect![[r#"
            {
              "attempts": 3,
              "changed": false,
              "database": "mysql://root@localhost/aurweb",
              "format_version": 1,
              "ok": true,
              "ready": true,
              "waited_ms": 500
            }"#]],
    );
    check(
        &NewFiles(vec![
            "migrations/0004_x.sql".into(),
            "migrations/0004_x.down.sql".into(),
        ]),
        expect![[r#"
            migrations/0004_x.sql
            migrations/0004_x.down.sql
        "#]],
        expect![[r#"
            {
              "files": [
                "migrations/0004_x.sql",
                "migrations/0004_x.down.sql"
              ],
              "format_version": 1,
              "ok": true
            }"#]],
    );
    expect![[r#"
        applied  4  add x  (12 ms)
    "#]]
    .assert_eq(&done_line(4, "add x", false, 12));
    expect![[r#"
        reverted  4  add x  (3 ms)
    "#]]
    .assert_eq(&done_line(4, "add x", true, 3));
}
