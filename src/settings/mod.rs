//! Resolution of the tool's settings. Each setting is taken from the first layer that gives it:
//! 1. command-line flags ([`Overrides`]);
//! 2. the environment (`AURWEB_MIGRATE_DATABASE_URL`, then `DATABASE_URL`; database URL only);
//! 3. a TOML file (`--config FILE`, which must exist, else `./aurweb-migrate.toml` when present);
//! 4. aurweb's own INI config (`--aur-config FILE`, else the file named by `AUR_CONFIG`), for the
//!    database only, read with Python `RawConfigParser` semantics and its `.defaults` companion;
//! 5. built-in defaults (`sqlite://aurweb.sqlite3` in the working directory; `./migrations`).
//!
//! The migrations and schema embedded in the binary ([`crate::source::embedded`]) are used only
//! when asked for: `--migrations builtin` or `migrations = "builtin"`, or, with nothing
//! configured and no `./migrations`, where aurweb's own config names the database (or a
//! `config` command migrates aurweb's site config). Anywhere else a missing `./migrations` is
//! an error naming where the tool looked ([`Settings::migrations_to_read`]).
//!
//! Every resolved value records its [`Origin`] so `status -v` can say where it came from.
//! Relative paths are made absolute here: paths from flags, the environment and defaults against
//! the working directory, paths inside the TOML file against that file's directory, and a relative
//! SQLite `name` in aurweb's config against the working directory (as aurweb itself does).
//! Passwords are wrapped in [`Password`] and never printed; URLs are shown with
//! [`DatabaseTarget::redacted`]. Bad configuration is an error of kind `usage` (exit 2; its
//! variants are in error.rs's settings block) naming the file, and the line where one is known.

pub(crate) mod aurweb_ini;
pub(crate) mod ini_doc;
pub mod target;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::dialect::Dialect;
use crate::error::io_message;
use crate::error::{Error, InputError, Result};
use crate::settings::aurweb_ini::aur_database;
pub use crate::settings::target::{DatabaseTarget, MysqlTarget, Password, SslMode};
use crate::source::Location;

/// Environment variables consulted for the database URL, in order.
const URL_ENV_VARS: [&str; 2] = ["AURWEB_MIGRATE_DATABASE_URL", "DATABASE_URL"];
/// The TOML file looked for in the working directory when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "aurweb-migrate.toml";
/// The database used when nothing else names one.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://aurweb.sqlite3";
/// The default version-table name.
pub use crate::history::DEFAULT_TABLE;
const DEFAULT_LOCK_TIMEOUT: u64 = 60;
const DEFAULT_CONNECT_TIMEOUT: u64 = 10;
/// `--ddl-lock-wait`: seconds a DDL statement waits for its metadata lock (MySQL/MariaDB).
pub const DEFAULT_DDL_LOCK_WAIT: u64 = 5;

/// Where a setting's value came from (shown by `status -v`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag.
    Flag,
    /// The named environment variable.
    Env(&'static str),
    /// The TOML config file at this path.
    ConfigFile(PathBuf),
    /// aurweb's INI config at this path (the main file, even when a key came from `.defaults`).
    AurConfig(PathBuf),
    /// The built-in default.
    Default,
    /// The built-in default, for the reason given (`./migrations not found`).
    DefaultBecause(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag => f.write_str("command line"),
            Origin::Env(name) => write!(f, "environment variable {name}"),
            Origin::ConfigFile(path) => write!(f, "config file {}", path.display()),
            Origin::AurConfig(path) => write!(f, "aurweb config {}", path.display()),
            Origin::Default => f.write_str("default"),
            Origin::DefaultBecause(why) => write!(f, "default: {why}"),
        }
    }
}

/// A resolved value and where it came from.
#[derive(Debug, Clone)]
pub struct Setting<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Setting<T> {
    fn new(value: T, origin: Origin) -> Self {
        Setting { value, origin }
    }
}

/// What the command line gave (None = not given). The CLI fills this; the core never sees clap.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub database_url: Option<String>,
    pub migrations: Option<PathBuf>,
    pub schema: Option<PathBuf>,
    pub table: Option<String>,
    /// Seconds.
    pub lock_timeout: Option<u64>,
    /// Seconds.
    pub connect_timeout: Option<u64>,
    /// Seconds; 0 turns it off.
    pub statement_timeout: Option<u64>,
    /// Seconds; 0 turns it off.
    pub ddl_lock_wait: Option<u64>,
    /// `--max-algorithm`, `--max-lock` (any case).
    pub max_algorithm: Option<String>,
    pub max_lock: Option<String>,
    /// `-c/--config`.
    pub config: Option<PathBuf>,
    /// `--aur-config`.
    pub aur_config: Option<PathBuf>,
    /// `--schema-command CMD` (split into words as a shell would, without expansions).
    pub schema_command: Option<String>,
    /// `--schema-command-timeout SECS`.
    pub schema_command_timeout: Option<u64>,
}

/// Every resolved setting.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database: Setting<DatabaseTarget>,
    /// Default `./migrations` (relative to the working directory); the migrations built into
    /// the binary when asked for (`builtin`), or where aurweb's config names the database and
    /// `./migrations` does not exist. Read it through [`Settings::migrations_to_read`].
    pub migrations: Setting<Location>,
    /// Set when no migrations were configured and `./migrations` did not exist (the setting is
    /// then `./migrations` all the same, for `new` to create): reading them is an error.
    pub unconfigured: Option<Unconfigured>,
    /// Default: the `schema` directory beside the migrations directory in use, or the embedded
    /// schema with the embedded migrations (never a directory on disk: the two travel together).
    pub schema: Setting<Location>,
    /// Default `aurweb_migrations`.
    pub table: Setting<String>,
    /// Default 60 s.
    pub lock_timeout: Setting<Duration>,
    /// Default 10 s.
    pub connect_timeout: Setting<Duration>,
    /// `--statement-timeout`: cancel a statement that runs longer (MySQL). Default off (`None`).
    pub statement_timeout: Setting<Option<Duration>>,
    /// `--ddl-lock-wait`: how long each DDL statement waits for its metadata lock before it
    /// is retried (MySQL). Default 5 s; `None` (0): as long as any statement, no retry.
    pub ddl_lock_wait: Setting<Option<Duration>>,
    /// `--max-algorithm`, `--max-lock` (uppercase; MySQL/MariaDB): the DDL plan's gates.
    /// Default none.
    pub max_algorithm: Setting<Option<String>>,
    pub max_lock: Setting<Option<String>>,
    /// `schema_command`: a command that builds the desired schema in an empty scratch
    /// database; when set, it replaces `schema/` as the desired side. Default none.
    pub schema_command: Setting<Option<Vec<String>>>,
    /// How long the schema command may run. Default 300 s.
    pub schema_command_timeout: Setting<Duration>,
    /// aurweb's INI config in use, when one is configured (`--aur-config`, `AUR_CONFIG`), and
    /// its defaults file: the schema command's `AUR_CONFIG` keeps their other sections.
    pub aur_config: Option<(PathBuf, PathBuf)>,
    /// Warnings to print on stderr, e.g. a password given inside a --database-url flag is
    /// visible to other users of the machine.
    pub warnings: Vec<String>,
}

/// The value of `--migrations` and the TOML key `migrations` that names the set built into the
/// binary (aurweb's migrations and schema); a directory of that name is written `./builtin`.
pub const BUILTIN: &str = "builtin";

/// Where the tool looked for migrations when none were configured and `./migrations` did not
/// exist: what [`Settings::migrations_to_read`] says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unconfigured {
    /// The `./migrations` that does not exist.
    pub dir: PathBuf,
    /// The TOML file that was read (and names no `migrations`), if any.
    pub config: Option<PathBuf>,
    /// `./aurweb-migrate.toml`, looked for when no `--config` was given.
    pub default_config: PathBuf,
}

impl Settings {
    /// The migrations to read: the setting, or, when none was configured and `./migrations`
    /// does not exist, the error that says where the tool looked and how to go on (exit 2).
    /// The set built into the binary is never read unless asked for.
    pub fn migrations_to_read(&self) -> Result<&Location> {
        match &self.unconfigured {
            None => Ok(&self.migrations.value),
            Some(u) if u.dir.symlink_metadata().is_ok() => Ok(&self.migrations.value),
            Some(u) => Err(Error::NoMigrationsDirectory {
                dir: u.dir.clone(),
                config: match &u.config {
                    Some(path) => format!("{} names none", path.display()),
                    None => format!("there is no {}", u.default_config.display()),
                },
            }),
        }
    }

