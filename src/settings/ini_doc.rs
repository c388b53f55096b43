//! aurweb's INI config as a lossless document: every line kept as it was (comments, blank
//! lines, spacing, CRLF or LF per line, a byte-order mark), with the structure Python's
//! `configparser.RawConfigParser` would read from it laid over the lines. [`crate::settings::aurweb_ini`]
//! reads the database settings through it, and [`crate::site_config`] edits it in place:
//! an edit touches only the lines of the section or key it changes.
//!
//! The rules are RawConfigParser's with default arguments and identity `optionxform`:
//! - a line whose first non-blank character is `#` or `;` is a comment, however indented, and
//!   does not end a multi-line value; there are no inline comments;
//! - no interpolation and no escapes: `%` and `\` are taken literally;
//! - `[NAME]` opens a section (text after the last `]` is ignored); `KEY = VALUE` or
//!   `KEY : VALUE` (split at the first `=` or `:`) sets a key; key and value are stripped;
//! - a line indented deeper than its key's line continues the value (joined with `\n`); blank
//!   lines inside a value are kept, trailing ones dropped;
//! - a key before any section, a line that is neither, or the same section or key twice in one
//!   file is an error (strict mode: aurweb refuses such a file too).
//!
//! A UTF-8 byte-order mark is skipped for parsing and kept for writing (aurweb itself opens the
//! file as plain UTF-8 and fails on one: [`Doc::has_bom`] lets callers warn).

/// One key and the lines it spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub key: String,
    /// Line index (0-based) of `KEY = …`.
    pub first: usize,
    /// Line index of the value's last non-blank, non-comment line (`first` for a one-line value).
    pub last: usize,
    /// The value as configparser returns it.
    pub value: String,
}

/// One `[section]` and its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Section {
    pub name: String,
    /// Line index of the header.
    pub header: usize,
    pub entries: Vec<Entry>,
}

impl Section {
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }
}

/// A line that configparser would refuse: 1-based line number and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub line: usize,
    pub message: String,
}

