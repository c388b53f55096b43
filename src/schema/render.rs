//! DDL from the canonical schema model: `schema render --dialect sqlite` writes SQLite's
//! schema file from the model of the MySQL one (as MariaDB itself read it into a scratch
//! database), so that `schema/sqlite.sql` follows `schema/mysql.sql` instead of being edited
//! by hand. Every MySQL construct has a rule below; one without a rule is an error naming the
//! table and column, never dropped silently. `schema init` writes a project's first schema
//! files from a replay of its migrations: MySQL's from the model ([`mysql_file`]), SQLite's
//! from the statements SQLite stored ([`sqlite_file`]) or as the rendering of MySQL's.
//!
//! | MySQL (in the model) | SQLite | why |
//! |---|---|---|
//! | auto-increment integer column (the whole primary key) | `INTEGER NOT NULL PRIMARY KEY` | exactly INTEGER, so it is the rowid alias SQLite fills in |
//! | `INT UNSIGNED` | `INTEGER` | aurweb spells its IDs and foreign keys `INTEGER UNSIGNED` |
//! | `INT` (signed); `TINYINT`, `SMALLINT`, `MEDIUMINT`, `BIGINT` [UNSIGNED] | the name without UNSIGNED | display widths are already gone from the model |
//! | `TINYINT(1)` | `TINYINT(1)` | the boolean idiom |
//! | a single-column integer primary key, not auto-increment | `INT`, never `INTEGER` | INTEGER would make it a rowid alias, filled in when NULL is inserted |
//! | `DECIMAL(p,s)` [UNSIGNED] | `DECIMAL(p,s)` | precision kept (NUMERIC affinity) |
//! | `CHAR(n)`, `VARCHAR(n)` | the same | SQLite does not enforce the length; family and size stay visible |
//! | `TINYTEXT`, `TEXT`, `MEDIUMTEXT`, `LONGTEXT` | `TEXT` | one text type |
//! | `TIMESTAMP`, `DATETIME`, `DATE` | the same | TEXT affinity, values as MySQL writes them |
//! | column collation (`utf8mb4_bin`, `…_general_ci`) | none (BINARY) | NOCASE folds ASCII only, so no SQLite collation equals a MySQL `_ci` one |
//! | `NULL`/`NOT NULL`, `DEFAULT` literal or `CURRENT_TIMESTAMP` | the same | defaults in the model's normalised form |
//! | `ON UPDATE CURRENT_TIMESTAMP` | no rule: an error | SQLite would need a trigger |
//! | `ENGINE`, table charset/collation, `ROW_FORMAT` | nothing | storage options SQLite does not have |
//! | primary key, unnamed unique keys, foreign keys with `ON DELETE`/`ON UPDATE` | table constraints | |
//! | a unique key with a name of its own (`CREATE UNIQUE INDEX n …`) | `CREATE UNIQUE INDEX`, same name and columns | a migration adds or drops it without rebuilding the table |
//! | other indexes | `CREATE INDEX`, same name and columns | |
//! | rows (seed data) | `INSERT … VALUES`, in the order the comparison reads them | |
//! | any other type | no rule: an error | |

use std::collections::BTreeMap;

use crate::dialect::Dialect;
use crate::schema::autogen::rows::{literal as row_literal, referenced_first};
use crate::schema::{Column, Definition, Schema, SchemaError, StatedOptions, Table};

/// The name a unique key was given in the MySQL schema (`CREATE UNIQUE INDEX name …`,
/// `UNIQUE KEY name (…)`), or `None` for one the server named after its first column
/// (`UNIQUE (Email)`: `Email`, `Email_2`). A named one is rendered as a `CREATE UNIQUE INDEX`
/// of that name, so that a migration adds or drops it without rebuilding the table.
pub(crate) fn named_unique<'a>(t: &'a Table, columns: &[String]) -> Option<&'a str> {
    let name = t.names.unique_key(columns)?;
    let first = columns.first()?;
    let made_up = name == first
        || name
            .strip_prefix(first.as_str())
            .and_then(|r| r.strip_prefix('_'))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    (!made_up).then_some(name)
}

type Result<T, E = SchemaError> = std::result::Result<T, E>;

