//! The commands that record history without running migrations: `baseline`, `stamp`,
//! `adopt --from alembic` (both compare the schema first on a database without history) and
//! `resolve` (settle a failed migration); and the commands about the database itself:
//! `database create|drop` and `wait`.

use super::schema::{guard_adoption, has_no_version_table};
use super::session::Session;
use crate::backend::{Backend, Catalogue};
use crate::compare;
use crate::error::{Error, OtherAdoption, Result};
use crate::report;
use crate::run::{self, Resolution, StampMode};

/// `baseline V [--accept-drift]`: record 1..=V as baseline; on a database with neither
/// version table, only after its schema compared equal to V's.
pub(super) async fn baseline(s: &Session<'_>, version: u64, accept_drift: bool) -> Result<i32> {
    let set = s.load()?;
    let conn = s.open().await?;
    let (outcome, accepted) = s
        .with_connection(conn, async |c| {
            let mut accepted = Vec::new();
            if set.get(version).is_some() && has_no_version_table(c).await? {
                accepted = guard_adoption(
                    s,
                    c,
                    &set,
                    version,
                    accept_drift,
                    &format!("baseline {version}"),
                )
                .await?;
            }
            let outcome = run::stamp(c, &set, version, StampMode::Baseline).await?;
            Ok((outcome, accepted))
        })
        .await?;
    s.emit(&report::Recorded {
        outcome: &outcome,
        accepted: &accepted,
        alembic_revision: None,
    });
    Ok(0)
}

/// `stamp V`: record the versions as applied, no comparison.
pub(super) async fn stamp(s: &Session<'_>, version: u64) -> Result<i32> {
    let set = s.load()?;
    let conn = s.open().await?;
    let outcome = s
        .with_connection(conn, async |c| {
            run::stamp(c, &set, version, StampMode::Stamp).await
        })
        .await?;
    s.emit(&report::Recorded {
        outcome: &outcome,
        accepted: &[],
        alembic_revision: None,
    });
    Ok(0)
}

/// `adopt --from alembic [--accept-drift]`: map `alembic_version` onto a version, compare,
/// record 1..=it as baseline.
pub(super) async fn adopt(s: &Session<'_>, accept_drift: bool) -> Result<i32> {
    let set = s.load()?;
    let conn = s.open().await?;
    let (outcome, accepted, revision, version) = s
        .with_connection(conn, async |c| {
            let history = c.read_history().await?;
            if !history.is_empty() {
                return adopted_before(s, c, &set, &history, accept_drift).await;
            }
            let (revision, version) = compare::alembic_version(c, &set).await?;
            let accepted = guard_adoption(
                s,
                c,
                &set,
                version,
                accept_drift,
                &format!("adopt Alembic revision {revision} as version {version}"),
            )
            .await?;
            let outcome = run::stamp(c, &set, version, StampMode::Baseline).await?;
            Ok((outcome, accepted, revision, version))
        })
        .await?;
    s.emit(&report::Recorded {
        outcome: &outcome,
        accepted: &accepted,
        alembic_revision: Some((&revision, version)),
    });
    Ok(0)
}

/// `adopt` on a database it adopted before (an "adopt, then upgrade" deploy run again): when
/// the Alembic revision still names the version its baseline ends at, and the live schema is
/// the one the history says (the current version's, drift accepted with `--accept-drift`),
/// nothing is recorded and the run succeeds unchanged. Anything else is refused.
async fn adopted_before(
    s: &Session<'_>,
    c: &mut crate::backend::Connection,
    set: &crate::source::MigrationSet,
    history: &[crate::history::Row],
    accept_drift: bool,
) -> Result<(run::Outcome, Vec<crate::schema::Difference>, String, u64)> {
    let refuse = |other: Option<OtherAdoption>| Error::AlreadyAdopted {
        table: s.settings.table.value.clone(),
        recorded: history.len(),
        other,
    };
    if c.alembic_revisions().await?.is_none() {
        return Err(refuse(None));
    }
    let (revision, version) = compare::alembic_version(c, set).await?;
    let baseline_end = history
        .iter()
        .filter(|r| r.state == crate::history::State::Baseline)
        .map(|r| r.version)
        .max();
    if baseline_end != Some(version) {
        return Err(refuse(Some(OtherAdoption {
            revision,
            version,
            baseline_end,
        })));
    }
    let current = crate::history::current(history);
    let accepted = match current {
        Some(now) => {
            guard_adoption(
                s,
                c,
                set,
                now,
                accept_drift,
                &format!(
                    "adopt Alembic revision {revision} again (the database is at version {now})"
                ),
            )
            .await?
        }
        None => Vec::new(),
    };
    let outcome = run::Outcome {
        installed: None,
        applied: Vec::new(),
        current,
    };
    Ok((outcome, accepted, revision, version))
}

/// `resolve V --applied|--rolled-back`.
pub(super) async fn resolve(s: &Session<'_>, version: u64, resolution: Resolution) -> Result<i32> {
    // The file, when there is one, is what the operator completed by hand (or accepts).
    let set = match resolution {
        // The edit to accept must be read; a broken migrations directory is an error then.
        Resolution::AcceptEdit => Some(s.load()?),
        _ => s.load().ok(),
    };
    let file = set.as_ref().and_then(|set| {
        set.get(version).map(|m| run::FileNow {
            checksum: m.up.checksum.clone(),
            statements_checksum: m.up.statements_checksum(),
        })
    });
    let path = set
        .as_ref()
        .and_then(|set| set.get(version).map(|m| m.up.path.display().to_string()));
    let conn = s.open().await?;
    let settled = s
        .with_connection(conn, async |c| {
            run::resolve(c, version, resolution, file).await
        })
        .await?;
    s.emit(&report::Resolved {
        version,
        resolution: match resolution {
            Resolution::Applied => "applied",
            Resolution::RolledBack => "rolled-back",
            Resolution::AcceptEdit => "accepted-edit",
        },
        settled: &settled,
        file: path.as_deref(),
    });
    Ok(0)
}

/// `database create`: the configured database, unless it exists.
pub(super) async fn database_create(s: &Session<'_>) -> Result<i32> {
    let created = crate::backend::server::create_database(
        &s.settings.database.value,
        s.table.clone(),
        s.timeouts,
    )
    .await?;
    s.emit(&report::DatabaseChange {
        database: &s.database(),
        action: "created",
        changed: created,
    });
    Ok(0)
}

/// `database drop --yes`.
pub(super) async fn database_drop(s: &Session<'_>, yes: bool) -> Result<i32> {
    if !yes {
        return Err(Error::DropNeedsYes {
            database: s.database(),
        });
    }
    let dropped =
        crate::backend::server::drop_database(&s.settings.database.value, s.timeouts).await?;
    s.emit(&report::DatabaseChange {
        database: &s.database(),
        action: "dropped",
        changed: dropped,
    });
    Ok(0)
}

/// `wait --timeout SECS`: until the server accepts a connection.
pub(super) async fn wait(s: &Session<'_>, timeout: u64) -> Result<i32> {
    let started = std::time::Instant::now();
    let attempts = crate::backend::server::wait_for(
        &s.settings.database.value,
        std::time::Duration::from_secs(timeout),
    )
    .await?;
    s.emit(&report::Ready {
        database: &s.database(),
        attempts,
        waited_ms: started.elapsed().as_millis() as u64,
    });
    Ok(0)
}
