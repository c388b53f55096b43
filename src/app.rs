//! Commands: resolves settings, loads migrations, opens the backend and runs the library for one
//! command, printing results through [`report`]. The binary's clap types stop at [`Request`].

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::backend::{Access, Backend, Connection, Timeouts};
use crate::config::{self, Overrides, Settings};
use crate::error::{Error, Result};
use crate::history::TableName;
use crate::offline;
use crate::plan::{self, Target};
use crate::report::{self, Context, Format};
use crate::runner::{self, Event, Outcome, Resolution, RunMode, StampMode, UpgradeOptions};
use crate::scratch::Place;
use crate::source::{self, Location, MigrationSet};
use crate::survey;
use crate::Dialect;

/// One invocation of the tool, free of any argument-parser types.
#[derive(Debug, Clone)]
pub struct Request {
    pub overrides: Overrides,
    pub format: Format,
    /// `-v` count.
    pub verbose: u8,
    pub quiet: bool,
    /// `--statement-timeout`: seconds after which a running statement is cancelled.
    pub statement_timeout: Option<u64>,
    pub command: Command,
}

#[derive(Debug, Clone)]
pub enum Command {
    New {
        description: String,
        reversible: bool,
        dialects: Vec<Dialect>,
    },
    Status,
    Upgrade {
        to: Option<u64>,
        dry_run: bool,
        single_transaction: bool,
        allow_out_of_order: bool,
        resume: bool,
        /// On an empty database, run the migrations instead of building it from `schema/`.
        replay: bool,
    },
    /// `upgrade --sql`: the upgrade as an SQL script, without connecting.
    UpgradeScript {
        /// Default: the configured database's dialect.
        dialect: Option<Dialect>,
        /// The version the database is at; `None`: an empty database.
        from: Option<u64>,
        to: Option<u64>,
        replay: bool,
    },
    Downgrade {
        to: u64,
    },
    Check {
        /// Also compare the live schema with the one its history says it has.
        drift: bool,
    },
    Baseline {
        version: u64,
        accept_drift: bool,
    },
    /// `adopt --from alembic`.
    Adopt {
        accept_drift: bool,
    },
    Verify {
        /// `--dialect`: check this dialect only.
        dialect: Option<Dialect>,
    },
    SchemaDump,
    SchemaDiff,
    Stamp {
        version: u64,
    },
    Resolve {
        version: u64,
        resolution: Resolution,
    },
    History,
}

impl Command {
    /// Whether the command opens the target database (`history`, `new`, `verify` and
    /// `upgrade --sql` do not).
    pub fn opens_database(&self) -> bool {
        !matches!(
            self,
            Command::New { .. }
                | Command::UpgradeScript { .. }
                | Command::History
                | Command::Verify { .. }
        )
    }
}

/// Runs a request. Returns the exit code on success (0, or 1 when `check` finds problems).
/// With `--format json`, an error's JSON document has already been printed on stdout when this
/// returns `Err`; the caller prints the message on stderr and exits with its code.
pub async fn run(request: Request) -> Result<i32> {
    let cwd = std::env::current_dir()
        .map_err(|e| Error::Usage(format!("cannot read the working directory: {e}")))?;
    let env = |name: &str| std::env::var(name).ok();
    let settings = match config::resolve(&request.overrides, &env, &cwd) {
        Ok(s) => s,
        Err(e) => return fail(&request, e, None),
    };
    if !request.quiet {
        for w in &settings.warnings {
            eprintln!("warning: {w}");
        }
        if request.statement_timeout.is_some()
            && settings.database.value.dialect() == crate::Dialect::Sqlite
        {
            eprintln!("warning: --statement-timeout applies to MySQL/MariaDB only; it is ignored on SQLite");
        }
    }
    if request.format == Format::Human
        && !request.quiet
        && request.command.opens_database()
        && settings.migrations.value == Location::Embedded
    {
        eprintln!("{}", report::embedded_notice(&settings.migrations.origin));
    }
    match dispatch(&request, &settings).await {
        Ok(code) => Ok(code),
        Err((e, partial)) => fail(&request, e, partial.as_ref().map(|(o, k)| (o, *k))),
    }
}

