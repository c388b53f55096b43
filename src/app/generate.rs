//! `new --autogenerate`: the migrations that bring a replay of `migrations/` to the schema
//! `schema/` declares, for each dialect, proved before anything is written. Per dialect:
//! scratch A from the schema file (SQLite's is the rendering of the edited `mysql.sql` when
//! it is generated), scratch B by replaying the migrations, both built at once and read back
//! by the code behind `schema dump`; [`crate::schema::autogen`] writes the draft from B to A; the
//! draft is applied to B with the real runner and B must then equal A (with `--reversible`,
//! the reverse is applied too and must give B back). Only then are the files written and the
//! schema files' `schema-version` lines moved to the new version.
//!
//! With a schema command ([`from_command`]), scratch A is the command's own database: the
//! command builds it while B replays, both dialects at once, and it is read back once (its
//! rendering is not built again); SQLite's desired side is then the command's SQLite build.

use std::path::{Path, PathBuf};
use std::time::Instant;

use futures_util::future::{join_all, try_join_all};

use super::session::{display_path, Session};
use crate::backend::{Access, Backend, Catalogue, Connection};
use crate::compare::scratch::{self, Built, Place, Road, Scratch};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::report;
use crate::schema;
use crate::schema::autogen::{self, Draft, Generated, Renames, Timing};
use crate::schema::tighten::Tightening;
use crate::schema::Definition;
use crate::settings::target::DatabaseTarget;
use crate::source::scaffold;
use crate::source::{self, Location, Migration, MigrationSet, SchemaFile};

/// One dialect's generated migration before it is written.
struct Planned {
    timing: Timing,
    draft: Draft,
    /// The file and its text.
    up: (PathBuf, String),
    down: Option<(PathBuf, String)>,
}

/// What `new --autogenerate` was asked.
pub(super) struct Asked<'a> {
    /// Always given but with `redo` (then the replaced draft's).
    pub description: Option<&'a str>,
    pub reversible: bool,
    pub renames: &'a [String],
    pub probe_database: Option<&'a str>,
    pub redo: bool,
}

/// The newest migration, which `--redo` replaces: an untouched draft of this command that no
/// database it knows has run.
struct Redo {
    version: u64,
    previous: Option<u64>,
    /// Its files.
    files: Vec<PathBuf>,
    /// Its description (the first line of its header) and its file names' spelling.
    description: String,
    version_text: String,
    slug: String,
}

