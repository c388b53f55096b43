//! Config migrations: `<VERSION>_<slug>.config.toml` files beside the SQL ones, each a list of
//! declarative, idempotent operations on aurweb's site config (rename a section, rename or move
//! a key, remove a key, rewrite a value or items of a list value, split a key), applied to the
//! file in place through [`crate::settings::ini_doc`].
//!
//! The file's state lives in the file: one managed comment line,
//! `# aurweb-migrate: config-version=V migrations=… keys=…`, records the newest config version
//! applied, a checksum of the config migrations applied (an edited or inserted one is refused
//! like an edited SQL migration) and a short digest of each key the migrations manage (a key
//! edited by hand afterwards is reported by name). A file without the line (a fresh one, or a
//! template rendered by Ansible) has nothing applied: every operation is evaluated, and each
//! changes only what is still in its old form.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{io_message, Error, InputError, Result};
use crate::settings::ini_doc::Doc;
use crate::settings::line_of;
use crate::source::{self, Location};

/// The managed comment line starts with this.
pub const STATE_MARKER: &str = "# aurweb-migrate: config-version=";

/// One operation of a config migration file (`[[operation]]` with `op = "…"`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Op {
    /// `[section]` becomes `[to]`.
    RenameSection { section: String, to: String },
    /// `key` becomes `to` (default: the same name) in `to_section` (default: the same section).
    RenameKey {
        section: String,
        key: String,
        to: Option<String>,
        to_section: Option<String>,
    },
    /// `key` is removed.
    RemoveKey { section: String, key: String },
    /// A value that is exactly `from` becomes `to`.
    RewriteValue {
        section: String,
        key: String,
        from: String,
        to: String,
    },
    /// A whitespace-separated list value loses the items in `remove` and has each item named in
    /// `replace` replaced by the items of its replacement (items already present are not added
    /// twice).
    RewriteItems {
        section: String,
        key: String,
        #[serde(default)]
        remove: Vec<String>,
        #[serde(default)]
        replace: BTreeMap<String, String>,
    },
    /// `key` becomes the keys `into`, each with its value.
    SplitKey {
        section: String,
        key: String,
        into: Vec<String>,
    },
}

/// What an operation does to a document.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Effect {
    Nothing,
    /// What changed, and the 1-based line it was at.
    Changed(String, usize),
    /// Refused: why, and the lines (1-based, text) that conflict.
    Ambiguous(String, Vec<(usize, String)>),
}

