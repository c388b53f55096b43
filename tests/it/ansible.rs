//! The Ansible role (`contrib/ansible/`), run by a real `ansible-playbook` on localhost against
//! a real MariaDB database: the example playbook `contrib/ansible/playbook.yml` with an
//! inventory and extra vars written per test.
//!
//! `ansible-playbook` comes from `AURWEB_MIGRATE_ANSIBLE_PLAYBOOK`, else `PATH`. Without one,
//! every test here prints a loud `SKIPPED` line and passes, unless
//! `AURWEB_MIGRATE_REQUIRE_ANSIBLE=1` (set by `.ci/run`, which installs ansible-core into a
//! virtualenv), which makes a missing `ansible-playbook` a failure.
//!
//! The tests read Ansible's own verdicts from its default output at `-v`: one line per host and
//! task (`changed: [host] => {…result as JSON…}`) and the `PLAY RECAP`. Every run is also
//! searched for the database password, which lives only in aurweb's INI config on disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::aurweb::aurweb_head;
use crate::support::{loud, Db, Env, BIN};

const PLAYBOOK_VAR: &str = "AURWEB_MIGRATE_ANSIBLE_PLAYBOOK";
const REQUIRE_VAR: &str = "AURWEB_MIGRATE_REQUIRE_ANSIBLE";
/// The role's task that runs `upgrade`.
const UPGRADE_TASK: &str = "aurweb_migrate : Apply pending database migrations";
const STATUS_TASK: &str = "aurweb_migrate : Look for pending database migrations (check mode)";
const CONFIG_TASK: &str =
    "aurweb_migrate : Apply pending config migrations to the site config file";
const RESCUE_TASK: &str = "aurweb_migrate : Report why the migrations failed";
const REFUSAL_TASK: &str = "aurweb_migrate : Report what upgrade would refuse on (check mode)";
/// No playbook run may take longer than this.
const PLAY_DEADLINE: Duration = Duration::from_secs(240);

macro_rules! mysql_db {
    ($env:expr) => {
        match Db::mysql(&$env, module_path!()) {
            Some(db) => db,
            None => return,
        }
    };
}

/// `ansible-playbook`, or `None` (skip) after one loud line; a failure when required.
fn ansible_playbook() -> Option<&'static Path> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        let found = match std::env::var_os(PLAYBOOK_VAR).filter(|v| !v.is_empty()) {
            Some(p) => Some(PathBuf::from(p)),
            None => std::env::var_os("PATH").and_then(|path| {
                std::env::split_paths(&path)
                    .map(|d| d.join("ansible-playbook"))
                    .find(|p| p.is_file())
            }),
        };
        if found.is_none() && std::env::var(REQUIRE_VAR).as_deref() != Ok("1") {
            loud(&format!(
                "SKIPPED: Ansible tests: no ansible-playbook (set {PLAYBOOK_VAR} or put it in PATH; .ci/run installs ansible-core)"
            ));
        }
        found
    });
    match found {
        Some(p) => Some(p),
        None if std::env::var(REQUIRE_VAR).as_deref() == Ok("1") => {
            panic!("no ansible-playbook ({PLAYBOOK_VAR} unset and none in PATH), and {REQUIRE_VAR}=1 makes that a failure")
        }
        None => None,
    }
}

macro_rules! ansible {
    () => {
        match ansible_playbook() {
            Some(p) => p,
            None => return,
        }
    };
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A MariaDB user with a password, allowed on the test's database only; dropped with the guard.
struct Account<'d, 'e> {
    db: &'d Db<'e>,
    user: String,
    password: String,
}

impl<'d, 'e> Account<'d, 'e> {
    fn new(db: &'d Db<'e>) -> Account<'d, 'e> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .subsec_nanos();
        let account = Account {
            db,
            user: format!("ans_{}", &db.mysql_database()[3..]),
            // Distinctive, so that finding it in any output is a leak, not a coincidence.
            password: format!("Pw{nanos:09}xQz7"),
        };
        assert!(account.user.len() <= 32, "{}", account.user);
        db.exec(&format!(
            "CREATE USER '{0}'@'%' IDENTIFIED BY '{1}'; GRANT ALL ON `{2}`.* TO '{0}'@'%'",
            account.user,
            account.password,
            db.mysql_database()
        ));
        account
    }

    /// aurweb's INI config naming the database, with the password: the only place it is.
    fn write_aur_config(&self, env: &Env) -> PathBuf {
        let p = self.db.mysql_parts();
        env.write(
            "etc/aurweb/config",
            format!(
                "[database]\nbackend = mysql\nname = {}\nhost = {}\nport = {}\nuser = {}\npassword = {}\n",
                self.db.mysql_database(),
                p.host,
                p.port,
                self.user,
                self.password
            ),
        )
    }
}

