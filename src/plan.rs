//! The planner: a pure function from migration files × history rows to an overview (every
//! version with its state, and every problem), and from there to what `upgrade`, `downgrade` or
//! `stamp` would run — or to the list of reasons they refuse. `status`, `check` and `upgrade`
//! all use [`overview`]; `upgrade` plans through [`for_upgrade`], one [`Plan`] per read of the
//! history (the dry run, the check before the lock, and again inside the lock when another
//! process changed the history). Nothing here does I/O. The verdict `check` exits 1 on is
//! [`Overview::findings`]; the road of a database without history is [`install_road`] and
//! [`unmanaged`].

pub mod warnings;

use std::collections::BTreeMap;

use crate::history::{Row, State};
pub use crate::problem::Problem;
use crate::source::{Migration, MigrationSet, SchemaFile, Script};

/// The state of one version as `status` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryState {
    Applied,
    Baseline,
    Pending,
    /// Recorded, but the file's checksum differs.
    Modified,
    /// Recorded, and the file differs only in comments and whitespace outside quotes: its
    /// statement checksum equals the recorded one. Warned about, not refused.
    Edited,
    /// Recorded, but there is no file: the database is ahead of this code.
    Missing,
    Failed,
}

impl EntryState {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryState::Applied => "applied",
            EntryState::Baseline => "baseline",
            EntryState::Pending => "pending",
            EntryState::Modified => "modified",
            EntryState::Edited => "edited",
            EntryState::Missing => "missing",
            EntryState::Failed => "failed",
        }
    }
}

/// One version, on disk, in the database, or both: `'f` borrows the files, `'h` the history.
#[derive(Debug, Clone)]
pub struct Entry<'f, 'h> {
    pub version: u64,
    pub state: EntryState,
    pub migration: Option<&'f Migration>,
    pub row: Option<&'h Row>,
    /// Pending, but older than the newest recorded version.
    pub out_of_order: bool,
}

impl Entry<'_, '_> {
    pub fn description(&self) -> String {
        match (self.migration, self.row) {
            (Some(m), _) => m.description(),
            (None, Some(r)) => r.description.clone(),
            (None, None) => String::new(),
        }
    }
}

/// Every version, on disk and recorded, with its state and the problems found. It borrows the
/// files (`'f`) and the history it was read from (`'h`) separately, so that what is planned
/// from it (a [`Step`] borrows only the files) outlives a history that is read again.
#[derive(Debug, Clone)]
pub struct Overview<'f, 'h> {
    pub entries: Vec<Entry<'f, 'h>>,
    pub problems: Vec<Problem>,
}

impl<'f, 'h> Overview<'f, 'h> {
    /// The highest version recorded as applied or baseline.
    pub fn current(&self) -> Option<u64> {
        self.entries
            .iter()
            .filter(|e| matches!(e.row, Some(r) if r.state != State::Failed))
            .map(|e| e.version)
            .max()
    }

    /// The problems that block changing recorded history (`downgrade`, `stamp`): all but
    /// out-of-order, which only matters when running pending versions.
    pub fn conflicts(&self) -> Vec<Problem> {
        self.problems
            .iter()
            .filter(|p| !matches!(p, Problem::OutOfOrder { .. }))
            .cloned()
            .collect()
    }

    pub fn pending(&self) -> impl Iterator<Item = &Entry<'f, 'h>> {
        self.entries
            .iter()
            .filter(|e| e.state == EntryState::Pending)
    }

    /// The migrations of the pending versions up to `target`: what a run to it would apply
    /// (or record, building from the schema file), whose files must hold statements
    /// ([`crate::source::refuse_statementless`]).
    pub fn pending_through(&self, target: Target) -> impl Iterator<Item = &'f Migration> + '_ {
        self.pending()
            .filter(move |e| target.includes(e.version))
            .filter_map(|e| e.migration)
    }

    /// Adds the problem of a database without history that holds `tables` (see
    /// [`unmanaged`]); `status` and `check` report it as `upgrade` would refuse on it.
    pub fn note_tables(&mut self, history: &[Row], tables: &[String]) {
        if let Some(p) = unmanaged(history, tables) {
            self.problems.insert(0, p);
        }
    }