impl Op {
    pub fn name(&self) -> &'static str {
        match self {
            Op::RenameSection { .. } => "rename-section",
            Op::RenameKey { .. } => "rename-key",
            Op::RemoveKey { .. } => "remove-key",
            Op::RewriteValue { .. } => "rewrite-value",
            Op::RewriteItems { .. } => "rewrite-items",
            Op::SplitKey { .. } => "split-key",
        }
    }

    /// Every section and key name the operation uses, and what it calls them (for checks).
    fn names(&self) -> Vec<(&'static str, &str)> {
        match self {
            Op::RenameSection { section, to } => vec![("section", section), ("to", to)],
            Op::RenameKey {
                section,
                key,
                to,
                to_section,
            } => {
                let mut v = vec![("section", section.as_str()), ("key", key.as_str())];
                v.extend(to.as_deref().map(|t| ("to", t)));
                v.extend(to_section.as_deref().map(|t| ("to_section", t)));
                v
            }
            Op::RemoveKey { section, key }
            | Op::RewriteValue { section, key, .. }
            | Op::RewriteItems { section, key, .. } => vec![("section", section), ("key", key)],
            Op::SplitKey { section, key, into } => {
                let mut v = vec![("section", section.as_str()), ("key", key.as_str())];
                v.extend(into.iter().map(|k| ("into", k.as_str())));
                v
            }
        }
    }

    /// Why the operation cannot be used, if it cannot.
    fn invalid(&self) -> Option<String> {
        for (field, name) in self.names() {
            let key_field = !matches!(field, "section" | "to_section")
                && !matches!(self, Op::RenameSection { .. });
            if name.is_empty() || name.trim() != name {
                return Some(format!("{field} {name:?}: empty, or blank at either end"));
            }
            if name.contains(['\n', '\r', ']']) || name.starts_with(['#', ';', '[']) {
                return Some(format!(
                    "{field} {name:?}: names cannot contain a line break or `]`, or start with #, ; or ["
                ));
            }
            if key_field && name.contains(['=', ':']) {
                return Some(format!("{field} {name:?}: a key cannot contain = or :"));
            }
        }
        match self {
            Op::RenameSection { section, to } if section == to => {
                Some("section and to are the same".into())
            }
            Op::RenameKey {
                section,
                key,
                to,
                to_section,
            } if to.as_deref().unwrap_or(key) == key
                && to_section.as_deref().unwrap_or(section) == section =>
            {
                Some("rename-key needs `to` or `to_section` naming another key".into())
            }
            Op::RewriteValue { from, to, .. } if from == to => {
                Some("from and to are the same".into())
            }
            Op::RewriteValue { from, to, .. }
                if from.contains(['\n', '\r']) || to.contains(['\n', '\r']) =>
            {
                Some("from and to must be one line each".into())
            }
            Op::RewriteValue { from, .. } if from.trim() != from || from.is_empty() => {
                Some("from must be a non-empty value without blanks at either end".into())
            }
            Op::RewriteItems {
                remove, replace, ..
            } if remove.is_empty() && replace.is_empty() => {
                Some("rewrite-items needs `remove` or `replace`".into())
            }
            Op::RewriteItems {
                remove, replace, ..
            } if remove
                .iter()
                .chain(replace.keys())
                .any(|i| i.split_whitespace().count() != 1)
                || replace.values().any(|v| v.split_whitespace().count() == 0) =>
            {
                Some("the items of remove and the keys of replace are single words, and each replacement is one or more".into())
            }
            Op::SplitKey { key, into, .. } if into.is_empty() || into.contains(key) => {
                Some("split-key needs `into`, a list of other keys".into())
            }
            _ => None,
        }
    }

    /// The keys whose values the operation sets (digested in the state line).
    fn managed(&self) -> Vec<(String, String)> {
        match self {
            Op::RenameKey {
                section,
                key,
                to,
                to_section,
            } => vec![(
                to_section.clone().unwrap_or_else(|| section.clone()),
                to.clone().unwrap_or_else(|| key.clone()),
            )],
            Op::RewriteValue { section, key, .. } | Op::RewriteItems { section, key, .. } => {
                vec![(section.clone(), key.clone())]
            }
            Op::SplitKey { section, into, .. } => {
                into.iter().map(|k| (section.clone(), k.clone())).collect()
            }
            Op::RenameSection { .. } | Op::RemoveKey { .. } => Vec::new(),
        }
    }

    /// Applies the operation to `doc` when it has something to change and nothing conflicts.
    fn apply(&self, doc: &mut Doc) -> Effect {
        // Lines are named as in the file on disk, not as earlier operations left the text.
        let line_of = |doc: &Doc, i: usize| doc.file_line(i);
        let at = |doc: &Doc, i: usize| doc.file_line(i).0;
        match self {
            Op::RenameSection { section, to } => {
                let Some(old) = doc.section(section).cloned() else {
                    return Effect::Nothing;
                };
                match doc.section(to).cloned() {
                    None => {
                        let line = at(doc, old.header);
                        doc.rename_section(section, to);
                        Effect::Changed(format!("renamed section [{section}] to [{to}]"), line)
                    }
                    Some(new) => {
                        let differing: Vec<_> = old
                            .entries
                            .iter()
                            .filter(|e| new.entry(&e.key).map(|n| &n.value) != Some(&e.value))
                            .collect();
                        if differing.is_empty() {
                            let line = at(doc, old.header);
                            doc.remove_section(section);
                            Effect::Changed(
                                format!(
                                    "removed section [{section}]: [{to}] has each of its keys with the same value"
                                ),
                                line,
                            )
                        } else {
                            let mut lines = vec![line_of(doc, old.header)];
                            lines.extend(differing.iter().map(|e| line_of(doc, e.first)));
                            lines.push(line_of(doc, new.header));
                            lines.extend(
                                differing
                                    .iter()
                                    .filter_map(|e| new.entry(&e.key))
                                    .map(|e| line_of(doc, e.first)),
                            );
                            Effect::Ambiguous(
                                format!(
                                    "both [{section}] and [{to}] are present, and [{to}] lacks or sets differently {} of the old section's keys; merge them into [{to}] by hand",
                                    differing.len()
                                ),
                                lines,
                            )
                        }
                    }
                }
            }
            Op::RenameKey {
                section,
                key,
                to,
                to_section,
            } => {
                let new_section = to_section.as_deref().unwrap_or(section);
                let new_key = to.as_deref().unwrap_or(key);
                let Some(old) = doc.entry(section, key).cloned() else {
                    return Effect::Nothing;
                };
                if let Some(new) = doc.entry(new_section, new_key).cloned() {
                    if new.value == old.value {
                        let line = at(doc, old.first);
                        doc.remove_entry(section, key);
                        return Effect::Changed(
                            format!(
                                "removed [{section}] {key}: [{new_section}] {new_key} has the same value"
                            ),
                            line,
                        );
                    }
                    return Effect::Ambiguous(
                        format!(
                            "both [{section}] {key} and [{new_section}] {new_key} are set, to different values; keep one by hand"
                        ),
                        vec![line_of(doc, old.first), line_of(doc, new.first)],
                    );
                }
                let line = at(doc, old.first);
                if new_section == section {
                    doc.rename_key(section, key, new_key);
                } else {
                    let lines = doc.entry_lines_as(section, key, new_key);
                    doc.remove_entry(section, key);
                    doc.insert_entry(new_section, None, lines);
                }
                Effect::Changed(
                    format!("renamed [{section}] {key} to [{new_section}] {new_key}"),
                    line,
                )
            }
            Op::RemoveKey { section, key } => match doc.entry(section, key).cloned() {
                None => Effect::Nothing,
                Some(e) => {
                    let line = at(doc, e.first);
                    doc.remove_entry(section, key);
                    Effect::Changed(format!("removed [{section}] {key}"), line)
                }
            },
            Op::RewriteValue {
                section,
                key,
                from,
                to,
            } => match doc.entry(section, key).cloned() {
                Some(e) if e.value == *from => {
                    let line = at(doc, e.first);
                    doc.set_value(section, key, to);
                    Effect::Changed(format!("[{section}] {key}: {from:?} became {to:?}"), line)
                }
                _ => Effect::Nothing,
            },
            Op::RewriteItems {
                section,
                key,
                remove,
                replace,
            } => {
                let Some(e) = doc.entry(section, key).cloned() else {
                    return Effect::Nothing;
                };
                let items: Vec<&str> = e.value.split_whitespace().collect();
                let mut out: Vec<&str> = Vec::new();
                for item in &items {
                    if remove.iter().any(|r| r == item) {
                        continue;
                    }
                    match replace.get(*item) {
                        Some(with) => {
                            for new in with.split_whitespace() {
                                if !items.contains(&new) && !out.contains(&new) {
                                    out.push(new);
                                }
                            }
                        }
                        None => out.push(item),
                    }
                }
                if out == items {
                    return Effect::Nothing;
                }
                let value = out.join(" ");
                let line = at(doc, e.first);
                doc.set_value(section, key, &value);
                Effect::Changed(
                    format!("[{section}] {key}: {:?} became {value:?}", e.value),
                    line,
                )
            }
            Op::SplitKey { section, key, into } => {
                let Some(old) = doc.entry(section, key).cloned() else {
                    return Effect::Nothing;
                };
                let conflicting: Vec<_> = into
                    .iter()
                    .filter_map(|k| doc.entry(section, k))
                    .filter(|n| n.value != old.value)
                    .map(|n| line_of(doc, n.first))
                    .collect();
                if !conflicting.is_empty() {
                    let mut lines = vec![line_of(doc, old.first)];
                    lines.extend(conflicting);
                    return Effect::Ambiguous(
                        format!(
                            "[{section}] {key} is to be split into {}, but some of them are already set to other values; remove {key} or make them agree by hand",
                            into.join(", ")
                        ),
                        lines,
                    );
                }
                let line = at(doc, old.first);
                let mut after = key.clone();
                for new in into {
                    if doc.entry(section, new).is_none() {
                        let lines = doc.entry_lines_as(section, key, new);
                        doc.insert_entry(section, Some(&after), lines);
                    }
                    after = new.clone();
                }
                doc.remove_entry(section, key);
                Effect::Changed(
                    format!("split [{section}] {key} into {}", into.join(", ")),
                    line,
                )
            }
        }
    }
}

