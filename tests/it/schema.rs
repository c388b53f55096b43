//! `schema/`: fresh installs from the schema file, `verify`, `schema dump` / `schema diff`,
//! `check --drift`, and the comparison that guards adoption (`adopt --from alembic`,
//! `baseline` of a database without any version table).
//!
//! The fixture is a small aurweb-like set: 1 creates `Users`, 2 creates `Packages` (a foreign
//! key to `Users`, an index), 3 adds `Users.Lang`. 1 and 2 have a variant per dialect (MySQL
//! needs `AUTO_INCREMENT` and a table-level `FOREIGN KEY`) and declare Alembic revisions; 3 is
//! portable. `schema_at(env, v)` writes both schema files equal to version `v`.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::each_db;
use crate::support::{int, Db, Env, TABLE};

const USERS_MYSQL: &str = "CREATE TABLE Users (
    ID INT UNSIGNED NOT NULL AUTO_INCREMENT,
    Email VARCHAR(254) NOT NULL,
    PRIMARY KEY (ID),
    UNIQUE (Email)
) ENGINE=InnoDB;
";

const USERS_SQLITE: &str = "CREATE TABLE Users (
    ID INTEGER NOT NULL PRIMARY KEY,
    Email VARCHAR(254) NOT NULL,
    UNIQUE (Email)
);
";

const PACKAGES_MYSQL: &str = "CREATE TABLE Packages (
    ID INT UNSIGNED NOT NULL AUTO_INCREMENT,
    Name VARCHAR(255) NOT NULL,
    MaintainerUID INT UNSIGNED NULL DEFAULT NULL,
    PRIMARY KEY (ID),
    FOREIGN KEY (MaintainerUID) REFERENCES Users(ID) ON DELETE SET NULL
) ENGINE=InnoDB;
CREATE INDEX PackagesName ON Packages (Name);
";

const PACKAGES_SQLITE: &str = "CREATE TABLE Packages (
    ID INTEGER NOT NULL PRIMARY KEY,
    Name VARCHAR(255) NOT NULL,
    MaintainerUID INTEGER NULL DEFAULT NULL,
    FOREIGN KEY (MaintainerUID) REFERENCES Users(ID) ON DELETE SET NULL
);
CREATE INDEX PackagesName ON Packages (Name);
";

const LANG: &str = "ALTER TABLE Users ADD COLUMN Lang VARCHAR(6) NOT NULL DEFAULT 'en';\n";

/// The DDL of versions 1..=`upto` for a dialect (`"mysql"` or `"sqlite"`).
fn ddl(dialect: &str, upto: u64) -> String {
    let (users, packages) = match dialect {
        "mysql" => (USERS_MYSQL, PACKAGES_MYSQL),
        "sqlite" => (USERS_SQLITE, PACKAGES_SQLITE),
        other => panic!("unknown dialect {other}"),
    };
    [users, packages, LANG][..upto as usize].concat()
}

/// Migrations 1..=`n` (n ≤ 3).
fn migrations(env: &Env, n: u64) {
    env.migration(
        "0001_users.mysql.sql",
        &format!("-- alembic-revision: aaa111\n{USERS_MYSQL}"),
    );
    env.migration(
        "0001_users.sqlite.sql",
        &format!("-- alembic-revision: aaa111\n{USERS_SQLITE}"),
    );
    if n >= 2 {
        env.migration(
            "0002_packages.mysql.sql",
            &format!("-- alembic-revision: bbb222\n{PACKAGES_MYSQL}"),
        );
        env.migration(
            "0002_packages.sqlite.sql",
            &format!("-- alembic-revision: bbb222\n{PACKAGES_SQLITE}"),
        );
    }
    if n >= 3 {
        env.migration("0003_lang.sql", LANG);
    }
}

/// The schema file text equal to version `version`, declaring `declared` as its version.
fn schema_text(dialect: &str, declared: u64, version: u64) -> String {
    format!(
        "-- schema-version: {declared}\n-- the test schema\n\n{}",
        ddl(dialect, version)
    )
}

/// Both schema files, equal to version `v`.
fn schema_at(env: &Env, v: u64) {
    for d in ["mysql", "sqlite"] {
        env.schema_file(&format!("{d}.sql"), &schema_text(d, v, v));
    }
}

/// `schema/<dialect>.sql` as the tool prints it.
fn schema_path(db: &Db) -> String {
    format!("schema/{}.sql", db.dialect())
}

fn versions(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list:#}"))
        .iter()
        .map(|a| a["version"].as_i64().expect("integer version"))
        .collect()
}

fn states(pairs: &[(i64, &str)]) -> Vec<(i64, String)> {
    pairs.iter().map(|(v, s)| (*v, s.to_string())).collect()
}

/// `schema dump` of a database, asserting it succeeded.
fn dump(db: &Db) -> String {
    db.run(&["schema", "dump"]).ok().stdout.clone()
}

/// A database as Alembic left it: the schema of `version` and `alembic_version` holding
/// `revision`.
fn alembic_database(db: &Db, version: u64, revision: &str) {
    db.exec(&ddl(db.dialect(), version));
    db.exec(&format!(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, PRIMARY KEY (version_num));
         INSERT INTO alembic_version (version_num) VALUES ('{revision}');"
    ));
}

/// Two hand-made changes: `Packages.PackagesName` dropped, `Users.Extra` added.
fn hand_made_changes(db: &Db) {
    if db.is_mysql() {
        db.exec("DROP INDEX PackagesName ON Packages; ALTER TABLE Users ADD COLUMN Extra INT NULL");
    } else {
        db.exec("DROP INDEX PackagesName; ALTER TABLE Users ADD COLUMN Extra INTEGER NULL");
    }
}

const MISSING_INDEX: &str = "Packages: index PackagesName: missing (expected (Name))";
const EXTRA_COLUMN: &str = "Users: column Extra: not expected (found ";

