//! The probes of the live rows: for a tightening the rehearsal found (`tighten.rs`), the
//! read-only queries that count the rows the new constraint would reject, and take a few of
//! their key values. Two kinds are probed: a new primary or unique key (duplicate key values;
//! for a unique key, rows with a NULL key column are left out, as the key allows them) and a
//! column made NOT NULL (rows where it is NULL). Pure: the SQL is built here and run by
//! `Catalogue::probe`.

use serde::Serialize;

use super::tighten::{Needs, Tightening};
use super::Table;
use crate::dialect::Dialect;

/// How many offending key values a probe keeps.
pub const SAMPLES: usize = 5;
/// How many characters of a key value a probe shows.
pub const CUT: usize = 40;

/// The queries of one probe: `count` answers one row of one number, `sample` up to
/// [`SAMPLES`] rows of key values as text. `any`, when set, is a cheaper query run first: a
/// number that is 0 only when `count` would be 0 (the rows pass without the others running).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub any: Option<String>,
    pub count: String,
    pub sample: String,
}

/// Live rows a pending statement would reject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub version: u64,
    pub file: String,
    pub line: u32,
    pub table: String,
    pub columns: Vec<String>,
    /// The tightening's kind: `primary-key`, `unique-key`, `not-null`, `foreign-key`,
    /// `narrower-type`, `enum-values-removed` or `check`.
    pub rule: &'static str,
    /// Duplicate key values (keys), or offending rows (the other rules).
    pub count: u64,
    /// Up to five of them, each cut to [`CUT`] characters: the duplicate key values; the NULL
    /// rows' primary key values; for the other rules the offending rows' primary key values
    /// followed by their values of the columns.
    pub sample: Vec<String>,
    /// The tightening, for people (`foreign key (a) references u (id)`).
    #[serde(skip)]
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (n, t, cols) = (self.count, &self.table, self.columns.join(", "));
        let what = match self.rule {
            "not-null" => format!("{n} row(s) of {t} hold NULL in {cols}"),
            "primary-key" | "unique-key" => {
                format!("{n} value(s) of ({cols}) occur more than once in {t}")
            }
            "foreign-key" => format!(
                "{n} row(s) of {t} hold values of ({cols}) that the referenced table lacks ({})",
                self.detail
            ),
            "narrower-type" => format!(
                "{n} row(s) of {t} hold values of {cols} that do not fit the new type ({})",
                self.detail
            ),
            "enum-values-removed" => format!(
                "{n} row(s) of {t} hold values of {cols} that are removed ({})",
                self.detail
            ),
            _ => format!("{n} row(s) of {t} fail {}", self.detail),
        };
        write!(
            f,
            "{}:{}: {} (the {} would be refused); for example: {}",
            self.file,
            self.line,
            what,
            self.rule,
            self.sample
                .iter()
                .map(|s| format!("({s})"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    }
}

/// The tables whose rows a tightening's probe reads: its own, and for a foreign key the
/// referenced one (a statement that writes either may change what the probe finds).
pub fn tables_read(t: &Tightening) -> Vec<&str> {
    let mut out = vec![t.table.as_str()];
    if let Needs::Parent { table, .. } = &t.needs {
        out.push(table.as_str());
    }
    out
}

/// The probe of `t` on the live `table` (its definition at the time of the probe), or `None`
/// for a tightening that is not probed (a type change this module cannot bound, SQLite's
/// types, a check without a clause).
pub fn probe(t: &Tightening, table: &Table, dialect: Dialect) -> Option<Probe> {
    if t.columns.is_empty() {
        return None;
    }
    let q = |n: &str| dialect.quote_ident(n);
    let text_type = match dialect {
        Dialect::Mysql => "CHAR",
        Dialect::Sqlite => "TEXT",
    };
    let text = |n: &str| format!("CAST({} AS {text_type})", q(n));
    let from = q(&table.name);
    let list = |cols: &[String], f: &dyn Fn(&str) -> String, sep: &str| {
        cols.iter().map(|c| f(c)).collect::<Vec<_>>().join(sep)
    };
    // By the columns, not their text: an index over them gives the order.
    let order = |cols: &[String]| list(cols, &|c| q(c), ", ");
    if matches!(t.kind, "primary-key" | "unique-key") {
        let filter = if t.kind == "unique-key" {
            format!(
                " WHERE {}",
                list(&t.columns, &|c| format!("{} IS NOT NULL", q(c)), " AND ")
            )
        } else {
            String::new()
        };
        let group = list(&t.columns, &|c| q(c), ", ");
        let groups = format!("FROM {from}{filter} GROUP BY {group} HAVING COUNT(*) > 1");
        // Without an index that orders the key's columns, MySQL's GROUP BY sorts the whole
        // table into a temporary one; COUNT(DISTINCT …) (rows with a NULL left out, as the
        // filter does) answers "any duplicate?" about four times sooner on a million rows
        // (docs/BENCHMARKS.md). SQLite's COUNT(DISTINCT) takes one column only.
        let any = (dialect == Dialect::Mysql && !ordered_by_an_index(table, &t.columns)).then(|| {
            format!("SELECT CAST(COUNT(*) - COUNT(DISTINCT {group}) AS {text_type}) FROM {from}{filter}")
        });
        return Some(Probe {
            any,
            count: format!(
                "SELECT CAST(COUNT(*) AS {text_type}) FROM (SELECT 1 AS one {groups}) AS duplicates"
            ),
            sample: format!(
                "SELECT {} {groups} ORDER BY {} LIMIT {SAMPLES}",
                list(&t.columns, &text, ", "),
                order(&t.columns)
            ),
        });
    }
    let (from, filter) = match t.kind {
        "not-null" => (
            from,
            list(&t.columns, &|c| format!("{} IS NULL", q(c)), " OR "),
        ),
        "foreign-key" => orphans(t, &from, dialect)?,
        "narrower-type" | "enum-values-removed" => (from, misfits(t, dialect)?),
        "check" => match &t.needs {
            Needs::Clause(c) => (from, format!("NOT ({c})")),
            _ => return None,
        },
        _ => return None,
    };
    // The rows are named by their primary key, else by their first column; but for NULLs,
    // followed by the values the rule rejects.
    let mut key: Vec<String> = if table.primary_key.is_empty() {
        table
            .columns
            .iter()
            .take(1)
            .map(|c| c.name.clone())
            .collect()
    } else {
        table.primary_key.clone()
    };
    if t.kind != "not-null" {
        for c in &t.columns {
            if !key.contains(c) {
                key.push(c.clone());
            }
        }
    }
    if key.is_empty() {
        return None;
    }
    Some(Probe {
        any: None,
        count: format!("SELECT CAST(COUNT(*) AS {text_type}) FROM {from} WHERE {filter}"),
        sample: format!(
            "SELECT {} FROM {from} WHERE {filter} ORDER BY {} LIMIT {SAMPLES}",
            list(&key, &text, ", "),
            order(&key)
        ),
    })
}

/// Whether an index (primary, unique or plain) of `table` starts with `columns`, in any order:
/// the server then reads the key's groups off the index, no sort.
fn ordered_by_an_index(table: &Table, columns: &[String]) -> bool {
    let starts = |index: &[String]| {
        index.len() >= columns.len()
            && columns.iter().all(|c| {
                index[..columns.len()]
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(c))
            })
    };
    starts(&table.primary_key)
        || table.unique_keys.iter().any(|k| starts(k))
        || table.indexes.iter().any(|i| starts(&i.columns))
}