    /// `config` commands migrate the file they name, aurweb's site config: with no migrations
    /// configured and no `./migrations`, that is asking for aurweb's migrations, the set
    /// built into the binary (no database is opened).
    pub fn builtin_for_site_config(&mut self) {
        if self.unconfigured.is_some() && self.migrations_to_read().is_err() {
            self.unconfigured = None;
            self.migrations = Setting::new(
                Location::Embedded,
                Origin::DefaultBecause(
                    "./migrations not found, and the file is aurweb's site config".to_string(),
                ),
            );
            if self.schema.origin == Origin::Default {
                self.schema = Setting::new(
                    Location::Embedded,
                    Origin::DefaultBecause("goes with the embedded migrations".to_string()),
                );
            }
        }
    }
}

/// `builtin` (`None`), else the directory `value` relative to `base`. `builtin` while a
/// directory of that name exists is an error: which was meant cannot be told.
fn builtin_or_dir(value: &Path, base: &Path, place: &str) -> Result<Option<Location>> {
    if value.as_os_str() != BUILTIN {
        return Ok(Some(Location::Dir(base.join(value))));
    }
    let dir = base.join(BUILTIN);
    if dir.symlink_metadata().is_ok() {
        return Err(Error::BuiltinIsADirectory {
            place: place.to_string(),
            dir,
        });
    }
    Ok(None)
}

/// The TOML file's keys.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<toml::Spanned<String>>,
    migrations: Option<PathBuf>,
    schema: Option<PathBuf>,
    table: Option<toml::Spanned<String>>,
    lock_timeout: Option<u64>,
    connect_timeout: Option<toml::Spanned<u64>>,
    statement_timeout: Option<u64>,
    ddl_lock_wait: Option<u64>,
    max_algorithm: Option<toml::Spanned<String>>,
    max_lock: Option<toml::Spanned<String>>,
    password_file: Option<PathBuf>,
    schema_command: Option<toml::Spanned<Vec<String>>>,
    schema_command_timeout: Option<u64>,
    /// TLS for MySQL, as the URL's `ssl-mode`, `ssl-ca`, `ssl-cert`, `ssl-key` (which win).
    #[serde(alias = "ssl-mode")]
    ssl_mode: Option<toml::Spanned<String>>,
    #[serde(alias = "ssl-ca")]
    ssl_ca: Option<PathBuf>,
    #[serde(alias = "ssl-cert")]
    ssl_cert: Option<PathBuf>,
    #[serde(alias = "ssl-key")]
    ssl_key: Option<PathBuf>,
    /// Output options are per invocation, not settings: named here only to say so.
    format: Option<toml::Spanned<toml::Value>>,
    log_format: Option<toml::Spanned<toml::Value>>,
    verbose: Option<toml::Spanned<toml::Value>>,
    quiet: Option<toml::Spanned<toml::Value>>,
}

/// The TOML keys the file takes (docs/reference.md, "The TOML file").
pub const FILE_KEYS: &[&str] = &[
    "database_url",
    "password_file",
    "migrations",
    "schema",
    "table",
    "lock_timeout",
    "connect_timeout",
    "statement_timeout",
    "ddl_lock_wait",
    "max_algorithm",
    "max_lock",
    "schema_command",
    "schema_command_timeout",
    "ssl_mode",
    "ssl_ca",
    "ssl_cert",
    "ssl_key",
];

/// What is said of a key the file does not take: the key, the accepted key closest to it
/// when one is close enough to be a slip, and the accepted keys.
fn unknown_key(key: &str) -> String {
    let suggestion = closest_key(key)
        .map(|k| format!("; did you mean `{k}`?"))
        .unwrap_or_else(|| ";".to_string());
    format!(
        "unknown key `{key}`{suggestion} accepted keys: {}",
        FILE_KEYS.join(", ")
    )
}

/// The accepted key closest to `key` (case, `-` for `_`, a few letters off, or one beginning
/// with it), if one is close enough.
fn closest_key(key: &str) -> Option<&'static str> {
    let typed = key.to_ascii_lowercase().replace('-', "_");
    FILE_KEYS
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&typed, k), *k))
        .filter(|(distance, k)| {
            *distance <= (k.len() / 4).max(2)
                || (typed.len() >= 4 && (k.starts_with(&typed) || typed.starts_with(k)))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

/// A TOML file that was read, with what is needed to point at its lines.
struct LoadedFile {
    path: PathBuf,
    dir: PathBuf,
    text: String,
    config: FileConfig,
}

impl LoadedFile {
    fn line(&self, offset: usize) -> usize {
        line_of(&self.text, offset)
    }

    fn origin(&self) -> Origin {
        Origin::ConfigFile(self.path.clone())
    }
}

/// The 1-based line of byte `offset` in `text` (for TOML spans).
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The environment variable that names the schema command (as `--schema-command` does).
pub const SCHEMA_COMMAND_ENV: &str = "AURWEB_MIGRATE_SCHEMA_COMMAND";

/// How long the schema command may run by default, in seconds.
pub const DEFAULT_SCHEMA_COMMAND_TIMEOUT: u64 = 300;

/// A command line split into words as a POSIX shell splits them, with single and double
/// quotes and backslash escapes but no expansions (the program is run directly).
pub fn split_command(line: &str) -> std::result::Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut started = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                started = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("a single quote is not closed".into()),
                    }
                }
            }
            '"' => {
                started = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("a double quote is not closed".into()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("a double quote is not closed".into()),
                    }
                }
            }
            '\\' => {
                started = true;
                if let Some(c) = chars.next() {
                    word.push(c);
                }
            }
            c if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            c => {
                started = true;
                word.push(c);
            }
        }
    }
    if started {
        words.push(word);
    }
    if words.first().is_none_or(|w| w.is_empty()) {
        return Err("it names no program".into());
    }
    Ok(words)
}

/// Looks an environment variable up, treating an empty value as unset.
fn env_var(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.is_empty())
}

