//! Where settings come from: flags, environment, `./aurweb-migrate.toml`, aurweb's INI config
//! and the embedded default; and that passwords never print.

use crate::support::{Db, Env};

/// One migration creating `t1`, in `dir`.
fn one(env: &Env, dir: &str) {
    env.write(
        format!("{dir}/0001_one.sql"),
        "CREATE TABLE t1 (id INTEGER);\n",
    );
}

/// Whether the SQLite file `rel` exists with migration 1 applied.
#[track_caller]
fn migrated(env: &Env, rel: &str) -> bool {
    if !env.exists(rel) {
        return false;
    }
    let url = format!("sqlite://{}", env.join(rel).display());
    let doc = env
        .run(&["status", "--format", "json", "--database-url", &url])
        .ok()
        .json();
    doc["current"] == 1
}

#[test]
fn environment_variable_order() {
    let env = Env::new();
    one(&env, "migrations");
    env.cmd(["upgrade"])
        .env("AURWEB_MIGRATE_DATABASE_URL", "sqlite://amdu.db")
        .env("DATABASE_URL", "sqlite://du.db")
        .run()
        .ok();
    assert!(migrated(&env, "amdu.db"));
    assert!(!env.exists("du.db"), "DATABASE_URL was used");

    env.cmd(["upgrade"])
        .env("DATABASE_URL", "sqlite://du.db")
        .run()
        .ok();
    assert!(migrated(&env, "du.db"));
    assert!(!env.exists("aurweb.sqlite3"));
}

#[test]
fn flag_beats_environment() {
    let env = Env::new();
    one(&env, "migrations");
    env.cmd(["upgrade", "--database-url", "sqlite://flag.db"])
        .env("AURWEB_MIGRATE_DATABASE_URL", "sqlite://amdu.db")
        .env("DATABASE_URL", "sqlite://du.db")
        .run()
        .ok();
    assert!(migrated(&env, "flag.db"));
    assert!(!env.exists("amdu.db") && !env.exists("du.db"));
    // `-d` and the `sqlite:PATH` form work too.
    env.run(&["upgrade", "-d", "sqlite:short.db"]).ok();
    assert!(migrated(&env, "short.db"));
}

#[test]
fn toml_file_names_database_and_migrations() {
    let env = Env::new();
    one(&env, "db/migs");
    env.write(
        "aurweb-migrate.toml",
        "database_url = \"sqlite://from_toml.db\"\nmigrations = \"db/migs\"\n",
    );
    env.run(&["upgrade"]).ok();
    assert!(migrated(&env, "from_toml.db"));
    assert!(!env.exists("aurweb.sqlite3"));
    env.run(&["status", "-v"])
        .ok()
        .stdout_has("aurweb-migrate.toml")
        .stdout_has("db/migs");
    // The environment beats the file.
    env.cmd(["upgrade"])
        .env("DATABASE_URL", "sqlite://env.db")
        .run()
        .ok();
    assert!(migrated(&env, "env.db"));
    // -c names another file.
    env.write(
        "other.toml",
        "database_url = \"sqlite://other.db\"\nmigrations = \"db/migs\"\n",
    );
    env.run(&["upgrade", "-c", "other.toml"]).ok();
    assert!(migrated(&env, "other.db"));
}

#[test]
fn bad_toml_key_is_a_usage_error_naming_the_file() {
    let env = Env::new();
    one(&env, "migrations");
    env.write(
        "aurweb-migrate.toml",
        "migrations = \"migrations\"\ndatabse_url = \"sqlite://x.db\"\n",
    );
    env.run(&["upgrade"])
        .code(2)
        .stderr_has("aurweb-migrate.toml:2")
        .stderr_has("databse_url");
    assert!(!env.exists("x.db") && !env.exists("aurweb.sqlite3"));
    env.run(&["status"]).code(2);
}

