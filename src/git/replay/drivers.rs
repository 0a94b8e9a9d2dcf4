//! Merge drivers in a landing. A repository's `.gitattributes` can name a merge driver for a
//! path (`merge=union` is common for changelogs and lists); libgit2's cherry-pick honours it, so
//! two sessions that rewrote the same lines would both "land" and the file would hold both
//! versions, one after the other, with nothing saying so. Two sessions' overlapping edits are a
//! conflict for the landing queue whatever driver the repository names: each path both sides
//! changed is merged again with git's plain text merge, and where that conflicts while the
//! driver was clean, the driver hid a conflict. `[grind] landing_merge_drivers = "respect"`
//! keeps the driver's result instead, and the landing names which driver resolved which file.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::super::{GitError, Repo, Result};

fn input(bytes: &[u8]) -> git2::MergeFileInput<'_> {
    let mut i = git2::MergeFileInput::new();
    i.content(bytes).path("file");
    i
}

/// What the landing queue does with the merge drivers a repository names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MergeDrivers {
    /// Overlapping edits are a conflict, whatever driver the attributes name (git's text merge).
    #[default]
    Text,
    /// The drivers' results are kept, and named.
    Respect,
}

/// A file whose overlapping edits a merge driver resolved (git's text merge would conflict).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverUse {
    pub path: String,
    /// The driver the attributes name (`union`, …).
    pub driver: String,
}

impl Repo {
    /// The paths of `c`'s change (against `parent`) that `onto` changed too and whose text
    /// merge conflicts, though the cherry-pick (merge drivers applied) was clean: sorted, each
    /// with the driver the attributes name for it.
    pub(super) fn driver_resolved(
        &self,
        parent: &git2::Tree<'_>,
        theirs: &git2::Tree<'_>,
        ours: &git2::Tree<'_>,
    ) -> Result<Vec<DriverUse>> {
        let what = || "cannot compare the trees of a replay".to_string();
        let diff = self
            .inner
            .diff_tree_to_tree(Some(parent), Some(theirs), None)
            .map_err(GitError::git(what()))?;
        let mut out = Vec::new();
        for d in diff.deltas() {
            let Some(path) = d.new_file().path() else {
                continue;
            };
            if !matches!(d.status(), git2::Delta::Modified | git2::Delta::Added) {
                continue;
            }
            let blob = |t: &git2::Tree<'_>| t.get_path(path).ok().map(|e| e.id());
            let (base, mine, other) = (blob(parent), blob(ours), d.new_file().id());
            // Only a path both sides changed, differently, can hide a conflict.
            let Some(mine) = mine.filter(|m| Some(*m) != base && *m != other) else {
                continue;
            };
            if !self.text_merge_conflicts(base, mine, other)? {
                continue;
            }
            out.push(DriverUse {
                path: path.to_string_lossy().into_owned(),
                driver: self.merge_driver(path),
            });
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// Whether git's plain text merge of three blobs (no attributes, no driver) conflicts.
    fn text_merge_conflicts(
        &self,
        base: Option<git2::Oid>,
        ours: git2::Oid,
        theirs: git2::Oid,
    ) -> Result<bool> {
        let read = |id: git2::Oid| -> Result<Vec<u8>> {
            Ok(self
                .inner
                .find_blob(id)
                .map_err(GitError::git(format!("cannot read blob {id}")))?
                .content()
                .to_vec())
        };
        let base = base.map(read).transpose()?.unwrap_or_default();
        let (ours, theirs) = (read(ours)?, read(theirs)?);
        let merged = git2::merge_file(&input(&base), &input(&ours), &input(&theirs), None)
            .map_err(GitError::git("cannot merge a file of a replay"))?;
        Ok(!merged.is_automergeable())
    }

    /// The merge driver the attributes name for `path` (`text` when none).
    fn merge_driver(&self, path: &Path) -> String {
        let attr = self
            .inner
            .get_attr(path, "merge", git2::AttrCheckFlags::FILE_THEN_INDEX)
            .ok()
            .flatten();
        match git2::AttrValue::from_string(attr) {
            git2::AttrValue::String(name) => name.into(),
            git2::AttrValue::False => "binary".into(),
            _ => "text".into(),
        }
    }
}
