//! `config status|check|upgrade`: config migrations (`<V>_<slug>.config.toml`) applied to
//! aurweb's site config file. Every file the tool writes is read back by Python's
//! `configparser.RawConfigParser` (what aurweb reads its config with) and compared with the
//! values the operations were meant to leave; the bytes around the edits are compared exactly.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::support::Env;

type Parsed = BTreeMap<String, BTreeMap<String, String>>;

/// How aurweb reads the file (`RawConfigParser`, identity `optionxform`), every section with
/// its own keys (`DEFAULT` as a section of its own). `utf-8-sig` so that a file with a
/// byte-order mark can be compared at all (aurweb itself refuses one; the tool warns).
fn configparser(path: &Path) -> Parsed {
    const SCRIPT: &str = r#"
import configparser, json, sys
p = configparser.RawConfigParser()
p.optionxform = lambda o: o
with open(sys.argv[1], encoding="utf-8-sig") as f:
    p.read_file(f)
out = {s: dict(p._sections[s]) for s in p.sections()}
if p.defaults():
    out["DEFAULT"] = dict(p.defaults())
print(json.dumps(out))
"#;
    let out = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(path)
        .output()
        .expect("python3 runs (the test oracle: aurweb's own parser)");
    assert!(
        out.status.success(),
        "configparser refused {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the oracle prints JSON")
}

/// A migrations directory with one SQL migration and a config migration at its version.
fn with_config_migration(env: &Env, toml: &str) {
    env.migration("0001_base.sql", "CREATE TABLE t (id INTEGER);\n");
    env.migration("0001_settings.config.toml", toml);
}

const EVERY_OP: &str = r#"description = "every operation"

[[operation]]
op = "rename-section"
section = "old"
to = "new"

[[operation]]
op = "rename-key"
section = "new"
key = "Colour"
to = "colour"

[[operation]]
op = "rename-key"
section = "new"
key = "moved"
to_section = "elsewhere"
to = "moved_here"

[[operation]]
op = "remove-key"
section = "options"
key = "gone"

[[operation]]
op = "rewrite-value"
section = "options"
key = "path"
from = "/usr/local/bin/x"
to = "/usr/bin/x"

[[operation]]
op = "rewrite-items"
section = "options"
key = "list"
remove = ["b"]
replace = { c = "c1 c2" }

[[operation]]
op = "split-key"
section = "options"
key = "both"
into = ["left", "right"]
"#;

/// Comments (indented, `;` and `#`), odd spacing, `:` as delimiter, `%` taken literally,
/// continuation lines with a blank line and a comment inside, text after a header's `]`.
const AWKWARD: &str = "; comment at the top\n\
    \t#   another, indented\n\
    \n\
    [options]\n\
    gone   =   bye %(x)s\n\
    path: /usr/local/bin/x\n\
    list = a b c d\n\
    both =first line\n    second line %\n  ; a comment inside the value\n\n    third\n\
    keep = 50%% stays\n\
    \n\
    [old]   ; text after the header\n\
    Colour  =  red\n\
    moved = multi\n  line\n\
    other = 1\n";

/// What the operations leave, byte for byte (before the managed line).
const AWKWARD_AFTER: &str = "; comment at the top\n\
    \t#   another, indented\n\
    \n\
    [options]\n\
    path: /usr/bin/x\n\
    list = a c1 c2 d\n\
    left =first line\n    second line %\n  ; a comment inside the value\n\n    third\n\
    right =first line\n    second line %\n  ; a comment inside the value\n\n    third\n\
    keep = 50%% stays\n\
    \n\
    [new]   ; text after the header\n\
    colour  =  red\n\
    other = 1\n\
    \n\
    [elsewhere]\n\
    moved_here = multi\n  line\n";

/// `before` as the operations of [`EVERY_OP`] should leave it, in configparser's terms.
fn every_op_expected(before: &Parsed) -> Parsed {
    let mut p = before.clone();
    let mut old = p.remove("old").unwrap();
    let colour = old.remove("Colour").unwrap();
    old.insert("colour".into(), colour);
    let moved = old.remove("moved").unwrap();
    p.insert("new".into(), old);
    p.insert(
        "elsewhere".into(),
        BTreeMap::from([("moved_here".to_string(), moved)]),
    );
    let options = p.get_mut("options").unwrap();
    options.remove("gone").unwrap();
    options.insert("path".into(), "/usr/bin/x".into());
    options.insert("list".into(), "a c1 c2 d".into());
    let both = options.remove("both").unwrap();
    options.insert("left".into(), both.clone());
    options.insert("right".into(), both);
    p
}