/// An error, with what the run changed before it and the JSON key that lists those changes.
type Failure = (Error, Option<(Outcome, &'static str)>);

fn fail(request: &Request, e: Error, partial: Option<(&Outcome, &str)>) -> Result<i32> {
    if request.format == Format::Json {
        print_json(&report::error_json(&e, partial));
    }
    Err(e)
}

fn print_json(v: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, v);
    let _ = writeln!(out);
}

fn print(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
}

fn plain(e: Error) -> Failure {
    (e, None)
}

fn timeouts(settings: &Settings, request: &Request) -> Timeouts {
    Timeouts {
        connect: settings.connect_timeout.value,
        lock: settings.lock_timeout.value,
        statement: request
            .statement_timeout
            .filter(|s| *s > 0)
            .map(std::time::Duration::from_secs),
    }
}

/// The migration set for the configured database's dialect.
fn load(settings: &Settings) -> Result<MigrationSet> {
    load_for(settings, settings.database.value.dialect())
}

/// The migration set for `dialect` (`verify`, `upgrade --sql`).
fn load_for(settings: &Settings, dialect: Dialect) -> Result<MigrationSet> {
    source::load_from(&shown(&settings.migrations.value), dialect)
}

/// A location with a directory below the working directory made relative ([`display_path`]).
fn shown(location: &Location) -> Location {
    match location {
        Location::Dir(dir) => Location::Dir(display_path(dir)),
        Location::Embedded => Location::Embedded,
    }
}

/// A path below the working directory as a relative path (`migrations/0001_init.sql:3` reads
/// better than an absolute path in messages); any other path as it is.
fn display_path(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| path.to_path_buf())
}

/// Opens the configured database. `Ok(None)`: read-only access to a SQLite database that does
/// not exist yet (everything is pending, nothing is created).
async fn open(
    settings: &Settings,
    request: &Request,
    access: Access,
) -> Result<Option<Connection>> {
    let table = TableName::new(&settings.table.value)?;
    Connection::open(
        &settings.database.value,
        access,
        table,
        timeouts(settings, request),
    )
    .await
}

/// Migration files and, when the database could be opened alongside, its connection and
/// (when asked for) its history.
struct Loaded {
    set: MigrationSet,
    conn: Option<Connection>,
    history: Vec<crate::history::Row>,
}

/// Reads the migration files on other threads while the database opens on this one: on SQLite,
/// opening means parsing the whole schema, which takes as long as reading 1,000 files, so the
/// two overlap. Nothing is written before the files are known to be valid: a missing SQLite
/// file that read-write access would create is opened only afterwards (`conn` is then `None`),
/// and on an input error the connection is closed unused.
async fn load_and_open(
    settings: &Settings,
    request: &Request,
    access: Access,
    with_history: bool,
) -> Result<Loaded> {
    let owned = settings.clone();
    let loader = std::thread::spawn(move || load(&owned));
    let defer = access == Access::ReadWrite
        && matches!(&settings.database.value, config::DatabaseTarget::Sqlite { path } if !path.exists());
    let opened = if defer {
        Ok((None, Vec::new()))
    } else {
        async {
            let mut conn = open(settings, request, access).await?;
            let history = match conn.as_mut() {
                Some(b) if with_history => b.read_history().await?,
                Some(b) => {
                    b.warm_up().await?;
                    Vec::new()
                }
                None => Vec::new(),
            };
            Ok((conn, history))
        }
        .await
    };
    let set = loader
        .join()
        .unwrap_or_else(|_| Err(Error::Usage("reading the migrations failed".to_string())));
    match (set, opened) {
        (Ok(set), Ok((conn, history))) => Ok(Loaded { set, conn, history }),
        (Err(e), Ok((conn, _))) => {
            if let Some(b) = conn {
                b.close().await;
            }
            Err(e)
        }
        // Input errors come first: they are what the user must fix.
        (Err(e), Err(_)) => Err(e),
        (Ok(_), Err(e)) => Err(e),
    }
}

async fn read_history(
    settings: &Settings,
    request: &Request,
) -> Result<(Vec<crate::history::Row>, Option<Connection>)> {
    match open(settings, request, Access::ReadOnly).await? {
        Some(mut b) => {
            let h = b.read_history().await?;
            Ok((h, Some(b)))
        }
        None => Ok((Vec::new(), None)),
    }
}

