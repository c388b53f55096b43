//! The SQL dialects the tool speaks. Everything dialect-specific that is not database I/O
//! (file suffixes, splitter rules) keys off this enum.

use std::fmt;

/// A database dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
