//! The DDL plan (issue 28 items 1–3): the best ALGORITHM and LOCK the server accepts for each
//! pending DDL statement, learnt on the rehearsal's empty copy (MariaDB), shown by `upgrade
//! --dry-run`; the gates `--max-algorithm`/`--max-lock` that refuse a run before its first
//! statement; the proven clause appended when a gate is set. SQLite: not applicable, the
//! gates ignored with a warning.

use crate::support::{Db, Env};

/// A parent and a child table with a foreign key (the copy keeps it), and rows in both:
/// duplicates, NULLs, a long value.
fn base(db: &Db) {
    db.migration(
        "0001_base.sql",
        "CREATE TABLE p (id INT NOT NULL PRIMARY KEY, name VARCHAR(40));\n\
         CREATE TABLE t (id INT NOT NULL PRIMARY KEY, pid INT, a INT, b VARCHAR(200), \
         CONSTRAINT t_p FOREIGN KEY (pid) REFERENCES p (id) ON DELETE CASCADE);\n",
    );
    db.run(&["upgrade"]).ok();
    db.exec("INSERT INTO p VALUES (1, 'one'), (2, NULL)");
    let long = "x".repeat(180);
    db.exec(&format!(
        "INSERT INTO t VALUES (1, 1, 5, 'dup'), (2, 1, 5, 'dup'), (3, NULL, NULL, NULL), (4, 2, 7, '{long}')"
    ));
    if db.is_mysql() {
        db.exec("ANALYZE TABLE t");
    }
}

