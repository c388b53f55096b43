//! The rules of ARCHITECTURE.md that the compiler does not check, checked on the source text
//! (rust-analyzer's "tidy" habit): a rule that breaks fails here, naming the file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file below `src/`, with its path relative to `src/`.
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read src/") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    walk(&src, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).expect("readable");
            (rel, text)
        })
        .collect()
}

/// The lines of a file's code before its `#[cfg(test)]` module, without comment lines, with
/// their 1-based numbers.
fn code_lines(text: &str) -> Vec<(usize, &str)> {
    text.lines()
        .enumerate()
        .take_while(|(_, l)| l.trim() != "#[cfg(test)]")
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l))
        .collect()
}

/// Fails with every offending `file:line`.
#[track_caller]
fn none(rule: &str, offences: Vec<String>) {
    assert!(
        offences.is_empty(),
        "{rule}; broken at:\n  {}",
        offences.join("\n  ")
    );
}

#[test]
fn only_the_backends_talk_to_sqlx() {
    let mut offences = Vec::new();
    for (file, text) in sources() {
        if file.starts_with("backend/") {
            continue;
        }
        for (n, line) in code_lines(&text) {
            if line.contains("sqlx") {
                offences.push(format!("src/{file}:{n}: {}", line.trim()));
            }
        }
    }
    none("no sqlx outside src/backend/", offences);
}

#[test]
fn the_engine_never_branches_on_the_dialect() {
    // What differs between dialects is the backends' (capabilities such as
    // `transactional_ddl`, `drop_tables`, scratch servers); the runner and the schema
    // comparison ask them instead of naming a dialect or writing its SQL.
    const DIALECT_SPECIFIC: [&str; 6] = [
        "Dialect::Mysql",
        "Dialect::Sqlite",
        "CREATE DATABASE",
        "DROP DATABASE",
        "DROP TABLE",
        "FOREIGN_KEY_CHECKS",
    ];
    let mut offences = Vec::new();
    for (file, text) in sources() {
        // run/script.rs writes the offline SQL script, whose guard is each dialect's own SQL.
        if !(file.starts_with("run/") || file.starts_with("compare/")) || file == "run/script.rs" {
            continue;
        }
        for (n, line) in code_lines(&text) {
            if DIALECT_SPECIFIC.iter().any(|p| line.contains(p)) {
                offences.push(format!("src/{file}:{n}: {}", line.trim()));
            }
        }
    }
    none(
        "run/ and compare/ name no dialect and write no dialect's DDL",
        offences,
    );
}

#[test]
fn identifiers_are_quoted_in_one_place() {
    // Dialect::quote_ident is the one quoting function; a hand-made backtick or doubled
    // quote elsewhere is a second one.
    let mut offences = Vec::new();
    for (file, text) in sources() {
        if file == "dialect.rs" || file == "source/splitter.rs" {
            continue;
        }
        for (n, line) in code_lines(&text) {
            if line.contains(r#"replace('`'"#) || line.contains(r#"replace('"', "\"\"")"#) {
                offences.push(format!("src/{file}:{n}: {}", line.trim()));
            }
        }
    }
    none(
        "identifiers are quoted only by Dialect::quote_ident",
        offences,
    );
}

#[test]
fn output_is_laid_out_only_in_report() {
    // The binary prints the final error line through report; the live progress line
    // (progress.rs) draws on stderr through indicatif.
    const PRINTING: [&str; 6] = [
        "println!",
        "print!(",
        "eprintln!",
        "eprint!(",
        "json!(",
        "io::stdout()",
    ];
    let mut offences = Vec::new();
    for (file, text) in sources() {
        if file.starts_with("report/") {
            continue;
        }
        for (n, line) in code_lines(&text) {
            if PRINTING.iter().any(|p| line.contains(p)) {
                offences.push(format!("src/{file}:{n}: {}", line.trim()));
            }
        }
    }
    none("no printing or JSON layout outside src/report/", offences);
}

#[test]
fn every_source_file_says_what_it_is() {
    let offences = sources()
        .into_iter()
        .filter(|(_, text)| !text.starts_with("//!"))
        .map(|(file, _)| format!("src/{file}:1"))
        .collect();
    none("every src/ file opens with a //! comment", offences);
}

/// The top-level modules (a file `src/x.rs` or a directory `src/x/`) and the other top-level
/// modules each one uses through `crate::…`.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, text) in sources() {
        let module = file
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        if ["lib", "main", "cli"].contains(&module.as_str()) {
            continue;
        }
        let deps = graph.entry(module.clone()).or_default();
        for (_, line) in code_lines(&text) {
            let mut rest = line;
            while let Some(i) = rest.find("crate::") {
                rest = &rest[i + "crate::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if !name.is_empty() && name != module {
                    deps.insert(name);
                }
            }
            // `use crate::{a, b::c}` lists.
            if let Some(list) = line
                .trim()
                .strip_prefix("use crate::{")
                .and_then(|l| l.strip_suffix("};"))
            {
                for item in list.split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != module {
                        deps.insert(name);
                    }
                }
            }
        }
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        deps.retain(|d| modules.contains(d));
    }
    graph
}

#[test]
fn no_module_imports_cycle() {
    let graph = module_graph();
    assert!(graph.len() > 10, "the scan found the modules: {graph:?}");
    assert!(
        graph["app"].contains("run") && graph["run"].contains("backend"),
        "the scan reads imports: {graph:?}"
    );
    // Depth-first search for a back edge; the path of the first one found is the cycle.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == node) {
            let mut cycle = path[i..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in &graph[node] {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            panic!(
                "modules import each other in a circle: {}",
                cycle.join(" → ")
            );
        }
    }
}
