//! A migration that cannot run in one transaction, run step by step with its progress
//! recorded after each step ([`run_stepwise`]).

use std::time::Instant;

use crate::backend::{Backend, RowWrite, StatementError, StatementErrorKind, TxOptions};
use crate::error::{Aftermath, Error, Result};
use crate::history::{self, Row, State};
use crate::source::{Migration, ProgressHasher, Segment};

use super::apply::{run_statement_after, run_statements};
use super::failure::{failure, lost, numbered, Running};
use super::guard::{commit_after, commit_refused, or_roll_back};
use super::outcome::{Checks, Event, Observer};
use super::record::{new_row, record};

/// A migration that cannot run in one transaction (it opts out, or on MySQL it holds
/// statements that commit implicitly): recorded as `failed` with its progress before it starts
/// (inside the caller's transaction, which this commits), then run step by step
/// ([`Script::steps`](crate::source::Script::steps)): a group of statements in one transaction
/// together with the progress update that closes it, a statement that commits by itself
/// followed by its own, a `LOCK TABLES` region without a transaction and its progress after
/// `UNLOCK TABLES`; marked `applied` at the end. Progress is exact at step boundaries: a failure rolls back the step's
/// open transaction, and `--resume` restarts at the failed step's first statement. A crash
/// leaves it visibly `failed`, never silently pending. `from > 0` resumes an earlier failed
/// run whose row is `existing`.
///
/// Where the backend sends rows with statements ([`Backend::sends_rows_with_statements`]) the
/// caller opens no transaction ([`Start::Outside`]) and a row written outside one — the
/// starting row, the progress after a statement that runs alone — goes with the next
/// statement that runs alone, committed before it starts ([`Backend::execute_all_after`]):
/// the row a failure or a crash finds is the same, in fewer round trips. There, between two
/// such migrations, the first one's `applied` row and the next one's starting row (`next`)
/// are one transaction ([`Backend::write_rows_together`]): one commit fewer a migration, each
/// a redo-log flush. The next run then starts with [`Start::Written`] and returns nothing
/// written ahead; the pair means the next migration shows `failed` with 0 statements done
/// from the moment this one is `applied`, exactly as its starting row alone would a moment
/// later (a stop in between leaves it for `--resume`, which starts at its first statement).
pub(super) async fn run_stepwise<B: Backend>(
    backend: &mut B,
    m: &Migration,
    (from, existing): (usize, Option<Row>),
    start: Start,
    next: Option<&Migration>,
    checks: Checks<'_, B>,
    observe: Observer<'_>,
) -> Result<(Row, Option<Row>)> {
    let started = Instant::now();
    let script = &m.up;
    let dialect = backend.dialect();
    let mut progress = ProgressHasher::default();
    for i in 0..from {
        progress.add(script.statement_text(i));
    }
    let resumed = existing.is_some();
    let (row, pending) = start_row(backend, m, (from, existing), start, &progress).await?;
    let session = script.may_change_session(dialect);
    observe(Event::Start {
        migration: m,
        reverting: false,
    });
    let mut run = Stepwise {
        run: Running::up(m),
        row,
        pending,
        progress,
        session,
        together: backend.sends_rows_with_statements() && !session,
        resumed,
        started,
        checks,
        observe,
    };
    for step in script.steps(dialect, from) {
        if run.step(backend, &step).await? {
            break;
        }
    }
    run.finish(backend, next).await
}

/// The row a stepwise run starts with, and how it is still to be written (`None`: it is
/// committed, here in the caller's transaction or before, with the previous migration's end).
async fn start_row<B: Backend>(
    backend: &mut B,
    m: &Migration,
    (from, existing): (usize, Option<Row>),
    start: Start,
    progress: &ProgressHasher,
) -> Result<(Row, Option<Pending>)> {
    let pending = match existing.is_some() {
        true => Pending::Update,
        false => Pending::Insert,
    };
    match start {
        Start::Written(row) => Ok((*row, None)),
        Start::Outside => Ok((starting_row(m, from, existing, progress), Some(pending))),
        Start::InTransaction => {
            let row = starting_row(m, from, existing, progress);
            commit_after(
                backend,
                async |b| write_row(b, &row, pending, false).await,
                commit_refused,
            )
            .await?;
            Ok((row, None))
        }
    }
}

/// How a stepwise run's starting `failed` row is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Start {
    /// In the transaction the caller opened, committed here before anything runs.
    InTransaction,
    /// Outside a transaction: with the first statement that runs alone, or on its own before
    /// the first segment.
    Outside,
    /// Already committed (this row), together with the previous migration's `applied` row
    /// ([`Backend::write_rows_together`]).
    Written(Box<Row>),
}

