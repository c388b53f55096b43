//! Files that many tests start from: three small migrations (with or without reverse files),
//! and the TOML examples of the documentation.

use super::env::Env;

/// Three simple migrations creating tables `t1`, `t2`, `t3`.
pub fn three_tables(env: &Env) {
    env.migration(
        "0001_one.sql",
        "CREATE TABLE t1 (id INTEGER PRIMARY KEY);\n",
    );
    env.migration(
        "0002_two.sql",
        "CREATE TABLE t2 (id INTEGER PRIMARY KEY);\n",
    );
    env.migration(
        "0003_three.sql",
        "CREATE TABLE t3 (id INTEGER PRIMARY KEY);\n",
    );
}

/// The same three with reverse files.
pub fn three_reversible(env: &Env) {
    three_tables(env);
    env.migration("0001_one.down.sql", "DROP TABLE t1;\n");
    env.migration("0002_two.down.sql", "DROP TABLE t2;\n");
    env.migration("0003_three.down.sql", "DROP TABLE t3;\n");
}

/// The first ```toml block of the Markdown file `doc` (relative to the repository) that
/// contains `needle`.
pub fn doc_toml_block(doc: &str, needle: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(doc);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{doc}: {e}"));
    text.split("```toml\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .find(|b| b.contains(needle))
        .unwrap_or_else(|| panic!("no ```toml block with {needle:?} in {doc}"))
        .to_string()
}
