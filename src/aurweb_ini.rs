//! aurweb's own INI config (`/etc/aurweb/config` and its `.defaults`), read the way aurweb
//! reads it, for the `[database]` section only: the last layer of [`crate::config`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::io_message;
use crate::target::{DatabaseTarget, MysqlTarget, Password};
use crate::{Error, Result};

// ---------------------------------------------------------------------------------------------
// aurweb's INI config.
//
// aurweb reads its config with Python's `configparser.RawConfigParser` (identity optionxform).
// This is a small parser with the same rules, written instead of using rust-ini 0.21 because
// rust-ini cannot be configured to match them:
// - in rust-ini a `\` at the end of a value joins the next line into it even with escapes
//   disabled, so `password = ab\` followed by `name = aur` yields the password `abname = aur`;
//   RawConfigParser keeps the backslash and reads `name` as its own key;
// - rust-ini reads an indented `; comment` line as a key named `; comment` and rejects a comment
//   after a section header, where RawConfigParser skips the former and ignores the latter;
// - rust-ini drops indented continuation lines, which RawConfigParser appends to the value.
//
// The rules implemented (those of RawConfigParser with default arguments):
// - a line whose first non-blank character is `#` or `;` is a comment, wherever it is indented;
//   there are no inline comments (`password = a;b #c` is the value `a;b #c`);
// - no interpolation and no escapes: values are taken literally, `%` and `\` included;
// - `[NAME]` opens a section; `KEY = VALUE` or `KEY : VALUE` (split at the first `=` or `:`)
//   sets a key; key and value are stripped of surrounding whitespace; keys are case-sensitive;
// - a line indented deeper than its key's line continues that key's value (joined with `\n`);
//   blank lines inside such a value are kept, trailing ones dropped;
// - a key before any section, a line that is neither, or the same section or key twice in one
//   file is an error (RawConfigParser's strict mode); across the two files the later one wins;
// - keys of the `[DEFAULT]` section apply to every section that lacks them.
// ---------------------------------------------------------------------------------------------

/// One value and where it was set.
#[derive(Debug, Clone)]
struct IniValue {
    value: String,
    path: PathBuf,
    line: usize,
}

impl IniValue {
    fn at(&self) -> String {
        format!("{}:{}", self.path.display(), self.line)
    }
}

/// A key being read, whose value may continue on deeper-indented lines.
struct PendingKey {
    section: String,
    key: String,
    lines: Vec<String>,
    /// Where the key is set, and how deep its line is indented.
    line: usize,
    indent: usize,
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
        let err = |line: usize, msg: String| {
            Error::Usage(format!("{}:{}: {}", path.display(), line, msg))
        };
        let mut seen_sections: Vec<String> = Vec::new();
        let mut seen_keys: Vec<(String, String)> = Vec::new();
        let mut section: Option<String> = None;
        let mut current: Option<PendingKey> = None;
        let mut finished: Vec<PendingKey> = Vec::new();

        for (index, raw) in text.lines().enumerate() {
            let lineno = index + 1;
            let stripped = raw.trim();
            if stripped.starts_with('#') || stripped.starts_with(';') {
                continue;
            }
            if stripped.is_empty() {
                if let Some(key) = &mut current {
                    key.lines.push(String::new());
                }
                continue;
            }
            let indent = raw.len() - raw.trim_start().len();
            if let Some(key) = &mut current {
                if indent > key.indent {
                    key.lines.push(stripped.to_string());
                    continue;
                }
            }
            finished.extend(current.take());
            if stripped.starts_with('[') && stripped.len() > 2 {
                if let Some(close) = stripped.rfind(']').filter(|&i| i > 1) {
                    let name = stripped[1..close].to_string();
                    if seen_sections.contains(&name) {
                        return Err(err(lineno, format!("section [{name}] appears twice")));
                    }
                    seen_sections.push(name.clone());
                    section = Some(name);
                    continue;
                }
            }
            let Some(sec) = &section else {
                return Err(err(lineno, "a key before the first [section]".into()));
            };
            let Some(delim) = stripped.find(['=', ':']) else {
                return Err(err(lineno, "expected KEY = VALUE or [SECTION]".into()));
            };
            let key = stripped[..delim].trim_end().to_string();
            if key.is_empty() {
                return Err(err(lineno, "missing key before \"=\"".into()));
            }
            if seen_keys.contains(&(sec.clone(), key.clone())) {
                return Err(err(
                    lineno,
                    format!("key \"{key}\" appears twice in section [{sec}]"),
                ));
            }
            seen_keys.push((sec.clone(), key.clone()));
            current = Some(PendingKey {
                section: sec.clone(),
                key,
                lines: vec![stripped[delim + 1..].trim().to_string()],
                line: lineno,
                indent,
            });
        }
        finished.extend(current.take());
        for name in seen_sections {
            self.sections.entry(name).or_default();
        }
        for key in finished {
            let value = key.lines.join("\n").trim_end().to_string();
            self.sections.entry(key.section).or_default().insert(
                key.key,
                IniValue {
                    value,
                    path: path.to_path_buf(),
                    line: key.line,
                },
            );
        }
        Ok(())
    }
}

fn read_ini_file(ini: &mut Ini, path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::Usage(format!(
            "cannot read aurweb config {}: {}",
            path.display(),
            io_message(&e)
        ))
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::Usage(format!("{}: not valid UTF-8", path.display())))?;
    ini.read(&text, path)
}

/// The database named by aurweb's config: `defaults` (when it exists) overridden by `path`.
pub(crate) fn aur_database(path: &Path, defaults: &Path, cwd: &Path) -> Result<DatabaseTarget> {
    let mut ini = Ini::default();
    if defaults.is_file() {
        read_ini_file(&mut ini, defaults)?;
    }
    read_ini_file(&mut ini, path)?;
    let files = if defaults.is_file() {
        format!("{} (with {})", path.display(), defaults.display())
    } else {
        path.display().to_string()
    };
    if !ini.sections.contains_key("database") {
        return Err(Error::Usage(format!("{files}: no [database] section")));
    }
    let get = |key: &str| ini.get("database", key);
    let required = |key: &str| {
        get(key)
            .filter(|v| !v.value.is_empty())
            .ok_or_else(|| Error::Usage(format!("{files}: [database] has no \"{key}\"")))
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
                        return Err(Error::Usage(format!(
                            "{}: invalid port \"{}\" (expected 1-65535)",
                            p.at(),
                            p.value
                        )))
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
        other => Err(Error::Usage(format!(
            "{}: unknown database backend \"{other}\" (expected mysql or sqlite)",
            backend.at()
        ))),
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
