//! `new --autogenerate --redo`: the newest migration, an untouched draft of the generator,
//! replaced in one command under the same version (its files, the schema files'
//! `schema-version` lines, SQLite's rendering) — to follow a marker's advice to pass
//! `--rename`, say — and refused, naming why, when it is not a draft, was edited, or a
//! database has run it. On a generic project (not aurweb's), SQLite-only and with
//! `schema/mysql.sql` on the MariaDB server, databases of both dialects with rows in them.

use crate::support::{Db, Env};

const INIT: &str = "CREATE TABLE users (\n    id INT NOT NULL,\n    name VARCHAR(32) NOT NULL,\n    nick VARCHAR(32) NULL,\n    PRIMARY KEY (id)\n);\n";
const POSTS: &str = "CREATE TABLE posts (\n    id INT NOT NULL,\n    user_id INT NOT NULL,\n    body VARCHAR(200) NOT NULL,\n    PRIMARY KEY (id),\n    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE\n);\n";
const ROWS: &str = "INSERT INTO users (id, name, nick) VALUES (1, 'alice', 'al'), (2, 'bob', NULL);\nINSERT INTO posts (id, user_id, body) VALUES (1, 1, 'hello');\n";

/// The schema at version 2 (`before`) or edited (`nick` renamed to `handle`, `name` wider).
fn schema(version: u64, edited: bool) -> String {
    let (name, nick) = if edited {
        ("VARCHAR(64)", "handle")
    } else {
        ("VARCHAR(32)", "nick")
    };
    format!(
        "-- A generic project's schema.\n-- schema-version: {version}\n\nCREATE TABLE users (\n    id INT NOT NULL,\n    name {name} NOT NULL,\n    {nick} VARCHAR(32) NULL,\n    PRIMARY KEY (id)\n);\n\n{POSTS}"
    )
}

fn text(env: &Env, rel: &str) -> String {
    String::from_utf8(env.read(rel)).expect("UTF-8")
}

/// A project with two portable migrations and its schema file `file` (`sqlite.sql` or
/// `mysql.sql`), and `dbs` upgraded to version 2 with rows.
fn project(env: &Env, file: &str, dbs: &[&Db]) {
    env.migration("0001_users.sql", INIT);
    env.migration("0002_posts.sql", POSTS);
    env.write(format!("schema/{file}"), schema(2, false));
    for db in dbs {
        db.run(&["upgrade"]).ok();
        db.exec(ROWS);
    }
}

/// The rows survive the upgrade, the renamed column with its values.
fn rows_survive(db: &Db) {
    db.run(&["upgrade"]).ok();
    assert_eq!(db.count("users"), 2);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM users WHERE id = 1 AND handle = 'al' AND name = 'alice'"),
        1
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM users WHERE id = 2 AND handle IS NULL"),
        1
    );
    assert_eq!(db.count("posts"), 1);
    db.run(&["schema", "diff"]).ok();
}

/// The draft the edit gets has a rename-candidate marker that says to pass `--rename`; one
/// `--redo` with that flag replaces it.
fn first_draft_with_a_marker(env: &Env, args: &[&str], files: &[&str]) {
    let mut first = args.to_vec();
    first.extend(["new", "--autogenerate", "widen name"]);
    let run = env.run(&first);
    run.ok()
        .stdout_has("rename-candidate users.nick")
        .stdout_has("pass --rename users.nick=handle instead");
    let mut listed = env.ls("migrations");
    listed.sort();
    let mut expected: Vec<String> = ["0001_users.sql", "0002_posts.sql"]
        .iter()
        .chain(files)
        .map(|s| s.to_string())
        .collect();
    expected.sort();
    assert_eq!(listed, expected, "{}", run.stdout);
}

