//! Statement-level lints: what a statement or a file does that the runner or an operator must
//! know before it runs (an implicit commit on MySQL, a construct the mariadb client reads
//! differently, a Galera hazard). Each lint is a [`Lint`] value, found by reading the text
//! through the splitter's keyword scanner (none opens a database); its wording is its
//! `Display`, here beside it, so every place that reports a lint says it the same way.
//! [`Located`] adds the file and line; `source::Script::lints` and `Script::galera_lints` say
//! which lints apply to a file on a dialect.

use std::fmt;
use std::path::PathBuf;

use super::splitter;

/// What a statement or a file does that deserves a warning (it never fails a command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lint {
    /// MySQL: a file that is not `no-transaction` mixes `data` statements with `implicit`
    /// statements that commit implicitly, so it cannot run in one transaction.
    MixedImplicitCommits { data: usize, implicit: usize },
    /// MySQL: a file of `count` (more than one) statements that commit implicitly: a failure
    /// midway leaves the earlier ones applied.
    ImplicitCommits { count: usize },
    /// MySQL: a `/*` inside a comment (the mariadb client nests comments, the server does not).
    NestedComment,
    /// MySQL: a tab right after a `DELIMITER` argument (the mariadb client takes it into the
    /// delimiter).
    DelimiterTab,
    /// Galera: `LOCK TABLES`.
    GaleraLockTables,
    /// Galera: `GET_LOCK`, which is node-local.
    GaleraGetLock,
    /// Galera: a table in an engine other than InnoDB (uppercased as written), not replicated.
    NonInnodb { engine: String },
    /// Galera: `CREATE TABLE` without a primary key.
    NoPrimaryKey,
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const GALERA: &str = "on a Galera cluster: ";
        match self {
            Lint::MixedImplicitCommits { data, implicit } => write!(
                f,
                "mixes {data} data statement(s) with {implicit} implicit-commit statement(s); on MySQL/MariaDB it cannot be atomic, consider splitting it"
            ),
            Lint::ImplicitCommits { count } => write!(
                f,
                "holds {count} statements that commit implicitly; on MySQL/MariaDB a failure midway leaves the earlier ones applied"
            ),
            Lint::NestedComment => f.write_str("a `/*` inside a comment: the mariadb client reads nested comments, the server (and the tool) end the comment at the first `*/`; remove the inner `/*`"),
            Lint::DelimiterTab => f.write_str("a tab right after the DELIMITER argument: the mariadb client would take it into the delimiter, the tool does not; remove it"),
            Lint::GaleraLockTables => write!(f, "{GALERA}LOCK TABLES is not supported on a Galera cluster (it locks one node only, and Galera rejects explicit table locks in multi-master use)"),
            Lint::GaleraGetLock => write!(f, "{GALERA}GET_LOCK is node-local on a Galera cluster: it does not exclude a session on another node"),
            Lint::NonInnodb { engine } => write!(
                f,
                "{GALERA}a {engine} table is not replicated by Galera (only InnoDB is): use ENGINE=InnoDB"
            ),
            Lint::NoPrimaryKey => write!(f, "{GALERA}a table without a primary key: Galera needs one on every table (its rows replicate badly, and innodb_force_primary_key refuses it)"),
        }
    }
}

/// A lint with where it was found: the file, and the line of the statement or construct when
/// there is one (a lint of the whole file has none). Shown as `path:line: lint` or
/// `path: lint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub path: PathBuf,
    pub line: Option<u32>,
    pub lint: Lint,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.lint),
            None => write!(f, "{}: {}", self.path.display(), self.lint),
        }
    }
}

/// The atomicity lint of a MySQL file that runs in a transaction, from its number of
/// statements and of those that commit implicitly ([`mysql_commits_implicitly`]): a mix of
/// both cannot be atomic; several implicit commits leave part of the file applied on a
/// failure. `None`: one implicit commit at most and nothing else, or none at all.
pub fn atomicity(statements: usize, implicit: usize) -> Option<Lint> {
    if implicit > 0 && implicit < statements {
        Some(Lint::MixedImplicitCommits {
            data: statements - implicit,
            implicit,
        })
    } else if implicit > 1 {
        Some(Lint::ImplicitCommits { count: implicit })
    } else {
        None
    }
}

