//! `schema init`: a project other than aurweb, with migrations and no schema file, gets its
//! schema file(s) from a replay of the migrations — `mysql.sql` and its SQLite rendering on a
//! MySQL/MariaDB server, `sqlite.sql` as SQLite stored the statements otherwise — with the
//! newest migration's `schema-version` line; `verify` passes at once, and a fresh `upgrade` of
//! an empty database installs from it the schema a replay gives, seed rows included.

use crate::each_db;
use crate::support::{Db, Env};

/// A generic project: a portable migration, one with dialect variants (MySQL states a
/// table's character set and a column's collation), one with seed rows and an `ALTER TABLE`.
fn project(env: &Env) {
    env.migration(
        "0001_users.sql",
        "CREATE TABLE users (\n    id INT NOT NULL,\n    name VARCHAR(32) NOT NULL,\n    nick VARCHAR(32) NULL,\n    PRIMARY KEY (id)\n);\nCREATE INDEX users_name ON users (name);\n",
    );
    env.migration(
        "0002_posts.mysql.sql",
        "CREATE TABLE posts (\n    id INT UNSIGNED NOT NULL AUTO_INCREMENT,\n    user_id INT NOT NULL,\n    body TEXT NOT NULL,\n    slug VARCHAR(40) COLLATE utf8mb4_bin NOT NULL,\n    PRIMARY KEY (id),\n    UNIQUE KEY posts_slug (slug),\n    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;\n",
    );
    env.migration(
        "0002_posts.sqlite.sql",
        "CREATE TABLE posts (\n    id INTEGER NOT NULL PRIMARY KEY,\n    user_id INT NOT NULL,\n    body TEXT NOT NULL,\n    slug VARCHAR(40) NOT NULL,\n    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE\n);\nCREATE UNIQUE INDEX posts_slug ON posts (slug);\n",
    );
    env.migration(
        "0003_kinds.sql",
        "CREATE TABLE kinds (\n    id INT NOT NULL,\n    label VARCHAR(20) NOT NULL DEFAULT '',\n    PRIMARY KEY (id)\n);\nINSERT INTO kinds (id, label) VALUES (1, 'plain'), (2, 'it''s');\nALTER TABLE users ADD COLUMN kind_id INT NULL;\n",
    );
}

fn text(env: &Env, rel: &str) -> String {
    String::from_utf8(env.read(rel)).expect("UTF-8")
}

each_db!(init_writes_a_schema_that_verifies_and_installs);