/// The `failed` row a stepwise run starts with: a new one, or the earlier failed run's
/// (`existing`), continued after `from` statements whose checksum is `progress`.
fn starting_row(
    m: &Migration,
    from: usize,
    existing: Option<Row>,
    progress: &ProgressHasher,
) -> Row {
    let script = &m.up;
    let Some(mut row) = existing else {
        return new_row(m, script, State::Failed, 0);
    };
    row.state = State::Failed;
    row.checksum = script.checksum.clone();
    row.statements_checksum = Some(script.statements_checksum());
    row.statements_done = from as u32;
    row.statements_total = script.statements.len() as u32;
    row.progress_checksum = Some(progress.checksum());
    row.error = None;
    row
}

/// How a row not written yet is to be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Insert,
    Update,
}

/// Writes `row` outside a group: inserted, or as [`record`] updates it.
async fn write_row<B: Backend>(
    backend: &mut B,
    row: &Row,
    how: Pending,
    session: bool,
) -> Result<()> {
    match how {
        Pending::Insert => backend.insert_row(row).await,
        Pending::Update => record(backend, row, session).await,
    }
}

/// A stepwise run in progress: its row as recorded after the last step, and the checksum of
/// the statements done.
struct Stepwise<'a, 'o, B> {
    run: Running<'a>,
    row: Row,
    /// The row is not written as it stands yet: it goes with the next statement that runs
    /// alone, or on its own before anything else.
    pending: Option<Pending>,
    /// Rows written outside a group go with the next statement
    /// ([`Backend::sends_rows_with_statements`], and the migration leaves the session alone).
    together: bool,
    progress: ProgressHasher,
    /// The migration may change the session
    /// ([`Script::may_change_session`](crate::source::Script::may_change_session)).
    session: bool,
    /// The row was an earlier failed run's (`--resume`), not this run's.
    resumed: bool,
    started: Instant,
    checks: Checks<'o, B>,
    observe: Observer<'o>,
}

impl<B: Backend> Stepwise<'_, '_, B> {
    /// Runs one segment and records its progress; `true` when it was the last (its progress
    /// is then recorded with the final state, by [`Stepwise::finish`]).
    async fn step(&mut self, backend: &mut B, step: &Segment) -> Result<bool> {
        let (range, transaction) = match step {
            Segment::Group(r) => (r.clone(), true),
            Segment::Alone(i) | Segment::Boundary(i) => (*i..*i + 1, false),
            Segment::Locked(r) => (r.clone(), false),
        };
        let ran = self
            .run_step(backend, step, range.clone(), transaction)
            .await?;
        if let Err((i, e)) = ran {
            let done = if transaction { range.start } else { i };
            return Err(self.failed(backend, i, e, done).await);
        }
        let script = self.run.script;
        for i in range.clone() {
            self.progress.add(script.statement_text(i));
        }
        self.row.statements_done = range.end as u32;
        self.row.progress_checksum = Some(self.progress.checksum());
        let last = range.end == script.statements.len();
        if transaction {
            let run = self.run;
            let refused = |e| failure(run, range.end - 1, e, Aftermath::Committed(Vec::new()));
            let row = &self.row;
            commit_after(
                backend,
                async |b| {
                    if last {
                        Ok(())
                    } else {
                        b.update_row(row).await
                    }
                },
                refused,
            )
            .await?;
        } else if !last {
            if matches!(step, Segment::Locked(_)) && self.session {
                // A region that never unlocked: the tool's own table is not locked for it.
                // The migration goes on, so its user variables stay.
                backend.reset_session(&[]).await?;
            }
            self.pending = Some(Pending::Update);
            if !self.together {
                self.flush(backend).await?;
            }
        }
        Ok(last)
    }

    /// Runs one segment's statements (in a transaction of their own when `transaction`),
    /// after the row not written yet: with the statement that runs alone, else before.
    /// `Err`: that row was not written, and nothing ran.
    async fn run_step(
        &mut self,
        backend: &mut B,
        step: &Segment,
        range: std::ops::Range<usize>,
        transaction: bool,
    ) -> Result<std::result::Result<(), (usize, StatementError)>> {
        let carried = match step {
            Segment::Alone(_) if self.together => self.pending.take(),
            _ => {
                self.flush(backend).await?;
                None
            }
        };
        if let Some(how) = carried {
            // The row first, committed, then the statement: no transaction is open.
            let write = match how {
                Pending::Insert => RowWrite::Insert(&self.row),
                Pending::Update => RowWrite::Update(&self.row),
            };
            let (run, checks) = (self.run, self.checks);
            return run_statement_after(backend, run, range.start, write, checks, self.observe)
                .await;
        }
        if transaction {
            backend.begin(TxOptions::default()).await?;
        }
        // What ran before a failure in a transaction is undone; a LOCK TABLES region's
        // statements before it ran on their own and stay.
        Ok(or_roll_back(backend, async |b| self.segment(b, step, range).await).await)
    }