#[test]
fn every_operation_on_awkward_files_matches_configparser() {
    type Shape = fn(&str) -> String;
    let variants: [(&str, Shape); 4] = [
        ("LF", |t| t.to_string()),
        ("CRLF", |t| t.replace('\n', "\r\n")),
        ("BOM", |t| format!("\u{feff}{t}")),
        ("BOM+CRLF", |t| {
            format!("\u{feff}{}", t.replace('\n', "\r\n"))
        }),
    ];
    let mut managed_line = None;
    for (name, shape) in variants {
        let env = Env::new();
        with_config_migration(&env, EVERY_OP);
        let file = env.write("config", shape(AWKWARD));
        let before = configparser(&file);
        let run = env.run(&["config", "upgrade", "--file", "config", "--format", "json"]);
        run.ok();
        let doc = run.json();
        assert_eq!(doc["changed"], true, "{name}");
        assert_eq!(doc["migrations"][0]["changes"].as_array().unwrap().len(), 7);
        if name.starts_with("BOM") {
            run.stderr_has("byte-order mark");
        }
        let after = configparser(&file);
        assert_eq!(
            after,
            every_op_expected(&before),
            "{name}: configparser's view"
        );

        let bytes = String::from_utf8(env.read("config")).unwrap();
        let first_line_end = bytes.find('\n').unwrap() + 1;
        let (line, rest) = bytes.split_at(first_line_end);
        assert!(
            line.trim_start_matches('\u{feff}')
                .starts_with("# aurweb-migrate: config-version=1 "),
            "{name}: {line}"
        );
        // The managed line is the same for every shape of the same content.
        let bare = line.trim_start_matches('\u{feff}').trim_end().to_string();
        assert_eq!(managed_line.get_or_insert(bare.clone()), &bare);
        let expected = shape(AWKWARD_AFTER);
        let expected = expected.trim_start_matches('\u{feff}');
        assert_eq!(
            rest, expected,
            "{name}: every byte the operations did not change stays"
        );
        assert_eq!(
            bytes.starts_with('\u{feff}'),
            name.starts_with("BOM"),
            "{name}: the byte-order mark is kept where it was"
        );
        if name.contains("CRLF") {
            assert!(
                line.ends_with("\r\n"),
                "{name}: the managed line ends as the file's lines do"
            );
        }

        // Idempotence: a second upgrade writes nothing and says so.
        let again = env.run(&["config", "upgrade", "--file", "config", "--format", "json"]);
        again.ok();
        assert_eq!(again.json()["changed"], false);
        assert_eq!(
            env.read("config"),
            bytes.as_bytes(),
            "{name}: second run rewrote the file"
        );
        env.run(&["config", "check", "--file", "config"]).ok();
    }
}

#[test]
fn a_file_with_nothing_to_change_stays_byte_identical() {
    let env = Env::new();
    with_config_migration(&env, EVERY_OP);
    let text = "; nothing old in here\r\n[options]\r\n  path = /usr/bin/x \r\nlist = a c1 d\r\n\r\n[new]\r\ncolour=red";
    let file = env.write("template", text);
    // `check` on a file without the managed line (a rendered template): nothing pending.
    env.run(&["config", "check", "--file", "template"])
        .ok()
        .stdout_has("ok: nothing to migrate");
    let before = configparser(&file);
    let run = env.run(&[
        "config",
        "upgrade",
        "--dry-run",
        "--file",
        "template",
        "--format",
        "json",
    ]);
    run.ok();
    let doc = run.json();
    assert_eq!(
        doc["would_change"], true,
        "adopting the file adds the managed line"
    );
    let diff = doc["diff"].as_str().unwrap();
    let added: Vec<&str> = diff
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .collect();
    let removed = diff
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .count();
    assert_eq!((added.len(), removed), (1, 0), "{diff}");
    assert!(added[0].starts_with("+# aurweb-migrate: config-version=1 "));
    assert_eq!(env.read("template"), text.as_bytes(), "--dry-run wrote");

    env.run(&["config", "upgrade", "--file", "template"]).ok();
    let written = env.read("template");
    let managed_end = written.iter().position(|&b| b == b'\n').unwrap() + 1;
    assert_eq!(
        &written[managed_end..],
        text.as_bytes(),
        "only the managed line was added"
    );
    assert_eq!(configparser(&file), before);
    let inode = std::fs::metadata(&file)
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .unwrap();
    let run = env.run(&[
        "config", "upgrade", "--file", "template", "--format", "json",
    ]);
    assert_eq!(run.ok().json()["changed"], false);
    assert_eq!(env.read("template"), written);
    let inode_after = std::fs::metadata(&file)
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .unwrap();
    assert_eq!(
        inode, inode_after,
        "a run with nothing to change replaced the file"
    );
}

