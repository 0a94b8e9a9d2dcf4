//! Library errors on their way to the user: one `From` impl per library error type, each
//! deciding the exit-code class (README "Exit codes": 4 for what the user can fix, 70 for a
//! fault of git, the file system or pitboss) and the hint on what to do.
//!
//! The library says what is wrong; this file alone says how to fix it (house style 6), so the
//! same error reads the same from every command and `?` is all a command needs. Every match
//! over a library error enum names each variant: a new variant does not compile until
//! someone decides its class and its hint here.

use super::exit::{CliError, ErrorKind};
use crate::agent::AgentError;
use crate::git::{BaseError, GitError, NetError};
use crate::grind::budget::StopReason;
use crate::grind::lock::LockError;
use crate::grind::reopen::Refusal;
use crate::grind::run::GrindError;
use crate::provenance::ProvenanceError;
use crate::store::dir_read::DirFileError;
use crate::store::layout::LayoutError;
use crate::store::share::ShareError;
use crate::store::{DamagedRun, RunIdError, StoreError};

use ErrorKind::{Internal, User};

/// `error` of class `kind`, with `hint` when there is one.
fn cli(kind: ErrorKind, error: impl Into<anyhow::Error>, hint: Option<String>) -> CliError {
    let e = match kind {
        User => CliError::user(error),
        Internal => CliError::internal(error),
    };
    match hint {
        Some(h) => e.hint(h),
        None => e,
    }
}

/// What to do about a ref git found locked by another writer.
const REF_LOCKED_HINT: &str = "another git process was updating the same refs in this \
     repository (a fetch or push running at the same time): run the command again";

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        let (kind, hint) = match &e {
            StoreError::RunNotFound(_) => (User, Some("run `git pitboss ls` to list runs".into())),
            StoreError::Ambiguous { .. } => {
                (User, Some("type more characters of the run id".into()))
            }
            StoreError::InvalidRunId(_) => (User, Some(run_id_hint())),
            StoreError::DuplicateSeq { .. } => (
                User,
                Some("leave `seq` out of the record to append it as the next session".into()),
            ),
            StoreError::RunExists(_) => (
                User,
                Some("choose another id, or `git pitboss ls` to see existing runs".into()),
            ),
            StoreError::NotARun { refname, .. } => (
                User,
                Some(format!(
                    "look at it with `git log {refname}`; delete it with `git update-ref -d {refname}` if it is not yours"
                )),
            ),
            StoreError::CorruptRecord { run, path, .. } => (
                User,
                Some(format!("inspect it with `git show {}:{path}`", run.ref_name())),
            ),
            StoreError::CorruptRun { .. }
            | StoreError::SessionNotFound { .. }
            | StoreError::ImportSource { .. } => (User, None),
            StoreError::StaleLock { path, .. } => (
                User,
                Some(format!(
                    "see who has it with `fuser -v {0}` and `ps -ef | grep git`; only when no git or \
                     git-pitboss process is writing to this repository, remove it: rm {0}",
                    path.display()
                )),
            ),
            StoreError::Invalid { .. } => (
                User,
                Some(
                    "fix the record or file: teammates' `git pitboss fetch` refuses runs that break these rules"
                        .into(),
                ),
            ),
            StoreError::Damaged(d) => (User, Some(damaged_hint(d))),
            StoreError::RunMismatch { .. } => (
                User,
                Some("leave `run_id` out of the record, or record into that run".into()),
            ),
            StoreError::Contention { .. } => (Internal, None),
            StoreError::Git(g) => (Internal, git_hint(g)),
        };
        cli(kind, e, hint)
    }
}

fn run_id_hint() -> String {
    "run ids look like 20261124T101500Z-3fa9; `git pitboss ls` lists them".into()
}

impl From<RunIdError> for CliError {
    fn from(e: RunIdError) -> Self {
        StoreError::InvalidRunId(e).into()
    }
}

/// What to do about a git fault met outside repository discovery (see [`discover_error`]).
fn git_hint(e: &GitError) -> Option<String> {
    match e {
        GitError::Git { .. } if e.is_locked() => Some(format!(
            "{REF_LOCKED_HINT}; if none is running, a killed git left the `.lock` file named \
             above: remove it"
        )),
        GitError::NotARepository { .. }
        | GitError::Unsupported { .. }
        | GitError::Git { .. }
        | GitError::Io { .. }
        | GitError::FastImport { .. } => None,
    }
}

