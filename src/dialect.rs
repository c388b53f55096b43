//! The SQL dialects the tool speaks. Everything dialect-specific that is not database I/O
//! (file suffixes, splitter rules) keys off this enum.

use std::fmt;

/// A database dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// MySQL and MariaDB.
    Mysql,
    /// SQLite 3.
    Sqlite,
}

impl Dialect {
    /// All dialects, in a stable order.
    pub const ALL: [Dialect; 2] = [Dialect::Mysql, Dialect::Sqlite];

    /// The name used in file suffixes (`.mysql.sql`), flags and JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Mysql => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }

    /// The dialect's name in prose (`MySQL`, `SQLite`).
    pub fn display_name(self) -> &'static str {
        match self {
            Dialect::Mysql => "MySQL",
            Dialect::Sqlite => "SQLite",
        }
    }

    /// The products the dialect stands for, in prose (`MySQL/MariaDB`, `SQLite`).
    pub fn product_name(self) -> &'static str {
        match self {
            Dialect::Mysql => "MySQL/MariaDB",
            Dialect::Sqlite => "SQLite",
        }
    }

    /// `name` quoted as an identifier: backticks on MySQL, double quotes on SQLite, the quote
    /// character doubled inside. The one quoting function for every identifier the tool
    /// interpolates (the version table, scratch databases, tables it drops, columns it reads).
    pub fn quote_ident(self, name: &str) -> String {
        let q = match self {
            Dialect::Mysql => '`',
            Dialect::Sqlite => '"',
        };
        let doubled: String = [q, q].iter().collect();
        format!("{q}{}{q}", name.replace(q, &doubled))
    }

    /// `name` as the SQL the tool writes for people spells it (drafts of `new --autogenerate`,
    /// rendered schema files): on MySQL always [`Dialect::quote_ident`] (backticks, as
    /// `SHOW CREATE TABLE` writes them); on SQLite bare when it is a plain name
    /// (`[A-Za-z_][A-Za-z0-9_]*`) that is no SQLite keyword, as the schema files and the
    /// definitions the drafts copy spell them, else quoted.
    pub fn ident(self, name: &str) -> String {
        let plain = |n: &str| {
            let mut bytes = n.bytes();
            bytes
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        };
        match self {
            Dialect::Sqlite
                if plain(name)
                    && SQLITE_KEYWORDS
                        .binary_search(&name.to_ascii_uppercase().as_str())
                        .is_err() =>
            {
                name.to_string()
            }
            _ => self.quote_ident(name),
        }
    }

    /// `name` as a rendered schema file writes it ([`crate::schema::render`]): as
    /// [`Dialect::ident`], except that on SQLite a keyword its parser also takes as a plain name
    /// (`Groups`, `Key`, `Action`: [`SQLITE_BARE_KEYWORDS`]) stays bare, as the hand-written
    /// schema files have it, so that a rendering of such a schema does not change. A keyword
    /// it does not take (`Order`, `Group`, `Index`) is quoted.
    pub fn rendered_ident(self, name: &str) -> String {
        match self {
            Dialect::Sqlite
                if SQLITE_BARE_KEYWORDS
                    .binary_search(&name.to_ascii_uppercase().as_str())
                    .is_ok()
                    && name.bytes().all(|b| b.is_ascii_alphabetic()) =>
            {
                name.to_string()
            }
            _ => self.ident(name),
        }
    }

    /// Parses a dialect name as used in file names and flags (`mariadb` is a synonym).
    pub fn from_name(name: &str) -> Option<Dialect> {
        match name {
            "mysql" | "mariadb" => Some(Dialect::Mysql),
            "sqlite" => Some(Dialect::Sqlite),
            _ => None,
        }
    }
}

/// SQLite's keywords that its parser takes as a plain name (its `%fallback ID` list, less the
/// join and window words), checked with `sqlite3` 3.40 in every place a rendered schema file
/// writes a name: table, column (also an `INTEGER PRIMARY KEY` one), index, key and foreign-key
/// lists, `REFERENCES`, `INSERT INTO`. Sorted.
const SQLITE_BARE_KEYWORDS: [&str; 72] = [
    "ABORT",
    "ACTION",
    "AFTER",
    "ALWAYS",
    "ANALYZE",
    "ASC",
    "ATTACH",
    "BEFORE",
    "BEGIN",
    "BY",
    "CASCADE",
    "COLUMN",
    "CONFLICT",
    "CURRENT",
    "DATABASE",
    "DEFERRED",
    "DESC",
    "DETACH",
    "DO",
    "EACH",
    "END",
    "EXCLUDE",
    "EXCLUSIVE",
    "EXPLAIN",
    "FAIL",
    "FIRST",
    "FOLLOWING",
    "FOR",
    "GENERATED",
    "GLOB",
    "GROUPS",
    "IGNORE",
    "IMMEDIATE",
    "INITIALLY",
    "INSTEAD",
    "KEY",
    "LAST",
    "LIKE",
    "MATCH",
    "MATERIALIZED",
    "NO",
    "NULLS",
    "OF",
    "OFFSET",
    "OTHERS",
    "PARTITION",
    "PLAN",
    "PRAGMA",
    "PRECEDING",
    "QUERY",
    "RANGE",
    "RECURSIVE",
    "REGEXP",
    "REINDEX",
    "RELEASE",
    "RENAME",
    "REPLACE",
    "RESTRICT",
    "ROLLBACK",
    "ROW",
    "ROWS",
    "SAVEPOINT",
    "TEMP",
    "TEMPORARY",
    "TIES",
    "TRIGGER",
    "UNBOUNDED",
    "VACUUM",
    "VIEW",
    "VIRTUAL",
    "WITH",
    "WITHOUT",
];

