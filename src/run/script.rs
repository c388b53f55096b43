//! `upgrade --sql`: the upgrade as one SQL script, written without connecting to a database, for
//! a DBA to review and then apply with the dialect's own client (`mariadb`, `sqlite3`).
//!
//! The script does what `upgrade` does, statement for statement, including the version table:
//! the same rows with the same states, checksums and statement progress, so that after it ran
//! every command of the tool (`status`, `check`, a later `upgrade`, `--resume` after a failure)
//! sees the database as if `upgrade` had run. What `upgrade` checks before it writes, the script
//! checks with guard statements that fail — and stop the client — when the database is not in
//! the state the script was written for: a single-row `INSERT` of `NULL` into a `NOT NULL`
//! column of a temporary table, whose column name says what did not hold
//! (`Column 'history_matches_version_5' cannot be null`).
//!
//! Differences, by necessity: `applied_by` is the database account (`CURRENT_USER()`) on MySQL
//! and `sqlite3` on SQLite rather than the operating-system user, and timings are measured by
//! the server.

use std::fmt::Write as _;

use crate::backend::mysql;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::history::{self, State, TableName};
use crate::plan::Target;
use crate::source::{Migration, MigrationSet, ProgressHasher, SchemaFile, Script};

/// What the script is written for.
#[derive(Debug, Clone)]
pub struct ScriptOptions {
    pub dialect: Dialect,
    /// The version the database is at (its history holds exactly the versions up to this one);
    /// `None`: an empty database.
    pub from: Option<u64>,
    pub target: Target,
    /// On an empty database, run every migration instead of building the schema file.
    pub replay: bool,
    pub table: TableName,
    /// Seconds to wait for the migration lock (MySQL).
    pub lock_timeout: u64,
}

/// The temporary table whose `NOT NULL` columns carry the script's preconditions.
const GUARD: &str = "aurweb_migrate_guard";
/// SQLite: the temporary table holding the start time of the running migration.
const CLOCK: &str = "aurweb_migrate_clock";

/// Writes the upgrade script. Errors: a `--from` or `--to` that names no migration, a target
/// below `--from`, a schema file that does not fit the set.
pub fn upgrade_script(
    set: &MigrationSet,
    schema: Option<&SchemaFile>,
    options: &ScriptOptions,
) -> Result<String> {
    let dialect = options.dialect;
    if let Some(from) = options.from {
        if from == 0 {
            return Err(Error::ScriptFromZero);
        }
        set.known("--from", from)?;
    }
    if let Target::Version(to) = options.target {
        set.known("--to", to)?;
        if let Some(from) = options.from.filter(|f| to < *f) {
            return Err(Error::ScriptGoesForward { to, from });
        }
    }
    let install = match (options.from, schema) {
        (None, Some(file)) if !options.replay => {
            file.check(set)?;
            options.target.includes(file.version).then_some(file)
        }
        _ => None,
    };
    let floor = options.from.or(install.map(|f| f.version)).unwrap_or(0);
    let pending: Vec<&Migration> = set
        .migrations
        .iter()
        .filter(|m| m.version > floor && options.target.includes(m.version))
        .collect();

    let w = Writer {
        dialect,
        name: options.table.clone(),
        table: options.table.quoted(dialect),
        out: String::new(),
    };
    Ok(w.write(set, options, install, &pending))
}

