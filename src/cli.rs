//! Command-line arguments (clap derive only). Converted into an [`Invocation`]: the text of
//! `completions` and `man`, made from these definitions alone, or an
//! [`aurweb_migrate::app::Request`]; nothing past that boundary sees clap.

use std::path::PathBuf;

use aurweb_migrate::app::Command::{self, Sql};
use aurweb_migrate::app::{ConfigAction, Request, SqlCommand, UpgradeFlags};
use aurweb_migrate::report::Format;
use aurweb_migrate::run::Resolution;
use aurweb_migrate::settings::Overrides;
use aurweb_migrate::Dialect;
use clap::{ArgGroup, Args, CommandFactory, Parser, Subcommand, ValueEnum};

/// The help heading of the options every command takes: a command's `--help` (and man page)
/// lists its own options first, under "Options", and these after them.
const GLOBAL: &str = "Global options";

/// Versioned SQL schema migrations for aurweb on MySQL/MariaDB and SQLite.
#[derive(Debug, Parser)]
// The global options come after every command's own, in --help and in the man pages'
// synopses alike: their display order starts past any command's own options.
#[command(name = "aurweb-migrate", version, about, long_about = None, max_term_width = 100, next_display_order = 1000)]
pub struct Cli {
    #[command(flatten)]
    globals: Globals,

    #[command(subcommand)]
    command: Cmd,
}

/// [`Cli`] without its commands: the root of the narrow command tree [`Cli::parse_args`] tries
/// first. Its attributes are [`Cli`]'s (a unit test compares the two roots).
#[derive(Debug, Parser)]
#[command(name = "aurweb-migrate", version, about, long_about = None, max_term_width = 100, next_display_order = 1000)]
struct Root {
    #[command(flatten)]
    globals: Globals,
}

/// The options every command takes (`global`: accepted before and after the command's name).
#[derive(Debug, Args)]
struct Globals {
    /// Database URL: sqlite://PATH, mysql://USER@HOST[:PORT]/DB (mariadb:// too).
    /// Prefer AURWEB_MIGRATE_DATABASE_URL for URLs with a password.
    #[arg(short = 'd', long, global = true, help_heading = GLOBAL, value_name = "URL")]
    database_url: Option<String>,

    /// Migrations directory, or `builtin` for aurweb's migrations built into the binary
    /// [default: ./migrations; the built-in set where aurweb's config names the database and
    /// there is no ./migrations]
    #[arg(short = 'm', long, global = true, help_heading = GLOBAL, value_name = "DIR")]
    migrations: Option<PathBuf>,

    /// Schema directory [default: `schema` beside the migrations directory; the built-in schema
    /// with the built-in migrations]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DIR")]
    schema: Option<PathBuf>,

    /// Version table name [default: aurweb_migrations]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "NAME")]
    table: Option<String>,

    /// A command that builds the desired schema in an empty scratch database (told where by
    /// AURWEB_MIGRATE_SCRATCH_URL and an AUR_CONFIG file), instead of schema/
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "CMD")]
    schema_command: Option<String>,

    /// Seconds the schema command may run [default: 300]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "SECS")]
    schema_command_timeout: Option<u64>,

    /// Seconds to wait for the migration lock [default: 60]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "SECS")]
    lock_timeout: Option<u64>,

    /// Seconds to wait for a connection [default: 10]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "SECS")]
    connect_timeout: Option<u64>,

    /// Cancel a statement that runs longer than this many seconds (MySQL: KILL QUERY); the
    /// migration then fails [default: off]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "SECS")]
    statement_timeout: Option<u64>,

    /// Seconds each DDL statement waits for its metadata lock before it gives way and is
    /// retried, twice (MySQL/MariaDB); 0: as long as --lock-timeout [default: 5]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "SECS")]
    ddl_lock_wait: Option<u64>,

    /// Refuse a run whose pending DDL the server would run with a costlier algorithm
    /// (MySQL/MariaDB; proven on an empty copy; each DDL then runs with its proven clause)
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "ALGORITHM", value_parser = ["instant", "nocopy", "inplace", "copy"], ignore_case = true)]
    max_algorithm: Option<String>,

    /// Refuse a run whose pending DDL the server would run with a stronger lock
    /// (MySQL/MariaDB; a migration may allow more with `-- aurweb-migrate: allow-lock=…`)
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "LOCK", value_parser = ["none", "shared", "exclusive"], ignore_case = true)]
    max_lock: Option<String>,

    /// TOML config file [default: ./aurweb-migrate.toml when present]
    #[arg(short = 'c', long, global = true, help_heading = GLOBAL, value_name = "FILE")]
    config: Option<PathBuf>,

    /// aurweb's INI config file [default: $AUR_CONFIG]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "FILE")]
    aur_config: Option<PathBuf>,

    /// Output format
    #[arg(long, global = true, help_heading = GLOBAL, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,

    /// More output (-v: settings and plans; -vv: debug logs on stderr)
    #[arg(short, long, global = true, help_heading = GLOBAL, action = clap::ArgAction::Count)]
    verbose: u8,

    /// Only errors
    #[arg(short, long, global = true, help_heading = GLOBAL, conflicts_with = "verbose")]
    quiet: bool,

    /// Log format on stderr: text, or one JSON object per line
    #[arg(long, global = true, help_heading = GLOBAL, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutputFormat {
    Human,
    Json,
}

