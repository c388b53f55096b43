//! The DDL plan (MySQL/MariaDB), learnt from the server: during the rehearsal each pending
//! DDL statement runs on the empty copy with `ALGORITHM=`/`LOCK=` clauses appended, best
//! first; a refused clause changes nothing, and the first accepted one is the rehearsal's run
//! of the statement, so the copy is left as the real statement would leave it. The model is
//! [`crate::schema::ddl`].

use crate::backend::{Backend, Connection};
pub use crate::schema::ddl::*;

/// Runs `sql` on the scratch copy with each algorithm of `algorithms` and each lock appended,
/// best first, until one is accepted: `Some((table, algorithm, lock))`, the statement
/// then having run. `None`: not a statement the plan covers, or no clause accepted; the
/// caller runs it as written.
pub async fn learn(
    conn: &mut Connection,
    sql: &str,
    algorithms: &[&'static str],
) -> Option<(String, &'static str, &'static str)> {
    let (table, form) = target(sql)?;
    for algorithm in algorithms {
        for lock in LOCKS {
            if conn
                .execute(&with_clause(sql, form, algorithm, lock))
                .await
                .is_ok()
            {
                return Some((table, algorithm, lock));
            }
        }
    }
    None
}
