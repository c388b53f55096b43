//! Migration files: finding them, validating their names, reading, normalising, hashing and
//! splitting them. This is the only module that reads `migrations/`; everything after it works on
//! the exact bytes read here (no re-read between check and run).
//!
//! A file name is `<VERSION>_<slug>[.down][.mysql|.sqlite].sql`. Every `*.sql` file in the
//! directory must parse as one; other files (a README) and dot-files are ignored. Errors are
//! collected for every file and reported together, before any database work.

pub(crate) mod embedded;
pub(crate) mod lint;
pub(crate) mod scaffold;
pub mod splitter;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::dialect::Dialect;
use crate::error::{Error, InputError, Result};
use splitter::Statement;

/// The prefix naming the checksum algorithm and normalisation (BOM removed, CRLF → LF).
pub const CHECKSUM_PREFIX: &str = "sha256-v1:";

/// Whether a file runs forwards or backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Direction {
    Up,
    Down,
}

/// A parsed migration file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    pub version: u64,
    /// The version exactly as written (`0003`), kept to continue zero-padded numbering.
    pub version_text: String,
    pub slug: String,
    pub direction: Direction,
    /// `None` for a portable file used by every dialect without a variant of its own.
    pub dialect: Option<Dialect>,
}

/// Parses a file name. `Ok(None)`: not a migration file (not `*.sql`, or a dot-file);
/// `Err`: a `*.sql` file that does not follow the rules, with the reason.
pub fn parse_file_name(name: &str) -> std::result::Result<Option<FileName>, String> {
    if name.starts_with('.') {
        return Ok(None);
    }
    let Some(stem) = name.strip_suffix(".sql") else {
        // `0004_x.SQL` would otherwise be skipped without a word.
        if name.to_ascii_lowercase().ends_with(".sql") {
            return Err(format!(
                "the extension must be `.sql` in lower case (rename it to {}.sql)",
                &name[..name.len() - 4]
            ));
        }
        return Ok(None);
    };
    const EXPECTED: &str =
        "expected <VERSION>_<slug>[.down][.mysql|.sqlite].sql with VERSION of 1-18 digits and slug of [a-z0-9_]";
    let Some((version_text, rest)) = stem.split_once('_') else {
        return Err(format!("malformed migration file name: {EXPECTED}"));
    };
    if version_text.is_empty()
        || version_text.len() > 18
        || !version_text.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("malformed version {version_text:?}: {EXPECTED}"));
    }
    let version: u64 = version_text
        .parse()
        .map_err(|_| format!("malformed version {version_text:?}: {EXPECTED}"))?;
    if version == 0 {
        return Err("version 0 is reserved: versions start at 1".to_string());
    }
    let mut parts = rest.split('.');
    let slug = parts.next().unwrap_or_default();
    if slug.is_empty()
        || !slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(format!("malformed slug {slug:?}: {EXPECTED}"));
    }
    let mut direction = Direction::Up;
    let mut dialect = None;
    let suffixes: Vec<&str> = parts.collect();
    if suffixes.first() == Some(&"up") {
        // sqlx and golang-migrate name forward files `.up.sql`; here they carry no suffix.
        let rest: Vec<&str> = suffixes[1..].to_vec();
        let right = if rest.is_empty() {
            format!("{version_text}_{slug}.sql")
        } else {
            format!("{version_text}_{slug}.{}.sql", rest.join("."))
        };
        return Err(format!(
            "a forward migration has no `.up` suffix: rename it to {right} (reverse files are `.down.sql`)"
        ));
    }
    match suffixes.as_slice() {
        [] => {}
        ["down"] => direction = Direction::Down,
        [d] => dialect = Some(parse_dialect_suffix(d)?),
        ["down", d] => {
            direction = Direction::Down;
            dialect = Some(parse_dialect_suffix(d)?);
        }
        _ => {
            return Err(format!(
                "malformed suffix .{}: {EXPECTED}",
                suffixes.join(".")
            ))
        }
    }
    Ok(Some(FileName {
        version,
        version_text: version_text.to_string(),
        slug: slug.to_string(),
        direction,
        dialect,
    }))
}

fn parse_dialect_suffix(s: &str) -> std::result::Result<Dialect, String> {
    match s {
        "mysql" => Ok(Dialect::Mysql),
        "sqlite" => Ok(Dialect::Sqlite),
        _ => Err(format!(
            "unknown dialect {s:?} (expected mysql or sqlite; MariaDB uses .mysql.sql)"
        )),
    }
}

/// Directives given in `--` comments before the first statement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    /// `-- aurweb-migrate: no-transaction`
    pub no_transaction: bool,
    /// `-- aurweb-migrate: foreign-keys off` (SQLite table rebuilds)
    pub foreign_keys_off: bool,
    /// `-- alembic-revision: <id>`
    pub alembic_revision: Option<String>,
    /// `-- aurweb-migrate: review <kind> <object>: <reason>` lines (from `new
    /// --autogenerate`), with their line numbers: the file must not run while one is left.
    pub review: Vec<(u32, String)>,
    /// `-- aurweb-migrate: allow-lock=none|shared|exclusive` (uppercased): the migration is
    /// meant to run with its tables locked so (offline); it raises `--max-lock` for it.
    pub allow_lock: Option<String>,
    /// `-- aurweb-migrate: empty`: the file holds no statements on purpose (a version with
    /// nothing to do on one dialect). Without it a file of comments only is refused while
    /// pending ([`refuse_statementless`]). It changes nothing the server does, so it is not
    /// part of the statement checksum: adding it to an applied file is an edit of comments.
    pub empty: bool,
}

/// A statement's first two keywords, uppercased (empty when missing).
fn two_words(statement: &str) -> (String, String) {
    let mut w = splitter::keywords(statement, 2).into_iter();
    (w.next().unwrap_or_default(), w.next().unwrap_or_default())
}

/// The file's own transaction control, which a stepwise MySQL file may hold as a group
/// boundary: `COMMIT`, `START TRANSACTION`, `BEGIN` (not `BEGIN NOT ATOMIC`, a compound
/// statement).
fn is_transaction_boundary(statement: &str) -> bool {
    let (first, second) = two_words(statement);
    match first.as_str() {
        "COMMIT" => true,
        "START" => second == "TRANSACTION",
        "BEGIN" => second != "NOT",
        _ => false,
    }
}

/// One segment of a script that is not atomic ([`Script::steps`]): statement indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Statements sharing one transaction with the progress update after them.
    Group(std::ops::Range<usize>),
    /// A statement that commits by itself; its progress is recorded after it.
    Alone(usize),
    /// The file's own `COMMIT` (or `BEGIN`, `START TRANSACTION`): it ends a group and is not
    /// sent, since the tool's transaction around each group takes its place.
    Boundary(usize),
    /// `LOCK TABLES` up to and including `UNLOCK TABLES` (or the end of the file): one
    /// statement at a time, no transaction, progress recorded after it.
    Locked(std::ops::Range<usize>),
}

