//! The commands that only look: `status`, `check`, `history` — none writes to the target
//! database (`check --drift` builds its expected schema in scratch databases, see
//! [`super::schema`]) — and `new`, which writes migration files.

use super::schema::drift_findings;
use super::session::{display_path, Session};
use crate::backend::{Access, Backend};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::plan;
use crate::report::{self, Context};
use crate::source::scaffold;
use crate::source::Location;

/// `new`: the next migration file(s) in the migrations directory.
pub(super) fn new(
    s: &Session<'_>,
    description: &str,
    reversible: bool,
    dialects: &[Dialect],
) -> Result<i32> {
    let Location::Dir(dir) = &s.settings.migrations.value else {
        return Err(Error::NewWithEmbedded {
            origin: s.settings.migrations.origin.to_string(),
        });
    };
    let files = scaffold::new_migration(&display_path(dir), description, reversible, dialects)?;
    s.emit(&report::NewFiles(files));
    Ok(0)
}

/// `history`: the files, no database.
pub(super) fn history(s: &Session<'_>) -> Result<i32> {
    let set = s.load()?;
    s.emit(&report::History(&set));
    Ok(0)
}

/// `status`: every version with its state, and the problems `upgrade` would refuse on.
pub(super) async fn status(s: &Session<'_>, pending_only: bool) -> Result<i32> {
    let verbose = s.request.verbose > 0;
    // The settings first: when the connection then fails, they are what the reader needs.
    if verbose && s.request.format == crate::report::Format::Human && !s.request.quiet {
        report::print(&report::settings_human(&s.settings));
    }
    let loaded = s.load_and_open(Access::ReadOnly).await?;
    let (set, history) = (loaded.set, loaded.history);
    // No connection on read-only access: the SQLite file does not exist (and is not created).
    let missing_file = match (&loaded.conn, &s.settings.database.value) {
        (None, crate::settings::target::DatabaseTarget::Sqlite { path }) => Some(path.clone()),
        _ => None,
    };
    let mut overview = plan::overview(&set.migrations, &history, false);
    let mut cluster = None;
    let mut galera = false;
    let mut pending = super::upgrade::Pending::default();
    if let Some(conn) = loaded.conn {
        cluster = conn.cluster();
        galera = cluster.is_some();
        let (tables, transport) = s
            .with_connection(conn, async |c| {
                let transport = match verbose {
                    true => c.transport().await?,
                    false => None,
                };
                // -v: what each pending statement tightens and its DDL plan (the rehearsal;
                // no probes).
                if verbose && overview.pending().count() > 0 {
                    pending = super::upgrade::rehearse_pending(s, c, &set, &history, false).await?;
                }
                Ok((tables_if_unrecorded(c, &history).await?, transport))
            })
            .await?;
        overview.note_tables(&history, &tables);
        if verbose && s.request.format == crate::report::Format::Human && !s.request.quiet {
            if let Some(t) = transport {
                report::print(&report::transport_human(&t));
            }
            if let Some(c) = &cluster {
                report::print(&report::cluster_human(c));
            }
        }
    }
    // Pending files with no statements: upgrade and check would refuse them.
    if !s.request.quiet {
        for w in overview.statementless_warnings() {
            report::warn(w.to_string());
        }
    }
    let database = s.database();
    s.emit(&report::Status {
        ctx: Context {
            database: &database,
            dialect: s.dialect(),
            table: &s.settings.table.value,
            set: &set,
            embedded: s.settings.migrations.value == Location::Embedded,
            cluster,
            missing_file: missing_file.as_deref(),
        },
        overview: &overview,
        verbose,
        pending_only,
        tightenings: &pending.tightenings,
        ddl: (&pending.ddl, &super::upgrade::gates(s)),
    });
    // -v: the DDL plan of the pending statements, with the run's gates (human form only).
    if verbose && s.request.format == crate::report::Format::Human && !s.request.quiet {
        report::print(&report::ddl_plan_human(
            &pending.ddl,
            &super::upgrade::gates(s),
            galera,
        ));
    }
    Ok(0)
}

/// `check [--drift]`: exit 1 on any of the planner's findings, or on drift; exit 7 when
/// migrations are pending and the probes of the live rows find rows they would reject.
pub(super) async fn check(s: &Session<'_>, drift: bool) -> Result<i32> {
    let loaded = s.load_and_open(Access::ReadOnly).await?;
    // Unreviewed files, and pending files with no statements, are refused as `upgrade`
    // refuses them.
    let refused = loaded.set.refuse_unreviewed().and_then(|()| {
        crate::source::refuse_statementless(
            plan::overview(&loaded.set.migrations, &loaded.history, false)
                .pending_through(plan::Target::Latest),
        )
    });
    if let Err(e) = refused {
        if let Some(conn) = loaded.conn {
            conn.close().await;
        }
        return Err(e);
    }
    let (set, history) = (loaded.set, loaded.history);
    let mut overview = plan::overview(&set.migrations, &history, false);
    let mut found = Vec::new();
    let mut cluster = false;
    let mut pending = super::upgrade::Pending::default();
    if let Some(conn) = loaded.conn {
        cluster = conn.cluster().is_some();
        let current = overview.current();
        let (tables, drifted) = s
            .with_connection(conn, async |c| {
                let tables = tables_if_unrecorded(c, &history).await?;
                if overview.pending().count() > 0 {
                    pending = super::upgrade::rehearse_pending(s, c, &set, &history, true).await?;
                }
                let drifted = match drift {
                    true => drift_findings(s, c, &set, current).await?,
                    false => Vec::new(),
                };
                Ok((tables, drifted))
            })
            .await?;
        overview.note_tables(&history, &tables);
        found = drifted;
    }
    let mut warnings = overview.warnings(s.dialect());
    if cluster {
        warnings.extend(overview.cluster_warnings());
    }
    let result = report::Check::new(&overview, warnings, found, &pending.violations).with_ddl(
        &pending.ddl,
        super::upgrade::gates(s),
        cluster,
    );
    s.emit(&result);
    Ok(
        match (report::Render::ok(&result), pending.violations.is_empty()) {
            // A pending DDL statement over --max-algorithm/--max-lock: the run would be refused.
            (false, true) if result.over_gates() => 8,
            (_, false) => crate::error::Error::DataViolation {
                violations: Vec::new(),
                during: None,
            }
            .exit_code(),
            // A probe that could not run (a timeout) is not passed.
            _ if pending.probes_failed.is_some() => pending.probes_failed.unwrap_or(3),
            (true, true) => 0,
            (false, true) => 1,
        },
    )
}

/// The tables of a database whose history is empty (what [`plan::unmanaged`] needs); none
/// are read when there is a history.
async fn tables_if_unrecorded<B: Backend>(
    conn: &mut B,
    history: &[crate::history::Row],
) -> Result<Vec<String>> {
    match history.is_empty() {
        true => conn.table_names().await,
        false => Ok(Vec::new()),
    }
}
