//! The DDL plan (MySQL/MariaDB), learnt from the server: during the rehearsal each pending
//! DDL statement runs on the empty copy with `ALGORITHM=`/`LOCK=` clauses appended, best
//! first; a refused clause changes nothing, and the first accepted one is the rehearsal's run
//! of the statement, so the copy is left as the real statement would leave it. The model is
//! [`crate::schema::ddl`].

use crate::backend::{Backend, Catalogue, Connection};
pub use crate::schema::ddl::*;

/// Runs `sql` on the scratch copy with each algorithm of `algorithms` and each lock appended,
/// best first, until one is accepted: `Some((table, algorithm, lock))`, the statement then
/// having run. What the statement states itself is kept and not appended (`ALGORITHM=COPY`
/// stated: only the locks are tried; both stated: it runs as written once). `None`: not a
/// statement the plan covers, or no clause accepted; the caller runs it as written.
/// Tried with the clause [`crate::schema::ddl::enforced`] appends, so the run meets the
/// clause the copy accepted. `RENAME TABLE` runs as written (metadata only: `INSTANT`, no
/// lock beyond a brief exclusive metadata lock); `OPTIMIZE TABLE t` is learnt as the rebuild
/// `ALTER TABLE t FORCE` it is on InnoDB. The last of the tuple is the plan's kind.
pub async fn learn(
    conn: &mut Connection,
    sql: &str,
    algorithms: &[&'static str],
) -> Option<(String, String, String, &'static str)> {
    if algorithms.is_empty() {
        return None;
    }
    let t = target(sql)?;
    let kind = t.kind();
    if t.form == Form::Rename {
        conn.execute(sql).await.ok()?;
        return Some((t.table, "INSTANT".into(), "NONE".into(), kind));
    }
    let sql = &t.learnt(sql);
    let form = match t.form {
        Form::Optimize => Form::Alter,
        f => f,
    };
    let algorithms: Vec<&str> = match &t.algorithm {
        Some(a) => vec![a.as_str()],
        None => algorithms.to_vec(),
    };
    let locks: Vec<&str> = match &t.lock {
        Some(l) => vec![l.as_str()],
        None => LOCKS.to_vec(),
    };
    for algorithm in &algorithms {
        // INSTANT is tried without a LOCK part (its lock is NONE; MySQL 8 refuses any other
        // than DEFAULT with it), once.
        let locks = match (*algorithm, &t.lock) {
            ("INSTANT", None) => vec!["NONE"],
            _ => locks.clone(),
        };
        for lock in &locks {
            let tried = with_clause(
                sql,
                form,
                t.algorithm.is_none().then_some(algorithm),
                (t.lock.is_none() && *algorithm != "INSTANT").then_some(lock),
            );
            if conn.execute(&tried).await.is_ok() {
                return Some((t.table, algorithm.to_string(), lock.to_string(), kind));
            }
        }
    }
    None
}

/// Rows a calibration copies at most: a few thousand, so that it costs tens of
/// milliseconds.
pub const SAMPLE_ROWS: u64 = 5000;

/// The name of the calibration's table in the scratch database.
const SAMPLE_TABLE: &str = "aurweb_migrate_calibration";

/// The rebuild rate of this server in bytes per second, timed on a sample of the live table
/// `table` of the database `live` (estimated `rows` and `bytes`): an empty table like it is
/// made in the scratch database of `conn` (`CREATE TABLE … LIKE`: no foreign keys), rebuilt
/// (`ALTER TABLE … FORCE`, timed: the fixed cost), filled with up to [`SAMPLE_ROWS`] rows of
/// the live table (`INSERT … SELECT … LIMIT` across the databases, under READ COMMITTED: the
/// live side only read) and rebuilt again (timed); the sample's bytes are its rows at the live
/// table's average row size ([`calibrated_rate`]). `None` when any step fails or the sample
/// is too small to time: the caller falls back to [`REBUILD_BYTES_PER_S`].
pub async fn calibrate(
    conn: &mut Connection,
    live: &str,
    table: &str,
    rows: u64,
    bytes: u64,
) -> Option<f64> {
    if rows == 0 {
        return None;
    }
    let dialect = conn.dialect();
    let q = |n: &str| dialect.quote_ident(n);
    let sample = q(SAMPLE_TABLE);
    let source = format!("{}.{}", q(live), q(table));
    step(conn, &format!("CREATE TABLE {sample} LIKE {source}")).await?;
    let force = format!("ALTER TABLE {sample} FORCE");
    let empty_s = timed(conn, &force).await?;
    let _ = conn
        .execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        .await;
    step(
        conn,
        &format!("INSERT INTO {sample} SELECT * FROM {source} LIMIT {SAMPLE_ROWS}"),
    )
    .await?;
    let copied = conn
        .probe(&format!("SELECT CAST(COUNT(*) AS CHAR) FROM {sample}"))
        .await
        .ok()?
        .first()?
        .first()?
        .as_deref()?
        .parse::<u64>()
        .ok()?;
    let with_s = timed(conn, &force).await?;
    // The sample table goes with the scratch database.
    let sample_bytes = (bytes as f64 / rows as f64 * copied as f64) as u64;
    let rate = calibrated_rate(sample_bytes, with_s, empty_s);
    tracing::debug!(
        table,
        copied,
        sample_bytes,
        empty_s,
        with_s,
        rate,
        "calibration"
    );
    rate
}

/// Runs one step of the calibration; a failure is logged (`-vv`) and ends it.
async fn step(conn: &mut Connection, sql: &str) -> Option<()> {
    match conn.execute(sql).await {
        Ok(()) => Some(()),
        Err(e) => {
            tracing::debug!(sql, error = e.message, "calibration not taken");
            None
        }
    }
}

/// Seconds `sql` took, `None` when it failed.
async fn timed(conn: &mut Connection, sql: &str) -> Option<f64> {
    let start = std::time::Instant::now();
    step(conn, sql).await?;
    Some(start.elapsed().as_secs_f64())
}

/// The estimates of `ddl`, at a rate calibrated once on the statement with the largest live
/// table among those that move rows ([`calibrate`]), or at the fixed rate when it could not
/// be taken; each estimate says which (`estimate_method`).
pub async fn estimates(conn: &mut Connection, live: Option<&str>, ddl: &mut [Ddl]) {
    let costly = ddl
        .iter()
        .filter(|d| d.algorithm != "INSTANT" && d.rows.is_some() && d.bytes.is_some())
        .max_by_key(|d| d.bytes)
        .map(|d| (d.table.clone(), d.rows.unwrap_or(0), d.bytes.unwrap_or(0)));
    let rate = match (live, costly) {
        (Some(live), Some((table, rows, bytes))) => {
            calibrate(conn, live, &table, rows, bytes).await
        }
        _ => None,
    };
    let (rate, method) = rate.map_or((REBUILD_BYTES_PER_S, "fixed-rate"), |r| (r, "calibrated"));
    for d in ddl {
        d.estimate_s = estimate(&d.algorithm, d.bytes, rate);
        d.estimate_method = d.estimate_s.map(|_| method.to_string());
    }
}