/// One migration file, read, normalised, hashed and split for the dialect in use.
#[derive(Debug, Clone)]
pub struct Script {
    /// The path as shown to the user (`migrations/0001_init.sql`).
    pub path: PathBuf,
    /// The normalised text (no BOM, LF line ends): exactly what was hashed and what runs.
    pub text: String,
    /// `sha256-v1:<hex>` of `text`.
    pub checksum: String,
    pub directives: Directives,
    /// The statements of `text`, split for the dialect in use.
    pub statements: Vec<Statement>,
    /// The dialect the statements were split for.
    pub dialect: Dialect,
}

/// The prefix of a statement checksum ([`Script::statements_checksum`]): SHA-256 over the
/// directives and the canonical statements (16 + 64 characters, the version table's column
/// width).
pub const STATEMENTS_CHECKSUM_PREFIX: &str = "sha256-stmts-v1:";

impl Script {
    /// The text of statement `i`.
    pub fn statement_text(&self, i: usize) -> &str {
        self.statements[i].text(&self.text)
    }

    /// The texts of every statement, in order.
    pub fn statement_texts(&self) -> impl Iterator<Item = &str> {
        self.statements.iter().map(|st| st.text(&self.text))
    }

    /// How many statements commit implicitly on `dialect` (only MySQL/MariaDB has any).
    pub fn implicit_commits(&self, dialect: Dialect) -> usize {
        match dialect {
            Dialect::Sqlite => 0,
            Dialect::Mysql => self
                .statements
                .iter()
                .filter(|s| lint::mysql_commits_implicitly(s.text(&self.text)))
                .count(),
        }
    }

    /// What `check` warns about in this file, when it is pending, on `dialect` (only
    /// MySQL/MariaDB has any): the atomicity lint of a file that runs in a transaction
    /// ([`lint::atomicity`]), then the constructs the mariadb client reads differently
    /// ([`lint::client_quirks`]), each with its line.
    pub fn lints(&self, dialect: Dialect) -> Vec<lint::Located> {
        if dialect != Dialect::Mysql {
            return Vec::new();
        }
        let at = |line, lint| lint::Located {
            path: self.path.clone(),
            line,
            lint,
        };
        let atomicity = match self.directives.no_transaction {
            true => None,
            false => lint::atomicity(self.statements.len(), self.implicit_commits(dialect)),
        };
        let quirks = lint::client_quirks(&self.text);
        atomicity
            .map(|l| at(None, l))
            .into_iter()
            .chain(quirks.into_iter().map(|(line, l)| at(Some(line), l)))
            .collect()
    }

    /// What this file's statements do that a Galera cluster handles badly ([`lint::galera`]),
    /// each with the statement's line: for `check` and `upgrade --dry-run` on a cluster node.
    pub fn galera_lints(&self) -> Vec<lint::Located> {
        self.statements
            .iter()
            .filter_map(|st| {
                lint::galera(st.text(&self.text)).map(|lint| lint::Located {
                    path: self.path.clone(),
                    line: Some(st.line),
                    lint,
                })
            })
            .collect()
    }

    /// Whether the file holds no statements without saying so on purpose (`-- aurweb-migrate:
    /// empty`): an unedited `new` template, which must not be recorded as applied.
    pub fn lacks_statements(&self) -> bool {
        self.statements.is_empty() && !self.directives.empty
    }

    /// Whether the script runs in one transaction with its history row on `dialect`: it does
    /// not opt out, and (MySQL) none of its statements commits implicitly.
    pub fn atomic(&self, dialect: Dialect) -> bool {
        !self.directives.no_transaction && self.implicit_commits(dialect) == 0
    }

    /// How a script that is not atomic runs, from statement `from` on. SQLite, and any file
    /// that opts out of transactions: each statement alone. MySQL: the statements between two
    /// that commit implicitly share one transaction with the progress update after them (a
    /// group); the file's own `COMMIT`/`BEGIN`/`START TRANSACTION` only end a group; `LOCK
    /// TABLES … UNLOCK TABLES` runs without a transaction (starting one would release the
    /// locks) and records its progress after `UNLOCK TABLES`.
    pub fn steps(&self, dialect: Dialect, from: usize) -> Vec<Segment> {
        let n = self.statements.len();
        if dialect == Dialect::Sqlite || self.directives.no_transaction {
            return (from..n).map(Segment::Alone).collect();
        }
        let words = |i: usize| two_words(self.statement_text(i));
        let mut out = Vec::new();
        let mut group: Option<usize> = None;
        let mut i = from;
        let close = |group: &mut Option<usize>, out: &mut Vec<Segment>, end: usize| {
            if let Some(start) = group.take() {
                out.push(Segment::Group(start..end));
            }
        };
        while i < n {
            let text = self.statement_text(i);
            let (first, second) = words(i);
            if first == "LOCK" && matches!(second.as_str(), "TABLE" | "TABLES") {
                close(&mut group, &mut out, i);
                let end = (i + 1..n)
                    .find(|&j| {
                        let (a, b) = words(j);
                        a == "UNLOCK" && matches!(b.as_str(), "TABLE" | "TABLES")
                    })
                    .map_or(n, |j| j + 1);
                out.push(Segment::Locked(i..end));
                i = end;
                continue;
            }
            if is_transaction_boundary(text) {
                close(&mut group, &mut out, i);
                out.push(Segment::Boundary(i));
            } else if lint::mysql_commits_implicitly(text) {
                close(&mut group, &mut out, i);
                out.push(Segment::Alone(i));
            } else {
                group.get_or_insert(i);
            }
            i += 1;
        }
        close(&mut group, &mut out, n);
        out
    }

    /// Whether running the script may leave session state behind on `dialect` (MySQL: a `SET`,
    /// `LOCK TABLES`, or an executable comment, as dumps write their `SET`s): the runner then
    /// restores the session before its own bookkeeping and the next migration.
    pub fn may_change_session(&self, dialect: Dialect) -> bool {
        dialect == Dialect::Mysql
            && self.statements.iter().any(|st| {
                let text = st.text(&self.text);
                splitter::executable_comment_body(text).is_some()
                    || matches!(
                        splitter::keywords(text, 1).first().map(String::as_str),
                        Some("SET" | "LOCK")
                    )
                    || text.contains('@')
            })
    }

