//! The 3-node Galera cluster of the cluster tests ([`galera_cluster`]), started once per test
//! process from private `mariadbd`s with the `galera-4` provider, and a fourth node a test
//! may add ([`GaleraCluster::join_another`]).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::loud;
use super::mariadbd::{find_program, start_private_server_with};
use super::server::{require_mysql, MysqlServer, MYSQL_START_DEADLINE};

/// A 3-node Galera cluster on loopback, for the cluster tests: three `mariadbd` with the
/// `galera-4` provider, each with its own client, group communication, IST and SST port on
/// 127.0.0.1; node 0 bootstraps, 1 and 2 join by rsync SST. Started once per test process and
/// stopped with it (each node is under the private servers' watchdog). Cluster tests take
/// [`GaleraCluster::exclusive`] so that one that changes a node's state runs alone.
pub struct GaleraCluster {
    pub nodes: Vec<MysqlServer>,
    lock: std::sync::Mutex<()>,
    /// What another node needs to join: the provider and a member's group address.
    provider: PathBuf,
    member: String,
}

impl GaleraCluster {
    /// Starts a fourth node that joins the cluster (by rsync SST) and is Synced; a test's own,
    /// stopped when dropped (shut down by the test, the cluster goes back to three).
    #[track_caller]
    pub fn join_another(&self) -> MysqlServer {
        let mariadbd = find_program(&["mariadbd", "mysqld"]).expect("mariadbd");
        // A joiner that dies in its state transfer (a port taken between `free_port` and the
        // server's bind, seen once under load) is stopped and started again on new ports.
        let mut errors = Vec::new();
        for _attempt in 0..3 {
            match self.try_join(&mariadbd) {
                Ok(node) => return node,
                Err(e) => errors.push(e),
            }
        }
        panic!(
            "a fourth node did not join in 3 attempts:\n{}",
            errors.join("\n")
        );
    }

    fn try_join(&self, mariadbd: &Path) -> Result<MysqlServer, String> {
        let (gcomm, ist, sst) = (free_port()?, free_port()?, free_port()?);
        let extra = galera_args(
            &self.provider,
            &format!("gcomm://{}", self.member),
            3,
            gcomm,
            ist,
            sst,
        );
        let node = start_private_server_with(mariadbd, &extra)?;
        // On failure the node is dropped here, which stops it.
        wait_synced(&node, 3)?;
        Ok(node)
    }

    /// Serialises the cluster tests.
    pub fn exclusive(&self) -> std::sync::MutexGuard<'_, ()> {
        self.lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The cluster, or `None` (skipped loudly) where no `mariadbd` or Galera provider is
/// installed; under `AURWEB_MIGRATE_REQUIRE_MYSQL=1` a cluster that cannot start fails the test.
#[track_caller]
pub fn galera_cluster() -> Option<&'static GaleraCluster> {
    static CLUSTER: OnceLock<Result<Option<GaleraCluster>, String>> = OnceLock::new();
    match CLUSTER.get_or_init(start_galera_cluster) {
        Ok(Some(c)) => Some(c),
        Ok(None) if require_mysql() => {
            panic!("AURWEB_MIGRATE_REQUIRE_MYSQL=1 but no mariadbd and galera-4 provider for the cluster tests")
        }
        Ok(None) => None,
        Err(e) => panic!("the Galera test cluster did not start: {e}"),
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("find a free port: {e}"))
}

fn start_galera_cluster() -> Result<Option<GaleraCluster>, String> {
    let provider = [
        "/usr/lib/galera/libgalera_smm.so",
        "/usr/lib/libgalera_smm.so",
        "/usr/lib64/galera-4/libgalera_smm.so",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists());
    let (Some(mariadbd), Some(provider)) = (find_program(&["mariadbd", "mysqld"]), provider) else {
        loud("SKIPPED: Galera cluster tests: no mariadbd or galera-4 provider (libgalera_smm.so)");
        return Ok(None);
    };
    let started = Instant::now();
    let ports: Vec<(u16, u16, u16)> = (0..3)
        .map(|_| Ok((free_port()?, free_port()?, free_port()?)))
        .collect::<Result<_, String>>()?;
    let address = format!(
        "gcomm://{}",
        ports
            .iter()
            .map(|(g, _, _)| format!("127.0.0.1:{g}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut nodes = Vec::new();
    for (i, (gcomm, ist, sst)) in ports.iter().enumerate() {
        let mut extra = galera_args(&provider, &address, i, *gcomm, *ist, *sst);
        if i == 0 {
            extra.push("--wsrep-new-cluster".to_string());
        }
        let node = start_private_server_with(&mariadbd, &extra)?;
        wait_synced(&node, i)?;
        nodes.push(node);
    }
    loud(&format!(
        "Galera cluster tests on 3 loopback nodes (client ports {}), up in {:.1?}",
        nodes
            .iter()
            .map(|n| n.port().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        started.elapsed()
    ));
    Ok(Some(GaleraCluster {
        nodes,
        lock: std::sync::Mutex::new(()),
        member: format!("127.0.0.1:{}", ports[0].0),
        provider,
    }))
}

/// The server options of Galera node `i` (named `node{i}`) with its group communication, IST
/// and SST ports on 127.0.0.1.
fn galera_args(
    provider: &Path,
    address: &str,
    i: usize,
    gcomm: u16,
    ist: u16,
    sst: u16,
) -> Vec<String> {
    vec![
        "--wsrep-on=ON".to_string(),
        format!("--wsrep-provider={}", provider.display()),
        "--wsrep-cluster-name=aurweb-migrate-it".to_string(),
        format!("--wsrep-cluster-address={address}"),
        "--wsrep-node-address=127.0.0.1".to_string(),
        format!("--wsrep-node-name=node{i}"),
        format!(
            "--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:{gcomm};ist.recv_addr=127.0.0.1:{ist};gcache.size=32M"
        ),
        "--wsrep-sst-method=rsync".to_string(),
        format!("--wsrep-sst-receive-address=127.0.0.1:{sst}"),
        "--binlog-format=ROW".to_string(),
        "--innodb-autoinc-lock-mode=2".to_string(),
        "--default-storage-engine=InnoDB".to_string(),
    ]
}

/// Waits until `node` (the cluster's `i`th) is Synced in a cluster of at least `i + 1` nodes.
fn wait_synced(node: &MysqlServer, i: usize) -> Result<(), String> {
    let deadline = Instant::now() + MYSQL_START_DEADLINE;
    loop {
        let state = node.admin_strings(
            "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN ('WSREP_LOCAL_STATE_COMMENT', 'WSREP_CLUSTER_SIZE') ORDER BY VARIABLE_NAME",
        );
        let size: usize = state.first().and_then(|s| s.parse().ok()).unwrap_or(0);
        if size > i && state.get(1).is_some_and(|s| s == "Synced") {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "node{i} not Synced in a cluster of {} after {MYSQL_START_DEADLINE:?}: {state:?}",
                i + 1
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
