//! What a person at a terminal (and a log collector) sees: the live progress line on a real
//! pseudo-terminal (util-linux `script`), log lines (`-vv`, `RUST_LOG`, `--log-format json`),
//! shell completions, the man pages and `contrib/install.sh`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::each_db;
use crate::support::{isolated, Db, Env, BIN};

/// Single quotes for `sh`.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Runs the binary on a pseudo-terminal (200 columns) through `script`; its exit code and
/// everything the terminal received (stdout and stderr together, escape codes included).
fn on_terminal(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> (Option<i32>, String) {
    on_terminal_of(200, env, args, vars)
}

/// [`on_terminal`] with a terminal `cols` wide.
fn on_terminal_of(
    cols: u16,
    env: &Env,
    args: &[&str],
    vars: &[(&str, &str)],
) -> (Option<i32>, String) {
    let mut line = format!("stty rows 50 cols {cols}; exec {}", quote(BIN));
    for a in args {
        line.push(' ');
        line.push_str(&quote(a));
    }
    let mut c = isolated("script", env.path());
    c.args(["-qec", &line, "/dev/null"]);
    c.env("TERM", "xterm-256color");
    for (k, v) in vars {
        c.env(k, v);
    }
    let mut child = c
        .spawn()
        .unwrap_or_else(|e| panic!("util-linux `script` (package bsdutils) is needed: {e}"));
    let started = Instant::now();
    while child.try_wait().expect("poll script").is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("`script -qec {line}` hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("script output");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

/// The text without ANSI escape sequences.
fn plain(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.next() == Some('[') {
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The first `N.Ns` time after `after` in each redraw of the line that shows `after`.
/// The statement clock (the first time on the line) of every frame showing `showing`.
fn times_after(terminal: &str, showing: &str) -> Vec<f64> {
    terminal
        .split(['\r', '\n'])
        .map(plain)
        .filter(|frame| frame.contains(showing))
        .filter_map(|frame| {
            frame
                .split_whitespace()
                .find_map(|w| w.strip_suffix('s')?.parse::<f64>().ok())
        })
        .collect()
}

/// A statement that keeps the database busy for about two seconds.
fn slow_statement(db: &Db) -> &'static str {
    if db.is_sqlite() {
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 6000000) SELECT count(*) FROM c;"
    } else {
        "SELECT SLEEP(2);"
    }
}

each_db!(progress_line_on_a_terminal_only);

/// On an 80-column terminal the line never wraps: a long description is cut, the clocks and
/// the statement's file:line stay.
#[test]
fn the_progress_line_fits_an_80_column_terminal() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    let slow = slow_statement(&db);
    db.migration(
        "0001_a_very_long_description_that_goes_on_and_on_well_past_the_edge_of_any_terminal.sql",
        &format!("CREATE TABLE t (x INTEGER);\n{slow}\n"),
    );
    let (code, terminal) =
        on_terminal_of(80, db.env, &["--database-url", db.url(), "upgrade"], &[]);
    assert_eq!(code, Some(0), "{terminal}");
    let frames: Vec<String> = terminal
        .split(['\r', '\n'])
        .map(plain)
        .filter(|f| f.contains("statement 2/2"))
        .collect();
    assert!(!frames.is_empty(), "drawn: {terminal:?}");
    for f in &frames {
        assert!(
            f.chars().count() <= 80,
            "{} columns: {f:?}",
            f.chars().count()
        );
        assert!(f.contains(".sql:2"), "the file:line stays: {f:?}");
    }
    // indicatif moves up a row to clear a line that wrapped; a line that fits never does.
    assert!(!terminal.contains("\x1b[1A"), "{terminal:?}");
}

/// A fresh install from `schema/` and `verify`'s scratch builds show the same live line on a
/// terminal: the schema file's statement running, its file:line.
#[test]
fn fresh_install_and_verify_show_progress_on_a_terminal() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    let slow = slow_statement(&db);
    db.migration(
        "0001_t.sql",
        &format!("CREATE TABLE t (x INTEGER);\n{slow}\n"),
    );
    env.schema_file(
        "sqlite.sql",
        &format!("-- schema-version: 1\n\nCREATE TABLE t (x INTEGER);\n{slow}\n"),
    );
    let (code, terminal) = on_terminal(db.env, &["--database-url", db.url(), "upgrade"], &[]);
    assert_eq!(code, Some(0), "{terminal}");
    let shown = plain(&terminal);
    assert!(shown.contains("building the database"), "{terminal:?}");
    assert!(
        !times_after(&terminal, "statement 2/2 at schema/sqlite.sql:4").is_empty(),
        "{terminal:?}"
    );
    assert!(
        shown.contains("built the database from schema/sqlite.sql"),
        "{shown}"
    );

    let (code, terminal) = on_terminal(
        db.env,
        &["--database-url", db.url(), "verify", "--dialect", "sqlite"],
        &[],
    );
    assert_eq!(code, Some(0), "{terminal}");
    let shown = plain(&terminal);
    assert!(
        shown.contains("schema/sqlite.sql:4"),
        "the install: {terminal:?}"
    );
    assert!(
        shown.contains("migrations/0001_t.sql:2") && shown.contains("applying 1 t"),
        "the replay: {terminal:?}"
    );
    assert!(shown.contains("ok    sqlite:"), "{shown}");
    // Piped: nothing drawn.
    db.run(&["verify", "--dialect", "sqlite"])
        .ok()
        .nowhere("statement 2/2");
}

/// A run that waits for the lock shows the wait on a terminal, with a clock that moves, and
/// erases it once the lock is taken.
#[test]
fn the_wait_for_the_lock_is_shown_on_a_terminal() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    db.migration("0001_t.sql", "CREATE TABLE t (x INTEGER);\n");
    let lock = db.hold_write_lock();
    let (code, terminal) = std::thread::scope(|scope| {
        let run = scope.spawn(|| {
            on_terminal(
                &env,
                &[
                    "--database-url",
                    db.url(),
                    "--lock-timeout",
                    "20",
                    "upgrade",
                ],
                &[],
            )
        });
        std::thread::sleep(Duration::from_millis(2600));
        lock.release();
        run.join().expect("the terminal run")
    });
    assert_eq!(code, Some(0), "{terminal}");
    let shown = plain(&terminal);
    assert!(
        shown.contains("waiting up to 20s (--lock-timeout) for the write lock"),
        "{terminal:?}"
    );
    let frames: Vec<&str> = terminal
        .split(['\r', '\n'])
        .filter(|f| plain(f).contains("waiting up to 20s"))
        .collect();
    assert!(
        frames.iter().any(|f| plain(f).contains("00:00:01")),
        "the clock moves while it waits: {terminal:?}"
    );
    assert!(shown.contains("applied  1  t"), "{shown}");
    assert_eq!(db.count("t"), 0);
}

