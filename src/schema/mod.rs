//! One canonical model of a database's tables for both dialects, its stable text and JSON
//! forms, and the comparison of two models. Backends read their catalogues (MySQL:
//! `information_schema`; SQLite: pragmas) and build the model through the normalising helpers
//! here, so one place decides what "the same schema" means:
//!
//! - columns in order, with a normalised type, nullability, default, auto-increment, MySQL's
//!   `ON UPDATE` and column collation;
//! - the primary key; unique keys by their columns only (MySQL names an unnamed unique key after
//!   its first column, SQLite `sqlite_autoindex_…`); other indexes by name and columns;
//! - foreign keys by content (columns, referenced table and columns, ON DELETE, ON UPDATE),
//!   never by generated names; `RESTRICT` counts as `NO ACTION`;
//! - on MySQL, the engine and the table's default collation (the latter only for tables with
//!   character columns: elsewhere it has no effect). Indexes InnoDB creates by itself for a
//!   foreign key are left out: they are an artefact of the engine, not of the schema.
//!
//! Views, triggers and row data are not part of the model.

pub(crate) mod autogen;
pub mod ddl;
pub mod probe;
pub(crate) mod render;
pub mod tighten;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};

use serde::Serialize;

use crate::dialect::Dialect;

/// Tables the model never includes besides the tool's own history table: Alembic's.
pub const ALEMBIC_TABLE: &str = "alembic_version";

/// A database's tables, sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schema {
    pub dialect: Dialect,
    pub tables: Vec<Table>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    pub name: String,
    /// MySQL storage engine (`InnoDB`).
    pub engine: Option<String>,
    /// MySQL default collation, for tables with character columns.
    pub collation: Option<String>,
    /// MySQL `ROW_FORMAT` as the table's DDL states it (`DYNAMIC`); `None` where it states
    /// none (the server's default then applies, and nothing is compared).
    pub row_format: Option<String>,
    /// In table order.
    pub columns: Vec<Column>,
    /// Empty when the table has none.
    pub primary_key: Vec<String>,
    /// Column lists, sorted.
    pub unique_keys: Vec<Vec<String>>,
    /// Non-unique indexes, sorted by name.
    pub indexes: Vec<Index>,
    /// Sorted by content.
    pub foreign_keys: Vec<ForeignKey>,
    /// What the catalogue calls the objects compared by content; never compared.
    #[serde(skip)]
    pub names: CatalogueNames,
}

/// The names a catalogue gave the objects the model compares by content: unique keys,
/// foreign keys, and the indexes InnoDB made for foreign keys by itself. Generated DDL needs
/// them to drop those objects; they are never compared (every two values are equal), so two
/// tables that differ only here are the same table.
#[derive(Debug, Clone, Default)]
pub struct CatalogueNames {
    /// Unique key columns → index name.
    pub unique_keys: Vec<(Vec<String>, String)>,
    /// Foreign key → constraint name (MySQL).
    pub foreign_keys: Vec<(ForeignKey, String)>,
    /// Foreign key → the index InnoDB created for it (MySQL).
    pub implicit_indexes: Vec<(ForeignKey, String)>,
    /// The row format in effect (MySQL `information_schema.TABLES.ROW_FORMAT`, upper case),
    /// stated or the server's default: what another table's stated `row_format` is compared
    /// with.
    pub row_format_in_effect: Option<String>,
}

impl PartialEq for CatalogueNames {
    fn eq(&self, _: &CatalogueNames) -> bool {
        true
    }
}

impl Eq for CatalogueNames {}

impl CatalogueNames {
    pub fn unique_key(&self, columns: &[String]) -> Option<&str> {
        self.unique_keys
            .iter()
            .find(|(c, _)| c == columns)
            .map(|(_, n)| n.as_str())
    }

    pub fn foreign_key(&self, fk: &ForeignKey) -> Option<&str> {
        self.foreign_keys
            .iter()
            .find(|(f, _)| f == fk)
            .map(|(_, n)| n.as_str())
    }

    pub fn implicit_index(&self, fk: &ForeignKey) -> Option<&str> {
        self.implicit_indexes
            .iter()
            .find(|(f, _)| f == fk)
            .map(|(_, n)| n.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    pub name: String,
    /// Normalised: upper case, single spaces, MySQL integer display widths dropped (but
    /// `TINYINT(1)`, the boolean idiom, kept).
    #[serde(rename = "type")]
    pub type_name: String,
    pub nullable: bool,
    /// A normalised SQL literal or `CURRENT_TIMESTAMP`; `None` for no default and for NULL.
    pub default: Option<String>,
    pub auto_increment: bool,
    /// MySQL `ON UPDATE CURRENT_TIMESTAMP`.
    pub on_update: Option<String>,
    /// MySQL collation of a character column.
    pub collation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub references_table: String,
    pub references_columns: Vec<String>,
    pub on_delete: String,
    pub on_update: String,
}

/// Indexes and foreign keys as a backend reads them, before the model's rules are applied.
#[derive(Debug, Clone, Default)]
pub struct RawTable {
    pub name: String,
    pub engine: Option<String>,
    pub collation: Option<String>,
    pub row_format: Option<String>,
    /// The row format in effect, stated or not (MySQL).
    pub row_format_in_effect: Option<String>,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    /// Every index but the primary key: name, unique, columns.
    pub indexes: Vec<(String, bool, Vec<String>)>,
    /// Foreign keys with their constraint names (MySQL) where known.
    pub foreign_keys: Vec<(Option<String>, ForeignKey)>,
}

impl RawTable {
    /// Applies the model's rules: unique keys by content, implicit foreign-key indexes dropped
    /// (MySQL), table collation only with character columns, stable order.
    pub fn finish(self, dialect: Dialect) -> Table {
        let mut unique_keys = Vec::new();
        let mut indexes = Vec::new();
        let mut names = CatalogueNames {
            row_format_in_effect: self.row_format_in_effect,
            ..CatalogueNames::default()
        };
        for (name, unique, columns) in self.indexes {
            if unique {
                names.unique_keys.push((columns.clone(), name));
                unique_keys.push(columns);
                continue;
            }
            let implicit = if dialect == Dialect::Mysql {
                self.foreign_keys.iter().find(|(fk_name, fk)| {
                    fk.columns == columns
                        && (fk_name.as_deref() == Some(name.as_str())
                            || fk.columns.first() == Some(&name))
                })
            } else {
                None
            };
            match implicit {
                Some((_, fk)) => names.implicit_indexes.push((fk.clone(), name)),
                None => indexes.push(Index { name, columns }),
            }
        }
        unique_keys.sort();
        unique_keys.dedup();
        indexes.sort();
        let mut foreign_keys = Vec::new();
        for (name, fk) in self.foreign_keys {
            if let Some(name) = name {
                names.foreign_keys.push((fk.clone(), name));
            }
            foreign_keys.push(fk);
        }
        foreign_keys.sort();
        let has_text = self
            .columns
            .iter()
            .any(|c| type_family(&c.type_name) == "text");
        Table {
            name: self.name,
            engine: self.engine,
            collation: if has_text { self.collation } else { None },
            row_format: self.row_format,
            columns: self.columns,
            primary_key: self.primary_key,
            unique_keys,
            indexes,
            foreign_keys,
            names,
        }
    }
}

impl Schema {
    pub fn new(dialect: Dialect, mut tables: Vec<Table>) -> Schema {
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        Schema { dialect, tables }
    }

    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The model with everything that is spelt differently across dialects reduced to what
    /// both can say: types to their family, no engine, no collation, no `ON UPDATE`.
    pub fn portable(&self) -> Schema {
        let tables = self
            .tables
            .iter()
            .map(|t| Table {
                engine: None,
                collation: None,
                row_format: None,
                columns: t
                    .columns
                    .iter()
                    .map(|c| Column {
                        type_name: type_family(&c.type_name).to_string(),
                        on_update: None,
                        collation: None,
                        ..c.clone()
                    })
                    .collect(),
                ..t.clone()
            })
            .collect();
        Schema {
            dialect: self.dialect,
            tables,
        }
    }

    /// The stable text form (`schema dump`): one line per fact, tables by name.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (i, t) in self.tables.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&t.to_text());
        }
        out
    }
}

