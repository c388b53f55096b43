//! `new`: the next migration file(s) in a directory, beside the file scanner whose names and
//! versions it follows ([`source::scan_dir`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::source;

/// `add users table!` → `add_users_table`.
pub fn slugify(description: &str) -> String {
    let mut slug = String::new();
    // Letters beyond ASCII are transliterated (`Ünïcode` → `unicode`, `Straße` → `strasse`)
    // rather than dropped.
    let ascii = deunicode::deunicode(description);
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('_') && !slug.is_empty() {
            slug.push('_');
        }
    }
    while slug.ends_with('_') {
        slug.pop();
    }
    slug
}

/// The next version for a directory: the UTC timestamp `YYYYMMDDHHMMSS`, or, in a directory
/// that numbers with short zero-padded sequence numbers, the next of those. Always above every
/// existing version.
pub fn next_version(existing: &[(u64, String)], now_utc: &str) -> String {
    let max = existing.iter().map(|e| e.0).max();
    let sequential = !existing.is_empty()
        && existing.iter().all(|(_, text)| text.len() < 14)
        && existing.iter().any(|(_, text)| text.starts_with('0'));
    if sequential {
        let width = existing.iter().map(|e| e.1.len()).max().unwrap_or(4);
        return format!("{:0width$}", max.unwrap_or(0) + 1);
    }
    let stamp: String = now_utc
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect();
    let stamp_num: u64 = stamp.parse().unwrap_or(0);
    match max {
        Some(m) if m >= stamp_num => (m + 1).to_string(),
        _ => stamp,
    }
}

/// The slug of `description` and the next version of `dir` (created when missing): the name
/// parts of a new migration.
pub fn next_name(dir: &Path, description: &str) -> Result<(String, String)> {
    let slug = slugify(description);
    if slug.is_empty() {
        return Err(Error::NoNameInDescription {
            description: description.to_string(),
        });
    }
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|error| Error::CannotCreate {
            path: dir.to_path_buf(),
            error,
        })?;
    }
    let existing: Vec<(u64, String)> = source::scan_dir(dir)?
        .into_iter()
        .map(|(n, _)| (n.version, n.version_text))
        .collect();
    Ok((next_version(&existing, &crate::history::now_utc()), slug))
}

/// Writes the migration file (and its reverse with `reversible`), one per dialect when
/// `dialects` are given, and returns their paths. Never overwrites a file.
pub fn new_migration(
    dir: &Path,
    description: &str,
    reversible: bool,
    dialects: &[Dialect],
) -> Result<Vec<PathBuf>> {
    let (version, slug) = next_name(dir, description)?;
    let mut dialects = dialects.to_vec();
    dialects.sort();
    dialects.dedup();
    let variants: Vec<Option<Dialect>> = if dialects.is_empty() {
        vec![None]
    } else {
        dialects.into_iter().map(Some).collect()
    };
    let mut files = Vec::new();
    for d in &variants {
        let suffix = d.map(|d| format!(".{d}")).unwrap_or_default();
        files.push((
            dir.join(format!("{version}_{slug}{suffix}.sql")),
            format!("-- {description}\n--\n{}\n", header_for(*d)),
        ));
        if reversible {
            files.push((
                dir.join(format!("{version}_{slug}.down{suffix}.sql")),
                format!("-- revert: {description}\n\n"),
            ));
        }
    }
    write_new(files)
}

/// What the header of a new forward file says about how it runs: on SQLite (and in a portable
/// file, which SQLite runs as well) one transaction with its history row; on MySQL/MariaDB only
/// while the file holds no statement that commits implicitly.
fn header_for(dialect: Option<Dialect>) -> &'static str {
    match dialect {
        Some(Dialect::Mysql) => {
            "-- Statements end with `;`; a trigger or routine body goes between `DELIMITER //` and\n\
             -- `DELIMITER ;` lines. MySQL/MariaDB commit DDL (CREATE, ALTER, DROP, RENAME,\n\
             -- TRUNCATE) implicitly, so a file holding any runs in steps: each DDL statement alone,\n\
             -- the statements between them as one transaction with the progress row, and a failure\n\
             -- leaves the earlier steps committed (`status -v` and `upgrade --dry-run` show the\n\
             -- steps). A file of data statements only runs in one transaction with its history row.\n"
        }
        Some(Dialect::Sqlite) | None => {
            "-- Statements end with `;`. The file runs in one transaction with its history row\n\
             -- (SQLite; on MySQL/MariaDB a file holding DDL runs in steps, since DDL commits there);\n\
             -- to run it outside one, start the file with the line `-- aurweb-migrate: no-transaction`.\n"
        }
    }
}

