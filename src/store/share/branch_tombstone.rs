//! Run branches deleted here: when `gc` deletes a run branch it leaves
//! `refs/pitboss-tombstones/heads/<branch>` (`…/heads/pitboss/<id>`), a ref to a small blob
//! naming the tip it deleted, so `gc` and `fetch` do not undo each other. `fetch` does not
//! create the branch again from a remote's copy at that tip or behind it; a copy that moved on
//! (commits the deleted tip lacks) is new work, and then fetch creates the branch and drops the
//! tombstone. Like the tombstones of runs, it is a blob (it keeps no commit alive), it never
//! leaves this repository, and `gc --tombstones-older-than` drops old ones.

use std::str::FromStr;

use crate::git::{BranchName, Oid, RefName, Result};
use crate::store::RunStore;
use crate::store::id::BRANCH_TOMBSTONE_REF_PREFIX;

/// `refs/pitboss-tombstones/heads/<short>` of a branch `refs/heads/<short>`.
pub(crate) fn branch_tombstone_ref(branch_ref: &RefName) -> String {
    format!("{BRANCH_TOMBSTONE_REF_PREFIX}{}", branch_ref.short())
}

/// The branch (`refs/heads/…`) a branch tombstone stands for; `None` for other refs.
pub(crate) fn tombstoned_branch(name: &str) -> Option<RefName> {
    let short = name.strip_prefix(BRANCH_TOMBSTONE_REF_PREFIX)?;
    Some(BranchName::new(short).ok()?.ref_name())
}

impl RunStore<'_> {
    /// Records that `branch` was deleted here at `tip` (`why`: what the deletion said).
    pub(crate) fn tombstone_branch(&self, branch: &RefName, tip: Oid, why: &str) -> Result<()> {
        let text = format!(
            "branch {branch} deleted at {}\ntip {tip}\n{why}\n",
            crate::store::rfc3339::format(&self.clock.now()),
        );
        let blob = self.repo.write_blob(text.as_bytes())?;
        self.repo.set_ref(
            &branch_tombstone_ref(branch),
            blob,
            &format!("pitboss: {branch} deleted here"),
        )
    }

    /// The tip `branch` had when it was deleted here, while its tombstone stands.
    pub(crate) fn branch_tombstone(&self, branch: &RefName) -> Result<Option<Oid>> {
        let Some(blob) = self.repo.ref_target(&branch_tombstone_ref(branch))? else {
            return Ok(None);
        };
        let text = self.repo.read_blob(blob)?;
        Ok(String::from_utf8_lossy(&text)
            .lines()
            .find_map(|l| l.strip_prefix("tip "))
            .and_then(|t| Oid::from_str(t.trim()).ok()))
    }

    /// What the deletion of `branch` here said (gc's verdict, e.g. `merged into main`), while
    /// its tombstone stands; empty when the tombstone says nothing past its tip.
    pub(crate) fn branch_tombstone_why(&self, branch: &RefName) -> Result<Option<String>> {
        let Some(blob) = self.repo.ref_target(&branch_tombstone_ref(branch))? else {
            return Ok(None);
        };
        let text = self.repo.read_blob(blob)?;
        let text = String::from_utf8_lossy(&text);
        Ok(Some(text.lines().skip(2).collect::<Vec<_>>().join(" ")))
    }

    /// Drops `branch`'s tombstone (the branch is here again); true when there was one.
    pub(crate) fn clear_branch_tombstone(&self, branch: &RefName) -> Result<bool> {
        self.repo.delete_ref(&branch_tombstone_ref(branch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_branch_tombstone_mirrors_the_branch_name() {
        let t = branch_tombstone_ref(&RefName::new("refs/heads/pitboss/r1").unwrap());
        assert_eq!(t, "refs/pitboss-tombstones/heads/pitboss/r1");
        assert_eq!(
            tombstoned_branch(&t).unwrap().as_str(),
            "refs/heads/pitboss/r1"
        );
        assert!(tombstoned_branch("refs/pitboss-tombstones/grind/r1").is_none());
    }
}