/// `new --autogenerate DESCRIPTION [--rename …] [--reversible] [--redo]`.
pub(super) async fn autogenerate(s: &Session<'_>, asked: Asked<'_>) -> Result<i32> {
    let Asked {
        reversible,
        probe_database,
        ..
    } = asked;
    let renames = Renames::parse(asked.renames)?;
    let Location::Dir(dir) = &s.settings.migrations.value else {
        return Err(Error::AutogenerateWithEmbedded {
            origin: s.settings.migrations.origin.to_string(),
        });
    };
    let Location::Dir(schema_dir) = &s.settings.schema.value else {
        return Err(Error::AutogenerateWithEmbeddedSchema);
    };
    let (dir, schema_dir) = (display_path(dir), display_path(schema_dir));
    // With a schema command, the desired side is what it builds (MySQL only on a server), run
    // below once the cheap refusals are passed; else the schema files.
    let command = s.schema_command();
    let (mysql_file, sqlite_file) = match &command {
        Some(_) => (None, None),
        None => (
            s.schema_for(Dialect::Mysql)?,
            s.schema_for(Dialect::Sqlite)?,
        ),
    };
    let server = match (&command, &mysql_file, s.place()) {
        (Some(_), _, Place::Mysql(server)) | (None, Some(_), Place::Mysql(server)) => {
            Some(Place::Mysql(server))
        }
        (Some(_), _, Place::Sqlite) | (None, None, _) => None,
        (None, Some(f), Place::Sqlite) => {
            return Err(Error::AutogenerateNeedsServer {
                path: f.script.path.clone(),
            })
        }
    };
    if command.is_none() && mysql_file.is_none() && sqlite_file.is_none() {
        return Err(Error::AutogenerateWithoutSchema { dir: schema_dir });
    }
    let redo = match asked.redo {
        true => Some(redo_of(s, &dir, probe_database).await?),
        false => None,
    };
    // The migrations the draft follows: all of them, but the one a redo replaces.
    let load_for = |dialect: Dialect| -> Result<MigrationSet> {
        let mut set = s.load_for(dialect)?;
        if let Some(r) = &redo {
            set.migrations.retain(|m| m.version != r.version);
        }
        Ok(set)
    };
    // An earlier draft still under review: name it and stop, rather than write another.
    for dialect in [Dialect::Mysql, Dialect::Sqlite] {
        if dialect == Dialect::Sqlite || server.is_some() {
            refuse_unreviewed_draft(&load_for(dialect)?)?;
        }
    }
    let description = match (asked.description, &redo) {
        (Some(d), _) => d.to_string(),
        (None, Some(r)) => r.description.clone(),
        (None, None) => String::new(),
    };
    let description = description.as_str();
    let (version, slug) = match &redo {
        Some(r) if asked.description.is_none() => (r.version_text.clone(), r.slug.clone()),
        Some(r) => (
            r.version_text.clone(),
            scaffold::next_name(&dir, description)?.1,
        ),
        None => scaffold::next_name(&dir, description)?,
    };
    let version_number: u64 = version.parse().map_err(|_| Error::VersionNotNumber {
        version: version.clone(),
    })?;
    let name = |dialect: Option<Dialect>, down: bool| {
        let d = dialect.map(|d| format!(".{d}")).unwrap_or_default();
        let down = if down { ".down" } else { "" };
        dir.join(format!("{version}_{slug}{down}{d}.sql"))
    };
    let mut live = match probe_database {
        Some(url) => Live::open(url, s, &renames).await,
        None => None,
    };
    let mut planned: Vec<Planned> = Vec::new();
    let mut schema_writes: Vec<(PathBuf, String)> = Vec::new();
    if let Some(command) = &command {
        // Per dialect, the command's build is the desired side (SQLite's too: its own build,
        // not the rendering of MySQL's), made while the migrations replay.
        let places: Vec<Place> = server.iter().cloned().chain([Place::Sqlite]).collect();
        let sources: Vec<String> = places
            .iter()
            .map(|p| {
                crate::compare::command::desired_path(p.dialect())
                    .display()
                    .to_string()
            })
            .collect();
        let mut jobs = Vec::new();
        for (place, source) in places.into_iter().zip(&sources) {
            let dialect = place.dialect();
            let variant = server.is_some().then_some(dialect);
            jobs.push(Job {
                all: s.load_for(dialect)?,
                set: load_for(dialect)?,
                target: Target {
                    version: version_number,
                    up: name(variant, false),
                    down: name(variant, true),
                    description,
                    source,
                },
                place,
            });
        }
        let done = from_command(s, command, jobs, &renames, reversible).await?;
        for ((file, mut plan), source) in done.into_iter().zip(&sources) {
            if let Some(live) = live.as_mut() {
                live.count(&mut plan, description, source).await;
            }
            let path = schema_dir.join(source::schema_file_name(file.script.dialect));
            schema_writes.push((path, with_version(&file.script.text, version_number)));
            planned.push(plan);
        }
    } else {
        // MySQL, from the edited mysql.sql.
        let mut mysql_head: Option<(Built, String)> = None;
        if let (Some(file), Some(place)) = (&mysql_file, &server) {
            let set = load_for(Dialect::Mysql)?;
            let source = file.script.path.display().to_string();
            let (head, mut plan) = generate(
                s,
                place,
                &set,
                file,
                &renames,
                reversible,
                Target {
                    version: version_number,
                    up: name(Some(Dialect::Mysql), false),
                    down: name(Some(Dialect::Mysql), true),
                    description,
                    source: &source,
                },
            )
            .await?;
            if let Some(live) = live.as_mut() {
                live.count(&mut plan, description, &source).await;
            }
            schema_writes.push((
                schema_dir.join(source::schema_file_name(Dialect::Mysql)),
                with_version(&file.script.text, version_number),
            ));
            mysql_head = Some((head, source));
            planned.push(plan);
        }
        // SQLite, from the rendering of the MySQL head, or from sqlite.sql itself when it is the
        // source (hand-written, or the only schema file).
        let sqlite_path = schema_dir.join(source::schema_file_name(Dialect::Sqlite));
        let sqlite_source = match (&mysql_head, &sqlite_file) {
            (Some((head, mysql_source)), f)
                if f.as_ref()
                    .is_none_or(|f| crate::schema::render::is_generated(&f.script.text)) =>
            {
                let header = crate::schema::render::sqlite_header(version_number);
                let text = crate::schema::render::sqlite_schema(&head.schema, &head.rows, &header)?;
                Some((text, format!("the rendering of {mysql_source}")))
            }
            (_, Some(f)) => Some((
                with_version(&f.script.text, version_number),
                f.script.path.display().to_string(),
            )),
            (_, None) => None,
        };
        if let Some((text, source)) = sqlite_source {
            let set = load_for(Dialect::Sqlite)?;
            let file =
                source::schema_from_text(sqlite_path.clone(), text.clone(), Dialect::Sqlite)?;
            let portable = mysql_file.is_none();
            let variant = (!portable).then_some(Dialect::Sqlite);
            let (_, mut plan) = generate(
                s,
                &Place::Sqlite,
                &set,
                &file,
                &renames,
                reversible,
                Target {
                    version: version_number,
                    up: name(variant, false),
                    down: name(variant, true),
                    description,
                    source: &source,
                },
            )
            .await?;
            if let Some(live) = live.as_mut() {
                live.count(&mut plan, description, &source).await;
            }
            planned.push(plan);
            schema_writes.push((sqlite_path, text));
        }
    }
    if let Some(live) = live {
        live.conn.close().await;
    }
    // With a schema command, schema/ holds its renderings only where `schema render` wrote
    // them: those are kept current, and none is created.
    if s.schema_command().is_some() {
        schema_writes.retain(|(path, _)| {
            std::fs::read_to_string(path).is_ok_and(|t| crate::compare::command::is_rendered(&t))
        });
    }
    let drafts: Vec<Draft> = planned.iter().map(|p| p.draft.clone()).collect();
    let timings: Vec<Timing> = planned.iter().map(|p| p.timing.clone()).collect();
    let mut generated = Generated {
        version: None,
        schema_version: None,
        files: Vec::new(),
        replaced: Vec::new(),
        schema_files: Vec::new(),
        drafts,
        review: Vec::new(),
        timings,
    };
    // Every dialect needs a file for the version, even one with nothing to do.
    if !planned.iter().all(|p| p.draft.is_empty()) {
        let mut files = Vec::new();
        for p in planned {
            for (path, text) in std::iter::once(p.up).chain(p.down) {
                let text = autogen::seal(&text);
                for (i, line) in text.lines().enumerate() {
                    if let Some(marker) = line.strip_prefix(autogen::MARKER_PREFIX) {
                        generated
                            .review
                            .push(format!("{}:{}: {marker}", path.display(), i + 1));
                    }
                }
                files.push((path, text));
            }
        }
        generated.files = match &redo {
            Some(r) => {
                generated.replaced = r.files.clone();
                scaffold::swap(&r.files, files)?
            }
            None => scaffold::write_new(files)?,
        };
        for (path, text) in schema_writes {
            scaffold::replace(&path, &text)?;
            generated.schema_files.push(path);
        }
        generated.version = Some(version_number);
        generated.schema_version = Some(version_number);
    } else if let Some(r) = &redo {
        // Replaced by nothing: the draft goes, and the schema files are the version before's.
        let previous = r
            .previous
            .ok_or(Error::RedoToNothing { version: r.version })?;
        scaffold::swap(&r.files, Vec::new())?;
        generated.replaced = r.files.clone();
        for (path, text) in schema_writes {
            scaffold::replace(&path, &with_version(&text, previous))?;
            generated.schema_files.push(path);
        }
        generated.schema_version = Some(previous);
    }
    s.emit(&report::Generated(&generated));
    Ok(0)
}

