//! A Galera cluster (issue 15): three `mariadbd` nodes on loopback started by the harness
//! ([`galera_cluster`]), shared by these tests and stopped with the test process.

use crate::support::{galera_cluster, Env};

/// The tool on a cluster node: `status -v` and the status JSON say it is a cluster (its size,
/// the node's state, how DDL is replicated); an upgrade applied through one node is the
/// history every node reads.
#[test]
fn a_cluster_is_detected_and_shares_one_history() {
    let Some(cluster) = galera_cluster() else {
        return;
    };
    let _alone = cluster.exclusive();
    let env = Env::new();
    let db = format!("it_galera_detect_{}", std::process::id());
    cluster.nodes[0].admin_exec(&format!("CREATE DATABASE {db}"));
    env.migration("0001_one.sql", "CREATE TABLE one (id INT PRIMARY KEY);\n");
    env.migration("0002_two.sql", "INSERT INTO one VALUES (1);\n");
    let on = |node: usize, args: &[&str]| {
        env.cmd(args)
            .arg("--database-url")
            .arg(cluster.nodes[node].url(&db))
            .run()
    };
    on(0, &["upgrade"]).ok();
    for node in 0..3 {
        let doc = on(node, &["--format", "json", "status"]).ok().json();
        assert_eq!(doc["current"], 2, "node{node}: {doc:#}");
        assert_eq!(doc["cluster"]["size"], 3, "node{node}: {doc:#}");
        assert_eq!(doc["cluster"]["state"], "Synced", "node{node}: {doc:#}");
        assert_eq!(doc["cluster"]["osu_method"], "TOI", "node{node}: {doc:#}");
    }
    on(2, &["status", "-v"])
        .ok()
        .stdout_has("cluster: Galera, 3 nodes, this node Synced, DDL replicated by TOI");
    cluster.nodes[0].admin_exec(&format!("DROP DATABASE {db}"));
}