/// One `<VERSION>_<slug>.config.toml` file.
#[derive(Debug, Clone)]
pub struct ConfigMigration {
    pub version: u64,
    pub description: String,
    /// `sha256-v1:…` of the file (BOM and CRLF ignored, as for SQL files).
    pub checksum: String,
    pub path: PathBuf,
    /// Each operation and its 1-based line in the file.
    pub ops: Vec<(Op, usize)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    description: Option<String>,
    #[serde(default)]
    operation: Vec<toml::Spanned<Op>>,
}

const NAME_RULE: &str =
    "expected <VERSION>_<slug>.config.toml with VERSION of 1-18 digits and slug of [a-z0-9_]";

/// The version and slug of a config migration's file name; `Ok(None)` for other files, `Err`
/// for a `.toml` file that breaks the naming rule.
fn parse_name(name: &str) -> std::result::Result<Option<(u64, String)>, String> {
    if name.starts_with('.') || !name.to_ascii_lowercase().ends_with(".toml") {
        return Ok(None);
    }
    let Some(stem) = name
        .strip_suffix(".config.toml")
        .filter(|s| !s.contains('.'))
    else {
        return Err(format!("malformed config migration file name: {NAME_RULE}"));
    };
    match source::parse_file_name(&format!("{stem}.sql")) {
        Ok(Some(f)) => Ok(Some((f.version, f.slug))),
        _ => Err(format!("malformed config migration file name: {NAME_RULE}")),
    }
}