/// A site config as it was written for aurweb 5.0.0, before every change of the shipped
/// history (FACTS.md, "Config history").
const OLD_SITE: &str = "; site config written for aurweb v5.0.0\n\
[database]\nbackend = mysql\nname = aur\nuser = aur\npassword = s3cret%\n\n\
[options]\naur_location = https://aur.example.org\nmax_sessions_per_user = 8\n\
memcache_servers = 127.0.0.1:11211\n\n\
[aurblup]\ndb-path = /srv/http/aurweb/aurblup/\n\
sync-dbs = core extra community multilib testing community-testing\n\n\
[cache]\nexpiry_time = 120\n\n\
[tuvotereminder]\n; hours before the end of a vote\nrange_start = 500\nrange_end = 172800\n";

#[test]
fn the_shipped_history_brings_an_old_site_config_forward() {
    let env = Env::new();
    // No migrations directory: the history built into the binary.
    let file = env.write("config", OLD_SITE);
    let before = configparser(&file);
    let status = env.run(&["config", "status", "--file", "config", "--format", "json"]);
    let doc = status.ok().json();
    assert_eq!(doc["version"], serde_json::Value::Null);
    let pending: Vec<u64> = doc["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["version"].as_u64().unwrap())
        .collect();
    assert_eq!(
        pending,
        [4, 8, 9, 10, 11],
        "the config history at its schema versions"
    );
    env.run(&["config", "check", "--file", "config"]).code(1);

    // A diff's context line may be a password's: it is shown redacted, everywhere.
    env.write(
        "near",
        "[database]\npassword = s3cret%\n[options]\nmax_sessions_per_user = 1\n",
    );
    for format in ["human", "json"] {
        env.run(&[
            "config",
            "upgrade",
            "--dry-run",
            "--file",
            "near",
            "--format",
            format,
        ])
        .ok()
        .stdout_has("password = ***")
        .nowhere("s3cret");
    }

    // AUR_CONFIG names the file, as for aurweb; no database is involved (one that cannot be
    // reached is named, and never contacted).
    let run = env
        .cmd([
            "config",
            "upgrade",
            "--format",
            "json",
            "-d",
            "mysql://nobody@127.0.0.1:9/none",
        ])
        .env("AUR_CONFIG", "config")
        .run();
    assert_eq!(run.ok().json()["changed"], true);
    let after = configparser(&file);
    let mut want = before.clone();
    let options = want.get_mut("options").unwrap();
    options.remove("max_sessions_per_user");
    options.remove("memcache_servers");
    want.get_mut("aurblup").unwrap().insert(
        "sync-dbs".into(),
        "core extra multilib core-testing extra-testing".into(),
    );
    let cache = want.get_mut("cache").unwrap();
    cache.remove("expiry_time");
    cache.insert("expiry_time_search".into(), "120".into());
    cache.insert("expiry_time_statistics".into(), "120".into());
    let votes = want.remove("tuvotereminder").unwrap();
    want.insert("votereminder".into(), votes);
    assert_eq!(after, want);
    let text = String::from_utf8(env.read("config")).unwrap();
    assert!(text.contains("[votereminder]\n; hours before the end of a vote\nrange_start = 500\n"));
    assert!(
        text.contains("password = s3cret%\n"),
        "untouched keys stay as written"
    );

    env.run(&["config", "check", "--file", "config"]).ok();
    let doc = env
        .run(&["config", "status", "--file", "config", "--format", "json"])
        .json();
    assert_eq!(doc["version"], 11);
    assert!(doc["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["state"] == "applied"));
    let again = env
        .cmd(["config", "upgrade", "--format", "json"])
        .env("AUR_CONFIG", "config")
        .run();
    assert_eq!(again.ok().json()["changed"], false);
    assert_eq!(env.read("config"), text.as_bytes());
}

#[test]
fn hand_edits_and_names_back_from_the_past_are_reported_not_overwritten() {
    let env = Env::new();
    env.write("config", OLD_SITE);
    env.run(&["config", "upgrade", "--file", "config"]).ok();
    let upgraded = String::from_utf8(env.read("config")).unwrap();

    let edited = upgraded.replace("expiry_time_search = 120", "expiry_time_search = 30");
    env.write("config", &edited);
    let doc = env
        .run(&["config", "status", "--file", "config", "--format", "json"])
        .ok()
        .json();
    let edits = doc["hand_edits"].as_array().unwrap();
    assert_eq!(edits.len(), 1, "{doc:#}");
    assert_eq!(edits[0]["section"], "cache");
    assert_eq!(edits[0]["key"], "expiry_time_search");
    assert_eq!(edits[0]["text"], "expiry_time_search = 30");
    env.run(&["config", "status", "--file", "config"])
        .ok()
        .stdout_has("edited by hand")
        .stdout_has("[cache] expiry_time_search");
    // A hand edit is the operator's choice: check passes, upgrade keeps it.
    env.run(&["config", "check", "--file", "config"]).ok();
    let run = env.run(&["config", "upgrade", "--file", "config", "--format", "json"]);
    assert_eq!(run.ok().json()["changed"], false);
    assert_eq!(env.read("config"), edited.as_bytes());

    // An old section pasted back in: reported as stale (aurweb ignores it), check fails, and
    // upgrade does not re-apply the rename on its own.
    let pasted = format!("{edited}\n[tuvotereminder]\nrange_start = 1\n");
    env.write("config", &pasted);
    let run = env.run(&["config", "check", "--file", "config", "--format", "json"]);
    let doc = run.code(1).json();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["stale"][0]["version"], 11, "{doc:#}");
    env.run(&["config", "check", "--file", "config"])
        .code(1)
        .stdout_has("present again");
    env.run(&["config", "upgrade", "--file", "config"]).ok();
    assert_eq!(env.read("config"), pasted.as_bytes());
}

#[test]
fn an_ambiguous_target_is_refused_with_both_lines_and_nothing_written() {
    let env = Env::new();
    let text = "[tuvotereminder]\nrange_start = 1\n\n[votereminder]\nrange_start = 2\n\n\
                [cache]\nexpiry_time = 5\nexpiry_time_search = 6\n";
    env.write("config", text);
    let run = env.run(&["config", "upgrade", "--file", "config"]);
    run.code(5)
        .stderr_has("ambiguous")
        .stderr_has("line 1: [tuvotereminder]")
        .stderr_has("line 4: [votereminder]")
        .stderr_has("line 8: expiry_time = 5")
        .stderr_has("line 9: expiry_time_search = 6")
        .stderr_has("nothing was written");
    assert_eq!(env.read("config"), text.as_bytes());
    // --dry-run refuses as upgrade would.
    env.run(&["config", "upgrade", "--dry-run", "--file", "config"])
        .code(5)
        .stderr_has("line 4: [votereminder]");
    let doc = env
        .run(&["config", "check", "--file", "config", "--format", "json"])
        .code(1)
        .json();
    assert_eq!(doc["ambiguous"].as_array().unwrap().len(), 2);
    assert_eq!(doc["ambiguous"][0]["lines"][0]["text"], "expiry_time = 5");
    // The refusal's document keeps the lists the config document has (issue 29 item 9).
    for dry_run in [false, true] {
        let mut args = vec!["config", "upgrade", "--file", "config", "--format", "json"];
        if dry_run {
            args.push("--dry-run");
        }
        let run = env.run(&args);
        let doc = run.code(5).json();
        assert_eq!(doc["ok"], false);
        assert_eq!(doc["error"]["exit_code"], 5);
        assert_eq!(doc["error"]["kind"], "refused");
        assert_eq!(doc["ambiguous"].as_array().unwrap().len(), 2, "{doc:#}");
        assert_eq!(doc["ambiguous"][0]["lines"][0]["line"], 8, "{doc:#}");
        assert!(doc["ambiguous"][1]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["line"] == 4 && l["text"] == "[votereminder]"));
        assert_eq!(doc["stale"], serde_json::json!([]), "{doc:#}");
    }
    // An error before the file is read has the lists too, empty.
    let doc = env
        .run(&["config", "upgrade", "--file", "nowhere", "--format", "json"])
        .json();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["ambiguous"], serde_json::json!([]), "{doc:#}");
    assert_eq!(doc["stale"], serde_json::json!([]), "{doc:#}");

    // The same value under both names is no conflict: the old one goes.
    env.write(
        "config",
        "[tuvotereminder]\nrange_start = 2\n\n[votereminder]\nrange_start = 2\n",
    );
    env.run(&["config", "upgrade", "--file", "config"]).ok();
    let parsed = configparser(&env.join("config"));
    assert_eq!(parsed.keys().collect::<Vec<_>>(), ["votereminder"]);
}

