//! Library errors on their way to the user: one `From` impl per library error type, each
//! deciding the exit-code class (docs/exit-codes.md: 4 for what the user can fix, 70 for a
//! fault of git, the file system or pitboss) and the hint on what to do.
//!
//! The library says what is wrong; this file alone says how to fix it (house style 6), so the
//! same error reads the same from every command and `?` is all a command needs. Every match
//! over a library error enum names each variant: a new variant does not compile until
//! someone decides its class and its hint here.

use super::exit::{CliError, ErrorKind};
use crate::agent::AgentError;
use crate::gc::GcError;
use crate::gc::rm::RmError;
use crate::git::{BaseError, GitError, NetError};
use crate::grind::error::{GrindError, Refusal};
use crate::grind::resume::{ResumeError, ResumeRefusal};
use crate::plan::budget::StopReason;
use crate::provenance::ProvenanceError;
use crate::report::ReportError;
use crate::rundir::lock::LockError;
use crate::store::dir_read::DirFileError;
use crate::store::layout::LayoutError;
use crate::store::paths::STATE_JSON;
use crate::store::share::ShareError;
use crate::store::{DamagedRun, RUN_REF_PREFIX, RunIdError, StoreError};

/// An error's exit-code class and what to do about it.
struct Class {
    kind: ErrorKind,
    hints: Vec<String>,
}

impl Class {
    fn user() -> Class {
        Class {
            kind: ErrorKind::User,
            hints: Vec::new(),
        }
    }
    fn internal() -> Class {
        Class {
            kind: ErrorKind::Internal,
            hints: Vec::new(),
        }
    }
    fn hint(mut self, h: impl Into<String>) -> Class {
        self.hints.push(h.into());
        self
    }
    fn error(self, e: impl Into<anyhow::Error>) -> CliError {
        let mut err = match self.kind {
            ErrorKind::User => CliError::user(e),
            ErrorKind::Internal => CliError::internal(e),
        };
        err.hints = self.hints;
        err
    }
}

/// What to do about a ref git found locked by another writer.
const REF_LOCKED_HINT: &str = "another git process was updating the same refs in this \
     repository (a fetch or push running at the same time): run the command again";

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        store_class(&e).error(e)
    }
}

fn store_class(e: &StoreError) -> Class {
    match e {
        StoreError::RunNotFound(_) => Class::user().hint("run `git pitboss ls` to list runs"),
        StoreError::Ambiguous { .. } => Class::user().hint("type more characters of the run id"),
        StoreError::InvalidRunId(_) => Class::user()
            .hint("run ids look like 20261124T101500Z-3fa9; `git pitboss ls` lists them"),
        StoreError::DuplicateSeq { .. } => Class::user()
            .hint("leave `seq` out of the record to append it as the next session"),
        StoreError::RunExists(_) => {
            Class::user().hint("choose another id, or `git pitboss ls` to see existing runs")
        }
        StoreError::NotARun { refname, .. } => Class::user().hint(format!(
            "look at it with `git log {refname}`; delete it with `git update-ref -d {refname}` if it is not yours"
        )),
        StoreError::CorruptRecord { run, path, .. } => Class::user().hint(format!(
            "inspect it with `git show {}:{path}`",
            run.ref_name()
        )),
        StoreError::SessionNotFound { run, .. } => {
            Class::user().hint(format!("`git pitboss log {run}` lists its sessions"))
        }
        StoreError::CorruptRun { .. } | StoreError::ImportSource { .. } => Class::user(),
        StoreError::StaleLock { path, .. } => Class::user().hint(format!(
            "see who has it with `fuser -v {0}` and `ps -ef | grep git`; only when no git or \
             git-pitboss process is writing to this repository, remove it: rm {0}",
            path.display()
        )),
        StoreError::Invalid { .. } => Class::user().hint(
            "fix the record or file: teammates' `git pitboss fetch` refuses runs that break these rules",
        ),
        StoreError::Damaged(d) => Class::user().hint(damaged_hint(d)),
        StoreError::RunMismatch { .. } => {
            Class::user().hint("leave `run_id` out of the record, or record into that run")
        }
        StoreError::Contention { .. } => Class::internal(),
        StoreError::Git(g) => git_class(g),
    }
}

