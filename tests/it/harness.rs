//! Self-tests of the harness itself, through sqlx only (no run of the tool): what `Db::exec`
//! writes, the query helpers read back the same on every dialect; MySQL databases are one per
//! handle and go away with it.

use crate::each_db;
use crate::support::{mysql_server, split_mysql_url, Db, Env, HistoryRow, TABLE};

each_db!(
    helpers_read_back_what_exec_wrote,
    history_reads_the_version_table
);

fn helpers_read_back_what_exec_wrote(db: &Db) {
    // A MySQL test's database exists from the start; a SQLite file once something writes it.
    assert_eq!(db.exists(), db.is_mysql(), "{}", db.url());
    assert_eq!(db.tables(), Vec::<String>::new());
    db.exec(
        "CREATE TABLE h (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, n BIGINT, note TEXT);\n\
         INSERT INTO h (id, name, n, note) VALUES (1, 'one', 10, 'a;b'), (2, 'two', NULL, NULL), (3, 'three', 30, 'it''s');\n\
         CREATE TABLE `B_upper` (x INTEGER);\n\
         CREATE TABLE a_lower (x INTEGER);",
    );
    assert!(db.exists());
    // Bytewise order on both dialects (MySQL's information_schema would sort case-blind).
    assert_eq!(db.tables(), ["B_upper", "a_lower", "h"]);
    db.assert_tables(&["B_upper", "a_lower", "h"]);
    assert!(db.has_table("h") && !db.has_table("H_nope"));
    assert_eq!(db.count("h"), 3);
    assert_eq!(db.count("a_lower"), 0);
    assert_eq!(db.scalar("SELECT MAX(id) FROM h"), 3);
    assert_eq!(db.scalar("SELECT n FROM h WHERE id = 3"), 30);
    // COUNT is BIGINT on MySQL, SUM a DECIMAL: both read as integers.
    assert_eq!(db.scalar("SELECT COUNT(DISTINCT n) FROM h"), 2);
    assert_eq!(db.scalar("SELECT SUM(n) FROM h"), 40);
    assert_eq!(
        db.strings("SELECT name FROM h ORDER BY id"),
        ["one", "two", "three"]
    );
    assert_eq!(
        db.strings("SELECT note FROM h WHERE note IS NOT NULL ORDER BY id"),
        ["a;b", "it's"]
    );
    assert_eq!(
        db.strings("SELECT name FROM h WHERE id > 99"),
        Vec::<String>::new()
    );
    // No version table yet.
    assert!(db.history().is_empty());
    assert!(db.states().is_empty());
}

/// The tool's version table DDL (see src/history.rs), portable, with hand-written rows.
fn history_reads_the_version_table(db: &Db) {
    db.exec(&format!(
        "CREATE TABLE {TABLE} (\n\
         version BIGINT NOT NULL PRIMARY KEY, description VARCHAR(255) NOT NULL,\n\
         checksum VARCHAR(80) NOT NULL, state VARCHAR(16) NOT NULL,\n\
         statements_done INTEGER NOT NULL, statements_total INTEGER NOT NULL,\n\
         progress_checksum VARCHAR(80) NULL, error_text TEXT NULL,\n\
         applied_at VARCHAR(32) NOT NULL, applied_by VARCHAR(255) NOT NULL,\n\
         execution_ms BIGINT NOT NULL, tool_version VARCHAR(32) NOT NULL);\n\
         INSERT INTO {TABLE} VALUES (20240101120000, 'two', 'sha256-v1:bb', 'failed', 1, 2, NULL, 'boom; at line 4', '2024-01-01T12:00:00.000Z', 'u@h', 7, '0.1.0');\n\
         INSERT INTO {TABLE} VALUES (3, 'one', 'sha256-v1:aa', 'applied', 1, 1, NULL, NULL, '2023-12-31T23:59:59.999Z', 'u@h', 0, '0.1.0');"
    ));
    db.assert_tables(&[]);
    let h = db.history();
    assert_eq!(
        h,
        [
            HistoryRow {
                version: 3,
                description: "one".into(),
                checksum: "sha256-v1:aa".into(),
                state: "applied".into(),
                statements_done: 1,
                statements_total: 1,
                error_text: None,
                applied_at: "2023-12-31T23:59:59.999Z".into(),
                applied_by: "u@h".into(),
                execution_ms: 0,
                tool_version: "0.1.0".into(),
            },
            HistoryRow {
                version: 20240101120000,
                description: "two".into(),
                checksum: "sha256-v1:bb".into(),
                state: "failed".into(),
                statements_done: 1,
                statements_total: 2,
                error_text: Some("boom; at line 4".into()),
                applied_at: "2024-01-01T12:00:00.000Z".into(),
                applied_by: "u@h".into(),
                execution_ms: 7,
                tool_version: "0.1.0".into(),
            },
        ]
    );
    assert_eq!(
        db.states(),
        [(3, "applied".into()), (20240101120000, "failed".into())]
    );
    assert!(db.history_of("other_table").is_empty());
}

/// Each MySQL handle is its own database, named for the tool's URL, and dropping the handle
/// drops the database.
#[test]
fn mysql_databases_are_per_handle_and_dropped() {
    let env = Env::new();
    let Some(a) = Db::mysql(&env, "harness::per_handle") else {
        return;
    };
    let b = Db::mysql(&env, "harness::per_handle").expect("a second handle");
    let (name_a, name_b) = (
        a.mysql_database().to_string(),
        b.mysql_database().to_string(),
    );
    assert_ne!(name_a, name_b);
    assert!(name_a.starts_with("it_") && name_a.len() <= 64, "{name_a}");
    assert!(a.url().ends_with(&format!("/{name_a}")), "{}", a.url());
    assert!(a.url().starts_with("mysql://") || a.url().starts_with("mariadb://"));
    assert_eq!(a.dialect(), "mysql");
    a.exec("CREATE TABLE only_in_a (x INTEGER)");
    assert_eq!(a.tables(), ["only_in_a"]);
    assert!(b.tables().is_empty(), "databases are separate");
    let schema = |name: &str| {
        a.strings(&format!(
            "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata WHERE schema_name = '{name}'"
        ))
    };
    assert_eq!(schema(&name_b), [name_b.as_str()]);
    drop(b);
    assert!(schema(&name_b).is_empty(), "{name_b} survived its handle");
    drop(a);
    // The server is still there for the next test.
    assert!(mysql_server().is_ok_and(|s| s.is_some()));
}

#[test]
fn mysql_url_from_the_environment_is_split_and_redacted() {
    let split = |u: &str| split_mysql_url(u).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        split("mysql://root@127.0.0.1:3306/"),
        (
            "mysql://root@127.0.0.1:3306".into(),
            "mysql://root@127.0.0.1:3306".into(),
            String::new()
        )
    );
    assert_eq!(
        split("mariadb://u:s3cret@db.example:3307/ignored?ssl-mode=disabled"),
        (
            "mariadb://u:s3cret@db.example:3307".into(),
            "mariadb://u:***@db.example:3307".into(),
            "?ssl-mode=disabled".into()
        )
    );
    assert_eq!(split("mysql://localhost").0, "mysql://localhost");
    for bad in ["postgres://x@y/", "mysql:///db", "127.0.0.1:3306"] {
        assert!(split_mysql_url(bad).is_err(), "{bad}");
    }
}
