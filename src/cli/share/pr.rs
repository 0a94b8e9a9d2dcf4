//! `git pitboss pr <run>` (and `grind --pr`): push the run's branch and history, check that the
//! remote has the branch, then open a pull request from it to the run's base through the
//! forge's tool (`gh`, `glab`), with the run's digest as the body, and record its URL in the run.
//!
//! Failures before the push change nothing (exit 4); once the push has happened, a pull
//! request that could not be opened is exit 1, with what is wrong and how to fix it.

use std::io::Write;

use clap::Args;

use super::remote::{print_push, resolve_remote};
use crate::cli::read::review::digest_of;
use crate::cli::resolve::with_store;
use crate::cli::ui;
use crate::cli::{CliError, CliResult, Ctx, ExitStatus};
use crate::forge::remote::{self, BranchThereError};
use crate::forge::{self, FORGE_KEY, ForgeError, ForgeRepo, PrRequest};
use crate::git::BranchName;
use crate::git::Rejection;
use crate::provenance::review::{Review, review};
use crate::store::share::{PushOptions, PushOutcome, PushReport, RefKind, Remote};
use crate::store::{PullRequest, RUN_BRANCH_PREFIX, Run, RunId, RunStore};

/// Push a run and open a pull request from its branch to its base.
///
/// The run's branch and history go to the remote first (as `git pitboss push` does; the remote
/// defaults to `pitboss.remote`, the current branch's push remote, or origin), and the pull
/// request is opened only once `git ls-remote` shows the remote has the branch. The body is the
/// digest of `git pitboss review --md`. GitHub goes through `gh`, GitLab through `glab`: the
/// forge is `pitboss.forge` (github, gitlab) when set, else read from the remote's host. With
/// neither, the branch is pushed and the digest printed. The URL is recorded in the run, so
/// `show` and `ls` show it.
#[derive(Debug, Args)]
pub(crate) struct PrArgs {
    /// The run: a full id or a unique prefix.
    run: String,
    /// The remote to push to and open the pull request on (a name, URL or path).
    #[arg(long, value_name = "REMOTE")]
    remote: Option<String>,
    /// The branch to merge into (default: the branch the run started from).
    #[arg(long, value_name = "BRANCH")]
    base: Option<String>,
    /// The pull request's title (default: from the rotation and the run).
    #[arg(long, value_name = "TITLE")]
    title: Option<String>,
    /// Open it as a draft.
    #[arg(long)]
    draft: bool,
    /// The repository on the forge, for a remote whose URL names none (a path, a mirror):
    /// `<owner>/<name>` (on github.com, or gitlab.com with `pitboss.forge = gitlab`) or the
    /// repository's https URL.
    #[arg(long, value_name = "OWNER/NAME")]
    repo: Option<String>,
}

/// What `pr` and `grind --pr` ask for.
#[derive(Debug, Clone, Default)]
pub(crate) struct PrOptions {
    pub remote: Option<String>,
    pub base: Option<String>,
    pub title: Option<String>,
    pub draft: bool,
    /// `--repo`: the forge's repository, instead of the one the remote's URL names.
    pub repo: Option<String>,
    /// Print the push report and the URL on stdout (not under `grind --json`, whose stdout is
    /// its events: the URL then goes to stderr).
    pub stdout: bool,
}

/// How far an attempt got before it failed.
pub(crate) enum PrFailure {
    /// Nothing was pushed or written.
    Before(CliError),
    /// The push happened; the pull request was not opened (or not recorded).
    After(CliError),
}

impl PrFailure {
    pub(crate) fn error(&self) -> &CliError {
        match self {
            PrFailure::Before(e) | PrFailure::After(e) => e,
        }
    }
}