/// The migration `--redo` replaces: the newest in `dir`, each of whose files is a draft of
/// this command that nobody edited since (its seal line), and that neither the configured
/// database nor `--probe-database` has a row for, where they can be read (a database that
/// cannot be read is a warning: the redo does not know about it).
async fn redo_of(s: &Session<'_>, dir: &Path, probe_database: Option<&str>) -> Result<Redo> {
    let newest = scaffold::newest(dir)?.ok_or_else(|| Error::NothingToRedo {
        dir: dir.to_path_buf(),
    })?;
    let mut description = None;
    let mut slug = String::new();
    for (name, path, text) in &newest.files {
        let why = match autogen::check_seal(text) {
            Ok(()) => None,
            Err(autogen::Unsealed::NotADraft) => Some(format!(
                "was not written by `new --autogenerate` (it has no `{}…` line), so it is not replaced; delete version {}'s files by hand if you mean to",
                autogen::SEAL_PREFIX,
                newest.version
            )),
            Err(autogen::Unsealed::Edited) => Some(format!(
                "was edited since `new --autogenerate` wrote it (its `{}…` line no longer matches), so it is not replaced: undo the edit, or delete version {}'s files by hand if you mean to",
                autogen::SEAL_PREFIX,
                newest.version
            )),
        };
        if let Some(why) = why {
            return Err(Error::RedoNotADraft {
                path: path.clone(),
                why,
            });
        }
        if name.direction == source::Direction::Up && description.is_none() {
            description = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("-- "))
                .map(str::to_string);
            slug = name.slug.clone();
        }
    }
    let targets = std::iter::once(Ok(s.settings.database.value.clone()))
        .chain(probe_database.map(DatabaseTarget::parse_url));
    for target in targets {
        let Ok(target) = target else { continue };
        recorded_in(s, &target, newest.version).await?;
    }
    Ok(Redo {
        version: newest.version,
        previous: newest.previous,
        files: newest.files.into_iter().map(|(_, p, _)| p).collect(),
        description: description.unwrap_or_else(|| slug.replace('_', " ")),
        version_text: newest.version_text,
        slug,
    })
}

