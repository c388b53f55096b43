//! aurweb's migrations and schema as they were in the repository when the binary was built
//! (`build.rs` embeds every file of `migrations/` and `schema/`). They are used only when asked
//! for (`--migrations builtin`, or aurweb's config naming the database where there is no
//! `./migrations`: see [`crate::settings`]),
//! and are read by the same code as files on disk ([`crate::source`]). In messages their files
//! are named `<embedded>/migrations/NAME` and `<embedded>/schema/NAME`.

mod files {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// The directory name the embedded migrations are shown under.
pub const MIGRATIONS_DIR: &str = "<embedded>/migrations";
/// The directory name the embedded schema files are shown under.
pub const SCHEMA_DIR: &str = "<embedded>/schema";

/// Every embedded file of `migrations/` (name, bytes), sorted by name.
pub fn migrations() -> &'static [(&'static str, &'static [u8])] {
    files::MIGRATIONS
}

/// The embedded schema file called `name`.
pub fn schema_file(name: &str) -> Option<&'static [u8]> {
    files::SCHEMA
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
}
