//! The probes of the live rows: for each tightening the rehearsal found
//! ([`super::rehearsal`]), the live table is asked (read-only) how many of its rows the new
//! constraint would reject, and for a few of their key values ([`schema::probe`] builds the
//! queries). [`when`] says where a tightening is probed: before the run, when no earlier
//! pending statement names a table the probe reads; else during the run, right after the last
//! such statement of the tightening's migration (or before the migration's first statement,
//! when an earlier pending migration names it), so that a migration that deletes duplicates
//! and then adds the key passes.

use super::rehearsal::Found;
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::plan::Step;
use crate::schema::probe::{self, Violation};

/// Where a tightening is probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Before anything of the run.
    Before,
    /// During the run, right before statement `index` (0-based) of migration `version`.
    During { version: u64, index: usize },
    /// Not probed: the rows reach the constraint through a rebuild's copy that may change
    /// them (`INSERT INTO t_new SELECT …, COALESCE(b, '') FROM t`), which no probe of the
    /// table can tell; statement `index` of migration `version` (the copy) meets it.
    Not { version: u64, index: usize },
}

/// Where `f` (one of the rehearsal of `steps`) is probed: after the last pending statement
/// before it that names a table its probe reads, unless that statement leaves the rows as
/// they are ([`probe::leaves_rows`]: another table's creation, a rebuild's plain copy and its
/// drop); not at all when that statement is a rebuild's copy that may change them.
pub fn when(steps: &[Step<'_>], f: &Found) -> When {
    let tables = probe::tables_read(&f.tightening);
    // The pending statements before f's, and f's: (version, index, text).
    let mut before: Vec<(u64, usize, &str)> = Vec::new();
    let mut first = 0;
    'steps: for step in steps {
        let m = step.migration;
        for (i, st) in m.up.statements.iter().enumerate().skip(step.resume_from) {
            before.push((m.version, i, m.up.statement_text(i)));
            if m.version == f.version && st.line >= f.line {
                first = step.resume_from;
                break 'steps;
            }
        }
    }
    let texts: Vec<&str> = before.iter().map(|b| b.2).collect();
    let Some((_, earlier)) = texts.split_last() else {
        return When::Before;
    };
    let writes = |at: usize| {
        tables.iter().any(|t| {
            probe::mentions(texts[at], t) && !probe::leaves_rows(texts[at], t, &texts[at + 1..])
        })
    };
    let copies = |at: usize| {
        let later = &texts[at + 1..];
        tables
            .iter()
            .any(|t| probe::copies_into_rebuild(texts[at], t, later))
    };
    match (0..earlier.len()).rev().find(|&at| writes(at)) {
        None => When::Before,
        Some(at) if copies(at) => When::Not {
            version: before[at].0,
            index: before[at].1,
        },
        Some(at) if before[at].0 == f.version => When::During {
            version: f.version,
            index: before[at].1 + 1,
        },
        Some(_) => When::During {
            version: f.version,
            index: first,
        },
    }
}

/// The tightenings of `found` probed before the run.
pub fn before<'f>(steps: &[Step<'_>], found: &'f [Found]) -> Vec<&'f Found> {
    found
        .iter()
        .filter(|f| when(steps, f) == When::Before)
        .collect()
}

/// Probes the rows of `live` as they are now for `found`. A tightening whose table (or
/// column) does not exist now is not probed: a statement of the run makes it.
pub async fn probe<B: Backend>(live: &mut B, found: &[&Found]) -> Result<Vec<Violation>> {
    let dialect = live.dialect();
    let mut out = Vec::new();
    let mut schema = None;
    for f in found {
        let t = &f.tightening;
        if schema.is_none() {
            schema = Some(live.introspect().await?);
        }
        let Some(table) = schema.as_ref().and_then(|s| s.table(&t.table)) else {
            continue;
        };
        let tables = probe::tables_read(t);
        if !tables
            .iter()
            .all(|n| schema.as_ref().is_some_and(|s| s.table(n).is_some()))
        {
            continue;
        }
        // A column the same statement adds has no live values yet: nothing to probe.
        let live_column = |c: &String| table.columns.iter().any(|x| x.name.eq_ignore_ascii_case(c));
        if !t.columns.iter().all(live_column) {
            continue;
        }
        let Some(p) = probe::probe(t, table, dialect) else {
            continue;
        };
        // A probe cut short by --statement-timeout is an error naming it, never a pass.
        let timed_out = |e: Error| match e {
            Error::QueryTimedOut { seconds, .. } => Error::ProbeTimedOut {
                file: f.file.clone(),
                line: f.line,
                table: t.table.clone(),
                rule: t.kind,
                columns: t.columns.join(", "),
                seconds,
            },
            e => e,
        };
        let (count, sample) = count_and_sample(live, &p).await.map_err(timed_out)?;
        if count == 0 {
            continue;
        }
        out.push(Violation {
            version: f.version,
            file: f.file.clone(),
            line: f.line,
            table: t.table.clone(),
            columns: t.columns.clone(),
            rule: t.kind,
            count,
            sample,
            detail: t.detail.clone(),
        });
    }
    Ok(out)
}

/// Runs probe `p` on `live`: its pre-check when it has one, then the count, and the sample
/// when the count is not 0 (`(0, [])`: nothing rejected).
pub async fn count_and_sample<B: Backend>(
    live: &mut B,
    p: &probe::Probe,
) -> Result<(u64, Vec<String>)> {
    let number = |rows: Vec<Vec<Option<String>>>| {
        rows.first()
            .and_then(|r| r.first().cloned().flatten())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    if let Some(any) = &p.any {
        if number(live.probe(any).await?) == 0 {
            return Ok((0, Vec::new()));
        }
    }
    let count = number(live.probe(&p.count).await?);
    if count == 0 {
        return Ok((0, Vec::new()));
    }
    let sample = live
        .probe(&p.sample)
        .await?
        .iter()
        .map(|r| probe::sample_text(r))
        .collect();
    Ok((count, sample))
}
