//! The rehearsal: what each pending statement tightens, learnt from the server itself. The
//! live tables' definitions (no rows) are copied into a scratch database ([`super::scratch`],
//! as `verify` makes them), the pending statements run there one by one, and the canonical
//! model is read back after each; [`schema::tighten`] says what the difference adds or
//! tightens. The live database is only read; the scratch database is removed on every path.

use serde::Serialize;

use super::scratch::{Place, Scratch};
use crate::backend::{Backend, Catalogue, Connection, Timeouts};
use crate::error::{Error, Result};
use crate::history::TableName;
use crate::plan::Step;
use crate::schema::tighten::{self, State, Tightening};

/// A tightening of one pending statement.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    pub version: u64,
    pub file: String,
    pub line: u32,
    #[serde(flatten)]
    pub tightening: Tightening,
}

/// What the rehearsal learnt.
#[derive(Debug, Clone, Default)]
pub struct Rehearsal {
    pub tightenings: Vec<Found>,
    /// Why it stopped before the last pending statement (`file:line: message`), if it did: a
    /// statement the empty copy rejected. What it found up to there stands.
    pub stopped: Option<String>,
}

/// Rehearses `steps` (the pending migrations, in order, each after the statements an earlier
/// run committed) on an empty copy of the tables of `live`. When `stop` ends first (a signal),
/// the statement running in the scratch database is ended, the scratch database removed, and
/// `stop`'s error returned.
pub async fn rehearse(
    live: &mut Connection,
    place: &Place,
    steps: &[Step<'_>],
    table: &TableName,
    timeouts: Timeouts,
    stop: impl std::future::Future<Output = Error>,
) -> Result<Rehearsal> {
    let copy = live.copy_statements().await?;
    let collation = live.default_collation().await?;
    let mut scratch =
        Scratch::create(place, "rehearsal", collation.as_deref(), table, timeouts).await?;
    let result = tokio::select! {
        r = run(&mut scratch.conn, &copy, steps) => r,
        e = stop => {
            crate::backend::interrupt(timeouts.connect).await;
            Err(e)
        }
    };
    scratch.dispose().await;
    result
}

async fn run(conn: &mut Connection, copy: &[String], steps: &[Step<'_>]) -> Result<Rehearsal> {
    // Empty tables need no order, and data statements no referenced rows.
    let off = conn.foreign_key_checks_sql(false);
    let _ = conn.execute(off).await;
    for sql in copy {
        if let Err(e) = conn.execute(sql).await {
            return Ok(Rehearsal {
                tightenings: Vec::new(),
                stopped: Some(format!(
                    "the live tables could not be copied: {}",
                    e.message
                )),
            });
        }
    }
    let origin = read(conn).await?;
    let mut before = origin.clone();
    let mut out = Rehearsal::default();
    for step in steps {
        let m = step.migration;
        let file = m.up.path.display().to_string();
        for (i, st) in m.up.statements.iter().enumerate().skip(step.resume_from) {
            if let Err(e) = conn.execute(m.up.statement_text(i)).await {
                out.stopped = Some(format!("{file}:{}: {}", st.line, e.message));
                return Ok(out);
            }
            if rows_only(m.up.statement_text(i)) {
                continue;
            }
            let after = read(conn).await?;
            for t in tighten::tightenings(&origin, &before, &after) {
                out.tightenings.push(Found {
                    version: m.version,
                    file: file.clone(),
                    line: st.line,
                    tightening: t,
                });
            }
            before = after;
        }
    }
    Ok(out)
}

/// The scratch database's model and CHECK constraints.
async fn read(conn: &mut Connection) -> Result<State> {
    let schema = conn.introspect().await?;
    let definitions = conn.definitions().await?;
    Ok(State::new(schema, &definitions))
}

/// Whether a statement only reads or writes rows, which changes no definition: the model is
/// not read again after it (a data migration of thousands of INSERTs reads it once).
fn rows_only(sql: &str) -> bool {
    matches!(
        crate::source::splitter::keywords(sql, 1)
            .first()
            .map(String::as_str),
        Some("INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "SELECT" | "WITH" | "VALUES")
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rows_only_statements_are_told_apart_from_definitions() {
        for sql in [
            "INSERT INTO t VALUES (1)",
            "  -- a note\nupdate t SET a = 1",
            "DELETE FROM t",
            "REPLACE INTO t VALUES (1)",
            "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
        ] {
            assert!(super::rows_only(sql), "{sql}");
        }
        for sql in [
            "CREATE UNIQUE INDEX i ON t (a)",
            "ALTER TABLE t MODIFY a INT NOT NULL",
            "SET @s = 'ALTER TABLE t ADD c INT'",
            "EXECUTE st",
            "/*!50001 CREATE VIEW v AS SELECT 1 */",
        ] {
            assert!(!super::rows_only(sql), "{sql}");
        }
    }
}
