//! The rehearsal (`upgrade --dry-run`): what each pending statement tightens, learnt by running
//! the statements on an empty copy of the live tables; the live database is left as it was
//! and no scratch database stays behind.

use crate::each_db;
use crate::support::Db;

each_db!(
    a_new_unique_key_and_not_null_are_listed_with_their_lines,
    a_migration_that_tightens_nothing_lists_nothing,
    an_interrupted_rehearsal_leaves_no_scratch_database,
    a_new_check_is_listed,
    a_new_foreign_key_is_listed_and_the_copied_ones_are_not,
    a_statement_the_copy_rejects_stops_the_rehearsal_not_the_dry_run,
    statements_on_different_tables_each_get_their_own_tightenings,
);

fn base(db: &Db) {
    db.migration(
        "0001_base.sql",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b VARCHAR(20));\n",
    );
    db.run(&["upgrade"]).ok();
    db.exec("INSERT INTO t (id, a, b) VALUES (1, 1, 'x'), (2, 1, 'x'), (3, 2, NULL)");
}

/// The scratch databases of this test's database left on the server (MySQL).
fn leftovers(db: &Db) -> i64 {
    if db.is_sqlite() {
        return 0;
    }
    db.scalar(&format!(
        "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '{}\\_migrate\\_%'",
        db.mysql_database()
    ))
}

/// The live schema as `schema dump` prints it, and the rows of `t`.
fn live(db: &Db) -> (String, Vec<String>) {
    let dump = db.run(&["schema", "dump"]);
    dump.ok();
    let row = if db.is_sqlite() {
        "id || ':' || a || ':' || COALESCE(b, 'NULL')"
    } else {
        "CONCAT(id, ':', a, ':', COALESCE(b, 'NULL'))"
    };
    let rows = db.strings(&format!("SELECT {row} FROM t ORDER BY id"));
    (dump.stdout.clone(), rows)
}

