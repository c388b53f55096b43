//! Commands: one [`Request`] → one short arm per command in [`dispatch`], each a checklist in
//! its family's file (`upgrade`, `record`, `inspect`, `schema`) that loads, opens, calls the
//! library and hands a typed result to [`report`]. The binary's clap types stop at
//! [`Request`]; the settings are resolved once into a [`session::Session`].

mod config_file;
mod generate;
mod inspect;
mod record;
mod schema;
mod session;
mod upgrade;

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::report::{self, Format};
use crate::run::{Outcome, Resolution};
use crate::settings::{self, Overrides};
use crate::source::Location;

pub use config_file::ConfigAction;
use session::Session;

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

#[derive(Debug, Clone)]
pub enum Command {
    New {
        description: String,
        reversible: bool,
        dialects: Vec<Dialect>,
        /// Write the statements from the difference between `schema/` and a replay.
        autogenerate: bool,
        /// `--rename` arguments (with `autogenerate`).
        renames: Vec<String>,
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
        dialect: Dialect,
    },
    Stamp {
        version: u64,
    },
    Resolve {
        version: u64,
        resolution: Resolution,
    },
    History,
    /// `config status|check|upgrade`: the site config file; `file`: `--file` [default: the
    /// `--aur-config` flag, else `AUR_CONFIG`].
    Config {
        action: ConfigAction,
        file: Option<std::path::PathBuf>,
    },
}

impl Command {
    /// Whether the command opens the target database (`history`, `new`, `verify` and
    /// `upgrade --sql` do not).
    pub fn opens_database(&self) -> bool {
        !matches!(
            self,
            Command::New { .. }
                | Command::UpgradeScript { .. }
                | Command::DowngradeScript { .. }
                | Command::History
                | Command::Verify { .. }
                | Command::SchemaRender { .. }
                | Command::DatabaseCreate
                | Command::DatabaseDrop { .. }
                | Command::Wait { .. }
                | Command::Config { .. }
        )
    }

    /// The JSON key that lists the versions a command records (and so its error document
    /// lists, empty when it failed before recording any); `None` for the other commands.
    pub fn records_key(&self) -> Option<&'static str> {
        match self {
            Command::Upgrade { dry_run: false, .. } => Some("applied"),
            Command::Downgrade { dry_run: false, .. } => Some("reverted"),
            Command::Baseline { .. } | Command::Stamp { .. } | Command::Adopt { .. } => {
                Some("recorded")
            }
            _ => None,
        }
    }
}

/// Runs a request. Returns the exit code on success (0, or 1 when `check`, `verify` or
/// `schema diff` find something). With `--format json`, an error's JSON document has already
/// been printed on stdout when this returns `Err`; the caller prints the message on stderr
/// and exits with its code.
pub async fn run(request: Request) -> Result<i32> {
    let cwd = std::env::current_dir()
        .map_err(|e| Error::Usage(format!("cannot read the working directory: {e}")))?;
    let env = |name: &str| std::env::var(name).ok();
    report::set_quiet(request.quiet);
    crate::backend::on_lock_wait(lock_wait, crate::report::progress::wait_over);
    // A `config` command works on the file it names and never on a database: aurweb's config
    // is not read for [database] (a template may have none), and AUR_CONFIG names the file.
    let config_file = match &request.command {
        Command::Config { file, .. } => match file
            .clone()
            .or_else(|| request.overrides.aur_config.clone())
            .or_else(|| env("AUR_CONFIG").filter(|v| !v.is_empty()).map(Into::into))
        {
            Some(f) => Some(cwd.join(f)),
            None => {
                let e = Error::Usage(
                    "no config file: give --file PATH (or --aur-config, or set AUR_CONFIG)".into(),
                );
                return fail(&request, e, None);
            }
        },
        _ => None,
    };
    let mut overrides = request.overrides.clone();
    let hide_aur = config_file.is_some();
    if hide_aur {
        overrides.aur_config = None;
    }
    let env = |name: &str| {
        if hide_aur && name == "AUR_CONFIG" {
            None
        } else {
            env(name)
        }
    };
    let session = match settings::resolve(&overrides, &env, &cwd)
        .and_then(|settings| Session::new(&request, settings))
    {
        Ok(s) => s,
        Err(e) => return fail(&request, e, None),
    };
    if !request.quiet {
        for w in &session.settings.warnings {
            report::warn(w);
        }
    }
    if request.format == Format::Human
        && !request.quiet
        && request.command.opens_database()
        && session.settings.migrations.value == Location::Embedded
    {
        report::note(&report::embedded_notice(
            &session.settings.migrations.origin,
        ));
    }
    if let (Some(file), Command::Config { action, .. }) = (&config_file, &request.command) {
        return config_file::run(&session, file, *action).or_else(|e| fail(&request, e, None));
    }
    match dispatch(&session).await {
        Ok(code) => Ok(code),
        Err((e, partial)) => fail(&request, e, partial.as_ref().map(|(o, k)| (o, *k))),
    }
}