impl Drop for Account<'_, '_> {
    fn drop(&mut self) {
        self.db
            .exec(&format!("DROP USER IF EXISTS '{}'@'%'", self.user));
    }
}

/// Writes the inventory (`hosts`, each an alias of localhost) and runs the example playbook
/// with `vars` (YAML) as extra vars.
fn play(env: &Env, hosts: &[&str], vars: &str, args: &[&str]) -> Play {
    let exe = ansible_playbook().expect("the test checked for ansible-playbook");
    let mut inventory = String::new();
    for h in hosts {
        inventory.push_str(&format!(
            "{h} ansible_connection=local ansible_python_interpreter=\"{{{{ ansible_playbook_python }}}}\"\n"
        ));
    }
    let inventory = env.write("ansible/inventory", inventory);
    let vars_file = env.write(
        "ansible/vars.yml",
        format!("aurweb_migrate_hosts: all\n{vars}"),
    );
    let tmp = env.join("ansible/tmp");
    std::fs::create_dir_all(&tmp).expect("ansible tmp dir");
    let playbook = repo().join("contrib/ansible/playbook.yml");

    let mut cmd = Command::new(exe);
    cmd.current_dir(env.path())
        .arg("-v")
        .arg("-i")
        .arg(&inventory)
        .arg("-e")
        .arg(format!("@{}", vars_file.display()))
        .args(args)
        .arg(&playbook)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd.env("HOME", env.path())
        .env("LC_ALL", "C.UTF-8")
        .env("USER", "it-user")
        // Only this test's settings: no ansible.cfg from the machine or the user.
        .env(
            "ANSIBLE_CONFIG",
            env.write("ansible/ansible.cfg", "[defaults]\n"),
        )
        .env("ANSIBLE_LOCAL_TEMP", &tmp)
        .env("ANSIBLE_REMOTE_TEMP", &tmp)
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .env("ANSIBLE_CALLBACK_RESULT_FORMAT", "json");
    let started = Instant::now();
    let command = format!("{} -v {}", exe.display(), args.join(" "));
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", exe.display()));
    let out = {
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let read = |mut r: Box<dyn std::io::Read + Send>| {
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = r.read_to_string(&mut s);
                s
            })
        };
        let (o, e) = (read(Box::new(stdout)), read(Box::new(stderr)));
        let code = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status.code();
            }
            if started.elapsed() > PLAY_DEADLINE {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Play {
            command,
            code,
            stdout: o.join().expect("stdout reader"),
            stderr: e.join().expect("stderr reader"),
            elapsed: started.elapsed(),
        }
    };
    if out.code.is_none() {
        out.fail(&format!("ansible-playbook killed after {PLAY_DEADLINE:?}"));
    }
    out
}

/// One finished `ansible-playbook` run.
struct Play {
    command: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// One host's result line of a task: `changed: [h] => {…}`, `fatal: [h]: FAILED! => {…}`.
#[derive(Debug)]
struct TaskResult {
    status: String,
    host: String,
    result: Value,
}

impl Play {
    #[track_caller]
    fn fail(&self, why: &str) -> ! {
        panic!(
            "{why}\n--- command: {}\n--- exit: {:?}\n--- elapsed: {:?}\n--- stdout:\n{}\n--- stderr:\n{}\n---",
            self.command, self.code, self.elapsed, self.stdout, self.stderr
        )
    }

    #[track_caller]
    fn check(&self, cond: bool, why: &str) -> &Play {
        if !cond {
            self.fail(why);
        }
        self
    }

    #[track_caller]
    fn code(&self, expected: i32) -> &Play {
        self.check(
            self.code == Some(expected),
            &format!("expected ansible-playbook to exit {expected}"),
        )
    }

    /// The password appears nowhere: not in the logged command line, the results, or errors.
    #[track_caller]
    fn never_shows(&self, password: &str) -> &Play {
        self.check(
            !self.stdout.contains(password) && !self.stderr.contains(password),
            "the database password appears in ansible-playbook's output",
        )
    }

