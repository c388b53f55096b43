//! The generator behind `new --autogenerate`: from two canonical models of one dialect — the
//! schema the migrations leave (`from`, a replay) and the one `schema/` declares (`to`) — the
//! DDL that turns the first into the second, one line per change for people, and the review
//! markers a person must clear before the migration may run. It only writes text; the caller
//! proves the text by applying it in a scratch database and comparing again.
//!
//! - Both dialects: tables created and dropped, columns added, dropped, changed and moved,
//!   primary keys, unique keys, indexes and foreign keys, renames only when asked for
//!   ([`Renames`]); a drop and an add that look like a rename are flagged, never guessed.
//! - MySQL: the foreign keys that go are dropped first (their names come from the catalogue,
//!   [`crate::schema::CatalogueNames`]), then one `ALTER TABLE` per table whose `MODIFY`
//!   always restates the whole column (a partial one silently drops `NOT NULL` and
//!   `DEFAULT`), placing moved and new columns with `FIRST`/`AFTER`. A foreign key whose name
//!   the server made up (`<table>_ibfk_<n>`) is added without a name.
//! - SQLite: native `RENAME`, `ADD COLUMN` (last, and only where sqlite.org allows it),
//!   `DROP COLUMN` and indexes; everything else rebuilds the table the way sqlite.org
//!   describes (new table under a fresh name from the target's own `CREATE TABLE`, copy,
//!   drop the old one, rename the new one to the old name — never the other way round — then
//!   its indexes, triggers and the views that name it) under `-- aurweb-migrate:
//!   foreign-keys off`. A column rename in a table that is rebuilt anyway is the rebuild's
//!   column mapping (`SELECT old`), not an `ALTER TABLE … RENAME COLUMN` of its own, unless
//!   another table's foreign key references the column. Names are spelt one way
//!   ([`Dialect::ident`]): bare, as the schema files and the definitions copied verbatim
//!   spell them, quoted only where a name needs it.
//! - Review markers (`-- aurweb-migrate: review <kind> <object>: <reason>`): destructive
//!   changes, narrowing types, rename candidates, `NOT NULL` (a new column's value for the
//!   existing rows, a column's without a default), new keys over existing rows (with the
//!   duplicate probe), and what the generator does not write (the caller adds those for
//!   views, triggers and checks).
//! - Seed rows (`autogen/rows.rs`, used by the caller): written as idempotent statements
//!   matched by primary key, after all of the draft's DDL; a marker where rows cannot be
//!   matched.
//!   `upgrade`, `check` and `verify` refuse a file that still carries one.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::dialect::Dialect;
use crate::schema::tighten::Tightening;
use crate::schema::Definition;
use crate::schema::{self, Column, ForeignKey, Schema, SchemaError, Table};

pub mod rows;

type Result<T, E = SchemaError> = std::result::Result<T, E>;

/// How a review marker line starts.
pub const MARKER_PREFIX: &str = "-- aurweb-migrate: review ";

/// Renames asked for with `--rename`: `T.old=new` (a column of table T, named by its new or
/// its old name) and `old=new` (a table).
#[derive(Debug, Clone, Default)]
pub struct Renames {
    pub tables: Vec<(String, String)>,
    pub columns: Vec<(String, String, String)>,
}

impl Renames {
    pub fn parse(args: &[String]) -> Result<Renames> {
        let mut r = Renames::default();
        for a in args {
            let bad = || SchemaError::RenameSyntax { arg: a.clone() };
            let (lhs, new) = a.split_once('=').ok_or_else(bad)?;
            let plain = |s: &str| !s.is_empty() && !s.contains(['.', '=', ' ']);
            if !plain(new) {
                return Err(bad());
            }
            match lhs.split_once('.') {
                Some((t, old)) if plain(t) && plain(old) => {
                    r.columns.push((t.into(), old.into(), new.into()))
                }
                None if plain(lhs) => r.tables.push((lhs.into(), new.into())),
                _ => return Err(bad()),
            }
        }
        Ok(r)
    }

    /// A table's name after the table renames (`--rename old=new`): the new name of `t`.
    fn table_now(&self, t: &str) -> String {
        self.tables
            .iter()
            .find(|(old, _)| old == t)
            .map_or_else(|| t.to_string(), |(_, n)| n.clone())
    }

    /// The renames the other way round, for the reverse migration.
    pub fn reversed(&self) -> Renames {
        Renames {
            tables: self
                .tables
                .iter()
                .map(|(o, n)| (n.clone(), o.clone()))
                .collect(),
            columns: self
                .columns
                .iter()
                .map(|(t, o, n)| (self.table_now(t), n.clone(), o.clone()))
                .collect(),
        }
    }
}

/// A line a person must delete before the migration runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Marker {
    /// `drop-table`, `drop-column`, `narrowing`, `rename-candidate`, `not-null`, `unique-key`,
    /// `primary-key`, `null-in-unique`, `unsupported`.
    pub kind: String,
    /// `Users`, `Users.Email`, `Users (Email)`.
    pub object: String,
    pub reason: String,
    /// A read-only query to run on the database before the migration, written under the
    /// marker as an SQL comment (`unique-key`, `primary-key`: the duplicates the key refuses).
    pub probe: Option<String>,
    /// What to count in a database with data, when one is given (`new --autogenerate
    /// --probe-database`): the new key over the existing columns, or the existing column
    /// made NOT NULL. The count is then written into `reason`.
    #[serde(skip)]
    pub live: Option<Tightening>,
}

impl Marker {
    pub fn new(kind: &str, object: impl Into<String>, reason: impl Into<String>) -> Marker {
        Marker {
            kind: kind.to_string(),
            object: object.into(),
            reason: reason.into(),
            probe: None,
            live: None,
        }
    }

    fn with_live(self, kind: &'static str, table: &str, columns: Vec<String>) -> Marker {
        Marker {
            live: Some(Tightening {
                table: table.to_string(),
                kind,
                detail: format!("{kind} ({})", columns.join(", ")),
                columns,
                needs: Default::default(),
            }),
            ..self
        }
    }

    /// What a database with data says about the rows this marker is about, added to the
    /// reason: `the live database has 12 duplicate values of (a, b), e.g. (x, 1)`.
    pub fn add_live_count(&mut self, count: u64, sample: &[String]) {
        let Some(t) = &self.live else { return };
        let cols = t.columns.join(", ");
        let mut said = match (t.kind, count) {
            ("not-null", 0) => format!("the live database has no row with NULL in {cols}"),
            ("not-null", n) => format!("the live database has {n} row(s) with NULL in {cols}"),
            (_, 0) => format!("the live database has no duplicate values of ({cols})"),
            (_, n) => format!("the live database has {n} duplicate value(s) of ({cols})"),
        };
        if count > 0 && !sample.is_empty() {
            let e: Vec<String> = sample.iter().map(|s| format!("({s})")).collect();
            let _ = write!(said, ", e.g. {}", e.join(" "));
        }
        let _ = write!(self.reason, "; {said}");
    }

    fn with_probe(self, probe: String) -> Marker {
        Marker {
            probe: Some(probe),
            ..self
        }
    }

    /// The lines the file holds: the header line, then the probe as a comment.
    pub fn lines(&self) -> String {
        match &self.probe {
            Some(p) => format!("{}\n-- {p}", self.line()),
            None => self.line(),
        }
    }

    /// The header line (`-- aurweb-migrate: review drop-column Users.Foo: …`).
    pub fn line(&self) -> String {
        format!(
            "{MARKER_PREFIX}{} {}: {}",
            self.kind, self.object, self.reason
        )
    }
}

/// The generated migration for one dialect.
#[derive(Debug, Clone, Serialize)]
pub struct Draft {
    pub dialect: Dialect,
    /// One line per change, for people.
    pub changes: Vec<String>,
    pub markers: Vec<Marker>,
    /// The file needs `-- aurweb-migrate: foreign-keys off` (SQLite rebuilds).
    pub foreign_keys_off: bool,
    #[serde(skip)]
    pub statements: Vec<String>,
}

impl Draft {
    fn new(dialect: Dialect) -> Draft {
        Draft {
            dialect,
            changes: Vec::new(),
            markers: Vec::new(),
            foreign_keys_off: false,
            statements: Vec::new(),
        }
    }

    /// Nothing to do and nothing to review.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty() && self.markers.is_empty()
    }

    /// The statements, the way the file holds them (the body after the header).
    pub fn body(&self) -> String {
        let mut out = String::new();
        for s in &self.statements {
            out.push_str(s.trim_end());
            out.push_str(";\n\n");
        }
        out
    }

    /// The whole file: a header naming what it does and where it came from, the directives
    /// and review markers, then the statements.
    pub fn text(&self, description: &str, source: &str) -> String {
        let mut out = format!(
            "-- {description}\n--\n-- Written by `aurweb-migrate new --autogenerate` from {source}; proofread it.\n"
        );
        if !self.changes.is_empty() {
            out.push_str("-- Changes:\n");
            for c in &self.changes {
                let _ = writeln!(out, "--   {c}");
            }
        }
        if self.foreign_keys_off {
            out.push_str("-- aurweb-migrate: foreign-keys off\n");
        }
        for m in &self.markers {
            out.push_str(&m.lines());
            out.push('\n');
        }
        if self.statements.is_empty() && self.markers.is_empty() {
            // Meant: a file of comments only is refused unless it says so.
            out.push_str("-- aurweb-migrate: empty\n");
            let _ = writeln!(
                out,
                "-- Nothing changes on {}: the change is one this dialect does not have.",
                self.dialect.display_name()
            );
        } else if self.statements.is_empty() {
            out.push_str(
                "-- (no statements: only what the markers above say; write what they ask for, or, if\n\
                 -- nothing is to run here, put the line `-- aurweb-migrate: empty` in their place)\n",
            );
        } else {
            out.push('\n');
            out.push_str(&self.body());
        }
        out
    }
}

