//! Shared plumbing of the prompt and grind commands: where the project is, where the user's
//! home is, and how paths and problems are shown.
//!
//! The project root is the top of the *current* work tree, because that is where `.pitboss/` is
//! checked out: in a linked worktree (`git worktree add`), the prompts, rotations and config are
//! the ones of the branch checked out there, which is what the user is looking at and editing.
//! The repository's main work tree is not consulted. This is the only place that reads `HOME`.

use std::path::{Path, PathBuf};

use crate::cli::{CliError, CliResult, Ctx};
use crate::fields::{Problem, Severity};
use crate::git::Repo;
use crate::plan::PlanRequest;

/// The user's home directory, from `HOME` (unset or empty: none, so no global prompts).
pub(crate) fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// This process's environment as text, for redaction and the agents' `PATH`. Never
/// `std::env::vars()`: it panics on one variable that is not UTF-8 (`PWD` in a directory whose
/// name is not), and such a variable is kept lossily: its UTF-8 parts are still redacted, and
/// the agents inherit the real environment anyway.
pub(crate) fn env_text<C: FromIterator<(String, String)>>() -> C {
    std::env::vars_os()
        .map(|(k, v)| {
            let text = |s: std::ffi::OsString| {
                s.into_string()
                    .unwrap_or_else(|s| s.to_string_lossy().into_owned())
            };
            (text(k), text(v))
        })
        .collect()
}

/// The top of the current work tree; an error (exit 4) outside a repository or in a bare one.
pub(crate) fn root(ctx: &Ctx) -> CliResult<(Repo, PathBuf)> {
    let repo = ctx.repo()?;
    let Some(root) = repo.workdir().map(clean) else {
        return Err(CliError::user(anyhow::anyhow!(
            "{} is a bare repository: prompts and runs need a work tree",
            repo.git_dir().display()
        ))
        .hint("run this inside a checkout (`git worktree add` makes one)"));
    };
    Ok((repo, root))
}

/// The project root when there is one; `None` outside a repository (global prompts only).
pub(crate) fn root_if_any(ctx: &Ctx) -> Option<PathBuf> {
    Repo::discover(&ctx.cwd)
        .ok()
        .and_then(|r| r.workdir().map(clean))
}

/// git2 hands back work tree paths with a trailing slash.
fn clean(p: &Path) -> PathBuf {
    p.components().collect()
}

/// A plan request with the locations filled in.
pub(crate) fn request(ctx: &Ctx, root: PathBuf, prompts_dir: Option<&Path>) -> PlanRequest {
    PlanRequest {
        root,
        home: home(),
        prompts_dir: prompts_dir.map(|d| ctx.cwd.join(d)),
        ..PlanRequest::default()
    }
}

/// Shows paths the short way: relative to the project root, `~/…` under the home directory,
/// absolute otherwise.
#[derive(Debug, Clone, Default)]
pub(crate) struct Paths {
    pub root: Option<PathBuf>,
    pub home: Option<PathBuf>,
}

impl Paths {
    pub(crate) fn new(root: Option<PathBuf>) -> Paths {
        Paths { root, home: home() }
    }

    pub(crate) fn show(&self, p: &Path) -> String {
        if let Some(rel) = self.root.as_deref().and_then(|r| p.strip_prefix(r).ok()) {
            if rel.as_os_str().is_empty() {
                return ".".into();
            }
            return rel.display().to_string();
        }
        if let Some(rel) = self.home.as_deref().and_then(|h| p.strip_prefix(h).ok()) {
            return format!("~/{}", rel.display());
        }
        p.display().to_string()
    }

    /// `error: path:line: `field`: message` (or `warning: …`).
    pub(crate) fn problem(&self, p: &Problem) -> String {
        let prefix = match p.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        format!("{prefix}: {}", p.render_with(|path| self.show(path)))
    }

    /// A problem without the severity prefix.
    pub(crate) fn bare(&self, p: &Problem) -> String {
        p.render_with(|path| self.show(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_shortened() {
        let paths = Paths {
            root: Some("/r/proj".into()),
            home: Some("/home/u".into()),
        };
        assert_eq!(
            paths.show(Path::new("/r/proj/.pitboss/x.md")),
            ".pitboss/x.md"
        );
        assert_eq!(paths.show(Path::new("/r/proj")), ".");
        assert_eq!(
            paths.show(Path::new("/home/u/.pitboss/g.md")),
            "~/.pitboss/g.md"
        );
        assert_eq!(paths.show(Path::new("/elsewhere/p.md")), "/elsewhere/p.md");
        assert_eq!(clean(Path::new("/a/b/")), PathBuf::from("/a/b"));
    }
}
