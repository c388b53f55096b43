//! Seed rows in drafts: the rows `schema/` declares (scratch A) against the rows a replay of
//! the migrations leaves (scratch B), written as idempotent statements matched by primary
//! key — rows only in `schema/` as upserts (MySQL `INSERT … ON DUPLICATE KEY UPDATE`, SQLite
//! `INSERT … ON CONFLICT … DO UPDATE`), rows only in the replay as `DELETE` by key, rows in
//! both with other values as `UPDATE` by key. A table without a primary key cannot be
//! matched: a review marker, except a table the draft creates (its rows are plain
//! `INSERT`s). The statements come after all of the draft's DDL: deletes first (referencing
//! tables before the tables they reference), then updates, then inserts (referenced tables
//! first).

use std::collections::BTreeMap;

use super::{Marker, Renames};
use crate::dialect::Dialect;
use crate::schema::{Schema, Table};

/// Rows of one table as read back ([`crate::backend::Catalogue::table_rows`]).
pub type Rows = Vec<Vec<Option<String>>>;

/// What the draft writes for seed rows.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedRows {
    pub statements: Vec<String>,
    /// One line per table, for people.
    pub changes: Vec<String>,
    pub markers: Vec<Marker>,
    /// The tables whose rows the statements write (the self-check compares their rows).
    pub tables: Vec<String>,
}

/// A value read back as text as a literal of `dialect`: NULL, a canonical integer bare, any
/// other value quoted (`'` doubled; on MySQL `\` doubled too, since the server's default
/// `sql_mode` reads it as an escape).
pub fn literal(dialect: Dialect, v: Option<&str>) -> String {
    match v {
        None => "NULL".to_string(),
        Some(s) if s.parse::<i64>().is_ok_and(|n| n.to_string() == s) => s.to_string(),
        Some(s) => {
            let s = s.replace('\'', "''");
            match dialect {
                Dialect::Mysql => format!("'{}'", s.replace('\\', "\\\\")),
                Dialect::Sqlite => format!("'{s}'"),
            }
        }
    }
}

/// One table's statements, in three groups.
#[derive(Default)]
struct Statements {
    deletes: Vec<String>,
    updates: Vec<String>,
    inserts: Vec<String>,
}

/// The statements that turn the rows of `from` (a replay; `from_rows`) into those of `to`
/// (`schema/`; `to_rows`). A renamed table's rows are compared with its old name's, a renamed
/// column's values with its old name's.
pub fn seed_rows(
    dialect: Dialect,
    from: &Schema,
    to: &Schema,
    from_rows: &[(String, Rows)],
    to_rows: &[(String, Rows)],
    renames: &Renames,
) -> SeedRows {
    let mut out = SeedRows::default();
    let mut per_table: BTreeMap<String, Statements> = BTreeMap::new();
    for (name, rows) in to_rows {
        let Some(table) = to.tables.iter().find(|t| &t.name == name) else {
            continue;
        };
        let before = from_rows
            .iter()
            .find(|(t, _)| renames.table_now(t) == *name)
            .and_then(|(t, r)| Some((from.tables.iter().find(|x| &x.name == t)?, r)));
        let s = match before {
            Some((_, before)) if before == rows => continue,
            None if rows.is_empty() => continue,
            // A new table: created empty by the draft, so every row is new.
            None => Statements {
                inserts: rows.iter().map(|r| insert(dialect, table, r)).collect(),
                ..Default::default()
            },
            Some(_) if table.primary_key.is_empty() => {
                out.markers.push(Marker::new(
                    "unsupported",
                    name,
                    format!(
                        "its rows (seed data) differ ({} in schema/, {} after the migrations) and it has no primary key to match them by: add INSERT/UPDATE/DELETE statements by hand",
                        rows.len(),
                        before.map_or(0, |(_, b)| b.len())
                    ),
                ));
                continue;
            }
            Some((old, before)) => match matched(dialect, old, table, before, rows, renames) {
                Some(s) => s,
                None => {
                    out.markers.push(Marker::new(
                        "unsupported",
                        name,
                        "its rows (seed data) differ and the migrations' table lacks a column of its primary key to match them by: add INSERT/UPDATE/DELETE statements by hand",
                    ));
                    continue;
                }
            },
        };
        let mut counts = Vec::new();
        for (n, what) in [
            (s.inserts.len(), "insert"),
            (s.updates.len(), "update"),
            (s.deletes.len(), "delete"),
        ] {
            if n > 0 {
                counts.push(format!("{what} {n}"));
            }
        }
        if counts.is_empty() {
            continue;
        }
        out.changes
            .push(format!("{name}: seed rows: {}", counts.join(", ")));
        per_table.insert(name.clone(), s);
    }
    let order = referenced_first(to, per_table.keys().cloned().collect());
    for t in order.iter().rev() {
        out.statements
            .append(&mut per_table.get_mut(t).unwrap().deletes);
    }
    for t in &order {
        out.statements
            .append(&mut per_table.get_mut(t).unwrap().updates);
    }
    for t in &order {
        out.statements
            .append(&mut per_table.get_mut(t).unwrap().inserts);
    }
    out.tables = order;
    out
}