fn plan(doc: &serde_json::Value) -> Vec<(u64, String, String, String)> {
    doc["ddl"]
        .as_array()
        .unwrap_or_else(|| panic!("no ddl list: {doc:#}"))
        .iter()
        .map(|d| {
            (
                d["line"].as_u64().unwrap(),
                d["table"].as_str().unwrap().to_string(),
                d["algorithm"].as_str().unwrap().to_string(),
                d["lock"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// MariaDB: ADD COLUMN is INSTANT, a column type change COPY, a secondary index NOCOPY with
/// LOCK=NONE; each with the live table's size, an estimate for the costly ones, and the
/// meaning in words; the live table is left as it was.
#[test]
fn the_plan_of_add_column_type_change_and_index_on_mariadb() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    base(&db);
    db.migration(
        "0002_change.sql",
        "ALTER TABLE t ADD COLUMN c INT;\n\
         ALTER TABLE t MODIFY a BIGINT;\n\
         CREATE INDEX t_b ON t (b);\n\
         INSERT INTO p VALUES (3, 'three');\n",
    );
    let run = db.run(&["upgrade", "--dry-run", "--format", "json"]);
    let doc = run.ok().json();
    let p = |l: u64, a: &str, k: &str| (l, "t".to_string(), a.to_string(), k.to_string());
    assert_eq!(
        plan(&doc),
        vec![
            p(1, "INSTANT", "NONE"),
            p(2, "COPY", "SHARED"),
            p(3, "NOCOPY", "NONE")
        ],
        "{doc:#}"
    );
    let d = &doc["ddl"];
    assert_eq!(d[0]["estimate_s"], serde_json::Value::Null, "{doc:#}");
    assert!(d[1]["estimate_s"].as_f64().is_some(), "{doc:#}");
    assert!(d[2]["estimate_s"].as_f64().is_some(), "{doc:#}");
    // Four rows are too few to time: the fixed rate, and the plan says so.
    assert_eq!(d[1]["estimate_method"], "fixed-rate", "{doc:#}");
    assert_eq!(d[0]["estimate_method"], serde_json::Value::Null, "{doc:#}");
    assert_eq!(d[1]["rows"].as_u64(), Some(4), "{doc:#}");
    assert!(d[1]["bytes"].as_u64().unwrap() > 0, "{doc:#}");
    assert_eq!(
        d[1]["meaning"],
        "copies the whole table; writes blocked, reads go on"
    );
    assert_eq!(d[1]["over_gate"], serde_json::Value::Null);
    db.run(&["upgrade", "--dry-run"])
        .ok()
        .stdout_has("how long this deploy locks its tables")
        .stdout_has("0002_change.sql:1: t: ALGORITHM=INSTANT: changes only the table's metadata; reads and writes go on; 4 rows")
        .stdout_has("0002_change.sql:2: t: ALGORITHM=COPY, LOCK=SHARED: copies the whole table; writes blocked, reads go on")
        .stdout_has("at a fixed rate of 33 MB/s");
    // check lists it too (exit 1: a migration is pending), and exits 8 when a statement is
    // over a gate.
    let doc = db.run(&["check", "--format", "json"]).code(1).json();
    assert_eq!(plan(&doc).len(), 3, "{doc:#}");
    db.run(&["check", "--max-algorithm", "nocopy"])
        .code(8)
        .stdout_has("OVER THE GATE: ALGORITHM=COPY is over --max-algorithm NOCOPY");
    // status -v lists it too, and the gates among the settings.
    db.run(&["status", "-v", "--max-lock", "shared"])
        .ok()
        .stdout_has("max algorithm   no gate  (from default)")
        .stdout_has("max lock        SHARED  (from command line)")
        .stdout_has("0002_change.sql:3: t: ALGORITHM=NOCOPY, LOCK=NONE");
    // Read-only: nothing of it ran on the live table.
    assert!(!db.show_create_table("t").contains("`c`"));
    assert!(db.show_create_table("t").contains("`a` int(11)"));
    assert_eq!(db.states(), vec![(1, "applied".to_string())]);
}

/// MariaDB: a statement over `--max-algorithm` refuses the run before its first statement
/// (exit 8, kind ddl-gate, the offending statement in JSON); nothing ran and the migration is
/// pending. The dry run says so too.
#[test]
fn a_gate_refuses_the_run_before_any_statement_on_mariadb() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    base(&db);
    db.migration(
        "0002_change.sql",
        "ALTER TABLE t ADD COLUMN c INT;\n\
         ALTER TABLE t MODIFY a BIGINT;\n",
    );
    db.run(&["upgrade", "--dry-run", "--max-algorithm", "inplace"])
        .code(8)
        .stdout_has("OVER THE GATE: ALGORITHM=COPY is over --max-algorithm INPLACE")
        .stderr_has("over the DDL gates");
    let run = db.run(&["upgrade", "--max-algorithm", "inplace", "--format", "json"]);
    run.code(8);
    let doc = run.json();
    assert_eq!(doc["error"]["kind"], "ddl-gate", "{doc:#}");
    assert_eq!(doc["error"]["exit_code"], 8);
    assert_eq!(doc["changed"], false);
    assert_eq!(
        plan(&doc),
        vec![(2, "t".to_string(), "COPY".to_string(), "SHARED".to_string())],
        "{doc:#}"
    );
    assert!(doc["ddl"][0]["over_gate"]
        .as_str()
        .unwrap()
        .contains("--max-algorithm"));
    // Nothing ran: not even the INSTANT first statement; the migration stays pending.
    assert!(!db.show_create_table("t").contains("`c`"));
    assert_eq!(db.states(), vec![(1, "applied".to_string())]);
    assert_eq!(db.count("t"), 4);
    // A lock gate: COPY holds LOCK=SHARED, over --max-lock none.
    db.run(&["upgrade", "--max-lock", "none"])
        .code(8)
        .stderr_has("LOCK=SHARED is over --max-lock NONE");
    assert_eq!(db.states(), vec![(1, "applied".to_string())]);
    // Within the gates the run goes on, each statement with its proven clause.
    db.run(&["upgrade", "--max-algorithm", "copy", "--max-lock", "shared"])
        .ok();
    assert!(db.show_create_table("t").contains("`a` bigint(20)"));
    assert_eq!(db.count("t"), 4);
}

/// MariaDB: `-- aurweb-migrate: allow-lock=shared` says the migration is meant to run with
/// writes blocked: shown in the plan, it passes `--max-lock none`, and the run applies it
/// with the proven clause.
#[test]
fn an_allow_lock_directive_passes_the_lock_gate_on_mariadb() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    base(&db);
    db.migration(
        "0002_offline.sql",
        "-- aurweb-migrate: allow-lock=shared\n\
         ALTER TABLE t MODIFY a BIGINT;\n",
    );
    db.run(&["upgrade", "--dry-run", "--max-lock", "none"])
        .ok()
        .stdout_has("(the migration allows LOCK=SHARED: meant to run offline)");
    let doc = db
        .run(&[
            "upgrade",
            "--dry-run",
            "--max-lock",
            "none",
            "--format",
            "json",
        ])
        .json();
    assert_eq!(doc["ddl"][0]["allow_lock"], "SHARED", "{doc:#}");
    db.run(&["upgrade", "--max-lock", "none"]).ok();
    assert!(db.show_create_table("t").contains("`a` bigint(20)"));
    assert_eq!(db.count("t"), 4);
    // Without the directive the same gate refuses.
    db.migration("0003_more.sql", "ALTER TABLE t MODIFY pid BIGINT;\n");
    let run = db.run(&["upgrade", "--max-lock", "none"]);
    // The foreign key needs the same type on both sides: the copy refuses every clause, so
    // the rehearsal stops there and the gate cannot be proven; either way nothing runs.
    run.code(8);
    assert_eq!(db.history().len(), 2);
}

/// SQLite: no ALGORITHM or LOCK clause; the plan is empty and the gates are ignored with a
/// warning.
#[test]
fn the_plan_is_not_applicable_and_the_gates_ignored_on_sqlite() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    base(&db);
    db.migration("0002_change.sql", "ALTER TABLE t ADD COLUMN c INT;\n");
    let run = db.run(&[
        "upgrade",
        "--dry-run",
        "--max-algorithm",
        "instant",
        "--max-lock",
        "none",
        "--format",
        "json",
    ]);
    run.ok()
        .stderr_has("--max-algorithm and --max-lock apply to MySQL/MariaDB only");
    assert_eq!(run.json()["ddl"], serde_json::json!([]));
    db.run(&["upgrade", "--max-lock", "none"])
        .ok()
        .stderr_has("ignored on SQLite");
    assert_eq!(db.states().len(), 2);
}

/// The gates take only the known values (flag and TOML key), and need the rehearsal that
/// `--no-probes` turns off; `allow-lock=` takes only a known lock.
#[test]
fn gate_values_and_the_directive_are_checked() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    db.run(&["upgrade", "--max-algorithm", "fast"]).code(2);
    env.write("aurweb-migrate.toml", "max_lock = \"sometimes\"\n");
    db.run(&["status"])
        .code(2)
        .stderr_has("max_lock: \"sometimes\" is not one of none, shared, exclusive");
    env.remove("aurweb-migrate.toml");
    db.migration(
        "0001_a.sql",
        "-- aurweb-migrate: allow-lock=forever\nCREATE TABLE a (id INT);\n",
    );
    db.run(&["upgrade"])
        .code(2)
        .stderr_has("allow-lock takes none, shared or exclusive");
}

