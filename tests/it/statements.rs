//! Statement splitting as seen from outside: quotes and comments holding `;`, trigger bodies,
//! and failing statements reported with the right `file:line`.

use crate::each_db;
use crate::support::{Db, Env};

each_db!(
    many_statements_fail_at_the_right_line,
    dash_dash_lines_before_a_statement_are_comments,
    semicolons_inside_quotes_and_comments,
    failing_statement_line_counts_comments_and_multiline_statements,
);

/// A migration of many small statements (SQLite runs those on its handle directly, MySQL as one
/// group after the CREATE TABLE): all of them apply, and one that fails is named by its own
/// line, with nothing of its transaction left.
fn many_statements_fail_at_the_right_line(db: &Db) {
    let mut sql = String::from("CREATE TABLE m (x INTEGER PRIMARY KEY);\n");
    for i in 0..40 {
        sql.push_str(&format!("INSERT INTO m (x) VALUES ({i});\n"));
    }
    db.migration("0001_many.sql", &sql);
    let mut bad = sql.clone();
    bad.push_str(
        "-- a comment line\nINSERT INTO m (x) VALUES (7);\nINSERT INTO m (x) VALUES (99);\n",
    );
    db.migration(
        "0002_bad.sql",
        &bad.replace("CREATE TABLE m", "CREATE TABLE n")
            .replace("INTO m", "INTO n"),
    );
    db.run(&["upgrade", "--to", "1"]).ok();
    assert_eq!(db.count("m"), 40);
    db.run(&["upgrade"])
        .code(4)
        .stderr_has("0002_bad.sql:43:")
        .stderr_has(if db.is_sqlite() {
            "UNIQUE constraint failed"
        } else {
            "Duplicate entry"
        });
    if db.is_sqlite() {
        assert!(!db.has_table("n"), "rolled back as a whole");
    } else {
        assert_eq!(db.count("n"), 0, "the group of INSERTs was rolled back");
    }
}

/// `--` with no space after it, before a statement's first token, is a comment as the mariadb
/// client reads it (Icinga 2.0.0's schema has `--#2274`, a hydra reverse file `--DROP INDEX
/// …`); the server alone would fail on it. On SQLite `--` is always a comment.
fn dash_dash_lines_before_a_statement_are_comments(db: &Db) {
    db.migration(
        "0001_icinga.sql",
        "--#2274\nCREATE TABLE t (x INTEGER);\nCREATE INDEX t_x ON t (x); --no space here either\n  --indented\nINSERT INTO t (x) VALUES (1);\n",
    );
    db.migration(
        "0001_icinga.down.sql",
        "--DROP INDEX t_x ON t;\nDROP TABLE t;\n",
    );
    db.run(&["upgrade"]).ok();
    assert_eq!(db.count("t"), 1);
    assert_eq!(db.history()[0].statements_total, 3);
    db.run(&["downgrade", "--to", "0"]).ok();
    assert!(!db.has_table("t"));
}

fn semicolons_inside_quotes_and_comments(db: &Db) {
    // A quoted identifier: ANSI double quotes on SQLite, backticks on MySQL (where double
    // quotes make a string unless ANSI_QUOTES is on).
    let odd = if db.is_mysql() {
        "`odd;name`"
    } else {
        "\"odd;name\""
    };
    db.migration(
        "0001_quotes.sql",
        &format!(
            "-- a comment; with a semicolon\n\
             CREATE TABLE q (id INTEGER PRIMARY KEY, v TEXT);\n\
             /* block; comment ; */\n\
             INSERT INTO q (id, v) VALUES (1, 'a;b');\n\
             INSERT INTO q (id, v) VALUES (2, 'it''s; fine');\n\
             CREATE TABLE {odd} (x INTEGER);\n"
        ),
    );
    db.run(&["upgrade"]).ok();
    assert_eq!(
        db.strings("SELECT v FROM q ORDER BY id"),
        ["a;b", "it's; fine"]
    );
    assert!(db.has_table("odd;name"));
    assert_eq!(db.history()[0].statements_total, 4);
}

