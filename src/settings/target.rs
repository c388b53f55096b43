//! The database a command works on: [`DatabaseTarget`] parsed from a URL
//! (`sqlite://PATH`, `mysql://USER[:PASS]@HOST[:PORT]/DB[?socket=…]`), shown only redacted,
//! with its [`Password`] that never prints. A leaf: it depends only on the error type.

use std::fmt;
#[cfg(test)]
use std::path::Path;
use std::path::PathBuf;

use crate::dialect::Dialect;
use crate::error::{Error, Result};

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

/// How a MySQL connection uses TLS (`ssl-mode=` in the URL, `ssl_mode` in the TOML file), as
/// the `mariadb`/`mysql` clients name the modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Never: plain text.
    Disabled,
    /// TLS when the server offers it, else plain text.
    Preferred,
    /// TLS, not verified: a server without TLS is refused.
    Required,
    /// TLS with a certificate signed by a trusted CA (`ssl-ca`, else the bundled roots).
    VerifyCa,
    /// As `verify-ca`, and the certificate names the host connected to.
    VerifyIdentity,
}

impl SslMode {
    pub const NAMES: [&'static str; 5] = [
        "disabled",
        "preferred",
        "required",
        "verify-ca",
        "verify-identity",
    ];

    pub fn parse(s: &str) -> Option<SslMode> {
        Some(match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "disabled" => SslMode::Disabled,
            "preferred" => SslMode::Preferred,
            "required" => SslMode::Required,
            "verify-ca" => SslMode::VerifyCa,
            "verify-identity" => SslMode::VerifyIdentity,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disabled => "disabled",
            SslMode::Preferred => "preferred",
            SslMode::Required => "required",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyIdentity => "verify-identity",
        }
    }

    /// The mode when none is given: a unix socket or a loopback host needs no TLS (`preferred`:
    /// used when the server offers it); any other host is reached over a network, where the
    /// server must prove who it is (`verify-identity`).
    pub fn default_for(host: &str, socket: bool) -> SslMode {
        if socket || is_loopback(host) {
            SslMode::Preferred
        } else {
            SslMode::VerifyIdentity
        }
    }
}

/// `localhost`, 127.0.0.0/8, `::1`.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The TLS settings of a MySQL target; `mode: None` means [`SslMode::default_for`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tls {
    pub mode: Option<SslMode>,
    /// CA certificate(s) to verify the server with (PEM).
    pub ca: Option<PathBuf>,
    /// Client certificate and key (PEM), for an account created `REQUIRE X509`.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
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
    /// Boxed: most targets have none, and the enums that carry a target stay small.
    pub tls: Box<Tls>,
}

impl MysqlTarget {
    /// The TLS mode in effect: the one given, else the default for the host.
    pub fn ssl_mode(&self) -> SslMode {
        self.tls
            .mode
            .unwrap_or_else(|| SslMode::default_for(&self.host, self.socket.is_some()))
    }
}

/// The database to migrate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    Sqlite { path: PathBuf },
    Mysql(MysqlTarget),
}

