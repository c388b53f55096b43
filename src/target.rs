//! The database a command works on: [`DatabaseTarget`] parsed from a URL
//! (`sqlite://PATH`, `mysql://USER[:PASS]@HOST[:PORT]/DB[?socket=…]`), shown only redacted,
//! with its [`Password`] that never prints. A leaf: it depends only on the error type.

use std::fmt;
use std::path::PathBuf;

use crate::{Dialect, Error, Result};

/// A password that never prints: Debug and Display show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(s: impl Into<String>) -> Self {
        Password(s.into())
    }

    /// `None` for an empty password: `password =` in an INI file or `USER:@HOST` in a URL
    /// means no password at all, as for `mariadb --password=` (a server account without a
    /// password refuses a login that sends an empty one).
    pub fn non_empty(s: impl Into<String>) -> Option<Self> {
        let s = s.into();
        (!s.is_empty()).then_some(Password(s))
    }

    /// The secret itself, for handing to the database driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A MySQL/MariaDB server and database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MysqlTarget {
    pub host: String,
    /// TCP port; `None` means the driver's default (3306) unless `socket` is set.
    pub port: Option<u16>,
    /// Unix socket; never set together with `port`.
    pub socket: Option<PathBuf>,
    pub user: String,
    pub password: Option<Password>,
    pub database: String,
}

/// The database to migrate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    Sqlite { path: PathBuf },
    Mysql(MysqlTarget),
}

impl DatabaseTarget {
    /// Parses a database URL:
    /// - `sqlite://PATH` (so `sqlite:///abs/x.db` is `/abs/x.db` and `sqlite://rel.db` is
    ///   relative) or `sqlite:PATH`; the path is taken literally (no query, no percent-decoding);
    /// - `mysql://USER[:PASS]@HOST[:PORT]/DB[?socket=/path]`, with `mariadb://` as a synonym.
    ///   User, password, database name and socket are percent-decoded. The user part ends at the
    ///   *last* `@`, so a password may contain `@`, `/`, `:` or `?` unencoded (but `%` must be
    ///   written `%25`). `HOST` may be empty (meaning `localhost`) or a bracketed IPv6 address.
    ///
    /// Errors are [`Error::Usage`] showing the URL with any password replaced by `***`.
    pub fn parse_url(url: &str) -> Result<Self> {
        let fail = |why: &str| {
            Error::Usage(format!(
                "invalid database URL \"{}\": {why}",
                redact_url(url)
            ))
        };
        let Some((scheme, rest)) = url.split_once(':') else {
            return Err(fail(
                "expected sqlite://PATH or mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE",
            ));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => {
                let path = rest.strip_prefix("//").unwrap_or(rest);
                if path.is_empty() {
                    return Err(fail("missing database file path"));
                }
                Ok(DatabaseTarget::Sqlite {
                    path: PathBuf::from(path),
                })
            }
            "mysql" | "mariadb" => {
                let rest = rest
                    .strip_prefix("//")
                    .ok_or_else(|| fail("expected mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"))?;
                let (userinfo, hostpart) = rest
                    .rsplit_once('@')
                    .ok_or_else(|| fail("missing user name (USER@HOST)"))?;
                let (user, password) = match userinfo.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (userinfo, None),
                };
                let user = percent_decode(user)
                    .ok_or_else(|| fail("invalid percent-encoding in the user name"))?;
                if user.is_empty() {
                    return Err(fail("missing user name (USER@HOST)"));
                }
                let password = match password {
                    Some(p) => Password::non_empty(
                        percent_decode(p)
                            .ok_or_else(|| fail("invalid percent-encoding in the password"))?,
                    ),
                    None => None,
                };
                let (hostport, path) = hostpart
                    .split_once('/')
                    .ok_or_else(|| fail("missing database name (/DATABASE)"))?;
                let (host, port) = split_host_port(hostport).map_err(|why| fail(&why))?;
                let (db, query) = match path.split_once('?') {
                    Some((d, q)) => (d, Some(q)),
                    None => (path, None),
                };
                let database = percent_decode(db)
                    .ok_or_else(|| fail("invalid percent-encoding in the database name"))?;
                if database.is_empty() {
                    return Err(fail("missing database name (/DATABASE)"));
                }
                if database.contains('/') {
                    return Err(fail("a database name cannot contain \"/\""));
                }
                let mut socket = None;
                for pair in query.into_iter().flat_map(|q| q.split('&')) {
                    if pair.is_empty() {
                        continue;
                    }
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    match key {
                        "socket" => {
                            let value = percent_decode(value)
                                .ok_or_else(|| fail("invalid percent-encoding in the socket"))?;
                            if value.is_empty() {
                                return Err(fail("empty socket path"));
                            }
                            socket = Some(PathBuf::from(value));
                        }
                        _ => {
                            return Err(fail(&format!(
                                "unknown parameter \"{key}\" (only \"socket\" is supported)"
                            )))
                        }
                    }
                }
                if socket.is_some() && port.is_some() {
                    return Err(fail("give either a port or a socket, not both"));
                }
                Ok(DatabaseTarget::Mysql(MysqlTarget {
                    host: if host.is_empty() {
                        "localhost".to_string()
                    } else {
                        host
                    },
                    port,
                    socket,
                    user,
                    password,
                    database,
                }))
            }
            _ => Err(fail(&format!(
                "unknown scheme \"{scheme}\" (expected sqlite, mysql or mariadb)"
            ))),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            DatabaseTarget::Sqlite { .. } => Dialect::Sqlite,
            DatabaseTarget::Mysql(_) => Dialect::Mysql,
        }
    }

    /// The target as a URL with the password shown as `***` (safe to print anywhere).
    pub fn redacted(&self) -> String {
        match self {
            DatabaseTarget::Sqlite { path } => format!("sqlite://{}", path.display()),
            DatabaseTarget::Mysql(m) => {
                let mut s = format!("mysql://{}", percent_encode(&m.user, ""));
                if m.password.is_some() {
                    s.push_str(":***");
                }
                s.push('@');
                if m.host.contains(':') {
                    s.push_str(&format!("[{}]", m.host));
                } else {
                    s.push_str(&m.host);
                }
                if let Some(port) = m.port {
                    s.push_str(&format!(":{port}"));
                }
                s.push('/');
                s.push_str(&percent_encode(&m.database, ""));
                if let Some(socket) = &m.socket {
                    s.push_str("?socket=");
                    s.push_str(&percent_encode(&socket.to_string_lossy(), "/"));
                }
                s
            }
        }
    }
}

