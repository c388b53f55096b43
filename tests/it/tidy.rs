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

/// The lines of a file's code, with their 1-based numbers: the whole file but comment lines and
/// the items under `#[cfg(test)]` (a test module, a test-only `use`), so that a test-only
/// import in the middle of a file does not hide the code after it.
fn code_lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim();
        if trimmed == "#[cfg(test)]" {
            skip_item(&mut lines);
            continue;
        }
        if !trimmed.starts_with("//") {
            out.push((i + 1, line));
        }
    }
    out
}

/// Consumes the item that follows a `#[cfg(test)]`: its further attributes, then one line
/// ending in `;`, or a block up to its closing brace.
fn skip_item<'a>(lines: &mut impl Iterator<Item = (usize, &'a str)>) {
    let mut depth = 0i64;
    let mut opened = false;
    for (_, line) in lines.by_ref() {
        let code = line.split("//").next().unwrap_or("");
        for c in code.chars() {
            match c {
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        let trimmed = line.trim();
        if opened && depth <= 0 {
            return;
        }
        if !opened && trimmed.ends_with(';') {
            return;
        }
    }
}

/// `file` (relative to `src/`) exists: a rule that names a file must not pass because the
/// file was renamed away.
#[track_caller]
fn named(file: &str) -> &str {
    assert!(
        sources().iter().any(|(f, _)| f == file),
        "a tidy rule names src/{file}, which does not exist: update the rule"
    );
    file
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
        if !(file.starts_with("run/") || file.starts_with("compare/"))
            || file == named("run/script.rs")
        {
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
        if file == named("dialect.rs") || file == named("source/splitter.rs") {
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

/// The module path of a file below `src/` (`backend/mysql/lease.rs` → `backend::mysql::lease`,
/// `run/mod.rs` → `run`, `lib.rs` → the crate root, empty).
fn module_of(file: &str) -> Vec<String> {
    let mut parts: Vec<String> = file.split('/').map(str::to_string).collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

/// Paths named in `text` after `at` (where a path starts): `a::b::{c, d::e}` gives `[a, b, c]`
/// and `[a, b, d, e]`. Segments are identifiers; a `{…}` group branches.
fn paths_at(text: &[u8], at: usize) -> Vec<Vec<String>> {
    fn ident(text: &[u8], mut i: usize) -> (String, usize) {
        let start = i;
        while i < text.len() && (text[i].is_ascii_alphanumeric() || text[i] == b'_') {
            i += 1;
        }
        (String::from_utf8_lossy(&text[start..i]).into_owned(), i)
    }
    fn skip_ws(text: &[u8], mut i: usize) -> usize {
        while i < text.len() && text[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    }
    // One tree from `i`: returns its paths and where it ends.
    fn tree(text: &[u8], i: usize) -> (Vec<Vec<String>>, usize) {
        let i = skip_ws(text, i);
        if text.get(i) == Some(&b'{') {
            let mut out = Vec::new();
            let mut j = i + 1;
            loop {
                j = skip_ws(text, j);
                match text.get(j) {
                    None => return (out, j),
                    Some(b'}') => return (out, j + 1),
                    Some(b',') => j += 1,
                    _ => {
                        let (mut paths, end) = tree(text, j);
                        out.append(&mut paths);
                        if end == j {
                            return (out, j + 1);
                        }
                        j = end;
                    }
                }
            }
        }
        let (name, j) = ident(text, i);
        if name.is_empty() {
            return (vec![], i);
        }
        if text.get(j..j + 2) == Some(b"::") {
            let (rest, end) = tree(text, j + 2);
            if rest.is_empty() {
                return (vec![vec![name]], end);
            }
            let paths = rest
                .into_iter()
                .map(|mut p| {
                    p.insert(0, name.clone());
                    p
                })
                .collect();
            return (paths, end);
        }
        (vec![vec![name]], j)
    }
    tree(text, at).0
}

/// Every file below `src/` but the binary's (`main.rs`, `cli.rs`), and the files each one uses:
/// paths through `crate::`, `super::`, `self::` and a child module's own name, each resolved
/// to the deepest module file it names (an item of `backend/mod.rs` named as
/// `crate::backend::Backend` is an edge to `backend/mod.rs`). Code under `#[cfg(test)]` is left
/// out.
fn file_graph() -> BTreeMap<String, BTreeSet<String>> {
    let files = sources();
    let by_module: BTreeMap<Vec<String>, String> = files
        .iter()
        .filter(|(f, _)| f != "main.rs" && f != "cli.rs")
        .map(|(f, _)| (module_of(f), f.clone()))
        .collect();
    let resolve = |path: &[String]| -> Option<&String> {
        (0..=path.len())
            .rev()
            .find_map(|n| by_module.get(&path[..n]))
    };
    let mut graph = BTreeMap::new();
    for (file, text) in &files {
        if file == "main.rs" || file == "cli.rs" {
            continue;
        }
        let here = module_of(file);
        let code: String = code_lines(text)
            .into_iter()
            .map(|(_, l)| l.split(" //").next().unwrap_or(l).to_string() + "\n")
            .collect();
        let bytes = code.as_bytes();
        // Children declared here (`mod x;`), named bare inside this file.
        let children: BTreeSet<String> = code
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                let l = l
                    .strip_prefix("pub(crate) ")
                    .or_else(|| l.strip_prefix("pub(super) "))
                    .or_else(|| l.strip_prefix("pub "))
                    .unwrap_or(l);
                l.strip_prefix("mod ")?
                    .strip_suffix(';')
                    .map(str::to_string)
            })
            .collect();
        let mut deps = BTreeSet::new();
        let mut i = 0;
        while i < bytes.len() {
            let boundary = i == 0
                || !(bytes[i - 1].is_ascii_alphanumeric()
                    || bytes[i - 1] == b'_'
                    || bytes[i - 1] == b':');
            if !boundary {
                i += 1;
                continue;
            }
            let (prefix, after): (Vec<String>, usize) = if bytes[i..].starts_with(b"crate::") {
                (vec![], i + "crate::".len())
            } else if bytes[i..].starts_with(b"super::") {
                let mut base = here.clone();
                let mut j = i;
                while bytes[j..].starts_with(b"super::") {
                    base.pop();
                    j += "super::".len();
                }
                (base, j)
            } else if bytes[i..].starts_with(b"self::") {
                (here.clone(), i + "self::".len())
            } else if let Some(child) = children
                .iter()
                .find(|c| bytes[i..].starts_with(format!("{c}::").as_bytes()))
            {
                let mut base = here.clone();
                base.push(child.clone());
                (base, i + child.len() + 2)
            } else {
                i += 1;
                continue;
            };
            for path in paths_at(bytes, after) {
                let full: Vec<String> = prefix.iter().cloned().chain(path).collect();
                if let Some(target) = resolve(&full) {
                    if target != file {
                        deps.insert(target.clone());
                    }
                }
            }
            // A bare child named alone (`mod x;` then `x::f`) with nothing resolvable still
            // counts: its file exists.
            i = after;
        }
        graph.insert(file.clone(), deps);
    }
    graph
}

/// The graph of `file_graph` with each file replaced by its folder `depth` levels down
/// (`backend/mysql/lease.rs` at depth 1 is `backend`, at depth 2 `backend/mysql`; a file
/// shallower than that stands for itself); edges inside one group are dropped.
fn folder_graph(depth: usize) -> BTreeMap<String, BTreeSet<String>> {
    let group = |file: &str| -> String {
        let parts: Vec<&str> = file.split('/').collect();
        if parts.len() > depth {
            parts[..depth].join("/")
        } else {
            file.to_string()
        }
    };
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, deps) in file_graph() {
        let g = group(&file);
        let entry = out.entry(g.clone()).or_default();
        for d in deps {
            let dg = group(&d);
            if dg != g {
                entry.insert(dg);
            }
        }
    }
    out
}

/// The groups of nodes of `graph` that reach each other (strongly connected components of
/// more than one node, Tarjan's algorithm), each sorted: every circle lies inside one.
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        out: Vec<Vec<String>>,
    }
    fn connect<'g>(s: &mut State<'g>, v: &'g str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        let graph = s.graph;
        for w in graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                connect(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                group.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                s.out.push(group);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            connect(&mut s, v);
        }
    }
    s.out
}

#[test]
fn the_import_scan_reads_imports() {
    let files = file_graph();
    let has = |from: &str, to: &str| files[from].contains(to);
    // `use crate::backend::{Backend, …}`, `super::errno::…`, a child named bare, `self::`.
    assert!(has("run/upgrade.rs", "backend/mod.rs"), "{files:?}");
    assert!(
        has("backend/mysql/lease.rs", "backend/mysql/errno.rs"),
        "{files:?}"
    );
    assert!(
        has("backend/mysql/mod.rs", "backend/mysql/lease.rs"),
        "{files:?}"
    );
    assert!(has("compare/mod.rs", "compare/scratch.rs"), "{files:?}");
    assert!(has("settings/mod.rs", "settings/target.rs"), "{files:?}");
    assert!(
        !files["dialect.rs"].iter().any(|d| d != "error.rs"),
        "dialect.rs is a leaf: {:?}",
        files["dialect.rs"]
    );
    let top = folder_graph(1);
    assert!(
        top["app"].contains("run") && top["run"].contains("backend"),
        "{top:?}"
    );
}

#[test]
fn no_folder_or_file_imports_in_a_circle() {
    let mut found = Vec::new();
    for (what, graph) in [
        ("folders", folder_graph(1)),
        ("subfolders", folder_graph(2)),
        ("files", file_graph()),
    ] {
        for group in circles(&graph) {
            let edges: Vec<String> = group
                .iter()
                .flat_map(|a| {
                    graph[a]
                        .iter()
                        .filter(|b| group.contains(b))
                        .map(move |b| format!("{a} → {b}"))
                })
                .collect();
            found.push(format!("{what} {}: {}", group.join(", "), edges.join("; ")));
        }
    }
    none(
        "no folder or file of src/ imports another that imports it back",
        found,
    );
}

#[test]
fn src_holds_at_most_ten_files() {
    let top: Vec<String> = sources()
        .into_iter()
        .map(|(f, _)| f)
        .filter(|f| !f.contains('/'))
        .collect();
    assert!(
        top.len() <= 10,
        "src/ keeps its files in folders by stage; {} lie flat: {top:?}",
        top.len()
    );
}

#[test]
fn architecture_names_only_paths_that_exist() {
    // Every `path` ARCHITECTURE.md names in backticks under one of the repository's top-level
    // folders must exist, so that the map cannot keep a file the code lost.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    const ROOTS: [&str; 8] = [
        "src/",
        "tests/",
        "benches/",
        "contrib/",
        "docs/",
        "migrations/",
        "schema/",
        ".ci/",
    ];
    let mut named = 0;
    let mut offences = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for (i, quoted) in line.split('`').enumerate() {
            if i % 2 == 0 || !ROOTS.iter().any(|r| quoted.starts_with(r)) {
                continue;
            }
            if quoted.contains(char::is_whitespace) || quoted.contains('*') {
                continue;
            }
            named += 1;
            if !root.join(quoted).exists() {
                offences.push(format!("ARCHITECTURE.md:{}: {quoted}", n + 1));
            }
        }
    }
    assert!(named > 20, "the scan finds the map's paths ({named})");
    none("ARCHITECTURE.md names only paths that exist", offences);
}