impl From<RunIdError> for CliError {
    fn from(e: RunIdError) -> Self {
        StoreError::InvalidRunId(e).into()
    }
}

impl From<GitError> for CliError {
    fn from(e: GitError) -> Self {
        git_class(&e).error(e)
    }
}

/// A git fault met outside repository discovery (see [`discover_error`]): not the user's.
fn git_class(e: &GitError) -> Class {
    match e {
        GitError::Git { .. } if e.is_locked() => Class::internal().hint(format!(
            "{REF_LOCKED_HINT}; if none is running, a killed git left the `.lock` file named \
             above: remove it"
        )),
        GitError::NotARepository { .. }
        | GitError::Unsupported { .. }
        | GitError::Git { .. }
        | GitError::Io { .. }
        | GitError::FastImport { .. }
        | GitError::MissingCommit(_) => Class::internal(),
        GitError::Blame { .. } => Class::user(),
    }
}

/// A repository that cannot be opened where a command runs: the user's to fix.
pub(crate) fn discover_error(e: GitError) -> CliError {
    let hint = match &e {
        GitError::NotARepository { .. } => {
            "run git pitboss inside a git repository (or `git init` one first)"
        }
        GitError::Unsupported { .. } => {
            "use a repository with the default (files) ref format and SHA-1 objects"
        }
        GitError::Git { .. }
        | GitError::Io { .. }
        | GitError::FastImport { .. }
        | GitError::Blame { .. }
        | GitError::MissingCommit(_) => {
            "check that the repository is readable (`git status` should work)"
        }
    };
    CliError::user(e).hint(hint)
}

/// How to bring a damaged run back (its tip commit is missing, see `store/damage.rs`).
pub(crate) fn damaged_hint(d: &DamagedRun) -> String {
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
        share_class(&e).error(e)
    }
}

fn share_class(e: &ShareError) -> Class {
    match e {
        ShareError::Store(s) => store_class(s),
        ShareError::NoRemote => Class::user().hint(
            "add one with `git remote add origin <url>`, or name a remote or URL on the command line; \
             `git config pitboss.remote <remote>` sets the default",
        ),
        ShareError::UnknownRemote { .. } => {
            Class::user().hint("`git remote -v` lists remotes; a URL or a path works too")
        }
        ShareError::BadRemoteName(_) => Class::user().hint(
            "a remote name that can be one has only letters, digits, '.', '_' and '-' (like a run \
             id); or give the remote's URL instead of its name",
        ),
        ShareError::Net(n) => net_class(n),
        ShareError::NotSeen { remote, .. } => Class::user().hint(format!(
            "run `git pitboss fetch {remote}` first, so the deletion is leased on what the remote has"
        )),
        ShareError::BadConfig { key, .. } => Class::user().hint(format!(
            "set a number with `git config {key} <runs>`, or remove it with `git config --unset {key}`"
        )),
        // A remote that answers in a way git does not is the remote's problem, not ours.
        ShareError::Unexpected { .. } => Class::user(),
    }
}

fn net_class(e: &NetError) -> Class {
    match e {
        // Not the remote's fault, nor the user's input: this repository could not be written
        // (the file-system hint of the exit funnel says the rest).
        NetError::Failed { remote, detail, .. } => match local_failure(detail) {
            Some(LocalFailure::FileSystem) => Class::internal(),
            Some(LocalFailure::RefLocked) => Class::internal().hint(REF_LOCKED_HINT),
            None => Class::user().hint(format!(
                "check the remote's address and your access: `git ls-remote {remote}` should work"
            )),
        },
        NetError::Spawn { .. } => Class::internal()
            .hint("pitboss runs your `git` for network work: check that `git --version` works"),
    }
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
        layout_class(&e).error(e)
    }
}

