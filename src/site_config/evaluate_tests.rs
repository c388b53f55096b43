//! Table-driven tests of [`super::evaluate`], the pure core of `config status|check|upgrade`:
//! the bytes of a site config and config migrations built in code go in; the report (applied
//! and pending migrations, each change with its line, ambiguities, stale old names, hand
//! edits, a conflict) and the upgraded bytes come out, compared as text with an inline
//! expectation (`expect-test`: `UPDATE_EXPECT=1` rewrites them after an intended change).
//! Every upgrade is evaluated a second time to check that it is a fixed point. No files.

use std::fmt::Write as _;

use expect_test::{expect, Expect};

use super::*;

// ---- building migrations ------------------------------------------------------------------

fn migration(version: u64, ops: Vec<Op>) -> ConfigMigration {
    ConfigMigration {
        version,
        description: format!("migration {version}"),
        checksum: format!("sha256-v1:{version:064}"),
        path: PathBuf::from(format!("migrations/{version:04}_m.config.toml")),
        ops: ops
            .into_iter()
            .enumerate()
            .map(|(i, o)| (o, 3 * i + 1))
            .collect(),
    }
}

fn rename_section(section: &str, to: &str) -> Op {
    Op::RenameSection {
        section: section.into(),
        to: to.into(),
    }
}

fn rename_key(section: &str, key: &str, to: Option<&str>, to_section: Option<&str>) -> Op {
    Op::RenameKey {
        section: section.into(),
        key: key.into(),
        to: to.map(Into::into),
        to_section: to_section.map(Into::into),
    }
}

fn remove_key(section: &str, key: &str) -> Op {
    Op::RemoveKey {
        section: section.into(),
        key: key.into(),
    }
}

fn rewrite_value(section: &str, key: &str, from: &str, to: &str) -> Op {
    Op::RewriteValue {
        section: section.into(),
        key: key.into(),
        from: from.into(),
        to: to.into(),
    }
}

fn rewrite_items(section: &str, key: &str, remove: &[&str], replace: &[(&str, &str)]) -> Op {
    Op::RewriteItems {
        section: section.into(),
        key: key.into(),
        remove: remove.iter().map(|s| s.to_string()).collect(),
        replace: replace
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
    }
}

fn split_key(section: &str, key: &str, into: &[&str]) -> Op {
    Op::SplitKey {
        section: section.into(),
        key: key.into(),
        into: into.iter().map(|s| s.to_string()).collect(),
    }
}

// ---- showing a report ---------------------------------------------------------------------

/// Bytes as text with what a diff would hide made visible: `␍` for a carriage return,
/// `<BOM>` for a byte-order mark.
fn visible(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .replace('\u{feff}', "<BOM>")
        .replace('\r', "␍")
}

fn run(bytes: &[u8], migrations: &[ConfigMigration]) -> Result<ConfigReport> {
    evaluate(Path::new("aurweb.cfg"), bytes, migrations)
}

/// Everything the report says, then the file after upgrading (when it changes).
fn show(report: &Result<ConfigReport>) -> String {
    let r = match report {
        Ok(r) => r,
        Err(e) => return format!("error: {e}\n"),
    };
    let mut out = format!("version {:?}, head {}\n", r.version, r.head);
    for m in &r.migrations {
        let state = if m.applied { "applied" } else { "pending" };
        let _ = writeln!(out, "migration {} {state}", m.version);
        for c in &m.changes {
            let _ = writeln!(out, "  {} line {}: {}", c.op, c.line, c.message);
        }
    }
    for a in &r.ambiguous {
        let _ = writeln!(out, "ambiguous {} {}: {}", a.version, a.op, a.message);
        for (line, text) in &a.lines {
            let _ = writeln!(out, "  {line}: {text}");
        }
    }
    for s in &r.stale {
        let _ = writeln!(
            out,
            "stale {} {} line {}: {}",
            s.version, s.op, s.line, s.message
        );
    }
    for h in &r.hand_edits {
        let _ = writeln!(out, "hand edit [{}] {}: now {:?}", h.section, h.key, h.now);
    }
    if let Some(c) = &r.conflict {
        let _ = writeln!(out, "conflict: {c}");
    }
    for w in &r.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    if r.changed() {
        let _ = write!(out, "--- after\n{}", visible(&r.after));
    } else {
        out.push_str("--- unchanged\n");
    }
    out
}

