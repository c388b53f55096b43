//! Runs plans on a backend and records progress. The checklist of `upgrade`: lock → read
//! history → plan (or refuse) → for each migration: begin → re-read history if another process
//! changed it → run its statements → record it → commit. Every dialect goes through the same
//! loop; what differs is behind [`Backend`](crate::backend::Backend).
//!
//! One file per job, none importing another in a circle: `outcome` (the events and results),
//! `guard` (the lock and transactions), `failure` (what a failed statement reports) and
//! `record` (history rows; `stamp`, `resolve`) are used by `apply` (running statements, an
//! atomic migration) and `stepwise`; `road` (what a run would do: install, replay or refuse),
//! `checks` (before anything runs) and `install` come before `upgrade` (the run modes);
//! `downgrade` reverts; `script` writes `upgrade --sql` and `downgrade --sql`. This file only
//! declares them and re-exports what the rest of the crate calls.

mod apply;
mod checks;
mod downgrade;
mod failure;
mod guard;
mod install;
mod outcome;
mod record;
mod road;
pub(crate) mod script;
mod stepwise;
#[cfg(test)]
mod tests;
mod upgrade;

pub use downgrade::{downgrade, downgrade_plan};
pub use install::install;
pub use outcome::{Applied, Checks, Event, Installed, Observer, Outcome, PreCheck};
pub use record::{resolve, stamp, AcceptedEdit, FileNow, Resolution, Settled, StampMode};
pub use road::{preview, target, Preview};
pub use upgrade::{nothing_to_do, upgrade, upgrade_after_read};

/// Ends when SIGINT or SIGTERM arrives (never, where they cannot be caught), as the error
/// that says so with `state`. The signals are caught from this call on, not from the first
/// poll: work started after it (a command spawned, whose start a test may watch for) cannot
/// be signalled before they are.
pub fn signalled(state: &'static str) -> impl std::future::Future<Output = crate::error::Error> {
    use tokio::signal::unix::{signal, SignalKind};
    let caught = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    );
    async move {
        let (Ok(mut int), Ok(mut term)) = caught else {
            return std::future::pending().await;
        };
        let which = tokio::select! {
            _ = int.recv() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        };
        crate::error::Error::Interrupted {
            signal: which,
            state: state.to_string(),
        }
    }
}
