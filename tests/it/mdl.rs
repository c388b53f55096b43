//! Metadata locks on MariaDB (issue 28, item 4): a DDL statement waits for its table's
//! metadata lock at most `--ddl-lock-wait`, gives way to the readers and tries again, and when
//! it gives up for good names the sessions that hold the lock (exit 6, kind `metadata-lock`),
//! leaving the migration pending (or failed and resumable when earlier statements committed);
//! before the first DDL of a run, old transactions are named as a warning. SQLite has no
//! metadata locks.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::mysql::MySqlConnection;
use sqlx::Connection;

use crate::support::Db;

/// The table with rows: duplicates, NULLs, long values.
fn base(db: &Db<'_>) {
    db.migration(
        "0001_t.sql",
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a VARCHAR(200) NULL, b INT NULL);\n\
         INSERT INTO t VALUES (1, 'x', 1), (2, 'x', 1), (3, NULL, NULL), (4, REPEAT('long', 50), 7);\n",
    );
    db.run(&["upgrade"]).ok();
}

/// A second session that opens a transaction and reads `t` (it then holds a shared metadata
/// lock on it until it ends); returns it and its connection id.
fn blocker(db: &Db<'_>) -> (MySqlConnection, i64) {
    let mut conn = db.mysql_connection();
    let id = db.block_on(async {
        sqlx::raw_sql("START TRANSACTION")
            .execute(&mut conn)
            .await
            .expect("START TRANSACTION");
        let _: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&mut conn)
            .await
            .expect("read t");
        sqlx::query_scalar::<_, i64>("SELECT CAST(CONNECTION_ID() AS SIGNED)")
            .fetch_one(&mut conn)
            .await
            .expect("CONNECTION_ID()")
    });
    (conn, id)
}

fn commit(db: &Db<'_>, conn: &mut MySqlConnection) {
    db.block_on(async { sqlx::raw_sql("COMMIT").execute(conn).await.expect("COMMIT") });
}

/// Reads `t` from its own connection in a loop until `stop` (at most 2,000 reads, 20 ms
/// apart); returns the longest read and how many there were.
fn reader(url: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<(Duration, usize)> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut c = MySqlConnection::connect(&url)
                .await
                .expect("reader connects");
            sqlx::raw_sql("SET SESSION lock_wait_timeout = 120")
                .execute(&mut c)
                .await
                .expect("reader's session");
            let (mut longest, mut reads) = (Duration::ZERO, 0);
            while !stop.load(Ordering::SeqCst) && reads < 2000 {
                let started = Instant::now();
                let _: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
                    .fetch_one(&mut c)
                    .await
                    .expect("reader reads t");
                longest = longest.max(started.elapsed());
                reads += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let _ = c.close().await;
            (longest, reads)
        })
    })
}