/// Evaluates `text` against `migrations`, compares the report with `expected`, and checks that
/// the upgraded file is a fixed point: evaluated again, nothing is pending, stale or edited,
/// and the bytes stay as they are.
#[track_caller]
fn check(text: &str, migrations: &[ConfigMigration], expected: Expect) -> Vec<u8> {
    check_bytes(text.as_bytes(), migrations, expected)
}

#[track_caller]
fn check_bytes(bytes: &[u8], migrations: &[ConfigMigration], expected: Expect) -> Vec<u8> {
    let report = run(bytes, migrations);
    expected.assert_eq(&show(&report));
    let Ok(report) = report else {
        return bytes.to_vec();
    };
    if report.changed() {
        let again = run(&report.after, migrations).expect("the upgraded file evaluates");
        assert!(
            !again.changed() && !again.problems() && again.hand_edits.is_empty(),
            "a second evaluation changes or finds something:\n{}",
            show(&Ok(again))
        );
    }
    report.after
}

// ---- one operation at a time --------------------------------------------------------------

#[test]
fn rename_section_cases() {
    let ms = [migration(
        1,
        vec![rename_section("notifications", "notify")],
    )];
    for (text, expected) in [
        // Renamed on its header line; the rest of the line and the keys stay.
        (
            "[options]\nname = aur\n\n[notifications] ; old\nsender = aur@x\n",
            expect![[r#"
                version None, head 1
                migration 1 pending
                  rename-section line 4: renamed section [notifications] to [notify]
                --- after
                # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys= (kept by `aurweb-migrate config upgrade`: leave this line as it is)
                [options]
                name = aur

                [notify] ; old
                sender = aur@x
            "#]],
        ),
        // Absent: nothing to do but the state line.
        (
            "[options]\nname = aur\n",
            expect![[r#"
                version None, head 1
                migration 1 pending
                --- after
                # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys= (kept by `aurweb-migrate config upgrade`: leave this line as it is)
                [options]
                name = aur
            "#]],
        ),
        // Both, agreeing: the old one goes.
        (
            "[notifications]\nsender = aur@x\n\n[notify]\nsender = aur@x\nreply-to = noreply@x\n",
            expect![[r#"
                version None, head 1
                migration 1 pending
                  rename-section line 1: removed section [notifications]: [notify] has each of its keys with the same value
                --- after
                # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys= (kept by `aurweb-migrate config upgrade`: leave this line as it is)
                [notify]
                sender = aur@x
                reply-to = noreply@x
            "#]],
        ),
        // Both, disagreeing: refused, the lines named; nothing written.
        (
            "[notifications]\nsender = aur@x\nextra = 1\n\n[notify]\nsender = other@x\n",
            expect![[r#"
                version None, head 1
                migration 1 pending
                ambiguous 1 rename-section: both [notifications] and [notify] are present, and [notify] lacks or sets differently 2 of the old section's keys; merge them into [notify] by hand
                  1: [notifications]
                  2: sender = aur@x
                  3: extra = 1
                  5: [notify]
                  6: sender = other@x
                --- unchanged
            "#]],
        ),
    ] {
        check(text, &ms, expected);
    }
}

#[test]
fn rename_key_cases() {
    let within = [migration(
        1,
        vec![rename_key("options", "aurwebdir", Some("aurweb_dir"), None)],
    )];
    let across = [migration(
        1,
        vec![rename_key("options", "cache", None, Some("cache"))],
    )];
    let both = [migration(
        1,
        vec![rename_key(
            "options",
            "redis",
            Some("address"),
            Some("cache"),
        )],
    )];
    for (text, ms, expected) in [
        // Within the section: the key's name only; spacing, delimiter and value stay.
        (
            "[options]\naurwebdir   :  /srv/aurweb\nname = aur\n",
            &within[..],
            expect![[r#"
                version None, head 1
                migration 1 pending
                  rename-key line 2: renamed [options] aurwebdir to [options] aurweb_dir
                --- after
                # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys=e8f9ec70 (kept by `aurweb-migrate config upgrade`: leave this line as it is)
                [options]
                aurweb_dir   :  /srv/aurweb
                name = aur
            "#]],
        ),
        // Into another section that exists: after its last key.
        (
            "[options]\ncache = none\nname = aur\n\n[cache]\nexpiry = 60\n\n[other]\nx = 1\n",
            &across[..],
            expect![[r#"
                version None, head 1
                migration 1 pending
                  rename-key line 2: renamed [options] cache to [cache] cache
                --- after
                # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys=af4885ad (kept by `aurweb-migrate config upgrade`: leave this line as it is)
                [options]
                name = aur

                [cache]
                expiry = 60
                cache = none

                [other]
                x = 1
            "#]],
        ),
        // Into a section that does not exist: the section is added at the end.
        (
            "[options]\nredis = redis://localhost\n",
            &both[..],
            expect![[r#"
                version None, head 1
                migration 1 pending
                  rename-key line 2: renamed [options] redis to [cache] address
                --- after
                # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys=b27a414e (kept by `aurweb-migrate config upgrade`: leave this line as it is)
                [options]

                [cache]
                address = redis://localhost
            "#]],
        ),
        // The new key is there with the same value: the old one goes.
        (
            "[options]\naurwebdir = /srv\naurweb_dir = /srv\n",
            &within[..],
            expect![[r#"
                version None, head 1
                migration 1 pending
                  rename-key line 2: removed [options] aurwebdir: [options] aurweb_dir has the same value
                --- after
                # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys=f9e416a7 (kept by `aurweb-migrate config upgrade`: leave this line as it is)
                [options]
                aurweb_dir = /srv
            "#]],
        ),
        // ... with another value: refused.
        (
            "[options]\naurwebdir = /srv\naurweb_dir = /opt\n",
            &within[..],
            expect![[r#"
                version None, head 1
                migration 1 pending
                ambiguous 1 rename-key: both [options] aurwebdir and [options] aurweb_dir are set, to different values; keep one by hand
                  2: aurwebdir = /srv
                  3: aurweb_dir = /opt
                --- unchanged
            "#]],
        ),
    ] {
        check(text, ms, expected);
    }
}

#[test]
fn remove_key_cases() {
    let ms = [migration(
        1,
        vec![remove_key("options", "disable_http_login")],
    )];
    for (text, expected) in [
        (
            "[options]\nname = aur\ndisable_http_login = 1\nnext = 2\n",
            expect![[r#"
                version None, head 1
                migration 1 pending
                  remove-key line 3: removed [options] disable_http_login
                --- after
                # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys= (kept by `aurweb-migrate config upgrade`: leave this line as it is)
                [options]
                name = aur
                next = 2
            "#]],
        ),
        // A value on continuation lines goes whole (a comment between them too).
        (
            "[options]\ndisable_http_login =\n    yes\n# why\n    really\nnext = 2\n",
            expect![[r#"
                version None, head 1
                migration 1 pending
                  remove-key line 2: removed [options] disable_http_login
                --- after
                # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys= (kept by `aurweb-migrate config upgrade`: leave this line as it is)
                [options]
                next = 2
            "#]],
        ),
        // Only in the section named.
        (
            "[other]\ndisable_http_login = 1\n",
            expect![[r#"
                version None, head 1
                migration 1 pending
                --- after
                # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys= (kept by `aurweb-migrate config upgrade`: leave this line as it is)
                [other]
                disable_http_login = 1
            "#]],
        ),
    ] {
        check(text, &ms, expected);
    }
}

#[test]
fn rewrite_value_cases() {
    let ms = [migration(
        1,
        vec![rewrite_value(
            "options",
            "git_clone_uri_anon",
            "https://aur.archlinux.org/%s.git",
            "https://aur.example/%s.git",
        )],
    )];
    for (text, expected) in [
        (
            "[options]\ngit_clone_uri_anon = https://aur.archlinux.org/%s.git\n",
            expect![[r#"
                version None, head 1
                migration 1 pending
                  rewrite-value line 2: [options] git_clone_uri_anon: "https://aur.archlinux.org/%s.git" became "https://aur.example/%s.git"
                --- after
                # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys=d47efaf6 (kept by `aurweb-migrate config upgrade`: leave this line as it is)
                [options]
                git_clone_uri_anon = https://aur.example/%s.git
            "#]],
        ),
        // Another value is the admin's: left alone.
        (
            "[options]\ngit_clone_uri_anon = https://mirror/%s.git\n",
            expect![[r#"
                version None, head 1
                migration 1 pending
                --- after
                # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys=216a1612 (kept by `aurweb-migrate config upgrade`: leave this line as it is)
                [options]
                git_clone_uri_anon = https://mirror/%s.git
            "#]],
        ),
    ] {
        check(text, &ms, expected);
    }
}

#[test]
fn rewrite_items_cases() {
    let ms = [migration(
        1,
        vec![rewrite_items(
            "options",
            "plugins",
            &["legacy"],
            &[("old", "new newer"), ("dup", "kept")],
        )],
    )];
    for (text, expected) in [
        (
            "[options]\nplugins = a legacy old b\n",
            expect![[r#"
                version None, head 1
                migration 1 pending
                  rewrite-items line 2: [options] plugins: "a legacy old b" became "a new newer b"
                --- after
                # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys=5b08ec5c (kept by `aurweb-migrate config upgrade`: leave this line as it is)
                [options]
                plugins = a new newer b
            "#]],
        ),
        // An item already present is not added twice.
        (
            "[options]\nplugins = dup kept\n",
            expect![[r#"
                version None, head 1
                migration 1 pending
                  rewrite-items line 2: [options] plugins: "dup kept" became "kept"
                --- after
                # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys=dff3544c (kept by `aurweb-migrate config upgrade`: leave this line as it is)
                [options]
                plugins = kept
            "#]],
        ),
        // A list on continuation lines becomes one line.
        (
            "[options]\nplugins =\n    a\n    old\n",
            expect![[r#"
                version None, head 1
                migration 1 pending
                  rewrite-items line 2: [options] plugins: "\na\nold" became "a new newer"
                --- after
                # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys=8f91b58a (kept by `aurweb-migrate config upgrade`: leave this line as it is)
                [options]
                plugins = a new newer
            "#]],
        ),
        // Nothing to remove or replace.
        (
            "[options]\nplugins = a b\n",
            expect![[r#"
                version None, head 1
                migration 1 pending
                --- after
                # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys=e96be0f6 (kept by `aurweb-migrate config upgrade`: leave this line as it is)
                [options]
                plugins = a b
            "#]],
        ),
    ] {
        check(text, &ms, expected);
    }
}

#[test]
fn split_key_cases() {
    let ms = [migration(
        1,
        vec![split_key("cache", "expiry_time", &["search", "stats"])],
    )];
    for (text, expected) in [
        (
            "[cache]\nbackend = redis\nexpiry_time = 600\nother = 1\n",
            expect![[r#"
                version None, head 1
                migration 1 pending
                  split-key line 3: split [cache] expiry_time into search, stats
                --- after
                # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys=fcfc491e,408623a0 (kept by `aurweb-migrate config upgrade`: leave this line as it is)
                [cache]
                backend = redis
                search = 600
                stats = 600
                other = 1
            "#]],
        ),
        // One of the new keys is already set to the same value: kept, the other added.
        (
            "[cache]\nexpiry_time = 600\nstats = 600\n",
            expect![[r#"
                version None, head 1
                migration 1 pending
                  split-key line 2: split [cache] expiry_time into search, stats
                --- after
                # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys=fcfc491e,408623a0 (kept by `aurweb-migrate config upgrade`: leave this line as it is)
                [cache]
                search = 600
                stats = 600
            "#]],
        ),
        // ... to another value: refused.
        (
            "[cache]\nexpiry_time = 600\nstats = 60\n",
            expect![[r#"
                version None, head 1
                migration 1 pending
                ambiguous 1 split-key: [cache] expiry_time is to be split into search, stats, but some of them are already set to other values; remove expiry_time or make them agree by hand
                  2: expiry_time = 600
                  3: stats = 60
                --- unchanged
            "#]],
        ),
    ] {
        check(text, &ms, expected);
    }
}

// ---- the file as it is --------------------------------------------------------------------

#[test]
fn crlf_and_bom_are_kept() {
    let ms = [migration(
        1,
        vec![
            rename_key("options", "aurwebdir", Some("aurweb_dir"), None),
            rename_key("options", "cache", None, Some("cache")),
        ],
    )];
    check_bytes(
        "\u{feff}[options]\r\naurwebdir = /srv\r\ncache = none\r\n".as_bytes(),
        &ms,
        expect![[r#"
            version None, head 1
            migration 1 pending
              rename-key line 2: renamed [options] aurwebdir to [options] aurweb_dir
              rename-key line 3: renamed [options] cache to [cache] cache
            warning: aurweb.cfg begins with a UTF-8 byte-order mark, which aurweb's configparser reads as part of the first line and then refuses the file (MissingSectionHeaderError); remove it
            --- after
            <BOM># aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys=f9e416a7,af4885ad (kept by `aurweb-migrate config upgrade`: leave this line as it is)␍
            [options]␍
            aurweb_dir = /srv␍
            ␍
            [cache]␍
            cache = none␍
        "#]],
    );
    // Mixed endings: each kept line keeps its own; a new line takes the ending most lines have
    // when it is written, which here, once the CRLF `cache` line has left [options], is LF
    // (for the moved key and the state line too, though the file was mostly CRLF).
    check(
        "[options]\r\naurwebdir = /srv\ncache = none\r\n",
        &ms,
        expect![[r#"
            version None, head 1
            migration 1 pending
              rename-key line 2: renamed [options] aurwebdir to [options] aurweb_dir
              rename-key line 3: renamed [options] cache to [cache] cache
            --- after
            # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys=f9e416a7,af4885ad (kept by `aurweb-migrate config upgrade`: leave this line as it is)
            [options]␍
            aurweb_dir = /srv

            [cache]
            cache = none
        "#]],
    );
    // No newline at the end of the file.
    check(
        "[options]\ncache = none",
        &ms,
        expect![[r#"
            version None, head 1
            migration 1 pending
              rename-key line 2: renamed [options] cache to [cache] cache
            --- after
            # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys=d4e65cd9,af4885ad (kept by `aurweb-migrate config upgrade`: leave this line as it is)
            [options]

            [cache]
            cache = none
        "#]],
    );
}

#[test]
fn continuation_lines_move_with_their_key() {
    let ms = [migration(
        1,
        vec![
            rename_key("options", "motd", Some("banner"), None),
            rename_key("options", "footer", None, Some("html")),
        ],
    )];
    check(
        "[options]\nmotd = first\n  second\n\n  fourth\nfooter =\n\tline one\n\tline two\nname = aur\n",
        &ms,
        expect![[r#"
            version None, head 1
            migration 1 pending
              rename-key line 2: renamed [options] motd to [options] banner
              rename-key line 6: renamed [options] footer to [html] footer
            --- after
            # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys=82d524f6,c40e517b (kept by `aurweb-migrate config upgrade`: leave this line as it is)
            [options]
            banner = first
              second

              fourth
            name = aur

            [html]
            footer =
            	line one
            	line two
        "#]],
    );
}

#[test]
fn several_migrations_in_order_and_the_state_line() {
    let first = migration(1, vec![rename_section("notifications", "notify")]);
    let second = migration(2, vec![rename_key("notify", "sender", Some("from"), None)]);
    // Both pending, in order: the second sees the first's result.
    let text = "# site config\n[notifications]\nsender = aur@x\n";
    let after_first = check(
        text,
        std::slice::from_ref(&first),
        expect![[r#"
            version None, head 1
            migration 1 pending
              rename-section line 2: renamed section [notifications] to [notify]
            --- after
            # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys= (kept by `aurweb-migrate config upgrade`: leave this line as it is)
            # site config
            [notify]
            sender = aur@x
        "#]],
    );
    // Later, the second migration arrives: only it runs, and the state line is updated where
    // it is.
    let after_both = check_bytes(
        &after_first,
        &[first.clone(), second.clone()],
        expect![[r#"
            version Some(1), head 2
            migration 1 applied
            migration 2 pending
              rename-key line 4: renamed [notify] sender to [notify] from
            --- after
            # aurweb-migrate: config-version=2 migrations=81eaaba4062dcb2e keys=760156ee (kept by `aurweb-migrate config upgrade`: leave this line as it is)
            # site config
            [notify]
            from = aur@x
        "#]],
    );
    assert_eq!(
        after_both,
        check(
            text,
            &[first, second],
            expect![[r#"
                version None, head 2
                migration 1 pending
                  rename-section line 2: renamed section [notifications] to [notify]
                migration 2 pending
                  rename-key line 3: renamed [notify] sender to [notify] from
                --- after
                # aurweb-migrate: config-version=2 migrations=81eaaba4062dcb2e keys=760156ee (kept by `aurweb-migrate config upgrade`: leave this line as it is)
                # site config
                [notify]
                from = aur@x
            "#]]
        ),
        "one upgrade over both or two upgrades in turn: the same file"
    );
}

#[test]
fn hand_edits_and_stale_names_are_reported_not_changed() {
    let ms = [migration(
        1,
        vec![
            rename_key("options", "aurwebdir", Some("aurweb_dir"), None),
            remove_key("options", "legacy"),
        ],
    )];
    let upgraded = String::from_utf8(check(
        "[options]\naurwebdir = /srv\nlegacy = 1\n",
        &ms,
        expect![[r#"
            version None, head 1
            migration 1 pending
              rename-key line 2: renamed [options] aurwebdir to [options] aurweb_dir
              remove-key line 3: removed [options] legacy
            --- after
            # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys=f9e416a7 (kept by `aurweb-migrate config upgrade`: leave this line as it is)
            [options]
            aurweb_dir = /srv
        "#]],
    ))
    .unwrap();
    // A managed key edited by hand.
    check(
        &upgraded.replace("aurweb_dir = /srv", "aurweb_dir = /opt"),
        &ms,
        expect![[r#"
            version Some(1), head 1
            migration 1 applied
            hand edit [options] aurweb_dir: now Some((3, "aurweb_dir = /opt"))
            --- unchanged
        "#]],
    );
    // ... or removed.
    check(
        &upgraded.replace("aurweb_dir = /srv\n", ""),
        &ms,
        expect![[r#"
            version Some(1), head 1
            migration 1 applied
            hand edit [options] aurweb_dir: now None
            --- unchanged
        "#]],
    );
    // Old names back in the file (a template rendered again): stale, not re-applied.
    check(
        &format!("{upgraded}legacy = 2\n"),
        &ms,
        expect![[r#"
            version Some(1), head 1
            migration 1 applied
            stale 1 remove-key line 4: still in its old form (removed [options] legacy)
            --- unchanged
        "#]],
    );
}

#[test]
fn a_state_that_cannot_be_trusted_is_a_conflict() {
    let ms = [migration(1, vec![remove_key("options", "legacy")])];
    let upgraded = String::from_utf8(check(
        "[options]\nlegacy = 1\nname = aur\n",
        &ms,
        expect![[r#"
            version None, head 1
            migration 1 pending
              remove-key line 2: removed [options] legacy
            --- after
            # aurweb-migrate: config-version=1 migrations=8b05ca55896bc90c keys= (kept by `aurweb-migrate config upgrade`: leave this line as it is)
            [options]
            name = aur
        "#]],
    ))
    .unwrap();
    // The applied migration was edited since.
    let mut edited = ms[0].clone();
    edited.checksum = "sha256-v1:edited".into();
    check(
        &upgraded,
        &[edited],
        expect![[r#"
            version Some(1), head 1
            migration 1 applied
            conflict: the config migrations up to version 1 are not those applied to aurweb.cfg: one was edited, added or removed since (restore it, or delete the aurweb-migrate line to evaluate every operation again: each is idempotent)
            --- unchanged
        "#]],
    );
    // A newer tool wrote the file.
    check(
        &upgraded.replace("config-version=1 ", "config-version=7 "),
        &ms,
        expect![[r#"
            version Some(7), head 1
            migration 1 applied
            conflict: aurweb.cfg is at config version 7, newer than the newest config migration here (1): an aurweb-migrate with newer migrations wrote it
            --- unchanged
        "#]],
    );
}

#[test]
fn files_that_are_refused() {
    let ms = [migration(1, vec![remove_key("options", "legacy")])];
    for (bytes, expected) in [
        (&b"[options]\nname = \xff\n"[..], expect![[r#"
            error: aurweb.cfg:2: not valid UTF-8
        "#]]),
        (&b"[options]\nname = a\rb\n"[..], expect![[r#"
            error: aurweb.cfg:2: a carriage return without a line feed, which aurweb's parser reads as a line break; use LF or CRLF line endings (aurweb's configparser refuses this file too)
        "#]]),
        (&b"name = aur\n"[..], expect![[r#"
            error: aurweb.cfg:1: a key before the first [section] (aurweb's configparser refuses this file too)
        "#]]),
        (
            &b"# aurweb-migrate: config-version=1 migrations=x keys=\n[options]\n# aurweb-migrate: config-version=1 migrations=x keys=\n"[..],
            expect![[r#"
                error: aurweb.cfg:3: a second aurweb-migrate line (the first is line 1); remove the extra one
            "#]],
        ),
        (
            &b"# aurweb-migrate: config-version=one\n[options]\n"[..],
            expect![[r#"
                error: aurweb.cfg:1: malformed aurweb-migrate line: malformed config-version
            "#]],
        ),
    ] {
        check_bytes(bytes, &ms, expected);
    }
}

#[test]
fn no_migrations_and_no_state_line() {
    check(
        "[options]\nname = aur\n",
        &[],
        expect![[r#"
            version None, head 0
            --- unchanged
        "#]],
    );
}

// ---- line numbers are the file's -----------------------------------------------------------

/// The 1-based line of `text` (as on disk) that contains `needle`, which occurs once.
fn line_in(text: &str, needle: &str) -> usize {
    let found: Vec<usize> = text
        .split('\n')
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(found.len(), 1, "{needle:?} in {text:?}");
    found[0]
}

#[test]
fn reported_lines_are_lines_of_the_file_after_earlier_operations_change_the_line_count() {
    // CRLF, comments, blank lines and a value on continuation lines before the reported items;
    // earlier operations remove four lines and add one.
    let text = "; site config\r\n\r\n[options]\r\nmotd = first\r\n  second\r\n  # inside\r\n  third\r\nkeep = 1\r\n\r\n[cache]\r\nexpiry_time = 60\r\n\r\n# reminders\r\n[tuvotereminder]\r\nrange_start = 500\r\nrange_end = 172800\r\n\r\n[notifications]\r\nsender = a\r\npassword = hunter2\r\n[notify]\r\nsender = b\r\n";
    let ms = [migration(
        1,
        vec![
            remove_key("options", "motd"),
            split_key("cache", "expiry_time", &["search", "stats"]),
            rewrite_value("tuvotereminder", "range_start", "500", "600"),
            rename_key("tuvotereminder", "range_end", Some("end"), None),
            rename_section("tuvotereminder", "tu_vote_reminder"),
            rename_section("notifications", "notify"),
        ],
    )];
    let r = run(text.as_bytes(), &ms).unwrap();
    let lines: Vec<(&str, usize)> = r.migrations[0]
        .changes
        .iter()
        .map(|c| (c.op, c.line))
        .collect();
    assert_eq!(
        lines,
        [
            ("remove-key", line_in(text, "motd")),
            ("split-key", line_in(text, "expiry_time")),
            ("rewrite-value", line_in(text, "range_start")),
            ("rename-key", line_in(text, "range_end")),
            ("rename-section", line_in(text, "[tuvotereminder]")),
        ]
    );
    assert_eq!(r.ambiguous.len(), 1);
    let on_disk: Vec<&str> = text.split("\r\n").collect();
    for (line, shown) in &r.ambiguous[0].lines {
        let expected = on_disk[line - 1].replace("hunter2", "***");
        assert_eq!(*shown, expected, "line {line}");
    }
    let named: Vec<usize> = r.ambiguous[0].lines.iter().map(|l| l.0).collect();
    assert_eq!(
        named,
        [
            line_in(text, "[notifications]"),
            line_in(text, "sender = a"),
            line_in(text, "password"),
            line_in(text, "[notify]"),
            line_in(text, "sender = b"),
        ]
    );
}

#[test]
fn a_line_renamed_into_a_secret_is_shown_redacted_and_names_the_file_line() {
    let text = "[a]\n\nx = 1\n\ny = 2\nz = 3\n[b]\nold = hunter2\n";
    let ms = [migration(
        1,
        vec![
            remove_key("a", "x"),
            remove_key("a", "y"),
            rename_key("b", "old", Some("secret"), None),
            rename_key("a", "z", Some("secret"), Some("b")),
        ],
    )];
    let r = run(text.as_bytes(), &ms).unwrap();
    let a = &r.ambiguous[0];
    assert_eq!(
        a.lines,
        [
            (line_in(text, "z = 3"), "z = 3".to_string()),
            (line_in(text, "hunter2"), "old = ***".to_string()),
        ]
    );
}
