//! The schema command (issue 30): the desired schema comes from the application's own code —
//! here a small SQLAlchemy application of ours, `tests/fixtures/sqlalchemy_app` — run in an
//! empty scratch database the tool makes and removes. A model edit gives a proven draft with
//! `new --autogenerate`; a model change without a migration fails `verify`; `schema render`
//! writes the files, which `verify` then keeps current; a failing, hanging or empty command
//! says so clearly and leaves no scratch database or file behind; the command's `AUR_CONFIG`
//! is private and removed, and the password is never in its arguments.
//!
//! Python with SQLAlchemy 2 and PyMySQL comes from `AURWEB_MIGRATE_TEST_PYTHON` (`.ci/run`
//! makes a virtualenv for it). Without it every test here prints a loud `SKIPPED` line and
//! passes, unless `AURWEB_MIGRATE_REQUIRE_SQLALCHEMY=1` (set by `.ci/run`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::each_db;
use crate::support::{loud, Db, Env};

const PYTHON_VAR: &str = "AURWEB_MIGRATE_TEST_PYTHON";
const REQUIRE_VAR: &str = "AURWEB_MIGRATE_REQUIRE_SQLALCHEMY";

/// Python with SQLAlchemy and PyMySQL, or `None` (skip) after one loud line; a failure when
/// required.
fn python() -> Option<&'static Path> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        let found = std::env::var_os(PYTHON_VAR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .filter(|p| {
                std::process::Command::new(p)
                    .args(["-c", "import sqlalchemy, pymysql"])
                    .status()
                    .is_ok_and(|s| s.success())
            });
        if found.is_none() && std::env::var(REQUIRE_VAR).as_deref() != Ok("1") {
            loud(&format!(
                "SKIPPED: schema command tests: no Python with SQLAlchemy and PyMySQL (set {PYTHON_VAR}; .ci/run makes a virtualenv for it)"
            ));
        }
        found
    });
    if found.is_none() && std::env::var(REQUIRE_VAR).as_deref() == Ok("1") {
        panic!("{REQUIRE_VAR}=1 but {PYTHON_VAR} names no Python with SQLAlchemy and PyMySQL");
    }
    found.as_deref()
}

/// The fixture application copied into the test's directory (so a test may edit its models),
/// and the command that builds it.
fn app(env: &Env, python: &Path) -> String {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sqlalchemy_app/sqla_app");
    for name in ["__init__.py", "models.py", "initdb.py"] {
        env.write(
            Path::new("sqla_app").join(name),
            std::fs::read(from.join(name)).expect("fixture"),
        );
    }
    std::fs::create_dir_all(env.join("migrations")).expect("migrations/");
    format!("{} -m sqla_app.initdb", python.display())
}

/// Adds a column to the `Users` model.
fn edit_model(env: &Env) {
    let path = env.join("sqla_app/models.py");
    let text = std::fs::read_to_string(&path).expect("models.py");
    assert!(text.contains("    # EXTRA COLUMNS"));
    std::fs::write(
        &path,
        text.replace(
            "    # EXTRA COLUMNS",
            "    Homepage = Column(String(100), nullable=True)",
        ),
    )
    .expect("write models.py");
}

fn text(env: &Env, rel: &str) -> String {
    String::from_utf8(env.read(rel)).expect("UTF-8")
}

