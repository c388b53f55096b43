//! `new --autogenerate`: one edit to schema/mysql.sql, one command, and the migrations for
//! both dialects. Every change type is a round trip on aurweb's own repository: databases of
//! both dialects at the head with rows in them, the edit, the generator (its scratch
//! databases on the tests' MariaDB server), then `verify` (schema/ equals a replay, and
//! sqlite.sql is the rendering), `upgrade` of both databases to a schema equal to the new
//! head with their rows, SQLite's `foreign_key_check` clean, and a second run that says "no
//! changes" and writes nothing.

use crate::aurweb::{aurweb_head, copy_repository};
use crate::support::{Db, Env};

/// Rows in tables the edits touch, valid on both dialects.
const SEED: &str = "
INSERT INTO Users (ID, AccountTypeID, Username, Email, Passwd, BackupEmail, RealName, IRCNick)
    VALUES (1, 1, 'alice', 'alice@example.org', 'x', NULL, 'Alice', 'al'),
           (2, 1, 'bob', 'bob@example.org', 'y', 'b@example.org', 'Bob', 'bo');
INSERT INTO SSHPubKeys (UserID, Fingerprint, PubKey) VALUES (1, 'fp1', 'ssh-ed25519 AAAA');
INSERT INTO Sessions (UsersID, SessionID, LastUpdateTS) VALUES (1, 's1', 0);
INSERT INTO Bans (IPAddress, BanTS) VALUES ('192.0.2.1', '2026-01-01 00:00:00');
INSERT INTO Terms (ID, Description, URL) VALUES (1, 'ToS', 'https://example.org/tos');
INSERT INTO AcceptedTerms (UsersID, TermsID) VALUES (1, 1);
INSERT INTO ApiRateLimit (IP, Requests, WindowStart) VALUES ('192.0.2.2', 3, 100);
INSERT INTO PackageBlacklist (ID, Name) VALUES (1, 'evil');
INSERT INTO OfficialProviders (ID, Name, Repo, Provides) VALUES (1, 'a', 'core', 'a');
";

/// Seeded tables and their row counts.
const SEEDED: &[(&str, i64)] = &[
    ("Users", 2),
    ("SSHPubKeys", 1),
    ("Sessions", 1),
    ("Bans", 1),
    ("Terms", 1),
    ("AcceptedTerms", 1),
    ("ApiRateLimit", 1),
    ("PackageBlacklist", 1),
    ("OfficialProviders", 1),
];

/// One change type.
struct Case {
    /// The test's name, also the migration's description.
    name: &'static str,
    /// `(old, new)` replacements in schema/mysql.sql; each `old` must occur.
    edits: &'static [(&'static str, &'static str)],
    renames: &'static [&'static str],
    /// Lines the generator prints.
    changes: &'static [&'static str],
    /// Review markers (`<kind> <object>`) the drafts carry; cleared by the test before
    /// upgrading, after showing that upgrade, check and verify refuse them.
    markers: &'static [&'static str],
    /// Text the SQLite draft has (`ADD COLUMN`: native) or must not have.
    sqlite_has: &'static [&'static str],
    sqlite_lacks: &'static [&'static str],
    mysql_has: &'static [&'static str],
    /// Statements the review adds at the end of both dialects' files, with the markers
    /// deleted: what the markers leave to a person (seed rows).
    review: &'static [&'static str],
    /// Tables whose rows go (dropped) or move (renamed: `(old, new)`).
    dropped: &'static [&'static str],
    renamed: &'static [(&'static str, &'static str)],
    /// SQL whose single value must be 1 on both databases after the upgrade.
    holds: &'static [&'static str],
    /// Also write and prove the reverse: `downgrade` gives the schema before back.
    reversible: bool,
    /// SQL that gives the seeded rows a duplicate the new key refuses, and SQL that takes it
    /// away: the probe written under a key's marker finds none before, one with it.
    duplicate: Option<(&'static str, &'static str)>,
}

const NONE: Case = Case {
    name: "",
    edits: &[],
    renames: &[],
    changes: &[],
    markers: &[],
    review: &[],
    sqlite_has: &[],
    sqlite_lacks: &[],
    mysql_has: &[],
    dropped: &[],
    renamed: &[],
    holds: &[],
    reversible: false,
    duplicate: None,
};

const BANS: &str = "CREATE TABLE Bans (
\tIPAddress VARCHAR(45) NOT NULL,
\tBanTS TIMESTAMP NOT NULL,
\tPRIMARY KEY (IPAddress)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
";

fn migration_files(env: &Env, version: i64) -> Vec<String> {
    env.ls("migrations")
        .into_iter()
        .filter(|n| n.starts_with(&format!("{version:04}_")))
        .collect()
}

fn text(env: &Env, rel: &str) -> String {
    String::from_utf8(env.read(rel)).expect("UTF-8")
}

/// The review: the file without its review marker lines.
fn clear_markers(env: &Env, rel: &str) {
    let cleared: String = text(env, rel)
        .split_inclusive('\n')
        .filter(|l| !l.starts_with("-- aurweb-migrate: review "))
        .collect();
    env.write(rel, cleared);
}