#[test]
fn a_read_only_file_or_directory_is_refused_before_writing() {
    let env = Env::new();
    let dir = env.join("etc");
    std::fs::create_dir(&dir).unwrap();
    let file = env.write("etc/config", OLD_SITE);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).unwrap();
    env.run(&["config", "upgrade", "--file", "etc/config"])
        .code(3)
        .stderr_has("read-only (mode 0444)")
        .stderr_has("nothing was written");
    assert_eq!(env.read("etc/config"), OLD_SITE.as_bytes());
    // --dry-run and check only read.
    env.run(&["config", "upgrade", "--dry-run", "--file", "etc/config"])
        .ok()
        .stdout_has("+[votereminder]");

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let run = env.run(&["config", "upgrade", "--file", "etc/config"]);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    run.code(3).stderr_has("directory").stderr_has("read-only");
    assert_eq!(env.read("etc/config"), OLD_SITE.as_bytes());
    assert_eq!(env.ls("etc"), ["config"], "no temporary file left");

    // Writable again: the mode is kept across the replacement.
    env.run(&["config", "upgrade", "--file", "etc/config"]).ok();
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o640);
    assert_eq!(env.ls("etc"), ["config"]);
}

#[test]
fn kill_9_at_any_moment_leaves_the_old_or_the_new_file() {
    let env = Env::new();
    // Large enough (comments the tool keeps) that writing takes a while.
    let mut text = String::from(OLD_SITE);
    for i in 0..100_000 {
        text.push_str(&format!(
            "; filler comment line {i} to make the file large\n"
        ));
    }
    let file = env.write("config", &text);
    let old = text.into_bytes();
    // The result an uninterrupted run writes, made in a copy.
    env.write("copy", &old);
    env.run(&["config", "upgrade", "--file", "copy"]).ok();
    let new = env.read("copy");
    let temp_present = || {
        env.ls(".")
            .iter()
            .any(|n| n.starts_with(".config.aurweb-migrate."))
    };
    let mut outcomes = BTreeMap::new();
    let mut killed_while_writing = 0;
    for step in 0..24u64 {
        std::fs::write(&file, &old).unwrap();
        let mut spawned = env.cmd(["config", "upgrade", "--file", "config"]).spawn();
        // Kill in the write itself: once the temporary file appears (or the file changes),
        // after 0 to 32 ms; steps past the end of the write land after it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !spawned.has_exited()
            && !temp_present()
            && std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0) == old.len() as u64
            && std::time::Instant::now() < deadline
        {
            std::thread::yield_now();
        }
        std::thread::sleep(std::time::Duration::from_micros(step * step * 60));
        let writing = temp_present();
        let run = spawned.kill();
        let now = std::fs::read(&file).unwrap();
        let which = if now == old {
            "old"
        } else if now == new {
            "new"
        } else {
            run.fail(&format!(
                "after kill -9 at step {step} the file is neither the old nor the new one ({} bytes)",
                now.len()
            ))
        };
        *outcomes.entry(which).or_insert(0) += 1;
        if writing && run.code.is_none() {
            killed_while_writing += 1;
        }
        configparser(&file);
        for name in env.ls(".") {
            if name.starts_with(".config.aurweb-migrate.") {
                std::fs::remove_file(env.join(&name)).unwrap();
            }
        }
    }
    // The next run is not confused by what a killed one left.
    env.run(&["config", "upgrade", "--file", "config"]).ok();
    assert_eq!(std::fs::read(&file).unwrap(), new);
    assert!(
        killed_while_writing > 0,
        "no kill landed while the temporary file was being written: {outcomes:?}"
    );
    eprintln!("kill -9 outcomes: {outcomes:?}");
}