impl Table {
    /// The row format in effect where the catalogue says, else the stated one.
    pub fn row_format_in_effect(&self) -> Option<&str> {
        self.names
            .row_format_in_effect
            .as_deref()
            .or(self.row_format.as_deref())
    }

    fn options_text(&self) -> String {
        let mut s = String::new();
        if let Some(e) = &self.engine {
            let _ = write!(s, " engine={e}");
        }
        if let Some(c) = &self.collation {
            let _ = write!(s, " collation={c}");
        }
        if let Some(r) = &self.row_format {
            let _ = write!(s, " row_format={r}");
        }
        s
    }

    pub fn to_text(&self) -> String {
        let mut out = format!("table {}{}\n", self.name, self.options_text());
        for c in &self.columns {
            let _ = writeln!(out, "  column {} {}", c.name, self.column_text(c));
        }
        for (key, text) in self.keyed_items() {
            if text.is_empty() {
                let _ = writeln!(out, "  {key}");
            } else {
                let _ = writeln!(out, "  {key} {text}");
            }
        }
        out
    }

    /// A column's definition; its collation only where it differs from the table's.
    pub(crate) fn column_text(&self, c: &Column) -> String {
        let mut s = c.type_name.clone();
        s.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
        if let Some(d) = &c.default {
            let _ = write!(s, " DEFAULT {d}");
        }
        if c.auto_increment {
            s.push_str(" AUTO_INCREMENT");
        }
        if let Some(u) = &c.on_update {
            let _ = write!(s, " ON UPDATE {u}");
        }
        if let Some(coll) = &c.collation {
            if self.collation.as_ref() != Some(coll) {
                let _ = write!(s, " COLLATE {coll}");
            }
        }
        s
    }

    /// Keys, indexes and foreign keys as (identity, rest) pairs: two tables have the same
    /// object when the identities match, and the same definition when the rests match too.
    fn keyed_items(&self) -> Vec<(String, String)> {
        let mut items = Vec::new();
        if !self.primary_key.is_empty() {
            items.push(("primary key".to_string(), cols(&self.primary_key)));
        }
        for u in &self.unique_keys {
            items.push((format!("unique {}", cols(u)), String::new()));
        }
        for i in &self.indexes {
            items.push((format!("index {}", i.name), cols(&i.columns)));
        }
        for fk in &self.foreign_keys {
            items.push((
                format!(
                    "foreign key {} references {} {}",
                    cols(&fk.columns),
                    fk.references_table,
                    cols(&fk.references_columns)
                ),
                format!("on delete {} on update {}", fk.on_delete, fk.on_update),
            ));
        }
        items
    }
}

fn cols(c: &[String]) -> String {
    format!("({})", c.join(", "))
}

/// One way a live schema differs from the expected one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub table: String,
    /// `table`, `column Email`, `index BasesModifiedTS`, `foreign key (…) references …`, …
    pub object: String,
    /// What the expected schema has; `None`: it has no such object.
    pub expected: Option<String>,
    /// What the live schema has; `None`: it has no such object.
    pub found: Option<String>,
}

/// `verify`'s explanation of a MySQL-vs-SQLite difference in numbering rows: in SQLite a lone `INTEGER
/// PRIMARY KEY` column is the rowid, which numbers rows itself (shown as `AUTO_INCREMENT`), so a
/// portable `id INTEGER PRIMARY KEY` numbers rows on SQLite and not on MySQL, and `INT PRIMARY
/// KEY` or a composite key numbers them on neither.
/// Also: SQLite lets a primary key column other than the rowid hold NULL unless it says NOT
/// NULL (`sqlite`: the SQLite schema, to tell key columns).
pub fn cross_dialect_hint(d: &Difference, sqlite: &Schema) -> Option<String> {
    let column = d.object.strip_prefix("column ")?;
    let in_key = sqlite
        .tables
        .iter()
        .any(|t| t.name == d.table && t.primary_key.iter().any(|c| c == column));
    let not_null = |side: &Option<String>| side.as_deref().map(|t| t.contains("NOT NULL"));
    if in_key && not_null(&d.expected) == Some(true) && not_null(&d.found) == Some(false) {
        return Some(format!(
            "{}.{column}: SQLite lets a PRIMARY KEY column hold NULL unless it is declared NOT NULL (a legacy quirk; only the INTEGER PRIMARY KEY rowid alias is never NULL): write {column} ... NOT NULL PRIMARY KEY",
            d.table
        ));
    }
    let numbers = |side: &Option<String>| side.as_deref().map(|t| t.contains("AUTO_INCREMENT"));
    let (mysql, sqlite) = (numbers(&d.expected)?, numbers(&d.found)?);
    match (mysql, sqlite) {
        (false, true) => Some(format!(
            "{}.{column}: in SQLite a lone INTEGER PRIMARY KEY column is an alias of the rowid, which numbers rows itself when an INSERT gives none (AUTO_INCREMENT here); the MySQL column does not: add AUTO_INCREMENT on MySQL (a .mysql.sql file) if it should number rows, or declare it INT PRIMARY KEY (not INTEGER) so that SQLite does not",
            d.table
        )),
        (true, false) => Some(format!(
            "{}.{column}: SQLite numbers rows only in a column declared exactly INTEGER PRIMARY KEY (the rowid alias; not INT, BIGINT or part of a composite key): declare it so in the .sqlite.sql file to match MySQL's AUTO_INCREMENT",
            d.table
        )),
        _ => None,
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.object == "table" {
            format!("table {}", self.table)
        } else {
            format!("{}: {}", self.table, self.object)
        };
        match (&self.expected, &self.found) {
            (Some(e), None) => write!(f, "{what}: missing (expected {e})"),
            (None, Some(x)) => write!(f, "{what}: not expected (found {x})"),
            (Some(e), Some(x)) => write!(f, "{what}: expected {e}, found {x}"),
            (None, None) => write!(f, "{what}"),
        }
    }
}

