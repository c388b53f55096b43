//! What a run reports: the [`Event`]s while it goes on (the report layer prints them), and
//! the [`Outcome`] when it ends. A leaf of `run/`: every other file of it uses these types.

use crate::source::{Migration, Script};

/// Progress reported while a run goes on (the report layer prints it).
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// A migration starts (`Direction` up unless reverting).
    Start {
        migration: &'a Migration,
        reverting: bool,
    },
    /// A statement starts now (1-based number, total, its line in the migration's file);
    /// the progress display shows it until the next event.
    Statement {
        migration: &'a Migration,
        number: usize,
        total: usize,
        line: u32,
    },
    /// A migration finished.
    Done {
        migration: &'a Migration,
        reverting: bool,
        execution_ms: u64,
    },
    /// A fresh install from a schema file starts (`upgrade` on an empty database, and the
    /// scratch builds of `verify`).
    Building { script: &'a Script },
    /// A statement of the schema file starts now (1-based number, total, its line).
    BuildStatement {
        number: usize,
        total: usize,
        line: u32,
    },
    /// The install finished (or stopped).
    Built,
    /// An applied migration's file was edited in comments and whitespace only (the run goes
    /// on; said once per run, before anything runs).
    Edited { migration: &'a Migration },
    /// Before anything runs: other sessions' old transactions that may hold the metadata
    /// lock of a table the run's DDL statements name (said once per run, as a warning).
    OldTransactions(&'a crate::backend::OldTransactions),
}

/// Receives [`Event`]s.
pub type Observer<'o> = &'o mut dyn FnMut(Event<'_>);

/// One migration that ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub version: u64,
    pub description: String,
    pub execution_ms: u64,
}

/// A database built from a schema file (a fresh install).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The schema file, as shown to the user.
    pub path: std::path::PathBuf,
    pub statements: usize,
    pub execution_ms: u64,
    /// The versions recorded as `baseline`.
    pub baseline: Vec<u64>,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Set when the run built an empty database from `schema/` first.
    pub installed: Option<Installed>,
    pub applied: Vec<Applied>,
    /// The highest applied or baseline version afterwards.
    pub current: Option<u64>,
}

/// A check the runner makes right before some statements of an upgrade, on the run's
/// connection and inside its transaction: the probes of live rows that an earlier statement
/// of the run writes (`app/` provides them; the runner only asks).
pub trait PreCheck<B> {
    /// Whether statement `index` (0-based) of migration `version` is checked before it runs.
    fn wants(&self, version: u64, index: usize) -> bool;

    /// The check before statement `index` of migration `version`. An error stops the run
    /// before that statement, as if it had failed with it (kind `Refused`: the probes found
    /// rows it would reject).
    fn check<'a>(
        &'a self,
        backend: &'a mut B,
        version: u64,
        index: usize,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<(), crate::backend::StatementError>> + 'a>,
    >;

    /// The clause appended to statement `index` of migration `version` when it runs (the DDL
    /// plan's proven `ALGORITHM=…, LOCK=…`, with a gate set), and the statement so; `None`:
    /// it runs as written.
    fn enforced(&self, version: u64, index: usize) -> Option<(String, String)> {
        let _ = (version, index);
        None
    }
}

/// The checks of a run, if any.
pub type Checks<'c, B> = Option<&'c dyn PreCheck<B>>;