#[test]
fn a_redo_follows_the_rename_marker_in_one_command_on_sqlite() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    project(&env, "sqlite.sql", &[&db]);
    env.write("schema/sqlite.sql", schema(2, true));
    first_draft_with_a_marker(&env, &[], &["0003_widen_name.sql"]);
    assert!(text(&env, "migrations/0003_widen_name.sql").contains("review drop-column users.nick"));
    // A marker in the draft under review does not stop its own redo.
    let run = db.run(&[
        "new",
        "--autogenerate",
        "--redo",
        "--rename",
        "users.nick=handle",
    ]);
    run.ok()
        .stdout_has("migrations/0003_widen_name.sql\n")
        .stdout_has("replacing the earlier draft of version 3")
        .stdout_has("users: rename column nick -> handle")
        .nowhere("review");
    let mut listed = env.ls("migrations");
    listed.sort();
    assert_eq!(
        listed,
        ["0001_users.sql", "0002_posts.sql", "0003_widen_name.sql"]
    );
    let draft = text(&env, "migrations/0003_widen_name.sql");
    assert!(draft.starts_with("-- widen name\n"), "{draft}");
    assert!(
        !draft.contains("aurweb-migrate: review") && !draft.contains("DROP COLUMN"),
        "{draft}"
    );
    // SQLite rebuilds users for the wider name: the rename is the rebuild's mapping.
    assert!(
        draft.contains("SELECT id, name, nick FROM users;") && !draft.contains("RENAME COLUMN"),
        "{draft}"
    );
    assert!(text(&env, "schema/sqlite.sql").contains("\n-- schema-version: 3\n"));
    db.run(&["verify"]).ok();
    rows_survive(&db);
}

#[test]
fn a_redo_follows_the_rename_marker_in_one_command_on_mariadb() {
    let env = Env::new();
    let Some(server) = Db::mysql(&env, "redo_rename_marker") else {
        return;
    };
    let sqlite = Db::sqlite(&env);
    project(&env, "mysql.sql", &[&server, &sqlite]);
    let url = server.url().to_string();
    // sqlite.sql is the rendering of mysql.sql, as `new --autogenerate` keeps it.
    let rendered = env.run(&["-d", &url, "schema", "render", "--dialect", "sqlite"]);
    env.write("schema/sqlite.sql", &rendered.ok().stdout);
    env.run(&["-d", &url, "verify"]).ok();
    env.write("schema/mysql.sql", schema(2, true));
    let (mysql_file, sqlite_file) = (
        "migrations/0003_widen_name.mysql.sql",
        "migrations/0003_widen_name.sqlite.sql",
    );
    first_draft_with_a_marker(
        &env,
        &["-d", &url],
        &["0003_widen_name.mysql.sql", "0003_widen_name.sqlite.sql"],
    );
    let run = env.run(&[
        "-d",
        &url,
        "--format",
        "json",
        "new",
        "--autogenerate",
        "--redo",
        "renamed nick",
        "--rename",
        "users.nick=handle",
    ]);
    let doc = run.ok().json();
    assert_eq!(doc["version"], 3, "{doc:#}");
    assert_eq!(
        doc["replaced"],
        serde_json::json!([mysql_file, sqlite_file]),
        "{doc:#}"
    );
    assert_eq!(doc["review"], serde_json::json!([]), "{doc:#}");
    // A new description: new names, the old files gone, the same version.
    let mut listed = env.ls("migrations");
    listed.sort();
    assert_eq!(
        listed,
        [
            "0001_users.sql",
            "0002_posts.sql",
            "0003_renamed_nick.mysql.sql",
            "0003_renamed_nick.sqlite.sql"
        ]
    );
    let mysql = text(&env, "migrations/0003_renamed_nick.mysql.sql");
    assert!(
        mysql.contains("CHANGE COLUMN `nick` `handle` VARCHAR(32)") && !mysql.contains("DROP"),
        "{mysql}"
    );
    let sqlite_draft = text(&env, "migrations/0003_renamed_nick.sqlite.sql");
    assert!(
        sqlite_draft.contains("SELECT id, name, nick FROM users;"),
        "{sqlite_draft}"
    );
    for f in ["schema/mysql.sql", "schema/sqlite.sql"] {
        assert!(
            text(&env, f).contains("\n-- schema-version: 3\n"),
            "{f}: {}",
            text(&env, f)
        );
    }
    assert!(text(&env, "schema/sqlite.sql").contains("handle VARCHAR(32) NULL"));
    env.run(&["-d", &url, "verify"]).ok();
    rows_survive(&server);
    rows_survive(&sqlite);
    // Now that the MariaDB database ran it, it is not replaced again.
    env.run(&["-d", &url, "new", "--autogenerate", "--redo"])
        .code(5)
        .stderr_has("version 3 is recorded (applied) in ")
        .stderr_has(server.mysql_database())
        .stderr_has("nothing was written");
    assert!(env.exists("migrations/0003_renamed_nick.mysql.sql"));
}

