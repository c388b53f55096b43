//! The JSON Schemas in `docs/json/`: the harness checks every JSON document the suite makes the
//! binary print against the schema of its command ([`check_run`], called for every run that
//! exited), with the `jsonschema` crate. The tests here check the schema files themselves: valid
//! draft 2020-12, strict (every key of every object is required and no other key is allowed,
//! which is what "optional keys are always present, `null` when absent" means), and one per kind
//! of document.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{json, Value};

use crate::each_db;
use crate::support::{Db, Run};

/// Where the schema files say they live (their `$id`s); nothing is fetched from there, the
/// files are registered under these names.
const BASE: &str = "https://gitlab.archlinux.org/archlinux/aurweb-migrate/-/raw/main/docs/json/";

/// Every kind of document, by the schema file it is checked against (`<kind>.schema.json`).
const KINDS: &[&str] = &[
    "status",
    "check",
    "upgrade",
    "upgrade-dry-run",
    "downgrade",
    "downgrade-dry-run",
    "record",
    "resolve",
    "history",
    "new",
    "new-autogenerate",
    "verify",
    "schema-dump",
    "schema-diff",
    "schema-init",
    "database",
    "wait",
    "config",
    "error",
    // Not a stdout document: each stderr line of `--log-format json`, open on purpose.
    "log-line",
];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/json")
}

fn read(name: &str) -> Value {
    let path = dir().join(format!("{name}.schema.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The schema files by name (without `.schema.json`).
fn files() -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir()).expect("docs/json") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if let Some(stem) = name.strip_suffix(".schema.json") {
            out.insert(stem.to_string(), read(stem));
        }
    }
    out
}

/// One validator per kind, built once per test process; `defs.schema.json` is registered so
/// that the `$ref`s resolve without any network.
fn validators() -> &'static BTreeMap<&'static str, jsonschema::Validator> {
    static REGISTRY: OnceLock<jsonschema::Registry<'static>> = OnceLock::new();
    static VALIDATORS: OnceLock<BTreeMap<&'static str, jsonschema::Validator>> = OnceLock::new();
    VALIDATORS.get_or_init(|| {
        let registry = REGISTRY.get_or_init(|| {
            jsonschema::Registry::new()
                .add(format!("{BASE}defs.schema.json"), read("defs"))
                .expect("register defs.schema.json")
                .prepare()
                .expect("defs.schema.json resolves")
        });
        KINDS
            .iter()
            .map(|kind| {
                let validator = jsonschema::options()
                    .with_registry(registry)
                    .build(&read(kind))
                    .unwrap_or_else(|e| panic!("{kind}.schema.json: {e}"));
                (*kind, validator)
            })
            .collect()
    })
}

/// The kind of document a run printed: an error document whatever the command, else by the
/// command and the flags that change its document.
fn kind_of(args: &[String], doc: &Value) -> Result<&'static str, String> {
    if doc.get("ok") == Some(&Value::Bool(false)) && doc.get("error").is_some() {
        return Ok("error");
    }
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let has = |flag: &str| words.contains(&flag);
    // The first word that is a command, and the flags or word after it that change its
    // document.
    words
        .iter()
        .enumerate()
        .find_map(|(at, word)| {
            Some(match *word {
                "upgrade" if has("--dry-run") => Ok("upgrade-dry-run"),
                "downgrade" if has("--dry-run") => Ok("downgrade-dry-run"),
                "new" if has("--autogenerate") => Ok("new-autogenerate"),
                "baseline" | "stamp" | "adopt" => Ok("record"),
                "schema" => match words.get(at + 1) {
                    Some(&"dump") => Ok("schema-dump"),
                    Some(&"diff") => Ok("schema-diff"),
                    Some(&"init") => Ok("schema-init"),
                    other => Err(format!("no JSON document for `schema {other:?}`")),
                },
                "status" | "check" | "upgrade" | "downgrade" | "resolve" | "history" | "new"
                | "verify" | "database" | "wait" | "config" => {
                    Ok(KINDS.iter().copied().find(|k| k == word).expect("a kind"))
                }
                _ => return None,
            })
        })
        .unwrap_or_else(|| Err("no command among the arguments".to_string()))
}

/// The schema's complaints about one document (empty: valid).
fn violations(kind: &str, doc: &Value) -> Vec<String> {
    validators()[kind]
        .iter_errors(doc)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect()
}

/// Panics when `doc` does not match `docs/json/<kind>.schema.json` (for documents that reach a
/// test another way than a [`Run`]: through Ansible's registered results).
#[track_caller]
pub fn assert_valid(kind: &str, doc: &Value) {
    let problems = violations(kind, doc);
    assert!(
        problems.is_empty(),
        "the JSON document does not match docs/json/{kind}.schema.json:\n  {}\n{doc:#}",
        problems.join("\n  ")
    );
}

