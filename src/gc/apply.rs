//! Doing what the table allows, one thing at a time, each step safe against a crash.
//!
//! - Every run that loses something is locked first with the grind lock
//!   ([`RunLock`]): a grind that started since the table was made keeps everything of its run
//!   (its rows turn to `keep`), and no grind can start on the run while gc works on it.
//! - Uncommitted work (`--force`) is written into the run ref before its worktree goes.
//! - The observer hears of each deletion, with its restore command, *before* it happens.
//! - Refs are deleted only if they still point where the table saw them (a ref that moved
//!   since is left alone and reported).
//! - A run's lock file goes last, while gc still holds it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::worktrees::{commits_nowhere_else, unsaved_work};
use super::{Action, GcError, GcOptions, GcReport, Kind, Op, Result, Row};
use crate::git::{BranchName, Oid, RefName, Repo};
use crate::rundir::lock::{LockError, RunLock};
use crate::store::kept::{KeepAs, keep_work};
use crate::store::{RUN_BRANCH_PREFIX, RunId, RunStore, RunUpdate, Seq};

/// What happens, as it happens.
#[derive(Debug)]
pub(crate) enum GcEvent<'a> {
    /// Uncommitted work of a worktree was saved in the run ref at `path`.
    Saved { row: &'a Row, path: &'a str },
    /// The thing is about to go (its restore command is in the row).
    Deleting(&'a Row),
    /// It was left as it is after all.
    Skipped { row: &'a Row, why: &'a str },
}

/// A lock gc holds, and whether the lock file was there before gc took it.
struct Held {
    lock: RunLock,
    existed: bool,
    files_deleted: bool,
}

