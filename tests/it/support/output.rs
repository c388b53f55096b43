//! Reading back what the tool printed: the commands a message advises (and running one),
//! integers of a JSON document, checksums.

use serde_json::Value;

use super::db::Db;
use super::run::Run;

/// The commands a message advises, in order: every `` `aurweb-migrate …` `` span of `text`,
/// as the arguments after the program name (so a test can run what the tool told it to).
pub fn advised(text: &str) -> Vec<Vec<String>> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|span| span.strip_prefix("aurweb-migrate "))
        .map(|args| args.split_whitespace().map(str::to_string).collect())
        .collect()
}

impl Db<'_> {
    /// Runs the first command `text` advises that starts with `words` (e.g. `["resolve"]`),
    /// failing when there is none.
    #[track_caller]
    pub fn run_advised(&self, text: &str, words: &[&str]) -> Run {
        let Some(args) = advised(text)
            .into_iter()
            .find(|a| a.len() >= words.len() && a.iter().zip(words).all(|(x, w)| x == w))
        else {
            panic!(
                "no advice starting `aurweb-migrate {}` in:\n{text}",
                words.join(" ")
            )
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(&args)
    }
}

/// `n` as a JSON integer in `v[key]`, failing with the document when it is not.
#[track_caller]
pub fn int(v: &Value, key: &str) -> i64 {
    match v[key].as_i64() {
        Some(n) => n,
        None => panic!("{key} is not an integer in {v:#}"),
    }
}

/// Whether `s` is `sha256-v1:` followed by 64 lowercase hex digits.
pub fn is_checksum(s: &str) -> bool {
    s.strip_prefix("sha256-v1:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}
