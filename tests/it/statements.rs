//! Statement splitting as seen from outside: quotes and comments holding `;`, trigger bodies,
//! and failing statements reported with the right `file:line`.

use crate::each_db;
use crate::support::Db;

each_db!(
    semicolons_inside_quotes_and_comments,
    sqlite_trigger_body_is_one_statement,
    failing_statement_line_counts_comments_and_multiline_statements,
);

fn semicolons_inside_quotes_and_comments(db: &Db) {
    db.migration(
        "0001_quotes.sql",
        "-- a comment; with a semicolon\n\
         CREATE TABLE q (id INTEGER PRIMARY KEY, v TEXT);\n\
         /* block; comment ; */\n\
         INSERT INTO q (v) VALUES ('a;b');\n\
         INSERT INTO q (v) VALUES ('it''s; fine');\n\
         CREATE TABLE \"odd;name\" (x INTEGER);\n",
    );
    db.run(&["upgrade"]).ok();
    assert_eq!(
        db.strings("SELECT v FROM q ORDER BY id"),
        ["a;b", "it's; fine"]
    );
    assert!(db.has_table("odd;name"));
    assert_eq!(db.history()[0].statements_total, 4);
}

fn sqlite_trigger_body_is_one_statement(db: &Db) {
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

fn failing_statement_line_counts_comments_and_multiline_statements(db: &Db) {
    db.migration(
        "0001_lines.sql",
        "-- header\n\
         CREATE TABLE a (\n\
         \x20 id INTEGER,\n\
         \x20 note TEXT DEFAULT 'x;y'\n\
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
    db.assert_tables(&[]);
}