/// MySQL: `--no-probes` with a gate is a usage error (the gate cannot be proven).
#[test]
fn a_gate_needs_the_rehearsal_on_mysql() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    base(&db);
    db.migration("0002_change.sql", "ALTER TABLE t ADD COLUMN c INT;\n");
    db.run(&["upgrade", "--no-probes", "--max-lock", "none"])
        .code(2)
        .stderr_has("need the rehearsal");
    assert_eq!(db.states().len(), 1);
}

/// MariaDB: a live table that differs from its copy in a way its definition does not show (a
/// dropped FULLTEXT index leaves a hidden FTS_DOC_ID column, which makes ADD COLUMN not
/// INSTANT): with a gate set the statement runs with the proven clause, the server refuses
/// it instead of silently running it another way, and the refusal is told as a
/// misprediction naming the statement and the clause; nothing of it ran, and the migration
/// runs later without the gate.
#[test]
fn a_misprediction_is_refused_through_the_appended_clause_on_mariadb() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    db.migration(
        "0001_base.sql",
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, b VARCHAR(50), FULLTEXT KEY ft (b));\n\
         ALTER TABLE t DROP INDEX ft;\n",
    );
    db.run(&["upgrade"]).ok();
    db.exec("INSERT INTO t VALUES (1, 'one'), (2, NULL), (3, 'one')");
    db.migration("0002_add.sql", "ALTER TABLE t ADD COLUMN c INT;\n");
    let doc = db.run(&["upgrade", "--dry-run", "--format", "json"]).json();
    assert_eq!(
        plan(&doc),
        vec![(
            1,
            "t".to_string(),
            "INSTANT".to_string(),
            "NONE".to_string()
        )],
        "the copy has no hidden column: {doc:#}"
    );
    let run = db.run(&["upgrade", "--max-algorithm", "instant", "--format", "json"]);
    run.code(4)
        .stderr_has("misprediction")
        .stderr_has("the proven `ALGORITHM=INSTANT` appended")
        .stderr_has("0002_add.sql:1");
    let doc = run.json();
    assert_eq!(doc["error"]["kind"], "migration-failed", "{doc:#}");
    assert_eq!(doc["error"]["line"], 1);
    assert!(!db.show_create_table("t").contains("`c`"));
    assert_eq!(db.count("t"), 3);
    // Resumable like any MySQL failure: recorded as failed with nothing of it committed;
    // `upgrade --resume` without the gate runs it (INPLACE, as the server chooses).
    assert_eq!(
        db.states(),
        vec![(1, "applied".to_string()), (2, "failed".to_string())]
    );
    db.run(&["upgrade", "--resume"]).ok();
    assert!(db.show_create_table("t").contains("`c`"));
    assert_eq!(db.count("t"), 3);
}