#[test]
fn aurweb_ini_config_is_used_when_nothing_else_names_a_database() {
    let env = Env::new();
    one(&env, "migrations");
    let db_path = env.join("var/aur.sqlite3");
    std::fs::create_dir_all(env.join("var")).unwrap();
    let ini = env.write(
        "etc/config",
        format!(
            "[options]\naur_location = https://aur.example\n\n[database]\nbackend = sqlite\nname = {}\n",
            db_path.display()
        ),
    );
    env.cmd(["upgrade"]).env("AUR_CONFIG", &ini).run().ok();
    assert!(migrated(&env, "var/aur.sqlite3"));
    assert!(!env.exists("aurweb.sqlite3"));
    env.cmd(["status", "-v"])
        .env("AUR_CONFIG", &ini)
        .run()
        .ok()
        .stdout_has("aurweb config")
        .stdout_has("etc/config");
    // Anything naming a database beats it.
    env.cmd(["upgrade"])
        .env("AUR_CONFIG", &ini)
        .env("DATABASE_URL", "sqlite://du.db")
        .run()
        .ok();
    assert!(migrated(&env, "du.db"));
    // --aur-config works like AUR_CONFIG.
    std::fs::remove_file(&db_path).unwrap();
    env.run(&["upgrade", "--aur-config", "etc/config"]).ok();
    assert!(migrated(&env, "var/aur.sqlite3"));
}

#[test]
fn embedded_default_creates_aurweb_sqlite3() {
    let env = Env::new();
    one(&env, "migrations");
    env.run(&["upgrade"]).ok();
    assert!(migrated(&env, "aurweb.sqlite3"));
    env.run(&["status", "-v"])
        .ok()
        .stdout_has("aurweb.sqlite3")
        .stdout_has("(from default)");
}

#[test]
fn status_verbose_names_each_origin() {
    let env = Env::new();
    one(&env, "migrations");
    let run = env
        .cmd([
            "status",
            "-v",
            "--table",
            "my_versions",
            "--lock-timeout",
            "7",
        ])
        .env("DATABASE_URL", "sqlite://du.db")
        .run();
    run.ok();
    let line = |key: &str| -> String {
        run.stdout
            .lines()
            .find(|l| l.trim_start().starts_with(key))
            .unwrap_or_else(|| run.fail(&format!("no {key} line")))
            .to_string()
    };
    assert!(
        line("database").contains("environment variable DATABASE_URL"),
        "{}",
        line("database")
    );
    assert!(
        line("migrations").contains("default"),
        "{}",
        line("migrations")
    );
    assert!(line("table").contains("my_versions") && line("table").contains("command line"));
    assert!(line("lock timeout").contains("7s") && line("lock timeout").contains("command line"));
    assert!(!env.exists("du.db"), "status created the database");
}

#[test]
fn invalid_table_name_is_a_usage_error() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    one(&env, "migrations");
    db.run(&["upgrade", "--table", "bad-name"]).code(2);
    assert!(!db.exists());
}

#[test]
fn custom_table_name_is_used() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    one(&env, "migrations");
    db.run(&["upgrade", "--table", "my_versions"]).ok();
    assert_eq!(db.history_of("my_versions").len(), 1);
    assert!(!db.has_table("aurweb_migrations"));
}

const SECRET: &str = "s3cr3tpw";

/// A password in a URL never reaches the output; `***` stands in where the URL is shown.
#[test]
fn passwords_never_print() {
    let env = Env::new();
    one(&env, "migrations");
    // A closed loopback port: the runs fail to connect without reaching beyond this machine.
    let url = format!("mysql://u:{SECRET}@127.0.0.1:1/aur");
    for args in [
        &["status"][..],
        &["status", "-v"],
        &["status", "--format", "json"],
        &["upgrade", "--format", "json"],
        &["check", "-vv"],
        &["upgrade", "--dry-run"],
    ] {
        let run = env.cmd(args).arg("--database-url").arg(&url).run();
        run.nowhere(SECRET);
        run.check(
            run.code != Some(0) || run.stdout.contains("***"),
            "URL shown without ***",
        );
        let run = env.cmd(args).env("AURWEB_MIGRATE_DATABASE_URL", &url).run();
        run.nowhere(SECRET);
    }
    // The flag warns that the password is visible to other users.
    env.cmd(["status"])
        .arg("--database-url")
        .arg(&url)
        .run()
        .stderr_has("warning")
        .nowhere(SECRET);
    // An invalid URL is quoted with the password masked.
    let bad = format!("mysql://u:{SECRET}@db.example:notaport/aur");
    env.run(&["status", "--database-url", &bad])
        .code(2)
        .stderr_has("***")
        .nowhere(SECRET);
    let run = env.run(&["status", "--format", "json", "--database-url", &bad]);
    run.code(2).nowhere(SECRET);
    assert!(run.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("***"));
    // And from a TOML file.
    env.write(
        "aurweb-migrate.toml",
        format!("database_url = \"mysql://u:{SECRET}@h:nan/x\"\n"),
    );
    env.run(&["status"])
        .code(2)
        .stderr_has("***")
        .nowhere(SECRET);
}