fn layout_class(e: &LayoutError) -> Class {
    match e {
        LayoutError::Store(s) => store_class(s),
        LayoutError::File(f) => dir_file_class(f),
        LayoutError::Io { .. } => Class::internal(),
        LayoutError::NoRunId { .. } => Class::user().hint("give one with --id <run>"),
        LayoutError::MissingFile(_)
        | LayoutError::BadLine { .. }
        | LayoutError::BadFile { .. }
        | LayoutError::DuplicateSeq { .. }
        | LayoutError::UnsafePath { .. }
        | LayoutError::MissingTranscript { .. }
        | LayoutError::TargetNotEmpty(_)
        | LayoutError::TargetNotADirectory { .. } => Class::user(),
    }
}

/// Everything but an I/O failure is something about the run directory the user can fix.
fn dir_file_class(e: &DirFileError) -> Class {
    match e {
        DirFileError::Io { .. } => Class::internal(),
        DirFileError::Symlink(_)
        | DirFileError::NotAFile(_)
        | DirFileError::Outside { .. }
        | DirFileError::NotUtf8(_) => Class::user(),
    }
}

impl From<ProvenanceError> for CliError {
    fn from(e: ProvenanceError) -> Self {
        provenance_class(&e).error(e)
    }
}

fn provenance_class(e: &ProvenanceError) -> Class {
    match e {
        ProvenanceError::Store(s) => store_class(s),
        ProvenanceError::Git(GitError::Blame { .. }) | ProvenanceError::NoSuchLine { .. } => {
            Class::user().hint(
                "check the file name, the line number and the revision (`git blame` takes the \
                 same)",
            )
        }
        ProvenanceError::Git(g) => git_class(g),
        ProvenanceError::BadTarget(_) => Class::user()
            .hint("name a branch, tag or commit, e.g. --target main or --target origin/main"),
    }
}

impl From<ReportError> for CliError {
    fn from(e: ReportError) -> Self {
        let class = match &e {
            ReportError::Store(s) => store_class(s),
            ReportError::Provenance(p) => provenance_class(p),
            ReportError::Chart { .. } | ReportError::Template(_) => Class::internal(),
        };
        class.error(e)
    }
}

impl From<GrindError> for CliError {
    fn from(e: GrindError) -> Self {
        grind_class(&e).error(e)
    }
}

const DRY_RUN_SHOWS_AGENT: &str = "`git pitboss grind --dry-run` shows the agent a run would start";

fn grind_class(e: &GrindError) -> Class {
    match e {
        GrindError::Store(s) => store_class(s),
        GrindError::Git(g) => git_class(g),
        GrindError::Lock(l) => lock_class(l),
        GrindError::Base(b) => base_class(b),
        GrindError::BranchExists(b) => {
            Class::user().hint(format!("delete it (`git branch -D {b}`) or resume its run"))
        }
        GrindError::Refused(r) => Class::user().hint(refusal_hint(r)),
        GrindError::AgentNotFound { .. } => Class::user()
            .hint(
                "install it, set `binary` in [agent] of .pitboss/config.toml, or pass --agent-cmd",
            )
            .hint(DRY_RUN_SHOWS_AGENT),
        GrindError::AgentDoesNotStart { .. } => Class::user()
            .hint("reinstall it; `git pitboss agents` shows what would run")
            .hint(DRY_RUN_SHOWS_AGENT),
        GrindError::Agent(a) => agent_class(a),
        GrindError::Resume(r) => resume_class(r),
        GrindError::Scheduler(_) => Class::user(),
        GrindError::BranchRaced { .. } => Class::internal().hint("try the resume again"),
        GrindError::BranchUnheld { .. } => Class::internal().hint(
            "something outside the run keeps writing the run branch: stop it, then \
             `git pitboss grind --resume`",
        ),
        GrindError::RecoveryUnsure { .. } => Class::internal().hint(
            "nothing was recorded for it yet: check the repository (`git fsck` names what is \
             missing or damaged), then `git pitboss grind --resume` again",
        ),
        GrindError::TakeUpBranch { .. } | GrindError::Io { .. } | GrindError::BranchGone { .. } => {
            Class::internal()
        }
    }
}