    /// Every host's result line under `TASK [task]`, in order.
    fn results(&self, task: &str) -> Vec<TaskResult> {
        let header = format!("TASK [{task}] ");
        let mut current = false;
        let mut out = Vec::new();
        for line in self.stdout.lines() {
            if line.starts_with("TASK [") || line.starts_with("PLAY RECAP") {
                current = line.starts_with(&header);
                continue;
            }
            if !current {
                continue;
            }
            let Some((status, rest)) = line.split_once(": [") else {
                continue;
            };
            if !["ok", "changed", "fatal", "skipping", "failed"].contains(&status) {
                continue;
            }
            let Some((host, rest)) = rest.split_once(']') else {
                continue;
            };
            let json = rest.split_once(" => ").map_or("null", |(_, j)| j);
            let result = serde_json::from_str(json)
                .unwrap_or_else(|e| self.fail(&format!("result of {task} on {host}: {e}")));
            out.push(TaskResult {
                status: status.to_string(),
                host: host.to_string(),
                result,
            });
        }
        out
    }

    /// The one result of `task` on `host`.
    #[track_caller]
    fn result(&self, task: &str, host: &str) -> TaskResult {
        let mut r: Vec<TaskResult> = self
            .results(task)
            .into_iter()
            .filter(|r| r.host == host)
            .collect();
        if r.len() != 1 {
            self.fail(&format!(
                "expected one result of {task:?} on {host}, found {}",
                r.len()
            ));
        }
        r.remove(0)
    }

    /// `PLAY RECAP`: host → counter → n.
    fn recap(&self) -> BTreeMap<String, BTreeMap<String, i64>> {
        let mut out = BTreeMap::new();
        let Some((_, recap)) = self.stdout.split_once("PLAY RECAP") else {
            return out;
        };
        for line in recap.lines().skip(1) {
            let Some((host, counters)) = line.split_once(" : ") else {
                continue;
            };
            let counters = counters
                .split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.parse().unwrap_or(-1)))
                .collect();
            out.insert(host.trim().to_string(), counters);
        }
        out
    }

    #[track_caller]
    fn recap_of(&self, host: &str, counter: &str) -> i64 {
        match self.recap().get(host).and_then(|c| c.get(counter)) {
            Some(n) => *n,
            None => self.fail(&format!("no {counter}= for {host} in the PLAY RECAP")),
        }
    }
}

/// The upgrade's JSON document, from the registered result's stdout.
#[track_caller]
fn upgrade_doc(play: &Play, r: &TaskResult) -> Value {
    let stdout = r.result["stdout"]
        .as_str()
        .unwrap_or_else(|| play.fail(&format!("no stdout in the result on {}", r.host)));
    let doc: Value = serde_json::from_str(stdout).unwrap_or_else(|e| {
        play.fail(&format!("the tool's stdout on {} is not JSON: {e}", r.host))
    });
    let kind = if doc["ok"] == false {
        "error"
    } else {
        "upgrade"
    };
    crate::json_schema::assert_valid(kind, &doc);
    doc
}

/// The repository's `migrations/` and `schema/` into the test's directory, and the host's
/// `bin/` to install the binary into.
fn copy_repo_migrations(env: &Env) {
    std::fs::create_dir_all(env.join("host/bin")).expect("mkdir");
    for dir in ["migrations", "schema"] {
        for entry in std::fs::read_dir(repo().join(dir)).expect("read repo dir") {
            let path = entry.expect("dir entry").path();
            let name = path.file_name().expect("name").to_str().expect("utf-8");
            env.write(format!("{dir}/{name}"), std::fs::read(&path).expect("read"));
        }
    }
}

/// Role variables for a host-local install of the binary under test.
fn role_vars(env: &Env, aur_config: &Path, migrations: &Path) -> String {
    format!(
        "aurweb_migrate_binary_src: {bin}\n\
         aurweb_migrate_binary: {dest}\n\
         aurweb_migrate_aur_config: {aur_config}\n\
         aurweb_migrate_migrations: {migrations}\n\
         aurweb_migrate_lock_timeout: 120\n",
        bin = BIN,
        dest = env.join("host/bin/aurweb-migrate").display(),
        aur_config = aur_config.display(),
        migrations = migrations.display(),
    )
}