/// Refuses (exit 5) when `target`'s history has a row for `version`. A database that does not
/// exist has none; one that cannot be read is a warning.
async fn recorded_in(s: &Session<'_>, target: &DatabaseTarget, version: u64) -> Result<()> {
    let shown = target.redacted();
    let unknown = |why: String| {
        report::warn(format!(
            "new --autogenerate --redo: cannot read the history of {shown} ({why}): whether version {version} ran there is not known"
        ))
    };
    let mut conn =
        match Connection::open(target, Access::ReadOnly, s.table.clone(), s.timeouts).await {
            Ok(Some(c)) => c,
            Ok(None) => return Ok(()),
            Err(e) => {
                unknown(e.to_string());
                return Ok(());
            }
        };
    let history = conn.read_history().await;
    conn.close().await;
    match history {
        Ok(rows) => match rows.iter().find(|r| r.version == version) {
            Some(row) => Err(Error::RedoRecorded {
                version,
                state: row.state.as_str().to_string(),
                database: shown,
            }),
            None => Ok(()),
        },
        Err(e) => {
            unknown(e.to_string());
            Ok(())
        }
    }
}

/// A database with data (`--probe-database`), read-only: the markers of new keys and NOT NULL
/// columns say how many of its rows the change meets (duplicate key values, NULLs). Anything
/// that goes wrong here is a warning: the draft is written all the same, without the count.
struct Live {
    conn: Connection,
    shown: String,
    schema: crate::schema::Schema,
    /// What was counted already (the same marker is in both dialects' drafts).
    counted: Vec<(Tightening, Option<Counted>)>,
    /// The live database has the tables and columns under their names before the renames.
    renames: Renames,
}

/// How many rows a tightening meets, with a few of their key values.
type Counted = (u64, Vec<String>);

impl Live {
    async fn open(url: &str, s: &Session<'_>, renames: &Renames) -> Option<Live> {
        let target = match DatabaseTarget::parse_url(url) {
            Ok(t) => t,
            Err(e) => {
                report::warn(format!("--probe-database: {e}; nothing is counted"));
                return None;
            }
        };
        let shown = target.redacted();
        let warn = |why: String| {
            report::warn(format!(
                "--probe-database {shown}: {why}; nothing is counted"
            ))
        };
        let mut conn =
            match Connection::open(&target, Access::ReadOnly, s.table.clone(), s.timeouts).await {
                Ok(Some(c)) => c,
                Ok(None) => {
                    warn("the database file does not exist".into());
                    return None;
                }
                Err(e) => {
                    warn(e.to_string());
                    return None;
                }
            };
        match conn.introspect().await {
            Ok(schema) => Some(Live {
                conn,
                shown,
                schema,
                counted: Vec::new(),
                renames: renames.clone(),
            }),
            Err(e) => {
                warn(e.to_string());
                conn.close().await;
                None
            }
        }
    }

    /// Writes the counts into `plan`'s markers, and its file's text again.
    async fn count(&mut self, plan: &mut Planned, description: &str, source: &str) {
        let mut any = false;
        for m in &mut plan.draft.markers {
            let Some(t) = m.live.clone() else { continue };
            let found = match self.counted.iter().find(|(x, _)| *x == t) {
                Some((_, c)) => c.clone(),
                None => {
                    let c = self.count_one(&t).await;
                    self.counted.push((t, c.clone()));
                    c
                }
            };
            if let Some((n, sample)) = found {
                m.add_live_count(n, &sample);
                any = true;
            }
        }
        if any {
            plan.up.1 = plan.draft.text(description, source);
        }
    }

    /// The rows of the live table the tightening meets, with a few of their key values.
    async fn count_one(&mut self, t: &Tightening) -> Option<Counted> {
        // Under the names the live database has, before `--rename`.
        let r = &self.renames;
        let old_table = r
            .tables
            .iter()
            .find(|(_, new)| *new == t.table)
            .map_or_else(|| t.table.clone(), |(old, _)| old.clone());
        let here = |tb: &str| tb == t.table || tb == old_table;
        let columns = t
            .columns
            .iter()
            .map(|c| {
                r.columns
                    .iter()
                    .find(|(tb, _, new)| here(tb) && new == c)
                    .map_or_else(|| c.clone(), |(_, old, _)| old.clone())
            })
            .collect();
        let t = &Tightening {
            table: old_table.clone(),
            columns,
            ..t.clone()
        };
        let warn = |why: String| {
            report::warn(format!(
                "--probe-database {}: {why}; the marker says no count",
                self.shown
            ))
        };
        let Some(table) = self.schema.table(&t.table) else {
            warn(format!("no table {}", t.table));
            return None;
        };
        if let Some(c) = t
            .columns
            .iter()
            .find(|c| !table.columns.iter().any(|x| &x.name == *c))
        {
            warn(format!("no column {}.{c}", t.table));
            return None;
        }
        let p = crate::schema::probe::probe(t, table, self.conn.dialect())?;
        let counted = crate::compare::probes::count_and_sample(&mut self.conn, &p).await;
        match counted {
            Ok(c) => Some(c),
            Err(e) => {
                report::warn(format!(
                    "--probe-database {}: counting {} failed: {e}; the marker says no count",
                    self.shown, t
                ));
                None
            }
        }
    }
}

