//! What a statement tightens: the constraints a table has after it and did not have before
//! (a new primary or unique key, a column made NOT NULL, a new foreign key, a narrower type
//! or length, ENUM/SET values removed), found by comparing the canonical model of a table
//! before and after the statement ran on an empty copy of it (the rehearsal,
//! `compare/rehearsal.rs`). Pure: both models are given.

use serde::Serialize;

use super::{Definition, Schema, Table};
use crate::dialect::Dialect;

/// One constraint a statement adds or tightens on a table that existed before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tightening {
    pub table: String,
    /// `primary-key`, `unique-key`, `not-null`, `foreign-key`, `narrower-type`,
    /// `enum-values-removed` or `check`.
    pub kind: &'static str,
    pub columns: Vec<String>,
    /// For people: `unique key (a, b)`, `VARCHAR(255) -> VARCHAR(100)`, …
    pub detail: String,
    /// What the probe of the live rows needs beyond the columns.
    #[serde(skip)]
    pub needs: Needs,
}

/// What a tightening's probe needs beyond its table and columns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Needs {
    #[default]
    Nothing,
    /// A foreign key: the referenced table and its columns.
    Parent { table: String, columns: Vec<String> },
    /// A narrower type or ENUM/SET values removed: the column's type before and after.
    Types { old: String, new: String },
    /// A CHECK: its clause.
    Clause(String),
}

impl std::fmt::Display for Tightening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} on {}", self.detail, self.table)
    }
}

/// A database as the rehearsal compares it: the model and the CHECK constraints, each as
/// (table, clause).
#[derive(Debug, Clone)]
pub struct State {
    pub schema: Schema,
    pub checks: Vec<(String, String)>,
}

impl State {
    /// The model with the CHECK constraints of `definitions` (MySQL: `check` rows; SQLite:
    /// the `CHECK (…)` clauses of each table's SQL).
    pub fn new(schema: Schema, definitions: &[Definition]) -> State {
        let mut checks = Vec::new();
        for d in definitions {
            match d.kind.as_str() {
                "check" => checks.push((d.table.clone(), d.sql.trim().to_string())),
                "table" if schema.dialect == Dialect::Sqlite => {
                    for c in check_clauses(&d.sql) {
                        checks.push((d.table.clone(), c));
                    }
                }
                _ => {}
            }
        }
        checks.sort();
        State { schema, checks }
    }

    fn checks_of<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a str> {
        self.checks
            .iter()
            .filter(move |(t, _)| t == table)
            .map(|(_, c)| c.as_str())
    }
}

/// What changed from `before` to `after`, for every table of `after` that `before` has, or,
/// when `before` has it not, that `origin` has (a table rebuilt under a new name and renamed
/// back is compared with the table it replaces). Tables new to both are not tightened: they
/// have no rows.
pub fn tightenings(origin: &State, before: &State, after: &State) -> Vec<Tightening> {
    let mut out = Vec::new();
    for t in &after.schema.tables {
        // Only a table that came back: one `before` lacks but had at the start.
        let (old, was) = match before.schema.table(&t.name) {
            Some(old) => (old, before),
            None => match origin.schema.table(&t.name) {
                Some(old) => (old, origin),
                None => continue,
            },
        };
        if before.schema.table(&t.name) != Some(t) {
            // SQLite stores any value in any declared type (but STRICT tables): a type
            // change rejects nothing there.
            let types = after.schema.dialect != Dialect::Sqlite;
            table_tightenings(old, t, types, &mut out);
        }
        let had: Vec<&str> = was.checks_of(&t.name).collect();
        for c in after.checks_of(&t.name).filter(|c| !had.contains(c)) {
            out.push(Tightening {
                table: t.name.clone(),
                kind: "check",
                columns: mentioned(t, c),
                detail: format!("CHECK ({c})"),
                needs: Needs::Clause(c.to_string()),
            });
        }
    }
    out
}