each_db!(
    dry_run_at_the_schema_version_says_one_thing,
    fresh_install_equals_replay,
    install_then_later_migrations_apply,
    replay_flag_runs_the_migrations,
    to_below_the_schema_version_replays,
    dry_run_tells_which_road,
    tables_without_history_are_refused,
    verify_passes_on_a_consistent_repository,
    verify_names_a_one_line_difference,
    verify_fails_when_the_schema_version_is_behind,
    schema_dump_json_shape,
    schema_diff_exit_codes,
    check_drift_reports_hand_made_changes,
    adopt_alembic_records_up_to_its_revision,
    adopt_alembic_refuses_unknown_revision_or_missing_table,
    adopt_alembic_drift_is_refused_unless_accepted,
    baseline_without_version_table_compares_first,
    failed_install_leaves_the_database_empty,
    concurrent_upgrades_install_once,
    bad_schema_files_are_input_errors,
);

fn fresh_install_equals_replay(db: &Db) {
    migrations(db.env, 2);
    schema_at(db.env, 2);
    let doc = db.run(&["upgrade", "--format", "json"]).ok().json();
    assert_eq!(doc["changed"], true, "{doc:#}");
    assert_eq!(doc["installed"]["file"], schema_path(db), "{doc:#}");
    // The Packages statements: CREATE TABLE and CREATE INDEX; Users: one.
    assert_eq!(doc["installed"]["statements"], 3, "{doc:#}");
    assert!(doc["installed"]["execution_ms"].is_u64(), "{doc:#}");
    assert_eq!(doc["installed"]["baseline"], json!([1, 2]), "{doc:#}");
    assert_eq!(doc["applied"], json!([]), "{doc:#}");
    assert_eq!(int(&doc, "current"), 2);
    assert_eq!(db.states(), states(&[(1, "baseline"), (2, "baseline")]));
    // Baseline rows carry the migration files' checksums, so `check` is clean.
    db.run(&["check"]).ok();

    let replayed = db.sibling();
    let doc = replayed
        .run(&["upgrade", "--replay", "--format", "json"])
        .ok()
        .json();
    assert!(doc["installed"].is_null(), "{doc:#}");
    assert_eq!(versions(&doc["applied"]), [1, 2]);

    let installed_text = dump(db);
    assert!(
        installed_text.contains("table Users")
            && installed_text.contains("  column Email VARCHAR(254) NOT NULL\n")
            && installed_text.contains("  index PackagesName (Name)\n")
            && installed_text.contains(
                "  foreign key (MaintainerUID) references Users (ID) on delete SET NULL on update NO ACTION\n"
            ),
        "{installed_text}"
    );
    assert!(!installed_text.contains(TABLE), "{installed_text}");
    assert_eq!(installed_text, dump(&replayed), "install and replay differ");

    // A second run has nothing to do and does not install again.
    let doc = db.run(&["upgrade", "--format", "json"]).ok().json();
    assert_eq!(doc["changed"], false, "{doc:#}");
    assert!(doc["installed"].is_null(), "{doc:#}");
}

fn install_then_later_migrations_apply(db: &Db) {
    migrations(db.env, 3);
    schema_at(db.env, 2);
    let doc = db.run(&["upgrade", "--format", "json"]).ok().json();
    assert_eq!(doc["installed"]["baseline"], json!([1, 2]), "{doc:#}");
    assert_eq!(versions(&doc["applied"]), [3], "{doc:#}");
    assert_eq!(int(&doc, "current"), 3);
    assert_eq!(
        db.states(),
        states(&[(1, "baseline"), (2, "baseline"), (3, "applied")])
    );
    assert!(
        dump(db).contains("  column Lang VARCHAR(6) NOT NULL DEFAULT 'en'\n"),
        "migration 3 ran after the install"
    );
    db.assert_tables(&["Packages", "Users"]);

    // The human form says which road it took.
    let other = db.sibling();
    other
        .run(&["upgrade"])
        .ok()
        .stdout_has(&format!("built the database from {}", schema_path(db)))
        .stdout_has("recorded versions 1-2 as baseline")
        .stdout_has("applied  3  lang");
}

fn replay_flag_runs_the_migrations(db: &Db) {
    migrations(db.env, 2);
    // A schema file that would leave a marker table behind, were it used.
    for d in ["mysql", "sqlite"] {
        db.env.schema_file(
            &format!("{d}.sql"),
            &format!(
                "{}CREATE TABLE from_schema (x INTEGER);\n",
                schema_text(d, 2, 2)
            ),
        );
    }
    let doc = db
        .run(&["upgrade", "--replay", "--format", "json"])
        .ok()
        .json();
    assert!(doc["installed"].is_null(), "{doc:#}");
    assert_eq!(versions(&doc["applied"]), [1, 2], "{doc:#}");
    assert_eq!(db.states(), states(&[(1, "applied"), (2, "applied")]));
    db.assert_tables(&["Packages", "Users"]);

    // Without --replay the same files take the schema road (the marker shows it).
    let other = db.sibling();
    let doc = other.run(&["upgrade", "--format", "json"]).ok().json();
    assert_eq!(doc["installed"]["baseline"], json!([1, 2]), "{doc:#}");
    other.assert_tables(&["Packages", "Users", "from_schema"]);
}