/// MariaDB: an ALTER behind an open transaction that read the table waits at most
/// `--ddl-lock-wait` per try (three tries, 1 s and 2 s apart), readers of the table meanwhile
/// never wait longer than that, and the error names the blocking session (human and JSON,
/// exit 6); nothing of the migration ran, so it is pending and the same run succeeds once the
/// blocker commits.
#[test]
fn a_blocked_ddl_gives_way_names_the_blocker_and_runs_after_it_commits() {
    let env = crate::support::Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    base(&db);
    db.migration("0002_c.sql", "ALTER TABLE t ADD COLUMN c INT NULL;\n");
    let (mut holder, id) = blocker(&db);
    let stop = Arc::new(AtomicBool::new(false));
    let reads = reader(db.url().to_string(), stop.clone());
    let run = db
        .cmd(&[
            "upgrade",
            "--ddl-lock-wait",
            "1",
            "--lock-timeout",
            "30",
            "--format",
            "json",
        ])
        .spawn()
        .wait();
    stop.store(true, Ordering::SeqCst);
    let (longest, count) = reads.join().expect("reader");
    run.code(6)
        .stderr_has(&format!("connection {id} ("))
        .stderr_has("--ddl-lock-wait")
        .stderr_has("run `aurweb-migrate upgrade` again");
    // Three tries of 1 s and pauses of 1 s and 2 s: bounded, and it did retry.
    run.check(
        run.elapsed >= Duration::from_secs(5) && run.elapsed < Duration::from_secs(15),
        &format!("gave up after the tries, within bounds ({:?})", run.elapsed),
    );
    eprintln!(
        "blocked run: {:?}; longest of {count} reads of t meanwhile: {longest:?}",
        run.elapsed
    );
    assert!(
        count > 10 && longest < Duration::from_millis(2500),
        "readers of t waited at most about --ddl-lock-wait: longest {longest:?} of {count} reads"
    );
    // They did queue behind the waiting ALTER (so the bound is what kept them going).
    assert!(
        longest > Duration::from_millis(300),
        "a reader queued behind the pending ALTER: longest {longest:?}"
    );
    let doc = run.json();
    assert_eq!(doc["error"]["kind"], "metadata-lock", "{doc:#}");
    assert_eq!(doc["error"]["exit_code"], 6, "{doc:#}");
    assert_eq!(doc["error"]["version"], 2, "{doc:#}");
    assert_eq!(doc["error"]["line"], 1, "{doc:#}");
    assert_eq!(doc["error"]["rolled_back"], true, "{doc:#}");
    let named = doc["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == id)
        .unwrap_or_else(|| panic!("the blocker {id} is named: {doc:#}"));
    assert_eq!(named["user"], "root", "{doc:#}");
    assert_eq!(named["command"], "Sleep", "{doc:#}");
    assert!(named["transaction_seconds"].as_i64().is_some(), "{doc:#}");
    // Nothing of it ran: pending, no column.
    assert_eq!(db.states(), [(1, "applied".to_string())]);
    assert_eq!(
        db.scalar(
            "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME = 't' AND COLUMN_NAME = 'c'"
        ),
        0
    );
    commit(&db, &mut holder);
    db.run(&["upgrade", "--ddl-lock-wait", "1"]).ok();
    assert_eq!(
        db.states(),
        [(1, "applied".to_string()), (2, "applied".to_string())]
    );
    assert_eq!(db.scalar("SELECT COUNT(c) FROM t"), 0);
    assert_eq!(db.count("t"), 4);
}

/// MariaDB: statements committed before the blocked DDL stay; the migration is recorded as
/// failed after them and `upgrade --resume` goes on at the DDL once the blocker commits.
#[test]
fn a_blocked_ddl_after_committed_statements_is_resumed() {
    let env = crate::support::Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    base(&db);
    db.migration(
        "0002_c.sql",
        "UPDATE t SET b = 0 WHERE b IS NULL;\nALTER TABLE t ADD COLUMN c INT NULL;\n",
    );
    let (mut holder, id) = blocker(&db);
    let run = db.run(&["upgrade", "--ddl-lock-wait", "1", "--format", "json"]);
    run.code(6)
        .stderr_has(&format!("connection {id} ("))
        .stderr_has("upgrade --resume");
    let doc = run.json();
    assert_eq!(doc["error"]["kind"], "metadata-lock", "{doc:#}");
    assert_eq!(doc["error"]["line"], 2, "{doc:#}");
    assert_eq!(doc["error"]["rolled_back"], false, "{doc:#}");
    assert_eq!(doc["error"]["committed"][0]["statement"], 1, "{doc:#}");
    assert_eq!(
        db.states(),
        [(1, "applied".to_string()), (2, "failed".to_string())]
    );
    assert_eq!(db.history()[1].statements_done, 1);
    commit(&db, &mut holder);
    db.run(&["upgrade", "--resume", "--ddl-lock-wait", "1"])
        .ok();
    assert_eq!(
        db.states(),
        [(1, "applied".to_string()), (2, "applied".to_string())]
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM t WHERE b = 0"), 1);
}

/// MariaDB: before the first DDL, a transaction older than `--ddl-lock-wait` that may hold
/// the table is named as a warning (without `metadata_locks`, every old transaction, and the
/// warning says so); the DDL then gets its lock on a later try once the blocker commits, in
/// the same run.
#[test]
fn an_old_transaction_is_named_before_the_first_ddl() {
    let env = crate::support::Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    base(&db);
    db.migration("0002_c.sql", "ALTER TABLE t ADD COLUMN c INT NULL;\n");
    let (mut holder, id) = blocker(&db);
    std::thread::sleep(Duration::from_secs(2));
    let mut spawned = db.cmd(&["upgrade", "--ddl-lock-wait", "1"]).spawn();
    // Once its ALTER waits (after the warning), the blocker commits.
    let deadline = Instant::now() + Duration::from_secs(30);
    while db.scalar(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() \
         AND STATE LIKE 'Waiting for table metadata lock%'",
    ) == 0
    {
        assert!(
            !spawned.has_exited(),
            "the run ended before its ALTER waited"
        );
        assert!(Instant::now() < deadline, "the run's ALTER never waited");
        std::thread::sleep(Duration::from_millis(50));
    }
    commit(&db, &mut holder);
    let run = spawned.wait();
    run.ok()
        .stderr_has("with a transaction open for 1s or more")
        .stderr_has(&format!("connection {id} ("))
        .stderr_has("transaction open for");
    assert_eq!(
        db.states(),
        [(1, "applied".to_string()), (2, "applied".to_string())]
    );
    // Its transaction ended: not named again. (InnoDB refreshes information_schema.INNODB_TRX
    // only once nobody has read it for 0.1 s: the run above just did.)
    std::thread::sleep(Duration::from_secs(1));
    db.migration("0003_d.sql", "ALTER TABLE t ADD COLUMN d INT NULL;\n");
    db.run(&["upgrade", "--ddl-lock-wait", "1"])
        .ok()
        .nowhere(&format!("connection {id} ("));
}

/// A private MariaDB with `performance_schema.metadata_locks` on: the blocker is told from
/// the locks themselves (the session holding `t`, with its lock; not one whose old
/// transaction holds only another table), its current statement is hidden when it may hold a
/// password, and the account's password never shows.
#[test]
fn metadata_locks_name_exactly_the_holder_and_never_a_password() {
    let env = crate::support::Env::new();
    let Some(server) = crate::support::own_mysql_server_with(&[
        "--performance-schema=ON".to_string(),
        "--performance-schema-instrument=wait/lock/metadata/sql/mdl=ON".to_string(),
    ]) else {
        return;
    };
    server.admin_exec(
        "CREATE DATABASE aur; CREATE USER 'mdl'@'%' IDENTIFIED BY 'mdlsecret'; \
         GRANT ALL ON aur.* TO 'mdl'@'%'; GRANT PROCESS ON *.* TO 'mdl'@'%'; \
         GRANT SELECT ON performance_schema.* TO 'mdl'@'%'",
    );
    let url = format!("mysql://mdl:mdlsecret@127.0.0.1:{}/aur", server.port());
    let run = |args: &[&str]| env.cmd(args).env("AURWEB_MIGRATE_DATABASE_URL", &url).run();
    env.migration(
        "0001_t.sql",
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a VARCHAR(20) NULL);\n\
         CREATE TABLE u (id INT NOT NULL PRIMARY KEY);\n\
         INSERT INTO t VALUES (1, 'x'), (2, 'x'), (3, NULL);\nINSERT INTO u VALUES (1);\n",
    );
    run(&["upgrade"]).ok();
    env.migration("0002_c.sql", "ALTER TABLE t ADD COLUMN c INT NULL;\n");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let open = |table: &str| {
        rt.block_on(async {
            let mut c = MySqlConnection::connect(&url).await.expect("connect");
            sqlx::raw_sql(&format!("START TRANSACTION; SELECT COUNT(*) FROM {table}"))
                .execute(&mut c)
                .await
                .expect("read");
            let id: i64 = sqlx::query_scalar("SELECT CAST(CONNECTION_ID() AS SIGNED)")
                .fetch_one(&mut c)
                .await
                .expect("id");
            (c, id)
        })
    };
    let (mut on_t, t_id) = open("t");
    let (mut on_u, u_id) = open("u");
    std::thread::sleep(Duration::from_secs(2));
    let spawned = env
        .cmd(["upgrade", "--ddl-lock-wait", "1", "--format", "json"])
        .env("AURWEB_MIGRATE_DATABASE_URL", &url)
        .spawn();
    // While the run waits, the holder of t runs a statement that may hold a password (until
    // the run has ended: then it is cancelled).
    let sleeper = std::thread::spawn(move || {
        let _ = rt.block_on(
            sqlx::raw_sql("SELECT SLEEP(120), 'IDENTIFIED BY mdlsecret2'").execute(&mut on_t),
        );
        (rt, on_t)
    });
    let blocked = spawned.wait();
    server.admin_exec(&format!("KILL QUERY {t_id}"));
    let (rt, mut on_t) = sleeper.join().expect("sleeper");
    blocked
        .code(6)
        .stderr_has(&format!("connection {t_id} ("))
        .stderr_has("hold a metadata lock on t;")
        .stderr_has("SHARED_READ on t")
        .stderr_has("(hidden: it may hold a password)")
        .nowhere(&format!("connection {u_id} ("))
        .nowhere("mdlsecret");
    let doc = blocked.json();
    let blockers = doc["blockers"].as_array().expect("blockers");
    assert_eq!(blockers.len(), 1, "{doc:#}");
    assert_eq!(blockers[0]["id"], t_id, "{doc:#}");
    assert_eq!(blockers[0]["user"], "mdl", "{doc:#}");
    assert!(
        blockers[0]["lock"]
            .as_str()
            .is_some_and(|l| l.contains("on t")),
        "{doc:#}"
    );
    rt.block_on(async {
        sqlx::raw_sql("COMMIT")
            .execute(&mut on_t)
            .await
            .expect("commit t");
        sqlx::raw_sql("COMMIT")
            .execute(&mut on_u)
            .await
            .expect("commit u");
    });
    run(&["upgrade", "--ddl-lock-wait", "1"]).ok();
}

/// SQLite has no metadata locks: `--ddl-lock-wait` is ignored there, with a warning (its one
/// wait, for the write lock, is the busy timeout, `--lock-timeout`); `status -v` shows it.
#[test]
fn sqlite_ignores_the_ddl_lock_wait_saying_so() {
    let env = crate::support::Env::new();
    let db = Db::sqlite(&env);
    db.migration(
        "0001_t.sql",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);\nINSERT INTO t VALUES (1, NULL), (2, 'x');\nALTER TABLE t ADD COLUMN c INTEGER;\n",
    );
    db.run(&["upgrade", "--ddl-lock-wait", "2"])
        .ok()
        .stderr_has("--ddl-lock-wait applies to MySQL/MariaDB only")
        .stderr_has("busy timeout");
    assert_eq!(db.states(), [(1, "applied".to_string())]);
    db.run(&["upgrade"]).ok().nowhere("--ddl-lock-wait applies");
    db.run(&["status", "-v", "--ddl-lock-wait", "0"])
        .ok()
        .stdout_has("ddl lock wait   off  (from command line)");
}

