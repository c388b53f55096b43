//! Unit tests of the runner on a real SQLite database in a temporary file: plan → apply →
//! history rows, what a failure leaves behind (rows, tables, the error's aftermath), resume,
//! downgrade, install and the commands that record without running. Table-driven: each case
//! is the files, what is run, and what the database holds afterwards.

use std::path::Path;
use std::time::Duration;

use crate::backend::{Access, Backend, Catalogue, Connection, Timeouts};
use crate::error::{Aftermath, Error};
use crate::history::{TableName, DEFAULT_TABLE};
use crate::plan::{RunMode, Target, UpgradeOptions};
use crate::settings::DatabaseTarget;
use crate::source::{load_files, schema_from_text, MigrationSet, RawFile};

use super::{downgrade, resolve, stamp, upgrade, Event, FileNow, Resolution, StampMode};

const LATEST: UpgradeOptions = UpgradeOptions {
    target: Target::Latest,
    mode: RunMode::PerMigration,
    allow_out_of_order: false,
    resume: false,
};

const SINGLE: UpgradeOptions = UpgradeOptions {
    mode: RunMode::SingleTransaction,
    ..LATEST
};

const RESUME: UpgradeOptions = UpgradeOptions {
    resume: true,
    ..LATEST
};

/// A history row as the tests compare it: version, state, statements done and total.
type RowSummary = (u64, &'static str, u32, u32);

/// Opens (creating it) the SQLite database of a test directory.
async fn open(dir: &Path) -> Connection {
    let target = DatabaseTarget::Sqlite {
        path: dir.join("db.sqlite"),
    };
    let timeouts = Timeouts {
        connect: Duration::from_secs(5),
        lock: Duration::from_secs(5),
        statement: None,
        ddl_lock: None,
    };
    let table = TableName::new(DEFAULT_TABLE).unwrap();
    Connection::open(&target, Access::ReadWrite, table, timeouts)
        .await
        .unwrap()
        .expect("read-write access creates the file")
}

/// The migration set of `files` (name, text), split for the connection's dialect.
fn set(conn: &Connection, files: &[(&str, &str)]) -> MigrationSet {
    let raw = files
        .iter()
        .map(|(name, text)| RawFile {
            name: name.to_string(),
            bytes: text.as_bytes().to_vec(),
        })
        .collect();
    load_files(Path::new("migrations"), raw, conn.dialect()).unwrap()
}

/// What the database holds: its history rows and its tables (the version table aside).
async fn state(conn: &mut Connection) -> (Vec<RowSummary>, Vec<String>) {
    let rows = conn
        .read_history()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let state = r.state.as_str();
            (r.version, state, r.statements_done, r.statements_total)
        })
        .collect();
    let mut tables = conn.table_names().await.unwrap();
    tables.sort();
    (rows, tables)
}

/// An error in one line: a failed migration as version, statement and aftermath, a refusal
/// as its problems; anything else as its kind and message.
fn summary(e: &Error) -> String {
    match e {
        Error::Refused(problems) => {
            let problems: Vec<String> = problems
                .iter()
                .map(|p| format!("{} {}", p.kind(), p.version().unwrap_or_default()))
                .collect();
            format!("refused: {}", problems.join(", "))
        }
        Error::MigrationFailed(f) => {
            let aftermath = match &f.aftermath {
                Aftermath::RolledBack => "rolled back".to_string(),
                Aftermath::Committed(c) => format!("committed {c:?}"),
            };
            let whole_run = f.next_steps[0].starts_with("the whole run was one transaction");
            format!(
                "failed {} at {} of {}, {aftermath}{}",
                f.version,
                f.statement,
                f.total,
                if whole_run { ", whole run" } else { "" }
            )
        }
        other => format!("{}: {other}", other.kind()),
    }
}