/// Refuses (exit 2) while a migration file still carries a review marker: an earlier draft
/// that nobody has reviewed yet, named by the file and line of its first marker. Another
/// draft on top of it would only repeat what it leaves open.
fn refuse_unreviewed_draft(set: &MigrationSet) -> Result<()> {
    let first = set
        .migrations
        .iter()
        .flat_map(|m| std::iter::once(&m.up).chain(&m.down))
        .find_map(|script| {
            script
                .directives
                .review
                .first()
                .map(|(line, what)| (script, *line, what))
        });
    match first {
        None => Ok(()),
        Some((script, line, what)) => Err(Error::Input(vec![crate::error::InputError {
            path: script.path.clone(),
            line: Some(line),
            message: format!(
                "an earlier draft is not reviewed yet: {what}; review it (check its statements, then delete its marker lines) before generating another migration; nothing was written"
            ),
        }])),
    }
}

/// The names and provenance of the migration being generated.
struct Target<'a> {
    version: u64,
    up: PathBuf,
    down: PathBuf,
    description: &'a str,
    source: &'a str,
}

/// One dialect's work with the schema command.
struct Job<'a> {
    place: Place,
    /// Every migration: the command's rendering states MySQL table options as they do.
    all: MigrationSet,
    /// The migrations the draft follows (all but the one a redo replaces).
    set: MigrationSet,
    target: Target<'a>,
}

/// The drafts with a schema command, each dialect's (in `jobs`' order) with the command's
/// rendering. Per dialect, two scratch databases: in A the command builds the desired schema
/// while B replays the migrations; what the command built is read back once and is the
/// desired side as it stands (its rendering is not built again); the draft is proved on B.
/// All dialects at once. The first error stops the rest (a running command's process group
/// is killed), and so does SIGINT/SIGTERM; every scratch database is removed on every path.
async fn from_command(
    s: &Session<'_>,
    command: &crate::compare::command::SchemaCommand,
    jobs: Vec<Job<'_>>,
    renames: &Renames,
    reversible: bool,
) -> Result<Vec<(SchemaFile, Planned)>> {
    // Caught from here on: a signal while the databases are made is seen once they are.
    let stop = crate::run::signalled(
        "new --autogenerate was stopped, the schema command killed and every scratch database removed; nothing was written",
    );
    let create = |place: &Place, purpose: &'static str| {
        let place = place.clone();
        async move { Scratch::create(&place, purpose, None, &s.table, s.timeouts).await }
    };
    let created = join_all(jobs.iter().map(|job| async {
        tokio::join!(create(&job.place, "command"), create(&job.place, "replay"))
    }))
    .await;
    let mut pairs = Vec::new();
    let mut first_error = None;
    for (a, b) in created {
        match (a, b) {
            (Ok(a), Ok(b)) => pairs.push((a, b)),
            (Ok(x), Err(e)) | (Err(e), Ok(x)) => {
                x.dispose().await;
                first_error.get_or_insert(e);
            }
            (Err(e), Err(_)) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        join_all(
            pairs
                .into_iter()
                .flat_map(|(a, b)| [a.dispose(), b.dispose()]),
        )
        .await;
        return Err(e);
    }
    let work = try_join_all(
        jobs.iter()
            .zip(pairs.iter_mut())
            .map(|(job, (a, b))| with_command(s, command, job, a, b, renames, reversible)),
    );
    let result = tokio::select! {
        r = work => r,
        e = stop => Err(e),
    };
    // Work stopped by an error or a signal may have left a statement running: its
    // connections are ended rather than closed, which would wait for that statement.
    if result.is_ok() {
        join_all(
            pairs
                .into_iter()
                .flat_map(|(a, b)| [a.dispose(), b.dispose()]),
        )
        .await;
    } else {
        join_all(
            pairs
                .into_iter()
                .flat_map(|(a, b)| [a.abandon(), b.abandon()]),
        )
        .await;
    }
    result
}