/// Every difference between `expected` and `found`, table by table in name order.
pub fn diff(expected: &Schema, found: &Schema) -> Vec<Difference> {
    let names: BTreeSet<&str> = expected
        .tables
        .iter()
        .chain(&found.tables)
        .map(|t| t.name.as_str())
        .collect();
    let mut out = Vec::new();
    for name in names {
        match (expected.table(name), found.table(name)) {
            (Some(e), None) => out.push(Difference {
                table: name.to_string(),
                object: "table".into(),
                expected: Some(format!("{} columns", e.columns.len())),
                found: None,
            }),
            (None, Some(x)) => out.push(Difference {
                table: name.to_string(),
                object: "table".into(),
                expected: None,
                found: Some(format!("{} columns", x.columns.len())),
            }),
            (Some(e), Some(x)) => diff_table(e, x, &mut out),
            (None, None) => {}
        }
    }
    out
}

fn diff_table(e: &Table, x: &Table, out: &mut Vec<Difference>) {
    let mut push = |object: String, expected: Option<String>, found: Option<String>| {
        out.push(Difference {
            table: e.name.clone(),
            object,
            expected,
            found,
        })
    };
    // A row format the expected side does not state is not compared: the server's default
    // applies there, whatever the other side states. A stated one is compared with the
    // format in effect, stated or the server's default (aurweb's b7c419f0a2d1 changed Users
    // only where it was not DYNAMIC already).
    let x_options = Table {
        row_format: e
            .row_format
            .as_ref()
            .and(x.row_format_in_effect().map(str::to_string)),
        columns: Vec::new(),
        ..x.clone()
    }
    .options_text();
    if e.options_text() != x_options {
        push(
            "options".into(),
            Some(e.options_text().trim().to_string()).filter(|s| !s.is_empty()),
            Some(x_options.trim().to_string()).filter(|s| !s.is_empty()),
        );
    }
    let ecols: BTreeMap<&str, &Column> = e.columns.iter().map(|c| (c.name.as_str(), c)).collect();
    let xcols: BTreeMap<&str, &Column> = x.columns.iter().map(|c| (c.name.as_str(), c)).collect();
    for c in &e.columns {
        match xcols.get(c.name.as_str()) {
            None => push(format!("column {}", c.name), Some(e.column_text(c)), None),
            Some(xc) => {
                let (a, b) = (e.column_text(c), x.column_text(xc));
                // Compare definitions with the effective collation, not its elision.
                if c.collation != xc.collation {
                    push(
                        format!("column {}", c.name),
                        Some(with_collation(&a, c)),
                        Some(with_collation(&b, xc)),
                    );
                } else if a != b {
                    push(format!("column {}", c.name), Some(a), Some(b));
                }
            }
        }
    }
    for c in &x.columns {
        if !ecols.contains_key(c.name.as_str()) {
            push(format!("column {}", c.name), None, Some(x.column_text(c)));
        }
    }
    // Order of the columns both have: the fewest columns whose moves explain the difference
    // (those outside a longest common subsequence), each with its two predecessors. A column
    // that moved together with its predecessor (a block) is described by the block's first.
    let common_e: Vec<&str> = e
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .filter(|n| xcols.contains_key(n))
        .collect();
    let common_x: Vec<&str> = x
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .filter(|n| ecols.contains_key(n))
        .collect();
    if common_e != common_x {
        let after = |seq: &[&str], name: &str| -> String {
            match seq.iter().position(|n| *n == name) {
                Some(0) => "first".to_string(),
                Some(i) => format!("after {}", seq[i - 1]),
                None => String::new(),
            }
        };
        for name in moved_columns(&common_e, &common_x) {
            let (a, b) = (after(&common_e, name), after(&common_x, name));
            if a != b {
                push(format!("column {name} position"), Some(a), Some(b));
            }
        }
    }
    let ek: BTreeMap<String, String> = e.keyed_items().into_iter().collect();
    let xk: BTreeMap<String, String> = x.keyed_items().into_iter().collect();
    let describe = |rest: &str| {
        if rest.is_empty() {
            "present".to_string()
        } else {
            rest.to_string()
        }
    };
    for (key, rest) in &ek {
        match xk.get(key) {
            None => push(key.clone(), Some(describe(rest)), None),
            Some(r) if r != rest => push(key.clone(), Some(rest.clone()), Some(r.clone())),
            Some(_) => {}
        }
    }
    for (key, rest) in &xk {
        if !ek.contains_key(key) {
            push(key.clone(), None, Some(describe(rest)));
        }
    }
}

/// The row format a MySQL table's DDL states, from `information_schema.TABLES.CREATE_OPTIONS`
/// (`row_format=DYNAMIC partitioned`): only a stated one is there (`ROW_FORMAT=DEFAULT`
/// states none).
pub fn stated_row_format(create_options: &str) -> Option<String> {
    create_options
        .split_whitespace()
        .find_map(|o| {
            let (k, v) = o.split_once('=')?;
            k.eq_ignore_ascii_case("row_format")
                .then(|| v.to_ascii_uppercase())
        })
        .filter(|v| v != "DEFAULT")
}

/// Which MySQL table options a schema file's `CREATE TABLE` states: `ENGINE=` (`engine`) and
/// `[DEFAULT] CHARSET=`/`CHARACTER SET`/`COLLATE=` (`charset`). An option it does not state
/// takes the server's default and is neither compared nor generated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatedOptions {
    pub engine: bool,
    pub charset: bool,
}

/// The options each table's `CREATE TABLE` among `statements` states, by table name.
pub fn stated_options<'a>(
    statements: impl IntoIterator<Item = &'a str>,
) -> BTreeMap<String, StatedOptions> {
    statements
        .into_iter()
        .filter_map(create_table_options)
        .collect()
}

