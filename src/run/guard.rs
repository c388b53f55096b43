//! The guards every write goes through: the run lock ([`with_lock`]) and transactions that
//! roll back when their work fails ([`or_roll_back`], [`commit_after`], [`in_transaction`]), so
//! that no error path has to remember its `rollback`.

use crate::backend::{Backend, StatementError, TxOptions};
use crate::error::{Error, Result};
use crate::history::Row;
use crate::source::Script;

/// Runs `work` holding the run lock, and releases the lock whatever happened.
pub(super) async fn with_lock<B: Backend, T>(
    backend: &mut B,
    work: impl AsyncFnOnce(&mut B) -> Result<T>,
) -> Result<T> {
    backend.lock().await?;
    let result = work(backend).await;
    let unlocked = backend.unlock().await;
    let value = result?;
    unlocked?;
    Ok(value)
}

/// Runs `work` inside the transaction the caller opened, and rolls that transaction back when
/// `work` fails. (After a lost connection the backend sends nothing more; its rollback is then
/// a no-op.)
pub(super) async fn or_roll_back<B: Backend, T, E>(
    backend: &mut B,
    work: impl AsyncFnOnce(&mut B) -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    let result = work(backend).await;
    if result.is_err() {
        backend.rollback().await;
    }
    result
}

/// Ends the transaction the caller opened: `work`, then commit — or roll back when `work`
/// fails. A commit the database refuses (SQLite's deferred `foreign_key_check`, rolled back by
/// then) becomes the error `refused` makes of it.
pub(super) async fn commit_after<B: Backend, T>(
    backend: &mut B,
    work: impl AsyncFnOnce(&mut B) -> Result<T>,
    refused: impl FnOnce(StatementError) -> Error,
) -> Result<T> {
    let value = or_roll_back(backend, work).await?;
    backend.commit().await?.map_err(refused)?;
    Ok(value)
}

/// [`commit_after`] for work that ends with a history row to insert: `work` makes the row,
/// and the row goes in with the commit ([`Backend::commit_with_row`]). With `next`, the
/// backend may begin the next migration's transaction too: `true` when it did
/// ([`Backend::commit_with_row_then_begin`]).
pub(super) async fn commit_with_row_after<B: Backend>(
    backend: &mut B,
    work: impl AsyncFnOnce(&mut B) -> Result<Row>,
    next: Option<TxOptions>,
    refused: impl FnOnce(StatementError) -> Error,
) -> Result<(Row, bool)> {
    let row = or_roll_back(backend, work).await?;
    let begun = backend
        .commit_with_row_then_begin(&row, next)
        .await?
        .map_err(refused)?;
    Ok((row, begun))
}

/// Runs bookkeeping `work` in one transaction of its own: committed when it succeeds, rolled
/// back when not.
pub(super) async fn in_transaction<B: Backend, T>(
    backend: &mut B,
    work: impl AsyncFnOnce(&mut B) -> Result<T>,
) -> Result<T> {
    backend.begin(TxOptions::default()).await?;
    commit_after(backend, work, commit_refused).await
}

/// A commit of the tool's own bookkeeping that the database refused: its message.
pub(super) fn commit_refused(e: StatementError) -> Error {
    Error::Database(e.message)
}

/// The transaction a script runs in: foreign-key checks off when its directive says so.
pub(super) fn tx_options(script: &Script) -> TxOptions {
    TxOptions {
        foreign_keys_off: script.directives.foreign_keys_off,
    }
}
