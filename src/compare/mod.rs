//! The commands that compare schemas: `verify` (the repository's `schema/` against a replay
//! of its `migrations/`, per dialect and across dialects), drift (a live database against the
//! schema its history says it has), and the comparison that guards adoption (`adopt --from
//! alembic`, `baseline` of a database without history). The expected schemas are built in
//! scratch databases ([`scratch`]); the comparison is [`schema::diff`].

pub mod accepted;
pub mod command;
pub(crate) mod ddl;
pub(crate) mod probes;
pub(crate) mod rehearsal;
pub(crate) mod scratch;

use std::time::Instant;

use serde::Serialize;

use crate::backend::{Catalogue, Connection, Timeouts};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::history::TableName;
use crate::schema::{self, Difference};
use crate::source::{MigrationSet, SchemaFile};
use scratch::{Built, Place, Road};

/// One comparison `verify` made.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// `sqlite`, `mysql`, or `mysql-vs-sqlite`.
    pub name: String,
    /// What was compared with what, for people.
    pub compared: String,
    pub differences: Vec<Difference>,
    /// Differences an entry of the accepted-differences file accepts, with its reason.
    pub accepted: Vec<accepted::AcceptedDifference>,
    /// What a difference means and how to fix it, where the tool knows (one line each).
    pub hints: Vec<String>,
    pub execution_ms: u64,
}

/// What `verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub checks: Vec<Check>,
    /// Checks that could not run, with the reason.
    pub skipped: Vec<String>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.differences.is_empty())
    }
}

