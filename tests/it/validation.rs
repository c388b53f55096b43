//! Every migration file is validated before any database work: a bad file is exit 2 naming the
//! file (and line, where there is one), and the database is not even created.

use crate::each_db;
use crate::support::{Db, Env};

/// Writes `files` (plus a good migration 1000), runs `upgrade`, and asserts exit 2 with every
/// `expected` text on stderr and no database created. Also `status` and `history` refuse.
#[track_caller]
fn refused(files: &[(&str, &[u8])], expected: &[&str]) {
    let env = Env::new();
    let db = Db::sqlite(&env);
    env.migration("1000_good.sql", "CREATE TABLE good (id INTEGER);\n");
    for (name, bytes) in files {
        env.write(format!("migrations/{name}"), bytes);
    }
    for args in [&["upgrade"][..], &["status"], &["check"], &["history"]] {
        let run = db.run(args);
        run.code(2);
        for e in expected {
            run.stderr_has(e);
        }
    }
    let run = db.run(&["upgrade", "--format", "json"]);
    let doc = run.code(2).json();
    assert_eq!(doc["ok"], false, "{doc:#}");
    assert_eq!(doc["error"]["exit_code"], 2);
    assert!(!db.exists(), "the database was created");
    assert!(!env.exists("aurweb.sqlite3"));
}

#[test]
fn name_without_version() {
    refused(&[("init.sql", b"SELECT 1;\n")], &["init.sql"]);
}

#[test]
fn name_with_uppercase_slug() {
    refused(&[("1_Bad.sql", b"SELECT 1;\n")], &["1_Bad.sql"]);
}

#[test]
fn every_bad_name_is_listed() {
    refused(
        &[("init.sql", b"SELECT 1;\n"), ("2_Bad.sql", b"SELECT 1;\n")],
        &["init.sql", "2_Bad.sql"],
    );
}

#[test]
fn duplicate_versions() {
    refused(
        &[("1_a.sql", b"SELECT 1;\n"), ("01_b.sql", b"SELECT 2;\n")],
        &["1_a.sql", "01_b.sql", "duplicate"],
    );
}

#[test]
fn unknown_dialect_suffix() {
    refused(&[("1_a.pg.sql", b"SELECT 1;\n")], &["1_a.pg.sql"]);
}

#[test]
fn version_with_only_another_dialects_file() {
    refused(
        &[("1_a.mysql.sql", b"CREATE TABLE a (id INT) ENGINE=InnoDB;\n")],
        &["1_a.mysql.sql"],
    );
}

#[test]
fn non_utf8_content_names_file_and_line() {
    refused(
        &[(
            "1_a.sql",
            b"CREATE TABLE a (x TEXT);\nINSERT INTO a VALUES ('\xff');\n",
        )],
        &["1_a.sql:2", "UTF-8"],
    );
}

#[test]
fn empty_file() {
    refused(&[("1_a.sql", b"")], &["1_a.sql", "empty"]);
}

#[test]
fn whitespace_only_file() {
    refused(&[("1_a.sql", b"  \n\n\t\n")], &["1_a.sql", "empty"]);
}

#[test]
fn unterminated_string_names_file_and_line() {
    refused(
        &[(
            "1_a.sql",
            b"CREATE TABLE a (x TEXT);\n\nINSERT INTO a VALUES ('oops);\nCREATE TABLE b (y TEXT);\n",
        )],
        &["1_a.sql:3"],
    );
}

#[test]
fn unterminated_block_comment_names_file_and_line() {
    refused(
        &[(
            "1_a.sql",
            b"CREATE TABLE a (x TEXT);\n/* never closed;\nSELECT 1;\n",
        )],
        &["1_a.sql:2"],
    );
}

#[test]
fn unknown_directive() {
    refused(
        &[(
            "1_a.sql",
            b"-- aurweb-migrate: no-transactions\nSELECT 1;\n",
        )],
        &["1_a.sql:1"],
    );
}