#[test]
fn sqlite_trigger_body_is_one_statement() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    db.migration(
        "0001_trigger.sql",
        "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT);\n\
         CREATE TABLE audit (what TEXT);\n\
         CREATE TRIGGER item_ai AFTER INSERT ON item\n\
         BEGIN\n\
         \x20 INSERT INTO audit (what) VALUES ('insert; ' || NEW.name);\n\
         \x20 UPDATE item SET name = upper(name) WHERE id = NEW.id;\n\
         END;\n\
         INSERT INTO item (name) VALUES ('x');\n",
    );
    db.run(&["upgrade"]).ok();
    assert_eq!(db.strings("SELECT what FROM audit"), ["insert; x"]);
    assert_eq!(db.strings("SELECT name FROM item"), ["X"]);
    assert_eq!(db.history()[0].statements_total, 4);
}

/// MySQL: a trigger body between `DELIMITER` lines is one statement; the `DELIMITER` lines
/// themselves are the client's, not statements.
#[test]
fn mysql_delimiter_trigger_body_is_one_statement() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    db.migration(
        "0001_trigger.sql",
        "CREATE TABLE item (id INTEGER PRIMARY KEY, name VARCHAR(20));\n\
         CREATE TABLE audit (what VARCHAR(40));\n\
         DELIMITER //\n\
         CREATE TRIGGER item_bi BEFORE INSERT ON item\n\
         FOR EACH ROW\n\
         BEGIN\n\
         \x20 INSERT INTO audit (what) VALUES (CONCAT('insert; ', NEW.name));\n\
         \x20 SET NEW.name = UPPER(NEW.name);\n\
         END//\n\
         DELIMITER ;\n\
         INSERT INTO item (id, name) VALUES (1, 'x');\n",
    );
    db.run(&["upgrade"]).ok();
    assert_eq!(db.strings("SELECT what FROM audit"), ["insert; x"]);
    assert_eq!(db.strings("SELECT name FROM item"), ["X"]);
    assert_eq!(db.history()[0].statements_total, 4);
}

/// MySQL: backslash escapes, double-quoted strings, `#` comments and `/*! … */` executable
/// comments, none of which ends a statement early.
#[test]
fn mysql_quoting_and_comments() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    db.migration(
        "0001_mysql.sql",
        "# a hash comment; with a semicolon\n\
         CREATE TABLE q (id INTEGER PRIMARY KEY, v VARCHAR(40)) /*!50503 ENGINE=InnoDB */;\n\
         INSERT INTO q (id, v) VALUES (1, 'it\\'s; \\\\ fine');\n\
         INSERT INTO q (id, v) VALUES (2, \"double; \\\"quoted\\\"\");\n\
         INSERT INTO q (id, v) VALUES (3, 'x') # trailing; comment\n\
         ;\n",
    );
    db.run(&["upgrade"]).ok();
    assert_eq!(
        db.strings("SELECT v FROM q ORDER BY id"),
        ["it's; \\ fine", "double; \"quoted\"", "x"]
    );
    assert_eq!(db.history()[0].statements_total, 4);
}

fn failing_statement_line_counts_comments_and_multiline_statements(db: &Db) {
    db.migration(
        "0001_lines.sql",
        "-- header\n\
         CREATE TABLE a (\n\
         \x20 id INTEGER,\n\
         \x20 note VARCHAR(10) DEFAULT 'x;y'\n\
         );\n\
         \n\
         /* a\n\
         \x20  block comment */\n\
         INSERT INTO a (id) VALUES (1);\n\
         INSERT INTO\n\
         \x20 missing_table VALUES (2);\n",
    );
    db.run(&["upgrade"])
        .code(4)
        .stderr_has("0001_lines.sql:10:")
        .stderr_has("missing_table");
    if db.is_sqlite() {
        // Rolled back as a whole.
        db.assert_tables(&[]);
    } else {
        // CREATE TABLE committed; the two INSERTs after it are one transaction, rolled back
        // together: recorded as failed, with the progress of the committed step.
        db.assert_tables(&["a"]);
        assert_eq!(db.count("a"), 0);
        let h = db.history();
        assert_eq!(h[0].state, "failed", "{h:#?}");
        assert_eq!((h[0].statements_done, h[0].statements_total), (1, 3));
    }
}