fn run_case(case: &Case) {
    let env = Env::new();
    let Some(server) = Db::mysql(&env, &format!("autogen_{}", case.name)) else {
        return;
    };
    copy_repository(&env);
    let sqlite = Db::sqlite(&env);
    for db in [&sqlite, &server] {
        db.run(&["upgrade"]).ok();
        db.exec(SEED);
    }
    let mut schema = text(&env, "schema/mysql.sql");
    for (old, new) in case.edits {
        assert!(
            schema.contains(old),
            "{}: schema/mysql.sql has {old:?}",
            case.name
        );
        schema = schema.replacen(old, new, 1);
    }
    env.write("schema/mysql.sql", &schema);
    let version = aurweb_head() + 1;

    let dumps_before: Vec<String> = [&sqlite, &server]
        .iter()
        .map(|db| db.run(&["schema", "dump"]).ok().stdout.clone())
        .collect();
    let mut args = vec!["-d", server.url(), "new", "--autogenerate", case.name];
    if case.reversible {
        args.push("--reversible");
    }
    for r in case.renames {
        args.push("--rename");
        args.push(r);
    }
    let run = env.run(&args);
    run.ok();
    for c in case.changes {
        run.stdout_has(c);
    }
    let files = migration_files(&env, version);
    let mysql_file = format!("migrations/{version:04}_{}.mysql.sql", case.name);
    let sqlite_file = format!("migrations/{version:04}_{}.sqlite.sql", case.name);
    assert_eq!(
        files.len(),
        if case.reversible { 4 } else { 2 },
        "{}: one file per dialect (and its reverse): {files:?}\n{}",
        case.name,
        run.stdout
    );
    let (mysql_sql, sqlite_sql) = (text(&env, &mysql_file), text(&env, &sqlite_file));
    for s in case.sqlite_has {
        assert!(
            sqlite_sql.contains(s),
            "{}: {s:?} in\n{sqlite_sql}",
            case.name
        );
    }
    for s in case.sqlite_lacks {
        assert!(
            !sqlite_sql.contains(s),
            "{}: no {s:?} in\n{sqlite_sql}",
            case.name
        );
    }
    for s in case.mysql_has {
        assert!(
            mysql_sql.contains(s),
            "{}: {s:?} in\n{mysql_sql}",
            case.name
        );
    }
    for f in ["schema/mysql.sql", "schema/sqlite.sql"] {
        assert!(
            text(&env, f).contains(&format!("-- schema-version: {version}\n")),
            "{}: {f} is at the new version",
            case.name
        );
    }

    // Markers: named in the output, refused until deleted.
    let all_files: Vec<String> = files.iter().map(|f| format!("migrations/{f}")).collect();
    let marked: Vec<String> = [&mysql_file, &sqlite_file]
        .iter()
        .flat_map(|f| {
            text(&env, f)
                .lines()
                .filter(|l| l.starts_with("-- aurweb-migrate: review "))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    for m in case.markers {
        assert!(
            marked.iter().any(|l| l.contains(&format!("review {m}:"))),
            "{}: marker {m:?} in {marked:#?}",
            case.name
        );
        run.stdout_has(m);
    }
    if marked.is_empty() {
        assert!(case.markers.is_empty(), "{}: no markers written", case.name);
    } else {
        assert!(
            !case.markers.is_empty(),
            "{}: unexpected markers {marked:#?}",
            case.name
        );
        let line = text(&env, &mysql_file)
            .lines()
            .position(|l| l.starts_with("-- aurweb-migrate: review "))
            .map(|i| i + 1);
        for refused in [
            server.run(&["upgrade"]),
            server.run(&["check"]),
            env.run(&["-d", server.url(), "verify"]),
        ] {
            refused.code(2).stderr_has("not reviewed yet");
            if let Some(line) = line {
                refused.stderr_has(&format!("{mysql_file}:{line}:"));
            }
        }
    }
    // The duplicate probes under the markers run as they are written, on each dialect.
    let mut probed = 0;
    for (db, f) in [(&server, &mysql_file), (&sqlite, &sqlite_file)] {
        for probe in text(&env, f)
            .lines()
            .filter_map(|l| l.strip_prefix("-- SELECT "))
        {
            let probe = format!(
                "SELECT COUNT(*) FROM (SELECT {}) AS p",
                probe.trim_end_matches(';')
            );
            assert_eq!(db.scalar(&probe), 0, "{}: no duplicates yet", case.name);
            if let Some((make, undo)) = case.duplicate {
                db.exec(make);
                assert!(db.scalar(&probe) > 0, "{}: {probe} finds {make}", case.name);
                db.exec(undo);
            }
            probed += 1;
        }
    }
    if case.duplicate.is_some() {
        assert_eq!(probed, 2, "{}: one probe per dialect", case.name);
    }
    // A reverse file's markers (a reverse of an add drops) are cleared too.
    if case.reversible || !marked.is_empty() {
        for f in &all_files {
            clear_markers(&env, f);
        }
    }
    if !case.review.is_empty() {
        for f in [&mysql_file, &sqlite_file] {
            let mut reviewed = text(&env, f);
            for statement in case.review {
                reviewed.push_str(statement);
                reviewed.push('\n');
            }
            env.write(f, reviewed);
        }
    }

    env.run(&["-d", server.url(), "verify"])
        .ok()
        .stdout_has("ok    sqlite-rendering:");
    for db in [&sqlite, &server] {
        db.run(&["upgrade"]).ok();
        db.run(&["schema", "diff"]).ok();
        for (table, n) in SEEDED {
            if case.dropped.contains(table) {
                assert!(!db.has_table(table), "{}: {table} dropped", case.name);
                continue;
            }
            let table = case
                .renamed
                .iter()
                .find(|(old, _)| old == table)
                .map_or(*table, |(_, new)| *new);
            assert_eq!(
                db.count(table),
                *n,
                "{} on {}: the rows of {table} survive",
                case.name,
                db.dialect()
            );
        }
        for sql in case.holds {
            assert_eq!(
                db.scalar(sql),
                1,
                "{} on {}: {sql}",
                case.name,
                db.dialect()
            );
        }
    }
    assert!(
        sqlite.strings("PRAGMA foreign_key_check").is_empty(),
        "{}: foreign keys hold on SQLite",
        case.name
    );
    if case.reversible {
        for (db, before) in [&sqlite, &server].iter().zip(&dumps_before) {
            db.run(&["downgrade", "--to", &aurweb_head().to_string()])
                .ok();
            let after = db.run(&["schema", "dump"]).ok().stdout.clone();
            assert_eq!(
                &after,
                before,
                "{} on {}: the reverse gives the old schema back",
                case.name,
                db.dialect()
            );
        }
        db_upgrade_again(&sqlite, &server);
    }

    // Done: a second run finds nothing and writes nothing.
    let again = env.run(&["-d", server.url(), "new", "--autogenerate", "again"]);
    again.ok().stdout_has("no changes");
    assert_eq!(migration_files(&env, version + 1), Vec::<String>::new());
}

/// After a proved reverse, the forward migration applies again.
fn db_upgrade_again(sqlite: &Db, server: &Db) {
    for db in [sqlite, server] {
        db.run(&["upgrade"]).ok();
        db.run(&["schema", "diff"]).ok();
    }
}

macro_rules! cases {
    ($($name:ident: $case:expr;)*) => {
        $(
            #[test]
            fn $name() {
                run_case(&Case { name: stringify!($name), ..$case });
            }
        )*
    };
}

cases! {
    add_table: Case {
        edits: &[("INSERT INTO AccountTypes", "CREATE TABLE Widgets (
\tID INTEGER UNSIGNED NOT NULL AUTO_INCREMENT,
\tUsersID INTEGER UNSIGNED NULL,
\tName VARCHAR(32) NOT NULL DEFAULT '',
\tPRIMARY KEY (ID),
\tFOREIGN KEY (UsersID) REFERENCES Users (ID) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE INDEX WidgetsName ON Widgets (Name);

INSERT INTO AccountTypes")],
        changes: &["create table Widgets"],
        sqlite_has: &["CREATE TABLE Widgets", "CREATE INDEX WidgetsName"],
        mysql_has: &["CREATE TABLE `Widgets`", "FOREIGN KEY (`UsersID`) REFERENCES `Users` (`ID`) ON DELETE SET NULL"],
        ..NONE
    };
    drop_table: Case {
        edits: &[(BANS, "")],
        changes: &["drop table Bans"],
        markers: &["drop-table Bans"],
        dropped: &["Bans"],
        ..NONE
    };
    add_column: Case {
        reversible: true,
        edits: &[("\tBackupEmail VARCHAR(254) NULL DEFAULT NULL,\n", "\tBackupEmail VARCHAR(254) NULL DEFAULT NULL,\n\tFooNote VARCHAR(100) NOT NULL DEFAULT 'x',\n")],
        changes: &["Users: add column FooNote VARCHAR(100) NOT NULL DEFAULT 'x'"],
        markers: &["not-null Users.FooNote"],
        mysql_has: &["ADD COLUMN `FooNote` VARCHAR(100) COLLATE utf8mb4_general_ci NOT NULL DEFAULT 'x' AFTER `BackupEmail`"],
        sqlite_has: &["aurweb_migrate_new_Users", "-- aurweb-migrate: foreign-keys off"],
        holds: &["SELECT COUNT(*) FROM Users WHERE ID = 1 AND FooNote = 'x' AND Username = 'alice'"],
        ..NONE
    };
    add_column_last_is_native_on_sqlite: Case {
        edits: &[("\tRevision INTEGER UNSIGNED NOT NULL DEFAULT 1,\n", "\tRevision INTEGER UNSIGNED NOT NULL DEFAULT 1,\n\tExtra VARCHAR(32) NULL,\n")],
        changes: &["Terms: add column Extra VARCHAR(32) NULL"],
        sqlite_has: &["ALTER TABLE Terms ADD COLUMN Extra VARCHAR(32) NULL"],
        sqlite_lacks: &["aurweb_migrate_new_", "foreign-keys off"],
        ..NONE
    };
    add_not_null_column_without_default: Case {
        edits: &[("\tRevision INTEGER UNSIGNED NOT NULL DEFAULT 1,\n", "\tRevision INTEGER UNSIGNED NOT NULL DEFAULT 1,\n\tWeight INTEGER UNSIGNED NOT NULL,\n")],
        changes: &["Terms: add column Weight INT UNSIGNED NOT NULL"],
        markers: &["not-null Terms.Weight"],
        holds: &["SELECT COUNT(*) FROM Terms WHERE Weight = 0"],
        ..NONE
    };
    // Shaped like aurweb's EmailVerified: a default is no answer for the rows already there;
    // the marker says what they get, and the review grandfathers them.
    add_not_null_column_with_a_default: Case {
        edits: &[("\tHideEmail TINYINT UNSIGNED NOT NULL DEFAULT 0,\n", "\tHideEmail TINYINT UNSIGNED NOT NULL DEFAULT 0,\n\tKeyVerified TINYINT(1) NOT NULL DEFAULT 0,\n")],
        changes: &["Users: add column KeyVerified"],
        markers: &["not-null Users.KeyVerified"],
        mysql_has: &["review not-null Users.KeyVerified: added NOT NULL: existing rows get 0; if they need another value, write an UPDATE after this statement"],
        sqlite_has: &["review not-null Users.KeyVerified: added NOT NULL: existing rows get 0; if they need another value, write an UPDATE after this statement"],
        review: &["UPDATE Users SET KeyVerified = 1;"],
        holds: &["SELECT COUNT(*) FROM Users WHERE ID = 2 AND KeyVerified = 1"],
        ..NONE
    };
    drop_column: Case {
        edits: &[("\tRevision INTEGER UNSIGNED NOT NULL DEFAULT 1,\n\tPRIMARY KEY (ID)", "\tPRIMARY KEY (ID)")],
        changes: &["Terms: drop column Revision"],
        markers: &["drop-column Terms.Revision"],
        sqlite_has: &["ALTER TABLE Terms DROP COLUMN Revision"],
        sqlite_lacks: &["aurweb_migrate_new_"],
        mysql_has: &["DROP COLUMN `Revision`"],
        ..NONE
    };
    column_type_widened: Case {
        edits: &[("\tIRCNick VARCHAR(32) NOT NULL DEFAULT '',\n", "\tIRCNick VARCHAR(64) NOT NULL DEFAULT '',\n")],
        changes: &["Users: column IRCNick: VARCHAR(32) NOT NULL DEFAULT ''"],
        mysql_has: &["MODIFY COLUMN `IRCNick` VARCHAR(64) COLLATE utf8mb4_general_ci NOT NULL DEFAULT ''"],
        holds: &["SELECT COUNT(*) FROM Users WHERE IRCNick = 'al'"],
        ..NONE
    };
    column_type_narrowed: Case {
        edits: &[("\tRealName VARCHAR(64) NOT NULL DEFAULT '',\n", "\tRealName VARCHAR(32) NOT NULL DEFAULT '',\n")],
        changes: &["Users: column RealName"],
        markers: &["narrowing Users.RealName"],
        ..NONE
    };
    null_to_not_null: Case {
        reversible: true,
        edits: &[("\tBackupEmail VARCHAR(254) NULL DEFAULT NULL,\n", "\tBackupEmail VARCHAR(254) NOT NULL DEFAULT '',\n")],
        changes: &["Users: column BackupEmail"],
        mysql_has: &["UPDATE `Users` SET `BackupEmail` = '' WHERE `BackupEmail` IS NULL"],
        sqlite_has: &["IFNULL(BackupEmail, '')"],
        holds: &["SELECT COUNT(*) FROM Users WHERE ID = 1 AND BackupEmail = ''", "SELECT COUNT(*) FROM Users WHERE ID = 2 AND BackupEmail = 'b@example.org'"],
        ..NONE
    };
    null_to_not_null_without_default: Case {
        edits: &[("\tPGPKey VARCHAR(40) NULL DEFAULT NULL,\n", "\tPGPKey VARCHAR(40) NOT NULL,\n")],
        changes: &["Users: column PGPKey"],
        markers: &["not-null Users.PGPKey"],
        holds: &["SELECT COUNT(*) FROM Users WHERE ID = 1 AND PGPKey = ''"],
        ..NONE
    };
    not_null_to_null: Case {
        edits: &[("\tRealName VARCHAR(64) NOT NULL DEFAULT '',\n", "\tRealName VARCHAR(64) NULL DEFAULT NULL,\n")],
        changes: &["Users: column RealName: VARCHAR(64) NOT NULL DEFAULT ''"],
        holds: &["SELECT COUNT(*) FROM Users WHERE RealName = 'Alice'"],
        ..NONE
    };
    default_changed: Case {
        edits: &[("\tLangPreference VARCHAR(6) NOT NULL DEFAULT 'en',\n", "\tLangPreference VARCHAR(6) NOT NULL DEFAULT 'de',\n")],
        changes: &["Users: column LangPreference"],
        mysql_has: &["MODIFY COLUMN `LangPreference` VARCHAR(6) COLLATE utf8mb4_general_ci NOT NULL DEFAULT 'de'"],
        ..NONE
    };
    auto_increment_removed: Case {
        edits: &[("CREATE TABLE PackageBlacklist (\n\tID INTEGER UNSIGNED NOT NULL AUTO_INCREMENT,", "CREATE TABLE PackageBlacklist (\n\tID INTEGER UNSIGNED NOT NULL,")],
        changes: &["PackageBlacklist: column ID"],
        mysql_has: &["MODIFY COLUMN `ID` INT UNSIGNED NOT NULL"],
        sqlite_has: &["aurweb_migrate_new_PackageBlacklist"],
        ..NONE
    };
    column_moved: Case {
        reversible: true,
        edits: &[("\tHideEmail TINYINT UNSIGNED NOT NULL DEFAULT 0,\n\tPasswd VARCHAR(255) NOT NULL,\n", "\tPasswd VARCHAR(255) NOT NULL,\n\tHideEmail TINYINT UNSIGNED NOT NULL DEFAULT 0,\n")],
        changes: &["Users: move column"],
        mysql_has: &[" AFTER `"],
        sqlite_has: &["aurweb_migrate_new_Users"],
        ..NONE
    };
    column_collation: Case {
        edits: &[("\tUsername VARCHAR(32) NOT NULL,\n", "\tUsername VARCHAR(32) COLLATE utf8mb4_bin NOT NULL,\n")],
        changes: &["Users: column Username"],
        mysql_has: &["MODIFY COLUMN `Username` VARCHAR(32) COLLATE utf8mb4_bin NOT NULL"],
        sqlite_has: &["Nothing changes on SQLite"],
        ..NONE
    };
    index_added_dropped_and_changed: Case {
        edits: &[
            ("CREATE INDEX ApiRateLimitWindowStart ON ApiRateLimit (WindowStart);", "CREATE INDEX ApiRateLimitWindowStart ON ApiRateLimit (WindowStart, Requests);"),
            ("CREATE INDEX UsersAccountTypeID ON Users (AccountTypeID);", "CREATE INDEX UsersAccountTypeID ON Users (AccountTypeID);\nCREATE INDEX UsersRealName ON Users (RealName);"),
        ],
        changes: &["ApiRateLimit: drop index ApiRateLimitWindowStart", "ApiRateLimit: add index ApiRateLimitWindowStart (WindowStart, Requests)", "Users: add index UsersRealName (RealName)"],
        sqlite_has: &["DROP INDEX ApiRateLimitWindowStart", "CREATE INDEX UsersRealName ON Users (RealName)"],
        sqlite_lacks: &["aurweb_migrate_new_"],
        ..NONE
    };
    unique_key_added_and_dropped: Case {
        edits: &[
            ("CREATE TABLE PackageBlacklist (\n\tID INTEGER UNSIGNED NOT NULL AUTO_INCREMENT,\n\tName VARCHAR(64) NOT NULL,\n\tPRIMARY KEY (ID),\n\tUNIQUE (Name)\n", "CREATE TABLE PackageBlacklist (\n\tID INTEGER UNSIGNED NOT NULL AUTO_INCREMENT,\n\tName VARCHAR(64) NOT NULL,\n\tPRIMARY KEY (ID)\n"),
            ("\tProvides VARCHAR(64) NOT NULL,\n\tPRIMARY KEY (ID)\n", "\tProvides VARCHAR(64) NOT NULL,\n\tPRIMARY KEY (ID),\n\tUNIQUE (Repo, Name)\n"),
        ],
        changes: &["PackageBlacklist: drop unique (Name)", "OfficialProviders: add unique (Repo, Name)"],
        markers: &["unique-key OfficialProviders (Repo, Name)"],
        mysql_has: &["DROP INDEX `Name`", "ADD UNIQUE KEY", "\n-- SELECT `Repo`, `Name`, COUNT(*) FROM `OfficialProviders` GROUP BY `Repo`, `Name` HAVING COUNT(*) > 1 LIMIT 5;\n"],
        sqlite_has: &["\n-- SELECT Repo, Name, COUNT(*) FROM OfficialProviders GROUP BY Repo, Name HAVING COUNT(*) > 1 LIMIT 5;\n"],
        duplicate: Some(("INSERT INTO OfficialProviders (ID, Name, Repo, Provides) VALUES (2, 'a', 'core', 'b')", "DELETE FROM OfficialProviders WHERE ID = 2")),
        ..NONE
    };
    // A unique key with a name of its own is an index of its own in sqlite.sql too: SQLite
    // adds it (and the reverse drops it) without rebuilding the table.
    unique_index_added_without_a_rebuild: Case {
        reversible: true,
        edits: &[("CREATE UNIQUE INDEX UsersNormalizedEmail ON Users (NormalizedEmail);\n", "CREATE UNIQUE INDEX UsersNormalizedEmail ON Users (NormalizedEmail);\nCREATE UNIQUE INDEX UsersRealNameNick ON Users (RealName, IRCNick);\n")],
        changes: &["Users: add unique (RealName, IRCNick)"],
        markers: &["unique-key Users (RealName, IRCNick)"],
        mysql_has: &["ADD UNIQUE KEY `UsersRealNameNick` (`RealName`, `IRCNick`)"],
        sqlite_has: &["\nCREATE UNIQUE INDEX UsersRealNameNick ON Users (RealName, IRCNick);\n"],
        sqlite_lacks: &["aurweb_migrate_new_", "foreign-keys off"],
        duplicate: Some(("INSERT INTO Users (ID, AccountTypeID, Username, Email, Passwd, RealName, IRCNick) VALUES (3, 1, 'carol', 'carol@example.org', 'z', 'Alice', 'al')", "DELETE FROM Users WHERE ID = 3")),
        ..NONE
    };
    primary_key_changed: Case {
        edits: &[("\tBanTS TIMESTAMP NOT NULL,\n\tPRIMARY KEY (IPAddress)\n", "\tBanTS TIMESTAMP NOT NULL,\n\tPRIMARY KEY (IPAddress, BanTS)\n")],
        changes: &["Bans: primary key (IPAddress) -> (IPAddress, BanTS)"],
        mysql_has: &["DROP PRIMARY KEY", "ADD PRIMARY KEY (`IPAddress`, `BanTS`)"],
        ..NONE
    };
    // Shaped like aurweb's primary key on Sessions, which production's duplicates refused.
    primary_key_added: Case {
        edits: &[("\tRevision INTEGER UNSIGNED NOT NULL DEFAULT 0,\n\tFOREIGN KEY (UsersID)", "\tRevision INTEGER UNSIGNED NOT NULL DEFAULT 0,\n\tPRIMARY KEY (UsersID, TermsID),\n\tFOREIGN KEY (UsersID)")],
        changes: &["AcceptedTerms: primary key () -> (UsersID, TermsID)"],
        markers: &["primary-key AcceptedTerms (UsersID, TermsID)"],
        mysql_has: &["ADD PRIMARY KEY (`UsersID`, `TermsID`)", "\n-- SELECT `UsersID`, `TermsID`, COUNT(*) FROM `AcceptedTerms` GROUP BY `UsersID`, `TermsID` HAVING COUNT(*) > 1 LIMIT 5;\n"],
        duplicate: Some(("INSERT INTO AcceptedTerms (UsersID, TermsID, Revision) VALUES (1, 1, 9)", "DELETE FROM AcceptedTerms WHERE Revision = 9")),
        ..NONE
    };
    // Shaped like aurweb's NormalizedEmail: existing rows get NULL, which the key lets
    // through, and the review fills them in.
    nullable_column_added_into_a_unique_key: Case {
        edits: &[
            ("\tNormalizedEmail VARCHAR(320) NULL DEFAULT NULL,\n", "\tNormalizedEmail VARCHAR(320) NULL DEFAULT NULL,\n\tNormalizedNick VARCHAR(32) NULL DEFAULT NULL,\n"),
            ("CREATE UNIQUE INDEX UsersNormalizedEmail ON Users (NormalizedEmail);\n", "CREATE UNIQUE INDEX UsersNormalizedEmail ON Users (NormalizedEmail);\nCREATE UNIQUE INDEX UsersNormalizedNick ON Users (NormalizedNick);\n"),
        ],
        changes: &["Users: add column NormalizedNick"],
        markers: &["null-in-unique Users.NormalizedNick"],
        mysql_has: &["existing rows get NULL, and NULLs do not collide in a unique key"],
        sqlite_has: &["existing rows get NULL, and NULLs do not collide in a unique key"],
        sqlite_lacks: &["-- SELECT "],
        review: &["UPDATE Users SET NormalizedNick = LOWER(IRCNick);"],
        holds: &["SELECT COUNT(*) FROM Users WHERE ID = 1 AND NormalizedNick = 'al'"],
        ..NONE
    };
    foreign_key_added_with_its_column: Case {
        edits: &[("\tRevision INTEGER UNSIGNED NOT NULL DEFAULT 1,\n\tPRIMARY KEY (ID)", "\tRevision INTEGER UNSIGNED NOT NULL DEFAULT 1,\n\tAuthorID INTEGER UNSIGNED NULL,\n\tPRIMARY KEY (ID),\n\tFOREIGN KEY (AuthorID) REFERENCES Users (ID) ON DELETE SET NULL")],
        changes: &["Terms: add column AuthorID", "Terms: add foreign key (AuthorID) references Users (ID)"],
        sqlite_has: &["aurweb_migrate_new_Terms"],
        ..NONE
    };
    foreign_key_changed: Case {
        reversible: true,
        edits: &[("\tFOREIGN KEY (UserID) REFERENCES Users (ID) ON DELETE CASCADE\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;\n\nCREATE TABLE Sessions", "\tFOREIGN KEY (UserID) REFERENCES Users (ID) ON DELETE NO ACTION\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;\n\nCREATE TABLE Sessions")],
        changes: &["SSHPubKeys: drop foreign key (UserID) references Users (ID) on delete CASCADE", "SSHPubKeys: add foreign key (UserID) references Users (ID) on delete NO ACTION"],
        mysql_has: &["DROP FOREIGN KEY `SSHPubKeys_ibfk_1`"],
        ..NONE
    };
    foreign_key_dropped: Case {
        edits: &[("\tUNIQUE (SessionID),\n\tFOREIGN KEY (UsersID) REFERENCES Users (ID) ON DELETE CASCADE\n", "\tUNIQUE (SessionID)\n")],
        changes: &["Sessions: drop foreign key (UsersID) references Users (ID)"],
        ..NONE
    };
    index_on_a_foreign_key_dropped: Case {
        edits: &[("CREATE INDEX UsersAccountTypeID ON Users (AccountTypeID);\n", "")],
        changes: &["Users: drop index UsersAccountTypeID"],
        mysql_has: &["DROP FOREIGN KEY `Users_ibfk_1`", "DROP INDEX `UsersAccountTypeID`", "ADD FOREIGN KEY (`AccountTypeID`) REFERENCES `AccountTypes` (`ID`)"],
        sqlite_has: &["DROP INDEX UsersAccountTypeID"],
        reversible: true,
        ..NONE
    };
    referenced_column_type_changed: Case {
        edits: &[
            ("CREATE TABLE AccountTypes (\n\tID TINYINT UNSIGNED NOT NULL AUTO_INCREMENT,", "CREATE TABLE AccountTypes (\n\tID SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,"),
            ("\tAccountTypeID TINYINT UNSIGNED NOT NULL DEFAULT 1,", "\tAccountTypeID SMALLINT UNSIGNED NOT NULL DEFAULT 1,"),
        ],
        changes: &["AccountTypes: column ID: TINYINT UNSIGNED", "Users: column AccountTypeID"],
        mysql_has: &["DROP FOREIGN KEY `Users_ibfk_1`", "MODIFY COLUMN `ID` SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT", "ADD FOREIGN KEY (`AccountTypeID`) REFERENCES `AccountTypes` (`ID`)"],
        reversible: true,
        holds: &["SELECT COUNT(*) FROM Users WHERE ID = 1 AND AccountTypeID = 1"],
        ..NONE
    };
    table_options: Case {
        edits: &[
            ("\tPRIMARY KEY (ID)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;\n\nCREATE UNIQUE INDEX ProviderNameProvides", "\tPRIMARY KEY (ID)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;\n\nCREATE UNIQUE INDEX ProviderNameProvides"),
            ("\tPRIMARY KEY (IPAddress)\n) ENGINE=InnoDB", "\tPRIMARY KEY (IPAddress)\n) ENGINE=Aria"),
        ],
        changes: &["OfficialProviders: options engine=InnoDB collation=utf8mb4_bin -> engine=InnoDB collation=utf8mb4_general_ci", "Bans: options engine=InnoDB"],
        mysql_has: &["DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci", "ENGINE=Aria", "MODIFY COLUMN `Repo` VARCHAR(64) COLLATE utf8mb4_general_ci NOT NULL"],
        sqlite_has: &["Nothing changes on SQLite"],
        ..NONE
    };
    // Shaped like aurweb's b7c419f0a2d1 (`ALTER TABLE Users ROW_FORMAT=DYNAMIC`): a row
    // format the schema file states is generated; SQLite has none.
    row_format_stated: Case {
        edits: &[("\tPRIMARY KEY (ID)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;\n\nCREATE TABLE AcceptedTerms", "\tPRIMARY KEY (ID)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci ROW_FORMAT=COMPACT;\n\nCREATE TABLE AcceptedTerms")],
        changes: &["Terms: options engine=InnoDB collation=utf8mb4_general_ci -> engine=InnoDB collation=utf8mb4_general_ci row_format=COMPACT"],
        mysql_has: &["ALTER TABLE `Terms`\n  ROW_FORMAT=COMPACT;"],
        sqlite_has: &["Nothing changes on SQLite"],
        ..NONE
    };
    column_renamed_when_asked: Case {
        reversible: true,
        edits: &[("\tIRCNick VARCHAR(32) NOT NULL DEFAULT '',\n", "\tChatNick VARCHAR(32) NOT NULL DEFAULT '',\n")],
        renames: &["Users.IRCNick=ChatNick"],
        changes: &["Users: rename column IRCNick -> ChatNick"],
        mysql_has: &["CHANGE COLUMN `IRCNick` `ChatNick` VARCHAR(32)"],
        sqlite_has: &["ALTER TABLE Users RENAME COLUMN IRCNick TO ChatNick"],
        sqlite_lacks: &["aurweb_migrate_new_"],
        holds: &["SELECT COUNT(*) FROM Users WHERE ChatNick = 'al'"],
        ..NONE
    };
    // SQLite rebuilds Users for the wider type anyway: the rename is the rebuild's column
    // mapping (`SELECT … IRCNick …`), not an `ALTER TABLE … RENAME COLUMN` before it; the
    // draft spells every name one way (bare, as sqlite.sql does).
    column_renamed_in_a_table_that_is_rebuilt: Case {
        edits: &[("\tIRCNick VARCHAR(32) NOT NULL DEFAULT '',\n", "\tChatNick VARCHAR(64) NOT NULL DEFAULT '',\n")],
        renames: &["Users.IRCNick=ChatNick"],
        changes: &["Users: rename column IRCNick -> ChatNick", "Users: column ChatNick: VARCHAR(32) NOT NULL DEFAULT ''"],
        mysql_has: &["CHANGE COLUMN `IRCNick` `ChatNick` VARCHAR(64)"],
        sqlite_has: &["CREATE TABLE aurweb_migrate_new_Users (", ", ChatNick, ", ", IRCNick, ", " FROM Users;", "ALTER TABLE aurweb_migrate_new_Users RENAME TO Users;"],
        sqlite_lacks: &["RENAME COLUMN", "\""],
        holds: &["SELECT COUNT(*) FROM Users WHERE ID = 1 AND ChatNick = 'al' AND Username = 'alice'", "SELECT COUNT(*) FROM Users WHERE ID = 2 AND ChatNick = 'bo'"],
        ..NONE
    };
    column_rename_candidate_is_flagged: Case {
        edits: &[("\tIRCNick VARCHAR(32) NOT NULL DEFAULT '',\n", "\tChatNick VARCHAR(32) NOT NULL DEFAULT '',\n")],
        changes: &["Users: drop column IRCNick", "Users: add column ChatNick"],
        markers: &["rename-candidate Users.IRCNick", "drop-column Users.IRCNick"],
        ..NONE
    };
    // The draft creates the table and then its rows, as upserts by primary key.
    add_table_with_seed_rows: Case {
        edits: &[("INSERT INTO AccountTypes", "CREATE TABLE Widgets (
\tID INTEGER UNSIGNED NOT NULL AUTO_INCREMENT,
\tName VARCHAR(32) NOT NULL DEFAULT '',
\tPRIMARY KEY (ID)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

INSERT INTO Widgets (ID, Name) VALUES
\t(1, 'gear'),
\t(2, 'sprocket');

INSERT INTO AccountTypes")],
        changes: &["create table Widgets", "Widgets: seed rows: insert 2"],
        mysql_has: &["INSERT INTO `Widgets` (`ID`, `Name`) VALUES (2, 'sprocket') ON DUPLICATE KEY UPDATE `Name` = 'sprocket'"],
        sqlite_has: &["INSERT INTO Widgets (ID, Name) VALUES (2, 'sprocket') ON CONFLICT (ID) DO UPDATE SET Name = excluded.Name"],
        holds: &["SELECT COUNT(*) FROM Widgets WHERE ID = 2 AND Name = 'sprocket'", "SELECT COUNT(*) - 1 FROM Widgets"],
        ..NONE
    };
    // Seed rows of an existing table: one changed (a quote and a backslash), one removed, one
    // added (not ASCII); the reverse puts them back.
    seed_rows_added_changed_and_removed: Case {
        reversible: true,
        edits: &[
            ("\t(1, 'deletion'),", "\t(1, 'it''s a \\\\ deletion'),"),
            ("\t(3, 'merge'),\n\t(4, 'adoption');", "\t(3, 'merge'),\n\t(5, 'Grüße 🦀');"),
        ],
        changes: &["RequestTypes: seed rows: insert 1, update 1, delete 1"],
        mysql_has: &[
            "DELETE FROM `RequestTypes` WHERE `ID` = 4;",
            "UPDATE `RequestTypes` SET `Name` = 'it''s a \\\\ deletion' WHERE `ID` = 1;",
            "INSERT INTO `RequestTypes` (`ID`, `Name`) VALUES (5, 'Grüße 🦀') ON DUPLICATE KEY UPDATE `Name` = 'Grüße 🦀';",
        ],
        sqlite_has: &[
            "DELETE FROM RequestTypes WHERE ID = 4;",
            "UPDATE RequestTypes SET Name = 'it''s a \\ deletion' WHERE ID = 1;",
            "ON CONFLICT (ID) DO UPDATE SET Name = excluded.Name;",
        ],
        holds: &[
            "SELECT COUNT(*) FROM RequestTypes WHERE ID = 1 AND Name LIKE 'it''s a _ deletion' AND LENGTH(Name) = 17",
            "SELECT COUNT(*) FROM RequestTypes WHERE ID = 5 AND Name = 'Grüße 🦀'",
            "SELECT 1 - COUNT(*) FROM RequestTypes WHERE ID = 4",
            "SELECT COUNT(*) - 3 FROM RequestTypes",
        ],
        ..NONE
    };
    // A column added to a seeded table: only the row whose seed value is not the default is
    // updated.
    seed_rows_of_a_new_column: Case {
        edits: &[
            ("\tName VARCHAR(32) NOT NULL DEFAULT '',\n\tPRIMARY KEY (ID)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;\n\nCREATE TABLE PackageRequests", "\tName VARCHAR(32) NOT NULL DEFAULT '',\n\tWeight INTEGER NOT NULL DEFAULT 0,\n\tPRIMARY KEY (ID)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;\n\nCREATE TABLE PackageRequests"),
            ("INSERT INTO RequestTypes (ID, Name) VALUES\n\t(1, 'deletion'),\n\t(2, 'orphan'),\n\t(3, 'merge'),\n\t(4, 'adoption');", "INSERT INTO RequestTypes (ID, Name, Weight) VALUES\n\t(1, 'deletion', 0),\n\t(2, 'orphan', 5),\n\t(3, 'merge', 0),\n\t(4, 'adoption', 0);"),
        ],
        changes: &["RequestTypes: add column Weight", "RequestTypes: seed rows: update 1"],
        markers: &["not-null RequestTypes.Weight"],
        mysql_has: &["UPDATE `RequestTypes` SET `Weight` = 5 WHERE `ID` = 2;"],
        sqlite_has: &["UPDATE RequestTypes SET Weight = 5 WHERE ID = 2;"],
        sqlite_lacks: &["ID = 1;"],
        holds: &["SELECT COUNT(*) FROM RequestTypes WHERE ID = 2 AND Weight = 5", "SELECT COUNT(*) - 2 FROM RequestTypes WHERE Weight = 0"],
        ..NONE
    };
    table_renamed_when_asked: Case {
        edits: &[("CREATE TABLE Bans (", "CREATE TABLE IPBans (")],
        renames: &["Bans=IPBans"],
        changes: &["rename table Bans -> IPBans"],
        mysql_has: &["RENAME TABLE `Bans` TO `IPBans`"],
        sqlite_has: &["ALTER TABLE Bans RENAME TO IPBans"],
        renamed: &[("Bans", "IPBans")],
        ..NONE
    };
    column_renamed_in_a_renamed_table_that_changes_otherwise: Case {
        reversible: true,
        edits: &[("CREATE TABLE Bans (\n\tIPAddress VARCHAR(45) NOT NULL,\n\tBanTS TIMESTAMP NOT NULL,\n\tPRIMARY KEY (IPAddress)\n", "CREATE TABLE IPBans (\n\tAddress VARCHAR(45) NOT NULL,\n\tBanTS TIMESTAMP NOT NULL,\n\tReason VARCHAR(64) NULL,\n\tPRIMARY KEY (Address)\n")],
        // The column named by the table's old name, as `--rename`'s help allows.
        renames: &["Bans=IPBans", "Bans.IPAddress=Address"],
        changes: &["rename table Bans -> IPBans", "Bans: rename column IPAddress -> Address", "IPBans: add column Reason VARCHAR(64) NULL"],
        // One ALTER TABLE renames it and changes its columns (no foreign key references it).
        mysql_has: &["ALTER TABLE `Bans`\n  RENAME TO `IPBans`,\n  CHANGE COLUMN `IPAddress` `Address` VARCHAR(45)", "ADD COLUMN `Reason` VARCHAR(64)"],
        sqlite_has: &["ALTER TABLE IPBans RENAME COLUMN IPAddress TO Address"],
        renamed: &[("Bans", "IPBans")],
        holds: &["SELECT COUNT(*) FROM IPBans WHERE Address = '192.0.2.1' AND Reason IS NULL"],
        ..NONE
    };
}

/// A draft the server refuses: the seed rows change (the generator writes them after the
/// DDL) and the column narrows to fit only the new ones; on the replay the old
/// rows do not fit. The self-check fails with the server's words and the draft, exit 1, and
/// nothing is written — no migration file, no schema-version line moved.
#[test]
fn a_draft_that_fails_writes_nothing() {
    let env = Env::new();
    let Some(server) = Db::mysql(&env, module_path!()) else {
        return;
    };
    copy_repository(&env);
    let before = env.ls("migrations");
    let mut schema = text(&env, "schema/mysql.sql");
    for (old, new) in [
        (
            "CREATE TABLE RequestTypes (\n\tID TINYINT UNSIGNED NOT NULL AUTO_INCREMENT,\n\tName VARCHAR(32) NOT NULL DEFAULT '',",
            "CREATE TABLE RequestTypes (\n\tID TINYINT UNSIGNED NOT NULL AUTO_INCREMENT,\n\tName VARCHAR(6) NOT NULL DEFAULT '',",
        ),
        ("\t(1, 'deletion'),", "\t(1, 'delete'),"),
        ("\t(4, 'adoption');", "\t(4, 'adopt');"),
    ] {
        assert!(schema.contains(old), "{old}");
        schema = schema.replacen(old, new, 1);
    }
    env.write("schema/mysql.sql", &schema);
    let sqlite_before = text(&env, "schema/sqlite.sql");
    env.run(&[
        "-d",
        server.url(),
        "new",
        "--autogenerate",
        "short request types",
    ])
    .code(1)
    .stderr_has("the generated mysql migration failed when applied to a replay")
    .stderr_has("Data truncated for column 'Name'")
    .stderr_has("nothing was written")
    .stderr_has("UPDATE `RequestTypes` SET `Name` = 'delete' WHERE `ID` = 1")
    .stderr_has("MODIFY COLUMN `Name` VARCHAR(6)");
    assert_eq!(env.ls("migrations"), before);
    assert_eq!(text(&env, "schema/mysql.sql"), schema);
    assert_eq!(text(&env, "schema/sqlite.sql"), sqlite_before);
}

/// Without a server and with schema/mysql.sql as the source: exit 2 saying what to pass, and
/// nothing written.
#[test]
fn without_a_server_nothing_is_written() {
    let env = Env::new();
    copy_repository(&env);
    let before = env.ls("migrations");
    let schema = text(&env, "schema/mysql.sql");
    env.write(
        "schema/mysql.sql",
        schema.replace("\tIRCNick VARCHAR(32)", "\tIRCNick VARCHAR(64)"),
    );
    env.run(&["new", "--autogenerate", "wider nick"])
        .code(2)
        .stderr_has("-d mysql://USER@HOST/DB");
    assert_eq!(env.ls("migrations"), before);
    assert!(text(&env, "schema/sqlite.sql")
        .contains(&format!("-- schema-version: {}\n", aurweb_head())));
    // --rename only with --autogenerate; a malformed one is a usage error.
    env.run(&["new", "x", "--rename", "A=B"]).code(2);
    env.run(&["new", "--autogenerate", "x", "--rename", "nonsense"])
        .code(2)
        .stderr_has("TABLE.OLD=NEW");
    assert_eq!(env.ls("migrations"), before);
}

/// A SQLite-only project: sqlite.sql is the source, no server is needed, and the migration is
/// one portable file; `--reversible` writes its reverse, proved by a downgrade; JSON lists the
/// files, changes and markers.
#[test]
fn sqlite_only_projects_need_no_server() {
    let env = Env::new();
    env.migration(
        "0001_init.sql",
        "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(10) NOT NULL);\n",
    );
    env.write(
        "schema/sqlite.sql",
        "-- schema-version: 1\nCREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(10) NOT NULL);\n",
    );
    let db = Db::sqlite(&env);
    db.run(&["upgrade"]).ok();
    db.exec("INSERT INTO t (id, name) VALUES (1, 'one')");
    env.write(
        "schema/sqlite.sql",
        "-- schema-version: 1\nCREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(10) NOT NULL, gone INTEGER NULL);\nCREATE INDEX t_name ON t (name);\n",
    );
    let run = env.run(&[
        "--format",
        "json",
        "new",
        "--autogenerate",
        "--reversible",
        "add gone",
    ]);
    let doc = run.ok().json();
    assert_eq!(doc["changed"], true, "{doc:#}");
    assert_eq!(doc["version"], 2, "{doc:#}");
    let files: Vec<&str> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "migrations/0002_add_gone.sql",
            "migrations/0002_add_gone.down.sql"
        ],
        "{doc:#}"
    );
    let changes = doc["drafts"][0]["changes"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c == "t: add column gone INTEGER NULL"),
        "{doc:#}"
    );
    assert_eq!(doc["drafts"][0]["markers"], serde_json::json!([]));
    assert!(text(&env, "schema/sqlite.sql").starts_with("-- schema-version: 2\n"));
    let down = text(&env, "migrations/0002_add_gone.down.sql");
    assert!(down.contains("DROP COLUMN gone"), "{down}");
    assert!(down.contains("review drop-column t.gone"), "{down}");
    // The reverse carries its own marker, and the pair does not run until it is deleted.
    db.run(&["upgrade"])
        .code(2)
        .stderr_has("migrations/0002_add_gone.down.sql:")
        .stderr_has("not reviewed yet: drop-column t.gone");
    clear_markers(&env, "migrations/0002_add_gone.down.sql");
    db.run(&["upgrade"]).ok();
    assert_eq!(db.count("t"), 1);
    db.run(&["downgrade", "--to", "1"]).ok();
    assert_eq!(
        db.strings("SELECT name FROM pragma_table_info('t')"),
        ["id", "name"]
    );
    assert_eq!(db.count("t"), 1);
    env.run(&["new", "--autogenerate", "again"])
        .ok()
        .stdout_has("no changes");
}

/// A draft that still carries review markers stops the next `new --autogenerate`: exit 2,
/// `file:line` of its first marker, nothing written (no migration, no schema-version line
/// moved); once reviewed, the next one is written. On a SQLite-only project (no server) and
/// on aurweb's repository (both dialects' files; the MySQL one is named first).
#[test]
fn an_unreviewed_draft_stops_the_next_one() {
    // SQLite only.
    let env = Env::new();
    env.migration(
        "0001_init.sql",
        "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(10) NULL);\n",
    );
    env.write(
        "schema/sqlite.sql",
        "-- schema-version: 1\nCREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY);\n",
    );
    env.run(&["new", "--autogenerate", "drop name"]).ok();
    let draft = "migrations/0002_drop_name.sql";
    let line = text(&env, draft)
        .lines()
        .position(|l| l.starts_with("-- aurweb-migrate: review drop-column t.name"))
        .expect("a marker")
        + 1;
    let edited =
        "-- schema-version: 2\nCREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, n INTEGER NULL);\n";
    env.write("schema/sqlite.sql", edited);
    let before = env.ls("migrations");
    env.run(&["new", "--autogenerate", "add n"])
        .code(2)
        .stderr_has(&format!(
            "{draft}:{line}: an earlier draft is not reviewed yet: drop-column t.name"
        ))
        .stderr_has("nothing was written");
    let doc = env
        .run(&["--format", "json", "new", "--autogenerate", "add n"])
        .code(2)
        .json();
    assert_eq!(doc["error"]["kind"], "input", "{doc:#}");
    assert_eq!(doc["error"]["file"], draft, "{doc:#}");
    assert_eq!(doc["error"]["line"], line, "{doc:#}");
    assert_eq!(env.ls("migrations"), before);
    assert_eq!(text(&env, "schema/sqlite.sql"), edited);
    clear_markers(&env, draft);
    env.run(&["new", "--autogenerate", "add n"]).ok();
    assert!(env.exists("migrations/0003_add_n.sql"));

    // aurweb's repository, both dialects.
    let env = Env::new();
    let Some(server) = Db::mysql(&env, module_path!()) else {
        return;
    };
    copy_repository(&env);
    let version = aurweb_head() + 1;
    env.write(
        "schema/mysql.sql",
        text(&env, "schema/mysql.sql").replacen(BANS, "", 1),
    );
    env.run(&["-d", server.url(), "new", "--autogenerate", "drop bans"])
        .ok();
    let draft = format!("migrations/{version:04}_drop_bans.mysql.sql");
    let line = text(&env, &draft)
        .lines()
        .position(|l| l.starts_with("-- aurweb-migrate: review drop-table Bans"))
        .expect("a marker")
        + 1;
    let edited =
        text(&env, "schema/mysql.sql").replace("\tIRCNick VARCHAR(32)", "\tIRCNick VARCHAR(64)");
    env.write("schema/mysql.sql", &edited);
    let before = env.ls("migrations");
    let sqlite_before = text(&env, "schema/sqlite.sql");
    env.run(&["-d", server.url(), "new", "--autogenerate", "wider nick"])
        .code(2)
        .stderr_has(&format!(
            "{draft}:{line}: an earlier draft is not reviewed yet: drop-table Bans"
        ));
    assert_eq!(env.ls("migrations"), before);
    assert_eq!(text(&env, "schema/mysql.sql"), edited);
    assert_eq!(text(&env, "schema/sqlite.sql"), sqlite_before);
    // The MySQL file reviewed, the SQLite one still stops it.
    clear_markers(&env, &draft);
    let sqlite_draft = format!("migrations/{version:04}_drop_bans.sqlite.sql");
    env.run(&["-d", server.url(), "new", "--autogenerate", "wider nick"])
        .code(2)
        .stderr_has(&format!("{sqlite_draft}:"))
        .stderr_has("drop-table Bans");
    clear_markers(&env, &sqlite_draft);
    env.run(&["-d", server.url(), "new", "--autogenerate", "wider nick"])
        .ok()
        .stdout_has("Users: column IRCNick");
    assert_eq!(migration_files(&env, version + 1).len(), 2);
}

/// Spellings the model treats as the same give "no changes": `BIGINT(20)` for `BIGINT`,
/// `DEFAULT '0'` for `DEFAULT 0` on an integer, a named foreign key where the history made
/// an unnamed one, and a foreign key dropped and re-added in history (its server-made name
/// is `_ibfk_2` then).
#[test]
fn noise_gives_no_changes() {
    let env = Env::new();
    let Some(server) = Db::mysql(&env, module_path!()) else {
        return;
    };
    copy_repository(&env);
    let head = aurweb_head();
    let next = head + 1;
    env.migration(
        &format!("{next:04}_readd_ssh_key_owner.mysql.sql"),
        "ALTER TABLE SSHPubKeys DROP FOREIGN KEY SSHPubKeys_ibfk_1;\nALTER TABLE SSHPubKeys ADD FOREIGN KEY (UserID) REFERENCES Users (ID) ON DELETE CASCADE;\n",
    );
    env.migration(
        &format!("{next:04}_readd_ssh_key_owner.sqlite.sql"),
        "-- Nothing to do on SQLite.\n",
    );
    let edits = [
        ("\tSuspended TINYINT UNSIGNED NOT NULL DEFAULT 0,", "\tSuspended TINYINT UNSIGNED NOT NULL DEFAULT '0',"),
        ("\tLastLogin BIGINT UNSIGNED NOT NULL", "\tLastLogin BIGINT(20) UNSIGNED NOT NULL"),
        ("\tFOREIGN KEY (UserID) REFERENCES Users (ID) ON DELETE CASCADE\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;\n\nCREATE TABLE Sessions", "\tCONSTRAINT SSHPubKeysOwner FOREIGN KEY (UserID) REFERENCES Users (ID) ON DELETE CASCADE\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;\n\nCREATE TABLE Sessions"),
        (&format!("-- schema-version: {head}\n"), &format!("-- schema-version: {next}\n")),
    ];
    let mut schema = text(&env, "schema/mysql.sql");
    for (old, new) in edits {
        assert!(schema.contains(old), "{old}");
        schema = schema.replacen(old, new, 1);
    }
    env.write("schema/mysql.sql", &schema);
    let sqlite = text(&env, "schema/sqlite.sql").replacen(
        &format!("-- schema-version: {head}\n"),
        &format!("-- schema-version: {next}\n"),
        1,
    );
    env.write("schema/sqlite.sql", sqlite);
    let before = env.ls("migrations");
    env.run(&["-d", server.url(), "new", "--autogenerate", "noise"])
        .ok()
        .stdout_has("no changes");
    assert_eq!(env.ls("migrations"), before);
}

// ---- random sequences of changes ---------------------------------------------------------

/// schema/mysql.sql as tables of lines, for random edits.
struct Doc {
    text: String,
    /// A counter for the names of added objects.
    n: usize,
}

/// A line of a table block that declares a key, not a column.
fn is_key_line(line: &str) -> bool {
    let w = line.trim_start();
    ["PRIMARY", "UNIQUE", "FOREIGN", "CONSTRAINT", "KEY", "INDEX"]
        .iter()
        .any(|k| w.starts_with(k))
}

fn word_in(text: &str, word: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|w| w == word)
}

impl Doc {
    /// Tables whose blocks end with a key line (so every column line ends with a comma),
    /// as (name, byte range of the block's lines).
    fn tables(&self) -> Vec<(String, usize, usize)> {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(i) = self.text[at..].find("CREATE TABLE ") {
            let start = at + i;
            let head_end = start + self.text[start..].find(" (\n").expect("a table block");
            let name = self.text[start + 13..head_end]
                .trim_matches('`')
                .to_string();
            let body = head_end + 3;
            let end = body + self.text[body..].find("\n) ").expect("the block's end");
            let last = self.text[body..end].lines().last().unwrap_or("");
            if is_key_line(last) {
                out.push((name, body, end));
            }
            at = end;
        }
        out
    }

    fn columns(&self, t: &(String, usize, usize)) -> Vec<String> {
        self.text[t.1..t.2]
            .lines()
            .filter(|l| !is_key_line(l))
            .map(str::to_string)
            .collect()
    }

    /// Columns no key, index, foreign key or seed row names: safe to drop, move and change.
    fn free_columns(&self, t: &(String, usize, usize)) -> Vec<String> {
        if self.text.contains(&format!("INSERT INTO {} (", t.0)) {
            return Vec::new();
        }
        let keys: Vec<&str> = self.text[t.1..t.2]
            .lines()
            .filter(|l| is_key_line(l))
            .collect();
        let index_lines: Vec<&str> = self
            .text
            .lines()
            .filter(|l| l.starts_with("CREATE") && l.contains(&format!(" ON {} (", t.0)))
            .collect();
        let referenced = format!("REFERENCES {} (", t.0);
        self.columns(t)
            .into_iter()
            .filter(|line| {
                let name = line.split_whitespace().next().unwrap_or("");
                !keys.iter().chain(&index_lines).any(|k| word_in(k, name))
                    && !self
                        .text
                        .match_indices(&referenced)
                        .any(|(i, _)| word_in(&self.text[i..i + referenced.len() + 40], name))
                    && !line.contains("AUTO_INCREMENT")
            })
            .collect()
    }

    fn replace_line(&mut self, t: &(String, usize, usize), old: &str, new: Option<&str>) {
        let block = &self.text[t.1..t.2];
        let mut lines: Vec<String> = block.lines().map(str::to_string).collect();
        let i = lines
            .iter()
            .position(|l| l == old)
            .expect("the line is there");
        match new {
            Some(n) => lines[i] = n.to_string(),
            None => {
                lines.remove(i);
            }
        }
        self.text.replace_range(t.1..t.2, &lines.join("\n"));
    }

    fn insert_after(&mut self, t: &(String, usize, usize), after: usize, line: &str) {
        let block = &self.text[t.1..t.2];
        let mut lines: Vec<String> = block.lines().map(str::to_string).collect();
        lines.insert((after + 1).min(lines.len()), line.to_string());
        self.text.replace_range(t.1..t.2, &lines.join("\n"));
    }

    /// Applies change `kind` with choices `a` and `b`; returns what it did, or `None` when
    /// there was nothing to apply it to.
    fn apply(&mut self, kind: u8, a: usize, b: usize) -> Option<String> {
        let tables = self.tables();
        let t = tables[a % tables.len()].clone();
        let free = self.free_columns(&t);
        let pick = |v: &[String], i: usize| (!v.is_empty()).then(|| v[i % v.len()].clone());
        self.n += 1;
        let n = self.n;
        match kind % 8 {
            0 => {
                let cols = self.columns(&t).len();
                let line = if b % 2 == 0 {
                    format!("\tProp{n} VARCHAR(16) NOT NULL DEFAULT 'p',")
                } else {
                    format!("\tProp{n} INT UNSIGNED NULL,")
                };
                self.insert_after(&t, b % cols, &line);
                Some(format!("add Prop{n} to {}", t.0))
            }
            1 => {
                let line = pick(&free, b)?;
                self.replace_line(&t, &line, None);
                Some(format!("drop {} from {}", line.trim(), t.0))
            }
            2 => {
                let line = pick(&free, b)?;
                let open = line.find("VARCHAR(")?;
                let close = open + line[open..].find(')')?;
                let size: u32 = line[open + 8..close].parse().ok()?;
                let new = format!(
                    "{}VARCHAR({}){}",
                    &line[..open],
                    size + 8,
                    &line[close + 1..]
                );
                self.replace_line(&t, &line, Some(&new));
                Some(format!("widen {}", new.trim()))
            }
            3 => {
                let line = pick(&free, b)?;
                let new = if line.contains(" NOT NULL") {
                    line.replacen(" NOT NULL", " NULL", 1)
                } else if line.contains("VARCHAR(") && line.contains(" NULL DEFAULT NULL") {
                    line.replacen(" NULL DEFAULT NULL", " NOT NULL DEFAULT ''", 1)
                } else {
                    return None;
                };
                self.replace_line(&t, &line, Some(&new));
                Some(format!("nullability {}", new.trim()))
            }
            4 => {
                let line = pick(&free, b)?;
                let at = line.find(" DEFAULT ")?;
                let rest = &line[at + 9..];
                let new = if rest.starts_with('\'') && line.contains("CHAR(") {
                    format!("{} DEFAULT 'q{n}',", &line[..at])
                } else if rest.starts_with(|c: char| c.is_ascii_digit()) {
                    format!("{} DEFAULT {n},", &line[..at])
                } else {
                    return None;
                };
                self.replace_line(&t, &line, Some(&new));
                Some(format!("default {}", new.trim()))
            }
            5 => {
                let line = pick(&free, b)?;
                self.replace_line(&t, &line, None);
                let t = self.tables().into_iter().find(|x| x.0 == t.0)?;
                let cols = self.columns(&t).len();
                self.insert_after(&t, b / 3 % cols, &line);
                Some(format!("move {} in {}", line.trim(), t.0))
            }
            6 => {
                let cols: Vec<String> = self
                    .columns(&t)
                    .into_iter()
                    .filter(|l| {
                        !l.contains("TEXT")
                            && !l.contains("VARCHAR(4096)")
                            && !l.contains("VARCHAR(8000)")
                    })
                    .collect();
                let line = pick(&cols, b)?;
                let col = line.split_whitespace().next()?.to_string();
                let end = t.2 + self.text[t.2..].find(";\n")? + 2;
                self.text.insert_str(
                    end,
                    &format!("\nCREATE INDEX PropIdx{n} ON {} ({col});\n", t.0),
                );
                Some(format!("index {}.{col}", t.0))
            }
            _ => {
                let at = self.text.find("INSERT INTO AccountTypes")?;
                self.text.insert_str(
                    at,
                    &format!("CREATE TABLE PropT{n} (\n\tID INTEGER UNSIGNED NOT NULL AUTO_INCREMENT,\n\tUsersID INTEGER UNSIGNED NULL,\n\tNote VARCHAR(20) NOT NULL DEFAULT '',\n\tPRIMARY KEY (ID),\n\tFOREIGN KEY (UsersID) REFERENCES Users (ID) ON DELETE SET NULL\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;\n\n"),
                );
                Some(format!("table PropT{n}"))
            }
        }
    }
}

/// One random sequence: edit, generate, clear the markers, verify, upgrade a seeded SQLite
/// database to a schema equal to the head, and a second run finds nothing.
fn random_sequence(ops: &[(u8, usize, usize)]) -> Result<(), String> {
    let env = Env::new();
    let Some(server) = Db::mysql(&env, module_path!()) else {
        return Ok(());
    };
    copy_repository(&env);
    let sqlite = Db::sqlite(&env);
    sqlite.run(&["upgrade"]).ok();
    sqlite.exec(SEED);
    let mut doc = Doc {
        text: text(&env, "schema/mysql.sql"),
        n: 0,
    };
    let done: Vec<String> = ops
        .iter()
        .filter_map(|(k, a, b)| doc.apply(*k, *a, *b))
        .collect();
    env.write("schema/mysql.sql", &doc.text);
    let what = format!("changes: {done:#?}");
    let run = env
        .cmd(["-d", server.url(), "new", "--autogenerate", "random"])
        .run();
    if run.code != Some(0) {
        return Err(format!("{what}\ngenerate: {}\n{}", run.stdout, run.stderr));
    }
    let version = aurweb_head() + 1;
    for f in migration_files(&env, version) {
        clear_markers(&env, &format!("migrations/{f}"));
    }
    let verify = env.cmd(["-d", server.url(), "verify"]).run();
    if verify.code != Some(0) && !done.is_empty() {
        return Err(format!(
            "{what}\nverify: {}\n{}",
            verify.stdout, verify.stderr
        ));
    }
    let upgrade = sqlite.cmd(&["upgrade"]).run();
    let diff = sqlite.cmd(&["schema", "diff"]).run();
    if upgrade.code != Some(0) || diff.code != Some(0) {
        return Err(format!(
            "{what}\nupgrade: {}{}\ndiff: {}{}",
            upgrade.stdout, upgrade.stderr, diff.stdout, diff.stderr
        ));
    }
    if !sqlite.strings("PRAGMA foreign_key_check").is_empty() {
        return Err(format!("{what}\nforeign_key_check is not clean"));
    }
    let again = env
        .cmd(["-d", server.url(), "new", "--autogenerate", "again"])
        .run();
    if again.code != Some(0) || !again.stdout.contains("no changes") {
        return Err(format!(
            "{what}\nsecond run: {}{}",
            again.stdout, again.stderr
        ));
    }
    Ok(())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: std::env::var("AURWEB_MIGRATE_PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(6),
        max_shrink_iters: 24,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// Random sequences of 1–8 changes from aurweb's head schema; a failure shrinks to a
    /// minimal sequence (set AURWEB_MIGRATE_PROPTEST_CASES for a longer run).
    #[test]
    fn random_changes_round_trip(
        ops in proptest::collection::vec((0u8..8, 0usize..64, 0usize..64), 1..=8)
    ) {
        if let Err(e) = random_sequence(&ops) {
            return Err(proptest::test_runner::TestCaseError::fail(e));
        }
    }
}

/// aurweb's tables before 6.3.3 and 6.4.x, cut down: Sessions without a primary key (users
/// had several sessions), Users without a unique key on Email or NOT NULL on RealName.
const SESSIONS_BEFORE: &str = "CREATE TABLE Users (ID INTEGER NOT NULL, Email VARCHAR(254) NOT NULL, RealName VARCHAR(64) NULL, PRIMARY KEY (ID));
CREATE TABLE Sessions (UsersID INTEGER NOT NULL, SessionID CHAR(32) NOT NULL, LastUpdateTS BIGINT NOT NULL, UNIQUE (SessionID));
";

/// The same with aurweb's primary key on Sessions (UsersID), a unique key on Email and
/// RealName NOT NULL.
const SESSIONS_AFTER: &str = "CREATE TABLE Users (ID INTEGER NOT NULL, Email VARCHAR(254) NOT NULL, RealName VARCHAR(64) NOT NULL, PRIMARY KEY (ID), UNIQUE (Email));
CREATE TABLE Sessions (UsersID INTEGER NOT NULL, SessionID CHAR(32) NOT NULL, LastUpdateTS BIGINT NOT NULL, PRIMARY KEY (UsersID), UNIQUE (SessionID));
";

/// Duplicate sessions (users 1 and 2 have two each), a duplicate Email, two NULL RealNames.
const SESSIONS_ROWS: &str = "
INSERT INTO Users (ID, Email, RealName) VALUES (1, 'a@example.org', NULL), (2, 'a@example.org', 'B'), (3, 'c@example.org', NULL);
INSERT INTO Sessions (UsersID, SessionID, LastUpdateTS) VALUES (1, 's1', 0), (1, 's2', 0), (2, 's3', 0), (2, 's4', 0), (3, 's5', 0);
";

/// `--probe-database`: the generator counts, in a database with data, what each new key and
/// each column made NOT NULL meets, and writes the count into the marker of both dialects'
/// files; a MySQL and a SQLite database with the same rows say the same. A database without
/// the tables is a warning, and the draft is written without counts.
#[test]
fn the_probe_database_counts_into_the_markers() {
    let env = Env::new();
    let Some(server) = Db::mysql(&env, module_path!()) else {
        return;
    };
    env.migration("0001_init.sql", SESSIONS_BEFORE);
    let sqlite = Db::sqlite(&env);
    for db in [&sqlite, &server] {
        db.run(&["upgrade"]).ok();
        db.exec(SESSIONS_ROWS);
    }
    let empty = sqlite.sibling();
    empty.exec("CREATE TABLE Other (x INTEGER)");
    let counts = [
        "review primary-key Sessions (UsersID): a new primary key over the existing rows: the statement fails on duplicates; run the query below first, and if it returns rows, make them unique before this statement; the live database has 2 duplicate value(s) of (UsersID), e.g. (1) (2)\n",
        "review unique-key Users (Email): a new unique key over the existing rows: the statement fails on duplicates; run the query below first, and if it returns rows, make them unique before this statement; the live database has 1 duplicate value(s) of (Email), e.g. (a@example.org)\n",
        "review not-null Users.RealName: NOT NULL without a default: existing NULLs become ''; the live database has 2 row(s) with NULL in RealName, e.g. (1) (3)\n",
    ];
    for (data, counted) in [(&server, true), (&sqlite, true), (&empty, false)] {
        env.write(
            "schema/mysql.sql",
            format!("-- schema-version: 1\n{SESSIONS_AFTER}"),
        );
        if env.exists("schema/sqlite.sql") {
            env.remove("schema/sqlite.sql");
        }
        let run = env.run(&[
            "-d",
            server.url(),
            "new",
            "--autogenerate",
            "sessions key",
            "--probe-database",
            data.url(),
        ]);
        run.ok();
        for dialect in ["mysql", "sqlite"] {
            let file = format!("migrations/0002_sessions_key.{dialect}.sql");
            let draft = text(&env, &file);
            for c in counts {
                assert_eq!(
                    draft.contains(c),
                    counted,
                    "{} into {file}: {c:?} in\n{draft}",
                    data.dialect()
                );
            }
            if !counted {
                assert!(!draft.contains("the live database"), "{draft}");
                run.stderr_has("--probe-database")
                    .stderr_has("no table Sessions")
                    .stderr_has("the marker says no count");
            }
            env.remove(&file);
        }
    }
    // A URL that does not parse: a warning, and the draft all the same.
    env.write(
        "schema/mysql.sql",
        format!("-- schema-version: 1\n{SESSIONS_AFTER}"),
    );
    env.run(&[
        "-d",
        server.url(),
        "new",
        "--autogenerate",
        "sessions key",
        "--probe-database",
        "nonsense",
    ])
    .ok()
    .stderr_has("warning: --probe-database:")
    .stderr_has("nothing is counted");
    assert!(env.exists("migrations/0002_sessions_key.mysql.sql"));
    // Only with --autogenerate.
    env.run(&["new", "x", "--probe-database", sqlite.url()])
        .code(2);
}

/// MySQL: the changes of one table are one ALTER TABLE, its rename included, so a statement
/// that fails on the rows leaves none of them applied: Bans keeps its name and columns when
/// the new unique key meets duplicates (run with `--no-probes`, past the pre-flight probe
/// that would refuse it first).
#[test]
fn a_renamed_table_s_changes_fail_as_one_statement() {
    let env = Env::new();
    let Some(server) = Db::mysql(&env, module_path!()) else {
        return;
    };
    copy_repository(&env);
    server.run(&["upgrade"]).ok();
    server.exec(
        "INSERT INTO Bans (IPAddress, BanTS) VALUES ('192.0.2.1', '2026-01-01 00:00:00'), ('192.0.2.2', '2026-01-01 00:00:00')",
    );
    let schema = text(&env, "schema/mysql.sql");
    assert!(schema.contains(BANS));
    env.write(
        "schema/mysql.sql",
        schema.replacen(
            BANS,
            "CREATE TABLE IPBans (\n\tIPAddress VARCHAR(45) NOT NULL,\n\tBanTS TIMESTAMP NOT NULL,\n\tReason VARCHAR(64) NULL,\n\tPRIMARY KEY (IPAddress),\n\tUNIQUE (BanTS)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;\n",
            1,
        ),
    );
    env.run(&[
        "-d",
        server.url(),
        "new",
        "--autogenerate",
        "ip bans",
        "--rename",
        "Bans=IPBans",
        // Counted in the live table under its name before the rename.
        "--probe-database",
        server.url(),
    ])
    .ok();
    let version = aurweb_head() + 1;
    let file = format!("migrations/{version:04}_ip_bans.mysql.sql");
    let draft = text(&env, &file);
    assert!(
        draft.contains("ALTER TABLE `Bans`\n  RENAME TO `IPBans`,\n  ADD COLUMN `Reason`")
            && draft.contains("ADD UNIQUE KEY")
            && !draft.contains("RENAME TABLE")
            && draft.contains("; the live database has 1 duplicate value(s) of (BanTS), e.g. (2026-01-01 00:00:00)\n"),
        "{draft}"
    );
    clear_markers(&env, &file);
    clear_markers(&env, &format!("migrations/{version:04}_ip_bans.sqlite.sql"));
    server
        .run(&["upgrade", "--no-probes"])
        .code(4)
        .stderr_has("Duplicate entry");
    assert!(server.has_table("Bans") && !server.has_table("IPBans"));
    assert_eq!(
        server.scalar("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND COLUMN_NAME = 'Reason'"),
        0
    );
}

/// Shaped like aurweb's TU_VoteInfo -> VoteInfo and TU_Votes -> Votes (revision
/// 6a64dd126029, our 0011), where a column was renamed too (ActiveTUs -> ActiveUsers): here
/// VoteInfo -> PMVoteInfo with ActiveUsers -> ActiveMaintainers, and Votes -> PMVotes. Without
/// `--rename` the drafts drop and create, and the markers name the rename candidates with the
/// exact flags, the column rename included; run again with those flags, the drafts rename,
/// and the rows stay on both dialects.
#[test]
fn a_table_renamed_with_its_columns_is_a_rename_candidate_with_the_flags() {
    let env = Env::new();
    let Some(server) = Db::mysql(&env, module_path!()) else {
        return;
    };
    copy_repository(&env);
    let sqlite = Db::sqlite(&env);
    for db in [&sqlite, &server] {
        db.run(&["upgrade"]).ok();
        db.exec(SEED);
        db.exec("INSERT INTO VoteInfo (ID, Agenda, User, Submitted, End, Quorum, SubmitterID, ActiveUsers) VALUES (1, 'agenda', 'alice', 1, 2, 0.5, 1, 7)");
        db.exec("INSERT INTO Votes (VoteID, UserID) VALUES (1, 2)");
    }
    let sqlite_schema = text(&env, "schema/sqlite.sql");
    let mut schema = text(&env, "schema/mysql.sql");
    for (old, new) in [
        ("CREATE TABLE VoteInfo (", "CREATE TABLE PMVoteInfo ("),
        (
            "\tActiveUsers INTEGER UNSIGNED NOT NULL DEFAULT 0,",
            "\tActiveMaintainers INTEGER UNSIGNED NOT NULL DEFAULT 0,",
        ),
        ("REFERENCES VoteInfo (ID)", "REFERENCES PMVoteInfo (ID)"),
        ("CREATE TABLE Votes (", "CREATE TABLE PMVotes ("),
    ] {
        assert!(schema.contains(old), "{old}");
        schema = schema.replacen(old, new, 1);
    }
    env.write("schema/mysql.sql", &schema);
    let version = aurweb_head() + 1;
    let run = env.run(&["-d", server.url(), "new", "--autogenerate", "pm votes"]);
    run.ok();
    let mysql_file = format!("migrations/{version:04}_pm_votes.mysql.sql");
    let draft = text(&env, &mysql_file);
    let flags_of = |table: &str| -> Vec<String> {
        let line = draft
            .lines()
            .find(|l| {
                l.starts_with(&format!(
                    "-- aurweb-migrate: review rename-candidate {table}:"
                ))
            })
            .unwrap_or_else(|| panic!("a rename candidate for {table} in\n{draft}"));
        let flags = line
            .split_once(" pass ")
            .and_then(|(_, r)| r.strip_suffix(" instead"))
            .unwrap_or_else(|| panic!("flags in {line}"));
        flags
            .split(" --rename ")
            .map(|f| f.trim_start_matches("--rename ").to_string())
            .collect()
    };
    let info = flags_of("VoteInfo");
    assert_eq!(
        info,
        [
            "VoteInfo=PMVoteInfo",
            "PMVoteInfo.ActiveUsers=ActiveMaintainers"
        ],
        "{draft}"
    );
    assert!(
        draft.contains("dropped while PMVoteInfo, which has 10 of its 11 columns, is created"),
        "{draft}"
    );
    let votes = flags_of("Votes");
    assert_eq!(votes, ["Votes=PMVotes"], "{draft}");
    assert!(text(&env, &format!("migrations/{version:04}_pm_votes.sqlite.sql"))
        .contains("pass --rename VoteInfo=PMVoteInfo --rename PMVoteInfo.ActiveUsers=ActiveMaintainers instead"));
    // The draft was not what was meant: delete it, and generate again with the flags.
    for f in migration_files(&env, version) {
        env.remove(format!("migrations/{f}"));
    }
    env.write("schema/mysql.sql", &schema);
    env.write("schema/sqlite.sql", &sqlite_schema);
    let mut args = vec!["-d", server.url(), "new", "--autogenerate", "pm votes"];
    for f in info.iter().chain(&votes) {
        args.push("--rename");
        args.push(f);
    }
    env.run(&args).ok();
    let draft = text(&env, &mysql_file);
    assert!(
        draft.contains("RENAME TABLE `VoteInfo` TO `PMVoteInfo`")
            && draft.contains("CHANGE COLUMN `ActiveUsers` `ActiveMaintainers`")
            && !draft.contains("-- aurweb-migrate: review"),
        "{draft}"
    );
    env.run(&["-d", server.url(), "verify"]).ok();
    for db in [&sqlite, &server] {
        db.run(&["upgrade"]).ok();
        assert_eq!(
            db.scalar("SELECT COUNT(*) FROM PMVoteInfo WHERE ID = 1 AND ActiveMaintainers = 7"),
            1,
            "{}",
            db.dialect()
        );
        assert_eq!(db.count("PMVotes"), 1, "{}", db.dialect());
    }
}

/// Table options the schema file does not state take the server's default and are neither
/// compared (`verify`) nor generated; once stated, they are both.
#[test]
fn an_unstated_engine_is_not_compared_and_a_stated_one_is() {
    let env = Env::new();
    let Some(server) = Db::mysql(&env, module_path!()) else {
        return;
    };
    env.migration(
        "0001_init.mysql.sql",
        "CREATE TABLE t (id INT NOT NULL, n INT NOT NULL, PRIMARY KEY (id)) ENGINE=MyISAM;\n",
    );
    env.migration(
        "0001_init.sqlite.sql",
        "CREATE TABLE t (id INT NOT NULL, n INT NOT NULL, PRIMARY KEY (id));\n",
    );
    let table = "CREATE TABLE t (id INT NOT NULL, n INT NOT NULL, PRIMARY KEY (id))";
    env.write(
        "schema/sqlite.sql",
        format!("-- schema-version: 1\n{table};\n"),
    );
    env.write(
        "schema/mysql.sql",
        format!("-- schema-version: 1\n{table};\n"),
    );
    env.run(&["-d", server.url(), "verify"])
        .ok()
        .stdout_has("ok    mysql:");
    env.run(&["-d", server.url(), "new", "--autogenerate", "nothing"])
        .ok()
        .stdout_has("no changes");
    env.write(
        "schema/mysql.sql",
        format!("-- schema-version: 1\n{table} ENGINE=InnoDB;\n"),
    );
    env.run(&["-d", server.url(), "verify"])
        .code(1)
        .stdout_has("FAIL  mysql:")
        .stdout_has("t: options: expected engine=InnoDB, found engine=MyISAM");
    env.run(&["-d", server.url(), "new", "--autogenerate", "innodb"])
        .ok()
        .stdout_has("t: options engine=MyISAM -> engine=InnoDB");
    let draft = text(&env, "migrations/0002_innodb.mysql.sql");
    assert!(
        draft.contains("ALTER TABLE `t`\n  ENGINE=InnoDB;"),
        "{draft}"
    );
    env.run(&["-d", server.url(), "verify"]).ok();
}
