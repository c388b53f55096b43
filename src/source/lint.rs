//! Statement-level lints: what a single statement does that the runner or an operator must
//! know before it runs (an implicit commit on MySQL, a Galera hazard). Each reads the
//! statement through the splitter's keyword scanner; none opens a database.

use super::splitter;

/// What a statement does that a Galera cluster handles badly or not at all, for `check` and
/// `upgrade --dry-run` on a cluster node: a table in an engine other than InnoDB (not
/// replicated), a table without a primary key, `LOCK TABLES`, `GET_LOCK`. `None`: nothing.
pub fn galera_lint(statement: &str) -> Option<String> {
    let words = splitter::keywords(statement, 3);
    let upper = statement.to_ascii_uppercase();
    let first = words.first().map(String::as_str);
    let second = words.get(1).map(String::as_str);
    if first == Some("LOCK") && matches!(second, Some("TABLE" | "TABLES")) {
        return Some("LOCK TABLES is not supported on a Galera cluster (it locks one node only, and Galera rejects explicit table locks in multi-master use)".into());
    }
    if upper.contains("GET_LOCK(") || upper.contains("GET_LOCK (") {
        return Some("GET_LOCK is node-local on a Galera cluster: it does not exclude a session on another node".into());
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
                return Some(format!(
                    "a {engine} table is not replicated by Galera (only InnoDB is): use ENGINE=InnoDB"
                ));
            }
        }
    }
    if creates
        && !upper.contains("PRIMARY KEY")
        && !upper.contains(" LIKE ")
        && !upper.contains("SELECT ")
    {
        return Some("a table without a primary key: Galera needs one on every table (its rows replicate badly, and innodb_force_primary_key refuses it)".into());
    }
    None
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

#[cfg(test)]
mod tests {
    use super::*;

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