#[test]
fn malformed_config_migrations_are_input_errors_before_anything_is_read() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "0001_x.config.toml",
            "[[operation]]\nop = \"rename-table\"\nsection = \"a\"\nto = \"b\"\n",
            "0001_x.config.toml:2: unknown variant `rename-table`",
        ),
        (
            "0001_x.config.toml",
            "[[operation]]\nop = \"remove-key\"\nsection = \"a\"\nkey = \"b\"\nvalue = 1\n",
            "0001_x.config.toml:1: unknown field `value`",
        ),
        (
            "0001_x.config.toml",
            "description = \"x\"\n\n[[operation]]\nop = \"split-key\"\nsection = \"a\"\nkey = \"b\"\ninto = []\n",
            "0001_x.config.toml:3: split-key: split-key needs `into`",
        ),
        ("0001_x.config.toml", "description = \"nothing\"\n", "no [[operation]]"),
        ("0001_x.conf.toml", "", "0001_x.conf.toml: malformed config migration file name"),
        (
            "0002_x.config.toml",
            "[[operation]]\nop = \"remove-key\"\nsection = \"a\"\nkey = \"b\"\n",
            "version 2 has no SQL migration",
        ),
        ("0001_x.config.toml", "[[operation]\n", "0001_x.config.toml:1:"),
    ];
    for (name, text, want) in cases {
        let env = Env::new();
        env.migration("0001_base.sql", "CREATE TABLE t (id INTEGER);\n");
        env.migration(name, text);
        env.write("config", "[a]\nb = 1\n");
        env.run(&["config", "upgrade", "--file", "config"])
            .code(2)
            .stderr_has(want);
        assert_eq!(env.read("config"), b"[a]\nb = 1\n");
        // The SQL side never needs the config migrations.
        env.run(&["history"]).ok();
    }

    // `verify`, the repository's CI check, refuses a malformed config migration too.
    let env = Env::new();
    env.migration("0001_base.sql", "CREATE TABLE t (id INTEGER);\n");
    env.migration(
        "0001_x.config.toml",
        "[[operation]]\nop = \"drop-everything\"\n",
    );
    env.run(&["verify", "--dialect", "sqlite"])
        .code(2)
        .stderr_has("0001_x.config.toml:2: unknown variant `drop-everything`");

    // Two files for one version.
    let env = Env::new();
    with_config_migration(&env, EVERY_OP);
    env.migration("0001_more.config.toml", EVERY_OP);
    env.write("config", "[a]\nb = 1\n");
    env.run(&["config", "status", "--file", "config"])
        .code(2)
        .stderr_has("version 1 already has a config migration");

    // A file aurweb's configparser refuses is refused too, with its line.
    let env = Env::new();
    env.write("config", "[a]\nb = 1\n\n[a]\nc = 2\n");
    env.run(&["config", "check", "--file", "config"])
        .code(2)
        .stderr_has("config:4: section [a] appears twice");
    env.run(&["config", "status"])
        .code(2)
        .stderr_has("no config file");
}