/// The rows of a table both have, matched by `to`'s primary key; `None` when `from` lacks a
/// key column.
fn matched(
    dialect: Dialect,
    from: &Table,
    to: &Table,
    before: &Rows,
    rows: &Rows,
    renames: &Renames,
) -> Option<Statements> {
    // For each of `to`'s columns, its index in `from`'s rows (old names through renames).
    let source: Vec<Option<usize>> = to
        .columns
        .iter()
        .map(|c| {
            let old = renames
                .columns
                .iter()
                .find(|(t, _, new)| (t == &from.name || t == &to.name) && new == &c.name)
                .map_or(c.name.as_str(), |(_, old, _)| old.as_str());
            from.columns.iter().position(|f| f.name == old)
        })
        .collect();
    let key_at: Vec<usize> = to
        .primary_key
        .iter()
        .map(|k| to.columns.iter().position(|c| &c.name == k))
        .collect::<Option<_>>()?;
    let old_key_at: Vec<usize> = key_at.iter().map(|&i| source[i]).collect::<Option<_>>()?;
    let key = |r: &Vec<Option<String>>, at: &[usize]| -> Vec<Option<String>> {
        at.iter().map(|&i| r.get(i).cloned().flatten()).collect()
    };
    let old: BTreeMap<_, _> = before.iter().map(|r| (key(r, &old_key_at), r)).collect();
    let new: BTreeMap<_, _> = rows.iter().map(|r| (key(r, &key_at), r)).collect();
    let mut s = Statements::default();
    for (k, r) in &new {
        match old.get(k) {
            None => s.inserts.push(insert(dialect, to, r)),
            Some(o) => {
                // Columns whose value differs, and columns the migrations' table lacks whose
                // seed value is not what the draft fills them with.
                let set: Vec<usize> = (0..to.columns.len())
                    .filter(|&i| !key_at.contains(&i))
                    .filter(|&i| match source[i] {
                        Some(j) => o.get(j) != r.get(i),
                        None => value(dialect, r, i) != filled(&to.columns[i]),
                    })
                    .collect();
                if !set.is_empty() {
                    s.updates.push(update(dialect, to, r, &set, &key_at));
                }
            }
        }
    }
    for (k, r) in &old {
        if !new.contains_key(k) {
            s.deletes.push(delete(dialect, from, r, &old_key_at));
        }
    }
    Some(s)
}

/// What an added column holds in existing rows after the draft's DDL, as a literal.
fn filled(c: &crate::schema::Column) -> String {
    match &c.default {
        Some(_) => super::fill_value(c),
        None if c.nullable => "NULL".to_string(),
        None => super::fill_value(c),
    }
}

fn value(dialect: Dialect, r: &[Option<String>], i: usize) -> String {
    literal(dialect, r.get(i).and_then(|v| v.as_deref()))
}