    /// The user variables the script's statements name on `dialect` (MySQL only; see
    /// [`splitter::user_variables`]): the runner sets them back to NULL after it, so no value
    /// reaches the next migration.
    pub fn user_variables(&self, dialect: Dialect) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if dialect != Dialect::Mysql {
            return out;
        }
        for st in &self.statements {
            for name in splitter::user_variables(st.text(&self.text)) {
                if !out.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
                    out.push(name);
                }
            }
        }
        out
    }

    /// The checksum of what the file makes the server do: its directives and its statements in
    /// canonical form ([`splitter::canonical_statements`]: comments and layout outside quotes
    /// dropped). Two files with the same statement checksum differ only in comments and
    /// whitespace; the version table stores it beside the file checksum, so such an edit of an
    /// applied file is told apart exactly. Computed on demand (it lexes the file again).
    pub fn statements_checksum(&self) -> String {
        let mut hasher = Sha256::new();
        let d = &self.directives;
        hasher.update(format!(
            "no-transaction={}\nforeign-keys-off={}\nalembic-revision={}\n",
            d.no_transaction,
            d.foreign_keys_off,
            d.alembic_revision.as_deref().unwrap_or("")
        ));
        // The file was split before, so it splits again; were it not to, the whole text
        // stands in (never an empty list, which any two such files would share). Hashed as
        // they come, one statement in memory at a time: no second copy of the file.
        let directives_only = hasher.clone();
        let split = splitter::for_each_canonical(&self.text, self.dialect, |statement| {
            hasher.update(statement.as_bytes());
            hasher.update([0u8]);
        });
        if split.is_err() {
            hasher = directives_only;
            hasher.update(self.text.as_bytes());
            hasher.update([0u8]);
        }
        prefixed_hex(STATEMENTS_CHECKSUM_PREFIX, &hasher.finalize())
    }

    /// `sha256-v1:` checksum of the first `n` statements (each statement's text followed by a
    /// NUL byte): what `upgrade --resume` compares with the recorded progress, so a fix to a
    /// later statement does not block resuming.
    pub fn prefix_checksum(&self, n: usize) -> String {
        let mut hasher = ProgressHasher::default();
        for i in 0..n.min(self.statements.len()) {
            hasher.add(self.statement_text(i));
        }
        hasher.checksum()
    }
}

/// Hashes statements as they complete, for the `progress_checksum` of the version table.
#[derive(Clone, Default)]
pub struct ProgressHasher(Sha256);

impl ProgressHasher {
    pub fn add(&mut self, statement: &str) {
        self.0.update(statement.as_bytes());
        self.0.update([0u8]);
    }

    pub fn checksum(&self) -> String {
        hex_checksum(&self.0.clone().finalize())
    }
}

/// One version: its forward script and, when there is one, its reverse script, both resolved for
/// the dialect in use.
#[derive(Debug, Clone)]
pub struct Migration {
    pub version: u64,
    pub slug: String,
    pub up: Script,
    pub down: Option<Script>,
}

impl Migration {
    /// The human description derived from the slug (`add_foo_index` → `add foo index`).
    pub fn description(&self) -> String {
        self.slug.replace('_', " ")
    }
}

/// Every migration of a directory, resolved for one dialect, in version order.
#[derive(Debug, Clone)]
pub struct MigrationSet {
    pub dir: PathBuf,
    pub dialect: Dialect,
    pub migrations: Vec<Migration>,
}

impl MigrationSet {
    /// The texts of every forward statement of the set, migration by migration.
    pub fn statement_texts(&self) -> impl Iterator<Item = &str> {
        self.migrations.iter().flat_map(|m| m.up.statement_texts())
    }

    pub fn get(&self, version: u64) -> Option<&Migration> {
        self.migrations
            .binary_search_by_key(&version, |m| m.version)
            .ok()
            .map(|i| &self.migrations[i])
    }

    /// Refuses a set in which a file still carries a review marker (exit 2, `file:line` for
    /// each): deleting the marker line is the review.
    pub fn refuse_unreviewed(&self) -> Result<()> {
        self.refuse_unreviewed_through(None)
    }

    /// [`MigrationSet::refuse_unreviewed`] for the files of the versions up to and including
    /// `through` (all when `None`): `upgrade --to V` runs none after V, so their markers wait.
    pub fn refuse_unreviewed_through(&self, through: Option<u64>) -> Result<()> {
        let errors: Vec<InputError> = self
            .migrations
            .iter()
            .filter(|m| through.is_none_or(|t| m.version <= t))
            .flat_map(|m| std::iter::once(&m.up).chain(&m.down))
            .flat_map(|script| {
                script.directives.review.iter().map(|(line, what)| InputError {
                    path: script.path.clone(),
                    line: Some(*line),
                    message: format!(
                        "not reviewed yet: {what} (written by `new --autogenerate`; check the statements, then delete this line)"
                    ),
                })
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Input(errors))
        }
    }

    /// A version named by a flag (`--to`, `--from`): a usage error unless it is a migration of
    /// the set. The one check every command's version flags go through.
    pub fn known(&self, flag: &'static str, version: u64) -> Result<&Migration> {
        self.get(version).ok_or_else(|| Error::UnknownVersion {
            flag,
            version,
            dir: self.dir.clone(),
        })
    }
}

/// Where a migration set or a schema is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A directory on disk.
    Dir(PathBuf),
    /// The files built into the binary ([`crate::source::embedded`]).
    Embedded,
}

/// One line for `status -v` and the embedded-set note: how many versions and files the
/// binary carries, and which build it is.
pub fn describe_embedded() -> String {
    let files = crate::source::embedded::migrations();
    let mut versions: Vec<u64> = files
        .iter()
        .filter_map(|(name, _)| parse_file_name(name).ok().flatten())
        .map(|n| n.version)
        .collect();
    versions.dedup();
    format!(
        "embedded ({} migrations in {} files, aurweb-migrate {})",
        versions.len(),
        files
            .iter()
            .filter(|(name, _)| name.ends_with(".sql"))
            .count(),
        crate::VERSION
    )
}

/// Reads the migrations of `location` for `dialect`: [`load`] for a directory, [`load_files`]
/// on the embedded files otherwise (the same checks, splitting and checksums).
pub fn load_from(location: &Location, dialect: Dialect) -> Result<MigrationSet> {
    match location {
        Location::Dir(dir) => load(dir, dialect),
        Location::Embedded => load_files(
            Path::new(crate::source::embedded::MIGRATIONS_DIR),
            crate::source::embedded::migrations()
                .iter()
                .map(|(name, bytes)| RawFile {
                    name: name.to_string(),
                    bytes: bytes.to_vec(),
                })
                .collect(),
            dialect,
        ),
    }
}

/// A migration set listed but not read yet ([`list`]): a directory's checked names, or the
/// embedded set. [`Listing::load`] reads it as [`load_from`] would have.
pub enum Listing {
    Dir {
        dir: PathBuf,
        dialect: Dialect,
        layout: Vec<Layout>,
    },
    Embedded(Dialect),
}

/// Lists the migrations of `location` for `dialect`: every name checked as [`load_from`] does,
/// nothing read yet.
pub fn list(location: &Location, dialect: Dialect) -> Result<Listing> {
    match location {
        Location::Dir(dir) => {
            let names = scan_dir(dir)?;
            let layout = resolve(dir, &names, dialect)?;
            Ok(Listing::Dir {
                dir: dir.clone(),
                dialect,
                layout,
            })
        }
        Location::Embedded => Ok(Listing::Embedded(dialect)),
    }
}

impl Listing {
    /// How many files [`Listing::load`] reads (the embedded set is in memory: none).
    pub fn files(&self) -> usize {
        match self {
            Listing::Dir { layout, .. } => layout
                .iter()
                .map(|l| 1 + usize::from(l.down.is_some()))
                .sum(),
            Listing::Embedded(_) => 0,
        }
    }

    /// Reads, normalises, hashes and splits the listed files ([`load`]'s second half).
    pub fn load(self) -> Result<MigrationSet> {
        match self {
            Listing::Dir {
                dir,
                dialect,
                layout,
            } => build(&dir, layout, dialect, |name| {
                read_file(&dir.join(name)).map_err(|e| format!("cannot read: {e}"))
            }),
            Listing::Embedded(dialect) => load_from(&Location::Embedded, dialect),
        }
    }
}

