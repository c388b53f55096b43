//! The accepted differences (`accepted-differences.toml` in the schema directory): the
//! differences between the desired schema (the schema command's models, or the schema files)
//! and a replay of the migrations that were reviewed and kept, each with its reason. `verify`
//! accepts a difference an entry matches, and fails on an entry that matches none (stale: the
//! difference was closed), so the file cannot rot.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dialect::Dialect;
use crate::error::{Error, InputError, Result};
use crate::schema::Difference;
use crate::settings::line_of;

/// The file's name in the schema directory.
pub const FILE_NAME: &str = "accepted-differences.toml";

/// What `expected` or `found` is written as when that side has no such object.
pub const NONE: &str = "(none)";

/// One `[[difference]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line of its `[[difference]]` header.
    pub line: usize,
    /// `None`: both dialects.
    pub dialect: Option<Dialect>,
    pub table: String,
    pub object: String,
    /// When given, the difference's `expected` must be this (`(none)`: no such object).
    pub expected: Option<String>,
    pub found: Option<String>,
    pub reason: String,
}

/// The whole file.
#[derive(Debug, Clone, Default)]
pub struct Accepted {
    /// As messages show it.
    pub path: PathBuf,
    pub entries: Vec<Entry>,
}

/// A difference `verify` accepted, with the entry that accepts it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AcceptedDifference {
    pub table: String,
    pub object: String,
    pub expected: Option<String>,
    pub found: Option<String>,
    pub reason: String,
    /// `path:line` of the entry.
    pub entry: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    #[serde(default)]
    difference: Vec<toml::Spanned<RawEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    dialect: Option<String>,
    table: Option<String>,
    object: Option<String>,
    expected: Option<String>,
    found: Option<String>,
    reason: Option<String>,
}

/// The file in `dir`, when there is one.
pub fn load(dir: &Path, shown: &Path) -> Result<Option<Accepted>> {
    let path = dir.join(FILE_NAME);
    let shown = shown.join(FILE_NAME);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::input(shown, None, format!("cannot read it: {e}"))),
    };
    let Ok(text) = String::from_utf8(crate::source::normalise(bytes)) else {
        return Err(Error::input(shown, None, "not valid UTF-8"));
    };
    parse(&shown, &text).map(Some)
}

