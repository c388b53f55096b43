//! Typed errors of the library. Each user-visible failure is its own variant whose message
//! says what went wrong and, where it helps, what to do next; [`Error::exit_code`] maps it onto
//! the documented exit codes (docs/reference.md, "Exit codes").

use std::fmt;
use std::path::PathBuf;

use crate::problem::Problem;

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A problem with one input file, pointing at a line where one is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The file, as the user named it (relative to the migrations directory's parent when given so).
    pub path: PathBuf,
    /// 1-based line, when the problem has one.
    pub line: Option<u32>,
    /// Lowercase message without a trailing period.
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path.display(), line, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

/// Every failure the library reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad arguments or configuration (exit 2).
    #[error("{0}")]
    Usage(String),

    /// What the schema tooling refuses to do with a model (exit 2).
    #[error(transparent)]
    Schema(#[from] crate::schema::SchemaError),

    // -----------------------------------------------------------------------------------------
    // The tool's settings: flags, the TOML config file, aurweb's INI file (exit 2, kind usage).
    // A value that can be pointed at says `path:line`.
    /// The TOML config file or aurweb's INI file does not parse: the parser's message, at the
    /// line it names (exit 2).
    #[error("{0}")]
    Syntax(InputError),

    /// A database URL that does not parse (exit 2). `url` has its password replaced by `***`;
    /// `context` names where the URL came from (`--database-url`, `file:line`, …).
    #[error("{}invalid database URL \"{url}\": {why}", Context(.context))]
    InvalidUrl {
        context: Option<String>,
        url: String,
        why: String,
    },

    /// A version-table name that is not an identifier the tool accepts (exit 2). `context`
    /// names where it came from (`--table`, `file:line`).
    #[error("{}invalid table name {name:?}: it must be 1 to 64 characters, letters, digits and underscores, not starting with a digit", Context(.context))]
    InvalidTableName {
        context: Option<String>,
        name: String,
    },

    /// The cluster lock table's name (the version table's plus `_lock`) is too long (exit 2).
    #[error("on a cluster the lock table is named after the version table ({name}), which makes it longer than 64 characters: choose a shorter --table")]
    LockTableNameTooLong { name: String },

    /// An output option (`format`, `-v`, …) in the config file: they are chosen per command
    /// (exit 2).
    #[error("{}:{line}: {key} is not a config file setting: output options are chosen per command (pass {flag}), so that a shared config cannot change what a script or a person reads", .path.display())]
    NotAFileSetting {
        path: PathBuf,
        line: usize,
        key: &'static str,
        flag: &'static str,
    },

    /// The config file's `ssl_mode` is none of the modes (exit 2).
    #[error("{}:{line}: ssl_mode {value:?}: expected one of {}", .path.display(), .expected.join(", "))]
    BadSslMode {
        path: PathBuf,
        line: usize,
        value: String,
        expected: &'static [&'static str],
    },

    /// The config file gives one of `ssl_cert` and `ssl_key` without the other (exit 2).
    #[error("{}: ssl_cert and ssl_key go together", .path.display())]
    CertWithoutKey { path: PathBuf },

    /// `--connect-timeout 0` (exit 2).
    #[error("--connect-timeout: must be at least 1 second")]
    ZeroConnectTimeout,

    /// A `--max-algorithm`/`--max-lock` value (flag or TOML key) that is not one of the
    /// known ones (exit 2).
    #[error("{place}: {value:?} is not one of {allowed}")]
    BadDdlGate {
        place: String,
        value: String,
        allowed: String,
    },

    /// `--max-algorithm`/`--max-lock` with `--no-probes` (exit 2): the gates need the
    /// rehearsal that `--no-probes` turns off.
    #[error("--max-algorithm and --max-lock need the rehearsal on an empty copy of the tables, which --no-probes turns off; drop one or the other")]
    GatesWithoutRehearsal,

    /// A pending DDL statement's plan is over `--max-algorithm`/`--max-lock` (exit 8): the run
    /// is refused before its first statement, nothing is applied, the migrations stay
    /// pending. `unproven`: the rehearsal did not reach every statement, so the gates cannot
    /// be checked for the rest.
    #[error("{}", ddl_gate(.offending, .unproven.as_deref()))]
    DdlGate {
        offending: Vec<(crate::schema::ddl::Ddl, String)>,
        unproven: Option<String>,
    },

    /// `connect_timeout = 0` in the config file (exit 2).
    #[error("{}:{line}: connect_timeout must be at least 1 second", .path.display())]
    ZeroConnectTimeoutInFile { path: PathBuf, line: usize },

    /// The TLS client key cannot be read (exit 2).
    #[error("ssl-key {}: cannot read it: {message}", .path.display())]
    UnreadableKey { path: PathBuf, message: String },

    /// The TLS client key is readable by others than its owner (exit 2); `mode` is its
    /// permission bits.
    #[error("ssl-key {}: the key is readable by others (mode {mode:03o}); allow its owner only: chmod 600 {}", .path.display(), .path.display())]
    OpenKey { path: PathBuf, mode: u32 },

    /// The config file's `password_file` cannot be read (exit 2).
    #[error("{}: cannot read password_file {}: {message}", .config.display(), .path.display())]
    UnreadablePasswordFile {
        config: PathBuf,
        path: PathBuf,
        message: String,
    },

    /// The config file's `password_file` is empty (exit 2).
    #[error("{}: password_file {} is empty", .config.display(), .path.display())]
    EmptyPasswordFile { config: PathBuf, path: PathBuf },

    /// aurweb's config file is not UTF-8 (exit 2).
    #[error("{}: not valid UTF-8", .path.display())]
    NotUtf8 { path: PathBuf },

    /// aurweb's config (`path`, over `defaults` when that file exists) has no `[database]`
    /// section (exit 2).
    #[error("{}: no [database] section", IniFiles(.path, .defaults))]
    NoDatabaseSection {
        path: PathBuf,
        defaults: Option<PathBuf>,
    },

    /// aurweb's config lacks a `[database]` key the target needs, or leaves it empty (exit 2).
    #[error("{}: [database] has no \"{key}\"", IniFiles(.path, .defaults))]
    MissingDatabaseKey {
        path: PathBuf,
        defaults: Option<PathBuf>,
        key: &'static str,
    },

    /// aurweb's config has a `[database] port` that is not 1-65535 (exit 2).
    #[error("{}:{line}: invalid port \"{value}\" (expected 1-65535)", .path.display())]
    BadPort {
        path: PathBuf,
        line: usize,
        value: String,
    },

    /// aurweb's config names a `[database] backend` other than mysql and sqlite (exit 2).
    #[error("{}:{line}: unknown database backend \"{value}\" (expected mysql or sqlite)", .path.display())]
    UnknownBackend {
        path: PathBuf,
        line: usize,
        value: String,
    },

    // -----------------------------------------------------------------------------------------
    // Files and directories a command reads or writes, and what a command needs that the
    // invocation does not give (exit 2, kind usage).
    /// A file or directory the tool creates cannot be created (exit 2).
    #[error("cannot create {}: {error}", .path.display())]
    CannotCreate {
        path: PathBuf,
        error: std::io::Error,
    },

    /// A file the tool writes cannot be written (exit 2).
    #[error("cannot write {}: {error}", .path.display())]
    CannotWrite {
        path: PathBuf,
        error: std::io::Error,
    },

    /// The thread that reads the migrations stopped without an answer (exit 2).
    #[error("reading the migrations failed")]
    ReadingMigrationsFailed,

    /// A directory of migrations that holds none (exit 2).
    #[error("no migrations in {}", .dir.display())]
    NoMigrations { dir: PathBuf },

    /// `new`'s description gives nothing to name the file with (exit 2).
    #[error("description {description:?} has no letters or digits to name the file with")]
    NoNameInDescription { description: String },

    /// `new` with the embedded migrations, which are not files (exit 2). `origin` says why
    /// they are the ones in use.
    #[error("the migrations in use are the ones built into aurweb-migrate ({origin}); `new` writes files, so create a migrations directory (mkdir migrations) or pass -m DIR")]
    NewWithEmbedded { origin: String },

    /// `new --autogenerate` with the embedded migrations (exit 2).
    #[error("new --autogenerate writes files, but the migrations in use are the ones built into aurweb-migrate ({origin}); pass -m DIR")]
    AutogenerateWithEmbedded { origin: String },

    /// `new --autogenerate` with the embedded schema (exit 2).
    #[error("new --autogenerate reads and writes the schema directory, but the schema in use is the built-in one; pass --schema DIR")]
    AutogenerateWithEmbeddedSchema,

    /// `new --autogenerate` with a schema directory that holds no schema file (exit 2).
    #[error("new --autogenerate compares the schema files with the migrations, and {} has neither mysql.sql nor sqlite.sql", .dir.display())]
    AutogenerateWithoutSchema { dir: PathBuf },

    /// `new --autogenerate` with a MySQL schema file and no server to read it on (exit 2).
    #[error("new --autogenerate reads {} into scratch databases on a MySQL/MariaDB server: give one with -d mysql://USER@HOST/DB (only its server is used, as for verify)", .path.display())]
    AutogenerateNeedsServer { path: PathBuf },

    /// `new --autogenerate --redo` with no migration to replace (exit 2).
    #[error("new --autogenerate --redo: no migration in {} to replace; run it without --redo", .dir.display())]
    NothingToRedo { dir: PathBuf },

    /// `new --autogenerate --redo` on a newest migration that is not an untouched draft
    /// (exit 2): `why` says which.
    #[error("new --autogenerate --redo: {} {why}; nothing was written", .path.display())]
    RedoNotADraft { path: PathBuf, why: String },

    /// `new --autogenerate --redo` on a version a database has a row for (exit 5).
    #[error("new --autogenerate --redo: version {version} is recorded ({state}) in {database}, and a migration a database has recorded is not replaced: write the change as a new migration (new --autogenerate without --redo); nothing was written")]
    RedoRecorded {
        version: u64,
        state: String,
        database: String,
    },

    /// `new --autogenerate --redo` that finds no changes for a first migration (exit 2):
    /// nothing would be left for the schema files' `schema-version` line.
    #[error("new --autogenerate --redo: replacing version {version}, the only migration, with nothing would leave the schema files' schema-version line without a migration; delete its files by hand instead; nothing was written")]
    RedoToNothing { version: u64 },

    /// The version `new` would write is not a number (exit 2).
    #[error("the next version {version} is not a number")]
    VersionNotNumber { version: String },

    /// `verify` without the schema file of a dialect it checks (exit 2). `place` names the
    /// schema directory, or the embedded schema.
    #[error("verify: no {file} in {place}: verify compares that file (the full current schema, headed `-- schema-version: N`) with a replay of {}; write it, or point --schema at the directory holding it", .migrations.display())]
    VerifyWithoutSchema {
        file: String,
        place: String,
        migrations: PathBuf,
    },

    /// `schema init` would overwrite a schema file (exit 2).
    #[error("schema init: {} exists; pass --force to replace it; nothing was written", .path.display())]
    SchemaFileExists { path: PathBuf },

    /// `schema init` with the built-in migrations or schema, which are not files (exit 2).
    #[error("schema init writes the schema file of a project's migrations: give its directory with -m DIR (the schema goes to the `schema` directory beside it, or --schema DIR); the built-in migrations come with their schema")]
    SchemaInitWithEmbedded,

    /// `schema init --dialect mysql` without a server to replay the migrations on (exit 2).
    #[error("schema init --dialect mysql replays the migrations in a scratch database on a MySQL/MariaDB server: give one with -d mysql://USER@HOST/DB (only its server is used)")]
    SchemaInitNeedsServer,

    /// `schema init` for MySQL of migrations that leave objects its renderer does not write
    /// (exit 2).
    #[error("schema init: the migrations leave {} on MySQL/MariaDB, which the schema file written from the model cannot hold (it writes tables, keys, indexes and rows): write schema/mysql.sql by hand, or initialise SQLite's alone with --dialect sqlite; nothing was written", .objects.join(", "))]
    SchemaInitUnsupported { objects: Vec<String> },

    /// The schema file `schema init` wrote does not pass `verify` (exit 1): a limit or a bug of
    /// its renderer; nothing was written.
    #[error("schema init: what it would write does not pass verify ({}), so nothing was written; a difference between the MySQL and SQLite replays is the migrations' (initialise one dialect with --dialect, or make them agree), any other is a limit or a bug of aurweb-migrate's schema writer (please report it with the differences):\n{}", .checks.join(", "), crate::schema::render_differences(.differences))]
    SchemaInitSelfCheck {
        checks: Vec<String>,
        differences: Vec<crate::schema::Difference>,
    },

    /// `verify` of MySQL/MariaDB without a server to build it on (exit 2).
    #[error("verify: the MySQL/MariaDB half was not checked: no server is configured; give one with -d mysql://USER@HOST/DB (only its server is used, for scratch databases), or check SQLite alone with --dialect sqlite")]
    VerifyNeedsServer,

    /// A schema file `command` reads is not in `place` (exit 2).
    #[error("{command}: no {file} in {place}")]
    NoSchemaFile {
        command: &'static str,
        file: String,
        place: String,
    },

    /// `schema render` of MySQL, which is the source the SQLite file is rendered from (exit 2).
    #[error("schema render: schema/mysql.sql is the source; render --dialect sqlite from it")]
    RenderFromMysqlOnly,

    /// `schema render` without a server to read the MySQL schema on (exit 2).
    #[error("schema render --dialect sqlite reads schema/mysql.sql into a scratch database on a MySQL/MariaDB server: give one with -d mysql://USER@HOST/DB (only its server is used)")]
    RenderNeedsServer,

    // -----------------------------------------------------------------------------------------
    // Database errors outside a migration (exit 3, kind database). `target` names the
    // database: a file's path, or a redacted URL.
    /// The database answered with an error (exit 3). `action` says what the tool was doing,
    /// where it helps (`reading the catalogue`).
    #[error("database error: {target}: {}{message}", Context(.action))]
    DatabaseFailed {
        target: String,
        action: Option<&'static str>,
        message: String,
    },

    /// A row of the version table that the tool cannot read (exit 3).
    #[error("database error: {target}: unreadable row in version table {table}: {message}")]
    UnreadableRow {
        target: String,
        table: String,
        message: String,
    },

    /// The server went silent (exit 3): no answer within the lock and connect timeouts.
    #[error("database error: {target}: the connection was lost: no answer within {seconds}s (--lock-timeout + --connect-timeout)")]
    ConnectionLost { target: String, seconds: u64 },

    /// The server went silent while the tool waited for the migration lock (exit 3).
    #[error("database error: {target}: the connection was lost while waiting for the migration lock (no answer to GET_LOCK within {seconds}s)")]
    LostWaitingForLock { target: String, seconds: u64 },

    /// `GET_LOCK` answered NULL (exit 3).
    #[error("database error: {target}: GET_LOCK({name:?}) failed")]
    GetLockFailed { target: String, name: String },

    /// Another runner took the cluster's lease over from this silent one (exit 3).
    #[error("database error: {target}: the cluster's migration lock was taken over by another runner (this one was silent for longer than the lease): stopped before writing anything more")]
    LeaseTakenOver { target: String },

    /// A scratch database was asked for with a collation that is not a plain name (exit 3).
    #[error("database error: unexpected collation name {name:?}")]
    BadCollation { name: String },

    /// A scratch database cannot be made on the server (exit 3); `database` is the configured
    /// one, whose name prefixes the scratch databases'.
    #[error("database error: cannot create the scratch database {name} (the tool builds the expected schema there; the user needs CREATE and DROP on `{database}\\_migrate\\_%`): {error}")]
    ScratchDatabase {
        name: String,
        database: String,
        error: Box<Error>,
    },

    /// The schema command could not be started (exit 2).
    #[error("the schema command `{command}` could not be run: {message}")]
    SchemaCommandSpawn { command: String, message: String },

    /// The schema command failed (exit 2); its output is shown.
    #[error("the schema command `{command}` failed ({status}); its output:\n{output}")]
    SchemaCommandFailed {
        command: String,
        status: String,
        output: String,
    },

    /// The schema command ran longer than its time limit and was killed (exit 2).
    #[error("the schema command `{command}` did not finish within {seconds}s (schema_command_timeout) and was killed; its output so far:\n{output}")]
    SchemaCommandTimedOut {
        command: String,
        seconds: u64,
        output: String,
    },

    /// The schema command succeeded but built no table (exit 2).
    #[error("the schema command `{command}` exited 0 but created no table in the {dialect} scratch database (does it read AURWEB_MIGRATE_SCRATCH_URL or the AUR_CONFIG it is given?)")]
    SchemaCommandBuiltNothing {
        command: String,
        dialect: crate::dialect::Dialect,
    },

    /// A directory for SQLite scratch files cannot be made (exit 3).
    #[error("database error: cannot create {}: {error}", .path.display())]
    ScratchDirectory {
        path: PathBuf,
        error: std::io::Error,
    },

    /// Every name tried for a scratch directory is taken (exit 3); `last` is the last one.
    #[error("database error: cannot create a scratch directory: {} and 15 others exist", .last.display())]
    ScratchDirectoriesTaken { last: PathBuf },

    /// A database file (or a companion: `-wal`, …) cannot be removed (exit 3).
    #[error("database error: cannot remove {}: {error}", .path.display())]
    CannotRemove {
        path: PathBuf,
        error: std::io::Error,
    },

    // -----------------------------------------------------------------------------------------
    // Writes that cannot be made, said with everything left as it was (exit 3, kind
    // not-writable): the database cannot take the run's writes (a read-only server, a replica;
    // an account that may not write the version table), or `config upgrade` cannot replace the
    // site config file.
    /// The server is read-only (a replica?): `setting` (`read_only`, `innodb_read_only`) is ON
    /// (exit 3).
    #[error("{target}: the server is read-only ({setting}=ON: a replica?); nothing was written: run the upgrade against the primary")]
    ServerReadOnly {
        target: String,
        setting: &'static str,
    },

    /// The SQLite database file cannot be written: `why` says whether the file (no write
    /// permission bit, or this user may not open it for writing) or its directory (where SQLite
    /// writes its journal) is the reason, or what SQLite said when it refused a write (exit 3).
    #[error("{}: {why}; nothing was written: make it writable for the user running the tool, or run as a user who may write it", .path.display())]
    DatabaseFileNotWritable { path: PathBuf, why: String },

    /// The server refused a probe write with `ER_OPTION_PREVENTS_STATEMENT` (exit 3).
    #[error("{target}: the server refuses writes ({message}); nothing was written: run the upgrade against the primary")]
    ServerRefusesWrites { target: String, message: String },

    /// The account may not write the version table (exit 3).
    #[error("{target}: {account} may not write the version table {table}: {message}; nothing was written: grant it CREATE, INSERT, UPDATE and DELETE on the database (and what the migrations need), or run as an account that has them")]
    AccountMayNotWrite {
        target: String,
        account: String,
        table: String,
        message: String,
    },

    /// `config upgrade`: the site config file (or its directory) cannot be looked at (exit 3).
    #[error("cannot write {}: {message}; nothing was written", .path.display())]
    SiteConfigUnwritable { path: PathBuf, message: String },

    /// `config upgrade`: the site config file has no write permission bit (exit 3).
    #[error("cannot write {}: the file is read-only (mode {mode:04o}); nothing was written", .path.display())]
    SiteConfigReadOnly { path: PathBuf, mode: u32 },

    /// `config upgrade`: the site config file's directory, where its replacement is written
    /// first, is read-only (exit 3).
    #[error("cannot write {}: its directory {} is read-only (mode {mode:04o}), and the file is replaced through a temporary file there; nothing was written", .path.display(), .dir.display())]
    SiteConfigDirectoryReadOnly {
        path: PathBuf,
        dir: PathBuf,
        mode: u32,
    },

    /// `config upgrade`: replacing the site config file failed at `step` (exit 3); the file is
    /// unchanged.
    #[error("cannot write {} ({step}: {message}); the file is unchanged", .path.display())]
    SiteConfigWriteFailed {
        path: PathBuf,
        step: &'static str,
        message: String,
    },

    // -----------------------------------------------------------------------------------------
    // Refusals other than a history conflict (exit 5, kind refused).
    /// `adopt --from alembic` on a database without `alembic_version` (exit 5).
    #[error("refusing to run: the database has no alembic_version table, so Alembic does not manage it; adopt it with `aurweb-migrate baseline VERSION` instead")]
    NotAlembic,

    /// `adopt --from alembic` on an empty `alembic_version` (exit 5).
    #[error("refusing to run: alembic_version is empty: Alembic never recorded a revision on this database")]
    AlembicEmpty,

    /// `adopt --from alembic` on a branched Alembic history (exit 5).
    #[error("refusing to run: alembic_version holds {} revisions ({}): a branched Alembic history has no single version to adopt", .revisions.len(), .revisions.join(", "))]
    AlembicBranched { revisions: Vec<String> },

    /// `adopt --from alembic` on a revision no migration declares (exit 5). `known` lists the
    /// declared revisions and their versions.
    #[error("refusing to run: Alembic revision {revision} is not declared by any migration in {} (known: {})", .dir.display(), list_revisions(.known))]
    UnknownAlembicRevision {
        revision: String,
        dir: PathBuf,
        known: Vec<(String, u64)>,
    },

    /// `config upgrade`: the file's recorded state cannot be trusted, for the reason given
    /// (exit 5).
    #[error("refusing to run: {why}; nothing was written")]
    SiteConfigConflict { why: String },

    /// `config upgrade` (or its dry run): operations whose target is ambiguous (exit 5).
    #[error("refusing to run: {}: {} operation{} with an ambiguous target; nothing was written{}", .file.display(), .ambiguous.len(), if .ambiguous.len() == 1 { "" } else { "s" }, list_ambiguous(.ambiguous))]
    SiteConfigAmbiguous {
        file: PathBuf,
        ambiguous: Vec<Ambiguity>,
    },

    // -----------------------------------------------------------------------------------------
    // Migration files, the connection, the run.
    /// A version named by a flag (`--to`, `--from`) that no migration has (exit 2).
    #[error("{flag} {version}: no migration has that version in {}", .dir.display())]
    UnknownVersion {
        flag: &'static str,
        version: u64,
        dir: PathBuf,
    },

    /// No migrations were configured and `./migrations` does not exist (exit 2): the set built
    /// into the binary is used only when asked for. `config` says what was found of a config file.
    #[error("no migrations directory here: {} does not exist, and {config}; create it with `aurweb-migrate new DESCRIPTION`, pass -m DIR, or use aurweb's migrations built into this binary with `-m builtin` (`migrations = \"builtin\"` in aurweb-migrate.toml)", .dir.display())]
    NoMigrationsDirectory { dir: PathBuf, config: String },

    /// `builtin` given for the migrations while a directory of that name exists (exit 2).
    #[error("{place}: \"builtin\" names the migrations built into this binary, but there is also a directory {}; write ./builtin for the directory", .dir.display())]
    BuiltinIsADirectory { place: String, dir: PathBuf },

    /// The migrations directory does not exist (exit 2).
    #[error("migrations directory {} does not exist (create one with `aurweb-migrate new DESCRIPTION`, or point --migrations at it)", .path.display())]
    MissingDirectory { path: PathBuf },

    /// A directory the tool must read cannot be read (exit 2). `what` names it for people
    /// (`migrations directory `, or empty).
    #[error("cannot read {what}{}: {message}", .path.display())]
    Unreadable {
        what: &'static str,
        path: PathBuf,
        message: String,
    },

    /// One or more migration files are malformed (exit 2). Every problem found is listed.
    #[error("{}", list_input(.0))]
    Input(Vec<InputError>),

    /// The database cannot be reached or opened (exit 3).
    #[error("cannot connect to {target}: {message}")]
    Connect { target: String, message: String },

    /// The MySQL/MariaDB server did not answer within `--connect-timeout` (exit 3, kind
    /// connect).
    #[error("cannot connect to {target}: no answer within {seconds}s (--connect-timeout)")]
    ConnectTimedOut { target: String, seconds: u64 },

    /// A database error outside a migration (exit 3).
    #[error("database error: {0}")]
    Database(String),

    /// A migration failed (exit 4).
    #[error("{}", .0)]
    MigrationFailed(Box<MigrationFailure>),

    /// The database's history conflicts with the files (exit 5).
    #[error("refusing to run: the database's history does not match the migration files\n{}", list_problems(.0))]
    Refused(Vec<Problem>),

    /// Building a database from a schema file failed (exit 4).
    #[error("{path}:{line}: {message}\nbuilding the database from {path} failed at statement {statement} of {total}; {cleanup}", path = .path.display())]
    InstallFailed {
        path: PathBuf,
        line: u32,
        message: String,
        statement: usize,
        total: usize,
        /// What became of the tables created before the failure.
        cleanup: Cleanup,
    },

    /// A read-only query (a probe of the live rows) ran past `--statement-timeout` and was
    /// cancelled (exit 3).
    #[error("database error: {target}: a read-only query did not finish within {seconds}s (--statement-timeout) and was cancelled")]
    QueryTimedOut { target: String, seconds: u64 },

    /// A probe of the live rows ran past `--statement-timeout` and was cancelled (exit 3): what
    /// the rows hold for that tightening is not known, so the run stops rather than pass it.
    #[error("{file}:{line}: the probe of the live rows of {table} for the {rule} ({columns}) did not finish within {seconds}s (--statement-timeout) and was cancelled: what they hold is not known, so it is not passed; raise --statement-timeout (or run it when the table is not locked), or pass --no-probes")]
    ProbeTimedOut {
        file: String,
        line: u32,
        table: String,
        rule: &'static str,
        columns: String,
        seconds: u64,
    },

    /// Refused for a reason other than a history conflict (exit 5).
    #[error("refusing to run: {0}")]
    RefusedBecause(String),

    /// Live rows break what a pending statement adds (exit 7): a new key their values
    /// duplicate, a NOT NULL their NULLs break, a foreign key their orphans break, … (the
    /// probes). `during`: `None` when the probes ran before anything of the run (nothing of it
    /// ran, the migrations stay pending); else the probe ran in the run, right before a
    /// statement, and the migration stopped there as if that statement had failed.
    #[error("{}", data_violation(.violations, .during.as_deref()))]
    DataViolation {
        violations: Vec<crate::schema::probe::Violation>,
        during: Option<Box<MigrationFailure>>,
    },

    /// The live schema is not the one expected (exit 5): adoption refused.
    #[error("refusing to {action}: the database's schema differs from {expected} in {} place(s):\n{}{hint}", .differences.len(), crate::schema::render_differences(.differences))]
    Drift {
        action: String,
        expected: String,
        differences: Vec<crate::schema::Difference>,
        hint: String,
    },

    /// `new --autogenerate`'s drafts do not produce the schema they were made for (exit 1):
    /// a bug in the generator; nothing was written.
    #[error("the generated {dialect} migration does not produce {expected}: {} difference(s) remain after applying it; nothing was written (this is a bug in aurweb-migrate's generator: please report it with the draft below)\n{}the draft:\n{draft}", .differences.len(), crate::schema::render_differences(.differences))]
    SelfCheck {
        dialect: crate::dialect::Dialect,
        expected: String,
        differences: Vec<crate::schema::Difference>,
        draft: String,
    },

    /// `new --autogenerate`'s draft failed when applied to the replay (exit 1): a bug in the
    /// generator; nothing was written.
    #[error("the generated {dialect} migration failed when applied to a replay of the migrations in a scratch database: {message}; nothing was written. Either the change needs statements the generator does not write (the review markers in the draft say which), or this is a bug in aurweb-migrate's generator (please report it with the draft below)\nthe draft:\n{draft}")]
    SelfCheckFailed {
        dialect: crate::dialect::Dialect,
        message: String,
        draft: String,
    },

    /// SIGINT or SIGTERM stopped the run (exit 130 or 143): `state` says what the database was
    /// left in.
    #[error("interrupted by {signal}: {state}")]
    Interrupted { signal: &'static str, state: String },

    /// The migration lock was not had in time (exit 6).
    #[error("timed out after {seconds}s waiting for the migration lock{}", holder.as_ref().map(|h| format!(" (held by {h})")).unwrap_or_default())]
    LockTimeout {
        seconds: u64,
        holder: Option<String>,
    },

    /// A DDL statement did not get its metadata lock within `--ddl-lock-wait`, retries
    /// included (exit 6, kind `metadata-lock`): nothing of that statement ran, and the
    /// migration stopped there as if it had failed (`failed`). `blockers`: the sessions that
    /// may hold the lock.
    #[error("{}", MetadataLock(.blockers, .failed))]
    MetadataLockTimeout {
        blockers: Vec<Blocker>,
        failed: Box<MigrationFailure>,
    },

    // run/ and plan: the runner, `upgrade --sql`, and the commands around them (app's upgrade,
    // record and mod, cli.rs, main.rs).
    /// A database with tables but no history (exit 5): it must be adopted first.
    #[error("refusing to run: {}", .0.reason())]
    Unmanaged(Problem),

    /// A migration that runs as one transaction is larger than the cluster replicates
    /// (exit 3); nothing was run.
    #[error("database error: {}: this migration runs as one transaction of at least {bytes} bytes of statements, more than the cluster's {setting} of {limit}; split it into several migrations, or raise {setting} (nothing was run)", .path.display())]
    TransactionTooLarge {
        path: PathBuf,
        bytes: u64,
        setting: &'static str,
        limit: u64,
    },

    /// A statement larger than the server accepts (exit 3); nothing was run.
    #[error("database error: {}:{line}: this statement is {size} bytes, more than the server's max_allowed_packet of {limit}; raise max_allowed_packet on the server, or split the statement (nothing was run)", .path.display())]
    StatementTooLarge {
        path: PathBuf,
        line: u32,
        size: u64,
        limit: u64,
    },

    /// `--single-transaction` with a migration that cannot run inside it (exit 2).
    #[error("{} {why} and cannot run under --single-transaction", .path.display())]
    NotInOneTransaction {
        path: PathBuf,
        why: OutsideTransaction,
    },

    /// A history row written outside a migration's own transaction was not committed (exit 3).
    #[error("database error: recording the progress of migration {version}: {message}")]
    ProgressNotRecorded { version: u64, message: String },

    /// The connection went away while statement `statement` of a migration ran (exit 3):
    /// nothing more can be recorded, and the message says what is known of its state.
    #[error("database error: {}:{line}: {message}\nthe connection was lost while migration {version} ran statement {statement} of {total}; {}", .path.display(), lost_state(*.version, *.statement, *.total, *.in_transaction))]
    LostDuringMigration {
        path: PathBuf,
        line: u32,
        message: String,
        version: u64,
        statement: usize,
        total: usize,
        /// The statement ran in the migration's transaction (the server rolls it back), not
        /// after its progress was recorded.
        in_transaction: bool,
    },

    /// `downgrade` needs reverse files that `versions` do not have (exit 2).
    #[error("cannot downgrade: no reverse file (<VERSION>_<slug>.down.sql) for version{} {}", if .versions.len() == 1 { "" } else { "s" }, list_versions(.versions))]
    NoReverse { versions: Vec<u64> },

    /// `stamp` or `baseline` of a version no migration has (exit 2).
    #[error("version {version} is not a migration in {}", .dir.display())]
    NotAMigration { version: u64, dir: PathBuf },

    /// `baseline` on a database that has a history (exit 2): `pending` versions up to
    /// `version` are not recorded yet, the history is at `current`.
    #[error("the database already has a history ({recorded} recorded versions); `baseline` adopts a database without one; {}", baseline_advice(*.version, *.pending, *.current))]
    HasHistory {
        recorded: usize,
        version: u64,
        pending: usize,
        current: u64,
    },

    /// `resolve` of a version the history does not hold (exit 2).
    #[error("version {version} is not recorded in the database; nothing to resolve")]
    NotRecorded { version: u64 },

    /// `resolve --applied|--rolled-back` of a version that did not fail (exit 2).
    #[error("version {version} is {state}, not failed; nothing to resolve")]
    NotFailed { version: u64, state: &'static str },

    /// `resolve --accept-edit` of a failed version (exit 2).
    #[error("version {version} failed; settle it with `resolve {version} --applied` or `--rolled-back` (--accept-edit is for an applied file that was edited)")]
    AcceptEditOfFailed { version: u64 },

    /// `resolve --accept-edit` of a version without a file (exit 2).
    #[error(
        "version {version} has no file in the migrations directory: there is no edit to accept"
    )]
    NoEditToAccept { version: u64 },

    /// `upgrade --sql --from 0` (exit 2).
    #[error("--from 0: leave --from out for an empty database (add --replay to run every migration instead of building the schema file)")]
    ScriptFromZero,

    /// `upgrade --sql` with `--to` below `--from` (exit 2).
    #[error(
        "--to {to} is below --from {from}: an upgrade script only goes forward (see `downgrade`)"
    )]
    ScriptGoesForward { to: u64, from: u64 },

    /// `downgrade --sql` without the version to go back to (exit 2).
    #[error("downgrade --sql needs the version to go back to")]
    ScriptNeedsTarget,

    /// `downgrade --sql` without `--from` (exit 2).
    #[error("downgrade --sql needs --from VERSION: the version the database is at (a script is written without connecting)")]
    ScriptNeedsFrom,

    /// `downgrade --sql` with `--to` not below `--from` (exit 2).
    #[error("--to {to} is not below --from {from}: a downgrade script only goes back")]
    ScriptGoesBack { to: u64, from: u64 },

    /// `--sql` with `--format json` (exit 2).
    #[error("--sql prints an SQL script; --format json does not apply to it")]
    ScriptAsJson,

    /// The working directory cannot be read (exit 2).
    #[error("cannot read the working directory: {message}")]
    WorkingDirectory { message: String },

    /// A `config` command that names no site config file (exit 2).
    #[error("no config file: give --file PATH (or --aur-config, or set AUR_CONFIG)")]
    NoSiteConfigFile,

    /// `adopt` on a database with a history that it cannot have adopted before (exit 5).
    #[error("refusing to run: the database already has a history in {table} ({recorded} recorded versions){}; there is nothing to adopt", .other.as_ref().map(ToString::to_string).unwrap_or_default())]
    AlreadyAdopted {
        table: String,
        recorded: usize,
        /// Set when the database was adopted, but not from the Alembic revision it holds.
        other: Option<OtherAdoption>,
    },

    /// `database drop` without `--yes` (exit 2).
    #[error("`database drop` removes {database} with all its data: pass --yes to say so")]
    DropNeedsYes { database: String },

    /// `man --out-dir` could not write the pages (exit 2).
    #[error("cannot write the man pages into {}: {message}", .dir.display())]
    ManPages { dir: PathBuf, message: String },

    /// The binary could not start its async runtime (exit 3).
    #[error("cannot start the async runtime: {message}")]
    AsyncRuntime { message: String },
}