/// How the line that seals a draft starts (the third line of its header): `-- Draft
/// sha256:<hex> …`, the digest of the file as written, without this line and without the
/// review marker lines (deleting those is the review, not an edit). `new --autogenerate
/// --redo` replaces only files whose line is there and still matches.
pub const SEAL_PREFIX: &str = "-- Draft sha256:";

/// Why `new --autogenerate --redo` does not replace a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsealed {
    /// No seal line: not written by `new --autogenerate` (or by a version before the line).
    NotADraft,
    /// The seal line no longer matches the file.
    Edited,
}

/// The digest a seal line carries: SHA-256 of the text (a UTF-8 BOM removed, CRLF read as
/// LF) without its seal line and its review marker lines, in hex.
fn seal_digest(text: &str) -> String {
    use sha2::Digest as _;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut hash = sha2::Sha256::new();
    for line in text.split_inclusive('\n') {
        let bare = line.strip_suffix('\n').unwrap_or(line);
        let bare = bare.strip_suffix('\r').unwrap_or(bare);
        if bare.starts_with(SEAL_PREFIX) || bare.starts_with(MARKER_PREFIX) {
            continue;
        }
        hash.update(bare.as_bytes());
        if line.ends_with('\n') {
            hash.update(b"\n");
        }
    }
    hash.finalize()
        .iter()
        .fold(String::with_capacity(64), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// A draft's text with its seal line, after the header line that says who wrote it.
pub fn seal(text: &str) -> String {
    let line = format!(
        "{SEAL_PREFIX}{} (`new --autogenerate --redo` may replace this draft while it is unchanged)\n",
        seal_digest(text)
    );
    let mut out = String::with_capacity(text.len() + line.len());
    let mut sealed = false;
    for l in text.split_inclusive('\n') {
        out.push_str(l);
        if !sealed && l.starts_with("-- Written by `aurweb-migrate new --autogenerate`") {
            out.push_str(&line);
            sealed = true;
        }
    }
    if !sealed {
        out.insert_str(0, &line);
    }
    out
}

/// Whether `text` is a draft as `new --autogenerate` wrote it (its review markers may be gone).
pub fn check_seal(text: &str) -> std::result::Result<(), Unsealed> {
    let found = text.lines().find_map(|l| {
        l.strip_prefix(SEAL_PREFIX).map(|rest| {
            rest.split(' ')
                .next()
                .unwrap_or_default()
                .trim_end_matches('\r')
        })
    });
    match found {
        None => Err(Unsealed::NotADraft),
        Some(digest) if digest == seal_digest(text) => Ok(()),
        Some(_) => Err(Unsealed::Edited),
    }
}

/// What `new --autogenerate` did, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct Generated {
    /// The new migration's version; `None`: nothing changed, no migration was written.
    pub version: Option<u64>,
    /// The version the schema files' `schema-version` lines now name, where they moved.
    pub schema_version: Option<u64>,
    /// Migration files written.
    pub files: Vec<std::path::PathBuf>,
    /// The files of the draft `--redo` replaced (overwritten or removed).
    pub replaced: Vec<std::path::PathBuf>,
    /// Schema files whose version line moved (or that were rendered again).
    pub schema_files: Vec<std::path::PathBuf>,
    pub drafts: Vec<Draft>,
    /// The file each marker is in, with its line: `path:line`.
    pub review: Vec<String>,
    /// Where the time went, per dialect.
    pub timings: Vec<Timing>,
}

/// Where one dialect's time went, in milliseconds: building the two scratch databases (the
/// server's DDL; they are built at once), the tool's own share (reading both back, comparing,
/// writing the draft), and the self-check (applying the draft and reading the result back).
#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    pub dialect: Dialect,
    pub scratch_ms: f64,
    pub introspect_ms: f64,
    pub generate_ms: f64,
    pub self_check_ms: f64,
}

// ---- comparing two tables -----------------------------------------------------------------

/// How one table that both models have differs (after renames).
struct TableDiff<'a> {
    from: &'a Table,
    to: &'a Table,
    dropped: Vec<&'a Column>,
    /// New columns with their index in `to`.
    added: Vec<(usize, &'a Column)>,
    /// Columns whose definition changed: (from, to).
    changed: Vec<(&'a Column, &'a Column)>,
    /// Columns both have that must move.
    moved: BTreeSet<String>,
    pk_changed: bool,
    unique_dropped: Vec<&'a Vec<String>>,
    unique_added: Vec<&'a Vec<String>>,
    index_dropped: Vec<&'a schema::Index>,
    index_added: Vec<&'a schema::Index>,
    fk_dropped: Vec<&'a ForeignKey>,
    fk_added: Vec<&'a ForeignKey>,
    engine_changed: bool,
    collation_changed: bool,
    /// A row format `to` states that is not the one in effect in `from` (unstated ones are
    /// not compared).
    row_format_changed: bool,
}

