//! What a statement tightens: the constraints a table has after it and did not have before
//! (a new primary or unique key, a column made NOT NULL, a new foreign key, a narrower type
//! or length, ENUM/SET values removed), found by comparing the canonical model of a table
//! before and after the statement ran on an empty copy of it (the rehearsal,
//! `compare/rehearsal.rs`). Pure: both models are given.

use serde::Serialize;

use super::{Schema, Table};

/// One constraint a statement adds or tightens on a table that existed before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tightening {
    pub table: String,
    /// `primary-key`, `unique-key`, `not-null`, `foreign-key`, `narrower-type` or
    /// `enum-values-removed`.
    pub kind: &'static str,
    pub columns: Vec<String>,
    /// For people: `unique key (a, b)`, `VARCHAR(255) -> VARCHAR(100)`, …
    pub detail: String,
}

impl std::fmt::Display for Tightening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} on {}", self.detail, self.table)
    }
}

/// What changed from `before` to `after`, for every table of `after` that `before` has, or,
/// when `before` has it not, that `origin` has (a table rebuilt under a new name and renamed
/// back is compared with the table it replaces). Tables new to both are not tightened: they
/// have no rows.
pub fn tightenings(origin: &Schema, before: &Schema, after: &Schema) -> Vec<Tightening> {
    let mut out = Vec::new();
    for t in &after.tables {
        let old = before.table(&t.name).or_else(|| {
            // Only a table that came back: one `before` lacks but had at the start.
            origin.table(&t.name)
        });
        if let Some(old) = old {
            if before.table(&t.name) != Some(t) {
                // SQLite stores any value in any declared type (but STRICT tables): a type
                // change rejects nothing there.
                let types = after.dialect != crate::dialect::Dialect::Sqlite;
                table_tightenings(old, t, types, &mut out);
            }
        }
    }
    out
}

fn cols(c: &[String]) -> String {
    format!("({})", c.join(", "))
}

/// The tightenings of one table, `old` to `new`; type changes only with `types`.
pub fn table_tightenings(old: &Table, new: &Table, types: bool, out: &mut Vec<Tightening>) {
    let mut push = |kind: &'static str, columns: Vec<String>, detail: String| {
        out.push(Tightening {
            table: new.name.clone(),
            kind,
            columns,
            detail,
        })
    };
    if !new.primary_key.is_empty() && new.primary_key != old.primary_key {
        push(
            "primary-key",
            new.primary_key.clone(),
            format!("primary key {}", cols(&new.primary_key)),
        );
    }
    for u in &new.unique_keys {
        // A key over a subset of the columns of a key that was there is no looser: the old
        // one already made those values unique (so a key that was there is not new either).
        let covered = |k: &Vec<String>| k.iter().all(|c| u.contains(c));
        let already = old.unique_keys.iter().any(covered)
            || (!old.primary_key.is_empty() && covered(&old.primary_key));
        if !already {
            push("unique-key", u.clone(), format!("unique key {}", cols(u)));
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
            );
        }
    }
}

/// A type's base name and its arguments: `VARCHAR(100)` → (`VARCHAR`, [`100`], ``).
fn parts(t: &str) -> (&str, Vec<&str>, &str) {
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

    #[test]
    fn a_rebuilt_table_is_compared_with_the_one_it_replaces() {
        let live = Schema::new(Dialect::Sqlite, vec![table(vec![column("a", "INT", true)])]);
        let dropped = Schema::new(Dialect::Sqlite, vec![]);
        let mut t = table(vec![column("a", "INT", false)]);
        t.unique_keys.push(v(&["a"]));
        let back = Schema::new(Dialect::Sqlite, vec![t]);
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
}
