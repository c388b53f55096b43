//! Commands that need no database: `new`, `history`, argument errors.

use crate::support::{Db, Env};

/// The current UTC time as `YYYYMMDDHHMMSS`.
fn utc_stamp() -> u64 {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .expect("digits")
}

/// `<version>_<slug><suffix>` split from a printed path's file name.
fn file_name(printed: &str) -> String {
    std::path::Path::new(printed.trim())
        .file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

/// A test directory with an empty `./migrations` (without one, commands that read migrations
/// refuse: see `embedded`).
fn env_with_migrations_dir() -> Env {
    let env = Env::new();
    std::fs::create_dir(env.join("migrations")).expect("mkdir migrations");
    env
}

#[test]
fn new_writes_a_timestamped_file_and_prints_its_path() {
    let env = env_with_migrations_dir();
    let before = utc_stamp();
    let run = env.run(&["new", "add foo index"]);
    let after = utc_stamp();
    run.ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    run.check(lines.len() == 1, "expected exactly one printed path");
    let name = file_name(lines[0]);
    let (version, rest) = name.split_once('_').expect("VERSION_slug");
    run.check(version.len() == 14, "the version is a 14-digit timestamp");
    let v: u64 = version.parse().expect("digits");
    run.check(
        (before..=after).contains(&v),
        &format!("{v} is the UTC time of the run ({before}..={after})"),
    );
    assert_eq!(rest, "add_foo_index.sql");
    assert!(
        lines[0].trim().ends_with(&format!("migrations/{name}")),
        "{}",
        lines[0]
    );
    assert_eq!(env.ls("migrations"), [name]);
    // The file it writes is a valid migration.
    env.run(&["history"]).ok().stdout_has("add foo index");
}

#[test]
fn new_reversible_adds_a_down_file() {
    let env = env_with_migrations_dir();
    let run = env.run(&["new", "--reversible", "Add Users table!"]);
    run.ok();
    let names: Vec<String> = run.stdout.lines().map(file_name).collect();
    run.check(names.len() == 2, "two paths printed");
    let v = names[0].split('_').next().unwrap().to_string();
    let mut expected = vec![
        format!("{v}_add_users_table.sql"),
        format!("{v}_add_users_table.down.sql"),
    ];
    let mut got = names.clone();
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
    assert_eq!(env.ls("migrations"), expected);
    env.run(&["history"]).ok().stdout_has("[reversible]");
}

#[test]
fn new_with_dialects_writes_one_variant_each() {
    let env = env_with_migrations_dir();
    let run = env.run(&["new", "--dialect", "mysql", "--dialect", "sqlite", "split"]);
    run.ok();
    let files = env.ls("migrations");
    let v = files[0].split('_').next().unwrap().to_string();
    assert_eq!(
        files,
        [
            format!("{v}_split.mysql.sql"),
            format!("{v}_split.sqlite.sql")
        ]
    );
    for f in &files {
        run.stdout_has(f);
    }
    // Each header tells how its dialect runs the file: MySQL commits DDL implicitly and takes
    // trigger bodies between DELIMITER lines; SQLite runs the file in one transaction.
    let mysql = String::from_utf8(env.read(format!("migrations/{v}_split.mysql.sql"))).unwrap();
    assert!(mysql.contains("DELIMITER //"), "{mysql}");
    assert!(mysql.contains("commit DDL"), "{mysql}");
    assert!(mysql.contains("runs in steps"), "{mysql}");
    let sqlite = String::from_utf8(env.read(format!("migrations/{v}_split.sqlite.sql"))).unwrap();
    assert!(
        sqlite.contains("one transaction with its history row"),
        "{sqlite}"
    );
    assert!(!sqlite.contains("DELIMITER"), "{sqlite}");
}

#[test]
fn new_continues_zero_padded_sequence_numbers() {
    let env = Env::new();
    env.migration("0001_x.sql", "CREATE TABLE x (id INTEGER);\n");
    env.migration("0002_y.sql", "CREATE TABLE y (id INTEGER);\n");
    let run = env.run(&["new", "next one"]);
    run.ok().stdout_has("migrations/0003_next_one.sql");
    assert_eq!(
        env.ls("migrations"),
        ["0001_x.sql", "0002_y.sql", "0003_next_one.sql"]
    );
}

#[test]
fn new_json_lists_the_files() {
    let env = env_with_migrations_dir();
    let run = env.run(&["new", "--format", "json", "--reversible", "with json"]);
    run.ok();
    let doc = run.json();
    assert_eq!(doc["format_version"], 1);
    let files: Vec<String> = doc["files"]
        .as_array()
        .expect("files array")
        .iter()
        .map(|f| f.as_str().expect("string").to_string())
        .collect();
    assert_eq!(files.len(), 2, "{doc:#}");
    for f in &files {
        assert!(
            std::path::Path::new(f).is_file() || env.join(f).is_file(),
            "{f}"
        );
    }
    assert!(files[0].ends_with("_with_json.sql"), "{files:?}");
    assert!(files[1].ends_with("_with_json.down.sql"), "{files:?}");
}

#[test]
fn new_rejects_a_description_without_letters() {
    let env = env_with_migrations_dir();
    env.run(&["new", "!!!"])
        .code(2)
        .stderr_has("has no letters or digits");
    assert!(env.ls("migrations").is_empty());
}

/// A freshly generated file holds only comments (its template comment contains a `;`, which
/// only a real lexer ignores): it is refused until it has statements or says it is meant to
/// be empty, and then applies as a recorded no-op.
#[test]
fn new_file_is_refused_until_edited() {
    let env = env_with_migrations_dir();
    let db = Db::sqlite(&env);
    let new = env.run(&["new", "nothing yet"]);
    new.ok();
    let file = new.stdout.trim().to_string();
    db.run(&["upgrade"])
        .code(2)
        .stderr_has(&format!("{file}: no statements"));
    let template = String::from_utf8(env.read(&file)).unwrap();
    env.write(&file, format!("-- aurweb-migrate: empty\n{template}"));
    db.run(&["upgrade"]).ok();
    let h = db.history();
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(h[0].state, "applied");
    assert_eq!(h[0].statements_total, 0, "comments are not statements");
}

#[test]
fn history_lists_files_without_touching_a_database() {
    let env = Env::new();
    crate::support::three_reversible(&env);
    let run = env.run(&["history"]);
    run.ok()
        .stdout_has("1  one")
        .stdout_has("2  two")
        .stdout_has("3  three");
    assert!(
        !env.exists("aurweb.sqlite3"),
        "the default database was created"
    );
    let db = Db::sqlite(&env);
    let run = db.run(&["history", "--format", "json"]);
    run.ok();
    assert!(!db.exists(), "history created the database");
    let doc = run.json();
    let versions: Vec<i64> = doc["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .map(|m| m["version"].as_i64().expect("integer version"))
        .collect();
    assert_eq!(versions, [1, 2, 3]);
    assert_eq!(doc["migrations"][0]["reversible"], true);
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::new();
    env.run(&["upgrade", "--to", "abc"]).code(2);
    env.run(&["frobnicate"]).code(2);
    env.run(&["resolve", "1"]).code(2);
    env.run(&["--format", "yaml", "status"]).code(2);
    assert!(!env.exists("aurweb.sqlite3"));
}

/// A migrations directory that is configured but missing is an error before anything is
/// written (so is a missing `./migrations` without `-m`: see `embedded`).
#[test]
fn missing_migrations_directory_is_a_usage_error() {
    let env = Env::new();
    let db = Db::sqlite(&env);
    db.run(&["-m", "migrations", "upgrade"])
        .code(2)
        .stderr_has("migrations directory migrations does not exist");
    assert!(!db.exists());
}

/// README's first command, `cargo run -- upgrade`, runs the repository's own `migrations/`
/// on the embedded default database: it must succeed on a fresh checkout, and a second run
/// must have nothing to do.
#[test]
fn the_repository_migrations_apply_on_the_embedded_default() {
    let env = Env::new();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let entries =
        std::fs::read_dir(repo.join("migrations")).expect("the repository has migrations/");
    for entry in entries {
        let entry = entry.expect("a directory entry");
        let bytes = std::fs::read(entry.path()).expect("readable");
        env.write(
            std::path::Path::new("migrations").join(entry.file_name()),
            bytes,
        );
    }
    let run = env.run(&["upgrade", "--format", "json"]);
    run.ok();
    run.check(
        env.path().join("aurweb.sqlite3").exists(),
        "the embedded default ./aurweb.sqlite3 was created",
    );
    let again = env.run(&["upgrade", "--format", "json"]);
    again.ok();
    again.check(
        again.json()["changed"] == false,
        "a second run changes nothing",
    );
    env.run(&["check"]).ok();
}

/// A command's `--help` lists its own options first, under "Options:", and the options every
/// command takes after them, under their own heading "Global options:"; its man page does the
/// same (OPTIONS, then GLOBAL OPTIONS, and the synopsis in that order).
#[test]
fn a_commands_help_lists_its_own_options_before_the_global_ones() {
    let env = Env::new();
    for (command, own) in [
        (&["upgrade"][..], "--to <VERSION>"),
        (&["status"][..], "--pending"),
        (&["config", "upgrade"][..], "--file <PATH>"),
        (&["schema", "render"][..], "--dialect <DIALECT>"),
    ] {
        let mut args = command.to_vec();
        args.push("--help");
        let run = env.run(&args);
        run.ok();
        let help = &run.stdout;
        let at = |needle: &str| {
            help.find(needle)
                .unwrap_or_else(|| panic!("{command:?} --help has no {needle:?}:\n{help}"))
        };
        let options = at("Options:\n");
        let own_at = help[options..].find(own).map_or(0, |i| i + options);
        let heading = at("\nGlobal options:\n");
        let global = at("--database-url <URL>");
        assert!(
            options < own_at && own_at < heading && heading < global,
            "{command:?} --help: its own option, then the global ones under their heading:\n{help}"
        );
        for global in ["--lock-timeout", "--format", "--log-format", "--config"] {
            assert!(
                at(global) > heading,
                "{command:?} --help lists {global} under \"Global options\":\n{help}"
            );
        }
    }

    env.run(&["man", "--out-dir", "pages"]).ok();
    let page = String::from_utf8(env.read("pages/aurweb-migrate-upgrade.1")).expect("roff");
    let at = |needle: &str| {
        page.find(needle)
            .unwrap_or_else(|| panic!("aurweb-migrate-upgrade.1 has no {needle:?}:\n{page}"))
    };
    let options = at(".SH OPTIONS");
    let heading = at(".SH \"GLOBAL OPTIONS\"");
    let own = page[options..].find(r"\fB\-\-to\fR").map(|i| i + options);
    let global = page[heading..]
        .find(r"\fB\-\-database\-url\fR")
        .map(|i| i + heading);
    assert!(
        options < heading && own.is_some_and(|o| o < heading) && global.is_some(),
        "the man page lists --to under OPTIONS and --database-url under GLOBAL OPTIONS:\n{page}"
    );
    let synopsis = &page[at(".SH SYNOPSIS")..options];
    assert!(
        synopsis.find(r"\-\-to") < synopsis.find(r"\-\-database\-url"),
        "the synopsis names the command's own options first:\n{synopsis}"
    );
}

/// The repository's root as it is: its aurweb-migrate.toml names ./migrations and ./schema, so
/// `cargo run -- upgrade` there needs no flag and builds the database from schema/.
#[test]
fn the_repository_root_config_names_its_migrations() {
    let env = Env::new();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    env.write(
        "aurweb-migrate.toml",
        std::fs::read(repo.join("aurweb-migrate.toml")).expect("the repository's config"),
    );
    crate::aurweb::copy_repository(&env);
    env.run(&["status", "-v"]).ok().stdout_has(&format!(
        "  migrations      {}  (from config file {})",
        env.join("migrations").display(),
        env.join("aurweb-migrate.toml").display()
    ));
    env.run(&["upgrade"])
        .ok()
        .stdout_has("built the database from schema/sqlite.sql");
    env.run(&["check"]).ok();
}

/// What the argument parser prints, pinned byte for byte: every command's `--help` (and `-h`),
/// `help`, `--version`, the usage errors (with their suggestions, and the JSON error document
/// under `--format json`), the completion scripts and the man pages. The parser builds only the
/// command the arguments name when it can (start-up cost, issue 31 item 3), and falls back to
/// the whole command tree for everything it prints: this output must not change with that.
/// Regenerate on purpose with `UPDATE_EXPECT=1 cargo test --test integration parser_output`.
#[test]
fn the_parser_output_is_pinned() {
    let env = Env::new();
    let mut commands: Vec<Vec<&str>> = vec![
        vec![],
        vec!["--help"],
        vec!["-h"],
        vec!["--version"],
        vec!["-V"],
        vec!["help"],
        vec!["help", "status"],
        vec!["help", "schema", "render"],
        vec!["status", "help"],
        vec!["frobnicate"],
        vec!["statu"],
        vec!["upgrad", "--to", "3"],
        vec!["status", "--bogus"],
        vec!["status", "--pendin"],
        vec!["status", "extra"],
        vec!["upgrade", "--to", "abc"],
        vec!["upgrade", "--to", "+1"],
        vec!["upgrade", "--sql", "--dry-run"],
        vec!["upgrade", "--dialect", "mysql"],
        vec!["resolve", "1"],
        vec!["new"],
        vec!["database"],
        vec!["schema"],
        vec!["schema", "frob"],
        vec!["config"],
        vec!["--format", "yaml", "status"],
        vec!["--format", "json", "frobnicate"],
        vec!["--format", "json", "status", "--bogus"],
        vec!["-v", "-q", "status"],
        vec!["--table"],
        vec!["--table", "status"],
        vec!["--table", "status", "upgrade", "--help"],
        vec!["-d", "sqlite://x", "statu"],
        vec!["--max-lock", "weird", "upgrade"],
        vec!["--max-algorithm", "COPY", "upgrade", "--frob"],
        vec!["completions"],
        vec!["completions", "bash"],
        vec!["completions", "zsh"],
        vec!["completions", "fish"],
        vec!["man"],
    ];
    let paths: &[&[&str]] = &[
        &["new"],
        &["status"],
        &["database"],
        &["database", "create"],
        &["database", "drop"],
        &["wait"],
        &["upgrade"],
        &["downgrade"],
        &["check"],
        &["baseline"],
        &["adopt"],
        &["verify"],
        &["schema"],
        &["schema", "dump"],
        &["schema", "diff"],
        &["schema", "render"],
        &["schema", "init"],
        &["stamp"],
        &["resolve"],
        &["history"],
        &["config"],
        &["config", "status"],
        &["config", "check"],
        &["config", "upgrade"],
        &["completions"],
        &["man"],
    ];
    for path in paths {
        for flag in ["--help", "-h"] {
            let mut args = path.to_vec();
            args.push(flag);
            commands.push(args);
        }
        let mut args = vec!["-d", "sqlite://x", "--format", "json"];
        args.extend_from_slice(path);
        args.push("--no-such-flag");
        commands.push(args);
    }
    let mut out = String::new();
    for args in &commands {
        let run = env.run(args);
        out.push_str(&format!(
            "$ aurweb-migrate {}\nexit {:?}\n--- stdout\n{}--- stderr\n{}\n",
            args.join(" "),
            run.code,
            run.stdout,
            run.stderr
        ));
    }
    env.run(&["man", "--out-dir", "pages"]).ok();
    let mut pages = env.ls("pages");
    pages.sort();
    for page in pages {
        let text = String::from_utf8(env.read(format!("pages/{page}"))).expect("roff");
        out.push_str(&format!("=== pages/{page}\n{text}\n"));
    }
    expect_test::expect_file!["snapshots/parser_output.txt"].assert_eq(&out);
}