fn progress_line_on_a_terminal_only(db: &Db) {
    let slow = slow_statement(db);
    db.migration(
        "0001_slow.sql",
        &format!("CREATE TABLE t (x INTEGER);\n{slow}\nINSERT INTO t VALUES (1);\n"),
    );
    // SQLite also shows that NO_COLOR is honoured; MySQL that colour is there without it.
    let no_color: &[(&str, &str)] = if db.is_sqlite() {
        &[("NO_COLOR", "1")]
    } else {
        &[]
    };
    let (code, terminal) = on_terminal(db.env, &["--database-url", db.url(), "upgrade"], no_color);
    assert_eq!(code, Some(0), "{terminal}");
    assert_eq!(db.count("t"), 1);
    let running = "statement 2/3 at migrations/0001_slow.sql:2";
    let times = times_after(&terminal, running);
    assert!(
        times.len() >= 5,
        "the line is redrawn while the statement runs: {times:?}\n{terminal:?}"
    );
    assert!(
        times.iter().any(|t| *t >= 0.5),
        "the clock moves while one statement blocks: {times:?}\n{terminal:?}"
    );
    assert!(plain(&terminal).contains("applying 1 slow"), "{terminal:?}");
    // Cleared (carriage return, erase line) before the result line.
    assert!(
        terminal.contains("\r\x1b[2Kapplied  1  slow  ("),
        "{terminal:?}"
    );
    if db.is_sqlite() {
        assert!(
            !terminal.contains("\x1b[3") && !terminal.contains("\x1b[1m"),
            "no colour with NO_COLOR: {terminal:?}"
        );
    } else {
        assert!(terminal.contains("\x1b[33m"), "colour: {terminal:?}");
    }

    // Piped, as JSON: a clean document on stdout, and nothing drawn anywhere.
    db.migration("0002_slow_too.sql", &format!("{slow}\n"));
    let run = db.run(&["--format", "json", "upgrade"]);
    let doc = run.ok().json();
    assert_eq!(doc["applied"][0]["version"], 2, "{doc:#}");
    run.nowhere("\x1b")
        .nowhere("statement 1/1")
        .nowhere("applying");

    // -q on a terminal: nothing at all.
    db.migration("0003_quick.sql", "INSERT INTO t VALUES (3);\n");
    let (code, terminal) = on_terminal(db.env, &["--database-url", db.url(), "-q", "upgrade"], &[]);
    assert_eq!(code, Some(0), "{terminal}");
    assert_eq!(terminal.trim(), "", "-q draws nothing");
    assert_eq!(db.count("t"), 2);
}