/// Deletes what `report` allows. `pid`: ours, written into the locks we take.
pub(crate) fn apply(
    store: &RunStore<'_>,
    mut report: GcReport,
    opts: &GcOptions,
    pid: u32,
    obs: &mut dyn FnMut(GcEvent<'_>),
) -> Result<GcReport> {
    report.dry_run = false;
    let common = store.repo().common_dir().to_path_buf();
    let (mut held, refused) = lock_runs(&report, &common, pid)?;
    for row in report.rows.iter_mut().filter(|r| r.will_delete()) {
        if let Some(pid) = row.run.as_ref().and_then(|id| refused.get(id)) {
            let why = format!(
                "a grind (or another gc) took the run meanwhile: process {pid} holds its lock"
            );
            skip(row, &why, obs);
            continue;
        }
        match row.op.clone() {
            Op::None => {}
            Op::Ref { name, oid } => delete_ref(store, row, &name, oid, obs)?,
            Op::Worktree { name, path, branch } => {
                delete_worktree(store, row, &name, &path, branch.as_ref(), opts, obs)?;
            }
            Op::Files { paths } => {
                obs(GcEvent::Deleting(row));
                let lock = row
                    .run
                    .as_ref()
                    .map(|id| crate::rundir::lock_file(&common, id.as_str()));
                for p in paths.iter().filter(|p| Some(*p) != lock.as_ref()) {
                    remove(p)?;
                }
                if let Some(h) = row.run.as_ref().and_then(|id| held.get_mut(id)) {
                    h.files_deleted = true;
                }
                row.deleted = true;
            }
        }
    }
    // The lock files last, each unlinked while gc still holds it, so no grind can take the run
    // up between gc's work and the removal. A lock file gc itself created goes too.
    for (_, h) in held {
        if h.files_deleted || !h.existed {
            remove(&h.lock.path)?;
        }
        drop(h.lock);
    }
    Ok(report)
}

/// Takes the lock of every run whose things gc will delete: the locks held, and the runs a
/// grind (or another gc) holds, with the holder's pid.
fn lock_runs(
    report: &GcReport,
    common: &Path,
    pid: u32,
) -> Result<(BTreeMap<RunId, Held>, BTreeMap<RunId, String>)> {
    let mut held: BTreeMap<RunId, Held> = BTreeMap::new();
    let mut refused: BTreeMap<RunId, String> = BTreeMap::new();
    for row in report.rows.iter().filter(|r| r.will_delete()) {
        let Some(id) = &row.run else { continue };
        if held.contains_key(id) || refused.contains_key(id) {
            continue;
        }
        let existed = crate::rundir::lock_file(common, id.as_str()).exists();
        match RunLock::acquire(common, id.as_str(), pid) {
            Ok(lock) => {
                held.insert(
                    id.clone(),
                    Held {
                        lock,
                        existed,
                        files_deleted: false,
                    },
                );
            }
            Err(LockError::Held { pid, .. }) => {
                refused.insert(id.clone(), pid);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok((held, refused))
}

/// Deletes a ref at `oid` (a run branch leaves its tombstone first), unless it is checked out or
/// moved since gc looked.
fn delete_ref(
    store: &RunStore<'_>,
    row: &mut Row,
    name: &str,
    oid: Oid,
    obs: &mut dyn FnMut(GcEvent<'_>),
) -> Result<()> {
    let full = RefName::from_git(name);
    // A worktree gc meant to remove may have stayed (its work could not be saved): a branch
    // checked out there stays with it.
    if row.kind == Kind::Branch
        && let Some(p) = store.repo().checked_out_in(&full)?.first()
    {
        let why = format!("it is checked out in {}", p.display());
        skip(row, &why, obs);
        return Ok(());
    }
    obs(GcEvent::Deleting(row));
    // So the next fetch does not bring back what gc let go. NB: written before the branch goes,
    // so a gc killed in between leaves no branch gone without it.
    let run_branch = full
        .branch()
        .is_some_and(|b| b.as_str().starts_with(RUN_BRANCH_PREFIX));
    let tomb = row.kind == Kind::Branch && run_branch;
    let had_tomb = tomb && store.branch_tombstone(&full)?.is_some();
    if tomb {
        store.tombstone_branch(&full, oid, &row.state)?;
    }
    if store.repo().delete_ref_matching(name, oid)? {
        row.deleted = true;
    } else {
        if tomb && !had_tomb {
            store.clear_branch_tombstone(&full)?;
        }
        skip(row, "it moved since gc looked at it; left as it is", obs);
    }
    Ok(())
}

/// Removes a worktree, looked at again under the run's lock: work written since the table was
/// made must not go unsaved, and commits made since must not lose their last ref.
fn delete_worktree(
    store: &RunStore<'_>,
    row: &mut Row,
    name: &str,
    path: &Path,
    branch: Option<&BranchName>,
    opts: &GcOptions,
    obs: &mut dyn FnMut(GcEvent<'_>),
) -> Result<()> {
    if path.is_dir() {
        let n = commits_nowhere_else(&Repo::open(path)?, store.repo())?;
        if n > 0 {
            let why = format!(
                "its HEAD has {n} commit(s) on no branch or tag now (made since gc looked)"
            );
            skip(row, &why, obs);
            return Ok(());
        }
    }
    if row.action == Action::Delete
        && path.is_dir()
        && let Some(w) = unsaved_work(&Repo::open(path)?, store.repo(), branch)?
    {
        let why = format!("it holds {w} now (written since gc looked)");
        skip(row, &why, obs);
        return Ok(());
    }
    if row.action == Action::SaveAndDelete && !save_work(store, row, path, branch, opts, obs)? {
        return Ok(());
    }
    obs(GcEvent::Deleting(row));
    store.repo().remove_worktree(name)?;
    if let Some(parent) = path.parent() {
        let _ = std::fs::remove_dir(parent); // only when empty
    }
    row.deleted = true;
    Ok(())
}

fn skip(row: &mut Row, why: &str, obs: &mut dyn FnMut(GcEvent<'_>)) {
    row.action = Action::Keep;
    row.reason = why.to_string();
    row.restore = None;
    obs(GcEvent::Skipped { row, why });
}

/// Saves the worktree's work not on its branch as `patches/<bucket>/resume-<seq>.patch` in
/// the run ref (the file `grind --resume` saves such work in; `<seq>`: the session it comes
/// before). False when it could not be saved (the row is then kept).
fn save_work(
    store: &RunStore<'_>,
    row: &mut Row,
    path: &Path,
    branch: Option<&BranchName>,
    opts: &GcOptions,
    obs: &mut dyn FnMut(GcEvent<'_>),
) -> Result<bool> {
    let Some(id) = row.run.clone() else {
        return Ok(false);
    };
    let repo = store.repo();
    let branch = match branch {
        Some(b) => Some(b.clone()),
        None => store
            .run_branch_ref(&id)
            .ok()
            .flatten()
            .and_then(|b| b.branch()),
    };
    let Some(base) = branch
        .as_ref()
        .map(|b| repo.branch_tip(b))
        .transpose()?
        .flatten()
    else {
        skip(
            row,
            "its work cannot be measured: the run's branch is not here",
            obs,
        );
        return Ok(false);
    };
    let wt = Repo::open(path)?;
    if wt.patch_since(base)?.is_empty() {
        return Ok(true);
    }
    let run = store.open_run(&id)?;
    let next = run.state.last_session_seq + 1;
    let how = KeepAs {
        run: &id,
        name: format!("resume-{next:04}"),
        who: repo.identity(),
        when: opts.now,
    };
    if let Some(kept) = keep_work(&wt, base, &opts.redactor, &how)? {
        let file = Seq(next).resume_patch_path();
        let patch = kept.patch;
        // NB: `<seq>` is the next session's, the file `grind --resume` writes too: when the
        // run already holds a different one (a resume saved work and then died before its
        // first session), it is not overwritten. The same one is a gc that crashed after
        // saving: nothing to write again.
        let existing = match repo.tree_entry(store.tip_tree(&run)?, &file)? {
            Some((blob, _)) => Some(repo.read_blob(blob)?),
            None => None,
        };
        if existing.as_ref().is_some_and(|b| *b != patch) {
            let why = format!(
                "the run already holds {file} (work a resume saved); `git pitboss grind --resume                  {id}` records it first"
            );
            skip(row, &why, obs);
            return Ok(false);
        }
        if existing.is_none() {
            store.update_run(
                &id,
                RunUpdate {
                    subject: format!("run {id}: work found in its worktree saved by gc as {file}"),
                    files: vec![(file.clone(), patch)],
                    ..Default::default()
                },
            )?;
        }
        let b = branch.as_ref().map(|b| b.as_str()).unwrap_or_default();
        let p = super::worktrees::shell_path(path);
        row.restore = Some(match &kept.local {
            // The patch in the run is for reading only: the whole work is a commit there.
            Some((local, _)) => format!("git worktree add -f {p} {local}"),
            None => format!(
                "git worktree add -f {p} {b} && git show {r}:{file} | git -C {p} apply",
                r = id.ref_name(),
            ),
        });
        row.saved_patch = Some(file.clone());
        obs(GcEvent::Saved { row, path: &file });
    }
    Ok(true)
}

fn remove(p: &PathBuf) -> Result<()> {
    let res = if p.is_dir() {
        std::fs::remove_dir_all(p)
    } else {
        std::fs::remove_file(p)
    };
    match res {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(GcError::Io {
            what: format!("cannot remove {}", p.display()),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{FixedClock, SeededEntropy};
    use crate::git::testutil::temp_repo;
    use crate::git::{Identity, Oid, TreeEdit};

    fn commit(repo: &Repo, text: &str, parents: &[Oid]) -> Oid {
        let blob = repo.write_blob(text.as_bytes()).unwrap();
        let tree = repo
            .edit_tree(
                None,
                &[TreeEdit::Blob {
                    path: "f".into(),
                    oid: blob,
                }],
            )
            .unwrap();
        let when = chrono::DateTime::UNIX_EPOCH;
        repo.write_commit(tree, parents, text, &Identity::fallback(), when)
            .unwrap()
    }

    #[test]
    fn work_written_into_a_worktree_after_the_table_was_made_keeps_it() {
        let (_d, repo) = temp_repo();
        let clock = FixedClock("2026-11-24T10:00:00Z".parse().unwrap());
        let ent = SeededEntropy::new(1);
        let store = RunStore::new(&repo, &clock, &ent);
        let id = "20261124T101500Z-3fa9";
        let c1 = commit(&repo, "one", &[]);
        repo.set_ref(&format!("refs/heads/pitboss/{id}"), c1, "t")
            .unwrap();
        let run = RunId::parse(id).unwrap();
        let path = crate::rundir::slot_worktree(repo.common_dir(), &run, 0);
        let name = crate::rundir::slots::worktree_name(&run, 0);
        repo.add_worktree(&name, &path, &run.branch_name()).unwrap();
        let opts = options(clock.0);
        let table = super::super::plan(&store, &opts).unwrap();
        let wt_row = |r: &GcReport| {
            r.rows
                .iter()
                .find(|r| r.kind == Kind::Worktree)
                .unwrap()
                .clone()
        };
        assert_eq!(wt_row(&table).action, Action::Delete, "{table:#?}");
        std::fs::write(path.join("new.txt"), "written just now\n").unwrap();
        let done = apply(&store, table, &opts, 1, &mut |_| {}).unwrap();
        let r = wt_row(&done);
        assert!(!r.deleted);
        assert!(r.reason.contains("written since gc looked"), "{r:?}");
        assert!(path.join("new.txt").is_file());
    }

    /// gc's defaults (no flag), at `now`.
    fn options(now: chrono::DateTime<chrono::Utc>) -> GcOptions {
        GcOptions {
            force: false,
            stopped: false,
            pushed: false,
            tombstones_older_than: None,
            target: None,
            now,
            redactor: crate::agent::Redactor::from_env([]),
        }
    }

    #[test]
    fn a_ref_that_moved_since_the_table_was_made_is_left_alone_and_reported() {
        let (_d, repo) = temp_repo();
        let clock = FixedClock("2026-11-24T10:00:00Z".parse().unwrap());
        let ent = SeededEntropy::new(1);
        let store = RunStore::new(&repo, &clock, &ent);
        let c1 = commit(&repo, "one", &[]);
        repo.set_ref("refs/heads/main", c1, "t").unwrap();
        repo.set_ref("refs/heads/pitboss/20261124T101500Z-3fa9", c1, "t")
            .unwrap();
        let opts = options(clock.0);
        let table = super::super::plan(&store, &opts).unwrap();
        let row = |r: &GcReport| {
            r.rows
                .iter()
                .find(|r| r.thing == "refs/heads/pitboss/20261124T101500Z-3fa9")
                .unwrap()
                .clone()
        };
        assert_eq!(row(&table).action, Action::Delete, "{table:#?}");
        // Someone commits on the branch between the table and the deletion.
        let c2 = commit(&repo, "two", &[c1]);
        repo.set_ref("refs/heads/pitboss/20261124T101500Z-3fa9", c2, "t")
            .unwrap();
        let mut said = Vec::new();
        let done = apply(&store, table, &opts, 1, &mut |e| {
            said.push(format!("{e:?}"))
        })
        .unwrap();
        assert_eq!(
            repo.ref_target("refs/heads/pitboss/20261124T101500Z-3fa9")
                .unwrap(),
            Some(c2)
        );
        let r = row(&done);
        assert!(!r.deleted);
        assert_eq!(r.action, Action::Keep);
        assert!(r.reason.contains("it moved"), "{r:?}");
        assert!(said.iter().any(|s| s.starts_with("Skipped")), "{said:?}");
        // The lock gc took for the run is gone again.
        assert!(!crate::rundir::lock_file(repo.common_dir(), "20261124T101500Z-3fa9").exists());
    }
}