/// A file as found on disk or embedded: its name and raw bytes.
#[derive(Debug, Clone)]
pub struct RawFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Lists a migrations directory: a missing one is [`Error::MissingDirectory`], an unreadable
/// one [`Error::Unreadable`].
pub fn read_migrations_dir(dir: &Path) -> Result<std::fs::ReadDir> {
    std::fs::read_dir(dir).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::MissingDirectory {
                path: dir.to_path_buf(),
            }
        } else {
            Error::Unreadable {
                what: "migrations directory ",
                path: dir.to_path_buf(),
                message: e.to_string(),
            }
        }
    })
}

/// The names of every migration file in `dir`, parsed and checked, without reading contents.
/// Used by `new` and as the first step of [`load`].
pub fn scan_dir(dir: &Path) -> Result<Vec<(FileName, String)>> {
    let entries = read_migrations_dir(dir)?;
    let mut names = Vec::new();
    let mut errors = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::Unreadable {
            what: "",
            path: dir.to_path_buf(),
            message: e.to_string(),
        })?;
        let Ok(name) = entry.file_name().into_string() else {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "sql") {
                errors.push(input(
                    dir,
                    &path.to_string_lossy(),
                    None,
                    "file name is not valid UTF-8",
                ));
            }
            continue;
        };
        match parse_file_name(&name) {
            Ok(None) => {}
            Ok(Some(parsed)) => {
                if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    errors.push(input(
                        dir,
                        &name,
                        None,
                        "is a directory, not a migration file",
                    ));
                } else {
                    names.push((parsed, name));
                }
            }
            Err(message) => errors.push(input(dir, &name, None, &message)),
        }
    }
    if !errors.is_empty() {
        errors.sort_by(|a, b| a.path.cmp(&b.path));
        return Err(Error::Input(errors));
    }
    names.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(names)
}

fn input(dir: &Path, name: &str, line: Option<u32>, message: &str) -> InputError {
    InputError {
        path: dir.join(name),
        line,
        message: message.to_string(),
    }
}

/// Reads every migration of `dir` for `dialect`: checks all names, then reads, normalises,
/// hashes and splits the files that dialect uses, each file start to finish on one of a few
/// threads (reading 1,000 small files is bound by system calls, and two threads halve it).
pub fn load(dir: &Path, dialect: Dialect) -> Result<MigrationSet> {
    list(&Location::Dir(dir.to_path_buf()), dialect)?.load()
}

