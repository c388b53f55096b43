//! One test's working directory ([`Env`]): a temporary directory, the files a test writes
//! into it (migrations, schema files, configs), and the binary run there ([`Env::cmd`],
//! [`Env::run`], see [`super::run`]).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::run::{Cmd, Run};

/// One test's working directory.
pub struct Env {
    dir: TempDir,
    /// The canonical path of `dir` (on macOS `/tmp` is a symlink; the tool prints real paths).
    root: PathBuf,
}

impl Default for Env {
    fn default() -> Self {
        Self::new()
    }
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::Builder::new()
            .prefix("aurweb-migrate-it.")
            .tempdir()
            .expect("create temp dir");
        let root = dir.path().canonicalize().expect("canonical temp dir");
        Env { dir, root }
    }

    /// The working directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.root.join(rel)
    }

    /// Writes a file (creating parent directories), relative to the working directory.
    pub fn write(&self, rel: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent dir");
        }
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// Writes `migrations/<name>`.
    pub fn migration(&self, name: &str, sql: &str) -> PathBuf {
        self.write(Path::new("migrations").join(name), sql)
    }

    /// Writes `schema/<name>` (`mysql.sql`, `sqlite.sql`).
    pub fn schema_file(&self, name: &str, sql: &str) -> PathBuf {
        self.write(Path::new("schema").join(name), sql)
    }

    pub fn read(&self, rel: impl AsRef<Path>) -> Vec<u8> {
        let path = self.join(rel);
        std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    pub fn exists(&self, rel: impl AsRef<Path>) -> bool {
        self.join(rel).exists()
    }

    pub fn remove(&self, rel: impl AsRef<Path>) {
        let path = self.join(rel);
        std::fs::remove_file(&path).unwrap_or_else(|e| panic!("remove {}: {e}", path.display()));
    }

    /// File names in a directory, sorted.
    pub fn ls(&self, rel: impl AsRef<Path>) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.join(rel))
            .expect("read dir")
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .into_string()
                    .expect("utf-8")
            })
            .collect();
        names.sort();
        names
    }

    /// A command for the binary in this directory, with an empty environment plus PATH, HOME
    /// and a fixed USER.
    pub fn cmd<I, S>(&self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Cmd {
            cwd: self.root.clone(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
        }
    }

    /// Runs the binary to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        self.cmd(args).run()
    }
}