/// A `CREATE TABLE name (…) options` statement's table and the options it states; `None`
/// for any other statement (and for `CREATE TABLE … LIKE`).
fn create_table_options(sql: &str) -> Option<(String, StatedOptions)> {
    // The statement with comments blanked and quoted text kept apart: (code, quoted?) chars.
    let mut code: Vec<(char, bool)> = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                code.push((c, true));
                while let Some(d) = chars.next() {
                    code.push((d, true));
                    if d == '\\' && c != '`' {
                        if let Some(e) = chars.next() {
                            code.push((e, true));
                        }
                    } else if d == c {
                        if chars.peek() == Some(&c) {
                            code.push((chars.next().unwrap_or(c), true));
                        } else {
                            break;
                        }
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
                code.push((' ', false));
            }
            '#' => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
                code.push((' ', false));
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for d in chars.by_ref() {
                    if last == '*' && d == '/' {
                        break;
                    }
                    last = d;
                }
                code.push((' ', false));
            }
            _ => code.push((c, false)),
        }
    }
    let open = code.iter().position(|&(c, q)| c == '(' && !q)?;
    let head: String = code[..open].iter().map(|&(c, _)| c).collect();
    let words: Vec<String> = head
        .split_whitespace()
        .map(|w| w.to_ascii_uppercase())
        .collect();
    let rest = match words.as_slice() {
        [create, table, rest @ ..] if create == "CREATE" && table == "TABLE" => rest,
        [create, temporary, table, rest @ ..]
            if create == "CREATE" && temporary == "TEMPORARY" && table == "TABLE" =>
        {
            rest
        }
        _ => return None,
    };
    let name_word = match rest {
        [i, n, e, name] if i == "IF" && n == "NOT" && e == "EXISTS" => name,
        [name] => name,
        _ => return None,
    };
    // The name as written (case kept), without quotes or a database.
    let name_at = head.to_ascii_uppercase().rfind(name_word.as_str())?;
    let name = head[name_at..name_at + name_word.len()]
        .rsplit('.')
        .next()?
        .trim_matches(|c| c == '`' || c == '"')
        .to_string();
    let mut depth = 0usize;
    let mut close = None;
    for (i, &(c, q)) in code.iter().enumerate().skip(open) {
        match (c, q) {
            ('(', false) => depth += 1,
            (')', false) => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let options: String = code[close? + 1..]
        .iter()
        .map(|&(c, q)| if q { ' ' } else { c.to_ascii_uppercase() })
        .collect();
    let words: Vec<&str> = options
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let has = |w: &str| words.contains(&w);
    Some((
        name,
        StatedOptions {
            engine: has("ENGINE"),
            charset: has("CHARSET") || has("CHARACTER") || has("COLLATE"),
        },
    ))
}

impl Schema {
    /// The model with the MySQL options the schema file does not state (`stated`, from
    /// [`stated_options`]) taken from `other`'s table of the same name, for the tables the
    /// file creates: so they are not compared (`verify`) nor generated (`new --autogenerate`),
    /// and a column's collation still reads against its table's.
    pub fn unstated_options_from(
        &self,
        other: &Schema,
        stated: &BTreeMap<String, StatedOptions>,
    ) -> Schema {
        let mut out = self.clone();
        for t in &mut out.tables {
            let found = stated
                .get(&t.name)
                .or_else(|| {
                    stated
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(&t.name))
                        .map(|(_, o)| o)
                })
                .copied();
            let (Some(o), Some(theirs)) = (found, other.table(&t.name)) else {
                continue;
            };
            if !o.engine {
                t.engine = theirs.engine.clone();
            }
            if !o.charset {
                t.collation = theirs.collation.clone();
            }
        }
        out
    }
}

/// A column's text with its collation named when the text elides it (the table's own).
pub(crate) fn with_collation(text: &str, c: &Column) -> String {
    match &c.collation {
        Some(coll) if !text.contains(" COLLATE ") => format!("{text} COLLATE {coll}"),
        _ => text.to_string(),
    }
}

/// The differences as lines, for messages.
pub fn render_differences(diffs: &[Difference]) -> String {
    let mut s = String::new();
    for d in diffs {
        let _ = writeln!(s, "  {d}");
    }
    s
}

// ---- normalisation -------------------------------------------------------------------------

/// A type's family, the part of a type both dialects agree on: `integer`, `text`, `decimal`,
/// `real`, `time`, `blob` or `other` (SQLite's affinity rules, with times on their own).
pub fn type_family(type_name: &str) -> &'static str {
    let t = type_name.to_ascii_uppercase();
    if t.contains("INT") {
        "integer"
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        "text"
    } else if t.contains("DEC") || t.contains("NUM") {
        "decimal"
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        "real"
    } else if t.contains("TIME") || t.contains("DATE") || t.contains("YEAR") {
        "time"
    } else if t.contains("BLOB") || t.contains("BINARY") || t.is_empty() {
        "blob"
    } else {
        "other"
    }
}

/// Upper case, single spaces, no spaces around parentheses and commas. On MySQL, integer
/// display widths go (`int(10) unsigned` → `INT UNSIGNED`; MySQL 8 no longer shows them) except
/// `TINYINT(1)`, and `INTEGER` is spelt `INT`.
pub fn normalise_type(dialect: Dialect, raw: &str) -> String {
    let mut s = String::new();
    for word in raw.split_whitespace() {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&word.to_ascii_uppercase());
    }
    let s = s
        .replace(" (", "(")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(", ", ",")
        .replace(" ,", ",");
    if dialect == Dialect::Sqlite {
        return s;
    }
    let (base, rest) = match s.find('(') {
        Some(open) => match s[open..].find(')') {
            Some(close) => (
                &s[..open],
                Some((&s[open..=open + close], &s[open + close + 1..])),
            ),
            None => (s.as_str(), None),
        },
        None => (s.as_str(), None),
    };
    let base = if base == "INTEGER" { "INT" } else { base };
    let integer = matches!(
        base,
        "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT"
    );
    match rest {
        Some((width, tail)) if integer => {
            if base == "TINYINT" && width == "(1)" {
                format!("TINYINT(1){tail}")
            } else {
                format!("{base}{tail}")
            }
        }
        Some((args, tail)) => format!("{base}{args}{tail}"),
        None => {
            if let Some(tail) = s.strip_prefix("INTEGER") {
                format!("INT{tail}")
            } else {
                s
            }
        }
    }
}

