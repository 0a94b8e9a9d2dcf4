//! The git side of the landing queue: a session's commits replayed onto the run branch's tip in
//! memory, the proof that a landing carried every change, and which paths a range touched.
//!
//! Replay is libgit2's `cherrypick_commit` into an in-memory index, one commit at a time, each
//! written as a tree and committed unattached: no checkout, no index file, no work tree, no ref
//! is touched, so the user's tree and the run branch stay as they were until the caller moves
//! the branch with a compare-and-swap. A conflict writes nothing that matters
//! (loose objects of the commits replayed before it are garbage the next `gc` takes).
//!
//! The proof ([`Repo::unproven`]) is what keeps a landing honest: every commit of the session
//! must have its change on the branch afterwards. Its first test is git's own patch id; a commit
//! whose surroundings moved (another session edited lines within its diff's context) has a
//! different patch id though its change landed, and a commit the replay dropped because its change
//! was already there has no counterpart at all. For those the proof asks the question directly:
//! does cherry-picking the commit onto the new tip change nothing?

use std::collections::HashSet;

use super::{GitError, Oid, Repo, Result};

mod drivers;

pub(crate) use drivers::DriverUse;

pub use drivers::MergeDrivers;

/// What replaying a session's commits onto a tip gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// The session's commits are on top of `onto`: `tip` is the new tip, `commits` the commits
    /// made (oldest first). When `onto == base` they are the session's own commits (a
    /// fast-forward, ids unchanged). Commits whose change is already on `onto` (they become
    /// empty) are dropped.
    Replayed {
        tip: Oid,
        commits: Vec<Oid>,
        /// Files whose overlapping edits a merge driver resolved (with
        /// [`MergeDrivers::Respect`]; otherwise they are a conflict).
        drivers: Vec<DriverUse>,
    },
    /// Commit `at` of the session does not apply: `files` conflict (sorted, each once). Nothing
    /// written that matters (loose objects are fine).
    Conflict { at: Oid, files: Vec<String> },
    /// The session made no commit (head == base), or every commit became empty.
    Nothing,
}

/// What cherry-picking one commit onto another gave.
enum Pick {
    /// The tree, and the files a merge driver resolved.
    Tree(git2::Oid, Vec<DriverUse>),
    Conflict(Vec<String>),
}

impl Repo {
    /// Replays the commits of `base..head` (oldest first; for a merge commit, its change against
    /// its first parent) onto `onto`, in memory, keeping each commit's author, committer and
    /// message as they are. Does not move any ref.
    ///
    /// A commit that was empty in the session (`git commit --allow-empty`) is kept, as git's
    /// rebase keeps it; one that becomes empty on `onto` is dropped, as git's rebase drops it.
    /// NB: a message that is not UTF-8 is kept with its invalid bytes replaced (libgit2 takes
    /// messages as text); signatures are not kept (the content they signed changed).
    ///
    /// `drivers`: what overlapping edits that a merge driver of the attributes resolves are
    /// (see `replay/drivers.rs`).
    pub fn replay_onto(
        &self,
        base: Oid,
        head: Oid,
        onto: Oid,
        drivers: MergeDrivers,
    ) -> Result<Replay> {
        if head == base {
            return Ok(Replay::Nothing);
        }
        let todo = self.commits_between(base, head)?;
        if todo.is_empty() {
            return Ok(Replay::Nothing);
        }
        // NB: only when `head` still descends from `base`. An agent that reset its branch below
        // `base` and committed there would otherwise "fast-forward" the run branch backwards,
        // dropping the commits it had.
        if onto == base && self.is_ancestor(base, head)? {
            return Ok(Replay::Replayed {
                tip: head,
                commits: todo,
                drivers: Vec::new(),
            });
        }
        let mut tip = self.find_commit(onto)?;
        let mut made = Vec::new();
        let mut used = Vec::new();
        for id in todo {
            let c = self.find_commit(id)?;
            let tree = match self.pick(&c, &tip, drivers)? {
                Pick::Tree(t, by_driver) => {
                    used.extend(by_driver);
                    t
                }
                Pick::Conflict(files) => return Ok(Replay::Conflict { at: id, files }),
            };
            let was_empty =
                c.parent_count() == 1 && c.parent(0).map(|p| p.tree_id()).ok() == Some(c.tree_id());
            if tree == tip.tree_id() && !was_empty {
                continue;
            }
            let tree = self.inner.find_tree(tree).map_err(GitError::git(format!(
                "cannot read the tree replayed from {id}"
            )))?;
            let message = match c.message_raw() {
                Ok(m) => m.to_string(),
                Err(_) => String::from_utf8_lossy(c.message_raw_bytes()).into_owned(),
            };
            let new = self
                .inner
                .commit(None, &c.author(), &c.committer(), &message, &tree, &[&tip])
                .map_err(GitError::git(format!("cannot write the replay of {id}")))?;
            made.push(Oid::from(new));
            tip = self.find_commit(Oid::from(new))?;
        }
        Ok(match made.last() {
            Some(&last) => Replay::Replayed {
                tip: last,
                commits: made,
                drivers: used,
            },
            None => Replay::Nothing,
        })
    }