pub(crate) fn cmd_pr(ctx: &Ctx, args: PrArgs) -> CliResult {
    let opts = PrOptions {
        remote: args.remote,
        base: args.base,
        title: args.title,
        draft: args.draft,
        repo: args.repo,
        stdout: true,
    };
    with_store(ctx, |store| {
        let id = store.resolve(&args.run).map_err(CliError::from)?;
        match open_pr(ctx, store, &id, &opts) {
            Ok(_) => Ok(ExitStatus::Success),
            Err(PrFailure::Before(e)) => Err(e),
            Err(PrFailure::After(e)) => {
                let _ = std::io::stderr().write_all(e.render().as_bytes());
                Ok(ExitStatus::Failed)
            }
        }
    })
}

/// Pushes the run and opens (or finds) its pull request; its URL.
pub(crate) fn open_pr(
    ctx: &Ctx,
    store: &RunStore<'_>,
    id: &RunId,
    opts: &PrOptions,
) -> Result<String, PrFailure> {
    use PrFailure::{After, Before};
    let p = proposal(store, id, opts).map_err(Before)?;
    push(ctx, store, &p.remote, id, opts.stdout).map_err(After)?;
    let head_ref = p.head.ref_name();
    check_on_remote(store, &p.remote, &head_ref).map_err(After)?;
    if let Some(pr) = p.run.state.pull_request() {
        say_already_open(ctx, id, opts, &pr);
        print_url(ctx, &pr.url, opts.stdout).map_err(|e| After(e.into()))?;
        return Ok(pr.url);
    }
    let body = digest_of(&p.review).map_err(After)?;
    let Some(forge_repo) = &p.forge_repo else {
        return Err(After(no_forge(&p, &body, opts.stdout)));
    };
    let req = PrRequest {
        head: p.head.to_string(),
        base: p.base.clone(),
        title: opts.title.clone().unwrap_or_else(|| {
            let t = &p.review.totals;
            remote::default_title(&p.run, t.sessions, t.landed)
        }),
        body,
        draft: opts.draft,
    };
    let url = forge::open(forge_repo, &req).map_err(|e| After(forge_err(e, forge_repo)))?;
    let pr = PullRequest {
        url: url.clone(),
        forge: forge_repo.forge.as_str().to_string(),
        remote: p.remote.target.clone(),
        head: p.head.into(),
        base: p.base,
        draft: opts.draft,
        opened_at: ctx.clock.now(),
    };
    record_opened(ctx, store, id, &pr, &p.remote).map_err(After)?;
    print_url(ctx, &url, opts.stdout).map_err(|e| After(e.into()))?;
    Ok(url)
}

/// What a pull request would be made of, all checked before anything is pushed.
struct Proposal {
    run: Run,
    review: Review,
    /// The run branch (its short name).
    head: BranchName,
    /// The branch to merge into.
    base: String,
    remote: Remote,
    /// The forge's repository, when the remote is on a forge pitboss knows.
    forge_repo: Option<ForgeRepo>,
}

/// Checks that run `id` can be proposed (it has its branch here and a base, the remote
/// resolves, and the forge's tool is installed) before anything is pushed.
fn proposal(store: &RunStore<'_>, id: &RunId, opts: &PrOptions) -> Result<Proposal, CliError> {
    let run = store.open_run(id)?;
    let review = review(store, &run)?;
    let head = match review.branch.clone() {
        Some(head) => head,
        None => return Err(no_branch(store, &run)?),
    };
    let base = opts
        .base
        .clone()
        .or_else(|| review.base_branch.clone())
        .ok_or_else(|| {
            CliError::user(anyhow::anyhow!("run {id} records no base branch"))
                .hint("name the branch to merge into with --base <branch>")
        })?;
    let remote = resolve_remote(store, opts.remote.as_deref())?;
    let forge_repo = forge_of(store, &remote, opts.repo.as_deref())?;
    if let Some(f) = &forge_repo
        && !on_path(f.forge.program())
    {
        return Err(forge_err(
            ForgeError::Missing {
                program: f.forge.program(),
            },
            f,
        ));
    }
    Ok(Proposal {
        run,
        review,
        head,
        base,
        remote,
        forge_repo,
    })
}