    /// What `check` reports, in version order: every problem, and every pending version that
    /// has no problem of its own. `check` passes only when this is empty.
    pub fn findings(&self) -> Vec<Finding> {
        let mut list: Vec<Finding> = self
            .problems
            .iter()
            .map(|p| Finding {
                kind: p.kind().to_string(),
                version: p.version(),
                message: p.to_string(),
                difference: None,
            })
            .collect();
        for e in self.pending() {
            if !self.problems.iter().any(|p| p.version() == Some(e.version)) {
                list.push(Finding {
                    kind: "pending".to_string(),
                    version: Some(e.version),
                    message: format!(
                        "pending: {} {} has not been applied",
                        e.version,
                        e.description()
                    ),
                    difference: None,
                });
            }
        }
        list.sort_by_key(|f| f.version);
        list
    }
}

/// One line of `check`'s verdict: a problem, a pending version, or (added by the caller) a
/// drift from the expected schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `pending`, `drift`, or a [`Problem::kind`].
    pub kind: String,
    pub version: Option<u64>,
    pub message: String,
    /// A drift finding's difference, so JSON gives its parts (`table`, `object`, `expected`,
    /// `found`) as `adopt` does.
    pub difference: Option<crate::schema::Difference>,
}

/// A database whose history is empty but which holds tables is unmanaged: `upgrade` refuses
/// it, `status` and `check` report it.
pub fn unmanaged(history: &[Row], tables: &[String]) -> Option<Problem> {
    if !history.is_empty() || tables.is_empty() {
        return None;
    }
    let mut tables = tables.to_vec();
    tables.sort();
    Some(Problem::Unmanaged { tables })
}

/// The road of a database without history: built from `schema` when it is empty, a schema
/// file is there and the target reaches the file's version (`Some(file)`); else the
/// migrations run from the first one (`None`).
pub fn install_road(
    empty: bool,
    schema: Option<&SchemaFile>,
    target: Target,
) -> Option<&SchemaFile> {
    schema.filter(|f| empty && target.includes(f.version))
}

/// Compares files with history. `allow_out_of_order` keeps older pending versions from being
/// reported as problems.
pub fn overview<'f, 'h>(
    migrations: &'f [Migration],
    history: &'h [Row],
    allow_out_of_order: bool,
) -> Overview<'f, 'h> {
    let mut rows: BTreeMap<u64, &Row> = BTreeMap::new();
    for r in history {
        rows.insert(r.version, r);
    }
    let newest = rows
        .values()
        .filter(|r| r.state != State::Failed)
        .map(|r| r.version)
        .max();
    let mut entries = Vec::with_capacity(migrations.len().max(history.len()));
    let mut problems = Vec::new();
    for m in migrations {
        let row = rows.remove(&m.version);
        let state = match row {
            None => EntryState::Pending,
            Some(r) if r.state == State::Failed => {
                problems.push(Problem::Failed {
                    version: m.version,
                    description: m.description(),
                    done: r.statements_done,
                    total: r.statements_total,
                    error: r.error.clone(),
                    reverting: r.is_revert(),
                });
                EntryState::Failed
            }
            Some(r) if r.checksum != m.up.checksum => {
                // Only now is the statement checksum worth its second lexing of the file.
                let statements_changed = r
                    .statements_checksum
                    .as_ref()
                    .map(|recorded| *recorded != m.up.statements_checksum());
                if statements_changed == Some(false) {
                    EntryState::Edited
                } else {
                    problems.push(Problem::Modified {
                        version: m.version,
                        description: m.description(),
                        recorded: r.checksum.clone(),
                        file: m.up.checksum.clone(),
                        statements_changed,
                    });
                    EntryState::Modified
                }
            }
            Some(r) if r.state == State::Baseline => EntryState::Baseline,
            Some(_) => EntryState::Applied,
        };
        let out_of_order = state == EntryState::Pending && newest.is_some_and(|n| n > m.version);
        if out_of_order && !allow_out_of_order {
            problems.push(Problem::OutOfOrder {
                version: m.version,
                description: m.description(),
                newest: newest.unwrap_or_default(),
            });
        }
        entries.push(Entry {
            version: m.version,
            state,
            migration: Some(m),
            row,
            out_of_order,
        });
    }
    for (version, r) in rows {
        if r.state == State::Failed {
            problems.push(Problem::Failed {
                version,
                description: r.description.clone(),
                done: r.statements_done,
                total: r.statements_total,
                error: r.error.clone(),
                reverting: r.is_revert(),
            });
        }
        problems.push(Problem::Missing {
            version,
            description: r.description.clone(),
        });
        entries.push(Entry {
            version,
            state: EntryState::Missing,
            migration: None,
            row: Some(r),
            out_of_order: false,
        });
    }
    entries.sort_by_key(|e| e.version);
    problems.sort_by_key(|p| p.version());
    Overview { entries, problems }
}

