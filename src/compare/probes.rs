//! The probes of the live rows: for each primary or unique key and each NOT NULL the
//! rehearsal found ([`super::rehearsal`]), the live table is asked (read-only) how many of its
//! rows the new constraint would reject, and for a few of their key values
//! ([`schema::probe`] builds the queries). A tightening is not probed when an earlier pending
//! statement names its table: that statement may change the rows first (a migration that
//! deletes duplicates and then adds the key).

use serde::Serialize;

use super::rehearsal::Found;
use crate::backend::{Backend, Catalogue, Connection};
use crate::error::Result;
use crate::plan::Step;
use crate::schema::probe;

/// Live rows a pending statement would reject.
#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    pub version: u64,
    pub file: String,
    pub line: u32,
    pub table: String,
    pub columns: Vec<String>,
    /// The tightening's kind: `primary-key`, `unique-key` or `not-null`.
    pub rule: &'static str,
    /// Duplicate key values (keys), or rows holding NULL (not-null).
    pub count: u64,
    /// Up to five of them: the duplicate key values, or the NULL rows' primary key values.
    pub sample: Vec<String>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.rule {
            "not-null" => format!(
                "{} row(s) of {} hold NULL in {}",
                self.count,
                self.table,
                self.columns.join(", ")
            ),
            _ => format!(
                "{} value(s) of ({}) occur more than once in {}",
                self.count,
                self.columns.join(", "),
                self.table
            ),
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

/// Probes the live rows of `live` for `found` (the rehearsal of `steps`).
pub async fn probe(
    live: &mut Connection,
    steps: &[Step<'_>],
    found: &[Found],
) -> Result<Vec<Violation>> {
    let dialect = live.dialect();
    let mut out = Vec::new();
    let mut schema = None;
    for f in found {
        let t = &f.tightening;
        if !matches!(t.kind, "primary-key" | "unique-key" | "not-null") || written_before(steps, f)
        {
            continue;
        }
        if schema.is_none() {
            schema = Some(live.introspect().await?);
        }
        let Some(table) = schema.as_ref().and_then(|s| s.table(&t.table)) else {
            continue;
        };
        // A column the same statement adds has no live values yet: nothing to probe.
        let live_column = |c: &String| table.columns.iter().any(|x| x.name.eq_ignore_ascii_case(c));
        if !t.columns.iter().all(live_column) {
            continue;
        }
        let Some(p) = probe::probe(t, table, dialect) else {
            continue;
        };
        let count = live
            .probe(&p.count)
            .await?
            .first()
            .and_then(|r| r.first().cloned().flatten())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        if count == 0 {
            continue;
        }
        let sample = live
            .probe(&p.sample)
            .await?
            .iter()
            .map(|r| probe::sample_text(r))
            .collect();
        out.push(Violation {
            version: f.version,
            file: f.file.clone(),
            line: f.line,
            table: t.table.clone(),
            columns: t.columns.clone(),
            rule: t.kind,
            count,
            sample,
        });
    }
    Ok(out)
}

/// Whether a pending statement before `f`'s names its table.
fn written_before(steps: &[Step<'_>], f: &Found) -> bool {
    for step in steps {
        let m = step.migration;
        for (i, st) in m.up.statements.iter().enumerate().skip(step.resume_from) {
            if m.version == f.version && st.line >= f.line {
                return false;
            }
            if probe::mentions(m.up.statement_text(i), &f.tightening.table) {
                return true;
            }
        }
    }
    false
}