impl<'a> TableDiff<'a> {
    fn new(from: &'a Table, to: &'a Table) -> TableDiff<'a> {
        let from_cols: BTreeMap<&str, &Column> =
            from.columns.iter().map(|c| (c.name.as_str(), c)).collect();
        let to_names: BTreeSet<&str> = to.columns.iter().map(|c| c.name.as_str()).collect();
        let dropped = from
            .columns
            .iter()
            .filter(|c| !to_names.contains(c.name.as_str()))
            .collect();
        let mut added = Vec::new();
        let mut changed = Vec::new();
        for (i, c) in to.columns.iter().enumerate() {
            match from_cols.get(c.name.as_str()) {
                None => added.push((i, c)),
                Some(f) if *f != c => changed.push((*f, c)),
                Some(_) => {}
            }
        }
        let common_to: Vec<&str> = to
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .filter(|n| from_cols.contains_key(n))
            .collect();
        let common_from: Vec<&str> = from
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .filter(|n| to_names.contains(n))
            .collect();
        let moved = schema::moved_columns(&common_to, &common_from)
            .into_iter()
            .map(str::to_string)
            .collect();
        let minus = |a: &'a [schema::Index], b: &[schema::Index]| -> Vec<&'a schema::Index> {
            a.iter().filter(|i| !b.contains(i)).collect()
        };
        TableDiff {
            from,
            to,
            dropped,
            added,
            changed,
            moved,
            pk_changed: from.primary_key != to.primary_key,
            unique_dropped: from
                .unique_keys
                .iter()
                .filter(|u| !to.unique_keys.contains(u))
                .collect(),
            unique_added: to
                .unique_keys
                .iter()
                .filter(|u| !from.unique_keys.contains(u))
                .collect(),
            index_dropped: minus(&from.indexes, &to.indexes),
            index_added: minus(&to.indexes, &from.indexes),
            fk_dropped: from
                .foreign_keys
                .iter()
                .filter(|f| !to.foreign_keys.contains(f))
                .collect(),
            fk_added: to
                .foreign_keys
                .iter()
                .filter(|f| !from.foreign_keys.contains(f))
                .collect(),
            engine_changed: to.engine.is_some() && to.engine != from.engine,
            collation_changed: to.collation.is_some() && to.collation != from.collation,
            row_format_changed: to.row_format.is_some()
                && to.row_format.as_deref() != from.row_format_in_effect(),
        }
    }

    fn is_empty(&self) -> bool {
        self.dropped.is_empty()
            && self.added.is_empty()
            && self.changed.is_empty()
            && self.moved.is_empty()
            && !self.pk_changed
            && self.unique_dropped.is_empty()
            && self.unique_added.is_empty()
            && self.index_dropped.is_empty()
            && self.index_added.is_empty()
            && self.fk_dropped.is_empty()
            && self.fk_added.is_empty()
            && !self.engine_changed
            && !self.collation_changed
            && !self.row_format_changed
    }

    /// Whether `name` is the predecessor-less first column of `to` or follows another.
    fn position(&self, index: usize, q: impl Fn(&str) -> String) -> String {
        match index {
            0 => "FIRST".to_string(),
            i => format!("AFTER {}", q(&self.to.columns[i - 1].name)),
        }
    }

    /// One line per change, and the review markers the changes call for.
    fn describe(&self, draft: &mut Draft) {
        let t = &self.to.name;
        for c in &self.added {
            draft.changes.push(format!(
                "{t}: add column {} {}",
                c.1.name,
                self.to.column_text(c.1)
            ));
            // Every existing row gets the same value, default or not: only a person knows
            // whether some rows need another (aurweb's EmailVerified needed 1 for them all).
            if !c.1.nullable && !c.1.auto_increment {
                let without = if c.1.default.is_none() {
                    " without a default"
                } else {
                    ""
                };
                draft.markers.push(Marker::new(
                    "not-null",
                    format!("{t}.{}", c.1.name),
                    format!(
                        "added NOT NULL{without}: existing rows get {}; if they need another value, write an UPDATE after this statement",
                        fill_value(c.1)
                    ),
                ));
            }
        }
        for c in &self.dropped {
            draft.changes.push(format!("{t}: drop column {}", c.name));
            draft.markers.push(Marker::new(
                "drop-column",
                format!("{t}.{}", c.name),
                "its values are lost",
            ));
        }
        // A dropped and an added column of the same definition: probably a rename.
        for d in &self.dropped {
            if let Some((_, a)) = self.added.iter().find(|(_, a)| {
                self.from.column_text(d) == self.to.column_text(a) && a.collation == d.collation
            }) {
                draft.markers.push(Marker::new(
                    "rename-candidate",
                    format!("{t}.{}", d.name),
                    format!(
                        "dropped while {} of the same definition is added; to keep its values pass --rename {t}.{}={} instead",
                        a.name, d.name, a.name
                    ),
                ));
            }
        }
        for (f, c) in &self.changed {
            draft.changes.push(format!(
                "{t}: column {}: {} -> {}",
                c.name,
                with_collation(self.from, f),
                with_collation(self.to, c)
            ));
            if f.type_name != c.type_name && !widens(&f.type_name, &c.type_name) {
                draft.markers.push(Marker::new(
                    "narrowing",
                    format!("{t}.{}", c.name),
                    format!(
                        "{} -> {} can change or refuse existing values",
                        f.type_name, c.type_name
                    ),
                ));
            }
            if f.nullable && !c.nullable && c.default.is_none() {
                draft.markers.push(
                    Marker::new(
                        "not-null",
                        format!("{t}.{}", c.name),
                        format!(
                            "NOT NULL without a default: existing NULLs become {}",
                            fill_value(c)
                        ),
                    )
                    .with_live("not-null", t, vec![c.name.clone()]),
                );
            }
        }
        for name in &self.moved {
            let i = self
                .to
                .columns
                .iter()
                .position(|c| &c.name == name)
                .unwrap_or(0);
            let place = match i {
                0 => "first".to_string(),
                i => format!("after {}", self.to.columns[i - 1].name),
            };
            draft
                .changes
                .push(format!("{t}: move column {name} {place}"));
        }
        if self.pk_changed {
            draft.changes.push(format!(
                "{t}: primary key ({}) -> ({})",
                self.from.primary_key.join(", "),
                self.to.primary_key.join(", ")
            ));
        }
        for u in &self.unique_dropped {
            draft
                .changes
                .push(format!("{t}: drop unique ({})", u.join(", ")));
        }
        for u in &self.unique_added {
            draft
                .changes
                .push(format!("{t}: add unique ({})", u.join(", ")));
        }
        if self.pk_changed && !self.to.primary_key.is_empty() {
            self.key_markers(&self.to.primary_key, true, draft);
        }
        for u in &self.unique_added {
            self.key_markers(u, false, draft);
        }
        for i in &self.index_dropped {
            draft.changes.push(format!("{t}: drop index {}", i.name));
        }
        for i in &self.index_added {
            draft.changes.push(format!(
                "{t}: add index {} ({})",
                i.name,
                i.columns.join(", ")
            ));
        }
        for fk in &self.fk_dropped {
            draft
                .changes
                .push(format!("{t}: drop foreign key {}", fk_text(fk)));
        }
        for fk in &self.fk_added {
            draft
                .changes
                .push(format!("{t}: add foreign key {}", fk_text(fk)));
        }
        if self.engine_changed || self.collation_changed || self.row_format_changed {
            let opts = |x: &Table| {
                [
                    x.engine.as_ref().map(|e| format!("engine={e}")),
                    x.collation.as_ref().map(|c| format!("collation={c}")),
                    x.row_format.as_ref().map(|r| format!("row_format={r}")),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ")
            };
            draft.changes.push(format!(
                "{t}: options {} -> {}",
                opts(self.from),
                opts(self.to)
            ));
        }
    }
}

