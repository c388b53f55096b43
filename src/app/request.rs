//! What one invocation asks for, free of any argument-parser types: the [`Request`] the binary
//! builds from its arguments, its [`Command`] (an SQL command or the site config's), and the
//! flags a command carries. A leaf of `app/`: every command file reads it, it reads none.

use crate::dialect::Dialect;
use crate::report::Format;
use crate::run::Resolution;
use crate::settings::Overrides;

/// One invocation of the tool, free of any argument-parser types.
#[derive(Debug, Clone)]
pub struct Request {
    pub overrides: Overrides,
    pub format: Format,
    /// `-v` count.
    pub verbose: u8,
    pub quiet: bool,
    pub command: Command,
}

/// What a request does. The database and the site config never meet: a command is one or
/// the other.
#[derive(Debug, Clone)]
pub enum Command {
    /// A command on the SQL migrations and the database.
    Sql(SqlCommand),
    /// `config status|check|upgrade`: the site config file; `file`: `--file` [default: the
    /// `--aur-config` flag, else `AUR_CONFIG`].
    Config {
        action: ConfigAction,
        file: Option<std::path::PathBuf>,
    },
}

/// A command on the SQL migrations and the database.
#[derive(Debug, Clone)]
pub enum SqlCommand {
    New {
        /// Always given but with `redo` (then the replaced draft's).
        description: Option<String>,
        reversible: bool,
        dialects: Vec<Dialect>,
        /// Write the statements from the difference between `schema/` and a replay.
        autogenerate: bool,
        /// `--rename` arguments (with `autogenerate`).
        renames: Vec<String>,
        /// `--probe-database URL` (with `autogenerate`): whose rows the markers count.
        probe_database: Option<String>,
        /// `--redo` (with `autogenerate`): replace the newest migration, an untouched draft.
        redo: bool,
    },
    Status {
        /// Only the pending migrations.
        pending: bool,
    },
    DatabaseCreate,
    DatabaseDrop {
        /// `--yes` was given.
        yes: bool,
    },
    /// Seconds to keep trying.
    Wait {
        timeout: u64,
    },
    Upgrade {
        dry_run: bool,
        flags: UpgradeFlags,
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
        /// `None`: revert the newest applied migration only.
        to: Option<u64>,
        dry_run: bool,
    },
    /// `downgrade --sql`: the downgrade as an SQL script, without connecting.
    DowngradeScript {
        dialect: Option<Dialect>,
        /// The version the database is at.
        from: u64,
        /// `None`: the version below `from` (one migration).
        to: Option<u64>,
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
    /// `schema render --dialect D`: D's schema file from the MySQL one.
    SchemaRender {
        dialect: Option<Dialect>,
    },
    /// `schema init [--dialect D] [--force]`: the schema file(s) from a replay.
    SchemaInit {
        dialect: Option<Dialect>,
        force: bool,
    },
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
    /// The JSON key that lists the versions a command records (and so its error document
    /// lists, empty when it failed before recording any); `None` for the other commands.
    pub fn records_key(&self) -> Option<&'static str> {
        match self {
            Command::Sql(command) => command.records_key(),
            Command::Config { .. } => None,
        }
    }
}

impl SqlCommand {
    /// Whether the command opens the target database (`history`, `new`, `verify` and
    /// `upgrade --sql` do not).
    pub fn opens_database(&self) -> bool {
        !matches!(
            self,
            SqlCommand::New { .. }
                | SqlCommand::UpgradeScript { .. }
                | SqlCommand::DowngradeScript { .. }
                | SqlCommand::History
                | SqlCommand::Verify { .. }
                | SqlCommand::SchemaRender { .. }
                | SqlCommand::SchemaInit { .. }
                | SqlCommand::DatabaseCreate
                | SqlCommand::DatabaseDrop { .. }
                | SqlCommand::Wait { .. }
        )
    }

    /// The JSON key that lists the versions a command records (and so its error document
    /// lists, empty when it failed before recording any); `None` for the other commands.
    pub fn records_key(&self) -> Option<&'static str> {
        match self {
            SqlCommand::Upgrade { dry_run: false, .. } => Some("applied"),
            SqlCommand::Downgrade { dry_run: false, .. } => Some("reverted"),
            SqlCommand::Baseline { .. } | SqlCommand::Stamp { .. } | SqlCommand::Adopt { .. } => {
                Some("recorded")
            }
            _ => None,
        }
    }
}

/// `upgrade`'s flags (the real run and `--dry-run` take the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpgradeFlags {
    /// `--to`: apply pending versions up to and including this one.
    pub to: Option<u64>,
    pub single_transaction: bool,
    pub allow_out_of_order: bool,
    pub resume: bool,
    /// On an empty database, run the migrations instead of building it from `schema/`.
    pub replay: bool,
    /// `--no-probes`: no rehearsal and no probes of the live rows before the run.
    pub no_probes: bool,
}

/// Which `config` command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigAction {
    Status,
    Check,
    Upgrade { dry_run: bool },
}