async fn dispatch(request: &Request, settings: &Settings) -> std::result::Result<i32, Failure> {
    let json = request.format == Format::Json;
    let database = settings.database.value.redacted();
    let dialect = settings.database.value.dialect();
    match &request.command {
        Command::New {
            description,
            reversible,
            dialects,
        } => {
            let Location::Dir(dir) = &settings.migrations.value else {
                return Err(plain(Error::Usage(format!(
                    "the migrations in use are the ones built into aurweb-migrate ({}); \
                     `new` writes files, so create a migrations directory (mkdir migrations) \
                     or pass -m DIR",
                    settings.migrations.origin
                ))));
            };
            let files = new_migration(&display_path(dir), description, *reversible, dialects)
                .map_err(plain)?;
            if json {
                print_json(&serde_json::json!({
                    "format_version": report::FORMAT_VERSION,
                    "files": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
                }));
            } else {
                for f in &files {
                    print(&format!("{}\n", f.display()));
                }
            }
            Ok(0)
        }
        Command::UpgradeScript {
            dialect,
            from,
            to,
            replay,
        } => {
            if json {
                return Err(plain(Error::Usage(
                    "--sql prints an SQL script; --format json does not apply to it".into(),
                )));
            }
            let dialect = dialect.unwrap_or_else(|| settings.database.value.dialect());
            let set = load_for(settings, dialect).map_err(plain)?;
            let schema = if *replay || from.is_some() {
                None
            } else {
                load_schema_for(settings, dialect).map_err(plain)?
            };
            let options = offline::ScriptOptions {
                dialect,
                from: *from,
                target: to.map_or(Target::Latest, Target::Version),
                replay: *replay,
                table: TableName::new(&settings.table.value).map_err(plain)?,
                lock_timeout: settings.lock_timeout.value.as_secs(),
            };
            let script = offline::upgrade_script(&set, schema.as_ref(), &options).map_err(plain)?;
            print(&script);
            Ok(0)
        }
        Command::History => {
            let set = load(settings).map_err(plain)?;
            if json {
                print_json(&report::history_json(&set));
            } else {
                print(&report::history_human(&set));
            }
            Ok(0)
        }
        Command::Status | Command::Check { .. } => {
            let drift = matches!(request.command, Command::Check { drift: true });
            let loaded = load_and_open(settings, request, Access::ReadOnly, true)
                .await
                .map_err(plain)?;
            let (set, history, mut conn) = (loaded.set, loaded.history, loaded.conn);
            let mut ov = plan::overview(&set.migrations, &history, false);
            // As `upgrade` would refuse it: a database with tables but no history.
            if let (Some(b), true) = (conn.as_mut(), history.is_empty()) {
                match b.table_names().await {
                    Ok(tables) => ov.note_tables(&history, &tables),
                    Err(e) => {
                        if let Some(b) = conn.take() {
                            b.close().await;
                        }
                        return Err(plain(e));
                    }
                }
            }
            let mut extra = Vec::new();
            if drift {
                let found = check_drift(settings, request, conn.as_mut(), &set, ov.current()).await;
                if let Some(b) = conn.take() {
                    b.close().await;
                }
                extra = found.map_err(plain)?;
            }
            if let Some(b) = conn {
                b.close().await;
            }
            let ctx = Context {
                database: &database,
                dialect,
                table: &settings.table.value,
                set: &set,
                embedded: settings.migrations.value == Location::Embedded,
            };
            if let Command::Check { .. } = request.command {
                let ok = ov.findings().is_empty() && extra.is_empty();
                if json {
                    print_json(&report::check_json(&ov, dialect, &extra));
                } else if !(request.quiet && ok) {
                    print(&report::check_human(&ov, dialect, &extra));
                }
                return Ok(if ok { 0 } else { 1 });
            }
            if json {
                print_json(&report::status_json(&ctx, &ov));
            } else {
                if request.verbose > 0 {
                    print(&settings_human(settings));
                }
                print(&report::status_human(
                    &ctx,
                    &ov,
                    request.verbose > 0,
                    report::stdout_colour(),
                ));
            }
            Ok(0)
        }
        Command::Upgrade {
            to,
            dry_run,
            single_transaction,
            allow_out_of_order,
            resume,
            replay,
        } => {
            let schema_file = if *replay {
                None
            } else {
                load_schema_file(settings).map_err(plain)?
            };
            let access = if *dry_run {
                Access::ReadOnly
            } else {
                Access::ReadWrite
            };
            let loaded = load_and_open(settings, request, access, *dry_run)
                .await
                .map_err(plain)?;
            let set = loaded.set;
            // Input checks that need the migration set, before anything is written.
            let checked = (|| {
                if let Some(f) = &schema_file {
                    f.check(&set)?;
                }
                match to {
                    None => Ok(Target::Latest),
                    Some(v) if set.get(*v).is_some() => Ok(Target::Version(*v)),
                    Some(v) => Err(Error::Usage(format!(
                        "--to {v}: no migration has that version in {}",
                        set.dir.display()
                    ))),
                }
            })();
            let target = match checked {
                Ok(t) => t,
                Err(e) => {
                    if let Some(b) = loaded.conn {
                        b.close().await;
                    }
                    return Err(plain(e));
                }
            };
            let options = UpgradeOptions {
                target,
                mode: if *single_transaction {
                    RunMode::SingleTransaction
                } else {
                    RunMode::PerMigration
                },
                allow_out_of_order: *allow_out_of_order,
                resume: *resume,
            };
            if *dry_run {
                let mut conn = loaded.conn;
                let preview = runner::preview(
                    conn.as_mut(),
                    &set,
                    &loaded.history,
                    schema_file.as_ref(),
                    options,
                )
                .await;
                if let Some(b) = conn {
                    b.close().await;
                }
                let preview = preview.map_err(plain)?;
                if json {
                    print_json(&report::dry_run_json(&preview, &set, dialect));
                } else {
                    print(&report::dry_run_human(&preview, dialect));
                }
                return Ok(0);
            }
            let mut backend = match loaded.conn {
                Some(b) => b,
                None => open(settings, request, Access::ReadWrite)
                    .await
                    .map_err(plain)?
                    .expect("read-write access always opens"),
            };
            let mut progress = Progress::new(request);
            let result = runner::upgrade(
                &mut backend,
                &set,
                options,
                schema_file.as_ref(),
                &mut |e| progress.event(e),
            )
            .await;
            backend.close().await;
            finish(request, settings, result, progress, "applied", "applied").await
        }
        Command::Downgrade { to } => {
            let set = load(settings).map_err(plain)?;
            let mut backend = open(settings, request, Access::ReadWrite)
                .await
                .map_err(plain)?
                .expect("read-write access always opens");
            let mut progress = Progress::new(request);
            let result =
                runner::downgrade(&mut backend, &set, *to, &mut |e| progress.event(e)).await;
            backend.close().await;
            finish(request, settings, result, progress, "reverted", "reverted").await
        }
        Command::Baseline { version, .. } | Command::Stamp { version } => {
            let set = load(settings).map_err(plain)?;
            let mut backend = open(settings, request, Access::ReadWrite)
                .await
                .map_err(plain)?
                .expect("read-write access always opens");
            let result = async {
                let mut accepted = Vec::new();
                let mode = match request.command {
                    Command::Baseline { accept_drift, .. } => {
                        // A database with neither history nor Alembic's table: compare first.
                        if set.get(*version).is_some()
                            && backend.read_history().await?.is_empty()
                            && backend.alembic_revisions().await?.is_none()
                        {
                            accepted = guard_adoption(
                                settings,
                                request,
                                &mut backend,
                                &set,
                                *version,
                                accept_drift,
                                &format!("baseline {version}"),
                            )
                            .await?;
                        }
                        StampMode::Baseline
                    }
                    _ => StampMode::Stamp,
                };
                let outcome = runner::stamp(&mut backend, &set, *version, mode).await?;
                Ok::<_, Error>((outcome, accepted))
            }
            .await;
            backend.close().await;
            let (outcome, accepted) = result.map_err(plain)?;
            print_recorded(request, &outcome, &accepted, None);
            Ok(0)
        }
        Command::Adopt { accept_drift } => {
            let set = load(settings).map_err(plain)?;
            let mut backend = open(settings, request, Access::ReadWrite)
                .await
                .map_err(plain)?
                .expect("read-write access always opens");
            let result = async {
                let history = backend.read_history().await?;
                if !history.is_empty() {
                    return Err(Error::RefusedBecause(format!(
                        "the database already has a history in {} ({} recorded versions); there is nothing to adopt",
                        settings.table.value,
                        history.len()
                    )));
                }
                let (revision, version) = survey::alembic_version(&mut backend, &set).await?;
                let accepted = guard_adoption(
                    settings,
                    request,
                    &mut backend,
                    &set,
                    version,
                    *accept_drift,
                    &format!("adopt Alembic revision {revision} as version {version}"),
                )
                .await?;
                let outcome = runner::stamp(&mut backend, &set, version, StampMode::Baseline).await?;
                Ok((outcome, accepted, revision))
            }
            .await;
            backend.close().await;
            let (outcome, accepted, revision) = result.map_err(plain)?;
            print_recorded(request, &outcome, &accepted, Some(&revision));
            Ok(0)
        }
        Command::Verify { dialect: only } => {
            let places = verify_places(settings, *only).map_err(plain)?;
            let mut sets = Vec::new();
            for p in &places {
                let set = load_for(settings, p.dialect()).map_err(plain)?;
                let file = load_schema_for(settings, p.dialect()).map_err(plain)?;
                sets.push((set, file));
            }
            let table = TableName::new(&settings.table.value).map_err(plain)?;
            let mut v = survey::verify(&places, &sets, &table, timeouts(settings, request))
                .await
                .map_err(plain)?;
            if let Some(d) = only {
                // Asked for: say what was not checked instead of the missing server.
                v.skipped = Dialect::ALL
                    .iter()
                    .filter(|x| *x != d)
                    .map(|x| format!("{x}: not checked (--dialect {d})"))
                    .collect();
            }
            if json {
                print_json(&serde_json::json!({
                    "format_version": report::FORMAT_VERSION,
                    "ok": v.ok(),
                    "checks": v.checks,
                    "skipped": v.skipped,
                }));
            } else if !(request.quiet && v.ok()) {
                print(&verify_human(&v));
            }
            Ok(if v.ok() { 0 } else { 1 })
        }
        Command::SchemaDump => {
            let mut conn = open_existing(settings, request).await.map_err(plain)?;
            let found = conn.introspect().await;
            conn.close().await;
            let found = found.map_err(plain)?;
            if json {
                print_json(&serde_json::json!({
                    "format_version": report::FORMAT_VERSION,
                    "database": database,
                    "dialect": dialect.name(),
                    "tables": found.tables,
                }));
            } else {
                print(&found.to_text());
            }
            Ok(0)
        }
        Command::SchemaDiff => {
            let set = load(settings).map_err(plain)?;
            let head = set.migrations.last().map(|m| m.version).ok_or_else(|| {
                plain(Error::Usage(format!(
                    "no migrations in {}",
                    set.dir.display()
                )))
            })?;
            let mut conn = open_existing(settings, request).await.map_err(plain)?;
            let found = drift_at(settings, request, &mut conn, &set, head).await;
            conn.close().await;
            let (differences, expected) = found.map_err(plain)?;
            if json {
                print_json(&serde_json::json!({
                    "format_version": report::FORMAT_VERSION,
                    "database": database,
                    "expected": expected,
                    "same": differences.is_empty(),
                    "differences": differences,
                }));
            } else if differences.is_empty() {
                print(&format!("same: the database's schema equals {expected}\n"));
            } else {
                print(&format!(
                    "the database's schema differs from {expected} in {} place(s):\n{}",
                    differences.len(),
                    crate::schema::render_differences(&differences)
                ));
            }
            Ok(if differences.is_empty() { 0 } else { 1 })
        }
        Command::Resolve {
            version,
            resolution,
        } => {
            let mut backend = open(settings, request, Access::ReadWrite)
                .await
                .map_err(plain)?
                .expect("read-write access always opens");
            // The file, when there is one, is what the operator completed by hand.
            let set = load(settings).ok();
            let checksum = set
                .as_ref()
                .and_then(|s| s.get(*version))
                .map(|m| m.up.checksum.clone());
            let result = runner::resolve(&mut backend, *version, *resolution, checksum).await;
            backend.close().await;
            let current = result.map_err(plain)?;
            let what = match resolution {
                Resolution::Applied => "applied",
                Resolution::RolledBack => "rolled-back",
            };
            if json {
                print_json(&serde_json::json!({
                    "format_version": report::FORMAT_VERSION,
                    "changed": true,
                    "resolved": {"version": version, "as": what},
                    "current": current,
                }));
            } else if !request.quiet {
                print(&format!(
                    "resolved {version} as {what}; database is at version {}\n",
                    current.map_or("none".to_string(), |v| v.to_string())
                ));
            }
            Ok(0)
        }
    }
}