/// A `config upgrade` operation refused because its target is ambiguous.
#[derive(Debug, Clone)]
pub struct Ambiguity {
    pub version: u64,
    pub op: &'static str,
    pub message: String,
    /// 1-based line and text of each conflicting line.
    pub lines: Vec<(usize, String)>,
}

/// Another session that holds (or may hold) a metadata lock a DDL statement waits for, as
/// the server shows it: `PROCESSLIST`, `INNODB_TRX`, `performance_schema.metadata_locks`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    /// The connection id (`KILL` takes it).
    pub id: u64,
    pub user: String,
    pub host: String,
    /// `PROCESSLIST.COMMAND`: `Sleep` for an idle session holding an open transaction.
    pub command: String,
    /// Seconds since its open transaction started (`INNODB_TRX.trx_started`), if it has one.
    pub transaction_seconds: Option<u64>,
    /// What it runs now (`PROCESSLIST.INFO`), cut short; hidden when it may hold a password.
    pub statement: Option<String>,
    /// The metadata lock it holds (`SHARED_READ on aur.t`), when `metadata_locks` tells.
    pub lock: Option<String>,
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "connection {} ({}@{}, {}",
            self.id, self.user, self.host, self.command
        )?;
        if let Some(s) = self.transaction_seconds {
            write!(f, ", transaction open for {s}s")?;
        }
        if let Some(l) = &self.lock {
            write!(f, ", holds {l}")?;
        }
        match &self.statement {
            Some(st) => write!(f, ", running: {st})"),
            None => write!(f, ")"),
        }
    }
}

