//! `upgrade --sql`: the printed script, applied with the dialect's own client (`mariadb`,
//! `sqlite3`), leaves the database as `upgrade` would (schema and history), refuses a database
//! in another state, and a script that failed halfway is continued by `upgrade --resume`.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::aurweb::{aurweb_head, copy_repository};
use crate::each_db;
use crate::support::{Db, Env};

each_db!(
    empty_database_script_equals_upgrade,
    script_from_a_version_equals_upgrade,
    replay_script_equals_upgrade_replay,
    failed_script_is_resumed_by_upgrade,
    triggers_quotes_and_comments_reach_the_client_intact,
    downgrade_script_equals_downgrade,
);

/// What a client run printed and how it ended.
struct ClientRun {
    success: bool,
    output: String,
}

impl ClientRun {
    #[track_caller]
    fn succeeded(&self) {
        assert!(self.success, "the client failed: {}", self.output);
    }

    /// The script stopped at the guard for `condition` (the guard column it names).
    #[track_caller]
    fn refused(&self, condition: &str) {
        assert!(!self.success, "the script must be refused: {}", self.output);
        assert!(self.output.contains(condition), "{}", self.output);
    }
}

/// Applies `script` to `db` with `mariadb` (the password, if any, in the environment) or
/// `sqlite3`, as a DBA would.
fn apply_with_client(db: &Db, script: &str) -> ClientRun {
    let mut cmd = if db.is_mysql() {
        let parts = db.mysql_parts();
        let mut c = Command::new(client("mariadb", "mysql"));
        c.arg(format!("--user={}", parts.user))
            .arg(format!("--host={}", parts.host))
            .arg(format!("--port={}", parts.port))
            .arg(db.mysql_database());
        if let Some(p) = &parts.password {
            c.env("MYSQL_PWD", p);
        }
        c
    } else {
        let mut c = Command::new(client("sqlite3", "sqlite3"));
        c.arg(db.sqlite_path());
        c
    };
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run the database client: {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write the script");
    let out = child.wait_with_output().expect("client finished");
    ClientRun {
        success: out.status.success(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// The client's path: the first of two names found on PATH (a missing client fails the test:
/// `.ci/run` installs both).
fn client(name: &str, alternative: &str) -> String {
    for n in [name, alternative] {
        let found = std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(n).is_file()));
        if found {
            return n.to_string();
        }
    }
    panic!("neither {name} nor {alternative} is installed; the offline-SQL tests need the database's own client");
}

/// The history as the tool wrote it, without what differs between two runs (times, user).
fn history(db: &Db) -> Vec<String> {
    let progress = db
        .strings("SELECT COALESCE(progress_checksum, '') FROM aurweb_migrations ORDER BY version");
    db.history()
        .into_iter()
        .zip(progress)
        .map(|(r, p)| {
            format!(
                "{} {} {} {} {}/{} {p} {:?}",
                r.version,
                r.description,
                r.checksum,
                r.state,
                r.statements_done,
                r.statements_total,
                r.error_text
            )
        })
        .collect()
}

fn schema_dump(db: &Db) -> String {
    db.run(&["schema", "dump"]).ok().stdout.clone()
}

/// Both databases have the same schema and the same history.
#[track_caller]
fn assert_same(by_script: &Db, by_upgrade: &Db) {
    assert_eq!(history(by_script), history(by_upgrade), "history rows");
    let (a, b) = (schema_dump(by_script), schema_dump(by_upgrade));
    assert!(a.contains("table "), "a schema was dumped: {a}");
    assert_eq!(a, b, "schema");
}

fn script(db: &Db, args: &[&str]) -> String {
    let mut all = vec!["upgrade", "--sql", "--dialect", db.dialect()];
    all.extend_from_slice(args);
    // Written without a database: the database setting points nowhere.
    let run = db
        .env
        .cmd(&all)
        .env(
            "AURWEB_MIGRATE_DATABASE_URL",
            "mysql://nobody@127.0.0.1:9/nowhere",
        )
        .run();
    run.ok();
    assert!(
        run.stdout.contains("INSERT INTO `aurweb_migrations`")
            || run.stdout.contains("INSERT INTO \"aurweb_migrations\""),
        "{}",
        run.stdout
    );
    run.stdout.clone()
}

fn empty_database_script_equals_upgrade(db: &Db) {
    copy_repository(db.env);
    let sql = script(db, &[]);
    assert!(sql.contains("-- Builds the schema from schema/"), "{sql}");
    apply_with_client(db, &sql).succeeded();
    let reference = db.sibling();
    reference.run(&["upgrade"]).ok();
    assert_same(db, &reference);
    db.run(&["check", "--drift"]).ok();
    // Applied again, the script refuses before it changes anything.
    let before = history(db);
    apply_with_client(db, &sql).refused("database_is_empty");
    assert_eq!(history(db), before);
}

fn script_from_a_version_equals_upgrade(db: &Db) {
    copy_repository(db.env);
    let reference = db.sibling();
    for d in [db, &reference] {
        d.run(&["upgrade", "--replay", "--to", "11"]).ok();
    }
    let sql = script(db, &["--from", "11", "--to", "16"]);
    assert!(sql.contains("versions 12 to 16"), "{sql}");
    apply_with_client(db, &sql).succeeded();
    reference.run(&["upgrade", "--to", "16"]).ok();
    assert_same(db, &reference);
    // The tool takes over from there.
    let status = db.run(&["status", "--format", "json"]).ok().json();
    assert_eq!(status["current"], 16, "{status:#}");
    assert_eq!(status["pending"], aurweb_head() - 16, "{status:#}");
    // The same script on a database no longer at 11 is refused, naming the condition.
    apply_with_client(db, &sql).refused("history_matches_version_11");
    db.run(&["upgrade"]).ok();
    db.run(&["check", "--drift"]).ok();
    // A history that holds versions up to 11 but not with these files' checksums is refused too.
    db.exec("DELETE FROM aurweb_migrations WHERE version > 11");
    db.exec("UPDATE aurweb_migrations SET checksum = 'sha256-v1:00' WHERE version = 5");
    apply_with_client(db, &sql).refused("history_matches_version_11");
    assert_eq!(db.count("aurweb_migrations"), 11, "nothing was recorded");
}

fn replay_script_equals_upgrade_replay(db: &Db) {
    copy_repository(db.env);
    let sql = script(db, &["--replay", "--to", "9"]);
    assert!(!sql.contains("Builds the schema"), "{sql}");
    apply_with_client(db, &sql).succeeded();
    let reference = db.sibling();
    reference.run(&["upgrade", "--replay", "--to", "9"]).ok();
    assert_same(db, &reference);
}

fn failed_script_is_resumed_by_upgrade(db: &Db) {
    let env: &Env = db.env;
    env.migration(
        "0001_first.sql",
        "CREATE TABLE first (id INTEGER PRIMARY KEY);\n",
    );
    // Statement by statement on both dialects; its second statement fails.
    env.migration(
        "0002_steps.sql",
        "-- aurweb-migrate: no-transaction\nCREATE TABLE a (x INTEGER);\nINSERT INTO missing VALUES (1);\nCREATE TABLE b (y INTEGER);\n",
    );
    let sql = script(db, &[]);
    let applied = apply_with_client(db, &sql);
    assert!(!applied.success, "the script must stop: {}", applied.output);
    assert!(applied.output.contains("missing"), "{}", applied.output);
    assert!(db.has_table("a") && !db.has_table("b"));
    let rows = db.history();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        (rows[1].state.as_str(), rows[1].statements_done),
        ("failed", 1)
    );
    // The tool sees the failed migration as its own: check fails, plain upgrade refuses.
    db.run(&["check"]).code(1).stdout_has("failed");
    db.run(&["upgrade"]).code(5);
    // Fix the failing statement; --resume continues after the statement the script committed.
    env.migration(
        "0002_steps.sql",
        "-- aurweb-migrate: no-transaction\nCREATE TABLE a (x INTEGER);\nCREATE TABLE c (z INTEGER);\nCREATE TABLE b (y INTEGER);\n",
    );
    db.run(&["upgrade", "--resume"]).ok();
    assert!(db.has_table("b") && db.has_table("c"));
    let rows = db.history();
    assert_eq!(
        (rows[1].state.as_str(), rows[1].statements_done),
        ("applied", 3)
    );
    db.run(&["check"]).ok();
}

#[test]
fn written_without_a_database_and_bad_flags_are_input_errors() {
    let env = Env::new();
    copy_repository(&env);
    // No server listens on port 9: nothing connects.
    let run = env
        .cmd(["upgrade", "--sql", "--from", "16"])
        .env(
            "AURWEB_MIGRATE_DATABASE_URL",
            "mysql://nobody:secret@127.0.0.1:9/nowhere",
        )
        .run();
    run.ok()
        .stdout_has("-- 17 requests closed uid index")
        .nowhere("secret");
    assert!(
        run.stdout.contains("START TRANSACTION") && run.stdout.contains("GET_LOCK"),
        "{}",
        run.stdout
    );
    // Defaults to the configured database's dialect; --dialect overrides it.
    let sqlite = env.run(&["upgrade", "--sql", "--dialect", "sqlite", "--from", "16"]);
    sqlite
        .ok()
        .stdout_has("BEGIN IMMEDIATE")
        .stdout_has(".bail on");
    for (args, says) in [
        (vec!["--from", "0"], "--from 0"),
        (vec!["--from", "99"], "--from 99: no migration"),
        (
            vec!["--from", "12", "--to", "5"],
            "--to 5 is below --from 12",
        ),
        (vec!["--format", "json"], "--format json does not apply"),
    ] {
        let mut all = vec!["upgrade", "--sql", "--dialect", "mysql"];
        all.extend(args);
        env.run(&all).code(2).stderr_has(says);
    }
    env.run(&["upgrade", "--sql", "--dry-run"])
        .code(2)
        .stderr_has("cannot be used with");
    env.run(&["upgrade", "--from", "3"])
        .code(2)
        .stderr_has("--sql");
}

fn triggers_quotes_and_comments_reach_the_client_intact(db: &Db) {
    let env: &Env = db.env;
    env.migration(
        "0001_tables.sql",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, note VARCHAR(20), n INTEGER) -- a trailing comment\n;\n\
         CREATE TABLE log (what VARCHAR(20));\n",
    );
    env.migration(
        "0002_trigger.mysql.sql",
        "DELIMITER //\nCREATE TRIGGER t_log AFTER INSERT ON t FOR EACH ROW\nBEGIN\n  INSERT INTO log (what) VALUES ('a;b');\n  INSERT INTO log (what) VALUES (NEW.note);\nEND//\nDELIMITER ;\n",
    );
    env.migration(
        "0002_trigger.sqlite.sql",
        "CREATE TRIGGER t_log AFTER INSERT ON t FOR EACH ROW\nBEGIN\n  INSERT INTO log (what) VALUES ('a;b');\n  INSERT INTO log (what) VALUES (NEW.note);\nEND;\n",
    );
    env.migration(
        "0003_rows.sql",
        "INSERT INTO t (id, note, n) VALUES (1, 'x;y', 1); # no comment\nINSERT INTO t (id, note, n) VALUES (2, 'it''s', 2);\n"
            .replace('#', if db.is_mysql() { "#" } else { "--" })
            .as_str(),
    );
    // `upgrade --dry-run` prints the same statements in a form the client takes too.
    let pasted = db.sibling();
    let preview = pasted.run(&["upgrade", "--dry-run"]).ok().stdout.clone();
    let by_paste = apply_with_client(&pasted, &preview);
    by_paste.succeeded();
    assert_eq!(
        pasted.strings("SELECT what FROM log ORDER BY what"),
        ["a;b", "a;b", "it's", "x;y"]
    );

    let applied = apply_with_client(db, &script(db, &[]));
    applied.succeeded();
    // The script prints nothing of its own (the SQLite busy timeout used to echo `60000`).
    assert_eq!(applied.output.trim(), "", "the client printed something");
    assert_eq!(
        db.strings("SELECT what FROM log ORDER BY what"),
        ["a;b", "a;b", "it's", "x;y"]
    );
    let reference = db.sibling();
    reference.run(&["upgrade"]).ok();
    assert_same(db, &reference);
}