/// Every config migration of `location`, checked: names, TOML, operations, one file per
/// version, each at the version of an SQL migration of the same set. All problems are listed.
pub fn load(location: &Location) -> Result<Vec<ConfigMigration>> {
    let (dir, files): (PathBuf, Vec<(String, Vec<u8>)>) = match location {
        Location::Embedded => (
            PathBuf::from(crate::source::embedded::MIGRATIONS_DIR),
            crate::source::embedded::migrations()
                .iter()
                .map(|(n, b)| (n.to_string(), b.to_vec()))
                .collect(),
        ),
        Location::Dir(dir) => {
            let entries = source::read_migrations_dir(dir)?;
            let mut files = Vec::new();
            for entry in entries.flatten() {
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                if name.ends_with(".sql") || matches!(parse_name(&name), Ok(Some(_)) | Err(_)) {
                    let bytes = if name.ends_with(".sql") {
                        Vec::new()
                    } else {
                        std::fs::read(entry.path()).map_err(|e| Error::Unreadable {
                            what: "",
                            path: entry.path(),
                            message: io_message(&e),
                        })?
                    };
                    files.push((name, bytes));
                }
            }
            (dir.clone(), files)
        }
    };
    let sql_versions: Vec<u64> = files
        .iter()
        .filter_map(|(n, _)| source::parse_file_name(n).ok().flatten())
        .map(|f| f.version)
        .collect();
    let mut errors = Vec::new();
    let mut out: Vec<ConfigMigration> = Vec::new();
    let input = |name: &str, line: Option<usize>, message: String| InputError {
        path: dir.join(name),
        line: line.map(|l| l as u32),
        message,
    };
    for (name, bytes) in &files {
        let (version, slug) = match parse_name(name) {
            Ok(Some(v)) => v,
            Ok(None) => continue,
            Err(message) => {
                errors.push(input(name, None, message));
                continue;
            }
        };
        let normalised = source::normalise(bytes.clone());
        let Ok(text) = String::from_utf8(normalised.clone()) else {
            errors.push(input(name, None, "not valid UTF-8".into()));
            continue;
        };
        let spec: FileSpec = match toml::from_str(&text) {
            Ok(s) => s,
            Err(e) => {
                let line = e.span().map(|s| line_of(&text, s.start));
                let message = e.message().trim().to_string();
                errors.push(input(name, line, message));
                continue;
            }
        };
        if spec.operation.is_empty() {
            errors.push(input(
                name,
                None,
                "no [[operation]]: a config migration lists at least one".into(),
            ));
            continue;
        }
        let mut ops = Vec::new();
        for op in spec.operation {
            let line = line_of(&text, op.span().start);
            let op = op.into_inner();
            match op.invalid() {
                Some(why) => errors.push(input(name, Some(line), format!("{}: {why}", op.name()))),
                None => ops.push((op, line)),
            }
        }
        if !sql_versions.contains(&version) {
            errors.push(input(
                name,
                None,
                format!(
                    "version {version} has no SQL migration: a config migration takes the version of the schema change of its release (or the next one after it)"
                ),
            ));
        }
        if let Some(other) = out.iter().find(|m| m.version == version) {
            errors.push(input(
                name,
                None,
                format!(
                    "version {version} already has a config migration ({})",
                    other.path.display()
                ),
            ));
        }
        out.push(ConfigMigration {
            version,
            description: spec.description.unwrap_or_else(|| slug.replace('_', " ")),

            checksum: source::checksum(&normalised),
            path: dir.join(name),
            ops,
        });
    }
    if !errors.is_empty() {
        errors.sort_by(|a, b| a.path.cmp(&b.path).then(a.line.cmp(&b.line)));
        return Err(Error::Input(errors));
    }
    out.sort_by_key(|m| m.version);
    Ok(out)
}

