//! The integration suite: one test binary running the real `aurweb-migrate` executable in a
//! temporary directory per test. `support` is the harness; every other module is a topic.
//! Behaviour scenarios are written once against a [`support::Db`] and instantiated per dialect
//! with [`each_db!`] (`::sqlite` and `::mysql`; see `support` for where the MariaDB comes from).

mod support;

mod ansible;
mod aurweb;
mod autogen;
mod baseline;
mod ci_check;
mod cli;
mod concurrency;
mod config;
mod config_file;
mod conflicts;
mod database;
mod ddl_plan;
mod directives;
mod docs;
mod downgrade;
mod edits;
mod embedded;
mod errors_json;
mod galera;
mod harness;
mod json_schema;
mod mdl;
mod mysql;
mod offline;
mod probes;
mod redo;
mod rehearsal;
mod schema;
mod schema_command;
mod schema_init;
mod statements;
mod status;
mod terminal;
mod tidy;
mod tls;
mod upgrade;
mod validation;