/// `@HOST[:PORT]/DB` of a MySQL URL (an IPv6 host in brackets, the database name encoded).
fn host_port_database(m: &MysqlTarget) -> String {
    let host = if m.host.contains(':') {
        format!("[{}]", m.host)
    } else {
        m.host.clone()
    };
    let port = m.port.map(|p| format!(":{p}")).unwrap_or_default();
    format!("@{host}{port}/{}", percent_encode(&m.database, ""))
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
    /// Errors are [`Error::InvalidUrl`] showing the URL with any password replaced by `***`.
    pub fn parse_url(url: &str) -> Result<Self> {
        let fail = |why: &str| Error::InvalidUrl {
            context: None,
            url: redact_url(url),
            why: why.to_string(),
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
                let mut tls = Tls::default();
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
                        "ssl-mode" => {
                            tls.mode = Some(SslMode::parse(value).ok_or_else(|| {
                                fail(&format!(
                                    "unknown ssl-mode \"{value}\" (one of {})",
                                    SslMode::NAMES.join(", ")
                                ))
                            })?);
                        }
                        "ssl-ca" | "ssl-cert" | "ssl-key" => {
                            let value = percent_decode(value)
                                .filter(|v| !v.is_empty())
                                .ok_or_else(|| fail(&format!("{key} needs a file path")))?;
                            let slot = match key {
                                "ssl-ca" => &mut tls.ca,
                                "ssl-cert" => &mut tls.cert,
                                _ => &mut tls.key,
                            };
                            *slot = Some(PathBuf::from(value));
                        }
                        _ => {
                            return Err(fail(&format!(
                                "unknown parameter \"{key}\" (the parameters are socket, ssl-mode, ssl-ca, ssl-cert and ssl-key)"
                            )))
                        }
                    }
                }
                if socket.is_some() && port.is_some() {
                    return Err(fail("give either a port or a socket, not both"));
                }
                if tls.cert.is_some() != tls.key.is_some() {
                    return Err(fail("ssl-cert and ssl-key go together"));
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
                    tls: Box::new(tls),
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

    /// The URL with its password, for a child process's environment only (never printed):
    /// `sqlite://PATH`, or `mysql://USER[:PASS]@HOST[:PORT]/DB[?socket=PATH]`.
    pub fn url_with_password(&self) -> String {
        match self {
            DatabaseTarget::Sqlite { path } => format!("sqlite://{}", path.display()),
            DatabaseTarget::Mysql(m) => {
                let mut s = format!("mysql://{}", percent_encode(&m.user, ""));
                if let Some(p) = &m.password {
                    s.push(':');
                    s.push_str(&percent_encode(p.expose(), ""));
                }
                s.push_str(&host_port_database(m));
                if let Some(socket) = &m.socket {
                    s.push_str(&format!(
                        "?socket={}",
                        percent_encode(&socket.to_string_lossy(), "/")
                    ));
                }
                s
            }
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
                s.push_str(&host_port_database(m));
                let mut params: Vec<String> = Vec::new();
                if let Some(socket) = &m.socket {
                    params.push(format!(
                        "socket={}",
                        percent_encode(&socket.to_string_lossy(), "/")
                    ));
                }
                if let Some(mode) = m.tls.mode {
                    params.push(format!("ssl-mode={}", mode.name()));
                }
                for (key, path) in [
                    ("ssl-ca", &m.tls.ca),
                    ("ssl-cert", &m.tls.cert),
                    ("ssl-key", &m.tls.key),
                ] {
                    if let Some(p) = path {
                        params.push(format!(
                            "{key}={}",
                            percent_encode(&p.to_string_lossy(), "/")
                        ));
                    }
                }
                if !params.is_empty() {
                    s.push('?');
                    s.push_str(&params.join("&"));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn mysql(url: &str) -> MysqlTarget {
        match DatabaseTarget::parse_url(url) {
            Ok(DatabaseTarget::Mysql(m)) => m,
            other => panic!("{url}: {other:?}"),
        }
    }

    #[test]
    fn tls_default_policy_by_where_the_server_is() {
        // A socket or a loopback host: TLS when offered.
        assert_eq!(SslMode::default_for("db.example", true), SslMode::Preferred);
        for host in ["localhost", "LOCALHOST", "127.0.0.1", "127.3.2.1", "::1"] {
            assert_eq!(
                SslMode::default_for(host, false),
                SslMode::Preferred,
                "{host}"
            );
        }
        // Anything else is over a network: the server must prove its name.
        for host in [
            "db.example",
            "10.0.0.5",
            "192.168.1.2",
            "2001:db8::1",
            "localhost.example",
        ] {
            assert_eq!(
                SslMode::default_for(host, false),
                SslMode::VerifyIdentity,
                "{host}"
            );
        }
        assert_eq!(
            mysql("mysql://u@db.example/aur").ssl_mode(),
            SslMode::VerifyIdentity
        );
        assert_eq!(
            mysql("mysql://u@127.0.0.1:3306/aur").ssl_mode(),
            SslMode::Preferred
        );
        assert_eq!(
            mysql("mysql://u@localhost/aur?socket=/run/mysqld/mysqld.sock").ssl_mode(),
            SslMode::Preferred
        );
        // Given explicitly, it is what counts.
        assert_eq!(
            mysql("mysql://u@db.example/aur?ssl-mode=disabled").ssl_mode(),
            SslMode::Disabled
        );
    }

    #[test]
    fn tls_parameters_parse_and_show() {
        let m = mysql(
            "mysql://u:pw@db.example/aur?ssl-mode=verify-ca&ssl-ca=/etc/ca.pem&ssl-cert=/c.pem&ssl-key=/k%20x.pem",
        );
        assert_eq!(m.tls.mode, Some(SslMode::VerifyCa));
        assert_eq!(m.tls.ca.as_deref(), Some(Path::new("/etc/ca.pem")));
        assert_eq!(m.tls.key.as_deref(), Some(Path::new("/k x.pem")));
        let shown = DatabaseTarget::Mysql(m).redacted();
        assert_eq!(
            shown,
            "mysql://u:***@db.example/aur?ssl-mode=verify-ca&ssl-ca=/etc/ca.pem&ssl-cert=/c.pem&ssl-key=/k%20x.pem"
        );
        for (url, says) in [
            (
                "mysql://u@h/aur?ssl-mode=maybe",
                "unknown ssl-mode \"maybe\"",
            ),
            (
                "mysql://u@h/aur?ssl-cert=/c.pem",
                "ssl-cert and ssl-key go together",
            ),
            ("mysql://u@h/aur?ssl-ca=", "ssl-ca needs a file path"),
            (
                "mysql://u@h/aur?sslmode=required",
                "unknown parameter \"sslmode\"",
            ),
        ] {
            let e = DatabaseTarget::parse_url(url).unwrap_err().to_string();
            assert!(e.contains(says), "{url}: {e}");
        }
    }
}