/// A default as the catalogue shows it (`None`: no default) → the model's form. Both dialects
/// show SQL text: MariaDB quotes string literals (`'en'`), SQLite keeps what was written; MySQL
/// 8's unquoted strings are quoted by its backend before they arrive here.
pub fn normalise_default(raw: Option<&str>, type_name: &str) -> Option<String> {
    let mut v = raw?.trim();
    while v.len() >= 2 && v.starts_with('(') && v.ends_with(')') {
        v = v[1..v.len() - 1].trim();
    }
    if v.eq_ignore_ascii_case("null") {
        return None;
    }
    let lower = v.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "current_timestamp"
            | "current_timestamp()"
            | "now()"
            | "localtimestamp"
            | "localtimestamp()"
    ) || lower.starts_with("current_timestamp(")
    {
        return Some("CURRENT_TIMESTAMP".to_string());
    }
    let family = type_family(type_name);
    let unquoted = unquote(v);
    let literal = unquoted.as_deref().unwrap_or(v);
    if matches!(family, "integer" | "decimal" | "real") {
        if let Some(n) = canonical_number(literal) {
            return Some(n);
        }
    }
    if family == "time" {
        let trimmed = match literal.split_once('.') {
            Some((head, frac)) if frac.bytes().all(|b| b == b'0') => head,
            _ => literal,
        };
        return Some(quote(trimmed));
    }
    match unquoted {
        Some(s) => Some(quote(&s)),
        None => match canonical_number(v) {
            Some(n) => Some(n),
            None => Some(v.to_string()),
        },
    }
}

fn unquote(v: &str) -> Option<String> {
    let q = v.chars().next()?;
    if (q != '\'' && q != '"') || v.len() < 2 || !v.ends_with(q) {
        return None;
    }
    let inner = &v[1..v.len() - 1];
    let doubled = format!("{q}{q}");
    Some(inner.replace(&doubled, &q.to_string()).replace("\\'", "'"))
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `0.000000` → `0`, `+1.50` → `1.5`, `-0` → `0`; `None` when not a plain decimal number.
fn canonical_number(s: &str) -> Option<String> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let mut out = String::new();
    if neg && !(int == "0" && frac.is_empty()) {
        out.push('-');
    }
    out.push_str(int);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    Some(out)
}

/// `restrict` and `no action` are the same to InnoDB and differ in SQLite only in when the
/// check runs; both read `NO ACTION`.
pub fn normalise_action(raw: &str) -> String {
    let a = raw.trim().to_ascii_uppercase();
    if a == "RESTRICT" || a.is_empty() {
        "NO ACTION".to_string()
    } else {
        a
    }
}

/// `utf8_general_ci` → `utf8mb3_general_ci` (MariaDB before 10.6 and MySQL 5 call utf8mb3
/// `utf8`).
pub fn normalise_collation(raw: &str) -> String {
    let c = raw.trim().to_ascii_lowercase();
    match c.strip_prefix("utf8_") {
        Some(rest) => format!("utf8mb3_{rest}"),
        None if c == "utf8" => "utf8mb3".to_string(),
        None => c,
    }
}

/// The names of `expected` (in its order) outside one longest common subsequence of the two
/// orders, which hold the same names: the columns that moved. Ties keep the later column of
/// `expected` in place, so of two swapped neighbours the first is the one that moved.
pub(crate) fn moved_columns<'a>(expected: &[&'a str], found: &[&str]) -> Vec<&'a str> {
    let (n, m) = (expected.len(), found.len());
    // lcs[i][j]: the length of a longest common subsequence of expected[i..] and found[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if expected[i] == found[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut moved) = (0, 0, Vec::new());
    while i < n {
        if j < m && expected[i] == found[j] {
            i += 1;
            j += 1;
        } else if j == m || lcs[i + 1][j] >= lcs[i][j + 1] {
            moved.push(expected[i]);
            i += 1;
        } else {
            j += 1;
        }
    }
    moved
}

/// One stored definition as the catalogue keeps it (`Catalogue::definitions` of the backend):
/// a plain record, so that the generator reads it without knowing where it came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Definition {
    /// `table`, `index`, `view`, `trigger` or `check`.
    pub kind: String,
    pub name: String,
    /// The table it belongs to (its own name for a table or view).
    pub table: String,
    pub sql: String,
}

/// What the schema tooling refuses to do with a model: a column SQLite has no rendering rule
/// for, a `--rename` the two schemas do not bear out, a change the generator cannot draft. The
/// user's to resolve (exit 2); the messages live here so that the schema tooling raises them
/// without knowing the library's [`crate::error::Error`], which wraps this type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// A `--rename` argument that is neither `TABLE.OLD=NEW` nor `OLD=NEW`.
    #[error("--rename {arg:?}: expected TABLE.OLD=NEW (a column) or OLD=NEW (a table)")]
    RenameSyntax { arg: String },

    /// A table rename the two schemas do not bear out.
    #[error("--rename {old}={new}: the migrations leave a table {old} and schema/ has {new} instead (today: {old} {}, {new} {} in the migrations, {new} {} in schema/)", present(*.old_in_from), present(*.new_in_from), present(*.new_in_to))]
    RenameTable {
        old: String,
        new: String,
        old_in_from: bool,
        new_in_from: bool,
        new_in_to: bool,
    },

    /// A column rename of a table that is not on both sides.
    #[error("--rename {table}.{old}={new}: no table {table} on both sides")]
    RenameNoTable {
        table: String,
        old: String,
        new: String,
    },

    /// A column rename the two schemas do not bear out.
    #[error("--rename {table}.{old}={new}: the migrations leave {table}.{old} and schema/ has {table}.{new} instead (today: {old} {}, {new} {} in the migrations, {new} {} in schema/)", present(*.old_in_from), present(*.new_in_from), present(*.new_in_to))]
    RenameColumn {
        table: String,
        old: String,
        new: String,
        old_in_from: bool,
        new_in_from: bool,
        new_in_to: bool,
    },

    /// A key to drop whose name the catalogue does not give (`what`: `foreign key …`,
    /// `unique key (…)`).
    #[error("cannot drop the {what} of {table}: the catalogue shows no name for it")]
    UnnamedKey { what: String, table: String },

    /// The target's catalogue has no `CREATE TABLE` for a table the draft rebuilds.
    #[error("no CREATE TABLE for {table} in the target")]
    NoCreateTable { table: String },

    /// A `CREATE TABLE` the generator cannot take apart.
    #[error("unexpected CREATE TABLE for {table}: {sql}")]
    UnexpectedCreateTable { table: String, sql: String },

    /// A MySQL column with no SQLite rendering rule (`what`: the type or clause).
    #[error("cannot render {table}.{column} for SQLite: {what} has no rule{hint}")]
    NoSqliteRule {
        table: String,
        column: String,
        what: String,
        /// The rest of the message: the rules there are, or what SQLite would need.
        hint: String,
    },

    /// `schema render --dialect sqlite` given a schema that is not MySQL's.
    #[error("schema render --dialect sqlite renders a MySQL schema")]
    RenderNeedsMysql,
}

