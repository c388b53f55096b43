//! Throughput of the statement splitter on a ~20 MB dump of multi-row INSERTs and on a file of
//! 1,000 small DDL statements, for each dialect. Run with
//! `cargo bench --bench splitter_throughput`.

use std::hint::black_box;
use std::time::Instant;

use aurweb_migrate::source::splitter::split;
use aurweb_migrate::Dialect;

const ROWS_PER_STATEMENT: usize = 1_000;
const INSERT_STATEMENTS: usize = 200;
const DDL_TABLES: usize = 500;

/// ~20 MB of `INSERT ... VALUES (...), (...);` with 1,000 rows per statement.
fn inserts() -> String {
    let mut src = String::with_capacity(21 << 20);
    let mut id = 0usize;
    for _ in 0..INSERT_STATEMENTS {
        src.push_str("INSERT INTO big (id, name, payload, n) VALUES\n");
        for row in 0..ROWS_PER_STATEMENT {
            id += 1;
            let sep = if row + 1 == ROWS_PER_STATEMENT {
                ";"
            } else {
                ","
            };
            src.push_str(&format!(
                "({id}, 'package-name-{id:08}', 'payload abcdefghijklmnopqrstuvwxyz; it''s -- not a comment {id:08}', {}){sep}\n",
                id % 97
            ));
        }
    }
    src
}

/// 1,000 small statements: a CREATE TABLE and a CREATE INDEX per table.
fn ddl() -> String {
    let mut src = String::new();
    for t in 0..DDL_TABLES {
        src.push_str(&format!(
            "-- table {t}\nCREATE TABLE t{t} (\n  id INTEGER PRIMARY KEY, -- key\n  name VARCHAR(255) NOT NULL DEFAULT '',\n  /* note; */ n INT\n);\nCREATE INDEX t{t}_name ON t{t} (name);\n\n"
        ));
    }
    src
}

fn bench(label: &str, src: &str, dialect: Dialect, iterations: u32, expected: usize) {
    // Warm up (and check the result once).
    let n = split(src, dialect).expect("benchmark input splits").len();
    assert_eq!(n, expected, "{label} {dialect}: statement count");
    let started = Instant::now();
    for _ in 0..iterations {
        black_box(split(black_box(src), dialect).expect("benchmark input splits"));
    }
    let secs = started.elapsed().as_secs_f64();
    let mb = src.len() as f64 * f64::from(iterations) / 1e6;
    println!(
        "{label:<8} {:<6} {:>7.1} MB x {iterations:>3}: {:>8.1} MB/s ({n} statements)",
        dialect.name(),
        src.len() as f64 / 1e6,
        mb / secs
    );
}

fn main() {
    let inserts = inserts();
    let ddl = ddl();
    for dialect in Dialect::ALL {
        bench("inserts", &inserts, dialect, 10, INSERT_STATEMENTS);
        bench("ddl", &ddl, dialect, 200, DDL_TABLES * 2);
    }
}