const A: (&str, &str) = ("1_a.sql", "CREATE TABLE a (x INTEGER);");
const B: (&str, &str) = (
    "2_b.sql",
    "CREATE TABLE b (y INTEGER);\nINSERT INTO b VALUES (1);",
);
const B_FAILS: (&str, &str) = (
    "2_b.sql",
    "CREATE TABLE b (y INTEGER);\nINSERT INTO nowhere VALUES (1);",
);
const C_STEPWISE: (&str, &str) = (
    "3_c.sql",
    "-- aurweb-migrate: no-transaction\nCREATE TABLE c (z INTEGER);\nINSERT INTO c VALUES (1);",
);
const C_STEPWISE_FAILS: (&str, &str) = (
    "3_c.sql",
    "-- aurweb-migrate: no-transaction\nCREATE TABLE c (z INTEGER);\nINSERT INTO nowhere VALUES (1);",
);

/// One `upgrade` on an empty database.
struct Case {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    options: UpgradeOptions,
    /// The versions applied, or the error's [`summary`].
    outcome: Result<&'static [u64], &'static str>,
    rows: &'static [RowSummary],
    tables: &'static [&'static str],
}

const UPGRADES: [Case; 7] = [
    Case {
        name: "every pending migration, in order, each with its row",
        files: &[A, B, C_STEPWISE],
        options: LATEST,
        outcome: Ok(&[1, 2, 3]),
        rows: &[(1, "applied", 1, 1), (2, "applied", 2, 2), (3, "applied", 2, 2)],
        tables: &["a", "b", "c"],
    },
    Case {
        name: "--to stops at its version",
        files: &[A, B, C_STEPWISE],
        options: UpgradeOptions {
            target: Target::Version(2),
            ..LATEST
        },
        outcome: Ok(&[1, 2]),
        rows: &[(1, "applied", 1, 1), (2, "applied", 2, 2)],
        tables: &["a", "b"],
    },
    Case {
        name: "an atomic failure rolls back that migration only",
        files: &[A, B_FAILS],
        options: LATEST,
        outcome: Err("failed 2 at 2 of 2, rolled back"),
        rows: &[(1, "applied", 1, 1)],
        tables: &["a"],
    },
    Case {
        name: "a stepwise failure is recorded as failed with its progress",
        files: &[A, C_STEPWISE_FAILS],
        options: LATEST,
        outcome: Err("failed 3 at 2 of 2, committed [(1, 2)]"),
        rows: &[(1, "applied", 1, 1), (3, "failed", 1, 2)],
        tables: &["a", "c"],
    },
    Case {
        name: "one transaction: all together",
        files: &[A, B],
        options: SINGLE,
        outcome: Ok(&[1, 2]),
        rows: &[(1, "applied", 1, 1), (2, "applied", 2, 2)],
        tables: &["a", "b"],
    },
    Case {
        name: "one transaction: a failure rolls back the whole run",
        files: &[A, B_FAILS],
        options: SINGLE,
        outcome: Err("failed 2 at 2 of 2, rolled back, whole run"),
        rows: &[],
        tables: &[],
    },
    Case {
        name: "one transaction refuses a no-transaction migration before anything runs",
        files: &[A, C_STEPWISE],
        options: SINGLE,
        outcome: Err("usage: migrations/3_c.sql declares no-transaction and cannot run under --single-transaction"),
        rows: &[],
        tables: &[],
    },
];

#[tokio::test]
async fn upgrade_applies_the_plan_or_leaves_a_known_state() {
    for case in UPGRADES {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(dir.path()).await;
        let files = set(&conn, case.files);
        let ran = upgrade(&mut conn, &files, case.options, None, &mut |_| {}).await;
        let ran = ran
            .map(|o| o.applied.iter().map(|a| a.version).collect::<Vec<_>>())
            .map_err(|e| summary(&e));
        let expected = case.outcome.map(<[u64]>::to_vec).map_err(str::to_string);
        assert_eq!(ran, expected, "{}", case.name);
        let (rows, tables) = state(&mut conn).await;
        assert_eq!(rows, case.rows, "{}: rows", case.name);
        assert_eq!(tables, case.tables, "{}: tables", case.name);
        conn.close().await;
    }
}