/// `exists` or `does not exist`, for the rename refusals.
fn present(yes: bool) -> &'static str {
    if yes {
        "exists"
    } else {
        "does not exist"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types() {
        let m = |s| normalise_type(Dialect::Mysql, s);
        assert_eq!(m("int(10) unsigned"), "INT UNSIGNED");
        assert_eq!(m("tinyint(3) unsigned"), "TINYINT UNSIGNED");
        assert_eq!(m("tinyint(1)"), "TINYINT(1)");
        assert_eq!(m("tinyint(4)"), "TINYINT");
        assert_eq!(m("bigint(20) unsigned"), "BIGINT UNSIGNED");
        assert_eq!(m("INTEGER UNSIGNED"), "INT UNSIGNED");
        assert_eq!(m("decimal(10,6) unsigned"), "DECIMAL(10,6) UNSIGNED");
        assert_eq!(m("varchar(32)"), "VARCHAR(32)");
        assert_eq!(m("timestamp"), "TIMESTAMP");
        let s = |s| normalise_type(Dialect::Sqlite, s);
        assert_eq!(s("varchar ( 32 )"), "VARCHAR(32)");
        assert_eq!(s("decimal(10, 6)"), "DECIMAL(10,6)");
        assert_eq!(s("integer"), "INTEGER");
    }

    #[test]
    fn families() {
        assert_eq!(type_family("TINYINT UNSIGNED"), "integer");
        assert_eq!(type_family("BIGINT"), "integer");
        assert_eq!(type_family("VARCHAR(32)"), "text");
        assert_eq!(type_family("CHAR(32)"), "text");
        assert_eq!(type_family("TEXT"), "text");
        assert_eq!(type_family("DECIMAL(10,6) UNSIGNED"), "decimal");
        assert_eq!(type_family("TIMESTAMP"), "time");
    }

    #[test]
    fn defaults() {
        let d = |raw: Option<&str>, t: &str| normalise_default(raw, t);
        assert_eq!(d(None, "INT"), None);
        assert_eq!(d(Some("NULL"), "VARCHAR(3)"), None);
        assert_eq!(d(Some("'en'"), "VARCHAR(6)"), Some("'en'".into()));
        assert_eq!(d(Some("\"en\""), "VARCHAR(6)"), Some("'en'".into()));
        assert_eq!(d(Some("''"), "VARCHAR(6)"), Some("''".into()));
        assert_eq!(d(Some("'0'"), "INT UNSIGNED"), Some("0".into()));
        assert_eq!(d(Some("0"), "INT UNSIGNED"), Some("0".into()));
        assert_eq!(d(Some("0.000000"), "DECIMAL(10,6)"), Some("0".into()));
        assert_eq!(d(Some("(0)"), "INTEGER"), Some("0".into()));
        assert_eq!(
            d(Some("current_timestamp()"), "TIMESTAMP"),
            Some("CURRENT_TIMESTAMP".into())
        );
        assert_eq!(
            d(Some("CURRENT_TIMESTAMP"), "TIMESTAMP"),
            Some("CURRENT_TIMESTAMP".into())
        );
        assert_eq!(
            d(Some("'1970-01-01 00:00:01.000000'"), "TIMESTAMP"),
            Some("'1970-01-01 00:00:01'".into())
        );
        assert_eq!(
            d(Some("'1970-01-01 00:00:01'"), "TIMESTAMP"),
            Some("'1970-01-01 00:00:01'".into())
        );
        assert_eq!(d(Some("'it''s'"), "TEXT"), Some("'it''s'".into()));
        assert_eq!(
            d(Some("'/dev/null'"), "VARCHAR(8000)"),
            Some("'/dev/null'".into())
        );
    }

    #[test]
    fn actions_and_collations() {
        assert_eq!(normalise_action("restrict"), "NO ACTION");
        assert_eq!(normalise_action("NO ACTION"), "NO ACTION");
        assert_eq!(normalise_action("set null"), "SET NULL");
        assert_eq!(normalise_collation("utf8_general_ci"), "utf8mb3_general_ci");
        assert_eq!(normalise_collation("utf8mb4_bin"), "utf8mb4_bin");
    }

    fn col(name: &str, t: &str) -> Column {
        Column {
            name: name.into(),
            type_name: t.into(),
            nullable: false,
            default: None,
            auto_increment: false,
            on_update: None,
            collation: None,
        }
    }

    fn users(columns: &[&str], fk: bool) -> Table {
        RawTable {
            name: "Users".into(),
            columns: columns.iter().map(|c| col(c, "INT")).collect(),
            primary_key: vec!["ID".into()],
            indexes: vec![
                ("Email".into(), true, vec!["Email".into()]),
                ("ClosedUID".into(), false, vec!["ClosedUID".into()]),
            ],
            foreign_keys: if fk {
                vec![(
                    Some("Users_ibfk_1".into()),
                    ForeignKey {
                        columns: vec!["ClosedUID".into()],
                        references_table: "Users".into(),
                        references_columns: vec!["ID".into()],
                        on_delete: "SET NULL".into(),
                        on_update: "NO ACTION".into(),
                    },
                )]
            } else {
                vec![]
            },
            ..RawTable::default()
        }
        .finish(Dialect::Mysql)
    }

    #[test]
    fn implicit_foreign_key_indexes_are_left_out() {
        let with_fk = users(&["ID", "Email", "ClosedUID"], true);
        assert!(with_fk.indexes.is_empty(), "{:?}", with_fk.indexes);
        assert_eq!(with_fk.unique_keys, vec![vec!["Email".to_string()]]);
        let without = users(&["ID", "Email", "ClosedUID"], false);
        assert_eq!(without.indexes.len(), 1);
    }

    #[test]
    fn stated_options_are_read_from_create_table() {
        let stated = stated_options([
            "CREATE TABLE `Users` (\n\tID INT NOT NULL, -- a (comment\n\tName VARCHAR(8) DEFAULT ')' COMMENT 'ENGINE'\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
            "-- Bans\nCREATE TABLE IF NOT EXISTS aur.Bans (IP VARCHAR(45)) ROW_FORMAT=DYNAMIC",
            "CREATE TABLE Terms (ID INT) COLLATE utf8mb4_bin",
            "CREATE TABLE Copy LIKE Terms",
            "CREATE INDEX x ON Terms (ID)",
            "INSERT INTO Terms (ID) VALUES (1)",
        ]);
        let o = |engine, charset| StatedOptions { engine, charset };
        assert_eq!(stated.get("Users"), Some(&o(true, true)));
        assert_eq!(stated.get("Bans"), Some(&o(false, false)));
        assert_eq!(stated.get("Terms"), Some(&o(false, true)));
        assert_eq!(stated.len(), 3, "{stated:?}");
        let with = |engine: &str, collation: &str| {
            let mut t = users(&["ID"], false);
            t.engine = Some(engine.into());
            t.collation = Some(collation.into());
            Schema::new(Dialect::Mysql, vec![t])
        };
        let ours = with("MyISAM", "latin1_swedish_ci");
        let theirs = with("InnoDB", "utf8mb4_general_ci");
        let stated = stated_options(["CREATE TABLE Users (ID INT) ENGINE=MyISAM"]);
        let taken = ours.unstated_options_from(&theirs, &stated);
        assert_eq!(taken.tables[0].engine.as_deref(), Some("MyISAM"));
        assert_eq!(
            taken.tables[0].collation.as_deref(),
            Some("utf8mb4_general_ci")
        );
        assert_eq!(diff(&theirs, &taken).len(), 1);
    }

    #[test]
    fn a_row_format_is_compared_only_where_the_expected_side_states_one() {
        assert_eq!(
            stated_row_format("row_format=DYNAMIC"),
            Some("DYNAMIC".into())
        );
        assert_eq!(
            stated_row_format("partitioned row_format=compact"),
            Some("COMPACT".into())
        );
        assert_eq!(stated_row_format(""), None);
        assert_eq!(stated_row_format("row_format=DEFAULT"), None);
        let with = |r: Option<&str>| {
            let mut t = users(&["ID", "Email", "ClosedUID"], false);
            t.row_format = r.map(str::to_string);
            Schema::new(Dialect::Mysql, vec![t])
        };
        let d = diff(&with(Some("DYNAMIC")), &with(None));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].object, "options");
        assert_eq!(d[0].expected.as_deref(), Some("row_format=DYNAMIC"));
        assert_eq!(d[0].found, None);
        assert_eq!(
            diff(&with(Some("DYNAMIC")), &with(Some("COMPACT"))).len(),
            1
        );
        assert!(diff(&with(Some("DYNAMIC")), &with(Some("DYNAMIC"))).is_empty());
        // Unstated in the expected schema: not compared.
        assert!(diff(&with(None), &with(Some("COMPACT"))).is_empty());
        // Stated on one side, in effect by the server's default on the other: the same.
        let mut by_default = with(None);
        by_default.tables[0].names.row_format_in_effect = Some("DYNAMIC".into());
        assert!(diff(&with(Some("DYNAMIC")), &by_default).is_empty());
        by_default.tables[0].names.row_format_in_effect = Some("COMPACT".into());
        assert_eq!(diff(&with(Some("DYNAMIC")), &by_default).len(), 1);
        assert!(with(Some("DYNAMIC"))
            .to_text()
            .starts_with("table Users row_format=DYNAMIC\n"));
    }

    #[test]
    fn diff_names_each_difference() {
        let expected = Schema::new(
            Dialect::Mysql,
            vec![users(&["ID", "Email", "ClosedUID"], true)],
        );
        assert!(diff(&expected, &expected).is_empty());
        let found = Schema::new(
            Dialect::Mysql,
            vec![users(&["ID", "ClosedUID", "Email", "Extra"], false)],
        );
        let lines: Vec<String> = diff(&expected, &found)
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert!(
            lines.contains(&"Users: column Extra: not expected (found INT NOT NULL)".to_string()),
            "{lines:#?}"
        );
        assert!(
            lines.contains(
                &"Users: column Email position: expected after ID, found after ClosedUID"
                    .to_string()
            ),
            "{lines:#?}"
        );
        assert!(
            lines.contains(&"Users: foreign key (ClosedUID) references Users (ID): missing (expected on delete SET NULL on update NO ACTION)".to_string()),
            "{lines:#?}"
        );
        assert!(
            lines.contains(&"Users: index ClosedUID: not expected (found (ClosedUID))".to_string()),
            "{lines:#?}"
        );
        let empty = Schema::new(Dialect::Mysql, vec![]);
        let lines: Vec<String> = diff(&expected, &empty)
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(lines, vec!["table Users: missing (expected 3 columns)"]);
    }

    #[test]
    fn only_the_columns_that_moved_are_named() {
        // Users of a 4.8-era database: BackupEmail was appended by hand, not after Email.
        let expected = [
            "ID",
            "Email",
            "BackupEmail",
            "HideEmail",
            "Notify",
            "SSOAccountID",
        ];
        let found = [
            "ID",
            "Email",
            "HideEmail",
            "Notify",
            "BackupEmail",
            "SSOAccountID",
        ];
        assert_eq!(moved_columns(&expected, &found), ["BackupEmail"]);
        // Two columns appended after the one that should follow them: that one moved.
        let expected = ["ID", "RequestTS", "ClosedTS", "ClosedUID", "Status"];
        let found = ["ID", "RequestTS", "Status", "ClosedTS", "ClosedUID"];
        assert_eq!(moved_columns(&expected, &found), ["Status"]);
        // A block of two: both are outside the common order, the caller names the first.
        let expected = ["A", "B", "C", "D", "E"];
        let found = ["C", "D", "E", "A", "B"];
        assert_eq!(moved_columns(&expected, &found), ["A", "B"]);
        let same = ["A", "B"];
        assert!(moved_columns(&same, &same).is_empty());
    }

    #[test]
    fn text_form_is_stable() {
        let s = Schema::new(
            Dialect::Mysql,
            vec![users(&["ID", "Email", "ClosedUID"], true)],
        );
        assert_eq!(
            s.to_text(),
            "table Users\n  column ID INT NOT NULL\n  column Email INT NOT NULL\n  column ClosedUID INT NOT NULL\n  primary key (ID)\n  unique (Email)\n  foreign key (ClosedUID) references Users (ID) on delete SET NULL on update NO ACTION\n"
        );
    }
}

