//! `contrib/ci/check.sh`, the CI job's script, run by `sh` with the binary under test, against
//! aurweb's real migrations and schema on each dialect: clean → 0; a pending migration, a
//! column added by hand, or a schema/ that no longer matches the migrations → 1, naming it, with
//! a one-line reason last.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::aurweb::aurweb_head;
use crate::each_db;
use crate::support::{Db, Env, BIN};

each_db!(clean_database_passes, pending_migration_fails, drift_fails);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The script's result.
struct Out {
    code: Option<i32>,
    output: String,
}

impl Out {
    #[track_caller]
    fn expect(&self, code: i32, needles: &[&str]) {
        let ok = self.code == Some(code) && needles.iter().all(|n| self.output.contains(n));
        assert!(
            ok,
            "expected exit {code} and output with {needles:?}\n--- exit: {:?}\n--- output:\n{}",
            self.code, self.output
        );
    }

    /// The last line: the one-line reason.
    fn last_line(&self) -> &str {
        self.output.lines().last().unwrap_or_default()
    }
}

/// Runs `sh contrib/ci/check.sh ARGS` in the env with the database in the environment, as a
/// CI job would. Output is stdout and stderr in one, as a CI log shows it.
fn check_sh(db: &Db, env_vars: &[(&str, &str)], args: &[&str]) -> Out {
    let mut cmd = Command::new("sh");
    // One stream for stdout and stderr keeps their order.
    cmd.arg("-c")
        .arg(r#"exec sh "$@" 2>&1"#)
        .arg("sh")
        .arg(repo().join("contrib/ci/check.sh"))
        .args(args)
        .current_dir(db.env.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AURWEB_MIGRATE", BIN)
        .env("AURWEB_MIGRATE_DATABASE_URL", db.url())
        .stdin(Stdio::null());
    for (k, v) in env_vars {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run sh");
    Out {
        code: out.status.code(),
        output: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

fn migrations_arg() -> String {
    repo().join("migrations").display().to_string()
}

/// After `upgrade`, the database is at the head: exit 0, after `verify` (SQLite always; on
/// MySQL its scratch databases go on the test's server; the harness drops them).
fn clean_database_passes(db: &Db) {
    let m = migrations_arg();
    db.run(&["-m", &m, "upgrade", "-q"]).ok();
    let mut vars = Vec::new();
    if db.is_sqlite() {
        // No server to check schema/mysql.sql on: verify cannot pass by skipping it…
        let out = check_sh(db, &[], &["-m", &m]);
        out.expect(
            2,
            &[
                "the MySQL/MariaDB half was not checked",
                "check.sh: ERROR: aurweb-migrate verify could not run (exit 2",
            ],
        );
        // …unless the job restricts it on purpose.
        vars.push(("AURWEB_MIGRATE_VERIFY_DIALECT", "sqlite"));
    }
    let out = check_sh(db, &vars, &["-m", &m]);
    out.expect(
        0,
        &["== aurweb-migrate verify", "ok    sqlite:", "check.sh: OK"],
    );
    if db.is_mysql() {
        out.expect(0, &["ok    mysql:"]);
    }
    assert!(
        out.last_line().starts_with("check.sh: OK"),
        "{}",
        out.output
    );
}

/// One migration not applied: non-zero, the pending version named, the reason on the last line.
fn pending_migration_fails(db: &Db) {
    let m = migrations_arg();
    db.run(&["-m", &m, "upgrade", "--to", "17", "-q"]).ok();
    let out = check_sh(db, &[("AURWEB_MIGRATE_SKIP_VERIFY", "1")], &["-m", &m]);
    out.expect(1, &["pending: 18 vote columns as declared"]);
    assert!(
        !out.output.contains("aurweb-migrate verify"),
        "{}",
        out.output
    );
    assert_eq!(
        out.last_line(),
        "check.sh: FAILED: 1 pending migration(s): run aurweb-migrate upgrade"
    );
}

/// A column added by hand: non-zero, the column named.
fn drift_fails(db: &Db) {
    let m = migrations_arg();
    db.run(&["-m", &m, "upgrade", "-q"]).ok();
    db.exec("ALTER TABLE Users ADD COLUMN extra_col INTEGER");
    let out = check_sh(db, &[], &["--skip-verify", "-m", &m]);
    out.expect(1, &["Users: column extra_col: not expected"]);
    assert!(
        out.last_line()
            .starts_with("check.sh: FAILED: 1 difference(s) between the live schema"),
        "{}",
        out.output
    );
}

/// A migration that schema/ does not know about: `verify` fails the script before the database
/// is looked at.
#[test]
fn verify_failure_fails() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    for dir in ["migrations", "schema"] {
        for entry in std::fs::read_dir(repo().join(dir)).expect("read repo dir") {
            let path = entry.expect("dir entry").path();
            let name = path.file_name().expect("name").to_str().expect("utf-8");
            env.write(format!("{dir}/{name}"), std::fs::read(&path).expect("read"));
        }
    }
    env.migration(
        &format!("{:04}_extra_table.sql", aurweb_head() + 1),
        "CREATE TABLE extra_t (id INTEGER PRIMARY KEY);\n",
    );
    let out = check_sh(&db, &[("AURWEB_MIGRATE_VERIFY_DIALECT", "sqlite")], &[]);
    out.expect(
        1,
        &[
            "FAIL  sqlite:",
            "extra_t",
            "check.sh: FAILED: schema/ does not match",
        ],
    );
    assert!(!out.output.contains("check --drift"), "{}", out.output);
}

/// No binary: a clear error, exit 2.
#[test]
fn missing_binary_is_an_error() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    let out = check_sh(
        &db,
        &[("AURWEB_MIGRATE", "/nonexistent/aurweb-migrate")],
        &[],
    );
    out.expect(
        2,
        &["check.sh: ERROR: cannot run aurweb-migrate (/nonexistent/aurweb-migrate)"],
    );
}

/// The GitLab CI snippet is valid YAML with the jobs it documents (parsed with PyYAML, which
/// the Ansible virtualenv brings; skipped loudly when no Python with PyYAML is found).
#[test]
fn gitlab_snippet_is_yaml() {
    let python = std::env::var_os("AURWEB_MIGRATE_ANSIBLE_PLAYBOOK")
        .map(|p| Path::new(&p).with_file_name("python3"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| "python3".into());
    let script = "import json, sys, yaml\n\
                  print(json.dumps(yaml.safe_load(open(sys.argv[1]))))";
    let out = Command::new(&python)
        .args(["-c", script])
        .arg(repo().join("contrib/ci/gitlab-ci.yml"))
        .output();
    let out = match out {
        Ok(o)
            if !o.status.success()
                && String::from_utf8_lossy(&o.stderr).contains("No module named 'yaml'") =>
        {
            skip_or_fail("no PyYAML");
            return;
        }
        Ok(o) => o,
        Err(e) => {
            skip_or_fail(&format!("{}: {e}", python.display()));
            return;
        }
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let job = &doc["aurweb-migrate:check"];
    assert_eq!(job["extends"], ".aurweb-migrate", "{doc:#}");
    assert_eq!(job["services"][0]["name"], "mariadb:11", "{doc:#}");
    let script = job["script"].as_array().expect("script");
    assert!(
        script.iter().any(|s| s
            .as_str()
            .is_some_and(|s| s.contains("aurweb-migrate-check"))),
        "{doc:#}"
    );
    let install = doc[".aurweb-migrate"]["before_script"][0]
        .as_str()
        .expect("before_script");
    assert!(install.contains("contrib/ci/check.sh"), "{install}");
    assert!(doc["aurweb-migrate:staging"]["rules"].is_array(), "{doc:#}");
    // The models job (aurweb's `alembic check`): `verify` in aurweb's Python environment.
    let models = &doc["aurweb-migrate:models"];
    assert_eq!(models["extends"], ".aurweb-migrate", "{doc:#}");
    assert_eq!(models["services"][0]["name"], "mariadb:11", "{doc:#}");
    let script = models["script"].as_array().expect("script");
    assert!(
        script
            .last()
            .and_then(|s| s.as_str())
            .is_some_and(|s| s.contains("poetry run aurweb-migrate verify")),
        "{doc:#}"
    );
}

/// Without PyYAML the snippet is not parsed: a loud line, or a failure where the Ansible
/// virtualenv (which brings PyYAML) is required.
#[track_caller]
fn skip_or_fail(why: &str) {
    if std::env::var("AURWEB_MIGRATE_REQUIRE_ANSIBLE").as_deref() == Ok("1") {
        panic!("gitlab-ci.yml not parsed ({why}), and AURWEB_MIGRATE_REQUIRE_ANSIBLE=1 makes that a failure");
    }
    crate::support::loud(&format!("SKIPPED: gitlab-ci.yml not parsed: {why}"));
}