/// How far to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Every pending version.
    Latest,
    /// Pending versions up to and including this one.
    Version(u64),
}

impl Target {
    pub fn includes(self, version: u64) -> bool {
        match self {
            Target::Latest => true,
            Target::Version(t) => version <= t,
        }
    }
}

/// One migration `upgrade` runs.
#[derive(Debug, Clone, Copy)]
pub struct Step<'f> {
    pub migration: &'f Migration,
    /// 0 to run it from the start; else the number of statements already committed by an
    /// earlier, failed run that `--resume` continues after.
    pub resume_from: usize,
}

impl PartialEq for Step<'_> {
    /// The same version, from the same statement (the files are the same set).
    fn eq(&self, other: &Self) -> bool {
        self.migration.version == other.migration.version && self.resume_from == other.resume_from
    }
}

/// How `upgrade` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpgradeOptions {
    pub target: Target,
    pub mode: RunMode,
    pub allow_out_of_order: bool,
    /// Continue failed migrations after their committed statements (`--resume`).
    pub resume: bool,
}

/// One transaction per migration, or one for the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    PerMigration,
    SingleTransaction,
}

/// What `upgrade` would do on one read of the history: the overview (for the warnings about
/// it) and the steps, in version order.
#[derive(Debug, Clone)]
pub struct Plan<'f, 'h> {
    pub overview: Overview<'f, 'h>,
    pub steps: Vec<Step<'f>>,
}

/// Plans `upgrade` on `history`: [`overview`], then [`upgrade`]'s steps, or every reason it
/// refuses. The one function the dry run, the check before the lock and every plan inside the
/// lock go through.
pub fn for_upgrade<'f, 'h>(
    set: &'f MigrationSet,
    history: &'h [Row],
    options: UpgradeOptions,
) -> Result<Plan<'f, 'h>, Vec<Problem>> {
    let overview = overview(&set.migrations, history, options.allow_out_of_order);
    let steps = upgrade(&overview, options.target, options.resume)?;
    Ok(Plan { overview, steps })
}

/// What `upgrade` runs, in order, or every reason it refuses. With `resume`, a failed
/// migration whose committed statements are unchanged in the file (compared by
/// [`Script::prefix_checksum`](crate::source::Script::prefix_checksum), not by the whole file,
/// so the failing statement may have been fixed) continues after them.
pub fn upgrade<'f>(
    overview: &Overview<'f, '_>,
    target: Target,
    resume: bool,
) -> Result<Vec<Step<'f>>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut steps = Vec::new();
    for p in &overview.problems {
        let resumable = match p {
            Problem::Failed {
                version,
                reverting: false,
                ..
            } if resume => overview
                .entries
                .iter()
                .find(|e| e.version == *version)
                .and_then(|e| Some((e.migration?, e.row?)))
                .map(|(m, r)| {
                    let done = r.statements_done as usize;
                    let same = r.progress_checksum.as_deref()
                        == Some(m.up.prefix_checksum(done).as_str())
                        && done <= m.up.statements.len();
                    (m, done, same)
                }),
            _ => None,
        };
        match resumable {
            Some((m, done, true)) => {
                if target.includes(m.version) {
                    steps.push(Step {
                        migration: m,
                        resume_from: done,
                    });
                }
            }
            Some((m, done, false)) => problems.push(Problem::CannotResume {
                version: m.version,
                description: m.description(),
                done: done as u32,
            }),
            None => problems.push(p.clone()),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    steps.extend(
        overview
            .pending()
            .filter(|e| target.includes(e.version))
            .filter_map(|e| e.migration)
            .map(|m| Step {
                migration: m,
                resume_from: 0,
            }),
    );
    steps.sort_by_key(|s| s.migration.version);
    Ok(steps)
}

/// Why `downgrade` cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DowngradeRefusal {
    /// The history conflicts with the files.
    Problems(Vec<Problem>),
    /// These versions would have to be reverted but have no reverse file.
    NoReverse(Vec<u64>),
}