    /// The commits of `base..head` whose change is not shown to be on `after` by the commits of
    /// `before..after`. Empty: the landing is proven.
    ///
    /// A commit is proven when it is itself reachable from `after`, when its diff (against its
    /// first parent) is empty, when a commit of `before..after` has the same patch id (libgit2's
    /// `git patch-id --stable`, binary content included), or else when its change is already on
    /// `after` (cherry-picking it there is clean and changes nothing): the case of a commit
    /// whose context lines moved, and of one the replay dropped because another session had
    /// made the same change.
    pub fn unproven(&self, base: Oid, head: Oid, before: Oid, after: Oid) -> Result<Vec<Oid>> {
        let landed = self.commits_between(before, after)?;
        let landed_ids: HashSet<Oid> = landed.iter().copied().collect();
        let mut ids = HashSet::new();
        for &c in &landed {
            if let Some(p) = self.patch_id(c)? {
                ids.insert(p);
            }
        }
        let after_commit = self.find_commit(after)?;
        let mut out = Vec::new();
        for c in self.commits_between(base, head)? {
            if landed_ids.contains(&c) {
                continue;
            }
            let Some(p) = self.patch_id(c)? else { continue };
            if ids.contains(&p) || self.is_ancestor(c, after)? {
                continue;
            }
            let commit = self.find_commit(c)?;
            // NB: whether its change is there, not how it would merge: drivers as they are.
            match self.pick(&commit, &after_commit, MergeDrivers::Respect)? {
                Pick::Tree(t, _) if t == after_commit.tree_id() => {}
                _ => out.push(c),
            }
        }
        Ok(out)
    }

    /// The paths changed between two commits' trees (sorted, each once; a rename is both its
    /// old and its new path).
    pub fn changed_paths(&self, from: Oid, to: Oid) -> Result<Vec<String>> {
        let what = || format!("cannot compare {from} with {to}");
        let a = self
            .find_commit(from)?
            .tree()
            .map_err(GitError::git(what()))?;
        let b = self
            .find_commit(to)?
            .tree()
            .map_err(GitError::git(what()))?;
        let diff = self
            .inner
            .diff_tree_to_tree(Some(&a), Some(&b), None)
            .map_err(GitError::git(what()))?;
        let mut paths: Vec<String> = diff
            .deltas()
            .flat_map(|d| [d.old_file().path_bytes(), d.new_file().path_bytes()])
            .flatten()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        paths.sort();
        paths.dedup();
        Ok(paths)
    }