/// Reads a whole file with one `statx` and, for a migration-sized file, one `read`: unlike
/// `std::fs::read` it does not issue a second read to see the end of the file.
fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata()?.len() as usize;
    let mut buf = vec![0u8; size];
    let mut filled = 0;
    while filled < size {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break, // shrank while we read: take what is there
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

/// Builds a migration set from files already in memory (embedded migrations, tests).
pub fn load_files(dir: &Path, files: Vec<RawFile>, dialect: Dialect) -> Result<MigrationSet> {
    let mut names = Vec::new();
    let mut errors = Vec::new();
    for f in &files {
        match parse_file_name(&f.name) {
            Ok(None) => {}
            Ok(Some(parsed)) => names.push((parsed, f.name.clone())),
            Err(message) => errors.push(input(dir, &f.name, None, &message)),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Input(errors));
    }
    names.sort_by(|a, b| a.1.cmp(&b.1));
    let layout = resolve(dir, &names, dialect)?;
    let files: BTreeMap<String, Vec<u8>> = files.into_iter().map(|f| (f.name, f.bytes)).collect();
    build(dir, layout, dialect, |name| {
        files
            .get(name)
            .cloned()
            .ok_or_else(|| "not found".to_string())
    })
}

/// Which file serves each version for one dialect.
pub struct Layout {
    version: u64,
    slug: String,
    up: String,
    down: Option<String>,
}

/// Checks the names as a whole (duplicates, ambiguity, orphans) and picks each version's files.
fn resolve(dir: &Path, names: &[(FileName, String)], dialect: Dialect) -> Result<Vec<Layout>> {
    let mut by_version: BTreeMap<u64, Vec<&(FileName, String)>> = BTreeMap::new();
    for n in names {
        by_version.entry(n.0.version).or_default().push(n);
    }
    let mut errors = Vec::new();
    let mut layout = Vec::new();
    for (version, files) in by_version {
        let first = &files[0];
        // One version, one slug, one way of writing the version.
        if let Some(other) = files
            .iter()
            .find(|f| f.0.slug != first.0.slug || f.0.version_text != first.0.version_text)
        {
            errors.push(input(
                dir,
                &other.1,
                None,
                &format!(
                    "duplicate version {version}: also used by {}",
                    dir.join(&first.1).display()
                ),
            ));
            continue;
        }
        let pick = |direction: Direction| -> Option<&String> {
            let specific = files
                .iter()
                .find(|f| f.0.direction == direction && f.0.dialect == Some(dialect));
            let portable = files
                .iter()
                .find(|f| f.0.direction == direction && f.0.dialect.is_none());
            specific.or(portable).map(|f| &f.1)
        };
        let has_up = files.iter().any(|f| f.0.direction == Direction::Up);
        if !has_up {
            errors.push(input(
                dir,
                &first.1,
                None,
                &format!("reverse file without a forward file for version {version}"),
            ));
            continue;
        }
        let Some(up) = pick(Direction::Up) else {
            errors.push(input(
                dir,
                &first.1,
                None,
                &format!(
                    "version {version} has no file for {dialect}: add {}_{}.{dialect}.sql or a portable {}_{}.sql",
                    first.0.version_text, first.0.slug, first.0.version_text, first.0.slug
                ),
            ));
            continue;
        };
        let has_down = files.iter().any(|f| f.0.direction == Direction::Down);
        let down = pick(Direction::Down);
        if has_down && down.is_none() {
            errors.push(input(
                dir,
                &first.1,
                None,
                &format!(
                    "version {version} has a reverse file for another dialect but none for {dialect}"
                ),
            ));
            continue;
        }
        layout.push(Layout {
            version,
            slug: first.0.slug.clone(),
            up: up.clone(),
            down: down.cloned(),
        });
    }
    if errors.is_empty() {
        Ok(layout)
    } else {
        Err(Error::Input(errors))
    }
}

fn build(
    dir: &Path,
    layout: Vec<Layout>,
    dialect: Dialect,
    fetch: impl Fn(&str) -> std::result::Result<Vec<u8>, String> + Sync,
) -> Result<MigrationSet> {
    let mut jobs: Vec<(usize, Direction, &str)> = Vec::new();
    for (i, l) in layout.iter().enumerate() {
        jobs.push((i, Direction::Up, &l.up));
        if let Some(down) = &l.down {
            jobs.push((i, Direction::Down, down));
        }
    }
    let scripts = parallel_map(&jobs, |(i, direction, name)| {
        let path = dir.join(name);
        let bytes = fetch(name).map_err(|message| {
            vec![InputError {
                path: path.clone(),
                line: None,
                message,
            }]
        })?;
        prepare(path, bytes, dialect).map(|s| (*i, *direction, s))
    });
    let mut ups: Vec<Option<Script>> = vec![None; layout.len()];
    let mut downs: Vec<Option<Script>> = vec![None; layout.len()];
    let mut errors = Vec::new();
    for s in scripts {
        match s {
            Ok((i, Direction::Up, s)) => ups[i] = Some(s),
            Ok((i, Direction::Down, s)) => downs[i] = Some(s),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        errors.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
        return Err(Error::Input(errors));
    }
    let migrations = layout
        .into_iter()
        .zip(ups.into_iter().zip(downs))
        .map(|(l, (up, down))| Migration {
            version: l.version,
            slug: l.slug,
            up: up.expect("every resolved version has a forward script"),
            down,
        })
        .collect();
    Ok(MigrationSet {
        dir: dir.to_path_buf(),
        dialect,
        migrations,
    })
}

/// A dialect's full schema (`schema/mysql.sql`, `schema/sqlite.sql`): the script and the
/// migration version it equals, declared in its header as `-- schema-version: N`.
#[derive(Debug, Clone)]
pub struct SchemaFile {
    pub script: Script,
    pub version: u64,
}

impl SchemaFile {
    /// Its `schema-version` must be one of the migrations it goes with.
    pub fn check(&self, set: &MigrationSet) -> Result<()> {
        if set.get(self.version).is_some() {
            return Ok(());
        }
        Err(Error::input(
            &self.script.path,
            None,
            format!(
                "schema-version {} is not a migration in {}",
                self.version,
                set.dir.display()
            ),
        ))
    }
}

/// The schema file's name for a dialect.
pub fn schema_file_name(dialect: Dialect) -> String {
    format!("{}.sql", dialect.name())
}

/// Reads `<dir>/<dialect>.sql`. `Ok(None)` when the directory or the file does not exist.
pub fn load_schema(dir: &Path, dialect: Dialect) -> Result<Option<SchemaFile>> {
    let path = dir.join(schema_file_name(dialect));
    let bytes = match read_file(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::input(&path, None, format!("cannot read: {e}"))),
    };
    parse_schema(path, bytes, dialect).map(Some)
}

/// The schema file of `location` for `dialect`: [`load_schema`] for a directory, the embedded
/// `<dialect>.sql` otherwise (`<embedded>/schema/<dialect>.sql` in messages).
pub fn load_schema_from(location: &Location, dialect: Dialect) -> Result<Option<SchemaFile>> {
    match location {
        Location::Dir(dir) => load_schema(dir, dialect),
        Location::Embedded => {
            let name = schema_file_name(dialect);
            match crate::source::embedded::schema_file(&name) {
                None => Ok(None),
                Some(bytes) => parse_schema(
                    Path::new(crate::source::embedded::SCHEMA_DIR).join(name),
                    bytes.to_vec(),
                    dialect,
                )
                .map(Some),
            }
        }
    }
}

/// A schema file from text that is not on disk (yet): `new --autogenerate`'s rendering.
pub fn schema_from_text(path: PathBuf, text: String, dialect: Dialect) -> Result<SchemaFile> {
    parse_schema(path, text.into_bytes(), dialect)
}

/// Prepares a schema file's bytes and reads its `-- schema-version: N` header.
fn parse_schema(path: PathBuf, bytes: Vec<u8>, dialect: Dialect) -> Result<SchemaFile> {
    let script = prepare(path.clone(), bytes, dialect).map_err(Error::Input)?;
    let mut version = None;
    for (i, line) in script.text.lines().enumerate() {
        let t = line.trim();
        let Some(comment) = t.strip_prefix("--") else {
            if t.is_empty() {
                continue;
            }
            break;
        };
        if let Some(v) = comment.trim().strip_prefix("schema-version:") {
            let v = v.trim();
            version = Some(v.parse::<u64>().map_err(|_| {
                Error::input(
                    &path,
                    Some(i as u32 + 1),
                    format!("schema-version {v:?} is not a migration version number"),
                )
            })?);
        }
    }
    let Some(version) = version else {
        return Err(Error::input(
            &path,
            None,
            "no `-- schema-version: N` line in the header comment; it names the migration version this schema equals",
        ));
    };
    Ok(SchemaFile { script, version })
}

/// What is said of a forward file with no statements and no `-- aurweb-migrate: empty` line:
/// the refusal of `upgrade` and `check` ([`refuse_statementless`]) and `status`'s warning.
pub const NO_STATEMENTS: &str = "no statements (only comments and whitespace), so it would be recorded as applied without doing anything; write its statements, or, if it is meant to do nothing (on this dialect), add the line `-- aurweb-migrate: empty` to its header";

/// What is said of a reverse file with no statements and no `-- aurweb-migrate: empty` line:
/// the refusal of `downgrade` ([`refuse_statementless_reverse`]).
pub const NO_REVERSE_STATEMENTS: &str = "no statements (only comments and whitespace), so `downgrade` would remove the version's history row without undoing anything; write its reverse statements, or, if reverting it needs nothing (on this dialect), add the line `-- aurweb-migrate: empty` to its header";

/// Refuses the forward files of `migrations` (those about to run) that hold no statements and
/// do not say so on purpose ([`Script::lacks_statements`]): exit 2, a line for each file.
pub fn refuse_statementless<'a>(migrations: impl IntoIterator<Item = &'a Migration>) -> Result<()> {
    refuse_lacking(migrations.into_iter().map(|m| &m.up), NO_STATEMENTS)
}

/// [`refuse_statementless`] for the reverse files a `downgrade` is about to run.
pub fn refuse_statementless_reverse<'a>(
    scripts: impl IntoIterator<Item = &'a Script>,
) -> Result<()> {
    refuse_lacking(scripts, NO_REVERSE_STATEMENTS)
}

fn refuse_lacking<'a>(scripts: impl IntoIterator<Item = &'a Script>, message: &str) -> Result<()> {
    let errors: Vec<InputError> = scripts
        .into_iter()
        .filter(|s| s.lacks_statements())
        .map(|s| InputError {
            path: s.path.clone(),
            line: None,
            message: message.to_string(),
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Input(errors))
    }
}

