//! What `check` warns about (it never fails on a warning): the overview-level warnings, read
//! from the plan's [`Overview`], and the statement-level lints of the pending files
//! ([`crate::source::lint`]). Which warnings apply is decided here and in `source::lint`;
//! `report` only lays them out.

use std::fmt;
use std::path::PathBuf;

use super::{EntryState, Overview};
use crate::dialect::Dialect;
use crate::source::lint::Located;
use crate::source::Migration;

/// One warning, shown as a `warning: …` line or an entry of `check`'s JSON `warnings`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// An applied file edited in comments and whitespace only ([`EntryState::Edited`]): its
    /// recorded statements are those that ran.
    Edited { path: PathBuf, version: u64 },
    /// What a pending file's statements do ([`crate::source::lint::Lint`]).
    Lint(Located),
    /// A pending file with no statements that does not say so on purpose
    /// ([`crate::source::Script::lacks_statements`]): `status` warns, `upgrade` and `check`
    /// refuse.
    NoStatements { path: PathBuf },
}

impl Warning {
    /// The warning about `m`, an applied file edited in comments only (also said by `upgrade`
    /// when the runner meets one).
    pub fn edited(m: &Migration) -> Self {
        Warning::Edited {
            path: m.up.path.clone(),
            version: m.version,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Edited { path, version } => write!(
                f,
                "{}: edited (comments only) after it was applied: its statements are those that ran; `aurweb-migrate resolve {version} --accept-edit` records the new checksum",
                path.display()
            ),
            Warning::Lint(lint) => lint.fmt(f),
            Warning::NoStatements { path } => write!(
                f,
                "{}: {}; upgrade and check refuse it",
                path.display(),
                crate::source::NO_STATEMENTS
            ),
        }
    }
}

impl Overview<'_, '_> {
    /// `check`'s warnings on `dialect`, in this order: every applied file edited in comments
    /// only, then each pending file's lints ([`crate::source::Script::lints`]: on
    /// MySQL/MariaDB, a file that cannot be atomic and the constructs the mariadb client reads
    /// differently).
    pub fn warnings(&self, dialect: Dialect) -> Vec<Warning> {
        let edited = self
            .entries
            .iter()
            .filter(|e| e.state == EntryState::Edited)
            .filter_map(|e| e.migration)
            .map(Warning::edited);
        let lints = self
            .pending()
            .filter_map(|e| e.migration)
            .flat_map(|m| m.up.lints(dialect))
            .map(Warning::Lint);
        edited.chain(lints).collect()
    }

    /// `status`'s warnings: each pending file with no statements that does not say so on
    /// purpose, which `upgrade` and `check` would refuse.
    pub fn statementless_warnings(&self) -> Vec<Warning> {
        self.pending()
            .filter_map(|e| e.migration)
            .filter(|m| m.up.lacks_statements())
            .map(|m| Warning::NoStatements {
                path: m.up.path.clone(),
            })
            .collect()
    }

    /// On a Galera node: what the pending files' statements do that the cluster handles badly
    /// ([`crate::source::Script::galera_lints`]), for `check` and `upgrade --dry-run`.
    pub fn cluster_warnings(&self) -> Vec<Warning> {
        self.pending()
            .filter_map(|e| e.migration)
            .flat_map(|m| m.up.galera_lints())
            .map(Warning::Lint)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Row, State};
    use crate::source::{load_files, RawFile};
    use expect_test::{expect, Expect};
    use std::path::Path;

    /// A MySQL file in the order of the migrations below: version 1 is applied and edited in
    /// comments since (when the history says so), the others pending.
    const FILES: &[(&str, &str)] = &[
        ("0001_edited.sql", "-- edited since\nSELECT 1;\n"),
        (
            "0002_mixed.sql",
            "CREATE TABLE a (id INT PRIMARY KEY);\nINSERT INTO a VALUES (1);\n",
        ),
        (
            "0003_ddl.sql",
            "CREATE TABLE b (x INT);\nCREATE TABLE c (id INT PRIMARY KEY) ENGINE=MyISAM;\nLOCK TABLES b WRITE;\nUNLOCK TABLES;\n",
        ),
        (
            "0004_quirks.sql",
            "-- aurweb-migrate: no-transaction\nCREATE TABLE d (id INT PRIMARY KEY);\nINSERT INTO d VALUES (1);\n/* a /* b */\nDO GET_LOCK('x', 1);\n",
        ),
        ("0005_data.sql", "INSERT INTO a VALUES (2);\n"),
    ];

