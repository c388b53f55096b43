//! Metadata locks: a DDL statement waits for its table's metadata lock at most
//! `--ddl-lock-wait` (the session's `lock_wait_timeout`, set around it), so that the readers
//! that queue behind its pending lock never wait longer; then it gives way, pauses, and is
//! tried again ([`DDL_RETRY_PAUSES`]). A DDL statement that gave up its wait did nothing, so
//! trying it again is safe. When it gives up for good, the sessions that hold the lock are
//! named ([`Blocker`]) from `information_schema.PROCESSLIST`, `INNODB_TRX` and, where the
//! server keeps it, `performance_schema.metadata_locks`; the same reading names the old
//! transactions before the first DDL of a run.

use std::collections::BTreeMap;
use std::time::Duration;

use sqlx::Row as _;

use super::Mysql;
use crate::backend::seam::{StatementError, StatementErrorKind};
use crate::error::Blocker;

/// The pauses before each retry of a DDL statement that gave up its metadata-lock wait: two
/// retries, after 1 s and then 2 s, during which the readers go on. With `--ddl-lock-wait W`
/// a blocked statement gives up after at most 3 × W + 3 seconds.
pub(crate) const DDL_RETRY_PAUSES: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(2)];

/// A session's current statement is shown cut to this many characters.
const STATEMENT_CHARS: usize = 200;

/// The session variable the tool's own `lock_wait_timeout` waits in while a DDL runs.
const SAVED: &str = "@aurweb_migrate_lock_wait_timeout";

impl Mysql {
    /// The bound of `sql`'s metadata-lock wait, when it is DDL that waits for one and
    /// `--ddl-lock-wait` is on.
    pub(super) fn ddl_bound(&self, sql: &str) -> Option<Duration> {
        self.timeouts
            .ddl_lock
            .filter(|_| crate::source::lint::waits_for_metadata_lock(sql))
    }

    /// Runs a DDL statement whose metadata-lock wait is bounded by `wait`, retried after each
    /// pause of [`DDL_RETRY_PAUSES`] while it gives up that wait; when it still does, the
    /// error (kind `LockWait`) names the sessions that hold the lock. `before`, a statement of
    /// the tool's own (a history row, autocommitted), goes ahead of the first try in the same
    /// batch, so it is committed before the DDL starts; its failure is `Err((true, e))`, and
    /// then nothing else ran.
    pub(super) async fn ddl_watched(
        &mut self,
        mut before: Option<&str>,
        sql: &str,
        wait: Duration,
        starting: &mut dyn FnMut(usize),
    ) -> Result<(), (bool, StatementError)> {
        let seconds = wait.as_secs().max(1);
        let mut pauses = DDL_RETRY_PAUSES.iter();
        let set = format!(
            "SET {SAVED} = @@SESSION.lock_wait_timeout, SESSION lock_wait_timeout = {seconds}"
        );
        let restore = format!("SET SESSION lock_wait_timeout = {SAVED}");
        loop {
            // The bound, the statement and the restore go as one batch: one round trip, not
            // three. The server stops at the first failure, so only a failed statement leaves
            // the restore to send on its own.
            let first = before.take();
            let batch: Vec<&str> = first
                .into_iter()
                .chain([set.as_str(), sql, &restore])
                .collect();
            let shift = batch.len() - 3;
            self.ddl_waiting = Some(seconds);
            let ran = self
                .batch_watched(&batch, &mut |i| {
                    if i == shift + 1 {
                        starting(0)
                    }
                })
                .await;
            self.ddl_waiting = None;
            let ran = match ran {
                Ok(()) => return Ok(()),
                // The row before it failed (or the connection was lost during it, when the
                // outcome of the statement is unknown: told as the statement's).
                Err((i, e)) if i < shift && e.kind != StatementErrorKind::ConnectionLost => {
                    return Err((true, e))
                }
                Err((i, e)) if i < shift => return Err((false, e)),
                // The bound or the restore failed: the tool's own statement, an error as is.
                Err((i, e)) if i != shift + 1 => return Err((false, e)),
                Err((_, e)) => Err(e),
            };
            if matches!(&ran, Err(e) if e.kind == StatementErrorKind::ConnectionLost) {
                return ran.map_err(|e| (false, e));
            }
            self.session_sql(&restore).await.map_err(|e| (false, e))?;
            match ran {
                Err(e) if e.kind == StatementErrorKind::LockWait => match pauses.next() {
                    Some(pause) => {
                        tracing::warn!(
                            "a DDL statement did not get its table's metadata lock within {seconds}s (--ddl-lock-wait): another session holds it; gave way to the readers, trying again in {}s",
                            pause.as_secs()
                        );
                        tokio::time::sleep(*pause).await;
                    }
                    None => {
                        let pauses: Vec<String> = DDL_RETRY_PAUSES
                            .iter()
                            .map(|p| format!("{}s", p.as_secs()))
                            .collect();
                        return Err((
                            false,
                            StatementError {
                                message: format!(
                                    "{}; tried {} times, {} apart",
                                    e.message,
                                    DDL_RETRY_PAUSES.len() + 1,
                                    pauses.join(" and ")
                                ),
                                blockers: self.blockers(sql).await,
                                ..e
                            },
                        ));
                    }
                },
                other => return other.map_err(|e| (false, e)),
            }
        }
    }

