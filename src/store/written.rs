//! The run ref is the writer's, not the agent's. An agent runs in a worktree of the same
//! repository and can move `refs/pitboss/grind/<id>` (`git update-ref`): rewound, the next
//! append would build on the old tip and earlier records would vanish from the run; moved onto
//! a commit of its own, that commit would join the history as if pitboss had written it.
//!
//! So a store remembers the tip it last wrote for each run, and before it builds on the ref
//! again it checks where the ref is. Still there: fine. Moved on by another pitboss writer (a
//! `git pitboss record`, a `sync`, another thread of the grind): the new tip descends from it,
//! keeps every session it had (`append_only.rs`), and every reflog entry since says `pitboss:`,
//! the prefix every pitboss ref write carries. Anything else (rewound, replaced, deleted, or
//! moved by a writer that is not pitboss): the ref goes back to the tip this store wrote, and
//! the caller is told ([`RunStore::take_restored`]), so it can say so.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::id::RunId;
use super::{Result, RunStore};
use crate::git::{CasOutcome, Oid};

/// The tips a store wrote and the refs it put back.
#[derive(Debug, Default)]
pub(super) struct Written {
    tips: Mutex<BTreeMap<String, Oid>>,
    restored: Mutex<Vec<RestoredRef>>,
}

/// A run ref found where its writer did not leave it, and put back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoredRef {
    pub refname: String,
    /// Where it was found (`None`: deleted).
    pub found: Option<Oid>,
    /// The tip this store wrote, where it is again.
    pub tip: Oid,
}

impl RestoredRef {
    /// What happened, in words.
    pub fn describe(&self) -> String {
        let found = match self.found {
            Some(f) => format!("moved to {}", &f.to_string()[..12]),
            None => "deleted".into(),
        };
        format!(
            "{} was {found} by something other than pitboss; it is back at {}, the tip grind \
             wrote (what was moved there is left as it is)",
            self.refname,
            &self.tip.to_string()[..12]
        )
    }
}

impl RunStore<'_> {
    /// Notes `tip` as the tip this store last wrote for `id`.
    pub(super) fn note_written(&self, id: &RunId, tip: Oid) {
        if let Ok(mut m) = self.written.tips.lock() {
            m.insert(id.to_string(), tip);
        }
    }

    /// The run refs put back since the last call (and forgets them).
    pub fn take_restored(&self) -> Vec<RestoredRef> {
        self.written
            .restored
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }

    /// Checks the ref of `id` now, as before a write (an agent has just ended), and puts it
    /// back when something other than pitboss moved it: `Some` says where it was found, and the
    /// restoration is not reported again by [`RunStore::take_restored`].
    pub fn hold_tip(&self, id: &RunId) -> Result<Option<RestoredRef>> {
        self.guard_tip(id)?;
        let refname = id.ref_name();
        let Ok(mut v) = self.written.restored.lock() else {
            return Ok(None);
        };
        Ok(v.iter()
            .rposition(|r| r.refname == refname)
            .map(|at| v.remove(at)))
    }

    /// Before a write: the ref of `id` is where this store left it, or where a pitboss writer
    /// moved it since; otherwise it is put back there (see the module's comment).
    pub(super) fn guard_tip(&self, id: &RunId) -> Result<()> {
        let last = match self.written.tips.lock() {
            Ok(m) => m.get(id.as_str()).copied(),
            Err(_) => None,
        };
        let Some(last) = last else {
            return Ok(());
        };
        let refname = id.ref_name();
        let found = self.repo.ref_target(&refname)?;
        if found == Some(last) {
            return Ok(());
        }
        if let Some(f) = found
            && self.moved_by_pitboss(&refname, last, f)?
        {
            self.note_written(id, f);
            return Ok(());
        }
        let msg = format!("pitboss: put run {id} back where its writer left it");
        // A lost race: the caller's loop comes back here and looks again.
        if let CasOutcome::Updated = self.repo.cas_ref(&refname, last, found, &msg)?
            && let Ok(mut v) = self.written.restored.lock()
        {
            v.push(RestoredRef {
                refname,
                found,
                tip: last,
            });
        }
        Ok(())
    }

    /// Whether the ref went from `last` to `now` only through pitboss writers, keeping the run.
    fn moved_by_pitboss(&self, refname: &str, last: Oid, now: Oid) -> Result<bool> {
        if !self.repo.is_commit(now) || !self.repo.is_ancestor(last, now)? {
            return Ok(false);
        }
        let Some(messages) = self.repo.reflog_since(refname, last)? else {
            return Ok(false);
        };
        if !messages.iter().all(|m| m.starts_with("pitboss: ")) {
            return Ok(false);
        }
        let tree =
            |c: Oid| -> Result<Option<Oid>> { Ok(self.repo.commit_info(c)?.map(|i| i.tree)) };
        let (Some(old), Some(new)) = (tree(last)?, tree(now)?) else {
            return Ok(false);
        };
        Ok(self.keeps_history(old, new)?.is_none())
    }
}