/// What `--redo` leaves alone, each refusal naming why, nothing written: a hand-written
/// newest migration, an edited draft, a draft the configured database or `--probe-database`
/// has recorded. Deleting the review markers is no edit. A redo that finds no changes
/// removes the draft and moves the schema-version line back.
#[test]
fn a_redo_refuses_what_is_not_an_untouched_draft() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    project(&env, "sqlite.sql", &[&db]);
    let snapshot = |env: &Env| {
        let mut files: Vec<(String, String)> = env
            .ls("migrations")
            .into_iter()
            .map(|f| {
                let t = text(env, &format!("migrations/{f}"));
                (f, t)
            })
            .collect();
        files.sort();
        (files, text(env, "schema/sqlite.sql"))
    };
    // The newest migration is hand-written.
    env.write("schema/sqlite.sql", schema(2, true));
    let before = snapshot(&env);
    env.run(&["new", "--autogenerate", "--redo"])
        .code(2)
        .stderr_has("migrations/0002_posts.sql was not written by `new --autogenerate`")
        .stderr_has("nothing was written");
    assert!(snapshot(&env) == before);
    // A draft, edited.
    env.run(&["new", "--autogenerate", "widen name"]).ok();
    let draft = "migrations/0003_widen_name.sql";
    let written = text(&env, draft);
    env.write(
        draft,
        written.replace("DROP TABLE users;", "DROP TABLE users; -- by hand"),
    );
    let before = snapshot(&env);
    env.run(&[
        "new",
        "--autogenerate",
        "--redo",
        "--rename",
        "users.nick=handle",
    ])
    .code(2)
    .stderr_has("migrations/0003_widen_name.sql was edited since `new --autogenerate` wrote it");
    assert!(snapshot(&env) == before);
    // Its markers deleted (the review) and the edit undone: replaced.
    let reviewed: String = written
        .split_inclusive('\n')
        .filter(|l| !l.starts_with("-- aurweb-migrate: review "))
        .collect();
    env.write(draft, reviewed);
    env.run(&[
        "new",
        "--autogenerate",
        "--redo",
        "--rename",
        "users.nick=handle",
    ])
    .ok();
    // Recorded in a database the redo knows of: the configured one, or --probe-database.
    db.run(&["upgrade"]).ok();
    let before = snapshot(&env);
    db.run(&["new", "--autogenerate", "--redo"])
        .code(5)
        .stderr_has("version 3 is recorded (applied) in ")
        .stderr_has(&db.redacted_url());
    let probe = format!("sqlite://{}", env.join("test.sqlite3").display());
    env.run(&[
        "-d",
        &format!("sqlite://{}", env.join("other.sqlite3").display()),
        "new",
        "--autogenerate",
        "--redo",
        "--probe-database",
        &probe,
    ])
    .code(5)
    .stderr_has("version 3 is recorded (applied) in ");
    assert!(snapshot(&env) == before);
    // A database that does not exist knows nothing: the schema edit undone, the redo finds
    // no changes, removes the draft and moves the schema-version line back.
    env.write("schema/sqlite.sql", schema(3, false));
    env.run(&["new", "--autogenerate", "--redo"])
        .ok()
        .stdout_has("no changes")
        .stdout_has("the draft it replaced is removed:\n  migrations/0003_widen_name.sql\n")
        .stdout_has("schema/sqlite.sql (schema-version 2)");
    let mut listed = env.ls("migrations");
    listed.sort();
    assert_eq!(listed, ["0001_users.sql", "0002_posts.sql"]);
    assert_eq!(text(&env, "schema/sqlite.sql"), schema(2, false));
    env.run(&["verify"]).ok();
}