/// MariaDB: a statement that states its own ALGORITHM keeps it (never overridden by an
/// appended one, which would win); the lock is still learnt, and the gate holds it to what
/// it states.
#[test]
fn a_stated_algorithm_is_kept_and_gated_on_mariadb() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    base(&db);
    db.migration(
        "0002_copy.sql",
        "ALTER TABLE t ADD COLUMN c INT, ALGORITHM=COPY;\n",
    );
    let doc = db
        .run(&["upgrade", "--dry-run", "--format", "json"])
        .ok()
        .json();
    assert_eq!(
        plan(&doc),
        vec![(1, "t".to_string(), "COPY".to_string(), "SHARED".to_string())],
        "{doc:#}"
    );
    db.run(&["upgrade", "--max-algorithm", "instant"])
        .code(8)
        .stderr_has("ALGORITHM=COPY is over --max-algorithm INSTANT");
    assert!(!db.show_create_table("t").contains("`c`"));
    db.run(&["upgrade", "--max-lock", "shared"]).ok();
    assert!(db.show_create_table("t").contains("`c`"));
    assert_eq!(db.count("t"), 4);
}

/// MariaDB: a DDL statement that takes no appended clause (partitioning options must come
/// last) runs in the rehearsal as written but its plan is unknown: a gate refuses the run,
/// without a gate it runs.
#[test]
fn an_unproven_statement_refuses_a_gated_run_on_mariadb() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    db.migration(
        "0001_base.sql",
        "CREATE TABLE u (id INT NOT NULL PRIMARY KEY, v VARCHAR(10));\n",
    );
    db.run(&["upgrade"]).ok();
    db.exec("INSERT INTO u VALUES (1, 'a'), (2, NULL), (3, 'a')");
    db.migration(
        "0002_part.sql",
        "ALTER TABLE u PARTITION BY HASH(id) PARTITIONS 2;\n",
    );
    let doc = db
        .run(&["upgrade", "--dry-run", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["ddl"], serde_json::json!([]), "{doc:#}");
    let run = db.run(&["upgrade", "--max-lock", "exclusive", "--format", "json"]);
    run.code(8)
        .stderr_has("the server accepted no ALGORITHM/LOCK clause for migrations/0002_part.sql:1");
    assert_eq!(run.json()["error"]["kind"], "ddl-gate");
    assert_eq!(db.states(), vec![(1, "applied".to_string())]);
    db.run(&["upgrade"]).ok();
    assert_eq!(db.count("u"), 3);
}

