//! aurweb-migrate: versioned SQL schema migrations for aurweb on MySQL/MariaDB and SQLite.
//!
//! The library owns everything but argument parsing and printing: finding and checking
//! migration files ([`source`]), splitting them into statements ([`splitter`]), deciding what
//! runs ([`plan`]), talking to a database ([`backend`]), running a plan ([`runner`]) and
//! rendering results ([`report`]). The `aurweb-migrate` binary maps commands onto these.

pub mod app;
mod aurweb_ini;
pub(crate) mod autogen;
pub(crate) mod backend;
pub mod config;
pub(crate) mod config_migration;
pub(crate) mod dialect;
pub(crate) mod embedded;
pub mod error;
pub(crate) mod history;
pub(crate) mod ini_doc;
pub(crate) mod offline;
pub(crate) mod plan;
pub(crate) mod problem;
pub mod progress;
pub(crate) mod render;
pub mod report;
pub mod runner;
pub(crate) mod scaffold;
pub(crate) mod schema;
pub(crate) mod scratch;
pub(crate) mod source;
pub mod splitter;
pub(crate) mod survey;
pub(crate) mod target;

pub use dialect::Dialect;
pub use error::{Error, Result};

/// The tool's version, recorded in every history row.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