/// Resolve every setting. `env` looks up an environment variable (injected for tests); `cwd` is
/// the working directory used for `./aurweb-migrate.toml` and relative defaults.
pub fn resolve(
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
    cwd: &Path,
) -> Result<Settings> {
    let mut warnings = Vec::new();
    let file = load_toml(overrides, cwd)?;

    // Database.
    let mut database = None;
    if let Some(url) = &overrides.database_url {
        let target = DatabaseTarget::parse_url(url).map_err(|e| prefix("--database-url", e))?;
        if let DatabaseTarget::Mysql(MysqlTarget {
            password: Some(p), ..
        }) = &target
        {
            if !p.expose().is_empty() {
                warnings.push(
                    "the password in --database-url is visible to other users of this machine; \
                     set AURWEB_MIGRATE_DATABASE_URL or use the config file's database_url or \
                     password_file instead"
                        .to_string(),
                );
            }
        }
        database = Some(Setting::new(absolutize(target, cwd), Origin::Flag));
    }
    if database.is_none() {
        for name in URL_ENV_VARS {
            if let Some(url) = env_var(env, name) {
                let target = DatabaseTarget::parse_url(&url)
                    .map_err(|e| prefix(&format!("environment variable {name}"), e))?;
                database = Some(Setting::new(absolutize(target, cwd), Origin::Env(name)));
                break;
            }
        }
    }
    if database.is_none() {
        if let Some(f) = &file {
            if let Some(url) = &f.config.database_url {
                let target = DatabaseTarget::parse_url(url.get_ref()).map_err(|e| {
                    prefix(
                        &format!("{}:{}", f.path.display(), f.line(url.span().start)),
                        e,
                    )
                })?;
                database = Some(Setting::new(absolutize(target, &f.dir), f.origin()));
            }
        }
    }
    let aur_config = overrides
        .aur_config
        .clone()
        .or_else(|| env_var(env, "AUR_CONFIG").map(PathBuf::from));
    let aur_config_files = aur_config.as_ref().map(|path| {
        let path = cwd.join(path);
        let defaults = env_var(env, "AUR_CONFIG_DEFAULTS")
            .map(|d| cwd.join(d))
            .unwrap_or_else(|| {
                let mut s = path.clone().into_os_string();
                s.push(".defaults");
                PathBuf::from(s)
            });
        (path, defaults)
    });
    match (&database, &overrides.aur_config) {
        // With a schema command, the file still gives the command's AUR_CONFIG its sections.
        (Some(db), Some(path))
            if overrides.schema_command.is_none()
                && env_var(env, SCHEMA_COMMAND_ENV).is_none()
                && file
                    .as_ref()
                    .is_none_or(|f| f.config.schema_command.is_none()) =>
        {
            warnings.push(format!(
                "--aur-config {} is ignored because the database comes from the {}",
                path.display(),
                db.origin
            ))
        }
        (None, _) => {
            if let Some(path) = aur_config {
                let path = cwd.join(path);
                let defaults = env_var(env, "AUR_CONFIG_DEFAULTS")
                    .map(|d| cwd.join(d))
                    .unwrap_or_else(|| {
                        let mut s = path.clone().into_os_string();
                        s.push(".defaults");
                        PathBuf::from(s)
                    });
                let target = aur_database(&path, &defaults, cwd)?;
                database = Some(Setting::new(target, Origin::AurConfig(path)));
            }
        }
        _ => {}
    }
    let mut database = match database {
        Some(db) => db,
        None => Setting::new(
            absolutize(DatabaseTarget::parse_url(DEFAULT_DATABASE_URL)?, cwd),
            Origin::Default,
        ),
    };

    // password_file fills in a MySQL password missing from a URL (not from aurweb's INI).
    if let Some(f) = &file {
        if let Some(pw_file) = &f.config.password_file {
            let pw_path = f.dir.join(pw_file);
            let from_ini = matches!(database.origin, Origin::AurConfig(_));
            if let DatabaseTarget::Mysql(m) = &mut database.value {
                if m.password.is_some() {
                    warnings.push(format!(
                        "password_file in {} is ignored because the database URL from the {} \
                         already has a password",
                        f.path.display(),
                        database.origin
                    ));
                } else if !from_ini {
                    m.password = Some(read_password_file(&f.path, &pw_path)?);
                }
            }
        }
    }

    // TLS from the file fills in what the URL did not say (paths are relative to the file).
    if let (Some(f), DatabaseTarget::Mysql(m)) = (&file, &mut database.value) {
        let c = &f.config;
        if m.tls.mode.is_none() {
            if let Some(mode) = &c.ssl_mode {
                let parsed = SslMode::parse(mode.get_ref()).ok_or_else(|| Error::BadSslMode {
                    path: f.path.clone(),
                    line: f.line(mode.span().start),
                    value: mode.get_ref().clone(),
                    expected: &SslMode::NAMES,
                })?;
                m.tls.mode = Some(parsed);
            }
        }
        for (slot, from_file) in [
            (&mut m.tls.ca, &c.ssl_ca),
            (&mut m.tls.cert, &c.ssl_cert),
            (&mut m.tls.key, &c.ssl_key),
        ] {
            if slot.is_none() {
                *slot = from_file.as_ref().map(|p| f.dir.join(p));
            }
        }
        if m.tls.cert.is_some() != m.tls.key.is_some() {
            return Err(Error::CertWithoutKey {
                path: f.path.clone(),
            });
        }
    }
    if let DatabaseTarget::Mysql(m) = &database.value {
        if let Some(key) = &m.tls.key {
            refuse_open_key(key)?;
        }
    }

    // Migrations and schema: a configured directory (which must exist: that is checked when it
    // is read) or `builtin`, else ./migrations when it exists (even as a broken link, which
    // then fails loudly). Without either, the set built into the binary only where aurweb's own
    // config names the database (the tool then works on aurweb's database); anywhere else
    // ./migrations stays the setting and reading it is an error ([`Settings::migrations_to_read`])
    // that says where it looked, while `new` creates it.
    let mut unconfigured = None;
    let migrations = if let Some(dir) = &overrides.migrations {
        match builtin_or_dir(dir, cwd, "--migrations")? {
            Some(location) => Setting::new(location, Origin::Flag),
            None => Setting::new(Location::Embedded, Origin::Flag),
        }
    } else if let Some((f, dir)) = file
        .as_ref()
        .and_then(|f| f.config.migrations.as_ref().map(|d| (f, d)))
    {
        let place = format!("{}: migrations", f.path.display());
        match builtin_or_dir(dir, &f.dir, &place)? {
            Some(location) => Setting::new(location, f.origin()),
            None => Setting::new(Location::Embedded, f.origin()),
        }
    } else {
        let dir = cwd.join("migrations");
        match (&database.origin, dir.symlink_metadata().is_ok()) {
            (_, true) => Setting::new(Location::Dir(dir), Origin::Default),
            (Origin::AurConfig(ini), false) => Setting::new(
                Location::Embedded,
                Origin::DefaultBecause(format!(
                    "./migrations not found, and the database comes from aurweb config {}",
                    ini.display()
                )),
            ),
            (_, false) => {
                unconfigured = Some(Unconfigured {
                    dir: dir.clone(),
                    config: file.as_ref().map(|f| f.path.clone()),
                    default_config: cwd.join(DEFAULT_CONFIG_FILE),
                });
                Setting::new(Location::Dir(dir), Origin::Default)
            }
        }
    };
    // A migration set and its schema travel together: with -m on the command line, a config
    // file's `schema` (written for its own `migrations`) does not apply.
    let schema = if let Some(dir) = &overrides.schema {
        Setting::new(Location::Dir(cwd.join(dir)), Origin::Flag)
    } else if let Some((f, dir)) = file
        .as_ref()
        .filter(|_| overrides.migrations.is_none())
        .and_then(|f| f.config.schema.as_ref().map(|d| (f, d)))
    {
        Setting::new(Location::Dir(f.dir.join(dir)), f.origin())
    } else {
        match &migrations.value {
            Location::Dir(dir) => Setting::new(Location::Dir(schema_beside(dir)), Origin::Default),
            Location::Embedded => Setting::new(
                Location::Embedded,
                Origin::DefaultBecause("goes with the embedded migrations".to_string()),
            ),
        }
    };

    // Version table.
    let table = if let Some(t) = &overrides.table {
        validate_table_name(t).map_err(|e| prefix("--table", e))?;
        Setting::new(t.clone(), Origin::Flag)
    } else if let Some((f, t)) = file
        .as_ref()
        .and_then(|f| f.config.table.as_ref().map(|t| (f, t)))
    {
        validate_table_name(t.get_ref()).map_err(|e| {
            prefix(
                &format!("{}:{}", f.path.display(), f.line(t.span().start)),
                e,
            )
        })?;
        Setting::new(t.get_ref().clone(), f.origin())
    } else {
        Setting::new(DEFAULT_TABLE.to_string(), Origin::Default)
    };

    // Timeouts.
    let lock_timeout = if let Some(s) = overrides.lock_timeout {
        Setting::new(Duration::from_secs(s), Origin::Flag)
    } else if let Some((f, s)) = file
        .as_ref()
        .and_then(|f| f.config.lock_timeout.map(|s| (f, s)))
    {
        Setting::new(Duration::from_secs(s), f.origin())
    } else {
        Setting::new(Duration::from_secs(DEFAULT_LOCK_TIMEOUT), Origin::Default)
    };
    let connect_timeout = if let Some(s) = overrides.connect_timeout {
        if s == 0 {
            return Err(Error::ZeroConnectTimeout);
        }
        Setting::new(Duration::from_secs(s), Origin::Flag)
    } else if let Some((f, s)) = file
        .as_ref()
        .and_then(|f| f.config.connect_timeout.as_ref().map(|s| (f, s)))
    {
        if *s.get_ref() == 0 {
            return Err(Error::ZeroConnectTimeoutInFile {
                path: f.path.clone(),
                line: f.line(s.span().start),
            });
        }
        Setting::new(Duration::from_secs(*s.get_ref()), f.origin())
    } else {
        Setting::new(
            Duration::from_secs(DEFAULT_CONNECT_TIMEOUT),
            Origin::Default,
        )
    };

    let off_if_zero = |s: u64| (s > 0).then(|| Duration::from_secs(s));
    let statement_timeout = if let Some(s) = overrides.statement_timeout {
        Setting::new(off_if_zero(s), Origin::Flag)
    } else if let Some((f, s)) = file
        .as_ref()
        .and_then(|f| f.config.statement_timeout.map(|s| (f, s)))
    {
        Setting::new(off_if_zero(s), f.origin())
    } else {
        Setting::new(None, Origin::Default)
    };
    if statement_timeout.value.is_some() && database.value.dialect() == Dialect::Sqlite {
        warnings.push(
            "--statement-timeout applies to MySQL/MariaDB only; it is ignored on SQLite".into(),
        );
    }

    let ddl_lock_wait = if let Some(s) = overrides.ddl_lock_wait {
        Setting::new(off_if_zero(s), Origin::Flag)
    } else if let Some((f, s)) = file
        .as_ref()
        .and_then(|f| f.config.ddl_lock_wait.map(|s| (f, s)))
    {
        Setting::new(off_if_zero(s), f.origin())
    } else {
        Setting::new(off_if_zero(DEFAULT_DDL_LOCK_WAIT), Origin::Default)
    };
    if ddl_lock_wait.origin != Origin::Default && database.value.dialect() == Dialect::Sqlite {
        warnings.push(
            "--ddl-lock-wait applies to MySQL/MariaDB only (SQLite has no metadata locks: its busy timeout, --lock-timeout, bounds its only wait); it is ignored on SQLite".into(),
        );
    }

    let max_algorithm = gate(
        "max-algorithm",
        &["INSTANT", "NOCOPY", "INPLACE", "COPY"],
        overrides.max_algorithm.as_deref(),
        file.as_ref()
            .and_then(|f| f.config.max_algorithm.as_ref().map(|v| (f, v))),
    )?;
    let max_lock = gate(
        "max-lock",
        &["NONE", "SHARED", "EXCLUSIVE"],
        overrides.max_lock.as_deref(),
        file.as_ref()
            .and_then(|f| f.config.max_lock.as_ref().map(|v| (f, v))),
    )?;
    if (max_algorithm.value.is_some() || max_lock.value.is_some())
        && database.value.dialect() == Dialect::Sqlite
    {
        warnings.push(
            "--max-algorithm and --max-lock apply to MySQL/MariaDB only (SQLite has no ALGORITHM or LOCK clause: the DDL plan is not applicable); they are ignored on SQLite".into(),
        );
    }

    let schema_command = if let Some(c) = &overrides.schema_command {
        Setting::new(
            Some(split_command(c).map_err(|m| Error::Usage(format!("--schema-command: {m}")))?),
            Origin::Flag,
        )
    } else if let Some(c) = env_var(env, SCHEMA_COMMAND_ENV) {
        Setting::new(
            Some(split_command(&c).map_err(|m| {
                Error::Usage(format!("environment variable {SCHEMA_COMMAND_ENV}: {m}"))
            })?),
            Origin::Env(SCHEMA_COMMAND_ENV),
        )
    } else if let Some((f, c)) = file
        .as_ref()
        .and_then(|f| f.config.schema_command.as_ref().map(|c| (f, c)))
    {
        if c.get_ref().is_empty() || c.get_ref()[0].is_empty() {
            return Err(Error::Usage(format!(
                "{}:{}: schema_command names no program",
                f.path.display(),
                f.line(c.span().start)
            )));
        }
        Setting::new(Some(c.get_ref().clone()), f.origin())
    } else {
        Setting::new(None, Origin::Default)
    };
    let schema_command_timeout = match (overrides.schema_command_timeout, &file) {
        (Some(0), _) => {
            return Err(Error::Usage(
                "--schema-command-timeout must be at least 1 second".into(),
            ))
        }
        (Some(s), _) => Setting::new(Duration::from_secs(s), Origin::Flag),
        (None, Some(f)) if f.config.schema_command_timeout.is_some() => {
            let s = f.config.schema_command_timeout.unwrap_or(0).max(1);
            Setting::new(Duration::from_secs(s), f.origin())
        }
        _ => Setting::new(
            Duration::from_secs(DEFAULT_SCHEMA_COMMAND_TIMEOUT),
            Origin::Default,
        ),
    };

    Ok(Settings {
        schema_command,
        schema_command_timeout,
        aur_config: aur_config_files,
        database,
        migrations,
        unconfigured,
        schema,
        table,
        lock_timeout,
        connect_timeout,
        statement_timeout,
        ddl_lock_wait,
        max_algorithm,
        max_lock,
        warnings,
    })
}

