//! The test harness: a temporary working directory per test ([`Env`]), the real binary run in it
//! with a scrubbed environment ([`Env::run`] → [`Run`]), and a handle on the database under test
//! ([`Db`]) that both drives the binary and lets a test look at the database directly.
//!
//! Behaviour tests are written once as `fn scenario(db: &Db)` and instantiated per dialect with
//! [`each_db!`](crate::each_db) (dbmate's `testEachURL`): `scenario::sqlite` on a fresh SQLite
//! file, `scenario::mysql` on a fresh MySQL/MariaDB database. Tests of one dialect's own
//! behaviour are plain `#[test]`s using [`Db::sqlite`] or [`Db::mysql`].
//!
//! # Where the MySQL/MariaDB server comes from
//! Resolved once per test process (see [`mysql_server`]), first found wins:
//! 1. `AURWEB_MIGRATE_TEST_MYSQL_URL` (`mysql://USER[:PASS]@HOST[:PORT]/`, `mariadb://` too; the
//!    path is ignored, a `?query` is kept): an existing server. Unreachable is a failure.
//! 2. `mariadbd` or `mysqld` in `PATH`, `/usr/sbin` or `/usr/local/sbin`: a **private server**
//!    for this process, on a temporary datadir and a free port on 127.0.0.1 (see
//!    [`mariadbd`] for how it is started and how it goes away).
//! 3. Nothing (or `AURWEB_MIGRATE_TEST_MYSQL_URL=skip`, for a quick SQLite-only run even where
//!    MariaDB is installed): one `SKIPPED: …` line on stderr (written past libtest's capture), and every
//!    `::mysql` test returns early, passing — unless `AURWEB_MIGRATE_REQUIRE_MYSQL=1`, which
//!    makes each of them fail instead (CI).
//!
//! Every MySQL [`Db`] is its own database, `it_<hash of the test's path>_<pid>_<counter>`,
//! created by [`Db::mysql`] and dropped when the handle drops (also when the test panics; set
//! `AURWEB_MIGRATE_TEST_KEEP_DB=1` to keep a failed test's database for a look), so tests run in
//! parallel on one server.
//!
//! # Files
//! - `env.rs`: [`Env`], the working directory and the files a test writes there;
//! - `run.rs`: the binary as a process ([`isolated`], [`Cmd`], [`Spawned`], [`Run`] and its
//!   assertions);
//! - `db.rs`: [`Db`], the database under test, and the queries common to both dialects;
//!   `sqlite.rs` and `mysql.rs`: each dialect's connections and its own helpers;
//! - `server.rs`: the MySQL/MariaDB server of the process ([`mysql_server`], [`MysqlServer`]);
//!   `mariadbd.rs`: a private server and its watchdog; `galera.rs`: the cluster tests' cluster;
//! - `output.rs`: what the tool printed, read back (advice, JSON integers, checksums);
//! - `fixtures.rs`: the migrations and documentation examples many tests start from.
//!
//! This module re-exports every name the tests use: a test says `crate::support::X`, never the
//! file `X` lives in.

#![allow(dead_code)]

mod db;
mod env;
mod fixtures;
mod galera;
mod mariadbd;
mod mysql;
mod output;
mod run;
mod server;
mod sqlite;

use std::io::Write as _;

pub use db::{Db, HistoryRow};
pub use env::Env;
pub use fixtures::{doc_toml_block, three_reversible, three_tables};
pub use galera::{galera_cluster, GaleraCluster};
pub use output::{advised, int, is_checksum};
pub use run::{isolated, Run, Spawned};
pub use server::{
    mysql_server, own_mysql_server, own_mysql_server_with, split_mysql_url, MysqlServer,
};
// Public names no test spells today, kept at the path they had before the split.
#[allow(unused_imports)]
pub use {run::Cmd, run::SCRUBBED, server::MysqlParts, sqlite::WriteLock};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_aurweb-migrate");

/// The default version table.
pub const TABLE: &str = "aurweb_migrations";

/// Instantiates `fn name(db: &Db)` scenarios as `#[test]`s, one per dialect:
/// `each_db!(applies_all, no_op_second_run);` gives `applies_all::sqlite`,
/// `applies_all::mysql`, … The MySQL test returns early (passing) when no server is available
/// and `AURWEB_MIGRATE_REQUIRE_MYSQL` is not set; see the module docs.
#[macro_export]
macro_rules! each_db {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    let env = $crate::support::Env::new();
                    let db = $crate::support::Db::sqlite(&env);
                    super::$name(&db);
                }

                #[test]
                fn mysql() {
                    let env = $crate::support::Env::new();
                    let Some(db) = $crate::support::Db::mysql(&env, module_path!()) else {
                        return;
                    };
                    super::$name(&db);
                }
            }
        )*
    };
}

/// A current-thread runtime for the harness's own connections (each [`Db`] has one; the
/// server helpers make one per call).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Writes a line to the process's stderr directly: libtest captures `eprintln!` in tests and
/// shows it only on failure, but a skip or a server note must be seen.
pub fn loud(line: &str) {
    let _ = writeln!(std::io::stderr(), "aurweb-migrate tests: {line}");
}