impl From<GitError> for CliError {
    fn from(e: GitError) -> Self {
        let hint = git_hint(&e);
        cli(Internal, e, hint)
    }
}

/// A repository that cannot be opened where a command runs: the user's to fix.
pub fn discover_error(e: GitError) -> CliError {
    let hint = match &e {
        GitError::NotARepository { .. } => {
            "run git pitboss inside a git repository (or `git init` one first)"
        }
        GitError::Unsupported { .. } => {
            "use a repository with the default (files) ref format and SHA-1 objects"
        }
        GitError::Git { .. } | GitError::Io { .. } | GitError::FastImport { .. } => {
            "check that the repository is readable (`git status` should work)"
        }
    };
    CliError::user(e).hint(hint)
}

/// How to bring a damaged run back (its tip commit is missing, see `store/damage.rs`).
pub fn damaged_hint(d: &DamagedRun) -> String {
    let why = "a `git gc --prune=now` beside a running write can do this";
    match &d.restore {
        Some(oid) => format!(
            "{why}; restore the run's newest intact commit from its reflog (`git reflog {r}`): \
             git update-ref {r} {oid} {tip}; then `git pitboss fetch` brings back later \
             sessions a remote has",
            r = d.refname,
            tip = d.tip
        ),
        None => format!(
            "{why}; its reflog (`git reflog {r}`) has no intact earlier commit: `git pitboss \
             fetch` brings the run back from a remote that has it",
            r = d.refname
        ),
    }
}

impl From<ShareError> for CliError {
    fn from(e: ShareError) -> Self {
        let (kind, hint) = match &e {
            ShareError::Store(_) => match e {
                ShareError::Store(s) => return s.into(),
                _ => unreachable!("matched just above"),
            },
            ShareError::NoRemote => (
                User,
                Some(
                    "add one with `git remote add origin <url>`, or name a remote or URL on the command line; \
                     `git config pitboss.remote <remote>` sets the default"
                        .into(),
                ),
            ),
            ShareError::UnknownRemote { .. } => (
                User,
                Some("`git remote -v` lists remotes; a URL or a path works too".into()),
            ),
            ShareError::BadRemoteName(_) => (User, Some(remote_name_hint())),
            // Not the remote's fault, nor the user's input: this repository could not be
            // written (the file-system hint of the exit funnel says the rest).
            ShareError::Net(NetError::Failed { remote, detail, .. }) => {
                match local_failure(detail) {
                    Some(LocalFailure::FileSystem) => (Internal, None),
                    Some(LocalFailure::RefLocked) => (Internal, Some(REF_LOCKED_HINT.into())),
                    None => (
                        User,
                        Some(format!(
                            "check the remote's address and your access: `git ls-remote {remote}` should work"
                        )),
                    ),
                }
            }
            ShareError::Net(NetError::Spawn { .. }) => (
                Internal,
                Some("pitboss runs your `git` for network work: check that `git --version` works".into()),
            ),
            ShareError::NotSeen { remote, .. } => (
                User,
                Some(format!(
                    "run `git pitboss fetch {remote}` first, so the deletion is leased on what the remote has"
                )),
            ),
            ShareError::BadConfig { key, .. } => (
                User,
                Some(format!(
                    "set a number with `git config {key} <runs>`, or remove it with `git config --unset {key}`"
                )),
            ),
            // A remote that answers in a way git does not is the remote's problem, not ours.
            ShareError::Unexpected { .. } => (User, None),
        };
        cli(kind, e, hint)
    }
}

fn remote_name_hint() -> String {
    "a remote name that can be one has only letters, digits, '.', '_' and '-' (like a run id); \
     or give the remote's URL instead of its name"
        .into()
}

/// A network command that failed on this side, whatever the remote did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LocalFailure {
    /// This repository's file system is read-only or full.
    FileSystem,
    /// A ref here was locked by another git process.
    RefLocked,
}

