//! Splitting SQL migration files into statements. This module owns the lexical rules the tool
//! relies on for both dialects: quotes and their escapes, comments (including MySQL `/*! */`
//! executable comments, which are statement content), the MySQL client `DELIMITER` command,
//! SQLite `CREATE TRIGGER ... BEGIN ... END` bodies, exact first-token line numbers, and
//! classifying a statement by its leading keywords ([`keywords`]). It is pure: no I/O, no
//! allocation per byte, and statements are returned as byte ranges of the source rather than
//! copies. It works on bytes; every syntax character is ASCII, so every range it reports
//! starts and ends on a char boundary of the (valid UTF-8) source.

use std::fmt;

use crate::dialect::Dialect;

/// One statement: a byte range of the source (trimmed: starts at its first token, ends after
/// its last token, never including the delimiter) and the 1-based line of its first token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement {
    /// Byte offset of the statement's first token.
    pub start: usize,
    /// Byte offset just past the statement's last token.
    pub end: usize,
    /// 1-based line of the statement's first token.
    pub line: u32,
}

impl Statement {
    /// The statement's text within `source` (the string that was split).
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        &source[self.start..self.end]
    }
}

/// A lexing error (e.g. unterminated quote or comment), with the 1-based line where the
/// offending token starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitError {
    /// 1-based line where the offending token starts.
    pub line: u32,
    /// Lowercase description without a trailing period.
    pub message: String,
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for SplitError {}

/// Splits `source` into statements according to `dialect`'s lexical rules.
///
/// Empty statements (only whitespace and comments between delimiters) are dropped; text after
/// the last delimiter that holds a token is a final statement.
pub fn split(source: &str, dialect: Dialect) -> Result<Vec<Statement>, SplitError> {
    let mut out = Vec::new();
    Splitter::new(source.as_bytes(), dialect).run(|_, st| out.push(st))?;
    Ok(out)
}

/// The statements of `source` as [`split`] finds them, each in a canonical form that keeps
/// what the server acts on and drops what it ignores: every comment (but MySQL executable
/// comments `/*! */` and optimizer hints `/*+ */`, which are content) becomes a space, runs of
/// whitespace become one space, and the ends are trimmed; quoted strings and identifiers stay
/// byte for byte. Lexed with exactly the splitter's rules, in its state at each statement (a
/// `SET sql_mode` earlier in the file that changes quoting applies), so two files with equal
/// canonical statements send the server the same tokens: what the version table's statement
/// checksum is taken over.
pub fn canonical_statements(source: &str, dialect: Dialect) -> Result<Vec<String>, SplitError> {
    let mut out = Vec::new();
    for_each_canonical(source, dialect, |st| out.push(st.to_string()))?;
    Ok(out)
}

/// [`canonical_statements`] one at a time, without keeping them: `each` sees each canonical
/// statement in turn, in one buffer reused from statement to statement (what the statement
/// checksum hashes: a 20 MB file costs its largest statement, not a second copy of itself).
pub fn for_each_canonical(
    source: &str,
    dialect: Dialect,
    mut each: impl FnMut(&str),
) -> Result<(), SplitError> {
    let mut buf = Vec::new();
    Splitter::new(source.as_bytes(), dialect).run(|splitter, st| {
        splitter.canonical(st.start, st.end, &mut buf);
        // Every range boundary is at an ASCII byte, so this is the source's valid UTF-8.
        each(&String::from_utf8_lossy(&buf))
    })
}

/// What follows the opening of a MySQL executable comment that starts `statement`
/// (`/*!40101 SET … */`, `/*M!100616 … */`: after the version digits, up to the end of the
/// statement, closing `*/` included); `None` when it does not start with one.
pub fn executable_comment_body(statement: &str) -> Option<&str> {
    let s = statement.trim_start();
    let rest = s.strip_prefix("/*M!").or_else(|| s.strip_prefix("/*!"))?;
    Some(rest.trim_start_matches(|c: char| c.is_ascii_digit()))
}

/// Whether `statement` holds `sql_mode` in any case: found from its `_` (rare in SQL), not by
/// comparing every 8-byte window.
fn names_sql_mode(statement: &[u8]) -> bool {
    statement.iter().enumerate().any(|(i, &b)| {
        b == b'_'
            && i >= 3
            && statement
                .get(i - 3..i + 5)
                .is_some_and(|w| w.eq_ignore_ascii_case(b"sql_mode"))
    })
}

/// The first `max` bare words of a statement, uppercased.
///
/// Skips leading whitespace and comments (`/* */`, `--` and `#` to end of line) but stops at a
/// MySQL `/*! ... */` or `/*M! ... */` executable comment, and at the first token that is not
/// a bare word `[A-Za-z0-9_$]+` (e.g. `(`, `=`, a quote). Used to classify statements, e.g.
/// `["CREATE", "TEMP", "TRIGGER"]`, `["PRAGMA", "FOREIGN_KEYS"]`, `["START", "TRANSACTION"]`.
pub fn keywords(statement_text: &str, max: usize) -> Vec<String> {
    let mut words = Words::new(statement_text.as_bytes(), WordRules::KEYWORDS);
    let mut out = Vec::new();
    while out.len() < max {
        match words.next() {
            // Bare words are ASCII: one copy, uppercased in place, no lossy second copy.
            Some(word) => out.push(match String::from_utf8(word.to_ascii_uppercase()) {
                Ok(upper) => upper,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            }),
            None => break,
        }
    }
    out
}

/// The MySQL user variables (`@name`, `@`quoted``, `@'quoted'`) a statement names, outside
/// strings and comments (an executable comment's body is code), without the `@`: what the
/// runner forgets after the migration, so that none reaches the next one. `@@system` variables
/// and the host part of an account (`'user'@'host'`, `user@localhost`) are not user variables.
/// Backslash escapes are assumed on (the server's default); a statement lexed differently only
/// ever adds or misses a name, which costs one needless `SET @x = NULL` or leaves one variable.
pub fn user_variables(statement: &str) -> Vec<String> {
    let src = statement.as_bytes();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < src.len() {
        let b = src[i];
        match b {
            b'\'' | b'"' | b'`' => {
                let mut j = i + 1;
                while j < src.len() && src[j] != b {
                    j += if src[j] == b'\\' && b != b'`' { 2 } else { 1 };
                }
                i = j + 1;
            }
            b'#' => i = line_end(src, i),
            b'-' if src.get(i + 1) == Some(&b'-')
                && src
                    .get(i + 2)
                    .is_none_or(|c| c.is_ascii_whitespace() || c.is_ascii_control()) =>
            {
                i = line_end(src, i)
            }
            b'/' if src.get(i + 1) == Some(&b'*') && !is_executable(src, i) => {
                i = find_comment_end(src, i).unwrap_or(src.len());
            }
            b'@' if src.get(i + 1) == Some(&b'@') => {
                // A system variable: skip its name.
                i += 2;
                while i < src.len() && (is_word_byte(src[i]) || src[i] == b'.') {
                    i += 1;
                }
            }
            b'@' => {
                let after_name = i > 0
                    && (is_word_byte(src[i - 1]) || matches!(src[i - 1], b'\'' | b'"' | b'`'));
                let start = i + 1;
                let (name, next) = match src.get(start) {
                    Some(&q @ (b'\'' | b'"' | b'`')) => {
                        let mut j = start + 1;
                        let mut name = Vec::new();
                        while j < src.len() {
                            if src[j] == q {
                                if src.get(j + 1) == Some(&q) {
                                    name.push(q);
                                    j += 2;
                                    continue;
                                }
                                break;
                            }
                            name.push(src[j]);
                            j += 1;
                        }
                        (name, j + 1)
                    }
                    _ => {
                        let mut j = start;
                        while j < src.len() && (is_word_byte(src[j]) || src[j] == b'.') {
                            j += 1;
                        }
                        (src[start..j].to_vec(), j)
                    }
                };
                if !after_name && !name.is_empty() {
                    let name = String::from_utf8_lossy(&name).into_owned();
                    // Names are case-insensitive.
                    if !out.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
                        out.push(name);
                    }
                }
                i = next;
            }
            _ => i += 1,
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Byte classes and small scanning helpers.

/// The characters of the mariadb client's one-character commands (`\c`, `\G`, `\q`, ...: its
/// `commands[]` table, case-sensitive). A backslash before any other character outside quotes
/// is no command: `\N` is the server's NULL literal.
const CLIENT_COMMANDS: &[u8] = b"cdeGghnPpqRrstTuCWw#.!?";

#[inline]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

#[inline]
fn is_hspace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | 0x0b | 0x0c)
}