/// A DDL gate (`--max-algorithm`, `--max-lock`) from the flag or the file, uppercased and
/// checked against `allowed`.
fn gate(
    name: &'static str,
    allowed: &'static [&'static str],
    flag: Option<&str>,
    file: Option<(&LoadedFile, &toml::Spanned<String>)>,
) -> Result<Setting<Option<String>>> {
    let (value, origin, place) = match (flag, file) {
        (Some(v), _) => (v.to_string(), Origin::Flag, format!("--{name}")),
        (None, Some((f, v))) => (
            v.get_ref().clone(),
            f.origin(),
            format!(
                "{}:{}: {}",
                f.path.display(),
                f.line(v.span().start),
                name.replace('-', "_")
            ),
        ),
        (None, None) => return Ok(Setting::new(None, Origin::Default)),
    };
    let upper = value.to_ascii_uppercase();
    if !allowed.contains(&upper.as_str()) {
        return Err(Error::BadDdlGate {
            place,
            value,
            allowed: allowed.join(", ").to_lowercase(),
        });
    }
    Ok(Setting::new(Some(upper), origin))
}

/// The `schema` directory beside a migrations directory.
fn schema_beside(migrations: &Path) -> PathBuf {
    match (migrations.file_name(), migrations.parent()) {
        (Some(_), Some(parent)) => parent.join("schema"),
        _ => migrations.join("..").join("schema"),
    }
}

/// Says where a bad URL or table name came from (a flag, variable or `file:line`).
fn prefix(context: &str, mut err: Error) -> Error {
    if let Error::InvalidUrl { context: c, .. } | Error::InvalidTableName { context: c, .. } =
        &mut err
    {
        *c = Some(context.to_string());
    }
    err
}

/// Makes a relative SQLite path absolute against `base`.
fn absolutize(target: DatabaseTarget, base: &Path) -> DatabaseTarget {
    match target {
        DatabaseTarget::Sqlite { path } => DatabaseTarget::Sqlite {
            path: base.join(path),
        },
        other => other,
    }
}

/// Reads the TOML file named by `--config` (which must exist) or `./aurweb-migrate.toml` (when
/// present).
fn load_toml(overrides: &Overrides, cwd: &Path) -> Result<Option<LoadedFile>> {
    let path = match &overrides.config {
        Some(p) => cwd.join(p),
        None => {
            let p = cwd.join(DEFAULT_CONFIG_FILE);
            if !p.exists() {
                return Ok(None);
            }
            p
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|e| Error::Unreadable {
        what: "config file ",
        path: path.clone(),
        message: io_message(&e),
    })?;
    let config: FileConfig = toml::from_str(&text).map_err(|e| {
        let line = e.span().map(|span| line_of(&text, span.start) as u32);
        let mut message = e.message().trim_end().to_string();
        // serde's "unknown field `x`, expected one of …" lists every name it would take,
        // aliases and the flag-only ones included: said once, with the closest key.
        if let Some(key) = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(key, _)| key.to_string())
        {
            message = unknown_key(&key);
        }
        Error::Syntax(InputError {
            path: path.clone(),
            line,
            message,
        })
    })?;
    let per_invocation = [
        ("format", &config.format, "--format"),
        ("log_format", &config.log_format, "--log-format"),
        ("verbose", &config.verbose, "-v"),
        ("quiet", &config.quiet, "-q"),
    ];
    for (key, value, flag) in per_invocation {
        if let Some(v) = value {
            return Err(Error::NotAFileSetting {
                line: line_of(&text, v.span().start),
                path,
                key,
                flag,
            });
        }
    }
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| cwd.to_path_buf());
    Ok(Some(LoadedFile {
        path,
        dir,
        text,
        config,
    }))
}