#[test]
fn an_applied_config_migration_edited_afterwards_is_refused() {
    let env = Env::new();
    with_config_migration(&env, EVERY_OP);
    env.write("config", AWKWARD);
    env.run(&["config", "upgrade", "--file", "config"]).ok();
    let upgraded = env.read("config");
    env.migration(
        "0001_settings.config.toml",
        &EVERY_OP.replace("every operation", "edited"),
    );
    env.run(&["config", "upgrade", "--file", "config"])
        .code(5)
        .stderr_has("not those applied");
    assert_eq!(env.read("config"), upgraded);
    env.run(&["config", "check", "--file", "config"])
        .code(1)
        .stdout_has("conflict");
}

/// Each operation alone, on the awkward file in LF and CRLF: configparser's parse after the
/// upgrade is the parse before with exactly that operation's change.
#[test]
fn each_operation_alone_matches_configparser() {
    type Edit = fn(&mut Parsed);
    let ops: [(&str, Edit); 7] = [
        ("op = \"rename-section\"\nsection = \"old\"\nto = \"new\"", |p| {
            let s = p.remove("old").unwrap();
            p.insert("new".into(), s);
        }),
        ("op = \"rename-key\"\nsection = \"old\"\nkey = \"Colour\"\nto = \"colour\"", |p| {
            let s = p.get_mut("old").unwrap();
            let v = s.remove("Colour").unwrap();
            s.insert("colour".into(), v);
        }),
        (
            "op = \"rename-key\"\nsection = \"old\"\nkey = \"moved\"\nto_section = \"options\"",
            |p| {
                let v = p.get_mut("old").unwrap().remove("moved").unwrap();
                p.get_mut("options").unwrap().insert("moved".into(), v);
            },
        ),
        ("op = \"remove-key\"\nsection = \"options\"\nkey = \"gone\"", |p| {
            p.get_mut("options").unwrap().remove("gone").unwrap();
        }),
        (
            "op = \"rewrite-value\"\nsection = \"options\"\nkey = \"path\"\nfrom = \"/usr/local/bin/x\"\nto = \"/usr/bin/x\"",
            |p| {
                p.get_mut("options").unwrap().insert("path".into(), "/usr/bin/x".into());
            },
        ),
        (
            "op = \"rewrite-items\"\nsection = \"options\"\nkey = \"list\"\nremove = [\"a\", \"d\"]",
            |p| {
                p.get_mut("options").unwrap().insert("list".into(), "b c".into());
            },
        ),
        (
            "op = \"split-key\"\nsection = \"old\"\nkey = \"moved\"\ninto = [\"m1\", \"m2\", \"m3\"]",
            |p| {
                let s = p.get_mut("old").unwrap();
                let v = s.remove("moved").unwrap();
                for k in ["m1", "m2", "m3"] {
                    s.insert(k.into(), v.clone());
                }
            },
        ),
    ];
    for (op, edit) in ops {
        for crlf in [false, true] {
            let env = Env::new();
            with_config_migration(&env, &format!("[[operation]]\n{op}\n"));
            let text = if crlf {
                AWKWARD.replace('\n', "\r\n")
            } else {
                AWKWARD.to_string()
            };
            let file = env.write("config", &text);
            let mut want = configparser(&file);
            edit(&mut want);
            let run = env.run(&["config", "upgrade", "--file", "config", "--format", "json"]);
            assert_eq!(run.ok().json()["changed"], true, "{op}");
            assert_eq!(configparser(&file), want, "{op} (CRLF: {crlf})");
            let after = String::from_utf8(env.read("config")).unwrap();
            let crlf_ends = after.matches("\r\n").count();
            let want_crlf = if crlf { after.matches('\n').count() } else { 0 };
            assert_eq!(
                crlf_ends, want_crlf,
                "{op}: every line keeps the file's line ending"
            );
            // Every comment line of the original is still there.
            for line in text
                .lines()
                .filter(|l| l.trim_start().starts_with([';', '#']))
            {
                assert!(after.contains(line), "{op}: comment {line:?} lost");
            }
        }
    }
}

