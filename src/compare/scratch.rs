//! Scratch databases: where the tool builds the schema it expects (from `schema/`, or by
//! replaying `migrations/` up to a version) to compare it with another, the same way on every
//! dialect. Making and removing them is the backend's ([`crate::backend::server`]). A target
//! database is never written by them.

pub use crate::backend::server::{Place, Scratch};
use crate::backend::{Catalogue, Connection, Timeouts};
use crate::error::Result;
use crate::history::TableName;
use crate::plan::{RunMode, Target, UpgradeOptions};
use crate::run;
use crate::schema::Schema;
use crate::source::{MigrationSet, SchemaFile};

/// A schema built in a scratch database, with its rows (seed data) table by table when they
/// were asked for.
#[derive(Debug, Clone)]
pub struct Built {
    pub schema: Schema,
    pub rows: Vec<(String, Vec<Vec<Option<String>>>)>,
    /// How long reading it back took (the catalogue queries and the rows).
    pub read_ms: f64,
}

/// The `dialect` schema file text of what `scratch` holds (`built`, read back from it), headed by
/// `header`, with the database's own definitions (views, triggers, checks) it read: MySQL table
/// options as `set`'s migrations state them, the database's default collation left unstated
/// ([`crate::schema::render::file_for`]).
pub(crate) async fn render_file(
    scratch: &mut Scratch,
    dialect: crate::dialect::Dialect,
    built: &Built,
    set: &MigrationSet,
    header: &str,
) -> Result<(String, Vec<crate::schema::Definition>)> {
    let collation = scratch.conn.default_collation().await?;
    let definitions = scratch.conn.definitions().await?;
    let stated = crate::schema::stated_options(set.statement_texts());
    let text = crate::schema::render::file_for(
        dialect,
        &definitions,
        &built.schema,
        &built.rows,
        header,
        &stated,
        collation.as_deref(),
    );
    Ok((text, definitions))
}

pub(crate) async fn read_back(conn: &mut Connection, with_rows: bool) -> Result<Built> {
    let started = std::time::Instant::now();
    let schema = conn.introspect().await?;
    let mut rows = Vec::new();
    if with_rows {
        for t in &schema.tables {
            rows.push((t.name.clone(), conn.table_rows(t).await?));
        }
    }
    Ok(Built {
        schema,
        rows,
        read_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

/// How the migrations run in a scratch database: as `upgrade` runs them, up to `target`.
fn replay(target: Target) -> UpgradeOptions {
    UpgradeOptions {
        target,
        mode: RunMode::PerMigration,
        allow_out_of_order: false,
        resume: false,
    }
}

/// How a scratch database is filled.
#[derive(Debug, Clone, Copy)]
pub enum Road<'a> {
    /// Run the schema file.
    Schema(&'a SchemaFile),
    /// Replay the migrations up to and including this version (all with `None`).
    Replay(Option<u64>),
}

impl Road<'_> {
    /// The scratch database's purpose, in its name.
    pub fn purpose(&self) -> &'static str {
        match self {
            Road::Schema(_) => "schema",
            Road::Replay(_) => "replay",
        }
    }
}

/// Builds a scratch database by one road and reads its schema (and, `with_rows`, its rows)
/// back, then removes it.
#[allow(clippy::too_many_arguments)]
pub async fn build(
    place: &Place,
    road: Road<'_>,
    set: &MigrationSet,
    collation: Option<&str>,
    table: &TableName,
    timeouts: Timeouts,
    with_rows: bool,
    observe: run::Observer<'_>,
) -> Result<Built> {
    let (scratch, built) = hold(
        place, road, set, collation, table, timeouts, with_rows, observe,
    )
    .await?;
    scratch.dispose().await;
    Ok(built)
}

/// [`build`], keeping the scratch database for more work (the caller disposes of it); on an
/// error it is removed here.
#[allow(clippy::too_many_arguments)]
pub async fn hold(
    place: &Place,
    road: Road<'_>,
    set: &MigrationSet,
    collation: Option<&str>,
    table: &TableName,
    timeouts: Timeouts,
    with_rows: bool,
    observe: run::Observer<'_>,
) -> Result<(Scratch, Built)> {
    let mut scratch = Scratch::create(place, road.purpose(), collation, table, timeouts).await?;
    let result = fill(&mut scratch, road, set, with_rows, observe).await;
    match result {
        Ok(built) => Ok((scratch, built)),
        Err(e) => {
            scratch.dispose().await;
            Err(e)
        }
    }
}

/// Fills an empty scratch database by one road and reads its schema (and, `with_rows`, its
/// rows) back; the caller disposes of it, also on an error.
pub async fn fill(
    scratch: &mut Scratch,
    road: Road<'_>,
    set: &MigrationSet,
    with_rows: bool,
    observe: run::Observer<'_>,
) -> Result<Built> {
    match road {
        Road::Schema(file) => {
            run::install(&mut scratch.conn, set, file, observe).await?;
        }
        Road::Replay(upto) => {
            let target = upto.map_or(Target::Latest, Target::Version);
            run::upgrade(&mut scratch.conn, set, replay(target), None, observe).await?;
        }
    }
    read_back(&mut scratch.conn, with_rows).await
}

/// Applies the migrations of `set` the scratch database has not had yet (the real runner,
/// as `upgrade` runs them), then reads its schema back.
pub async fn apply(scratch: &mut Scratch, set: &MigrationSet) -> Result<Schema> {
    run::upgrade(
        &mut scratch.conn,
        set,
        replay(Target::Latest),
        None,
        &mut |_| {},
    )
    .await?;
    scratch.conn.introspect().await
}

/// Reverts the scratch database's migrations above `target` with their reverse files (the
/// real runner, as `downgrade` runs them), then reads its schema back.
pub async fn revert(scratch: &mut Scratch, set: &MigrationSet, target: u64) -> Result<Schema> {
    run::downgrade(&mut scratch.conn, set, Some(target), &mut |_| {}).await?;
    scratch.conn.introspect().await
}

/// The schema expected at `version`: built from the schema file when it is that version's,
/// else by replaying the migrations up to it.
pub async fn expected_at(
    place: &Place,
    version: u64,
    set: &MigrationSet,
    schema_file: Option<&SchemaFile>,
    collation: Option<&str>,
    table: &TableName,
    timeouts: Timeouts,
) -> Result<(Built, String)> {
    let (road, name) = match schema_file {
        Some(f) if f.version == version => (Road::Schema(f), f.script.path.display().to_string()),
        _ => (
            Road::Replay(Some(version)),
            format!(
                "version {version}'s schema (replayed from {})",
                set.dir.display()
            ),
        ),
    };
    let built = build(
        place,
        road,
        set,
        collation,
        table,
        timeouts,
        false,
        &mut |_| {},
    )
    .await?;
    Ok((built, name))
}