/// A TLS client key must be readable by its owner only, as ssh insists for its keys.
fn refuse_open_key(key: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(key).map_err(|e| Error::UnreadableKey {
        path: key.to_path_buf(),
        message: io_message(&e),
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::OpenKey {
            path: key.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

fn read_password_file(config: &Path, path: &Path) -> Result<Password> {
    let content = std::fs::read_to_string(path).map_err(|e| Error::UnreadablePasswordFile {
        config: config.to_path_buf(),
        path: path.to_path_buf(),
        message: io_message(&e),
    })?;
    let password = content.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        return Err(Error::EmptyPasswordFile {
            config: config.to_path_buf(),
            path: path.to_path_buf(),
        });
    }
    Ok(Password::new(password))
}

/// Validates a version-table name: `[A-Za-z_][A-Za-z0-9_]{0,63}`.
pub fn validate_table_name(name: &str) -> Result<()> {
    crate::history::TableName::new(name).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::fs;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn run(o: &Overrides, env: &[(&str, &str)], cwd: &Path) -> Result<Settings> {
        resolve(o, &env_of(env), cwd)
    }

    fn usage(r: Result<impl fmt::Debug>) -> String {
        match r {
            Err(e) if e.kind() == "usage" => e.to_string(),
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    fn mysql(user: &str, pw: Option<&str>, host: &str, port: Option<u16>, db: &str) -> MysqlTarget {
        MysqlTarget {
            host: host.into(),
            port,
            socket: None,
            user: user.into(),
            password: pw.map(Password::new),
            database: db.into(),
            tls: Default::default(),
        }
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&p, text).unwrap();
        p
    }

    fn sqlite(p: impl Into<PathBuf>) -> DatabaseTarget {
        DatabaseTarget::Sqlite { path: p.into() }
    }

    #[test]
    fn parse_url_table() {
        let cases: Vec<(&str, DatabaseTarget)> = vec![
            ("sqlite:///abs/x.db", sqlite("/abs/x.db")),
            ("sqlite://rel.db", sqlite("rel.db")),
            ("sqlite://dir/rel.db", sqlite("dir/rel.db")),
            ("sqlite:rel.db", sqlite("rel.db")),
            ("sqlite:/abs/x.db", sqlite("/abs/x.db")),
            ("SQLITE://a%20b.db", sqlite("a%20b.db")),
            (
                "mysql://aur@localhost/AUR",
                DatabaseTarget::Mysql(mysql("aur", None, "localhost", None, "AUR")),
            ),
            (
                "mysql://aur:aur@db.example:3307/AUR",
                DatabaseTarget::Mysql(mysql("aur", Some("aur"), "db.example", Some(3307), "AUR")),
            ),
            (
                "mariadb://root:pw@127.0.0.1/aurweb",
                DatabaseTarget::Mysql(mysql("root", Some("pw"), "127.0.0.1", None, "aurweb")),
            ),
            (
                "mysql://u%40x:p%40ss%25w%3Ard@h/d%62",
                DatabaseTarget::Mysql(mysql("u@x", Some("p@ss%w:rd"), "h", None, "db")),
            ),
            // Unencoded special characters in the password: the user part ends at the last `@`.
            (
                "mysql://u:a/b@c?d:e@h/db",
                DatabaseTarget::Mysql(mysql("u", Some("a/b@c?d:e"), "h", None, "db")),
            ),
            (
                // An empty password is no password (as `mariadb --password=`).
                "mysql://u:@h/db",
                DatabaseTarget::Mysql(mysql("u", None, "h", None, "db")),
            ),
            (
                "mysql://u@[::1]:3306/db",
                DatabaseTarget::Mysql(mysql("u", None, "::1", Some(3306), "db")),
            ),
            (
                "mysql://aur@localhost/AUR?socket=/run/mysqld/mysqld.sock",
                DatabaseTarget::Mysql(MysqlTarget {
                    socket: Some("/run/mysqld/mysqld.sock".into()),
                    ..mysql("aur", None, "localhost", None, "AUR")
                }),
            ),
            (
                "mysql://aur@/AUR?socket=%2Frun%2Fm.sock",
                DatabaseTarget::Mysql(MysqlTarget {
                    socket: Some("/run/m.sock".into()),
                    ..mysql("aur", None, "localhost", None, "AUR")
                }),
            ),
        ];
        for (url, want) in cases {
            let got = DatabaseTarget::parse_url(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(got, want, "{url}");
            let dialect = if url.to_lowercase().starts_with("sqlite") {
                Dialect::Sqlite
            } else {
                Dialect::Mysql
            };
            assert_eq!(got.dialect(), dialect, "{url}");
        }
    }

    #[test]
    fn parse_url_errors_never_show_the_password() {
        let cases = [
            ("postgres://u:s3cret@h/db", "unknown scheme \"postgres\""),
            ("mysql://u:s3cret@h/", "missing database name"),
            ("mysql://u:s3cret@h", "missing database name"),
            ("mysql://u:s3cret@h:99999/db", "invalid port \"99999\""),
            ("mysql://u:s3cret@h:abc/db", "invalid port \"abc\""),
            ("mysql://u:s3cret@h:0/db", "invalid port \"0\""),
            ("mysql://:s3cret@h/db", "missing user name"),
            ("mysql://h/db", "missing user name"),
            (
                "mysql://u:s3cret%zz@h/db",
                "invalid percent-encoding in the password",
            ),
            (
                "mysql://u:s3cret@h/db?sslmode=x",
                "unknown parameter \"sslmode\"",
            ),
            (
                "mysql://u:s3cret@h:3306/db?socket=/s",
                "either a port or a socket",
            ),
            ("mysql:u:s3cret@h/db", "expected mysql://"),
            ("u:s3cret@h/db", "unknown scheme"),
            ("mysql:u:a//s3cret@h/db", "expected mysql://"),
            // A mistyped `//` keeps the user visible, so the typo shows.
            ("mysql:/root:s3cret@h/db", "\"mysql:/root:***@h/db\""),
            ("sqlite://", "missing database file path"),
            ("nonsense", "expected sqlite://PATH"),
        ];
        for (url, want) in cases {
            let msg = usage(DatabaseTarget::parse_url(url));
            assert!(msg.contains(want), "{url}: {msg}");
            assert!(!msg.contains("s3cret"), "{url}: {msg}");
            assert!(msg.starts_with("invalid database URL"), "{url}: {msg}");
        }
        let msg = usage(DatabaseTarget::parse_url("mysql://u:s3cret@h/"));
        assert!(msg.contains("\"mysql://u:***@h/\""), "{msg}");
    }

    #[test]
    fn redaction() {
        let t = DatabaseTarget::parse_url("mysql://aur:s3cret@db:3307/AUR").unwrap();
        assert_eq!(t.redacted(), "mysql://aur:***@db:3307/AUR");
        assert!(!format!("{t:?}").contains("s3cret"));
        let t = DatabaseTarget::parse_url("mariadb://a%20b@/my%2Fdb?socket=/run/m%20x.sock");
        // `/` in a database name is rejected.
        assert!(t.is_err());
        let t =
            DatabaseTarget::parse_url("mariadb://a%20b@/my%3Adb?socket=/run/m%20x.sock").unwrap();
        assert_eq!(
            t.redacted(),
            "mysql://a%20b@localhost/my%3Adb?socket=/run/m%20x.sock"
        );
        assert_eq!(DatabaseTarget::parse_url(&t.redacted()).unwrap(), t);
        let t = DatabaseTarget::parse_url("mysql://u@[::1]:3306/db").unwrap();
        assert_eq!(t.redacted(), "mysql://u@[::1]:3306/db");
        assert_eq!(sqlite("/abs/x.db").redacted(), "sqlite:///abs/x.db");
        assert_eq!(sqlite("rel.db").redacted(), "sqlite://rel.db");

        let p = Password::new("s3cret");
        assert_eq!(format!("{p}"), "***");
        assert_eq!(format!("{p:?}"), "***");
        assert_eq!(p.expose(), "s3cret");
    }

    #[test]
    fn origin_display() {
        assert_eq!(Origin::Flag.to_string(), "command line");
        assert_eq!(
            Origin::Env("DATABASE_URL").to_string(),
            "environment variable DATABASE_URL"
        );
        assert_eq!(
            Origin::ConfigFile("./aurweb-migrate.toml".into()).to_string(),
            "config file ./aurweb-migrate.toml"
        );
        assert_eq!(
            Origin::AurConfig("/etc/aurweb/config".into()).to_string(),
            "aurweb config /etc/aurweb/config"
        );
        assert_eq!(Origin::Default.to_string(), "default");
    }

    #[test]
    fn defaults() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        let s = run(&Overrides::default(), &[], cwd).unwrap();
        assert_eq!(s.database.value, sqlite(cwd.join("aurweb.sqlite3")));
        assert_eq!(s.database.origin, Origin::Default);
        // No ./migrations: still the setting (`new` creates it), but reading it is an error
        // that names where the tool looked; never the embedded set unasked.
        assert_eq!(s.migrations.value, Location::Dir(cwd.join("migrations")));
        assert_eq!(s.migrations.origin, Origin::Default);
        let msg = usage(s.migrations_to_read());
        assert!(
            msg.starts_with(&format!(
                "no migrations directory here: {} does not exist, and there is no {}; ",
                cwd.join("migrations").display(),
                cwd.join("aurweb-migrate.toml").display()
            )),
            "{msg}"
        );
        assert!(msg.contains("`aurweb-migrate new DESCRIPTION`"), "{msg}");
        assert!(msg.contains("`-m builtin`"), "{msg}");
        // Created since (by `new`): read.
        std::fs::create_dir(cwd.join("migrations")).unwrap();
        assert_eq!(
            s.migrations_to_read().unwrap(),
            &Location::Dir(cwd.join("migrations"))
        );
        // With ./migrations: that directory and the schema beside it.
        let s = run(&Overrides::default(), &[], cwd).unwrap();
        assert_eq!(s.migrations.value, Location::Dir(cwd.join("migrations")));
        assert_eq!(s.migrations.origin, Origin::Default);
        assert_eq!(s.unconfigured, None);
        assert_eq!(s.schema.value, Location::Dir(cwd.join("schema")));
        assert_eq!(s.schema.origin, Origin::Default);
        assert_eq!(s.table.value, "aurweb_migrations");
        assert_eq!(s.lock_timeout.value, Duration::from_secs(60));
        assert_eq!(s.connect_timeout.value, Duration::from_secs(10));
        assert_eq!(s.ddl_lock_wait.value, Some(Duration::from_secs(5)));
        assert!(s.warnings.is_empty());
    }

    /// The set built into the binary only when asked for: `-m builtin`, `migrations =
    /// "builtin"`, aurweb's config naming the database, or a `config` command; a directory
    /// called `builtin` makes the word ambiguous.
    #[test]
    fn builtin_only_when_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        let builtin = Overrides {
            migrations: Some("builtin".into()),
            ..Default::default()
        };
        let s = run(&builtin, &[], cwd).unwrap();
        assert_eq!(s.migrations_to_read().unwrap(), &Location::Embedded);
        assert_eq!(s.migrations.origin, Origin::Flag);
        assert_eq!(s.schema.value, Location::Embedded);

        let toml = write(cwd, "aurweb-migrate.toml", "migrations = \"builtin\"\n");
        let s = run(&Overrides::default(), &[], cwd).unwrap();
        assert_eq!(s.migrations.value, Location::Embedded);
        assert_eq!(s.migrations.origin, Origin::ConfigFile(toml.clone()));

        // A config file that names no migrations is said to.
        write(cwd, "aurweb-migrate.toml", "table = \"t\"\n");
        let s = run(&Overrides::default(), &[], cwd).unwrap();
        let msg = usage(s.migrations_to_read());
        assert!(
            msg.contains(&format!(", and {} names none; ", toml.display())),
            "{msg}"
        );
        std::fs::remove_file(&toml).unwrap();

        // aurweb's config names the database: the built-in set, said why.
        write(
            cwd,
            "aur.ini",
            "[database]\nbackend = sqlite\nname = aur.db\n",
        );
        let s = run(&Overrides::default(), &[("AUR_CONFIG", "aur.ini")], cwd).unwrap();
        assert_eq!(s.migrations_to_read().unwrap(), &Location::Embedded);
        assert_eq!(
            s.migrations.origin.to_string(),
            format!(
                "default: ./migrations not found, and the database comes from aurweb config {}",
                cwd.join("aur.ini").display()
            )
        );
        // ... but not when the database comes from elsewhere.
        let s = run(
            &Overrides::default(),
            &[("AUR_CONFIG", "aur.ini"), ("DATABASE_URL", "sqlite://x.db")],
            cwd,
        )
        .unwrap();
        assert!(s.migrations_to_read().is_err());

        // A `config` command on aurweb's site config.
        let mut s = run(&Overrides::default(), &[], cwd).unwrap();
        s.builtin_for_site_config();
        assert_eq!(s.migrations_to_read().unwrap(), &Location::Embedded);
        assert_eq!(s.schema.value, Location::Embedded);

        // `builtin` beside a directory of that name: which is meant cannot be told.
        std::fs::create_dir(cwd.join("builtin")).unwrap();
        let msg = usage(run(&builtin, &[], cwd));
        assert!(
            msg.starts_with("--migrations: \"builtin\" names the migrations built into this binary, but there is also a directory "),
            "{msg}"
        );
        let o = Overrides {
            migrations: Some("./builtin".into()),
            ..Default::default()
        };
        let s = run(&o, &[], cwd).unwrap();
        assert_eq!(s.migrations.value, Location::Dir(cwd.join("./builtin")));
        write(cwd, "aurweb-migrate.toml", "migrations = \"builtin\"\n");
        let msg = usage(run(&Overrides::default(), &[], cwd));
        assert!(
            msg.contains("aurweb-migrate.toml: migrations: \"builtin\""),
            "{msg}"
        );
    }

    #[test]
    fn database_precedence_of_every_layer() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        write(
            cwd,
            "aurweb-migrate.toml",
            "database_url = \"sqlite://toml.db\"\n",
        );
        write(
            cwd,
            "aur/config",
            "[database]\nbackend = sqlite\nname = ini.db\n",
        );
        let flag = Overrides {
            database_url: Some("sqlite://flag.db".into()),
            ..Default::default()
        };
        let all_env = [
            ("AURWEB_MIGRATE_DATABASE_URL", "sqlite://amdu.db"),
            ("DATABASE_URL", "sqlite://du.db"),
            ("AUR_CONFIG", "aur/config"),
        ];
        let s = run(&flag, &all_env, cwd).unwrap();
        assert_eq!(s.database.value, sqlite(cwd.join("flag.db")));
        assert_eq!(s.database.origin, Origin::Flag);

        let none = Overrides::default();
        let s = run(&none, &all_env, cwd).unwrap();
        assert_eq!(s.database.value, sqlite(cwd.join("amdu.db")));
        assert_eq!(
            s.database.origin,
            Origin::Env("AURWEB_MIGRATE_DATABASE_URL")
        );

        let s = run(&none, &all_env[1..], cwd).unwrap();
        assert_eq!(s.database.value, sqlite(cwd.join("du.db")));
        assert_eq!(s.database.origin, Origin::Env("DATABASE_URL"));

        // An empty variable counts as unset.
        let s = run(
            &none,
            &[("AURWEB_MIGRATE_DATABASE_URL", ""), all_env[1]],
            cwd,
        )
        .unwrap();
        assert_eq!(s.database.origin, Origin::Env("DATABASE_URL"));

        let s = run(&none, &all_env[2..], cwd).unwrap();
        assert_eq!(s.database.value, sqlite(cwd.join("toml.db")));
        assert_eq!(
            s.database.origin,
            Origin::ConfigFile(cwd.join("aurweb-migrate.toml"))
        );

        fs::remove_file(cwd.join("aurweb-migrate.toml")).unwrap();
        let s = run(&none, &all_env[2..], cwd).unwrap();
        assert_eq!(s.database.value, sqlite(cwd.join("ini.db")));
        assert_eq!(s.database.origin, Origin::AurConfig(cwd.join("aur/config")));

        // --aur-config beats AUR_CONFIG.
        write(
            cwd,
            "other.ini",
            "[database]\nbackend = sqlite\nname = other.db\n",
        );
        let o = Overrides {
            aur_config: Some("other.ini".into()),
            ..Default::default()
        };
        let s = run(&o, &all_env[2..], cwd).unwrap();
        assert_eq!(s.database.value, sqlite(cwd.join("other.db")));

        let s = run(&none, &[], cwd).unwrap();
        assert_eq!(s.database.origin, Origin::Default);
    }

    #[test]
    fn layer_errors_name_their_source() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        let msg = usage(run(
            &Overrides::default(),
            &[("DATABASE_URL", "pg://u:pw@h/d")],
            cwd,
        ));
        assert!(
            msg.starts_with("environment variable DATABASE_URL: invalid database URL"),
            "{msg}"
        );
        let o = Overrides {
            database_url: Some("mysql://u@h".into()),
            ..Default::default()
        };
        assert!(usage(run(&o, &[], cwd)).starts_with("--database-url: "));
        let toml = write(
            cwd,
            "c.toml",
            "table = \"ok\"\n\ndatabase_url = \"mysql://u:pw@h:x/d\"\n",
        );
        let o = Overrides {
            config: Some("c.toml".into()),
            ..Default::default()
        };
        let msg = usage(run(&o, &[], cwd));
        assert!(
            msg.starts_with(&format!("{}:3: invalid database URL", toml.display())),
            "{msg}"
        );
        assert!(!msg.contains(":pw@"), "{msg}");
    }

    #[test]
    fn flag_password_warns() {
        let dir = tempfile::tempdir().unwrap();
        let o = Overrides {
            database_url: Some("mysql://aur:s3cret@localhost/AUR".into()),
            ..Default::default()
        };
        let s = run(&o, &[], dir.path()).unwrap();
        assert_eq!(s.warnings.len(), 1);
        let w = &s.warnings[0];
        assert!(w.contains("visible to other users"), "{w}");
        assert!(w.contains("AURWEB_MIGRATE_DATABASE_URL"), "{w}");
        assert!(w.contains("password_file"), "{w}");
        assert!(!w.contains("s3cret"));

        // No password in the flag, or the password in the environment: no warning.
        let o = Overrides {
            database_url: Some("mysql://aur@localhost/AUR".into()),
            ..Default::default()
        };
        assert!(run(&o, &[], dir.path()).unwrap().warnings.is_empty());
        let s = run(
            &Overrides::default(),
            &[("DATABASE_URL", "mysql://aur:s3cret@localhost/AUR")],
            dir.path(),
        )
        .unwrap();
        assert!(s.warnings.is_empty());
    }

    #[test]
    fn ignored_aur_config_flag_warns() {
        let dir = tempfile::tempdir().unwrap();
        let o = Overrides {
            aur_config: Some("/nonexistent/config".into()),
            ..Default::default()
        };
        let s = run(&o, &[("DATABASE_URL", "sqlite://x.db")], dir.path()).unwrap();
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        assert!(s.warnings[0].contains("--aur-config /nonexistent/config is ignored"));
    }

    #[test]
    fn an_unknown_key_is_matched_to_the_closest_accepted_one() {
        for (typed, meant) in [
            ("migration", Some("migrations")),
            ("tabel", Some("table")),
            ("lock-timeout", Some("lock_timeout")),
            ("Lock_Timeout", Some("lock_timeout")),
            ("timeout", None),
            ("database", Some("database_url")),
            ("password", Some("password_file")),
            ("ssl_mod", Some("ssl_mode")),
            ("host", None),
            ("frobnicate", None),
        ] {
            assert_eq!(closest_key(typed), meant, "{typed}");
        }
        assert_eq!(
            unknown_key("host"),
            format!(
                "unknown key `host`; accepted keys: {}",
                FILE_KEYS.join(", ")
            )
        );
    }

    #[test]
    fn toml_unknown_key_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "aurweb-migrate.toml",
            "# comment\ntable = \"t\"\ndatabse_url = \"sqlite://x\"\n",
        );
        let msg = usage(run(&Overrides::default(), &[], dir.path()));
        assert!(msg.starts_with(&format!("{}:3: ", p.display())), "{msg}");
        assert!(
            msg.contains("unknown key `databse_url`; did you mean `database_url`? accepted keys: database_url, "),
            "{msg}"
        );

        write(dir.path(), "aurweb-migrate.toml", "lock_timeout = -1\n");
        let msg = usage(run(&Overrides::default(), &[], dir.path()));
        assert!(msg.starts_with(&format!("{}:1: ", p.display())), "{msg}");

        write(dir.path(), "aurweb-migrate.toml", "table = \"bad-name\"\n");
        let msg = usage(run(&Overrides::default(), &[], dir.path()));
        assert!(
            msg.starts_with(&format!("{}:1: invalid table name", p.display())),
            "{msg}"
        );
    }

    #[test]
    fn the_schema_command_comes_from_the_flag_the_environment_or_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "aurweb-migrate.toml",
            "schema_command = [\"python\", \"-m\", \"aurweb.initdb\", \"--no-alembic\"]\nschema_command_timeout = 30\n",
        );
        let s = run(&Overrides::default(), &[], dir.path()).unwrap();
        let argv = ["python", "-m", "aurweb.initdb", "--no-alembic"];
        assert_eq!(
            s.schema_command.value.as_deref(),
            Some(&argv.map(String::from)[..])
        );
        assert_eq!(s.schema_command.origin, Origin::ConfigFile(p.clone()));
        assert_eq!(s.schema_command_timeout.value, Duration::from_secs(30));
        let env = [(SCHEMA_COMMAND_ENV, "sh -c 'echo \"a b\"'")];
        let s = run(&Overrides::default(), &env, dir.path()).unwrap();
        assert_eq!(
            s.schema_command.value,
            Some(vec!["sh".into(), "-c".into(), "echo \"a b\"".into()])
        );
        assert_eq!(s.schema_command.origin, Origin::Env(SCHEMA_COMMAND_ENV));
        let o = Overrides {
            schema_command: Some("./build \"my db\"".into()),
            schema_command_timeout: Some(5),
            ..Default::default()
        };
        let s = run(&o, &env, dir.path()).unwrap();
        assert_eq!(
            s.schema_command.value,
            Some(vec!["./build".into(), "my db".into()])
        );
        assert_eq!(s.schema_command.origin, Origin::Flag);
        assert_eq!(s.schema_command_timeout.value, Duration::from_secs(5));
        fs::remove_file(&p).unwrap();
        let s = run(&Overrides::default(), &[], dir.path()).unwrap();
        assert_eq!(s.schema_command.value, None);
        assert_eq!(s.schema_command_timeout.value, Duration::from_secs(300));
        let o = Overrides {
            schema_command: Some("'unclosed".into()),
            ..Default::default()
        };
        assert!(usage(run(&o, &[], dir.path())).contains("single quote is not closed"));
    }

    #[test]
    fn explicit_config_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let o = Overrides {
            config: Some("missing.toml".into()),
            ..Default::default()
        };
        let msg = usage(run(&o, &[], dir.path()));
        assert!(msg.starts_with("cannot read config file "), "{msg}");
        assert!(
            msg.contains("missing.toml: no such file or directory"),
            "{msg}"
        );
    }

    #[test]
    fn toml_values_and_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        let toml = write(
            cwd,
            "etc/am.toml",
            "database_url = \"sqlite://db/aur.db\"\nmigrations = \"mig\"\nschema = \"/abs/schema\"\n\
             table = \"alembic_like\"\nlock_timeout = 5\nconnect_timeout = 3\nstatement_timeout = 600\n\
             ddl_lock_wait = 2\n",
        );
        let o = Overrides {
            config: Some("etc/am.toml".into()),
            ..Default::default()
        };
        let s = run(&o, &[], cwd).unwrap();
        let etc = cwd.join("etc");
        let origin = Origin::ConfigFile(toml);
        assert_eq!(s.database.value, sqlite(etc.join("db/aur.db")));
        assert_eq!(s.migrations.value, Location::Dir(etc.join("mig")));
        assert_eq!(s.migrations.origin, origin);
        assert_eq!(s.schema.value, Location::Dir(PathBuf::from("/abs/schema")));
        assert_eq!(s.schema.origin, origin);
        assert_eq!(s.table.value, "alembic_like");
        assert_eq!(s.table.origin, origin);
        assert_eq!(s.lock_timeout.value, Duration::from_secs(5));
        assert_eq!(s.connect_timeout.value, Duration::from_secs(3));
        assert_eq!(s.connect_timeout.origin, origin);
        assert_eq!(s.statement_timeout.value, Some(Duration::from_secs(600)));
        assert_eq!(s.statement_timeout.origin, origin);
        assert_eq!(s.ddl_lock_wait.value, Some(Duration::from_secs(2)));
        assert_eq!(s.ddl_lock_wait.origin, origin);
        assert!(
            s.warnings.iter().any(|w| w.contains("--ddl-lock-wait")),
            "ignored on SQLite, said: {:?}",
            s.warnings
        );

        // Flags beat the file; flag paths are relative to the working directory.
        let o = Overrides {
            config: Some("etc/am.toml".into()),
            migrations: Some("m2".into()),
            schema: Some("s2".into()),
            table: Some("t2".into()),
            lock_timeout: Some(0),
            connect_timeout: Some(1),
            statement_timeout: Some(0),
            ddl_lock_wait: Some(0),
            ..Default::default()
        };
        let s = run(&o, &[], cwd).unwrap();
        assert_eq!(s.ddl_lock_wait.value, None, "0 turns it off");
        assert_eq!(s.migrations.value, Location::Dir(cwd.join("m2")));
        assert_eq!(s.schema.value, Location::Dir(cwd.join("s2")));
        assert_eq!(s.schema.origin, Origin::Flag);
        assert_eq!(s.table.value, "t2");
        assert_eq!(s.lock_timeout.value, Duration::ZERO);
        assert_eq!(s.lock_timeout.origin, Origin::Flag);
        assert_eq!(s.connect_timeout.value, Duration::from_secs(1));
        assert_eq!(
            s.statement_timeout.value, None,
            "0 on the command line turns it off"
        );
        assert_eq!(s.statement_timeout.origin, Origin::Flag);

        // -m alone: the schema beside it, not the file's (which goes with the file's `migrations`).
        let o = Overrides {
            config: Some("etc/am.toml".into()),
            migrations: Some("elsewhere/migrations".into()),
            ..Default::default()
        };
        let s = run(&o, &[], cwd).unwrap();
        assert_eq!(
            s.schema.value,
            Location::Dir(cwd.join("elsewhere/schema")),
            "{:?}",
            s.schema
        );
        assert_eq!(s.schema.origin, Origin::Default);

        let o = Overrides {
            connect_timeout: Some(0),
            ..Default::default()
        };
        assert!(usage(run(&o, &[], cwd)).contains("at least 1 second"));
    }

    #[test]
    fn schema_dir_defaults_beside_migrations() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        let o = Overrides {
            migrations: Some("/srv/custom/migrations".into()),
            ..Default::default()
        };
        let s = run(&o, &[], cwd).unwrap();
        assert_eq!(
            s.schema.value,
            Location::Dir(PathBuf::from("/srv/custom/schema"))
        );
        assert_eq!(s.schema.origin, Origin::Default);

        write(
            cwd,
            "aurweb-migrate.toml",
            "migrations = \"db/migrations\"\n",
        );
        let s = run(&Overrides::default(), &[], cwd).unwrap();
        assert_eq!(s.schema.value, Location::Dir(cwd.join("db/schema")));
        assert_eq!(s.schema.origin, Origin::Default);

        // A schema given with the embedded migrations is used.
        let o = Overrides {
            config: Some("none.toml".into()),
            schema: Some("s".into()),
            ..Default::default()
        };
        write(cwd, "none.toml", "migrations = \"builtin\"\n");
        let s = run(&o, &[], cwd).unwrap();
        assert_eq!(s.migrations.value, Location::Embedded);
        assert_eq!(s.schema.value, Location::Dir(cwd.join("s")));
        assert_eq!(s.schema.origin, Origin::Flag);

        assert_eq!(
            schema_beside(Path::new("/a/b/..")),
            PathBuf::from("/a/b/../../schema")
        );
    }

    #[test]
    fn password_file() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        write(cwd, "conf/pw", "s3cr%t\n\n");
        let toml = write(cwd, "conf/am.toml", "password_file = \"pw\"\n");
        let o = Overrides {
            config: Some("conf/am.toml".into()),
            ..Default::default()
        };
        // Fills in the password of a URL from any layer but aurweb's INI.
        let s = run(&o, &[("DATABASE_URL", "mysql://aur@localhost/AUR")], cwd).unwrap();
        let DatabaseTarget::Mysql(m) = &s.database.value else {
            panic!()
        };
        assert_eq!(m.password.as_ref().unwrap().expose(), "s3cr%t");
        assert!(s.warnings.is_empty());

        // A URL with its own password keeps it, with a warning.
        let s = run(
            &o,
            &[("DATABASE_URL", "mysql://aur:own@localhost/AUR")],
            cwd,
        )
        .unwrap();
        let DatabaseTarget::Mysql(m) = &s.database.value else {
            panic!()
        };
        assert_eq!(m.password.as_ref().unwrap().expose(), "own");
        assert_eq!(s.warnings.len(), 1);

        // Not applied to aurweb's INI, which has its own password key.
        write(
            cwd,
            "aur",
            "[database]\nbackend = mysql\nname = AUR\nuser = aur\n",
        );
        let s = run(&o, &[("AUR_CONFIG", "aur")], cwd).unwrap();
        let DatabaseTarget::Mysql(m) = &s.database.value else {
            panic!()
        };
        assert_eq!(m.password, None);

        // Ignored (and not read) for SQLite.
        write(cwd, "conf/am.toml", "password_file = \"missing\"\n");
        run(&o, &[], cwd).unwrap();

        // Unreadable: names the file, never shows content.
        let msg = usage(run(&o, &[("DATABASE_URL", "mysql://aur@h/AUR")], cwd));
        assert!(
            msg.starts_with(&format!("{}: cannot read password_file ", toml.display())),
            "{msg}"
        );
        assert!(
            msg.contains(&cwd.join("conf/missing").display().to_string()),
            "{msg}"
        );

        write(cwd, "conf/empty", "\n");
        write(cwd, "conf/am.toml", "password_file = \"empty\"\n");
        let msg = usage(run(&o, &[("DATABASE_URL", "mysql://aur@h/AUR")], cwd));
        assert!(msg.contains("is empty"), "{msg}");
    }

    fn aur(cwd: &Path, env: &[(&str, &str)]) -> Result<DatabaseTarget> {
        let mut env = env.to_vec();
        env.push(("AUR_CONFIG", "config"));
        run(&Overrides::default(), &env, cwd).map(|s| s.database.value)
    }

    #[test]
    fn ini_defaults_file_is_overridden_per_key() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        // The production layout: backend, host and socket only in config.defaults.
        write(
            cwd,
            "config.defaults",
            "; defaults\n[database]\nbackend = mysql\nhost = localhost\n\
             socket = /var/run/mysqld/mysqld.sock\n;port = 3306\nname = AUR\nuser = aur\n\
             ;password = aur\n\n[options]\nsql_debug = 0\n",
        );
        write(
            cwd,
            "config",
            "[database]\nname = aur\nuser = aur\npassword = vault\n",
        );
        let want = MysqlTarget {
            socket: Some("/var/run/mysqld/mysqld.sock".into()),
            ..mysql("aur", Some("vault"), "localhost", None, "aur")
        };
        assert_eq!(aur(cwd, &[]).unwrap(), DatabaseTarget::Mysql(want.clone()));

        // AUR_CONFIG_DEFAULTS names another defaults file; a missing one is skipped.
        write(
            cwd,
            "alt.defaults",
            "[database]\nbackend = mysql\nhost = db.example\n",
        );
        let got = aur(cwd, &[("AUR_CONFIG_DEFAULTS", "alt.defaults")]).unwrap();
        assert_eq!(
            got,
            DatabaseTarget::Mysql(mysql("aur", Some("vault"), "db.example", None, "aur"))
        );
        let msg = usage(aur(cwd, &[("AUR_CONFIG_DEFAULTS", "nope.defaults")]));
        assert!(msg.contains("[database] has no \"backend\""), "{msg}");
    }

    #[test]
    fn ini_missing_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let msg = usage(aur(dir.path(), &[]));
        assert!(msg.starts_with("cannot read aurweb config "), "{msg}");
        assert!(msg.contains("config: no such file or directory"), "{msg}");
        let o = Overrides {
            aur_config: Some("/nonexistent/aur".into()),
            ..Default::default()
        };
        let msg = usage(run(&o, &[], dir.path()));
        assert!(msg.contains("/nonexistent/aur"), "{msg}");
    }

    #[test]
    fn ini_port_wins_over_socket() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        let base = "[database]\nbackend = mysql\nname = AUR\nuser = aur\nsocket = /s.sock\n";
        write(cwd, "config", &format!("{base}port = 3306\n"));
        assert_eq!(
            aur(cwd, &[]).unwrap(),
            DatabaseTarget::Mysql(mysql("aur", None, "localhost", Some(3306), "AUR"))
        );
        // An empty port counts as unset.
        write(cwd, "config", &format!("{base}port =\n"));
        let DatabaseTarget::Mysql(m) = aur(cwd, &[]).unwrap() else {
            panic!()
        };
        assert_eq!((m.port, m.socket), (None, Some(PathBuf::from("/s.sock"))));

        write(cwd, "config", &format!("{base}\nport = 33o6\n"));
        let msg = usage(aur(cwd, &[]));
        assert_eq!(
            msg,
            format!(
                "{}:7: invalid port \"33o6\" (expected 1-65535)",
                cwd.join("config").display()
            )
        );
    }

    #[test]
    fn ini_values_are_literal() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        for (line, want) in [
            ("password = 50%off%(x)s", "50%off%(x)s"),
            ("password = a;b #c", "a;b #c"),
            ("password=  \"quoted\" ", "\"quoted\""),
            ("password: co:lon=s", "co:lon=s"),
            ("password = back\\", "back\\"),
            ("password = a\\nb", "a\\nb"),
            ("password =", ""),
        ] {
            write(
                cwd,
                "config",
                &format!("[database]\nbackend = mysql\n{line}\nname = AUR\nuser = aur\n"),
            );
            let DatabaseTarget::Mysql(m) = aur(cwd, &[]).unwrap() else {
                panic!()
            };
            // `password =` blanks the password out: none is sent.
            let want = (!want.is_empty()).then_some(want);
            assert_eq!(m.password.as_ref().map(|p| p.expose()), want, "{line}");
            assert_eq!(m.database, "AUR", "{line}");
        }
    }

    #[test]
    fn ini_sqlite_backend() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        write(
            cwd,
            "config",
            "[database]\nbackend = sqlite\nname = aur.db\n",
        );
        assert_eq!(aur(cwd, &[]).unwrap(), sqlite(cwd.join("aur.db")));
        write(
            cwd,
            "config",
            "[database]\nbackend = sqlite\nname = /abs/aur.db\n",
        );
        assert_eq!(aur(cwd, &[]).unwrap(), sqlite("/abs/aur.db"));
    }

    #[test]
    fn ini_bad_backend_and_missing_keys() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        let config = cwd.join("config");
        write(
            cwd,
            "config",
            "[database]\n\nbackend = postgres\nname = x\n",
        );
        assert_eq!(
            usage(aur(cwd, &[])),
            format!(
                "{}:3: unknown database backend \"postgres\" (expected mysql or sqlite)",
                config.display()
            )
        );
        write(cwd, "config", "[database]\nbackend = mysql\nname = AUR\n");
        let msg = usage(aur(cwd, &[]));
        assert_eq!(
            msg,
            format!("{}: [database] has no \"user\"", config.display())
        );
        write(cwd, "config", "[options]\n");
        let msg = usage(aur(cwd, &[]));
        assert_eq!(msg, format!("{}: no [database] section", config.display()));
    }

    #[test]
    fn table_names() {
        for ok in ["a", "_", "aurweb_migrations", "T1", &"x".repeat(64)] {
            validate_table_name(ok).unwrap();
        }
        for bad in [
            "",
            "1abc",
            "a-b",
            "a b",
            "a.b",
            "é",
            &"x".repeat(65),
            "a;drop",
        ] {
            let msg = usage(validate_table_name(bad));
            assert!(msg.contains("letters, digits and underscores"), "{msg}");
        }
        let o = Overrides {
            table: Some("no-dash".into()),
            ..Default::default()
        };
        let msg = usage(run(&o, &[], Path::new("/")));
        assert!(
            msg.starts_with("--table: invalid table name \"no-dash\""),
            "{msg}"
        );
    }
}