/// Normalises, hashes, reads directives and splits one file.
pub fn prepare(
    path: PathBuf,
    bytes: Vec<u8>,
    dialect: Dialect,
) -> std::result::Result<Script, Vec<InputError>> {
    let err = |line: Option<u32>, message: String| {
        vec![InputError {
            path: path.clone(),
            line,
            message,
        }]
    };
    let normalised = normalise(bytes);
    let text = match String::from_utf8(normalised) {
        Ok(t) => t,
        Err(e) => {
            let bytes = e.as_bytes();
            let at = e.utf8_error().valid_up_to();
            let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count() as u32;
            return Err(err(
                Some(line),
                format!("not valid UTF-8 (byte offset {at}); migration files must be UTF-8"),
            ));
        }
    };
    if text.trim().is_empty() {
        return Err(err(
            None,
            "empty migration file; write at least a comment saying why it is empty".to_string(),
        ));
    }
    let checksum = checksum(text.as_bytes());
    let directives = parse_directives(&text).map_err(|(line, m)| err(Some(line), m))?;
    let statements = splitter::split(&text, dialect).map_err(|e| err(Some(e.line), e.message))?;
    let script = Script {
        path: path.clone(),
        text,
        checksum,
        directives,
        statements,
        dialect,
    };
    check_database_switch(&script)?;
    if script.directives.empty {
        if let Some(first) = script.statements.first() {
            return Err(err(
                Some(first.line),
                format!(
                    "declares `-- aurweb-migrate: empty` but holds {} statement{} (the first here); remove the directive, or, if the file was applied already, restore it as it was and put the statements in a new migration",
                    script.statements.len(),
                    if script.statements.len() == 1 { "" } else { "s" }
                ),
            ));
        }
    }
    // On MySQL a file that commits implicitly anyway runs in steps, where its own COMMITs
    // only end a group (a plain mysqldump output loads unchanged); elsewhere they would
    // break the tool's transaction.
    let stepwise = dialect == Dialect::Mysql
        && script.statements.iter().any(|st| {
            let text = st.text(&script.text);
            !is_transaction_boundary(text) && crate::source::lint::mysql_commits_implicitly(text)
        });
    if !script.directives.no_transaction {
        check_transaction_control(&script, dialect, stepwise)?;
    }
    Ok(script)
}