/// The managed line's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    version: u64,
    migrations: String,
    keys: Vec<String>,
}

impl State {
    fn parse(line: &str) -> std::result::Result<State, String> {
        let rest = line
            .trim()
            .strip_prefix(STATE_MARKER)
            .expect("called on the marker line");
        let mut words = rest.split_whitespace();
        let version = words
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or("malformed config-version")?;
        let mut migrations = None;
        let mut keys = None;
        for w in words {
            if w.starts_with('(') {
                break;
            }
            match w.split_once('=') {
                Some(("migrations", v)) => migrations = Some(v.to_string()),
                Some(("keys", v)) => {
                    keys = Some(
                        v.split(',')
                            .filter(|k| !k.is_empty())
                            .map(str::to_string)
                            .collect(),
                    )
                }
                _ => return Err(format!("unexpected {w:?}")),
            }
        }
        Ok(State {
            version,
            migrations: migrations.ok_or("no migrations=")?,
            keys: keys.ok_or("no keys=")?,
        })
    }

    fn line(&self) -> String {
        format!(
            "{STATE_MARKER}{} migrations={} keys={} (kept by `aurweb-migrate config upgrade`: leave this line as it is)",
            self.version,
            self.migrations,
            self.keys.join(",")
        )
    }
}

fn short_hash(text: &[u8], hex_digits: usize) -> String {
    let digest = Sha256::digest(text);
    digest
        .iter()
        .flat_map(|b| [b >> 4, b & 0xf])
        .take(hex_digits)
        .map(|n| char::from_digit(u32::from(n), 16).expect("a nibble"))
        .collect()
}

/// The checksum of a list of config migrations, for the managed line.
fn migrations_checksum(applied: &[&ConfigMigration]) -> String {
    let mut text = String::new();
    for m in applied {
        text.push_str(&format!("{} {}\n", m.version, m.checksum));
    }
    short_hash(text.as_bytes(), 16)
}