impl TableDiff<'_> {
    /// The markers a new primary (`primary`) or unique key over the table's existing rows
    /// calls for. The rows cannot collide where a key of the old table (the primary key, or a
    /// unique key over NOT NULL columns) already covers some of the new key's columns, and
    /// in a unique key with a new nullable column (every existing row gets NULL, and NULLs
    /// do not collide): that one is `null-in-unique`. Otherwise `unique-key`/`primary-key`,
    /// with the query that finds the duplicates on the database before the migration: over
    /// the key's columns that exist already (a new NOT NULL column is one value in every
    /// existing row), skipping a unique key's NULLs.
    fn key_markers(&self, key: &[String], primary: bool, draft: &mut Draft) {
        let t = &self.to.name;
        let object = format!("{t} ({})", key.join(", "));
        let covers = |k: &[String]| !k.is_empty() && k.iter().all(|c| key.contains(c));
        let mut from_unique_not_null = self.from.unique_keys.iter().filter(|u| {
            u.iter().all(|c| {
                self.from
                    .columns
                    .iter()
                    .any(|x| &x.name == c && !x.nullable)
            })
        });
        if covers(&self.from.primary_key) || from_unique_not_null.any(|u| covers(u)) {
            return;
        }
        let added: Vec<&Column> = self
            .added
            .iter()
            .map(|(_, c)| *c)
            .filter(|c| key.contains(&c.name))
            .collect();
        if !primary {
            if let Some(c) = added.iter().find(|c| c.nullable) {
                draft.markers.push(Marker::new(
                    "null-in-unique",
                    format!("{t}.{}", c.name),
                    format!(
                        "added nullable into the new unique key ({}): existing rows get NULL, and NULLs do not collide in a unique key; if they need values, write an UPDATE after this statement",
                        key.join(", ")
                    ),
                ));
                return;
            }
        }
        let q = |n: &str| draft.dialect.ident(n);
        let existing: Vec<&String> = key
            .iter()
            .filter(|k| !added.iter().any(|c| &&c.name == k))
            .collect();
        let probe = if existing.is_empty() {
            // Every row has the same key: two rows are a duplicate.
            format!(
                "SELECT n FROM (SELECT COUNT(*) AS n FROM {}) AS c WHERE n > 1;",
                q(t)
            )
        } else {
            let cols = existing.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ");
            let nullable: Vec<String> = existing
                .iter()
                .filter(|c| {
                    !primary && self.to.columns.iter().any(|x| x.name == ***c && x.nullable)
                })
                .map(|c| format!("{} IS NOT NULL", q(c)))
                .collect();
            let filter = if nullable.is_empty() {
                String::new()
            } else {
                format!(" WHERE {}", nullable.join(" AND "))
            };
            format!(
                "SELECT {cols}, COUNT(*) FROM {}{filter} GROUP BY {cols} HAVING COUNT(*) > 1 LIMIT 5;",
                q(t)
            )
        };
        let what = if primary { "primary" } else { "unique" };
        let same = if added.is_empty() {
            String::new()
        } else {
            format!(
                " (every existing row gets the same value in {})",
                added
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        draft.markers.push(
            Marker::new(
                &format!("{what}-key"),
                object,
                format!(
                    "a new {what} key over the existing rows{same}: the statement fails on duplicates; run the query below first, and if it returns rows, make them unique before this statement"
                ),
            )
            .with_probe(probe),
        );
        if !existing.is_empty() {
            let kind = if primary { "primary-key" } else { "unique-key" };
            let marker = draft
                .markers
                .pop()
                .map(|m| m.with_live(kind, t, existing.iter().map(|c| c.to_string()).collect()));
            draft.markers.extend(marker);
        }
    }
}

fn with_collation(t: &Table, c: &Column) -> String {
    schema::with_collation(&t.column_text(c), c)
}

fn fk_text(fk: &ForeignKey) -> String {
    format!(
        "({}) references {} ({}) on delete {} on update {}",
        fk.columns.join(", "),
        fk.references_table,
        fk.references_columns.join(", "),
        fk.on_delete,
        fk.on_update
    )
}

/// The value existing rows get when a column becomes NOT NULL: its default, else the zero
/// of its type.
fn fill_value(c: &Column) -> String {
    if let Some(d) = &c.default {
        if d != "CURRENT_TIMESTAMP" {
            return d.clone();
        }
    }
    match schema::type_family(&c.type_name) {
        "integer" | "decimal" | "real" => "0".to_string(),
        "time" if c.default.is_some() => "CURRENT_TIMESTAMP".to_string(),
        "time" => "'1970-01-01 00:00:01'".to_string(),
        _ => "''".to_string(),
    }
}

/// Whether a type change keeps every value: larger integers (signedness kept, or unsigned to
/// a strictly larger signed type), longer strings, more decimal digits. Anything else counts
/// as narrowing.
pub fn widens(from: &str, to: &str) -> bool {
    fn split(t: &str) -> (&str, bool) {
        match t.strip_suffix(" UNSIGNED") {
            Some(b) => (b, true),
            None => (t, false),
        }
    }
    fn int_rank(base: &str) -> Option<u8> {
        Some(match base {
            "TINYINT" | "TINYINT(1)" => 1,
            "SMALLINT" => 2,
            "MEDIUMINT" => 3,
            "INT" | "INTEGER" => 4,
            "BIGINT" => 5,
            _ => return None,
        })
    }
    fn args(base: &str, name: &str) -> Option<Vec<u64>> {
        let inner = base
            .strip_prefix(name)?
            .strip_prefix('(')?
            .strip_suffix(')')?;
        inner.split(',').map(|n| n.trim().parse().ok()).collect()
    }
    /// Characters a string type holds.
    fn text_capacity(base: &str) -> Option<u64> {
        if let Some(a) = args(base, "VARCHAR").or_else(|| args(base, "CHAR")) {
            return a.first().copied();
        }
        Some(match base {
            "TINYTEXT" => 255,
            "TEXT" => 65_535,
            "MEDIUMTEXT" => 16_777_215,
            "LONGTEXT" => 4_294_967_295,
            _ => return None,
        })
    }
    let ((fb, fu), (tb, tu)) = (split(from), split(to));
    if let (Some(a), Some(b)) = (int_rank(fb), int_rank(tb)) {
        return (fu == tu && b >= a) || (fu && !tu && b > a);
    }
    if let (Some(a), Some(b)) = (text_capacity(fb), text_capacity(tb)) {
        return b >= a && !(fb.starts_with("VARCHAR") && tb.starts_with("CHAR("));
    }
    if let (Some(a), Some(b)) = (args(fb, "DECIMAL"), args(tb, "DECIMAL")) {
        let (p1, s1) = (a[0], a.get(1).copied().unwrap_or(0));
        let (p2, s2) = (b[0], b.get(1).copied().unwrap_or(0));
        return s2 >= s1 && p2 - s2.min(p2) >= p1 - s1.min(p1) && (fu == tu || !tu);
    }
    false
}

// ---- renames ------------------------------------------------------------------------------

/// `from` with the renames applied, so that the comparison sees the objects under their new
/// names; also checks that each rename names something that exists on one side and not on
/// the other.
fn apply_renames(from: &Schema, to: &Schema, r: &Renames) -> Result<Schema> {
    let mut s = from.clone();
    for (old, new) in &r.tables {
        if from.table(old).is_none() || from.table(new).is_some() || to.table(new).is_none() {
            return Err(SchemaError::RenameTable {
                old: old.clone(),
                new: new.clone(),
                old_in_from: from.table(old).is_some(),
                new_in_from: from.table(new).is_some(),
                new_in_to: to.table(new).is_some(),
            });
        }
        for t in &mut s.tables {
            if t.name == *old {
                t.name = new.clone();
            }
            let retarget = |fk: &mut ForeignKey| {
                if fk.references_table == *old {
                    fk.references_table = new.clone();
                }
            };
            t.foreign_keys.iter_mut().for_each(retarget);
            t.names
                .foreign_keys
                .iter_mut()
                .chain(t.names.implicit_indexes.iter_mut())
                .for_each(|(fk, _)| retarget(fk));
            t.foreign_keys.sort();
        }
    }
    for (table, old, new) in &r.columns {
        let table_now = r.table_now(table);
        let (Some(ft), Some(tt)) = (
            s.tables.iter().find(|t| t.name == table_now),
            to.table(&table_now),
        ) else {
            return Err(SchemaError::RenameNoTable {
                table: table.clone(),
                old: old.clone(),
                new: new.clone(),
            });
        };
        let has = |t: &Table, c: &str| t.columns.iter().any(|x| x.name == c);
        if !has(ft, old) || has(ft, new) || !has(tt, new) {
            return Err(SchemaError::RenameColumn {
                table: table.clone(),
                old: old.clone(),
                new: new.clone(),
                old_in_from: has(ft, old),
                new_in_from: has(ft, new),
                new_in_to: has(tt, new),
            });
        }
        let rename = |cols: &mut Vec<String>| {
            for c in cols.iter_mut() {
                if c == old {
                    *c = new.clone();
                }
            }
        };
        for t in &mut s.tables {
            let own = t.name == table_now;
            let fix_fk = |fk: &mut ForeignKey| {
                if own {
                    rename(&mut fk.columns);
                }
                if fk.references_table == table_now {
                    rename(&mut fk.references_columns);
                }
            };
            t.foreign_keys.iter_mut().for_each(fix_fk);
            t.names
                .foreign_keys
                .iter_mut()
                .chain(t.names.implicit_indexes.iter_mut())
                .for_each(|(fk, _)| fix_fk(fk));
            t.foreign_keys.sort();
            if !own {
                continue;
            }
            for c in &mut t.columns {
                if c.name == *old {
                    c.name = new.clone();
                }
            }
            rename(&mut t.primary_key);
            t.unique_keys.iter_mut().for_each(rename);
            t.unique_keys.sort();
            t.names.unique_keys.iter_mut().for_each(|(c, _)| rename(c));
            t.indexes.iter_mut().for_each(|i| rename(&mut i.columns));
        }
    }
    s.tables.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(s)
}

/// Changes and markers common to both dialects for whole tables.
fn describe_tables(from: &Schema, to: &Schema, r: &Renames, draft: &mut Draft) {
    for (old, new) in &r.tables {
        draft.changes.push(format!("rename table {old} -> {new}"));
    }
    for (t, old, new) in &r.columns {
        draft
            .changes
            .push(format!("{t}: rename column {old} -> {new}"));
    }
    let dropped: Vec<&Table> = from
        .tables
        .iter()
        .filter(|t| to.table(&t.name).is_none())
        .collect();
    let created: Vec<&Table> = to
        .tables
        .iter()
        .filter(|t| from.table(&t.name).is_none())
        .collect();
    for t in &created {
        draft.changes.push(format!("create table {}", t.name));
    }
    for t in &dropped {
        draft.changes.push(format!("drop table {}", t.name));
        draft
            .markers
            .push(Marker::new("drop-table", &t.name, "its rows are lost"));
        if let Some(c) = created.iter().find(|c| c.columns == t.columns) {
            draft.markers.push(Marker::new(
                "rename-candidate",
                &t.name,
                format!(
                    "dropped while {} with the same columns is created; to keep its rows pass --rename {}={} instead",
                    c.name, t.name, c.name
                ),
            ));
        } else if let Some((c, shared)) = table_rename_candidate(t, &created) {
            let mut flags = vec![format!("--rename {}={}", t.name, c.name)];
            flags.extend(
                column_rename_candidates(t, c)
                    .into_iter()
                    .map(|(old, new)| format!("--rename {}.{old}={new}", c.name)),
            );
            draft.markers.push(Marker::new(
                "rename-candidate",
                &t.name,
                format!(
                    "dropped while {}, which has {shared} of its {} columns, is created; to keep its rows pass {} instead",
                    c.name,
                    t.columns.len(),
                    flags.join(" ")
                ),
            ));
        }
    }
}

/// The created table a dropped one probably became, with the number of columns they share
/// (by name and definition): at least half of either's columns, or at least one with names
/// where one holds the other (`TU_VoteInfo`, `VoteInfo`); the most shared wins.
fn table_rename_candidate<'a>(
    dropped: &Table,
    created: &[&'a Table],
) -> Option<(&'a Table, usize)> {
    let similar = |a: &str, b: &str| {
        let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
        a.contains(&b) || b.contains(&a)
    };
    created
        .iter()
        .filter_map(|c| {
            let shared = dropped
                .columns
                .iter()
                .filter(|x| {
                    c.columns.iter().any(|y| {
                        y.name == x.name
                            && c.column_text(y) == dropped.column_text(x)
                            && y.collation == x.collation
                    })
                })
                .count();
            let most = dropped.columns.len().max(c.columns.len());
            let likely = shared > 0 && (2 * shared >= most || similar(&dropped.name, &c.name));
            likely.then_some((*c, shared))
        })
        .max_by_key(|(c, shared)| (*shared, similar(&dropped.name, &c.name)))
}

/// Columns only `from` has that `to` has under another name with the same definition
/// (each used once): the column renames a table rename would go with.
fn column_rename_candidates(from: &Table, to: &Table) -> Vec<(String, String)> {
    let mut used = BTreeSet::new();
    let mut out = Vec::new();
    for x in from
        .columns
        .iter()
        .filter(|x| to.columns.iter().all(|y| y.name != x.name))
    {
        if let Some(y) = to.columns.iter().find(|y| {
            from.columns.iter().all(|f| f.name != y.name)
                && !used.contains(&y.name)
                && to.column_text(y) == from.column_text(x)
                && y.collation == x.collation
        }) {
            used.insert(y.name.clone());
            out.push((x.name.clone(), y.name.clone()));
        }
    }
    out
}

/// Dropped tables, those referenced by other dropped tables last.
fn drop_order<'a>(from: &'a Schema, to: &Schema) -> Vec<&'a Table> {
    let mut left: Vec<&Table> = from
        .tables
        .iter()
        .filter(|t| to.table(&t.name).is_none())
        .collect();
    let mut out = Vec::new();
    while !left.is_empty() {
        let referenced = |name: &str, among: &[&Table]| {
            among.iter().any(|o| {
                o.name != name && o.foreign_keys.iter().any(|f| f.references_table == name)
            })
        };
        let i = (0..left.len())
            .find(|&i| !referenced(&left[i].name, &left))
            .unwrap_or(0);
        out.push(left.remove(i));
    }
    out
}

// ---- MySQL --------------------------------------------------------------------------------