/// One version `downgrade` reverts: its migration, its reverse file and its row.
#[derive(Debug, Clone, Copy)]
pub struct Revert<'f, 'h> {
    pub migration: &'f Migration,
    pub down: &'f Script,
    pub row: &'h Row,
}

/// What `downgrade --to target` reverts, newest first: every recorded version above `target`.
pub fn downgrade<'f, 'h>(
    overview: &Overview<'f, 'h>,
    target: u64,
) -> Result<Vec<Revert<'f, 'h>>, DowngradeRefusal> {
    let problems = overview.conflicts();
    if !problems.is_empty() {
        return Err(DowngradeRefusal::Problems(problems));
    }
    let mut steps = Vec::new();
    let mut no_reverse = Vec::new();
    for e in overview.entries.iter().rev() {
        if e.version <= target {
            break;
        }
        if let (Some(m), Some(row)) = (e.migration, e.row) {
            match &m.down {
                Some(down) => steps.push(Revert {
                    migration: m,
                    down,
                    row,
                }),
                None => no_reverse.push(m.version),
            }
        }
    }
    if !no_reverse.is_empty() {
        return Err(DowngradeRefusal::NoReverse(no_reverse));
    }
    Ok(steps)
}

/// What `stamp target` (and `baseline target`) records without running: every pending version
/// up to `target`. Refuses on problems other than out-of-order (stamping is how an operator
/// accepts an older pending version).
pub fn stamp<'f>(
    overview: &Overview<'f, '_>,
    target: u64,
) -> Result<Vec<&'f Migration>, Vec<Problem>> {
    let problems = overview.conflicts();
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(overview
        .pending()
        .filter(|e| e.version <= target)
        .filter_map(|e| e.migration)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Dialect;
    use crate::source::{load_files, RawFile};
    use std::path::Path;

    fn set(versions: &[u64]) -> Vec<Migration> {
        let files = versions
            .iter()
            .flat_map(|v| {
                [
                    RawFile {
                        name: format!("{v}_m{v}.sql"),
                        bytes: format!("SELECT {v};").into_bytes(),
                    },
                    RawFile {
                        name: format!("{v}_m{v}.down.sql"),
                        bytes: b"SELECT 0;".to_vec(),
                    },
                ]
            })
            .collect();
        load_files(Path::new("m"), files, Dialect::Sqlite)
            .unwrap()
            .migrations
    }

    fn migration_set(versions: &[u64]) -> MigrationSet {
        MigrationSet {
            dir: "m".into(),
            dialect: Dialect::Sqlite,
            migrations: set(versions),
        }
    }

    fn row(m: &[Migration], version: u64, state: State) -> Row {
        let checksum = m
            .iter()
            .find(|x| x.version == version)
            .map(|x| x.up.checksum.clone())
            .unwrap_or_else(|| "sha256-v1:gone".into());
        Row {
            version,
            description: format!("m{version}"),
            checksum,
            state,
            statements_done: 0,
            statements_total: 1,
            progress_checksum: None,
            error: None,
            applied_at: String::new(),
            applied_by: String::new(),
            execution_ms: 0,
            tool_version: String::new(),
            statements_checksum: None,
        }
    }

    fn states(o: &Overview) -> Vec<(u64, &'static str)> {
        o.entries
            .iter()
            .map(|e| (e.version, e.state.as_str()))
            .collect()
    }

    fn kinds(p: &[Problem]) -> Vec<(&'static str, u64)> {
        p.iter()
            .map(|p| (p.kind(), p.version().expect("about a version")))
            .collect()
    }

    fn versions(ms: &[&Migration]) -> Vec<u64> {
        ms.iter().map(|m| m.version).collect()
    }

    fn step_versions(steps: &[Step]) -> Vec<(u64, usize)> {
        steps
            .iter()
            .map(|s| (s.migration.version, s.resume_from))
            .collect()
    }

    /// The recorded checksums of `text` as migration `version`, as the runner writes them.
    fn recorded_as(version: u64, text: &str) -> (String, String) {
        let files = vec![RawFile {
            name: format!("{version}_m{version}.sql"),
            bytes: text.as_bytes().to_vec(),
        }];
        let m = load_files(Path::new("m"), files, Dialect::Sqlite).unwrap();
        let up = &m.migrations[0].up;
        (up.checksum.clone(), up.statements_checksum())
    }

    #[test]
    fn comments_only_edit_is_edited_not_modified() {
        let m = set(&[1, 2]);
        let mut r = row(&m, 1, State::Applied);
        (r.checksum, _) = recorded_as(1, "-- was\nSELECT   1 ;");
        // Without a statement checksum (a row of 0.1.0) it cannot be told: modified.
        let o = overview(&m, std::slice::from_ref(&r), false);
        assert_eq!(states(&o)[0], (1, "modified"));
        assert!(matches!(
            o.problems[0],
            Problem::Modified {
                statements_changed: None,
                ..
            }
        ));
        // With it: edited, and no problem: the pending one runs.
        r.statements_checksum = Some(recorded_as(1, "-- was\nSELECT   1 ;").1);
        let o = overview(&m, std::slice::from_ref(&r), false);
        assert_eq!(states(&o), [(1, "edited"), (2, "pending")]);
        assert!(o.problems.is_empty());
        assert_eq!(upgrade(&o, Target::Latest, false).unwrap().len(), 1);
        // A statement changed: modified, saying so.
        (r.checksum, _) = recorded_as(1, "SELECT 11;");
        r.statements_checksum = Some(recorded_as(1, "SELECT 11;").1);
        let o = overview(&m, std::slice::from_ref(&r), false);
        assert!(matches!(
            o.problems[0],
            Problem::Modified {
                statements_changed: Some(true),
                ..
            }
        ));
    }

    #[test]
    fn statement_checksum_covers_directives() {
        let plain = recorded_as(1, "SELECT 1;").1;
        assert_eq!(plain, recorded_as(1, "SELECT 1; -- done").1);
        assert_ne!(
            plain,
            recorded_as(1, "-- aurweb-migrate: no-transaction\nSELECT 1;").1
        );
        assert!(plain.starts_with("sha256-stmts-v1:") && plain.len() == 80);
    }

    #[test]
    fn empty_history_everything_pending() {
        let m = set(&[1, 2, 3]);
        let o = overview(&m, &[], false);
        assert_eq!(states(&o), [(1, "pending"), (2, "pending"), (3, "pending")]);
        assert_eq!(o.current(), None);
        assert_eq!(
            step_versions(&upgrade(&o, Target::Latest, false).unwrap()),
            [(1, 0), (2, 0), (3, 0)]
        );
        assert_eq!(
            step_versions(&upgrade(&o, Target::Version(2), false).unwrap()),
            [(1, 0), (2, 0)]
        );
    }

    #[test]
    fn partly_applied() {
        let m = set(&[1, 2, 3]);
        let h = [row(&m, 1, State::Baseline), row(&m, 2, State::Applied)];
        let o = overview(&m, &h, false);
        assert_eq!(
            states(&o),
            [(1, "baseline"), (2, "applied"), (3, "pending")]
        );
        assert_eq!(o.current(), Some(2));
        assert_eq!(
            step_versions(&upgrade(&o, Target::Latest, false).unwrap()),
            [(3, 0)]
        );
        assert!(upgrade(&o, Target::Version(2), false).unwrap().is_empty());
    }

    #[test]
    fn up_to_date_is_empty_plan() {
        let m = set(&[1, 2]);
        let h = [row(&m, 1, State::Applied), row(&m, 2, State::Applied)];
        let o = overview(&m, &h, false);
        assert!(o.problems.is_empty());
        assert!(upgrade(&o, Target::Latest, false).unwrap().is_empty());
    }

    #[test]
    fn modified_missing_failed_out_of_order_all_listed() {
        let m = set(&[1, 2, 3, 5]);
        let mut modified = row(&m, 1, State::Applied);
        modified.checksum = "sha256-v1:other".into();
        let mut failed = row(&m, 3, State::Failed);
        failed.error = Some("boom".into());
        let h = [
            modified,
            failed,
            row(&m, 4, State::Applied),
            row(&m, 5, State::Applied),
        ];
        let o = overview(&m, &h, false);
        assert_eq!(
            states(&o),
            [
                (1, "modified"),
                (2, "pending"),
                (3, "failed"),
                (4, "missing"),
                (5, "applied")
            ]
        );
        let refused = upgrade(&o, Target::Latest, false).unwrap_err();
        assert_eq!(
            kinds(&refused),
            [
                ("modified", 1),
                ("out-of-order", 2),
                ("failed", 3),
                ("missing", 4)
            ]
        );
        assert!(refused[2].to_string().contains("boom"));
    }

    #[test]
    fn out_of_order_allowed() {
        let m = set(&[1, 2, 3]);
        let h = [row(&m, 1, State::Applied), row(&m, 3, State::Applied)];
        let o = overview(&m, &h, false);
        assert_eq!(kinds(&o.problems), [("out-of-order", 2)]);
        let o = overview(&m, &h, true);
        assert!(o.problems.is_empty());
        assert!(o.entries[1].out_of_order);
        assert_eq!(
            step_versions(&upgrade(&o, Target::Latest, false).unwrap()),
            [(2, 0)]
        );
    }

    #[test]
    fn resume_continues_after_unchanged_committed_statements() {
        let files = vec![RawFile {
            name: "1_m.sql".into(),
            bytes: b"SELECT 1;\nSELECT 2;\nSELECT 3;".to_vec(),
        }];
        let m = load_files(Path::new("m"), files, Dialect::Sqlite)
            .unwrap()
            .migrations;
        let mut failed = row(&m, 1, State::Failed);
        failed.checksum = "sha256-v1:before-the-fix".into();
        failed.statements_done = 2;
        failed.statements_total = 3;
        failed.progress_checksum = Some(m[0].up.prefix_checksum(2));
        let h = [failed.clone()];
        let o = overview(&m, &h, false);
        assert_eq!(
            kinds(&upgrade(&o, Target::Latest, false).unwrap_err()),
            [("failed", 1)]
        );
        assert_eq!(
            step_versions(&upgrade(&o, Target::Latest, true).unwrap()),
            [(1, 2)]
        );
        // the statements that ran changed: no resume
        failed.progress_checksum = Some(m[0].up.prefix_checksum(1));
        let h = [failed];
        let o = overview(&m, &h, false);
        let refused = upgrade(&o, Target::Latest, true).unwrap_err();
        assert!(matches!(
            refused[0],
            Problem::CannotResume {
                version: 1,
                done: 2,
                ..
            }
        ));
    }

    #[test]
    fn failed_does_not_count_as_current() {
        let m = set(&[1, 2]);
        let h = [row(&m, 1, State::Applied), row(&m, 2, State::Failed)];
        let o = overview(&m, &h, false);
        assert_eq!(o.current(), Some(1));
    }

    #[test]
    fn downgrade_newest_first_exclusive_target() {
        let m = set(&[1, 2, 3]);
        let h = [
            row(&m, 1, State::Applied),
            row(&m, 2, State::Applied),
            row(&m, 3, State::Applied),
        ];
        let o = overview(&m, &h, false);
        let steps = downgrade(&o, 1).unwrap();
        assert_eq!(
            steps
                .iter()
                .map(|s| s.migration.version)
                .collect::<Vec<_>>(),
            [3, 2]
        );
        assert!(downgrade(&o, 3).unwrap().is_empty());
        assert_eq!(downgrade(&o, 0).unwrap().len(), 3);
    }

    #[test]
    fn downgrade_refuses_without_reverse_or_with_problems() {
        let mut m = set(&[1, 2]);
        m[1].down = None;
        let h = [row(&m, 1, State::Applied), row(&m, 2, State::Applied)];
        let o = overview(&m, &h, false);
        assert_eq!(
            downgrade(&o, 0).unwrap_err(),
            DowngradeRefusal::NoReverse(vec![2])
        );
        let h = [row(&m, 1, State::Applied), row(&m, 7, State::Applied)];
        let o = overview(&m, &h, false);
        assert!(
            matches!(downgrade(&o, 0), Err(DowngradeRefusal::Problems(p)) if kinds(&p) == [("missing", 7)])
        );
    }

    #[test]
    fn stamp_takes_pending_up_to_target() {
        let m = set(&[1, 2, 3]);
        let o = overview(&m, &[], false);
        assert_eq!(versions(&stamp(&o, 2).unwrap()), [1, 2]);
        let h = [row(&m, 3, State::Applied)];
        let o = overview(&m, &h, false);
        // stamping is how an operator accepts older pending versions
        assert_eq!(versions(&stamp(&o, 3).unwrap()), [1, 2]);
    }

    const LATEST: UpgradeOptions = UpgradeOptions {
        target: Target::Latest,
        mode: RunMode::PerMigration,
        allow_out_of_order: false,
        resume: false,
    };

    /// Every way `for_upgrade` answers, on files 1, 2, 3: the steps (version, resume_from), or
    /// the refusal's problems (kind, version).
    #[test]
    fn for_upgrade_plans_or_refuses() {
        use State::{Applied, Baseline, Failed};
        type Expected = Result<&'static [(u64, usize)], &'static [(&'static str, u64)]>;
        type Case = (
            &'static str,
            &'static [(u64, State)],
            UpgradeOptions,
            Expected,
        );
        let up_to_2 = UpgradeOptions {
            target: Target::Version(2),
            ..LATEST
        };
        let out_of_order = UpgradeOptions {
            allow_out_of_order: true,
            ..LATEST
        };
        let single = UpgradeOptions {
            mode: RunMode::SingleTransaction,
            ..LATEST
        };
        let cases: [Case; 9] = [
            ("empty history", &[], LATEST, Ok(&[(1, 0), (2, 0), (3, 0)])),
            ("up to --to", &[], up_to_2, Ok(&[(1, 0), (2, 0)])),
            (
                "the mode plans alike",
                &[],
                single,
                Ok(&[(1, 0), (2, 0), (3, 0)]),
            ),
            (
                "partly applied",
                &[(1, Baseline), (2, Applied)],
                LATEST,
                Ok(&[(3, 0)]),
            ),
            (
                "up to date",
                &[(1, Applied), (2, Applied), (3, Applied)],
                LATEST,
                Ok(&[]),
            ),
            (
                "older pending refused",
                &[(1, Applied), (3, Applied)],
                LATEST,
                Err(&[("out-of-order", 2)]),
            ),
            (
                "older pending allowed",
                &[(1, Applied), (3, Applied)],
                out_of_order,
                Ok(&[(2, 0)]),
            ),
            (
                "failed refused",
                &[(1, Applied), (2, Failed)],
                LATEST,
                Err(&[("failed", 2)]),
            ),
            (
                "recorded without a file",
                &[(1, Applied), (2, Applied), (3, Applied), (4, Applied)],
                LATEST,
                Err(&[("missing", 4)]),
            ),
        ];
        let files = migration_set(&[1, 2, 3]);
        for (name, recorded, options, expected) in cases {
            let history: Vec<Row> = recorded
                .iter()
                .map(|&(v, state)| row(&files.migrations, v, state))
                .collect();
            let got = for_upgrade(&files, &history, options)
                .map(|p| {
                    assert_eq!(p.overview.entries.len(), 3.max(history.len()), "{name}");
                    step_versions(&p.steps)
                })
                .map_err(|p| kinds(&p));
            let expected = expected.map(<[_]>::to_vec).map_err(<[_]>::to_vec);
            assert_eq!(got, expected, "{name}");
        }
    }

    /// The steps borrow the files only: they outlive the history they were planned from (the
    /// runner reads it again, inside the lock, while it holds them).
    #[test]
    fn steps_outlive_the_history() {
        let files = migration_set(&[1, 2]);
        let steps = {
            let history = vec![row(&files.migrations, 1, State::Applied)];
            for_upgrade(&files, &history, LATEST).unwrap().steps
        };
        assert_eq!(step_versions(&steps), [(2, 0)]);
        assert!(
            steps[0]
                == Step {
                    migration: &files.migrations[1],
                    resume_from: 0
                }
        );
        assert!(
            steps[0]
                != Step {
                    migration: &files.migrations[1],
                    resume_from: 1
                }
        );
    }
}
