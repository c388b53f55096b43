//! aurweb's own schema as code: the repository's `migrations/` and `schema/`, copied into each
//! test's directory. Fresh installs equal a full replay, `verify` catches a schema change
//! without its migration, and real aurweb databases — one hand-upgraded from 4.8 and one
//! Alembic managed at a middle revision — are adopted and brought to the head.

use std::path::Path;

use crate::each_db;
use crate::support::{Db, Env};

each_db!(
    fresh_install_equals_a_full_replay,
    alembic_era_database_is_adopted_and_upgraded,
    unknown_alembic_revision_is_refused,
    a_one_line_schema_change_fails_verify,
    concurrent_fresh_installs_build_once,
    vote_columns_get_their_declared_definitions,
);

/// The repository's migrations/ and schema/ (their `*.sql` files) into the test's directory.
pub(crate) fn copy_repository(env: &Env) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["migrations", "schema"] {
        for entry in std::fs::read_dir(repo.join(dir)).expect("the repository has it") {
            let entry = entry.expect("a directory entry");
            let name = entry.file_name();
            if name.to_string_lossy().ends_with(".sql") {
                env.write(
                    Path::new(dir).join(&name),
                    std::fs::read(entry.path()).expect("readable"),
                );
            }
        }
    }
}

/// The repository's migration files (`*.sql` in migrations/).
fn repository_files() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    std::fs::read_dir(dir)
        .expect("the repository has migrations/")
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".sql"))
        .collect()
}

/// The newest version in the repository's migrations/ (aurweb's head is 17; ours may be later).
pub(crate) fn aurweb_head() -> i64 {
    repository_files()
        .iter()
        .map(|n| {
            n.split('_')
                .next()
                .unwrap()
                .parse::<i64>()
                .expect("a version")
        })
        .max()
        .expect("at least one migration")
}