/// The line that marks a schema file as a rendering (`verify` then checks that it still is
/// one); the source is the MySQL file beside it.
pub const GENERATED: &str =
    "-- Generated from mysql.sql beside this file by `aurweb-migrate schema render --dialect sqlite`";

/// Whether a schema file's text says it is a rendering.
pub fn is_generated(text: &str) -> bool {
    text.lines()
        .take_while(|l| l.starts_with("--"))
        .any(|l| l.trim_end() == GENERATED)
}

/// The header of a rendered SQLite schema file at `version`.
pub fn sqlite_header(version: u64) -> String {
    format!(
        "-- The database schema for SQLite: the current (head) schema, for a fresh install.\n\
         -- schema-version: {version}\n\
         --\n\
         {GENERATED}\n\
         -- (the rules are in src/schema/render.rs): edit mysql.sql and render again\n\
         -- instead of editing this file; `verify` fails while it is not the rendering.\n"
    )
}

/// A rendering of `dialect`'s schema file from `model` (another dialect's), or `None` when
/// there is no renderer for that pair.
pub fn render_for(
    dialect: Dialect,
    model: &Schema,
    rows: &[(String, Vec<Vec<Option<String>>>)],
    version: u64,
) -> Option<Result<String>> {
    match (model.dialect, dialect) {
        (Dialect::Mysql, Dialect::Sqlite) => {
            Some(sqlite_schema(model, rows, &sqlite_header(version)))
        }
        _ => None,
    }
}

/// The first line where `found` differs from `expected`: (1-based line, expected, found), a
/// missing line as `None`.
pub fn first_difference(
    expected: &str,
    found: &str,
) -> Option<(usize, Option<String>, Option<String>)> {
    let (mut e, mut f) = (expected.lines(), found.lines());
    let mut line = 0;
    loop {
        line += 1;
        match (e.next(), f.next()) {
            (None, None) => return None,
            (a, b) if a == b => {}
            (a, b) => return Some((line, a.map(str::to_string), b.map(str::to_string))),
        }
    }
}

/// The types the rules know, for an error that lists them.
const KNOWN_TYPES: &str = "TINYINT(1), TINYINT, SMALLINT, MEDIUMINT, INT, BIGINT [UNSIGNED], DECIMAL(p,s) [UNSIGNED], CHAR(n), VARCHAR(n), TINYTEXT, TEXT, MEDIUMTEXT, LONGTEXT, TIMESTAMP, DATETIME, DATE";

/// The SQLite type of a column of `table`, by the rules in this module's table.
fn sqlite_type(table: &Table, c: &Column) -> Result<String> {
    let no_rule = |what: String| SchemaError::NoSqliteRule {
        table: table.name.clone(),
        column: c.name.clone(),
        what,
        hint: format!(" (known: {KNOWN_TYPES})"),
    };
    let t = c.type_name.as_str();
    let (base, unsigned) = match t.strip_suffix(" UNSIGNED") {
        Some(b) => (b, true),
        None => (t, false),
    };
    let single_integer_key = table.primary_key.len() == 1 && table.primary_key[0] == c.name;
    let name = match base {
        "TINYINT(1)" => "TINYINT(1)".to_string(),
        "INT" if single_integer_key => "INT".to_string(),
        "INT" if unsigned => "INTEGER".to_string(),
        "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" => base.to_string(),
        "TINYTEXT" | "TEXT" | "MEDIUMTEXT" | "LONGTEXT" if !unsigned => "TEXT".to_string(),
        "TIMESTAMP" | "DATETIME" | "DATE" if !unsigned => base.to_string(),
        b if b.starts_with("DECIMAL(") => b.to_string(),
        b if (b.starts_with("VARCHAR(") || b.starts_with("CHAR(")) && !unsigned => b.to_string(),
        _ => return Err(no_rule(format!("type {t}"))),
    };
    Ok(name)
}

/// A value read back as text ([`crate::backend::Catalogue::table_rows`]) as an SQL literal:
/// integers bare, everything else quoted.
fn literal(v: &Option<String>) -> String {
    match v {
        None => "NULL".to_string(),
        Some(s) if s.parse::<i64>().is_ok() => s.clone(),
        Some(s) => format!("'{}'", s.replace('\'', "''")),
    }
}