/// A run waits for the migration lock: said once on stderr, and on a terminal shown by a line
/// that keeps its clock running until the wait is over.
fn lock_wait(message: &str) {
    report::waiting(message);
    crate::report::progress::show_wait(message, report::quiet());
}

/// An error, with what the run changed before it and the JSON key that lists those changes.
type Failure = (Error, Option<(Outcome, &'static str)>);

/// A failure that changed nothing.
fn plain(e: Error) -> Failure {
    (e, None)
}

fn fail(request: &Request, e: Error, partial: Option<(&Outcome, &str)>) -> Result<i32> {
    if request.format == Format::Json {
        let nothing = Outcome::default();
        let partial = partial.or(request.command.records_key().map(|k| (&nothing, k)));
        report::print_json(&report::error_json(&e, partial));
    }
    Err(e)
}

/// One arm per command; the exit code on success.
async fn dispatch(s: &Session<'_>) -> std::result::Result<i32, Failure> {
    match &s.request.command {
        Command::New {
            description,
            reversible,
            autogenerate: true,
            renames,
            ..
        } => generate::autogenerate(s, description, *reversible, renames)
            .await
            .map_err(plain),
        Command::New {
            description,
            reversible,
            dialects,
            ..
        } => inspect::new(s, description, *reversible, dialects).map_err(plain),
        Command::History => inspect::history(s).map_err(plain),
        Command::Status { pending } => inspect::status(s, *pending).await.map_err(plain),
        Command::DatabaseCreate => record::database_create(s).await.map_err(plain),
        Command::DatabaseDrop { yes } => record::database_drop(s, *yes).await.map_err(plain),
        Command::Wait { timeout } => record::wait(s, *timeout).await.map_err(plain),
        Command::Check { drift } => inspect::check(s, *drift).await.map_err(plain),
        Command::Upgrade {
            to,
            dry_run,
            single_transaction,
            allow_out_of_order,
            resume,
            replay,
        } => {
            let flags = upgrade::Flags {
                to: *to,
                single_transaction: *single_transaction,
                allow_out_of_order: *allow_out_of_order,
                resume: *resume,
                replay: *replay,
            };
            if *dry_run {
                upgrade::dry_run(s, flags).await.map_err(plain)
            } else {
                upgrade::upgrade(s, flags).await
            }
        }
        Command::UpgradeScript {
            dialect,
            from,
            to,
            replay,
        } => upgrade::script(s, *dialect, *from, *to, *replay).map_err(plain),
        Command::Downgrade { to, dry_run } => upgrade::downgrade(s, *to, *dry_run).await,
        Command::DowngradeScript { dialect, from, to } => {
            upgrade::downgrade_script(s, *dialect, *from, *to).map_err(plain)
        }
        Command::Baseline {
            version,
            accept_drift,
        } => record::baseline(s, *version, *accept_drift)
            .await
            .map_err(plain),
        Command::Stamp { version } => record::stamp(s, *version).await.map_err(plain),
        Command::Adopt { accept_drift } => record::adopt(s, *accept_drift).await.map_err(plain),
        Command::Resolve {
            version,
            resolution,
        } => record::resolve(s, *version, *resolution)
            .await
            .map_err(plain),
        Command::Verify { dialect } => schema::verify(s, *dialect).await.map_err(plain),
        Command::SchemaDump => schema::dump(s).await.map_err(plain),
        Command::SchemaDiff => schema::diff(s).await.map_err(plain),
        Command::SchemaRender { dialect } => schema::render(s, *dialect).await.map_err(plain),
        Command::Config { .. } => unreachable!("run handles `config` before dispatch"),
    }
}