/// aurweb's real migrations on an empty database: the first run installs the binary and builds
/// the database (changed), the second has nothing to do (ok, changed=0); with a new migration,
/// `--check` reports it pending (changed) and writes nothing. The password comes only from
/// aurweb's INI config.
#[test]
fn upgrade_reports_changed_then_ok() {
    ansible!();
    let env = Env::new();
    let db = mysql_db!(env);
    let account = Account::new(&db);
    let aur_config = account.write_aur_config(&env);
    copy_repo_migrations(&env);
    let vars = role_vars(&env, &aur_config, &env.join("migrations"));

    let first = play(&env, &["localhost"], &vars, &[]);
    first.code(0).never_shows(&account.password);
    let r = first.result(UPGRADE_TASK, "localhost");
    first.check(r.status == "changed", "the first run reports changed");
    assert_eq!(r.result["rc"], 0);
    // The command line is logged (so the password check above means something), and it names
    // the config file, not the database's credentials.
    let cmd: Vec<&str> = r.result["cmd"]
        .as_array()
        .unwrap_or_else(|| first.fail("no cmd in the result"))
        .iter()
        .map(|a| a.as_str().expect("argv string"))
        .collect();
    assert_eq!(
        cmd[..3],
        [
            env.join("host/bin/aurweb-migrate").to_str().unwrap(),
            "--aur-config",
            aur_config.to_str().unwrap()
        ],
        "{cmd:?}"
    );
    assert!(
        cmd.ends_with(&["upgrade", "--format", "json", "--lock-timeout", "120"]),
        "{cmd:?}"
    );
    let doc = upgrade_doc(&first, &r);
    assert_eq!(doc["changed"], true, "{doc:#}");
    assert_eq!(doc["current"], aurweb_head(), "{doc:#}");
    assert_eq!(db.history().len() as i64, aurweb_head());
    assert!(db.has_table("Users"));
    // The binary was installed, executable.
    let mode = std::fs::metadata(env.join("host/bin/aurweb-migrate"))
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
        .expect("installed binary");
    assert_eq!(mode, 0o755);

    let second = play(&env, &["localhost"], &vars, &[]);
    second.code(0).never_shows(&account.password);
    let r = second.result(UPGRADE_TASK, "localhost");
    second.check(r.status == "ok", "the second run reports ok");
    assert_eq!(upgrade_doc(&second, &r)["changed"], false);
    second.check(
        second.recap_of("localhost", "changed") == 0,
        "nothing changed on the second run",
    );
    second.check(second.recap_of("localhost", "failed") == 0, "no failure");

    // A new migration: --check asks the read-only status, reports it pending, writes nothing.
    env.migration(
        &format!("{:04}_extra_table.sql", aurweb_head() + 1),
        "CREATE TABLE extra_t (id INT PRIMARY KEY);\n",
    );
    let check = play(&env, &["localhost"], &vars, &["--check"]);
    check.code(0).never_shows(&account.password);
    let r = check.result(STATUS_TASK, "localhost");
    check.check(
        r.status == "changed",
        "check mode reports a pending migration as changed",
    );
    let status: Value = serde_json::from_str(r.result["stdout"].as_str().unwrap_or_default())
        .unwrap_or_else(|e| check.fail(&format!("status output: {e}")));
    crate::json_schema::assert_valid("status", &status);
    assert_eq!(status["pending"], 1, "{status:#}");
    check.check(
        check
            .results(UPGRADE_TASK)
            .iter()
            .all(|r| r.status == "skipping"),
        "check mode runs no upgrade",
    );
    assert!(!db.has_table("extra_t"), "check mode wrote to the database");
    assert_eq!(db.history().len() as i64, aurweb_head());
}