fn to_below_the_schema_version_replays(db: &Db) {
    migrations(db.env, 3);
    schema_at(db.env, 3);
    let doc = db
        .run(&["upgrade", "--to", "2", "--format", "json"])
        .ok()
        .json();
    assert!(doc["installed"].is_null(), "{doc:#}");
    assert_eq!(versions(&doc["applied"]), [1, 2], "{doc:#}");
    assert_eq!(db.states(), states(&[(1, "applied"), (2, "applied")]));
    // The database has a history now: the rest is applied, never installed.
    let doc = db.run(&["upgrade", "--format", "json"]).ok().json();
    assert!(doc["installed"].is_null(), "{doc:#}");
    assert_eq!(versions(&doc["applied"]), [3], "{doc:#}");
    assert_eq!(
        db.states(),
        states(&[(1, "applied"), (2, "applied"), (3, "applied")])
    );

    // --to the schema's own version installs.
    let other = db.sibling();
    let doc = other
        .run(&["upgrade", "--to", "3", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["installed"]["baseline"], json!([1, 2, 3]), "{doc:#}");
    assert_eq!(dump(db), dump(&other));
}

/// An empty database and a schema at the newest version: the dry run says it would be built
/// and that nothing runs after it, not also "nothing to do".
fn dry_run_at_the_schema_version_says_one_thing(db: &Db) {
    migrations(db.env, 3);
    schema_at(db.env, 3);
    let path = schema_path(db);
    let run = db.run(&["upgrade", "--dry-run"]);
    run.ok()
        .stdout_has(&format!(
            "-- the database is empty: it would be built from {path}"
        ))
        .stdout_has(&format!(
            "-- no migration would run after it: {path} is at the newest version"
        ))
        .nowhere("nothing to do");
    let doc = db
        .run(&["upgrade", "--dry-run", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["install"]["baseline"], json!([1, 2, 3]), "{doc:#}");
    assert_eq!(doc["pending"], json!([]), "{doc:#}");
    // After the real run, the dry run has nothing to do, and says only that.
    db.run(&["upgrade", "-q"]).ok();
    let run = db.run(&["upgrade", "--dry-run"]);
    run.ok()
        .stdout_has("nothing to do")
        .nowhere("would be built");
}

fn dry_run_tells_which_road(db: &Db) {
    migrations(db.env, 3);
    schema_at(db.env, 2);
    let path = schema_path(db);
    let run = db.run(&["upgrade", "--dry-run"]);
    run.ok()
        .stdout_has(&format!(
            "-- the database is empty: it would be built from {path} (3 statements) and versions up to 2 recorded as baseline (--replay runs the migrations instead)"
        ))
        .stdout_has("-- 3 lang (migrations/0003_lang.sql)")
        .check(
            !run.stdout.contains("-- 1 users") && !run.stdout.contains("-- 2 packages"),
            "the installed versions are not listed as pending",
        );
    let doc = db
        .run(&["upgrade", "--dry-run", "--format", "json"])
        .ok()
        .json();
    assert_eq!(
        doc["install"],
        json!({"file": path, "statements": 3, "baseline": [1, 2]}),
        "{doc:#}"
    );
    assert_eq!(versions(&doc["pending"]), [3], "{doc:#}");

    let run = db.run(&["upgrade", "--dry-run", "--replay"]);
    run.ok()
        .nowhere("would be built")
        .stdout_has("-- 1 users")
        .stdout_has("-- 3 lang");
    let doc = db
        .run(&["upgrade", "--dry-run", "--to", "1", "--format", "json"])
        .ok()
        .json();
    assert!(doc["install"].is_null(), "{doc:#}");
    assert_eq!(versions(&doc["pending"]), [1], "{doc:#}");

    // Nothing was written.
    assert!(db.tables().is_empty(), "{:?}", db.tables());
    if db.is_sqlite() {
        assert!(!db.exists(), "a dry run created the SQLite file");
    }

    // A database with history: no install note.
    db.run(&["upgrade", "--to", "1", "--replay"]).ok();
    db.run(&["upgrade", "--dry-run"])
        .ok()
        .nowhere("would be built")
        .stdout_has("-- 2 packages");
}

fn tables_without_history_are_refused(db: &Db) {
    migrations(db.env, 2);
    schema_at(db.env, 2);
    db.exec("CREATE TABLE legacy (x INTEGER)");
    // A dry run answers as the real run does.
    for extra in [&[][..], &["--replay"][..], &["--dry-run"][..]] {
        let mut args = vec!["upgrade"];
        args.extend_from_slice(extra);
        db.run(&args)
            .code(5)
            .stderr_has("the database holds 1 table(s) (legacy) but no migration history")
            .stderr_has("adopt --from alembic")
            .stderr_has("baseline VERSION");
    }
    let doc = db.run(&["upgrade", "--format", "json"]).code(5).json();
    assert_eq!(doc["error"]["kind"], "refused", "{doc:#}");
    assert!(db.history().is_empty(), "{:?}", db.history());
    db.assert_tables(&["legacy"]);
    // An empty version table is no history: such a database is empty, and installed.
    let other = db.sibling();
    other.run(&["upgrade", "--to", "1", "--replay"]).ok();
    other.exec(&format!("DELETE FROM {TABLE}; DROP TABLE Users"));
    assert_eq!(other.tables(), [TABLE]);
    let doc = other.run(&["upgrade", "--format", "json"]).ok().json();
    assert_eq!(doc["installed"]["baseline"], json!([1, 2]), "{doc:#}");
    assert_eq!(other.states(), states(&[(1, "baseline"), (2, "baseline")]));
}

/// The MySQL scratch databases of `db` still on the server.
fn scratch_databases(db: &Db) -> Vec<String> {
    db.strings(&format!(
        "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata WHERE schema_name LIKE '{}\\_migrate\\_%'",
        db.mysql_database()
    ))
}

/// `verify ARGS` as the test's dialect can run it: with a MySQL server both halves; on SQLite
/// alone `--dialect sqlite` (without it verify refuses to pass with the MySQL half unchecked).
fn verify(db: &Db, args: &[&str]) -> crate::support::Run {
    let mut all = vec!["verify"];
    if db.is_sqlite() {
        all.extend(["--dialect", "sqlite"]);
    }
    all.extend(args);
    db.run(&all)
}

/// `verify`'s checks by name.
fn checks(doc: &Value) -> BTreeMap<String, Value> {
    doc["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no checks: {doc:#}"))
        .iter()
        .map(|c| (c["name"].as_str().expect("name").to_string(), c.clone()))
        .collect()
}

fn verify_passes_on_a_consistent_repository(db: &Db) {
    migrations(db.env, 3);
    schema_at(db.env, 3);
    let run = verify(db, &[]);
    run.ok().stdout_has(
        "ok    sqlite: schema/sqlite.sql (expected) with a replay of 3 migration(s) from migrations (found)",
    );
    let doc = verify(db, &["--format", "json"]).ok().json();
    assert_eq!(doc["ok"], true, "{doc:#}");
    let checks = checks(&doc);
    for c in checks.values() {
        assert_eq!(c["differences"], json!([]), "{doc:#}");
    }
    if db.is_mysql() {
        run.stdout_has("ok    mysql: schema/mysql.sql (expected)")
            .stdout_has("ok    mysql-vs-sqlite:");
        assert_eq!(
            checks.keys().collect::<Vec<_>>(),
            ["mysql", "mysql-vs-sqlite", "sqlite"],
            "{doc:#}"
        );
        assert_eq!(doc["skipped"], json!([]), "{doc:#}");
        assert!(
            scratch_databases(db).is_empty(),
            "{:?}",
            scratch_databases(db)
        );
    } else {
        run.stdout_has("skip  mysql: not checked (--dialect sqlite)");
        assert_eq!(checks.keys().collect::<Vec<_>>(), ["sqlite"], "{doc:#}");
        assert_eq!(
            doc["skipped"],
            json!(["mysql: not checked (--dialect sqlite)"])
        );
        // Without --dialect and without a server, schema/mysql.sql is not checked: no pass.
        let run = db.run(&["verify"]);
        run.code(2)
            .stderr_has("the MySQL/MariaDB half was not checked")
            .stderr_has("--dialect sqlite");
        let doc = db.run(&["verify", "--format", "json"]).code(2).json();
        assert_eq!(doc["error"]["kind"], "usage", "{doc:#}");
        // Nothing to leave unchecked: a repository with only schema/sqlite.sql passes.
        db.env.remove("schema/mysql.sql");
        db.run(&["verify"]).ok().stdout_has("ok    sqlite:");
    }
    // The database named on the command line is not written.
    assert!(db.tables().is_empty(), "{:?}", db.tables());
}

fn verify_names_a_one_line_difference(db: &Db) {
    migrations(db.env, 3);
    schema_at(db.env, 3);
    let name = format!("{}.sql", db.dialect());
    let text = schema_text(db.dialect(), 3, 3);
    let changed = text.replacen("Email VARCHAR(254)", "Email VARCHAR(255)", 1);
    assert_ne!(text, changed);
    db.env.schema_file(&name, &changed);

    let run = verify(db, &[]);
    run.code(1)
        .stdout_has(&format!(
            "FAIL  {}: schema/{name} (expected) with a replay of 3 migration(s) from migrations (found): 1 difference(s)\n  Users: column Email: expected VARCHAR(255) NOT NULL, found VARCHAR(254) NOT NULL\n",
            db.dialect()
        ));
    if db.is_mysql() {
        // The other dialect is fine, and the families still agree across dialects.
        run.stdout_has("ok    sqlite:")
            .stdout_has("ok    mysql-vs-sqlite:");
        assert!(
            scratch_databases(db).is_empty(),
            "{:?}",
            scratch_databases(db)
        );
    }
    let doc = verify(db, &["--format", "json"]).code(1).json();
    assert_eq!(doc["ok"], false, "{doc:#}");
    assert_eq!(
        checks(&doc)[db.dialect()]["differences"],
        json!([{
            "table": "Users",
            "object": "column Email",
            "expected": "VARCHAR(255) NOT NULL",
            "found": "VARCHAR(254) NOT NULL",
        }]),
        "{doc:#}"
    );
}

fn verify_fails_when_the_schema_version_is_behind(db: &Db) {
    migrations(db.env, 3);
    // Both files are version 2's schema and say so: migration 3 has no schema change.
    schema_at(db.env, 2);
    let run = verify(db, &[]);
    run.code(1)
        .stdout_has(&format!("FAIL  {}:", db.dialect()))
        .stdout_has(&format!(
            "  {}: schema-version: expected 3 (the newest migration), found 2\n",
            schema_path(db)
        ))
        .stdout_has(
            "  Users: column Lang: not expected (found VARCHAR(6) NOT NULL DEFAULT 'en')\n",
        );
    let doc = verify(db, &["--format", "json"]).code(1).json();
    let diffs = checks(&doc)["sqlite"]["differences"].clone();
    assert_eq!(
        diffs[0],
        json!({
            "table": "schema/sqlite.sql",
            "object": "schema-version",
            "expected": "3 (the newest migration)",
            "found": "2",
        }),
        "{doc:#}"
    );

    // Declaring version 3 without the schema change is caught too.
    for d in ["mysql", "sqlite"] {
        db.env
            .schema_file(&format!("{d}.sql"), &schema_text(d, 3, 2));
    }
    verify(db, &[])
        .code(1)
        .nowhere("schema-version:")
        .stdout_has("  Users: column Lang: not expected");
}

fn schema_dump_json_shape(db: &Db) {
    migrations(db.env, 3);
    schema_at(db.env, 3);
    db.run(&["upgrade"]).ok();
    let doc = db.run(&["schema", "dump", "--format", "json"]).ok().json();
    assert!(doc["format_version"].is_u64(), "{doc:#}");
    assert_eq!(doc["dialect"], db.dialect(), "{doc:#}");
    assert_eq!(doc["database"], db.redacted_url(), "{doc:#}");
    let tables = doc["tables"].as_array().expect("tables");
    let names: Vec<&str> = tables.iter().map(|t| t["name"].as_str().unwrap()).collect();
    // Sorted by name; the history table is not part of the schema.
    assert_eq!(names, ["Packages", "Users"], "{doc:#}");
    let (packages, users) = (&tables[0], &tables[1]);
    let integer = if db.is_mysql() {
        "INT UNSIGNED"
    } else {
        "INTEGER"
    };
    let want = json!([
        {"name": "ID", "type": integer, "nullable": false, "default": null, "auto_increment": true},
        {"name": "Email", "type": "VARCHAR(254)", "nullable": false, "default": null, "auto_increment": false},
        {"name": "Lang", "type": "VARCHAR(6)", "nullable": false, "default": "'en'", "auto_increment": false},
    ]);
    let got = users["columns"].as_array().expect("columns");
    assert_eq!(got.len(), 3, "{doc:#}");
    for (want, got) in want.as_array().unwrap().iter().zip(got) {
        let mut got = got.clone();
        // MySQL adds each character column's collation; SQLite has none.
        let collation = got.as_object_mut().unwrap().remove("collation");
        if db.is_mysql() && want["type"].as_str().unwrap().starts_with("VARCHAR") {
            assert_eq!(collation, Some(json!("utf8mb4_general_ci")), "{doc:#}");
        } else {
            assert_eq!(collation, Some(Value::Null), "{doc:#}");
        }
        // `on_update` is always present: null but for MySQL's ON UPDATE CURRENT_TIMESTAMP.
        let on_update = got.as_object_mut().unwrap().remove("on_update");
        assert_eq!(on_update, Some(Value::Null), "{doc:#}");
        assert_eq!(&got, want, "{doc:#}");
    }
    assert_eq!(users["primary_key"], json!(["ID"]), "{doc:#}");
    assert_eq!(users["unique_keys"], json!([["Email"]]), "{doc:#}");
    assert_eq!(users["indexes"], json!([]), "{doc:#}");
    assert_eq!(
        packages["indexes"],
        json!([{"name": "PackagesName", "columns": ["Name"]}]),
        "{doc:#}"
    );
    assert_eq!(
        packages["foreign_keys"],
        json!([{
            "columns": ["MaintainerUID"],
            "references_table": "Users",
            "references_columns": ["ID"],
            "on_delete": "SET NULL",
            "on_update": "NO ACTION",
        }]),
        "{doc:#}"
    );
    if db.is_mysql() {
        assert_eq!(users["engine"], "InnoDB", "{doc:#}");
        assert_eq!(users["collation"], "utf8mb4_general_ci", "{doc:#}");
    } else {
        assert!(users["engine"].is_null(), "{doc:#}");
        assert!(users["collation"].is_null(), "{doc:#}");
    }
}

fn schema_diff_exit_codes(db: &Db) {
    migrations(db.env, 3);
    schema_at(db.env, 3);
    db.run(&["upgrade"]).ok();
    let path = schema_path(db);
    db.run(&["schema", "diff"])
        .ok()
        .stdout_has(&format!("same: the database's schema equals {path}"));
    let doc = db.run(&["schema", "diff", "--format", "json"]).ok().json();
    assert_eq!(doc["same"], true, "{doc:#}");
    assert_eq!(doc["differences"], json!([]), "{doc:#}");

    hand_made_changes(db);
    db.run(&["schema", "diff"])
        .code(1)
        .stdout_has(&format!(
            "the database's schema differs from {path} in 2 place(s):"
        ))
        .stdout_has(MISSING_INDEX)
        .stdout_has(EXTRA_COLUMN);
    let doc = db
        .run(&["schema", "diff", "--format", "json"])
        .code(1)
        .json();
    assert_eq!(doc["same"], false, "{doc:#}");
    assert_eq!(doc["expected"], path, "{doc:#}");
    let objects: Vec<(&str, &str)> = doc["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["table"].as_str().unwrap(), d["object"].as_str().unwrap()))
        .collect();
    assert_eq!(
        objects,
        [
            ("Packages", "index PackagesName"),
            ("Users", "column Extra")
        ],
        "{doc:#}"
    );

    // Without schema/, the head is a replay of the migrations.
    db.env.remove("schema/mysql.sql");
    db.env.remove("schema/sqlite.sql");
    db.run(&["schema", "diff"])
        .code(1)
        .stdout_has("differs from version 3's schema (replayed from migrations)")
        .stdout_has(MISSING_INDEX);
}

fn check_drift_reports_hand_made_changes(db: &Db) {
    migrations(db.env, 3);
    schema_at(db.env, 3);
    // Below the schema's version: compared with a replay up to version 2.
    db.run(&["upgrade", "--to", "2"]).ok();
    let doc = db
        .run(&["check", "--drift", "--format", "json"])
        .code(1)
        .json();
    let kinds: Vec<&str> = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["pending"], "no drift at version 2: {doc:#}");
    db.run(&["upgrade"]).ok();
    // At the schema's version: compared with the schema file.
    db.run(&["check", "--drift"]).ok();

    hand_made_changes(db);
    // Plain `check` looks at the history only.
    db.run(&["check"]).ok();
    let path = schema_path(db);
    db.run(&["check", "--drift"])
        .code(1)
        .stdout_has(&format!("drift from {path}: {MISSING_INDEX}"))
        .stdout_has(&format!("drift from {path}: {EXTRA_COLUMN}"));
    let doc = db
        .run(&["check", "--drift", "--format", "json"])
        .code(1)
        .json();
    assert_eq!(doc["ok"], false, "{doc:#}");
    let problems = doc["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 2, "{doc:#}");
    for p in problems {
        assert_eq!(p["kind"], "drift", "{doc:#}");
        assert_eq!(p["version"], 3, "{doc:#}");
    }
    assert!(
        problems[0]["message"]
            .as_str()
            .unwrap()
            .ends_with(MISSING_INDEX),
        "{doc:#}"
    );
}

fn adopt_alembic_records_up_to_its_revision(db: &Db) {
    migrations(db.env, 3);
    schema_at(db.env, 3);
    alembic_database(db, 2, "bbb222");
    let doc = db
        .run(&["adopt", "--from", "alembic", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["alembic_revision"], "bbb222", "{doc:#}");
    assert_eq!(versions(&doc["recorded"]), [1, 2], "{doc:#}");
    assert_eq!(doc["accepted_drift"], json!([]), "{doc:#}");
    assert_eq!(int(&doc, "current"), 2);
    assert_eq!(db.states(), states(&[(1, "baseline"), (2, "baseline")]));
    // Alembic's table is left alone.
    assert_eq!(
        db.strings("SELECT version_num FROM alembic_version"),
        ["bbb222"]
    );

    let doc = db.run(&["upgrade", "--format", "json"]).ok().json();
    assert!(doc["installed"].is_null(), "{doc:#}");
    assert_eq!(versions(&doc["applied"]), [3], "{doc:#}");
    assert_eq!(
        db.states(),
        states(&[(1, "baseline"), (2, "baseline"), (3, "applied")])
    );
    db.run(&["check", "--drift"]).ok();
    // Adopted once, then upgraded: adopting again (a deploy run a second time) succeeds and
    // records nothing.
    let doc = db
        .run(&["adopt", "--from", "alembic", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["changed"], false, "{doc:#}");
    assert_eq!(versions(&doc["recorded"]), Vec::<i64>::new(), "{doc:#}");
    assert_eq!(int(&doc, "current"), 3, "{doc:#}");
    db.run(&["adopt", "--from", "alembic"])
        .ok()
        .stdout_has("Alembic revision bbb222 is version 2")
        .stdout_has("adopted before");
    assert_eq!(
        db.states(),
        states(&[(1, "baseline"), (2, "baseline"), (3, "applied")])
    );
    // A schema that drifted since is refused, as on the first adoption.
    db.exec("CREATE TABLE by_hand (id INTEGER)");
    db.run(&["adopt", "--from", "alembic"])
        .code(5)
        .stderr_has("by_hand");
    db.exec("DROP TABLE by_hand");
    // Another revision than the one adopted is refused.
    db.exec("UPDATE alembic_version SET version_num = 'aaa111'");
    db.run(&["adopt", "--from", "alembic"])
        .code(5)
        .stderr_has("already has a history")
        .stderr_has("aaa111");

    // The human form, on a database at the schema file's own version.
    let other = db.sibling();
    alembic_database(&other, 1, "aaa111");
    other
        .run(&["adopt", "--from", "alembic"])
        .ok()
        .stdout_has("Alembic revision aaa111 is version 1")
        .stdout_has("baseline  1  users");
    assert_eq!(other.states(), states(&[(1, "baseline")]));
}

fn adopt_alembic_refuses_unknown_revision_or_missing_table(db: &Db) {
    migrations(db.env, 2);
    schema_at(db.env, 2);
    db.exec(&ddl(db.dialect(), 2));
    db.run(&["adopt", "--from", "alembic"])
        .code(5)
        .stderr_has("no alembic_version table");
    assert!(db.history().is_empty());

    db.exec(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL);
         INSERT INTO alembic_version (version_num) VALUES ('zzz999');",
    );
    db.run(&["adopt", "--from", "alembic"])
        .code(5)
        .stderr_has("Alembic revision zzz999 is not declared by any migration in migrations")
        .stderr_has("known: aaa111 = 1, bbb222 = 2");
    let doc = db
        .run(&["adopt", "--from", "alembic", "--format", "json"])
        .code(5)
        .json();
    assert_eq!(doc["error"]["kind"], "refused", "{doc:#}");
    assert!(db.history().is_empty(), "{:?}", db.history());

    // Two rows: a branched history has no single version.
    db.exec("INSERT INTO alembic_version (version_num) VALUES ('bbb222')");
    db.run(&["adopt", "--from", "alembic"])
        .code(5)
        .stderr_has("alembic_version holds 2 revisions");
    assert!(db.history().is_empty(), "{:?}", db.history());
}

fn adopt_alembic_drift_is_refused_unless_accepted(db: &Db) {
    migrations(db.env, 3);
    // Version 2 is the schema file's: compared with it.
    schema_at(db.env, 2);
    alembic_database(db, 2, "bbb222");
    hand_made_changes(db);
    let path = schema_path(db);
    db.run(&["adopt", "--from", "alembic"])
        .code(5)
        .stderr_has(&format!(
            "refusing to adopt Alembic revision bbb222 as version 2: the database's schema differs from {path} in 2 place(s):"
        ))
        .stderr_has(MISSING_INDEX)
        .stderr_has(EXTRA_COLUMN)
        .stderr_has("--accept-drift");
    let doc = db
        .run(&["adopt", "--from", "alembic", "--format", "json"])
        .code(5)
        .json();
    assert_eq!(doc["error"]["kind"], "drift", "{doc:#}");
    assert_eq!(doc["error"]["exit_code"], 5, "{doc:#}");
    let differences = doc["differences"].as_array().expect("differences");
    assert_eq!(differences.len(), 2, "{doc:#}");
    assert_eq!(
        differences[0],
        json!({"table": "Packages", "object": "index PackagesName", "expected": "(Name)", "found": null}),
        "{doc:#}"
    );
    assert!(db.history().is_empty(), "{:?}", db.history());

    let doc = db
        .run(&[
            "adopt",
            "--from",
            "alembic",
            "--accept-drift",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(versions(&doc["recorded"]), [1, 2], "{doc:#}");
    let accepted: Vec<(&str, &str)> = doc["accepted_drift"]
        .as_array()
        .expect("accepted_drift")
        .iter()
        .map(|d| (d["table"].as_str().unwrap(), d["object"].as_str().unwrap()))
        .collect();
    assert_eq!(
        accepted,
        [
            ("Packages", "index PackagesName"),
            ("Users", "column Extra")
        ],
        "{doc:#}"
    );
    assert_eq!(db.states(), states(&[(1, "baseline"), (2, "baseline")]));
    // The drift stays, and `check --drift` keeps saying so.
    db.run(&["check", "--drift"])
        .code(1)
        .stdout_has(MISSING_INDEX);
}

fn baseline_without_version_table_compares_first(db: &Db) {
    migrations(db.env, 3);
    schema_at(db.env, 3);
    db.exec(&ddl(db.dialect(), 2));
    // Version 1's schema has no Packages.
    db.run(&["baseline", "1"])
        .code(5)
        .stderr_has("refusing to baseline 1: the database's schema differs from version 1's schema (replayed from migrations) in 1 place(s):")
        .stderr_has("table Packages: not expected (found 3 columns)");
    assert!(db.history().is_empty(), "{:?}", db.history());

    let doc = db.run(&["baseline", "2", "--format", "json"]).ok().json();
    assert_eq!(versions(&doc["recorded"]), [1, 2], "{doc:#}");
    assert_eq!(doc["accepted_drift"], json!([]), "{doc:#}");
    assert_eq!(db.states(), states(&[(1, "baseline"), (2, "baseline")]));
    db.run(&["upgrade"]).ok();
    db.run(&["check", "--drift"]).ok();

    // At the schema file's version, the file is what it is compared with.
    let other = db.sibling();
    other.exec(&ddl(other.dialect(), 2));
    other
        .run(&["baseline", "3"])
        .code(5)
        .stderr_has(&format!("differs from {}", schema_path(db)))
        .stderr_has("Users: column Lang: missing (expected VARCHAR(6) NOT NULL DEFAULT 'en')");
    assert!(other.history().is_empty());
}

fn failed_install_leaves_the_database_empty(db: &Db) {
    migrations(db.env, 2);
    schema_at(db.env, 2);
    let name = format!("{}.sql", db.dialect());
    let good = schema_text(db.dialect(), 2, 2);
    let bad = format!("{good}\nINSERT INTO no_such_table (x) VALUES (1);\n");
    let line = good.lines().count() + 2;
    db.env.schema_file(&name, &bad);
    let path = schema_path(db);

    let run = db.run(&["upgrade"]);
    run.code(4)
        .stderr_has(&format!("{path}:{line}: "))
        .stderr_has(&format!(
            "building the database from {path} failed at statement 4 of 4; "
        ));
    if db.is_mysql() {
        // DDL committed as it went; the tool dropped both tables again.
        run.stderr_has("the 2 table(s) it had created were dropped, the database is empty again");
    } else {
        run.stderr_has("nothing was changed (rolled back)");
    }
    assert!(db.tables().is_empty(), "{:?}", db.tables());
    assert!(db.history().is_empty());

    let doc = db.run(&["upgrade", "--format", "json"]).code(4).json();
    assert_eq!(doc["error"]["kind"], "install-failed", "{doc:#}");
    assert_eq!(doc["error"]["exit_code"], 4, "{doc:#}");
    assert_eq!(doc["error"]["file"], path, "{doc:#}");
    assert_eq!(doc["error"]["line"], line, "{doc:#}");
    assert!(db.tables().is_empty(), "{:?}", db.tables());

    // Empty again means the fixed file installs.
    db.env.schema_file(&name, &good);
    let doc = db.run(&["upgrade", "--format", "json"]).ok().json();
    assert_eq!(doc["installed"]["baseline"], json!([1, 2]), "{doc:#}");
    db.assert_tables(&["Packages", "Users"]);
}

fn concurrent_upgrades_install_once(db: &Db) {
    migrations(db.env, 3);
    schema_at(db.env, 2);
    if db.is_sqlite() {
        // An empty file: a valid, empty SQLite database.
        std::fs::write(db.sqlite_path(), b"").expect("create the empty file");
    }
    race(db);
    // Once more on a second database (SQLite: a file that does not exist yet).
    race(&db.sibling());
}

/// Eight `upgrade`s at once on an empty database: one builds it from schema/ (version 2), one
/// applies 3, all succeed without an error.
fn race(db: &Db) {
    let spawned: Vec<_> = (0..8)
        .map(|_| {
            db.cmd(&["upgrade", "--format", "json", "--lock-timeout", "30"])
                .spawn()
        })
        .collect();
    let runs: Vec<_> = spawned.into_iter().map(|s| s.wait()).collect();
    let mut installs = 0;
    let mut applied = Vec::new();
    for run in &runs {
        run.ok().check(
            !run.stderr.to_lowercase().contains("error"),
            "no run reports an error",
        );
        let doc = run.json();
        assert_eq!(int(&doc, "current"), 3, "{doc:#}");
        if let Some(i) = doc.get("installed").filter(|i| !i.is_null()) {
            assert_eq!(i["baseline"], json!([1, 2]), "{doc:#}");
            installs += 1;
        }
        applied.extend(versions(&doc["applied"]));
    }
    assert_eq!(installs, 1, "exactly one process built the database");
    assert_eq!(applied, [3], "migration 3 applied by exactly one process");
    assert_eq!(
        db.states(),
        states(&[(1, "baseline"), (2, "baseline"), (3, "applied")])
    );
    db.assert_tables(&["Packages", "Users"]);
    db.run(&["check", "--drift"]).ok();
}

fn bad_schema_files_are_input_errors(db: &Db) {
    migrations(db.env, 2);
    let name = format!("{}.sql", db.dialect());
    let path = schema_path(db);
    // A version no migration has.
    db.env.schema_file(&name, &schema_text(db.dialect(), 9, 2));
    for extra in [&[][..], &["--dry-run"][..]] {
        let mut args = vec!["upgrade"];
        args.extend_from_slice(extra);
        db.run(&args).code(2).stderr_has(&format!(
            "{path}: schema-version 9 is not a migration in migrations"
        ));
    }
    if db.is_sqlite() {
        assert!(!db.exists(), "an input error created the database");
    }
    // No header line.
    db.env.schema_file(&name, &ddl(db.dialect(), 2));
    db.run(&["upgrade"]).code(2).stderr_has(&format!(
        "{path}: no `-- schema-version: N` line in the header comment"
    ));
    // Not a number.
    db.env.schema_file(
        &name,
        &format!("-- schema-version: two\n{}", ddl(db.dialect(), 2)),
    );
    db.run(&["upgrade"]).code(2).stderr_has(&format!(
        "{path}:1: schema-version \"two\" is not a migration version number"
    ));
    assert!(db.tables().is_empty(), "{:?}", db.tables());
    // --replay does not read the schema directory at all.
    db.run(&["upgrade", "--replay"]).ok();
    assert_eq!(db.states(), states(&[(1, "applied"), (2, "applied")]));
}

// ---- MySQL only ------------------------------------------------------------------------------

/// The two dialects' schemas differ in a column the other lacks: each dialect is consistent
/// with its own migrations, only the cross-dialect comparison fails.
#[test]
fn verify_compares_the_dialects_with_each_other() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    migrations(&env, 3);
    env.migration(
        "0003_lang.mysql.sql",
        "ALTER TABLE Users ADD COLUMN Lang VARCHAR(6) NOT NULL DEFAULT 'en';\nALTER TABLE Users ADD COLUMN Theme VARCHAR(10) NULL;\n",
    );
    schema_at(&env, 3);
    env.schema_file(
        "mysql.sql",
        &format!(
            "{}ALTER TABLE Users ADD COLUMN Theme VARCHAR(10) NULL;\n",
            schema_text("mysql", 3, 3)
        ),
    );
    let run = db.run(&["verify"]);
    run.code(1)
        .stdout_has("ok    mysql:")
        .stdout_has("ok    sqlite:")
        .stdout_has("FAIL  mysql-vs-sqlite: the MySQL schema (expected) with the SQLite schema (found), types by family only: 1 difference(s)\n  Users: column Theme: missing (expected text NULL)\n");
    let doc = db.run(&["verify", "--format", "json"]).code(1).json();
    assert_eq!(doc["ok"], false, "{doc:#}");
    assert_eq!(
        checks(&doc)["mysql-vs-sqlite"]["differences"],
        json!([{"table": "Users", "object": "column Theme", "expected": "text NULL", "found": null}]),
        "{doc:#}"
    );
    assert!(
        scratch_databases(&db).is_empty(),
        "{:?}",
        scratch_databases(&db)
    );
}

/// `verify` names the directory it looked in (and where that setting came from) when a schema
/// file is missing.
#[test]
fn verify_names_the_schema_directory_it_looked_in() {
    let env = Env::new();
    env.migration("0001_t.sql", "CREATE TABLE t (id INTEGER);\n");
    std::fs::create_dir_all(env.join("elsewhere")).unwrap();
    env.run(&["verify", "--dialect", "sqlite"])
        .code(2)
        .stderr_has("no sqlite.sql in schema/ (from default)");
    env.run(&["verify", "--dialect", "sqlite", "--schema", "elsewhere"])
        .code(2)
        .stderr_has("no sqlite.sql in elsewhere/ (from command line)")
        .stderr_has("replay of migrations");
}

/// A portable `INTEGER PRIMARY KEY` numbers rows on SQLite (the rowid) and not on MySQL: the
/// cross-dialect difference comes with the explanation and both fixes.
#[test]
fn verify_explains_the_rowid_alias() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    let ddl = "CREATE TABLE Things (ID INTEGER PRIMARY KEY, Name VARCHAR(20) NOT NULL);\n";
    env.migration("0001_things.sql", ddl);
    for d in ["mysql", "sqlite"] {
        env.schema_file(
            &format!("{d}.sql"),
            &format!("-- schema-version: 1\n\n{ddl}"),
        );
    }
    let run = db.run(&["verify"]);
    run.code(1)
        .stdout_has("ok    mysql:")
        .stdout_has("ok    sqlite:")
        .stdout_has("FAIL  mysql-vs-sqlite:")
        .stdout_has(
            "hint: Things.ID: in SQLite a lone INTEGER PRIMARY KEY column is an alias of the rowid",
        )
        .stdout_has("declare it INT PRIMARY KEY (not INTEGER)");
    let doc = db.run(&["verify", "--format", "json"]).code(1).json();
    let hints = &checks(&doc)["mysql-vs-sqlite"]["hints"];
    assert_eq!(hints.as_array().map(Vec::len), Some(1), "{doc:#}");
    assert_eq!(checks(&doc)["sqlite"]["hints"], json!([]), "{doc:#}");
    // The fix it names: INT PRIMARY KEY numbers rows on neither, but SQLite's key may then hold
    // NULL, which the next hint explains.
    let fixed = ddl.replace("ID INTEGER", "ID INT");
    env.migration("0001_things.sql", &fixed);
    for d in ["mysql", "sqlite"] {
        env.schema_file(
            &format!("{d}.sql"),
            &format!("-- schema-version: 1\n\n{fixed}"),
        );
    }
    db.run(&["verify"])
        .code(1)
        .stdout_has("hint: Things.ID: SQLite lets a PRIMARY KEY column hold NULL unless it is declared NOT NULL");
    let fixed = ddl.replace("ID INTEGER", "ID INT NOT NULL");
    env.migration("0001_things.sql", &fixed);
    for d in ["mysql", "sqlite"] {
        env.schema_file(
            &format!("{d}.sql"),
            &format!("-- schema-version: 1\n\n{fixed}"),
        );
    }
    db.run(&["verify"]).ok().stdout_has("ok    mysql-vs-sqlite");
}