/// Where the migration stopped, the sessions its DDL statement waited for (one per line),
/// and what to do next.
struct MetadataLock<'a>(&'a [Blocker], &'a MigrationFailure);

impl fmt::Display for MetadataLock<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let MetadataLock(blockers, failed) = *self;
        failed.head(f)?;
        write!(
            f,
            "\nthe sessions that hold or may hold the table's metadata lock:"
        )?;
        if blockers.is_empty() {
            write!(f, "\n  none that this account can see (they may have finished meanwhile; without the PROCESS privilege other accounts' sessions and open transactions are hidden)")?;
        }
        for b in blockers {
            write!(f, "\n  {b}")?;
        }
        for step in &failed.next_steps {
            write!(f, "\n{step}")?;
        }
        Ok(())
    }
}

/// What the user needs to know about a failed migration.
#[derive(Debug)]
pub struct MigrationFailure {
    pub version: u64,
    /// `path:line` of the failing statement.
    pub path: PathBuf,
    pub line: u32,
    /// The database's message.
    pub message: String,
    /// 1-based number of the failing statement and the total.
    pub statement: usize,
    pub total: usize,
    /// What of the migration stays: nothing (rolled back), or what it committed before the
    /// failure, recorded as failed.
    pub aftermath: Aftermath,
    /// The failing script was a reverse (`.down.sql`) file run by `downgrade`.
    pub reverting: bool,
    /// What to do next, one line each.
    pub next_steps: Vec<String>,
}

