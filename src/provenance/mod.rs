//! What did the spend buy? The join between a run's session records (prompt, agent, model,
//! tokens, cost, status) and the code those sessions wrote, built offline from git alone.
//!
//! - [`index`]: the commit → session index, read from the run refs and cached under
//!   `<git-common-dir>/pitboss/cache/`, keyed by each run's tip, so a second call reads no
//!   history and a new session only adds its own commits.
//! - [`reach`]: whether each session's work reached a target branch, after a merge, a
//!   fast-forward, a rebase or cherry-pick, a squash, or a hand-copy; `unknown` when later
//!   edits make that undecidable.
//! - [`stats`]: the figures of `git pitboss stats`, grouped by prompt, agent, model, run or day.
//! - [`blame`]: git's blame of a file with each line's session (through commits, patch ids,
//!   and the reach evidence `stats` uses), and the facts `why` prints.
//! - [`review`] and [`digest`]: what one run did to its base (`review`), and its Markdown
//!   digest fitted to a pull request's body (`review --md`, `pr`).
//!
//! The commands call one function each: [`stats_of`], [`blame_file`], [`blame_line`],
//! [`review::review`]; those load the index through its cache and save it back.

pub(crate) mod blame;
mod blame_reach;
pub(crate) mod cache;
pub(crate) mod digest;
pub(crate) mod index;
pub(crate) mod reach;
pub(crate) mod review;
pub(crate) mod stats;

use crate::git::GitError;
use crate::store::{RunStore, StoreError};

pub(crate) use blame::BlameLine;
pub(crate) use index::{Index, IndexOptions, RunFacts, SessionFacts};
pub(crate) use reach::{Reach, ReachReport, Target};
pub(crate) use stats::{Group, GroupBy, StatsOptions, StatsReport};

/// Errors of the provenance commands.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProvenanceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("{0:?} does not name a commit")]
    BadTarget(String),
    #[error("{file} has no line {line} (it has {lines})")]
    NoSuchLine {
        file: String,
        line: usize,
        lines: usize,
    },
}

pub(crate) type Result<T, E = ProvenanceError> = std::result::Result<T, E>;

/// `stats`: every session of the index (loaded through its cache, which is saved back), its
/// reach of `target` judged, grouped as `opts` says.
pub(crate) fn stats_of(
    store: &RunStore<'_>,
    target: &Target,
    opts: &StatsOptions,
) -> Result<StatsReport> {
    let index_opts = IndexOptions {
        remote_runs: opts.remote_runs,
        no_cache: false,
    };
    let mut index = Index::load(store, &index_opts)?;
    let verdicts = reach::judge(store.repo(), &mut index, target, opts.remote_runs)?;
    index.save();
    Ok(stats::compute(&index, &verdicts, opts))
}

/// What to blame: a file at a revision (default: the work tree), within git blame's line
/// ranges (`10,20`, `10,+5`, `:funcname`; every line when empty).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlameRequest<'a> {
    pub rev: Option<&'a str>,
    pub file: &'a str,
    pub ranges: &'a [String],
    /// Add the runs fetched from remotes that are not local runs.
    pub remote_runs: bool,
}

/// `blame`: git's blame of a file, each line with the session that wrote it (the index loaded
/// through its cache and saved back).
pub(crate) fn blame_file(store: &RunStore<'_>, req: BlameRequest<'_>) -> Result<Vec<BlameLine>> {
    let index_opts = IndexOptions {
        remote_runs: req.remote_runs,
        no_cache: false,
    };
    let mut index = Index::load(store, &index_opts)?;
    let args = blame::git_args(req.rev, req.file, req.ranges);
    let o = blame::BlameOptions {
        args: &args,
        rev: req.rev,
        remote_runs: req.remote_runs,
    };
    let lines = blame::blame(store.repo(), &mut index, &o)?;
    index.save();
    Ok(lines)
}

/// `why`: the blame of one line of `file` (`req.ranges` is ignored); a line past the end of
/// the file is [`ProvenanceError::NoSuchLine`], naming how many lines the file has.
pub(crate) fn blame_line(
    store: &RunStore<'_>,
    req: BlameRequest<'_>,
    line: usize,
) -> Result<BlameLine> {
    let range = [format!("{line},{line}")];
    let no_such = |lines| ProvenanceError::NoSuchLine {
        file: req.file.to_string(),
        line,
        lines,
    };
    let found = blame_file(
        store,
        BlameRequest {
            ranges: &range,
            ..req
        },
    )
    .map_err(|e| match e {
        // git's own words: "file x has only N lines".
        ProvenanceError::Git(crate::git::GitError::Blame { why }) if why.contains("has only") => {
            no_such(
                why.split_whitespace()
                    .find_map(|w| w.parse().ok())
                    .unwrap_or(0),
            )
        }
        e => e,
    })?;
    found.into_iter().next().ok_or_else(|| no_such(0))
}