/// The events of a run, in order, as the progress display gets them.
#[tokio::test]
async fn events_follow_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(dir.path()).await;
    let files = set(&conn, &[A, C_STEPWISE]);
    let mut seen = Vec::new();
    let mut observe = |e: Event<'_>| {
        seen.push(match e {
            Event::Start { migration, .. } => format!("start {}", migration.version),
            Event::Statement {
                migration,
                number,
                total,
                line,
            } => format!("{} {number}/{total} line {line}", migration.version),
            Event::Done { migration, .. } => format!("done {}", migration.version),
            other => format!("{other:?}"),
        })
    };
    upgrade(&mut conn, &files, LATEST, None, &mut observe)
        .await
        .unwrap();
    let expected = [
        "start 1",
        "1 1/1 line 1",
        "done 1",
        "start 3",
        "3 1/2 line 2",
        "3 2/2 line 3",
        "done 3",
    ];
    assert_eq!(seen, expected);
    conn.close().await;
}

/// A second run: (name, the first run's files, the second run's files, its options, its
/// outcome, the rows after it).
type Rerun = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static [(&'static str, &'static str)],
    UpgradeOptions,
    Result<&'static [u64], &'static str>,
    &'static [RowSummary],
);

const RERUNS: [Rerun; 4] = [
    (
        "nothing to do",
        &[A, B],
        &[A, B],
        LATEST,
        Ok(&[]),
        &[(1, "applied", 1, 1), (2, "applied", 2, 2)],
    ),
    (
        "a new file runs alone",
        &[A],
        &[A, B],
        LATEST,
        Ok(&[2]),
        &[(1, "applied", 1, 1), (2, "applied", 2, 2)],
    ),
    (
        "a failed migration blocks the next run",
        &[A, C_STEPWISE_FAILS],
        &[A, C_STEPWISE],
        LATEST,
        Err("refused: failed 3"),
        &[(1, "applied", 1, 1), (3, "failed", 1, 2)],
    ),
    (
        "--resume continues after the committed statement",
        &[A, C_STEPWISE_FAILS],
        &[A, C_STEPWISE],
        RESUME,
        Ok(&[3]),
        &[(1, "applied", 1, 1), (3, "applied", 2, 2)],
    ),
];

/// A run after another: resume, an edited file, nothing to do.
#[tokio::test]
async fn a_second_run_continues_from_the_history() {
    for (name, first, second, options, outcome, rows) in RERUNS {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(dir.path()).await;
        let files = set(&conn, first);
        let _ = upgrade(&mut conn, &files, LATEST, None, &mut |_| {}).await;
        let files = set(&conn, second);
        let ran = upgrade(&mut conn, &files, options, None, &mut |_| {})
            .await
            .map(|o| o.applied.iter().map(|a| a.version).collect::<Vec<_>>())
            .map_err(|e| summary(&e));
        assert_eq!(
            ran,
            outcome.map(<[u64]>::to_vec).map_err(str::to_string),
            "{name}"
        );
        assert_eq!(state(&mut conn).await.0, rows, "{name}: rows");
        conn.close().await;
    }
}

const A_DOWN: (&str, &str) = ("1_a.down.sql", "ALTER TABLE a RENAME TO a_reverted;");
const B_DOWN: (&str, &str) = ("2_b.down.sql", "ALTER TABLE b RENAME TO b_reverted;");
const B_DOWN_FAILS: (&str, &str) = ("2_b.down.sql", "DELETE FROM nowhere;");
const C_DOWN_STEPWISE_FAILS: (&str, &str) = (
    "3_c.down.sql",
    "-- aurweb-migrate: no-transaction\nDELETE FROM c;\nDELETE FROM nowhere;",
);

/// A downgrade after an upgrade: (name, files, --to, the versions reverted or the error's
/// summary, the rows and tables after it).
type Revert = (
    &'static str,
    &'static [(&'static str, &'static str)],
    Option<u64>,
    Result<&'static [u64], &'static str>,
    &'static [RowSummary],
    &'static [&'static str],
);

