//! aurweb's own INI config (`/etc/aurweb/config` and its `.defaults`), read the way aurweb
//! reads it, for the `[database]` section only: the last layer of [`crate::settings`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::io_message;
use crate::error::{Error, InputError, Result};
use crate::settings::ini_doc::Doc;
use crate::settings::target::{DatabaseTarget, MysqlTarget, Password};

// aurweb's INI config is read with [`crate::settings::ini_doc`], which follows Python's
// `configparser.RawConfigParser` (see there for the rules). rust-ini was not used because it
// cannot be configured to match them: it joins a line ending in `\` with the next even with
// escapes off, reads an indented `; comment` as a key, rejects a comment after a section
// header, and drops indented continuation lines. Across the two files the later one wins per
// key, and keys of `[DEFAULT]` apply to every section that lacks them.

/// One value and where it was set.
#[derive(Debug, Clone)]
struct IniValue {
    value: String,
    path: PathBuf,
    line: usize,
}

/// Sections of one or more INI files, later files overriding earlier ones per key.
#[derive(Debug, Default)]
pub(crate) struct Ini {
    sections: HashMap<String, HashMap<String, IniValue>>,
}

impl Ini {
    fn get(&self, section: &str, key: &str) -> Option<&IniValue> {
        self.sections
            .get(section)
            .and_then(|s| s.get(key))
            .or_else(|| self.sections.get("DEFAULT").and_then(|s| s.get(key)))
    }

    /// Reads `text` (from `path`) on top of what was read so far.
    fn read(&mut self, text: &str, path: &Path) -> Result<()> {
        let doc = Doc::parse(text).map_err(|e| {
            Error::Syntax(InputError {
                path: path.to_path_buf(),
                line: Some(e.line as u32),
                message: e.message,
            })
        })?;
        for section in doc.sections() {
            let values = self.sections.entry(section.name.clone()).or_default();
            for e in &section.entries {
                values.insert(
                    e.key.clone(),
                    IniValue {
                        value: e.value.clone(),
                        path: path.to_path_buf(),
                        line: e.first + 1,
                    },
                );
            }
        }
        Ok(())
    }
}

fn read_ini_file(ini: &mut Ini, path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::Unreadable {
        what: "aurweb config ",
        path: path.to_path_buf(),
        message: io_message(&e),
    })?;
    let text = String::from_utf8(bytes).map_err(|_| Error::NotUtf8 {
        path: path.to_path_buf(),
    })?;
    ini.read(&text, path)
}

/// The database named by aurweb's config: `defaults` (when it exists) overridden by `path`.
pub(crate) fn aur_database(path: &Path, defaults: &Path, cwd: &Path) -> Result<DatabaseTarget> {
    let mut ini = Ini::default();
    if defaults.is_file() {
        read_ini_file(&mut ini, defaults)?;
    }
    read_ini_file(&mut ini, path)?;
    let defaults = defaults.is_file().then(|| defaults.to_path_buf());
    if !ini.sections.contains_key("database") {
        return Err(Error::NoDatabaseSection {
            path: path.to_path_buf(),
            defaults,
        });
    }
    let get = |key: &str| ini.get("database", key);
    let required = |key: &'static str| {
        get(key)
            .filter(|v| !v.value.is_empty())
            .ok_or_else(|| Error::MissingDatabaseKey {
                path: path.to_path_buf(),
                defaults: defaults.clone(),
                key,
            })
    };
    let backend = required("backend")?;
    match backend.value.as_str() {
        "sqlite" => Ok(DatabaseTarget::Sqlite {
            path: cwd.join(&required("name")?.value),
        }),
        "mysql" => {
            let name = required("name")?;
            let user = required("user")?;
            let host = get("host")
                .map(|v| v.value.clone())
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "localhost".to_string());
            let port = match get("port").filter(|v| !v.value.is_empty()) {
                None => None,
                Some(p) => match p.value.parse::<u16>() {
                    Ok(n) if n > 0 => Some(n),
                    _ => {
                        return Err(Error::BadPort {
                            path: p.path.clone(),
                            line: p.line,
                            value: p.value.clone(),
                        })
                    }
                },
            };
            // As aurweb: the socket is used only when no port is set.
            let socket = match port {
                Some(_) => None,
                None => get("socket")
                    .filter(|v| !v.value.is_empty())
                    .map(|v| PathBuf::from(&v.value)),
            };
            Ok(DatabaseTarget::Mysql(MysqlTarget {
                host,
                port,
                socket,
                user: user.value.clone(),
                password: get("password").and_then(|v| Password::non_empty(v.value.clone())),
                database: name.value.clone(),
                // aurweb's config has no TLS settings: the TOML file's, or the default.
                tls: Default::default(),
            }))
        }
        other => Err(Error::UnknownBackend {
            path: backend.path.clone(),
            line: backend.line,
            value: other.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(r: Result<()>) -> String {
        match r {
            Ok(()) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn ini_parser_follows_raw_config_parser() {
        let mut ini = Ini::default();
        ini.read(
            "# top\n[DEFAULT]\nuser = fallback\n[database] ; trailing\n  ; indented comment\n\
             Name = Case\nname = multi\n    line\n\n    value\n\n\tnot = continuation?\n[empty]\n",
            Path::new("f"),
        )
        .unwrap();
        assert_eq!(ini.get("database", "Name").unwrap().value, "Case");
        assert_eq!(
            ini.get("database", "name").unwrap().value,
            "multi\nline\n\nvalue\n\nnot = continuation?"
        );
        assert_eq!(ini.get("database", "user").unwrap().value, "fallback");
        assert!(ini.get("database", "; indented comment").is_none());
        assert!(ini.sections.contains_key("empty"));

        for (text, want) in [
            ("key = x\n", "f:1: a key before the first [section]"),
            (
                "[a]\nk = 1\nk = 2\n",
                "f:3: key \"k\" appears twice in section [a]",
            ),
            ("[a]\n[a]\n", "f:2: section [a] appears twice"),
            ("[a]\njunk\n", "f:2: expected KEY = VALUE or [SECTION]"),
            ("[a]\n= v\n", "f:2: missing key before \"=\""),
        ] {
            let msg = usage(Ini::default().read(text, Path::new("f")));
            assert_eq!(msg, want, "{text:?}");
        }
    }
}