#[test]
fn the_pure_parts_do_no_io() {
    // The schema model and its tooling, the planner, the splitter and the lints are functions
    // of their arguments: no files, no processes, no environment, no database, no runtime.
    const IO: [&str; 7] = [
        "std::fs",
        "std::io",
        "std::env",
        "std::process",
        "std::net",
        "tokio",
        "crate::backend",
    ];
    let pure = |file: &str| {
        file.starts_with("schema/")
            || [
                named("plan.rs"),
                named("problem.rs"),
                named("dialect.rs"),
                named("source/splitter.rs"),
                named("source/lint.rs"),
            ]
            .contains(&file)
    };
    let mut offences = Vec::new();
    for (file, text) in sources() {
        if !pure(&file) {
            continue;
        }
        for (n, line) in code_lines(&text) {
            if IO.iter().any(|p| line.contains(p)) {
                offences.push(format!("src/{file}:{n}: {}", line.trim()));
            }
        }
    }
    none(
        "schema/, plan.rs, problem.rs, dialect.rs, source/splitter.rs and source/lint.rs do no I/O",
        offences,
    );
}

/// Each function of `text` (outside `#[cfg(test)]` items) with its first line and its length
/// in lines, from its `fn` line to its closing brace.
fn functions(text: &str) -> Vec<(usize, String, usize)> {
    let lines = code_lines(text);
    let mut out = Vec::new();
    for (k, (n, line)) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let Some(at) = trimmed.find("fn ") else {
            continue;
        };
        let before = &trimmed[..at];
        let is_item = before.split_whitespace().all(|w| {
            [
                "pub",
                "pub(crate)",
                "pub(super)",
                "async",
                "const",
                "unsafe",
            ]
            .contains(&w)
        });
        if !is_item || !trimmed.contains('(') {
            continue;
        }
        let name: String = trimmed[at + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let mut depth = 0i64;
        let mut opened = false;
        for (m, l) in &lines[k..] {
            for c in l.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if !opened && l.trim_end().ends_with(';') {
                break; // a declaration without a body (a trait method)
            }
            if opened && depth == 0 {
                out.push((*n, name.clone(), m - n + 1));
                break;
            }
        }
    }
    out
}