/// The per-host `config upgrade` task on aurweb's config written for an old release: the first
/// run migrates the file (changed; the database task runs too), the second reports ok and
/// leaves the file byte for byte; `--check` on an old file again reports changed from
/// `--dry-run` and writes nothing.
#[test]
fn config_upgrade_task_reports_changed_then_ok() {
    ansible!();
    let env = Env::new();
    let db = mysql_db!(env);
    let account = Account::new(&db);
    let aur_config = account.write_aur_config(&env);
    let database_section = String::from_utf8(std::fs::read(&aur_config).expect("read")).unwrap();
    let old = format!(
        "{database_section}\n[options]\nmax_sessions_per_user = 8\n\n[cache]\nexpiry_time = 90\n\n\
         [tuvotereminder]\nrange_start = 600\n"
    );
    std::fs::write(&aur_config, &old).expect("write");
    copy_repo_migrations(&env);
    let vars = role_vars(&env, &aur_config, &env.join("migrations"));

    let first = play(&env, &["localhost"], &vars, &[]);
    first.code(0).never_shows(&account.password);
    let r = first.result(CONFIG_TASK, "localhost");
    first.check(
        r.status == "changed",
        "the first run migrates the config file",
    );
    let doc: Value = serde_json::from_str(r.result["stdout"].as_str().unwrap_or_default())
        .unwrap_or_else(|e| first.fail(&format!("config upgrade output: {e}")));
    crate::json_schema::assert_valid("config", &doc);
    assert_eq!(doc["changed"], true);
    let migrated = String::from_utf8(std::fs::read(&aur_config).expect("read")).unwrap();
    assert!(
        migrated.contains("[votereminder]\nrange_start = 600\n"),
        "{migrated}"
    );
    assert!(migrated.contains("expiry_time_search = 90\nexpiry_time_statistics = 90\n"));
    assert!(!migrated.contains("max_sessions_per_user"));
    assert!(
        migrated.contains(&database_section),
        "[database] stays as written"
    );
    assert_eq!(first.result(UPGRADE_TASK, "localhost").status, "changed");

    let second = play(&env, &["localhost"], &vars, &[]);
    second.code(0).never_shows(&account.password);
    second.check(
        second.result(CONFIG_TASK, "localhost").status == "ok",
        "the second run has nothing to migrate in the file",
    );
    second.check(
        second.recap_of("localhost", "changed") == 0,
        "nothing changed",
    );
    assert_eq!(
        std::fs::read(&aur_config).expect("read"),
        migrated.as_bytes()
    );

    std::fs::write(&aur_config, &old).expect("write");
    let check = play(&env, &["localhost"], &vars, &["--check"]);
    check.code(0).never_shows(&account.password);
    let r = check.result(CONFIG_TASK, "localhost");
    check.check(
        r.status == "changed",
        "check mode reports the file's pending changes",
    );
    let doc: Value = serde_json::from_str(r.result["stdout"].as_str().unwrap_or_default())
        .unwrap_or_else(|e| check.fail(&format!("config upgrade --dry-run output: {e}")));
    assert_eq!(
        (doc["changed"].clone(), doc["would_change"].clone()),
        (false.into(), true.into())
    );
    assert!(doc["diff"]
        .as_str()
        .unwrap_or_default()
        .contains("+[votereminder]"));
    assert_eq!(
        std::fs::read(&aur_config).expect("read"),
        old.as_bytes(),
        "check mode wrote"
    );
}