const REVERTS: [Revert; 4] = [
    (
        "without --to: the newest one",
        &[A, A_DOWN, B, B_DOWN],
        None,
        Ok(&[2]),
        &[(1, "applied", 1, 1)],
        &["a", "b_reverted"],
    ),
    (
        "--to 0: everything, newest first",
        &[A, A_DOWN, B, B_DOWN],
        Some(0),
        Ok(&[2, 1]),
        &[],
        &["a_reverted", "b_reverted"],
    ),
    (
        "a failing reverse file is rolled back: still applied",
        &[A, A_DOWN, B, B_DOWN_FAILS],
        Some(0),
        Err("failed 2 at 1 of 1, rolled back"),
        &[(1, "applied", 1, 1), (2, "applied", 2, 2)],
        &["a", "b"],
    ),
    (
        "a stepwise reverse file that fails later is recorded as failed",
        &[A, C_STEPWISE, C_DOWN_STEPWISE_FAILS],
        None,
        Err("failed 3 at 2 of 2, committed [(1, 2)]"),
        &[(1, "applied", 1, 1), (3, "failed", 2, 2)],
        &["a", "c"],
    ),
];

#[tokio::test]
async fn downgrade_reverts_newest_first_or_says_what_stays() {
    for (name, files, to, outcome, rows, tables) in REVERTS {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(dir.path()).await;
        let files = set(&conn, files);
        upgrade(&mut conn, &files, LATEST, None, &mut |_| {})
            .await
            .unwrap();
        let ran = downgrade(&mut conn, &files, to, &mut |_| {})
            .await
            .map(|o| o.applied.iter().map(|a| a.version).collect::<Vec<_>>())
            .map_err(|e| summary(&e));
        assert_eq!(
            ran,
            outcome.map(<[u64]>::to_vec).map_err(str::to_string),
            "{name}"
        );
        let (got_rows, got_tables) = state(&mut conn).await;
        assert_eq!(got_rows, rows, "{name}: rows");
        assert_eq!(got_tables, tables, "{name}: tables");
        conn.close().await;
    }
}

/// An empty database built from a schema file: the versions it equals are `baseline`, the
/// ones after it run.
#[tokio::test]
async fn an_empty_database_is_built_from_the_schema_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(dir.path()).await;
    let files = set(&conn, &[A, B, C_STEPWISE]);
    let schema = schema_from_text(
        "schema/sqlite.sql".into(),
        "-- schema-version: 2\nCREATE TABLE a (x INTEGER);\nCREATE TABLE b (y INTEGER);".into(),
        conn.dialect(),
    )
    .unwrap();
    let outcome = upgrade(&mut conn, &files, LATEST, Some(&schema), &mut |_| {})
        .await
        .unwrap();
    let installed = outcome.installed.expect("built from the schema file");
    assert_eq!((installed.statements, installed.baseline), (2, vec![1, 2]));
    assert_eq!(
        outcome
            .applied
            .iter()
            .map(|a| a.version)
            .collect::<Vec<_>>(),
        [3]
    );
    let (rows, tables) = state(&mut conn).await;
    assert_eq!(
        rows,
        [
            (1, "baseline", 1, 1),
            (2, "baseline", 2, 2),
            (3, "applied", 2, 2)
        ]
    );
    assert_eq!(tables, ["a", "b", "c"]);
    conn.close().await;
}

