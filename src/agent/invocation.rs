//! The plain value an adapter builds to say how to start its agent.
//!
//! Adapters are pure (house style 11): they turn a session's context into an [`Invocation`] and
//! never spawn anything themselves. Only `process` turns an invocation into a process,
//! so process groups, timeouts and pipe handling live in one place. Prompts never go in `args`
//! (they outgrow `ARG_MAX` and show up in `ps`): they come through `stdin` from a file.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Where the child's standard input comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StdinFrom {
    /// `/dev/null`.
    Null,
    /// The contents of this file (the composed prompt).
    File(PathBuf),
}

/// A program to run: everything `process` needs, nothing it has to guess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// A bare name is looked up on `PATH` (the child's `PATH` if `env_set` sets one).
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// Variables set for the child on top of the inherited environment.
    pub env_set: BTreeMap<String, String>,
    /// Variables removed from the inherited environment (applied before `env_set`).
    pub env_remove: Vec<String>,
    pub cwd: PathBuf,
    pub stdin: StdinFrom,
}

impl Invocation {
    pub fn new(program: impl Into<PathBuf>, cwd: impl Into<PathBuf>) -> Self {
        Invocation {
            program: program.into(),
            args: Vec::new(),
            env_set: BTreeMap::new(),
            env_remove: Vec::new(),
            cwd: cwd.into(),
            stdin: StdinFrom::Null,
        }
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// `flag value` when there is a value (`--model sonnet`), nothing otherwise.
    pub fn flag_opt(self, flag: &str, value: Option<impl Into<OsString>>) -> Self {
        match value {
            Some(value) => self.arg(flag).arg(value),
            None => self,
        }
    }

    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env_set.insert(name.into(), value.into());
        self
    }

    pub fn envs(mut self, vars: &BTreeMap<String, String>) -> Self {
        self.env_set
            .extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        self
    }

    pub fn env_remove(mut self, name: impl Into<String>) -> Self {
        self.env_remove.push(name.into());
        self
    }

    pub fn stdin_file(mut self, path: impl AsRef<Path>) -> Self {
        self.stdin = StdinFrom::File(path.as_ref().to_path_buf());
        self
    }

    /// A one-line rendering for messages (`sh -c 'make test'`), not for a shell.
    pub fn display(&self) -> String {
        let mut s = self.program.display().to_string();
        for a in &self.args {
            let a = a.to_string_lossy();
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$`\\".contains(c)) {
                s.push_str(&format!(" '{}'", a.replace('\'', r"'\''")));
            } else {
                s.push(' ');
                s.push_str(&a);
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_and_display() {
        let inv = Invocation::new("sh", "/tmp")
            .args(["-c", "echo 'hi' $X"])
            .env("A", "1")
            .env_remove("B")
            .flag_opt("--model", Some("m"))
            .flag_opt("--none", None::<&str>)
            .stdin_file("/tmp/in");
        assert_eq!(inv.display(), r#"sh -c 'echo '\''hi'\'' $X' --model m"#);
        assert_eq!(inv.env_set.get("A").map(String::as_str), Some("1"));
        assert_eq!(inv.stdin, StdinFrom::File("/tmp/in".into()));
    }
}