async fn finish(
    request: &Request,
    settings: &Settings,
    result: Result<Outcome>,
    mut progress: Progress,
    json_key: &'static str,
    verb: &str,
) -> std::result::Result<i32, Failure> {
    progress.live.clear();
    match result {
        Ok(outcome) => {
            if request.format == Format::Json {
                print_json(&report::outcome_json(&outcome, json_key));
            } else if !request.quiet {
                print(&report::outcome_human(&outcome, verb));
            }
            Ok(0)
        }
        Err(e) => {
            // The run's outcome never learnt the version the database is at; read it again
            // (read-only) so a JSON error document does not claim `current: null`.
            let mut partial = progress.partial;
            if let Ok((history, backend)) = read_history(settings, request).await {
                if let Some(b) = backend {
                    b.close().await;
                }
                partial.current = crate::history::current(&history);
            }
            Err((e, Some((partial, json_key))))
        }
    }
}

/// Prints a line per finished migration (human format) and keeps what ran, so a failure can
/// still say what changed before it. On a terminal it also draws the live progress line on stderr (either format).
struct Progress {
    human: bool,
    partial: Outcome,
    live: crate::progress::LiveLine,
}

impl Progress {
    fn new(request: &Request) -> Self {
        Progress {
            human: request.format == Format::Human && !request.quiet,
            partial: Outcome::default(),
            live: crate::progress::LiveLine::new(crate::progress::wanted(request.quiet)),
        }
    }