/// Writes the downgrade script: the database is at `options.from` (required), and the script
/// reverts every version above `options.target` (`Target::Version`), newest first, as
/// `downgrade --to` would (each reverse file with the deletion of its row, in one transaction
/// where the dialect allows; a MySQL reverse file with DDL marks its row `failed` first, as the
/// runner does).
pub fn downgrade_script(set: &MigrationSet, options: &ScriptOptions) -> Result<String> {
    let (from, target) = downgrade_range(set, options)?;
    let reverting: Vec<&Migration> = set
        .migrations
        .iter()
        .rev()
        .filter(|m| m.version > target && m.version <= from)
        .collect();
    let missing: Vec<u64> = reverting
        .iter()
        .filter(|m| m.down.is_none())
        .map(|m| m.version)
        .collect();
    if !missing.is_empty() {
        return Err(Error::NoReverse { versions: missing });
    }
    crate::source::refuse_statementless_reverse(reverting.iter().filter_map(|m| m.down.as_ref()))?;
    let mut w = Writer {
        dialect: options.dialect,
        name: options.table.clone(),
        table: options.table.quoted(options.dialect),
        out: String::new(),
    };
    w.downgrade_header(set, options, (from, target), reverting.len());
    let at: Vec<&Migration> = set
        .migrations
        .iter()
        .filter(|m| m.version <= from)
        .collect();
    w.preconditions(options, Some((from, &at)));
    for m in reverting {
        w.revert(m);
    }
    w.epilogue();
    Ok(w.out)
}

/// The versions a downgrade script goes from and back to, checked: `--from` (required) and
/// `--to` are migrations of the set, and `--to` is below `--from`.
fn downgrade_range(set: &MigrationSet, options: &ScriptOptions) -> Result<(u64, u64)> {
    let Target::Version(target) = options.target else {
        return Err(Error::ScriptNeedsTarget);
    };
    let Some(from) = options.from else {
        return Err(Error::ScriptNeedsFrom);
    };
    set.known("--from", from)?;
    if target > 0 {
        set.known("--to", target)?;
    }
    if target >= from {
        return Err(Error::ScriptGoesBack { to: target, from });
    }
    Ok((from, target))
}

struct Writer {
    dialect: Dialect,
    name: TableName,
    /// The version table, quoted.
    table: String,
    out: String,
}

impl Writer {
    fn write(
        mut self,
        set: &MigrationSet,
        options: &ScriptOptions,
        install: Option<&SchemaFile>,
        pending: &[&Migration],
    ) -> String {
        self.header(set, options, install, pending);
        let at = options.from.map(|from| {
            (
                from,
                set.migrations
                    .iter()
                    .filter(|m| m.version <= from)
                    .collect::<Vec<_>>(),
            )
        });
        self.preconditions(options, at.as_ref().map(|(v, ms)| (*v, ms.as_slice())));
        if let Some(file) = install {
            self.install(set, file);
        } else if options.from.is_none() && !pending.is_empty() {
            self.ensure_table();
        }
        for m in pending {
            if m.up.atomic(self.dialect) {
                self.atomic(m);
            } else {
                self.stepwise(m);
            }
        }
        self.epilogue();
        self.out
    }

