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

    /// Parses a dialect name as used in file names and flags (`mariadb` is a synonym).
    pub fn from_name(name: &str) -> Option<Dialect> {
        match name {
            "mysql" | "mariadb" => Some(Dialect::Mysql),
            "sqlite" => Some(Dialect::Sqlite),
            _ => None,
        }
    }
}

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
}