/// What a statement does that a Galera cluster handles badly or not at all, for `check` and
/// `upgrade --dry-run` on a cluster node: a table in an engine other than InnoDB (not
/// replicated), a table without a primary key, `LOCK TABLES`, `GET_LOCK`. `None`: nothing.
pub fn galera(statement: &str) -> Option<Lint> {
    let words = splitter::keywords(statement, 3);
    let upper = statement.to_ascii_uppercase();
    let first = words.first().map(String::as_str);
    let second = words.get(1).map(String::as_str);
    if first == Some("LOCK") && matches!(second, Some("TABLE" | "TABLES")) {
        return Some(Lint::GaleraLockTables);
    }
    if upper.contains("GET_LOCK(") || upper.contains("GET_LOCK (") {
        return Some(Lint::GaleraGetLock);
    }
    let creates = first == Some("CREATE") && second == Some("TABLE");
    let alters = first == Some("ALTER") && second == Some("TABLE");
    if creates || alters {
        if let Some(at) = upper.find("ENGINE") {
            let engine: String = upper[at + 6..]
                .trim_start_matches([' ', '\t', '\n', '='])
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !engine.is_empty() && engine != "INNODB" {
                return Some(Lint::NonInnodb { engine });
            }
        }
    }
    if creates
        && !upper.contains("PRIMARY KEY")
        && !upper.contains(" LIKE ")
        && !upper.contains("SELECT ")
    {
        return Some(Lint::NoPrimaryKey);
    }
    None
}