    fn find_commit(&self, oid: Oid) -> Result<git2::Commit<'_>> {
        self.inner
            .find_commit(oid.raw())
            .map_err(GitError::git(format!("cannot read commit {oid}")))
    }

    /// `c`'s change (against its first parent) applied to `onto`'s tree, three-way.
    fn pick(
        &self,
        c: &git2::Commit<'_>,
        onto: &git2::Commit<'_>,
        drivers: MergeDrivers,
    ) -> Result<Pick> {
        let mainline = if c.parent_count() > 1 { 1 } else { 0 };
        let mut index = self
            .inner
            .cherrypick_commit(c, onto, mainline, None)
            .map_err(GitError::git(format!(
                "cannot apply {} onto {}",
                c.id(),
                onto.id()
            )))?;
        if index.has_conflicts() {
            let mut files: Vec<String> = index
                .conflicts()
                .map_err(GitError::git("cannot list the conflicts of a replay"))?
                .filter_map(|e| e.ok())
                .filter_map(|e| e.our.or(e.their).or(e.ancestor))
                .map(|e| String::from_utf8_lossy(&e.path).into_owned())
                .collect();
            files.sort();
            files.dedup();
            return Ok(Pick::Conflict(files));
        }
        let onto_tree = onto.tree().map_err(GitError::git(format!(
            "cannot read the tree of {}",
            onto.id()
        )))?;
        let by_driver = self.hidden_conflicts(c, &onto_tree)?;
        if drivers == MergeDrivers::Text && !by_driver.is_empty() {
            return Ok(Pick::Conflict(
                by_driver.into_iter().map(|u| u.path).collect(),
            ));
        }
        let tree = match self.tree_from_changes(&index, &onto_tree) {
            Ok(tree) => tree,
            Err(_) => index
                .write_tree_to(&self.inner)
                .map_err(GitError::git(format!(
                    "cannot write the tree of {}",
                    c.id()
                )))?,
        };
        #[cfg(test)]
        assert_eq!(Ok(tree), index.write_tree_to(&self.inner), "{}", c.id());
        Ok(Pick::Tree(tree, by_driver))
    }

    /// The files of a clean pick of `c` onto `onto` whose overlapping edits a merge driver
    /// resolved (none for a root commit).
    fn hidden_conflicts(
        &self,
        c: &git2::Commit<'_>,
        onto: &git2::Tree<'_>,
    ) -> Result<Vec<DriverUse>> {
        let Ok(parent) = c.parent(0) else {
            return Ok(Vec::new());
        };
        let what = || format!("cannot read the trees of {}", c.id());
        let parent = parent.tree().map_err(GitError::git(what()))?;
        let theirs = c.tree().map_err(GitError::git(what()))?;
        self.driver_resolved(&parent, &theirs, onto)
    }

    /// The tree of a clean merge `index`, written as `onto`'s tree with the paths where they
    /// differ edited, so only the trees on those paths are written.
    ///
    /// NB: `Index::write_tree_to` writes every tree of the index and, as libgit2 creates objects
    /// strictly, first looks up the object of every entry: 13 of a landing's 18 ms for 5,000
    /// files in a packed repository (`benches/landing.rs`). Anything the tree updater will not
    /// do (a file that becomes a directory, or the other way round) is an error here, and the
    /// caller writes the whole index instead. In tests both ways are taken and compared.
    fn tree_from_changes(
        &self,
        index: &git2::Index,
        onto: &git2::Tree<'_>,
    ) -> std::result::Result<git2::Oid, git2::Error> {
        let mut opts = git2::DiffOptions::new();
        opts.include_typechange(true);
        let diff = self
            .inner
            .diff_tree_to_index(Some(onto), Some(index), Some(&mut opts))?;
        if diff.deltas().len() == 0 {
            return Ok(onto.id());
        }
        let mut up = git2::build::TreeUpdateBuilder::new();
        for d in diff.deltas() {
            let (file, path) = match d.status() {
                git2::Delta::Deleted => (d.old_file(), d.old_file().path_bytes()),
                _ => (d.new_file(), d.new_file().path_bytes()),
            };
            let path = path.ok_or_else(|| git2::Error::from_str("a change without a path"))?;
            match (d.status(), file.mode()) {
                (git2::Delta::Deleted, _) => {
                    up.remove(path);
                }
                (
                    git2::Delta::Added | git2::Delta::Modified | git2::Delta::Typechange,
                    mode @ (git2::FileMode::Blob
                    | git2::FileMode::BlobExecutable
                    | git2::FileMode::Link
                    | git2::FileMode::Commit),
                ) => {
                    up.upsert(path, file.id(), mode);
                }
                _ => {
                    return Err(git2::Error::from_str(
                        "a change the tree updater cannot make",
                    ));
                }
            }
        }
        up.create_updated(&self.inner, onto)
    }

    /// The patch id of commit `c` against its first parent (the empty tree for a root commit),
    /// `None` when its diff is empty.
    fn patch_id(&self, c: Oid) -> Result<Option<git2::Oid>> {
        let what = || format!("cannot compute the patch id of {c}");
        let commit = self.find_commit(c)?;
        let new = commit.tree().map_err(GitError::git(what()))?;
        let old = match commit.parent(0) {
            Ok(p) => Some(p.tree().map_err(GitError::git(what()))?),
            Err(_) => None,
        };
        if old.as_ref().map(|t| t.id()) == Some(new.id()) {
            return Ok(None);
        }
        let mut opts = git2::DiffOptions::new();
        opts.show_binary(true);
        let diff = self
            .inner
            .diff_tree_to_tree(old.as_ref(), Some(&new), Some(&mut opts))
            .map_err(GitError::git(what()))?;
        if diff.deltas().len() == 0 {
            return Ok(None);
        }
        diff.patchid(None).map(Some).map_err(GitError::git(what()))
    }
}

#[cfg(test)]
mod tests;