/// The scratch databases (MySQL) or files (SQLite, in the tool's TMPDIR) left behind.
fn leftovers(db: &Db, tmp: &Path) -> Vec<String> {
    if db.is_mysql() {
        let like = format!("{}_migrate_%", db.mysql_database()).replace('_', "\\_");
        db.strings(&format!("SHOW DATABASES LIKE '{like}'"))
    } else {
        std::fs::read_dir(tmp)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

each_db!(
    a_model_edit_gives_a_proven_draft_and_verify_needs_it,
    failing_hanging_and_empty_commands_are_errors_that_leave_nothing,
    the_aur_config_is_private_and_removed_and_the_password_never_an_argument,
    a_signal_stops_the_command_and_removes_its_scratch,
    an_accepted_difference_needs_a_reason_and_a_closed_one_is_stale,
    the_command_runs_once_per_dialect_both_at_once,
    the_command_is_not_told_it_runs_under_pytest,
    models_that_differ_between_dialects_on_purpose_pass_verify_with_their_reasons,
    a_database_the_migrations_built_has_no_drift_in_an_accepted_difference,
    a_command_that_reads_the_database_from_aur_config_as_aurweb_does,
    a_draft_leaves_the_accepted_differences_alone,
    the_drafts_are_those_the_rendering_gave,
    a_failing_command_stops_the_replay_and_leaves_nothing,
    a_failing_replay_stops_the_command_and_leaves_nothing,
    a_signal_during_the_command_and_the_replay_removes_both,
);

fn a_model_edit_gives_a_proven_draft_and_verify_needs_it(db: &Db) {
    let Some(python) = python() else { return };
    let env = db.env;
    let command = app(env, python);
    let run = |args: &[&str]| {
        db.cmd(args)
            .env("AURWEB_MIGRATE_SCHEMA_COMMAND", &command)
            .run()
    };
    // The first migration, from the models.
    let first = run(&["new", "--autogenerate", "init"]);
    first.ok().stdout_has("create table Users");
    let suffix = if db.is_mysql() { ".mysql.sql" } else { ".sql" };
    // `schema render` writes the files for a fresh install, marked with the command.
    let render = run(&["schema", "render"]);
    render.ok();
    let files: &[&str] = if db.is_mysql() {
        &["schema/mysql.sql", "schema/sqlite.sql"]
    } else {
        &["schema/sqlite.sql"]
    };
    for f in files {
        let t = text(env, f);
        assert!(
            t.contains("-- Generated by `aurweb-migrate schema render` from the schema command:\n")
                && t.contains("sqla_app.initdb\n")
                && t.contains("'Developer'"),
            "{f}:\n{t}"
        );
    }
    run(&["verify"]).ok().stdout_has("-rendered:");
    // The models change, no migration: verify fails, naming the column and the stale file.
    edit_model(env);
    let stale = run(&["verify"]);
    stale
        .code(1)
        .stdout_has("column Homepage: missing")
        .stdout_has("is not the schema command's current rendering");
    // The draft from the models' change, proven on a replay; the rendered files follow.
    let draft = run(&["new", "--autogenerate", "add homepage"]);
    draft.ok().stdout_has("Users: add column Homepage");
    let written: Vec<String> = env
        .ls("migrations")
        .into_iter()
        .filter(|n| n.contains("_add_homepage") && n.ends_with(suffix))
        .collect();
    assert_eq!(written.len(), 1, "{:?}", env.ls("migrations"));
    let sql = text(env, &format!("migrations/{}", written[0]));
    assert!(
        sql.contains("ADD COLUMN") && sql.contains("Homepage"),
        "{sql}"
    );
    run(&["verify"]).ok();
    // A fresh install from the rendered file equals the models, seed rows included.
    let install = db.run(&["upgrade"]);
    install.ok();
    assert_eq!(db.count("AccountTypes"), 2);
    run(&["check", "--drift"]).ok();
}

fn failing_hanging_and_empty_commands_are_errors_that_leave_nothing(db: &Db) {
    let env = db.env;
    std::fs::create_dir_all(env.join("migrations")).expect("migrations/");
    let tmp = env.join("tmp");
    std::fs::create_dir_all(&tmp).expect("tmp/");
    let run = |command: &str, extra: &[&str]| {
        let mut args = vec!["verify", "--dialect", db.dialect()];
        args.extend_from_slice(extra);
        db.cmd(&args)
            .env("AURWEB_MIGRATE_SCHEMA_COMMAND", command)
            .env("TMPDIR", &tmp)
            .run()
    };
    let failed = run(
        "sh -c 'echo built-half; echo \"no such table\" >&2; exit 3'",
        &[],
    );
    failed
        .code(2)
        .stderr_has("failed (exit status 3)")
        .stderr_has("built-half")
        .stderr_has("no such table");
    assert_eq!(leftovers(db, &tmp), Vec::<String>::new());

    let started = Instant::now();
    let hung = run(
        "sh -c 'echo started; sleep 60 & sleep 60'",
        &["--schema-command-timeout", "1"],
    );
    hung.code(2)
        .stderr_has("did not finish within 1s")
        .stderr_has("started");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the time limit was not kept"
    );
    assert_eq!(leftovers(db, &tmp), Vec::<String>::new());

    let empty = run("true", &[]);
    empty.code(2).stderr_has("created no table");
    assert_eq!(leftovers(db, &tmp), Vec::<String>::new());
}

fn the_aur_config_is_private_and_removed_and_the_password_never_an_argument(db: &Db) {
    let Some(python) = python() else { return };
    let env = db.env;
    let command = app(env, python);
    // The user's aurweb config: its other sections reach the command.
    env.write(
        "aur/config",
        "[options]\naurwebdir = /srv/aurweb\n\n[database]\nbackend = sqlite\nname = /nonexistent\n",
    );
    let report = env.join("report.txt");
    let password = format!("Pw-{}-secret", std::process::id());
    let user = format!("it_sc_{}", std::process::id());
    let mut url = db.url().to_string();
    if db.is_mysql() {
        if !url.starts_with("mysql://root@") {
            loud("SKIPPED: the password part needs the test server's root without a password");
            return;
        }
        db.exec(&format!("DROP USER IF EXISTS '{user}'@'%'"));
        db.exec(&format!(
            "CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"
        ));
        db.exec(&format!("GRANT ALL PRIVILEGES ON *.* TO '{user}'@'%'"));
        url = url.replacen("mysql://root@", &format!("mysql://{user}:{password}@"), 1);
    }
    let run = env
        .cmd(["verify", "--dialect", db.dialect()])
        .env("AURWEB_MIGRATE_DATABASE_URL", &url)
        .env("AURWEB_MIGRATE_SCHEMA_COMMAND", &command)
        .env("AUR_CONFIG", env.join("aur/config"))
        .env("SQLA_APP_REPORT", &report)
        .run();
    if db.is_mysql() {
        db.exec(&format!("DROP USER IF EXISTS '{user}'@'%'"));
    }
    // No migrations: the verify itself fails, but the command ran.
    run.nowhere(&password);
    let got = text(env, "report.txt");
    let value = |key: &str| {
        got.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in\n{got}"))
            .to_string()
    };
    assert_eq!(value("mode="), "600", "{got}");
    assert!(
        !Path::new(&value("config=")).exists(),
        "the AUR_CONFIG file is left:\n{got}"
    );
    assert_eq!(value("dialect="), db.dialect());
    assert_eq!(value("[options] aurwebdir="), "/srv/aurweb", "{got}");
    assert!(!value("cmdline=").contains(&password), "{got}");
    assert!(!value("argv=").contains(&password), "{got}");
    if db.is_mysql() {
        assert_eq!(value("[database] backend="), "mysql");
        assert_eq!(value("[database] user="), user);
        assert_eq!(value("[database] password="), password);
        assert!(value("[database] name=").starts_with(&format!("{}_migrate_", db.mysql_database())));
    } else {
        assert_eq!(value("[database] backend="), "sqlite");
        assert!(
            value("[database] name=").ends_with("command.sqlite3"),
            "{got}"
        );
    }
}

fn a_signal_stops_the_command_and_removes_its_scratch(db: &Db) {
    let env = db.env;
    std::fs::create_dir_all(env.join("migrations")).expect("migrations/");
    let tmp = env.join("tmp");
    std::fs::create_dir_all(&tmp).expect("tmp/");
    // Every command that builds the desired schema from the command cleans up the same way.
    let commands: [&[&str]; 3] = [
        &["verify", "--dialect", db.dialect()],
        &["new", "--autogenerate", "interrupted"],
        &["schema", "render"],
    ];
    for args in commands {
        let mark = env.join("started");
        let _ = std::fs::remove_file(&mark);
        let mut child = db
            .cmd(args)
            .env(
                "AURWEB_MIGRATE_SCHEMA_COMMAND",
                "sh -c 'echo $$ > \"$MARK\"; exec sleep 60'",
            )
            .env("MARK", &mark)
            .env("TMPDIR", &tmp)
            .spawn();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !mark.exists() || text(env, "started").trim().is_empty() {
            assert!(!child.has_exited(), "{args:?} ended before the command ran");
            assert!(
                Instant::now() < deadline,
                "{args:?}: the command never started"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let command_pid = text(env, "started").trim().to_string();
        assert!(
            !leftovers(db, &tmp).is_empty(),
            "{args:?}: no scratch database to remove"
        );
        let sent = std::process::Command::new("kill")
            .args(["-TERM".to_string(), child.pid().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
        child
            .wait()
            .code(143)
            .stderr_has("interrupted by SIGTERM")
            .stderr_has("scratch database removed");
        assert_eq!(leftovers(db, &tmp), Vec::<String>::new(), "{args:?}");
        let alive = std::process::Command::new("kill")
            .args(["-0", &command_pid])
            .stderr(std::process::Stdio::null())
            .status()
            .expect("kill -0");
        assert!(!alive.success(), "{args:?}: the schema command still runs");
        // Nothing was written: no draft, no schema file.
        let written: Vec<_> = std::fs::read_dir(env.join("migrations"))
            .expect("migrations/")
            .collect();
        assert!(written.is_empty(), "{args:?} wrote a migration");
        assert!(!env.exists("schema"), "{args:?} wrote schema/");
    }
}

/// Issue 30 item 3: a difference between the models and the migrations fails `verify` until
/// `schema/accepted-differences.toml` lists it with a reason; once a migration closes it, the
/// entry is stale and fails `verify` at its line; an entry without a reason is an input error.
fn an_accepted_difference_needs_a_reason_and_a_closed_one_is_stale(db: &Db) {
    let Some(python) = python() else { return };
    let env = db.env;
    let command = app(env, python);
    let run = |args: &[&str]| {
        db.cmd(args)
            .env("AURWEB_MIGRATE_SCHEMA_COMMAND", &command)
            .run()
    };
    run(&["new", "--autogenerate", "init"]).ok();
    run(&["verify"]).ok().nowhere("accepted");
    // The models gain an index no migration creates.
    let path = env.join("sqla_app/models.py");
    let models = std::fs::read_to_string(&path).expect("models.py");
    std::fs::write(
        &path,
        models.replace(
            "    # EXTRA COLUMNS",
            "    __table_args__ = (Index(\"UsersEmail\", \"Email\"),)",
        ),
    )
    .expect("write models.py");
    run(&["verify"])
        .code(1)
        .stdout_has("Users: index UsersEmail: missing");
    // Listed with its reason: accepted, shown with the reason and the entry's line.
    let entry = format!(
        "# reviewed\n[[difference]]\ndialect = \"{}\"\ntable = \"Users\"\nobject = \"index UsersEmail\"\nreason = \"only fresh installs need it\"\n",
        db.dialect()
    );
    env.write("schema/accepted-differences.toml", &entry);
    let verify = &["verify", "--dialect", db.dialect()];
    run(verify)
        .ok()
        .stdout_has("Users: index UsersEmail: missing")
        .stdout_has("accepted: only fresh installs need it (schema/accepted-differences.toml:2)")
        .stdout_has("ok    accepted-differences:");
    let json = run(&["verify", "--dialect", db.dialect(), "--format", "json"]);
    json.ok();
    let v = json.json();
    let check = v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == db.dialect())
        .expect("the dialect's check");
    assert_eq!(
        check["differences"].as_array().map(Vec::len),
        Some(0),
        "{v}"
    );
    assert_eq!(check["accepted"][0]["object"], "index UsersEmail", "{v}");
    assert_eq!(
        check["accepted"][0]["reason"], "only fresh installs need it",
        "{v}"
    );
    assert_eq!(
        check["accepted"][0]["entry"], "schema/accepted-differences.toml:2",
        "{v}"
    );
    // An entry for the other dialect only is not used here, and not stale here.
    let other = if db.is_mysql() { "sqlite" } else { "mysql" };
    env.write(
        "schema/accepted-differences.toml",
        format!(
            "{entry}\n[[difference]]\ndialect = \"{other}\"\ntable = \"Users\"\nobject = \"index Other\"\nreason = \"r\"\n"
        ),
    );
    run(verify).ok();
    // A migration closes the difference (drafted while the entry is away: a draft leaves an
    // accepted difference alone): the entry is stale, named by its line.
    let listed = text(env, "schema/accepted-differences.toml");
    env.remove("schema/accepted-differences.toml");
    run(&["new", "--autogenerate", "users email index"])
        .ok()
        .stdout_has("UsersEmail");
    env.write("schema/accepted-differences.toml", &listed);
    run(verify)
        .code(1)
        .stdout_has("FAIL  accepted-differences:")
        .stdout_has("schema/accepted-differences.toml:2: stale entry")
        .stdout_has("remove the entry");
    // An entry without a reason: an input error at its line, before anything is built.
    env.write(
        "schema/accepted-differences.toml",
        "\n\n[[difference]]\ndialect = \"both\"\ntable = \"Users\"\nobject = \"index UsersEmail\"\n",
    );
    run(&["verify"])
        .code(2)
        .stderr_has("schema/accepted-differences.toml:3: [[difference]] without reason");
    env.remove("schema/accepted-differences.toml");
    run(&["verify"]).ok();
}

/// `new --autogenerate` and `verify` on a server run the command once per dialect, both at
/// once: each run marks its dialect and waits (10 s at most) for the other's mark before
/// building, so runs one after the other fail.
fn the_command_runs_once_per_dialect_both_at_once(db: &Db) {
    let Some(python) = python() else { return };
    if !db.is_mysql() {
        return; // without a server the command runs for SQLite only
    }
    let env = db.env;
    let build = app(env, python);
    let marks = env.join("marks");
    std::fs::create_dir_all(&marks).expect("marks/");
    let command = format!(
        "sh -c 'touch \"$MARKS/$AURWEB_MIGRATE_SCRATCH_DIALECT\"; n=0; \
         until [ -e \"$MARKS/mysql\" ] && [ -e \"$MARKS/sqlite\" ]; do \
         n=$((n+1)); [ $n -le 100 ] || {{ echo \"ran alone\"; exit 4; }}; sleep 0.1; done; \
         exec {build}'"
    );
    let run = |args: &[&str]| {
        std::fs::remove_dir_all(&marks).ok();
        std::fs::create_dir_all(&marks).expect("marks/");
        let out = db
            .cmd(args)
            .env("AURWEB_MIGRATE_SCHEMA_COMMAND", &command)
            .env("MARKS", &marks)
            .run();
        let mut ran: Vec<String> = std::fs::read_dir(&marks)
            .expect("marks/")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        ran.sort();
        assert_eq!(ran, ["mysql", "sqlite"], "{args:?}");
        out
    };
    run(&["new", "--autogenerate", "init"])
        .ok()
        .stdout_has("create table Users");
    // `verify` (both dialects on a server) runs them at once too.
    run(&["verify"]).ok();
}

/// aurweb's `db.name()` builds in a database named after the test (`db` + SHA-1) when
/// `PYTEST_CURRENT_TEST` is set, as it is for anything a pytest test runs: the command must not
/// see it, or it misses its scratch database (MySQL: "Unknown database 'db…'") or writes into
/// the test's own. The fixture application does as aurweb does.
fn the_command_is_not_told_it_runs_under_pytest(db: &Db) {
    let Some(python) = python() else { return };
    let env = db.env;
    let command = app(env, python);
    let report = env.join("report.txt");
    let run = |args: &[&str]| {
        db.cmd(args)
            .env("AURWEB_MIGRATE_SCHEMA_COMMAND", &command)
            .env(
                "PYTEST_CURRENT_TEST",
                "test/test_schema.py::test_verify (call)",
            )
            .env("SQLA_APP_REPORT", &report)
            .run()
    };
    run(&["new", "--autogenerate", "init"])
        .ok()
        .stdout_has("create table Users");
    run(&["verify"]).ok();
    let got = text(env, "report.txt");
    assert!(got.contains("pytest_current_test=(unset)\n"), "{got}");
    if db.is_mysql() {
        let like = "db________________________________________";
        assert_eq!(
            db.strings(&format!("SHOW DATABASES LIKE '{like}'")),
            Vec::<String>::new()
        );
    }
}

/// aurweb's models differ between dialects on purpose (schema.py makes Popularity a String
/// unless the backend is MySQL); migrations that keep one definition for both, with the
/// difference listed, pass `verify`: the cross-dialect check compares the two replays, not
/// the models' two schemas, which no migration could make agree.
fn models_that_differ_between_dialects_on_purpose_pass_verify_with_their_reasons(db: &Db) {
    let Some(python) = python() else { return };
    if !db.is_mysql() {
        return; // the cross-dialect check needs both dialects, so a server
    }
    let env = db.env;
    let command = app(env, python);
    let run = |args: &[&str]| {
        db.cmd(args)
            .env("AURWEB_MIGRATE_SCHEMA_COMMAND", &command)
            .run()
    };
    run(&["new", "--autogenerate", "init"]).ok();
    let path = env.join("sqla_app/models.py");
    let models = std::fs::read_to_string(&path).expect("models.py");
    let models = models
        .replace(
            "from sqlalchemy import Column,",
            "import os\n\nfrom sqlalchemy import Numeric, Column,",
        )
        .replace(
            "    # EXTRA COLUMNS",
            "    Popularity = Column(\n        Numeric(10, 6) if os.environ[\"AURWEB_MIGRATE_SCRATCH_DIALECT\"] == \"mysql\" else String(17),\n        nullable=False,\n        server_default=\"0\",\n    )",
        );
    std::fs::write(&path, models).expect("write models.py");
    // One migration for both dialects, as the repository keeps it.
    env.write(
        "migrations/29991231000000_users_popularity.sql",
        "ALTER TABLE Users ADD COLUMN Popularity DECIMAL(10,6) NOT NULL DEFAULT 0;\n",
    );
    run(&["verify"])
        .code(1)
        .stdout_has("Users: column Popularity: expected VARCHAR(17)");
    env.write(
        "schema/accepted-differences.toml",
        "[[difference]]\ndialect = \"sqlite\"\ntable = \"Users\"\nobject = \"column Popularity\"\nreason = \"the models make it a String unless the backend is MySQL\"\n",
    );
    run(&["verify"])
        .ok()
        .stdout_has("accepted: the models make it a String")
        .stdout_has(
            "ok    mysql-vs-sqlite: the MySQL replay of the migrations (expected) with the SQLite replay of the migrations (found)",
        );
    // The replays still have to agree: a migration for one dialect only fails there.
    env.remove("migrations/29991231000000_users_popularity.sql");
    env.write(
        "migrations/29991231000000_users_popularity.mysql.sql",
        "ALTER TABLE Users ADD COLUMN Popularity DECIMAL(10,6) NOT NULL DEFAULT 0;\n",
    );
    env.write(
        "migrations/29991231000000_users_popularity.sqlite.sql",
        "ALTER TABLE Users ADD COLUMN Popularity VARCHAR(17) NOT NULL DEFAULT 0;\n",
    );
    run(&["verify"])
        .code(1)
        .stdout_has("FAIL  mysql-vs-sqlite:")
        .stdout_has("Users: column Popularity: expected decimal");
}

/// A database built by the migrations has the reviewed differences from the models: with a
/// schema command, `check --drift` and `schema diff` do not report them as drift.
fn a_database_the_migrations_built_has_no_drift_in_an_accepted_difference(db: &Db) {
    let Some(python) = python() else { return };
    let env = db.env;
    let command = app(env, python);
    let run = |args: &[&str]| {
        db.cmd(args)
            .env("AURWEB_MIGRATE_SCHEMA_COMMAND", &command)
            .run()
    };
    run(&["new", "--autogenerate", "init"]).ok();
    db.run(&["upgrade"]).ok();
    // The models gain an index no migration creates, reviewed and kept.
    let path = env.join("sqla_app/models.py");
    let models = std::fs::read_to_string(&path).expect("models.py");
    std::fs::write(
        &path,
        models.replace(
            "    # EXTRA COLUMNS",
            "    __table_args__ = (Index(\"UsersEmail\", \"Email\"),)",
        ),
    )
    .expect("write models.py");
    run(&["check", "--drift"])
        .code(1)
        .stdout_has("Users: index UsersEmail: missing");
    env.write(
        "schema/accepted-differences.toml",
        "[[difference]]\ndialect = \"both\"\ntable = \"Users\"\nobject = \"index UsersEmail\"\nreason = \"only fresh installs need it\"\n",
    );
    run(&["check", "--drift"]).ok();
    run(&["schema", "diff"])
        .ok()
        .stdout_has("(less 1 accepted difference(s) of schema/accepted-differences.toml)");
    // Any other difference is still drift.
    db.exec("CREATE INDEX PackagesExtra ON Packages (ID)");
    run(&["check", "--drift"])
        .code(1)
        .stdout_has("index PackagesExtra");
}

/// The command finds its database in AUR_CONFIG's [database] section as aurweb's
/// `db.get_sqlalchemy_url()` does (the fixture application's `SQLA_APP_FROM=aur_config`):
/// SQLite by `name`; MySQL over TCP by `host` and `port`, and over the Unix socket when the
/// URL names one, where the section must have no `port` key (aurweb hands an empty one to
/// SQLAlchemy, which fails on it).
fn a_command_that_reads_the_database_from_aur_config_as_aurweb_does(db: &Db) {
    let Some(python) = python() else { return };
    let env = db.env;
    let command = app(env, python);
    let run = |url: &str, args: &[&str]| {
        env.cmd(args)
            .env("AURWEB_MIGRATE_SCHEMA_COMMAND", &command)
            .env("SQLA_APP_FROM", "aur_config")
            .env("AURWEB_MIGRATE_DATABASE_URL", url)
            .run()
    };
    let url = db.url().to_string();
    run(&url, &["new", "--autogenerate", "init"])
        .ok()
        .stdout_has("create table Users");
    run(&url, &["verify"]).ok();
    if !db.is_mysql() {
        return;
    }
    let socket = db.strings("SELECT @@socket");
    let Some(socket) = socket.first().filter(|s| Path::new(s.as_str()).exists()) else {
        loud("SKIPPED: the socket part needs the test server's Unix socket on this machine");
        return;
    };
    let Some(rest) = url.strip_prefix("mysql://root@") else {
        loud("SKIPPED: the socket part needs the test server's root without a password");
        return;
    };
    let database = rest.split_once('/').map_or("", |(_, d)| d);
    let over_socket = format!("mysql://root@localhost/{database}?socket={socket}");
    run(&over_socket, &["verify", "--dialect", "mysql"])
        .ok()
        .stdout_has("ok    mysql:");
}

/// `new --autogenerate` drafts what the models changed, not the reviewed differences the
/// migrations keep on purpose: with aurweb's models and contrib/aurweb's entries the draft is
/// empty, where it used to undo every one of them (MEDIUMTEXT back to TEXT, dropping
/// BasesPopularityName, moving columns).
fn a_draft_leaves_the_accepted_differences_alone(db: &Db) {
    let Some(python) = python() else { return };
    let env = db.env;
    let command = app(env, python);
    let run = |args: &[&str]| {
        db.cmd(args)
            .env("AURWEB_MIGRATE_SCHEMA_COMMAND", &command)
            .run()
    };
    run(&["new", "--autogenerate", "init"]).ok();
    // Two differences the migrations keep (an index, a column's definition), reviewed.
    let path = env.join("sqla_app/models.py");
    let models = std::fs::read_to_string(&path).expect("models.py");
    std::fs::write(
        &path,
        models
            .replace(
                "    # EXTRA COLUMNS",
                "    __table_args__ = (Index(\"UsersEmail\", \"Email\"),)\n    # EXTRA COLUMNS",
            )
            .replace("String(254)", "String(300)"),
    )
    .expect("write models.py");
    env.write(
        "schema/accepted-differences.toml",
        "[[difference]]\ndialect = \"both\"\ntable = \"Users\"\nobject = \"index UsersEmail\"\nreason = \"only fresh installs need it\"\n\n\
         [[difference]]\ndialect = \"both\"\ntable = \"Users\"\nobject = \"column Email\"\nreason = \"the models allow longer addresses than the table\"\n",
    );
    run(&["verify"]).ok();
    run(&["new", "--autogenerate", "nothing"])
        .ok()
        .stdout_has("no changes");
    // A change of the models' own is drafted, and only it.
    edit_model(env);
    let draft = run(&["new", "--autogenerate", "add homepage"]);
    draft
        .ok()
        .stdout_has("Users: add column Homepage")
        .nowhere("UsersEmail")
        .nowhere("VARCHAR(300)");
    let written: Vec<String> = env
        .ls("migrations")
        .into_iter()
        .filter(|n| n.contains("_add_homepage") && !n.contains(".down."))
        .collect();
    assert!(!written.is_empty(), "{:?}", env.ls("migrations"));
    for name in &written {
        let sql = text(env, &format!("migrations/{name}"));
        assert!(
            sql.contains("Homepage") && !sql.contains("UsersEmail") && !sql.contains("300"),
            "{name}:\n{sql}"
        );
    }
    run(&["verify"]).ok();
}

/// Issue 30 item 4: with the command's own scratch database as the desired side (its rendering
/// no longer built again), the drafts are byte for byte those of the commit before, which
/// built the rendering: `tests/fixtures/sqlalchemy_app/expected/` holds what that commit wrote
/// (MariaDB: both dialects' files; SQLite: the portable file), the first migration and a model
/// edit's.
fn the_drafts_are_those_the_rendering_gave(db: &Db) {
    let Some(python) = python() else { return };
    let env = db.env;
    let command = app(env, python);
    let run = |args: &[&str]| {
        db.cmd(args)
            .env("AURWEB_MIGRATE_SCHEMA_COMMAND", &command)
            .run()
    };
    run(&["new", "--autogenerate", "init"]).ok();
    edit_model(env);
    run(&["new", "--autogenerate", "add homepage"]).ok();
    // The files without their version (a timestamp), prefixed with the database's dialect.
    let mut got: Vec<(String, String)> = env
        .ls("migrations")
        .into_iter()
        .map(|n| {
            let (_, rest) = n.split_once('_').expect("VERSION_name");
            (
                format!("{}.{rest}", db.dialect()),
                text(env, &format!("migrations/{n}")),
            )
        })
        .collect();
    got.sort();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sqlalchemy_app/expected");
    let mut want: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("expected/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("{}.", db.dialect())))
        .map(|n| {
            let t = std::fs::read_to_string(dir.join(&n)).expect("expected draft");
            (n, t)
        })
        .collect();
    want.sort();
    let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&got), names(&want));
    for ((name, got), (_, want)) in got.iter().zip(&want) {
        assert_eq!(
            got, want,
            "{name} differs from the draft the rendering gave"
        );
    }
}

/// Migrations whose replay takes a while: MariaDB sleeps 4 s in its second migration; on a
/// SQLite database, SQLite fills a table of 1,000,000 rows (its statements hold the tool's
/// thread, so on a server, where SQLite replays too, its migration stays quick).
fn slow_migrations(db: &Db) {
    let env = db.env;
    env.migration(
        "0001_base.sql",
        "CREATE TABLE Base (ID INTEGER NOT NULL PRIMARY KEY);\n",
    );
    env.migration("0002_slow.mysql.sql", "DO SLEEP(4);\n");
    env.migration(
        "0002_slow.sqlite.sql",
        if db.is_mysql() {
            "CREATE TABLE Slow (x INT);\nDROP TABLE Slow;\n"
        } else {
            "CREATE TABLE Slow AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) SELECT x FROM c;\nDROP TABLE Slow;\n"
        },
    );
}

/// A schema command that waits (20 s at most) until the replay beside it has run the first
/// migration (its scratch database has the table `Base`), says so, and fails with exit 3.
const WATCHER: &str = r#"
import glob, os, sys, time
url = os.environ["AURWEB_MIGRATE_SCRATCH_URL"]
def replay_has_base():
    if url.startswith("sqlite://"):
        import sqlite3
        base = os.path.dirname(os.path.dirname(url[len("sqlite://"):]))
        for path in glob.glob(os.path.join(base, "*", "replay.sqlite3")):
            try:
                c = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=0.05)
                n = c.execute("SELECT count(*) FROM sqlite_master WHERE name = 'Base'").fetchone()[0]
                c.close()
                if n:
                    return True
            except sqlite3.Error:
                pass
        return False
    import pymysql
    from urllib.parse import unquote, urlsplit
    s = urlsplit(url)
    prefix = unquote(s.path.lstrip("/")).rsplit("_", 2)[0] + "_"
    c = pymysql.connect(host=s.hostname, port=s.port or 3306, user=unquote(s.username or ""),
                        password=unquote(s.password or ""))
    with c.cursor() as cur:
        cur.execute("SELECT TABLE_SCHEMA FROM information_schema.TABLES WHERE TABLE_NAME = 'Base'")
        found = [r[0] for r in cur.fetchall() if r[0].startswith(prefix) and r[0].endswith("_replay")]
    c.close()
    return bool(found)
deadline = time.time() + 20
while not replay_has_base():
    if time.time() > deadline:
        print("the replay never ran beside the command")
        sys.exit(5)
    time.sleep(0.05)
print("built-half, beside the replay")
print("no such table", file=sys.stderr)
sys.exit(3)
"#;

/// Issue 30 item 4: the command runs while the migrations replay (it sees the replay's first
/// migration); when it fails, the replay is stopped (MariaDB: well before its 4 s sleep ends),
/// the command's output and exit status are shown (exit 2), and no scratch database or file
/// is left.
fn a_failing_command_stops_the_replay_and_leaves_nothing(db: &Db) {
    let Some(python) = python() else { return };
    let env = db.env;
    slow_migrations(db);
    env.write("watch.py", WATCHER);
    let tmp = env.join("tmp");
    std::fs::create_dir_all(&tmp).expect("tmp/");
    let started = Instant::now();
    let failed = db
        .cmd(&["new", "--autogenerate", "broken"])
        .env(
            "AURWEB_MIGRATE_SCHEMA_COMMAND",
            format!("{} {}", python.display(), env.join("watch.py").display()),
        )
        .env("TMPDIR", &tmp)
        .run();
    failed
        .code(2)
        .stderr_has("failed (exit status 3)")
        .stderr_has("built-half, beside the replay")
        .stderr_has("no such table");
    if db.is_mysql() {
        // The command saw migration 1, so the 4 s sleep of migration 2 had started.
        assert!(
            started.elapsed() < Duration::from_millis(3900),
            "the replay was not stopped: {:?}",
            started.elapsed()
        );
    }
    assert_eq!(leftovers(db, &tmp), Vec::<String>::new());
    let written: Vec<_> = env.ls("migrations");
    assert_eq!(written.len(), 3, "{written:?}");
}

/// Issue 30 item 4: a migration that fails in the replay while the command runs stops the
/// command (its process group is killed), exits 4 as a failed migration does, and leaves no
/// scratch database or file.
fn a_failing_replay_stops_the_command_and_leaves_nothing(db: &Db) {
    let env = db.env;
    slow_migrations(db);
    env.migration(
        "0003_broken.sql",
        "CREATE TABLE Broken (ID INTEGER NOT NULL PRIMARY KEY);\nINSERT INTO Nowhere VALUES (1);\n",
    );
    let tmp = env.join("tmp");
    std::fs::create_dir_all(&tmp).expect("tmp/");
    let mark = env.join("started");
    let started = Instant::now();
    let failed = db
        .cmd(&["new", "--autogenerate", "after broken"])
        .env(
            "AURWEB_MIGRATE_SCHEMA_COMMAND",
            "sh -c 'echo $$ > \"$MARK\"; exec sleep 60'",
        )
        .env("MARK", &mark)
        .env("TMPDIR", &tmp)
        .run();
    failed
        .code(4)
        .stderr_has("0003_broken")
        .nowhere("schema command");
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "the command was waited for"
    );
    assert_eq!(leftovers(db, &tmp), Vec::<String>::new());
    // The command had started (the replay took seconds) and is gone.
    let pid = text(env, "started").trim().to_string();
    let alive = std::process::Command::new("kill")
        .args(["-0", &pid])
        .stderr(std::process::Stdio::null())
        .status()
        .expect("kill -0");
    assert!(!alive.success(), "the schema command still runs");
    let written: Vec<_> = env.ls("migrations");
    assert_eq!(written.len(), 4, "{written:?}");
}

/// Issue 30 item 4: SIGTERM while the command and the replay both run stops both at once
/// (MariaDB: the replay's 4 s sleep is ended, not waited for), exits 143 and leaves no scratch
/// database or file, and the command's group is gone.
fn a_signal_during_the_command_and_the_replay_removes_both(db: &Db) {
    let env = db.env;
    slow_migrations(db);
    let tmp = env.join("tmp");
    std::fs::create_dir_all(&tmp).expect("tmp/");
    let mark = env.join("started");
    let mut child = db
        .cmd(&["new", "--autogenerate", "interrupted"])
        .env(
            "AURWEB_MIGRATE_SCHEMA_COMMAND",
            "sh -c 'echo $$ > \"$MARK\"; exec sleep 60'",
        )
        .env("MARK", &mark)
        .env("TMPDIR", &tmp)
        .spawn();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !mark.exists() || text(env, "started").trim().is_empty() {
        assert!(!child.has_exited(), "it ended before the command ran");
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The replay beside it is in its slow migration by now.
    std::thread::sleep(Duration::from_millis(800));
    let command_pid = text(env, "started").trim().to_string();
    let sent = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-TERM".to_string(), child.pid().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    child
        .wait()
        .code(143)
        .stderr_has("interrupted by SIGTERM")
        .stderr_has("scratch database removed");
    if db.is_mysql() {
        assert!(
            sent.elapsed() < Duration::from_millis(3000),
            "the replay was waited for: {:?}",
            sent.elapsed()
        );
    }
    assert_eq!(leftovers(db, &tmp), Vec::<String>::new());
    let alive = std::process::Command::new("kill")
        .args(["-0", &command_pid])
        .stderr(std::process::Stdio::null())
        .status()
        .expect("kill -0");
    assert!(!alive.success(), "the schema command still runs");
    assert_eq!(env.ls("migrations").len(), 3);
}
