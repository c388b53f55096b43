//! A fresh install: an empty database built from the schema file, with the versions it equals
//! recorded as `baseline` ([`install`]). Where DDL is transactional, in one transaction; where
//! it is not, a failure drops what was created.

use std::time::Instant;

use crate::backend::{Backend, StatementError, StatementErrorKind, TxOptions};
use crate::error::{Cleanup, Error, Result};
use crate::history::{Row, State};
use crate::source::{MigrationSet, SchemaFile, Script};

use super::guard::{commit_after, in_transaction, or_roll_back};
use super::outcome::{Event, Installed, Observer};
use super::record::new_row;
use super::road::is_empty;

/// Runs a schema file on an empty database and records every version up to its
/// `schema-version` as `baseline`. SQLite: one transaction, which first checks that no other
/// process filled the database meanwhile (`None` then). MySQL (called under the run lock):
/// DDL commits as it goes, so a failure drops the tables created so far, leaving the database
/// empty again.
pub async fn install<B: Backend>(
    backend: &mut B,
    set: &MigrationSet,
    file: &SchemaFile,
    observe: Observer<'_>,
) -> Result<Option<Installed>> {
    observe(Event::Building {
        script: &file.script,
    });
    let result = install_observed(backend, set, file, observe).await;
    observe(Event::Built);
    result
}

async fn install_observed<B: Backend>(
    backend: &mut B,
    set: &MigrationSet,
    file: &SchemaFile,
    observe: Observer<'_>,
) -> Result<Option<Installed>> {
    let started = Instant::now();
    let script = &file.script;
    let rows: Vec<Row> = set
        .migrations
        .iter()
        .filter(|m| m.version <= file.version)
        .map(|m| new_row(m, &m.up, State::Baseline, 0))
        .collect();
    tracing::debug!(file = %script.path.display(), statements = script.statements.len(), "installing");
    if backend.transactional_ddl() {
        if !install_in_transaction(backend, script, &rows, observe).await? {
            return Ok(None);
        }
    } else {
        install_then_record(backend, script, &rows, observe).await?;
    }
    Ok(Some(Installed {
        path: script.path.clone(),
        statements: script.statements.len(),
        execution_ms: started.elapsed().as_millis() as u64,
        baseline: rows.iter().map(|r| r.version).collect(),
    }))
}

/// Where DDL is transactional (SQLite): the schema file and the baseline rows in one
/// transaction. `false`: another process filled the database meanwhile, nothing was done.
async fn install_in_transaction<B: Backend>(
    backend: &mut B,
    script: &Script,
    rows: &[Row],
    observe: Observer<'_>,
) -> Result<bool> {
    backend.begin(TxOptions::default()).await?;
    let filled = or_roll_back(backend, async |b| {
        Ok::<_, Error>(b.history_changed().await? && !is_empty(b).await?)
    })
    .await?;
    if filled {
        // Not an error: the other process's install stands.
        backend.rollback().await;
        return Ok(false);
    }
    let texts: Vec<&str> = script
        .statements
        .iter()
        .map(|st| st.text(&script.text))
        .collect();
    let last = texts.len().saturating_sub(1);
    let refused = |e| install_failed(script, last, e, Cleanup::RolledBack);
    commit_after(
        backend,
        async |b| {
            b.ensure_table().await?;
            let total = texts.len();
            let mut starting = |i: usize| {
                observe(Event::BuildStatement {
                    number: i + 1,
                    total,
                    line: script.statements[i].line,
                })
            };
            if let Err((i, e)) = b.execute_all(&texts, &mut starting).await {
                return Err(install_failed(script, i, e, Cleanup::RolledBack));
            }
            for row in rows {
                b.insert_row(row).await?;
            }
            Ok(())
        },
        refused,
    )
    .await?;
    Ok(true)
}

/// Where DDL commits as it goes (MySQL): the statements one by one, a failure dropping the
/// tables created so far; then the baseline rows in a transaction of their own.
async fn install_then_record<B: Backend>(
    backend: &mut B,
    script: &Script,
    rows: &[Row],
    observe: Observer<'_>,
) -> Result<()> {
    let total = script.statements.len();
    for (i, st) in script.statements.iter().enumerate() {
        observe(Event::BuildStatement {
            number: i + 1,
            total,
            line: st.line,
        });
        if let Err(e) = backend.execute(st.text(&script.text)).await {
            let cleanup = if e.kind == StatementErrorKind::ConnectionLost {
                Cleanup::ConnectionLost
            } else {
                drop_all_tables(backend).await
            };
            return Err(install_failed(script, i, e, cleanup));
        }
    }
    in_transaction(backend, async |b| {
        b.ensure_table().await?;
        for row in rows {
            b.insert_row(row).await?;
        }
        Ok(())
    })
    .await
}

fn install_failed(script: &Script, index: usize, e: StatementError, cleanup: Cleanup) -> Error {
    Error::InstallFailed {
        path: script.path.clone(),
        line: script.statements.get(index).map_or(1, |s| s.line),
        message: e.message,
        statement: index + 1,
        total: script.statements.len(),
        cleanup,
    }
}

/// After a failed install on MySQL: drops every table (the database was empty before).
async fn drop_all_tables<B: Backend>(backend: &mut B) -> Cleanup {
    let names = match backend.table_names().await {
        Ok(n) => n,
        Err(e) => return Cleanup::NotListed(e.to_string()),
    };
    if names.is_empty() {
        return Cleanup::NoneCreated;
    }
    let failed = backend.drop_tables(&names).await;
    if failed.is_empty() {
        Cleanup::Dropped(names.len())
    } else {
        Cleanup::NotDropped(failed)
    }
}
