//! The documentation cannot rot: every relative link and `#anchor` in the repository's Markdown
//! resolves, and every example marked runnable (a fenced block with the info string
//! `sh runnable`, or `sh runnable mysql`) runs against the binary under test. The conventions are
//! written down in docs/contributing.md ("Documentation"); a failure names the file and line.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{isolated, loud, Db, Env, BIN};

/// How long one runnable block may take.
const BLOCK_TIMEOUT: Duration = Duration::from_secs(120);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every Markdown file of the repository, relative to `root` and sorted: `README.md`,
/// `docs/**`, and the others, outside `target/` and hidden directories.
fn markdown_files(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if name.starts_with('.') || (dir == root && name == "target") {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else if name.ends_with(".md") {
                out.push(path.strip_prefix(root).expect("under root").to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// Reading Markdown: fenced code blocks, headings, links.

/// A fenced code block: its info string, the line of its opening fence (1-based) and its text.
struct Fenced {
    info: String,
    fence_line: usize,
    code: String,
}

/// The file's text with every fenced code block blanked out (lines kept, so line numbers stay),
/// and the blocks themselves.
fn split_fences(text: &str) -> (String, Vec<Fenced>) {
    let mut prose = String::with_capacity(text.len());
    let mut blocks = Vec::new();
    let mut open: Option<(String, Fenced)> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let fence: String = trimmed
            .chars()
            .take_while(|&c| c == '`' || c == '~')
            .collect();
        let is_fence =
            fence.len() >= 3 && fence.chars().all(|c| c == fence.chars().next().unwrap());
        match &mut open {
            Some((opening, block)) => {
                if is_fence
                    && fence.starts_with(opening.as_str())
                    && trimmed.trim_end().len() == fence.len()
                {
                    blocks.push(open.take().expect("open").1);
                } else {
                    block.code.push_str(line);
                    block.code.push('\n');
                }
                prose.push('\n');
            }
            None if is_fence => {
                open = Some((
                    fence.clone(),
                    Fenced {
                        info: trimmed[fence.len()..].trim().to_string(),
                        fence_line: n + 1,
                        code: String::new(),
                    },
                ));
                prose.push('\n');
            }
            None => {
                prose.push_str(line);
                prose.push('\n');
            }
        }
    }
    (prose, blocks)
}

/// `text` with inline code spans and HTML comments blanked out (newlines kept).
fn without_code_spans(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, span: &[char]| {
        for &c in span {
            out.push(if c == '\n' { '\n' } else { ' ' });
        }
    };
    let mut i = 0;
    while i < chars.len() {
        if chars[i..].starts_with(&['<', '!', '-', '-']) {
            let end = (i + 4..chars.len())
                .find(|&j| chars[j..].starts_with(&['-', '-', '>']))
                .map_or(chars.len(), |j| j + 3);
            blank(&mut out, &chars[i..end]);
            i = end;
            continue;
        }
        if chars[i] == '`' {
            let run = chars[i..].iter().take_while(|&&c| c == '`').count();
            // The closing run: exactly as many backticks.
            let mut j = i + run;
            let mut close = None;
            while j < chars.len() {
                if chars[j] == '`' {
                    let r = chars[j..].iter().take_while(|&&c| c == '`').count();
                    if r == run {
                        close = Some(j + r);
                        break;
                    }
                    j += r;
                } else {
                    j += 1;
                }
            }
            match close {
                Some(end) => {
                    blank(&mut out, &chars[i..end]);
                    i = end;
                }
                None => {
                    out.extend(&chars[i..i + run]);
                    i += run;
                }
            }
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// GitHub's anchor for a heading's text: inline markup dropped, lower case, everything but
/// letters, digits, `-`, `_` and spaces dropped, each space a `-`.
pub fn slug(heading: &str) -> String {
    // Links and images keep their text; HTML tags go.
    let mut text = String::new();
    let mut rest = heading;
    while let Some(open) = rest.find('[') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find("](").and_then(|close| {
            after[close + 2..]
                .find(')')
                .map(|paren| (close, close + 2 + paren + 1))
        }) {
            Some((close, end)) => {
                text.push_str(&after[..close]);
                rest = &after[end..];
            }
            None => {
                text.push('[');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    let mut plain = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => plain.push(c),
            _ => {}
        }
    }
    plain
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors a Markdown file offers: its headings' slugs (a repeated one gets `-1`, `-2`, …)
/// and every `<a id="…">` or `<a name="…">`.
fn anchors(text: &str) -> HashSet<String> {
    let (prose, _) = split_fences(text);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = HashSet::new();
    for line in prose.lines() {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
            let heading = line[hashes..].trim().trim_end_matches('#').trim();
            let base = slug(heading);
            let n = seen.entry(base.clone()).or_insert(0);
            out.insert(if *n == 0 {
                base.clone()
            } else {
                format!("{base}-{n}")
            });
            *n += 1;
        }
        for attr in ["id=\"", "name=\""] {
            let mut rest = line;
            while let Some(at) = rest.find("<a ") {
                let tag_end = rest[at..].find('>').map_or(rest.len(), |e| at + e);
                let tag = &rest[at..tag_end];
                if let Some(start) = tag.find(attr) {
                    let value = &tag[start + attr.len()..];
                    if let Some(end) = value.find('"') {
                        out.insert(value[..end].to_string());
                    }
                }
                rest = &rest[tag_end..];
            }
        }
    }
    out
}

/// Every link target outside code, with its line: inline links and images `[text](target)`
/// (the text may span lines) and reference definitions `[label]: target`.
fn links(text: &str) -> Vec<(usize, String)> {
    let (prose, _) = split_fences(text);
    let prose = without_code_spans(&prose);
    let mut out = Vec::new();
    for (n, line) in prose.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            if let Some(close) = trimmed.find("]:") {
                if !trimmed[..close].contains("](") {
                    let target = trimmed[close + 2..].split_whitespace().next().unwrap_or("");
                    out.push((n + 1, target.trim_matches(['<', '>']).to_string()));
                    continue;
                }
            }
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            // The target ends at the `)` that closes it (parentheses inside may nest).
            let mut depth = 0usize;
            let mut end = after.len();
            for (i, c) in after.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' if depth == 0 => {
                        end = i;
                        break;
                    }
                    ')' => depth -= 1,
                    _ => {}
                }
            }
            let target = after[..end].trim();
            // An optional title: `(path "title")`.
            let target = target.split_whitespace().next().unwrap_or("");
            out.push((n + 1, target.trim_matches(['<', '>']).to_string()));
            rest = &after[end.min(after.len())..];
        }
    }
    out
}

/// `base/rel`, with `.` and `..` resolved lexically; `None` when it climbs above `root`.
fn resolve(root: &Path, from_dir: &Path, rel: &str) -> Option<PathBuf> {
    let mut parts: Vec<String> = from_dir
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    for part in Path::new(rel).components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(
        parts
            .iter()
            .fold(root.to_path_buf(), |p, part| p.join(part)),
    )
}

/// One line per broken link in `files` (relative to `root`): `FILE:LINE: TARGET: why`.
pub fn check_links(root: &Path, files: &[PathBuf]) -> Vec<String> {
    let mut texts: BTreeMap<PathBuf, String> = BTreeMap::new();
    let mut read = |path: &Path| -> Option<String> {
        if !texts.contains_key(path) {
            let text = std::fs::read_to_string(root.join(path)).ok()?;
            texts.insert(path.to_path_buf(), text);
        }
        texts.get(path).cloned()
    };
    let mut problems = Vec::new();
    for file in files {
        let text = read(file).unwrap_or_else(|| panic!("read {}", file.display()));
        let dir = file.parent().unwrap_or(Path::new(""));
        for (line, target) in links(&text) {
            let here = format!("{}:{line}: {target}", file.display());
            let has_scheme = target.split_once(':').is_some_and(|(scheme, _)| {
                !scheme.is_empty()
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
            });
            if target.is_empty() {
                problems.push(format!("{here}: an empty link"));
                continue;
            }
            if has_scheme {
                continue;
            }
            let (path, fragment) = match target.split_once('#') {
                Some((p, f)) => (p, Some(f)),
                None => (target.as_str(), None),
            };
            let path = path.split('?').next().unwrap_or("");
            let linked = if path.is_empty() {
                file.clone()
            } else {
                let Some(abs) = resolve(root, dir, path) else {
                    problems.push(format!("{here}: points outside the repository"));
                    continue;
                };
                if !abs.exists() {
                    problems.push(format!("{here}: no such file"));
                    continue;
                }
                abs.strip_prefix(root).expect("under root").to_path_buf()
            };
            let Some(fragment) = fragment else { continue };
            if linked.extension().is_none_or(|e| e != "md") {
                continue;
            }
            let linked_text = read(&linked).unwrap_or_default();
            if !anchors(&linked_text).contains(fragment) {
                problems.push(format!(
                    "{here}: no heading or anchor #{fragment} in {}",
                    linked.display()
                ));
            }
        }
    }
    problems
}

/// The link checker's verdict on the repository's Markdown (docs/contributing.md, "Checked
/// links"): each broken relative link or anchor, by file and line.
#[test]
fn every_relative_link_and_anchor_resolves() {
    let files = markdown_files(repo());
    for needed in ["README.md", "docs/SUMMARY.md", "docs/reference.md"] {
        assert!(
            files.iter().any(|f| f == Path::new(needed)),
            "{needed} is among the files checked: {files:?}"
        );
    }
    let problems = check_links(repo(), &files);
    assert!(
        problems.is_empty(),
        "broken links in the documentation:\n  {}",
        problems.join("\n  ")
    );
}

/// Each guide's table of contents lists every one of its `##` and `###` headings.
#[test]
fn every_guide_lists_its_sections() {
    let mut missing = Vec::new();
    for guide in ["developers", "operators", "ci", "reference", "contributing"] {
        let file = format!("docs/{guide}.md");
        let text = std::fs::read_to_string(repo().join(&file)).expect("a guide");
        let (prose, _) = split_fences(&text);
        for (n, line) in prose.lines().enumerate() {
            for prefix in ["## ", "### "] {
                if let Some(heading) = line.strip_prefix(prefix) {
                    if !text.contains(&format!("](#{})", slug(heading))) {
                        missing.push(format!("{file}:{}: {line}", n + 1));
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "headings missing from their guide's contents:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn slugs_are_githubs() {
    assert_eq!(slug("Installing"), "installing");
    assert_eq!(
        slug("Review, then apply (`--sql`)"),
        "review-then-apply---sql"
    );
    assert_eq!(slug("On MySQL/MariaDB"), "on-mysqlmariadb");
    assert_eq!(
        slug("What \"the same schema\" means"),
        "what-the-same-schema-means"
    );
    assert_eq!(
        slug("How long will this deploy lock my tables?"),
        "how-long-will-this-deploy-lock-my-tables"
    );
    assert_eq!(
        slug("See [the guide](x.md) <em>now</em>"),
        "see-the-guide-now"
    );
    assert_eq!(slug("aurweb's INI file"), "aurwebs-ini-file");
    assert_eq!(slug("exit_codes and café"), "exit_codes-and-café");
}

/// The checker names each broken link and anchor by file and line, and passes links in code,
/// links with a scheme, repeated headings' anchors and `<a id>` anchors.
#[test]
fn the_link_checker_names_each_broken_link_and_anchor() {
    let env = Env::new();
    env.write(
        "README.md",
        "# Title\n\
         \n\
         ## Part\n\
         \n\
         ## Part\n\
         \n\
         <a id=\"here\"></a>\n\
         Good: [a](#part), [b](#part-1), [c](#here), [d](docs/guide.md#one), [e](docs/),\n\
         [f](https://example.org/#nothing), [g\n\
         across lines](docs/guide.md).\n\
         Bad: [gone](docs/missing.md) and [anchor](#nope),\n\
         [other](docs/guide.md#two), [up](../../outside.md).\n\
         \n\
         ```sh\n\
         [in a block](nowhere.md)\n\
         ```\n\
         `[in a span](nowhere.md)` <!-- [in a comment](nowhere.md) -->\n\
         [ref]: docs/nothing-here.md\n",
    );
    env.write(
        "docs/guide.md",
        "# Guide\n\n## One\n\n[back](../README.md#part) [self](#one) [bad](#One)\n",
    );
    let problems = check_links(
        env.path(),
        &[PathBuf::from("README.md"), PathBuf::from("docs/guide.md")],
    );
    assert_eq!(
        problems,
        [
            "README.md:11: docs/missing.md: no such file",
            "README.md:11: #nope: no heading or anchor #nope in README.md",
            "README.md:12: docs/guide.md#two: no heading or anchor #two in docs/guide.md",
            "README.md:12: ../../outside.md: points outside the repository",
            "README.md:18: docs/nothing-here.md: no such file",
            "docs/guide.md:5: #One: no heading or anchor #One in docs/guide.md",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Runnable examples.

/// One runnable block.
struct Example {
    file: PathBuf,
    /// The line of its first command (the line after the opening fence).
    first_line: usize,
    code: String,
    mysql: bool,
}

/// The runnable blocks of `files`, in order; a malformed marker is an error naming its line.
fn examples(root: &Path, files: &[PathBuf]) -> (Vec<Example>, Vec<String>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(root.join(file)).expect("a Markdown file");
        let (_, blocks) = split_fences(&text);
        for block in blocks {
            let words: Vec<&str> = block.info.split_whitespace().collect();
            if !words.contains(&"runnable") {
                continue;
            }
            let mysql = match words.as_slice() {
                ["sh" | "bash", "runnable"] => false,
                ["sh" | "bash", "runnable", "mysql"] => true,
                _ => {
                    errors.push(format!(
                        "{}:{}: `{}`: a runnable block is ```sh runnable or ```sh runnable mysql",
                        file.display(),
                        block.fence_line,
                        block.info
                    ));
                    continue;
                }
            };
            out.push(Example {
                file: file.clone(),
                first_line: block.fence_line + 1,
                code: block.code,
                mysql,
            });
        }
    }
    (out, errors)
}

/// `code` with every `mysql://…` or `mariadb://…` URL replaced by `url`.
fn substitute_urls(code: &str, url: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    loop {
        let next = ["mysql://", "mariadb://"]
            .iter()
            .filter_map(|scheme| rest.find(scheme))
            .min();
        let Some(at) = next else { break };
        out.push_str(&rest[..at]);
        let end = rest[at..]
            .find(|c: char| c.is_whitespace() || "'\"`)".contains(c))
            .map_or(rest.len(), |e| at + e);
        out.push_str(url);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The directories of one session: the project the reader works in, the shell's state carried
/// from block to block, and a `bin` with `aurweb-migrate` in it.
struct Session {
    project: PathBuf,
    state: PathBuf,
    bin: PathBuf,
}

impl Session {
    fn new(env: &Env) -> Session {
        let session = Session {
            project: env.join("project"),
            state: env.join("state"),
            bin: env.join("bin"),
        };
        for dir in [&session.project, &session.state, &session.bin] {
            std::fs::create_dir_all(dir).expect("create a session directory");
        }
        std::os::unix::fs::symlink(BIN, session.bin.join("aurweb-migrate"))
            .expect("link the binary into bin/");
        std::fs::write(
            session.state.join("cwd"),
            session.project.to_string_lossy().as_bytes(),
        )
        .expect("write the first working directory");
        session
    }

    /// Runs one block: `bash` with `set -euo pipefail`, in the working directory and with the
    /// exported variables the previous block left, within `timeout`. `Err` names the file and
    /// line of the failing command.
    fn run(&self, example: &Example, code: &str, timeout: Duration) -> Result<(), String> {
        let state = self.state.display();
        let prologue = [
            format!("cd \"$(cat '{state}/cwd')\""),
            format!("if [ -f '{state}/env' ]; then . '{state}/env'; fi"),
            format!("trap 'export -p > \"{state}/env\"; pwd > \"{state}/cwd\"' EXIT"),
        ];
        // The ERR trap's LINENO is the script's line; the block's first line follows the
        // prologue and this trap.
        let offset = example.first_line as i64 - prologue.len() as i64 - 2;
        let script = format!(
            "{}\ntrap 'echo \"@@docs-line $((LINENO + {offset}))\" >&2' ERR\n{code}",
            prologue.join("\n")
        );
        let script_path = self.state.join("block.sh");
        std::fs::write(&script_path, script).expect("write the block's script");

        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut command = isolated("bash", &self.project);
        command
            .args(["--noprofile", "--norc", "-euo", "pipefail"])
            .arg(&script_path)
            .env("PATH", path)
            .env("USER", "docs-user");
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawn bash: {e}"));
        let mut stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let out = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        });
        let err = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for bash") {
                break Some(status);
            }
            if started.elapsed() > timeout {
                // The block's whole process group: bash and whatever it started.
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .stderr(Stdio::null())
                    .status();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = out.join().expect("stdout reader");
        let stderr = err.join().expect("stderr reader");
        let failed_at = stderr
            .lines()
            .filter_map(|l| l.strip_prefix("@@docs-line "))
            .next_back()
            .and_then(|n| n.trim().parse::<usize>().ok());
        let why = match status {
            Some(s) if s.success() => return Ok(()),
            Some(s) => format!("exited with {s}"),
            None => format!("did not finish within {timeout:?}"),
        };
        let line = failed_at.unwrap_or(example.first_line);
        let stderr: String = stderr
            .lines()
            .filter(|l| !l.starts_with("@@docs-line "))
            .collect::<Vec<_>>()
            .join("\n");
        Err(format!(
            "{}:{line}: the runnable example (the block from line {}) {why}\n\
             --- the block ---\n{code}--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n",
            example.file.display(),
            example.first_line,
        ))
    }
}

/// Runs the runnable examples of `files`, one session per file (see docs/contributing.md,
/// "Runnable examples"); one message per failure. `mysql_test` names the test for the
/// per-session MySQL/MariaDB databases.
fn run_examples(
    root: &Path,
    files: &[PathBuf],
    timeout: Duration,
    mysql_test: &str,
) -> Vec<String> {
    let (examples, mut failures) = examples(root, files);
    for file in files {
        let blocks: Vec<&Example> = examples.iter().filter(|e| &e.file == file).collect();
        if blocks.is_empty() {
            continue;
        }
        let env = Env::new();
        let session = Session::new(&env);
        let db = if blocks.iter().any(|b| b.mysql) {
            Db::mysql(&env, &format!("{mysql_test}::{}", file.display()))
        } else {
            None
        };
        for block in blocks {
            let code = match (&db, block.mysql) {
                (_, false) => block.code.clone(),
                (Some(db), true) => substitute_urls(&block.code, db.url()),
                (None, true) => {
                    loud(&format!(
                        "SKIPPED: the runnable examples of {} from line {} on (no MySQL/MariaDB server)",
                        file.display(),
                        block.first_line
                    ));
                    break;
                }
            };
            if let Err(failure) = session.run(block, &code, timeout) {
                failures.push(failure);
                break;
            }
        }
    }
    failures
}

/// Every runnable example of the documentation runs (the README's quick start among them), on
/// SQLite and on MySQL/MariaDB.
#[test]
fn the_runnable_examples_run() {
    let files = markdown_files(repo());
    let (examples, _) = examples(repo(), &files);
    let readme: Vec<&Example> = examples
        .iter()
        .filter(|e| e.file == Path::new("README.md"))
        .collect();
    assert!(
        readme.iter().any(|e| !e.mysql) && readme.iter().any(|e| e.mysql),
        "README.md's quick start is runnable, on SQLite and on MySQL/MariaDB"
    );
    let failures = run_examples(repo(), &files, BLOCK_TIMEOUT, module_path!());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A failing example is reported by the file and line of the failing command; the blocks of a
/// file share the directory and exported variables; a block that hangs is stopped at the
/// timeout; a malformed marker is an error.
#[test]
fn the_example_runner_names_the_failing_line() {
    let env = Env::new();
    env.write(
        "good.md",
        "# Good\n\n```sh runnable\nmkdir sub && cd sub\nexport GREETING=hello\ntouch made-here\n```\n\n\
         ```sh runnable\ntest -f made-here\ntest \"$GREETING\" = hello\naurweb-migrate --version\n```\n",
    );
    env.write(
        "bad.md",
        "# Bad\n\nText.\n\n```sh runnable\ntrue\nfalse\necho never\n```\n\n```sh runnable\necho never\n```\n",
    );
    env.write("slow.md", "```sh runnable\nsleep 30\n```\n");
    env.write("typo.md", "```sh runnable sqlite\ntrue\n```\n");
    let files: Vec<PathBuf> = ["good.md", "bad.md", "slow.md", "typo.md"]
        .iter()
        .map(PathBuf::from)
        .collect();
    let failures = run_examples(env.path(), &files, Duration::from_secs(2), module_path!());
    assert_eq!(failures.len(), 3, "{failures:#?}");
    assert!(
        failures[0].starts_with("typo.md:1: `sh runnable sqlite`"),
        "{}",
        failures[0]
    );
    assert!(
        failures[1].starts_with("bad.md:7: the runnable example (the block from line 6) exited"),
        "{}",
        failures[1]
    );
    assert!(
        failures[2].starts_with(
            "slow.md:2: the runnable example (the block from line 2) did not finish within 2s"
        ),
        "{}",
        failures[2]
    );
}

#[test]
fn mysql_urls_are_substituted() {
    assert_eq!(
        substitute_urls(
            "export U=mysql://root@127.0.0.1/notes # x\naurweb-migrate -d 'mariadb://a@b/c' status\n",
            "mysql://it@h:1/db"
        ),
        "export U=mysql://it@h:1/db # x\naurweb-migrate -d 'mysql://it@h:1/db' status\n"
    );
}

/// README.md is a front page: short, the two commands a fresh machine needs (`.ci/run` runs
/// the second), and a link to each guide; docs/SUMMARY.md lists every chapter in docs/.
#[test]
fn the_readme_is_a_front_page_and_the_summary_lists_every_chapter() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let lines = readme.lines().count();
    assert!(
        lines <= 300,
        "README.md has {lines} lines; the rest belongs in docs/"
    );
    let (_, blocks) = split_fences(&readme);
    let two = blocks
        .iter()
        .find(|b| b.code.contains("cargo run -- upgrade"))
        .expect("README.md shows `cargo run -- upgrade`");
    let commands: Vec<&str> = two
        .code
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(commands, ["cargo run -- upgrade", "cargo test --locked"]);

    let summary = std::fs::read_to_string(repo().join("docs/SUMMARY.md")).expect("SUMMARY.md");
    for entry in std::fs::read_dir(repo().join("docs")).expect("docs/") {
        let name = entry.expect("an entry").file_name();
        let name = name.to_string_lossy();
        if !name.ends_with(".md") || name == "SUMMARY.md" {
            continue;
        }
        assert!(
            summary.contains(&format!("]({name})")),
            "docs/SUMMARY.md lists {name}"
        );
        if name != "README.md" && name != "BENCHMARKS.md" {
            assert!(
                readme.contains(&format!("](docs/{name})")),
                "README.md links to docs/{name}"
            );
        }
    }
}
