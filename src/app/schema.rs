//! The commands that compare schemas: `verify`, `schema dump`, `schema diff`, the drift of
//! `check --drift`, and the comparison that guards adoption (`adopt`, `baseline` of a
//! database without history). The expected schemas are built by [`crate::compare`] in scratch
//! databases; the target database is only read.

use super::session::{display_path, Session};
use crate::backend::{Backend, Catalogue, Connection};
use crate::compare;
use crate::compare::scratch::{self, Place};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::plan::Finding;
use crate::report;
use crate::schema::{render, Difference};
use crate::source::{Location, MigrationSet, SchemaFile};

/// Where the schema files were looked for, as messages name it.
fn schema_place(s: &Session<'_>) -> String {
    match &s.settings.schema.value {
        crate::source::Location::Dir(dir) => format!(
            "{}/ (from {})",
            super::session::display_path(dir).display(),
            s.settings.schema.origin
        ),
        crate::source::Location::Embedded => "the schema built into this binary".to_string(),
    }
}

/// `verify [--dialect D]`: exit 1 on any difference.
pub(super) async fn verify(s: &Session<'_>, only: Option<Dialect>) -> Result<i32> {
    let places = verify_places(s, only)?;
    // The repository's config migrations are checked too (names, TOML, operations, versions):
    // a malformed one fails here, in CI, not on a host's `config upgrade`.
    crate::site_config::load(s.migrations()?)?;
    let mut loaded = Vec::new();
    for p in &places {
        let set = s.load_for(p.dialect())?;
        set.refuse_unreviewed()?;
        // verify replays every file: one with no statements is refused as upgrade refuses it.
        crate::source::refuse_statementless(&set.migrations)?;
        loaded.push(set);
    }
    // With a schema command: once per dialect, all at once, each finishing (and removing its
    // scratch database) before an error is returned.
    let desired =
        futures_util::future::join_all(places.iter().map(|p| s.desired_for(p.dialect()))).await;
    let mut sets = Vec::new();
    for ((p, set), file) in places.iter().zip(loaded).zip(desired) {
        let file = file?;
        if file.is_none() {
            return Err(Error::VerifyWithoutSchema {
                file: crate::source::schema_file_name(p.dialect()),
                place: schema_place(s),
                migrations: set.dir.clone(),
            });
        }
        sets.push((set, file));
    }
    // On a terminal the scratch builds show their progress as `upgrade` does.
    let mut live =
        crate::report::progress::LiveLine::new(crate::report::progress::wanted(s.request.quiet));
    let accepted = match &s.settings.schema.value {
        Location::Dir(dir) => compare::accepted::load(dir, &display_path(dir))?,
        Location::Embedded => None,
    };
    let verified = compare::verify(
        &places,
        &sets,
        accepted.as_ref(),
        &s.table,
        s.timeouts,
        &mut |e| live.event(&e),
    )
    .await;
    live.clear();
    let mut v = verified?;
    if s.schema_command().is_some() {
        // The schema files in schema/ must be the command's current rendering.
        for (p, (_, desired)) in places.iter().zip(&sets) {
            if let (Some(on_disk), Some(desired)) = (s.schema_for(p.dialect())?, desired) {
                v.checks
                    .push(rendering_check(p.dialect(), &on_disk, desired));
            }
        }
    }
    if let Some(d) = only {
        // Asked for: say what was not checked instead of the missing server.
        v.skipped = Dialect::ALL
            .iter()
            .filter(|x| **x != d)
            .map(|x| format!("{x}: not checked (--dialect {d})"))
            .collect();
    }
    s.emit(&report::Verify(&v));
    Ok(if v.ok() { 0 } else { 1 })
}

/// Whether `on_disk` is the schema command's current rendering `desired`.
fn rendering_check(dialect: Dialect, on_disk: &SchemaFile, desired: &SchemaFile) -> compare::Check {
    let path = on_disk.script.path.display().to_string();
    let mut differences = Vec::new();
    if on_disk.script.text != desired.script.text {
        let (line, found, expected) = on_disk
            .script
            .text
            .lines()
            .map(Some)
            .chain(std::iter::repeat(None))
            .zip(
                desired
                    .script
                    .text
                    .lines()
                    .map(Some)
                    .chain(std::iter::repeat(None)),
            )
            .take_while(|(a, b)| a.is_some() || b.is_some())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, (a, b))| (i + 1, a, b))
            .unwrap_or((0, None, None));
        differences.push(crate::schema::Difference {
            table: path.clone(),
            object: format!("line {line}"),
            expected: Some(expected.map_or("(the end of the file)".to_string(), |l| {
                format!("{l:?} (the schema command's rendering)")
            })),
            found: Some(found.map_or("(the end of the file)".to_string(), |l| format!("{l:?}"))),
        });
    }
    compare::Check {
        name: format!("{}-rendered", dialect.name()),
        compared: format!("{path} (found) with the schema command's rendering (expected)"),
        hints: if differences.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "{path} is not the schema command's current rendering: run `aurweb-migrate schema render` and commit it"
            )]
        },
        differences,
        accepted: Vec::new(),
        execution_ms: 0,
    }
}