impl MigrationFailure {
    /// Whether the migration's changes were rolled back (else they stay recorded as failed).
    pub fn rolled_back(&self) -> bool {
        self.aftermath == Aftermath::RolledBack
    }

    /// The statements (1-based number, line) committed before the failure, in order.
    pub fn committed(&self) -> &[(usize, u32)] {
        match &self.aftermath {
            Aftermath::RolledBack => &[],
            Aftermath::Committed(statements) => statements,
        }
    }
}

impl fmt::Display for MigrationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.head(f)?;
        for step in &self.next_steps {
            write!(f, "\n{step}")?;
        }
        Ok(())
    }
}

impl MigrationFailure {
    /// Where it failed and what of it stays, without the next steps.
    fn head(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}\n{} {} failed at statement {} of {}",
            self.path.display(),
            self.line,
            self.message,
            if self.reverting {
                "reverting migration"
            } else {
                "migration"
            },
            self.version,
            self.statement,
            self.total
        )?;
        match &self.aftermath {
            Aftermath::RolledBack => {
                let state = if self.reverting { "applied" } else { "pending" };
                write!(f, "; its changes were rolled back and it is still {state}")?;
            }
            Aftermath::Committed(committed) if committed.is_empty() => {
                write!(f, "; nothing of it was committed, it is recorded as failed")?;
            }
            Aftermath::Committed(committed) => write!(
                f,
                "; these statements were already committed and stay in effect: {}",
                statement_ranges(committed, &self.path)
            )?,
        }
        Ok(())
    }
}