impl From<ResumeError> for CliError {
    fn from(e: ResumeError) -> Self {
        resume_class(&e).error(e)
    }
}

/// The state a run stored cannot be taken up again.
fn resume_class(e: &ResumeError) -> Class {
    let run = match e {
        ResumeError::Scheduler { run, .. } | ResumeError::Budgets { run, .. } => run,
    };
    Class::user().hint(format!(
        "inspect the state with `git show {RUN_REF_PREFIX}{run}:{STATE_JSON}`"
    ))
}

impl From<ResumeRefusal> for CliError {
    fn from(e: ResumeRefusal) -> Self {
        let class = match &e {
            ResumeRefusal::Redacted { run, flags, .. } => Class::user().hint(format!(
                "pass {} again, in full: git pitboss grind --resume {run} {} '<as you started it>'",
                flags.join(" and "),
                flags.first().map_or("", String::as_str)
            )),
            ResumeRefusal::OtherAgent { was, now, .. } => {
                let how = if was == "command" {
                    "--agent-cmd '<its command>'".to_string()
                } else {
                    format!("--agent {was}")
                };
                Class::user().hint(format!(
                    "pass {how} to go on as it started, or --agent {now} to switch on purpose"
                ))
            }
        };
        class.error(e)
    }
}

impl From<RmError> for CliError {
    fn from(e: RmError) -> Self {
        let class = match &e {
            RmError::Held { pid, .. } => Class::user().hint(format!(
                "stop that grind first (Ctrl-C in its terminal, or `kill {pid}`), then run rm again"
            )),
            RmError::Lock(l) => lock_class(l),
            RmError::Store(s) => store_class(s),
            RmError::Share(s) => share_class(s),
            RmError::Forget { .. } => Class::internal()
                .hint("delete that file by hand: it may hold a token from grind's command line"),
        };
        class.error(e)
    }
}

impl From<GcError> for CliError {
    fn from(e: GcError) -> Self {
        let class = match &e {
            GcError::Store(s) => store_class(s),
            GcError::Git(g) => git_class(g),
            GcError::Provenance(p) => provenance_class(p),
            GcError::Lock(l) => lock_class(l),
            GcError::Io { .. } => Class::internal(),
        };
        class.error(e)
    }
}

impl From<crate::rundir::skip_target::SkipError> for CliError {
    fn from(e: crate::rundir::skip_target::SkipError) -> Self {
        use crate::rundir::skip_target::SkipError;
        let class = match &e {
            SkipError::Lock(l) => lock_class(l),
            SkipError::Write { .. } => Class::internal(),
            SkipError::NotRunning { .. } => Class::user(),
            SkipError::NoSuchSession { running, .. } if running.is_empty() => Class::user(),
            SkipError::NoSuchSession { run, .. } => {
                Class::user().hint(format!("`git pitboss skip {run} <seq>` with one of them"))
            }
            SkipError::Which { run, .. } => {
                Class::user().hint(format!("say which: git pitboss skip {run} <seq>"))
            }
        };
        class.error(e)
    }
}

impl From<LockError> for CliError {
    fn from(e: LockError) -> Self {
        lock_class(&e).error(e)
    }
}