impl Schema {
    /// The model with each difference in `kept` (found comparing it, as expected, with
    /// `found`) taken back to `found`'s side: the table, column, column order, options, key,
    /// index or foreign key that difference names is `found`'s. `new --autogenerate` drafts
    /// from the result, so a reviewed difference the migrations keep on purpose is not undone.
    pub fn keeping(&self, found: &Schema, kept: &[(String, String)]) -> Schema {
        let mut out = self.clone();
        for (table, object) in kept {
            let theirs = found.table(table);
            if object == "table" {
                out.tables.retain(|t| &t.name != table);
                out.tables.extend(theirs.cloned());
                out.tables.sort_by(|a, b| a.name.cmp(&b.name));
                continue;
            }
            let (Some(ours), Some(theirs)) =
                (out.tables.iter_mut().find(|t| &t.name == table), theirs)
            else {
                continue;
            };
            ours.keep(theirs, object);
        }
        out
    }
}

impl Table {
    /// This table with the object `object` (as [`diff`] names it) taken from `theirs`.
    fn keep(&mut self, theirs: &Table, object: &str) {
        if object == "options" {
            self.engine.clone_from(&theirs.engine);
            self.collation.clone_from(&theirs.collation);
            self.row_format.clone_from(&theirs.row_format);
        } else if object == "primary key" {
            self.primary_key.clone_from(&theirs.primary_key);
        } else if object.starts_with("column ") && object.ends_with(" position") {
            // Their order for the columns both have, then the columns only we have.
            let rank = |n: &str| theirs.columns.iter().position(|c| c.name == n);
            let (mut common, only): (Vec<Column>, Vec<Column>) = self
                .columns
                .drain(..)
                .partition(|c| rank(&c.name).is_some());
            common.sort_by_key(|c| rank(&c.name));
            common.extend(only);
            self.columns = common;
        } else if let Some(name) = object.strip_prefix("column ") {
            let mine = self.columns.iter().position(|c| c.name == name);
            match (mine, theirs.columns.iter().find(|c| c.name == name)) {
                (Some(i), Some(c)) => self.columns[i] = c.clone(),
                (Some(i), None) => {
                    self.columns.remove(i);
                }
                (None, Some(c)) => {
                    let at = theirs
                        .columns
                        .iter()
                        .position(|x| x.name == name)
                        .and_then(|p| p.checked_sub(1))
                        .and_then(|p| {
                            self.columns
                                .iter()
                                .position(|x| x.name == theirs.columns[p].name)
                        })
                        .map_or(0, |p| p + 1);
                    self.columns.insert(at, c.clone());
                }
                (None, None) => {}
            }
        } else if let Some(name) = object.strip_prefix("index ") {
            self.indexes.retain(|i| i.name != name);
            self.indexes
                .extend(theirs.indexes.iter().filter(|i| i.name == name).cloned());
            self.indexes.sort();
        } else if object.starts_with("unique ") {
            let key = |u: &Vec<String>| format!("unique {}", cols(u));
            self.unique_keys.retain(|u| key(u) != object);
            self.unique_keys.extend(
                theirs
                    .unique_keys
                    .iter()
                    .filter(|u| key(u) == object)
                    .cloned(),
            );
            self.unique_keys.sort();
        } else if object.starts_with("foreign key ") {
            let key = |fk: &ForeignKey| {
                format!(
                    "foreign key {} references {} {}",
                    cols(&fk.columns),
                    fk.references_table,
                    cols(&fk.references_columns)
                )
            };
            self.foreign_keys.retain(|fk| key(fk) != object);
            self.foreign_keys.extend(
                theirs
                    .foreign_keys
                    .iter()
                    .filter(|fk| key(fk) == object)
                    .cloned(),
            );
            self.foreign_keys.sort();
        }
    }
}