/// A MySQL column definition from the model: the whole column, always.
fn mysql_column(c: &Column) -> String {
    let q = |n: &str| Dialect::Mysql.quote_ident(n);
    let mut s = format!("{} {}", q(&c.name), c.type_name);
    if let Some(coll) = &c.collation {
        let _ = write!(s, " COLLATE {coll}");
    }
    s.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
    if let Some(d) = &c.default {
        let _ = write!(s, " DEFAULT {d}");
    }
    if c.auto_increment {
        s.push_str(" AUTO_INCREMENT");
    }
    if let Some(u) = &c.on_update {
        let _ = write!(s, " ON UPDATE {u}");
    }
    s
}

/// Column names quoted for `dialect`, comma-separated.
fn quoted_list(dialect: Dialect, cols: &[String]) -> String {
    cols.iter()
        .map(|c| dialect.ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

fn mysql_cols(cols: &[String]) -> String {
    quoted_list(Dialect::Mysql, cols)
}

/// Whether a constraint name is one the server made up (`Users_ibfk_1`).
fn generated_fk_name(table: &str, name: &str) -> bool {
    name.strip_prefix(table)
        .and_then(|r| r.strip_prefix("_ibfk_"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn mysql_fk(table: &Table, fk: &ForeignKey) -> String {
    let q = |n: &str| Dialect::Mysql.quote_ident(n);
    let mut s = String::new();
    if let Some(name) = table.names.foreign_key(fk) {
        if !generated_fk_name(&table.name, name) {
            let _ = write!(s, "CONSTRAINT {} ", q(name));
        }
    }
    let _ = write!(
        s,
        "FOREIGN KEY ({}) REFERENCES {} ({})",
        mysql_cols(&fk.columns),
        q(&fk.references_table),
        mysql_cols(&fk.references_columns)
    );
    if fk.on_delete != "NO ACTION" {
        let _ = write!(s, " ON DELETE {}", fk.on_delete);
    }
    if fk.on_update != "NO ACTION" {
        let _ = write!(s, " ON UPDATE {}", fk.on_update);
    }
    s
}

fn mysql_unique(table: &Table, cols: &[String]) -> String {
    match table.names.unique_key(cols) {
        Some(name) => format!(
            "UNIQUE KEY {} ({})",
            Dialect::Mysql.quote_ident(name),
            mysql_cols(cols)
        ),
        None => format!("UNIQUE KEY ({})", mysql_cols(cols)),
    }
}

fn mysql_options(t: &Table) -> Vec<String> {
    let mut o = Vec::new();
    if let Some(e) = &t.engine {
        o.push(format!("ENGINE={e}"));
    }
    if let Some(c) = &t.collation {
        let charset = c.split('_').next().unwrap_or(c);
        o.push(format!("DEFAULT CHARSET={charset} COLLATE={c}"));
    }
    if let Some(r) = &t.row_format {
        o.push(format!("ROW_FORMAT={r}"));
    }
    o
}

fn mysql_create(
    t: &Table,
    deferred: &mut Vec<(String, String)>,
    created: &BTreeSet<&str>,
    column: &dyn Fn(&Column) -> String,
    options: Vec<String>,
) -> String {
    let q = |n: &str| Dialect::Mysql.quote_ident(n);
    let mut lines: Vec<String> = t.columns.iter().map(column).collect();
    if !t.primary_key.is_empty() {
        lines.push(format!("PRIMARY KEY ({})", mysql_cols(&t.primary_key)));
    }
    for u in &t.unique_keys {
        lines.push(mysql_unique(t, u));
    }
    for i in &t.indexes {
        lines.push(format!("KEY {} ({})", q(&i.name), mysql_cols(&i.columns)));
    }
    for fk in &t.foreign_keys {
        // A table that does not exist yet is referenced once it does.
        if fk.references_table != t.name && !created.contains(fk.references_table.as_str()) {
            deferred.push((t.name.clone(), mysql_fk(t, fk)));
        } else {
            lines.push(mysql_fk(t, fk));
        }
    }
    format!(
        "CREATE TABLE {} (\n  {}\n) {}",
        q(&t.name),
        lines.join(",\n  "),
        options.join(" ")
    )
    .trim_end()
    .to_string()
}

/// `CREATE TABLE` statements for `tables`, referenced tables first where possible (`created`:
/// the tables that exist already, grown here), and the foreign keys to a table not created
/// yet as `(table, clause)`, for an `ALTER TABLE … ADD` once it is.
fn mysql_creates<'a>(
    mut left: Vec<&'a Table>,
    created: &mut BTreeSet<&'a str>,
    column: &dyn Fn(&Table, &Column) -> String,
    options: &dyn Fn(&Table) -> Vec<String>,
) -> (Vec<String>, Vec<(String, String)>) {
    let mut statements = Vec::new();
    let mut deferred = Vec::new();
    while !left.is_empty() {
        let ready = |t: &Table| {
            t.foreign_keys.iter().all(|f| {
                f.references_table == t.name || created.contains(f.references_table.as_str())
            })
        };
        let i = left.iter().position(|t| ready(t)).unwrap_or(0);
        let t = left.remove(i);
        statements.push(mysql_create(
            t,
            &mut deferred,
            created,
            &|c| column(t, c),
            options(t),
        ));
        created.insert(t.name.as_str());
    }
    (statements, deferred)
}

/// A schema file's statements for every table of `schema` (a MySQL model), created from
/// nothing in an order MySQL accepts (`schema init`): a column's collation only where it is
/// not its table's, and the table's engine and character set only where `stated` says the
/// file states them (else the database's defaults apply, as in the migrations).
pub fn mysql_schema_statements(
    schema: &Schema,
    stated: &dyn Fn(&Table) -> schema::StatedOptions,
) -> Vec<String> {
    let column = |t: &Table, c: &Column| {
        let own = Column {
            collation: c
                .collation
                .clone()
                .filter(|x| t.collation.as_ref() != Some(x)),
            ..c.clone()
        };
        mysql_column(&own)
    };
    let options = |t: &Table| {
        let o = stated(t);
        mysql_options(&Table {
            engine: t.engine.clone().filter(|_| o.engine),
            collation: t.collation.clone().filter(|_| o.charset),
            columns: Vec::new(),
            ..t.clone()
        })
    };
    let mut created = BTreeSet::new();
    let (mut statements, deferred) = mysql_creates(
        schema.tables.iter().collect(),
        &mut created,
        &column,
        &options,
    );
    for (table, fk) in deferred {
        statements.push(format!(
            "ALTER TABLE {}\n  ADD {fk}",
            Dialect::Mysql.quote_ident(&table)
        ));
    }
    statements
}

/// The MySQL migration from `from` to `to`. A schema file may leave some tables' options to
/// the database (`stated`, from [`schema::stated_options`]; a table it does not name states
/// them all): such a table's engine and character set are not written in its `CREATE TABLE`,
/// nor a column's collation where it is its table's, so that the migration gives a database
/// what the schema file gives it, whatever its defaults.
pub fn mysql(
    from: &Schema,
    to: &Schema,
    renames: &Renames,
    stated: &BTreeMap<String, schema::StatedOptions>,
) -> Result<Draft> {
    let said = |t: &Table| {
        stated
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&t.name))
            .map_or(
                schema::StatedOptions {
                    engine: true,
                    charset: true,
                },
                |(_, o)| *o,
            )
    };
    let column = |t: &Table, c: &Column| {
        if !said(t).charset && c.collation == t.collation {
            mysql_column(&Column {
                collation: None,
                ..c.clone()
            })
        } else {
            mysql_column(c)
        }
    };
    let options = |t: &Table| {
        let o = said(t);
        mysql_options(&Table {
            engine: t.engine.clone().filter(|_| o.engine),
            collation: t.collation.clone().filter(|_| o.charset),
            columns: Vec::new(),
            ..t.clone()
        })
    };
    let q = |n: &str| Dialect::Mysql.quote_ident(n);
    let mut draft = Draft::new(Dialect::Mysql);
    let s = apply_renames(from, to, renames)?;
    describe_tables(&s, to, renames, &mut draft);
    let pairs: Vec<TableDiff> = to
        .tables
        .iter()
        .filter_map(|t| s.table(&t.name).map(|f| TableDiff::new(f, t)))
        .filter(|d| !d.is_empty())
        .collect();
    // A renamed table that changes otherwise is renamed by its own ALTER TABLE, so that a
    // data failure leaves neither half applied; but not while a foreign key references it:
    // MariaDB's copying ALTER TABLE … RENAME leaves such keys naming the old table.
    let folded = |new: &str| {
        pairs.iter().any(|d| d.to.name == new)
            && !s
                .tables
                .iter()
                .chain(to.tables.iter().filter(|t| s.table(&t.name).is_none()))
                .any(|t| t.foreign_keys.iter().any(|f| f.references_table == new))
    };
    // The name a table has until its own ALTER TABLE runs.
    let before = |new: &str| -> String {
        match renames.tables.iter().find(|(_, n)| n == new) {
            Some((old, _)) if folded(new) => old.clone(),
            _ => new.to_string(),
        }
    };
    for (old, new) in &renames.tables {
        if !folded(new) {
            draft
                .statements
                .push(format!("RENAME TABLE {} TO {}", q(old), q(new)));
        }
    }
    // Foreign keys that go (or go and come back) go in the table's own ALTER TABLE where
    // they can, else first, in an ALTER TABLE of their own (`drop_first`).
    let doomed: Vec<&Table> = drop_order(&s, to);
    let rebuilt = rebuilt_foreign_keys(&pairs);
    let retyped = retyped_columns(&pairs);
    let first = |d: &TableDiff, again: &[&ForeignKey], fk: &ForeignKey| {
        drop_first(d, again, fk, &pairs, &doomed, &retyped)
    };
    for (d, again) in pairs.iter().zip(&rebuilt) {
        let clauses = drop_foreign_keys(
            d,
            d.fk_dropped
                .iter()
                .chain(again)
                .filter(|f| first(d, again, f)),
        )?;
        if !clauses.is_empty() {
            draft.statements.push(format!(
                "ALTER TABLE {}\n  {}",
                q(&before(&d.from.name)),
                clauses.join(",\n  ")
            ));
        }
    }
    for t in &doomed {
        draft.statements.push(format!("DROP TABLE {}", q(&t.name)));
    }
    // New tables, referenced ones first where possible.
    let mut created: BTreeSet<&str> = s.tables.iter().map(|t| t.name.as_str()).collect();
    let (creates, deferred) = mysql_creates(
        to.tables
            .iter()
            .filter(|t| s.table(&t.name).is_none())
            .collect(),
        &mut created,
        &column,
        &options,
    );
    draft.statements.extend(creates);
    // One ALTER per changed table; tables whose new foreign keys point at another changed
    // table come after it.
    let mut order: Vec<(&TableDiff, &Vec<&ForeignKey>)> = Vec::new();
    let mut left: Vec<(&TableDiff, &Vec<&ForeignKey>)> = pairs.iter().zip(&rebuilt).collect();
    while !left.is_empty() {
        let waits = |(d, again): (&TableDiff, &Vec<&ForeignKey>),
                     among: &[(&TableDiff, &Vec<&ForeignKey>)]| {
            d.fk_added.iter().chain(again.iter()).any(|f| {
                f.references_table != d.to.name
                    && among.iter().any(|(o, _)| o.to.name == f.references_table)
            })
        };
        let i = (0..left.len())
            .find(|&i| !waits(left[i], &left))
            .unwrap_or(0);
        order.push(left.remove(i));
    }
    for (d, again) in order {
        d.describe(&mut draft);
        let t = &d.to.name;
        // A column rename names its table by the old or the new name (`d.from` already
        // carries the new one, as `apply_renames` left it).
        let old_name = |c: &str| {
            renames
                .columns
                .iter()
                .find(|(tb, _, new)| renames.table_now(tb) == *t && new == c)
                .map(|(_, old, _)| old.clone())
        };
        // Rows first get a value where a column becomes NOT NULL.
        for (f, c) in &d.changed {
            if f.nullable && !c.nullable {
                let col = old_name(&c.name).unwrap_or_else(|| c.name.clone());
                draft.statements.push(format!(
                    "UPDATE {} SET {} = {} WHERE {} IS NULL",
                    q(&before(t)),
                    q(&col),
                    fill_value(c),
                    q(&col)
                ));
            }
        }
        let mut clauses = Vec::new();
        if before(t) != *t {
            clauses.push(format!("RENAME TO {}", q(t)));
        }
        clauses.extend(drop_foreign_keys(
            d,
            d.fk_dropped
                .iter()
                .chain(again.iter())
                .filter(|f| !first(d, again, f)),
        )?);
        if d.pk_changed && !d.from.primary_key.is_empty() {
            clauses.push("DROP PRIMARY KEY".to_string());
        }
        for u in &d.unique_dropped {
            let name = d
                .from
                .names
                .unique_key(u)
                .ok_or_else(|| SchemaError::UnnamedKey {
                    what: format!("unique key ({})", u.join(", ")),
                    table: t.to_string(),
                })?;
            clauses.push(format!("DROP INDEX {}", q(name)));
        }
        for i in &d.index_dropped {
            clauses.push(format!("DROP INDEX {}", q(&i.name)));
        }
        for fk in &d.fk_dropped {
            // The index InnoDB made for the key goes with it (a new key makes its own).
            if let Some(name) = d.from.names.implicit_index(fk) {
                let still_used =
                    d.to.foreign_keys
                        .iter()
                        .any(|f| f.columns == fk.columns && !d.fk_added.contains(&f));
                if !still_used {
                    clauses.push(format!("DROP INDEX {}", q(name)));
                }
            }
        }
        for c in &d.dropped {
            clauses.push(format!("DROP COLUMN {}", q(&c.name)));
        }
        let changed: BTreeMap<&str, &Column> = d
            .changed
            .iter()
            .map(|(_, c)| (c.name.as_str(), *c))
            .collect();
        let last = d.to.columns.len().saturating_sub(1);
        for (i, c) in d.to.columns.iter().enumerate() {
            let new = d.added.iter().any(|(j, _)| *j == i);
            let moved = d.moved.contains(&c.name);
            let renamed = old_name(&c.name);
            let redefined = changed.contains_key(c.name.as_str());
            if new {
                let place = if i == last {
                    String::new()
                } else {
                    format!(" {}", d.position(i, q))
                };
                clauses.push(format!("ADD COLUMN {}{place}", column(d.to, c)));
            } else if moved || redefined || renamed.is_some() {
                let place = if moved {
                    format!(" {}", d.position(i, q))
                } else {
                    String::new()
                };
                match &renamed {
                    Some(old) => clauses.push(format!(
                        "CHANGE COLUMN {} {}{place}",
                        q(old),
                        column(d.to, c)
                    )),
                    None => clauses.push(format!("MODIFY COLUMN {}{place}", column(d.to, c))),
                }
            }
        }
        if d.pk_changed && !d.to.primary_key.is_empty() {
            clauses.push(format!(
                "ADD PRIMARY KEY ({})",
                mysql_cols(&d.to.primary_key)
            ));
        }
        for u in &d.unique_added {
            clauses.push(format!("ADD {}", mysql_unique(d.to, u)));
        }
        for i in &d.index_added {
            clauses.push(format!(
                "ADD INDEX {} ({})",
                q(&i.name),
                mysql_cols(&i.columns)
            ));
        }
        for fk in d.fk_added.iter().chain(again) {
            clauses.push(format!("ADD {}", mysql_fk(d.to, fk)));
        }
        if d.engine_changed {
            if let Some(e) = &d.to.engine {
                clauses.push(format!("ENGINE={e}"));
            }
        }
        if d.collation_changed {
            if let Some(c) = &d.to.collation {
                let charset = c.split('_').next().unwrap_or(c);
                clauses.push(format!("DEFAULT CHARACTER SET {charset} COLLATE {c}"));
            }
        }
        if d.row_format_changed {
            if let Some(r) = &d.to.row_format {
                clauses.push(format!("ROW_FORMAT={r}"));
            }
        }
        // Renamed columns with nothing else to say still get their CHANGE above.
        if !clauses.is_empty() {
            draft.statements.push(format!(
                "ALTER TABLE {}\n  {}",
                q(&before(t)),
                clauses.join(",\n  ")
            ));
        }
    }
    for (table, fk) in deferred {
        draft
            .statements
            .push(format!("ALTER TABLE {}\n  ADD {fk}", q(&table)));
    }
    // Column renames of tables that changed in nothing else.
    for (t, old, new) in &renames.columns {
        let table_now = renames.table_now(t);
        if pairs.iter().any(|d| d.to.name == table_now) {
            continue;
        }
        let Some(t) = to.table(&table_now) else {
            continue;
        };
        if let Some(c) = t.columns.iter().find(|c| &c.name == new) {
            draft.statements.push(format!(
                "ALTER TABLE {}\n  CHANGE COLUMN {} {}",
                q(&table_now),
                q(old),
                column(t, c)
            ));
        }
    }
    Ok(draft)
}

/// `DROP FOREIGN KEY` clauses for `fks` of `d`'s table, by the names the catalogue shows.
fn drop_foreign_keys<'a>(
    d: &TableDiff,
    fks: impl Iterator<Item = &'a &'a ForeignKey>,
) -> Result<Vec<String>> {
    fks.map(|fk| {
        let name = d
            .from
            .names
            .foreign_key(fk)
            .ok_or_else(|| SchemaError::UnnamedKey {
                what: format!("foreign key {}", fk_text(fk)),
                table: d.from.name.clone(),
            })?;
        Ok(format!(
            "DROP FOREIGN KEY {}",
            Dialect::Mysql.quote_ident(name)
        ))
    })
    .collect()
}

/// Whether a foreign key of `d`'s table that goes (or goes and comes back) must go before
/// every other statement, in an ALTER TABLE of its own, rather than in the table's ALTER:
/// when it references another table that changes or goes (whose statement may need it
/// gone), when a column on either side changes type (the other table's ALTER needs it
/// gone), when the key added back has the same name (MariaDB refuses to drop and add one
/// name in one statement: error 121), and when the key's name is one the server made up
/// while the statement adds a key whose name the server makes up (in one statement it
/// counts on from the dropped one, `_ibfk_2`, where a fresh `CREATE TABLE` and two
/// statements give `_ibfk_1`: later migrations that name it would differ by road).
fn drop_first(
    d: &TableDiff,
    again: &[&ForeignKey],
    fk: &ForeignKey,
    pairs: &[TableDiff],
    doomed: &[&Table],
    retyped: &BTreeSet<(&str, &str)>,
) -> bool {
    let other = fk.references_table != d.from.name
        && (pairs.iter().any(|p| p.to.name == fk.references_table)
            || doomed.iter().any(|t| t.name == fk.references_table));
    let generated = |n: Option<&str>| n.is_none_or(|n| generated_fk_name(&d.to.name, n));
    let added: Vec<&ForeignKey> = d.fk_added.iter().chain(again).copied().collect();
    let name = d.from.names.foreign_key(fk);
    let reused = match name {
        Some(n) if !generated_fk_name(&d.from.name, n) => {
            added.iter().any(|f| d.to.names.foreign_key(f) == Some(n))
        }
        _ => added.iter().any(|f| generated(d.to.names.foreign_key(f))),
    };
    other || under_a_retyped_column(fk, &d.to.name, retyped) || reused
}

/// Whether a column of `fk` (on `table`) or one it references changes type or collation.
fn under_a_retyped_column(fk: &ForeignKey, table: &str, retyped: &BTreeSet<(&str, &str)>) -> bool {
    fk.columns
        .iter()
        .any(|c| retyped.contains(&(table, c.as_str())))
        || fk
            .references_columns
            .iter()
            .any(|c| retyped.contains(&(fk.references_table.as_str(), c.as_str())))
}

/// The columns, as (table, column), whose type or collation changes.
fn retyped_columns<'a>(pairs: &[TableDiff<'a>]) -> BTreeSet<(&'a str, &'a str)> {
    pairs
        .iter()
        .flat_map(|d| {
            d.changed
                .iter()
                .filter(|(f, c)| f.type_name != c.type_name || f.collation != c.collation)
                .map(|(_, c)| (d.to.name.as_str(), c.name.as_str()))
        })
        .collect()
}