/// Reads git's own words (`detail` is its stderr gist) for a failure of this repository.
fn local_failure(detail: &str) -> Option<LocalFailure> {
    if [
        "Read-only file system",
        "No space left on device",
        "Out of diskspace",
    ]
    .iter()
    .any(|s| detail.contains(s))
    {
        Some(LocalFailure::FileSystem)
    } else if detail.contains("cannot lock ref")
        || (detail.contains(".lock") && detail.contains("File exists"))
    {
        Some(LocalFailure::RefLocked)
    } else {
        None
    }
}

impl From<LayoutError> for CliError {
    fn from(e: LayoutError) -> Self {
        let kind = match &e {
            LayoutError::Store(_) => match e {
                LayoutError::Store(s) => return s.into(),
                _ => unreachable!("matched just above"),
            },
            LayoutError::File(f) => dir_file_kind(f),
            LayoutError::Io { .. } => Internal,
            LayoutError::MissingFile(_)
            | LayoutError::BadLine { .. }
            | LayoutError::BadFile { .. }
            | LayoutError::DuplicateSeq { .. }
            | LayoutError::UnsafePath { .. }
            | LayoutError::MissingTranscript { .. }
            | LayoutError::NoRunId { .. }
            | LayoutError::TargetNotEmpty(_)
            | LayoutError::TargetNotADirectory { .. } => User,
        };
        cli(kind, e, None)
    }
}

/// Everything but an I/O failure is something about the run directory the user can fix.
fn dir_file_kind(e: &DirFileError) -> ErrorKind {
    match e {
        DirFileError::Io { .. } => Internal,
        DirFileError::Symlink(_)
        | DirFileError::NotAFile(_)
        | DirFileError::Outside { .. }
        | DirFileError::NotUtf8(_) => User,
    }
}

impl From<ProvenanceError> for CliError {
    fn from(e: ProvenanceError) -> Self {
        match e {
            ProvenanceError::Store(s) => s.into(),
            ProvenanceError::Git(g) => g.into(),
            ProvenanceError::BadTarget(_) => CliError::user(e)
                .hint("name a branch, tag or commit, e.g. --target main or --target origin/main"),
            ProvenanceError::Blame(_) | ProvenanceError::NoSuchLine { .. } => CliError::user(e)
                .hint(
                "check the file name, the line number and the revision (`git blame` takes the same)",
            ),
        }
    }
}

impl From<GrindError> for CliError {
    fn from(e: GrindError) -> Self {
        let (kind, hint) = match &e {
            GrindError::Store(_) | GrindError::Git(_) => match e {
                GrindError::Store(s) => return s.into(),
                GrindError::Git(g) => return g.into(),
                _ => unreachable!("matched just above"),
            },
            GrindError::Lock(l) => lock_class(l),
            GrindError::Base(b) => base_class(b),
            GrindError::BranchExists(b) => (
                User,
                Some(format!("delete it (`git branch -D {b}`) or resume its run")),
            ),
            GrindError::Refused(r) => (User, Some(refusal_hint(r))),
            GrindError::AgentNotFound { .. } => {
                return CliError::user(e)
                    .hint("install it, set `binary` in [agent] of .pitboss/config.toml, or pass --agent-cmd")
                    .hint(DRY_RUN_SHOWS_AGENT);
            }
            GrindError::AgentDoesNotStart { .. } => {
                return CliError::user(e)
                    .hint("reinstall it; `git pitboss agents` shows what would run")
                    .hint(DRY_RUN_SHOWS_AGENT);
            }
            GrindError::Agent(a) => agent_class(a),
            GrindError::Scheduler(_)
            | GrindError::Resume(_)
            | GrindError::NotRunning(_)
            | GrindError::NotAGrindRun(_)
            | GrindError::BranchMissing { .. }
            | GrindError::BranchCopiesDiverged { .. } => (User, None),
            GrindError::BranchRaced { .. } => (Internal, Some("try the resume again".into())),
            GrindError::TakeUpBranch { .. } | GrindError::Io { .. } => (Internal, None),
        };
        cli(kind, e, hint)
    }
}

const DRY_RUN_SHOWS_AGENT: &str = "`git pitboss grind --dry-run` shows the agent a run would start";