fn a_new_unique_key_and_not_null_are_listed_with_their_lines(db: &Db) {
    base(db);
    // (not-null line, unique line)
    let (sql, not_null, unique) = if db.is_sqlite() {
        (
            "-- tighten t\n\
             CREATE TABLE t_new (id INTEGER PRIMARY KEY, a INT, b VARCHAR(20) NOT NULL);\n\
             INSERT INTO t_new SELECT id, a, COALESCE(b, '') FROM t;\n\
             DROP TABLE t;\n\
             ALTER TABLE t_new RENAME TO t;\n\
             CREATE UNIQUE INDEX t_a_b ON t (a, b);\n",
            5,
            6,
        )
    } else {
        (
            "-- tighten t\n\
             UPDATE t SET b = '' WHERE b IS NULL;\n\
             ALTER TABLE t MODIFY b VARCHAR(20) NOT NULL;\n\
             CREATE UNIQUE INDEX t_a_b ON t (a, b);\n",
            3,
            4,
        )
    };
    db.migration("0002_tighten.sql", sql);
    let file = "0002_tighten.sql";
    let before = live(db);
    let run = db.run(&["upgrade", "--dry-run"]);
    run.ok()
        .stdout_has(&format!("{file}:{not_null}: tightens: NOT NULL b on t"))
        .stdout_has(&format!(
            "{file}:{unique}: tightens: unique key (a, b) on t"
        ));
    assert_eq!(run.stdout.matches("tightens:").count(), 2, "{}", run.stdout);
    let doc = db.run(&["upgrade", "--dry-run", "--format", "json"]).json();
    let found: Vec<(u64, String, u64, String, String, Vec<String>)> = doc["tightenings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["version"].as_u64().unwrap(),
                t["file"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
                t["line"].as_u64().unwrap(),
                t["table"].as_str().unwrap().to_string(),
                t["kind"].as_str().unwrap().to_string(),
                t["columns"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (
                2,
                file.to_string(),
                not_null,
                "t".into(),
                "not-null".into(),
                vec!["b".into()]
            ),
            (
                2,
                file.to_string(),
                unique,
                "t".into(),
                "unique-key".into(),
                vec!["a".into(), "b".into()]
            ),
        ]
    );
    assert_eq!(live(db), before, "the dry run changed the live database");
    assert_eq!(db.states(), [(1, "applied".to_string())]);
    assert_eq!(leftovers(db), 0, "a scratch database was left behind");
}

fn a_migration_that_tightens_nothing_lists_nothing(db: &Db) {
    base(db);
    db.migration(
        "0002_loose.sql",
        "ALTER TABLE t ADD COLUMN c INT;\nCREATE INDEX t_a ON t (a);\n",
    );
    let run = db.run(&["upgrade", "--dry-run"]);
    run.ok().stdout_has("CREATE INDEX t_a");
    assert!(!run.stdout.contains("tightens"), "{}", run.stdout);
    let doc = db.run(&["upgrade", "--dry-run", "--format", "json"]).json();
    assert_eq!(doc["tightenings"], serde_json::json!([]));
    assert_eq!(leftovers(db), 0, "a scratch database was left behind");
}

/// SQLite: a no-op dry run does not rehearse (its debug log has no rehearsal line); a run with
/// something pending does, in memory: with nowhere to write a scratch file it still lists
/// what the statement tightens.
#[test]
fn a_no_op_dry_run_does_not_rehearse() {
    let env = crate::support::Env::new();
    let db = Db::sqlite(&env);
    base(&db);
    let nowhere = env.path().join("no-such-tmp");
    let noop = db
        .cmd(&["upgrade", "--dry-run"])
        .env("TMPDIR", nowhere.as_os_str())
        .env("RUST_LOG", "aurweb_migrate=debug")
        .run();
    noop.ok().stdout_has("nothing to do");
    assert!(!noop.stderr.contains("rehearsal"), "{}", noop.stderr);
    db.migration(
        "0002_key.sql",
        "DELETE FROM t WHERE id = 2;\nCREATE UNIQUE INDEX t_a ON t (a);\n",
    );
    db.cmd(&["upgrade", "--dry-run"])
        .env("TMPDIR", nowhere.as_os_str())
        .env("RUST_LOG", "aurweb_migrate=debug")
        .run()
        .ok()
        .stdout_has("tightens: unique key (a) on t")
        .stderr_has("rehearsal tables=");
}

/// SIGINT while a pending statement runs in the scratch database: the dry run stops (exit 130),
/// saying so, and removes its scratch database; the live database is as it was.
fn an_interrupted_rehearsal_leaves_no_scratch_database(db: &Db) {
    base(db);
    let slow = if db.is_sqlite() {
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 30000000) SELECT count(*) FROM c;"
    } else {
        "SELECT SLEEP(20);"
    };
    db.migration(
        "0002_slow.sql",
        &format!("CREATE UNIQUE INDEX t_id_a ON t (id, a);\n{slow}\n"),
    );
    let before = live(db);
    let tmp = db.env.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let scratch_files = || std::fs::read_dir(&tmp).unwrap().count();
    let mut child = db
        .cmd(&["upgrade", "--dry-run"])
        .env("TMPDIR", tmp.as_os_str())
        .spawn();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        assert!(
            !child.has_exited(),
            "the dry run finished before the signal"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the slow statement never ran"
        );
        let running = if db.is_mysql() {
            db.scalar(&format!(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
                 WHERE DB LIKE '{}\\_migrate\\_%rehearsal' AND INFO LIKE 'SELECT SLEEP%'",
                db.mysql_database()
            )) > 0
        } else {
            // SQLite rehearses in memory: nothing to watch; the statement runs for seconds.
            std::thread::sleep(std::time::Duration::from_millis(1000));
            true
        };
        if running {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let sent = std::process::Command::new("kill")
        .args(["-INT".to_string(), child.pid().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    child
        .wait()
        .code(130)
        .stderr_has("interrupted by SIGINT")
        .stderr_has("scratch database removed");
    assert_eq!(leftovers(db), 0, "a scratch database was left behind");
    assert_eq!(scratch_files(), 0, "a scratch file was left behind");
    assert_eq!(live(db), before, "the dry run changed the live database");
}

fn a_new_check_is_listed(db: &Db) {
    base(db);
    let (sql, line) = if db.is_sqlite() {
        (
            "CREATE TABLE t_new (id INTEGER PRIMARY KEY, a INT CHECK (a > 0), b VARCHAR(20));\n\
             INSERT INTO t_new SELECT * FROM t;\n\
             DROP TABLE t;\n\
             ALTER TABLE t_new RENAME TO t;\n",
            4,
        )
    } else {
        (
            "ALTER TABLE t ADD CONSTRAINT t_a_positive CHECK (a > 0);\n",
            1,
        )
    };
    db.migration("0002_check.sql", sql);
    let before = live(db);
    let doc = db.run(&["upgrade", "--dry-run", "--format", "json"]).json();
    let found = &doc["tightenings"];
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(found[0]["kind"], "check", "{found}");
    assert_eq!(found[0]["line"], line, "{found}");
    assert_eq!(found[0]["table"], "t", "{found}");
    assert_eq!(found[0]["columns"], serde_json::json!(["a"]), "{found}");
    db.run(&["upgrade", "--dry-run"])
        .ok()
        .stdout_has(&format!("0002_check.sql:{line}: tightens: CHECK ("));
    assert_eq!(live(db), before, "the dry run changed the live database");
    assert_eq!(leftovers(db), 0, "a scratch database was left behind");
}

/// The copy keeps the live foreign keys (so they are not new), and a new one is listed.
fn a_new_foreign_key_is_listed_and_the_copied_ones_are_not(db: &Db) {
    db.migration(
        "0001_base.sql",
        "CREATE TABLE u (id INT NOT NULL PRIMARY KEY);\n\
         CREATE TABLE v (id INT NOT NULL PRIMARY KEY, u_id INT, FOREIGN KEY (u_id) REFERENCES u (id));\n\
         CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT);\n",
    );
    db.run(&["upgrade"]).ok();
    db.exec("INSERT INTO u (id) VALUES (1)");
    db.exec("INSERT INTO v (id, u_id) VALUES (1, 1)");
    db.exec("INSERT INTO t (id, a) VALUES (1, 1), (2, 3)");
    let (sql, line) = if db.is_sqlite() {
        (
            "CREATE TABLE t_new (id INT NOT NULL PRIMARY KEY, a INT, FOREIGN KEY (a) REFERENCES u (id));\n\
             INSERT INTO t_new SELECT * FROM t;\n\
             DROP TABLE t;\n\
             ALTER TABLE t_new RENAME TO t;\n\
             UPDATE v SET u_id = NULL WHERE u_id = 2;\n",
            4,
        )
    } else {
        (
            "ALTER TABLE t ADD CONSTRAINT t_a_u FOREIGN KEY (a) REFERENCES u (id);\n\
             UPDATE v SET u_id = NULL WHERE u_id = 2;\n",
            1,
        )
    };
    db.migration("0002_fk.sql", sql);
    let doc = db.run(&["upgrade", "--dry-run", "--format", "json"]).json();
    let found = &doc["tightenings"];
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(found[0]["kind"], "foreign-key", "{found}");
    assert_eq!(found[0]["line"], line, "{found}");
    assert_eq!(found[0]["table"], "t", "{found}");
    assert_eq!(found[0]["columns"], serde_json::json!(["a"]), "{found}");
    // The live row (2, 3) is an orphan, which the probes find (tests/it/probes.rs).
    db.run(&["upgrade", "--dry-run"])
        .code(7)
        .stdout_has(&format!(
            "0002_fk.sql:{line}: tightens: foreign key (a) references u (id) on t"
        ));
    assert_eq!(leftovers(db), 0, "a scratch database was left behind");
    assert_eq!(db.count("t"), 2);
}

/// MySQL copies base tables only, so a statement that reads a live view fails on the copy:
/// the dry run says where the rehearsal stopped and goes on; SQLite copies views too.
fn a_statement_the_copy_rejects_stops_the_rehearsal_not_the_dry_run(db: &Db) {
    base(db);
    db.exec("CREATE VIEW w AS SELECT a FROM t");
    db.migration(
        "0002_view.sql",
        "CREATE VIEW w2 AS SELECT a FROM w;\nCREATE UNIQUE INDEX t_a ON t (a);\n",
    );
    let run = db.run(&["upgrade", "--dry-run"]);
    // SQLite's rehearsal goes on to the key, and the probe finds the live duplicates of a.
    run.code(if db.is_mysql() { 0 } else { 7 })
        .stdout_has("CREATE UNIQUE INDEX t_a");
    if db.is_mysql() {
        run.stderr_has("the rehearsal of the pending statements")
            .stderr_has("0002_view.sql:1:");
        assert!(!run.stdout.contains("tightens"), "{}", run.stdout);
    } else {
        run.stdout_has("0002_view.sql:2: tightens: unique key (a) on t");
        assert!(!run.stderr.contains("rehearsal"), "{}", run.stderr);
    }
    assert_eq!(leftovers(db), 0, "a scratch database was left behind");
}

/// MySQL: an account that may not create databases cannot rehearse; a no-op dry run does not
/// try (nothing said), a dry run with something pending says so and goes on.
#[test]
fn a_no_op_dry_run_does_not_rehearse_on_mysql() {
    let env = crate::support::Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    base(&db);
    let user = format!("rh_{}", &db.mysql_database()[3..]);
    assert!(user.len() <= 32, "{user}");
    db.exec(&format!(
        "CREATE USER '{user}'@'%' IDENTIFIED BY 'rehearsal42'; GRANT ALL ON `{}`.* TO '{user}'@'%'",
        db.mysql_database()
    ));
    let p = db.mysql_parts();
    let url = format!(
        "mysql://{user}:rehearsal42@{}:{}/{}",
        p.host,
        p.port,
        db.mysql_database()
    );
    let noop = env.run(&["upgrade", "--dry-run", "--database-url", &url]);
    let pending = {
        db.migration("0002_key.sql", "CREATE UNIQUE INDEX t_a ON t (a);\n");
        env.run(&["upgrade", "--dry-run", "--database-url", &url])
    };
    db.exec(&format!("DROP USER IF EXISTS '{user}'@'%'"));
    noop.ok().stdout_has("nothing to do");
    assert!(!noop.stderr.contains("rehearsal"), "{}", noop.stderr);
    pending
        .ok()
        .stdout_has("CREATE UNIQUE INDEX t_a")
        .stderr_has("the rehearsal of the pending statements")
        .stderr_has("could not run");
    assert_eq!(leftovers(&db), 0, "a scratch database was left behind");
}

/// MySQL: a shorter VARCHAR and ENUM values removed are tightenings; a wider type is not.
#[test]
fn narrower_types_and_removed_enum_values_on_mysql() {
    let env = crate::support::Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    db.migration(
        "0001_base.sql",
        "CREATE TABLE e (id INT NOT NULL PRIMARY KEY, s ENUM('a','b','c'), n VARCHAR(20), w INT);\n",
    );
    db.run(&["upgrade"]).ok();
    db.exec("INSERT INTO e VALUES (1, 'c', 'twelve chars', 1)");
    db.migration(
        "0002_narrow.sql",
        "ALTER TABLE e MODIFY n VARCHAR(10);\n\
         ALTER TABLE e MODIFY s ENUM('a','b');\n\
         ALTER TABLE e MODIFY w BIGINT;\n",
    );
    let doc = db.run(&["upgrade", "--dry-run", "--format", "json"]).json();
    let found: Vec<(u64, String, String)> = doc["tightenings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["line"].as_u64().unwrap(),
                t["kind"].as_str().unwrap().to_string(),
                t["columns"][0].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (1, "narrower-type".to_string(), "n".to_string()),
            (2, "enum-values-removed".to_string(), "s".to_string()),
        ]
    );
    // The live row's values break both (the probes: tests/it/probes.rs).
    db.run(&["upgrade", "--dry-run"]).code(7).stdout_has(
        "0002_narrow.sql:1: tightens: narrower type n: VARCHAR(20) -> VARCHAR(10) on e",
    );
    assert_eq!(db.count("e"), 1);
    assert_eq!(leftovers(&db), 0, "a scratch database was left behind");
}

/// Statements on different tables share one read of the copy's model (the rehearsal of many
/// ALTERs): each still gets its own table's tightenings, with its own line, in order.
fn statements_on_different_tables_each_get_their_own_tightenings(db: &Db) {
    base(db);
    db.migration(
        "0002_u.sql",
        "CREATE TABLE u (id INTEGER PRIMARY KEY, a INT, b VARCHAR(20));\n",
    );
    db.run(&["upgrade"]).ok();
    db.exec("INSERT INTO u (id, a, b) VALUES (1, 5, 'y'), (2, 6, 'y'), (3, NULL, NULL)");
    db.migration(
        "0003_two.sql",
        "-- two tables\n\
         CREATE UNIQUE INDEX u_a ON u (a);\n\
         CREATE UNIQUE INDEX t_b ON t (b);\n\
         CREATE UNIQUE INDEX u_b ON u (b);\n\
         CREATE UNIQUE INDEX t_a ON t (a);\n",
    );
    let doc = db.run(&["upgrade", "--dry-run", "--format", "json"]).json();
    let found: Vec<(u64, String, String)> = doc["tightenings"]
        .as_array()
        .unwrap_or_else(|| panic!("{doc:#}"))
        .iter()
        .map(|t| {
            (
                t["line"].as_u64().unwrap(),
                t["table"].as_str().unwrap().to_string(),
                t["columns"][0].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let f = |l: u64, t: &str, c: &str| (l, t.to_string(), c.to_string());
    assert_eq!(
        found,
        vec![
            f(2, "u", "a"),
            f(3, "t", "b"),
            f(4, "u", "b"),
            f(5, "t", "a")
        ],
        "{doc:#}"
    );
    assert_eq!(leftovers(db), 0);
}