/// A file name with `.SQL` is a mistake, not another kind of file: never skipped silently.
#[test]
fn uppercase_extension_is_an_input_error() {
    refused(
        &[("0004_add_x.SQL", b"CREATE TABLE x (id INTEGER);\n")],
        &["0004_add_x.SQL", "lower case", "0004_add_x.sql"],
    );
    refused(
        &[("0005_y.mysql.Sql", b"SELECT 1;\n")],
        &["0005_y.mysql.Sql"],
    );
}

/// A directive after the first statement would be ignored: an input error naming its line.
#[test]
fn directive_after_the_first_statement() {
    refused(
        &[(
            "1_a.sql",
            b"-- header\nCREATE TABLE a (id INTEGER);\n  -- aurweb-migrate: no-transaction\nCREATE TABLE b (id INTEGER);\n",
        )],
        &["1_a.sql:3", "after the first statement"],
    );
}

each_db!(late_input_mistakes_refused_on_every_dialect);

fn late_input_mistakes_refused_on_every_dialect(db: &Db) {
    db.migration("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
    db.env
        .write("migrations/0002_b.SQL", "CREATE TABLE b (id INTEGER);\n");
    db.run(&["upgrade"]).code(2).stderr_has("0002_b.SQL");
    db.env.remove("migrations/0002_b.SQL");
    db.migration(
        "0002_b.sql",
        "CREATE TABLE b (id INTEGER);\n-- aurweb-migrate: no-transaction\n",
    );
    db.run(&["upgrade"]).code(2).stderr_has("0002_b.sql:2");
    db.assert_tables(&[]);
}

#[test]
fn reverse_file_without_forward_file() {
    refused(&[("1_a.down.sql", b"DROP TABLE a;\n")], &["1_a.down.sql"]);
}

/// Files that are not `*.sql` (a README) and dot-files are ignored.
#[test]
fn other_files_are_ignored() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    env.migration("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
    env.write("migrations/README.md", "# migrations\n");
    env.write("migrations/.0002_swap.sql", "garbage");
    env.write("migrations/notes.txt", "not sql");
    db.run(&["upgrade"]).ok();
    db.assert_tables(&["a"]);
    assert_eq!(db.history().len(), 1);
}

/// A dialect variant replaces the portable file on its dialect.
#[test]
fn dialect_variant_replaces_the_portable_file() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    env.migration("0001_a.sql", "CREATE TABLE portable (id INTEGER);\n");
    env.migration("0001_a.sqlite.sql", "CREATE TABLE specific (id INTEGER);\n");
    env.migration(
        "0001_a.mysql.sql",
        "CREATE TABLE mysql_only (id INT) ENGINE=InnoDB;\n",
    );
    db.run(&["upgrade"]).ok();
    db.assert_tables(&["specific"]);
}

#[test]
fn use_statement_names_file_and_line() {
    refused(
        &[(
            "1001_switch.sql",
            b"CREATE TABLE a (id INTEGER);\nUSE other;\nCREATE TABLE b (id INTEGER);\n",
        )],
        &["migrations/1001_switch.sql:2: USE would switch the connection to another database"],
    );
    // Outside a transaction too: the history row would still land in the other database.
    refused(
        &[(
            "1001_switch.sql",
            b"-- aurweb-migrate: no-transaction\nSELECT 1;\n\nuse `other`;\n",
        )],
        &["migrations/1001_switch.sql:4: USE would switch"],
    );
}

/// On MySQL, where `USE` really would move the session: refused before anything runs, as a
/// plain statement and as a dump's executable comment, and the history stays as it was.
#[test]
fn use_statement_is_refused_on_mysql_before_anything_runs() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    env.migration("1_a.sql", "CREATE TABLE a (id INT);\n");
    db.run(&["upgrade", "-q"]).ok();
    for text in [
        "CREATE TABLE b (id INT);\nUSE mysql;\nCREATE TABLE c (id INT);\n",
        "CREATE TABLE b (id INT);\n/*!40101 USE mysql */;\nCREATE TABLE c (id INT);\n",
    ] {
        env.migration("2_b.sql", text);
        db.run(&["upgrade"])
            .code(2)
            .stderr_has("migrations/2_b.sql:2: USE would switch");
        assert_eq!(db.history().len(), 1);
        assert!(!db.has_table("b"), "nothing of the file ran");
    }
}