/// The keys `applied` manage, in order, without repeats.
fn managed_keys(applied: &[&ConfigMigration]) -> Vec<(String, String)> {
    let mut keys = Vec::new();
    for m in applied {
        for (op, _) in &m.ops {
            for k in op.managed() {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
    }
    keys
}

fn key_digest(doc: &Doc, section: &str, key: &str) -> String {
    let value = doc.entry(section, key).map(|e| e.value.as_str());
    let text = format!("{section}\0{key}\0{}", value.unwrap_or("\u{1}absent"));
    short_hash(text.as_bytes(), 8)
}

/// An operation's effect in a report.
#[derive(Debug, Clone)]
pub struct Change {
    pub version: u64,
    pub op: &'static str,
    /// 1-based line of the file on disk (before any operation ran) that the operation changes.
    pub line: usize,
    pub message: String,
}

/// An operation refused because its target is ambiguous (defined beside the error that
/// carries it, [`Error::SiteConfigAmbiguous`]).
pub use crate::error::Ambiguity;

/// A managed key whose value differs from the one recorded when the tool last wrote the file.
#[derive(Debug, Clone)]
pub struct HandEdit {
    pub section: String,
    pub key: String,
    /// 1-based line and text of the key now; `None` when it was removed.
    pub now: Option<(usize, String)>,
}

/// One config migration in a report.
#[derive(Debug, Clone)]
pub struct MigrationState {
    pub version: u64,
    pub description: String,
    pub path: PathBuf,
    pub applied: bool,
    /// For a pending migration: what upgrading changes.
    pub changes: Vec<Change>,
}

/// Everything `config status`, `check` and `upgrade` say about one file.
#[derive(Debug, Clone)]
pub struct ConfigReport {
    pub file: PathBuf,
    /// The version the managed line records; `None` without one.
    pub version: Option<u64>,
    /// The newest config migration's version (0 when there is none).
    pub head: u64,
    pub migrations: Vec<MigrationState>,
    pub ambiguous: Vec<Ambiguity>,
    /// Applied operations whose old form is back in the file (renamed or removed names that
    /// still appear, old values): reported, not re-applied.
    pub stale: Vec<Change>,
    pub hand_edits: Vec<HandEdit>,
    /// Why the recorded state cannot be trusted (edited or inserted config migrations, a newer
    /// version than the files know); upgrade refuses.
    pub conflict: Option<String>,
    pub warnings: Vec<String>,
    pub before: Vec<u8>,
    /// The file after upgrading (equal to `before` when nothing is to change).
    pub after: Vec<u8>,
}

impl ConfigReport {
    pub fn changed(&self) -> bool {
        self.before != self.after
    }

    /// Pending migrations that change the file (not only the managed line).
    pub fn pending_changes(&self) -> usize {
        self.migrations.iter().map(|m| m.changes.len()).sum()
    }

    pub fn pending(&self) -> impl Iterator<Item = &MigrationState> {
        self.migrations.iter().filter(|m| !m.applied)
    }

    /// What `config check` fails on.
    pub fn problems(&self) -> bool {
        self.pending_changes() > 0
            || !self.ambiguous.is_empty()
            || !self.stale.is_empty()
            || self.conflict.is_some()
    }

    /// The unified diff from the file to its upgraded form, secrets redacted (a context line
    /// may be a password's).
    pub fn diff(&self) -> String {
        let shown = |bytes: &[u8]| {
            std::str::from_utf8(bytes)
                .ok()
                .and_then(|t| Doc::parse(t).ok())
                .map(|d| d.shown_text())
                .unwrap_or_default()
        };
        let (before, after) = (shown(&self.before), shown(&self.after));
        let name = self.file.display().to_string();
        similar::TextDiff::from_lines(&before, &after)
            .unified_diff()
            .context_radius(3)
            .header(&name, &name)
            .to_string()
    }
}

/// Reads the site config a `config` command works on.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::Unreadable {
        what: "the config file ",
        path: path.to_path_buf(),
        message: io_message(&e),
    })
}