/// The config migration the operators' guide shows is one the tool takes, and does what it says.
#[test]
fn the_guides_example_is_a_working_config_migration() {
    let block = crate::support::doc_toml_block("docs/operators.md", "[[operation]]");
    let env = Env::new();
    env.migration("0001_base.sql", "CREATE TABLE t (id INTEGER);\n");
    env.migration("0001_example.config.toml", &block);
    env.write("config", "[tuvotereminder]\nrange_start = 1\n");
    env.run(&["config", "upgrade", "--file", "config"]).ok();
    let parsed = configparser(&env.join("config"));
    assert_eq!(parsed.keys().collect::<Vec<_>>(), ["votereminder"]);
}

/// A later release adds a config migration: the file moves to its version (even when the new
/// operations change nothing in it), and only then has nothing pending. One inserted below the
/// recorded version is refused, as an out-of-order SQL migration would be.
#[test]
fn a_new_release_moves_the_file_forward_and_an_inserted_migration_is_refused() {
    let env = Env::new();
    env.migration("0001_base.sql", "CREATE TABLE t (id INTEGER);\n");
    env.migration("0003_more.sql", "CREATE TABLE u (id INTEGER);\n");
    env.migration(
        "0001_a.config.toml",
        "[[operation]]\nop = \"remove-key\"\nsection = \"s\"\nkey = \"old\"\n",
    );
    env.write("config", "[s]\nold = 1\nkeep = 2\n");
    env.run(&["config", "upgrade", "--file", "config"]).ok();
    let at_one = env.read("config");

    env.migration(
        "0003_b.config.toml",
        "[[operation]]\nop = \"rename-key\"\nsection = \"s\"\nkey = \"absent\"\nto = \"present\"\n",
    );
    let doc = env
        .run(&["config", "status", "--file", "config", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["migrations"][1]["state"], "pending");
    assert_eq!(
        doc["would_change"], true,
        "the managed line moves to version 3"
    );
    env.run(&["config", "status", "--file", "config"])
        .ok()
        .stdout_has("pending (changes nothing here)");
    // Nothing in the file is stale: check passes although the line is behind.
    env.run(&["config", "check", "--file", "config"]).ok();
    let run = env.run(&["config", "upgrade", "--file", "config", "--format", "json"]);
    assert_eq!(run.ok().json()["changed"], true);
    let at_three = String::from_utf8(env.read("config")).unwrap();
    assert!(
        at_three.starts_with("# aurweb-migrate: config-version=3 "),
        "{at_three}"
    );
    assert_eq!(
        at_three.split_once('\n').unwrap().1.as_bytes(),
        at_one.splitn(2, |&b| b == b'\n').nth(1).unwrap(),
        "only the managed line changed"
    );
    let run = env.run(&["config", "upgrade", "--file", "config", "--format", "json"]);
    assert_eq!(run.ok().json()["changed"], false);

    // A config migration inserted at version 1's SQL migration, below the recorded 3.
    env.remove("migrations/0001_a.config.toml");
    env.migration(
        "0001_other.config.toml",
        "[[operation]]\nop = \"remove-key\"\nsection = \"s\"\nkey = \"keep\"\n",
    );
    env.run(&["config", "upgrade", "--file", "config"])
        .code(5)
        .stderr_has("not those applied");
    assert_eq!(env.read("config"), at_three.as_bytes());
}

/// The 1-based line of `text` (as on disk: CRLF or LF) holding `needle`, which occurs once.
fn line_on_disk(text: &str, needle: &str) -> usize {
    let found: Vec<usize> = text
        .split('\n')
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(found.len(), 1, "{needle:?} once in the fixture");
    found[0]
}

#[test]
fn reported_line_numbers_are_lines_of_the_file_on_disk() {
    let env = Env::new();
    with_config_migration(
        &env,
        r#"[[operation]]
op = "remove-key"
section = "options"
key = "motd"

[[operation]]
op = "split-key"
section = "cache"
key = "expiry_time"
into = ["expiry_time_search", "expiry_time_stats"]

[[operation]]
op = "rename-section"
section = "tuvotereminder"
to = "votereminder"

[[operation]]
op = "rename-key"
section = "options"
key = "aurwebdir"
to = "aurweb_dir"
"#,
    );
    // CRLF, comments, blank lines and continuation lines; the first two operations take four
    // lines away and add one before the items reported after them.
    let text = "; site config\r\n\r\n[options]\r\nmotd = first\r\n  second\r\n  # inside\r\n  third\r\n\r\n\
                [cache]\r\n# how long\r\nexpiry_time = 60\r\n\r\n\
                # reminders\r\n[tuvotereminder]\r\nrange_start = 500\r\n";
    env.write("config", text);
    let expected = [
        ("remove-key", line_on_disk(text, "motd")),
        ("split-key", line_on_disk(text, "expiry_time")),
        ("rename-section", line_on_disk(text, "[tuvotereminder]")),
    ];
    for command in ["status", "check"] {
        let run = env.run(&["config", command, "--file", "config", "--format", "json"]);
        let doc = run.json();
        let changes: Vec<(String, usize)> = doc["migrations"][0]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let op = c["op"].as_str().unwrap().to_string();
                (op, c["line"].as_u64().unwrap() as usize)
            })
            .collect();
        let expected: Vec<(String, usize)> =
            expected.iter().map(|(o, l)| (o.to_string(), *l)).collect();
        assert_eq!(changes, expected, "config {command}: {doc:#}");
        let human = env.run(&["config", command, "--file", "config"]);
        for (_, line) in &expected {
            human.stdout_has(&format!("line {line}: "));
        }
    }
    let upgrade = env.run(&["config", "upgrade", "--file", "config"]);
    for (_, line) in &expected {
        upgrade.ok().stdout_has(&format!("line {line}: "));
    }

    // The refusal of an ambiguous rename names the lines as they are on disk (and their text).
    let text = format!("{text}\r\n[options2]\r\nx = 1\r\n");
    let text = text.replace(
        "  third\r\n",
        "  third\r\naurwebdir = /srv/a\r\naurweb_dir = /srv/b\r\n",
    );
    env.write("config", &text);
    let old = line_on_disk(&text, "aurwebdir");
    let new = line_on_disk(&text, "aurweb_dir");
    env.run(&["config", "upgrade", "--file", "config"])
        .code(5)
        .stderr_has(&format!("line {old}: aurwebdir = /srv/a"))
        .stderr_has(&format!("line {new}: aurweb_dir = /srv/b"));
    let doc = env
        .run(&["config", "check", "--file", "config", "--format", "json"])
        .code(1)
        .json();
    let lines = &doc["ambiguous"][0]["lines"];
    assert_eq!(lines[0]["line"], old as u64, "{doc:#}");
    assert_eq!(lines[1]["line"], new as u64, "{doc:#}");
    assert_eq!(env.read("config"), text.as_bytes());
}