/// One dialect of [`from_command`]: the command in `a` while `b` replays, then the draft.
async fn with_command(
    s: &Session<'_>,
    command: &crate::compare::command::SchemaCommand,
    job: &Job<'_>,
    a: &mut Scratch,
    b: &mut Scratch,
    renames: &Renames,
    reversible: bool,
) -> Result<(SchemaFile, Planned)> {
    let dialect = job.place.dialect();
    let started = Instant::now();
    let path = crate::compare::command::desired_path(dialect);
    let (desired, (replayed, replayed_defs)) = tokio::try_join!(
        crate::compare::command::build_in(command, a, &job.all, path),
        filled(b, Road::Replay(None), &job.set),
    )?;
    let timing = timing(dialect, started, &desired.built, &replayed);
    let accepted = accepted(s)?;
    let sides = Sides {
        file: &desired.file,
        head: &desired.built,
        head_defs: &desired.definitions,
        replayed: &replayed,
        replayed_defs: &replayed_defs,
        accepted: accepted.as_ref(),
    };
    let planned = prove(b, &job.set, sides, renames, reversible, &job.target, timing).await?;
    Ok((desired.file, planned))
}

/// One dialect: build A (the schema file) and B (a replay) at once, draft B→A, prove the
/// draft on B. Returns A as built (with its rows) and the planned file(s).
async fn generate(
    s: &Session<'_>,
    place: &Place,
    set: &MigrationSet,
    file: &SchemaFile,
    renames: &Renames,
    reversible: bool,
    target: Target<'_>,
) -> Result<(Built, Planned)> {
    // Read before any scratch database exists: an error in it leaves none behind.
    let accepted = accepted(s)?;
    let started = Instant::now();
    let (a, b) = tokio::join!(
        held(place, Road::Schema(file), set, s),
        held(place, Road::Replay(None), set, s),
    );
    let (a, b) = match (a, b) {
        (Ok(a), Ok(b)) => (a, b),
        (Ok((sa, ..)), Err(e)) | (Err(e), Ok((sa, ..))) => {
            sa.dispose().await;
            return Err(e);
        }
        (Err(e), Err(_)) => return Err(e),
    };
    let (scratch_a, head, head_defs) = a;
    scratch_a.dispose().await;
    let (mut scratch_b, replayed, replayed_defs) = b;
    let timing = timing(place.dialect(), started, &head, &replayed);
    let sides = Sides {
        file,
        head: &head,
        head_defs: &head_defs,
        replayed: &replayed,
        replayed_defs: &replayed_defs,
        accepted: accepted.as_ref(),
    };
    let result = prove(
        &mut scratch_b,
        set,
        sides,
        renames,
        reversible,
        &target,
        timing,
    )
    .await;
    scratch_b.dispose().await;
    Ok((head, result?))
}

/// What a dialect's draft is made from: the desired side (A: `file`, as built and read back,
/// with its stored definitions) and the replay of the migrations (B).
struct Sides<'a> {
    file: &'a SchemaFile,
    head: &'a Built,
    head_defs: &'a [Definition],
    replayed: &'a Built,
    replayed_defs: &'a [Definition],
    /// The differences between the two that schema/accepted-differences.toml keeps on purpose:
    /// the draft leaves them as the replay has them.
    accepted: Option<&'a crate::compare::accepted::Accepted>,
}

/// The timing of a dialect's scratch work started at `started`, once both sides are read.
fn timing(dialect: Dialect, started: Instant, head: &Built, replayed: &Built) -> Timing {
    Timing {
        dialect,
        scratch_ms: ms(started) - head.read_ms.max(replayed.read_ms),
        introspect_ms: head.read_ms + replayed.read_ms,
        generate_ms: 0.0,
        self_check_ms: 0.0,
    }
}

/// Milliseconds since `t`, to 0.01 ms.
fn ms(t: Instant) -> f64 {
    (t.elapsed().as_secs_f64() * 100_000.0).round() / 100.0
}

/// schema/accepted-differences.toml, when there is one.
fn accepted(s: &Session<'_>) -> Result<Option<crate::compare::accepted::Accepted>> {
    let Location::Dir(dir) = &s.settings.schema.value else {
        return Ok(None);
    };
    crate::compare::accepted::load(dir, &display_path(dir))
}

/// The differences between `desired` and `replayed` that `accepted` accepts for `dialect`, as
/// (table, object).
fn accepted_between(
    accepted: Option<&crate::compare::accepted::Accepted>,
    dialect: Dialect,
    desired: &schema::Schema,
    replayed: &schema::Schema,
) -> Vec<(String, String)> {
    let Some(accepted) = accepted else {
        return Vec::new();
    };
    let mut used = vec![false; accepted.entries.len()];
    let (_, taken) = accepted.split(dialect, schema::diff(desired, replayed), &mut used);
    taken.into_iter().map(|a| (a.table, a.object)).collect()
}

