//! The rehearsal: what each pending statement tightens, learnt from the server itself. The
//! live tables' definitions (no rows) are copied into a scratch database ([`super::scratch`],
//! as `verify` makes them), the pending statements run there one by one, and the canonical
//! model is read back after each; [`schema::tighten`] says what the difference adds or
//! tightens. The live database is only read; the scratch database is removed on every path.

use std::collections::HashSet;

use serde::Serialize;

use super::scratch::{Place, Scratch};
use crate::backend::{Backend, Catalogue, Connection, Timeouts};
use crate::error::{Error, Result};
use crate::history::TableName;
use crate::plan::Step;
use crate::schema::tighten::{self, State, Tightening};
use crate::schema::Definition;

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
    /// The DDL plan: each pending DDL statement's best algorithm and lock (MySQL/MariaDB;
    /// empty on SQLite), with the live table's size ([`super::ddl`]).
    pub ddl: Vec<super::ddl::Ddl>,
    /// The DDL statements the plan covers for which the server accepted no clause on the copy
    /// but ran as written (`file:line`): their plan is unknown, so a gate refuses the run.
    pub unproven: Vec<String>,
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
    let mut clock = Clock::start();
    let all = live.copy_statements().await?;
    let pending: Vec<&str> = steps
        .iter()
        .flat_map(|s| {
            let up = &s.migration.up;
            (s.resume_from..up.statements.len()).map(move |i| up.statement_text(i))
        })
        .collect();
    let copy = needed(all, &pending);
    let collation = live.default_collation().await?;
    clock.lap("read_live");
    let algorithms = live.alter_algorithms().await?;
    clock.lap("plan");
    let mut scratch =
        Scratch::create_in_memory(place, "rehearsal", collation.as_deref(), table, timeouts)
            .await?;
    clock.lap("create");
    let result = tokio::select! {
        r = run(&mut scratch.conn, &copy, steps, algorithms, &mut clock) => r,
        e = stop => {
            crate::backend::interrupt(timeouts.connect).await;
            Err(e)
        }
    };
    let mut result = result;
    let sized = match &mut result {
        Ok(r) => sizes(live, &mut r.ddl).await,
        Err(_) => Ok(()),
    };
    clock.lap("sizes");
    if let (Ok(()), Ok(r)) = (&sized, &mut result) {
        let database = match place {
            Place::Mysql(t) => Some(t.database.as_str()),
            Place::Sqlite => None,
        };
        super::ddl::estimates(&mut scratch.conn, database, &mut r.ddl).await;
    }
    clock.lap("calibrate");
    scratch.dispose().await;
    clock.lap("dispose");
    let result = sized.and(result);
    let plan = ["plan", "sizes", "calibrate"];
    if !algorithms.is_empty() {
        // The DDL plan's own share of the rehearsal (MySQL/MariaDB): reading which clauses
        // the server knows and running each covered statement with them (the accepted try
        // is that statement's run on the copy), the live tables' sizes, and the calibration.
        tracing::debug!(
            statements = result.as_ref().map_or(0, |r| r.ddl.len()),
            learn_ms = clock.ms("plan"),
            sizes_ms = clock.ms("sizes"),
            calibrate_ms = clock.ms("calibrate"),
            total_ms = clock.sum(&plan),
            "plan"
        );
    }
    tracing::debug!(
        tables = copy.len(),
        read_live_ms = clock.ms("read_live"),
        create_ms = clock.ms("create"),
        copy_ms = clock.ms("copy"),
        statements_ms = clock.ms("statements"),
        plan_ms = clock.sum(&plan),
        read_model_ms = clock.ms("read_model"),
        dispose_ms = clock.ms("dispose"),
        total_ms = clock.total(),
        "rehearsal"
    );
    result
}

/// Where the rehearsal's time went, by part (for `-vv`: the benchmarks read it).
struct Clock {
    last: std::time::Instant,
    parts: Vec<(&'static str, f64)>,
}

impl Clock {
    fn start() -> Self {
        Clock {
            last: std::time::Instant::now(),
            parts: Vec::new(),
        }
    }