/// Committed statements as ranges: `statements 1–176 (…/x.sql lines 9–1567)`, one range per
/// run of consecutive statement numbers (the full list is in the JSON error).
pub(crate) fn statement_ranges(committed: &[(usize, u32)], path: &std::path::Path) -> String {
    let mut runs: Vec<((usize, u32), (usize, u32))> = Vec::new();
    for &c in committed {
        match runs.last_mut() {
            Some((_, last)) if last.0 + 1 == c.0 => *last = c,
            _ => runs.push((c, c)),
        }
    }
    runs.iter()
        .map(|(a, b)| {
            if a == b {
                format!("statement {} ({}:{})", a.0, path.display(), a.1)
            } else {
                format!(
                    "statements {}–{} ({} lines {}–{})",
                    a.0,
                    b.0,
                    path.display(),
                    a.1,
                    b.1
                )
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A context (where a setting came from, what the tool was doing), then `: `; nothing
/// without one.
struct Context<'a, T>(&'a Option<T>);

impl<T: fmt::Display> fmt::Display for Context<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(context) => write!(f, "{context}: "),
            None => Ok(()),
        }
    }
}

/// aurweb's config file, and the `.defaults` file read under it when there is one.
struct IniFiles<'a>(&'a PathBuf, &'a Option<PathBuf>);

impl fmt::Display for IniFiles<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(defaults) => write!(f, "{} (with {})", self.0.display(), defaults.display()),
            None => write!(f, "{}", self.0.display()),
        }
    }
}

/// Declared Alembic revisions as `revision = version`, or `none`.
fn list_revisions(known: &[(String, u64)]) -> String {
    if known.is_empty() {
        return "none".to_string();
    }
    known
        .iter()
        .map(|(revision, version)| format!("{revision} = {version}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each ambiguous operation and its conflicting lines, one line each.
fn list_ambiguous(ambiguous: &[Ambiguity]) -> String {
    let mut out = String::new();
    for a in ambiguous {
        out.push_str(&format!("\n  {} {}: {}", a.version, a.op, a.message));
        for (line, text) in &a.lines {
            out.push_str(&format!("\n    line {line}: {text}"));
        }
    }
    out
}

fn list_input(errors: &[InputError]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn data_violation(
    violations: &[crate::schema::probe::Violation],
    during: Option<&MigrationFailure>,
) -> String {
    let list = violations
        .iter()
        .map(|v| format!("  {v}"))
        .collect::<Vec<_>>()
        .join("\n");
    match during {
        None => format!("refusing to upgrade: the live rows break what the pending statements add, so the migration would fail on them:\n{list}\nnothing was run and the migrations stay pending; fix the rows (by hand, or in the migration before the statement), or pass --no-probes to run it anyway"),
        Some(f) => format!("the live rows break what a pending statement adds, as the statements before it left them (probed during the run):\n{list}\n{f}"),
    }
}

fn list_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Error {
    /// The exit code (docs/reference.md, "Exit codes"): one per kind of failure; an interruption exits
    /// as its signal asks (130, 143).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Interrupted { signal, .. } if *signal != "SIGINT" => 143,
            _ => self.class().exit_code(),
        }
    }

    /// The machine-readable kind of the failure (`error.kind` in JSON output).
    pub fn kind(&self) -> &'static str {
        self.class().name()
    }

    /// What kind of failure this is: each variant is classified here, once.
    fn class(&self) -> Kind {
        match self {
            Error::Syntax(_)
            | Error::InvalidUrl { .. }
            | Error::InvalidTableName { .. }
            | Error::LockTableNameTooLong { .. }
            | Error::NotAFileSetting { .. }
            | Error::BadSslMode { .. }
            | Error::CertWithoutKey { .. }
            | Error::ZeroConnectTimeout
            | Error::ZeroConnectTimeoutInFile { .. }
            | Error::BadDdlGate { .. }
            | Error::GatesWithoutRehearsal
            | Error::UnreadableKey { .. }
            | Error::OpenKey { .. }
            | Error::UnreadablePasswordFile { .. }
            | Error::EmptyPasswordFile { .. }
            | Error::NotUtf8 { .. }
            | Error::NoDatabaseSection { .. }
            | Error::MissingDatabaseKey { .. }
            | Error::BadPort { .. }
            | Error::UnknownBackend { .. } => Kind::Usage,
            Error::SchemaCommandSpawn { .. }
            | Error::SchemaCommandFailed { .. }
            | Error::SchemaCommandTimedOut { .. }
            | Error::SchemaCommandBuiltNothing { .. } => Kind::Input,
            Error::CannotCreate { .. }
            | Error::CannotWrite { .. }
            | Error::ReadingMigrationsFailed
            | Error::NoMigrations { .. }
            | Error::NoNameInDescription { .. }
            | Error::NewWithEmbedded { .. }
            | Error::AutogenerateWithEmbedded { .. }
            | Error::AutogenerateWithEmbeddedSchema
            | Error::AutogenerateWithoutSchema { .. }
            | Error::AutogenerateNeedsServer { .. }
            | Error::VersionNotNumber { .. }
            | Error::NothingToRedo { .. }
            | Error::RedoNotADraft { .. }
            | Error::RedoToNothing { .. }
            | Error::VerifyWithoutSchema { .. }
            | Error::VerifyNeedsServer
            | Error::SchemaFileExists { .. }
            | Error::SchemaInitWithEmbedded
            | Error::SchemaInitNeedsServer
            | Error::SchemaInitUnsupported { .. }
            | Error::NoSchemaFile { .. }
            | Error::RenderFromMysqlOnly
            | Error::RenderNeedsServer => Kind::Usage,
            Error::DatabaseFailed { .. }
            | Error::UnreadableRow { .. }
            | Error::ConnectionLost { .. }
            | Error::LostWaitingForLock { .. }
            | Error::GetLockFailed { .. }
            | Error::LeaseTakenOver { .. }
            | Error::BadCollation { .. }
            | Error::ScratchDatabase { .. }
            | Error::ScratchDirectory { .. }
            | Error::ScratchDirectoriesTaken { .. }
            | Error::CannotRemove { .. }
            | Error::QueryTimedOut { .. }
            | Error::ProbeTimedOut { .. } => Kind::Database,
            Error::ServerReadOnly { .. }
            | Error::DatabaseFileNotWritable { .. }
            | Error::ServerRefusesWrites { .. }
            | Error::AccountMayNotWrite { .. }
            | Error::SiteConfigUnwritable { .. }
            | Error::SiteConfigReadOnly { .. }
            | Error::SiteConfigDirectoryReadOnly { .. }
            | Error::SiteConfigWriteFailed { .. } => Kind::NotWritable,
            Error::NotAlembic
            | Error::AlembicEmpty
            | Error::AlembicBranched { .. }
            | Error::UnknownAlembicRevision { .. }
            | Error::SiteConfigConflict { .. }
            | Error::SiteConfigAmbiguous { .. } => Kind::Refused,
            Error::Usage(_)
            | Error::UnknownVersion { .. }
            | Error::MissingDirectory { .. }
            | Error::NoMigrationsDirectory { .. }
            | Error::BuiltinIsADirectory { .. }
            | Error::Unreadable { .. }
            | Error::Schema(_) => Kind::Usage,
            Error::Input(_) => Kind::Input,
            Error::Connect { .. } | Error::ConnectTimedOut { .. } => Kind::Connect,
            Error::Database(_) => Kind::Database,
            Error::MigrationFailed(_) => Kind::MigrationFailed,
            Error::Refused(_) | Error::RefusedBecause(_) | Error::RedoRecorded { .. } => {
                Kind::Refused
            }
            Error::InstallFailed { .. } => Kind::InstallFailed,
            Error::Drift { .. } => Kind::Drift,
            Error::DataViolation { .. } => Kind::DataViolation,
            Error::DdlGate { .. } => Kind::DdlGate,
            Error::LockTimeout { .. } => Kind::LockTimeout,
            Error::MetadataLockTimeout { .. } => Kind::MetadataLock,
            Error::SelfCheck { .. }
            | Error::SelfCheckFailed { .. }
            | Error::SchemaInitSelfCheck { .. } => Kind::SelfCheck,
            Error::Interrupted { .. } => Kind::Interrupted,
            // run/ and plan
            Error::NotInOneTransaction { .. }
            | Error::NoReverse { .. }
            | Error::NotAMigration { .. }
            | Error::HasHistory { .. }
            | Error::NotRecorded { .. }
            | Error::NotFailed { .. }
            | Error::AcceptEditOfFailed { .. }
            | Error::NoEditToAccept { .. }
            | Error::ScriptFromZero
            | Error::ScriptGoesForward { .. }
            | Error::ScriptNeedsTarget
            | Error::ScriptNeedsFrom
            | Error::ScriptGoesBack { .. }
            | Error::ScriptAsJson
            | Error::WorkingDirectory { .. }
            | Error::NoSiteConfigFile
            | Error::DropNeedsYes { .. }
            | Error::ManPages { .. } => Kind::Usage,
            Error::TransactionTooLarge { .. }
            | Error::StatementTooLarge { .. }
            | Error::ProgressNotRecorded { .. }
            | Error::LostDuringMigration { .. }
            | Error::AsyncRuntime { .. } => Kind::Database,
            Error::Unmanaged(_) | Error::AlreadyAdopted { .. } => Kind::Refused,
        }
    }

    /// Shorthand for a single input error.
    pub fn input(path: impl Into<PathBuf>, line: Option<u32>, message: impl Into<String>) -> Self {
        Error::Input(vec![InputError {
            path: path.into(),
            line,
            message: message.into(),
        }])
    }
}

/// The kinds of failure, each with its name in JSON and its exit code (docs/reference.md, "Exit
/// codes"; an interruption by SIGTERM exits 143 instead, see [`Error::exit_code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Connect,
    Database,
    DataViolation,
    DdlGate,
    Drift,
    Input,
    InstallFailed,
    Interrupted,
    LockTimeout,
    MetadataLock,
    MigrationFailed,
    NotWritable,
    Refused,
    SelfCheck,
    Usage,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Connect => "connect",
            Kind::Database => "database",
            Kind::DataViolation => "data-violation",
            Kind::DdlGate => "ddl-gate",
            Kind::Drift => "drift",
            Kind::Input => "input",
            Kind::InstallFailed => "install-failed",
            Kind::Interrupted => "interrupted",
            Kind::LockTimeout => "lock-timeout",
            Kind::MetadataLock => "metadata-lock",
            Kind::MigrationFailed => "migration-failed",
            Kind::NotWritable => "not-writable",
            Kind::Refused => "refused",
            Kind::SelfCheck => "self-check",
            Kind::Usage => "usage",
        }
    }

    fn exit_code(self) -> i32 {
        match self {
            Kind::Connect | Kind::Database | Kind::NotWritable => 3,
            Kind::Drift | Kind::Refused => 5,
            Kind::Input | Kind::Usage => 2,
            Kind::InstallFailed | Kind::MigrationFailed => 4,
            Kind::Interrupted => 130,
            Kind::LockTimeout | Kind::MetadataLock => 6,
            Kind::DataViolation => 7,
            Kind::DdlGate => 8,
            Kind::SelfCheck => 1,
        }
    }
}