/// Why run `run` has no branch here to propose, and what brings it back: `fetch` when the
/// branch lives elsewhere, the branch recreated at its tip when gc deleted it here after its
/// work reached the target (a tombstone stands, and fetch does not undo gc).
fn no_branch(store: &RunStore<'_>, run: &Run) -> Result<CliError, CliError> {
    let id = &run.id;
    let branch = (run.meta.branch_ref()).unwrap_or_else(|| id.branch_ref());
    let short = branch.short();
    let tomb = match store.branch_tombstone(&branch)? {
        Some(tip) => Some((
            tip,
            store.branch_tombstone_why(&branch)?.unwrap_or_default(),
        )),
        None => None,
    };
    Ok(match tomb {
        Some((tip, why)) => {
            let landed = crate::gc::state_means_landed(&why);
            let (after, already) = if landed {
                (
                    " after its work reached the target",
                    "its work is already on the target; ",
                )
            } else {
                ("", "")
            };
            let why = if why.is_empty() {
                String::new()
            } else {
                format!(" ({why})")
            };
            CliError::user(anyhow::anyhow!(
                "run {id} has no branch here to propose: gc deleted {short}{after}{why}"
            ))
            .hint(format!(
                "{already}to propose it anyway, restore the branch with `git branch {short} \
                 {tip}`, then run `git pitboss pr {id}` again"
            ))
        }
        None => CliError::user(anyhow::anyhow!("run {id} has no branch here to propose")).hint(
            format!("`git pitboss fetch {id}` brings the run with its branch"),
        ),
    })
}

/// The run already has a pull request (which follows its branch): say so, and which of the
/// options given it does not take.
fn say_already_open(ctx: &Ctx, id: &RunId, opts: &PrOptions, pr: &PullRequest) {
    ctx.ui.status(&format!(
        "run {id} already has a pull request, which follows its branch: {}",
        pr.url
    ));
    let title = opts.title.is_some();
    if let Some(unapplied) = remote::unapplied(opts.base.as_deref(), title, opts.draft, pr) {
        ctx.ui.warn(&format!(
            "not applied to the open pull request: {unapplied} (they shape a new one); change it on the forge ({})",
            match pr.forge.as_str() {
                "gitlab" => "`glab mr update`",
                _ => "`gh pr edit`, or its page",
            }
        ));
    }
}

/// The remote is on no forge pitboss knows: the branch is pushed, the digest printed (on
/// stdout, if it is ours), and the error says how to name the forge.
fn no_forge(p: &Proposal, body: &str, stdout: bool) -> CliError {
    if stdout {
        let mut out = ui::stdout();
        let _ = out.write_all(body.as_bytes()).and_then(|()| out.flush());
    }
    CliError::user(anyhow::anyhow!(
        "pushed {}, but {} is on no forge pitboss knows: no pull request opened",
        p.head,
        p.remote.target
    ))
    .hint(format!(
        "for GitHub {}run `git config {FORGE_KEY} github`; \
         for GitLab {}run `git config {FORGE_KEY} gitlab`; \
         or open it by hand with the digest above as its body",
        if on_path("gh") {
            ""
        } else {
            "install `gh` (https://cli.github.com) and "
        },
        if on_path("glab") {
            ""
        } else {
            "install `glab` and "
        },
    ))
}

/// Records the opened pull request in the run, and pushes that record to `remote` (best
/// effort: a failure there is a warning).
fn record_opened(
    ctx: &Ctx,
    store: &RunStore<'_>,
    id: &RunId,
    pr: &PullRequest,
    remote: &Remote,
) -> Result<(), CliError> {
    store.record_pull_request(id, pr).map_err(|e| {
        CliError::from(e).hint(format!("the pull request is open all the same: {}", pr.url))
    })?;
    // The run ref on the remote gets the commit that records the URL too (best effort).
    if let Err(e) = store.push(remote, &run_only(id)) {
        ctx.ui.warn(&format!(
            "recorded the pull request in run {id}, but could not push that to {}: {e}",
            remote.target
        ));
    }
    Ok(())
}