/// The entries of `text`; every problem, each at its line (exit 2).
pub fn parse(path: &Path, text: &str) -> Result<Accepted> {
    let input = |line: Option<usize>, message: String| InputError {
        path: path.to_path_buf(),
        line: line.map(|l| l as u32),
        message,
    };
    let spec: FileSpec = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        Error::Input(vec![input(line, e.message().trim().to_string())])
    })?;
    let mut errors = Vec::new();
    let mut entries = Vec::new();
    for raw in spec.difference {
        let line = line_of(text, raw.span().start);
        let raw = raw.into_inner();
        let mut missing = Vec::new();
        let mut given = |name: &'static str, v: Option<String>| match v {
            Some(v) if !v.trim().is_empty() => Some(v),
            _ => {
                missing.push(name);
                None
            }
        };
        let dialect_text = given("dialect", raw.dialect);
        let table = given("table", raw.table);
        let object = given("object", raw.object);
        let reason = given("reason", raw.reason);
        if !missing.is_empty() {
            errors.push(input(
                Some(line),
                format!(
                    "[[difference]] without {}: every entry names the difference (dialect, table, object) and says why it is kept (reason)",
                    missing.join(", ")
                ),
            ));
            continue;
        }
        let dialect = match dialect_text.as_deref() {
            Some("both") => None,
            Some(name @ ("mysql" | "sqlite")) => Dialect::from_name(name),
            other => {
                errors.push(input(
                    Some(line),
                    format!(
                        "dialect {:?}: expected \"mysql\", \"sqlite\" or \"both\"",
                        other.unwrap_or_default()
                    ),
                ));
                continue;
            }
        };
        entries.push(Entry {
            line,
            dialect,
            table: table.unwrap_or_default(),
            object: object.unwrap_or_default(),
            expected: raw.expected,
            found: raw.found,
            reason: reason.unwrap_or_default().trim().to_string(),
        });
    }
    for (i, a) in entries.iter().enumerate() {
        if let Some(b) = entries[..i].iter().find(|b| {
            b.table == a.table
                && b.object == a.object
                && (b.dialect.is_none() || a.dialect.is_none() || b.dialect == a.dialect)
        }) {
            errors.push(input(
                Some(a.line),
                format!(
                    "the same difference as the entry at line {} ({}: {}): one entry per difference",
                    b.line, a.table, a.object
                ),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(Error::Input(errors));
    }
    Ok(Accepted {
        path: path.to_path_buf(),
        entries,
    })
}

impl Entry {
    /// Whether this entry accepts `d`, found comparing the `dialect` schemas.
    pub fn matches(&self, dialect: Dialect, d: &Difference) -> bool {
        let side = |want: &Option<String>, got: &Option<String>| match want {
            None => true,
            Some(w) => w.as_str() == got.as_deref().unwrap_or(NONE),
        };
        self.dialect.is_none_or(|x| x == dialect)
            && self.table == d.table
            && self.object == d.object
            && side(&self.expected, &d.expected)
            && side(&self.found, &d.found)
    }
}

impl Accepted {
    /// `differences` of the `dialect` check split: those no entry accepts, and those one
    /// does, with its reason; `used` marks each entry that matched.
    pub fn split(
        &self,
        dialect: Dialect,
        differences: Vec<Difference>,
        used: &mut [bool],
    ) -> (Vec<Difference>, Vec<AcceptedDifference>) {
        let mut open = Vec::new();
        let mut accepted = Vec::new();
        for d in differences {
            match self.entries.iter().position(|e| e.matches(dialect, &d)) {
                Some(i) => {
                    used[i] = true;
                    let e = &self.entries[i];
                    accepted.push(AcceptedDifference {
                        table: d.table,
                        object: d.object,
                        expected: d.expected,
                        found: d.found,
                        reason: e.reason.clone(),
                        entry: format!("{}:{}", self.path.display(), e.line),
                    });
                }
                None => open.push(d),
            }
        }
        (open, accepted)
    }

    /// The entries for `dialect` that matched no difference of its check (`used`): each a
    /// difference of its own, at the entry's line.
    pub fn stale(&self, dialect: Dialect, used: &[bool]) -> Vec<Difference> {
        self.entries
            .iter()
            .zip(used)
            .filter(|(e, used)| !**used && e.dialect.is_none_or(|x| x == dialect))
            .map(|(e, _)| Difference {
                table: format!("{}:{}", self.path.display(), e.line),
                object: format!("stale entry ({dialect})"),
                expected: Some(format!("a difference {}: {}", e.table, e.object)),
                found: Some(NONE.to_string()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(table: &str, object: &str, expected: Option<&str>, found: Option<&str>) -> Difference {
        Difference {
            table: table.into(),
            object: object.into(),
            expected: expected.map(Into::into),
            found: found.map(Into::into),
        }
    }

    fn errors(text: &str) -> Vec<String> {
        match parse(Path::new("schema/accepted-differences.toml"), text) {
            Err(Error::Input(list)) => list.iter().map(|e| e.to_string()).collect(),
            other => panic!("{other:?}"),
        }
    }

    const FILE: &str = r#"# reviewed
[[difference]]
dialect = "both"
table = "Users"
object = "index UsersEmail"
reason = "only the models declare it"

[[difference]]
dialect = "sqlite"
table = "Packages"
object = "column Name"
expected = "VARCHAR(255) NOT NULL"
found = "TEXT NOT NULL"
reason = "SQLite type spelling"

[[difference]]
dialect = "mysql"
table = "Bans"
object = "index BansIP"
found = "(none)"
reason = "a migration never made it"
"#;

    #[test]
    fn entries_match_by_dialect_table_object_and_the_sides_given() {
        let a = parse(Path::new("a.toml"), FILE).unwrap();
        assert_eq!(
            a.entries.iter().map(|e| e.line).collect::<Vec<_>>(),
            [2, 8, 16]
        );
        let index = diff("Users", "index UsersEmail", Some("(Email)"), None);
        assert!(a.entries[0].matches(Dialect::Mysql, &index));
        assert!(a.entries[0].matches(Dialect::Sqlite, &index));
        assert!(!a.entries[0].matches(Dialect::Sqlite, &diff("Users", "index Other", None, None)));
        assert!(!a.entries[0].matches(
            Dialect::Sqlite,
            &diff("Other", "index UsersEmail", None, None)
        ));
        let name = diff(
            "Packages",
            "column Name",
            Some("VARCHAR(255) NOT NULL"),
            Some("TEXT NOT NULL"),
        );
        assert!(a.entries[1].matches(Dialect::Sqlite, &name));
        assert!(!a.entries[1].matches(Dialect::Mysql, &name));
        let other_found = diff(
            "Packages",
            "column Name",
            Some("VARCHAR(255) NOT NULL"),
            Some("TEXT"),
        );
        assert!(!a.entries[1].matches(Dialect::Sqlite, &other_found));
        // `(none)`: that side has no such object.
        assert!(a.entries[2].matches(
            Dialect::Mysql,
            &diff("Bans", "index BansIP", Some("(IP)"), None)
        ));
        assert!(!a.entries[2].matches(
            Dialect::Mysql,
            &diff("Bans", "index BansIP", Some("(IP)"), Some("(IP, x)"))
        ));

        // Splitting: accepted with the reason and the entry's line; the rest stays open; an
        // entry that matched nothing for a dialect is stale there.
        let mut used = vec![false; 3];
        let other = diff("Users", "column Email", Some("a"), Some("b"));
        let (open, accepted) = a.split(
            Dialect::Sqlite,
            vec![index.clone(), other.clone()],
            &mut used,
        );
        assert_eq!(open, vec![other]);
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted[0].reason, "only the models declare it");
        assert_eq!(accepted[0].entry, "a.toml:2");
        assert_eq!(used, [true, false, false]);
        let stale = a.stale(Dialect::Sqlite, &used);
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].table, "a.toml:8");
        assert!(stale[0].object.contains("stale"));
        // The MySQL entry is not stale on SQLite.
        assert!(a.stale(Dialect::Sqlite, &[true, true, false]).is_empty());
    }

    #[test]
    fn a_missing_reason_an_unknown_key_or_dialect_is_an_error_at_its_line() {
        let reasonless =
            "\n[[difference]]\ndialect = \"both\"\ntable = \"T\"\nobject = \"index I\"\n";
        let e = errors(reasonless);
        assert_eq!(e.len(), 1);
        assert!(
            e[0].starts_with("schema/accepted-differences.toml:2: [[difference]] without reason"),
            "{e:?}"
        );
        let blank = "[[difference]]\ndialect = \"both\"\ntable = \"T\"\nobject = \"index I\"\nreason = \" \"\n";
        assert!(errors(blank)[0].contains(":1: [[difference]] without reason"));
        let unknown = "[[difference]]\ndialect = \"both\"\ntable = \"T\"\nobject = \"index I\"\nreason = \"r\"\nwhy = \"x\"\n";
        let e = errors(unknown);
        assert!(
            e[0].starts_with("schema/accepted-differences.toml:6: unknown field `why`"),
            "{e:?}"
        );
        let dialect = "[[difference]]\ndialect = \"postgres\"\ntable = \"T\"\nobject = \"index I\"\nreason = \"r\"\n";
        assert!(errors(dialect)[0].contains(":1: dialect \"postgres\""));
        let twice = "[[difference]]\ndialect = \"both\"\ntable = \"T\"\nobject = \"o\"\nreason = \"r\"\n[[difference]]\ndialect = \"mysql\"\ntable = \"T\"\nobject = \"o\"\nreason = \"r\"\n";
        assert!(errors(twice)[0].contains(":6: the same difference as the entry at line 1"));
        assert!(parse(Path::new("a"), "").unwrap().entries.is_empty());
    }

    #[test]
    fn contrib_aurweb_lists_the_deliberate_differences_each_with_a_reason() {
        let text = include_str!("../../contrib/aurweb/accepted-differences.toml");
        let a = parse(Path::new("accepted-differences.toml"), text).unwrap();
        assert!(a.entries.len() > 20, "{}", a.entries.len());
        assert!(a
            .entries
            .iter()
            .all(|e| e.reason.contains("schema/README.md item")));
        let has = |table: &str, object: &str| {
            a.entries
                .iter()
                .any(|e| e.table == table && e.object == object)
        };
        assert!(has("PackageBases", "index BasesPopularityName"));
        assert!(has("ApiRateLimit", "unique (IP)"));
        assert!(has("Users", "column Homepage"));
    }
}