/// The foreign keys a MySQL migration keeps but must drop and add again, per changed table
/// (parallel to `pairs`): those with a column, on either side, whose type or collation changes
/// (InnoDB refuses to change it under the key: error 1833), and those whose only index goes
/// (InnoDB refuses that drop: error 1553; added again, the key gets the index InnoDB makes
/// for it, which is also what a fresh `CREATE TABLE` of the schema gets).
fn rebuilt_foreign_keys<'a>(pairs: &[TableDiff<'a>]) -> Vec<Vec<&'a ForeignKey>> {
    let retyped = retyped_columns(pairs);
    let leads =
        |index: &[String], fk: &[String]| index.len() >= fk.len() && index[..fk.len()] == *fk;
    pairs
        .iter()
        .map(|d| {
            let mut dropped: Vec<&[String]> = d
                .index_dropped
                .iter()
                .map(|i| i.columns.as_slice())
                .collect();
            dropped.extend(d.unique_dropped.iter().map(|u| u.as_slice()));
            if d.pk_changed {
                dropped.push(&d.from.primary_key);
            }
            let mut kept: Vec<&[String]> =
                d.to.indexes.iter().map(|i| i.columns.as_slice()).collect();
            kept.extend(d.to.unique_keys.iter().map(|u| u.as_slice()));
            kept.push(&d.to.primary_key);
            d.to.foreign_keys
                .iter()
                .filter(|f| d.from.foreign_keys.contains(f))
                .filter(|fk| {
                    let unindexed = dropped.iter().any(|i| leads(i, &fk.columns))
                        && !kept.iter().any(|i| leads(i, &fk.columns))
                        && d.from.names.implicit_index(fk).is_none();
                    under_a_retyped_column(fk, &d.to.name, &retyped) || unindexed
                })
                .collect()
        })
        .collect()
}

