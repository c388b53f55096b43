//! The migrations and schema built into the binary: used only when asked for (`-m builtin`,
//! `migrations = "builtin"`, or aurweb's config naming the database where there is no
//! `./migrations`), in a directory holding nothing else (the harness starts the tool with an
//! empty environment, see `support`). Anywhere else a missing `./migrations` is an error.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::aurweb::{aurweb_file_count, aurweb_head, wipe};
use crate::each_db;
use crate::support::{Db, Env};

each_db!(
    upgrade_builds_aurweb_head_from_the_embedded_schema,
    without_a_migrations_directory_nothing_is_installed,
);

/// `sha256-v1:` checksums of the repository's migration files that `dialect` uses, by version:
/// the dialect's own variant where there is one, else the portable file.
fn repository_checksums(dialect: &str) -> BTreeMap<i64, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut chosen: BTreeMap<i64, (bool, Vec<u8>)> = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("the repository has migrations/") {
        let entry = entry.expect("a directory entry");
        let name = entry.file_name().into_string().expect("UTF-8 name");
        let Some(stem) = name.strip_suffix(".sql") else {
            continue;
        };
        let mut parts = stem.split('.');
        let base = parts.next().unwrap();
        let suffix: Vec<&str> = parts.collect();
        let specific = match suffix.as_slice() {
            [] => false,
            [d] if *d == dialect => true,
            _ => continue, // the other dialect's variant, or a reverse file
        };
        let version: i64 = base.split('_').next().unwrap().parse().expect("a version");
        let bytes = std::fs::read(entry.path()).expect("readable");
        assert!(
            !bytes.contains(&b'\r') && !bytes.starts_with(b"\xEF\xBB\xBF"),
            "{name}: the repository's files are LF without BOM, so they hash as they are"
        );
        if chosen.get(&version).is_none_or(|c| !c.0) {
            chosen.insert(version, (specific, bytes));
        }
    }
    chosen
        .into_iter()
        .map(|(v, (_, bytes))| {
            let hex: String = Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            (v, format!("sha256-v1:{hex}"))
        })
        .collect()
}