    fn line(&mut self, s: &str) {
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn header(
        &mut self,
        set: &MigrationSet,
        options: &ScriptOptions,
        install: Option<&SchemaFile>,
        pending: &[&Migration],
    ) {
        let o = &mut self.out;
        let _ = writeln!(
            o,
            "-- aurweb-migrate {} upgrade script for {} ({}), version table {}",
            crate::VERSION,
            self.dialect,
            set.dir.display(),
            options.table
        );
        let _ = match options.from {
            Some(v) => writeln!(o, "-- Written for a database at version {v}."),
            None => writeln!(o, "-- Written for an empty database."),
        };
        if let Some(f) = install {
            let _ = writeln!(
                o,
                "-- Builds the schema from {} and records versions up to {} as baseline.",
                f.script.path.display(),
                f.version
            );
        }
        let _ = match (pending.first(), pending.last()) {
            (Some(a), Some(b)) if a.version == b.version => {
                writeln!(o, "-- Applies version {}.", a.version)
            }
            (Some(a), Some(b)) => writeln!(
                o,
                "-- Applies {} migration(s), versions {} to {}.",
                pending.len(),
                a.version,
                b.version
            ),
            _ => writeln!(o, "-- Applies no migration."),
        };
        let _ = match self.dialect {
            Dialect::Mysql => writeln!(
                o,
                "-- Apply with the client's defaults, which stop at the first error (never --force):\n\
                 --   mariadb DATABASE < this-file.sql\n\
                 -- It refuses to run (a guard statement fails, naming the condition) unless the\n\
                 -- database is in the state above, and holds the lock `aurweb-migrate upgrade` takes."
            ),
            Dialect::Sqlite => writeln!(
                o,
                "-- Apply with the sqlite3 shell (the .bail line below stops it at the first error):\n\
                 --   sqlite3 DATABASE-FILE < this-file.sql\n\
                 -- It refuses to run (a guard statement fails, naming the condition) unless the\n\
                 -- database is in the state above."
            ),
        };
        o.push('\n');
    }

    /// The downgrade script's opening comment: what it was written for, and what it does.
    fn downgrade_header(
        &mut self,
        set: &MigrationSet,
        options: &ScriptOptions,
        (from, target): (u64, u64),
        reverting: usize,
    ) {
        let _ = writeln!(
            self.out,
            "-- aurweb-migrate {} downgrade script for {} ({}), version table {}\n-- Written for a database at version {from}; it leaves it at version {target}, reverting {reverting} migration(s), newest first.\n-- The script refuses to run on a database in any other state.\n",
            crate::VERSION,
            options.dialect,
            set.dir.display(),
            options.table,
        );
    }

    /// The guard table, the run lock (MySQL), and the check that the database is at the state
    /// the script was written for.
    fn preconditions(&mut self, options: &ScriptOptions, at: Option<(u64, &[&Migration])>) {
        let check = match at {
            Some((v, _)) => format!("history_matches_version_{v}"),
            None => "database_is_empty".to_string(),
        };
        self.session_and_guard(options, &check);
        let condition = self.state_condition(options, at);
        self.line(&format!(
            "INSERT INTO {GUARD} ({check}) VALUES ((\n  {condition}\n));"
        ));
        self.out.push('\n');
    }

    /// The session `upgrade` sets up, the guard table with its column `check`, and the run
    /// lock (MySQL) or the clock (SQLite).
    fn session_and_guard(&mut self, options: &ScriptOptions, check: &str) {
        match self.dialect {
            Dialect::Mysql => {
                // The session `upgrade` sets up on connect.
                self.line(&format!("SET NAMES {};", mysql::SESSION_CHARSET));
                self.line(&format!("SET time_zone = '{}';", mysql::SESSION_TIME_ZONE));
                self.line(&format!(
                    "{};",
                    mysql::bounded_waits_sql(options.lock_timeout)
                ));
                self.line(&format!(
                    "CREATE TEMPORARY TABLE {GUARD} (\n  migration_lock_acquired INT NOT NULL DEFAULT 1,\n  {check} INT NOT NULL DEFAULT 1,\n  history_is_empty INT NOT NULL DEFAULT 1\n);"
                ));
                // The lock `aurweb-migrate upgrade` takes.
                self.line(&format!(
                    "SET @aurweb_migrate_lock = {};",
                    mysql::lock_name_sql(&options.table)
                ));
                self.line(&format!(
                    "INSERT INTO {GUARD} (migration_lock_acquired) VALUES (IF(GET_LOCK(@aurweb_migrate_lock, {}) = 1, 1, NULL));",
                    options.lock_timeout.max(1)
                ));
            }
            Dialect::Sqlite => {
                self.line(".bail on");
                self.line("PRAGMA foreign_keys = ON;");
                // The shell's own command: `PRAGMA busy_timeout` would print its value.
                self.line(&format!(".timeout {}", options.lock_timeout.max(1) * 1000));
                self.line(&format!(
                    "CREATE TEMP TABLE {GUARD} (\n  {check} INT NOT NULL DEFAULT 1,\n  history_is_empty INT NOT NULL DEFAULT 1,\n  no_foreign_key_violations INT NOT NULL DEFAULT 1\n);"
                ));
                self.line(&format!(
                    "CREATE TEMP TABLE {CLOCK} (started REAL NOT NULL);\nINSERT INTO temp.{CLOCK} VALUES (julianday('now'));"
                ));
            }
        }
    }

    /// The query that gives 1 when the database is in the state the script was written for
    /// (`at`: the version it is at and the migrations up to it; `None`: empty), else NULL.
    fn state_condition(&self, options: &ScriptOptions, at: Option<(u64, &[&Migration])>) -> String {
        let table_name = options.table.as_str();
        match at {
            Some((_, applied)) => {
                let rows: Vec<String> = applied
                    .iter()
                    .map(|m| {
                        format!(
                            "version = {} AND checksum = {}",
                            m.version,
                            literal(&m.up.checksum)
                        )
                    })
                    .collect();
                format!(
                    "SELECT CASE WHEN COUNT(*) = {n} AND COUNT(CASE WHEN state <> 'failed' AND (\n    {}\n  ) THEN 1 END) = {n} THEN 1 END FROM {}",
                    rows.join("\n    OR "),
                    self.table,
                    n = applied.len()
                )
            }
            None => match self.dialect {
                Dialect::Mysql => format!(
                    "SELECT CASE WHEN COUNT(*) = 0 THEN 1 END FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE <> 'TEMPORARY' AND TABLE_NAME <> {}",
                    literal(table_name)
                ),
                Dialect::Sqlite => format!(
                    "SELECT CASE WHEN COUNT(*) = 0 THEN 1 END FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> {}",
                    literal(table_name)
                ),
            },
        }
    }

    /// The version table, created if missing, and a check that it holds no row (an empty
    /// database may carry an empty version table).
    fn ensure_table(&mut self) {
        let ddl = history::create_table_sql(&self.name, self.dialect);
        self.line(&format!("{ddl};"));
        self.line(&format!(
            "INSERT INTO {GUARD} (history_is_empty) VALUES ((SELECT CASE WHEN COUNT(*) = 0 THEN 1 END FROM {}));",
            self.table
        ));
    }

    /// A fresh install from the schema file, as `runner::install`: SQLite in one transaction;
    /// MySQL runs the schema's DDL (which commits as it goes), then records the versions in one
    /// transaction.
    fn install(&mut self, set: &MigrationSet, file: &SchemaFile) {
        let script = &file.script;
        let _ = writeln!(
            self.out,
            "-- {}: {} statement(s)",
            script.path.display(),
            script.statements.len()
        );
        match self.dialect {
            Dialect::Sqlite => {
                self.line("BEGIN IMMEDIATE;");
                self.ensure_table();
                self.statements(script, |_, _| None);
            }
            Dialect::Mysql => {
                self.line(
                    "-- On an error, drop the tables created so far before running this again.",
                );
                self.statements(script, |_, _| None);
                self.ensure_table();
                self.line("START TRANSACTION;");
            }
        }
        for m in set.migrations.iter().filter(|m| m.version <= file.version) {
            self.insert_row(m, &m.up, State::Baseline, "0");
        }
        self.line("COMMIT;");
        self.out.push('\n');
    }

    /// A migration and its history row in one transaction.
    fn atomic(&mut self, m: &Migration) {
        self.migration_header(m, "in one transaction with its history row");
        let fk_off = self.dialect == Dialect::Sqlite && m.up.directives.foreign_keys_off;
        if fk_off {
            self.line("PRAGMA foreign_keys = OFF;");
        }
        self.start_clock();
        self.line(match self.dialect {
            Dialect::Mysql => "START TRANSACTION;",
            Dialect::Sqlite => "BEGIN IMMEDIATE;",
        });
        self.statements(&m.up, |_, _| None);
        let elapsed = self.elapsed();
        self.insert_row(m, &m.up, State::Applied, &elapsed);
        if fk_off {
            self.line(&format!(
                "INSERT INTO {GUARD} (no_foreign_key_violations) VALUES ((SELECT CASE WHEN COUNT(*) = 0 THEN 1 END FROM pragma_foreign_key_check));"
            ));
        }
        self.line("COMMIT;");
        if fk_off {
            self.line("PRAGMA foreign_keys = ON;");
        }
        self.out.push('\n');
    }

    /// A migration that cannot run in one transaction, as `runner::run_stepwise`: recorded as
    /// `failed` before it starts, its progress updated after each statement, `applied` at the
    /// end. A failure leaves it `failed` with its progress, which `upgrade --resume` continues.
    fn stepwise(&mut self, m: &Migration) {
        let why = if m.up.directives.no_transaction {
            "it declares no-transaction".to_string()
        } else {
            format!(
                "{} statement(s) commit implicitly",
                m.up.implicit_commits(self.dialect)
            )
        };
        self.migration_header(
            m,
            &format!("statement by statement ({why}); recorded as failed until it is done"),
        );
        self.start_clock();
        self.line(match self.dialect {
            Dialect::Mysql => "START TRANSACTION;",
            Dialect::Sqlite => "BEGIN IMMEDIATE;",
        });
        self.insert_row(m, &m.up, State::Failed, "0");
        self.line("COMMIT;");
        let total = m.up.statements.len();
        let table = self.table.clone();
        let mut progress = ProgressHasher::default();
        self.statements(&m.up, |i, text| {
            progress.add(text);
            (i + 1 < total).then(|| {
                format!(
                    "UPDATE {table} SET statements_done = {}, progress_checksum = {} WHERE version = {};",
                    i + 1,
                    literal(&progress.checksum()),
                    m.version
                )
            })
        });
        let elapsed = self.elapsed();
        self.line(&format!(
            "UPDATE {} SET state = 'applied', statements_done = {total}, progress_checksum = {}, applied_at = {}, execution_ms = {elapsed} WHERE version = {};",
            self.table,
            literal(&m.up.prefix_checksum(total)),
            self.now(),
            m.version
        ));
        self.out.push('\n');
    }

    /// One reverse file and the deletion of its row.
    fn revert(&mut self, m: &Migration) {
        let down = m
            .down
            .as_ref()
            .expect("checked: every reverted version has a reverse file");
        let _ = writeln!(
            self.out,
            "-- revert {} {} ({}, {} statement(s))",
            m.version,
            m.description(),
            down.path.display(),
            down.statements.len()
        );
        let begin = match self.dialect {
            Dialect::Mysql => "START TRANSACTION;",
            Dialect::Sqlite => "BEGIN IMMEDIATE;",
        };
        let fk_off = self.dialect == Dialect::Sqlite && down.directives.foreign_keys_off;
        if fk_off {
            self.line("PRAGMA foreign_keys = OFF;");
        }
        let delete = format!("DELETE FROM {} WHERE version = {};", self.table, m.version);
        if down.atomic(self.dialect) {
            self.line(begin);
            self.statements(down, |_, _| None);
            self.line(&delete);
            self.line("COMMIT;");
        } else {
            // As `runner::revert_stepwise`: visibly failed while the reverse statements run.
            self.line(&format!(
                "UPDATE {} SET state = 'failed', progress_checksum = NULL, error_text = {} WHERE version = {};",
                self.table,
                literal(&format!(
                    "{}{} (0 of {} reverse statements done)",
                    history::REVERT_STARTED,
                    down.path.display(),
                    down.statements.len()
                )),
                m.version
            ));
            self.statements(down, |_, _| None);
            self.line(&delete);
        }
        if fk_off {
            self.line("PRAGMA foreign_keys = ON;");
        }
        self.out.push('\n');
    }

    fn migration_header(&mut self, m: &Migration, how: &str) {
        let _ = writeln!(
            self.out,
            "-- {} {}: {} ({} statement(s), {how})",
            m.version,
            m.description(),
            m.up.path.display(),
            m.up.statements.len()
        );
    }

    /// The script's statements, each followed by what `after(i, text)` returns. On MySQL a
    /// statement holding `;` (a trigger or routine body) is wrapped in `DELIMITER` lines.
    fn statements(
        &mut self,
        script: &Script,
        mut after: impl FnMut(usize, &str) -> Option<String>,
    ) {
        for (i, st) in script.statements.iter().enumerate() {
            let text = st.text(&script.text);
            let _ = writeln!(self.out, "-- {}:{}", script.path.display(), st.line);
            let _ = writeln!(self.out, "{}", for_the_client(text, self.dialect));
            if let Some(extra) = after(i, text) {
                self.line(&extra);
            }
        }
    }

    fn insert_row(&mut self, m: &Migration, script: &Script, state: State, execution_ms: &str) {
        let total = script.statements.len();
        let done = if state == State::Failed { 0 } else { total };
        let applied_by = match self.dialect {
            Dialect::Mysql => "CURRENT_USER()".to_string(),
            Dialect::Sqlite => literal("sqlite3"),
        };
        self.line(&format!(
            "INSERT INTO {} ({}) VALUES ({}, {}, {}, '{}', {done}, {total}, {}, NULL, {}, {applied_by}, {execution_ms}, {});",
            self.table,
            // The columns of 0.1.0's table too: the script cannot know which table it meets
            // (its rows carry no statement checksum; see `history`).
            history::COLUMNS_WRITTEN_BY_0_1,
            m.version,
            literal(&m.description()),
            literal(&script.checksum),
            state.as_str(),
            literal(&script.prefix_checksum(done)),
            self.now(),
            literal(crate::VERSION),
        ));
    }

    /// The current UTC time as `history::now_utc` writes it (RFC 3339 with milliseconds).
    fn now(&self) -> &'static str {
        match self.dialect {
            Dialect::Mysql => {
                "CONCAT(LEFT(DATE_FORMAT(UTC_TIMESTAMP(3), '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z')"
            }
            Dialect::Sqlite => "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        }
    }

    /// Notes the time a migration starts: a user variable on MySQL, a row of a temporary
    /// table on SQLite (which has no variables).
    fn start_clock(&mut self) {
        match self.dialect {
            Dialect::Mysql => self.line("SET @aurweb_migrate_started = UNIX_TIMESTAMP(NOW(6));"),
            Dialect::Sqlite => self.line(&format!(
                "UPDATE temp.{CLOCK} SET started = julianday('now');"
            )),
        }
    }

    /// Milliseconds since `start_clock`, as an SQL expression.
    fn elapsed(&self) -> String {
        match self.dialect {
            Dialect::Mysql => {
                "CAST(ROUND((UNIX_TIMESTAMP(NOW(6)) - @aurweb_migrate_started) * 1000) AS SIGNED)"
                    .into()
            }
            Dialect::Sqlite => format!(
                "(SELECT CAST(MAX(0, (julianday('now') - started) * 86400000) AS INTEGER) FROM temp.{CLOCK})"
            ),
        }
    }

    fn epilogue(&mut self) {
        if self.dialect == Dialect::Mysql {
            self.line("DO RELEASE_LOCK(@aurweb_migrate_lock);");
            self.line(&format!("DROP TEMPORARY TABLE {GUARD};"));
        } else {
            self.line(&format!("DROP TABLE temp.{GUARD};"));
            self.line(&format!("DROP TABLE temp.{CLOCK};"));
        }
    }
}

/// A string literal. The values written are the tool's own (slugs, hex checksums, versions),
/// which hold no backslash, so doubling quotes is enough under every `sql_mode`.
fn literal(s: &str) -> String {
    debug_assert!(!s.contains('\\'), "{s}");
    format!("'{}'", s.replace('\'', "''"))
}

/// One statement as the dialect's client takes it from a script, terminator included: on
/// MySQL a statement holding `;` (a trigger or routine body) goes between `DELIMITER` lines
/// (with a delimiter the text does not hold); one whose last line holds a comment gets its
/// terminator on a line of its own.
pub fn for_the_client(text: &str, dialect: Dialect) -> String {
    let ends_in_comment = text
        .lines()
        .last()
        .is_some_and(|l| l.contains("--") || l.contains('#'));
    if dialect == Dialect::Mysql && text.contains(';') {
        let delimiter = ["//", "$$", ";;", "@@@@"]
            .into_iter()
            .find(|d| !text.contains(d))
            .unwrap_or("//////");
        format!("DELIMITER {delimiter}\n{text}\n{delimiter}\nDELIMITER ;")
    } else if ends_in_comment {
        format!("{text}\n;")
    } else {
        format!("{text};")
    }
}
