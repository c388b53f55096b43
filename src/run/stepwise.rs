//! A migration that cannot run in one transaction, run step by step with its progress
//! recorded after each step ([`run_stepwise`]).

use std::time::Instant;

use crate::backend::{Backend, StatementError, StatementErrorKind, TxOptions};
use crate::error::{Aftermath, Error, Result};
use crate::history::{self, Row, State};
use crate::source::{Migration, ProgressHasher, Segment};

use super::apply::run_statements;
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
pub(super) async fn run_stepwise<B: Backend>(
    backend: &mut B,
    m: &Migration,
    from: usize,
    existing: Option<Row>,
    checks: Checks<'_, B>,
    observe: Observer<'_>,
) -> Result<Row> {
    let started = Instant::now();
    let script = &m.up;
    let dialect = backend.dialect();
    let mut progress = ProgressHasher::default();
    for i in 0..from {
        progress.add(script.statement_text(i));
    }
    let resumed = existing.is_some();
    let row = starting_row(m, from, existing, &progress);
    commit_after(
        backend,
        async |b| match resumed {
            true => b.update_row(&row).await,
            false => b.insert_row(&row).await,
        },
        commit_refused,
    )
    .await?;
    observe(Event::Start {
        migration: m,
        reverting: false,
    });
    let mut run = Stepwise {
        run: Running::up(m),
        row,
        progress,
        session: script.may_change_session(dialect),
        started,
        checks,
        observe,
    };
    for step in script.steps(dialect, from) {
        if run.step(backend, &step).await? {
            break;
        }
    }
    run.finish(backend).await
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

/// A stepwise run in progress: its row as recorded after the last step, and the checksum of
/// the statements done.
struct Stepwise<'a, 'o, B> {
    run: Running<'a>,
    row: Row,
    progress: ProgressHasher,
    /// The migration may change the session
    /// ([`Script::may_change_session`](crate::source::Script::may_change_session)).
    session: bool,
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
        if transaction {
            backend.begin(TxOptions::default()).await?;
        }
        // What ran before a failure in a transaction is undone; a LOCK TABLES region's
        // statements before it ran on their own and stay.
        let ran = or_roll_back(backend, async |b| {
            self.segment(b, step, range.clone()).await
        })
        .await;
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
            record(backend, &self.row, self.session).await?;
        }
        Ok(last)
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
        self.row.statements_done = done as u32;
        self.row.progress_checksum = Some(script.prefix_checksum(done));
        self.row.error = Some(e.message.clone());
        self.row.execution_ms = self.started.elapsed().as_millis() as u64;
        if let Err(not_recorded) = record(backend, &self.row, self.session).await {
            return not_recorded;
        }
        let committed = numbered(&script.statements[..done]);
        failure(self.run, index, e, Aftermath::Committed(committed))
    }

    /// Every step ran: the session put back, and the row marked `applied`.
    async fn finish(mut self, backend: &mut B) -> Result<Row> {
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
        record(backend, &self.row, self.session).await?;
        (self.observe)(Event::Done {
            migration: m,
            reverting: false,
            execution_ms: self.row.execution_ms,
        });
        Ok(self.row)
    }
}