    /// A statement of the tool's own on the session, as a statement error when it fails.
    async fn session_sql(&mut self, sql: &str) -> Result<(), StatementError> {
        self.plain(sql).await.map_err(|e| StatementError {
            kind: match self.broken {
                true => StatementErrorKind::ConnectionLost,
                false => StatementErrorKind::Failed,
            },
            ..StatementError::failed(e.to_string())
        })
    }

    /// The sessions that hold a metadata lock `sql` waited for: with `metadata_locks`, those
    /// holding one on a table it names; without, every session with an open transaction (or
    /// running a statement on this database), any of which may hold it. Empty when the server
    /// tells nothing (no privilege to see other sessions).
    async fn blockers(&mut self, sql: &str) -> Vec<Blocker> {
        let held = self.metadata_locks().await;
        let sessions = self.sessions().await;
        match held {
            Some(held) => {
                let named: Vec<&(u64, String, String)> = held
                    .iter()
                    .filter(|(_, table, _)| crate::schema::probe::mentions(sql, table))
                    .collect();
                // A table the statement names only indirectly (a foreign key's): any holder.
                let named = match named.is_empty() {
                    true => held.iter().collect(),
                    false => named,
                };
                holders(sessions, &named)
            }
            None => {
                let mut candidates: Vec<(Blocker, bool, bool)> = sessions
                    .into_iter()
                    .filter(|(b, this_database, waiting)| {
                        !waiting
                            && (b.transaction_seconds.is_some()
                                || (*this_database && b.command != "Sleep"))
                    })
                    .collect();
                // The sessions using this database first, the oldest transaction first.
                candidates.sort_by_key(|(b, this_database, _)| {
                    (!this_database, std::cmp::Reverse(b.transaction_seconds))
                });
                candidates.into_iter().map(|(b, _, _)| b).collect()
            }
        }
    }

    /// The other sessions whose transaction is at least `older_than` old and that may hold a
    /// metadata lock on one of `tables`; `true` when `metadata_locks` told which tables they
    /// hold (else every old transaction is named).
    pub(super) async fn old_transactions_here(
        &mut self,
        tables: &[String],
        older_than: Duration,
    ) -> (Vec<Blocker>, bool) {
        let held = self.metadata_locks().await;
        let mut sessions: Vec<(Blocker, bool, bool)> = self
            .sessions()
            .await
            .into_iter()
            .filter(|(b, _, _)| {
                b.transaction_seconds
                    .is_some_and(|s| s >= older_than.as_secs())
            })
            .collect();
        // The sessions using this database first, the oldest transaction first.
        sessions.sort_by_key(|(b, this_database, _)| {
            (!this_database, std::cmp::Reverse(b.transaction_seconds))
        });
        match held {
            Some(held) => {
                let named: Vec<&(u64, String, String)> = held
                    .iter()
                    .filter(|(_, table, _)| tables.iter().any(|t| t.eq_ignore_ascii_case(table)))
                    .collect();
                (holders(sessions, &named), true)
            }
            None => (sessions.into_iter().map(|(b, _, _)| b).collect(), false),
        }
    }

    /// The table metadata locks other sessions hold in this database, `(connection id, table,
    /// lock type)`; `None` when the server does not keep them (`performance_schema` off, or
    /// its `wait/lock/metadata/sql/mdl` instrument disabled) or they cannot be read.
    async fn metadata_locks(&mut self) -> Option<Vec<(u64, String, String)>> {
        let on = self
            .side_rows(
                "SELECT CAST(@@performance_schema AS SIGNED) = 1 AND EXISTS (SELECT 1 FROM \
                 performance_schema.setup_instruments WHERE NAME = 'wait/lock/metadata/sql/mdl' \
                 AND ENABLED = 'YES')",
            )
            .await?;
        if on.first()?.try_get::<i64, _>(0).ok()? != 1 {
            return None;
        }
        let rows = self
            .side_rows(
                "SELECT CAST(t.PROCESSLIST_ID AS SIGNED), m.OBJECT_NAME, m.LOCK_TYPE \
                 FROM performance_schema.metadata_locks m \
                 JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID \
                 WHERE m.OBJECT_TYPE = 'TABLE' AND m.OBJECT_SCHEMA = DATABASE() \
                 AND m.LOCK_STATUS = 'GRANTED' AND t.PROCESSLIST_ID <> CONNECTION_ID()",
            )
            .await?;
        let main = self.connection_id;
        Some(
            rows.iter()
                .filter_map(|r| {
                    Some((
                        u64::try_from(r.try_get::<i64, _>(0).ok()?).ok()?,
                        r.try_get::<String, _>(1).ok()?,
                        r.try_get::<String, _>(2).ok()?,
                    ))
                })
                .filter(|(id, _, _)| *id != main)
                .collect(),
        )
    }