#[cfg(test)]
mod keeping_tests {
    use super::*;

    fn col(name: &str, type_name: &str) -> Column {
        Column {
            name: name.into(),
            type_name: type_name.into(),
            nullable: false,
            default: None,
            auto_increment: false,
            on_update: None,
            collation: None,
        }
    }

    fn users(columns: &[(&str, &str)], indexes: &[&str]) -> Schema {
        Schema::new(
            Dialect::Mysql,
            vec![Table {
                name: "Users".into(),
                engine: None,
                collation: None,
                row_format: None,
                columns: columns.iter().map(|(n, t)| col(n, t)).collect(),
                primary_key: vec!["ID".into()],
                unique_keys: Vec::new(),
                indexes: indexes
                    .iter()
                    .map(|n| Index {
                        name: (*n).into(),
                        columns: vec!["Email".into()],
                    })
                    .collect(),
                foreign_keys: Vec::new(),
                names: CatalogueNames::default(),
            }],
        )
    }

    #[test]
    fn a_kept_difference_is_taken_from_the_found_side_and_no_other() {
        // The models: EmailVerified after ID, TEXT Homepage, index UsersEmail, column Theme.
        let desired = users(
            &[
                ("ID", "INT"),
                ("EmailVerified", "TINYINT"),
                ("Email", "VARCHAR(254)"),
                ("Homepage", "TEXT"),
                ("Theme", "TEXT"),
            ],
            &["UsersEmail"],
        );
        // The replay: EmailVerified at the end, MEDIUMTEXT, no index, no Theme.
        let found = users(
            &[
                ("ID", "INT"),
                ("Email", "VARCHAR(254)"),
                ("Homepage", "MEDIUMTEXT"),
                ("EmailVerified", "TINYINT"),
            ],
            &[],
        );
        let kept = |objects: &[&str]| {
            let kept: Vec<(String, String)> = objects
                .iter()
                .map(|o| ("Users".to_string(), (*o).to_string()))
                .collect();
            diff(&desired.keeping(&found, &kept), &found)
                .into_iter()
                .map(|d| d.object)
                .collect::<Vec<_>>()
        };
        let all = kept(&[]);
        assert_eq!(
            all,
            [
                "column Homepage",
                "column Theme",
                "column EmailVerified position",
                "index UsersEmail"
            ]
        );
        // Each kept difference goes, the others stay (Theme, only ours, stays last).
        assert_eq!(
            kept(&["column EmailVerified position", "index UsersEmail"]),
            ["column Homepage", "column Theme"]
        );
        assert_eq!(
            kept(&["column Homepage", "column Theme"]),
            ["column EmailVerified position", "index UsersEmail"]
        );
        // A whole table: theirs.
        let table = vec![("Users".to_string(), "table".to_string())];
        assert_eq!(desired.keeping(&found, &table), found);
        // A kept column only the found side has is put back after its predecessor there.
        let gone = users(&[("ID", "INT"), ("Email", "VARCHAR(254)")], &[]);
        let back = gone.keeping(
            &found,
            &[("Users".to_string(), "column Homepage".to_string())],
        );
        let names: Vec<&str> = back.tables[0]
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["ID", "Email", "Homepage"]);
    }
}
