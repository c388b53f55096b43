//! The live progress line: while `upgrade` or `downgrade` runs a migration, one line on stderr
//! shows the migration, the statement running (number, file:line) and how long it and the
//! migration have taken. It is redrawn ten times a second by indicatif's own tick thread, so
//! the clock moves while one long statement blocks, and it is cleared before the migration's
//! result line is printed. Only on a terminal: on a pipe or a file (or `TERM=dumb`, or `-q`)
//! nothing is drawn at all, so logs never get escape codes. Never on stdout. The line is not
//! cut to the terminal's width (the file:line is the part that matters most); indicatif wraps
//! it and clears every row it took.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::runner::Event;

/// How often the line is redrawn while nothing else happens.
const TICK: Duration = Duration::from_millis(100);

/// The line being drawn now, if any; log output goes around it (see [`suspend`]).
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Runs `f` (which writes to stderr) with the progress line cleared, and redraws it after.
/// The binary's log writer goes through this, so a log line never lands inside the progress
/// line.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    let bar = ACTIVE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    match bar {
        Some(bar) => bar.suspend(f),
        None => f(),
    }
}

/// Whether a progress line may be drawn: stderr is a terminal that understands cursor
/// movement, and the user did not ask for quiet.
pub fn wanted(quiet: bool) -> bool {
    !quiet
        && std::io::stderr().is_terminal()
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// Draws the progress line from the runner's [`Event`]s.
pub struct LiveLine {
    enabled: bool,
    bar: Option<ProgressBar>,
    /// When the running statement started (read by the tick thread).
    statement_started: Arc<Mutex<Instant>>,
    /// The file the running migration's statements come from (up or reverse file).
    file: String,
}

impl LiveLine {
    /// A line that draws only when `enabled` (see [`wanted`]).
    pub fn new(enabled: bool) -> Self {
        LiveLine {
            enabled,
            bar: None,
            statement_started: Arc::new(Mutex::new(Instant::now())),
            file: String::new(),
        }
    }

    /// Updates the line for one event. Call before printing anything for the event on stdout.
    pub fn event(&mut self, e: &Event<'_>) {
        if !self.enabled {
            return;
        }
        match *e {
            Event::Start {
                migration,
                reverting,
            } => {
                self.clear();
                let script = if reverting {
                    migration.down.as_ref().unwrap_or(&migration.up)
                } else {
                    &migration.up
                };
                self.file = script.path.display().to_string();
                *self.started() = Instant::now();
                let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                bar.set_style(self.style());
                bar.set_prefix(format!(
                    "{} {} {}",
                    if reverting { "reverting" } else { "applying" },
                    migration.version,
                    migration.description()
                ));
                bar.set_message("starting");
                bar.enable_steady_tick(TICK);
                *ACTIVE.lock().unwrap_or_else(PoisonError::into_inner) = Some(bar.clone());
                self.bar = Some(bar);
            }
            Event::Statement {
                number,
                total,
                line,
                ..
            } => {
                *self.started() = Instant::now();
                if let Some(bar) = &self.bar {
                    bar.set_message(format!(
                        "statement {number}/{total} at {}:{line}",
                        self.file
                    ));
                }
            }
            Event::Done { .. } => self.clear(),
        }
    }

    /// Removes the line from the terminal (a migration finished or the run stopped).
    pub fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            *ACTIVE.lock().unwrap_or_else(PoisonError::into_inner) = None;
            bar.finish_and_clear();
        }
    }

    fn started(&self) -> std::sync::MutexGuard<'_, Instant> {
        self.statement_started
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn style(&self) -> ProgressStyle {
        let template = if crate::report::use_colour(true) {
            "{spinner:.cyan} {prefix:.bold}  {msg}  {statement:.yellow} {migration:.dim}"
        } else {
            "{spinner} {prefix}  {msg}  {statement} {migration}"
        };
        let started = Arc::clone(&self.statement_started);
        ProgressStyle::with_template(template)
            .expect("a valid template")
            .with_key(
                "statement",
                move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let since = *started.lock().unwrap_or_else(PoisonError::into_inner);
                    let _ = write!(w, "{}", seconds(since.elapsed()));
                },
            )
            .with_key(
                "migration",
                |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "(migration {})", seconds(s.elapsed()));
                },
            )
    }
}

impl Drop for LiveLine {
    fn drop(&mut self) {
        self.clear();
    }
}

/// `2.3s`, `12m 05.1s`.
fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m {:04.1}s", (s / 60.0) as u64, s % 60.0)
    }
}

#[cfg(test)]
mod tests {
    use super::seconds;
    use std::time::Duration;

    #[test]
    fn seconds_read_well() {
        assert_eq!(seconds(Duration::from_millis(2345)), "2.3s");
        assert_eq!(seconds(Duration::from_millis(725_100)), "12m 05.1s");
    }
}