/// Three hosts (aliases of localhost, `--forks 3`) run the role at once against one database:
/// each migration inserts a row into a log table and takes a moment, so the hosts really race.
/// Each migration runs once; one host reports changed, the other two waited and report ok.
#[test]
fn three_hosts_at_once_apply_each_migration_once() {
    ansible!();
    let env = Env::new();
    let db = mysql_db!(env);
    let account = Account::new(&db);
    let aur_config = account.write_aur_config(&env);
    env.migration(
        "0001_log.sql",
        "CREATE TABLE migration_log (version INT NOT NULL, at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6));\n\
         INSERT INTO migration_log (version) VALUES (1);\nSELECT SLEEP(1);\n",
    );
    for v in 2..=4 {
        env.migration(
            &format!("000{v}_step.sql"),
            &format!("INSERT INTO migration_log (version) VALUES ({v});\nSELECT SLEEP(1);\n"),
        );
    }
    let hosts = ["host1", "host2", "host3"];
    for h in hosts {
        std::fs::create_dir_all(env.join(format!("hosts/{h}"))).expect("mkdir");
    }
    // Every host gets its own copy of the binary, as real hosts would.
    let vars = format!(
        "aurweb_migrate_binary_src: {BIN}\n\
         aurweb_migrate_binary: \"{}/hosts/{{{{ inventory_hostname }}}}/aurweb-migrate\"\n\
         aurweb_migrate_aur_config: {}\n\
         aurweb_migrate_migrations: {}\n\
         aurweb_migrate_lock_timeout: 120\n",
        env.path().display(),
        aur_config.display(),
        env.join("migrations").display(),
    );
    let run = play(&env, &hosts, &vars, &["--forks", "3"]);
    run.code(0).never_shows(&account.password);

    let results: Vec<TaskResult> = hosts.iter().map(|h| run.result(UPGRADE_TASK, h)).collect();
    let changed: Vec<&str> = results
        .iter()
        .filter(|r| r.status == "changed")
        .map(|r| r.host.as_str())
        .collect();
    run.check(
        changed.len() == 1,
        &format!("exactly one host reports changed, not {changed:?}"),
    );
    for r in &results {
        run.check(
            r.status == "changed" || r.status == "ok",
            &format!("{} succeeded", r.host),
        );
        assert_eq!(r.result["rc"], 0, "{}", r.host);
        let doc = upgrade_doc(&run, r);
        assert_eq!(doc["current"], 4, "{}: {doc:#}", r.host);
        let applied = doc["applied"].as_array().expect("applied").len();
        assert_eq!(
            applied,
            if r.status == "changed" { 4 } else { 0 },
            "{}: {doc:#}",
            r.host
        );
        assert_eq!(run.recap_of(&r.host, "failed"), 0, "{}", r.host);
    }
    // They raced: all three commands were running at one moment (the others waited for the
    // lock while the first applied the migrations).
    let times = |key: &str| -> Vec<String> {
        results
            .iter()
            .map(|r| r.result[key].as_str().expect("start/end").to_string())
            .collect()
    };
    let (starts, ends) = (times("start"), times("end"));
    let latest_start = starts.iter().max().unwrap();
    let earliest_end = ends.iter().min().unwrap();
    run.check(
        latest_start < earliest_end,
        &format!("the three upgrades overlapped in time: starts {starts:?}, ends {ends:?}"),
    );

    let versions: Vec<i64> = db.history().iter().map(|r| r.version).collect();
    assert_eq!(versions, [1, 2, 3, 4], "each version once in the history");
    assert!(db.history().iter().all(|r| r.state == "applied"));
    assert_eq!(
        db.strings("SELECT CAST(version AS CHAR) FROM migration_log ORDER BY at, version"),
        ["1", "2", "3", "4"],
        "each migration ran exactly once"
    );
}

/// The role asks for aurweb's migrations built into the binary by default (`-m builtin`), so
/// it works where the command runs in a directory without `./migrations` and aurweb's config
/// is not what names the database (here a TOML config with `password_file`): the tool never
/// picks the built-in set unasked.
#[test]
fn the_role_asks_for_the_built_in_set_by_default() {
    ansible!();
    let env = Env::new();
    let db = mysql_db!(env);
    let account = Account::new(&db);
    let p = db.mysql_parts();
    env.write("etc/db-password", format!("{}\n", account.password));
    let toml = env.write(
        "etc/migrate.toml",
        format!(
            "database_url = \"mysql://{}@{}:{}/{}\"\npassword_file = \"db-password\"\n",
            account.user,
            p.host,
            p.port,
            db.mysql_database()
        ),
    );
    std::fs::create_dir_all(env.join("host/bin")).expect("mkdir");
    std::fs::create_dir_all(env.join("host/run")).expect("mkdir");
    let vars = format!(
        "aurweb_migrate_binary_src: {BIN}\n\
         aurweb_migrate_binary: {}\n\
         aurweb_migrate_config: {}\n\
         aurweb_migrate_aur_config: \"\"\n\
         aurweb_migrate_chdir: {}\n\
         aurweb_migrate_lock_timeout: 120\n",
        env.join("host/bin/aurweb-migrate").display(),
        toml.display(),
        env.join("host/run").display(),
    );
    let run = play(&env, &["localhost"], &vars, &[]);
    run.code(0).never_shows(&account.password);
    let r = run.result(UPGRADE_TASK, "localhost");
    run.check(r.status == "changed", "the run reports changed");
    let cmd: Vec<&str> = r.result["cmd"]
        .as_array()
        .unwrap_or_else(|| run.fail("no cmd in the result"))
        .iter()
        .map(|a| a.as_str().expect("argv string"))
        .collect();
    assert!(cmd.windows(2).any(|w| w == ["-m", "builtin"]), "{cmd:?}");
    let doc = upgrade_doc(&run, &r);
    assert_eq!(doc["current"], aurweb_head(), "{doc:#}");
    assert_eq!(db.history().len() as i64, aurweb_head());
    assert!(db.has_table("Users"));
}