/// The script takes the very lock `upgrade` holds: while an upgrade runs, a script applied
/// with a short `--lock-timeout` is refused at its lock guard, before it changes anything.
#[test]
fn the_script_waits_for_the_lock_upgrade_holds() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    env.migration("0001_slow.sql", "DO SLEEP(4);\n");
    let sql = script(&db, &["--lock-timeout", "1"]);
    let upgrade = db.cmd(&["upgrade", "-q"]).spawn();
    // Bounded wait until the upgrade runs its migration (it holds the lock from before).
    let held = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%SLEEP(4)%' AND INFO NOT LIKE '%PROCESSLIST%'";
    let mut running = false;
    for _ in 0..100 {
        if db.scalar(held) > 0 {
            running = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(running, "the upgrade started its migration");
    apply_with_client(&db, &sql).refused("migration_lock_acquired");
    upgrade.wait().ok();
    assert_eq!(
        db.history().len(),
        1,
        "only the upgrade recorded its migration"
    );
}

/// `downgrade --sql --from V --to T`, applied with the client, leaves the database as
/// `downgrade --to T` does (schema and history), DDL and all; applied again, it refuses.
fn downgrade_script_equals_downgrade(db: &Db) {
    let env: &Env = db.env;
    env.migration(
        "0001_log.sql",
        "CREATE TABLE log (n INTEGER, what VARCHAR(20));\n",
    );
    env.migration("0001_log.down.sql", "DROP TABLE log;\n");
    env.migration(
        "0002_rows.sql",
        "INSERT INTO log VALUES (1, 'a;b');\nINSERT INTO log VALUES (2, 'it''s');\n",
    );
    env.migration("0002_rows.down.sql", "DELETE FROM log WHERE n IN (1, 2);\n");
    env.migration("0003_table.sql", "CREATE TABLE t3 (id INTEGER);\n");
    env.migration(
        "0003_table.down.sql",
        "INSERT INTO log VALUES (3, 'down 3');\nDROP TABLE t3;\n",
    );
    db.run(&["upgrade"]).ok();
    let reference = db.sibling();
    reference.run(&["upgrade"]).ok();
    reference.run(&["downgrade", "--to", "1"]).ok();

    // Written without a database: the database setting points nowhere.
    let run = env
        .cmd([
            "downgrade",
            "--sql",
            "--dialect",
            db.dialect(),
            "--from",
            "3",
            "--to",
            "1",
        ])
        .env(
            "AURWEB_MIGRATE_DATABASE_URL",
            "mysql://nobody@127.0.0.1:9/nowhere",
        )
        .run();
    run.ok()
        .stdout_has("revert 3 table")
        .stdout_has("DELETE FROM");
    let sql = run.stdout.clone();
    apply_with_client(db, &sql).succeeded();
    assert_same(db, &reference);
    assert_eq!(db.strings("SELECT what FROM log"), ["down 3"]);
    // Applied again, the database is no longer at version 3: refused, nothing changes.
    let before = history(db);
    apply_with_client(db, &sql).refused("history_matches_version_3");
    assert_eq!(history(db), before);
    // Without --to, one migration; without --from, a usage error.
    env.run(&["downgrade", "--sql", "--from", "3"])
        .ok()
        .stdout_has("revert 3 table")
        .nowhere("revert 2 rows");
    env.run(&["downgrade", "--sql"])
        .code(2)
        .stderr_has("--from");
}