    /// Every other session the account may see, with its open transaction's age
    /// (`INNODB_TRX`, which needs the PROCESS privilege: without it, no ages), whether it uses
    /// this database, and whether it is itself waiting for a metadata lock. (InnoDB refreshes
    /// `INNODB_TRX` only once it has not been read for 0.1 s, so a reader that polls it faster
    /// sees old transactions a while after they ended.)
    async fn sessions(&mut self) -> Vec<(Blocker, bool, bool)> {
        const COLUMNS: &str = "SELECT CAST(p.ID AS SIGNED), p.USER, p.HOST, p.COMMAND, \
             CAST(p.DB = DATABASE() AS SIGNED), \
             CAST(IFNULL(p.STATE, '') LIKE 'Waiting for%metadata lock%' AS SIGNED), \
             LEFT(p.INFO, 1000), ";
        let with_trx = format!(
            "{COLUMNS} CAST(TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS SIGNED) \
             FROM information_schema.PROCESSLIST p \
             LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID \
             WHERE p.ID <> CONNECTION_ID() ORDER BY p.ID"
        );
        let without = format!(
            "{COLUMNS} NULL FROM information_schema.PROCESSLIST p \
             WHERE p.ID <> CONNECTION_ID() ORDER BY p.ID"
        );
        let rows = match self.side_rows(&with_trx).await {
            Some(rows) => rows,
            None => self.side_rows(&without).await.unwrap_or_default(),
        };
        let mut out = Vec::new();
        for r in &rows {
            let text = |i: usize| r.try_get::<Option<String>, _>(i).ok().flatten();
            let int = |i: usize| r.try_get::<Option<i64>, _>(i).ok().flatten();
            let Some(id) = int(0).and_then(|id| u64::try_from(id).ok()) else {
                continue;
            };
            // The tool's own main connection (the query runs on its side connection).
            if id == self.connection_id {
                continue;
            }
            let blocker = Blocker {
                id,
                user: text(1).unwrap_or_default(),
                host: text(2).unwrap_or_default(),
                command: text(3).unwrap_or_default(),
                transaction_seconds: int(7).map(|s| s.max(0) as u64),
                statement: text(6).map(|s| shown_statement(&s)),
                lock: None,
            };
            out.push((blocker, int(4) == Some(1), int(5) == Some(1)));
        }
        out
    }

    /// Rows of a catalogue query on the side connection (the main one may be mid-statement
    /// for a watchdog's sake, and a failure there must not touch it), bounded by the connect
    /// timeout; `None` when it fails.
    async fn side_rows(&mut self, sql: &str) -> Option<Vec<sqlx::mysql::MySqlRow>> {
        let Mysql {
            side,
            options,
            timeouts,
            connection_id,
            ..
        } = &mut *self;
        let mut side = super::Side {
            conn: side,
            options,
            timeout: timeouts.connect,
            id: *connection_id,
        };
        let timeout = side.timeout;
        let conn = side.connection().await.ok()?;
        match tokio::time::timeout(timeout, sqlx::raw_sql(sql).fetch_all(&mut *conn)).await {
            Ok(Ok(rows)) => Some(rows),
            Ok(Err(e)) => {
                tracing::debug!("reading who holds the metadata locks: {e}");
                None
            }
            Err(_) => None,
        }
    }
}

/// The sessions among `sessions` that hold one of `held`, each with the locks it holds.
fn holders(sessions: Vec<(Blocker, bool, bool)>, held: &[&(u64, String, String)]) -> Vec<Blocker> {
    let mut locks: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for (id, table, kind) in held {
        let lock = format!("{kind} on {table}");
        let list = locks.entry(*id).or_default();
        if !list.contains(&lock) {
            list.push(lock);
        }
    }
    sessions
        .into_iter()
        .filter_map(|(mut b, _, _)| {
            b.lock = Some(locks.get(&b.id)?.join(", "));
            Some(b)
        })
        .collect()
}

/// A session's current statement as it may be shown: one line, cut short, and hidden when it
/// may hold a password (`IDENTIFIED BY`, `PASSWORD(…)`, `SET PASSWORD`).
fn shown_statement(sql: &str) -> String {
    let upper = sql.to_ascii_uppercase();
    if upper.contains("IDENTIFIED") || upper.contains("PASSWORD") {
        let first: Vec<String> = crate::source::splitter::keywords(sql, 2);
        return format!("{} … (hidden: it may hold a password)", first.join(" "));
    }
    let line = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.chars().count() > STATEMENT_CHARS {
        true => format!(
            "{}…",
            line.chars().take(STATEMENT_CHARS - 1).collect::<String>()
        ),
        false => line,
    }
}

#[cfg(test)]
mod tests {
    use super::shown_statement;

    #[test]
    fn statements_that_may_hold_a_password_are_hidden() {
        let shown = shown_statement("CREATE USER x IDENTIFIED BY 'hunter2'");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.starts_with("CREATE USER"), "{shown}");
        let shown = shown_statement("set password for x = password('hunter2')");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(shown_statement("SELECT  *\n FROM t"), "SELECT * FROM t");
        assert_eq!(shown_statement(&"x".repeat(500)).chars().count(), 200);
    }
}