/// A migration that fails: the task fails with the tool's exit code and message, the playbook
/// fails, and the password is not in the (very verbose) output.
#[test]
fn failed_migration_fails_the_play() {
    ansible!();
    let env = Env::new();
    let db = mysql_db!(env);
    let account = Account::new(&db);
    let aur_config = account.write_aur_config(&env);
    env.migration("0001_one.sql", "CREATE TABLE t1 (id INT);\n");
    env.migration(
        "0002_broken.sql",
        "INSERT INTO t1 VALUES (1);\nINSERT INTO no_such_table VALUES (1);\n",
    );
    std::fs::create_dir_all(env.join("host/bin")).expect("mkdir");
    // Extra arguments reach the command, as strings.
    let vars = role_vars(&env, &aur_config, &env.join("migrations"))
        + "aurweb_migrate_extra_args: [\"--statement-timeout\", 600]\n";
    let run = play(&env, &["localhost"], &vars, &[]);
    run.never_shows(&account.password);
    run.check(
        run.code.is_some_and(|c| c != 0),
        "ansible-playbook fails when a migration fails",
    );
    let r = run.result(UPGRADE_TASK, "localhost");
    run.check(r.status == "fatal", "the upgrade task failed");
    assert_eq!(r.result["rc"], 4, "exit 4: a migration failed");
    let cmd = r.result["cmd"].as_array().expect("cmd");
    assert_eq!(
        cmd[cmd.len() - 2..],
        ["--statement-timeout", "600"],
        "{cmd:?}"
    );
    // 0001 was applied before 0002 failed: that is a change, reported as such.
    assert_eq!(r.result["changed"], true, "{:#}", r.result);
    let rescue = run.result(RESCUE_TASK, "localhost");
    let msg = rescue.result["msg"].as_str().unwrap_or_default();
    for needle in [
        "exit code 4",
        "a migration failed",
        "0002_broken.sql:2",
        "no_such_table",
    ] {
        run.check(
            msg.contains(needle),
            &format!("the failure message names {needle:?}"),
        );
    }
    assert_eq!(run.recap_of("localhost", "failed"), 1);
    assert_eq!(run.recap_of("localhost", "rescued"), 1);
    assert_eq!(
        db.states(),
        [(1, "applied".to_string())],
        "0002 rolled back (DML only)"
    );
}

/// `--check` on a database that `upgrade` would refuse (tables, no history): the status task
/// fails instead of reporting the migrations as pending ("changed"), and the message names the
/// problem; nothing is written.
#[test]
fn check_mode_fails_where_upgrade_would_refuse() {
    ansible!();
    let env = Env::new();
    let db = mysql_db!(env);
    let account = Account::new(&db);
    let aur_config = account.write_aur_config(&env);
    env.migration("0001_one.sql", "CREATE TABLE t1 (id INT);\n");
    db.exec("CREATE TABLE legacy (id INT)");
    // Check mode asks the binary already installed on the host.
    std::fs::create_dir_all(env.join("host/bin")).expect("mkdir");
    std::fs::copy(BIN, env.join("host/bin/aurweb-migrate")).expect("install the binary");
    let vars = role_vars(&env, &aur_config, &env.join("migrations"));
    let run = play(&env, &["localhost"], &vars, &["--check"]);
    run.never_shows(&account.password);
    run.check(
        run.code.is_some_and(|c| c != 0),
        "the check-mode play fails",
    );
    let r = run.result(STATUS_TASK, "localhost");
    run.check(r.status == "fatal", "the status task failed");
    run.check(
        r.result["changed"] != true,
        "a run that would be refused is not reported as changed",
    );
    let refusal = run.result(REFUSAL_TASK, "localhost");
    let msg = refusal.result["msg"].as_str().unwrap_or_default();
    for needle in [
        "would refuse",
        "unmanaged",
        "legacy",
        "adopt --from alembic",
    ] {
        run.check(
            msg.contains(needle),
            &format!("the message names {needle:?}"),
        );
    }
    assert!(db.history().is_empty());
    assert!(!db.has_table("t1"), "check mode wrote to the database");
}