#[test]
fn json_logs_are_one_object_per_line_on_stderr() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    db.migration("0001_one.sql", "CREATE TABLE t1 (id INT);\n");
    let run = db.run(&["-vv", "--log-format", "json", "--format", "json", "upgrade"]);
    let doc = run.ok().json();
    assert_eq!(doc["applied"][0]["version"], 1, "{doc:#}");
    let lines: Vec<&str> = run.stderr.lines().filter(|l| !l.is_empty()).collect();
    assert!(!lines.is_empty(), "-vv logs something: {run:?}");
    let mut messages = Vec::new();
    for line in lines {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("stderr line is not JSON ({e}): {line}"));
        assert!(v["level"].is_string(), "{line}");
        messages.push(v["message"].as_str().expect("a message").to_string());
    }
    assert!(messages.iter().any(|m| m == "executing"), "{messages:?}");

    // The final error is a log object too (stdout's JSON document is unchanged), as are the
    // tool's warnings: every stderr line parses.
    db.migration("0002_bad.sql", "CREATE TABLE t2 (id INT;\n");
    let run = db.run(&[
        "--log-format",
        "json",
        "--format",
        "json",
        // Ignored next to a database URL: a warning.
        "--aur-config",
        "no-such-config",
        "upgrade",
    ]);
    let doc = run.code(4).json();
    assert_eq!(doc["error"]["kind"], "migration-failed", "{doc:#}");
    let lines: Vec<Value> = run
        .stderr
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let last = lines.last().expect("the final error");
    assert_eq!(last["level"], "ERROR", "{last}");
    assert_eq!(last["exit_code"], 4, "{last}");
    assert!(
        last["message"].as_str().unwrap().contains("0002_bad.sql:1"),
        "{last}"
    );
    assert!(
        lines.iter().any(|l| l["level"] == "WARN"),
        "the --aur-config warning: {lines:?}"
    );

    // Text logs on stderr by default; stdout is the same report either way.
    let run = db.run(&["-vv", "--log-format", "text", "status"]);
    run.ok().check(!run.stderr.contains('{'), "text, not JSON");
    let run = db.run(&["--log-format", "yaml", "status"]);
    run.code(2).stderr_has("--log-format");
}

