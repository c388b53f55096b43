//! Several `upgrade` processes at once, and waiting for a lock someone else holds.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::each_db;
use crate::support::{Db, Env};

const MIGRATIONS: i64 = 20;

/// Migration 1 creates a counter table; 2..=20 each create a table (no IF NOT EXISTS) and count
/// themselves: running any of them twice fails or double-counts.
fn twenty(db: &Db) {
    db.migration(
        "0001_counter.sql",
        "CREATE TABLE counter (n INTEGER NOT NULL);\n",
    );
    for v in 2..=MIGRATIONS {
        db.migration(
            &format!("{v:04}_m{v}.sql"),
            &format!("CREATE TABLE t{v} (id INTEGER);\nINSERT INTO counter (n) VALUES ({v});\n"),
        );
    }
}

each_db!(concurrent_upgrades_apply_each_migration_once);

fn concurrent_upgrades_apply_each_migration_once(db: &Db) {
    twenty(db);
    let spawned: Vec<_> = (0..8)
        .map(|_| {
            db.cmd(&["upgrade", "--format", "json", "--lock-timeout", "30"])
                .spawn()
        })
        .collect();
    let runs: Vec<_> = spawned.into_iter().map(|s| s.wait()).collect();
    let mut applied_by_run: BTreeMap<i64, usize> = BTreeMap::new();
    for run in &runs {
        run.ok();
        let doc = run.json();
        assert_eq!(doc["current"], MIGRATIONS, "{doc:#}");
        for a in doc["applied"].as_array().expect("applied") {
            *applied_by_run
                .entry(a["version"].as_i64().unwrap())
                .or_default() += 1;
        }
    }
    // Every version reported applied by exactly one process.
    let expected: BTreeMap<i64, usize> = (1..=MIGRATIONS).map(|v| (v, 1)).collect();
    assert_eq!(applied_by_run, expected);
    // And its effects exist exactly once.
    assert_eq!(db.count("counter"), MIGRATIONS - 1);
    assert_eq!(
        db.scalar("SELECT COUNT(DISTINCT n) FROM counter"),
        MIGRATIONS - 1
    );
    let h = db.history();
    assert_eq!(h.len(), MIGRATIONS as usize);
    assert!(h.iter().all(|r| r.state == "applied"), "{h:#?}");
    assert_eq!(db.tables().len(), MIGRATIONS as usize + 1);
}

#[test]
fn lock_timeout_exits_6_then_succeeds_once_released() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    env.migration("0001_one.sql", "CREATE TABLE t1 (id INTEGER);\n");
    // The file must exist for the lock; a database without tables or history.
    db.exec("PRAGMA user_version = 7");
    let lock = db.hold_write_lock();

    let run = db.run(&["upgrade", "--lock-timeout", "1"]);
    run.code(6).stderr_has("lock");
    run.check(
        run.elapsed < Duration::from_secs(8),
        "gave up within a few seconds",
    );
    let run = db.run(&["upgrade", "--lock-timeout", "1", "--format", "json"]);
    let doc = run.code(6).json();
    assert_eq!(doc["error"]["kind"], "lock-timeout", "{doc:#}");
    assert_eq!(doc["error"]["exit_code"], 6);

    lock.release();
    assert!(db.tables().is_empty(), "nothing ran while locked");
    db.run(&["upgrade", "--lock-timeout", "1"]).ok();
    db.assert_tables(&["t1"]);
    assert_eq!(db.history().len(), 1);
}

