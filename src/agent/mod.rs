//! Agents: one adapter per agent CLI, process supervision, and pure stream parsers.
//!
//! The grind loop calls [`run_session`] with a [`SessionSpec`], an [`Adapter`] (the
//! [`CommandAdapter`], the built-in [`DemoAdapter`], or one per agent CLI: [`ClaudeAdapter`],
//! [`CodexAdapter`], [`GeminiAdapter`], [`AiderAdapter`]), [`Controls`] to
//! stop it and an [`AgentObserver`] for progress, and gets back an [`AgentOutcome`]: how the
//! process ended, what the agent reported (summary, tokens, cost, model), whether it hit a rate
//! limit, and what went into the transcript. This module never imports `store`, `grind` or
//! `cli`; it spawns processes only through `process`, and only [`run_session`] touches the
//! session's files.

mod adapter;
mod aider;
mod ansi;
mod claude;
mod codex;
mod command;
pub(crate) mod demo;
mod gemini;
mod hook;
mod invocation;
mod jsonl;
mod more_shapes;
mod named_value;
mod observer;
mod outcome;
mod own_files;
#[allow(
    clippy::disallowed_methods,
    reason = "the one place an agent's or a hook's invocation becomes a process"
)]
mod process;
pub(crate) mod readable;
pub(crate) mod redact;
mod redact_stream;
pub(crate) mod result_file;
mod secret_shapes;
mod session;
pub(crate) mod transcript;

use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use adapter::Adapter;
pub use aider::AIDER_FLAGS;
pub(crate) use aider::AiderAdapter;
pub use claude::ClaudeAdapter;
pub(crate) use claude::DEFAULT_PERMISSION_MODE;
pub use codex::CODEX_DEFAULT_MODEL;
pub(crate) use codex::{CodexAdapter, DEFAULT_SANDBOX};
pub use command::CommandAdapter;
pub use demo::DemoAdapter;
pub(crate) use gemini::{GEMINI_APPROVAL_MODE, GeminiAdapter};
pub(crate) use hook::{HookOutcome, run_hook};
pub(crate) use invocation::Invocation;
pub(crate) use observer::AgentObserver;
pub use observer::{AgentEvent, Controls, RecordingObserver, StopReason};
pub(crate) use outcome::AgentReport;
pub use outcome::{AgentOutcome, SessionEnd};
pub(crate) use process::{
    ProcessLimits, become_subreaper, end_leftover_group, end_strays, no_cgroups,
};
pub(crate) use redact::Redactor;
pub(crate) use redact_stream::redact_copy;
pub(crate) use session::live_transcript;
pub use session::{SessionSpec, run_session};

/// Failures of the tool itself while running a session. Everything the agent does wrong is
/// data in [`AgentOutcome`] instead.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("agent program `{binary}` not found (config key: {config_key})")]
    NotFound { binary: String, config_key: String },
    #[error("cannot start agent `{command}`")]
    Spawn {
        command: String,
        #[source]
        source: io::Error,
    },
    #[error("agent worktree {path} is not a directory")]
    NoWorktree { path: PathBuf },
    #[error("{what} {path}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl AgentError {
    fn io(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> AgentError {
        let path = path.to_path_buf();
        move |source| AgentError::Io { what, path, source }
    }
}

/// The files an agent shares with pitboss during a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFiles {
    /// The run's shared notes (`PITBOSS_SCRATCHPAD`); the agent reads and edits it.
    pub scratchpad: PathBuf,
    /// Where the agent may write its summary (`PITBOSS_SUMMARY_FILE`).
    pub summary: PathBuf,
    /// Created by `git pitboss skip`, or by the agent, to skip the session
    /// (`PITBOSS_SKIP_FILE`).
    pub skip: PathBuf,
    /// Where the agent may write its result JSON (`PITBOSS_RESULT_FILE`).
    pub result: PathBuf,
}

impl SessionFiles {
    /// `scratchpad.md`, `summary.md`, `skip` and `result.json` in `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        SessionFiles {
            scratchpad: dir.join("scratchpad.md"),
            summary: dir.join("summary.md"),
            skip: dir.join("skip"),
            result: dir.join("result.json"),
        }
    }
}

/// The first `x.y.z` (or `x.y`) in a version line, as numbers.
fn version_numbers(line: &str) -> Option<Vec<u64>> {
    line.split(|c: char| c.is_whitespace() || c == 'v' || c == '(' || c == ')')
        .filter(|w| w.contains('.'))
        .find_map(|w| {
            let core = w.split(['-', '+']).next().unwrap_or(w);
            core.split('.')
                .map(|p| p.parse().ok())
                .collect::<Option<Vec<u64>>>()
        })
}