fn print_url(ctx: &Ctx, url: &str, stdout: bool) -> std::io::Result<()> {
    if !stdout {
        ctx.ui.status(&format!("pull request {url}"));
        return Ok(());
    }
    let mut out = ui::stdout();
    writeln!(out, "pull request {url}")?;
    out.flush()
}

fn run_only(id: &RunId) -> PushOptions {
    PushOptions {
        runs: Some(vec![id.clone()]),
        all: false,
        branches: false,
    }
}

/// Pushes the run with its branch; any rejection is an error.
fn push(
    ctx: &Ctx,
    store: &RunStore<'_>,
    remote: &Remote,
    id: &RunId,
    report_on_stdout: bool,
) -> Result<(), CliError> {
    let opts = PushOptions {
        branches: true,
        ..run_only(id)
    };
    let report = store.push(remote, &opts)?;
    if report_on_stdout {
        print_push(ctx, &report)?;
    }
    if report.any_rejected() {
        return Err(rejected(remote, id, &report));
    }
    Ok(())
}

/// A rejected push, with the fix for why it was rejected: `sync` only mends a run that
/// diverged; a hook, a protection or a permission is the remote's to change.
fn rejected(remote: &Remote, id: &RunId, report: &PushReport) -> CliError {
    let reasons: Vec<&Rejection> = report
        .refs
        .iter()
        .filter_map(|r| match &r.outcome {
            PushOutcome::Rejected { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    let what: Vec<String> = report
        .refs
        .iter()
        .filter(|r| r.outcome.is_rejected())
        .map(|r| match r.kind {
            RefKind::Run => format!("run {id}"),
            RefKind::Branch => format!("branch {}", crate::git::short_branch(&r.refname)),
        })
        .collect();
    let err = CliError::user(anyhow::anyhow!(
        "{} rejected the push of {}: no pull request opened",
        remote.target,
        what.join(" and ")
    ));
    let again = format!("then run `git pitboss pr {id}` again");
    if reasons.contains(&&Rejection::Diverged) {
        return err.hint(format!(
            "`git pitboss sync {0} {id}` merges a run that diverged there; {again}",
            remote.target
        ));
    }
    let branches = BranchName::full_prefix(&format!("{RUN_BRANCH_PREFIX}*"));
    err.hint(format!(
        "the remote refused it (its words are above, after `remote:`): have its branch rules or \
         hooks allow `{branches}` and `refs/pitboss/*`, or name another remote with `--remote <remote>`; {again}"
    ))
}

/// Never a pull request for a branch the remote does not have: ask it
/// ([`remote::branch_there`]).
fn check_on_remote(store: &RunStore<'_>, remote: &Remote, head_ref: &str) -> Result<(), CliError> {
    let there = remote::branch_there(store, remote, head_ref).map_err(|e| match e {
        BranchThereError::Git(g) => CliError::from(g),
        BranchThereError::Net(n) => CliError::from(crate::store::share::ShareError::Net(n)),
    })?;
    if there.matches() {
        return Ok(());
    }
    Err(CliError::user(anyhow::anyhow!(
        "{} does not have {head_ref} at {} after the push (it has {}): no pull request opened",
        remote.target,
        there.local.map_or("(none)".into(), |o| o.to_string()),
        there
            .theirs
            .map_or("no such branch".into(), |o| o.to_string()),
    ))
    .hint(format!(
        "check that `git ls-remote {} {head_ref}` shows the branch (a pushurl that differs \
         from the url pushes elsewhere), then run the command again",
        remote.target
    )))
}

/// The forge of a remote ([`remote::forge_of`]), with what to do when it cannot be told.
fn forge_of(
    store: &RunStore<'_>,
    remote: &Remote,
    given: Option<&str>,
) -> Result<Option<ForgeRepo>, CliError> {
    remote::forge_of(store, remote, given)?.map_err(|e| match &e {
        ForgeError::BadForge(_) => CliError::user(e).hint(format!(
            "`git config {FORGE_KEY} github` or `gitlab`, or `git config --unset {FORGE_KEY}` to read it from the URL"
        )),
        _ => CliError::user(e).hint("name the repository with --repo <owner>/<name>, or push to a remote whose URL names it, e.g. https://github.com/<owner>/<repo>.git"),
    })
}

/// A forge error with what to do about it.
fn forge_err(e: ForgeError, repo: &ForgeRepo) -> CliError {
    let host = repo.host.split(':').next().unwrap_or_default().to_string();
    let hint = match (&e, repo.forge) {
        (ForgeError::Missing { .. }, forge::Forge::GitHub) => {
            "install GitHub's CLI (https://cli.github.com; Debian and Ubuntu: `apt-get install gh`), then `gh auth login`".to_string()
        }
        (ForgeError::Missing { .. }, forge::Forge::GitLab) => {
            "install GitLab's CLI (https://gitlab.com/gitlab-org/cli), then `glab auth login`".to_string()
        }
        (ForgeError::NotAuthenticated { .. }, forge::Forge::GitHub) if host == "github.com" => {
            "run `gh auth login` (or set GH_TOKEN), then run the command again".to_string()
        }
        (ForgeError::NotAuthenticated { .. }, forge::Forge::GitHub) => format!(
            "run `gh auth login --hostname {host}` (or set GH_ENTERPRISE_TOKEN), then run the command again"
        ),
        (ForgeError::NotAuthenticated { .. }, forge::Forge::GitLab) => {
            format!("run `glab auth login --hostname {host}`, then run the command again")
        }
        // A retry must never open a second pull request: it is suggested only when the forge
        // said it has none open from the branch.
        (ForgeError::NoUrl { checked: true, head, .. }, _) => format!(
            "{host} has no open pull request from {head}: run the command again to open one"
        ),
        (ForgeError::NoUrl { head, .. }, _) => format!(
            "look on {host} for a pull request from {head} before running the command again \
             (it may be open already; a second run would open another)"
        ),
        (ForgeError::Refused { .. }, _) => {
            "the branch is pushed: fix what the forge says (an open pull request for the branch, a base branch it does not have), then run the command again".to_string()
        }
        _ => "the branch is pushed: run the command again once the forge's tool works".to_string(),
    };
    CliError::user(e).hint(hint)
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| {
            let p = d.join(program);
            p.is_file()
                && std::fs::metadata(&p)
                    .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0)
                    .unwrap_or(false)
        })
    })
}

/// `grind --pr`: after a run that finished with exit 0, open its pull request. A failure is
/// said and leaves grind's exit code alone, unless `--require-pr` (then exit 6).
pub(crate) fn after_grind(
    ctx: &Ctx,
    store: &RunStore<'_>,
    id: &RunId,
    status: ExitStatus,
    require: bool,
    stdout: bool,
) -> ExitStatus {
    if status != ExitStatus::Success {
        ctx.ui.status(&format!(
            "no pull request: the run did not finish cleanly; `git pitboss pr {id}` opens one when you want it"
        ));
        return status;
    }
    let opts = PrOptions {
        stdout,
        ..PrOptions::default()
    };
    match open_pr(ctx, store, id, &opts) {
        Ok(_) => status,
        Err(f) => {
            let _ = std::io::stderr().write_all(f.error().render().as_bytes());
            if require {
                ExitStatus::PrFailed
            } else {
                ctx.ui.status(&format!(
                    "the run itself succeeded; `git pitboss pr {id}` tries the pull request again"
                ));
                status
            }
        }
    }
}