/// On a Galera node the estimate says that the whole cluster stalls meanwhile (DDL runs
/// under TOI).
#[test]
fn on_galera_the_estimate_says_the_cluster_stalls() {
    let Some(cluster) = crate::support::galera_cluster() else {
        return;
    };
    let _alone = cluster.exclusive();
    let env = Env::new();
    let db = format!("it_galera_ddl_{}", std::process::id());
    let node = &cluster.nodes[0];
    node.admin_exec(&format!("CREATE DATABASE {db}"));
    let run = |args: &[&str]| env.cmd(args).arg("--database-url").arg(node.url(&db)).run();
    env.migration(
        "0001_base.sql",
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT);\n",
    );
    run(&["upgrade"]).ok();
    node.admin_exec(&format!(
        "INSERT INTO {db}.t VALUES (1, 1), (2, NULL), (3, 1)"
    ));
    env.migration(
        "0002_change.sql",
        "ALTER TABLE t ADD COLUMN c INT;\nALTER TABLE t MODIFY a BIGINT;\n",
    );
    let dry = run(&["upgrade", "--dry-run"]);
    node.admin_exec(&format!("DROP DATABASE {db}"));
    dry.ok()
        .stdout_has("0002_change.sql:2: t: ALGORITHM=COPY, LOCK=SHARED")
        .stdout_has("during which the whole Galera cluster stalls (DDL runs under TOI)");
    let instant = dry
        .stdout
        .lines()
        .find(|l| l.contains("0002_change.sql:1: t: ALGORITHM=INSTANT:"))
        .unwrap_or_else(|| panic!("no plan of line 1:\n{}", dry.stdout));
    assert!(
        !instant.contains("stalls"),
        "INSTANT has no estimate: {instant}"
    );
}

/// MariaDB, with 5,000 more rows of 180 bytes (besides the duplicates, NULLs and long value
/// of `base`): OPTIMIZE TABLE is planned as the rebuild it is (INPLACE, LOCK=NONE) with an
/// estimate at a rate calibrated on this server; RENAME TABLE as a metadata-only change with
/// a brief exclusive metadata lock and no estimate; ALTER TABLE … RENAME as INSTANT. The run
/// itself applies them (the proven clause appended only where one is taken).
#[test]
fn rename_and_optimize_are_planned_and_the_estimate_is_calibrated_on_mariadb() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    base(&db);
    db.exec(
        "INSERT INTO t (id, pid, a, b) WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL \
         SELECT i + 1 FROM n WHERE i < 99) SELECT 10 + x.i * 100 + y.i, 1 + y.i % 2, y.i % 3, \
         REPEAT('y', 180) FROM n x, n y WHERE x.i < 50",
    );
    db.exec("ANALYZE TABLE t");
    db.migration(
        "0002_move.sql",
        "OPTIMIZE TABLE t;\n\
         RENAME TABLE t TO t_new;\n\
         ALTER TABLE t_new RENAME TO t;\n",
    );
    let doc = db
        .run(&["upgrade", "--dry-run", "--format", "json"])
        .ok()
        .json();
    let p = |l: u64, t: &str, a: &str, k: &str| (l, t.to_string(), a.to_string(), k.to_string());
    assert_eq!(
        plan(&doc),
        vec![
            p(1, "t", "INPLACE", "NONE"),
            p(2, "t", "INSTANT", "NONE"),
            p(3, "t_new", "INSTANT", "NONE")
        ],
        "{doc:#}"
    );
    let d = &doc["ddl"];
    assert_eq!(d[0]["kind"], "optimize", "{doc:#}");
    assert_eq!(d[0]["estimate_method"], "calibrated", "{doc:#}");
    assert!(d[0]["estimate_s"].as_f64().unwrap() > 0.0, "{doc:#}");
    assert_eq!(d[1]["kind"], "rename", "{doc:#}");
    assert_eq!(d[1]["estimate_s"], serde_json::Value::Null, "{doc:#}");
    assert!(
        d[1]["meaning"]
            .as_str()
            .unwrap()
            .contains("exclusive metadata lock, held briefly"),
        "{doc:#}"
    );
    assert_eq!(d[2]["kind"], "alter", "{doc:#}");
    db.run(&["upgrade", "--dry-run"])
        .ok()
        .stdout_has("0002_move.sql:1: t: ALGORITHM=INPLACE, LOCK=NONE: rebuilds the table in place; reads and writes go on")
        .stdout_has("at a rate calibrated on this server")
        .stdout_has("0002_move.sql:2: t: RENAME TABLE (no clause): renames the table");
    // Nothing ran on the live table, and the calibration left nothing behind.
    assert!(db.show_create_table("t").contains("`b` varchar(200)"));
    assert_eq!(db.states(), vec![(1, "applied".to_string())]);
    // The run, with a gate (the clause appended to the ALTER only).
    db.run(&["upgrade", "--max-algorithm", "inplace"]).ok();
    assert_eq!(
        db.states(),
        vec![(1, "applied".to_string()), (2, "applied".to_string())]
    );
    assert!(db.show_create_table("t").contains("`b` varchar(200)"));
}