/// The message of [`Error::DdlGate`].
fn ddl_gate(offending: &[(crate::schema::ddl::Ddl, String)], unproven: Option<&str>) -> String {
    let mut out = String::from("refusing to run: ");
    match unproven {
        Some(why) => out.push_str(&format!(
            "--max-algorithm/--max-lock are set, but the rehearsal that proves each DDL statement's algorithm and lock did not finish ({why}); nothing was applied, the migrations stay pending"
        )),
        None => out.push_str(&format!(
            "{} pending DDL statement(s) are over the DDL gates; nothing was applied, the migrations stay pending (a migration meant to run offline may say `-- aurweb-migrate: allow-lock=exclusive`)",
            offending.len()
        )),
    }
    for (d, why) in offending {
        out.push_str(&format!(
            "\n  {}:{}: {}: {} ({}): {why}",
            d.file,
            d.line,
            d.table,
            d.clause(),
            d.meaning()
        ));
    }
    out
}

/// An I/O error's message, lowercased at the start and without the `(os error N)` suffix.
pub(crate) fn io_message(e: &std::io::Error) -> String {
    let msg = e.to_string();
    let msg = match msg.find(" (os error") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    };
    let mut chars = msg.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(path: &str) -> PathBuf {
        PathBuf::from(path)
    }

    fn ambiguity(version: u64, lines: &[(usize, &str)]) -> Ambiguity {
        Ambiguity {
            version,
            op: "rename-section",
            message: "both sections exist".into(),
            lines: lines.iter().map(|(n, t)| (*n, t.to_string())).collect(),
        }
    }

    /// The typed errors render the text their call sites used to build, with the exit code
    /// and JSON kind of the string variant they replace (the helpers' cases: a context or
    /// none, a `.defaults` file or none, lists empty, one, several).
    #[test]
    fn typed_errors_render_their_messages() {
        let denied = || std::io::Error::from_raw_os_error(13);
        let cases: Vec<(Error, &str, i32, &str)> = vec![
            (
                Error::InvalidUrl {
                    context: Some("--database-url".into()),
                    url: "mysql://u:***@h/".into(),
                    why: "missing database name (/DATABASE)".into(),
                },
                "--database-url: invalid database URL \"mysql://u:***@h/\": missing database name (/DATABASE)",
                2,
                "usage",
            ),
            (
                Error::InvalidUrl {
                    context: None,
                    url: "x".into(),
                    why: "w".into(),
                },
                "invalid database URL \"x\": w",
                2,
                "usage",
            ),
            (
                Error::InvalidTableName {
                    context: Some("c.toml:3".into()),
                    name: "1x".into(),
                },
                "c.toml:3: invalid table name \"1x\": it must be 1 to 64 characters, letters, digits and underscores, not starting with a digit",
                2,
                "usage",
            ),
            (
                Error::Syntax(InputError {
                    path: p("c.toml"),
                    line: Some(2),
                    message: "m".into(),
                }),
                "c.toml:2: m",
                2,
                "usage",
            ),
            (
                Error::Syntax(InputError {
                    path: p("c.toml"),
                    line: None,
                    message: "m".into(),
                }),
                "c.toml: m",
                2,
                "usage",
            ),
            (
                Error::BadSslMode {
                    path: p("c.toml"),
                    line: 4,
                    value: "x".into(),
                    expected: &["a", "b"],
                },
                "c.toml:4: ssl_mode \"x\": expected one of a, b",
                2,
                "usage",
            ),
            (
                Error::OpenKey {
                    path: p("k.pem"),
                    mode: 0o644,
                },
                "ssl-key k.pem: the key is readable by others (mode 644); allow its owner only: chmod 600 k.pem",
                2,
                "usage",
            ),
            (
                Error::NoDatabaseSection {
                    path: p("config"),
                    defaults: Some(p("config.defaults")),
                },
                "config (with config.defaults): no [database] section",
                2,
                "usage",
            ),
            (
                Error::MissingDatabaseKey {
                    path: p("config"),
                    defaults: None,
                    key: "user",
                },
                "config: [database] has no \"user\"",
                2,
                "usage",
            ),
            (
                Error::BadPort {
                    path: p("config"),
                    line: 5,
                    value: "0".into(),
                },
                "config:5: invalid port \"0\" (expected 1-65535)",
                2,
                "usage",
            ),
            (
                Error::CannotCreate {
                    path: p("m/1_a.sql"),
                    error: denied(),
                },
                "cannot create m/1_a.sql: Permission denied (os error 13)",
                2,
                "usage",
            ),
            (
                Error::NoSchemaFile {
                    command: "verify",
                    file: "mysql.sql".into(),
                    place: "the schema directory".into(),
                },
                "verify: no mysql.sql in the schema directory",
                2,
                "usage",
            ),
            (
                Error::DatabaseFailed {
                    target: "t".into(),
                    action: None,
                    message: "m".into(),
                },
                "database error: t: m",
                3,
                "database",
            ),
            (
                Error::DatabaseFailed {
                    target: "t".into(),
                    action: Some("the cluster lock"),
                    message: "m".into(),
                },
                "database error: t: the cluster lock: m",
                3,
                "database",
            ),
            (
                Error::ScratchDatabase {
                    name: "aur_migrate_1".into(),
                    database: "aur".into(),
                    error: Box::new(Error::ConnectTimedOut {
                        target: "t".into(),
                        seconds: 10,
                    }),
                },
                "database error: cannot create the scratch database aur_migrate_1 (the tool builds the expected schema there; the user needs CREATE and DROP on `aur\\_migrate\\_%`): cannot connect to t: no answer within 10s (--connect-timeout)",
                3,
                "database",
            ),
            (
                Error::ScratchDirectoriesTaken {
                    last: p("/tmp/x-15"),
                },
                "database error: cannot create a scratch directory: /tmp/x-15 and 15 others exist",
                3,
                "database",
            ),
            (
                Error::CannotRemove {
                    path: p("a.sqlite3-wal"),
                    error: denied(),
                },
                "database error: cannot remove a.sqlite3-wal: Permission denied (os error 13)",
                3,
                "database",
            ),
            (
                Error::ConnectTimedOut {
                    target: "mysql://u@h/db".into(),
                    seconds: 10,
                },
                "cannot connect to mysql://u@h/db: no answer within 10s (--connect-timeout)",
                3,
                "connect",
            ),
            (
                Error::ServerReadOnly {
                    target: "t".into(),
                    setting: "innodb_read_only",
                },
                "t: the server is read-only (innodb_read_only=ON: a replica?); nothing was written: run the upgrade against the primary",
                3,
                "not-writable",
            ),
            (
                Error::DatabaseFileNotWritable {
                    path: p("aurweb.sqlite3"),
                    why: "the file is read-only (mode 0444)".into(),
                },
                "aurweb.sqlite3: the file is read-only (mode 0444); nothing was written: make it writable for the user running the tool, or run as a user who may write it",
                3,
                "not-writable",
            ),
            (
                Error::SiteConfigReadOnly {
                    path: p("config"),
                    mode: 0o444,
                },
                "cannot write config: the file is read-only (mode 0444); nothing was written",
                3,
                "not-writable",
            ),
            (
                Error::SiteConfigDirectoryReadOnly {
                    path: p("d/config"),
                    dir: p("d"),
                    mode: 0o555,
                },
                "cannot write d/config: its directory d is read-only (mode 0555), and the file is replaced through a temporary file there; nothing was written",
                3,
                "not-writable",
            ),
            (
                Error::SiteConfigWriteFailed {
                    path: p("config"),
                    step: "rename",
                    message: "m".into(),
                },
                "cannot write config (rename: m); the file is unchanged",
                3,
                "not-writable",
            ),
            (
                Error::AlembicBranched {
                    revisions: vec!["a".into(), "b".into()],
                },
                "refusing to run: alembic_version holds 2 revisions (a, b): a branched Alembic history has no single version to adopt",
                5,
                "refused",
            ),
            (
                Error::UnknownAlembicRevision {
                    revision: "r".into(),
                    dir: p("m"),
                    known: vec![],
                },
                "refusing to run: Alembic revision r is not declared by any migration in m (known: none)",
                5,
                "refused",
            ),
            (
                Error::UnknownAlembicRevision {
                    revision: "r".into(),
                    dir: p("m"),
                    known: vec![("a".into(), 1), ("b".into(), 2)],
                },
                "refusing to run: Alembic revision r is not declared by any migration in m (known: a = 1, b = 2)",
                5,
                "refused",
            ),
            (
                Error::SiteConfigConflict { why: "w".into() },
                "refusing to run: w; nothing was written",
                5,
                "refused",
            ),
            (
                Error::SiteConfigAmbiguous {
                    file: p("config"),
                    ambiguous: vec![ambiguity(11, &[(3, "[a]"), (7, "[b]")])],
                },
                "refusing to run: config: 1 operation with an ambiguous target; nothing was written\n  11 rename-section: both sections exist\n    line 3: [a]\n    line 7: [b]",
                5,
                "refused",
            ),
            (
                Error::SiteConfigAmbiguous {
                    file: p("config"),
                    ambiguous: vec![ambiguity(11, &[]), ambiguity(12, &[(1, "[c]")])],
                },
                "refusing to run: config: 2 operations with an ambiguous target; nothing was written\n  11 rename-section: both sections exist\n  12 rename-section: both sections exist\n    line 1: [c]",
                5,
                "refused",
            ),
        ];
        for (error, message, exit, kind) in cases {
            assert_eq!(error.to_string(), message);
            assert_eq!((error.exit_code(), error.kind()), (exit, kind), "{message}");
        }
    }
}

