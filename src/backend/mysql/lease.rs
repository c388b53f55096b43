//! The migration lock on a Galera cluster: a lease row in a small table beside the version
//! table, because `GET_LOCK` is node-local and does not exclude a runner on another node.
//!
//! - **Taking it** is an autocommit `INSERT` of the row (id 1): Galera's certification lets
//!   exactly one of concurrent inserts on different nodes commit, the others fail (deadlock or
//!   duplicate key) and wait.
//! - **Holding it**: a task on a connection of its own bumps the row's `beat` counter every
//!   third of the lease, naming its token; when that changes no row the lease was taken over
//!   and the holder marks itself fenced.
//! - **Waiting**: a waiter reads the row (the session's reads are causal, `wsrep_sync_wait`);
//!   when its `beat` has not moved for the lease by the waiter's own monotonic clock (never by
//!   comparing server timestamps, whose clocks may differ), it takes the lease over with one
//!   conditional `UPDATE` naming the token and beat it saw; certification again lets one win.
//! - **Fencing**: the holder checks the lease before each statement, and every history write
//!   runs in a transaction that also bumps its own row by token ([`Lease::fence`]): a holder
//!   that lost the lease (paused, partitioned) changes no row there and stops, or fails
//!   certification against the takeover, instead of writing.
//!
//! The residual window: a statement already sent when the lease is lost runs to its end (DDL
//! under TOI cannot be called back); the holder stops before the next one and records nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::ConnectOptions;

use super::errno::{error_number as number, ER_NO_SUCH_TABLE};
use crate::error::{Error, Result};

/// The documented default lease: a holder silent this long is presumed dead.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// The lease from `AURWEB_MIGRATE_LOCK_LEASE` (seconds, at least 1), else [`DEFAULT_LEASE`].
pub fn lease_period() -> Duration {
    std::env::var("AURWEB_MIGRATE_LOCK_LEASE")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| *s >= 1)
        .map_or(DEFAULT_LEASE, Duration::from_secs)
}

/// Deadlock (a certification failure), duplicate key, lock wait timeout: another runner won.
const LOST_RACE: [u16; 3] = [1213, 1062, 1205];

/// A lease held.
pub struct Lease {
    /// The lock table, quoted.
    table: String,
    token: String,
    lease: Duration,
    lost: Arc<AtomicBool>,
    /// When the renewal last succeeded (by this runner's clock).
    renewed: Arc<std::sync::Mutex<Instant>>,
    renewer: tokio::task::JoinHandle<()>,
}

/// Who asks, for the row and the wait message.
pub struct Holder {
    pub who: String,
    pub since: String,
}

/// The lock table's DDL (`table` quoted).
pub fn create_sql(table: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (id TINYINT NOT NULL PRIMARY KEY, token VARCHAR(64) NOT NULL, holder VARCHAR(255) NOT NULL, since VARCHAR(32) NOT NULL, beat BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
    )
}

/// A token no other runner has: pid, time and a counter.
fn new_token() -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{:x}-{nanos:x}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The row as a waiter reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    token: String,
    beat: i64,
    holder: String,
    since: String,
}

async fn read(
    conn: &mut MySqlConnection,
    table: &str,
) -> std::result::Result<Option<Seen>, sqlx::Error> {
    let row: Option<(String, i64, String, String)> = sqlx::query_as(&format!(
        "SELECT token, CAST(beat AS SIGNED), holder, since FROM {table} WHERE id = 1"
    ))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(token, beat, holder, since)| Seen {
        token,
        beat,
        holder,
        since,
    }))
}