/// `USE <db>` (also inside a MySQL executable comment, as dumps write it): on any dialect
/// and whether or not the migration runs in a transaction, it would move every later
/// statement, and the tool's own history row, to another database.
fn check_database_switch(script: &Script) -> std::result::Result<(), Vec<InputError>> {
    let errors: Vec<InputError> = script
        .statements
        .iter()
        .filter(|st| switches_database(st.text(&script.text)))
        .map(|st| InputError {
            path: script.path.clone(),
            line: Some(st.line),
            message: "USE would switch the connection to another database, and every later statement and this tool's own history row would go there; name the database in the statement instead (`other_db.table`)".to_string(),
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Whether a statement is `USE …`, bare or as the first word of a `/*!NNNNN … */` or
/// `/*M!NNNNN … */` executable comment.
fn switches_database(statement: &str) -> bool {
    let is_use =
        |text: &str| splitter::keywords(text, 1).first().map(String::as_str) == Some("USE");
    if is_use(statement) {
        return true;
    }
    splitter::executable_comment_body(statement).is_some_and(is_use)
}

/// Statements that would end or break the tool's own transaction around a migration.
fn check_transaction_control(
    script: &Script,
    dialect: Dialect,
    stepwise: bool,
) -> std::result::Result<(), Vec<InputError>> {
    let mut errors = Vec::new();
    for st in &script.statements {
        let words = splitter::keywords(st.text(&script.text), 3);
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        let bad = match w.as_slice() {
            ["BEGIN", "NOT", "ATOMIC", ..] => false, // MariaDB compound statement
            _ if stepwise && is_transaction_boundary(st.text(&script.text)) => false,
            ["BEGIN", ..]
            | ["COMMIT", ..]
            | ["ROLLBACK", ..]
            | ["SAVEPOINT", ..]
            | ["RELEASE", ..]
            | ["START", "TRANSACTION", ..] => true,
            ["END", ..] => dialect == Dialect::Sqlite,
            ["VACUUM", ..] | ["ATTACH", ..] | ["DETACH", ..] => dialect == Dialect::Sqlite,
            ["PRAGMA", p, ..] => {
                p.eq_ignore_ascii_case("FOREIGN_KEYS") || p.ends_with(".FOREIGN_KEYS")
            }
            _ => false,
        };
        if bad {
            errors.push(InputError {
                path: script.path.clone(),
                line: Some(st.line),
                message: format!(
                    "{} would break the transaction the tool runs this migration in; remove it, or declare `-- aurweb-migrate: no-transaction` (or `-- aurweb-migrate: foreign-keys off` for foreign key changes)",
                    words.join(" ")
                ),
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Removes a UTF-8 byte-order mark and turns CRLF into LF, in place (no copy when there is
/// nothing to change).
pub fn normalise(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    if !bytes.contains(&b'\r') {
        return bytes;
    }
    let mut w = 0;
    for r in 0..bytes.len() {
        if bytes[r] == b'\r' && bytes.get(r + 1) == Some(&b'\n') {
            continue;
        }
        bytes[w] = bytes[r];
        w += 1;
    }
    bytes.truncate(w);
    bytes
}

/// `sha256-v1:<hex>` of already normalised bytes.
pub fn checksum(normalised: &[u8]) -> String {
    hex_checksum(&Sha256::digest(normalised))
}

fn hex_checksum(digest: &[u8]) -> String {
    prefixed_hex(CHECKSUM_PREFIX, digest)
}

fn prefixed_hex(prefix: &str, digest: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(prefix.len() + 2 * digest.len());
    out.push_str(prefix);
    for &b in digest {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0xf)] as char);
    }
    out
}

/// Reads directives from the `--` comment lines before the first statement.
fn parse_directives(text: &str) -> std::result::Result<Directives, (u32, String)> {
    let mut d = Directives::default();
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u32 + 1;
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let Some(comment) = t.strip_prefix("--") else {
            return directive_after_header(text, i).map(|()| d);
        };
        let comment = comment.trim();
        if let Some(rest) = comment.strip_prefix("aurweb-migrate:") {
            match rest.trim() {
                "no-transaction" => d.no_transaction = true,
                "foreign-keys off" => d.foreign_keys_off = true,
                "empty" => d.empty = true,
                r if r.starts_with("review ") => d.review.push((line_no, r["review ".len()..].trim().to_string())),
                r if r.starts_with("allow-lock=") => {
                    let lock = r["allow-lock=".len()..].trim().to_ascii_uppercase();
                    if !["NONE", "SHARED", "EXCLUSIVE"].contains(&lock.as_str()) {
                        return Err((
                            line_no,
                            format!("allow-lock takes none, shared or exclusive, not {:?}", &r["allow-lock=".len()..]),
                        ));
                    }
                    d.allow_lock = Some(lock);
                }
                other => {
                    return Err((
                        line_no,
                        format!(
                            "unknown directive {other:?} (known: no-transaction, foreign-keys off, allow-lock=…, empty, review …)"
                        ),
                    ))
                }
            }
        } else if let Some(rest) = comment.strip_prefix("alembic-revision:") {
            let rev = rest.trim();
            if rev.is_empty() || !rev.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err((line_no, format!("malformed alembic revision {rev:?}")));
            }
            d.alembic_revision = Some(rev.to_string());
        }
    }
    Ok(d)
}

/// A `-- aurweb-migrate:` line after the first statement would be ignored, so it is an error
/// naming its line (the header is lines `..first`, 0-based).
fn directive_after_header(text: &str, first: usize) -> std::result::Result<(), (u32, String)> {
    for (i, line) in text.lines().enumerate().skip(first) {
        let Some(comment) = line.trim_start().strip_prefix("--") else {
            continue;
        };
        if let Some(rest) = comment.trim_start().strip_prefix("aurweb-migrate:") {
            return Err((
                i as u32 + 1,
                format!(
                    "the directive {:?} comes after the first statement, where it would be ignored; move it into the comment lines before the first statement",
                    rest.trim()
                ),
            ));
        }
    }
    Ok(())
}

/// From how many files a set is read on more than one thread (below, starting a thread costs
/// more than it saves).
pub const PARALLEL_FROM: usize = 32;

/// Maps `f` over `items` on up to four threads (the calling one included), keeping order.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    // A small set is read here: asking for the parallelism reads cgroup files first.
    if items.len() < PARALLEL_FROM {
        return items.iter().map(&f).collect();
    }
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(4);
    if threads <= 1 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let mut chunks = items.chunks(chunk);
    let first = chunks.next().unwrap_or_default();
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .map(|c| s.spawn(|| c.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        let mut out: Vec<R> = first.iter().map(&f).collect();
        for h in handles {
            out.extend(h.join().expect("worker thread panicked"));
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn name_ok(
        name: &str,
        version: u64,
        slug: &str,
        direction: Direction,
        dialect: Option<Dialect>,
    ) {
        let n = parse_file_name(name).unwrap().unwrap();
        assert_eq!(
            (n.version, n.slug.as_str(), n.direction, n.dialect),
            (version, slug, direction, dialect)
        );
    }

    #[track_caller]
    fn name_err(name: &str, contains: &str) {
        let e = parse_file_name(name).unwrap_err();
        assert!(e.contains(contains), "{name}: {e}");
    }

    #[test]
    fn file_names() {
        name_ok("0003_add_foo.sql", 3, "add_foo", Direction::Up, None);
        name_ok(
            "20240101120000_init.sql",
            20240101120000,
            "init",
            Direction::Up,
            None,
        );
        name_ok("1_x.mysql.sql", 1, "x", Direction::Up, Some(Dialect::Mysql));
        name_ok(
            "1_x.sqlite.sql",
            1,
            "x",
            Direction::Up,
            Some(Dialect::Sqlite),
        );
        name_ok("1_x.down.sql", 1, "x", Direction::Down, None);
        name_ok(
            "1_x.down.sqlite.sql",
            1,
            "x",
            Direction::Down,
            Some(Dialect::Sqlite),
        );
        name_ok(
            "999999999999999999_max.sql",
            999_999_999_999_999_999,
            "max",
            Direction::Up,
            None,
        );
        assert_eq!(parse_file_name("README.md").unwrap(), None);
        assert_eq!(parse_file_name(".#1_x.sql").unwrap(), None);
        name_err("init.sql", "malformed");
        name_err("x1_init.sql", "malformed version");
        name_err("1234567890123456789_long.sql", "malformed version");
        name_err("1_Add_Foo.sql", "malformed slug");
        name_err("1_.sql", "malformed slug");
        name_err("1_x.pg.sql", "unknown dialect");
        name_err("1_x.down.pg.sql", "unknown dialect");
        name_err("1_x.mysql.down.sql", "malformed suffix");
        name_err("1_x.a.b.c.sql", "malformed suffix");
        name_err("0_zero.sql", "reserved");
    }

    #[test]
    fn checksum_ignores_bom_and_crlf() {
        let lf = checksum(&normalise(b"CREATE TABLE a (x INT);\nSELECT 1;\n".to_vec()));
        let crlf = checksum(&normalise(
            b"\xEF\xBB\xBFCREATE TABLE a (x INT);\r\nSELECT 1;\r\n".to_vec(),
        ));
        assert_eq!(lf, crlf);
        assert!(lf.starts_with("sha256-v1:"));
        assert_eq!(lf.len(), "sha256-v1:".len() + 64);
        // a lone CR is content
        assert_ne!(
            lf,
            checksum(&normalise(b"CREATE TABLE a (x INT);\rSELECT 1;\n".to_vec()))
        );
        // known vector: sha256("")
        assert_eq!(
            checksum(b""),
            "sha256-v1:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    fn raw(name: &str, text: &str) -> RawFile {
        RawFile {
            name: name.to_string(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[track_caller]
    fn load_err(files: Vec<RawFile>, dialect: Dialect, contains: &str) {
        match load_files(Path::new("m"), files, dialect) {
            Ok(_) => panic!("expected an error containing {contains:?}"),
            Err(e) => assert!(e.to_string().contains(contains), "{e}"),
        }
    }

    /// The statement checksum is hashed statement by statement, without keeping the canonical
    /// statements: the value recorded by the build that kept them all (same bytes, same hash),
    /// on both dialects.
    #[test]
    fn statements_checksum_is_unchanged_by_streaming() {
        let text = "-- header\nCREATE TABLE t (\n  id INT, -- the key\n  b VARCHAR(5) /* x */ DEFAULT 'a  -- b'\n);\n\nINSERT INTO t (id) VALUES (1),\n (2);\n";
        for dialect in [Dialect::Sqlite, Dialect::Mysql] {
            let set = load_files(Path::new("m"), vec![raw("1_pin.sql", text)], dialect).unwrap();
            assert_eq!(
                set.migrations[0].up.statements_checksum(),
                "sha256-stmts-v1:5faec20406e78ed1bc5c0c737995f818135339bd0d7bbff8b08a61618693311a",
                "{dialect:?}"
            );
        }
    }

    #[test]
    fn resolves_dialect_variants() {
        let files = vec![
            raw("1_a.sql", "SELECT 1;"),
            raw("1_a.sqlite.sql", "SELECT 2;"),
            raw("2_b.mysql.sql", "SELECT 3;"),
            raw("2_b.sqlite.sql", "SELECT 4;"),
            raw("2_b.down.sql", "SELECT 5;"),
        ];
        let set = load_files(Path::new("m"), files.clone(), Dialect::Sqlite).unwrap();
        assert_eq!(set.migrations[0].up.text, "SELECT 2;");
        assert_eq!(set.migrations[1].up.text, "SELECT 4;");
        assert_eq!(set.migrations[1].down.as_ref().unwrap().text, "SELECT 5;");
        let set = load_files(Path::new("m"), files, Dialect::Mysql).unwrap();
        assert_eq!(set.migrations[0].up.text, "SELECT 1;");
        assert_eq!(set.migrations[1].up.text, "SELECT 3;");
        assert_eq!(set.migrations[0].description(), "a");
    }

    #[test]
    fn bad_sets() {
        load_err(
            vec![raw("1_a.sql", "SELECT 1;"), raw("1_b.sql", "SELECT 1;")],
            Dialect::Sqlite,
            "duplicate version 1",
        );
        load_err(
            vec![raw("1_a.sql", "SELECT 1;"), raw("01_a.sql", "SELECT 1;")],
            Dialect::Sqlite,
            "duplicate version 1",
        );
        load_err(
            vec![raw("1_a.mysql.sql", "SELECT 1;")],
            Dialect::Sqlite,
            "has no file for sqlite",
        );
        load_err(
            vec![raw("1_a.down.sql", "SELECT 1;")],
            Dialect::Sqlite,
            "reverse file without a forward file",
        );
        load_err(
            vec![raw("1_a.sql", "  \n\n")],
            Dialect::Sqlite,
            "m/1_a.sql: empty migration file",
        );
        load_err(
            vec![raw("1_a.sql", "SELECT 1;\nSELECT 'x")],
            Dialect::Sqlite,
            "m/1_a.sql:2:",
        );
        load_err(
            vec![raw(
                "1_a.sql",
                "-- aurweb-migrate: no-transactions\nSELECT 1;",
            )],
            Dialect::Sqlite,
            "m/1_a.sql:1: unknown directive",
        );
        load_err(
            vec![raw("1_a.sql", "SELECT 1;\nBEGIN;\nSELECT 2;")],
            Dialect::Sqlite,
            "m/1_a.sql:2: BEGIN would break",
        );
        load_err(
            vec![raw("1_a.sql", "PRAGMA foreign_keys = OFF;")],
            Dialect::Sqlite,
            "m/1_a.sql:1: PRAGMA FOREIGN_KEYS",
        );
        for (text, line, dialects) in [
            ("SELECT 1;\nUSE other;\nSELECT 2;", 2, &Dialect::ALL[..]),
            // An executable comment is MySQL's; SQLite reads a comment.
            ("-- c\n\n/*!40101 use `other` */;", 3, &[Dialect::Mysql][..]),
            (
                "-- aurweb-migrate: no-transaction\nSELECT 1;\n  Use other",
                3,
                &Dialect::ALL[..],
            ),
        ] {
            for &dialect in dialects {
                load_err(
                    vec![raw("1_a.sql", text)],
                    dialect,
                    &format!("m/1_a.sql:{line}: USE would switch the connection"),
                );
            }
        }
        let bad_utf8 = RawFile {
            name: "1_a.sql".into(),
            bytes: b"SELECT 1;\nSELECT '\xff';".to_vec(),
        };
        load_err(
            vec![bad_utf8],
            Dialect::Sqlite,
            "m/1_a.sql:2: not valid UTF-8",
        );
    }

    #[test]
    fn directives_and_comment_only_files() {
        let files = vec![raw(
            "1_a.sql",
            "-- rebuilds a table\n-- aurweb-migrate: foreign-keys off\n-- alembic-revision: f47cad5d6d03\n\nPRAGMA foreign_keys;\n",
        )];
        // PRAGMA foreign_keys as a query is still refused inside a transaction
        assert!(load_files(Path::new("m"), files, Dialect::Sqlite).is_err());
        let files = vec![raw(
            "1_a.sql",
            "-- aurweb-migrate: no-transaction\n-- alembic-revision: f47cad5d6d03\nVACUUM;\n",
        )];
        let set = load_files(Path::new("m"), files, Dialect::Sqlite).unwrap();
        let d = &set.migrations[0].up.directives;
        assert!(d.no_transaction && !d.foreign_keys_off);
        assert_eq!(d.alembic_revision.as_deref(), Some("f47cad5d6d03"));
        let set = load_files(
            Path::new("m"),
            vec![raw("1_a.sql", "-- nothing to do on sqlite\n")],
            Dialect::Sqlite,
        )
        .unwrap();
        assert!(set.migrations[0].up.statements.is_empty());
        assert!(set.migrations[0].up.lacks_statements());
        let msg = refuse_statementless(&set.migrations)
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with("m/1_a.sql: no statements"), "{msg}");
        assert!(msg.contains("`-- aurweb-migrate: empty`"), "{msg}");
    }

    /// `-- aurweb-migrate: empty` says a file of comments is meant; it is no part of the
    /// statement checksum, and a file that declares it but holds statements is refused.
    #[test]
    fn empty_directive() {
        let load1 =
            |text: &str| load_files(Path::new("m"), vec![raw("1_a.sql", text)], Dialect::Sqlite);
        let set = load1("-- nothing to do on sqlite\n-- aurweb-migrate: empty\n").unwrap();
        assert!(set.migrations[0].up.directives.empty);
        assert!(!set.migrations[0].up.lacks_statements());
        refuse_statementless(&set.migrations).unwrap();
        let bare = load1("-- nothing to do on sqlite\n").unwrap();
        assert_eq!(
            set.migrations[0].up.statements_checksum(),
            bare.migrations[0].up.statements_checksum(),
            "adding the directive to an applied file is an edit of comments"
        );
        let msg = load1("-- aurweb-migrate: empty\n\nCREATE TABLE t (id INTEGER);\n")
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with(
                "m/1_a.sql:3: declares `-- aurweb-migrate: empty` but holds 1 statement"
            ),
            "{msg}"
        );
    }

    /// `upgrade --to V` minds the review markers of the files up to V only.
    #[test]
    fn review_markers_through_a_version() {
        let files = vec![
            raw("1_a.sql", "CREATE TABLE a (id INTEGER);\n"),
            raw(
                "2_b.sql",
                "-- aurweb-migrate: review drop table x: data loss\nDROP TABLE x;\n",
            ),
        ];
        let set = load_files(Path::new("m"), files, Dialect::Sqlite).unwrap();
        set.refuse_unreviewed_through(Some(1)).unwrap();
        for through in [Some(2), None] {
            let msg = set
                .refuse_unreviewed_through(through)
                .unwrap_err()
                .to_string();
            assert!(msg.starts_with("m/2_b.sql:1: not reviewed yet"), "{msg}");
        }
    }

    /// The embedded set goes through the same loader: every file parses on both dialects, is
    /// named `<embedded>/...`, and the schema files' versions are migrations of the set.
    #[test]
    fn embedded_set_and_schema_load() {
        for dialect in [Dialect::Mysql, Dialect::Sqlite] {
            let set = load_from(&Location::Embedded, dialect).unwrap();
            assert_eq!(set.dir, Path::new("<embedded>/migrations"));
            // The embedded files are the repository's, the same versions and checksums.
            let on_disk = load(
                &Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"),
                dialect,
            )
            .unwrap();
            assert_eq!(set.migrations.len(), on_disk.migrations.len());
            assert!(set.migrations.len() >= 18, "aurweb's chain and ours");
            for (a, b) in set.migrations.iter().zip(&on_disk.migrations) {
                assert_eq!((a.version, &a.up.checksum), (b.version, &b.up.checksum));
            }
            assert_eq!(
                set.migrations[0].up.path,
                Path::new(&format!(
                    "<embedded>/migrations/0001_baseline.{}.sql",
                    dialect.name()
                ))
            );
            let schema = load_schema_from(&Location::Embedded, dialect)
                .unwrap()
                .expect("an embedded schema file");
            assert_eq!(
                schema.script.path,
                Path::new("<embedded>/schema").join(schema_file_name(dialect))
            );
            schema.check(&set).unwrap();
        }
        // An error in a file under the embedded name points at its line.
        let err = load_files(
            Path::new(crate::source::embedded::MIGRATIONS_DIR),
            vec![raw(
                "0003_x.sql",
                "SELECT 1;
COMMIT;
",
            )],
            Dialect::Sqlite,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("<embedded>/migrations/0003_x.sql:2: COMMIT would break"),
            "{err}"
        );
    }
}