/// A new foreign key's orphans: rows whose key columns are all non-NULL and match no row of
/// the referenced table. The table is named as itself (no alias), the parent `probe_parent`.
fn orphans(t: &Tightening, from: &str, dialect: Dialect) -> Option<(String, String)> {
    let Needs::Parent { table, columns } = &t.needs else {
        return None;
    };
    if columns.len() != t.columns.len() {
        return None;
    }
    let q = |n: &str| dialect.quote_ident(n);
    let present: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("{from}.{} IS NOT NULL", q(c)))
        .collect();
    let matched: Vec<String> = columns
        .iter()
        .zip(&t.columns)
        .map(|(p, c)| format!("probe_parent.{} = {from}.{}", q(p), q(c)))
        .collect();
    Some((
        from.to_string(),
        format!(
            "{} AND NOT EXISTS (SELECT 1 FROM {} AS probe_parent WHERE {})",
            present.join(" AND "),
            q(table),
            matched.join(" AND ")
        ),
    ))
}

/// The values of a column that its new type rejects (MySQL: SQLite stores any value in any
/// declared type, and the rehearsal reports no type change there): longer than a new length,
/// outside a new integer's range or a DECIMAL's digits, ENUM/SET values removed. `None` for a
/// change the probe cannot bound (another family: TEXT to INT, a date to another).
fn misfits(t: &Tightening, dialect: Dialect) -> Option<String> {
    let Needs::Types { old, new } = &t.needs else {
        return None;
    };
    if dialect != Dialect::Mysql || t.columns.len() != 1 {
        return None;
    }
    let c = dialect.quote_ident(&t.columns[0]);
    let (ob, oa, _) = super::tighten::parts(old);
    let (nb, na, nt) = super::tighten::parts(new);
    if t.kind == "enum-values-removed" {
        // By the members' positions in the old type, not their text: the model spells types
        // in upper case, and a column's collation may tell cases apart.
        let removed: Vec<usize> = (0..oa.len()).filter(|&i| !na.contains(&oa[i])).collect();
        if removed.is_empty() || (nb == "SET" && oa.len() > 64) {
            return None;
        }
        return Some(match nb {
            "SET" => {
                let mask: u64 = removed.iter().map(|&i| 1u64 << i).sum();
                format!("({c} + 0) & {mask} <> 0")
            }
            _ => format!(
                "{c} + 0 IN ({})",
                removed
                    .iter()
                    .map(|i| (i + 1).to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let numeric = |b: &str| matches!(super::type_family(b), "integer" | "decimal" | "real");
    let unsigned = nt.contains("UNSIGNED");
    let cond = match (nb, na.as_slice()) {
        ("CHAR" | "VARCHAR", [n]) => format!("CHAR_LENGTH({c}) > {n}"),
        ("BINARY" | "VARBINARY", [n]) => format!("LENGTH({c}) > {n}"),
        ("TINYTEXT" | "TINYBLOB", _) => format!("LENGTH({c}) > 255"),
        ("TEXT" | "BLOB", _) => format!("LENGTH({c}) > 65535"),
        ("MEDIUMTEXT" | "MEDIUMBLOB", _) => format!("LENGTH({c}) > 16777215"),
        ("DECIMAL" | "NUMERIC", [p, s]) if numeric(ob) => {
            let (p, s) = (p.parse::<u32>().ok()?, s.parse::<u32>().ok()?);
            let limit = format!("1{}", "0".repeat(p.saturating_sub(s) as usize));
            let low = if unsigned {
                format!("{c} < 0 OR ")
            } else {
                String::new()
            };
            format!("{low}ABS({c}) >= {limit}")
        }
        (base, _) if numeric(ob) => {
            let (low, high) = integer_range(base, unsigned)?;
            format!("{c} < {low} OR {c} > {high}")
        }
        _ => return None,
    };
    Some(format!("{c} IS NOT NULL AND ({cond})"))
}

/// The values an integer type holds.
fn integer_range(base: &str, unsigned: bool) -> Option<(i128, i128)> {
    let bits = match base {
        "TINYINT" => 8,
        "SMALLINT" => 16,
        "MEDIUMINT" => 24,
        "INT" | "INTEGER" => 32,
        "BIGINT" => 64,
        _ => return None,
    };
    Some(if unsigned {
        (0, (1i128 << bits) - 1)
    } else {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    })
}

/// A sampled row's key values as one string (`1, x`; NULL as `NULL`), cut to [`CUT`]
/// characters (`…` marks the cut).
pub fn sample_text(row: &[Option<String>]) -> String {
    let s = row
        .iter()
        .map(|v| v.as_deref().unwrap_or("NULL"))
        .collect::<Vec<_>>()
        .join(", ");
    if s.chars().count() > CUT {
        let mut cut: String = s.chars().take(CUT - 1).collect();
        cut.push('…');
        cut
    } else {
        s
    }
}

/// Whether `sql` names `table` (as a word or a quoted identifier, in any case): the statements
/// before a tightening that may change the rows the probe would read. A mention in a string
/// or a comment counts too: a probe is skipped rather than wrong.
pub fn mentions(sql: &str, table: &str) -> bool {
    let mut word = String::new();
    let mut found = false;
    let mut check = |w: &mut String| {
        if w.eq_ignore_ascii_case(table) {
            found = true;
        }
        w.clear();
    };
    for ch in sql.chars() {
        if ch.is_alphanumeric() || ch == '_' || ch == '$' {
            word.push(ch);
        } else {
            check(&mut word);
        }
    }
    check(&mut word);
    found
}

/// Whether a statement that names `table` leaves its rows as they are for the probe of a
/// constraint `table` gets at a later statement, `later` being the statements after it up to
/// that one: a `CREATE TABLE` or `CREATE INDEX` of another table (which may name it in a
/// foreign key), and the steps of a rebuild that end in renaming a table into `table` (SQLite's
/// way to change a column): a plain copy of its rows into the new table (`INSERT INTO x [(cols)]
/// SELECT cols|* FROM table`, the columns by name, no expression, no condition) and the `DROP
/// TABLE` of it. The rows then reach the new constraint as they are in `table` before the
/// copy. Any other statement naming it may change them.
pub fn leaves_rows(sql: &str, table: &str, later: &[&str]) -> bool {
    let t = tokens(sql);
    let is = |i: usize, w: &str| t.get(i).is_some_and(|x| x.eq_ignore_ascii_case(w));
    let same = |x: &str| x.eq_ignore_ascii_case(table);
    let renamed_into = |from: Option<&str>| {
        later.iter().any(|l| {
            renames(l)
                .iter()
                .any(|(f, to)| same(to) && from.is_none_or(|x| f.eq_ignore_ascii_case(x)))
        })
    };
    if is(0, "CREATE") {
        if let Some(at) = t.iter().position(|w| w.eq_ignore_ascii_case("TABLE")) {
            let at = if is(at + 1, "IF") { at + 4 } else { at + 1 };
            return t.get(at).is_some_and(|x| !same(x));
        }
        if let Some(at) = t.iter().position(|w| w.eq_ignore_ascii_case("ON")) {
            return t.get(at + 1).is_some_and(|x| !same(x));
        }
        return false;
    }
    if is(0, "DROP") && is(1, "TABLE") {
        let at = if is(2, "IF") { 4 } else { 2 };
        return t.get(at).is_some_and(|x| same(x)) && t.len() <= at + 2 && renamed_into(None);
    }
    match plain_copy(&t) {
        Some((into, from)) => same(&from) && renamed_into(Some(&into)),
        None => false,
    }
}

/// Whether `sql` writes rows into a table that a statement of `later` renames into `table`:
/// the copy of a rebuild that is not a plain one ([`leaves_rows`]). The rows reach the new
/// constraint through it, changed on their way, so no probe of `table` can tell.
pub fn copies_into_rebuild(sql: &str, table: &str, later: &[&str]) -> bool {
    let t = tokens(sql);
    let Some(first) = t.first().map(|w| w.to_ascii_uppercase()) else {
        return false;
    };
    if first != "INSERT" && first != "REPLACE" {
        return false;
    }
    let skip = [
        "INTO",
        "IGNORE",
        "LOW_PRIORITY",
        "DELAYED",
        "HIGH_PRIORITY",
        "OR",
    ];
    let Some(into) = t[1..]
        .iter()
        .find(|w| !skip.iter().any(|k| w.eq_ignore_ascii_case(k)))
    else {
        return false;
    };
    !into.eq_ignore_ascii_case(table)
        && later.iter().any(|l| {
            renames(l)
                .iter()
                .any(|(from, to)| from.eq_ignore_ascii_case(into) && to.eq_ignore_ascii_case(table))
        })
}

/// `INSERT INTO x [(cols)] SELECT cols|* FROM y [;]`, the columns plain names (the same list
/// when both are given): `(x, y)`.
fn plain_copy(t: &[String]) -> Option<(String, String)> {
    let up = |i: usize| t.get(i).map(|w| w.to_ascii_uppercase());
    if up(0)? != "INSERT" || up(1)? != "INTO" {
        return None;
    }
    let into = t.get(2)?.clone();
    let mut at = 3;
    let names = |at: &mut usize| -> Option<Vec<String>> {
        let mut out = Vec::new();
        loop {
            let w = t.get(*at)?;
            if !w
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
            {
                return None;
            }
            out.push(w.to_ascii_lowercase());
            *at += 1;
            if t.get(*at).map(String::as_str) != Some(",") {
                return Some(out);
            }
            *at += 1;
        }
    };
    let mut listed = None;
    if t.get(at).map(String::as_str) == Some("(") {
        at += 1;
        listed = Some(names(&mut at)?);
        if t.get(at).map(String::as_str) != Some(")") {
            return None;
        }
        at += 1;
    }
    if up(at)? != "SELECT" {
        return None;
    }
    at += 1;
    if t.get(at).map(String::as_str) == Some("*") {
        if listed.is_some() {
            return None;
        }
        at += 1;
    } else {
        let selected = names(&mut at)?;
        if listed.is_some_and(|l| l != selected) {
            return None;
        }
    }
    if up(at)? != "FROM" {
        return None;
    }
    let from = t.get(at + 1)?.clone();
    let rest = &t[at + 2..];
    (rest.is_empty() || rest == [";"]).then_some((into, from))
}

/// `ALTER TABLE x RENAME [TO] y` or `RENAME TABLE x TO y[, …]`: the `(x, y)` pairs.
fn renames(sql: &str) -> Vec<(String, String)> {
    let t = tokens(sql);
    let up: Vec<String> = t.iter().map(|w| w.to_ascii_uppercase()).collect();
    let words: Vec<&str> = up.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["ALTER", "TABLE", _, "RENAME", "TO" | "AS", _, ..] => vec![(t[2].clone(), t[5].clone())],
        ["ALTER", "TABLE", _, "RENAME", _, ..] => vec![(t[2].clone(), t[4].clone())],
        ["RENAME", "TABLE", ..] => t[2..]
            .split(|w| w == ",")
            .filter_map(|pair| match pair {
                [from, to_kw, to, ..] if to_kw.eq_ignore_ascii_case("TO") => {
                    Some((from.clone(), to.clone()))
                }
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A statement's tokens: words, quoted identifiers (without their quotes), a `'` for each
/// string literal, and every other character but spaces on its own; comments left out.
fn tokens(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if (c == '-' && next == Some('-')) || c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if matches!(c, '"' | '`' | '[' | '\'') {
            let close = if c == '[' { ']' } else { c };
            let start = i + 1;
            i = start;
            while i < chars.len() && chars[i] != close {
                i += 1;
            }
            out.push(if c == '\'' {
                "'".to_string()
            } else {
                chars[start..i.min(chars.len())].iter().collect()
            });
            i += 1;
        } else if word(c) {
            let start = i;
            while i < chars.len() && word(chars[i]) {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else {
            out.push(c.to_string());
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Column, Index};

    fn tightening(kind: &'static str, columns: &[&str]) -> Tightening {
        Tightening {
            table: "t".into(),
            kind,
            columns: columns.iter().map(|c| c.to_string()).collect(),
            detail: String::new(),
            needs: Needs::Nothing,
        }
    }

    fn table() -> Table {
        let column = |n: &str| Column {
            name: n.into(),
            type_name: "INT".into(),
            nullable: true,
            default: None,
            auto_increment: false,
            on_update: None,
            collation: None,
        };
        Table {
            name: "t".into(),
            engine: None,
            collation: None,
            row_format: None,
            columns: vec![column("id"), column("a")],
            primary_key: vec!["id".into()],
            unique_keys: vec![],
            indexes: vec![],
            foreign_keys: vec![],
            names: Default::default(),
        }
    }

    #[test]
    fn a_unique_key_counts_duplicate_groups_without_nulls() {
        let p = probe(
            &tightening("unique-key", &["a", "b"]),
            &table(),
            Dialect::Mysql,
        )
        .unwrap();
        assert_eq!(
            p.count,
            "SELECT CAST(COUNT(*) AS CHAR) FROM (SELECT 1 AS one FROM `t` WHERE `a` IS NOT NULL AND `b` IS NOT NULL GROUP BY `a`, `b` HAVING COUNT(*) > 1) AS duplicates"
        );
        assert_eq!(
            p.sample,
            "SELECT CAST(`a` AS CHAR), CAST(`b` AS CHAR) FROM `t` WHERE `a` IS NOT NULL AND `b` IS NOT NULL GROUP BY `a`, `b` HAVING COUNT(*) > 1 ORDER BY `a`, `b` LIMIT 5"
        );
        let p = probe(
            &tightening("primary-key", &["a"]),
            &table(),
            Dialect::Sqlite,
        )
        .unwrap();
        assert!(p.count.contains("FROM \"t\" GROUP BY \"a\""), "{}", p.count);
        assert_eq!(p.any, None, "SQLite's COUNT(DISTINCT) takes one column");
    }

    #[test]
    fn a_key_without_an_index_is_first_asked_whether_any_duplicate_exists() {
        let key = tightening("unique-key", &["a", "b"]);
        let p = probe(&key, &table(), Dialect::Mysql).unwrap();
        assert_eq!(
            p.any.as_deref(),
            Some("SELECT CAST(COUNT(*) - COUNT(DISTINCT `a`, `b`) AS CHAR) FROM `t` WHERE `a` IS NOT NULL AND `b` IS NOT NULL")
        );
        // An index starting with the key's columns (any order) gives the groups: no pre-check.
        let mut indexed = table();
        indexed.indexes.push(Index {
            name: "ba".into(),
            columns: vec!["b".into(), "a".into(), "id".into()],
        });
        assert_eq!(probe(&key, &indexed, Dialect::Mysql).unwrap().any, None);
        // An index over only some of them does not.
        let mut partial = table();
        partial.indexes.push(Index {
            name: "a".into(),
            columns: vec!["a".into()],
        });
        assert!(probe(&key, &partial, Dialect::Mysql).unwrap().any.is_some());
        // The primary key orders itself.
        let pk = tightening("primary-key", &["id"]);
        assert_eq!(probe(&pk, &table(), Dialect::Mysql).unwrap().any, None);
    }

    #[test]
    fn not_null_counts_null_rows_and_names_them_by_primary_key() {
        let p = probe(&tightening("not-null", &["a"]), &table(), Dialect::Sqlite).unwrap();
        assert_eq!(
            p.count,
            "SELECT CAST(COUNT(*) AS TEXT) FROM \"t\" WHERE \"a\" IS NULL"
        );
        assert_eq!(
            p.sample,
            "SELECT CAST(\"id\" AS TEXT) FROM \"t\" WHERE \"a\" IS NULL ORDER BY \"id\" LIMIT 5"
        );
        assert!(probe(&tightening("check", &["a"]), &table(), Dialect::Sqlite).is_none());
    }

    #[test]
    fn samples_are_cut_and_mentions_are_words() {
        assert_eq!(sample_text(&[Some("1".into()), None]), "1, NULL");
        let long = "x".repeat(50);
        assert_eq!(sample_text(&[Some(long)]).chars().count(), CUT);
        assert!(mentions("DELETE FROM `T` WHERE id > 1", "t"));
        assert!(!mentions("DELETE FROM t_new", "t"));
    }

    #[test]
    fn a_rebuild_leaves_the_rows_of_the_table_it_replaces() {
        let rename = ["ALTER TABLE \"t_new\" RENAME TO \"t\""];
        assert!(leaves_rows(
            "INSERT INTO t_new SELECT * FROM t;",
            "t",
            &rename
        ));
        assert!(leaves_rows(
            "INSERT INTO t_new (id, a) SELECT id, a FROM t",
            "t",
            &rename
        ));
        assert!(leaves_rows("DROP TABLE t", "t", &rename));
        assert!(leaves_rows(
            "CREATE TABLE t_new (a INT REFERENCES u (id))",
            "u",
            &[]
        ));
        // An expression, a condition, another order, or no rename back: may change the rows.
        for sql in [
            "INSERT INTO t_new SELECT id, COALESCE(a, 0) FROM t",
            "INSERT INTO t_new SELECT * FROM t WHERE a IS NOT NULL",
            "INSERT INTO t_new (a, id) SELECT id, a FROM t",
            "DELETE FROM t WHERE a IS NULL",
            "UPDATE t SET a = 0",
            "CREATE TABLE t (a INT)",
        ] {
            assert!(!leaves_rows(sql, "t", &rename), "{sql}");
        }
        assert!(!leaves_rows("DROP TABLE t", "t", &[]));
        assert!(!leaves_rows("INSERT INTO x SELECT * FROM t", "t", &rename));
        assert_eq!(
            renames("RENAME TABLE `t` TO `t_old`, `t_new` TO `t`"),
            vec![("t".into(), "t_old".into()), ("t_new".into(), "t".into())]
        );
    }

    #[test]
    fn the_other_rules_select_the_rows_they_reject() {
        let mut fk = tightening("foreign-key", &["a"]);
        fk.needs = Needs::Parent {
            table: "u".into(),
            columns: vec!["id".into()],
        };
        let p = probe(&fk, &table(), Dialect::Sqlite).unwrap();
        assert_eq!(
            p.count,
            "SELECT CAST(COUNT(*) AS TEXT) FROM \"t\" WHERE \"t\".\"a\" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM \"u\" AS probe_parent WHERE probe_parent.\"id\" = \"t\".\"a\")"
        );
        assert!(p
            .sample
            .starts_with("SELECT CAST(\"id\" AS TEXT), CAST(\"a\" AS TEXT) FROM"));
        let mut check = tightening("check", &["a"]);
        check.needs = Needs::Clause("a > 0".into());
        let p = probe(&check, &table(), Dialect::Sqlite).unwrap();
        assert!(p.count.ends_with("WHERE NOT (a > 0)"), "{}", p.count);
        let narrow = |old: &str, new: &str| {
            let mut t = tightening("narrower-type", &["a"]);
            t.needs = Needs::Types {
                old: old.into(),
                new: new.into(),
            };
            probe(&t, &table(), Dialect::Mysql).map(|p| p.count)
        };
        assert!(narrow("VARCHAR(20)", "VARCHAR(10)")
            .unwrap()
            .ends_with("WHERE `a` IS NOT NULL AND (CHAR_LENGTH(`a`) > 10)"));
        assert!(narrow("BIGINT", "TINYINT UNSIGNED")
            .unwrap()
            .ends_with("(`a` < 0 OR `a` > 255)"));
        assert!(narrow("DECIMAL(10,2)", "DECIMAL(5,2)")
            .unwrap()
            .ends_with("(ABS(`a`) >= 1000)"));
        assert_eq!(narrow("TEXT", "INT"), None);
        let mut e = tightening("enum-values-removed", &["a"]);
        e.needs = Needs::Types {
            old: "ENUM('A','B','C')".into(),
            new: "ENUM('A','B')".into(),
        };
        let p = probe(&e, &table(), Dialect::Mysql).unwrap();
        assert!(p.count.ends_with("WHERE `a` + 0 IN (3)"), "{}", p.count);
        e.needs = Needs::Types {
            old: "SET('A','B','C')".into(),
            new: "SET('B')".into(),
        };
        let p = probe(&e, &table(), Dialect::Mysql).unwrap();
        assert!(p.count.ends_with("WHERE (`a` + 0) & 5 <> 0"), "{}", p.count);
        // SQLite has no such types to narrow.
        assert!(probe(&e, &table(), Dialect::Sqlite).is_none());
    }
}