/// Fails the run when it printed a JSON document that its schema rejects. Output that is not
/// a JSON object (human text, SQL) is left alone, unless the run asked for `--format json`.
#[track_caller]
pub fn check_run(run: &Run) {
    let asked = run
        .args
        .windows(2)
        .any(|w| w[0] == "--format" && w[1] == "json")
        || run.args.iter().any(|a| a == "--format=json");
    let json_logs = run
        .args
        .windows(2)
        .any(|w| w[0] == "--log-format" && w[1] == "json");
    if json_logs {
        for line in run.stderr.lines().filter(|l| !l.trim().is_empty()) {
            let problems = match serde_json::from_str::<Value>(line) {
                Ok(v) => violations("log-line", &v),
                Err(e) => vec![format!("not JSON: {e}")],
            };
            if !problems.is_empty() {
                run.fail(&format!(
                    "a --log-format json stderr line does not match docs/json/log-line.schema.json: {line}\n  {}",
                    problems.join("\n  ")
                ));
            }
        }
    }
    let text = run.stdout.trim_start();
    if !text.starts_with('{') {
        return;
    }
    let docs: Result<Vec<Value>, _> = serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .collect();
    let docs = match docs {
        Ok(docs) => docs,
        Err(e) if asked => run.fail(&format!("--format json printed something not JSON: {e}")),
        Err(_) => return,
    };
    for doc in docs {
        let kind = kind_of(&run.args, &doc).unwrap_or_else(|e| run.fail(&e));
        let problems = violations(kind, &doc);
        if !problems.is_empty() {
            run.fail(&format!(
                "the JSON document does not match docs/json/{kind}.schema.json:\n  {}",
                problems.join("\n  ")
            ));
        }
    }
}

/// Every object schema in `v` (and below) requires all its properties and allows no other;
/// pushes the JSON pointers of those that do not. `optional`: the keys the top-level object
/// may leave out.
fn loose_objects(v: &Value, at: &str, optional: &[&str], out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Object(props)) = map.get("properties") {
                let required: Vec<&str> = map
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let left_out: Vec<&String> = props
                    .keys()
                    .filter(|k| !required.contains(&k.as_str()))
                    .filter(|k| !(at.is_empty() && optional.contains(&k.as_str())))
                    .collect();
                if map.get("additionalProperties") != Some(&Value::Bool(false))
                    || !left_out.is_empty()
                {
                    out.push(format!("{at} (not required: {left_out:?})"));
                }
            }
            for (k, child) in map {
                loose_objects(child, &format!("{at}/{k}"), optional, out);
            }
        }
        Value::Array(list) => {
            for (i, child) in list.iter().enumerate() {
                loose_objects(child, &format!("{at}/{i}"), optional, out);
            }
        }
        _ => {}
    }
}

#[test]
fn schema_files_are_valid_strict_and_one_per_kind() {
    let files = files();
    let mut names: Vec<&str> = files.keys().map(String::as_str).collect();
    names.retain(|n| *n != "defs");
    let mut kinds = KINDS.to_vec();
    kinds.sort();
    names.sort();
    assert_eq!(
        names, kinds,
        "docs/json/ holds one schema per kind of document"
    );
    for (name, schema) in &files {
        if let Err(e) = jsonschema::meta::validate(schema) {
            panic!("{name}.schema.json is not a valid JSON Schema: {e}");
        }
        assert_eq!(
            schema["$id"],
            json!(format!("{BASE}{name}.schema.json")),
            "{name}.schema.json's $id"
        );
        if *name == "log-line" {
            continue;
        }
        // Only the error document's top level may leave keys out: the list of what was done,
        // present for the commands that record versions, and the config report's lists,
        // present for `config` commands (see their descriptions).
        let optional: &[&str] = match name.as_str() {
            "error" => &["applied", "reverted", "recorded", "ambiguous", "stale"],
            _ => &[],
        };
        let mut loose = Vec::new();
        loose_objects(schema, "", optional, &mut loose);
        assert!(
            loose.is_empty(),
            "{name}.schema.json: loose objects {loose:?}"
        );
    }
    // Building every validator resolves every `$ref`.
    assert_eq!(validators().len(), KINDS.len());
}

/// The schemas reject what they should: the check above is not vacuous.
#[test]
fn a_document_with_a_key_missing_or_added_is_rejected() {
    let env = crate::support::Env::new();
    let run = env.run(&["-m", "builtin", "--format", "json", "history"]);
    run.ok();
    let doc = run.json();
    assert!(violations("history", &doc).is_empty());
    let mut missing = doc.clone();
    missing["migrations"][0]
        .as_object_mut()
        .expect("a migration")
        .remove("alembic_revision");
    let found = violations("history", &missing);
    assert!(
        found.iter().any(|v| v.contains("alembic_revision")),
        "{found:?}"
    );
    let mut extra = doc.clone();
    extra["surprise"] = json!(1);
    assert!(!violations("history", &extra).is_empty());
    let mut wrong = doc;
    wrong["format_version"] = json!(2);
    assert!(!violations("history", &wrong).is_empty());
}

