//! The live progress line: while `upgrade` or `downgrade` runs a migration, one line on stderr
//! shows the migration, the statement running (number, file:line) and how long it and the
//! migration have taken. It is redrawn ten times a second by indicatif's own tick thread, so
//! the clock moves while one long statement blocks, and it is cleared before the migration's
//! result line is printed. Only on a terminal: on a pipe or a file (or `TERM=dumb`, or `-q`)
//! nothing is drawn at all, so logs never get escape codes. Never on stdout. The line never
//! wraps: the clocks come first, then the statement's number and file:line, then the migration;
//! what does not fit the terminal's width is cut from the end, so a long description goes
//! before the file:line does.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::run::Event;

/// How often the line is redrawn while nothing else happens.
const TICK: Duration = Duration::from_millis(100);

/// The line being drawn now, if any; log output goes around it (see [`suspend`]).
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// The line drawn while a run waits for the migration lock.
static WAITING: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// On a terminal (see [`wanted`]), a line that shows the wait for the lock and how long it
/// has lasted, until [`wait_over`]: `⠁ 3.2s waiting up to 60s (--lock-timeout) for the
/// migration lock, held by …`.
pub fn show_wait(message: &str, quiet: bool) {
    if !wanted(quiet) {
        return;
    }
    let template = if crate::report::use_colour(true) {
        "{spinner:.cyan} {elapsed_precise:.yellow}  {wide_msg}"
    } else {
        "{spinner} {elapsed_precise}  {wide_msg}"
    };
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(ProgressStyle::with_template(template).expect("a valid template"));
    bar.set_message(message.to_string());
    bar.enable_steady_tick(TICK);
    *WAITING.lock().unwrap_or_else(PoisonError::into_inner) = Some(bar);
}

/// Erases the line of [`show_wait`]: the lock was taken or given up.
pub fn wait_over() {
    if let Some(bar) = WAITING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    {
        bar.finish_and_clear();
    }
}

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
    /// `applying 3 description`.
    what: String,
    /// Columns for the message, read from the terminal as the migration starts.
    room: usize,
}

impl LiveLine {
    /// A line that draws only when `enabled` (see [`wanted`]).
    pub fn new(enabled: bool) -> Self {
        LiveLine {
            enabled,
            bar: None,
            statement_started: Arc::new(Mutex::new(Instant::now())),
            file: String::new(),
            what: String::new(),
            room: 0,
        }
    }

    /// Updates the line for one event. Call before printing anything for the event on stdout.
    pub fn event(&mut self, e: &Event<'_>) {
        if !self.enabled {
            return;
        }
        match *e {
            Event::Edited { .. } | Event::OldTransactions(_) => {}
            Event::Building { script } => {
                self.begin(
                    script.path.display().to_string(),
                    "building the database".to_string(),
                );
            }
            Event::Start {
                migration,
                reverting,
            } => {
                let script = if reverting {
                    migration.down.as_ref().unwrap_or(&migration.up)
                } else {
                    &migration.up
                };
                self.begin(
                    script.path.display().to_string(),
                    format!(
                        "{} {} {}",
                        if reverting { "reverting" } else { "applying" },
                        migration.version,
                        migration.description()
                    ),
                );
            }
            Event::Statement {
                number,
                total,
                line,
                ..
            }
            | Event::BuildStatement {
                number,
                total,
                line,
            } => {
                *self.started() = Instant::now();
                if let Some(bar) = &self.bar {
                    let at = fit_left(
                        &format!("statement {number}/{total} at "),
                        &format!("{}:{line}", self.file),
                        self.room,
                    );
                    bar.set_message(format!("{at} · {}", self.what));
                }
            }
            Event::Done { .. } | Event::Built => self.clear(),
        }
    }

    /// Starts the line for a migration or an install of `file`, described by `what`.
    fn begin(&mut self, file: String, what: String) {
        self.clear();
        self.file = file;
        // Once a migration, not once a statement (an ioctl each).
        self.room = room();
        self.what = what;
        *self.started() = Instant::now();
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(self.style());
        bar.set_message(format!("starting · {}", self.what));
        bar.enable_steady_tick(TICK);
        *ACTIVE.lock().unwrap_or_else(PoisonError::into_inner) = Some(bar.clone());
        self.bar = Some(bar);
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
        // `wide_msg` takes what is left of the terminal's width and is cut to it.
        let template = if crate::report::use_colour(true) {
            "{spinner:.cyan} {statement:.yellow} {migration:.dim}  {wide_msg:.bold}"
        } else {
            "{spinner} {statement} {migration}  {wide_msg}"
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

/// The columns left for the message on stderr's terminal after the spinner and the two
/// clocks (`⠁ 12m 05.1s (migration 12m 05.1s)  ` takes at most 36).
fn room() -> usize {
    let cols = console::Term::stderr()
        .size_checked()
        .map_or(80, |(_, cols)| cols as usize);
    cols.saturating_sub(36).max(20)
}

/// `head` followed by `tail`, within `room` columns: what does not fit goes from the start of
/// `tail` (a path's directories), marked `…`, so its end (`file.sql:12`) stays.
fn fit_left(head: &str, tail: &str, room: usize) -> String {
    let len = head.chars().count() + tail.chars().count();
    if len <= room {
        return format!("{head}{tail}");
    }
    let keep = room.saturating_sub(head.chars().count() + 1);
    let skip = tail.chars().count().saturating_sub(keep);
    format!("{head}…{}", tail.chars().skip(skip).collect::<String>())
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
    fn the_end_of_a_path_stays() {
        assert_eq!(super::fit_left("at ", "a/b.sql:3", 40), "at a/b.sql:3");
        assert_eq!(
            super::fit_left("at ", "dir/long_name.sql:12", 14),
            "at …ame.sql:12"
        );
    }

    #[test]
    fn seconds_read_well() {
        assert_eq!(seconds(Duration::from_millis(2345)), "2.3s");
        assert_eq!(seconds(Duration::from_millis(725_100)), "12m 05.1s");
    }
}