/// MariaDB, an account without the PROCESS privilege: it sees neither other accounts'
/// sessions nor any open transaction, so the blocked DDL still gives up in time, saying that
/// the sessions are hidden from it, and the password never shows.
#[test]
fn an_account_that_cannot_see_the_blockers_is_told_so() {
    let env = crate::support::Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    base(&db);
    let name = db.mysql_database().to_string();
    let user = format!("np{}", &name[name.len().saturating_sub(20)..]);
    db.exec(&format!(
        "CREATE USER '{user}'@'%' IDENTIFIED BY 'npsecret'; GRANT ALL ON `{name}`.* TO '{user}'@'%'"
    ));
    let parts = db.mysql_parts();
    let url = format!(
        "mysql://{user}:npsecret@{}:{}/{name}",
        parts.host, parts.port
    );
    db.migration("0002_c.sql", "ALTER TABLE t ADD COLUMN c INT NULL;\n");
    let (mut holder, id) = blocker(&db);
    let run = env
        .cmd(["upgrade", "--ddl-lock-wait", "1", "--format", "json"])
        .env("AURWEB_MIGRATE_DATABASE_URL", &url)
        .run();
    commit(&db, &mut holder);
    db.exec(&format!("DROP USER '{user}'@'%'"));
    run.code(6)
        .stderr_has("none that this account can see")
        .stderr_has("PROCESS privilege")
        .nowhere(&format!("connection {id} ("))
        .nowhere("npsecret");
    assert_eq!(run.json()["blockers"], serde_json::json!([]));
    assert_eq!(db.states(), [(1, "applied".to_string())]);
}