// run/ and plan: the parts of their errors.

/// What of a failed migration stays in effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Aftermath {
    /// Its transaction was rolled back: nothing of it stays.
    RolledBack,
    /// It is recorded as failed; these statements (1-based number, line), in order, were
    /// committed before the failure and stay in effect (none: nothing of it was committed).
    Committed(Vec<(usize, u32)>),
}

/// Why a migration cannot run under `--single-transaction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutsideTransaction {
    /// `--resume` continues it after its committed statements.
    Resumed,
    /// It declares `no-transaction`.
    NoTransaction,
    /// It holds `count` statements that commit implicitly on `dialect`.
    ImplicitCommits {
        count: usize,
        dialect: crate::dialect::Dialect,
    },
}

impl fmt::Display for OutsideTransaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutsideTransaction::Resumed => f.write_str("is being resumed"),
            OutsideTransaction::NoTransaction => f.write_str("declares no-transaction"),
            OutsideTransaction::ImplicitCommits { count, dialect } => write!(
                f,
                "holds {count} statement(s) that commit implicitly on {dialect}"
            ),
        }
    }
}

/// What became of the tables a failed install had created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cleanup {
    /// The install ran in one transaction, rolled back.
    RolledBack,
    /// The connection was lost: nothing could be dropped.
    ConnectionLost,
    /// The tables could not be listed (the error's message).
    NotListed(String),
    /// The failure came before any table.
    NoneCreated,
    /// All `n` tables were dropped.
    Dropped(usize),
    /// These could not be dropped.
    NotDropped(Vec<String>),
}

impl fmt::Display for Cleanup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cleanup::RolledBack => f.write_str("nothing was changed (rolled back)"),
            Cleanup::ConnectionLost => f.write_str(
                "the connection was lost; drop the tables it created and run `aurweb-migrate upgrade` again",
            ),
            Cleanup::NotListed(e) => write!(
                f,
                "the tables it created could not be listed ({e}); drop them by hand"
            ),
            Cleanup::NoneCreated => f.write_str("no table had been created"),
            Cleanup::Dropped(n) => write!(
                f,
                "the {n} table(s) it had created were dropped, the database is empty again"
            ),
            Cleanup::NotDropped(names) => write!(
                f,
                "these tables it created could not be dropped: {}; drop them by hand",
                names.join(", ")
            ),
        }
    }
}

/// A database adopted from another Alembic revision than the one it holds: `adopt` refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherAdoption {
    pub revision: String,
    /// The version the revision maps to.
    pub version: u64,
    /// Where the recorded baseline ends.
    pub baseline_end: Option<u64>,
}

impl fmt::Display for OtherAdoption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            ", and it was not adopted from Alembic revision {} (version {}): its baseline ends at {}",
            self.revision,
            self.version,
            self.baseline_end
                .map_or("no version".to_string(), |v| v.to_string())
        )
    }
}

/// What is known of a migration whose connection was lost during statement `statement`.
fn lost_state(version: u64, statement: usize, total: usize, in_transaction: bool) -> String {
    if in_transaction {
        return "its transaction was not committed, so the server rolls it back and it stays pending"
            .to_string();
    }
    format!(
        "it is recorded as failed with {} of {total} statements done; check whether statement {statement} took effect, then settle it: finish it by hand and run `aurweb-migrate resolve {version} --applied`, undo it by hand and run `aurweb-migrate resolve {version} --rolled-back`, or (statement {statement} had no effect) run `aurweb-migrate upgrade --resume`",
        statement - 1
    )
}

/// `baseline`'s advice on a database with a history, that works as printed: `stamp` only
/// when it has something to record.
fn baseline_advice(version: u64, pending: usize, current: u64) -> String {
    if pending == 0 {
        format!(
            "every version up to {version} is already recorded (current version: {current}); there is nothing to baseline"
        )
    } else {
        format!("use `aurweb-migrate stamp {version}` to record the {pending} pending version(s) up to {version}")
    }
}