    /// Adds the time since the previous lap (or since the start) to `part`.
    fn lap(&mut self, part: &'static str) {
        let now = std::time::Instant::now();
        let ms = now.duration_since(self.last).as_secs_f64() * 1000.0;
        self.last = now;
        match self.parts.iter_mut().find(|(p, _)| *p == part) {
            Some((_, total)) => *total += ms,
            None => self.parts.push((part, ms)),
        }
    }

    fn ms(&self, part: &str) -> f64 {
        self.sum(&[part])
    }

    /// The time of `parts` together.
    fn sum(&self, parts: &[&str]) -> f64 {
        let ms: f64 = self
            .parts
            .iter()
            .filter(|(p, _)| parts.contains(p))
            .map(|x| x.1)
            .sum();
        (ms * 10.0).round() / 10.0
    }

    fn total(&self) -> f64 {
        (self.parts.iter().map(|x| x.1).sum::<f64>() * 10.0).round() / 10.0
    }
}

/// The live tables' sizes, in the plan (the estimates come from them:
/// [`super::ddl::estimates`]).
async fn sizes(live: &mut Connection, ddl: &mut [super::ddl::Ddl]) -> Result<()> {
    for d in ddl {
        if let Some((rows, bytes)) = live.table_size(&d.table).await? {
            d.rows = Some(rows);
            d.bytes = Some(bytes);
        }
    }
    Ok(())
}

/// Runs one pending statement on the copy: a DDL statement the plan covers with the best
/// clause the server accepts (its plan returned), any other as written.
/// The clause tries (the accepted one included) go to the clock's `plan` part, a statement
/// run as written to `statements`.
async fn run_one(
    conn: &mut Connection,
    sql: &str,
    algorithms: &[&'static str],
    clock: &mut Clock,
) -> std::result::Result<
    Option<(String, String, String, &'static str)>,
    crate::backend::StatementError,
> {
    let learnt = super::ddl::learn(conn, sql, algorithms).await;
    clock.lap("plan");
    if let Some(found) = learnt {
        return Ok(Some(found));
    }
    conn.execute(sql).await.map(|()| None)
}

async fn run(
    conn: &mut Connection,
    copy: &[Definition],
    steps: &[Step<'_>],
    algorithms: &[&'static str],
    clock: &mut Clock,
) -> Result<Rehearsal> {
    // Empty tables need no order, and data statements no referenced rows.
    let off = conn.foreign_key_checks_sql(false);
    let _ = conn.execute(off).await;
    for d in copy {
        if let Err(e) = conn.execute(&d.sql).await {
            return Ok(Rehearsal {
                tightenings: Vec::new(),
                ddl: Vec::new(),
                unproven: Vec::new(),
                stopped: Some(format!(
                    "the live tables could not be copied: {}",
                    e.message
                )),
            });
        }
    }
    clock.lap("copy");
    let origin = read(conn).await?;
    clock.lap("read_model");
    let mut before = origin.clone();
    let mut out = Rehearsal::default();
    // Statements run since the model was last read, each changing one table of its own.
    let mut batch: Vec<Pending> = Vec::new();
    for step in steps {
        let m = step.migration;
        let file = m.up.path.display().to_string();
        for (i, st) in m.up.statements.iter().enumerate().skip(step.resume_from) {
            let sql = m.up.statement_text(i);
            let own = own_table(sql);
            let mut joins = own
                .as_ref()
                .is_some_and(|t| !batch.iter().any(|b| b.table == *t));
            if !batch.is_empty() && !rows_only(sql) && !joins {
                flush(conn, &origin, &mut before, &mut batch, &mut out).await?;
                clock.lap("read_model");
                joins = own.is_some();
            }
            let ran = run_one(conn, sql, algorithms, clock).await;
            clock.lap("statements");
            match ran {
                Err(e) => {
                    flush(conn, &origin, &mut before, &mut batch, &mut out).await?;
                    out.stopped = Some(format!("{file}:{}: {}", st.line, e.message));
                    return Ok(out);
                }
                Ok(Some((table, algorithm, lock, kind))) => out.ddl.push(super::ddl::Ddl {
                    version: m.version,
                    file: file.clone(),
                    line: st.line,
                    table,
                    algorithm,
                    lock,
                    kind: kind.to_string(),
                    rows: None,
                    bytes: None,
                    estimate_s: None,
                    estimate_method: None,
                    allow_lock: m.up.directives.allow_lock.clone(),
                }),
                Ok(None) => {
                    if !algorithms.is_empty() && super::ddl::target(sql).is_some() {
                        out.unproven.push(format!("{file}:{}", st.line));
                    }
                }
            }
            if rows_only(sql) {
                continue;
            }
            batch.push(Pending {
                version: m.version,
                file: file.clone(),
                line: st.line,
                table: own.unwrap_or_default(),
            });
            if joins {
                continue;
            }
            flush(conn, &origin, &mut before, &mut batch, &mut out).await?;
            clock.lap("read_model");
        }
    }
    flush(conn, &origin, &mut before, &mut batch, &mut out).await?;
    clock.lap("read_model");
    Ok(out)
}

/// A statement run on the copy whose tightenings are not read yet.
struct Pending {
    version: u64,
    file: String,
    line: u32,
    /// The one table it changes (lowercased), "" when not known.
    table: String,
}

/// The one table an `ALTER TABLE` or `CREATE`/`DROP INDEX` changes (lowercased), whose
/// tightenings can only be that table's: such statements on different tables share one read
/// of the model (reading it after each cost the most of a rehearsal of many statements).
/// `None` for any other statement and for a rename, which changes two names.
fn own_table(sql: &str) -> Option<String> {
    let t = super::ddl::target(sql)?;
    let renames = words(sql).contains("rename");
    (matches!(t.form, super::ddl::Form::Alter | super::ddl::Form::Index) && !renames)
        .then(|| t.table.to_lowercase())
}

/// Reads the model after the statements of `batch` and gives each the tightenings of its
/// table (a statement of unknown table is alone in its batch and gets them all), in the
/// statements' order.
async fn flush(
    conn: &mut Connection,
    origin: &State,
    before: &mut State,
    batch: &mut Vec<Pending>,
    out: &mut Rehearsal,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let after = read(conn).await?;
    let mut found: Vec<(usize, Found)> = tighten::tightenings(origin, before, &after)
        .into_iter()
        .map(|t| {
            let at = batch
                .iter()
                .position(|b| b.table.eq_ignore_ascii_case(&t.table))
                .unwrap_or(batch.len() - 1);
            let b = &batch[at];
            let f = Found {
                version: b.version,
                file: b.file.clone(),
                line: b.line,
                tightening: t,
            };
            (at, f)
        })
        .collect();
    found.sort_by_key(|(at, _)| *at);
    out.tightenings.extend(found.into_iter().map(|(_, f)| f));
    *before = after;
    batch.clear();
    Ok(())
}

/// The scratch database's model and CHECK constraints.
async fn read(conn: &mut Connection) -> Result<State> {
    let schema = conn.introspect().await?;
    let definitions = conn.definitions().await?;
    Ok(State::new(schema, &definitions))
}

/// The definitions the rehearsal copies, out of every table's (`all`): the tables a pending
/// statement names (as a word, in any case), the tables those reference or are referenced by
/// through a foreign key (one step), their indexes and triggers, and — closed over — every
/// table a copied view or trigger names (SQLite checks them when a table is renamed). The
/// other tables cannot change what the pending statements do to these, and copying every
/// table cost more than the rest of the rehearsal (on MySQL a `CREATE TABLE` and its file
/// per table).
fn needed(all: Vec<Definition>, pending: &[&str]) -> Vec<Definition> {
    let named: HashSet<String> = pending.iter().flat_map(|s| words(s)).collect();
    // A name that is not one word (`My Table`) is looked for as it is.
    let appears = |t: &String| {
        named.contains(t)
            || (words(t).len() != 1 && pending.iter().any(|s| s.to_lowercase().contains(t)))
    };
    let key = |d: &Definition| d.table.to_lowercase();
    let direct: HashSet<String> = all.iter().map(key).filter(appears).collect();
    let mut keep = direct.clone();
    for d in all.iter().filter(|d| d.kind == "table") {
        let parents = referenced(&d.sql);
        if direct.contains(&key(d)) {
            keep.extend(parents);
        } else if parents.iter().any(|p| direct.contains(p)) {
            keep.insert(key(d));
        }
    }
    loop {
        let before = keep.len();
        for d in &all {
            if matches!(d.kind.as_str(), "view" | "trigger") && keep.contains(&key(d)) {
                let known = |w: &String| all.iter().any(|t| key(t) == *w);
                keep.extend(words(&d.sql).into_iter().filter(known));
            }
        }
        if keep.len() == before {
            break;
        }
    }
    all.into_iter().filter(|d| keep.contains(&key(d))).collect()
}

/// The words of `sql` (identifiers, quoted or not, and keywords), lowercased.
fn words(sql: &str) -> HashSet<String> {
    sql.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The tables a `CREATE TABLE` statement's foreign keys reference (lowercased).
fn referenced(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut after = false;
    for w in sql.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')) {
        if w.is_empty() {
            continue;
        }
        if after {
            out.push(w.to_lowercase());
        }
        after = w.eq_ignore_ascii_case("references");
    }
    out
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
    fn def(kind: &str, table: &str, sql: &str) -> super::Definition {
        super::Definition {
            kind: kind.into(),
            name: table.into(),
            table: table.into(),
            sql: sql.into(),
        }
    }

    #[test]
    fn only_the_named_tables_and_their_neighbours_are_copied() {
        let all = vec![
            def("table", "Users", "CREATE TABLE Users (ID INT)"),
            def(
                "table",
                "Packages",
                "CREATE TABLE `Packages` (ID INT, U INT, FOREIGN KEY (U) REFERENCES `Users` (ID))",
            ),
            def(
                "table",
                "PackageDepends",
                "CREATE TABLE PackageDepends (P INT REFERENCES Packages (ID))",
            ),
            def(
                "table",
                "Votes",
                "CREATE TABLE Votes (P INT REFERENCES Packages (ID))",
            ),
            def("table", "Log", "CREATE TABLE Log (x TEXT)"),
            def("table", "Other", "CREATE TABLE Other (x TEXT)"),
            def("table", "Odd Name", "CREATE TABLE \"Odd Name\" (x TEXT)"),
            def("index", "Packages", "CREATE INDEX i ON Packages (U)"),
            def(
                "trigger",
                "Votes",
                "CREATE TRIGGER t AFTER INSERT ON Votes BEGIN INSERT INTO log VALUES (1); END",
            ),
            def("view", "V", "CREATE VIEW V AS SELECT * FROM Other"),
        ];
        let names = |pending: &[&str]| -> Vec<String> {
            super::needed(all.clone(), pending)
                .into_iter()
                .map(|d| format!("{} {}", d.kind, d.table))
                .collect()
        };
        // Packages: its parent Users, its children PackageDepends and Votes (with Votes'
        // trigger, and the Log table the trigger writes), and its index.
        assert_eq!(
            names(&["ALTER TABLE packages ADD UNIQUE KEY (ID)"]),
            [
                "table Users",
                "table Packages",
                "table PackageDepends",
                "table Votes",
                "table Log",
                "index Packages",
                "trigger Votes"
            ]
        );
        assert_eq!(
            names(&["INSERT INTO `Odd Name` VALUES ('x')"]),
            ["table Odd Name"]
        );
        assert_eq!(names(&["SELECT * FROM v"]), ["table Other", "view V"]);
        assert!(names(&["UPDATE Nowhere SET x = 1"]).is_empty());
    }

    #[test]
    fn only_statements_changing_one_known_table_share_a_model_read() {
        let own = |sql: &str| super::own_table(sql);
        assert_eq!(
            own("ALTER TABLE `Packages` ADD c INT"),
            Some("packages".into())
        );
        assert_eq!(own("CREATE UNIQUE INDEX i ON T (a)"), Some("t".into()));
        assert_eq!(own("DROP INDEX i ON t"), Some("t".into()));
        assert_eq!(own("ALTER TABLE t RENAME TO u"), None);
        assert_eq!(own("RENAME TABLE t TO u"), None);
        assert_eq!(own("OPTIMIZE TABLE t"), None);
        assert_eq!(own("CREATE TABLE t (a INT)"), None);
        assert_eq!(own("UPDATE t SET a = 1"), None);
    }

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