/// A whole INI file.
#[derive(Debug, Clone)]
pub(crate) struct Doc {
    bom: bool,
    /// Each line without its terminator, and the terminator (`"\n"`, `"\r\n"`, or `""` for a
    /// last line without one).
    lines: Vec<(String, &'static str)>,
    /// For each line, the 0-based index of the line of the parsed file it is (or was copied
    /// from); `None` for a line an edit added (a section header, a blank line, the state line).
    origin: Vec<Option<usize>>,
    /// Each line of the parsed file as output may show it, and fully redacted (for a line whose
    /// edited form is a secret's though the file's is not).
    file: std::sync::Arc<Vec<(String, String)>>,
    sections: Vec<Section>,
}

/// A line to insert ([`Doc::insert_entry`]): its text and the file line it was copied from.
pub(crate) type NewLine = (String, Option<usize>);

const BOM: &str = "\u{feff}";

impl Doc {
    /// Parses a file's text (UTF-8, possibly starting with a byte-order mark).
    pub fn parse(text: &str) -> Result<Doc, ParseError> {
        let (bom, body) = match text.strip_prefix(BOM) {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let mut lines = Vec::new();
        let mut rest = body;
        while !rest.is_empty() {
            let (line, end, next) = match rest.find('\n') {
                Some(i) if rest[..i].ends_with('\r') => (&rest[..i - 1], "\r\n", &rest[i + 1..]),
                Some(i) => (&rest[..i], "\n", &rest[i + 1..]),
                None => (rest, "", ""),
            };
            if line.contains('\r') {
                // Python reads the file with universal newlines: a lone CR ends a line there.
                return Err(ParseError {
                    line: lines.len() + 1,
                    message: "a carriage return without a line feed, which aurweb's parser reads as a line break; use LF or CRLF line endings".into(),
                });
            }
            lines.push((line.to_string(), end));
            rest = next;
        }
        let mut doc = Doc {
            bom,
            origin: (0..lines.len()).map(Some).collect(),
            lines,
            file: Default::default(),
            sections: Vec::new(),
        };
        doc.sections = structure(&doc.lines)?;
        let file = (0..doc.lines.len())
            .map(|i| (doc.shown_line(i), doc.redacted_line(i)))
            .collect();
        doc.file = std::sync::Arc::new(file);
        Ok(doc)
    }

    /// Re-reads the structure after an edit of the lines.
    fn reparse(&mut self) {
        self.sections = structure(&self.lines).expect("an edit of a valid document keeps it valid");
    }

    pub fn has_bom(&self) -> bool {
        self.bom
    }

    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    pub fn entry(&self, section: &str, key: &str) -> Option<&Entry> {
        self.section(section).and_then(|s| s.entry(key))
    }

    /// The text of line `index` (0-based), without its terminator.
    pub fn line(&self, index: usize) -> &str {
        &self.lines[index].0
    }

    /// The lines of an entry as messages show them ([`Doc::shown_line`]), joined with `\n`.
    pub fn entry_text(&self, e: &Entry) -> String {
        (e.first..=e.last)
            .map(|i| self.shown_line(i))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Line `index` as a report names it: the 1-based number and the shown text of the line of
    /// the parsed file (the file on disk) it is or was copied from, whatever edits did since.
    /// A line an edit added stands for the nearest file line after it (else before it).
    pub fn file_line(&self, index: usize) -> (usize, String) {
        let after = self.origin[index..].iter().flatten().next();
        let before = self.origin[..index].iter().rev().flatten().next();
        let Some(&o) = after.or(before) else {
            return (1, String::new());
        };
        let (shown, redacted) = &self.file[o];
        // Redacted when any line now taken from it is a secret's (a key renamed to one).
        let secret = (0..self.lines.len())
            .any(|j| self.origin[j] == Some(o) && self.secret_entry(j).is_some());
        (o + 1, if secret { redacted } else { shown }.clone())
    }

    /// The secret entry (a key whose name contains `password` or `secret`, any case) whose
    /// lines include `index`.
    fn secret_entry(&self, index: usize) -> Option<&Entry> {
        self.sections.iter().flat_map(|s| &s.entries).find(|e| {
            (e.first..=e.last).contains(&index) && {
                let k = e.key.to_ascii_lowercase();
                k.contains("password") || k.contains("secret")
            }
        })
    }

    /// Line `index` with the value redacted as if it were a secret's (when it is a key's).
    fn redacted_line(&self, index: usize) -> String {
        let line = &self.lines[index].0;
        match self
            .sections
            .iter()
            .flat_map(|s| &s.entries)
            .find(|e| (e.first..=e.last).contains(&index))
        {
            Some(e) if e.first == index => format!("{}***", &line[..value_start(line)]),
            Some(_) => format!("{}***", &line[..indent(line)]),
            None => line.clone(),
        }
    }

    /// Line `index` as output may show it: the value of a secret (a key whose name contains
    /// `password` or `secret`, any case) replaced by `***`.
    pub fn shown_line(&self, index: usize) -> String {
        let line = &self.lines[index].0;
        let Some(e) = self.secret_entry(index) else {
            return line.clone();
        };
        if index != e.first {
            return format!("{}***", &line[..indent(line)]);
        }
        format!("{}***", &line[..value_start(line)])
    }

    /// The whole file as output may show it (secrets redacted, [`Doc::shown_line`]), LF-ended.
    pub fn shown_text(&self) -> String {
        let mut out = String::new();
        for i in 0..self.lines.len() {
            out.push_str(&self.shown_line(i));
            out.push('\n');
        }
        out
    }

    /// The file's line terminator: CRLF when most lines end so, else LF.
    pub fn newline(&self) -> &'static str {
        let crlf = self.lines.iter().filter(|(_, e)| *e == "\r\n").count();
        if crlf * 2 > self.lines.len() {
            "\r\n"
        } else {
            "\n"
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        if self.bom {
            out.push_str(BOM);
        }
        for (line, end) in &self.lines {
            out.push_str(line);
            out.push_str(end);
        }
        out.into_bytes()
    }

    /// Index of the first line (a comment) whose trimmed text starts with `prefix`.
    pub fn find_comment(&self, prefix: &str) -> Vec<usize> {
        self.lines
            .iter()
            .enumerate()
            .filter(|(_, (l, _))| l.trim_start().starts_with(prefix))
            .map(|(i, _)| i)
            .collect()
    }

    /// Replaces line `index` (a comment) or, with `None`, inserts `text` as the first line.
    pub fn put_comment(&mut self, index: Option<usize>, text: &str) {
        match index {
            Some(i) => self.lines[i].0 = text.to_string(),
            None => {
                let nl = self.newline();
                self.lines.insert(0, (text.to_string(), nl));
                self.origin.insert(0, None);
            }
        }
        self.reparse();
    }

    /// `[from]` becomes `[to]` on its header line; everything else on the line stays.
    pub fn rename_section(&mut self, from: &str, to: &str) {
        let Some(header) = self.section(from).map(|s| s.header) else {
            return;
        };
        let line = &mut self.lines[header].0;
        let open = line.find('[').expect("a header has [");
        let close = line.rfind(']').expect("a header has ]");
        line.replace_range(open + 1..close, to);
        self.reparse();
    }

    /// `KEY` becomes `to` on the key's line; delimiter, spacing and value stay.
    pub fn rename_key(&mut self, section: &str, key: &str, to: &str) {
        let Some(e) = self.entry(section, key) else {
            return;
        };
        let first = e.first;
        let line = &mut self.lines[first].0;
        let start = indent(line);
        line.replace_range(start..start + key.len(), to);
        self.reparse();
    }

    /// Removes the key's lines (comments between its value lines go with it).
    pub fn remove_entry(&mut self, section: &str, key: &str) {
        if let Some(e) = self.entry(section, key) {
            let (first, last) = (e.first, e.last);
            self.lines.drain(first..=last);
            self.origin.drain(first..=last);
            self.reparse();
        }
    }

    /// Removes a whole section: its header and every line up to the next header.
    pub fn remove_section(&mut self, name: &str) {
        let Some(index) = self.sections.iter().position(|s| s.name == name) else {
            return;
        };
        let start = self.sections[index].header;
        let end = self
            .sections
            .get(index + 1)
            .map(|s| s.header)
            .unwrap_or(self.lines.len());
        self.lines.drain(start..end);
        self.origin.drain(start..end);
        self.reparse();
    }

    /// The key's value becomes `value` (one line): the key's line keeps everything up to and
    /// including the spacing after its delimiter; continuation lines are dropped.
    pub fn set_value(&mut self, section: &str, key: &str, value: &str) {
        let Some(e) = self.entry(section, key) else {
            return;
        };
        let (first, last) = (e.first, e.last);
        let end = self.lines[last].1;
        let line = &self.lines[first].0;
        let mut head = line[..value_start(line)].to_string();
        // `k =` with the value on continuation lines: a space before the new value.
        if head.len() == line.len() && head.ends_with(['=', ':']) && !value.is_empty() {
            head.push(' ');
        }
        let new = format!("{head}{value}");
        self.lines.splice(first..=last, [(new, end)]);
        let origin = self.origin[first];
        self.origin.splice(first..=last, [origin]);
        self.reparse();
    }

    /// Copies of the key's lines with the key renamed `to` on its first line, for inserting
    /// elsewhere ([`Doc::insert_entry`]).
    pub fn entry_lines_as(&self, section: &str, key: &str, to: &str) -> Vec<NewLine> {
        let Some(e) = self.entry(section, key) else {
            return Vec::new();
        };
        let mut out: Vec<NewLine> = (e.first..=e.last)
            .map(|i| (self.lines[i].0.clone(), self.origin[i]))
            .collect();
        let start = indent(&out[0].0);
        out[0].0.replace_range(start..start + key.len(), to);
        out
    }

    /// Inserts an entry's lines into `section`: after the key `after` when given and present,
    /// else after the section's last key (or its header). A missing section is added at the end
    /// of the file, after a blank line.
    pub fn insert_entry(&mut self, section: &str, after: Option<&str>, lines: Vec<NewLine>) {
        let nl = self.newline();
        let at = match self.section(section) {
            Some(s) => {
                let anchor = after
                    .and_then(|k| s.entry(k))
                    .or_else(|| s.entries.last())
                    .map(|e| e.last)
                    .unwrap_or(s.header);
                Some(anchor + 1)
            }
            None => None,
        };
        let mut new: Vec<(String, &'static str)> = Vec::new();
        let mut origin: Vec<Option<usize>> = Vec::new();
        let at = match at {
            Some(at) => at,
            None => {
                if let Some(last) = self.lines.last_mut() {
                    if last.1.is_empty() {
                        last.1 = nl;
                    }
                    if !last.0.trim().is_empty() {
                        new.push((String::new(), nl));
                        origin.push(None);
                    }
                }
                new.push((format!("[{section}]"), nl));
                origin.push(None);
                self.lines.len()
            }
        };
        for (line, from) in lines {
            new.push((line, nl));
            origin.push(from);
        }
        // A key inserted after the file's last line, which had no terminator, needs one first.
        if at == self.lines.len() {
            if let Some(last) = self.lines.last_mut() {
                if last.1.is_empty() {
                    last.1 = nl;
                }
            }
        }
        self.lines.splice(at..at, new);
        self.origin.splice(at..at, origin);
        self.reparse();
    }
}

/// How many bytes of blanks `line` starts with.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Where the value starts on a key's line: after the first `=` or `:` and the blanks after it.
fn value_start(line: &str) -> usize {
    let delim = line.find(['=', ':']).expect("a key line has a delimiter");
    let after = &line[delim + 1..];
    delim + 1 + indent(after)
}

/// A key being read, whose value may continue on deeper-indented lines.
struct Pending {
    key: String,
    first: usize,
    last: usize,
    indent: usize,
    parts: Vec<String>,
}

impl Pending {
    fn finish(self) -> Entry {
        Entry {
            key: self.key,
            first: self.first,
            last: self.last,
            value: self.parts.join("\n").trim_end().to_string(),
        }
    }
}

fn structure(lines: &[(String, &'static str)]) -> Result<Vec<Section>, ParseError> {
    let err = |index: usize, message: String| ParseError {
        line: index + 1,
        message,
    };
    let mut sections: Vec<Section> = Vec::new();
    let mut current: Option<Pending> = None;
    for (index, (raw, _)) in lines.iter().enumerate() {
        let stripped = raw.trim();
        if stripped.starts_with('#') || stripped.starts_with(';') {
            continue;
        }
        if stripped.is_empty() {
            if let Some(key) = &mut current {
                key.parts.push(String::new());
            }
            continue;
        }
        let indent = indent(raw);
        if let Some(key) = &mut current {
            if indent > key.indent {
                key.parts.push(stripped.to_string());
                key.last = index;
                continue;
            }
        }
        if let Some(done) = current.take() {
            sections
                .last_mut()
                .expect("a key is inside a section")
                .entries
                .push(done.finish());
        }
        if stripped.starts_with('[') && stripped.len() > 2 {
            if let Some(close) = stripped.rfind(']').filter(|&i| i > 1) {
                let name = stripped[1..close].to_string();
                if sections.iter().any(|s| s.name == name) {
                    return Err(err(index, format!("section [{name}] appears twice")));
                }
                sections.push(Section {
                    name,
                    header: index,
                    entries: Vec::new(),
                });
                continue;
            }
        }
        let Some(section) = sections.last() else {
            return Err(err(index, "a key before the first [section]".into()));
        };
        let Some(delim) = stripped.find(['=', ':']) else {
            return Err(err(index, "expected KEY = VALUE or [SECTION]".into()));
        };
        let key = stripped[..delim].trim_end().to_string();
        if key.is_empty() {
            return Err(err(index, "missing key before \"=\"".into()));
        }
        if section.entry(&key).is_some() {
            return Err(err(
                index,
                format!("key \"{key}\" appears twice in section [{}]", section.name),
            ));
        }
        current = Some(Pending {
            key,
            first: index,
            last: index,
            indent,
            parts: vec![stripped[delim + 1..].trim().to_string()],
        });
    }
    if let Some(done) = current.take() {
        sections
            .last_mut()
            .expect("a key is inside a section")
            .entries
            .push(done.finish());
    }
    Ok(sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Doc {
        Doc::parse(text).unwrap()
    }

    fn text(d: &Doc) -> String {
        String::from_utf8(d.to_bytes()).unwrap()
    }

    #[test]
    fn round_trip_is_byte_identical() {
        for t in [
            "",
            "\u{feff}; c\r\n[a]\r\nk = v\r\n",
            "[a]\nk=v",
            "[a] ; x\n  k :  multi\n    line\n\n ; c\n    more\n\n\n[b]\n",
        ] {
            assert_eq!(text(&doc(t)), t);
        }
    }

    #[test]
    fn a_lone_carriage_return_is_refused() {
        let e = Doc::parse("[a]\r\nk = v\rj = w\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("carriage return"), "{}", e.message);
    }

    #[test]
    fn multi_line_values_and_ranges() {
        let d = doc("[a]\nk = one\n    two\n  # inside\n\n    three\n\nj = 1\n");
        let k = d.entry("a", "k").unwrap();
        assert_eq!(k.value, "one\ntwo\n\nthree");
        assert_eq!((k.first, k.last), (1, 5));
        assert_eq!(d.entry("a", "j").unwrap().first, 7);
    }

    #[test]
    fn edits_touch_only_their_lines() {
        let mut d = doc("; top\r\n[old]  ; note\r\n  Key :   v %(x)s\r\nother=1\r\n");
        d.rename_section("old", "new");
        d.rename_key("new", "Key", "key2");
        assert_eq!(
            text(&d),
            "; top\r\n[new]  ; note\r\n  key2 :   v %(x)s\r\nother=1\r\n"
        );
        d.set_value("new", "other", "2");
        d.set_value("new", "key2", "w");
        assert_eq!(
            text(&d),
            "; top\r\n[new]  ; note\r\n  key2 :   w\r\nother=2\r\n"
        );
        let lines = d.entry_lines_as("new", "other", "third");
        d.insert_entry("new", Some("key2"), lines.clone());
        d.insert_entry("added", None, lines);
        assert_eq!(
            text(&d),
            "; top\r\n[new]  ; note\r\n  key2 :   w\r\nthird=2\r\nother=2\r\n\r\n[added]\r\nthird=2\r\n"
        );
        d.remove_entry("new", "third");
        d.remove_section("added");
        assert_eq!(
            text(&d),
            "; top\r\n[new]  ; note\r\n  key2 :   w\r\nother=2\r\n\r\n"
        );
    }

    #[test]
    fn secrets_are_never_shown() {
        let d =
            doc("[database]\npassword =  hunter2\n    more\nuser = aur\n[sso]\nClient_Secret:x\n");
        assert_eq!(
            d.shown_text(),
            "[database]\npassword =  ***\n    ***\nuser = aur\n[sso]\nClient_Secret:***\n"
        );
    }

    #[test]
    fn file_line_names_the_parsed_file_s_line_through_edits() {
        let mut d = doc("; c\r\n\r\n[a]\r\nk = 1\r\n  more\r\n\r\nj = 2\r\n[b]\r\nx = 3\r\n");
        d.remove_entry("a", "k");
        d.put_comment(None, "# state");
        d.set_value("a", "j", "5");
        let j = d.entry("a", "j").unwrap().first;
        assert_eq!(d.file_line(j), (7, "j = 2".to_string()));
        let x = d.entry("b", "x").unwrap().first;
        assert_eq!(d.file_line(x), (9, "x = 3".to_string()));
        // A copy names the line it was copied from; an added header the next file line.
        let lines = d.entry_lines_as("b", "x", "password");
        d.insert_entry("c", None, lines);
        let c = d.section("c").unwrap();
        assert_eq!(d.file_line(c.header), (9, "x = ***".to_string()));
        let p = d.entry("c", "password").unwrap().first;
        assert_eq!(d.file_line(p), (9, "x = ***".to_string()));
        assert_eq!(d.file_line(0), (1, "; c".to_string()));
    }

    #[test]
    fn set_value_replaces_continuation_lines() {
        let mut d = doc("[a]\nk =\n    x\n    y\nz = 1");
        d.set_value("a", "k", "one");
        assert_eq!(text(&d), "[a]\nk = one\nz = 1");
        d.insert_entry("b", None, vec![("n = 2".into(), None)]);
        assert_eq!(text(&d), "[a]\nk = one\nz = 1\n\n[b]\nn = 2\n");
    }
}