    fn event(&mut self, e: Event<'_>) {
        self.live.event(&e);
        if let Event::Done {
            migration,
            reverting,
            execution_ms,
        } = e
        {
            if self.human {
                print(&format!(
                    "{}  {}  {}  ({execution_ms} ms)\n",
                    if reverting { "reverted" } else { "applied" },
                    migration.version,
                    migration.description()
                ));
            }
            self.partial.applied.push(runner::Applied {
                version: migration.version,
                description: migration.description(),
                execution_ms,
            });
        }
    }
}

/// Where `verify` builds its scratch databases. Without `--dialect`: SQLite always, and the
/// configured MySQL/MariaDB server — which must be there when the schema directory holds
/// `mysql.sql`, since a check that did not run is not a pass.
fn verify_places(settings: &Settings, only: Option<Dialect>) -> Result<Vec<Place>> {
    let server = match place(settings) {
        Place::Sqlite => None,
        server => Some(server),
    };
    let no_server = || {
        Error::Usage(
            "verify: the MySQL/MariaDB half was not checked: no server is configured; give one with -d mysql://USER@HOST/DB (only its server is used, for scratch databases), or check SQLite alone with --dialect sqlite".to_string(),
        )
    };
    match only {
        Some(Dialect::Sqlite) => Ok(vec![Place::Sqlite]),
        Some(Dialect::Mysql) => Ok(vec![server.ok_or_else(no_server)?]),
        None => match server {
            Some(server) => Ok(vec![server, Place::Sqlite]),
            None if load_schema_for(settings, Dialect::Mysql)?.is_some() => Err(no_server()),
            None => Ok(vec![Place::Sqlite]),
        },
    }
}

