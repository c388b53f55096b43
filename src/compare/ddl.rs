//! The DDL plan (MySQL/MariaDB), learnt from the server: during the rehearsal each pending
//! DDL statement runs on the empty copy with `ALGORITHM=`/`LOCK=` clauses appended, best
//! first; a refused clause changes nothing, and the first accepted one is the rehearsal's run
//! of the statement, so the copy is left as the real statement would leave it. The model is
//! [`crate::schema::ddl`].

use crate::backend::{Backend, Connection};
pub use crate::schema::ddl::*;

/// Runs `sql` on the scratch copy with each algorithm of `algorithms` and each lock appended,
/// best first, until one is accepted: `Some((table, algorithm, lock))`, the statement then
/// having run. What the statement states itself is kept and not appended (`ALGORITHM=COPY`
/// stated: only the locks are tried; both stated: it runs as written once). `None`: not a
/// statement the plan covers, or no clause accepted; the caller runs it as written.
/// Tried with the clause [`crate::schema::ddl::enforced`] appends, so the run meets the
/// clause the copy accepted.
pub async fn learn(
    conn: &mut Connection,
    sql: &str,
    algorithms: &[&'static str],
) -> Option<(String, String, String)> {
    if algorithms.is_empty() {
        return None;
    }
    let t = target(sql)?;
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
                t.form,
                t.algorithm.is_none().then_some(algorithm),
                (t.lock.is_none() && *algorithm != "INSTANT").then_some(lock),
            );
            if conn.execute(&tried).await.is_ok() {
                return Some((t.table, algorithm.to_string(), lock.to_string()));
            }
        }
    }
    None
}
