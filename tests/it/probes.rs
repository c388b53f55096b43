//! The probes of the live rows (`upgrade`, `upgrade --dry-run`): a pending statement that adds
//! a key the live rows duplicate, or a NOT NULL their NULLs break, is found before anything
//! runs; the dry run lists it and the real run refuses (exit 7), leaving the migration pending
//! and the rows as they were.

use crate::each_db;
use crate::support::Db;

each_db!(
    duplicates_of_a_new_unique_key_are_listed_and_refused,
    a_migration_that_deletes_the_duplicates_first_runs,
    an_earlier_pending_migration_that_deletes_the_duplicates_runs,
    nulls_of_a_new_not_null_are_refused,
    no_probes_lets_the_statement_run_and_fail,
    orphans_of_a_new_foreign_key_are_refused,
    rows_failing_a_new_check_are_refused,
    a_rebuild_that_fixes_the_rows_in_its_copy_is_not_probed,
    the_refusal_names_five_values_cut_to_forty_characters,
    check_probes_the_pending_migrations,
    status_verbose_lists_what_the_pending_statements_tighten,
    duplicates_left_by_the_same_migration_stop_it_before_the_key,
    duplicates_left_by_an_earlier_pending_migration_stop_the_later_one,
);

fn base(db: &Db) {
    db.migration(
        "0001_base.sql",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b VARCHAR(20));\n",
    );
    db.run(&["upgrade"]).ok();
    db.exec(
        "INSERT INTO t (id, a, b) VALUES (1, 1, 'x'), (2, 1, 'x'), (3, 2, NULL), (4, 2, NULL), (5, 3, 'y')",
    );
}

/// The rows of `t`, as text.
fn rows(db: &Db) -> Vec<String> {
    let row = if db.is_sqlite() {
        "id || ':' || a || ':' || COALESCE(b, 'NULL')"
    } else {
        "CONCAT(id, ':', a, ':', COALESCE(b, 'NULL'))"
    };
    db.strings(&format!("SELECT {row} FROM t ORDER BY id"))
}