/// Creates each file (never overwriting one); on a failure the ones already created are
/// removed again, so that nothing is left half-written.
pub fn write_new(files: Vec<(PathBuf, String)>) -> Result<Vec<PathBuf>> {
    let mut written: Vec<PathBuf> = Vec::new();
    for (path, text) in files {
        let opened = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|error| Error::CannotCreate {
                path: path.clone(),
                error,
            });
        let result = opened.and_then(|mut f| {
            f.write_all(text.as_bytes()).map_err(|error| {
                // Created here, so it goes again.
                let _ = std::fs::remove_file(&path);
                Error::CannotWrite {
                    path: path.clone(),
                    error,
                }
            })
        });
        if let Err(e) = result {
            for p in &written {
                let _ = std::fs::remove_file(p);
            }
            return Err(e);
        }
        written.push(path);
    }
    Ok(written)
}

/// Replaces a file's contents atomically (a sibling temporary file renamed over it), creating
/// its directory when missing.
pub fn replace(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        std::fs::create_dir_all(dir).map_err(|error| Error::CannotCreate {
            path: dir.to_path_buf(),
            error,
        })?;
    }
    let tmp = path.with_extension("sql.aurweb-migrate-tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|error| {
            let _ = std::fs::remove_file(&tmp);
            Error::CannotWrite {
                path: path.to_path_buf(),
                error,
            }
        })
}

/// The newest version of a migrations directory, with its files and their text (`new
/// --autogenerate --redo` replaces them).
pub struct Newest {
    pub version: u64,
    /// The version as the file names spell it (`0003`).
    pub version_text: String,
    /// Each file's parsed name, path and text.
    pub files: Vec<(source::FileName, PathBuf, String)>,
    /// The version before it, if any.
    pub previous: Option<u64>,
}

/// The newest version in `dir`; `None` when it holds no migration.
pub fn newest(dir: &Path) -> Result<Option<Newest>> {
    let names = source::scan_dir(dir)?;
    let Some(version) = names.iter().map(|(n, _)| n.version).max() else {
        return Ok(None);
    };
    let previous = names
        .iter()
        .map(|(n, _)| n.version)
        .filter(|v| *v < version)
        .max();
    let mut files = Vec::new();
    let mut version_text = String::new();
    for (n, name) in names.into_iter().filter(|(n, _)| n.version == version) {
        let path = dir.join(&name);
        let text = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| String::from_utf8(b).map_err(|_| "not UTF-8".to_string()))
            .map_err(|message| Error::Unreadable {
                what: "migration file ",
                path: path.clone(),
                message,
            })?;
        version_text = n.version_text.clone();
        files.push((n, path, text));
    }
    Ok(Some(Newest {
        version,
        version_text,
        files,
        previous,
    }))
}

/// Puts `new` in the place of `old` (`new --autogenerate --redo`): every new file written to
/// a temporary sibling first, then each renamed into place, then the old files that are not
/// among the new ones removed. Returns the paths written.
pub fn swap(old: &[PathBuf], new: Vec<(PathBuf, String)>) -> Result<Vec<PathBuf>> {
    let tmp = |p: &Path| p.with_extension("sql.aurweb-migrate-tmp");
    let mut staged: Vec<&PathBuf> = Vec::new();
    for (path, text) in &new {
        if let Err(error) = std::fs::write(tmp(path), text) {
            for p in staged.iter().copied().chain([path]) {
                let _ = std::fs::remove_file(tmp(p));
            }
            return Err(Error::CannotWrite {
                path: path.clone(),
                error,
            });
        }
        staged.push(path);
    }
    for (path, _) in &new {
        std::fs::rename(tmp(path), path).map_err(|error| Error::CannotWrite {
            path: path.clone(),
            error,
        })?;
    }
    for path in old.iter().filter(|p| !new.iter().any(|(n, _)| n == *p)) {
        std::fs::remove_file(path).map_err(|error| Error::CannotWrite {
            path: path.clone(),
            error,
        })?;
    }
    Ok(new.into_iter().map(|(p, _)| p).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("add foo index"), "add_foo_index");
        assert_eq!(slugify("Add Users table!"), "add_users_table");
        assert_eq!(slugify("  --x--y  "), "x_y");
        assert_eq!(slugify("ÄÖ"), "ao");
        assert_eq!(slugify("Ünïcode names"), "unicode_names");
        assert_eq!(slugify("Straße"), "strasse");
        assert_eq!(slugify("— …"), "");
    }

    #[test]
    fn versions() {
        let now = "2026-11-26T15:04:05.123Z";
        assert_eq!(next_version(&[], now), "20261126150405");
        let seq = vec![(1, "0001".to_string()), (2, "0002".to_string())];
        assert_eq!(next_version(&seq, now), "0003");
        let ts = vec![(20240101120000, "20240101120000".to_string())];
        assert_eq!(next_version(&ts, now), "20261126150405");
        let future = vec![(20991231235959, "20991231235959".to_string())];
        assert_eq!(next_version(&future, now), "20991231235960");
        let plain = vec![(1, "1".to_string()), (2, "2".to_string())];
        assert_eq!(next_version(&plain, now), "20261126150405");
    }
}