// ---- SQLite -------------------------------------------------------------------------------

/// A column as SQLite's `ADD COLUMN` takes it.
fn sqlite_column(c: &Column) -> String {
    let mut s = format!("{} {}", Dialect::Sqlite.ident(&c.name), c.type_name);
    s.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
    if let Some(d) = &c.default {
        let _ = write!(s, " DEFAULT {d}");
    }
    s
}

/// Whether a definition's SQL names `table` as a word (a view's dependency).
fn names_table(sql: &str, table: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    let t = table.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    lower.match_indices(&t).any(|(i, _)| {
        let before = i == 0 || !word(bytes[i - 1]);
        let after = i + t.len() >= bytes.len() || !word(bytes[i + t.len()]);
        before && after
    })
}

/// A SQLite unique key kept as an index of its own (`CREATE UNIQUE INDEX name …`, not a
/// `UNIQUE (…)` in the table's text, which SQLite names `sqlite_autoindex_…`): its name.
fn unique_index<'a>(t: &'a Table, columns: &[String]) -> Option<&'a str> {
    t.names
        .unique_key(columns)
        .filter(|n| !n.starts_with("sqlite_autoindex_"))
}

/// Whether SQLite can make the change without rebuilding the table: only appended columns
/// it accepts in `ADD COLUMN`, dropped columns no key uses, index changes, and unique keys
/// that are indexes of their own on both sides (the table's text does not change).
fn sqlite_native(d: &TableDiff, to_definitions: &[Definition]) -> bool {
    let own_index = |u: &&Vec<String>| {
        unique_index(d.to, u).is_some_and(|n| {
            to_definitions.iter().any(|x| {
                x.kind == "index" && x.name == n && x.table.eq_ignore_ascii_case(&d.to.name)
            })
        })
    };
    if !d.changed.is_empty()
        || !d.moved.is_empty()
        || d.pk_changed
        || !d
            .unique_dropped
            .iter()
            .all(|u| unique_index(d.from, u).is_some())
        || !d.unique_added.iter().all(own_index)
        || !d.fk_dropped.is_empty()
        || !d.fk_added.is_empty()
    {
        return false;
    }
    // Added columns: all at the end, each one `ADD COLUMN` accepts.
    let first_added = d.to.columns.len() - d.added.len();
    let appended = d.added.iter().all(|(i, _)| *i >= first_added);
    let addable = d.added.iter().all(|(_, c)| {
        let keyed = d.to.primary_key.contains(&c.name)
            || d.to
                .unique_keys
                .iter()
                .any(|u| u.contains(&c.name) && !d.unique_added.contains(&u))
            || d.to
                .foreign_keys
                .iter()
                .any(|f| f.columns.contains(&c.name));
        !keyed
            && !c.auto_increment
            && (c.nullable || c.default.is_some())
            && c.default.as_deref() != Some("CURRENT_TIMESTAMP")
    });
    // Dropped columns: no key or kept index may use them.
    let droppable = d.dropped.iter().all(|c| {
        let n = &c.name;
        !d.from.primary_key.contains(n)
            && !d.from.unique_keys.iter().any(|u| u.contains(n))
            && !d.from.foreign_keys.iter().any(|f| f.columns.contains(n))
            && !d
                .from
                .indexes
                .iter()
                .any(|i| i.columns.contains(n) && !d.index_dropped.contains(&i))
    });
    appended && addable && droppable
}

