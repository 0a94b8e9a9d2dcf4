//! Run worktrees and the working files of runs, as gc sees them.
//!
//! A worktree `pitboss-<id>-<slot>` (under `<git-common-dir>/pitboss/worktrees/<id>/<slot>`) is
//! removed when its run is finished or deleted, or stopped and `--stopped` was given; never
//! while a grind holds the run, never for an interrupted run (`--resume` records its last
//! session from it). One with work that is not on its branch (uncommitted, untracked, or
//! commits off the branch) is kept, unless `--force`: then the work is saved first as
//! `patches/<bucket>/resume-<seq>.patch` in the run ref, the same file `grind --resume` saves
//! such work in. A run that is gone has nowhere to save it, so its dirty worktree is kept even
//! then.
//!
//! Working files (`runs/<id>/`, `locks/<id>.lock`, `events/<id>*`, an empty
//! `worktrees/<id>/`) follow the same rule; the run ref holds what they held once the run's
//! sessions are recorded, so deleting them needs no restore. What a worktree removal killed
//! halfway left in `<git-common-dir>/pitboss/trash/` goes too, whatever its run: the worktree
//! was already gone from git, its restore command printed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{Action, GcOptions, Kind, Op, Result, Row, RunState};
use crate::git::{BranchName, Oid, RefName, Repo};
use crate::rundir;
use crate::store::{RunId, RunStore};

/// How many commits a worktree's HEAD has that no ref of the repository reaches: removing the
/// worktree would leave them reachable from nothing (a patch keeps their change, not them).
/// A remote-tracking ref does not count: it may be stale, and a pruning fetch drops it.
pub(crate) fn commits_nowhere_else(wt: &Repo, repo: &Repo) -> Result<usize> {
    let head = wt.worktree_state()?.head;
    let refs: Vec<Oid> = repo
        .refs_with_prefix("refs/")?
        .into_iter()
        .filter(|(n, _)| !RefName::from_git(n.as_str()).is_remote_tracking())
        .map(|(_, o)| o)
        .collect();
    Ok(repo.commits_not_in_any(head, &refs, 10_000)?.len())
}

/// Work in a worktree that is not on its branch, in words (`None` when there is none).
pub(crate) fn unsaved_work(
    wt: &Repo,
    repo: &Repo,
    branch: Option<&BranchName>,
) -> Result<Option<String>> {
    let state = wt.worktree_state()?;
    if state.dirty {
        return Ok(Some("uncommitted work".into()));
    }
    let tip = match branch {
        Some(b) => repo.branch_tip(b)?,
        None => None,
    };
    match tip {
        Some(t) if state.head == t || repo.is_ancestor(state.head, t)? => Ok(None),
        _ if branch.is_none() => Ok(Some("a detached HEAD".into())),
        _ => Ok(Some("commits not on its branch".into())),
    }
}

pub(super) fn worktree_rows(store: &RunStore<'_>, opts: &GcOptions) -> Result<Vec<Row>> {
    let mut states: BTreeMap<RunId, RunState> = BTreeMap::new();
    let mut rows = Vec::new();
    for name in store.repo().worktree_names()? {
        if let Some(found) = look_at(store, &mut states, name)? {
            rows.push(judge(store.repo(), opts, found)?);
        }
    }
    Ok(rows)
}

/// A run's worktree as gc finds it.
struct Found {
    id: RunId,
    state: RunState,
    name: String,
    path: PathBuf,
    /// The worktree, when its directory is there.
    wt: Option<Repo>,
    branch: Option<BranchName>,
    /// What it holds that is not on its branch, in words.
    work: Option<String>,
}

/// The worktree `name`, if it is a run's: by name (`pitboss-<id>-<slot>`, what grind makes),
/// or by place (one a restore command added again is named after its directory).
fn look_at(
    store: &RunStore<'_>,
    states: &mut BTreeMap<RunId, RunState>,
    name: String,
) -> Result<Option<Found>> {
    let repo = store.repo();
    let Some(id) = crate::rundir::slots::run_of_worktree(repo, &name) else {
        return Ok(None);
    };
    let state = match states.get(&id) {
        Some(s) => s.clone(),
        None => {
            let s = RunState::of(store, &id)?;
            states.insert(id.clone(), s.clone());
            s
        }
    };
    let registered = repo.worktree_registered_path(&name);
    let path = registered.clone().unwrap_or_else(|| {
        crate::rundir::run_worktrees(repo.common_dir(), &id)
            .join(name.rsplit('-').next().unwrap_or("0"))
    });
    let wt = registered
        .as_deref()
        .filter(|p| p.is_dir())
        .and_then(|p| Repo::open(p).ok());
    let branch = wt.as_ref().and_then(|w| w.current_branch().ok().flatten());
    let work = match &wt {
        Some(w) => unsaved_work(w, repo, branch.as_ref())?,
        None => None,
    };
    Ok(Some(Found {
        id,
        state,
        name,
        path,
        wt,
        branch,
        work,
    }))
}

