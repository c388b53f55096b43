//! `config status|check|upgrade`: aurweb's site config file brought forward by the config
//! migrations beside the SQL ones ([`crate::site_config`]). No database is opened.

use std::path::Path;

use super::request::ConfigAction;
use super::session::Session;
use crate::error::{Error, Result};
use crate::report::{self, ConfigResult};
use crate::site_config::{self, ConfigReport};

/// Loads the config migrations and evaluates them on `file`.
fn evaluate(s: &Session<'_>, file: &Path) -> Result<ConfigReport> {
    let migrations = site_config::load(s.migrations()?)?;
    let bytes = site_config::read_file(file)?;
    site_config::evaluate(file, &bytes, &migrations)
}

/// A `config` command's error, with the file's report when the file was evaluated (a
/// refusal's JSON document keeps what the report found).
pub(super) type ConfigFailure = (Error, Option<Box<ConfigReport>>);

/// A `config` command.
pub(super) fn run(
    s: &Session<'_>,
    file: &Path,
    action: ConfigAction,
) -> std::result::Result<i32, ConfigFailure> {
    let report = evaluate(s, file).map_err(|e| (e, None))?;
    match act(s, file, action, &report) {
        Ok(code) => Ok(code),
        Err(e) => Err((e, Some(Box::new(report)))),
    }
}

fn act(s: &Session<'_>, file: &Path, action: ConfigAction, report: &ConfigReport) -> Result<i32> {
    if !s.request.quiet {
        for w in &report.warnings {
            report::warn(w);
        }
    }
    let (command, dry_run) = match action {
        ConfigAction::Status => ("status", false),
        ConfigAction::Check => ("check", false),
        ConfigAction::Upgrade { dry_run } => ("upgrade", dry_run),
    };
    let mut written = false;
    if let ConfigAction::Upgrade { dry_run } = action {
        if let Some(why) = &report.conflict {
            return Err(Error::SiteConfigConflict { why: why.clone() });
        }
        // --dry-run refuses too: it says what upgrade would do (Ansible's --check fails on it).
        if !report.ambiguous.is_empty() {
            return Err(Error::SiteConfigAmbiguous {
                file: report.file.clone(),
                ambiguous: report.ambiguous.clone(),
            });
        }
        if !dry_run && report.changed() {
            site_config::check_writable(file)?;
            site_config::write_atomic(file, &report.before, &report.after)?;
            written = true;
        }
    }
    let result = ConfigResult {
        report,
        command,
        dry_run,
        written,
    };
    s.emit(&result);
    Ok(if report::Render::ok(&result) { 0 } else { 1 })
}