#[test]
fn the_runner_reads_like_a_checklist() {
    // Each of run/'s functions fits on a screen: a long one is a checklist waiting to be cut
    // into the steps it runs.
    let mut offences = Vec::new();
    let mut seen = 0;
    for (file, text) in sources() {
        if !file.starts_with("run/") {
            continue;
        }
        for (line, name, length) in functions(&text) {
            seen += 1;
            if length >= 60 {
                offences.push(format!("src/{file}:{line}: fn {name} is {length} lines"));
            }
        }
    }
    assert!(seen > 40, "the scan finds run/'s functions ({seen})");
    none("every function in src/run/ is under 60 lines", offences);
}

#[test]
fn the_backend_knows_the_target_not_the_settings() {
    // A backend connects to a parsed target; the settings' layers and origins are the app's.
    let mut offences = Vec::new();
    for (file, text) in sources() {
        if !file.starts_with("backend/") {
            continue;
        }
        for (n, line) in code_lines(&text) {
            let mut rest = line;
            while let Some(i) = rest.find("crate::settings::") {
                rest = &rest[i + "crate::settings::".len()..];
                if !rest.starts_with("target::") {
                    offences.push(format!("src/{file}:{n}: {}", line.trim()));
                }
            }
        }
    }
    none(
        "src/backend/ imports from settings only settings::target",
        offences,
    );
}