#[test]
fn rust_log_chooses_what_is_logged() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    db.migration("0001_one.sql", "CREATE TABLE t1 (id INT);\n");
    db.migration("0002_two.sql", "CREATE TABLE t2 (id INT);\n");
    let run = db
        .cmd(&["upgrade", "--to", "1"])
        .env("RUST_LOG", "aurweb_migrate=debug")
        .run();
    run.ok().stderr_has("DEBUG").stderr_has("executing");
    run.check(!run.stdout.contains("DEBUG"), "logs stay off stdout");
    // RUST_LOG wins over -vv.
    let run = db.cmd(&["-vv", "upgrade"]).env("RUST_LOG", "error").run();
    run.ok().stdout_has("applied  2  two").check(
        !run.stderr.contains("DEBUG"),
        "RUST_LOG=error: no debug lines",
    );
}

#[test]
fn no_password_in_trace_logs() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    let user = format!("lg_{}", &db.mysql_database()[3..]);
    assert!(user.len() <= 32, "{user}");
    db.exec(&format!(
        "CREATE USER '{user}'@'%' IDENTIFIED BY 'logsecret42'; GRANT ALL ON `{}`.* TO '{user}'@'%'",
        db.mysql_database()
    ));
    let p = db.mysql_parts();
    let url = format!(
        "mysql://{user}:logsecret42@{}:{}/{}",
        p.host,
        p.port,
        db.mysql_database()
    );
    db.migration("0001_one.sql", "CREATE TABLE t1 (id INT);\n");
    let json = env
        .cmd(["-vv", "--log-format", "json", "upgrade"])
        .env("AURWEB_MIGRATE_DATABASE_URL", &url)
        .env("RUST_LOG", "trace")
        .run();
    let text = env
        .cmd(["-vvv", "status"])
        .env("AURWEB_MIGRATE_DATABASE_URL", &url)
        .env("RUST_LOG", "trace")
        .run();
    db.exec(&format!("DROP USER IF EXISTS '{user}'@'%'"));
    json.ok()
        .stdout_has("applied  1  one")
        .nowhere("logsecret42");
    json.check(json.stderr.lines().count() >= 2, "trace logs were written");
    text.ok().nowhere("logsecret42");
}

#[test]
fn completions_load_in_bash_and_name_the_commands() {
    let env = Env::new();
    let run = env.run(&["completions", "bash"]);
    run.ok();
    for sub in [
        "upgrade",
        "downgrade",
        "status",
        "verify",
        "completions",
        "man",
    ] {
        run.stdout_has(sub);
    }
    let file = env.write("aurweb-migrate.bash", &run.stdout);
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p aurweb-migrate",
            quote(&file.display().to_string())
        ))
        .output()
        .expect("run bash");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && shown.contains("aurweb-migrate"),
        "{shown}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env.run(&["completions", "zsh"])
        .ok()
        .stdout_has("#compdef aurweb-migrate");
    env.run(&["completions", "fish"])
        .ok()
        .stdout_has("complete -c aurweb-migrate");
    for shell in ["elvish", "powershell"] {
        env.run(&["completions", shell]).ok().stdout_has("upgrade");
    }
    env.run(&["completions", "tcsh"]).code(2);
}

/// Every subcommand, as the man page names it.
const SUBCOMMANDS: &[&str] = &[
    "new",
    "status",
    "upgrade",
    "downgrade",
    "check",
    "baseline",
    "adopt",
    "verify",
    "schema",
    "stamp",
    "resolve",
    "history",
    "completions",
    "man",
];