fn lock_class(e: &LockError) -> (ErrorKind, Option<String>) {
    match e {
        // Only a lock another grind holds: one we cannot even open (a read-only repository)
        // is not a running grind, and the file-system hint of the exit funnel says so.
        LockError::Held { .. } => (
            User,
            Some(
                "wait for it to finish, or stop it (Ctrl-C in its terminal, or `kill <pid>`)"
                    .into(),
            ),
        ),
        LockError::Io { .. } => (Internal, None),
    }
}

fn base_class(e: &BaseError) -> (ErrorKind, Option<String>) {
    match e {
        BaseError::Detached => (
            User,
            Some("check out a branch, or pass --base <branch>".into()),
        ),
        BaseError::NoCommits => (
            User,
            Some("make a first commit; the run branch starts from it".into()),
        ),
        BaseError::NotFound(_) => (User, None),
        BaseError::Git(g) => (Internal, git_hint(g)),
    }
}

fn agent_class(e: &AgentError) -> (ErrorKind, Option<String>) {
    match e {
        AgentError::NotFound { config_key, .. } => {
            (User, Some(format!("set {config_key}, or put it on PATH")))
        }
        AgentError::Spawn { .. } | AgentError::NoWorktree { .. } => (User, None),
        AgentError::Io { .. } => (Internal, None),
    }
}

/// What to do about a run that cannot be resumed.
pub fn refusal_hint(r: &Refusal) -> String {
    match r {
        Refusal::NotAGrindRun { run } => {
            format!("`git pitboss log {run}` reads it; `git pitboss grind` starts a new run")
        }
        Refusal::BranchMissing { run, branch } => format!(
            "`git pitboss fetch {run}` brings the run with its branch from the default remote \
             (`git pitboss fetch <remote> {run}` from another); if the code lived only here, \
             recreate {branch} where it was (`git branch {} <commit>`, `git reflog` may know the \
             commit), or start a new run",
            branch.trim_start_matches("refs/heads/")
        ),
        Refusal::BranchCopiesDiverged { .. } => {
            "`git pitboss sync <remote>` merges the run's diverged branches; then resume".into()
        }
        Refusal::BranchCheckedOut { path, .. } => format!(
            "switch that checkout to another branch (`git -C {} switch <branch>`), then resume again",
            path.display()
        ),
        Refusal::BudgetSpent { reason, .. } => match reason {
            StopReason::Iterations { limit } => {
                format!("pass a larger --max-iterations (more than {limit})")
            }
            StopReason::Time { .. } => "pass a later --until".to_string(),
            StopReason::Cost { spent, .. } => {
                format!("pass a larger --max-cost (more than {spent:.2})")
            }
            StopReason::Tokens { spent, .. } => {
                format!("pass a larger --max-tokens (more than {spent})")
            }
            StopReason::ConsecutiveFailures { .. } => {
                "pass a larger --consecutive-failure-limit (0: no limit)".to_string()
            }
        },
        Refusal::Exhausted { .. } => {
            "raise max_runs in the prompts' frontmatter or the rotation, or start a new run".into()
        }
    }
}

/// Output that could not be written: serde_json's own I/O error, so a closed pipe stays quiet.
impl From<serde_json::Error> for CliError {
    fn from(e: serde_json::Error) -> Self {
        CliError::internal(std::io::Error::from(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_failures_are_not_blamed_on_the_remote() {
        // Recorded from git 2.47.
        let ro = "error: unable to create temporary file: Read-only file system; fatal: failed to write object; fatal: unpack-objects failed";
        assert_eq!(local_failure(ro), Some(LocalFailure::FileSystem));
        let locked = "error: cannot lock ref 'refs/pitboss-remotes/origin/grind/r1': Unable to create '/r/.git/refs/pitboss-remotes/origin/grind/r1.lock': File exists.";
        assert_eq!(local_failure(locked), Some(LocalFailure::RefLocked));
        let remote = "fatal: 'nowhere' does not appear to be a git repository";
        assert_eq!(local_failure(remote), None);
        let e = CliError::from(ShareError::Net(NetError::Failed {
            op: "fetch",
            remote: "origin".into(),
            detail: locked.into(),
        }));
        assert_eq!(e.kind, ErrorKind::Internal);
        assert!(!e.render().contains("address"), "{}", e.render());
        assert!(e.render().contains("same time"), "{}", e.render());
    }
}