each_db!(check_drift_problems_are_structured);
/// `check --drift` gives each drift's parts as `adopt` does, and the other problems the same
/// keys, `null`.
fn check_drift_problems_are_structured(db: &Db) {
    db.migration(
        "0001_users.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);",
    );
    db.migration(
        "0002_tags.sql",
        "CREATE TABLE tags (id INTEGER PRIMARY KEY);",
    );
    db.run(&["upgrade", "--to", "1"]).ok();
    db.exec("CREATE TABLE extra (id INTEGER PRIMARY KEY)");
    let run = db.run(&["--format", "json", "check", "--drift"]);
    run.code(1);
    let doc = run.json();
    let problems = doc["problems"].as_array().expect("problems");
    let drift = problems
        .iter()
        .find(|p| p["kind"] == "drift")
        .unwrap_or_else(|| run.fail("no drift problem"));
    assert_eq!(drift["table"], "extra", "{drift}");
    assert_eq!(drift["object"], "table", "{drift}");
    assert_eq!(drift["expected"], Value::Null, "{drift}");
    assert!(drift["found"].is_string(), "{drift}");
    assert_eq!(drift["version"], 1, "{drift}");
    let pending = problems
        .iter()
        .find(|p| p["kind"] == "pending")
        .unwrap_or_else(|| run.fail("no pending problem"));
    for key in ["table", "object", "expected", "found"] {
        assert_eq!(pending[key], Value::Null, "{key} of {pending}");
    }
}

each_db!(optional_keys_are_null_not_missing);
/// An upgrade that built nothing says `installed: null`; an error of a command that records
/// versions lists what it did (nothing) and every part of `error`, `null` where it has none.
fn optional_keys_are_null_not_missing(db: &Db) {
    db.migration(
        "0001_users.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);",
    );
    let doc = db.run(&["--format", "json", "upgrade"]).ok().json();
    assert_eq!(doc["installed"], Value::Null, "{doc}");
    assert!(doc.as_object().expect("object").contains_key("installed"));
    let doc = db
        .run(&["--format", "json", "upgrade", "--dry-run"])
        .ok()
        .json();
    assert!(doc.as_object().expect("object").contains_key("install"));
    assert_eq!(doc["install"], Value::Null, "{doc}");
    // A refusal: the file of an applied version changed.
    db.migration(
        "0001_users.sql",
        "CREATE TABLE users (id BIGINT PRIMARY KEY);",
    );
    let run = db.run(&["--format", "json", "upgrade"]);
    run.code(5);
    let doc = run.json();
    assert_eq!(doc["applied"], json!([]), "{doc}");
    assert_eq!(doc["changed"], false, "{doc}");
    for key in ["file", "line", "version", "flag", "rolled_back"] {
        assert!(
            doc["error"].as_object().expect("error").contains_key(key),
            "error.{key} missing: {doc}"
        );
    }
    assert_eq!(doc["problems"][0]["kind"], "modified", "{doc}");
    let doc = db.run(&["--format", "json", "status"]).json();
    assert!(doc.as_object().expect("object").contains_key("current"));
}

/// Every kind of document a command prints on success or on a finding carries `"ok"` (the
/// error document says false): the schemas require it.
#[test]
fn every_document_kind_requires_ok() {
    for kind in KINDS.iter().filter(|k| **k != "log-line") {
        let schema = read(kind);
        let required = schema["required"].as_array().expect("required");
        assert!(
            required.contains(&json!("ok")) && schema["properties"].get("ok").is_some(),
            "{kind}.schema.json does not require \"ok\""
        );
    }
}

each_db!(ok_says_what_the_exit_code_says);
/// `"ok"` is in every document, true exactly when the command exits 0: a successful `upgrade`
/// and the others that only report say true; `check` and `schema diff` with a finding say false.
fn ok_says_what_the_exit_code_says(db: &Db) {
    db.migration(
        "0001_users.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
    );
    db.env
        .migration("0001_users.down.sql", "DROP TABLE users;\n");
    let said = |args: &[&str]| {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let run = db.run(&all);
        let doc = run.json();
        let code = run.code.unwrap_or_else(|| run.fail("no exit code"));
        assert_eq!(
            doc["ok"],
            json!(code == 0),
            "`{}` exited {code}: {doc:#}",
            args.join(" ")
        );
        code
    };
    assert_eq!(said(&["history"]), 0);
    assert_eq!(said(&["status"]), 0);
    assert_eq!(said(&["check"]), 1);
    assert_eq!(said(&["upgrade", "--dry-run"]), 0);
    assert_eq!(said(&["upgrade"]), 0);
    assert_eq!(said(&["upgrade"]), 0);
    assert_eq!(said(&["check"]), 0);
    assert_eq!(said(&["schema", "dump"]), 0);
    assert_eq!(said(&["schema", "diff"]), 0);
    assert_eq!(said(&["downgrade", "--to", "0", "--dry-run"]), 0);
    assert_eq!(said(&["downgrade", "--to", "0"]), 0);
    assert_eq!(said(&["stamp", "1"]), 0);
    db.exec("CREATE TABLE extra (id INTEGER PRIMARY KEY)");
    assert_eq!(said(&["schema", "diff"]), 1);
    assert_eq!(said(&["new", "add tags"]), 0);
}