/// The sample site config in contrib/ (docs/operators.md, "A sample site config") gives every
/// shipped config migration something to change, and is clean after one `config upgrade`.
#[test]
fn the_sample_site_config_exercises_every_config_migration() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let migrations = repo.join("migrations");
    let migrations = migrations.to_str().expect("a UTF-8 path");
    let env = Env::new();
    env.write(
        "config",
        std::fs::read(repo.join("contrib/aurweb/config.sample")).expect("the sample"),
    );
    let doc = env
        .run(&[
            "-m", migrations, "config", "upgrade", "--file", "config", "--format", "json",
        ])
        .ok()
        .json();
    assert_eq!(doc["changed"], true, "{doc:#}");
    let shipped = std::fs::read_dir(repo.join("migrations"))
        .expect("migrations/")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".config.toml"))
        })
        .count();
    let migrations_run = doc["migrations"].as_array().expect("migrations");
    assert_eq!(migrations_run.len(), shipped, "{doc:#}");
    for m in migrations_run {
        assert!(
            !m["changes"].as_array().expect("changes").is_empty(),
            "config migration {} changes nothing in the sample: {doc:#}",
            m["version"]
        );
    }
    env.run(&["-m", migrations, "config", "check", "--file", "config"])
        .ok()
        .stdout_has("nothing to migrate");
}
