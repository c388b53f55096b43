//! The binary under test as a process: [`isolated`] (an empty environment, nothing of the
//! developer's shell leaks in), a command line ([`Cmd`]), a running process ([`Spawned`],
//! killed after a deadline) and a finished run ([`Run`]) with the assertions tests make on
//! its exit code and output. Every JSON document a run prints is checked against its schema.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::BIN;

/// No single run of the tool may take longer than this; a hang fails the test instead of the
/// whole suite.
const RUN_DEADLINE: Duration = Duration::from_secs(60);

/// Variables that configure the tool or its output and must not leak in from the developer's
/// shell. The child starts from an empty environment anyway; this list documents why.
pub const SCRUBBED: &[&str] = &[
    "DATABASE_URL",
    "AURWEB_MIGRATE_DATABASE_URL",
    "AUR_CONFIG",
    "AUR_CONFIG_DEFAULTS",
    "AURWEB_MIGRATE_SCHEMA_COMMAND",
    "RUST_LOG",
    "NO_COLOR",
    "CLICOLOR_FORCE",
];

/// `program` in `cwd` with an empty environment but PATH and HOME (none of [`SCRUBBED`] leaks
/// in), stdin closed, stdout and stderr piped.
pub fn isolated(program: impl AsRef<std::ffi::OsStr>, cwd: &Path) -> Command {
    let mut c = Command::new(program);
    c.current_dir(cwd)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for key in ["PATH", "HOME"] {
        if let Some(v) = std::env::var_os(key) {
            c.env(key, v);
        }
    }
    for key in SCRUBBED {
        c.env_remove(key);
    }
    c
}

/// A command line ready to run.
#[derive(Clone)]
pub struct Cmd {
    pub(super) cwd: PathBuf,
    pub(super) args: Vec<OsString>,
    pub(super) env: Vec<(String, OsString)>,
}

impl Cmd {
    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Cmd {
        self.env.push((key.to_string(), value.into()));
        self
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Cmd {
        self.args.push(arg.into());
        self
    }

    fn describe(&self) -> String {
        let mut s = String::new();
        for (k, v) in &self.env {
            s.push_str(&format!("{k}={} ", v.to_string_lossy()));
        }
        s.push_str("aurweb-migrate");
        for a in &self.args {
            let a = a.to_string_lossy();
            if a.contains(' ') || a.is_empty() {
                s.push_str(&format!(" {a:?}"));
            } else {
                s.push_str(&format!(" {a}"));
            }
        }
        s
    }

    /// Starts the process; [`Spawned::wait`] collects it.
    pub fn spawn(&self) -> Spawned {
        let mut c = isolated(BIN, &self.cwd);
        c.args(&self.args).env("USER", "it-user");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        let mut child = c.spawn().unwrap_or_else(|e| panic!("spawn {BIN}: {e}"));
        let stdout = drain(child.stdout.take().expect("piped stdout"));
        let stderr = drain(child.stderr.take().expect("piped stderr"));
        Spawned {
            child,
            stdout,
            stderr,
            args: self
                .args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            command: self.describe(),
            cwd: self.cwd.clone(),
            started: Instant::now(),
        }
    }

    #[track_caller]
    pub fn run(&self) -> Run {
        self.spawn().wait()
    }
}

fn drain(mut r: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

/// A running process.
pub struct Spawned {
    child: Child,
    stdout: JoinHandle<Vec<u8>>,
    stderr: JoinHandle<Vec<u8>>,
    args: Vec<String>,
    command: String,
    cwd: PathBuf,
    started: Instant,
}

impl Spawned {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has exited (without collecting its output).
    pub fn has_exited(&mut self) -> bool {
        self.child.try_wait().expect("poll child").is_some()
    }

    /// SIGKILLs the process (no chance to clean up) and collects what it printed; the [`Run`]
    /// has `code: None`.
    pub fn kill(mut self) -> Run {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let elapsed = self.started.elapsed();
        Run {
            args: self.args,
            command: self.command,
            cwd: self.cwd,
            code: None,
            stdout: String::from_utf8_lossy(&self.stdout.join().expect("stdout reader")).into(),
            stderr: String::from_utf8_lossy(&self.stderr.join().expect("stderr reader")).into(),
            elapsed,
        }
    }

    /// Waits for the process (at most [`RUN_DEADLINE`], then kills it and fails the test).
    #[track_caller]
    pub fn wait(mut self) -> Run {
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for child") {
                break Some(status);
            }
            if self.started.elapsed() > RUN_DEADLINE {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let elapsed = self.started.elapsed();
        let run = Run {
            args: self.args,
            command: self.command,
            cwd: self.cwd,
            code: status.and_then(|s| s.code()),
            stdout: String::from_utf8_lossy(&self.stdout.join().expect("stdout reader")).into(),
            stderr: String::from_utf8_lossy(&self.stderr.join().expect("stderr reader")).into(),
            elapsed,
        };
        if status.is_none() {
            run.fail(&format!("killed after {RUN_DEADLINE:?}: the command hung"));
        }
        // Every JSON document the suite makes the binary print is checked against its schema.
        if run.code.is_some() {
            crate::json_schema::check_run(&run);
        }
        run
    }
}

/// A finished run of the binary.
#[derive(Debug, Clone)]
pub struct Run {
    /// The arguments the binary was given (which document its JSON output is).
    pub args: Vec<String>,
    pub command: String,
    pub cwd: PathBuf,
    /// `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// Panics with everything needed to reproduce and understand the run.
    #[track_caller]
    pub fn fail(&self, why: &str) -> ! {
        panic!(
            "{why}\n--- command: {}\n--- cwd:     {}\n--- exit:    {}\n--- elapsed: {:?}\n--- stdout:\n{}\n--- stderr:\n{}\n---",
            self.command,
            self.cwd.display(),
            self.code.map_or("killed by a signal".to_string(), |c| c.to_string()),
            self.elapsed,
            self.stdout,
            self.stderr
        )
    }

    /// Asserts the exit code.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Run {
        if self.code != Some(expected) {
            self.fail(&format!("expected exit code {expected}"));
        }
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Run {
        self.code(0)
    }

    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Run {
        if !self.stdout.contains(needle) {
            self.fail(&format!("expected stdout to contain {needle:?}"));
        }
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Run {
        if !self.stderr.contains(needle) {
            self.fail(&format!("expected stderr to contain {needle:?}"));
        }
        self
    }

    /// Asserts that neither stream contains `needle`.
    #[track_caller]
    pub fn nowhere(&self, needle: &str) -> &Run {
        if self.stdout.contains(needle) || self.stderr.contains(needle) {
            self.fail(&format!("expected {needle:?} in neither stdout nor stderr"));
        }
        self
    }

    /// Custom assertion with the run's details on failure.
    #[track_caller]
    pub fn check(&self, cond: bool, why: &str) -> &Run {
        if !cond {
            self.fail(why);
        }
        self
    }

    /// stdout parsed as exactly one JSON document.
    #[track_caller]
    pub fn json(&self) -> Value {
        let mut docs = serde_json::Deserializer::from_str(&self.stdout).into_iter::<Value>();
        let first = match docs.next() {
            Some(Ok(v)) => v,
            Some(Err(e)) => self.fail(&format!("stdout is not JSON: {e}")),
            None => self.fail("stdout holds no JSON document"),
        };
        if docs.next().is_some() {
            self.fail("stdout holds more than one JSON document");
        }
        first
    }
}