    /// The files loaded for `dialect`, version 1 recorded with another file checksum but its
    /// statement checksum (so it is `Edited`) when `edited`, else nothing recorded → the
    /// warnings of [`Overview::warnings`] then of [`Overview::cluster_warnings`], one a line.
    fn check(dialect: Dialect, edited: bool, expected: Expect) {
        let files = FILES
            .iter()
            .map(|(name, text)| RawFile {
                name: name.to_string(),
                bytes: text.as_bytes().to_vec(),
            })
            .collect();
        let set = load_files(Path::new("migrations"), files, dialect).unwrap();
        let first = &set.migrations[0];
        let history: Vec<Row> = match edited {
            true => vec![Row {
                version: first.version,
                description: first.description(),
                checksum: "sha256-v1:before".into(),
                state: State::Applied,
                statements_done: 1,
                statements_total: 1,
                progress_checksum: None,
                error: None,
                applied_at: String::new(),
                applied_by: String::new(),
                execution_ms: 0,
                tool_version: String::new(),
                statements_checksum: Some(first.up.statements_checksum()),
            }],
            false => Vec::new(),
        };
        let ov = super::super::overview(&set.migrations, &history, false);
        let mut out = String::new();
        for w in ov.warnings(dialect) {
            out += &format!("{w}\n");
        }
        out += "-- on a cluster\n";
        for w in ov.cluster_warnings() {
            out += &format!("{w}\n");
        }
        expected.assert_eq(&out);
    }

    #[test]
    fn warnings() {
        check(
            Dialect::Mysql,
            true,
            expect![[r#"
            migrations/0001_edited.sql: edited (comments only) after it was applied: its statements are those that ran; `aurweb-migrate resolve 1 --accept-edit` records the new checksum
            migrations/0002_mixed.sql: mixes 1 data statement(s) with 1 implicit-commit statement(s); on MySQL/MariaDB it cannot be atomic, consider splitting it
            migrations/0003_ddl.sql: holds 4 statements that commit implicitly; on MySQL/MariaDB a failure midway leaves the earlier ones applied
            migrations/0004_quirks.sql:4: a `/*` inside a comment: the mariadb client reads nested comments, the server (and the tool) end the comment at the first `*/`; remove the inner `/*`
            -- on a cluster
            migrations/0003_ddl.sql:1: on a Galera cluster: a table without a primary key: Galera needs one on every table (its rows replicate badly, and innodb_force_primary_key refuses it)
            migrations/0003_ddl.sql:2: on a Galera cluster: a MYISAM table is not replicated by Galera (only InnoDB is): use ENGINE=InnoDB
            migrations/0003_ddl.sql:3: on a Galera cluster: LOCK TABLES is not supported on a Galera cluster (it locks one node only, and Galera rejects explicit table locks in multi-master use)
            migrations/0004_quirks.sql:5: on a Galera cluster: GET_LOCK is node-local on a Galera cluster: it does not exclude a session on another node
        "#]],
        );
        // Nothing applied: no edited file, and version 1 is a pending file of one statement.
        check(
            Dialect::Mysql,
            false,
            expect![[r#"
            migrations/0002_mixed.sql: mixes 1 data statement(s) with 1 implicit-commit statement(s); on MySQL/MariaDB it cannot be atomic, consider splitting it
            migrations/0003_ddl.sql: holds 4 statements that commit implicitly; on MySQL/MariaDB a failure midway leaves the earlier ones applied
            migrations/0004_quirks.sql:4: a `/*` inside a comment: the mariadb client reads nested comments, the server (and the tool) end the comment at the first `*/`; remove the inner `/*`
            -- on a cluster
            migrations/0003_ddl.sql:1: on a Galera cluster: a table without a primary key: Galera needs one on every table (its rows replicate badly, and innodb_force_primary_key refuses it)
            migrations/0003_ddl.sql:2: on a Galera cluster: a MYISAM table is not replicated by Galera (only InnoDB is): use ENGINE=InnoDB
            migrations/0003_ddl.sql:3: on a Galera cluster: LOCK TABLES is not supported on a Galera cluster (it locks one node only, and Galera rejects explicit table locks in multi-master use)
            migrations/0004_quirks.sql:5: on a Galera cluster: GET_LOCK is node-local on a Galera cluster: it does not exclude a session on another node
        "#]],
        );
        // SQLite: no implicit commit, no mariadb client; the edited file is warned about all
        // the same.
        check(
            Dialect::Sqlite,
            true,
            expect![[r#"
            migrations/0001_edited.sql: edited (comments only) after it was applied: its statements are those that ran; `aurweb-migrate resolve 1 --accept-edit` records the new checksum
            -- on a cluster
            migrations/0003_ddl.sql:1: on a Galera cluster: a table without a primary key: Galera needs one on every table (its rows replicate badly, and innodb_force_primary_key refuses it)
            migrations/0003_ddl.sql:2: on a Galera cluster: a MYISAM table is not replicated by Galera (only InnoDB is): use ENGINE=InnoDB
            migrations/0003_ddl.sql:3: on a Galera cluster: LOCK TABLES is not supported on a Galera cluster (it locks one node only, and Galera rejects explicit table locks in multi-master use)
            migrations/0004_quirks.sql:5: on a Galera cluster: GET_LOCK is node-local on a Galera cluster: it does not exclude a session on another node
        "#]],
        );
    }
}