/// Hides whatever lies between the first `:` of the user part and the last `@` of a raw URL
/// (the same split [`DatabaseTarget::parse_url`] uses), for error messages about URLs that did
/// not parse.
fn redact_url(url: &str) -> String {
    // After the scheme, also when its slashes are mistyped (`mysql:/root:pw@…`): the user
    // stays visible so the typo shows, only the password goes.
    let start = match (url.find("://"), url.find(':')) {
        (Some(i), _) => i + 3,
        (None, Some(i)) if url[i + 1..].starts_with('/') => {
            i + 1 + url[i + 1..].bytes().take_while(|&b| b == b'/').count()
        }
        _ => 0,
    };
    let after = &url[start..];
    if let Some(at) = after.rfind('@') {
        if let Some(colon) = after[..at].find(':') {
            return format!("{}{}:***{}", &url[..start], &after[..colon], &after[at..]);
        }
    }
    url.to_string()
}

fn split_host_port(hostport: &str) -> std::result::Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("unclosed \"[\" in the host")?;
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err("unexpected text after the IPv6 address".into()),
            },
        }
    } else {
        match hostport.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(format!("invalid port \"{p}\" (expected 1-65535)")),
        },
    };
    Ok((host.to_string(), port))
}

/// Decodes `%XX` sequences; `None` if one is malformed or the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Encodes everything but RFC 3986 unreserved characters and those in `keep`.
fn percent_encode(s: &str, keep: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.as_bytes().contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