fn place(settings: &Settings) -> Place {
    match &settings.database.value {
        config::DatabaseTarget::Sqlite { .. } => Place::Sqlite,
        config::DatabaseTarget::Mysql(t) => Place::Mysql(t.clone()),
    }
}

fn load_schema_file(settings: &Settings) -> Result<Option<source::SchemaFile>> {
    load_schema_for(settings, settings.database.value.dialect())
}

fn load_schema_for(settings: &Settings, dialect: Dialect) -> Result<Option<source::SchemaFile>> {
    source::load_schema_from(&shown(&settings.schema.value), dialect)
}

/// The live schema against the one expected at `version` (built from the configured schema
/// file or by replay): the differences and what was compared with.
async fn drift_at(
    settings: &Settings,
    request: &Request,
    conn: &mut Connection,
    set: &MigrationSet,
    version: u64,
) -> Result<(Vec<crate::schema::Difference>, String)> {
    let file = load_schema_file(settings)?;
    let table = TableName::new(&settings.table.value)?;
    survey::drift(
        conn,
        &place(settings),
        version,
        set,
        file.as_ref(),
        &table,
        timeouts(settings, request),
    )
    .await
}

/// Opens a database that must already exist (read-only): `schema dump`, `schema diff`.
async fn open_existing(settings: &Settings, request: &Request) -> Result<Connection> {
    open(settings, request, Access::ReadOnly)
        .await?
        .ok_or_else(|| Error::Connect {
            target: settings.database.value.redacted(),
            message: "the database file does not exist".into(),
        })
}