    /// Writes the row not written yet, on its own.
    async fn flush(&mut self, backend: &mut B) -> Result<()> {
        match self.pending.take() {
            Some(how) => write_row(backend, &self.row, how, self.session).await,
            None => Ok(()),
        }
    }

    /// Runs the statements of one segment.
    async fn segment(
        &mut self,
        backend: &mut B,
        step: &Segment,
        range: std::ops::Range<usize>,
    ) -> std::result::Result<(), (usize, StatementError)> {
        match step {
            // The file's own COMMIT: the transaction around each group takes its place.
            Segment::Boundary(_) => Ok(()),
            Segment::Group(_) => {
                run_statements(
                    backend,
                    self.run,
                    (range.start, range.end),
                    self.checks,
                    self.observe,
                )
                .await
            }
            Segment::Alone(_) | Segment::Locked(_) => {
                for i in range {
                    run_statements(backend, self.run, (i, i + 1), self.checks, self.observe)
                        .await?;
                }
                Ok(())
            }
        }
    }

    /// Statement `index` failed with `e` (its transaction, if any, rolled back), `done`
    /// statements stay committed: the row says so, and the error what to do.
    async fn failed(
        &mut self,
        backend: &mut B,
        index: usize,
        e: StatementError,
        done: usize,
    ) -> Error {
        let script = self.run.script;
        if e.kind == StatementErrorKind::ConnectionLost {
            return lost(self.run, index, e, false);
        }
        if self.session {
            let dialect = backend.dialect();
            if let Err(reset) = backend.reset_session(&script.user_variables(dialect)).await {
                return reset;
            }
        }
        if let Some(pending) = self.pending_again(backend, index, &e, done).await {
            return pending;
        }
        self.row.statements_done = done as u32;
        self.row.progress_checksum = Some(script.prefix_checksum(done));
        self.row.error = Some(e.message.clone());
        self.row.execution_ms = self.started.elapsed().as_millis() as u64;
        // The row is written by now (it went with the statement, or before it).
        let how = self.pending.take().unwrap_or(Pending::Update);
        if let Err(not_recorded) = write_row(backend, &self.row, how, self.session).await {
            return not_recorded;
        }
        let committed = numbered(&script.statements[..done]);
        failure(self.run, index, e, Aftermath::Committed(committed))
    }

    /// A DDL statement that gave up its metadata-lock wait before anything of the migration
    /// committed: this run's `failed` row is removed, so the migration is pending again
    /// (nothing of it ran) and the next run simply runs it. The error says so; `None` when
    /// that is not the case.
    async fn pending_again(
        &mut self,
        backend: &mut B,
        index: usize,
        e: &StatementError,
        done: usize,
    ) -> Option<Error> {
        if e.kind != StatementErrorKind::LockWait || done > 0 || self.resumed {
            return None;
        }
        if let Err(not_recorded) = backend.begin(TxOptions::default()).await {
            return Some(not_recorded);
        }
        let version = self.run.migration.version;
        let removed = commit_after(
            backend,
            async |b| b.delete_row(version).await,
            commit_refused,
        )
        .await;
        Some(match removed {
            Err(not_removed) => not_removed,
            Ok(()) => failure(self.run, index, e.clone(), Aftermath::RolledBack),
        })
    }

    /// Every step ran: the session put back, and the row marked `applied`. With `next` (the
    /// next migration, run step by step from its start, rows outside a transaction), its
    /// starting `failed` row is written in the same transaction, one commit for both, and
    /// returned.
    async fn finish(
        mut self,
        backend: &mut B,
        next: Option<&Migration>,
    ) -> Result<(Row, Option<Row>)> {
        let (m, script) = (self.run.migration, self.run.script);
        if self.session {
            let dialect = backend.dialect();
            backend
                .reset_session(&script.user_variables(dialect))
                .await?;
        }
        self.row.state = State::Applied;
        self.row.statements_done = script.statements.len() as u32;
        self.row.execution_ms = self.started.elapsed().as_millis() as u64;
        self.row.applied_at = history::now_utc();
        // A row not written yet (no statement ran since) is superseded by this one.
        let how = self.pending.take().unwrap_or(Pending::Update);
        let next = match next {
            Some(n) if how == Pending::Update => {
                let start = new_row(n, &n.up, State::Failed, 0);
                backend.write_rows_together(&self.row, &start).await?;
                Some(start)
            }
            _ => {
                write_row(backend, &self.row, how, self.session).await?;
                None
            }
        };
        (self.observe)(Event::Done {
            migration: m,
            reverting: false,
            execution_ms: self.row.execution_ms,
        });
        Ok((self.row, next))
    }
}