/// How many `*.sql` files migrations/ holds.
pub(crate) fn aurweb_file_count() -> usize {
    repository_files().len()
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Empties the test's database completely (tables and history).
pub(crate) fn wipe(db: &Db) {
    if db.is_sqlite() {
        std::fs::remove_file(db.sqlite_path()).expect("remove the SQLite file");
    } else {
        let name = db.mysql_database().to_string();
        db.exec(&format!(
            "DROP DATABASE `{name}`; CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
        ));
    }
}

fn versions(doc: &serde_json::Value, key: &str) -> Vec<i64> {
    doc[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} in {doc:#}"))
        .iter()
        .map(|a| a["version"].as_i64().expect("a version"))
        .collect()
}

fn fresh_install_equals_a_full_replay(db: &Db) {
    copy_repository(db.env);
    let doc = db.run(&["upgrade", "--format", "json"]).ok().json();
    assert_eq!(doc["changed"], true, "{doc:#}");
    assert_eq!(doc["current"], aurweb_head(), "{doc:#}");
    let baseline: Vec<i64> = doc["installed"]["baseline"]
        .as_array()
        .expect("installed from schema/")
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(baseline, (1..=aurweb_head()).collect::<Vec<_>>(), "{doc:#}");
    assert!(versions(&doc, "applied").is_empty(), "{doc:#}");
    let tables = db.tables();
    assert_eq!(tables.len(), 31, "aurweb's 30 tables and ours: {tables:?}");
    assert_eq!(db.count("RequestTypes"), 4, "seed rows incl. adoption");
    db.run(&["check", "--drift"]).ok();
    let fresh = db.run(&["schema", "dump"]).ok().stdout.clone();

    wipe(db);
    let doc = db
        .run(&["upgrade", "--replay", "--format", "json"])
        .ok()
        .json();
    assert!(doc["installed"].is_null(), "{doc:#}");
    assert_eq!(
        versions(&doc, "applied"),
        (1..=aurweb_head()).collect::<Vec<_>>()
    );
    let replayed = db.run(&["schema", "dump"]).ok().stdout.clone();
    assert_eq!(fresh, replayed, "both roads give the same schema");
    assert!(fresh.contains("table Users"), "{fresh}");
    assert!(
        fresh.contains("  index BasesPopularityName (Popularity, Name)"),
        "{fresh}"
    );
    db.run(&["check", "--drift"]).ok();
    assert_eq!(
        db.strings("SELECT Name FROM RequestTypes ORDER BY ID"),
        ["deletion", "orphan", "merge", "adoption"]
    );
    assert_eq!(
        db.strings("SELECT AccountType FROM AccountTypes ORDER BY ID"),
        [
            "User",
            "Package Maintainer",
            "Developer",
            "Package Maintainer & Developer"
        ]
    );
}

/// Builds the database an Alembic-managed aurweb at v6.2.8 has: the schema at revision
/// 7d65d35fae45 (our version 11), Alembic's version table, and no history of ours.
fn alembic_era(db: &Db, revision: &str) {
    copy_repository(db.env);
    db.run(&["upgrade", "--replay", "--to", "11"]).ok();
    db.exec("DROP TABLE aurweb_migrations");
    db.exec("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))");
    db.exec(&format!(
        "INSERT INTO alembic_version (version_num) VALUES ('{revision}')"
    ));
}

fn alembic_era_database_is_adopted_and_upgraded(db: &Db) {
    alembic_era(db, "7d65d35fae45");
    db.exec("INSERT INTO Users (ID, Username, Email, Passwd) VALUES (7, 'alice', 'Alice@Example.org', 'x')");
    // Running migrations on it without adopting it first is refused.
    db.run(&["upgrade"])
        .code(5)
        .stderr_has("no migration history")
        .stderr_has("adopt --from alembic");
    assert!(db.history().is_empty());

    let doc = db
        .run(&["adopt", "--from", "alembic", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["alembic_revision"], "7d65d35fae45", "{doc:#}");
    assert_eq!(doc["current"], 11, "{doc:#}");
    assert_eq!(versions(&doc, "recorded"), (1..=11).collect::<Vec<_>>());
    assert_eq!(doc["accepted_drift"], serde_json::json!([]), "{doc:#}");
    assert!(db.states().iter().all(|(_, s)| s == "baseline"));
    assert!(db.has_table("alembic_version"), "left in place");

    let doc = db.run(&["upgrade", "--format", "json"]).ok().json();
    assert_eq!(
        versions(&doc, "applied"),
        (12..=aurweb_head()).collect::<Vec<_>>()
    );
    db.run(&["check", "--drift"]).ok();
    assert_eq!(
        db.strings("SELECT NormalizedEmail FROM Users WHERE ID = 7"),
        ["alice@example.org"],
        "0016's backfill ran on the adopted data"
    );
    // Adopting again (the deploy's second run) succeeds and changes nothing.
    let doc = db
        .run(&["adopt", "--from", "alembic", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["changed"], false, "{doc:#}");
    assert_eq!(doc["current"], aurweb_head(), "{doc:#}");
}

fn unknown_alembic_revision_is_refused(db: &Db) {
    alembic_era(db, "0123456789ab");
    let run = db.run(&["adopt", "--from", "alembic", "--format", "json"]);
    let doc = run.code(5).json();
    assert_eq!(doc["error"]["kind"], "refused", "{doc:#}");
    run.stderr_has("0123456789ab")
        .stderr_has("7d65d35fae45 = 11");
    assert!(db.history().is_empty(), "nothing recorded");
}

fn a_one_line_schema_change_fails_verify(db: &Db) {
    copy_repository(db.env);
    // With a MySQL target, verify checks both dialects (and across them); else SQLite only.
    let verify = || {
        let mut args = vec!["verify"];
        if db.is_mysql() {
            args.extend(["-d", db.url()]);
        } else {
            // No server: SQLite alone, on purpose (else verify refuses to pass half checked).
            args.extend(["--dialect", "sqlite"]);
        }
        db.env.run(&args)
    };
    let run = verify();
    run.ok().stdout_has("ok    sqlite:");
    if db.is_mysql() {
        run.stdout_has("ok    mysql:")
            .stdout_has("ok    mysql-vs-sqlite");
    }
    let file = format!("schema/{}.sql", db.dialect());
    let text = String::from_utf8(db.env.read(&file)).unwrap();
    let changed = text.replacen(
        "Email VARCHAR(254) NOT NULL",
        "Email VARCHAR(255) NOT NULL",
        1,
    );
    assert_ne!(text, changed, "the line exists in {file}");
    db.env.write(&file, changed);
    let run = verify();
    run.code(1)
        .stdout_has(&format!("FAIL  {}:", db.dialect()))
        .stdout_has("Users: column Email: expected VARCHAR(255) NOT NULL");
    if db.is_mysql() {
        // The two schema files now disagree only in a type's spelling: same family.
        run.stdout_has("ok    mysql-vs-sqlite");
    }
}

/// An aurweb database created from the 4.8.0 schema file and brought to 5.0.0 by hand
/// (upgrading/5.x.x.txt), then stamped by Alembic's first revision: its missing foreign key
/// on PackageRequests.ClosedUID is reported, not silently accepted.
#[test]
fn hand_upgraded_4_8_database_reports_the_missing_closed_uid_foreign_key() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    copy_repository(&env);
    let name = db.mysql_database().to_string();
    // The Ansible role created the database with encoding=utf8.
    db.exec(&format!(
        "ALTER DATABASE `{name}` CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci"
    ));
    db.exec(&fixture("aurweb-4.8.0.mysql.sql"));
    db.exec(&fixture("aurweb-5.x.x.mysql.sql"));
    db.exec("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, PRIMARY KEY (version_num)); INSERT INTO alembic_version VALUES ('f47cad5d6d03')");

    let run = db.run(&["adopt", "--from", "alembic"]);
    run.code(5)
        .stderr_has("refusing to adopt Alembic revision f47cad5d6d03 as version 1")
        .stderr_has(
            "PackageRequests: foreign key (ClosedUID) references Users (ID): missing (expected on delete SET NULL",
        )
        .stderr_has("Users: column BackupEmail position")
        .stderr_has("--accept-drift");
    assert!(db.history().is_empty(), "nothing recorded");

    let doc = adopt_accepting_drift(&db);
    assert_eq!(doc["current"], 1, "{doc:#}");
    // At version 1 the same three hand-upgrade items as at aurweb's head.
    assert_eq!(
        difference_names(&doc["accepted_drift"]),
        HAND_UPGRADE_ITEMS,
        "{doc:#}"
    );
    // The hand-upgraded database goes through every later migration…
    let doc = db.run(&["upgrade", "--format", "json"]).ok().json();
    assert_eq!(
        versions(&doc, "applied"),
        (2..=aurweb_head()).collect::<Vec<_>>()
    );
    // …and the accepted drift stays visible.
    db.run(&["check", "--drift"])
        .code(1)
        .stdout_has("foreign key (ClosedUID) references Users (ID): missing");
}

/// `baseline` on the same hand-upgraded database (no version table at all) compares first.
#[test]
fn baseline_of_a_hand_upgraded_database_compares_first() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    copy_repository(&env);
    let name = db.mysql_database().to_string();
    db.exec(&format!(
        "ALTER DATABASE `{name}` CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci"
    ));
    db.exec(&fixture("aurweb-4.8.0.mysql.sql"));
    db.exec(&fixture("aurweb-5.x.x.mysql.sql"));
    db.run(&["baseline", "1"])
        .code(5)
        .stderr_has("PackageRequests: foreign key (ClosedUID) references Users (ID): missing");
    assert!(db.history().is_empty());
    // Adding the foreign key by hand is what the 5.x.x notes forgot; the order differences
    // remain and are accepted knowingly.
    db.exec("ALTER TABLE PackageRequests ADD FOREIGN KEY (ClosedUID) REFERENCES Users (ID) ON DELETE SET NULL");
    let run = db.run(&["baseline", "1", "--accept-drift"]);
    run.ok()
        .stdout_has("accepted drift")
        .stdout_has("column BackupEmail position");
    assert!(
        !run.stdout.contains("foreign key (ClosedUID)"),
        "{}",
        run.stdout
    );
}

/// Eight deploys at once on one empty database: one builds it from schema/, the others find
/// it built; all exit 0 and the baseline is recorded once.
fn concurrent_fresh_installs_build_once(db: &Db) {
    copy_repository(db.env);
    let spawned: Vec<_> = (0..8)
        .map(|_| {
            db.cmd(&["upgrade", "--format", "json", "--lock-timeout", "30"])
                .spawn()
        })
        .collect();
    let runs: Vec<_> = spawned.into_iter().map(|s| s.wait()).collect();
    let mut installs = 0;
    for run in &runs {
        let doc = run.ok().json();
        assert_eq!(doc["current"], aurweb_head(), "{doc:#}");
        assert!(versions(&doc, "applied").is_empty(), "{doc:#}");
        if !doc["installed"].is_null() {
            installs += 1;
        }
    }
    assert_eq!(installs, 1, "exactly one run built the database");
    let states = db.states();
    assert_eq!(states.len(), aurweb_head() as usize);
    assert!(states.iter().all(|(_, s)| s == "baseline"), "{states:?}");
    db.run(&["check", "--drift"]).ok();
}

/// Which base the Alembic revisions are applied on (see tests/fixtures/alembic/README.md).
#[derive(Clone, Copy)]
enum AlembicRoad {
    /// aurweb's 4.8.0 schema file, then the manual steps of upgrading/5.x.x.txt: the road
    /// production took.
    From4_8,
    /// Migration 0001, the 5.0.0 baseline.
    From5_0,
}

/// Builds, on an empty MySQL database, what aurweb's Alembic chain leaves at its head
/// d9b3f27c8e51: the base, then the 17 revisions as MariaDB runs them (applied by the tool as
/// a migration set of their own, whose version table is dropped afterwards), then Alembic's
/// version table. The repository's migrations/ and schema/ are copied in for the adoption.
fn production_at_aurweb_head(db: &Db, road: AlembicRoad) {
    copy_repository(db.env);
    let name = db.mysql_database().to_string();
    // The Ansible role created production's database with encoding=utf8.
    db.exec(&format!(
        "ALTER DATABASE `{name}` CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci"
    ));
    let dir = Path::new("alembic-road/migrations");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    match road {
        AlembicRoad::From4_8 => {
            db.env.write(
                dir.join("1_aurweb_4_8_0.mysql.sql"),
                fixture("aurweb-4.8.0.mysql.sql"),
            );
            db.env.write(
                dir.join("2_manual_5_x_x.mysql.sql"),
                fixture("aurweb-5.x.x.mysql.sql"),
            );
        }
        AlembicRoad::From5_0 => {
            db.env.write(
                dir.join("1_baseline.mysql.sql"),
                db.env.read("migrations/0001_baseline.mysql.sql"),
            );
        }
    }
    let mut revisions = 0;
    for entry in std::fs::read_dir(fixtures.join("alembic")).expect("the revision fixtures") {
        let entry = entry.expect("a directory entry");
        let file = entry.file_name().to_string_lossy().into_owned();
        if file.ends_with(".mysql.sql") {
            db.env.write(
                dir.join(&file),
                std::fs::read(entry.path()).expect("readable"),
            );
            revisions += 1;
        }
    }
    assert_eq!(revisions, 17, "one file per revision of aurweb's chain");
    let m = dir.to_str().unwrap();
    db.run(&["-m", m, "--table", "alembic_road", "upgrade", "-q"])
        .ok();
    db.exec("DROP TABLE alembic_road");
    db.exec("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))");
    db.exec("INSERT INTO alembic_version (version_num) VALUES ('d9b3f27c8e51')");
}

/// What the manual 5.x.x steps leave different from our schema, as `table: object`, sorted:
/// the columns appended instead of placed, and ClosedUID's missing foreign key.
const HAND_UPGRADE_ITEMS: [&str; 3] = [
    "PackageRequests: column Status position",
    "PackageRequests: foreign key (ClosedUID) references Users (ID)",
    "Users: column BackupEmail position",
];

/// contrib/adopt's fix-up for databases that went through the manual 5.x.x steps.
fn fixup_sql() -> String {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/adopt/aurweb-5.x.x-fixup.mysql.sql");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `adopt --from alembic --accept-drift --format json`, which must succeed.
fn adopt_accepting_drift(db: &Db) -> serde_json::Value {
    db.run(&[
        "adopt",
        "--from",
        "alembic",
        "--accept-drift",
        "--format",
        "json",
    ])
    .ok()
    .json()
}

/// `table: object` of each difference in a JSON list.
fn difference_names(list: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("a list of differences: {list:#}"))
        .iter()
        .map(|d| {
            format!(
                "{}: {}",
                d["table"].as_str().unwrap(),
                d["object"].as_str().unwrap()
            )
        })
        .collect();
    names.sort();
    names
}

/// Production: 4.8.0, the manual 5.x.x steps, then aurweb's 17 revisions. Adoption at aurweb's
/// head reports exactly the documented hand-upgrade items and nothing of what the revisions
/// did (their alter_column effects included); then `upgrade` applies our later migrations,
/// which give the vote columns their declared definitions, data included.
#[test]
fn production_through_alembic_adopts_with_only_the_hand_upgrade_items() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    production_at_aurweb_head(&db, AlembicRoad::From4_8);
    // What Alembic left: signed VoteTS, nullable vote counts without a default.
    assert!(
        db.show_create_table("PackageVotes")
            .contains("`VoteTS` bigint(20) NOT NULL"),
        "{}",
        db.show_create_table("PackageVotes")
    );
    assert!(
        db.show_create_table("VoteInfo")
            .contains("`Yes` int(10) unsigned DEFAULT NULL"),
        "{}",
        db.show_create_table("VoteInfo")
    );
    // Data those definitions allow: a proposal with no counts, a vote dated by a run of
    // d64e5571bc8d in UTC+1.
    db.exec("INSERT INTO Users (ID, Username, Email, Passwd) VALUES (1, 'alice', 'alice@example.org', 'x')");
    db.exec("INSERT INTO PackageBases (ID, Name, FlaggerComment, SubmittedTS, ModifiedTS) VALUES (1, 'foo', '', 0, 0)");
    db.exec("INSERT INTO PackageVotes (UsersID, PackageBaseID, VoteTS) VALUES (1, 1, -3600)");
    db.exec("INSERT INTO VoteInfo (ID, Agenda, User, Submitted, End, Quorum, SubmitterID) VALUES (1, 'a', 'alice', 0, 0, 0.5, 1)");

    let documented = HAND_UPGRADE_ITEMS;
    let run = db.run(&["adopt", "--from", "alembic"]);
    run.code(5)
        .stderr_has("refusing to adopt Alembic revision d9b3f27c8e51 as version 17")
        .stderr_has("in 3 place(s)")
        .stderr_has("Users: column BackupEmail position: expected after Email, found after OwnershipNotify")
        .stderr_has("PackageRequests: column Status position: expected after ClosedUID, found after RequestTS")
        .stderr_has("PackageRequests: foreign key (ClosedUID) references Users (ID): missing (expected on delete SET NULL on update NO ACTION)");
    assert!(db.history().is_empty(), "nothing recorded");

    let doc = adopt_accepting_drift(&db);
    assert_eq!(doc["current"], 17, "{doc:#}");
    assert_eq!(versions(&doc, "recorded"), (1..=17).collect::<Vec<_>>());
    assert_eq!(
        difference_names(&doc["accepted_drift"]),
        documented,
        "{doc:#}"
    );

    let doc = db.run(&["upgrade", "--format", "json"]).ok().json();
    assert_eq!(
        versions(&doc, "applied"),
        (18..=aurweb_head()).collect::<Vec<_>>()
    );
    assert!(
        db.show_create_table("PackageVotes")
            .contains("`VoteTS` bigint(20) unsigned NOT NULL"),
        "{}",
        db.show_create_table("PackageVotes")
    );
    assert!(
        db.show_create_table("VoteInfo")
            .contains("`Yes` int(10) unsigned NOT NULL DEFAULT 0"),
        "{}",
        db.show_create_table("VoteInfo")
    );
    assert_eq!(
        db.strings("SELECT CAST(VoteTS AS CHAR) FROM PackageVotes"),
        ["0"]
    );
    assert_eq!(
        db.strings("SELECT CONCAT_WS(',', Yes, No, Abstain, ActiveUsers) FROM VoteInfo"),
        ["0,0,0,0"]
    );
    // The accepted items stay visible, and they are all that is left.
    let doc = db
        .run(&["check", "--drift", "--format", "json"])
        .code(1)
        .json();
    let drift: Vec<String> = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["kind"], "drift", "{doc:#}");
            p["message"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(drift.len(), documented.len(), "{doc:#}");
    for item in documented {
        assert!(drift.iter().any(|m| m.contains(item)), "{item}: {doc:#}");
    }
    // The fix-up README.md offers removes them: a closed request whose closer was deleted
    // while there was no foreign key loses the dangling ID, and nothing else changes.
    db.exec("INSERT INTO PackageRequests (ID, ReqTypeID, PackageBaseName, Comments, ClosureComment, ClosedUID, Status) VALUES (1, 1, 'foo', '', '', 99, 2), (2, 1, 'bar', '', '', 1, 2)");
    db.exec(&fixup_sql());
    db.run(&["check", "--drift"]).ok();
    assert_eq!(
        db.strings("SELECT CONCAT_WS(',', ID, IFNULL(ClosedUID, 'NULL'), Status) FROM PackageRequests ORDER BY ID"),
        ["1,NULL,2", "2,1,2"]
    );
}

/// The same database, put right with the fix-up before adoption: adopted with no difference.
#[test]
fn production_put_right_by_the_fixup_adopts_without_drift() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    production_at_aurweb_head(&db, AlembicRoad::From4_8);
    db.exec(&fixup_sql());
    let doc = db
        .run(&["adopt", "--from", "alembic", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["accepted_drift"], serde_json::json!([]), "{doc:#}");
    db.run(&["upgrade", "-q"]).ok();
    db.run(&["check", "--drift"]).ok();
}

/// A database that was at 5.0.0 (migration 0001) when Alembic took over, then went through
/// aurweb's 17 revisions: adopted at aurweb's head with no difference at all.
#[test]
fn alembic_managed_database_at_aurweb_head_adopts_without_drift() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    production_at_aurweb_head(&db, AlembicRoad::From5_0);
    let doc = db
        .run(&["adopt", "--from", "alembic", "--format", "json"])
        .ok()
        .json();
    assert_eq!(doc["current"], 17, "{doc:#}");
    assert_eq!(doc["accepted_drift"], serde_json::json!([]), "{doc:#}");
    let doc = db.run(&["upgrade", "--format", "json"]).ok().json();
    assert_eq!(
        versions(&doc, "applied"),
        (18..=aurweb_head()).collect::<Vec<_>>()
    );
    db.run(&["check", "--drift"]).ok();
    db.run(&["schema", "diff"]).ok();
}