/// What gc may do with a run's worktree, and why.
fn judge(repo: &Repo, opts: &GcOptions, f: Found) -> Result<Row> {
    let Found {
        id,
        state,
        name,
        path,
        wt,
        branch,
        work,
    } = f;
    let row = Row::keep(
        Kind::Worktree,
        path.display().to_string(),
        Some(id.clone()),
        &match (&work, &wt) {
            (Some(w), _) => format!("{}, {w}", state.label()),
            (None, None) => format!("{}, its directory is gone", state.label()),
            (None, Some(_)) => format!("{}, clean", state.label()),
        },
    );
    if let Some(why) = state.kept_for_resume(&id, opts.stopped, "this worktree") {
        return Ok(row.because(why));
    }
    if repo.worktree_locked(&name) {
        return Ok(row.because(format!(
            "it is locked (`git worktree unlock {}` lets it go)",
            shell_path(&path)
        )));
    }
    if let Some(w) = &wt
        && work.is_some()
    {
        let n = commits_nowhere_else(w, repo)?;
        if n > 0 {
            return Ok(row.because(format!(
                "kept, always: its HEAD has {n} commit{} on no branch or tag, which would \
                 be reachable from nothing without it; `git -C {} branch <name>` keeps them \
                 on a branch",
                if n == 1 { "" } else { "s" },
                shell_path(&path)
            )));
        }
    }
    let mut row = match (&work, &state) {
        (Some(w), RunState::Gone) => {
            return Ok(row.because(format!(
                "it holds {w} and its run is deleted, so there is nowhere to save it; look \
                 at it and remove it by hand (`git worktree remove --force {}`)",
                path.display()
            )));
        }
        (Some(w), _) if !opts.force => {
            return Ok(row.because(format!(
                "it holds {w} (--force saves it as a patch in the run ref, then removes it)"
            )));
        }
        (Some(w), _) => {
            let mut row = row.because(format!(
                "--force: what it holds ({w}) is saved as patches/…/resume-<seq>.patch in {} first",
                id.ref_name()
            ));
            row.action = Action::SaveAndDelete;
            row
        }
        (None, _) => {
            let why = match &state {
                RunState::Gone => "its run is deleted".to_string(),
                RunState::Finished => "the run is finished; its work is on its branch".into(),
                _ => "--stopped: the run will not be resumed; its work is on its branch".into(),
            };
            let mut row = row.because(why);
            row.action = Action::Delete;
            row
        }
    };
    // `-f`: a gc killed between removing the directory and its registration leaves the
    // worktree registered with its directory gone, which plain `add` refuses.
    row.restore = branch
        .as_ref()
        .map(|b| format!("git worktree add -f {} {b}", shell_path(&path)));
    row.op = Op::Worktree { name, path, branch };
    Ok(row)
}

/// The working files of every run that has some, one row per run.
pub(super) fn file_rows(store: &RunStore<'_>, opts: &GcOptions) -> Result<Vec<Row>> {
    let repo = store.repo();
    let common = repo.common_dir();
    let registered: Vec<PathBuf> = repo
        .worktree_names()?
        .iter()
        .filter_map(|n| repo.worktree_path(n))
        .collect();
    let mut by_run: BTreeMap<RunId, Vec<PathBuf>> = BTreeMap::new();
    let mut add = |id: Option<RunId>, p: PathBuf| {
        if let Some(id) = id {
            by_run.entry(id).or_default().push(p);
        }
    };
    for p in entries(&rundir::runs_dir(common)) {
        add(id_of(&p, ""), p);
    }
    for p in entries(&rundir::locks_dir(common)) {
        add(id_of(&p, rundir::LOCK_SUFFIX), p);
    }
    for p in entries(&rundir::old_events_dir(common)) {
        let id = p
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.split('.').next())
            .and_then(|n| RunId::parse(n).ok());
        add(id, p);
    }
    for p in entries(&rundir::worktrees_dir(common)) {
        // Only a directory no registered worktree lives in (what a crash or a hand removal
        // leaves); the worktrees themselves are rows of their own.
        if !registered.iter().any(|w| w.starts_with(&p)) {
            add(id_of(&p, ""), p);
        }
    }
    let mut rows = Vec::new();
    for (id, paths) in by_run {
        let state = RunState::of(store, &id)?;
        let shown = paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let row = Row::keep(Kind::Files, shown, Some(id.clone()), &state.label());
        let what = files_named(common, &paths);
        // A resume needs the run's working files, not its lock file (a lock no process holds).
        let needed = match files_named(common, &paths_but_locks(common, &paths)) {
            n if n == "working files" => "these files".to_string(),
            n => format!("its {n}"),
        };
        if let Some(why) = state.kept_for_resume(&id, opts.stopped, &needed) {
            rows.push(row.because(why));
            continue;
        }
        let mut row = row.because(match state {
            RunState::Gone => format!("its run is deleted: nothing reads its {what} any more"),
            _ => format!(
                "the run is finished, all of it in its ref: nothing reads its {what} any more"
            ),
        });
        row.action = Action::Delete;
        row.op = Op::Files { paths };
        rows.push(row);
    }
    Ok(rows)
}