/// `check --drift`: the live schema against the one the history says it has (nothing to
/// compare when nothing is recorded).
async fn check_drift(
    settings: &Settings,
    request: &Request,
    conn: Option<&mut Connection>,
    set: &MigrationSet,
    current: Option<u64>,
) -> Result<Vec<plan::Finding>> {
    let (Some(conn), Some(version)) = (conn, current) else {
        return Ok(Vec::new());
    };
    if set.get(version).is_none() {
        // A missing file is already a problem of its own; there is nothing to build.
        return Ok(Vec::new());
    }
    let (differences, expected) = drift_at(settings, request, conn, set, version).await?;
    Ok(differences
        .iter()
        .map(|d| plan::Finding {
            kind: "drift".to_string(),
            version: Some(version),
            message: format!("drift from {expected}: {d}"),
        })
        .collect())
}

/// Before recording versions up to `version` on a database that has no history: its schema
/// must equal that version's. Returns the differences accepted with `--accept-drift`.
async fn guard_adoption(
    settings: &Settings,
    request: &Request,
    conn: &mut Connection,
    set: &MigrationSet,
    version: u64,
    accept_drift: bool,
    action: &str,
) -> Result<Vec<crate::schema::Difference>> {
    let (differences, expected) = drift_at(settings, request, conn, set, version).await?;
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

/// `baseline` and `adopt`: what was recorded, and any drift accepted.
fn print_recorded(
    request: &Request,
    outcome: &Outcome,
    accepted: &[crate::schema::Difference],
    revision: Option<&str>,
) {
    if request.format == Format::Json {
        let mut doc = report::outcome_json(outcome, "recorded");
        doc["accepted_drift"] = serde_json::json!(accepted);
        if let Some(r) = revision {
            doc["alembic_revision"] = serde_json::json!(r);
        }
        print_json(&doc);
        return;
    }
    if request.quiet {
        return;
    }
    if let Some(r) = revision {
        print(&format!(
            "Alembic revision {r} is version {}\n",
            outcome.current.unwrap_or(0)
        ));
    }
    if !accepted.is_empty() {
        print(&format!(
            "accepted drift ({} difference(s), still in the database):\n{}",
            accepted.len(),
            crate::schema::render_differences(accepted)
        ));
    }
    for a in &outcome.applied {
        print(&format!("baseline  {}  {}\n", a.version, a.description));
    }
    print(&report::outcome_human(outcome, "recorded"));
}

fn verify_human(v: &survey::Verification) -> String {
    let mut out = String::new();
    for c in &v.checks {
        if c.differences.is_empty() {
            out.push_str(&format!(
                "ok    {}: {} ({} ms)\n",
                c.name, c.compared, c.execution_ms
            ));
        } else {
            out.push_str(&format!(
                "FAIL  {}: {}: {} difference(s)\n{}",
                c.name,
                c.compared,
                c.differences.len(),
                crate::schema::render_differences(&c.differences)
            ));
        }
    }
    for s in &v.skipped {
        out.push_str(&format!("skip  {s}\n"));
    }
    out
}

fn settings_human(s: &Settings) -> String {
    format!(
        "settings:\n  database        {}  (from {})\n  migrations      {}  (from {})\n  schema          {}  (from {})\n  table           {}  (from {})\n  lock timeout    {}s  (from {})\n  connect timeout {}s  (from {})\n",
        s.database.value.redacted(),
        s.database.origin,
        location_human(&s.migrations.value, crate::embedded::describe()),
        s.migrations.origin,
        location_human(&s.schema.value, "embedded".to_string()),
        s.schema.origin,
        s.table.value,
        s.table.origin,
        s.lock_timeout.value.as_secs(),
        s.lock_timeout.origin,
        s.connect_timeout.value.as_secs(),
        s.connect_timeout.origin,
    )
}

/// A directory's path, or what to call the embedded files.
fn location_human(location: &Location, embedded: String) -> String {
    match location {
        Location::Dir(dir) => dir.display().to_string(),
        Location::Embedded => embedded,
    }
}

/// `add users table!` → `add_users_table`.
pub fn slugify(description: &str) -> String {
    let mut slug = String::new();
    for c in description.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('_') && !slug.is_empty() {
            slug.push('_');
        }
    }
    while slug.ends_with('_') {
        slug.pop();
    }
    slug
}

