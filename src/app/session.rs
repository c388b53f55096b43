//! One invocation's context, built once from the resolved settings: the parsed version table
//! name, every timeout, the display form of paths, and the one way to open the target
//! database ([`Session::open`], [`Session::open_read_only`]) and to close it on every path
//! ([`Session::with_connection`]).

use std::path::{Path, PathBuf};

use super::request::Request;
use crate::backend::{Access, Backend, Connection, Timeouts};
use crate::compare::scratch::Place;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::history::{Row, TableName};
use crate::report::{self, Format, Render};
use crate::run::Outcome;
use crate::settings::{DatabaseTarget, Settings};
use crate::source::{self, Location, MigrationSet, SchemaFile};

pub(super) struct Session<'r> {
    pub request: &'r Request,
    pub settings: Settings,
    pub table: TableName,
    pub timeouts: Timeouts,
}

/// Migration files and, when the database could be opened alongside, its connection and
/// its history.
pub(super) struct Loaded {
    pub set: MigrationSet,
    pub conn: Option<Connection>,
    pub history: Vec<Row>,
}

impl<'r> Session<'r> {
    pub fn new(request: &'r Request, settings: Settings) -> Result<Session<'r>> {
        let table = TableName::new(&settings.table.value)?;
        let timeouts = Timeouts {
            connect: settings.connect_timeout.value,
            lock: settings.lock_timeout.value,
            statement: settings.statement_timeout.value,
            ddl_lock: settings.ddl_lock_wait.value,
        };
        Ok(Session {
            request,
            settings,
            table,
            timeouts,
        })
    }

    /// The configured database's dialect.
    pub fn dialect(&self) -> Dialect {
        self.settings.database.value.dialect()
    }

    /// The database as messages show it (password as `***`).
    pub fn database(&self) -> String {
        self.settings.database.value.redacted()
    }

    pub fn json(&self) -> bool {
        self.request.format == Format::Json
    }

    /// Prints a command's result in the requested format.
    pub fn emit(&self, result: &impl Render) {
        report::emit(result, self.request.format, self.request.quiet);
    }

    /// Where scratch databases go: the configured server, or SQLite files.
    pub fn place(&self) -> Place {
        match &self.settings.database.value {
            DatabaseTarget::Sqlite { .. } => Place::Sqlite,
            DatabaseTarget::Mysql(t) => Place::Mysql(t.clone()),
        }
    }

    /// The migration set for the configured database's dialect.
    pub fn load(&self) -> Result<MigrationSet> {
        self.load_for(self.dialect())
    }

    /// The migration set for `dialect` (`verify`, `upgrade --sql`).
    pub fn load_for(&self, dialect: Dialect) -> Result<MigrationSet> {
        source::load_from(&shown(self.migrations()?), dialect)
    }

    /// The migrations to read ([`Settings::migrations_to_read`]: never the built-in set
    /// unless asked for).
    pub fn migrations(&self) -> Result<&Location> {
        self.settings.migrations_to_read()
    }

    /// The schema file for the configured database's dialect, when the schema directory has one.
    pub fn schema(&self) -> Result<Option<SchemaFile>> {
        self.schema_for(self.dialect())
    }

    pub fn schema_for(&self, dialect: Dialect) -> Result<Option<SchemaFile>> {
        source::load_schema_from(&shown(&self.settings.schema.value), dialect)
    }

    /// The schema command, when one is configured.
    pub fn schema_command(&self) -> Option<crate::compare::command::SchemaCommand> {
        let argv = self.settings.schema_command.value.clone()?;
        Some(crate::compare::command::SchemaCommand {
            argv,
            timeout: self.settings.schema_command_timeout.value,
            aur_config: self.settings.aur_config.clone(),
        })
    }

    /// The desired schema for `dialect`: with a schema command, its rendering of what the
    /// command built in a scratch database (MySQL: on the configured server, `None` without
    /// one); else the schema directory's file.
    pub async fn desired_for(&self, dialect: Dialect) -> Result<Option<SchemaFile>> {
        let Some(command) = self.schema_command() else {
            return self.schema_for(dialect);
        };
        let place = match (dialect, self.place()) {
            (Dialect::Sqlite, _) => Place::Sqlite,
            (Dialect::Mysql, Place::Mysql(server)) => Place::Mysql(server),
            (Dialect::Mysql, Place::Sqlite) => return Ok(None),
        };
        let set = self.load_for(dialect)?;
        let path = crate::compare::command::desired_path(dialect);
        crate::compare::command::desired(&command, &place, &set, path, &self.table, self.timeouts)
            .await
            .map(Some)
    }

    /// [`Session::desired_for`] the configured database's dialect.
    pub async fn desired(&self) -> Result<Option<SchemaFile>> {
        self.desired_for(self.dialect()).await
    }

    async fn connect(&self, access: Access) -> Result<Option<Connection>> {
        Connection::open(
            &self.settings.database.value,
            access,
            self.table.clone(),
            self.timeouts,
        )
        .await
    }

    /// Opens the database for writing (a missing SQLite file is created).
    pub async fn open(&self) -> Result<Connection> {
        self.connect(Access::ReadWrite)
            .await?
            .ok_or_else(|| Error::Connect {
                target: self.database(),
                message: "the database could not be opened for writing".into(),
            })
    }

    /// Opens the database without writing: `None` for a SQLite file that does not exist (its
    /// migrations are all pending, and nothing is created).
    pub async fn open_read_only(&self) -> Result<Option<Connection>> {
        self.connect(Access::ReadOnly).await
    }

    /// Opens a database that must already exist, read-only (`schema dump`, `schema diff`).
    pub async fn open_existing(&self) -> Result<Connection> {
        self.open_read_only().await?.ok_or_else(|| Error::Connect {
            target: self.database(),
            message: "the database file does not exist".into(),
        })
    }

    /// Runs `f` on `conn` and closes it afterwards, whatever `f` returned.
    pub async fn with_connection<T>(
        &self,
        mut conn: Connection,
        f: impl AsyncFnOnce(&mut Connection) -> Result<T>,
    ) -> Result<T> {
        let result = f(&mut conn).await;
        conn.close().await;
        result
    }

    /// Reads the migration files on other threads while the database opens on this one: on
    /// SQLite, opening means parsing the whole schema, which takes as long as reading 1,000
    /// files, so the two overlap. Nothing is written before the files are known to be valid: a
    /// missing SQLite file that read-write access would create is opened only afterwards
    /// (`conn` is then `None`), and on an input error the connection is closed unused.
    ///
    /// The names are listed first, on this thread; a small set (under
    /// [`source::PARALLEL_FROM`] files) is then read here too, before the database opens:
    /// starting a thread costs more than the overlap saves at that size.
    pub async fn load_and_open(&self, access: Access) -> Result<Loaded> {
        let listing = source::list(&shown(self.migrations()?), self.dialect())?;
        // Read already, or being read on a thread.
        let reading = match listing.files() < source::PARALLEL_FROM {
            true => Ok(listing.load()?),
            false => Err(std::thread::spawn(move || listing.load())),
        };
        let defer = access == Access::ReadWrite
            && matches!(&self.settings.database.value, DatabaseTarget::Sqlite { path } if !path.exists());
        let opened = if defer {
            Ok((None, Vec::new()))
        } else {
            async {
                let mut conn = self.connect(access).await?;
                let history = match conn.as_mut() {
                    Some(b) => b.read_history().await?,
                    None => Vec::new(),
                };
                Ok((conn, history))
            }
            .await
        };
        let set = match reading {
            Ok(set) => Ok(set),
            Err(loader) => loader.join().unwrap_or(Err(Error::ReadingMigrationsFailed)),
        };
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

    /// The history as it is now, read-only (empty for a database that does not exist).
    pub async fn read_history(&self) -> Result<Vec<Row>> {
        match self.open_read_only().await? {
            Some(conn) => {
                self.with_connection(conn, async |c| c.read_history().await)
                    .await
            }
            None => Ok(Vec::new()),
        }
    }
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
pub(super) fn display_path(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| path.to_path_buf())
}

/// An error, with what the run changed before it and the JSON key that lists those changes.
pub(super) type Failure = (Error, Option<(Outcome, &'static str)>);

/// A failure that changed nothing.
pub(super) fn plain(e: Error) -> Failure {
    (e, None)
}