/// Fresh install and full replay give the same `SHOW CREATE TABLE` for every table, the
/// options the schema comparison leaves out (row format, AUTO_INCREMENT counters) included.
#[test]
fn fresh_install_and_replay_agree_in_show_create_table() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    copy_repository(&env);
    let show_all = |db: &Db| -> Vec<(String, String)> {
        db.tables()
            .into_iter()
            .filter(|t| t != "aurweb_migrations")
            .map(|t| {
                let shown = db.show_create_table(&t);
                (t, shown)
            })
            .collect()
    };
    db.run(&["upgrade", "-q"]).ok();
    let fresh = show_all(&db);
    assert_eq!(fresh.len(), 30, "aurweb's 30 tables");
    assert!(
        fresh
            .iter()
            .any(|(t, s)| t == "Users" && s.contains("ROW_FORMAT=DYNAMIC")),
        "{fresh:#?}"
    );
    wipe(&db);
    db.run(&["upgrade", "--replay", "-q"]).ok();
    let replayed = show_all(&db);
    for ((t, a), (_, b)) in fresh.iter().zip(&replayed) {
        assert_eq!(a, b, "{t}: fresh (left) and replayed (right) differ");
    }
    assert_eq!(fresh.len(), replayed.len());
}

/// Table options the schema file states are compared, unstated ones are not: Users states
/// `ROW_FORMAT=DYNAMIC` (aurweb's revision b7c419f0a2d1, our 0016), Terms states none.
#[test]
fn a_stated_row_format_is_compared_and_an_unstated_one_is_not() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    copy_repository(&env);
    db.run(&["upgrade", "-q"]).ok();
    db.exec("ALTER TABLE Terms ROW_FORMAT=COMPACT");
    db.run(&["check", "--drift"]).ok();
    db.exec("ALTER TABLE Users ROW_FORMAT=COMPRESSED");
    db.run(&["check", "--drift"])
        .code(1)
        .stdout_has("Users: options: expected engine=InnoDB collation=utf8mb4_general_ci row_format=DYNAMIC, found engine=InnoDB collation=utf8mb4_general_ci row_format=COMPRESSED");
    // The schema file states a row format no migration sets: verify fails.
    let text = String::from_utf8(env.read("schema/mysql.sql")).unwrap();
    let terms = "\tPRIMARY KEY (ID)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;\n\nCREATE TABLE AcceptedTerms";
    assert!(text.contains(terms));
    env.write(
        "schema/mysql.sql",
        text.replacen(
            terms,
            &terms.replacen(
                "utf8mb4_general_ci;",
                "utf8mb4_general_ci ROW_FORMAT=COMPACT;",
                1,
            ),
            1,
        ),
    );
    env.run(&["-d", db.url(), "verify"])
        .code(1)
        .stdout_has("FAIL  mysql:")
        .stdout_has("Terms: options: expected engine=InnoDB collation=utf8mb4_general_ci row_format=COMPACT, found engine=InnoDB collation=utf8mb4_general_ci");
}