/// SQLite's keywords (sqlite.org/lang_keywords.html, 3.45), sorted: a name that is one is
/// quoted by [`Dialect::ident`].
const SQLITE_KEYWORDS: [&str; 147] = [
    "ABORT",
    "ACTION",
    "ADD",
    "AFTER",
    "ALL",
    "ALTER",
    "ALWAYS",
    "ANALYZE",
    "AND",
    "AS",
    "ASC",
    "ATTACH",
    "AUTOINCREMENT",
    "BEFORE",
    "BEGIN",
    "BETWEEN",
    "BY",
    "CASCADE",
    "CASE",
    "CAST",
    "CHECK",
    "COLLATE",
    "COLUMN",
    "COMMIT",
    "CONFLICT",
    "CONSTRAINT",
    "CREATE",
    "CROSS",
    "CURRENT",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "DATABASE",
    "DEFAULT",
    "DEFERRABLE",
    "DEFERRED",
    "DELETE",
    "DESC",
    "DETACH",
    "DISTINCT",
    "DO",
    "DROP",
    "EACH",
    "ELSE",
    "END",
    "ESCAPE",
    "EXCEPT",
    "EXCLUDE",
    "EXCLUSIVE",
    "EXISTS",
    "EXPLAIN",
    "FAIL",
    "FILTER",
    "FIRST",
    "FOLLOWING",
    "FOR",
    "FOREIGN",
    "FROM",
    "FULL",
    "GENERATED",
    "GLOB",
    "GROUP",
    "GROUPS",
    "HAVING",
    "IF",
    "IGNORE",
    "IMMEDIATE",
    "IN",
    "INDEX",
    "INDEXED",
    "INITIALLY",
    "INNER",
    "INSERT",
    "INSTEAD",
    "INTERSECT",
    "INTO",
    "IS",
    "ISNULL",
    "JOIN",
    "KEY",
    "LAST",
    "LEFT",
    "LIKE",
    "LIMIT",
    "MATCH",
    "MATERIALIZED",
    "NATURAL",
    "NO",
    "NOT",
    "NOTHING",
    "NOTNULL",
    "NULL",
    "NULLS",
    "OF",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "OTHERS",
    "OUTER",
    "OVER",
    "PARTITION",
    "PLAN",
    "PRAGMA",
    "PRECEDING",
    "PRIMARY",
    "QUERY",
    "RAISE",
    "RANGE",
    "RECURSIVE",
    "REFERENCES",
    "REGEXP",
    "REINDEX",
    "RELEASE",
    "RENAME",
    "REPLACE",
    "RESTRICT",
    "RETURNING",
    "RIGHT",
    "ROLLBACK",
    "ROW",
    "ROWS",
    "SAVEPOINT",
    "SELECT",
    "SET",
    "TABLE",
    "TEMP",
    "TEMPORARY",
    "THEN",
    "TIES",
    "TO",
    "TRANSACTION",
    "TRIGGER",
    "UNBOUNDED",
    "UNION",
    "UNIQUE",
    "UPDATE",
    "USING",
    "VACUUM",
    "VALUES",
    "VIEW",
    "VIRTUAL",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
    "WITHOUT",
];

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_per_dialect() {
        assert_eq!(Dialect::Mysql.quote_ident("Users"), "`Users`");
        assert_eq!(Dialect::Mysql.quote_ident("a`b"), "`a``b`");
        assert_eq!(Dialect::Sqlite.quote_ident("Users"), "\"Users\"");
        assert_eq!(Dialect::Sqlite.quote_ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn sqlite_leaves_plain_names_bare() {
        assert_eq!(Dialect::Sqlite.ident("Users"), "Users");
        assert_eq!(Dialect::Sqlite.ident("_x9"), "_x9");
        for quoted in ["Key", "order", "9lives", "a b", "", "Grüße", "a\"b"] {
            assert_eq!(
                Dialect::Sqlite.ident(quoted),
                Dialect::Sqlite.quote_ident(quoted)
            );
        }
        assert_eq!(Dialect::Mysql.ident("Users"), "`Users`");
        assert!(SQLITE_KEYWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_rendering_leaves_keywords_sqlite_takes_as_names_bare() {
        assert_eq!(Dialect::Sqlite.rendered_ident("Groups"), "Groups");
        assert_eq!(Dialect::Sqlite.rendered_ident("Key"), "Key");
        assert_eq!(Dialect::Sqlite.rendered_ident("Users"), "Users");
        for quoted in ["Order", "Group", "Index", "Values", "a b"] {
            assert_eq!(
                Dialect::Sqlite.rendered_ident(quoted),
                Dialect::Sqlite.quote_ident(quoted)
            );
        }
        assert_eq!(Dialect::Mysql.rendered_ident("Groups"), "`Groups`");
        assert!(SQLITE_BARE_KEYWORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(SQLITE_BARE_KEYWORDS
            .iter()
            .all(|k| SQLITE_KEYWORDS.binary_search(k).is_ok()));
    }
}