/// MySQL: `DELIMITER '$$'` sets `$$`, as in the mariadb client; `DELIMITER` anywhere but at
/// the start of a line is an input error naming the line (the client would send it to the
/// server and fail there).
#[test]
fn mysql_delimiter_quoted_and_misplaced() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    db.migration(
        "0001_proc.sql",
        "DELIMITER '$$'\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END$$\nDELIMITER ;\nCREATE TABLE after_proc (x INT);\n",
    );
    db.run(&["upgrade"]).ok();
    assert!(db.has_table("after_proc"));
    assert_eq!(db.history()[0].statements_total, 2);
    db.migration(
        "0002_misplaced.sql",
        "SELECT 1;\nSELECT 2; DELIMITER $$\nSELECT 3$$\n",
    );
    db.run(&["upgrade"])
        .code(2)
        .stderr_has("0002_misplaced.sql:2: DELIMITER must start a line");
}

/// MySQL: the client's `\g` ends a statement like `;`; any other client command (`\q`, `\c`)
/// is an input error naming the line, never sent to the server.
#[test]
fn mysql_client_backslash_commands() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    db.migration(
        "0001_g.sql",
        "CREATE TABLE g (x INT)\\g\nINSERT INTO g VALUES (1)\\g\n",
    );
    db.run(&["upgrade"]).ok();
    assert_eq!(db.count("g"), 1);
    db.migration("0002_q.sql", "INSERT INTO g VALUES (2);\n\\q\n");
    db.run(&["upgrade"])
        .code(2)
        .stderr_has("0002_q.sql:2: \\q is a mariadb client command");
    assert_eq!(db.count("g"), 1);
}

/// MySQL: `\N` outside quotes is the server's NULL literal, sent as the mariadb client sends
/// it, not refused as a client command; a real client command (`\G` ends a statement, `\T`
/// is refused) is still one, its refusal naming file and line.
#[test]
fn mysql_backslash_n_is_null() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    db.migration(
        "0001_n.sql",
        "CREATE TABLE n (id INT PRIMARY KEY, v VARCHAR(10));\n\
         INSERT INTO n VALUES (1, 'one'), (2, \\N);\n\
         INSERT INTO n VALUES (3, 'x'),(4,\\N)\\G\n",
    );
    db.run(&["upgrade"]).ok();
    assert_eq!(db.count("n"), 4);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM n WHERE v IS NULL"), 2);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM n WHERE id = 2 AND v IS NULL"),
        1
    );
    db.migration(
        "0002_tee.sql",
        "INSERT INTO n VALUES (5, \\N);\n\n\\T /tmp/out.txt\n",
    );
    db.run(&["upgrade"])
        .code(2)
        .stderr_has("0002_tee.sql:3: \\T is a mariadb client command");
    assert_eq!(db.count("n"), 4);
}

// ---- the splitter against the mariadb client -------------------------------------------

/// A statement with its comments (not executable ones) and all whitespace taken out: what
/// two splitters must agree on, whatever each does with comments and blanks.
fn normalised(sql: &str) -> String {
    let b = sql.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\'' | b'"' | b'`' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != c {
                    if b[i] == b'\\' && c != b'`' {
                        i += 1;
                    }
                    i += 1;
                }
                i = (i + 1).min(b.len());
                out.push_str(&sql[start..i]);
                continue;
            }
            b'-' if b.get(i + 1) == Some(&b'-')
                && b.get(i + 2).is_none_or(|n| n.is_ascii_whitespace()) =>
            {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') && b.get(i + 2) != Some(&b'!') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                out.push(c as char);
                i += 1;
            }
        }
    }
    out
}

/// The statements the mariadb client sends for `file`, from its `-vvv` echo.
fn client_statements(db: &Db, file: &std::path::Path) -> Option<Vec<String>> {
    let parts = db.mysql_parts();
    let mut cmd = std::process::Command::new("mariadb");
    cmd.args([
        "-h",
        &parts.host,
        "-P",
        &parts.port.to_string(),
        "-u",
        &parts.user,
    ])
    .args(["--batch", "-vvv", db.mysql_database()])
    .stdin(std::fs::File::open(file).expect("the file"));
    if let Some(p) = &parts.password {
        cmd.env("MYSQL_PWD", p);
    }
    let out = cmd.output().ok()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut statements = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line == "--------------" {
            match current.take() {
                Some(s) => statements.push(s),
                None => current = Some(String::new()),
            }
            continue;
        }
        if let Some(s) = current.as_mut() {
            s.push_str(line);
            s.push('\n');
        }
    }
    Some(statements)
}