fn duplicates_of_a_new_unique_key_are_listed_and_refused(db: &Db) {
    base(db);
    // (2, NULL) twice is no duplicate: the key allows NULLs.
    db.migration(
        "0002_key.sql",
        "-- the key\nCREATE UNIQUE INDEX t_a_b ON t (a, b);\n",
    );
    let before = rows(db);
    db.run(&["upgrade", "--dry-run"])
        .code(7)
        .stdout_has("-- violation: ")
        .stdout_has("0002_key.sql:2: 1 value(s) of (a, b) occur more than once in t")
        .stdout_has("for example: (1, x)");
    let doc = db
        .run(&["upgrade", "--dry-run", "--format", "json"])
        .code(7)
        .json();
    let v = &doc["violations"];
    assert_eq!(v.as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(v[0]["version"], 2);
    assert_eq!(v[0]["line"], 2);
    assert_eq!(v[0]["table"], "t");
    assert_eq!(v[0]["rule"], "unique-key");
    assert_eq!(v[0]["columns"], serde_json::json!(["a", "b"]));
    assert_eq!(v[0]["count"], 1);
    assert_eq!(v[0]["sample"], serde_json::json!(["1, x"]));

    let run = db.run(&["upgrade"]);
    run.code(7)
        .stderr_has("refusing to upgrade")
        .stderr_has("0002_key.sql:2: 1 value(s) of (a, b)")
        .stderr_has("--no-probes");
    let doc = db.run(&["upgrade", "--format", "json"]).code(7).json();
    assert_eq!(doc["error"]["kind"], "data-violation", "{doc:#}");
    assert_eq!(doc["error"]["exit_code"], 7, "{doc:#}");
    // The refusal's violations, structured as the dry run's; before the run, no statement
    // is named as where it stopped.
    let v = &doc["violations"];
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{doc:#}");
    assert_eq!(v[0]["version"], 2, "{doc:#}");
    assert!(v[0]["file"].as_str().unwrap().ends_with("0002_key.sql"));
    assert_eq!(v[0]["line"], 2);
    assert_eq!(v[0]["table"], "t");
    assert_eq!(v[0]["columns"], serde_json::json!(["a", "b"]));
    assert_eq!(v[0]["rule"], "unique-key");
    assert_eq!(v[0]["count"], 1);
    assert_eq!(v[0]["sample"], serde_json::json!(["1, x"]));
    assert_eq!(doc["error"]["line"], serde_json::Value::Null, "{doc:#}");
    assert_eq!(
        doc["error"]["rolled_back"],
        serde_json::Value::Null,
        "{doc:#}"
    );
    assert_eq!(rows(db), before, "the refused run changed the rows");
    assert_eq!(db.states(), [(1, "applied".to_string())]);
}

fn a_migration_that_deletes_the_duplicates_first_runs(db: &Db) {
    base(db);
    db.migration(
        "0002_key.sql",
        "DELETE FROM t WHERE id = 2;\nCREATE UNIQUE INDEX t_a_b ON t (a, b);\n",
    );
    let doc = db.run(&["upgrade", "--dry-run", "--format", "json"]).json();
    assert_eq!(doc["violations"], serde_json::json!([]), "{doc:#}");
    assert_eq!(doc["tightenings"].as_array().unwrap().len(), 1, "{doc:#}");
    db.run(&["upgrade"]).ok();
    assert_eq!(
        db.states(),
        [(1, "applied".to_string()), (2, "applied".to_string())]
    );
    assert_eq!(db.count("t"), 4);
}

fn an_earlier_pending_migration_that_deletes_the_duplicates_runs(db: &Db) {
    base(db);
    db.migration("0002_clean.sql", "DELETE FROM t WHERE id = 2;\n");
    db.migration("0003_key.sql", "CREATE UNIQUE INDEX t_a_b ON t (a, b);\n");
    db.run(&["upgrade"]).ok();
    assert_eq!(db.states().len(), 3);
    assert_eq!(db.count("t"), 4);
}

fn nulls_of_a_new_not_null_are_refused(db: &Db) {
    base(db);
    // SQLite makes a column NOT NULL by rebuilding the table: a plain copy of its rows, its
    // drop and the rename back leave the rows as they are, so the live table is probed.
    let sql = if db.is_sqlite() {
        "CREATE TABLE t_new (id INTEGER PRIMARY KEY, a INT, b VARCHAR(20) NOT NULL);\n\
         INSERT INTO t_new SELECT id, a, b FROM t;\n\
         DROP TABLE t;\n\
         ALTER TABLE t_new RENAME TO t;\n"
    } else {
        "ALTER TABLE t MODIFY b VARCHAR(20) NOT NULL;\n"
    };
    db.migration("0002_not_null.sql", sql);
    let before = rows(db);
    let doc = db
        .run(&["upgrade", "--dry-run", "--format", "json"])
        .code(7)
        .json();
    let v = &doc["violations"];
    assert_eq!(v[0]["rule"], "not-null", "{doc:#}");
    assert_eq!(v[0]["columns"], serde_json::json!(["b"]));
    assert_eq!(v[0]["count"], 2);
    assert_eq!(v[0]["sample"], serde_json::json!(["3", "4"]));
    db.run(&["upgrade"])
        .code(7)
        .stderr_has("2 row(s) of t hold NULL in b")
        .stderr_has("for example: (3) (4)");
    assert_eq!(rows(db), before);
    assert_eq!(db.states(), [(1, "applied".to_string())]);
}

fn no_probes_lets_the_statement_run_and_fail(db: &Db) {
    base(db);
    db.migration("0002_key.sql", "CREATE UNIQUE INDEX t_a_b ON t (a, b);\n");
    db.run(&["upgrade", "--dry-run", "--no-probes"])
        .ok()
        .stderr_has("--no-probes: the pending statements are not rehearsed");
    db.run(&["upgrade", "--no-probes"])
        .code(4)
        .stderr_has("--no-probes: the pending statements are not rehearsed");
}

/// A new foreign key (MySQL: `ALTER TABLE … ADD FOREIGN KEY`; SQLite: a rebuild) over live
/// rows whose values the referenced table lacks: refused before the run; a NULL is no orphan.
fn orphans_of_a_new_foreign_key_are_refused(db: &Db) {
    db.migration(
        "0001_base.sql",
        "CREATE TABLE u (id INTEGER PRIMARY KEY);\n\
         CREATE TABLE t (id INTEGER PRIMARY KEY, a INT);\n",
    );
    db.run(&["upgrade"]).ok();
    db.exec("INSERT INTO u (id) VALUES (1)");
    db.exec("INSERT INTO t (id, a) VALUES (1, 1), (2, 3), (3, NULL)");
    let (sql, line) = if db.is_sqlite() {
        (
            "CREATE TABLE t_new (id INTEGER PRIMARY KEY, a INT REFERENCES u (id));\n\
             INSERT INTO t_new SELECT * FROM t;\n\
             DROP TABLE t;\n\
             ALTER TABLE t_new RENAME TO t;\n",
            4,
        )
    } else {
        (
            "ALTER TABLE t ADD CONSTRAINT t_a_u FOREIGN KEY (a) REFERENCES u (id);\n",
            1,
        )
    };
    db.migration("0002_fk.sql", sql);
    let doc = db
        .run(&["upgrade", "--dry-run", "--format", "json"])
        .code(7)
        .json();
    assert_eq!(doc["tightenings"][0]["probed"], "before-the-run", "{doc:#}");
    let doc = db.run(&["upgrade", "--format", "json"]).code(7).json();
    let v = &doc["violations"];
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{doc:#}");
    assert_eq!(v[0]["rule"], "foreign-key", "{doc:#}");
    assert_eq!(v[0]["line"], line, "{doc:#}");
    assert_eq!(v[0]["columns"], serde_json::json!(["a"]));
    assert_eq!(v[0]["count"], 1);
    assert_eq!(v[0]["sample"], serde_json::json!(["2, 3"]));
    db.run(&["upgrade"]).code(7).stderr_has(&format!(
        "0002_fk.sql:{line}: 1 row(s) of t hold values of (a) that the referenced table lacks (foreign key (a) references u (id))"
    ));
    assert_eq!(db.states(), [(1, "applied".to_string())]);
    assert_eq!(db.count("t"), 3);
}

/// A new CHECK (MySQL: `ADD CONSTRAINT … CHECK`; SQLite: a rebuild): the rows for which its
/// clause is false are refused; NULL passes, as it does for the constraint.
fn rows_failing_a_new_check_are_refused(db: &Db) {
    db.migration(
        "0001_base.sql",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a INT);\n",
    );
    db.run(&["upgrade"]).ok();
    db.exec("INSERT INTO t (id, a) VALUES (1, 5), (2, -1), (3, NULL), (4, 0)");
    let (sql, line) = if db.is_sqlite() {
        (
            "CREATE TABLE t_new (id INTEGER PRIMARY KEY, a INT CHECK (a > 0));\n\
             INSERT INTO t_new (id, a) SELECT id, a FROM t;\n\
             DROP TABLE t;\n\
             ALTER TABLE t_new RENAME TO t;\n",
            4,
        )
    } else {
        ("ALTER TABLE t ADD CONSTRAINT t_a CHECK (a > 0);\n", 1)
    };
    db.migration("0002_check.sql", sql);
    let doc = db.run(&["upgrade", "--format", "json"]).code(7).json();
    let v = &doc["violations"];
    assert_eq!(v[0]["rule"], "check", "{doc:#}");
    assert_eq!(v[0]["line"], line, "{doc:#}");
    assert_eq!(v[0]["count"], 2, "{doc:#}");
    assert_eq!(
        v[0]["sample"],
        serde_json::json!(["2, -1", "4, 0"]),
        "{doc:#}"
    );
    db.run(&["upgrade"])
        .code(7)
        .stderr_has("2 row(s) of t fail CHECK (");
    assert_eq!(db.states(), [(1, "applied".to_string())]);
    assert_eq!(db.count("t"), 4);
}

/// A rebuild whose copy fixes the rows (an expression) is not a plain copy: the rows reach the
/// constraint through it, so the live table is not probed (its NULLs are no violation) and
/// the migration runs.
fn a_rebuild_that_fixes_the_rows_in_its_copy_is_not_probed(db: &Db) {
    base(db);
    db.migration(
        "0002_not_null.sql",
        "CREATE TABLE t_new (id INTEGER PRIMARY KEY, a INT, b VARCHAR(20) NOT NULL);\n\
         INSERT INTO t_new SELECT id, a, COALESCE(b, '') FROM t;\n\
         DROP TABLE t;\n\
         ALTER TABLE t_new RENAME TO t;\n",
    );
    let doc = db
        .run(&["upgrade", "--dry-run", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["tightenings"][0]["probed"], "not-probed", "{doc:#}");
    db.run(&["upgrade", "--dry-run"]).ok().stdout_has(
        "-- not probed: the rows reach it through the copy at migrations/0002_not_null.sql:2",
    );
    db.run(&["upgrade"]).ok();
    assert_eq!(db.count("t"), 5);
}

/// `check` with migrations pending rehearses and probes them as `upgrade --dry-run` does:
/// violations make it exit 7 and are listed; a clean pending migration exits 1 as before.
fn check_probes_the_pending_migrations(db: &Db) {
    base(db);
    db.migration("0002_other.sql", "CREATE TABLE other (id INT);\n");
    let doc = db.run(&["check", "--format", "json"]).code(1).json();
    assert_eq!(doc["violations"], serde_json::json!([]), "{doc:#}");
    db.migration(
        "0003_key.sql",
        "-- the key\nCREATE UNIQUE INDEX t_a_b ON t (a, b);\n",
    );
    db.run(&["check"]).code(7).stdout_has(
        "violation: migrations/0003_key.sql:2: 1 value(s) of (a, b) occur more than once in t",
    );
    let doc = db.run(&["check", "--format", "json"]).code(7).json();
    assert_eq!(doc["ok"], false, "{doc:#}");
    let v = &doc["violations"];
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{doc:#}");
    assert_eq!(v[0]["rule"], "unique-key", "{doc:#}");
    assert_eq!(v[0]["version"], 3, "{doc:#}");
    assert_eq!(v[0]["sample"], serde_json::json!(["1, x"]), "{doc:#}");
    assert_eq!(db.states(), [(1, "applied".to_string())]);
}

/// `status -v` lists what each pending statement tightens (the rehearsal alone).
fn status_verbose_lists_what_the_pending_statements_tighten(db: &Db) {
    base(db);
    db.migration(
        "0002_key.sql",
        "CREATE INDEX t_a ON t (a);\nCREATE UNIQUE INDEX t_a_b ON t (a, b);\n",
    );
    let run = db.run(&["status", "-v"]);
    run.ok()
        .stdout_has("migrations/0002_key.sql:2: tightens: unique key (a, b) on t");
    assert!(
        !run.stdout.contains("0002_key.sql:1: tightens"),
        "{}",
        run.stdout
    );
    let plain = db.run(&["status"]);
    assert!(!plain.stdout.contains("tightens"), "{}", plain.stdout);
    // The JSON form carries them too (and the DDL plan), with -v only; the rows untouched.
    let doc = db.run(&["status", "-v", "--format", "json"]).ok().json();
    let t = doc["tightenings"].as_array().expect("tightenings");
    assert_eq!(t.len(), 1, "{doc:#}");
    assert_eq!(t[0]["kind"], "unique-key", "{doc:#}");
    assert_eq!(t[0]["line"], 2, "{doc:#}");
    assert_eq!(t[0]["columns"], serde_json::json!(["a", "b"]), "{doc:#}");
    let ddl = doc["ddl"].as_array().expect("ddl");
    match db.is_mysql() {
        // Both CREATE INDEX statements, planned on the copy.
        true => assert_eq!(ddl.len(), 2, "{doc:#}"),
        false => assert!(ddl.is_empty(), "{doc:#}"),
    }
    let plain = db.run(&["status", "--format", "json"]).ok().json();
    assert_eq!(plain["tightenings"], serde_json::Value::Null, "{plain:#}");
    assert_eq!(plain["ddl"], serde_json::Value::Null, "{plain:#}");
    assert_eq!(rows(db).len(), 5);
}

/// Seven duplicated long values: the message and the JSON show five, each cut to 40
/// characters, and count all eight duplicated values.
fn the_refusal_names_five_values_cut_to_forty_characters(db: &Db) {
    db.migration(
        "0001_base.sql",
        "CREATE TABLE w (id INTEGER PRIMARY KEY, s VARCHAR(100));\n",
    );
    db.run(&["upgrade"]).ok();
    for i in 0..7 {
        let long = format!("{i}{}", "v".repeat(59));
        db.exec(&format!(
            "INSERT INTO w (id, s) VALUES ({}, '{long}'), ({}, '{long}')",
            2 * i,
            2 * i + 1
        ));
    }
    db.exec("INSERT INTO w (id, s) VALUES (100, 'x'), (101, 'x'), (102, 'y')");
    db.migration("0002_key.sql", "CREATE UNIQUE INDEX w_s ON w (s);\n");
    let doc = db.run(&["upgrade", "--format", "json"]).code(7).json();
    let v = &doc["violations"][0];
    assert_eq!(v["count"], 8, "{doc:#}"); // the seven long ones, and 'x'
    let sample: Vec<&str> = v["sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(sample.len(), 5, "{doc:#}");
    let cut = format!("0{}…", "v".repeat(38));
    assert_eq!(sample[0], cut, "{doc:#}");
    assert!(sample.iter().all(|s| s.chars().count() <= 40), "{sample:?}");
    let run = db.run(&["upgrade"]);
    run.code(7)
        .stderr_has("0002_key.sql:1: 8 value(s) of (s) occur more than once in w")
        .stderr_has(&format!("for example: ({cut}) (1"));
    assert_eq!(run.stderr.matches("vvv…").count(), 5, "{}", run.stderr);
    assert_eq!(db.states(), [(1, "applied".to_string())]);
}

/// A migration that writes the table but leaves duplicates: the key is probed during the run,
/// right before it, and stops the run there with the violations (SQLite: rolled back, still
/// pending; MySQL: the DELETE stays committed and the migration is recorded as failed).
fn duplicates_left_by_the_same_migration_stop_it_before_the_key(db: &Db) {
    base(db);
    db.migration(
        "0002_key.sql",
        "DELETE FROM t WHERE id = 5;
CREATE UNIQUE INDEX t_a_b ON t (a, b);
",
    );
    // The dry run cannot probe it before the run, and says so.
    let doc = db
        .run(&["upgrade", "--dry-run", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["violations"], serde_json::json!([]), "{doc:#}");
    assert_eq!(doc["tightenings"][0]["probed"], "during-the-run", "{doc:#}");
    db.run(&["upgrade", "--dry-run"])
        .ok()
        .stdout_has("-- probed during the run, before migrations/0002_key.sql:2: an earlier pending statement names t");

    let doc = db.run(&["upgrade", "--format", "json"]).code(7).json();
    let e = &doc["error"];
    assert_eq!(e["kind"], "data-violation", "{doc:#}");
    assert_eq!(e["version"], 2, "{doc:#}");
    assert_eq!(e["line"], 2, "{doc:#}");
    let v = &doc["violations"];
    assert_eq!(v[0]["rule"], "unique-key", "{doc:#}");
    assert_eq!(v[0]["line"], 2, "{doc:#}");
    assert_eq!(v[0]["sample"], serde_json::json!(["1, x"]), "{doc:#}");
    if db.is_sqlite() {
        assert_eq!(e["rolled_back"], true, "{doc:#}");
        assert_eq!(db.states(), [(1, "applied".to_string())]);
        assert_eq!(db.count("t"), 5, "the DELETE was rolled back");
        db.run(&["upgrade"])
            .code(7)
            .stderr_has("probed during the run")
            .stderr_has("0002_key.sql:2: 1 value(s) of (a, b) occur more than once in t")
            .stderr_has("still pending");
    } else {
        assert_eq!(e["rolled_back"], false, "{doc:#}");
        assert_eq!(
            e["committed"],
            serde_json::json!([{"statement": 1, "line": 1}]),
            "{doc:#}"
        );
        assert_eq!(
            db.states(),
            [(1, "applied".to_string()), (2, "failed".to_string())]
        );
        let row = &db.history()[1];
        assert_eq!(row.statements_done, 1);
        assert!(
            row.error_text.as_deref().unwrap_or("").contains("probes"),
            "{:?}",
            row.error_text
        );
        assert_eq!(db.count("t"), 4, "the DELETE committed before the key");
    }
    // The key was never made: the duplicates are still there.
    assert_eq!(db.scalar("SELECT COUNT(*) FROM t WHERE a = 1"), 2);
    // Fixed by hand, the run goes on (MySQL: at the refused statement, probing again).
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("fix the rows listed above"), "{message}");
    db.exec("DELETE FROM t WHERE id = 2");
    if db.is_sqlite() {
        db.run(&["upgrade"]).ok();
    } else {
        assert!(message.contains("upgrade --resume"), "{message}");
        db.run(&["upgrade", "--resume"]).ok();
    }
    assert_eq!(
        db.states(),
        [(1, "applied".to_string()), (2, "applied".to_string())]
    );
}

/// An earlier pending migration writes the table: the key of the later one is probed during
/// the run, before its first statement; the earlier one stays applied.
fn duplicates_left_by_an_earlier_pending_migration_stop_the_later_one(db: &Db) {
    base(db);
    db.migration(
        "0002_clean.sql",
        "DELETE FROM t WHERE id = 5;
",
    );
    db.migration(
        "0003_key.sql",
        "CREATE UNIQUE INDEX t_a_b ON t (a, b);
",
    );
    let run = db.run(&["upgrade"]);
    run.code(7)
        .stderr_has("0003_key.sql:1: 1 value(s) of (a, b) occur more than once in t");
    let states = db.states();
    assert_eq!(states[1], (2, "applied".to_string()), "{states:?}");
    if db.is_sqlite() {
        assert_eq!(states.len(), 2, "{states:?}");
    } else {
        // Its one statement commits by itself: recorded as failed, with none committed.
        assert_eq!(states[2], (3, "failed".to_string()), "{states:?}");
        assert_eq!(db.history()[2].statements_done, 0);
    }
    assert_eq!(db.count("t"), 4);
}

/// MySQL: values a narrower type rejects (too long, out of range) and values of removed ENUM
/// members are refused, each with the rows' key and value.
#[test]
fn narrower_types_and_removed_enum_values_are_refused_on_mysql() {
    let env = crate::support::Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    db.migration(
        "0001_base.sql",
        "CREATE TABLE e (id INT NOT NULL PRIMARY KEY, n VARCHAR(20), s ENUM('a','b','c'), w INT, d DECIMAL(8,2), f SET('x','y','z'));\n",
    );
    db.run(&["upgrade"]).ok();
    db.exec("INSERT INTO e VALUES (1, 'twelve chars', 'c', 300, 1234.5, 'x,y'), (2, 'ok', 'a', -1, 1, 'z'), (3, NULL, NULL, NULL, NULL, NULL)");
    db.migration(
        "0002_narrow.sql",
        "ALTER TABLE e MODIFY n VARCHAR(10), MODIFY s ENUM('a','b'), MODIFY w TINYINT UNSIGNED, MODIFY d DECIMAL(5,2), MODIFY f SET('x','z');\n",
    );
    let doc = db.run(&["upgrade", "--format", "json"]).code(7).json();
    let found: Vec<(String, String, u64, serde_json::Value)> = doc["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["rule"].as_str().unwrap().to_string(),
                v["columns"][0].as_str().unwrap().to_string(),
                v["count"].as_u64().unwrap(),
                v["sample"].clone(),
            )
        })
        .collect();
    use serde_json::json;
    assert_eq!(
        found,
        vec![
            (
                "narrower-type".into(),
                "n".into(),
                1,
                json!(["1, twelve chars"])
            ),
            ("enum-values-removed".into(), "s".into(), 1, json!(["1, c"])),
            (
                "narrower-type".into(),
                "w".into(),
                2,
                json!(["1, 300", "2, -1"])
            ),
            ("narrower-type".into(), "d".into(), 1, json!(["1, 1234.50"])),
            (
                "enum-values-removed".into(),
                "f".into(),
                1,
                json!(["1, x,y"])
            ),
        ],
        "{doc:#}"
    );
    db.run(&["upgrade"])
        .code(7)
        .stderr_has("1 row(s) of e hold values of n that do not fit the new type (narrower type n: VARCHAR(20) -> VARCHAR(10))")
        .stderr_has("1 row(s) of e hold values of s that are removed");
    assert_eq!(db.states(), [(1, "applied".to_string())]);
}

/// MariaDB: a probe that runs past `--statement-timeout` (here blocked by another session's
/// `LOCK TABLES … WRITE`) is cancelled and stops the run before anything of it, naming the
/// probe; the dry run and `check` say so and exit non-zero: never silently passed.
#[test]
fn a_probe_that_times_out_is_reported_never_passed() {
    let env = crate::support::Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    base(&db);
    db.migration("0002_key.sql", "CREATE UNIQUE INDEX t_a_b ON t (a, b);\n");
    let mut conn = db.mysql_connection();
    db.block_on(async {
        sqlx::raw_sql("LOCK TABLES t WRITE")
            .execute(&mut conn)
            .await
            .expect("LOCK TABLES")
    });
    let limits = ["--statement-timeout", "1", "--lock-timeout", "30"];
    let named = "0002_key.sql:1: the probe of the live rows of t for the unique-key (a, b) did not finish within 1s (--statement-timeout)";
    let run = db.run(&[&["upgrade"][..], &limits].concat());
    run.code(3).stderr_has(named);
    run.check(
        run.elapsed < std::time::Duration::from_secs(15),
        "gave up within a few seconds",
    );
    let doc = db
        .run(&[&["upgrade", "--format", "json"][..], &limits].concat())
        .code(3)
        .json();
    assert_eq!(doc["error"]["kind"], "database", "{doc:#}");
    assert_eq!(doc["error"]["line"], 1, "{doc:#}");
    assert!(doc["error"]["file"]
        .as_str()
        .unwrap()
        .ends_with("0002_key.sql"));
    db.run(&[&["upgrade", "--dry-run"][..], &limits].concat())
        .code(3)
        .stderr_has(named);
    db.run(&[&["check"][..], &limits].concat())
        .code(3)
        .stderr_has(named);
    db.block_on(async {
        sqlx::raw_sql("UNLOCK TABLES")
            .execute(&mut conn)
            .await
            .expect("UNLOCK TABLES")
    });
    assert_eq!(db.states(), [(1, "applied".to_string())]);
    // Unblocked, the same probe finishes and finds the duplicates.
    db.run(&[&["upgrade"][..], &limits].concat()).code(7);
}

/// MariaDB: a probe during the run that runs past `--statement-timeout` stops the migration
/// before its statement, as a failing statement would (exit 4), naming the probe.
#[test]
fn a_probe_during_the_run_that_times_out_fails_the_migration_naming_it() {
    let env = crate::support::Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    base(&db);
    // The first statement names t (in a string), so the key is probed during the run; it does
    // not touch the table, which another session holds locked.
    db.migration(
        "0002_key.sql",
        "SET @note = 't';\nCREATE UNIQUE INDEX t_a_b ON t (a, b);\n",
    );
    let mut conn = db.mysql_connection();
    db.block_on(async {
        sqlx::raw_sql("LOCK TABLES t WRITE")
            .execute(&mut conn)
            .await
            .expect("LOCK TABLES")
    });
    let run = db.run(&[
        "upgrade",
        "--statement-timeout",
        "1",
        "--lock-timeout",
        "30",
    ]);
    db.block_on(async {
        sqlx::raw_sql("UNLOCK TABLES")
            .execute(&mut conn)
            .await
            .expect("UNLOCK TABLES")
    });
    run.code(4).stderr_has(
        "the probe of the live rows before it failed: migrations/0002_key.sql:2: the probe of the live rows of t for the unique-key (a, b) did not finish within 1s",
    );
    run.check(
        run.elapsed < std::time::Duration::from_secs(15),
        "gave up within a few seconds",
    );
    assert_eq!(
        db.states(),
        [(1, "applied".to_string()), (2, "failed".to_string())]
    );
    assert_eq!(db.history()[1].statements_done, 1);
}

/// SQLite, `--single-transaction`: a violation found during the run rolls back the whole run,
/// the earlier migration of it included.
#[test]
fn a_violation_during_a_single_transaction_rolls_back_the_whole_run() {
    let env = crate::support::Env::new();
    let db = Db::sqlite(&env);
    base(&db);
    db.migration("0002_clean.sql", "DELETE FROM t WHERE id = 5;\n");
    db.migration("0003_key.sql", "CREATE UNIQUE INDEX t_a_b ON t (a, b);\n");
    let doc = db
        .run(&["upgrade", "--single-transaction", "--format", "json"])
        .code(7)
        .json();
    assert_eq!(doc["error"]["kind"], "data-violation", "{doc:#}");
    assert_eq!(doc["error"]["version"], 3, "{doc:#}");
    assert_eq!(doc["error"]["rolled_back"], true, "{doc:#}");
    assert_eq!(doc["violations"][0]["rule"], "unique-key", "{doc:#}");
    db.run(&["upgrade", "--single-transaction"])
        .code(7)
        .stderr_has("the whole run was one transaction");
    assert_eq!(db.states(), [(1, "applied".to_string())]);
    assert_eq!(db.count("t"), 5);
}

/// SQLite stores any value in any declared type: a narrower type is no tightening there and
/// is not probed; the migration runs and keeps the long value.
#[test]
fn a_narrower_type_is_not_probed_on_sqlite() {
    let env = crate::support::Env::new();
    let db = Db::sqlite(&env);
    base(&db);
    db.migration(
        "0002_narrow.sql",
        "CREATE TABLE t_new (id INTEGER PRIMARY KEY, a INT, b VARCHAR(1));\n\
         INSERT INTO t_new SELECT * FROM t;\n\
         DROP TABLE t;\n\
         ALTER TABLE t_new RENAME TO t;\n",
    );
    let doc = db
        .run(&["upgrade", "--dry-run", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["tightenings"], serde_json::json!([]), "{doc:#}");
    db.run(&["upgrade"]).ok();
    assert_eq!(db.strings("SELECT b FROM t WHERE id = 5"), ["y"]);
}

/// What the rehearsal, the DDL plan and the probes send to a MySQL server, each by a piece of
/// its SQL (`src/backend/mysql`, `src/compare`, `src/schema/probe.rs`).
const PENDING_WORK: [(&str, &str); 9] = [
    ("the rehearsal reading the live tables", "SHOW CREATE TABLE"),
    ("the rehearsal's scratch database", "CREATE DATABASE"),
    ("the rehearsal's scratch database removed", "DROP DATABASE"),
    ("the plan's clause tries", "ALGORITHM="),
    ("the plan's table sizes", "TABLE_ROWS"),
    ("the plan's calibration", "aurweb_migrate_calibration"),
    ("the probes' pre-check", "COUNT(DISTINCT"),
    ("the probes' count and sample", "HAVING COUNT(*) > 1"),
    ("an EXPLAIN", "EXPLAIN"),
];

/// MySQL, counted by the server: a no-op `upgrade` and a no-op `upgrade --dry-run` against a
/// table with rows send none of the rehearsal's statements (no scratch database), none of the
/// DDL plan's (clause tries, table sizes, calibration) and no probe, and exactly the
/// statements of the same command with `--no-probes` (which does none of them). The server is
/// the test's own, its general log a table: every statement of the tool's account is there,
/// whatever other tests do; with a migration pending, the same log holds each of them.
#[test]
fn a_no_op_sends_no_rehearsal_plan_or_probe_statement_on_mysql() {
    let env = crate::support::Env::new();
    let Some(server) = crate::support::own_mysql_server_with(&[
        "--general-log=ON".to_string(),
        "--log-output=TABLE".to_string(),
    ]) else {
        return;
    };
    server.admin_exec(
        "CREATE DATABASE aur; CREATE USER 'noop'@'%' IDENTIFIED BY 'noopsecret'; \
         GRANT ALL ON *.* TO 'noop'@'%'",
    );
    let url = format!("mysql://noop:noopsecret@127.0.0.1:{}/aur", server.port());
    let run = |args: &[&str]| env.cmd(args).env("AURWEB_MIGRATE_DATABASE_URL", &url).run();
    env.migration(
        "0001_base.sql",
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT NULL, b VARCHAR(20) NULL);\n\
         INSERT INTO t VALUES (1, 1, 'x'), (2, 1, 'x'), (3, 2, NULL), (4, 2, NULL), (5, 3, 'y');\n",
    );
    run(&["upgrade"]).ok();
    // The table's size as the plan reads it (information_schema), so that it calibrates.
    server.admin_exec("ANALYZE TABLE aur.t");
    // The statements of the tool's account during `args` (exit `code`), sorted.
    let sent = |args: &[&str], code: i32| -> Vec<String> {
        server.admin_exec("TRUNCATE TABLE mysql.general_log");
        run(args).code(code);
        let mut sql = server.admin_strings(
            "SELECT CONVERT(argument USING utf8mb4) FROM mysql.general_log \
             WHERE user_host LIKE 'noop[%' AND command_type IN ('Query', 'Prepare', 'Execute')",
        );
        sql.sort();
        sql
    };
    for dry in [&[][..], &["--dry-run"][..]] {
        let args = |no_probes: bool| {
            let mut a = vec!["upgrade"];
            a.extend_from_slice(dry);
            if no_probes {
                a.push("--no-probes");
            }
            a
        };
        let noop = sent(&args(false), 0);
        assert!(!noop.is_empty(), "the general log holds nothing");
        for (what, needle) in PENDING_WORK {
            let hits: Vec<&String> = noop.iter().filter(|s| s.contains(needle)).collect();
            assert!(
                hits.is_empty(),
                "{args:?}, {what}: {hits:#?}",
                args = args(false)
            );
        }
        assert_eq!(
            noop,
            sent(&args(true), 0),
            "{:?} vs --no-probes",
            args(false)
        );
    }
    // With a key pending over (a, b), which the rows duplicate, each of them is in the log.
    env.migration("0002_key.sql", "CREATE UNIQUE INDEX t_a_b ON t (a, b);\n");
    let pending = sent(&["upgrade", "--dry-run"], 7);
    for (what, needle) in PENDING_WORK {
        // The tool sends no EXPLAIN today: the plan is learnt by running the statement.
        if needle != "EXPLAIN" {
            assert!(
                pending.iter().any(|s| s.contains(needle)),
                "{what} ({needle}) not in the log: {pending:#?}"
            );
        }
    }
}

/// The words of the debug lines of the rehearsal, the DDL plan, its calibration and the
/// probes (`-vv`), and of the rehearsal's scratch database.
const PENDING_LINES: [&str; 5] = [
    "rehearsal",
    "plan statements=",
    "calibration",
    "probes",
    "scratch",
];

/// A no-op `upgrade` and a no-op `upgrade --dry-run` on `db` log none of [`PENDING_LINES`].
fn no_op_logs_none_of_it(db: &Db) {
    for args in [&["upgrade"][..], &["upgrade", "--dry-run"][..]] {
        let noop = db.cmd(args).env("RUST_LOG", "aurweb_migrate=debug").run();
        noop.ok();
        for word in PENDING_LINES {
            assert!(
                !noop.stderr.contains(word),
                "{args:?}, {word}: {}",
                noop.stderr
            );
        }
    }
}

/// SQLite: the real upgrade rehearses (in memory) and probes when something is pending, and a
/// no-op upgrade or dry run against a table with rows does neither (its debug log has no
/// rehearsal, plan or probes line). SQLite's statements are not counted outside the tool, so
/// its log is the signal here; MySQL's server counts them
/// ([`a_no_op_sends_no_rehearsal_plan_or_probe_statement_on_mysql`]).
#[test]
fn a_no_op_upgrade_does_not_rehearse() {
    let env = crate::support::Env::new();
    let db = Db::sqlite(&env);
    base(&db);
    no_op_logs_none_of_it(&db);
    let debug = |args: &[&str]| db.cmd(args).env("RUST_LOG", "aurweb_migrate=debug").run();
    db.migration("0002_index.sql", "CREATE INDEX t_a ON t (a);\n");
    debug(&["upgrade"])
        .ok()
        .stderr_has("rehearsal tables=")
        .stderr_has("probes tightenings=0");
}

/// MySQL: the same, and a no-op upgrade or dry run neither plans nor calibrates the DDL nor
/// opens a scratch database (the plan's and the rehearsal's debug lines are all missing).
#[test]
fn a_no_op_upgrade_does_not_rehearse_on_mysql() {
    let env = crate::support::Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    base(&db);
    no_op_logs_none_of_it(&db);
    let debug = |args: &[&str]| db.cmd(args).env("RUST_LOG", "aurweb_migrate=debug").run();
    db.migration("0002_index.sql", "CREATE INDEX t_a ON t (a);\n");
    debug(&["upgrade"])
        .ok()
        .stderr_has("rehearsal tables=")
        .stderr_has("plan statements=1")
        .stderr_has("probes tightenings=0");
}