/// SQLite's schema file for `schema` (a MySQL model) and its rows, starting with `header`
/// (comment lines). Tables come in the model's order (by name): SQLite does not check a
/// foreign key's table when it is created.
pub fn sqlite_schema(
    schema: &Schema,
    rows: &[(String, Vec<Vec<Option<String>>>)],
    header: &str,
) -> Result<String> {
    if schema.dialect != Dialect::Mysql {
        return Err(SchemaError::RenderNeedsMysql);
    }
    // Names as SQLite must read them: bare where plain (also a keyword SQLite takes as a name,
    // `Groups`), quoted where a keyword it does not (`Order`).
    let q = |name: &str| Dialect::Sqlite.rendered_ident(name);
    let list = |names: &[String]| names.iter().map(|n| q(n)).collect::<Vec<_>>().join(", ");
    let mut out = String::from(header);
    for t in &schema.tables {
        let mut lines = Vec::new();
        let rowid = t.columns.iter().any(|c| c.auto_increment);
        for c in &t.columns {
            if let Some(on_update) = &c.on_update {
                return Err(SchemaError::NoSqliteRule {
                    table: t.name.clone(),
                    column: c.name.clone(),
                    what: format!("ON UPDATE {on_update}"),
                    hint: " (SQLite needs a trigger for it)".into(),
                });
            }
            if c.auto_increment {
                if t.primary_key != [c.name.clone()] {
                    return Err(SchemaError::NoSqliteRule {
                        table: t.name.clone(),
                        column: c.name.clone(),
                        what: "an auto-increment column that is not the whole primary key".into(),
                        hint: String::new(),
                    });
                }
                lines.push(format!("\t{} INTEGER NOT NULL PRIMARY KEY", q(&c.name)));
                continue;
            }
            let mut line = format!("\t{} {}", q(&c.name), sqlite_type(t, c)?);
            line.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
            if let Some(d) = &c.default {
                line.push_str(&format!(" DEFAULT {d}"));
            }
            lines.push(line);
        }
        if !t.primary_key.is_empty() && !rowid {
            lines.push(format!("\tPRIMARY KEY ({})", list(&t.primary_key)));
        }
        let mut unique_indexes = Vec::new();
        for u in &t.unique_keys {
            match named_unique(t, u) {
                Some(name) => unique_indexes.push(format!(
                    "CREATE UNIQUE INDEX {} ON {} ({});\n",
                    q(name),
                    q(&t.name),
                    list(u)
                )),
                None => lines.push(format!("\tUNIQUE ({})", list(u))),
            }
        }
        for fk in &t.foreign_keys {
            let mut line = format!(
                "\tFOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {}",
                list(&fk.columns),
                q(&fk.references_table),
                list(&fk.references_columns),
                fk.on_delete
            );
            if fk.on_update != "NO ACTION" {
                line.push_str(&format!(" ON UPDATE {}", fk.on_update));
            }
            lines.push(line);
        }
        out.push_str(&format!(
            "\nCREATE TABLE {} (\n{}\n);\n",
            q(&t.name),
            lines.join(",\n")
        ));
        for u in unique_indexes {
            out.push_str(&u);
        }
        for i in &t.indexes {
            out.push_str(&format!(
                "CREATE INDEX {} ON {} ({});\n",
                q(&i.name),
                q(&t.name),
                list(&i.columns)
            ));
        }
    }
    for (table, table_rows) in rows {
        let Some(t) = schema.table(table) else {
            continue;
        };
        if table_rows.is_empty() {
            continue;
        }
        let columns: Vec<String> = t.columns.iter().map(|c| q(&c.name)).collect();
        let values: Vec<String> = table_rows
            .iter()
            .map(|r| {
                format!(
                    "\t({})",
                    r.iter().map(literal).collect::<Vec<_>>().join(", ")
                )
            })
            .collect();
        out.push_str(&format!(
            "\nINSERT INTO {} ({}) VALUES\n{};\n",
            q(table),
            columns.join(", "),
            values.join(",\n")
        ));
    }
    Ok(out)
}

