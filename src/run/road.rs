//! What `upgrade` would do on the database as it is, decided once: the road (build from the
//! schema file, replay, or refuse a database with tables but no history) and the steps. The
//! dry run reads it through [`preview`]; the real run takes the same decisions inside its lock.

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::history::Row;
use crate::plan::{self, Step, Target, UpgradeOptions};
use crate::source::{MigrationSet, SchemaFile};

/// `--to V` as a target (the newest version without it); V must be a migration of the set.
pub fn target(set: &MigrationSet, to: Option<u64>) -> Result<Target> {
    match to {
        None => Ok(Target::Latest),
        Some(v) => set.known("--to", v).map(|_| Target::Version(v)),
    }
}

/// What `upgrade` runs on `history`, or the refusal.
pub(super) fn plan_upgrade<'f, 'h>(
    set: &'f MigrationSet,
    history: &'h [Row],
    options: UpgradeOptions,
) -> Result<plan::Plan<'f, 'h>> {
    plan::for_upgrade(set, history, options).map_err(Error::Refused)
}

/// Whether the database holds nothing but (possibly) an empty history table.
pub async fn is_empty<B: Backend>(backend: &mut B) -> Result<bool> {
    Ok(backend.table_names().await?.is_empty() && backend.read_history().await?.is_empty())
}

/// The tables of a database whose history was read empty: an error when it holds any (it must
/// be adopted first, since running the first migration on it would fail or, worse,
/// half-succeed: [`plan::unmanaged`]), else the empty list.
pub async fn tables_without_history<B: Backend>(backend: &mut B) -> Result<Vec<String>> {
    let tables = backend.table_names().await?;
    // On SQLite this runs outside a transaction: another process may have applied its first
    // migration since the history was read (its tables and history row commit together).
    if tables.is_empty() {
        return Ok(tables);
    }
    let history = backend.read_history().await?;
    match plan::unmanaged(&history, &tables) {
        Some(problem) => Err(Error::Unmanaged(problem)),
        None => Ok(tables),
    }
}

/// The road of a run: the schema file to build the database from first, or `None` to run the
/// migrations; an error for a database with tables but no history.
pub(super) async fn road<'a, B: Backend>(
    backend: Option<&mut B>,
    set: &MigrationSet,
    history: &[Row],
    schema: Option<&'a SchemaFile>,
    target: Target,
) -> Result<Option<&'a SchemaFile>> {
    let empty = match backend {
        Some(b) if history.is_empty() => tables_without_history(b).await?.is_empty(),
        Some(_) => false,
        None => true,
    };
    let install = plan::install_road(empty, schema, target);
    if let Some(file) = install {
        file.check(set)?;
    }
    Ok(install)
}

/// What `upgrade` would do on the database as it is: build it from a schema file first
/// (`install`), then run `steps` — or refuse. Decided here once, for `--dry-run` (read-only;
/// `backend` is `None` for a database that does not exist yet) and for the real run (inside
/// the lock, before it acts).
pub struct Preview<'a> {
    pub install: Option<&'a SchemaFile>,
    pub steps: Vec<Step<'a>>,
}

pub async fn preview<'a, B: Backend>(
    backend: Option<&mut B>,
    set: &'a MigrationSet,
    history: &[Row],
    schema: Option<&'a SchemaFile>,
    options: UpgradeOptions,
) -> Result<Preview<'a>> {
    let install = road(backend, set, history, schema, options.target).await?;
    let mut steps = plan_upgrade(set, history, options)?.steps;
    if let Some(file) = install {
        steps.retain(|s| s.migration.version > file.version);
    }
    Ok(Preview { install, steps })
}