/// Takes the lease, waiting at most `timeout`; `notice` is told once when it has to wait
/// (naming the holder). `renew_with`: the options of the renewal connection. `Ok(Err(holder))`
/// when the time ran out.
#[allow(clippy::too_many_arguments)]
pub async fn acquire(
    conn: &mut MySqlConnection,
    renew_with: &MySqlConnectOptions,
    table: &str,
    me: &Holder,
    lease: Duration,
    timeout: Duration,
    describe: &str,
    notice: &mut dyn FnMut(&str),
) -> Result<std::result::Result<Lease, Option<String>>> {
    let db = |e: sqlx::Error| Error::DatabaseFailed {
        target: describe.to_string(),
        action: Some("the cluster lock"),
        message: e.to_string(),
    };
    let token = new_token();
    let deadline = Instant::now() + timeout;
    let mut watching: Option<(Seen, Instant)> = None;
    let mut announced = false;
    loop {
        let inserted = sqlx::query(&format!(
            "INSERT INTO {table} (id, token, holder, since, beat) VALUES (1, ?, ?, ?, 0)"
        ))
        .bind(&token)
        .bind(&me.who)
        .bind(&me.since)
        .execute(&mut *conn)
        .await;
        match inserted {
            Ok(_) => break,
            Err(e) if number(&e).is_some_and(|n| LOST_RACE.contains(&n)) => {}
            // The first run on this database: the table is made (once; DDL is replicated in
            // total order, so every node has it) and the insert tried again.
            Err(e) if number(&e) == Some(ER_NO_SUCH_TABLE) => {
                sqlx::raw_sql(&create_sql(table))
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                continue;
            }
            Err(e) => return Err(db(e)),
        }
        match read(conn, table).await.map_err(db)? {
            None => {}
            Some(seen) => {
                let still = watching
                    .as_ref()
                    .is_some_and(|(w, _)| w.token == seen.token && w.beat == seen.beat);
                if !still {
                    watching = Some((seen.clone(), Instant::now()));
                    if !announced {
                        announced = true;
                        notice(&format!(
                            "waiting up to {}s (--lock-timeout) for the cluster's migration lock, held by {} since {} (taken over when silent for {}s)",
                            timeout.as_secs(),
                            seen.holder,
                            seen.since,
                            lease.as_secs()
                        ));
                    }
                } else if watching.as_ref().is_some_and(|(_, t)| t.elapsed() >= lease) {
                    // Silent for the lease by this runner's clock: take it over, naming
                    // exactly what was seen, so that only one waiter can.
                    let taken = sqlx::query(&format!(
                        "UPDATE {table} SET token = ?, holder = ?, since = ?, beat = beat + 1 WHERE id = 1 AND token = ? AND beat = ?"
                    ))
                    .bind(&token)
                    .bind(&me.who)
                    .bind(&me.since)
                    .bind(&seen.token)
                    .bind(seen.beat)
                    .execute(&mut *conn)
                    .await;
                    match taken {
                        Ok(r) if r.rows_affected() == 1 => {
                            tracing::info!(from = %seen.holder, "took over the cluster's migration lock");
                            break;
                        }
                        Ok(_) => {}
                        Err(e) if number(&e).is_some_and(|n| LOST_RACE.contains(&n)) => {}
                        Err(e) => return Err(db(e)),
                    }
                    watching = None;
                }
            }
        }
        if Instant::now() >= deadline {
            return Ok(Err(
                watching.map(|(w, _)| format!("{} since {}", w.holder, w.since))
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let lost = Arc::new(AtomicBool::new(false));
    let renewed = Arc::new(std::sync::Mutex::new(Instant::now()));
    let renewer = tokio::spawn(renew(
        renew_with.clone(),
        table.to_string(),
        token.clone(),
        lease,
        Arc::clone(&lost),
        Arc::clone(&renewed),
    ));
    Ok(Ok(Lease {
        table: table.to_string(),
        token,
        lease,
        lost,
        renewed,
        renewer,
    }))
}

/// Bumps the row every third of the lease; marks the lease lost when the row is no longer
/// ours, or when no bump succeeded for a whole lease.
async fn renew(
    options: MySqlConnectOptions,
    table: String,
    token: String,
    lease: Duration,
    lost: Arc<AtomicBool>,
    renewed: Arc<std::sync::Mutex<Instant>>,
) {
    let every = (lease / 3).max(Duration::from_millis(300));
    let mut conn: Option<MySqlConnection> = None;
    let mut last_ok = Instant::now();
    loop {
        tokio::time::sleep(every).await;
        if conn.is_none() {
            conn = options.connect().await.ok();
        }
        // `None`: no connection, or the bump failed: try again next time, within the lease.
        let bumped = match conn.as_mut() {
            Some(c) => sqlx::query(&format!(
                "UPDATE {table} SET beat = beat + 1 WHERE id = 1 AND token = ?"
            ))
            .bind(&token)
            .execute(&mut *c)
            .await
            .ok(),
            None => None,
        };
        match bumped {
            Some(r) if r.rows_affected() == 1 => {
                last_ok = Instant::now();
                *renewed
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = last_ok;
            }
            Some(_) => {
                lost.store(true, Ordering::SeqCst);
                return;
            }
            None => {
                conn = None;
                if last_ok.elapsed() >= lease {
                    lost.store(true, Ordering::SeqCst);
                    return;
                }
            }
        }
    }
}

impl Lease {
    /// Whether another runner has taken the lease over (or it could not be renewed).
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Whether the last renewal is older than half the lease by this runner's clock (it was
    /// paused, or its renewal is stuck): the lease must be checked before going on.
    pub fn overdue(&self) -> bool {
        self.renewed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .elapsed()
            >= self.lease / 2
    }

    /// Reads the row (without locking it): whether it still names this runner. Marks the
    /// lease lost when not.
    pub async fn still_ours(
        &self,
        conn: &mut MySqlConnection,
    ) -> std::result::Result<bool, sqlx::Error> {
        let ours = read(conn, &self.table)
            .await?
            .is_some_and(|seen| seen.token == self.token);
        if !ours {
            self.lost.store(true, Ordering::SeqCst);
        }
        Ok(ours)
    }

    /// Run first by a history write, in its transaction: bumps this runner's row by token.
    /// `Ok(false)` once the lease is lost (no row is ours: the caller stops); after a takeover
    /// it also conflicts with the takeover's write set at certification.
    pub async fn fence(
        &self,
        conn: &mut MySqlConnection,
    ) -> std::result::Result<bool, sqlx::Error> {
        if self.lost() {
            return Ok(false);
        }
        sqlx::query(&format!(
            "UPDATE {} SET beat = beat + 1 WHERE id = 1 AND token = ?",
            self.table
        ))
        .bind(&self.token)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected() == 1)
    }

    /// Lets the lease go: the renewal stops and the row is deleted (by token: a lease taken
    /// over is not touched).
    pub async fn release(self, conn: &mut MySqlConnection) -> std::result::Result<(), sqlx::Error> {
        self.renewer.abort();
        sqlx::query(&format!(
            "DELETE FROM {} WHERE id = 1 AND token = ?",
            self.table
        ))
        .bind(&self.token)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

/// The error of a holder that lost its lease.
pub fn lost_error(describe: &str) -> Error {
    Error::LeaseTakenOver {
        target: describe.to_string(),
    }
}