/// The repository's own situation: an `aurweb-migrate.toml` in the working directory names
/// `migrations` and `schema`; `-m` on the command line names another migration set, which then
/// goes with the schema beside it (here none), never with the file's schema.
#[test]
fn migrations_flag_takes_the_schema_beside_it_not_the_config_files() {
    let env = Env::new();
    crate::aurweb::copy_repository(&env);
    env.write(
        "aurweb-migrate.toml",
        "migrations = \"migrations\"\nschema = \"schema\"\n",
    );
    env.write(
        "elsewhere/migrations/0001_one.sql",
        "CREATE TABLE one (id INTEGER);\n",
    );
    env.write(
        "elsewhere/migrations/0002_two.sql",
        "CREATE TABLE two (id INTEGER);\n",
    );
    let db = Db::sqlite(&env);
    let doc = db
        .run(&["-m", "elsewhere/migrations", "upgrade", "--format", "json"])
        .ok()
        .json();
    assert!(doc["installed"].is_null(), "no schema beside it: {doc:#}");
    assert_eq!(doc["current"], 2, "{doc:#}");
    assert!(db.has_table("one") && db.has_table("two"));
    db.run(&["-m", "elsewhere/migrations", "status", "-v"])
        .ok()
        .stdout_has("elsewhere/schema");
    // With a schema beside it, that one is used.
    env.write(
        "elsewhere/schema/sqlite.sql",
        "-- schema-version: 2\nCREATE TABLE one (id INTEGER);\nCREATE TABLE two (id INTEGER);\n",
    );
    let other = db.sibling();
    let doc = other
        .run(&["-m", "elsewhere/migrations", "upgrade", "--format", "json"])
        .ok()
        .json();
    assert_eq!(
        doc["installed"]["baseline"],
        serde_json::json!([1, 2]),
        "{doc:#}"
    );
}

/// The reference's TOML example (docs/reference.md, "The TOML file") is a file the tool takes:
/// every key it shows is a setting, and `status -v` says the values came from the file.
#[test]
fn every_key_the_reference_shows_is_taken() {
    let block = crate::support::doc_toml_block("docs/reference.md", "database_url");
    let block = block.as_str();
    let env = Env::new();
    one(&env, "migrations");
    env.write("db-password", "unused\n");
    // The example's values, pointed at this directory and a SQLite file.
    let toml: String = block
        .lines()
        .map(|line| match line.split('=').next().map(str::trim) {
            Some("database_url") => "database_url = \"sqlite://x.sqlite3\"".to_string(),
            Some("password_file") => "password_file = \"db-password\"".to_string(),
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let keys: Vec<&str> = block
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim()))
        .collect();
    let mut shown = keys.clone();
    shown.sort_unstable();
    let mut taken = aurweb_migrate::settings::FILE_KEYS.to_vec();
    taken.sort_unstable();
    assert_eq!(
        shown, taken,
        "the reference's example shows exactly the keys the file takes"
    );
    env.write("aurweb-migrate.toml", &toml);
    let run = env.run(&["status", "-v"]);
    run.ok();
    for key in ["table", "lock_timeout", "connect_timeout", "migrations"] {
        if keys.contains(&key) {
            run.stdout_has("aurweb-migrate.toml");
        }
    }
}

/// Output options are per command: in the file they are an error naming the line and the
/// flag to use, never silently ignored; an unknown key lists the keys the file takes.
#[test]
fn output_options_in_the_file_name_the_flag() {
    let env = Env::new();
    one(&env, "migrations");
    for (line, flag) in [
        ("format = \"json\"", "--format"),
        ("log_format = \"json\"", "--log-format"),
        ("verbose = 1", "-v"),
        ("quiet = true", "-q"),
    ] {
        env.write("aurweb-migrate.toml", format!("table = \"t\"\n{line}\n"));
        env.run(&["status"])
            .code(2)
            .stderr_has("aurweb-migrate.toml:2")
            .stderr_has("not a config file setting")
            .stderr_has(&format!("pass {flag}"));
    }
    env.write("aurweb-migrate.toml", "tabel = \"t\"\n");
    env.run(&["status"])
        .code(2)
        .stderr_has("aurweb-migrate.toml:1")
        .stderr_has("tabel")
        .stderr_has("statement_timeout");
}