/// Where `verify` builds its scratch databases. Without `--dialect`: SQLite always, and the
/// configured MySQL/MariaDB server — which must be there when the schema directory holds
/// `mysql.sql`, since a check that did not run is not a pass.
fn verify_places(s: &Session<'_>, only: Option<Dialect>) -> Result<Vec<Place>> {
    let server = match s.place() {
        Place::Sqlite => None,
        server => Some(server),
    };
    let no_server = || Error::VerifyNeedsServer;
    match only {
        Some(Dialect::Sqlite) => Ok(vec![Place::Sqlite]),
        Some(Dialect::Mysql) => Ok(vec![server.ok_or_else(no_server)?]),
        None => match server {
            Some(server) => Ok(vec![server, Place::Sqlite]),
            None if s.schema_for(Dialect::Mysql)?.is_some() => Err(no_server()),
            None => Ok(vec![Place::Sqlite]),
        },
    }
}

/// `schema render --dialect sqlite`: SQLite's schema file rendered from the model of the MySQL
/// one, as MariaDB reads it in a scratch database on the configured server.
pub(super) async fn render(s: &Session<'_>, dialect: Option<Dialect>) -> Result<i32> {
    if s.schema_command().is_some() {
        return render_command(s, dialect).await;
    }
    if dialect != Some(Dialect::Sqlite) {
        return Err(Error::RenderFromMysqlOnly);
    }
    let Place::Mysql(server) = s.place() else {
        return Err(Error::RenderNeedsServer);
    };
    let set = s.load_for(Dialect::Mysql)?;
    let Some(file) = s.schema_for(Dialect::Mysql)? else {
        return Err(Error::NoSchemaFile {
            command: "schema render",
            file: crate::source::schema_file_name(Dialect::Mysql),
            place: schema_place(s),
        });
    };
    let built = scratch::build(
        &Place::Mysql(server),
        scratch::Road::Schema(&file),
        &set,
        None,
        &s.table,
        s.timeouts,
        true,
        &mut |_| {},
    )
    .await?;
    let header = crate::schema::render::sqlite_header(file.version);
    let text = crate::schema::render::sqlite_schema(&built.schema, &built.rows, &header)?;
    s.emit(&report::Script(text));
    Ok(0)
}

/// `schema render [--dialect D]` with a schema command: `schema/mysql.sql` (on a
/// MySQL/MariaDB server) and `schema/sqlite.sql` written from what the command builds,
/// marked as its rendering, at the newest migration's version; each written whole.
async fn render_command(s: &Session<'_>, only: Option<Dialect>) -> Result<i32> {
    let Location::Dir(schema_dir) = &s.settings.schema.value else {
        return Err(Error::SchemaInitWithEmbedded);
    };
    let schema_dir = display_path(schema_dir);
    let dialects: Vec<Dialect> = match (only, s.place()) {
        (Some(Dialect::Mysql), Place::Sqlite) => return Err(Error::SchemaInitNeedsServer),
        (Some(d), _) => vec![d],
        (None, Place::Mysql(_)) => vec![Dialect::Mysql, Dialect::Sqlite],
        (None, Place::Sqlite) => vec![Dialect::Sqlite],
    };
    let mut files = Vec::new();
    for d in &dialects {
        let Some(desired) = s.desired_for(*d).await? else {
            return Err(Error::SchemaInitNeedsServer);
        };
        files.push((
            schema_dir.join(crate::source::schema_file_name(*d)),
            desired,
        ));
    }
    std::fs::create_dir_all(&schema_dir).map_err(|error| Error::CannotCreate {
        path: schema_dir.clone(),
        error,
    })?;
    let mut written = Vec::new();
    let mut version = 0;
    for (path, desired) in files {
        crate::source::scaffold::replace(&path, &desired.script.text)?;
        version = desired.version;
        written.push((
            path,
            format!(
                "the rendering of {} (the schema command `{}`)",
                desired.script.path.display(),
                crate::compare::command::shown(
                    &s.settings.schema_command.value.clone().unwrap_or_default()
                )
            ),
        ));
    }
    s.emit(&report::SchemaInit {
        version,
        files: &written,
    });
    Ok(0)
}

/// What `schema init` writes for one dialect: where, the text, and what it was written from.
struct InitFile {
    place: Place,
    set: MigrationSet,
    file: SchemaFile,
    source: String,
}