/// The SQLite migration from `from` to `to`; `to_definitions` are the target's stored
/// `CREATE` statements (a scratch database built from its schema file), which new and
/// rebuilt tables and their indexes are made from verbatim.
pub fn sqlite(
    from: &Schema,
    to: &Schema,
    to_definitions: &[Definition],
    renames: &Renames,
) -> Result<Draft> {
    let q = |n: &str| Dialect::Sqlite.ident(n);
    let mut draft = Draft::new(Dialect::Sqlite);
    let s = apply_renames(from, to, renames)?;
    describe_tables(&s, to, renames, &mut draft);
    let def = |kind: &str, table: &str| -> Vec<&Definition> {
        to_definitions
            .iter()
            .filter(|d| d.kind == kind && d.table.eq_ignore_ascii_case(table))
            .collect()
    };
    let table_sql = |name: &str| -> Result<&str> {
        def("table", name)
            .first()
            .map(|d| d.sql.as_str())
            .ok_or_else(|| SchemaError::NoCreateTable {
                table: name.to_string(),
            })
    };
    let pairs: Vec<TableDiff> = to
        .tables
        .iter()
        .filter_map(|t| s.table(&t.name).map(|f| TableDiff::new(f, t)))
        .filter(|d| !d.is_empty())
        .collect();
    // A column rename in a table that is rebuilt anyway is the rebuild's column mapping
    // (`SELECT old`), not a statement of its own; but not while another table's foreign key
    // references the column: only `RENAME COLUMN` rewrites that key.
    let rebuilt: BTreeSet<&str> = pairs
        .iter()
        .filter(|d| !sqlite_native(d, to_definitions))
        .map(|d| d.to.name.as_str())
        .collect();
    let mut folded: Vec<(String, String, String)> = Vec::new();
    for (old, new) in &renames.tables {
        draft
            .statements
            .push(format!("ALTER TABLE {} RENAME TO {}", q(old), q(new)));
    }
    for (t, old, new) in &renames.columns {
        let table_now = renames.table_now(t);
        let referenced = s.tables.iter().any(|x| {
            x.name != table_now
                && x.foreign_keys
                    .iter()
                    .any(|f| f.references_table == table_now && f.references_columns.contains(new))
        });
        if rebuilt.contains(table_now.as_str()) && !referenced {
            folded.push((table_now, old.clone(), new.clone()));
            continue;
        }
        draft.statements.push(format!(
            "ALTER TABLE {} RENAME COLUMN {} TO {}",
            q(&table_now),
            q(old),
            q(new)
        ));
    }
    for t in drop_order(&s, to) {
        draft.statements.push(format!("DROP TABLE {}", q(&t.name)));
    }
    for t in to.tables.iter().filter(|t| s.table(&t.name).is_none()) {
        draft.statements.push(table_sql(&t.name)?.to_string());
        for i in def("index", &t.name) {
            draft.statements.push(i.sql.clone());
        }
        for tr in def("trigger", &t.name) {
            draft.statements.push(tr.sql.clone());
        }
    }
    for d in &pairs {
        d.describe(&mut draft);
        let t = &d.to.name;
        if sqlite_native(d, to_definitions) {
            for u in &d.unique_dropped {
                if let Some(n) = unique_index(d.from, u) {
                    draft.statements.push(format!("DROP INDEX {}", q(n)));
                }
            }
            for i in &d.index_dropped {
                draft.statements.push(format!("DROP INDEX {}", q(&i.name)));
            }
            for c in &d.dropped {
                draft
                    .statements
                    .push(format!("ALTER TABLE {} DROP COLUMN {}", q(t), q(&c.name)));
            }
            for (_, c) in &d.added {
                draft.statements.push(format!(
                    "ALTER TABLE {} ADD COLUMN {}",
                    q(t),
                    sqlite_column(c)
                ));
            }
            for u in &d.unique_added {
                let n = unique_index(d.to, u).unwrap_or_default();
                if let Some(x) = def("index", t).into_iter().find(|x| x.name == n) {
                    draft.statements.push(x.sql.clone());
                }
            }
            for i in &d.index_added {
                match def("index", t).into_iter().find(|x| x.name == i.name) {
                    Some(x) => draft.statements.push(x.sql.clone()),
                    None => draft.statements.push(format!(
                        "CREATE INDEX {} ON {} ({})",
                        q(&i.name),
                        q(t),
                        quoted_list(Dialect::Sqlite, &i.columns)
                    )),
                }
            }
            continue;
        }
        // The rebuild, as sqlite.org's "Making Other Kinds Of Table Schema Changes" says.
        draft.foreign_keys_off = true;
        let fresh = format!("aurweb_migrate_new_{t}");
        let create = table_sql(t)?;
        let open = create
            .find('(')
            .ok_or_else(|| SchemaError::UnexpectedCreateTable {
                table: t.to_string(),
                sql: create.to_string(),
            })?;
        let views: Vec<&Definition> = to_definitions
            .iter()
            .filter(|v| v.kind == "view" && names_table(&v.sql, t))
            .collect();
        for v in &views {
            draft.statements.push(format!("DROP VIEW {}", q(&v.name)));
        }
        draft
            .statements
            .push(format!("CREATE TABLE {} {}", q(&fresh), &create[open..]));
        let from_cols: BTreeMap<&str, &Column> = d
            .from
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c))
            .collect();
        // The column a value comes from: its old name where the rename is folded in here.
        let source = |c: &str| {
            folded
                .iter()
                .find(|(tb, _, new)| tb == t && new == c)
                .map_or_else(|| q(c), |(_, old, _)| q(old))
        };
        let mut names = Vec::new();
        let mut values = Vec::new();
        for c in &d.to.columns {
            match from_cols.get(c.name.as_str()) {
                Some(f) if f.nullable && !c.nullable => {
                    names.push(q(&c.name));
                    values.push(format!("IFNULL({}, {})", source(&c.name), fill_value(c)));
                }
                Some(_) => {
                    names.push(q(&c.name));
                    values.push(source(&c.name));
                }
                None if !c.nullable && c.default.is_none() && !c.auto_increment => {
                    names.push(q(&c.name));
                    values.push(fill_value(c));
                }
                None => {}
            }
        }
        draft.statements.push(format!(
            "INSERT INTO {} ({})\n  SELECT {} FROM {}",
            q(&fresh),
            names.join(", "),
            values.join(", "),
            q(t)
        ));
        draft.statements.push(format!("DROP TABLE {}", q(t)));
        draft
            .statements
            .push(format!("ALTER TABLE {} RENAME TO {}", q(&fresh), q(t)));
        for i in def("index", t) {
            draft.statements.push(i.sql.clone());
        }
        for tr in def("trigger", t) {
            draft.statements.push(tr.sql.clone());
        }
        for v in &views {
            draft.statements.push(v.sql.clone());
        }
    }
    Ok(draft)
}

/// Review markers for what the generator does not write: views, triggers and CHECK
/// constraints that differ. (Seed rows are written: `autogen/rows.rs`.)
pub fn unsupported(from_definitions: &[Definition], to_definitions: &[Definition]) -> Vec<Marker> {
    let mut out = Vec::new();
    let others = |defs: &[Definition]| -> BTreeMap<(String, String), String> {
        defs.iter()
            .filter(|d| matches!(d.kind.as_str(), "view" | "trigger" | "check"))
            .map(|d| ((d.kind.clone(), d.name.clone()), d.sql.clone()))
            .collect()
    };
    let (a, b) = (others(from_definitions), others(to_definitions));
    for key in a.keys().chain(b.keys()).collect::<BTreeSet<_>>() {
        let what = match (a.get(key), b.get(key)) {
            (Some(x), Some(y)) if x == y => continue,
            (Some(_), Some(_)) => "changed",
            (None, _) => "added",
            (_, None) => "dropped",
        };
        out.push(Marker::new(
            "unsupported",
            &key.1,
            format!(
                "{} {what} in schema/: the generator does not write {}s; add the statements by hand",
                key.0, key.0
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_parse() {
        let r = Renames::parse(&["Users.Old=New".into(), "A=B".into()]).unwrap();
        assert_eq!(r.columns, [("Users".into(), "Old".into(), "New".into())]);
        assert_eq!(r.tables, [("A".into(), "B".into())]);
        for bad in ["nothing", "A.B.C=D", "=B", "A=", "A.=B", "A=B.C"] {
            let e = Renames::parse(&[bad.into()]).unwrap_err().to_string();
            assert!(e.contains("--rename"), "{bad}: {e}");
        }
        let back = r.reversed();
        assert_eq!(back.tables, [("B".into(), "A".into())]);
        assert_eq!(back.columns, [("Users".into(), "New".into(), "Old".into())]);
    }

    #[test]
    fn widening() {
        assert!(widens("INT UNSIGNED", "BIGINT UNSIGNED"));
        assert!(widens("INT UNSIGNED", "BIGINT"));
        assert!(!widens("INT UNSIGNED", "INT"));
        assert!(!widens("BIGINT", "INT"));
        assert!(widens("VARCHAR(32)", "VARCHAR(64)"));
        assert!(widens("VARCHAR(255)", "TEXT"));
        assert!(!widens("VARCHAR(64)", "VARCHAR(32)"));
        assert!(!widens("TEXT", "VARCHAR(255)"));
        assert!(widens("DECIMAL(10,2)", "DECIMAL(12,4)"));
        assert!(!widens("DECIMAL(10,2)", "DECIMAL(10,4)"));
        assert!(!widens("TIMESTAMP", "DATE"));
    }

    #[test]
    fn generated_names() {
        assert!(generated_fk_name("Users", "Users_ibfk_1"));
        assert!(generated_fk_name("Users", "Users_ibfk_12"));
        assert!(!generated_fk_name("Users", "Users_ibfk_"));
        assert!(!generated_fk_name("Users", "fk_users_closed"));
        assert!(!generated_fk_name("Users", "Sessions_ibfk_1"));
    }

    #[test]
    fn a_sealed_draft_is_told_from_an_edited_one() {
        let draft = "-- add x\n--\n-- Written by `aurweb-migrate new --autogenerate` from schema/sqlite.sql; proofread it.\n-- aurweb-migrate: review drop-column t.a: its values are lost\n\nALTER TABLE t DROP COLUMN a;\n";
        let sealed = seal(draft);
        let lines: Vec<&str> = sealed.lines().collect();
        assert!(lines[3].starts_with(SEAL_PREFIX), "{sealed}");
        assert_eq!(check_seal(&sealed), Ok(()));
        // The review (marker lines deleted) and a CRLF checkout are no edits.
        let reviewed: String = sealed
            .split_inclusive('\n')
            .filter(|l| !l.starts_with(MARKER_PREFIX))
            .collect();
        assert_eq!(check_seal(&reviewed), Ok(()));
        assert_eq!(check_seal(&sealed.replace('\n', "\r\n")), Ok(()));
        assert_eq!(
            check_seal(&sealed.replace("DROP COLUMN a", "DROP COLUMN b")),
            Err(Unsealed::Edited)
        );
        assert_eq!(
            check_seal(&sealed.replace("proofread it", "proofread it!")),
            Err(Unsealed::Edited)
        );
        assert_eq!(check_seal(draft), Err(Unsealed::NotADraft));
    }

    #[test]
    fn view_dependencies_are_whole_words() {
        assert!(names_table("CREATE VIEW v AS SELECT * FROM Users", "Users"));
        assert!(names_table("select * from \"users\" u", "Users"));
        assert!(!names_table("SELECT * FROM UsersArchive", "Users"));
    }
}

#[cfg(test)]
mod renderer_tests;