/// An empty directory whose config asks for the built-in set: `upgrade` builds aurweb's head
/// from the embedded schema and records 1..=head with the checksums of the repository's files;
/// the commands that compare with the schema or read the files work on the embedded set too.
fn upgrade_builds_aurweb_head_from_the_embedded_schema(db: &Db) {
    assert!(!db.env.exists("migrations") && !db.env.exists("schema"));
    db.env
        .write("aurweb-migrate.toml", "migrations = \"builtin\"\n");
    let run = db.run(&["upgrade"]);
    run.ok().stdout_has(&format!(
        "built the database from <embedded>/schema/{}.sql",
        db.dialect()
    ));
    let history = db.history();
    assert_eq!(
        history.iter().map(|r| r.version).collect::<Vec<_>>(),
        (1..=aurweb_head()).collect::<Vec<_>>(),
        "{history:?}"
    );
    let expected = repository_checksums(db.dialect());
    assert_eq!(expected.len() as i64, aurweb_head());
    for row in &history {
        assert_eq!(
            Some(&row.checksum),
            expected.get(&row.version),
            "version {}: the embedded file's checksum is the repository file's",
            row.version
        );
    }
    assert_eq!(db.tables().len(), 31, "aurweb's 30 tables and ours");
    assert_eq!(db.count("RequestTypes"), 4, "seed rows incl. adoption");

    // The same checksums through the files' own listing, and nothing left to do.
    let doc = db.run(&["history", "--format", "json"]).ok().json();
    let listed: BTreeMap<i64, String> = doc["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .map(|m| {
            assert!(
                m["file"]
                    .as_str()
                    .unwrap()
                    .starts_with("<embedded>/migrations/"),
                "{m}"
            );
            (
                m["version"].as_i64().unwrap(),
                m["checksum"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(listed, expected);
    let again = db.run(&["upgrade", "--format", "json"]).ok().json();
    assert_eq!(again["changed"], false, "{again:#}");
    db.run(&["check", "--drift"]).ok();
    db.run(&["schema", "diff"])
        .ok()
        .stdout_has("same: the database's schema equals");

    // A database with Alembic's table and no history of ours, at aurweb's head (17), is
    // adopted from the embedded set and brought to ours.
    wipe(db);
    db.run(&["upgrade", "--to", "17", "-q"]).ok();
    db.exec("DROP TABLE aurweb_migrations");
    db.exec("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)");
    db.exec("INSERT INTO alembic_version VALUES ('d9b3f27c8e51')");
    db.run(&["adopt", "--from", "alembic"]).ok();
    assert_eq!(db.history().len(), 17);
    db.run(&["upgrade", "-q"]).ok();
    assert_eq!(db.history().len() as i64, aurweb_head());
    db.run(&["check", "--drift"]).ok();
}

/// Issue 29 item 4: in a directory without `./migrations` and without a setting asking for the
/// built-in set, every command that reads migrations is an input error (exit 2, with `-q` and
/// in JSON too) that names where the tool looked and how to go on; nothing is installed and
/// (SQLite) no database file is created. Asked for with `-m builtin`, aurweb's tables are.
fn without_a_migrations_directory_nothing_is_installed(db: &Db) {
    let looked = format!(
        "error: no migrations directory here: {} does not exist, and there is no {}; create it with `aurweb-migrate new DESCRIPTION`, pass -m DIR, or use aurweb's migrations built into this binary with `-m builtin` (`migrations = \"builtin\"` in aurweb-migrate.toml)",
        db.env.join("migrations").display(),
        db.env.join("aurweb-migrate.toml").display()
    );
    for args in [
        &["upgrade"][..],
        &["upgrade", "-q"],
        &["upgrade", "--dry-run"],
        &["status"],
        &["check"],
        &["history"],
    ] {
        db.run(args).code(2).stderr_has(&looked);
    }
    let doc = db.run(&["upgrade", "--format", "json"]).code(2).json();
    assert_eq!(doc["error"]["kind"], "usage", "{doc:#}");
    assert_eq!(doc["changed"], false, "{doc:#}");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&db.env.join("migrations").display().to_string()),
        "{doc:#}"
    );
    assert_eq!(db.tables(), Vec::<String>::new(), "nothing installed");
    if db.is_sqlite() {
        assert!(!db.exists(), "no database file created");
    }
    // The default database too: not created.
    db.env.run(&["upgrade"]).code(2).stderr_has(&looked);
    assert!(!db.env.exists("aurweb.sqlite3"));

    // A config file that names no migrations is named as the place looked at.
    db.env.write("aurweb-migrate.toml", "lock_timeout = 5\n");
    db.run(&["upgrade"]).code(2).stderr_has(&format!(
        "and {} names none; ",
        db.env.join("aurweb-migrate.toml").display()
    ));
    db.env.remove("aurweb-migrate.toml");

    // Asked for: aurweb's tables.
    db.run(&["-m", "builtin", "upgrade", "-q"]).ok();
    assert_eq!(db.tables().len(), 31, "aurweb's 30 tables and ours");
    assert_eq!(db.history().len() as i64, aurweb_head());
    db.run(&["-m", "builtin", "check"]).ok();
    // Asked for by name, the built-in set goes without a note.
    let run = db.run(&["-m", "builtin", "status"]);
    run.ok();
    assert!(!run.stderr.contains("note:"), "{}", run.stderr);
}

#[test]
fn status_verbose_names_the_embedded_source() {
    let env = Env::new();
    let run = env.run(&["-m", "builtin", "status", "-v"]);
    run.ok()
        .stdout_has(&format!(
            "  migrations      embedded ({} migrations in {} files, aurweb-migrate ",
            aurweb_head(),
            aurweb_file_count()
        ))
        .stdout_has("(from command line)")
        .stdout_has("  schema          embedded  (from default: goes with the embedded migrations)")
        .stdout_has("pending    1  baseline  [<embedded>/migrations/0001_baseline.sqlite.sql:")
        .stdout_has(&format!("current version: none, {} pending", aurweb_head()));
    let doc = env
        .run(&["-m", "builtin", "status", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["embedded"], true, "{doc:#}");
    assert_eq!(doc["migrations_dir"], "<embedded>/migrations", "{doc:#}");
    assert_eq!(doc["pending"], aurweb_head(), "{doc:#}");
    assert!(!env.exists("aurweb.sqlite3"), "status creates no database");
    // From the config file, and chosen because aurweb's config names the database.
    env.write("aurweb-migrate.toml", "migrations = \"builtin\"\n");
    env.run(&["status", "-v"]).ok().stdout_has(&format!(
        "  (from config file {})",
        env.join("aurweb-migrate.toml").display()
    ));
    env.remove("aurweb-migrate.toml");
    let ini = env.write(
        "aurweb/config",
        "[database]\nbackend = sqlite\nname = aur.db\n",
    );
    env.cmd(["status", "-v"])
        .env("AUR_CONFIG", &ini)
        .run()
        .ok()
        .stdout_has(&format!(
            "(from default: ./migrations not found, and the database comes from aurweb config {})",
            ini.display()
        ));
    // A directory called `builtin` makes the word ambiguous; ./builtin is the directory.
    env.write("builtin/0001_mine.sql", "CREATE TABLE mine (id INTEGER);\n");
    env.run(&["-m", "builtin", "status"])
        .code(2)
        .stderr_has("\"builtin\" names the migrations built into this binary, but there is also a directory")
        .stderr_has("write ./builtin for the directory");
    env.run(&["-m", "./builtin", "status"])
        .ok()
        .stdout_has("pending   1  mine");
}

/// A `./migrations` directory is used instead of the embedded set, with `./schema` beside it;
/// a `./schema` without `./migrations` is never used with the embedded set.
#[test]
fn a_migrations_directory_present_is_used_instead() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    // A schema that would fail if it were read.
    env.write(
        "schema/sqlite.sql",
        "-- schema-version: 1\nCREATE TABLE broken (;\n",
    );
    db.run(&["-m", "builtin", "upgrade"])
        .ok()
        .stdout_has("built the database from <embedded>/schema/sqlite.sql");
    assert_eq!(db.history().len() as i64, aurweb_head());

    let env = Env::new();
    let db = Db::sqlite(&env);
    env.migration("0001_mine.sql", "CREATE TABLE mine (id INTEGER);\n");
    let run = db.run(&["status", "-v"]);
    run.ok()
        .stdout_has(&format!(
            "  migrations      {}  (from default)",
            env.join("migrations").display()
        ))
        .stdout_has(&format!(
            "  schema          {}  (from default)",
            env.join("schema").display()
        ))
        .stdout_has("1  mine  [migrations/0001_mine.sql")
        .nowhere("embedded");
    db.run(&["upgrade"]).ok();
    assert_eq!(db.tables(), ["aurweb_migrations", "mine"]);
    let doc = db.run(&["status", "--format", "json"]).ok().json();
    assert_eq!(doc["embedded"], false, "{doc:#}");
    assert_eq!(doc["migrations_dir"], "migrations", "{doc:#}");
}

/// `new` in a directory without `./migrations` creates it; with the built-in set asked for it
/// refuses (those are not files).
#[test]
fn new_creates_migrations_and_refuses_the_embedded_set() {
    let env = Env::new();
    env.run(&["-m", "builtin", "new", "add foo"])
        .code(2)
        .stderr_has("built into aurweb-migrate")
        .stderr_has("create a migrations directory (mkdir migrations) or pass -m DIR");
    assert!(!env.exists("migrations"), "nothing written");
    let doc = env
        .run(&["-m", "builtin", "new", "--format", "json", "add foo"])
        .code(2)
        .json();
    assert_eq!(doc["error"]["kind"], "usage", "{doc:#}");
    assert!(!env.exists("migrations"), "nothing written");
    env.run(&["new", "add foo"]).ok().stdout_has("migrations/");
    assert_eq!(env.ls("migrations").len(), 1);
    // The way out it names: -m DIR (created as before) writes there.
    env.run(&["new", "-m", "mine", "add foo"])
        .ok()
        .stdout_has("mine/");
    assert_eq!(env.ls("mine").len(), 1);
}

/// A configured migrations directory that does not exist is an error, never a silent switch to
/// the embedded set.
#[test]
fn a_configured_directory_that_does_not_exist_is_still_an_error() {
    let env = Env::new();
    env.run(&["-m", "nope", "status"])
        .code(2)
        .stderr_has("migrations directory nope does not exist");
    env.write("aurweb-migrate.toml", "migrations = \"gone\"\n");
    env.run(&["status"])
        .code(2)
        .stderr_has("does not exist")
        .stderr_has("gone");
}

/// The built-in set chosen because aurweb's config names the database (no flag or setting
/// named it) is visible: every human-format command that touches a database says on stderr,
/// in one line, that the built-in set is in use and why; commands that touch none, `-q`, and
/// JSON (which has `embedded`) do not.
#[test]
fn the_built_in_set_is_announced_where_a_database_is_touched() {
    let env = Env::new();
    let ini = env.write(
        "aurweb/config",
        "[database]\nbackend = sqlite\nname = aur.db\n",
    );
    let run = |args: &[&str]| env.cmd(args).env("AUR_CONFIG", &ini).run();
    let note = format!(
        "note: no ./migrations here, and the database comes from aurweb config {}: using the migrations built into this binary, embedded (",
        ini.display()
    );
    for args in [
        &["status"][..],
        &["check"],
        &["upgrade", "--dry-run"],
        &["upgrade"],
        &["schema", "dump"],
    ] {
        let run = run(args);
        let lines: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.starts_with("note:"))
            .collect();
        assert_eq!(lines.len(), 1, "{args:?}: {}", run.stderr);
        assert!(lines[0].starts_with(&note), "{args:?}: {}", lines[0]);
        assert!(
            lines[0].contains(&format!("{} migrations", aurweb_head())),
            "{}",
            lines[0]
        );
    }
    for args in [
        &["history"][..],
        &["status", "-q"],
        &["status", "--format", "json"],
        &["upgrade", "--sql", "--dialect", "sqlite"],
    ] {
        let run = run(args);
        assert!(!run.stderr.contains("note:"), "{args:?}: {}", run.stderr);
    }
    // With a migrations directory there is nothing to announce.
    env.migration("0001_mine.sql", "CREATE TABLE mine (id INTEGER);\n");
    let run = run(&["status"]);
    assert!(!run.stderr.contains("note:"), "{}", run.stderr);
}
