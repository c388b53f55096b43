//! Commands: one [`Request`] → one short arm per command in [`dispatch`], each a checklist in
//! its family's file (`upgrade`, `record`, `inspect`, `schema`) that loads, opens, calls the
//! library and hands a typed result to [`report`]. The binary's clap types stop at
//! [`Request`]; the settings are resolved once into a [`session::Session`]. The two families
//! of commands are two types: a [`SqlCommand`] (the migration files and the database) and the
//! `config` command on the site config file (`config_file.rs`), which never opens a database.

mod config_file;
mod generate;
mod inspect;
mod record;
mod request;
mod schema;
mod session;
mod upgrade;

use std::path::Path;

use crate::error::{Error, Result};
use crate::report::{self, Format};
use crate::run::Outcome;
use crate::settings::{self, Overrides};
use crate::source::Location;

pub use request::{Command, ConfigAction, Request, SqlCommand, UpgradeFlags};
use session::{plain, Failure, Session};

/// Runs a request. Returns the exit code on success (0, or 1 when `check`, `verify` or
/// `schema diff` find something). With `--format json`, an error's JSON document has already
/// been printed on stdout when this returns `Err`; the caller prints the message on stderr
/// and exits with its code.
pub async fn run(request: Request) -> Result<i32> {
    let cwd = std::env::current_dir().map_err(|e| Error::WorkingDirectory {
        message: e.to_string(),
    })?;
    report::set_quiet(request.quiet);
    crate::backend::on_lock_wait(lock_wait, crate::report::progress::wait_over);
    match &request.command {
        Command::Sql(command) => sql(&request, command, &cwd).await,
        Command::Config { action, file } => config(&request, *action, file.as_deref(), &cwd)
            .map_err(|(e, evaluated)| {
                if request.format == Format::Json {
                    report::print_json(&report::config_error_json(&e, evaluated.as_deref()));
                }
                e
            }),
    }
}

/// An SQL command: the settings, the session, the warnings and the note of a built-in set not
/// asked for by name, then the command.
async fn sql(request: &Request, command: &SqlCommand, cwd: &Path) -> Result<i32> {
    let env = |name: &str| std::env::var(name).ok();
    let session = match resolve_session(request, &request.overrides, &env, cwd) {
        Ok(s) => s,
        Err(e) => return fail(request, e, None),
    };
    // The built-in set chosen without a flag or setting naming it (aurweb's config names the
    // database) is said; asked for by name, it goes without saying.
    if request.format == Format::Human
        && !request.quiet
        && command.opens_database()
        && session.settings.migrations.value == Location::Embedded
        && matches!(
            session.settings.migrations.origin,
            settings::Origin::DefaultBecause(_)
        )
    {
        report::note(&report::embedded_notice(
            &session.settings.migrations.origin,
        ));
    }
    match dispatch(&session, command).await {
        Ok(code) => Ok(code),
        Err((e, partial)) => fail(request, e, partial.as_ref().map(|(o, k)| (o, *k))),
    }
}

/// A `config` command works on the file it names and never on a database: aurweb's config
/// is not read for `[database]` (a template may have none), and `AUR_CONFIG` names the file.
/// An error comes with the file's report when the file was evaluated.
fn config(
    request: &Request,
    action: ConfigAction,
    file: Option<&Path>,
    cwd: &Path,
) -> std::result::Result<i32, config_file::ConfigFailure> {
    let env = |name: &str| std::env::var(name).ok();
    let file = file
        .map(Path::to_path_buf)
        .or_else(|| request.overrides.aur_config.clone())
        .or_else(|| env("AUR_CONFIG").filter(|v| !v.is_empty()).map(Into::into))
        .ok_or((Error::NoSiteConfigFile, None))?;
    let overrides = Overrides {
        aur_config: None,
        ..request.overrides.clone()
    };
    let env = |name: &str| {
        if name == "AUR_CONFIG" {
            None
        } else {
            env(name)
        }
    };
    let mut session = resolve_session(request, &overrides, &env, cwd).map_err(|e| (e, None))?;
    session.settings.builtin_for_site_config();
    config_file::run(&session, &cwd.join(file), action)
}