/// A database with tables but no history is neither built nor migrated: it must be adopted.
#[tokio::test]
async fn tables_without_history_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(dir.path()).await;
    conn.execute("CREATE TABLE legacy (x INTEGER)")
        .await
        .unwrap();
    let files = set(&conn, &[A]);
    let schema = schema_from_text(
        "schema/sqlite.sql".into(),
        "-- schema-version: 1\nCREATE TABLE a (x INTEGER);".into(),
        conn.dialect(),
    )
    .unwrap();
    for schema in [Some(&schema), None] {
        let refused = upgrade(&mut conn, &files, LATEST, schema, &mut |_| {})
            .await
            .unwrap_err();
        assert_eq!(
            (refused.kind(), refused.exit_code()),
            ("refused", 5),
            "{refused}"
        );
        assert!(
            refused.to_string().starts_with("refusing to run: "),
            "{refused}"
        );
    }
    assert_eq!(state(&mut conn).await, (vec![], vec!["legacy".to_string()]));
    conn.close().await;
}

/// `stamp` (or `baseline`) and `resolve`.
#[derive(Clone, Copy)]
enum Recording {
    Stamp(u64, StampMode),
    Resolve(u64, Resolution),
}

/// A command that records without running: (name, the version upgraded to first, the
/// command, its outcome, the rows after it).
type Record = (
    &'static str,
    Option<u64>,
    Recording,
    Result<(), &'static str>,
    &'static [RowSummary],
);

const RECORDS: [Record; 7] = [
    (
        "stamp records pending versions as baseline",
        None,
        Recording::Stamp(2, StampMode::Stamp),
        Ok(()),
        &[(1, "baseline", 1, 1), (2, "baseline", 2, 2)],
    ),
    (
        "stamp of a version no file has",
        None,
        Recording::Stamp(9, StampMode::Stamp),
        Err("usage: version 9 is not a migration in migrations"),
        &[],
    ),
    (
        "baseline on a database with a history",
        Some(1),
        Recording::Stamp(2, StampMode::Baseline),
        Err("usage: the database already has a history (1 recorded versions); `baseline` adopts a database without one; use `aurweb-migrate stamp 2` to record the 1 pending version(s) up to 2"),
        &[(1, "applied", 1, 1)],
    ),
    (
        "resolve of a version not recorded",
        Some(1),
        Recording::Resolve(2, Resolution::RolledBack),
        Err("usage: version 2 is not recorded in the database; nothing to resolve"),
        &[(1, "applied", 1, 1)],
    ),
    (
        "resolve of an applied version",
        Some(1),
        Recording::Resolve(1, Resolution::Applied),
        Err("usage: version 1 is applied, not failed; nothing to resolve"),
        &[(1, "applied", 1, 1)],
    ),
    (
        "resolve --rolled-back forgets the failed version",
        Some(3),
        Recording::Resolve(3, Resolution::RolledBack),
        Ok(()),
        &[(1, "applied", 1, 1), (2, "applied", 2, 2)],
    ),
    (
        "resolve --applied completes it",
        Some(3),
        Recording::Resolve(3, Resolution::Applied),
        Ok(()),
        &[(1, "applied", 1, 1), (2, "applied", 2, 2), (3, "applied", 2, 2)],
    ),
];

#[tokio::test]
async fn history_is_recorded_without_running() {
    for (name, applied, command, outcome, rows) in RECORDS {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(dir.path()).await;
        // Version 3 fails at its second statement, recorded as failed.
        let files = set(&conn, &[A, B, C_STEPWISE_FAILS]);
        if let Some(v) = applied {
            let to = UpgradeOptions {
                target: Target::Version(v),
                ..LATEST
            };
            let _ = upgrade(&mut conn, &files, to, None, &mut |_| {}).await;
        }
        let ran = match command {
            Recording::Stamp(v, mode) => stamp(&mut conn, &files, v, mode).await.map(drop),
            Recording::Resolve(v, resolution) => {
                let file = files.get(v).map(|m| FileNow {
                    checksum: m.up.checksum.clone(),
                    statements_checksum: m.up.statements_checksum(),
                });
                resolve(&mut conn, v, resolution, file).await.map(drop)
            }
        };
        assert_eq!(
            ran.map_err(|e| summary(&e)),
            outcome.map_err(str::to_string),
            "{name}"
        );
        assert_eq!(state(&mut conn).await.0, rows, "{name}: rows");
        conn.close().await;
    }
}