/// What the tool would execute for `0001_gen.sql`, from `upgrade --dry-run --format json`.
fn tool_statements(db: &Db) -> Vec<String> {
    let doc = db
        .run(&["upgrade", "--dry-run", "--format", "json"])
        .ok()
        .json();
    doc["pending"][0]["statements"]
        .as_array()
        .unwrap_or_else(|| panic!("{doc:#}"))
        .iter()
        .map(|s| s["sql"].as_str().expect("sql").to_string())
        .collect()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// Generated files of SELECTs with every kind of quote, comment, executable comment and
    /// DELIMITER block: the statements the tool executes are the ones the mariadb client
    /// sends (comments and blanks aside, which each treats its own way).
    #[test]
    fn mysql_statements_match_what_the_client_sends(
        pieces in proptest::collection::vec((0usize..12, 0usize..9), 1..12)
    ) {
        let env = Env::new();
        let Some(db) = Db::mysql(&env, module_path!()) else {
            return Ok(());
        };
        let items = [
            "'a;b'", "'it''s'", "'x\\'y'", "\"d;q\"", "'back\\\\slash'", "`c;1`.x",
            "1 /*!50000 + 1 */", "2 /* ; */", "3 -- ;\n", "4 # ;\n", "'--'", "'/*'",
        ];
        let between = ["", "\n", "-- note;\n", "# note;\n", "/* note; */\n", "--x;\n", "\n\n", "  ", "/* a\n b; */ "];
        let mut file = String::new();
        let mut i = 0;
        while i < pieces.len() {
            let (item, gap) = pieces[i];
            file.push_str(between[gap]);
            if item == 11 && gap % 3 == 0 {
                // A DELIMITER block holding two statements the client sends as one.
                file.push_str("DELIMITER $$\nSELECT 1; SELECT 'x;y'$$\nDELIMITER ;\n");
                i += 1;
                continue;
            }
            let mut stmt = String::from("SELECT ");
            let n = 1 + gap % 3;
            for k in 0..n {
                if k > 0 {
                    stmt.push_str(", ");
                }
                let piece = items[(item + k) % items.len()];
                // The dotted identifier needs its table.
                stmt.push_str(if piece.starts_with('`') { "1" } else { piece });
            }
            // `\N` (NULL) outside quotes, sent as the client sends it; `\g` ends a statement.
            if gap % 4 == 1 {
                stmt.push_str([", \\N", ", 1 + \\N", ",\\N,\\N"][item % 3]);
            }
            file.push_str(&stmt);
            file.push_str(if item % 5 == 0 { "\\g\n" } else { ";\n" });
            i += 1;
        }
        let path = db.migration("0001_gen.sql", &file);
        let Some(client) = client_statements(&db, &path) else {
            eprintln!("no mariadb client: the differential check is skipped");
            return Ok(());
        };
        let ours: Vec<String> = tool_statements(&db).iter().map(|s| normalised(s)).collect();
        let theirs: Vec<String> = client
            .iter()
            .map(|s| normalised(s))
            .filter(|s| !s.is_empty())
            .collect();
        proptest::prop_assert_eq!(ours, theirs, "file:\n{}", file);
    }
}

/// MySQL: where the mariadb client has a quirk (nested comments, a tab after a DELIMITER
/// argument), the tool keeps the server's rule and `check` warns with `file:line`.
#[test]
fn mysql_check_warns_on_client_quirks() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    db.migration(
        "0001_quirks.sql",
        "SELECT 1;\n/* outer /* inner */\nSELECT 2;\nDELIMITER $$\t\nSELECT 3$$\nDELIMITER ;\n",
    );
    let run = db.run(&["check"]);
    run.code(1)
        .stdout_has("warning: migrations/0001_quirks.sql:2: a `/*` inside a comment")
        .stdout_has(
            "warning: migrations/0001_quirks.sql:4: a tab right after the DELIMITER argument",
        );
    // The tool itself runs the file by the server's rules.
    db.run(&["upgrade"]).ok();
}
