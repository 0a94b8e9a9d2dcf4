//! The one exit-code funnel (house style 1).
//!
//! Every command returns `Result<ExitStatus, CliError>` (library errors become `CliError`s, with
//! their class and hints, in `errors.rs`); [`finish`] renders errors with their hints and maps
//! everything to the process exit code documented in docs/exit-codes.md. A broken pipe
//! (`git pitboss log … | head`) ends quietly with success.

use std::fmt::Write as _;
use std::process::ExitCode;

/// Process exit codes. One table for every command (docs/exit-codes.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitStatus {
    /// Done, nothing failed.
    Success = 0,
    /// Done, and something the command checked or ran failed (a problem found by `validate`,
    /// a rejected push, a grind with failed sessions).
    Failed = 1,
    /// Stopped by the user.
    Aborted = 2,
    /// A grind stopped by its cost, token or time budget.
    Budget = 3,
    /// Could not do what was asked: bad input, unknown run, bad config, unreadable repository.
    /// Nothing was written.
    Refused = 4,
    /// A grind stopped by its consecutive-failure limit.
    ConsecutiveFailures = 5,
    /// `grind --require-pr`: the run finished cleanly, but its pull request was not opened.
    PrFailed = 6,
    /// The command line itself is wrong (unknown flag, missing argument).
    Usage = 64,
    /// An internal error: git or the file system failed under us, or a bug.
    Internal = 70,
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        ExitCode::from(s as u8)
    }
}

/// What kind of failure an error is, which decides its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// The user can fix it: bad input, unknown name, bad config (exit 4).
    User,
    /// Git, I/O or a bug (exit 70).
    Internal,
}

/// An error on its way to the user: the error chain plus hints on what to do.
#[derive(Debug)]
pub(crate) struct CliError {
    pub kind: ErrorKind,
    pub error: anyhow::Error,
    pub hints: Vec<String>,
}

impl CliError {
    pub(crate) fn user(error: impl Into<anyhow::Error>) -> Self {
        CliError {
            kind: ErrorKind::User,
            error: error.into(),
            hints: Vec::new(),
        }
    }

    pub(crate) fn internal(error: impl Into<anyhow::Error>) -> Self {
        CliError {
            kind: ErrorKind::Internal,
            error: error.into(),
            hints: Vec::new(),
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    fn is_broken_pipe(&self) -> bool {
        self.error.chain().any(|e| {
            e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        })
    }

    /// The text printed to stderr: `error: <chain joined by ": ">` then `hint: …` lines.
    pub(crate) fn render(&self) -> String {
        let mut out = String::from("error: ");
        let mut first = true;
        for cause in self.error.chain() {
            let text = cause.to_string();
            // thiserror messages often already include their source; do not say it twice.
            if !first && out.contains(&text) {
                continue;
            }
            if !first {
                out.push_str(": ");
            }
            out.push_str(&text);
            first = false;
        }
        out.push('\n');
        for h in &self.hints {
            let _ = writeln!(out, "hint: {h}");
        }
        out
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::internal(e)
    }
}

pub(crate) type CliResult<T = ExitStatus> = Result<T, CliError>;

/// Renders the outcome of a command and turns it into the process exit code.
pub(crate) fn finish(result: CliResult) -> ExitCode {
    match result {
        Ok(status) => status.into(),
        Err(e) if e.is_broken_pipe() => ExitStatus::Success.into(),
        Err(e) => {
            let e = with_file_system_hint(e);
            // Not `eprint!`, which panics when stderr is gone (a closed terminal).
            let _ = std::io::Write::write_all(&mut std::io::stderr(), e.render().as_bytes());
            match e.kind {
                ErrorKind::User => ExitStatus::Refused.into(),
                ErrorKind::Internal => ExitStatus::Internal.into(),
            }
        }
    }
}

/// A full disk or a read-only file system is said as such, whichever command met it.
fn with_file_system_hint(e: CliError) -> CliError {
    let os = |code: i32| {
        e.error.chain().any(|c| {
            c.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.raw_os_error() == Some(code))
        })
    };
    let text = format!("{:#}", e.error);
    if os(28) || text.contains("No space left on device") || text.contains("Out of diskspace") {
        e.hint("the disk holding the repository is full: free some space and run the command again")
    } else if os(30) || text.contains("Read-only file system") {
        e.hint("the repository is on a read-only file system: git-pitboss needs to write to it (remount it read-write, or work in a clone)")
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_joins_causes_once_and_adds_hints() {
        let inner = std::io::Error::other("disk full");
        let e = CliError::internal(anyhow::Error::new(inner).context("cannot write x"))
            .hint("free some space");
        assert_eq!(
            e.render(),
            "error: cannot write x: disk full\nhint: free some space\n"
        );
    }

    #[test]
    fn full_and_read_only_file_systems_are_named() {
        let full = CliError::internal(
            anyhow::Error::new(std::io::Error::from_raw_os_error(28)).context("cannot write"),
        );
        let r = with_file_system_hint(full).render();
        assert!(
            r.contains("No space left on device") && r.contains("hint: the disk"),
            "{r}"
        );
        let ro = CliError::internal(anyhow::anyhow!("x: Read-only file system; class=Os (2)"));
        assert!(
            with_file_system_hint(ro)
                .render()
                .contains("read-only file system: git-pitboss")
        );
        let other = CliError::internal(anyhow::anyhow!("other"));
        assert!(with_file_system_hint(other).hints.is_empty());
    }

    #[test]
    fn broken_pipe_is_quiet_success() {
        let e = CliError::internal(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(e.is_broken_pipe());
    }
}
