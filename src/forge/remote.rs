//! What `pr` decides about the remote and the run before and after it pushes: which forge
//! repository the remote is (from `--repo`, `pitboss.forge` and the remote's URL), whether the
//! remote really has the branch after the push, which options an already open pull request does
//! not take, and the default title. The command prints and adds the hints.

use super::{FORGE_KEY, ForgeError, ForgeRepo, detect};
use crate::git::{GitError, NetCommand, NetError, Oid, parse_ls_remote};
use crate::store::share::Remote;
use crate::store::{PullRequest, Run, RunStore};

/// The forge repository of `remote`: from `given` (`--repo`: a URL, or `<owner>/<name>` on the
/// public host of the configured forge, GitHub by default), else from the URL a configured
/// remote has, else from the remote's target itself (a URL or path). `Ok(Ok(None))`: no forge
/// pitboss knows.
pub(crate) fn forge_of(
    store: &RunStore<'_>,
    remote: &Remote,
    given: Option<&str>,
) -> Result<Result<Option<ForgeRepo>, ForgeError>, GitError> {
    let repo = store.repo();
    let known = repo.remote_names()?;
    let configured = repo.config_string(FORGE_KEY).ok().flatten();
    let url = if let Some(g) = given {
        if g.contains("://") {
            g.to_string()
        } else {
            let gitlab = configured.as_deref().map(str::trim) == Some("gitlab");
            let host = if gitlab { "gitlab.com" } else { "github.com" };
            format!("https://{host}/{}", g.trim_matches('/'))
        }
    } else if known.contains(&remote.target) {
        repo.config_string(&format!("remote.{}.url", remote.target))
            .ok()
            .flatten()
            .unwrap_or_default()
    } else {
        remote.target.clone()
    };
    Ok(detect(&url, configured.as_deref()))
}

/// Where `head_ref` points here and on the remote (`git ls-remote`), after a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BranchThere {
    pub local: Option<Oid>,
    pub theirs: Option<Oid>,
}

impl BranchThere {
    /// Never a pull request for a branch the remote does not have as we pushed it.
    pub(crate) fn matches(&self) -> bool {
        self.theirs.is_some() && self.theirs == self.local
    }
}

/// Asks the remote where it has `head_ref`.
pub(crate) fn branch_there(
    store: &RunStore<'_>,
    remote: &Remote,
    head_ref: &str,
) -> Result<BranchThere, BranchThereError> {
    let repo = store.repo();
    let local = repo.ref_target(head_ref)?;
    let cmd = NetCommand::ls_remote(&remote.target, &[head_ref]);
    let out = repo.run_net(&cmd)?;
    let theirs = parse_ls_remote(&out.stdout).ok().and_then(|refs| {
        refs.into_iter()
            .find(|(n, _)| n == head_ref)
            .map(|(_, o)| o)
    });
    Ok(BranchThere { local, theirs })
}

/// Why the remote's branch could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BranchThereError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Net(#[from] NetError),
}

/// The options given for a new pull request that the open one `pr` does not already have, as
/// flags: `--base dev (it targets main)`, `--title`, `--draft`.
pub(crate) fn unapplied(
    base: Option<&str>,
    title: bool,
    draft: bool,
    pr: &PullRequest,
) -> Option<String> {
    let mut flags = Vec::new();
    if let Some(b) = base.filter(|b| *b != pr.base) {
        flags.push(format!("--base {b} (it targets {})", pr.base));
    }
    if title {
        flags.push("--title".to_string());
    }
    if draft && !pr.draft {
        flags.push("--draft".to_string());
    }
    (!flags.is_empty()).then(|| flags.join(", "))
}

/// `pitboss: nightly run <id> (5 sessions, 4 landed)`.
pub(crate) fn default_title(run: &Run, sessions: u64, landed: u64) -> String {
    let what = match &run.meta.rotation {
        Some(rot) => format!("{} run", rot.replace(['\n', '\r'], " ")),
        None => "run".to_string(),
    };
    let s = if sessions == 1 { "" } else { "s" };
    format!(
        "pitboss: {what} {} ({sessions} session{s}, {landed} landed)",
        run.id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_pr(base: &str, draft: bool) -> PullRequest {
        PullRequest {
            url: "https://github.com/o/r/pull/1".into(),
            forge: "github".into(),
            remote: "origin".into(),
            head: "pitboss/x".into(),
            base: base.into(),
            draft,
            opened_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn an_open_pull_request_names_only_the_options_it_does_not_take() {
        let pr = open_pr("main", false);
        assert_eq!(unapplied(Some("main"), false, false, &pr), None);
        assert_eq!(
            unapplied(Some("dev"), true, true, &pr).as_deref(),
            Some("--base dev (it targets main), --title, --draft")
        );
        assert_eq!(unapplied(None, false, true, &open_pr("main", true)), None);
    }

    #[test]
    fn the_branch_is_there_only_at_the_pushed_commit() {
        let a: Oid = "1".repeat(40).parse().unwrap();
        let b: Oid = "2".repeat(40).parse().unwrap();
        let there = |local, theirs| BranchThere { local, theirs }.matches();
        assert!(there(Some(a), Some(a)));
        assert!(!there(Some(a), Some(b)));
        assert!(!there(Some(a), None));
        assert!(!there(None, None));
    }
}