/// A warning when `version_line` (what `--version` printed) names a version older than
/// `tested`, the one the adapter was tested against.
pub(crate) fn version_warning(agent: &str, version_line: &str, tested: &str) -> Option<String> {
    let (have, want) = (version_numbers(version_line)?, version_numbers(tested)?);
    (have < want).then(|| {
        format!(
            "{agent} {version_line:?} is older than {tested}, the version pitboss is tested with: \
             its output may differ and sessions may be misread; upgrade it"
        )
    })
}

/// Asks an agent program its version (`<program> --version`, stdin closed, in `cwd`): the first
/// non-empty line of its output, or what went wrong, in words for `git pitboss agents`.
pub(crate) fn probe_version(
    program: &Path,
    cwd: &Path,
    timeout: Duration,
) -> Result<String, String> {
    let inv = Invocation::new(program, cwd).arg("--version");
    match process::run_probe(&inv, timeout) {
        Ok(Some(out)) => {
            let text = String::from_utf8_lossy(&out.stdout);
            let line = text.lines().map(str::trim).find(|l| !l.is_empty());
            match (out.status.success(), line) {
                (true, Some(line)) => Ok(line.to_string()),
                _ => {
                    let err = String::from_utf8_lossy(&out.stderr);
                    let why = err.lines().map(str::trim).find(|l| !l.is_empty());
                    Err(format!(
                        "`{} --version` failed ({}){}",
                        program.display(),
                        out.status,
                        why.map(|w| format!(": {w}")).unwrap_or_default()
                    ))
                }
            }
        }
        Ok(None) => Err(format!(
            "`{} --version` did not answer within {}s",
            program.display(),
            timeout.as_secs()
        )),
        Err(e) => Err(format!("cannot run `{} --version`: {e}", program.display())),
    }
}

/// Finds `binary` the way the agent's spawn will: a name with a `/` is taken as a path
/// (relative to `cwd`), a bare name is searched in `path_var` (the `PATH` value, passed in
/// because the library does not read the environment). Only executable files count. Use it to
/// refuse a run before anything is written.
pub(crate) fn locate(binary: &Path, path_var: Option<&OsStr>, cwd: &Path) -> Option<PathBuf> {
    which::which_in(binary, path_var, cwd).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn locate_searches_path_and_takes_paths_as_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("agent");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let plain = dir.path().join("notes");
        std::fs::write(&plain, "").unwrap();
        let path = std::env::join_paths(["/nonexistent", dir.path().to_str().unwrap()]).unwrap();
        let cwd = Path::new("/");
        assert_eq!(
            locate(Path::new("agent"), Some(&path), cwd),
            Some(exe.clone())
        );
        assert_eq!(locate(Path::new("notes"), Some(&path), cwd), None);
        assert_eq!(locate(Path::new("missing"), Some(&path), cwd), None);
        assert_eq!(locate(Path::new("agent"), None, cwd), None);
        assert_eq!(locate(&exe, None, cwd), Some(exe.clone()));
        assert_eq!(
            locate(Path::new("./agent"), None, dir.path()),
            Some(dir.path().join("./agent"))
        );
    }

    #[test]
    fn older_versions_warn() {
        assert_eq!(version_numbers("codex-cli 0.169.0"), Some(vec![0, 169, 0]));
        assert_eq!(
            version_numbers("2.1.197 (Claude Code)"),
            Some(vec![2, 1, 197])
        );
        assert_eq!(version_numbers("aider 0.86.2-dev"), Some(vec![0, 86, 2]));
        assert!(version_warning("codex", "codex-cli 0.44.0", "0.169.0").is_some());
        assert!(version_warning("codex", "codex-cli 0.169.0", "0.169.0").is_none());
        assert!(version_warning("codex", "codex-cli 0.170.1", "0.169.0").is_none());
        assert!(version_warning("codex", "no version here", "0.169.0").is_none());
    }

    #[test]
    fn not_found_names_binary_and_key() {
        let e = AgentError::NotFound {
            binary: "claude".into(),
            config_key: "agent.binary".into(),
        };
        assert_eq!(
            e.to_string(),
            "agent program `claude` not found (config key: agent.binary)"
        );
    }
}