/// The header of a schema file `schema init` writes for `dialect` at `version`, from a replay
/// of `migrations` migrations in `dir`.
pub fn init_header(dialect: Dialect, version: u64, migrations: usize, dir: &str) -> String {
    format!(
        "-- The database schema for {}: the current (head) schema, for a fresh install.\n\
         -- schema-version: {version}\n\
         --\n\
         -- Written by `aurweb-migrate schema init` from a replay of the {migrations} migration(s) in\n\
         -- {dir}/. From now on change it with each migration (or change it first and let\n\
         -- `aurweb-migrate new --autogenerate` write the migration); `verify` checks that it\n\
         -- equals a replay.\n",
        match dialect {
            Dialect::Mysql => "MySQL/MariaDB",
            Dialect::Sqlite => "SQLite",
        }
    )
}

/// Rows (seed data) as `INSERT`s of `dialect`, a table after the tables it references.
fn inserts(
    dialect: Dialect,
    schema: &Schema,
    rows: &[(String, Vec<Vec<Option<String>>>)],
) -> String {
    let mut out = String::new();
    let filled: Vec<String> = rows
        .iter()
        .filter(|(t, r)| !r.is_empty() && schema.table(t).is_some())
        .map(|(t, _)| t.clone())
        .collect();
    for table in referenced_first(schema, filled) {
        let (Some(t), Some((_, table_rows))) =
            (schema.table(&table), rows.iter().find(|(n, _)| *n == table))
        else {
            continue;
        };
        let columns: Vec<String> = t.columns.iter().map(|c| dialect.ident(&c.name)).collect();
        let values: Vec<String> = table_rows
            .iter()
            .map(|r| {
                let v: Vec<String> = r
                    .iter()
                    .map(|v| row_literal(dialect, v.as_deref()))
                    .collect();
                format!("\t({})", v.join(", "))
            })
            .collect();
        out.push_str(&format!(
            "\nINSERT INTO {} ({}) VALUES\n{};\n",
            dialect.ident(&table),
            columns.join(", "),
            values.join(",\n")
        ));
    }
    out
}

/// The schema file of `dialect` for a database read back as `schema` and `rows`: MySQL's
/// [`mysql_file`] (table options as `stated` by the migrations, `default_collation` left
/// unstated) or SQLite's [`sqlite_file`] (as the database stored its `definitions`).
pub fn file_for(
    dialect: Dialect,
    definitions: &[Definition],
    schema: &Schema,
    rows: &[(String, Vec<Vec<Option<String>>>)],
    header: &str,
    stated: &BTreeMap<String, StatedOptions>,
    default_collation: Option<&str>,
) -> String {
    match dialect {
        Dialect::Mysql => mysql_file(schema, rows, header, stated, default_collation),
        Dialect::Sqlite => sqlite_file(definitions, schema, rows, header),
    }
}

/// MySQL's schema file for `schema` (the model of a replay) and its rows, starting with
/// `header`: every table's `CREATE TABLE` as the generator writes one
/// ([`crate::schema::autogen::mysql_schema_statements`]), stating a table's engine and
/// character set where the migrations' `CREATE TABLE` did (`stated`) or where they are not
/// the defaults (`InnoDB`, `default_collation`: a later `ALTER TABLE` set them), then the rows.
pub fn mysql_file(
    schema: &Schema,
    rows: &[(String, Vec<Vec<Option<String>>>)],
    header: &str,
    stated: &BTreeMap<String, StatedOptions>,
    default_collation: Option<&str>,
) -> String {
    let options = |t: &Table| {
        let said = stated
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&t.name))
            .map(|(_, o)| *o)
            .unwrap_or_default();
        StatedOptions {
            engine: said.engine
                || t.engine
                    .as_deref()
                    .is_some_and(|e| !e.eq_ignore_ascii_case("InnoDB")),
            charset: said.charset || t.collation.as_deref() != default_collation,
        }
    };
    let mut out = String::from(header);
    for statement in crate::schema::autogen::mysql_schema_statements(schema, &options) {
        out.push('\n');
        out.push_str(&statement);
        out.push_str(";\n");
    }
    out.push_str(&inserts(Dialect::Mysql, schema, rows));
    out
}

