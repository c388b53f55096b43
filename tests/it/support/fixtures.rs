//! Files that many tests start from: three small migrations (with or without reverse files),
//! and the TOML examples of README.md.

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

/// The first ```toml block of README.md that contains `needle`.
pub fn readme_toml_block(needle: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .find(|b| b.contains(needle))
        .unwrap_or_else(|| panic!("no ```toml block with {needle:?} in README.md"))
        .to_string()
}