/// The next version for a directory: the UTC timestamp `YYYYMMDDHHMMSS`, or, in a directory
/// that numbers with short zero-padded sequence numbers, the next of those. Always above every
/// existing version.
pub fn next_version(existing: &[(u64, String)], now_utc: &str) -> String {
    let max = existing.iter().map(|e| e.0).max();
    let sequential = !existing.is_empty()
        && existing.iter().all(|(_, text)| text.len() < 14)
        && existing.iter().any(|(_, text)| text.starts_with('0'));
    if sequential {
        let width = existing.iter().map(|e| e.1.len()).max().unwrap_or(4);
        return format!("{:0width$}", max.unwrap_or(0) + 1);
    }
    let stamp: String = now_utc
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect();
    let stamp_num: u64 = stamp.parse().unwrap_or(0);
    match max {
        Some(m) if m >= stamp_num => (m + 1).to_string(),
        _ => stamp,
    }
}

fn new_migration(
    dir: &Path,
    description: &str,
    reversible: bool,
    dialects: &[Dialect],
) -> Result<Vec<PathBuf>> {
    let slug = slugify(description);
    if slug.is_empty() {
        return Err(Error::Usage(format!(
            "description {description:?} has no letters or digits to name the file with"
        )));
    }
    if !dir.exists() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Usage(format!("cannot create {}: {e}", dir.display())))?;
    }
    let existing: Vec<(u64, String)> = source::scan_dir(dir)?
        .into_iter()
        .map(|(n, _)| (n.version, n.version_text))
        .collect();
    let version = next_version(&existing, &crate::history::now_utc());
    let mut dialects = dialects.to_vec();
    dialects.sort();
    dialects.dedup();
    let variants: Vec<Option<Dialect>> = if dialects.is_empty() {
        vec![None]
    } else {
        dialects.into_iter().map(Some).collect()
    };
    let mut files = Vec::new();
    for d in &variants {
        let suffix = d.map(|d| format!(".{d}")).unwrap_or_default();
        files.push((
            dir.join(format!("{version}_{slug}{suffix}.sql")),
            format!(
                "-- {description}\n--\n-- Statements end with `;`. The file runs in one transaction with its history row;\n-- to run it outside one, start the file with the line `-- aurweb-migrate: no-transaction`.\n\n"
            ),
        ));
        if reversible {
            files.push((
                dir.join(format!("{version}_{slug}.down{suffix}.sql")),
                format!("-- revert: {description}\n\n"),
            ));
        }
    }
    let mut written = Vec::new();
    for (path, text) in files {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::Usage(format!("cannot create {}: {e}", path.display())))?;
        f.write_all(text.as_bytes())
            .map_err(|e| Error::Usage(format!("cannot write {}: {e}", path.display())))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("add foo index"), "add_foo_index");
        assert_eq!(slugify("Add Users table!"), "add_users_table");
        assert_eq!(slugify("  --x--y  "), "x_y");
        assert_eq!(slugify("ÄÖ"), "");
    }

    #[test]
    fn versions() {
        let now = "2026-11-26T15:04:05.123Z";
        assert_eq!(next_version(&[], now), "20261126150405");
        let seq = vec![(1, "0001".to_string()), (2, "0002".to_string())];
        assert_eq!(next_version(&seq, now), "0003");
        let ts = vec![(20240101120000, "20240101120000".to_string())];
        assert_eq!(next_version(&ts, now), "20261126150405");
        let future = vec![(20991231235959, "20991231235959".to_string())];
        assert_eq!(next_version(&future, now), "20991231235960");
        let plain = vec![(1, "1".to_string()), (2, "2".to_string())];
        assert_eq!(next_version(&plain, now), "20261126150405");
    }
}