/// A byte of a bare word as [`keywords`] defines it.
#[inline]
fn is_bare(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// A byte of a word for SQLite trigger tracking: bare-word bytes plus any non-ASCII byte (SQLite
/// accepts those in identifiers), so `éend` is not mistaken for `END`.
#[inline]
fn is_word_byte(b: u8) -> bool {
    is_bare(b) || b >= 0x80
}

/// Index of the first `\n` at or after `from`, or `src.len()`.
#[inline]
fn line_end(src: &[u8], from: usize) -> usize {
    match src.get(from..) {
        Some(rest) => rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(src.len(), |k| from + k),
        None => src.len(),
    }
}

/// Index of the first `a` or `b` at or after `from`.
#[inline]
fn find2(src: &[u8], from: usize, a: u8, b: u8) -> Option<usize> {
    src.get(from..)?
        .iter()
        .position(|&c| c == a || c == b)
        .map(|k| from + k)
}

/// Index of the first `a` at or after `from`.
#[inline]
fn find1(src: &[u8], from: usize, a: u8) -> Option<usize> {
    src.get(from..)?
        .iter()
        .position(|&c| c == a)
        .map(|k| from + k)
}

/// Counts `\n` bytes; written so the compiler vectorises it.
fn count_newlines(bytes: &[u8]) -> usize {
    let mut total = 0usize;
    for chunk in bytes.chunks(255 * 32) {
        // u8 lanes cannot overflow within one chunk of 255 * 32 bytes split over 32 lanes.
        let mut lanes = [0u8; 32];
        let mut blocks = chunk.chunks_exact(32);
        for block in &mut blocks {
            for (lane, &b) in lanes.iter_mut().zip(block) {
                *lane += (b == b'\n') as u8;
            }
        }
        total += lanes.iter().map(|&l| l as usize).sum::<usize>();
        total += blocks.remainder().iter().filter(|&&b| b == b'\n').count();
    }
    total
}

/// Lazily computed line numbers: positions are asked for in (almost always) increasing order,
/// so each byte is counted once.
struct Lines<'a> {
    src: &'a [u8],
    pos: usize,
    line: u32,
}

impl<'a> Lines<'a> {
    fn new(src: &'a [u8]) -> Self {
        Lines {
            src,
            pos: 0,
            line: 1,
        }
    }

    fn at(&mut self, pos: usize) -> u32 {
        let pos = pos.min(self.src.len());
        if pos < self.pos {
            self.pos = 0;
            self.line = 1;
        }
        let n = count_newlines(&self.src[self.pos..pos]);
        self.line = self
            .line
            .saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        self.pos = pos;
        self.line
    }
}

/// What starts at a position, if it is a comment.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Comment {
    /// `--` or `#` to end of line.
    Line,
    /// `/* ... */`.
    Block,
    /// MySQL `/*! ... */` or `/*M! ... */`: statement content.
    Executable,
}

// ---------------------------------------------------------------------------------------------
// Bare-word iteration (for `keywords` and for spotting SQLite triggers).

#[derive(Clone, Copy)]
struct WordRules {
    /// `#` starts a comment to end of line.
    hash_comments: bool,
    /// `--` starts a comment only when followed by whitespace, a control char or end of input.
    strict_dash_dash: bool,
    /// `/*!` and `/*M!` are content, which ends the scan.
    executable_comments: bool,
}

impl WordRules {
    /// Dialect-neutral rules for [`keywords`].
    const KEYWORDS: WordRules = WordRules {
        hash_comments: true,
        strict_dash_dash: false,
        executable_comments: true,
    };
    /// SQLite's rules.
    const SQLITE: WordRules = WordRules {
        hash_comments: false,
        strict_dash_dash: false,
        executable_comments: false,
    };
}

/// Yields leading bare words, skipping whitespace and comments, until anything else.
struct Words<'a> {
    src: &'a [u8],
    pos: usize,
    rules: WordRules,
}

impl<'a> Words<'a> {
    fn new(src: &'a [u8], rules: WordRules) -> Self {
        Words { src, pos: 0, rules }
    }
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let src = self.src;
        let n = src.len();
        let mut i = self.pos;
        loop {
            while i < n && is_ws(src[i]) {
                i += 1;
            }
            if i >= n {
                self.pos = n;
                return None;
            }
            let b = src[i];
            let next = src.get(i + 1).copied();
            if b == b'-' && next == Some(b'-') {
                let after = src.get(i + 2).copied();
                if !self.rules.strict_dash_dash || after.is_none_or(|c| c <= b' ' || c == 0x7f) {
                    i = line_end(src, i);
                    continue;
                }
            } else if b == b'#' && self.rules.hash_comments {
                i = line_end(src, i);
                continue;
            } else if b == b'/' && next == Some(b'*') {
                if self.rules.executable_comments && is_executable(src, i) {
                    break;
                }
                match find_comment_end(src, i) {
                    Some(e) => {
                        i = e;
                        continue;
                    }
                    None => break,
                }
            } else if is_bare(b) {
                let start = i;
                while i < n && is_bare(src[i]) {
                    i += 1;
                }
                self.pos = i;
                return Some(&src[start..i]);
            }
            break;
        }
        // Anything else ends the iteration for good.
        self.pos = n;
        self.src = &src[..0];
        None
    }
}

/// `/*!` or `/*M!` at `i` (the caller has checked `/*`).
#[inline]
fn is_executable(src: &[u8], i: usize) -> bool {
    match src.get(i + 2) {
        Some(b'!') => true,
        Some(b'M') => src.get(i + 3) == Some(&b'!'),
        _ => false,
    }
}

/// Given `/*` at `i`, the index just past the closing `*/`, if any.
#[inline]
fn find_comment_end(src: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 2;
    loop {
        let k = find1(src, j, b'*')?;
        if src.get(k + 1) == Some(&b'/') {
            return Some(k + 2);
        }
        j = k + 1;
    }
}

/// Whether a SQLite statement starts `CREATE [TEMP|TEMPORARY] TRIGGER`.
fn is_create_trigger(src: &[u8]) -> bool {
    let mut words = Words::new(src, WordRules::SQLITE);
    if !words
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case(b"CREATE"))
    {
        return false;
    }
    match words.next() {
        Some(w) if w.eq_ignore_ascii_case(b"TEMP") || w.eq_ignore_ascii_case(b"TEMPORARY") => words
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case(b"TRIGGER")),
        Some(w) => w.eq_ignore_ascii_case(b"TRIGGER"),
        None => false,
    }
}

// ---------------------------------------------------------------------------------------------
// The splitter proper.

/// Bytes at which the fast scanning loop inside a statement must stop.
fn build_class(mysql: bool, delimiter: &[u8], words: bool) -> [bool; 256] {
    let mut class = [false; 256];
    for b in [b'\'', b'"', b'`', b'-', b'/'] {
        class[b as usize] = true;
    }
    if mysql {
        class[b'#' as usize] = true;
        class[b'\\' as usize] = true;
    } else {
        class[b'[' as usize] = true;
    }
    if let Some(&first) = delimiter.first() {
        class[first as usize] = true;
    }
    if words {
        for b in 0..=255u8 {
            if is_word_byte(b) {
                class[b as usize] = true;
            }
        }
    }
    class
}

/// SQLite trigger tracking while scanning a `CREATE TRIGGER` statement.
#[derive(Default)]
struct Trigger {
    /// `BEGIN` has been seen: `;` no longer ends the statement by itself.
    in_body: bool,
    /// Open `CASE` expressions inside the body.
    case_depth: u32,
    /// The last token was the body's `END`, so a `;` now ends the statement.
    after_end: bool,
}

struct Splitter<'a> {
    src: &'a [u8],
    mysql: bool,
    delimiter: &'a [u8],
    class: [bool; 256],
    /// SQLite only: the class table for trigger statements (stops at word bytes too).
    word_class: [bool; 256],
    lines: Lines<'a>,
    /// MySQL: a `SET sql_mode` earlier in the file turned on `ANSI_QUOTES` (double quotes
    /// delimit identifiers) or `NO_BACKSLASH_ESCAPES` (a backslash is an ordinary character);
    /// the rest of the file is lexed so, as the server does.
    ansi_quotes: bool,
    no_backslash_escapes: bool,
}

impl<'a> Splitter<'a> {
    fn new(src: &'a [u8], dialect: Dialect) -> Self {
        let mysql = dialect == Dialect::Mysql;
        let delimiter: &'static [u8] = b";";
        Splitter {
            src,
            mysql,
            delimiter,
            class: build_class(mysql, delimiter, false),
            word_class: build_class(mysql, delimiter, true),
            lines: Lines::new(src),
            ansi_quotes: false,
            no_backslash_escapes: false,
        }
    }