/// Rows of two builds compared table by table (seed data); tables only `expected` has are
/// left out.
pub(crate) fn row_differences(
    expected: &[(String, Vec<Vec<Option<String>>>)],
    found: &[(String, Vec<Vec<Option<String>>>)],
) -> Vec<Difference> {
    let mut out = Vec::new();
    for (table, rows) in expected {
        let Some((_, other)) = found.iter().find(|(t, _)| t == table) else {
            continue;
        };
        if rows == other {
            continue;
        }
        let show = |r: Option<&Vec<Option<String>>>| match r {
            None => "no row".to_string(),
            Some(r) => format!(
                "({})",
                r.iter()
                    .map(|v| v.clone().unwrap_or_else(|| "NULL".into()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let first = (0..rows.len().max(other.len()))
            .find(|&i| rows.get(i) != other.get(i))
            .unwrap_or(0);
        out.push(Difference {
            table: table.clone(),
            object: format!("rows ({} vs {})", rows.len(), other.len()),
            expected: Some(show(rows.get(first))),
            found: Some(show(other.get(first))),
        });
    }
    out
}

/// A line of a file in a message: trimmed and in backticks, or the end of the file.
fn shown_line(line: Option<String>) -> String {
    match line {
        Some(l) => format!("`{}`", l.trim()),
        None => "the end of the file".to_string(),
    }
}

/// `verify`: for each place, the schema file against a full replay (less the differences
/// `accepted` accepts; its entries that matched nothing are a check of their own); then, with
/// both dialects, the two schema files against each other — or, where a schema file is the
/// schema command's rendering, the two replays: an application's models may differ between
/// dialects on purpose (aurweb's schema.py makes Popularity a String unless the backend is
/// MySQL), each dialect's replay is held to its own dialect's models above, and what must
/// agree across dialects is what the repository installs, its migrations.
pub async fn verify(
    places: &[Place],
    sets: &[(MigrationSet, Option<SchemaFile>)],
    accepted: Option<&accepted::Accepted>,
    table: &TableName,
    timeouts: Timeouts,
    observe: crate::run::Observer<'_>,
) -> Result<Verification> {
    let mut checks = Vec::new();
    let mut heads: Vec<(Dialect, Built)> = Vec::new();
    let mut replays: Vec<(Dialect, Built)> = Vec::new();
    let mut from_command = false;
    let mut stale = Vec::new();
    for (place, (set, file)) in places.iter().zip(sets) {
        let dialect = place.dialect();
        let started = Instant::now();
        let Some(file) = file else {
            return Err(Error::NoSchemaFile {
                command: "verify",
                file: crate::source::schema_file_name(dialect),
                place: "the schema directory".to_string(),
            });
        };
        let newest = set.migrations.last().map(|m| m.version);
        let mut differences = Vec::new();
        if newest != Some(file.version) {
            differences.push(Difference {
                table: file.script.path.display().to_string(),
                object: "schema-version".into(),
                expected: newest.map(|v| format!("{v} (the newest migration)")),
                found: Some(file.version.to_string()),
            });
        }
        let fresh = scratch::build(
            place,
            Road::Schema(file),
            set,
            None,
            table,
            timeouts,
            true,
            observe,
        )
        .await?;
        let replay = scratch::build(
            place,
            Road::Replay(None),
            set,
            None,
            table,
            timeouts,
            true,
            observe,
        )
        .await?;
        // MySQL table options the schema file does not state are not compared.
        let stated = schema::stated_options(file.script.statement_texts());
        differences.extend(schema::diff(
            &fresh.schema,
            &replay.schema.unstated_options_from(&fresh.schema, &stated),
        ));
        differences.extend(row_differences(&fresh.rows, &replay.rows));
        let mut taken = Vec::new();
        if let Some(file) = accepted {
            let mut used = vec![false; file.entries.len()];
            (differences, taken) = file.split(dialect, differences, &mut used);
            stale.extend(file.stale(dialect, &used));
        }
        checks.push(Check {
            accepted: taken,
            name: dialect.name().to_string(),
            compared: format!(
                "{} (expected) with a replay of {} migration(s) from {} (found)",
                file.script.path.display(),
                set.migrations.len(),
                set.dir.display()
            ),
            hints: Vec::new(),
            differences,
            execution_ms: started.elapsed().as_millis() as u64,
        });
        heads.push((dialect, fresh));
        replays.push((dialect, replay));
        from_command |= command::is_rendered(&file.script.text);
    }
    if let Some(file) = accepted {
        let hints = match stale.is_empty() {
            true => Vec::new(),
            false => vec![format!(
                "the difference of a stale entry is gone (closed by a migration or a model change): remove the entry from {}",
                file.path.display()
            )],
        };
        checks.push(Check {
            name: "accepted-differences".to_string(),
            compared: format!(
                "the {} entr{} of {} (expected) with the differences found (found)",
                file.entries.len(),
                if file.entries.len() == 1 { "y" } else { "ies" },
                file.path.display()
            ),
            differences: stale,
            accepted: Vec::new(),
            hints,
            execution_ms: 0,
        });
    }
    // A schema file that says it is a rendering of another dialect's must still be one.
    for (dialect, file) in places
        .iter()
        .zip(sets)
        .filter_map(|(p, (_, f))| f.as_ref().map(|f| (p.dialect(), f)))
        .filter(|(_, f)| crate::schema::render::is_generated(&f.script.text))
    {
        for (source, built) in heads.iter().filter(|(d, _)| *d != dialect) {
            let Some(rendered) = crate::schema::render::render_for(
                dialect,
                &built.schema,
                &built.rows,
                file.version,
            ) else {
                continue;
            };
            let started = Instant::now();
            let rendered = rendered?;
            let path = file.script.path.display().to_string();
            let differences: Vec<Difference> =
                crate::schema::render::first_difference(&rendered, &file.script.text)
                    .map(|(line, expected, found)| Difference {
                        table: path.clone(),
                        object: format!("line {line}"),
                        expected: Some(shown_line(expected)),
                        found: Some(shown_line(found)),
                    })
                    .into_iter()
                    .collect();
            // The way to repair it only where there is something to repair.
            let hints = match differences.is_empty() {
                true => Vec::new(),
                false => vec![format!(
                    "update it with `aurweb-migrate schema render --dialect {dialect}`"
                )],
            };
            checks.push(Check {
                name: format!("{dialect}-rendering"),
                compared: format!(
                    "the rendering of the {} schema (expected) with {path} (found)",
                    source.display_name()
                ),
                differences,
                accepted: Vec::new(),
                hints,
                execution_ms: started.elapsed().as_millis() as u64,
            });
        }
    }
    let mut skipped = Vec::new();
    // Both dialects built: their schemas against each other, the server's as expected.
    let (mut compared, what) = match from_command {
        true => (replays, "replay of the migrations"),
        false => (heads, "schema"),
    };
    compared.sort_by_key(|(d, _)| *d);
    match compared.as_slice() {
        [(expected_dialect, expected), (found_dialect, found)] => {
            let started = Instant::now();
            let mut differences =
                schema::diff(&expected.schema.portable(), &found.schema.portable());
            differences.extend(row_differences(&expected.rows, &found.rows));
            let hints = differences
                .iter()
                .filter_map(|d| schema::cross_dialect_hint(d, &found.schema))
                .collect();
            checks.push(Check {
                hints,
                accepted: Vec::new(),
                name: format!("{expected_dialect}-vs-{found_dialect}"),
                compared: format!(
                    "the {} {what} (expected) with the {} {what} (found), types by family only",
                    expected_dialect.display_name(),
                    found_dialect.display_name()
                ),
                differences,
                execution_ms: started.elapsed().as_millis() as u64,
            });
        }
        _ => skipped.push(
            "mysql: no MySQL/MariaDB database configured (give one with -d mysql://USER@HOST/DB; only its server is used, for scratch databases)".to_string(),
        ),
    }
    Ok(Verification { checks, skipped })
}

/// The live database against the schema expected at `version`: every difference, and the
/// name of what it was compared with.
#[allow(clippy::too_many_arguments)]
pub async fn drift(
    conn: &mut Connection,
    place: &Place,
    version: u64,
    set: &MigrationSet,
    schema_file: Option<&SchemaFile>,
    table: &TableName,
    timeouts: Timeouts,
) -> Result<(Vec<Difference>, String)> {
    let live = conn.introspect().await?;
    let collation = conn.default_collation().await?;
    let (expected, name) = scratch::expected_at(
        place,
        version,
        set,
        schema_file,
        collation.as_deref(),
        table,
        timeouts,
    )
    .await?;
    Ok((schema::diff(&expected.schema, &live), name))
}

/// The version an Alembic revision corresponds to (`-- alembic-revision:` lines).
pub fn version_of_revision(set: &MigrationSet, revision: &str) -> Option<u64> {
    set.migrations
        .iter()
        .find(|m| m.up.directives.alembic_revision.as_deref() == Some(revision))
        .map(|m| m.version)
}

/// `adopt --from alembic`: the version the database's single Alembic revision maps to.
pub async fn alembic_version(conn: &mut Connection, set: &MigrationSet) -> Result<(String, u64)> {
    let revisions = match conn.alembic_revisions().await? {
        None => return Err(Error::NotAlembic),
        Some(r) => r,
    };
    let revision = match revisions.as_slice() {
        [one] => one.trim().to_string(),
        [] => return Err(Error::AlembicEmpty),
        many => {
            return Err(Error::AlembicBranched {
                revisions: many.to_vec(),
            })
        }
    };
    match version_of_revision(set, &revision) {
        Some(v) => Ok((revision, v)),
        None => {
            let known = set
                .migrations
                .iter()
                .filter_map(|m| {
                    m.up.directives
                        .alembic_revision
                        .clone()
                        .map(|r| (r, m.version))
                })
                .collect();
            Err(Error::UnknownAlembicRevision {
                revision,
                dir: set.dir.clone(),
                known,
            })
        }
    }
}
