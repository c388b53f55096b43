//! aurweb-migrate: versioned SQL schema migrations for aurweb on MySQL/MariaDB and SQLite.
//!
//! The library owns everything but argument parsing and printing. Its folders are the stages
//! of a run, in the order a run takes them: the tool's own [`settings`], the migration files
//! ([`source`]: finding, checking, splitting), deciding what runs ([`plan`]), running it
//! ([`run`]) against a database ([`backend`]), and laying out the result ([`report`]). The
//! commands of [`app`] are checklists over these stages. Beside the pipeline stand the schema
//! tooling ([`schema`]: the canonical model, rendering, the generator), the comparison of a
//! database with the files ([`compare`]) and aurweb's site config file ([`site_config`]),
//! which never meets the database.

pub mod app;
pub(crate) mod backend;
pub(crate) mod compare;
pub mod dialect;
pub mod error;
pub(crate) mod history;
pub(crate) mod plan;
pub(crate) mod problem;
pub mod report;
pub mod run;
pub(crate) mod schema;
pub mod settings;
pub(crate) mod site_config;
pub mod source;

pub use dialect::Dialect;
pub use error::{Error, Result};

/// The tool's version, recorded in every history row.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