/// `schema init [--dialect D] [--force]`: the schema file(s) from a replay of the migrations
/// in scratch databases, with the newest migration's `schema-version` line. With a
/// MySQL/MariaDB server (and no `--dialect sqlite`): `mysql.sql` from its replay's model and
/// `sqlite.sql` as its rendering; else `sqlite.sql` from SQLite's replay, as SQLite stored
/// the statements. Proved before anything is written: `verify` of the files must pass. An
/// existing file is replaced only with `--force`; each is written whole (a temporary file
/// renamed into place).
pub(super) async fn init(s: &Session<'_>, only: Option<Dialect>, force: bool) -> Result<i32> {
    let (Location::Dir(migrations), Location::Dir(schema_dir)) =
        (&s.settings.migrations.value, &s.settings.schema.value)
    else {
        return Err(Error::SchemaInitWithEmbedded);
    };
    let (migrations, schema_dir) = (display_path(migrations), display_path(schema_dir));
    let mysql = match (only, s.place()) {
        (Some(Dialect::Sqlite), _) | (None, Place::Sqlite) => None,
        (_, Place::Mysql(server)) => Some(Place::Mysql(server)),
        (Some(Dialect::Mysql), Place::Sqlite) => return Err(Error::SchemaInitNeedsServer),
    };
    let with_sqlite = only != Some(Dialect::Mysql);
    let path = |d: Dialect| schema_dir.join(crate::source::schema_file_name(d));
    let mut dialects = Vec::new();
    dialects.extend(mysql.as_ref().map(|_| Dialect::Mysql));
    dialects.extend(with_sqlite.then_some(Dialect::Sqlite));
    if !force {
        if let Some(p) = dialects.iter().map(|d| path(*d)).find(|p| p.exists()) {
            return Err(Error::SchemaFileExists { path: p });
        }
    }
    let load = |d: Dialect| -> Result<(MigrationSet, u64)> {
        let set = s.load_for(d)?;
        let newest =
            set.migrations
                .last()
                .map(|m| m.version)
                .ok_or_else(|| Error::NoMigrations {
                    dir: set.dir.clone(),
                })?;
        Ok((set, newest))
    };
    let shown = migrations.display().to_string();
    let (place, dialect) = match &mysql {
        Some(place) => (place.clone(), Dialect::Mysql),
        None => (Place::Sqlite, Dialect::Sqlite),
    };
    let (set, newest) = load(dialect)?;
    let (mut scratch, built) = scratch::hold(
        &place,
        scratch::Road::Replay(None),
        &set,
        None,
        &s.table,
        s.timeouts,
        true,
        &mut |_| {},
    )
    .await?;
    let header = render::init_header(dialect, newest, set.migrations.len(), &shown);
    let rendered = scratch::render_file(&mut scratch, dialect, &built, &set, &header).await;
    scratch.dispose().await;
    let (text, defs) = rendered?;
    // MySQL's file is written from the model, which holds no views, triggers or CHECKs.
    if dialect == Dialect::Mysql && !defs.is_empty() {
        return Err(Error::SchemaInitUnsupported {
            objects: defs
                .iter()
                .map(|d| format!("{} {}", d.kind, d.name))
                .collect(),
        });
    }
    let mut files = vec![InitFile {
        place,
        file: crate::source::schema_from_text(path(dialect), text, dialect)?,
        source: format!(
            "{} table(s) from a replay of {} migration(s) in {shown}",
            built.schema.tables.len(),
            set.migrations.len()
        ),
        set,
    }];
    if dialect == Dialect::Mysql && with_sqlite {
        let text =
            render::sqlite_schema(&built.schema, &built.rows, &render::sqlite_header(newest))?;
        let (sqlite_set, _) = load(Dialect::Sqlite)?;
        files.push(InitFile {
            place: Place::Sqlite,
            set: sqlite_set,
            file: crate::source::schema_from_text(path(Dialect::Sqlite), text, Dialect::Sqlite)?,
            source: format!("the rendering of {}", path(Dialect::Mysql).display()),
        });
    }
    // Proved before it is written: verify of these files passes.
    let places: Vec<Place> = files.iter().map(|f| f.place.clone()).collect();
    let sets: Vec<(MigrationSet, Option<SchemaFile>)> = files
        .iter()
        .map(|f| (f.set.clone(), Some(f.file.clone())))
        .collect();
    let verified = compare::verify(&places, &sets, None, &s.table, s.timeouts, &mut |_| {}).await?;
    if !verified.ok() {
        let failed: Vec<&compare::Check> = verified
            .checks
            .iter()
            .filter(|c| !c.differences.is_empty())
            .collect();
        return Err(Error::SchemaInitSelfCheck {
            checks: failed.iter().map(|c| c.name.clone()).collect(),
            differences: failed
                .iter()
                .flat_map(|c| c.differences.iter().cloned())
                .collect(),
        });
    }
    let mut written = Vec::new();
    for f in files {
        crate::source::scaffold::replace(&f.file.script.path, &f.file.script.text)?;
        written.push((f.file.script.path.clone(), f.source));
    }
    s.emit(&report::SchemaInit {
        version: sets
            .first()
            .and_then(|(_, f)| f.as_ref())
            .map_or(0, |f| f.version),
        files: &written,
    });
    Ok(0)
}