/// How log lines (tracing) are written on stderr.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum AdoptFrom {
    /// Alembic's alembic_version table, mapped through `-- alembic-revision:` lines
    Alembic,
}

#[derive(Debug, Subcommand)]
// A command's own arguments are made when it is parsed or shown, not for every command.
#[command(defer = true)]
enum DatabaseCmd {
    /// Create the database when it does not exist (utf8mb4 on MySQL/MariaDB); nothing changes
    /// when it does
    Create,
    /// Drop the database, with everything in it
    Drop {
        /// Required: say that the database and all its data are to go
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
// A command's own arguments are made when it is parsed or shown, not for every command.
#[command(defer = true)]
enum SchemaCmd {
    /// Print the database's schema in the canonical, diffable form
    Dump,
    /// Compare the database's schema with the head (exit 1 when they differ)
    Diff,
    /// Print the SQLite schema file rendered from the MySQL one (needs a MySQL/MariaDB server,
    /// -d mysql://…, for a scratch database); with a schema command, write schema/mysql.sql
    /// (with a server) and schema/sqlite.sql from what it builds
    Render {
        /// The dialect to render (sqlite: from schema/mysql.sql; required without a schema
        /// command)
        #[arg(long, value_enum)]
        dialect: Option<DialectArg>,
    },
    /// Write the schema file(s) from a replay of the migrations, with their schema-version
    /// line, for fresh installs, verify and new --autogenerate (with -d mysql://…: mysql.sql
    /// and sqlite.sql, its rendering; else sqlite.sql)
    Init {
        /// Write this dialect's file only
        #[arg(long, value_enum)]
        dialect: Option<DialectArg>,
        /// Replace a schema file that exists
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
// A command's own arguments are made when it is parsed or shown, not for every command.
#[command(defer = true)]
enum ConfigCmd {
    /// Show the config migrations and what each would change in the file
    Status {
        /// The site config file [default: --aur-config, else $AUR_CONFIG]
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
    },
    /// Exit 1 when an operation would change the file, is ambiguous, or when a renamed or
    /// removed name is present again (works on any file, e.g. a rendered template)
    Check {
        /// The config file to check [default: --aur-config, else $AUR_CONFIG]
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
    },
    /// Apply pending config migrations to the file in place (atomic; everything else stays
    /// byte for byte)
    Upgrade {
        /// The site config file [default: --aur-config, else $AUR_CONFIG]
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        /// Print the change as a unified diff, writing nothing
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DialectArg {
    Mysql,
    Sqlite,
}

#[derive(Debug, Subcommand)]
// A command's own arguments are made when it is parsed or shown, not for every command.
#[command(defer = true)]
enum Cmd {
    /// Write the next migration file(s) and print their paths
    New {
        /// What the migration does; becomes the file's slug (with --redo: the replaced draft's
        /// when not given)
        #[arg(required_unless_present = "redo")]
        description: Option<String>,
        /// Also write a reverse (.down.sql) file
        #[arg(long)]
        reversible: bool,
        /// Write a dialect-specific variant instead of a portable file (repeatable)
        #[arg(long, value_enum, conflicts_with = "autogenerate")]
        dialect: Vec<DialectArg>,
        /// Write the statements too: what turns a replay of the migrations into schema/
        /// (edit schema/mysql.sql first), proved in scratch databases before writing
        #[arg(long)]
        autogenerate: bool,
        /// With --autogenerate: a rename instead of a drop and an add (TABLE.OLD=NEW for a
        /// column, OLD=NEW for a table; repeatable)
        #[arg(long, value_name = "OLD=NEW", requires = "autogenerate")]
        rename: Vec<String>,
        /// With --autogenerate: a database with data (say, a copy of production) whose rows
        /// the markers of new keys and NOT NULL columns count, read-only (-d names only the
        /// server for the scratch databases)
        #[arg(long, value_name = "URL", requires = "autogenerate")]
        probe_database: Option<String>,
        /// With --autogenerate: replace the newest migration, a draft this command wrote and
        /// nobody edited or applied since, under the same version (its files and the schema
        /// files' schema-version lines), e.g. to follow a marker's advice to pass --rename
        #[arg(long, requires = "autogenerate")]
        redo: bool,
    },
    /// Show every migration with its state
    Status {
        /// List only the pending migrations (and any problem)
        #[arg(long)]
        pending: bool,
    },
    /// Create or drop the configured database (MySQL/MariaDB: on its server; SQLite: the file)
    #[command(subcommand)]
    Database(DatabaseCmd),
    /// Block until the database server accepts a connection (exit 0), or exit 3 after --timeout
    Wait {
        /// Seconds to keep trying
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        timeout: u64,
    },
    /// Validate, then apply pending migrations
    Upgrade {
        /// Apply pending migrations up to and including this version
        #[arg(long, value_name = "VERSION", value_parser = version_number)]
        to: Option<u64>,
        /// Print the statements that would run, without running them
        #[arg(long)]
        dry_run: bool,
        /// Run every pending migration in one transaction (SQLite)
        #[arg(long)]
        single_transaction: bool,
        /// Apply pending versions older than the newest applied one
        #[arg(long)]
        allow_out_of_order: bool,
        /// Continue a failed migration after its already committed statements, when those
        /// are unchanged in the file
        #[arg(long)]
        resume: bool,
        /// On an empty database, run every migration instead of building the schema from
        /// the schema directory
        #[arg(long)]
        replay: bool,
        /// Do not rehearse the pending statements on an empty copy of the tables nor probe
        /// the live rows for values a new key or NOT NULL would reject before running them
        #[arg(long)]
        no_probes: bool,
        /// Print the upgrade as an SQL script (history-table statements included) without
        /// connecting to a database, for review; apply it with `mariadb` or `sqlite3`
        #[arg(long, conflicts_with_all = ["dry_run", "single_transaction", "allow_out_of_order", "resume", "no_probes"])]
        sql: bool,
        /// With --sql: the dialect to write [default: the configured database's]
        #[arg(long, value_enum, requires = "sql")]
        dialect: Option<DialectArg>,
        /// With --sql: the version the database is at [default: an empty database]
        #[arg(long, value_name = "VERSION", requires = "sql", value_parser = version_number)]
        from: Option<u64>,
    },
    /// Revert the newest applied migration, or with --to every one above VERSION, newest first
    Downgrade {
        /// The version to stay at (0 reverts everything) [default: the one below the newest
        /// applied version: exactly one migration is reverted]
        #[arg(long, value_name = "VERSION", value_parser = version_number)]
        to: Option<u64>,
        /// Print the reverse statements that would run, without running them
        #[arg(long)]
        dry_run: bool,
        /// Print the downgrade as an SQL script (version-table statements included) without
        /// connecting; needs --from
        #[arg(long, conflicts_with = "dry_run", requires = "from")]
        sql: bool,
        /// With --sql: the dialect to write [default: the configured database's]
        #[arg(long, value_enum, requires = "sql")]
        dialect: Option<DialectArg>,
        /// With --sql: the version the database is at
        #[arg(long, value_name = "VERSION", requires = "sql", value_parser = version_number)]
        from: Option<u64>,
    },
    /// Exit 1 when anything is pending, modified, missing or failed
    Check {
        /// Also fail when the live schema differs from the one its history says it has
        #[arg(long)]
        drift: bool,
    },
    /// Adopt a database without history: record versions up to VERSION as applied, running
    /// nothing (a database without any version table is compared with VERSION's schema first)
    Baseline {
        /// The version the database's schema is at
        #[arg(value_parser = version_number)]
        version: u64,
        /// Record the versions even when the schema differs, listing the differences
        #[arg(long)]
        accept_drift: bool,
    },
    /// Take over a database another tool migrated, running nothing on it
    Adopt {
        /// The tool whose version table to read
        #[arg(long, value_enum)]
        from: AdoptFrom,
        /// Record the versions even when the schema differs, listing the differences
        #[arg(long)]
        accept_drift: bool,
    },
    /// Check the repository: schema/ equals a replay of migrations/ on scratch databases
    /// (SQLite always; MySQL/MariaDB on the server the database setting names, required when
    /// schema/ holds mysql.sql)
    Verify {
        /// Check this dialect only, and say what was skipped
        #[arg(long, value_enum)]
        dialect: Option<DialectArg>,
    },
    /// Show or compare a database's schema
    #[command(subcommand)]
    Schema(SchemaCmd),
    /// Record pending versions up to VERSION as applied, running nothing
    Stamp {
        /// The newest version to record
        #[arg(value_parser = version_number)]
        version: u64,
    },
    /// Settle a failed migration after fixing it by hand, or accept an edit of an applied file
    #[command(group(ArgGroup::new("how").required(true).args(["applied", "rolled_back", "accept_edit"])))]
    Resolve {
        /// The failed (or, with --accept-edit, the edited) version
        #[arg(value_parser = version_number)]
        version: u64,
        /// You completed the migration by hand
        #[arg(long)]
        applied: bool,
        /// You undid what the migration had committed
        #[arg(long)]
        rolled_back: bool,
        /// The applied file was edited: record its current checksum, knowingly (the database
        /// keeps what the file did when it ran; the output says whether its statements changed)
        #[arg(long)]
        accept_edit: bool,
    },
    /// List the migrations on disk (no database needed)
    History,
    /// Migrate aurweb's site config file with the config migrations (<VERSION>_<slug>.config.toml;
    /// no database needed)
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Print a shell completion script on stdout
    Completions {
        /// The shell to write the script for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout, e.g. `aurweb-migrate man | man -l -`
    Man {
        /// Instead, write every page (aurweb-migrate.1, aurweb-migrate-upgrade.1, …) into DIR
        /// (created if missing)
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

/// Whether raw arguments ask for JSON output (`--format json` or `--format=json`, anywhere
/// before a `--`), for errors the parser reports before any argument is known.
pub fn wants_json<I: IntoIterator<Item = std::ffi::OsString>>(args: I) -> bool {
    let mut previous_was_flag = false;
    for arg in args.into_iter().skip(1) {
        let arg = arg.to_string_lossy();
        if arg == "--" {
            return false;
        }
        if previous_was_flag {
            if arg == "json" {
                return true;
            }
            previous_was_flag = false;
        }
        if arg == "--format=json" {
            return true;
        }
        if arg == "--format" {
            previous_was_flag = true;
        }
    }
    false
}

/// What the command line asks for.
pub enum Invocation {
    /// `completions` and `man`: text made from the argument definitions alone (no settings,
    /// no database), or why it could not be written.
    Generated(aurweb_migrate::Result<String>),
    /// Everything else: a request for the library (boxed: it is much the larger).
    Run(Box<Request>),
}

/// The shell completion script for `shell`.
fn completions(shell: clap_complete::Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "aurweb-migrate", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The main man page (`None`), or every page written into `out_dir` (nothing printed).
fn man(out_dir: Option<&std::path::Path>) -> aurweb_migrate::Result<String> {
    // The pages document the commands; `help` is the --help flag's business.
    let command = || Cli::command().disable_help_subcommand(true);
    let Some(dir) = out_dir else {
        return Ok(String::from_utf8_lossy(&man_page(command())).into_owned());
    };
    std::fs::create_dir_all(dir)
        .and_then(|()| clap_mangen::generate_to(command(), dir))
        // The main page with the sections clap_mangen does not write.
        .and_then(|()| std::fs::write(dir.join("aurweb-migrate.1"), man_page(command())))
        .map(|()| String::new())
        .map_err(|e| aurweb_migrate::Error::ManPages {
            dir: dir.to_path_buf(),
            message: e.to_string(),
        })
}

impl Cli {
    /// The process's arguments, parsed as [`Parser::try_parse`] does.
    ///
    /// Start-up cost (issue 31 item 3): clap copies every global option into every command of
    /// the tree it builds, so the arguments are first parsed against a narrow tree, the root
    /// and only the command they name (found as the first argument equal to a command's name).
    /// A narrow tree accepts nothing the whole one would read otherwise: before the command's
    /// name only root options parse, and from it on the command is the same. Anything the
    /// narrow tree does not accept (an error, `--help`, `--version`, `help`, no command) is
    /// parsed again against the whole tree, which says what it always said. Either tree is
    /// left to the process's exit instead of freed: freeing its many small allocations cost a
    /// no-op `upgrade` about an eighth of its instructions (callgrind, N = 10).
    pub fn parse_args() -> Result<Cli, clap::Error> {
        let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        if let Some(cli) = Cli::parse_narrow(&args) {
            return Ok(cli);
        }
        Cli::parse_whole(args)
    }

    /// `args` parsed against the whole command tree.
    fn parse_whole(args: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
        use clap::FromArgMatches;
        let mut command = Cli::command();
        let parsed = match command.try_get_matches_from_mut(args) {
            Ok(mut matches) => {
                let cli =
                    Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut command));
                std::mem::forget(matches);
                cli
            }
            Err(e) => Err(e),
        };
        std::mem::forget(command);
        parsed
    }

    /// `args` parsed against the root and the one command they name; `None` when they name
    /// none or that tree does not accept them.
    fn parse_narrow(args: &[std::ffi::OsString]) -> Option<Cli> {
        use clap::FromArgMatches;
        let commands = Cmd::augment_subcommands(clap::Command::new("aurweb-migrate"));
        let name = args
            .iter()
            .skip(1)
            .take_while(|a| *a != "--")
            .find(|a| commands.find_subcommand(a).is_some())?;
        let command = commands.find_subcommand(name)?.clone();
        std::mem::forget(commands);
        let mut narrow = Root::command()
            .subcommand_required(true)
            .arg_required_else_help(true)
            .subcommand(command);
        let parsed = narrow
            .try_get_matches_from_mut(args)
            .ok()
            .and_then(|mut matches| {
                let cli = Cli::from_arg_matches_mut(&mut matches).ok();
                std::mem::forget(matches);
                cli
            });
        std::mem::forget(narrow);
        parsed
    }

    pub fn log_format(&self) -> LogFormat {
        self.globals.log_format
    }

    pub fn into_invocation(self) -> Invocation {
        let dialect = |d: DialectArg| match d {
            DialectArg::Mysql => Dialect::Mysql,
            DialectArg::Sqlite => Dialect::Sqlite,
        };
        let command = match self.command {
            Cmd::New {
                description,
                reversible,
                dialect: dialects,
                autogenerate,
                rename,
                probe_database,
                redo,
            } => Sql(SqlCommand::New {
                description,
                reversible,
                dialects: dialects.into_iter().map(dialect).collect(),
                autogenerate,
                renames: rename,
                probe_database,
                redo,
            }),
            Cmd::Status { pending } => Sql(SqlCommand::Status { pending }),
            Cmd::Database(DatabaseCmd::Create) => Sql(SqlCommand::DatabaseCreate),
            Cmd::Database(DatabaseCmd::Drop { yes }) => Sql(SqlCommand::DatabaseDrop { yes }),
            Cmd::Wait { timeout } => Sql(SqlCommand::Wait { timeout }),
            Cmd::Upgrade {
                to,
                replay,
                sql: true,
                dialect: d,
                from,
                ..
            } => Sql(SqlCommand::UpgradeScript {
                dialect: d.map(dialect),
                from,
                to,
                replay,
            }),
            Cmd::Upgrade {
                to,
                dry_run,
                single_transaction,
                allow_out_of_order,
                resume,
                replay,
                no_probes,
                ..
            } => Sql(SqlCommand::Upgrade {
                dry_run,
                flags: UpgradeFlags {
                    to,
                    single_transaction,
                    allow_out_of_order,
                    resume,
                    replay,
                    no_probes,
                },
            }),
            Cmd::Downgrade {
                to,
                sql: true,
                dialect: d,
                from,
                ..
            } => Sql(SqlCommand::DowngradeScript {
                dialect: d.map(dialect),
                from: from.unwrap_or_default(),
                to,
            }),
            Cmd::Downgrade { to, dry_run, .. } => Sql(SqlCommand::Downgrade { to, dry_run }),
            Cmd::Check { drift } => Sql(SqlCommand::Check { drift }),
            Cmd::Baseline {
                version,
                accept_drift,
            } => Sql(SqlCommand::Baseline {
                version,
                accept_drift,
            }),
            Cmd::Adopt {
                from: AdoptFrom::Alembic,
                accept_drift,
            } => Sql(SqlCommand::Adopt { accept_drift }),
            Cmd::Verify { dialect: d } => Sql(SqlCommand::Verify {
                dialect: d.map(dialect),
            }),
            Cmd::Schema(SchemaCmd::Dump) => Sql(SqlCommand::SchemaDump),
            Cmd::Schema(SchemaCmd::Diff) => Sql(SqlCommand::SchemaDiff),
            Cmd::Schema(SchemaCmd::Render { dialect: d }) => Sql(SqlCommand::SchemaRender {
                dialect: d.map(dialect),
            }),
            Cmd::Schema(SchemaCmd::Init { dialect: d, force }) => Sql(SqlCommand::SchemaInit {
                dialect: d.map(dialect),
                force,
            }),
            Cmd::Stamp { version } => Sql(SqlCommand::Stamp { version }),
            Cmd::Resolve {
                version,
                applied,
                accept_edit,
                ..
            } => Sql(SqlCommand::Resolve {
                version,
                resolution: if applied {
                    Resolution::Applied
                } else if accept_edit {
                    Resolution::AcceptEdit
                } else {
                    Resolution::RolledBack
                },
            }),
            Cmd::History => Sql(SqlCommand::History),
            Cmd::Config(c) => {
                let (action, file) = match c {
                    ConfigCmd::Status { file } => (ConfigAction::Status, file),
                    ConfigCmd::Check { file } => (ConfigAction::Check, file),
                    ConfigCmd::Upgrade { file, dry_run } => {
                        (ConfigAction::Upgrade { dry_run }, file)
                    }
                };
                Command::Config { action, file }
            }
            Cmd::Completions { shell } => return Invocation::Generated(Ok(completions(shell))),
            Cmd::Man { out_dir } => return Invocation::Generated(man(out_dir.as_deref())),
        };
        Invocation::Run(Box::new(Request {
            overrides: Overrides {
                database_url: self.globals.database_url,
                migrations: self.globals.migrations,
                schema: self.globals.schema,
                table: self.globals.table,
                lock_timeout: self.globals.lock_timeout,
                connect_timeout: self.globals.connect_timeout,
                statement_timeout: self.globals.statement_timeout,
                ddl_lock_wait: self.globals.ddl_lock_wait,
                max_algorithm: self.globals.max_algorithm,
                max_lock: self.globals.max_lock,
                config: self.globals.config,
                aur_config: self.globals.aur_config,
                schema_command: self.globals.schema_command,
                schema_command_timeout: self.globals.schema_command_timeout,
            },
            format: match self.globals.format {
                OutputFormat::Human => Format::Human,
                OutputFormat::Json => Format::Json,
            },
            verbose: self.globals.verbose,
            quiet: self.globals.quiet,
            command,
        }))
    }
}

/// A version number as written in file names: digits only. `+1` or `-1` (a relative step, as
/// in Alembic) is refused rather than read as version 1.
fn version_number(text: &str) -> Result<u64, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{text:?} is not a version number (digits only; relative steps such as +1 or -1 are not versions)"
        ));
    }
    text.parse()
        .map_err(|_| format!("{text:?} is too large for a version number"))
}

/// The main man page: clap_mangen's sections, then EXIT STATUS, ENVIRONMENT, FILES and EXAMPLES
/// (what docs/reference.md says about them, in short), then the version.
fn man_page(command: clap::Command) -> Vec<u8> {
    use clap_mangen::roff::{bold, roman, Roff};
    let man = clap_mangen::Man::new(command);
    let mut out = Vec::new();
    let render = |out: &mut Vec<u8>, f: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
        f(out).expect("rendering into memory does not fail")
    };
    render(&mut out, &|w| man.render_title(w));
    render(&mut out, &|w| man.render_name_section(w));
    render(&mut out, &|w| man.render_synopsis_section(w));
    render(&mut out, &|w| man.render_description_section(w));
    render(&mut out, &|w| man.render_options_section(w));
    render(&mut out, &|w| man.render_subcommands_section(w));
    let mut roff = Roff::new();
    let mut section = |title: &str, items: &[(&str, &str)]| {
        roff.control("SH", [title]);
        for (term, text) in items {
            roff.control("TP", []);
            roff.text([bold(*term)]);
            roff.text([roman(*text)]);
        }
    };
    section(
        "EXIT STATUS",
        &[
            ("0", "success; also a run with nothing to do"),
            ("1", "check found problems; verify or schema diff found differences; config check: the file has something to migrate"),
            ("2", "usage or input error: arguments, configuration, migration files (with file and line)"),
            ("3", "cannot connect, or a database error outside a migration; wait timed out"),
            ("4", "a migration failed (rolled back where the dialect allows, else recorded as failed)"),
            ("5", "refused: the history conflicts with the files, tables without history, a drifted schema on adoption; config upgrade: an ambiguous target"),
            ("6", "the migration lock was not obtained within --lock-timeout"),
            ("130, 143", "interrupted by SIGINT or SIGTERM; the message says what state the database is left in"),
        ],
    );
    section(
        "ENVIRONMENT",
        &[
            (
                "AURWEB_MIGRATE_DATABASE_URL",
                "the database URL (before DATABASE_URL); the place for a URL with a password",
            ),
            (
                "DATABASE_URL",
                "the database URL when AURWEB_MIGRATE_DATABASE_URL is not set",
            ),
            (
                "AUR_CONFIG",
                "aurweb's INI config, read for [database] when nothing else names a database; the file the config commands migrate",
            ),
            (
                "AUR_CONFIG_DEFAULTS",
                "the defaults read before AUR_CONFIG (default: $AUR_CONFIG.defaults)",
            ),
            ("RUST_LOG", "which log lines go to stderr (wins over -v)"),
            ("NO_COLOR, TERM=dumb", "no colour on a terminal"),
        ],
    );
    section(
        "FILES",
        &[
            ("./aurweb-migrate.toml", "the config file when --config is not given"),
            ("./migrations/", "<VERSION>_<slug>[.down][.mysql|.sqlite].sql; without it an error, unless -m builtin (or aurweb's config naming the database) asks for the migrations built into the binary"),
            ("./schema/", "mysql.sql and sqlite.sql, the full current schema a fresh database is built from"),
            ("./migrations/<VERSION>_<slug>.config.toml", "config migrations: operations on aurweb's site config, applied by config upgrade"),
            ("/etc/aurweb/config", "aurweb's config, through AUR_CONFIG or --aur-config"),
        ],
    );
    section(
        "EXAMPLES",
        &[
            ("aurweb-migrate status", "every migration with its state"),
            (
                "aurweb-migrate upgrade --format json",
                "apply what is pending, as an Ansible task does (changed in the JSON)",
            ),
            (
                "aurweb-migrate upgrade --sql --dialect mysql --from 17",
                "the upgrade as a script for review, without connecting",
            ),
            ("aurweb-migrate downgrade", "revert the newest migration"),
            (
                "aurweb-migrate new --reversible \"add a column\"",
                "write the next migration and its reverse file",
            ),
            (
                "aurweb-migrate check --drift",
                "fail a CI build with pending migrations or schema drift",
            ),
            (
                "aurweb-migrate config upgrade --dry-run --file /etc/aurweb/config",
                "the site config's pending config migrations as a unified diff",
            ),
            (
                "aurweb-migrate config check --file rendered-config",
                "fail a CI build when a config template still uses renamed or removed options",
            ),
            (
                "aurweb-migrate wait --timeout 60 && aurweb-migrate upgrade",
                "wait for the server, then migrate",
            ),
        ],
    );
    roff.to_writer(&mut out)
        .expect("rendering into memory does not fail");
    render(&mut out, &|w| man.render_version_section(w));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every argument of every command has help text, so the man page and --help explain each.
    #[test]
    fn every_argument_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                if sub.get_about().is_none() {
                    missing.push(format!("{path} {} (no about)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        // Built: each command's own arguments are made then (`defer`).
        let mut command = Cli::command();
        command.build();
        walk(&command, "aurweb-migrate", &mut missing);
        assert!(missing.is_empty(), "arguments without help: {missing:?}");
    }

    #[test]
    fn the_man_page_has_the_usual_sections() {
        let page = String::from_utf8(man_page(Cli::command())).unwrap();
        for section in [
            "EXIT STATUS",
            "ENVIRONMENT",
            "FILES",
            "EXAMPLES",
            "OPTIONS",
            "SUBCOMMANDS",
        ] {
            assert!(
                page.contains(&format!(".SH \"{section}\""))
                    || page.contains(&format!(".SH {section}")),
                "no {section} section"
            );
        }
        assert!(page.contains("AURWEB_MIGRATE_DATABASE_URL"));
        // The config migrations: their files and the command that applies them.
        assert!(
            page.contains("config.toml"),
            "FILES names the config migrations"
        );
        assert!(
            page.contains("config upgrade"),
            "EXAMPLES shows config upgrade"
        );
    }

    /// The narrow tree's root is the whole tree's without its commands: same name, version,
    /// texts, width and options.
    #[test]
    fn the_narrow_root_is_the_whole_root() {
        let mut whole = Cli::command();
        whole.build();
        let mut root = Root::command();
        root.build();
        assert_eq!(root.get_name(), whole.get_name());
        assert_eq!(root.get_version(), whole.get_version());
        assert_eq!(
            root.get_about().map(ToString::to_string),
            whole.get_about().map(ToString::to_string)
        );
        assert_eq!(
            root.get_long_about().map(ToString::to_string),
            whole.get_long_about().map(ToString::to_string)
        );
        let args = |c: &clap::Command| -> Vec<String> {
            c.get_arguments().map(|a| format!("{a:?}")).collect()
        };
        assert_eq!(args(&root), args(&whole));
    }

    /// Every command line the narrow tree accepts parses as the whole tree parses it.
    #[test]
    fn the_narrow_tree_parses_as_the_whole_tree() {
        let lines: &[&[&str]] = &[
            &["status"],
            &[
                "--database-url",
                "sqlite:///x.db",
                "--migrations",
                "m",
                "status",
            ],
            &[
                "-d",
                "sqlite://x",
                "status",
                "--pending",
                "-v",
                "--format",
                "json",
            ],
            &["upgrade", "--to", "3", "--no-probes", "-q"],
            &["--table", "upgrade", "upgrade", "--dry-run"],
            &["-vv", "--log-format", "json", "check", "--drift"],
            &["schema", "render", "--dialect", "sqlite"],
            &["database", "drop", "--yes"],
            &["config", "upgrade", "--dry-run", "--file", "f"],
            &["resolve", "3", "--applied"],
            &["new", "add a thing", "--reversible"],
            &["upgrade", "--sql", "--dialect", "mysql", "--from", "2"],
            &["--max-lock", "SHARED", "upgrade"],
        ];
        for line in lines {
            let args: Vec<std::ffi::OsString> = std::iter::once("aurweb-migrate")
                .chain(line.iter().copied())
                .map(Into::into)
                .collect();
            let narrow = Cli::parse_narrow(&args)
                .unwrap_or_else(|| panic!("the narrow tree accepts {line:?}"));
            let whole = Cli::parse_whole(args.clone()).expect("the whole tree accepts it");
            assert_eq!(format!("{narrow:?}"), format!("{whole:?}"), "{line:?}");
        }
        for line in [
            &["--help"][..],
            &["status", "--help"],
            &["help", "status"],
            &["--table", "status"],
            // The first command name is --table's value: the narrow tree has no `upgrade`.
            &["--table", "status", "upgrade"],
            &["statu"],
            &["status", "--bogus"],
            &["--version"],
            &[],
        ] {
            let args: Vec<std::ffi::OsString> = std::iter::once("aurweb-migrate")
                .chain(line.iter().copied())
                .map(Into::into)
                .collect();
            assert!(
                Cli::parse_narrow(&args).is_none(),
                "{line:?} goes to the whole tree"
            );
        }
    }
}