/// SQLite's schema file from a replay: the `CREATE` statements SQLite stored (`definitions`),
/// each table followed by its indexes and triggers, then the views, then the rows.
pub fn sqlite_file(
    definitions: &[Definition],
    schema: &Schema,
    rows: &[(String, Vec<Vec<Option<String>>>)],
    header: &str,
) -> String {
    let mut out = String::from(header);
    let of = |kind: &str, table: Option<&str>| {
        let mut d: Vec<&Definition> = definitions
            .iter()
            .filter(|d| d.kind == kind && table.is_none_or(|t| d.table.eq_ignore_ascii_case(t)))
            .collect();
        d.sort_by(|a, b| a.name.cmp(&b.name));
        d
    };
    for t in of("table", None) {
        out.push_str(&format!("\n{};\n", t.sql.trim_end()));
        for d in of("index", Some(&t.name))
            .into_iter()
            .chain(of("trigger", Some(&t.name)))
        {
            out.push_str(&format!("{};\n", d.sql.trim_end()));
        }
    }
    for v in of("view", None) {
        out.push_str(&format!("\n{};\n", v.sql.trim_end()));
    }
    out.push_str(&inserts(Dialect::Sqlite, schema, rows));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ForeignKey, Index};

    fn column(name: &str, type_name: &str) -> Column {
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

    fn table(name: &str, columns: Vec<Column>, primary_key: &[&str]) -> Table {
        Table {
            name: name.into(),
            engine: Some("InnoDB".into()),
            collation: Some("utf8mb4_general_ci".into()),
            row_format: None,
            columns,
            primary_key: primary_key.iter().map(|s| s.to_string()).collect(),
            unique_keys: vec![],
            indexes: vec![],
            foreign_keys: vec![],
            names: Default::default(),
        }
    }

    #[test]
    fn types_follow_the_rules() {
        let t = table(
            "T",
            vec![
                column("K", "INT UNSIGNED"),
                column("A", "INT UNSIGNED"),
                column("B", "INT"),
                column("C", "TINYINT(1)"),
                column("D", "DECIMAL(10,6) UNSIGNED"),
                column("E", "MEDIUMTEXT"),
                column("F", "BIGINT UNSIGNED"),
            ],
            &["K"],
        );
        let got: Vec<String> = t
            .columns
            .iter()
            .map(|c| sqlite_type(&t, c).unwrap())
            .collect();
        assert_eq!(
            got,
            [
                "INT",
                "INTEGER",
                "INT",
                "TINYINT(1)",
                "DECIMAL(10,6)",
                "TEXT",
                "BIGINT"
            ]
        );
        let bad = table("T", vec![column("G", "GEOMETRY")], &[]);
        let e = sqlite_type(&bad, &bad.columns[0]).unwrap_err().to_string();
        assert!(e.contains("T.G") && e.contains("GEOMETRY"), "{e}");
    }

    #[test]
    fn a_unique_key_with_a_name_of_its_own_renders_as_its_own_index() {
        let mut t = table(
            "Users",
            vec![column("ID", "INT"), column("Email", "VARCHAR(254)")],
            &["ID"],
        );
        t.unique_keys = vec![vec!["Email".into()], vec!["ID".into(), "Email".into()]];
        // `UNIQUE (Email)` (named Email by the server), `CREATE UNIQUE INDEX UsersIDEmail`.
        t.names.unique_keys = vec![
            (vec!["Email".into()], "Email".into()),
            (vec!["ID".into(), "Email".into()], "UsersIDEmail".into()),
        ];
        assert_eq!(named_unique(&t, &t.unique_keys[0]), None);
        assert_eq!(named_unique(&t, &t.unique_keys[1]), Some("UsersIDEmail"));
        t.names.unique_keys[1].1 = "ID_2".into();
        assert_eq!(named_unique(&t, &t.unique_keys[1]), None, "server-made");
        t.names.unique_keys[1].1 = "UsersIDEmail".into();
        let text = sqlite_schema(&Schema::new(Dialect::Mysql, vec![t]), &[], "").unwrap();
        assert_eq!(
            text,
            "\nCREATE TABLE Users (\n\tID INT NOT NULL,\n\tEmail VARCHAR(254) NOT NULL,\n\tPRIMARY KEY (ID),\n\tUNIQUE (Email)\n);\nCREATE UNIQUE INDEX UsersIDEmail ON Users (ID, Email);\n"
        );
    }

    #[test]
    fn a_table_renders_with_its_keys_indexes_and_rows() {
        let mut id = column("ID", "INT UNSIGNED");
        id.auto_increment = true;
        let mut name = column("Name", "VARCHAR(32)");
        name.default = Some("''".into());
        let mut owner = column("OwnerID", "INT UNSIGNED");
        owner.nullable = true;
        let mut t = table("Things", vec![id, name, owner], &["ID"]);
        t.unique_keys = vec![vec!["Name".into()]];
        t.indexes = vec![Index {
            name: "ThingsOwner".into(),
            columns: vec!["OwnerID".into()],
        }];
        t.foreign_keys = vec![ForeignKey {
            columns: vec!["OwnerID".into()],
            references_table: "Users".into(),
            references_columns: vec!["ID".into()],
            on_delete: "SET NULL".into(),
            on_update: "NO ACTION".into(),
        }];
        let schema = Schema::new(Dialect::Mysql, vec![t]);
        let rows = vec![(
            "Things".to_string(),
            vec![vec![Some("1".into()), Some("it's".into()), None]],
        )];
        let text = sqlite_schema(&schema, &rows, "-- header\n").unwrap();
        assert_eq!(
            text,
            "-- header\n\nCREATE TABLE Things (\n\tID INTEGER NOT NULL PRIMARY KEY,\n\tName VARCHAR(32) NOT NULL DEFAULT '',\n\tOwnerID INTEGER NULL,\n\tUNIQUE (Name),\n\tFOREIGN KEY (OwnerID) REFERENCES Users (ID) ON DELETE SET NULL\n);\nCREATE INDEX ThingsOwner ON Things (OwnerID);\n\nINSERT INTO Things (ID, Name, OwnerID) VALUES\n\t(1, 'it''s', NULL);\n"
        );
    }

    /// SQLite keywords as names (a table `Order`, a column `Group`, an index `Index`) are
    /// quoted wherever the rendering writes a name; plain names stay bare (the test above).
    #[test]
    fn keyword_names_are_quoted_in_the_sqlite_rendering() {
        let mut id = column("Group", "INT UNSIGNED");
        id.auto_increment = true;
        let mut t = table(
            "Order",
            vec![id, column("Values", "VARCHAR(8)")],
            &["Group"],
        );
        t.unique_keys = vec![vec!["Values".into()]];
        t.indexes = vec![Index {
            name: "Index".into(),
            columns: vec!["Values".into(), "Group".into()],
        }];
        let mut c = table(
            "Select",
            vec![column("From", "INT UNSIGNED"), column("To", "INT")],
            &["From", "To"],
        );
        c.foreign_keys = vec![ForeignKey {
            columns: vec!["From".into()],
            references_table: "Order".into(),
            references_columns: vec!["Group".into()],
            on_delete: "CASCADE".into(),
            on_update: "NO ACTION".into(),
        }];
        let schema = Schema::new(Dialect::Mysql, vec![t, c]);
        let rows = vec![(
            "Order".to_string(),
            vec![vec![Some("1".into()), Some("a".into())]],
        )];
        let text = sqlite_schema(&schema, &rows, "").unwrap();
        assert_eq!(
            text,
            "\nCREATE TABLE \"Order\" (\n\t\"Group\" INTEGER NOT NULL PRIMARY KEY,\n\t\"Values\" VARCHAR(8) NOT NULL,\n\tUNIQUE (\"Values\")\n);\nCREATE INDEX \"Index\" ON \"Order\" (\"Values\", \"Group\");\n\nCREATE TABLE \"Select\" (\n\t\"From\" INTEGER NOT NULL,\n\t\"To\" INT NOT NULL,\n\tPRIMARY KEY (\"From\", \"To\"),\n\tFOREIGN KEY (\"From\") REFERENCES \"Order\" (\"Group\") ON DELETE CASCADE\n);\n\nINSERT INTO \"Order\" (\"Group\", \"Values\") VALUES\n\t(1, 'a');\n"
        );
    }

    /// `schema init`'s MySQL file: tables in an order MySQL accepts (referenced tables first; in
    /// a cycle, a foreign key to a table created later is added after it), engine and character set only where stated or not the
    /// defaults, a column's collation only where it is not its table's, rows referenced first.
    #[test]
    fn the_mysql_file_of_a_replay() {
        let mut users = table(
            "Users",
            vec![column("ID", "INT"), column("Name", "VARCHAR(32)")],
            &["ID"],
        );
        users.columns[1].collation = Some("utf8mb4_general_ci".into());
        let mut kinds = table(
            "Kinds",
            vec![column("ID", "INT"), column("Label", "VARCHAR(20)")],
            &["ID"],
        );
        kinds.collation = Some("utf8mb4_bin".into());
        kinds.columns[1].collation = Some("utf8mb4_general_ci".into());
        let mut posts = table(
            "Posts",
            vec![column("ID", "INT"), column("UserID", "INT")],
            &["ID"],
        );
        posts.collation = None;
        posts.foreign_keys = vec![ForeignKey {
            columns: vec!["UserID".into()],
            references_table: "Users".into(),
            references_columns: vec!["ID".into()],
            on_delete: "CASCADE".into(),
            on_update: "NO ACTION".into(),
        }];
        // A cycle: Users → Kinds → Users.
        users.columns.push(column("KindID", "INT"));
        users.foreign_keys = vec![ForeignKey {
            columns: vec!["KindID".into()],
            references_table: "Kinds".into(),
            references_columns: vec!["ID".into()],
            on_delete: "NO ACTION".into(),
            on_update: "NO ACTION".into(),
        }];
        kinds.columns.push(column("OwnerID", "INT"));
        kinds.foreign_keys = vec![ForeignKey {
            columns: vec!["OwnerID".into()],
            references_table: "Users".into(),
            references_columns: vec!["ID".into()],
            on_delete: "NO ACTION".into(),
            on_update: "NO ACTION".into(),
        }];
        let schema = Schema::new(Dialect::Mysql, vec![users, kinds, posts]);
        let rows = vec![
            (
                "Posts".to_string(),
                vec![vec![Some("1".into()), Some("1".into())]],
            ),
            (
                "Users".to_string(),
                vec![vec![Some("1".into()), Some("a\\b".into()), None]],
            ),
        ];
        let mut stated = BTreeMap::new();
        stated.insert(
            "Kinds".to_string(),
            StatedOptions {
                engine: false,
                charset: true,
            },
        );
        let text = mysql_file(
            &schema,
            &rows,
            "-- h\n",
            &stated,
            Some("utf8mb4_general_ci"),
        );
        assert_eq!(
            text,
            "-- h\n\nCREATE TABLE `Kinds` (\n  `ID` INT NOT NULL,\n  `Label` VARCHAR(20) COLLATE utf8mb4_general_ci NOT NULL,\n  `OwnerID` INT NOT NULL,\n  PRIMARY KEY (`ID`)\n) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;\n\nCREATE TABLE `Users` (\n  `ID` INT NOT NULL,\n  `Name` VARCHAR(32) NOT NULL,\n  `KindID` INT NOT NULL,\n  PRIMARY KEY (`ID`),\n  FOREIGN KEY (`KindID`) REFERENCES `Kinds` (`ID`)\n);\n\nCREATE TABLE `Posts` (\n  `ID` INT NOT NULL,\n  `UserID` INT NOT NULL,\n  PRIMARY KEY (`ID`),\n  FOREIGN KEY (`UserID`) REFERENCES `Users` (`ID`) ON DELETE CASCADE\n);\n\nALTER TABLE `Kinds`\n  ADD FOREIGN KEY (`OwnerID`) REFERENCES `Users` (`ID`);\n\nINSERT INTO `Users` (`ID`, `Name`, `KindID`) VALUES\n\t(1, 'a\\\\b', NULL);\n\nINSERT INTO `Posts` (`ID`, `UserID`) VALUES\n\t(1, 1);\n"
        );
    }

    #[test]
    fn on_update_has_no_rule() {
        let mut ts = column("Changed", "TIMESTAMP");
        ts.on_update = Some("CURRENT_TIMESTAMP".into());
        let schema = Schema::new(Dialect::Mysql, vec![table("T", vec![ts], &[])]);
        let e = sqlite_schema(&schema, &[], "").unwrap_err().to_string();
        assert!(e.contains("T.Changed") && e.contains("ON UPDATE"), "{e}");
    }
}