/// `schema dump`.
pub(super) async fn dump(s: &Session<'_>) -> Result<i32> {
    let conn = s.open_existing().await?;
    let found = s
        .with_connection(conn, async |c| c.introspect().await)
        .await?;
    s.emit(&report::SchemaDump {
        database: &s.database(),
        dialect: s.dialect(),
        schema: &found,
    });
    Ok(0)
}

/// `schema diff`: the live schema against the head; exit 1 when they differ.
pub(super) async fn diff(s: &Session<'_>) -> Result<i32> {
    let set = s.load()?;
    let head = set
        .migrations
        .last()
        .map(|m| m.version)
        .ok_or_else(|| Error::NoMigrations {
            dir: set.dir.clone(),
        })?;
    let conn = s.open_existing().await?;
    let (differences, expected) = s
        .with_connection(conn, async |c| drift_at(s, c, &set, head).await)
        .await?;
    s.emit(&report::SchemaDiff {
        database: &s.database(),
        expected: &expected,
        differences: &differences,
    });
    Ok(if differences.is_empty() { 0 } else { 1 })
}

/// The live schema against the one expected at `version` (built from the configured schema
/// file or by replay): the differences and what was compared with.
pub(super) async fn drift_at(
    s: &Session<'_>,
    conn: &mut Connection,
    set: &MigrationSet,
    version: u64,
) -> Result<(Vec<Difference>, String)> {
    // The expected schema at the newest version: the schema command's, when one is set.
    let newest = set.migrations.last().map(|m| m.version);
    let from_command = s.schema_command().is_some() && newest == Some(version);
    let file = match from_command {
        true => s.desired().await?,
        false => s.schema()?,
    };
    let (differences, expected) = compare::drift(
        conn,
        &s.place(),
        version,
        set,
        file.as_ref(),
        &s.table,
        s.timeouts,
    )
    .await?;
    if !from_command {
        return Ok((differences, expected));
    }
    // The migrations keep the reviewed differences from the models on purpose, so a database
    // they built has them: those are not drift.
    let accepted = match &s.settings.schema.value {
        Location::Dir(dir) => compare::accepted::load(dir, &display_path(dir))?,
        Location::Embedded => None,
    };
    let Some(accepted) = accepted else {
        return Ok((differences, expected));
    };
    let mut used = vec![false; accepted.entries.len()];
    let (open, taken) = accepted.split(s.dialect(), differences, &mut used);
    let expected = match taken.len() {
        0 => expected,
        n => format!(
            "{expected} (less {n} accepted difference(s) of {})",
            accepted.path.display()
        ),
    };
    Ok((open, expected))
}

/// `check --drift`: the live schema against the one the history says it has (nothing to
/// compare when nothing is recorded, or when the current version's file is missing, which is a
/// problem of its own).
pub(super) async fn drift_findings(
    s: &Session<'_>,
    conn: &mut Connection,
    set: &MigrationSet,
    current: Option<u64>,
) -> Result<Vec<Finding>> {
    let Some(version) = current.filter(|v| set.get(*v).is_some()) else {
        return Ok(Vec::new());
    };
    let (differences, expected) = drift_at(s, conn, set, version).await?;
    Ok(differences
        .iter()
        .map(|d| Finding {
            kind: "drift".to_string(),
            version: Some(version),
            message: format!("drift from {expected}: {d}"),
            difference: Some(d.clone()),
        })
        .collect())
}

/// Before recording versions up to `version` on a database that has no history: its schema
/// must equal that version's. Returns the differences accepted with `--accept-drift`.
pub(super) async fn guard_adoption(
    s: &Session<'_>,
    conn: &mut Connection,
    set: &MigrationSet,
    version: u64,
    accept_drift: bool,
    action: &str,
) -> Result<Vec<Difference>> {
    let (differences, expected) = drift_at(s, conn, set, version).await?;
    if differences.is_empty() || accept_drift {
        return Ok(differences);
    }
    Err(Error::Drift {
        action: action.to_string(),
        expected,
        differences,
        hint: "fix these by hand and run the command again, or pass --accept-drift to record the versions anyway (the differences stay)".to_string(),
    })
}

/// Whether a database has neither our history nor Alembic's table (`baseline` compares first
/// then).
pub(super) async fn has_no_version_table(conn: &mut Connection) -> Result<bool> {
    Ok(conn.read_history().await?.is_empty() && conn.alembic_revisions().await?.is_none())
}