/// The columns of `table` a clause names.
fn mentioned(table: &Table, clause: &str) -> Vec<String> {
    let words: Vec<String> = clause
        .split(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    table
        .columns
        .iter()
        .filter(|c| words.contains(&c.name.to_ascii_lowercase()))
        .map(|c| c.name.clone())
        .collect()
}

/// The clauses of the `CHECK (…)` constraints in a `CREATE TABLE` statement, without their
/// outer parentheses (quoted text and identifiers are skipped over).
pub fn check_clauses(sql: &str) -> Vec<String> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if matches!(b, b'\'' | b'"' | b'`') {
            quote = Some(b);
            i += 1;
            continue;
        }
        if b == b'[' {
            quote = Some(b']');
            i += 1;
            continue;
        }
        let word_start = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if word_start && sql[i..].len() >= 5 && sql[i..i + 5].eq_ignore_ascii_case("check") {
            let mut j = i + 5;
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            if j < bytes.len() && bytes[j] == b'(' {
                if let Some(end) = closing(bytes, j) {
                    out.push(sql[j + 1..end].trim().to_string());
                    i = end + 1;
                    continue;
                }
            }
        }
        i += 1;
    }
    out
}

/// The index of the parenthesis that closes the one at `open`.
fn closing(bytes: &[u8], open: usize) -> Option<usize> {
    let (mut depth, mut quote) = (0usize, None::<u8>);
    for (k, &b) in bytes.iter().enumerate().skip(open) {
        if let Some(q) = quote {
            if b == q {
                quote = None;
            }
            continue;
        }
        match b {
            b'\'' | b'"' | b'`' => quote = Some(b),
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

fn cols(c: &[String]) -> String {
    format!("({})", c.join(", "))
}

/// The tightenings of one table, `old` to `new`; type changes only with `types`.
pub fn table_tightenings(old: &Table, new: &Table, types: bool, out: &mut Vec<Tightening>) {
    let mut push = |kind: &'static str, columns: Vec<String>, detail: String, needs: Needs| {
        out.push(Tightening {
            table: new.name.clone(),
            kind,
            columns,
            detail,
            needs,
        })
    };
    if !new.primary_key.is_empty() && new.primary_key != old.primary_key {
        push(
            "primary-key",
            new.primary_key.clone(),
            format!("primary key {}", cols(&new.primary_key)),
            Needs::Nothing,
        );
    }
    for u in &new.unique_keys {
        // A key over a subset of the columns of a key that was there is no looser: the old
        // one already made those values unique (so a key that was there is not new either).
        let covered = |k: &Vec<String>| k.iter().all(|c| u.contains(c));
        let already = old.unique_keys.iter().any(covered)
            || (!old.primary_key.is_empty() && covered(&old.primary_key));
        if !already {
            push(
                "unique-key",
                u.clone(),
                format!("unique key {}", cols(u)),
                Needs::Nothing,
            );
        }
    }
    for c in &new.columns {
        let Some(was) = old.columns.iter().find(|o| o.name == c.name) else {
            continue;
        };
        if was.nullable && !c.nullable {
            push(
                "not-null",
                vec![c.name.clone()],
                format!("NOT NULL {}", c.name),
                Needs::Nothing,
            );
        }
        if let Some(kind) = narrowing(&was.type_name, &c.type_name).filter(|_| types) {
            push(
                kind,
                vec![c.name.clone()],
                format!(
                    "{} {}: {} -> {}",
                    if kind == "narrower-type" {
                        "narrower type"
                    } else {
                        "values removed from"
                    },
                    c.name,
                    was.type_name,
                    c.type_name
                ),
                Needs::Types {
                    old: was.type_name.clone(),
                    new: c.type_name.clone(),
                },
            );
        }
    }
    for fk in &new.foreign_keys {
        if !old.foreign_keys.iter().any(|o| {
            o.columns == fk.columns
                && o.references_table == fk.references_table
                && o.references_columns == fk.references_columns
        }) {
            push(
                "foreign-key",
                fk.columns.clone(),
                format!(
                    "foreign key {} references {} {}",
                    cols(&fk.columns),
                    fk.references_table,
                    cols(&fk.references_columns)
                ),
                Needs::Parent {
                    table: fk.references_table.clone(),
                    columns: fk.references_columns.clone(),
                },
            );
        }
    }
}

/// A type's base name and its arguments: `VARCHAR(100)` → (`VARCHAR`, [`100`], ``).
pub(super) fn parts(t: &str) -> (&str, Vec<&str>, &str) {
    let Some(open) = t.find('(') else {
        let (base, tail) = t.split_once(' ').unwrap_or((t, ""));
        return (base, Vec::new(), tail);
    };
    let Some(close) = t.rfind(')') else {
        return (t, Vec::new(), "");
    };
    let args = split_args(&t[open + 1..close]);
    (t[..open].trim(), args, t[close + 1..].trim())
}

/// Arguments split at commas outside quotes (ENUM values may hold commas).
fn split_args(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, ch) in s.char_indices() {
        match ch {
            '\'' => quoted = !quoted,
            ',' if !quoted => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s[start..].trim());
    out
}

/// How wide a type of a ranked family is (integers, text and blob sizes).
fn rank(base: &str) -> Option<(&'static str, u8)> {
    Some(match base {
        "TINYINT" => ("int", 1),
        "SMALLINT" => ("int", 2),
        "MEDIUMINT" => ("int", 3),
        "INT" | "INTEGER" => ("int", 4),
        "BIGINT" => ("int", 5),
        "TINYTEXT" => ("text", 1),
        "TEXT" => ("text", 2),
        "MEDIUMTEXT" => ("text", 3),
        "LONGTEXT" => ("text", 4),
        "TINYBLOB" => ("blob", 1),
        "BLOB" => ("blob", 2),
        "MEDIUMBLOB" => ("blob", 3),
        "LONGBLOB" => ("blob", 4),
        _ => return None,
    })
}

/// Whether a column's type change from `old` to `new` can reject values the old type held:
/// `enum-values-removed` (ENUM/SET lost a value), `narrower-type` (a shorter length, fewer
/// digits, a narrower integer or text size, unsigned added, or another family), or `None`.
pub fn narrowing(old: &str, new: &str) -> Option<&'static str> {
    if old == new {
        return None;
    }
    let (ob, oa, ot) = parts(old);
    let (nb, na, nt) = parts(new);
    if matches!(ob, "ENUM" | "SET") && ob == nb {
        return oa
            .iter()
            .any(|v| !na.contains(v))
            .then_some("enum-values-removed");
    }
    let unsigned = |t: &str| t.contains("UNSIGNED");
    if !unsigned(ot) && unsigned(nt) {
        return Some("narrower-type");
    }
    let numbers = |a: &[&str]| {
        a.iter()
            .map(|v| v.parse::<u64>().ok())
            .collect::<Option<Vec<_>>>()
    };
    let char_like = |b: &str| matches!(b, "CHAR" | "VARCHAR" | "BINARY" | "VARBINARY");
    if ob == nb || (char_like(ob) && char_like(nb)) {
        return match (numbers(&oa), numbers(&na)) {
            (Some(o), Some(n)) if o.len() == n.len() => {
                narrower_args(&o, &n).then_some("narrower-type")
            }
            // A length given where there was none (or none where there was one: wider).
            (Some(o), Some(n)) => (o.is_empty() && !n.is_empty()).then_some("narrower-type"),
            _ => None,
        };
    }
    match (rank(ob), rank(nb)) {
        (Some((of, o)), Some((nf, n))) if of == nf => (n < o).then_some("narrower-type"),
        // A VARCHAR or CHAR into a text type of any size, or text into a sized one.
        (None, Some(("text", _))) if char_like(ob) => None,
        _ if super::type_family(old) == super::type_family(new) && rank(ob).is_none() => {
            // Same family, unranked bases (DATETIME and TIMESTAMP, FLOAT and DOUBLE): only
            // a length is comparable.
            None
        }
        _ => Some("narrower-type"),
    }
}

/// Whether numeric type arguments got narrower: a shorter length, or for DECIMAL(p, s) fewer
/// digits before the point or fewer after it.
fn narrower_args(old: &[u64], new: &[u64]) -> bool {
    match (old, new) {
        ([op, os], [np, ns]) => np.saturating_sub(*ns) < op.saturating_sub(*os) || ns < os,
        _ => old.iter().zip(new).any(|(o, n)| n < o),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Dialect;
    use crate::schema::{Column, ForeignKey};

    fn column(name: &str, type_name: &str, nullable: bool) -> Column {
        Column {
            name: name.into(),
            type_name: type_name.into(),
            nullable,
            default: None,
            auto_increment: false,
            on_update: None,
            collation: None,
        }
    }

    fn table(columns: Vec<Column>) -> Table {
        Table {
            name: "T".into(),
            engine: None,
            collation: None,
            row_format: None,
            columns,
            primary_key: vec![],
            unique_keys: vec![],
            indexes: vec![],
            foreign_keys: vec![],
            names: Default::default(),
        }
    }

    fn kinds(old: &Table, new: &Table) -> Vec<(&'static str, Vec<String>)> {
        let mut out = Vec::new();
        table_tightenings(old, new, true, &mut out);
        out.into_iter().map(|t| (t.kind, t.columns)).collect()
    }

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn a_new_unique_key_and_not_null_are_tightenings() {
        let old = table(vec![column("a", "INT", true), column("b", "TEXT", true)]);
        let mut new = old.clone();
        new.unique_keys.push(v(&["a", "b"]));
        new.columns[1].nullable = false;
        assert_eq!(
            kinds(&old, &new),
            vec![("unique-key", v(&["a", "b"])), ("not-null", v(&["b"]))]
        );
    }

    #[test]
    fn a_key_wider_than_one_there_is_no_tightening_and_a_narrower_one_is() {
        let mut old = table(vec![column("a", "INT", false), column("b", "INT", false)]);
        old.unique_keys.push(v(&["a"]));
        let mut new = old.clone();
        new.unique_keys.push(v(&["a", "b"]));
        assert_eq!(kinds(&old, &new), vec![]);
        let mut old = table(vec![column("a", "INT", false), column("b", "INT", false)]);
        old.unique_keys.push(v(&["a", "b"]));
        let mut new = old.clone();
        new.unique_keys = vec![v(&["a"])];
        assert_eq!(kinds(&old, &new), vec![("unique-key", v(&["a"]))]);
    }

    #[test]
    fn primary_and_foreign_keys() {
        let old = table(vec![column("a", "INT", false)]);
        let mut new = old.clone();
        new.primary_key = v(&["a"]);
        new.foreign_keys.push(ForeignKey {
            columns: v(&["a"]),
            references_table: "U".into(),
            references_columns: v(&["id"]),
            on_delete: "CASCADE".into(),
            on_update: "NO ACTION".into(),
        });
        assert_eq!(
            kinds(&old, &new),
            vec![("primary-key", v(&["a"])), ("foreign-key", v(&["a"]))]
        );
        // The same foreign key with another action is no new constraint on the rows.
        let mut other = new.clone();
        other.foreign_keys[0].on_delete = "NO ACTION".into();
        assert_eq!(kinds(&new, &other), vec![]);
    }

    #[test]
    fn loosening_is_not_tightening() {
        let mut old = table(vec![column("a", "VARCHAR(10)", false)]);
        old.unique_keys.push(v(&["a"]));
        old.primary_key = v(&["a"]);
        let mut new = table(vec![column("a", "VARCHAR(20)", true)]);
        new.primary_key = vec![];
        assert_eq!(kinds(&old, &new), vec![]);
    }

    #[test]
    fn narrowing_types() {
        for (old, new, want) in [
            ("VARCHAR(255)", "VARCHAR(100)", Some("narrower-type")),
            ("VARCHAR(100)", "VARCHAR(255)", None),
            ("VARCHAR(100)", "CHAR(50)", Some("narrower-type")),
            ("VARCHAR(100)", "TEXT", None),
            ("BIGINT", "INT", Some("narrower-type")),
            ("INT", "BIGINT", None),
            ("INT", "INT UNSIGNED", Some("narrower-type")),
            ("INT UNSIGNED", "INT", None),
            ("LONGTEXT", "TEXT", Some("narrower-type")),
            ("TEXT", "VARCHAR(10)", Some("narrower-type")),
            ("TEXT", "INT", Some("narrower-type")),
            ("DECIMAL(10,2)", "DECIMAL(8,2)", Some("narrower-type")),
            ("DECIMAL(10,2)", "DECIMAL(12,2)", None),
            ("DECIMAL(10,2)", "DECIMAL(10,1)", Some("narrower-type")),
            (
                "ENUM('a','b','c')",
                "ENUM('a','b')",
                Some("enum-values-removed"),
            ),
            ("ENUM('a','b')", "ENUM('a','b','c')", None),
            ("SET('x,y','z')", "SET('z','x,y')", None),
            ("DATETIME", "TIMESTAMP", None),
        ] {
            assert_eq!(narrowing(old, new), want, "{old} -> {new}");
        }
    }

    fn state(tables: Vec<Table>) -> State {
        State {
            schema: Schema::new(Dialect::Sqlite, tables),
            checks: vec![],
        }
    }

    #[test]
    fn a_rebuilt_table_is_compared_with_the_one_it_replaces() {
        let live = state(vec![table(vec![column("a", "INT", true)])]);
        let dropped = state(vec![]);
        let mut t = table(vec![column("a", "INT", false)]);
        t.unique_keys.push(v(&["a"]));
        let back = state(vec![t]);
        let found = tightenings(&live, &dropped, &back);
        assert_eq!(
            found.iter().map(|t| t.kind).collect::<Vec<_>>(),
            vec!["unique-key", "not-null"]
        );
        // A table new to the database has no rows to tighten.
        let none = tightenings(&dropped, &dropped, &back);
        assert!(none.is_empty());
        // Nothing changed: nothing tightened.
        assert!(tightenings(&live, &live, &live).is_empty());
    }

    #[test]
    fn a_new_check_is_a_tightening_and_a_kept_one_is_not() {
        let sql = "CREATE TABLE \"T\" (a INT CHECK (a > 0), b TEXT, \
                   CONSTRAINT c CHECK(length(b) < 10 AND b <> ')'), \"check\" INT)";
        assert_eq!(
            check_clauses(sql),
            vec![
                "a > 0".to_string(),
                "length(b) < 10 AND b <> ')'".to_string()
            ]
        );
        let t = table(vec![column("a", "INT", true), column("b", "TEXT", true)]);
        let definition = |sql: &str| Definition {
            kind: "table".into(),
            name: "T".into(),
            table: "T".into(),
            sql: sql.into(),
        };
        let schema = Schema::new(Dialect::Sqlite, vec![t]);
        let without = State::new(
            schema.clone(),
            &[definition("CREATE TABLE T (a INT, b TEXT)")],
        );
        let with = State::new(schema, &[definition(sql)]);
        let found = tightenings(&without, &without, &with);
        assert_eq!(
            found
                .iter()
                .map(|t| (t.kind, t.columns.clone()))
                .collect::<Vec<_>>(),
            vec![("check", v(&["a"])), ("check", v(&["b"]))]
        );
        assert!(tightenings(&with, &with, &with).is_empty());
        assert!(tightenings(&with, &with, &without).is_empty());
    }
}
