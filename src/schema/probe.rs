//! The probes of the live rows: for a tightening the rehearsal found (`tighten.rs`), the
//! read-only queries that count the rows the new constraint would reject, and take a few of
//! their key values. Two kinds are probed: a new primary or unique key (duplicate key values;
//! for a unique key, rows with a NULL key column are left out, as the key allows them) and a
//! column made NOT NULL (rows where it is NULL). Pure: the SQL is built here and run by
//! `Catalogue::probe`.

use super::tighten::Tightening;
use super::Table;
use crate::dialect::Dialect;

/// How many offending key values a probe keeps.
pub const SAMPLES: usize = 5;
/// How many characters of a key value a probe shows.
pub const CUT: usize = 40;

/// The queries of one probe: `count` answers one row of one number, `sample` up to
/// [`SAMPLES`] rows of key values as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub count: String,
    pub sample: String,
}

/// The probe of `t` on the live `table` (its definition before the migrations), or `None`
/// for a tightening that is not probed.
pub fn probe(t: &Tightening, table: &Table, dialect: Dialect) -> Option<Probe> {
    if t.columns.is_empty() {
        return None;
    }
    let q = |n: &str| dialect.quote_ident(n);
    let text = |n: &str| match dialect {
        Dialect::Mysql => format!("CAST({} AS CHAR)", q(n)),
        Dialect::Sqlite => format!("CAST({} AS TEXT)", q(n)),
    };
    let text_type = match dialect {
        Dialect::Mysql => "CHAR",
        Dialect::Sqlite => "TEXT",
    };
    let from = q(&table.name);
    let list = |cols: &[String], f: &dyn Fn(&str) -> String, sep: &str| {
        cols.iter().map(|c| f(c)).collect::<Vec<_>>().join(sep)
    };
    match t.kind {
        "primary-key" | "unique-key" => {
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
            Some(Probe {
                count: format!(
                    "SELECT CAST(COUNT(*) AS {text_type}) FROM (SELECT 1 AS one {groups}) AS duplicates"
                ),
                sample: format!(
                    // By the columns, not their text: an index over them gives the order.
                    "SELECT {} {groups} ORDER BY {group} LIMIT {SAMPLES}",
                    list(&t.columns, &text, ", "),
                ),
            })
        }
        "not-null" => {
            let filter = list(&t.columns, &|c| format!("{} IS NULL", q(c)), " OR ");
            // The rows are named by their primary key, else by their first column.
            let key: Vec<String> = if table.primary_key.is_empty() {
                table
                    .columns
                    .iter()
                    .take(1)
                    .map(|c| c.name.clone())
                    .collect()
            } else {
                table.primary_key.clone()
            };
            if key.is_empty() {
                return None;
            }
            let order = list(&key, &|c| q(c), ", ");
            Some(Probe {
                count: format!("SELECT CAST(COUNT(*) AS {text_type}) FROM {from} WHERE {filter}"),
                sample: format!(
                    "SELECT {} FROM {from} WHERE {filter} ORDER BY {} LIMIT {SAMPLES}",
                    list(&key, &text, ", "),
                    order
                ),
            })
        }
        _ => None,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Column;

    fn tightening(kind: &'static str, columns: &[&str]) -> Tightening {
        Tightening {
            table: "t".into(),
            kind,
            columns: columns.iter().map(|c| c.to_string()).collect(),
            detail: String::new(),
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
}