/// An unknown key names the file and line, suggests the accepted key closest to it, and lists
/// the accepted keys once (not serde's list of every name with the aliases and the flag-only
/// ones, followed by the file's list) (issue 29 item 12).
#[test]
fn an_unknown_key_suggests_the_closest_and_lists_the_keys_once() {
    let env = Env::new();
    one(&env, "migrations");
    for (text, line, key, meant) in [
        (
            "table = \"t\"\nmigration = \"x\"\n",
            2,
            "migration",
            Some("migrations"),
        ),
        ("tabel = \"t\"\n", 1, "tabel", Some("table")),
        ("lock-timout = 5\n", 1, "lock-timout", Some("lock_timeout")),
        ("host = \"db\"\n", 1, "host", None),
    ] {
        env.write("aurweb-migrate.toml", text);
        let run = env.run(&["status"]);
        let said = match meant {
            Some(k) => format!("unknown key `{key}`; did you mean `{k}`? accepted keys: "),
            None => format!("unknown key `{key}`; accepted keys: "),
        };
        run.code(2)
            .stderr_has(&format!("aurweb-migrate.toml:{line}: {said}database_url, "))
            .nowhere("expected one of");
        run.check(
            run.stderr.matches("statement_timeout").count() == 1,
            "the accepted keys are listed once",
        );
        for flag_only in ["`format`", "`quiet`", "ssl-mode"] {
            run.check(
                !run.stderr.contains(flag_only),
                &format!("{flag_only} is not an accepted key"),
            );
        }
    }
}

/// `status -v` shows the settings, and where each came from, even when the connection then
/// fails: that is when they are needed.
#[test]
fn status_verbose_shows_the_settings_when_the_connection_fails() {
    let env = Env::new();
    one(&env, "migrations");
    env.write("aurweb-migrate.toml", "lock_timeout = 7\n");
    // Port 1 on loopback: refused at once.
    let run = env.run(&[
        "status",
        "-v",
        "--connect-timeout",
        "2",
        "--database-url",
        "mysql://nobody@127.0.0.1:1/db",
    ]);
    run.code(3)
        .stdout_has("settings:")
        .stdout_has("mysql://nobody@127.0.0.1:1/db")
        .stdout_has("lock timeout    7s  (from ")
        .stdout_has("aurweb-migrate.toml")
        .stderr_has("cannot connect");
}

/// The file's TLS keys: a wrong mode names the line; a key readable by others is refused
/// before connecting; the URL's own parameters win over the file's.
#[test]
fn tls_keys_in_the_file() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    one(&env, "migrations");
    // A closed loopback port: nothing is reached but this machine.
    let url = "mysql://aur@127.0.0.1:1/aur";
    env.write(
        "aurweb-migrate.toml",
        format!("database_url = \"{url}\"\nssl_mode = \"maybe\"\n"),
    );
    env.run(&["status", "-v"])
        .code(2)
        .stderr_has("aurweb-migrate.toml:2")
        .stderr_has("verify-identity");
    let key = env.write("client.key", "not really a key\n");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    env.write(
        "aurweb-migrate.toml",
        format!(
            "database_url = \"{url}\"\nssl_mode = \"required\"\nssl_cert = \"client.pem\"\nssl_key = \"client.key\"\n"
        ),
    );
    env.run(&["status"])
        .code(2)
        .stderr_has("client.key: the key is readable by others (mode 640)");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    // The settings show what is in effect (the URL's ssl-mode wins); the connection to an
    // closed port then fails, exit 3, after the settings were printed.
    let run = env.run(&[
        "status",
        "-v",
        "--connect-timeout",
        "2",
        "--database-url",
        &format!("{url}?ssl-mode=verify-ca"),
    ]);
    run.code(3)
        .stdout_has("ssl-mode=verify-ca&ssl-cert=")
        .stdout_has("client.key");
}