/// Drafts B→A and proves the draft on B (`scratch_b`, which the caller disposes of): applied
/// with the real runner, B must then equal A (with `reversible`, the reverse must give B back).
async fn prove(
    scratch_b: &mut Scratch,
    set: &MigrationSet,
    sides: Sides<'_>,
    renames: &Renames,
    reversible: bool,
    target: &Target<'_>,
    mut timing: Timing,
) -> Result<Planned> {
    let Sides {
        file,
        head,
        head_defs,
        replayed,
        replayed_defs,
        accepted,
    } = sides;
    let dialect = timing.dialect;
    // MySQL table options the schema file does not state are neither generated nor compared.
    let stated = schema::stated_options(file.script.statement_texts());
    let started = Instant::now();
    // What the draft is to reach: the desired schema, less the differences from the replay
    // that schema/accepted-differences.toml keeps on purpose.
    let desired = match dialect {
        Dialect::Mysql => head.schema.unstated_options_from(&replayed.schema, &stated),
        Dialect::Sqlite => head.schema.clone(),
    };
    let kept = accepted_between(accepted, dialect, &desired, &replayed.schema);
    let desired = desired.keeping(&replayed.schema, &kept);
    let mut draft = match dialect {
        Dialect::Mysql => autogen::mysql(&replayed.schema, &desired, renames, &stated)?,
        Dialect::Sqlite => autogen::sqlite(&replayed.schema, &desired, head_defs, renames)?,
    };
    draft
        .markers
        .extend(autogen::unsupported(replayed_defs, head_defs));
    let seeds = autogen::rows::seed_rows(
        dialect,
        &replayed.schema,
        &desired,
        &replayed.rows,
        &head.rows,
        renames,
    );
    with_rows(&mut draft, &seeds);
    let up = draft.text(target.description, target.source);
    timing.generate_ms = ms(started);
    let started = Instant::now();
    if draft.is_empty() {
        return Ok(Planned {
            timing: timing.clone(),
            draft,
            up: (target.up.clone(), up),
            down: None,
        });
    }
    let with_up = extended(set, target, &up, dialect)?;
    let after = scratch::apply(scratch_b, &with_up)
        .await
        .map_err(|e| failed(dialect, e, &up))?;
    let mut left = schema::diff(&desired, &after.unstated_options_from(&desired, &stated));
    // The rows the draft writes must be schema/'s (all rows, for the reverse's sake).
    let after_rows = rows_of(scratch_b, &after, (!reversible).then_some(&seeds.tables)).await?;
    left.extend(crate::compare::row_differences(
        &head.rows,
        &written(&after_rows, &seeds.tables),
    ));
    if !left.is_empty() {
        return Err(Error::SelfCheck {
            dialect,
            expected: file.script.path.display().to_string(),
            differences: left,
            draft: up,
        });
    }
    let down = if reversible {
        let mut back = match dialect {
            Dialect::Mysql => {
                autogen::mysql(&after, &replayed.schema, &renames.reversed(), &stated)?
            }
            Dialect::Sqlite => {
                autogen::sqlite(&after, &replayed.schema, replayed_defs, &renames.reversed())?
            }
        };
        let seeds_back = autogen::rows::seed_rows(
            dialect,
            &after,
            &replayed.schema,
            &after_rows,
            &replayed.rows,
            &renames.reversed(),
        );
        with_rows(&mut back, &seeds_back);
        let text = back.text(
            &format!("revert: {}", target.description),
            &format!("the migrations before version {}", target.version),
        );
        let mut with_down = with_up.clone();
        if let Some(m) = with_down.migrations.last_mut() {
            m.down = Some(prepared(&target.down, &text, dialect)?);
        }
        let previous = set.migrations.last().map_or(0, |m| m.version);
        let reverted = scratch::revert(scratch_b, &with_down, previous)
            .await
            .map_err(|e| failed(dialect, e, &text))?;
        let mut left = schema::diff(&replayed.schema, &reverted);
        let reverted_rows = rows_of(scratch_b, &reverted, Some(&seeds_back.tables)).await?;
        left.extend(crate::compare::row_differences(
            &replayed.rows,
            &reverted_rows,
        ));
        if !left.is_empty() {
            return Err(Error::SelfCheck {
                dialect,
                expected: format!("the schema before version {}", target.version),
                differences: left,
                draft: text,
            });
        }
        Some(text)
    } else {
        None
    };
    timing.self_check_ms = ms(started);
    Ok(Planned {
        timing: timing.clone(),
        draft,
        up: (target.up.clone(), up),
        down: down.map(|d| (target.down.clone(), d)),
    })
}

/// A draft that the runner could not apply: the database's words, with the draft's line.
fn failed(dialect: Dialect, e: Error, draft: &str) -> Error {
    let message = match e {
        Error::MigrationFailed(f) => format!("line {} of the draft: {}", f.line, f.message),
        other => other.to_string(),
    };
    Error::SelfCheckFailed {
        dialect,
        message,
        draft: draft.to_string(),
    }
}

/// The seed-row statements, change lines and markers added after the draft's DDL.
fn with_rows(draft: &mut Draft, seeds: &autogen::rows::SeedRows) {
    draft.changes.extend(seeds.changes.iter().cloned());
    draft.markers.extend(seeds.markers.iter().cloned());
    draft.statements.extend(seeds.statements.iter().cloned());
}