/// 0018 on both dialects, on data that version 17's columns allow: NULL vote counts and a
/// negative vote timestamp become 0, votes keep their proposal, and the columns are then the
/// head schema's (NOT NULL, defaulting to 0).
fn vote_columns_get_their_declared_definitions(db: &Db) {
    copy_repository(db.env);
    db.run(&["upgrade", "--replay", "--to", "17", "-q"]).ok();
    db.exec("INSERT INTO Users (ID, Username, Email, Passwd) VALUES (1, 'alice', 'alice@example.org', 'x')");
    db.exec("INSERT INTO PackageBases (ID, Name, FlaggerComment, SubmittedTS, ModifiedTS) VALUES (1, 'foo', '', 0, 0)");
    db.exec("INSERT INTO PackageVotes (UsersID, PackageBaseID, VoteTS) VALUES (1, 1, -7200)");
    db.exec("INSERT INTO VoteInfo (ID, Agenda, User, Submitted, End, Quorum, SubmitterID, Yes) VALUES (1, 'a', 'alice', 0, 0, 0.5, 1, 3), (2, 'b', 'alice', 0, 0, 0.5, 1, NULL)");
    db.exec("INSERT INTO Votes (VoteID, UserID) VALUES (1, 1), (2, 1)");
    let doc = db.run(&["upgrade", "--format", "json"]).ok().json();
    assert_eq!(
        versions(&doc, "applied"),
        (18..=aurweb_head()).collect::<Vec<_>>()
    );
    assert_eq!(db.scalar("SELECT VoteTS FROM PackageVotes"), 0);
    // Yes, No, Abstain, ActiveUsers as digits (a NULL would fail the query).
    let counts = |id: i64| {
        db.scalar(&format!(
            "SELECT Yes * 1000 + No * 100 + Abstain * 10 + ActiveUsers FROM VoteInfo WHERE ID = {id}"
        ))
    };
    assert_eq!((counts(1), counts(2)), (3000, 0));
    assert_eq!(db.count("Votes"), 2, "the votes kept their proposals");
    db.exec("INSERT INTO VoteInfo (ID, Agenda, User, Submitted, End, Quorum, SubmitterID) VALUES (3, 'c', 'alice', 0, 0, 0.5, 1)");
    assert_eq!(counts(3), 0, "the counts default to 0");
    db.run(&["check", "--drift"]).ok();
}