fn lock_class(e: &LockError) -> Class {
    match e {
        // Only a lock another grind holds: one we cannot even open (a read-only repository)
        // is not a running grind, and the file-system hint of the exit funnel says so.
        LockError::Held { .. } => Class::user()
            .hint("wait for it to finish, or stop it (Ctrl-C in its terminal, or `kill <pid>`)"),
        LockError::Io { .. } => Class::internal(),
    }
}

fn base_class(e: &BaseError) -> Class {
    match e {
        BaseError::Detached => Class::user().hint("check out a branch, or pass --base <branch>"),
        BaseError::NoCommits => {
            Class::user().hint("make a first commit; the run branch starts from it")
        }
        BaseError::NotFound(_) => Class::user(),
        BaseError::Git(g) => git_class(g),
    }
}

fn agent_class(e: &AgentError) -> Class {
    match e {
        AgentError::NotFound { config_key, .. } => {
            Class::user().hint(format!("set {config_key}, or put it on PATH"))
        }
        AgentError::Spawn { .. } | AgentError::NoWorktree { .. } => Class::user(),
        AgentError::Io { .. } => Class::internal(),
    }
}

/// What to do about a run that cannot be resumed.
pub(crate) fn refusal_hint(r: &Refusal) -> String {
    match r {
        Refusal::NotAGrindRun { run } => {
            format!("`git pitboss log {run}` reads it; `git pitboss grind` starts a new run")
        }
        Refusal::BranchMissing { run, branch } => format!(
            "`git pitboss fetch {run}` brings the run with its branch from the default remote \
             (`git pitboss fetch <remote> {run}` from another); if the code lived only here, \
             recreate {branch} where it was (`git branch {} <commit>`, `git reflog` may know the \
             commit), or start a new run",
            crate::git::short_branch(branch)
        ),
        Refusal::BranchCopiesDiverged { .. } => {
            "`git pitboss sync <remote>` merges the run's diverged branches; then resume".into()
        }
        Refusal::BranchNotRunCode { .. } => "do not build on it: push the run's real branch from \
            the clone that made it (`git pitboss push`) and fetch again, or start a new run"
            .into(),
        Refusal::LocalBranchNotRunCode {
            branch, recorded, ..
        } => {
            let short = crate::git::short_branch(branch);
            let keep = format!(
                "keep what it holds now on a branch of its own if you want it (`git branch \
                 <name> {short}`)"
            );
            match recorded {
                Some(tip) => format!(
                    "{keep}, put the run's branch back where its records say it was (`git branch \
                     -f {short} {tip}`; `git reflog {short}` lists where it has been), then \
                     resume again"
                ),
                None => format!("{keep}, then restore {short} from `git reflog {short}`"),
            }
        }
        Refusal::BranchCheckedOut { path, .. } => format!(
            "switch that checkout to another branch (`git -C {} switch <branch>`), then resume again",
            path.display()
        ),
        Refusal::BudgetSpent { reason, .. } => match reason {
            // More than the sessions spent: a resume that lowered the limit spent more.
            StopReason::Iterations { limit, spent } => {
                format!(
                    "pass a larger --max-iterations (more than {})",
                    limit.max(spent)
                )
            }
            StopReason::Time { .. } => "pass a later --until".to_string(),
            StopReason::Cost { spent, .. } => {
                format!("pass a larger --max-cost (more than {})", dollars(*spent))
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

/// An amount of dollars as a flag takes it: to the hundredth of a cent, trailing zeros cut
/// (`0.04`, `0.0412`), so "more than" it never names a figure below what was spent.
fn dollars(usd: f64) -> String {
    let s = format!("{usd:.4}");
    let s = s.trim_end_matches('0');
    s.strip_suffix('.').unwrap_or(s).to_string()
}

/// Output that could not be written: serde_json's own I/O error, so a closed pipe stays quiet.
impl From<serde_json::Error> for CliError {
    fn from(e: serde_json::Error) -> Self {
        CliError::internal(std::io::Error::from(e))
    }
}

#[cfg(test)]
#[path = "errors_tests.rs"]
mod tests;