fn list_versions(versions: &[u64]) -> String {
    versions
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The messages of the variants of `run/` and `plan` (and of the commands around them), each
/// against the text the code built with `format!` before they were variants: they must stay
/// byte for byte what they were, with the same exit codes and kinds.
#[cfg(test)]
mod run_messages {
    use super::*;

    #[test]
    fn messages_exit_codes_and_kinds_are_as_before() {
        let p = || PathBuf::from("migrations/3_c.sql");
        let unmanaged = Problem::Unmanaged {
            tables: vec!["a".into(), "b".into()],
        };
        let cases: Vec<(Error, String, i32, &str)> = vec![
            (
                Error::Unmanaged(unmanaged.clone()),
                format!("refusing to run: {}", unmanaged.reason()),
                5,
                "refused",
            ),
            (
                Error::TransactionTooLarge { path: p(), bytes: 9, setting: "wsrep_max_ws_size", limit: 8 },
                "database error: migrations/3_c.sql: this migration runs as one transaction of at least 9 bytes of statements, more than the cluster's wsrep_max_ws_size of 8; split it into several migrations, or raise wsrep_max_ws_size (nothing was run)".into(),
                3,
                "database",
            ),
            (
                Error::StatementTooLarge { path: p(), line: 4, size: 9, limit: 8 },
                "database error: migrations/3_c.sql:4: this statement is 9 bytes, more than the server's max_allowed_packet of 8; raise max_allowed_packet on the server, or split the statement (nothing was run)".into(),
                3,
                "database",
            ),
            (
                Error::NotInOneTransaction { path: p(), why: OutsideTransaction::Resumed },
                "migrations/3_c.sql is being resumed and cannot run under --single-transaction".into(),
                2,
                "usage",
            ),
            (
                Error::NotInOneTransaction { path: p(), why: OutsideTransaction::NoTransaction },
                "migrations/3_c.sql declares no-transaction and cannot run under --single-transaction".into(),
                2,
                "usage",
            ),
            (
                Error::NotInOneTransaction {
                    path: p(),
                    why: OutsideTransaction::ImplicitCommits { count: 2, dialect: crate::dialect::Dialect::Mysql },
                },
                format!(
                    "migrations/3_c.sql holds 2 statement(s) that commit implicitly on {} and cannot run under --single-transaction",
                    crate::dialect::Dialect::Mysql
                ),
                2,
                "usage",
            ),
            (
                Error::ProgressNotRecorded { version: 3, message: "disk full".into() },
                "database error: recording the progress of migration 3: disk full".into(),
                3,
                "database",
            ),
            (
                Error::LostDuringMigration {
                    path: p(), line: 4, message: "gone".into(), version: 3, statement: 2, total: 5, in_transaction: true,
                },
                "database error: migrations/3_c.sql:4: gone\nthe connection was lost while migration 3 ran statement 2 of 5; its transaction was not committed, so the server rolls it back and it stays pending".into(),
                3,
                "database",
            ),
            (
                Error::LostDuringMigration {
                    path: p(), line: 4, message: "gone".into(), version: 3, statement: 2, total: 5, in_transaction: false,
                },
                "database error: migrations/3_c.sql:4: gone\nthe connection was lost while migration 3 ran statement 2 of 5; it is recorded as failed with 1 of 5 statements done; check whether statement 2 took effect, then settle it: finish it by hand and run `aurweb-migrate resolve 3 --applied`, undo it by hand and run `aurweb-migrate resolve 3 --rolled-back`, or (statement 2 had no effect) run `aurweb-migrate upgrade --resume`".into(),
                3,
                "database",
            ),
            (
                Error::NoReverse { versions: vec![2] },
                "cannot downgrade: no reverse file (<VERSION>_<slug>.down.sql) for version 2".into(),
                2,
                "usage",
            ),
            (
                Error::NoReverse { versions: vec![2, 3] },
                "cannot downgrade: no reverse file (<VERSION>_<slug>.down.sql) for versions 2, 3".into(),
                2,
                "usage",
            ),
            (
                Error::NotAMigration { version: 9, dir: "migrations".into() },
                "version 9 is not a migration in migrations".into(),
                2,
                "usage",
            ),
            (
                Error::HasHistory { recorded: 2, version: 4, pending: 0, current: 2 },
                "the database already has a history (2 recorded versions); `baseline` adopts a database without one; every version up to 4 is already recorded (current version: 2); there is nothing to baseline".into(),
                2,
                "usage",
            ),
            (
                Error::HasHistory { recorded: 2, version: 4, pending: 2, current: 2 },
                "the database already has a history (2 recorded versions); `baseline` adopts a database without one; use `aurweb-migrate stamp 4` to record the 2 pending version(s) up to 4".into(),
                2,
                "usage",
            ),
            (
                Error::NotRecorded { version: 3 },
                "version 3 is not recorded in the database; nothing to resolve".into(),
                2,
                "usage",
            ),
            (
                Error::NotFailed { version: 3, state: "applied" },
                "version 3 is applied, not failed; nothing to resolve".into(),
                2,
                "usage",
            ),
            (
                Error::AcceptEditOfFailed { version: 3 },
                "version 3 failed; settle it with `resolve 3 --applied` or `--rolled-back` (--accept-edit is for an applied file that was edited)".into(),
                2,
                "usage",
            ),
            (
                Error::NoEditToAccept { version: 3 },
                "version 3 has no file in the migrations directory: there is no edit to accept".into(),
                2,
                "usage",
            ),
            (
                Error::ScriptFromZero,
                "--from 0: leave --from out for an empty database (add --replay to run every migration instead of building the schema file)".into(),
                2,
                "usage",
            ),
            (
                Error::ScriptGoesForward { to: 2, from: 3 },
                "--to 2 is below --from 3: an upgrade script only goes forward (see `downgrade`)".into(),
                2,
                "usage",
            ),
            (
                Error::ScriptNeedsTarget,
                "downgrade --sql needs the version to go back to".into(),
                2,
                "usage",
            ),
            (
                Error::ScriptNeedsFrom,
                "downgrade --sql needs --from VERSION: the version the database is at (a script is written without connecting)".into(),
                2,
                "usage",
            ),
            (
                Error::ScriptGoesBack { to: 3, from: 3 },
                "--to 3 is not below --from 3: a downgrade script only goes back".into(),
                2,
                "usage",
            ),
            (
                Error::ScriptAsJson,
                "--sql prints an SQL script; --format json does not apply to it".into(),
                2,
                "usage",
            ),
            (
                Error::WorkingDirectory { message: "No such file or directory (os error 2)".into() },
                "cannot read the working directory: No such file or directory (os error 2)".into(),
                2,
                "usage",
            ),
            (
                Error::NoSiteConfigFile,
                "no config file: give --file PATH (or --aur-config, or set AUR_CONFIG)".into(),
                2,
                "usage",
            ),
            (
                Error::AlreadyAdopted { table: "aurweb_migrations".into(), recorded: 2, other: None },
                "refusing to run: the database already has a history in aurweb_migrations (2 recorded versions); there is nothing to adopt".into(),
                5,
                "refused",
            ),
            (
                Error::AlreadyAdopted {
                    table: "aurweb_migrations".into(),
                    recorded: 2,
                    other: Some(OtherAdoption { revision: "abc".into(), version: 5, baseline_end: None }),
                },
                "refusing to run: the database already has a history in aurweb_migrations (2 recorded versions), and it was not adopted from Alembic revision abc (version 5): its baseline ends at no version; there is nothing to adopt".into(),
                5,
                "refused",
            ),
            (
                Error::DropNeedsYes { database: "sqlite://x.db".into() },
                "`database drop` removes sqlite://x.db with all its data: pass --yes to say so".into(),
                2,
                "usage",
            ),
            (
                Error::ManPages { dir: "out".into(), message: "denied".into() },
                "cannot write the man pages into out: denied".into(),
                2,
                "usage",
            ),
            (
                Error::AsyncRuntime { message: "no threads".into() },
                "cannot start the async runtime: no threads".into(),
                3,
                "database",
            ),
        ];
        for (e, text, code, kind) in cases {
            assert_eq!(e.to_string(), text);
            assert_eq!((e.exit_code(), e.kind()), (code, kind), "{text}");
        }
    }

    #[test]
    fn an_install_says_what_became_of_its_tables() {
        let cleanups = [
            (Cleanup::RolledBack, "nothing was changed (rolled back)"),
            (Cleanup::ConnectionLost, "the connection was lost; drop the tables it created and run `aurweb-migrate upgrade` again"),
            (Cleanup::NotListed("database error: x".into()), "the tables it created could not be listed (database error: x); drop them by hand"),
            (Cleanup::NoneCreated, "no table had been created"),
            (Cleanup::Dropped(3), "the 3 table(s) it had created were dropped, the database is empty again"),
            (Cleanup::NotDropped(vec!["a".into(), "b".into()]), "these tables it created could not be dropped: a, b; drop them by hand"),
        ];
        for (cleanup, text) in cleanups {
            assert_eq!(cleanup.to_string(), text);
        }
    }

    #[test]
    fn a_failed_migration_says_what_stays() {
        let failure = |aftermath| MigrationFailure {
            version: 3,
            path: "migrations/3_c.sql".into(),
            line: 4,
            message: "boom".into(),
            statement: 3,
            total: 4,
            aftermath,
            reverting: false,
            next_steps: vec!["next".into()],
        };
        let head = "migrations/3_c.sql:4: boom\nmigration 3 failed at statement 3 of 4";
        let cases = [
            (Aftermath::RolledBack, "; its changes were rolled back and it is still pending"),
            (Aftermath::Committed(vec![]), "; nothing of it was committed, it is recorded as failed"),
            (
                Aftermath::Committed(vec![(1, 2), (2, 3)]),
                "; these statements were already committed and stay in effect: statements 1–2 (migrations/3_c.sql lines 2–3)",
            ),
        ];
        for (aftermath, tail) in cases {
            let f = failure(aftermath);
            assert_eq!(f.to_string(), format!("{head}{tail}\nnext"));
            assert_eq!(f.rolled_back(), f.aftermath == Aftermath::RolledBack);
        }
        assert_eq!(
            failure(Aftermath::Committed(vec![(1, 2)])).committed(),
            [(1, 2)]
        );
    }
}