/// A process waiting for the lock gets it when the holder lets go within the timeout.
#[test]
fn upgrade_waits_for_a_short_lock() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    env.migration("0001_one.sql", "CREATE TABLE t1 (id INTEGER);\n");
    // The file must exist for the lock; a database without tables or history.
    db.exec("PRAGMA user_version = 7");
    let lock = db.hold_write_lock();
    let waiting = db.cmd(&["upgrade", "--lock-timeout", "20"]).spawn();
    // Past a second, the wait is said once on stderr.
    std::thread::sleep(Duration::from_millis(1800));
    lock.release();
    let run = waiting.wait();
    run.ok()
        .stderr_has("waiting up to 20s (--lock-timeout) for the write lock");
    run.check(
        run.stderr.matches("waiting up to").count() == 1,
        "said once",
    );
    db.assert_tables(&["t1"]);

    // -q: nothing said.
    env.migration("0002_two.sql", "CREATE TABLE t2 (id INTEGER);\n");
    let lock = db.hold_write_lock();
    let waiting = db.cmd(&["-q", "upgrade", "--lock-timeout", "20"]).spawn();
    std::thread::sleep(Duration::from_millis(1500));
    lock.release();
    waiting.wait().ok().nowhere("waiting up to");
    db.assert_tables(&["t1", "t2"]);
}

/// A reader's open transaction keeps a SQLite COMMIT from writing (rollback journal: the
/// readers must be gone), while the tool's own BEGIN IMMEDIATE and statements go ahead. The
/// commit of a migration waits for the reader up to `--lock-timeout`, and the migration
/// applies once the reader ends; while it waits, a signal still ends the run at once
/// (`sqlite3_interrupt` does not end a wait for a lock: the busy handler gives up), the
/// migration rolled back over the rows that were there. The same for a signal while the
/// BEGIN waits for another writer.
#[test]
fn a_commit_waits_for_a_reader_and_a_signal_still_stops_it() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    env.migration("0001_one.sql", "CREATE TABLE t1 (id INTEGER);\n");
    db.run(&["upgrade"]).ok();
    db.exec("INSERT INTO t1 VALUES (1), (2)");
    env.migration(
        "0002_two.sql",
        "INSERT INTO t1 VALUES (3);\nCREATE TABLE t2 (id INTEGER);\n",
    );
    let reader = db.hold_read_lock();
    let mut waiting = db.cmd(&["upgrade", "--lock-timeout", "20"]).spawn();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !waiting.has_exited(),
        "the commit did not wait for the reader"
    );
    reader.release();
    waiting.wait().ok();
    db.assert_tables(&["t1", "t2"]);

    env.migration("0003_three.sql", "INSERT INTO t1 VALUES (4);\n");
    let reader = db.hold_read_lock();
    let mut child = db.cmd(&["upgrade", "--lock-timeout", "20"]).spawn();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !child.has_exited(),
        "the commit did not wait for the reader"
    );
    let (run, stopped) = terminate(child);
    reader.release();
    run.code(143).stderr_has("interrupted by SIGTERM");
    run.check(
        stopped < Duration::from_secs(3),
        "stopped within 3 s of the signal, not after the reader or the lock timeout",
    );
    assert_eq!(
        db.strings("SELECT CAST(id AS TEXT) FROM t1 ORDER BY id"),
        ["1", "2", "3"]
    );
    let states: Vec<i64> = db.history().iter().map(|h| h.version).collect();
    assert_eq!(states, [1, 2]);

    let writer = db.hold_write_lock();
    let mut child = db.cmd(&["upgrade", "--lock-timeout", "20"]).spawn();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!child.has_exited(), "the BEGIN did not wait for the writer");
    let (run, stopped) = terminate(child);
    writer.release();
    run.code(143).stderr_has("interrupted by SIGTERM");
    run.check(
        stopped < Duration::from_secs(3),
        "stopped within 3 s of the signal, not after the writer or the lock timeout",
    );
    assert_eq!(db.count("t1"), 3);
}

/// Sends SIGTERM to a running tool and waits for it: its run, and how long it took to stop.
fn terminate(child: crate::support::Spawned) -> (crate::support::Run, Duration) {
    let signalled = std::time::Instant::now();
    let sent = std::process::Command::new("kill")
        .args(["-TERM".to_string(), child.pid().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let run = child.wait();
    (run, signalled.elapsed())
}