/// What a removal killed halfway left in the trash (`<git-common-dir>/pitboss/trash/`): a
/// worktree gc or grind was deleting, after its work was saved and its restore command printed.
/// One row each; nothing to restore from it.
pub(super) fn trash_rows(store: &RunStore<'_>) -> Vec<Row> {
    entries(&store.repo().trash_dir())
        .into_iter()
        .map(|p| {
            let row = Row::keep(Kind::Files, p.display().to_string(), None, "left halfway");
            let mut row = row.because(
                "a worktree a killed gc or grind was removing: it was already gone from git",
            );
            row.action = Action::Delete;
            row.op = Op::Files { paths: vec![p] };
            row
        })
        .collect()
}

/// This clone's copies of how its runs started (`pitboss/started/<id>.json`, which may hold a
/// raw token), one row each for a run that is gone: nothing reads them any more. A run that is
/// here keeps its copy (`--resume` reads it), whatever its state, and gets no row.
pub(super) fn started_rows(store: &RunStore<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for p in entries(&rundir::started_dir(store.repo().common_dir())) {
        let Some(id) = id_of(&p, rundir::STARTED_SUFFIX) else {
            continue;
        };
        // A run that is here (or being started: its grind holds the lock) keeps its copy
        // without a row, as the run ref itself has none.
        let state = RunState::of(store, &id)?;
        if state != RunState::Gone {
            continue;
        }
        let row = Row::keep(
            Kind::Files,
            p.display().to_string(),
            Some(id),
            &state.label(),
        );
        let mut row = row.because(
            "its run is deleted: the start values as given (they may hold a token) go with it",
        );
        row.action = Action::Delete;
        row.op = Op::Files { paths: vec![p] };
        rows.push(row);
    }
    Ok(rows)
}

/// What a run's working files are, in words: "lock file", "working directory and lock file".
fn files_named(common: &Path, paths: &[PathBuf]) -> String {
    let kinds = [
        (rundir::locks_dir(common), "lock file (no process holds it)"),
        (rundir::runs_dir(common), "working directory"),
        (rundir::old_events_dir(common), "event log"),
        (rundir::worktrees_dir(common), "leftover worktree directory"),
    ];
    let mut names: Vec<&str> = Vec::new();
    for p in paths {
        let name = kinds
            .iter()
            .find(|(dir, _)| p.starts_with(dir))
            .map_or("working files", |(_, name)| name);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    match names.as_slice() {
        [] => "working files".into(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn paths_but_locks(common: &Path, paths: &[PathBuf]) -> Vec<PathBuf> {
    let locks = rundir::locks_dir(common);
    paths
        .iter()
        .filter(|p| !p.starts_with(&locks))
        .cloned()
        .collect()
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

fn id_of(p: &Path, suffix: &str) -> Option<RunId> {
    let name = p.file_name()?.to_str()?;
    RunId::parse(name.strip_suffix(suffix).unwrap_or(name)).ok()
}

/// A path as a shell word: quoted when it holds anything but plain characters.
pub(crate) fn shell_path(p: &Path) -> String {
    let s = p.display().to_string();
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@%".contains(&b))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_only_when_needed() {
        assert_eq!(shell_path(Path::new("/tmp/a-b/0")), "/tmp/a-b/0");
        assert_eq!(
            shell_path(Path::new("/tmp/a b/it's")),
            r"'/tmp/a b/it'\''s'"
        );
    }
}
