//! A private `mariadbd` started by the tests: a throw-away datadir, a free port on 127.0.0.1,
//! root without a password, and a watchdog that kills the server when the test process ends,
//! however it ends.

use std::io::{Read, Seek};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;

use super::server::{MysqlServer, MYSQL_START_DEADLINE};
use super::{loud, runtime};

/// The first of `names` found in `PATH`, `/usr/sbin` or `/usr/local/sbin` (server binaries
/// live in sbin, which a normal user's PATH often lacks).
pub(super) fn find_program(names: &[&str]) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"].map(PathBuf::from));
    names.iter().find_map(|name| {
        dirs.iter()
            .map(|d| d.join(name))
            .find(|p| p.is_file() && p.metadata().is_ok_and(|m| m.mode() & 0o111 != 0))
    })
}

/// The private server's lifetime is tied to this process by a pipe, not by a guard: statics
/// are never dropped, and a killed test process runs no code at all. `sh` runs the server in the
/// background and a watcher that reads the pipe whose write end only this process holds
/// ([`MysqlServer::_watchdog`]; std opens it close-on-exec, so no child of ours inherits it).
/// When this process ends, however it ends, the read sees EOF and the watcher SIGKILLs the
/// server (its data is throw-away), then `sh` removes the temporary directory. If the server
/// dies by itself, `sh` exits too, which is how startup failures are noticed.
const WATCHDOG_SCRIPT: &str = r#"
dir=$1; shift
exec 3<&0 </dev/null
"$@" &
server=$!
{ cat <&3 >/dev/null; kill -KILL "$server" 2>/dev/null; } &
watcher=$!
exec 3<&-
wait "$server"
kill "$watcher" 2>/dev/null
rm -rf "$dir"
"#;

/// Initialises a datadir with `mariadb-install-db` and starts `mariadbd` on it, on a free port
/// of 127.0.0.1, root without a password, under the watchdog above. Tried three times, each on
/// a new directory and port, in case another process takes the port between our probe and the
/// server's bind.
pub(super) fn start_private_server(mariadbd: &Path) -> Result<MysqlServer, String> {
    start_private_server_with(mariadbd, &[])
}

/// [`start_private_server`] with more server options (`--ssl-cert=…`).
pub(super) fn start_private_server_with(
    mariadbd: &Path,
    extra: &[String],
) -> Result<MysqlServer, String> {
    let install = find_program(&["mariadb-install-db", "mysql_install_db"]).ok_or_else(|| {
        format!(
            "found {} but no mariadb-install-db to initialise a datadir",
            mariadbd.display()
        )
    })?;
    // As root the server must be told to stay root (it refuses otherwise); as anyone else,
    // --user is an error for install-db.
    let as_root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let mut last_error = String::new();
    for _attempt in 0..3 {
        match try_start_private_server(mariadbd, &install, as_root, extra) {
            Ok(server) => return Ok(server),
            Err(e) => last_error = e,
        }
    }
    Err(last_error)
}

fn try_start_private_server(
    mariadbd: &Path,
    install: &Path,
    as_root: bool,
    extra: &[String],
) -> Result<MysqlServer, String> {
    let started = Instant::now();
    let dir = tempfile::Builder::new()
        .prefix("aurweb-migrate-it-mariadb.")
        .tempdir()
        .map_err(|e| format!("temp dir for the private server: {e}"))?
        .keep();
    let datadir = dir.join("data");
    let user: &[&str] = if as_root { &["--user=root"] } else { &[] };
    // Small redo log (the default is 96 MiB per datadir).
    let common = ["--innodb-log-file-size=16M".to_string()];

    let out = Command::new(install)
        .arg("--no-defaults")
        .arg(format!("--datadir={}", datadir.display()))
        .args([
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
        ])
        .args(user)
        .args(&common)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("run {}: {e}", install.display()))?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(format!(
            "{} failed ({}):\n{}{}",
            install.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }

    if extra.iter().any(|a| a == "--wsrep-on=ON") {
        // A Galera node receives its state by rsync, whose daemon (started by the server as
        // root) writes as `nobody`: the throw-away datadir must let it.
        let _ = Command::new("chmod")
            .args(["-R", "a+rwX"])
            .arg(&dir)
            .status();
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("find a free port: {e}"))?
        .port();
    // The server logs to stderr: an unlinked temporary file, read back if it fails to start.
    let mut log = tempfile::tempfile().map_err(|e| format!("log file: {e}"))?;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(WATCHDOG_SCRIPT)
        .arg("sh")
        .arg(&dir)
        .arg(mariadbd)
        .arg("--no-defaults")
        .arg(format!("--datadir={}", datadir.display()))
        .arg(format!("--socket={}", dir.join("mysqld.sock").display()))
        .arg(format!("--pid-file={}", dir.join("mysqld.pid").display()))
        .arg(format!("--port={port}"))
        .args([
            "--bind-address=127.0.0.1",
            "--skip-name-resolve",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
            "--max-connections=1000",
            // Throw-away data: no need to sync.
            "--innodb-flush-log-at-trx-commit=0",
            "--innodb-doublewrite=0",
        ])
        .args(user)
        .args(&common)
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(log.try_clone().map_err(|e| format!("log file: {e}"))?)
        .spawn()
        .map_err(|e| format!("spawn sh for {}: {e}", mariadbd.display()))?;
    let watchdog = child.stdin.take();

    let server = MysqlServer {
        base: format!("mysql://root@127.0.0.1:{port}"),
        redacted_base: format!("mysql://root@127.0.0.1:{port}"),
        query: String::new(),
        origin: format!(
            "private {} on 127.0.0.1:{port} (datadir {})",
            mariadbd.display(),
            datadir.display()
        ),
        _watchdog: watchdog,
    };
    let rt = runtime();
    let version = loop {
        if let Ok(Some(status)) = child.try_wait() {
            let mut text = String::new();
            let _ = log.rewind();
            let _ = log.read_to_string(&mut text);
            return Err(format!(
                "{} exited ({status}) before accepting connections:\n{text}",
                server.origin
            ));
        }
        let probe = rt.block_on(async {
            let mut c = server.try_admin().await?;
            let v: String = sqlx::query_scalar("SELECT VERSION()")
                .fetch_one(&mut c)
                .await
                .map_err(|e| e.to_string())?;
            let _ = c.close().await;
            Ok::<String, String>(v)
        });
        match probe {
            Ok(version) => break version,
            Err(e) if started.elapsed() > MYSQL_START_DEADLINE => {
                // Dropping `server` closes the pipe: the watchdog stops the server.
                return Err(format!(
                    "{} not accepting connections after {MYSQL_START_DEADLINE:?}: {e}",
                    server.origin
                ));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    // The child's handle is not needed: sh is reaped by init once this process has gone.
    drop(child);
    loud(&format!(
        "MySQL/MariaDB tests on a {} {version}, up in {:.1?}",
        server.origin,
        started.elapsed()
    ));
    Ok(server)
}