/// Evaluates `migrations` against the file's bytes: what is applied, what upgrading changes,
/// what is ambiguous, stale or edited by hand. Writes nothing.
pub fn evaluate(path: &Path, bytes: &[u8], migrations: &[ConfigMigration]) -> Result<ConfigReport> {
    let input = |line: Option<usize>, message: String| {
        Error::Input(vec![InputError {
            path: path.to_path_buf(),
            line: line.map(|l| l as u32),
            message,
        }])
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        input(Some(line), "not valid UTF-8".into())
    })?;
    let mut doc = Doc::parse(text).map_err(|e| {
        input(
            Some(e.line),
            format!(
                "{} (aurweb's configparser refuses this file too)",
                e.message
            ),
        )
    })?;
    let mut warnings = Vec::new();
    if doc.has_bom() {
        warnings.push(format!(
            "{} begins with a UTF-8 byte-order mark, which aurweb's configparser reads as part of the first line and then refuses the file (MissingSectionHeaderError); remove it",
            path.display()
        ));
    }
    let markers = doc.find_comment(STATE_MARKER);
    if markers.len() > 1 {
        return Err(input(
            Some(markers[1] + 1),
            format!(
                "a second aurweb-migrate line (the first is line {}); remove the extra one",
                markers[0] + 1
            ),
        ));
    }
    let marker = markers.first().copied();
    let state =
        match marker {
            Some(i) => Some(State::parse(doc.line(i)).map_err(|why| {
                input(Some(i + 1), format!("malformed aurweb-migrate line: {why}"))
            })?),
            None => None,
        };
    let head = migrations.last().map(|m| m.version).unwrap_or(0);
    let recorded = state.as_ref().map(|s| s.version).unwrap_or(0);
    let applied: Vec<&ConfigMigration> = migrations
        .iter()
        .filter(|m| m.version <= recorded)
        .collect();

    let mut conflict = None;
    let mut hand_edits = Vec::new();
    let mut stale = Vec::new();
    if let Some(state) = &state {
        if state.version > head {
            conflict = Some(format!(
                "{} is at config version {}, newer than the newest config migration here ({head}): an aurweb-migrate with newer migrations wrote it",
                path.display(),
                state.version
            ));
        } else if migrations_checksum(&applied) != state.migrations {
            conflict = Some(format!(
                "the config migrations up to version {} are not those applied to {}: one was edited, added or removed since (restore it, or delete the aurweb-migrate line to evaluate every operation again: each is idempotent)",
                state.version,
                path.display()
            ));
        } else {
            let keys = managed_keys(&applied);
            for ((section, key), recorded) in keys.iter().zip(&state.keys) {
                if key_digest(&doc, section, key) != *recorded {
                    hand_edits.push(HandEdit {
                        section: section.clone(),
                        key: key.clone(),
                        now: doc
                            .entry(section, key)
                            .map(|e| (e.first + 1, doc.entry_text(e))),
                    });
                }
            }
            for m in &applied {
                for (op, _) in &m.ops {
                    let mut probe = doc.clone();
                    let (message, line) = match op.apply(&mut probe) {
                        Effect::Nothing => continue,
                        Effect::Changed(message, line) => (message, line),
                        Effect::Ambiguous(message, lines) => {
                            (message, lines.first().map(|l| l.0).unwrap_or(0))
                        }
                    };
                    stale.push(Change {
                        version: m.version,
                        op: op.name(),
                        line,
                        message: format!("still in its old form ({message})"),
                    });
                }
            }
        }
    }

    let mut states = Vec::new();
    let mut ambiguous = Vec::new();
    for m in migrations {
        let is_applied = state.is_some() && m.version <= recorded;
        let mut changes = Vec::new();
        if !is_applied && conflict.is_none() {
            for (op, _) in &m.ops {
                match op.apply(&mut doc) {
                    Effect::Nothing => {}
                    Effect::Changed(message, line) => changes.push(Change {
                        version: m.version,
                        op: op.name(),
                        line,
                        message,
                    }),
                    Effect::Ambiguous(message, lines) => ambiguous.push(Ambiguity {
                        version: m.version,
                        op: op.name(),
                        message,
                        lines,
                    }),
                }
            }
        }
        states.push(MigrationState {
            version: m.version,
            description: m.description.clone(),
            path: m.path.clone(),
            applied: is_applied,
            changes,
        });
    }

    let pending = states.iter().any(|m| !m.applied);
    let after = if conflict.is_some() || !ambiguous.is_empty() || !pending {
        bytes.to_vec()
    } else {
        let all: Vec<&ConfigMigration> = migrations.iter().collect();
        let new_state = State {
            version: head,
            migrations: migrations_checksum(&all),
            keys: managed_keys(&all)
                .iter()
                .map(|(s, k)| key_digest(&doc, s, k))
                .collect(),
        };
        doc.put_comment(marker, &new_state.line());
        doc.to_bytes()
    };
    Ok(ConfigReport {
        file: path.to_path_buf(),
        version: state.map(|s| s.version),
        head,
        migrations: states,
        ambiguous,
        stale,
        hand_edits,
        conflict,
        warnings,
        before: bytes.to_vec(),
        after,
    })
}

/// Refuses a file that cannot be replaced, before anything is written: a file without any write
/// permission bit (deliberately read-only, refused even for root), or a directory that cannot
/// take the temporary file.
pub fn check_writable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let unwritable = |e: std::io::Error| Error::SiteConfigUnwritable {
        path: path.to_path_buf(),
        message: io_message(&e),
    };
    let meta = std::fs::metadata(path).map_err(unwritable)?;
    if meta.permissions().mode() & 0o222 == 0 {
        return Err(Error::SiteConfigReadOnly {
            path: path.to_path_buf(),
            mode: meta.permissions().mode() & 0o7777,
        });
    }
    let dir = parent_dir(path);
    let dir_meta = std::fs::metadata(&dir).map_err(unwritable)?;
    if dir_meta.permissions().mode() & 0o222 == 0 {
        return Err(Error::SiteConfigDirectoryReadOnly {
            path: path.to_path_buf(),
            mode: dir_meta.permissions().mode() & 0o7777,
            dir,
        });
    }
    Ok(())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Replaces the file atomically: a temporary file in the same directory with the same mode and