#[test]
fn man_page_renders_and_names_every_command() {
    let env = Env::new();
    let run = env.run(&["man"]);
    run.ok();
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with(".TH aurweb-migrate 1")),
        "{}",
        run.stdout
    );
    for sub in SUBCOMMANDS {
        run.stdout_has(&format!("aurweb\\-migrate\\-{sub}(1)"));
    }
    let page = env.write("aurweb-migrate.1", &run.stdout);
    if Path::new("/usr/bin/man").exists() {
        let out = Command::new("man")
            .arg("-l")
            .arg(&page)
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .expect("run man");
        let text = plain(&String::from_utf8_lossy(&out.stdout)).replace('\u{8}', "");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("SUBCOMMANDS"), "{text}");
        assert!(text.contains("--log-format"), "{text}");
    }
    let run = env.run(&["man", "--out-dir", "pages"]);
    run.ok();
    assert!(env.exists("pages/aurweb-migrate.1"));
    assert!(env.exists("pages/aurweb-migrate-upgrade.1"));
    assert!(env.exists("pages/aurweb-migrate-schema-dump.1"));
    env.write("a-file", "");
    env.run(&["man", "--out-dir", "a-file/dir"])
        .code(2)
        .stderr_has("cannot write the man pages into a-file/dir");
}

#[test]
fn install_script_installs_binary_completions_and_man_pages() {
    let env = Env::new();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/install.sh");
    let dest = env.join("stage");
    let out = Command::new("sh")
        .arg(&script)
        .env("DESTDIR", &dest)
        .env("PREFIX", "/usr")
        .env("AURWEB_MIGRATE_BIN", BIN)
        .output()
        .expect("run contrib/install.sh");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let usr = dest.join("usr");
    for file in [
        "bin/aurweb-migrate",
        "share/bash-completion/completions/aurweb-migrate",
        "share/zsh/site-functions/_aurweb-migrate",
        "share/fish/vendor_completions.d/aurweb-migrate.fish",
        "share/man/man1/aurweb-migrate.1",
        "share/man/man1/aurweb-migrate-upgrade.1",
    ] {
        let path = usr.join(file);
        let len = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{} not installed: {e}", path.display()))
            .len();
        assert!(len > 0, "{} is empty", path.display());
    }
    let installed = usr.join("bin/aurweb-migrate");
    let out = Command::new(&installed)
        .arg("--version")
        .output()
        .expect("run the installed binary");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("aurweb-migrate "));
    // The installed binary works on a database.
    let db = Db::sqlite(&env);
    db.migration("0001_one.sql", "CREATE TABLE t1 (id INT);\n");
    let out = Command::new(&installed)
        .current_dir(env.path())
        .args(["--database-url", db.url(), "upgrade"])
        .env_remove("AURWEB_MIGRATE_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .env_remove("AUR_CONFIG")
        .output()
        .expect("run the installed binary");
    assert!(out.status.success(), "{out:?}");
    assert!(db.has_table("t1"));
}

/// `status` colours the states on a terminal, never with `NO_COLOR`, `TERM=dumb` or a pipe.
#[test]
fn status_colours_states_on_a_terminal_only() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    db.migration("0001_one.sql", "CREATE TABLE t1 (id INT);\n");
    db.migration("0002_two.sql", "CREATE TABLE t2 (id INT);\n");
    db.run(&["upgrade", "--to", "1"]).ok();
    let args = ["--database-url", db.url(), "status"];
    let (code, coloured) = on_terminal(db.env, &args, &[]);
    assert_eq!(code, Some(0), "{coloured}");
    assert!(
        coloured.contains("\x1b["),
        "colour on a terminal: {coloured:?}"
    );
    assert!(
        plain(&coloured).contains("pending   2  two"),
        "{coloured:?}"
    );
    for vars in [[("NO_COLOR", "1")], [("TERM", "dumb")]] {
        let (code, text) = on_terminal(db.env, &args, &vars);
        assert_eq!(code, Some(0), "{text}");
        assert!(!text.contains("\x1b["), "{vars:?}: {text:?}");
    }
    db.run(&["status"]).ok().nowhere("\x1b[");
}