/// The rows of `tables` (`None`: all tables) as the scratch database holds them now.
async fn rows_of(
    scratch: &mut Scratch,
    schema: &crate::schema::Schema,
    tables: Option<&Vec<String>>,
) -> Result<Vec<(String, Vec<Vec<Option<String>>>)>> {
    let mut out = Vec::new();
    for t in &schema.tables {
        if tables.is_none_or(|only| only.contains(&t.name)) {
            out.push((t.name.clone(), scratch.conn.table_rows(t).await?));
        }
    }
    Ok(out)
}

/// Only the rows of `tables`.
fn written(
    rows: &[(String, Vec<Vec<Option<String>>>)],
    tables: &[String],
) -> Vec<(String, Vec<Vec<Option<String>>>)> {
    rows.iter()
        .filter(|(t, _)| tables.contains(t))
        .cloned()
        .collect()
}

/// A scratch database built by `road`, with its rows and stored definitions.
async fn held(
    place: &Place,
    road: Road<'_>,
    set: &MigrationSet,
    s: &Session<'_>,
) -> Result<(Scratch, Built, Vec<Definition>)> {
    let mut scratch = Scratch::create(place, road.purpose(), None, &s.table, s.timeouts).await?;
    match filled(&mut scratch, road, set).await {
        Ok((built, defs)) => Ok((scratch, built, defs)),
        Err(e) => {
            scratch.dispose().await;
            Err(e)
        }
    }
}

/// `scratch` (empty) built by `road`, read back with its rows and stored definitions; the
/// caller disposes of it.
async fn filled(
    scratch: &mut Scratch,
    road: Road<'_>,
    set: &MigrationSet,
) -> Result<(Built, Vec<Definition>)> {
    let mut built = scratch::fill(scratch, road, set, true, &mut |_| {}).await?;
    let started = Instant::now();
    let defs = scratch.conn.definitions().await?;
    built.read_ms += started.elapsed().as_secs_f64() * 1000.0;
    Ok((built, defs))
}

/// `set` with the new migration added, as the runner will read it.
fn extended(
    set: &MigrationSet,
    target: &Target<'_>,
    up: &str,
    dialect: Dialect,
) -> Result<MigrationSet> {
    let mut out = set.clone();
    out.migrations.push(Migration {
        version: target.version,
        slug: String::new(),
        up: prepared(&target.up, up, dialect)?,
        down: None,
    });
    Ok(out)
}

/// A draft read as the runner reads a file.
fn prepared(path: &Path, text: &str, dialect: Dialect) -> Result<crate::source::Script> {
    source::prepare(path.to_path_buf(), text.as_bytes().to_vec(), dialect).map_err(Error::Input)
}

/// A schema file's text with its `-- schema-version:` line set to `version`.
fn with_version(text: &str, version: u64) -> String {
    let mut out = String::with_capacity(text.len());
    let mut done = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if !done && t.starts_with("--") && t[2..].trim_start().starts_with("schema-version:") {
            let end = if line.ends_with('\n') { "\n" } else { "" };
            out.push_str(&format!("-- schema-version: {version}{end}"));
            done = true;
        } else {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreviewed_draft_is_named_by_its_first_marker() {
        let script = |name: &str, text: &str| prepared(Path::new(name), text, Dialect::Sqlite);
        let migration = |version: u64, up: &str| Migration {
            version,
            slug: String::new(),
            up: script(&format!("migrations/{version:04}_x.sql"), up).unwrap(),
            down: None,
        };
        let mut set = MigrationSet {
            dir: PathBuf::from("migrations"),
            dialect: Dialect::Sqlite,
            migrations: vec![migration(1, "CREATE TABLE t (a INT);\n")],
        };
        assert!(refuse_unreviewed_draft(&set).is_ok());
        set.migrations.push(migration(
            2,
            "-- draft\n-- aurweb-migrate: review drop-column t.a: its values are lost\n-- aurweb-migrate: review drop-table u: its rows are lost\nALTER TABLE t DROP COLUMN a;\n",
        ));
        let e = refuse_unreviewed_draft(&set).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let text = e.to_string();
        assert!(
            text.contains("migrations/0002_x.sql:2:")
                && text.contains("an earlier draft is not reviewed yet: drop-column t.a")
                && !text.contains("drop-table"),
            "{text}"
        );
    }

    #[test]
    fn the_version_line_moves() {
        let text = "-- The schema.\n-- schema-version: 18\n\nCREATE TABLE t (a INT);\n";
        assert_eq!(
            with_version(text, 19),
            "-- The schema.\n-- schema-version: 19\n\nCREATE TABLE t (a INT);\n"
        );
    }
}