/// The settings resolved into a session, and their warnings said.
fn resolve_session<'r>(
    request: &'r Request,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
    cwd: &Path,
) -> Result<Session<'r>> {
    let session = Session::new(request, settings::resolve(overrides, env, cwd)?)?;
    if !request.quiet {
        for w in &session.settings.warnings {
            report::warn(w);
        }
    }
    Ok(session)
}

/// A run waits for the migration lock: said once on stderr, and on a terminal shown by a line
/// that keeps its clock running until the wait is over.
fn lock_wait(message: &str) {
    report::waiting(message);
    crate::report::progress::show_wait(message, report::quiet());
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
async fn dispatch(s: &Session<'_>, command: &SqlCommand) -> std::result::Result<i32, Failure> {
    match command {
        SqlCommand::New {
            description,
            reversible,
            autogenerate: true,
            renames,
            probe_database,
            redo,
            ..
        } => generate::autogenerate(
            s,
            generate::Asked {
                description: description.as_deref(),
                reversible: *reversible,
                renames,
                probe_database: probe_database.as_deref(),
                redo: *redo,
            },
        )
        .await
        .map_err(plain),
        SqlCommand::New {
            description,
            reversible,
            dialects,
            ..
        } => inspect::new(
            s,
            description.as_deref().unwrap_or_default(),
            *reversible,
            dialects,
        )
        .map_err(plain),
        SqlCommand::History => inspect::history(s).map_err(plain),
        SqlCommand::Status { pending } => inspect::status(s, *pending).await.map_err(plain),
        SqlCommand::DatabaseCreate => record::database_create(s).await.map_err(plain),
        SqlCommand::DatabaseDrop { yes } => record::database_drop(s, *yes).await.map_err(plain),
        SqlCommand::Wait { timeout } => record::wait(s, *timeout).await.map_err(plain),
        SqlCommand::Check { drift } => inspect::check(s, *drift).await.map_err(plain),
        SqlCommand::Upgrade {
            dry_run: true,
            flags,
        } => upgrade::dry_run(s, *flags).await.map_err(plain),
        SqlCommand::Upgrade {
            dry_run: false,
            flags,
        } => upgrade::upgrade(s, *flags).await,
        SqlCommand::UpgradeScript {
            dialect,
            from,
            to,
            replay,
        } => upgrade::script(s, *dialect, *from, *to, *replay).map_err(plain),
        SqlCommand::Downgrade { to, dry_run } => upgrade::downgrade(s, *to, *dry_run).await,
        SqlCommand::DowngradeScript { dialect, from, to } => {
            upgrade::downgrade_script(s, *dialect, *from, *to).map_err(plain)
        }
        SqlCommand::Baseline {
            version,
            accept_drift,
        } => record::baseline(s, *version, *accept_drift)
            .await
            .map_err(plain),
        SqlCommand::Stamp { version } => record::stamp(s, *version).await.map_err(plain),
        SqlCommand::Adopt { accept_drift } => record::adopt(s, *accept_drift).await.map_err(plain),
        SqlCommand::Resolve {
            version,
            resolution,
        } => record::resolve(s, *version, *resolution)
            .await
            .map_err(plain),
        SqlCommand::Verify { dialect } => schema::verify(s, *dialect).await.map_err(plain),
        SqlCommand::SchemaDump => schema::dump(s).await.map_err(plain),
        SqlCommand::SchemaDiff => schema::diff(s).await.map_err(plain),
        SqlCommand::SchemaRender { dialect } => schema::render(s, *dialect).await.map_err(plain),
        SqlCommand::SchemaInit { dialect, force } => {
            schema::init(s, *dialect, *force).await.map_err(plain)
        }
    }
}