/// A node that is not Synced (here desynced by hand, as a donor is) is refused before anything
/// runs, exit 3, naming its state; once Synced again it works.
#[test]
fn a_node_that_is_not_synced_is_refused() {
    let Some(cluster) = galera_cluster() else {
        return;
    };
    let _alone = cluster.exclusive();
    let env = Env::new();
    let db = format!("it_galera_desync_{}", std::process::id());
    let node = &cluster.nodes[2];
    node.admin_exec(&format!("CREATE DATABASE {db}"));
    env.migration("0001_one.sql", "CREATE TABLE one (id INT PRIMARY KEY);\n");
    let run = |args: &[&str]| env.cmd(args).arg("--database-url").arg(node.url(&db)).run();
    node.admin_exec("SET GLOBAL wsrep_desync = ON");
    let refused = run(&["upgrade"]);
    node.admin_exec("SET GLOBAL wsrep_desync = OFF");
    refused
        .code(3)
        .stderr_has("this Galera node is Donor/Desynced (one of 3 nodes), not Synced");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while node.admin_strings("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'WSREP_LOCAL_STATE_COMMENT'") != ["Synced"] {
        assert!(std::time::Instant::now() < deadline, "node2 never Synced again");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    run(&["upgrade"]).ok();
    eventually(
        &cluster.nodes[0],
        &format!("SELECT COUNT(*) FROM {db}.aurweb_migrations"),
        &["1"],
        "replicated to node0",
    );
    node.admin_exec(&format!("DROP DATABASE {db}"));
}

/// `sql`'s first column on `node` after the node has applied every write set the cluster had
/// committed when it was asked (`wsrep_sync_wait`): a read of what another node wrote.
fn synced_strings(node: &crate::support::MysqlServer, sql: &str) -> Vec<String> {
    node.admin_strings(&format!("SET SESSION wsrep_sync_wait = 1; {sql}"))
}

/// Asserts that `sql` on `node` gives `expected` within 20 s: what another node committed is
/// applied on this one a moment later (Galera certifies at commit but applies asynchronously).
#[track_caller]
fn eventually(node: &crate::support::MysqlServer, sql: &str, expected: &[&str], what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let got = synced_strings(node, sql);
        if got == expected {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: {sql} gave {got:?}, not {expected:?}, after 20 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Runs `upgrade` on `node` with a short lease (the cluster tests' lease: 3 s).
fn upgrade_on(
    env: &Env,
    cluster: &crate::support::GaleraCluster,
    node: usize,
    db: &str,
) -> crate::support::Spawned {
    env.cmd(["upgrade", "--lock-timeout", "60"])
        .env("AURWEB_MIGRATE_LOCK_LEASE", "3")
        .arg("--database-url")
        .arg(cluster.nodes[node].url(db))
        .spawn()
}

/// Waits (at most 30 s) until `node` runs a statement starting with `sql`.
fn wait_running(node: &crate::support::MysqlServer, sql: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let query = format!(
        "SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.PROCESSLIST WHERE INFO LIKE '{sql}%'"
    );
    while node.admin_strings(&query) != ["1"] {
        assert!(std::time::Instant::now() < deadline, "{sql} never ran");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Every node of `cluster` has table `t` with one row and versions 1 and 2 applied once.
fn assert_two_applied_once(cluster: &crate::support::GaleraCluster, db: &str) {
    for (n, node) in cluster.nodes.iter().enumerate() {
        eventually(
            node,
            &format!("SELECT CAST(COUNT(*) AS CHAR) FROM {db}.t"),
            &["1"],
            &format!("node{n}"),
        );
        eventually(
            node,
            &format!("SELECT state FROM {db}.aurweb_migrations ORDER BY version"),
            &["applied", "applied"],
            &format!("node{n}"),
        );
    }
}

/// Six runners spread over the three nodes, on an empty database and then with five pending
/// migrations that insert rows: each migration runs exactly once, every runner exits 0, and
/// every node has the same history and rows. `GET_LOCK` alone (node-local) would let runners
/// on different nodes run the same migration.
#[test]
fn six_runners_over_three_nodes_apply_each_migration_once() {
    let Some(cluster) = galera_cluster() else {
        return;
    };
    let _alone = cluster.exclusive();
    let env = Env::new();
    let db = format!("it_galera_six_{}", std::process::id());
    cluster.nodes[0].admin_exec(&format!("CREATE DATABASE {db}"));
    env.migration(
        "0001_log.sql",
        "CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL);\n",
    );
    env.migration("0002_first.sql", "INSERT INTO log (v) VALUES (2);\n");
    for round in [2u64, 7] {
        if round == 7 {
            for v in 3..=7 {
                env.migration(
                    &format!("000{v}_more.sql"),
                    &format!(
                        "INSERT INTO log (v) VALUES ({v});\nINSERT INTO log (v) VALUES ({});\n",
                        v * 100
                    ),
                );
            }
        }
        let runners: Vec<_> = (0..6)
            .map(|i| upgrade_on(&env, cluster, i % 3, &db))
            .collect();
        for run in runners.into_iter().map(|r| r.wait()) {
            run.ok();
        }
        for (n, node) in cluster.nodes.iter().enumerate() {
            let versions = synced_strings(
                node,
                &format!(
                    "SELECT CAST(version AS CHAR) FROM {db}.aurweb_migrations ORDER BY version"
                ),
            );
            let want: Vec<String> = (1..=round).map(|v| v.to_string()).collect();
            assert_eq!(versions, want, "node{n}: every version once");
            let mut values = synced_strings(node, &format!("SELECT CAST(v AS CHAR) FROM {db}.log"));
            values.sort();
            let mut expected = vec!["2".to_string()];
            if round == 7 {
                for v in 3..=7 {
                    expected.push(v.to_string());
                    expected.push((v * 100).to_string());
                }
            }
            expected.sort();
            assert_eq!(values, expected, "node{n}: each insert ran once");
        }
    }
    cluster.nodes[0].admin_exec(&format!("DROP DATABASE {db}"));
}

/// The lock holder killed with SIGKILL mid-migration: a runner waiting on another node takes
/// the lease over once it has been silent for the lease (3 s here) and applies the migration,
/// which the killed one's rolled-back transaction left pending.
#[test]
fn a_killed_holder_is_taken_over_after_the_lease() {
    let Some(cluster) = galera_cluster() else {
        return;
    };
    let _alone = cluster.exclusive();
    let env = Env::new();
    let db = format!("it_galera_kill_{}", std::process::id());
    cluster.nodes[0].admin_exec(&format!("CREATE DATABASE {db}"));
    env.migration("0001_t.sql", "CREATE TABLE t (id INT PRIMARY KEY);\n");
    env.migration(
        "0002_slow.sql",
        "SELECT SLEEP(3);\nINSERT INTO t VALUES (1);\n",
    );
    let holder = upgrade_on(&env, cluster, 0, &db);
    // Wait until it holds the lease and runs the slow statement.
    wait_running(&cluster.nodes[0], "SELECT SLEEP(3)");
    let waiter = upgrade_on(&env, cluster, 1, &db);
    std::thread::sleep(std::time::Duration::from_millis(800));
    let killed_at = std::time::Instant::now();
    let killed = holder.kill();
    assert_eq!(killed.code, None);
    let run = waiter.wait();
    run.ok().stderr_has("held by");
    let took = killed_at.elapsed();
    // The lease (3 s) plus a poll, plus the migration itself (3 s), with room for a busy
    // machine.
    assert!(
        took < std::time::Duration::from_secs(3 + 2 + 3 + 4),
        "taken over {took:?} after the kill"
    );
    assert_two_applied_once(cluster, &db);
    cluster.nodes[0].admin_exec(&format!("DROP DATABASE {db}"));
}

/// The holder paused (SIGSTOP) past its lease: another runner takes the lease over; the paused
/// one, resumed, finds it lost before its next statement and stops without writing — the
/// statement after the pause never runs, nothing is applied twice.
#[test]
fn a_paused_holder_is_fenced_off() {
    let Some(cluster) = galera_cluster() else {
        return;
    };
    let _alone = cluster.exclusive();
    let env = Env::new();
    let db = format!("it_galera_pause_{}", std::process::id());
    cluster.nodes[0].admin_exec(&format!("CREATE DATABASE {db}"));
    env.migration("0001_t.sql", "CREATE TABLE t (id INT PRIMARY KEY);\n");
    env.migration(
        "0002_steps.sql",
        "-- aurweb-migrate: no-transaction\nINSERT INTO t VALUES (1);\nSELECT SLEEP(2);\nINSERT INTO t VALUES (2);\n",
    );
    let holder = upgrade_on(&env, cluster, 0, &db);
    wait_running(&cluster.nodes[0], "SELECT SLEEP(2)");
    let signal = |sig: &str| {
        let ok = std::process::Command::new("kill")
            .args([format!("-{sig}"), holder.pid().to_string()])
            .status()
            .expect("kill");
        assert!(ok.success());
    };
    signal("STOP");
    // Another runner takes over once the lease (3 s) has passed, and refuses the half-applied
    // migration as it would after any crash.
    let other = upgrade_on(&env, cluster, 1, &db).wait();
    other.code(5).stderr_has("failed");
    signal("CONT");
    let resumed = holder.wait();
    resumed
        .check(resumed.code != Some(0), "the paused holder does not finish")
        .stderr_has("taken over");
    for (n, node) in cluster.nodes.iter().enumerate() {
        assert_eq!(
            synced_strings(
                node,
                &format!("SELECT CAST(id AS CHAR) FROM {db}.t ORDER BY id")
            ),
            ["1"],
            "node{n}: the statement after the pause never ran"
        );
        assert_eq!(
            synced_strings(
                node,
                &format!(
                    "SELECT CONCAT(state, ' ', statements_done) FROM {db}.aurweb_migrations WHERE version = 2"
                )
            ),
            ["failed 1"],
            "node{n}: the paused holder wrote nothing after losing the lease"
        );
    }
    cluster.nodes[0].admin_exec(&format!("DROP DATABASE {db}"));
}

/// On a cluster node `check` and `upgrade --dry-run` warn about what Galera handles badly
/// (a MyISAM table, a table without a primary key, LOCK TABLES, GET_LOCK), naming file and
/// line; a migration whose one transaction is larger than `wsrep_max_ws_size` is refused up
/// front, nothing run.
#[test]
fn cluster_lints_and_the_write_set_limit() {
    let Some(cluster) = galera_cluster() else {
        return;
    };
    let _alone = cluster.exclusive();
    let env = Env::new();
    let db = format!("it_galera_lint_{}", std::process::id());
    let node = &cluster.nodes[1];
    node.admin_exec(&format!("CREATE DATABASE {db}"));
    let run = |args: &[&str]| env.cmd(args).arg("--database-url").arg(node.url(&db)).run();
    env.migration(
        "0001_lints.sql",
        "CREATE TABLE nopk (v INT);\nCREATE TABLE my (id INT PRIMARY KEY) ENGINE=MyISAM;\nLOCK TABLES nopk WRITE;\nUNLOCK TABLES;\nSELECT GET_LOCK('x', 0);\nCREATE TABLE fine (id INT PRIMARY KEY) ENGINE=InnoDB;\n",
    );
    let checked = run(&["check"]);
    checked
        .code(1)
        .stdout_has("0001_lints.sql:1: on a Galera cluster: a table without a primary key")
        .stdout_has("0001_lints.sql:2: on a Galera cluster: a MYISAM table is not replicated")
        .stdout_has("0001_lints.sql:3: on a Galera cluster: LOCK TABLES")
        .stdout_has("0001_lints.sql:5: on a Galera cluster: GET_LOCK is node-local");
    checked.check(
        !checked.stdout.contains("0001_lints.sql:6"),
        "an InnoDB table with a key is fine",
    );
    run(&["upgrade", "--dry-run"])
        .ok()
        .stderr_has("0001_lints.sql:2: on a Galera cluster");
    // The single server has no such warnings (tests elsewhere run these files without them).

    env.remove("migrations/0001_lints.sql");
    env.migration(
        "0001_big.sql",
        "CREATE TABLE big (id INT PRIMARY KEY, s TEXT);\n",
    );
    env.migration(
        "0002_fill.sql",
        &format!(
            "INSERT INTO big VALUES (1, '{0}');\nINSERT INTO big VALUES (2, '{0}');\n",
            "x".repeat(1500)
        ),
    );
    node.admin_exec("SET GLOBAL wsrep_max_ws_size = 2048");
    let refused = run(&["upgrade"]);
    node.admin_exec("SET GLOBAL wsrep_max_ws_size = 2147483647");
    refused
        .code(3)
        .stderr_has("0002_fill.sql: this migration runs as one transaction of at least")
        .stderr_has("wsrep_max_ws_size of 2048");
    let doc = run(&["--format", "json", "status"]).ok().json();
    assert_eq!(doc["pending"], 2, "nothing ran: {doc:#}");
    run(&["upgrade"]).ok();
    node.admin_exec(&format!("DROP DATABASE {db}"));
}

/// A node shut down mid-run: the runner on it exits with a clear error (exit 3), and a runner
/// on another node takes the lease over once it has been silent and finishes; every migration
/// is applied once.
#[test]
fn a_node_shut_down_mid_run() {
    let Some(cluster) = galera_cluster() else {
        return;
    };
    let _alone = cluster.exclusive();
    let extra = cluster.join_another();
    let env = Env::new();
    let db = format!("it_galera_down_{}", std::process::id());
    cluster.nodes[0].admin_exec(&format!("CREATE DATABASE {db}"));
    eventually(
        &extra,
        &format!("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{db}'"),
        &[db.as_str()],
        "the database on the fourth node",
    );
    env.migration("0001_t.sql", "CREATE TABLE t (id INT PRIMARY KEY);\n");
    env.migration(
        "0002_slow.sql",
        "SELECT SLEEP(4);\nINSERT INTO t VALUES (1);\n",
    );
    let on_extra = env
        .cmd(["upgrade", "--lock-timeout", "60"])
        .env("AURWEB_MIGRATE_LOCK_LEASE", "3")
        .arg("--database-url")
        .arg(extra.url(&db))
        .spawn();
    wait_running(&extra, "SELECT SLEEP(4)");
    let other = upgrade_on(&env, cluster, 0, &db);
    std::thread::sleep(std::time::Duration::from_millis(500));
    extra.admin_exec("SHUTDOWN");
    let stopped = on_extra.wait();
    stopped
        .code(3)
        .stderr_has("the connection was lost while migration 2 ran")
        .stderr_has("stays pending");
    other.wait().ok();
    assert_two_applied_once(cluster, &db);
    cluster.nodes[0].admin_exec(&format!("DROP DATABASE {db}"));
}