    /// Follows `SET [SESSION] sql_mode = …` (also inside an executable comment, as dumps write
    /// it): a literal or `DEFAULT` sets both flags from the modes named (`ANSI` includes
    /// `ANSI_QUOTES`); a user variable (`@OLD_SQL_MODE`, a dump restoring the mode it saved)
    /// goes back to the file's start; another expression can only add the modes it names.
    fn note_sql_mode(&mut self, statement: &[u8]) {
        // Only a `SET` (maybe in an executable comment) changes the mode: look at its first word,
        // then for the mode's name, before copying anything.
        let set = Words::new(statement, WordRules::KEYWORDS)
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case(b"SET"));
        if !(set || statement.trim_ascii_start().starts_with(b"/*")) || !names_sql_mode(statement) {
            return;
        }
        let text = String::from_utf8_lossy(statement).to_ascii_uppercase();
        let t = executable_comment_body(&text).unwrap_or(text.trim_start());
        let words = keywords(t, 3);
        if words.first().map(String::as_str) != Some("SET") {
            return;
        }
        let Some(at) = t.find("SQL_MODE") else {
            return;
        };
        if t[..at].contains("GLOBAL") {
            return;
        }
        let Some(value) = t[at + 8..].trim_start().strip_prefix('=') else {
            return;
        };
        let value = value.trim_start();
        let named = |mode: &str| {
            value
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .any(|w| w == mode)
        };
        let ansi = named("ANSI_QUOTES") || named("ANSI");
        let nbe = named("NO_BACKSLASH_ESCAPES");
        let restored = value.starts_with('@') && !value.starts_with("@@");
        if value.starts_with(['\'', '"']) || value.starts_with("DEFAULT") || restored {
            self.ansi_quotes = ansi && !restored;
            self.no_backslash_escapes = nbe && !restored;
        } else {
            self.ansi_quotes |= ansi;
            self.no_backslash_escapes |= nbe;
        }
    }

    fn error(&mut self, pos: usize, message: &str) -> SplitError {
        SplitError {
            line: self.lines.at(pos),
            message: message.to_owned(),
        }
    }

    /// Finds every statement and hands each to `each` with the splitter as it is at that
    /// statement (before the statement's own `SET sql_mode` takes effect).
    fn run(mut self, mut each: impl FnMut(&mut Self, Statement)) -> Result<(), SplitError> {
        let mut i = 0;
        while let Some(p) = self.skip_to_first_token(i)? {
            if self.mysql && !self.is_delimiter_command(p) && self.is_delimiter_word(p) {
                return Err(self.error(
                    p,
                    "DELIMITER must start a line: the mariadb client reads it as a command only there (elsewhere it sends it to the server)",
                ));
            }
            if self.is_delimiter_command(p) {
                if !self.mysql {
                    return Err(self.error(p, "DELIMITER is a mysql client command"));
                }
                i = self.delimiter_command(p)?;
                continue;
            }
            let line = self.lines.at(p);
            let (end, next) = if !self.mysql && is_create_trigger(&self.src[p..]) {
                self.scan::<true>(p)?
            } else {
                self.scan::<false>(p)?
            };
            // `\g` with nothing before it ends an empty statement: nothing to run.
            if end > p {
                each(
                    &mut self,
                    Statement {
                        start: p,
                        end,
                        line,
                    },
                );
            }
            if self.mysql {
                self.note_sql_mode(&self.src[p..end]);
            }
            i = next;
        }
        Ok(())
    }

    /// The canonical form of the statement at `p..end` (see [`canonical_statements`]). The
    /// statement was split already, so its quotes and comments are terminated; the fallbacks
    /// only keep this total.
    fn canonical(&mut self, p: usize, end: usize, out: &mut Vec<u8>) {
        let src = self.src;
        out.clear();
        let mut gap = false;
        let mut i = p;
        while i < end {
            let b = src[i];
            if is_ws(b) {
                gap = true;
                i += 1;
                continue;
            }
            let next = match b {
                b'\'' | b'"' | b'`' => self.skip_quoted(i).unwrap_or(end),
                b'[' if !self.mysql => self.skip_bracketed(i).unwrap_or(end),
                b'-' | b'#' | b'/' => match self.comment_at(i) {
                    Some(Comment::Line) => {
                        gap = true;
                        i = line_end(src, i);
                        continue;
                    }
                    // An optimizer hint is read by the server.
                    Some(Comment::Block) if !(self.mysql && src.get(i + 2) == Some(&b'+')) => {
                        gap = true;
                        i = self.skip_block_comment(i).unwrap_or(end);
                        continue;
                    }
                    Some(Comment::Executable) => self.skip_executable_comment(i).unwrap_or(end),
                    _ => i + 1,
                },
                // A run of bytes that start no quote, comment or gap is copied as it is.
                _ => {
                    let plain = |&c: &u8| {
                        !is_ws(c) && !matches!(c, b'\'' | b'"' | b'`' | b'[' | b'-' | b'#' | b'/')
                    };
                    i + 1 + src[i + 1..end].iter().take_while(|c| plain(c)).count()
                }
            }
            .min(end);
            // Whitespace after `(` or `,` and before `)` or `,` never matters (no token of
            // either dialect holds those bytes); before `(` it can (MySQL's `COUNT (x)`).
            let tight = matches!(out.last(), Some(b'(' | b',')) || matches!(b, b')' | b',');
            if gap && !out.is_empty() && !tight {
                out.push(b' ');
            }
            gap = false;
            out.extend_from_slice(&src[i..next]);
            i = next;
        }
    }

    /// What comment, if any, starts at `i`.
    #[inline]
    fn comment_at(&self, i: usize) -> Option<Comment> {
        let src = self.src;
        match src[i] {
            b'-' if src.get(i + 1) == Some(&b'-') => {
                if !self.mysql {
                    return Some(Comment::Line);
                }
                match src.get(i + 2) {
                    None => Some(Comment::Line),
                    Some(&c) if c <= b' ' || c == 0x7f => Some(Comment::Line),
                    Some(_) => None,
                }
            }
            b'#' if self.mysql => Some(Comment::Line),
            b'/' if src.get(i + 1) == Some(&b'*') => {
                if self.mysql && is_executable(src, i) {
                    Some(Comment::Executable)
                } else {
                    Some(Comment::Block)
                }
            }
            _ => None,
        }
    }

    #[inline]
    fn delimiter_at(&self, i: usize) -> bool {
        self.src[i..].starts_with(self.delimiter)
    }

    /// Skips whitespace, ordinary comments and empty statements from `i`; returns the position of
    /// the next statement's first token, or `None` at end of input.
    fn skip_to_first_token(&mut self, mut i: usize) -> Result<Option<usize>, SplitError> {
        let src = self.src;
        let n = src.len();
        loop {
            while i < n && is_ws(src[i]) {
                i += 1;
            }
            if i >= n {
                return Ok(None);
            }
            if self.delimiter_at(i) {
                i += self.delimiter.len();
                continue;
            }
            // Before a statement's first token the mysql client drops `--` to the end of the
            // line whatever follows it (`--#2274`, `--DROP INDEX …`); inside a statement it
            // sends it, and the server's rule (a space after `--`) applies.
            if self.mysql && src[i] == b'-' && src.get(i + 1) == Some(&b'-') {
                i = line_end(src, i);
                continue;
            }
            match self.comment_at(i) {
                Some(Comment::Line) => i = line_end(src, i),
                Some(Comment::Block) => i = self.skip_block_comment(i)?,
                Some(Comment::Executable) | None => return Ok(Some(i)),
            }
        }
    }

    /// Given `/*!` or `/*M!` at `i`, the index just past the comment's end: its content is SQL
    /// to the server, so a `*/` inside a quoted string there does not end it (mariadb-dump
    /// writes views whose text holds `'*/'`).
    fn skip_executable_comment(&mut self, i: usize) -> Result<usize, SplitError> {
        let src = self.src;
        let mut j = i + 3;
        while j < src.len() {
            match src[j] {
                b'\'' | b'"' | b'`' => j = self.skip_quoted(j)?,
                b'*' if src.get(j + 1) == Some(&b'/') => return Ok(j + 2),
                _ => j += 1,
            }
        }
        Err(self.error(i, "unterminated comment starting here"))
    }

    fn skip_block_comment(&mut self, i: usize) -> Result<usize, SplitError> {
        match find_comment_end(self.src, i) {
            Some(e) => Ok(e),
            None => Err(self.error(i, "unterminated comment starting here")),
        }
    }

    /// Given a quote at `i`, the index just past its closing quote.
    fn skip_quoted(&mut self, i: usize) -> Result<usize, SplitError> {
        let src = self.src;
        let q = src[i];
        let backslash = self.mysql
            && q != b'`'
            && !self.no_backslash_escapes
            && !(q == b'"' && self.ansi_quotes);
        let mut j = i + 1;
        loop {
            let found = if backslash {
                find2(src, j, q, b'\\')
            } else {
                find1(src, j, q)
            };
            let Some(k) = found else {
                let what = if q == b'`' {
                    "unterminated quoted identifier starting here"
                } else {
                    "unterminated string starting here"
                };
                return Err(self.error(i, what));
            };
            // A backslash escapes the next byte; a doubled quote is a quote.
            if src[k] != b'\\' && src.get(k + 1) != Some(&q) {
                return Ok(k + 1);
            }
            j = k + 2;
        }
    }

    /// Given `[` at `i` (SQLite), the index just past the closing `]`.
    fn skip_bracketed(&mut self, i: usize) -> Result<usize, SplitError> {
        match find1(self.src, i + 1, b']') {
            Some(k) => Ok(k + 1),
            None => Err(self.error(i, "unterminated bracketed identifier starting here")),
        }
    }

    /// Scans the statement whose first token is at `p`. Returns the end of its last token and
    /// where scanning resumes (after the delimiter, or the end of input).
    fn scan<const TRIGGER: bool>(&mut self, p: usize) -> Result<(usize, usize), SplitError> {
        let src = self.src;
        let n = src.len();
        let class = if TRIGGER { self.word_class } else { self.class };
        let delimiter = self.delimiter;
        let delim0 = delimiter.first().copied().unwrap_or(b';');
        let mut trigger = Trigger::default();
        let mut i = p;
        let mut seg = p;
        let mut end = p;
        loop {
            // The hot loop: skip bytes that cannot start anything interesting.
            while i < n && !class[src[i] as usize] {
                i += 1;
            }
            // [seg, i) is plain text: its last non-space byte ends a token.
            let mut t = i;
            while t > seg && is_ws(src[t - 1]) {
                t -= 1;
            }
            if t > seg {
                end = t;
                if TRIGGER {
                    trigger.after_end = false;
                }
            }
            if i >= n {
                return Ok((end, n));
            }
            let b = src[i];
            if b == delim0 && self.delimiter_at(i) {
                if !(TRIGGER && trigger.in_body && !trigger.after_end) {
                    return Ok((end, i + delimiter.len()));
                }
                // A `;` inside a trigger body is content.
                i += 1;
                end = i;
                seg = i;
                continue;
            }
            let mut token = true;
            match b {
                b'\'' | b'"' | b'`' => i = self.skip_quoted(i)?,
                b'[' if !self.mysql => i = self.skip_bracketed(i)?,
                // The mariadb client's commands outside quotes: `\g` (and `\G`) end a statement
                // like `;`; any other in its command table would be run by the client, not
                // sent: an input error. Any other backslash sequence (`\N`, the NULL literal)
                // goes to the server as the client sends it: both bytes, the second one inert.
                b'\\' if self.mysql => match src.get(i + 1) {
                    Some(b'g' | b'G') if !(TRIGGER && trigger.in_body) => {
                        return Ok((end, i + 2));
                    }
                    Some(c) if CLIENT_COMMANDS.contains(c) => {
                        return Err(self.error(
                            i,
                            &format!(
                                "\\{} is a mariadb client command, which the server never sees; end statements with `;` (or `\\g`) and leave client commands out of migration files",
                                *c as char
                            ),
                        ));
                    }
                    Some(c) if c.is_ascii_graphic() => i += 2,
                    _ => i += 1,
                },
                b'-' | b'#' | b'/' => match self.comment_at(i) {
                    Some(Comment::Line) => {
                        i = line_end(src, i);
                        token = false;
                    }
                    Some(Comment::Block) => {
                        i = self.skip_block_comment(i)?;
                        token = false;
                    }
                    Some(Comment::Executable) => i = self.skip_executable_comment(i)?,
                    None => i += 1,
                },
                _ if TRIGGER && is_word_byte(b) => {
                    let start = i;
                    while i < n && is_word_byte(src[i]) {
                        i += 1;
                    }
                    end = i;
                    seg = i;
                    let qualified = start > 0 && src[start - 1] == b'.';
                    trigger.after_end = false;
                    if !qualified {
                        let word = &src[start..i];
                        if !trigger.in_body {
                            trigger.in_body = word.eq_ignore_ascii_case(b"BEGIN");
                        } else if word.eq_ignore_ascii_case(b"CASE") {
                            trigger.case_depth += 1;
                        } else if word.eq_ignore_ascii_case(b"END") {
                            if trigger.case_depth > 0 {
                                trigger.case_depth -= 1;
                            } else {
                                trigger.after_end = true;
                            }
                        }
                    }
                    continue;
                }
                _ => i += 1,
            }
            if token {
                end = i;
                if TRIGGER {
                    trigger.after_end = false;
                }
            }
            seg = i;
        }
    }

    /// Whether the word `DELIMITER` followed by whitespace is at `p`, wherever it stands.
    fn is_delimiter_word(&self, p: usize) -> bool {
        self.src
            .get(p..p + 9)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"DELIMITER"))
            && self.src.get(p + 9).is_some_and(|&b| is_hspace(b))
    }

    /// Whether the first token of a statement, at `p`, is a `DELIMITER` client command: the word
    /// `DELIMITER` at the start of a line, followed by whitespace or end of input.
    fn is_delimiter_command(&self, p: usize) -> bool {
        let src = self.src;
        let Some(word) = src.get(p..p + 9) else {
            return false;
        };
        if !word.eq_ignore_ascii_case(b"DELIMITER") || src.get(p + 9).is_some_and(|&b| !is_ws(b)) {
            return false;
        }
        let mut k = p;
        while k > 0 && is_hspace(src[k - 1]) {
            k -= 1;
        }
        k == 0 || src[k - 1] == b'\n'
    }

    /// Handles `DELIMITER <token>` at `p`; returns the start of the next line.
    fn delimiter_command(&mut self, p: usize) -> Result<usize, SplitError> {
        let src = self.src;
        let n = src.len();
        let mut j = p + 9;
        while j < n && is_hspace(src[j]) {
            j += 1;
        }
        let start = j;
        while j < n && !is_ws(src[j]) {
            j += 1;
        }
        if j == start {
            return Err(self.error(p, "DELIMITER command without a delimiter"));
        }
        // The client takes a quoted argument without its quotes (`DELIMITER '$$'` sets `$$`).
        let mut arg = &src[start..j];
        if arg.len() > 2 && matches!(arg[0], b'\'' | b'"' | b'`') && arg[arg.len() - 1] == arg[0] {
            arg = &arg[1..arg.len() - 1];
        }
        self.delimiter = arg;
        self.class = build_class(self.mysql, self.delimiter, false);
        // Like the mysql client, ignore anything else on the line.
        Ok((line_end(src, j) + 1).min(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const M: Dialect = Dialect::Mysql;
    const S: Dialect = Dialect::Sqlite;

    #[track_caller]
    fn check(dialect: Dialect, input: &str, expect: &[(u32, &str)]) {
        let got = match split(input, dialect) {
            Ok(got) => got,
            Err(e) => panic!("{dialect}: unexpected error {e:?} for input {input:?}"),
        };
        let got: Vec<(u32, &str)> = got.iter().map(|s| (s.line, s.text(input))).collect();
        assert_eq!(got, expect, "{dialect}: input {input:?}");
    }

    #[track_caller]
    fn check_both(input: &str, expect: &[(u32, &str)]) {
        check(M, input, expect);
        check(S, input, expect);
    }

    #[track_caller]
    fn check_err(dialect: Dialect, input: &str, line: u32, message: &str) {
        match split(input, dialect) {
            Ok(got) => panic!("{dialect}: expected an error for {input:?}, got {got:?}"),
            Err(e) => {
                assert_eq!(e.line, line, "{dialect}: wrong line in {e:?} for {input:?}");
                assert!(
                    e.message.contains(message),
                    "{dialect}: {e:?} does not mention {message:?}"
                );
                assert!(!e.message.ends_with('.'), "{e:?}");
            }
        }
    }

    #[track_caller]
    #[test]
    fn user_variables_outside_strings_and_comments() {
        let cases: &[(&str, &[&str])] = &[
            ("SET @x = 1, @Y := 2", &["x", "Y"]),
            ("SELECT @a := 1, @@session.sql_mode, @@GLOBAL.x, @A", &["a"]),
            (
                "SET @`odd name` = 1, @'q' = 2, @\"d\" = 3",
                &["odd name", "q", "d"],
            ),
            ("SELECT '@no', \"@no\", `@no` -- @no\n# @no\n/* @no */", &[]),
            (
                "/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE */",
                &["OLD_SQL_MODE"],
            ),
            (
                "CREATE USER 'u'@'localhost'; GRANT ALL ON *.* TO u@localhost",
                &[],
            ),
            ("SELECT 'it\\'s @no', @yes", &["yes"]),
            ("SET @v.w = 1", &["v.w"]),
        ];
        for (text, want) in cases {
            assert_eq!(user_variables(text), *want, "{text}");
        }
    }

    fn check_kw(text: &str, max: usize, expect: &[&str]) {
        assert_eq!(keywords(text, max), expect, "keywords of {text:?}");
    }

    // --- basics --------------------------------------------------------------------------

    #[test]
    fn single_statement() {
        check_both("SELECT 1;", &[(1, "SELECT 1")]);
    }

    #[test]
    fn two_statements_one_line() {
        check_both("SELECT 1; SELECT 2;", &[(1, "SELECT 1"), (1, "SELECT 2")]);
    }

    #[test]
    fn no_trailing_delimiter_or_newline() {
        check_both("SELECT 1;\nSELECT 2", &[(1, "SELECT 1"), (2, "SELECT 2")]);
    }

    #[test]
    fn trailing_whitespace_after_last_statement() {
        check_both("SELECT 1\n\n  \t\n", &[(1, "SELECT 1")]);
    }

    #[test]
    fn empty_input() {
        check_both("", &[]);
        check_both("   \n\n\t", &[]);
    }

    #[test]
    fn empty_statements_dropped() {
        check_both(
            ";;  ; \n;SELECT 1;;;SELECT 2;;",
            &[(2, "SELECT 1"), (2, "SELECT 2")],
        );
        check_both("; /* x */ ; -- y\n;", &[]);
    }

    #[test]
    fn only_comments() {
        check_both("-- one\n/* two\nthree */\n-- four", &[]);
        check(M, "# hash\n-- dash\n/* block */", &[]);
    }

    #[test]
    fn multi_line_statement_lines() {
        check_both(
            "\n\nCREATE TABLE t (\n  id INT,\n  name TEXT\n);\n\nINSERT INTO t\nVALUES (1, 'a');\n",
            &[
                (3, "CREATE TABLE t (\n  id INT,\n  name TEXT\n)"),
                (8, "INSERT INTO t\nVALUES (1, 'a')"),
            ],
        );
    }

    #[test]
    fn leading_comments_skipped_for_line() {
        check_both(
            "-- header\n/* block\n comment */\n\n  SELECT 1;",
            &[(5, "SELECT 1")],
        );
    }

    #[test]
    fn inner_comments_kept() {
        check_both(
            "SELECT /* a; b */ 1 -- c; d\n + 2;",
            &[(1, "SELECT /* a; b */ 1 -- c; d\n + 2")],
        );
    }

    #[test]
    fn trailing_comments_excluded() {
        check_both("SELECT 1 -- done\n;", &[(1, "SELECT 1")]);
        check_both("SELECT 1 /* done */ ;", &[(1, "SELECT 1")]);
        check_both("SELECT 1 -- done", &[(1, "SELECT 1")]);
        check_both("SELECT 1\n  /* a */ -- b\n", &[(1, "SELECT 1")]);
    }

    #[test]
    fn crlf_tolerated() {
        check_both(
            "SELECT 1;\r\n\r\nSELECT\r\n 2;\r\n-- c\r\nSELECT 3\r\n",
            &[(1, "SELECT 1"), (3, "SELECT\r\n 2"), (6, "SELECT 3")],
        );
    }

    #[test]
    fn unicode_content() {
        check_both(
            "INSERT INTO t VALUES ('héllo; wörld', 'ü');\nSELECT '日本';",
            &[
                (1, "INSERT INTO t VALUES ('héllo; wörld', 'ü')"),
                (2, "SELECT '日本'"),
            ],
        );
        check_both("SELECT ü ;", &[(1, "SELECT ü")]);
    }

    // --- quotes --------------------------------------------------------------------------

    #[test]
    fn semicolons_in_quotes() {
        check_both(
            "SELECT 'a;b', \"c;d\", `e;f`; SELECT 2",
            &[(1, "SELECT 'a;b', \"c;d\", `e;f`"), (1, "SELECT 2")],
        );
    }

    #[test]
    fn doubled_quotes_escape() {
        check_both(
            "SELECT 'it''s;'; SELECT 2",
            &[(1, "SELECT 'it''s;'"), (1, "SELECT 2")],
        );
        check_both(
            "SELECT \"a\"\";\"; SELECT 2",
            &[(1, "SELECT \"a\"\";\""), (1, "SELECT 2")],
        );
        check_both(
            "SELECT `a``;`; SELECT 2",
            &[(1, "SELECT `a``;`"), (1, "SELECT 2")],
        );
        check_both("SELECT '';", &[(1, "SELECT ''")]);
    }

    #[test]
    fn mysql_backslash_escapes() {
        check(
            M,
            r"SELECT 'it\'s;'; SELECT 2",
            &[(1, r"SELECT 'it\'s;'"), (1, "SELECT 2")],
        );
        check(
            M,
            r"SELECT 'a\\'; SELECT 2",
            &[(1, r"SELECT 'a\\'"), (1, "SELECT 2")],
        );
        check(
            M,
            r#"SELECT "a\";"; SELECT 2"#,
            &[(1, r#"SELECT "a\";""#), (1, "SELECT 2")],
        );
    }

    #[test]
    fn mysql_backslash_not_an_escape_in_backticks() {
        check(
            M,
            r"SELECT `a\`; SELECT 2",
            &[(1, r"SELECT `a\`"), (1, "SELECT 2")],
        );
    }

    #[test]
    fn sqlite_backslash_is_ordinary() {
        check(
            S,
            r"SELECT 'a\'; SELECT 2",
            &[(1, r"SELECT 'a\'"), (1, "SELECT 2")],
        );
        check(
            S,
            r#"SELECT "a\"; SELECT 2"#,
            &[(1, r#"SELECT "a\""#), (1, "SELECT 2")],
        );
    }

    #[test]
    fn sqlite_brackets() {
        check(
            S,
            "SELECT [a;b] FROM [t]; SELECT 2",
            &[(1, "SELECT [a;b] FROM [t]"), (1, "SELECT 2")],
        );
        check(S, "SELECT [it's];", &[(1, "SELECT [it's]")]);
    }

    #[test]
    fn mysql_brackets_are_plain() {
        check(M, "SELECT [a;b]", &[(1, "SELECT [a"), (1, "b]")]);
    }

    #[test]
    fn multi_line_string() {
        check_both(
            "SELECT 'a\n;b\n';\nSELECT 2;",
            &[(1, "SELECT 'a\n;b\n'"), (4, "SELECT 2")],
        );
    }

    #[test]
    fn comment_markers_in_quotes() {
        check_both(
            "SELECT '-- x', '/* y', \"*/\"; SELECT 2",
            &[(1, "SELECT '-- x', '/* y', \"*/\""), (1, "SELECT 2")],
        );
        check(
            M,
            "SELECT '# x;'; SELECT 2",
            &[(1, "SELECT '# x;'"), (1, "SELECT 2")],
        );
    }

    #[test]
    fn quote_chars_in_comments() {
        check_both(
            "SELECT 1 /* it's */; SELECT 2",
            &[(1, "SELECT 1"), (1, "SELECT 2")],
        );
        check_both(
            "SELECT 1 -- it's\n; SELECT 2",
            &[(1, "SELECT 1"), (2, "SELECT 2")],
        );
        check(
            M,
            "SELECT 1 # it's\n; SELECT 2",
            &[(1, "SELECT 1"), (2, "SELECT 2")],
        );
    }

    #[test]
    fn unterminated_string() {
        check_err(M, "SELECT 1;\nSELECT 'abc;\n\n", 2, "unterminated string");
        check_err(S, "SELECT 1;\nSELECT 'abc;\n\n", 2, "unterminated string");
        check_err(M, "\n\nSELECT \"abc", 3, "unterminated string");
        check_err(M, r"SELECT 'abc\'", 1, "unterminated string");
        check_err(M, "SELECT 'abc\\", 1, "unterminated string");
        check_err(S, "SELECT 'it''", 1, "unterminated string");
    }

    #[test]
    fn unterminated_string_line_is_quote_start() {
        check_err(M, "SELECT 1,\n2,\n  'abc\nmore\nlines", 3, "starting here");
    }

    #[test]
    fn unterminated_backtick_and_bracket() {
        check_err(
            M,
            "SELECT 1;\n\nSELECT `abc;",
            3,
            "unterminated quoted identifier",
        );
        check_err(S, "SELECT\n`abc;", 2, "unterminated quoted identifier");
        check_err(S, "SELECT\n\n[abc;", 3, "unterminated bracketed identifier");
    }

    // --- comments ------------------------------------------------------------------------

    #[test]
    fn unterminated_comment() {
        check_err(M, "SELECT 1;\n/* abc;\n", 2, "unterminated comment");
        check_err(S, "SELECT 1 /* abc;\n", 1, "unterminated comment");
        check_err(
            M,
            "SELECT 1;\n\n/*!40101 SET x = 1;",
            3,
            "unterminated comment",
        );
        check_err(S, "/*/", 1, "unterminated comment");
    }

    #[test]
    fn dash_dash_mysql_needs_space() {
        check(M, "SELECT 1--1;", &[(1, "SELECT 1--1")]);
        check(M, "SELECT 1 --1;", &[(1, "SELECT 1 --1")]);
        check(M, "SELECT 1 -- c;\n;", &[(1, "SELECT 1")]);
        check(M, "SELECT 1 --\t;\n;", &[(1, "SELECT 1")]);
        check(M, "SELECT 1 --\n;", &[(1, "SELECT 1")]);
        check(M, "SELECT 1 --", &[(1, "SELECT 1")]);
    }

    #[test]
    fn dash_dash_before_a_statement_is_the_clients_comment() {
        // As the mariadb client: dropped before a statement's first token, whatever follows.
        check(M, "--#2274\nSELECT 1;", &[(2, "SELECT 1")]);
        check(M, "  --indented\nSELECT 1;", &[(2, "SELECT 1")]);
        check(
            M,
            "SELECT 1; --x\nSELECT 2;",
            &[(1, "SELECT 1"), (2, "SELECT 2")],
        );
        check(
            M,
            "/* c */\n--DROP INDEX i ON t;\nSELECT 9;",
            &[(3, "SELECT 9")],
        );
        // Inside a statement it is sent, and the server reads `--foo` as two minus signs.
        check(M, "SELECT 2\n--foo\n, 3;", &[(1, "SELECT 2\n--foo\n, 3")]);
    }

    #[test]
    fn names_sql_mode_finds_it_anywhere_in_any_case() {
        for yes in [
            "sql_mode",
            "SET SQL_MODE = 'ANSI'",
            "set @@session.Sql_Mode='x'",
            "/*!40101 SET SQL_MODE=@OLD_SQL_MODE */",
            "x_y sql_mode",
        ] {
            assert!(names_sql_mode(yes.as_bytes()), "{yes}");
        }
        for no in [
            "",
            "sql_mod",
            "ql_mode",
            "SET sqlmode = 1",
            "sql-mode",
            "_sql_mod",
        ] {
            assert!(!names_sql_mode(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn sql_mode_changes_the_lexing_of_the_rest() {
        // NO_BACKSLASH_ESCAPES: 'a\' is a whole string, so the `;` after it ends the statement.
        check(
            M,
            "SET sql_mode = 'NO_BACKSLASH_ESCAPES';\nSELECT 'a\\';\nSELECT 2;",
            &[
                (1, "SET sql_mode = 'NO_BACKSLASH_ESCAPES'"),
                (2, "SELECT 'a\\'"),
                (3, "SELECT 2"),
            ],
        );
        // Without it, the backslash escapes the quote and the string runs on.
        check_err(M, "SELECT 'a\\';\nSELECT 2;", 1, "unterminated string");
        // ANSI_QUOTES: "a\" is an identifier, where a backslash escapes nothing.
        check(
            M,
            "SET SESSION sql_mode = 'ANSI';\nSELECT \"a\\\";\nSELECT 2;",
            &[
                (1, "SET SESSION sql_mode = 'ANSI'"),
                (2, "SELECT \"a\\\""),
                (3, "SELECT 2"),
            ],
        );
        // A dump restoring its saved mode goes back to the start; GLOBAL changes no session.
        check_err(
            M,
            "/*!40101 SET SQL_MODE='NO_BACKSLASH_ESCAPES' */;\n/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\nSELECT 'a\\';",
            3,
            "unterminated string",
        );
        check_err(
            M,
            "SET GLOBAL sql_mode = 'NO_BACKSLASH_ESCAPES';\nSELECT 'a\\';",
            2,
            "unterminated string",
        );
    }

    #[test]
    fn client_backslash_commands() {
        check(
            M,
            "SELECT 1\\g\nSELECT 2\\G\nSELECT 3;",
            &[(1, "SELECT 1"), (2, "SELECT 2"), (3, "SELECT 3")],
        );
        check(M, "SELECT 'a\\gb';", &[(1, "SELECT 'a\\gb'")]);
        check_err(M, "SELECT 1;\n\\c\n", 2, "mariadb client command");
        check_err(M, "SELECT 1 \\q", 1, "\\q is a mariadb client command");
        for c in [
            "\\c",
            "\\d //",
            "\\T out",
            "\\C utf8",
            "\\W",
            "\\#",
            "\\. f.sql",
            "\\! ls",
            "\\?",
        ] {
            check_err(
                M,
                &format!("SELECT 1;\n{c}\n"),
                2,
                "is a mariadb client command",
            );
        }
    }

    /// `\N` is the server's NULL literal, not a client command (`\n` is): it stays in the
    /// statement, and the byte after a backslash is never a quote or a delimiter.
    #[test]
    fn backslash_n_is_null_not_a_command() {
        check(
            M,
            "INSERT INTO t VALUES (\\N, 'x');\nSELECT \\N;",
            &[(1, "INSERT INTO t VALUES (\\N, 'x')"), (2, "SELECT \\N")],
        );
        check(M, "SELECT 1 \\x;", &[(1, "SELECT 1 \\x")]);
        check(
            M,
            "SELECT \\';\nSELECT 2;",
            &[(1, "SELECT \\'"), (2, "SELECT 2")],
        );
        check_err(M, "SELECT \\n;", 1, "\\n is a mariadb client command");
    }

    #[test]
    fn delimiter_as_the_client_reads_it() {
        check(
            M,
            "DELIMITER '$$'\nSELECT 1$$\nDELIMITER ;\nSELECT 2;",
            &[(2, "SELECT 1"), (4, "SELECT 2")],
        );
        check_err(
            M,
            "SELECT 1; DELIMITER $$\nSELECT 2$$",
            1,
            "DELIMITER must start a line",
        );
    }

    #[test]
    fn executable_comments_hold_quoted_comment_ends() {
        check(
            M,
            "/*!50001 VIEW v AS SELECT 1 FROM t WHERE x <> '*/' */;\nSELECT 2;",
            &[
                (1, "/*!50001 VIEW v AS SELECT 1 FROM t WHERE x <> '*/' */"),
                (2, "SELECT 2"),
            ],
        );
        check(
            M,
            "/*!40101 SET @x = 'a;b' */;",
            &[(1, "/*!40101 SET @x = 'a;b' */")],
        );
        check_err(M, "/*!50001 SELECT '*/ ;", 1, "unterminated");
    }

    #[test]
    fn dash_dash_sqlite_always_comment() {
        check(S, "SELECT 1--1;\n2;", &[(1, "SELECT 1--1;\n2")]);
        check(S, "SELECT 1 --x;\n;", &[(1, "SELECT 1")]);
    }

    #[test]
    fn hash_comment_mysql_only() {
        check(M, "SELECT 1 # c;\n;", &[(1, "SELECT 1")]);
        check(M, "# only\nSELECT 1;", &[(2, "SELECT 1")]);
        check(
            S,
            "SELECT 1 # c; SELECT 2",
            &[(1, "SELECT 1 # c"), (1, "SELECT 2")],
        );
    }

    #[test]
    fn block_comment_semicolons() {
        check_both(
            "SELECT /* ; */ 1; /* ; */ SELECT 2",
            &[(1, "SELECT /* ; */ 1"), (1, "SELECT 2")],
        );
        check_both("SELECT 1 /**/;", &[(1, "SELECT 1")]);
        check_both("SELECT 1/2;", &[(1, "SELECT 1/2")]);
        check_both("SELECT 2*3/*x*/-1;", &[(1, "SELECT 2*3/*x*/-1")]);
    }

    #[test]
    fn mysql_executable_comments_are_statements() {
        check(
            M,
            "/*!40101 SET NAMES utf8 */;\n/*!40014 SET @X=1; SET @Y=2 */;\n/*M!100000 SET z=1 */;",
            &[
                (1, "/*!40101 SET NAMES utf8 */"),
                (2, "/*!40014 SET @X=1; SET @Y=2 */"),
                (3, "/*M!100000 SET z=1 */"),
            ],
        );
    }

    #[test]
    fn mysql_executable_comment_inside_and_trailing() {
        check(
            M,
            "CREATE TABLE t (a INT) /*!50100 ENGINE=InnoDB; */ ;\n",
            &[(1, "CREATE TABLE t (a INT) /*!50100 ENGINE=InnoDB; */")],
        );
        check(M, "/* plain */ /*!1 x */ ;", &[(1, "/*!1 x */")]);
    }

    #[test]
    fn sqlite_executable_comment_is_plain_comment() {
        check(
            S,
            "/*!40101 SET NAMES utf8 */;\nSELECT 1;",
            &[(2, "SELECT 1")],
        );
        check(S, "/*M! x; */", &[]);
    }

    #[test]
    fn mysql_plain_comment_m_without_bang() {
        check(M, "/*M x */ SELECT 1;", &[(1, "SELECT 1")]);
    }

    // --- DELIMITER -----------------------------------------------------------------------

    #[test]
    fn delimiter_dollar_trigger() {
        check(
            M,
            "DELIMITER $$\n\
             CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW\n\
             BEGIN\n\
             \x20 SET NEW.a = 1;\n\
             \x20 SET NEW.b = 'x;y';\n\
             END$$\n\
             DELIMITER ;\n\
             SELECT 1;\n",
            &[
                (
                    2,
                    "CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW\nBEGIN\n  SET NEW.a = 1;\n  SET NEW.b = 'x;y';\nEND",
                ),
                (8, "SELECT 1"),
            ],
        );
    }

    #[test]
    fn delimiter_slashes_procedure() {
        check(
            M,
            "-- setup\nDELIMITER //\n\nCREATE PROCEDURE p()\nBEGIN\n  DECLARE x INT;\n  SELECT x; -- c //\nEND //\n\nCALL p()//\ndelimiter ;\nDROP PROCEDURE p;",
            &[
                (4, "CREATE PROCEDURE p()\nBEGIN\n  DECLARE x INT;\n  SELECT x; -- c //\nEND"),
                (10, "CALL p()"),
                (12, "DROP PROCEDURE p"),
            ],
        );
    }

    #[test]
    fn delimiter_double_semicolon() {
        check(
            M,
            "DELIMITER ;;\nSELECT 1; SELECT 2;;\nSELECT 3;;",
            &[(2, "SELECT 1; SELECT 2"), (3, "SELECT 3")],
        );
    }

    #[test]
    fn delimiter_not_found_in_quotes_or_comments() {
        check(
            M,
            "DELIMITER $$\nSELECT '$$', `$$` /* $$ */ -- $$\n, 1 $$ SELECT 2",
            &[
                (2, "SELECT '$$', `$$` /* $$ */ -- $$\n, 1"),
                (3, "SELECT 2"),
            ],
        );
    }

    #[test]
    fn delimiter_rest_of_line_ignored_and_case_insensitive() {
        check(
            M,
            "  Delimiter $$   ignored\nSELECT 1$$",
            &[(2, "SELECT 1")],
        );
    }

    #[test]
    fn delimiter_only_at_statement_start_and_line_start() {
        check(
            M,
            "SELECT 1, DELIMITER $$;",
            &[(1, "SELECT 1, DELIMITER $$")],
        );
        // Not at the start of a line: the client would send it to the server, which fails.
        check_err(
            M,
            "SELECT 1; DELIMITER $$;",
            1,
            "DELIMITER must start a line",
        );
        check(M, "DELIMITERS $$;", &[(1, "DELIMITERS $$")]);
    }

    #[test]
    fn delimiter_after_comment_lines() {
        check(
            M,
            "SELECT 1;\n/* c */\n-- d\nDELIMITER $$\nSELECT 2$$",
            &[(1, "SELECT 1"), (5, "SELECT 2")],
        );
    }

    #[test]
    fn delimiter_with_crlf() {
        check(
            M,
            "DELIMITER $$\r\nSELECT 1;\r\nSELECT 2$$\r\nDELIMITER ;\r\nSELECT 3;\r\n",
            &[(2, "SELECT 1;\r\nSELECT 2"), (5, "SELECT 3")],
        );
    }

    #[test]
    fn delimiter_without_token_is_error() {
        check_err(
            M,
            "SELECT 1;\nDELIMITER\nSELECT 2;",
            2,
            "without a delimiter",
        );
        check_err(M, "DELIMITER   \n", 1, "without a delimiter");
        check_err(M, "\nDELIMITER", 2, "without a delimiter");
    }

    #[test]
    fn delimiter_in_sqlite_is_error() {
        check_err(
            S,
            "SELECT 1;\n\nDELIMITER $$\n",
            3,
            "DELIMITER is a mysql client command",
        );
        check_err(S, "delimiter //", 1, "mysql client command");
    }

    #[test]
    fn delimiter_last_statement_without_delimiter() {
        check(
            M,
            "DELIMITER $$\nSELECT 1; SELECT 2\n",
            &[(2, "SELECT 1; SELECT 2")],
        );
    }

    // --- SQLite triggers -----------------------------------------------------------------

    #[test]
    fn sqlite_trigger_body() {
        check(
            S,
            "CREATE TRIGGER tr AFTER INSERT ON t\nBEGIN\n  UPDATE u SET n = n + 1;\n  DELETE FROM v;\nEND;\nSELECT 1;",
            &[
                (1, "CREATE TRIGGER tr AFTER INSERT ON t\nBEGIN\n  UPDATE u SET n = n + 1;\n  DELETE FROM v;\nEND"),
                (6, "SELECT 1"),
            ],
        );
    }

    #[test]
    fn sqlite_trigger_case_inside_body() {
        check(
            S,
            "create temp trigger tr before update on t begin\n  select case when new.a then 1 else 2 end;\n  select CASE x WHEN 1 THEN (CASE WHEN y THEN 1 END) END;\nend;\nSELECT 2",
            &[
                (1, "create temp trigger tr before update on t begin\n  select case when new.a then 1 else 2 end;\n  select CASE x WHEN 1 THEN (CASE WHEN y THEN 1 END) END;\nend"),
                (5, "SELECT 2"),
            ],
        );
    }

    #[test]
    fn sqlite_trigger_temporary_and_comments() {
        check(
            S,
            "CREATE /* x */ TEMPORARY -- y\n TRIGGER tr INSERT ON t BEGIN SELECT 'END;'; /* END; */ END /* c */ ;SELECT 3",
            &[
                (1, "CREATE /* x */ TEMPORARY -- y\n TRIGGER tr INSERT ON t BEGIN SELECT 'END;'; /* END; */ END"),
                (2, "SELECT 3"),
            ],
        );
    }

    #[test]
    fn sqlite_trigger_end_at_eof() {
        check(
            S,
            "CREATE TRIGGER tr INSERT ON t BEGIN SELECT 1; END",
            &[(1, "CREATE TRIGGER tr INSERT ON t BEGIN SELECT 1; END")],
        );
    }

    #[test]
    fn sqlite_trigger_when_clause_and_qualified_end() {
        check(
            S,
            "CREATE TRIGGER tr UPDATE ON t WHEN CASE WHEN new.a THEN 1 END BEGIN UPDATE x SET y = new.end; END; SELECT 4",
            &[
                (1, "CREATE TRIGGER tr UPDATE ON t WHEN CASE WHEN new.a THEN 1 END BEGIN UPDATE x SET y = new.end; END"),
                (1, "SELECT 4"),
            ],
        );
    }

    #[test]
    fn sqlite_trigger_words_are_whole() {
        check(
            S,
            "CREATE TRIGGER tr INSERT ON t BEGIN SELECT ending, \"END\", [end], legend; END;",
            &[(
                1,
                "CREATE TRIGGER tr INSERT ON t BEGIN SELECT ending, \"END\", [end], legend; END",
            )],
        );
    }

    #[test]
    fn sqlite_non_trigger_begin_end() {
        check(
            S,
            "BEGIN; SELECT 1; END;",
            &[(1, "BEGIN"), (1, "SELECT 1"), (1, "END")],
        );
        check(
            S,
            "CREATE TABLE tr (a); BEGIN; END;",
            &[(1, "CREATE TABLE tr (a)"), (1, "BEGIN"), (1, "END")],
        );
    }

    #[test]
    fn sqlite_trigger_without_begin() {
        check(
            S,
            "CREATE TRIGGER x; SELECT 1",
            &[(1, "CREATE TRIGGER x"), (1, "SELECT 1")],
        );
    }

    #[test]
    fn mysql_trigger_without_delimiter_splits_at_semicolons() {
        check(
            M,
            "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; END;",
            &[
                (
                    1,
                    "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1",
                ),
                (1, "END"),
            ],
        );
    }

    #[test]
    fn statement_with_error_after_good_ones() {
        check_err(
            S,
            "SELECT 1;\nCREATE TRIGGER t INSERT ON x BEGIN\nSELECT 'a;\nEND;",
            3,
            "unterminated string",
        );
    }

    // --- keywords ------------------------------------------------------------------------

    #[test]
    fn keywords_basic() {
        check_kw("create temp trigger foo", 3, &["CREATE", "TEMP", "TRIGGER"]);
        check_kw("PRAGMA foreign_keys = OFF", 3, &["PRAGMA", "FOREIGN_KEYS"]);
        check_kw("BEGIN", 3, &["BEGIN"]);
        check_kw("start transaction", 2, &["START", "TRANSACTION"]);
        check_kw("SELECT 1", 5, &["SELECT", "1"]);
        check_kw("SET @x = 1", 3, &["SET"]);
    }

    #[test]
    fn keywords_limits() {
        check_kw("CREATE TABLE t (a INT)", 0, &[]);
        check_kw("CREATE TABLE t (a INT)", 2, &["CREATE", "TABLE"]);
        check_kw("", 3, &[]);
        check_kw("   ", 3, &[]);
    }

    #[test]
    fn keywords_skip_comments() {
        check_kw("/* x */ CREATE -- y\n # z\n TABLE", 3, &["CREATE", "TABLE"]);
        check_kw("CREATE/*a*/TRIGGER", 3, &["CREATE", "TRIGGER"]);
        check_kw("CREATE /* unterminated", 3, &["CREATE"]);
    }

    #[test]
    fn keywords_stop_at_executable_comment_and_quotes() {
        check_kw("/*!40101 SET NAMES utf8 */", 3, &[]);
        check_kw("CREATE /*!32312 IF NOT EXISTS*/ TABLE", 3, &["CREATE"]);
        check_kw("/*M!100 SET x */", 3, &[]);
        check_kw("INSERT INTO `t` VALUES", 3, &["INSERT", "INTO"]);
        check_kw("DROP TABLE \"t\"", 3, &["DROP", "TABLE"]);
        check_kw(
            "ALTER TABLE t$x_1 ADD",
            4,
            &["ALTER", "TABLE", "T$X_1", "ADD"],
        );
        check_kw("SELECT\u{e9}x", 3, &["SELECT"]);
    }

    // --- misc invariants -----------------------------------------------------------------

    #[test]
    fn error_display() {
        let e = split("SELECT 'x", M).unwrap_err();
        assert_eq!(e.to_string(), "line 1: unterminated string starting here");
    }

    #[test]
    fn big_line_numbers() {
        let src = format!(
            "{}SELECT 1;\n{}SELECT 2",
            "\n".repeat(10_000),
            "-- c\n".repeat(5000)
        );
        check_both(&src, &[(10_001, "SELECT 1"), (15_002, "SELECT 2")]);
    }

    /// Checks invariants that hold for any successful split.
    fn assert_sane(src: &str, dialect: Dialect) {
        if let Ok(stmts) = split(src, dialect) {
            let mut prev_end = 0;
            for s in &stmts {
                assert!(
                    s.start >= prev_end && s.start < s.end && s.end <= src.len(),
                    "{s:?}"
                );
                let text = s.text(src);
                assert!(
                    !text.starts_with(|c: char| c.is_ascii_whitespace()),
                    "{text:?}"
                );
                assert!(
                    !text.ends_with(|c: char| c.is_ascii_whitespace()),
                    "{text:?}"
                );
                let line = 1 + src[..s.start].matches('\n').count() as u32;
                assert_eq!(s.line, line, "{s:?}");
                prev_end = s.end;
            }
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_strings(src in any::<String>()) {
            assert_sane(&src, M);
            assert_sane(&src, S);
            let _ = keywords(&src, 4);
        }

        #[test]
        fn never_panics_on_syntax_soup(
            src in "([-;'\"`\\\\\\[\\]/*!#$ \t\r\nMaéE]|DELIMITER |delimiter\n|BEGIN |END|CASE |CREATE TRIGGER |/\\*!|\\*/|--){0,60}"
        ) {
            assert_sane(&src, M);
            assert_sane(&src, S);
            let _ = keywords(&src, 4);
        }

        #[test]
        fn generated_files_split_exactly(
            stmts in prop::collection::vec(statement(), 1..12),
            final_delimiter in any::<bool>(),
            tail in prop_oneof![Just(""), Just("\n"), Just("-- end"), Just("\n/* end; */\n")],
        ) {
            let mut src = String::new();
            let mut expected = Vec::new();
            let count = stmts.len();
            for (k, (prefix, text, suffix)) in stmts.iter().enumerate() {
                src.push_str(prefix);
                let line = 1 + src.matches('\n').count() as u32;
                src.push_str(text);
                expected.push((line, text.clone()));
                src.push_str(suffix);
                if k + 1 < count || final_delimiter {
                    src.push(';');
                } else if suffix.is_empty() {
                    src.push('\n');
                }
            }
            src.push_str(tail);
            for dialect in Dialect::ALL {
                let got = split(&src, dialect).map_err(|e| TestCaseError::fail(format!("{e:?} in {src:?}")))?;
                let got: Vec<(u32, String)> =
                    got.iter().map(|s| (s.line, s.text(&src).to_owned())).collect();
                prop_assert_eq!(&got, &expected, "{} {:?}", dialect, src);
            }
        }
    }

    fn token() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z_][a-z0-9_]{0,8}".prop_map(|w| format!("x{w}")),
            "[0-9]{1,5}",
            Just("(".to_owned()),
            Just(")".to_owned()),
            Just(",".to_owned()),
            Just("=".to_owned()),
            Just("*".to_owned()),
            "([a-z ;#*/\"`\n-]|''){0,12}".prop_map(|s| format!("'{s}'")),
            "([a-z ;#*/'`-]|\"\"){0,12}".prop_map(|s| format!("\"{s}\"")),
            "[a-z ;#*/'\"-]{0,12}".prop_map(|s| format!("`{s}`")),
        ]
    }

    fn separator() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            Just(" "),
            Just("\n"),
            Just("  \n\t"),
            Just(" /* c; ' */ "),
            Just(" -- c; ' x\n"),
            Just("\n\n"),
        ]
    }

    /// (prefix, statement text, suffix before the delimiter).
    fn statement() -> impl Strategy<Value = (&'static str, String, &'static str)> {
        let prefix = prop_oneof![
            Just(""),
            Just("\n"),
            Just("-- lead; '\n"),
            Just("/* lead; */\n"),
            Just(";"),
            Just(" ;\n"),
            Just("\n\n/* a\nb */ "),
        ];
        let suffix = prop_oneof![
            Just(""),
            Just(" "),
            Just("\n"),
            Just(" -- trailing; '\n"),
            Just(" /* t; */ "),
        ];
        let body = (token(), prop::collection::vec((separator(), token()), 0..8)).prop_map(
            |(first, rest)| {
                let mut text = first;
                for (sep, tok) in rest {
                    text.push_str(sep);
                    text.push_str(&tok);
                }
                text
            },
        );
        (prefix, body, suffix)
    }

    #[test]
    fn a_lone_go_command_is_no_statement() {
        assert_eq!(split("\\G", M).unwrap(), []);
        check(M, "\\g SELECT 1;", &[(1, "SELECT 1")]);
    }

    #[test]
    fn canonical_drops_comments_and_layout_only() {
        let c = |d, src: &str| canonical_statements(src, d).unwrap();
        let a = "CREATE TABLE t (\n  id INT, -- the key\n  name VARCHAR(5) /* short */ DEFAULT 'a  -- b'\n);\n";
        let b = "-- header\nCREATE   TABLE t (id INT,\n\tname VARCHAR(5) DEFAULT 'a  -- b');";
        for d in [M, S] {
            assert_eq!(c(d, a), c(d, b), "{d:?}");
            assert_eq!(
                c(d, a),
                ["CREATE TABLE t (id INT,name VARCHAR(5) DEFAULT 'a  -- b')"]
            );
            // Inside a string every byte counts.
            assert_ne!(c(d, a), c(d, &a.replace("'a  -- b'", "'a -- b'")));
            // A comment between two tokens keeps them apart.
            assert_eq!(c(d, "SELECT 1/*x*/+2"), ["SELECT 1 +2"]);
            assert_ne!(c(d, "SELECT 1;"), c(d, "SELECT 2;"));
            // Before `(` a space is kept: MySQL reads `COUNT (x)` differently.
            assert_ne!(c(d, "SELECT COUNT(x);"), c(d, "SELECT COUNT (x);"));
        }
        // MySQL: executable comments and optimizer hints are content; `--x` is no comment;
        // `#` is one.
        assert_ne!(c(M, "/*!40101 SET a=1 */;"), c(M, "/*!40101 SET a=2 */;"));
        assert_ne!(
            c(M, "SELECT /*+ BKA(t) */ 1;"),
            c(M, "SELECT /*+ NO_BKA(t) */ 1;")
        );
        assert_eq!(c(M, "SELECT 1 --x\n;"), ["SELECT 1 --x"]);
        assert_eq!(c(M, "SELECT 1 # note\n;"), ["SELECT 1"]);
        assert_eq!(c(S, "SELECT [a b]  -- c\n;"), ["SELECT [a b]"]);
        // Lexed in the file's state: after NO_BACKSLASH_ESCAPES a backslash ends nothing.
        let nbe = "SET sql_mode = 'NO_BACKSLASH_ESCAPES';\nSELECT 'a\\' -- c\n;";
        assert_eq!(c(M, nbe)[1], "SELECT 'a\\'");
        // The same statements however the client delimits them.
        assert_eq!(
            c(M, "DELIMITER //\nCREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW BEGIN SET @a = 1; END//\nDELIMITER ;\n"),
            c(M, "DELIMITER $$\nCREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW\nBEGIN\n  SET @a = 1; -- one\nEND$$\nDELIMITER ;\n"),
        );
    }
}