/// `schema render --dialect sqlite` renders schema/sqlite.sql from the model of
/// schema/mysql.sql (read by MariaDB in a scratch database). The committed sqlite.sql is that
/// rendering, byte for byte (it replaced the hand-written file after the rendering was shown
/// equal to it by the canonical model, rows included); `verify` checks that it stays so,
/// naming the first line that differs, and leaves a hand-written file (no "Generated" line)
/// alone.
#[test]
fn sqlite_schema_is_the_rendering_of_the_mysql_one() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    copy_repository(&env);
    let run = env.run(&["-d", db.url(), "schema", "render", "--dialect", "sqlite"]);
    run.ok();
    let committed = String::from_utf8(env.read("schema/sqlite.sql")).unwrap();
    assert_eq!(run.stdout, committed, "schema/sqlite.sql is the rendering");
    assert!(
        committed.contains(&format!("-- schema-version: {}\n", aurweb_head())),
        "{committed}"
    );
    let verify = || env.run(&["-d", db.url(), "verify"]);
    // A line of a check that passed gives no repair advice (issue 29 item 10).
    let no_advice_when_ok = |run: &crate::support::Run| {
        for line in run.stdout.lines().filter(|l| l.starts_with("ok ")) {
            run.check(
                !line.contains("update it") && !line.contains("`aurweb-migrate"),
                &format!("advice on a passing line: {line}"),
            );
        }
    };
    let run = verify();
    run.ok().stdout_has("ok    sqlite-rendering:");
    no_advice_when_ok(&run);

    // A change to mysql.sql alone: the rendering no longer matches.
    let mysql = String::from_utf8(env.read("schema/mysql.sql")).unwrap();
    env.write(
        "schema/mysql.sql",
        mysql.replacen(
            "Email VARCHAR(254) NOT NULL",
            "Email VARCHAR(255) NOT NULL",
            1,
        ),
    );
    let run = verify();
    run.code(1)
        .stdout_has("FAIL  sqlite-rendering:")
        .stdout_has("  hint: update it with `aurweb-migrate schema render --dialect sqlite`")
        .stdout_has(
            "expected `Email VARCHAR(255) NOT NULL,`, found `Email VARCHAR(254) NOT NULL,`",
        );
    // Rendered again, the files agree (the migration is still missing: the MySQL replay fails).
    let rendered = env.run(&["-d", db.url(), "schema", "render", "--dialect", "sqlite"]);
    env.write("schema/sqlite.sql", &rendered.ok().stdout);
    let run = verify();
    run.code(1)
        .stdout_has("ok    sqlite-rendering:")
        .stdout_has("FAIL  mysql:");
    no_advice_when_ok(&run);

    // A hand-written SQLite file is not a rendering and is not checked as one.
    env.write("schema/mysql.sql", mysql);
    let hand_written = committed.replace(
        "-- Generated from mysql.sql beside this file",
        "-- Written by hand, after mysql.sql",
    );
    env.write("schema/sqlite.sql", hand_written);
    let run = verify();
    run.ok();
    assert!(!run.stdout.contains("rendering"), "{}", run.stdout);

    // No server, no rendering: said, exit 2, nothing on stdout.
    let run = env.run(&["schema", "render", "--dialect", "sqlite"]);
    run.code(2).stderr_has("-d mysql://");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    env.run(&["-d", db.url(), "schema", "render", "--dialect", "mysql"])
        .code(2)
        .stderr_has("schema/mysql.sql is the source");
}

/// The schema files' header prose names no version: the `schema-version` line is the one
/// place, so a new migration does not leave the prose stale (the head version, bare or as a
/// migration file's number, in a comment before the first statement fails this).
#[test]
fn schema_headers_name_no_version_but_on_their_version_line() {
    for name in ["mysql.sql", "sqlite.sql"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("schema")
            .join(name);
        let text = std::fs::read_to_string(&path).expect("schema file");
        let header: Vec<&str> = text.lines().take_while(|l| l.starts_with("--")).collect();
        let version = header
            .iter()
            .find_map(|l| l.strip_prefix("-- schema-version:"))
            .map(|v| v.trim().to_string())
            .expect("a schema-version line");
        for (i, line) in header.iter().enumerate() {
            if line.starts_with("-- schema-version:") {
                continue;
            }
            for word in line.split(|c: char| !c.is_ascii_alphanumeric()) {
                // The head version, bare or as a migration file's number (`0018`).
                let stale = !word.is_empty() && word.trim_start_matches('0') == version;
                assert!(
                    !stale,
                    "schema/{name}:{}: the header names a version ({word}); say \"the version on the schema-version line\" instead:\n{line}",
                    i + 1
                );
            }
        }
    }
}