/// `col = value AND …` over `at`.
fn by_key(dialect: Dialect, t: &Table, r: &[Option<String>], at: &[usize]) -> String {
    at.iter()
        .map(|&i| {
            let v = value(dialect, r, i);
            let c = dialect.ident(&t.columns[i].name);
            if v == "NULL" {
                format!("{c} IS NULL")
            } else {
                format!("{c} = {v}")
            }
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// An idempotent `INSERT` of a row: an upsert by primary key, a plain `INSERT` without one
/// (only for a table the draft creates).
fn insert(dialect: Dialect, t: &Table, r: &[Option<String>]) -> String {
    let q = |n: &str| dialect.ident(n);
    let cols: Vec<String> = t.columns.iter().map(|c| q(&c.name)).collect();
    let values: Vec<String> = (0..t.columns.len()).map(|i| value(dialect, r, i)).collect();
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        q(&t.name),
        cols.join(", "),
        values.join(", ")
    );
    if t.primary_key.is_empty() {
        return sql;
    }
    let rest: Vec<usize> = (0..t.columns.len())
        .filter(|&i| !t.primary_key.contains(&t.columns[i].name))
        .collect();
    match dialect {
        Dialect::Mysql => {
            let set: Vec<String> = if rest.is_empty() {
                let k = q(&t.primary_key[0]);
                vec![format!("{k} = {k}")]
            } else {
                rest.iter()
                    .map(|&i| format!("{} = {}", cols[i], values[i]))
                    .collect()
            };
            sql.push_str(&format!(" ON DUPLICATE KEY UPDATE {}", set.join(", ")));
        }
        Dialect::Sqlite => {
            let key: Vec<String> = t.primary_key.iter().map(|k| q(k)).collect();
            sql.push_str(&format!(" ON CONFLICT ({}) DO ", key.join(", ")));
            if rest.is_empty() {
                sql.push_str("NOTHING");
            } else {
                let set: Vec<String> = rest
                    .iter()
                    .map(|&i| format!("{} = excluded.{}", cols[i], cols[i]))
                    .collect();
                sql.push_str(&format!("UPDATE SET {}", set.join(", ")));
            }
        }
    }
    sql
}

fn update(
    dialect: Dialect,
    t: &Table,
    r: &[Option<String>],
    set: &[usize],
    key: &[usize],
) -> String {
    let set: Vec<String> = set
        .iter()
        .map(|&i| {
            format!(
                "{} = {}",
                dialect.ident(&t.columns[i].name),
                value(dialect, r, i)
            )
        })
        .collect();
    format!(
        "UPDATE {} SET {} WHERE {}",
        dialect.ident(&t.name),
        set.join(", "),
        by_key(dialect, t, r, key)
    )
}

fn delete(dialect: Dialect, t: &Table, r: &[Option<String>], key: &[usize]) -> String {
    format!(
        "DELETE FROM {} WHERE {}",
        dialect.ident(&t.name),
        by_key(dialect, t, r, key)
    )
}

/// `tables` ordered so that a table comes after the tables its foreign keys reference (in
/// `schema`); a cycle keeps the remaining tables in name order.
pub(crate) fn referenced_first(schema: &Schema, mut tables: Vec<String>) -> Vec<String> {
    let refs = |name: &str| -> Vec<String> {
        schema
            .tables
            .iter()
            .find(|t| t.name == name)
            .map(|t| {
                t.foreign_keys
                    .iter()
                    .map(|f| f.references_table.clone())
                    .filter(|r| r != name)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out: Vec<String> = Vec::new();
    while !tables.is_empty() {
        let next = tables
            .iter()
            .position(|t| refs(t).iter().all(|r| !tables.contains(r)))
            .unwrap_or(0);
        out.push(tables.remove(next));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_per_dialect() {
        let both = |v: Option<&str>| (literal(Dialect::Mysql, v), literal(Dialect::Sqlite, v));
        let same = |v: Option<&str>, l: &str| assert_eq!(both(v), (l.into(), l.into()), "{v:?}");
        same(None, "NULL");
        same(Some("NULL"), "'NULL'");
        same(Some("42"), "42");
        same(Some("-7"), "-7");
        same(Some("0"), "0");
        // Only canonical integers go bare: a text column keeps its leading zero.
        same(Some("007"), "'007'");
        same(Some("+5"), "'+5'");
        same(Some("-0"), "'-0'");
        same(Some("1.50"), "'1.50'");
        same(Some("99999999999999999999"), "'99999999999999999999'");
        same(Some(""), "''");
        same(Some("O'Brien"), "'O''Brien'");
        same(Some("''"), "''''''");
        same(Some("Grüße, 日本 🦀"), "'Grüße, 日本 🦀'");
        same(Some("a\nb"), "'a\nb'");
        assert_eq!(
            both(Some(r"C:\path\'x'")),
            (r"'C:\\path\\''x'''".into(), r"'C:\path\''x'''".into())
        );
        assert_eq!(both(Some("\\")), (r"'\\'".into(), r"'\'".into()));
    }
}