/// Constructs in a MySQL file that the `mariadb` client reads differently from the server,
/// where the tool keeps the server's rule: a `/*` inside a comment (the client tracks nested
/// comments, the server ends the comment at the first `*/`), and a tab right after a
/// `DELIMITER` argument (the client swallows it into the delimiter). Each with its 1-based
/// line, for `check` to warn about.
pub fn client_quirks(source: &str) -> Vec<(u32, Lint)> {
    let b = source.as_bytes();
    let mut out = Vec::new();
    let mut line = 1u32;
    let mut i = 0;
    let mut line_start = true;
    while i < b.len() {
        let c = b[i];
        if line_start {
            let rest = &source[i..];
            let trimmed = rest.trim_start_matches([' ', '\t']);
            let head: String = trimmed
                .chars()
                .take(10)
                .collect::<String>()
                .to_ascii_uppercase();
            if head.starts_with("DELIMITER ") || head.starts_with("DELIMITER\t") {
                let arg_line = trimmed[9..].lines().next().unwrap_or("");
                let arg = arg_line.trim_start_matches([' ', '\t']);
                let end = arg.find([' ', '\t']).unwrap_or(arg.len());
                if arg[end..].starts_with('\t') {
                    out.push((line, Lint::DelimiterTab));
                }
            }
        }
        line_start = false;
        match c {
            b'\n' => {
                line += 1;
                line_start = true;
                i += 1;
            }
            b'\'' | b'"' | b'`' => {
                i += 1;
                while i < b.len() && b[i] != c {
                    if b[i] == b'\\' && c != b'`' {
                        i += 1;
                    }
                    if i < b.len() && b[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    if b[i] == b'/' && b[i + 1] == b'*' {
                        out.push((line, Lint::NestedComment));
                    }
                    if b[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i += 2;
            }
            _ => i += 1,
        }
    }
    out
}

/// Whether a MySQL/MariaDB statement commits the current transaction implicitly, following
/// MariaDB's list of "SQL statements that cause an implicit commit": data definition
/// (`ALTER`/`CREATE`/`DROP` of databases, tables, indexes, views, triggers, routines, events,
/// sequences, servers; `RENAME TABLE`; `TRUNCATE TABLE`), account management (`CREATE`/`ALTER`/
/// `DROP`/`RENAME USER`, roles, `GRANT`, `REVOKE`, `SET PASSWORD`), `LOCK TABLES` /
/// `UNLOCK TABLES`, transaction control (`BEGIN`, `START TRANSACTION`, `SET autocommit`),
/// administration (`ANALYZE`, `CHECK`, `OPTIMIZE`, `REPAIR` table, `CACHE INDEX`,
/// `LOAD INDEX INTO CACHE`, `FLUSH`, `RESET`) and `INSTALL`/`UNINSTALL PLUGIN`. `CREATE` and
/// `DROP` of a `TEMPORARY TABLE` do not commit. A statement that starts with an executable
/// comment (`/*! … */`) is classified by its content when the comment is the whole statement,
/// and otherwise counts as committing: treating a statement as non-atomic is always safe, the
/// reverse is not; for the same reason `EXECUTE` (of a prepared statement) and `CALL` count as
/// committing.
pub fn mysql_commits_implicitly(statement: &str) -> bool {
    // A statement that is one executable comment (`/*!40101 SET NAMES utf8 */`, as dumps
    // write their session settings) is classified by what it holds.
    if let Some(inner) = splitter::executable_comment_body(statement) {
        return match inner.trim_end().strip_suffix("*/") {
            Some(inner) if !inner.contains("*/") && !inner.contains("/*") => {
                mysql_commits_implicitly(inner)
            }
            _ => true,
        };
    }
    let words = splitter::keywords(statement, 4);
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        [] => true, // executable comment or nothing recognisable: be safe
        ["CREATE" | "DROP", "TEMPORARY", ..] => false,
        ["CREATE" | "ALTER" | "DROP", ..] => true,
        ["RENAME", "TABLE" | "USER", ..] => true,
        ["TRUNCATE", ..] => true,
        ["GRANT" | "REVOKE", ..] => true,
        ["SET", "PASSWORD", ..] => true,
        ["SET", "AUTOCOMMIT", ..] | ["SET", "SESSION" | "LOCAL", "AUTOCOMMIT", ..] => true,
        ["SET", "DEFAULT", "ROLE", ..] => true,
        ["LOCK", "TABLE" | "TABLES", ..] | ["UNLOCK", "TABLE" | "TABLES", ..] => true,
        ["BEGIN", ..] => !matches!(w.get(1), Some(&"NOT")),
        ["START", "TRANSACTION", ..] => true,
        ["ANALYZE" | "CHECK" | "OPTIMIZE" | "REPAIR", ..] => true,
        ["CACHE", "INDEX", ..] => true,
        ["LOAD", "INDEX", ..] => true,
        ["FLUSH" | "RESET", ..] => true,
        ["INSTALL" | "UNINSTALL", ..] => true,
        // A prepared statement's or a procedure's text is not known here; it may be DDL
        // (aurweb's Sessions migration runs its ALTER TABLE through EXECUTE).
        ["EXECUTE", ..] | ["CALL", ..] => true,
        _ => false,
    }
}

/// Whether a MySQL statement is DDL that waits for an exclusive metadata lock on the tables it
/// names, which every later reader of those tables queues behind while it waits: `CREATE`,
/// `ALTER`, `DROP` (not of a `TEMPORARY TABLE`), `RENAME TABLE`, `TRUNCATE`, `LOCK TABLES`.
/// Such a statement that gives up its wait (`lock_wait_timeout`) did nothing, so it may be
/// tried again; `--ddl-lock-wait` bounds its wait. A statement in an executable comment is
/// classified by what it holds; `EXECUTE` and `CALL` are not (their text is not known).
pub fn waits_for_metadata_lock(statement: &str) -> bool {
    if let Some(inner) = splitter::executable_comment_body(statement) {
        return match inner.trim_end().strip_suffix("*/") {
            Some(inner) if !inner.contains("*/") && !inner.contains("/*") => {
                waits_for_metadata_lock(inner)
            }
            _ => false,
        };
    }
    let words = splitter::keywords(statement, 2);
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["CREATE" | "DROP", "TEMPORARY", ..] => false,
        ["CREATE" | "ALTER" | "DROP" | "TRUNCATE", ..] => true,
        ["RENAME", "TABLE"] | ["LOCK", "TABLE" | "TABLES"] => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    /// `statement` → what [`galera`] finds (`None` or the lint).
    fn check_galera(statement: &str, expected: Expect) {
        expected.assert_eq(&format!("{:?}", galera(statement)));
    }

    #[test]
    fn ddl_that_waits_for_a_metadata_lock() {
        for yes in [
            "ALTER TABLE t ADD COLUMN c INT",
            "create index i on t (a)",
            "DROP TABLE t",
            "RENAME TABLE a TO b",
            "TRUNCATE t",
            "LOCK TABLES t WRITE",
            "/*!40000 ALTER TABLE `t` DISABLE KEYS */",
        ] {
            assert!(waits_for_metadata_lock(yes), "{yes}");
        }
        for no in [
            "CREATE TEMPORARY TABLE x (a INT)",
            "DROP TEMPORARY TABLE x",
            "INSERT INTO t VALUES (1)",
            "SELECT 1",
            "UNLOCK TABLES",
            "EXECUTE s",
            "/*!40101 SET NAMES utf8 */",
        ] {
            assert!(!waits_for_metadata_lock(no), "{no}");
        }
    }

    #[test]
    fn galera_lints() {
        check_galera("LOCK TABLES t WRITE", expect!["Some(GaleraLockTables)"]);
        check_galera("lock table t read", expect!["Some(GaleraLockTables)"]);
        check_galera("SELECT GET_LOCK('x', 1)", expect!["Some(GaleraGetLock)"]);
        check_galera("DO get_lock ('x', 1)", expect!["Some(GaleraGetLock)"]);
        check_galera(
            "CREATE TABLE t (id INT PRIMARY KEY) ENGINE=MyISAM",
            expect![[r#"Some(NonInnodb { engine: "MYISAM" })"#]],
        );
        check_galera(
            "ALTER TABLE t ENGINE = Aria",
            expect![[r#"Some(NonInnodb { engine: "ARIA" })"#]],
        );
        check_galera(
            "CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB",
            expect!["None"],
        );
        check_galera("CREATE TABLE t (x INT)", expect!["Some(NoPrimaryKey)"]);
        check_galera("CREATE TABLE t LIKE u", expect!["None"]);
        check_galera("CREATE TABLE t AS SELECT 1", expect!["None"]);
        check_galera("ALTER TABLE t ADD COLUMN y INT", expect!["None"]);
        check_galera("INSERT INTO t VALUES (1)", expect!["None"]);
    }

    /// A MySQL file → the client quirks found in it, one `line: lint` each.
    fn check_quirks(source: &str, expected: Expect) {
        let found: Vec<String> = client_quirks(source)
            .iter()
            .map(|(line, lint)| format!("{line}: {lint:?}"))
            .collect();
        expected.assert_eq(&found.join("\n"));
    }

    #[test]
    fn client_quirks_are_found_with_their_lines() {
        check_quirks(
            "SELECT 1;\n/* outer /* inner */\nSELECT '/* not a comment';\nDELIMITER $$\t\nSELECT 2$$\n",
            expect![[r#"
                2: NestedComment
                4: DelimiterTab"#]],
        );
        check_quirks("DELIMITER $$\nSELECT 1$$\n/* plain */", expect![""]);
        check_quirks(
            "-- /* in a line comment\n# /* too\nSELECT '\n/*'",
            expect![""],
        );
        check_quirks("SELECT 1;\n/* a\n   b /* c */", expect!["3: NestedComment"]);
    }

    /// (statements, implicit commits) → the atomicity lint.
    fn check_atomicity(statements: usize, implicit: usize, expected: Expect) {
        expected.assert_eq(&format!("{:?}", atomicity(statements, implicit)));
    }

    #[test]
    fn atomicity_lints() {
        check_atomicity(3, 0, expect!["None"]);
        check_atomicity(1, 1, expect!["None"]);
        check_atomicity(
            3,
            1,
            expect!["Some(MixedImplicitCommits { data: 2, implicit: 1 })"],
        );
        check_atomicity(2, 2, expect!["Some(ImplicitCommits { count: 2 })"]);
        check_atomicity(
            5,
            2,
            expect!["Some(MixedImplicitCommits { data: 3, implicit: 2 })"],
        );
    }

    /// A lint at a place → the text every report of it prints.
    fn check_wording(line: Option<u32>, lint: Lint, expected: Expect) {
        let at = Located {
            path: "migrations/0001_x.sql".into(),
            line,
            lint,
        };
        expected.assert_eq(&at.to_string());
    }

    #[test]
    fn wording() {
        check_wording(
            None,
            Lint::MixedImplicitCommits {
                data: 2,
                implicit: 1,
            },
            expect!["migrations/0001_x.sql: mixes 2 data statement(s) with 1 implicit-commit statement(s); on MySQL/MariaDB it cannot be atomic, consider splitting it"],
        );
        check_wording(
            None,
            Lint::ImplicitCommits { count: 3 },
            expect!["migrations/0001_x.sql: holds 3 statements that commit implicitly; on MySQL/MariaDB a failure midway leaves the earlier ones applied"],
        );
        check_wording(
            Some(2),
            Lint::NestedComment,
            expect!["migrations/0001_x.sql:2: a `/*` inside a comment: the mariadb client reads nested comments, the server (and the tool) end the comment at the first `*/`; remove the inner `/*`"],
        );
        check_wording(
            Some(4),
            Lint::DelimiterTab,
            expect!["migrations/0001_x.sql:4: a tab right after the DELIMITER argument: the mariadb client would take it into the delimiter, the tool does not; remove it"],
        );
        check_wording(
            Some(3),
            Lint::GaleraLockTables,
            expect!["migrations/0001_x.sql:3: on a Galera cluster: LOCK TABLES is not supported on a Galera cluster (it locks one node only, and Galera rejects explicit table locks in multi-master use)"],
        );
        check_wording(
            Some(5),
            Lint::GaleraGetLock,
            expect!["migrations/0001_x.sql:5: on a Galera cluster: GET_LOCK is node-local on a Galera cluster: it does not exclude a session on another node"],
        );
        check_wording(
            Some(2),
            Lint::NonInnodb {
                engine: "MYISAM".into(),
            },
            expect!["migrations/0001_x.sql:2: on a Galera cluster: a MYISAM table is not replicated by Galera (only InnoDB is): use ENGINE=InnoDB"],
        );
        check_wording(
            Some(1),
            Lint::NoPrimaryKey,
            expect!["migrations/0001_x.sql:1: on a Galera cluster: a table without a primary key: Galera needs one on every table (its rows replicate badly, and innodb_force_primary_key refuses it)"],
        );
    }

    #[test]
    fn implicit_commits() {
        for yes in [
            "CREATE TABLE t (x INT)",
            "create index ix on t (x)",
            "ALTER TABLE t ADD COLUMN y INT",
            "DROP TABLE t",
            "RENAME TABLE a TO b",
            "TRUNCATE TABLE t",
            "GRANT ALL ON *.* TO u",
            "LOCK TABLES t WRITE",
            "CREATE USER u",
            "/*!50001 CREATE VIEW v AS SELECT 1 */",
            "/*!40000 ALTER TABLE t DISABLE KEYS */",
            "/*!50001 CREATE VIEW v AS SELECT '*/' */",
            "-- c\nCREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.x = 1",
            "OPTIMIZE TABLE t",
            "SET autocommit = 1",
            "EXECUTE stmt",
            "CALL p()",
        ] {
            assert!(mysql_commits_implicitly(yes), "{yes}");
        }
        for no in [
            "INSERT INTO t VALUES (1)",
            "UPDATE t SET x = 1",
            "DELETE FROM t",
            "CREATE TEMPORARY TABLE t (x INT)",
            "DROP TEMPORARY TABLE t",
            "SET @x = 1",
            "SELECT 1",
            "REPLACE INTO t VALUES (1)",
            "BEGIN NOT ATOMIC SELECT 1; END",
            "PREPARE stmt FROM @sql",
            "DEALLOCATE PREPARE stmt",
            "/*!40101 SET NAMES utf8mb4 */",
            "/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */",
            "/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */",
        ] {
            assert!(!mysql_commits_implicitly(no), "{no}");
        }
    }
}