fn init_writes_a_schema_that_verifies_and_installs(db: &Db) {
    let env = db.env;
    project(env);
    let replayed = db.sibling();
    if db.is_mysql() {
        // Tables whose migrations state no character set take the database's default, in a
        // fresh install from the file as in a replay: the file does not state it for them.
        for d in [db, &replayed] {
            d.exec(&format!(
                "ALTER DATABASE `{}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
                d.mysql_database()
            ));
        }
    }
    let files: &[&str] = if db.is_mysql() {
        &["schema/mysql.sql", "schema/sqlite.sql"]
    } else {
        &["schema/sqlite.sql"]
    };
    let run = db.run(&["schema", "init"]);
    run.ok();
    for f in files {
        run.stdout_has(&format!("{f} (schema-version 3): "));
        let t = text(env, f);
        assert!(t.contains("\n-- schema-version: 3\n"), "{f}:\n{t}");
    }
    // Written whole: nothing else in the directory (no temporary file left).
    let mut listed = env.ls("schema");
    listed.sort();
    let expected: Vec<String> = files
        .iter()
        .map(|f| f.trim_start_matches("schema/").to_string())
        .collect();
    assert_eq!(listed, expected);
    if db.is_mysql() {
        let mysql = text(env, "schema/mysql.sql");
        assert!(
            mysql.contains(") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;")
                && mysql.contains("CREATE TABLE `users` (\n  `id` INT NOT NULL,")
                && mysql.contains(
                    "INSERT INTO `kinds` (`id`, `label`) VALUES\n\t(1, 'plain'),\n\t(2, 'it''s');"
                )
                && !mysql.contains("utf8mb4_general_ci"),
            "{mysql}"
        );
        assert!(text(env, "schema/sqlite.sql")
            .contains("`aurweb-migrate schema render --dialect sqlite`"));
    } else {
        let sqlite = text(env, "schema/sqlite.sql");
        assert!(
            sqlite.contains("CREATE UNIQUE INDEX posts_slug ON posts (slug);")
                && sqlite.contains(
                    "INSERT INTO kinds (id, label) VALUES\n\t(1, 'plain'),\n\t(2, 'it''s');"
                ),
            "{sqlite}"
        );
    }
    // An existing file is kept unless --force.
    let before: Vec<String> = files.iter().map(|f| text(env, f)).collect();
    db.run(&["schema", "init"])
        .code(2)
        .stderr_has(&format!("schema init: {} exists; pass --force", files[0]))
        .stderr_has("nothing was written");
    let again = db.run(&["--format", "json", "schema", "init", "--force"]);
    let doc = again.ok().json();
    assert_eq!(doc["version"], 3, "{doc:#}");
    assert_eq!(doc["files"], serde_json::json!(files), "{doc:#}");
    let after: Vec<String> = files.iter().map(|f| text(env, f)).collect();
    assert_eq!(before, after);

    db.run(&["verify"]).ok();

    // A fresh install from the file gives what a replay gives, seed rows included.
    db.run(&["upgrade"])
        .ok()
        .stdout_has(&format!("built the database from {}", files[0]));
    assert_eq!(
        db.states(),
        [
            (1, "baseline".to_string()),
            (2, "baseline".to_string()),
            (3, "baseline".to_string())
        ]
    );
    replayed.run(&["upgrade", "--replay"]).ok();
    let dump = |d: &Db| d.run(&["schema", "dump"]).ok().stdout.clone();
    assert_eq!(dump(db), dump(&replayed));
    for d in [db, &replayed] {
        assert_eq!(
            d.strings("SELECT label FROM kinds ORDER BY id"),
            ["plain", "it's"]
        );
        d.run(&["schema", "diff"]).ok();
        d.run(&["check", "--drift"]).ok();
    }
    // From here the project works as aurweb's does: an edit of the schema file, the migration
    // `new --autogenerate` writes for it, and both databases take it with their rows.
    for d in [db, &replayed] {
        d.exec("INSERT INTO users (id, name, nick, kind_id) VALUES (1, 'alice', 'al', 2)");
        d.exec("INSERT INTO posts (id, user_id, body, slug) VALUES (1, 1, 'hello', 'hello')");
    }
    let (source, column) = if db.is_mysql() {
        (
            "schema/mysql.sql",
            (
                "`kind_id` INT NULL",
                "`kind_id` INT NULL,\n  `email` VARCHAR(254) NULL",
            ),
        )
    } else {
        (
            "schema/sqlite.sql",
            (
                "kind_id INT NULL",
                "kind_id INT NULL, email VARCHAR(254) NULL",
            ),
        )
    };
    let edited = text(env, source);
    assert!(edited.contains(column.0), "{edited}");
    env.write(source, edited.replacen(column.0, column.1, 1));
    db.run(&["new", "--autogenerate", "users email"])
        .ok()
        .stdout_has("users: add column email VARCHAR(254) NULL");
    for f in files {
        assert!(text(env, f).contains("\n-- schema-version: 4\n"), "{f}");
    }
    db.run(&["verify"]).ok();
    for d in [db, &replayed] {
        d.run(&["upgrade"]).ok();
        assert_eq!(
            d.scalar("SELECT COUNT(*) FROM users WHERE id = 1 AND nick = 'al' AND kind_id = 2 AND email IS NULL"),
            1
        );
        assert_eq!(d.count("posts"), 1);
        d.run(&["schema", "diff"]).ok();
    }
    assert_eq!(dump(db), dump(&replayed));
}

/// What `schema init` refuses: MySQL's file without a server; the built-in migrations.
#[test]
fn init_needs_a_server_for_mysql_and_a_project() {
    let env = Env::new();
    project(&env);
    env.run(&["schema", "init", "--dialect", "mysql"])
        .code(2)
        .stderr_has("schema init --dialect mysql replays the migrations")
        .stderr_has("-d mysql://");
    assert!(!env.exists("schema"));
    let bare = Env::new();
    bare.run(&["schema", "init"])
        .code(2)
        .stderr_has("no migrations directory here");
    bare.run(&["-m", "builtin", "schema", "init"])
        .code(2)
        .stderr_has("schema init writes the schema file of a project's migrations");
    assert!(!bare.exists("schema"));
}