/// (when permitted) owner, written and fsynced, renamed over the file, the directory fsynced.
/// Killed at any point, the file is the old one or the new one, never a mix.
/// `expected` is the content the new bytes were made from: a file that no longer holds it is
/// left alone.
pub fn write_atomic(path: &Path, expected: &[u8], bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let fail = |step: &'static str, e: std::io::Error| Error::SiteConfigWriteFailed {
        path: path.to_path_buf(),
        step,
        message: io_message(&e),
    };
    // Follow a symlink: the file it points to is replaced, the link stays.
    let target = std::fs::canonicalize(path).map_err(|e| fail("resolve", e))?;
    let meta = std::fs::metadata(&target).map_err(|e| fail("stat", e))?;
    let dir = parent_dir(&target);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.aurweb-migrate.{}.tmp", std::process::id()));
    // A temporary file of this name is a killed run's (its pid was ours): remove it.
    let _ = std::fs::remove_file(&temp);
    let result = (|| -> std::result::Result<(), (&'static str, std::io::Error)> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| ("create a temporary file", e))?;
        file.set_permissions(std::fs::Permissions::from_mode(meta.mode() & 0o7777))
            .map_err(|e| ("set the mode", e))?;
        if let Err(e) = std::os::unix::fs::fchown(&file, Some(meta.uid()), Some(meta.gid())) {
            // Only root may give a file away; a file of our own keeps its owner anyway.
            if e.kind() != std::io::ErrorKind::PermissionDenied {
                return Err(("set the owner", e));
            }
        }
        file.write_all(bytes).map_err(|e| ("write", e))?;
        file.sync_all().map_err(|e| ("fsync", e))?;
        // Someone else's edit since the file was read would be lost: refuse instead.
        if std::fs::read(&target).map_err(|e| ("read it again", e))? != expected {
            return Err((
                "it changed while the upgrade ran; run it again",
                std::io::Error::other("modified concurrently"),
            ));
        }
        std::fs::rename(&temp, &target).map_err(|e| ("rename", e))?;
        std::fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| ("fsync the directory", e))?;
        Ok(())
    })();
    match result {
        Ok(()) => Ok(()),
        Err((what, e)) => {
            let _ = std::fs::remove_file(&temp);
            Err(fail(what, e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(version: u64, toml_text: &str) -> ConfigMigration {
        let spec: FileSpec = toml::from_str(toml_text).unwrap();
        ConfigMigration {
            version,
            description: "t".into(),
            checksum: source::checksum(toml_text.as_bytes()),
            path: PathBuf::from(format!("m/{version}_t.config.toml")),
            ops: spec
                .operation
                .into_iter()
                .map(|o| (o.into_inner(), 1))
                .collect(),
        }
    }

    fn upgraded(text: &str, ms: &[ConfigMigration]) -> ConfigReport {
        evaluate(Path::new("config"), text.as_bytes(), ms).unwrap()
    }

    #[test]
    fn unknown_fields_and_ops_are_refused() {
        for bad in [
            "[[operation]]\nop = \"rename-table\"\nsection = \"a\"\nto = \"b\"\n",
            "[[operation]]\nop = \"rename-section\"\nsection = \"a\"\nto = \"b\"\nextra = 1\n",
            "[[operation]]\nop = \"remove-key\"\nsection = \"a\"\n",
            "colour = \"red\"\n",
        ] {
            assert!(toml::from_str::<FileSpec>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn state_line_round_trip_and_second_run_is_identical() {
        let ms = [migration(
            3,
            "[[operation]]\nop = \"split-key\"\nsection = \"cache\"\nkey = \"expiry_time\"\ninto = [\"a\", \"b\"]\n",
        )];
        let r = upgraded("[cache]\nexpiry_time = 60\n", &ms);
        let after = String::from_utf8(r.after.clone()).unwrap();
        assert!(after.starts_with(STATE_MARKER), "{after}");
        assert!(after.ends_with("[cache]\na = 60\nb = 60\n"), "{after}");
        let again = upgraded(&after, &ms);
        assert!(!again.changed());
        assert_eq!(again.version, Some(3));
        assert!(again.hand_edits.is_empty() && again.stale.is_empty());
        let edited = after.replace("b = 60", "b = 70");
        let r = upgraded(&edited, &ms);
        assert_eq!(r.hand_edits.len(), 1);
        assert_eq!(r.hand_edits[0].key, "b");
        assert!(!r.changed());
    }
}

#[cfg(test)]
mod evaluate_tests;
